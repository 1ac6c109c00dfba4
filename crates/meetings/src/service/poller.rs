//! One poll of a room: fetch → [`plan_room`] → write replies → replace bookings. A fetch failure changes nothing
//! but the room's `last_error`; a reply that cannot be written is logged and retried on the next poll.

use chrono::{DateTime, Duration, Utc};

use super::caldav::{CalDavClient, CalDavError};
use super::config::{MeetingsConfig, RoomConfig};
use crate::booking::BookingStore;
use crate::decide::{plan_room, ObjectError, RoomContext};
use crate::ical::parse::Limits;

/// The outcome of writing one reply.
#[derive(Debug)]
pub struct ReplyOutcome {
    /// Event UID.
    pub uid: String,
    /// `ACCEPTED` or `DECLINED`.
    pub partstat: &'static str,
    /// Why.
    pub reason: String,
    /// Whether the PUT succeeded.
    pub written: Result<(), CalDavError>,
}

/// What one poll of one room did.
#[derive(Debug)]
pub struct RoomOutcome {
    /// Room id.
    pub room: String,
    /// Replies attempted.
    pub replies: Vec<ReplyOutcome>,
    /// Bookings now in the store for the room.
    pub bookings: usize,
    /// Objects or events that could not be used (the rest were).
    pub problems: Vec<ObjectError>,
}

/// Polls the configured rooms into a [`BookingStore`].
#[derive(Debug, Clone)]
pub struct Poller {
    config: MeetingsConfig,
    client: CalDavClient,
    store: BookingStore,
}

impl Poller {
    /// Registers every room (and its device identities) in `store`.
    pub fn new(config: MeetingsConfig, store: BookingStore) -> Result<Self, reqwest::Error> {
        let timeout = std::time::Duration::from_secs(config.http_timeout_secs);
        let client = CalDavClient::new(timeout, config.max_response_bytes)?;
        for room in &config.rooms {
            store.add_room(&room.id, &room.identities);
        }
        Ok(Self { config, client, store })
    }

    /// The store the poller fills.
    pub fn store(&self) -> &BookingStore {
        &self.store
    }

    /// Polls one room at `now`.
    pub async fn poll_room(&self, room: &RoomConfig, now: DateTime<Utc>) -> Result<RoomOutcome, CalDavError> {
        let horizon = Duration::days(i64::from(self.config.horizon_days));
        let objects = match self.client.fetch(room, now - Duration::days(1), now + horizon).await {
            Ok(objects) => objects,
            Err(e) => {
                tracing::warn!(room = %room.id, error = %e, "calendar poll failed; keeping the last good bookings");
                self.store.record_error(&room.id, &e);
                return Err(e);
            }
        };
        let limits = Limits { max_bytes: self.config.max_response_bytes, ..Limits::default() };
        let ctx = RoomContext { address: &room.address, resolver: &self.config.resolver, limits, now, horizon };
        let mut plan = plan_room(&objects, &ctx);
        for problem in &plan.errors {
            tracing::warn!(room = %room.id, error = %problem, "calendar object skipped");
        }
        let mut replies = Vec::new();
        for reply in &plan.replies {
            let written = self.client.put(room, reply).await;
            match &written {
                Ok(()) => tracing::info!(room = %room.id, uid = %reply.uid, partstat = reply.partstat, reason = %reply.reason, "invite answered"),
                Err(e) => {
                    tracing::warn!(room = %room.id, uid = %reply.uid, error = %e, "reply not written; retried next poll");
                    if reply.partstat == "ACCEPTED" {
                        let uid = &reply.uid;
                        plan.bookings.retain(|b| b.id != *uid && !b.id.starts_with(&format!("{uid}#")));
                    }
                }
            }
            replies.push(ReplyOutcome { uid: reply.uid.clone(), partstat: reply.partstat, reason: reply.reason.clone(), written });
        }
        let bookings = plan.bookings.len();
        self.store.replace(&room.id, plan.bookings, now);
        Ok(RoomOutcome { room: room.id.clone(), replies, bookings, problems: plan.errors })
    }

    /// Polls every room once at `now`, one after the other.
    pub async fn poll_all(&self, now: DateTime<Utc>) -> Vec<Result<RoomOutcome, CalDavError>> {
        let mut out = Vec::with_capacity(self.config.rooms.len());
        for room in &self.config.rooms {
            out.push(self.poll_room(room, now).await);
        }
        out
    }

    /// Polls every `poll_interval_secs` until `shutdown` completes. The wall clock is read here, once per cycle.
    pub async fn run(&self, shutdown: impl std::future::Future<Output = ()>) {
        let mut tick = tokio::time::interval(std::time::Duration::from_secs(self.config.poll_interval_secs));
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        tokio::pin!(shutdown);
        loop {
            tokio::select! {
                () = &mut shutdown => return,
                _ = tick.tick() => {
                    self.poll_all(Utc::now()).await;
                }
            }
        }
    }
}
