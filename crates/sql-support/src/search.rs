//! Literal search text as a `LIKE` pattern: the caller's `%`, `_` and `\` match themselves.

/// `%search%` with `%`, `_` and `\` escaped by `\` (use with `ESCAPE '\'`, PostgreSQL's default
/// escape for `LIKE`/`ILIKE`). Case is left to the caller and the comparison: PostgreSQL's
/// `ILIKE` folds it; SQLite's `LIKE` folds ASCII letters only, so the SQLite store lowercases the
/// search first (e-mails are stored lowercased).
#[must_use]
pub fn like_pattern(search: &str) -> String {
    let mut pattern = String::with_capacity(search.len() + 2);
    pattern.push('%');
    for character in search.chars() {
        if matches!(character, '%' | '_' | '\\') {
            pattern.push('\\');
        }
        pattern.push(character);
    }
    pattern.push('%');
    pattern
}

#[cfg(test)]
mod tests {
    use super::like_pattern;

    #[test]
    fn wildcards_in_the_search_match_themselves() {
        assert_eq!(like_pattern("a_b%c\\d"), "%a\\_b\\%c\\\\d%");
        assert_eq!(like_pattern(""), "%%");
    }

    #[test]
    fn case_is_kept_for_the_comparison_to_fold() {
        assert_eq!(like_pattern("Ärger"), "%Ärger%");
    }
}
