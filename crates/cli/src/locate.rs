//! `causeway locate -c FILE --from URI --to URI [--zone NAME] [--route URI]... [--authenticated] [--json]`: the
//! dry run. It writes the INVITE the arguments describe and hands it to the router a node built from FILE
//! would use (`causeway_node::edge_router`), through the same `EdgeRouter::route` live traffic takes; it then
//! prints the routing trace (zone, authentication, Route-header alias, Zoom repair, transforms, call policy,
//! every search rule with why it matched or not, each target's next hops) and what the proxy would send.
//! Peers count as up (no keepalive runs here); the DNS lookups the node would make are made with its resolver
//! settings (`[dns]`), and their answers shown.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::{bail, Context as _};
use bytes::Bytes;
use causeway_config::Config;
use causeway_node::NodeConfig;
use causeway_proxy::edge::{DryRun, EdgeDecision};
use causeway_proxy::{LocateError, NextHop, RequestCtx, Target};
use causeway_routing::HealthSnapshot;
use causeway_sip::uri::Uri;
use causeway_sip::{Message, Transport};
use chrono::{DateTime, Utc};
use serde_json::json;

/// Rounds of DNS lookups one dry run makes at most (an RFC 3263 chain is NAPTR, SRV, A/AAAA).
const MAX_LOOKUP_ROUNDS: usize = 8;

/// Arguments of `causeway locate`.
#[derive(Debug, clap::Args)]
pub(crate) struct Args {
    /// Config file (the node's).
    #[arg(short, long, value_name = "FILE")]
    config: PathBuf,
    /// The caller (From), e.g. `sip:alice@example.call.webex.com` or `"Alice" <sip:alice@…>`.
    #[arg(long, value_name = "URI")]
    from: String,
    /// The Request-URI.
    #[arg(long, value_name = "URI")]
    to: String,
    /// Take the request to come from this zone (otherwise it is classified from --source, --listener and
    /// --tls-name, like a real arrival).
    #[arg(long, value_name = "NAME")]
    zone: Option<String>,
    /// A Route header value, topmost first (repeat for several).
    #[arg(long = "route", value_name = "URI")]
    routes: Vec<String>,
    /// Take the request to be authenticated (otherwise its zone's authentication policy decides).
    #[arg(long)]
    authenticated: bool,
    /// Source address of the request, for classification by peer address.
    #[arg(long, value_name = "IP:PORT")]
    source: Option<SocketAddr>,
    /// The listener it arrives on (default: the config's first listener of its transport).
    #[arg(long, value_name = "IP:PORT")]
    listener: Option<SocketAddr>,
    /// A name of the client's TLS certificate (repeat for several): the request arrives over mutual TLS.
    #[arg(long = "tls-name", value_name = "NAME")]
    tls_names: Vec<String>,
    /// The Contact header value (loop rules look at its parameters, e.g. `;call-type=squared`).
    #[arg(long, value_name = "VALUE")]
    contact: Option<String>,
    /// The time of the call, for room bookings (RFC 3339; default: now).
    #[arg(long, value_name = "RFC3339")]
    now: Option<DateTime<Utc>>,
    /// Print the decision as JSON.
    #[arg(long)]
    json: bool,
}

pub(crate) fn run(args: &Args) -> anyhow::Result<ExitCode> {
    let config = match Config::load(&args.config) {
        Ok(config) => config,
        Err(error) => {
            eprintln!("{error}");
            return Ok(ExitCode::FAILURE);
        }
    };
    let now = args.now.unwrap_or_else(Utc::now);
    let mut node = NodeConfig::from_config(&config);
    if let Some(link) = &config.meetings {
        let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().context("tokio runtime")?;
        node.zoom_repair = Some(runtime.block_on(crate::bookings::snapshot(link, now))?);
    }
    let Some(router) = causeway_node::edge_router(&node) else { bail!("{}: no routing table", args.config.display()) };
    let transport = if args.tls_names.is_empty() { Transport::Udp } else { Transport::Tls };
    let listener = args
        .listener
        .or_else(|| config.listeners.iter().find(|l| l.transport == transport).map(|l| l.address))
        .or_else(|| config.listeners.first().map(|l| l.address))
        .unwrap_or_else(|| SocketAddr::from(([127, 0, 0, 1], transport.default_port())));
    let source = args.source.unwrap_or_else(|| SocketAddr::from(([192, 0, 2, 1], 5060)));
    let request = invite(args, transport, source)?;
    let request_uri = Uri::parse(&args.to).with_context(|| format!("--to {}", args.to))?;
    let first_route = request.routes().next().and_then(Result::ok).and_then(|r| r.uri().ok()).and_then(|u| u.as_sip().copied());
    let names: Option<Vec<String>> = (!args.tls_names.is_empty()).then(|| args.tls_names.clone());
    let ctx = RequestCtx {
        transport,
        local: listener,
        peer: source,
        flow: None,
        tls_peer_names: names.as_deref(),
        request_uri,
        uri_is_ours: false,
        route: first_route,
        health: None,
        clearance: None,
    };
    let dry_run = DryRun {
        zone: args.zone.clone(),
        authenticated: args.authenticated.then_some(true),
        policy: Some((config.security.policy.set().clone(), now)),
    };
    if let Some(zone) = &args.zone {
        if router.table().zone(zone).is_none() {
            bail!("--zone {zone}: no such zone (zones: {})", router.table().zone_names().join(", "));
        }
    }
    // The lookups the node would make (DNS zones, peers named by host name) are made, as the core does for a
    // parked request, and the request located again with the answers; a bounded number of rounds.
    let mut health = HealthSnapshot::assume_up();
    let mut decided = router.route(&request, &ctx, Some(&dry_run));
    let mut runtime = None;
    for _ in 0..MAX_LOOKUP_ROUNDS {
        let Err(LocateError::Lookup { queries }) = &decided.outcome else { break };
        let runtime = match &mut runtime {
            Some(r) => r,
            None => runtime.insert(tokio::runtime::Builder::new_current_thread().enable_all().build().context("tokio runtime")?),
        };
        for (query, answer) in runtime.block_on(causeway_node::look_up(&node.dns, queries)) {
            health.set_answer(&query, Some(answer));
        }
        decided = router.route(&request, &RequestCtx { health: Some(&health), ..ctx }, Some(&dry_run));
    }
    if args.json {
        println!("{}", serde_json::to_string_pretty(&as_json(&decided))?);
    } else {
        print!("{}", as_text(&decided));
    }
    Ok(if decided.outcome.is_ok() { ExitCode::SUCCESS } else { ExitCode::from(3) })
}

/// The INVITE the arguments describe.
fn invite(args: &Args, transport: Transport, source: SocketAddr) -> anyhow::Result<Message> {
    let name_addr = |value: &str| if value.contains('<') { value.to_owned() } else { format!("<{value}>") };
    let mut text = format!(
        "INVITE {to} SIP/2.0\r\nVia: SIP/2.0/{t} {source};branch=z9hG4bKlocate\r\nMax-Forwards: 70\r\n\
         From: {from};tag=locate\r\nTo: <{to}>\r\nCall-ID: locate@causeway\r\nCSeq: 1 INVITE\r\n",
        to = args.to,
        t = transport.via_token(),
        from = name_addr(&args.from),
    );
    for route in &args.routes {
        text.push_str(&format!("Route: {}\r\n", name_addr(route)));
    }
    if let Some(contact) = &args.contact {
        text.push_str(&format!("Contact: {}\r\n", name_addr(contact)));
    }
    text.push_str("Content-Length: 0\r\n\r\n");
    Message::parse(Bytes::from(text)).context("the arguments do not make a valid SIP request")
}

fn hop(h: &NextHop) -> String {
    format!("{} {}", h.transport, h.address)
}

fn as_text(decided: &EdgeDecision) -> String {
    let mut out = String::new();
    match &decided.decision {
        Some(decision) => out.push_str(&decision.to_string()),
        None => out.push_str(&format!(
            "zone: {} ({})\nauthentication: the zone checks credentials (digest): the request would be challenged; \
             give --authenticated to locate it as authenticated\n",
            decided.classified.zone(),
            decided.classified.by()
        )),
    }
    match &decided.outcome {
        Ok(targets) => {
            out.push_str("the proxy sends (groups in order; a target's hops one after the other):\n");
            for t in targets {
                out.push_str(&format!("  group {}: {}", t.options.group, hop(&t.next_hop)));
                for alt in &t.options.alternates {
                    out.push_str(&format!(", then {}", hop(alt)));
                }
                if let Some(uri) = &t.request_uri {
                    out.push_str(&format!("; Request-URI {uri}"));
                }
                if let Some(mf) = t.options.max_forwards {
                    out.push_str(&format!("; Max-Forwards {mf}"));
                }
                if !t.options.remove_fields.is_empty() {
                    out.push_str(&format!("; {} header field(s) left out", t.options.remove_fields.len()));
                }
                out.push('\n');
            }
        }
        Err(e) => out.push_str(&format!("the proxy answers {} {}\n", e.status(), e.status().default_reason())),
    }
    out
}

fn target_json(t: &Target) -> serde_json::Value {
    json!({
        "group": t.options.group,
        "hops": std::iter::once(&t.next_hop).chain(&t.options.alternates).map(hop).collect::<Vec<_>>(),
        "request_uri": t.request_uri,
        "max_forwards": t.options.max_forwards,
        "removed_header_fields": t.options.remove_fields.len(),
    })
}

fn as_json(decided: &EdgeDecision) -> serde_json::Value {
    let (targets, answer) = match &decided.outcome {
        Ok(targets) => (targets.iter().map(target_json).collect::<Vec<_>>(), None),
        Err(e) => (Vec::new(), Some(e.status().as_u16())),
    };
    json!({
        "zone": decided.classified,
        "decision": decided.decision,
        "targets": targets,
        "answer": answer,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use causeway_sip::HeaderName;

    #[test]
    fn the_written_invite_carries_every_argument() {
        let args = Args {
            config: PathBuf::new(),
            from: "sip:alice@example.call.webex.com".into(),
            to: "sip:bob@ent-pa.com".into(),
            zone: None,
            routes: vec!["sip:l2sip@20.20.20.20:5062;transport=tls;lr".into(), "<sip:us-cm-pub.ent-pa.com;lr>".into()],
            authenticated: false,
            source: None,
            listener: None,
            tls_names: Vec::new(),
            contact: Some("<sip:l2sip@10.10.10.10:5062;transport=tls>;call-type=squared".into()),
            now: None,
            json: false,
        };
        let msg = invite(&args, Transport::Tls, SocketAddr::from(([198, 51, 100, 20], 5062))).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(msg.request_uri_str(), Some("sip:bob@ent-pa.com"));
        assert_eq!(msg.routes().count(), 2);
        let contact = msg.header(HeaderName::Contact).map(|h| String::from_utf8_lossy(h.value).into_owned());
        assert_eq!(contact.as_deref(), Some("<sip:l2sip@10.10.10.10:5062;transport=tls>;call-type=squared"));
    }
}
