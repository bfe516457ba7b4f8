//! WebDAV and CalDAV request bodies, and a namespace-aware reader of `multistatus` responses.
//!
//! Everything here is pure: request bodies are plain `String`s and replies are read from bytes the
//! HTTP layer already bounded. The reader is deliberately tolerant, because real servers differ in
//! prefixes, CDATA, escaping and href spelling (see `PROTOCOLS.md` section 1): it matches elements by
//! namespace URI and local name only, ignores what it does not know, and records per-response
//! problems instead of failing the whole reply. It walks the events with an explicit stack, so deep
//! nesting costs heap proportional to the input and never recursion.
//!
//! - [`requests`]: the request bodies (PROPFIND, sync-collection, calendar-multiget).
//! - [`multistatus`]: the reader of `DAV:multistatus` replies and of RFC 6578's error body.
//! - [`href`]: hrefs resolved against the URL that answered, percent-encoding normalised.

mod href;
mod multistatus;
mod requests;

pub use href::normalise_href;
pub use multistatus::{
    Multistatus, Props, Response, XmlError, is_valid_sync_token_error, parse_multistatus,
};
pub use requests::{
    calendar_multiget, propfind_calendars, propfind_calendars_brief, propfind_etags,
    propfind_home_set, propfind_principal, sync_collection, sync_collection_with_data,
};

#[cfg(test)]
mod tests;
