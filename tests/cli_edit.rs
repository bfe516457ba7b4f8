//! `almanac add`, `edit`, `delete`, `conflicts` and `resolve` through the real binary: on a local
//! calendar, against the emulator (pushed at once, a conflict found and resolved), and with the
//! server unreachable (saved, pushed later).

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use almanac::emulator::caldav::CalDavEmulator;

struct Env {
    dir: tempfile::TempDir,
    config: PathBuf,
}

impl Env {
    fn new(account_url: Option<&str>) -> Env {
        let dir = tempfile::tempdir().unwrap();
        let config = dir.path().join("config.toml");
        let text = match account_url {
            Some(url) => format!(
                "[[account]]\nname = \"emu\"\nkind = \"caldav\"\nurl = \"{url}\"\nusername = \"alice\"\npassword = {{ value = \"pw\" }}\n"
            ),
            None => String::new(),
        };
        std::fs::write(&config, text).unwrap();
        Env { dir, config }
    }

    fn data(&self) -> PathBuf {
        self.dir.path().join("data")
    }

    fn run(&self, args: &[&str]) -> Output {
        Command::new(env!("CARGO_BIN_EXE_almanac"))
            .arg("--config")
            .arg(&self.config)
            .arg("--data-dir")
            .arg(self.data())
            .args(args)
            .env("TZ", "UTC")
            .env_remove("ALMANAC_TODAY")
            .output()
            .expect("the binary runs")
    }

    fn ok(&self, args: &[&str]) -> (String, String) {
        let out = self.run(args);
        let (o, e) = (text(&out.stdout), text(&out.stderr));
        assert!(out.status.success(), "{args:?}: {o}{e}");
        (o, e)
    }

    fn agenda(&self) -> Vec<serde_json::Value> {
        let (o, _) = self.ok(&[
            "agenda",
            "--json",
            "--from",
            "2026-11-01",
            "--to",
            "2026-11-30",
            "--tz",
            "UTC",
        ]);
        serde_json::from_str::<serde_json::Value>(&o)
            .unwrap()
            .as_array()
            .unwrap()
            .clone()
    }
}

fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

fn uid_from(stdout: &str, verb: &str) -> String {
    stdout
        .lines()
        .find_map(|l| l.strip_prefix(&format!("{verb} ")))
        .unwrap_or_else(|| panic!("no '{verb} UID' in {stdout}"))
        .trim()
        .to_string()
}

fn import_home(env: &Env, dir: &Path) {
    let file = dir.join("home.ics");
    std::fs::write(
        &file,
        "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nBEGIN:VEVENT\r\nUID:seed\r\nDTSTAMP:20260101T000000Z\r\n\
         DTSTART:20261102T090000Z\r\nDTEND:20261102T100000Z\r\nSUMMARY:Seed\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n",
    )
    .unwrap();
    env.ok(&["import", file.to_str().unwrap(), "--calendar", "home"]);
}

#[test]
fn add_edit_and_delete_on_a_local_calendar() {
    let env = Env::new(None);
    import_home(&env, env.dir.path());
    let (o, _) = env.ok(&[
        "add",
        "--calendar",
        "home",
        "--summary",
        "Dentist",
        "--start",
        "2026-11-24 10:00",
        "--end",
        "2026-11-24 11:30",
        "--location",
        "Main St",
        "--tz",
        "Europe/Berlin",
    ]);
    let uid = uid_from(&o, "added");
    let list = env.agenda();
    let e = list
        .iter()
        .find(|e| e["uid"] == uid.as_str())
        .expect("listed");
    assert_eq!(e["summary"], "Dentist");
    assert_eq!(e["location"], "Main St");
    assert_eq!(e["start"], "2026-11-24T09:00:00+00:00", "10:00 in Berlin");
    assert_eq!(e["end"], "2026-11-24T10:30:00+00:00");

    env.ok(&[
        "edit",
        &uid,
        "--summary",
        "Dentist (moved)",
        "--start",
        "2026-11-25 08:00",
        "--tz",
        "UTC",
    ]);
    let list = env.agenda();
    let e = list.iter().find(|e| e["uid"] == uid.as_str()).unwrap();
    assert_eq!(e["summary"], "Dentist (moved)");
    assert_eq!(e["start"], "2026-11-25T08:00:00+00:00");
    assert_eq!(
        e["end"], "2026-11-25T09:30:00+00:00",
        "the duration is kept"
    );

    let (o, _) = env.ok(&[
        "add",
        "--calendar",
        "home",
        "--summary",
        "Trip",
        "--all-day",
        "--start",
        "2026-11-27",
        "--end",
        "2026-11-29",
    ]);
    let trip = uid_from(&o, "added");
    let list = env.agenda();
    let e = list.iter().find(|e| e["uid"] == trip.as_str()).unwrap();
    assert_eq!(
        (e["start"].as_str(), e["end"].as_str()),
        (Some("2026-11-27"), Some("2026-11-30"))
    );

    env.ok(&["delete", &uid]);
    let list = env.agenda();
    assert!(list.iter().all(|e| e["uid"] != uid.as_str()));
    assert!(list.iter().any(|e| e["uid"] == "seed"));
}

#[test]
fn bad_input_is_a_usage_error_that_says_what_to_write() {
    let env = Env::new(None);
    import_home(&env, env.dir.path());
    let cases: &[(&[&str], &str)] = &[
        (
            &[
                "add",
                "--calendar",
                "home",
                "--summary",
                "X",
                "--start",
                "someday",
            ],
            "YYYY-MM-DD",
        ),
        (
            &[
                "add",
                "--calendar",
                "nope",
                "--summary",
                "X",
                "--start",
                "2026-11-24 10:00",
            ],
            "no calendar named 'nope'",
        ),
        (
            &[
                "add",
                "--calendar",
                "home",
                "--summary",
                "X",
                "--start",
                "2026-11-24 10:00",
                "--end",
                "2026-11-24 09:00",
            ],
            "not after the start",
        ),
        (
            &["edit", "no-such-uid", "--summary", "X"],
            "no event with UID",
        ),
        (&["edit", "seed"], "nothing to change"),
        (&["resolve", "42", "--keep", "local"], "no open conflict 42"),
    ];
    for (args, says) in cases {
        let out = env.run(args);
        let err = text(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{args:?}: {err}");
        assert!(err.contains(says), "{args:?}: {err}");
        assert!(!err.contains("panicked"), "{err}");
    }
}

fn event(uid: &str, summary: &str) -> String {
    format!(
        "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//test//EN\r\nBEGIN:VEVENT\r\nUID:{uid}\r\n\
         DTSTAMP:20260101T000000Z\r\nDTSTART:20261110T100000Z\r\nDTEND:20261110T110000Z\r\n\
         SUMMARY:{summary}\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n"
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn edits_push_at_once_and_a_conflict_is_listed_and_resolved() {
    let emu = CalDavEmulator::start("alice", "pw").await.unwrap();
    emu.add_calendar("work", "Work", None);
    emu.put("work", "e1.ics", &event("e1", "Original"));
    let env = Env::new(Some(&emu.base_url()));
    let env = &env;
    tokio::task::block_in_place(|| {
        env.ok(&["sync"]);
        let (o, _) = env.ok(&[
            "add",
            "--calendar",
            "Work",
            "--summary",
            "Review",
            "--start",
            "2026-11-12 14:00",
        ]);
        assert!(o.contains("pushed to emu"), "{o}");
    });
    assert_eq!(emu.items("work").len(), 2);

    // Someone else changes e1 before our edit is pushed.
    emu.put("work", "e1.ics", &event("e1", "Theirs"));
    tokio::task::block_in_place(|| {
        let (_, e) = env.ok(&["edit", "e1", "--summary", "Mine"]);
        assert!(e.contains("conflict"), "{e}");
        let (o, _) = env.ok(&["conflicts", "--json"]);
        let list: serde_json::Value = serde_json::from_str(&o).unwrap();
        let list = list.as_array().unwrap();
        assert_eq!(list.len(), 1);
        assert_eq!(list[0]["calendar"], "Work");
        assert_eq!(list[0]["local_change"], "update");
        let diff = list[0]["differences"].as_array().unwrap();
        assert_eq!(diff.len(), 1, "{diff:?}");
        assert_eq!(diff[0]["field"], "summary");
        assert_eq!(diff[0]["local"], "Mine");
        assert_eq!(diff[0]["remote"], "Theirs");
        let (text_list, _) = env.ok(&["conflicts"]);
        assert!(
            text_list.contains("mine: Mine") && text_list.contains("server: Theirs"),
            "{text_list}"
        );
        let id = list[0]["id"].as_i64().unwrap().to_string();
        let (o, _) = env.ok(&["resolve", &id, "--keep", "local"]);
        assert!(o.contains("pushed to emu"), "{o}");
        let (o, _) = env.ok(&["conflicts", "--json"]);
        assert_eq!(o.trim(), "[]");
    });
    let e1 = emu
        .items("work")
        .into_iter()
        .find(|(h, _, _)| h.ends_with("e1.ics"))
        .unwrap();
    assert!(e1.2.contains("SUMMARY:Mine"), "{}", e1.2);
}

#[test]
fn an_edit_with_the_server_down_is_saved_and_waits() {
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let emu = runtime
        .block_on(CalDavEmulator::start("alice", "pw"))
        .unwrap();
    emu.add_calendar("work", "Work", None);
    let env = Env::new(Some(&emu.base_url()));
    env.ok(&["sync"]);
    emu.shutdown();
    drop(runtime);

    let (_, err) = env.ok(&[
        "add",
        "--calendar",
        "Work",
        "--summary",
        "Offline",
        "--start",
        "2026-11-20 09:00",
    ]);
    assert!(err.contains("not pushed yet"), "{err}");
    let (o, _) = env.ok(&["status", "--json"]);
    let status: serde_json::Value = serde_json::from_str(&o).unwrap();
    let work = status
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["calendar"] == "Work")
        .unwrap_or_else(|| panic!("{status}"));
    assert_eq!(work["pending"], 1, "{work}");
    let list = env.agenda();
    assert!(
        list.iter().any(|e| e["summary"] == "Offline"),
        "shown before it is pushed"
    );
}

/// A weekly series at 09:00 and 17:00 Berlin time on Tuesdays, in a local calendar "team".
fn import_series(env: &Env) {
    let file = env.dir.path().join("series.ics");
    std::fs::write(
        &file,
        "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nBEGIN:VEVENT\r\nUID:weekly\r\nDTSTAMP:20260101T000000Z\r\n\
         DTSTART;TZID=Europe/Berlin:20261201T090000\r\nDTEND;TZID=Europe/Berlin:20261201T093000\r\n\
         RRULE:FREQ=WEEKLY;COUNT=6\r\nSUMMARY:Weekly\r\nEND:VEVENT\r\n\
         BEGIN:VEVENT\r\nUID:twice\r\nDTSTAMP:20260101T000000Z\r\n\
         DTSTART;TZID=Europe/Berlin:20261201T090000\r\nDTEND;TZID=Europe/Berlin:20261201T093000\r\n\
         RRULE:FREQ=WEEKLY;BYHOUR=9,17;COUNT=6\r\nSUMMARY:Twice a day\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n",
    )
    .unwrap();
    env.ok(&["import", file.to_str().unwrap(), "--calendar", "team"]);
}

fn december_starts(env: &Env, uid: &str) -> Vec<String> {
    let (o, _) = env.ok(&[
        "agenda",
        "--json",
        "--from",
        "2026-12-01",
        "--to",
        "2026-12-31",
        "--tz",
        "UTC",
    ]);
    let list: serde_json::Value = serde_json::from_str(&o).unwrap();
    list.as_array()
        .unwrap()
        .iter()
        .filter(|e| e["uid"] == uid)
        .map(|e| e["start"].as_str().unwrap().to_string())
        .collect()
}

#[test]
fn a_date_names_the_occurrence_of_a_series_on_that_day_when_it_has_one() {
    let env = Env::new(None);
    import_series(&env);
    env.ok(&[
        "delete",
        "weekly",
        "--occurrence",
        "2026-12-15",
        "--tz",
        "Europe/Berlin",
    ]);
    assert_eq!(
        december_starts(&env, "weekly"),
        [
            "2026-12-01T08:00:00+00:00",
            "2026-12-08T08:00:00+00:00",
            "2026-12-22T08:00:00+00:00",
            "2026-12-29T08:00:00+00:00",
        ]
    );
    env.ok(&[
        "edit",
        "weekly",
        "--occurrence",
        "2026-12-22",
        "--summary",
        "Moved",
    ]);
    let (o, _) = env.ok(&[
        "agenda",
        "--from",
        "2026-12-22",
        "--to",
        "2026-12-22",
        "--tz",
        "UTC",
    ]);
    assert!(o.contains("Moved"), "{o}");

    // Two occurrences that day: the message lists their times; none: it says so.
    let out = env.run(&[
        "delete",
        "twice",
        "--occurrence",
        "2026-12-08",
        "--tz",
        "Europe/Berlin",
    ]);
    let err = text(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert!(
        err.contains("2026-12-08 09:00") && err.contains("2026-12-08 17:00"),
        "{err}"
    );
    let out = env.run(&["delete", "weekly", "--occurrence", "2026-12-16"]);
    let err = text(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert!(err.contains("no occurrence on 2026-12-16"), "{err}");
}

#[test]
fn the_text_agenda_shows_uids_on_request_for_edit_and_delete() {
    let env = Env::new(None);
    import_series(&env);
    let (o, _) = env.ok(&[
        "agenda",
        "--from",
        "2026-12-01",
        "--to",
        "2026-12-01",
        "--tz",
        "UTC",
        "--uids",
    ]);
    let line = o.lines().find(|l| l.contains("Weekly")).expect("listed");
    assert!(line.ends_with("[team]  weekly"), "{o}");
    let (plain, _) = env.ok(&[
        "agenda",
        "--from",
        "2026-12-01",
        "--to",
        "2026-12-01",
        "--tz",
        "UTC",
    ]);
    assert!(!plain.contains("weekly"), "{plain}");
}
