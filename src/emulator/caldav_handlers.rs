//! Request handling for the CalDAV emulator: routing, authentication, PROPFIND, the three
//! REPORTs, and GET/PUT/DELETE with their preconditions. Synchronous: it runs under the state lock.

use bytes::Bytes;
use hyper::http::request::Parts;

use super::caldav::{Calendar, Item, State, decode};
use super::caldav_xml::{
    CALDAV, CS, DAV, DavRequest, ICAL, PropName, element, error_body, esc, multistatus,
    parse_request, response_props, response_status,
};

/// A response before the body faults are applied.
#[derive(Debug)]
pub(crate) struct Reply {
    pub status: u16,
    pub headers: Vec<(&'static str, String)>,
    pub body: Bytes,
}

impl Reply {
    pub(crate) fn text(status: u16, text: &str) -> Reply {
        Reply {
            status,
            headers: vec![("content-type", "text/plain; charset=utf-8".to_string())],
            body: Bytes::from(text.to_string()),
        }
    }

    fn xml(status: u16, xml: String) -> Reply {
        // `non_utf8_item` marks where bytes that are not UTF-8 go: a String cannot hold them.
        let body = if xml.contains(NOT_UTF8) {
            let bytes: Vec<u8> = xml
                .split(NOT_UTF8)
                .enumerate()
                .flat_map(|(i, part)| {
                    let lead: &[u8] = if i == 0 { b"" } else { b"\xff" };
                    lead.iter().chain(part.as_bytes()).copied()
                })
                .collect();
            Bytes::from(bytes)
        } else {
            Bytes::from(xml)
        };
        Reply {
            status,
            headers: vec![("content-type", "application/xml; charset=utf-8".to_string())],
            body,
        }
    }

    fn empty(status: u16) -> Reply {
        Reply {
            status,
            headers: Vec::new(),
            body: Bytes::new(),
        }
    }

    fn with(mut self, name: &'static str, value: impl Into<String>) -> Reply {
        self.headers.push((name, value.into()));
        self
    }
}

/// What a request path names.
enum Target {
    Root,
    Principal,
    Home,
    Calendar(String),
    Item(String, String),
}

const FOREIGN_ORIGIN: &str = "http://evil.example";

/// Stands, in a reply being built, for a byte that is not UTF-8 (`non_utf8_item`).
const NOT_UTF8: &str = "\u{E000}not-utf-8\u{E000}";

/// Served (with the right href) when `corrupt_item` names an item: no END lines, a bad date.
const CORRUPT_ICS: &str = "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nBEGIN:VEVENT\r\nUID:corrupt\r\n\
DTSTART:2026-13-45T99\r\nSUMMARY;broken\r\n";

/// The item listed on another origin when `foreign_href` is on.
fn foreign_item() -> Item {
    Item {
        etag: "\"foreign-1\"".to_string(),
        body: "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//evil//EN\r\nBEGIN:VEVENT\r\n\
UID:foreign@evil.example\r\nDTSTAMP:20260101T000000Z\r\nDTSTART:20260101T100000Z\r\n\
DTEND:20260101T110000Z\r\nSUMMARY:Foreign\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n"
            .to_string(),
    }
}

/// Answers one request (after the timing and status faults).
pub(crate) fn handle(st: &mut State, parts: &Parts, body: &Bytes) -> Reply {
    let segments: Vec<String> = parts
        .uri
        .path()
        .split('/')
        .filter(|s| !s.is_empty())
        .map(decode)
        .collect();
    let segs: Vec<&str> = segments.iter().map(String::as_str).collect();
    if segs == [".well-known", "caldav"] {
        return Reply::empty(301).with("location", "/dav/");
    }
    if !authorized(st, parts) {
        return Reply::text(401, "authentication required\n")
            .with("www-authenticate", "Basic realm=\"almanac-emulator\"");
    }
    let user = st.user.clone();
    let target = match segs.as_slice() {
        ["dav"] => Target::Root,
        ["dav", "principals", u] if *u == user => Target::Principal,
        ["dav", "calendars", u] if *u == user => Target::Home,
        ["dav", "calendars", u, id] if *u == user && st.calendars.contains_key(*id) => {
            Target::Calendar(id.to_string())
        }
        ["dav", "calendars", u, id, name] if *u == user => {
            Target::Item(id.to_string(), name.to_string())
        }
        _ => return Reply::text(404, "not found\n"),
    };
    let header = |name: &str| parts.headers.get(name).and_then(|v| v.to_str().ok());
    let method = parts.method.as_str();
    if method == "OPTIONS" {
        return Reply::empty(200)
            .with("dav", "1, 3, calendar-access")
            .with("allow", "OPTIONS, GET, HEAD, PUT, DELETE, PROPFIND, REPORT");
    }
    if method == "PROPFIND" || method == "REPORT" {
        let request = match std::str::from_utf8(body)
            .map_err(|e| e.to_string())
            .and_then(parse_request)
        {
            Ok(r) => r,
            Err(e) => return Reply::text(400, &format!("unreadable XML body: {e}\n")),
        };
        // RFC 4918: a PROPFIND without Depth means infinity; RFC 3253: a REPORT's means 0.
        let depth = header("depth");
        return if method == "PROPFIND" {
            propfind(
                st,
                &target,
                depth.is_some_and(|d| d != "0") || depth.is_none(),
                &request,
            )
        } else {
            match &target {
                Target::Calendar(id) => report(st, id, depth.unwrap_or("0"), &request),
                _ => Reply::xml(403, error_body("supported-report")),
            }
        };
    }
    let Target::Item(id, name) = target else {
        return Reply::text(405, "method not allowed here\n");
    };
    match method {
        "GET" | "HEAD" => get(st, &id, &name, header("if-none-match")),
        "PUT" => put(
            st,
            &id,
            &name,
            body,
            header("if-match"),
            header("if-none-match"),
        ),
        "DELETE" => delete(st, &id, &name, header("if-match")),
        _ => Reply::text(405, "method not allowed\n"),
    }
}

fn authorized(st: &State, parts: &Parts) -> bool {
    let Some(value) = parts
        .headers
        .get("authorization")
        .and_then(|v| v.to_str().ok())
    else {
        return false;
    };
    match (value.split_once(' '), st.basic_credentials.split_once(' ')) {
        (Some((scheme, creds)), Some((_, expected))) => {
            scheme.eq_ignore_ascii_case("basic") && creds.trim() == expected
        }
        _ => false,
    }
}

fn item_of<'a>(st: &'a State, id: &str, name: &str) -> Option<&'a Item> {
    st.calendars.get(id).and_then(|c| c.items.get(name))
}

fn get(st: &State, id: &str, name: &str, if_none_match: Option<&str>) -> Reply {
    let Some(item) = item_of(st, id, name) else {
        return Reply::text(404, "not found\n");
    };
    if if_none_match.is_some_and(|v| {
        v.split(',')
            .any(|e| e.trim() == item.etag || e.trim() == "*")
    }) {
        return Reply::empty(304).with("etag", item.etag.clone());
    }
    let body = if st.faults.corrupt_item.as_deref() == Some(name) {
        CORRUPT_ICS.to_string()
    } else {
        item.body.clone()
    };
    Reply {
        status: 200,
        headers: Vec::new(),
        body: Bytes::from(body),
    }
    .with("content-type", "text/calendar; charset=utf-8")
    .with("etag", item.etag.clone())
}

fn put(
    st: &mut State,
    id: &str,
    name: &str,
    body: &Bytes,
    if_match: Option<&str>,
    if_none_match: Option<&str>,
) -> Reply {
    if let Some(status) = st.faults.refuse_writes {
        return Reply::text(status, "writes are refused here\n");
    }
    if !st.calendars.contains_key(id) {
        // RFC 4918 9.7.1: the parent collection must exist.
        return Reply::text(409, "no such calendar\n");
    }
    let current = item_of(st, id, name).map(|i| i.etag.clone());
    if if_none_match.is_some_and(|v| v.trim() == "*") && current.is_some() {
        return Reply::text(412, "the resource exists\n");
    }
    if let Some(expected) = if_match {
        // Exact string comparison, as the servers clients meet do it (or strong comparison).
        let ok = match &current {
            Some(etag) => {
                expected.trim() == "*"
                    || (expected == etag && !(st.faults.strong_if_match && etag.starts_with("W/")))
            }
            None => false,
        };
        if !ok {
            return Reply::text(412, "etag does not match\n");
        }
    }
    let Ok(text) = std::str::from_utf8(body) else {
        return Reply::text(415, "calendar data must be UTF-8\n");
    };
    let (etag, created) = st.put(id, name, text);
    let reply = Reply::empty(if created { 201 } else { 204 });
    if st.faults.put_without_etag {
        reply
    } else {
        reply.with("etag", etag)
    }
}

fn delete(st: &mut State, id: &str, name: &str, if_match: Option<&str>) -> Reply {
    if let Some(status) = st.faults.refuse_writes {
        return Reply::text(status, "writes are refused here\n");
    }
    let Some(current) = item_of(st, id, name).map(|i| i.etag.clone()) else {
        return Reply::text(404, "not found\n");
    };
    let strong_refusal = st.faults.strong_if_match && current.starts_with("W/");
    if if_match.is_some_and(|v| (v != current || strong_refusal) && v.trim() != "*") {
        return Reply::text(412, "etag does not match\n");
    }
    st.delete(id, name);
    Reply::empty(204)
}

/// Properties listed for `allprop` (and an empty PROPFIND body).
fn default_props(target: &Target) -> Vec<PropName> {
    let names: &[(&str, &str)] = match target {
        Target::Root => &[(DAV, "resourcetype"), (DAV, "current-user-principal")],
        Target::Principal => &[
            (DAV, "resourcetype"),
            (DAV, "displayname"),
            (DAV, "current-user-principal"),
            (CALDAV, "calendar-home-set"),
        ],
        Target::Home => &[(DAV, "resourcetype"), (DAV, "displayname")],
        Target::Calendar(_) => &[
            (DAV, "resourcetype"),
            (DAV, "displayname"),
            (ICAL, "calendar-color"),
            (CS, "getctag"),
            (DAV, "sync-token"),
            (DAV, "supported-report-set"),
            (CALDAV, "supported-calendar-component-set"),
        ],
        Target::Item(..) => &[
            (DAV, "resourcetype"),
            (DAV, "getetag"),
            (DAV, "getcontenttype"),
        ],
    };
    names
        .iter()
        .map(|(ns, local)| PropName::new(ns, local))
        .collect()
}

/// Renders one property of a collection-level resource, or `None` if it has no such property.
fn collection_prop(st: &State, target: &Target, p: &PropName) -> Option<String> {
    let user = &st.user;
    let value = match (p.ns.as_str(), p.local.as_str(), target) {
        (DAV, "current-user-principal", _) => {
            format!(
                "<d:href>/dav/principals/{}/</d:href>",
                esc(&super::caldav::encode(user))
            )
        }
        (DAV, "resourcetype", Target::Root | Target::Home) => "<d:collection/>".to_string(),
        (DAV, "resourcetype", Target::Principal) => "<d:principal/>".to_string(),
        (DAV, "resourcetype", Target::Calendar(_)) => "<d:collection/><c:calendar/>".to_string(),
        (DAV, "displayname", Target::Principal | Target::Home) => esc(user),
        (CALDAV, "calendar-home-set", Target::Principal) => {
            format!(
                "<d:href>/dav/calendars/{}/</d:href>",
                esc(&super::caldav::encode(user))
            )
        }
        (_, _, Target::Calendar(id)) => return calendar_prop(st, st.calendars.get(id)?, p),
        _ => return None,
    };
    Some(element(p, &value))
}

fn calendar_prop(st: &State, cal: &Calendar, p: &PropName) -> Option<String> {
    let sync = !st.faults.no_sync_collection;
    let value = match (p.ns.as_str(), p.local.as_str()) {
        (DAV, "displayname") => esc(&cal.name),
        (ICAL, "calendar-color") => esc(cal.color.as_deref()?),
        (CS, "getctag") => esc(&cal.ctag()),
        (DAV, "resource-id") => format!(
            "<d:href>urn:uuid:00000000-0000-4000-8000-{:012x}</d:href>",
            cal.created
        ),
        // A fixed epoch plus the creation serial in seconds: distinct per creation.
        (DAV, "creationdate") => {
            let at = chrono::DateTime::from_timestamp(1_767_225_600 + cal.created as i64, 0)
                .unwrap_or_default();
            at.format("%Y-%m-%dT%H:%M:%SZ").to_string()
        }
        (DAV, "sync-token") if sync => esc(&cal.token(cal.counter)),
        (DAV, "supported-report-set") => {
            let mut reports = vec!["<c:calendar-multiget/>", "<c:calendar-query/>"];
            if sync {
                reports.push("<d:sync-collection/>");
            }
            reports
                .iter()
                .map(|r| {
                    format!("<d:supported-report><d:report>{r}</d:report></d:supported-report>")
                })
                .collect()
        }
        (CALDAV, "supported-calendar-component-set") => "<c:comp name=\"VEVENT\"/>".to_string(),
        _ => return None,
    };
    Some(element(p, &value))
}

/// Renders one property of an item, or `None` if it has no such property.
fn item_prop(st: &State, name: &str, item: &Item, p: &PropName) -> Option<String> {
    let value = match (p.ns.as_str(), p.local.as_str()) {
        // [obs] An etag with characters no header can hold (here CR LF, as XML references).
        (DAV, "getetag") if st.faults.unsendable_etag.as_deref() == Some(name) => {
            let etag = esc(&item.etag);
            let open = etag.strip_suffix("&quot;").unwrap_or(&etag);
            format!("{open}&#13;&#10;x&quot;")
        }
        (DAV, "getetag") => esc(&item.etag),
        (DAV, "resourcetype") => String::new(),
        (DAV, "getcontenttype") => "text/calendar; charset=utf-8; component=VEVENT".to_string(),
        (DAV, "getcontentlength") => item.body.len().to_string(),
        (CALDAV, "calendar-data") if st.faults.corrupt_item.as_deref() == Some(name) => {
            esc(CORRUPT_ICS)
        }
        (CALDAV, "calendar-data") if st.faults.non_utf8_item.as_deref() == Some(name) => {
            esc(&item.body).replacen("SUMMARY:", &format!("SUMMARY:{NOT_UTF8}"), 1)
        }
        (CALDAV, "calendar-data") => esc(&item.body),
        _ => return None,
    };
    Some(element(p, &value))
}

/// Splits the asked properties into rendered and unknown ones.
fn render<F: Fn(&PropName) -> Option<String>>(
    props: &[PropName],
    f: F,
) -> (Vec<String>, Vec<PropName>) {
    let mut found = Vec::new();
    let mut missing = Vec::new();
    for p in props {
        match f(p) {
            Some(s) => found.push(s),
            None => missing.push(p.clone()),
        }
    }
    (found, missing)
}

fn item_response(st: &State, href: &str, name: &str, item: &Item, props: &[PropName]) -> String {
    let (found, missing) = render(props, |p| item_prop(st, name, item, p));
    response_props(href, &found, &missing)
}

/// Responses a hostile listing plants beside the calendar's own members: one on another origin
/// (`foreign_href`), and, with `outside_href`, two on this origin but outside the calendar (a
/// relative `../other/outside.ics` and an absolute `/elsewhere/outside.ics`).
fn planted_responses(st: &State, id: &str, props: &[PropName]) -> Vec<String> {
    let mut out = Vec::new();
    if st.faults.foreign_href {
        let href = format!(
            "{FOREIGN_ORIGIN}/dav/calendars/{}/{}/foreign.ics",
            st.user, id
        );
        out.push(item_response(
            st,
            &href,
            "foreign.ics",
            &foreign_item(),
            props,
        ));
    }
    if st.faults.outside_href {
        for href in ["../other/outside.ics", "/elsewhere/outside.ics"] {
            out.push(item_response(
                st,
                href,
                "outside.ics",
                &foreign_item(),
                props,
            ));
        }
    }
    out
}

fn propfind(st: &State, target: &Target, deep: bool, request: &DavRequest) -> Reply {
    let props = if request.allprop {
        default_props(target)
    } else {
        request.props.clone()
    };
    let mut responses = Vec::new();
    let self_href = match target {
        Target::Root => "/dav/".to_string(),
        Target::Principal => format!("/dav/principals/{}/", super::caldav::encode(&st.user)),
        Target::Home => format!("/dav/calendars/{}/", super::caldav::encode(&st.user)),
        Target::Calendar(id) => st.calendar_href(id),
        Target::Item(id, name) => {
            let Some(item) = item_of(st, id, name) else {
                return Reply::text(404, "not found\n");
            };
            let href = st.item_href(id, name);
            responses.push(item_response(st, &href, name, item, &props));
            return Reply::xml(207, multistatus(&responses, None));
        }
    };
    let (found, missing) = render(&props, |p| collection_prop(st, target, p));
    responses.push(response_props(&self_href, &found, &missing));
    if deep {
        match target {
            Target::Home => {
                for id in st.calendars.keys() {
                    let child = Target::Calendar(id.clone());
                    let props = if request.allprop {
                        default_props(&child)
                    } else {
                        props.clone()
                    };
                    let (found, missing) = render(&props, |p| collection_prop(st, &child, p));
                    responses.push(response_props(&st.calendar_href(id), &found, &missing));
                }
                if st.faults.foreign_href {
                    let href = format!("{FOREIGN_ORIGIN}/dav/calendars/{}/foreign/", st.user);
                    let (found, missing) =
                        render(&props, |p| match (p.ns.as_str(), p.local.as_str()) {
                            (DAV, "resourcetype") => {
                                Some(element(p, "<d:collection/><c:calendar/>"))
                            }
                            (DAV, "displayname") => Some(element(p, "Foreign")),
                            _ => None,
                        });
                    responses.push(response_props(&href, &found, &missing));
                }
            }
            Target::Calendar(id) => {
                if let Some(cal) = st.calendars.get(id) {
                    for (name, item) in &cal.items {
                        let child = Target::Item(id.clone(), name.clone());
                        let props = if request.allprop {
                            default_props(&child)
                        } else {
                            props.clone()
                        };
                        responses.push(item_response(
                            st,
                            &st.item_href(id, name),
                            name,
                            item,
                            &props,
                        ));
                    }
                }
                responses.extend(planted_responses(st, id, &props));
            }
            _ => {}
        }
    }
    Reply::xml(207, multistatus(&responses, None))
}

fn report(st: &State, id: &str, depth: &str, request: &DavRequest) -> Reply {
    let Some(cal) = st.calendars.get(id) else {
        return Reply::text(404, "not found\n");
    };
    let Some(root) = &request.root else {
        return Reply::text(400, "empty REPORT body\n");
    };
    let props_or = |default: &[&str]| -> Vec<PropName> {
        if request.allprop {
            default
                .iter()
                .map(|l| {
                    if *l == "calendar-data" {
                        PropName::new(CALDAV, l)
                    } else {
                        PropName::new(DAV, l)
                    }
                })
                .collect()
        } else {
            request.props.clone()
        }
    };
    let mut responses = Vec::new();
    let mut token = None;
    if root.is(DAV, "sync-collection") && !st.faults.no_sync_collection {
        if depth != "0" {
            // RFC 6578 3.2: only defined for Depth 0; other values are a 400.
            return Reply::text(400, "sync-collection needs Depth: 0\n");
        }
        let props = props_or(&["getetag"]);
        let sent = request.sync_token.as_deref().unwrap_or("").trim();
        let since = if sent.is_empty() {
            None
        } else {
            match cal.parse_token(sent) {
                Some(n) => Some(n),
                None if st.faults.stale_token_full_listing => None,
                None => return Reply::xml(403, error_body("valid-sync-token")),
            }
        };
        // Changes oldest first, so a truncated answer's token covers exactly what was sent.
        let mut changes: Vec<(&String, u64)> = cal
            .changes
            .iter()
            .map(|(name, n)| (name, *n))
            .filter(|(name, n)| match since {
                Some(since) => *n > since,
                // A listing from nothing names only live items.
                None => cal.items.contains_key(*name),
            })
            .collect();
        changes.sort_by_key(|(_, n)| *n);
        let mut covered = cal.counter;
        let truncated = st
            .faults
            .truncate_after
            .is_some_and(|max| changes.len() > max);
        if let Some(max) = st.faults.truncate_after.filter(|_| truncated) {
            changes.truncate(max);
            covered = changes.last().map_or(since.unwrap_or(0), |(_, n)| *n);
        }
        for (name, _) in changes {
            let href = st.item_href(id, name);
            responses.push(match cal.items.get(name) {
                Some(item) => item_response(st, &href, name, item, &props),
                None => response_status(&href, "404 Not Found"),
            });
        }
        if truncated {
            responses.push(response_status(
                &st.calendar_href(id),
                "507 Insufficient Storage",
            ));
        }
        responses.extend(planted_responses(st, id, &props));
        token = Some(cal.token(covered));
    } else if root.is(CALDAV, "calendar-multiget") {
        if st
            .faults
            .max_multiget
            .is_some_and(|max| request.hrefs.len() > max)
        {
            return Reply::text(400, "too many hrefs in one multiget\n");
        }
        let props = props_or(&["getetag", "calendar-data"]);
        for href in &request.hrefs {
            let name = resolve_item_href(st, id, href);
            if name.is_some() && name == st.faults.drop_from_multiget {
                continue;
            }
            match name.as_ref().and_then(|n| cal.items.get(n).map(|i| (n, i))) {
                Some((name, item)) => responses.push(item_response(st, href, name, item, &props)),
                None => responses.push(response_status(href, "404 Not Found")),
            }
        }
        responses.extend(planted_responses(st, id, &props));
    } else if root.is(CALDAV, "calendar-query") {
        // Filters are ignored: the emulator holds VEVENTs only and clients filter again anyway.
        let props = props_or(&["getetag"]);
        for (name, item) in &cal.items {
            responses.push(item_response(
                st,
                &st.item_href(id, name),
                name,
                item,
                &props,
            ));
        }
        responses.extend(planted_responses(st, id, &props));
    } else {
        return Reply::xml(403, error_body("supported-report"));
    }
    Reply::xml(207, multistatus(&responses, token.as_deref()))
}

/// The item name an href in a multiget names, if it is inside calendar `id` on this server.
/// Full URLs are accepted only on our own (loopback) origin.
fn resolve_item_href(st: &State, id: &str, href: &str) -> Option<String> {
    let path = match href.split_once("://") {
        Some((_, rest)) => {
            let (authority, path) = rest.split_once('/')?;
            if !authority.starts_with("127.0.0.1:") && !authority.starts_with("localhost:") {
                return None;
            }
            path
        }
        None => href,
    };
    let segments: Vec<String> = path
        .split('/')
        .filter(|s| !s.is_empty())
        .map(decode)
        .collect();
    match segments.as_slice() {
        [dav, calendars, user, cal, name]
            if dav == "dav" && calendars == "calendars" && *user == st.user && cal == id =>
        {
            Some(name.clone())
        }
        _ => None,
    }
}
