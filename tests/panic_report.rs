//! A panic anywhere in the TUI (the main loop, the input thread, the loader thread, a tokio task) ends
//! the program with the terminal given back, one line on the screen and the backtrace in the log.
//! Driven through the real binary in tmux; `ALMANAC_TEST_PANIC` picks the part that panics.

mod support;

use std::path::Path;

use support::tmux::{Tmux, tmux_available};

/// Starts almanac in tmux with `site` set to panic, runs `trigger` once the month is on screen, and
/// checks what the person is left with once the program has ended.
fn panic_leaves_a_usable_terminal(site: &str, config: Option<&Path>, trigger: &[&str]) {
    if !tmux_available() {
        return;
    }
    let data = tempfile::tempdir().unwrap();
    let after = data.path().join("after");
    let config = config.map_or(String::new(), |c| format!("ALMANAC_CONFIG={}", c.display()));
    // Once almanac ends, the shell records its exit status and the terminal's modes.
    let cmd = format!(
        "env ALMANAC_DATA_DIR={data} XDG_CONFIG_HOME={data}/cfg {config} ALMANAC_TEST_PANIC={site} \
         ALMANAC_TODAY=2026-11-23 TZ=UTC TERM=xterm-256color {bin}; s=$?; stty -a > {after}.stty; \
         echo $s > {after}; sleep 30",
        data = data.path().display(),
        bin = env!("CARGO_BIN_EXE_almanac"),
        after = after.display(),
    );
    let tmux = Tmux::start(&format!("panic-{site}"), "panic", 100, 30, &cmd);
    tmux.wait_text("November 2026");
    let modes = || {
        tmux.run(&[
            "display-message",
            "-p",
            "-t",
            "panic",
            "#{alternate_on} #{mouse_any_flag}",
        ])
    };
    assert_eq!(
        modes().trim(),
        "1 1",
        "the TUI holds the screen and the mouse"
    );
    tmux.keys(trigger);

    tmux.wait_until("the program to end", || after.exists());
    tmux.wait_until("the exit status", || {
        std::fs::read_to_string(&after).is_ok_and(|s| s.ends_with('\n'))
    });
    assert_eq!(std::fs::read_to_string(&after).unwrap().trim(), "101");
    let stty = std::fs::read_to_string(after.with_extension("stty")).unwrap();
    let flags: Vec<&str> = stty.split([' ', ';', '\n']).collect();
    assert!(
        flags.contains(&"icanon") && flags.contains(&"echo"),
        "the terminal is left raw: {stty}"
    );
    assert_eq!(
        modes().trim(),
        "0 0",
        "the alternate screen and mouse capture are left"
    );

    let log = data.path().join("log/almanac.log");
    let line = format!(
        "almanac hit a bug and stopped: test panic in the {site}; details in {}",
        log.display()
    );
    let screen = tmux.screen();
    let shown: Vec<&str> = screen.lines().filter(|l| !l.trim().is_empty()).collect();
    assert_eq!(shown, [line.as_str()], "one line, nothing else: {screen}");
    let logged = std::fs::read_to_string(&log).unwrap();
    assert!(
        logged.contains("panic in thread") && logged.contains("test panic in the"),
        "{logged}"
    );
    assert!(logged.contains("backtrace:"), "{logged}");
}

#[test]
fn a_panic_in_the_main_loop_gives_the_terminal_back() {
    panic_leaves_a_usable_terminal("main", None, &["x"]);
}

#[test]
fn a_panic_in_the_input_thread_ends_the_program_and_gives_the_terminal_back() {
    panic_leaves_a_usable_terminal("input", None, &["x"]);
}

#[test]
fn a_panic_in_the_loader_thread_ends_the_program_and_gives_the_terminal_back() {
    panic_leaves_a_usable_terminal("loader", None, &["n"]);
}

#[test]
fn a_panic_in_a_sync_task_ends_the_program_and_gives_the_terminal_back() {
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
    emu.add_calendar("work", "Work", None);
    // Slow replies: the first sync event comes after the month is on screen.
    emu.set_faults(almanac::emulator::caldav::Faults {
        delay_ms: 1000,
        ..Default::default()
    });
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("config.toml");
    std::fs::write(
        &config,
        format!(
            "[[account]]\nname = \"emu\"\nkind = \"caldav\"\nurl = \"{}\"\nusername = \"alice\"\n\
             password = {{ value = \"pw\" }}\nsync_every = \"1h\"\n",
            emu.base_url()
        ),
    )
    .unwrap();
    // The first sync's events reach the task that forwards them to the UI.
    panic_leaves_a_usable_terminal("task", Some(&config), &[]);
    emu.shutdown();
}
