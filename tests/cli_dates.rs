//! The command line takes days as people type them (`tomorrow`, `24/12`, `dec 24`, `fri`, `+3d`),
//! with `agenda --from/--to` and `add/edit --start/--end`, as the TUI's `g` does.

use std::path::Path;
use std::process::{Command, Output};

fn almanac(data: &Path, today: Option<&str>, args: &[&str]) -> Output {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_almanac"));
    cmd.args(args)
        .env("ALMANAC_DATA_DIR", data)
        .env_remove("ALMANAC_CONFIG")
        .env("XDG_CONFIG_HOME", data.join("config-home"))
        .env("TZ", "UTC");
    match today {
        Some(day) => cmd.env("ALMANAC_TODAY", day),
        None => cmd.env_remove("ALMANAC_TODAY"),
    };
    cmd.output().expect("the binary runs")
}

fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

fn uids(out: &Output) -> Vec<String> {
    assert!(out.status.success(), "{}", text(&out.stderr));
    let list: serde_json::Value = serde_json::from_slice(&out.stdout).expect("JSON");
    list.as_array()
        .unwrap()
        .iter()
        .map(|e| e["uid"].as_str().unwrap().to_string())
        .collect()
}

const TWO: &str = "BEGIN:VCALENDAR\r\nVERSION:2.0\r\n\
BEGIN:VEVENT\r\nUID:tue\r\nDTSTAMP:20261101T000000Z\r\nDTSTART:20261124T090000Z\r\nDTEND:20261124T100000Z\r\nSUMMARY:Tue\r\nEND:VEVENT\r\n\
BEGIN:VEVENT\r\nUID:xmas\r\nDTSTAMP:20261101T000000Z\r\nDTSTART:20261224T090000Z\r\nDTEND:20261224T100000Z\r\nSUMMARY:Xmas\r\nEND:VEVENT\r\n\
END:VCALENDAR\r\n";

#[test]
fn agenda_takes_days_as_people_type_them() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("two.ics");
    std::fs::write(&file, TWO).unwrap();
    let imported = almanac(
        dir.path(),
        None,
        &["import", &file.display().to_string(), "--calendar", "home"],
    );
    assert!(imported.status.success(), "{}", text(&imported.stderr));
    // Monday 23 November 2026.
    let today = Some("2026-11-23");
    let agenda = |from: &str, to: &str| {
        uids(&almanac(
            dir.path(),
            today,
            &[
                "agenda", "--json", "--tz", "UTC", "--from", from, "--to", to,
            ],
        ))
    };
    assert_eq!(agenda("tomorrow", "tomorrow"), ["tue"]);
    assert_eq!(agenda("tue", "+1d"), ["tue"]);
    assert_eq!(agenda("24/11", "24.11."), ["tue"]);
    assert_eq!(agenda("dec 24", "24/12/2026"), ["xmas"]);
    assert_eq!(agenda("today", "next month"), ["tue"]);
    assert_eq!(agenda("today", "+5w"), ["tue", "xmas"]);
    let bad = almanac(dir.path(), today, &["agenda", "--from", "someday"]);
    assert_eq!(bad.status.code(), Some(2));
    let err = text(&bad.stderr);
    assert!(err.contains("--from") && err.contains("tomorrow"), "{err}");
}

#[test]
fn add_takes_a_day_and_time_as_people_type_them() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("two.ics");
    std::fs::write(&file, TWO).unwrap();
    almanac(
        dir.path(),
        None,
        &["import", &file.display().to_string(), "--calendar", "home"],
    );
    let added = almanac(
        dir.path(),
        None,
        &[
            "add",
            "--calendar",
            "home",
            "--summary",
            "Dentist",
            "--start",
            "tomorrow 10:00",
            "--end",
            "tomorrow 11:00",
            "--tz",
            "UTC",
        ],
    );
    assert!(added.status.success(), "{}", text(&added.stderr));
    let out = almanac(
        dir.path(),
        None,
        &[
            "agenda", "--json", "--tz", "UTC", "--from", "tomorrow", "--to", "tomorrow",
        ],
    );
    assert!(out.status.success(), "{}", text(&out.stderr));
    let list: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let dentist = list
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["summary"] == "Dentist")
        .expect("added tomorrow");
    assert!(
        dentist["start"]
            .as_str()
            .unwrap()
            .ends_with("T10:00:00+00:00"),
        "{dentist}"
    );
}
