//! The core's DNS lookups (its [`Resolve`] actions, RFC 3263 as data) performed with
//! hickory-resolver: NAPTR, SRV and A/AAAA, each on its own task so a slow name server never
//! holds up the driver, the answer handed back to the core through a channel.
//!
//! Answers are cached for their TTL by hickory's cache; the TTL reported to the core is what
//! is left of it, so the core's own caches (peer addresses) expire with the records. Failures
//! map to RFC 3263's cases: NXDOMAIN and "no records of that type" are [`DnsAnswer::NoRecords`]
//! (the request gets 404 when nothing else is found), a name server that does not answer in
//! time is [`DnsFailure::Timeout`] (504, RFC 3261 §21.5.5 "Server Time-out" for DNS), SERVFAIL,
//! REFUSED or anything else is [`DnsFailure::ServerFailure`] (503).

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use causeway_proxy::{Resolve, ResolveId, MAX_PENDING};
use causeway_routing::resolve::{AddressRecord, DnsAnswer, DnsFailure, DnsQuery, NaptrRecord, QueryKind, SrvRecord};
use hickory_resolver::config::{LookupIpStrategy, NameServerConfig, ResolverConfig};
use hickory_resolver::name_server::TokioConnectionProvider;
use hickory_resolver::proto::op::ResponseCode;
use hickory_resolver::proto::rr::{RData, RecordType};
use hickory_resolver::proto::xfer::Protocol;
use hickory_resolver::proto::ProtoErrorKind;
use hickory_resolver::{ResolveError, TokioResolver};
use tokio::sync::mpsc;

/// Where and how the node looks names up.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DnsConfig {
    /// Name servers (UDP, then TCP for truncated answers); empty: the system's (`/etc/resolv.conf`).
    pub servers: Vec<SocketAddr>,
    /// Time one attempt may take before it counts as a timeout.
    pub timeout: Duration,
    /// Attempts per lookup before giving up.
    pub attempts: usize,
}

impl Default for DnsConfig {
    fn default() -> Self {
        Self { servers: Vec::new(), timeout: Duration::from_secs(2), attempts: 2 }
    }
}

/// Lookups in flight and their answers.
pub(crate) struct Dns {
    resolver: TokioResolver,
    answers_tx: mpsc::Sender<(ResolveId, DnsAnswer)>,
    answers: mpsc::Receiver<(ResolveId, DnsAnswer)>,
}

impl Dns {
    /// A resolver for `config`. Without servers configured, the system's are used; when they
    /// cannot be read, every lookup fails (as a server failure) and the node runs on without DNS.
    pub(crate) fn new(config: &DnsConfig) -> Self {
        let provider = TokioConnectionProvider::default();
        let mut builder = if config.servers.is_empty() {
            TokioResolver::builder(provider.clone()).unwrap_or_else(|error| {
                tracing::warn!(%error, "no system DNS configuration: names cannot be looked up");
                TokioResolver::builder_with_config(ResolverConfig::new(), provider)
            })
        } else {
            let mut servers = ResolverConfig::new();
            for addr in &config.servers {
                servers.add_name_server(NameServerConfig::new(*addr, Protocol::Udp));
                servers.add_name_server(NameServerConfig::new(*addr, Protocol::Tcp));
            }
            TokioResolver::builder_with_config(servers, provider)
        };
        let options = builder.options_mut();
        options.timeout = config.timeout;
        options.attempts = config.attempts.max(1);
        // RFC 3263 §4.2: A and AAAA together.
        options.ip_strategy = LookupIpStrategy::Ipv4AndIpv6;
        let (answers_tx, answers) = mpsc::channel(MAX_PENDING);
        Self { resolver: builder.build(), answers_tx, answers }
    }

    /// Starts one lookup; its answer comes out of [`Dns::recv`].
    pub(crate) fn start(&self, resolve: Resolve) {
        let resolver = self.resolver.clone();
        let answers = self.answers_tx.clone();
        tokio::spawn(async move {
            let answer = lookup(&resolver, &resolve.query).await;
            tracing::debug!(query = %resolve.query, ?answer, "DNS");
            let _ = answers.send((resolve.id, answer)).await;
        });
    }

    /// The next answer. Cancel-safe.
    pub(crate) async fn recv(&mut self) -> (ResolveId, DnsAnswer) {
        match self.answers.recv().await {
            Some(answer) => answer,
            // `self` holds a sender: the channel never closes.
            None => std::future::pending().await,
        }
    }
}

/// Performs `queries` one after the other with a resolver for `config`, as the node would: the dry run
/// (`causeway locate`) shows the next hops DNS gives.
pub async fn look_up(config: &DnsConfig, queries: &[DnsQuery]) -> Vec<(DnsQuery, DnsAnswer)> {
    let dns = Dns::new(config);
    let mut answers = Vec::with_capacity(queries.len());
    for query in queries {
        answers.push((query.clone(), lookup(&dns.resolver, query).await));
    }
    answers
}

/// Performs `query` and turns hickory's result into routing's answer.
async fn lookup(resolver: &TokioResolver, query: &DnsQuery) -> DnsAnswer {
    // Absolute names: the configured search list never applies to RFC 3263 targets.
    let name = format!("{}.", query.name.trim_end_matches('.'));
    let started = Instant::now();
    match query.kind {
        QueryKind::Address => match resolver.lookup_ip(name.as_str()).await {
            Ok(found) => {
                let ttl = remaining(found.valid_until(), started);
                let records = found
                    .as_lookup()
                    .records()
                    .iter()
                    .filter_map(|r| match r.data() {
                        RData::A(a) => Some(AddressRecord { address: a.0.into(), ttl }),
                        RData::AAAA(a) => Some(AddressRecord { address: a.0.into(), ttl }),
                        _ => None,
                    })
                    .collect();
                DnsAnswer::Addresses(records)
            }
            Err(e) => failure(&e),
        },
        QueryKind::Srv => match resolver.lookup(name.as_str(), RecordType::SRV).await {
            Ok(found) => {
                let ttl = remaining(found.valid_until(), started);
                let records = found
                    .records()
                    .iter()
                    .filter_map(|r| match r.data() {
                        RData::SRV(s) => Some(SrvRecord {
                            priority: s.priority(),
                            weight: s.weight(),
                            port: s.port(),
                            target: s.target().to_ascii(),
                            ttl,
                        }),
                        _ => None,
                    })
                    .collect();
                DnsAnswer::Srv(records)
            }
            Err(e) => failure(&e),
        },
        QueryKind::Naptr => match resolver.lookup(name.as_str(), RecordType::NAPTR).await {
            Ok(found) => {
                let ttl = remaining(found.valid_until(), started);
                let text = |b: &[u8]| String::from_utf8_lossy(b).into_owned();
                let records = found
                    .records()
                    .iter()
                    .filter_map(|r| match r.data() {
                        RData::NAPTR(n) => Some(NaptrRecord {
                            order: n.order(),
                            preference: n.preference(),
                            flags: text(n.flags()),
                            service: text(n.services()),
                            replacement: n.replacement().to_ascii(),
                            ttl,
                        }),
                        _ => None,
                    })
                    .collect();
                DnsAnswer::Naptr(records)
            }
            Err(e) => failure(&e),
        },
    }
}

/// Seconds left of a cached answer (at least 1: an answer is good for the request at hand).
fn remaining(valid_until: Instant, now: Instant) -> u32 {
    u32::try_from(valid_until.saturating_duration_since(now).as_secs()).unwrap_or(u32::MAX).max(1)
}

/// RFC 3263 §4.3 cases: no such name or record → nothing found; no answer in time → timeout;
/// anything else (SERVFAIL, REFUSED, no connection) → server failure.
fn failure(error: &ResolveError) -> DnsAnswer {
    match error.proto().map(|p| p.kind()) {
        Some(ProtoErrorKind::NoRecordsFound { response_code, .. })
            if matches!(*response_code, ResponseCode::NXDomain | ResponseCode::NoError) =>
        {
            DnsAnswer::NoRecords
        }
        Some(ProtoErrorKind::Timeout) => DnsAnswer::Failed(DnsFailure::Timeout),
        _ => DnsAnswer::Failed(DnsFailure::ServerFailure),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use causeway_testdns::{Behaviour, DnsTable, TestDns};
    use std::net::IpAddr;

    fn config(dns: &TestDns) -> DnsConfig {
        DnsConfig { servers: vec![dns.addr()], timeout: Duration::from_millis(300), attempts: 1 }
    }

    fn query(name: &str, kind: QueryKind) -> DnsQuery {
        DnsQuery { name: name.to_owned(), kind }
    }

    fn table() -> DnsTable {
        DnsTable::new()
            .naptr("example.com", 10, 10, "SIPS+D2T", "_sips._tcp.example.com", 300)
            .srv("_sips._tcp.example.com", 1, 10, 5061, "sip1.example.com", 120)
            .srv("_sips._tcp.example.com", 2, 10, 5061, "sip2.example.com", 60)
            .address("sip1.example.com", IpAddr::from([127, 0, 0, 2]), 30)
            .behave("broken.example.com", Behaviour::ServFail)
            .behave("slow.example.com", Behaviour::Silent)
    }

    #[tokio::test]
    async fn rfc3263_records_come_back_as_routing_answers() {
        let server = TestDns::start(table()).unwrap_or_else(|e| panic!("{e}"));
        let dns = Dns::new(&config(&server));
        let naptr = lookup(&dns.resolver, &query("example.com", QueryKind::Naptr)).await;
        let DnsAnswer::Naptr(n) = naptr else { panic!("{naptr:?}") };
        assert_eq!(n.iter().map(|n| (n.service.as_str(), n.replacement.as_str(), n.flags.as_str())).collect::<Vec<_>>(), [("SIPS+D2T", "_sips._tcp.example.com.", "s")]);
        let srv = lookup(&dns.resolver, &query("_sips._tcp.example.com", QueryKind::Srv)).await;
        let DnsAnswer::Srv(s) = srv else { panic!("{srv:?}") };
        assert_eq!(s.iter().map(|s| (s.priority, s.port, s.target.as_str())).collect::<Vec<_>>(), [(1, 5061, "sip1.example.com."), (2, 5061, "sip2.example.com.")]);
        assert!(s.iter().all(|s| s.ttl <= 60), "the smallest TTL of the answer is reported: {s:?}");
        let a = lookup(&dns.resolver, &query("sip1.example.com", QueryKind::Address)).await;
        assert_eq!(a, DnsAnswer::Addresses(vec![AddressRecord { address: IpAddr::from([127, 0, 0, 2]), ttl: 30 }]));
    }

    #[tokio::test]
    async fn rfc3263_failures_map_to_404_503_and_504_cases() {
        let server = TestDns::start(table()).unwrap_or_else(|e| panic!("{e}"));
        let dns = Dns::new(&config(&server));
        assert_eq!(lookup(&dns.resolver, &query("nowhere.example.com", QueryKind::Address)).await, DnsAnswer::NoRecords);
        assert_eq!(lookup(&dns.resolver, &query("sip1.example.com", QueryKind::Srv)).await, DnsAnswer::NoRecords);
        assert_eq!(
            lookup(&dns.resolver, &query("broken.example.com", QueryKind::Address)).await,
            DnsAnswer::Failed(DnsFailure::ServerFailure)
        );
        assert_eq!(lookup(&dns.resolver, &query("slow.example.com", QueryKind::Srv)).await, DnsAnswer::Failed(DnsFailure::Timeout));
    }

    #[tokio::test]
    async fn answers_are_cached_for_their_ttl() {
        let server = TestDns::start(DnsTable::new().address("short.example.com", IpAddr::from([127, 0, 0, 3]), 1)).unwrap_or_else(|e| panic!("{e}"));
        let dns = Dns::new(&config(&server));
        let q = query("short.example.com", QueryKind::Address);
        let first = lookup(&dns.resolver, &q).await;
        assert_eq!(lookup(&dns.resolver, &q).await, first);
        let asked = |server: &TestDns| server.asked().iter().filter(|a| a.kind == "A").count();
        assert_eq!(asked(&server), 1, "the second lookup within the TTL is answered from the cache");
        tokio::time::sleep(Duration::from_millis(1100)).await;
        assert_eq!(lookup(&dns.resolver, &q).await, first);
        assert_eq!(asked(&server), 2, "after the TTL the name is asked again");
    }

    #[tokio::test]
    async fn lookups_run_concurrently_and_answer_by_id() {
        let server = TestDns::start(table()).unwrap_or_else(|e| panic!("{e}"));
        let mut dns = Dns::new(&config(&server));
        dns.start(Resolve { id: ResolveId(1), query: query("slow.example.com", QueryKind::Address) });
        dns.start(Resolve { id: ResolveId(2), query: query("sip1.example.com", QueryKind::Address) });
        let (first, _) = dns.recv().await;
        assert_eq!(first, ResolveId(2), "a slow name server does not hold up other lookups");
        let (second, answer) = dns.recv().await;
        assert_eq!((second, answer), (ResolveId(1), DnsAnswer::Failed(DnsFailure::Timeout)));
    }
}
