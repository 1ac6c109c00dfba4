//! Header names: the ones Causeway knows (with RFC 3261 §7.3.3 compact forms) and any other
//! token, recognised once when the message is indexed.

use std::fmt;

macro_rules! header_names {
    ($($variant:ident => $canon:literal, $lower:literal $(, $compact:literal)?;)*) => {
        /// A header field name. Names compare case-insensitively and compact forms map to
        /// their long form (RFC 3261 §7.3.1, §7.3.3); names Causeway does not know are `Other`
        /// (the raw spelling stays available from the header field).
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
        #[non_exhaustive]
        pub enum HeaderName {
            $(
                #[doc = concat!("`", $canon, "`")]
                $variant,
            )*
            /// Any other extension header.
            Other,
        }

        impl HeaderName {
            /// Recognise a header name by lowering it and matching every known spelling.
            fn from_bytes_slow(name: &[u8]) -> Self {
                let mut buf = [0u8; 24];
                let Some(dst) = buf.get_mut(..name.len()) else { return Self::Other };
                for (d, s) in dst.iter_mut().zip(name) {
                    *d = s.to_ascii_lowercase();
                }
                match &*dst {
                    $($lower $(| $compact)? => Self::$variant,)*
                    _ => Self::Other,
                }
            }

            /// The lower-case long form, for matching.
            #[inline]
            const fn lower(self) -> &'static [u8] {
                match self {
                    $(Self::$variant => $lower,)*
                    Self::Other => b"",
                }
            }

            /// The lower-case long form as a little-endian word, zero-padded (names over 16
            /// bytes are cut; they are never compared this way), for [`HeaderName::from_buf`].
            fn key(self) -> u128 {
                const KEYS: &[u128] = &[$(key_of($lower),)* 0];
                KEYS.get(self as usize).copied().unwrap_or_default()
            }

            /// The canonical spelling, as Causeway writes it; `""` for [`HeaderName::Other`].
            #[inline]
            pub const fn as_str(self) -> &'static str {
                match self {
                    $(Self::$variant => $canon,)*
                    Self::Other => "",
                }
            }
        }
    };
}

header_names! {
    Accept => "Accept", b"accept";
    AcceptContact => "Accept-Contact", b"accept-contact", b"a";
    AcceptEncoding => "Accept-Encoding", b"accept-encoding";
    AcceptLanguage => "Accept-Language", b"accept-language";
    AlertInfo => "Alert-Info", b"alert-info";
    Allow => "Allow", b"allow";
    AllowEvents => "Allow-Events", b"allow-events", b"u";
    AuthenticationInfo => "Authentication-Info", b"authentication-info";
    Authorization => "Authorization", b"authorization";
    CallId => "Call-ID", b"call-id", b"i";
    CallInfo => "Call-Info", b"call-info";
    Contact => "Contact", b"contact", b"m";
    ContentDisposition => "Content-Disposition", b"content-disposition";
    ContentEncoding => "Content-Encoding", b"content-encoding", b"e";
    ContentLanguage => "Content-Language", b"content-language";
    ContentLength => "Content-Length", b"content-length", b"l";
    ContentType => "Content-Type", b"content-type", b"c";
    CSeq => "CSeq", b"cseq";
    Date => "Date", b"date";
    ErrorInfo => "Error-Info", b"error-info";
    Event => "Event", b"event", b"o";
    Expires => "Expires", b"expires";
    From => "From", b"from", b"f";
    Identity => "Identity", b"identity", b"y";
    IdentityInfo => "Identity-Info", b"identity-info", b"n";
    InReplyTo => "In-Reply-To", b"in-reply-to";
    MaxForwards => "Max-Forwards", b"max-forwards";
    MimeVersion => "MIME-Version", b"mime-version";
    MinExpires => "Min-Expires", b"min-expires";
    MinSe => "Min-SE", b"min-se";
    Organization => "Organization", b"organization";
    PAssertedIdentity => "P-Asserted-Identity", b"p-asserted-identity";
    PPreferredIdentity => "P-Preferred-Identity", b"p-preferred-identity";
    Path => "Path", b"path";
    Priority => "Priority", b"priority";
    Privacy => "Privacy", b"privacy";
    ProxyAuthenticate => "Proxy-Authenticate", b"proxy-authenticate";
    ProxyAuthorization => "Proxy-Authorization", b"proxy-authorization";
    ProxyRequire => "Proxy-Require", b"proxy-require";
    RAck => "RAck", b"rack";
    Reason => "Reason", b"reason";
    RecordRoute => "Record-Route", b"record-route";
    ReferTo => "Refer-To", b"refer-to", b"r";
    ReferredBy => "Referred-By", b"referred-by", b"b";
    RejectContact => "Reject-Contact", b"reject-contact", b"j";
    Replaces => "Replaces", b"replaces";
    ReplyTo => "Reply-To", b"reply-to";
    RequestDisposition => "Request-Disposition", b"request-disposition", b"d";
    Require => "Require", b"require";
    RetryAfter => "Retry-After", b"retry-after";
    Route => "Route", b"route";
    RSeq => "RSeq", b"rseq";
    Server => "Server", b"server";
    ServiceRoute => "Service-Route", b"service-route";
    SessionExpires => "Session-Expires", b"session-expires", b"x";
    Subject => "Subject", b"subject", b"s";
    SubscriptionState => "Subscription-State", b"subscription-state";
    Supported => "Supported", b"supported", b"k";
    Timestamp => "Timestamp", b"timestamp";
    To => "To", b"to", b"t";
    Unsupported => "Unsupported", b"unsupported";
    UserAgent => "User-Agent", b"user-agent";
    Via => "Via", b"via", b"v";
    Warning => "Warning", b"warning";
    WwwAuthenticate => "WWW-Authenticate", b"www-authenticate";
}

impl HeaderName {
    /// Recognise a header name (long or compact form, any case). The names in nearly every
    /// request are guessed from length and first letter and confirmed with one comparison.
    pub fn from_bytes(name: &[u8]) -> Self {
        match Self::guess(name) {
            Some(guess) if eq_folded(name, guess.lower()) => guess,
            _ => Self::from_bytes_slow(name),
        }
    }

    /// [`HeaderName::from_bytes`] for the `len`-byte name at `buf[start..]`, as the indexer
    /// finds it: a guess is confirmed by comparing two 8-byte words read from the buffer
    /// (the message goes on past any name), not byte by byte.
    pub(crate) fn from_buf(buf: &[u8], start: usize, len: usize) -> Self {
        let name = buf.get(start..start.saturating_add(len)).unwrap_or_default();
        let word = buf.get(start..start.saturating_add(16)).and_then(|w| <[u8; 16]>::try_from(w).ok());
        let (Some(word), Some(&mask)) = (word, NAME_MASKS.get(len)) else { return Self::from_bytes(name) };
        match Self::guess(name) {
            Some(guess) if (u128::from_le_bytes(word) | FOLD) & mask == guess.key() => guess,
            _ => Self::from_bytes_slow(name),
        }
    }

    /// The known name `name` most likely is, from its length and first letters.
    fn guess(name: &[u8]) -> Option<Self> {
        let first = *name.first()?;
        let second = name.get(1).map_or(0, |b| b | 0x20);
        Some(match (name.len(), first | 0x20) {
            (3, b'v') => Self::Via,
            (2, b't') => Self::To,
            (4, b'f') => Self::From,
            (4, b'c') => Self::CSeq,
            (7, b'c') if second == b'a' => Self::CallId,
            (7, b'c') => Self::Contact,
            (5, b'r') => Self::Route,
            (5, b'a') => Self::Allow,
            (12, b'm') => Self::MaxForwards,
            (12, b'c') => Self::ContentType,
            (12, b'r') => Self::RecordRoute,
            (14, b'c') => Self::ContentLength,
            (9, b's') => Self::Supported,
            (10, b'u') => Self::UserAgent,
            _ => return None,
        })
    }

    /// Headers whose value is a comma-separated list that may also be split over several
    /// header fields (RFC 3261 §7.3.1). Authorization-style headers and Date are not lists.
    pub const fn is_list(self) -> bool {
        matches!(
            self,
            Self::Accept
                | Self::AcceptContact
                | Self::AcceptEncoding
                | Self::AcceptLanguage
                | Self::AlertInfo
                | Self::Allow
                | Self::AllowEvents
                | Self::CallInfo
                | Self::Contact
                | Self::ContentEncoding
                | Self::ContentLanguage
                | Self::ErrorInfo
                | Self::InReplyTo
                | Self::PAssertedIdentity
                | Self::PPreferredIdentity
                | Self::Path
                | Self::Privacy
                | Self::ProxyRequire
                | Self::Reason
                | Self::RecordRoute
                | Self::RejectContact
                | Self::RequestDisposition
                | Self::Require
                | Self::Route
                | Self::ServiceRoute
                | Self::Supported
                | Self::Unsupported
                | Self::Via
                | Self::Warning
        )
    }
}

/// The first 16 bytes of `lower` as a little-endian word, zero-padded.
const fn key_of(lower: &[u8]) -> u128 {
    let mut word = 0u128;
    let mut i = 0;
    while i < lower.len() && i < 16 {
        word |= (lower[i] as u128) << (8 * i);
        i += 1;
    }
    word
}

/// `| FOLD` lowers the letters of every byte of a word (see [`eq_folded`]).
const FOLD: u128 = 0x2020_2020_2020_2020_2020_2020_2020_2020;

/// `NAME_MASKS[n]` keeps the low `n` bytes of a word, for names of 0 to 16 bytes.
static NAME_MASKS: [u128; 17] = {
    let mut masks = [u128::MAX; 17];
    let mut n = 0;
    while n < 16 {
        masks[n] = (1u128 << (8 * n)) - 1;
        n += 1;
    }
    masks
};

/// `name` equals the lower-case `lower` ignoring ASCII case, eight bytes at a time. `| 0x20`
/// lowers letters and leaves '-' and digits unchanged; for token bytes (the indexer has
/// checked them) this is exactly a case-insensitive comparison.
fn eq_folded(name: &[u8], lower: &[u8]) -> bool {
    const FOLD: u64 = 0x2020_2020_2020_2020;
    if name.len() != lower.len() {
        return false;
    }
    let mut a = name.chunks_exact(8);
    let mut b = lower.chunks_exact(8);
    for (x, y) in a.by_ref().zip(b.by_ref()) {
        let (Ok(x), Ok(y)) = (<[u8; 8]>::try_from(x), <[u8; 8]>::try_from(y)) else { return false };
        if u64::from_ne_bytes(x) | FOLD != u64::from_ne_bytes(y) {
            return false;
        }
    }
    a.remainder().iter().zip(b.remainder()).all(|(x, y)| x | 0x20 == *y)
}

impl fmt::Display for HeaderName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::HeaderName;

    #[test]
    fn rfc3261_7_3_3_compact_forms_and_case() {
        assert_eq!(HeaderName::from_bytes(b"v"), HeaderName::Via);
        assert_eq!(HeaderName::from_bytes(b"MaX-fOrWaRdS"), HeaderName::MaxForwards);
        assert_eq!(HeaderName::from_bytes(b"i"), HeaderName::CallId);
        assert_eq!(HeaderName::from_bytes(b"L"), HeaderName::ContentLength);
        assert_eq!(HeaderName::from_bytes(b"C%6Fntact"), HeaderName::Other);
        assert_eq!(HeaderName::from_bytes(&[b'x'; 40]), HeaderName::Other);
        assert_eq!(HeaderName::CallId.as_str(), "Call-ID");
        assert!(HeaderName::Via.is_list() && !HeaderName::CallId.is_list());
    }

    #[test]
    fn names_read_from_the_buffer_match_names_read_byte_by_byte() {
        let names = ["Via", "v", "TO", "t", "From", "CSeq", "Call-ID", "Contact", "Route", "Allow", "Max-Forwards",
            "Content-Type", "Record-Route", "Content-Length", "Supported", "User-Agent", "Vix", "Call-IX", "Contacts",
            "Max_Forwards", "Content-Lengtx", "P-Asserted-Identity", "X-Very-Long-Extension-Header"];
        for name in names {
            for tail in [": x\r\n\r\n".as_bytes(), b":", b": a much longer value than sixteen bytes\r\n\r\n"] {
                let buf = [name.as_bytes(), tail].concat();
                let bytes = HeaderName::from_bytes(name.as_bytes());
                assert_eq!(HeaderName::from_buf(&buf, 0, name.len()), bytes, "{name}");
                let shifted = [b"ab".as_slice(), &buf].concat();
                assert_eq!(HeaderName::from_buf(&shifted, 2, name.len()), bytes, "{name} at 2");
            }
        }
    }
}
