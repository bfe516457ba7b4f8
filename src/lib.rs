//! almanac: a terminal calendar browser over a local SQLite cache.
//!
//! Module map (dependency rules from `DESIGN.md`):
//! - [`domain`]: calendars, events, times and zones, iCalendar reading. Imports nothing of ours.
//! - [`store`]: the SQLite cache (schema, migrations, the writer, read connections). Never imports
//!   `app` or `ui`.
//! - [`sync`]: the engine that keeps the cache in step with servers (the only writer while the TUI
//!   runs), the one HTTP client, CalDAV requests as values. Never imports `app` or `ui`.
//! - [`emulator`]: a CalDAV server with fault switches, for the tests and `almanac demo`.
//! - [`config`]: the TOML config layered over embedded defaults, with precise errors.
//! - [`app`]: the `Model`, messages, `update` (pure: returns `Command`s as data), keymap, run loop.
//! - [`ui`]: `view(&Model)`, pure drawing, one widget per pane. Only reads the `Model`.
//! - [`edit`]: a person's edit (from the TUI's form, `$EDITOR` or the command line) turned into a
//!   change staged in the cache; both front ends go through it.
//! - [`cli`]: the command-line contract and the headless commands (`import`, `agenda`, `export`,
//!   `sync`, `status`, and in `cli::edit`: `add`, `edit`, `delete`, `conflicts`, `resolve`).

pub mod app;
pub mod cli;
pub mod config;
pub mod domain;
pub mod edit;
pub mod emulator;
pub mod store;
pub mod sync;
pub mod ui;
