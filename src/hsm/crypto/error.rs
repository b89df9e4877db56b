//! Why a cryptographic operation of the simulated HSM was refused or failed; each text is
//! a sentence the user may see in the `data` field of the error envelope.

/// A refused or failed cryptographic operation.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CryptoError {
    #[error("Invalid AES key length {len}: an AES key is 16, 24 or 32 bytes long.")]
    AesKeyLength { len: usize },
    #[error(
        "Invalid generic secret key length {len}: a generic secret key is 1 to 800 bytes long."
    )]
    GenericSecretLength { len: usize },
    #[error(
        "Invalid RSA modulus size {bits}: the modulus size must be 2048 to 4096 bits, in steps \
         of 256 bits."
    )]
    ModulusSize { bits: usize },
    #[error(
        "Invalid RSA public exponent {exponent}: the public exponent must be an odd number from \
         65537 to 8589934591."
    )]
    PublicExponent { exponent: String },
    #[error(
        "Unsupported elliptic curve {name}: the supported curves are prime256v1, secp256r1, \
         secp224r1, secp384r1, secp256k1, secp521r1 and ed25519."
    )]
    UnsupportedCurve { name: String },
    #[error(
        "Unsupported ML-DSA algorithm {name}: the supported algorithms are ML-DSA-44, ML-DSA-65 \
         and ML-DSA-87."
    )]
    UnsupportedMlDsa { name: String },
    #[error("Invalid {what} key: {detail}.")]
    InvalidKey { what: &'static str, detail: String },
    #[error("The stored key material is damaged: {detail}.")]
    CorruptBlob { detail: String },
    #[error(
        "The stored key material has format version {version}, which this simulator does not know."
    )]
    BlobVersion { version: u8 },
    #[error("The file is not a PEM-encoded key: {detail}.")]
    NotPem { detail: String },
    #[error("The PEM file holds a private key; only public keys can be imported from PEM.")]
    PrivateKeyPem,
    #[error("The PEM file holds a {label}, not a public key.")]
    UnexpectedPem { label: String },
    #[error(
        "The key uses the unsupported algorithm {oid}; supported are RSA, EC, Ed25519 and ML-DSA."
    )]
    UnsupportedAlgorithm { oid: String },
    #[error("The EC key uses the unsupported curve {oid}.")]
    UnsupportedCurveOid { oid: String },
    #[error("The {mechanism} mechanism needs {needed}.")]
    WrongKeyType {
        mechanism: &'static str,
        needed: &'static str,
    },
    #[error("Unknown hash function {name}: use sha1, sha224, sha256, sha384 or sha512.")]
    UnknownHash { name: String },
    #[error("Unknown data type {name}: use raw, digest or external-mu.")]
    UnknownDataType { name: String },
    #[error("The {mechanism} mechanism does not accept data type {data_type}.")]
    DataTypeNotSupported {
        mechanism: &'static str,
        data_type: &'static str,
    },
    #[error("The {mechanism} mechanism supports only the {hash} hash function.")]
    HashNotSupported {
        mechanism: &'static str,
        hash: &'static str,
    },
    #[error(
        "The data is not a {hash} digest: a {hash} digest is {expected} bytes long, but {actual} \
         bytes were given."
    )]
    DigestLength {
        hash: &'static str,
        expected: usize,
        actual: usize,
    },
    #[error(
        "With data type digest, rsa-pkcs expects a DER-encoded DigestInfo (RFC 8017 section 9.2) \
         holding a {hash} digest."
    )]
    DigestInfo { hash: &'static str },
    #[error("The mask generation function hash must match the signing hash function.")]
    MgfMismatch,
    #[error("Salt length {salt_length} is too long for this key: it allows at most {max} bytes.")]
    SaltLength { salt_length: usize, max: usize },
    #[error("The data is {actual} bytes long; {mechanism} accepts at most {max} bytes.")]
    DataTooLong {
        mechanism: &'static str,
        max: usize,
        actual: usize,
    },
    #[error("The cryptographic operation failed: {detail}.")]
    Failed { detail: String },
}

impl CryptoError {
    /// A `Failed` error with the given detail.
    pub(crate) fn failed(detail: impl Into<String>) -> CryptoError {
        CryptoError::Failed {
            detail: detail.into(),
        }
    }

    /// A `CorruptBlob` error with the given detail.
    pub(crate) fn corrupt(detail: impl Into<String>) -> CryptoError {
        CryptoError::CorruptBlob {
            detail: detail.into(),
        }
    }

    /// An `InvalidKey` error for the key family `what`.
    pub(crate) fn invalid(what: &'static str, detail: impl Into<String>) -> CryptoError {
        CryptoError::InvalidKey {
            what,
            detail: detail.into(),
        }
    }
}
