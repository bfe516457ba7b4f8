//! WebDAV and CalDAV request bodies, and a namespace-aware reader of `multistatus` responses.
