//! Storage of billing addresses. Every write is one transaction under the user's lock (the one
//! their cart and order writes take), so the count under `limit` and "exactly one default while
//! addresses exist" hold under any burst; the unique partial index
//! `billing_addresses_one_default` is the backstop of "at most one". Another user's address is
//! absent to every method.

use crate::DependencyError;
use async_trait::async_trait;
use chrono::{DateTime, Utc};
use reserva_domain::accounts::UserId;
use reserva_domain::commerce::billing::{
    AddressFields, BillingAddress, BillingAddressCursor, BillingAddressId, Country, DetailAddress,
    MainAddress, PostalCode,
};
use reserva_domain::paging::PageLimit;
use thiserror::Error;

/// An address to store.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewBillingAddress {
    /// Pre-generated id (UUID v7).
    pub id: BillingAddressId,
    /// Whose.
    pub user_id: UserId,
    /// Its fields.
    pub fields: AddressFields,
    /// Asked to be the default (the user's first address is the default whatever is asked).
    pub is_default: bool,
    /// The most addresses the user may hold after the write.
    pub limit: u32,
    /// Creation instant.
    pub now: DateTime<Utc>,
}

/// Why an address was not stored.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum CreateBillingAddressError {
    /// The user holds `limit` addresses already.
    #[error("too many billing addresses")]
    TooMany,
    /// The store failed.
    #[error(transparent)]
    Dependency(#[from] DependencyError),
}

/// A partial edit: `None` keeps the stored value. The store writes only what is sent, so two
/// edits of different fields never undo each other.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BillingAddressChanges {
    /// New country.
    pub country: Option<Country>,
    /// New main line.
    pub main_address: Option<MainAddress>,
    /// New detail.
    pub detail_address: Option<DetailAddress>,
    /// New postal code.
    pub postal_code: Option<PostalCode>,
    /// `Some(true)`: it becomes the default (the previous one stops being it); `Some(false)` on
    /// the default: refused.
    pub is_default: Option<bool>,
    /// Instant of the edit.
    pub now: DateTime<Utc>,
}

/// Why an edit was not stored.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum UpdateBillingAddressError {
    /// The user has no such address.
    #[error("billing address not found")]
    NotFound,
    /// `is_default = false` asked of the default address; nothing was written.
    #[error("the default address stays the default")]
    DefaultRequired,
    /// The store failed.
    #[error(transparent)]
    Dependency(#[from] DependencyError),
}

/// One page of a user's addresses.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BillingAddressQuery {
    /// Whose.
    pub user_id: UserId,
    /// After this row, newest first.
    pub after: Option<BillingAddressCursor>,
    /// Page size: the store returns at most `limit + 1` rows.
    pub limit: PageLimit,
}

/// Billing addresses.
#[cfg_attr(any(test, feature = "mock"), mockall::automock)]
#[async_trait]
pub trait BillingAddressRepository: Send + Sync {
    /// Stores a new address if the user holds fewer than `limit`; it becomes the default when
    /// asked or when it is the user's first, and then the previous default stops being it, in
    /// the same transaction.
    ///
    /// # Errors
    /// `TooMany` (nothing written), `Dependency`.
    async fn create_billing_address(
        &self,
        address: NewBillingAddress,
    ) -> Result<BillingAddress, CreateBillingAddressError>;

    /// A page of the user's addresses, newest first (creation instant, then id), at most
    /// `limit + 1` rows.
    ///
    /// # Errors
    /// [`DependencyError`] when the store fails.
    async fn billing_addresses(
        &self,
        query: BillingAddressQuery,
    ) -> Result<Vec<BillingAddress>, DependencyError>;

    /// One of the user's addresses.
    ///
    /// # Errors
    /// [`DependencyError`] when the store fails.
    async fn billing_address(
        &self,
        user: UserId,
        id: BillingAddressId,
    ) -> Result<Option<BillingAddress>, DependencyError>;

    /// Applies a partial edit to one of the user's addresses (see [`BillingAddressChanges`]).
    ///
    /// # Errors
    /// `NotFound`, `DefaultRequired` (nothing written), `Dependency`.
    async fn update_billing_address(
        &self,
        user: UserId,
        id: BillingAddressId,
        changes: BillingAddressChanges,
    ) -> Result<BillingAddress, UpdateBillingAddressError>;

    /// Deletes one of the user's addresses; when it was the default, the newest remaining one
    /// becomes the default (its `updated_at` set to `now`) in the same transaction. `false` when
    /// the user has no such address.
    ///
    /// # Errors
    /// [`DependencyError`] when the store fails.
    async fn delete_billing_address(
        &self,
        user: UserId,
        id: BillingAddressId,
        now: DateTime<Utc>,
    ) -> Result<bool, DependencyError>;

    /// The address a checkout copies: the named one when it is the user's, else `None`; with no
    /// name, the user's default (`None` when they have no address).
    ///
    /// # Errors
    /// [`DependencyError`] when the store fails.
    async fn checkout_billing_address(
        &self,
        user: UserId,
        named: Option<BillingAddressId>,
    ) -> Result<Option<BillingAddress>, DependencyError>;
}
