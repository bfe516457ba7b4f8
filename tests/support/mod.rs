//! Helpers shared by integration tests: include with `mod support;`.

pub mod rng;
pub mod servers;
pub mod tmux;
