//! XML for the CalDAV emulator: reading the few things a request body says (the report asked
//! for, the properties wanted, hrefs, the sync token) and writing multistatus replies.

use quick_xml::NsReader;
use quick_xml::events::Event;
use quick_xml::name::ResolveResult;

/// WebDAV namespace (RFC 4918).
pub(crate) const DAV: &str = "DAV:";
/// CalDAV namespace (RFC 4791).
pub(crate) const CALDAV: &str = "urn:ietf:params:xml:ns:caldav";
/// CalendarServer extensions (`getctag`).
pub(crate) const CS: &str = "http://calendarserver.org/ns/";
/// Apple iCal extensions (`calendar-color`).
pub(crate) const ICAL: &str = "http://apple.com/ns/ical/";

/// A namespaced element name, as a request named it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct PropName {
    pub ns: String,
    pub local: String,
}

impl PropName {
    pub(crate) fn new(ns: &str, local: &str) -> PropName {
        PropName {
            ns: ns.to_string(),
            local: local.to_string(),
        }
    }

    pub(crate) fn is(&self, ns: &str, local: &str) -> bool {
        self.ns == ns && self.local == local
    }
}

/// What a PROPFIND or REPORT body asks for. An empty body reads as an empty request (which the
/// handlers treat like `allprop`).
#[derive(Debug, Default)]
pub(crate) struct DavRequest {
    /// The document element: `propfind`, `sync-collection`, `calendar-multiget`, ...
    pub root: Option<PropName>,
    /// Direct children of `DAV:prop`.
    pub props: Vec<PropName>,
    /// `DAV:allprop` or `DAV:propname` was sent, or no `prop` at all.
    pub allprop: bool,
    /// Every `DAV:href` text, XML-unescaped and trimmed.
    pub hrefs: Vec<String>,
    /// The `DAV:sync-token` text; `Some("")` for an empty element.
    pub sync_token: Option<String>,
}

/// Reads a request body namespace-aware (prefixes are the client's choice).
pub(crate) fn parse_request(body: &str) -> Result<DavRequest, String> {
    let mut request = DavRequest::default();
    if body.trim().is_empty() {
        request.allprop = true;
        return Ok(request);
    }
    let mut reader = NsReader::from_str(body);
    let mut stack: Vec<PropName> = Vec::new();
    let mut text = String::new();
    let mut saw_prop = false;
    loop {
        let (ns, event) = reader.read_resolved_event().map_err(|e| e.to_string())?;
        let ns = match ns {
            ResolveResult::Bound(n) => String::from_utf8_lossy(n.0).into_owned(),
            _ => String::new(),
        };
        match event {
            Event::Start(ref e) | Event::Empty(ref e) => {
                let name = PropName {
                    ns,
                    local: String::from_utf8_lossy(e.local_name().as_ref()).into_owned(),
                };
                let empty = matches!(event, Event::Empty(_));
                if request.root.is_none() {
                    request.root = Some(name.clone());
                }
                // Only direct children of `prop` are property names; their own children
                // (`calendar-data/expand`, ...) are parameters we ignore.
                if stack.last().is_some_and(|p| p.is(DAV, "prop")) {
                    request.props.push(name.clone());
                }
                if name.is(DAV, "allprop") || name.is(DAV, "propname") {
                    request.allprop = true;
                }
                if name.is(DAV, "prop") {
                    saw_prop = true;
                }
                if empty {
                    if name.is(DAV, "sync-token") {
                        request.sync_token = Some(String::new());
                    }
                } else {
                    text.clear();
                    stack.push(name);
                }
            }
            Event::End(_) => {
                if let Some(name) = stack.pop() {
                    if name.is(DAV, "href") {
                        request.hrefs.push(text.trim().to_string());
                    } else if name.is(DAV, "sync-token") {
                        request.sync_token = Some(text.trim().to_string());
                    }
                }
                text.clear();
            }
            Event::Text(t) => text.push_str(&t.decode().map_err(|e| e.to_string())?),
            Event::CData(t) => text.push_str(&t.decode().map_err(|e| e.to_string())?),
            Event::GeneralRef(r) => {
                // quick-xml hands entities over separately from the text around them.
                if let Some(c) = r.resolve_char_ref().map_err(|e| e.to_string())? {
                    text.push(c);
                } else {
                    let name = r.decode().map_err(|e| e.to_string())?;
                    text.push(match name.as_ref() {
                        "lt" => '<',
                        "gt" => '>',
                        "amp" => '&',
                        "quot" => '"',
                        "apos" => '\'',
                        other => return Err(format!("unknown entity &{other};")),
                    });
                }
            }
            Event::Eof => break,
            _ => {}
        }
    }
    if request.root.is_none() {
        return Err("no document element".to_string());
    }
    if !saw_prop {
        request.allprop = true;
    }
    Ok(request)
}

/// Escapes text for element content and attribute values.
pub(crate) fn esc(s: &str) -> String {
    quick_xml::escape::escape(s).into_owned()
}

fn prefix(ns: &str) -> Option<&'static str> {
    match ns {
        DAV => Some("d"),
        CALDAV => Some("c"),
        CS => Some("cs"),
        ICAL => Some("ic"),
        _ => None,
    }
}

/// `<p:local>inner</p:local>` with the prefix bound at the multistatus root, or a local
/// `xmlns` declaration for namespaces the emulator does not know (only echoed back in 404s).
pub(crate) fn element(name: &PropName, inner: &str) -> String {
    let local = esc(&name.local);
    let (qname, decl) = match prefix(&name.ns) {
        Some(p) => (format!("{p}:{local}"), String::new()),
        None if name.ns.is_empty() => (local.clone(), " xmlns=\"\"".to_string()),
        None => (
            format!("x:{local}"),
            format!(" xmlns:x=\"{}\"", esc(&name.ns)),
        ),
    };
    if inner.is_empty() {
        format!("<{qname}{decl}/>")
    } else {
        format!("<{qname}{decl}>{inner}</{qname}>")
    }
}

/// Wraps responses (and an optional trailing sync token) in a `DAV:multistatus` document.
pub(crate) fn multistatus(responses: &[String], sync_token: Option<&str>) -> String {
    let mut out = String::from("<?xml version=\"1.0\" encoding=\"utf-8\"?>\n");
    out.push_str(&format!(
        "<d:multistatus xmlns:d=\"{DAV}\" xmlns:c=\"{CALDAV}\" xmlns:cs=\"{CS}\" xmlns:ic=\"{ICAL}\">\n"
    ));
    for r in responses {
        out.push_str(r);
        out.push('\n');
    }
    if let Some(token) = sync_token {
        out.push_str(&format!("<d:sync-token>{}</d:sync-token>\n", esc(token)));
    }
    out.push_str("</d:multistatus>\n");
    out
}

/// One `DAV:response` with a 200 propstat for `found` (rendered properties) and a 404 propstat
/// naming each property in `missing`.
pub(crate) fn response_props(href: &str, found: &[String], missing: &[PropName]) -> String {
    let mut out = format!("<d:response><d:href>{}</d:href>", esc(href));
    if !found.is_empty() || missing.is_empty() {
        out.push_str("<d:propstat><d:prop>");
        for f in found {
            out.push_str(f);
        }
        out.push_str("</d:prop><d:status>HTTP/1.1 200 OK</d:status></d:propstat>");
    }
    if !missing.is_empty() {
        out.push_str("<d:propstat><d:prop>");
        for m in missing {
            out.push_str(&element(m, ""));
        }
        out.push_str("</d:prop><d:status>HTTP/1.1 404 Not Found</d:status></d:propstat>");
    }
    out.push_str("</d:response>");
    out
}

/// A `DAV:response` with a response-level status (removed members, missing hrefs, 507).
pub(crate) fn response_status(href: &str, status: &str) -> String {
    format!(
        "<d:response><d:href>{}</d:href><d:status>HTTP/1.1 {status}</d:status></d:response>",
        esc(href)
    )
}

/// A `DAV:error` body naming one precondition, e.g. `valid-sync-token`.
pub(crate) fn error_body(condition: &str) -> String {
    format!(
        "<?xml version=\"1.0\" encoding=\"utf-8\"?>\n<d:error xmlns:d=\"DAV:\"><d:{condition}/></d:error>\n"
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_sync_collection_with_other_prefixes_and_entities() {
        let body = r#"<?xml version="1.0"?>
<x:sync-collection xmlns:x="DAV:" xmlns:y="urn:ietf:params:xml:ns:caldav">
  <x:sync-token>http://a/sync/1-2?a=1&amp;b=2</x:sync-token>
  <x:sync-level>1</x:sync-level>
  <x:prop><x:getetag/><y:calendar-data><y:expand/></y:calendar-data></x:prop>
</x:sync-collection>"#;
        let r = parse_request(body).expect("parses");
        assert_eq!(r.root, Some(PropName::new(DAV, "sync-collection")));
        assert_eq!(r.sync_token.as_deref(), Some("http://a/sync/1-2?a=1&b=2"));
        assert_eq!(
            r.props,
            vec![
                PropName::new(DAV, "getetag"),
                PropName::new(CALDAV, "calendar-data")
            ]
        );
        assert!(!r.allprop);
    }

    #[test]
    fn empty_sync_token_element_is_an_empty_token() {
        let r = parse_request(
            r#"<sync-collection xmlns="DAV:"><sync-token/><prop><getetag/></prop></sync-collection>"#,
        )
        .expect("parses");
        assert_eq!(r.sync_token.as_deref(), Some(""));
    }

    #[test]
    fn broken_xml_is_an_error_not_a_panic() {
        assert!(parse_request("<a></b>").is_err());
        assert!(parse_request("just text").is_err());
    }
}
