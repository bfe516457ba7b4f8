//! A namespace-aware, tolerant reader of `DAV:multistatus` replies (see the module map in
//! `xml`): elements match by namespace URI and local name, unknown ones are ignored, and a problem
//! inside one response skips that response only.

use quick_xml::NsReader;
use quick_xml::XmlVersion;
use quick_xml::escape::resolve_predefined_entity;
use quick_xml::events::{BytesStart, Event};
use quick_xml::name::ResolveResult;

const DAV: &[u8] = b"DAV:";
const CALDAV: &[u8] = b"urn:ietf:params:xml:ns:caldav";
const CALSERVER: &[u8] = b"http://calendarserver.org/ns/";
const APPLE_ICAL: &[u8] = b"http://apple.com/ns/ical/";

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
