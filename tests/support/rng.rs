//! A small deterministic generator for randomised tests, so a failure can be replayed from its seed.
// Each test crate that includes `support` uses only some of it.
#![allow(dead_code)]

/// xorshift64: enough to pick operations and ids; never zero-seeded.
pub struct Rng(pub u64);

impl Rng {
    /// A number in `0..n`.
    pub fn next(&mut self, n: u64) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0 % n
    }
}
