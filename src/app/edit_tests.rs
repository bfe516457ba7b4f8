//! Editing and conflicts through `update`: keys in, edit requests and resolutions out.

use chrono::{Duration, NaiveDate};
use chrono_tz::Tz;
use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};

use super::form::Field;
use super::tests::{at, d, key, loaded, occ};
use super::update::{Command, Msg, update};
use super::{Mode, Model};
use crate::domain::edit::{Changes, NewEvent};
use crate::domain::tz::Zone;
use crate::domain::{EventDetail, EventTime};
use crate::edit::EditRequest;
use crate::store::{Conflict, Keep, PendingOp};
use crate::sync::SyncEvent;

fn press(m: &mut Model, code: KeyCode) -> Vec<Command> {
    update(m, key(code))
}

fn typed(m: &mut Model, text: &str) {
    for c in text.chars() {
        assert!(press(m, KeyCode::Char(c)).is_empty());
    }
}

/// Clears the focused field and types `text`.
fn retype(m: &mut Model, text: &str) {
    for _ in 0..20 {
        press(m, KeyCode::Backspace);
    }
    typed(m, text);
}

fn utc(day: NaiveDate, h: u32, min: u32) -> EventTime {
    EventTime::Zoned {
        local: day.and_hms_opt(h, min, 0).unwrap(),
        tzid: "UTC".into(),
        zone: Some(Zone::Iana(Tz::UTC)),
    }
}

fn detail(item_id: i64, rrule: Option<&str>) -> EventDetail {
    EventDetail {
        item_id,
        rrule: rrule.map(str::to_string),
        ..EventDetail::default()
    }
}

fn form_error(m: &Model) -> Option<(Field, String)> {
    match &m.mode {
        Mode::Form(f) => f.error.clone().map(|e| (f.focus, e)),
        other => panic!("the form is open: {other:?}"),
    }
}

#[test]
fn a_typed_event_is_staged_as_a_create_on_the_selected_day() {
    let mut m = loaded(vec![]);
    assert!(press(&mut m, KeyCode::Char('a')).is_empty());
    typed(&mut m, "Dentist");
    press(&mut m, KeyCode::Tab); // date: the selected day
    press(&mut m, KeyCode::Tab);
    retype(&mut m, "14:30");
    press(&mut m, KeyCode::Tab);
    retype(&mut m, "15:15");
    press(&mut m, KeyCode::Tab); // all day
    press(&mut m, KeyCode::Tab);
    typed(&mut m, "Main St 4");
    press(&mut m, KeyCode::Tab); // description
    press(&mut m, KeyCode::Tab); // repeat (one calendar: nothing to choose)
    press(&mut m, KeyCode::Right);
    press(&mut m, KeyCode::Right);
    let cmds = press(&mut m, KeyCode::Enter);
    let day = d(2026, 11, 23);
    assert_eq!(
        cmds,
        vec![Command::Stage(EditRequest::Create {
            calendar: 1,
            event: NewEvent {
                summary: "Dentist".into(),
                start: utc(day, 14, 30),
                end: utc(day, 15, 15),
                location: Some("Main St 4".into()),
                description: None,
                rrule: Some("FREQ=WEEKLY".into()),
            },
        })]
    );
    assert_eq!(m.mode, Mode::Month);
}

#[test]
fn an_all_day_event_ends_the_next_day_exclusive() {
    let mut m = loaded(vec![]);
    press(&mut m, KeyCode::Right);
    press(&mut m, KeyCode::Char('a'));
    typed(&mut m, "Holiday");
    for _ in 0..4 {
        press(&mut m, KeyCode::Tab);
    }
    press(&mut m, KeyCode::Char(' '));
    let ctrl_s = Msg::Key(KeyEvent::new(KeyCode::Char('s'), KeyModifiers::CONTROL));
    let cmds = update(&mut m, ctrl_s);
    let Some(Command::Stage(EditRequest::Create { event, .. })) = cmds.first() else {
        panic!("a create: {cmds:?}")
    };
    assert_eq!(event.start, EventTime::Date(d(2026, 11, 24)));
    assert_eq!(event.end, EventTime::Date(d(2026, 11, 25)));
}

#[test]
fn a_bad_time_an_end_before_the_start_or_no_summary_stay_in_the_form() {
    let mut m = loaded(vec![]);
    press(&mut m, KeyCode::Char('a'));
    assert!(press(&mut m, KeyCode::Enter).is_empty());
    assert_eq!(
        form_error(&m),
        Some((Field::Summary, "the summary is empty".into()))
    );
    typed(&mut m, "Call");
    press(&mut m, KeyCode::Tab);
    press(&mut m, KeyCode::Tab);
    retype(&mut m, "25:00");
    assert!(press(&mut m, KeyCode::Enter).is_empty());
    assert_eq!(
        form_error(&m),
        Some((Field::Start, "start: '25:00' is not a time (HH:MM)".into()))
    );
    retype(&mut m, "11:00");
    assert!(press(&mut m, KeyCode::Enter).is_empty());
    assert_eq!(
        form_error(&m),
        Some((Field::End, "the end is before the start".into()))
    );
    press(&mut m, KeyCode::BackTab);
    press(&mut m, KeyCode::BackTab);
    retype(&mut m, "2026-02-30");
    assert!(press(&mut m, KeyCode::Enter).is_empty());
    assert!(form_error(&m).is_some_and(|(f, _)| f == Field::Date));
    assert!(press(&mut m, KeyCode::Esc).is_empty());
    assert_eq!(m.mode, Mode::Month);
}

#[test]
fn editing_one_occurrence_of_a_series_sends_only_the_changed_field() {
    let day = d(2026, 11, 23);
    let rid = at(day, 9);
    let mut standup = occ("standup", at(day, 9), at(day, 10));
    standup.event_id = 7;
    standup.recurrence_id = Some(rid);
    let mut m = loaded(vec![standup]);
    assert_eq!(
        press(&mut m, KeyCode::Char('e')),
        vec![Command::LoadDetail { event_id: 7 }]
    );
    let answer = Msg::DetailLoaded {
        event_id: 7,
        detail: Some(detail(42, Some("FREQ=DAILY"))),
    };
    assert!(update(&mut m, answer).is_empty());
    assert!(matches!(m.mode, Mode::Scope(_)), "{:?}", m.mode);
    assert!(press(&mut m, KeyCode::Char('o')).is_empty());
    typed(&mut m, " (moved)");
    assert_eq!(
        press(&mut m, KeyCode::Enter),
        vec![Command::Stage(EditRequest::Change {
            item: 42,
            uid: "standup".into(),
            occurrence: Some(rid),
            changes: Changes {
                summary: Some("standup (moved)".into()),
                ..Changes::default()
            },
            seen_etag: None,
        })]
    );
}

#[test]
fn editing_a_single_event_sends_new_times_and_a_cleared_location() {
    let day = d(2026, 11, 23);
    let mut lunch = occ("lunch", at(day, 12), at(day, 13));
    lunch.location = "Cafe".into();
    let mut m = loaded(vec![lunch]);
    press(&mut m, KeyCode::Char('e'));
    update(
        &mut m,
        Msg::DetailLoaded {
            event_id: 1,
            detail: Some(detail(3, None)),
        },
    );
    assert!(matches!(m.mode, Mode::Form(_)), "no scope prompt");
    press(&mut m, KeyCode::Down);
    press(&mut m, KeyCode::Down);
    press(&mut m, KeyCode::Down);
    retype(&mut m, "13:30");
    press(&mut m, KeyCode::Down);
    press(&mut m, KeyCode::Down);
    retype(&mut m, "");
    let cmds = press(&mut m, KeyCode::Enter);
    assert_eq!(
        cmds,
        vec![Command::Stage(EditRequest::Change {
            item: 3,
            uid: "lunch".into(),
            occurrence: None,
            changes: Changes {
                end: Some(utc(day, 13, 30)),
                location: Some(String::new()),
                ..Changes::default()
            },
            seen_etag: None,
        })]
    );
}

#[test]
fn delete_asks_first_and_y_stages_it() {
    let day = d(2026, 11, 23);
    let mut m = loaded(vec![occ("gym", at(day, 18), at(day, 19))]);
    let loaded = |m: &mut Model| {
        update(
            m,
            Msg::DetailLoaded {
                event_id: 1,
                detail: Some(detail(5, None)),
            },
        )
    };
    loaded(&mut m);
    assert_eq!(
        press(&mut m, KeyCode::Char('d')),
        vec![Command::LoadDetail { event_id: 1 }],
        "the detail is read afresh, known or not"
    );
    assert!(loaded(&mut m).is_empty());
    assert!(matches!(m.mode, Mode::ConfirmDelete(_)));
    assert!(press(&mut m, KeyCode::Char('n')).is_empty());
    assert_eq!(m.mode, Mode::Month);
    press(&mut m, KeyCode::Char('d'));
    loaded(&mut m);
    assert_eq!(
        press(&mut m, KeyCode::Char('y')),
        vec![Command::Stage(EditRequest::Delete {
            item: 5,
            uid: "gym".into(),
            occurrence: None,
            seen_etag: None,
        })]
    );
}

#[test]
fn deleting_a_whole_series_asks_the_scope_then_confirms() {
    let day = d(2026, 11, 23);
    let mut m = loaded(vec![occ("yoga", at(day, 7), at(day, 8))]);
    press(&mut m, KeyCode::Char('d'));
    update(
        &mut m,
        Msg::DetailLoaded {
            event_id: 1,
            detail: Some(detail(8, Some("FREQ=WEEKLY"))),
        },
    );
    press(&mut m, KeyCode::Char('s'));
    assert_eq!(
        press(&mut m, KeyCode::Char('y')),
        vec![Command::Stage(EditRequest::Delete {
            item: 8,
            uid: "yoga".into(),
            occurrence: None,
            seen_etag: None,
        })]
    );
}

#[test]
fn capital_e_hands_the_raw_text_to_the_editor() {
    let day = d(2026, 11, 23);
    let mut m = loaded(vec![occ("gym", at(day, 18), at(day, 19))]);
    press(&mut m, KeyCode::Char('E'));
    let mut text = detail(5, None);
    text.raw = "BEGIN:VCALENDAR\r\nEND:VCALENDAR\r\n".into();
    text.etag = Some("\"7\"".into());
    let cmds = update(
        &mut m,
        Msg::DetailLoaded {
            event_id: 1,
            detail: Some(text),
        },
    );
    assert_eq!(
        cmds,
        vec![Command::ExternalEdit {
            item: 5,
            calendar: 1,
            raw: "BEGIN:VCALENDAR\r\nEND:VCALENDAR\r\n".into(),
            seen_etag: Some("\"7\"".into()),
        }]
    );
}

#[test]
fn esc_cancels_every_prompt_without_commands() {
    let day = d(2026, 11, 23);
    let mut m = loaded(vec![occ("yoga", at(day, 7), at(day, 8))]);
    let loaded = |m: &mut Model| {
        update(
            m,
            Msg::DetailLoaded {
                event_id: 1,
                detail: Some(detail(8, Some("FREQ=WEEKLY"))),
            },
        )
    };
    for opener in ['a', 'e', 'd', 'c'] {
        press(&mut m, KeyCode::Char(opener));
        if matches!(opener, 'e' | 'd') {
            loaded(&mut m);
        }
        assert_ne!(m.mode, Mode::Month, "{opener} opens something");
        assert!(press(&mut m, KeyCode::Esc).is_empty(), "{opener}");
        assert_eq!(m.mode, Mode::Month, "{opener}");
    }
    press(&mut m, KeyCode::Char('d'));
    loaded(&mut m);
    press(&mut m, KeyCode::Char('o'));
    assert!(matches!(m.mode, Mode::ConfirmDelete(_)));
    assert!(press(&mut m, KeyCode::Esc).is_empty());
    assert_eq!(m.mode, Mode::Month);
}

fn conflict(id: i64, remote: Option<&str>) -> Conflict {
    let ics = |summary: &str| {
        format!(
            "BEGIN:VCALENDAR\r\nBEGIN:VEVENT\r\nUID:u{id}\r\nDTSTART:20261123T090000Z\r\nSUMMARY:{summary}\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n"
        )
    };
    Conflict {
        id,
        calendar_id: 1,
        calendar: "work\u{1b}[31m".into(),
        href: format!("/cal/u{id}.ics"),
        uid: Some(format!("u{id}")),
        op: PendingOp::Update,
        found_at: 0,
        base_etag: Some("\"1\"".into()),
        base_raw: Some(ics("Base")),
        local_raw: Some(ics("Mine")),
        remote_etag: remote.map(|_| "\"2\"".to_string()),
        remote_raw: remote.map(ics),
        reason: None,
    }
}

#[test]
fn the_conflict_pane_loads_and_m_t_b_resolve_the_selected_one() {
    let mut m = loaded(vec![]);
    assert_eq!(
        press(&mut m, KeyCode::Char('c')),
        vec![Command::LoadConflicts]
    );
    update(
        &mut m,
        Msg::ConflictsLoaded(vec![conflict(5, Some("Theirs")), conflict(9, None)]),
    );
    let rows = &m.conflicts.rows;
    assert_eq!(rows[0].calendar, "work[31m", "sanitized");
    assert_eq!(rows[0].summary, "Mine");
    assert!(rows[1].remote_deleted);
    press(&mut m, KeyCode::Char('j'));
    for (k, keep) in [('m', Keep::Local), ('t', Keep::Remote), ('b', Keep::Both)] {
        assert_eq!(
            press(&mut m, KeyCode::Char(k)),
            vec![Command::Resolve { conflict: 9, keep }]
        );
    }
    let (from, to) = m.requested.unwrap();
    assert_eq!(
        update(&mut m, Msg::Resolved(Ok("kept mine".into()))),
        vec![Command::LoadConflicts, Command::Load { from, to }]
    );
    let pushed = SyncEvent::Pushed {
        calendar: 1,
        pushed: 1,
        conflicts: 0,
    };
    assert!(update(&mut m, Msg::Sync(pushed)).contains(&Command::LoadConflicts));
    press(&mut m, KeyCode::Char('c'));
    assert_eq!(m.mode, Mode::Month);
}

#[test]
fn a_staged_edit_reloads_the_window_and_a_refused_one_says_why() {
    let mut m = loaded(vec![]);
    let (from, to) = m.requested.unwrap();
    assert_eq!(
        update(&mut m, Msg::Staged(Ok("saved; pushing…".into()))),
        vec![Command::Load { from, to }]
    );
    assert_eq!(m.status.as_ref().unwrap().text, "saved; pushing…");
    let refused = Msg::Staged(Err("line 4: DTSTART is not a date-time".into()));
    assert!(update(&mut m, refused).is_empty());
    let status = m.status.clone().unwrap();
    assert!(status.error && status.text.contains("line 4"), "{status:?}");
}

#[test]
fn an_overnight_event_keeps_its_length_when_edited() {
    let day = d(2026, 11, 23);
    let night = occ("night", at(day, 22), at(day + Duration::days(1), 6));
    let mut m = loaded(vec![night]);
    press(&mut m, KeyCode::Char('e'));
    update(
        &mut m,
        Msg::DetailLoaded {
            event_id: 1,
            detail: Some(detail(2, None)),
        },
    );
    press(&mut m, KeyCode::Tab);
    press(&mut m, KeyCode::Tab);
    retype(&mut m, "21:00");
    let cmds = press(&mut m, KeyCode::Enter);
    let Some(Command::Stage(EditRequest::Change { changes, .. })) = cmds.first() else {
        panic!("a change: {cmds:?}")
    };
    assert_eq!(changes.start, Some(utc(day, 21, 0)));
    assert_eq!(changes.end, None, "the end did not change");
}

#[test]
fn an_edit_is_based_on_the_server_version_shown_unless_a_local_change_already_waits() {
    let day = d(2026, 11, 23);
    for (pending, expected) in [(None, Some("\"7\"".to_string())), (Some("update"), None)] {
        let mut m = loaded(vec![occ("gym", at(day, 18), at(day, 19))]);
        press(&mut m, KeyCode::Char('e'));
        let mut shown = detail(5, None);
        shown.etag = Some("\"7\"".into());
        shown.pending_op = pending.map(str::to_string);
        update(
            &mut m,
            Msg::DetailLoaded {
                event_id: 1,
                detail: Some(shown),
            },
        );
        typed(&mut m, " (moved)");
        let cmds = press(&mut m, KeyCode::Enter);
        let Some(Command::Stage(EditRequest::Change { seen_etag, .. })) = cmds.first() else {
            panic!("a change: {cmds:?}")
        };
        assert_eq!(*seen_etag, expected, "pending: {pending:?}");
        // A delete chosen on the same view carries the same.
        press(&mut m, KeyCode::Char('d'));
        let mut shown = detail(5, None);
        shown.etag = Some("\"7\"".into());
        shown.pending_op = pending.map(str::to_string);
        update(
            &mut m,
            Msg::DetailLoaded {
                event_id: 1,
                detail: Some(shown),
            },
        );
        let cmds = press(&mut m, KeyCode::Char('y'));
        let Some(Command::Stage(EditRequest::Delete { seen_etag, .. })) = cmds.first() else {
            panic!("a delete: {cmds:?}")
        };
        assert_eq!(*seen_etag, expected, "delete, pending: {pending:?}");
    }
}

/// The bundled sample is read-only: `e`, `d` and `E` say so at once (no form filled in for
/// nothing), and the add form names the calendar a new event really goes to.
#[test]
fn the_read_only_sample_refuses_edits_at_once_and_the_form_names_the_real_target() {
    let day = d(2026, 11, 23);
    let mut m = loaded(vec![occ("standup", at(day, 9), at(day, 10))]);
    m.calendars[0].is_sample = true;
    m.calendars[0].name = "Sample".into();
    press(&mut m, KeyCode::Tab);
    for k in ['e', 'd', 'E'] {
        m.status = None;
        let cmds = press(&mut m, KeyCode::Char(k));
        assert!(cmds.is_empty(), "{k}: {cmds:?}");
        assert_eq!(m.mode, Mode::Month, "{k}");
        let status = m.status.clone().expect("a message");
        assert!(
            status.error && status.text.contains("read-only"),
            "{status:?}"
        );
    }
    press(&mut m, KeyCode::Char('a'));
    let Mode::Form(form) = &m.mode else {
        panic!("the add form: {:?}", m.mode)
    };
    let names: Vec<&str> = form.calendars.iter().map(|(_, n)| n.as_str()).collect();
    assert_eq!(names, ["Personal (new, on this computer)"]);
}

/// Typing into a field that already holds text (reached with Tab) replaces it: `14:00` typed over
/// the prefilled `09:00` is 14:00, not `09:0014:00` cut at five characters.
#[test]
fn typing_into_a_prefilled_field_replaces_it() {
    let mut m = loaded(vec![]);
    press(&mut m, KeyCode::Char('a'));
    typed(&mut m, "Review");
    press(&mut m, KeyCode::Tab);
    press(&mut m, KeyCode::Tab);
    typed(&mut m, "14:00");
    press(&mut m, KeyCode::Tab);
    // Backspace clears what was there; then the new text goes in.
    press(&mut m, KeyCode::Backspace);
    typed(&mut m, "15:30");
    let Mode::Form(form) = &m.mode else {
        panic!("the form: {:?}", m.mode)
    };
    assert_eq!(
        (form.values.start.as_str(), form.values.end.as_str()),
        ("14:00", "15:30")
    );
    // A movement key keeps the text for editing.
    press(&mut m, KeyCode::BackTab);
    press(&mut m, KeyCode::End);
    press(&mut m, KeyCode::Backspace);
    typed(&mut m, "5");
    let Mode::Form(form) = &m.mode else {
        panic!("the form")
    };
    assert_eq!(form.values.start, "14:05");
}

/// An all-day event can span several days: its End is the last day, typed as any day.
#[test]
fn an_all_day_event_can_span_several_days() {
    let mut m = loaded(vec![]);
    press(&mut m, KeyCode::Char('a'));
    typed(&mut m, "Trip");
    for _ in 0..4 {
        press(&mut m, KeyCode::Tab);
    }
    press(&mut m, KeyCode::Char(' '));
    let Mode::Form(form) = &m.mode else {
        panic!("the form")
    };
    assert!(form.values.all_day);
    assert_eq!(form.values.end, "2026-11-23", "the End is the last day");
    press(&mut m, KeyCode::BackTab);
    typed(&mut m, "25/11");
    let cmds = press(&mut m, KeyCode::Enter);
    let Some(Command::Stage(EditRequest::Create { event, .. })) = cmds.first() else {
        panic!("a create: {cmds:?}")
    };
    assert_eq!(event.start, EventTime::Date(d(2026, 11, 23)));
    assert_eq!(event.end, EventTime::Date(d(2026, 11, 26)), "exclusive end");
}

/// Repeat offers an end (a number of times, or a last day) and, for weekly series, the weekdays.
#[test]
fn a_series_can_end_after_a_count_or_on_a_day_and_repeat_on_weekdays() {
    let open = |m: &mut Model| {
        press(m, KeyCode::Char('a'));
        typed(m, "Standup");
        // Summary → Date, Start, End, All day, Location, Description, Repeat (one calendar).
        for _ in 0..7 {
            press(m, KeyCode::Tab);
        }
        press(m, KeyCode::Char(' '));
        press(m, KeyCode::Char(' '));
        press(m, KeyCode::Tab);
    };
    let rrule_of = |cmds: Vec<Command>| match cmds.first() {
        Some(Command::Stage(EditRequest::Create { event, .. })) => event.rrule.clone(),
        other => panic!("a create: {other:?}"),
    };
    let mut m = loaded(vec![]);
    open(&mut m);
    typed(&mut m, "10");
    press(&mut m, KeyCode::Tab);
    typed(&mut m, "mon wed fri");
    let rule = rrule_of(press(&mut m, KeyCode::Enter));
    assert_eq!(rule.as_deref(), Some("FREQ=WEEKLY;BYDAY=MO,WE,FR;COUNT=10"));

    let mut m = loaded(vec![]);
    open(&mut m);
    typed(&mut m, "1/3/2027");
    // The model's zone is UTC: the last day ends at 23:59:59 UTC.
    let rule = rrule_of(press(&mut m, KeyCode::Enter));
    assert_eq!(rule.as_deref(), Some("FREQ=WEEKLY;UNTIL=20270301T235959Z"));

    let mut m = loaded(vec![]);
    open(&mut m);
    press(&mut m, KeyCode::Tab);
    typed(&mut m, "mon blue");
    assert!(press(&mut m, KeyCode::Enter).is_empty());
    let (field, message) = form_error(&m).expect("an error");
    assert_eq!(field, Field::Days);
    assert!(message.contains("'blue' is not a weekday"), "{message}");
}

#[test]
fn a_rule_is_read_into_the_forms_fields_when_it_fits_them() {
    use crate::app::form::{Repeat, repeat_fields};
    assert_eq!(
        repeat_fields(Some("FREQ=WEEKLY;BYDAY=MO,FR;UNTIL=20270301T225959Z")),
        (
            Repeat::Weekly,
            "2027-03-01".to_string(),
            "mon fri".to_string()
        )
    );
    assert_eq!(
        repeat_fields(Some("FREQ=DAILY;COUNT=5")),
        (Repeat::Daily, "5".to_string(), String::new())
    );
    assert_eq!(
        repeat_fields(None),
        (Repeat::Never, String::new(), String::new())
    );
    let custom = "FREQ=MONTHLY;BYDAY=2TU";
    assert_eq!(
        repeat_fields(Some(custom)),
        (Repeat::Rule(custom.into()), String::new(), String::new())
    );
}

/// The edit form offers the other calendars for a whole event: choosing one is a move.
#[test]
fn choosing_another_calendar_in_the_edit_form_moves_the_event() {
    let day = d(2026, 11, 23);
    let mut review = occ("review", at(day, 9), at(day, 10));
    review.event_id = 5;
    let mut m = loaded(vec![review]);
    let mut work = m.calendars[0].clone();
    work.id = 2;
    work.name = "work".into();
    m.calendars.push(work);
    press(&mut m, KeyCode::Tab);
    assert_eq!(
        press(&mut m, KeyCode::Char('e')),
        vec![Command::LoadDetail { event_id: 5 }]
    );
    let answer = Msg::DetailLoaded {
        event_id: 5,
        detail: Some(detail(42, None)),
    };
    update(&mut m, answer);
    // Summary → Date, Start, End, All day, Location, Description, Calendar.
    for _ in 0..7 {
        press(&mut m, KeyCode::Tab);
    }
    press(&mut m, KeyCode::Right);
    let cmds = press(&mut m, KeyCode::Enter);
    let Some(Command::Stage(EditRequest::Move { item, to, .. })) = cmds.first() else {
        panic!("a move: {cmds:?}")
    };
    assert_eq!((*item, *to), (42, 2));
}

#[test]
fn a_new_event_in_the_week_or_day_view_starts_at_the_selected_hour() {
    for (view_key, hour, want) in [
        ('D', 15, ("15:00", "16:00")),
        ('w', 23, ("23:00", "23:59")),
        ('m', 15, ("09:00", "10:00")),
    ] {
        let mut m = loaded(vec![]);
        press(&mut m, KeyCode::Char(view_key));
        m.views.hour = hour;
        press(&mut m, KeyCode::Char('a'));
        match &m.mode {
            Mode::Form(f) => assert_eq!(
                (f.values.start.as_str(), f.values.end.as_str()),
                want,
                "view key {view_key}"
            ),
            other => panic!("the form is open: {other:?}"),
        }
    }
}

#[test]
fn remapped_keys_work_in_the_detail_pane_the_banner_and_the_conflict_pane() {
    use super::keymap::{Action, Keymap};
    use crate::config::KeySetting;
    let settings = [
        KeySetting {
            action: "edit_event".into(),
            keys: vec!["C-e".into()],
            line: 3,
        },
        KeySetting {
            action: "keep_theirs".into(),
            keys: vec!["T".into()],
            line: 4,
        },
        KeySetting {
            action: "dismiss_reminder".into(),
            keys: vec!["X".into()],
            line: 5,
        },
    ];
    let map = Keymap::with_settings(&settings, std::path::Path::new("config.toml")).unwrap();
    assert_eq!(map.key_of(Action::KeepTheirs), "T");
    assert_eq!(map.key_of(Action::Dismiss), "X");
    // Bound twice in one context: an error naming both actions.
    let clash = [KeySetting {
        action: "keep_both".into(),
        keys: vec!["m".into()],
        line: 7,
    }];
    let err = Keymap::with_settings(&clash, std::path::Path::new("config.toml"))
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("keep_mine") && err.contains("keep_both"),
        "{err}"
    );
    assert!(err.contains("config.toml") && err.contains('7'), "{err}");
    // The banner's x and the conflict pane's t are not the same keys in the month view's.
    let snooze_vs_zone = [KeySetting {
        action: "snooze_reminder".into(),
        keys: vec!["g".into()],
        line: 8,
    }];
    assert!(Keymap::with_settings(&snooze_vs_zone, std::path::Path::new("c")).is_ok());

    // The detail pane edits on the remapped key; its old key does nothing there.
    let day = d(2026, 11, 23);
    let mut ev = occ("standup", at(day, 9), at(day, 10));
    ev.event_id = 7;
    let mut m = loaded(vec![ev]);
    m.keymap = map.clone();
    m.mode = Mode::Detail;
    assert!(press(&mut m, KeyCode::Char('e')).is_empty());
    let ctrl_e = Msg::Key(KeyEvent::new(KeyCode::Char('e'), KeyModifiers::CONTROL));
    assert_eq!(
        update(&mut m, ctrl_e),
        vec![Command::LoadDetail { event_id: 7 }]
    );

    // The conflict pane keeps theirs on T, and t no longer resolves.
    let mut m = loaded(vec![]);
    m.keymap = map;
    press(&mut m, KeyCode::Char('c'));
    update(
        &mut m,
        Msg::ConflictsLoaded(vec![conflict(5, Some("Theirs"))]),
    );
    assert!(press(&mut m, KeyCode::Char('t')).is_empty());
    assert_eq!(
        press(&mut m, KeyCode::Char('T')),
        vec![Command::Resolve {
            conflict: 5,
            keep: Keep::Remote
        }]
    );
}
