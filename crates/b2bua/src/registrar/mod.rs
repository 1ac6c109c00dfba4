//! The registrar (RFC 3261 §10.3) of the devices in call control's directory.
//!
//! A REGISTER is authenticated with the policy crate's digest verifier against the devices' HA1
//! credentials (401 challenges, RFC 7616/8760); the authenticated device may bind the address
//! of record named by its digest username, its device name or one of its lines' DNs, under any
//! host of this node, all of which are one AOR: `sip:<username>@<realm>`. Contacts carry their
//! own expiry (423 below the minimum, shortened above the maximum), `*` removes them all, and
//! refreshes are ordered by Call-ID and CSeq (§10.3 step 7). Every binding remembers the flow
//! its REGISTER came over (transport, source address, listener, connection): requests to the
//! contact go back over that flow (RFC 5626 §5.3), which is how phones behind NAT or on TCP/TLS
//! connections are reached. Two contacts with one `+sip.instance` and `reg-id` are one binding
//! (RFC 5626 §6). A change is reported as a [`BindingRecord`] list for the store.

mod contact;

use std::collections::HashMap;
use std::net::SocketAddr;
use std::time::{Duration, Instant};

use causeway_callctl::{Cluster, ContactSnapshot};
use causeway_policy::digest::nonce::NonceSecret;
use causeway_policy::digest::{AuthOutcome, ChallengeKind, DigestAuth, DigestConfig, DigestRequest, Reply};
use causeway_proxy::FlowId;
use causeway_sip::{HeaderName, Message, StatusCode, Transport, Uri};
use chrono::{DateTime, Utc};

use crate::config::RegistrarConfig;
use contact::{ContactSpec, Contacts};

/// Option tags the registrar understands in Require (RFC 3327 `path`, RFC 5626 `outbound`).
const UNDERSTOOD: [&str; 2] = ["path", "outbound"];

/// Where a REGISTER (and so a binding) came from: the flow requests to the contact reuse.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Flow {
    /// Transport of the flow.
    pub transport: Transport,
    /// The UA's address (the packet source).
    pub source: SocketAddr,
    /// The listener it reached.
    pub local: SocketAddr,
    /// The connection, for stream transports; `None` after a restart (connect again).
    pub flow: Option<FlowId>,
}

/// A binding as the store keeps it (wall-clock expiry, no connection id).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BindingRecord {
    /// Contact URI.
    pub contact: String,
    /// When it lapses.
    pub expires: DateTime<Utc>,
    /// q-value × 1000.
    pub q: Option<u16>,
    /// Call-ID of the REGISTER that set it.
    pub call_id: String,
    /// Its CSeq.
    pub cseq: u32,
    /// RFC 5626 `+sip.instance`.
    pub instance_id: Option<String>,
    /// RFC 5626 `reg-id`.
    pub reg_id: Option<u32>,
    /// RFC 3327 Path values.
    pub path: Vec<String>,
    /// The flow it arrived on: transport, source, listener.
    pub received: Option<(Transport, SocketAddr, SocketAddr)>,
}

/// A refusal: the status, a detail for the reason phrase, and header fields to add.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Refusal {
    pub(crate) status: StatusCode,
    pub(crate) detail: String,
    pub(crate) headers: Vec<(&'static str, String)>,
}

impl Refusal {
    pub(crate) fn new(status: StatusCode, detail: &str) -> Self {
        Self { status, detail: detail.to_owned(), headers: Vec::new() }
    }

    pub(crate) fn with_header(mut self, name: &'static str, value: String) -> Self {
        self.headers.push((name, value));
        self
    }
}

/// A REGISTER that succeeded: what the 200 says, and what changed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Registered {
    /// The AOR's bindings now: contact URI and seconds left (§10.3 step 8).
    pub(crate) contacts: Vec<(String, u64)>,
    /// The AOR and its new binding set, when it changed (for the store).
    pub(crate) changed: Option<(String, Vec<BindingRecord>)>,
    /// RFC 5626 §6: the response carries `Require: outbound`.
    pub(crate) outbound: bool,
    /// RFC 3327 §5.3: the Path values to echo.
    pub(crate) path: Vec<String>,
}

#[derive(Debug, Clone)]
struct Bound {
    uri: String,
    expires: Instant,
    q: Option<u16>,
    call_id: String,
    cseq: u32,
    instance: Option<String>,
    reg_id: Option<u32>,
    path: Vec<String>,
    flow: Flow,
}

impl Bound {
    /// RFC 5626 §6: with an instance and reg-id the flow is the identity, else the URI.
    fn same_binding(&self, spec: &ContactSpec) -> bool {
        match (&self.instance, self.reg_id, &spec.instance, spec.reg_id) {
            (Some(a), Some(r), Some(b), Some(s)) => a == b && r == s,
            _ => contact::same_uri(&self.uri, &spec.uri),
        }
    }

    fn record(&self, now: Instant, wall: DateTime<Utc>) -> BindingRecord {
        let left = chrono::Duration::from_std(self.expires.saturating_duration_since(now)).unwrap_or_default();
        BindingRecord {
            contact: self.uri.clone(),
            expires: wall + left,
            q: self.q,
            call_id: self.call_id.clone(),
            cseq: self.cseq,
            instance_id: self.instance.clone(),
            reg_id: self.reg_id,
            path: self.path.clone(),
            received: Some((self.flow.transport, self.flow.source, self.flow.local)),
        }
    }
}

/// One address of record: the device it belongs to and its bindings.
#[derive(Debug, Clone)]
struct Aor {
    device: String,
    bindings: Vec<Bound>,
}

/// The registrar's state and digest verifier.
#[derive(Debug)]
pub struct Registrar {
    config: RegistrarConfig,
    realm: Option<String>,
    digest: DigestAuth,
    aors: HashMap<String, Aor>,
}

impl Registrar {
    /// A registrar for devices of `realm` (`None`: no device has credentials, every REGISTER is
    /// refused). `secret` keys the digest nonces, `epoch` is the engine's start.
    pub fn new(config: RegistrarConfig, realm: Option<&str>, secret: [u8; 32], epoch: Instant) -> Self {
        let digest_config = DigestConfig {
            algorithms: config.algorithms.clone(),
            nonce_lifetime: config.nonce_lifetime,
            ..DigestConfig::new(realm.unwrap_or("causeway"))
        };
        let digest = DigestAuth::new(digest_config, NonceSecret::new(secret), epoch);
        Self { config, realm: realm.map(str::to_owned), digest, aors: HashMap::new() }
    }

    /// RFC 3261 §10.3 for one REGISTER that arrived over `flow` at `now` (= `wall`).
    pub(crate) fn register(
        &mut self,
        now: Instant,
        wall: DateTime<Utc>,
        msg: &Message,
        flow: Flow,
        cluster: &Cluster,
    ) -> Result<Registered, Refusal> {
        // Step 2: Require.
        let unknown: Vec<&str> = msg
            .option_tags(HeaderName::Require)
            .filter_map(Result::ok)
            .filter(|t| !UNDERSTOOD.iter().any(|u| u.eq_ignore_ascii_case(t)))
            .collect();
        if !unknown.is_empty() {
            return Err(Refusal::new(StatusCode::BAD_EXTENSION, "").with_header("Unsupported", unknown.join(", ")));
        }
        // Step 3: authentication.
        let Some(realm) = self.realm.clone() else {
            return Err(Refusal::new(StatusCode::FORBIDDEN, "no device credentials configured"));
        };
        let username = self.authenticate(now, msg, cluster, &realm)?;
        let directory = cluster.directory();
        let device = directory
            .device_by_username(&username)
            .and_then(|d| directory.device(d))
            .ok_or_else(|| Refusal::new(StatusCode::FORBIDDEN, "no device for these credentials"))?;
        // Step 5: the device may bind only its own addresses.
        let to = msg.to_header().map_err(|_| Refusal::new(StatusCode::BAD_REQUEST, "malformed To"))?;
        let to_user = match to.uri() {
            Ok(Uri::Sip(u)) => u.user().map(str::to_owned),
            _ => None,
        };
        let to_user = to_user.ok_or_else(|| Refusal::new(StatusCode::BAD_REQUEST, "To is not a SIP address of record"))?;
        let owns = to_user == username
            || to_user == device.name
            || device.lines.iter().filter_map(|l| directory.line(*l)).any(|l| l.dn == to_user);
        if !owns {
            return Err(Refusal::new(StatusCode::FORBIDDEN, "not allowed to register this address"));
        }
        let aor = format!("sip:{username}@{realm}");
        // Steps 6-7.
        let request = contact::parse(msg, &self.config)?;
        let call_id = msg.call_id().map_err(|_| Refusal::new(StatusCode::BAD_REQUEST, "malformed Call-ID"))?.to_owned();
        let cseq = msg.cseq().map_err(|_| Refusal::new(StatusCode::BAD_REQUEST, "malformed CSeq"))?.seq;
        let path: Vec<String> = if supports(msg, "path") {
            msg.values(HeaderName::Path).filter_map(Result::ok).map(|v| v.text.to_owned()).collect()
        } else {
            Vec::new()
        };
        let entry = self.aors.entry(aor.clone()).or_insert_with(|| Aor { device: device.name.clone(), bindings: Vec::new() });
        entry.device.clone_from(&device.name);
        entry.bindings.retain(|b| b.expires > now);
        let before = entry.bindings.clone();
        let mut outbound = false;
        match request {
            Contacts::Query => {}
            Contacts::RemoveAll => {
                if entry.bindings.iter().any(|b| b.call_id == call_id && cseq <= b.cseq) {
                    return Err(Refusal::new(StatusCode::SERVER_INTERNAL_ERROR, "out-of-order REGISTER"));
                }
                entry.bindings.clear();
            }
            Contacts::Bind(specs) => {
                let mut next = entry.bindings.clone();
                for spec in specs {
                    let existing = next.iter().position(|b| b.same_binding(&spec));
                    if let Some(b) = existing.and_then(|i| next.get(i)) {
                        if b.call_id == call_id && cseq <= b.cseq {
                            return Err(Refusal::new(StatusCode::SERVER_INTERNAL_ERROR, "out-of-order REGISTER"));
                        }
                    }
                    if let Some(i) = existing {
                        next.remove(i);
                    }
                    if spec.expires == 0 {
                        continue;
                    }
                    outbound |= spec.reg_id.is_some() && spec.instance.is_some() && supports(msg, "outbound");
                    next.push(Bound {
                        expires: now + Duration::from_secs(u64::from(spec.expires)),
                        uri: spec.uri,
                        q: spec.q,
                        call_id: call_id.clone(),
                        cseq,
                        instance: spec.instance,
                        reg_id: spec.reg_id,
                        path: path.clone(),
                        flow,
                    });
                }
                if next.len() > self.config.max_contacts {
                    return Err(Refusal::new(StatusCode::FORBIDDEN, "too many contacts for this address"));
                }
                entry.bindings = next;
            }
        }
        let contacts = entry
            .bindings
            .iter()
            .map(|b| (b.uri.clone(), b.expires.saturating_duration_since(now).as_secs()))
            .collect();
        let changed = before.len() != entry.bindings.len()
            || before.iter().zip(&entry.bindings).any(|(a, b)| a.uri != b.uri || a.expires != b.expires || a.flow != b.flow);
        let changed = changed.then(|| (aor.clone(), entry.bindings.iter().map(|b| b.record(now, wall)).collect()));
        if self.aors.get(&aor).is_some_and(|a| a.bindings.is_empty()) {
            self.aors.remove(&aor);
        }
        Ok(Registered { contacts, changed, outbound, path })
    }

    /// §10.3 step 3 with the policy crate's digest verifier: the authenticated digest username.
    fn authenticate(&mut self, now: Instant, msg: &Message, cluster: &Cluster, realm: &str) -> Result<String, Refusal> {
        let request_uri = msg.request_uri_str().unwrap_or_default();
        // One Authorization per realm may be present (RFC 3261 §22.4); ours is the one to check.
        let authorization = msg
            .headers_named(HeaderName::Authorization)
            .filter_map(|h| std::str::from_utf8(h.value).ok())
            .find(|v| v.contains(&format!("realm=\"{realm}\"")) || v.contains(&format!("realm={realm}")));
        let outcome = authorization.map(|authorization| {
            self.digest.verify(now, &DigestRequest { method: "REGISTER", request_uri, authorization }, cluster.directory())
        });
        if let Some(AuthOutcome::Ok { user, .. }) = outcome {
            return Ok(user);
        }
        match self.digest.reply(now, ChallengeKind::Www, outcome.as_ref()) {
            Reply::Challenge(challenge) => {
                let mut refusal = Refusal::new(StatusCode::UNAUTHORIZED, "");
                for value in challenge.values {
                    refusal = refusal.with_header("WWW-Authenticate", value);
                }
                Err(refusal)
            }
            Reply::BadRequest(reason) => Err(Refusal::new(StatusCode::BAD_REQUEST, reason)),
            Reply::Proceed => Err(Refusal::new(StatusCode::SERVER_INTERNAL_ERROR, "digest verifier disagrees")),
        }
    }

    /// Takes bindings kept by the store (at start): each becomes live for the time it had left
    /// at `wall` (= `now`). Bindings of AORs no device owns any more are dropped. Returns how
    /// many were loaded.
    pub fn load(&mut self, now: Instant, wall: DateTime<Utc>, records: impl IntoIterator<Item = (String, BindingRecord)>, cluster: &Cluster) -> usize {
        let directory = cluster.directory();
        let mut loaded = 0;
        for (aor, record) in records {
            let user = aor.strip_prefix("sip:").and_then(|r| r.split('@').next()).unwrap_or_default();
            let Some(device) = directory.device_by_username(user).and_then(|d| directory.device(d)) else { continue };
            let Ok(left) = (record.expires - wall).to_std() else { continue };
            let Some((transport, source, local)) = record.received else { continue };
            let entry = self.aors.entry(aor).or_insert_with(|| Aor { device: device.name.clone(), bindings: Vec::new() });
            if entry.bindings.len() >= self.config.max_contacts {
                continue;
            }
            entry.bindings.push(Bound {
                uri: record.contact,
                expires: now + left,
                q: record.q,
                call_id: record.call_id,
                cseq: record.cseq,
                instance: record.instance_id,
                reg_id: record.reg_id,
                path: record.path,
                flow: Flow { transport, source, local, flow: None },
            });
            loaded += 1;
        }
        loaded
    }

    fn live(&self, now: Instant) -> impl Iterator<Item = (&Aor, &Bound)> {
        self.aors.values().flat_map(move |a| a.bindings.iter().filter(move |b| b.expires > now).map(move |b| (a, b)))
    }

    /// Device name → registered contacts at `now`, highest q first (call control's input).
    pub fn snapshot(&self, now: Instant) -> ContactSnapshot {
        let mut live: Vec<(&Aor, &Bound)> = self.live(now).collect();
        // Device, then highest q, then URI; compared in place (a key per comparison would be two
        // String copies, O(n log n) allocations for every new call).
        live.sort_by(|(a1, b1), (a2, b2)| {
            a1.device.cmp(&a2.device).then_with(|| b2.q.unwrap_or(1000).cmp(&b1.q.unwrap_or(1000))).then_with(|| b1.uri.cmp(&b2.uri))
        });
        let mut snapshot = ContactSnapshot::new();
        for (aor, bound) in live {
            snapshot.add(&aor.device, &bound.uri);
        }
        snapshot
    }

    /// The flow a request to `contact` goes over, while it is bound.
    pub fn flow_of(&self, contact: &str, now: Instant) -> Option<Flow> {
        self.live(now).find(|(_, b)| b.uri == contact).map(|(_, b)| b.flow)
    }

    /// The contacts bound for the AOR whose user part is `user` (digest username or device
    /// name), highest q first: the targets of a request addressed to it.
    pub fn lookup(&self, user: &str, now: Instant, cluster: &Cluster) -> Vec<(String, Flow)> {
        let directory = cluster.directory();
        let device = directory.device_by_username(user).or_else(|| directory.device_by_name(user));
        let Some(device) = device.and_then(|d| directory.device(d)) else { return Vec::new() };
        let mut found: Vec<&Bound> = self.live(now).filter(|(a, _)| a.device == device.name).map(|(_, b)| b).collect();
        found.sort_by_key(|b| std::cmp::Reverse(b.q.unwrap_or(1000)));
        found.into_iter().map(|b| (b.uri.clone(), b.flow)).collect()
    }

    /// The device a request comes from, if its source is the flow of one of that device's
    /// bindings (same transport and address): how a registered phone's calls are recognised.
    pub fn device_at(&self, transport: Transport, source: SocketAddr, now: Instant) -> Option<&str> {
        self.live(now)
            .find(|(_, b)| b.flow.transport == transport && b.flow.source == source)
            .map(|(a, _)| a.device.as_str())
    }

    /// Whether `user` is the user part of a registrable address (a device's digest username or
    /// name), so requests to it are the location service's.
    pub fn is_aor_user(user: &str, cluster: &Cluster) -> bool {
        let directory = cluster.directory();
        directory.device_by_username(user).or_else(|| directory.device_by_name(user)).is_some()
    }

    /// Contacts bound at `now`.
    pub fn bound(&self, now: Instant) -> usize {
        self.live(now).count()
    }

    /// Live bindings at `now` as (AOR, device, contact, seconds left), for admin views and tests.
    pub fn bindings(&self, now: Instant) -> Vec<(String, String, String, u64)> {
        let mut out: Vec<_> = self
            .aors
            .iter()
            .flat_map(|(aor, a)| {
                a.bindings.iter().filter(|b| b.expires > now).map(move |b| {
                    (aor.clone(), a.device.clone(), b.uri.clone(), b.expires.saturating_duration_since(now).as_secs())
                })
            })
            .collect();
        out.sort();
        out
    }
}

/// Whether the request lists `tag` in Supported or Require.
fn supports(msg: &Message, tag: &str) -> bool {
    [HeaderName::Supported, HeaderName::Require]
        .into_iter()
        .any(|h| msg.option_tags(h).filter_map(Result::ok).any(|t| t.eq_ignore_ascii_case(tag)))
}
