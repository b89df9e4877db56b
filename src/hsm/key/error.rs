//! Refusals of key operations. Texts documented by AWS or seen from the real CLI are verbatim
//! (see docs/errors.md); the rest are the emulator's.

use crate::hsm::crypto::CryptoError;

/// Why a key operation was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum KeyError {
    /// No key the caller can see matches the selection (or the key it matched is gone).
    #[error(
        "Key selection criteria matched 0 keys. Refine selection criteria to select a single key."
    )]
    NotFound,
    /// The selection matched more than one key.
    #[error("Key selection criteria matched {count} keys. Refine selection criteria to select a single key.")]
    SelectionCount { count: usize },
    #[error("Invalid filter {term}: use key-reference=0x... or attr.KEY_ATTRIBUTE_NAME=KEY_ATTRIBUTE_VALUE")]
    MalformedFilter { term: String },
    #[error("Invalid key reference {value}: use a hexadecimal (0x...) or decimal key reference")]
    InvalidReference { value: String },
    #[error("Unknown key attribute {name}")]
    UnknownAttribute { name: String },
    #[error("Invalid attribute {item}: use KEY_ATTRIBUTE_NAME=KEY_ATTRIBUTE_VALUE")]
    MalformedAttribute { item: String },
    #[error("Invalid value {value} for attribute {name}")]
    InvalidAttributeValue { name: String, value: String },
    #[error(
        "Invalid value {value} for attribute id: an id is hexadecimal with an even number of \
         digits, 0x optional (for example 0x0a1b)"
    )]
    InvalidId { value: String },
    #[error("Attribute {name} cannot be set by the user for this operation")]
    ReadOnlyAttribute { name: String },
    #[error("Attribute {name} cannot be set to the value {value} by the user for this operation")]
    OneWayAttribute { name: String, value: String },
    #[error("Token key attribute cannot be supplied via optional attributes")]
    TokenInAttributes,
    #[error(
        "Attribute {name} cannot be set to true on a key of type {key_type} and class {class}"
    )]
    AttributeDoesNotFit {
        name: String,
        key_type: &'static str,
        class: &'static str,
    },
    #[error("Attribute {name} cannot be set {why}")]
    AttributeUnsupported { name: String, why: &'static str },
    #[error("Invalid label: a label is at most {max} characters long")]
    LabelTooLong { max: usize },
    #[error("The key is not modifiable")]
    NotModifiable,
    #[error("Only the owner of a key can perform this operation")]
    NotOwner,
    #[error("Keys can only be shared with crypto users")]
    ShareWithNonCryptoUser,
    #[error("User {username} with role crypto-user does not exist")]
    ShareTargetMissing { username: String },
    #[error("A key cannot be shared with its owner")]
    ShareWithOwner,
    #[error("The key is already shared with {username}")]
    AlreadyShared { username: String },
    #[error("The key is not shared with {username}")]
    NotShared { username: String },
    #[error("The manage key and use key quorum values must be set to a value greater than 1")]
    QuorumValuesBelowTwo,
    #[error("Invalid quorum value provided.")]
    InvalidQuorumValue,
    #[error("Maximum number of keys for this cluster reached ({max})")]
    KeyQuota { max: usize },
    #[error("Maximum number of asymmetric keys for this cluster reached ({max})")]
    AsymmetricKeyQuota { max: usize },
    #[error("{what} is only supported on hsm2m.medium clusters in non-FIPS mode")]
    NeedsHsm2mNonFips { what: &'static str },
    #[error("{mechanism} encryption and decryption are disallowed for clusters in FIPS mode")]
    DisallowedInFipsMode { mechanism: &'static str },
    #[error("{what} is only supported on hsm2m.medium clusters")]
    NeedsHsm2m { what: &'static str },
    #[error("The pem encoding supports public keys only; use reference-pem for a private key")]
    PemNeedsPublicKey,
    #[error("The reference-pem encoding supports private keys only; use pem for a public key")]
    ReferencePemNeedsPrivateKey,
    #[error(
        "key generate-file exports asymmetric keys only (a public key with pem, a private key \
         with reference-pem): the selected key is a secret key"
    )]
    GenerateFileNeedsAsymmetricKey,
    #[error("The PEM file holds {found}, not {expected}")]
    ImportTypeMismatch {
        found: &'static str,
        expected: &'static str,
    },
    #[error("Quorum Failed")]
    QuorumFailed,
    #[error("Signature verification failed")]
    SignatureInvalid,
    #[error("This operation needs {needed}")]
    WrongClass { needed: &'static str },
    #[error("The key's {name} attribute must be true for this operation")]
    AttributeRequired { name: &'static str },
    #[error("The payload key must be extractable (extractable=true) to be wrapped")]
    NotExtractable,
    #[error("The payload key has wrap-with-trusted set: only a trusted wrapping key can wrap it")]
    NeedsTrustedWrappingKey,
    #[error("The payload key does not match the wrapping key's wrap template ({name})")]
    WrapTemplateMismatch { name: &'static str },
    #[error("The attributes given conflict with the unwrapping key's unwrap template ({name})")]
    UnwrapTemplateConflict { name: &'static str },
    /// DES3 keys are made, imported, unwrapped and used only on non-FIPS clusters (AWS: "In
    /// accordance with NIST guidance, this is disallowed for clusters in FIPS mode after 2023").
    #[error(
        "DES3 keys are disallowed for clusters in FIPS mode (NIST guidance, after 2023); they \
         are allowed on clusters in non-FIPS mode"
    )]
    Des3InFipsMode,
    #[error("ML-DSA keys cannot be unwrapped")]
    MlDsaUnwrap,
    #[error("The wrapped data holds {found} key material, not {expected}")]
    UnwrappedTypeMismatch {
        found: &'static str,
        expected: &'static str,
    },
    #[error("Cannot perform the requested key operation as the key must be available on at least 2 HSMs")]
    KeyUnavailable,
    #[error("Session keys cannot be extracted as masked objects")]
    SessionKeyNotMaskable,
    #[error("The masked object was altered or is not a cloudhsm-sim masked object")]
    MaskedObjectInvalid,
    #[error(
        "The masked object belongs to cluster {cluster}: only an HSM of that cluster can insert it"
    )]
    MaskedObjectForeign { cluster: String },
    #[error(transparent)]
    Crypto(#[from] CryptoError),
    /// A state the emulator never reaches unless it has a bug (a generated pair without its
    /// private half, a stored key that did not come back).
    #[error("{0}")]
    Internal(&'static str),
}
