//! Every load-time refusal names `file:line:col` and the reason.

mod common;

use common::load;

/// Eight lines: the appended text starts on line 9.
const BASE: &str = r#"[callctl]
cluster_fqdns = ["cm.example"]
realm = "cm.example"
[[callctl.partition]]
name = "P"
[[callctl.css]]
name = "C"
partitions = ["P"]
"#;

fn refused(extra: &str) -> String {
    let text = format!("{BASE}{extra}");
    match load(&text) {
        Ok(_) => panic!("accepted:\n{text}"),
        Err(e) => e.to_string(),
    }
}

fn check(extra: &str, expect: &str) {
    assert_eq!(refused(extra), expect, "for:\n{extra}");
}

#[test]
fn base_config_loads() {
    assert!(load(BASE).is_ok());
}

#[test]
fn two_identical_patterns_in_one_partition() {
    check(
        "[[callctl.route_pattern]]\npattern = \"9.1XXX\"\npartition = \"P\"\nzone = \"pstn-gw\"\n\
         [[callctl.route_pattern]]\npattern = \"9.1xxx\"\npartition = \"P\"\nzone = \"webex\"\n",
        "cc.toml:14:11: pattern \"9.1xxx\" is already in partition \"P\" at cc.toml:10:11 (two identical patterns in one partition)",
    );
}

#[test]
fn duplicate_dns_in_a_partition() {
    check(
        "[[callctl.line]]\ndn = \"1001\"\npartition = \"P\"\n[[callctl.line]]\ndn = \"1001\"\npartition = \"P\"\n",
        "cc.toml:13:6: pattern \"1001\" is already in partition \"P\" at cc.toml:10:6 (two identical patterns in one partition)",
    );
    // A DN and a route pattern with the same text collide too; in another partition they do not.
    check(
        "[[callctl.route_pattern]]\npattern = \"\\\\+14085551001\"\npartition = \"P\"\nzone = \"webex\"\n\
         [[callctl.line]]\ndn = \"+14085551001\"\npartition = \"P\"\n",
        "cc.toml:14:6: pattern \"\\+14085551001\" is already in partition \"P\" at cc.toml:10:11 (two identical patterns in one partition)",
    );
    let ok = format!("{BASE}[[callctl.partition]]\nname = \"Q\"\n[[callctl.line]]\ndn = \"1001\"\npartition = \"P\"\n[[callctl.line]]\ndn = \"1001\"\npartition = \"Q\"\n");
    assert!(load(&ok).is_ok());
}

#[test]
fn css_naming_an_unknown_partition() {
    check("[[callctl.css]]\nname = \"D\"\npartitions = [\"P\", \"Nope\"]\n", "cc.toml:11:20: unknown partition \"Nope\"");
}

#[test]
fn remote_destination_with_an_unparseable_uri() {
    let user = "[[callctl.user]]\nuserid = \"bob\"\n[[callctl.user.remote_destination]]\n";
    check(&format!("{user}destination = \"sip:bob@\"\n"), "cc.toml:12:15: destination \"sip:bob@\": unparseable URI: missing host");
    check(&format!("{user}destination = \"mailto:bob@x.example\"\n"), "cc.toml:12:15: destination \"mailto:bob@x.example\": scheme \"mailto\" is not sip, sips or tel");
    check(&format!("{user}destination = \"bob's phone\"\n"), "cc.toml:12:15: destination \"bob's phone\": neither a SIP URI nor a number");
    check(
        "[[callctl.user]]\nuserid = \"bob\"\n[[callctl.user.associated_identity]]\ndestination = \"+14085551002\"\n",
        "cc.toml:12:15: destination \"+14085551002\": an associated identity is a cloud address user@host, not a number",
    );
}

#[test]
fn schedule_with_an_invalid_time_zone() {
    check(
        "[[callctl.user]]\nuserid = \"bob\"\n[[callctl.user.remote_destination]]\ndestination = \"+14155550123\"\n\
         [callctl.user.remote_destination.schedule]\ntime_zone = \"America/Atlantis\"\nring = [{ days = [\"mon\"], from = \"08:00\", to = \"18:00\" }]\n",
        "cc.toml:14:13: schedule: unknown time zone \"America/Atlantis\" (use an IANA name such as America/Los_Angeles)",
    );
    check(
        "[[callctl.user]]\nuserid = \"bob\"\n[[callctl.user.remote_destination]]\ndestination = \"+14155550123\"\n\
         [callctl.user.remote_destination.schedule]\ntime_zone = \"UTC\"\nring = [{ days = [\"mon\"], from = \"18:00\", to = \"08:00\" }]\n",
        "cc.toml:15:9: schedule: window 18:00-08:00 is empty: from must be before to (split a window that crosses midnight in two)",
    );
    check(
        "[[callctl.user]]\nuserid = \"bob\"\n[[callctl.user.remote_destination]]\ndestination = \"+14155550123\"\n\
         [callctl.user.remote_destination.schedule]\ntime_zone = \"UTC\"\nring = [{ days = [\"someday\"], from = \"08:00\", to = \"18:00\" }]\n",
        "cc.toml:15:9: schedule: \"someday\" is not a weekday (mon … sun) or a range such as mon-fri",
    );
}

#[test]
fn pattern_syntax_and_the_at_macro() {
    check(
        "[[callctl.route_pattern]]\npattern = \"9.@\"\npartition = \"P\"\nzone = \"pstn-gw\"\n",
        "cc.toml:10:11: pattern \"9.@\": '@' at position 2: the numbering-plan macro expands to a country dial plan that Causeway does not ship; write the patterns out (e.g. 9.1[2-9]XX[2-9]XXXXXX)",
    );
    check(
        "[[callctl.route_pattern]]\npattern = \"+1XXX\"\npartition = \"P\"\nzone = \"pstn-gw\"\n",
        "cc.toml:10:11: pattern \"+1XXX\": '+' at position 0 has nothing to repeat (it applies to the symbol, X or [set] before it; write \\+ for a literal plus)",
    );
}

#[test]
fn route_pattern_targets_and_transforms() {
    let rp = "[[callctl.route_pattern]]\npattern = \"9.1XXX\"\npartition = \"P\"\n";
    check(&format!("{rp}zone = \"mars\"\n"), "cc.toml:12:8: unknown zone \"mars\"");
    check(&format!("{rp}zone = \"webex\"\nblock = 403\n"), "cc.toml:10:11: a route pattern needs exactly one of zone and block");
    check(&format!("{rp}block = 200\n"), "cc.toml:12:9: block status 200 is not a final error status (400-699)");
    check(&format!("{rp}partition2 = \"x\"\n"), "cc.toml:12:1: unknown field `partition2`, expected one of `pattern`, `partition`, `zone`, `block`, `description`, `discard`, `called_mask`, `called_prefix`, `calling_mask`, `calling_prefix`");
    check(
        "[[callctl.route_pattern]]\npattern = \"91XXX\"\npartition = \"P\"\nzone = \"webex\"\ndiscard = \"predot\"\n",
        "cc.toml:13:11: discard \"predot\": PreDot discard needs a '.' in the pattern",
    );
    check(&format!("{rp}zone = \"webex\"\ndiscard = \"area-code\"\n"), "cc.toml:13:11: discard \"area-code\": must be none, predot, trailing-# or predot-trailing-#");
    check(&format!("{rp}zone = \"webex\"\ncalled_mask = \"1Y\"\n"), "cc.toml:13:15: called_mask \"1Y\": a mask holds digits, *, #, X and a leading +");
    check(&format!("{rp}zone = \"webex\"\ncalling_prefix = \"0+\"\n"), "cc.toml:13:18: calling_prefix \"0+\": prefix digits are digits, * and #, with an optional leading +");
    check(&format!("{rp}zone = \"webex\"\npartition = \"Q\"\n"), "cc.toml:13:1: duplicate key `partition` in table `callctl.route_pattern`");
}

#[test]
fn unknown_references() {
    check("[[callctl.route_pattern]]\npattern = \"1X\"\npartition = \"Q\"\nzone = \"webex\"\n", "cc.toml:11:13: unknown partition \"Q\"");
    check("[[callctl.translation]]\npattern = \"1X\"\npartition = \"P\"\ncss = \"Z\"\n", "cc.toml:12:7: unknown css \"Z\"");
    check("[[callctl.line]]\ndn = \"100\"\npartition = \"P\"\nuser = \"ghost\"\n", "cc.toml:12:8: unknown user \"ghost\"");
    check("[[callctl.device]]\nname = \"d\"\nlines = [\"200\"]\n", "cc.toml:11:10: unknown line \"200\"");
    check("[[callctl.trunk]]\nzone = \"mars\"\n", "cc.toml:10:8: unknown zone \"mars\"");
    check("[callctl.loop_avoidance]\nzones = [\"cloud\"]\n", "cc.toml:10:10: unknown zone \"cloud\"");
}

#[test]
fn duplicates_are_named_with_both_places() {
    check("[[callctl.partition]]\nname = \"P\"\n", "cc.toml:10:8: partition \"P\" is already defined at cc.toml:5:8");
    check(
        "[[callctl.user]]\nuserid = \"bob\"\n[[callctl.user]]\nuserid = \"bob\"\n",
        "cc.toml:12:10: user \"bob\" is already defined at cc.toml:10:10",
    );
    check(
        "[[callctl.user]]\nuserid = \"a\"\n[[callctl.user.associated_identity]]\ndestination = \"bob@x.call.webex.com\"\n\
         [[callctl.user]]\nuserid = \"b\"\n[[callctl.user.associated_identity]]\ndestination = \"sip:BOB@x.call.webex.com\"\n",
        "cc.toml:16:15: associated identity \"bob@x.call.webex.com\" is already defined at cc.toml:12:15",
    );
    check(
        "[[callctl.device]]\nname = \"d\"\nlines = []\n[[callctl.device]]\nname = \"d\"\nlines = []\n",
        "cc.toml:13:8: device \"d\" is already defined at cc.toml:10:8",
    );
}

#[test]
fn timers_are_range_checked() {
    let rd = "[[callctl.user]]\nuserid = \"bob\"\n[[callctl.user.remote_destination]]\ndestination = \"+14155550123\"\n";
    check(&format!("{rd}delay_before_ringing_ms = 30001\n"), "cc.toml:13:27: delay_before_ringing_ms = 30001 ms is out of range (0-30000 ms)");
    check(&format!("{rd}answer_too_soon_ms = 5000\nanswer_too_late_ms = 4000\n"), "cc.toml:14:22: answer_too_soon_ms (5000) must be below answer_too_late_ms (4000)");
    check(
        "[[callctl.line]]\ndn = \"100\"\npartition = \"P\"\nforward_no_answer = { destination = \"8000\", after_ms = 0 }\n",
        "cc.toml:12:56: after_ms = 0 ms is out of range (1-300000 ms)",
    );
    check(
        "[[callctl.line]]\ndn = \"100\"\npartition = \"P\"\nforward_busy = { destination = \"8000\", after_ms = 5 }\n",
        "cc.toml:12:51: forward_busy.after_ms \"5\": a busy forward happens at once; after_ms applies to forward_no_answer",
    );
}

#[test]
fn credentials_and_lines_on_devices() {
    check(
        "[[callctl.line]]\ndn = \"100\"\npartition = \"P\"\n[[callctl.device]]\nname = \"d\"\nlines = [\"100\"]\ncredentials = { username = \"d\", ha1_md5 = \"abc\" }\n",
        "cc.toml:15:43: MD5 HA1 must be 32 hex digits",
    );
    check(
        "[[callctl.device]]\nname = \"d\"\nlines = []\ncredentials = { username = \"d\" }\n",
        "cc.toml:12:15: credentials need ha1_md5 or ha1_sha256",
    );
    let no_realm = "[callctl]\ncluster_fqdns = []\n[[callctl.device]]\nname = \"d\"\nlines = []\ncredentials = { username = \"d\", ha1_md5 = \"939e7578ed9e3c518a452acee763bce9\" }\n";
    assert_eq!(load(no_realm).err().map(|e| e.to_string()).as_deref(), Some("cc.toml:6:15: device credentials need callctl.realm (the HA1 is bound to a realm)"));
    check(
        "[[callctl.partition]]\nname = \"Q\"\n[[callctl.line]]\ndn = \"100\"\npartition = \"P\"\n[[callctl.line]]\ndn = \"100\"\npartition = \"Q\"\n\
         [[callctl.device]]\nname = \"d\"\nlines = [\"100\"]\n",
        "cc.toml:19:10: DN \"100\" exists in several partitions; write \"100 in <partition>\"",
    );
}

#[test]
fn trunks_markers_fields() {
    check("[[callctl.trunk]]\nzone = \"webex\"\ntrusted_identity = \"trust-all\"\n", "cc.toml:11:20: trusted_identity \"trust-all\": must be \"pai-only\" or \"from-or-pai\"");
    check("[callctl.loop_avoidance]\nmarker = \"call type\"\nzones = []\n", "cc.toml:10:10: marker \"call type\": must be a Contact parameter, name or name=value");
    check("[[callctl.user]]\nuserid = \"bob\"\ne164 = \"14085551002\"\n", "cc.toml:11:8: e164 \"14085551002\": is not an E.164 number (+ and 1-15 digits)");
    check("[[callctl.user]]\nuserid = \"bob\"\ndirectory_uri = \"bob\"\n", "cc.toml:11:17: directory_uri \"bob\": is not user@host");
    check("[[callctl.line]]\ndn = \"10a\"\npartition = \"P\"\n", "cc.toml:10:6: dn \"10a\" is not a number (digits, * and #, with an optional leading +)");
    let bad_host = "[callctl]\ncluster_fqdns = [\"cm .example\"]\n";
    assert_eq!(load(bad_host).err().map(|e| e.to_string()).as_deref(), Some("cc.toml:2:18: cluster_fqdns \"cm .example\": is not a host name"));
}
