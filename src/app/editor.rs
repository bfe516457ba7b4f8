//! `$EDITOR` on an event's iCalendar text: the terminal is handed to the editor and taken back, the
//! text goes through a private temporary file, and the input thread stays off the keyboard meanwhile.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use crossterm::event::{DisableMouseCapture, EnableMouseCapture};
use crossterm::execute;
use crossterm::terminal::{
    EnterAlternateScreen, LeaveAlternateScreen, disable_raw_mode, enable_raw_mode,
};
use ratatui::DefaultTerminal;

/// Stops the input thread from reading while another program owns the terminal: a key typed in the
/// editor must reach the editor.
#[derive(Debug, Clone, Default)]
pub struct InputGate {
    paused: Arc<AtomicBool>,
    /// Set by the input thread once it saw `paused` and stopped reading.
    idle: Arc<AtomicBool>,
}

impl InputGate {
    /// True while the input thread must not read; it acknowledges by going idle.
    pub fn hold(&self) -> bool {
        let paused = self.paused.load(Ordering::SeqCst);
        self.idle.store(paused, Ordering::SeqCst);
        paused
    }

    fn pause(&self) {
        self.paused.store(true, Ordering::SeqCst);
        // The input thread polls in short steps; it goes idle within one.
        let deadline = Instant::now() + Duration::from_millis(500);
        while !self.idle.load(Ordering::SeqCst) && Instant::now() < deadline {
            std::thread::sleep(Duration::from_millis(5));
        }
    }

    fn resume(&self) {
        self.idle.store(false, Ordering::SeqCst);
        self.paused.store(false, Ordering::SeqCst);
    }
}

/// Lets a person edit `raw` in `$EDITOR` (else `vi`), checked by `check` on return: text that does
/// not pass comes back in the editor with the problem as a comment at its end (the lines keep
/// their numbers), until it is saved clean or left unchanged on purpose. `Ok(None)`: nothing to
/// save (unchanged, or given up).
pub fn edit(
    raw: &str,
    item: i64,
    dir: &Path,
    gate: &InputGate,
    terminal: &mut DefaultTerminal,
    check: impl Fn(&str) -> Result<(), String>,
) -> Result<Option<String>, String> {
    let path = temp_path(dir, item);
    gate.pause();
    let suspended = suspend();
    let outcome = suspended.and_then(|()| edit_until_clean(raw, &path, check, run_editor));
    let _ = std::fs::remove_file(&path);
    let resumed = resume(terminal);
    gate.resume();
    resumed.map_err(|e| format!("cannot take the terminal back: {e}"))?;
    outcome
}

/// Marks the lines almanac adds to the text; they go again before the text is read.
const COMMENT: &str = "# almanac:";

/// The loop of [`edit`], with the editor as a parameter (tests drive it without a terminal).
fn edit_until_clean(
    raw: &str,
    path: &Path,
    check: impl Fn(&str) -> Result<(), String>,
    mut editor: impl FnMut(&Path) -> Result<(), String>,
) -> Result<Option<String>, String> {
    let mut text = raw.to_string();
    let mut problem: Option<String> = None;
    loop {
        let shown = match &problem {
            None => text.clone(),
            Some(p) => with_comment(&text, p),
        };
        write_private(path, &shown).map_err(|e| format!("cannot write {}: {e}", path.display()))?;
        if let Err(e) = editor(path) {
            // `:cq` and the like: given up on purpose.
            return match problem {
                None => Err(e),
                Some(_) => Ok(None),
            };
        }
        let edited = std::fs::read_to_string(path)
            .map_err(|e| format!("cannot read the edited text: {e}"))?;
        let edited = without_comment(&edited);
        if edited == text {
            // Saved as it was shown: nothing changed, or a problem left as it stood (given up).
            return Ok(None);
        }
        match check(&edited) {
            Ok(()) => return Ok((edited != raw).then_some(edited)),
            Err(p) => {
                text = edited;
                problem = Some(p);
            }
        }
    }
}

/// `text` with the problem as comment lines at its end, so every line keeps its number.
fn with_comment(text: &str, problem: &str) -> String {
    let eol = if text.contains("\r\n") { "\r\n" } else { "\n" };
    let mut out = text.to_string();
    if !out.ends_with('\n') {
        out.push_str(eol);
    }
    for line in [
        format!("{COMMENT} not saved: {problem}"),
        format!("{COMMENT} fix it and save, or quit without saving to give up."),
    ] {
        out.push_str(&line.replace(['\r', '\n'], " "));
        out.push_str(eol);
    }
    out
}

/// The text without the lines [`with_comment`] added.
fn without_comment(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for line in text.split_inclusive('\n') {
        if !line.trim_start().starts_with(COMMENT) {
            out.push_str(line);
        }
    }
    out
}

/// In the data directory when it exists (it is the person's own), else the system's temp dir.
fn temp_path(dir: &Path, item: i64) -> PathBuf {
    let base = if dir.is_dir() {
        dir.to_path_buf()
    } else {
        std::env::temp_dir()
    };
    base.join(format!("almanac-edit-{}-{item}.ics", std::process::id()))
}

/// Writes `text` to a new file only its owner can read (events can be private).
fn write_private(path: &Path, text: &str) -> std::io::Result<()> {
    let _ = std::fs::remove_file(path);
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    let mut file = options.open(path)?;
    file.write_all(text.as_bytes())?;
    file.sync_all()
}

fn suspend() -> Result<(), String> {
    execute!(
        std::io::stdout(),
        DisableMouseCapture,
        LeaveAlternateScreen,
        crossterm::cursor::Show
    )
    .and_then(|()| disable_raw_mode())
    .map_err(|e| format!("cannot hand the terminal over: {e}"))
}

fn resume(terminal: &mut DefaultTerminal) -> std::io::Result<()> {
    enable_raw_mode()?;
    execute!(std::io::stdout(), EnterAlternateScreen, EnableMouseCapture)?;
    // The editor drew over everything: the next frame is drawn whole.
    terminal.clear()
}

/// `$EDITOR` may carry arguments (`code --wait`); the file goes last.
fn run_editor(path: &Path) -> Result<(), String> {
    let editor = std::env::var("EDITOR")
        .ok()
        .filter(|e| !e.trim().is_empty())
        .unwrap_or_else(|| "vi".into());
    let mut words = editor.split_whitespace();
    let program = words.next().unwrap_or("vi");
    let status = std::process::Command::new(program)
        .args(words)
        .arg(path)
        .status()
        .map_err(|e| format!("cannot run {program}: {e}"))?;
    if status.success() {
        Ok(())
    } else {
        Err(format!("{program} exited with {status}; nothing saved"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const GOOD: &str = "BEGIN:VCALENDAR\r\nBEGIN:VEVENT\r\nUID:a\r\nDTSTART:20261124T100000Z\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n";

    fn check(text: &str) -> Result<(), String> {
        match text.lines().position(|l| l.contains("bad")) {
            Some(i) => Err(format!("line {}: cannot read this", i + 1)),
            None => Ok(()),
        }
    }

    /// An editor that writes each of `texts` in turn (what the person typed each time) and
    /// records what it was shown.
    fn typist(
        texts: Vec<Option<String>>,
        seen: &mut Vec<String>,
    ) -> impl FnMut(&Path) -> Result<(), String> + '_ {
        let mut texts = texts.into_iter();
        move |path: &Path| {
            seen.push(std::fs::read_to_string(path).unwrap());
            match texts.next().flatten() {
                Some(t) => {
                    std::fs::write(path, t).unwrap();
                    Ok(())
                }
                None => Err("quit".into()),
            }
        }
    }

    #[test]
    fn a_bad_text_comes_back_with_the_problem_until_it_is_saved_clean() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("e.ics");
        let bad = GOOD.replace("UID:a", "UID:a\r\nbad line");
        let fixed = GOOD.replace("UID:a", "UID:a\r\nSUMMARY:fixed");
        let mut seen = Vec::new();
        let got = edit_until_clean(
            GOOD,
            &path,
            check,
            typist(vec![Some(bad.clone()), Some(fixed.clone())], &mut seen),
        );
        assert_eq!(got, Ok(Some(fixed)));
        assert_eq!(seen.len(), 2);
        // The second time the text is what was typed, lines in place, the problem at the end.
        assert!(seen[1].starts_with(&bad), "{}", seen[1]);
        assert!(
            seen[1].contains("# almanac: not saved: line 4: cannot read this"),
            "{}",
            seen[1]
        );
    }

    #[test]
    fn a_bad_text_left_as_it_stood_or_quit_is_given_up() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("e.ics");
        let bad = GOOD.replace("UID:a", "UID:a\r\nbad line");
        let mut seen = Vec::new();
        // Saved again as shown (the comment left in): given up, nothing saved.
        let again = with_comment(&bad, "line 4: cannot read this");
        let got = edit_until_clean(
            GOOD,
            &path,
            check,
            typist(vec![Some(bad.clone()), Some(again)], &mut seen),
        );
        assert_eq!(got, Ok(None));
        let mut seen = Vec::new();
        let got = edit_until_clean(GOOD, &path, check, typist(vec![Some(bad), None], &mut seen));
        assert_eq!(got, Ok(None));
        // Unchanged at once: nothing to save.
        let mut seen = Vec::new();
        let got = edit_until_clean(
            GOOD,
            &path,
            check,
            typist(vec![Some(GOOD.into())], &mut seen),
        );
        assert_eq!(got, Ok(None));
    }
}
