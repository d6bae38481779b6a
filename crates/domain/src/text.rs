//! Which characters a text a client sends may hold. Two rules, shared by every edge and value that
//! reads text, so that "control character" and "invisible character" mean one thing everywhere:
//!
//! - no text holds a control character (Unicode general category Cc: U+0000–U+001F,
//!   U+007F–U+009F). PostgreSQL cannot store U+0000 at all, and none of them belongs in a name, a
//!   password, a date or a search;
//! - an identifier a person reads and compares (an e-mail address) holds nothing invisible
//!   either: no format character (Cf: bidirectional overrides such as U+202E, zero-width
//!   characters, the byte-order mark), no line or paragraph separator (U+2028, U+2029), and no
//!   character that renders as nothing (fillers, variation selectors, private-use and
//!   noncharacters). Otherwise `ann@example.com` and `ann@example.com` followed by U+200B are two
//!   accounts that look like one in an administrator's list.
//!
//! The HTTP edge applies them to every text field and query parameter. [`crate::accounts::Email`]
//! does not re-apply them when it parses: stored addresses were written under the older rule and
//! must stay readable. The Cf ranges are listed by hand (Unicode 15.1) rather than taken from a
//! crate: they are few, they change rarely, and the list is the documentation.

use thiserror::Error;

/// Why a text was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Error)]
pub enum TextRefusal {
    /// A character of Unicode category Cc.
    #[error("must not contain control characters (U+0000 to U+001F, U+007F to U+009F)")]
    Control,
    /// A format, separator or otherwise invisible character.
    #[error("must not contain invisible or format characters (such as U+200B, U+202E, U+FEFF)")]
    Invisible,
}

impl TextRefusal {
    /// The stable field code API clients branch on.
    #[must_use]
    pub const fn code(self) -> &'static str {
        match self {
            Self::Control => "control_character",
            Self::Invisible => "invisible_character",
        }
    }
}

/// Unicode general category Cf (format), every assigned range as of Unicode 15.1.
const FORMAT: &[(u32, u32)] = &[
    (0x00AD, 0x00AD),   // soft hyphen
    (0x0600, 0x0605),   // Arabic number signs
    (0x061C, 0x061C),   // Arabic letter mark
    (0x06DD, 0x06DD),   // Arabic end of ayah
    (0x070F, 0x070F),   // Syriac abbreviation mark
    (0x0890, 0x0891),   // Arabic pound and piastre marks above
    (0x08E2, 0x08E2),   // Arabic disputed end of ayah
    (0x180E, 0x180E),   // Mongolian vowel separator
    (0x200B, 0x200F),   // zero-width space, (non-)joiner, left-to-right and right-to-left marks
    (0x202A, 0x202E),   // bidirectional embeddings and overrides
    (0x2060, 0x2064),   // word joiner, invisible operators
    (0x2066, 0x206F),   // bidirectional isolates, deprecated format characters
    (0xFEFF, 0xFEFF),   // byte-order mark, zero-width no-break space
    (0xFFF9, 0xFFFB),   // interlinear annotation
    (0x110BD, 0x110BD), // Kaithi number sign
    (0x110CD, 0x110CD), // Kaithi number sign above
    (0x13430, 0x1343F), // Egyptian hieroglyph format controls
    (0x1BCA0, 0x1BCA3), // shorthand format controls
    (0x1D173, 0x1D17A), // musical symbol format controls
    (0xE0001, 0xE0001), // language tag
    (0xE0020, 0xE007F), // tag characters
];

/// Characters outside Cf that render as nothing or are not characters at all.
const OTHER_INVISIBLE: &[(u32, u32)] = &[
    (0x034F, 0x034F),    // combining grapheme joiner
    (0x115F, 0x1160),    // Hangul choseong and jungseong fillers
    (0x17B4, 0x17B5),    // Khmer inherent vowels
    (0x180B, 0x180D),    // Mongolian free variation selectors
    (0x180F, 0x180F),    // Mongolian free variation selector four
    (0x2028, 0x2029),    // line and paragraph separators (Zl, Zp)
    (0x3164, 0x3164),    // Hangul filler
    (0xE000, 0xF8FF),    // private use
    (0xFDD0, 0xFDEF),    // noncharacters
    (0xFE00, 0xFE0F),    // variation selectors
    (0xFFA0, 0xFFA0),    // halfwidth Hangul filler
    (0xE0100, 0xE01EF),  // variation selectors supplement
    (0xF0000, 0x10FFFF), // supplementary private use areas
];

fn within(ranges: &[(u32, u32)], character: char) -> bool {
    let code = u32::from(character);
    ranges
        .iter()
        .any(|&(first, last)| (first..=last).contains(&code))
}

/// Whether `character` is invisible in the sense of the module docs (Cc not included).
#[must_use]
pub fn is_invisible(character: char) -> bool {
    let code = u32::from(character);
    // U+xFFFE and U+xFFFF of every plane are noncharacters.
    code & 0xFFFE == 0xFFFE || within(FORMAT, character) || within(OTHER_INVISIBLE, character)
}

/// Checks a text of any kind: no control characters.
///
/// # Errors
/// [`TextRefusal::Control`] when one is found.
pub fn check_plain(text: &str) -> Result<(), TextRefusal> {
    if text.chars().any(char::is_control) {
        return Err(TextRefusal::Control);
    }
    Ok(())
}

/// Checks prose (a description): no control characters but line breaks (`\n`, `\r`) and tabs.
///
/// # Errors
/// [`TextRefusal::Control`] when another one is found.
pub fn check_prose(text: &str) -> Result<(), TextRefusal> {
    if text
        .chars()
        .any(|character| character.is_control() && !matches!(character, '\n' | '\r' | '\t'))
    {
        return Err(TextRefusal::Control);
    }
    Ok(())
}

/// Checks a text people read and compare, such as an e-mail address: no control characters and
/// nothing invisible.
///
/// # Errors
/// [`TextRefusal::Control`] or [`TextRefusal::Invisible`], the control character first.
pub fn check_visible(text: &str) -> Result<(), TextRefusal> {
    check_plain(text)?;
    if text.chars().any(is_invisible) {
        return Err(TextRefusal::Invisible);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn control_characters_are_refused_in_every_text() {
        for refused in [
            "a\u{0}b",
            "\u{7}",
            "tab\there",
            "line\n",
            "\u{7f}",
            "\u{85}",
            "\u{9f}",
        ] {
            assert_eq!(
                check_plain(refused),
                Err(TextRefusal::Control),
                "{refused:?}"
            );
            assert_eq!(
                check_visible(refused),
                Err(TextRefusal::Control),
                "{refused:?}"
            );
        }
        for accepted in ["", "secret 123", "비밀번호", "a\u{200b}b", "ann\u{202e}moc"] {
            assert_eq!(check_plain(accepted), Ok(()), "{accepted:?}");
        }
    }

    #[test]
    fn invisible_characters_are_refused_where_people_compare() {
        for refused in [
            "ann@example.com\u{200b}",
            "\u{202e}moc.elpmaxe@nna",
            "\u{feff}ann@example.com",
            "ann\u{2028}@example.com",
            "ann\u{2029}@example.com",
            "ann\u{ad}@example.com",
            "ann\u{2066}@example.com",
            "ann\u{3164}@example.com",
            "ann\u{fe0f}@example.com",
            "ann\u{e0041}@example.com",
            "ann\u{e000}@example.com",
            "ann\u{ffff}@example.com",
            "ann\u{1fffe}@example.com",
        ] {
            assert_eq!(
                check_visible(refused),
                Err(TextRefusal::Invisible),
                "{refused:?}"
            );
        }
        for accepted in [
            "ann@example.com",
            "한글@example.kr",
            "zoë@exämple.com",
            "a-b_c.d@x.io",
        ] {
            assert_eq!(check_visible(accepted), Ok(()), "{accepted:?}");
        }
    }

    #[test]
    fn codes_are_stable() {
        assert_eq!(TextRefusal::Control.code(), "control_character");
        assert_eq!(TextRefusal::Invisible.code(), "invisible_character");
    }
}
