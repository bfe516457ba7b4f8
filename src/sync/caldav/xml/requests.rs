//! WebDAV and CalDAV request bodies as plain strings: every value sent back (a sync token, an
//! href) is XML-escaped and otherwise exactly as the server wrote it.

use quick_xml::escape::escape;

/// The XML declaration and namespace declarations shared by every request body.
const DECL: &str = r#"<?xml version="1.0" encoding="utf-8"?>"#;
const XMLNS: &str = r#"xmlns:d="DAV:" xmlns:c="urn:ietf:params:xml:ns:caldav" xmlns:cs="http://calendarserver.org/ns/" xmlns:ic="http://apple.com/ns/ical/""#;

fn propfind(props: &str) -> String {
    format!("{DECL}\n<d:propfind {XMLNS}>\n  <d:prop>\n{props}  </d:prop>\n</d:propfind>\n")
}

/// `PROPFIND` body asking for `DAV:current-user-principal` (discovery step 1, Depth 0).
pub fn propfind_principal() -> String {
    propfind("    <d:current-user-principal/>\n")
}

/// `PROPFIND` body asking a principal for `CALDAV:calendar-home-set` (discovery step 2, Depth 0).
pub fn propfind_home_set() -> String {
    propfind("    <c:calendar-home-set/>\n")
}

/// `PROPFIND` body for Depth 1 on the calendar home: everything needed to list calendars and to
/// choose a change-detection strategy for each.
pub fn propfind_calendars() -> String {
    propfind(concat!(
        "    <d:resourcetype/>\n",
        "    <d:displayname/>\n",
        "    <ic:calendar-color/>\n",
        "    <cs:getctag/>\n",
        "    <d:sync-token/>\n",
        "    <d:supported-report-set/>\n",
        "    <c:supported-calendar-component-set/>\n",
        "    <d:resource-id/>\n",
        "    <d:creationdate/>\n",
    ))
}

/// [`propfind_calendars`] without the ctag and sync-token, which some servers compute by reading
/// every item: for a first sync, which learns its token from the sync REPORT anyway.
pub fn propfind_calendars_brief() -> String {
    propfind(concat!(
        "    <d:resourcetype/>\n",
        "    <d:displayname/>\n",
        "    <ic:calendar-color/>\n",
        "    <d:supported-report-set/>\n",
        "    <c:supported-calendar-component-set/>\n",
        "    <d:resource-id/>\n",
        "    <d:creationdate/>\n",
    ))
}

/// `PROPFIND` body for a calendar: Depth 1 lists every member's etag; the same body at Depth 0 answers
/// the collection's ctag and sync-token, which is why those are asked for too.
pub fn propfind_etags() -> String {
    propfind(concat!(
        "    <d:getetag/>\n",
        "    <d:resourcetype/>\n",
        "    <cs:getctag/>\n",
        "    <d:sync-token/>\n",
    ))
}

/// RFC 6578 `sync-collection` REPORT body. `None` sends an empty `sync-token` element (first run);
/// a token is sent back exactly as received, only XML-escaped.
pub fn sync_collection(token: Option<&str>) -> String {
    sync_collection_report(token, "")
}

/// [`sync_collection`] that also asks for `calendar-data` (RFC 6578 lets the client name any
/// property): a first listing then brings every item in one reply where the server supports it.
pub fn sync_collection_with_data(token: Option<&str>) -> String {
    sync_collection_report(token, "\n    <c:calendar-data/>")
}

fn sync_collection_report(token: Option<&str>, extra: &str) -> String {
    let token = match token {
        // The RFC asks for an empty element on the initial sync, not a missing one.
        None => "<d:sync-token/>".to_owned(),
        Some(t) => format!("<d:sync-token>{}</d:sync-token>", escape(t)),
    };
    format!(
        "{DECL}\n<d:sync-collection {XMLNS}>\n  {token}\n  <d:sync-level>1</d:sync-level>\n  \
         <d:prop>\n    <d:getetag/>{extra}\n  </d:prop>\n</d:sync-collection>\n"
    )
}

/// `calendar-multiget` REPORT body fetching etag and data for each href (XML-escaped, otherwise sent
/// as given so the server sees its own spelling).
pub fn calendar_multiget(hrefs: &[String]) -> String {
    let mut body = format!(
        "{DECL}\n<c:calendar-multiget {XMLNS}>\n  <d:prop>\n    <d:getetag/>\n    \
         <c:calendar-data/>\n  </d:prop>\n"
    );
    for href in hrefs {
        body.push_str("  <d:href>");
        body.push_str(&escape(href.as_str()));
        body.push_str("</d:href>\n");
    }
    body.push_str("</c:calendar-multiget>\n");
    body
}
