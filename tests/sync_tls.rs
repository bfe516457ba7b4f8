//! HTTPS: a self-hosted server with its own certificate is trusted through the account's
//! `ca_file`, and refused without it (with a message that says why). Real Radicale, TLS on.

mod support;

use std::net::TcpStream;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use almanac::config::{AccountConfig, AccountKind, Secret};
use almanac::store::Store;
use almanac::sync::SyncOptions;
use almanac::sync::accounts::caldav_for;
use almanac::sync::engine::sync_caldav;

struct Killed(Child);
impl Drop for Killed {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_ca_file_makes_a_self_signed_server_trusted() {
    let radicale = support::servers::venv_dir().join("bin/radicale");
    if !radicale.is_file() {
        assert!(
            std::env::var("CI").as_deref() != Ok("true"),
            "radicale is missing: run `bash tests/interop/setup.sh`"
        );
        eprintln!("skipped: radicale is not installed");
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let cert =
        rcgen::generate_simple_self_signed(vec!["127.0.0.1".into(), "localhost".into()]).unwrap();
    let (cert_pem, key_pem) = (dir.path().join("cert.pem"), dir.path().join("key.pem"));
    std::fs::write(&cert_pem, cert.cert.pem()).unwrap();
    std::fs::write(&key_pem, cert.signing_key.serialize_pem()).unwrap();
    std::fs::write(dir.path().join("users"), "alice:tls-pw\n").unwrap();
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let config = dir.path().join("config");
    std::fs::write(
        &config,
        format!(
            "[server]\nhosts = 127.0.0.1:{port}\nssl = True\ncertificate = {c}\nkey = {k}\n\n\
             [auth]\ntype = htpasswd\nhtpasswd_filename = {u}\nhtpasswd_encryption = plain\ndelay = 0\n\n\
             [storage]\nfilesystem_folder = {d}\n\n[logging]\nlevel = warning\n",
            c = cert_pem.display(),
            k = key_pem.display(),
            u = dir.path().join("users").display(),
            d = dir.path().join("data").display(),
        ),
    )
    .unwrap();
    let _server = Killed(
        Command::new(&radicale)
            .arg("--config")
            .arg(&config)
            .env("HOME", dir.path())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap(),
    );
    let deadline = Instant::now() + Duration::from_secs(20);
    while TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(Instant::now() < deadline, "radicale did not start with TLS");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }

    let account = |ca: Option<std::path::PathBuf>| AccountConfig {
        name: "tls".into(),
        kind: AccountKind::Caldav,
        url: Some(format!("https://127.0.0.1:{port}/")),
        username: Some("alice".into()),
        password: Some(Secret::Value("tls-pw".into())),
        sync_every: None,
        client_id: None,
        ca_file: ca,
        ..Default::default()
    };
    let data = tempfile::tempdir().unwrap();
    let mut store = Store::open(data.path()).unwrap();

    let untrusted = caldav_for(&account(None)).unwrap();
    let started = Instant::now();
    let r = sync_caldav(&mut store, "tls", &untrusted, &SyncOptions::default(), None).await;
    let e = r.error.expect("an untrusted certificate is refused");
    assert!(
        e.contains("certificate is not trusted") && e.contains("ca_file"),
        "{e}"
    );

    assert!(
        started.elapsed() < Duration::from_secs(2),
        "no retries for a certificate"
    );
    let trusted = caldav_for(&account(Some(cert_pem.clone()))).unwrap();
    let r = sync_caldav(&mut store, "tls", &trusted, &SyncOptions::default(), None).await;
    assert_eq!(r.error, None, "{r:#?}");
    assert!(r.requests >= 2, "discovery ran over TLS: {r:#?}");
}
