//! causeway-rooms: room-device automation over the RoomOS xAPI, and a RoomOS-like device simulator.
//!
//! The controller ([`controller`]) keeps one WebSocket (`wss://<device>/ws`, HTTP Basic auth, JSON-RPC 2.0)
//! per room device, reconnecting with exponential backoff, and runs the display policy of flow F6: the
//! presentation on the largest display, the remote speaker back on it when sharing stops, a touch-panel swap
//! button, any number of displays. It also pushes each room's bookings so the join button shows 5 minutes
//! before a meeting. The simulator ([`sim`]) answers the same JSON-RPC methods from a status/configuration
//! tree and emits feedback, faithfully enough for Cisco's own jsxapi client.
//!
//! The decisions are pure and never do I/O or read a clock: [`policy::DisplayPolicy`] (inputs → MonitorRole
//! changes), [`bookings::join_button`] (bookings + `now` → button), [`controller::Backoff`], the xAPI tree
//! operations in [`tree`] and the message framing in [`rpc`]. The tokio parts are the controller's
//! connection loop and the simulator's server. This crate never stores calendars (causeway-meetings does;
//! it plugs in through [`bookings::BookingSource`]) and never talks SIP.

pub mod bookings;
pub mod controller;
pub mod policy;
pub mod rpc;
pub mod sim;
pub mod tree;
