//! Unit tests of the crypto layer: generation, validation, blobs, attributes, encodings and
//! signatures (OpenSSL interoperability lives in `tests/crypto_openssl.rs`).

mod attributes;
mod blobs;
mod des3;
mod encodings;
mod generation;
mod modes;
mod signing;
mod signing_ec;

use crate::hsm::Entropy;

/// A seeded generator, so every test run sees the same keys.
fn entropy(seed: u64) -> Entropy {
    Entropy::new(Some(seed))
}

/// Bytes from a hex string (test data only).
fn unhex(s: &str) -> Vec<u8> {
    (0..s.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&s[i..i + 2], 16).unwrap())
        .collect()
}
