//! Refusals of the session layer: the state machine and the permission table. Refusals of
//! the simulated HSM are wrapped unchanged, so their texts reach the user as they are.

use crate::hsm::HsmError;

/// Why the session refused or failed a command.
#[derive(Debug, thiserror::Error)]
pub enum SessionError {
    #[error("You must be logged in to run {command}")]
    NotLoggedIn { command: &'static str },
    #[error("No user is logged in")]
    NoLogin,
    #[error("The source and the destination are the same cluster ({cluster}): replicate to a clone of it")]
    SameCluster { cluster: String },
    #[error("You must be logged in on the destination cluster {cluster} to run {command}: log in with login --cluster-id {cluster}")]
    NotLoggedInDestination {
        command: &'static str,
        cluster: String,
    },
    #[error("User {username} is already logged in. Log out before logging in again")]
    AlreadyLoggedIn { username: String },
    #[error("Invalid starting token {token}: use the next_token of a previous key list")]
    InvalidStartingToken { token: String },
    #[error(
        "The signature file {path} holds base64 text: --signature-path takes the raw signature \
         bytes (decode the file with base64 -d, or give the text with --signature)"
    )]
    SignatureFileIsBase64 { path: String },
    #[error("Unable to read {path}: {reason}")]
    ReadFile { path: String, reason: String },
    #[error("Unable to write {path}: {reason}")]
    WriteFile { path: String, reason: String },
    #[error("Invalid base64 in {what}")]
    InvalidBase64 { what: &'static str },
    #[error("Invalid hex in {what}")]
    InvalidHex { what: &'static str },
    #[error("User {username} with role {role} is not permitted to run {command}")]
    PermissionDenied {
        username: String,
        role: &'static str,
        command: &'static str,
    },
    #[error("User admin with role unactivated-admin is not permitted to run {command}: the cluster is not activated yet; activate it with cluster activate, then log in as admin")]
    NotActivated { command: &'static str },
    #[error("The interactive command cannot be run inside an interactive session")]
    NestedInteractive,
    #[error("Passwords do not match")]
    PasswordMismatch,
    #[error("No password was given")]
    NoPassword,
    #[error("No confirmation password was given: the password must be entered twice")]
    NoConfirmation,
    #[error("No input was given")]
    NoInput,
    #[error("Could not read the password: {0}")]
    Prompt(std::io::Error),
    #[error("CLOUDHSM_ROLE and CLOUDHSM_PIN must be set to run {command} in single command mode")]
    MissingCredentials { command: &'static str },
    #[error("DESTINATION_CLOUDHSM_ROLE and DESTINATION_CLOUDHSM_PIN must be set to run {command} in single command mode")]
    MissingDestinationCredentials { command: &'static str },
    #[error("CLOUDHSM_PIN must have the form <username>:<password>")]
    MalformedPin,
    #[error("CLOUDHSM_ROLE must be one of: admin, crypto-user, appliance-user")]
    UnknownRole,
    #[error("{0}")]
    Hsm(#[from] HsmError),
}

impl SessionError {
    /// Whether the command was stopped because its cluster's database was replaced (reset,
    /// imported) by another process while it ran.
    pub fn is_replaced(&self) -> bool {
        matches!(
            self,
            SessionError::Hsm(HsmError::Store(crate::store::StoreError::Replaced { .. }))
        )
    }
}

/// Every error the session and the simulated HSM can report, with placeholder values in
/// braces, for `docs/errors.md`. The exhaustive matches below stop the build when a variant
/// is added without a sample here.
pub fn catalogue() -> Vec<(&'static str, String)> {
    use std::path::PathBuf;

    use crate::store::StoreError;
    let s = |v: &str| v.to_string();
    let hsm = vec![
        HsmError::BadCredentials,
        HsmError::UserLocked {
            username: s("{username}"),
        },
        HsmError::AlreadyActivated,
        HsmError::UserExists,
        HsmError::UserNotFound {
            username: s("{username}"),
            role: s("{role}"),
        },
        HsmError::DeleteLoggedIn {
            username: s("{username}"),
        },
        HsmError::PasswordChangeLoggedIn {
            username: s("{username}"),
        },
        HsmError::InvalidUsername,
        HsmError::InvalidPassword,
        HsmError::ReservedRole { role: s("{role}") },
        HsmError::UserQuota { max: 1024 },
        HsmError::InvalidClusterId {
            id: s("{cluster-id}"),
        },
        HsmError::ClusterNotFound {
            id: s("{cluster-id}"),
        },
        HsmError::ClusterExists {
            id: s("{cluster-id}"),
        },
        HsmError::ClusterNotConfigured {
            id: s("{cluster-id}"),
        },
        HsmError::MultipleClusters,
        HsmError::Corrupt {
            id: s("{cluster-id}"),
            detail: s("{detail}"),
        },
        HsmError::Kdf(s("{detail}")),
        HsmError::OwnsKeys {
            username: s("{username}"),
        },
        HsmError::NoHsmAvailable {
            id: s("{cluster-id}"),
        },
        HsmError::HsmNotFound { id: s("{hsm-id}") },
        HsmError::LastHsm,
        HsmError::TooManyHsms { max: 28 },
        HsmError::NotPermitted {
            username: s("{username}"),
            role: "{role}",
            operation: "{operation}",
        },
        HsmError::AttributeNotPermitted {
            username: s("{username}"),
            role: "{role}",
            attribute: s("{attribute}"),
            why: "{why}",
        },
        HsmError::LoginVoid,
        HsmError::NotClones {
            from: s("{source}"),
            to: s("{destination}"),
        },
        HsmError::ReplicaUserMissing {
            username: s("{username}"),
            cluster: s("{cluster}"),
        },
        HsmError::ReferenceTaken {
            reference: s("{reference}"),
            cluster: s("{cluster}"),
        },
        HsmError::SessionKeyNotReplicable,
        HsmError::Store(StoreError::NotOurs {
            path: PathBuf::from("{path}"),
        }),
    ];
    let session = vec![
        SessionError::NotLoggedIn {
            command: "{command}",
        },
        SessionError::NoLogin,
        SessionError::SameCluster {
            cluster: s("{cluster}"),
        },
        SessionError::NotLoggedInDestination {
            command: "{command}",
            cluster: s("{cluster}"),
        },
        SessionError::AlreadyLoggedIn {
            username: s("{username}"),
        },
        SessionError::InvalidStartingToken {
            token: s("{token}"),
        },
        SessionError::SignatureFileIsBase64 { path: s("{path}") },
        SessionError::ReadFile {
            path: s("{path}"),
            reason: s("{reason}"),
        },
        SessionError::WriteFile {
            path: s("{path}"),
            reason: s("{reason}"),
        },
        SessionError::InvalidBase64 { what: "{what}" },
        SessionError::InvalidHex { what: "{what}" },
        SessionError::PermissionDenied {
            username: s("{username}"),
            role: "{role}",
            command: "{command}",
        },
        SessionError::NotActivated {
            command: "{command}",
        },
        SessionError::NestedInteractive,
        SessionError::PasswordMismatch,
        SessionError::NoPassword,
        SessionError::NoConfirmation,
        SessionError::NoInput,
        SessionError::Prompt(std::io::Error::other("{detail}")),
        SessionError::MissingCredentials {
            command: "{command}",
        },
        SessionError::MissingDestinationCredentials {
            command: "{command}",
        },
        SessionError::MalformedPin,
        SessionError::UnknownRole,
    ];
    let store = vec![
        StoreError::Directory {
            path: PathBuf::from("{path}"),
            source: std::io::Error::other("{detail}"),
        },
        StoreError::Symlink {
            path: PathBuf::from("{path}"),
        },
        StoreError::NotOurs {
            path: PathBuf::from("{path}"),
        },
        StoreError::FutureSchema {
            path: PathBuf::from("{path}"),
            found: crate::store::SCHEMA_VERSION + 1,
            supported: crate::store::SCHEMA_VERSION,
        },
        StoreError::Damaged {
            path: PathBuf::from("{path}"),
            detail: s("{detail}"),
        },
        StoreError::Replaced {
            path: PathBuf::from("{path}"),
        },
        StoreError::Config {
            path: PathBuf::from("{path}"),
            detail: s("{detail}"),
        },
        StoreError::Unwritable(rusqlite::Error::SqliteFailure(
            rusqlite::ffi::Error::new(rusqlite::ffi::SQLITE_FULL),
            Some(s("{detail}")),
        )),
    ];
    use crate::hsm::key::KeyError as K;
    let key = vec![
        K::NotFound,
        K::SelectionCount { count: 2 },
        K::MalformedFilter { term: s("{term}") },
        K::InvalidReference {
            value: s("{value}"),
        },
        K::UnknownAttribute { name: s("{name}") },
        K::MalformedAttribute { item: s("{item}") },
        K::InvalidAttributeValue {
            name: s("{name}"),
            value: s("{value}"),
        },
        K::InvalidId {
            value: s("{value}"),
        },
        K::ReadOnlyAttribute { name: s("{name}") },
        K::OneWayAttribute {
            name: s("{name}"),
            value: s("{value}"),
        },
        K::TokenInAttributes,
        K::AttributeDoesNotFit {
            name: s("{name}"),
            key_type: "{key-type}",
            class: "{class}",
        },
        K::AttributeUnsupported {
            name: s("{name}"),
            why: "{why}",
        },
        K::LabelTooLong { max: 127 },
        K::NotModifiable,
        K::NotOwner,
        K::ShareWithNonCryptoUser,
        K::ShareTargetMissing {
            username: s("{username}"),
        },
        K::ShareWithOwner,
        K::AlreadyShared {
            username: s("{username}"),
        },
        K::NotShared {
            username: s("{username}"),
        },
        K::QuorumValuesBelowTwo,
        K::InvalidQuorumValue,
        K::KeyQuota { max: 16666 },
        K::AsymmetricKeyQuota { max: 3333 },
        K::NeedsHsm2mNonFips { what: "{what}" },
        K::NeedsHsm2m { what: "{what}" },
        K::DisallowedInFipsMode {
            mechanism: "{mechanism}",
        },
        K::PemNeedsPublicKey,
        K::ReferencePemNeedsPrivateKey,
        K::GenerateFileNeedsAsymmetricKey,
        K::ImportTypeMismatch {
            found: "{found}",
            expected: "{expected}",
        },
        K::QuorumFailed,
        K::SignatureInvalid,
        K::WrongClass { needed: "{needed}" },
        K::AttributeRequired { name: "{name}" },
        K::NotExtractable,
        K::NeedsTrustedWrappingKey,
        K::WrapTemplateMismatch { name: "{name}" },
        K::UnwrapTemplateConflict { name: "{name}" },
        K::Des3InFipsMode,
        K::MlDsaUnwrap,
        K::UnwrappedTypeMismatch {
            found: "{found}",
            expected: "{expected}",
        },
        K::KeyUnavailable,
        K::SessionKeyNotMaskable,
        K::MaskedObjectInvalid,
        K::MaskedObjectForeign {
            cluster: s("{cluster-id}"),
        },
        K::Internal("{detail}"),
    ];
    use crate::hsm::QuorumError as Q;
    let quorum = vec![
        Q::ApprovalRequired,
        Q::InvalidValue,
        Q::TooFew {
            current: 1,
            required: 2,
        },
        Q::InvalidSignaturePair,
        Q::NoSignatures,
        Q::SessionEnded,
        Q::Expired,
        Q::WrongService {
            issued: s("{service}"),
            wanted: "{wanted}",
        },
        Q::WrongKey,
        Q::BadFile {
            path: s("{path}"),
            detail: s("{detail}"),
        },
        Q::ServiceForAdmins {
            service: "{service}",
        },
        Q::ServiceForCryptoUsers {
            service: "{service}",
        },
        Q::TooManyTokens { max: 1024 },
        Q::BadPublicKey {
            detail: s("{detail}"),
        },
        Q::BadRegistrationSignature,
        Q::NotAQuorumService,
        Q::ClusterServiceUnavailable,
        Q::InvalidTimeout,
        Q::MfaNotEnabled {
            username: s("{username}"),
        },
        Q::MfaRequired {
            username: s("{username}"),
        },
    ];
    let mut out = Vec::new();
    for e in &quorum {
        out.push((quorum_name(e), e.to_string()));
    }
    for e in &key {
        out.push((key_name(e), e.to_string()));
    }
    for e in &mtls_errors() {
        out.push((mtls_name(e), e.to_string()));
    }
    for e in &certificate_errors() {
        out.push((certificate_name(e), e.to_string()));
    }
    // `Crypto` wraps a `CryptoError`: its texts are the `Crypto.*` rows.
    out.push(("Crypto", "{detail}".to_string()));
    for e in &hsm {
        out.push((hsm_name(e), e.to_string()));
    }
    for e in &session {
        out.push((session_name(e), e.to_string()));
    }
    for e in &store {
        out.push((store_name(e), e.to_string()));
    }
    out.extend(super::error_basis::crypto_catalogue());
    out
}

fn hsm_name(e: &HsmError) -> &'static str {
    match e {
        HsmError::BadCredentials => "BadCredentials",
        HsmError::UserLocked { .. } => "UserLocked",
        HsmError::AlreadyActivated => "AlreadyActivated",
        HsmError::UserExists => "UserExists",
        HsmError::UserNotFound { .. } => "UserNotFound",
        HsmError::DeleteLoggedIn { .. } => "DeleteLoggedIn",
        HsmError::PasswordChangeLoggedIn { .. } => "PasswordChangeLoggedIn",
        HsmError::InvalidUsername => "InvalidUsername",
        HsmError::InvalidPassword => "InvalidPassword",
        HsmError::ReservedRole { .. } => "ReservedRole",
        HsmError::UserQuota { .. } => "UserQuota",
        HsmError::InvalidClusterId { .. } => "InvalidClusterId",
        HsmError::ClusterNotFound { .. } => "ClusterNotFound",
        HsmError::ClusterExists { .. } => "ClusterExists",
        HsmError::ClusterNotConfigured { .. } => "ClusterNotConfigured",
        HsmError::MultipleClusters => "MultipleClusters",
        HsmError::Corrupt { .. } => "Corrupt",
        HsmError::Kdf(_) => "Kdf",
        HsmError::OwnsKeys { .. } => "OwnsKeys",
        HsmError::NoHsmAvailable { .. } => "NoHsmAvailable",
        HsmError::HsmNotFound { .. } => "HsmNotFound",
        HsmError::LastHsm => "LastHsm",
        HsmError::TooManyHsms { .. } => "TooManyHsms",
        HsmError::NotPermitted { .. } => "NotPermitted",
        HsmError::AttributeNotPermitted { .. } => "AttributeNotPermitted",
        HsmError::LoginVoid => "LoginVoid",
        HsmError::NotClones { .. } => "NotClones",
        HsmError::ReplicaUserMissing { .. } => "ReplicaUserMissing",
        HsmError::ReferenceTaken { .. } => "ReferenceTaken",
        HsmError::SessionKeyNotReplicable => "SessionKeyNotReplicable",
        HsmError::Key(_) => "Key (any key error below)",
        HsmError::Quorum(_) => "Quorum (any quorum error below)",
        HsmError::Mtls(_) => "Mtls (any mTLS error below)",
        HsmError::Certificate(_) => "Certificate (any certificate error below)",
        HsmError::Store(_) => "Store (any state error below)",
    }
}

fn certificate_errors() -> Vec<crate::hsm::CertificateError> {
    use crate::hsm::CertificateError as C;
    vec![
        C::NeedsHsm2m,
        C::Missing {
            attribute: "{attribute}",
        },
        C::TooLong {
            attribute: "CKA_VALUE",
            max: crate::hsm::MAX_CERTIFICATE_VALUE,
            unit: "bytes",
        },
        C::LabelNotText,
        C::NotFound,
    ]
}

fn certificate_name(e: &crate::hsm::CertificateError) -> &'static str {
    use crate::hsm::CertificateError as C;
    match e {
        C::NeedsHsm2m => "CertificateStorageUnsupported",
        C::Missing { .. } => "CertificateAttributeMissing",
        C::TooLong { .. } => "CertificateAttributeTooLong",
        C::LabelNotText => "CertificateLabelNotText",
        C::NotFound => "CertificateNotFound",
    }
}

fn mtls_errors() -> Vec<crate::hsm::mtls::MtlsError> {
    use crate::hsm::mtls::MtlsError as M;
    let s = |v: &str| v.to_string();
    vec![
        M::ChainTooLarge { size: 7000 },
        M::NotPem {
            detail: s("{detail}"),
        },
        M::UnsupportedKey { key: s("{key}") },
        M::ChainOrder { index: 1 },
        M::Unsupported {
            cluster: s("{cluster}"),
            hsm_type: "{hsm_type}",
        },
        M::TooManyAnchors,
        M::AnchorExists {
            reference: s("{reference}"),
        },
        M::InvalidReference {
            value: s("{value}"),
        },
        M::AnchorNotFound {
            reference: s("{reference}"),
        },
        M::LastAnchorEnforced {
            reference: s("{reference}"),
        },
        M::DefaultAdminOnly,
        M::NoTrustAnchor,
        M::NotMtls,
        M::ConnectionRefused {
            cluster: s("{cluster}"),
            why: s("{why}"),
        },
    ]
}

fn mtls_name(e: &crate::hsm::mtls::MtlsError) -> &'static str {
    use crate::hsm::mtls::MtlsError as M;
    match e {
        M::ChainTooLarge { .. } => "TrustAnchorTooLarge",
        M::NotPem { .. } => "TrustAnchorNotPem",
        M::UnsupportedKey { .. } => "TrustAnchorKeyUnsupported",
        M::ChainOrder { .. } => "TrustAnchorChainOrder",
        M::Unsupported { .. } => "MtlsUnsupported",
        M::TooManyAnchors => "TooManyTrustAnchors",
        M::AnchorExists { .. } => "TrustAnchorExists",
        M::InvalidReference { .. } => "InvalidCertificateReference",
        M::AnchorNotFound { .. } => "TrustAnchorNotFound",
        M::LastAnchorEnforced { .. } => "LastTrustAnchorEnforced",
        M::DefaultAdminOnly => "MtlsDefaultAdminOnly",
        M::NoTrustAnchor => "NoTrustAnchor",
        M::NotMtls => "NotAnMtlsConnection",
        M::ConnectionRefused { .. } => "MtlsConnectionRefused",
    }
}

fn quorum_name(e: &crate::hsm::QuorumError) -> &'static str {
    use crate::hsm::QuorumError as Q;
    match e {
        Q::ApprovalRequired => "ApprovalRequired",
        Q::InvalidValue => "InvalidQuorumValue (quorum)",
        Q::TooFew { .. } => "TooFewApprovals",
        Q::InvalidSignaturePair => "InvalidSignaturePair",
        Q::NoSignatures => "NoSignatures",
        Q::SessionEnded => "TokenSessionEnded",
        Q::Expired => "TokenExpired",
        Q::WrongService { .. } => "WrongService",
        Q::WrongKey => "WrongKey",
        Q::BadFile { .. } => "BadTokenFile",
        Q::ServiceForAdmins { .. } => "ServiceForAdmins",
        Q::ServiceForCryptoUsers { .. } => "ServiceForCryptoUsers",
        Q::TooManyTokens { .. } => "TooManyTokens",
        Q::BadPublicKey { .. } => "BadPublicKey",
        Q::BadRegistrationSignature => "BadRegistrationSignature",
        Q::NotAQuorumService => "NotAQuorumService",
        Q::ClusterServiceUnavailable => "ClusterServiceUnavailable",
        Q::InvalidTimeout => "InvalidTimeout",
        Q::MfaNotEnabled { .. } => "MfaNotEnabled",
        Q::MfaRequired { .. } => "MfaRequired",
    }
}

fn key_name(e: &crate::hsm::key::KeyError) -> &'static str {
    use crate::hsm::key::KeyError as K;
    match e {
        K::NotFound => "NotFound",
        K::SelectionCount { .. } => "SelectionCount",
        K::MalformedFilter { .. } => "MalformedFilter",
        K::InvalidReference { .. } => "InvalidReference",
        K::UnknownAttribute { .. } => "UnknownAttribute",
        K::MalformedAttribute { .. } => "MalformedAttribute",
        K::InvalidAttributeValue { .. } => "InvalidAttributeValue",
        K::InvalidId { .. } => "InvalidId",
        K::ReadOnlyAttribute { .. } => "ReadOnlyAttribute",
        K::OneWayAttribute { .. } => "OneWayAttribute",
        K::TokenInAttributes => "TokenInAttributes",
        K::AttributeDoesNotFit { .. } => "AttributeDoesNotFit",
        K::AttributeUnsupported { .. } => "AttributeUnsupported",
        K::LabelTooLong { .. } => "LabelTooLong",
        K::NotModifiable => "NotModifiable",
        K::NotOwner => "NotOwner",
        K::ShareWithNonCryptoUser => "ShareWithNonCryptoUser",
        K::ShareTargetMissing { .. } => "ShareTargetMissing",
        K::ShareWithOwner => "ShareWithOwner",
        K::AlreadyShared { .. } => "AlreadyShared",
        K::NotShared { .. } => "NotShared",
        K::QuorumValuesBelowTwo => "QuorumValuesBelowTwo",
        K::InvalidQuorumValue => "InvalidQuorumValue",
        K::KeyQuota { .. } => "KeyQuota",
        K::AsymmetricKeyQuota { .. } => "AsymmetricKeyQuota",
        K::NeedsHsm2mNonFips { .. } => "NeedsHsm2mNonFips",
        K::NeedsHsm2m { .. } => "NeedsHsm2m",
        K::DisallowedInFipsMode { .. } => "DisallowedInFipsMode",
        K::PemNeedsPublicKey => "PemNeedsPublicKey",
        K::ReferencePemNeedsPrivateKey => "ReferencePemNeedsPrivateKey",
        K::GenerateFileNeedsAsymmetricKey => "GenerateFileNeedsAsymmetricKey",
        K::ImportTypeMismatch { .. } => "ImportTypeMismatch",
        K::QuorumFailed => "QuorumFailed",
        K::SignatureInvalid => "SignatureInvalid",
        K::WrongClass { .. } => "WrongClass",
        K::AttributeRequired { .. } => "AttributeRequired",
        K::NotExtractable => "NotExtractable",
        K::NeedsTrustedWrappingKey => "NeedsTrustedWrappingKey",
        K::WrapTemplateMismatch { .. } => "WrapTemplateMismatch",
        K::UnwrapTemplateConflict { .. } => "UnwrapTemplateConflict",
        K::Des3InFipsMode => "Des3InFipsMode",
        K::MlDsaUnwrap => "MlDsaUnwrap",
        K::UnwrappedTypeMismatch { .. } => "UnwrappedTypeMismatch",
        K::KeyUnavailable => "KeyUnavailable",
        K::SessionKeyNotMaskable => "SessionKeyNotMaskable",
        K::MaskedObjectInvalid => "MaskedObjectInvalid",
        K::MaskedObjectForeign { .. } => "MaskedObjectForeign",
        K::Crypto(_) => "Crypto",
        K::Internal(_) => "Internal",
    }
}

fn session_name(e: &SessionError) -> &'static str {
    match e {
        SessionError::NotLoggedIn { .. } => "NotLoggedIn",
        SessionError::NoLogin => "NoLogin",
        SessionError::SameCluster { .. } => "SameCluster",
        SessionError::NotLoggedInDestination { .. } => "NotLoggedInDestination",
        SessionError::AlreadyLoggedIn { .. } => "AlreadyLoggedIn",
        SessionError::InvalidStartingToken { .. } => "InvalidStartingToken",
        SessionError::SignatureFileIsBase64 { .. } => "SignatureFileIsBase64",
        SessionError::ReadFile { .. } => "ReadFile",
        SessionError::WriteFile { .. } => "WriteFile",
        SessionError::InvalidBase64 { .. } => "InvalidBase64",
        SessionError::InvalidHex { .. } => "InvalidHex",
        SessionError::PermissionDenied { .. } => "PermissionDenied",
        SessionError::NotActivated { .. } => "NotActivated",
        SessionError::NestedInteractive => "NestedInteractive",
        SessionError::PasswordMismatch => "PasswordMismatch",
        SessionError::NoPassword => "NoPassword",
        SessionError::NoConfirmation => "NoConfirmation",
        SessionError::NoInput => "NoInput",
        SessionError::Prompt(_) => "Prompt",
        SessionError::MissingCredentials { .. } => "MissingCredentials",
        SessionError::MissingDestinationCredentials { .. } => "MissingDestinationCredentials",
        SessionError::MalformedPin => "MalformedPin",
        SessionError::UnknownRole => "UnknownRole",
        SessionError::Hsm(_) => "Hsm",
    }
}

fn store_name(e: &crate::store::StoreError) -> &'static str {
    use crate::store::StoreError;
    match e {
        StoreError::Directory { .. } => "StoreDirectory",
        StoreError::Symlink { .. } => "StoreSymlink",
        StoreError::NotOurs { .. } => "StoreNotOurs",
        StoreError::FutureSchema { .. } => "StoreFutureSchema",
        StoreError::Damaged { .. } => "StoreDamaged",
        StoreError::Replaced { .. } => "StoreReplaced",
        StoreError::Config { .. } => "StoreConfig",
        StoreError::Unwritable(_) => "StoreUnwritable",
        StoreError::Sqlite(_) => "StoreSqlite",
        StoreError::Io(_) => "StoreIo",
    }
}

/// `docs/errors.md`, generated from [`catalogue`] and the bases of
/// [`super::error_basis::basis`].
pub fn render_errors_markdown() -> String {
    let mut md = String::from(
        "# Errors\n\n\
         <!-- Generated from src/session/error.rs and src/session/error_basis.rs \
         (`SNAPSHOTS=overwrite cargo test --lib errors_md`). \
         Do not edit: a test fails when this file and the code drift apart. -->\n\n\
         Every refusal of a command is one JSON envelope on stdout, `{\"error_code\": 1, \"data\": \"<text>\"}`, \
         and in single-command mode exit status 1. Usage errors (unknown command, option or value) \
         are clap's plain-text message on stderr and exit status 2 instead.\n\n\
         The basis column says why the emulator refuses: *documented* (the AWS CloudHSM User \
         Guide says so), *observed* (scripts and runbooks written against the real CLI show it), \
         *enforced by the HSM* (it follows from what an HSM must enforce: PKCS #11 semantics, \
         the file system, the input), or *ours* (a condition of the simulator itself or of an \
         emulator extension, which the real CLI never meets). A refusal of a well-formed command \
         with none of these bases is a bug. The texts of *observed* rows, and of `SelectionCount`, \
         `OneWayAttribute`, `InvalidQuorumValue` and `SignatureInvalid`, are the real CLI's; the \
         others are the emulator's where the guide gives none (see fidelity.md). Values in braces \
         vary. `Crypto.*` rows are the texts of `Crypto`.\n\n\
         | error | `data` text | basis | source |\n| --- | --- | --- | --- |\n",
    );
    for (name, text) in catalogue() {
        let (basis, source) =
            super::error_basis::basis(name).unwrap_or(("unknown", "missing from error_basis.rs"));
        md.push_str(&format!(
            "| {name} | {} | {basis} | {} |\n",
            text.replace('|', "\\|"),
            source.replace('|', "\\|")
        ));
    }
    md.push_str(
        "\n`BadCredentials` is the text the SDK 5 client library gives for wrong credentials; the \
         CLI's own text is not documented. `UserExists` is matched by scripts as a substring, \
         `AlreadyActivated` exactly.\n",
    );
    md
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_refusal_has_a_basis() {
        let missing: Vec<&str> = catalogue()
            .into_iter()
            .map(|(name, _)| name)
            .filter(|name| super::super::error_basis::basis(name).is_none())
            .collect();
        assert!(
            missing.is_empty(),
            "add these errors to src/session/error_basis.rs: {missing:?}"
        );
    }

    #[test]
    fn errors_md_is_generated_from_the_code() {
        let path = concat!(env!("CARGO_MANIFEST_DIR"), "/docs/errors.md");
        if std::env::var_os("SNAPSHOTS").is_some_and(|v| v == "overwrite") {
            std::fs::write(path, render_errors_markdown()).unwrap();
        }
        let on_disk = std::fs::read_to_string(path).unwrap_or_default();
        assert!(
            on_disk == render_errors_markdown(),
            "docs/errors.md drifted from the error enums: regenerate it with \
             `SNAPSHOTS=overwrite cargo test --lib errors_md`"
        );
    }
}
