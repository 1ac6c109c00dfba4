//! causeway-testdns: a small authoritative DNS responder on loopback UDP for Causeway's tests
//! (issue 3: "a loopback DNS server with SRV/NAPTR records … never the real internet"). It
//! answers NAPTR, SRV, A and AAAA questions from a [`DnsTable`], and can be told to answer a
//! name with NXDOMAIN or SERVFAIL, or not at all (a resolver timeout). Every question is logged,
//! so a test can tell a cached answer from a new lookup.
//!
//! It never forwards, recurses or touches any address but the loopback one it binds; it runs
//! on one plain thread (no runtime), so synchronous and async tests alike can use it.
//!
//! Main types: [`DnsTable`] (records and behaviours), [`TestDns`] (the running responder).

use std::collections::HashMap;
use std::net::{IpAddr, SocketAddr, UdpSocket};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::thread::JoinHandle;
use std::time::Duration;

use hickory_proto::op::{Message, MessageType, OpCode, ResponseCode};
use hickory_proto::rr::rdata::{A, AAAA, NAPTR, SRV};
use hickory_proto::rr::{Name, RData, Record, RecordType};

/// How often the responder thread looks at its stop flag.
const POLL: Duration = Duration::from_millis(50);

/// Why the responder could not start.
#[derive(Debug, thiserror::Error)]
pub enum StartError {
    /// The loopback socket could not be bound or set up.
    #[error("cannot bind the test DNS socket: {0}")]
    Bind(#[from] std::io::Error),
    /// A name in the table is not a DNS name.
    #[error("not a DNS name: {0}")]
    BadName(String),
}

/// What a name gets instead of its records.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Behaviour {
    /// RCODE 3: the name does not exist.
    NxDomain,
    /// RCODE 2: the server failed.
    ServFail,
    /// No answer at all: the resolver times out.
    Silent,
}

/// One question the responder received.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Asked {
    /// The name, lower-case, without the trailing dot.
    pub name: String,
    /// `A`, `AAAA`, `SRV`, `NAPTR`, ...
    pub kind: String,
}

/// The records and behaviours the responder answers from.
#[derive(Debug, Clone, Default)]
pub struct DnsTable {
    records: Vec<(String, u32, RecordData)>,
    behaviours: HashMap<String, Behaviour>,
}

#[derive(Debug, Clone)]
enum RecordData {
    Address(IpAddr),
    Srv { priority: u16, weight: u16, port: u16, target: String },
    Naptr { order: u16, preference: u16, flags: String, service: String, replacement: String },
}

fn key(name: &str) -> String {
    name.trim_end_matches('.').to_ascii_lowercase()
}

impl DnsTable {
    /// An empty table: every name is NXDOMAIN.
    pub fn new() -> Self {
        Self::default()
    }

    /// An A or AAAA record.
    #[must_use]
    pub fn address(mut self, name: &str, ip: IpAddr, ttl: u32) -> Self {
        self.records.push((key(name), ttl, RecordData::Address(ip)));
        self
    }

    /// An SRV record (RFC 2782).
    #[must_use]
    pub fn srv(mut self, name: &str, priority: u16, weight: u16, port: u16, target: &str, ttl: u32) -> Self {
        self.records.push((key(name), ttl, RecordData::Srv { priority, weight, port, target: target.to_owned() }));
        self
    }

    /// A NAPTR record with flag `s` leading to an SRV name (RFC 3263 §4.1).
    #[must_use]
    pub fn naptr(mut self, name: &str, order: u16, preference: u16, service: &str, replacement: &str, ttl: u32) -> Self {
        let data = RecordData::Naptr { order, preference, flags: "s".to_owned(), service: service.to_owned(), replacement: replacement.to_owned() };
        self.records.push((key(name), ttl, data));
        self
    }

    /// Answers every question about `name` this way instead.
    #[must_use]
    pub fn behave(mut self, name: &str, behaviour: Behaviour) -> Self {
        self.behaviours.insert(key(name), behaviour);
        self
    }

    /// The answer to one question: records, or a response code, or silence (`None`).
    fn answer(&self, name: &Name, kind: RecordType) -> Result<Option<(ResponseCode, Vec<Record>)>, StartError> {
        let wanted = key(&name.to_ascii());
        match self.behaviours.get(&wanted) {
            Some(Behaviour::Silent) => return Ok(None),
            Some(Behaviour::NxDomain) => return Ok(Some((ResponseCode::NXDomain, Vec::new()))),
            Some(Behaviour::ServFail) => return Ok(Some((ResponseCode::ServFail, Vec::new()))),
            None => {}
        }
        let mut exists = false;
        let mut answers = Vec::new();
        for (owner, ttl, data) in self.records.iter().filter(|(owner, _, _)| *owner == wanted) {
            exists = true;
            let rdata = match (data, kind) {
                (RecordData::Address(IpAddr::V4(ip)), RecordType::A) => RData::A(A(*ip)),
                (RecordData::Address(IpAddr::V6(ip)), RecordType::AAAA) => RData::AAAA(AAAA(*ip)),
                (RecordData::Srv { priority, weight, port, target }, RecordType::SRV) => {
                    RData::SRV(SRV::new(*priority, *weight, *port, fqdn(target)?))
                }
                (RecordData::Naptr { order, preference, flags, service, replacement }, RecordType::NAPTR) => {
                    let boxed = |s: &str| s.as_bytes().to_vec().into_boxed_slice();
                    RData::NAPTR(NAPTR::new(*order, *preference, boxed(flags), boxed(service), boxed(""), fqdn(replacement)?))
                }
                _ => continue,
            };
            answers.push(Record::from_rdata(fqdn(owner)?, *ttl, rdata));
        }
        // RFC 2308: a name with records of other types is NODATA (NOERROR, no answer), not NXDOMAIN.
        let code = if exists { ResponseCode::NoError } else { ResponseCode::NXDomain };
        Ok(Some((code, answers)))
    }
}

fn fqdn(name: &str) -> Result<Name, StartError> {
    Name::from_ascii(format!("{}.", name.trim_end_matches('.'))).map_err(|_| StartError::BadName(name.to_owned()))
}

struct Shared {
    table: Mutex<DnsTable>,
    asked: Mutex<Vec<Asked>>,
    stop: AtomicBool,
}

/// A running responder on `127.0.0.1:<ephemeral port>`; stops when dropped.
pub struct TestDns {
    addr: SocketAddr,
    shared: Arc<Shared>,
    thread: Option<JoinHandle<()>>,
}

impl TestDns {
    /// Binds an ephemeral loopback UDP port and starts answering from `table`.
    pub fn start(table: DnsTable) -> Result<Self, StartError> {
        for (name, _, _) in &table.records {
            fqdn(name)?;
        }
        let socket = UdpSocket::bind(("127.0.0.1", 0))?;
        socket.set_read_timeout(Some(POLL))?;
        let addr = socket.local_addr()?;
        let shared = Arc::new(Shared { table: Mutex::new(table), asked: Mutex::new(Vec::new()), stop: AtomicBool::new(false) });
        let worker = Arc::clone(&shared);
        let thread = std::thread::Builder::new().name("testdns".into()).spawn(move || serve(&socket, &worker))?;
        Ok(Self { addr, shared, thread: Some(thread) })
    }

    /// Where to point a resolver.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// Every question received so far, in order.
    pub fn asked(&self) -> Vec<Asked> {
        self.shared.asked.lock().unwrap_or_else(PoisonError::into_inner).clone()
    }

    /// Replaces the records and behaviours (a DNS change while a test runs).
    pub fn replace(&self, table: DnsTable) {
        *self.shared.table.lock().unwrap_or_else(PoisonError::into_inner) = table;
    }
}

impl Drop for TestDns {
    fn drop(&mut self) {
        self.shared.stop.store(true, Ordering::Relaxed);
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

fn serve(socket: &UdpSocket, shared: &Shared) {
    let mut buf = [0u8; 4096];
    while !shared.stop.load(Ordering::Relaxed) {
        let Ok((len, from)) = socket.recv_from(&mut buf) else { continue };
        let Some(reply) = buf.get(..len).and_then(|query| respond(query, shared)) else { continue };
        let _ = socket.send_to(&reply, from);
    }
}

/// The response to one datagram, or `None` to stay silent (garbage, or a silent name).
fn respond(query: &[u8], shared: &Shared) -> Option<Vec<u8>> {
    let request = Message::from_vec(query).ok()?;
    let question = request.queries().first()?.clone();
    let asked = Asked { name: key(&question.name().to_ascii()), kind: question.query_type().to_string() };
    shared.asked.lock().unwrap_or_else(PoisonError::into_inner).push(asked);
    let answer = shared.table.lock().unwrap_or_else(PoisonError::into_inner).answer(question.name(), question.query_type());
    let (code, records) = match answer {
        Ok(Some(found)) => found,
        Ok(None) => return None,
        Err(_) => (ResponseCode::ServFail, Vec::new()),
    };
    let mut response = Message::new();
    response
        .set_id(request.id())
        .set_message_type(MessageType::Response)
        .set_op_code(OpCode::Query)
        .set_authoritative(true)
        .set_recursion_desired(request.recursion_desired())
        .set_response_code(code)
        .add_query(question)
        .add_answers(records);
    response.to_vec().ok()
}

#[cfg(test)]
mod tests {
    use super::*;
    use hickory_proto::op::Query;

    fn ask(dns: &TestDns, name: &str, kind: RecordType) -> Option<Message> {
        let socket = UdpSocket::bind(("127.0.0.1", 0)).ok()?;
        socket.set_read_timeout(Some(Duration::from_millis(300))).ok()?;
        let mut q = Message::new();
        q.set_id(7).add_query(Query::query(Name::from_ascii(name).ok()?, kind));
        socket.send_to(&q.to_vec().ok()?, dns.addr()).ok()?;
        let mut buf = [0u8; 4096];
        let (len, _) = socket.recv_from(&mut buf).ok()?;
        Message::from_vec(buf.get(..len)?).ok()
    }

    #[test]
    fn answers_srv_naptr_and_addresses_and_logs_every_question() {
        let table = DnsTable::new()
            .naptr("example.com", 10, 5, "SIP+D2T", "_sip._tcp.example.com", 60)
            .srv("_sip._tcp.example.com", 1, 10, 5070, "pbx.example.com", 30)
            .address("pbx.example.com", IpAddr::from([127, 0, 0, 1]), 20);
        let dns = TestDns::start(table).unwrap_or_else(|e| panic!("{e}"));
        let srv = ask(&dns, "_sip._tcp.example.com.", RecordType::SRV).unwrap_or_else(|| panic!("no SRV answer"));
        assert_eq!(srv.id(), 7);
        let Some(RData::SRV(record)) = srv.answers().first().map(|r| r.data().clone()) else { panic!("{srv:?}") };
        assert_eq!((record.port(), record.target().to_ascii()), (5070, "pbx.example.com.".to_owned()));
        let naptr = ask(&dns, "EXAMPLE.com.", RecordType::NAPTR).unwrap_or_else(|| panic!("no NAPTR answer"));
        assert_eq!(naptr.answers().len(), 1);
        let nodata = ask(&dns, "pbx.example.com.", RecordType::AAAA).unwrap_or_else(|| panic!("no answer"));
        assert_eq!((nodata.response_code(), nodata.answers().len()), (ResponseCode::NoError, 0));
        let missing = ask(&dns, "nowhere.example.com.", RecordType::A).unwrap_or_else(|| panic!("no answer"));
        assert_eq!(missing.response_code(), ResponseCode::NXDomain);
        let kinds: Vec<String> = dns.asked().into_iter().map(|a| format!("{} {}", a.kind, a.name)).collect();
        assert_eq!(kinds, ["SRV _sip._tcp.example.com", "NAPTR example.com", "AAAA pbx.example.com", "A nowhere.example.com"]);
    }

    #[test]
    fn behaviours_override_records() {
        let table = DnsTable::new()
            .address("down.example.com", IpAddr::from([127, 0, 0, 1]), 20)
            .behave("down.example.com", Behaviour::ServFail)
            .behave("slow.example.com", Behaviour::Silent);
        let dns = TestDns::start(table).unwrap_or_else(|e| panic!("{e}"));
        let failed = ask(&dns, "down.example.com.", RecordType::A).unwrap_or_else(|| panic!("no answer"));
        assert_eq!(failed.response_code(), ResponseCode::ServFail);
        assert!(ask(&dns, "slow.example.com.", RecordType::A).is_none(), "a silent name gets no answer");
    }
}
