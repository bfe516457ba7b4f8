//! End to end: the real binary in a real terminal (tmux), driven by keys, read back from the screen.

use std::process::Command;
use std::time::{Duration, Instant};

struct Tmux {
    socket: String,
}

impl Tmux {
    fn run(&self, args: &[&str]) -> String {
        let out = Command::new("tmux")
            .arg("-L")
            .arg(&self.socket)
            .args(args)
            .output()
            .expect("tmux runs");
        String::from_utf8_lossy(&out.stdout).into_owned()
    }

    fn screen(&self) -> String {
        self.run(&["capture-pane", "-p", "-t", "e2e"])
    }

    fn keys(&self, keys: &[&str]) {
        for k in keys {
            self.run(&["send-keys", "-t", "e2e", k]);
        }
    }

    /// Waits until the screen satisfies `ok`, or fails with the last screen.
    fn wait_for(&self, what: &str, ok: impl Fn(&str) -> bool) -> String {
        let deadline = Instant::now() + Duration::from_secs(15);
        loop {
            let screen = self.screen();
            if ok(&screen) {
                return screen;
            }
            assert!(
                Instant::now() < deadline,
                "timed out waiting for {what}; screen:\n{screen}"
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    fn wait_text(&self, text: &str) -> String {
        self.wait_for(text, |s| s.contains(text))
    }
}

impl Drop for Tmux {
    fn drop(&mut self) {
        let _ = Command::new("tmux")
            .arg("-L")
            .arg(&self.socket)
            .arg("kill-server")
            .output();
    }
}

fn tmux_available() -> bool {
    let found = Command::new("tmux")
        .arg("-V")
        .output()
        .is_ok_and(|o| o.status.success());
    if !found {
        assert!(
            std::env::var("CI").as_deref() != Ok("true"),
            "tmux is required under CI=true"
        );
        eprintln!("skipping: tmux is not installed");
    }
    found
}

#[test]
fn browse_the_sample_month_with_keys_in_a_real_terminal() {
    if !tmux_available() {
        return;
    }
    let data = tempfile::tempdir().unwrap();
    let tmux = Tmux {
        socket: format!("almanac-e2e-{}", std::process::id()),
    };
    let cmd = format!(
        "env ALMANAC_DATA_DIR={} XDG_CONFIG_HOME={} ALMANAC_TODAY=2026-11-23 TZ=Europe/Berlin TERM=xterm-256color {}; sleep 30",
        data.path().display(),
        data.path().join("cfg").display(),
        env!("CARGO_BIN_EXE_almanac")
    );
    tmux.run(&[
        "-f",
        "/dev/null",
        "new-session",
        "-d",
        "-s",
        "e2e",
        "-x",
        "120",
        "-y",
        "40",
        &cmd,
    ]);
    tmux.run(&["set-option", "-g", "escape-time", "0"]);

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
