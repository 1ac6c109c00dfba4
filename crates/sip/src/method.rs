//! Request methods: an open set (RFC 3261 §7.1, §27.4). A proxy forwards methods it does
//! not know (§16.6), so unknown tokens are kept, never rejected.

use std::fmt;

use crate::scan::is_token;

/// A SIP method. Method names are case-sensitive (RFC 3261 §7.1): `invite` is an extension.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Method {
    /// RFC 3261.
    Invite,
    /// RFC 3261.
    Ack,
    /// RFC 3261.
    Bye,
    /// RFC 3261.
    Cancel,
    /// RFC 3261.
    Options,
    /// RFC 3261.
    Register,
    /// RFC 3262.
    Prack,
    /// RFC 6665.
    Subscribe,
    /// RFC 6665.
    Notify,
    /// RFC 3903.
    Publish,
    /// RFC 6086.
    Info,
    /// RFC 3515.
    Refer,
    /// RFC 3428.
    Message,
    /// RFC 3311.
    Update,
    /// Any other token (RFC 3261 §25.1 `extension-method`).
    Extension(ExtensionMethod),
}

/// An extension method name: a non-empty RFC 3261 token, kept verbatim.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct ExtensionMethod(Box<str>);

impl ExtensionMethod {
    /// The method name as sent.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl Method {
    /// Parse a method token. `None` if `token` is empty or holds a non-token character.
    pub fn from_token(token: &str) -> Option<Self> {
        Some(match token {
            "INVITE" => Self::Invite,
            "ACK" => Self::Ack,
            "BYE" => Self::Bye,
            "CANCEL" => Self::Cancel,
            "OPTIONS" => Self::Options,
            "REGISTER" => Self::Register,
            "PRACK" => Self::Prack,
            "SUBSCRIBE" => Self::Subscribe,
            "NOTIFY" => Self::Notify,
            "PUBLISH" => Self::Publish,
            "INFO" => Self::Info,
            "REFER" => Self::Refer,
            "MESSAGE" => Self::Message,
            "UPDATE" => Self::Update,
            other => {
                if other.is_empty() || !other.bytes().all(is_token) {
                    return None;
                }
                Self::Extension(ExtensionMethod(other.into()))
            }
        })
    }

    /// The method name as it appears on the wire.
    pub fn as_str(&self) -> &str {
        match self {
            Self::Invite => "INVITE",
            Self::Ack => "ACK",
            Self::Bye => "BYE",
            Self::Cancel => "CANCEL",
            Self::Options => "OPTIONS",
            Self::Register => "REGISTER",
            Self::Prack => "PRACK",
            Self::Subscribe => "SUBSCRIBE",
            Self::Notify => "NOTIFY",
            Self::Publish => "PUBLISH",
            Self::Info => "INFO",
            Self::Refer => "REFER",
            Self::Message => "MESSAGE",
            Self::Update => "UPDATE",
            Self::Extension(m) => m.as_str(),
        }
    }

    /// True for the methods RFC 3261 itself defines (§27.4 registry entries of RFC 3261).
    pub const fn is_rfc3261(&self) -> bool {
        matches!(
            self,
            Self::Invite | Self::Ack | Self::Bye | Self::Cancel | Self::Options | Self::Register
        )
    }
}

impl fmt::Display for Method {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::Method;

    #[test]
    fn rfc3261_7_1_methods_are_case_sensitive_and_open() {
        assert_eq!(Method::from_token("INVITE"), Some(Method::Invite));
        let lower = Method::from_token("invite");
        assert!(matches!(lower, Some(Method::Extension(_))));
        assert_ne!(lower, Some(Method::Invite));
        let odd = "!interesting-Method0123456789_*+`.%indeed'~";
        assert_eq!(Method::from_token(odd).map(|m| m.to_string()), Some(odd.to_string()));
        assert_eq!(Method::from_token(""), None);
        assert_eq!(Method::from_token("IN VITE"), None);
        assert_eq!(Method::from_token("RE%47IST%45R").map(|m| m.to_string()).as_deref(), Some("RE%47IST%45R"));
    }
}
