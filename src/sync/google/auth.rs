//! Signing in to Google: the installed-app loopback flow with PKCE (RFC 8252, RFC 7636) on the
//! person's own Desktop OAuth client, and the tokens it yields, kept in a file only the person
//! can read (0600) and refreshed before they expire. PROTOCOLS.md §2 "OAuth".

use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::time::Duration;

use reqwest::Url;
use serde::{Deserialize, Serialize};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;

use crate::sync::http::{Http, HttpError, Request};

/// The scope almanac asks for: read and write every calendar.
pub const SCOPE: &str = "https://www.googleapis.com/auth/calendar";
/// A token this close to its expiry is refreshed before use.
const REFRESH_AHEAD_SECS: i64 = 300;
/// How long `login` waits for the browser to come back.
pub const LOGIN_TIMEOUT: Duration = Duration::from_secs(300);

/// The person's OAuth client and Google's endpoints (overridden only for the emulator).
#[derive(Clone)]
pub struct OAuthClient {
    pub client_id: String,
    pub client_secret: String,
    pub auth_url: Url,
    pub token_url: Url,
}

impl std::fmt::Debug for OAuthClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("OAuthClient")
            .field("client_id", &self.client_id)
            .field("token_url", &self.token_url.as_str())
            .finish_non_exhaustive()
    }
}

/// What a sign-in keeps. Never logged.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Tokens {
    pub access_token: String,
    /// Unix seconds.
    pub expires_at: i64,
    pub refresh_token: String,
}

impl std::fmt::Debug for Tokens {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Tokens(expires_at: {}, <redacted>)", self.expires_at)
    }
}

impl Tokens {
    /// Whether the access token should be refreshed before use at `now`.
    pub fn stale(&self, now: i64) -> bool {
        self.expires_at - REFRESH_AHEAD_SECS <= now
    }
}

/// Why signing in or refreshing failed.
#[derive(Debug, thiserror::Error)]
pub enum AuthError {
    /// The refresh token is dead (revoked, expired, a "Testing" app's 7 days): only a new
    /// sign-in helps.
    #[error(
        "Google no longer accepts this account's sign-in ({0}): sign in again: almanac login {1}"
    )]
    InvalidGrant(String, String),
    #[error("the account has never signed in: almanac login {0}")]
    NeverSignedIn(String),
    #[error("Google refused the sign-in: {0}")]
    Refused(String),
    #[error(transparent)]
    Http(#[from] HttpError),
    #[error("cannot keep the tokens in {0}: {1}")]
    Storage(PathBuf, String),
    #[error("{0}")]
    Flow(String),
}

/// Where an account's tokens live: `<data dir>/tokens/<account>.json`.
pub fn token_path(data_dir: &Path, account: &str) -> PathBuf {
    let safe: String = account
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || "-_.".contains(c) {
                c
            } else {
                '_'
            }
        })
        .collect();
    data_dir.join("tokens").join(format!("{safe}.json"))
}

/// The account's tokens, if it ever signed in.
pub fn load(path: &Path) -> Result<Option<Tokens>, AuthError> {
    match std::fs::read(path) {
        Ok(bytes) => serde_json::from_slice(&bytes)
            .map(Some)
            .map_err(|e| AuthError::Storage(path.to_path_buf(), format!("unreadable: {e}"))),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(AuthError::Storage(path.to_path_buf(), e.to_string())),
    }
}

/// Stores tokens so that only the person can read them (0600 in a 0700 directory), replacing
/// the file in one rename: a crash leaves the old tokens or the new, never half of either.
pub fn save(path: &Path, tokens: &Tokens) -> Result<(), AuthError> {
    let fail = |e: std::io::Error| AuthError::Storage(path.to_path_buf(), e.to_string());
    let dir = path.parent().unwrap_or(Path::new("."));
    std::fs::create_dir_all(dir).map_err(fail)?;
    let tmp = path.with_extension("json.tmp");
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create(true).truncate(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
        options.mode(0o600);
        let _ = std::fs::set_permissions(dir, std::fs::Permissions::from_mode(0o700));
    }
    let mut file = options.open(&tmp).map_err(fail)?;
    #[cfg(unix)]
    {
        // A file left by an older run keeps its mode on open: set it.
        use std::os::unix::fs::PermissionsExt;
        file.set_permissions(std::fs::Permissions::from_mode(0o600))
            .map_err(fail)?;
    }
    let body = serde_json::to_vec(tokens).map_err(|e| fail(std::io::Error::other(e)))?;
    file.write_all(&body).map_err(fail)?;
    file.sync_all().map_err(fail)?;
    std::fs::rename(&tmp, path).map_err(fail)
}

/// A PKCE pair (RFC 7636 §4.1–4.2): a random verifier and its S256 challenge.
pub struct Pkce {
    pub verifier: String,
    pub challenge: String,
}

/// A fresh PKCE pair.
pub fn pkce() -> Pkce {
    let verifier = base64url(&random_bytes::<48>());
    let digest = ring::digest::digest(&ring::digest::SHA256, verifier.as_bytes());
    Pkce {
        challenge: base64url(digest.as_ref()),
        verifier,
    }
}

/// Random bytes from the system's generator.
pub fn random_bytes<const N: usize>() -> [u8; N] {
    use ring::rand::SecureRandom;
    let mut out = [0u8; N];
    if ring::rand::SystemRandom::new().fill(&mut out).is_err() {
        // No system generator at all: time and address entropy, still never predictable
        // across runs (a PKCE verifier only has to outlive one sign-in).
        let seed = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_nanos());
        for (i, b) in out.iter_mut().enumerate() {
            *b = (seed >> ((i % 16) * 8)) as u8 ^ (i as u8).wrapping_mul(151);
        }
    }
    out
}

/// Base64url without padding (RFC 4648 §5).
pub fn base64url(bytes: &[u8]) -> String {
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    let mut out = String::with_capacity(bytes.len().div_ceil(3) * 4);
    for chunk in bytes.chunks(3) {
        let n = chunk
            .iter()
            .enumerate()
            .fold(0u32, |n, (i, b)| n | (u32::from(*b) << (16 - 8 * i)));
        for i in 0..=chunk.len() {
            out.push(ALPHABET[((n >> (18 - 6 * i)) & 63) as usize] as char);
        }
    }
    out
}

/// The consent page's address for this sign-in (PROTOCOLS.md §2 "OAuth": loopback redirect,
/// S256, offline access, consent every time so a refresh token always comes).
pub fn authorization_url(
    client: &OAuthClient,
    redirect: &str,
    state: &str,
    challenge: &str,
) -> Url {
    let mut url = client.auth_url.clone();
    url.query_pairs_mut()
        .append_pair("client_id", &client.client_id)
        .append_pair("redirect_uri", redirect)
        .append_pair("response_type", "code")
        .append_pair("scope", SCOPE)
        .append_pair("code_challenge", challenge)
        .append_pair("code_challenge_method", "S256")
        .append_pair("access_type", "offline")
        .append_pair("prompt", "consent")
        .append_pair("state", state);
    url
}

/// The token endpoint's answer.
#[derive(Deserialize)]
struct TokenReply {
    access_token: Option<String>,
    expires_in: Option<i64>,
    refresh_token: Option<String>,
    error: Option<String>,
    error_description: Option<String>,
}

/// One POST to the token endpoint with a form body.
async fn token_request(
    http: &Http,
    client: &OAuthClient,
    form: &[(&str, &str)],
) -> Result<TokenReply, AuthError> {
    let body = {
        let mut body = form_urlencoded::Serializer::new(String::new());
        for (k, v) in form {
            body.append_pair(k, v);
        }
        body.finish()
    };
    let mut req = Request::new("POST", client.token_url.clone())
        .header("content-type", "application/x-www-form-urlencoded");
    req.body = Some(body);
    let resp = match http.send(req).await {
        Ok(resp) => resp,
        Err(HttpError::Unauthorized) => {
            return Err(AuthError::Refused(
                "the client_id or client_secret is not accepted (invalid_client)".into(),
            ));
        }
        Err(e) => return Err(e.into()),
    };
    let reply: TokenReply = serde_json::from_slice(&resp.body).map_err(|_| {
        AuthError::Refused(format!(
            "the token endpoint answered {} with no readable JSON",
            resp.status.as_u16()
        ))
    })?;
    if let Some(error) = &reply.error {
        let words = reply.error_description.clone().unwrap_or_default();
        return Err(match error.as_str() {
            "invalid_grant" => {
                AuthError::InvalidGrant(crate::domain::text::sanitize(&words), String::new())
            }
            _ => AuthError::Refused(crate::domain::text::sanitize(&format!("{error}: {words}"))),
        });
    }
    Ok(reply)
}

/// A client for the token endpoint.
pub fn token_http(client: &OAuthClient) -> Result<Http, AuthError> {
    Ok(Http::new(
        &client.token_url,
        None,
        None,
        Duration::from_secs(30),
    )?)
}

/// Trades an authorization code for tokens (RFC 7636 §4.5: with the verifier).
pub async fn exchange_code(
    http: &Http,
    client: &OAuthClient,
    code: &str,
    redirect: &str,
    verifier: &str,
    now: i64,
) -> Result<Tokens, AuthError> {
    let reply = token_request(
        http,
        client,
        &[
            ("grant_type", "authorization_code"),
            ("code", code),
            ("redirect_uri", redirect),
            ("client_id", &client.client_id),
            ("client_secret", &client.client_secret),
            ("code_verifier", verifier),
        ],
    )
    .await?;
    let access_token = reply
        .access_token
        .ok_or_else(|| AuthError::Refused("the token reply holds no access token".into()))?;
    let refresh_token = reply.refresh_token.ok_or_else(|| {
        AuthError::Refused(
            "Google gave no refresh token; remove almanac's access at \
             https://myaccount.google.com/permissions and sign in again"
                .into(),
        )
    })?;
    Ok(Tokens {
        access_token,
        expires_at: now + reply.expires_in.unwrap_or(3600),
        refresh_token,
    })
}

/// A new access token from the refresh token (which Google keeps: the same one comes back, or
/// none).
pub async fn refresh(
    http: &Http,
    client: &OAuthClient,
    tokens: &Tokens,
    now: i64,
) -> Result<Tokens, AuthError> {
    let reply = token_request(
        http,
        client,
        &[
            ("grant_type", "refresh_token"),
            ("refresh_token", &tokens.refresh_token),
            ("client_id", &client.client_id),
            ("client_secret", &client.client_secret),
        ],
    )
    .await?;
    Ok(Tokens {
        access_token: reply
            .access_token
            .ok_or_else(|| AuthError::Refused("the token reply holds no access token".into()))?,
        expires_at: now + reply.expires_in.unwrap_or(3600),
        refresh_token: reply
            .refresh_token
            .unwrap_or_else(|| tokens.refresh_token.clone()),
    })
}

/// The loopback sign-in: prints the consent page's address (and opens a browser when asked),
/// waits for Google to send the browser back to a port on 127.0.0.1, trades the code for
/// tokens and stores them at `path`. Works over SSH with the port forwarded
/// (`ssh -L PORT:127.0.0.1:PORT`): the port is printed too.
pub async fn login(
    client: &OAuthClient,
    path: &Path,
    out: &mut (dyn std::io::Write + Send),
    open_browser: bool,
    timeout: Duration,
) -> Result<(), AuthError> {
    let listener = TcpListener::bind("127.0.0.1:0")
        .await
        .map_err(|e| AuthError::Flow(format!("cannot listen on a loopback port: {e}")))?;
    let port = listener
        .local_addr()
        .map_err(|e| AuthError::Flow(e.to_string()))?
        .port();
    let redirect = format!("http://127.0.0.1:{port}");
    let pkce = pkce();
    let state = base64url(&random_bytes::<16>());
    let url = authorization_url(client, &redirect, &state, &pkce.challenge);
    let _ = writeln!(out, "Open this address in a browser and allow access:");
    let _ = writeln!(out, "{url}");
    let _ = writeln!(
        out,
        "Waiting on 127.0.0.1:{port} (over SSH: ssh -L {port}:127.0.0.1:{port} this-host)"
    );
    let _ = out.flush();
    if open_browser {
        open_in_browser(url.as_str());
    }
    let code = tokio::time::timeout(timeout, wait_for_code(&listener, &state))
        .await
        .map_err(|_| {
            AuthError::Flow(format!(
                "no answer from the browser within {} s",
                timeout.as_secs()
            ))
        })??;
    let http = token_http(client)?;
    let tokens = exchange_code(
        &http,
        client,
        &code,
        &redirect,
        &pkce.verifier,
        chrono::Utc::now().timestamp(),
    )
    .await?;
    save(path, &tokens)
}

/// Accepts connections until one brings `code` with our `state` (or an error).
async fn wait_for_code(listener: &TcpListener, state: &str) -> Result<String, AuthError> {
    loop {
        let Ok((mut stream, _)) = listener.accept().await else {
            continue;
        };
        let mut buf = vec![0u8; 8192];
        let mut len = 0;
        // The request line and headers; the body (none for a GET) is not needed.
        while len < buf.len() {
            match tokio::time::timeout(Duration::from_secs(10), stream.read(&mut buf[len..])).await
            {
                Ok(Ok(0)) | Err(_) | Ok(Err(_)) => break,
                Ok(Ok(n)) => {
                    len += n;
                    if buf[..len].windows(4).any(|w| w == b"\r\n\r\n") {
                        break;
                    }
                }
            }
        }
        let head = String::from_utf8_lossy(&buf[..len]);
        let target = head
            .lines()
            .next()
            .and_then(|l| l.split_whitespace().nth(1))
            .unwrap_or("/");
        let query = Url::parse(&format!("http://127.0.0.1{target}")).ok();
        let param = |name: &str| {
            query.as_ref().and_then(|u| {
                u.query_pairs()
                    .find(|(k, _)| k == name)
                    .map(|(_, v)| v.into_owned())
            })
        };
        let (status, page, result) = match (param("state"), param("code"), param("error")) {
            (Some(s), Some(code), None) if s == state => (
                "200 OK",
                "Signed in: almanac has the calendars now. You can close this tab.",
                Some(Ok(code)),
            ),
            (Some(s), _, Some(error)) if s == state => (
                "200 OK",
                "Access was not granted; almanac stopped the sign-in.",
                Some(Err(AuthError::Refused(crate::domain::text::sanitize(
                    &error,
                )))),
            ),
            // A favicon, a scanner, a stale tab: not the answer we wait for.
            _ => ("404 Not Found", "Not the sign-in answer.", None),
        };
        let body = format!("<!doctype html><title>almanac</title><p>{page}</p>\n");
        let reply = format!(
            "HTTP/1.1 {status}\r\ncontent-type: text/html; charset=utf-8\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}",
            body.len()
        );
        let _ = stream.write_all(reply.as_bytes()).await;
        let _ = stream.shutdown().await;
        if let Some(result) = result {
            return result;
        }
    }
}

/// Opens `url` in the desktop's browser, when there is a desktop.
fn open_in_browser(url: &str) {
    let desktop = std::env::var_os("DISPLAY").is_some()
        || std::env::var_os("WAYLAND_DISPLAY").is_some()
        || cfg!(target_os = "macos");
    if !desktop {
        return;
    }
    let program = if cfg!(target_os = "macos") {
        "open"
    } else {
        "xdg-open"
    };
    let _ = std::process::Command::new(program)
        .arg(url)
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn();
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn base64url_matches_rfc_4648_and_pkce_matches_rfc_7636_appendix_b() {
        assert_eq!(base64url(b""), "");
        assert_eq!(base64url(b"f"), "Zg");
        assert_eq!(base64url(b"fo"), "Zm8");
        assert_eq!(base64url(b"foo"), "Zm9v");
        assert_eq!(base64url(&[0xfb, 0xff]), "-_8");
        // RFC 7636 Appendix B.
        let verifier = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk";
        let digest = ring::digest::digest(&ring::digest::SHA256, verifier.as_bytes());
        assert_eq!(
            base64url(digest.as_ref()),
            "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"
        );
        let p = pkce();
        assert!(p.verifier.len() >= 43 && p.verifier.len() <= 128);
        assert_ne!(pkce().verifier, p.verifier);
    }

    #[test]
    fn tokens_are_stored_for_the_person_only_and_read_back() {
        let dir = tempfile::tempdir().unwrap();
        let path = token_path(dir.path(), "per/sonal");
        assert!(path.ends_with("tokens/per_sonal.json"));
        assert_eq!(load(&path).unwrap(), None);
        let t = Tokens {
            access_token: "a".into(),
            expires_at: 100,
            refresh_token: "r".into(),
        };
        save(&path, &t).unwrap();
        assert_eq!(load(&path).unwrap(), Some(t.clone()));
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(&path).unwrap().permissions().mode() & 0o777;
            assert_eq!(mode, 0o600);
        }
        assert!(!format!("{t:?}").contains('r') || !format!("{t:?}").contains("\"r\""));
        assert!(t.stale(t.expires_at - 10) && !t.stale(t.expires_at - 3600));
    }
}
