//! Fuzz URI parsing: sip/sips/tel/opaque URIs, RFC 5118 hosts, escapes and §19.1.4
//! comparison. A parsed URI printed back must parse to an equivalent URI.
#![no_main]

use causeway_sip::uri::{escape, Uri};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else { return };
    let Ok(uri) = Uri::parse(text) else { return };
    let printed = uri.to_string();
    let again = Uri::parse(&printed).expect("a printed URI parses");
    if let (Uri::Sip(a), Uri::Sip(b)) = (uri, again) {
        assert!(a.equivalent(&b), "{text} vs {printed}");
        let _ = (a.user_unescaped(), a.transport(), a.ttl(), a.host().ip());
        if let Some(user) = a.user() {
            assert!(escape::unescape(user).len() <= user.len());
        }
    }
});
