//! The caller's own bookings, newest first, in keyset pages.

use super::Tickets;
use crate::accounts::Principal;
use reserva_domain::paging::PageLimit;
use reserva_domain::tickets::{Booking, BookingId};

/// One page of bookings, newest first.
pub type BookingPage = crate::Page<Booking, BookingId>;

crate::error::dependency_only_error!(
    /// Why listing bookings failed.
    ListBookingsError
);

impl Tickets {
    /// The caller's bookings (refunded ones included).
    ///
    /// # Errors
    /// `Dependency`.
    pub async fn list_bookings(
        &self,
        principal: &Principal,
        before: Option<BookingId>,
        limit: PageLimit,
    ) -> Result<BookingPage, ListBookingsError> {
        let rows = self
            .ports
            .holds
            .list_bookings(principal.user_id, before, limit)
            .await?;
        Ok(BookingPage::from_rows(rows, limit, |booking| booking.id))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::tickets::test_support::{Fixture, principal};
    use reserva_domain::accounts::Role;

    #[tokio::test]
    async fn only_the_callers_bookings_in_pages() {
        let caller = principal(Role::Admin);
        let mut fixture = Fixture::new();
        fixture
            .holds
            .expect_list_bookings()
            .withf(move |user, before, limit| {
                *user == caller.user_id && before.is_none() && limit.get() == 20
            })
            .returning(|_, _, _| Ok(vec![]));
        let page = fixture
            .tickets()
            .list_bookings(&caller, None, PageLimit::default())
            .await;
        assert_eq!(page.map(|p| (p.items.len(), p.next)), Ok((0, None)));
    }
}
