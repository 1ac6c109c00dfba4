//! Semicolon-separated parameters, for header values (`generic-param`, RFC 3261 §25.1) and
//! URIs (`uri-parameter`, §19.1.1). Validated once when the owner is parsed; look-ups then
//! scan the short raw text without allocating.

use std::fmt;

use crate::error::{HeaderFault, UriError};
use crate::scan::{Sep, is_token, quoted_end, skip_lws, split, sub, trim, unquote};
use crate::uri::escape;

/// A validated parameter list: the text after the first `;`.
#[derive(Clone, Copy, PartialEq, Eq, Default)]
pub struct Params<'a> {
    raw: &'a str,
}

/// One parameter.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Param<'a> {
    /// The name as written (compare case-insensitively).
    pub name: &'a str,
    /// The value as written (quoted strings keep their quotes; see [`Param::unquoted`]).
    pub value: Option<&'a str>,
}

impl Param<'_> {
    /// The value without quotes and quoted-pair escapes.
    pub fn unquoted(&self) -> Option<std::borrow::Cow<'_, str>> {
        self.value.map(unquote)
    }
}

impl<'a> Params<'a> {
    /// Validate header parameters: `*( SEMI generic-param )` given the text after the first
    /// `;`. `gen-value = token / host / quoted-string`.
    pub(crate) fn header(raw: &'a str) -> Result<Self, HeaderFault> {
        Self::header_checked(raw, |_| Ok(()))
    }

    /// [`Params::header`], also handing each parameter to `check` in the same pass.
    pub(crate) fn header_checked(
        raw: &'a str,
        mut check: impl FnMut(Param<'a>) -> Result<(), HeaderFault>,
    ) -> Result<Self, HeaderFault> {
        // Nearly every parameter is `token [= token / quoted-string]`: those are taken in one
        // pass. From the first piece of any other shape on, the general loop below splits and
        // checks the rest; pieces are independent, so the result is the same either way.
        let mut pos = 0;
        while let Some((param, next)) = simple_param(raw, pos) {
            check(param)?;
            match next {
                Some(next) => pos = next,
                None => return Ok(Self { raw }),
            }
        }
        check_pieces(sub(raw, pos, raw.len()), check)?;
        Ok(Self { raw })
    }

    /// Validate URI parameters (RFC 3261 §19.1.1 `uri-parameters`), escapes allowed.
    pub(crate) fn uri(raw: &'a str) -> Result<Self, UriError> {
        for piece in raw.split(';') {
            let (name, value) = split_param(piece);
            if name.is_empty() {
                return Err(UriError::InvalidChar { ch: ';', part: "parameter" });
            }
            escape::validate(name, "parameter", escape::is_paramchar)?;
            if let Some(v) = value {
                escape::validate(v, "parameter", escape::is_paramchar)?;
            }
        }
        Ok(Self { raw })
    }

    /// No parameters.
    pub fn is_empty(&self) -> bool {
        self.raw.is_empty()
    }

    /// The raw text after the first `;`.
    pub fn as_str(&self) -> &'a str {
        self.raw
    }

    /// All parameters in order.
    pub fn iter(&self) -> impl Iterator<Item = Param<'a>> + 'a {
        let raw = self.raw;
        split(raw, Sep::Semi).filter(move |_| !raw.is_empty()).filter_map(|p| p.ok()).map(|p| {
            let (name, value) = split_param(trim(p));
            Param { name, value }
        })
    }

    /// The parameter named `name` (case-insensitive): `None` if absent, `Some(None)` if it
    /// has no value.
    pub fn get(&self, name: &str) -> Option<Option<&'a str>> {
        self.iter().find(|p| p.name.eq_ignore_ascii_case(name)).map(|p| p.value)
    }

    /// True if the parameter is present, with or without a value.
    pub fn contains(&self, name: &str) -> bool {
        self.get(name).is_some()
    }

    /// The parameter's value, if present with a value.
    pub fn value(&self, name: &str) -> Option<&'a str> {
        self.get(name).flatten()
    }
}

impl fmt::Debug for Params<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_list().entries(self.iter()).finish()
    }
}

/// Split `rest` at top-level `;` and check every piece as a `generic-param`, in order.
fn check_pieces<'a>(rest: &'a str, mut check: impl FnMut(Param<'a>) -> Result<(), HeaderFault>) -> Result<(), HeaderFault> {
    for piece in split(rest, Sep::Semi) {
        let piece = trim(piece.map_err(split_fault)?);
        let (name, value) = split_param(piece);
        if name.is_empty() {
            return Err(HeaderFault::EmptyElement { what: "parameter" });
        }
        if !name.bytes().all(is_token) {
            return Err(HeaderFault::InvalidToken { what: "parameter name" });
        }
        if let Some(v) = value {
            if v.is_empty() {
                return Err(HeaderFault::EmptyElement { what: "parameter value" });
            }
            if !is_gen_value(v) {
                return Err(HeaderFault::InvalidToken { what: "parameter value" });
            }
        }
        check(Param { name, value })?;
    }
    Ok(())
}

/// The piece at `pos` if it is `LWS token LWS [ "=" LWS ( token / quoted-string ) LWS ]`,
/// with where the next piece starts (`None`: it was the last). `None` for any other shape.
fn simple_param(raw: &str, pos: usize) -> Option<(Param<'_>, Option<usize>)> {
    let b = raw.as_bytes();
    let token_end = |mut i: usize| {
        while b.get(i).is_some_and(|&c| is_token(c)) {
            i += 1;
        }
        i
    };
    let name_start = skip_lws(b, pos);
    let name_end = token_end(name_start);
    if name_end == name_start {
        return None;
    }
    let mut i = skip_lws(b, name_end);
    let mut value = None;
    if b.get(i) == Some(&b'=') {
        let start = skip_lws(b, i + 1);
        let end = if b.get(start) == Some(&b'"') { quoted_end(b, start)? } else { token_end(start) };
        if end == start {
            return None;
        }
        value = Some(sub(raw, start, end));
        i = skip_lws(b, end);
    }
    let next = match b.get(i) {
        None => None,
        Some(b';') => Some(i + 1),
        Some(_) => return None,
    };
    Some((Param { name: sub(raw, name_start, name_end), value }, next))
}

fn split_param(piece: &str) -> (&str, Option<&str>) {
    match crate::scan::find(piece, b'=') {
        Some(eq) => (trim(sub(piece, 0, eq)), Some(trim(sub(piece, eq + 1, piece.len())))),
        None => (trim(piece), None),
    }
}

/// `gen-value = token / host / quoted-string`.
fn is_gen_value(v: &str) -> bool {
    let b = v.as_bytes();
    match b.first() {
        None => false,
        Some(b'"') => quoted_end(b, 0) == Some(b.len()),
        Some(b'[') => crate::uri::host::Host::parse(v).is_ok(),
        // RFC 5118 §4.5: `received` carries a bare IPv6address.
        Some(_) => b.iter().all(|&c| is_token(c)) || v.parse::<std::net::Ipv6Addr>().is_ok(),
    }
}

pub(crate) fn split_fault(f: crate::scan::SplitFault) -> HeaderFault {
    match f {
        crate::scan::SplitFault::UnterminatedQuote => HeaderFault::UnterminatedQuote,
        crate::scan::SplitFault::UnterminatedAngle => HeaderFault::UnterminatedAngle,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn header_params_validate_and_look_up() {
        let p = Params::header("tag = 98asjd8 ; q=0.33;lr; +sip.instance=\"<urn:uuid:1>\"").expect("valid");
        assert_eq!(p.value("TAG"), Some("98asjd8"));
        assert_eq!(p.get("lr"), Some(None));
        assert_eq!(p.get("x"), None);
        let inst = p.iter().find(|x| x.name == "+sip.instance").and_then(|x| x.unquoted().map(|v| v.into_owned()));
        assert_eq!(inst.as_deref(), Some("<urn:uuid:1>"));
        assert_eq!(Params::header(";;").err(), Some(HeaderFault::EmptyElement { what: "parameter" }));
        assert_eq!(Params::header("a=\"x").err(), Some(HeaderFault::UnterminatedQuote));
        assert!(Params::header("maddr=[2001:db8::1]").is_ok());
        assert!(Params::header("a=b c").is_err());
        assert!(Params::header("").is_err());
        assert_eq!(Params::default().iter().count(), 0);
    }

    /// The one-pass path must accept, reject and hand out exactly what splitting does.
    #[test]
    fn one_pass_params_match_the_general_split() {
        let parts = ["", "a", " tag = x ", "lr", "q=0.5", "b=\"q;u,o\\\"te\"", "c=\"open", "d=<x;y>", "e=<x", "f=", "=g",
            "h=2001:db8::1", "i=[2001:db8::1]", "j=x y", "k\r\n =v", "l=\"x\"y", "m\u{e9}=1", ",", "n=v\t"];
        let mut cases = Vec::new();
        for x in parts {
            for y in parts {
                cases.push(format!("{x};{y}"));
                cases.push(format!("{x}{y}"));
            }
        }
        for raw in &cases {
            let (mut fast, mut slow) = (Vec::new(), Vec::new());
            let fast_result = Params::header_checked(raw, |p| {
                fast.push(p);
                Ok(())
            })
            .map(|_| ());
            let slow_result = check_pieces(raw, |p| {
                slow.push(p);
                Ok(())
            });
            assert_eq!((fast_result, fast), (slow_result, slow), "{raw:?}");
        }
    }

    #[test]
    fn uri_params_allow_escapes() {
        let p = Params::uri("%6C%72;n%61me=v%61lue%25%34%31;transport=tcp").expect("valid");
        assert_eq!(p.value("transport"), Some("tcp"));
        assert_eq!(p.iter().count(), 3);
        assert!(Params::uri("lr;;x").is_err());
        assert!(Params::uri("a=%G1").is_err());
    }
}
