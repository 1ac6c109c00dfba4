//! The raw `[callctl]` section as written in TOML: serde shapes that refuse unknown keys and
//! keep spans so that every load error can say `file:line:col`. [`crate::Cluster::from_config`]
//! validates them into the engine's types; nothing here is used per call.

use serde::Deserialize;
use toml::Spanned;

/// A file holding only a `[callctl]` section (the shipped example, tests).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CallCtlFile {
    /// The section.
    pub callctl: CallCtlConfig,
}

/// Raw `[callctl]`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CallCtlConfig {
    /// Cluster fully qualified domain names: a request to `<digits>@<one of these>` routes by
    /// the digits (CUCM "Cluster Fully Qualified Domain Name" plus the organisation domain).
    pub cluster_fqdns: Vec<Spanned<String>>,
    /// Digest realm of the devices' HA1 credentials.
    pub realm: Option<Spanned<String>>,
    /// Feature code a user dials to turn dual ringing on or off (e.g. `*88`).
    pub dual_ring_toggle: Option<Spanned<String>>,
    /// Loop avoidance for calls coming back from the cloud.
    pub loop_avoidance: Option<LoopAvoidanceConfig>,
    /// Partitions.
    #[serde(default)]
    pub partition: Vec<PartitionConfig>,
    /// Calling search spaces.
    #[serde(default)]
    pub css: Vec<CssConfig>,
    /// Route patterns.
    #[serde(default)]
    pub route_pattern: Vec<RoutePatternConfig>,
    /// Translation patterns.
    #[serde(default)]
    pub translation: Vec<TranslationConfig>,
    /// Zones that deliver calls into call control (CUCM SIP trunks).
    #[serde(default)]
    pub trunk: Vec<TrunkConfig>,
    /// End users.
    #[serde(default)]
    pub user: Vec<UserConfig>,
    /// Lines (directory numbers).
    #[serde(default)]
    pub line: Vec<LineConfig>,
    /// SIP phones.
    #[serde(default)]
    pub device: Vec<DeviceConfig>,
}

/// `[callctl.loop_avoidance]`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LoopAvoidanceConfig {
    /// Contact header parameter that marks a call as coming from the cloud, `name=value`
    /// (default `call-type=squared`).
    pub marker: Option<Spanned<String>>,
    /// Zones a marked call is never forked back to an associated identity through.
    pub zones: Vec<Spanned<String>>,
}

/// `[[callctl.partition]]`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PartitionConfig {
    /// Name (unique).
    pub name: Spanned<String>,
    /// Free text.
    pub description: Option<String>,
}

/// `[[callctl.css]]`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CssConfig {
    /// Name (unique).
    pub name: Spanned<String>,
    /// Partitions in search order.
    pub partitions: Vec<Spanned<String>>,
}

/// The transformation fields of a route or translation pattern, borrowed (serde's `flatten`
/// would lose the spans, so each pattern type declares the fields itself).
#[derive(Debug, Clone, Copy)]
pub struct TransformFields<'a> {
    /// `discard`.
    pub discard: Option<&'a Spanned<String>>,
    /// `called_mask`.
    pub called_mask: Option<&'a Spanned<String>>,
    /// `called_prefix`.
    pub called_prefix: Option<&'a Spanned<String>>,
    /// `calling_mask`.
    pub calling_mask: Option<&'a Spanned<String>>,
    /// `calling_prefix`.
    pub calling_prefix: Option<&'a Spanned<String>>,
}

macro_rules! transform_fields {
    ($t:ty) => {
        impl $t {
            /// The transformation fields.
            pub fn transform(&self) -> TransformFields<'_> {
                TransformFields {
                    discard: self.discard.as_ref(),
                    called_mask: self.called_mask.as_ref(),
                    called_prefix: self.called_prefix.as_ref(),
                    calling_mask: self.calling_mask.as_ref(),
                    calling_prefix: self.calling_prefix.as_ref(),
                }
            }
        }
    };
}
transform_fields!(RoutePatternConfig);
transform_fields!(TranslationConfig);

/// `[[callctl.route_pattern]]`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RoutePatternConfig {
    /// CUCM pattern syntax.
    pub pattern: Spanned<String>,
    /// Partition it lives in.
    pub partition: Spanned<String>,
    /// Zone the call leaves through (exactly one of `zone` and `block`).
    pub zone: Option<Spanned<String>>,
    /// Block the pattern with this final status (403, 404, 480, 503, …).
    pub block: Option<Spanned<u16>>,
    /// Free text.
    pub description: Option<String>,
    /// `none` (default), `predot`, `trailing-#`, `predot-trailing-#`.
    pub discard: Option<Spanned<String>>,
    /// Called-party transform mask.
    pub called_mask: Option<Spanned<String>>,
    /// Called-party prefix digits.
    pub called_prefix: Option<Spanned<String>>,
    /// Calling-party transform mask.
    pub calling_mask: Option<Spanned<String>>,
    /// Calling-party prefix digits.
    pub calling_prefix: Option<Spanned<String>>,
}

/// `[[callctl.translation]]`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TranslationConfig {
    /// CUCM pattern syntax.
    pub pattern: Spanned<String>,
    /// Partition it lives in.
    pub partition: Spanned<String>,
    /// CSS the translated number is analysed with; absent = the originator's CSS.
    pub css: Option<Spanned<String>>,
    /// Free text.
    pub description: Option<String>,
    /// `none` (default), `predot`, `trailing-#`, `predot-trailing-#`.
    pub discard: Option<Spanned<String>>,
    /// Called-party transform mask.
    pub called_mask: Option<Spanned<String>>,
    /// Called-party prefix digits.
    pub called_prefix: Option<Spanned<String>>,
    /// Calling-party transform mask.
    pub calling_mask: Option<Spanned<String>>,
    /// Calling-party prefix digits.
    pub calling_prefix: Option<Spanned<String>>,
}

/// `[[callctl.trunk]]`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TrunkConfig {
    /// The zone calls arrive from.
    pub zone: Spanned<String>,
    /// CSS for calls from this zone that are not anchored.
    pub css: Option<Spanned<String>>,
    /// `pai-only` (default): anchor only authenticated requests by P-Asserted-Identity;
    /// `from-or-pai`: also by From.
    pub trusted_identity: Option<Spanned<String>>,
}

/// `[[callctl.user]]`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct UserConfig {
    /// User id (unique).
    pub userid: Spanned<String>,
    /// Display name.
    pub display_name: Option<Spanned<String>>,
    /// Mail address.
    pub mail: Option<Spanned<String>>,
    /// Directory URI (`user@host`), dialable like a DN.
    pub directory_uri: Option<Spanned<String>>,
    /// E.164 number (`+` and digits).
    pub e164: Option<Spanned<String>>,
    /// Home cluster FQDN.
    pub home_cfqdn: Option<Spanned<String>>,
    /// Device CSS of anchored calls (after the primary line's CSS).
    pub anchored_css: Option<Spanned<String>>,
    /// CSS that routes remote destinations given as numbers (CUCM rerouting CSS).
    pub remote_destination_css: Option<Spanned<String>>,
    /// Dual ringing on at start (default true); the feature code and the API switch it.
    pub dual_ring: Option<bool>,
    /// Remote destinations.
    #[serde(default)]
    pub remote_destination: Vec<ReachConfig>,
    /// Associated identities (cloud addresses that ring with the line and anchor calls).
    #[serde(default)]
    pub associated_identity: Vec<ReachConfig>,
}

/// A remote destination or an associated identity.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ReachConfig {
    /// Name (default: the destination).
    pub name: Option<Spanned<String>>,
    /// A SIP URI or a number.
    pub destination: Spanned<String>,
    /// Milliseconds before the leg starts (default 4000).
    pub delay_before_ringing_ms: Option<Spanned<u64>>,
    /// An answer sooner than this many milliseconds is a voicemail pickup (default 1500; 0 off).
    pub answer_too_soon_ms: Option<Spanned<u64>>,
    /// The leg stops ringing after this many milliseconds (default 19000; 0 off).
    pub answer_too_late_ms: Option<Spanned<u64>>,
    /// Rings at all (default true).
    pub enabled: Option<bool>,
    /// Ring only inside these windows.
    pub schedule: Option<Spanned<ScheduleConfig>>,
}

/// A weekly ring schedule.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ScheduleConfig {
    /// IANA time zone.
    pub time_zone: Spanned<String>,
    /// Windows.
    pub ring: Vec<Spanned<WindowConfig>>,
}

/// `{ days = ["mon-fri"], from = "08:00", to = "18:00" }`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WindowConfig {
    /// Weekdays and ranges.
    pub days: Vec<String>,
    /// Start, local `HH:MM`.
    pub from: String,
    /// End, local `HH:MM` (exclusive; `24:00` allowed).
    pub to: String,
}

/// `[[callctl.line]]`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LineConfig {
    /// Directory number (digits, `*`, `#`, optional leading `+`).
    pub dn: Spanned<String>,
    /// Partition.
    pub partition: Spanned<String>,
    /// Owner, whose remote destinations ring with the line.
    pub user: Option<Spanned<String>>,
    /// Line CSS (searched before the device CSS).
    pub css: Option<Spanned<String>>,
    /// Display name presented (default: the owner's).
    pub display_name: Option<Spanned<String>>,
    /// Forward on no answer.
    pub forward_no_answer: Option<Spanned<ForwardConfig>>,
    /// Forward on busy.
    pub forward_busy: Option<Spanned<ForwardConfig>>,
    /// CSS the forward destinations are analysed with (default: the line CSS).
    pub forward_css: Option<Spanned<String>>,
}

/// A forward destination.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ForwardConfig {
    /// Number dialed.
    pub destination: Spanned<String>,
    /// No answer only: ring this many milliseconds first (default 12000).
    pub after_ms: Option<Spanned<u64>>,
}

/// `[[callctl.device]]`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DeviceConfig {
    /// Name (unique), e.g. `SEP00AABBCCDDEE`.
    pub name: Spanned<String>,
    /// Owner.
    pub user: Option<Spanned<String>>,
    /// Device CSS.
    pub css: Option<Spanned<String>>,
    /// Lines: `"1002"`, or `"1002 in Internal"` when the DN exists in several partitions.
    pub lines: Vec<Spanned<String>>,
    /// Digest credentials.
    pub credentials: Option<Spanned<CredentialsConfig>>,
}

/// Digest credentials, stored as HA1 only.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CredentialsConfig {
    /// Digest username.
    pub username: Spanned<String>,
    /// MD5 HA1, hex.
    pub ha1_md5: Option<Spanned<String>>,
    /// SHA-256 HA1, hex.
    pub ha1_sha256: Option<Spanned<String>>,
}
