//! Why the emulator refuses what it refuses: for every error of `docs/errors.md`, the basis
//! of the refusal and its source. A refusal of a well-formed command is kept only when AWS
//! documents it, real use shows it, or it follows from what the HSM must enforce; `ours`
//! marks conditions of the simulator itself (its state directory, its extension commands)
//! that the real CLI never meets.

use crate::hsm::crypto::CryptoError;

/// The refusal is in the AWS CloudHSM User Guide.
const DOCUMENTED: &str = "documented";
/// Scripts and runbooks written against the real CLI show it (spec/observed-behaviour.md).
const OBSERVED: &str = "observed";
/// It follows from what an HSM must enforce (PKCS #11 semantics, the file system, input).
const ENFORCED: &str = "enforced by the HSM";
/// A condition of the simulator itself, or of an emulator extension.
const OURS: &str = "ours";

/// The basis and the source of the refusal named `name` (a row of `docs/errors.md`), or
/// `None` for a name this table does not know (a test keeps the two in step).
pub fn basis(name: &str) -> Option<(&'static str, &'static str)> {
    Some(match name {
        // mTLS.
        "TrustAnchorTooLarge" | "TooManyTrustAnchors" | "TrustAnchorKeyUnsupported" => (DOCUMENTED, "cluster mtls register-trust-anchor page: at most 2 anchors, chains up to 6980 bytes, EC P-256/384/521 and RSA 2048/3072/4096"),
        "TrustAnchorNotPem" | "TrustAnchorChainOrder" => (DOCUMENTED, "register-trust-anchor page: a PEM chain in hierarchical order"),
        "MtlsUnsupported" => (DOCUMENTED, "mTLS pages: mTLS is a feature of hsm2m.medium"),
        "TrustAnchorExists" => (ENFORCED, "one certificate is one trust anchor"),
        "InvalidCertificateReference" => (DOCUMENTED, "deregister-trust-anchor page: a hexadecimal or decimal certificate reference"),
        "TrustAnchorNotFound" => (ENFORCED, "deregister-trust-anchor names a registered reference"),
        "LastTrustAnchorEnforced" => (ENFORCED, "with mTLS enforced and no anchor no client could connect again (docs/fidelity.md)"),
        "MtlsDefaultAdminOnly" | "NoTrustAnchor" | "NotAnMtlsConnection" => (DOCUMENTED, "set-enforcement page: only the user admin, with a trust anchor registered, over an mTLS connection"),
        "MtlsConnectionRefused" => (DOCUMENTED, "set-enforcement page: after enforcing, non-mTLS connections are dropped"),
        "Mtls (any mTLS error below)" => (DOCUMENTED, "the mTLS rows below"),
        // Certificate storage (PKCS#11 module only).
        "Certificate (any certificate error below)" => (DOCUMENTED, "the certificate rows below"),
        "CertificateStorageUnsupported" => (DOCUMENTED, "PKCS#11 certificate storage page: hsm2m.medium clusters only"),
        "CertificateAttributeMissing" | "CertificateAttributeTooLong" => (DOCUMENTED, "PKCS#11 certificate storage attribute table: CKA_SUBJECT and CKA_VALUE required; label 127 characters, id 128 bytes, public key info 16 KB, value 32 KB"),
        "CertificateLabelNotText" => (ENFORCED, "a label is text (the CLI's labels are UTF-8)"),
        "CertificateNotFound" => (ENFORCED, "an object handle names an existing certificate"),
        // Quorum.
        "ApprovalRequired" => (DOCUMENTED, "quorum authentication pages: a service whose quorum value is above 1 needs an approved token"),
        "InvalidQuorumValue (quorum)" => (DOCUMENTED, "quorum token-sign set-quorum-value page"),
        "TooFewApprovals" | "InvalidSignaturePair" | "NoSignatures" => (OBSERVED, "scripts against SDK 5.17-5.18"),
        "TokenSessionEnded" => (DOCUMENTED, "quorum pages: logging out invalidates the tokens of the session; a single command is a session of its own"),
        "TokenExpired" => (DOCUMENTED, "quorum token-sign list-timeouts / set-timeout: a token is valid for its timeout"),
        "WrongService" => (ENFORCED, "a token approves the service it was generated for (quorum token-sign generate --service)"),
        "WrongKey" => (OBSERVED, "key-service tokens bound to one key with --filter (SDK 5.18)"),
        "BadTokenFile" => (ENFORCED, "a token file is the JSON that quorum token-sign generate writes"),
        "ServiceForAdmins" | "ServiceForCryptoUsers" => (DOCUMENTED, "quorum token-sign generate: only admins and crypto users may generate specific service tokens"),
        "TooManyTokens" => (DOCUMENTED, "quorum token-sign generate: at most 1,024 tokens per HSM"),
        "BadPublicKey" => (DOCUMENTED, "quorum and MFA setup pages: an RSA key pair; RSA keys are 2048 to 4096 bits"),
        "BadRegistrationSignature" => (ENFORCED, "a key is registered only with valid signatures of the tokens"),
        "NotAQuorumService" => (DOCUMENTED, "quorum token-sign set-quorum-value: services user, quorum, cluster"),
        "ClusterServiceUnavailable" => (DOCUMENTED, "set-quorum-value page: the cluster service is on hsm2m.medium"),
        "InvalidTimeout" => (ENFORCED, "a token that expires as it is made can never be used (no upper bound is documented, none is applied)"),
        "MfaNotEnabled" => (ENFORCED, "mfa-token-sign needs a registered MFA key"),
        "MfaRequired" => (DOCUMENTED, "login mfa-token-sign page: a user with MFA logs in with mfa-token-sign"),
        // Keys.
        "NotFound" => (DOCUMENTED, "every single-key command page"),
        "SelectionCount" => (DOCUMENTED, "every single-key command page"),
        "MalformedFilter" | "InvalidReference" => (DOCUMENTED, "Filter keys page: key-reference=... or attr.NAME=VALUE"),
        "UnknownAttribute" => (DOCUMENTED, "Supported attributes for CloudHSM CLI (the attribute names)"),
        "MalformedAttribute" => (DOCUMENTED, "generate pages: --attributes NAME=VALUE"),
        "InvalidAttributeValue" => (DOCUMENTED, "attribute table: booleans are true or false"),
        "InvalidId" => (DOCUMENTED, "attribute table: id is a binary attribute, printed and given as hex"),
        "ReadOnlyAttribute" => (DOCUMENTED, "attribute table: the Settable at key creation and Modifiable columns"),
        "OneWayAttribute" => (DOCUMENTED, "attribute table (modifiable, extractable), PKCS #11 Modifying attributes (token, wrap-with-trusted); observed for extractable"),
        "TokenInAttributes" => (OBSERVED, "scripts against SDK 5.17-5.18"),
        "AttributeDoesNotFit" => (DOCUMENTED, "derive on public keys (PKCS #11 Modifying attributes), sensitive on public keys (attribute table); usage flags are stored on any key"),
        "AttributeUnsupported" => (DOCUMENTED, "attribute table: id, and derive on RSA keys, not on hsm1.medium"),
        "LabelTooLong" => (DOCUMENTED, "generate pages: at most 127 characters (SDK 5.11 and later)"),
        "NotModifiable" => (ENFORCED, "PKCS #11 CKA_MODIFIABLE false: no attribute changes"),
        "NotOwner" => (DOCUMENTED, "key delete, share and set-attribute pages: the key's owner; observed"),
        "ShareWithNonCryptoUser" => (DOCUMENTED, "key share page: keys are shared with crypto users"),
        "ShareTargetMissing" => (ENFORCED, "a key is shared with an existing user"),
        "ShareWithOwner" | "AlreadyShared" | "NotShared" => (ENFORCED, "the HSM's list of a key's sharees"),
        "QuorumValuesBelowTwo" => (OBSERVED, "scripts against SDK 5.17-5.18"),
        "InvalidQuorumValue" => (DOCUMENTED, "generate pages: quorum values up to 8 and the key's users"),
        "KeyQuota" | "AsymmetricKeyQuota" => (DOCUMENTED, "AWS CloudHSM quotas page"),
        "InvalidStartingToken" => (DOCUMENTED, "key list help: the starting token is the next token of a previous response"),
        "NeedsHsm2mNonFips" => (DOCUMENTED, "attribute table and ed25519 pages: hsm2m.medium in non-FIPS mode"),
        "NeedsHsm2m" => (DOCUMENTED, "ML-DSA pages: hsm2m.medium"),
        "DisallowedInFipsMode" => (DOCUMENTED, "PKCS #11 library mechanisms, footnote 5: CKM_RSA_PKCS encryption and decryption are disallowed for clusters in FIPS mode after 2023"),
        "PemNeedsPublicKey" | "ReferencePemNeedsPrivateKey" | "GenerateFileNeedsAsymmetricKey" => (DOCUMENTED, "key generate-file help: pem supports public keys, reference-pem private keys; the command exports asymmetric keys"),
        "SignatureFileIsBase64" => (ENFORCED, "the file holds no signature: --signature-path reads raw bytes, like --data-path (the real CLI fails to verify it too)"),
        "ImportTypeMismatch" => (DOCUMENTED, "key import pem --key-type-class"),
        "ReadFile" | "WriteFile" => (ENFORCED, "the file system"),
        "QuorumFailed" => (OBSERVED, "scripts against SDK 5.17-5.18"),
        "SignatureInvalid" => (DOCUMENTED, "crypto verify pages: the text of a signature that does not verify"),
        "WrongClass" => (ENFORCED, "PKCS #11: a key does what its class can (sign with a private key, verify with a public key)"),
        "AttributeRequired" => (ENFORCED, "PKCS #11 CKR_KEY_FUNCTION_NOT_PERMITTED: the key's usage attribute must be true"),
        "InvalidBase64" => (DOCUMENTED, "crypto pages: --data and --signature are Base64 encoded"),
        "NotExtractable" => (DOCUMENTED, "attribute table: extractable; key wrap pages"),
        "NeedsTrustedWrappingKey" => (DOCUMENTED, "trusted keys page: wrap-with-trusted"),
        "WrapTemplateMismatch" => (DOCUMENTED, "trusted keys page and AWS's wrap_with_template sample: a payload must match the wrapping key's CKA_WRAP_TEMPLATE (set through PKCS#11)"),
        "UnwrapTemplateConflict" => (DOCUMENTED, "trusted keys page: a value conflicting with the unwrapping key's CKA_UNWRAP_TEMPLATE fails the unwrap"),
        "Des3InFipsMode" => (DOCUMENTED, "PKCS #11 library mechanisms and key types, footnote 5: DES3 is disallowed for clusters in FIPS mode after 2023, still allowed in non-FIPS mode"),
        "MlDsaUnwrap" => (ENFORCED, "key unwrap --key-type-class offers no ML-DSA class"),
        "UnwrappedTypeMismatch" => (ENFORCED, "the wrapped key must be of --key-type-class"),
        "InvalidHex" => (DOCUMENTED, "key wrap and unwrap pages: --iv and --aad are hex"),
        "KeyUnavailable" => (OBSERVED, "scripts against SDK 5.17-5.18; configure-cli --disable-key-availability-check"),
        "SessionKeyNotMaskable" | "MaskedObjectInvalid" | "MaskedObjectForeign" => (OURS, "the emulator's key extract-masked and insert-masked"),
        "Crypto" => (ENFORCED, "the rows Crypto.* below"),
        "Internal" => (OURS, "a state only a bug of the emulator reaches"),
        // Users and clusters.
        "BadCredentials" => (OBSERVED, "the SDK 5 client library's text"),
        "UserLocked" => (DOCUMENTED, "login page: more than five failed attempts lock the account"),
        "AlreadyActivated" | "UserExists" => (OBSERVED, "scripts match the text"),
        "UserNotFound" => (ENFORCED, "the user must exist"),
        "DeleteLoggedIn" | "PasswordChangeLoggedIn" => (DOCUMENTED, "user delete and change-password pages: not a user who is logged in"),
        "InvalidUsername" | "InvalidPassword" => (DOCUMENTED, "user create page and quotas page"),
        "ReservedRole" => (ENFORCED, "only admins and crypto users are created"),
        "UserQuota" => (DOCUMENTED, "AWS CloudHSM quotas page"),
        "InvalidClusterId" | "ClusterNotFound" | "ClusterExists" | "ClusterNotConfigured" => (OURS, "the simulator's state directory and CLI configuration"),
        "MultipleClusters" => (OBSERVED, "reported by a script author"),
        "Corrupt" | "Kdf" => (OURS, "the simulator's own state"),
        "OwnsKeys" => (DOCUMENTED, "user delete page; observed"),
        "NoHsmAvailable" => (OURS, "a simulated outage (cloudhsm-sim hsm fail): the real CLI cannot reach an HSM either"),
        "HsmNotFound" | "LastHsm" => (OURS, "cloudhsm-sim hsm commands"),
        "TooManyHsms" => (DOCUMENTED, "AWS CloudHSM quotas page: 28 HSMs per cluster"),
        "NotPermitted" => (DOCUMENTED, "Managing HSM users: the permission table (the simulated HSM's own check, behind the CLI's PermissionDenied)"),
        "LoginVoid" => (OURS, "a login held by a front end after its cluster was reset or imported (cloudhsm-sim reset, import --replace), or offered to another cluster"),
        // The session.
        "NotLoggedIn" => (DOCUMENTED, "each command page's Requirements"),
        "NoLogin" => (ENFORCED, "logout needs a login"),
        "SameCluster" => (ENFORCED, "replication copies from one cluster to another: a cluster cannot be its own destination"),
        "NotLoggedInDestination" => (DOCUMENTED, "user replicate / key replicate: the user must be logged in on both the source and the destination cluster"),
        "MissingDestinationCredentials" => (DOCUMENTED, "single-command mode: replication reads DESTINATION_CLOUDHSM_ROLE and DESTINATION_CLOUDHSM_PIN for the destination cluster"),
        "NotClones" => (DOCUMENTED, "user replicate / key replicate: the source and destination clusters must be clones (made from a common backup)"),
        "ReplicaUserMissing" => (DOCUMENTED, "key replicate: the key's owner and every user it is shared with must exist on the destination"),
        "ReferenceTaken" => (ENFORCED, "the replicated key keeps its reference; a destination cannot hold two keys at one reference"),
        "SessionKeyNotReplicable" => (ENFORCED, "a session key exists only in the session that made it (key generate-symmetric --session)"),
        "AlreadyLoggedIn" => (ENFORCED, "one login per cluster in a session"),
        "PermissionDenied" => (DOCUMENTED, "Managing HSM users: the permission table"),
        "NotActivated" => (DOCUMENTED, "Activate the cluster: the unactivated admin may only log in and run cluster activate"),
        "AttributeNotPermitted" => (DOCUMENTED, "trusted keys page: only an admin sets trusted, and an admin sets nothing else"),
        "NestedInteractive" => (OURS, "interactive typed inside the shell"),
        "PasswordMismatch" | "NoPassword" | "NoConfirmation" | "NoInput" | "Prompt" => (ENFORCED, "the input ended or the two entries differ"),
        "MissingCredentials" | "MalformedPin" | "UnknownRole" => (DOCUMENTED, "single-command mode: CLOUDHSM_ROLE and CLOUDHSM_PIN=<username>:<password>"),
        "Store (any state error below)" | "StoreDirectory" | "StoreSymlink" | "StoreNotOurs" | "StoreFutureSchema" | "StoreDamaged" | "StoreUnwritable" | "StoreReplaced" | "StoreConfig" => (OURS, "the simulator's state directory"),
        // Cryptography.
        "Crypto.AesKeyLength" => (DOCUMENTED, "AES keys are 16, 24 or 32 bytes"),
        "Crypto.Des3KeyLength" => (DOCUMENTED, "PKCS #11 key types: Triple DES (3DES) is 192-bit"),
        "Crypto.GenericSecretLength" => (DOCUMENTED, "generic secrets are 1 to 800 bytes"),
        "Crypto.ModulusSize" => (DOCUMENTED, "PKCS #11 key types: 2048 to 4096 bits in steps of 256"),
        "Crypto.PublicExponent" => (DOCUMENTED, "RSA page: an odd number of at least 65537; the upper bound is the RSA library's (ours)"),
        "Crypto.UnsupportedCurve" | "Crypto.UnsupportedCurveOid" => (DOCUMENTED, "attribute table: the supported curves"),
        "Crypto.UnsupportedMlDsa" => (DOCUMENTED, "ML-DSA pages: ML-DSA-44, -65, -87"),
        "Crypto.InvalidKey" => (ENFORCED, "malformed key material"),
        "Crypto.CorruptBlob" | "Crypto.BlobVersion" => (OURS, "the simulator's own state"),
        "Crypto.NotPem" | "Crypto.PrivateKeyPem" | "Crypto.UnexpectedPem" => (DOCUMENTED, "key import pem: public keys in PEM"),
        "Crypto.UnsupportedAlgorithm" => (DOCUMENTED, "the supported key types"),
        "Crypto.WrongKeyType" => (ENFORCED, "a mechanism works with its key type (an EC key cannot encrypt with AES-GCM)"),
        "Crypto.UnknownHash" | "Crypto.UnknownDataType" | "Crypto.DataTypeNotSupported" => (DOCUMENTED, "the possible values of each mechanism's options"),
        "Crypto.DigestLength" | "Crypto.DigestInfo" => (ENFORCED, "a digest has its hash's length (PKCS #1 DigestInfo for rsa-pkcs)"),
        "Crypto.MgfMismatch" => (DOCUMENTED, "rsa-pkcs-pss pages: the MGF hash matches the signing hash"),
        "Crypto.SaltLength" => (ENFORCED, "RFC 8017: the salt must fit the modulus"),
        "Crypto.DataTooLong" => (DOCUMENTED, "ed25519 pages: at most 16,000 bytes; RSA-OAEP's size limit (RFC 8017)"),
        "Crypto.Failed" | "Crypto.Iv" | "Crypto.PayloadLength" | "Crypto.Unwrap" | "Crypto.Decrypt" => (ENFORCED, "the mechanism's own rules (IV sizes, wrapped lengths, authentication)"),
        "Crypto.BlockMultiple" => (ENFORCED, "NIST SP 800-38A: ECB and CBC without padding work on whole blocks (PKCS #11 CKR_DATA_LEN_RANGE, CKR_ENCRYPTED_DATA_LEN_RANGE)"),
        "Crypto.CounterBits" | "Crypto.CounterExhausted" => (ENFORCED, "PKCS #11 CK_AES_CTR_PARAMS: a counter of 1 to 128 bits that must not wrap"),
        "Crypto.SinglePartOnly" => (DOCUMENTED, "PKCS #11 library mechanisms (1p: single-part only) and known issues: no multi-part AES-GCM"),
        "Crypto.OaepMgfMismatch" => (DOCUMENTED, "PKCS #11 library mechanisms, footnote 4: the OAEP hash and MGF1 hash pairs"),
        "Crypto.RawRsaTooLarge" => (ENFORCED, "RFC 8017 RSAEP/RSADP: the number is below the modulus"),
        "Crypto.Kdf" => (ENFORCED, "NIST SP 800-108: the counter and L fit their widths"),
        "Crypto.TagLength" => (ENFORCED, "NIST SP 800-38D: GCM tags of 64 to 128 bits"),
        _ => return None,
    })
}

/// A sample of every cryptographic refusal, with placeholder values, named `Crypto.VARIANT`.
/// The exhaustive match stops the build when a variant is added without a row here.
pub fn crypto_catalogue() -> Vec<(&'static str, String)> {
    let s = |v: &str| v.to_string();
    let samples = [
        CryptoError::AesKeyLength { len: 20 },
        CryptoError::Des3KeyLength { len: 16 },
        CryptoError::GenericSecretLength { len: 0 },
        CryptoError::ModulusSize { bits: 1024 },
        CryptoError::PublicExponent {
            exponent: s("{exponent}"),
        },
        CryptoError::UnsupportedCurve { name: s("{name}") },
        CryptoError::UnsupportedMlDsa { name: s("{name}") },
        CryptoError::InvalidKey {
            what: "{what}",
            detail: s("{detail}"),
        },
        CryptoError::CorruptBlob {
            detail: s("{detail}"),
        },
        CryptoError::BlobVersion { version: 9 },
        CryptoError::NotPem {
            detail: s("{detail}"),
        },
        CryptoError::PrivateKeyPem,
        CryptoError::UnexpectedPem {
            label: s("{label}"),
        },
        CryptoError::UnsupportedAlgorithm { oid: s("{oid}") },
        CryptoError::UnsupportedCurveOid { oid: s("{oid}") },
        CryptoError::WrongKeyType {
            mechanism: "{mechanism}",
            needed: "{needed}",
        },
        CryptoError::UnknownHash { name: s("{name}") },
        CryptoError::UnknownDataType { name: s("{name}") },
        CryptoError::DataTypeNotSupported {
            mechanism: "{mechanism}",
            data_type: "{data-type}",
        },
        CryptoError::DigestLength {
            hash: "{hash}",
            expected: 32,
            actual: 3,
        },
        CryptoError::DigestInfo { hash: "{hash}" },
        CryptoError::MgfMismatch,
        CryptoError::SaltLength {
            salt_length: 300,
            max: 222,
        },
        CryptoError::DataTooLong {
            mechanism: "{mechanism}",
            max: 16000,
            actual: 16001,
        },
        CryptoError::Failed {
            detail: s("{detail}"),
        },
        CryptoError::TagLength { bits: 60 },
        CryptoError::Iv {
            detail: s("{detail}"),
        },
        CryptoError::PayloadLength {
            mechanism: "{mechanism}",
            detail: s("{detail}"),
        },
        CryptoError::Unwrap {
            mechanism: "{mechanism}",
            detail: s("{detail}"),
        },
        CryptoError::Decrypt {
            mechanism: "{mechanism}",
            detail: s("{detail}"),
        },
        CryptoError::BlockMultiple {
            mechanism: "{mechanism}",
            what: "{data}",
            len: 20,
        },
        CryptoError::CounterBits { bits: 0 },
        CryptoError::CounterExhausted { bits: 8 },
        CryptoError::SinglePartOnly {
            mechanism: "{mechanism}",
        },
        CryptoError::OaepMgfMismatch {
            hash: "{hash}",
            mgf: "{mgf}",
        },
        CryptoError::RawRsaTooLarge {
            mechanism: "{mechanism}",
        },
        CryptoError::Kdf {
            detail: s("{detail}"),
        },
    ];
    samples
        .iter()
        .map(|e| (crypto_name(e), e.to_string()))
        .collect()
}

fn crypto_name(e: &CryptoError) -> &'static str {
    match e {
        CryptoError::AesKeyLength { .. } => "Crypto.AesKeyLength",
        CryptoError::Des3KeyLength { .. } => "Crypto.Des3KeyLength",
        CryptoError::GenericSecretLength { .. } => "Crypto.GenericSecretLength",
        CryptoError::ModulusSize { .. } => "Crypto.ModulusSize",
        CryptoError::PublicExponent { .. } => "Crypto.PublicExponent",
        CryptoError::UnsupportedCurve { .. } => "Crypto.UnsupportedCurve",
        CryptoError::UnsupportedMlDsa { .. } => "Crypto.UnsupportedMlDsa",
        CryptoError::InvalidKey { .. } => "Crypto.InvalidKey",
        CryptoError::CorruptBlob { .. } => "Crypto.CorruptBlob",
        CryptoError::BlobVersion { .. } => "Crypto.BlobVersion",
        CryptoError::NotPem { .. } => "Crypto.NotPem",
        CryptoError::PrivateKeyPem => "Crypto.PrivateKeyPem",
        CryptoError::UnexpectedPem { .. } => "Crypto.UnexpectedPem",
        CryptoError::UnsupportedAlgorithm { .. } => "Crypto.UnsupportedAlgorithm",
        CryptoError::UnsupportedCurveOid { .. } => "Crypto.UnsupportedCurveOid",
        CryptoError::WrongKeyType { .. } => "Crypto.WrongKeyType",
        CryptoError::UnknownHash { .. } => "Crypto.UnknownHash",
        CryptoError::UnknownDataType { .. } => "Crypto.UnknownDataType",
        CryptoError::DataTypeNotSupported { .. } => "Crypto.DataTypeNotSupported",
        CryptoError::DigestLength { .. } => "Crypto.DigestLength",
        CryptoError::DigestInfo { .. } => "Crypto.DigestInfo",
        CryptoError::MgfMismatch => "Crypto.MgfMismatch",
        CryptoError::SaltLength { .. } => "Crypto.SaltLength",
        CryptoError::DataTooLong { .. } => "Crypto.DataTooLong",
        CryptoError::Failed { .. } => "Crypto.Failed",
        CryptoError::TagLength { .. } => "Crypto.TagLength",
        CryptoError::Iv { .. } => "Crypto.Iv",
        CryptoError::PayloadLength { .. } => "Crypto.PayloadLength",
        CryptoError::Unwrap { .. } => "Crypto.Unwrap",
        CryptoError::Decrypt { .. } => "Crypto.Decrypt",
        CryptoError::BlockMultiple { .. } => "Crypto.BlockMultiple",
        CryptoError::CounterBits { .. } => "Crypto.CounterBits",
        CryptoError::CounterExhausted { .. } => "Crypto.CounterExhausted",
        CryptoError::SinglePartOnly { .. } => "Crypto.SinglePartOnly",
        CryptoError::OaepMgfMismatch { .. } => "Crypto.OaepMgfMismatch",
        CryptoError::RawRsaTooLarge { .. } => "Crypto.RawRsaTooLarge",
        CryptoError::Kdf { .. } => "Crypto.Kdf",
    }
}
