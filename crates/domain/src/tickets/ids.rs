//! Typed identifiers of the tickets module.

typed_id!(
    /// Identifies a concert (and its waiting room).
    ConcertId
);
typed_id!(
    /// Identifies one performance (a date and time) of a concert.
    PerformanceId
);
typed_id!(
    /// Identifies a seat hold.
    HoldId
);
typed_id!(
    /// Identifies a booking (a paid hold).
    BookingId
);
