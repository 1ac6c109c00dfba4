//! Facts → candidates, per platform. The dial-string rules (../shared/ANCHORS.md §A4) live here.
//!
//! Zoom passcode rule: the dial string carries Zoom's *numeric* passcode, the one phone, H.323 and SIP joins use.
//! It is taken from, in order: an explicit `<id>.<passcode>@zoomcrc.com` address, the one-tap string
//! (`,,<id>#,,,,*<passcode>#`), a numeric `Passcode:` label, a `?pwd=` link parameter that is 1-10 digits, and
//! last an alphanumeric `Passcode:` label (with a note: Zoom may still prompt). A longer or non-numeric `pwd=` is
//! Zoom's encrypted web token and is never put in a dial string; a link with such a token and no numeric passcode
//! anywhere yields an incomplete candidate.

use super::scan::{Fact, FactKind};
use super::{zoom_user, Candidate, Evidence, Platform, ResolverConfig};

/// A fact with its source and the platform it belongs to (its own, or its context's).
struct Located<'a> {
    source: usize,
    property: &'static str,
    fact: &'a Fact,
    platform: Option<Platform>,
}

impl Located<'_> {
    fn evidence(&self) -> Evidence {
        Evidence { property: self.property, pattern: self.fact.pattern, text: self.fact.text.clone() }
    }
}

/// Builds every candidate from the scanned sources.
pub(super) fn build(properties: &[&'static str], scanned: &[Vec<Fact>], config: &ResolverConfig) -> Vec<Candidate> {
    let video_domain = |host: &str| config.video_domain(host);
    let mut located = Vec::new();
    for (source, facts) in scanned.iter().enumerate() {
        for fact in facts {
            let own = fact.kind.platform(&video_domain);
            let platform = own.or_else(|| context(facts, fact.pos, &video_domain));
            let property = properties.get(source).copied().unwrap_or("DESCRIPTION");
            located.push(Located { source, property, fact, platform });
        }
    }
    let mentioned: Vec<Platform> = located.iter().filter_map(|l| l.fact.kind.platform(&video_domain)).collect();
    let only = mentioned.first().copied().filter(|p| mentioned.iter().all(|q| q == p));
    for l in located.iter_mut().filter(|l| l.platform.is_none()) {
        l.platform = only;
    }
    let mut out = Vec::new();
    zoom(&located, config, &mut out);
    webex(&located, config, &mut out);
    teams(&located, config, &mut out);
    meet(&located, config, &mut out);
    sip(&located, config, &mut out);
    out
}

/// Nearest anchor before `pos`, else after it, in one source.
fn context(facts: &[Fact], pos: usize, video_domain: &dyn Fn(&str) -> Option<Platform>) -> Option<Platform> {
    let with_platform = |f: &Fact| f.kind.platform(video_domain).map(|p| (f.pos, p));
    let before = facts.iter().filter(|f| f.pos < pos).filter_map(with_platform).last();
    let after = || facts.iter().filter(|f| f.pos > pos).find_map(with_platform);
    before.or_else(after).map(|(_, p)| p)
}

/// Adds `candidate`, or merges its evidence and notes into an earlier one with the same dial string (or URL).
fn add(out: &mut Vec<Candidate>, mut candidate: Candidate) {
    let key = |c: &Candidate| (c.dial.as_ref().map(|d| d.to_ascii_lowercase()), c.url.clone().filter(|_| c.dial.is_none()));
    if let Some(existing) = out.iter_mut().find(|c| c.platform == candidate.platform && key(c) == key(&candidate)) {
        for e in candidate.evidence.drain(..) {
            if !existing.evidence.contains(&e) && existing.evidence.len() < 12 {
                existing.evidence.push(e);
            }
        }
        for n in candidate.notes.drain(..) {
            if !existing.notes.contains(&n) {
                existing.notes.push(n);
            }
        }
        existing.url = existing.url.take().or(candidate.url);
        existing.order = existing.order.min(candidate.order);
        return;
    }
    out.push(candidate);
}

fn new_candidate(platform: Platform, dial: Option<String>, url: Option<String>, at: &Located<'_>) -> Candidate {
    Candidate { platform, dial, url, complete: true, notes: Vec::new(), evidence: vec![at.evidence()], order: (at.source, at.fact.pos) }
}

/// The meeting ID a fact states, for Zoom.
fn zoom_id(l: &Located<'_>) -> Option<String> {
    match &l.fact.kind {
        FactKind::ZoomLink { id, .. } | FactKind::ZoomOneTap { id, .. } => Some(id.clone()),
        FactKind::MeetingId(id) if l.platform == Some(Platform::Zoom) && (9..=11).contains(&id.len()) => Some(id.clone()),
        FactKind::SipAddress { user, .. } if l.platform == Some(Platform::Zoom) => zoom_user(user).map(|u| u.0),
        _ => None,
    }
}

/// The meeting ID a label at `l` belongs to: nearest ID before it in its source, else after, else the only one.
fn owner(located: &[Located<'_>], l: &Located<'_>, ids: &[String]) -> Option<String> {
    let same = || located.iter().filter(|o| o.source == l.source).filter_map(|o| zoom_id(o).map(|id| (o.fact.pos, id)));
    let before = same().take_while(|(pos, _)| *pos < l.fact.pos).last();
    let after = || same().find(|(pos, _)| *pos > l.fact.pos);
    before.or_else(after).map(|(_, id)| id).or_else(|| (ids.len() == 1).then(|| ids.first().cloned()).flatten())
}

fn is_numeric(s: &str) -> bool {
    !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit())
}

fn zoom(located: &[Located<'_>], config: &ResolverConfig, out: &mut Vec<Candidate>) {
    let mut ids: Vec<String> = Vec::new();
    for id in located.iter().filter_map(zoom_id) {
        if !ids.contains(&id) {
            ids.push(id);
        }
    }
    for id in &ids {
        let mine: Vec<&Located<'_>> = located
            .iter()
            .filter(|l| match &l.fact.kind {
                FactKind::Passcode(_) | FactKind::HostKey(_) => {
                    l.platform == Some(Platform::Zoom) && owner(located, l, &ids).as_ref() == Some(id)
                }
                _ => zoom_id(l).as_ref() == Some(id),
            })
            .collect();
        // (rank, value, where): lower rank wins; see the module doc.
        let mut passcodes: Vec<(u8, String, &Located<'_>)> = Vec::new();
        let mut host_keys: Vec<(String, &Located<'_>)> = Vec::new();
        let mut host = None;
        let mut url = None;
        let mut token = None;
        for l in &mine {
            match &l.fact.kind {
                FactKind::SipAddress { user, host: h, .. } => {
                    let (_, pass, key) = zoom_user(user).unwrap_or_default();
                    passcodes.extend(pass.map(|p| (0, p, *l)));
                    host_keys.extend(key.map(|k| (k, *l)));
                    host = host.or(Some(h.clone()));
                }
                FactKind::ZoomOneTap { passcode, .. } => passcodes.push((1, passcode.clone(), l)),
                FactKind::Passcode(p) if is_numeric(p) => passcodes.push((2, p.clone(), l)),
                FactKind::Passcode(p) => passcodes.push((4, p.clone(), l)),
                FactKind::HostKey(k) => host_keys.push((k.clone(), l)),
                FactKind::ZoomLink { pwd, .. } => {
                    url = url.or(Some(l.fact.text.clone()));
                    match pwd {
                        Some(p) if is_numeric(p) && p.len() <= 10 => passcodes.push((3, p.clone(), l)),
                        Some(p) => token = token.or(Some(p.clone())),
                        None => {}
                    }
                }
                _ => {}
            }
        }
        passcodes.sort_by_key(|(rank, _, _)| *rank);
        let Some(first) = mine.first() else { continue };
        let mut candidate = new_candidate(Platform::Zoom, None, url, first);
        candidate.evidence = mine.iter().take(12).map(|l| l.evidence()).collect();
        let passcode = passcodes.first().map(|(rank, p, l)| (*rank, p.clone(), l.fact.pattern));
        match &passcode {
            Some((rank, p, pattern)) => {
                candidate.notes.push(format!("passcode {p} from {pattern}"));
                if *rank == 4 {
                    candidate.notes.push("passcode is not numeric: Zoom may prompt for the numeric passcode".into());
                }
                let others: Vec<&str> = passcodes.iter().filter(|(r, q, _)| q != p && is_numeric(q) && *r < 4).map(|(_, q, _)| q.as_str()).collect();
                if !others.is_empty() {
                    candidate.notes.push(format!("other passcodes in the invite ignored: {}", others.join(", ")));
                }
            }
            None if token.is_some() => {
                candidate.complete = false;
                candidate.notes.push("link has an encrypted pwd token but the invite gives no numeric passcode: the device will be prompted".into());
            }
            None => {}
        }
        if token.is_some() && passcode.is_some() {
            candidate.notes.push("link pwd= is an encrypted token, not the passcode: not used".into());
        }
        let host_key = host_keys.first().map(|(k, _)| k.clone());
        let host = host.unwrap_or_else(|| config.zoom_domain.clone());
        // ANCHORS §A4: `<id>.<passcode>..<hostkey>`; with no passcode `<id>..<hostkey>`.
        let mut user = id.clone();
        if let Some((_, p, _)) = &passcode {
            user.push('.');
            user.push_str(p);
        }
        if let Some(k) = &host_key {
            user.push_str("..");
            user.push_str(k);
            candidate.notes.push("host key included".into());
        }
        candidate.dial = Some(format!("{user}@{host}"));
        add(out, candidate);
    }
    for l in located.iter().filter(|l| matches!(l.fact.kind, FactKind::ZoomPersonalLink { .. })) {
        if ids.is_empty() {
            let mut c = new_candidate(Platform::Zoom, None, Some(l.fact.text.clone()), l);
            c.notes.push("Zoom personal link without a meeting ID in the invite: not dialable".into());
            add(out, c);
        }
    }
}

fn webex(located: &[Located<'_>], config: &ResolverConfig, out: &mut Vec<Candidate>) {
    let sites: Vec<(usize, &str)> = located
        .iter()
        .filter_map(|l| match &l.fact.kind {
            FactKind::WebexLink { site, .. } => Some((l.source, site.as_str())),
            _ => None,
        })
        .collect();
    let mut dialable = false;
    for l in located {
        let dial = match &l.fact.kind {
            FactKind::WebexLink { site, personal_room: Some(user), .. } => {
                // ANCHORS §A4: a Personal Room dials as `<user>@<site>.webex.com`; a numeric PR id takes a `pr` prefix.
                let user = if is_numeric(user) { format!("pr{user}") } else { user.clone() };
                Some(format!("{user}@{site}.webex.com"))
            }
            FactKind::SipAddress { user, host, .. } if l.platform == Some(Platform::Webex) && config.video_domain(host) == Some(Platform::Webex) => {
                Some(format!("{user}@{host}"))
            }
            FactKind::MeetingId(number) if l.platform == Some(Platform::Webex) => {
                let site = sites.iter().find(|(s, _)| *s == l.source).or(sites.first()).map(|(_, s)| (*s).to_owned());
                match site.or_else(|| config.webex_default_site.clone()) {
                    Some(site) => Some(format!("{number}@{site}.webex.com")),
                    None => continue,
                }
            }
            _ => continue,
        };
        dialable = true;
        let url = sites_url(located, l.source);
        add(out, new_candidate(Platform::Webex, dial, url, l));
    }
    if !dialable {
        for l in located.iter().filter(|l| matches!(l.fact.kind, FactKind::WebexLink { .. })) {
            let mut c = new_candidate(Platform::Webex, None, Some(l.fact.text.clone()), l);
            c.notes.push("Webex link without a meeting number or personal room: not dialable".into());
            add(out, c);
        }
    }
}

fn sites_url(located: &[Located<'_>], source: usize) -> Option<String> {
    located.iter().filter(|l| l.source == source).find_map(|l| match &l.fact.kind {
        FactKind::WebexLink { url, .. } => Some(url.clone()),
        _ => None,
    })
}

fn teams(located: &[Located<'_>], config: &ResolverConfig, out: &mut Vec<Candidate>) {
    let link = located.iter().find_map(|l| match &l.fact.kind {
        FactKind::TeamsLink { url } => Some(url.clone()),
        _ => None,
    });
    let vtc = located.iter().find(|l| matches!(l.fact.kind, FactKind::VtcId(_)));
    let vtc_id = vtc.and_then(|l| match &l.fact.kind {
        FactKind::VtcId(id) => Some(id.clone()),
        _ => None,
    });
    let fill = |p: &super::TeamsProvider, tenant: &str, vtcid: &str| {
        p.template.replace("{tenant}", tenant).replace("{vtcid}", vtcid).replace("{domain}", &p.domain)
    };
    let mut dialable = false;
    for l in located {
        let FactKind::SipAddress { user, host, .. } = &l.fact.kind else { continue };
        let Some(provider) = config.teams_providers.iter().find(|p| p.domain.eq_ignore_ascii_case(host)) else { continue };
        let mut c = new_candidate(Platform::Teams, None, link.clone(), l);
        match (&vtc_id, vtc) {
            (Some(id), Some(v)) => {
                c.dial = Some(fill(provider, user, id));
                c.evidence.push(v.evidence());
                c.notes.push(format!("{} video interop: tenant key {user} from the IVR address, VTC ID {id}", provider.name));
            }
            _ => {
                c.dial = Some(format!("{user}@{host}"));
                c.complete = false;
                c.notes.push(format!("{} video interop IVR: the device will be asked for the VTC conference ID", provider.name));
            }
        }
        dialable = true;
        add(out, c);
    }
    if let (false, Some(id), Some(v)) = (dialable, &vtc_id, vtc) {
        if let Some((p, tenant)) = config.teams_providers.iter().find_map(|p| p.tenant_key.as_ref().map(|t| (p, t))) {
            let mut c = new_candidate(Platform::Teams, Some(fill(p, tenant, id)), link.clone(), v);
            c.notes.push(format!("{} video interop: configured tenant key {tenant}, VTC ID {id}", p.name));
            dialable = true;
            add(out, c);
        }
    }
    if let Some(l) = located.iter().find(|l| matches!(l.fact.kind, FactKind::TeamsLink { .. })) {
        let mut c = new_candidate(Platform::Teams, None, link.clone(), l);
        let why = if dialable { "Teams web link (WebRTC join only)" } else { "Teams meeting without video interop details: a SIP device cannot dial it (RoomOS can join by WebRTC)" };
        c.notes.push(why.into());
        if vtc_id.is_some() && !dialable {
            c.notes.push("a VTC conference ID is present but no interop address or tenant key is configured".into());
        }
        add(out, c);
    }
}

fn meet(located: &[Located<'_>], config: &ResolverConfig, out: &mut Vec<Candidate>) {
    for l in located {
        let FactKind::MeetLink { code, url } = &l.fact.kind else { continue };
        let mut c = new_candidate(Platform::GoogleMeet, None, Some(url.clone()), l);
        match &config.meet_gateway {
            Some(template) => {
                c.dial = Some(template.replace("{code_dashed}", code).replace("{code}", &code.replace('-', "")));
                c.notes.push("Google Meet through the configured interop gateway".into());
            }
            None => c.notes.push("Google Meet link and no interop gateway configured: not dialable (RoomOS can join by WebRTC)".into()),
        }
        add(out, c);
    }
}

fn sip(located: &[Located<'_>], config: &ResolverConfig, out: &mut Vec<Candidate>) {
    for l in located {
        let FactKind::SipAddress { user, host, .. } = &l.fact.kind else { continue };
        if out.iter().any(|c| c.evidence.iter().any(|e| e.text == l.fact.text)) {
            continue;
        }
        let platform = config.video_domain(host).unwrap_or(Platform::Sip);
        let mut c = new_candidate(platform, Some(format!("{user}@{host}")), None, l);
        if let Some(p) = l.platform.filter(|p| *p != platform) {
            c.notes.push(format!("found in a {} section", p.roomos_name()));
        }
        add(out, c);
    }
}
