//! Pattern scan of one source text (a property value, or a link target) into [`Fact`]s with positions.
//!
//! Labels that several services share ("Meeting ID", "Passcode") are attributed to a platform by context: the
//! nearest platform anchor (a service link, a service address, or the service's name) before the label in the same
//! text, else the nearest one after it, else the only platform the whole invite mentions. A label with no such
//! context is dropped rather than guessed.

use std::sync::LazyLock;

use regex::Regex;

use super::Platform;

/// Something a pattern found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum FactKind {
    /// Platform named (link, address or word): context for labels.
    Anchor(Platform),
    /// `https://…zoom.us/j/<id>[?pwd=…]`.
    ZoomLink { id: String, pwd: Option<String> },
    /// `https://…zoom.us/my/<name>`: personal link without a meeting ID.
    ZoomPersonalLink { url: String },
    /// One-tap mobile string `,,<id>#,,,,*<passcode>#` (Zoom's numeric passcode).
    ZoomOneTap { id: String, passcode: String },
    /// `Meeting ID: …`, `Meeting number: …`, `Access code: …` (digits only).
    MeetingId(String),
    /// `Passcode: …` / `Password: …`.
    Passcode(String),
    /// `Host key: …`.
    HostKey(String),
    /// `Video Conference ID: …` / `VTC Conference ID: …` (digits only).
    VtcId(String),
    /// A SIP address (`sip:`/`sips:` URI, or a bare `user@host` that is unambiguous), without scheme.
    SipAddress { user: String, host: String, scheme: bool },
    /// `https://<site>.webex.com/…`.
    WebexLink { site: String, personal_room: Option<String>, url: String },
    /// Teams join link.
    TeamsLink { url: String },
    /// Google Meet link and its meeting code.
    MeetLink { code: String, url: String },
}

/// A fact, where it was found, and the matched text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Fact {
    pub(crate) kind: FactKind,
    pub(crate) pos: usize,
    pub(crate) pattern: &'static str,
    pub(crate) text: String,
}

macro_rules! re {
    ($name:ident, $pat:expr) => {
        static $name: LazyLock<Option<Regex>> = LazyLock::new(|| Regex::new($pat).ok());
    };
}

re!(URL, r#"(?i)https?://[^\s<>"'\]\)]+"#);
re!(ZOOM_PATH, r"(?i)^https?://(?:[a-z0-9-]+\.)*zoom(?:gov)?\.(?:us|com)/(?:j|w|s|wc/join|wc)/(\d{9,11})\b");
re!(ZOOM_MY, r"(?i)^https?://(?:[a-z0-9-]+\.)*zoom(?:gov)?\.(?:us|com)/my/[A-Za-z0-9._-]+");
re!(WEBEX_URL, r"(?i)^https?://([a-z0-9-]+)\.webex\.com(/[^\s]*)?$");
re!(TEAMS_URL, r"(?i)^https?://teams\.(?:microsoft|live)\.com/(?:l/meetup-join|meet)/");
re!(MEET_URL, r"(?i)^https?://meet\.google\.com/([a-z]{3}-[a-z]{4}-[a-z]{3})\b");
re!(WORD, r"(?i)(?:^|[^.\w/@-])(zoom|webex|microsoft teams|teams meeting|google meet)\b");
re!(MEETING_ID, r"(?i)\b(?:meeting\s*id|webinar\s*id|meeting\s*number(?:\s*\(access\s*code\))?|access\s*code)\s*[:#]?\s*(\d[\d \-]{7,18}\d)");
re!(PASSCODE, r"(?i)\b(?:numeric\s+)?(?:meeting\s+)?(?:passcode|password|pass\s*code|pwd)\s*[:=]?\s*([A-Za-z0-9]{1,16})\b");
re!(HOST_KEY, r"(?i)\bhost\s*(?:key|pin)\s*[:#]?\s*(\d{4,10})\b");
re!(VTC_ID, r"(?i)\b(?:video\s*conference\s*id|vtc\s*conference\s*id|vtc\s*id|video\s*id)\s*[:#]?\s*(\d[\d ]{4,20}\d)");
re!(ONE_TAP, r",,(\d{9,11})#,,,,\*?(\d{1,10})#");
re!(SIP_URI, r"(?i)\bsips?:([A-Za-z0-9._+\-]+)@([A-Za-z0-9\-]+(?:\.[A-Za-z0-9\-]+)+)");
re!(BARE_ADDR, r"(?i)([A-Za-z0-9][A-Za-z0-9._+\-]*)@([A-Za-z0-9\-]+(?:\.[A-Za-z0-9\-]+)+)");
re!(VIDEO_LABEL, r"(?i)\b(sip|video|vtc|h\.?323|dial|system|endpoint|room device)\b");

/// `<name>.webex.com` hosts that are not customer meeting sites.
const NOT_SITES: &[&str] = &["m", "www", "help", "signin", "web", "api", "idbroker", "settings", "collaborationhelp", "status"];

/// A label pattern, its name, and how its captured value becomes a fact.
type Labelled = (&'static LazyLock<Option<Regex>>, &'static str, fn(&str) -> FactKind);

fn digits(s: &str) -> String {
    s.chars().filter(char::is_ascii_digit).collect()
}

fn line_before(text: &str, pos: usize) -> &str {
    let start = text[..pos].rfind('\n').map_or(0, |i| i + 1);
    &text[start..pos]
}

/// Scans one text. `video_domain(host)` says whether a bare `user@host` is a video address by its host alone.
pub(crate) fn scan(text: &str, video_domain: &dyn Fn(&str) -> Option<Platform>) -> Vec<Fact> {
    let mut facts = Vec::new();
    let mut push = |kind, pos, pattern, text: &str| facts.push(Fact { kind, pos, pattern, text: text.to_owned() });
    let caps = |re: &LazyLock<Option<Regex>>| re.as_ref().map(|r| r.captures_iter(text).collect::<Vec<_>>()).unwrap_or_default();

    let urls = URL.as_ref().map(|r| r.find_iter(text).collect::<Vec<_>>()).unwrap_or_default();
    let in_url = |pos: usize| urls.iter().any(|m| m.range().contains(&pos));
    for m in &urls {
        let url = m.as_str().trim_end_matches(['.', ',', ';', '>']);
        let pos = m.start();
        if let Some(c) = ZOOM_PATH.as_ref().and_then(|r| r.captures(url)) {
            let id = c.get(1).map_or("", |g| g.as_str()).to_owned();
            let pwd = crate::text::query_param(url, "pwd");
            push(FactKind::ZoomLink { id, pwd }, pos, "zoom-link", url);
        } else if ZOOM_MY.as_ref().is_some_and(|r| r.is_match(url)) {
            push(FactKind::ZoomPersonalLink { url: url.to_owned() }, pos, "zoom-personal-link", url);
        } else if let Some(c) = WEBEX_URL.as_ref().and_then(|r| r.captures(url)) {
            let site = c.get(1).map_or("", |g| g.as_str()).to_ascii_lowercase();
            let path = c.get(2).map_or("", |g| g.as_str());
            let personal_room = path
                .strip_prefix("/meet/")
                .or_else(|| path.strip_prefix("/join/"))
                .map(|u| u.split(['?', '/', '#']).next().unwrap_or_default().to_owned())
                .filter(|u| !u.is_empty());
            // Cisco's own hosts are not meeting sites (`m` is the Teams video interop domain).
            if !NOT_SITES.contains(&site.as_str()) {
                push(FactKind::WebexLink { site, personal_room, url: url.to_owned() }, pos, "webex-link", url);
            }
        } else if TEAMS_URL.as_ref().is_some_and(|r| r.is_match(url)) {
            push(FactKind::TeamsLink { url: url.to_owned() }, pos, "teams-link", url);
        } else if let Some(c) = MEET_URL.as_ref().and_then(|r| r.captures(url)) {
            let code = c.get(1).map_or("", |g| g.as_str()).to_ascii_lowercase();
            push(FactKind::MeetLink { code, url: url.to_owned() }, pos, "meet-link", url);
        }
    }
    for c in caps(&WORD) {
        let Some(word) = c.get(1) else { continue };
        let platform = match word.as_str().to_ascii_lowercase().as_str() {
            "zoom" => Platform::Zoom,
            "webex" => Platform::Webex,
            "google meet" => Platform::GoogleMeet,
            _ => Platform::Teams,
        };
        push(FactKind::Anchor(platform), word.start(), "platform-name", word.as_str());
    }
    let labelled: [Labelled; 4] = [
        (&MEETING_ID, "meeting-id-label", |v| FactKind::MeetingId(digits(v))),
        (&PASSCODE, "passcode-label", |v| FactKind::Passcode(v.to_owned())),
        (&HOST_KEY, "host-key-label", |v| FactKind::HostKey(v.to_owned())),
        (&VTC_ID, "vtc-id-label", |v| FactKind::VtcId(digits(v))),
    ];
    for (re, pattern, make) in labelled {
        for c in caps(re) {
            let (Some(whole), Some(value)) = (c.get(0), c.get(1)) else { continue };
            if in_url(whole.start()) {
                continue;
            }
            // A passcode must hold a digit: "Password protected" is prose, not a passcode.
            if pattern == "passcode-label" && !value.as_str().bytes().any(|b| b.is_ascii_digit()) {
                continue;
            }
            push(make(value.as_str()), whole.start(), pattern, whole.as_str());
        }
    }
    for c in caps(&ONE_TAP) {
        let (Some(whole), Some(id), Some(pass)) = (c.get(0), c.get(1), c.get(2)) else { continue };
        let kind = FactKind::ZoomOneTap { id: id.as_str().to_owned(), passcode: pass.as_str().to_owned() };
        push(kind, whole.start(), "zoom-one-tap", whole.as_str());
    }
    let mut sip_spans = Vec::new();
    for c in caps(&SIP_URI) {
        let (Some(whole), Some(user), Some(host)) = (c.get(0), c.get(1), c.get(2)) else { continue };
        sip_spans.push(whole.range());
        let kind = FactKind::SipAddress { user: user.as_str().to_owned(), host: host.as_str().to_ascii_lowercase(), scheme: true };
        push(kind, whole.start(), "sip-uri", whole.as_str());
    }
    for c in caps(&BARE_ADDR) {
        let (Some(whole), Some(user), Some(host)) = (c.get(0), c.get(1), c.get(2)) else { continue };
        if sip_spans.iter().any(|s| s.contains(&whole.start())) || in_url(whole.start()) {
            continue;
        }
        // Part of a URL or a mailto: link → an e-mail address or a link, not a video address.
        let before = line_before(text, whole.start());
        if before.ends_with(':') || before.ends_with('/') || before.to_ascii_lowercase().contains("mailto") {
            continue;
        }
        let host = host.as_str().to_ascii_lowercase();
        let by_host = video_domain(&host).is_some();
        let labelled = VIDEO_LABEL.as_ref().is_some_and(|r| r.is_match(before));
        if by_host || labelled {
            let pattern = if by_host { "video-address-domain" } else { "video-address-label" };
            let kind = FactKind::SipAddress { user: user.as_str().to_owned(), host, scheme: false };
            push(kind, whole.start(), pattern, whole.as_str());
        }
    }
    facts.sort_by_key(|f| f.pos);
    facts
}

impl FactKind {
    /// The platform this fact names by itself (labels name none).
    pub(crate) fn platform(&self, video_domain: &dyn Fn(&str) -> Option<Platform>) -> Option<Platform> {
        match self {
            Self::Anchor(p) => Some(*p),
            Self::ZoomLink { .. } | Self::ZoomPersonalLink { .. } | Self::ZoomOneTap { .. } => Some(Platform::Zoom),
            Self::WebexLink { .. } => Some(Platform::Webex),
            Self::TeamsLink { .. } => Some(Platform::Teams),
            Self::MeetLink { .. } => Some(Platform::GoogleMeet),
            Self::SipAddress { host, .. } => video_domain(host),
            Self::MeetingId(_) | Self::Passcode(_) | Self::HostKey(_) | Self::VtcId(_) => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn none(_: &str) -> Option<Platform> {
        None
    }

    fn kinds(text: &str) -> Vec<FactKind> {
        scan(text, &none).into_iter().map(|f| f.kind).collect()
    }

    #[test]
    fn zoom_labels_links_and_one_tap() {
        let text = "Join Zoom Meeting\nhttps://us02web.zoom.us/j/85012345678?pwd=aBcD.1\n\nMeeting ID: 850 1234 5678\n\
Passcode: 4Qx9kT\nOne tap mobile\n+16469313860,,85012345678#,,,,*739201# US\nHost key: 112233\n";
        assert_eq!(kinds(text), [
            FactKind::Anchor(Platform::Zoom),
            FactKind::ZoomLink { id: "85012345678".into(), pwd: Some("aBcD.1".into()) },
            FactKind::MeetingId("85012345678".into()),
            FactKind::Passcode("4Qx9kT".into()),
            FactKind::ZoomOneTap { id: "85012345678".into(), passcode: "739201".into() },
            FactKind::HostKey("112233".into()),
        ]);
    }

    #[test]
    fn bare_addresses_need_a_video_label_or_domain() {
        assert_eq!(kinds("Organizer: jane@ent.example\nmailto:bob@ent.example"), []);
        assert_eq!(kinds("Video system: vmr-4411@vc.ent.example"), [FactKind::SipAddress {
            user: "vmr-4411".into(), host: "vc.ent.example".into(), scheme: false }]);
        assert_eq!(kinds("<sip:conf@bridge.ent.example>"), [FactKind::SipAddress {
            user: "conf".into(), host: "bridge.ent.example".into(), scheme: true }]);
        assert_eq!(kinds("Password protected meeting"), []);
    }
}
