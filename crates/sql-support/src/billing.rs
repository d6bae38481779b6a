//! How a `billing_addresses` row becomes an address, for both SQL stores, and which address
//! succeeds a deleted default (the domain's rule over the rows a store read under its lock).

use chrono::{DateTime, Utc};
use reserva_domain::accounts::UserId;
use reserva_domain::commerce::billing::{
    AddressFields, BillingAddress, BillingAddressId, Country, DetailAddress, MainAddress,
    PostalCode, successor,
};
use uuid::Uuid;

/// The columns every billing-address read selects, in [`StoredBillingAddress`]'s order.
pub const BILLING_ADDRESS_COLUMNS: &str = "id, user_id, country, main_address, detail_address, \
                                           postal_code, is_default, created_at, updated_at";

/// A `billing_addresses` row as plain values.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredBillingAddress {
    /// `id`.
    pub id: Uuid,
    /// `user_id`.
    pub user_id: Uuid,
    /// `country`.
    pub country: String,
    /// `main_address`.
    pub main_address: String,
    /// `detail_address`.
    pub detail_address: String,
    /// `postal_code`.
    pub postal_code: String,
    /// `is_default`.
    pub is_default: bool,
    /// `created_at`.
    pub created_at: DateTime<Utc>,
    /// `updated_at`.
    pub updated_at: DateTime<Utc>,
}

impl StoredBillingAddress {
    /// The address (its fields were validated when written).
    #[must_use]
    pub fn into_address(self) -> BillingAddress {
        BillingAddress {
            id: BillingAddressId::from_uuid(self.id),
            user_id: UserId::from_uuid(self.user_id),
            fields: AddressFields {
                country: Country::from_stored(self.country),
                main_address: MainAddress::from_stored(self.main_address),
                detail_address: DetailAddress::from_stored(self.detail_address),
                postal_code: PostalCode::from_stored(self.postal_code),
            },
            is_default: self.is_default,
            created_at: self.created_at,
            updated_at: self.updated_at,
        }
    }
}

/// The address that becomes the default after the default was deleted: the newest of
/// `remaining` (each its `created_at` and `id`); `None` when none is left.
#[must_use]
pub fn default_successor(remaining: &[(DateTime<Utc>, Uuid)]) -> Option<Uuid> {
    successor(
        remaining
            .iter()
            .map(|(created_at, id)| (created_at, BillingAddressId::from_uuid(*id))),
    )
    .map(|id| id.as_uuid())
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    #[test]
    fn the_newest_remaining_row_succeeds() {
        let at = |hour| {
            Utc.with_ymd_and_hms(2026, 12, 1, hour, 0, 0)
                .single()
                .unwrap_or_default()
        };
        let (old, new) = (Uuid::now_v7(), Uuid::now_v7());
        assert_eq!(default_successor(&[(at(3), old), (at(1), new)]), Some(old));
        assert_eq!(default_successor(&[]), None);
    }
}
