//! Authorization, Proxy-Authorization, WWW-Authenticate, Proxy-Authenticate
//! (RFC 3261 §20.7, §20.27, §20.28, §20.44; digest parameters of §25.1 / RFC 2617).
//! Any scheme parses (RFC 4475 §3.3.7: an unknown scheme is well formed and forwarded).

use std::borrow::Cow;

use crate::error::{HeaderFault, ParseError};
use crate::header::name::HeaderName;
use crate::header::fault;
use crate::message::Message;
use crate::scan::{Sep, is_token, quoted_end, split, sub, trim, unquote};

/// One `auth-param` of an [`AuthValue`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuthParam<'a> {
    /// The name as written (compare case-insensitively).
    pub name: &'a str,
    /// The value without quotes and quoted-pair escapes (RFC 3261 §25.1 `quoted-pair`).
    pub value: Cow<'a, str>,
}

/// Credentials or a challenge: `scheme LWS auth-param *(COMMA auth-param)`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AuthValue<'a> {
    scheme: &'a str,
    params: &'a str,
}

impl<'a> AuthValue<'a> {
    /// Parse one header field's value.
    pub fn parse(s: &'a str) -> Result<Self, HeaderFault> {
        let s = trim(s);
        let end = s.bytes().position(|c| !is_token(c)).unwrap_or(s.len());
        let scheme = sub(s, 0, end);
        if scheme.is_empty() {
            return Err(HeaderFault::InvalidToken { what: "auth scheme" });
        }
        let params = trim(sub(s, end, s.len()));
        if end < s.len() && params.len() == s.len() - end {
            return Err(HeaderFault::InvalidToken { what: "auth scheme" });
        }
        for p in split(params, Sep::Comma) {
            let p = trim(p.map_err(crate::header::params::split_fault)?);
            if p.is_empty() && params.is_empty() {
                continue;
            }
            let (name, value) = p.split_once('=').ok_or(HeaderFault::InvalidToken { what: "auth-param" })?;
            let (name, value) = (trim(name), trim(value));
            let vb = value.as_bytes();
            let value_ok = match vb.first() {
                Some(b'"') => quoted_end(vb, 0) == Some(vb.len()),
                Some(_) => vb.iter().all(|&c| is_token(c)),
                None => false,
            };
            if name.is_empty() || !name.bytes().all(is_token) || !value_ok {
                return Err(HeaderFault::InvalidToken { what: "auth-param" });
            }
        }
        Ok(Self { scheme, params })
    }

    /// The scheme, e.g. `Digest`.
    pub fn scheme(&self) -> &'a str {
        self.scheme
    }

    /// True for the Digest scheme (case-insensitive).
    pub fn is_digest(&self) -> bool {
        self.scheme.eq_ignore_ascii_case("digest")
    }

    /// A parameter by name (case-insensitive), unquoted: `realm`, `nonce`, `username`,
    /// `uri`, `response`, `algorithm`, `cnonce`, `opaque`, `qop`, `nc`, `stale`, `domain`.
    pub fn param(&self, name: &str) -> Option<Cow<'a, str>> {
        self.raw_pairs().find(|(n, _)| n.eq_ignore_ascii_case(name)).map(|(_, v)| unquote(v))
    }

    /// All parameters in order, values unquoted.
    pub fn params(&self) -> impl Iterator<Item = AuthParam<'a>> + 'a {
        self.raw_pairs().map(|(name, value)| AuthParam { name, value: unquote(value) })
    }

    /// A parameter name given more than once (case-insensitive), if any. RFC 7235 §2.1: each
    /// parameter name MUST only occur once, so a verifier refuses such credentials rather than
    /// pick one of the values.
    pub fn repeated_param(&self) -> Option<&'a str> {
        let mut names: Vec<&'a str> = self.raw_pairs().map(|(name, _)| name).collect();
        let folded = |s: &'a str| s.bytes().map(|c| c.to_ascii_lowercase());
        names.sort_unstable_by(|a, b| folded(a).cmp(folded(b)));
        names.windows(2).find_map(|pair| match pair {
            [a, b] if a.eq_ignore_ascii_case(b) => Some(*a),
            _ => None,
        })
    }

    /// `(name, value as written)` of each parameter, trimmed.
    fn raw_pairs(&self) -> impl Iterator<Item = (&'a str, &'a str)> + 'a {
        split(self.params, Sep::Comma)
            .filter_map(Result::ok)
            .filter_map(|p| p.split_once('='))
            .map(|(n, v)| (trim(n), trim(v)))
    }

    /// All parameters, raw.
    pub fn params_raw(&self) -> &'a str {
        self.params
    }
}

impl Message {
    /// Each field of an auth header (`Authorization`, `Proxy-Authorization`,
    /// `WWW-Authenticate`, `Proxy-Authenticate`): one credential or challenge per field.
    pub fn auth_values(&self, name: HeaderName) -> impl Iterator<Item = Result<AuthValue<'_>, ParseError>> + '_ {
        self.values(name).map(move |v| v.and_then(|v| AuthValue::parse(v.text).map_err(fault(name))))
    }
}

#[cfg(test)]
mod tests {
    use super::AuthValue;

    #[test]
    fn digest_and_unknown_schemes() {
        let d = AuthValue::parse(r#"Digest username="bob", realm="biloxi.com", nonce="dcd98b", uri="sip:bob@biloxi.com", response="245f23", algorithm=MD5, qop=auth, nc=00000001"#).expect("valid");
        assert!(d.is_digest());
        assert_eq!(d.param("realm").as_deref(), Some("biloxi.com"));
        assert_eq!(d.param("NC").as_deref(), Some("00000001"));
        assert_eq!(d.param("missing"), None);
        let u = AuthValue::parse("NoOneKnowsThisScheme opaque-data=here").expect("unknown scheme is fine");
        assert_eq!(u.scheme(), "NoOneKnowsThisScheme");
        assert!(AuthValue::parse(r#"Digest realm="x"#).is_err());
        assert!(AuthValue::parse("Digest realm").is_err());
        assert!(AuthValue::parse("").is_err());
    }

    #[test]
    fn params_in_order_unquoted_and_repeated_names_found() {
        let d = AuthValue::parse(r#"Digest username="bo\"b", NC=00000001 , qop=auth, nc=00000002"#).expect("valid");
        let params: Vec<(&str, String)> = d.params().map(|p| (p.name, p.value.into_owned())).collect();
        assert_eq!(
            params,
            [("username", r#"bo"b"#.to_owned()), ("NC", "00000001".into()), ("qop", "auth".into()), ("nc", "00000002".into())]
        );
        assert_eq!(d.param("nc").as_deref(), Some("00000001"), "param() answers the first");
        assert_eq!(d.repeated_param().map(str::to_ascii_lowercase).as_deref(), Some("nc"));
        let once = AuthValue::parse(r#"Digest realm="a,b", nonce="n", algorithm=MD5"#).expect("valid");
        assert_eq!(once.repeated_param(), None);
        assert_eq!(once.params().count(), 3);
        assert_eq!(AuthValue::parse("Digest").expect("no params").params().count(), 0);
    }
}
