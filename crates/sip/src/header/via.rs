//! Via (RFC 3261 §20.42, §18.2.1; RFC 3581 rport; RFC 5923 alias).

use std::net::IpAddr;

use crate::error::{HeaderFault, ParseError};
use crate::header::name::HeaderName;
use crate::header::params::{Param, Params};
use crate::header::{fault, ValueRef};
use crate::message::Message;
use crate::scan::{is_token, skip_lws, sub};
use crate::transport::Transport;
use crate::uri::host::{parse_port, Host};

/// The RFC 3261 branch prefix (§8.1.1.7).
pub const MAGIC_COOKIE: &str = "z9hG4bK";

/// The transport named in a Via: one Causeway runs, or another token kept verbatim
/// (RFC 4475 §3.1.1.10: SCTP, UNKNOWN, ...).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ViaTransport<'a> {
    /// UDP, TCP or TLS.
    Known(Transport),
    /// Any other transport token.
    Other(&'a str),
}

impl ViaTransport<'_> {
    /// The token.
    pub fn as_str(&self) -> &str {
        match self {
            ViaTransport::Known(t) => t.via_token(),
            ViaTransport::Other(s) => s,
        }
    }
}

/// One Via value.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Via<'a> {
    protocol: &'a str,
    version: &'a str,
    transport: ViaTransport<'a>,
    host: Host<'a>,
    host_text: &'a str,
    port: Option<u16>,
    params: Params<'a>,
    branch: Option<&'a str>,
}

impl<'a> Via<'a> {
    /// Parse `sent-protocol LWS sent-by *( SEMI via-params )`, with LWS allowed around `/`
    /// and `:` (RFC 3261 §25.1 SLASH, COLON; RFC 4475 §3.1.1.1).
    pub fn parse(s: &'a str) -> Result<Self, HeaderFault> {
        let b = s.as_bytes();
        if crate::scan::trim(s).is_empty() {
            return Err(HeaderFault::EmptyElement { what: "value" });
        }
        let token_at = |i: usize| -> (usize, &'a str) {
            let mut j = i;
            while b.get(j).is_some_and(|&c| is_token(c)) {
                j += 1;
            }
            (j, sub(s, i, j))
        };
        let slash = |i: usize| -> Result<usize, HeaderFault> {
            let i = skip_lws(b, i);
            if b.get(i) != Some(&b'/') {
                return Err(HeaderFault::InvalidSentProtocol);
            }
            Ok(skip_lws(b, i + 1))
        };
        let (i, protocol) = token_at(skip_lws(b, 0));
        let i = slash(i)?;
        let (i, version) = token_at(i);
        let i = slash(i)?;
        let (i, transport_text) = token_at(i);
        if protocol.is_empty() || version.is_empty() || transport_text.is_empty() {
            return Err(HeaderFault::InvalidSentProtocol);
        }
        let host_start = skip_lws(b, i);
        if host_start == i {
            return Err(HeaderFault::InvalidToken { what: "sent-by" });
        }
        let mut j = host_start;
        if b.get(j) == Some(&b'[') {
            while b.get(j).is_some_and(|&c| c != b']') {
                j += 1;
            }
            j += 1;
        } else {
            while b.get(j).is_some_and(|&c| c.is_ascii_alphanumeric() || c == b'-' || c == b'.') {
                j += 1;
            }
        }
        let host_text = sub(s, host_start, j.min(s.len()));
        let host = Host::parse(host_text).map_err(HeaderFault::Uri)?;
        let mut k = skip_lws(b, j);
        let mut port = None;
        if b.get(k) == Some(&b':') {
            let ps = skip_lws(b, k + 1);
            let mut pe = ps;
            while b.get(pe).is_some_and(u8::is_ascii_digit) {
                pe += 1;
            }
            port = Some(parse_port(sub(s, ps, pe)).map_err(HeaderFault::Uri)?);
            k = skip_lws(b, pe);
        }
        let mut branch = None;
        let params = match b.get(k) {
            None => Params::default(),
            Some(b';') => Params::header_checked(sub(s, k + 1, s.len()), |p| check_param(p, &mut branch))?,
            Some(_) => return Err(HeaderFault::Trailing { text: sub(s, k, s.len()).to_owned() }),
        };
        Ok(Via {
            protocol,
            version,
            transport: Transport::from_token(transport_text).map_or(ViaTransport::Other(transport_text), ViaTransport::Known),
            host,
            host_text,
            port,
            params,
            branch,
        })
    }

    /// Protocol name and version, normally `SIP` and `2.0`.
    pub fn protocol(&self) -> (&'a str, &'a str) {
        (self.protocol, self.version)
    }

    /// The transport token.
    pub fn transport(&self) -> ViaTransport<'a> {
        self.transport
    }

    /// sent-by host.
    pub fn host(&self) -> Host<'a> {
        self.host
    }

    /// sent-by host as written.
    pub fn host_str(&self) -> &'a str {
        self.host_text
    }

    /// sent-by port, if explicit.
    pub fn port(&self) -> Option<u16> {
        self.port
    }

    /// All parameters.
    pub fn params(&self) -> Params<'a> {
        self.params
    }

    /// `branch=`.
    pub fn branch(&self) -> Option<&'a str> {
        self.branch
    }

    /// True if the branch starts with the magic cookie and has something after it
    /// (RFC 3261 §8.1.1.7; RFC 4475 §3.2.1 treats a bare cookie as RFC 2543 style).
    pub fn has_rfc3261_branch(&self) -> bool {
        self.branch().is_some_and(|b| b.len() > MAGIC_COOKIE.len() && b.starts_with(MAGIC_COOKIE))
    }

    /// `received=` (RFC 3261 §18.2.1).
    pub fn received(&self) -> Option<IpAddr> {
        self.params.value("received").and_then(parse_ip)
    }

    /// `rport`: `None` absent, `Some(None)` requested (no value), `Some(Some(p))` filled
    /// in (RFC 3581 §4).
    pub fn rport(&self) -> Option<Option<u16>> {
        self.params.get("rport").map(|v| v.and_then(|p| parse_port(p).ok()))
    }

    /// `maddr=`.
    pub fn maddr(&self) -> Option<&'a str> {
        self.params.value("maddr")
    }

    /// `ttl=`.
    pub fn ttl(&self) -> Option<u8> {
        self.params.value("ttl").and_then(|t| t.parse().ok())
    }

    /// `alias` (RFC 5923 §5): the sender wants the connection reused.
    pub fn alias(&self) -> bool {
        self.params.contains("alias")
    }
}

/// Grammar of the parameters RFC 3261 §20.42 / RFC 3581 define; remembers the branch.
fn check_param<'a>(p: Param<'a>, branch: &mut Option<&'a str>) -> Result<(), HeaderFault> {
    let name = p.name.as_bytes();
    let v = p.value;
    let (ok, what) = if name.eq_ignore_ascii_case(b"branch") {
        *branch = v;
        (v.is_some_and(|b| b.bytes().all(is_token)), "branch")
    } else if name.eq_ignore_ascii_case(b"received") {
        (v.and_then(parse_ip).is_some(), "received")
    } else if name.eq_ignore_ascii_case(b"rport") {
        (v.is_none_or(|r| parse_port(r).is_ok()), "rport")
    } else if name.eq_ignore_ascii_case(b"ttl") {
        (v.is_some_and(|t| t.len() <= 3 && t.parse::<u8>().is_ok()), "ttl")
    } else if name.eq_ignore_ascii_case(b"maddr") {
        (v.is_some_and(|m| Host::parse(m).is_ok()), "maddr")
    } else {
        (true, "parameter")
    };
    if ok {
        Ok(())
    } else {
        Err(HeaderFault::InvalidToken { what })
    }
}

/// `IPv4address / IPv6address`, bracketed IPv6 tolerated (RFC 5118 §4.5).
fn parse_ip(s: &str) -> Option<IpAddr> {
    let s = s.strip_prefix('[').and_then(|r| r.strip_suffix(']')).unwrap_or(s);
    s.parse().ok()
}

impl Message {
    /// Every Via value, top first.
    pub fn vias(&self) -> impl Iterator<Item = Result<Via<'_>, ParseError>> + '_ {
        self.via_values().map(|v| v.and_then(|v| Via::parse(v.text).map_err(fault(HeaderName::Via))))
    }

    /// The raw Via values with their positions (for edits).
    pub fn via_values(&self) -> crate::header::Values<'_> {
        self.values(HeaderName::Via)
    }

    /// The top Via (RFC 3261 §8.2.6, §16.7: the one responses follow).
    pub fn top_via(&self) -> Result<Via<'_>, ParseError> {
        self.vias().next().unwrap_or_else(|| Err(ParseError::header("Via", HeaderFault::Missing)))
    }

    /// The top Via value's raw reference (to remove it, §16.7 step 3).
    pub fn top_via_value(&self) -> Result<ValueRef<'_>, ParseError> {
        self.via_values().next().unwrap_or_else(|| Err(ParseError::header("Via", HeaderFault::Missing)))
    }
}
