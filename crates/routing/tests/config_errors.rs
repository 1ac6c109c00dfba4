//! Every load error of the routing sections, with the line and column it points at
//! (`file:line:col: reason`, as `causeway check` prints it).

mod common;

use common::errors;

/// `config` must fail to load with exactly `expected`, in order.
fn refused(config: &str, expected: &[&str]) {
    assert_eq!(errors(config), expected, "\n{config}");
}

const ZONE_A: &str = "[[zone]]\nname = \"a\"\nkind = \"dns\"\n";

#[test]
fn toml_shape_errors_point_at_the_key() {
    refused("[[zone]]\nname = \"a\"\nkind = \"neighbor\"\naddres = \"x\"\n", &[
        "test.toml:4:1: unknown field `addres`, expected one of `name`, `kind`, `peer`, `keepalive`, `authentication`, `tls_verify_subject`, `honor_route_header`, `sip_profile`, `search_domain`, `transport`, `include_address_record`, `hop_count`, `loop_contact_params`, `listeners`, `local_fqdn`, `role`",
    ]);
    refused("[[search_rule]]\nname = \"r\"\ntarget = \"a\"\non_mach = \"stop\"\n", &[
        "test.toml:4:1: unknown field `on_mach`, expected one of `name`, `description`, `priority`, `source`, `request_must_be_authenticated`, `mode`, `pattern_type`, `pattern`, `behaviour`, `replace`, `on_match`, `target`, `enabled`, `allow_source_zone`",
    ]);
    let kind = errors("[[zone]]\nname = \"a\"\nkind = \"neighbour\"\n");
    assert_eq!(kind.len(), 1);
    assert!(kind[0].starts_with("test.toml:3:8: unknown variant `neighbour`, expected one of"), "{kind:?}");
}

#[test]
fn zone_names() {
    refused("[[zone]]\nname = \"cucm us\"\nkind = \"dns\"\n", &["test.toml:2:8: a zone name must be non-empty printable text without spaces"]);
    refused("[[zone]]\nname = \"any\"\nkind = \"dns\"\n", &[
        "test.toml:2:8: `any` is reserved (a search rule source keyword); choose another zone name",
    ]);
    refused(&format!("{ZONE_A}{ZONE_A}"), &["test.toml:5:8: zone `a` is already defined"]);
    refused("[[zone]]\nname = \"d1\"\nkind = \"default\"\n[[zone]]\nname = \"d2\"\nkind = \"default\"\n", &[
        "test.toml:6:8: only one zone may be of kind `default`",
    ]);
}

#[test]
fn keys_that_do_not_fit_the_zone_kind() {
    refused("[[zone]]\nname = \"a\"\nkind = \"neighbor\"\nsearch_domain = \"x.com\"\n[[zone.peer]]\naddress = \"10.0.0.1\"\n", &[
        "test.toml:4:17: `search_domain` does not apply to a neighbor zone",
    ]);
    refused("[[zone]]\nname = \"a\"\nkind = \"dns\"\nrole = \"server\"\n[[zone.peer]]\naddress = \"10.0.0.1\"\n", &[
        "test.toml:4:8: `role` does not apply to a dns zone",
        "test.toml:5:1: `peer` does not apply to a dns zone",
    ]);
    refused("[[zone]]\nname = \"d\"\nkind = \"default\"\ntls_verify_subject = [\"x.example.com\"]\n", &[
        "test.toml:4:23: `tls_verify_subject` does not apply to a default zone",
    ]);
    refused("[[zone]]\nname = \"a\"\nkind = \"neighbor\"\n", &["test.toml:3:8: a neighbor zone needs `[[zone.peer]]`"]);
    refused("[[zone]]\nname = \"t\"\nkind = \"trunk\"\n[[zone.peer]]\naddress = \"sip.pstnhub.microsoft.com:5061\"\n", &[
        "test.toml:3:8: a trunk zone needs `local_fqdn`",
    ]);
    refused("[[zone]]\nname = \"x\"\nkind = \"traversal\"\n", &["test.toml:3:8: a traversal zone needs `role`"]);
}

#[test]
fn peers() {
    let seven: Vec<String> = (1..=7).map(|i| format!("{{ address = \"10.0.0.{i}\" }}")).collect();
    refused(&format!("[[zone]]\nname = \"a\"\nkind = \"neighbor\"\npeer = [{}]\n", seven.join(", ")), &[
        "test.toml:4:165: a zone has at most 6 peers",
    ]);
    refused(
        "[[zone]]\nname = \"a\"\nkind = \"neighbor\"\n[[zone.peer]]\naddress = \"sip:10.0.0.1;transport=tcp\"\n[[zone.peer]]\naddress = \"10.0.0.2:5061\"\n[[zone.peer]]\naddress = \"10.0.0.2\"\n",
        &[
            "test.toml:5:11: peer address `sip:10.0.0.1;transport=tcp` is not host[:port] (e.g. 10.0.0.1:5061, cucm.example.com, [2001:db8::1]:5060)",
            "test.toml:9:11: peer `10.0.0.2` is already listed in this zone",
        ],
    );
    refused("[[zone]]\nname = \"a\"\nkind = \"neighbor\"\n[[zone.peer]]\naddress = \"10.0.0.1\"\npriority = 70000\n", &[
        "test.toml:6:12: `priority` must be 0-65535 (got 70000)",
    ]);
}

#[test]
fn numbers_and_names_in_range() {
    refused("[[zone]]\nname = \"a\"\nkind = \"dns\"\nhop_count = 0\n", &["test.toml:4:13: `hop_count` must be 1-255 (got 0)"]);
    refused(
        "[[zone]]\nname = \"a\"\nkind = \"neighbor\"\nkeepalive = { interval_secs = 10, timeout_secs = 30 }\n[[zone.peer]]\naddress = \"10.0.0.1\"\n",
        &["test.toml:4:50: `timeout_secs` must be 1-10 (got 30)"],
    );
    refused("[[zone]]\nname = \"a\"\nkind = \"dns\"\nsearch_domain = \"10.0.0.1\"\n", &[
        "test.toml:4:17: `search_domain` must be a host name (got `10.0.0.1`)",
    ]);
    refused(
        "[[zone]]\nname = \"t\"\nkind = \"trunk\"\nlocal_fqdn = \"192.0.2.1\"\n[[zone.peer]]\naddress = \"sip.pstnhub.microsoft.com\"\n",
        &["test.toml:4:14: `local_fqdn` must be a host name (got `192.0.2.1`)"],
    );
}

#[test]
fn tls_verify_subject_wildcard_misuse() {
    refused("[[zone]]\nname = \"a\"\nkind = \"dns\"\ntls_verify_subject = [\"ok.example.com\", \"*.com\"]\n", &[
        "test.toml:4:41: tls_verify_subject `*.com`: a wildcard needs at least two labels after it (`*.example.com`, not `*.com`)",
    ]);
    refused("[[zone]]\nname = \"a\"\nkind = \"dns\"\ntls_verify_subject = [\"call*.webex.com\"]\n", &[
        "test.toml:4:23: tls_verify_subject `call*.webex.com`: a wildcard must be a whole label of its own: write `*.example.com`",
    ]);
    refused("[[zone]]\nname = \"a\"\nkind = \"dns\"\ntls_verify_subject = [\"www.*.webex.com\"]\n", &[
        "test.toml:4:23: tls_verify_subject `www.*.webex.com`: a wildcard is only allowed as the leftmost label",
    ]);
}

#[test]
fn loop_params_listeners_and_profiles() {
    refused("[[zone]]\nname = \"a\"\nkind = \"dns\"\nloop_contact_params = [\"call-type=squared\", \"bad param\"]\n", &[
        "test.toml:4:45: loop_contact_params entry `bad param` must be `name` or `name=value` (e.g. call-type=squared)",
    ]);
    refused(
        "[[zone]]\nname = \"a\"\nkind = \"dns\"\nlisteners = [\"10.0.0.1:5062\", \"nonsense\"]\n[[zone]]\nname = \"b\"\nkind = \"dns\"\nlisteners = [\"10.0.0.1:5062\"]\n",
        &["test.toml:4:31: listener `nonsense` is not ip:port", "test.toml:8:14: listener 10.0.0.1:5062 already belongs to another zone"],
    );
    refused(
        "[[zone]]\nname = \"a\"\nkind = \"dns\"\nsip_profile = { strip_headers = [\"Via\", \"X Bad\", \"History-Info\"], pass_headers = [\"History-Info\"] }\n",
        &[
            "test.toml:4:34: `Via` cannot be stripped: a forwarded request needs it (RFC 3261 §16.6)",
            "test.toml:4:41: `X Bad` is not a header name",
            "test.toml:4:83: `History-Info` is both in strip_headers and pass_headers",
        ],
    );
}

#[test]
fn transforms() {
    let t = |pattern_type: &str, pattern: &str, rest: &str| {
        format!("[[transform]]\npriority = 1\npattern_type = \"{pattern_type}\"\npattern = '{pattern}'\n{rest}")
    };
    refused(&t("regex", r"(9\d+", "behaviour = \"strip\"\n"), &["test.toml:4:11: invalid regex: unclosed group"]);
    refused(&t("regex", r"9\d+", "behaviour = \"strip\"\n"), &["test.toml:5:13: `strip` needs a prefix or suffix pattern, not regex"]);
    refused(&t("regex", r"(9\d+)@x", "behaviour = \"replace\"\nreplace = '\\2'\n"), &[
        "test.toml:6:11: the replacement uses \\2 but the pattern has 1 capture group(s)",
    ]);
    refused(&t("prefix", "9", "behaviour = \"replace\"\ntext = \"x\"\n"), &[
        "test.toml:5:13: `replace` is required with behaviour = \"replace\"",
        "test.toml:6:8: `text` has no effect with behaviour = \"replace\"; remove it",
    ]);
    refused(&t("exact", "", "behaviour = \"add-prefix\"\ntext = \"+\"\n"), &["test.toml:4:11: the pattern is empty"]);
    let two = format!("{}{}", t("prefix", "9", "behaviour = \"strip\"\n"), t("prefix", "8", "behaviour = \"strip\"\n"));
    refused(&two, &["test.toml:7:12: transform priority 1 is already used by another transform"]);
    refused(&t("prefix", "9", "behaviour = \"strip\"\n").replace("priority = 1", "priority = 65535"), &[
        "test.toml:2:12: `priority` must be 1-65534 (got 65535)",
    ]);
    let many: String = (1..=101).map(|p| t("prefix", "9", "behaviour = \"strip\"\n").replace("priority = 1\n", &format!("priority = {p}\n"))).collect();
    let e = errors(&many);
    assert_eq!(e.len(), 1);
    assert!(e[0].ends_with(": at most 100 transforms are allowed") && e[0].starts_with("test.toml:501:1"), "{e:?}");
}

#[test]
fn search_rules() {
    refused(
        &format!(
            "{ZONE_A}[[search_rule]]\nname = \"r\"\ntarget = \"a\"\nmode = \"any-alias\"\npattern = \"x\"\n[[search_rule]]\nname = \"r\"\ntarget = \"b\"\nsource = \"c\"\npattern_type = \"prefix\"\npattern = \"9\"\n"
        ),
        &[
            "test.toml:8:11: `pattern` has no effect with mode = \"any-alias\"; remove it",
            "test.toml:10:8: search rule `r` is already defined",
            "test.toml:11:10: unknown zone `b`",
            "test.toml:12:10: unknown zone `c`",
        ],
    );
    refused(&format!("{ZONE_A}[[search_rule]]\nname = \"r\"\ntarget = \"a\"\npattern_type = \"regex\"\n"), &[
        "test.toml:5:8: `pattern` is required with mode = \"alias-pattern-match\"",
    ]);
    refused(&format!("{ZONE_A}[[search_rule]]\nname = \"r\"\ntarget = \"a\"\npattern_type = \"regex\"\npattern = \"[\"\n"), &[
        "test.toml:8:11: invalid regex: unclosed character class",
    ]);
    refused(&format!("{ZONE_A}[[search_rule]]\nname = \"r\"\ntarget = \"a\"\npattern_type = \"prefix\"\npattern = \"9\"\nbehaviour = \"replace\"\n"), &[
        "test.toml:9:13: `replace` is required with behaviour = \"replace\"",
    ]);
    refused(
        "[[zone]]\nname = \"default\"\nkind = \"default\"\n[[zone]]\nname = \"a\"\nkind = \"dns\"\n[[search_rule]]\nname = \"r\"\nmode = \"any-alias\"\ntarget = \"default\"\n[[search_rule]]\nname = \"s\"\nsource = \"a\"\nmode = \"any-alias\"\ntarget = \"a\"\n",
        &[
            "test.toml:10:10: the default zone `default` cannot be a search target: it has no peers",
            "test.toml:15:10: rule `s` only sees requests from zone `a` and targets it: loop prevention skips it every time (set allow_source_zone = true if that is meant)",
        ],
    );
}

#[test]
fn a_rule_behind_a_catch_all_stop_rule_is_refused() {
    let zones = "[[zone]]\nname = \"a\"\nkind = \"dns\"\n[[zone]]\nname = \"b\"\nkind = \"dns\"\n";
    let catch_all = "[[search_rule]]\nname = \"catch-all\"\npriority = 10\npattern_type = \"regex\"\npattern = \".*\"\non_match = \"stop\"\ntarget = \"a\"\n";
    let later = "[[search_rule]]\nname = \"never\"\npriority = 20\nsource = \"b\"\npattern_type = \"prefix\"\npattern = \"9\"\ntarget = \"a\"\n";
    refused(&format!("{zones}{catch_all}{later}"), &[
        "test.toml:15:8: rule `never` can never match: rule `catch-all` (priority 10) matches every request it would see and stops the search",
    ]);
    // Not shadowed: same priority (parallel), continue, a real pattern, a narrower source on the
    // catch-all, a disabled catch-all, or a later rule that sees requests loop prevention keeps
    // away from the catch-all's target.
    for (what, edited) in [
        ("same priority", catch_all.replace("priority = 10", "priority = 20")),
        ("continue", catch_all.replace("\"stop\"", "\"continue\"")),
        ("pattern", catch_all.replace("\".*\"", "\"9.*\"")),
        ("source", catch_all.replace("priority = 10\n", "priority = 10\nsource = \"default\"\n")),
        ("auth", catch_all.replace("priority = 10\n", "priority = 10\nrequest_must_be_authenticated = true\n")),
        ("disabled", catch_all.replace("priority = 10\n", "priority = 10\nenabled = false\n")),
    ] {
        assert!(common::load_ok(&format!("{zones}{edited}{later}")), "{what}");
    }
    let from_any = later.replace("source = \"b\"\n", "");
    assert!(common::load_ok(&format!("{zones}{catch_all}{from_any}")), "requests from zone a skip the catch-all");
    let any_alias = "[[search_rule]]\nname = \"catch-all\"\npriority = 10\nmode = \"any-alias\"\non_match = \"stop\"\ntarget = \"a\"\n";
    // `any-alias` leaves IP addresses alone, so it shadows only another `any-alias` rule.
    assert!(common::load_ok(&format!("{zones}{any_alias}{later}")));
    let later_any = later.replace("pattern_type = \"prefix\"\npattern = \"9\"\n", "mode = \"any-alias\"\n");
    assert_eq!(errors(&format!("{zones}{any_alias}{later_any}")), [
        "test.toml:14:8: rule `never` can never match: rule `catch-all` (priority 10) matches every request it would see and stops the search",
    ]);
}
