//! L4 for `causeway check` on the security sections: an invalid CPL script, a regex that does not compile, a
//! rule for a zone that does not exist and a rule an earlier catch-all shadows are refused, each with its
//! place (`file:line:col`, in the config or in the CPL script) and reason, and exit status 1; the shipped
//! policies, pasted into a config as they are, pass.

mod support;

use std::path::Path;
use std::process::{Command, Output};

use support::{causeway_bin, repo_root, temp_dir};

const LISTENER: &str = "[[listener]]\ntransport = \"udp\"\naddress = \"127.0.0.1:5060\"\n\n";

fn check(path: &Path) -> Output {
    Command::new(causeway_bin()).args(["check".as_ref(), "-c".as_ref(), path.as_os_str()]).output().unwrap_or_else(|e| panic!("run causeway: {e}"))
}

fn refused(dir: &Path, body: &str) -> String {
    let path = dir.join("edge.toml");
    std::fs::write(&path, format!("{LISTENER}{body}")).unwrap_or_else(|e| panic!("write: {e}"));
    let out = check(&path);
    assert_eq!(out.status.code(), Some(1), "accepted:\n{body}");
    assert!(out.stdout.is_empty());
    String::from_utf8_lossy(&out.stderr).into_owned()
}

#[test]
fn bad_policies_are_refused_with_their_place() {
    let dir = temp_dir();
    let file = dir.path().join("edge.toml").display().to_string();
    let cases = [
        (
            "[[policy.rule]]\nname = \"toll\"\nsource_zone = \"default\"\ndestination = '[09\\d*'\naction = \"reject\"\n",
            format!("{file}:8:15: rule \"toll\": invalid destination pattern"),
        ),
        (
            "[[policy.rule]]\nname = \"dmz\"\nsource_zone = \"dmz\"\ndestination = '.*'\naction = \"reject\"\n",
            format!("{file}:7:15: rule \"dmz\": unknown zone \"dmz\""),
        ),
        (
            "[[policy.rule]]\nname = \"all\"\nsource_zone = \"default\"\ndestination = '.*'\naction = \"reject\"\n\n\
             [[policy.rule]]\nname = \"enterprise\"\nsource_zone = \"default\"\ndestination = '.*@ent-pa\\.com'\naction = \"allow\"\n",
            format!("{file}:11:1: rule \"enterprise\" can never match: rule \"all\" at {file}:5:1 matches everything it would"),
        ),
    ];
    for (body, expected) in cases {
        let stderr = refused(dir.path(), body);
        assert!(stderr.starts_with(&expected), "got {stderr:?}\nwanted {expected:?}");
    }
}

#[test]
fn an_invalid_cpl_script_is_refused_at_its_line() {
    let dir = temp_dir();
    let script = "<?xml version=\"1.0\"?>\n<cpl xmlns=\"urn:ietf:params:xml:ns:cpl\">\n  <incoming>\n    \
                  <address-switch field=\"destination\">\n      <address regex=\"[09\">\n        <reject status=\"403\"/>\n      \
                  </address>\n    </address-switch>\n  </incoming>\n</cpl>\n";
    std::fs::write(dir.path().join("policy.cpl"), script).unwrap_or_else(|e| panic!("write: {e}"));
    let stderr = refused(dir.path(), "[policy]\ncpl = \"policy.cpl\"\n");
    assert!(stderr.starts_with("policy.cpl:5:"), "{stderr}");
    assert!(stderr.contains("[09"), "names the pattern: {stderr}");
    let stderr = refused(dir.path(), "[policy]\ncpl = \"missing.cpl\"\n");
    assert!(stderr.contains("edge.toml:6:7: cannot read CPL script \"missing.cpl\""), "{stderr}");
}

#[test]
fn the_shipped_policies_pass_as_they_are() {
    let dir = temp_dir();
    for example in ["dedicated-edge.toml", "shared-edge.toml"] {
        let policy = std::fs::read_to_string(repo_root().join("examples/policy").join(example)).unwrap_or_else(|e| panic!("{e}"));
        let path = dir.path().join(example);
        std::fs::write(&path, format!("{LISTENER}{policy}")).unwrap_or_else(|e| panic!("write: {e}"));
        let out = check(&path);
        assert_eq!(out.status.code(), Some(0), "{example}: {}", String::from_utf8_lossy(&out.stderr));
    }
    for example in ["dedicated-edge.cpl", "shared-edge.cpl", "business-hours.cpl"] {
        let path = dir.path().join(format!("{example}.toml"));
        let cpl = repo_root().join("examples/policy").join(example);
        std::fs::write(&path, format!("{LISTENER}[policy]\ncpl = \"{}\"\n", cpl.display())).unwrap_or_else(|e| panic!("write: {e}"));
        let out = check(&path);
        assert_eq!(out.status.code(), Some(0), "{example}: {}", String::from_utf8_lossy(&out.stderr));
    }
}
