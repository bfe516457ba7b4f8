//! Is the server's copy our own write? After a refused write (a 412, or a create meeting an
//! existing resource) the server's copy may be a write of ours whose reply was lost to a crash or a
//! cut. It must never be taken for ours because another client wrote stamps we also wrote: two
//! clients editing one event in the same second send the same UID, RECURRENCE-ID, SEQUENCE and
//! DTSTAMP.
//!
//! So the test is on content: the server's copy holds our change when every property line we sent
//! is in it, and every line our change removed from the version it was based on is gone from it.
//! Lines are compared after the rewriting servers are known to do (folding, line endings, case of
//! names, parameter order and quoting, TEXT escaping), and the stamps servers rewrite on store
//! (DTSTAMP, LAST-MODIFIED, SEQUENCE) are left out. Adopting such a copy loses nothing of ours;
//! anything else is a conflict that keeps both sides.

use std::collections::HashMap;

use crate::domain::ical::{self, Component, Property};

/// Properties servers set or bump on store: they tell nothing about whose write a copy is.
const STAMPS: &[&str] = &["DTSTAMP", "LAST-MODIFIED", "SEQUENCE"];

/// A property line in a form that survives the rewriting servers do.
type Line = String;

/// Whether `theirs` (the server's copy) already holds the change `sent`, made on `base` (the copy
/// the change started from; `None` for a create).
pub fn holds_our_change(sent: &str, base: Option<&str>, theirs: &str) -> bool {
    if sent == theirs {
        return true;
    }
    let ours = lines(sent);
    if ours.is_empty() {
        // Nothing we can read: only the exact text would do, and it did not match.
        return false;
    }
    let theirs = lines(theirs);
    let removed = match base {
        Some(base) => difference(&lines(base), &ours),
        None => HashMap::new(),
    };
    ours.iter()
        .all(|(line, n)| theirs.get(line).is_some_and(|m| m >= n))
        && removed.keys().all(|line| !theirs.contains_key(line))
}

/// Every event component's property lines, as a multiset. Each line is prefixed with the event it
/// belongs to (UID and RECURRENCE-ID) and the path of nested components (the first VALARM's lines,
/// the second's …).
fn lines(raw: &str) -> HashMap<Line, usize> {
    let doc = ical::parse(raw);
    let mut out = HashMap::new();
    for cal in doc.components.iter().filter(|c| c.name == "VCALENDAR") {
        for event in cal.children.iter().filter(|c| c.name == "VEVENT") {
            let key = format!(
                "{}|{}",
                event.property("UID").map(value).unwrap_or_default(),
                event
                    .property("RECURRENCE-ID")
                    .map(value)
                    .unwrap_or_default()
            );
            add_component(&mut out, &key, event);
        }
    }
    out
}

/// Adds a component's lines and its children's, walking with an explicit stack (the depth of the
/// data must not decide the depth of our recursion).
fn add_component(out: &mut HashMap<Line, usize>, key: &str, top: &Component) {
    let mut stack: Vec<(String, &Component)> = vec![(key.to_string(), top)];
    while let Some((path, c)) = stack.pop() {
        for p in c.properties.iter().filter(|p| !STAMPS.contains(&&*p.name)) {
            *out.entry(format!("{path}|{}", normal(p))).or_insert(0) += 1;
        }
        // Each child by its place: two alarms that swapped a trigger are a change.
        for (i, child) in c.children.iter().enumerate() {
            stack.push((format!("{path}/{}#{i}", child.name), child));
        }
    }
}

/// `NAME;A=x;B=y:value` with parameters sorted, their values unquoted, `VALUE=DATE-TIME` (the
/// default) dropped, and the value's TEXT escapes resolved.
fn normal(p: &Property) -> String {
    let mut params: Vec<(String, String)> = p
        .params
        .iter()
        .filter(|(n, v)| !(n == "VALUE" && v.eq_ignore_ascii_case("DATE-TIME")))
        .map(|(n, v)| (n.to_ascii_uppercase(), v.trim_matches('"').to_string()))
        .collect();
    params.sort();
    let mut s = p.name.to_ascii_uppercase();
    for (n, v) in params {
        s.push(';');
        s.push_str(&n);
        s.push('=');
        s.push_str(&v);
    }
    s.push(':');
    s.push_str(&value(p));
    s
}

fn value(p: &Property) -> String {
    ical::unescape_text(p.value.trim())
}

/// What `a` has more of than `b`.
fn difference(a: &HashMap<Line, usize>, b: &HashMap<Line, usize>) -> HashMap<Line, usize> {
    a.iter()
        .filter_map(|(line, n)| {
            let m = b.get(line).copied().unwrap_or(0);
            (*n > m).then(|| (line.clone(), n - m))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    const BASE: &str = "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nBEGIN:VEVENT\r\nUID:a\r\nSEQUENCE:2\r\nDTSTAMP:20261123T090000Z\r\nSUMMARY:Base\r\nLOCATION:Room 1\r\nDTSTART:20261124T100000Z\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n";

    fn edit(from: &str, to: &str) -> String {
        BASE.replace("SEQUENCE:2", "SEQUENCE:3")
            .replace("DTSTAMP:20261123T090000Z", "DTSTAMP:20261123T100000Z")
            .replace(from, to)
    }

    #[test]
    fn another_clients_edit_in_the_same_second_is_not_ours() {
        // Same UID, SEQUENCE and DTSTAMP: only the content tells them apart.
        let mine = edit("SUMMARY:Base", "SUMMARY:Base\r\nDESCRIPTION:A");
        let theirs = edit("SUMMARY:Base", "SUMMARY:Base\r\nDESCRIPTION:B");
        assert!(!holds_our_change(&mine, Some(BASE), &theirs));
        // Theirs changed another field: our description is missing from it.
        let theirs = edit("LOCATION:Room 1", "LOCATION:Room 2");
        assert!(!holds_our_change(&mine, Some(BASE), &theirs));
    }

    #[test]
    fn a_removal_of_ours_missing_from_their_copy_is_not_ours() {
        let mine = edit("LOCATION:Room 1\r\n", "");
        // They only added a line: every line of ours is there, but our removal is not.
        let theirs = edit("SUMMARY:Base", "SUMMARY:Base\r\nCATEGORIES:x");
        assert!(!holds_our_change(&mine, Some(BASE), &theirs));
    }

    #[test]
    fn our_write_is_recognised_despite_what_servers_do_on_store() {
        let mine = edit("SUMMARY:Base", "SUMMARY:Base\\, again;x");
        let stored = mine
            .replace("\r\n", "\n")
            .replace(
                "SUMMARY:Base\\, again;x",
                "summary:Base\\, again\\;x\nX-SERVER:added",
            )
            .replace("DTSTAMP:20261123T100000Z", "DTSTAMP:20261123T100001Z")
            .replace("SEQUENCE:3", "SEQUENCE:4");
        assert!(holds_our_change(&mine, Some(BASE), &stored));
        assert!(holds_our_change(&mine, None, &mine));
        assert!(!holds_our_change(&mine, Some(BASE), "garbage"));
        assert!(!holds_our_change("garbage", None, BASE));
    }

    #[test]
    fn alarms_that_swapped_their_triggers_are_not_ours() {
        let alarms = |a: &str, b: &str| {
            BASE.replace(
                "END:VEVENT",
                &format!(
                    "BEGIN:VALARM\r\nACTION:DISPLAY\r\nTRIGGER:{a}\r\nEND:VALARM\r\n\
                     BEGIN:VALARM\r\nACTION:AUDIO\r\nTRIGGER:{b}\r\nEND:VALARM\r\nEND:VEVENT"
                ),
            )
        };
        let mine = alarms("-PT15M", "-PT5M");
        let theirs = alarms("-PT5M", "-PT15M");
        assert!(!holds_our_change(&mine, Some(BASE), &theirs));
        assert!(holds_our_change(&mine, Some(BASE), &mine));
    }

    #[test]
    fn another_clients_edit_of_one_instance_is_not_ours() {
        let over = |rid: &str, summary: &str| {
            format!(
                "BEGIN:VEVENT\r\nUID:a\r\nRECURRENCE-ID:{rid}\r\nSEQUENCE:1\r\nDTSTAMP:20261123T120000Z\r\nSUMMARY:{summary}\r\nEND:VEVENT\r\n"
            )
        };
        let cal = |body: &str| BASE.replace("END:VCALENDAR", &format!("{body}END:VCALENDAR"));
        let mine = cal(&over("20261124T100000Z", "x"));
        let theirs = cal(&over("20261126T100000Z", "x"));
        assert!(!holds_our_change(&mine, Some(BASE), &theirs));
    }
}
