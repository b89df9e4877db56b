//! Encryption primitives shared by key wrapping and the emulator's crypto extensions: AES-GCM
//! with a chosen tag length, RSA-OAEP and RSA PKCS#1 v1.5 encryption, digests and HMAC.
//!
//! Every random value (GCM IVs, OAEP seeds, PKCS#1 padding) is drawn from [`Entropy`]: AWS-LC
//! does AES-GCM under an explicit nonce, HMAC, digests and PKCS#1 v1.5 decryption (no
//! randomness reaches its output); the `rsa` crate encrypts with a generator seeded from
//! `Entropy` and does OAEP decryption (any hash and MGF1 hash, SHA-224 included).

use ::rsa::pkcs8::DecodePrivateKey;
use ::rsa::traits::{PaddingScheme, PublicKeyParts};
use ::rsa::{BoxedUint, Oaep, Pkcs1v15Encrypt};
use aws_lc_rs::aead::{Aad, LessSafeKey, Nonce, UnboundKey, AES_128_GCM, AES_192_GCM, AES_256_GCM};
use aws_lc_rs::rsa::{Pkcs1PrivateDecryptingKey, PrivateDecryptingKey};
use rand_chacha_010::rand_core::SeedableRng;
use sha2::{Digest, Sha256};

use super::error::CryptoError;
use super::material::{KeyMaterial, PrivateKey, PublicKey};
use super::rsa::{RsaPrivateKey, RsaPublicKey};
use super::sign::HashFunction;
use super::symmetric::SecretKind;
use super::{child_rng, ChildRng};
use crate::hsm::Entropy;

/// Length of the AES-GCM IVs the simulated HSM generates and accepts, in bytes.
pub const GCM_IV_LEN: usize = 12;
/// Shortest accepted AES-GCM tag, in bits (tags are 64 to 128 bits, in steps of 8).
pub const GCM_MIN_TAG_BITS: usize = 64;
/// Longest accepted AES-GCM tag, in bits: the full tag.
pub const GCM_MAX_TAG_BITS: usize = 128;

/// The tag length in bytes for `bits` (64 to 128, a multiple of 8).
pub(crate) fn gcm_tag_len(bits: usize) -> Result<usize, CryptoError> {
    if (GCM_MIN_TAG_BITS..=GCM_MAX_TAG_BITS).contains(&bits) && bits.is_multiple_of(8) {
        Ok(bits / 8)
    } else {
        Err(CryptoError::TagLength { bits })
    }
}

/// A 12-byte GCM IV from `iv`.
pub(crate) fn gcm_iv(iv: &[u8]) -> Result<[u8; GCM_IV_LEN], CryptoError> {
    iv.try_into().map_err(|_| CryptoError::Iv {
        detail: format!(
            "an AES-GCM IV is {GCM_IV_LEN} bytes long, but {} bytes were given",
            iv.len()
        ),
    })
}

/// The bytes of an AES key, or the wrong-key error of mechanism `name`.
pub(crate) fn aes_key<'a>(
    key: &'a KeyMaterial,
    name: &'static str,
) -> Result<&'a [u8], CryptoError> {
    match key {
        KeyMaterial::Secret(k) if k.kind() == SecretKind::Aes => Ok(k.bytes()),
        _ => Err(wrong_key(name, "an AES key")),
    }
}

/// The bytes of a DES3 key, or the wrong-key error of mechanism `name`.
pub(crate) fn des3_key<'a>(
    key: &'a KeyMaterial,
    name: &'static str,
) -> Result<&'a [u8], CryptoError> {
    match key {
        KeyMaterial::Secret(k) if k.kind() == SecretKind::Des3 => Ok(k.bytes()),
        _ => Err(wrong_key(name, "a DES3 key")),
    }
}

/// The RSA public key in `key`, or the wrong-key error of mechanism `name`.
pub(crate) fn rsa_public_key<'a>(
    key: &'a KeyMaterial,
    name: &'static str,
) -> Result<&'a RsaPublicKey, CryptoError> {
    match key {
        KeyMaterial::Public(PublicKey::Rsa(k)) => Ok(k),
        _ => Err(wrong_key(name, "an RSA public key")),
    }
}

/// The RSA private key in `key`, or the wrong-key error of mechanism `name`.
pub(crate) fn rsa_private_key<'a>(
    key: &'a KeyMaterial,
    name: &'static str,
) -> Result<&'a RsaPrivateKey, CryptoError> {
    match key {
        KeyMaterial::Private(PrivateKey::Rsa(k)) => Ok(k),
        _ => Err(wrong_key(name, "an RSA private key")),
    }
}

/// The error of mechanism `mechanism` given a key that is not `needed`.
fn wrong_key(mechanism: &'static str, needed: &'static str) -> CryptoError {
    CryptoError::WrongKeyType { mechanism, needed }
}

/// An AWS-LC AES-GCM key (any AES key length).
fn gcm_key(key: &[u8]) -> Result<LessSafeKey, CryptoError> {
    let algorithm = match key.len() {
        16 => &AES_128_GCM,
        24 => &AES_192_GCM,
        32 => &AES_256_GCM,
        len => return Err(CryptoError::AesKeyLength { len }),
    };
    let unbound = UnboundKey::new(algorithm, key)
        .map_err(|_| CryptoError::failed("AES-GCM key setup failed"))?;
    Ok(LessSafeKey::new(unbound))
}

/// GCM over `data` under `iv`: returns `data` encrypted (or decrypted: GCM's keystream is its
/// own inverse) and the full 16-byte tag over the *output* and `aad`.
fn gcm_pass(
    key: &LessSafeKey,
    iv: [u8; GCM_IV_LEN],
    aad: &[u8],
    data: &[u8],
) -> Result<(Vec<u8>, Vec<u8>), CryptoError> {
    let mut out = data.to_vec();
    let tag = key
        .seal_in_place_separate_tag(Nonce::assume_unique_for_key(iv), Aad::from(aad), &mut out)
        .map_err(|_| CryptoError::failed("AES-GCM encryption failed"))?;
    Ok((out, tag.as_ref().to_vec()))
}

/// AES-GCM encryption of `plaintext` under `iv`: ciphertext || tag cut to `tag_len` bytes.
pub(crate) fn gcm_seal(
    key: &[u8],
    iv: [u8; GCM_IV_LEN],
    aad: &[u8],
    plaintext: &[u8],
    tag_len: usize,
) -> Result<Vec<u8>, CryptoError> {
    let (mut out, tag) = gcm_pass(&gcm_key(key)?, iv, aad, plaintext)?;
    let tag = tag
        .get(..tag_len)
        .ok_or_else(|| CryptoError::failed("the AES-GCM tag is too short"))?;
    out.extend_from_slice(tag);
    Ok(out)
}

/// AES-GCM decryption of ciphertext || tag (`tag_len` bytes) under `iv`.
///
/// AWS-LC only opens full 16-byte tags, so a truncated tag is checked by recomputing it: the
/// keystream pass recovers the plaintext, sealing that plaintext again yields the full tag
/// over the same ciphertext, and its first `tag_len` bytes must equal the given tag (compared
/// in constant time). Nothing is returned before the tag is verified.
pub(crate) fn gcm_open(
    key: &[u8],
    iv: [u8; GCM_IV_LEN],
    aad: &[u8],
    data: &[u8],
    tag_len: usize,
) -> Result<Vec<u8>, CryptoError> {
    gcm_open_named(key, iv, aad, data, tag_len, "aes-gcm")
}

/// [`gcm_open`] with errors naming `mechanism`.
pub(crate) fn gcm_open_named(
    key: &[u8],
    iv: [u8; GCM_IV_LEN],
    aad: &[u8],
    data: &[u8],
    tag_len: usize,
    mechanism: &'static str,
) -> Result<Vec<u8>, CryptoError> {
    let decrypt = |detail: String| CryptoError::Decrypt { mechanism, detail };
    let split = data.len().checked_sub(tag_len).ok_or_else(|| {
        decrypt(format!(
            "the data is {} bytes long, shorter than the {tag_len}-byte tag",
            data.len()
        ))
    })?;
    let (ciphertext, tag) = data.split_at(split);
    let key = gcm_key(key)?;
    let (plaintext, _) = gcm_pass(&key, iv, &[], ciphertext)?;
    let (_, full_tag) = gcm_pass(&key, iv, aad, &plaintext)?;
    let expected = full_tag.get(..tag_len).unwrap_or_default();
    aws_lc_rs::constant_time::verify_slices_are_equal(expected, tag).map_err(|_| {
        decrypt(
            "the authentication tag does not match (wrong key, IV, AAD or tag length, or \
             damaged data)"
                .into(),
        )
    })?;
    Ok(plaintext)
}

/// AES-GCM encryption under a fresh 12-byte IV drawn from `entropy`; returns the IV and
/// ciphertext || tag, the tag cut to `tag_length_bits` (64 to 128, a multiple of 8).
pub fn aes_gcm_encrypt(
    key: &KeyMaterial,
    plaintext: &[u8],
    aad: &[u8],
    tag_length_bits: usize,
    entropy: &mut Entropy,
) -> Result<(Vec<u8>, Vec<u8>), CryptoError> {
    let key = aes_key(key, "aes-gcm")?;
    let tag_len = gcm_tag_len(tag_length_bits)?;
    let mut iv = [0u8; GCM_IV_LEN];
    entropy.fill(&mut iv);
    Ok((iv.to_vec(), gcm_seal(key, iv, aad, plaintext, tag_len)?))
}

/// AES-GCM decryption of ciphertext || tag; a wrong key, IV, AAD or tag is a clear error.
pub fn aes_gcm_decrypt(
    key: &KeyMaterial,
    iv: &[u8],
    ciphertext_with_tag: &[u8],
    aad: &[u8],
    tag_length_bits: usize,
) -> Result<Vec<u8>, CryptoError> {
    let key = aes_key(key, "aes-gcm")?;
    let tag_len = gcm_tag_len(tag_length_bits)?;
    gcm_open(key, gcm_iv(iv)?, aad, ciphertext_with_tag, tag_len)
}

/// The `rsa` crate's form of a public key.
fn rsa_public(key: &RsaPublicKey) -> Result<::rsa::PublicKey, CryptoError> {
    let n = BoxedUint::from_be_slice_vartime(key.modulus());
    let e = BoxedUint::from_be_slice_vartime(key.public_exponent());
    ::rsa::PublicKey::new_with_size_limits(n, e, 0..=usize::MAX)
        .map_err(|e| CryptoError::invalid("RSA public", e.to_string()))
}

/// The length of the RSA modulus (and of every ciphertext) in bytes.
pub(crate) fn modulus_len(key: &RsaPublicKey) -> usize {
    key.modulus_bits().div_ceil(8)
}

/// The longest message RSA-OAEP with `hash` encrypts under `key` (RFC 8017 §7.1.1).
pub(crate) fn oaep_max_len(key: &RsaPublicKey, hash: HashFunction) -> usize {
    modulus_len(key).saturating_sub(2 * hash.output_len() + 2)
}

/// The longest message RSA PKCS#1 v1.5 encrypts under `key` (RFC 8017 §7.2.1).
pub(crate) fn pkcs1_max_len(key: &RsaPublicKey) -> usize {
    modulus_len(key).saturating_sub(11)
}

/// Runs `$body` with `$pad` bound to the OAEP padding of label hash `$hash` and MGF1 `$mgf`
/// (empty label).
macro_rules! with_oaep {
    ($hash:expr, $mgf:expr, $label:expr, $pad:ident => $body:expr) => {
        match $hash {
            HashFunction::Sha1 => with_oaep!(@mgf sha1::Sha1, $mgf, $label, $pad => $body),
            HashFunction::Sha224 => with_oaep!(@mgf sha2::Sha224, $mgf, $label, $pad => $body),
            HashFunction::Sha256 => with_oaep!(@mgf sha2::Sha256, $mgf, $label, $pad => $body),
            HashFunction::Sha384 => with_oaep!(@mgf sha2::Sha384, $mgf, $label, $pad => $body),
            HashFunction::Sha512 => with_oaep!(@mgf sha2::Sha512, $mgf, $label, $pad => $body),
        }
    };
    (@mgf $d:ty, $mgf:expr, $label:expr, $pad:ident => $body:expr) => {
        match $mgf {
            HashFunction::Sha1 => with_oaep!(@pad $d, sha1::Sha1, $label, $pad => $body),
            HashFunction::Sha224 => with_oaep!(@pad $d, sha2::Sha224, $label, $pad => $body),
            HashFunction::Sha256 => with_oaep!(@pad $d, sha2::Sha256, $label, $pad => $body),
            HashFunction::Sha384 => with_oaep!(@pad $d, sha2::Sha384, $label, $pad => $body),
            HashFunction::Sha512 => with_oaep!(@pad $d, sha2::Sha512, $label, $pad => $body),
        }
    };
    (@pad $d:ty, $m:ty, $label:expr, $pad:ident => $body:expr) => {{
        let $pad = Oaep::<$d, $m>::new_with_mgf_hash_and_label($label.to_vec());
        $body
    }};
}

/// RSA-OAEP encryption with an empty label (callers check the length against
/// [`oaep_max_len`] first).
pub(crate) fn oaep_encrypt(
    key: &RsaPublicKey,
    hash: HashFunction,
    mgf: HashFunction,
    message: &[u8],
    entropy: &mut Entropy,
) -> Result<Vec<u8>, CryptoError> {
    oaep_encrypt_labelled(key, hash, mgf, &[], message, entropy)
}

/// RSA-OAEP encryption with label `label` (callers check the length against
/// [`oaep_max_len`] first).
pub(crate) fn oaep_encrypt_labelled(
    key: &RsaPublicKey,
    hash: HashFunction,
    mgf: HashFunction,
    label: &[u8],
    message: &[u8],
    entropy: &mut Entropy,
) -> Result<Vec<u8>, CryptoError> {
    let public = rsa_public(key)?;
    let mut rng: ChildRng = child_rng(entropy);
    with_oaep!(hash, mgf, label, pad => public.encrypt(&mut rng, pad, message))
        .map_err(|e| CryptoError::failed(format!("RSA-OAEP encryption failed ({e})")))
}

/// RSA-OAEP decryption; bad padding is an error naming the likely causes.
///
/// RSA blinding uses a generator seeded from a hash of the key and the ciphertext: no OS
/// randomness, the same result every time, and a blinding factor no outsider can predict.
pub(crate) fn oaep_decrypt(
    key: &RsaPrivateKey,
    hash: HashFunction,
    mgf: HashFunction,
    ciphertext: &[u8],
    mechanism: &'static str,
) -> Result<Vec<u8>, CryptoError> {
    oaep_decrypt_labelled(key, hash, mgf, &[], ciphertext, mechanism)
}

/// RSA-OAEP decryption with label `label` (see [`oaep_decrypt`]).
pub(crate) fn oaep_decrypt_labelled(
    key: &RsaPrivateKey,
    hash: HashFunction,
    mgf: HashFunction,
    label: &[u8],
    ciphertext: &[u8],
    mechanism: &'static str,
) -> Result<Vec<u8>, CryptoError> {
    check_ciphertext_len(key.public_key(), ciphertext, mechanism)?;
    let private = ::rsa::PrivateKey::from_pkcs8_der(key.pkcs8_der())
        .map_err(|e| CryptoError::invalid("RSA private", e.to_string()))?;
    let seed = Sha256::new()
        .chain_update(key.pkcs8_der())
        .chain_update(ciphertext);
    let mut rng = ChildRng::from_seed(seed.finalize().into());
    with_oaep!(hash, mgf, label, pad => pad.decrypt(Some(&mut rng), &private, ciphertext)).map_err(
        |_| CryptoError::Decrypt {
            mechanism,
            detail: format!(
                "the OAEP padding is invalid (wrong key, hash function {} or MGF {}, label, or \
                 damaged data)",
                hash.name(),
                mgf.name()
            ),
        },
    )
}

/// RSA PKCS#1 v1.5 encryption (callers check the length against [`pkcs1_max_len`] first).
pub(crate) fn pkcs1_encrypt(
    key: &RsaPublicKey,
    message: &[u8],
    entropy: &mut Entropy,
) -> Result<Vec<u8>, CryptoError> {
    let public = rsa_public(key)?;
    let mut rng: ChildRng = child_rng(entropy);
    public
        .encrypt(&mut rng, Pkcs1v15Encrypt, message)
        .map_err(|e| CryptoError::failed(format!("RSA PKCS#1 encryption failed ({e})")))
}

/// RSA PKCS#1 v1.5 decryption by AWS-LC, which rejects bad padding with an error (the `rsa`
/// crate would return a synthetic message instead).
pub(crate) fn pkcs1_decrypt(
    key: &RsaPrivateKey,
    ciphertext: &[u8],
    mechanism: &'static str,
) -> Result<Vec<u8>, CryptoError> {
    check_ciphertext_len(key.public_key(), ciphertext, mechanism)?;
    let private = PrivateDecryptingKey::from_pkcs8(key.pkcs8_der())
        .map_err(|e| CryptoError::failed(format!("RSA key load failed ({e})")))?;
    let decrypting = Pkcs1PrivateDecryptingKey::new(private)
        .map_err(|_| CryptoError::failed("RSA key load failed"))?;
    let mut out = vec![0u8; decrypting.min_output_size()];
    let len = decrypting
        .decrypt(ciphertext, &mut out)
        .map_err(|_| CryptoError::Decrypt {
            mechanism,
            detail: "the PKCS#1 v1.5 padding is invalid (wrong key or damaged data)".into(),
        })?
        .len();
    out.truncate(len);
    Ok(out)
}

/// RSA PKCS#1 v1.5 encryption of at most [`pkcs1_max_len`] bytes.
pub(crate) fn rsa_pkcs1_encrypt(
    key: &RsaPublicKey,
    message: &[u8],
    entropy: &mut Entropy,
    mechanism: &'static str,
) -> Result<Vec<u8>, CryptoError> {
    let max = pkcs1_max_len(key);
    if message.len() > max {
        return Err(CryptoError::DataTooLong {
            mechanism,
            max,
            actual: message.len(),
        });
    }
    pkcs1_encrypt(key, message, entropy)
}

/// RSA-OAEP encryption with label `label` of at most [`oaep_max_len`] bytes.
pub(crate) fn rsa_oaep_encrypt_labelled(
    key: &RsaPublicKey,
    hash: HashFunction,
    mgf: HashFunction,
    label: &[u8],
    message: &[u8],
    entropy: &mut Entropy,
    mechanism: &'static str,
) -> Result<Vec<u8>, CryptoError> {
    let max = oaep_max_len(key, hash);
    if message.len() > max {
        return Err(CryptoError::DataTooLong {
            mechanism,
            max,
            actual: message.len(),
        });
    }
    oaep_encrypt_labelled(key, hash, mgf, label, message, entropy)
}

/// Raw RSA encryption (`CKM_RSA_X_509`): `message`, at most as long as the modulus and
/// left-padded with zeros to its length, must be a number below the modulus.
pub(crate) fn raw_rsa_encrypt(
    key: &RsaPublicKey,
    message: &[u8],
    mechanism: &'static str,
) -> Result<Vec<u8>, CryptoError> {
    let k = modulus_len(key);
    if message.len() > k {
        return Err(CryptoError::DataTooLong {
            mechanism,
            max: k,
            actual: message.len(),
        });
    }
    let public = rsa_public(key)?;
    let n = public.n().as_ref();
    let m = BoxedUint::from_be_slice(message, n.bits_precision())
        .map_err(|_| CryptoError::failed("the message does not fit the modulus"))?;
    if m >= *n {
        return Err(CryptoError::RawRsaTooLarge { mechanism });
    }
    let c = ::rsa::hazmat::rsa_encrypt(&public, &m)
        .map_err(|e| CryptoError::failed(format!("RSA encryption failed ({e})")))?;
    Ok(left_pad(&c.to_be_bytes(), k))
}

/// Raw RSA decryption (`CKM_RSA_X_509`): the modulus-long number `c^d mod n`, blinded and
/// checked like [`oaep_decrypt`].
pub(crate) fn raw_rsa_decrypt(
    key: &RsaPrivateKey,
    ciphertext: &[u8],
    mechanism: &'static str,
) -> Result<Vec<u8>, CryptoError> {
    check_ciphertext_len(key.public_key(), ciphertext, mechanism)?;
    let private = ::rsa::PrivateKey::from_pkcs8_der(key.pkcs8_der())
        .map_err(|e| CryptoError::invalid("RSA private", e.to_string()))?;
    let n = private.n().as_ref();
    let c = BoxedUint::from_be_slice(ciphertext, n.bits_precision())
        .map_err(|_| CryptoError::failed("the ciphertext does not fit the modulus"))?;
    if c >= *n {
        return Err(CryptoError::RawRsaTooLarge { mechanism });
    }
    let seed = Sha256::new()
        .chain_update(key.pkcs8_der())
        .chain_update(ciphertext);
    let mut rng = ChildRng::from_seed(seed.finalize().into());
    let m = ::rsa::hazmat::rsa_decrypt_and_check(&private, Some(&mut rng), &c)
        .map_err(|e| CryptoError::failed(format!("RSA decryption failed ({e})")))?;
    Ok(left_pad(&m.to_be_bytes(), modulus_len(key.public_key())))
}

/// The last `len` bytes of the big-endian number `bytes`, left-padded with zeros to `len`.
fn left_pad(bytes: &[u8], len: usize) -> Vec<u8> {
    let mut out = vec![0u8; len];
    let take = bytes.len().min(len);
    out[len - take..].copy_from_slice(&bytes[bytes.len() - take..]);
    out
}

/// Checks that `ciphertext` is exactly as long as the modulus of `key`.
fn check_ciphertext_len(
    key: &RsaPublicKey,
    ciphertext: &[u8],
    mechanism: &'static str,
) -> Result<(), CryptoError> {
    let k = modulus_len(key);
    if ciphertext.len() == k {
        return Ok(());
    }
    Err(CryptoError::Decrypt {
        mechanism,
        detail: format!(
            "the ciphertext is {} bytes long, but this {}-bit key's are {k} bytes long",
            ciphertext.len(),
            key.modulus_bits()
        ),
    })
}

/// RSA-OAEP encryption of `plaintext` with label hash `hash`, MGF1 with `mgf` and an empty
/// label; the seed comes from `entropy`.
pub fn rsa_oaep_encrypt(
    public: &KeyMaterial,
    hash: HashFunction,
    mgf: HashFunction,
    plaintext: &[u8],
    entropy: &mut Entropy,
) -> Result<Vec<u8>, CryptoError> {
    let key = rsa_public_key(public, "rsa-oaep")?;
    let max = oaep_max_len(key, hash);
    if plaintext.len() > max {
        return Err(CryptoError::DataTooLong {
            mechanism: "rsa-oaep",
            max,
            actual: plaintext.len(),
        });
    }
    oaep_encrypt(key, hash, mgf, plaintext, entropy)
}

/// RSA-OAEP decryption with label hash `hash`, MGF1 with `mgf` and an empty label.
pub fn rsa_oaep_decrypt(
    private: &KeyMaterial,
    hash: HashFunction,
    mgf: HashFunction,
    ciphertext: &[u8],
) -> Result<Vec<u8>, CryptoError> {
    oaep_decrypt(
        rsa_private_key(private, "rsa-oaep")?,
        hash,
        mgf,
        ciphertext,
        "rsa-oaep",
    )
}

/// The `hash` digest of `data`.
pub fn digest(hash: HashFunction, data: &[u8]) -> Vec<u8> {
    hash.digest(data)
}

/// HMAC of `data` with `hash` under the raw key bytes `key` (RFC 2104; any key length).
pub fn hmac(hash: HashFunction, key: &[u8], data: &[u8]) -> Vec<u8> {
    let algorithm = match hash {
        HashFunction::Sha1 => aws_lc_rs::hmac::HMAC_SHA1_FOR_LEGACY_USE_ONLY,
        HashFunction::Sha224 => aws_lc_rs::hmac::HMAC_SHA224,
        HashFunction::Sha256 => aws_lc_rs::hmac::HMAC_SHA256,
        HashFunction::Sha384 => aws_lc_rs::hmac::HMAC_SHA384,
        HashFunction::Sha512 => aws_lc_rs::hmac::HMAC_SHA512,
    };
    let key = aws_lc_rs::hmac::Key::new(algorithm, key);
    aws_lc_rs::hmac::sign(&key, data).as_ref().to_vec()
}
