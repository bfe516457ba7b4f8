//! End to end: the real binary in a real terminal (tmux), driven by keys, read back from the screen.

mod support;

use std::process::Command;

use support::tmux::{Tmux, tmux_available};

#[test]
fn browse_the_sample_month_with_keys_in_a_real_terminal() {
    if !tmux_available() {
        return;
    }
    let data = tempfile::tempdir().unwrap();
    let cmd = format!(
        "env ALMANAC_DATA_DIR={} XDG_CONFIG_HOME={} ALMANAC_TODAY=2026-11-23 TZ=Europe/Berlin TERM=xterm-256color {}; sleep 30",
        data.path().display(),
        data.path().join("cfg").display(),
        env!("CARGO_BIN_EXE_almanac")
    );
    let tmux = Tmux::start("e2e", "e2e", 120, 40, &cmd);

    let first = tmux.wait_text("November 2026");
    assert!(first.contains("SAMPLE DATA"), "{first}");
    assert!(
        first.contains("Monday 23 November 2026"),
        "side pane shows today: {first}"
    );
    assert!(first.contains("Standup"), "{first}");

    tmux.keys(&["n"]);
    tmux.wait_text("December 2026");
    tmux.keys(&["g", "2027-03-15", "Enter"]);
    let march = tmux.wait_text("March 2027");
    assert!(march.contains("Monday 15 March 2027"), "{march}");
    tmux.keys(&["t"]);
    tmux.wait_text("November 2026");

    tmux.keys(&["?"]);
    let help = tmux.wait_text("Keys");
    assert!(help.contains("next month"), "{help}");
    tmux.keys(&["Escape"]);
    tmux.wait_for("help to close", |s| !s.contains("next month"));

    tmux.keys(&["Tab", "Enter"]);
    let detail = tmux.wait_text("Event");
    assert!(
        detail.contains("Design review: month view") && detail.contains("Room 4.2"),
        "{detail}"
    );
    tmux.keys(&["Escape", "Right"]);
    tmux.wait_text("Tuesday 24 November 2026");

    // Shrinking below 80x24 turns the grid into a day list; growing brings it back.
    tmux.run(&["resize-window", "-t", "e2e", "-x", "70", "-y", "20"]);
    let small = tmux.wait_for("the day list", |s| {
        s.contains("Tue 24 Nov") && !s.contains('│')
    });
    assert!(small.contains("Release 2.4"), "{small}");
    tmux.run(&["resize-window", "-t", "e2e", "-x", "120", "-y", "40"]);
    tmux.wait_text("Tuesday 24 November 2026");

    tmux.keys(&["q"]);
    tmux.wait_for("the program to exit", |s| !s.contains("November 2026"));
    let log = std::fs::read_to_string(data.path().join("log/almanac.log")).unwrap();
    assert!(log.contains("first frame drawn"), "{log}");
}

/// `w`, `D`, `A` and `m` switch views in the real binary, and the week holds at 40x12; `[ui] view`
/// picks the view at start.
#[test]
fn switch_between_month_week_day_and_agenda() {
    if !tmux_available() {
        return;
    }
    let data = tempfile::tempdir().unwrap();
    let config = data.path().join("config.toml");
    std::fs::write(&config, "[ui]\nview = \"agenda\"\n").unwrap();
    let cmd = format!(
        "env ALMANAC_DATA_DIR={} ALMANAC_CONFIG={} ALMANAC_TODAY=2026-11-23 TZ=Europe/Berlin TERM=xterm-256color {}; sleep 30",
        data.path().display(),
        config.display(),
        env!("CARGO_BIN_EXE_almanac")
    );
    let tmux = Tmux::start("views", "views", 80, 24, &cmd);
    let agenda = tmux.wait_text("Agenda · November 2026");
    assert!(
        agenda.contains("Monday 23 November 2026 · today"),
        "{agenda}"
    );
    tmux.keys(&["w"]);
    let week = tmux.wait_text("Week 48");
    assert!(week.contains("09:00 │Standup"), "{week}");
    tmux.keys(&["D"]);
    // The whole day, evening included, once its load has been drawn.
    tmux.wait_for("the day view", |s| {
        s.contains("Monday 23 November")
            && !s.contains("Week 48")
            && s.contains("09:00 Standup")
            && s.contains("19:30 Dinner with Lee")
    });
    tmux.keys(&["w"]);
    tmux.wait_text("Week 48");
    tmux.run(&["resize-window", "-t", "views", "-x", "40", "-y", "12"]);
    tmux.wait_text("M 23");
    tmux.run(&["resize-window", "-t", "views", "-x", "80", "-y", "24"]);
    tmux.keys(&["m"]);
    tmux.wait_for("the month", |s| {
        s.contains("November 2026") && s.contains("p ‹ › n")
    });
    tmux.keys(&["q"]);
}

/// What another process writes to the cache (`almanac import` from a shell) reaches the open
/// TUI within a second or two, and the sample badge goes with the sample.
#[test]
fn a_shell_import_reaches_the_open_tui() {
    if !tmux_available() {
        return;
    }
    let data = tempfile::tempdir().unwrap();
    let env = [
        ("ALMANAC_DATA_DIR", data.path().display().to_string()),
        (
            "XDG_CONFIG_HOME",
            data.path().join("cfg").display().to_string(),
        ),
        ("ALMANAC_TODAY", "2026-11-23".to_string()),
        ("TZ", "Europe/Berlin".to_string()),
    ];
    let vars: Vec<String> = env.iter().map(|(k, v)| format!("{k}={v}")).collect();
    let cmd = format!(
        "env {} TERM=xterm-256color {}; sleep 30",
        vars.join(" "),
        env!("CARGO_BIN_EXE_almanac")
    );
    let tmux = Tmux::start("import", "e2e", 120, 40, &cmd);
    let first = tmux.wait_text("November 2026");
    assert!(first.contains("SAMPLE DATA"), "{first}");
    let file = data.path().join("mine.ics");
    std::fs::write(
        &file,
        "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nBEGIN:VEVENT\r\nUID:shell-1\r\nDTSTAMP:20261101T000000Z\r\n\
         DTSTART:20261123T150000Z\r\nDTEND:20261123T160000Z\r\nSUMMARY:From shell\r\n\
         END:VEVENT\r\nEND:VCALENDAR\r\n",
    )
    .unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_almanac"))
        .args(["import", &file.display().to_string(), "--calendar", "Mine"])
        .envs(env.iter().map(|(k, v)| (*k, v.as_str())))
        .output()
        .unwrap();
    assert!(out.status.success(), "{out:?}");
    let after = tmux.wait_text("From shell");
    assert!(!after.contains("SAMPLE DATA"), "{after}");
    tmux.keys(&["q"]);
}

/// The emulator with a "Work" calendar, and almanac in a tmux session with an account on it
/// (synced at start, then hourly). Dropped in field order: the session, then the server.
struct Live {
    tmux: Tmux,
    emu: almanac::emulator::caldav::CalDavEmulator,
    _runtime: tokio::runtime::Runtime,
    _data: tempfile::TempDir,
}

/// Starts [`Live`]; `seed` fills the calendar before almanac starts.
fn live(name: &str, seed: impl FnOnce(&almanac::emulator::caldav::CalDavEmulator)) -> Live {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .unwrap();
    let emu = runtime
        .block_on(almanac::emulator::caldav::CalDavEmulator::start(
            "alice", "pw",
        ))
        .unwrap();
    emu.add_calendar("work", "Work", Some("#4f9dde"));
    seed(&emu);
    let data = tempfile::tempdir().unwrap();
    let config = data.path().join("config.toml");
    std::fs::write(
        &config,
        format!(
            "[[account]]\nname = \"emu\"\nkind = \"caldav\"\nurl = \"{}\"\nusername = \"alice\"\npassword = {{ value = \"pw\" }}\nsync_every = \"1h\"\n",
            emu.base_url()
        ),
    )
    .unwrap();
    let cmd = format!(
        "env ALMANAC_DATA_DIR={} ALMANAC_CONFIG={} ALMANAC_TODAY=2026-11-23 TZ=UTC TERM=xterm-256color {}; sleep 30",
        data.path().display(),
        config.display(),
        env!("CARGO_BIN_EXE_almanac")
    );
    let tmux = Tmux::start(name, "e2e", 140, 40, &cmd);
    Live {
        tmux,
        emu,
        _runtime: runtime,
        _data: data,
    }
}

/// Live sync in a real terminal: the first frame from the cache, then the engine's changes appear
/// while the person browses; `R` resyncs now and the sync pane shows the calendar's state.
#[test]
fn changes_on_the_server_reach_the_screen_live() {
    if !tmux_available() {
        return;
    }
    let event = |uid: &str, summary: &str, start: &str| {
        format!(
            "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//t//EN\r\nBEGIN:VEVENT\r\nUID:{uid}\r\nDTSTAMP:20260101T000000Z\r\nDTSTART:{start}\r\nDURATION:PT1H\r\nSUMMARY:{summary}\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n"
        )
    };
    let session = live("live", |emu| {
        emu.put(
            "work",
            "one.ics",
            &event("one", "Kickoff", "20261123T090000Z"),
        );
    });
    let (tmux, emu) = (&session.tmux, &session.emu);

    // The sync at start brings the first event.
    tmux.wait_text("Kickoff");
    // Changes on the server, then R: added, moved and removed events show up without a restart.
    emu.put(
        "work",
        "two.ics",
        &event("two", "Party", "20261125T170000Z"),
    );
    emu.put(
        "work",
        "one.ics",
        &event("one", "Moved", "20261124T090000Z"),
    );
    tmux.keys(&["R"]);
    let screen = tmux.wait_text("Party");
    tmux.wait_text("Moved");
    assert!(!screen.contains("SAMPLE DATA"), "{screen}");
    emu.delete("work", "two.ics");
    tmux.keys(&["R"]);
    tmux.wait_for("the removal", |s| !s.contains("Party"));

    tmux.keys(&["s"]);
    let pane = tmux.wait_text("emu (caldav)");
    assert!(pane.contains("sync-collection"), "{pane}");
    assert!(pane.contains("Work"), "{pane}");
    tmux.keys(&["Escape", "q"]);
    tmux.wait_for("the program to exit", |s| !s.contains("November 2026"));
    emu.shutdown();
}

/// Editing in a real terminal against the emulator: `a` adds through the form and the event
/// reaches the server; an edit whose server copy changed meanwhile shows in the conflict pane, and
/// `b` keeps both versions on the server.
#[test]
fn an_edit_reaches_the_server_and_a_conflict_is_resolved_in_the_pane() {
    if !tmux_available() {
        return;
    }
    let event = |summary: &str| {
        format!(
            "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//t//EN\r\nBEGIN:VEVENT\r\nUID:one\r\nDTSTAMP:20260101T000000Z\r\nDTSTART:20261123T090000Z\r\nDURATION:PT1H\r\nSUMMARY:{summary}\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n"
        )
    };
    let session = live("edit", |emu| {
        emu.put("work", "one.ics", &event("Kickoff"));
    });
    let (tmux, emu) = (&session.tmux, &session.emu);
    tmux.wait_text("Kickoff");

    // A new event through the form, on the selected day (today).
    tmux.keys(&["a"]);
    tmux.wait_text("New event");
    tmux.keys(&["Review", "Tab", "Tab"]);
    tmux.keys(&[
        "BSpace", "BSpace", "BSpace", "BSpace", "BSpace", "14:00", "Tab",
    ]);
    tmux.keys(&[
        "BSpace", "BSpace", "BSpace", "BSpace", "BSpace", "15:00", "Enter",
    ]);
    tmux.wait_text("Review");
    let pushed = (0..100).any(|_| {
        std::thread::sleep(std::time::Duration::from_millis(50));
        emu.items("work")
            .iter()
            .any(|(_, _, body)| body.contains("SUMMARY:Review"))
    });
    assert!(pushed, "the new event reached the server");

    // The form opens on Kickoff; meanwhile someone else renames it on the server.
    tmux.keys(&["t"]);
    tmux.keys(&["e"]);
    tmux.wait_text("Edit event");
    emu.put("work", "one.ics", &event("Kickoff (theirs)"));
    tmux.keys(&[" (mine)", "Enter"]);
    tmux.wait_text("press c to resolve");
    tmux.keys(&["c"]);
    // The field diff fills in once the conflict's versions are read: wait for it, not the title.
    let pane = tmux.wait_text("Kickoff (theirs)");
    assert!(pane.contains("Conflicts (1)"), "{pane}");
    assert!(pane.contains("Kickoff (mine)"), "{pane}");
    assert!(pane.contains("Kickoff (theirs)"), "{pane}");
    tmux.keys(&["b"]);
    tmux.wait_text("Conflicts (0)");
    let both = (0..100).any(|_| {
        std::thread::sleep(std::time::Duration::from_millis(50));
        let items = emu.items("work");
        items.len() == 3
            && items
                .iter()
                .any(|(_, _, b)| b.contains("SUMMARY:Kickoff (mine)"))
            && items
                .iter()
                .any(|(_, _, b)| b.contains("SUMMARY:Kickoff (theirs)"))
    });
    assert!(both, "both versions on the server: {:?}", emu.items("work"));
    tmux.keys(&["Escape", "q"]);
    tmux.wait_for("the program to exit", |s| !s.contains("November 2026"));
    emu.shutdown();
}

/// Issue 14's daily round in one real terminal: a reminder's banner dismissed, the views
/// switched, a search that jumps to its match, `]` across days, and a calendar hidden from the
/// list, after which its event is gone from the month.
#[test]
fn views_search_jumps_a_hidden_calendar_and_a_dismissed_reminder_in_one_run() {
    if !tmux_available() {
        return;
    }
    let data = tempfile::tempdir().unwrap();
    let cfg = data.path().join("cfg");
    let now = chrono::Utc::now();
    let stamp = |t: chrono::DateTime<chrono::Utc>| t.format("%Y%m%dT%H%M%SZ").to_string();
    let ics = data.path().join("mine.ics");
    std::fs::write(
        &ics,
        format!(
            "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nBEGIN:VEVENT\r\nUID:bank@test\r\n\
             DTSTAMP:20260101T000000Z\r\nSUMMARY:Call the bank\r\nDTSTART:{}\r\nDTEND:{}\r\n\
             BEGIN:VALARM\r\nACTION:DISPLAY\r\nDESCRIPTION:r\r\nTRIGGER:-PT10M\r\nEND:VALARM\r\n\
             END:VEVENT\r\nEND:VCALENDAR\r\n",
            stamp(now + chrono::Duration::minutes(5)),
            stamp(now + chrono::Duration::minutes(35)),
        ),
    )
    .unwrap();
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_almanac"))
        .args(["import", &ics.display().to_string(), "--calendar", "Mine"])
        .env("ALMANAC_DATA_DIR", data.path())
        .env("XDG_CONFIG_HOME", &cfg)
        .env_remove("ALMANAC_CONFIG")
        .output()
        .unwrap();
    assert!(out.status.success(), "{out:?}");
    let cmd = format!(
        "env ALMANAC_DATA_DIR={} XDG_CONFIG_HOME={} TZ=UTC TERM=xterm-256color {}; sleep 30",
        data.path().display(),
        cfg.display(),
        env!("CARGO_BIN_EXE_almanac")
    );
    let tmux = Tmux::start("daily", "daily", 100, 30, &cmd);
    let banner = tmux.wait_text("Call the bank (Mine)");
    assert!(banner.contains("x dismiss"), "{banner}");
    tmux.keys(&["x"]);
    tmux.wait_for("the banner gone", |s| !s.contains("x dismiss"));
    tmux.keys(&["w"]);
    tmux.wait_text("Week ");
    tmux.keys(&["A"]);
    tmux.wait_text("Agenda · ");
    tmux.keys(&["/"]);
    tmux.keys(&["b", "a", "n", "k"]);
    let found = tmux.wait_text("Search · 1/1");
    assert!(found.contains("Call the bank"), "{found}");
    tmux.keys(&["Enter"]);
    tmux.wait_for("the search closed on its match", |s| {
        !s.contains("Search · ") && s.contains("Call the bank")
    });
    tmux.keys(&["m"]);
    tmux.wait_for("the month with the event", |s| {
        s.contains("? help") && !s.contains("Agenda · ") && s.contains("Call th")
    });
    tmux.keys(&["]"]);
    tmux.keys(&["C"]);
    // The list reads the cache first ("reading…"): wait for its rows.
    let list = tmux.wait_for("the calendar list", |s| {
        s.contains("Calendars") && s.contains("Mine")
    });
    let rows: Vec<&str> = list
        .lines()
        .filter(|l| l.contains("[x]") || l.contains("[ ]"))
        .collect();
    let at = rows
        .iter()
        .position(|l| l.contains("Mine"))
        .unwrap_or_else(|| panic!("Mine is listed: {list}"));
    for _ in 0..at {
        tmux.keys(&["Down"]);
    }
    tmux.keys(&["Space"]);
    tmux.wait_text("Mine hidden");
    tmux.keys(&["Escape"]);
    tmux.keys(&["t"]);
    // Loaded again (today's list says it has nothing), and without the hidden event.
    tmux.wait_for("the month without the hidden event", |s| {
        !s.contains("Calendars") && !s.contains("Call th") && s.contains("No events")
    });
    tmux.keys(&["q"]);
}
