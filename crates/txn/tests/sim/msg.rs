//! Test messages, written as the RFC 3261 §24 examples are: text in, `Message` out.

use bytes::Bytes;
use causeway_sip::{HeaderName, Message};

/// Fields of a test request.
#[derive(Debug, Clone, Copy)]
pub struct Req<'a> {
    pub method: &'a str,
    pub uri: &'a str,
    /// `None` writes a Via without a branch parameter (RFC 2543 style).
    pub branch: Option<&'a str>,
    pub sent_by: &'a str,
    pub transport: &'a str,
    pub cseq: u32,
    pub cseq_method: Option<&'a str>,
    pub call_id: &'a str,
    pub from_tag: &'a str,
    pub to_tag: Option<&'a str>,
}

impl<'a> Req<'a> {
    /// Alice's request to Bob over UDP (RFC 3261 §24.2 F1 style).
    pub fn new(method: &'a str, branch: &'a str) -> Self {
        Self {
            method,
            uri: "sip:bob@biloxi.example.com",
            branch: Some(branch),
            sent_by: "pc33.atlanta.example.com",
            transport: "UDP",
            cseq: 314159,
            cseq_method: None,
            call_id: "a84b4c76e66710@pc33.atlanta.example.com",
            from_tag: "9fxced76sl",
            to_tag: None,
        }
    }

    pub fn text(&self) -> String {
        let branch = self.branch.map(|b| format!(";branch={b}")).unwrap_or_default();
        let to_tag = self.to_tag.map(|t| format!(";tag={t}")).unwrap_or_default();
        format!(
            "{method} {uri} SIP/2.0\r\n\
             Via: SIP/2.0/{transport} {sent_by}{branch}\r\n\
             Max-Forwards: 70\r\n\
             Route: <sip:edge.example.com;lr>\r\n\
             From: Alice <sip:alice@atlanta.example.com>;tag={from_tag}\r\n\
             To: Bob <sip:bob@biloxi.example.com>{to_tag}\r\n\
             Call-ID: {call_id}\r\n\
             CSeq: {cseq} {cseq_method}\r\n\
             Contact: <sip:alice@pc33.atlanta.example.com>\r\n\
             Content-Length: 0\r\n\r\n",
            method = self.method,
            uri = self.uri,
            transport = self.transport,
            sent_by = self.sent_by,
            from_tag = self.from_tag,
            call_id = self.call_id,
            cseq = self.cseq,
            cseq_method = self.cseq_method.unwrap_or(self.method),
        )
    }

    pub fn message(&self) -> Message {
        parse(Bytes::from(self.text()))
    }
}

/// A request with defaults.
pub fn request(method: &str, branch: &str) -> Message {
    Req::new(method, branch).message()
}

/// The response a UAS would send to `request` (RFC 3261 §8.2.6.2): Vias, From, Call-ID and
/// CSeq copied, To copied with `to_tag` added when it has none.
pub fn response(request: &Message, status: u16, to_tag: Option<&str>) -> Message {
    let mut text = format!("SIP/2.0 {status} Test\r\n");
    for field in request.headers() {
        let value = String::from_utf8_lossy(field.value);
        let name = String::from_utf8_lossy(field.raw_name);
        match field.name {
            HeaderName::Via | HeaderName::From | HeaderName::CallId | HeaderName::CSeq => {
                text.push_str(&format!("{name}: {value}\r\n"));
            }
            HeaderName::To => match to_tag {
                Some(tag) if !value.contains("tag=") => text.push_str(&format!("{name}: {value};tag={tag}\r\n")),
                _ => text.push_str(&format!("{name}: {value}\r\n")),
            },
            _ => {}
        }
    }
    text.push_str("Content-Length: 0\r\n\r\n");
    parse(Bytes::from(text))
}

/// Parse or fail the test.
pub fn parse(bytes: Bytes) -> Message {
    Message::parse(bytes.clone())
        .unwrap_or_else(|e| panic!("test message does not parse ({e}):\n{}", String::from_utf8_lossy(&bytes)))
}

/// The first line of a serialized message.
pub fn start_line(bytes: &[u8]) -> String {
    let text = String::from_utf8_lossy(bytes);
    text.split("\r\n").next().unwrap_or_default().to_string()
}

/// The raw values of every `name` header of a message, in order.
pub fn values(message: &Message, name: HeaderName) -> Vec<String> {
    message.headers_named(name).map(|f| String::from_utf8_lossy(f.value).into_owned()).collect()
}

/// The raw value of the first `name` header.
pub fn value(message: &Message, name: HeaderName) -> String {
    values(message, name).into_iter().next().unwrap_or_default()
}
