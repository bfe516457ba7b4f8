//! The TUI's alarm clock: a thread with its own writer that claims due reminders every few
//! seconds (an indexed range read; nothing is expanded) and records dismissals and snoozes.

use std::path::PathBuf;
use std::sync::mpsc::{Receiver, RecvTimeoutError, Sender, channel};
use std::time::Duration;

use chrono::Utc;
use chrono_tz::Tz;
use tokio::sync::mpsc::UnboundedSender;

use super::update::Msg;
use crate::store::{ReminderKey, Store};

/// How often due reminders are looked for: a reminder shows at most this late.
const LOOK_EVERY: Duration = Duration::from_secs(10);

/// What the person did with a reminder.
pub enum Answer {
    Dismiss(ReminderKey),
    Snooze(ReminderKey, chrono::DateTime<Utc>),
}

/// Starts the alarm clock on the cache in `data_dir`; all-day and floating times are read in
/// `zone`. Due reminders arrive as `Msg::Reminders`; answers go to the returned sender.
pub fn spawn(
    data_dir: PathBuf,
    zone: Tz,
    tx: UnboundedSender<Msg>,
    notifier: super::notify::Notifier,
) -> Sender<Answer> {
    let (answers, rx) = channel::<Answer>();
    std::thread::Builder::new()
        .name("reminders".into())
        .spawn(move || run(data_dir, zone, tx, rx, notifier))
        .expect("a thread starts");
    answers
}

fn run(
    data_dir: PathBuf,
    zone: Tz,
    tx: UnboundedSender<Msg>,
    rx: Receiver<Answer>,
    notifier: super::notify::Notifier,
) {
    let mut store = match Store::open(&data_dir) {
        Ok(s) => s,
        Err(e) => {
            tracing::warn!(error = %e, "no reminders: the cache cannot be opened for writing");
            return;
        }
    };
    loop {
        super::run::panic_drill("reminders");
        match store.claim_reminders(Utc::now(), &zone) {
            Ok(due) if due.is_empty() => {}
            Ok(due) => {
                for r in &due {
                    let (title, body) = super::notify::reminder_text(r, &zone);
                    notifier.send(&title, &body);
                }
                if tx.send(Msg::Reminders(due)).is_err() {
                    return;
                }
            }
            Err(e) => tracing::warn!(error = %e, "reminders cannot be read"),
        }
        match rx.recv_timeout(LOOK_EVERY) {
            Ok(answer) => {
                let result = match &answer {
                    Answer::Dismiss(key) => store.dismiss_reminder(key, Utc::now()),
                    Answer::Snooze(key, until) => store.snooze_reminder(key, *until, Utc::now()),
                };
                if let Err(e) = result {
                    tracing::warn!(error = %e, "a reminder's state cannot be saved");
                }
            }
            Err(RecvTimeoutError::Timeout) => {}
            Err(RecvTimeoutError::Disconnected) => return,
        }
    }
}
