//! Tickets: concerts, their performances with numbered seats, seat holds that lapse at an exact
//! instant, bookings, and the rules of the virtual waiting room in front of a concert.

mod admission;
mod concert;
mod hold;
mod ids;
mod policy;
mod seat;

pub use admission::{Availability, RoomCounts, admissible, eta_seconds};
pub use concert::{Concert, ConcertTitle, InvalidTitle, Performance};
pub use hold::{Booking, BookingStatus, HoldStatus, SeatHold};
pub use ids::{BookingId, ConcertId, HoldId, PerformanceId};
pub use policy::{InvalidTicketPolicy, TicketPolicy};
pub use seat::{InvalidSeatCount, SeatCount, SeatNumber, SeatOutOfRange, SeatState};
