//! The TOML config: the embedded defaults (`assets/config.toml`) with the person's file layered over them.
//!
//! Errors name the file, the line and column, and how to fix it.

use std::path::{Path, PathBuf};

use chrono::Weekday;
use chrono_tz::Tz;
use serde::Deserialize;

use crate::domain::tz;

/// The defaults, compiled in.
pub const DEFAULTS: &str = include_str!("../assets/config.toml");

/// The effective settings.
#[derive(Debug, Clone, PartialEq)]
pub struct Config {
    pub week_start: Weekday,
    pub clock: Clock,
    /// `None`: the system zone.
    pub zone: Option<Tz>,
    /// The view the TUI opens in.
    pub view: View,
    pub accounts: Vec<AccountConfig>,
    /// Ring the terminal bell when a reminder comes due (`[reminders] bell`).
    pub bell: bool,
    /// Send a desktop notification when a reminder comes due, where the system has a
    /// notification service (`[reminders] notify`, default true).
    pub notify: bool,
    /// The file the person's settings came from, if any.
    pub source: Option<PathBuf>,
    /// `[ui] hidden`: calendars hidden from every view (`name` or `account/name`).
    pub hidden: Vec<String>,
    /// `[keys]`: actions bound to other keys than the defaults (app::keymap reads them).
    pub keys: Vec<KeySetting>,
}

/// One line of `[keys]`: an action's name, the keys that now do it, and where it was written.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeySetting {
    pub action: String,
    pub keys: Vec<String>,
    pub line: usize,
}

/// A `[keys]` value: one key or a list of them.
#[derive(Debug, Clone, Deserialize)]
#[serde(untagged)]
enum KeyList {
    One(String),
    Many(Vec<String>),
}

/// How clock times are written.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
pub enum Clock {
    #[serde(rename = "24h")]
    H24,
    #[serde(rename = "12h")]
    H12,
}

/// The TUI's main views (`[ui] view`); the model keeps the one on screen.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum View {
    #[default]
    Month,
    Week,
    Day,
    Agenda,
}

/// An account as configured (sync uses it; the cache keeps its state).
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AccountConfig {
    pub name: String,
    pub kind: AccountKind,
    /// CalDAV: the server; ics: the feed (`https://`, `webcal://` or a file path).
    pub url: Option<String>,
    pub username: Option<String>,
    pub password: Option<Secret>,
    #[serde(default, deserialize_with = "every")]
    pub sync_every: Option<std::time::Duration>,
    /// Google and Graph: the person's own OAuth client.
    pub client_id: Option<String>,
    /// Google: the Desktop client's secret (same forms as a password).
    pub client_secret: Option<Secret>,
    pub ca_file: Option<PathBuf>,
    /// Google: the API base, default `https://www.googleapis.com/calendar/v3/`.
    pub api_url: Option<String>,
    /// Google: the consent page, default `https://accounts.google.com/o/oauth2/v2/auth`.
    pub auth_url: Option<String>,
    /// Google: the token endpoint, default `https://oauth2.googleapis.com/token`.
    pub token_url: Option<String>,
    /// Graph: the directory the person signs in to: `common` (default), `organizations`,
    /// `consumers` or a tenant id or domain.
    pub tenant: Option<String>,
    /// Graph: the sign-in service, default `https://login.microsoftonline.com/`.
    pub login_url: Option<String>,
    /// Graph: how far back and ahead of today events are kept (default 90 and 400 days).
    pub window: Option<Window>,
}

/// A Graph account's window of days around today: `window = { past = "90d", future = "400d" }`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Window {
    #[serde(default = "Window::default_past", deserialize_with = "days")]
    pub past: u32,
    #[serde(default = "Window::default_future", deserialize_with = "days")]
    pub future: u32,
}

impl Window {
    /// PROTOCOLS.md §3 "Rounds": about −90 d … +400 d.
    pub const DEFAULT: Window = Window {
        past: 90,
        future: 400,
    };
    fn default_past() -> u32 {
        Window::DEFAULT.past
    }
    fn default_future() -> u32 {
        Window::DEFAULT.future
    }
}

impl Default for Window {
    fn default() -> Window {
        Window::DEFAULT
    }
}

/// `"90d"` (or a bare number of days): 1 to 3650.
fn days<'de, D: serde::Deserializer<'de>>(d: D) -> Result<u32, D::Error> {
    let text = String::deserialize(d)?;
    parse_days(&text).ok_or_else(|| {
        serde::de::Error::custom(format!(
            "'{text}' is not a number of days like \"90d\" (1d to 3650d)"
        ))
    })
}

/// Parses `90d` or `90`.
pub fn parse_days(text: &str) -> Option<u32> {
    let t = text.trim();
    let n: u32 = t.strip_suffix('d').unwrap_or(t).trim().parse().ok()?;
    (1..=3650).contains(&n).then_some(n)
}

/// The kinds of remote.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum AccountKind {
    #[default]
    Caldav,
    Google,
    Graph,
    Ics,
}

/// Where a secret comes from. Never logged.
#[derive(Clone, PartialEq, Eq)]
pub enum Secret {
    Command(Vec<String>),
    Env(String),
    Value(String),
}

impl std::fmt::Debug for Secret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Secret::Command(c) => write!(f, "Secret::Command({c:?})"),
            Secret::Env(v) => write!(f, "Secret::Env({v:?})"),
            Secret::Value(_) => write!(f, "Secret::Value(<redacted>)"),
        }
    }
}

/// How a password may be written, for the errors that show it.
const SECRET_FORMS: &str = "password = { value = \"…\" }, { command = [\"pass\", \"show\", \"dav/alice\"] } or { env = \"VAR\" }";

/// Read by hand so that a bare string (`password = "hunter2"`) is answered with the form to write
/// instead of serde's "unknown variant", and so that the value is never repeated in the message.
impl<'de> Deserialize<'de> for Secret {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Secret, D::Error> {
        struct Form;
        impl<'de> serde::de::Visitor<'de> for Form {
            type Value = Secret;

            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                write!(f, "a table: {SECRET_FORMS}")
            }

            fn visit_str<E: serde::de::Error>(self, _: &str) -> Result<Secret, E> {
                Err(E::custom(
                    "the password is a bare string; it goes in a table that says where it comes from",
                ))
            }

            fn visit_map<A: serde::de::MapAccess<'de>>(
                self,
                mut map: A,
            ) -> Result<Secret, A::Error> {
                use serde::de::Error;
                let Some(key) = map.next_key::<String>()? else {
                    return Err(A::Error::custom("the password table is empty"));
                };
                let secret = match key.as_str() {
                    "command" => Secret::Command(map.next_value()?),
                    "env" => Secret::Env(map.next_value()?),
                    "value" => Secret::Value(map.next_value()?),
                    other => {
                        return Err(A::Error::unknown_field(other, &["command", "env", "value"]));
                    }
                };
                if map.next_key::<String>()?.is_some() {
                    return Err(A::Error::custom(
                        "the password table names more than one source",
                    ));
                }
                Ok(secret)
            }
        }
        d.deserialize_any(Form)
    }
}

impl Secret {
    /// The secret itself: the first line a command prints, an environment variable, or the value.
    /// Errors say where it was looked for, never what it is.
    pub fn resolve(&self) -> Result<String, String> {
        match self {
            Secret::Value(v) => Ok(v.clone()),
            Secret::Env(var) => std::env::var(var).map_err(|_| {
                format!("the environment variable {var} (named as the password) is not set")
            }),
            Secret::Command(argv) => {
                let (program, args) = argv
                    .split_first()
                    .ok_or("the password command is an empty list")?;
                let out = std::process::Command::new(program)
                    .args(args)
                    .stdin(std::process::Stdio::null())
                    .stderr(std::process::Stdio::null())
                    .output()
                    .map_err(|e| format!("cannot run the password command {program}: {e}"))?;
                if !out.status.success() {
                    return Err(format!(
                        "the password command {program} failed ({})",
                        out.status
                    ));
                }
                let text = String::from_utf8_lossy(&out.stdout);
                Ok(text.lines().next().unwrap_or_default().to_string())
            }
        }
    }
}

/// `sync_every = "5m"`: seconds, minutes or hours, at least ten seconds.
fn every<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Option<std::time::Duration>, D::Error> {
    let text = String::deserialize(d)?;
    parse_every(&text).map(Some).ok_or_else(|| {
        serde::de::Error::custom(format!(
            "sync interval '{text}' is not like \"30s\", \"5m\" or \"1h\" (at least 10s)"
        ))
    })
}

/// Parses `30s`, `5m`, `1h`.
pub fn parse_every(text: &str) -> Option<std::time::Duration> {
    let t = text.trim();
    let unit = t.chars().last()?;
    let n: u64 = t[..t.len() - unit.len_utf8()].trim().parse().ok()?;
    let secs = match unit {
        's' => n,
        'm' => n.checked_mul(60)?,
        'h' => n.checked_mul(3600)?,
        _ => return None,
    };
    (secs >= 10).then(|| std::time::Duration::from_secs(secs))
}

/// A config that cannot be used, with where and how to fix it.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("{}: cannot read the config file: {source}", path.display())]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("{}:{line}:{column}: {message}\n  fix: {fix}", path.display())]
    Invalid {
        path: PathBuf,
        line: usize,
        column: usize,
        message: String,
        fix: String,
    },
}

/// The file as written: every field optional so it can be layered over the defaults.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct Layer {
    ui: Option<UiLayer>,
    reminders: Option<RemindersLayer>,
    #[serde(default)]
    account: Vec<toml::Spanned<AccountConfig>>,
    keys: Option<std::collections::BTreeMap<String, toml::Spanned<KeyList>>>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct UiLayer {
    week_start: Option<WeekStart>,
    time_format: Option<Clock>,
    #[serde(default, deserialize_with = "zone_name")]
    zone: Option<Option<Tz>>,
    view: Option<View>,
    hidden: Option<Vec<String>>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct RemindersLayer {
    bell: Option<bool>,
    notify: Option<bool>,
}

#[derive(Debug, Clone, Copy, Deserialize)]
#[serde(rename_all = "lowercase")]
enum WeekStart {
    Monday,
    Tuesday,
    Wednesday,
    Thursday,
    Friday,
    Saturday,
    Sunday,
}

impl From<WeekStart> for Weekday {
    fn from(w: WeekStart) -> Weekday {
        match w {
            WeekStart::Monday => Weekday::Mon,
            WeekStart::Tuesday => Weekday::Tue,
            WeekStart::Wednesday => Weekday::Wed,
            WeekStart::Thursday => Weekday::Thu,
            WeekStart::Friday => Weekday::Fri,
            WeekStart::Saturday => Weekday::Sat,
            WeekStart::Sunday => Weekday::Sun,
        }
    }
}

fn zone_name<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Option<Option<Tz>>, D::Error> {
    let name = String::deserialize(d)?;
    if name.trim().is_empty() {
        return Ok(Some(None));
    }
    tz::resolve(&name).map(|z| Some(Some(z))).ok_or_else(|| {
        serde::de::Error::custom(format!(
            "unknown time zone '{name}' (want an IANA name such as \"Europe/Berlin\")"
        ))
    })
}

impl Config {
    /// The defaults alone.
    pub fn defaults() -> Config {
        let layer = parse_layer(DEFAULTS, Path::new("<built-in defaults>"))
            .expect("the embedded defaults parse");
        let mut config = Config {
            week_start: Weekday::Mon,
            clock: Clock::H24,
            zone: None,
            view: View::Month,
            accounts: Vec::new(),
            bell: false,
            notify: true,
            source: None,
            hidden: Vec::new(),
            keys: Vec::new(),
        };
        config.apply(layer, "");
        config
    }

    /// Loads the config: `explicit` must exist; otherwise the standard location is used if present.
    pub fn load(explicit: Option<&Path>) -> Result<Config, ConfigError> {
        let path = match explicit {
            Some(p) => p.to_path_buf(),
            None => match default_path() {
                Some(p) if p.exists() => p,
                _ => return Ok(Config::defaults()),
            },
        };
        let text = std::fs::read_to_string(&path).map_err(|source| ConfigError::Read {
            path: path.clone(),
            source,
        })?;
        Config::from_str_at(&text, &path)
    }

    /// Parses `text` (the content of `path`) over the defaults.
    pub fn from_str_at(text: &str, path: &Path) -> Result<Config, ConfigError> {
        let layer = parse_layer(text, path)?;
        for account in &layer.account {
            check_account(account, text, path)?;
        }
        let mut config = Config::defaults();
        config.apply(layer, text);
        config.source = Some(path.to_path_buf());
        Ok(config)
    }

    /// The file the person edits: the one these settings came from, else the standard place.
    pub fn file(&self) -> Option<PathBuf> {
        self.source.clone().or_else(default_path)
    }

    fn apply(&mut self, layer: Layer, text: &str) {
        if let Some(ui) = layer.ui {
            if let Some(w) = ui.week_start {
                self.week_start = w.into();
            }
            if let Some(c) = ui.time_format {
                self.clock = c;
            }
            if let Some(z) = ui.zone {
                self.zone = z;
            }
            if let Some(v) = ui.view {
                self.view = v;
            }
            if let Some(h) = ui.hidden {
                self.hidden = h;
            }
        }
        for (action, keys) in layer.keys.into_iter().flatten() {
            let offset = keys.span().start.min(text.len());
            let line = text[..offset].matches('\n').count() + 1;
            let keys = match keys.into_inner() {
                KeyList::One(k) => vec![k],
                KeyList::Many(k) => k,
            };
            self.keys.push(KeySetting { action, keys, line });
        }
        if let Some(r) = layer.reminders {
            if let Some(bell) = r.bell {
                self.bell = bell;
            }
            if let Some(notify) = r.notify {
                self.notify = notify;
            }
        }
        self.accounts
            .extend(layer.account.into_iter().map(toml::Spanned::into_inner));
    }
}

/// What serde cannot see: an account that cannot be synced as written, reported at its table.
fn check_account(
    spanned: &toml::Spanned<AccountConfig>,
    text: &str,
    path: &Path,
) -> Result<(), ConfigError> {
    let account = spanned.get_ref();
    let problem = match (account.kind, account.url.as_deref()) {
        (AccountKind::Caldav, None) => Some((
            format!("account '{}' has no url", account.name),
            "add the server's address, e.g. url = \"https://dav.example.org/\" (the bare server URL is enough)".to_string(),
        )),
        (AccountKind::Caldav, Some(url))
            if !(url.starts_with("https://") || url.starts_with("http://")) =>
        {
            Some((
                format!("account '{}': url '{url}' is not an http(s) URL", account.name),
                "write the full address, starting with https:// (or http:// for a server on this machine)".to_string(),
            ))
        }
        (AccountKind::Graph, _) if account.client_id.is_none() => Some((
            format!("account '{}' (graph) has no client_id", account.name),
            "add client_id = \"…\": the Application (client) id of an app registered in Microsoft Entra as a public client (see the README)".to_string(),
        )),
        _ if account.password.is_some() && account.username.is_none() => Some((
            format!("account '{}' has a password but no username", account.name),
            "add username = \"…\" to the account".to_string(),
        )),
        _ => None,
    };
    let Some((message, fix)) = problem else {
        return Ok(());
    };
    let offset = spanned.span().start.min(text.len());
    let before = &text[..offset];
    // The span starts at the `[[account]]` header.
    let line = before.matches('\n').count() + 1;
    Err(ConfigError::Invalid {
        path: path.to_path_buf(),
        line,
        column: 1,
        message,
        fix,
    })
}

/// `$XDG_CONFIG_HOME/almanac/config.toml` (or the platform's equivalent).
pub fn default_path() -> Option<PathBuf> {
    directories::ProjectDirs::from("", "", "almanac").map(|d| d.config_dir().join("config.toml"))
}

fn parse_layer(text: &str, path: &Path) -> Result<Layer, ConfigError> {
    toml::from_str::<Layer>(text).map_err(|e| {
        let offset = e.span().map(|s| s.start).unwrap_or(0).min(text.len());
        let before = &text[..offset];
        let line = before.matches('\n').count() + 1;
        let line_start = before.rfind('\n').map_or(0, |i| i + 1);
        let column = before[line_start..].chars().count() + 1;
        let key = key_before(&before[line_start..]);
        let (message, fix) = explain(e.message().trim(), key);
        ConfigError::Invalid {
            path: path.to_path_buf(),
            line,
            column,
            message,
            fix,
        }
    })
}

/// The key whose value starts at the end of `line` (`time_format = `), if the line has one.
fn key_before(line: &str) -> Option<&str> {
    let (head, value) = line.rsplit_once('=')?;
    if !value.trim().is_empty() {
        return None;
    }
    let head = head.trim_end();
    let start = head
        .rfind(|c: char| !(c.is_ascii_alphanumeric() || c == '_' || c == '-'))
        .map_or(0, |i| i + 1);
    Some(&head[start..]).filter(|k| !k.is_empty())
}

/// What a key takes, written as the line that would be right.
fn expected_value(key: &str) -> Option<&'static str> {
    Some(match key {
        "week_start" => "a day name in quotes: week_start = \"monday\" (or \"sunday\", …)",
        "time_format" => "a string in quotes: time_format = \"24h\" or time_format = \"12h\"",
        "zone" => {
            "an IANA zone name in quotes: zone = \"Europe/Berlin\", or \"\" for the system zone"
        }
        "view" => "a view name in quotes: view = \"month\" (or \"week\", \"day\", \"agenda\")",
        "name" => "a string in quotes: name = \"home\"",
        "kind" => "a string in quotes: kind = \"caldav\"",
        "url" => "a string in quotes: url = \"https://dav.example.org/\"",
        "username" => "a string in quotes: username = \"alice\"",
        "client_id" => "a string in quotes: client_id = \"…\"",
        "client_secret" => "a table: client_secret = { value = \"…\" } (or command, env)",
        "api_url" | "auth_url" | "token_url" | "login_url" => {
            "a URL in quotes: api_url = \"https://…\""
        }
        "tenant" => {
            "a string in quotes: tenant = \"common\" (or organizations, consumers, your tenant id)"
        }
        "window" => "a table: window = { past = \"90d\", future = \"400d\" }",
        "past" | "future" => "days in quotes: past = \"90d\"",
        "password" => SECRET_FORMS,
        "command" => "a list of strings: command = [\"pass\", \"show\", \"dav/alice\"]",
        "env" => "a variable name in quotes: env = \"VAR\"",
        "value" => "the password in quotes: value = \"…\"",
        "sync_every" => "a string in quotes: sync_every = \"5m\" (30s, 5m, 1h …)",
        "ca_file" => "a path in quotes: ca_file = \"/path/to/ca.pem\"",
        "ui" => "a table: [ui] on a line of its own, its keys below it",
        "hidden" => "a list of calendar names: hidden = [\"Holidays\", \"work/Team\"]",
        "keys" => "a table: [keys] on a line of its own, then action = [\"key\", …] lines",
        "account" => "an array of tables: [[account]] on a line of its own, its keys below it",
        _ => return None,
    })
}

/// The message and its fix, in the person's terms: the key at fault and what it takes.
fn explain(message: &str, key: Option<&str>) -> (String, String) {
    let wanted = key.and_then(|k| Some((k, expected_value(k)?)));
    let wrong_type = message.starts_with("invalid type") || message == "wanted string or table";
    if let (true, Some((key, wanted))) = (wrong_type, wanted) {
        let got = message
            .strip_prefix("invalid type: ")
            .and_then(|m| m.split(", expected").next())
            .map_or(String::new(), |g| format!(" ({g})"));
        return (
            format!("{key} has the wrong type{got}: it takes {wanted}"),
            format!("write it as {wanted}"),
        );
    }
    if message.starts_with("the password") {
        return (
            message.to_string(),
            format!("write {SECRET_FORMS}, e.g. password = {{ value = \"your password\" }}"),
        );
    }
    if message.starts_with("unknown field")
        && key.is_some_and(|k| ["command", "env", "value"].contains(&k))
        || message.contains("`command`, `env`, `value`")
    {
        return (message.to_string(), format!("write {SECRET_FORMS}"));
    }
    (message.to_string(), fix_for(message).to_string())
}

fn fix_for(message: &str) -> &'static str {
    if message.starts_with("unknown field") {
        "remove the key or correct its spelling: the keys allowed here are listed above"
    } else if message.starts_with("unknown variant") {
        "use one of the values listed above, in quotes"
    } else if message.contains("sync interval") {
        "write a number and a unit: s, m or h, e.g. sync_every = \"5m\""
    } else if message.contains("time zone") {
        "write an IANA zone name such as \"Europe/Berlin\", or \"\" for the system zone"
    } else if message.starts_with("missing field") {
        "add the missing key to this table"
    } else if message.starts_with("invalid type") {
        "give the value the type named above (strings need quotes, lists need [ ])"
    } else {
        "correct the TOML syntax on that line (strings in quotes, tables as [name], arrays of tables as [[name]])"
    }
}

#[cfg(test)]
mod graph_tests {
    use super::*;

    #[test]
    fn a_graph_account_reads_its_tenant_and_window_and_a_missing_client_id_names_the_line() {
        let path = Path::new("/x/config.toml");
        let text = "[[account]]\nname = \"work\"\nkind = \"graph\"\nclient_id = \"c\"\ntenant = \"organizations\"\nwindow = { past = \"30d\" }\n";
        let config = Config::from_str_at(text, path).unwrap();
        let acc = &config.accounts[0];
        assert_eq!(acc.tenant.as_deref(), Some("organizations"));
        assert_eq!(
            acc.window,
            Some(Window {
                past: 30,
                future: 400
            })
        );
        let bad = "\n[[account]]\nname = \"work\"\nkind = \"graph\"\n";
        let e = Config::from_str_at(bad, path).unwrap_err().to_string();
        assert!(
            e.contains("config.toml:2:") && e.contains("client_id"),
            "{e}"
        );
        let days = "[[account]]\nname = \"w\"\nkind = \"graph\"\nclient_id = \"c\"\nwindow = { past = \"3 weeks\" }\n";
        let e = Config::from_str_at(days, path).unwrap_err().to_string();
        assert!(e.contains("90d"), "{e}");
        assert_eq!(parse_days("400d"), Some(400));
        assert_eq!(parse_days("0d"), None);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_password_comes_from_a_command_an_env_var_or_a_value() {
        assert_eq!(Secret::Value("v".into()).resolve().unwrap(), "v");
        let cmd = Secret::Command(vec!["printf".into(), "first line\\nsecond".into()]);
        assert_eq!(cmd.resolve().unwrap(), "first line");
        let missing = Secret::Env("ALMANAC_TEST_SURELY_UNSET_VAR".into());
        let e = missing.resolve().unwrap_err();
        assert!(
            e.contains("ALMANAC_TEST_SURELY_UNSET_VAR") && e.contains("not set"),
            "{e}"
        );
        let failing = Secret::Command(vec!["false".into()]);
        assert!(failing.resolve().unwrap_err().contains("failed"));
        // The Debug form never shows a value.
        assert!(!format!("{:?}", Secret::Value("hunter2".into())).contains("hunter2"));
    }

    #[test]
    fn an_account_without_a_usable_url_is_reported_at_its_table() {
        let (line, message, fix) = err(
            "[ui]\nweek_start = \"monday\"\n\n[[account]]\nname = \"home\"\nkind = \"caldav\"\n",
        );
        assert_eq!(line, 4);
        assert!(message.contains("'home' has no url"), "{message}");
        assert!(fix.contains("url = "), "{fix}");
        let (_, message, _) =
            err("[[account]]\nname = \"h\"\nkind = \"caldav\"\nurl = \"dav.example.org\"\n");
        assert!(message.contains("not an http(s) URL"), "{message}");
        let (_, message, _) = err(
            "[[account]]\nname = \"h\"\nkind = \"caldav\"\nurl = \"https://x/\"\npassword = { value = \"p\" }\n",
        );
        assert!(message.contains("no username"), "{message}");
    }

    #[test]
    fn sync_every_takes_seconds_minutes_or_hours_and_says_how_when_wrong() {
        assert_eq!(parse_every("90s"), Some(std::time::Duration::from_secs(90)));
        assert_eq!(parse_every("5m"), Some(std::time::Duration::from_secs(300)));
        assert_eq!(
            parse_every("2h"),
            Some(std::time::Duration::from_secs(7200))
        );
        assert_eq!(parse_every("5"), None);
        assert_eq!(parse_every("3s"), None, "at least ten seconds");
        let (line, message, fix) =
            err("[[account]]\nname = \"a\"\nkind = \"caldav\"\nsync_every = \"often\"\n");
        assert_eq!(line, 4);
        assert!(message.contains("often"), "{message}");
        assert!(fix.contains("5m"), "{fix}");
    }

    fn err(text: &str) -> (usize, String, String) {
        match Config::from_str_at(text, Path::new("c.toml")) {
            Err(ConfigError::Invalid {
                line, message, fix, ..
            }) => (line, message, fix),
            other => panic!("expected an error, got {other:?}"),
        }
    }

    #[test]
    fn defaults_start_the_week_on_monday_in_the_system_zone() {
        let c = Config::defaults();
        assert_eq!(c.week_start, Weekday::Mon);
        assert_eq!(c.zone, None);
        assert_eq!(c.clock, Clock::H24);
    }

    #[test]
    fn the_persons_file_is_layered_over_the_defaults() {
        let bell = Config::from_str_at("[reminders]\nbell = true\n", Path::new("c.toml")).unwrap();
        assert!(bell.bell && !Config::defaults().bell);
        let c =
            Config::from_str_at("[ui]\nweek_start = \"sunday\"\n", Path::new("c.toml")).unwrap();
        assert_eq!(c.week_start, Weekday::Sun);
        assert_eq!(c.clock, Clock::H24, "untouched keys keep their defaults");
    }

    #[test]
    fn a_misspelt_key_names_its_line_and_the_fix() {
        let (line, message, fix) = err("[ui]\n\nweek_strat = \"monday\"\n");
        assert_eq!(line, 3);
        assert!(message.contains("week_strat"), "{message}");
        assert!(fix.contains("spelling"), "{fix}");
    }

    #[test]
    fn a_bad_value_and_a_bad_zone_are_explained() {
        let (line, message, _) = err("[ui]\nweek_start = \"mon\"\n");
        assert_eq!(line, 2);
        assert!(message.contains("monday"), "{message}");
        let (line, _, fix) = err("[ui]\nzone = \"Mars/Olympus\"\n");
        assert_eq!(line, 2);
        assert!(fix.contains("IANA"), "{fix}");
    }

    /// The whole message as the person sees it, for a file at their usual place.
    fn shown(text: &str) -> String {
        Config::from_str_at(text, Path::new("/home/p/.config/almanac/config.toml"))
            .expect_err("the config is refused")
            .to_string()
    }

    #[test]
    fn a_bare_string_password_is_answered_with_the_table_to_write_and_is_not_repeated() {
        let e = shown(
            "[[account]]\nname = \"home\"\nkind = \"caldav\"\nurl = \"https://dav.example.org/\"\n\
             username = \"alice\"\npassword = \"hunter2\"\n",
        );
        assert!(
            e.starts_with("/home/p/.config/almanac/config.toml:6:12: "),
            "{e}"
        );
        assert!(e.contains("bare string"), "{e}");
        let fix = e.split("fix: ").nth(1).expect("a fix");
        assert!(fix.contains("password = { value = \""), "{fix}");
        assert!(
            fix.contains("{ command = [") && fix.contains("{ env = "),
            "{fix}"
        );
        assert!(!e.contains("hunter2"), "the secret is not echoed: {e}");
        assert!(!e.contains("unknown variant"), "{e}");
    }

    #[test]
    fn a_password_table_with_an_unknown_or_a_second_source_says_which_forms_exist() {
        let account = "[[account]]\nname = \"h\"\nkind = \"caldav\"\nurl = \"https://x/\"\nusername = \"u\"\n";
        let e = shown(&format!("{account}password = {{ valu = \"p\" }}\n"));
        assert!(e.contains(":6:") && e.contains("valu"), "{e}");
        assert!(e.contains("fix: write password = { value = "), "{e}");
        let e = shown(&format!(
            "{account}password = {{ value = \"p\", env = \"X\" }}\n"
        ));
        assert!(
            e.contains(":6:") && e.contains("more than one source"),
            "{e}"
        );
        let c = Config::from_str_at(
            &format!("{account}password = {{ command = [\"pass\", \"show\", \"x\"] }}\n"),
            Path::new("c.toml"),
        )
        .expect("a command password is read");
        assert_eq!(
            c.accounts[0].password,
            Some(Secret::Command(vec![
                "pass".into(),
                "show".into(),
                "x".into()
            ]))
        );
    }

    #[test]
    fn a_value_of_the_wrong_type_says_the_type_its_key_takes() {
        let e = shown("[ui]\ntime_format = 12\n");
        assert!(
            e.starts_with("/home/p/.config/almanac/config.toml:2:15: "),
            "{e}"
        );
        assert!(e.contains("time_format has the wrong type"), "{e}");
        assert!(e.contains("time_format = \"24h\""), "{e}");
        assert!(!e.contains("TOML syntax"), "{e}");
        let e = shown("[ui]\nweek_start = 1\n");
        assert!(e.contains("week_start = \"monday\""), "{e}");
        let e = shown("[[account]]\nname = \"a\"\nkind = \"caldav\"\nsync_every = 5\n");
        assert!(e.contains(":4:") && e.contains("(integer `5`)"), "{e}");
        assert!(
            e.contains("fix: write it as a string in quotes: sync_every = \"5m\""),
            "{e}"
        );
    }

    #[test]
    fn errors_name_the_persons_file_never_the_built_in_defaults() {
        for bad in [
            "[ui]\ncolour = \"red\"\n",
            "[ui]\ntime_format = 12\n",
            "[ui]\nweek_start = \"mon\"\n",
        ] {
            let e = shown(bad);
            assert!(
                e.starts_with("/home/p/.config/almanac/config.toml:2:"),
                "{e}"
            );
            assert!(!e.contains("assets/config.toml"), "{e}");
        }
    }

    #[test]
    fn the_defaults_name_google_and_microsoft_only_to_say_they_do_not_sync_yet() {
        let text = DEFAULTS.to_lowercase();
        assert!(
            text.contains("sync works with caldav servers today"),
            "{DEFAULTS}"
        );
        let sentence = text
            .split("google")
            .nth(1)
            .and_then(|rest| rest.split('.').next())
            .expect("the defaults speak of google");
        assert!(sentence.contains("not synced yet"), "{sentence}");
        assert!(!text.contains("come next"), "{DEFAULTS}");
    }

    #[test]
    fn secrets_never_print() {
        let s = Secret::Value("hunter2".into());
        assert!(!format!("{s:?}").contains("hunter2"));
    }

    #[test]
    fn the_error_message_names_file_line_and_fix() {
        let e = Config::from_str_at("[ui\n", Path::new("/x/c.toml"))
            .unwrap_err()
            .to_string();
        assert!(e.starts_with("/x/c.toml:1:"), "{e}");
        assert!(e.contains("fix:"), "{e}");
    }
}

#[cfg(test)]
mod view_tests {
    use super::*;

    #[test]
    fn the_start_view_is_read_and_a_bad_one_names_the_line_and_the_choices() {
        assert_eq!(Config::defaults().view, View::Month);
        let c = Config::from_str_at("[ui]\nview = \"week\"\n", Path::new("c.toml")).unwrap();
        assert_eq!(c.view, View::Week);
        let e = Config::from_str_at("[ui]\n\nview = \"year\"\n", Path::new("/x/c.toml"))
            .unwrap_err()
            .to_string();
        assert!(e.contains("/x/c.toml") && e.contains(":3"), "{e}");
        assert!(
            e.contains("agenda") && e.contains("use one of the values"),
            "{e}"
        );
        let e = Config::from_str_at("[ui]\nview = 2\n", Path::new("c.toml"))
            .unwrap_err()
            .to_string();
        assert!(e.contains("view = \"month\""), "{e}");
    }
}
