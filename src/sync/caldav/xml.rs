//! WebDAV and CalDAV request bodies, and a namespace-aware reader of `multistatus` responses.
//!
//! Everything here is pure: request bodies are plain `String`s and replies are read from bytes the
//! HTTP layer already bounded. The reader is deliberately tolerant, because real servers differ in
//! prefixes, CDATA, escaping and href spelling (see `PROTOCOLS.md` section 1): it matches elements by
//! namespace URI and local name only, ignores what it does not know, and records per-response
//! problems instead of failing the whole reply. It walks the events with an explicit stack, so deep
//! nesting costs heap proportional to the input and never recursion.

use quick_xml::NsReader;
use quick_xml::XmlVersion;
use quick_xml::escape::{escape, resolve_predefined_entity};
use quick_xml::events::{BytesStart, Event};
use quick_xml::name::ResolveResult;
use reqwest::Url;

const DAV: &[u8] = b"DAV:";
const CALDAV: &[u8] = b"urn:ietf:params:xml:ns:caldav";
const CALSERVER: &[u8] = b"http://calendarserver.org/ns/";
const APPLE_ICAL: &[u8] = b"http://apple.com/ns/ical/";

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

/// A parsed `DAV:multistatus` reply.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Multistatus {
    /// The responses that had an href, in document order.
    pub responses: Vec<Response>,
    /// The `d:sync-token` element that is a direct child of `multistatus` (RFC 6578), if any.
    pub sync_token: Option<String>,
    /// Per-response problems (a response without href, etc.): skipped, reported here as plain words.
    pub errors: Vec<String>,
}

/// One `DAV:response`.
///
/// RFC 4918 lets a status-only response name several hrefs; each becomes its own `Response` with the
/// same status, so callers always see one href per value.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Response {
    /// As written, XML-unescaped, trimmed (not percent-decoded; see `normalise_href`).
    pub href: String,
    /// The response-level `d:status` code (e.g. 404 for a removal in sync-collection, 507 for
    /// truncation), if present.
    pub status: Option<u16>,
    /// Properties found in propstats whose status is 2xx.
    pub props: Props,
}

/// The properties this client asks for, as found in the 2xx propstats of one response.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Props {
    /// Exactly as the server meant it after XML unescape: `"abc"` or `W/"abc"` (quotes and `W/` kept),
    /// because `If-Match` must send it back byte for byte.
    pub etag: Option<String>,
    /// `CALDAV:calendar-data`: text or CDATA, unescaped, line endings untouched; `None` when empty or
    /// only whitespace.
    pub calendar_data: Option<String>,
    /// Why `calendar_data` cannot be trusted although it arrived: it is not valid UTF-8 (then it
    /// holds the text with replacement characters). One bad item must not cost the whole reply.
    pub data_problem: Option<String>,
    /// The href inside `DAV:resource-id` (RFC 5842): a collection's identity, new when a
    /// collection is deleted and recreated at the same URL.
    pub resource_id: Option<String>,
    /// `DAV:creationdate`, trimmed: the identity's stand-in where `resource-id` is missing.
    pub creationdate: Option<String>,
    /// `DAV:displayname`, trimmed.
    pub displayname: Option<String>,
    /// Apple's `calendar-color`, trimmed (usually `#RRGGBB` or `#RRGGBBAA`).
    pub color: Option<String>,
    /// `CS:getctag`, trimmed.
    pub ctag: Option<String>,
    /// The `DAV:sync-token` property (from a `PROPFIND`), trimmed.
    pub sync_token: Option<String>,
    /// `resourcetype` contains `DAV:collection`.
    pub is_collection: bool,
    /// `resourcetype` contains `CALDAV:calendar`.
    pub is_calendar: bool,
    /// Local names of the reports in `supported-report-set`, e.g. `sync-collection`,
    /// `calendar-multiget`, without duplicates.
    pub supported_reports: Vec<String>,
    /// Component names from `supported-calendar-component-set`, upper-cased: `VEVENT`, `VTODO`...
    pub components: Vec<String>,
    /// The href inside `current-user-principal` (absent when it says `unauthenticated`).
    pub current_user_principal: Option<String>,
    /// The first href inside `calendar-home-set`.
    pub calendar_home_set: Option<String>,
}

/// Why a reply could not be read at all, in plain words.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct XmlError(pub String);

/// The namespaces this module cares about; everything else is `Other` and never matches.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Ns {
    Dav,
    CalDav,
    CalServer,
    AppleIcal,
    Other,
}

impl Ns {
    fn of(resolved: &ResolveResult<'_>) -> Ns {
        match resolved {
            ResolveResult::Bound(ns) => match ns.as_ref() {
                DAV => Ns::Dav,
                CALDAV => Ns::CalDav,
                CALSERVER => Ns::CalServer,
                APPLE_ICAL => Ns::AppleIcal,
                _ => Ns::Other,
            },
            // No namespace, or an undeclared prefix: neither can be a DAV element.
            ResolveResult::Unbound | ResolveResult::Unknown(_) => Ns::Other,
        }
    }
}

/// An open element: namespace and local name (the local name is kept for every namespace because
/// `supported-report-set` names reports from any namespace).
#[derive(Debug)]
struct Name {
    ns: Ns,
    local: Box<str>,
}

impl Name {
    fn is(&self, ns: Ns, local: &str) -> bool {
        self.ns == ns && &*self.local == local
    }
}

/// One event reduced to what the walkers need, so the reader's borrow ends before it is used.
enum Step {
    Open(Name, Option<String>),
    Close,
    /// Character data, already unescaped.
    Text(String),
    /// Character data that is not valid UTF-8, decoded with replacement characters: it spoils only
    /// the value it is in.
    BadText(String),
    Eof,
}

/// How deeply elements may nest before a reply is refused.
///
/// Not a size bound (the HTTP layer does that): quick-xml 0.41 counts namespace scopes in a `u16`
/// and overflows (a panic in debug builds) past 65,535 open elements, so a hostile or broken body
/// must be stopped well before that. Real multistatus replies nest about ten deep.
const MAX_DEPTH: usize = 10_000;

/// A thin layer over `NsReader` that turns events into `Step`s, resolving namespaces and entities.
struct Walker<'i> {
    reader: NsReader<&'i [u8]>,
    /// Set by an `Empty` event: the matching `Close` is delivered on the next call.
    pending_close: bool,
    /// Elements open in the reader, checked against `MAX_DEPTH` before each read.
    depth: usize,
}

impl<'i> Walker<'i> {
    fn new(body: &'i [u8]) -> Self {
        Walker {
            reader: NsReader::from_reader(body),
            pending_close: false,
            depth: 0,
        }
    }

    fn fail(&self, what: impl std::fmt::Display) -> XmlError {
        XmlError(format!(
            "the server's reply is not XML: {what} at byte {}",
            self.reader.error_position()
        ))
    }

    fn next(&mut self) -> Result<Step, XmlError> {
        if self.pending_close {
            self.pending_close = false;
            return Ok(Step::Close);
        }
        if self.depth >= MAX_DEPTH {
            return Err(XmlError(format!(
                "the server's reply nests elements more than {MAX_DEPTH} deep at byte {}",
                self.reader.buffer_position()
            )));
        }
        loop {
            let (resolved, event) = match self.reader.read_resolved_event() {
                Ok(pair) => pair,
                Err(e) => return Err(self.fail(e)),
            };
            let ns = Ns::of(&resolved);
            match event {
                Event::Start(e) => {
                    self.depth += 1;
                    return self.open(ns, &e);
                }
                Event::Empty(e) => {
                    self.pending_close = true;
                    return self.open(ns, &e);
                }
                Event::End(_) => {
                    self.depth = self.depth.saturating_sub(1);
                    return Ok(Step::Close);
                }
                Event::Text(t) => match t.decode() {
                    // `decode`, not `xml_content`: calendar data keeps its CRLF line endings.
                    Ok(s) => return Ok(Step::Text(s.into_owned())),
                    Err(_) => return Ok(Step::BadText(String::from_utf8_lossy(&t).into_owned())),
                },
                Event::CData(t) => match t.decode() {
                    Ok(s) => return Ok(Step::Text(s.into_owned())),
                    Err(_) => return Ok(Step::BadText(String::from_utf8_lossy(&t).into_owned())),
                },
                Event::GeneralRef(r) => {
                    let name = match r.decode() {
                        Ok(n) => n.into_owned(),
                        Err(e) => return Err(self.fail(e)),
                    };
                    let text = if r.is_char_ref() {
                        match r.resolve_char_ref() {
                            Ok(Some(c)) => c.to_string(),
                            // A bad character reference is kept literally rather than failing the
                            // whole reply: it can only damage the one value it is in.
                            _ => format!("&{name};"),
                        }
                    } else {
                        match resolve_predefined_entity(&name) {
                            Some(s) => s.to_owned(),
                            // Entities from a DTD are never expanded (no entity bombs); keep as written.
                            None => format!("&{name};"),
                        }
                    };
                    return Ok(Step::Text(text));
                }
                Event::Eof => return Ok(Step::Eof),
                Event::Comment(_) | Event::Decl(_) | Event::PI(_) | Event::DocType(_) => {}
            }
        }
    }

    /// Builds an `Open` step; the `name` attribute is read here because `CALDAV:comp` carries its
    /// value there and the event is gone afterwards.
    fn open(&self, ns: Ns, e: &BytesStart<'_>) -> Result<Step, XmlError> {
        let local = match std::str::from_utf8(e.local_name().into_inner()) {
            Ok(s) => s.into(),
            Err(err) => return Err(self.fail(err)),
        };
        let name_attr = match e.try_get_attribute("name") {
            Ok(Some(a)) => a
                .decoded_and_normalized_value(XmlVersion::Implicit1_0, self.reader.decoder())
                .ok()
                .map(|v| v.into_owned()),
            _ => None,
        };
        Ok(Step::Open(Name { ns, local }, name_attr))
    }
}

/// The response being read, before it is known whether it is status-form or propstat-form.
#[derive(Default)]
struct ResponseDraft {
    /// Set when text outside `calendar-data` (an href, a status, an etag …) is not UTF-8: the
    /// response is skipped, with this reason.
    broken: Option<String>,
    hrefs: Vec<String>,
    status: Option<u16>,
    bad_status: Option<String>,
    had_propstat: bool,
    props: Props,
}

/// The propstat being read: its properties count only once its status turns out to be 2xx.
#[derive(Default)]
struct PropstatDraft {
    status: Option<u16>,
    props: Props,
}

/// Parses an HTTP status line such as `HTTP/1.1 404 Not Found` into its code.
fn parse_status(line: &str) -> Option<u16> {
    line.split_whitespace()
        .find(|w| !w.starts_with("HTTP/"))
        .and_then(|w| w.parse::<u16>().ok())
        .filter(|c| (100..=599).contains(c))
}

/// Trims a value and turns an empty one into `None`.
fn trimmed(text: &str) -> Option<String> {
    let t = text.trim();
    (!t.is_empty()).then(|| t.to_owned())
}

/// Adds one 2xx propstat's properties to the response's; the first value seen wins, because a
/// server that repeats a property in two propstats has no better claim for the second.
fn merge(into: &mut Props, from: Props) {
    into.etag = into.etag.take().or(from.etag);
    if into.calendar_data.is_none() {
        into.data_problem = from.data_problem;
    }
    into.calendar_data = into.calendar_data.take().or(from.calendar_data);
    into.resource_id = into.resource_id.take().or(from.resource_id);
    into.creationdate = into.creationdate.take().or(from.creationdate);
    into.displayname = into.displayname.take().or(from.displayname);
    into.color = into.color.take().or(from.color);
    into.ctag = into.ctag.take().or(from.ctag);
    into.sync_token = into.sync_token.take().or(from.sync_token);
    into.is_collection |= from.is_collection;
    into.is_calendar |= from.is_calendar;
    for r in from.supported_reports {
        if !into.supported_reports.contains(&r) {
            into.supported_reports.push(r);
        }
    }
    for c in from.components {
        if !into.components.contains(&c) {
            into.components.push(c);
        }
    }
    into.current_user_principal = into
        .current_user_principal
        .take()
        .or(from.current_user_principal);
    into.calendar_home_set = into.calendar_home_set.take().or(from.calendar_home_set);
}

/// The state of one `parse_multistatus` run.
#[derive(Default)]
struct Reader {
    stack: Vec<Name>,
    /// Character data of the innermost open element since it (or its last child) started.
    text: String,
    /// Whether some of `text` was not valid UTF-8.
    text_bad: bool,
    out: Multistatus,
    response: Option<ResponseDraft>,
    propstat: Option<PropstatDraft>,
}

impl Reader {
    fn at(&self, i: usize, ns: Ns, local: &str) -> bool {
        self.stack.get(i).is_some_and(|n| n.is(ns, local))
    }

    /// The stack starts `multistatus / response`.
    fn in_response(&self) -> bool {
        self.at(1, Ns::Dav, "response")
    }

    /// The stack starts `multistatus / response / propstat / prop`.
    fn in_prop(&self) -> bool {
        self.in_response() && self.at(2, Ns::Dav, "propstat") && self.at(3, Ns::Dav, "prop")
    }

    fn props(&mut self) -> Option<&mut Props> {
        self.propstat.as_mut().map(|p| &mut p.props)
    }

    fn open(&mut self, name: Name, name_attr: Option<String>) {
        self.text.clear();
        self.text_bad = false;
        self.stack.push(name);
        let depth = self.stack.len();
        if depth == 2 && self.in_response() {
            self.response = Some(ResponseDraft::default());
        } else if depth == 3 && self.in_response() && self.at(2, Ns::Dav, "propstat") {
            self.propstat = Some(PropstatDraft::default());
            if let Some(r) = self.response.as_mut() {
                r.had_propstat = true;
            }
        } else if depth == 6
            && self.in_prop()
            && self.at(4, Ns::CalDav, "supported-calendar-component-set")
            && self.at(5, Ns::CalDav, "comp")
        {
            if let Some(comp) = name_attr.as_deref().and_then(trimmed) {
                let comp = comp.to_ascii_uppercase();
                if let Some(p) = self.props()
                    && !p.components.contains(&comp)
                {
                    p.components.push(comp);
                }
            }
        }
    }

    fn close(&mut self) {
        let text = std::mem::take(&mut self.text);
        let bad = std::mem::take(&mut self.text_bad);
        let depth = self.stack.len();
        if bad && self.in_response() {
            let in_data = depth == 5 && self.in_prop() && self.at(4, Ns::CalDav, "calendar-data");
            if in_data {
                if let Some(p) = self.props() {
                    p.data_problem = Some(
                        "its calendar data is not valid UTF-8: kept as received, not shown".into(),
                    );
                }
            } else if let Some(r) = self.response.as_mut() {
                let element = self.stack.last().map_or("?", |n| &*n.local);
                r.broken
                    .get_or_insert_with(|| format!("<{element}> is not valid UTF-8"));
            }
        }
        if depth == 2 && self.at(1, Ns::Dav, "sync-token") {
            self.out.sync_token = trimmed(&text);
        } else if self.in_response() {
            match depth {
                2 => self.finish_response(),
                3 => {
                    if let Some(r) = self.response.as_mut() {
                        if self.stack[2].is(Ns::Dav, "href") {
                            r.hrefs.extend(trimmed(&text));
                        } else if self.stack[2].is(Ns::Dav, "status") {
                            r.status = parse_status(&text);
                            if r.status.is_none() {
                                r.bad_status = Some(text.trim().to_owned());
                            }
                        } else if self.stack[2].is(Ns::Dav, "propstat") {
                            let ps = self.propstat.take().unwrap_or_default();
                            // A non-2xx propstat (404 for a property the server lacks) says only
                            // that those properties are missing.
                            if ps.status.is_some_and(|s| (200..300).contains(&s)) {
                                merge(&mut r.props, ps.props);
                            }
                        }
                    }
                }
                4 if self.at(2, Ns::Dav, "propstat") && self.at(3, Ns::Dav, "status") => {
                    if let Some(ps) = self.propstat.as_mut() {
                        ps.status = parse_status(&text);
                    }
                }
                5.. if self.in_prop() => self.close_prop(depth, &text),
                _ => {}
            }
        }
        self.stack.pop();
    }

    /// Closes an element inside `prop`: the property itself (depth 5) or something within it.
    fn close_prop(&mut self, depth: usize, text: &str) {
        let name = |i: usize| self.stack.get(i).map(|n| (n.ns, &*n.local));
        let prop = name(4);
        let child = name(5);
        let leaf = name(depth - 1).map(|(_, l)| l.to_owned());
        let Some(p) = self.propstat.as_mut().map(|p| &mut p.props) else {
            return;
        };
        match (depth, prop, child) {
            (5, Some((Ns::Dav, "getetag")), _) => p.etag = trimmed(text),
            (5, Some((Ns::CalDav, "calendar-data")), _) => {
                p.calendar_data = (!text.trim().is_empty()).then(|| text.to_owned());
            }
            (5, Some((Ns::Dav, "displayname")), _) => p.displayname = trimmed(text),
            (5, Some((Ns::Dav, "creationdate")), _) => p.creationdate = trimmed(text),
            (6, Some((Ns::Dav, "resource-id")), Some((Ns::Dav, "href"))) => {
                p.resource_id = p.resource_id.take().or_else(|| trimmed(text));
            }
            (5, Some((Ns::AppleIcal, "calendar-color")), _) => p.color = trimmed(text),
            (5, Some((Ns::CalServer, "getctag")), _) => p.ctag = trimmed(text),
            (5, Some((Ns::Dav, "sync-token")), _) => p.sync_token = trimmed(text),
            (6, Some((Ns::Dav, "resourcetype")), Some((Ns::Dav, "collection"))) => {
                p.is_collection = true;
            }
            (6, Some((Ns::Dav, "resourcetype")), Some((Ns::CalDav, "calendar"))) => {
                p.is_calendar = true;
            }
            (6, Some((Ns::Dav, "current-user-principal")), Some((Ns::Dav, "href"))) => {
                p.current_user_principal =
                    p.current_user_principal.take().or_else(|| trimmed(text));
            }
            (6, Some((Ns::CalDav, "calendar-home-set")), Some((Ns::Dav, "href"))) => {
                p.calendar_home_set = p.calendar_home_set.take().or_else(|| trimmed(text));
            }
            (8, Some((Ns::Dav, "supported-report-set")), Some((Ns::Dav, "supported-report")))
                if self.stack.get(6).is_some_and(|n| n.is(Ns::Dav, "report")) =>
            {
                if let Some(report) = leaf
                    && !p.supported_reports.contains(&report)
                {
                    p.supported_reports.push(report);
                }
            }
            _ => {}
        }
    }

    fn finish_response(&mut self) {
        let Some(draft) = self.response.take() else {
            return;
        };
        let mut hrefs = draft.hrefs.into_iter();
        let Some(first) = hrefs.next() else {
            self.out
                .errors
                .push("a response without an href was skipped".to_owned());
            return;
        };
        if let Some(why) = draft.broken {
            self.out.errors.push(format!(
                "{}: skipped, {why}",
                crate::domain::text::sanitize(&first)
            ));
            return;
        }
        if let Some(bad) = draft.bad_status {
            self.out.errors.push(format!(
                "the response for {first} has a status that is not an HTTP status line: {bad:?}"
            ));
        }
        if draft.had_propstat {
            let extra = hrefs.len();
            if extra > 0 {
                self.out.errors.push(format!(
                    "the response for {first} names {extra} more href(s) beside its properties; \
                     they were ignored"
                ));
            }
            self.out.responses.push(Response {
                href: first,
                status: draft.status,
                props: draft.props,
            });
        } else {
            // Status form: `href+ status`, one status for every href listed.
            for href in std::iter::once(first).chain(hrefs) {
                self.out.responses.push(Response {
                    href,
                    status: draft.status,
                    props: Props::default(),
                });
            }
        }
    }
}

/// Reads a `DAV:multistatus` reply (PROPFIND or REPORT, status 207).
///
/// Fails only when the body is not well-formed XML, is cut off, or its root is not
/// `DAV:multistatus`; anything wrong inside one response skips that response and is described in
/// [`Multistatus::errors`]. Content after the root element closes is ignored.
pub fn parse_multistatus(body: &[u8]) -> Result<Multistatus, XmlError> {
    let mut walker = Walker::new(body);
    let mut reader = Reader::default();
    let mut seen_root = false;
    loop {
        match walker.next()? {
            Step::Open(name, attr) => {
                if !seen_root {
                    if !name.is(Ns::Dav, "multistatus") {
                        return Err(XmlError(format!(
                            "the server's reply is not a WebDAV multistatus: its root element is <{}>",
                            name.local
                        )));
                    }
                    seen_root = true;
                }
                reader.open(name, attr);
            }
            Step::Text(t) => reader.text.push_str(&t),
            Step::BadText(t) => {
                reader.text.push_str(&t);
                reader.text_bad = true;
            }
            Step::Close => {
                reader.close();
                if reader.stack.is_empty() {
                    return Ok(reader.out);
                }
            }
            Step::Eof => {
                return Err(XmlError(match reader.stack.last() {
                    None => "the server's reply holds no XML element".to_owned(),
                    Some(open) => format!(
                        "the server's reply is cut off: it ends inside <{}> at byte {}",
                        open.local,
                        body.len()
                    ),
                }));
            }
        }
    }
}

/// Whether an error body is RFC 6578's `<d:error><d:valid-sync-token/></d:error>` (any prefix).
///
/// Anything else, including a body that is not XML, is `false`: the caller then treats the status
/// code on its own (some servers send a bare 400/403/500 for an expired token).
pub fn is_valid_sync_token_error(body: &[u8]) -> bool {
    let mut walker = Walker::new(body);
    let mut depth = 0usize;
    loop {
        match walker.next() {
            Ok(Step::Open(name, _)) => {
                if depth == 0 && !name.is(Ns::Dav, "error") {
                    return false;
                }
                // Servers add their own children (SabreDAV's exception, message); look at any
                // depth under the root rather than insisting on a direct child.
                if depth >= 1 && name.is(Ns::Dav, "valid-sync-token") {
                    return true;
                }
                depth += 1;
            }
            Ok(Step::Close) => {
                depth = depth.saturating_sub(1);
                if depth == 0 {
                    return false;
                }
            }
            Ok(Step::Text(_) | Step::BadText(_)) => {}
            Ok(Step::Eof) | Err(_) => return false,
        }
    }
}

/// Resolves an href from a response against the URL it answered (absolute path or full URL), and
/// normalises percent-encoding (decode unreserved chars, uppercase hex, collapse nothing else) so two
/// spellings of one resource compare equal. Returns None when it cannot be resolved.
///
/// Only `http` and `https` results are returned, and the fragment is dropped (it never names a
/// different resource). The result may be on another origin than `base`: checking that before
/// sending credentials is the caller's job.
pub fn normalise_href(base: &Url, href: &str) -> Option<Url> {
    let href = href.trim();
    if href.is_empty() {
        // `join("")` would answer the base itself, which is not what an empty href means.
        return None;
    }
    let mut url = base.join(href).ok()?;
    if !matches!(url.scheme(), "http" | "https") || url.cannot_be_a_base() {
        return None;
    }
    url.set_fragment(None);
    // The URL parser already removed dot segments, escaped ones included (`%2e%2e` is `..` to the
    // WHATWG URL standard), so decoding cannot create a new one here.
    let path = normalise_percent(url.path(), true);
    url.set_path(&path);
    if let Some(query) = url.query() {
        let query = normalise_percent(query, true);
        url.set_query(Some(&query));
    }
    Some(url)
}

/// Uppercases the hex of every `%XX` escape and, when `decode` is set, decodes those that stand for
/// unreserved characters (RFC 3986 section 2.3). The input is a serialised `Url`, hence ASCII.
fn normalise_percent(s: &str, decode: bool) -> String {
    let bytes = s.as_bytes();
    let mut out = String::with_capacity(s.len());
    let mut i = 0;
    while i < bytes.len() {
        let b = bytes[i];
        if b == b'%'
            && let Some(hex) = bytes.get(i + 1..i + 3)
            // Checked by hand: `from_str_radix` would also accept a sign such as `%+1`.
            && hex.iter().all(u8::is_ascii_hexdigit)
            && let Ok(hex) = std::str::from_utf8(hex)
            && let Ok(v) = u8::from_str_radix(hex, 16)
        {
            let unreserved = v.is_ascii_alphanumeric() || matches!(v, b'-' | b'.' | b'_' | b'~');
            if decode && unreserved {
                out.push(char::from(v));
            } else {
                out.push('%');
                out.push_str(&hex.to_ascii_uppercase());
            }
            i += 3;
        } else {
            out.push(char::from(b));
            i += 1;
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    const SYNC_RFC6578: &str = include_str!("../../../tests/fixtures/dav/sync_rfc6578.xml");
    const SYNC_SABRE_TRUNCATED: &str =
        include_str!("../../../tests/fixtures/dav/sync_sabre_truncated.xml");
    const SYNC_RADICALE: &str = include_str!("../../../tests/fixtures/dav/sync_radicale.xml");
    const PRINCIPAL_ICLOUD: &str = include_str!("../../../tests/fixtures/dav/principal_icloud.xml");
    const HOME_SET_GOOGLE: &str = include_str!("../../../tests/fixtures/dav/home_set_google.xml");
    const CALENDARS_NEXTCLOUD: &str =
        include_str!("../../../tests/fixtures/dav/calendars_nextcloud.xml");
    const MULTIGET_CDATA_APPLE: &str =
        include_str!("../../../tests/fixtures/dav/multiget_cdata_apple.xml");
    const MULTIGET_ESCAPED_XANDIKOS: &str =
        include_str!("../../../tests/fixtures/dav/multiget_escaped_xandikos.xml");
    const CHANGING_PREFIXES: &str =
        include_str!("../../../tests/fixtures/dav/changing_prefixes.xml");

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
        let err = parse_multistatus(b"<d:multistatus xmlns:d=\"DAV:\"><d:response></d:href>")
            .unwrap_err();
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
        let upper =
            br#"<D:error xmlns:D="DAV:"><D:valid-sync-token></D:valid-sync-token></D:error>"#;
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
}
