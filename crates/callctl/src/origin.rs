//! Who places a call: a registered device (line CSS, then device CSS), or a zone (the trunk's
//! CSS) — unless the caller is one of a user's associated identities, in which case the call is
//! *anchored*: placed by that user, with that user's CSS and enterprise identity.
//!
//! Anchoring follows the trunk's "trusted received identity" (CUCM 12+): with `pai-only` (the
//! default) only P-Asserted-Identity of an authenticated request counts, so an unauthenticated
//! caller cannot borrow a user's class of service by writing that user's cloud address in From.
//! With `from-or-pai`, PAI of an authenticated request is tried first, then From.

use causeway_policy::Address;

use crate::cluster::Cluster;
use crate::dialplan::{Trace, TraceStep};
use crate::directory::{CssId, PartitionId, UserId};

/// How far a trunk trusts the identity headers of calls it delivers.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, serde::Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum TrustedIdentity {
    /// Only P-Asserted-Identity, and only on authenticated requests.
    #[default]
    PaiOnly,
    /// PAI on authenticated requests, else From.
    FromOrPai,
}

/// A zone that delivers calls into call control (a CUCM SIP trunk).
#[derive(Debug, Clone)]
pub struct Trunk {
    /// The zone.
    pub zone: String,
    /// CSS of calls that are not anchored.
    pub css: Option<CssId>,
    /// Identity trust.
    pub trusted_identity: TrustedIdentity,
}

/// The cloud's loop marker and the zones it protects.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LoopAvoidance {
    /// Contact parameter name, lower-case.
    pub param: String,
    /// Its value, if the marker has one (compared case-insensitively).
    pub value: Option<String>,
    /// Zones a marked call never forks to an associated identity through.
    pub zones: Vec<String>,
}

impl Default for LoopAvoidance {
    fn default() -> Self {
        Self { param: "call-type".to_owned(), value: Some("squared".to_owned()), zones: Vec::new() }
    }
}

impl LoopAvoidance {
    fn marks(&self, params: &[(String, Option<String>)]) -> bool {
        params.iter().any(|(name, value)| {
            name.eq_ignore_ascii_case(&self.param)
                && match (&self.value, value) {
                    (None, _) => true,
                    (Some(want), Some(got)) => want.eq_ignore_ascii_case(got.trim_matches('"')),
                    (Some(_), None) => false,
                }
        })
    }

    /// The marker as written in config.
    pub fn marker(&self) -> String {
        match &self.value {
            Some(v) => format!("{}={v}", self.param),
            None => self.param.clone(),
        }
    }
}

/// A call that arrived from a zone.
#[derive(Debug, Clone)]
pub struct ZoneCall {
    /// The zone the edge classified it into.
    pub zone: String,
    /// Whether the zone's authentication policy vouched for it.
    pub authenticated: bool,
    /// From.
    pub from: Address,
    /// P-Asserted-Identity values (RFC 3325), as kept by the edge.
    pub asserted: Vec<Address>,
    /// Contact header parameters (name, value), where the loop marker is looked for.
    pub contact_params: Vec<(String, Option<String>)>,
}

/// Who places the call.
#[derive(Debug, Clone)]
pub enum Origin {
    /// A registered device of this cluster.
    Device {
        /// Device name.
        device: String,
        /// DN of the line used (the From user part); `None`: the device's first line.
        line: Option<String>,
    },
    /// A zone.
    Zone(ZoneCall),
}

/// The identity presented on outgoing legs.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize)]
pub struct CallingIdentity {
    /// Calling number.
    pub number: Option<String>,
    /// Display name.
    pub display_name: Option<String>,
    /// URI (`user@host`): the directory URI for enterprise callers.
    pub uri: Option<String>,
}

/// The caller as call control sees it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Placement {
    /// Partitions in search order.
    pub search: Vec<PartitionId>,
    /// The user placing the call (device owner, or anchored user).
    pub user: Option<UserId>,
    /// The associated identity the call was anchored by.
    pub anchored_by: Option<String>,
    /// Identity to present.
    pub calling: CallingIdentity,
    /// The cloud loop marker was present.
    pub loop_marked: bool,
    /// The zone the call came from.
    pub zone: Option<String>,
}

/// A device origin that does not hold.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum PlacementError {
    /// No such device.
    #[error("unknown device \"{0}\"")]
    UnknownDevice(String),
    /// The device has no line with that DN.
    #[error("device \"{device}\" has no line {dn}")]
    LineNotOnDevice {
        /// Device.
        device: String,
        /// DN.
        dn: String,
    },
    /// The device has no line at all.
    #[error("device \"{0}\" has no line")]
    NoLine(String),
}

impl Cluster {
    /// Places the call: search order, user, presented identity, anchoring, loop marker.
    pub fn place(&self, origin: &Origin, trace: &mut Trace) -> Result<Placement, PlacementError> {
        match origin {
            Origin::Device { device, line } => self.place_device(device, line.as_deref(), trace),
            Origin::Zone(call) => Ok(self.place_zone(call, trace)),
        }
    }

    fn place_device(&self, name: &str, dn: Option<&str>, trace: &mut Trace) -> Result<Placement, PlacementError> {
        let dir = &self.directory;
        let device = dir.device_by_name(name).and_then(|d| dir.device(d));
        let device = device.ok_or_else(|| PlacementError::UnknownDevice(name.to_owned()))?;
        let line_id = match dn {
            Some(dn) => device.lines.iter().copied().find(|l| dir.line(*l).is_some_and(|l| l.dn == dn)),
            None => device.lines.first().copied(),
        };
        let line_id = line_id.ok_or_else(|| match dn {
            Some(dn) => PlacementError::LineNotOnDevice { device: name.to_owned(), dn: dn.to_owned() },
            None => PlacementError::NoLine(name.to_owned()),
        })?;
        let line = dir.line(line_id).ok_or_else(|| PlacementError::NoLine(name.to_owned()))?;
        let spaces: Vec<CssId> = [line.css, device.css].into_iter().flatten().collect();
        trace.push(TraceStep::Device { device: name.to_owned(), dn: line.dn.clone(), css: self.css_names(&spaces) });
        let user = device.owner.or(line.owner);
        let owner = user.and_then(|u| dir.user(u));
        Ok(Placement {
            search: self.plan.search_order(&spaces),
            user,
            anchored_by: None,
            calling: CallingIdentity {
                number: Some(line.dn.clone()),
                display_name: line.display_name.clone().or_else(|| owner.and_then(|u| u.display_name.clone())),
                uri: owner.and_then(|u| u.directory_uri.clone()),
            },
            loop_marked: false,
            zone: None,
        })
    }

    fn place_zone(&self, call: &ZoneCall, trace: &mut Trace) -> Placement {
        let trunk = self.trunks.iter().find(|t| t.zone == call.zone);
        let trunk_css = trunk.and_then(|t| t.css);
        trace.push(TraceStep::Zone {
            zone: call.zone.clone(),
            css: trunk_css.and_then(|c| self.plan.css(c)).map(|c| c.name.clone()),
            authenticated: call.authenticated,
        });
        let loop_marked = self.loop_avoidance.marks(&call.contact_params);
        if loop_marked {
            trace.push(TraceStep::LoopMarked { marker: self.loop_avoidance.marker() });
        }
        let passthrough = Placement {
            search: self.plan.search_order(&trunk_css.into_iter().collect::<Vec<_>>()),
            user: None,
            anchored_by: None,
            calling: CallingIdentity {
                number: call.from.user().filter(|u| crate::pattern::DialString::parse(u).is_some()).map(str::to_owned),
                display_name: call.from.display().map(str::to_owned),
                uri: Some(call.from.alias()),
            },
            loop_marked,
            zone: Some(call.zone.clone()),
        };
        let Some(trunk) = trunk else {
            trace.push(TraceStep::IdentityIgnored { header: "from", why: "the zone has no trunk: no anchoring" });
            return passthrough;
        };
        let mut identities: Vec<(&'static str, &Address)> = Vec::new();
        if call.authenticated {
            identities.extend(call.asserted.iter().map(|a| ("pai", a)));
        } else if !call.asserted.is_empty() {
            trace.push(TraceStep::IdentityIgnored { header: "pai", why: "request not authenticated" });
        }
        match trunk.trusted_identity {
            TrustedIdentity::FromOrPai => identities.push(("from", &call.from)),
            TrustedIdentity::PaiOnly => {
                trace.push(TraceStep::IdentityIgnored { header: "from", why: "trunk trusts P-Asserted-Identity only" });
            }
        }
        for (header, address) in identities {
            let found = self.directory.associated_identity(address);
            let user = found.and_then(|(u, _)| self.directory.user(u));
            trace.push(TraceStep::IdentityChecked {
                header,
                identity: address.alias(),
                user: user.map(|u| u.userid.clone()),
            });
            if let (Some((uid, _)), Some(user)) = (found, user) {
                let primary = user.primary_line().and_then(|l| self.directory.line(l));
                let spaces: Vec<CssId> = [primary.and_then(|l| l.css), user.anchored_css].into_iter().flatten().collect();
                trace.push(TraceStep::Anchored { user: user.userid.clone(), identity: address.alias(), css: self.css_names(&spaces) });
                return Placement {
                    search: self.plan.search_order(&spaces),
                    user: Some(uid),
                    anchored_by: Some(address.alias()),
                    calling: CallingIdentity {
                        number: primary.map(|l| l.dn.clone()),
                        display_name: primary.and_then(|l| l.display_name.clone()).or_else(|| user.display_name.clone()),
                        uri: user.directory_uri.clone(),
                    },
                    loop_marked,
                    zone: Some(call.zone.clone()),
                };
            }
        }
        passthrough
    }

    fn css_names(&self, spaces: &[CssId]) -> Vec<String> {
        spaces.iter().filter_map(|c| self.plan.css(*c)).map(|c| c.name.clone()).collect()
    }
}
