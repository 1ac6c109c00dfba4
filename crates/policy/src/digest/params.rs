//! An Authorization / Proxy-Authorization value (RFC 3261 §25.1 `credentials`, RFC 7616 §3.4),
//! parsed by causeway-sip's [`AuthValue`] and held to what a verifier accepts: the `Digest` scheme
//! with at least one parameter (`dig-resp *(COMMA dig-resp)`), at most 4 KiB and 32 parameters,
//! no parameter twice (RFC 7235 §2.1), no control characters in a value.

use std::borrow::Cow;

use causeway_sip::header::auth::AuthValue;

use super::Malformed;

const MAX_LEN: usize = 4096;
const MAX_PARAMS: usize = 32;

/// The parameters of a digest response, unvalidated beyond syntax.
#[derive(Debug)]
pub(crate) struct Params<'a>(AuthValue<'a>);

impl<'a> Params<'a> {
    pub(crate) fn get(&self, name: &str) -> Option<Cow<'a, str>> {
        self.0.param(name)
    }

    pub(crate) fn require(&self, name: &'static str) -> Result<Cow<'a, str>, Malformed> {
        self.get(name).ok_or(Malformed::Missing(name))
    }
}

pub(crate) fn parse(value: &str) -> Result<Params<'_>, Malformed> {
    if value.len() > MAX_LEN {
        return Err(Malformed::TooLong);
    }
    let auth = AuthValue::parse(value).map_err(|_| Malformed::Syntax)?;
    if !auth.is_digest() {
        return Err(Malformed::NotDigest);
    }
    match auth.params().count() {
        0 => return Err(Malformed::Syntax),
        n if n > MAX_PARAMS => return Err(Malformed::TooLong),
        _ => {}
    }
    if auth.repeated_param().is_some() {
        return Err(Malformed::Duplicate);
    }
    if auth.params().any(|p| p.value.chars().any(char::is_control)) {
        return Err(Malformed::Syntax);
    }
    Ok(Params(auth))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_tokens_quoted_strings_and_escapes() {
        let p = parse(r#"Digest username="bo\"b", realm="r", nc=00000001 ,qop=auth, algorithm="SHA-256""#).expect("valid");
        assert_eq!(p.get("username").as_deref(), Some("bo\"b"));
        assert_eq!(p.get("nc").as_deref(), Some("00000001"));
        assert_eq!(p.get("qop").as_deref(), Some("auth"));
        assert_eq!(p.get("algorithm").as_deref(), Some("SHA-256"));
    }

    #[test]
    fn refuses_garbage() {
        for bad in [
            "Basic dXNlcjpwYXNz",
            "Digest",
            "Digest username",
            "Digest username=\"open",
            "Digest a=1 b=2",
            "Digest a=1, a=2",
            "Digest =1",
            "Digest a=1,",
        ] {
            assert!(parse(bad).is_err(), "{bad}");
        }
        assert_eq!(parse(&format!("Digest a=\"{}\"", "x".repeat(5000))).err(), Some(Malformed::TooLong));
        let many: Vec<String> = (0..40).map(|i| format!("p{i}=1")).collect();
        assert_eq!(parse(&format!("Digest {}", many.join(","))).err(), Some(Malformed::TooLong));
    }

    #[test]
    fn refuses_control_characters_in_values() {
        assert_eq!(parse("Digest username=\"bo\u{7}b\"").err(), Some(Malformed::Syntax));
        assert_eq!(parse("Digest username=\"bo\\\rb\"").err(), Some(Malformed::Syntax));
        assert!(parse("Digest username=\"bo b\"").is_ok());
    }
}
