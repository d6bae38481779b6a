//! `SeatHoldRepository` on the store: each method one connection and the module's function for
//! it.

use super::rows::{BookingRow, all};
use super::{audit, cancellation, holds, payments};
use crate::schema::bookings;
use crate::{PostgresStore, query_error};
use async_trait::async_trait;
use chrono::{DateTime, Utc};
use diesel::prelude::*;
use diesel_async::RunQueryDsl;
use reserva_application::DependencyError;
use reserva_application::ports::tickets::{
    CancelPerformanceError, HoldError, NewHold, PayError, PayHold, PerformanceCancellation,
    ReleaseError, SeatAudit, SeatHoldRepository,
};
use reserva_domain::accounts::UserId;
use reserva_domain::paging::PageLimit;
use reserva_domain::tickets::{Booking, BookingId, HoldId, PerformanceId, SeatHold};

#[async_trait]
impl SeatHoldRepository for PostgresStore {
    async fn hold_seat(&self, new: NewHold) -> Result<SeatHold, HoldError> {
        let mut connection = self.connection().await?;
        holds::hold(&mut connection, &new).await
    }

    async fn find_hold(&self, id: HoldId) -> Result<Option<SeatHold>, DependencyError> {
        let mut connection = self.connection().await?;
        holds::find_hold(&mut connection, id).await
    }

    async fn release_hold(
        &self,
        id: HoldId,
        user: UserId,
        now: DateTime<Utc>,
    ) -> Result<SeatHold, ReleaseError> {
        let mut connection = self.connection().await?;
        holds::release(&mut connection, id, user, now).await
    }

    async fn pay_hold(&self, payment: PayHold) -> Result<Booking, PayError> {
        let mut connection = self.connection().await?;
        payments::pay(&mut connection, &payment).await
    }

    async fn list_bookings(
        &self,
        user: UserId,
        before: Option<BookingId>,
        limit: PageLimit,
    ) -> Result<Vec<Booking>, DependencyError> {
        let mut connection = self.connection().await?;
        let mut query = bookings::table
            .filter(bookings::user_id.eq(user.as_uuid()))
            .order(bookings::id.desc())
            .limit(i64::from(limit.get()) + 1)
            .select(BookingRow::as_select())
            .into_boxed();
        if let Some(before) = before {
            query = query.filter(bookings::id.lt(before.as_uuid()));
        }
        let rows = query.load(&mut connection).await.map_err(query_error)?;
        all(rows, BookingRow::into_booking)
    }

    async fn cancel_performance(
        &self,
        id: PerformanceId,
        now: DateTime<Utc>,
    ) -> Result<PerformanceCancellation, CancelPerformanceError> {
        let mut connection = self.connection().await?;
        cancellation::cancel(&mut connection, id, now).await
    }

    async fn sweep_expired_holds(
        &self,
        now: DateTime<Utc>,
        limit: u32,
    ) -> Result<u64, DependencyError> {
        let mut connection = self.connection().await?;
        holds::sweep(&mut connection, now, limit).await
    }

    async fn verify_seats(&self, now: DateTime<Utc>) -> Result<SeatAudit, DependencyError> {
        let mut connection = self.connection().await?;
        audit::verify(&mut connection, now).await
    }
}
