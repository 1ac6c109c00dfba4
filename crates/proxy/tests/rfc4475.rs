//! Every RFC 4475 torture message through `handle_inbound`: no panic, and what the RFC asks
//! of a proxy — forward what is valid (even if semantically odd for a UA), answer what is
//! broken with the status it names (400, 416, 420, 483, 505), drop what cannot be answered
//! (responses, a request without From/To/Call-ID, a broadcast next hop).

mod harness;

use std::path::PathBuf;

use bytes::Bytes;
use causeway_proxy::{NextHop, RouteMatch, StaticRoute, StaticRoutes};
use causeway_sip::Transport;
use harness::*;

#[derive(Debug, PartialEq, Eq)]
enum Outcome {
    /// Forwarded downstream (a 100 Trying upstream aside).
    Forwarded,
    /// Answered with this status and nothing forwarded.
    Answered(u16),
    /// Nothing sent.
    Dropped,
}

use Outcome::*;

/// The RFC's expectation per message (section 3 of RFC 4475, proxy behaviour).
const EXPECTED: &[(&str, Outcome)] = &[
    ("wsinv.dat", Forwarded),
    ("intmeth.dat", Forwarded),
    ("esc01.dat", Forwarded),
    ("escnull.dat", Forwarded),
    ("esc02.dat", Forwarded),
    ("lwsdisp.dat", Forwarded),
    ("longreq.dat", Forwarded),
    ("dblreq.dat", Forwarded),
    ("semiuri.dat", Forwarded),
    ("transports.dat", Forwarded),
    ("mpart01.dat", Forwarded),
    // Responses matching nothing of ours are dropped (their top Via is not ours).
    ("unreason.dat", Dropped),
    ("noreason.dat", Dropped),
    ("badinv01.dat", Answered(400)),
    ("clerr.dat", Answered(400)),
    ("ncl.dat", Answered(400)),
    ("scalar02.dat", Answered(400)),
    ("scalarlg.dat", Dropped),
    ("quotbal.dat", Answered(400)),
    ("ltgtruri.dat", Answered(400)),
    ("lwsruri.dat", Answered(400)),
    // §3.1.2.9-10: liberal acceptance is permitted for extra SP in the Request-Line.
    ("lwsstart.dat", Forwarded),
    ("trws.dat", Forwarded),
    ("escruri.dat", Answered(400)),
    // §3.1.2.12: a proxy does not use Date, so it may ignore a bad one.
    ("baddate.dat", Forwarded),
    // §3.1.2.13: the Contact fault is the registrar's to find; a proxy relays REGISTER.
    ("regbadct.dat", Forwarded),
    ("badaspec.dat", Answered(400)),
    ("baddn.dat", Answered(400)),
    ("badvers.dat", Answered(505)),
    ("mismatch01.dat", Answered(400)),
    ("mismatch02.dat", Answered(400)),
    ("bigcode.dat", Dropped),
    // §3.2.1: a bare magic cookie falls back to RFC 2543 matching.
    ("badbranch.dat", Forwarded),
    // §3.3.1: without From, To and Call-ID no response can be built (§8.2.6.2).
    ("insuf.dat", Dropped),
    ("unkscm.dat", Answered(416)),
    // §3.3.3: a scheme this proxy never routes (it routes sip, sips and tel).
    ("novelsc.dat", Answered(416)),
    ("unksm2.dat", Forwarded),
    ("bext01.dat", Answered(420)),
    ("invut.dat", Forwarded),
    ("regaut01.dat", Forwarded),
    ("multi01.dat", Answered(400)),
    ("mcl01.dat", Answered(400)),
    ("bcast.dat", Dropped),
    ("zeromf.dat", Answered(483)),
    ("cparam01.dat", Forwarded),
    ("cparam02.dat", Forwarded),
    ("regescrt.dat", Forwarded),
    ("sdp01.dat", Forwarded),
    ("inv2543.dat", Forwarded),
];

fn outcome(file: &str) -> Outcome {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../testdata/rfc4475");
    let bytes = std::fs::read(dir.join(file)).unwrap_or_else(|e| panic!("{file}: {e}"));
    let routes = StaticRoutes::new(vec![StaticRoute {
        matcher: RouteMatch::Default,
        next_hop: NextHop { transport: Transport::Udp, address: BOB, flow: None },
    }]);
    let mut sim = Sim::with(config(), routes);
    sim.deliver(Transport::Udp, PROXY, ALICE, None, Bytes::from(bytes));
    let out = sim.take_msgs();
    let forwarded = out.iter().any(|(_, m)| m.is_request());
    let answers: Vec<u16> = out.iter().filter_map(|(_, m)| m.status()).map(|s| s.as_u16()).filter(|&s| s != 100).collect();
    match (forwarded, answers.as_slice()) {
        (true, []) => Forwarded,
        (false, [code]) => Answered(*code),
        (false, []) => Dropped,
        _ => panic!("{file}: forwarded and answered: {:?}", out.iter().map(|(_, m)| summary(m)).collect::<Vec<_>>()),
    }
}

#[test]
fn rfc4475_every_torture_message_gets_the_proxy_behaviour_the_rfc_expects() {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../testdata/rfc4475");
    let manifest = std::fs::read_to_string(dir.join("MANIFEST.tsv")).unwrap_or_else(|e| panic!("manifest: {e}"));
    let files: Vec<&str> = manifest.lines().skip(1).filter_map(|l| l.split('\t').next()).collect();
    assert_eq!(files.len(), EXPECTED.len(), "every manifest entry has an expectation");
    let mut wrong = Vec::new();
    for (file, expected) in EXPECTED {
        assert!(files.contains(file), "{file} is in the manifest");
        let got = outcome(file);
        if got != *expected {
            wrong.push(format!("{file}: expected {expected:?}, got {got:?}"));
        }
    }
    assert!(wrong.is_empty(), "{}", wrong.join("\n"));
}

#[test]
fn rfc4475_3_1_1_11_strict_route_next_hop_gets_the_request_uri_moved() {
    // mpart01's Route has no `lr`: §16.6 step 6 rewrites it for a strict router.
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../testdata/rfc4475");
    let bytes = std::fs::read(dir.join("mpart01.dat")).unwrap_or_else(|e| panic!("{e}"));
    let mut sim = Sim::new();
    sim.deliver(Transport::Udp, PROXY, ALICE, None, Bytes::from(bytes));
    let (dst, fwd) = sim.one();
    assert_eq!(dst, "127.0.0.1:5080".parse().unwrap_or(BOB));
    assert_eq!(fwd.request_uri_str(), Some("sip:127.0.0.1:5080"));
    assert_eq!(values(&fwd, causeway_sip::HeaderName::Route), ["<sip:kumiko@example.org>"]);
    assert!(fwd.body().len() > 400, "the binary multipart body is untouched");
}

#[test]
fn truncated_and_mutated_torture_messages_never_panic_the_core() {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../testdata/rfc4475");
    let mut sim = Sim::new();
    let mut fed = 0u32;
    for (file, _) in EXPECTED {
        let bytes = std::fs::read(dir.join(file)).unwrap_or_else(|e| panic!("{file}: {e}"));
        for cut in (0..bytes.len()).step_by(11) {
            sim.deliver(Transport::Udp, PROXY, ALICE, None, Bytes::copy_from_slice(&bytes[..cut]));
            fed += 1;
        }
        for (i, at) in (0..bytes.len()).step_by(13).enumerate() {
            let mut m = bytes.clone();
            m[at] = [b'\r', b'\n', b':', b';', b',', b'<', b'>', b'"', 0, 0xff][i % 10];
            for transport in [Transport::Udp, Transport::Tcp] {
                sim.deliver(transport, PROXY, BOB, None, Bytes::from(m.clone()));
                fed += 1;
            }
        }
    }
    // Let every timer the garbage started run out.
    sim.advance(std::time::Duration::from_secs(300));
    sim.take();
    let c = sim.core.counters();
    assert!(fed > 5000);
    assert_eq!((c.contexts_alive, c.transactions_alive), (0, 0), "no state outlives its timers");
}
