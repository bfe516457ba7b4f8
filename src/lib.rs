//! almanac: a terminal calendar browser over a local SQLite cache.
//!
//! Module map:
//! - [`domain`]: calendars, events, times and zones, recurrence, the iCalendar reader and the
//!   span-preserving writer, Google event JSON (read through the iCalendar reader, edited field by
//!   field). Imports nothing of ours.
//! - [`store`]: the SQLite cache (schema, migrations, the writer, read connections, pending local
//!   edits, conflicts, sync state).
//! - [`sync`]: keeping the cache in step with servers (push pending edits, then pull): the Remote
//!   seam and the pure plan of what each answer means, the one HTTP client with its one retry
//!   policy, and per kind CalDAV (requests as values), iCalendar subscriptions and Google.
//! - [`emulator`]: CalDAV, Google Calendar and Microsoft Graph servers and an iCalendar feed, with
//!   fault switches, for the tests and `almanac demo`.
//! - [`config`]: the TOML config layered over embedded defaults, with precise errors.
//! - [`app`]: the `Model`, messages, `update` (pure: returns `Command`s as data), keymap, run loop.
//! - [`ui`]: pure drawing of the `Model`, one widget per pane.
//! - [`edit`]: a person's edit (from the TUI's form, `$EDITOR` or the command line) turned into a
//!   change staged in the cache; both front ends go through it.
//! - [`cli`]: the command-line contract and the headless commands (`import`, `agenda`, `export`,
//!   `sync`, `status`; `cli::edit`: `add`, `edit`, `delete`, `conflicts`, `resolve`;
//!   `cli::calendars`: `calendars`).
//!
//! Rules: `domain` imports nothing of ours. `store` and `sync` never import `app`, `ui` or `cli`.
//! `ui` reads the `Model` and `domain` only (formatting helpers two front ends share live in
//! `domain` or `ui`, never in `cli`). `emulator` imports only `domain`. Nothing prints to stdout
//! while the TUI runs: logs go to a file.

pub mod app;
pub mod cli;
pub mod config;
pub mod domain;
pub mod edit;
pub mod emulator;
pub mod store;
pub mod sync;
pub mod ui;
