//! The keymap: one table that drives both key handling and the help overlay.

use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};

/// What a key does in the main view (month, week, day or agenda).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action {
    PrevDay,
    NextDay,
    PrevWeek,
    NextWeek,
    PrevMonth,
    NextMonth,
    Today,
    GoTo,
    Zone,
    NextEvent,
    PrevEvent,
    Open,
    SyncPane,
    SyncCalendar,
    SyncAll,
    FullResync,
    AddEvent,
    EditEvent,
    DeleteEvent,
    ExternalEdit,
    Conflicts,
    Help,
    Quit,
    MonthView,
    WeekView,
    DayView,
    AgendaView,
    NextAcross,
    PrevAcross,
    Now,
}

/// A row of the keymap.
pub struct Binding {
    pub keys: &'static [KeyCode],
    pub action: Action,
    pub help: &'static str,
}

/// Every month-view binding, in the order the help overlay lists them.
pub const KEYMAP: &[Binding] = &[
    Binding {
        keys: &[KeyCode::Left, KeyCode::Char('h')],
        action: Action::PrevDay,
        help: "previous day",
    },
    Binding {
        keys: &[KeyCode::Right, KeyCode::Char('l')],
        action: Action::NextDay,
        help: "next day",
    },
    Binding {
        keys: &[KeyCode::Up, KeyCode::Char('k')],
        action: Action::PrevWeek,
        help: "previous week · hour (week, day) · event",
    },
    Binding {
        keys: &[KeyCode::Down, KeyCode::Char('j')],
        action: Action::NextWeek,
        help: "next week · hour (week, day) · event",
    },
    Binding {
        keys: &[KeyCode::Char('p'), KeyCode::PageUp],
        action: Action::PrevMonth,
        help: "previous month · week (week, day) · page",
    },
    Binding {
        keys: &[KeyCode::Char('n'), KeyCode::PageDown],
        action: Action::NextMonth,
        help: "next month · week (week, day) · page",
    },
    Binding {
        keys: &[KeyCode::Char('t')],
        action: Action::Today,
        help: "today",
    },
    Binding {
        keys: &[KeyCode::Char('.')],
        action: Action::Now,
        help: "now: today, and this hour in week and day",
    },
    Binding {
        keys: &[KeyCode::Char(']')],
        action: Action::NextAcross,
        help: "next event, across days",
    },
    Binding {
        keys: &[KeyCode::Char('[')],
        action: Action::PrevAcross,
        help: "previous event, across days",
    },
    Binding {
        keys: &[KeyCode::Char('m')],
        action: Action::MonthView,
        help: "month view",
    },
    Binding {
        keys: &[KeyCode::Char('w')],
        action: Action::WeekView,
        help: "week view: days on a time grid",
    },
    Binding {
        keys: &[KeyCode::Char('D')],
        action: Action::DayView,
        help: "day view",
    },
    Binding {
        keys: &[KeyCode::Char('A')],
        action: Action::AgendaView,
        help: "agenda: a list by day",
    },
    Binding {
        keys: &[KeyCode::Char('g')],
        action: Action::GoTo,
        help: "go to a date (24/12, dec 24, tomorrow, +3d)",
    },
    Binding {
        keys: &[KeyCode::Char('z')],
        action: Action::Zone,
        help: "display zone (IANA name; Tab completes)",
    },
    Binding {
        keys: &[KeyCode::Tab],
        action: Action::NextEvent,
        help: "next event of the day",
    },
    Binding {
        keys: &[KeyCode::BackTab],
        action: Action::PrevEvent,
        help: "previous event of the day",
    },
    Binding {
        keys: &[KeyCode::Enter],
        action: Action::Open,
        help: "event details",
    },
    Binding {
        keys: &[KeyCode::Char('s')],
        action: Action::SyncPane,
        help: "sync pane: calendars, tokens, last runs",
    },
    Binding {
        keys: &[KeyCode::Char('r')],
        action: Action::SyncCalendar,
        help: "sync the selected event's calendar now",
    },
    Binding {
        keys: &[KeyCode::Char('R')],
        action: Action::SyncAll,
        help: "sync every account now",
    },
    Binding {
        keys: &[KeyCode::Char('F')],
        action: Action::FullResync,
        help: "full refetch of the selected event's calendar",
    },
    Binding {
        keys: &[KeyCode::Char('a')],
        action: Action::AddEvent,
        help: "add an event on the selected day",
    },
    Binding {
        keys: &[KeyCode::Char('e')],
        action: Action::EditEvent,
        help: "edit the selected event",
    },
    Binding {
        keys: &[KeyCode::Char('d')],
        action: Action::DeleteEvent,
        help: "delete the selected event (asks first)",
    },
    Binding {
        keys: &[KeyCode::Char('E')],
        action: Action::ExternalEdit,
        help: "edit the event's iCalendar text in $EDITOR",
    },
    Binding {
        keys: &[KeyCode::Char('c')],
        action: Action::Conflicts,
        help: "conflicts: edits the server changed meanwhile",
    },
    Binding {
        keys: &[KeyCode::Char('?')],
        action: Action::Help,
        help: "this help",
    },
    Binding {
        keys: &[KeyCode::Char('q')],
        action: Action::Quit,
        help: "quit",
    },
];

/// The action bound to `key` in the month view, if any.
pub fn action_for(key: &KeyEvent) -> Option<Action> {
    if key.modifiers.contains(KeyModifiers::CONTROL) || key.modifiers.contains(KeyModifiers::ALT) {
        return None;
    }
    KEYMAP
        .iter()
        .find(|b| b.keys.contains(&key.code))
        .map(|b| b.action)
}

/// How a key is written in the help overlay.
pub fn key_label(code: &KeyCode) -> String {
    match code {
        KeyCode::Left => "←".into(),
        KeyCode::Right => "→".into(),
        KeyCode::Up => "↑".into(),
        KeyCode::Down => "↓".into(),
        KeyCode::PageUp => "PgUp".into(),
        KeyCode::PageDown => "PgDn".into(),
        KeyCode::Tab => "Tab".into(),
        KeyCode::BackTab => "S-Tab".into(),
        KeyCode::Enter => "Enter".into(),
        KeyCode::Esc => "Esc".into(),
        KeyCode::Char(c) => c.to_string(),
        other => format!("{other:?}"),
    }
}

/// The keys that switch views, for the title line: `m w D A`.
pub fn view_keys() -> String {
    let views = [
        Action::MonthView,
        Action::WeekView,
        Action::DayView,
        Action::AgendaView,
    ];
    KEYMAP
        .iter()
        .filter(|b| views.contains(&b.action))
        .filter_map(|b| b.keys.first().map(key_label))
        .collect::<Vec<_>>()
        .join(" ")
}

/// The help overlay's rows: keys, then what they do.
pub fn help_rows() -> Vec<(String, &'static str)> {
    KEYMAP
        .iter()
        .map(|b| {
            let keys: Vec<String> = b.keys.iter().map(key_label).collect();
            (keys.join(" "), b.help)
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn no_key_is_bound_twice() {
        let mut seen = Vec::new();
        for b in KEYMAP {
            for k in b.keys {
                assert!(!seen.contains(k), "{k:?} bound twice");
                seen.push(*k);
            }
        }
    }

    #[test]
    fn help_lists_every_binding() {
        assert_eq!(help_rows().len(), KEYMAP.len());
        assert!(
            help_rows()
                .iter()
                .any(|(k, h)| k == "n PgDn" && h.starts_with("next month"))
        );
    }
}
