//! Room bookings for routing's Zoom repair (`[meetings] config = FILE` in the main config): `causeway serve`
//! runs the meetings service of that file in-process — CalDAV polling and the bookings API, exactly what
//! `causeway meetings serve` runs — and the node's routing reads the same booking store; `causeway locate` reads
//! the room calendars once, without answering any invite, to show the repair a call would get now.
//! Wiring only: the polling, the decisions and the repair are causeway-meetings'.

use std::sync::Arc;

use anyhow::Context as _;
use causeway_config::MeetingsLink;
use causeway_meetings::booking::BookingStore;
use causeway_meetings::decide::{plan_room, RoomContext};
use causeway_meetings::ical::parse::Limits;
use causeway_meetings::service::caldav::CalDavClient;
use causeway_meetings::service::config::MeetingsConfig;
use causeway_meetings::service::poller::Poller;
use causeway_proxy::edge::{WallClock, ZoomRepair};
use chrono::{DateTime, Utc};
use tokio::sync::watch;
use tokio::task::JoinHandle;

/// The meetings service running inside `causeway serve`.
pub(crate) struct InProcess {
    /// The repair stage the node routes with.
    pub(crate) repair: ZoomRepair,
    stop: watch::Sender<bool>,
    tasks: Vec<JoinHandle<()>>,
}

impl InProcess {
    /// Loads the meetings config, binds its bookings API and starts polling (the first poll at once).
    pub(crate) async fn start(link: &MeetingsLink) -> anyhow::Result<Self> {
        let config = MeetingsConfig::load(&link.config)?;
        let listen = config.listen;
        let store = BookingStore::new();
        let poller = Poller::new(config, store.clone()).context("building the CalDAV client")?;
        let listener = tokio::net::TcpListener::bind(listen).await.with_context(|| format!("binding the meetings API on {listen}"))?;
        let bound = listener.local_addr().unwrap_or(listen);
        tracing::info!(listen = %bound, rooms = poller.store().rooms().len(), "meetings service in-process: bookings API listening");
        let (stop, stopped) = watch::channel(false);
        let until_stopped = |mut rx: watch::Receiver<bool>| async move {
            let _ = rx.wait_for(|s| *s).await;
        };
        let api_store = store.clone();
        let api_stop = until_stopped(stopped.clone());
        let api = tokio::spawn(async move {
            if let Err(error) = causeway_meetings::service::api::serve(listener, api_store, api_stop).await {
                tracing::warn!(%error, "meetings API stopped");
            }
        });
        let polling = tokio::spawn(async move { poller.run(until_stopped(stopped)).await });
        let clock: WallClock = Arc::new(Utc::now);
        Ok(Self { repair: ZoomRepair::new(store, clock), stop, tasks: vec![api, polling] })
    }

    /// Stops polling and the API.
    pub(crate) async fn stop(self) {
        let _ = self.stop.send(true);
        for task in self.tasks {
            let _ = task.await;
        }
    }
}

/// The rooms' bookings as one read of their calendars at `now` gives them (invites not yet answered count as
/// the room would answer them); nothing is written back. Rooms whose calendar cannot be read are reported and
/// keep no bookings.
pub(crate) async fn snapshot(link: &MeetingsLink, now: DateTime<Utc>) -> anyhow::Result<ZoomRepair> {
    let config = MeetingsConfig::load(&link.config)?;
    let client = CalDavClient::new(std::time::Duration::from_secs(config.http_timeout_secs), config.max_response_bytes)
        .context("building the CalDAV client")?;
    let store = BookingStore::new();
    let horizon = chrono::Duration::days(i64::from(config.horizon_days));
    for room in &config.rooms {
        store.add_room(&room.id, &room.identities);
        match client.fetch(room, now - chrono::Duration::days(1), now + horizon).await {
            Ok(objects) => {
                let limits = Limits { max_bytes: config.max_response_bytes, ..Limits::default() };
                let ctx = RoomContext { address: &room.address, resolver: &config.resolver, limits, now, horizon };
                store.replace(&room.id, plan_room(&objects, &ctx).bookings, now);
            }
            Err(error) => eprintln!("causeway: room {}: {error}; no bookings for it", room.id),
        }
    }
    Ok(ZoomRepair::new(store, Arc::new(move || now)))
}
