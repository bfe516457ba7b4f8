//! The run loop: reads terminal events and background results as messages, applies them with `update`,
//! performs the returned commands, and draws once per batch when something changed.

use std::collections::VecDeque;
use std::path::PathBuf;
use std::sync::{Mutex, TryLockError};
use std::time::{Duration, Instant};

use chrono::{Local, NaiveDate, Utc};
use crossterm::event::{DisableMouseCapture, EnableMouseCapture, Event};
use crossterm::execute;
use crossterm::terminal::EnterAlternateScreen;
use ratatui::backend::CrosstermBackend;
use ratatui::{DefaultTerminal, Terminal};
use tokio::sync::mpsc;

use super::alarm_clock;
use super::editor::{self, InputGate};
use super::model::Model;
use super::update::{Command, Msg, select, update};
use crate::config::AccountConfig;
use crate::edit::EditRequest;
use crate::store::{Keep, Store, StoreReader};
use crate::sync::SyncEvent;
use crate::sync::runner::{self, SyncCommand};
use crate::ui;

/// What the run loop needs to start.
pub struct Launch {
    pub model: Model,
    pub db: PathBuf,
    /// The data directory (the engine opens its own writer there) and the accounts to sync.
    pub data_dir: PathBuf,
    pub accounts: Vec<AccountConfig>,
    /// When the process started, to log how long the first frame took.
    pub started: Instant,
}

/// True while the TUI holds the terminal (raw mode, the alternate screen, mouse capture). A frame is
/// drawn under this lock, so the panic report gives the terminal back between frames, never under
/// one, and no frame is drawn after it.
static TERMINAL_TAKEN: Mutex<bool> = Mutex::new(false);

/// Gives the terminal back if the TUI holds it: for the panic report, from any thread. Does nothing
/// otherwise, so a headless command's output stays clean.
pub fn restore_terminal() {
    // A panic inside a frame on this very thread holds the lock: then the terminal is restored
    // without it, after a short wait.
    let deadline = Instant::now() + Duration::from_millis(300);
    let mut held = loop {
        match TERMINAL_TAKEN.try_lock() {
            Ok(guard) => break Some(guard),
            Err(TryLockError::Poisoned(p)) => break Some(p.into_inner()),
            Err(TryLockError::WouldBlock) if Instant::now() < deadline => {
                std::thread::sleep(Duration::from_millis(5));
            }
            Err(TryLockError::WouldBlock) => break None,
        }
    };
    let taken = held
        .as_deref_mut()
        .is_none_or(|taken| std::mem::replace(taken, false));
    if taken {
        let _ = execute!(std::io::stdout(), DisableMouseCapture);
        let _ = ratatui::try_restore();
    }
}

/// Takes the terminal: raw mode, the alternate screen, mouse capture. Unlike `ratatui::init` it
/// installs no panic hook: the program's own report restores the terminal.
fn take_terminal() -> std::io::Result<DefaultTerminal> {
    let mut taken = TERMINAL_TAKEN.lock().unwrap_or_else(|p| p.into_inner());
    *taken = true;
    crossterm::terminal::enable_raw_mode()?;
    execute!(std::io::stdout(), EnterAlternateScreen, EnableMouseCapture)?;
    Terminal::new(CrosstermBackend::new(std::io::stdout()))
}

/// Draws a frame while the TUI holds the terminal; after a panic elsewhere gave it back, nothing.
fn draw(terminal: &mut DefaultTerminal, model: &Model) -> std::io::Result<()> {
    let taken = TERMINAL_TAKEN.lock().unwrap_or_else(|p| p.into_inner());
    if *taken {
        terminal.draw(|f| ui::view(model, f))?;
    }
    Ok(())
}

/// Gives the terminal back when the TUI ends.
fn release_terminal() {
    let mut taken = TERMINAL_TAKEN.lock().unwrap_or_else(|p| p.into_inner());
    *taken = false;
    let _ = execute!(std::io::stdout(), DisableMouseCapture);
    ratatui::restore();
}

/// For the tests that pin the panic report: `ALMANAC_TEST_PANIC=main|input|loader|task|reminders`
/// makes that part of the TUI panic at its first piece of work (a key, a key, a load, a sync event,
/// the first look for due reminders).
pub(crate) fn panic_drill(site: &str) {
    if std::env::var("ALMANAC_TEST_PANIC").is_ok_and(|s| s == site) {
        panic!("test panic in the {site}");
    }
}

/// Runs the TUI until the person quits.
pub fn run(launch: Launch) -> std::io::Result<()> {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()?;
    runtime.block_on(run_loop(launch))
}

async fn run_loop(launch: Launch) -> std::io::Result<()> {
    let Launch {
        mut model,
        db,
        data_dir,
        accounts,
        started,
    } = launch;
    let reader = StoreReader::open_file(&db).map_err(std::io::Error::other)?;
    let (tx, mut rx) = mpsc::unbounded_channel::<Msg>();

    // The first frame comes from the cache, before anything else happens.
    let (day, zone) = (model.selected, model.zone);
    for c in select(&mut model, day) {
        if let Command::Load { from, to } = c {
            let loaded = load(&reader, from, to, &zone);
            update(&mut model, loaded);
            if let Some(note) = truncation_note(&reader) {
                update(&mut model, note);
            }
        }
    }
    let loads = spawn_loader(reader, model.zone, tx.clone());
    spawn_midnight_ticker(tx.clone());

    let mut terminal = take_terminal()?;
    let size = terminal.size()?;
    model.size = (size.width, size.height);
    draw(&mut terminal, &model)?;
    tracing::info!(
        ms = started.elapsed().as_secs_f64() * 1000.0,
        "first frame drawn"
    );

    model.sync.accounts = !accounts.is_empty();
    let mut edits = Edits {
        data_dir: data_dir.clone(),
        writer: None,
    };
    let engine = (!accounts.is_empty()).then(|| {
        let (events_tx, mut events_rx) = mpsc::unbounded_channel::<SyncEvent>();
        let to_ui = tx.clone();
        tokio::spawn(async move {
            while let Some(e) = events_rx.recv().await {
                panic_drill("task");
                if to_ui.send(Msg::Sync(e)).is_err() {
                    break;
                }
            }
        });
        runner::spawn(data_dir, accounts, events_tx)
    });

    let notifier = if model.notify {
        super::notify::Notifier::detect()
    } else {
        super::notify::Notifier::None
    };
    let alarms = alarm_clock::spawn(edits.data_dir.clone(), model.zone, tx.clone(), notifier);
    let gate = InputGate::default();
    spawn_terminal_reader(tx.clone(), gate.clone());
    drop(tx);
    let result = loop {
        // Wait for one message, then take every other one already waiting, then draw once.
        let Some(first) = rx.recv().await else {
            break Ok(());
        };
        let mut batch = VecDeque::from([first]);
        while let Ok(msg) = rx.try_recv() {
            batch.push_back(msg);
        }
        let mut terminal_gone = None;
        // Edits answer at once; their answers join the batch.
        while let Some(msg) = batch.pop_front() {
            if let Msg::Key(_) = msg {
                panic_drill("main");
            }
            if let Msg::TerminalError(e) = msg {
                terminal_gone = Some(e);
                continue;
            }
            for command in update(&mut model, msg) {
                match command {
                    read @ (Command::Load { .. }
                    | Command::LoadDetail { .. }
                    | Command::SetZone { .. }
                    | Command::LoadStatus
                    | Command::LoadConflicts
                    | Command::Search(_)
                    | Command::LoadCalendarList) => {
                        let _ = loads.send(read);
                    }
                    Command::SetHidden {
                        calendar,
                        hidden,
                        name,
                    } => {
                        batch.push_back(edits.set_hidden(calendar, hidden, &name));
                    }
                    Command::Sync(c) => {
                        if let Some(engine) = &engine {
                            let _ = engine.send(c);
                        }
                    }
                    Command::Stage(request) => {
                        batch.push_back(edits.stage(request, engine.as_ref()));
                    }
                    Command::ExternalEdit {
                        item,
                        calendar,
                        raw,
                        seen_etag,
                    } => {
                        let msg = match editor::edit(
                            &raw,
                            item,
                            &edits.data_dir,
                            &gate,
                            &mut terminal,
                            |text| {
                                crate::domain::edit::validate(text)
                                    .map(|_| ())
                                    .map_err(|e| e.to_string())
                            },
                        ) {
                            Ok(Some(raw)) => edits.stage(
                                EditRequest::Replace {
                                    item: Some(item),
                                    calendar,
                                    raw,
                                    seen_etag,
                                },
                                engine.as_ref(),
                            ),
                            Ok(None) => Msg::Staged(Ok("unchanged; nothing saved".into())),
                            Err(e) => Msg::Staged(Err(e)),
                        };
                        batch.push_back(msg);
                    }
                    Command::Resolve { conflict, keep } => {
                        batch.push_back(edits.resolve(conflict, keep, engine.as_ref()));
                    }
                    Command::DismissReminder(key) => {
                        let _ = alarms.send(alarm_clock::Answer::Dismiss(key));
                    }
                    Command::SnoozeReminder { key, until } => {
                        let _ = alarms.send(alarm_clock::Answer::Snooze(key, until));
                    }
                    Command::Bell => {
                        use std::io::Write;
                        let mut out = std::io::stdout();
                        let _ = out.write_all(b"\x07").and_then(|()| out.flush());
                    }
                    Command::Quit => {}
                }
            }
        }
        if let Some(e) = terminal_gone {
            break Err(std::io::Error::other(e));
        }
        if model.quit {
            break Ok(());
        }
        update(&mut model, Msg::Now(Utc::now()));
        draw(&mut terminal, &model)?;
    };
    release_terminal();
    result
}

/// The run loop's own writer, for edits: a short transaction each, so an edit is in the cache at
/// once even while the engine runs a long sync.
struct Edits {
    data_dir: PathBuf,
    writer: Option<Store>,
}

impl Edits {
    fn store(&mut self) -> Result<&mut Store, String> {
        if self.writer.is_none() {
            self.writer = Some(Store::open(&self.data_dir).map_err(|e| e.to_string())?);
        }
        self.writer
            .as_mut()
            .ok_or_else(|| "no writer for the cache".to_string())
    }

    /// Stages an edit; a change that waits for a server is pushed now when the engine runs.
    fn stage(
        &mut self,
        request: EditRequest,
        engine: Option<&mpsc::UnboundedSender<SyncCommand>>,
    ) -> Msg {
        let store = match self.store() {
            Ok(store) => store,
            Err(e) => return Msg::Staged(Err(e)),
        };
        match crate::edit::stage(store, request, Utc::now()) {
            Ok(outcome) => {
                // A move changes two calendars: each pushes what waits in it.
                let waiting: Vec<i64> = std::iter::once(&outcome.staged)
                    .chain(outcome.also.as_ref())
                    .filter(|s| s.pending)
                    .map(|s| s.calendar)
                    .collect();
                match waiting.as_slice() {
                    [] => Msg::Staged(Ok("saved".into())),
                    [first, rest @ ..] => {
                        let said = push_now(engine, *first);
                        for calendar in rest {
                            push_now(engine, *calendar);
                        }
                        Msg::Staged(Ok(format!("saved; {said}")))
                    }
                }
            }
            Err(e) => Msg::Staged(Err(e.to_string())),
        }
    }

    /// Shows or hides a calendar everywhere; it keeps syncing.
    fn set_hidden(&mut self, calendar: i64, hidden: bool, name: &str) -> Msg {
        let result = self.store().and_then(|store| {
            store
                .set_hidden(calendar, hidden)
                .map_err(|e| e.to_string())
        });
        Msg::HiddenSet(result.map(|()| {
            if hidden {
                format!("{name} hidden (it keeps syncing)")
            } else {
                format!("{name} shown")
            }
        }))
    }

    fn resolve(
        &mut self,
        conflict: i64,
        keep: Keep,
        engine: Option<&mpsc::UnboundedSender<SyncCommand>>,
    ) -> Msg {
        let store = match self.store() {
            Ok(store) => store,
            Err(e) => return Msg::Resolved(Err(e)),
        };
        let fresh = crate::domain::edit::new_uid();
        match store.resolve(conflict, keep, &fresh, Utc::now().timestamp()) {
            Ok(resolved) if resolved.push => Msg::Resolved(Ok(format!(
                "kept {}; {}",
                keep.words(),
                push_now(engine, resolved.calendar)
            ))),
            Ok(_) => Msg::Resolved(Ok(format!("kept {}", keep.words()))),
            Err(e) => Msg::Resolved(Err(e.to_string())),
        }
    }
}

/// Asks the engine to push `calendar` now, and says so.
fn push_now(engine: Option<&mpsc::UnboundedSender<SyncCommand>>, calendar: i64) -> String {
    match engine {
        Some(engine) if engine.send(SyncCommand::Calendar(calendar)).is_ok() => "pushing…".into(),
        _ => "it is pushed at the next sync".into(),
    }
}

/// A thread that turns terminal input into messages. Blocking reads on a thread of their own keep
/// the async side simple: everything arrives on one channel. It polls in short steps so that it can
/// stay off the keyboard while `$EDITOR` runs.
fn spawn_terminal_reader(tx: mpsc::UnboundedSender<Msg>, gate: InputGate) {
    std::thread::spawn(move || {
        loop {
            if gate.hold() {
                std::thread::sleep(std::time::Duration::from_millis(20));
                continue;
            }
            let msg = match crossterm::event::poll(std::time::Duration::from_millis(100)) {
                Ok(false) => continue,
                Ok(true) => match crossterm::event::read() {
                    Ok(ev) => {
                        panic_drill("input");
                        terminal_msg(ev)
                    }
                    Err(e) => Some(Msg::TerminalError(e.to_string())),
                },
                Err(e) => Some(Msg::TerminalError(e.to_string())),
            };
            if let Some(msg) = msg {
                let stop = matches!(msg, Msg::TerminalError(_));
                if tx.send(msg).is_err() || stop {
                    break;
                }
            }
        }
    });
}

fn terminal_msg(ev: Event) -> Option<Msg> {
    match ev {
        Event::Key(k) => Some(Msg::Key(k)),
        Event::Mouse(m) => Some(Msg::Mouse(m)),
        Event::Resize(w, h) => Some(Msg::Resize(w, h)),
        _ => None,
    }
}

fn load(reader: &StoreReader, from: NaiveDate, to: NaiveDate, zone: &chrono_tz::Tz) -> Msg {
    let result = reader
        .calendars()
        .and_then(|cals| reader.occurrences(from, to, zone).map(|occ| (cals, occ)));
    match result {
        Ok((calendars, occurrences)) => Msg::Loaded {
            from,
            to,
            calendars,
            occurrences,
        },
        Err(e) => Msg::LoadFailed(e.to_string()),
    }
}

/// A note for the status line when a series in the window could not be shown in full.
fn truncation_note(reader: &StoreReader) -> Option<Msg> {
    let cut = reader.truncated_series();
    let (summary, reason) = cut.first()?;
    let more = match cut.len() {
        1 => String::new(),
        n => format!(" (and {} more)", n - 1),
    };
    Some(Msg::Notice(format!(
        "⚠ '{summary}' cannot be shown in full here: {reason}{more}"
    )))
}

/// A thread that owns the read connection and answers read commands. Of the requests that queued up
/// while it worked only the newest of each kind is answered: the others were overtaken.
fn spawn_loader(
    reader: StoreReader,
    mut zone: chrono_tz::Tz,
    tx: mpsc::UnboundedSender<Msg>,
) -> std::sync::mpsc::Sender<Command> {
    let (req_tx, req_rx) = std::sync::mpsc::channel::<Command>();
    std::thread::spawn(move || {
        // Other processes write the cache too (`almanac import`, `add`, `sync` from a shell):
        // SQLite's data_version, read about once a second while idle, tells when.
        let mut version = reader.data_version().ok();
        loop {
            let first = match req_rx.recv_timeout(std::time::Duration::from_secs(1)) {
                Ok(first) => first,
                Err(std::sync::mpsc::RecvTimeoutError::Timeout) => {
                    let now = reader.data_version().ok();
                    if now != version {
                        version = now;
                        if tx.send(Msg::CacheChanged).is_err() {
                            return;
                        }
                    }
                    continue;
                }
                Err(std::sync::mpsc::RecvTimeoutError::Disconnected) => return,
            };
            panic_drill("loader");
            let mut window = None;
            let mut detail = None;
            let mut status = false;
            let mut conflicts = false;
            let mut search = None;
            let mut calendar_list = false;
            for req in std::iter::once(first).chain(req_rx.try_iter()) {
                match req {
                    Command::Load { from, to } => window = Some((from, to)),
                    Command::LoadDetail { event_id } => detail = Some(event_id),
                    Command::SetZone { zone: z } => zone = z,
                    Command::LoadStatus => status = true,
                    Command::LoadConflicts => conflicts = true,
                    Command::Search(query) => search = Some(query),
                    Command::LoadCalendarList => calendar_list = true,
                    Command::Sync(_)
                    | Command::SetHidden { .. }
                    | Command::Stage(_)
                    | Command::ExternalEdit { .. }
                    | Command::Resolve { .. }
                    | Command::DismissReminder(_)
                    | Command::SnoozeReminder { .. }
                    | Command::Bell
                    | Command::Quit => {}
                }
            }
            let answers = window
                .map(|(from, to)| load(&reader, from, to, &zone))
                .into_iter()
                .chain(window.and_then(|_| truncation_note(&reader)))
                .chain(detail.map(|event_id| match reader.event_detail(event_id) {
                    Ok(detail) => Msg::DetailLoaded { event_id, detail },
                    Err(e) => Msg::LoadFailed(e.to_string()),
                }))
                .chain(status.then(|| match reader.account_status() {
                    Ok(rows) => Msg::AccountsLoaded(rows),
                    Err(e) => Msg::LoadFailed(e.to_string()),
                }))
                .chain(status.then(|| match reader.sync_status() {
                    Ok(rows) => Msg::StatusLoaded(rows),
                    Err(e) => Msg::LoadFailed(e.to_string()),
                }))
                .chain(conflicts.then(|| match reader.conflicts() {
                    Ok(rows) => Msg::ConflictsLoaded(rows),
                    Err(e) => Msg::LoadFailed(e.to_string()),
                }))
                .chain(calendar_list.then(|| match reader.calendar_list() {
                    Ok(rows) => Msg::CalendarListLoaded(rows),
                    Err(e) => Msg::LoadFailed(e.to_string()),
                }))
                .chain(search.map(|query| match reader.search(&query, &zone) {
                    Ok(hits) => Msg::Found {
                        query: query.text,
                        hits,
                    },
                    Err(e) => Msg::LoadFailed(e.to_string()),
                }));
            for msg in answers {
                if tx.send(msg).is_err() {
                    return;
                }
            }
        }
    });
    req_tx
}

/// The clock: the current instant every second (messages fade, "3 min ago" moves), and the
/// local date when it changes.
fn spawn_midnight_ticker(tx: mpsc::UnboundedSender<Msg>) {
    tokio::spawn(async move {
        let mut today = Local::now().date_naive();
        loop {
            tokio::time::sleep(std::time::Duration::from_secs(1)).await;
            if tx.send(Msg::Now(Utc::now())).is_err() {
                break;
            }
            let now = Local::now().date_naive();
            if now != today {
                today = now;
                if tx.send(Msg::Today(now)).is_err() {
                    break;
                }
            }
        }
    });
}
