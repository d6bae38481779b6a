//! Exams: hourly slots of fixed capacity in the business time zone, reservations of whole hours,
//! and the rules for creating, editing, confirming and cancelling them.

mod capacity;
mod hours;
mod policy;
mod reservation;
mod slot;
mod status;

pub use capacity::{Headcount, InvalidHeadcount, fits};
pub use hours::{BusinessZone, HourRange, HourRangeError, hours_of_date};
pub use policy::{BookingPolicy, InvalidPolicy, WindowViolation};
pub use reservation::{Reservation, ReservationId};
pub use slot::{CapacityError, Slot, check_capacity_change, take_capacity};
pub use status::{Actor, ReservationAction, ReservationStatus, Transition, TransitionError};
