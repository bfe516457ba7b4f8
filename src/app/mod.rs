//! The application: state, messages, the pure `update`, the keymap, and the run loop that performs
//! commands and draws once per batch of messages.

pub mod alarm_clock;
pub mod calendars;
pub mod conflicts;
pub mod editing;
mod editor;
pub mod form;
pub mod keymap;
pub mod layout;
pub mod model;
pub mod notify;
pub mod reminders;
pub mod run;
pub mod sample;
pub mod search;
mod sync;
pub mod update;
pub mod views;

pub use model::{Mode, Model, MonthView, Status, SyncView};
pub use update::{Command, Msg, update};

#[cfg(test)]
mod edit_tests;
#[cfg(test)]
mod tests;
