//! Text from calendars is untrusted: it must never be able to drive the terminal.

use unicode_width::UnicodeWidthChar;

/// At most this many zero-width characters (combining marks, variation selectors, joiners) follow
/// one character: real scripts stack two or three; a flood of thousands on one cell makes the
/// terminal redraw it slowly, or draw over its neighbours.
pub const MAX_MARKS_PER_CELL: usize = 4;

/// Removes control characters (C0, C1, DEL: so no escape sequences) and bidirectional overrides and
/// isolates, which could make text appear in a different order than it is stored, and caps the
/// zero-width characters on one cell at [`MAX_MARKS_PER_CELL`]. Tabs and line breaks become spaces.
pub fn sanitize(s: &str) -> String {
    let mut marks = 0;
    s.chars()
        .filter_map(|c| match c {
            '\t' | '\n' | '\r' => Some(' '),
            c if c.is_control() || is_bidi_control(c) => None,
            c => Some(c),
        })
        .filter(|c| {
            marks = if is_mark(*c) { marks + 1 } else { 0 };
            marks <= MAX_MARKS_PER_CELL
        })
        .collect()
}

/// [`sanitize`] for shared text, without allocating when there is nothing to remove (the common
/// case).
pub fn sanitize_in_place(s: &mut std::sync::Arc<str>) {
    let mut marks = 0;
    let flood = s.chars().any(|c| {
        marks = if is_mark(c) { marks + 1 } else { 0 };
        marks > MAX_MARKS_PER_CELL
    });
    if flood || s.chars().any(|c| c.is_control() || is_bidi_control(c)) {
        *s = sanitize(s).into();
    }
}

/// A character that takes no cell of its own but is drawn on the one before.
fn is_mark(c: char) -> bool {
    c.width() == Some(0)
}

/// Like [`sanitize`], but keeps line breaks: for multi-line fields such as a description.
pub fn sanitize_lines(s: &str) -> Vec<String> {
    s.lines().map(sanitize).collect()
}

fn is_bidi_control(c: char) -> bool {
    matches!(c, '\u{200E}' | '\u{200F}' | '\u{061C}' | '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escape_sequences_and_bidi_overrides_are_removed() {
        assert_eq!(
            sanitize("a\x1b[31mred\x1b]0;title\x07b"),
            "a[31mred]0;titleb"
        );
        assert_eq!(sanitize("pay\u{202E}gpj.exe"), "paygpj.exe");
        assert_eq!(sanitize("x\u{9b}y\u{7f}z"), "xyz");
        assert_eq!(sanitize("two\nlines\tand tab"), "two lines and tab");
    }

    #[test]
    fn wide_and_emoji_text_is_kept() {
        assert_eq!(sanitize("会議 🎉 Zürich"), "会議 🎉 Zürich");
    }

    #[test]
    fn a_flood_of_combining_marks_is_capped_per_cell() {
        let zalgo = format!("a{}b\u{301}", "\u{301}".repeat(10_000));
        let want = format!("a{}b\u{301}", "\u{301}".repeat(MAX_MARKS_PER_CELL));
        assert_eq!(sanitize(&zalgo), want);
        let mut shared: std::sync::Arc<str> = zalgo.as_str().into();
        sanitize_in_place(&mut shared);
        assert_eq!(&*shared, want);
        // Vietnamese stacks two marks; a family emoji joins four people with three joiners.
        assert_eq!(sanitize("ệ ộ"), "ệ ộ");
        assert_eq!(sanitize("👨‍👩‍👧‍👦"), "👨‍👩‍👧‍👦");
    }

    #[test]
    fn lines_are_split_then_cleaned() {
        assert_eq!(sanitize_lines("a\x1b\nb"), vec!["a", "b"]);
    }
}
