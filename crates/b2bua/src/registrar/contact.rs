//! The Contact and Expires fields of a REGISTER, checked (RFC 3261 §10.2.1, §10.2.2, §10.3
//! steps 6-7, §20.10; RFC 5626 §4.1-4.2): what the client asks to bind, and for how long.

use causeway_sip::header::addr::NameAddr;
use causeway_sip::{HeaderName, Message, StatusCode, Uri};

use super::Refusal;
use crate::config::RegistrarConfig;

/// Most Contact values one REGISTER may carry (bounded work per request).
const MAX_CONTACT_VALUES: usize = 32;
/// Longest contact URI accepted.
const MAX_URI_LEN: usize = 512;

/// One contact the client asks to bind.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct ContactSpec {
    /// The URI, as written.
    pub(crate) uri: String,
    /// Seconds granted (0: remove), already clamped to the maximum.
    pub(crate) expires: u32,
    /// q-value × 1000.
    pub(crate) q: Option<u16>,
    /// RFC 5626 `+sip.instance`.
    pub(crate) instance: Option<String>,
    /// RFC 5626 `reg-id`.
    pub(crate) reg_id: Option<u32>,
}

/// What the REGISTER asks for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Contacts {
    /// No Contact: list the current bindings (§10.2.3).
    Query,
    /// `Contact: *` with `Expires: 0`: remove every binding (§10.2.2).
    RemoveAll,
    /// Add, refresh or remove these.
    Bind(Vec<ContactSpec>),
}

fn bad(detail: &str) -> Refusal {
    Refusal::new(StatusCode::BAD_REQUEST, detail)
}

/// Reads and checks the Contact and Expires fields.
pub(crate) fn parse(msg: &Message, config: &RegistrarConfig) -> Result<Contacts, Refusal> {
    let header_expires = msg.expires().map_err(|_| bad("bad Expires"))?;
    let values: Vec<NameAddr<'_>> = msg
        .contacts()
        .take(MAX_CONTACT_VALUES + 1)
        .collect::<Result<_, _>>()
        .map_err(|_| bad("malformed Contact"))?;
    if values.len() > MAX_CONTACT_VALUES {
        return Err(bad("too many Contact values"));
    }
    if values.is_empty() {
        return Ok(Contacts::Query);
    }
    if values.iter().any(NameAddr::is_star) {
        // §10.2.2: `*` only alone and only with Expires: 0.
        return if values.len() == 1 && header_expires == Some(0) && values.iter().all(|v| v.params().is_empty()) {
            Ok(Contacts::RemoveAll)
        } else {
            Err(bad("Contact * must be alone and with Expires: 0"))
        };
    }
    let mut specs = Vec::with_capacity(values.len());
    for value in &values {
        let spec = contact(value, header_expires, config)?;
        if specs.iter().any(|s: &ContactSpec| same_uri(&s.uri, &spec.uri)) {
            return Err(bad("the same Contact is given twice"));
        }
        specs.push(spec);
    }
    Ok(Contacts::Bind(specs))
}

fn contact(value: &NameAddr<'_>, header_expires: Option<u32>, config: &RegistrarConfig) -> Result<ContactSpec, Refusal> {
    let text = value.uri_str();
    if text.len() > MAX_URI_LEN {
        return Err(bad("Contact URI too long"));
    }
    let uri = Uri::parse(text).map_err(|_| bad("Contact URI does not parse"))?;
    let Some(sip) = uri.as_sip() else { return Err(bad("Contact is not a SIP URI")) };
    if sip.headers().is_some() {
        return Err(bad("Contact URI carries headers"));
    }
    if value.params().contains("expires") && value.expires().is_none() {
        return Err(bad("bad expires parameter"));
    }
    if value.params().contains("q") && value.q().is_none() {
        return Err(bad("bad q value"));
    }
    let reg_id = match value.params().get("reg-id") {
        None => None,
        Some(v) => Some(v.and_then(|v| v.parse::<u32>().ok()).filter(|n| *n > 0).ok_or_else(|| bad("bad reg-id"))?),
    };
    // §10.2.1.1: the parameter, else the header, else the registrar's default.
    let requested = value.expires().or(header_expires).unwrap_or(config.default_expires);
    if requested != 0 && requested < config.min_expires {
        // §10.3 step 7: too short for us; the client retries with Min-Expires.
        return Err(Refusal::new(StatusCode::INTERVAL_TOO_BRIEF, "")
            .with_header(HeaderName::MinExpires.as_str(), config.min_expires.to_string()));
    }
    Ok(ContactSpec {
        uri: text.to_owned(),
        expires: requested.min(config.max_expires),
        q: value.q(),
        instance: value.sip_instance().map(|i| i.into_owned()),
        reg_id,
    })
}

/// RFC 3261 §19.1.4 URI equivalence of two contact URIs as written.
pub(crate) fn same_uri(a: &str, b: &str) -> bool {
    match (Uri::parse(a), Uri::parse(b)) {
        (Ok(a), Ok(b)) => match (a.as_sip(), b.as_sip()) {
            (Some(a), Some(b)) => a.equivalent(b),
            _ => false,
        },
        _ => a == b,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use bytes::Bytes;

    fn register(extra: &str) -> Message {
        let text = format!(
            "REGISTER sip:ent-pa.com SIP/2.0\r\nVia: SIP/2.0/UDP 127.0.0.1:5070;branch=z9hG4bK1\r\n\
             From: <sip:bob-desk@ent-pa.com>;tag=1\r\nTo: <sip:bob-desk@ent-pa.com>\r\nCall-ID: r1\r\n\
             CSeq: 1 REGISTER\r\n{extra}Content-Length: 0\r\n\r\n"
        );
        Message::parse(Bytes::from(text)).unwrap_or_else(|e| panic!("{e}"))
    }

    fn status(extra: &str) -> Result<Contacts, (u16, String)> {
        parse(&register(extra), &RegistrarConfig::default()).map_err(|r| (r.status.as_u16(), r.detail))
    }

    #[test]
    fn rfc3261_10_2_1_1_expiry_from_param_header_or_default_and_clamped() {
        let Ok(Contacts::Bind(c)) = status("Contact: <sip:a@10.0.0.1>;expires=120, <sip:b@10.0.0.1>, <sip:c@10.0.0.1>;expires=99999\r\nExpires: 300\r\n") else {
            panic!("not bound")
        };
        assert_eq!(c.iter().map(|c| c.expires).collect::<Vec<_>>(), [120, 300, 3600]);
        let Ok(Contacts::Bind(c)) = status("Contact: <sip:a@10.0.0.1>;q=0.5\r\n") else { panic!("not bound") };
        assert_eq!((c.first().map(|c| c.expires), c.first().and_then(|c| c.q)), (Some(3600), Some(500)));
    }

    #[test]
    fn rfc3261_10_3_step_7_too_brief_is_423_with_min_expires() {
        let r = parse(&register("Contact: <sip:a@10.0.0.1>;expires=5\r\n"), &RegistrarConfig::default());
        let Err(refusal) = r else { panic!("accepted") };
        assert_eq!(refusal.status, StatusCode::INTERVAL_TOO_BRIEF);
        assert_eq!(refusal.headers, [("Min-Expires", "60".to_owned())]);
        assert!(matches!(status("Contact: <sip:a@10.0.0.1>;expires=0\r\n"), Ok(Contacts::Bind(_))));
    }

    #[test]
    fn rfc3261_10_2_2_star_only_alone_with_expires_zero() {
        assert_eq!(status("Contact: *\r\nExpires: 0\r\n"), Ok(Contacts::RemoveAll));
        assert_eq!(status("Contact: *\r\n").map_err(|e| e.0), Err(400));
        assert_eq!(status("Contact: *, <sip:a@10.0.0.1>\r\nExpires: 0\r\n").map_err(|e| e.0), Err(400));
        assert_eq!(status(""), Ok(Contacts::Query));
    }

    #[test]
    fn bad_contacts_get_400_with_the_reason() {
        for (contact, why) in [
            ("Contact: <mailto:bob@example.com>\r\n", "Contact is not a SIP URI"),
            ("Contact: <sip:@@bad>\r\n", "Contact URI does not parse"),
            ("Contact: <sip:a@10.0.0.1>;expires=soon\r\n", "bad expires parameter"),
            ("Contact: <sip:a@10.0.0.1>;q=2\r\n", "bad q value"),
            ("Contact: <sip:a@10.0.0.1>, <sip:a@10.0.0.1>\r\n", "the same Contact is given twice"),
            ("Contact: <sip:a@10.0.0.1?Subject=x>\r\n", "Contact URI carries headers"),
            ("Contact: <sip:a@10.0.0.1>;reg-id=0\r\n", "bad reg-id"),
            ("Contact: <sip:a@10.0.0.1\r\n", "malformed Contact"),
        ] {
            assert_eq!(status(contact), Err((400, why.to_owned())), "{contact}");
        }
    }

    #[test]
    fn rfc5626_instance_and_reg_id_are_read() {
        let Ok(Contacts::Bind(c)) = status("Contact: <sip:a@10.0.0.1;transport=tcp>;+sip.instance=\"<urn:uuid:1>\";reg-id=1\r\n") else {
            panic!("not bound")
        };
        assert_eq!(c.first().map(|c| (c.instance.as_deref(), c.reg_id)), Some((Some("<urn:uuid:1>"), Some(1))));
    }
}
