//! `almanac status` lists every configured account, also one that cannot be reached (it has no
//! calendar to carry its error), with why its last run failed.

use std::path::Path;
use std::process::{Command, Output};

fn almanac(data: &Path, config: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_almanac"))
        .args(args)
        .env("ALMANAC_DATA_DIR", data)
        .env("ALMANAC_CONFIG", config)
        .env_remove("ALMANAC_TODAY")
        .env("TZ", "UTC")
        .output()
        .expect("the binary runs")
}

fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

#[test]
fn an_account_that_cannot_be_reached_is_listed_with_its_error() {
    let dir = tempfile::tempdir().unwrap();
    // A port nobody listens on: bound, then closed.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let config = dir.path().join("config.toml");
    std::fs::write(
        &config,
        format!(
            "[[account]]\nname = \"away\"\nkind = \"caldav\"\nurl = \"http://127.0.0.1:{port}/\"\n\
             username = \"a\"\npassword = {{ value = \"b\" }}\n\n\
             [[account]]\nname = \"later\"\nkind = \"caldav\"\nurl = \"http://127.0.0.1:{port}/x/\"\n"
        ),
    )
    .unwrap();
    let data = dir.path().join("data");
    let before = almanac(&data, &config, &["status"]);
    assert!(before.status.success(), "{}", text(&before.stderr));
    let out = text(&before.stdout);
    assert!(
        out.contains("away (caldav)") && out.contains("never synced"),
        "{out}"
    );

    let sync = almanac(&data, &config, &["sync"]);
    assert!(!sync.status.success());
    let status = almanac(&data, &config, &["status"]);
    assert!(status.status.success(), "{}", text(&status.stderr));
    let out = text(&status.stdout);
    assert!(out.contains("away (caldav)"), "{out}");
    assert!(out.contains("last run failed"), "{out}");
    assert!(out.contains("cannot reach the server"), "{out}");

    let json = almanac(&data, &config, &["status", "--json"]);
    let list: serde_json::Value = serde_json::from_slice(&json.stdout).expect("JSON");
    let away = list
        .as_array()
        .unwrap()
        .iter()
        .find(|v| v["account"] == "away")
        .expect("the unreachable account is listed");
    assert!(away["calendar"].is_null(), "{away}");
    assert!(
        away["account_error"]
            .as_str()
            .is_some_and(|e| e.contains("cannot reach the server")),
        "{away}"
    );
}
