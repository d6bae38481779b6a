//! One page of a keyset-paginated list, the same for every module.

use reserva_domain::paging::PageLimit;

/// Up to a page of items, newest first, and the cursor of the next page.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Page<T, C> {
    /// The items.
    pub items: Vec<T>,
    /// Where the next page starts (the last item's key), if there is one.
    pub next: Option<C>,
}

impl<T, C> Page<T, C> {
    /// A page from the up to `limit + 1` rows a store returns: the extra row only says that a
    /// next page exists; `key` names the last item kept, where the next page continues.
    pub fn from_rows(mut rows: Vec<T>, limit: PageLimit, key: impl Fn(&T) -> C) -> Self {
        let limit = usize::from(limit.get());
        let next = if rows.len() > limit {
            rows.truncate(limit);
            rows.last().map(key)
        } else {
            None
        };
        Self { items: rows, next }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_extra_row_only_says_a_next_page_exists() {
        let limit = PageLimit::new(2).unwrap();
        let page = Page::from_rows(vec![9, 8, 7], limit, |n| *n);
        assert_eq!((page.items, page.next), (vec![9, 8], Some(8)));
        let page = Page::from_rows(vec![9, 8], limit, |n| *n);
        assert_eq!((page.items, page.next), (vec![9, 8], None));
    }
}
