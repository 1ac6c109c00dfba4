//! The parts of a SIP or tel address that policy looks at, normalised once so that the same alias
//! cannot be written two ways to slip past a rule.
//!
//! The caller (proxy, `causeway locate`) parses URIs with the SIP core and hands the parts over;
//! this module never parses SIP itself. Normalisation, following RFC 3261 §19.1.4 (URI comparison):
//! the user part is percent-decoded (`%39011` is `9011`), the scheme and host are lower-cased
//! (host names are case-insensitive), and the port and URI parameters are left out of the alias
//! (so `x@10.10.10.10:5060` still matches a rule written for `x@10.10.10.10`).

use std::fmt;

use causeway_sip::uri::escape::unescape;

/// One address (From, P-Asserted-Identity, Request-URI, routed alias), as parts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Address {
    scheme: String,
    user: Option<String>,
    host: Option<String>,
    port: Option<u16>,
    display: Option<String>,
    phone: bool,
}

impl Address {
    /// A `sip:` address; `user` may still be percent-encoded as received.
    pub fn sip(user: Option<&str>, host: &str) -> Self {
        Self::new("sip", user, Some(host))
    }

    /// A `tel:` address (RFC 3966); the number is kept as written (visual separators included).
    pub fn tel(number: &str) -> Self {
        let mut address = Self::new("tel", Some(number), None);
        address.phone = true;
        address
    }

    /// Any scheme (`sip`, `sips`, `tel`, `h323`, …) from its parts.
    pub fn new(scheme: &str, user: Option<&str>, host: Option<&str>) -> Self {
        Self {
            scheme: scheme.to_ascii_lowercase(),
            user: user.filter(|u| !u.is_empty()).map(percent_decode),
            host: host.filter(|h| !h.is_empty()).map(str::to_ascii_lowercase),
            port: None,
            display: None,
            phone: false,
        }
    }

    /// Adds the port of the URI.
    #[must_use]
    pub fn with_port(mut self, port: u16) -> Self {
        self.port = Some(port);
        self
    }

    /// Adds the display name of the name-addr (without quotes).
    #[must_use]
    pub fn with_display(mut self, display: &str) -> Self {
        self.display = Some(display.to_owned()).filter(|d| !d.is_empty());
        self
    }

    /// Marks a SIP URI carrying `user=phone` (RFC 3261 §19.1.1): its user part is a telephone number.
    #[must_use]
    pub fn with_user_phone(mut self) -> Self {
        self.phone = true;
        self
    }

    /// The URI scheme, lower-case (CPL `address-type`).
    pub fn scheme(&self) -> &str {
        &self.scheme
    }

    /// The percent-decoded user part (for `tel:` the number).
    pub fn user(&self) -> Option<&str> {
        self.user.as_deref()
    }

    /// The lower-cased host.
    pub fn host(&self) -> Option<&str> {
        self.host.as_deref()
    }

    /// The port, when the URI had one.
    pub fn port(&self) -> Option<u16> {
        self.port
    }

    /// The display name.
    pub fn display(&self) -> Option<&str> {
        self.display.as_deref()
    }

    /// The telephone number for `tel:` URIs and `user=phone` SIP URIs (CPL `tel` subfield):
    /// parameters dropped and RFC 3966 §5.1.1 visual separators (`-`, `.`, `(`, `)`) removed.
    pub fn tel_number(&self) -> Option<String> {
        if !self.phone {
            return None;
        }
        let user = self.user.as_deref()?;
        let number = user.split(';').next().unwrap_or(user);
        Some(number.chars().filter(|c| !matches!(c, '-' | '.' | '(' | ')')).collect())
    }

    /// The alias that rule patterns are matched against: `user@host`, or `host` when there is
    /// no user part, or the number of a `tel:` URI. No scheme, port or URI parameters.
    pub fn alias(&self) -> String {
        match (&self.user, &self.host) {
            (Some(user), Some(host)) => format!("{user}@{host}"),
            (Some(user), None) => user.clone(),
            (None, Some(host)) => host.clone(),
            (None, None) => String::new(),
        }
    }
}

/// `scheme:alias[:port]`, the whole-address form CPL `is` compares against.
impl fmt::Display for Address {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}", self.scheme, self.alias())?;
        if let Some(port) = self.port {
            write!(f, ":{port}")?;
        }
        Ok(())
    }
}

/// RFC 3261 §19.1.4: escaped and unescaped forms of the user part are equivalent. Bytes that do
/// not form valid UTF-8 after decoding become U+FFFD, which no digit pattern matches.
fn percent_decode(raw: &str) -> String {
    String::from_utf8_lossy(&unescape(raw)).into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rfc3261_19_1_4_user_part_is_unescaped() {
        let a = Address::sip(Some("%39%30%311"), "ENT-PA.com");
        assert_eq!(a.alias(), "9011@ent-pa.com");
    }

    #[test]
    fn broken_escapes_are_kept_literally() {
        assert_eq!(percent_decode("a%4"), "a%4");
        assert_eq!(percent_decode("%zz1"), "%zz1");
        assert_eq!(percent_decode("%FF9"), "\u{FFFD}9");
    }

    #[test]
    fn alias_leaves_out_scheme_port_and_parameters() {
        let a = Address::sip(Some("x"), "10.10.10.10").with_port(5060);
        assert_eq!(a.alias(), "x@10.10.10.10");
        assert_eq!(a.to_string(), "sip:x@10.10.10.10:5060");
        assert_eq!(Address::sip(None, "Example.COM").alias(), "example.com");
    }

    #[test]
    fn tel_number_drops_visual_separators_and_parameters() {
        let t = Address::tel("+1-212-555-0100;phone-context=x");
        assert_eq!(t.tel_number().as_deref(), Some("+12125550100"));
        let s = Address::sip(Some("9(011)44"), "gw").with_user_phone();
        assert_eq!(s.tel_number().as_deref(), Some("901144"));
        assert_eq!(Address::sip(Some("bob"), "gw").tel_number(), None);
    }
}
