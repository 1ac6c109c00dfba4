//! Registrar bindings (RFC 3261 §10.3): address of record → contacts, each with its expiry, the
//! Call-ID/CSeq of the REGISTER that last set it, the RFC 5626 instance-id and reg-id, the RFC 3327
//! Path, and the flow it arrived on. The registrar decides; this module only says how a binding
//! is stored so that a restart keeps it.

use std::net::SocketAddr;

use causeway_sip::Transport;
use chrono::{DateTime, Utc};
use serde::Serialize;

use crate::error::StoreError;

/// One contact bound to an address of record.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Binding {
    /// The Contact URI, as the registrar compares it (RFC 3261 §10.3 step 6).
    pub contact: String,
    /// When the binding lapses (RFC 3261 §10.2.1.1); gone from lookups from then on.
    pub expires: DateTime<Utc>,
    /// The contact's q-value × 1000 (RFC 3261 §20.10: 0 to 1 with three decimals).
    pub q: Option<u16>,
    /// Call-ID of the REGISTER that set it (RFC 3261 §10.3 step 7: ordering of refreshes).
    pub call_id: String,
    /// CSeq of that REGISTER.
    pub cseq: u32,
    /// `+sip.instance` (RFC 5626 §4.1), as the UA sent it.
    pub instance_id: Option<String>,
    /// `reg-id` (RFC 5626 §4.2).
    pub reg_id: Option<u32>,
    /// The Path header values in order (RFC 3327 §5.3), used as a preloaded route.
    pub path: Vec<String>,
    /// The flow the REGISTER came over (RFC 5626 §5.2), if the registrar keeps it.
    pub received: Option<Received>,
}

/// Where a REGISTER came from: the flow's transport and both addresses (RFC 5626 §3.3: a flow
/// is named by this tuple, so the node can find the live connection again after a restart).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Received {
    /// Transport of the flow.
    #[serde(serialize_with = "transport_token")]
    pub transport: Transport,
    /// The UA's address (the packet source).
    pub source: SocketAddr,
    /// Causeway's address the REGISTER reached.
    pub local: SocketAddr,
}

fn transport_token<S: serde::Serializer>(transport: &Transport, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str(transport.via_token())
}

/// The `bindings` row (without the AOR).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct BindingRow {
    pub(crate) contact: String,
    pub(crate) expires: DateTime<Utc>,
    pub(crate) q: Option<i64>,
    pub(crate) call_id: String,
    pub(crate) cseq: i64,
    pub(crate) instance_id: Option<String>,
    pub(crate) reg_id: Option<i64>,
    pub(crate) path: String,
    pub(crate) transport: Option<String>,
    pub(crate) source: Option<String>,
    pub(crate) local: Option<String>,
}

impl BindingRow {
    pub(crate) fn from_binding(b: &Binding) -> Result<Self, StoreError> {
        let path = serde_json::to_string(&b.path).map_err(|e| StoreError::Encode { what: "Path", error: e.into() })?;
        Ok(Self {
            contact: b.contact.clone(),
            expires: b.expires,
            q: b.q.map(i64::from),
            call_id: b.call_id.clone(),
            cseq: i64::from(b.cseq),
            instance_id: b.instance_id.clone(),
            reg_id: b.reg_id.map(i64::from),
            path,
            transport: b.received.map(|r| r.transport.via_token().to_owned()),
            source: b.received.map(|r| r.source.to_string()),
            local: b.received.map(|r| r.local.to_string()),
        })
    }

    pub(crate) fn into_binding(self) -> Result<Binding, StoreError> {
        let received = match (self.transport, self.source, self.local) {
            (Some(transport), Some(source), Some(local)) => Some(Received {
                transport: parse_transport(&transport)?,
                source: source.parse().map_err(|_| StoreError::corrupt("bindings.source", &source))?,
                local: local.parse().map_err(|_| StoreError::corrupt("bindings.local", &local))?,
            }),
            (None, None, None) => None,
            (transport, ..) => return Err(StoreError::corrupt("bindings.transport", format!("{transport:?} without both addresses"))),
        };
        Ok(Binding {
            path: serde_json::from_str(&self.path).map_err(|_| StoreError::corrupt("bindings.path", &self.path))?,
            contact: self.contact,
            expires: self.expires,
            q: self.q.map(|q| u16::try_from(q).map_err(|_| StoreError::corrupt("bindings.q", q))).transpose()?,
            call_id: self.call_id,
            cseq: u32::try_from(self.cseq).map_err(|_| StoreError::corrupt("bindings.cseq", self.cseq))?,
            instance_id: self.instance_id,
            reg_id: self.reg_id.map(|r| u32::try_from(r).map_err(|_| StoreError::corrupt("bindings.reg_id", r))).transpose()?,
            received,
        })
    }
}

fn parse_transport(token: &str) -> Result<Transport, StoreError> {
    [Transport::Udp, Transport::Tcp, Transport::Tls]
        .into_iter()
        .find(|t| t.via_token() == token)
        .ok_or_else(|| StoreError::corrupt("bindings.transport", token))
}

/// Refuses a replacement set that binds one contact twice.
pub(crate) fn check_unique(aor: &str, bindings: &[Binding]) -> Result<(), StoreError> {
    let mut seen = std::collections::HashSet::with_capacity(bindings.len());
    match bindings.iter().find(|b| !seen.insert(b.contact.as_str())) {
        Some(b) => Err(StoreError::DuplicateContact { aor: aor.to_owned(), contact: b.contact.clone() }),
        None => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tls_binding() -> Binding {
        Binding {
            contact: "sips:alice@[2001:db8::10]:50123;transport=tls;ob".to_owned(),
            expires: DateTime::UNIX_EPOCH,
            q: Some(1000),
            call_id: "r@h".to_owned(),
            cseq: u32::MAX,
            instance_id: Some("<urn:uuid:00000000-0000-1000-8000-aabbccddeeff>".to_owned()),
            reg_id: Some(2),
            path: vec!["<sip:edge.example.com;lr>".to_owned()],
            received: Some(Received {
                transport: Transport::Tls,
                source: "[2001:db8::10]:50123".parse().expect("v6"),
                local: "[2001:db8::1]:5061".parse().expect("v6"),
            }),
        }
    }

    #[test]
    fn rows_round_trip() {
        let b = tls_binding();
        assert_eq!(BindingRow::from_binding(&b).expect("row").into_binding().expect("binding"), b);
        let bare = Binding { received: None, instance_id: None, reg_id: None, path: Vec::new(), q: None, ..b };
        assert_eq!(BindingRow::from_binding(&bare).expect("row").into_binding().expect("binding"), bare);
    }

    #[test]
    fn bad_rows_are_refused() {
        let row = BindingRow::from_binding(&tls_binding()).expect("row");
        let sctp = BindingRow { transport: Some("SCTP".to_owned()), ..row.clone() };
        assert!(matches!(sctp.into_binding(), Err(StoreError::Corrupt { column: "bindings.transport", .. })));
        let half = BindingRow { source: None, ..row.clone() };
        assert!(matches!(half.into_binding(), Err(StoreError::Corrupt { column: "bindings.transport", .. })));
        let path = BindingRow { path: "not json".to_owned(), ..row.clone() };
        assert!(matches!(path.into_binding(), Err(StoreError::Corrupt { column: "bindings.path", .. })));
        let cseq = BindingRow { cseq: -1, ..row };
        assert!(matches!(cseq.into_binding(), Err(StoreError::Corrupt { column: "bindings.cseq", .. })));
    }

    #[test]
    fn a_contact_is_bound_once() {
        let b = tls_binding();
        assert!(check_unique("sip:alice@example.com", std::slice::from_ref(&b)).is_ok());
        match check_unique("sip:alice@example.com", &[b.clone(), b.clone()]) {
            Err(StoreError::DuplicateContact { contact, .. }) => assert_eq!(contact, b.contact),
            other => panic!("expected DuplicateContact, got {other:?}"),
        }
    }
}
