//! Microsoft Graph calendar data in the domain (issue 13). So far the pieces both the reader and
//! the writer of Graph events need: `patternedRecurrence` ↔ RRULE, and `dateTimeTimeZone`.

pub mod recurrence;
pub mod time;
