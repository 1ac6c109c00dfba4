//! Flow F2 with real peers: "Webex" (a SIPp UAC behind socat presenting a client certificate) calls
//! `sip:bob@ent-pa.com` over mutual TLS with a Route header naming the caller's home cluster; two "CUCM
//! clusters" (SIPp UASs on 127.0.0.2 and 127.0.0.3) are neighbor zones. The same Request-URI reaches the US
//! or the EMEA UAS because of the Route header. A client certificate whose name does not match the zone's
//! `tls_verify_subject` lands in the default zone, where the Route header is not honoured and no rule
//! applies: 404, and neither cluster sees it.

mod edge_support;
mod support;

use std::net::SocketAddr;
use std::time::Duration;

use edge_support::{invites_received, loopback, start_node, NodeTls};
use support::sipp::{Sipp, SippTransport};
use support::{free_port, temp_dir, tls, tunnel};

const LIMIT: Duration = Duration::from_secs(30);

fn routing(us: SocketAddr, emea: SocketAddr) -> String {
    format!(
        r#"
# Webex: known by its certificate only, trusted, routed by the Route header (flow F2).
[[zone]]
name = "webex"
kind = "dns"
authentication = "treat-as-authenticated"
tls_verify_subject = ["callservice.webex.com"]
honor_route_header = true
search_domain = "callservice.webex.com"
transport = "tls"
loop_contact_params = ["call-type=squared"]

[[zone]]
name = "cucm-us"
kind = "neighbor"
authentication = "treat-as-authenticated"
keepalive = {{ enabled = false }}
[[zone.peer]]
address = "{us}"
transport = "udp"

[[zone]]
name = "cucm-emea"
kind = "neighbor"
authentication = "treat-as-authenticated"
keepalive = {{ enabled = false }}
[[zone.peer]]
address = "{emea}"
transport = "udp"

[[search_rule]]
name = "webex-to-cucm-us"
priority = 40
source = "webex"
request_must_be_authenticated = true
pattern_type = "exact"
pattern = "us-cm-pub.ent-pa.com"
on_match = "stop"
target = "cucm-us"

[[search_rule]]
name = "webex-to-cucm-emea"
priority = 40
source = "webex"
request_must_be_authenticated = true
pattern_type = "exact"
pattern = "emea-cm-pub.ent-pa.com"
on_match = "stop"
target = "cucm-emea"
"#
    )
}

#[test]
fn f2_the_route_header_sends_the_same_request_uri_to_either_cluster_and_a_foreign_certificate_nowhere() {
    let dir = temp_dir();
    let leaves: [(&str, &[&str]); 3] =
        [("node", &["localhost"]), ("webex", &["callservice.webex.com"]), ("evil", &["evil.example.net"])];
    let (ca, certs) = tls::make_pki_for(dir.path(), &leaves);
    let [node_cert, (webex_cert, webex_key), (evil_cert, evil_key)] = certs.as_slice() else { panic!("three leaves") };
    let (us_ip, emea_ip) = (loopback(2), loopback(3));
    let (us_port, emea_port) = (free_port(), free_port());
    let mut us = Sipp::new("uas-us", dir.path(), "uas-answer.xml", SippTransport::Udp, us_port, 1, LIMIT).on(us_ip).spawn_uas();
    let mut emea =
        Sipp::new("uas-emea", dir.path(), "uas-answer.xml", SippTransport::Udp, emea_port, 1, LIMIT).on(emea_ip).spawn_uas();
    let tls_port = free_port();
    let routing = routing(SocketAddr::from((us_ip, us_port)), SocketAddr::from((emea_ip, emea_port)));
    let node_tls = NodeTls { ca: &ca, cert: &node_cert.0, key: &node_cert.1, port: tls_port };
    let mut node = start_node(dir.path(), free_port(), Some(&node_tls), &routing);
    let edge = format!("127.0.0.1:{tls_port}");

    // A certificate for another name: default zone, 404, no cluster reached.
    let evil_tunnel = free_port();
    let _evil = tunnel::mutual_tls_client(dir.path(), evil_tunnel, &ca, evil_cert, evil_key, tls_port);
    let refused = Sipp::new("uac-evil", dir.path(), "uac-webex-refused.xml", SippTransport::Tcp, free_port(), 1, LIMIT)
        .arg("-key")
        .arg("edge")
        .arg(&edge)
        .arg("-key")
        .arg("cluster")
        .arg("us-cm-pub.ent-pa.com")
        .run_uac(SocketAddr::from(([127, 0, 0, 1], evil_tunnel)), LIMIT);
    if refused.status.and_then(|s| s.code()) != Some(0) {
        panic!("the foreign certificate's call was not refused with 404\n{}\n{}", refused.report, node.process.log_tail());
    }
    refused.assert_all_succeeded(1);

    // Webex's certificate: the Route header picks the cluster.
    let webex_tunnel = free_port();
    let _webex = tunnel::mutual_tls_client(dir.path(), webex_tunnel, &ca, webex_cert, webex_key, tls_port);
    for (name, cluster) in [("uac-us", "us-cm-pub.ent-pa.com"), ("uac-emea", "emea-cm-pub.ent-pa.com")] {
        let uac = Sipp::new(name, dir.path(), "uac-webex.xml", SippTransport::Tcp, free_port(), 1, LIMIT)
            .arg("-key")
            .arg("edge")
            .arg(&edge)
            .arg("-key")
            .arg("cluster")
            .arg(cluster)
            .run_uac(SocketAddr::from(([127, 0, 0, 1], webex_tunnel)), LIMIT);
        if uac.status.and_then(|s| s.code()) != Some(0) {
            panic!("{name} failed\n{}\n{}", uac.report, node.process.log_tail());
        }
        uac.assert_all_succeeded(1);
    }
    let us_outcome = us.finish(Duration::from_secs(10));
    let emea_outcome = emea.finish(Duration::from_secs(10));
    us_outcome.assert_all_succeeded(1);
    emea_outcome.assert_all_succeeded(1);
    // Each cluster got exactly one INVITE, both for the same Request-URI.
    assert_eq!(invites_received(dir.path(), "uas-us"), ["sip:bob@ent-pa.com"]);
    assert_eq!(invites_received(dir.path(), "uas-emea"), ["sip:bob@ent-pa.com"]);
    node.assert_alive();
}
