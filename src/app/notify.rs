//! Desktop notifications for reminders, through the system's own notification service: the
//! freedesktop service by its client `notify-send` (libnotify) on Linux and BSD desktops, and
//! Notification Center by `osascript` on macOS. No crate: a desktop that has the service has its
//! client, and a D-Bus stack in-process would double the dependency tree for one message.
//! Nothing is attempted without a desktop session (over SSH, in a service without one) or when
//! `[reminders] notify = false`.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use crate::domain::text::sanitize;

/// The longest text a notification carries.
const MAX_TEXT: usize = 200;

/// Where notifications go, found once.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Notifier {
    /// `notify-send` at this path, with a session bus to reach the service.
    NotifySend(PathBuf),
    /// macOS.
    Osascript,
    /// No notification service here.
    None,
}

impl Notifier {
    /// The service of this session, if it has one.
    pub fn detect() -> Notifier {
        if cfg!(target_os = "macos") {
            return Notifier::Osascript;
        }
        let session = ["DBUS_SESSION_BUS_ADDRESS", "WAYLAND_DISPLAY", "DISPLAY"]
            .iter()
            .any(|v| std::env::var_os(v).is_some_and(|s| !s.is_empty()));
        if !session {
            return Notifier::None;
        }
        match find_on_path("notify-send") {
            Some(path) => Notifier::NotifySend(path),
            None => Notifier::None,
        }
    }

    /// Shows `title` with `body`; the command runs in the background (a slow service never holds
    /// a reminder up). Returns whether one was sent.
    pub fn send(&self, title: &str, body: &str) -> bool {
        let clip = |s: &str| sanitize(s).chars().take(MAX_TEXT).collect::<String>();
        let (title, body) = (clip(title), clip(body));
        let mut command = match self {
            Notifier::None => return false,
            Notifier::NotifySend(path) => {
                let mut c = Command::new(path);
                c.args(["--app-name=almanac", "--category=reminder", "--"])
                    .arg(&title)
                    .arg(&body);
                c
            }
            Notifier::Osascript => {
                let quote = |s: &str| s.replace('\\', "\\\\").replace('"', "\\\"");
                let mut c = Command::new("osascript");
                c.arg("-e").arg(format!(
                    "display notification \"{}\" with title \"{}\"",
                    quote(&body),
                    quote(&title)
                ));
                c
            }
        };
        command
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null());
        match command.spawn() {
            Ok(mut child) => {
                // Reaped off the caller's thread.
                std::thread::spawn(move || child.wait());
                true
            }
            Err(e) => {
                tracing::warn!(error = %e, "the desktop notification could not be sent");
                false
            }
        }
    }
}

fn find_on_path(name: &str) -> Option<PathBuf> {
    std::env::split_paths(&std::env::var_os("PATH")?)
        .map(|dir| dir.join(name))
        .find(|p| is_executable(p))
}

fn is_executable(p: &Path) -> bool {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        p.metadata()
            .is_ok_and(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
    }
    #[cfg(not(unix))]
    {
        p.is_file()
    }
}

/// A reminder as a notification: its summary as the title, when and where as the body.
pub fn reminder_text(r: &crate::store::Reminder, zone: &chrono_tz::Tz) -> (String, String) {
    let when = match r.start {
        crate::domain::When::Date(d) => d.format("%a %d %b, all day").to_string(),
        crate::domain::When::Instant(t) => {
            t.with_timezone(zone).format("%a %d %b %H:%M").to_string()
        }
        crate::domain::When::Floating(t) => t.format("%a %d %b %H:%M").to_string(),
    };
    let missed = matches!(r.kind, crate::store::ReminderKind::Missed);
    let title = if missed {
        format!("Missed: {}", r.summary)
    } else {
        r.summary.clone()
    };
    (title, format!("{when} · {}", r.calendar))
}
