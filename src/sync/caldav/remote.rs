//! CalDAV behind the engine's [`Remote`] seam: GET, PUT and DELETE of one resource, with the
//! answers turned into the outcomes every remote shares.

use reqwest::Url;

use super::{CalDav, Precondition, Written};
use crate::sync::SyncError;
use crate::sync::remote::{Format, Got, Remote, Write, WriteOutcome};

/// Refusals that no retry can change (the request itself is unacceptable to this server).
const REFUSED_FOR_GOOD: &[u16] = &[400, 403, 405, 409, 413, 415, 422];

/// The URL of `href` in the collection `cal`: a path on the calendar's origin (never `join`:
/// `//host/…` would leave it).
fn member(cal: &str, href: &str) -> Result<Url, SyncError> {
    let mut url = Url::parse(cal)
        .map_err(|e| SyncError::Protocol(format!("the calendar URL {cal} is unreadable: {e}")))?;
    url.set_path(href);
    Ok(url)
}

impl Remote for CalDav {
    fn format(&self) -> Format {
        Format::ICalendar
    }

    async fn fetch(
        &self,
        cal: &str,
        id: &str,
        if_none_match: Option<&str>,
    ) -> Result<Got, SyncError> {
        Ok(self.get_unless(&member(cal, id)?, if_none_match).await?)
    }

    async fn write(
        &self,
        cal: &str,
        id: &str,
        write: Write<'_>,
    ) -> Result<WriteOutcome, SyncError> {
        let url = member(cal, id)?;
        let written = match write {
            Write::Create { raw } => self.put(&url, raw, Precondition::Create).await?,
            Write::Update { raw, etag, .. } => {
                let pre = etag.map_or(Precondition::None, Precondition::Match);
                self.put(&url, raw, pre).await?
            }
            Write::Delete { etag } => self.delete(&url, etag).await?,
        };
        Ok(match written {
            Written::Done { etag } => WriteOutcome::Done {
                id: None,
                etag,
                stored: None,
            },
            Written::PreconditionFailed => WriteOutcome::Changed,
            Written::Gone => WriteOutcome::Gone,
            Written::Refused { status, reason } => {
                let verb = write.verb();
                let reason = if reason.is_empty() {
                    format!("the server refused the {verb} ({status})")
                } else {
                    format!("the server refused the {verb} ({status}): {reason}")
                };
                WriteOutcome::Refused {
                    for_good: REFUSED_FOR_GOOD.contains(&status),
                    reason,
                }
            }
        })
    }
}
