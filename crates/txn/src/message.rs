//! Glue to `causeway_sip::Message`: the fields matching reads and the ACK the INVITE client
//! transaction builds. Everything the table knows about message syntax is here.

use bytes::{BufMut, Bytes, BytesMut};
use causeway_sip::{HeaderName, Message, Method};

use crate::error::{Missing, TxnError};
use crate::key::{has_magic_cookie, KeyBuf, Rfc2543, SentBy};

/// The bytes to put on the wire for `message`.
pub(crate) fn wire(message: &Message) -> Bytes {
    message.as_bytes().clone()
}

/// The client key of a request we send: its top Via branch and its method (§17.1.3).
pub(crate) fn request_client_key<'b>(buf: &'b mut KeyBuf, request: &Message, method: &Method) -> Result<&'b str, TxnError> {
    let via = top_via(request)?;
    let branch = via.branch.ok_or(TxnError::Unmatchable(Missing::Branch))?;
    Ok(buf.client(branch, method.as_str()))
}

/// The client key a response matches: its top Via branch and CSeq method (§17.1.3).
pub(crate) fn response_key<'b>(buf: &'b mut KeyBuf, response: &Message) -> Result<&'b str, TxnError> {
    let via = top_via(response)?;
    let branch = via.branch.ok_or(TxnError::Unmatchable(Missing::Branch))?;
    let (_, method) = cseq(response)?;
    Ok(buf.client(branch, method))
}

/// The server key of a request, taking its method as `method` (§17.2.3; §9.2 looks a
/// CANCEL up as INVITE). Branches without the magic cookie use the RFC 2543 fallback.
pub(crate) fn server_key<'b>(buf: &'b mut KeyBuf, request: &Message, method: &Method) -> Result<&'b str, TxnError> {
    let via = top_via(request)?;
    if let Some(branch) = via.branch.filter(|b| has_magic_cookie(b)) {
        return Ok(buf.server(branch, via.sent_by, method.as_str()));
    }
    let (cseq, _) = cseq(request)?;
    let fields = Rfc2543 {
        request_uri: request.request_uri_str().ok_or(TxnError::WrongKind { expected: "request" })?,
        from_tag: from_tag(request)?,
        call_id: header_str(request, HeaderName::CallId).ok_or(TxnError::Unmatchable(Missing::CallId))?,
        cseq,
        top_via: via.raw,
    };
    Ok(buf.rfc2543(fields, method.as_str()))
}

/// The ACK for a non-2xx final response (RFC 3261 §17.1.1.3): Request-URI, Call-ID, From,
/// CSeq number and the single top Via of the INVITE, its Route headers, the To of the
/// response (with the tag the UAS added), CSeq method ACK.
pub(crate) fn ack_for_non2xx(invite: &Message, response: &Message) -> Bytes {
    let uri = invite.request_uri_str().unwrap_or_default();
    let number = cseq(invite).map(|(n, _)| n).unwrap_or_default();
    let mut out = BytesMut::with_capacity(invite.as_bytes().len().min(1024));
    put_line(&mut out, &[b"ACK ", uri.as_bytes(), b" SIP/2.0"]);
    if let Ok(via) = top_via(invite) {
        put_line(&mut out, &[b"Via: ", via.raw.as_bytes()]);
    }
    for route in invite.headers_named(HeaderName::Route) {
        put_line(&mut out, &[b"Route: ", route.value]);
    }
    put_line(&mut out, &[b"Max-Forwards: 70"]);
    for (name, from) in [(HeaderName::From, invite), (HeaderName::To, response), (HeaderName::CallId, invite)] {
        let field = from.header(name).or_else(|| invite.header(name));
        if let Some(field) = field {
            put_line(&mut out, &[name.as_str().as_bytes(), b": ", field.value]);
        }
    }
    out.put_slice(b"CSeq: ");
    out.put_slice(number.to_string().as_bytes());
    out.put_slice(b" ACK\r\n");
    put_line(&mut out, &[b"Content-Length: 0"]);
    out.put_slice(b"\r\n");
    out.freeze()
}

fn put_line(out: &mut BytesMut, parts: &[&[u8]]) {
    for part in parts {
        out.put_slice(part);
    }
    out.put_slice(b"\r\n");
}

/// The top Via value (first element of the first Via field), as matching reads it.
struct TopVia<'a> {
    raw: &'a str,
    sent_by: SentBy<'a>,
    branch: Option<&'a str>,
}

fn top_via(message: &Message) -> Result<TopVia<'_>, TxnError> {
    let bad = TxnError::Unmatchable(Missing::TopVia);
    let value = header_str(message, HeaderName::Via).ok_or(bad.clone())?;
    let raw = value.split(',').next().unwrap_or_default().trim();
    let (head, params) = raw.split_once(';').unwrap_or((raw, ""));
    // "SIP/2.0/UDP host[:port]": the sent-by follows the protocol after white space.
    let host_port = head.split_whitespace().nth(1).ok_or(bad.clone())?;
    let (host, port) = match host_port.rsplit_once(':') {
        Some((h, p)) if !p.contains(']') => (h, Some(p.parse::<u16>().map_err(|_| bad.clone())?)),
        _ => (host_port, None),
    };
    if host.is_empty() {
        return Err(bad);
    }
    let branch = params
        .split(';')
        .filter_map(|p| p.split_once('='))
        .find(|(name, _)| name.trim().eq_ignore_ascii_case("branch"))
        .map(|(_, v)| v.trim());
    Ok(TopVia { raw, sent_by: SentBy { host, port }, branch })
}

/// CSeq number and method.
fn cseq(message: &Message) -> Result<(u32, &str), TxnError> {
    let bad = TxnError::Unmatchable(Missing::CSeq);
    let value = header_str(message, HeaderName::CSeq).ok_or(bad.clone())?;
    let mut parts = value.split_whitespace();
    let number = parts.next().and_then(|n| n.parse::<u32>().ok()).ok_or(bad.clone())?;
    let method = parts.next().ok_or(bad)?;
    Ok((number, method))
}

fn from_tag(message: &Message) -> Result<&str, TxnError> {
    let value = header_str(message, HeaderName::From).ok_or(TxnError::Unmatchable(Missing::From))?;
    let params = match value.rfind('>') {
        Some(end) => value.get(end..).unwrap_or_default(),
        None => value,
    };
    Ok(params
        .split(';')
        .filter_map(|p| p.split_once('='))
        .find(|(name, _)| name.trim().eq_ignore_ascii_case("tag"))
        .map(|(_, v)| v.trim())
        .unwrap_or_default())
}

fn header_str(message: &Message, name: HeaderName) -> Option<&str> {
    message.header(name).and_then(|f| std::str::from_utf8(f.value).ok())
}
