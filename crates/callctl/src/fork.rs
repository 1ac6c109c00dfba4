//! [`ForkPlan`]: who a call to a line rings, when, and with which Single Number Reach timers.
//!
//! A call to a DN rings, at once, every registered contact of every device the line appears on
//! (the registrar's bindings come in as a [`ContactSnapshot`]); and, each after its own
//! `delay_before_ringing`, the owner's remote destinations and associated identities — unless
//! dual ringing is off for the owner, the destination is disabled or outside its schedule at
//! the call's wall time, it is the caller itself, or (loop avoidance) the call carries the
//! cloud's loop marker and the destination is an associated identity reached through one of the
//! protected zones. Numbers route through the owner's remote-destination CSS; URIs through the
//! caller's [`ZoneLookup`] (edge routing). The forward destinations are resolved here too, so
//! the state machine never needs the dial plan.

use std::collections::HashMap;
use std::time::Duration;

use chrono::{DateTime, Utc};

use crate::cluster::Cluster;
use crate::dialplan::{Outcome, Trace};
use crate::directory::{Destination, Forward, Line, LineId, ReachKind, RemoteDestination, User};
use crate::origin::Placement;
use crate::toggle::DualRingSwitches;

/// The registrar's bindings at call time: device name → contact URIs (RFC 3261 §10.3).
#[derive(Debug, Clone, Default)]
pub struct ContactSnapshot {
    by_device: HashMap<String, Vec<String>>,
}

impl ContactSnapshot {
    /// No bindings.
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds a binding of `device`.
    pub fn add(&mut self, device: &str, contact: &str) {
        self.by_device.entry(device.to_owned()).or_default().push(contact.to_owned());
    }

    /// Builder form of [`Self::add`].
    #[must_use]
    pub fn with(mut self, device: &str, contact: &str) -> Self {
        self.add(device, contact);
        self
    }

    /// The contacts of `device`.
    pub fn contacts(&self, device: &str) -> &[String] {
        self.by_device.get(device).map_or(&[], Vec::as_slice)
    }
}

/// Edge routing's answer for a URI: every zone it may leave through, in the order they are tried
/// (an `on_match = continue` chain gives several; empty: unroutable).
pub trait ZoneLookup {
    /// The zones for `uri`, in order.
    fn zones_for(&self, uri: &str) -> Vec<String>;
}

impl<F: Fn(&str) -> Vec<String>> ZoneLookup for F {
    fn zones_for(&self, uri: &str) -> Vec<String> {
        self(uri)
    }
}

/// Why a forward happens.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum ForwardReason {
    /// Nobody answered in time (CFNA).
    NoAnswer,
    /// Busy everywhere (CFB).
    Busy,
}

/// What a leg is.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(tag = "kind", rename_all = "kebab-case")]
pub enum LegKind {
    /// A registered contact of a device on the line.
    Device {
        /// Device name.
        device: String,
    },
    /// A remote destination or associated identity.
    Remote {
        /// Owner's user id.
        user: String,
        /// Destination name.
        name: String,
        /// Which kind.
        reach: ReachKind,
    },
    /// A forward destination.
    Forward {
        /// Why.
        reason: ForwardReason,
    },
    /// A call routed out by a route pattern (one leg).
    Routed,
}

/// Where a leg's INVITE goes.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
#[serde(tag = "via", rename_all = "snake_case")]
pub enum LegTarget {
    /// A registrar binding: send to the contact (over its flow, RFC 5626).
    Contact {
        /// The contact URI.
        contact: String,
    },
    /// Out through a zone.
    Zone {
        /// The zone.
        zone: String,
        /// Request-URI user or whole URI.
        destination: String,
        /// Zones the leg must never leave through, whatever later target edge routing finds for
        /// it (loop avoidance: a loop-marked call's associated-identity leg avoids the protected
        /// zones all along an `on_match = continue` chain, not only at its first zone).
        #[serde(skip_serializing_if = "Vec::is_empty")]
        avoid: Vec<String>,
    },
}

impl LegTarget {
    /// The contact or destination, for CDRs.
    pub fn destination(&self) -> &str {
        match self {
            Self::Contact { contact } => contact,
            Self::Zone { destination, .. } => destination,
        }
    }

    /// The zone, if any.
    pub fn zone(&self) -> Option<&str> {
        match self {
            Self::Contact { .. } => None,
            Self::Zone { zone, .. } => Some(zone),
        }
    }
}

/// One leg to start.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PlannedLeg {
    /// What it is.
    pub kind: LegKind,
    /// Where it goes.
    pub target: LegTarget,
    /// Delay after the call starts.
    pub delay: Duration,
    /// Answer-too-soon window (remote legs).
    pub answer_too_soon: Option<Duration>,
    /// Answer-too-late limit (remote legs).
    pub answer_too_late: Option<Duration>,
}

/// Why a destination does not ring.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
#[serde(tag = "why", rename_all = "kebab-case")]
pub enum SkipReason {
    /// A device with no registered contact.
    NotRegistered,
    /// Disabled in config.
    Disabled,
    /// Outside its ring schedule.
    OutsideSchedule,
    /// The owner turned dual ringing off.
    DualRingOff,
    /// It is the caller.
    IsCaller,
    /// Loop avoidance: a marked call never forks back to an associated identity via the cloud.
    LoopAvoidance,
    /// Resolves to a line of this cluster, not a remote place.
    ResolvesToLine,
    /// Blocked by the dial plan.
    Blocked {
        /// The blocking status.
        status: u16,
    },
    /// No route.
    NoRoute,
}

/// A destination that does not ring, and why.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Skipped {
    /// Device name, destination or forward number.
    pub target: String,
    /// Why.
    pub reason: SkipReason,
}

/// A forward: where, after how long, and the legs it starts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ForwardPlan {
    /// Why.
    pub reason: ForwardReason,
    /// The number forwarded to.
    pub destination: String,
    /// No answer: ring time first.
    pub after: Duration,
    /// Legs (several when it forwards to a line with several contacts).
    pub legs: Vec<PlannedLeg>,
}

/// Everything a call to a line does.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ForkPlan {
    /// Legs to start (some after a delay).
    pub legs: Vec<PlannedLeg>,
    /// What does not ring, and why.
    pub skipped: Vec<Skipped>,
    /// Forward on no answer.
    pub no_answer: Option<ForwardPlan>,
    /// Forward on busy.
    pub busy: Option<ForwardPlan>,
}

impl ForkPlan {
    /// One leg out through a zone (a call a route pattern sent out): no SNR, no forwards.
    pub fn routed(zone: &str, destination: &str) -> Self {
        let target = LegTarget::Zone { zone: zone.to_owned(), destination: destination.to_owned(), avoid: Vec::new() };
        let leg = PlannedLeg { kind: LegKind::Routed, target, delay: Duration::ZERO, answer_too_soon: None, answer_too_late: None };
        Self { legs: vec![leg], ..Self::default() }
    }
}

/// What [`Cluster::fork_plan`] needs besides the line.
#[derive(Clone, Copy)]
pub struct ForkInput<'a> {
    /// The caller.
    pub placement: &'a Placement,
    /// Wall time of the call (ring schedules).
    pub wall_time: DateTime<Utc>,
    /// Dual-ringing switches.
    pub switches: &'a DualRingSwitches,
    /// Registrar bindings.
    pub contacts: &'a ContactSnapshot,
    /// Edge routing for URIs.
    pub zones: &'a dyn ZoneLookup,
}

impl Cluster {
    /// The fork plan of a call to `line`. An unknown line (from another snapshot) rings nothing.
    pub fn fork_plan(&self, line: LineId, input: ForkInput<'_>) -> ForkPlan {
        let mut plan = ForkPlan::default();
        let Some(line) = self.directory.line(line) else { return plan };
        let device = |name: &str| LegKind::Device { device: name.to_owned() };
        self.device_legs(line, &device, input.contacts, &mut plan.legs, &mut plan.skipped);
        if let Some(user) = line.owner.and_then(|u| self.directory.user(u)) {
            let on = input.switches.is_on(user);
            for reach in &user.reach {
                let target = reach.destination.as_str().to_owned();
                match self.remote_leg(user, reach, on, input) {
                    Ok(leg) => plan.legs.push(leg),
                    Err(reason) => plan.skipped.push(Skipped { target, reason }),
                }
            }
        }
        plan.no_answer = self.forward(line, line.forward_no_answer.as_ref(), ForwardReason::NoAnswer, input, &mut plan.skipped);
        plan.busy = self.forward(line, line.forward_busy.as_ref(), ForwardReason::Busy, input, &mut plan.skipped);
        plan
    }

    /// Legs to every contact of every device of `line`; `kind` names a leg from its device.
    fn device_legs(
        &self,
        line: &Line,
        kind: &dyn Fn(&str) -> LegKind,
        contacts: &ContactSnapshot,
        legs: &mut Vec<PlannedLeg>,
        skipped: &mut Vec<Skipped>,
    ) {
        for device in line.devices.iter().filter_map(|d| self.directory.device(*d)) {
            let bound = contacts.contacts(&device.name);
            if bound.is_empty() {
                skipped.push(Skipped { target: device.name.clone(), reason: SkipReason::NotRegistered });
            }
            legs.extend(bound.iter().map(|c| PlannedLeg {
                kind: kind(&device.name),
                target: LegTarget::Contact { contact: c.clone() },
                delay: Duration::ZERO,
                answer_too_soon: None,
                answer_too_late: None,
            }));
        }
    }

    fn remote_leg(&self, user: &User, reach: &RemoteDestination, on: bool, input: ForkInput<'_>) -> Result<PlannedLeg, SkipReason> {
        if !on {
            return Err(SkipReason::DualRingOff);
        }
        if !reach.enabled {
            return Err(SkipReason::Disabled);
        }
        if reach.schedule.as_ref().is_some_and(|s| !s.allows(input.wall_time)) {
            return Err(SkipReason::OutsideSchedule);
        }
        if let (Destination::Uri { key, .. }, Some(by)) = (&reach.destination, &input.placement.anchored_by) {
            if by.to_lowercase() == *key {
                return Err(SkipReason::IsCaller);
            }
        }
        // Loop avoidance (flow F2): a loop-marked call never reaches an associated identity
        // through a protected zone, neither first nor further down a continue chain.
        let guarded = input.placement.loop_marked && reach.kind == ReachKind::AssociatedIdentity;
        let avoid = if guarded { self.loop_avoidance.zones.clone() } else { Vec::new() };
        let target = match &reach.destination {
            Destination::Uri { uri, .. } => {
                let located = input.zones.zones_for(uri);
                if located.is_empty() {
                    return Err(SkipReason::NoRoute);
                }
                let zone = located.into_iter().find(|z| !avoid.contains(z)).ok_or(SkipReason::LoopAvoidance)?;
                LegTarget::Zone { zone, destination: uri.clone(), avoid }
            }
            Destination::Number(number) => {
                let css = user.remote_destination_css.ok_or(SkipReason::NoRoute)?;
                let search = self.plan.search_order(&[css]);
                match self.analyse_number(&search, number, &mut Trace::default()) {
                    Outcome::Route { zone, .. } if avoid.contains(&zone) => return Err(SkipReason::LoopAvoidance),
                    Outcome::Route { zone, called, .. } => LegTarget::Zone { zone, destination: called, avoid },
                    Outcome::Line { .. } => return Err(SkipReason::ResolvesToLine),
                    Outcome::Blocked { status, .. } => return Err(SkipReason::Blocked { status }),
                    Outcome::ToggleDualRing { .. } | Outcome::NoMatch => return Err(SkipReason::NoRoute),
                }
            }
        };
        Ok(PlannedLeg {
            kind: LegKind::Remote { user: user.userid.clone(), name: reach.name.clone(), reach: reach.kind },
            target,
            delay: reach.timers.delay_before_ringing,
            answer_too_soon: reach.timers.answer_too_soon,
            answer_too_late: reach.timers.answer_too_late,
        })
    }

    fn forward(&self, line: &Line, forward: Option<&Forward>, reason: ForwardReason, input: ForkInput<'_>, skipped: &mut Vec<Skipped>) -> Option<ForwardPlan> {
        let forward = forward?;
        let destination = forward.destination.to_string();
        let css: Vec<_> = line.forward_css.or(line.css).into_iter().collect();
        let search = self.plan.search_order(&css);
        let mut legs = Vec::new();
        let skip = match self.analyse_number(&search, &forward.destination, &mut Trace::default()) {
            Outcome::Route { zone, called, .. } => {
                legs.push(PlannedLeg {
                    kind: LegKind::Forward { reason },
                    target: LegTarget::Zone { zone, destination: called, avoid: Vec::new() },
                    delay: Duration::ZERO,
                    answer_too_soon: None,
                    answer_too_late: None,
                });
                None
            }
            Outcome::Line { line: to, .. } => {
                if let Some(to) = self.directory.line(to) {
                    self.device_legs(to, &|_| LegKind::Forward { reason }, input.contacts, &mut legs, skipped);
                }
                None
            }
            Outcome::Blocked { status, .. } => Some(SkipReason::Blocked { status }),
            Outcome::ToggleDualRing { .. } | Outcome::NoMatch => Some(SkipReason::NoRoute),
        };
        if let Some(reason) = skip {
            skipped.push(Skipped { target: destination, reason });
            return None;
        }
        Some(ForwardPlan { reason, destination, after: forward.after, legs })
    }
}
