//! The join resolver (flow F5): every join candidate an invite holds, and the best one by a configurable priority.
//!
//! Sources, read in this order: LOCATION, CONFERENCE (RFC 7986 §5.11), URL, DESCRIPTION (quote markers removed;
//! HTML if it looks like HTML) and X-ALT-DESC (Outlook's HTML body: tags stripped, entities decoded, and every
//! `href` read as a source of its own). Wrapped links (Safe Links, Google redirects) are unwrapped first.
//!
//! The best candidate is the first after sorting by, in order:
//! 1. dialable by a SIP device before not dialable (a Teams or Meet web link);
//! 2. the platform's place in [`ResolverConfig::priority`] (default: explicit SIP, Zoom, Webex, Teams, Google Meet);
//! 3. complete before incomplete (a Zoom string with the passcode the text gives; a Teams interop direct dial
//!    rather than its IVR);
//! 4. the property's place in [`ResolverConfig::property_order`] (default: LOCATION, CONFERENCE, URL,
//!    DESCRIPTION, X-ALT-DESC);
//! 5. position in the text.
//!
//! Pure: no I/O, no clock (`now` is a parameter where it matters).

mod build;
mod scan;

use chrono::{DateTime, Duration, Utc};
use serde::{Deserialize, Serialize};

use crate::ical::event::{read_events, Event, EventError};
use crate::ical::parse::{parse, IcalError, Limits};
use crate::recur::{expand, group_by_uid};
use crate::text::{html_to_text, strip_quote_markers, unwrap_link};

/// The service a candidate joins.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Platform {
    /// An explicit SIP address to a host that is not one of the services below.
    Sip,
    /// Zoom (Cloud Room Connector).
    Zoom,
    /// Cisco Webex meetings.
    Webex,
    /// Microsoft Teams (video interop when dialable, else the web link).
    Teams,
    /// Google Meet (interop gateway when configured, else the web link).
    GoogleMeet,
}

impl Platform {
    /// RoomOS `MeetingPlatform` value.
    pub fn roomos_name(self) -> &'static str {
        match self {
            Self::Sip => "Other",
            Self::Zoom => "Zoom",
            Self::Webex => "Webex",
            Self::Teams => "MSTeams",
            Self::GoogleMeet => "GoogleMeet",
        }
    }
}

/// Where and how a candidate was found.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Evidence {
    /// The iCalendar property (LOCATION, DESCRIPTION, X-ALT-DESC, URL, CONFERENCE).
    pub property: &'static str,
    /// The pattern that matched (`zoom-link`, `passcode-label`, `sip-uri`, …; see docs/meetings.md).
    pub pattern: &'static str,
    /// The matched text.
    pub text: String,
}

/// One way to join.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Candidate {
    /// The service.
    pub platform: Platform,
    /// SIP address to dial (`user@host`, no scheme); None when a SIP device cannot dial this candidate.
    pub dial: Option<String>,
    /// Web join link, when there is one.
    pub url: Option<String>,
    /// False when the dial string is known to be partial (the device will be prompted).
    pub complete: bool,
    /// Rules applied, and warnings (a pwd token that is not the passcode; an IVR instead of a direct dial).
    pub notes: Vec<String>,
    /// Why it was found.
    pub evidence: Vec<Evidence>,
    #[serde(skip)]
    order: (usize, usize),
}

impl Candidate {
    /// Whether a SIP device can dial it.
    pub fn dialable(&self) -> bool {
        self.dial.is_some()
    }
}

/// A Teams video interop (CVI) provider: how to build the direct dial string.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TeamsProvider {
    /// Display name (`poly`, `pexip`, `cisco`).
    pub name: String,
    /// SIP domain of the interop service; an IVR address at this domain gives the tenant key as its user part.
    pub domain: String,
    /// Direct dial template: `{tenant}`, `{vtcid}` and `{domain}` are replaced.
    pub template: String,
    /// The organisation's own tenant key, used when an invite has a VTC ID but no IVR address.
    #[serde(default)]
    pub tenant_key: Option<String>,
}

/// Resolver settings. Every field has a default; `deny_unknown_fields` catches typos.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ResolverConfig {
    /// Platform order (rule 2 of the module doc).
    pub priority: Vec<Platform>,
    /// Property order (rule 4).
    pub property_order: Vec<String>,
    /// Host for Zoom dial strings built from a meeting ID (an explicit regional host in the invite is kept).
    pub zoom_domain: String,
    /// Webex site used when an invite has a Webex meeting number but no site link (`acme` → `acme.webex.com`).
    pub webex_default_site: Option<String>,
    /// Teams interop providers, matched by the IVR address domain.
    pub teams_providers: Vec<TeamsProvider>,
    /// Google Meet interop gateway template (`{code}` = meeting code without dashes, `{code_dashed}` with).
    pub meet_gateway: Option<String>,
    /// Further domains whose bare `user@host` addresses count as video addresses (`vc.ent.example`).
    pub video_domains: Vec<String>,
    /// Zone for floating times (IANA name).
    pub floating_timezone: String,
}

impl Default for ResolverConfig {
    fn default() -> Self {
        Self {
            priority: vec![Platform::Sip, Platform::Zoom, Platform::Webex, Platform::Teams, Platform::GoogleMeet],
            property_order: ["LOCATION", "CONFERENCE", "URL", "DESCRIPTION", "X-ALT-DESC"].map(String::from).to_vec(),
            zoom_domain: "zoomcrc.com".into(),
            webex_default_site: None,
            teams_providers: vec![
                // Poly RealConnect: `<tenantkey>.<VTC ID>@t.plcm.vc` (../shared/ANCHORS.md §A4).
                TeamsProvider { name: "poly".into(), domain: "t.plcm.vc".into(), template: "{tenant}.{vtcid}@{domain}".into(), tenant_key: None },
                // Cisco Webex Video Integration: IVR `<subdomain>@m.webex.com`; Cisco documents the direct dial as
                // `<VideoID>.<subdomain>@m.webex.com` (help.webex.com nffx8kj), so the order differs from Poly's.
                TeamsProvider { name: "cisco".into(), domain: "m.webex.com".into(), template: "{vtcid}.{tenant}@{domain}".into(), tenant_key: None },
            ],
            meet_gateway: None,
            video_domains: Vec::new(),
            floating_timezone: "UTC".into(),
        }
    }
}

impl ResolverConfig {
    /// The platform a SIP host belongs to, if it is a known video host.
    pub fn video_domain(&self, host: &str) -> Option<Platform> {
        let host = host.to_ascii_lowercase();
        let under = |domain: &str| host == domain || host.ends_with(&format!(".{domain}"));
        if under(&self.zoom_domain) || is_zoom_host(&host) {
            return Some(Platform::Zoom);
        }
        if self.teams_providers.iter().any(|p| under(&p.domain.to_ascii_lowercase())) {
            return Some(Platform::Teams);
        }
        if host.ends_with(".webex.com") {
            return Some(Platform::Webex);
        }
        self.video_domains.iter().any(|d| under(&d.to_ascii_lowercase())).then_some(Platform::Sip)
    }

    fn floating(&self) -> chrono_tz::Tz {
        self.floating_timezone.parse().unwrap_or(chrono_tz::UTC)
    }
}

/// Zoom's regional hosts `zmXX.us` (../shared/ANCHORS.md §A4).
fn is_zoom_region(host: &str) -> bool {
    host.len() == 7 && host.starts_with("zm") && host.ends_with(".us") && host.bytes().skip(2).take(2).all(|b| b.is_ascii_alphabetic())
}

/// Zoom SIP user part: `<id>[.<passcode>][..<hostkey>]`.
pub(crate) fn zoom_user(user: &str) -> Option<(String, Option<String>, Option<String>)> {
    let (main, host_key) = match user.split_once("..") {
        Some((m, k)) if !k.is_empty() && k.bytes().all(|b| b.is_ascii_digit()) => (m, Some(k.to_owned())),
        Some(_) => return None,
        None => (user, None),
    };
    let (id, pass) = match main.split_once('.') {
        Some((i, p)) if !p.is_empty() && p.bytes().all(|b| b.is_ascii_alphanumeric()) => (i, Some(p.to_owned())),
        Some(_) => return None,
        None => (main, None),
    };
    ((9..=11).contains(&id.len()) && id.bytes().all(|b| b.is_ascii_digit())).then(|| (id.to_owned(), pass, host_key))
}

/// Zoom's Cloud Room Connector hosts: `zoomcrc.com` and its subdomains, and the regional `zmXX.us`.
pub(crate) fn is_zoom_host(host: &str) -> bool {
    let host = host.to_ascii_lowercase();
    host == "zoomcrc.com" || host.ends_with(".zoomcrc.com") || is_zoom_region(&host)
}

/// A time span for output.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Span {
    /// Start instant.
    pub start: DateTime<Utc>,
    /// End instant.
    pub end: DateTime<Utc>,
}

/// The resolver's answer for one VEVENT.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Resolution {
    /// UID.
    pub uid: String,
    /// RECURRENCE-ID of an override.
    pub recurrence_id: Option<DateTime<Utc>>,
    /// SUMMARY.
    pub summary: String,
    /// DTSTART..DTEND as instants.
    pub first: Span,
    /// The first instance that has not ended at `now` (within a year), for recurring events too.
    pub next: Option<Span>,
    /// The candidate to join, or None when the invite has no join information.
    pub best: Option<Candidate>,
    /// Every candidate, best first.
    pub candidates: Vec<Candidate>,
}

/// The resolver's answer for one iCalendar object.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Report {
    /// One per usable VEVENT, in file order.
    pub events: Vec<Resolution>,
    /// Events that could not be read (missing DTSTART, unknown TZID with the event's UID, …).
    pub errors: Vec<String>,
    /// Repairs made while parsing (broken folding).
    pub warnings: Vec<String>,
}

/// One text the patterns read, and the property it came from.
struct Source {
    property: &'static str,
    text: String,
}

fn looks_like_html(text: &str) -> bool {
    let lower = text.to_ascii_lowercase();
    ["<a ", "<br", "<p>", "<div", "</"].iter().any(|tag| lower.contains(tag))
}

fn unwrap_links(text: &str) -> String {
    if !text.contains("safelinks.protection.outlook.com") && !text.contains("google.com/url?") {
        return text.to_owned();
    }
    text.split_inclusive(|c: char| c.is_whitespace() || c == '<' || c == '>' || c == '"')
        .map(|word| {
            let core = word.trim_end_matches(|c: char| c.is_whitespace() || c == '<' || c == '>' || c == '"');
            format!("{}{}", unwrap_link(core), &word[core.len()..])
        })
        .collect()
}

fn sources(event: &Event) -> Vec<Source> {
    let mut out = Vec::new();
    let mut push_body = |property: &'static str, body: &str| {
        let (text, hrefs) = if looks_like_html(body) { html_to_text(body) } else { (body.to_owned(), Vec::new()) };
        out.push(Source { property, text: unwrap_links(&strip_quote_markers(&text)) });
        out.extend(hrefs.iter().map(|h| Source { property, text: unwrap_link(h) }));
    };
    if let Some(location) = &event.location {
        push_body("LOCATION", location);
    }
    for conference in &event.conferences {
        push_body("CONFERENCE", conference);
    }
    if let Some(url) = &event.url {
        push_body("URL", url);
    }
    if let Some(description) = &event.description {
        push_body("DESCRIPTION", description);
    }
    if let Some(alt) = &event.alt_description {
        push_body("X-ALT-DESC", alt);
    }
    out
}

/// Every candidate of one event, best first.
pub fn candidates(event: &Event, config: &ResolverConfig) -> Vec<Candidate> {
    let sources = sources(event);
    let video_domain = |host: &str| config.video_domain(host);
    let scanned: Vec<Vec<scan::Fact>> = sources.iter().map(|s| scan::scan(&s.text, &video_domain)).collect();
    let mut found = build::build(&sources.iter().map(|s| s.property).collect::<Vec<_>>(), &scanned, config);
    let property_rank = |c: &Candidate| {
        c.evidence
            .iter()
            .map(|e| config.property_order.iter().position(|p| p == e.property).unwrap_or(usize::MAX))
            .min()
            .unwrap_or(usize::MAX)
    };
    let platform_rank = |p: Platform| config.priority.iter().position(|q| *q == p).unwrap_or(usize::MAX);
    found.sort_by_key(|c| (!c.dialable(), platform_rank(c.platform), !c.complete, property_rank(c), c.order));
    found
}

/// Resolves one event; `next` is computed from the event alone (see [`resolve_ics`] for overrides).
pub fn resolve_event(event: &Event, config: &ResolverConfig) -> Resolution {
    let candidates = candidates(event, config);
    Resolution {
        uid: event.uid.clone(),
        recurrence_id: event.recurrence_id.as_ref().map(|r| r.utc()),
        summary: event.summary.clone(),
        first: Span { start: event.start.utc(), end: event.end.utc() },
        next: None,
        best: candidates.first().cloned(),
        candidates,
    }
}

/// Parses an iCalendar object and resolves every VEVENT. Broken events are listed in [`Report::errors`], the rest
/// are still resolved.
pub fn resolve_ics(input: &[u8], config: &ResolverConfig, limits: Limits, now: DateTime<Utc>) -> Result<Report, IcalError> {
    let ical = parse(input, limits)?;
    let (events, errors) = read_events(&ical, config.floating());
    let mut errors: Vec<String> = errors.iter().map(EventError::to_string).collect();
    let window = now..now + Duration::days(366);
    let mut resolutions: Vec<Resolution> = events.iter().map(|e| resolve_event(e, config)).collect();
    for (master, overrides) in group_by_uid(&events) {
        match expand(master, &overrides, &window) {
            Ok(instances) => {
                let next = instances.iter().find(|o| o.end > now && !o.event.cancelled);
                for (event, resolution) in events.iter().zip(resolutions.iter_mut()) {
                    let mine = std::ptr::eq(event, master) || (master.recurrence_id.is_none() && event.uid == master.uid);
                    if mine {
                        resolution.next = next.map(|o| Span { start: o.start, end: o.end });
                    }
                }
            }
            Err(e) => errors.push(e.to_string()),
        }
    }
    Ok(Report { events: resolutions, errors, warnings: ical.warnings.iter().map(ToString::to_string).collect() })
}
