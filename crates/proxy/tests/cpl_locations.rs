//! CPL outputs decide the live call (RFC 3880 §6): a script that adds locations and proxies
//! sends the request to them — each routed by the search rules, the location as Request-URI —
//! instead of to the destination; `ordering` forks (parallel), chains (sequential) or keeps the
//! first; `redirect` answers 302/301 with the locations as Contacts. `causeway locate`'s dry run
//! reaches the same targets.

mod harness;

use std::net::SocketAddr;
use std::sync::Arc;

use causeway_policy::{PolicySet, SourceText};
use causeway_proxy::edge::{DryRun, EdgeRouter};
use causeway_proxy::RequestCtx;
use causeway_routing::RoutingTable;
use causeway_sip::uri::Uri;
use causeway_sip::{HeaderName, Message, Method, Transport};
use harness::gate::*;
use harness::*;

/// Bob (192.0.2.20) serves the enterprise, Bob2 (192.0.2.21:5070) the voicemail domain.
const TABLE: &str = r#"
[[zone]]
name = "default"
kind = "default"
authentication = "do-not-check"

[[zone]]
name = "pbx"
kind = "neighbor"
keepalive = { enabled = false }
[[zone.peer]]
address = "192.0.2.20:5060"
transport = "udp"

[[zone]]
name = "voicemail"
kind = "neighbor"
keepalive = { enabled = false }
[[zone.peer]]
address = "192.0.2.21:5070"
transport = "udp"

[[search_rule]]
name = "voicemail"
priority = 10
pattern_type = "suffix"
pattern = "@vm.ent-pa.com"
on_match = "stop"
target = "voicemail"

[[search_rule]]
name = "enterprise"
priority = 20
pattern_type = "suffix"
pattern = "@ent-pa.com"
on_match = "stop"
target = "pbx"
"#;

/// `moved@` is redirected to its new address; `team@` is proxied to voicemail and to Carol with
/// the `proxy` node's `ordering`; `lost@` is proxied to a location no search rule routes;
/// `carol@` goes to voicemail when busy or after 8 s without an answer, and any other failure is
/// refused 403; `dave@` follows redirects (`recurse` defaults to yes), `erin@`'s are redirected
/// upstream; `frank@` is tried at his desk, then voicemail; everyone else is routed as usual.
fn script(ordering: &str) -> String {
    format!(
        r#"<cpl xmlns="urn:ietf:params:xml:ns:cpl">
<incoming>
<address-switch field="destination" subfield="user">
  <address is="moved">
    <location url="sip:moved@elsewhere.example"><redirect/></location>
  </address>
  <address is="moved-for-good">
    <location url="sip:gone@elsewhere.example"><redirect permanent="yes"/></location>
  </address>
  <address is="team">
    <location url="sip:team@vm.ent-pa.com" priority="0.5">
      <location url="sip:carol@ent-pa.com" priority="0.9"><proxy{ordering}/></location>
    </location>
  </address>
  <address is="lost">
    <location url="sip:lost@nowhere.example"><proxy/></location>
  </address>
  <address is="carol">
    <location url="sip:carol@ent-pa.com">
      <proxy timeout="8">
        <busy><location url="sip:carol@vm.ent-pa.com"><proxy/></location></busy>
        <noanswer><location url="sip:carol@vm.ent-pa.com"><proxy/></location></noanswer>
        <failure><reject status="403" reason="Not Reachable Now"/></failure>
      </proxy>
    </location>
  </address>
  <address is="dave">
    <location url="sip:dave@ent-pa.com"><proxy/></location>
  </address>
  <address is="erin">
    <location url="sip:erin@ent-pa.com"><proxy recurse="no"><redirection><redirect/></redirection></proxy></location>
  </address>
  <address is="frank">
    <location url="sip:frank@ent-pa.com" priority="0.9">
      <location url="sip:frank@vm.ent-pa.com" priority="0.5"><proxy ordering="sequential"/></location>
    </location>
  </address>
</address-switch>
</incoming>
</cpl>
"#
    )
}

fn table() -> Arc<RoutingTable> {
    Arc::new(causeway_routing::config::load(TABLE).unwrap_or_else(|e| panic!("{e:?}")))
}

fn policy(ordering: &str) -> Arc<PolicySet> {
    let set = PolicySet::from_cpl(SourceText::new("edge.cpl", &script(ordering)), &["default", "pbx", "voicemail"]);
    Arc::new(set.unwrap_or_else(|e| panic!("{e}")))
}

fn edge(ordering: &str) -> Sim<EdgeRouter> {
    let table = table();
    Sim::with(config(), EdgeRouter::new(Arc::clone(&table))).with_security(security(table, policy(ordering), generous()), EPOCH)
}

/// The INVITEs sent on (the ACK for a failed branch left aside): destination and Request-URI.
fn forwarded(sim: &mut Sim<EdgeRouter>) -> Vec<(SocketAddr, String)> {
    let sent = sim.take_msgs();
    sent.into_iter().filter(|(_, m)| m.method() == Some(&Method::Invite)).map(|(to, m)| (to, m.request_uri_str().unwrap_or_default().to_owned())).collect()
}

fn call(sim: &mut Sim<EdgeRouter>, to: &str, call_id: &str) {
    sim.udp(MALLORY, &crlf(&internet_invite(to, call_id, "sip:mallory@partner.example", "")));
}

#[test]
fn rfc3880_6_1_a_location_set_replaces_the_destination_and_forks_in_parallel() {
    let mut sim = edge("");
    call(&mut sim, "sip:team@ent-pa.com", "par");
    let mut sent = forwarded(&mut sim);
    sent.sort();
    assert_eq!(
        sent,
        [(BOB, "sip:carol@ent-pa.com".to_owned()), (BOB2, "sip:team@vm.ent-pa.com".to_owned())],
        "both locations at once, each with its own Request-URI; the destination (team@ent-pa.com at the PBX) is not called"
    );
    // Without a location set the search rules route the destination itself.
    call(&mut sim, "sip:dave@ent-pa.com", "plain");
    assert_eq!(forwarded(&mut sim), [(BOB, "sip:dave@ent-pa.com".to_owned())]);
}

#[test]
fn rfc3880_6_1_sequential_tries_the_next_location_when_the_first_fails() {
    let mut sim = edge(" ordering=\"sequential\"");
    call(&mut sim, "sip:team@ent-pa.com", "seq");
    let sent = sim.take_msgs();
    let first: Vec<_> = sent.iter().filter(|(_, m)| m.method().is_some()).collect();
    assert_eq!(first.len(), 1, "one location at a time");
    let (to, invite) = (first[0].0, first[0].1.clone());
    assert_eq!((to, invite.request_uri_str()), (BOB, Some("sip:carol@ent-pa.com")), "highest priority first");
    // Carol's PBX does not know her (404): the next location is tried.
    sim.udp(BOB, &crlf(&respond(&invite, 404, "Not Found", "c1", "")));
    assert_eq!(forwarded(&mut sim), [(BOB2, "sip:team@vm.ent-pa.com".to_owned())]);
}

#[test]
fn rfc3880_6_1_first_only_tries_only_the_highest_priority_location() {
    let mut sim = edge(" ordering=\"first-only\"");
    call(&mut sim, "sip:team@ent-pa.com", "first");
    assert_eq!(forwarded(&mut sim), [(BOB, "sip:carol@ent-pa.com".to_owned())]);
}

#[test]
fn a_location_no_search_rule_routes_is_not_reached() {
    let mut sim = edge("");
    call(&mut sim, "sip:lost@ent-pa.com", "lost");
    let (to, answer) = sim.one();
    assert_eq!((to, status(&answer)), (MALLORY, Some(404)), "a script cannot send a call where the zones do not go");
}

#[test]
fn rfc3880_6_2_redirect_answers_302_or_301_with_the_locations_as_contacts() {
    let mut sim = edge("");
    call(&mut sim, "sip:moved@ent-pa.com", "r1");
    let (to, answer) = sim.one();
    assert_eq!((to, status(&answer)), (MALLORY, Some(302)));
    assert_eq!(values(&answer, HeaderName::Contact), ["<sip:moved@elsewhere.example>"]);
    call(&mut sim, "sip:moved-for-good@ent-pa.com", "r2");
    let (_, answer) = sim.one();
    assert_eq!(status(&answer), Some(301));
    assert_eq!(values(&answer, HeaderName::Contact), ["<sip:gone@elsewhere.example>"]);
}

/// `causeway locate`'s dry run over the same router and policy.
fn dry_run(ordering: &str, to: &str) -> causeway_proxy::edge::EdgeDecision {
    let router = EdgeRouter::new(table());
    let text = crlf(&internet_invite(to, "dry", "sip:mallory@partner.example", ""));
    let request = Message::parse(bytes::Bytes::from(text)).unwrap_or_else(|e| panic!("{e}"));
    let ctx = RequestCtx {
        transport: Transport::Udp,
        local: PROXY,
        peer: MALLORY,
        flow: None,
        tls_peer_names: None,
        request_uri: Uri::parse(to).unwrap_or_else(|e| panic!("{e}")),
        uri_is_ours: false,
        route: None,
        health: None,
        clearance: None,
    };
    let dry = DryRun { zone: None, authenticated: None, policy: Some((policy(ordering), EPOCH)) };
    router.route(&request, &ctx, Some(&dry))
}

#[test]
fn causeway_locate_shows_the_same_targets_and_the_redirect() {
    let decided = dry_run(" ordering=\"sequential\"", "sip:team@ent-pa.com");
    let targets: Vec<_> = decided
        .outcome
        .as_ref()
        .unwrap_or_else(|e| panic!("{e}"))
        .iter()
        .map(|t| (t.options.group, t.next_hop.address, t.request_uri.clone().unwrap_or_default()))
        .collect();
    assert_eq!(targets, [(0, BOB, "sip:carol@ent-pa.com".to_owned()), (1, BOB2, "sip:team@vm.ent-pa.com".to_owned())]);
    let text = decided.decision.as_ref().map(ToString::to_string).unwrap_or_default();
    assert!(text.contains("call policy: proxy (sequential) to sip:carol@ent-pa.com, sip:team@vm.ent-pa.com; no timeout, follows 3xx; outputs: none (the best response goes upstream) by CPL <proxy> at line"), "{text}");
    assert!(text.contains("request: sip:carol@ent-pa.com") && text.contains("request: sip:team@vm.ent-pa.com"), "{text}");
    assert!(text.ends_with("result: carried out by call policy (CPL location set, redirect or lookup)\n"), "{text}");
    let decided = dry_run("", "sip:moved@ent-pa.com");
    assert_eq!(decided.outcome.as_ref().err().map(|e| e.status().as_u16()), Some(302));
    let text = decided.decision.as_ref().map(ToString::to_string).unwrap_or_default();
    assert!(text.contains("call policy: redirect 302 Moved Temporarily with Contact: <sip:moved@elsewhere.example>"), "{text}");
}

/// The INVITEs sent since the last look (the 100 Trying and ACKs left aside), with their
/// destinations, and whether anything else went to the caller.
fn invites_and_caller(sim: &mut Sim<EdgeRouter>) -> (Vec<(SocketAddr, Message)>, Vec<u16>) {
    let sent = sim.take_msgs();
    let to_caller = sent.iter().filter(|(to, m)| *to == MALLORY && status(m) != Some(100)).filter_map(|(_, m)| status(m)).collect();
    (sent.into_iter().filter(|(_, m)| m.method() == Some(&Method::Invite)).collect(), to_caller)
}

/// The one INVITE sent since the last look: where to and with which Request-URI.
fn only_invite(sim: &mut Sim<EdgeRouter>) -> (SocketAddr, String, Message) {
    let (mut invites, to_caller) = invites_and_caller(sim);
    assert_eq!((invites.len(), to_caller), (1, Vec::new()), "one INVITE, nothing final to the caller");
    let (to, invite) = invites.remove(0);
    (to, invite.request_uri_str().unwrap_or_default().to_owned(), invite)
}

#[test]
fn rfc3880_6_1_busy_continues_at_the_busy_output_and_proxies_to_voicemail() {
    let mut sim = edge("");
    call(&mut sim, "sip:carol@ent-pa.com", "busy");
    let (to, uri, invite) = only_invite(&mut sim);
    assert_eq!((to, uri.as_str()), (BOB, "sip:carol@ent-pa.com"));
    sim.udp(BOB, &crlf(&respond(&invite, 486, "Busy Here", "c1", "")));
    let (to, uri, voicemail) = only_invite(&mut sim);
    assert_eq!((to, uri.as_str()), (BOB2, "sip:carol@vm.ent-pa.com"), "the script resumed at <busy>; the 486 stays here");
    sim.udp(BOB2, &crlf(&respond(&voicemail, 200, "OK", "vm", "Contact: <sip:carol@192.0.2.21:5070>\n")));
    let (to, ok) = sim.one();
    assert_eq!((to, status(&ok)), (MALLORY, Some(200)), "voicemail's answer reaches the caller");
}

#[test]
fn rfc3880_6_1_timeout_cancels_with_a_reason_and_takes_the_noanswer_output() {
    let mut sim = edge("");
    call(&mut sim, "sip:carol@ent-pa.com", "noanswer");
    let (_, _, invite) = only_invite(&mut sim);
    sim.udp(BOB, &crlf(&respond(&invite, 180, "Ringing", "c1", "")));
    let (to, ringing) = sim.one();
    assert_eq!((to, status(&ringing)), (MALLORY, Some(180)));
    sim.advance(std::time::Duration::from_millis(7_900));
    assert!(sim.take().is_empty(), "Carol rings for the proxy node's 8 s, not Timer C's minutes");
    sim.advance(std::time::Duration::from_millis(100));
    let (to, cancel) = sim.one();
    assert_eq!((to, cancel.method()), (BOB, Some(&Method::Cancel)));
    assert_eq!(value(&cancel, HeaderName::Reason).as_deref(), Some("SIP;cause=480;text=\"No answer\""), "RFC 3326");
    sim.udp(BOB, &crlf(&respond(&cancel, 200, "OK", "c1", "")));
    sim.udp(BOB, &crlf(&respond(&invite, 487, "Request Terminated", "c1", "")));
    let (to, uri, _) = only_invite(&mut sim);
    assert_eq!((to, uri.as_str()), (BOB2, "sip:carol@vm.ent-pa.com"), "noanswer, whatever the cancelled branch said");
}

#[test]
fn rfc3880_6_1_failure_output_rejects_403() {
    let mut sim = edge("");
    call(&mut sim, "sip:carol@ent-pa.com", "failure");
    let (_, _, invite) = only_invite(&mut sim);
    sim.udp(BOB, &crlf(&respond(&invite, 404, "Not Found", "c1", "")));
    let (invites, to_caller) = invites_and_caller(&mut sim);
    assert!(invites.is_empty());
    assert_eq!(to_caller, [403], "the script's <reject>, not the 404");
}

#[test]
fn rfc3880_6_1_recurse_follows_a_302_once_per_contact() {
    let mut sim = edge("");
    call(&mut sim, "sip:dave@ent-pa.com", "recurse");
    let (_, _, invite) = only_invite(&mut sim);
    sim.udp(BOB, &crlf(&respond(&invite, 302, "Moved Temporarily", "d1", "Contact: <sip:dave@vm.ent-pa.com>\n")));
    let (to, uri, second) = only_invite(&mut sim);
    assert_eq!((to, uri.as_str()), (BOB2, "sip:dave@vm.ent-pa.com"), "the Contact is the new target, routed by the search rules");
    // A redirect back to a URI already tried is not followed (RFC 3261 §16.5): the 302 goes up.
    sim.udp(BOB2, &crlf(&respond(&second, 302, "Moved Temporarily", "d2", "Contact: <sip:dave@ent-pa.com>\n")));
    let (invites, to_caller) = invites_and_caller(&mut sim);
    assert_eq!((invites.len(), to_caller), (0, vec![302]));
}

#[test]
fn rfc3880_6_1_without_recursion_a_302_takes_the_redirection_output() {
    let mut sim = edge("");
    call(&mut sim, "sip:erin@ent-pa.com", "redirection");
    let (_, _, invite) = only_invite(&mut sim);
    sim.udp(BOB, &crlf(&respond(&invite, 302, "Moved Temporarily", "e1", "Contact: <sip:erin@elsewhere.example>\n")));
    let (to, answer) = sim.take_msgs().into_iter().find(|(to, _)| *to == MALLORY).unwrap_or_else(|| panic!("nothing upstream"));
    assert_eq!((to, status(&answer)), (MALLORY, Some(302)));
    assert_eq!(values(&answer, HeaderName::Contact), ["<sip:erin@elsewhere.example>"], "the script's <redirect> with the Contacts");
}

#[test]
fn rfc3880_6_1_sequential_goes_on_after_any_failure() {
    let mut sim = edge("");
    call(&mut sim, "sip:frank@ent-pa.com", "seq-busy");
    let (_, uri, invite) = only_invite(&mut sim);
    assert_eq!(uri, "sip:frank@ent-pa.com");
    sim.udp(BOB, &crlf(&respond(&invite, 486, "Busy Here", "f1", "")));
    let (to, uri, _) = only_invite(&mut sim);
    assert_eq!((to, uri.as_str()), (BOB2, "sip:frank@vm.ent-pa.com"), "a 486 moves on too, not only 404/408/503");
}

#[test]
fn a_caller_cancel_ends_the_attempt_without_resuming_the_script() {
    let mut sim = edge("");
    call(&mut sim, "sip:carol@ent-pa.com", "gone");
    let (_, _, invite) = only_invite(&mut sim);
    sim.udp(BOB, &crlf(&respond(&invite, 180, "Ringing", "c1", "")));
    sim.take();
    let cancel = internet_invite("sip:carol@ent-pa.com", "gone", "sip:mallory@partner.example", "").replace("INVITE", "CANCEL");
    sim.udp(MALLORY, &crlf(&cancel));
    let cancels: Vec<_> = sim.take_msgs().into_iter().filter(|(_, m)| m.method() == Some(&Method::Cancel)).collect();
    assert_eq!(cancels.len(), 1);
    sim.udp(BOB, &crlf(&respond(&invite, 487, "Request Terminated", "c1", "")));
    let (invites, to_caller) = invites_and_caller(&mut sim);
    assert_eq!((invites.len(), to_caller), (0, vec![487]), "no voicemail for a caller who hung up");
}

#[test]
fn causeway_locate_lists_the_proxy_node_outputs() {
    let text = dry_run("", "sip:carol@ent-pa.com").decision.as_ref().map(ToString::to_string).unwrap_or_default();
    assert!(
        text.contains("proxy (parallel) to sip:carol@ent-pa.com; timeout 8 s, follows 3xx; outputs: busy, noanswer, failure by CPL"),
        "{text}"
    );
}
