//! The real binary in a real terminal: a private tmux server (its own socket, so the person's tmux
//! is never touched) with one session, driven by keys and read back from the screen.
#![allow(dead_code)]

use std::process::Command;
use std::time::{Duration, Instant};

/// One private tmux server and its session; the server is killed when this is dropped.
pub struct Tmux {
    socket: String,
    pub session: &'static str,
}

impl Tmux {
    /// Starts `cmd` (a shell command line) in a `cols` x `rows` session of a new private server
    /// named after `name` and this process, with no escape delay (an Escape then a key must not
    /// arrive as Alt+key).
    pub fn start(name: &str, session: &'static str, cols: u16, rows: u16, cmd: &str) -> Tmux {
        let tmux = Tmux {
            socket: format!("almanac-{name}-{}", std::process::id()),
            session,
        };
        let (cols, rows) = (cols.to_string(), rows.to_string());
        tmux.run(&[
            "-f",
            "/dev/null",
            "new-session",
            "-d",
            "-s",
            session,
            "-x",
            &cols,
            "-y",
            &rows,
            cmd,
        ]);
        tmux.run(&["set-option", "-g", "escape-time", "0"]);
        tmux
    }

    /// Any tmux command on this server; its standard output.
    pub fn run(&self, args: &[&str]) -> String {
        let out = Command::new("tmux")
            .arg("-L")
            .arg(&self.socket)
            .args(args)
            .output()
            .expect("tmux runs");
        String::from_utf8_lossy(&out.stdout).into_owned()
    }

    pub fn screen(&self) -> String {
        self.run(&["capture-pane", "-p", "-t", self.session])
    }

    pub fn keys(&self, keys: &[&str]) {
        for k in keys {
            self.run(&["send-keys", "-t", self.session, k]);
        }
    }

    /// Waits until `ok` holds, or fails naming `what`, with the last screen.
    pub fn wait_until(&self, what: &str, ok: impl Fn() -> bool) {
        self.wait_for(what, |_| ok());
    }

    /// Waits until the screen satisfies `ok`, and returns that screen.
    pub fn wait_for(&self, what: &str, ok: impl Fn(&str) -> bool) -> String {
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

    pub fn wait_text(&self, text: &str) -> String {
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

/// Whether tmux is installed; under CI=true its absence fails the test instead of skipping it.
pub fn tmux_available() -> bool {
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
