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

/// Lets a person edit `raw` in `$EDITOR` (else `vi`). `Ok(None)`: the text did not change.
pub fn edit(
    raw: &str,
    item: i64,
    dir: &Path,
    gate: &InputGate,
    terminal: &mut DefaultTerminal,
) -> Result<Option<String>, String> {
    let path = temp_path(dir, item);
    write_private(&path, raw).map_err(|e| format!("cannot write {}: {e}", path.display()))?;
    gate.pause();
    let suspended = suspend();
    let ran = suspended.and_then(|()| run_editor(&path));
    let resumed = resume(terminal);
    gate.resume();
    let edited = std::fs::read_to_string(&path);
    let _ = std::fs::remove_file(&path);
    resumed.map_err(|e| format!("cannot take the terminal back: {e}"))?;
    ran?;
    let edited = edited.map_err(|e| format!("cannot read the edited text: {e}"))?;
    Ok((edited != raw).then_some(edited))
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
