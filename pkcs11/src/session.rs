//! A session's state: its slot, whether it is read-write, and the operations it has active
//! (one of each kind, as PKCS#11 allows).

use aws_lc_rs::digest;
use cloudhsm_sim::hsm::crypto::HashFunction;
use cloudhsm_sim::hsm::CipherOperation;
use cryptoki_sys::*;
use zeroize::Zeroizing;

use crate::boundary::Deferred;
use crate::mechanisms::SignMechanism;

pub(crate) struct Session {
    pub(crate) slot: usize,
    pub(crate) rw: bool,
    pub(crate) find: Option<Find>,
    pub(crate) sign: Option<SignOp>,
    pub(crate) verify: Option<SignOp>,
    pub(crate) digest: Option<DigestOp>,
    pub(crate) encrypt: Option<CipherOp>,
    pub(crate) decrypt: Option<CipherOp>,
}

impl Session {
    pub(crate) fn new(slot: usize, rw: bool) -> Session {
        Session {
            slot,
            rw,
            find: None,
            sign: None,
            verify: None,
            digest: None,
            encrypt: None,
            decrypt: None,
        }
    }
}

/// An active `C_FindObjects*`: the handles found at init, and how many were handed out.
pub(crate) struct Find {
    pub(crate) handles: Vec<CK_OBJECT_HANDLE>,
    pub(crate) next: usize,
}

/// An active signature or verification.
pub(crate) struct SignOp {
    pub(crate) key: u64,
    pub(crate) mechanism: SignMechanism,
    pub(crate) data: Data,
    /// A signature already made by a call that could not deliver it (a length query, a
    /// buffer too small), with the data it was made of: the next call delivers it.
    pub(crate) made: Option<(Zeroizing<Vec<u8>>, Vec<u8>)>,
}

/// The data of a signature so far.
pub(crate) enum Data {
    /// Nothing given in parts yet.
    Start,
    /// Parts being hashed by the module (the hashing mechanisms).
    Hashing(HashFunction, digest::Context),
    /// Parts kept whole for the HSM (HMAC).
    Whole(Zeroizing<Vec<u8>>),
}

/// An active encryption or decryption (`encryption.rs` runs it).
pub(crate) struct CipherOp {
    /// The cluster's operation; `None` once a one-call operation has made its output.
    pub(crate) operation: Option<CipherOperation>,
    /// The output of a one-call operation that could not deliver it (a buffer too small),
    /// with the input it was made of: the next call with that input delivers it.
    pub(crate) made: Option<Made>,
    /// `CKM_AES_GCM` encryption: where the HSM's IV goes, and the IV, written when the
    /// ciphertext is delivered.
    pub(crate) iv_out: Option<(Deferred, Vec<u8>)>,
    /// Whether parts were given (`C_Encrypt` then is out of order).
    pub(crate) updated: bool,
}

/// Output made but not yet delivered: (the input, the output).
pub(crate) type Made = (Zeroizing<Vec<u8>>, Zeroizing<Vec<u8>>);

/// An active digest.
pub(crate) struct DigestOp {
    pub(crate) hash: HashFunction,
    pub(crate) context: digest::Context,
    /// Whether parts were given (`C_Digest` then is out of order).
    pub(crate) updated: bool,
}

/// The aws-lc algorithm of a hash function.
pub(crate) fn algorithm(hash: HashFunction) -> &'static digest::Algorithm {
    match hash {
        HashFunction::Sha1 => &digest::SHA1_FOR_LEGACY_USE_ONLY,
        HashFunction::Sha224 => &digest::SHA224,
        HashFunction::Sha256 => &digest::SHA256,
        HashFunction::Sha384 => &digest::SHA384,
        HashFunction::Sha512 => &digest::SHA512,
    }
}
