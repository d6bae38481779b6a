//! The keyset cursors of the lists ordered newest first by an instant and an id (the catalog's,
//! the payments', the curricula's), base64url like the others (`crate::pagination`). A cursor
//! starts with its list's (and sort's) tag, so one of another list or sort is a 400 instead of
//! a page in the wrong order.

use crate::errors::ApiError;
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use chrono::{DateTime, Utc};
use reserva_domain::catalog::{CatalogCursor, CatalogSort, ItemId};
use reserva_domain::wallet::PaymentId;
use uuid::Uuid;

const CREATED: u8 = 1;
const POPULAR: u8 = 2;
const PAYMENT: u8 = 3;
/// The tag of the curricula list's cursors.
pub(crate) const CURRICULUM: u8 = 4;
/// The tag of the orders list's cursors.
pub(crate) const ORDER: u8 = 5;

fn invalid() -> ApiError {
    ApiError::invalid_field(
        "cursor",
        "invalid_cursor",
        "is not a cursor this API issued",
    )
}

/// Reads a big-endian `i64` at `at`.
fn number(bytes: &[u8], at: usize) -> Option<i64> {
    let chunk = bytes.get(at..at + 8)?;
    <[u8; 8]>::try_from(chunk).ok().map(i64::from_be_bytes)
}

/// Years a cursor's or a date filter's instant may fall in: what every store can bind
/// (PostgreSQL's `timestamptz` ends in 294276, SQLite's microseconds in 294247); a crafted
/// cursor beyond them is refused as not ours instead of failing in the database.
pub(crate) const YEARS: std::ops::RangeInclusive<i32> = 1..=9999;

fn instant(bytes: &[u8], at: usize) -> Option<DateTime<Utc>> {
    DateTime::from_timestamp_micros(number(bytes, at)?)
        .filter(|instant| YEARS.contains(&chrono::Datelike::year(instant)))
}

fn id(bytes: &[u8], at: usize) -> Option<Uuid> {
    Uuid::from_slice(bytes.get(at..at + 16)?).ok()
}

/// Encodes where the next page of a catalog list starts.
pub(crate) fn encode_catalog(cursor: CatalogCursor) -> String {
    let mut bytes = Vec::with_capacity(33);
    match cursor {
        CatalogCursor::Created { created_at, id } => {
            return encode_instant_id(CREATED, created_at, id.as_uuid());
        }
        CatalogCursor::Popular {
            registration_count,
            created_at,
            id,
        } => {
            bytes.push(POPULAR);
            bytes.extend(registration_count.to_be_bytes());
            bytes.extend(created_at.timestamp_micros().to_be_bytes());
            bytes.extend(id.as_uuid().as_bytes());
        }
    }
    URL_SAFE_NO_PAD.encode(bytes)
}

/// Decodes `?cursor=` of a list in `sort` order.
///
/// # Errors
/// 400 (`cursor`, `invalid_cursor`) for anything this API did not issue for that order.
pub(crate) fn decode_catalog(
    cursor: Option<&str>,
    sort: CatalogSort,
) -> Result<Option<CatalogCursor>, ApiError> {
    let Some(text) = cursor else {
        return Ok(None);
    };
    let bytes = URL_SAFE_NO_PAD.decode(text).map_err(|_| invalid())?;
    let decoded = match (bytes.first(), sort) {
        (Some(&CREATED), CatalogSort::Created) if bytes.len() == 25 => instant(&bytes, 1)
            .zip(id(&bytes, 9))
            .map(|(created_at, id)| CatalogCursor::Created {
                created_at,
                id: ItemId::from_uuid(id),
            }),
        (Some(&POPULAR), CatalogSort::Popular) if bytes.len() == 33 => number(&bytes, 1)
            .filter(|count| *count >= 0)
            .zip(instant(&bytes, 9))
            .zip(id(&bytes, 17))
            .map(
                |((registration_count, created_at), id)| CatalogCursor::Popular {
                    registration_count,
                    created_at,
                    id: ItemId::from_uuid(id),
                },
            ),
        _ => None,
    };
    decoded.map(Some).ok_or_else(invalid)
}

/// Encodes an `(instant, id)` position of a list tagged `tag`.
pub(crate) fn encode_instant_id(tag: u8, at: DateTime<Utc>, id: Uuid) -> String {
    let mut bytes = Vec::with_capacity(25);
    bytes.push(tag);
    bytes.extend(at.timestamp_micros().to_be_bytes());
    bytes.extend(id.as_bytes());
    URL_SAFE_NO_PAD.encode(bytes)
}

/// Decodes `?cursor=` of the list tagged `tag`.
///
/// # Errors
/// 400 (`cursor`, `invalid_cursor`) for anything this API did not issue for that list.
pub(crate) fn decode_instant_id(
    cursor: Option<&str>,
    tag: u8,
) -> Result<Option<(DateTime<Utc>, Uuid)>, ApiError> {
    let Some(text) = cursor else {
        return Ok(None);
    };
    let bytes = URL_SAFE_NO_PAD.decode(text).map_err(|_| invalid())?;
    let decoded = match bytes.first() {
        Some(&first) if first == tag && bytes.len() == 25 => instant(&bytes, 1).zip(id(&bytes, 9)),
        _ => None,
    };
    decoded.map(Some).ok_or_else(invalid)
}

/// Encodes where the next page of payments starts.
pub(crate) fn encode_payment((paid_at, id): (DateTime<Utc>, PaymentId)) -> String {
    encode_instant_id(PAYMENT, paid_at, id.as_uuid())
}

/// Decodes `?cursor=` of the payments list.
///
/// # Errors
/// 400 (`cursor`, `invalid_cursor`) for anything this API did not issue for it.
pub(crate) fn decode_payment(
    cursor: Option<&str>,
) -> Result<Option<(DateTime<Utc>, PaymentId)>, ApiError> {
    Ok(
        decode_instant_id(cursor, PAYMENT)?
            .map(|(paid_at, id)| (paid_at, PaymentId::from_uuid(id))),
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::pagination::encode_cursor;

    fn at(micros: i64) -> DateTime<Utc> {
        DateTime::from_timestamp_micros(micros).expect("in range")
    }

    #[test]
    fn catalog_cursors_round_trip_in_their_own_sort_only() {
        let created = CatalogCursor::Created {
            created_at: at(1_764_000_000_123_456),
            id: ItemId::from_uuid(Uuid::now_v7()),
        };
        let popular = CatalogCursor::Popular {
            registration_count: 42,
            created_at: at(1_764_000_000_000_001),
            id: ItemId::from_uuid(Uuid::now_v7()),
        };
        for cursor in [created, popular] {
            let text = encode_catalog(cursor);
            let back = decode_catalog(Some(&text), cursor.sort()).ok().flatten();
            assert_eq!(back, Some(cursor));
            let other = match cursor.sort() {
                CatalogSort::Created => CatalogSort::Popular,
                CatalogSort::Popular => CatalogSort::Created,
            };
            let refused = decode_catalog(Some(&text), other)
                .err()
                .map(|error| error.problem().errors)
                .unwrap_or_default();
            assert_eq!(
                refused.first().map(|e| (e.field.as_str(), e.code.as_str())),
                Some(("cursor", "invalid_cursor"))
            );
        }
        assert_eq!(
            decode_catalog(None, CatalogSort::Popular).ok().flatten(),
            None
        );
    }

    #[test]
    fn foreign_and_garbage_cursors_are_400s() {
        let payment = encode_payment((at(5), PaymentId::from_uuid(Uuid::now_v7())));
        let id_cursor = encode_cursor(Uuid::now_v7());
        for foreign in [payment.as_str(), id_cursor.as_str(), "", "!!", "AQ"] {
            for sort in [CatalogSort::Created, CatalogSort::Popular] {
                assert!(decode_catalog(Some(foreign), sort).is_err(), "{foreign:?}");
            }
        }
        let popular = encode_catalog(CatalogCursor::Popular {
            registration_count: 1,
            created_at: at(5),
            id: ItemId::from_uuid(Uuid::now_v7()),
        });
        for foreign in [popular.as_str(), id_cursor.as_str(), "", "AQ"] {
            assert!(decode_payment(Some(foreign)).is_err(), "{foreign:?}");
        }
        // instants no store can bind (a crafted cursor) are not cursors of ours
        let far = |year: i32| {
            chrono::NaiveDate::from_ymd_opt(year, 1, 1)
                .and_then(|date| date.and_hms_opt(0, 0, 0))
                .map(|moment| moment.and_utc())
                .expect("a date")
        };
        for year in [-5_000, 0, 10_000, 250_000] {
            let crafted = encode_payment((far(year), PaymentId::from_uuid(Uuid::now_v7())));
            assert!(decode_payment(Some(&crafted)).is_err(), "{year}");
            let crafted = encode_catalog(CatalogCursor::Created {
                created_at: far(year),
                id: ItemId::from_uuid(Uuid::now_v7()),
            });
            assert!(
                decode_catalog(Some(&crafted), CatalogSort::Created).is_err(),
                "{year}"
            );
        }
        let edge = encode_payment((far(9_999), PaymentId::from_uuid(Uuid::now_v7())));
        assert!(decode_payment(Some(&edge)).is_ok());
        let id = PaymentId::from_uuid(Uuid::now_v7());
        let text = encode_payment((at(1_764_000_000_654_321), id));
        assert_eq!(
            decode_payment(Some(&text)).ok().flatten(),
            Some((at(1_764_000_000_654_321), id))
        );
    }
}
