//! CalDAV (RFC 4791) with collection sync (RFC 6578): requests as values, parsed without I/O.

pub mod xml;
