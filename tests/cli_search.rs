//! `almanac search`: the headless `/`, through the real binary.

use std::path::Path;
use std::process::{Command, Output};

fn almanac(data: &Path, args: &[&str], config: Option<&Path>) -> Output {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_almanac"));
    cmd.args(args)
        .env("ALMANAC_DATA_DIR", data)
        .env_remove("ALMANAC_CONFIG")
        .env("XDG_CONFIG_HOME", data.join("config-home"))
        .env("ALMANAC_TODAY", "2026-06-15")
        .env("TZ", "UTC");
    if let Some(config) = config {
        cmd.env("ALMANAC_CONFIG", config);
    }
    cmd.output().expect("the binary runs")
}

fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

fn setup() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    let events = [
        ("a", "20260601T090000Z", "Dentist long ago", ""),
        (
            "b",
            "20260620T090000Z",
            "Dentist next week",
            "LOCATION:Main St 4\r\n",
        ),
        ("c", "20260616T090000Z", "Dentist tomorrow", ""),
        (
            "d",
            "20260617T090000Z",
            "Planning",
            "ATTENDEE;CN=Ingrid Holm:mailto:ih@example.org\r\n",
        ),
    ];
    let mut ics = String::from("BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//t//EN\r\n");
    for (uid, start, summary, more) in events {
        ics.push_str(&format!(
            "BEGIN:VEVENT\r\nUID:{uid}\r\nDTSTAMP:20260101T000000Z\r\nDTSTART:{start}\r\nDURATION:PT1H\r\nSUMMARY:{summary}\r\n{more}END:VEVENT\r\n"
        ));
    }
    ics.push_str("END:VCALENDAR\r\n");
    let file = dir.path().join("mine.ics");
    std::fs::write(&file, ics).unwrap();
    let out = almanac(
        dir.path(),
        &["import", file.to_str().unwrap(), "--calendar", "Mine"],
        None,
    );
    assert!(out.status.success(), "{}", text(&out.stderr));
    dir
}

#[test]
fn json_lists_agenda_objects_nearest_first() {
    let dir = setup();
    let out = almanac(dir.path(), &["search", "dentist", "--json"], None);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let list: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let uids: Vec<&str> = list
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["uid"].as_str().unwrap())
        .collect();
    assert_eq!(uids, ["c", "b", "a"]);
    assert_eq!(list[1]["calendar"], "Mine");
    assert_eq!(list[1]["location"], "Main St 4");
    assert_eq!(list[1]["start"], "2026-06-20T09:00:00+00:00");
    assert_eq!(list[1]["recurrence_id"], serde_json::Value::Null);
}

#[test]
fn from_and_to_narrow_the_days_and_text_names_day_time_and_calendar() {
    let dir = setup();
    let out = almanac(
        dir.path(),
        &[
            "search",
            "dentist",
            "--from",
            "2026-06-10",
            "--to",
            "2026-06-18",
        ],
        None,
    );
    let stdout = text(&out.stdout);
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert_eq!(
        stdout,
        "Tue 2026-06-16  09:00–10:00  Dentist tomorrow  [Mine]\n"
    );
    let out = almanac(dir.path(), &["search", "ingrid"], None);
    assert!(
        text(&out.stdout).contains("Planning"),
        "{}",
        text(&out.stdout)
    );
}

#[test]
fn nothing_to_search_for_is_a_usage_error_in_json_too() {
    let dir = setup();
    let out = almanac(dir.path(), &["search", " - ", "--json"], None);
    assert_eq!(out.status.code(), Some(2));
    let err: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert!(
        err["error"]
            .as_str()
            .unwrap()
            .contains("nothing to search for")
    );
    let out = almanac(dir.path(), &["search", "zeppelin", "--json"], None);
    assert_eq!(out.status.code(), Some(0));
    assert_eq!(text(&out.stdout).trim(), "[]");
}

#[test]
fn calendars_hidden_in_the_config_are_left_out() {
    let dir = setup();
    let config = dir.path().join("config.toml");
    std::fs::write(&config, "[ui]\nhidden = [\"Mine\"]\n").unwrap();
    let out = almanac(dir.path(), &["search", "dentist", "--json"], Some(&config));
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert_eq!(text(&out.stdout).trim(), "[]");
}
