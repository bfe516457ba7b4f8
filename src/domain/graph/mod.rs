//! Microsoft Graph calendar data in the domain (issue 13): so far the mapping between Graph's
//! `patternedRecurrence` and RRULE, which both the reader and the writer of Graph events need.

pub mod recurrence;
