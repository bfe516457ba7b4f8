//! The CalDAV emulator over loopback, driven by reqwest: discovery, listing, RFC 6578 sync,
//! multiget, conditional requests, authentication, every fault switch, and the demo feed.

use std::time::{Duration, Instant};

use almanac::emulator::{CalDavEmulator, Faults, demo};
use reqwest::{Method, StatusCode};

const USER: &str = "alice";
const PASSWORD: &str = "s3cret";

fn client() -> reqwest::Client {
    // reqwest is built without a rustls provider; the app installs ring, so do the tests.
    let _ = rustls::crypto::ring::default_provider().install_default();
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .expect("client builds")
}

struct Reply {
    status: StatusCode,
    headers: reqwest::header::HeaderMap,
    body: String,
}

async fn send(
    emu: &CalDavEmulator,
    method: &str,
    path: &str,
    depth: Option<&str>,
    body: &str,
    headers: &[(&str, &str)],
) -> Reply {
    let method = Method::from_bytes(method.as_bytes()).expect("method");
    let url = format!("{}{}", emu.base_url(), path.trim_start_matches('/'));
    let mut req = client()
        .request(method, url)
        .basic_auth(USER, Some(PASSWORD));
    if let Some(d) = depth {
        req = req.header("Depth", d);
    }
    for (k, v) in headers {
        req = req.header(*k, *v);
    }
    if !body.is_empty() {
        req = req
            .header("Content-Type", "application/xml")
            .body(body.to_string());
    }
    let resp = req.send().await.expect("request");
    let status = resp.status();
    let headers = resp.headers().clone();
    let body = resp.text().await.expect("body");
    Reply {
        status,
        headers,
        body,
    }
}

/// One `DAV:response`, read loosely: the emulator always uses the `d:`/`c:` prefixes.
#[derive(Debug, Default)]
struct Resp {
    href: String,
    status: Option<String>,
    etag: Option<String>,
    data: Option<String>,
    raw: String,
}

fn between<'a>(s: &'a str, open: &str, close: &str) -> Option<&'a str> {
    let start = s.find(open)? + open.len();
    let end = s[start..].find(close)? + start;
    Some(&s[start..end])
}

fn unescape(s: &str) -> String {
    quick_xml::escape::unescape(s)
        .expect("valid escapes")
        .into_owned()
}

fn responses(xml: &str) -> Vec<Resp> {
    xml.split("<d:response>")
        .skip(1)
        .map(|chunk| {
            let chunk = chunk.split("</d:response>").next().unwrap_or_default();
            // A response-level status sits outside any propstat.
            let outside: String = chunk
                .split("<d:propstat>")
                .next()
                .unwrap_or_default()
                .to_string();
            Resp {
                href: unescape(between(chunk, "<d:href>", "</d:href>").unwrap_or_default()),
                status: between(&outside, "<d:status>", "</d:status>").map(str::to_string),
                etag: between(chunk, "<d:getetag>", "</d:getetag>").map(unescape),
                data: between(chunk, "<c:calendar-data>", "</c:calendar-data>").map(unescape),
                raw: chunk.to_string(),
            }
        })
        .collect()
}

fn sync_token(xml: &str) -> String {
    let tail = xml.rsplit("</d:response>").next().unwrap_or(xml);
    unescape(between(tail, "<d:sync-token>", "</d:sync-token>").expect("sync-token"))
}

fn sync_body(token: &str) -> String {
    format!(
        r#"<?xml version="1.0" encoding="utf-8"?>
<D:sync-collection xmlns:D="DAV:"><D:sync-token>{}</D:sync-token><D:sync-level>1</D:sync-level>
<D:prop><D:getetag/></D:prop></D:sync-collection>"#,
        quick_xml::escape::escape(token)
    )
}

async fn sync(emu: &CalDavEmulator, cal: &str, token: &str) -> Reply {
    let path = format!("/dav/calendars/{USER}/{cal}/");
    // RFC 6578 3.2: sync-collection is defined for Depth 0 only.
    send(emu, "REPORT", &path, Some("0"), &sync_body(token), &[]).await
}

fn multiget_body(hrefs: &[&str]) -> String {
    let hrefs: String = hrefs
        .iter()
        .map(|h| format!("<d:href>{h}</d:href>"))
        .collect();
    format!(
        r#"<c:calendar-multiget xmlns:d="DAV:" xmlns:c="urn:ietf:params:xml:ns:caldav">
<d:prop><d:getetag/><c:calendar-data/></d:prop>{hrefs}</c:calendar-multiget>"#
    )
}

fn event(uid: &str, summary: &str) -> String {
    format!(
        "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//test//EN\r\nBEGIN:VEVENT\r\nUID:{uid}\r\n\
DTSTAMP:20260101T000000Z\r\nDTSTART:20260110T100000Z\r\nDTEND:20260110T110000Z\r\n\
SUMMARY:{summary}\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n"
    )
}

/// An emulator with calendar `work` holding e1..e3.ics.
async fn with_three() -> CalDavEmulator {
    let emu = CalDavEmulator::start(USER, PASSWORD).await.expect("starts");
    emu.add_calendar("work", "Work", Some("#3366FFFF"));
    for i in 1..=3 {
        emu.put(
            "work",
            &format!("e{i}.ics"),
            &event(&format!("u{i}"), &format!("Event {i}")),
        );
    }
    emu
}

fn href(name: &str) -> String {
    format!("/dav/calendars/{USER}/work/{name}")
}

const PROPFIND_HOME: &str = r#"<d:propfind xmlns:d="DAV:" xmlns:c="urn:ietf:params:xml:ns:caldav"
 xmlns:cs="http://calendarserver.org/ns/" xmlns:ic="http://apple.com/ns/ical/" xmlns:z="urn:unknown">
<d:prop><d:resourcetype/><d:displayname/><ic:calendar-color/><cs:getctag/><d:sync-token/>
<d:supported-report-set/><c:supported-calendar-component-set/><z:mystery/></d:prop></d:propfind>"#;

#[tokio::test]
async fn discovery_leads_from_well_known_to_principal_to_calendar_home() {
    let emu = with_three().await;
    let resp = client()
        .request(
            Method::from_bytes(b"PROPFIND").expect("m"),
            format!("{}.well-known/caldav", emu.base_url()),
        )
        .send()
        .await
        .expect("request");
    assert_eq!(
        resp.status(),
        StatusCode::MOVED_PERMANENTLY,
        "no credentials needed here"
    );
    assert_eq!(resp.headers()["location"], "/dav/");

    let body =
        r#"<d:propfind xmlns:d="DAV:"><d:prop><d:current-user-principal/></d:prop></d:propfind>"#;
    let root = send(&emu, "PROPFIND", "/dav/", Some("0"), body, &[]).await;
    assert_eq!(root.status.as_u16(), 207);
    let principal = between(
        &root.body,
        "<d:current-user-principal><d:href>",
        "</d:href>",
    )
    .expect("principal");
    assert_eq!(principal, format!("/dav/principals/{USER}/"));

    let body = r#"<d:propfind xmlns:d="DAV:" xmlns:c="urn:ietf:params:xml:ns:caldav"><d:prop><c:calendar-home-set/></d:prop></d:propfind>"#;
    let p = send(&emu, "PROPFIND", principal, Some("0"), body, &[]).await;
    let home = between(&p.body, "<c:calendar-home-set><d:href>", "</d:href>").expect("home");
    assert_eq!(home, format!("/dav/calendars/{USER}/"));
}

#[tokio::test]
async fn home_listing_describes_each_calendar_and_404s_unknown_props() {
    let emu = with_three().await;
    emu.add_calendar("family", "Family & Friends", None);
    let reply = send(
        &emu,
        "PROPFIND",
        &format!("/dav/calendars/{USER}/"),
        Some("1"),
        PROPFIND_HOME,
        &[],
    )
    .await;
    assert_eq!(reply.status.as_u16(), 207);
    let rs = responses(&reply.body);
    assert_eq!(rs.len(), 3, "home + 2 calendars: {}", reply.body);
    assert!(
        rs[0]
            .raw
            .contains("<d:resourcetype><d:collection/></d:resourcetype>")
    );
    let work = rs
        .iter()
        .find(|r| r.href.ends_with("/work/"))
        .expect("work listed");
    for needle in [
        "<d:collection/><c:calendar/>",
        "<d:displayname>Work</d:displayname>",
        "<ic:calendar-color>#3366FFFF</ic:calendar-color>",
        "<cs:getctag>",
        "<d:sync-token>http://almanac.test/sync/",
        "<d:sync-collection/>",
        "<c:calendar-multiget/>",
        "<c:calendar-query/>",
        "<c:comp name=\"VEVENT\"/>",
    ] {
        assert!(
            work.raw.contains(needle),
            "{needle} missing in {}",
            work.raw
        );
    }
    let (ok, missing) = work
        .raw
        .split_once("HTTP/1.1 200 OK")
        .expect("200 propstat");
    assert!(!ok.contains("mystery"));
    assert!(missing.contains("mystery") && missing.contains("404 Not Found"));
    let family = rs
        .iter()
        .find(|r| r.href.ends_with("/family/"))
        .expect("family listed");
    assert!(
        family.raw.contains("Family &amp; Friends"),
        "escaped: {}",
        family.raw
    );
    let missing = family
        .raw
        .split("HTTP/1.1 200 OK")
        .nth(1)
        .expect("404 part");
    assert!(
        missing.contains("<ic:calendar-color/>"),
        "no color is a 404 property"
    );
}

#[tokio::test]
async fn calendar_depth_1_lists_every_item_with_its_etag() {
    let emu = with_three().await;
    let body =
        r#"<d:propfind xmlns:d="DAV:"><d:prop><d:getetag/><d:resourcetype/></d:prop></d:propfind>"#;
    let reply = send(
        &emu,
        "PROPFIND",
        &format!("/dav/calendars/{USER}/work/"),
        Some("1"),
        body,
        &[],
    )
    .await;
    let rs = responses(&reply.body);
    assert_eq!(rs.len(), 4);
    let listed: Vec<(String, String)> = rs[1..]
        .iter()
        .map(|r| (r.href.clone(), r.etag.clone().expect("etag")))
        .collect();
    let stored: Vec<(String, String)> = emu
        .items("work")
        .into_iter()
        .map(|(h, e, _)| (h, e))
        .collect();
    assert_eq!(listed, stored);
    assert!(rs[1].raw.contains("<d:resourcetype/>"));
    let depth0 = send(
        &emu,
        "PROPFIND",
        &format!("/dav/calendars/{USER}/work/"),
        Some("0"),
        body,
        &[],
    )
    .await;
    assert_eq!(responses(&depth0.body).len(), 1);
}

#[tokio::test]
async fn sync_from_empty_token_lists_every_live_item_then_reports_each_change_once() {
    let emu = with_three().await;
    emu.delete("work", "e3.ics");
    let first = sync(&emu, "work", "").await;
    assert_eq!(first.status.as_u16(), 207);
    let rs = responses(&first.body);
    let hrefs: Vec<&str> = rs.iter().map(|r| r.href.as_str()).collect();
    assert_eq!(
        hrefs,
        [href("e1.ics"), href("e2.ics")],
        "deleted items are not in a first listing"
    );
    assert!(rs.iter().all(|r| r.etag.is_some() && r.status.is_none()));
    let token = sync_token(&first.body);

    let nothing = sync(&emu, "work", &token).await;
    assert!(responses(&nothing.body).is_empty());
    assert_eq!(sync_token(&nothing.body), token, "no change, same token");

    let new_etag = emu.put("work", "e1.ics", &event("u1", "Event 1 moved"));
    emu.put("work", "e4.ics", &event("u4", "Event 4"));
    emu.put("work", "e4.ics", &event("u4", "Event 4 again"));
    emu.delete("work", "e2.ics");
    let delta = sync(&emu, "work", &token).await;
    let rs = responses(&delta.body);
    assert_eq!(
        rs.len(),
        3,
        "e4 twice changed is listed once: {}",
        delta.body
    );
    let e1 = rs.iter().find(|r| r.href == href("e1.ics")).expect("e1");
    assert_eq!(e1.etag.as_deref(), Some(new_etag.as_str()));
    let e2 = rs.iter().find(|r| r.href == href("e2.ics")).expect("e2");
    assert_eq!(e2.status.as_deref(), Some("HTTP/1.1 404 Not Found"));
    assert!(e2.etag.is_none());
    assert!(
        rs.iter()
            .any(|r| r.href == href("e4.ics") && r.etag.is_some())
    );
    assert_ne!(sync_token(&delta.body), token);
}

#[tokio::test]
async fn sync_with_expired_or_unknown_token_is_403_valid_sync_token() {
    let emu = with_three().await;
    let token = sync_token(&sync(&emu, "work", "").await.body);
    emu.expire_tokens();
    for bad in [token.as_str(), "http://almanac.test/sync/999-1", "garbage"] {
        let reply = sync(&emu, "work", bad).await;
        assert_eq!(reply.status, StatusCode::FORBIDDEN);
        assert!(
            reply
                .body
                .contains("<d:error xmlns:d=\"DAV:\"><d:valid-sync-token/></d:error>")
        );
    }
    let fresh = sync(&emu, "work", "").await;
    assert_eq!(responses(&fresh.body).len(), 3);
}

#[tokio::test]
async fn sync_with_depth_other_than_0_is_400() {
    let emu = with_three().await;
    let path = format!("/dav/calendars/{USER}/work/");
    let deep = send(&emu, "REPORT", &path, Some("1"), &sync_body(""), &[]).await;
    assert_eq!(deep.status, StatusCode::BAD_REQUEST);
    let absent = send(&emu, "REPORT", &path, None, &sync_body(""), &[]).await;
    assert_eq!(
        absent.status.as_u16(),
        207,
        "no Depth header means 0 for a REPORT"
    );
}

#[tokio::test]
async fn truncated_sync_ends_in_507_and_following_it_yields_exactly_the_changes() {
    let emu = with_three().await;
    let token = sync_token(&sync(&emu, "work", "").await.body);
    for i in 4..=10 {
        emu.put(
            "work",
            &format!("e{i}.ics"),
            &event(&format!("u{i}"), "new"),
        );
    }
    emu.delete("work", "e1.ics");
    emu.set_faults(Faults {
        truncate_after: Some(3),
        ..Faults::default()
    });
    let mut seen = Vec::new();
    let mut token = token;
    let mut rounds = 0;
    loop {
        rounds += 1;
        let reply = sync(&emu, "work", &token).await;
        let rs = responses(&reply.body);
        let truncated = rs
            .iter()
            .any(|r| r.status.as_deref() == Some("HTTP/1.1 507 Insufficient Storage"));
        if truncated {
            let last = rs.last().expect("507 response");
            assert_eq!(
                last.href,
                format!("/dav/calendars/{USER}/work/"),
                "507 names the request-URI"
            );
            assert_eq!(rs.len(), 4);
        }
        seen.extend(
            rs.into_iter()
                .filter(|r| !r.href.ends_with("/work/"))
                .map(|r| (r.href, r.status.is_some())),
        );
        token = sync_token(&reply.body);
        if !truncated {
            break;
        }
        assert!(rounds < 10, "truncation must make progress");
    }
    assert_eq!(rounds, 3);
    seen.sort();
    let mut expected: Vec<(String, bool)> = (4..=10)
        .map(|i| (href(&format!("e{i}.ics")), false))
        .collect();
    expected.push((href("e1.ics"), true));
    expected.sort();
    assert_eq!(seen, expected);
    emu.put("work", "e2.ics", &event("u2", "later"));
    let after = sync(&emu, "work", &token).await;
    assert_eq!(
        responses(&after.body).len(),
        1,
        "the final token covers everything"
    );
}

#[tokio::test]
async fn ctag_changes_on_every_kind_of_change() {
    let emu = with_three().await;
    let body = r#"<d:propfind xmlns:d="DAV:" xmlns:cs="http://calendarserver.org/ns/"><d:prop><cs:getctag/></d:prop></d:propfind>"#;
    let path = format!("/dav/calendars/{USER}/work/");
    let mut ctags = Vec::new();
    for change in 0..4 {
        match change {
            1 => drop(emu.put("work", "e1.ics", &event("u1", "changed"))),
            2 => drop(emu.delete("work", "e2.ics")),
            3 => emu.rename_calendar("work", "Job"),
            _ => {}
        }
        let reply = send(&emu, "PROPFIND", &path, Some("0"), body, &[]).await;
        ctags.push(
            between(&reply.body, "<cs:getctag>", "</cs:getctag>")
                .map(unescape)
                .expect("ctag"),
        );
    }
    assert_eq!(ctags.last().cloned(), emu.ctag("work"));
    for pair in ctags.windows(2) {
        assert_ne!(pair[0], pair[1]);
    }
}

#[tokio::test]
async fn multiget_returns_escaped_data_and_404_for_a_missing_href() {
    let emu = with_three().await;
    let tricky = event("u9", "Q&A <fun> \"quoted\"");
    emu.put("work", "e9.ics", &tricky);
    let full_url = format!("{}dav/calendars/{USER}/work/e1.ics", emu.base_url());
    let gone = href("gone.ics");
    let body = multiget_body(&[&href("e9.ics"), &full_url, &gone]);
    let reply = send(
        &emu,
        "REPORT",
        &format!("/dav/calendars/{USER}/work/"),
        Some("1"),
        &body,
        &[],
    )
    .await;
    assert_eq!(reply.status.as_u16(), 207);
    let rs = responses(&reply.body);
    assert_eq!(rs.len(), 3);
    assert_eq!(rs[0].data.as_deref(), Some(tricky.as_str()));
    assert!(
        rs[1].data.as_deref().is_some_and(|d| d.contains("UID:u1")),
        "full URL hrefs resolve"
    );
    assert_eq!(rs[2].href, gone);
    assert_eq!(rs[2].status.as_deref(), Some("HTTP/1.1 404 Not Found"));
}

#[tokio::test]
async fn calendar_query_lists_every_item_with_data_when_asked() {
    let emu = with_three().await;
    let body = r#"<c:calendar-query xmlns:d="DAV:" xmlns:c="urn:ietf:params:xml:ns:caldav"><d:prop><d:getetag/><c:calendar-data/></d:prop>
<c:filter><c:comp-filter name="VCALENDAR"><c:comp-filter name="VEVENT"/></c:comp-filter></c:filter></c:calendar-query>"#;
    let reply = send(
        &emu,
        "REPORT",
        &format!("/dav/calendars/{USER}/work/"),
        Some("1"),
        body,
        &[],
    )
    .await;
    let rs = responses(&reply.body);
    assert_eq!(rs.len(), 3);
    assert!(rs.iter().all(|r| r.etag.is_some() && r.data.is_some()));
}

#[tokio::test]
async fn conditional_writes_answer_412_when_the_precondition_fails() {
    let emu = with_three().await;
    let path = href("e1.ics");
    let ics = event("u1", "mine");
    let create = send(&emu, "PUT", &path, None, &ics, &[("If-None-Match", "*")]).await;
    assert_eq!(create.status, StatusCode::PRECONDITION_FAILED);
    let stale = send(&emu, "PUT", &path, None, &ics, &[("If-Match", "\"old\"")]).await;
    assert_eq!(stale.status, StatusCode::PRECONDITION_FAILED);
    let current = emu.items("work")[0].1.clone();
    let weak = format!("W/{current}");
    let weakened = send(
        &emu,
        "PUT",
        &path,
        None,
        &ics,
        &[("If-Match", weak.as_str())],
    )
    .await;
    assert_eq!(
        weakened.status,
        StatusCode::PRECONDITION_FAILED,
        "exact string comparison"
    );
    let ok = send(
        &emu,
        "PUT",
        &path,
        None,
        &ics,
        &[("If-Match", current.as_str())],
    )
    .await;
    assert_eq!(ok.status, StatusCode::NO_CONTENT);
    let new_etag = ok.headers["etag"].to_str().expect("etag").to_string();
    assert_ne!(new_etag, current);
    assert_eq!(
        emu.items("work")[0],
        (path.clone(), new_etag.clone(), ics.clone())
    );

    let fresh = send(
        &emu,
        "PUT",
        &href("new.ics"),
        None,
        &ics,
        &[("If-None-Match", "*")],
    )
    .await;
    assert_eq!(fresh.status, StatusCode::CREATED);
    assert!(fresh.headers.contains_key("etag"));

    let del = send(
        &emu,
        "DELETE",
        &path,
        None,
        "",
        &[("If-Match", current.as_str())],
    )
    .await;
    assert_eq!(del.status, StatusCode::PRECONDITION_FAILED);
    let del = send(
        &emu,
        "DELETE",
        &path,
        None,
        "",
        &[("If-Match", new_etag.as_str())],
    )
    .await;
    assert_eq!(del.status, StatusCode::NO_CONTENT);
    assert_eq!(
        send(&emu, "GET", &path, None, "", &[]).await.status,
        StatusCode::NOT_FOUND
    );
}

#[tokio::test]
async fn get_serves_the_item_and_304_when_the_etag_matches() {
    let emu = with_three().await;
    let (path, etag, body) = emu.items("work")[1].clone();
    let got = send(&emu, "GET", &path, None, "", &[]).await;
    assert_eq!(got.status, StatusCode::OK);
    assert_eq!(got.body, body);
    assert_eq!(got.headers["etag"], etag.as_str());
    assert_eq!(got.headers["content-type"], "text/calendar; charset=utf-8");
    let again = send(
        &emu,
        "GET",
        &path,
        None,
        "",
        &[("If-None-Match", etag.as_str())],
    )
    .await;
    assert_eq!(again.status, StatusCode::NOT_MODIFIED);
    assert!(again.body.is_empty());
}

#[tokio::test]
async fn wrong_or_missing_credentials_get_401_with_a_basic_challenge() {
    let emu = with_three().await;
    let url = format!("{}dav/", emu.base_url());
    let propfind = Method::from_bytes(b"PROPFIND").expect("m");
    let none = client()
        .request(propfind.clone(), &url)
        .send()
        .await
        .expect("sent");
    let wrong = client()
        .request(propfind, &url)
        .basic_auth(USER, Some("nope"))
        .send()
        .await
        .expect("sent");
    for resp in [none, wrong] {
        assert_eq!(resp.status(), StatusCode::UNAUTHORIZED);
        assert_eq!(
            resp.headers()["www-authenticate"],
            "Basic realm=\"almanac-emulator\""
        );
    }
}

#[tokio::test]
async fn unknown_paths_are_404_and_unsupported_methods_405() {
    let emu = with_three().await;
    assert_eq!(
        send(&emu, "GET", "/nowhere", None, "", &[])
            .await
            .status
            .as_u16(),
        404
    );
    assert_eq!(
        send(&emu, "PROPFIND", "/dav/calendars/bob/", Some("0"), "", &[])
            .await
            .status
            .as_u16(),
        404
    );
    assert_eq!(
        send(&emu, "PATCH", &href("e1.ics"), None, "", &[])
            .await
            .status
            .as_u16(),
        405
    );
    assert_eq!(
        send(&emu, "PUT", "/dav/", None, "x", &[])
            .await
            .status
            .as_u16(),
        405
    );
    let bad = send(
        &emu,
        "REPORT",
        &format!("/dav/calendars/{USER}/work/"),
        None,
        "<a></b>",
        &[],
    )
    .await;
    assert_eq!(bad.status.as_u16(), 400);
}

#[tokio::test]
async fn no_sync_collection_hides_the_report_and_refuses_it() {
    let emu = with_three().await;
    emu.set_faults(Faults {
        no_sync_collection: true,
        ..Faults::default()
    });
    let reply = send(
        &emu,
        "PROPFIND",
        &format!("/dav/calendars/{USER}/"),
        Some("1"),
        PROPFIND_HOME,
        &[],
    )
    .await;
    assert!(!reply.body.contains("sync-collection"));
    assert!(reply.body.contains("<c:calendar-multiget/>"));
    assert!(
        !reply.body.contains("<d:sync-token>http"),
        "no token property either"
    );
    let refused = sync(&emu, "work", "").await;
    assert_eq!(refused.status, StatusCode::FORBIDDEN);
    assert!(refused.body.contains("supported-report"));
}

#[tokio::test]
async fn stale_token_full_listing_answers_207_with_every_item_and_no_removals() {
    let emu = with_three().await;
    let token = sync_token(&sync(&emu, "work", "").await.body);
    emu.delete("work", "e2.ics");
    emu.expire_tokens();
    emu.set_faults(Faults {
        stale_token_full_listing: true,
        ..Faults::default()
    });
    let reply = sync(&emu, "work", &token).await;
    assert_eq!(reply.status.as_u16(), 207);
    let rs = responses(&reply.body);
    let hrefs: Vec<&str> = rs.iter().map(|r| r.href.as_str()).collect();
    assert_eq!(hrefs, [href("e1.ics"), href("e3.ics")]);
    let fresh = sync_token(&reply.body);
    assert_ne!(fresh, token);
    assert!(
        responses(&sync(&emu, "work", &fresh).await.body).is_empty(),
        "the new token works"
    );
}

#[tokio::test]
async fn next_status_answers_each_queued_status_once_with_retry_after() {
    let emu = with_three().await;
    emu.set_faults(Faults {
        next_status: vec![(503, Some(7)), (429, None)],
        ..Faults::default()
    });
    let first = send(&emu, "GET", &href("e1.ics"), None, "", &[]).await;
    assert_eq!(first.status.as_u16(), 503);
    assert_eq!(first.headers["retry-after"], "7");
    let second = send(&emu, "GET", &href("e1.ics"), None, "", &[]).await;
    assert_eq!(second.status.as_u16(), 429);
    assert!(!second.headers.contains_key("retry-after"));
    assert_eq!(
        send(&emu, "GET", &href("e1.ics"), None, "", &[])
            .await
            .status
            .as_u16(),
        200
    );
    assert!(emu.faults().next_status.is_empty());
}

#[tokio::test]
async fn cut_next_sends_half_the_promised_body_then_closes() {
    let emu = with_three().await;
    emu.set_faults(Faults {
        cut_next: 1,
        ..Faults::default()
    });
    let url = format!(
        "{}{}",
        emu.base_url(),
        href("e1.ics").trim_start_matches('/')
    );
    let resp = client()
        .get(&url)
        .basic_auth(USER, Some(PASSWORD))
        .send()
        .await
        .expect("headers arrive");
    assert_eq!(resp.status(), StatusCode::OK);
    let full = emu.items("work")[0].2.len() as u64;
    assert_eq!(resp.content_length(), Some(full));
    assert!(resp.text().await.is_err(), "the body must fail mid-way");
    assert_eq!(emu.faults().cut_next, 0);
    assert_eq!(
        send(&emu, "GET", &href("e1.ics"), None, "", &[])
            .await
            .status
            .as_u16(),
        200
    );
}

#[tokio::test]
async fn delay_ms_slows_every_reply() {
    let emu = with_three().await;
    emu.set_faults(Faults {
        delay_ms: 150,
        ..Faults::default()
    });
    let started = Instant::now();
    send(&emu, "GET", &href("e1.ics"), None, "", &[]).await;
    assert!(started.elapsed() >= Duration::from_millis(150));
}

#[tokio::test]
async fn malformed_next_breaks_only_the_next_multistatus_bodies() {
    let emu = with_three().await;
    emu.set_faults(Faults {
        malformed_next: 1,
        ..Faults::default()
    });
    let got = send(&emu, "GET", &href("e1.ics"), None, "", &[]).await;
    assert_eq!(got.status.as_u16(), 200, "non-207 replies are untouched");
    let broken = sync(&emu, "work", "").await;
    assert_eq!(broken.status.as_u16(), 207);
    assert!(!well_formed(&broken.body), "{}", broken.body);
    let fine = sync(&emu, "work", "").await;
    assert!(well_formed(&fine.body));
}

fn well_formed(xml: &str) -> bool {
    let mut reader = quick_xml::Reader::from_str(xml);
    let mut depth = 0i32;
    loop {
        match reader.read_event() {
            Ok(quick_xml::events::Event::Start(_)) => depth += 1,
            Ok(quick_xml::events::Event::End(_)) => depth -= 1,
            Ok(quick_xml::events::Event::GeneralRef(r)) => {
                let name = r.decode().unwrap_or_default().into_owned();
                if !["lt", "gt", "amp", "quot", "apos"].contains(&name.as_str())
                    && !name.starts_with('#')
                {
                    return false;
                }
            }
            Ok(quick_xml::events::Event::Eof) => return depth == 0,
            Ok(_) => {}
            Err(_) => return false,
        }
    }
}

#[tokio::test]
async fn corrupt_item_serves_broken_icalendar_but_keeps_the_stored_body() {
    let emu = with_three().await;
    emu.set_faults(Faults {
        corrupt_item: Some("e2.ics".into()),
        ..Faults::default()
    });
    let body = multiget_body(&[&href("e1.ics"), &href("e2.ics")]);
    let reply = send(
        &emu,
        "REPORT",
        &format!("/dav/calendars/{USER}/work/"),
        Some("1"),
        &body,
        &[],
    )
    .await;
    let rs = responses(&reply.body);
    assert!(
        rs[0]
            .data
            .as_deref()
            .is_some_and(|d| d.contains("END:VCALENDAR"))
    );
    let broken = rs[1].data.clone().expect("data");
    assert!(!broken.contains("END:VEVENT"));
    assert_eq!(rs[1].etag.as_deref(), Some(emu.items("work")[1].1.as_str()));
    let got = send(&emu, "GET", &href("e2.ics"), None, "", &[]).await;
    assert_eq!(got.body, broken);
    assert!(emu.items("work")[1].2.contains("END:VEVENT"));
}

#[tokio::test]
async fn foreign_href_adds_one_response_on_another_origin() {
    let emu = with_three().await;
    emu.set_faults(Faults {
        foreign_href: true,
        ..Faults::default()
    });
    let listing = send(
        &emu,
        "PROPFIND",
        &format!("/dav/calendars/{USER}/"),
        Some("1"),
        PROPFIND_HOME,
        &[],
    )
    .await;
    let sync_reply = sync(&emu, "work", "").await;
    let multiget = multiget_body(&[&href("e1.ics")]);
    let mg = send(
        &emu,
        "REPORT",
        &format!("/dav/calendars/{USER}/work/"),
        Some("1"),
        &multiget,
        &[],
    )
    .await;
    for reply in [listing, sync_reply, mg] {
        let foreign: Vec<Resp> = responses(&reply.body)
            .into_iter()
            .filter(|r| r.href.starts_with("http://evil.example/"))
            .collect();
        assert_eq!(foreign.len(), 1, "{}", reply.body);
    }
}

#[tokio::test]
async fn drop_from_multiget_silently_omits_that_href() {
    let emu = with_three().await;
    emu.set_faults(Faults {
        drop_from_multiget: Some("e2.ics".into()),
        ..Faults::default()
    });
    let body = multiget_body(&[&href("e1.ics"), &href("e2.ics"), &href("e3.ics")]);
    let reply = send(
        &emu,
        "REPORT",
        &format!("/dav/calendars/{USER}/work/"),
        Some("1"),
        &body,
        &[],
    )
    .await;
    let hrefs: Vec<String> = responses(&reply.body).into_iter().map(|r| r.href).collect();
    assert_eq!(hrefs, [href("e1.ics"), href("e3.ics")]);
}

#[tokio::test]
async fn counts_requests_bytes_and_logs_method_path_depth() {
    let emu = with_three().await;
    let got = send(&emu, "GET", &href("e1.ics"), None, "", &[]).await;
    let listed = sync(&emu, "work", "").await;
    assert_eq!(emu.requests(), 2);
    assert_eq!(
        emu.bytes_sent(),
        (got.body.len() + listed.body.len()) as u64
    );
    assert_eq!(
        emu.request_log(),
        [
            ("GET".to_string(), href("e1.ics"), None),
            (
                "REPORT".to_string(),
                format!("/dav/calendars/{USER}/work/"),
                Some("0".to_string())
            ),
        ]
    );
    emu.reset_counts();
    assert_eq!(
        (emu.requests(), emu.bytes_sent(), emu.request_log().len()),
        (0, 0, 0)
    );
}

#[tokio::test]
async fn dropping_the_last_handle_stops_the_server() {
    let emu = with_three().await;
    let url = emu.base_url();
    let clone = emu.clone();
    drop(emu);
    assert!(
        client().get(&url).send().await.is_ok(),
        "a clone keeps it alive"
    );
    drop(clone);
    tokio::time::sleep(Duration::from_millis(50)).await;
    assert!(client().get(&url).send().await.is_err());
}

#[tokio::test]
async fn demo_seed_fills_a_calendar_and_spawn_changes_it_visibly_through_sync() {
    let emu = CalDavEmulator::start(USER, PASSWORD).await.expect("starts");
    emu.add_calendar("demo", "Demo", Some("#FF8800FF"));
    let today = chrono::NaiveDate::from_ymd_opt(2026, 3, 18).expect("date");
    demo::seed(&emu, "demo", today);
    let items = emu.items("demo");
    assert_eq!(items.len(), 40);
    assert!(
        items
            .iter()
            .any(|(_, _, b)| b.contains("RRULE:FREQ=WEEKLY"))
    );
    assert!(
        items
            .iter()
            .any(|(_, _, b)| b.contains("DTSTART;VALUE=DATE:"))
    );
    assert!(
        items
            .iter()
            .all(|(_, _, b)| b.starts_with("BEGIN:VCALENDAR\r\n")
                && b.ends_with("END:VCALENDAR\r\n"))
    );

    let token = sync_token(&sync(&emu, "demo", "").await.body);
    let feed = demo::spawn(emu.clone(), "demo", Duration::from_millis(20));
    tokio::time::sleep(Duration::from_millis(200)).await;
    let delta = sync(&emu, "demo", &token).await;
    feed.abort();
    assert!(
        !responses(&delta.body).is_empty(),
        "live changes show up: {}",
        delta.body
    );
}
