//! CPL outputs decide the live call (issue 4, RFC 3880 §6), over SIPp against the running binary: the edge's
//! script redirects `moved@ent-pa.com` (the SIPp UAC sees 302 with the new address as Contact) and proxies
//! `team@ent-pa.com` to the location `sip:carol@vm.ent-pa.com`, which the search rules route to the voicemail
//! zone: the SIPp UAS there receives the call with that Request-URI, while the PBX, where the destination
//! itself would have gone, receives nothing. `causeway locate` shows the same two decisions. A `proxy` node's
//! output decides too: `carol@ent-pa.com` is proxied to her desk at the PBX, whose SIPp UAS answers 486, and
//! the script goes on at `<busy>` to voicemail, whose SIPp UAS answers the call the UAC placed.

mod support;

use std::path::Path;
use std::process::Command;
use std::time::Duration;

use support::edge::Edge;
use support::sipp::{Sipp, SippTransport};
use support::{causeway_bin, free_port, temp_dir};

const LIMIT: Duration = Duration::from_secs(30);

const SCRIPT: &str = r#"<cpl xmlns="urn:ietf:params:xml:ns:cpl">
<incoming>
<address-switch field="destination" subfield="user">
  <address is="moved">
    <location url="sip:moved@elsewhere.example"><redirect/></location>
  </address>
  <address is="team">
    <location url="sip:carol@vm.ent-pa.com"><proxy ordering="sequential"/></location>
  </address>
  <address is="carol">
    <location url="sip:carol@ent-pa.com">
      <proxy>
        <busy><location url="sip:carol@vm.ent-pa.com"><proxy/></location></busy>
      </proxy>
    </location>
  </address>
</address-switch>
</incoming>
</cpl>
"#;

fn sections(pbx_port: u16, vm_port: u16) -> String {
    format!(
        "[[zone]]\nname = \"default\"\nkind = \"default\"\nauthentication = \"do-not-check\"\n\n\
         [[zone]]\nname = \"pbx\"\nkind = \"neighbor\"\nkeepalive = {{ enabled = false }}\n\
         [[zone.peer]]\naddress = \"127.0.0.1:{pbx_port}\"\ntransport = \"udp\"\n\n\
         [[zone]]\nname = \"voicemail\"\nkind = \"neighbor\"\nkeepalive = {{ enabled = false }}\n\
         [[zone.peer]]\naddress = \"127.0.0.1:{vm_port}\"\ntransport = \"udp\"\n\n\
         [[search_rule]]\nname = \"voicemail\"\npriority = 10\npattern_type = \"suffix\"\npattern = \"@vm.ent-pa.com\"\n\
         on_match = \"stop\"\ntarget = \"voicemail\"\n\n\
         [[search_rule]]\nname = \"enterprise\"\npriority = 20\npattern_type = \"suffix\"\npattern = \"@ent-pa.com\"\n\
         on_match = \"stop\"\ntarget = \"pbx\"\n\n\
         [policy]\ncpl = \"edge.cpl\"\n"
    )
}

fn dial(dir: &Path, scenario: &str, to: &str, edge: &Edge) -> support::sipp::Outcome {
    let name = format!("uac-{}", to.split('@').next().unwrap_or("x"));
    Sipp::new(&name, dir, scenario, SippTransport::Udp, free_port(), 1, LIMIT)
        .on(std::net::Ipv4Addr::new(127, 0, 0, 2))
        .arg("-key")
        .arg("to")
        .arg(to)
        .arg("-key")
        .arg("from")
        .arg("partner@partner.example")
        .run_uac(edge.addr(), LIMIT)
}

#[test]
fn a_cpl_script_redirects_one_destination_and_proxies_another_to_its_location() {
    let dir = temp_dir();
    std::fs::write(dir.path().join("edge.cpl"), SCRIPT).unwrap_or_else(|e| panic!("write script: {e}"));
    let (pbx_port, vm_port) = (free_port(), free_port());
    let mut pbx = Sipp::new("pbx", dir.path(), "uas-answer.xml", SippTransport::Udp, pbx_port, 1, LIMIT).spawn_uas();
    let mut voicemail = Sipp::new("voicemail", dir.path(), "uas-answer.xml", SippTransport::Udp, vm_port, 1, LIMIT).spawn_uas();
    let edge = Edge::start(dir.path(), &sections(pbx_port, vm_port));

    // RFC 3880 §6.2: 302 with the location set as Contact (the scenario checks the Contact).
    dial(dir.path(), "security/uac-redirected.xml", "moved@ent-pa.com", &edge).assert_all_succeeded(1);
    // RFC 3880 §6.1: the call goes to the location, not to the destination.
    dial(dir.path(), "uac-dial.xml", "team@ent-pa.com", &edge).assert_all_succeeded(1);

    let voicemail = voicemail.finish(Duration::from_secs(10));
    assert_eq!(voicemail.counter("SuccessfulCall(C)"), 1, "the location's UAS answered the call\n{}", voicemail.report);
    let received = std::fs::read_to_string(dir.path().join("voicemail/messages.log")).unwrap_or_default();
    assert!(received.contains("INVITE sip:carol@vm.ent-pa.com SIP/2.0"), "the location is the Request-URI:\n{received}");
    assert_eq!(pbx.finish(Duration::from_secs(2)).counter("IncomingCall(C)"), 0, "the destination's own zone received nothing");
    let report = edge.stop();
    assert_eq!(report.count("responses_sent", "302"), 1, "{}", report.text);
    let audit = report.audit();
    assert!(audit.len() == 1 && audit.iter().all(|l| l.contains("Event=\"Call Redirected\"")), "the redirect is audited once: {audit:#?}");

    // `causeway locate` makes the same decisions.
    let config = dir.path().join("edge.toml");
    let locate = |to: &str| locate(&config, to);
    let moved = locate("sip:moved@ent-pa.com");
    assert!(moved.contains("call policy: redirect 302 Moved Temporarily with Contact: <sip:moved@elsewhere.example>"), "{moved}");
    assert!(moved.ends_with("the proxy answers 302 Moved Temporarily\n"), "{moved}");
    let team = locate("sip:team@ent-pa.com");
    let verdict = "call policy: proxy (sequential) to sip:carol@vm.ent-pa.com; no timeout, follows 3xx; \
                   outputs: none (the best response goes upstream) by CPL <proxy> at line 8";
    assert!(team.contains(verdict), "{team}");
    let sends = format!("  group 0: UDP 127.0.0.1:{vm_port}; Request-URI sip:carol@vm.ent-pa.com");
    assert!(team.contains(&sends), "{team}");
}

/// `causeway locate` over `config` for a call from the partner to `to`: its whole output.
fn locate(config: &Path, to: &str) -> String {
    let out = Command::new(causeway_bin())
        .args(["locate", "-c"])
        .arg(config)
        .args(["--from", "sip:partner@partner.example", "--to", to])
        .output()
        .unwrap_or_else(|e| panic!("causeway locate: {e}"));
    format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr))
}

#[test]
fn a_busy_callee_sends_the_call_on_to_the_voicemail_the_script_names_on_busy() {
    let dir = temp_dir();
    std::fs::write(dir.path().join("edge.cpl"), SCRIPT).unwrap_or_else(|e| panic!("write script: {e}"));
    let (pbx_port, vm_port) = (free_port(), free_port());
    let mut desk = Sipp::new("desk", dir.path(), "uas-busy.xml", SippTransport::Udp, pbx_port, 1, LIMIT).spawn_uas();
    let mut voicemail = Sipp::new("voicemail", dir.path(), "uas-answer.xml", SippTransport::Udp, vm_port, 1, LIMIT).spawn_uas();
    let edge = Edge::start(dir.path(), &sections(pbx_port, vm_port));

    // RFC 3880 §6.1: the desk's 486 is the attempt's "busy"; the script resumes at <busy>.
    dial(dir.path(), "uac-dial.xml", "carol@ent-pa.com", &edge).assert_all_succeeded(1);

    let desk = desk.finish(Duration::from_secs(10));
    assert_eq!(desk.counter("IncomingCall(C)"), 1, "the desk was called first and answered busy\n{}", desk.report);
    let at_desk = std::fs::read_to_string(dir.path().join("desk/messages.log")).unwrap_or_default();
    assert!(at_desk.contains("INVITE sip:carol@ent-pa.com SIP/2.0"), "{at_desk}");
    let voicemail = voicemail.finish(Duration::from_secs(10));
    assert_eq!(voicemail.counter("SuccessfulCall(C)"), 1, "voicemail answered the call\n{}", voicemail.report);
    let at_voicemail = std::fs::read_to_string(dir.path().join("voicemail/messages.log")).unwrap_or_default();
    assert!(at_voicemail.contains("INVITE sip:carol@vm.ent-pa.com SIP/2.0"), "the busy output's location:\n{at_voicemail}");
    let report = edge.stop();
    assert_eq!(report.count("responses_sent", "486"), 0, "the caller never heard the 486\n{}", report.text);

    // `causeway locate` cannot know the outcome: it lists the outputs.
    let carol = locate(&dir.path().join("edge.toml"), "sip:carol@ent-pa.com");
    assert!(carol.contains("proxy (parallel) to sip:carol@ent-pa.com; no timeout, follows 3xx; outputs: busy by CPL <proxy>"), "{carol}");
}
