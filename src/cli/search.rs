//! `almanac search TEXT`: what `/` finds in the TUI, headless.

use std::collections::HashMap;

use chrono::{DateTime, Duration, NaiveDate, Utc};
use chrono_tz::Tz;

use super::{AgendaEntry, CliError, agenda_entry, json_text};
use crate::domain::Occurrence;
use crate::domain::text::sanitize;
use crate::store::{SearchQuery, StoreReader, search_expression};

/// `almanac search` options.
#[derive(Debug, clap::Args)]
pub struct SearchArgs {
    /// Words that must all occur (in summary, location, description or attendees); "a phrase"
    /// in quotes; the last word also matches as a prefix.
    #[arg(required = true, num_args = 1..)]
    pub text: Vec<String>,
    /// First day searched, in the display zone (default: a year before today), in the forms
    /// `agenda` takes.
    #[arg(long, value_name = "D")]
    pub from: Option<String>,
    /// Last day searched, inclusive (default: a year after today).
    #[arg(long, value_name = "D")]
    pub to: Option<String>,
    /// Display zone (IANA name; default: the configured or system zone).
    #[arg(long, value_name = "ZONE")]
    pub tz: Option<String>,
    /// At most this many occurrences, nearest first.
    #[arg(long, value_name = "N", default_value_t = 100)]
    pub limit: usize,
    /// One JSON array of occurrences (the objects of `agenda --json`), nearest first.
    #[arg(long)]
    pub json: bool,
}

/// The search `args` ask for, around `now` (`today` is its day in the display zone).
pub fn query(
    args: &SearchArgs,
    today: NaiveDate,
    now: DateTime<Utc>,
) -> Result<SearchQuery, CliError> {
    let text = args.text.join(" ");
    if search_expression(&text).is_none() {
        return Err(CliError::Usage(format!(
            "nothing to search for in '{}': give a word or a \"phrase\"",
            sanitize(&text)
        )));
    }
    let day = |flag: &str, text: &str| {
        crate::domain::typed_date::parse_day(text, today)
            .map_err(|e| CliError::Usage(format!("--{flag}: {e}")))
    };
    let from = match &args.from {
        Some(t) => day("from", t)?,
        None => today - Duration::days(365),
    };
    let to = match &args.to {
        Some(t) => day("to", t)?,
        None => today + Duration::days(365),
    };
    if to < from {
        return Err(CliError::Usage(format!(
            "--to {to} is before --from {from}"
        )));
    }
    Ok(SearchQuery {
        text,
        from,
        to,
        around: now,
        limit: args.limit,
    })
}

/// Runs the search and returns what to print.
pub fn run(
    args: &SearchArgs,
    reader: &StoreReader,
    query: &SearchQuery,
    zone: &Tz,
) -> Result<String, CliError> {
    let names: HashMap<i64, String> = reader
        .calendars()?
        .into_iter()
        .map(|c| (c.id, c.name))
        .collect();
    let found = reader.search(query, zone)?;
    if args.json {
        let entries: Vec<AgendaEntry> = found
            .iter()
            .map(|o| agenda_entry(o, &names, zone))
            .collect();
        return Ok(json_text(&entries)? + "\n");
    }
    if found.is_empty() {
        return Ok(format!(
            "nothing matches '{}' from {} to {}\n",
            sanitize(&query.text),
            query.from,
            query.to
        ));
    }
    Ok(found.iter().map(|o| line(o, &names, zone)).collect())
}

/// One result: its day, time, summary, location and calendar.
fn line(o: &Occurrence, names: &HashMap<i64, String>, zone: &Tz) -> String {
    let (s, e) = o.local_span(zone);
    let time = if o.all_day() {
        "all day".to_string()
    } else {
        format!("{}–{}", s.format("%H:%M"), e.format("%H:%M"))
    };
    let mut what = sanitize(&o.summary);
    if !o.location.is_empty() {
        what.push_str(" @ ");
        what.push_str(&sanitize(&o.location));
    }
    let cal = names
        .get(&o.calendar_id)
        .map_or(String::new(), |n| sanitize(n));
    format!("{}  {time:<11}  {what}  [{cal}]\n", s.format("%a %Y-%m-%d"))
}
