//! Smoke tests of the interop harness (`tests/support/servers.rs`) against real Radicale and
//! Xandikos: lifecycle of a calendar and its items, discovery, auth, and sync-collection.
//! The servers come from `bash tests/interop/setup.sh`; without it these tests print
//! "skipped: …" and pass, except under CI=true, where they fail.

mod support;

use std::path::Path;

use support::servers::{self, Kind, Server, multistatus};

fn start(kind: Kind) -> Option<Server> {
    let server = servers::start(kind);
    if server.is_none() {
        eprintln!("skipped: {kind} is not installed (run `bash tests/interop/setup.sh`)");
    }
    server
}

fn event(uid: &str, summary: &str) -> String {
    format!(
        "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//almanac//interop//EN\r\n\
         BEGIN:VEVENT\r\nUID:{uid}\r\nDTSTAMP:20260101T000000Z\r\n\
         DTSTART:20260105T100000Z\r\nDTEND:20260105T110000Z\r\nSUMMARY:{summary}\r\n\
         END:VEVENT\r\nEND:VCALENDAR\r\n"
    )
}

fn sync_body(token: &str) -> String {
    format!(
        r#"<?xml version="1.0" encoding="utf-8"?>
<d:sync-collection xmlns:d="DAV:">
  <d:sync-token>{token}</d:sync-token>
  <d:sync-level>1</d:sync-level>
  <d:prop><d:getetag/></d:prop>
</d:sync-collection>"#
    )
}

/// The text of the first `<…sync-token>` element, whatever its prefix.
fn sync_token(xml: &str) -> String {
    let start = xml.find("sync-token>").expect("a sync-token") + "sync-token>".len();
    let end = start + xml[start..].find('<').expect("end of the sync-token");
    xml[start..end].to_string()
}

async fn lifecycle(kind: Kind) {
    let Some(server) = start(kind) else { return };
    let cal = server.make_calendar("work", "Work & Play").await;
    assert_eq!(cal, format!("{}work/", server.calendar_home()));
    assert!(server.listing(&cal).await.is_empty());

    let (status, props) = server
        .dav(
            "PROPFIND",
            &cal,
            Some("0"),
            r#"<d:propfind xmlns:d="DAV:"><d:prop><d:displayname/><d:resourcetype/></d:prop></d:propfind>"#,
        )
        .await;
    assert_eq!(status, 207, "{props}");
    assert!(props.contains("Work &amp; Play"), "{props}");
    assert!(props.contains("calendar"), "{props}");

    let etag1 = server.put(&cal, "e1.ics", &event("e1", "One")).await;
    let etag2 = server.put(&cal, "e2.ics", &event("e2", "Two")).await;
    let (etag1, etag2) = (etag1.expect("PUT ETag"), etag2.expect("PUT ETag"));
    assert!(etag1.starts_with('"') && etag1.ends_with('"'), "{etag1}");

    let listing = server.listing(&cal).await;
    let path = cal.trim_start_matches(&server.base_url[..server.base_url.len() - 1]);
    assert_eq!(
        listing,
        vec![
            (format!("{path}e1.ics"), etag1.clone()),
            (format!("{path}e2.ics"), etag2.clone()),
        ],
        "the listing has both, with the ETags PUT answered"
    );

    let (etag, body) = server.get(&server.url(&listing[0].0)).await;
    assert_eq!(etag, etag1);
    assert!(body.contains("UID:e1"), "{body}");
    assert!(body.contains("SUMMARY:One"), "{body}");

    // Replacing changes the ETag.
    let etag1b = server
        .put(&cal, "e1.ics", &event("e1", "Uno"))
        .await
        .unwrap();
    assert_ne!(etag1b, etag1);

    server.delete(&cal, "e1.ics").await;
    assert_eq!(
        server.listing(&cal).await,
        vec![(format!("{path}e2.ics"), etag2)]
    );
}

async fn discovery(kind: Kind) {
    let Some(server) = start(kind) else { return };
    let base = &server.base_url;
    let principal_body = r#"<?xml version="1.0" encoding="utf-8"?>
<d:propfind xmlns:d="DAV:"><d:prop><d:current-user-principal/></d:prop></d:propfind>"#;

    // /.well-known/caldav redirects to the root: Radicale 301, Xandikos 302.
    let (status, headers, _) = server
        .request(
            "PROPFIND",
            &format!("{base}.well-known/caldav"),
            true,
            &[("Depth", "0")],
            principal_body,
        )
        .await;
    let expected = match kind {
        Kind::Radicale => 301,
        Kind::Xandikos => 302,
    };
    assert_eq!(status, expected);
    assert_eq!(servers::header(&headers, "location").as_deref(), Some("/"));
    // A client that follows redirects (reqwest's default policy) gets the principal from there:
    // the PROPFIND stays a PROPFIND, with its body and auth.
    let following = reqwest::Client::new()
        .request(
            reqwest::Method::from_bytes(b"PROPFIND").unwrap(),
            format!("{base}.well-known/caldav"),
        )
        .basic_auth(&server.user, Some(&server.password))
        .header("Depth", "0")
        .header("Content-Type", "application/xml; charset=utf-8")
        .body(principal_body)
        .send()
        .await
        .unwrap();
    assert_eq!(following.status().as_u16(), 207);
    assert!(
        following
            .text()
            .await
            .unwrap()
            .contains("current-user-principal")
    );

    // current-user-principal on the bare URL.
    let (status, body) = server
        .dav("PROPFIND", base, Some("0"), principal_body)
        .await;
    assert_eq!(status, 207, "{body}");
    let principal = match kind {
        Kind::Radicale => "/alice/",
        Kind::Xandikos => "/user/",
    };
    assert!(
        body.contains(&format!("href>{principal}</")),
        "{kind} principal: {body}"
    );

    // calendar-home-set on the principal is what calendar_home() says.
    let (status, body) = server
        .dav(
            "PROPFIND",
            &server.url(principal),
            Some("0"),
            r#"<?xml version="1.0" encoding="utf-8"?>
<d:propfind xmlns:d="DAV:" xmlns:c="urn:ietf:params:xml:ns:caldav">
  <d:prop><c:calendar-home-set/></d:prop>
</d:propfind>"#,
        )
        .await;
    assert_eq!(status, 207, "{body}");
    let home = server.calendar_home();
    let home_path = &home[base.len() - 1..];
    assert!(
        body.contains(&format!("href>{home_path}</")),
        "{kind} home: {body}"
    );

    // Auth: Radicale wants it, Xandikos ignores it (none, or a wrong password, is fine).
    let wrong = [("Depth", "0"), ("Authorization", "Basic YWxpY2U6d3Jvbmc=")];
    let (anonymous, _, _) = server
        .request("PROPFIND", base, false, &[("Depth", "0")], principal_body)
        .await;
    let (wrong, headers, _) = server
        .request("PROPFIND", base, false, &wrong, principal_body)
        .await;
    match kind {
        Kind::Radicale => {
            assert_eq!((anonymous, wrong), (401, 401));
            let challenge = servers::header(&headers, "www-authenticate").unwrap_or_default();
            assert!(challenge.starts_with("Basic "), "{challenge}");
        }
        Kind::Xandikos => assert_eq!((anonymous, wrong), (207, 207)),
    }
}

async fn sync_collection(kind: Kind) {
    let Some(server) = start(kind) else { return };
    let cal = server.make_calendar("sync", "Sync").await;
    server.put(&cal, "e1.ics", &event("e1", "One")).await;
    server.put(&cal, "e2.ics", &event("e2", "Two")).await;

    // Empty token: everything, and a token.
    let (status, body) = server.dav("REPORT", &cal, Some("0"), &sync_body("")).await;
    assert_eq!(status, 207, "{body}");
    let token = sync_token(&body);
    assert!(!token.is_empty(), "{body}");
    assert!(body.contains("e1.ics") && body.contains("e2.ics"), "{body}");
    eprintln!("{kind} initial sync: {body}");

    // Changes since that token: one replaced, one deleted.
    server.put(&cal, "e2.ics", &event("e2", "Deux")).await;
    server.delete(&cal, "e1.ics").await;
    let (status, body) = server
        .dav("REPORT", &cal, Some("0"), &sync_body(&token))
        .await;
    assert_eq!(status, 207, "{body}");
    eprintln!("{kind} incremental sync: {body}");
    let responses = multistatus(&body);
    assert_eq!(responses.len(), 2, "{body}");
    assert_ne!(sync_token(&body), token);
    assert!(
        body.contains("404"),
        "the deleted item comes with a 404: {body}"
    );

    // A token the server never issued.
    let (status, body) = server
        .dav(
            "REPORT",
            &cal,
            Some("0"),
            &sync_body("http://example.com/ns/sync/garbage"),
        )
        .await;
    eprintln!("{kind} garbage token: {status} {body}");
    assert!(body.contains("valid-sync-token"), "{body}");
    match kind {
        Kind::Radicale => assert_eq!(status, 403, "{body}"),
        Kind::Xandikos => {
            assert_eq!(status, 412, "{body}");
            assert!(body.contains("is invalid"), "{body}");
        }
    }
}

#[tokio::test]
async fn radicale_lifecycle() {
    lifecycle(Kind::Radicale).await;
}

#[tokio::test]
async fn xandikos_lifecycle() {
    lifecycle(Kind::Xandikos).await;
}

#[tokio::test]
async fn radicale_discovery() {
    discovery(Kind::Radicale).await;
}

#[tokio::test]
async fn xandikos_discovery() {
    discovery(Kind::Xandikos).await;
}

#[tokio::test]
async fn radicale_sync_collection() {
    sync_collection(Kind::Radicale).await;
}

#[tokio::test]
async fn xandikos_sync_collection() {
    sync_collection(Kind::Xandikos).await;
}

#[test]
#[should_panic(expected = "bash tests/interop/setup.sh")]
fn a_missing_venv_fails_under_ci() {
    servers::start_in(Kind::Radicale, Path::new("/nonexistent/venv"), true);
}

#[test]
fn a_missing_venv_skips_outside_ci() {
    assert!(servers::start_in(Kind::Xandikos, Path::new("/nonexistent/venv"), false).is_none());
}
