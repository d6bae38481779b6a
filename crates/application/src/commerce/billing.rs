//! Billing addresses: every signed-in user keeps their own, at most `BILLING_ADDRESS_LIMIT`
//! (another user's address is not found, an admin's included). The first address, or one marked
//! default, becomes the only default; an edit is partial and may move the default to the address
//! it edits, never away from it (`default_required`); deleting the default makes the newest
//! remaining address the default. The list is newest first. The rules of the fields and of the
//! default are the domain's ([`reserva_domain::commerce::billing`]); the store applies the ones
//! that depend on the other addresses inside its transaction.

use crate::accounts::Principal;
use crate::ports::commerce::billing::{
    BillingAddressChanges, BillingAddressQuery, BillingAddressRepository,
    CreateBillingAddressError, NewBillingAddress, UpdateBillingAddressError,
};
use crate::ports::system::Clock;
use crate::{DependencyError, ErrorClass, FieldViolation, Page, UseCaseError};
use reserva_domain::commerce::billing::{
    AddressFields, BILLING_ADDRESS_LIMIT, BillingAddress, BillingAddressCursor, BillingAddressId,
    Country, DetailAddress, InvalidAddressField, MainAddress, PostalCode,
};
use reserva_domain::paging::PageLimit;
use std::sync::Arc;
use thiserror::Error;

/// Everything the billing-address use cases talk to.
#[derive(Clone)]
pub struct BillingPorts {
    /// Addresses.
    pub addresses: Arc<dyn BillingAddressRepository>,
    /// Time.
    pub clock: Arc<dyn Clock>,
}

/// The billing-address use cases.
#[derive(Clone)]
pub struct BillingAddresses {
    ports: BillingPorts,
}

/// A new address, as sent.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BillingAddressCommand {
    /// Country.
    pub country: String,
    /// Main line.
    pub main_address: String,
    /// Detail (absent: empty).
    pub detail_address: Option<String>,
    /// Postal code.
    pub postal_code: String,
    /// Make it the default (absent: only if it is the first).
    pub is_default: Option<bool>,
}

/// A partial edit, as sent: `None` keeps the stored value.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct BillingAddressEdit {
    /// New country.
    pub country: Option<String>,
    /// New main line.
    pub main_address: Option<String>,
    /// New detail (`""` empties it).
    pub detail_address: Option<String>,
    /// New postal code.
    pub postal_code: Option<String>,
    /// `true` makes it the default; `false` on the default is refused.
    pub is_default: Option<bool>,
}

/// Why an address was not created.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum CreateBillingAddressUseCaseError {
    /// A field breaks its rule (every broken field listed).
    #[error("invalid billing address")]
    Invalid(Vec<FieldViolation>),
    /// The caller holds `BILLING_ADDRESS_LIMIT` addresses already.
    #[error("at most {BILLING_ADDRESS_LIMIT} billing addresses per user")]
    TooMany,
    /// A dependency failed.
    #[error(transparent)]
    Dependency(#[from] DependencyError),
}

impl UseCaseError for CreateBillingAddressUseCaseError {
    fn class(&self) -> ErrorClass {
        match self {
            Self::Invalid(_) => ErrorClass::InvalidInput,
            Self::TooMany => ErrorClass::Conflict,
            Self::Dependency(error) => error.class(),
        }
    }
    fn code(&self) -> &'static str {
        match self {
            Self::Invalid(_) => "validation_failed",
            Self::TooMany => "too_many_addresses",
            Self::Dependency(error) => error.code(),
        }
    }
    fn violations(&self) -> &[FieldViolation] {
        match self {
            Self::Invalid(violations) => violations,
            _ => &[],
        }
    }
}

/// Why an address was not edited.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum UpdateBillingAddressUseCaseError {
    /// A field breaks its rule (every broken field listed).
    #[error("invalid billing address")]
    Invalid(Vec<FieldViolation>),
    /// The caller has no such address.
    #[error("billing address not found")]
    NotFound,
    /// `is_default: false` on the default address: make another address the default instead.
    #[error("the default address stays the default until another one is made the default")]
    DefaultRequired,
    /// A dependency failed.
    #[error(transparent)]
    Dependency(#[from] DependencyError),
}

impl UseCaseError for UpdateBillingAddressUseCaseError {
    fn class(&self) -> ErrorClass {
        match self {
            Self::Invalid(_) => ErrorClass::InvalidInput,
            Self::NotFound => ErrorClass::NotFound,
            Self::DefaultRequired => ErrorClass::Conflict,
            Self::Dependency(error) => error.class(),
        }
    }
    fn code(&self) -> &'static str {
        match self {
            Self::Invalid(_) => "validation_failed",
            Self::NotFound => "not_found",
            Self::DefaultRequired => "default_required",
            Self::Dependency(error) => error.code(),
        }
    }
    fn violations(&self) -> &[FieldViolation] {
        match self {
            Self::Invalid(violations) => violations,
            _ => &[],
        }
    }
}

/// Why an address was not read or deleted.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum BillingAddressNotFoundError {
    /// The caller has no such address.
    #[error("billing address not found")]
    NotFound,
    /// A dependency failed.
    #[error(transparent)]
    Dependency(#[from] DependencyError),
}

impl UseCaseError for BillingAddressNotFoundError {
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

/// One page of the caller's addresses, newest first.
pub type BillingAddressPage = Page<BillingAddress, BillingAddressCursor>;

fn field<T>(
    parsed: Result<T, InvalidAddressField>,
    violations: &mut Vec<FieldViolation>,
) -> Option<T> {
    parsed
        .map_err(|rule| violations.push(FieldViolation::new(rule.field.name(), rule.code(), rule)))
        .ok()
}

/// Parses a field that was sent; `Some(None)` when it was not.
fn sent<T>(
    raw: Option<&str>,
    parse: fn(&str) -> Result<T, InvalidAddressField>,
    violations: &mut Vec<FieldViolation>,
) -> Option<Option<T>> {
    match raw {
        None => Some(None),
        Some(raw) => field(parse(raw), violations).map(Some),
    }
}

impl BillingAddresses {
    /// Builds the use cases.
    #[must_use]
    pub const fn new(ports: BillingPorts) -> Self {
        Self { ports }
    }

    /// Stores a new address of the caller's.
    ///
    /// # Errors
    /// `Invalid` listing every broken field, `TooMany`, `Dependency`.
    #[tracing::instrument(skip_all, fields(user_id = %principal.user_id))]
    pub async fn create(
        &self,
        principal: &Principal,
        command: BillingAddressCommand,
    ) -> Result<BillingAddress, CreateBillingAddressUseCaseError> {
        let mut violations = Vec::new();
        let country = field(Country::parse(&command.country), &mut violations);
        let main_address = field(MainAddress::parse(&command.main_address), &mut violations);
        let detail_address = field(
            DetailAddress::parse(command.detail_address.as_deref().unwrap_or_default()),
            &mut violations,
        );
        let postal_code = field(PostalCode::parse(&command.postal_code), &mut violations);
        let (Some(country), Some(main_address), Some(detail_address), Some(postal_code)) =
            (country, main_address, detail_address, postal_code)
        else {
            return Err(CreateBillingAddressUseCaseError::Invalid(violations));
        };
        let address = NewBillingAddress {
            id: BillingAddressId::from_uuid(uuid::Uuid::now_v7()),
            user_id: principal.user_id,
            fields: AddressFields {
                country,
                main_address,
                detail_address,
                postal_code,
            },
            is_default: command.is_default.unwrap_or(false),
            limit: BILLING_ADDRESS_LIMIT,
            now: self.ports.clock.now(),
        };
        self.ports
            .addresses
            .create_billing_address(address)
            .await
            .map_err(|error| match error {
                CreateBillingAddressError::TooMany => CreateBillingAddressUseCaseError::TooMany,
                CreateBillingAddressError::Dependency(error) => error.into(),
            })
    }

    /// A page of the caller's addresses, newest first.
    ///
    /// # Errors
    /// [`DependencyError`] when the store fails.
    #[tracing::instrument(skip_all, fields(user_id = %principal.user_id))]
    pub async fn list(
        &self,
        principal: &Principal,
        after: Option<BillingAddressCursor>,
        limit: PageLimit,
    ) -> Result<BillingAddressPage, DependencyError> {
        let query = BillingAddressQuery {
            user_id: principal.user_id,
            after,
            limit,
        };
        let rows = self.ports.addresses.billing_addresses(query).await?;
        Ok(BillingAddressPage::from_rows(
            rows,
            limit,
            BillingAddressCursor::after,
        ))
    }

    /// One of the caller's addresses.
    ///
    /// # Errors
    /// `NotFound` (also another user's), `Dependency`.
    #[tracing::instrument(skip_all, fields(user_id = %principal.user_id, billing_address_id = %id))]
    pub async fn get(
        &self,
        principal: &Principal,
        id: BillingAddressId,
    ) -> Result<BillingAddress, BillingAddressNotFoundError> {
        self.ports
            .addresses
            .billing_address(principal.user_id, id)
            .await?
            .ok_or(BillingAddressNotFoundError::NotFound)
    }

    /// Edits one of the caller's addresses: only the fields sent change.
    ///
    /// # Errors
    /// `Invalid` listing every broken field, `NotFound` (also another user's),
    /// `DefaultRequired`, `Dependency`.
    #[tracing::instrument(skip_all, fields(user_id = %principal.user_id, billing_address_id = %id))]
    pub async fn update(
        &self,
        principal: &Principal,
        id: BillingAddressId,
        edit: BillingAddressEdit,
    ) -> Result<BillingAddress, UpdateBillingAddressUseCaseError> {
        let mut violations = Vec::new();
        let country = sent(edit.country.as_deref(), Country::parse, &mut violations);
        let main_address = sent(
            edit.main_address.as_deref(),
            MainAddress::parse,
            &mut violations,
        );
        let detail_address = sent(
            edit.detail_address.as_deref(),
            DetailAddress::parse,
            &mut violations,
        );
        let postal_code = sent(
            edit.postal_code.as_deref(),
            PostalCode::parse,
            &mut violations,
        );
        let (Some(country), Some(main_address), Some(detail_address), Some(postal_code)) =
            (country, main_address, detail_address, postal_code)
        else {
            return Err(UpdateBillingAddressUseCaseError::Invalid(violations));
        };
        let changes = BillingAddressChanges {
            country,
            main_address,
            detail_address,
            postal_code,
            is_default: edit.is_default,
            now: self.ports.clock.now(),
        };
        self.ports
            .addresses
            .update_billing_address(principal.user_id, id, changes)
            .await
            .map_err(|error| match error {
                UpdateBillingAddressError::NotFound => UpdateBillingAddressUseCaseError::NotFound,
                UpdateBillingAddressError::DefaultRequired => {
                    UpdateBillingAddressUseCaseError::DefaultRequired
                }
                UpdateBillingAddressError::Dependency(error) => error.into(),
            })
    }

    /// Deletes one of the caller's addresses (the default's successor is the newest remaining).
    ///
    /// # Errors
    /// `NotFound` (also another user's), `Dependency`.
    #[tracing::instrument(skip_all, fields(user_id = %principal.user_id, billing_address_id = %id))]
    pub async fn delete(
        &self,
        principal: &Principal,
        id: BillingAddressId,
    ) -> Result<(), BillingAddressNotFoundError> {
        let now = self.ports.clock.now();
        if self
            .ports
            .addresses
            .delete_billing_address(principal.user_id, id, now)
            .await?
        {
            Ok(())
        } else {
            Err(BillingAddressNotFoundError::NotFound)
        }
    }
}

#[cfg(test)]
mod tests;
