//! The room display policy (flow F6) as a pure state machine: displays, presentation and button presses in,
//! `MonitorRole` settings out. No I/O and no clock: the controller feeds [`DisplayPolicy::handle`] and
//! applies what [`DisplayPolicy::poll_changes`] returns.
//!
//! Rules, in order:
//! 1. Connected displays are ranked by native resolution (width × height, largest first; ties go to the
//!    lowest connector number).
//! 2. No presentation: the remote speaker (`First`) is on the largest display; the others get `Second`,
//!    `Third`, … by rank (RoomOS has no role past `Third`, so a fourth display and beyond share `Third`).
//! 3. A presentation (local HDMI/wireless share or a remote share) puts the presentation on the largest
//!    display (`PresentationOnly`) and the speaker on the next (`First`); with one display it stays `First`,
//!    where RoomOS composes both.
//! 4. The swap button exchanges the roles of the two top-ranked displays; the swap lasts until the
//!    presentation state changes (start, stop, or a different source).
//! 5. Any display change re-ranks; disconnected connectors are left alone.

use std::collections::BTreeMap;
use std::fmt;
use std::str::FromStr;

/// `Configuration Video Output Connector[n] MonitorRole` values.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum MonitorRole {
    /// The device decides.
    Auto,
    /// Main video (the remote speaker).
    First,
    /// Second video role.
    Second,
    /// Third video role.
    Third,
    /// Presentation only, never people.
    PresentationOnly,
    /// Recording output.
    Recorder,
}

impl MonitorRole {
    /// Every role, in the order the RoomOS schema lists them.
    pub const ALL: [MonitorRole; 6] = [
        MonitorRole::Auto,
        MonitorRole::First,
        MonitorRole::Second,
        MonitorRole::Third,
        MonitorRole::PresentationOnly,
        MonitorRole::Recorder,
    ];

    /// The xAPI spelling.
    pub fn as_str(self) -> &'static str {
        match self {
            MonitorRole::Auto => "Auto",
            MonitorRole::First => "First",
            MonitorRole::Second => "Second",
            MonitorRole::Third => "Third",
            MonitorRole::PresentationOnly => "PresentationOnly",
            MonitorRole::Recorder => "Recorder",
        }
    }
}

impl fmt::Display for MonitorRole {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A string that is not a MonitorRole value.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown MonitorRole {0:?} (expected Auto, First, Second, Third, PresentationOnly or Recorder)")]
pub struct UnknownRole(pub String);

impl FromStr for MonitorRole {
    type Err = UnknownRole;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        MonitorRole::ALL
            .into_iter()
            .find(|r| r.as_str().eq_ignore_ascii_case(s))
            .ok_or_else(|| UnknownRole(s.to_owned()))
    }
}

/// What the device says about one output connector.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Display {
    /// `Status Video Output Connector[n] Connected`.
    pub connected: bool,
    /// Native resolution width in pixels (`Resolution Width`).
    pub width: u32,
    /// Native resolution height in pixels (`Resolution Height`).
    pub height: u32,
}

impl Display {
    fn area(&self) -> u64 {
        u64::from(self.width) * u64::from(self.height)
    }
}

/// Where a presentation comes from; both may be true at once.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Presentation {
    /// A local source is shared (`Status Conference Presentation LocalInstance` is not empty).
    pub local: bool,
    /// The far end is sharing (`Status Conference Presentation Mode: Receiving`).
    pub remote: bool,
}

impl Presentation {
    /// True when anything is being presented.
    pub fn active(&self) -> bool {
        self.local || self.remote
    }
}

/// An input to the policy.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Input {
    /// A connector's status changed (or was first read).
    Display {
        /// Connector number (`Video Output Connector[n]`).
        connector: u64,
        /// Its current status.
        display: Display,
    },
    /// A connector disappeared from the status tree.
    DisplayRemoved {
        /// Connector number.
        connector: u64,
    },
    /// The presentation state changed (or was first read).
    Presentation(Presentation),
    /// The custom swap button on the touch panel was pressed.
    SwapPressed,
    /// The device reports a connector's current MonitorRole (read at connect, or feedback).
    RoleObserved {
        /// Connector number.
        connector: u64,
        /// The role the device has now.
        role: MonitorRole,
    },
}

/// One setting to apply: `xSet Configuration Video Output Connector[connector] MonitorRole = role`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RoleChange {
    /// Connector number.
    pub connector: u64,
    /// The role to set.
    pub role: MonitorRole,
}

/// Per-room display policy state.
#[derive(Debug, Clone, Default)]
pub struct DisplayPolicy {
    displays: BTreeMap<u64, Display>,
    presentation: Presentation,
    swapped: bool,
    /// What the device has, as far as we know (observed, or set by us).
    device_roles: BTreeMap<u64, MonitorRole>,
}

impl DisplayPolicy {
    /// A policy that knows no displays yet.
    pub fn new() -> Self {
        Self::default()
    }

    /// Feeds one input.
    pub fn handle(&mut self, input: Input) {
        match input {
            Input::Display { connector, display } => {
                self.displays.insert(connector, display);
            }
            Input::DisplayRemoved { connector } => {
                self.displays.remove(&connector);
            }
            Input::Presentation(p) => {
                if p != self.presentation {
                    self.swapped = false;
                }
                self.presentation = p;
            }
            Input::SwapPressed => self.swapped = !self.swapped,
            Input::RoleObserved { connector, role } => {
                self.device_roles.insert(connector, role);
            }
        }
    }

    /// Forgets what the device has; call when a new connection starts, before reading the device again.
    pub fn forget_device_roles(&mut self) {
        self.device_roles.clear();
    }

    /// True while a manual swap is in force.
    pub fn swapped(&self) -> bool {
        self.swapped
    }

    /// Connected connectors, best first (largest native resolution, then lowest connector).
    pub fn ranking(&self) -> Vec<u64> {
        let mut ranked: Vec<(u64, Display)> =
            self.displays.iter().filter(|(_, d)| d.connected).map(|(c, d)| (*c, *d)).collect();
        ranked.sort_by(|(ca, a), (cb, b)| b.area().cmp(&a.area()).then(ca.cmp(cb)));
        ranked.into_iter().map(|(c, _)| c).collect()
    }

    /// The role every connected display should have now.
    pub fn desired(&self) -> BTreeMap<u64, MonitorRole> {
        let ranked = self.ranking();
        let mut roles: Vec<MonitorRole> = if self.presentation.active() && ranked.len() >= 2 {
            [MonitorRole::PresentationOnly, MonitorRole::First, MonitorRole::Second, MonitorRole::Third].into()
        } else {
            [MonitorRole::First, MonitorRole::Second, MonitorRole::Third].into()
        };
        if self.swapped && ranked.len() >= 2 {
            roles.swap(0, 1);
        }
        ranked
            .into_iter()
            .enumerate()
            .map(|(rank, connector)| {
                let role = roles.get(rank).or(roles.last()).copied().unwrap_or(MonitorRole::Third);
                (connector, role)
            })
            .collect()
    }

    /// The settings that differ from what the device has; they are assumed applied once returned.
    /// A connection that fails before applying them must call [`Self::forget_device_roles`].
    #[must_use]
    pub fn poll_changes(&mut self) -> Vec<RoleChange> {
        let changes: Vec<RoleChange> = self
            .desired()
            .into_iter()
            .filter(|(connector, role)| self.device_roles.get(connector) != Some(role))
            .map(|(connector, role)| RoleChange { connector, role })
            .collect();
        for c in &changes {
            self.device_roles.insert(c.connector, c.role);
        }
        changes
    }
}

#[cfg(test)]
mod tests;
