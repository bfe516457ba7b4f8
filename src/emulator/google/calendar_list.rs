//! `users/me/calendarList` (list with the sync-token rules of events, get) and `colors`.
//! PROTOCOLS.md §2 "Requests" and "Sync rounds" ("`calendarList`: same token rules [doc]").

use serde_json::{Map, Value, json};

use super::errors::{self, Reply};
use super::paging::{self, Collection};
use super::server::ApiRequest;
use super::state::{Calendar, State};

/// Google's calendar colour table (`colors.calendar`), ids 1–24.
const CALENDAR_COLORS: [&str; 24] = [
    "#ac725e", "#d06b64", "#f83a22", "#fa573c", "#ff7537", "#ffad46", "#42d692", "#16a765",
    "#7bd148", "#b3dc6c", "#fbe983", "#fad165", "#92e1c0", "#9fe1e7", "#9fc6e7", "#4986e7",
    "#9a9cff", "#b99aff", "#c2c2c2", "#cabdbf", "#cca6ac", "#f691b2", "#cd74e6", "#a47ae2",
];

/// Google's event colour table (`colors.event`), ids 1–11.
const EVENT_COLORS: [&str; 11] = [
    "#a4bdfc", "#7ae7bf", "#dbadff", "#ff887c", "#fbd75b", "#ffb878", "#46d6db", "#e1e1e1",
    "#5484ed", "#51b749", "#dc2127",
];

const FOREGROUND: &str = "#1d1d1d";

/// One calendarList entry; a removed calendar is `deleted: true`.
fn entry(id: &str, cal: &Calendar) -> Value {
    let color = CALENDAR_COLORS[(cal.color_id + 23) % 24];
    let mut out = json!({
        "kind": "calendar#calendarListEntry",
        "etag": cal.list_etag,
        "id": id,
        "summary": cal.summary,
        "timeZone": cal.time_zone,
        "colorId": cal.color_id.to_string(),
        "backgroundColor": color,
        "foregroundColor": FOREGROUND,
        "accessRole": cal.access_role,
        "selected": true,
        "hidden": cal.hidden,
        "defaultReminders": [],
    });
    if cal.primary {
        out["primary"] = json!(true);
    }
    if cal.deleted {
        out["deleted"] = json!(true);
    }
    out
}

/// `GET users/me/calendarList`: `maxResults` default 100, at most 250 (calendarList reference);
/// with `syncToken` only entries changed since, removed ones as `deleted: true`;
/// `minAccessRole` is forbidden with a token and `showDeleted`/`showHidden` may not be false.
pub(crate) fn list(st: &mut State, req: &ApiRequest<'_>) -> Reply {
    let max = match paging::max_results(&req.query, 100, 250) {
        Ok(n) => n,
        Err(reply) => return reply,
    };
    let coll = Collection {
        scope: "calendarList".into(),
        generation: 0,
        counter: st.list_counter,
        purged_through: 0,
        forbidden_with_sync: &["minAccessRole"],
        forced_on_with_sync: &["showDeleted", "showHidden"],
    };
    let cursor = match paging::open_round(st, &coll, &req.query) {
        Ok(c) => c,
        Err(reply) => return reply,
    };
    let show_deleted = cursor.since.is_some() || req.query.flag("showDeleted") == Some(true);
    let min_role = req.query.get("minAccessRole").map(role_rank);
    let items: Vec<(String, Value)> = st
        .calendars
        .iter()
        .filter(|(_, c)| cursor.since.is_none_or(|n| c.list_changed > n))
        .filter(|(_, c)| show_deleted || !c.deleted)
        .filter(|(_, c)| min_role.is_none_or(|r| role_rank(&c.access_role) >= r))
        .map(|(id, c)| (id.clone(), entry(id, c)))
        .collect();
    let (items, token) = paging::page(st, cursor, items, max);
    let mut body = Map::new();
    body.insert("kind".into(), json!("calendar#calendarList"));
    body.insert("etag".into(), json!(format!("\"l{}\"", st.list_counter)));
    token.insert_into(&mut body, true);
    body.insert("items".into(), Value::Array(items));
    Reply::json(200, &Value::Object(body))
}

fn role_rank(role: &str) -> u8 {
    match role {
        "owner" => 4,
        "writer" => 3,
        "reader" => 2,
        "freeBusyReader" => 1,
        _ => 0,
    }
}

/// `GET users/me/calendarList/{id}`.
pub(crate) fn get(st: &State, id: &str) -> Reply {
    let id = st.calendar_id(id);
    match st.calendar(&id) {
        Some(cal) => Reply::json(200, &entry(&id, cal)),
        None => errors::not_found(),
    }
}

/// `GET colors`: the calendar and event colour tables.
pub(crate) fn colors() -> Reply {
    let table = |colors: &[&str]| -> Value {
        let map: Map<String, Value> = colors
            .iter()
            .enumerate()
            .map(|(i, c)| {
                (
                    (i + 1).to_string(),
                    json!({"background": c, "foreground": FOREGROUND}),
                )
            })
            .collect();
        Value::Object(map)
    };
    Reply::json(
        200,
        &json!({
            "kind": "calendar#colors",
            "updated": "2012-02-14T00:00:00.000Z",
            "calendar": table(&CALENDAR_COLORS),
            "event": table(&EVENT_COLORS),
        }),
    )
}
