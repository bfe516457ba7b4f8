//! Keeping the cache in step with servers: the engine (the only writer while it runs), the HTTP
//! client with its one retry policy, and one module per kind of remote.

pub mod caldav;
