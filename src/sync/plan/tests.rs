use super::*;

const BASE: &str =
    "BEGIN:VCALENDAR\r\nBEGIN:VEVENT\r\nUID:u1\r\nSUMMARY:Lunch\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n";
const MINE: &str = "BEGIN:VCALENDAR\r\nBEGIN:VEVENT\r\nUID:u1\r\nSUMMARY:Dinner\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n";
const THEIRS: &str = "BEGIN:VCALENDAR\r\nBEGIN:VEVENT\r\nUID:u1\r\nSUMMARY:Brunch\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n";
const STRANGER: &str =
    "BEGIN:VCALENDAR\r\nBEGIN:VEVENT\r\nUID:other\r\nSUMMARY:X\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n";

fn change(op: PendingOp) -> PendingChange {
    PendingChange {
        id: 1,
        calendar: 1,
        item: Some(1),
        href: "/c/u1.ics".into(),
        uid: "u1".into(),
        op,
        base_etag: (op != PendingOp::Create).then(|| "\"1\"".into()),
        raw: (op != PendingOp::Delete).then(|| MINE.into()),
        cached_etag: None,
        cached_raw: None,
        base_raw: (op != PendingOp::Create).then(|| BASE.into()),
        sent_raw: None,
    }
}

fn item(etag: &str, raw: &str) -> ServerCopy {
    ServerCopy::Item {
        etag: Some(etag.into()),
        raw: raw.into(),
    }
}

#[test]
fn write_outcomes_map_to_one_next_step_each() {
    let done = WriteOutcome::Done {
        id: None,
        etag: Some("\"2\"".into()),
        stored: None,
    };
    assert_eq!(
        after_write(PendingOp::Update, done),
        AfterWrite::Settle {
            id: None,
            etag: Some("\"2\"".into()),
            stored: None,
        }
    );
    assert_eq!(
        after_write(PendingOp::Delete, WriteOutcome::Gone),
        AfterWrite::Done
    );
    assert_eq!(
        after_write(PendingOp::Update, WriteOutcome::Gone),
        AfterWrite::FetchCopy
    );
    assert_eq!(
        after_write(PendingOp::Create, WriteOutcome::Changed),
        AfterWrite::FetchCopy
    );
    let refused = |for_good| WriteOutcome::Refused {
        for_good,
        reason: "no".into(),
    };
    assert_eq!(
        after_write(PendingOp::Update, refused(false)),
        AfterWrite::Retry {
            reason: "no".into()
        }
    );
    assert_eq!(
        after_write(PendingOp::Update, refused(true)),
        AfterWrite::Hold {
            reason: "no".into()
        }
    );
}

#[test]
fn another_clients_copy_is_a_conflict_and_our_own_is_adopted() {
    let update = change(PendingOp::Update);
    assert_eq!(
        after_refusal(&update, item("\"2\"", THEIRS), Format::ICalendar),
        AfterRefusal::Conflict {
            etag: Some("\"2\"".into()),
            raw: Some(THEIRS.into())
        }
    );
    assert_eq!(
        after_refusal(&update, item("\"2\"", MINE), Format::ICalendar),
        AfterRefusal::Adopt {
            etag: Some("\"2\"".into()),
            raw: MINE.into()
        }
    );
    // The base itself, refused anyway: once more without a condition.
    assert_eq!(
        after_refusal(&update, item("\"1\"", BASE), Format::ICalendar),
        AfterRefusal::WriteUnconditioned
    );
    assert_eq!(
        after_refusal(&update, ServerCopy::Gone, Format::ICalendar),
        AfterRefusal::Conflict {
            etag: None,
            raw: None
        }
    );
}

#[test]
fn a_lost_write_with_an_edit_folded_in_is_rebased_not_a_conflict() {
    let mut update = change(PendingOp::Update);
    update.sent_raw = Some(MINE.into());
    update.raw = Some(MINE.replace("Dinner", "Supper"));
    assert_eq!(
        after_refusal(&update, item("\"2\"", MINE), Format::ICalendar),
        AfterRefusal::Rebase {
            etag: Some("\"2\"".into()),
            raw: MINE.into()
        }
    );
}

#[test]
fn creates_and_deletes_meeting_the_server() {
    let create = change(PendingOp::Create);
    assert_eq!(
        after_refusal(&create, item("\"9\"", STRANGER), Format::ICalendar),
        AfterRefusal::MoveToFreshId
    );
    assert!(matches!(
        after_refusal(&create, item("\"9\"", THEIRS), Format::ICalendar),
        AfterRefusal::Conflict { .. }
    ));
    assert!(matches!(
        after_refusal(&create, ServerCopy::Gone, Format::ICalendar),
        AfterRefusal::Retry { .. }
    ));
    let delete = change(PendingOp::Delete);
    assert_eq!(
        after_refusal(&delete, ServerCopy::Gone, Format::ICalendar),
        AfterRefusal::AlreadyGone
    );
    assert!(matches!(
        after_refusal(&delete, item("\"2\"", THEIRS), Format::ICalendar),
        AfterRefusal::Conflict { .. }
    ));
}

#[test]
fn a_google_etag_that_moved_with_nothing_visible_is_rebased_silently() {
    let base = r#"[{"id":"e1","etag":"\"1\"","summary":"Lunch","attendees":[{"email":"a@x","responseStatus":"needsAction"}]}]"#;
    let replied = r#"[{"id":"e1","etag":"\"2\"","summary":"Lunch","attendees":[{"email":"a@x","responseStatus":"accepted"}]}]"#;
    let moved =
        r#"[{"id":"e1","etag":"\"3\"","summary":"Lunch at 2","attendees":[{"email":"a@x"}]}]"#;
    let mut update = change(PendingOp::Update);
    update.base_raw = Some(base.into());
    update.raw = Some(base.replace("Lunch", "Dinner"));
    assert_eq!(
        after_refusal(&update, item("\"2\"", replied), Format::GoogleJson),
        AfterRefusal::Rebase {
            etag: Some("\"2\"".into()),
            raw: replied.into()
        }
    );
    assert!(matches!(
        after_refusal(&update, item("\"3\"", moved), Format::GoogleJson),
        AfterRefusal::Conflict { .. }
    ));
    // CalDAV etags move with the data: never judged so.
    assert!(!own_write::same_for_the_person(
        Format::ICalendar,
        BASE,
        BASE
    ));
}

#[test]
fn a_full_listing_fetches_what_moved_and_removes_what_it_does_not_name() {
    let cache: HashMap<ItemId, Option<String>> = [
        ("a".to_string(), Some("1".to_string())),
        ("b".to_string(), Some("2".to_string())),
        ("gone".to_string(), Some("3".to_string())),
    ]
    .into();
    let listed = vec![
        ("a".to_string(), Some("1".to_string())),
        ("b".to_string(), Some("2b".to_string())),
        ("c".to_string(), Some("4".to_string())),
        ("d".to_string(), None),
    ];
    let r = reconcile(&listed, &cache);
    assert_eq!(r.fetch, vec!["b", "c", "d"]);
    assert_eq!(r.remove, vec!["gone"]);
}
