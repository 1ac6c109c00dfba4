//! A RoomOS-like xAPI device for tests and demos: [`Device`] is the state and the answers (pure),
//! the server module puts it on a WebSocket.

mod device;

pub use device::{Control, Device, MAX_BODY, MAX_BOOKINGS, MAX_CALLS, MAX_PANELS};
