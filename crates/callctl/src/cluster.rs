//! [`Cluster`]: one immutable snapshot of call control (directory, dial plan, trunks, loop
//! avoidance, feature codes), and [`Cluster::locate`], the dial-plan decision for one call —
//! the same function serves live calls and `causeway locate`.

use causeway_policy::Address;

use crate::dialplan::{AppliedTranslation, Analysis, DialPlan, Outcome, Trace, TraceStep};
use crate::directory::Directory;
use crate::origin::{CallingIdentity, LoopAvoidance, Origin, Placement, PlacementError, Trunk};
use crate::pattern::DialString;

/// A loaded call-control configuration. Build it once per load (`Cluster::from_config`) and
/// share it (`Arc`); a reload builds a new one.
#[derive(Debug, Clone)]
pub struct Cluster {
    pub(crate) cfqdns: Vec<String>,
    pub(crate) directory: Directory,
    pub(crate) plan: DialPlan,
    pub(crate) trunks: Vec<Trunk>,
    pub(crate) loop_avoidance: LoopAvoidance,
    pub(crate) dual_ring_toggle: Option<DialString>,
}

/// The decision for one call.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Decision {
    /// The caller.
    #[serde(skip)]
    pub placement: Placement,
    /// Where the call goes.
    pub outcome: Outcome,
    /// The identity to present on the outgoing leg(s), after transformations.
    pub calling: CallingIdentity,
    /// Translation patterns applied, in order.
    pub translations: Vec<AppliedTranslation>,
    /// User id of the anchored caller.
    pub anchored_user: Option<String>,
    /// Every step.
    pub trace: Trace,
}

impl Cluster {
    /// The directory.
    pub fn directory(&self) -> &Directory {
        &self.directory
    }

    /// The dial plan.
    pub fn dial_plan(&self) -> &DialPlan {
        &self.plan
    }

    /// The cluster FQDNs.
    pub fn cfqdns(&self) -> &[String] {
        &self.cfqdns
    }

    /// The trunks.
    pub fn trunks(&self) -> &[Trunk] {
        &self.trunks
    }

    /// Loop avoidance settings.
    pub fn loop_avoidance(&self) -> &LoopAvoidance {
        &self.loop_avoidance
    }

    /// Whether `host` is one of the cluster FQDNs (case-insensitive, trailing dot ignored).
    pub fn is_cfqdn(&self, host: &str) -> bool {
        let host = host.trim_end_matches('.');
        self.cfqdns.iter().any(|c| c.eq_ignore_ascii_case(host))
    }

    /// Places the call and analyses the Request-URI `called` in the caller's search space.
    pub fn locate(&self, origin: &Origin, called: &Address) -> Result<Decision, PlacementError> {
        let mut trace = Trace::default();
        let placement = self.place(origin, &mut trace)?;
        let analysis = self.route(&placement, called, &mut trace);
        let mut calling = placement.calling.clone();
        calling.number = analysis.calling;
        let anchored_user = placement.anchored_by.as_ref().and(placement.user).and_then(|u| self.directory.user(u));
        Ok(Decision {
            anchored_user: anchored_user.map(|u| u.userid.clone()),
            placement,
            outcome: analysis.outcome,
            calling,
            translations: analysis.translations,
            trace,
        })
    }

    /// Analyses `number` (a forward or remote-destination number, say) in `search`.
    pub fn analyse_number(&self, search: &[crate::directory::PartitionId], number: &DialString, trace: &mut Trace) -> Outcome {
        self.plan.analyse_digits(search, number, None, trace).outcome
    }

    /// The digits of the Request-URI when it routes by digits: a `tel:` URI, or
    /// `<digits>@<CFQDN>`.
    pub fn digits_of(&self, called: &Address) -> Option<DialString> {
        if let Some(number) = called.scheme().eq("tel").then(|| called.user()).flatten() {
            return DialString::parse(number);
        }
        let (user, host) = (called.user()?, called.host()?);
        let user = user.split(';').next().unwrap_or(user);
        if self.is_cfqdn(host) {
            DialString::parse(user)
        } else {
            None
        }
    }

    fn route(&self, placement: &Placement, called: &Address, trace: &mut Trace) -> Analysis {
        let calling = placement.calling.number.clone();
        let Some(digits) = self.digits_of(called) else {
            let outcome = match (called.user(), called.host()) {
                (Some(user), Some(host)) => self.plan.analyse_uri(&placement.search, &format!("{user}@{host}"), trace),
                _ => {
                    trace.push(TraceStep::Note { text: format!("{called} is neither digits at a cluster FQDN nor a directory URI") });
                    Outcome::NoMatch
                }
            };
            return Analysis { outcome, calling, translations: Vec::new() };
        };
        if let (Some(code), Some(user)) = (&self.dual_ring_toggle, placement.user) {
            if *code == digits {
                trace.push(TraceStep::Feature { code: code.to_string(), feature: "dual ringing on/off".to_owned() });
                let userid = self.directory.user(user).map(|u| u.userid.clone()).unwrap_or_default();
                return Analysis { outcome: Outcome::ToggleDualRing { user, userid }, calling, translations: Vec::new() };
            }
        }
        self.plan.analyse_digits(&placement.search, &digits, calling.as_deref(), trace)
    }

    /// The dual-ringing toggle feature code, if configured.
    pub fn dual_ring_toggle_code(&self) -> Option<&DialString> {
        self.dual_ring_toggle.as_ref()
    }
}
