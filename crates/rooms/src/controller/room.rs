//! One room's task: connect, save the swap panel, subscribe, read the current state, apply the display
//! policy, push bookings, then follow feedback. Any failure (closed socket, timeout, JSON-RPC error) ends the
//! session with a logged error; the task waits ([`Backoff`]) and starts a new session, which reads the device
//! again and re-applies whatever differs. Nothing here panics on device input.

use super::client::{ClientError, XapiClient};
use super::config::{RoomConfig, Settings};
use super::sync::{panel_xml, FeedbackSync, PANEL_CLICKED, STATUS_QUERIES};
use super::Backoff;
use crate::bookings::{upcoming, Booking, BookingSource, BookingsFile, RoomOsBooking};
use crate::policy::DisplayPolicy;
use crate::tree::{parse_text_path, path_to_json, PathElem};
use serde_json::{json, Value};
use std::convert::Infallible;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::watch;
use tokio::task::JoinHandle;

/// Most bookings pushed to one device at a time (the soonest ones).
pub const MAX_PUSHED_BOOKINGS: usize = 50;

/// What a room task reports about itself.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RoomState {
    /// A session is up and its initial sync is done.
    pub connected: bool,
    /// Sessions that reached the connected state.
    pub sessions: u64,
    /// Sessions that ended in an error.
    pub failures: u64,
    /// The last session error, as logged.
    pub last_error: Option<String>,
    /// Booking lists pushed to the device.
    pub bookings_pushed: u64,
    /// MonitorRole settings applied.
    pub roles_applied: u64,
}

/// A running room task; dropping it stops the task.
pub struct RoomHandle {
    state: watch::Receiver<RoomState>,
    task: JoinHandle<()>,
}

impl RoomHandle {
    /// The latest state.
    pub fn state(&self) -> RoomState {
        self.state.borrow().clone()
    }

    /// Waits until `pred` holds (or `timeout` passes) and returns the state then.
    pub async fn wait_for(&mut self, timeout: Duration, pred: impl Fn(&RoomState) -> bool) -> RoomState {
        // Timing out is an answer too: the caller checks the returned state.
        let _ = tokio::time::timeout(timeout, self.state.wait_for(|s| pred(s))).await;
        self.state()
    }
}

impl Drop for RoomHandle {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// Starts the task for `room` on the current tokio runtime (call it from within one). Bookings come from
/// `bookings` when given (e.g. the meetings store), else from the room's `bookings_file`, else none are pushed.
pub fn spawn_room(room: RoomConfig, settings: Settings, bookings: Option<Arc<dyn BookingSource>>) -> RoomHandle {
    let bookings = bookings.or_else(|| {
        room.bookings_file.as_ref().map(|p| Arc::new(BookingsFile::new(p)) as Arc<dyn BookingSource>)
    });
    let (tx, rx) = watch::channel(RoomState::default());
    let task = tokio::spawn(run(room, settings, bookings, tx));
    RoomHandle { state: rx, task }
}

struct Room {
    config: RoomConfig,
    settings: Settings,
    bookings: Option<Arc<dyn BookingSource>>,
    state: watch::Sender<RoomState>,
    policy: DisplayPolicy,
    last_good_bookings: Option<Vec<Booking>>,
    backoff: Backoff,
}

async fn run(
    config: RoomConfig,
    settings: Settings,
    bookings: Option<Arc<dyn BookingSource>>,
    state: watch::Sender<RoomState>,
) {
    let backoff = Backoff::new(settings.backoff_initial, settings.backoff_max);
    let mut room =
        Room { config, settings, bookings, state, policy: DisplayPolicy::new(), last_good_bookings: None, backoff };
    loop {
        let Err(error) = room.session().await;
        let delay = room.backoff.next_delay();
        tracing::error!(
            room = %room.config.name,
            device = %room.config.device.url,
            %error,
            retry_in_ms = delay.as_millis() as u64,
            "room controller: xAPI session failed; reconnecting"
        );
        room.state.send_modify(|s| {
            s.connected = false;
            s.failures += 1;
            s.last_error = Some(error.to_string());
        });
        tokio::time::sleep(delay).await;
    }
}

fn query(text: &str) -> Value {
    path_to_json(&parse_text_path(text).unwrap_or_default())
}

impl Room {
    async fn session(&mut self) -> Result<Infallible, ClientError> {
        let mut client = XapiClient::connect(&self.config.device, self.settings.request_timeout).await?;
        let panel_id = self.settings.swap_panel_id.clone();
        client
            .call("xCommand/UserInterface/Extensions/Panel/Save", json!({"PanelId": panel_id, "body": panel_xml(&panel_id)}))
            .await?;
        for q in STATUS_QUERIES.iter().chain([&PANEL_CLICKED]) {
            client.call("xFeedback/Subscribe", json!({"Query": query(q), "NotifyCurrentValue": false})).await?;
        }
        self.policy.forget_device_roles();
        let mut sync = FeedbackSync::new(&panel_id);
        for q in STATUS_QUERIES {
            let current = client.call("xQuery", json!({ "Query": query(q) })).await?;
            sync.apply(&current).into_iter().for_each(|i| self.policy.handle(i));
        }
        self.apply_roles(&mut client).await?;
        let mut pushed = None;
        self.push_bookings(&mut client, &mut pushed).await?;
        self.backoff.reset();
        self.state.send_modify(|s| {
            s.connected = true;
            s.sessions += 1;
        });
        tracing::info!(room = %self.config.name, device = %self.config.device.url, "room controller: connected");
        let mut tick = tokio::time::interval(self.settings.bookings_interval.max(Duration::from_millis(10)));
        tick.tick().await;
        loop {
            tokio::select! {
                event = client.next_notification() => {
                    sync.apply(&event?).into_iter().for_each(|i| self.policy.handle(i));
                    self.apply_roles(&mut client).await?;
                }
                _ = tick.tick() => self.push_bookings(&mut client, &mut pushed).await?,
            }
        }
    }

    async fn apply_roles(&mut self, client: &mut XapiClient) -> Result<(), ClientError> {
        let changes = self.policy.poll_changes();
        if changes.is_empty() {
            return Ok(());
        }
        tracing::info!(
            room = %self.config.name,
            ranking = ?self.policy.ranking(),
            swapped = self.policy.swapped(),
            changes = ?changes,
            "room controller: applying display roles"
        );
        for change in changes {
            let mut path = parse_text_path("Configuration Video Output Connector").unwrap_or_default();
            path.extend([PathElem::Index(change.connector), PathElem::Node("MonitorRole".into())]);
            let set = client.call("xSet", json!({"Path": path_to_json(&path), "Value": change.role.as_str()})).await;
            if let Err(e) = set {
                // The device may or may not have it now: the next session reads it again.
                self.policy.forget_device_roles();
                return Err(e);
            }
            self.state.send_modify(|s| s.roles_applied += 1);
        }
        Ok(())
    }

    /// Re-reads the booking source and pushes the upcoming list when it differs from the last push of this
    /// session. A failing source leaves the last good list in force.
    async fn push_bookings(
        &mut self,
        client: &mut XapiClient,
        pushed: &mut Option<Vec<Booking>>,
    ) -> Result<(), ClientError> {
        let Some(source) = &self.bookings else { return Ok(()) };
        match source.bookings(&self.config.name) {
            Ok(list) => self.last_good_bookings = Some(list),
            Err(e) => tracing::warn!(room = %self.config.name, error = %e, "bookings unavailable; keeping the last good list"),
        }
        let Some(list) = &self.last_good_bookings else { return Ok(()) };
        let list = upcoming(list, chrono::Utc::now(), MAX_PUSHED_BOOKINGS);
        if pushed.as_ref() == Some(&list) {
            return Ok(());
        }
        let body = json!({ "Booking": list.iter().map(RoomOsBooking).collect::<Vec<_>>() }).to_string();
        client.call("xCommand/Bookings/Put", json!({ "body": body })).await?;
        tracing::info!(room = %self.config.name, count = list.len(), "room controller: bookings pushed");
        *pushed = Some(list);
        self.state.send_modify(|s| s.bookings_pushed += 1);
        Ok(())
    }
}
