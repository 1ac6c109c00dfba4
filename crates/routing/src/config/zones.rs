//! `[[zone]]` → [`Zone`]: defaults, per-kind keys, peers, keepalive, profile and loop rules.

use std::collections::HashSet;
use std::net::SocketAddr;
use std::time::Duration;

use causeway_sip::uri::{Host, Uri};
use causeway_sip::Transport;
use toml::Spanned;

use super::raw::{
    AuthPolicyConfig, KeepaliveConfig, PeerConfig, SipProfileConfig, TransportConfig, TraversalRoleConfig,
    ZoneConfig, ZoneKindConfig,
};
use super::{valid_name, Compiler, ConfigReason};
use crate::subject::SubjectPattern;
use crate::table::{
    AuthPolicy, ContactParam, DnsSettings, KeepaliveSettings, Peer, SipProfile, Zone, ZoneKind, CORE_HEADERS,
    DEFAULT_HOP_COUNT,
};

/// Expressway's limit: Peer 1–6.
const MAX_PEERS: usize = 6;

/// Names a search rule's `source` uses as keywords.
const RESERVED: &[&str] = &["any", "any-authenticated"];

/// Compiles every zone; returns the configured zones (default excluded) and the default zone.
pub(super) fn compile(c: &mut Compiler, raw: &[Spanned<ZoneConfig>]) -> (Vec<Zone>, Zone) {
    let mut names = HashSet::new();
    let mut listeners = HashSet::new();
    let mut zones = Vec::new();
    let mut default_zone = None;
    for z in raw.iter().map(Spanned::get_ref) {
        let name = z.name.get_ref();
        if !valid_name(name) {
            c.error(z.name.span(), ConfigReason::BadName { what: "zone" });
        } else if RESERVED.iter().any(|r| r.eq_ignore_ascii_case(name)) {
            c.error(z.name.span(), ConfigReason::ReservedZoneName(name.clone()));
        } else if !names.insert(name.clone()) {
            c.error(z.name.span(), ConfigReason::DuplicateZone(name.clone()));
        }
        let zone = compile_zone(c, z, &mut listeners);
        if zone.kind == ZoneKind::Default {
            if default_zone.is_some() {
                c.error(z.kind.span(), ConfigReason::SecondDefaultZone);
            }
            default_zone = Some(zone);
        } else {
            zones.push(zone);
        }
    }
    let default_zone = default_zone.unwrap_or_else(|| {
        let mut implicit = Zone::implicit_default();
        if names.contains(&implicit.name) {
            // A non-default zone took the name; the implicit default zone keeps a distinct one.
            implicit.name = "default-zone".to_owned();
        }
        implicit
    });
    (zones, default_zone)
}

fn compile_zone(c: &mut Compiler, z: &ZoneConfig, listeners: &mut HashSet<SocketAddr>) -> Zone {
    let kind = zone_kind(c, z);
    let label = kind_label(kind);
    let forbid = |c: &mut Compiler, present: Option<std::ops::Range<usize>>, key: &'static str, allowed: bool| {
        if let (Some(span), false) = (present, allowed) {
            c.error(span, ConfigReason::KeyNotForKind { key, kind: label });
        }
    };
    let has_peers = matches!(kind, ZoneKind::Neighbor | ZoneKind::Trunk | ZoneKind::TraversalClient);
    let is_dns = kind == ZoneKind::Dns;
    let is_default = kind == ZoneKind::Default;
    forbid(c, z.peers.first().map(Spanned::span), "peer", has_peers);
    forbid(c, z.keepalive.as_ref().map(Spanned::span), "keepalive", has_peers);
    forbid(c, z.search_domain.as_ref().map(Spanned::span), "search_domain", is_dns);
    forbid(c, z.transport.as_ref().map(Spanned::span), "transport", is_dns);
    forbid(c, z.include_address_record.as_ref().map(Spanned::span), "include_address_record", is_dns);
    forbid(c, z.local_fqdn.as_ref().map(Spanned::span), "local_fqdn", kind == ZoneKind::Trunk);
    forbid(c, z.tls_verify_subject.first().map(Spanned::span), "tls_verify_subject", !is_default);
    forbid(c, z.loop_contact_params.first().map(Spanned::span), "loop_contact_params", !is_default);
    forbid(c, z.hop_count.as_ref().map(Spanned::span), "hop_count", !is_default);
    if has_peers && z.peers.is_empty() {
        c.error(z.kind.span(), ConfigReason::MissingForKind { key: "[[zone.peer]]", kind: label });
    }
    if kind == ZoneKind::Trunk && z.local_fqdn.is_none() {
        c.error(z.kind.span(), ConfigReason::MissingForKind { key: "local_fqdn", kind: label });
    }
    Zone {
        name: z.name.get_ref().clone(),
        kind,
        peers: if has_peers { peers(c, &z.peers) } else { Vec::new() },
        keepalive: if has_peers { keepalive(c, z.keepalive.as_ref().map(Spanned::get_ref)) } else { None },
        authentication: match z.authentication.as_ref().map(|a| *a.get_ref()) {
            Some(AuthPolicyConfig::CheckCredentials) => AuthPolicy::CheckCredentials,
            Some(AuthPolicyConfig::TreatAsAuthenticated) => AuthPolicy::TreatAsAuthenticated,
            Some(AuthPolicyConfig::DoNotCheck) | None => AuthPolicy::DoNotCheck,
        },
        tls_verify_subject: z
            .tls_verify_subject
            .iter()
            .filter_map(|s| {
                SubjectPattern::parse(s.get_ref())
                    .map_err(|problem| {
                        c.error(s.span(), ConfigReason::BadSubject { subject: s.get_ref().clone(), problem });
                    })
                    .ok()
            })
            .collect(),
        honor_route_header: z.honor_route_header,
        sip_profile: profile(c, z.sip_profile.as_ref().map(Spanned::get_ref)),
        dns: is_dns.then(|| DnsSettings {
            search_domain: z.search_domain.as_ref().and_then(|d| host_name(c, "search_domain", d)),
            transport: z.transport.as_ref().map(|t| transport(*t.get_ref())),
            include_address_record: z.include_address_record.as_ref().is_some_and(|v| *v.get_ref()),
        }),
        hop_count: c
            .ranged("hop_count", z.hop_count.as_ref().filter(|_| !is_default), (1, 255), u64::from(DEFAULT_HOP_COUNT))
            .and_then(|v| u8::try_from(v).ok())
            .unwrap_or(DEFAULT_HOP_COUNT),
        loop_contact_params: z.loop_contact_params.iter().filter_map(|p| contact_param(c, p)).collect(),
        listeners: z
            .listeners
            .iter()
            .filter_map(|l| match l.get_ref().parse::<SocketAddr>() {
                Ok(addr) if listeners.insert(addr) => Some(addr),
                Ok(_) => {
                    c.error(l.span(), ConfigReason::DuplicateListener(l.get_ref().clone()));
                    None
                }
                Err(_) => {
                    c.error(l.span(), ConfigReason::BadListener(l.get_ref().clone()));
                    None
                }
            })
            .collect(),
        local_fqdn: z.local_fqdn.as_ref().and_then(|f| host_name(c, "local_fqdn", f)),
    }
}

fn zone_kind(c: &mut Compiler, z: &ZoneConfig) -> ZoneKind {
    let role = z.role.as_ref().map(|r| *r.get_ref());
    let kind = match *z.kind.get_ref() {
        ZoneKindConfig::Neighbor => ZoneKind::Neighbor,
        ZoneKindConfig::Dns => ZoneKind::Dns,
        ZoneKindConfig::Trunk => ZoneKind::Trunk,
        ZoneKindConfig::Default => ZoneKind::Default,
        ZoneKindConfig::Traversal => match role {
            Some(TraversalRoleConfig::Server) => ZoneKind::TraversalServer,
            Some(TraversalRoleConfig::Client) => ZoneKind::TraversalClient,
            None => {
                c.error(z.kind.span(), ConfigReason::MissingForKind { key: "role", kind: "traversal" });
                ZoneKind::TraversalServer
            }
        },
    };
    if let (Some(role), false) = (&z.role, *z.kind.get_ref() == ZoneKindConfig::Traversal) {
        c.error(role.span(), ConfigReason::KeyNotForKind { key: "role", kind: kind_label(kind) });
    }
    kind
}

fn kind_label(kind: ZoneKind) -> &'static str {
    match kind {
        ZoneKind::Neighbor => "neighbor",
        ZoneKind::Dns => "dns",
        ZoneKind::Trunk => "trunk",
        ZoneKind::TraversalServer => "traversal server",
        ZoneKind::TraversalClient => "traversal client",
        ZoneKind::Default => "default",
    }
}

fn transport(t: TransportConfig) -> Transport {
    match t {
        TransportConfig::Udp => Transport::Udp,
        TransportConfig::Tcp => Transport::Tcp,
        TransportConfig::Tls => Transport::Tls,
    }
}

fn peers(c: &mut Compiler, raw: &[Spanned<PeerConfig>]) -> Vec<Peer> {
    if let Some(extra) = raw.get(MAX_PEERS) {
        c.error(extra.span(), ConfigReason::TooManyPeers { max: MAX_PEERS });
    }
    let mut seen = HashSet::new();
    let mut out = Vec::new();
    for p in raw.iter().map(Spanned::get_ref) {
        let transport = p.transport.as_ref().map_or(Transport::Tls, |t| transport(*t.get_ref()));
        let priority = c.ranged("priority", p.priority.as_ref(), (0, 65535), 1).and_then(|v| u16::try_from(v).ok());
        let weight = c.ranged("weight", p.weight.as_ref(), (0, 65535), 1).and_then(|v| u16::try_from(v).ok());
        let Some((host, port)) = peer_address(p.address.get_ref()) else {
            c.error(p.address.span(), ConfigReason::BadPeerAddress(p.address.get_ref().clone()));
            continue;
        };
        let peer = Peer::new(host, port.unwrap_or(transport.default_port()), transport, priority.unwrap_or(1), weight.unwrap_or(1));
        if !seen.insert(peer.key().to_owned()) {
            c.error(p.address.span(), ConfigReason::DuplicatePeer(p.address.get_ref().clone()));
        }
        out.push(peer);
    }
    out
}

/// `host[:port]`, read with the SIP URI grammar (RFC 3261 §25.1 `hostport`).
fn peer_address(text: &str) -> Option<(String, Option<u16>)> {
    let uri_text = format!("sip:{text}");
    let Ok(Uri::Sip(uri)) = Uri::parse(&uri_text) else { return None };
    let bare = uri.user().is_none() && uri.params().is_empty() && uri.headers().is_none();
    (bare && uri.port() != Some(0)).then(|| (uri.host_str().trim_start_matches('[').trim_end_matches(']').to_owned(), uri.port()))
}

fn keepalive(c: &mut Compiler, raw: Option<&KeepaliveConfig>) -> Option<KeepaliveSettings> {
    let default = KeepaliveConfig {
        enabled: None,
        interval_secs: None,
        timeout_secs: None,
        failures_before_down: None,
        successes_before_up: None,
    };
    let k = raw.unwrap_or(&default);
    if k.enabled == Some(false) {
        return None;
    }
    let interval = c.ranged("interval_secs", k.interval_secs.as_ref(), (1, 3600), 60);
    let timeout = c.ranged("timeout_secs", k.timeout_secs.as_ref(), (1, interval.unwrap_or(3600)), 10.min(interval.unwrap_or(10)));
    let failures = c.ranged("failures_before_down", k.failures_before_down.as_ref(), (1, 10), 3);
    let successes = c.ranged("successes_before_up", k.successes_before_up.as_ref(), (1, 10), 1);
    Some(KeepaliveSettings {
        interval: Duration::from_secs(interval.unwrap_or(60)),
        timeout: Duration::from_secs(timeout.unwrap_or(10)),
        failures_before_down: failures.and_then(|v| u32::try_from(v).ok()).unwrap_or(3),
        successes_before_up: successes.and_then(|v| u32::try_from(v).ok()).unwrap_or(1),
    })
}

fn profile(c: &mut Compiler, raw: Option<&SipProfileConfig>) -> SipProfile {
    let mut names = |list: &[Spanned<String>], strip: bool| -> Vec<String> {
        list.iter()
            .filter_map(|h| {
                let name = h.get_ref().trim().to_ascii_lowercase();
                let token = !name.is_empty() && name.bytes().all(|b| b.is_ascii_alphanumeric() || b"-.!%*_+`'~".contains(&b));
                if !token {
                    c.error(h.span(), ConfigReason::BadHeaderName(h.get_ref().clone()));
                    None
                } else if strip && CORE_HEADERS.contains(&name.as_str()) {
                    c.error(h.span(), ConfigReason::CoreHeader(h.get_ref().clone()));
                    None
                } else {
                    Some(name)
                }
            })
            .collect()
    };
    let Some(raw) = raw else { return SipProfile { strip_headers: Vec::new(), pass_headers: Vec::new() } };
    let strip_headers = names(&raw.strip_headers, true);
    let pass_headers = names(&raw.pass_headers, false);
    for h in &raw.pass_headers {
        if strip_headers.contains(&h.get_ref().trim().to_ascii_lowercase()) {
            c.error(h.span(), ConfigReason::HeaderInBothLists(h.get_ref().clone()));
        }
    }
    SipProfile { strip_headers, pass_headers }
}

fn host_name(c: &mut Compiler, key: &'static str, value: &Spanned<String>) -> Option<String> {
    let text = value.get_ref().trim_end_matches('.');
    match Host::parse(text) {
        Ok(Host::Name(_)) => Some(text.to_ascii_lowercase()),
        _ => {
            c.error(value.span(), ConfigReason::BadHostName { key, value: value.get_ref().clone() });
            None
        }
    }
}

fn contact_param(c: &mut Compiler, raw: &Spanned<String>) -> Option<ContactParam> {
    let token = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_alphanumeric() || b"-.!%*_+`'~".contains(&b));
    let text = raw.get_ref().trim();
    let (name, value) = match text.split_once('=') {
        Some((n, v)) => (n.trim(), Some(v.trim())),
        None => (text, None),
    };
    if token(name) && value.is_none_or(token) {
        Some(ContactParam { name: name.to_ascii_lowercase(), value: value.map(str::to_ascii_lowercase) })
    } else {
        c.error(raw.span(), ConfigReason::BadContactParam(raw.get_ref().clone()));
        None
    }
}
