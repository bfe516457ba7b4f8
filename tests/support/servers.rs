//! Real CalDAV servers for interop tests: Radicale and Xandikos, from the Python venv that
//! `bash tests/interop/setup.sh` makes, each started fresh on a free loopback port over an empty
//! temporary data directory, and killed when its [`Server`] drops.
//!
//! The request helpers (`make_calendar`, `put`, `delete`, `listing`, `get`, `dav`) are plain HTTP
//! with Basic auth and hand-written XML, no almanac code: they are the ground truth a test
//! compares almanac's cache with.
//!
//! What the servers answer (Radicale 3.9.0, Xandikos 0.4.10):
//! - `/.well-known/caldav`, any method, with or without auth: Radicale 301, Xandikos 302, both
//!   with `Location: /`. reqwest's default redirect policy re-sends a PROPFIND with its body and
//!   auth to `/` (it only turns POST into GET); this harness's own client follows no redirects.
//! - `current-user-principal` on `/`: Radicale `/alice/` (401 without auth), Xandikos `/user/`
//!   (no auth at all: any or no Authorization header is accepted).
//! - `calendar-home-set`: Radicale `/alice/` (calendars are `/alice/<id>/`), Xandikos
//!   `/user/calendars/`, which `--defaults` already holds one calendar in: `calendar/`.
//! - Xandikos answers 415 to a request body without an XML Content-Type.
//! - sync-collection with a token the server never issued: Radicale 403 with
//!   `<error xmlns="DAV:"><valid-sync-token /></error>`, Xandikos 412 with
//!   `<ns0:error xmlns:ns0="DAV:"><ns0:valid-sync-token /><ns0:responsedescription>…`.
//! - sync tokens: Radicale `http://radicale.org/ns/sync/<sha256>` (the element comes first in
//!   the multistatus), Xandikos a bare git hex id, not a URI (last in the multistatus; it is
//!   also the collection's getetag and getctag). Both report a deleted item as a `<response>`
//!   with a response-level `<status>HTTP/1.1 404 Not Found</status>` and no propstat.
//! - ETags are strong and quoted; the ETag a PUT answers is the getetag a listing shows.
//! - Radicale's built-in server answers HTTP/1.0. Xandikos answers MKCALENDAR 201 with a body
//!   (in the misspelt namespace `urn:ietf:params:xml:ns:carldav:`), Radicale with none.
#![allow(dead_code)]

use std::fmt;
use std::fs::File;
use std::io::{Read, Write};
use std::net::{Ipv4Addr, SocketAddr, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use reqwest::Method;
use tempfile::TempDir;

/// Which server to run.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    Radicale,
    Xandikos,
}

impl Kind {
    fn binary(self) -> &'static str {
        match self {
            Kind::Radicale => "radicale",
            Kind::Xandikos => "xandikos",
        }
    }
}

impl fmt::Display for Kind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.binary())
    }
}

/// A running server with its own data directory. Dropping it kills the process and removes the
/// directory.
pub struct Server {
    pub kind: Kind,
    /// The bare server URL to start discovery from, with a trailing slash.
    pub base_url: String,
    pub user: String,
    pub password: String,
    child: Child,
    log: PathBuf,
    client: reqwest::Client,
    // Last, so the directory goes after the process is reaped.
    dir: TempDir,
}

const USER: &str = "alice";
const PASSWORD: &str = "secret-pw";
const READY_TIMEOUT: Duration = Duration::from_secs(20);

/// The venv setup.sh installs into: `$ALMANAC_INTEROP_VENV`, else `<repo>/target/interop-venv`.
pub fn venv_dir() -> PathBuf {
    match std::env::var_os("ALMANAC_INTEROP_VENV") {
        Some(dir) if !dir.is_empty() => PathBuf::from(dir),
        _ => Path::new(env!("CARGO_MANIFEST_DIR")).join("target/interop-venv"),
    }
}

fn under_ci() -> bool {
    std::env::var("CI").is_ok_and(|v| v == "true")
}

/// Starts a fresh server of `kind` from the venv; see [`start_in`].
pub fn start(kind: Kind) -> Option<Server> {
    start_in(kind, &venv_dir(), under_ci())
}

/// Starts a fresh server on a free loopback port with an empty data dir, and waits until it
/// answers HTTP. When `venv` has no binary for `kind`: panics if `ci`, else returns `None`.
pub fn start_in(kind: Kind, venv: &Path, ci: bool) -> Option<Server> {
    let binary = venv.join("bin").join(kind.binary());
    if !binary.is_file() {
        assert!(
            !ci,
            "{kind} is not installed: {} is missing; run `bash tests/interop/setup.sh` first \
             (or set ALMANAC_INTEROP_VENV to its venv)",
            binary.display()
        );
        return None;
    }
    // A port found free may be taken by someone else before the server binds it: try again.
    let mut last_log = String::new();
    for _ in 0..3 {
        match try_start(kind, &binary) {
            Ok(server) => return Some(server),
            Err(log) => last_log = log,
        }
    }
    panic!("{kind} would not start on a free port three times; its last log:\n{last_log}");
}

/// Ok, or Err with the log of a server that exited because its port was taken. Panics on any
/// other failure.
fn try_start(kind: Kind, binary: &Path) -> Result<Server, String> {
    let dir = tempfile::Builder::new()
        .prefix(&format!("almanac-{kind}-"))
        .tempdir()
        .expect("temporary directory for the server");
    let port = free_port();
    let log = dir.path().join("server.log");
    let log_file = File::create(&log).expect("server log file");
    let data = dir.path().join("data");

    let mut command = Command::new(binary);
    match kind {
        Kind::Radicale => {
            let users = dir.path().join("users");
            std::fs::write(&users, format!("{USER}:{PASSWORD}\n")).expect("htpasswd file");
            let config = dir.path().join("config");
            std::fs::write(
                &config,
                format!(
                    "[server]\nhosts = 127.0.0.1:{port}\n\n\
                     [auth]\ntype = htpasswd\nhtpasswd_filename = {users}\n\
                     htpasswd_encryption = plain\ndelay = 0\n\n\
                     [rights]\ntype = owner_only\n\n\
                     [storage]\nfilesystem_folder = {data}\n\n\
                     [logging]\nlevel = warning\n",
                    users = users.display(),
                    data = data.display(),
                ),
            )
            .expect("radicale config");
            command.arg("--config").arg(&config);
        }
        Kind::Xandikos => {
            command
                .arg("serve")
                .arg("--defaults")
                .arg("--autocreate")
                .arg("-d")
                .arg(&data)
                .arg("--state-dir")
                .arg(dir.path().join("state"))
                .args(["-l", "127.0.0.1", "-p", &port.to_string()]);
        }
    }
    let child = command
        .current_dir(dir.path())
        .env("HOME", dir.path())
        .env("XDG_DATA_HOME", dir.path().join("xdg"))
        .env("PYTHONDONTWRITEBYTECODE", "1")
        .env_remove("RADICALE_CONFIG")
        .stdin(Stdio::null())
        .stdout(Stdio::from(log_file.try_clone().expect("log file handle")))
        .stderr(Stdio::from(log_file))
        .spawn()
        .unwrap_or_else(|e| panic!("cannot run {}: {e}", binary.display()));

    let mut server = Server {
        kind,
        base_url: format!("http://127.0.0.1:{port}/"),
        user: USER.to_string(),
        password: PASSWORD.to_string(),
        child,
        log,
        client: client(),
        dir,
    };
    let started = Instant::now();
    loop {
        if answers_http(port) {
            return Ok(server);
        }
        if let Some(status) = server.child.try_wait().expect("server status") {
            let log = server.log_tail();
            if log.contains("Address already in use") || log.contains("address already in use") {
                return Err(log);
            }
            panic!("{kind} exited with {status} before answering; its log:\n{log}");
        }
        if started.elapsed() > READY_TIMEOUT {
            panic!(
                "{kind} did not answer on port {port} within {READY_TIMEOUT:?}; its log:\n{}",
                server.log_tail()
            );
        }
        std::thread::sleep(Duration::from_millis(50));
    }
}

fn free_port() -> u16 {
    TcpListener::bind((Ipv4Addr::LOCALHOST, 0))
        .and_then(|l| l.local_addr())
        .expect("a free loopback port")
        .port()
}

/// True once something on the port answers an HTTP request with a status line.
fn answers_http(port: u16) -> bool {
    let addr = SocketAddr::from((Ipv4Addr::LOCALHOST, port));
    let Ok(mut stream) = TcpStream::connect_timeout(&addr, Duration::from_millis(500)) else {
        return false;
    };
    let _ = stream.set_read_timeout(Some(Duration::from_secs(2)));
    if stream
        .write_all(b"OPTIONS / HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n")
        .is_err()
    {
        return false;
    }
    let mut head = [0u8; 5];
    stream.read_exact(&mut head).is_ok() && &head == b"HTTP/"
}

fn client() -> reqwest::Client {
    // reqwest is built with rustls but no crypto provider: give it ring's (plain http needs none,
    // but building the client asks for one). Already installed is fine.
    let _ = rustls::crypto::ring::default_provider().install_default();
    reqwest::Client::builder()
        .timeout(Duration::from_secs(30))
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .expect("HTTP client")
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Server {
    /// The server's data directory (inside its temporary directory).
    pub fn data_dir(&self) -> PathBuf {
        self.dir.path().join("data")
    }

    /// The last 40 lines of the server's stdout and stderr.
    pub fn log_tail(&self) -> String {
        let log = std::fs::read_to_string(&self.log).unwrap_or_default();
        let lines: Vec<&str> = log.lines().collect();
        lines[lines.len().saturating_sub(40)..].join("\n")
    }

    /// Where calendars live, as discovery finds it (`calendar-home-set`), with a trailing slash.
    pub fn calendar_home(&self) -> String {
        match self.kind {
            Kind::Radicale => format!("{}{}/", self.base_url, self.user),
            Kind::Xandikos => format!("{}user/calendars/", self.base_url),
        }
    }

    /// The full URL of an absolute path such as an href from a multistatus.
    pub fn url(&self, href: &str) -> String {
        if href.starts_with("http://") || href.starts_with("https://") {
            href.to_string()
        } else {
            format!("{}{}", self.base_url, href.trim_start_matches('/'))
        }
    }

    /// Any request; with Basic auth as the server's user when `auth`, and a body sent as
    /// `application/xml` unless `headers` name a Content-Type. Redirects are not followed.
    /// Returns status, headers and body.
    pub async fn request(
        &self,
        method: &str,
        url: &str,
        auth: bool,
        headers: &[(&str, &str)],
        body: &str,
    ) -> (u16, reqwest::header::HeaderMap, String) {
        let method = Method::from_bytes(method.as_bytes()).expect("HTTP method");
        let mut request = self.client.request(method.clone(), url);
        if auth {
            request = request.basic_auth(&self.user, Some(&self.password));
        }
        for (name, value) in headers {
            request = request.header(*name, *value);
        }
        if !body.is_empty() {
            if !headers
                .iter()
                .any(|(n, _)| n.eq_ignore_ascii_case("content-type"))
            {
                request = request.header("Content-Type", "application/xml; charset=utf-8");
            }
            request = request.body(body.to_string());
        }
        let response = request
            .send()
            .await
            .unwrap_or_else(|e| panic!("{method} {url}: {e}\n{}", self.log_tail()));
        let status = response.status().as_u16();
        let headers = response.headers().clone();
        let text = response.text().await.unwrap_or_default();
        (status, headers, text)
    }

    /// A WebDAV request with Basic auth, an optional Depth header and an XML body (none if
    /// empty). Returns status and body.
    pub async fn dav(
        &self,
        method: &str,
        url: &str,
        depth: Option<&str>,
        body: &str,
    ) -> (u16, String) {
        let depth: Vec<(&str, &str)> = depth.map(|d| ("Depth", d)).into_iter().collect();
        let (status, _, text) = self.request(method, url, true, &depth, body).await;
        (status, text)
    }

    /// Creates a calendar collection (MKCALENDAR, with displayname) in the calendar home and
    /// returns its full URL, with a trailing slash.
    pub async fn make_calendar(&self, id: &str, name: &str) -> String {
        let url = format!("{}{id}/", self.calendar_home());
        let body = format!(
            r#"<?xml version="1.0" encoding="utf-8"?>
<c:mkcalendar xmlns:d="DAV:" xmlns:c="urn:ietf:params:xml:ns:caldav">
  <d:set><d:prop>
    <d:displayname>{}</d:displayname>
    <c:supported-calendar-component-set><c:comp name="VEVENT"/></c:supported-calendar-component-set>
  </d:prop></d:set>
</c:mkcalendar>"#,
            xml_escape(name)
        );
        let (status, text) = self.dav("MKCALENDAR", &url, None, &body).await;
        assert_eq!(
            status,
            201,
            "{} MKCALENDAR {url}: {text}\n{}",
            self.kind,
            self.log_tail()
        );
        url
    }

    /// PUTs an event resource (created or replaced, no precondition); returns the ETag header
    /// if the server sent one.
    pub async fn put(&self, calendar_url: &str, name: &str, ics: &str) -> Option<String> {
        let url = format!("{calendar_url}{name}");
        let content_type = [("Content-Type", "text/calendar; charset=utf-8")];
        let (status, headers, text) = self.request("PUT", &url, true, &content_type, ics).await;
        assert!(
            (200..300).contains(&status),
            "{} PUT {url}: {status} {text}\n{}",
            self.kind,
            self.log_tail()
        );
        header(&headers, "etag")
    }

    /// DELETEs an event resource; it must have existed.
    pub async fn delete(&self, calendar_url: &str, name: &str) {
        let url = format!("{calendar_url}{name}");
        let (status, text) = self.dav("DELETE", &url, None, "").await;
        assert!(
            (200..300).contains(&status),
            "{} DELETE {url}: {status} {text}\n{}",
            self.kind,
            self.log_tail()
        );
    }

    /// (href, etag) of every item in the calendar, sorted by href, by a Depth 1 PROPFIND. Hrefs
    /// are as the server wrote them (absolute paths); etags keep their quotes.
    pub async fn listing(&self, calendar_url: &str) -> Vec<(String, String)> {
        let body = r#"<?xml version="1.0" encoding="utf-8"?>
<d:propfind xmlns:d="DAV:"><d:prop><d:getetag/><d:resourcetype/></d:prop></d:propfind>"#;
        let (status, text) = self.dav("PROPFIND", calendar_url, Some("1"), body).await;
        assert_eq!(
            status,
            207,
            "{} PROPFIND {calendar_url}: {text}\n{}",
            self.kind,
            self.log_tail()
        );
        let mut items: Vec<(String, String)> = multistatus(&text)
            .into_iter()
            .filter(|r| !r.href.ends_with('/') && !r.etag.is_empty())
            .map(|r| (r.href, r.etag))
            .collect();
        items.sort();
        items
    }

    /// GETs a resource (full URL): its ETag header (empty if none) and body. Must be 200.
    pub async fn get(&self, url: &str) -> (String, String) {
        let (status, headers, text) = self.request("GET", url, true, &[], "").await;
        assert_eq!(
            status,
            200,
            "{} GET {url}: {text}\n{}",
            self.kind,
            self.log_tail()
        );
        (header(&headers, "etag").unwrap_or_default(), text)
    }
}

/// A header's value as text, if present.
pub fn header(headers: &reqwest::header::HeaderMap, name: &str) -> Option<String> {
    headers
        .get(name)
        .and_then(|v| v.to_str().ok())
        .map(str::to_string)
}

fn xml_escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}

/// One `<response>` of a multistatus: its href and getetag (empty when absent).
#[derive(Debug, Default)]
pub struct Response {
    pub href: String,
    pub etag: String,
}

/// The responses of a multistatus body, by local names (any namespace prefixes).
pub fn multistatus(xml: &str) -> Vec<Response> {
    use quick_xml::events::Event;
    let mut reader = quick_xml::Reader::from_str(xml);
    let mut path: Vec<Vec<u8>> = Vec::new();
    let mut out = Vec::new();
    let mut current = Response::default();
    loop {
        let event = reader
            .read_event()
            .unwrap_or_else(|e| panic!("bad multistatus ({e}): {xml}"));
        let text = match &event {
            Event::Start(e) => {
                path.push(e.local_name().as_ref().to_vec());
                if path.last().is_some_and(|n| n == b"response") {
                    current = Response::default();
                }
                continue;
            }
            Event::End(_) => {
                if path.pop().is_some_and(|n| n == b"response") {
                    let Response { href, etag } = std::mem::take(&mut current);
                    out.push(Response {
                        href: href.trim().to_string(),
                        etag: etag.trim().to_string(),
                    });
                }
                continue;
            }
            Event::Text(t) => t.decode().expect("utf-8 text").into_owned(),
            Event::GeneralRef(r) => match r.decode().expect("utf-8 entity").as_ref() {
                "amp" => "&".to_string(),
                "lt" => "<".to_string(),
                "gt" => ">".to_string(),
                "quot" => "\"".to_string(),
                "apos" => "'".to_string(),
                _ => r
                    .resolve_char_ref()
                    .ok()
                    .flatten()
                    .map(String::from)
                    .unwrap_or_default(),
            },
            Event::Eof => break,
            _ => continue,
        };
        let names: Vec<&[u8]> = path.iter().map(Vec::as_slice).collect();
        match names.as_slice() {
            [.., b"response", b"href"] => current.href.push_str(&text),
            [.., b"getetag"] => current.etag.push_str(&text),
            _ => {}
        }
    }
    out
}
