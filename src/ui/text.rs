//! Fitting text into cells by display width, and writing times.

use chrono::{NaiveTime, Timelike};
use unicode_width::UnicodeWidthChar;

use crate::config::Clock;

/// `s` cut to at most `width` columns, ending in `…` when cut. Wide characters never straddle the edge.
/// The text is sanitized first, so what lands in a cell is never a control sequence or a flood of
/// combining marks, whatever the caller passed.
pub fn fit(s: &str, width: usize) -> String {
    let clean = crate::domain::text::sanitize(s);
    let s = clean.as_str();
    let total: usize = s.chars().map(|c| c.width().unwrap_or(0)).sum();
    if total <= width {
        return s.to_string();
    }
    if width == 0 {
        return String::new();
    }
    let mut out = String::new();
    let mut used = 0;
    for c in s.chars() {
        let w = c.width().unwrap_or(0);
        if used + w > width - 1 {
            break;
        }
        out.push(c);
        used += w;
    }
    out.push('…');
    out
}

/// The summary as lists show it: `✎` first when a local change waits to be pushed, `⚠` when the
/// occurrence stands for a series that could not be expanded (the detail says why).
pub fn summary_label(occ: &crate::domain::Occurrence) -> String {
    let mut label = String::new();
    if occ.pending {
        label.push('✎');
    }
    if occ.note.is_some() {
        label.push('⚠');
    }
    label.push_str(&occ.summary);
    label
}

/// A clock time: `09:00` or `9:00a`.
pub fn clock(t: NaiveTime, style: Clock) -> String {
    match style {
        Clock::H24 => format!("{:02}:{:02}", t.hour(), t.minute()),
        Clock::H12 => {
            let (pm, h) = t.hour12();
            format!("{h}:{:02}{}", t.minute(), if pm { "p" } else { "a" })
        }
    }
}

/// Bytes in a short human form.
pub fn human_bytes(n: u64) -> String {
    match n {
        n if n < 1024 => format!("{n} B"),
        n if n < 1024 * 1024 => format!("{:.1} KiB", n as f64 / 1024.0),
        n => format!("{:.1} MiB", n as f64 / (1024.0 * 1024.0)),
    }
}

/// A token or ctag shortened for a table: the end is what changes.
pub fn short_token(t: &str) -> String {
    let n = t.chars().count();
    if n <= 14 {
        t.to_string()
    } else {
        format!("…{}", t.chars().skip(n - 13).collect::<String>())
    }
}

/// A Graph window (`2026-09-01..2028-01-04`, as stored in the ctag column of a `delta`
/// calendar) in 13 cells: `Sep 26–Jan 28`. Anything else as [`short_token`].
pub fn short_window(w: &str) -> String {
    let month = |d: &str| {
        chrono::NaiveDate::parse_from_str(d, "%Y-%m-%d")
            .ok()
            .map(|d| d.format("%b %y").to_string())
    };
    match w.split_once("..").map(|(a, b)| (month(a), month(b))) {
        Some((Some(a), Some(b))) => format!("{a}–{b}"),
        _ => short_token(w),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use unicode_width::UnicodeWidthStr;

    #[test]
    fn fit_caps_combining_marks_per_cell() {
        let flood = format!("x{}", "\u{301}".repeat(5_000));
        assert_eq!(
            fit(&flood, 10).chars().count(),
            1 + crate::domain::text::MAX_MARKS_PER_CELL
        );
    }

    #[test]
    fn fit_cuts_by_width_and_marks_the_cut() {
        assert_eq!(fit("Standup", 10), "Standup");
        assert_eq!(fit("Standup meeting", 8), "Standup…");
        // Each CJK character is two columns wide; the result never exceeds the width.
        let cut = fit("会議会議会議", 7);
        assert!(cut.width() <= 7, "{cut}");
        assert_eq!(cut, "会議会…");
    }

    #[test]
    fn clocks_in_both_styles() {
        let t = NaiveTime::from_hms_opt(14, 5, 0).unwrap();
        assert_eq!(clock(t, Clock::H24), "14:05");
        assert_eq!(clock(t, Clock::H12), "2:05p");
    }
}
