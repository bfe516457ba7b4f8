//! Styles, in colour or (under `NO_COLOR`) with modifiers only.

use ratatui::style::{Color, Modifier, Style};

use crate::domain::Calendar;

/// The styles of one frame.
#[derive(Debug, Clone, Copy)]
pub struct Theme {
    pub color: bool,
}

impl Theme {
    fn pick(&self, colored: Style, plain: Style) -> Style {
        if self.color { colored } else { plain }
    }

    /// A calendar's colour for text (the summary of a timed event, the marker in lists).
    pub fn calendar(&self, cal: Option<&Calendar>) -> Style {
        let c = cal
            .and_then(|c| c.color.as_deref())
            .and_then(parse_hex)
            .unwrap_or(Color::Cyan);
        self.pick(Style::new().fg(c), Style::new())
    }

    /// A bar for an all-day or multi-day event: the calendar's colour as background.
    pub fn bar(&self, cal: Option<&Calendar>) -> Style {
        let c = cal
            .and_then(|c| c.color.as_deref())
            .and_then(parse_hex)
            .unwrap_or(Color::Cyan);
        self.pick(
            Style::new().bg(c).fg(Color::Black),
            Style::new().add_modifier(Modifier::REVERSED),
        )
    }

    pub fn today(&self) -> Style {
        self.pick(
            Style::new()
                .fg(Color::Black)
                .bg(Color::Yellow)
                .add_modifier(Modifier::BOLD),
            Style::new().add_modifier(Modifier::REVERSED | Modifier::BOLD),
        )
    }

    pub fn selected_cell(&self) -> Style {
        self.pick(Style::new().bg(Color::Indexed(237)), Style::new())
    }

    pub fn selected_number(&self) -> Style {
        self.pick(
            Style::new()
                .fg(Color::White)
                .add_modifier(Modifier::BOLD | Modifier::UNDERLINED),
            Style::new().add_modifier(Modifier::BOLD | Modifier::UNDERLINED),
        )
    }

    pub fn other_month(&self) -> Style {
        self.pick(
            Style::new().fg(Color::DarkGray),
            Style::new().add_modifier(Modifier::DIM),
        )
    }

    pub fn dim(&self) -> Style {
        self.pick(
            Style::new().fg(Color::Gray),
            Style::new().add_modifier(Modifier::DIM),
        )
    }

    pub fn border(&self) -> Style {
        self.pick(Style::new().fg(Color::DarkGray), Style::new())
    }

    pub fn title(&self) -> Style {
        Style::new().add_modifier(Modifier::BOLD)
    }

    pub fn cursor(&self) -> Style {
        Style::new().add_modifier(Modifier::REVERSED)
    }

    pub fn badge(&self) -> Style {
        self.pick(
            Style::new()
                .fg(Color::Black)
                .bg(Color::Magenta)
                .add_modifier(Modifier::BOLD),
            Style::new().add_modifier(Modifier::REVERSED),
        )
    }

    /// An event with a local change not yet on its server: marked with `✎` and, without colour,
    /// underlined.
    pub fn pending(&self, base: Style) -> Style {
        base.add_modifier(if self.color {
            Modifier::ITALIC
        } else {
            Modifier::UNDERLINED
        })
    }

    pub fn error(&self) -> Style {
        self.pick(
            Style::new().fg(Color::Red).add_modifier(Modifier::BOLD),
            Style::new().add_modifier(Modifier::BOLD),
        )
    }
}

/// `#RRGGBB` or `#RRGGBBAA` (Apple writes an alpha byte) to a colour.
pub fn parse_hex(s: &str) -> Option<Color> {
    let h = s.trim().strip_prefix('#')?;
    if !(h.len() == 6 || h.len() == 8) || !h.is_ascii() {
        return None;
    }
    let byte = |i: usize| u8::from_str_radix(&h[i..i + 2], 16).ok();
    Some(Color::Rgb(byte(0)?, byte(2)?, byte(4)?))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hex_colours_with_and_without_alpha() {
        assert_eq!(parse_hex("#4f9dde"), Some(Color::Rgb(0x4f, 0x9d, 0xde)));
        assert_eq!(parse_hex("#4F9DDEFF"), Some(Color::Rgb(0x4f, 0x9d, 0xde)));
        assert_eq!(parse_hex("blue"), None);
        assert_eq!(parse_hex("#ééé"), None);
    }
}
