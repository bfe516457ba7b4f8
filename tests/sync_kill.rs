//! A `kill -9` of `almanac sync` in the middle of a 10,000-event first sync, then a restart: it
//! resumes, finishes, and the cache is exact, item for item and etag for etag.

use std::process::Command;
use std::time::{Duration, Instant};

use almanac::emulator::caldav::{CalDavEmulator, Faults};

const EVENTS: usize = 10_000;

fn event(i: usize) -> String {
    format!(
        "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//almanac//kill//EN\r\nBEGIN:VEVENT\r\nUID:k{i}\r\n\
         DTSTAMP:20260101T000000Z\r\nDTSTART:2026{:02}{:02}T{:02}0000Z\r\nDURATION:PT1H\r\n\
         SUMMARY:Event {i}\r\nDESCRIPTION:Line one\\nline two of event {i}\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n",
        1 + i % 12,
        1 + i % 28,
        8 + i % 10
    )
}

fn items_in_cache(db: &std::path::Path) -> i64 {
    let Ok(conn) =
        rusqlite::Connection::open_with_flags(db, rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY)
    else {
        return 0;
    };
    conn.query_row("SELECT count(*) FROM items", [], |r| r.get(0))
        .unwrap_or(0)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_killed_first_sync_resumes_and_the_cache_is_exact() {
    let emu = CalDavEmulator::start("alice", "pw").await.unwrap();
    emu.add_calendar("big", "Big", None);
    for i in 0..EVENTS {
        emu.put("big", &format!("k{i}.ics"), &event(i));
    }
    // Slow replies, so the kill lands in the middle of the fetches.
    emu.set_faults(Faults {
        delay_ms: 40,
        ..Faults::default()
    });
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("config.toml");
    std::fs::write(
        &config,
        format!(
            "[[account]]\nname = \"big\"\nkind = \"caldav\"\nurl = \"{}\"\nusername = \"alice\"\npassword = {{ value = \"pw\" }}\n",
            emu.base_url()
        ),
    )
    .unwrap();
    let data = dir.path().join("data");
    let db = data.join("almanac.sqlite3");
    let almanac = || {
        let mut c = Command::new(env!("CARGO_BIN_EXE_almanac"));
        c.arg("--config").arg(&config).arg("--data-dir").arg(&data);
        c
    };

    let mut child = almanac().arg("sync").spawn().unwrap();
    let deadline = Instant::now() + Duration::from_secs(120);
    let mut seen = 0;
    while Instant::now() < deadline {
        seen = items_in_cache(&db);
        if seen >= 1_000 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    child.kill().unwrap(); // SIGKILL
    let _ = child.wait();
    let at_kill = items_in_cache(&db);
    assert!(
        seen >= 1_000,
        "the first sync applied too little in two minutes ({seen})"
    );
    assert!(
        (at_kill as usize) < EVENTS,
        "the kill came too late to test anything ({at_kill} items)"
    );

    emu.set_faults(Faults::default());
    let out = almanac().args(["sync", "--json"]).output().unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let added = report[0]["calendars"][0]["added"].as_u64().unwrap();
    assert_eq!(
        added as usize + at_kill as usize,
        EVENTS,
        "the restart fetched only what was missing: {report}"
    );

    let conn = rusqlite::Connection::open(&db).unwrap();
    let check: String = conn
        .query_row("PRAGMA integrity_check", [], |r| r.get(0))
        .unwrap();
    assert_eq!(check, "ok");
    let mut cached: Vec<(String, String)> = conn
        .prepare("SELECT href, etag FROM items ORDER BY href")
        .unwrap()
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap();
    cached.sort();
    let mut truth: Vec<(String, String)> = emu
        .items("big")
        .into_iter()
        .map(|(h, e, _)| (h, e))
        .collect();
    truth.sort();
    assert_eq!(cached.len(), EVENTS);
    assert_eq!(cached, truth);
    let events: i64 = conn
        .query_row("SELECT count(*) FROM events", [], |r| r.get(0))
        .unwrap();
    assert_eq!(events as usize, EVENTS);
}
