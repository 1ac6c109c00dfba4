//! Glue to `causeway_sip`: the fields matching reads and the ACK the INVITE client
//! transaction builds. Everything the table knows about message syntax is here.

use bytes::Bytes;
use causeway_sip::build::ack_for_non_2xx;
use causeway_sip::{Message, Method};

use crate::error::{Missing, TxnError};
use crate::key::{KeyBuf, Rfc2543, SentBy};

/// The bytes to put on the wire for `message`.
pub(crate) fn wire(message: &Message) -> Bytes {
    message.as_bytes().clone()
}

/// The top Via branch of a request we send: with its method, the client key (§17.1.3).
pub(crate) fn request_branch(request: &Message) -> Result<&str, TxnError> {
    let via = request.top_via().map_err(|_| TxnError::Unmatchable(Missing::TopVia))?;
    via.branch().ok_or(TxnError::Unmatchable(Missing::Branch))
}

/// The client key a response matches: its top Via branch and CSeq method (§17.1.3).
pub(crate) fn response_key<'b>(buf: &'b mut KeyBuf, response: &Message) -> Result<&'b [u8], TxnError> {
    let via = response.top_via().map_err(|_| TxnError::Unmatchable(Missing::TopVia))?;
    let branch = via.branch().ok_or(TxnError::Unmatchable(Missing::Branch))?;
    let cseq = response.cseq().map_err(|_| TxnError::Unmatchable(Missing::CSeq))?;
    Ok(buf.client(branch, cseq.method.as_str()))
}

/// The server key of a request, taking its method as `method` (§17.2.3; §9.2 looks a
/// CANCEL up as INVITE). Branches without the magic cookie use the RFC 2543 fallback.
pub(crate) fn server_key<'b>(buf: &'b mut KeyBuf, request: &Message, method: &Method) -> Result<&'b [u8], TxnError> {
    let via = request.top_via().map_err(|_| TxnError::Unmatchable(Missing::TopVia))?;
    if via.has_rfc3261_branch() {
        if let Some(branch) = via.branch() {
            let sent_by = SentBy { host: via.host_str(), port: via.port() };
            return Ok(buf.server(branch, sent_by, method.as_str()));
        }
    }
    let top_via = request.top_via_value().map_err(|_| TxnError::Unmatchable(Missing::TopVia))?;
    let cseq = request.cseq().map_err(|_| TxnError::Unmatchable(Missing::CSeq))?;
    let fields = Rfc2543 {
        request_uri: request.request_uri_str().ok_or(TxnError::WrongKind { expected: "request" })?,
        from_tag: request.from_tag().map_err(|_| TxnError::Unmatchable(Missing::From))?.unwrap_or_default(),
        call_id: request.call_id().map_err(|_| TxnError::Unmatchable(Missing::CallId))?,
        cseq: cseq.seq,
        top_via: top_via.text,
    };
    Ok(buf.rfc2543(fields, method.as_str()))
}

/// The ACK for a non-2xx final `response` to the INVITE sent as `invite` (RFC 3261
/// §17.1.1.3). The INVITE is parsed again only here, so the common 2xx path keeps no
/// parsed copy. `None` if the response lacks what the ACK copies (its To).
pub(crate) fn ack_for_non2xx(invite: &Bytes, response: &Message) -> Option<Bytes> {
    let invite = Message::parse(invite.clone()).ok()?;
    ack_for_non_2xx(&invite, response).ok().map(|built| built.into_bytes())
}
