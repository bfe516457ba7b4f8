//! `almanac calendars` (list, rename, delete), what `import` creates and what `export` writes,
//! through the real binary.

use std::path::PathBuf;
use std::process::{Command, Output};

use almanac::emulator::caldav::CalDavEmulator;

struct Env {
    dir: tempfile::TempDir,
    config: PathBuf,
}

impl Env {
    fn new(config: &str) -> Env {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("config.toml");
        std::fs::write(&path, config).unwrap();
        Env { dir, config: path }
    }

    fn run(&self, args: &[&str]) -> Output {
        Command::new(env!("CARGO_BIN_EXE_almanac"))
            .arg("--config")
            .arg(&self.config)
            .arg("--data-dir")
            .arg(self.dir.path().join("data"))
            .args(args)
            .env("TZ", "UTC")
            .env_remove("ALMANAC_TODAY")
            .output()
            .expect("the binary runs")
    }

    fn ok(&self, args: &[&str]) -> String {
        let out = self.run(args);
        assert!(
            out.status.success(),
            "{args:?}: {}{}",
            text(&out.stdout),
            text(&out.stderr)
        );
        text(&out.stdout)
    }

    /// Writes `ics` to a file and imports it into `calendar`.
    fn import(&self, file: &str, ics: &str, calendar: &str) -> Output {
        let path = self.dir.path().join(file);
        std::fs::write(&path, ics).unwrap();
        self.run(&["import", path.to_str().unwrap(), "--calendar", calendar])
    }

    fn calendars(&self) -> Vec<serde_json::Value> {
        let out = self.ok(&["calendars", "--json"]);
        serde_json::from_str::<serde_json::Value>(&out)
            .expect("calendars --json prints JSON")
            .as_array()
            .expect("an array")
            .clone()
    }

    fn names(&self) -> Vec<String> {
        self.calendars()
            .iter()
            .map(|c| c["name"].as_str().unwrap().to_string())
            .collect()
    }
}

fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

fn events(uids: &[&str]) -> String {
    let mut out = String::from("BEGIN:VCALENDAR\r\nVERSION:2.0\r\n");
    for uid in uids {
        out += &format!(
            "BEGIN:VEVENT\r\nUID:{uid}\r\nDTSTAMP:20260101T000000Z\r\nDTSTART:20261110T100000Z\r\n\
             DTEND:20261110T110000Z\r\nSUMMARY:{uid}\r\nEND:VEVENT\r\n"
        );
    }
    out + "END:VCALENDAR\r\n"
}

#[test]
fn local_calendars_are_listed_renamed_and_deleted_with_yes_when_they_hold_events() {
    let env = Env::new("");
    assert!(
        env.import("a.ics", &events(&["a1", "a2"]), "Trips")
            .status
            .success()
    );
    let list = env.calendars();
    let trips = list.iter().find(|c| c["name"] == "Trips").expect("listed");
    assert_eq!(trips["kind"], "local");
    assert_eq!(trips["account"], serde_json::Value::Null);
    assert_eq!(trips["events"], 2);
    assert_eq!(trips["local"], true);
    assert_eq!(trips["read_only"], false);
    let listing = env.ok(&["calendars"]);
    assert!(
        listing
            .lines()
            .any(|l| l.starts_with("local / Trips") && l.contains("2 events")),
        "{listing}"
    );

    env.ok(&["calendars", "rename", "Trips", "Travel"]);
    assert!(env.names().contains(&"Travel".to_string()));
    assert!(!env.names().contains(&"Trips".to_string()));
    let out = env.run(&[
        "agenda",
        "--json",
        "--from",
        "2026-11-10",
        "--to",
        "2026-11-10",
    ]);
    assert!(
        text(&out.stdout).contains("\"Travel\""),
        "events follow the new name"
    );

    let out = env.run(&["calendars", "delete", "Travel"]);
    assert_eq!(out.status.code(), Some(2));
    let err = text(&out.stderr);
    assert!(err.contains("2 events") && err.contains("--yes"), "{err}");
    assert!(
        env.names().contains(&"Travel".to_string()),
        "nothing deleted"
    );
    env.ok(&["calendars", "delete", "Travel", "--yes"]);
    assert!(!env.names().contains(&"Travel".to_string()));

    for (args, says) in [
        (
            &["calendars", "rename", "Nope", "X"][..],
            "no calendar named 'Nope'",
        ),
        (
            &["calendars", "delete", "Nope"][..],
            "no calendar named 'Nope'",
        ),
    ] {
        let out = env.run(args);
        assert_eq!(out.status.code(), Some(2), "{args:?}");
        assert!(text(&out.stderr).contains(says), "{}", text(&out.stderr));
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_servers_calendar_is_listed_but_renamed_and_deleted_only_on_its_server() {
    let emu = CalDavEmulator::start("alice", "pw").await.unwrap();
    emu.add_calendar("work", "Work", None);
    let env = Env::new(&format!(
        "[[account]]\nname = \"emu\"\nkind = \"caldav\"\nurl = \"{}\"\nusername = \"alice\"\npassword = {{ value = \"pw\" }}\n",
        emu.base_url()
    ));
    tokio::task::block_in_place(|| {
        env.ok(&["sync"]);
        let list = env.calendars();
        let work = list.iter().find(|c| c["name"] == "Work").expect("listed");
        assert_eq!(
            (&work["account"], &work["kind"]),
            (&"emu".into(), &"caldav".into())
        );
        assert_eq!(work["local"], false);
        for args in [
            &["calendars", "rename", "Work", "Job"][..],
            &["calendars", "delete", "Work", "--yes"][..],
        ] {
            let out = env.run(args);
            assert_eq!(out.status.code(), Some(2), "{args:?}");
            let err = text(&out.stderr);
            assert!(err.contains("managed by its server"), "{err}");
            assert_eq!(err.lines().count(), 1, "{err}");
        }
        assert!(env.names().contains(&"Work".to_string()));
    });
}

#[test]
fn an_import_that_reads_nothing_creates_no_calendar() {
    let env = Env::new("");
    for (file, ics) in [
        (
            "empty.ics",
            "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nEND:VCALENDAR\r\n",
        ),
        ("nothing.ics", ""),
    ] {
        let out = env.import(file, ics, "Ghost");
        assert_eq!(out.status.code(), Some(1), "{file}");
        assert!(
            text(&out.stderr).contains("nothing could be read"),
            "{}",
            text(&out.stderr)
        );
        let status = env.ok(&["status", "--json"]);
        assert!(!status.contains("Ghost"), "{file}: {status}");
    }
}

#[test]
fn export_writes_crlf_throughout_even_for_an_item_imported_with_lf() {
    let env = Env::new("");
    let lf = events(&["lf-1"]).replace("\r\n", "\n").replace(
        "SUMMARY:lf-1\n",
        "SUMMARY:a long summary folded\n  across two lines\n",
    );
    assert!(env.import("lf.ics", &lf, "Mixed").status.success());
    assert!(
        env.import("crlf.ics", &events(&["crlf-1"]), "Mixed")
            .status
            .success()
    );
    let out = env.ok(&["export", "--calendar", "Mixed"]);
    assert!(
        out.contains("UID:lf-1\r\n") && out.contains("UID:crlf-1\r\n"),
        "{out:?}"
    );
    assert!(
        out.contains("folded\r\n  across"),
        "a folded line stays folded: {out:?}"
    );
    let bare = out
        .match_indices('\n')
        .filter(|(i, _)| !out[..*i].ends_with('\r'))
        .count();
    assert_eq!(bare, 0, "every line ends in CRLF: {out:?}");
    assert!(!out.contains("\r\r"), "{out:?}");
}
