//! `key wrap` and `key unwrap` (AWS CloudHSM User Guide, "The key wrap command" and "The key
//! unwrap command").

use clap::{ArgGroup, Args, Subcommand, ValueEnum};

use super::{ClusterIdArg, HashArg, MgfArg};

/// `key wrap …`
#[derive(Debug, Subcommand)]
pub enum WrapCommand {
    /// Wrap a key with AES-GCM
    AesGcm(WrapAesGcm),
    /// Wrap a key with AES (RFC 3394) without padding
    AesNoPad(WrapArgs),
    /// Wrap a key with AES (RFC 3394) with PKCS #5 padding
    AesPkcs5Pad(WrapArgs),
    /// Wrap a key with AES key wrap with zero padding
    AesZeroPad(WrapArgs),
    /// Wrap a key with AES-GCM, the IV prepended to the wrapped data
    CloudhsmAesGcm(WrapAesGcm),
    /// Wrap a key with RSA-AES
    RsaAes(WrapRsaOaep),
    /// Wrap a key with RSA-OAEP
    RsaOaep(WrapRsaOaep),
    /// Wrap a key with RSA-PKCS
    RsaPkcs(WrapArgs),
}

/// `key unwrap …`
#[derive(Debug, Subcommand)]
pub enum UnwrapCommand {
    /// Unwrap a key with AES-GCM
    AesGcm(UnwrapAesGcm),
    /// Unwrap a key with AES (RFC 3394) without padding
    AesNoPad(UnwrapArgs),
    /// Unwrap a key with AES (RFC 3394) with PKCS #5 padding
    AesPkcs5Pad(UnwrapArgs),
    /// Unwrap a key with AES key wrap with zero padding
    AesZeroPad(UnwrapArgs),
    /// Unwrap a key with AES-GCM, the IV taken from the wrapped data
    CloudhsmAesGcm(UnwrapCloudhsmAesGcm),
    /// Unwrap a key with RSA-AES
    RsaAes(UnwrapRsaOaep),
    /// Unwrap a key with RSA-OAEP
    RsaOaep(UnwrapRsaOaep),
    /// Unwrap a key with RSA-PKCS
    RsaPkcs(UnwrapArgs),
}

/// The options of every `key wrap` mechanism.
#[derive(Debug, Args)]
pub struct WrapArgs {
    #[command(flatten)]
    pub cluster: ClusterIdArg,
    /// Key reference (e.g. key-reference=0xabc) or space separated list of key attributes in the form of attr.KEY_ATTRIBUTE_NAME=KEY_ATTRIBUTE_VALUE to select a payload key
    #[arg(long = "payload-filter", value_name = "PAYLOAD_FILTER", num_args = 1.., required = true)]
    pub payload_filter: Vec<String>,
    /// Key reference (e.g. key-reference=0xabc) or space separated list of key attributes in the form of attr.KEY_ATTRIBUTE_NAME=KEY_ATTRIBUTE_VALUE to select a wrapping key
    #[arg(long = "wrapping-filter", value_name = "WRAPPING_FILTER", num_args = 1.., required = true)]
    pub wrapping_filter: Vec<String>,
    /// Path to the binary file where the wrapped key data will be saved
    #[arg(long, value_name = "PATH")]
    pub path: Option<String>,
    /// File path of signed quorum token file to approve operation for wrapping key
    #[arg(long = "wrapping-approval", value_name = "WRAPPING_APPROVALR")]
    pub wrapping_approval: Option<String>,
    /// File path of signed quorum token file to approve operation for payload key
    #[arg(long = "payload-approval", value_name = "PAYLOAD_APPROVALR")]
    pub payload_approval: Option<String>,
}

/// AES-GCM options.
#[derive(Debug, Args)]
pub struct GcmArgs {
    /// Aes GCM Additional Authenticated Data (AAD) value, in hex
    #[arg(long, value_name = "AAD")]
    pub aad: Option<String>,
    /// Aes GCM tag length in bits
    #[arg(long = "tag-length-bits", value_name = "TAG_LENGTH_BITS")]
    pub tag_length_bits: u64,
}

/// RSA-OAEP options.
#[derive(Debug, Args)]
pub struct OaepArgs {
    /// Hash algorithm
    #[arg(long = "hash-function", value_name = "HASH_FUNCTION")]
    pub hash_function: HashArg,
    /// Mask Generation Function algorithm
    #[arg(long, value_name = "MGF")]
    pub mgf: MgfArg,
}

/// `key wrap aes-gcm` and `cloudhsm-aes-gcm`.
#[derive(Debug, Args)]
pub struct WrapAesGcm {
    #[command(flatten)]
    pub wrap: WrapArgs,
    #[command(flatten)]
    pub gcm: GcmArgs,
}

/// `key wrap rsa-aes` and `rsa-oaep`.
#[derive(Debug, Args)]
pub struct WrapRsaOaep {
    #[command(flatten)]
    pub wrap: WrapArgs,
    #[command(flatten)]
    pub oaep: OaepArgs,
}

/// `--key-type-class` of `key unwrap`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum UnwrapKeyTypeClass {
    Aes,
    Des3,
    EcPrivate,
    GenericSecret,
    RsaPrivate,
}

/// The options of every `key unwrap` mechanism.
#[derive(Debug, Args)]
#[command(group(ArgGroup::new("input").required(true).args(["data_path", "data"])))]
pub struct UnwrapArgs {
    #[command(flatten)]
    pub cluster: ClusterIdArg,
    /// Key reference (e.g. key-reference=0xabc) or space separated list of key attributes in the form of attr.KEY_ATTRIBUTE_NAME=KEY_ATTRIBUTE_VALUE to select a key to unwrap with
    #[arg(long, value_name = "FILTER", num_args = 1.., required = true)]
    pub filter: Vec<String>,
    /// Path to the binary file containing the wrapped key data
    #[arg(long = "data-path", value_name = "DATA_PATH")]
    pub data_path: Option<String>,
    /// Base64 encoded wrapped key data
    #[arg(long, value_name = "DATA")]
    pub data: Option<String>,
    /// Space separated list of key attributes in the form of KEY_ATTRIBUTE_NAME=KEY_ATTRIBUTE_VALUE for the unwrapped key
    #[arg(long, value_name = "UNWRAPPED_KEY_ATTRIBUTES", num_args = 0..)]
    pub attributes: Vec<String>,
    /// Space separated list of Crypto User usernames to share the unwrapped key with
    #[arg(long = "share-crypto-users", value_name = "SHARE_CRYPTO_USERS", num_args = 0..)]
    pub share_crypto_users: Vec<String>,
    /// The quorum value for key management operations for the unwrapped key
    #[arg(
        long = "manage-key-quorum-value",
        value_name = "MANAGE_KEY_QUORUM_VALUE"
    )]
    pub manage_key_quorum_value: Option<u64>,
    /// The quorum value for key usage operations for the unwrapped key
    #[arg(long = "use-key-quorum-value", value_name = "USE_KEY_QUORUM_VALUE")]
    pub use_key_quorum_value: Option<u64>,
    /// Key type and class of wrapped key
    #[arg(long = "key-type-class", value_name = "KEY_TYPE_CLASS")]
    pub key_type_class: UnwrapKeyTypeClass,
    /// Label for the unwrapped key
    #[arg(long, value_name = "LABEL")]
    pub label: String,
    /// Creates a session key that exists only in the current session. The key cannot be recovered after the session ends
    #[arg(long)]
    pub session: bool,
    /// Filepath of signed quorum token file to approve operation
    #[arg(long, value_name = "APPROVAL")]
    pub approval: Option<String>,
}

/// `key unwrap aes-gcm`.
#[derive(Debug, Args)]
pub struct UnwrapAesGcm {
    #[command(flatten)]
    pub unwrap: UnwrapArgs,
    #[command(flatten)]
    pub gcm: GcmArgs,
    /// Initial value used to wrap the key, in hex
    #[arg(long, value_name = "IV")]
    pub iv: String,
}

/// `key unwrap cloudhsm-aes-gcm`.
#[derive(Debug, Args)]
pub struct UnwrapCloudhsmAesGcm {
    #[command(flatten)]
    pub unwrap: UnwrapArgs,
    #[command(flatten)]
    pub gcm: GcmArgs,
}

/// `key unwrap rsa-aes` and `rsa-oaep`.
#[derive(Debug, Args)]
pub struct UnwrapRsaOaep {
    #[command(flatten)]
    pub unwrap: UnwrapArgs,
    #[command(flatten)]
    pub oaep: OaepArgs,
}
