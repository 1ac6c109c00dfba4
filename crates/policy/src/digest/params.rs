//! Parsing an Authorization / Proxy-Authorization value (RFC 3261 §25.1 `credentials`,
//! RFC 7616 §3.4): `Digest` followed by comma-separated `name=value` pairs, values as tokens or
//! quoted strings. Bounded: at most 4 KiB and 32 parameters, no duplicates.

use super::Malformed;

const MAX_LEN: usize = 4096;
const MAX_PARAMS: usize = 32;

/// The parameters of a digest response, unvalidated beyond syntax.
#[derive(Debug, Default)]
pub(crate) struct Params {
    pairs: Vec<(String, String)>,
}

impl Params {
    pub(crate) fn get(&self, name: &str) -> Option<&str> {
        self.pairs.iter().find(|(n, _)| n == name).map(|(_, v)| v.as_str())
    }

    pub(crate) fn require(&self, name: &'static str) -> Result<&str, Malformed> {
        self.get(name).ok_or(Malformed::Missing(name))
    }
}

pub(crate) fn parse(value: &str) -> Result<Params, Malformed> {
    if value.len() > MAX_LEN {
        return Err(Malformed::TooLong);
    }
    let value = value.trim();
    let (scheme, rest) = value.split_once([' ', '\t']).ok_or(Malformed::NotDigest)?;
    if !scheme.eq_ignore_ascii_case("Digest") {
        return Err(Malformed::NotDigest);
    }
    let mut params = Params::default();
    let mut chars = rest.chars().peekable();
    loop {
        skip_space(&mut chars);
        let mut name = String::new();
        while let Some(&c) = chars.peek() {
            if c == '=' || c == ',' || c.is_whitespace() {
                break;
            }
            if !is_token_char(c) {
                return Err(Malformed::Syntax);
            }
            name.push(c.to_ascii_lowercase());
            chars.next();
        }
        if name.is_empty() {
            return Err(Malformed::Syntax);
        }
        skip_space(&mut chars);
        if chars.next() != Some('=') {
            return Err(Malformed::Syntax);
        }
        skip_space(&mut chars);
        let value = if chars.peek() == Some(&'"') {
            chars.next();
            quoted(&mut chars)?
        } else {
            let mut token = String::new();
            while let Some(&c) = chars.peek().filter(|c| is_token_char(**c)) {
                token.push(c);
                chars.next();
            }
            token
        };
        if params.get(&name).is_some() {
            return Err(Malformed::Duplicate);
        }
        if params.pairs.len() == MAX_PARAMS {
            return Err(Malformed::TooLong);
        }
        params.pairs.push((name, value));
        skip_space(&mut chars);
        match chars.next() {
            None => return Ok(params),
            Some(',') => {}
            Some(_) => return Err(Malformed::Syntax),
        }
    }
}

fn skip_space(chars: &mut std::iter::Peekable<std::str::Chars<'_>>) {
    while chars.peek().is_some_and(|c| c.is_whitespace()) {
        chars.next();
    }
}

/// RFC 3261 §25.1 quoted-string body after the opening quote, with `\` escapes.
fn quoted(chars: &mut std::iter::Peekable<std::str::Chars<'_>>) -> Result<String, Malformed> {
    let mut out = String::new();
    loop {
        match chars.next() {
            None => return Err(Malformed::Syntax),
            Some('"') => return Ok(out),
            Some('\\') => out.push(chars.next().ok_or(Malformed::Syntax)?),
            Some(c) if c.is_control() => return Err(Malformed::Syntax),
            Some(c) => out.push(c),
        }
    }
}

/// RFC 3261 §25.1 `token` characters.
fn is_token_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || "-.!%*_+`'~".contains(c)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_tokens_quoted_strings_and_escapes() {
        let p = parse(r#"Digest username="bo\"b", realm="r", nc=00000001 ,qop=auth, algorithm="SHA-256""#);
        let p = p.unwrap_or_default();
        assert_eq!(p.get("username"), Some("bo\"b"));
        assert_eq!(p.get("nc"), Some("00000001"));
        assert_eq!(p.get("qop"), Some("auth"));
        assert_eq!(p.get("algorithm"), Some("SHA-256"));
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
}
