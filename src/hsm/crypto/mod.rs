//! The pure cryptography of the simulated HSM: key material and its storage encoding, key
//! generation from [`Entropy`], the attribute values the CLI prints, PEM/PKCS#8 encodings, and
//! the sign/verify mechanisms of `crypto sign` / `crypto verify`.
//!
//! Nothing here knows of clap, terminals, sessions or the database. All randomness comes from
//! [`Entropy`], so a seeded run (`CLOUDHSM_SIM_SEED`) yields the same keys and signatures.
//! AWS-LC (`aws-lc-rs`) does the hot RSA-PKCS signing, Ed25519, hashing and AES; RustCrypto
//! crates do what AWS-LC cannot do deterministically or at all (seeded RSA generation, PSS with
//! any salt length, secp224r1, RFC 6979 ECDSA with any hash, Ed25519ph, ML-DSA external mu).

mod cipher;
mod der;
mod des3;
mod ec;
mod ecdsa;
mod error;
mod kdf;
mod material;
mod mldsa;
mod modes;
mod pem;
mod rsa;
mod sign;
mod symmetric;
mod wrap;

pub use cipher::{
    aes_gcm_decrypt, aes_gcm_encrypt, digest, hmac, rsa_oaep_decrypt, rsa_oaep_encrypt, GCM_IV_LEN,
    GCM_MAX_TAG_BITS, GCM_MIN_TAG_BITS,
};
// The PKCS#11 ciphers of `crate::hsm::ciphering`.
pub(crate) use cipher::{
    aes_key, des3_key, gcm_iv, gcm_open_named, gcm_seal, gcm_tag_len, oaep_decrypt_labelled,
    pkcs1_decrypt, raw_rsa_decrypt, raw_rsa_encrypt, rsa_oaep_encrypt_labelled, rsa_pkcs1_encrypt,
    rsa_private_key, rsa_public_key,
};
pub use des3::{generate_des3, set_odd_parity, Des3Mode, Des3Stream, DES3_BLOCK_LEN, DES3_KEY_LEN};
pub use ec::{generate_ec, Curve, EcPrivateKey, EcPublicKey, CURVES};
pub use error::CryptoError;
pub use kdf::{counter_kdf, ecdh, x963, Prf, Segment};
pub use material::{
    EcAttributes, KeyAttributes, KeyMaterial, PrivateKey, PublicKey, RsaAttributes, BLOB_VERSION,
};
pub use mldsa::{
    generate_ml_dsa, MlDsaAlgorithm, MlDsaPrivateKey, MlDsaPublicKey, ML_DSA_ALGORITHMS,
};
pub use modes::{AesMode, AesStream, Direction, AES_BLOCK_LEN};
pub use rsa::{
    generate_rsa, RsaPrivateKey, RsaPublicKey, MAX_MODULUS_BITS, MAX_PUBLIC_EXPONENT,
    MIN_MODULUS_BITS, MIN_PUBLIC_EXPONENT, MODULUS_STEP_BITS,
};
pub use sign::{sign, verify, DataType, HashFunction, Mechanism, ED25519_MAX_DATA, HASH_FUNCTIONS};
pub use symmetric::{
    generate_aes, generate_generic_secret, generic_secret_check_value, SecretKey, SecretKind,
    AES_KEY_LENGTHS, GENERIC_SECRET_LENGTHS,
};
pub use wrap::{unwrap_key, wrap_key, WrapMechanism, WrapOutput, RSA_AES_KEY_LEN};

use crate::hsm::Entropy;
use rand_chacha_010::rand_core::SeedableRng;

/// The generator handed to RustCrypto crates (which use `rand_core` 0.10).
type ChildRng = rand_chacha_010::ChaCha20Rng;

/// A ChaCha20 generator seeded with 32 bytes drawn from `entropy`: a fixed draw, so the
/// crate's own consumption never shifts the rest of the seeded stream.
fn child_rng(entropy: &mut Entropy) -> ChildRng {
    let mut seed = [0u8; 32];
    entropy.fill(&mut seed);
    ChildRng::from_seed(seed)
}

/// Lowercase hex of `bytes`.
fn hex(bytes: &[u8]) -> String {
    use std::fmt::Write;
    bytes
        .iter()
        .fold(String::with_capacity(bytes.len() * 2), |mut s, b| {
            let _ = write!(s, "{b:02x}");
            s
        })
}

/// A binary attribute as the CLI prints it: `0x` and lowercase hex (`0x010001`).
pub fn hex_attribute(bytes: &[u8]) -> String {
    format!("0x{}", hex(bytes))
}

#[cfg(test)]
mod tests;
