//! The shipped example (examples/callctl/ent-pa.toml) loads, and says what docs/callctl.md
//! says it says.

mod common;

use causeway_callctl::directory::{Destination, ReachKind};
use causeway_policy::digest::credentials::{Algorithm, CredentialStore, Ha1};
use common::{example, sip};

#[test]
fn shipped_example_loads_with_every_object() {
    let cluster = example();
    let dir = cluster.directory();
    assert_eq!(cluster.cfqdns(), ["us-cm-pub.ent-pa.com", "ent-pa.com"]);
    assert_eq!(dir.users().count(), 3);
    assert_eq!(dir.lines().count(), 4);
    assert_eq!(dir.devices().count(), 5);
    assert_eq!(cluster.dial_plan().pattern_count(), 9 + 1 + 4);
    assert_eq!(cluster.trunks().len(), 2);
    assert_eq!(cluster.loop_avoidance().marker(), "call-type=squared");
    assert_eq!(cluster.dual_ring_toggle_code().map(|c| c.as_str()), Some("*88"));

    let bob = dir.user_by_userid("bob").and_then(|u| dir.user(u)).unwrap_or_else(|| panic!("bob"));
    assert_eq!(bob.display_name.as_deref(), Some("Bob Brown"));
    assert_eq!(bob.e164.as_deref(), Some("+14085551002"));
    assert_eq!(bob.reach.len(), 2);
    let teams = bob.reach.iter().find(|r| r.name == "bob-teams").unwrap_or_else(|| panic!("bob-teams"));
    assert_eq!((teams.kind, teams.enabled), (ReachKind::RemoteDestination, false));
    assert!(matches!(&teams.destination, Destination::Number(n) if n.as_str() == "1002"));
    let webex = bob.reach.iter().find(|r| r.kind == ReachKind::AssociatedIdentity).unwrap_or_else(|| panic!("webex"));
    assert_eq!(webex.timers.delay_before_ringing.as_millis(), 4000);
    assert_eq!(webex.timers.answer_too_soon.map(|d| d.as_millis()), Some(1500));
    assert_eq!(webex.timers.answer_too_late.map(|d| d.as_millis()), Some(19000));

    // Associated identities are found case-insensitively, whatever the port.
    let (uid, rd) = dir.associated_identity(&sip("Bob@ENT-PA.call.webex.com").with_port(5061)).unwrap_or_else(|| panic!("identity"));
    assert_eq!((dir.user(uid).map(|u| u.userid.as_str()), rd.name.as_str()), (Some("bob"), "bob-webex"));

    // Carol's DN 1003 is a shared line on two devices; her mobile has a schedule.
    let (_, line) = dir.lines().find(|(_, l)| l.dn == "1003").unwrap_or_else(|| panic!("1003"));
    assert_eq!(line.devices.len(), 2);
    let carol = dir.user_by_userid("carol").and_then(|u| dir.user(u)).unwrap_or_else(|| panic!("carol"));
    assert!(carol.reach.first().is_some_and(|r| r.schedule.is_some()));

    // Device credentials answer the digest verifier (policy's CredentialStore), HA1 only.
    let stored = dir.ha1("alice-desk", "ent-pa.com", Algorithm::Md5).unwrap_or_else(|| panic!("ha1"));
    assert!(stored.ct_eq(&Ha1::from_password(Algorithm::Md5, "alice-desk", "ent-pa.com", "alice-pw")));
    let sha = dir.ha1("alice-desk", "ent-pa.com", Algorithm::Sha256).unwrap_or_else(|| panic!("sha"));
    assert!(sha.ct_eq(&Ha1::from_password(Algorithm::Sha256, "alice-desk", "ent-pa.com", "alice-pw")));
    assert!(dir.ha1("alice-desk", "other.realm", Algorithm::Md5).is_none());
    assert!(dir.ha1("bob-desk", "ent-pa.com", Algorithm::Sha256).is_none());
    let device = dir.device_by_username("carol-lab").and_then(|d| dir.device(d)).unwrap_or_else(|| panic!("carol-lab"));
    assert_eq!(device.name, "SEP00AA00000004");
}
