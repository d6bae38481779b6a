//! What a catalog list asks for: a sort, a search text and the keyset cursor of a page.

use super::ItemId;
use crate::text::{TextRefusal, check_visible};
use chrono::{DateTime, Utc};
use thiserror::Error;

/// The order of a list.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum CatalogSort {
    /// Newest first (`created_at` descending, then id descending).
    #[default]
    Created,
    /// Most live registrations first, then newest, then id descending.
    Popular,
}

impl CatalogSort {
    /// `created` or `popular`.
    #[must_use]
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Created => "created",
            Self::Popular => "popular",
        }
    }

    /// Reads a name back.
    #[must_use]
    pub fn parse(name: &str) -> Option<Self> {
        [Self::Created, Self::Popular]
            .into_iter()
            .find(|sort| sort.as_str() == name)
    }
}

/// Where the previous page ended, in the list's own order. A cursor of one sort is never used
/// with the other.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CatalogCursor {
    /// After this row in [`CatalogSort::Created`] order.
    Created {
        /// The last row's creation instant.
        created_at: DateTime<Utc>,
        /// The last row's id.
        id: ItemId,
    },
    /// After this row in [`CatalogSort::Popular`] order.
    Popular {
        /// The last row's live registrations.
        registration_count: i64,
        /// Its creation instant.
        created_at: DateTime<Utc>,
        /// Its id.
        id: ItemId,
    },
}

impl CatalogCursor {
    /// The sort this cursor belongs to.
    #[must_use]
    pub const fn sort(self) -> CatalogSort {
        match self {
            Self::Created { .. } => CatalogSort::Created,
            Self::Popular { .. } => CatalogSort::Popular,
        }
    }
}

/// A full-text search: 1 to [`SearchText::MAX_CHARS`] characters after trimming, no control
/// characters, at most [`SearchText::MAX_WORDS`] words. Every word must match (AND); the store
/// treats the words as plain words (no operators), in PostgreSQL's `simple` configuration and in
/// SQLite FTS5 alike.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SearchText(String);

/// Why a search was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Error)]
pub enum InvalidSearch {
    /// Nothing but spaces.
    #[error("search must not be empty")]
    Empty,
    /// Too long or too many words.
    #[error("search must be at most {max} characters and {words} words", max = SearchText::MAX_CHARS, words = SearchText::MAX_WORDS)]
    TooLong,
    /// A control or an invisible character (as in names: `U+200B` or `U+202E` are refused, not
    /// searched for).
    #[error(transparent)]
    Text(#[from] TextRefusal),
}

impl InvalidSearch {
    /// Stable code for clients.
    #[must_use]
    pub const fn code(self) -> &'static str {
        match self {
            Self::Empty => "search_empty",
            Self::TooLong => "search_too_long",
            Self::Text(refusal) => refusal.code(),
        }
    }
}

impl SearchText {
    /// The longest search, in characters.
    pub const MAX_CHARS: usize = 200;
    /// The most words.
    pub const MAX_WORDS: usize = 10;

    /// Validates a search.
    ///
    /// # Errors
    /// [`InvalidSearch`].
    pub fn parse(raw: &str) -> Result<Self, InvalidSearch> {
        check_visible(raw)?;
        let trimmed = raw.trim();
        if trimmed.is_empty() {
            return Err(InvalidSearch::Empty);
        }
        if trimmed.chars().count() > Self::MAX_CHARS
            || trimmed.split_whitespace().count() > Self::MAX_WORDS
        {
            return Err(InvalidSearch::TooLong);
        }
        Ok(Self(trimmed.to_owned()))
    }

    /// The text as sent (trimmed).
    #[must_use]
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// Its words, lowercased, each made only of letters, digits and `_` (anything else splits
    /// words, as the full-text parsers do): what both stores search for. May be empty (a search
    /// of punctuation only), which matches nothing.
    #[must_use]
    pub fn words(&self) -> Vec<String> {
        self.0
            .split(|character: char| !(character.is_alphanumeric() || character == '_'))
            .filter(|word| !word.is_empty())
            .map(str::to_lowercase)
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sorts_round_trip() {
        for sort in [CatalogSort::Created, CatalogSort::Popular] {
            assert_eq!(CatalogSort::parse(sort.as_str()), Some(sort));
        }
        assert_eq!(CatalogSort::parse("price"), None);
        assert_eq!(CatalogSort::default(), CatalogSort::Created);
    }

    #[test]
    fn searches_are_bounded() {
        assert_eq!(SearchText::parse("  "), Err(InvalidSearch::Empty));
        assert_eq!(
            SearchText::parse("a\u{0}").map_err(InvalidSearch::code),
            Err("control_character")
        );
        for invisible in ["a\u{200b}b", "\u{200b}", "react\u{202e}"] {
            assert_eq!(
                SearchText::parse(invisible).map_err(InvalidSearch::code),
                Err("invisible_character"),
                "{invisible:?}"
            );
        }
        assert!(SearchText::parse(&"a".repeat(200)).is_ok());
        assert_eq!(
            SearchText::parse(&"a".repeat(201)),
            Err(InvalidSearch::TooLong)
        );
        assert_eq!(
            SearchText::parse("a b c d e f g h i j k"),
            Err(InvalidSearch::TooLong)
        );
    }

    #[test]
    fn words_are_plain_and_lowercased() {
        let search = SearchText::parse("Rust's  \"async\" OR -sql% 파이썬_기초").unwrap();
        assert_eq!(
            search.words(),
            vec!["rust", "s", "async", "or", "sql", "파이썬_기초"]
        );
        assert!(SearchText::parse("'%&|!").unwrap().words().is_empty());
    }
}
