//! The reader and the bodies against fixtures of real servers' replies.

use super::*;
use quick_xml::NsReader;
use quick_xml::escape::resolve_predefined_entity;
use quick_xml::events::Event;
use quick_xml::name::ResolveResult;
use reqwest::Url;

const SYNC_RFC6578: &str = include_str!("../../../../tests/fixtures/dav/sync_rfc6578.xml");
const SYNC_SABRE_TRUNCATED: &str =
    include_str!("../../../../tests/fixtures/dav/sync_sabre_truncated.xml");
const SYNC_RADICALE: &str = include_str!("../../../../tests/fixtures/dav/sync_radicale.xml");
const PRINCIPAL_ICLOUD: &str = include_str!("../../../../tests/fixtures/dav/principal_icloud.xml");
const HOME_SET_GOOGLE: &str = include_str!("../../../../tests/fixtures/dav/home_set_google.xml");
const CALENDARS_NEXTCLOUD: &str =
    include_str!("../../../../tests/fixtures/dav/calendars_nextcloud.xml");
const MULTIGET_CDATA_APPLE: &str =
    include_str!("../../../../tests/fixtures/dav/multiget_cdata_apple.xml");
const MULTIGET_ESCAPED_XANDIKOS: &str =
    include_str!("../../../../tests/fixtures/dav/multiget_escaped_xandikos.xml");
const CHANGING_PREFIXES: &str =
    include_str!("../../../../tests/fixtures/dav/changing_prefixes.xml");

const ALL_FIXTURES: &[&str] = &[
    SYNC_RFC6578,
    SYNC_SABRE_TRUNCATED,
    SYNC_RADICALE,
    PRINCIPAL_ICLOUD,
    HOME_SET_GOOGLE,
    CALENDARS_NEXTCLOUD,
    MULTIGET_CDATA_APPLE,
    MULTIGET_ESCAPED_XANDIKOS,
    CHANGING_PREFIXES,
];

fn parse(body: &str) -> Multistatus {
    parse_multistatus(body.as_bytes()).expect("fixture parses")
}

fn url(s: &str) -> Url {
    Url::parse(s).expect("test URL parses")
}

/// Every element of a request body as (namespace URI, local name), to check bodies by meaning.
fn elements(body: &str) -> Vec<(String, String)> {
    let mut reader = NsReader::from_str(body);
    let mut out = Vec::new();
    loop {
        let (ns, event) = reader
            .read_resolved_event()
            .expect("request is well-formed XML");
        let ns = match ns {
            ResolveResult::Bound(n) => String::from_utf8(n.into_inner().to_vec()).unwrap(),
            _ => String::new(),
        };
        match event {
            Event::Start(e) | Event::Empty(e) => {
                assert!(!ns.is_empty(), "an element without namespace in a request");
                out.push((
                    ns,
                    String::from_utf8(e.local_name().into_inner().to_vec()).unwrap(),
                ));
            }
            Event::Eof => return out,
            _ => {}
        }
    }
}

fn has(elements: &[(String, String)], ns: &str, local: &str) -> bool {
    elements.iter().any(|(n, l)| n == ns && l == local)
}

const D: &str = "DAV:";
const C: &str = "urn:ietf:params:xml:ns:caldav";
const CS: &str = "http://calendarserver.org/ns/";
const IC: &str = "http://apple.com/ns/ical/";

// Requests.

#[test]
fn every_request_body_starts_with_an_xml_declaration_and_is_well_formed() {
    for body in [
        propfind_principal(),
        propfind_home_set(),
        propfind_calendars(),
        propfind_etags(),
        sync_collection(None),
        sync_collection(Some("data:,9")),
        calendar_multiget(&["/a.ics".to_owned()]),
    ] {
        assert!(body.starts_with("<?xml version=\"1.0\" encoding=\"utf-8\"?>"));
        assert!(!elements(&body).is_empty());
    }
}

#[test]
fn discovery_propfinds_ask_for_the_principal_then_the_home_set() {
    let e = elements(&propfind_principal());
    assert_eq!(e[0], (D.to_owned(), "propfind".to_owned()));
    assert!(has(&e, D, "current-user-principal"));
    assert!(has(&elements(&propfind_home_set()), C, "calendar-home-set"));
}

#[test]
fn the_calendar_listing_propfind_asks_for_every_property_by_namespace() {
    let e = elements(&propfind_calendars());
    for (ns, local) in [
        (D, "resourcetype"),
        (D, "displayname"),
        (IC, "calendar-color"),
        (CS, "getctag"),
        (D, "sync-token"),
        (D, "supported-report-set"),
        (C, "supported-calendar-component-set"),
    ] {
        assert!(has(&e, ns, local), "missing {ns}{local}");
    }
}

#[test]
fn the_etag_propfind_also_asks_for_ctag_and_sync_token_for_depth_zero_use() {
    let e = elements(&propfind_etags());
    for (ns, local) in [
        (D, "getetag"),
        (D, "resourcetype"),
        (CS, "getctag"),
        (D, "sync-token"),
    ] {
        assert!(has(&e, ns, local), "missing {ns}{local}");
    }
}

#[test]
fn a_first_sync_sends_an_empty_sync_token_element() {
    let body = sync_collection(None);
    assert!(body.contains("<d:sync-token/>"));
    assert!(body.contains("<d:sync-level>1</d:sync-level>"));
    let e = elements(&body);
    assert_eq!(e[0], (D.to_owned(), "sync-collection".to_owned()));
    assert!(has(&e, D, "getetag"));
}

#[test]
fn a_sync_token_is_sent_back_escaped_and_reads_back_unchanged() {
    let token = "http://example.com/sync/12?a=1&b=<2>";
    let body = sync_collection(Some(token));
    assert!(body.contains("a=1&amp;b=&lt;2&gt;"));
    // Read it back the way a server would.
    let mut reader = NsReader::from_str(&body);
    let mut text = String::new();
    let mut inside = false;
    loop {
        match reader.read_event().unwrap() {
            Event::Start(e) if e.local_name().into_inner() == b"sync-token" => inside = true,
            Event::End(_) => inside = false,
            Event::Text(t) if inside => text.push_str(&t.decode().unwrap()),
            Event::GeneralRef(r) if inside => {
                text.push_str(resolve_predefined_entity(&r.decode().unwrap()).unwrap())
            }
            Event::Eof => break,
            _ => {}
        }
    }
    assert_eq!(text, token);
}

#[test]
fn a_multiget_lists_each_href_escaped_and_asks_for_etag_and_data() {
    let body = calendar_multiget(&["/cal/a.ics".to_owned(), "/cal/b&c.ics".to_owned()]);
    assert!(body.contains("<d:href>/cal/a.ics</d:href>"));
    assert!(body.contains("<d:href>/cal/b&amp;c.ics</d:href>"));
    let e = elements(&body);
    assert_eq!(e[0], (C.to_owned(), "calendar-multiget".to_owned()));
    assert!(has(&e, D, "getetag"));
    assert!(has(&e, C, "calendar-data"));
}

// Sync-collection replies.

#[test]
fn the_rfc_6578_example_gives_changes_a_removal_and_the_new_token() {
    let ms = parse(SYNC_RFC6578);
    assert_eq!(
        ms.sync_token.as_deref(),
        Some("http://example.com/ns/sync/1234")
    );
    assert!(ms.errors.is_empty());
    let got: Vec<_> = ms
        .responses
        .iter()
        .map(|r| (r.href.as_str(), r.status, r.props.etag.as_deref()))
        .collect();
    assert_eq!(
        got,
        [
            (
                "http://calendar.example.com/home/cyrusdaboo/calendar/new.ics",
                None,
                Some("\"00001-abcd1\"")
            ),
            (
                "http://calendar.example.com/home/cyrusdaboo/calendar/updated.ics",
                None,
                Some("\"00002-abcd1\"")
            ),
            (
                "http://calendar.example.com/home/cyrusdaboo/calendar/deleted.ics",
                Some(404),
                None
            ),
        ]
    );
}

#[test]
fn a_truncated_sync_reply_reports_507_for_the_request_uri_and_its_partial_token() {
    let ms = parse(SYNC_SABRE_TRUNCATED);
    assert_eq!(ms.sync_token.as_deref(), Some("http://sabre.io/ns/sync/42"));
    assert_eq!(ms.responses.len(), 4);
    let truncated = &ms.responses[3];
    assert_eq!(truncated.href, "/remote.php/dav/calendars/alice/personal/");
    assert_eq!(truncated.status, Some(507));
    assert_eq!(ms.responses[2].status, Some(404));
    // Hrefs are kept as written: percent-decoding is `normalise_href`'s job.
    assert_eq!(
        ms.responses[1].href,
        "/remote.php/dav/calendars/alice/personal/b%C3%BCro%20party.ics"
    );
}

#[test]
fn an_etag_with_quot_escapes_is_unescaped() {
    let ms = parse(SYNC_SABRE_TRUNCATED);
    assert_eq!(
        ms.responses[0].props.etag.as_deref(),
        Some("\"6a5f2b1e9c0d4e3f\"")
    );
    assert_eq!(ms.responses[0].status, None);
}

#[test]
fn a_404_propstat_for_getetag_is_not_a_removal() {
    // Radicale lists the collection itself with getetag in a 404 propstat.
    let ms = parse(SYNC_RADICALE);
    let collection = &ms.responses[0];
    assert_eq!(collection.href, "/alice/calendar.ics/");
    assert_eq!(collection.status, None);
    assert_eq!(collection.props, Props::default());
    assert_eq!(
        ms.responses[1].props.etag.as_deref(),
        Some("\"d41d8cd98f00b204e9800998ecf8427e\"")
    );
    assert_eq!(
        ms.sync_token.as_deref(),
        Some("http://radicale.org/ns/sync/9b2f4c1e8d7a6b5c4d3e2f1a0b9c8d7e")
    );
}

#[test]
fn a_sync_token_inside_a_response_is_not_the_multistatus_token() {
    let body = r#"<d:multistatus xmlns:d="DAV:"><d:response><d:href>/c/</d:href>
        <d:propstat><d:prop><d:sync-token>prop-token</d:sync-token></d:prop>
        <d:status>HTTP/1.1 200 OK</d:status></d:propstat></d:response></d:multistatus>"#;
    let ms = parse(body);
    assert_eq!(ms.sync_token, None);
    assert_eq!(
        ms.responses[0].props.sync_token.as_deref(),
        Some("prop-token")
    );
}

#[test]
fn a_status_response_with_several_hrefs_becomes_one_response_per_href() {
    let body = r#"<multistatus xmlns="DAV:"><response><href>/c/a.ics</href>
        <href>/c/b.ics</href><status>HTTP/1.1 404 Not Found</status></response>
        </multistatus>"#;
    let ms = parse(body);
    let got: Vec<_> = ms
        .responses
        .iter()
        .map(|r| (r.href.as_str(), r.status))
        .collect();
    assert_eq!(got, [("/c/a.ics", Some(404)), ("/c/b.ics", Some(404))]);
}

// Discovery replies.

#[test]
fn the_principal_is_read_from_a_default_namespace_reply() {
    let ms = parse(PRINCIPAL_ICLOUD);
    assert_eq!(ms.responses.len(), 1);
    assert_eq!(ms.responses[0].href, "/");
    assert_eq!(
        ms.responses[0].props.current_user_principal.as_deref(),
        Some("/123456789/principal/")
    );
}

#[test]
fn an_unauthenticated_principal_is_none() {
    let body = r#"<d:multistatus xmlns:d="DAV:"><d:response><d:href>/</d:href><d:propstat>
        <d:prop><d:current-user-principal><d:unauthenticated/></d:current-user-principal>
        </d:prop><d:status>HTTP/1.1 200 OK</d:status></d:propstat></d:response>
        </d:multistatus>"#;
    assert_eq!(parse(body).responses[0].props.current_user_principal, None);
}

#[test]
fn the_first_calendar_home_set_href_is_kept() {
    let ms = parse(HOME_SET_GOOGLE);
    let r = &ms.responses[0];
    assert_eq!(r.href, "/caldav/v2/alice%40gmail.com/user");
    assert_eq!(
        r.props.calendar_home_set.as_deref(),
        Some("/caldav/v2/alice%40gmail.com/")
    );
}

#[test]
fn a_calendar_listing_gives_names_colours_tokens_reports_and_components() {
    let ms = parse(CALENDARS_NEXTCLOUD);
    assert!(ms.errors.is_empty(), "{:?}", ms.errors);
    assert_eq!(ms.responses.len(), 5);

    let home = &ms.responses[0];
    assert!(home.props.is_collection && !home.props.is_calendar);
    assert_eq!(
        home.props.displayname, None,
        "a 404 propstat contributes nothing"
    );

    let personal = &ms.responses[1];
    assert_eq!(personal.href, "/remote.php/dav/calendars/alice/personal/");
    assert!(personal.props.is_collection && personal.props.is_calendar);
    assert_eq!(personal.props.displayname.as_deref(), Some("Büro & Home"));
    assert_eq!(personal.props.color.as_deref(), Some("#0082c9"));
    assert_eq!(
        personal.props.ctag.as_deref(),
        Some("http://sabre.io/ns/sync/17")
    );
    assert_eq!(
        personal.props.sync_token.as_deref(),
        Some("http://sabre.io/ns/sync/17")
    );
    assert_eq!(
        personal.props.supported_reports,
        [
            "expand-property",
            "principal-match",
            "calendar-multiget",
            "calendar-query",
            "free-busy-query",
            "sync-collection"
        ]
    );
    assert_eq!(personal.props.components, ["VEVENT"]);

    let tasks = &ms.responses[2];
    assert!(tasks.props.is_calendar);
    assert_eq!(tasks.props.color.as_deref(), Some("#FF7A66FF"));
    assert_eq!(tasks.props.components, ["VTODO", "VJOURNAL"]);

    let inbox = &ms.responses[3];
    assert!(inbox.props.is_collection && !inbox.props.is_calendar);

    let attachments = &ms.responses[4];
    assert!(attachments.props.is_collection && !attachments.props.is_calendar);
    assert_eq!(
        attachments.props.displayname.as_deref(),
        Some("Attachments")
    );
}

// Multiget replies.

#[test]
fn calendar_data_in_cdata_is_kept_verbatim() {
    let ms = parse(MULTIGET_CDATA_APPLE);
    let data = ms.responses[0].props.calendar_data.as_deref().unwrap();
    assert!(data.starts_with("BEGIN:VCALENDAR\nVERSION:2.0\n"));
    assert!(data.contains("SUMMARY:Standup <daily> & \"retro\"\n"));
    assert!(data.ends_with("END:VCALENDAR\n"));
    assert_eq!(
        ms.responses[0].props.etag.as_deref(),
        Some("\"C=101@U=a1b2c3d4\"")
    );
    assert_eq!(ms.responses[1].href, "/123456789/calendars/home/gone.ics");
    assert_eq!(ms.responses[1].status, Some(404));
}

#[test]
fn escaped_calendar_data_is_unescaped() {
    let ms = parse(MULTIGET_ESCAPED_XANDIKOS);
    assert_eq!(ms.responses[0].href, "/user/calendars/calendar/f00.ics");
    let data = ms.responses[0].props.calendar_data.as_deref().unwrap();
    assert!(data.contains("SUMMARY:Fish & chips <lunch>\n"), "{data}");
    assert_eq!(ms.responses[0].props.etag.as_deref(), Some("\"3c5b2a1e\""));
}

#[test]
fn crlf_line_endings_in_calendar_data_are_untouched() {
    // SabreDAV escapes each CR as `&#13;`; others send raw CRLF.
    let body = "<d:multistatus xmlns:d=\"DAV:\" xmlns:c=\"urn:ietf:params:xml:ns:caldav\">\
        <d:response><d:href>/a.ics</d:href><d:propstat><d:prop><c:calendar-data>\
        BEGIN:VCALENDAR&#13;\nVERSION:2.0\r\nEND:VCALENDAR\r\n</c:calendar-data></d:prop>\
        <d:status>HTTP/1.1 200 OK</d:status></d:propstat></d:response></d:multistatus>";
    let ms = parse(body);
    assert_eq!(
        ms.responses[0].props.calendar_data.as_deref(),
        Some("BEGIN:VCALENDAR\r\nVERSION:2.0\r\nEND:VCALENDAR\r\n")
    );
}

#[test]
fn calendar_data_of_only_whitespace_is_none() {
    let body = "<d:multistatus xmlns:d=\"DAV:\" xmlns:c=\"urn:ietf:params:xml:ns:caldav\">\
        <d:response><d:href>/a.ics</d:href><d:propstat><d:prop><c:calendar-data>\r\n  \
        </c:calendar-data></d:prop><d:status>HTTP/1.1 200 OK</d:status></d:propstat>\
        </d:response></d:multistatus>";
    assert_eq!(parse(body).responses[0].props.calendar_data, None);
}

// Namespaces, etags, hrefs.

#[test]
fn elements_match_by_namespace_not_prefix_even_when_prefixes_change() {
    let ms = parse(CHANGING_PREFIXES);
    assert!(ms.errors.is_empty(), "{:?}", ms.errors);
    let got: Vec<_> = ms
        .responses
        .iter()
        .map(|r| (r.href.as_str(), r.props.etag.as_deref()))
        .collect();
    assert_eq!(
        got,
        [
            ("/cal/one.ics", Some("W/\"one-1\"")),
            ("/cal/two.ics", Some("\"two-2\"")),
            ("/cal/three.ics", Some("W/\"three-3\"")),
        ]
    );
}

#[test]
fn an_element_in_an_unknown_namespace_is_ignored() {
    let body = r#"<multistatus xmlns="DAV:" xmlns:x="http://example.com/x">
        <x:response><href>/no.ics</href></x:response>
        <response><href>/yes.ics</href><propstat><prop>
        <x:displayname>not dav</x:displayname><x:resourcetype><collection/></x:resourcetype>
        </prop><status>HTTP/1.1 200 OK</status></propstat></response></multistatus>"#;
    let ms = parse(body);
    assert_eq!(ms.responses.len(), 1);
    assert_eq!(ms.responses[0].href, "/yes.ics");
    assert_eq!(ms.responses[0].props, Props::default());
}

#[test]
fn full_url_hrefs_and_weak_etags_are_kept_as_written() {
    let body = r#"<?xml version="1.0"?><D:multistatus xmlns:D="DAV:"><D:response>
        <D:href>https://caldav.example.com:8443/dav/cal/a%7eb.ics</D:href><D:propstat>
        <D:prop><D:getetag> W/&quot;17-abc&quot; </D:getetag></D:prop>
        <D:status>HTTP/1.1 200 OK</D:status></D:propstat></D:response></D:multistatus>"#;
    let r = &parse(body).responses[0];
    assert_eq!(r.href, "https://caldav.example.com:8443/dav/cal/a%7eb.ics");
    assert_eq!(r.props.etag.as_deref(), Some("W/\"17-abc\""));
}

#[test]
fn a_response_without_href_is_skipped_and_recorded() {
    let body = r#"<d:multistatus xmlns:d="DAV:"><d:response><d:propstat><d:prop>
        <d:getetag>"x"</d:getetag></d:prop><d:status>HTTP/1.1 200 OK</d:status>
        </d:propstat></d:response><d:response><d:href>  </d:href>
        <d:status>HTTP/1.1 404 Not Found</d:status></d:response>
        <d:response><d:href>/ok.ics</d:href><d:status>HTTP/1.1 404 Not Found</d:status>
        </d:response></d:multistatus>"#;
    let ms = parse(body);
    assert_eq!(ms.responses.len(), 1);
    assert_eq!(ms.responses[0].href, "/ok.ics");
    assert_eq!(ms.errors.len(), 2);
    assert!(ms.errors[0].contains("without an href"));
}

#[test]
fn a_garbled_status_line_is_recorded_and_left_as_none() {
    let body = r#"<d:multistatus xmlns:d="DAV:"><d:response><d:href>/a</d:href>
        <d:status>gone away</d:status></d:response></d:multistatus>"#;
    let ms = parse(body);
    assert_eq!(ms.responses[0].status, None);
    assert!(ms.errors[0].contains("gone away"), "{:?}", ms.errors);
}

#[test]
fn a_propstat_without_status_contributes_nothing() {
    let body = r#"<d:multistatus xmlns:d="DAV:"><d:response><d:href>/a</d:href>
        <d:propstat><d:prop><d:getetag>"x"</d:getetag></d:prop></d:propstat>
        </d:response></d:multistatus>"#;
    assert_eq!(parse(body).responses[0].props.etag, None);
}

// Failures.

#[test]
fn a_byte_order_mark_and_trailing_junk_are_tolerated() {
    let mut body = b"\xEF\xBB\xBF".to_vec();
    body.extend_from_slice(SYNC_RADICALE.as_bytes());
    body.extend_from_slice(b"\n<!-- served by x -->\n");
    assert_eq!(parse_multistatus(&body), Ok(parse(SYNC_RADICALE)));
}

#[test]
fn a_malformed_body_is_an_error_with_a_position() {
    let err =
        parse_multistatus(b"<d:multistatus xmlns:d=\"DAV:\"><d:response></d:href>").unwrap_err();
    assert!(err.0.starts_with("the server's reply is not XML"), "{err}");
    assert!(err.0.contains("at byte"), "{err}");
}

#[test]
fn an_html_error_page_or_empty_body_is_an_error() {
    assert!(parse_multistatus(b"").is_err());
    assert!(parse_multistatus(b"   \n").is_err());
    assert!(parse_multistatus(b"Internal Server Error").is_err());
    let err = parse_multistatus(b"<html><body>502 Bad Gateway</body></html>").unwrap_err();
    assert!(err.0.contains("not a WebDAV multistatus"), "{err}");
}

#[test]
fn a_body_cut_off_mid_document_is_an_error() {
    let cut = &SYNC_RFC6578[..SYNC_RFC6578.len() / 2];
    let err = parse_multistatus(cut.as_bytes()).unwrap_err();
    assert!(err.0.contains("cut off"), "{err}");
}

#[test]
fn invalid_utf8_in_an_href_skips_that_response_not_the_reply() {
    let body = b"<d:multistatus xmlns:d=\"DAV:\"><d:response><d:href>/\xff\xfe</d:href>\
        </d:response></d:multistatus>";
    let ms = parse_multistatus(body).expect("no panic, no failed reply");
    assert!(ms.responses.is_empty());
    assert_eq!(ms.errors.len(), 1, "{:?}", ms.errors);
}

#[test]
fn undeclared_entities_and_bad_char_refs_are_kept_literally() {
    let body = r#"<d:multistatus xmlns:d="DAV:"><d:response><d:href>/a&nbsp;b&#0;</d:href>
        <d:status>HTTP/1.1 404 Not Found</d:status></d:response></d:multistatus>"#;
    let ms = parse(body);
    assert_eq!(ms.responses[0].href, "/a&nbsp;b&#0;");
}

#[test]
fn every_truncated_prefix_of_every_fixture_is_handled_without_panic() {
    for fixture in ALL_FIXTURES {
        let bytes = fixture.as_bytes();
        let end = fixture
            .rfind("multistatus>")
            .expect("fixture has a root end");
        for len in 0..=bytes.len() {
            let result = parse_multistatus(&bytes[..len]);
            if len < end {
                assert!(result.is_err(), "prefix of {len} bytes parsed");
            }
            let _ = is_valid_sync_token_error(&bytes[..len]);
        }
    }
}

#[test]
fn mutated_fixtures_never_panic() {
    // A small deterministic mutation loop: flip, drop and duplicate bytes.
    let mut seed: u64 = 0x9E37_79B9_7F4A_7C15;
    let mut next = move || {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        seed
    };
    let specials = b"<>&;/\"'=:![]#x";
    for fixture in ALL_FIXTURES {
        for _ in 0..300 {
            let mut bytes = fixture.as_bytes().to_vec();
            for _ in 0..(next() % 4 + 1) {
                let i = (next() % bytes.len() as u64) as usize;
                match next() % 3 {
                    0 => bytes[i] = specials[(next() % specials.len() as u64) as usize],
                    1 => {
                        bytes.remove(i);
                    }
                    _ => bytes.insert(i, bytes[i]),
                }
            }
            let _ = parse_multistatus(&bytes);
            let _ = is_valid_sync_token_error(&bytes);
        }
    }
}

fn nested(depth: usize) -> String {
    let mut body = String::from(r#"<d:multistatus xmlns:d="DAV:">"#);
    body.push_str(&"<d:x>".repeat(depth));
    body.push_str(&"</d:x>".repeat(depth));
    body.push_str("</d:multistatus>");
    body
}

#[test]
fn deep_nesting_is_read_without_recursion() {
    assert_eq!(parse(&nested(5_000)), Multistatus::default());
}

#[test]
fn absurd_nesting_is_an_error_not_a_panic() {
    // Past 65,535 open elements quick-xml's namespace counter would overflow.
    let body = nested(70_000);
    let err = parse_multistatus(body.as_bytes()).unwrap_err();
    assert!(err.0.contains("nests elements"), "{err}");
    assert!(!is_valid_sync_token_error(
        nested(70_000).replace("multistatus", "error").as_bytes()
    ));
}

// The valid-sync-token error.

#[test]
fn the_valid_sync_token_error_is_recognised_under_any_prefix() {
    let sabre = br#"<?xml version="1.0" encoding="utf-8"?>
<d:error xmlns:d="DAV:" xmlns:s="http://sabredav.org/ns">
  <s:sabredav-version>4.6.0</s:sabredav-version>
  <d:valid-sync-token/>
  <s:message>Invalid or unknown sync token</s:message>
</d:error>"#;
    let default_ns = br#"<error xmlns="DAV:"><valid-sync-token /></error>"#;
    let upper = br#"<D:error xmlns:D="DAV:"><D:valid-sync-token></D:valid-sync-token></D:error>"#;
    let mixed = br#"<D:error xmlns:D="DAV:"><x:valid-sync-token xmlns:x="DAV:"/></D:error>"#;
    for body in [&sabre[..], default_ns, upper, mixed] {
        assert!(
            is_valid_sync_token_error(body),
            "{}",
            String::from_utf8_lossy(body)
        );
    }
}

#[test]
fn other_error_bodies_are_not_the_valid_sync_token_error() {
    let others: [&[u8]; 6] = [
        br#"<d:error xmlns:d="DAV:"><d:number-of-matches-within-limits/></d:error>"#,
        br#"<x:error xmlns:x="urn:other"><x:valid-sync-token/></x:error>"#,
        br#"<d:error xmlns:d="DAV:"><z:valid-sync-token xmlns:z="urn:z"/></d:error>"#,
        br#"<d:valid-sync-token xmlns:d="DAV:"/>"#,
        b"<html><body>403 Forbidden</body></html>",
        b"",
    ];
    for body in others {
        assert!(
            !is_valid_sync_token_error(body),
            "{}",
            String::from_utf8_lossy(body)
        );
    }
}

// Href normalisation.

#[test]
fn an_absolute_path_href_resolves_against_the_request_url() {
    let base = url("https://dav.example.com/remote.php/dav/calendars/alice/personal/");
    let got = normalise_href(&base, "/remote.php/dav/calendars/alice/personal/a.ics").unwrap();
    assert_eq!(
        got.as_str(),
        "https://dav.example.com/remote.php/dav/calendars/alice/personal/a.ics"
    );
}

#[test]
fn a_full_url_href_is_taken_as_is() {
    let base = url("https://dav.example.com/cal/");
    let got = normalise_href(&base, " https://other.example.com:8443/cal/a.ics ").unwrap();
    assert_eq!(got.as_str(), "https://other.example.com:8443/cal/a.ics");
}

#[test]
fn a_relative_href_resolves_against_the_collection() {
    let base = url("https://dav.example.com/cal/");
    assert_eq!(
        normalise_href(&base, "a.ics").unwrap().as_str(),
        "https://dav.example.com/cal/a.ics"
    );
}

#[test]
fn two_percent_spellings_of_one_resource_compare_equal() {
    let base = url("https://dav.example.com/cal/");
    let a = normalise_href(&base, "/cal/b%c3%bcro%20party%7Ex.ics").unwrap();
    let b = normalise_href(&base, "/cal/b%C3%BCro%20party~x.ics").unwrap();
    let c = normalise_href(
        &base,
        "https://DAV.example.com:443/%63al/b%C3%BCro%20party%7ex.ics",
    )
    .unwrap();
    assert_eq!(a, b);
    assert_eq!(a, c);
    assert_eq!(a.path(), "/cal/b%C3%BCro%20party~x.ics");
}

#[test]
fn reserved_escapes_are_not_decoded() {
    let base = url("https://dav.example.com/");
    let got = normalise_href(&base, "/cal/a%2fb%40c%3F.ics").unwrap();
    assert_eq!(got.path(), "/cal/a%2Fb%40c%3F.ics");
    // `@` and `%40` are different spellings this function does not collapse.
    assert_ne!(got, normalise_href(&base, "/cal/a%2fb@c%3F.ics").unwrap());
}

#[test]
fn escaped_dot_segments_are_resolved_like_plain_ones() {
    let base = url("https://dav.example.com/cal/");
    let got = normalise_href(&base, "/cal/%2e%2e/x.ics").unwrap();
    assert_eq!(got.path(), "/x.ics");
    assert_eq!(got, normalise_href(&base, "/cal/../x.ics").unwrap());
}

#[test]
fn unresolvable_hrefs_are_none() {
    let base = url("https://dav.example.com/cal/");
    assert_eq!(normalise_href(&base, ""), None);
    assert_eq!(normalise_href(&base, "   "), None);
    assert_eq!(normalise_href(&base, "mailto:alice@example.com"), None);
    assert_eq!(normalise_href(&base, "http://[::1"), None);
}

#[test]
fn a_malformed_escape_is_left_alone() {
    let base = url("https://dav.example.com/");
    let got = normalise_href(&base, "/cal/100%+1.ics").unwrap();
    assert!(got.path().starts_with("/cal/100%"), "{}", got.path());
}

#[test]
fn invalid_utf8_spoils_only_the_item_it_is_in() {
    let item = |href: &[u8], data: &[u8]| {
        let mut r = b"<d:response><d:href>".to_vec();
        r.extend_from_slice(href);
        r.extend_from_slice(
            b"</d:href><d:propstat><d:prop><d:getetag>\"1\"</d:getetag><c:calendar-data>",
        );
        r.extend_from_slice(data);
        r.extend_from_slice(
            b"</c:calendar-data></d:prop><d:status>HTTP/1.1 200 OK</d:status></d:propstat></d:response>",
        );
        r
    };
    let mut body = br#"<?xml version="1.0" encoding="utf-8"?><d:multistatus xmlns:d="DAV:" xmlns:c="urn:ietf:params:xml:ns:caldav">"#.to_vec();
    body.extend(item(b"/cal/a.ics", b"BEGIN:VCALENDAR\r\nSUMMARY:ok\r\n"));
    body.extend(item(
        b"/cal/b.ics",
        b"BEGIN:VCALENDAR\r\nSUMMARY:caf\xe9 \xff\r\n",
    ));
    body.extend(item(b"/cal/\xff.ics", b"BEGIN:VCALENDAR\r\n"));
    body.extend(item(b"/cal/c.ics", b"BEGIN:VCALENDAR\r\nSUMMARY:fine\r\n"));
    body.extend(b"</d:multistatus>");
    let ms = parse_multistatus(&body).expect("one bad item does not fail the reply");
    let hrefs: Vec<&str> = ms.responses.iter().map(|r| r.href.as_str()).collect();
    assert_eq!(hrefs, ["/cal/a.ics", "/cal/b.ics", "/cal/c.ics"]);
    assert_eq!(ms.responses[0].props.data_problem, None);
    assert!(
        ms.responses[1]
            .props
            .data_problem
            .as_deref()
            .is_some_and(|p| p.contains("UTF-8"))
    );
    assert!(ms.responses[1].props.calendar_data.is_some());
    assert_eq!(ms.responses[2].props.data_problem, None);
    assert_eq!(ms.errors.len(), 1, "{:?}", ms.errors);
    assert!(ms.errors[0].contains("not valid UTF-8"), "{:?}", ms.errors);
}
