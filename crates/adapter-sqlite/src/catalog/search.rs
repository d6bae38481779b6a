//! A search as an FTS5 query: each word of [`SearchText::words`] as an FTS5 string (`"word"`,
//! an inner `"` doubled), joined by `AND`. The user's text never reaches FTS5 as syntax: `OR`,
//! `NEAR`, `*`, `-`, `^`, `:` and parentheses are either separators (dropped by `words`) or plain
//! words inside quotes.

use reserva_domain::catalog::SearchText;

/// The `MATCH` operand for `search`; `None` when it has no words (then nothing matches).
pub(crate) fn match_query(search: &SearchText) -> Option<String> {
    let words = search.words();
    if words.is_empty() {
        return None;
    }
    let quoted: Vec<String> = words
        .iter()
        .map(|word| format!("\"{}\"", word.replace('"', "\"\"")))
        .collect();
    Some(quoted.join(" AND "))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn query(text: &str) -> Option<String> {
        SearchText::parse(text).ok().and_then(|s| match_query(&s))
    }

    #[test]
    fn words_are_quoted_and_anded() {
        assert_eq!(
            query("Rust OR async*"),
            Some("\"rust\" AND \"or\" AND \"async\"".into())
        );
        assert_eq!(
            query("NEAR(a b)"),
            Some("\"near\" AND \"a\" AND \"b\"".into())
        );
        assert_eq!(query("title:x"), Some("\"title\" AND \"x\"".into()));
        assert_eq!(query("'%&|!"), None);
    }
}
