//! Call control in the node: the registrar and back-to-back user agent (`causeway_b2bua::B2bua`),
//! lent to the proxy core for every received message, its timers and sends driven beside the
//! core's, and what it reports persisted to the store — binding sets and dual-ringing switches in
//! the order they changed (one writer task), each finished call's CDR as soon as it ends (a task
//! per record, so the store's writer group-commits them under load and call processing never
//! waits for the disk).

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use causeway_b2bua::{B2bua, B2buaConfig, BindingRecord, Event, FixedClock, RegistrarConfig, Zones};
use causeway_callctl::{Cluster, Directory};
use causeway_policy::digest::credentials::CredentialTable;
use causeway_proxy::{ListenerConfig, Timers};
use causeway_routing::RoutingTable;
use causeway_store::{Binding, BindingStore, CdrStore, DirectoryStore, Received, Store, StoreError};
use chrono::Utc;
use tokio::sync::{mpsc, Notify};
use tokio::task::JoinHandle;

use crate::stats::CallControlStats;

/// Writes that must reach the store in order, queued at most.
const ORDERED_QUEUE: usize = 1024;

/// What a node runs call control with.
#[derive(Debug, Clone)]
pub struct CallControlConfig {
    /// Call control's snapshot: directory, dial plan, trunks.
    pub cluster: Arc<Cluster>,
    /// Registration times and digest settings.
    pub registrar: RegistrarConfig,
}

/// A write that must follow the one before it.
enum Ordered {
    Bindings { aor: String, bindings: Vec<Binding> },
    DualRing(Vec<(String, bool)>),
}

/// What became of the call records handed to the store.
#[derive(Debug, Default)]
struct CdrWrites {
    handed: AtomicU64,
    written: AtomicU64,
    failed: AtomicU64,
    /// Signalled as each write ends (the node's stop waits for the last).
    ended: Notify,
}

impl CdrWrites {
    fn pending(&self) -> u64 {
        let ended = self.written.load(Ordering::Acquire).saturating_add(self.failed.load(Ordering::Acquire));
        self.handed.load(Ordering::Acquire).saturating_sub(ended)
    }
}

/// The engine and where its events go.
pub(crate) struct CallControl {
    pub(crate) b2bua: B2bua,
    store: Option<(Store, mpsc::Sender<Ordered>)>,
    /// The task writing bindings and switches in order.
    writer: Option<JoinHandle<()>>,
    cdrs: Arc<CdrWrites>,
}

impl CallControl {
    /// An engine for `config` on the node's bound `listeners`, routing legs through `routing`.
    pub(crate) fn new(
        config: &CallControlConfig,
        listeners: Vec<ListenerConfig>,
        server: Option<String>,
        timers: Timers,
        routing: Option<Arc<RoutingTable>>,
        seed: u64,
        now: Instant,
    ) -> Result<Self, causeway_b2bua::ConfigError> {
        let b2bua_config = B2buaConfig { server, timers, registrar: config.registrar.clone(), ..B2buaConfig::new(listeners) };
        // The wall clock is read once, here in the I/O layer; the engine runs with it from `now`.
        let clock = FixedClock { at: now, wall: Utc::now() };
        let b2bua = B2bua::new(b2bua_config, config.cluster.clone(), Zones::new(routing), Box::new(clock), seed, now)?;
        Ok(Self { b2bua, store: None, writer: None, cdrs: Arc::default() })
    }

    /// Keeps state in `store` from now on, after loading the bindings and switches it holds.
    pub(crate) async fn attach(&mut self, store: Store, now: Instant) -> Result<(), StoreError> {
        let bindings = store.all_bindings(Utc::now()).await?;
        let records = bindings.into_iter().map(|(aor, b)| (aor, record_of(b)));
        let loaded = self.b2bua.load_bindings(now, records);
        self.b2bua.load_dual_ring(store.dual_ring_overrides().await?);
        tracing::info!(bindings = loaded, "registrar bindings loaded from the store");
        let (tx, rx) = mpsc::channel(ORDERED_QUEUE);
        self.writer = Some(tokio::spawn(write_in_order(store.clone(), rx)));
        self.store = Some((store, tx));
        Ok(())
    }

    /// Hands every event the engine has to the store.
    pub(crate) fn persist(&mut self) {
        while let Some(event) = self.b2bua.poll_event() {
            let Some((store, ordered)) = &self.store else { continue };
            let write = match event {
                Event::CallRecord(record) => {
                    let store = store.clone();
                    let call_id = record.info.call_id.clone();
                    let cdrs = Arc::clone(&self.cdrs);
                    cdrs.handed.fetch_add(1, Ordering::AcqRel);
                    tokio::spawn(async move {
                        match store.record_call(*record).await {
                            Ok(_) => cdrs.written.fetch_add(1, Ordering::AcqRel),
                            Err(error) => {
                                tracing::warn!(%error, %call_id, "CDR not written");
                                cdrs.failed.fetch_add(1, Ordering::AcqRel)
                            }
                        };
                        cdrs.ended.notify_waiters();
                    });
                    continue;
                }
                Event::Bindings { aor, bindings } => Ordered::Bindings { aor, bindings: bindings.into_iter().map(binding_of).collect() },
                Event::DualRing(overrides) => Ordered::DualRing(overrides),
            };
            if ordered.try_send(write).is_err() {
                tracing::warn!("store queue full: a registration or switch change is not persisted");
            }
        }
    }
}

/// Adds call control's device credentials to the edge's `[[credential]]` table, so that a zone
/// that checks credentials accepts the devices the registrar knows (one table, one digest
/// verifier: the gate's). HA1 hashes are bound to their realm (RFC 7616 §3.4.2), so they are
/// usable only when the directory's realm is the digest realm; a username given in both places
/// keeps its `[[credential]]`. Returns how many devices were added.
pub(crate) fn merge_device_credentials(table: &mut CredentialTable, directory: &Directory) -> usize {
    if directory.realm() != Some(table.realm()) {
        if directory.devices().any(|(_, d)| d.credentials.is_some()) {
            tracing::warn!(
                realm = table.realm(),
                directory = directory.realm().unwrap_or_default(),
                "device credentials are for another realm: zones that check credentials do not accept them"
            );
        }
        return 0;
    }
    let mut added = 0;
    for credentials in directory.devices().filter_map(|(_, d)| d.credentials.as_ref()) {
        if table.contains(&credentials.username) {
            tracing::warn!(username = %credentials.username, "a [[credential]] and a device share a username: the [[credential]] is used");
            continue;
        }
        for ha1 in &credentials.ha1 {
            table.insert(&credentials.username, ha1.clone());
        }
        added += 1;
    }
    added
}

impl CallControl {
    /// The engine's counters at `now` and the call records' writes, for `causeway status`.
    pub(crate) fn stats(&self, now: Instant) -> CallControlStats {
        CallControlStats {
            counters: self.b2bua.counters(now),
            cdrs_written: self.cdrs.written.load(Ordering::Acquire),
            cdrs_pending: self.cdrs.pending(),
            cdrs_failed: self.cdrs.failed.load(Ordering::Acquire),
        }
    }

    /// At the node's stop: waits, at most `limit`, until every binding, switch and call record
    /// handed to the store is written, so what was answered before a stop survives it (a
    /// `*88` answered just before a restart, a call that had ended).
    pub(crate) async fn close(mut self, limit: Duration) {
        self.store = None;
        let writes = async {
            if let Some(writer) = self.writer.take() {
                // The sender is gone with the store: the writer ends after the queued writes.
                let _ = writer.await;
            }
            loop {
                let ended = self.cdrs.ended.notified();
                if self.cdrs.pending() == 0 {
                    break;
                }
                ended.await;
            }
        };
        if tokio::time::timeout(limit, writes).await.is_err() {
            tracing::warn!(pending = self.cdrs.pending(), "stopped before every call record was written");
        }
    }
}

async fn write_in_order(store: Store, mut writes: mpsc::Receiver<Ordered>) {
    while let Some(write) = writes.recv().await {
        let result = match write {
            Ordered::Bindings { aor, bindings } => store.replace_bindings(&aor, bindings, Utc::now()).await,
            Ordered::DualRing(overrides) => store.replace_dual_ring_overrides(overrides).await,
        };
        if let Err(error) = result {
            tracing::warn!(%error, "registrar state not persisted");
        }
    }
}

fn binding_of(r: BindingRecord) -> Binding {
    Binding {
        contact: r.contact,
        expires: r.expires,
        q: r.q,
        call_id: r.call_id,
        cseq: r.cseq,
        instance_id: r.instance_id,
        reg_id: r.reg_id,
        path: r.path,
        received: r.received.map(|(transport, source, local)| Received { transport, source, local }),
    }
}

fn record_of(b: Binding) -> BindingRecord {
    BindingRecord {
        contact: b.contact,
        expires: b.expires,
        q: b.q,
        call_id: b.call_id,
        cseq: b.cseq,
        instance_id: b.instance_id,
        reg_id: b.reg_id,
        path: b.path,
        received: b.received.map(|r| (r.transport, r.source, r.local)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use causeway_policy::digest::credentials::{Algorithm, CredentialStore, Ha1};
    use causeway_policy::SourceText;

    const EXAMPLE: &str = include_str!("../../../examples/callctl/ent-pa.toml");

    fn directory() -> Directory {
        let cluster = Cluster::from_toml_str(SourceText::new("ent-pa.toml", EXAMPLE), &["webex", "pstn-gw", "unity", "teams"]);
        cluster.unwrap_or_else(|e| panic!("{e}")).directory().clone()
    }

    #[test]
    fn device_credentials_join_the_gate_table_in_the_same_realm_only() {
        let directory = directory();
        let device = directory.devices().find_map(|(_, d)| d.credentials.clone()).unwrap_or_else(|| panic!("no device credentials"));
        let mut table = CredentialTable::new("ent-pa.com");
        let own = Ha1::from_password(Algorithm::Md5, "edge-user", "ent-pa.com", "pw");
        table.insert("edge-user", own.clone());
        let devices = directory.devices().filter(|(_, d)| d.credentials.is_some()).count();
        assert_eq!(merge_device_credentials(&mut table, &directory), devices);
        for ha1 in &device.ha1 {
            let found = table.ha1(&device.username, "ent-pa.com", ha1.algorithm());
            assert!(found.is_some_and(|f| f.ct_eq(ha1)), "{}", device.username);
        }
        assert!(table.ha1("edge-user", "ent-pa.com", Algorithm::Md5).is_some_and(|h| h.ct_eq(&own)));

        let mut elsewhere = CredentialTable::new("other.example");
        assert_eq!(merge_device_credentials(&mut elsewhere, &directory), 0, "HA1s of another realm are useless");
        assert!(elsewhere.is_empty());
    }

    #[test]
    fn a_credential_entry_wins_over_a_device_with_the_same_username() {
        let directory = directory();
        let device = directory.devices().find_map(|(_, d)| d.credentials.clone()).unwrap_or_else(|| panic!("no device credentials"));
        let mut table = CredentialTable::new("ent-pa.com");
        let own = Ha1::from_password(Algorithm::Md5, &device.username, "ent-pa.com", "edge-password");
        table.insert(&device.username, own.clone());
        merge_device_credentials(&mut table, &directory);
        assert!(table.ha1(&device.username, "ent-pa.com", Algorithm::Md5).is_some_and(|h| h.ct_eq(&own)));
    }
}
