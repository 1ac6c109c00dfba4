//! The validated directory: users, lines (directory numbers), devices, remote destinations and
//! associated identities. Immutable once loaded; the runtime switches (dual ringing on/off)
//! live in [`crate::DualRingSwitches`], registrations in [`crate::ContactSnapshot`].

use std::collections::HashMap;
use std::time::Duration;

use causeway_policy::digest::credentials::{Algorithm, CredentialStore, Ha1};
use causeway_policy::Address;

use crate::pattern::DialString;
use crate::schedule::Schedule;

macro_rules! id_type {
    ($(#[$doc:meta])* $name:ident) => {
        $(#[$doc])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize)]
        pub struct $name(pub(crate) usize);

        impl $name {
            /// Position in the loaded configuration (stable for one snapshot only).
            pub fn index(self) -> usize {
                self.0
            }
        }
    };
}

id_type!(
    /// A user of one [`crate::Cluster`] snapshot.
    UserId
);
id_type!(
    /// A line of one snapshot.
    LineId
);
id_type!(
    /// A device of one snapshot.
    DeviceId
);
id_type!(
    /// A partition of one snapshot.
    PartitionId
);
id_type!(
    /// A calling search space of one snapshot.
    CssId
);

/// An end user.
#[derive(Debug, Clone)]
pub struct User {
    /// User id.
    pub userid: String,
    /// Display name.
    pub display_name: Option<String>,
    /// Mail address.
    pub mail: Option<String>,
    /// Directory URI, `user@host`.
    pub directory_uri: Option<String>,
    /// E.164 number.
    pub e164: Option<String>,
    /// Home cluster FQDN.
    pub home_cfqdn: Option<String>,
    /// Device CSS of calls anchored on this user.
    pub anchored_css: Option<CssId>,
    /// CSS that routes remote destinations given as numbers.
    pub remote_destination_css: Option<CssId>,
    /// Dual ringing at start.
    pub dual_ring: bool,
    /// Remote destinations, then associated identities, in config order.
    pub reach: Vec<RemoteDestination>,
    /// Lines the user owns, in config order; the first is the primary line.
    pub lines: Vec<LineId>,
}

impl User {
    /// The primary line: the first line owned.
    pub fn primary_line(&self) -> Option<LineId> {
        self.lines.first().copied()
    }
}

/// Remote destination or associated identity.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum ReachKind {
    /// A place the line also rings (mobile, another system).
    RemoteDestination,
    /// The user's cloud address: rings with the line and anchors calls from it.
    AssociatedIdentity,
}

/// Where a remote leg goes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Destination {
    /// A SIP URI, as written (validated).
    Uri {
        /// The URI.
        uri: String,
        /// `user@host`, lower-case: the identity key.
        key: String,
    },
    /// A number, routed through the user's remote-destination CSS.
    Number(DialString),
}

impl Destination {
    /// The URI or number as text.
    pub fn as_str(&self) -> &str {
        match self {
            Self::Uri { uri, .. } => uri,
            Self::Number(n) => n.as_str(),
        }
    }
}

/// Single Number Reach timers of one remote destination (CUCM names and defaults).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SnrTimers {
    /// Wait this long after the call arrives before starting the leg.
    pub delay_before_ringing: Duration,
    /// An answer sooner than this after the leg started is a voicemail pickup.
    pub answer_too_soon: Option<Duration>,
    /// Stop the leg ringing this long after it started.
    pub answer_too_late: Option<Duration>,
}

impl Default for SnrTimers {
    fn default() -> Self {
        Self {
            delay_before_ringing: Duration::from_millis(4000),
            answer_too_soon: Some(Duration::from_millis(1500)),
            answer_too_late: Some(Duration::from_millis(19000)),
        }
    }
}

/// A remote destination or associated identity of a user.
#[derive(Debug, Clone)]
pub struct RemoteDestination {
    /// Name.
    pub name: String,
    /// Which of the two.
    pub kind: ReachKind,
    /// Where it rings.
    pub destination: Destination,
    /// Its timers.
    pub timers: SnrTimers,
    /// Rings at all.
    pub enabled: bool,
    /// Rings only inside this schedule.
    pub schedule: Option<Schedule>,
}

/// A forward destination of a line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Forward {
    /// Number dialed.
    pub destination: DialString,
    /// No answer: ring time before forwarding. Busy: zero.
    pub after: Duration,
}

/// A line: a directory number in a partition.
#[derive(Debug, Clone)]
pub struct Line {
    /// The DN.
    pub dn: String,
    /// Its partition.
    pub partition: PartitionId,
    /// The owner, whose remote destinations ring with it.
    pub owner: Option<UserId>,
    /// Line CSS.
    pub css: Option<CssId>,
    /// Display name presented.
    pub display_name: Option<String>,
    /// Forward on no answer.
    pub forward_no_answer: Option<Forward>,
    /// Forward on busy.
    pub forward_busy: Option<Forward>,
    /// CSS of the forward destinations.
    pub forward_css: Option<CssId>,
    /// Devices the line appears on (several: a shared line).
    pub devices: Vec<DeviceId>,
}

/// A device's digest credentials: HA1 only (RFC 7616 §3.4.2), never a password.
#[derive(Debug, Clone)]
pub struct Credentials {
    /// Digest username.
    pub username: String,
    /// One HA1 per algorithm.
    pub ha1: Vec<Ha1>,
}

/// A SIP phone.
#[derive(Debug, Clone)]
pub struct Device {
    /// Name.
    pub name: String,
    /// Owner.
    pub owner: Option<UserId>,
    /// Device CSS.
    pub css: Option<CssId>,
    /// Lines, first = line 1.
    pub lines: Vec<LineId>,
    /// Digest credentials.
    pub credentials: Option<Credentials>,
}

/// The whole directory with its lookup indexes.
#[derive(Debug, Clone, Default)]
pub struct Directory {
    pub(crate) users: Vec<User>,
    pub(crate) lines: Vec<Line>,
    pub(crate) devices: Vec<Device>,
    pub(crate) realm: Option<String>,
    pub(crate) by_userid: HashMap<String, UserId>,
    pub(crate) by_device: HashMap<String, DeviceId>,
    pub(crate) by_username: HashMap<String, DeviceId>,
    /// Associated identity key (`user@host`, lower-case) → (user, index in `reach`).
    pub(crate) identities: HashMap<String, (UserId, usize)>,
}

impl Directory {
    /// A user.
    pub fn user(&self, id: UserId) -> Option<&User> {
        self.users.get(id.0)
    }

    /// A line.
    pub fn line(&self, id: LineId) -> Option<&Line> {
        self.lines.get(id.0)
    }

    /// A device.
    pub fn device(&self, id: DeviceId) -> Option<&Device> {
        self.devices.get(id.0)
    }

    /// Users with their ids.
    pub fn users(&self) -> impl Iterator<Item = (UserId, &User)> {
        self.users.iter().enumerate().map(|(i, u)| (UserId(i), u))
    }

    /// Lines with their ids.
    pub fn lines(&self) -> impl Iterator<Item = (LineId, &Line)> {
        self.lines.iter().enumerate().map(|(i, l)| (LineId(i), l))
    }

    /// Devices with their ids.
    pub fn devices(&self) -> impl Iterator<Item = (DeviceId, &Device)> {
        self.devices.iter().enumerate().map(|(i, d)| (DeviceId(i), d))
    }

    /// A user by user id.
    pub fn user_by_userid(&self, userid: &str) -> Option<UserId> {
        self.by_userid.get(userid).copied()
    }

    /// A device by name.
    pub fn device_by_name(&self, name: &str) -> Option<DeviceId> {
        self.by_device.get(name).copied()
    }

    /// The digest realm of the devices' HA1 credentials, if configured.
    pub fn realm(&self) -> Option<&str> {
        self.realm.as_deref()
    }

    /// The device whose digest username this is (the registrar's lookup after authentication).
    pub fn device_by_username(&self, username: &str) -> Option<DeviceId> {
        self.by_username.get(username).copied()
    }

    /// The user and remote destination whose associated identity `address` is.
    pub fn associated_identity(&self, address: &Address) -> Option<(UserId, &RemoteDestination)> {
        let (user, host) = (address.user()?, address.host()?);
        let (uid, idx) = *self.identities.get(&identity_key(user, host))?;
        Some((uid, self.users.get(uid.0)?.reach.get(idx)?))
    }
}

/// The key associated identities are matched on: `user@host`, both lower-case (cloud addresses
/// are mail-derived and case-insensitive; the port and parameters never take part).
pub(crate) fn identity_key(user: &str, host: &str) -> String {
    format!("{}@{}", user.to_lowercase(), host.to_ascii_lowercase())
}

/// The registrar's digest check finds device HA1s here (policy's verifier, reused).
impl CredentialStore for Directory {
    fn ha1(&self, user: &str, realm: &str, algorithm: Algorithm) -> Option<Ha1> {
        if self.realm.as_deref() != Some(realm) {
            return None;
        }
        let device = self.devices.get(self.by_username.get(user)?.0)?;
        device.credentials.as_ref()?.ha1.iter().find(|h| h.algorithm() == algorithm).cloned()
    }
}
