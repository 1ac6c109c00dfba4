//! Users (with remote destinations and associated identities), lines and devices.

use std::time::Duration;

use causeway_policy::digest::credentials::{Algorithm, Ha1};
use causeway_sip::Uri;
use toml::Spanned;

use super::plan::{partition, PatternIndex};
use super::{Cx, Unique};
use crate::config::{CallCtlConfig, DeviceConfig, ForwardConfig, ReachConfig};
use crate::dialplan::{DialPlan, EntryKind};
use crate::directory::{
    identity_key, Credentials, Destination, Device, DeviceId, Directory, Forward, Line, LineId, ReachKind, RemoteDestination,
    SnrTimers, User, UserId,
};
use crate::error::{DestinationError, LoadError};
use crate::pattern::{DialString, Pattern};
use crate::schedule::{Schedule, Window};

/// CUCM's ranges for the SNR timers, in milliseconds.
const MAX_DELAY_MS: u64 = 30_000;
const MAX_TOO_SOON_MS: u64 = 10_000;
const MAX_TOO_LATE_MS: u64 = 300_000;
/// Forward-no-answer ring time: default and largest (CUCM: 12 s, at most 300 s).
const DEFAULT_NO_ANSWER_MS: u64 = 12_000;
const MAX_NO_ANSWER_MS: u64 = 300_000;

pub(crate) fn users(cx: &Cx<'_>, raw: &CallCtlConfig, plan: &DialPlan, dir: &mut Directory) -> Result<(), LoadError> {
    let mut unique = Unique::new("user");
    let mut identities = Unique::new("associated identity");
    for u in &raw.user {
        let userid = cx.name(&u.userid, "userid")?;
        unique.insert(&userid, cx.at(&u.userid))?;
        let uid = UserId(dir.users.len());
        let mail = u.mail.as_ref().map(|m| match m.get_ref().split_once('@') {
            Some((a, b)) if !a.is_empty() && !b.is_empty() => Ok(m.get_ref().clone()),
            _ => Err(cx.field(m, "mail", "is not a mail address")),
        });
        let e164 = u.e164.as_ref().map(|n| {
            let digits = n.get_ref().strip_prefix('+').unwrap_or("");
            if (1..=15).contains(&digits.len()) && digits.bytes().all(|b| b.is_ascii_digit()) {
                Ok(n.get_ref().clone())
            } else {
                Err(cx.field(n, "e164", "is not an E.164 number (+ and 1-15 digits)"))
            }
        });
        let directory_uri = u.directory_uri.as_ref().map(|d| match Uri::parse(&format!("sip:{}", d.get_ref())) {
            Ok(Uri::Sip(s)) if s.user().is_some() && s.port().is_none() && s.params().is_empty() => Ok(d.get_ref().clone()),
            _ => Err(cx.field(d, "directory_uri", "is not user@host")),
        });
        let mut names = Unique::new("remote destination");
        let mut reach = Vec::new();
        let lists = [(&u.remote_destination, ReachKind::RemoteDestination), (&u.associated_identity, ReachKind::AssociatedIdentity)];
        for (list, kind) in lists {
            for r in list {
                let rd = reach_entry(cx, r, kind)?;
                names.insert(&rd.name, cx.at(r.name.as_ref().unwrap_or(&r.destination)))?;
                if let (ReachKind::AssociatedIdentity, Destination::Uri { key, .. }) = (kind, &rd.destination) {
                    identities.insert(key, cx.at(&r.destination))?;
                    dir.identities.insert(key.clone(), (uid, reach.len()));
                }
                reach.push(rd);
            }
        }
        dir.users.push(User {
            display_name: u.display_name.as_ref().map(|d| cx.name(d, "display_name")).transpose()?,
            mail: mail.transpose()?,
            directory_uri: directory_uri.transpose()?,
            e164: e164.transpose()?,
            home_cfqdn: u.home_cfqdn.as_ref().map(|h| cx.host(h, "home_cfqdn")).transpose()?,
            anchored_css: cx.css(plan, u.anchored_css.as_ref())?,
            remote_destination_css: cx.css(plan, u.remote_destination_css.as_ref())?,
            dual_ring: u.dual_ring.unwrap_or(true),
            reach,
            lines: Vec::new(),
            userid: userid.clone(),
        });
        dir.by_userid.insert(userid, uid);
    }
    Ok(())
}

/// A remote destination is a SIP URI (`sip:`, `sips:`, or bare `user@host`), a `tel:` URI or a
/// number; an associated identity must be `user@host`.
pub(crate) fn destination(text: &str, identity: bool) -> Result<Destination, DestinationError> {
    let has_scheme = match (text.find(':'), text.find('@')) {
        (Some(colon), Some(at)) => colon < at,
        (Some(_), None) => true,
        (None, _) => false,
    };
    let with_scheme = if has_scheme || !text.contains('@') { text.to_owned() } else { format!("sip:{text}") };
    if !has_scheme && !text.contains('@') {
        return match DialString::parse(text) {
            Some(_) if identity => Err(DestinationError::IdentityNeedsUri),
            Some(number) => Ok(Destination::Number(number)),
            None => Err(DestinationError::Neither),
        };
    }
    match Uri::parse(&with_scheme).map_err(DestinationError::Uri)? {
        Uri::Sip(sip) => {
            let user = sip.user_unescaped().ok_or(DestinationError::NoUser)?;
            let key = identity_key(&String::from_utf8_lossy(&user), sip.host_str());
            Ok(Destination::Uri { uri: with_scheme.clone(), key })
        }
        Uri::Tel(_) if identity => Err(DestinationError::IdentityNeedsUri),
        Uri::Tel(tel) => DialString::parse(&tel.digits()).map(Destination::Number).ok_or(DestinationError::Neither),
        Uri::Other { scheme, .. } => Err(DestinationError::Scheme(scheme.to_owned())),
    }
}

fn ms(cx: &Cx<'_>, v: Option<&Spanned<u64>>, field: &'static str, max: u64, default: u64) -> Result<u64, LoadError> {
    match v {
        None => Ok(default),
        Some(v) if *v.get_ref() <= max => Ok(*v.get_ref()),
        Some(v) => Err(LoadError::TimerRange { at: cx.at(v), field, value: *v.get_ref(), min: 0, max }),
    }
}

fn reach_entry(cx: &Cx<'_>, r: &ReachConfig, kind: ReachKind) -> Result<RemoteDestination, LoadError> {
    let text = r.destination.get_ref();
    let destination = destination(text, kind == ReachKind::AssociatedIdentity)
        .map_err(|error| LoadError::Destination { at: cx.at(&r.destination), value: text.clone(), error })?;
    let defaults = SnrTimers::default();
    let millis = |d: Option<Duration>| d.map_or(0, |d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX));
    let delay = ms(cx, r.delay_before_ringing_ms.as_ref(), "delay_before_ringing_ms", MAX_DELAY_MS, millis(Some(defaults.delay_before_ringing)))?;
    let soon = ms(cx, r.answer_too_soon_ms.as_ref(), "answer_too_soon_ms", MAX_TOO_SOON_MS, millis(defaults.answer_too_soon))?;
    let late = ms(cx, r.answer_too_late_ms.as_ref(), "answer_too_late_ms", MAX_TOO_LATE_MS, millis(defaults.answer_too_late))?;
    if soon > 0 && late > 0 && soon >= late {
        let span = r.answer_too_late_ms.as_ref().or(r.answer_too_soon_ms.as_ref()).map_or(cx.at(&r.destination), |v| cx.at(v));
        return Err(LoadError::TimerOrder { at: span, soon, late });
    }
    let nonzero = |v: u64| (v > 0).then(|| Duration::from_millis(v));
    let schedule = r
        .schedule
        .as_ref()
        .map(|s| {
            let s_ref = s.get_ref();
            let windows = s_ref
                .ring
                .iter()
                .map(|w| {
                    let days: Vec<&str> = w.get_ref().days.iter().map(String::as_str).collect();
                    Window::parse(&days, &w.get_ref().from, &w.get_ref().to).map_err(|error| LoadError::Schedule { at: cx.at(w), error })
                })
                .collect::<Result<Vec<_>, _>>()?;
            if windows.is_empty() {
                return Err(LoadError::Schedule { at: cx.at(s), error: crate::schedule::ScheduleError::NoWindows });
            }
            Schedule::new(s_ref.time_zone.get_ref(), windows).map_err(|error| LoadError::Schedule { at: cx.at(&s_ref.time_zone), error })
        })
        .transpose()?;
    Ok(RemoteDestination {
        name: r.name.as_ref().map(|n| cx.name(n, "name")).transpose()?.unwrap_or_else(|| text.clone()),
        kind,
        destination,
        timers: SnrTimers { delay_before_ringing: Duration::from_millis(delay), answer_too_soon: nonzero(soon), answer_too_late: nonzero(late) },
        enabled: r.enabled.unwrap_or(true),
        schedule,
    })
}

fn forward(cx: &Cx<'_>, v: &Spanned<ForwardConfig>, no_answer: bool) -> Result<Forward, LoadError> {
    let f = v.get_ref();
    let destination = cx.number(&f.destination, "forward destination")?;
    let after = match (no_answer, &f.after_ms) {
        (true, None) => DEFAULT_NO_ANSWER_MS,
        (true, Some(ms)) if (1..=MAX_NO_ANSWER_MS).contains(ms.get_ref()) => *ms.get_ref(),
        (true, Some(ms)) => {
            return Err(LoadError::TimerRange { at: cx.at(ms), field: "after_ms", value: *ms.get_ref(), min: 1, max: MAX_NO_ANSWER_MS })
        }
        (false, None) => 0,
        (false, Some(ms)) => {
            return Err(LoadError::Field {
                at: cx.at(ms),
                field: "forward_busy.after_ms",
                value: ms.get_ref().to_string(),
                why: "a busy forward happens at once; after_ms applies to forward_no_answer",
            })
        }
    };
    Ok(Forward { destination, after: Duration::from_millis(after) })
}

pub(crate) fn lines(cx: &Cx<'_>, raw: &CallCtlConfig, plan: &mut DialPlan, dir: &mut Directory, index: &mut PatternIndex) -> Result<(), LoadError> {
    for l in &raw.line {
        let dn = cx.number(&l.dn, "dn")?;
        let partition = partition(cx, plan, &l.partition)?;
        let owner = l
            .user
            .as_ref()
            .map(|u| dir.user_by_userid(u.get_ref()).ok_or_else(|| LoadError::Unknown { at: cx.at(u), what: "user", name: u.get_ref().clone() }))
            .transpose()?;
        let escaped = dn.as_str().replace('+', "\\+");
        let pattern = Pattern::parse(&escaped).map_err(|error| LoadError::Pattern { at: cx.at(&l.dn), pattern: escaped.clone(), error })?;
        let id = LineId(dir.lines.len());
        index.add(plan, partition, cx.at(&l.dn), pattern, EntryKind::Line(id))?;
        if let Some(user) = owner.and_then(|u| dir.users.get_mut(u.0)) {
            user.lines.push(id);
        }
        dir.lines.push(Line {
            dn: dn.to_string(),
            partition,
            owner,
            css: cx.css(plan, l.css.as_ref())?,
            display_name: l.display_name.as_ref().map(|d| cx.name(d, "display_name")).transpose()?,
            forward_no_answer: l.forward_no_answer.as_ref().map(|f| forward(cx, f, true)).transpose()?,
            forward_busy: l.forward_busy.as_ref().map(|f| forward(cx, f, false)).transpose()?,
            forward_css: cx.css(plan, l.forward_css.as_ref())?,
            devices: Vec::new(),
        });
    }
    Ok(())
}

fn line_ref(cx: &Cx<'_>, plan: &DialPlan, dir: &Directory, v: &Spanned<String>) -> Result<LineId, LoadError> {
    let (dn, part) = match v.get_ref().split_once(" in ") {
        Some((dn, p)) => (dn.trim(), Some(p.trim())),
        None => (v.get_ref().trim(), None),
    };
    let dn = DialString::parse(dn).ok_or_else(|| LoadError::Number { at: cx.at(v), field: "line", value: v.get_ref().clone() })?;
    let found: Vec<LineId> = dir
        .lines()
        .filter(|(_, l)| l.dn == dn.as_str() && part.is_none_or(|p| plan.partition_name(l.partition) == p))
        .map(|(id, _)| id)
        .collect();
    match found.as_slice() {
        [one] => Ok(*one),
        [] => Err(LoadError::Unknown { at: cx.at(v), what: "line", name: v.get_ref().clone() }),
        _ => Err(LoadError::AmbiguousLine { at: cx.at(v), dn: dn.to_string() }),
    }
}

fn credentials(cx: &Cx<'_>, d: &DeviceConfig, dir: &Directory, usernames: &mut Unique) -> Result<Option<Credentials>, LoadError> {
    let Some(c) = &d.credentials else { return Ok(None) };
    if dir.realm.is_none() {
        return Err(LoadError::NoRealm { at: cx.at(c) });
    }
    let raw = c.get_ref();
    let username = cx.name(&raw.username, "username")?;
    usernames.insert(&username, cx.at(&raw.username))?;
    let mut ha1 = Vec::new();
    for (v, algorithm) in [(&raw.ha1_md5, Algorithm::Md5), (&raw.ha1_sha256, Algorithm::Sha256)] {
        if let Some(v) = v {
            ha1.push(Ha1::from_hex(algorithm, v.get_ref()).map_err(|error| LoadError::Ha1 { at: cx.at(v), error })?);
        }
    }
    if ha1.is_empty() {
        return Err(LoadError::NoHa1 { at: cx.at(c) });
    }
    Ok(Some(Credentials { username, ha1 }))
}

pub(crate) fn devices(cx: &Cx<'_>, raw: &CallCtlConfig, plan: &DialPlan, dir: &mut Directory) -> Result<(), LoadError> {
    let mut names = Unique::new("device");
    let mut usernames = Unique::new("digest username");
    for d in &raw.device {
        let name = cx.name(&d.name, "device name")?;
        names.insert(&name, cx.at(&d.name))?;
        let owner = d
            .user
            .as_ref()
            .map(|u| dir.user_by_userid(u.get_ref()).ok_or_else(|| LoadError::Unknown { at: cx.at(u), what: "user", name: u.get_ref().clone() }))
            .transpose()?;
        let mut lines = Vec::new();
        for v in &d.lines {
            let line = line_ref(cx, plan, dir, v)?;
            if lines.contains(&line) {
                return Err(cx.field(v, "lines", "the line is already on this device"));
            }
            lines.push(line);
        }
        let credentials = credentials(cx, d, dir, &mut usernames)?;
        let id = DeviceId(dir.devices.len());
        for line in &lines {
            if let Some(l) = dir.lines.get_mut(line.0) {
                l.devices.push(id);
            }
        }
        if let Some(c) = &credentials {
            dir.by_username.insert(c.username.clone(), id);
        }
        dir.by_device.insert(name.clone(), id);
        dir.devices.push(Device { name, owner, css: cx.css(plan, d.css.as_ref())?, lines, credentials });
    }
    Ok(())
}

/// A directory URI dials the user's primary line, in that line's partition.
pub(crate) fn directory_uris(cx: &Cx<'_>, raw: &CallCtlConfig, plan: &mut DialPlan, dir: &Directory) -> Result<(), LoadError> {
    let mut unique = Unique::new("directory URI");
    for (u, user) in raw.user.iter().zip(&dir.users) {
        let (Some(spanned), Some(uri)) = (&u.directory_uri, &user.directory_uri) else { continue };
        let Some(line_id) = user.primary_line() else { continue };
        let Some(line) = dir.line(line_id) else { continue };
        let key = uri.to_lowercase();
        unique.insert(&format!("{key} in {}", plan.partition_name(line.partition)), cx.at(spanned))?;
        plan.uris.insert((line.partition, key), (line_id, line.dn.clone()));
    }
    Ok(())
}
