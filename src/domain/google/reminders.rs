//! Google's `reminders` written as VALARMs, so the one iCalendar reader yields a Google event's
//! alarms as it does a CalDAV event's.

use serde_json::Value;

/// Google's own default when a calendar's `defaultReminders` are not known: a popup 10 minutes
/// before.
pub const DEFAULT_POPUP_MINUTES: i64 = 10;

/// Overrides past this many are not read (Google allows 5).
const MAX_OVERRIDES: usize = 10;

/// The VALARM lines for an event's `reminders`: `useDefault` is Google's default popup (the cache
/// keeps no calendar's `defaultReminders`); each override is a DISPLAY (popup) or EMAIL alarm, in
/// the order given. Nothing when the event has no `reminders`.
pub(super) fn valarm_lines(event: &Value) -> Vec<String> {
    let Some(reminders) = event.get("reminders") else {
        return Vec::new();
    };
    let mut alarms: Vec<(&str, i64)> = Vec::new();
    if reminders.get("useDefault").and_then(Value::as_bool) == Some(true) {
        alarms.push(("DISPLAY", DEFAULT_POPUP_MINUTES));
    } else if let Some(list) = reminders.get("overrides").and_then(Value::as_array) {
        for o in list.iter().take(MAX_OVERRIDES) {
            let action = match o.get("method").and_then(Value::as_str) {
                Some("popup") => "DISPLAY",
                Some("email") => "EMAIL",
                _ => continue,
            };
            if let Some(minutes) = o
                .get("minutes")
                .and_then(Value::as_i64)
                .filter(|m| (0..=40_320).contains(m))
            {
                alarms.push((action, minutes));
            }
        }
    }
    alarms
        .into_iter()
        .flat_map(|(action, minutes)| {
            [
                "BEGIN:VALARM".to_string(),
                format!("ACTION:{action}"),
                "DESCRIPTION:Reminder".into(),
                format!("TRIGGER:-PT{minutes}M"),
                "END:VALARM".into(),
            ]
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn use_default_is_a_ten_minute_popup() {
        let lines = valarm_lines(&json!({"reminders": {"useDefault": true}}));
        assert!(lines.contains(&"TRIGGER:-PT10M".to_string()), "{lines:?}");
        assert!(lines.contains(&"ACTION:DISPLAY".to_string()));
    }

    #[test]
    fn overrides_keep_their_method_and_order() {
        let lines = valarm_lines(&json!({"reminders": {"useDefault": false, "overrides": [
            {"method": "email", "minutes": 1440}, {"method": "popup", "minutes": 30}]}}));
        let actions: Vec<&String> = lines.iter().filter(|l| l.starts_with("ACTION")).collect();
        assert_eq!(actions, ["ACTION:EMAIL", "ACTION:DISPLAY"]);
        assert!(lines.contains(&"TRIGGER:-PT30M".to_string()));
    }

    #[test]
    fn no_reminders_no_alarm() {
        assert!(valarm_lines(&json!({"summary": "x"})).is_empty());
    }
}
