//! The `almanac` binary: parse the command line, set up logging, dispatch.

use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::{Duration, Instant};

use almanac::app::Model;
use almanac::app::Status;
use almanac::app::run::{Launch, run};
use almanac::app::sample::ensure_sample;
use almanac::cli::{self, Cli, CliError, CommandLine};
use almanac::config::{AccountConfig, AccountKind, Config, Secret};
use almanac::domain::tz;
use almanac::emulator::caldav::CalDavEmulator;
use almanac::emulator::{
    FeedServer, GoogleEmulator, GraphEmulator, demo, demo_feed, demo_google, demo_graph,
};
use almanac::store::{Staged, Store, StoreError};
use almanac::sync::SyncOptions;
use almanac::sync::accounts::sync_accounts;
use almanac::sync::google::auth;
use chrono::{Local, NaiveDate, Utc};
use clap::Parser;

/// mimalloc: a sync's pages are hundreds of thousands of small JSON values and strings, made on
/// one thread and freed on another. With it a first Graph sync of 10,000 events used a fifth less
/// CPU than with the system allocator (0.85 s to 0.68 s, benches/README.md).
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> ExitCode {
    let started = Instant::now();
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) => refuse_command_line(e),
    };
    let json = cli.command.as_ref().is_some_and(CommandLine::json);
    let data_dir = match cli.data_dir.clone().or_else(default_data_dir) {
        Some(d) => d,
        None => {
            return fail(
                CliError::Usage("no home directory: pass --data-dir DIR".into()),
                json,
            );
        }
    };
    let (log_path, _log_guard) = install_logging(&data_dir).unzip();
    install_panic_report(log_path);
    match dispatch(cli, &data_dir, started) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => fail(e, json),
    }
}

/// The message on stderr and the exit code; a `--json` command also prints the error as JSON.
fn fail(e: CliError, json: bool) -> ExitCode {
    if json && !matches!(e, CliError::Reported(_)) {
        println!("{}", cli::json_error(&e.to_string()));
    }
    eprintln!("almanac: {e}");
    ExitCode::from(e.code() as u8)
}

/// A command line clap refuses (exit 2, its message on stderr), answered in JSON too when `--json`
/// was asked for. Help and the version print as usual.
fn refuse_command_line(e: clap::Error) -> ! {
    use clap::error::ErrorKind;
    let shown = matches!(
        e.kind(),
        ErrorKind::DisplayHelp
            | ErrorKind::DisplayVersion
            | ErrorKind::DisplayHelpOnMissingArgumentOrSubcommand
    );
    if !shown && std::env::args_os().any(|a| a == "--json") {
        let text = e.to_string();
        let first = text.lines().next().unwrap_or_default();
        println!(
            "{}",
            cli::json_error(first.strip_prefix("error: ").unwrap_or(first))
        );
    }
    e.exit()
}

fn default_data_dir() -> Option<PathBuf> {
    directories::ProjectDirs::from("", "", "almanac").map(|d| d.data_dir().to_path_buf())
}

/// Logs go to a file, never to the terminal: under the state dir, or beside the cache when the data
/// directory was given explicitly (so a test or a second profile keeps its logs to itself).
/// Writing happens on a background thread (the returned guard flushes it at exit), so a slow disk
/// never stalls the UI.
fn install_logging(
    data_dir: &Path,
) -> Option<(PathBuf, tracing_appender::non_blocking::WorkerGuard)> {
    let explicit = std::env::var_os("ALMANAC_DATA_DIR").is_some()
        || std::env::args().any(|a| a.starts_with("--data-dir"));
    let dir = if explicit {
        data_dir.join("log")
    } else {
        directories::ProjectDirs::from("", "", "almanac")
            .and_then(|d| d.state_dir().map(Path::to_path_buf))
            .unwrap_or_else(|| data_dir.join("log"))
    };
    std::fs::create_dir_all(&dir).ok()?;
    let file = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(dir.join("almanac.log"))
        .ok()?;
    let (writer, guard) = tracing_appender::non_blocking(file);
    let filter = std::env::var("ALMANAC_LOG").unwrap_or_else(|_| "info".into());
    let level = filter
        .parse::<tracing::Level>()
        .unwrap_or(tracing::Level::INFO);
    tracing_subscriber::fmt()
        .with_writer(writer)
        .with_ansi(false)
        .with_max_level(level)
        .init();
    Some((dir.join("almanac.log"), guard))
}

/// A panic anywhere ends the program: the terminal is given back (raw mode, the alternate screen,
/// mouse capture), the log gets the message and the backtrace, and the person sees one line with the
/// log's path. A panic on a background thread (the loader, the input reader, a tokio task) exits too:
/// otherwise the TUI would go on without that thread, drawing over a restored terminal or waiting for
/// input that never comes.
fn install_panic_report(log: Option<PathBuf>) {
    let trace = std::panic::take_hook();
    std::panic::set_hook(Box::new(move |info| {
        // `almanac agenda | head`: the reader went away. Not a bug: stop quietly, as a shell
        // tool does (141 = killed by SIGPIPE).
        let message = panic_message(info);
        if message.contains("failed printing to stdout") && message.contains("Broken pipe") {
            std::process::exit(141);
        }
        almanac::app::run::restore_terminal();
        // Written here, not through the non-blocking log writer: its thread would not get to it
        // before the exit below.
        let logged = log.as_ref().is_some_and(|l| log_panic(l, info).is_ok());
        let place = match (&log, logged) {
            (Some(l), true) => format!("; details in {}", l.display()),
            _ => String::new(),
        };
        eprintln!("almanac hit a bug and stopped: {message}{place}");
        if std::env::var_os("ALMANAC_PANIC_TRACE").is_some() {
            trace(info);
        }
        std::process::exit(101);
    }));
}

/// Appends the panic, its thread and its backtrace to the log file.
fn log_panic(log: &Path, info: &std::panic::PanicHookInfo<'_>) -> std::io::Result<()> {
    use std::io::Write;
    let mut file = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(log)?;
    let thread = std::thread::current();
    writeln!(
        file,
        "{} ERROR panic in thread '{}': {info}\nbacktrace:\n{}",
        Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Micros, true),
        thread.name().unwrap_or("unnamed"),
        std::backtrace::Backtrace::force_capture()
    )
}

fn panic_message(info: &std::panic::PanicHookInfo<'_>) -> String {
    info.payload()
        .downcast_ref::<&str>()
        .map(|s| s.to_string())
        .or_else(|| info.payload().downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "unknown cause".into())
}

/// Today in the local zone, or `ALMANAC_TODAY` (YYYY-MM-DD) for reproducible screens and tests.
fn today() -> NaiveDate {
    std::env::var("ALMANAC_TODAY")
        .ok()
        .and_then(|d| NaiveDate::parse_from_str(&d, "%Y-%m-%d").ok())
        .unwrap_or_else(|| Local::now().date_naive())
}

/// The config, with its `[keys]` checked too: every command reports a bad mapping, not only the
/// TUI that uses it.
fn load_config(cli: &Cli) -> Result<Config, CliError> {
    let config = Config::load(cli.config.as_deref()).map_err(|e| CliError::Usage(e.to_string()))?;
    keymap(&config)?;
    Ok(config)
}

/// The keymap the config's `[keys]` make.
fn keymap(config: &Config) -> Result<almanac::app::keymap::Keymap, CliError> {
    Ok(match config.file() {
        Some(path) if !config.keys.is_empty() => {
            almanac::app::keymap::Keymap::with_settings(&config.keys, &path)
                .map_err(|e| CliError::Usage(e.to_string()))?
        }
        _ => almanac::app::keymap::Keymap::default(),
    })
}

/// The TUI over the cache in `data_dir`, syncing `accounts` in the background.
fn tui(
    config: &Config,
    data_dir: &Path,
    accounts: Vec<AccountConfig>,
    status: Option<String>,
    started: Instant,
) -> Result<(), CliError> {
    let now = Utc::now().timestamp();
    let keymap = keymap(config)?;
    let mut store = Store::open(data_dir)?;
    forget_removed_accounts(&mut store, &accounts)?;
    let unknown = store.hide_named(&config.hidden)?;
    let status = status.or_else(|| {
        (!unknown.is_empty()).then(|| {
            format!(
                "[ui] hidden names no calendar called {}",
                unknown.join(", ")
            )
        })
    });
    let day = today();
    ensure_sample(&mut store, day, now)?;
    let zone = config.zone.unwrap_or_else(tz::system_zone);
    let color = std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty());
    let mut model = Model::new(day, zone, config.week_start, config.clock, color);
    model.views.view = config.view;
    model.keymap = keymap;
    // The real clock from the start: a message's age is measured on it.
    model.now = Utc::now();
    model.size = crossterm::terminal::size().unwrap_or((80, 24));
    model.status = status.map(|text| Status { text, error: false });
    model.bell = config.bell;
    model.notify = config.notify;
    let db = store.path().to_path_buf();
    drop(store);
    run(Launch {
        model,
        db,
        data_dir: data_dir.to_path_buf(),
        accounts,
        started,
    })
    .map_err(|e| CliError::Runtime(format!("terminal: {e}")))
}

/// `add`, `edit`, `delete`: stages the edit (times in `--tz` or the configured zone), says which
/// event it was, and pushes it.
fn edit_and_push(
    cli: &Cli,
    data_dir: &Path,
    tz: &Option<String>,
    verb: &str,
    edit: impl FnOnce(&mut Store, chrono_tz::Tz) -> Result<almanac::edit::Outcome, CliError>,
) -> Result<(), CliError> {
    let (config, mut store) = (load_config(cli)?, Store::open(data_dir)?);
    let zone = cli::display_zone(tz.as_deref(), config.zone)?;
    let outcome = edit(&mut store, zone)?;
    println!("{verb} {}", outcome.uid);
    push_now(&mut store, &config, &outcome.staged)
}

/// Pushes a staged edit now by syncing its calendar. The edit is safe in the cache either way: a
/// server that cannot be reached only delays it (exit 0, with a note on stderr).
fn push_now(store: &mut Store, config: &Config, staged: &Staged) -> Result<(), CliError> {
    if !staged.pending {
        return Ok(());
    }
    let Some((account, calendar)) = store.calendar_owner(staged.calendar)? else {
        return Ok(());
    };
    let Some(acc) = config.accounts.iter().find(|a| a.name == account) else {
        eprintln!("saved; account '{account}' is not in the config, so it waits to be pushed");
        return Ok(());
    };
    let opts = SyncOptions {
        calendar: Some(calendar),
        full: false,
    };
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| CliError::Runtime(e.to_string()))?;
    let reports = runtime.block_on(sync_accounts(store, std::slice::from_ref(acc), &opts, None));
    let run = reports.iter().flat_map(|a| a.calendars.iter()).next();
    let error = reports
        .iter()
        .find_map(|a| a.error.clone())
        .or_else(|| run.and_then(|c| c.error.clone()));
    match (run, error) {
        (Some(c), _) if c.conflicts > 0 => {
            eprintln!(
                "the server's copy changed meanwhile: a conflict was recorded (see `almanac conflicts`)"
            );
        }
        (Some(c), None) if c.pushed > 0 => println!("pushed to {account}"),
        (_, Some(e)) => eprintln!("saved; not pushed yet ({e}); the next sync pushes it"),
        (Some(c), None) => {
            for why in &c.push_refused {
                eprintln!("{why}");
            }
            eprintln!("saved; not pushed yet; the next sync pushes it");
        }
        (None, None) => eprintln!("saved; not pushed yet; the next sync pushes it"),
    }
    Ok(())
}

/// An account taken out of the config takes its calendars out of the cache.
fn forget_removed_accounts(store: &mut Store, accounts: &[AccountConfig]) -> Result<(), CliError> {
    let names: Vec<&str> = accounts.iter().map(|a| a.name.as_str()).collect();
    for gone in store.retain_accounts(&names)? {
        tracing::info!(account = %gone, "account no longer configured: its calendars are removed");
    }
    Ok(())
}

/// `almanac demo`: CalDAV, Google and Graph servers and a feed on loopback ports, whose calendars
/// change every few seconds, an account pointed at each, and the TUI over a cache of its own
/// (`DATA_DIR/demo`, fresh each run).
fn demo(cli: &Cli, data_dir: &Path, started: Instant) -> Result<(), CliError> {
    let config = load_config(cli)?;
    let dir = data_dir.join("demo");
    let _ = std::fs::remove_dir_all(&dir);
    let day = today();
    let zone = config.zone.unwrap_or_else(tz::system_zone);
    let every = std::time::Duration::from_secs(
        std::env::var("ALMANAC_DEMO_EVERY")
            .ok()
            .and_then(|s| s.parse().ok())
            .unwrap_or(4),
    );
    let sync_every = Some(every.max(std::time::Duration::from_secs(2)));
    // The servers run on a runtime of their own, so they keep serving whatever the TUI does.
    let server = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .map_err(|e| CliError::Runtime(e.to_string()))?;
    let cannot = |what: &str, e: std::io::Error| {
        CliError::Runtime(format!("cannot start the demo {what}: {e}"))
    };
    // A CalDAV server: Work changes, Home stays still.
    let emu = server
        .block_on(CalDavEmulator::start("demo", "demo"))
        .map_err(|e| cannot("CalDAV server", e))?;
    emu.add_calendar("work", "Work", Some("#4f9dde"));
    emu.add_calendar("home", "Home", Some("#5bb974"));
    demo::seed(&emu, "work", day);
    // A Google account, signed in already: the emulator hands out the tokens a sign-in would.
    let google = server
        .block_on(GoogleEmulator::start())
        .map_err(|e| cannot("Google server", e))?;
    const CLIENT: &str = "almanac-demo.apps.googleusercontent.com";
    const GOOGLE: &str = "Google";
    google.add_client(CLIENT, "demo");
    google.add_calendar("family", "Family", "owner");
    demo_google::seed(&google, "family", day, zone);
    let (access_token, refresh_token) = google.issue_tokens(CLIENT);
    auth::save(
        &auth::token_path(&dir, GOOGLE),
        &auth::Tokens {
            access_token,
            expires_at: Utc::now().timestamp() + 3000,
            refresh_token,
        },
    )
    .map_err(|e| CliError::Runtime(e.to_string()))?;
    // A Microsoft Graph account, signed in already: Office changes, Team is read-only.
    let graph = server
        .block_on(GraphEmulator::start())
        .map_err(|e| cannot("Graph server", e))?;
    const GRAPH_CLIENT: &str = "00000000-0000-4000-8000-a1a1a1a1a1a1";
    const GRAPH: &str = "Graph";
    graph.add_client(GRAPH_CLIENT);
    let graph_zone = demo_graph::Zone::new(zone);
    let seeded = demo_graph::seed(&graph, day, &graph_zone);
    let (access_token, refresh_token) = graph.issue_tokens(GRAPH_CLIENT);
    auth::save(
        &auth::token_path(&dir, GRAPH),
        &auth::Tokens {
            access_token,
            expires_at: Utc::now().timestamp() + 3000,
            refresh_token,
        },
    )
    .map_err(|e| CliError::Runtime(e.to_string()))?;
    // A read-only subscription.
    let feed = server
        .block_on(FeedServer::start(&demo_feed::seed(day)))
        .map_err(|e| cannot("feed", e))?;
    let _changes = {
        let _guard = server.enter();
        [
            demo::spawn(emu.clone(), "work", every),
            demo_google::spawn(google.clone(), "family", day, zone, every),
            demo_graph::spawn(graph.clone(), seeded, day, graph_zone, every),
            demo_feed::spawn(feed.clone(), day, every),
        ]
    };
    let accounts = vec![
        AccountConfig {
            name: "Demo".into(),
            kind: AccountKind::Caldav,
            url: Some(emu.base_url()),
            username: Some("demo".into()),
            password: Some(Secret::Value("demo".into())),
            sync_every,
            ..Default::default()
        },
        AccountConfig {
            name: GOOGLE.into(),
            kind: AccountKind::Google,
            client_id: Some(CLIENT.into()),
            client_secret: Some(Secret::Value("demo".into())),
            api_url: Some(google.api_url()),
            auth_url: Some(google.auth_url()),
            token_url: Some(google.token_url()),
            sync_every,
            ..Default::default()
        },
        AccountConfig {
            name: GRAPH.into(),
            kind: AccountKind::Graph,
            client_id: Some(GRAPH_CLIENT.into()),
            api_url: Some(graph.api_url()),
            login_url: Some(graph.login_url()),
            sync_every,
            ..Default::default()
        },
        AccountConfig {
            name: "Holidays".into(),
            kind: AccountKind::Ics,
            url: Some(feed.url()),
            sync_every,
            ..Default::default()
        },
    ];
    // Accounts are listed by name: Demo, Google, Graph, Holidays is the order the status line
    // names.
    let status = format!(
        "Demo: CalDAV Work, Google Family, Graph Office, feed Holidays change every {}s; s: sync pane; \
CalDAV at {}, user/password demo",
        every.as_secs(),
        emu.base_url(),
    );
    let result = tui(&config, &dir, accounts, Some(status), started);
    emu.shutdown();
    google.shutdown();
    graph.shutdown();
    feed.shutdown();
    result
}

fn dispatch(cli: Cli, data_dir: &Path, started: Instant) -> Result<(), CliError> {
    let now = Utc::now().timestamp();
    match &cli.command {
        None => {
            let config = load_config(&cli)?;
            let accounts = config.accounts.clone();
            tui(&config, data_dir, accounts, None, started)
        }
        Some(CommandLine::Demo) => demo(&cli, data_dir, started),
        Some(CommandLine::Remind { json, once, tz }) => remind(&cli, data_dir, *json, *once, tz),
        Some(CommandLine::Calendars(args)) => {
            let mut store = Store::open(data_dir)?;
            match &args.action {
                Some(action) => println!("{}", cli::calendars::act(&mut store, action)?),
                None if args.json => {
                    println!("{}", cli::json_text(&cli::calendars::list(&store)?)?);
                }
                None => {
                    let list = cli::calendars::list(&store)?;
                    print!("{}", cli::calendars::list_text(&list));
                }
            }
            Ok(())
        }
        Some(CommandLine::Import { file, calendar }) => {
            let mut store = Store::open(data_dir)?;
            let msg = cli::import(&mut store, file, calendar, now)?;
            ensure_sample(&mut store, today(), now)?;
            println!("{msg}");
            Ok(())
        }
        Some(CommandLine::Export { calendar }) => {
            let store = Store::open(data_dir)?;
            let items = store
                .reader()?
                .calendar_items(calendar)?
                .ok_or_else(|| CliError::Usage(format!("no calendar named '{calendar}'")))?;
            // Every item as iCalendar, whatever its remote writes (Google's JSON included).
            let items: Vec<String> = items
                .iter()
                .map(|raw| almanac::domain::format::as_ical(raw).into_owned())
                .collect();
            let merged = almanac::domain::ical::merge_calendars(&items);
            print!("{}", cli::crlf_lines(&merged));
            Ok(())
        }
        Some(CommandLine::Sync {
            calendar,
            full,
            json,
        }) => {
            let config = load_config(&cli)?;
            if config.accounts.is_empty() {
                let file = config
                    .file()
                    .map_or("the config file".into(), |f| f.display().to_string());
                return Err(CliError::Usage(format!(
                    "no accounts to sync: add an [[account]] with kind = \"caldav\" to {file} (`almanac --help` shows one)"
                )));
            }
            let mut store = Store::open(data_dir)?;
            forget_removed_accounts(&mut store, &config.accounts)?;
            let opts = SyncOptions {
                calendar: calendar.clone(),
                full: *full,
            };
            // Two workers: a page downloads on one while the other applies the page before.
            let runtime = tokio::runtime::Builder::new_multi_thread()
                .worker_threads(2)
                .enable_all()
                .build()
                .map_err(|e| CliError::Runtime(e.to_string()))?;
            let reports =
                runtime.block_on(sync_accounts(&mut store, &config.accounts, &opts, None));
            if *json {
                println!("{}", cli::json_text(&reports)?);
            } else {
                print!("{}", cli::sync_text(&reports));
            }
            let failed = reports
                .iter()
                .filter(|a| a.error.is_some() || a.calendars.iter().any(|c| c.error.is_some()))
                .count();
            if failed > 0 {
                return Err(CliError::Reported(format!(
                    "sync failed for {failed} account(s); see above"
                )));
            }
            Ok(())
        }
        Some(CommandLine::Login {
            account,
            no_browser,
        }) => {
            let config = load_config(&cli)?;
            let acc = config
                .accounts
                .iter()
                .find(|a| a.name == *account)
                .ok_or_else(|| {
                    CliError::Usage(format!("no account named '{account}' in the config"))
                })?;
            if acc.kind == AccountKind::Graph {
                return graph_login(acc, data_dir);
            }
            if acc.kind != AccountKind::Google {
                return Err(CliError::Usage(format!(
                    "'{account}' is a {} account: only google and graph accounts sign in",
                    format!("{:?}", acc.kind).to_lowercase()
                )));
            }
            let oauth = almanac::sync::google::oauth_for(acc)
                .map_err(|e| CliError::Usage(e.to_string()))?;
            let path = almanac::sync::google::auth::token_path(data_dir, &acc.name);
            let runtime = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .map_err(|e| CliError::Runtime(e.to_string()))?;
            let mut out = std::io::stdout();
            let timeout = std::env::var("ALMANAC_LOGIN_TIMEOUT")
                .ok()
                .and_then(|s| s.parse().ok())
                .map_or(
                    almanac::sync::google::auth::LOGIN_TIMEOUT,
                    Duration::from_secs,
                );
            runtime
                .block_on(almanac::sync::google::auth::login(
                    &oauth,
                    &path,
                    &mut out,
                    !no_browser,
                    timeout,
                ))
                .map_err(|e| CliError::Runtime(format!("sign-in failed: {e}")))?;
            println!("signed in: the tokens are in {}", path.display());
            Ok(())
        }
        Some(CommandLine::Status { json }) => {
            let config = load_config(&cli)?;
            let store = Store::open(data_dir)?;
            let reader = store.reader()?;
            let status = reader.sync_status()?;
            let accounts = cli::configured_accounts(&config.accounts, reader.account_status()?);
            if *json {
                println!("{}", cli::json_text(&cli::status_json(&status, &accounts))?);
            } else {
                print!("{}", cli::status_text(&status, &accounts, now));
            }
            Ok(())
        }
        Some(CommandLine::Add(args)) => edit_and_push(&cli, data_dir, &args.tz, "added", |s, z| {
            cli::edit::add(s, args, z, Utc::now())
        }),
        Some(CommandLine::Edit(args)) => {
            edit_and_push(&cli, data_dir, &args.tz, "changed", |s, z| {
                cli::edit::edit(s, args, z, Utc::now())
            })
        }
        Some(CommandLine::Delete(args)) => {
            edit_and_push(&cli, data_dir, &args.tz, "deleted", |s, z| {
                cli::edit::delete(s, args, z, Utc::now())
            })
        }
        Some(CommandLine::Conflicts { json }) => {
            let store = Store::open(data_dir)?;
            let list = store.conflicts()?;
            if *json {
                let entries: Vec<_> = list.iter().map(cli::edit::ConflictEntry::of).collect();
                println!("{}", cli::json_text(&entries)?);
            } else {
                print!("{}", cli::edit::conflicts_text(&list, now));
            }
            Ok(())
        }
        Some(CommandLine::Resolve { id, keep }) => {
            let (config, mut store) = (load_config(&cli)?, Store::open(data_dir)?);
            let resolved = store
                .resolve(*id, (*keep).into(), &almanac::domain::edit::new_uid(), now)
                .map_err(|e| match e {
                    StoreError::NoSuchConflict(_) => CliError::Usage(e.to_string()),
                    e => e.into(),
                })?;
            println!(
                "conflict {id} resolved: kept {}",
                almanac::store::Keep::from(*keep).words()
            );
            if resolved.push {
                let staged = almanac::store::Staged {
                    calendar: resolved.calendar,
                    href: String::new(),
                    pending: true,
                };
                push_now(&mut store, &config, &staged)?;
            }
            Ok(())
        }
        Some(CommandLine::Search(args)) => {
            let config = load_config(&cli)?;
            let zone = cli::display_zone(args.tz.as_deref(), config.zone)?;
            let (today, now) = match std::env::var("ALMANAC_TODAY")
                .ok()
                .and_then(|d| d.parse::<chrono::NaiveDate>().ok())
            {
                Some(day) => (
                    day,
                    tz::local_to_utc(&zone, day.and_hms_opt(12, 0, 0).unwrap_or_default()),
                ),
                None => (Utc::now().with_timezone(&zone).date_naive(), Utc::now()),
            };
            let query = cli::search::query(args, today, now)?;
            let mut store = Store::open(data_dir)?;
            store.hide_named(&config.hidden)?;
            let reader = store.reader()?;
            print!("{}", cli::search::run(args, &reader, &query, &zone)?);
            Ok(())
        }
        Some(CommandLine::Agenda(args)) => {
            let configured = if args.ics.is_empty() {
                load_config(&cli)?.zone
            } else {
                None
            };
            let zone = cli::display_zone(args.tz.as_deref(), configured)?;
            let today = Utc::now().with_timezone(&zone).date_naive();
            let today = std::env::var("ALMANAC_TODAY")
                .ok()
                .and_then(|d| d.parse().ok())
                .unwrap_or(today);
            let (from, to) = cli::agenda_range(args, today)?;
            let (occurrences, names) = if args.ics.is_empty() {
                let store = Store::open(data_dir)?;
                let reader = store.reader()?;
                cli::occurrences_from_cache(&reader, from, to, &zone)?
            } else {
                cli::occurrences_from_files(&args.ics, from, to, &zone)?
            };
            cli::known_calendars(&names, &args.calendar)?;
            let list = cli::agenda_selection(&occurrences, &names, &args.calendar);
            let out = if args.json {
                let entries: Vec<_> = list
                    .iter()
                    .map(|o| cli::agenda_entry(o, &names, &zone))
                    .collect();
                cli::json_text(&entries)? + "\n"
            } else {
                cli::agenda_text(&list, &names, from, to, &zone, args.uids)
            };
            print!("{out}");
            Ok(())
        }
    }
}

/// `almanac remind`: claims and prints due reminders every few seconds (once with `--once`).
fn remind(
    cli: &Cli,
    data_dir: &Path,
    json: bool,
    once: bool,
    tz: &Option<String>,
) -> Result<(), CliError> {
    use std::io::Write;
    let config = load_config(cli)?;
    let zone = cli::display_zone(tz.as_deref(), config.zone)?;
    let mut store = Store::open(data_dir)?;
    let mut out = std::io::stdout();
    let notifier = if config.notify {
        almanac::app::notify::Notifier::detect()
    } else {
        almanac::app::notify::Notifier::None
    };
    loop {
        let now = Utc::now();
        for r in store.claim_reminders(now, &zone)? {
            let (title, body) = almanac::app::notify::reminder_text(&r, &zone);
            notifier.send(&title, &body);
            let line = if json {
                serde_json::to_string(&cli::remind::ReminderLine::of(&r, &zone))
                    .map_err(|e| CliError::Runtime(e.to_string()))?
            } else {
                cli::remind::text_line(&r, &zone, now)
            };
            writeln!(out, "{line}").map_err(|e| CliError::Runtime(e.to_string()))?;
        }
        out.flush().map_err(|e| CliError::Runtime(e.to_string()))?;
        if once {
            return Ok(());
        }
        std::thread::sleep(Duration::from_secs(10));
    }
}

/// `almanac login` for a Graph account: the device code flow (prints `code:` and `url:` lines,
/// waits for the approval on any device; works over SSH).
fn graph_login(acc: &almanac::config::AccountConfig, data_dir: &Path) -> Result<(), CliError> {
    let client =
        almanac::sync::graph::client_for(acc).map_err(|e| CliError::Usage(e.to_string()))?;
    let path = almanac::sync::google::auth::token_path(data_dir, &acc.name);
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| CliError::Runtime(e.to_string()))?;
    let timeout = std::env::var("ALMANAC_LOGIN_TIMEOUT")
        .ok()
        .and_then(|s| s.parse().ok())
        .map_or(Duration::from_secs(20 * 60), Duration::from_secs);
    let mut out = std::io::stdout();
    let flow = almanac::sync::graph::auth::login(&client, &path, &mut out);
    match runtime.block_on(async { tokio::time::timeout(timeout, flow).await }) {
        Ok(Ok(())) => {
            println!("signed in: the tokens are in {}", path.display());
            Ok(())
        }
        Ok(Err(e)) => Err(CliError::Runtime(format!("sign-in failed: {e}"))),
        Err(_) => Err(CliError::Runtime(format!(
            "sign-in failed: no approval within {} s",
            timeout.as_secs()
        ))),
    }
}
