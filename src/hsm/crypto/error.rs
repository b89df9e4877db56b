//! Why a cryptographic operation of the simulated HSM was refused or failed; each text is
//! a sentence the user may see in the `data` field of the error envelope.

/// A refused or failed cryptographic operation.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CryptoError {
    /// An AES key length other than 16, 24 or 32 bytes.
    #[error("Invalid AES key length {len}: an AES key is 16, 24 or 32 bytes long.")]
    AesKeyLength { len: usize },
    /// A generic secret length outside 1 to 800 bytes.
    #[error(
        "Invalid generic secret key length {len}: a generic secret key is 1 to 800 bytes long."
    )]
    GenericSecretLength { len: usize },
    /// A DES3 key of another length than 24 bytes.
    #[error("Invalid DES3 key length {len}: a DES3 key is 24 bytes long.")]
    Des3KeyLength { len: usize },
    /// An RSA modulus size the HSM cannot generate.
    #[error(
        "Invalid RSA modulus size {bits}: the modulus size must be 2048 to 4096 bits, in steps \
         of 256 bits."
    )]
    ModulusSize { bits: usize },
    /// An RSA public exponent that is even, too small or too large.
    #[error(
        "Invalid RSA public exponent {exponent}: the public exponent must be an odd number from \
         65537 to 8589934591."
    )]
    PublicExponent { exponent: String },
    /// A curve name the CLI does not know.
    #[error(
        "Unsupported elliptic curve {name}: the supported curves are prime256v1, secp256r1, \
         secp224r1, secp384r1, secp256k1, secp521r1 and ed25519."
    )]
    UnsupportedCurve { name: String },
    /// An ML-DSA parameter set name the CLI does not know.
    #[error(
        "Unsupported ML-DSA algorithm {name}: the supported algorithms are ML-DSA-44, ML-DSA-65 \
         and ML-DSA-87."
    )]
    UnsupportedMlDsa { name: String },
    /// Key material that is malformed or outside the HSM's limits.
    #[error("Invalid {what} key: {detail}.")]
    InvalidKey { what: &'static str, detail: String },
    /// A stored key blob that cannot be decoded.
    #[error("The stored key material is damaged: {detail}.")]
    CorruptBlob { detail: String },
    /// A stored key blob of an unknown format version.
    #[error(
        "The stored key material has format version {version}, which this simulator does not know."
    )]
    BlobVersion { version: u8 },
    /// A file that holds no usable PEM block.
    #[error("The file is not a PEM-encoded key: {detail}.")]
    NotPem { detail: String },
    /// A PEM file holding a private key where a public key is expected.
    #[error("The PEM file holds a private key; only public keys can be imported from PEM.")]
    PrivateKeyPem,
    /// A PEM block of another kind (certificate, parameters, ...).
    #[error("The PEM file holds a {label}, not a public key.")]
    UnexpectedPem { label: String },
    /// A key algorithm other than RSA, EC, Ed25519 and ML-DSA.
    #[error(
        "The key uses the unsupported algorithm {oid}; supported are RSA, EC, Ed25519 and ML-DSA."
    )]
    UnsupportedAlgorithm { oid: String },
    /// An EC key on a curve the HSM does not support.
    #[error("The EC key uses the unsupported curve {oid}.")]
    UnsupportedCurveOid { oid: String },
    /// A key of the wrong type for the mechanism.
    #[error("The {mechanism} mechanism needs {needed}.")]
    WrongKeyType {
        mechanism: &'static str,
        needed: &'static str,
    },
    /// A hash function name the CLI does not know.
    #[error("Unknown hash function {name}: use sha1, sha224, sha256, sha384 or sha512.")]
    UnknownHash { name: String },
    /// A data type name the CLI does not know.
    #[error("Unknown data type {name}: use raw, digest or external-mu.")]
    UnknownDataType { name: String },
    /// A data type the mechanism does not accept.
    #[error("The {mechanism} mechanism does not accept data type {data_type}.")]
    DataTypeNotSupported {
        mechanism: &'static str,
        data_type: &'static str,
    },
    /// Digest (or mu) data of the wrong length.
    #[error(
        "The data is not a {hash} digest: a {hash} digest is {expected} bytes long, but {actual} \
         bytes were given."
    )]
    DigestLength {
        hash: &'static str,
        expected: usize,
        actual: usize,
    },
    /// rsa-pkcs digest data that is not the DigestInfo of the chosen hash.
    #[error(
        "With data type digest, rsa-pkcs expects a DER-encoded DigestInfo (RFC 8017 section 9.2) \
         holding a {hash} digest."
    )]
    DigestInfo { hash: &'static str },
    /// A PSS mask generation hash different from the signing hash.
    #[error("The mask generation function hash must match the signing hash function.")]
    MgfMismatch,
    /// A PSS salt too long for the key.
    #[error("Salt length {salt_length} is too long for this key: it allows at most {max} bytes.")]
    SaltLength { salt_length: usize, max: usize },
    /// Data longer than the mechanism accepts.
    #[error("The data is {actual} bytes long; {mechanism} accepts at most {max} bytes.")]
    DataTooLong {
        mechanism: &'static str,
        max: usize,
        actual: usize,
    },
    /// A key derivation whose parameters cannot work.
    #[error("Invalid key derivation parameters: {detail}.")]
    Kdf { detail: String },
    /// A failure inside a crypto library.
    #[error("The cryptographic operation failed: {detail}.")]
    Failed { detail: String },
    /// An AES-GCM tag length other than 64 to 128 bits in steps of 8.
    #[error(
        "Invalid AES-GCM tag length {bits}: the tag length must be 64 to 128 bits, in steps of 8 \
         bits."
    )]
    TagLength { bits: usize },
    /// A missing, unexpected or malformed IV.
    #[error("Invalid IV: {detail}.")]
    Iv { detail: String },
    /// A key to wrap whose length the wrapping mechanism cannot take.
    #[error("The {mechanism} mechanism cannot wrap this key: {detail}.")]
    PayloadLength {
        mechanism: &'static str,
        detail: String,
    },
    /// Wrapped key data that fails to unwrap (wrong key, parameters or damaged data).
    #[error("The data could not be unwrapped with {mechanism}: {detail}.")]
    Unwrap {
        mechanism: &'static str,
        detail: String,
    },
    /// Data of a length the unpadded block mode cannot take.
    #[error("The {what} is {len} bytes long; {mechanism} takes a whole number of 16-byte blocks.")]
    BlockMultiple {
        mechanism: &'static str,
        what: &'static str,
        len: usize,
    },
    /// An AES-CTR counter width outside 1 to 128 bits.
    #[error("Invalid AES-CTR counter width {bits}: the counter is 1 to 128 bits wide.")]
    CounterBits { bits: u32 },
    /// More AES-CTR blocks than the counter has values left.
    #[error(
        "The {bits}-bit AES-CTR counter would wrap: the data is longer than the counter block \
         allows."
    )]
    CounterExhausted { bits: u32 },
    /// A mechanism that has only single-part operations, given part of its data.
    #[error("{mechanism} is single-part only: give all the data in one call.")]
    SinglePartOnly { mechanism: &'static str },
    /// RSA-OAEP with a mask generation hash other than the label hash.
    #[error(
        "The RSA-OAEP mask generation function must use the OAEP hash function ({hash}), not \
         {mgf}."
    )]
    OaepMgfMismatch {
        hash: &'static str,
        mgf: &'static str,
    },
    /// Raw RSA input whose number is not below the modulus.
    #[error("The data is not below the RSA modulus: {mechanism} takes a number smaller than the modulus.")]
    RawRsaTooLarge { mechanism: &'static str },
    /// Ciphertext that fails to decrypt (wrong key, parameters or damaged data).
    #[error("The data could not be decrypted with {mechanism}: {detail}.")]
    Decrypt {
        mechanism: &'static str,
        detail: String,
    },
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
