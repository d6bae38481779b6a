//! Reading concerts: every user lists them (newest first) and reads one.

use super::Tickets;
use crate::accounts::Principal;
use crate::{DependencyError, ErrorClass, UseCaseError};
use reserva_domain::paging::PageLimit;
use reserva_domain::tickets::{Concert, ConcertId};
use thiserror::Error;

/// One page of concerts, newest first.
pub type ConcertPage = crate::Page<Concert, ConcertId>;

crate::error::dependency_only_error!(
    /// Why listing concerts failed.
    ListConcertsError
);

/// Why reading a concert failed.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum GetConcertError {
    /// No such concert.
    #[error("concert not found")]
    NotFound,
    /// A dependency failed.
    #[error(transparent)]
    Dependency(#[from] DependencyError),
}

impl UseCaseError for GetConcertError {
    fn class(&self) -> ErrorClass {
        match self {
            Self::NotFound => ErrorClass::NotFound,
            Self::Dependency(error) => error.class(),
        }
    }
    fn code(&self) -> &'static str {
        match self {
            Self::NotFound => "not_found",
            Self::Dependency(error) => error.code(),
        }
    }
}
impl Tickets {
    /// Concerts, newest first.
    ///
    /// # Errors
    /// `Dependency`.
    pub async fn list_concerts(
        &self,
        _principal: &Principal,
        before: Option<ConcertId>,
        limit: PageLimit,
    ) -> Result<ConcertPage, ListConcertsError> {
        let rows = self.ports.concerts.list_concerts(before, limit).await?;
        Ok(ConcertPage::from_rows(rows, limit, |concert| concert.id))
    }

    /// One concert with its performances (cancelled ones included).
    ///
    /// # Errors
    /// `NotFound`, `Dependency`.
    pub async fn get_concert(
        &self,
        _principal: &Principal,
        id: ConcertId,
    ) -> Result<Concert, GetConcertError> {
        self.ports
            .concerts
            .find_concert(id)
            .await?
            .ok_or(GetConcertError::NotFound)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::tickets::test_support::{Fixture, concert, concert_id, principal};
    use reserva_domain::accounts::Role;

    #[tokio::test]
    async fn lists_pages_and_reads_one() {
        let rows: Vec<Concert> = (0..3).map(|_| concert(concert_id())).collect();
        let expected = rows[1].id;
        let mut fixture = Fixture::new();
        fixture
            .concerts
            .expect_list_concerts()
            .return_once(move |_, _| Ok(rows));
        let page = fixture
            .tickets()
            .list_concerts(
                &principal(Role::Member),
                None,
                PageLimit::new(2).unwrap_or_default(),
            )
            .await
            .expect("listed");
        assert_eq!((page.items.len(), page.next), (2, Some(expected)));

        let stored = concert(concert_id());
        let id = stored.id;
        let mut fixture = Fixture::new();
        fixture
            .concerts
            .expect_find_concert()
            .returning(move |wanted| Ok((wanted == id).then(|| stored.clone())));
        let tickets = fixture.tickets();
        let member = principal(Role::Member);
        assert_eq!(tickets.get_concert(&member, id).await.map(|c| c.id), Ok(id));
        let missing = tickets.get_concert(&member, concert_id()).await;
        assert_eq!(missing.map_err(|e| e.code()), Err("not_found"));
    }
}
