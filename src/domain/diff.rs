//! A field-by-field comparison of two versions of an event, for the conflict pane and
//! `almanac conflicts`: summary, time, location, description, recurrence, then any other property.

use serde::Serialize;

use super::ical::{self, Component, Property};

/// One field that differs between two versions.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct FieldDiff {
    /// `summary`, `start`, `end`, `location`, `description`, `recurrence`, or a property name.
    pub field: String,
    /// The value on the first side (`None`: absent).
    pub local: Option<String>,
    pub remote: Option<String>,
}

/// Properties every edit changes; they say nothing about what the person changed.
const BOOKKEEPING: &[&str] = &["DTSTAMP", "SEQUENCE", "LAST-MODIFIED", "CREATED", "PRODID"];

/// The named fields, in the order they are shown, and the properties each covers.
const FIELDS: &[(&str, &[&str])] = &[
    ("summary", &["SUMMARY"]),
    ("start", &["DTSTART"]),
    ("end", &["DTEND", "DURATION"]),
    ("location", &["LOCATION"]),
    ("description", &["DESCRIPTION"]),
    ("recurrence", &["RRULE", "RDATE", "EXDATE"]),
];

/// The master VEVENT (no RECURRENCE-ID), else the first one.
fn master(doc: &ical::Document) -> Option<&Component> {
    let cal = doc.components.iter().find(|c| c.name == "VCALENDAR")?;
    let events: Vec<&Component> = cal.children.iter().filter(|c| c.name == "VEVENT").collect();
    events
        .iter()
        .find(|e| e.property("RECURRENCE-ID").is_none())
        .or(events.first())
        .copied()
}

/// A property as a person reads it: parameters that matter for times, then the value unescaped.
fn shown(p: &Property) -> String {
    let zone = p
        .param("TZID")
        .map(|z| format!(" ({z})"))
        .unwrap_or_default();
    format!("{}{zone}", p.text())
}

fn values(ev: Option<&Component>, names: &[&str]) -> Option<String> {
    let ev = ev?;
    let parts: Vec<String> = names
        .iter()
        .flat_map(|n| ev.properties_named(n).map(move |p| (n, p)))
        .map(|(n, p)| {
            if names.len() > 1 {
                format!("{n}:{}", shown(p))
            } else {
                shown(p)
            }
        })
        .collect();
    (!parts.is_empty()).then(|| parts.join("; "))
}

/// The fields in which `local` and `remote` differ. `None` on a side means the event is deleted
/// there: every field of the other side is listed. Overrides of single instances count as
/// "instances".
pub fn diff(local: Option<&str>, remote: Option<&str>) -> Vec<FieldDiff> {
    let l = local.map(|raw| ical::parse(&super::format::as_ical(raw)));
    let r = remote.map(|raw| ical::parse(&super::format::as_ical(raw)));
    let lm = l.as_ref().and_then(master);
    let rm = r.as_ref().and_then(master);
    let mut out = Vec::new();
    for (field, names) in FIELDS {
        let (a, b) = (values(lm, names), values(rm, names));
        if a != b {
            out.push(FieldDiff {
                field: field.to_string(),
                local: a,
                remote: b,
            });
        }
    }
    let known: Vec<&str> = FIELDS
        .iter()
        .flat_map(|(_, n)| n.iter().copied())
        .chain(BOOKKEEPING.iter().copied())
        .chain(["UID", "RECURRENCE-ID"])
        .collect();
    let mut others: Vec<String> = Vec::new();
    for ev in [lm, rm].into_iter().flatten() {
        for p in &ev.properties {
            if !known.contains(&p.name.as_str()) && !others.contains(&p.name) {
                others.push(p.name.clone());
            }
        }
    }
    for name in others {
        let (a, b) = (values(lm, &[&name]), values(rm, &[&name]));
        if a != b {
            out.push(FieldDiff {
                field: name.to_ascii_lowercase(),
                local: a,
                remote: b,
            });
        }
    }
    let instances = |d: &Option<ical::Document>| -> Option<String> {
        let cal = d
            .as_ref()?
            .components
            .iter()
            .find(|c| c.name == "VCALENDAR")?;
        let ids: Vec<String> = cal
            .children
            .iter()
            .filter(|c| c.name == "VEVENT")
            .filter_map(|c| c.property("RECURRENCE-ID").map(shown))
            .collect();
        (!ids.is_empty()).then(|| ids.join(", "))
    };
    let alarms = |ev: Option<&Component>| -> Option<String> {
        let n = ev?.children.iter().filter(|c| c.name == "VALARM").count();
        (n > 0).then(|| format!("{n} alarm(s)"))
    };
    for (field, a, b) in [
        ("instances", instances(&l), instances(&r)),
        ("alarms", alarms(lm), alarms(rm)),
    ] {
        if a != b {
            out.push(FieldDiff {
                field: field.into(),
                local: a,
                remote: b,
            });
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ev(body: &str) -> String {
        format!(
            "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nBEGIN:VEVENT\r\nUID:u\r\nDTSTAMP:20260101T000000Z\r\n{body}END:VEVENT\r\nEND:VCALENDAR\r\n"
        )
    }

    #[test]
    fn only_the_fields_that_differ_are_listed_in_order() {
        let a = ev(
            "SUMMARY:Lunch\r\nDTSTART;TZID=Europe/Berlin:20261124T120000\r\nLOCATION:Cafe\r\nX-FOO:1\r\n",
        );
        let b = ev(
            "SUMMARY:Lunch\r\nDTSTART;TZID=Europe/Berlin:20261124T130000\r\nSEQUENCE:4\r\nX-FOO:2\r\n",
        );
        let d = diff(Some(&a), Some(&b));
        let fields: Vec<&str> = d.iter().map(|f| f.field.as_str()).collect();
        assert_eq!(fields, ["start", "location", "x-foo"]);
        assert_eq!(
            d[0].remote.as_deref(),
            Some("20261124T130000 (Europe/Berlin)")
        );
        assert_eq!(d[1].local.as_deref(), Some("Cafe"));
        assert_eq!(d[1].remote, None);
    }

    #[test]
    fn a_deleted_side_lists_every_field_of_the_other() {
        let a = ev("SUMMARY:Gone\r\nDTSTART:20261124T120000Z\r\n");
        let d = diff(Some(&a), None);
        assert!(d.iter().any(|f| f.field == "summary" && f.remote.is_none()));
        assert!(d.iter().any(|f| f.field == "start"));
        assert!(diff(Some(&a), Some(&a)).is_empty());
    }
}
