//! `[policy]`, `[security]` and `[[credential]]` in the main configuration: a full set loads, and every
//! mistake is refused at its place — in the config file or in the CPL script it names.

#[allow(dead_code)] // the TLS helpers of the shared test support are not needed here
mod support;

use std::path::Path;
use std::time::Duration;

use causeway_config::{Config, LoadError};
use causeway_policy::digest::credentials::{Algorithm, CredentialStore, Ha1};

const LISTENER: &str = "[[listener]]\ntransport = \"udp\"\naddress = \"127.0.0.1:5060\"\n\n";

fn load(dir: &Path, text: &str) -> Result<Config, String> {
    let path = dir.join("edge.toml");
    support::write(&path, text);
    Config::load(&path).map_err(|e| match e {
        LoadError::Invalid(errors) => {
            errors.iter().map(|e| format!("{}:{}:{}: {}", file_name(&e.file), e.line, e.column, e.reason)).collect::<Vec<_>>().join("\n")
        }
        other => other.to_string(),
    })
}

fn file_name(file: &str) -> String {
    Path::new(file).file_name().map_or_else(|| file.to_owned(), |f| f.to_string_lossy().into_owned())
}

fn refused(text: &str) -> String {
    let dir = support::temp_dir();
    match load(dir.path(), &format!("{LISTENER}{text}")) {
        Ok(_) => panic!("accepted:\n{text}"),
        Err(e) => e,
    }
}

#[test]
fn no_sections_mean_no_policy_default_flood_guard_and_no_credentials() {
    let dir = support::temp_dir();
    let config = load(dir.path(), LISTENER).unwrap_or_else(|e| panic!("{e}"));
    assert!(config.security.policy.set().is_off());
    assert!(config.security.digest.is_none() && config.security.credentials.is_empty());
    assert_eq!(config.security.flood.requests_per_source.count, 200);
    assert_eq!(config.node.server_header, "Causeway");
}

#[test]
fn a_full_edge_loads() {
    let dir = support::temp_dir();
    let ha1 = Ha1::from_password(Algorithm::Md5, "1000", "ent-pa.com", "secret");
    let sha = Ha1::from_password(Algorithm::Sha256, "1000", "ent-pa.com", "secret");
    let text = format!(
        "{LISTENER}[policy]\ndefault = {{ action = \"allow\" }}\n\n[[policy.rule]]\nname = \"dial-out\"\n\
         source_zone = \"default\"\ndestination = '[09]\\d*(@.*)?'\naction = \"reject\"\nstatus = 404\n\n\
         [security]\nserver_header = \"\"\n\n[security.digest]\nrealm = \"ent-pa.com\"\nalgorithms = [\"MD5\"]\n\n\
         [security.flood]\nrequests_per_source = {{ count = 50, window_secs = 5 }}\ntrusted_cidrs = [\"10.0.0.0/8\"]\n\n\
         [[credential]]\nusername = \"1000\"\nha1_md5 = \"{}\"\nha1_sha256 = \"{}\"\n",
        hex(&ha1),
        hex(&sha)
    );
    let config = load(dir.path(), &text).unwrap_or_else(|e| panic!("{e}"));
    let rules = config.security.policy.set().rules().unwrap_or_else(|| panic!("a rule table"));
    assert_eq!(rules.rules().iter().map(|r| r.name()).collect::<Vec<_>>(), ["dial-out"]);
    assert_eq!(config.node.server_header, "", "[security] server_header = \"\" sends no header");
    let digest = config.security.digest.as_ref().unwrap_or_else(|| panic!("digest"));
    assert_eq!((digest.realm.as_str(), digest.algorithms.as_slice()), ("ent-pa.com", [Algorithm::Md5].as_slice()));
    assert_eq!(config.security.flood.requests_per_source.window, Duration::from_secs(5));
    let stored = config.security.credentials.ha1("1000", "ent-pa.com", Algorithm::Md5);
    assert!(stored.is_some_and(|h| h.ct_eq(&ha1)));
    assert!(config.security.credentials.ha1("1000", "ent-pa.com", Algorithm::Sha256).is_some_and(|h| h.ct_eq(&sha)));
    assert!(config.security.credentials.ha1("1000", "other", Algorithm::Md5).is_none());
    assert!(!format!("{:?}", config.security).contains(&hex(&ha1)), "Debug never shows an HA1");
    // Loading the same file twice gives equal configurations.
    assert_eq!(config, load(dir.path(), &text).unwrap_or_else(|e| panic!("{e}")));
}

/// The hex an administrator writes into the config for `1000` / `ent-pa.com` / `secret`.
fn hex(ha1: &Ha1) -> String {
    use sha2::Digest as _;
    let data = b"1000:ent-pa.com:secret";
    match ha1.algorithm() {
        Algorithm::Md5 => hex::encode(md5::Md5::digest(data)),
        Algorithm::Sha256 => hex::encode(sha2::Sha256::digest(data)),
    }
}

#[test]
fn cpl_policy_from_a_file_beside_the_config() {
    let dir = support::temp_dir();
    support::write(
        &dir.path().join("policy.cpl"),
        "<cpl xmlns=\"urn:ietf:params:xml:ns:cpl\">\n<incoming>\n<reject status=\"403\"/>\n</incoming>\n</cpl>\n",
    );
    let config = load(dir.path(), &format!("{LISTENER}[policy]\ncpl = \"policy.cpl\"\n")).unwrap_or_else(|e| panic!("{e}"));
    assert!(config.security.policy.set().cpl().is_some());
}

#[test]
fn policy_mistakes_are_refused_at_their_line() {
    // Line 5 is the first line after the listener (4 lines) in every case.
    let cases = [
        (
            "[[policy.rule]]\nname = \"r\"\ndestination = '[09'\naction = \"reject\"\n",
            "edge.toml:7:15: rule \"r\": invalid destination pattern",
        ),
        (
            "[[policy.rule]]\nname = \"r\"\nsource_zone = \"dmz\"\ndestination = '.*'\naction = \"reject\"\n",
            "edge.toml:7:15: rule \"r\": unknown zone \"dmz\"",
        ),
        (
            "[[policy.rule]]\nname = \"all\"\ndestination = '.*'\naction = \"reject\"\n\n\
             [[policy.rule]]\nname = \"never\"\ndestination = '9.*'\naction = \"allow\"\n",
            "edge.toml:10:1: rule \"never\" can never match: rule \"all\" at ",
        ),
        ("[security.digest]\nrealm = \"\"\n", "edge.toml:6:9: realm must be non-empty"),
        ("[security.flood]\ntrusted_zones = [\"dmz\"]\n", "edge.toml:6:18: unknown zone \"dmz\" in trusted_zones"),
    ];
    for (text, expected) in cases {
        let error = refused(text);
        assert!(error.starts_with(expected), "got {error:?}\nwanted {expected:?}");
    }
    let shadowed = refused("[[policy.rule]]\nname = \"all\"\ndestination = '.*'\naction = \"reject\"\n\n[[policy.rule]]\nname = \"b\"\ndestination = '.*'\naction = \"allow\"\n");
    assert!(shadowed.ends_with("edge.toml:5:1 matches everything it would"), "{shadowed}");
}

#[test]
fn invalid_cpl_is_refused_at_its_line_in_the_script() {
    let dir = support::temp_dir();
    support::write(
        &dir.path().join("bad.cpl"),
        "<cpl xmlns=\"urn:ietf:params:xml:ns:cpl\">\n<incoming>\n<address-switch field=\"destination\">\n\
         <address regex=\"[09\">\n<reject status=\"403\"/>\n</address>\n</address-switch>\n</incoming>\n</cpl>\n",
    );
    let error = load(dir.path(), &format!("{LISTENER}[policy]\ncpl = \"bad.cpl\"\n")).err().unwrap_or_default();
    assert!(error.starts_with("bad.cpl:4:"), "{error}");
    let missing = load(dir.path(), &format!("{LISTENER}[policy]\ncpl = \"missing.cpl\"\n")).err().unwrap_or_default();
    assert!(missing.starts_with("edge.toml:6:7: cannot read CPL script \"missing.cpl\""), "{missing}");
}

#[test]
fn credential_mistakes_are_refused_at_their_line() {
    let digest = "[security.digest]\nrealm = \"ent-pa.com\"\n\n";
    let md5 = "ha1_md5 = \"939e7578ed9e3c518a452acee763bce9\"\n";
    let cases = [
        (format!("[[credential]]\nusername = \"a\"\n{md5}"), "edge.toml:5:1: a [[credential]] needs [security.digest]".to_owned()),
        (
            format!("{digest}[[credential]]\nusername = \"a\"\n{md5}\n[[credential]]\nusername = \"a\"\n{md5}"),
            "edge.toml:13:12: duplicate credential: username `a` is already defined at line 9".to_owned(),
        ),
        (format!("{digest}[[credential]]\nusername = \"a\"\n"), "edge.toml:8:1: credential `a` needs ha1_md5".to_owned()),
        (
            format!("{digest}[[credential]]\nusername = \"a\"\nha1_sha256 = \"abc\"\n"),
            "edge.toml:10:14: SHA-256 HA1 must be 64 hex digits".to_owned(),
        ),
        (
            format!("{digest}[[credential]]\nusername = \"a\"\npassword = \"x\"\n"),
            "edge.toml:10:1: unknown field `password`".to_owned(),
        ),
        (
            "[[zone]]\nname = \"default\"\nkind = \"default\"\nauthentication = \"check-credentials\"\n".to_owned(),
            "edge.toml:8:18: zone `default` checks credentials: it needs [security.digest]".to_owned(),
        ),
        (
            "[node]\nserver_header = \"Edge\"\n\n[security]\nserver_header = \"Other\"\n".to_owned(),
            "edge.toml:9:17: server_header is already set in [node] at line 6".to_owned(),
        ),
    ];
    for (text, expected) in cases {
        let error = refused(&text);
        assert!(error.starts_with(&expected), "got {error:?}\nwanted {expected:?}");
    }
}

/// Writes `text` to `dir/name` with permission bits `mode`.
fn key_file(dir: &Path, name: &str, text: &str, mode: u32) {
    use std::os::unix::fs::PermissionsExt;
    let path = dir.join(name);
    support::write(&path, text);
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(mode)).unwrap_or_else(|e| panic!("chmod: {e}"));
}

#[test]
fn a_record_route_key_file_is_read_and_never_shown() {
    let dir = support::temp_dir();
    let secret = "5e".repeat(32);
    key_file(dir.path(), "rr.key", &format!("{secret}\n"), 0o600);
    let config = load(dir.path(), &format!("{LISTENER}[security]\nrecord_route_key_file = \"rr.key\"\n")).unwrap_or_else(|e| panic!("{e}"));
    let expected = causeway_policy::seal::RouteKey::new([0x5e; 32]);
    assert_eq!(config.security.route_key.as_ref(), Some(&expected));
    assert!(!format!("{config:?}").contains(&secret[..16]), "Debug never shows the key");
    // Without the key: each start draws its own.
    let config = load(dir.path(), LISTENER).unwrap_or_else(|e| panic!("{e}"));
    assert!(config.security.route_key.is_none());
}

#[test]
fn a_record_route_key_file_is_refused_at_its_place_without_showing_its_content() {
    let dir = support::temp_dir();
    let secret = "a1".repeat(32);
    key_file(dir.path(), "open.key", &secret, 0o644);
    key_file(dir.path(), "short.key", &secret[..40], 0o600);
    key_file(dir.path(), "words.key", "correct horse battery staple\n", 0o400);
    let case = |file: &str| {
        let text = format!("{LISTENER}[security]\nserver_header = \"x\"\nrecord_route_key_file = \"{file}\"\n");
        match load(dir.path(), &text) {
            Ok(_) => panic!("{file} accepted"),
            Err(e) => e,
        }
    };
    let open = case("open.key");
    assert!(open.starts_with("edge.toml:7:25: the Record-Route key file `"), "{open}");
    assert!(open.contains("readable by its group or others (mode 0644)") && open.ends_with("chmod 600 it"), "{open}");
    let short = case("short.key");
    assert!(short.starts_with("edge.toml:7:25: ") && short.ends_with("must be 64 hexadecimal digits (32 bytes), found 40"), "{short}");
    let words = case("words.key");
    assert!(words.ends_with("found a character that is not one") && !words.contains("horse"), "{words}");
    let missing = case("missing.key");
    assert!(missing.starts_with("edge.toml:7:25: cannot read the Record-Route key file `") && missing.contains("missing.key"), "{missing}");
    for message in [open, short, missing] {
        assert!(!message.contains(&secret[..16]), "{message}");
    }
}
