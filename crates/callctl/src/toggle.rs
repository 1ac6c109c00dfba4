//! Dual ringing on/off per user: the config gives the starting state, the feature code (e.g.
//! `*88` dialed from the user's phone) and the admin API flip it. Runtime state, kept apart from
//! the immutable [`crate::Cluster`] so that a reload does not reset it; keys are user ids, so
//! it survives a reload that renumbers users, and holds at most one entry per configured user.

use std::collections::BTreeMap;

use crate::directory::User;

/// Per-user dual-ringing overrides on top of each user's configured `dual_ring`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct DualRingSwitches {
    overrides: BTreeMap<String, bool>,
}

impl DualRingSwitches {
    /// No overrides: every user as configured.
    pub fn new() -> Self {
        Self::default()
    }

    /// Whether `user`'s remote destinations and associated identities ring with their lines.
    pub fn is_on(&self, user: &User) -> bool {
        self.overrides.get(&user.userid).copied().unwrap_or(user.dual_ring)
    }

    /// Sets dual ringing for `user` (the admin API).
    pub fn set(&mut self, user: &User, on: bool) {
        if on == user.dual_ring {
            self.overrides.remove(&user.userid);
        } else {
            self.overrides.insert(user.userid.clone(), on);
        }
    }

    /// Flips dual ringing for `user` (the feature code) and returns the new state.
    pub fn toggle(&mut self, user: &User) -> bool {
        let on = !self.is_on(user);
        self.set(user, on);
        on
    }

    /// The overrides, for the store to persist: (user id, on).
    pub fn overrides(&self) -> impl Iterator<Item = (&str, bool)> {
        self.overrides.iter().map(|(u, on)| (u.as_str(), *on))
    }
}
