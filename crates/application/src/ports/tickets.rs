//! Storage of concerts, performances, seat holds and bookings.
//!
//! Seats are guarded here, in the store: a seat can be held only if it is neither sold nor under
//! a live hold (expiry is a condition of the write itself, so an expired hold frees its seat the
//! instant it expires), and a user holds or owns at most one seat per concert and date. Paying
//! moves the money, creates the booking and ends the hold in one transaction.

use crate::DependencyError;
use async_trait::async_trait;
use chrono::{DateTime, NaiveDate, Utc};
use reserva_domain::accounts::UserId;
use reserva_domain::paging::PageLimit;
use reserva_domain::tickets::{
    Booking, BookingId, Concert, ConcertId, ConcertTitle, HoldId, Performance, PerformanceId,
    SeatCount, SeatHold, SeatNumber, SeatState,
};
use reserva_domain::wallet::{Money, TransferId};
use thiserror::Error;

/// A performance to store with its concert.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewPerformance {
    /// Pre-generated id.
    pub id: PerformanceId,
    /// When it starts.
    pub starts_at: DateTime<Utc>,
    /// Its date in the business time zone.
    pub local_date: NaiveDate,
    /// Its seats.
    pub seats: SeatCount,
}

/// A concert to store.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewConcert {
    /// Pre-generated id.
    pub id: ConcertId,
    /// Title.
    pub title: ConcertTitle,
    /// Price of one seat.
    pub price: Money,
    /// Its performances (at least one).
    pub performances: Vec<NewPerformance>,
    /// Creation instant.
    pub now: DateTime<Utc>,
}

/// A performance with the number of seats free at the instant asked about.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PerformanceAvailability {
    /// The performance.
    pub performance: Performance,
    /// Seats neither sold nor under a live hold.
    pub free_seats: u32,
}

/// The seats of one performance.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SeatMap {
    /// The performance.
    pub performance: Performance,
    /// Every seat, 1..=count, in order.
    pub seats: Vec<(SeatNumber, SeatState)>,
}

/// What a concert has left, for the waiting room.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ConcertInventory {
    /// Seats of performances on sale (not cancelled, not started) that are not sold.
    pub unsold_seats: u32,
    /// Live holds on those seats, with their expiry.
    pub holds: Vec<(HoldId, DateTime<Utc>)>,
}

/// Concerts and performances.
#[cfg_attr(any(test, feature = "mock"), mockall::automock)]
#[async_trait]
pub trait ConcertRepository: Send + Sync {
    /// Stores a concert, its performances and their seats, all or nothing.
    ///
    /// # Errors
    /// [`DependencyError`] when the store fails.
    async fn insert_concert(&self, new: NewConcert) -> Result<Concert, DependencyError>;

    /// The concert with its performances (cancelled ones included), earliest first.
    ///
    /// # Errors
    /// [`DependencyError`] when the store fails.
    async fn find_concert(&self, id: ConcertId) -> Result<Option<Concert>, DependencyError>;

    /// Concerts, newest first, with ids below `before` if given, at most `limit + 1`.
    ///
    /// # Errors
    /// [`DependencyError`] when the store fails.
    async fn list_concerts(
        &self,
        before: Option<ConcertId>,
        limit: PageLimit,
    ) -> Result<Vec<Concert>, DependencyError>;

    /// The performance with this id.
    ///
    /// # Errors
    /// [`DependencyError`] when the store fails.
    async fn find_performance(
        &self,
        id: PerformanceId,
    ) -> Result<Option<Performance>, DependencyError>;

    /// The concert's performances on sale at `now` (not cancelled, starting after `now`) that
    /// have at least one free seat, earliest first, with the free count.
    ///
    /// # Errors
    /// [`DependencyError`] when the store fails.
    async fn available_performances(
        &self,
        concert: ConcertId,
        now: DateTime<Utc>,
    ) -> Result<Vec<PerformanceAvailability>, DependencyError>;

    /// The state of every seat of a performance at `now`; `None` if it does not exist.
    ///
    /// # Errors
    /// [`DependencyError`] when the store fails.
    async fn seat_map(
        &self,
        performance: PerformanceId,
        now: DateTime<Utc>,
    ) -> Result<Option<SeatMap>, DependencyError>;

    /// Concerts with at least one performance on sale at `now` (the rooms the sweeper keeps in
    /// step with the store), in id order, with ids above `after` if given, at most `limit`.
    ///
    /// # Errors
    /// [`DependencyError`] when the store fails.
    async fn concerts_on_sale(
        &self,
        now: DateTime<Utc>,
        after: Option<ConcertId>,
        limit: u32,
    ) -> Result<Vec<ConcertId>, DependencyError>;

    /// What the concert has left at `now`, for the waiting room.
    ///
    /// # Errors
    /// [`DependencyError`] when the store fails.
    async fn inventory(
        &self,
        concert: ConcertId,
        now: DateTime<Utc>,
    ) -> Result<ConcertInventory, DependencyError>;
}

/// A hold to make.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewHold {
    /// Pre-generated id.
    pub id: HoldId,
    /// The performance.
    pub performance_id: PerformanceId,
    /// The seat.
    pub seat: SeatNumber,
    /// Who holds it.
    pub user_id: UserId,
    /// The instant of the request.
    pub now: DateTime<Utc>,
    /// When the hold will lapse.
    pub expires_at: DateTime<Utc>,
}

/// Why a seat could not be held.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum HoldError {
    /// No such performance.
    #[error("performance not found")]
    PerformanceNotFound,
    /// Cancelled, or already started.
    #[error("performance is not on sale")]
    NotOnSale,
    /// The performance has fewer seats.
    #[error("seat {seat} does not exist (the performance has {count})")]
    NoSuchSeat {
        /// The seat asked for.
        seat: u16,
        /// The performance's seat count.
        count: u16,
    },
    /// Sold, or under someone's live hold (the caller's own included).
    #[error("seat is not available")]
    SeatUnavailable,
    /// The user already holds or owns a seat of this concert on this date.
    #[error("already holding or owning a seat for this date")]
    AlreadyHoldingForDate,
    /// The store failed.
    #[error(transparent)]
    Dependency(#[from] DependencyError),
}

/// A payment to make for a hold.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PayHold {
    /// The hold.
    pub hold_id: HoldId,
    /// Who pays (must own the hold).
    pub user_id: UserId,
    /// The booking's pre-generated id.
    pub booking_id: BookingId,
    /// The payment's transfer id, derived from the hold: a hold is paid at most once.
    pub transfer_id: TransferId,
    /// The instant of the request: the hold must be live then.
    pub now: DateTime<Utc>,
}

/// Why a hold could not be paid.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum PayError {
    /// No such hold, or not the caller's.
    #[error("hold not found")]
    NotFound,
    /// Expired, or released.
    #[error("hold expired")]
    Expired,
    /// Already paid: this is the booking.
    #[error("hold already paid")]
    AlreadyPaid(Box<Booking>),
    /// The performance was cancelled.
    #[error("performance is not on sale")]
    NotOnSale,
    /// The wallet holds less than the price.
    #[error("insufficient balance")]
    InsufficientBalance,
    /// The store failed.
    #[error(transparent)]
    Dependency(#[from] DependencyError),
}

/// Why a hold could not be released.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum ReleaseError {
    /// No such hold, or not the caller's.
    #[error("hold not found")]
    NotFound,
    /// Paid: the seat is sold and stays so.
    #[error("hold already paid")]
    AlreadyPaid,
    /// The store failed.
    #[error(transparent)]
    Dependency(#[from] DependencyError),
}

/// What cancelling a performance did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PerformanceCancellation {
    /// The performance, now cancelled.
    pub performance: Performance,
    /// Bookings refunded (each one transfer back to its owner's wallet).
    pub refunded: u32,
    /// Live holds released.
    pub released: Vec<HoldId>,
}

/// Why a performance could not be cancelled.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum CancelPerformanceError {
    /// No such performance.
    #[error("performance not found")]
    NotFound,
    /// Already cancelled.
    #[error("performance already cancelled")]
    AlreadyCancelled,
    /// The store failed.
    #[error(transparent)]
    Dependency(#[from] DependencyError),
}

/// Seat-level problems found by [`SeatHoldRepository::verify_seats`].
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct SeatAudit {
    /// Seats checked.
    pub seats_checked: u64,
    /// Each violation, described (a seat sold twice, a live hold on a sold seat, a booking
    /// without its payment).
    pub violations: Vec<String>,
}

/// Seat holds and bookings.
#[cfg_attr(any(test, feature = "mock"), mockall::automock)]
#[async_trait]
pub trait SeatHoldRepository: Send + Sync {
    /// Holds a seat until `expires_at`, if the performance is on sale at `now`, the seat is
    /// neither sold nor under a live hold at `now`, and the user holds or owns no other seat of
    /// the concert on the performance's date. Of concurrent holds of one seat exactly one wins.
    ///
    /// # Errors
    /// `PerformanceNotFound`, `NotOnSale`, `NoSuchSeat`, `SeatUnavailable`,
    /// `AlreadyHoldingForDate` (nothing stored then), `Dependency`.
    async fn hold_seat(&self, new: NewHold) -> Result<SeatHold, HoldError>;

    /// The hold with this id.
    ///
    /// # Errors
    /// [`DependencyError`] when the store fails.
    async fn find_hold(&self, id: HoldId) -> Result<Option<SeatHold>, DependencyError>;

    /// Ends the user's hold, freeing its seat. A hold already expired or released is left as it
    /// is and returned (releasing is idempotent).
    ///
    /// # Errors
    /// `NotFound` for an unknown or someone else's hold, `AlreadyPaid`, `Dependency`.
    async fn release_hold(
        &self,
        id: HoldId,
        user: UserId,
        now: DateTime<Utc>,
    ) -> Result<SeatHold, ReleaseError>;

    /// Pays for a live hold from the owner's wallet: debits the price (payment transfer to the
    /// concert's revenue account), creates the booking, marks the seat sold and the hold paid,
    /// all in one transaction. Of concurrent payments of one hold exactly one pays; a hold
    /// expiring while its payment runs ends either paid or expired, never both.
    ///
    /// # Errors
    /// `NotFound` (unknown or someone else's hold), `Expired`, `AlreadyPaid` with the booking,
    /// `NotOnSale`, `InsufficientBalance` (nothing changes then), `Dependency`.
    async fn pay_hold(&self, payment: PayHold) -> Result<Booking, PayError>;

    /// The user's bookings, newest first, with ids below `before` if given, at most `limit + 1`.
    ///
    /// # Errors
    /// [`DependencyError`] when the store fails.
    async fn list_bookings(
        &self,
        user: UserId,
        before: Option<BookingId>,
        limit: PageLimit,
    ) -> Result<Vec<Booking>, DependencyError>;

    /// Cancels a performance: every confirmed booking is refunded to its owner's wallet (one
    /// refund transfer each, id derived from the booking) and becomes refunded, every live hold
    /// is released, and the performance is marked cancelled — all in one transaction.
    ///
    /// # Errors
    /// `NotFound`, `AlreadyCancelled`, `Dependency`.
    async fn cancel_performance(
        &self,
        id: PerformanceId,
        now: DateTime<Utc>,
    ) -> Result<PerformanceCancellation, CancelPerformanceError>;

    /// Tidies holds that expired before `now` (marks them expired): at most `limit` of them.
    /// Seats are free without it; this only keeps the tables small. Returns how many it tidied.
    ///
    /// # Errors
    /// [`DependencyError`] when the store fails.
    async fn sweep_expired_holds(
        &self,
        now: DateTime<Utc>,
        limit: u32,
    ) -> Result<u64, DependencyError>;

    /// Checks every seat: sold at most once, no live hold on a sold seat, every booking with its
    /// payment transfer.
    ///
    /// # Errors
    /// [`DependencyError`] when the store fails.
    async fn verify_seats(&self, now: DateTime<Utc>) -> Result<SeatAudit, DependencyError>;
}
