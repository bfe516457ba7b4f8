//! Test servers that behave like the real services, with switches to inject faults. Used by the
//! tests and by `almanac demo`. Imports only `domain`.

pub mod caldav;
mod caldav_handlers;
mod caldav_xml;
pub mod demo;
pub mod demo_feed;
pub mod demo_google;
pub mod demo_graph;
pub mod feed;
pub mod google;
pub mod graph;
mod serve;

pub use caldav::{CalDavEmulator, Faults};
pub use feed::{FeedServer, FeedSwitches};
pub use google::{GoogleEmulator, LoggedRequest, Switches};
pub use graph::{GraphEmulator, GraphSwitches};
