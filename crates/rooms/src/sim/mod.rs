//! A RoomOS-like xAPI device for tests and demos: [`Device`] is the state and its answers (pure),
//! [`wire`] checks credentials and decodes the `Sim/…` control methods (pure), and [`Simulator`] serves
//! it on a WebSocket with feedback and injectable faults.

mod device;
mod server;
pub mod wire;

pub use device::{Control, Device, MAX_BODY, MAX_BOOKINGS, MAX_CALLS, MAX_CONNECTORS, MAX_PANELS};
pub use server::{Fault, FaultAction, SimConfig, SimError, Simulator, MAX_MESSAGE, MAX_SUBSCRIPTIONS};
