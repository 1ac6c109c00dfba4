//! Writing a forwarded request (RFC 3261 §16.6 steps 1-8) and a relayed response (§16.7
//! step 3) as the received bytes plus an edit list: nothing is re-serialized, only the
//! fields the RFC changes are touched.

use std::fmt::Write as _;
use std::net::IpAddr;

use bytes::Bytes;
use causeway_sip::header::ValueRef;
use causeway_sip::{EditError, Edits, HeaderName, Message};
use smallvec::SmallVec;

use crate::identity::push_u16;
use crate::plan::{ForwardPlan, ViaStamp};
use crate::locate::Target;

/// What one branch of a forwarded request needs besides the request and its plan.
pub(crate) struct BranchEdits<'a> {
    /// Our Via value with this branch's branch parameter (§16.6 step 8).
    pub(crate) via: &'a str,
    /// The Record-Route value(s) to insert, `None` if not record-routing (§16.6 step 4).
    pub(crate) record_route: Option<&'a str>,
    /// The next hop is a stream transport: Content-Length must be present (§18.3).
    pub(crate) stream: bool,
}

/// Append an IP address as text (IPv6 in brackets for `received` is not used: RFC 3261 §25.1
/// `received = IPv4address / IPv6address`).
fn push_ip(out: &mut String, ip: IpAddr) {
    match ip {
        IpAddr::V4(v4) => {
            for (i, octet) in v4.octets().iter().enumerate() {
                if i > 0 {
                    out.push('.');
                }
                push_u16(out, u16::from(*octet));
            }
        }
        IpAddr::V6(v6) => {
            let _ = write!(out, "{v6}");
        }
    }
}

/// §18.2.1 and RFC 3581 §4: write the plan's `received` and `rport` into the top Via.
fn stamp_top_via(msg: &Message, stamp: ViaStamp, edits: &mut Edits, scratch: &mut String) -> Result<(), EditError> {
    if stamp == ViaStamp::default() {
        return Ok(());
    }
    let Ok(value) = msg.top_via_value() else { return Ok(()) };
    if let Some(ip) = stamp.received {
        scratch.clear();
        push_ip(scratch, ip);
        edits.set_param(msg, &value, "received", Some(scratch))?;
    }
    if let Some(port) = stamp.rport {
        scratch.clear();
        push_u16(scratch, port);
        edits.set_param(msg, &value, "rport", Some(scratch))?;
    }
    Ok(())
}

/// Remove the Route values §16.4 and §16.6 consumed: the `own` leading ones (ours, and a
/// strict next hop's) and, after a strict previous hop, the last one (now the Request-URI). Values of one field go in one edit so edits
/// never overlap at a comma.
fn remove_routes(msg: &Message, own: usize, strict: bool, edits: &mut Edits) -> Result<(), EditError> {
    let values: SmallVec<[ValueRef<'_>; 4]> = msg.values(HeaderName::Route).filter_map(Result::ok).collect();
    let n = values.len();
    let removed = |i: usize| i < own || (strict && i + 1 == n);
    let mut i = 0;
    while let Some(first) = values.get(i) {
        let field = first.field;
        let end = values.iter().skip(i).position(|v| v.field != field).map_or(n, |p| p + i);
        let leading = (i..end).take_while(|&k| removed(k)).count();
        if leading > 0 {
            if let Some(last) = values.get(i + leading - 1) {
                edits.remove_leading_values(msg, last)?;
            }
        }
        if leading < end - i && removed(end - 1) {
            if let Some(last) = values.get(end - 1) {
                edits.remove_value(msg, last)?;
            }
        }
        i = end;
    }
    Ok(())
}

/// The forwarded copy of `msg` for one target (§16.6): Request-URI, Route, Max-Forwards,
/// Record-Route, our Via on top, `received`/`rport` on the previous one.
pub(crate) fn forward_request(
    msg: &Message,
    plan: &ForwardPlan,
    target: &Target,
    branch: &BranchEdits<'_>,
    scratch: &mut String,
) -> Result<Bytes, EditError> {
    let mut edits = Edits::new();
    // Step 2 (and §16.4 strict-router handling).
    let uri = target.request_uri.as_deref().or(plan.strict_uri.as_deref());
    match &plan.strict_next {
        // Step 6: a strict next hop gets its own URI as Request-URI, and the Request-URI
        // becomes the last Route value.
        Some(next) => {
            edits.replace_request_uri(msg, next)?;
            scratch.clear();
            scratch.push('<');
            scratch.push_str(uri.or(msg.request_uri_str()).unwrap_or_default());
            scratch.push('>');
            edits.append_header(msg, "Route", scratch)?;
        }
        None => {
            if let Some(uri) = uri {
                edits.replace_request_uri(msg, uri)?;
            }
        }
    }
    let leading = plan.own_routes + usize::from(plan.strict_next.is_some());
    remove_routes(msg, leading, plan.strict_uri.is_some(), &mut edits)?;
    // Step 3 (a target's own value, a zone's hop count, is never above the decremented one).
    match (plan.max_forwards, msg.values(HeaderName::MaxForwards).next()) {
        (Some(n), Some(Ok(value))) => {
            scratch.clear();
            push_u16(scratch, u16::from(target.options.max_forwards.unwrap_or(n.saturating_sub(1))));
            edits.replace_value(msg, &value, scratch)?;
        }
        _ => {
            scratch.clear();
            push_u16(scratch, u16::from(target.options.max_forwards.unwrap_or(70)));
            edits.insert_header_top(msg, "Max-Forwards", scratch)?;
        }
    }
    for &field in &target.options.remove_fields {
        edits.remove_field(msg, field)?;
    }
    // Step 8, then step 4 (each above the first field of its name).
    edits.insert_header_top(msg, "Via", branch.via)?;
    if let Some(rr) = branch.record_route {
        edits.insert_header_top(msg, "Record-Route", rr)?;
    }
    stamp_top_via(msg, plan.stamp, &mut edits, scratch)?;
    if branch.stream {
        edits.ensure_content_length(msg)?;
    }
    write(msg, &edits)
}

/// A response to relay upstream (§16.7 step 3): our Via removed, Content-Length ensured for a
/// stream hop, and `extra` header fields appended (collected challenges, §16.7 step 7).
pub(crate) fn relay_response(msg: &Message, stream: bool, extra: &[(HeaderName, Bytes)]) -> Result<Bytes, EditError> {
    let mut edits = Edits::new();
    if let Ok(top) = msg.top_via_value() {
        edits.remove_value(msg, &top)?;
    }
    if stream {
        edits.ensure_content_length(msg)?;
    }
    for (name, value) in extra {
        edits.append_header(msg, name.as_str(), std::str::from_utf8(value).unwrap_or_default())?;
    }
    write(msg, &edits)
}

fn write(msg: &Message, edits: &Edits) -> Result<Bytes, EditError> {
    let mut out = Vec::with_capacity(msg.as_bytes().len() + 256);
    msg.write_with(edits, &mut out)?;
    Ok(Bytes::from(out))
}

#[cfg(test)]
mod tests {
    use super::*;
    use causeway_sip::Transport;
    use std::net::SocketAddr;

    fn msg(s: &'static str) -> Message {
        Message::parse(Bytes::from_static(s.as_bytes())).unwrap_or_else(|e| panic!("{e}"))
    }

    fn routes_left(raw: &'static str, own: usize, strict: bool) -> Vec<String> {
        let m = msg(raw);
        let mut e = Edits::new();
        remove_routes(&m, own, strict, &mut e).unwrap_or_else(|e| panic!("{e}"));
        let mut out = Vec::new();
        m.write_with(&e, &mut out).unwrap_or_else(|e| panic!("{e}"));
        let m = Message::parse(Bytes::from(out)).unwrap_or_else(|e| panic!("{e}"));
        m.values(HeaderName::Route).filter_map(Result::ok).map(|v| v.text.to_owned()).collect()
    }

    const ROUTES: &str = "BYE sip:b@192.0.2.2 SIP/2.0\r\nRoute: <sip:p1;lr>, <sip:p2;lr>\r\nRoute: <sip:x;lr>, <sip:y;lr>, <sip:z;lr>\r\nCSeq: 1 BYE\r\n\r\n";

    #[test]
    fn rfc3261_16_4_route_removal_across_fields() {
        assert_eq!(routes_left(ROUTES, 2, false), ["<sip:x;lr>", "<sip:y;lr>", "<sip:z;lr>"]);
        assert_eq!(routes_left(ROUTES, 3, false), ["<sip:y;lr>", "<sip:z;lr>"]);
        assert_eq!(routes_left(ROUTES, 1, true), ["<sip:p2;lr>", "<sip:x;lr>", "<sip:y;lr>"]);
        assert_eq!(routes_left(ROUTES, 3, true), ["<sip:y;lr>"]);
        assert_eq!(routes_left(ROUTES, 5, false), Vec::<String>::new());
    }

    #[test]
    fn rfc3581_rport_and_received_are_filled() {
        let m = msg("OPTIONS sip:b@h SIP/2.0\r\nVia: SIP/2.0/UDP 10.0.0.1:5060;branch=z9hG4bK1;rport\r\nCSeq: 1 OPTIONS\r\n\r\n");
        let mut e = Edits::new();
        let mut s = String::new();
        let stamp = m.top_via().map(|v| ViaStamp::new(&v, SocketAddr::from(([192, 0, 2, 7], 40000)))).unwrap_or_default();
        stamp_top_via(&m, stamp, &mut e, &mut s).unwrap_or_else(|e| panic!("{e}"));
        let out = write(&m, &e).unwrap_or_else(|e| panic!("{e}"));
        let m = Message::parse(out).unwrap_or_else(|e| panic!("{e}"));
        let via = m.top_via().unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(via.received(), Some(IpAddr::from([192, 0, 2, 7])));
        assert_eq!(via.rport(), Some(Some(40000)));
        assert!(matches!(via.transport(), causeway_sip::header::via::ViaTransport::Known(Transport::Udp)));
    }

    #[test]
    fn rfc3261_18_2_1_no_received_when_sent_by_matches() {
        let m = msg("OPTIONS sip:b@h SIP/2.0\r\nVia: SIP/2.0/UDP 192.0.2.7:5060;branch=z9hG4bK1\r\nCSeq: 1 OPTIONS\r\n\r\n");
        let stamp = m.top_via().map(|v| ViaStamp::new(&v, SocketAddr::from(([192, 0, 2, 7], 5060)))).unwrap_or_default();
        assert_eq!(stamp, ViaStamp::default());
    }
}
