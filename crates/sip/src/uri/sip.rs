//! `sip:` and `sips:` URIs (RFC 3261 §19.1).

use std::fmt;

use crate::error::UriError;
use crate::header::params::Params;
use crate::scan::{find, sub};
use crate::transport::Transport;
use crate::uri::escape::{self, unescape};
use crate::uri::host::{parse_port, split_host_port, Host};

/// A SIP or SIPS URI, borrowed from the message text.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SipUri<'a> {
    secure: bool,
    user: Option<&'a str>,
    password: Option<&'a str>,
    host_text: &'a str,
    host: Host<'a>,
    port: Option<u16>,
    params: Params<'a>,
    headers: Option<&'a str>,
}

impl<'a> SipUri<'a> {
    /// Parse the part after `sip:` / `sips:`.
    pub(crate) fn parse_rest(secure: bool, rest: &'a str) -> Result<Self, UriError> {
        // `?` may appear in the user part (RFC 3261 `user-unreserved`): headers start at the
        // first `?` after the `@` (or anywhere if there is no user part).
        let at = find(rest, b'@');
        let userinfo = at.and_then(|a| rest.get(..a));
        let host_start = at.map_or(0, |a| a + 1);
        // One pass over the host part finds where the hostport ends (at `;` parameters, `?`
        // headers or the end) and its first `:`.
        let b = rest.as_bytes();
        let mut end = host_start;
        let mut colon = None;
        while let Some(&c) = b.get(end) {
            match c {
                b';' | b'?' => break,
                b':' if colon.is_none() => colon = Some(end),
                _ => {}
            }
            end += 1;
        }
        let q = match b.get(end) {
            Some(b';') => find(sub(rest, end, rest.len()), b'?').map(|i| i + end),
            Some(_) => Some(end),
            None => None,
        };
        let headers = q.and_then(|q| rest.get(q + 1..));
        let (user, password) = match userinfo {
            Some(ui) => match find(ui, b':') {
                Some(c) => (ui.get(..c), ui.get(c + 1..)),
                None => (Some(ui), None),
            },
            None => (None, None),
        };
        if let Some(u) = user {
            if u.is_empty() {
                return Err(UriError::InvalidChar { ch: '@', part: "user" });
            }
            escape::validate(u, "user", escape::is_user)?;
        }
        if let Some(p) = password {
            escape::validate(p, "password", escape::is_password)?;
        }
        let params = match b.get(end) {
            Some(b';') => Params::uri(sub(rest, end + 1, q.unwrap_or(rest.len())))?,
            _ => Params::default(),
        };
        let hostport = sub(rest, host_start, end);
        let (host_text, port_text) = match colon {
            _ if hostport.starts_with('[') => split_host_port(hostport),
            Some(c) => (sub(rest, host_start, c), Some(sub(rest, c + 1, end))),
            None => (hostport, None),
        };
        if host_text.bytes().any(|b| b.is_ascii_whitespace()) {
            return Err(UriError::Whitespace);
        }
        let host = Host::parse(host_text)?;
        let port = port_text.map(parse_port).transpose()?;
        if let Some(h) = headers {
            for pair in h.split('&') {
                let (name, value) = pair.split_once('=').ok_or(UriError::InvalidChar { ch: '&', part: "header" })?;
                if name.is_empty() {
                    return Err(UriError::InvalidChar { ch: '=', part: "header" });
                }
                escape::validate(name, "header", escape::is_hnvchar)?;
                escape::validate(value, "header", escape::is_hnvchar)?;
            }
        }
        Ok(Self { secure, user, password, host_text, host, port, params, headers })
    }

    /// True for `sips:`.
    pub fn is_sips(&self) -> bool {
        self.secure
    }

    /// The user part as written (escapes not decoded).
    pub fn user(&self) -> Option<&'a str> {
        self.user
    }

    /// The user part with escapes decoded (`%00` stays a NUL byte).
    pub fn user_unescaped(&self) -> Option<std::borrow::Cow<'a, [u8]>> {
        self.user.map(unescape)
    }

    /// The password, as written.
    pub fn password(&self) -> Option<&'a str> {
        self.password
    }

    /// The host.
    pub fn host(&self) -> Host<'a> {
        self.host
    }

    /// The host as written.
    pub fn host_str(&self) -> &'a str {
        self.host_text
    }

    /// The explicit port.
    pub fn port(&self) -> Option<u16> {
        self.port
    }

    /// The URI parameters.
    pub fn params(&self) -> Params<'a> {
        self.params
    }

    /// The `?`-headers, raw (`x=y&z=w`).
    pub fn headers(&self) -> Option<&'a str> {
        self.headers
    }

    /// `transport=` when it names a transport Causeway runs.
    pub fn transport(&self) -> Option<Transport> {
        self.params.value("transport").and_then(Transport::from_token)
    }

    /// `lr`: the target is a loose router (RFC 3261 §16.4, §19.1.1).
    pub fn is_loose_router(&self) -> bool {
        self.params.contains("lr")
    }

    /// `maddr=` (RFC 3261 §19.1.1).
    pub fn maddr(&self) -> Option<&'a str> {
        self.params.value("maddr")
    }

    /// `user=` (e.g. `phone`).
    pub fn user_param(&self) -> Option<&'a str> {
        self.params.value("user")
    }

    /// `method=`.
    pub fn method_param(&self) -> Option<&'a str> {
        self.params.value("method")
    }

    /// `ttl=` as 0-255.
    pub fn ttl(&self) -> Option<u8> {
        self.params.value("ttl").and_then(|t| t.parse().ok())
    }

    /// URI equivalence of RFC 3261 §19.1.4.
    pub fn equivalent(&self, other: &SipUri<'_>) -> bool {
        if self.secure != other.secure
            || self.user.map(unescape) != other.user.map(unescape)
            || self.password.map(unescape) != other.password.map(unescape)
            || !self.host.matches(&other.host)
            || self.port != other.port
        {
            return false;
        }
        // user, ttl, method, maddr and transport must match when either URI has them; any
        // other parameter only when both have it.
        for p in self.params.iter().chain(other.params.iter()) {
            let mine = self.params.get(p.name);
            let theirs = other.params.get(p.name);
            let must = ["user", "ttl", "method", "maddr", "transport"].iter().any(|n| n.eq_ignore_ascii_case(p.name));
            match (mine, theirs) {
                (Some(a), Some(b)) => {
                    let a = a.map(unescape);
                    let b = b.map(unescape);
                    if !a.as_deref().map(<[u8]>::to_ascii_lowercase).eq(&b.as_deref().map(<[u8]>::to_ascii_lowercase)) {
                        return false;
                    }
                }
                _ if must => return false,
                _ => {}
            }
        }
        headers_equivalent(self.headers, other.headers)
    }
}

/// Headers compare as unordered sets of unescaped name/value pairs (§19.1.4).
fn headers_equivalent(a: Option<&str>, b: Option<&str>) -> bool {
    let set = |h: Option<&str>| {
        let mut v: Vec<(Vec<u8>, Vec<u8>)> = h
            .into_iter()
            .flat_map(|h| h.split('&'))
            .filter_map(|p| p.split_once('='))
            .map(|(n, v)| (unescape(n).to_ascii_lowercase(), unescape(v).into_owned()))
            .collect();
        v.sort();
        v
    };
    set(a) == set(b)
}

impl fmt::Display for SipUri<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(if self.secure { "sips:" } else { "sip:" })?;
        if let Some(u) = self.user {
            f.write_str(u)?;
            if let Some(p) = self.password {
                write!(f, ":{p}")?;
            }
            f.write_str("@")?;
        }
        f.write_str(self.host_text)?;
        if let Some(p) = self.port {
            write!(f, ":{p}")?;
        }
        if !self.params.is_empty() {
            write!(f, ";{}", self.params.as_str())?;
        }
        if let Some(h) = self.headers {
            write!(f, "?{h}")?;
        }
        Ok(())
    }
}
