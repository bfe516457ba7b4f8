//! CalDAV (RFC 4791) with collection sync (RFC 6578). Request bodies and response parsing live in
//! [`xml`], as values without I/O; this module sends them through the one [`Http`] client and turns
//! replies into listings, deltas and fetched items.

mod remote;
pub mod xml;

use reqwest::{StatusCode, Url};

use super::http::{Http, HttpError, Request, same_origin};
use crate::store::FetchedItem;
use xml::{Multistatus, normalise_href};

/// Why a CalDAV exchange failed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DavError {
    #[error(transparent)]
    Http(#[from] HttpError),
    /// RFC 6578: the token is no longer valid; a full listing follows (routine, not an error).
    #[error("the sync token is no longer valid")]
    InvalidToken,
    #[error("unreadable reply to {what}: {reason}")]
    Xml { what: &'static str, reason: String },
    #[error("{what}: the server answered {status}")]
    Unexpected { what: &'static str, status: u16 },
    #[error("discovery found no calendar home at {0}: is this a CalDAV server URL?")]
    NoHome(String),
}

/// A calendar as the home's Depth 1 PROPFIND lists it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ListedCalendar {
    pub url: Url,
    pub name: String,
    pub color: Option<String>,
    pub ctag: Option<String>,
    pub sync_token: Option<String>,
    pub supports_sync: bool,
    pub components: Vec<String>,
    /// The collection's identity (`DAV:resource-id`, else its creation date), when the server
    /// tells: it changes when the calendar is deleted and recreated at the same URL.
    pub identity: Option<String>,
}

/// One reply of a sync-collection REPORT.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SyncPage {
    /// (href, etag) added or changed.
    pub changed: Vec<(String, Option<String>)>,
    /// The data of changed items, by href, when it was asked for and the server sent it.
    pub data: std::collections::HashMap<String, String>,
    /// Why an item's data cannot be read (invalid UTF-8), by href: kept, listed as unreadable.
    pub problems: std::collections::HashMap<String, String>,
    pub removed: Vec<String>,
    pub token: Option<String>,
    /// RFC 6578 3.6: more changes wait; ask again with `token`.
    pub truncated: bool,
    /// Responses skipped (another origin, no href …), in plain words.
    pub skipped: Vec<String>,
}

pub use super::remote::Got;

/// The condition a write sets on the server's copy.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Precondition<'a> {
    /// `If-None-Match: *`: only if nothing lives at the href yet.
    Create,
    /// `If-Match`: only if the server still holds this etag.
    Match(&'a str),
    /// No condition (an item the server never gave an etag for).
    None,
}

/// What the server did with a write.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Written {
    /// Stored (or deleted); the new etag when the reply carried one.
    Done { etag: Option<String> },
    /// 412: the precondition failed; the server's copy is not the one the write was based on.
    PreconditionFailed,
    /// 404 or 410: nothing at the href.
    Gone,
    /// Any other refusal (403, 409, 415, 507 …) with the server's words, if short.
    Refused { status: u16, reason: String },
}

fn written(resp: super::http::Response) -> Written {
    match resp.status.as_u16() {
        200..=299 => Written::Done {
            etag: resp.header("etag").map(str::to_string),
        },
        412 => Written::PreconditionFailed,
        404 | 410 => Written::Gone,
        status => {
            let text = String::from_utf8_lossy(&resp.body);
            let reason: String = crate::domain::text::sanitize(text.trim())
                .chars()
                .take(200)
                .collect();
            Written::Refused { status, reason }
        }
    }
}

/// A calendar's members with their etags, and the collection's ctag as the same reply gave it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct EtagListing {
    pub items: Vec<(String, Option<String>)>,
    pub ctag: Option<String>,
    /// Responses refused (outside the calendar …), in plain words.
    pub skipped: Vec<String>,
}

/// What a multiget returned.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Fetched {
    pub items: Vec<FetchedItem>,
    /// Hrefs the server did not return (gone meanwhile).
    pub missing: Vec<String>,
    pub skipped: Vec<String>,
}

/// A CalDAV account's server.
#[derive(Debug, Clone)]
pub struct CalDav {
    pub http: Http,
}

impl CalDav {
    pub fn new(http: Http) -> CalDav {
        CalDav { http }
    }

    async fn multistatus(
        &self,
        req: Request,
        what: &'static str,
    ) -> Result<(Multistatus, Url), DavError> {
        let resp = self.http.send(req).await?;
        if resp.status != StatusCode::MULTI_STATUS {
            return Err(DavError::Unexpected {
                what,
                status: resp.status.as_u16(),
            });
        }
        let ms = xml::parse_multistatus(&resp.body).map_err(|e| DavError::Xml {
            what,
            reason: e.to_string(),
        })?;
        Ok((ms, resp.url))
    }

    fn propfind(url: &Url, depth: &str, body: String) -> Request {
        Request::new("PROPFIND", url.clone())
            .header("depth", depth)
            .xml(body)
    }

    /// Finds the calendar home from the bare server URL (RFC 6764 well-known, then the URL itself):
    /// current-user-principal, then calendar-home-set.
    pub async fn discover(&self) -> Result<Url, DavError> {
        let base = self.http.origin().clone();
        let mut principal = None;
        let mut failure = None;
        let well_known = base
            .join("/.well-known/caldav")
            .map_err(|_| HttpError::BadUrl(base.to_string()))?;
        for start in [well_known, base.clone()] {
            match self
                .multistatus(
                    Self::propfind(&start, "0", xml::propfind_principal()),
                    "discovery",
                )
                .await
            {
                Ok((ms, at)) => {
                    if let Some(p) = ms
                        .responses
                        .iter()
                        .find_map(|r| r.props.current_user_principal.clone())
                        && let Some(url) = self.resolve(&at, &p)
                    {
                        principal = Some(url);
                        break;
                    }
                }
                // A wrong password is wrong everywhere, and a server that asked to be left
                // alone means it for every URL: no second try.
                Err(DavError::Http(
                    e @ (HttpError::Unauthorized | HttpError::RateLimited { .. }),
                )) => {
                    return Err(DavError::Http(e));
                }
                // A failure at the well-known URL (a redirect elsewhere, an error) only means
                // trying the configured URL; a server that is down or refuses us there is
                // reported as such, not as "no home".
                Err(DavError::Http(e))
                    if start == base && !matches!(e, HttpError::Status { .. }) =>
                {
                    return Err(DavError::Http(e));
                }
                Err(DavError::Unexpected { status, .. }) if status >= 500 => {
                    failure = Some(DavError::Unexpected {
                        what: "discovery",
                        status,
                    });
                }
                Err(_) => {}
            }
        }
        if principal.is_none()
            && let Some(e) = failure
        {
            return Err(e);
        }
        // Servers without current-user-principal: the URL may itself be the principal or the home.
        let principal = principal.unwrap_or_else(|| base.clone());
        let (ms, at) = self
            .multistatus(
                Self::propfind(&principal, "0", xml::propfind_home_set()),
                "discovery",
            )
            .await?;
        let home = ms
            .responses
            .iter()
            .find_map(|r| r.props.calendar_home_set.clone())
            .and_then(|h| self.resolve(&at, &h));
        home.ok_or_else(|| DavError::NoHome(base.to_string()))
    }

    /// An href from a reply as a URL on the account's origin; `None` for another origin.
    fn resolve(&self, at: &Url, href: &str) -> Option<Url> {
        normalise_href(at, href).filter(|u| same_origin(u, self.http.origin()))
    }

    /// Every calendar in the home, with the ctag and token that tell whether it changed: one
    /// request. `brief` leaves those two out (a first sync, which has nothing to compare them with).
    pub async fn calendars(
        &self,
        home: &Url,
        brief: bool,
    ) -> Result<Vec<ListedCalendar>, DavError> {
        let body = if brief {
            xml::propfind_calendars_brief()
        } else {
            xml::propfind_calendars()
        };
        let (ms, at) = self
            .multistatus(Self::propfind(home, "1", body), "the calendar listing")
            .await?;
        let mut out = Vec::new();
        for r in ms.responses {
            if !r.props.is_calendar {
                continue;
            }
            let Some(url) = self.resolve(&at, &r.href) else {
                tracing::warn!("calendar on another origin ignored");
                continue;
            };
            let name = r
                .props
                .displayname
                .clone()
                .filter(|n| !n.trim().is_empty())
                .unwrap_or_else(|| last_segment(&url));
            out.push(ListedCalendar {
                name,
                color: r.props.color.as_deref().and_then(normalise_color),
                ctag: r.props.ctag.clone(),
                sync_token: r.props.sync_token.clone(),
                supports_sync: r
                    .props
                    .supported_reports
                    .iter()
                    .any(|s| s == "sync-collection"),
                components: r.props.components.clone(),
                identity: r
                    .props
                    .resource_id
                    .clone()
                    .map(|id| format!("resource-id {id}"))
                    .or_else(|| r.props.creationdate.clone().map(|d| format!("created {d}"))),
                url,
            });
        }
        Ok(out)
    }

    /// One sync-collection REPORT (RFC 6578) from `token` (`None`: the initial listing), with the
    /// items' data too when `with_data` (servers that do not send it are asked by multiget).
    pub async fn sync_collection(
        &self,
        cal: &Url,
        token: Option<&str>,
        with_data: bool,
    ) -> Result<SyncPage, DavError> {
        // RFC 6578 3.2: the report is defined for Depth 0 only; sync-level says how deep.
        let req = Request::new("REPORT", cal.clone())
            .header("depth", "0")
            .xml(if with_data {
                xml::sync_collection_with_data(token)
            } else {
                xml::sync_collection(token)
            });
        let resp = self.http.send(req).await?;
        let status = resp.status.as_u16();
        if status != 207 {
            // RFC 6578 says 403/409 with valid-sync-token; some servers answer a plain 400/403/500.
            let token_problem = xml::is_valid_sync_token_error(&resp.body)
                || (token.is_some() && matches!(status, 400 | 403 | 409 | 410 | 412 | 500));
            return Err(if token_problem {
                DavError::InvalidToken
            } else {
                DavError::Unexpected {
                    what: "sync-collection",
                    status,
                }
            });
        }
        let ms = xml::parse_multistatus(&resp.body).map_err(|e| DavError::Xml {
            what: "sync-collection",
            reason: e.to_string(),
        })?;
        let mut page = SyncPage {
            token: ms.sync_token.clone(),
            skipped: ms.errors.clone(),
            ..SyncPage::default()
        };
        for r in ms.responses {
            let Some(url) = self.resolve(&resp.url, &r.href) else {
                page.skipped
                    .push(format!("{}: on another server, refused", r.href));
                continue;
            };
            if same_path(&url, cal) {
                // The collection itself: a 507 here means the reply was truncated.
                if r.status == Some(507) {
                    page.truncated = true;
                }
                continue;
            }
            if !inside(cal, &url) {
                page.skipped.push(outside_message(&r.href));
                continue;
            }
            let href = url.path().to_string();
            match r.status {
                Some(404) | Some(410) => page.removed.push(href),
                _ if r.props.etag.is_some() => {
                    if let Some(data) = r.props.calendar_data {
                        page.data.insert(href.clone(), data);
                    }
                    if let Some(problem) = r.props.data_problem {
                        page.problems.insert(href.clone(), problem);
                    }
                    page.changed.push((href, r.props.etag))
                }
                // A 200 without an etag: fetch it anyway; a multiget will tell.
                Some(s) if (200..300).contains(&s) => page.changed.push((href, None)),
                None => page.changed.push((href, None)),
                Some(s) => page.skipped.push(format!("{href}: status {s}")),
            }
        }
        Ok(page)
    }

    /// Every item's href and etag (Depth 1 PROPFIND): the truth a cache is reconciled against.
    pub async fn etag_listing(&self, cal: &Url) -> Result<EtagListing, DavError> {
        let (ms, at) = self
            .multistatus(
                Self::propfind(cal, "1", xml::propfind_etags()),
                "the etag listing",
            )
            .await?;
        let mut out = EtagListing::default();
        for r in ms.responses {
            let Some(url) = self.resolve(&at, &r.href) else {
                continue;
            };
            if same_path(&url, cal) {
                // The collection itself, read in the same request as the etags.
                out.ctag = r.props.ctag;
                continue;
            }
            if !inside(cal, &url) {
                out.skipped.push(outside_message(&r.href));
                continue;
            }
            if !r.props.is_collection {
                out.items.push((url.path().to_string(), r.props.etag));
            }
        }
        Ok(out)
    }

    /// One item by GET.
    pub async fn get(&self, url: &Url) -> Result<Got, DavError> {
        self.get_unless(url, None).await
    }

    /// One item by conditional GET: with `etag`, a server that still holds that version answers
    /// 304 without the body (some ignore the header and send it all; both are fine).
    pub async fn get_unless(&self, url: &Url, etag: Option<&str>) -> Result<Got, DavError> {
        let mut req = Request::new("GET", url.clone());
        if let Some(etag) = etag {
            req = req.header("if-none-match", etag);
        }
        let resp = self.http.send(req).await?;
        Ok(match resp.status.as_u16() {
            200 => Got::Item {
                etag: resp.header("etag").map(str::to_string),
                raw: String::from_utf8_lossy(&resp.body).into_owned(),
            },
            304 => Got::NotModified,
            404 | 410 => Got::Gone,
            status => Got::Refused(status),
        })
    }

    /// Stores one resource by PUT under `pre`. The etag goes back exactly as it was received.
    pub async fn put(
        &self,
        url: &Url,
        raw: &str,
        pre: Precondition<'_>,
    ) -> Result<Written, DavError> {
        let req = Request::new("PUT", url.clone()).calendar(raw.to_string());
        let req = match pre {
            Precondition::Create => req.header("if-none-match", "*"),
            Precondition::Match(etag) => req.header("if-match", etag),
            Precondition::None => req,
        };
        Ok(written(self.http.send(req).await?))
    }

    /// Deletes one resource if the server still holds `etag` (unconditionally without one).
    pub async fn delete(&self, url: &Url, etag: Option<&str>) -> Result<Written, DavError> {
        let mut req = Request::new("DELETE", url.clone());
        if let Some(etag) = etag {
            req = req.header("if-match", etag);
        }
        Ok(written(self.http.send(req).await?))
    }

    /// Fetches items by href with calendar-multiget.
    pub async fn multiget(&self, cal: &Url, hrefs: &[String]) -> Result<Fetched, DavError> {
        // RFC 4791 7.9: servers ignore Depth on a multiget and clients should not send it.
        let req = Request::new("REPORT", cal.clone()).xml(xml::calendar_multiget(hrefs));
        let (ms, at) = self.multistatus(req, "calendar-multiget").await?;
        let mut out = Fetched {
            skipped: ms.errors.clone(),
            ..Fetched::default()
        };
        for r in ms.responses {
            let Some(url) = self.resolve(&at, &r.href) else {
                out.skipped
                    .push(format!("{}: on another server, refused", r.href));
                continue;
            };
            if !inside(cal, &url) {
                out.skipped.push(outside_message(&r.href));
                continue;
            }
            let href = url.path().to_string();
            match r.props.calendar_data {
                Some(raw) if r.status.is_none_or(|s| (200..300).contains(&s)) => {
                    out.items.push(FetchedItem {
                        href,
                        etag: r.props.etag,
                        raw,
                        problem: r.props.data_problem,
                        read: None,
                    })
                }
                _ => out.missing.push(href),
            }
        }
        for h in hrefs {
            if !out.items.iter().any(|i| i.href == *h) && !out.missing.contains(h) {
                out.missing.push(h.clone());
            }
        }
        Ok(out)
    }
}

fn same_path(a: &Url, b: &Url) -> bool {
    a.path().trim_end_matches('/') == b.path().trim_end_matches('/')
}

/// Whether `member` lies inside the collection `cal` (both normalised, same origin). A listing
/// that names `../other/x.ics` or `/elsewhere/x.ics` must not make that resource ours: an edit or
/// a delete would then write outside the calendar.
fn inside(cal: &Url, member: &Url) -> bool {
    let prefix = format!("{}/", cal.path().trim_end_matches('/'));
    member.path().len() > prefix.len() && member.path().starts_with(&prefix)
}

fn outside_message(href: &str) -> String {
    let shown: String = crate::domain::text::sanitize(href)
        .chars()
        .take(200)
        .collect();
    format!("{shown}: outside the calendar, refused")
}

fn last_segment(url: &Url) -> String {
    url.path()
        .trim_end_matches('/')
        .rsplit('/')
        .next()
        .unwrap_or("calendar")
        .to_string()
}

/// Apple's `#RRGGBBAA` (or `#RRGGBB`) as `#RRGGBB`.
fn normalise_color(c: &str) -> Option<String> {
    let c = c.trim();
    let hex = c.strip_prefix('#')?;
    // `get` so a multi-byte character at the edge is no match, not a panic.
    let six = hex.get(..6)?;
    six.chars()
        .all(|ch| ch.is_ascii_hexdigit())
        .then(|| format!("#{six}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_members_inside_the_collection_are_its_items() {
        let cal = Url::parse("https://h/dav/alice/work/").unwrap();
        let at = |h: &str| normalise_href(&cal, h).unwrap();
        assert!(inside(&cal, &at("x.ics")));
        assert!(inside(&cal, &at("/dav/alice/work/x.ics")));
        assert!(inside(&cal, &at("/dav/alice/work/sub/x.ics")));
        assert!(!inside(&cal, &at("../other/x.ics")));
        assert!(!inside(&cal, &at("/elsewhere/x.ics")));
        assert!(!inside(&cal, &at("/dav/alice/work-other/x.ics")));
        assert!(!inside(&cal, &at("/dav/alice/work/%2e%2e/other/x.ics")));
        assert!(!inside(&cal, &at("/dav/alice/work/")));
        let bare = Url::parse("https://h/dav/alice/work").unwrap();
        assert!(inside(&bare, &at("/dav/alice/work/x.ics")));
    }

    #[test]
    fn colours_are_read_without_panicking_on_any_text() {
        assert_eq!(normalise_color("#FF8800CC").as_deref(), Some("#FF8800"));
        assert_eq!(normalise_color(" #00aa11 ").as_deref(), Some("#00aa11"));
        assert_eq!(normalise_color("#aéé…"), None);
        assert_eq!(normalise_color("#12345"), None);
        assert_eq!(normalise_color("red"), None);
    }
}
