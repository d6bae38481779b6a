//! Opaque keyset cursors: the last item's id (or, for ledger entries, its sequence number),
//! base64url-encoded so clients do not build them.

use crate::errors::ApiError;
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use reserva_domain::paging::PageLimit;
use serde::Deserialize;
use utoipa::IntoParams;
use uuid::Uuid;

/// `?limit=&cursor=` of a list that has no filters.
#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub(crate) struct PageQuery {
    /// Page size, 1–100 (default 20).
    pub limit: Option<i64>,
    /// `next_cursor` of the previous page.
    pub cursor: Option<String>,
}

/// Encodes the id the next page starts after.
pub(crate) fn encode_cursor(id: Uuid) -> String {
    URL_SAFE_NO_PAD.encode(id.as_bytes())
}

/// Decodes a cursor from `?cursor=`.
pub(crate) fn decode_cursor(cursor: Option<&str>) -> Result<Option<Uuid>, ApiError> {
    cursor
        .map(|text| {
            URL_SAFE_NO_PAD
                .decode(text)
                .ok()
                .and_then(|bytes| Uuid::from_slice(&bytes).ok())
                .ok_or_else(|| {
                    ApiError::invalid_field(
                        "cursor",
                        "invalid_cursor",
                        "is not a cursor this API issued",
                    )
                })
        })
        .transpose()
}

/// Encodes the sequence number the next page of ledger entries starts before.
pub(crate) fn encode_sequence_cursor(sequence: i64) -> String {
    URL_SAFE_NO_PAD.encode(sequence.to_be_bytes())
}

/// Decodes a sequence cursor from `?cursor=`.
pub(crate) fn decode_sequence_cursor(cursor: Option<&str>) -> Result<Option<i64>, ApiError> {
    cursor
        .map(|text| {
            URL_SAFE_NO_PAD
                .decode(text)
                .ok()
                .and_then(|bytes| <[u8; 8]>::try_from(bytes).ok())
                .map(i64::from_be_bytes)
                .filter(|sequence| *sequence > 0)
                .ok_or_else(|| {
                    ApiError::invalid_field(
                        "cursor",
                        "invalid_cursor",
                        "is not a cursor this API issued",
                    )
                })
        })
        .transpose()
}

/// Validates `?limit=` (default 20, 1..=100).
pub(crate) fn page_limit(limit: Option<i64>) -> Result<PageLimit, ApiError> {
    limit.map_or(Ok(PageLimit::DEFAULT), |requested| {
        PageLimit::new(requested)
            .map_err(|rule| ApiError::invalid_field("limit", "invalid_limit", rule))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cursors_round_trip_and_garbage_is_a_400() {
        let id = Uuid::now_v7();
        let cursor = encode_cursor(id);
        assert_eq!(decode_cursor(Some(&cursor)).ok().flatten(), Some(id));
        assert_eq!(decode_cursor(None).ok().flatten(), None);
        let error = decode_cursor(Some("not a cursor"))
            .err()
            .map(|e| e.status().as_u16());
        assert_eq!(error, Some(400));
        assert_eq!(page_limit(None).map(PageLimit::get).ok(), Some(20));
        assert!(page_limit(Some(0)).is_err() && page_limit(Some(101)).is_err());
    }

    #[test]
    fn sequence_cursors_round_trip_and_foreign_ones_are_a_400() {
        let cursor = encode_sequence_cursor(4_711);
        assert_eq!(
            decode_sequence_cursor(Some(&cursor)).ok().flatten(),
            Some(4_711)
        );
        let id_cursor = encode_cursor(Uuid::now_v7());
        for foreign in [id_cursor.as_str(), "x", "", &encode_sequence_cursor(0)] {
            assert!(
                decode_sequence_cursor(Some(foreign)).is_err(),
                "{foreign:?}"
            );
        }
    }
}
