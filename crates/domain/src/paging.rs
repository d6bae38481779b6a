//! Page sizes for keyset-paginated lists, shared by every module.

use thiserror::Error;

/// How many items one page of a list holds: 1 to [`PageLimit::MAX`], [`PageLimit::DEFAULT`] when absent.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PageLimit(u16);

/// A requested page size outside 1..=100.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Error)]
#[error("limit must be between 1 and {max}", max = PageLimit::MAX)]
pub struct PageLimitOutOfRange;

impl PageLimit {
    /// The page size when the client asks for none.
    pub const DEFAULT: Self = Self(20);
    /// The largest page a client may ask for.
    pub const MAX: u16 = 100;
    /// A page of [`PageLimit::MAX`] items.
    pub const MAX_PAGE: Self = Self(Self::MAX);

    /// Validates a requested page size.
    ///
    /// # Errors
    /// [`PageLimitOutOfRange`] when `requested` is 0 or above [`PageLimit::MAX`].
    pub fn new(requested: i64) -> Result<Self, PageLimitOutOfRange> {
        u16::try_from(requested)
            .ok()
            .filter(|limit| (1..=Self::MAX).contains(limit))
            .map(Self)
            .ok_or(PageLimitOutOfRange)
    }

    /// The size as a number of rows.
    #[must_use]
    pub fn get(self) -> u16 {
        self.0
    }
}

impl Default for PageLimit {
    fn default() -> Self {
        Self::DEFAULT
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_one_to_one_hundred_only() {
        assert_eq!(PageLimit::new(0), Err(PageLimitOutOfRange));
        assert_eq!(PageLimit::new(-5), Err(PageLimitOutOfRange));
        assert_eq!(PageLimit::new(1).map(PageLimit::get), Ok(1));
        assert_eq!(PageLimit::new(100).map(PageLimit::get), Ok(100));
        assert_eq!(PageLimit::new(101), Err(PageLimitOutOfRange));
        assert_eq!(PageLimit::default().get(), 20);
    }
}
