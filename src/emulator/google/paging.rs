//! Listing rounds: query parameters, opaque sync tokens (calendar, generation, counter, query hash,
//! issue time) and page tokens bound to their query. PROTOCOLS.md §2 "Sync rounds" and §4 Google
//! "opaque sync tokens (calendar, counter, query hash); page tokens bound to their query".

use serde_json::Value;

use super::Switches;
use super::errors::{self, Reply};
use super::sha256::{base64url, base64url_decode};
use super::state::State;

/// Decoded query parameters, in request order.
#[derive(Debug, Clone, Default)]
pub(crate) struct Query(pub Vec<(String, String)>);

impl Query {
    /// Parses `a=b&c=d` (also a form body), `+` as space, percent escapes decoded.
    pub(crate) fn parse(raw: &str) -> Query {
        let decode = |s: &str| {
            percent_encoding::percent_decode_str(&s.replace('+', " "))
                .decode_utf8_lossy()
                .into_owned()
        };
        Query(
            raw.split('&')
                .filter(|p| !p.is_empty())
                .map(|p| {
                    let (k, v) = p.split_once('=').unwrap_or((p, ""));
                    (decode(k), decode(v))
                })
                .collect(),
        )
    }

    pub(crate) fn get(&self, name: &str) -> Option<&str> {
        self.0
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }

    pub(crate) fn has(&self, name: &str) -> bool {
        self.get(name).is_some()
    }

    /// A boolean parameter; `None` when absent.
    pub(crate) fn flag(&self, name: &str) -> Option<bool> {
        self.get(name).map(|v| v.eq_ignore_ascii_case("true"))
    }

    /// FNV-1a over the sorted parameters other than `skip`: what binds a token to its query.
    pub(crate) fn hash_without(&self, skip: &[&str]) -> u64 {
        let mut pairs: Vec<&(String, String)> = self
            .0
            .iter()
            .filter(|(k, _)| !skip.contains(&k.as_str()))
            .collect();
        pairs.sort();
        let mut h = 0xcbf2_9ce4_8422_2325u64;
        for (k, v) in pairs {
            for b in k.bytes().chain([0]).chain(v.bytes()).chain([1]) {
                h = (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3);
            }
        }
        h
    }
}

/// Parameters that do not bind a sync token to the full round that issued it: PROTOCOLS.md §2
/// "Incremental: the same parameters (minus `timeMin`) + `syncToken` (+ `pageToken` per page)".
/// Page size and the deleted/hidden switches (forced on with a token) do not change the set.
const NOT_BINDING_SYNC: &[&str] = &[
    "syncToken",
    "pageToken",
    "timeMin",
    "timeMax",
    "updatedMin",
    "maxResults",
    "showDeleted",
    "showHidden",
];

/// Where a listing round stands; carried in the page token.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Cursor {
    /// `events:<calendar>` or `calendarList` (and `instances:<calendar>/<event>`).
    pub scope: String,
    pub generation: u64,
    /// Hash of the query the page token is bound to (everything but `pageToken`).
    pub query_hash: u64,
    /// Hash binding the round's sync token (see `NOT_BINDING_SYNC`).
    pub sync_hash: u64,
    /// `Some(n)`: an incremental round listing changes after counter `n`.
    pub since: Option<u64>,
    /// The counter when the round began: its `nextSyncToken`.
    pub snapshot: u64,
    /// The key of the last item sent; the next page starts after it.
    pub after: String,
    pub empties_left: usize,
    pub page_no: u64,
}

const SEP: char = '\u{1f}';

fn encode(fields: &[String]) -> String {
    base64url(fields.join(&SEP.to_string()).as_bytes())
}

fn decode(token: &str, kind: &str, count: usize) -> Option<Vec<String>> {
    let text = String::from_utf8(base64url_decode(token)?).ok()?;
    let fields: Vec<String> = text.split(SEP).map(str::to_string).collect();
    (fields.len() == count && fields[0] == kind).then_some(fields)
}

/// A sync token: scope, generation, counter, binding hash, issue time.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct SyncToken {
    pub scope: String,
    pub generation: u64,
    pub counter: u64,
    pub hash: u64,
    pub issued: i64,
}

impl SyncToken {
    pub(crate) fn encode(&self) -> String {
        encode(&[
            "S".into(),
            self.scope.clone(),
            self.generation.to_string(),
            self.counter.to_string(),
            self.hash.to_string(),
            self.issued.to_string(),
        ])
    }

    pub(crate) fn decode(token: &str) -> Option<SyncToken> {
        let f = decode(token, "S", 6)?;
        Some(SyncToken {
            scope: f[1].clone(),
            generation: f[2].parse().ok()?,
            counter: f[3].parse().ok()?,
            hash: f[4].parse().ok()?,
            issued: f[5].parse().ok()?,
        })
    }
}

impl Cursor {
    pub(crate) fn encode(&self) -> String {
        encode(&[
            "P".into(),
            self.scope.clone(),
            self.generation.to_string(),
            self.query_hash.to_string(),
            self.sync_hash.to_string(),
            self.since.map_or(String::new(), |n| n.to_string()),
            self.snapshot.to_string(),
            self.after.clone(),
            self.empties_left.to_string(),
            self.page_no.to_string(),
        ])
    }

    pub(crate) fn decode(token: &str) -> Option<Cursor> {
        let f = decode(token, "P", 10)?;
        Some(Cursor {
            scope: f[1].clone(),
            generation: f[2].parse().ok()?,
            query_hash: f[3].parse().ok()?,
            sync_hash: f[4].parse().ok()?,
            since: if f[5].is_empty() {
                None
            } else {
                Some(f[5].parse().ok()?)
            },
            snapshot: f[6].parse().ok()?,
            after: f[7].clone(),
            empties_left: f[8].parse().ok()?,
            page_no: f[9].parse().ok()?,
        })
    }
}

/// What a listing collection offers a round.
pub(crate) struct Collection<'a> {
    pub scope: String,
    pub generation: u64,
    pub counter: u64,
    pub purged_through: u64,
    /// Parameters a sync token may not come with, and the `show*` flags it may not turn off.
    pub forbidden_with_sync: &'a [&'a str],
    pub forced_on_with_sync: &'a [&'a str],
}

/// Opens or continues a round: checks the page token or sync token against the query, and the
/// parameters a sync token forbids. Errors come as the reply to send.
pub(crate) fn open_round(
    st: &mut State,
    coll: &Collection<'_>,
    query: &Query,
) -> Result<Cursor, Reply> {
    let sync = query.get("syncToken");
    if sync.is_some() {
        // PROTOCOLS.md §2 "Sync rounds": "Forbidden with a token [doc] … `showDeleted=false`;
        // … emulators send `400` `invalid`, domain `global`".
        let bad = coll
            .forbidden_with_sync
            .iter()
            .find(|p| query.has(p))
            .map(|p| p.to_string())
            .or_else(|| {
                coll.forced_on_with_sync
                    .iter()
                    .find(|p| query.flag(p) == Some(false))
                    .map(|p| format!("{p}=false"))
            });
        if let Some(param) = bad {
            st.violation(format!(
                "{}: syncToken sent together with forbidden parameter {param}",
                coll.scope
            ));
            return Err(errors::invalid(
                "Sync token cannot be used with other request restrictions.",
                Some(param.split('=').next().unwrap_or_default()),
            ));
        }
    }
    let query_hash = query.hash_without(&["pageToken"]);
    if let Some(page) = query.get("pageToken") {
        let Some(cursor) = Cursor::decode(page).filter(|c| c.scope == coll.scope) else {
            return Err(errors::invalid(
                "Invalid page token value.",
                Some("pageToken"),
            ));
        };
        if cursor.query_hash != query_hash {
            // PROTOCOLS.md §4 Google "page tokens bound to their query".
            st.violation(format!(
                "{}: pageToken used with other parameters than the page that issued it",
                coll.scope
            ));
            return Err(errors::invalid(
                "The page token was issued for a different query.",
                Some("pageToken"),
            ));
        }
        if cursor.generation != coll.generation {
            return Err(errors::full_sync_required());
        }
        return Ok(cursor);
    }
    let sync_hash = query.hash_without(NOT_BINDING_SYNC);
    let since = match sync {
        None => None,
        Some(token) => Some(check_sync_token(st, coll, token, sync_hash)?),
    };
    Ok(Cursor {
        scope: coll.scope.clone(),
        generation: coll.generation,
        query_hash,
        sync_hash,
        since,
        snapshot: coll.counter,
        after: String::new(),
        empties_left: st.switches.empty_pages,
        page_no: 0,
    })
}

/// The counter a sync token stands for, or the 400/410 it earns.
fn check_sync_token(
    st: &mut State,
    coll: &Collection<'_>,
    token: &str,
    sync_hash: u64,
) -> Result<u64, Reply> {
    // PROTOCOLS.md §2 [obs] "Garbled token: `400` `Invalid sync token value.`".
    let Some(token) = SyncToken::decode(token).filter(|t| t.scope == coll.scope) else {
        return Err(errors::invalid_sync_token());
    };
    if token.generation == coll.generation && token.counter > coll.counter {
        return Err(errors::invalid_sync_token());
    }
    // PROTOCOLS.md §4 Google "forced 410".
    if st.switches.force_410_next > 0 {
        st.switches.force_410_next -= 1;
        return Err(errors::full_sync_required());
    }
    // PROTOCOLS.md §2 "`410 fullSyncRequired` (expiry, ACL change)"; §4 "token expiry horizon".
    let expired = st.switches.token_expiry_secs.is_some_and(|horizon| {
        st.now().saturating_sub(token.issued) > i64::try_from(horizon).unwrap_or(i64::MAX)
    });
    if expired || token.generation != coll.generation || token.counter < coll.purged_through {
        return Err(errors::full_sync_required());
    }
    if token.hash != sync_hash {
        // PROTOCOLS.md §2 "others that differ give undefined results [doc sync guide]".
        st.violation(format!(
            "{}: syncToken used with other parameters than the full sync that issued it",
            coll.scope
        ));
    }
    Ok(token.counter)
}

/// How many items the page after `cursor` may hold.
fn page_size(max_results: usize, cursor: &Cursor, switches: &Switches) -> usize {
    let mut size = max_results.max(1);
    if let Some(cap) = switches.page_size_cap {
        size = size.min(cap.max(1));
    }
    if switches.short_pages {
        size = size.min((cursor.page_no % 3) as usize + 1);
    }
    size
}

/// One page of a round over `items` (sorted by key, already filtered): the items and the token
/// to put in the reply, `nextPageToken` or, on the last page, `nextSyncToken` (PROTOCOLS.md §2 "A
/// reply has `items` and one of `nextPageToken` / `nextSyncToken` (last page only)").
pub(crate) fn page(
    st: &State,
    mut cursor: Cursor,
    items: Vec<(String, Value)>,
    max_results: usize,
) -> (Vec<Value>, Token) {
    if cursor.empties_left > 0 {
        cursor.empties_left -= 1;
        return (Vec::new(), Token::Page(cursor.encode()));
    }
    let size = page_size(max_results, &cursor, &st.switches);
    let mut rest = items
        .into_iter()
        .filter(|(key, _)| cursor.after.is_empty() || *key > cursor.after);
    let taken: Vec<(String, Value)> = rest.by_ref().take(size).collect();
    let more = rest.next().is_some();
    if more {
        cursor.after = taken.last().map(|(k, _)| k.clone()).unwrap_or_default();
        cursor.page_no += 1;
        return (
            taken.into_iter().map(|(_, v)| v).collect(),
            Token::Page(cursor.encode()),
        );
    }
    let sync = SyncToken {
        scope: cursor.scope.clone(),
        generation: cursor.generation,
        counter: cursor.snapshot,
        hash: cursor.sync_hash,
        issued: st.now(),
    };
    (
        taken.into_iter().map(|(_, v)| v).collect(),
        Token::Sync(sync.encode()),
    )
}

/// The token a page ends with.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Token {
    Page(String),
    Sync(String),
}

impl Token {
    /// Puts `nextPageToken` or `nextSyncToken` into a reply object; `with_sync` false (an
    /// `orderBy` listing, instances) leaves out the sync token.
    pub(crate) fn insert_into(self, reply: &mut serde_json::Map<String, Value>, with_sync: bool) {
        match self {
            Token::Page(t) => {
                reply.insert("nextPageToken".into(), Value::from(t));
            }
            Token::Sync(t) if with_sync => {
                reply.insert("nextSyncToken".into(), Value::from(t));
            }
            Token::Sync(_) => {}
        }
    }
}

/// `maxResults` within `1..=max`, `default` if absent; 400 if not a positive number.
pub(crate) fn max_results(query: &Query, default: usize, max: usize) -> Result<usize, Reply> {
    match query.get("maxResults") {
        None => Ok(default),
        Some(v) => match v.parse::<usize>() {
            Ok(n) if n >= 1 => Ok(n.min(max)),
            _ => Err(errors::invalid(
                "Invalid value for maxResults.",
                Some("maxResults"),
            )),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_round_trip_and_reject_garbage() {
        let sync = SyncToken {
            scope: "events:work@example.com".into(),
            generation: 3,
            counter: 17,
            hash: 99,
            issued: 1_700_000_000,
        };
        assert_eq!(SyncToken::decode(&sync.encode()), Some(sync.clone()));
        assert_eq!(Cursor::decode(&sync.encode()), None);
        assert_eq!(SyncToken::decode("not a token"), None);
        assert_eq!(SyncToken::decode(&base64url(b"S\x1fa\x1fb")), None);
    }

    #[test]
    fn query_hash_ignores_order_and_skipped_names() {
        let a = Query::parse("a=1&b=2&pageToken=x");
        let b = Query::parse("b=2&a=1");
        assert_eq!(
            a.hash_without(&["pageToken"]),
            b.hash_without(&["pageToken"])
        );
        assert_ne!(a.hash_without(&[]), b.hash_without(&[]));
        assert_eq!(Query::parse("q=a+b%21").get("q"), Some("a b!"));
    }
}
