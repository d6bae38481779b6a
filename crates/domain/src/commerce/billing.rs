//! Billing addresses: the four validated fields of an address, the address itself, the most a
//! user keeps, and the rule of the default.
//!
//! Every field is trimmed and refused when it holds a control or an invisible character (the
//! rule of names people read, [`crate::text::check_visible`]). The bounds:
//!
//! | field | characters after trimming | other |
//! |---|---|---|
//! | `country` | 1 to 50 | |
//! | `main_address` | 1 to 200 | |
//! | `detail_address` | 0 to 200 | may be empty: a house has no flat or floor to name |
//! | `postal_code` | 1 to 20 | ASCII letters and digits, spaces and hyphens, at least one letter or digit (`06236`, `SW1A 1AA`, `100-0001`) |
//!
//! The default: a user with addresses has exactly one default. The first address, or one created
//! or edited with `is_default = true`, becomes the default and the previous one stops being it;
//! `is_default = false` on the default itself is refused (`default_required`: make another one
//! the default instead), and deleting the default makes the newest remaining address the default.
//! The stores apply these rules under the user's lock; the unique partial index
//! `billing_addresses_one_default` keeps "at most one" under any race.

use crate::accounts::UserId;
use crate::text::{TextRefusal, check_visible};
use chrono::{DateTime, Utc};
use thiserror::Error;

typed_id!(
    /// Identifies a billing address.
    BillingAddressId
);

/// The most addresses one user keeps: an address book, not a store of its own.
pub const BILLING_ADDRESS_LIMIT: u32 = 20;

/// Which field of an address a refusal is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AddressField {
    /// `country`.
    Country,
    /// `main_address`.
    MainAddress,
    /// `detail_address`.
    DetailAddress,
    /// `postal_code`.
    PostalCode,
}

impl AddressField {
    /// The field's name in requests and answers.
    #[must_use]
    pub const fn name(self) -> &'static str {
        match self {
            Self::Country => "country",
            Self::MainAddress => "main_address",
            Self::DetailAddress => "detail_address",
            Self::PostalCode => "postal_code",
        }
    }

    /// The most characters the field holds.
    #[must_use]
    pub const fn max_chars(self) -> usize {
        match self {
            Self::Country => 50,
            Self::MainAddress | Self::DetailAddress => 200,
            Self::PostalCode => 20,
        }
    }

    /// Whether the field may be empty.
    #[must_use]
    pub const fn may_be_empty(self) -> bool {
        matches!(self, Self::DetailAddress)
    }
}

/// What is wrong with a field.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AddressRefusal {
    /// Nothing but spaces (every field but `detail_address`).
    Empty,
    /// Longer than the field's bound.
    TooLong,
    /// A postal code with a character other than ASCII letters, digits, spaces and hyphens.
    Malformed,
    /// A control or invisible character.
    Text(TextRefusal),
}

/// Why a field of an address was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct InvalidAddressField {
    /// The field.
    pub field: AddressField,
    /// What is wrong with it.
    pub refusal: AddressRefusal,
}

impl InvalidAddressField {
    /// Stable code for clients (`country_empty`, `postal_code_too_long`, `control_character`, …).
    #[must_use]
    pub const fn code(self) -> &'static str {
        use AddressField::{Country, DetailAddress, MainAddress, PostalCode};
        use AddressRefusal::{Empty, Malformed, Text, TooLong};
        match (self.field, self.refusal) {
            (_, Text(refusal)) => refusal.code(),
            (Country, Empty) => "country_empty",
            (Country, TooLong) => "country_too_long",
            (MainAddress, Empty) => "main_address_empty",
            (MainAddress, TooLong) => "main_address_too_long",
            (DetailAddress, TooLong) => "detail_address_too_long",
            (PostalCode, Empty) => "postal_code_empty",
            (PostalCode, TooLong) => "postal_code_too_long",
            (_, Malformed) => "postal_code_invalid",
            // `detail_address` may be empty: this pair is never built.
            (DetailAddress, Empty) => "detail_address_empty",
        }
    }
}

impl std::fmt::Display for InvalidAddressField {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let name = self.field.name();
        match self.refusal {
            AddressRefusal::Empty => write!(f, "{name} must not be empty"),
            AddressRefusal::TooLong => write!(
                f,
                "{name} must be at most {} characters",
                self.field.max_chars()
            ),
            AddressRefusal::Malformed => write!(
                f,
                "{name} may hold only ASCII letters, digits, spaces and hyphens, and at least one \
                 letter or digit"
            ),
            AddressRefusal::Text(refusal) => write!(f, "{refusal}"),
        }
    }
}

impl std::error::Error for InvalidAddressField {}

/// Validates one field: visible, trimmed, within its bounds.
fn parse_field(field: AddressField, raw: &str) -> Result<String, InvalidAddressField> {
    let refused = |refusal| InvalidAddressField { field, refusal };
    check_visible(raw).map_err(|text| refused(AddressRefusal::Text(text)))?;
    let trimmed = raw.trim();
    if trimmed.is_empty() && !field.may_be_empty() {
        return Err(refused(AddressRefusal::Empty));
    }
    if trimmed.chars().count() > field.max_chars() {
        return Err(refused(AddressRefusal::TooLong));
    }
    if field == AddressField::PostalCode
        && (!trimmed
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == ' ' || c == '-')
            || !trimmed.chars().any(|c| c.is_ascii_alphanumeric()))
    {
        return Err(refused(AddressRefusal::Malformed));
    }
    Ok(trimmed.to_owned())
}

macro_rules! address_text {
    ($(#[$meta:meta])* $name:ident, $field:expr) => {
        $(#[$meta])*
        #[derive(Debug, Clone, PartialEq, Eq)]
        pub struct $name(String);

        impl $name {
            /// Validates the field (see the module's table); surrounding whitespace is dropped.
            ///
            /// # Errors
            /// [`InvalidAddressField`].
            pub fn parse(raw: &str) -> Result<Self, InvalidAddressField> {
                parse_field($field, raw).map(Self)
            }

            /// A value read back from storage.
            #[must_use]
            pub const fn from_stored(text: String) -> Self {
                Self(text)
            }

            /// The text.
            #[must_use]
            pub fn as_str(&self) -> &str {
                &self.0
            }
        }
    };
}

address_text!(
    /// A country: 1 to 50 characters.
    Country,
    AddressField::Country
);
address_text!(
    /// The main line of an address (street, building): 1 to 200 characters.
    MainAddress,
    AddressField::MainAddress
);
address_text!(
    /// The detail of an address (flat, floor): 0 to 200 characters.
    DetailAddress,
    AddressField::DetailAddress
);
address_text!(
    /// A postal code: 1 to 20 ASCII letters, digits, spaces and hyphens.
    PostalCode,
    AddressField::PostalCode
);

/// The four fields of an address, each valid.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AddressFields {
    /// Country.
    pub country: Country,
    /// Main line.
    pub main_address: MainAddress,
    /// Detail (may be empty).
    pub detail_address: DetailAddress,
    /// Postal code.
    pub postal_code: PostalCode,
}

/// A user's billing address.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BillingAddress {
    /// Its id.
    pub id: BillingAddressId,
    /// Whose.
    pub user_id: UserId,
    /// Its fields.
    pub fields: AddressFields,
    /// Whether it is the user's default (the one a checkout copies when none is named).
    pub is_default: bool,
    /// When it was created.
    pub created_at: DateTime<Utc>,
    /// When it was last changed (also when it became the default by another's deletion).
    pub updated_at: DateTime<Utc>,
}

/// Where the previous page of addresses ended: newest first, ids breaking ties.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BillingAddressCursor {
    /// The last row's creation instant.
    pub created_at: DateTime<Utc>,
    /// The last row's id.
    pub id: BillingAddressId,
}

impl BillingAddressCursor {
    /// The cursor after `address`.
    #[must_use]
    pub const fn after(address: &BillingAddress) -> Self {
        Self {
            created_at: address.created_at,
            id: address.id,
        }
    }
}

/// Whether a new address becomes the default: when asked, or when it is the user's first.
#[must_use]
pub const fn new_address_is_default(requested: bool, addresses_held: u32) -> bool {
    requested || addresses_held == 0
}

/// `is_default = false` asked of the default address: refused, a user with addresses always
/// has a default (make another address the default instead).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Error)]
#[error("the default address stays the default until another one is made the default")]
pub struct DefaultRequired;

/// What an edit does to an address's default flag.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DefaultEdit {
    /// Nothing changes.
    Keep,
    /// It becomes the default; the previous default stops being it.
    MakeDefault,
}

/// What an edit asking `requested` (`None`: not sent) does to an address that `is_default` or not.
///
/// # Errors
/// [`DefaultRequired`] when `false` is asked of the default.
pub const fn default_edit(
    is_default: bool,
    requested: Option<bool>,
) -> Result<DefaultEdit, DefaultRequired> {
    match (is_default, requested) {
        (true, Some(false)) => Err(DefaultRequired),
        (false, Some(true)) => Ok(DefaultEdit::MakeDefault),
        _ => Ok(DefaultEdit::Keep),
    }
}

/// Which of the addresses left after the default was deleted becomes the default: the newest
/// (creation instant, then id). `None` when none is left.
pub fn successor<'a, I>(remaining: I) -> Option<BillingAddressId>
where
    I: IntoIterator<Item = (&'a DateTime<Utc>, BillingAddressId)>,
{
    remaining
        .into_iter()
        .max_by_key(|(created_at, id)| (**created_at, *id))
        .map(|(_, id)| id)
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    fn code<T>(parsed: Result<T, InvalidAddressField>) -> &'static str {
        parsed.err().map_or("accepted", InvalidAddressField::code)
    }

    #[test]
    fn fields_are_trimmed_and_bounded() {
        assert_eq!(
            Country::parse("  대한민국 ").map(|c| c.0),
            Ok("대한민국".into())
        );
        assert!(Country::parse(&"가".repeat(50)).is_ok());
        assert_eq!(code(Country::parse(&"가".repeat(51))), "country_too_long");
        assert_eq!(code(Country::parse("   ")), "country_empty");
        assert!(MainAddress::parse(&"a".repeat(200)).is_ok());
        assert_eq!(
            code(MainAddress::parse(&"a".repeat(201))),
            "main_address_too_long"
        );
        assert_eq!(code(MainAddress::parse("")), "main_address_empty");
        assert_eq!(DetailAddress::parse("  ").map(|d| d.0), Ok(String::new()));
        assert_eq!(
            code(DetailAddress::parse(&"a".repeat(201))),
            "detail_address_too_long"
        );
        assert!(PostalCode::parse(&"1".repeat(20)).is_ok());
        assert_eq!(
            code(PostalCode::parse(&"1".repeat(21))),
            "postal_code_too_long"
        );
        assert_eq!(code(PostalCode::parse(" ")), "postal_code_empty");
    }

    #[test]
    fn postal_codes_are_letters_digits_spaces_and_hyphens() {
        for accepted in ["06236", "SW1A 1AA", "100-0001", "k1a0b1"] {
            assert!(PostalCode::parse(accepted).is_ok(), "{accepted}");
        }
        for refused in ["06236;", "0623٦", "１２３", "12_34", "%"] {
            assert_eq!(code(PostalCode::parse(refused)), "postal_code_invalid");
        }
    }

    #[test]
    fn a_postal_code_holds_at_least_one_letter_or_digit() {
        for refused in ["-", "- -", "--", " - "] {
            assert_eq!(
                code(PostalCode::parse(refused)),
                "postal_code_invalid",
                "{refused:?}"
            );
        }
        for accepted in ["1-", "-a", "1 - 2"] {
            assert!(PostalCode::parse(accepted).is_ok(), "{accepted}");
        }
    }

    #[test]
    fn control_and_invisible_characters_are_refused_in_every_field() {
        type Parse = fn(&str) -> &'static str;
        let parsers: [Parse; 4] = [
            |raw| code(Country::parse(raw)),
            |raw| code(MainAddress::parse(raw)),
            |raw| code(DetailAddress::parse(raw)),
            |raw| code(PostalCode::parse(raw)),
        ];
        for parse in parsers {
            assert_eq!(parse("12\u{0}34"), "control_character");
            assert_eq!(parse("12\n34"), "control_character");
            assert_eq!(parse("12\u{200b}34"), "invisible_character");
            assert_eq!(parse("\u{202e}1234"), "invisible_character");
        }
    }

    #[test]
    fn messages_name_the_field_and_its_bound() {
        let refusal = Country::parse(&"a".repeat(51)).expect_err("too long");
        assert_eq!(refusal.to_string(), "country must be at most 50 characters");
        assert_eq!(refusal.field.name(), "country");
    }

    #[test]
    fn the_first_address_or_one_asked_becomes_the_default() {
        assert!(new_address_is_default(false, 0));
        assert!(new_address_is_default(true, 0));
        assert!(new_address_is_default(true, 5));
        assert!(!new_address_is_default(false, 1));
    }

    #[test]
    fn the_default_moves_only_to_another_address() {
        assert_eq!(default_edit(true, Some(false)), Err(DefaultRequired));
        assert_eq!(default_edit(true, Some(true)), Ok(DefaultEdit::Keep));
        assert_eq!(default_edit(true, None), Ok(DefaultEdit::Keep));
        assert_eq!(
            default_edit(false, Some(true)),
            Ok(DefaultEdit::MakeDefault)
        );
        assert_eq!(default_edit(false, Some(false)), Ok(DefaultEdit::Keep));
        assert_eq!(default_edit(false, None), Ok(DefaultEdit::Keep));
    }

    #[test]
    fn the_newest_remaining_address_succeeds_the_default() {
        let at = |hour| {
            Utc.with_ymd_and_hms(2026, 12, 1, hour, 0, 0)
                .single()
                .unwrap_or_default()
        };
        let id = || BillingAddressId::from_uuid(uuid::Uuid::now_v7());
        let (old, new) = (id(), id());
        let (a, b) = (id(), id());
        let (tie_low, tie_high) = (a.min(b), a.max(b));
        let (one, two) = (at(1), at(2));
        assert_eq!(successor([(&one, old), (&two, new)]), Some(new));
        // Same instant: the larger id, as the list's order (created_at DESC, id DESC) has it.
        assert_eq!(
            successor([(&two, tie_high), (&two, tie_low)]),
            Some(tie_high)
        );
        assert_eq!(
            successor(Vec::<(&DateTime<Utc>, BillingAddressId)>::new()),
            None
        );
    }
}
