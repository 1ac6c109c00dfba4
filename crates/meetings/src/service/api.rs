//! The meetings part of the admin HTTP API (loopback by default): read-only views of the booking store.
//!
//! - `GET /api/rooms` → every room with its booking count, last update and last error;
//! - `GET /api/rooms/{room}/bookings` → the room's bookings in the RoomOS `Bookings List` shape
//!   (`{"ResultInfo":{"TotalRows":n},"Booking":[…]}`) plus `room`, `updated_at`, `last_error`, `generation`.

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use serde_json::json;

use crate::booking::BookingStore;

/// The routes, over `store`.
pub fn router(store: BookingStore) -> Router {
    Router::new().route("/api/rooms", get(rooms)).route("/api/rooms/{room}/bookings", get(bookings)).with_state(store)
}

async fn rooms(State(store): State<BookingStore>) -> Json<serde_json::Value> {
    let rooms: Vec<serde_json::Value> = store
        .rooms()
        .iter()
        .filter_map(|id| store.room(id))
        .map(|r| json!({ "room": r.room, "bookings": r.bookings.len(), "updated_at": r.updated_at, "last_error": r.last_error, "generation": r.generation }))
        .collect();
    Json(json!({ "rooms": rooms }))
}

async fn bookings(State(store): State<BookingStore>, Path(room): Path<String>) -> Response {
    match store.room(&room) {
        Some(r) => Json(json!({
            "room": r.room,
            "updated_at": r.updated_at,
            "last_error": r.last_error,
            "generation": r.generation,
            "ResultInfo": { "TotalRows": r.bookings.len() },
            "Booking": r.bookings,
        }))
        .into_response(),
        None => (StatusCode::NOT_FOUND, Json(json!({ "error": format!("unknown room `{room}`") }))).into_response(),
    }
}

/// Serves the routes on `listener` until `shutdown` completes.
pub async fn serve(
    listener: tokio::net::TcpListener,
    store: BookingStore,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    axum::serve(listener, router(store)).with_graceful_shutdown(shutdown).await
}
