//! The command-line contract, through the real binary.

use std::path::Path;
use std::process::{Command, Output};

fn almanac(data: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_almanac"))
        .args(args)
        .env("ALMANAC_DATA_DIR", data)
        .env_remove("ALMANAC_CONFIG")
        .env("XDG_CONFIG_HOME", data.join("config-home"))
        .env_remove("ALMANAC_TODAY")
        .env("TZ", "UTC")
        .output()
        .expect("the binary runs")
}

fn fixture(name: &str) -> String {
    format!("{}/tests/fixtures/{name}", env!("CARGO_MANIFEST_DIR"))
}

fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

fn agenda_json(data: &Path, args: &[&str]) -> serde_json::Value {
    let mut all = vec!["agenda", "--json"];
    all.extend_from_slice(args);
    let out = almanac(data, &all);
    assert!(out.status.success(), "{}", text(&out.stderr));
    serde_json::from_slice(&out.stdout).expect("agenda --json prints JSON")
}

#[test]
fn a_malformed_file_imports_every_good_event_and_names_each_bad_line() {
    let dir = tempfile::tempdir().unwrap();
    let out = almanac(
        dir.path(),
        &["import", &fixture("malformed.ics"), "--calendar", "home"],
    );
    let err = text(&out.stderr);
    assert!(out.status.success(), "{err}");
    // The bad DTSTART's own line (12), not its BEGIN:VEVENT (10).
    assert!(err.contains("malformed.ics:12: skipped"), "{err}");
    assert!(err.contains("DTSTART value '2026-13-45'"), "{err}");
    assert!(err.contains("malformed.ics:15: skipped"), "{err}");
    assert!(
        err.contains("line 18"),
        "the junk line itself is named: {err}"
    );
    assert!(text(&out.stdout).contains("2 new"), "{}", text(&out.stdout));
    let list = agenda_json(
        dir.path(),
        &["--from", "2026-11-23", "--to", "2026-11-26", "--tz", "UTC"],
    );
    let uids: Vec<&str> = list
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["uid"].as_str().unwrap())
        .collect();
    assert_eq!(uids, vec!["good-1", "good-2"]);
}

#[test]
fn nothing_readable_exits_1_and_a_missing_file_exits_2_in_one_line() {
    let dir = tempfile::tempdir().unwrap();
    let junk = dir.path().join("junk.ics");
    std::fs::write(&junk, "this is not a calendar\n").unwrap();
    let out = almanac(
        dir.path(),
        &["import", junk.to_str().unwrap(), "--calendar", "home"],
    );
    assert_eq!(out.status.code(), Some(1), "{}", text(&out.stderr));
    assert!(text(&out.stderr).contains("nothing could be read"));

    let out = almanac(
        dir.path(),
        &["import", "/nonexistent/x.ics", "--calendar", "home"],
    );
    assert_eq!(out.status.code(), Some(2));
    let err = text(&out.stderr);
    assert_eq!(err.lines().count(), 1, "{err}");
    assert!(
        err.contains("/nonexistent/x.ics") && err.contains("no such file"),
        "{err}"
    );
}

#[test]
fn agenda_json_follows_the_contract() {
    let dir = tempfile::tempdir().unwrap();
    let list = agenda_json(
        dir.path(),
        &[
            "--ics",
            &fixture("zones.ics"),
            "--from",
            "2026-11-23",
            "--to",
            "2026-11-24",
            "--tz",
            "Europe/Berlin",
        ],
    );
    let expected = serde_json::json!([
        {"calendar": "Zones", "uid": "allday", "recurrence_id": null, "summary": "Two days off", "location": null,
         "start": "2026-11-23", "end": "2026-11-25", "all_day": true, "status": "CONFIRMED"},
        {"calendar": "Zones", "uid": "float", "recurrence_id": null, "summary": "Floating breakfast", "location": null,
         "start": "2026-11-23T08:00:00", "end": "2026-11-23T08:30:00", "all_day": false, "status": null},
        {"calendar": "Zones", "uid": "ny", "recurrence_id": null, "summary": "New York morning", "location": "Manhattan",
         "start": "2026-11-23T15:00:00+01:00", "end": "2026-11-23T16:00:00+01:00", "all_day": false, "status": null}
    ]);
    assert_eq!(list, expected);
}

#[test]
fn tz_moves_instants_but_never_floating_times_or_dates() {
    let dir = tempfile::tempdir().unwrap();
    let list = agenda_json(
        dir.path(),
        &[
            "--ics",
            &fixture("zones.ics"),
            "--from",
            "2026-11-23",
            "--to",
            "2026-11-23",
            "--tz",
            "Asia/Tokyo",
        ],
    );
    let by_uid = |uid: &str| {
        list.as_array()
            .unwrap()
            .iter()
            .find(|e| e["uid"] == uid)
            .cloned()
    };
    // 09:00 New York is 23:00 in Tokyo, still on the 23rd.
    assert_eq!(by_uid("ny").unwrap()["start"], "2026-11-23T23:00:00+09:00");
    assert_eq!(by_uid("float").unwrap()["start"], "2026-11-23T08:00:00");
    assert_eq!(by_uid("allday").unwrap()["start"], "2026-11-23");
    assert!(
        by_uid("cancelled").is_none(),
        "cancelled occurrences are not listed"
    );
    assert!(by_uid("next-week").is_none());
}

#[test]
fn agenda_text_groups_by_day() {
    let dir = tempfile::tempdir().unwrap();
    let out = almanac(
        dir.path(),
        &[
            "agenda",
            "--ics",
            &fixture("zones.ics"),
            "--from",
            "2026-11-23",
            "--to",
            "2026-11-24",
            "--tz",
            "UTC",
        ],
    );
    let stdout = text(&out.stdout);
    assert!(out.status.success());
    let lines: Vec<&str> = stdout.lines().collect();
    assert_eq!(lines[0], "Mon 2026-11-23");
    assert!(
        lines
            .iter()
            .any(|l| l.contains("14:00–15:00") && l.contains("New York morning @ Manhattan")),
        "{stdout}"
    );
    assert!(lines.contains(&"Tue 2026-11-24"), "{stdout}");
    assert!(!stdout.contains("Called off"));
}

#[test]
fn an_unknown_zone_and_a_bad_config_are_usage_errors() {
    let dir = tempfile::tempdir().unwrap();
    let out = almanac(dir.path(), &["agenda", "--tz", "Mars/Base"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(text(&out.stderr).contains("Mars/Base"));

    // A config error names the file and line, with a fix, for a headless command too.
    let config = dir.path().join("config.toml");
    let refused = |text: &str, line: usize| {
        std::fs::write(&config, text).unwrap();
        let out = almanac(
            dir.path(),
            &["--config", config.to_str().unwrap(), "agenda"],
        );
        assert_eq!(out.status.code(), Some(2));
        let err = String::from_utf8_lossy(&out.stderr).to_string();
        assert!(
            err.contains(&format!("{}:{line}:", config.display())),
            "file and line: {err}"
        );
        assert!(err.contains("fix:"), "{err}");
        assert!(
            !err.contains("panicked") && !err.contains("backtrace"),
            "{err}"
        );
        err
    };
    refused("[ui]\nweek_start = \"monday\"\ncolour = \"red\"\n", 3);
    // A [keys] clash names both actions.
    let err = refused("[keys]\nkeep_both = \"m\"\n", 2);
    assert!(
        err.contains("keep_mine") && err.contains("keep_both"),
        "{err}"
    );
}

#[test]
fn a_series_expands_through_the_cache_with_overrides_exdates_and_far_windows() {
    let dir = tempfile::tempdir().unwrap();
    let out = almanac(
        dir.path(),
        &["import", &fixture("recurring.ics"), "--calendar", "team"],
    );
    assert!(out.status.success(), "{}", text(&out.stderr));
    let list = agenda_json(
        dir.path(),
        &[
            "--from",
            "2026-10-19",
            "--to",
            "2026-10-30",
            "--tz",
            "Europe/Berlin",
        ],
    );
    let got: Vec<(String, String, String)> = list
        .as_array()
        .unwrap()
        .iter()
        .map(|e| {
            (
                e["start"].as_str().unwrap().into(),
                e["summary"].as_str().unwrap().into(),
                e["recurrence_id"].as_str().unwrap().into(),
            )
        })
        .collect();
    let want = [
        // Summer time (+02:00) until 25 October, then winter time: the wall clock stays at 09:00.
        (
            "2026-10-19T09:00:00+02:00",
            "Standup",
            "2026-10-19T09:00:00+02:00",
        ),
        (
            "2026-10-21T09:00:00+02:00",
            "Standup",
            "2026-10-21T09:00:00+02:00",
        ),
        (
            "2026-10-26T11:00:00+01:00",
            "Standup (moved)",
            "2026-10-26T09:00:00+01:00",
        ),
        // 28 October is an EXDATE.
    ];
    let want: Vec<(String, String, String)> = want
        .iter()
        .map(|(a, b, c)| (a.to_string(), b.to_string(), c.to_string()))
        .collect();
    assert_eq!(got, want);
    // Far in the future the series is still there, on its weekdays, at its wall-clock time.
    let far = agenda_json(
        dir.path(),
        &[
            "--from",
            "2090-03-06",
            "--to",
            "2090-03-12",
            "--tz",
            "Europe/Berlin",
        ],
    );
    let starts: Vec<&str> = far
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["start"].as_str().unwrap())
        .collect();
    assert_eq!(
        starts,
        vec!["2090-03-06T09:00:00+01:00", "2090-03-08T09:00:00+01:00"]
    );
    // The same file read with no cache agrees.
    let direct = agenda_json(
        dir.path(),
        &[
            "--ics",
            &fixture("recurring.ics"),
            "--from",
            "2026-10-19",
            "--to",
            "2026-10-30",
            "--tz",
            "Europe/Berlin",
        ],
    );
    assert_eq!(direct.as_array().unwrap().len(), 3);
}

#[test]
fn export_gives_back_every_component_byte_for_byte_and_zones_resolve() {
    let dir = tempfile::tempdir().unwrap();
    let original = std::fs::read_to_string(fixture("mixed_exports.ics")).unwrap();
    let out = almanac(
        dir.path(),
        &[
            "import",
            &fixture("mixed_exports.ics"),
            "--calendar",
            "mixed",
        ],
    );
    assert!(out.status.success(), "{}", text(&out.stderr));
    let out = almanac(dir.path(), &["export", "--calendar", "mixed"]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let exported = text(&out.stdout);
    // Every component, with its VALARM, folded ATTENDEE parameters, X- properties, and the VTODO
    // and the custom VTIMEZONE, comes back exactly as it was written.
    for (begin, end) in [
        ("BEGIN:VTIMEZONE", "END:VTIMEZONE\r\n"),
        ("BEGIN:VEVENT\r\nUID:apple-1", "END:VEVENT\r\n"),
        ("BEGIN:VEVENT\r\nUID:outlook-1", "END:VEVENT\r\n"),
        ("BEGIN:VEVENT\r\nUID:google-1", "END:VEVENT\r\n"),
        ("BEGIN:VTODO", "END:VTODO\r\n"),
    ] {
        let start = original.find(begin).unwrap();
        let stop = start + original[start..].find(end).unwrap() + end.len();
        let component = &original[start..stop];
        assert!(
            exported.contains(component),
            "lost or changed:\n{component}\nexport:\n{exported}"
        );
    }
    assert!(exported.contains("X-WR-CALNAME:Mixed exports\r\n"));
    assert_eq!(exported.matches("BEGIN:VTIMEZONE").count(), 1);
    // Exported text reads back to the same agenda.
    let list = agenda_json(
        dir.path(),
        &["--from", "2026-11-23", "--to", "2026-11-25", "--tz", "UTC"],
    );
    let starts: Vec<(&str, &str)> = list
        .as_array()
        .unwrap()
        .iter()
        .map(|e| (e["uid"].as_str().unwrap(), e["start"].as_str().unwrap()))
        .collect();
    assert_eq!(
        starts,
        vec![
            // Custom Eastern is UTC-5 in November; W. Europe is Berlin (UTC+1); X-WR-TIMEZONE Berlin.
            ("apple-1", "2026-11-23T14:00:00+00:00"),
            ("outlook-1", "2026-11-24T13:00:00+00:00"),
            ("google-1", "2026-11-25T07:30:00+00:00"),
        ]
    );
    let again = dir.path().join("again.ics");
    std::fs::write(&again, &exported).unwrap();
    let direct = agenda_json(
        dir.path(),
        &[
            "--ics",
            again.to_str().unwrap(),
            "--from",
            "2026-11-23",
            "--to",
            "2026-11-25",
            "--tz",
            "UTC",
        ],
    );
    assert_eq!(direct.as_array().unwrap().len(), 3);
}

#[test]
fn sync_without_accounts_exits_2_and_says_how_to_add_one() {
    let dir = tempfile::tempdir().unwrap();
    let out = almanac(dir.path(), &["sync"]);
    assert_eq!(out.status.code(), Some(2));
    let err = text(&out.stderr);
    assert!(err.contains("[[account]]"), "{err}");
    assert_eq!(err.lines().count(), 1, "{err}");
    // The file to edit is the person's own, never the defaults in the source tree.
    let own = dir.path().join("config-home/almanac/config.toml");
    assert!(err.contains(&own.display().to_string()), "{err}");
    assert!(!err.contains("assets/config.toml"), "{err}");
}

#[test]
fn a_bad_password_line_names_the_persons_file_and_the_table_to_write() {
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("mine.toml");
    std::fs::write(
        &config,
        "[[account]]\nname = \"home\"\nkind = \"caldav\"\nurl = \"https://dav.example.org/\"\n\
         username = \"alice\"\npassword = \"hunter2\"\n",
    )
    .unwrap();
    let out = almanac(dir.path(), &["--config", config.to_str().unwrap(), "sync"]);
    assert_eq!(out.status.code(), Some(2));
    let err = text(&out.stderr);
    assert!(err.contains(&format!("{}:6:", config.display())), "{err}");
    assert!(err.contains("password = { value = "), "{err}");
    assert!(
        !err.contains("hunter2") && !err.contains("assets/"),
        "{err}"
    );
}

#[test]
fn status_lists_local_calendars_with_their_counts() {
    let dir = tempfile::tempdir().unwrap();
    let out = almanac(
        dir.path(),
        &["import", &fixture("recurring.ics"), "--calendar", "Mine"],
    );
    assert!(out.status.success(), "{}", text(&out.stderr));
    let out = almanac(dir.path(), &["status", "--json"]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let mine = v
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["calendar"] == "Mine")
        .expect("the calendar is listed");
    assert_eq!(mine["kind"], "local");
    assert!(mine["items"].as_i64().unwrap() > 0);
    assert_eq!(mine["pending"], 0);
    let out = almanac(dir.path(), &["status"]);
    assert!(
        text(&out.stdout).contains("local / Mine"),
        "{}",
        text(&out.stdout)
    );
}

#[test]
fn json_escapes_c1_controls_and_bidi_overrides_and_text_strips_them() {
    let dir = tempfile::tempdir().unwrap();
    let ics = dir.path().join("tricky.ics");
    std::fs::write(
        &ics,
        "BEGIN:VCALENDAR\r\nBEGIN:VEVENT\r\nUID:t\r\nDTSTART:20261123T090000Z\r\n\
         DTEND:20261123T100000Z\r\nSUMMARY:pay\u{9b}31m\u{202e}gpj.exe\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n",
    )
    .unwrap();
    let ics = ics.to_str().unwrap();
    let window = ["--from", "2026-11-23", "--to", "2026-11-23", "--tz", "UTC"];
    let json = almanac(
        dir.path(),
        &[&["agenda", "--json", "--ics", ics][..], &window].concat(),
    );
    let raw = text(&json.stdout);
    assert!(json.status.success(), "{}", text(&json.stderr));
    assert!(
        !raw.contains('\u{9b}') && !raw.contains('\u{202e}'),
        "{raw}"
    );
    assert!(raw.contains(r#""pay\u009b31m\u202egpj.exe""#), "{raw}");
    let back: serde_json::Value = serde_json::from_str(&raw).expect("valid JSON");
    assert_eq!(back[0]["summary"], "pay\u{9b}31m\u{202e}gpj.exe");

    let plain = almanac(
        dir.path(),
        &[&["agenda", "--ics", ics][..], &window].concat(),
    );
    assert!(text(&plain.stdout).contains("09:00–10:00  pay31mgpj.exe"));

    // Every --json command goes through the same writer: a calendar name in `status --json`.
    let imported = almanac(dir.path(), &["import", ics, "--calendar", "Work\u{202e}"]);
    assert!(imported.status.success(), "{}", text(&imported.stderr));
    let status = text(&almanac(dir.path(), &["status", "--json"]).stdout);
    assert!(
        status.contains(r"Work\u202e") && !status.contains('\u{202e}'),
        "{status}"
    );
}

#[test]
fn agenda_for_a_calendar_that_does_not_exist_is_a_usage_error() {
    let dir = tempfile::tempdir().unwrap();
    let out = almanac(
        dir.path(),
        &["import", &fixture("recurring.ics"), "--calendar", "team"],
    );
    assert!(out.status.success(), "{}", text(&out.stderr));
    let out = almanac(dir.path(), &["agenda", "--calendar", "Nope"]);
    assert_eq!(out.status.code(), Some(2));
    let err = text(&out.stderr);
    assert!(
        err.contains("no calendar named 'Nope'") && err.contains("team"),
        "{err}"
    );
    assert!(text(&out.stdout).is_empty());
    let out = almanac(dir.path(), &["agenda", "--calendar", "Nope", "--json"]);
    assert_eq!(out.status.code(), Some(2));
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).expect("JSON even on failure");
    assert!(v["error"].as_str().unwrap().contains("'Nope'"), "{v}");
}

#[test]
fn every_json_command_prints_json_when_it_fails() {
    let dir = tempfile::tempdir().unwrap();
    let cases: &[(&[&str], i32, &str)] = &[
        (&["sync", "--json"], 2, "no accounts to sync"),
        (&["agenda", "--json", "--tz", "Mars/Base"], 2, "Mars/Base"),
        (&["agenda", "--json", "--from", "someday"], 2, "someday"),
        (&["status", "--json", "--nonsense"], 2, "--nonsense"),
    ];
    for (args, code, says) in cases {
        let out = almanac(dir.path(), args);
        assert_eq!(out.status.code(), Some(*code), "{args:?}");
        let v: serde_json::Value = serde_json::from_slice(&out.stdout)
            .unwrap_or_else(|e| panic!("{args:?}: not JSON ({e}): {}", text(&out.stdout)));
        let error = v["error"].as_str().expect("an error field");
        assert!(error.contains(says), "{args:?}: {error}");
        assert!(
            text(&out.stderr).contains(says),
            "{args:?}: the message is on stderr too"
        );
    }
}

#[test]
fn help_says_what_syncs_today_and_shows_an_account() {
    let dir = tempfile::tempdir().unwrap();
    let out = almanac(dir.path(), &["--help"]);
    assert!(out.status.success());
    let help = text(&out.stdout);
    let flowing = help.split_whitespace().collect::<Vec<_>>().join(" ");
    assert!(!flowing.contains("not synced yet"), "{help}");
    assert!(
        flowing.contains("Microsoft 365 and Outlook through Microsoft Graph"),
        "{help}"
    );
    assert!(help.contains("Sync works with CalDAV servers"), "{help}");
    for kind in ["caldav", "google", "graph", "ics"] {
        assert!(help.contains(&format!("kind = \"{kind}\"")), "{help}");
    }
    assert!(help.contains("almanac login NAME"), "{help}");
}

#[test]
fn a_file_with_a_byte_order_mark_imports_its_items_as_written() {
    let dir = tempfile::tempdir().unwrap();
    let plain = fixture("mixed_exports.ics");
    let marked = dir.path().join("marked.ics");
    let source = std::fs::read_to_string(&plain).unwrap();
    std::fs::write(&marked, format!("\u{feff}{source}")).unwrap();
    for (file, calendar) in [
        (plain.as_str(), "Plain"),
        (marked.to_str().unwrap(), "Marked"),
    ] {
        let out = almanac(dir.path(), &["import", file, "--calendar", calendar]);
        assert!(out.status.success(), "{}", text(&out.stderr));
    }
    let export = |calendar| text(&almanac(dir.path(), &["export", "--calendar", calendar]).stdout);
    assert!(export("Plain").contains("Apple event in a custom zone"));
    assert_eq!(export("Marked"), export("Plain"));
}

/// A series too dense to list in full for the days asked (a rule every minute, COUNT counted from
/// years back) is bounded, and says so: a note on stderr, never a silent gap or a stall.
#[test]
fn a_series_too_dense_to_list_says_it_is_truncated() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("dense.ics");
    std::fs::write(
        &file,
        "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nBEGIN:VEVENT\r\nUID:dense\r\nDTSTAMP:20200101T000000Z\r\n\
         DTSTART:20200101T000000Z\r\nDURATION:PT1M\r\nRRULE:FREQ=MINUTELY;COUNT=9999999\r\n\
         SUMMARY:Every minute\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n",
    )
    .unwrap();
    let out = almanac(
        dir.path(),
        &["import", &file.display().to_string(), "--calendar", "home"],
    );
    assert!(out.status.success(), "{}", text(&out.stderr));
    let out = almanac(
        dir.path(),
        &[
            "agenda",
            "--json",
            "--from",
            "2026-11-23",
            "--to",
            "2026-11-29",
            "--tz",
            "UTC",
        ],
    );
    assert!(out.status.success(), "{}", text(&out.stderr));
    let err = text(&out.stderr);
    assert!(
        err.contains("'Every minute' cannot be listed in full") && err.contains("series truncated"),
        "{err}"
    );
    let list: serde_json::Value =
        serde_json::from_slice(&out.stdout).expect("still the JSON array");
    assert!(list.is_array());
}
