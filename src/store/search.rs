//! Full-text search over the cached events: summary, location, description and attendees.
//!
//! The index is an FTS5 table over `events` (external content) kept in step in the same
//! transaction as every write that changes an event row (an import, a sync page, a staged edit):
//! `items::insert_events` writes a new row's terms, triggers take out a deleted or updated row's
//! (schema migrations 12 and 14). A search matches events; what it returns are their occurrences in a range of
//! days, nearest to a given instant first.

use chrono::{DateTime, Duration, NaiveDate, Utc};
use chrono_tz::Tz;
use rusqlite::{Transaction, params};

use super::reader::{OCCURRENCE_COLUMNS, ZONE_SLACK_SECS, key_range, occurrence_from_row};
use super::{StoreError, StoreReader};
use crate::domain::format::read_item;
use crate::domain::series::SeriesSpec;
use crate::domain::{Occurrence, When};

/// The schema version whose migration creates the index (see schema.rs).
const INDEX_VERSION: i64 = 12;

/// What to look for, where, and from when "nearest" counts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SearchQuery {
    /// As typed: words (each must occur), `"a phrase"`, and the last word taken as a prefix
    /// while it is being typed (no space after it yet).
    pub text: String,
    /// The days (inclusive, in the display zone) whose occurrences are listed.
    pub from: NaiveDate,
    pub to: NaiveDate,
    /// Occurrences are ordered by distance from this instant: upcoming ones first (soonest
    /// first), then past ones (latest first).
    pub around: DateTime<Utc>,
    /// At most this many occurrences (the first page).
    pub limit: usize,
}

impl SearchQuery {
    /// A search for `text` over a year either side of `around`'s day.
    pub fn around(text: &str, around: DateTime<Utc>, display: &Tz, limit: usize) -> SearchQuery {
        let today = When::Instant(around).local(display).date();
        SearchQuery {
            text: text.to_string(),
            from: today - Duration::days(366),
            to: today + Duration::days(366),
            around,
            limit,
        }
    }
}

/// An event's attendees as the index stores them: one per line.
pub(super) fn attendees_text(attendees: &[String]) -> Option<String> {
    (!attendees.is_empty()).then(|| attendees.join("\n"))
}

/// The FTS5 expression for what a person typed, or `None` when it holds nothing to look for.
/// Every word and every quoted phrase must match; the last one, while it is still being typed,
/// matches as a prefix. Each is quoted, so nothing typed is read as FTS5 syntax.
pub fn search_expression(text: &str) -> Option<String> {
    let mut terms: Vec<String> = Vec::new();
    let mut rest = text;
    let mut open_at_end = false;
    while !rest.is_empty() {
        rest = rest.trim_start();
        if rest.is_empty() {
            break;
        }
        let (term, after, closed) = match rest.strip_prefix('"') {
            Some(inner) => match inner.find('"') {
                Some(end) => (&inner[..end], &inner[end + 1..], true),
                None => (inner, "", false),
            },
            None => {
                let end = rest.find(char::is_whitespace).unwrap_or(rest.len());
                (&rest[..end], &rest[end..], end < rest.len())
            }
        };
        rest = after;
        open_at_end = !closed && rest.is_empty();
        if term.chars().any(char::is_alphanumeric) {
            terms.push(format!("\"{}\"", term.replace('"', "\"\"")));
        } else {
            open_at_end = false;
        }
    }
    if terms.is_empty() {
        return None;
    }
    let mut expr = terms.join(" ");
    if open_at_end {
        expr.push_str(" *");
    }
    Some(expr)
}

impl StoreReader {
    /// The occurrences of every event of a visible calendar that matches `query`, in the days
    /// `query.from..=query.to`, nearest to `query.around` first. Cancelled ones are left out.
    pub fn search(&self, query: &SearchQuery, display: &Tz) -> Result<Vec<Occurrence>, StoreError> {
        let Some(expr) = search_expression(&query.text) else {
            return Ok(Vec::new());
        };
        let (from, to) = (query.from, query.to);
        let (lo, hi) = key_range(from, to);
        let hidden = self.hidden_calendars()?;
        // Single events: only the `limit` nearest on each side of `around` by key (twice that,
        // for the zone slack of wall-clock keys), so a common word costs a page, not every match.
        // Series are few; each is expanded over the days and sorted with the rest.
        let now = query.around.timestamp();
        let page = (query.limit as i64).saturating_mul(2);
        // The index is read once, the matching rows looked up by rowid (a common word matches a
        // tenth of the cache; a scan of `events` probing the matches would cost the whole table).
        let columns: Vec<String> = OCCURRENCE_COLUMNS
            .split(',')
            .map(|c| format!("e.{}", c.trim()))
            .collect();
        let columns = columns.join(", ");
        // Only keys are kept of every match; the page's rows are read whole at the end.
        let sql = format!(
            "WITH m AS MATERIALIZED (
                SELECT e.id, e.start_key AS k, e.end_key AS ek, e.series IS NOT NULL AS s
                  FROM events_fts f CROSS JOIN events e ON e.id = f.rowid
                 WHERE events_fts MATCH ?1 AND e.start_key < ?3
                   AND ((e.series IS NULL AND e.end_key >= ?2)
                     OR (e.series IS NOT NULL
                         AND (e.series_end_key IS NULL OR e.series_end_key >= ?2)))),
             page AS (
                SELECT * FROM (SELECT id, k FROM m WHERE NOT s AND ek >= ?4 - {ZONE_SLACK_SECS}
                                ORDER BY k LIMIT ?5)
                UNION ALL
                SELECT * FROM (SELECT id, k FROM m WHERE NOT s AND ek < ?4 + {ZONE_SLACK_SECS}
                                ORDER BY k DESC LIMIT ?5)
                UNION ALL
                SELECT id, k FROM m WHERE s)
             SELECT {columns}, e.series, p.k FROM page p CROSS JOIN events e ON e.id = p.id"
        );
        let mut stmt = self.conn.prepare_cached(&sql)?;
        let rows = stmt.query_map(params![expr, lo, hi, now, page], |r| {
            Ok((occurrence_from_row(r)?, r.get::<_, Option<String>>(13)?))
        })?;
        let in_range = |o: &Occurrence| !o.cancelled() && o.overlaps_days(from, to, display);
        let mut out = Vec::new();
        for row in rows {
            let (occ, series) = row?;
            if hidden.contains(&occ.calendar_id) {
                continue;
            }
            let Some(json) = series else {
                if in_range(&occ) {
                    out.push(occ);
                }
                continue;
            };
            let before = out.len();
            let expanded = serde_json::from_str::<SeriesSpec>(&json)
                .map_err(|e| e.to_string())
                .and_then(|spec| {
                    spec.occurrences_into(&occ, from, to, in_range, &mut out)
                        .map_err(|e| e.to_string())
                });
            if expanded.is_err() {
                // As in the views: a series that cannot be expanded is found by its first instance.
                out.truncate(before);
                if in_range(&occ) {
                    out.push(occ);
                }
            }
        }
        out.retain(|o| !o.cancelled());
        // The two single-event pages overlap within the zone slack.
        out.sort_by_key(|o| (o.event_id, o.start.key()));
        out.dedup_by_key(|o| (o.event_id, o.start.key()));
        nearest_first(&mut out, query.around, display);
        out.truncate(query.limit);
        self.mark_pending(&mut out)?;
        Ok(out)
    }
}

/// Upcoming occurrences (not yet ended at `around`) soonest first, then past ones latest first;
/// ties by uid.
pub fn nearest_first(list: &mut [Occurrence], around: DateTime<Utc>, display: &Tz) {
    let now = When::Instant(around).local(display);
    list.sort_by_cached_key(|o| {
        let (start, end) = o.local_span(display);
        let past = end <= now && start < now;
        let distance = if past { now - start } else { start - now };
        (past, distance, o.uid.clone(), o.recurrence_id)
    });
}

/// Work a migration cannot do in SQL: once the index is built, the attendees of the events
/// already cached are read from their items (the update trigger indexes them).
pub(super) fn after_migration(tx: &Transaction<'_>, version: i64) -> Result<(), StoreError> {
    if version != INDEX_VERSION {
        return Ok(());
    }
    let mut items = tx.prepare(
        "SELECT i.id, i.calendar_id, COALESCE(p.raw, i.raw) FROM items i
           LEFT JOIN pending p ON p.calendar_id = i.calendar_id AND p.href = i.href
          WHERE EXISTS (SELECT 1 FROM events e WHERE e.item_id = i.id)",
    )?;
    let rows: Vec<(i64, i64, Option<String>)> = items
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))?
        .collect::<Result<_, _>>()?;
    let mut update = tx.prepare(
        "UPDATE events SET attendees = ?1
          WHERE item_id = ?2 AND uid = ?3 AND recurrence_key IS ?4",
    )?;
    for (item, calendar, raw) in rows {
        let Some(raw) = raw else { continue };
        let format = super::sync::calendar_format(tx, calendar)?;
        for ev in read_item(format, &raw)
            .items
            .into_iter()
            .flat_map(|i| i.events)
        {
            let Some(text) = attendees_text(&ev.attendees) else {
                continue;
            };
            let rid = ev.recurrence_id.as_ref().map(|r| r.normalise().key());
            update.execute(params![text, item, ev.uid, rid])?;
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn words_must_all_match_and_the_last_one_is_a_prefix_while_typed() {
        assert_eq!(
            search_expression("team lun").as_deref(),
            Some("\"team\" \"lun\" *")
        );
        assert_eq!(
            search_expression("team lunch ").as_deref(),
            Some("\"team\" \"lunch\"")
        );
    }

    #[test]
    fn a_quoted_phrase_stays_whole_and_fts_syntax_is_only_text() {
        assert_eq!(
            search_expression("\"board meeting\" NEAR(x)").as_deref(),
            Some("\"board meeting\" \"NEAR(x)\" *")
        );
        assert_eq!(
            search_expression("\"board mee").as_deref(),
            Some("\"board mee\" *")
        );
        assert_eq!(search_expression("  \" - ").as_deref(), None);
        assert_eq!(search_expression("a\"b").as_deref(), Some("\"a\"\"b\" *"));
    }
}
