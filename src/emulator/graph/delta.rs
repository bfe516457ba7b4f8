//! `calendarView/delta` rounds. PROTOCOLS.md §3 "Requests", "Rounds", "Items, removals, series";
//! §4 Graph "opaque delta tokens (calendar, window, generation, cursor)".
//!
//! A round is served from the snapshot of the change sequence it began at (`snap`); an
//! incremental round diffs that snapshot against the one its deltaLink names (`since`): members
//! whose source changed are sent (a changed master: all its occurrences in the window), members
//! that were in the window and are no longer come as `@removed`.

use std::collections::{BTreeSet, HashMap};

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value, json};

use super::super::google::sha256::{base64url, base64url_decode};
use super::errors::{self, Context, Reply};
use super::instances::{self, occurrence_id, overlaps, parse_occurrence_id};
use super::render::{self, Style};
use super::state::{Kind, State};

/// One item of a window at some point of the change sequence.
#[derive(Debug, Clone)]
pub(crate) struct Member {
    pub id: String,
    /// The change number of the version it comes from (an occurrence: its master's).
    pub changed: u64,
    pub start: i64,
    pub end: i64,
    pub source: Source,
}

#[derive(Debug, Clone)]
pub(crate) enum Source {
    /// A single event or an exception, as stored then; an exception with its master.
    Whole(Map<String, Value>, Option<Map<String, Value>>),
    /// An occurrence of a master, as stored then.
    Occurrence {
        master_id: String,
        master: Map<String, Value>,
    },
}

impl Member {
    /// The stored object the member comes from (an occurrence: its master).
    pub(crate) fn source_json(&self) -> &Map<String, Value> {
        match &self.source {
            Source::Whole(json, _) => json,
            Source::Occurrence { master, .. } => master,
        }
    }

    /// The id of the series it belongs to, or its own.
    fn group(&self) -> &str {
        match &self.source {
            Source::Whole(json, _) => json
                .get("seriesMasterId")
                .and_then(Value::as_str)
                .unwrap_or(&self.id),
            Source::Occurrence { master_id, .. } => master_id,
        }
    }

    fn render(&self, style: &Style<'_>) -> Value {
        match &self.source {
            Source::Whole(json, master) => render::whole(json, master.as_ref(), style),
            Source::Occurrence { master_id, master } => {
                render::occurrence(master_id, master, self.start, self.end, style)
            }
        }
    }
}

/// Every single event, exception and non-cancelled occurrence of `cal` overlapping
/// `[from, to)` at change `at`, series grouped (in order of their first start), by start within.
pub(crate) fn members(st: &State, cal: &str, at: u64, from: i64, to: i64) -> Vec<Member> {
    let mut out = Vec::new();
    for (id, item) in st.items.iter().filter(|(_, i)| i.calendar == cal) {
        let Some((body, seq)) = item.at(at) else {
            continue;
        };
        match item.kind {
            Kind::Single | Kind::Exception => {
                let cancelled = body.json.get("isCancelled").and_then(Value::as_bool) == Some(true);
                let Some((start, end)) = instances::bounds(&body.json) else {
                    continue;
                };
                if cancelled || !overlaps(start, end, from, to) {
                    continue;
                }
                let master = item
                    .master
                    .as_ref()
                    .and_then(|m| st.items.get(m))
                    .and_then(|m| m.at(at))
                    .map(|(b, _)| b.json.clone());
                out.push(Member {
                    id: id.clone(),
                    changed: seq,
                    start,
                    end,
                    source: Source::Whole(body.json.clone(), master),
                });
            }
            Kind::Master => {
                for (start, end) in instances::occurrences(&body.json, from, to) {
                    let occ = occurrence_id(id, start);
                    let excepted = st.items.get(&occ).is_some_and(|e| e.at(at).is_some());
                    if body.cancelled.contains(&start) || excepted {
                        continue;
                    }
                    out.push(Member {
                        id: occ,
                        changed: seq,
                        start,
                        end,
                        source: Source::Occurrence {
                            master_id: id.clone(),
                            master: body.json.clone(),
                        },
                    });
                }
            }
        }
    }
    out.sort_by(|a, b| (a.start, &a.id).cmp(&(b.start, &b.id)));
    // Series together, in order of their first start: what `overfull_pages` extends over. A
    // map, not a list search: a calendar of 10,000 events took half a minute a page.
    let mut rank: HashMap<String, usize> = HashMap::new();
    for m in &out {
        let next = rank.len();
        rank.entry(m.group().to_string()).or_insert(next);
    }
    out.sort_by_key(|m| rank.get(m.group()).copied().unwrap_or(usize::MAX));
    out
}

/// One entry of a round.
#[derive(Debug, Clone)]
pub(crate) enum Entry {
    Item(Member),
    Removed(String),
}

/// What a round's entries are a function of: calendar, window, `since`, `snap`, and the two
/// switches that change which removals are listed.
pub(crate) type RoundKey = (String, i64, i64, Option<u64>, u64, bool, bool);

/// [`entries`], computed once per round and kept for its later pages.
fn cached_entries(
    st: &mut State,
    cal: &str,
    from: i64,
    to: i64,
    since: Option<u64>,
    snap: u64,
) -> std::sync::Arc<Vec<Entry>> {
    let key: RoundKey = (
        cal.to_string(),
        from,
        to,
        since,
        snap,
        st.switches.no_removed_for_cancelled_occurrences,
        st.switches.out_of_window_removals,
    );
    if let Some(hit) = st.round_cache.get(&key) {
        return hit.clone();
    }
    let list = std::sync::Arc::new(entries(st, cal, from, to, since, snap));
    if st.round_cache.len() >= 16 {
        st.round_cache.clear();
    }
    st.round_cache.insert(key, list.clone());
    list
}

/// The entries of a round over `[from, to)` at `snap`; incremental since `since`.
fn entries(st: &State, cal: &str, from: i64, to: i64, since: Option<u64>, snap: u64) -> Vec<Entry> {
    let now = members(st, cal, snap, from, to);
    let Some(since) = since else {
        return now.into_iter().map(Entry::Item).collect();
    };
    let old = members(st, cal, since, from, to);
    let now_ids: BTreeSet<&str> = now.iter().map(|m| m.id.as_str()).collect();
    let old_ids: BTreeSet<&str> = old.iter().map(|m| m.id.as_str()).collect();
    let mut removed: Vec<String> = old_ids
        .iter()
        .filter(|id| !now_ids.contains(*id))
        .map(|id| id.to_string())
        .collect();
    if st.switches.no_removed_for_cancelled_occurrences {
        // PROTOCOLS.md §3 [obs] "A deleted occurrence may yield no `@removed`": only deleted
        // ones; an occurrence moved out of the window still comes as removed ("Items that left
        // the window … also come as removed").
        let cancelled = |master: &str, start: i64| {
            st.items
                .get(master)
                .and_then(|m| m.at(snap))
                .is_some_and(|(b, _)| b.cancelled.contains(&start))
        };
        removed.retain(|id| {
            parse_occurrence_id(id).is_none_or(|(master, start)| !cancelled(&master, start))
        });
    }
    if st.switches.out_of_window_removals {
        // PROTOCOLS.md §3 "changed outside it, also come as removed": ids the client never saw.
        for (id, item) in st.items.iter().filter(|(_, i)| i.calendar == cal) {
            let changed = item.history.iter().any(|v| v.seq > since && v.seq <= snap);
            if changed && !now_ids.contains(id.as_str()) && !old_ids.contains(id.as_str()) {
                removed.push(id.clone());
            }
        }
    }
    let mut out: Vec<Entry> = now
        .into_iter()
        .filter(|m| m.changed > since)
        .map(Entry::Item)
        .collect();
    out.extend(removed.into_iter().map(Entry::Removed));
    out
}

/// What a link carries: the round's calendar and window, where it stands, when it was issued.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub(crate) struct Token {
    pub cal: String,
    pub from: i64,
    pub to: i64,
    /// Incremental round: changes after this change number.
    pub since: Option<u64>,
    /// The change number the round is served at (a deltaLink: the next round's `since`).
    pub snap: u64,
    pub offset: usize,
    pub page: u64,
    pub empties: usize,
    pub round: u64,
    pub issued: i64,
}

impl Token {
    fn encode(&self) -> String {
        base64url(&serde_json::to_vec(self).unwrap_or_default())
    }

    fn decode(text: &str) -> Option<Token> {
        serde_json::from_slice(&base64url_decode(text)?).ok()
    }
}

/// PROTOCOLS.md §3 "No `$select $filter $orderby $expand $search` or `$top` on delta".
const FORBIDDEN: &[&str] = &[
    "$select", "$filter", "$orderby", "$expand", "$search", "$top",
];

/// Reads a window bound: ISO 8601, with or without `Z` or an offset; none = UTC.
pub(crate) fn read_bound(text: &str) -> Option<i64> {
    // An offset's unencoded `+` arrives as a space.
    let text = &text.trim().replace(' ', "+");
    if let Ok(t) = chrono::DateTime::parse_from_rfc3339(text) {
        return Some(t.timestamp());
    }
    Some(
        crate::domain::graph::time::parse_date_time(text)?
            .and_utc()
            .timestamp(),
    )
}

/// A delta request, after authentication.
pub(crate) struct DeltaRequest<'a> {
    pub ctx: &'a Context,
    /// The calendar the path names.
    pub cal: &'a str,
    /// The request path, for the links (PROTOCOLS.md §3 "use links verbatim").
    pub path: &'a str,
    pub query: &'a [(String, String)],
    pub style: Style<'a>,
}

impl DeltaRequest<'_> {
    fn get(&self, name: &str) -> Option<&str> {
        self.query
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
}

/// `GET …/calendarView/delta`.
pub(crate) fn delta(st: &mut State, req: &DeltaRequest<'_>) -> Reply {
    let ctx = req.ctx;
    if let Some(bad) = FORBIDDEN.iter().find(|p| req.get(p).is_some()) {
        return errors::bad_request(
            ctx,
            "ErrorInvalidUrlQuery",
            &format!(
                "The query parameter '{bad}' is not supported with change tracking over the 'CalendarView' resource."
            ),
        );
    }
    if !st.calendars.contains_key(req.cal) {
        return errors::not_found(ctx);
    }
    let now = st.now();
    let token = if let Some(text) = req.get("$deltatoken") {
        let Some(token) = Token::decode(text).filter(|t| t.cal == req.cal) else {
            return errors::invalid_delta_token(ctx, text);
        };
        if st.switches.invalid_delta_token_next > 0 {
            st.switches.invalid_delta_token_next -= 1;
            return errors::invalid_delta_token(ctx, text);
        }
        if let Some(expiry) = st.switches.state_expiry_secs
            && now - token.issued > i64::try_from(expiry).unwrap_or(i64::MAX)
        {
            let location = format!("{}{}?$deltatoken=", st.origin, req.path);
            return errors::sync_state_not_found(ctx, &location, token.snap, st.seq);
        }
        let round = st.next_serial();
        Token {
            since: Some(token.snap),
            snap: st.seq,
            offset: 0,
            page: 0,
            empties: st.switches.empty_pages,
            round,
            issued: now,
            ..token
        }
    } else if let Some(text) = req.get("$skiptoken") {
        let Some(token) = Token::decode(text).filter(|t| t.cal == req.cal) else {
            return errors::invalid_delta_token(ctx, text);
        };
        let too_wide = st
            .switches
            .gateway_timeout_until_window_days
            .is_some_and(|days| (token.to - token.from) > days * 86_400);
        if too_wide {
            return errors::gateway_timeout(ctx);
        }
        if st.switches.gateway_timeout_next_link > 0 {
            st.switches.gateway_timeout_next_link -= 1;
            return errors::gateway_timeout(ctx);
        }
        let newest = st.rounds.get(&token.round).copied().unwrap_or(0);
        if st.switches.older_next_links_die && token.page < newest {
            let location = format!("{}{}?$deltatoken=", st.origin, req.path);
            return errors::sync_state_not_found(ctx, &location, token.snap, st.seq);
        }
        token
    } else {
        let (Some(from), Some(to)) = (
            req.get("startDateTime").and_then(read_bound),
            req.get("endDateTime").and_then(read_bound),
        ) else {
            return errors::bad_request(
                ctx,
                "ErrorInvalidParameter",
                "This request requires a time window specified by the query string parameters StartDateTime and EndDateTime.",
            );
        };
        let round = st.next_serial();
        Token {
            cal: req.cal.to_string(),
            from,
            to,
            since: None,
            snap: st.seq,
            offset: 0,
            page: 0,
            empties: st.switches.empty_pages,
            round,
            issued: now,
        }
    };
    page(st, req, token)
}

/// One page of a round at `token`.
fn page(st: &mut State, req: &DeltaRequest<'_>, token: Token) -> Reply {
    let newest = st.rounds.entry(token.round).or_insert(0);
    *newest = (*newest).max(token.page);
    let all = if token.empties > 0 {
        std::sync::Arc::new(Vec::new())
    } else {
        cached_entries(
            st,
            &token.cal,
            token.from,
            token.to,
            token.since,
            token.snap,
        )
    };
    let link = |t: &Token, kind: &str| format!("{}{}?${kind}={}", st.origin, req.path, t.encode());
    let next = |t: &Token, offset: usize, empties: usize| Token {
        offset,
        empties,
        page: t.page + 1,
        ..t.clone()
    };
    let body = |value: Vec<Value>, key: &str, url: String| {
        let mut out = Map::new();
        out.insert(
            "@odata.context".into(),
            json!(format!("{}/v1.0/$metadata#Collection(event)", st.origin)),
        );
        out.insert("value".into(), Value::Array(value));
        out.insert(key.into(), json!(url));
        Reply::json(200, &Value::Object(out))
    };
    if token.empties > 0 {
        let url = link(&next(&token, token.offset, token.empties - 1), "skiptoken");
        return body(Vec::new(), "@odata.nextLink", url);
    }
    // PROTOCOLS.md §3 "A link sent without the page size falls back to 10 [obs]".
    let size = req.style.prefs.page_size.unwrap_or(10).max(1);
    let endless = st.switches.endless_loop;
    let offset = if endless {
        0
    } else {
        token.offset.min(all.len())
    };
    let mut end = (offset + size).min(all.len());
    if st.switches.overfull_pages && end > offset && end < all.len() {
        // PROTOCOLS.md §3 "Pages overfill on series expansion".
        if let Entry::Item(last) = &all[end - 1] {
            let group = last.group().to_string();
            while end < all.len() && matches!(&all[end], Entry::Item(m) if m.group() == group) {
                end += 1;
            }
        }
    }
    let mut value: Vec<Value> = Vec::new();
    if st.switches.replay_items {
        // PROTOCOLS.md §3 "An item may come several times in a round, late: the last copy wins".
        if offset > 0 {
            for entry in &all[offset.saturating_sub(2)..offset] {
                value.push(render_entry(entry, &req.style));
            }
        } else if let Some(since) = token.since {
            for m in members(st, &token.cal, since, token.from, token.to) {
                let changed = all
                    .iter()
                    .any(|e| matches!(e, Entry::Item(n) if n.id == m.id));
                if changed {
                    value.push(m.render(&req.style));
                }
            }
        }
    }
    value.extend(all[offset..end].iter().map(|e| render_entry(e, &req.style)));
    if endless || end < all.len() {
        let url = link(&next(&token, end, 0), "skiptoken");
        return body(value, "@odata.nextLink", url);
    }
    let delta = Token {
        since: None,
        offset: 0,
        page: 0,
        empties: 0,
        issued: st.now(),
        ..token.clone()
    };
    let url = link(&delta, "deltatoken");
    body(value, "@odata.deltaLink", url)
}

fn render_entry(entry: &Entry, style: &Style<'_>) -> Value {
    match entry {
        Entry::Item(m) => m.render(style),
        Entry::Removed(id) => render::removed(id),
    }
}
