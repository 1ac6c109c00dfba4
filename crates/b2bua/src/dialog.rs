//! One side of a call as a SIP dialog (RFC 3261 §12): the caller's (we are its UAS) or a leg's
//! (we are its UAC). Each has its own Call-ID, tags, CSeq space, route set, remote target and
//! our Contact, and knows where its requests go. Requests inside it are written here
//! (§12.2.1.1); which side they relay to is the call's business.

use std::borrow::Cow;
use std::net::SocketAddr;

use bytes::Bytes;
use causeway_proxy::{direct_next_hop, FlowId};
use causeway_sip::build::RequestBuilder;
use causeway_sip::{HeaderName, Message, Method, Transport, Uri};

/// Where a dialog's requests go: transport, address, connection to reuse, listener to use.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Hop {
    pub(crate) transport: Transport,
    pub(crate) destination: SocketAddr,
    pub(crate) flow: Option<FlowId>,
    pub(crate) local: SocketAddr,
}

impl Hop {
    /// The hop a URI names (its `maddr`/host and port, RFC 3263 §4 for numeric hosts). A hop
    /// over a connection keeps it (RFC 5626 §5.3: requests to a registered phone go back over
    /// its flow; a caller on TCP/TLS is answered on its connection); a URI that needs DNS, or
    /// that names the address we already send to, keeps `self` too.
    pub(crate) fn toward(self, uri: &str) -> Self {
        if self.flow.is_some() {
            return self;
        }
        let named = Uri::parse(uri).ok().and_then(|u| u.as_sip().and_then(|s| direct_next_hop(s, self.transport)));
        match named {
            Some(next) if next.address != self.destination || next.transport != self.transport => {
                Self { transport: next.transport, destination: next.address, flow: None, local: self.local }
            }
            _ => self,
        }
    }
}

/// A dialog, early or confirmed.
#[derive(Debug, Clone)]
pub(crate) struct Dialog {
    pub(crate) call_id: String,
    /// Our From (UAC) or To (UAS) value, with our tag.
    pub(crate) local: String,
    /// The peer's value, with its tag once known.
    pub(crate) remote: String,
    pub(crate) remote_tag: Option<String>,
    /// Our last CSeq number (RFC 3261 §12.2.1.1).
    pub(crate) local_cseq: u32,
    /// The peer's last CSeq number (§12.2.2).
    pub(crate) remote_cseq: Option<u32>,
    /// The peer's Contact URI (§12.1).
    pub(crate) remote_target: String,
    /// Route values for our requests, in order (§12.1.1, §12.1.2).
    pub(crate) route_set: Vec<String>,
    /// Our Contact value, `<uri>`.
    pub(crate) contact: String,
    /// Max-Forwards of our requests (§8.1.1.6; a leg keeps the caller's count minus one).
    pub(crate) max_forwards: u8,
    pub(crate) hop: Hop,
}

/// The URI in a Contact value (`<uri>;params` or a bare URI).
pub(crate) fn contact_uri(msg: &Message) -> Option<String> {
    msg.contacts().next().and_then(Result::ok).map(|c| c.uri_str().to_owned())
}

/// Record-Route values of a message, in order.
pub(crate) fn record_route(msg: &Message) -> Vec<String> {
    msg.values(HeaderName::RecordRoute).filter_map(Result::ok).map(|v| v.text.to_owned()).collect()
}

/// The URI of a route value (`<sip:p;lr>`).
fn route_uri(route: &str) -> &str {
    let r = route.trim();
    r.strip_prefix('<').and_then(|r| r.split('>').next()).unwrap_or(r)
}

impl Dialog {
    /// Our side of a dialog the caller's INVITE creates (RFC 3261 §12.1.1): its Record-Route in
    /// order, its Contact as target, our tag on its To.
    pub(crate) fn uas(invite: &Message, tag: &str, contact: String, arrival: Hop) -> Option<Self> {
        let to = invite.header(HeaderName::To).map(|h| String::from_utf8_lossy(h.value).into_owned())?;
        let from = invite.header(HeaderName::From).map(|h| String::from_utf8_lossy(h.value).into_owned())?;
        let remote_target = contact_uri(invite)?;
        let route_set = record_route(invite);
        let hop = arrival.toward(route_set.first().map_or(remote_target.as_str(), |r| route_uri(r)));
        Some(Self {
            call_id: invite.call_id().ok()?.to_owned(),
            local: format!("{to};tag={tag}"),
            remote: from,
            remote_tag: invite.from_tag().ok().flatten().map(str::to_owned),
            local_cseq: 0,
            remote_cseq: invite.cseq().ok().map(|c| c.seq),
            remote_target,
            route_set,
            contact,
            max_forwards: 70,
            hop,
        })
    }

    /// A leg's dialog before its INVITE goes out.
    pub(crate) fn uac(call_id: String, from: String, to: String, target: String, contact: String, max_forwards: u8, hop: Hop) -> Self {
        Self {
            call_id,
            local: from,
            remote: to,
            remote_tag: None,
            local_cseq: 1,
            remote_cseq: None,
            remote_target: target,
            route_set: Vec::new(),
            contact,
            max_forwards,
            hop,
        }
    }

    /// A response to our INVITE that creates or confirms the dialog (§12.1.2): the peer's tag
    /// and To, its Contact as target, the Record-Route reversed as route set. The first tag
    /// wins; a response from another fork of the leg changes nothing. `tag` is the response's
    /// To tag (the caller has it already: the To header is parsed once).
    pub(crate) fn on_response(&mut self, response: &Message, tag: Option<&str>) {
        let Some(tag) = tag else { return };
        if self.remote_tag.as_deref().is_some_and(|t| t != tag) {
            return;
        }
        let mut changed = false;
        if self.remote_tag.is_none() {
            self.remote_tag = Some(tag.to_owned());
            if let Some(to) = response.header(HeaderName::To) {
                self.remote = String::from_utf8_lossy(to.value).into_owned();
            }
            let mut routes = record_route(response);
            routes.reverse();
            self.route_set = routes;
            changed = true;
        }
        if let Some(contact) = response.contacts().next().and_then(Result::ok) {
            if contact.uri_str() != self.remote_target {
                self.remote_target = contact.uri_str().to_owned();
                changed = true;
            }
        }
        // Hop::toward is idempotent: with the same route set and target the hop stays as it is.
        if changed {
            let next = self.route_set.first().map_or(self.remote_target.as_str(), |r| route_uri(r));
            self.hop = self.hop.toward(next);
        }
    }

    /// The dialog follows another fork of our INVITE (§12.1.2: each fork's tag makes its own
    /// dialog): the one whose early media the caller hears, or the one that answered.
    pub(crate) fn rebase(&mut self, response: &Message, tag: Option<&str>) {
        self.remote_tag = None;
        self.remote_cseq = None;
        self.on_response(response, tag);
    }

    /// Whether a request from the peer belongs here (§12.2.2: Call-ID and both tags).
    pub(crate) fn matches(&self, request: &Message) -> bool {
        let ours = self.local_tag();
        request.call_id().is_ok_and(|c| c == self.call_id)
            && request.to_tag().ok().flatten() == ours
            && request.from_tag().ok().flatten() == self.remote_tag.as_deref()
    }

    /// Our tag.
    pub(crate) fn local_tag(&self) -> Option<&str> {
        self.local.rsplit_once(";tag=").map(|(_, t)| t.split(';').next().unwrap_or(t))
    }

    /// A request in this dialog (§12.2.1.1) with the next CSeq (or `cseq` for ACK/CANCEL).
    pub(crate) fn request(&mut self, method: Method, via: &str, cseq: Option<u32>, extra: &[(&str, &str)], body: Option<(&str, &[u8])>) -> Bytes {
        let seq = match cseq {
            Some(n) => n,
            None => {
                self.local_cseq = self.local_cseq.wrapping_add(1);
                self.local_cseq
            }
        };
        // The two numbers are written on the stack: no heap String per request for them.
        let mut cseq_buf = [0u8; 32];
        let cseq_value = on_stack(&mut cseq_buf, format_args!("{seq} {}", method.as_str()));
        let mut max_forwards_buf = [0u8; 4];
        let max_forwards = on_stack(&mut max_forwards_buf, format_args!("{}", self.max_forwards));
        let mut builder = RequestBuilder::new(method.clone(), &self.remote_target).header("Via", via).header("Max-Forwards", &max_forwards);
        for route in &self.route_set {
            builder = builder.header("Route", route);
        }
        // Our side is always From, the peer To, whichever of us sent the INVITE (§12.2.1.1).
        builder = builder.header("From", &self.local).header("To", &self.remote).header("Call-ID", &self.call_id).header("CSeq", &cseq_value);
        if matches!(method, Method::Invite | Method::Update | Method::Subscribe | Method::Notify | Method::Refer) {
            builder = builder.header("Contact", &self.contact);
        }
        for (name, value) in extra {
            builder = builder.header(name, value);
        }
        if let Some((content_type, body)) = body {
            builder = builder.body(content_type, body);
        }
        builder.build().into_bytes()
    }
}

/// `args` written into `buf` when they fit (no heap String for a short value), else on the heap
/// (a CSeq with a long extension method).
fn on_stack<'b>(buf: &'b mut [u8], args: std::fmt::Arguments<'_>) -> Cow<'b, str> {
    use std::io::Write;
    let room = buf.len();
    let mut rest = &mut buf[..];
    let len = rest.write_fmt(args).is_ok().then(|| room - rest.len());
    match len.and_then(|len| buf.get(..len)).and_then(|b| std::str::from_utf8(b).ok()) {
        Some(text) => Cow::Borrowed(text),
        None => Cow::Owned(args.to_string()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn msg(s: &str) -> Message {
        Message::parse(Bytes::from(s.replace("\r\n", "\n").replace('\n', "\r\n"))).unwrap_or_else(|e| panic!("{e}"))
    }

    fn hop(addr: &str) -> Hop {
        let a: SocketAddr = addr.parse().unwrap_or_else(|_| SocketAddr::from(([127, 0, 0, 1], 1)));
        Hop { transport: Transport::Udp, destination: a, flow: None, local: SocketAddr::from(([127, 0, 0, 1], 5060)) }
    }

    const INVITE: &str = "INVITE sip:1002@ent-pa.com SIP/2.0\nVia: SIP/2.0/UDP 10.0.0.9:5062;branch=z9hG4bK1\n\
        Record-Route: <sip:10.0.0.9:5062;lr>\nFrom: \"Alice\" <sip:1001@ent-pa.com>;tag=a1\n\
        To: <sip:1002@ent-pa.com>\nCall-ID: c1\nCSeq: 7 INVITE\nContact: <sip:alice@10.0.0.1:5070>\nContent-Length: 0\n\n";

    #[test]
    fn rfc3261_12_1_1_uas_dialog_from_the_invite() {
        let invite = msg(INVITE);
        let Some(mut d) = Dialog::uas(&invite, "b2", "<sip:cwb-1@127.0.0.1:5060>".into(), hop("10.0.0.9:5062")) else { panic!("no dialog") };
        assert_eq!(d.route_set, ["<sip:10.0.0.9:5062;lr>"]);
        assert_eq!(d.hop.destination, "10.0.0.9:5062".parse().unwrap_or(d.hop.destination));
        let bye = msg(&String::from_utf8_lossy(&d.request(Method::Bye, "SIP/2.0/UDP 127.0.0.1:5060;branch=z9hG4bKcb1", None, &[], None)));
        assert_eq!(bye.request_uri_str(), Some("sip:alice@10.0.0.1:5070"));
        assert_eq!(bye.to_tag().ok().flatten(), Some("a1"));
        assert_eq!(bye.from_tag().ok().flatten(), Some("b2"));
        assert_eq!(bye.cseq().map(|c| c.seq).ok(), Some(1));
        assert_eq!(header(&bye, "Route"), ["<sip:10.0.0.9:5062;lr>"]);
        let from_caller = msg("BYE sip:cwb-1@127.0.0.1:5060 SIP/2.0\nVia: SIP/2.0/UDP 10.0.0.9;branch=z9hG4bK2\n\
            From: \"Alice\" <sip:1001@ent-pa.com>;tag=a1\nTo: <sip:1002@ent-pa.com>;tag=b2\nCall-ID: c1\nCSeq: 8 BYE\nContent-Length: 0\n\n");
        assert!(d.matches(&from_caller));
    }

    #[test]
    fn rfc3261_12_1_2_uac_dialog_takes_tag_target_and_reversed_record_route() {
        let mut d = Dialog::uac(
            "leg1".into(),
            "<sip:1001@ent-pa.com>;tag=l1".into(),
            "<sip:bob@127.0.0.1:5070>".into(),
            "sip:bob@127.0.0.1:5070".into(),
            "<sip:cwb-1-0@127.0.0.1:5060>".into(),
            69,
            hop("127.0.0.1:5070"),
        );
        let ok = msg("SIP/2.0 200 OK\nVia: SIP/2.0/UDP 127.0.0.1:5060;branch=z9hG4bKcb1\nRecord-Route: <sip:p1;lr>, <sip:10.0.0.5;lr>\n\
            From: <sip:1001@ent-pa.com>;tag=l1\nTo: <sip:bob@127.0.0.1:5070>;tag=r9\nCall-ID: leg1\nCSeq: 1 INVITE\n\
            Contact: <sip:bob@10.0.0.7:5080>\nContent-Length: 0\n\n");
        d.on_response(&ok, ok.to_tag().ok().flatten());
        assert_eq!((d.remote_tag.as_deref(), d.remote_target.as_str()), (Some("r9"), "sip:bob@10.0.0.7:5080"));
        assert_eq!(d.route_set, ["<sip:10.0.0.5;lr>", "<sip:p1;lr>"]);
        assert_eq!(d.hop.destination, SocketAddr::from(([10, 0, 0, 5], 5060)));
        let ack = msg(&String::from_utf8_lossy(&d.request(Method::Ack, "SIP/2.0/UDP x;branch=z9hG4bKcb2", Some(1), &[], None)));
        assert_eq!(ack.cseq().map(|c| (c.seq, c.method)).ok(), Some((1, Method::Ack)));
        assert_eq!(d.local_cseq, 1);
    }

    fn header(m: &Message, name: &str) -> Vec<String> {
        m.headers_raw(name).map(|h| String::from_utf8_lossy(h.value).into_owned()).collect()
    }
}
