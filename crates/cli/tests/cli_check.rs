//! L4 for the offline subcommands: `causeway check` and `causeway sip check` run as the built binary.

mod support;

use std::collections::HashMap;
use std::process::{Command, Output};

use support::{causeway_bin, rfc4475, temp_dir};

fn causeway(args: &[&std::ffi::OsStr]) -> Output {
    Command::new(causeway_bin()).args(args).output().unwrap_or_else(|e| panic!("run causeway: {e}"))
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

#[test]
fn check_accepts_a_good_config() {
    let path = support::repo_root().join("examples/causeway.toml");
    let out = causeway(&["check".as_ref(), "-c".as_ref(), path.as_os_str()]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    assert_eq!(text(&out.stdout), format!("{}: ok\n", path.display()));
}

#[test]
fn check_prints_file_line_col_and_exits_1() {
    let dir = temp_dir();
    let path = dir.path().join("bad.toml");
    let config = "[[listener]]\ntransport = \"udp\"\naddress = \"127.0.0.1:5060\"\n\n[[route]]\ndefault = true\n\
                  next_hop = \"sip:proxy.example.com\"\n\n[limits]\nmax_conections = 5\n";
    std::fs::write(&path, config).unwrap_or_else(|e| panic!("write: {e}"));
    let out = causeway(&["check".as_ref(), "-c".as_ref(), path.as_os_str()]);
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(text(&out.stdout), "");
    // A shape error stops deserialization, so only the unknown key is reported.
    assert_eq!(
        text(&out.stderr),
        format!(
            "{}:10:1: unknown field `max_conections`, expected one of `max_message_bytes`, `tcp_idle_secs`, \
             `max_connections`, `max_connections_per_ip`, `tls_handshake_secs`\n",
            path.display()
        )
    );
    std::fs::write(&path, config.replace("max_conections", "max_connections")).unwrap_or_else(|e| panic!("{e}"));
    let out = causeway(&["check".as_ref(), "-c".as_ref(), path.as_os_str()]);
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(
        text(&out.stderr),
        format!(
            "{}:7:12: unresolvable route target `proxy.example.com`: the static route table needs an IP address, \
             not a host name\n",
            path.display()
        )
    );
}

#[test]
fn check_reports_a_missing_file() {
    let out = causeway(&["check".as_ref(), "-c".as_ref(), "/nonexistent/causeway.toml".as_ref()]);
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(text(&out.stderr), "/nonexistent/causeway.toml: cannot read: No such file or directory (os error 2)\n");
}

#[test]
fn help_shows_examples_and_version_is_the_crate_version() {
    let out = causeway(&["--help".as_ref()]);
    assert_eq!(out.status.code(), Some(0));
    let help = text(&out.stdout);
    for expected in ["serve", "check", "sip", "Examples:", "causeway check -c causeway.toml", "CAUSEWAY_LOG"] {
        assert!(help.contains(expected), "--help lacks {expected:?}:\n{help}");
    }
    let out = causeway(&["--version".as_ref()]);
    assert_eq!(text(&out.stdout), format!("causeway {}\n", env!("CARGO_PKG_VERSION")));
}

#[derive(serde::Deserialize)]
struct Verdict {
    file: String,
    valid: bool,
    reason: Option<String>,
}

/// `causeway sip check --json` over the whole RFC 4475 folder agrees with the manifest: well-formed
/// messages (valid, and valid-but-semantically-wrong, which the parser must accept) are valid, the invalid
/// ones are invalid with a reason.
#[test]
fn sip_check_agrees_with_the_rfc4475_manifest() {
    let manifest = rfc4475::manifest();
    let mut args: Vec<&std::ffi::OsStr> = vec!["sip".as_ref(), "check".as_ref(), "--json".as_ref()];
    args.extend(manifest.iter().map(|m| m.path.as_os_str()));
    let out = causeway(&args);
    assert_eq!(out.status.code(), Some(1), "some messages are invalid, so the exit code is 1\n{}", text(&out.stderr));
    let verdicts: Vec<Verdict> =
        serde_json::from_slice(&out.stdout).unwrap_or_else(|e| panic!("bad JSON ({e}):\n{}", text(&out.stdout)));
    let by_file: HashMap<&str, &Verdict> = verdicts.iter().map(|v| (v.file.as_str(), v)).collect();
    assert_eq!(by_file.len(), manifest.len());
    let mut disagreements = Vec::new();
    for message in &manifest {
        let file = message.path.display().to_string();
        let verdict = by_file.get(file.as_str()).unwrap_or_else(|| panic!("no verdict for {file}"));
        if verdict.valid != message.well_formed() {
            disagreements.push(format!("{file}: manifest {} but checker says {:?}", message.expected, verdict.reason));
        }
        assert_eq!(verdict.reason.is_some(), !verdict.valid, "{file}: a reason exactly when invalid");
        if let Some(reason) = &verdict.reason {
            assert!(!reason.trim().is_empty(), "{file}: empty reason");
        }
    }
    assert!(disagreements.is_empty(), "disagreements with MANIFEST.tsv:\n{}", disagreements.join("\n"));
}

#[test]
fn sip_check_text_output_and_exit_code() {
    let manifest = rfc4475::manifest();
    let valid: Vec<_> = manifest.iter().filter(|m| m.well_formed()).map(|m| m.path.as_os_str()).collect();
    let mut args: Vec<&std::ffi::OsStr> = vec!["sip".as_ref(), "check".as_ref()];
    args.extend(valid.iter().copied());
    let out = causeway(&args);
    assert_eq!(out.status.code(), Some(0), "all well-formed: exit 0\n{}", text(&out.stdout));
    let stdout = text(&out.stdout);
    let lines: Vec<&str> = stdout.lines().collect();
    assert_eq!(lines.len(), valid.len(), "one line per file:\n{stdout}");
    for (line, path) in lines.iter().zip(&valid) {
        let file = path.to_string_lossy();
        // `FILE: valid`, or `FILE: valid; proxy: …` for the RFC's well-formed but semantically wrong ones.
        assert!(*line == format!("{file}: valid") || line.starts_with(&format!("{file}: valid; ")), "{line}");
    }

    let invalid = manifest.iter().find(|m| !m.well_formed()).unwrap_or_else(|| panic!("no invalid message"));
    let out = causeway(&["sip".as_ref(), "check".as_ref(), valid[0], invalid.path.as_os_str()]);
    assert_eq!(out.status.code(), Some(1));
    let stdout = text(&out.stdout);
    let lines: Vec<&str> = stdout.lines().collect();
    assert_eq!(lines.len(), 2, "{stdout}");
    assert!(lines[1].starts_with(&format!("{}: invalid: ", invalid.path.display())), "{stdout}");
}
