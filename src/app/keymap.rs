//! The keymap: one table of defaults, with the person's `[keys]` laid over it, drives key handling,
//! the help overlay and the hints, so what the screen says is what the keys do.

use std::path::Path;

use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};

use crate::config::{ConfigError, KeySetting};

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
    Search,
    CalendarList,
    NextMatch,
    PrevMatch,
    ToggleCalendar,
    Dismiss,
    Snooze,
    SnoozeFor,
    KeepMine,
    KeepTheirs,
    KeepBoth,
}

/// Where a binding applies. A key may mean one thing in each; a search that is active, and the
/// calendar list, look in their own context first and then in the month's.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Context {
    Month,
    /// A search is active (its results can be stepped through).
    Matches,
    /// The calendar list is open.
    Calendars,
    /// A reminder banner is shown (its keys first, then the month's).
    Banner,
    /// The conflict pane is open.
    Conflicts,
}

impl Action {
    /// Every action, for reading `[keys]`.
    pub const ALL: &[Action] = &[
        Action::PrevDay,
        Action::NextDay,
        Action::PrevWeek,
        Action::NextWeek,
        Action::PrevMonth,
        Action::NextMonth,
        Action::Today,
        Action::GoTo,
        Action::Zone,
        Action::NextEvent,
        Action::PrevEvent,
        Action::Open,
        Action::SyncPane,
        Action::SyncCalendar,
        Action::SyncAll,
        Action::FullResync,
        Action::AddEvent,
        Action::EditEvent,
        Action::DeleteEvent,
        Action::ExternalEdit,
        Action::Conflicts,
        Action::Help,
        Action::Quit,
        Action::MonthView,
        Action::WeekView,
        Action::DayView,
        Action::AgendaView,
        Action::NextAcross,
        Action::PrevAcross,
        Action::Now,
        Action::Search,
        Action::CalendarList,
        Action::NextMatch,
        Action::PrevMatch,
        Action::ToggleCalendar,
        Action::Dismiss,
        Action::Snooze,
        Action::SnoozeFor,
        Action::KeepMine,
        Action::KeepTheirs,
        Action::KeepBoth,
    ];

    /// The name `[keys]` knows the action by.
    pub fn name(self) -> &'static str {
        match self {
            Action::PrevDay => "prev_day",
            Action::NextDay => "next_day",
            Action::PrevWeek => "prev_week",
            Action::NextWeek => "next_week",
            Action::PrevMonth => "prev_month",
            Action::NextMonth => "next_month",
            Action::Today => "today",
            Action::GoTo => "go_to",
            Action::Zone => "zone",
            Action::NextEvent => "next_event",
            Action::PrevEvent => "prev_event",
            Action::Open => "open",
            Action::SyncPane => "sync_pane",
            Action::SyncCalendar => "sync_calendar",
            Action::SyncAll => "sync_all",
            Action::FullResync => "full_resync",
            Action::AddEvent => "add_event",
            Action::EditEvent => "edit_event",
            Action::DeleteEvent => "delete_event",
            Action::ExternalEdit => "external_edit",
            Action::Conflicts => "conflicts",
            Action::Help => "help",
            Action::Quit => "quit",
            Action::MonthView => "month_view",
            Action::WeekView => "week_view",
            Action::DayView => "day_view",
            Action::AgendaView => "agenda_view",
            Action::NextAcross => "next_event_across_days",
            Action::PrevAcross => "prev_event_across_days",
            Action::Now => "now",
            Action::Search => "search",
            Action::CalendarList => "calendar_list",
            Action::NextMatch => "next_match",
            Action::PrevMatch => "prev_match",
            Action::ToggleCalendar => "toggle_calendar",
            Action::Dismiss => "dismiss_reminder",
            Action::Snooze => "snooze_reminder",
            Action::SnoozeFor => "snooze_reminder_for",
            Action::KeepMine => "keep_mine",
            Action::KeepTheirs => "keep_theirs",
            Action::KeepBoth => "keep_both",
        }
    }

    /// Where the action's keys apply.
    pub fn context(self) -> Context {
        match self {
            Action::NextMatch | Action::PrevMatch => Context::Matches,
            Action::ToggleCalendar => Context::Calendars,
            Action::Dismiss | Action::Snooze | Action::SnoozeFor => Context::Banner,
            Action::KeepMine | Action::KeepTheirs | Action::KeepBoth => Context::Conflicts,
            _ => Context::Month,
        }
    }
}

/// A row of the keymap.
pub struct Binding {
    pub keys: &'static [KeyCode],
    pub action: Action,
    pub help: &'static str,
}

/// The default bindings, in the order the help overlay lists them.
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
    Binding {
        keys: &[KeyCode::Char('/')],
        action: Action::Search,
        help: "search summaries, places, notes, attendees",
    },
    Binding {
        keys: &[KeyCode::Char('C')],
        action: Action::CalendarList,
        help: "calendars: show or hide each",
    },
    Binding {
        keys: &[KeyCode::Char('n')],
        action: Action::NextMatch,
        help: "next match (while a search is active)",
    },
    Binding {
        keys: &[KeyCode::Char('N')],
        action: Action::PrevMatch,
        help: "previous match (while a search is active)",
    },
    Binding {
        keys: &[KeyCode::Char(' ')],
        action: Action::ToggleCalendar,
        help: "show or hide a calendar (in the calendar list)",
    },
    Binding {
        keys: &[KeyCode::Char('x')],
        action: Action::Dismiss,
        help: "dismiss the reminder (while its banner shows)",
    },
    Binding {
        keys: &[KeyCode::Char('z')],
        action: Action::Snooze,
        help: "snooze the reminder 5 minutes (banner)",
    },
    Binding {
        keys: &[KeyCode::Char('Z')],
        action: Action::SnoozeFor,
        help: "snooze the reminder for minutes you type (banner)",
    },
    Binding {
        keys: &[KeyCode::Char('m')],
        action: Action::KeepMine,
        help: "keep my copy (in the conflict pane)",
    },
    Binding {
        keys: &[KeyCode::Char('t')],
        action: Action::KeepTheirs,
        help: "keep the server's copy (conflict pane)",
    },
    Binding {
        keys: &[KeyCode::Char('b')],
        action: Action::KeepBoth,
        help: "keep both, mine as a new event (conflict pane)",
    },
];

/// A key as bound: a key code, with or without Ctrl.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Key {
    pub code: KeyCode,
    pub ctrl: bool,
}

impl Key {
    /// Reads a key as `[keys]` writes it: one character, a name (Left Right Up Down PageUp
    /// PageDown Home End Enter Esc Tab BackTab Space), or `C-` and one of those for Ctrl.
    pub fn parse(text: &str) -> Option<Key> {
        let (ctrl, rest) = match text.strip_prefix("C-") {
            Some(rest) if !rest.is_empty() => (true, rest),
            _ => (false, text),
        };
        let mut chars = rest.chars();
        let code = match (chars.next(), chars.next()) {
            (Some(c), None) if !c.is_control() => KeyCode::Char(c),
            _ => match rest {
                "Left" => KeyCode::Left,
                "Right" => KeyCode::Right,
                "Up" => KeyCode::Up,
                "Down" => KeyCode::Down,
                "PageUp" => KeyCode::PageUp,
                "PageDown" => KeyCode::PageDown,
                "Home" => KeyCode::Home,
                "End" => KeyCode::End,
                "Enter" => KeyCode::Enter,
                "Esc" => KeyCode::Esc,
                "Tab" => KeyCode::Tab,
                "BackTab" => KeyCode::BackTab,
                "Space" => KeyCode::Char(' '),
                _ => return None,
            },
        };
        Some(Key { code, ctrl })
    }

    /// How the key is written on screen.
    pub fn label(&self) -> String {
        let key = key_label(&self.code);
        if self.ctrl { format!("C-{key}") } else { key }
    }

    fn matches(&self, event: &KeyEvent) -> bool {
        self.code == event.code && self.ctrl == event.modifiers.contains(KeyModifiers::CONTROL)
    }
}

/// One action with the keys that do it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Row {
    pub keys: Vec<Key>,
    pub action: Action,
    pub help: &'static str,
}

/// The bindings in force: the defaults with the person's `[keys]` over them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Keymap {
    rows: Vec<Row>,
}

impl Default for Keymap {
    fn default() -> Keymap {
        Keymap {
            rows: KEYMAP
                .iter()
                .map(|b| Row {
                    keys: b
                        .keys
                        .iter()
                        .map(|&code| Key { code, ctrl: false })
                        .collect(),
                    action: b.action,
                    help: b.help,
                })
                .collect(),
        }
    }
}

impl Keymap {
    /// The defaults with `settings` (from the config file at `path`) over them: each names an
    /// action and the keys that now do it (its default keys no longer do). An unknown action or
    /// key, or a key that would do two things in one context, is an error at its line.
    pub fn with_settings(settings: &[KeySetting], path: &Path) -> Result<Keymap, ConfigError> {
        let mut map = Keymap::default();
        let mut lines: Vec<(Action, usize)> = Vec::new();
        let invalid = |line: usize, message: String, fix: String| ConfigError::Invalid {
            path: path.to_path_buf(),
            line,
            column: 1,
            message,
            fix,
        };
        for setting in settings {
            let Some(&action) = Action::ALL.iter().find(|a| a.name() == setting.action) else {
                let names: Vec<&str> = Action::ALL.iter().map(|a| a.name()).collect();
                return Err(invalid(
                    setting.line,
                    format!("[keys]: no action called '{}'", setting.action),
                    format!("use one of: {}", names.join(", ")),
                ));
            };
            let mut keys = Vec::new();
            for text in &setting.keys {
                let key = Key::parse(text).ok_or_else(|| {
                    invalid(
                        setting.line,
                        format!("[keys] {}: '{text}' is not a key", setting.action),
                        "write one character, C-x for Ctrl, or Left Right Up Down PageUp PageDown Home End Enter Esc Tab BackTab Space".into(),
                    )
                })?;
                keys.push(key);
            }
            if let Some(row) = map.rows.iter_mut().find(|r| r.action == action) {
                row.keys = keys;
            }
            lines.push((action, setting.line));
        }
        let line_of = |a: Action| lines.iter().find(|(b, _)| *b == a).map(|(_, l)| *l);
        for (i, a) in map.rows.iter().enumerate() {
            for b in &map.rows[i + 1..] {
                if a.action.context() != b.action.context() {
                    continue;
                }
                let Some(key) = a.keys.iter().find(|k| b.keys.contains(k)) else {
                    continue;
                };
                let line = line_of(b.action).or(line_of(a.action)).unwrap_or(1);
                return Err(invalid(
                    line,
                    format!(
                        "[keys]: {} is bound to both {} and {}",
                        key.label(),
                        a.action.name(),
                        b.action.name()
                    ),
                    format!(
                        "give one of them other keys, e.g. {} = [\"…\"]",
                        if line_of(b.action).is_some() {
                            b.action.name()
                        } else {
                            a.action.name()
                        }
                    ),
                ));
            }
        }
        Ok(map)
    }

    /// The action `key` does in `context` alone, if any.
    pub fn action_in(&self, key: &KeyEvent, context: Context) -> Option<Action> {
        if key.modifiers.contains(KeyModifiers::ALT) {
            return None;
        }
        self.rows
            .iter()
            .filter(|r| r.action.context() == context)
            .find(|r| r.keys.iter().any(|k| k.matches(key)))
            .map(|r| r.action)
    }

    /// The action `key` does in `context` (then in the month's), if any.
    pub fn action_for(&self, key: &KeyEvent, context: Context) -> Option<Action> {
        self.action_in(key, context).or_else(|| {
            (context != Context::Month)
                .then(|| self.action_in(key, Context::Month))
                .flatten()
        })
    }

    /// The keys that do `action`, as the screen writes them (`n PgDn`), or "unbound".
    pub fn keys_of(&self, action: Action) -> String {
        let keys: Vec<String> = self
            .rows
            .iter()
            .find(|r| r.action == action)
            .map(|r| r.keys.iter().map(Key::label).collect())
            .unwrap_or_default();
        if keys.is_empty() {
            "unbound".into()
        } else {
            keys.join(" ")
        }
    }

    /// The first key that does `action`, for a short hint, or "unbound".
    pub fn key_of(&self, action: Action) -> String {
        self.rows
            .iter()
            .find(|r| r.action == action)
            .and_then(|r| r.keys.first())
            .map_or_else(|| "unbound".into(), Key::label)
    }

    /// The keys that switch views, for the title line: `m w D A`.
    pub fn view_keys(&self) -> String {
        [
            Action::MonthView,
            Action::WeekView,
            Action::DayView,
            Action::AgendaView,
        ]
        .iter()
        .map(|a| self.key_of(*a))
        .collect::<Vec<_>>()
        .join(" ")
    }

    /// The help overlay's rows: keys, then what they do.
    pub fn help_rows(&self) -> Vec<(String, &'static str)> {
        self.rows
            .iter()
            .map(|r| (self.keys_of(r.action), r.help))
            .collect()
    }
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
        KeyCode::Home => "Home".into(),
        KeyCode::End => "End".into(),
        KeyCode::Tab => "Tab".into(),
        KeyCode::BackTab => "S-Tab".into(),
        KeyCode::Enter => "Enter".into(),
        KeyCode::Esc => "Esc".into(),
        KeyCode::Char(' ') => "Space".into(),
        KeyCode::Char(c) => c.to_string(),
        other => format!("{other:?}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn press(code: KeyCode) -> KeyEvent {
        KeyEvent::new(code, KeyModifiers::NONE)
    }

    fn setting(action: &str, keys: &[&str], line: usize) -> KeySetting {
        KeySetting {
            action: action.into(),
            keys: keys.iter().map(|k| k.to_string()).collect(),
            line,
        }
    }

    #[test]
    fn no_key_does_two_things_in_one_context() {
        let map = Keymap::default();
        for (i, a) in map.rows.iter().enumerate() {
            for b in &map.rows[i + 1..] {
                if a.action.context() == b.action.context() {
                    assert!(
                        !a.keys.iter().any(|k| b.keys.contains(k)),
                        "{:?} and {:?} share a key",
                        a.action,
                        b.action
                    );
                }
            }
        }
    }

    #[test]
    fn every_action_has_a_default_row_and_a_distinct_name() {
        let map = Keymap::default();
        for a in Action::ALL {
            assert!(map.rows.iter().any(|r| r.action == *a), "{a:?}");
            assert_eq!(
                Action::ALL.iter().filter(|b| b.name() == a.name()).count(),
                1
            );
        }
    }

    #[test]
    fn help_lists_every_binding() {
        let map = Keymap::default();
        assert_eq!(map.help_rows().len(), KEYMAP.len());
        assert!(
            map.help_rows()
                .iter()
                .any(|(k, h)| k == "n PgDn" && h.starts_with("next month"))
        );
    }

    #[test]
    fn n_is_the_next_match_only_while_a_search_is_active() {
        let map = Keymap::default();
        let n = press(KeyCode::Char('n'));
        assert_eq!(map.action_for(&n, Context::Month), Some(Action::NextMonth));
        assert_eq!(
            map.action_for(&n, Context::Matches),
            Some(Action::NextMatch)
        );
        let l = press(KeyCode::Char('l'));
        assert_eq!(map.action_for(&l, Context::Matches), Some(Action::NextDay));
    }

    #[test]
    fn a_remapped_action_answers_to_its_new_keys_only_and_help_says_so() {
        let path = Path::new("/c/config.toml");
        let map = Keymap::with_settings(
            &[
                setting("next_day", &["L", "C-f"], 3),
                setting("search", &["Space", "s"], 4),
            ],
            path,
        );
        // `s` is the sync pane's by default: one key, two actions.
        let err = map.unwrap_err().to_string();
        assert!(err.contains("/c/config.toml:4:"), "{err}");
        assert!(err.contains("sync_pane") && err.contains("search"), "{err}");

        let map = Keymap::with_settings(&[setting("next_day", &["L", "C-f"], 3)], path).unwrap();
        let ctrl_f = KeyEvent::new(KeyCode::Char('f'), KeyModifiers::CONTROL);
        assert_eq!(
            map.action_for(&ctrl_f, Context::Month),
            Some(Action::NextDay)
        );
        assert_eq!(
            map.action_for(&press(KeyCode::Char('L')), Context::Month),
            Some(Action::NextDay)
        );
        assert_eq!(
            map.action_for(&press(KeyCode::Char('l')), Context::Month),
            None
        );
        assert_eq!(map.action_for(&press(KeyCode::Right), Context::Month), None);
        assert!(
            map.help_rows()
                .iter()
                .any(|(k, h)| k == "L C-f" && *h == "next day")
        );
    }

    #[test]
    fn unknown_actions_and_keys_name_their_line() {
        let path = Path::new("/c/config.toml");
        let err = Keymap::with_settings(&[setting("fly", &["f"], 7)], path)
            .unwrap_err()
            .to_string();
        assert!(
            err.contains(":7:") && err.contains("no action called 'fly'"),
            "{err}"
        );
        let err = Keymap::with_settings(&[setting("quit", &["Escape"], 9)], path)
            .unwrap_err()
            .to_string();
        assert!(
            err.contains(":9:") && err.contains("'Escape' is not a key"),
            "{err}"
        );
    }
}
