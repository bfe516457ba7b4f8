//! `almanac remind --once --json` through the real binary: due and missed reminders, one JSON
//! object per line, each printed once, also by two processes started together.

use std::process::{Command, Output};

use chrono::{Duration, Utc};

fn almanac(dir: &std::path::Path, args: &[&str]) -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_almanac"));
    c.args(args)
        .env("ALMANAC_DATA_DIR", dir)
        .env("XDG_CONFIG_HOME", dir.join("cfg"))
        .env_remove("ALMANAC_CONFIG");
    c
}

fn lines(out: &Output) -> Vec<serde_json::Value> {
    assert!(out.status.success(), "{out:?}");
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(|l| serde_json::from_str(l).expect("one JSON object per line"))
        .collect()
}

/// A cache holding an event starting in 8 minutes with a 10-minute alarm (due), and one that
/// began three hours ago with a 15-minute alarm (missed).
fn cache() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    let stamp = |t: chrono::DateTime<Utc>| t.format("%Y%m%dT%H%M%SZ").to_string();
    let now = Utc::now();
    let event = |uid: &str, start: chrono::DateTime<Utc>, trigger: &str| {
        format!(
            "BEGIN:VEVENT\r\nUID:{uid}\r\nDTSTAMP:20260101T000000Z\r\nSUMMARY:{uid}\r\n\
             DTSTART:{}\r\nDTEND:{}\r\nBEGIN:VALARM\r\nACTION:DISPLAY\r\nDESCRIPTION:r\r\n\
             TRIGGER:{trigger}\r\nEND:VALARM\r\nEND:VEVENT\r\n",
            stamp(start),
            stamp(start + Duration::minutes(30))
        )
    };
    let file = dir.path().join("r.ics");
    std::fs::write(
        &file,
        format!(
            "BEGIN:VCALENDAR\r\nVERSION:2.0\r\n{}{}END:VCALENDAR\r\n",
            event("soon", now + Duration::minutes(8), "-PT10M"),
            event("earlier", now - Duration::hours(3), "-PT15M"),
        ),
    )
    .unwrap();
    let out = almanac(
        dir.path(),
        &["import", &file.display().to_string(), "--calendar", "Work"],
    )
    .output()
    .unwrap();
    assert!(out.status.success(), "{out:?}");
    dir
}

#[test]
fn remind_prints_due_and_missed_reminders_once_as_json_lines() {
    let dir = cache();
    let got = lines(
        &almanac(dir.path(), &["remind", "--once", "--json", "--tz", "UTC"])
            .output()
            .unwrap(),
    );
    let seen: Vec<(&str, &str)> = got
        .iter()
        .map(|v| (v["uid"].as_str().unwrap(), v["kind"].as_str().unwrap()))
        .collect();
    assert_eq!(seen, [("earlier", "missed"), ("soon", "due")]);
    let soon = &got[1];
    assert_eq!(soon["calendar"], "Work");
    assert_eq!(soon["summary"], "soon");
    assert!(soon["recurrence_id"].is_null());
    assert!(
        soon["start"].as_str().unwrap().ends_with("+00:00"),
        "{soon}"
    );
    assert!(soon["alarm_at"].as_str().is_some());
    let again = almanac(dir.path(), &["remind", "--once", "--json"])
        .output()
        .unwrap();
    assert!(lines(&again).is_empty(), "each reminder fires once");
}

#[test]
fn two_remind_processes_at_once_print_each_reminder_once() {
    let dir = cache();
    let a = almanac(dir.path(), &["remind", "--once", "--json"]).spawn_piped();
    let b = almanac(dir.path(), &["remind", "--once", "--json"]).spawn_piped();
    let total =
        lines(&a.wait_with_output().unwrap()).len() + lines(&b.wait_with_output().unwrap()).len();
    assert_eq!(total, 2);
}

trait SpawnPiped {
    fn spawn_piped(&mut self) -> std::process::Child;
}

impl SpawnPiped for Command {
    fn spawn_piped(&mut self) -> std::process::Child {
        self.stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .unwrap()
    }
}

/// A `notify-send` that writes its arguments to a file, first on PATH.
fn fake_notify_send(dir: &std::path::Path) -> (std::path::PathBuf, std::path::PathBuf) {
    use std::os::unix::fs::PermissionsExt;
    let bin = dir.join("bin");
    std::fs::create_dir_all(&bin).unwrap();
    let log = dir.join("notified.txt");
    let script = bin.join("notify-send");
    std::fs::write(
        &script,
        format!(
            "#!/bin/sh\nfor a in \"$@\"; do printf '%s|' \"$a\"; done >> '{}'\necho >> '{}'\n",
            log.display(),
            log.display()
        ),
    )
    .unwrap();
    std::fs::set_permissions(&script, std::fs::Permissions::from_mode(0o755)).unwrap();
    let path = format!(
        "{}:{}",
        bin.display(),
        std::env::var("PATH").unwrap_or_default()
    );
    (std::path::PathBuf::from(path), log)
}

#[cfg(unix)]
#[test]
fn each_reminder_is_a_desktop_notification_where_there_is_a_session_and_none_without() {
    let dir = cache();
    let (path, log) = fake_notify_send(dir.path());
    // No desktop session: nothing is sent.
    let out = almanac(dir.path(), &["remind", "--once", "--tz", "UTC"])
        .env("PATH", &path)
        .env_remove("DBUS_SESSION_BUS_ADDRESS")
        .env_remove("DISPLAY")
        .env_remove("WAYLAND_DISPLAY")
        .output()
        .unwrap();
    assert!(out.status.success(), "{out:?}");
    std::thread::sleep(std::time::Duration::from_millis(300));
    assert!(!log.exists(), "no session, no notification");
    // The same reminders have fired: a fresh cache for the session case.
    let dir = cache();
    let (path, log) = fake_notify_send(dir.path());
    let out = almanac(dir.path(), &["remind", "--once", "--tz", "UTC"])
        .env("PATH", &path)
        .env("DBUS_SESSION_BUS_ADDRESS", "unix:path=/nonexistent")
        .output()
        .unwrap();
    assert!(out.status.success(), "{out:?}");
    let mut text = String::new();
    for _ in 0..50 {
        text = std::fs::read_to_string(&log).unwrap_or_default();
        if text.lines().count() >= 2 {
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(100));
    }
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines.len(), 2, "{text}");
    assert!(
        lines.iter().any(|l| l.contains("|Missed: earlier|")),
        "{text}"
    );
    assert!(
        lines
            .iter()
            .any(|l| l.contains("|soon|") && l.contains("Work")),
        "{text}"
    );
    assert!(
        lines.iter().all(|l| l.starts_with("--app-name=almanac|")),
        "{text}"
    );
    // `[reminders] notify = false` turns it off.
    let dir = cache();
    let (path, log) = fake_notify_send(dir.path());
    std::fs::create_dir_all(dir.path().join("cfg/almanac")).unwrap();
    std::fs::write(
        dir.path().join("cfg/almanac/config.toml"),
        "[reminders]\nnotify = false\n",
    )
    .unwrap();
    let out = almanac(dir.path(), &["remind", "--once", "--tz", "UTC"])
        .env("PATH", &path)
        .env("DBUS_SESSION_BUS_ADDRESS", "unix:path=/nonexistent")
        .output()
        .unwrap();
    assert!(out.status.success(), "{out:?}");
    std::thread::sleep(std::time::Duration::from_millis(300));
    assert!(!log.exists(), "turned off");
}
