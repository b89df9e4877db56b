//! `key` commands (AWS CloudHSM User Guide, "The key category in CloudHSM CLI").

use clap::{Args, Subcommand, ValueEnum};

use super::{ClusterIdArg, UserRole};

/// `key …`
#[derive(Debug, Subcommand)]
pub enum KeyCommand {
    /// List the keys the current user owns, shares, and all public keys in the HSM cluster
    List(KeyList),
    /// Delete a key in the HSM cluster
    Delete(KeyDelete),
    /// Share a key in the HSM cluster with another user
    Share(KeyShare),
    /// Unshare a key in the HSM cluster with another user
    Unshare(KeyShare),
    /// Set an attribute for a key in the HSM cluster
    SetAttribute(KeySetAttribute),
    /// Generate a key file from a key in the HSM cluster. This command does not export any private key data from the HSM
    GenerateFile(KeyGenerateFile),
    /// Import a key
    #[command(subcommand)]
    Import(KeyImport),
    /// Generate a symmetric key
    #[command(subcommand)]
    GenerateSymmetric(GenerateSymmetric),
    /// Generate an asymmetric key pair
    #[command(subcommand)]
    GenerateAsymmetricPair(GenerateAsymmetricPair),
    /// Wrap a key
    #[command(subcommand)]
    Wrap(super::WrapCommand),
    /// Unwrap a key
    #[command(subcommand)]
    Unwrap(super::UnwrapCommand),
    /// Replicate a key from a source to a destination cluster
    Replicate(KeyReplicate),
    /// [emulator extension] Write a key as a masked object that only an HSM of this cluster can insert
    ExtractMasked(KeyExtractMasked),
    /// [emulator extension] Insert a masked object of this cluster
    InsertMasked(KeyInsertMasked),
}

/// `key extract-masked`
#[derive(Debug, Args)]
pub struct KeyExtractMasked {
    #[command(flatten)]
    pub cluster: ClusterIdArg,
    /// Key reference (e.g. key-reference=0xabc) or space separated list of key attributes in the form of attr.KEY_ATTRIBUTE_NAME=KEY_ATTRIBUTE_VALUE to select the key to extract
    #[arg(long, value_name = "FILTER", num_args = 1.., required = true)]
    pub filter: Vec<String>,
    /// Filepath where the masked object will be written
    #[arg(long, value_name = "PATH")]
    pub path: String,
}

/// `key replicate`: between clone clusters, logged in on both (no `--cluster-id`: the two
/// clusters are named by their own options).
#[derive(Debug, Args)]
pub struct KeyReplicate {
    /// Key reference (e.g. key-reference=0xabc) or space separated list of key attributes in the form of attr.KEY_ATTRIBUTE_NAME=KEY_ATTRIBUTE_VALUE to select matching key on the source cluster
    #[arg(long, value_name = "FILTER", num_args = 0.., required = true)]
    pub filter: Vec<String>,
    /// Source cluster ID
    #[arg(long = "source-cluster-id", value_name = "SOURCE_CLUSTER_ID")]
    pub source_cluster_id: String,
    /// Destination cluster ID
    #[arg(long = "destination-cluster-id", value_name = "DESTINATION_CLUSTER_ID")]
    pub destination_cluster_id: String,
}

/// `key insert-masked`
#[derive(Debug, Args)]
pub struct KeyInsertMasked {
    #[command(flatten)]
    pub cluster: ClusterIdArg,
    /// Filepath of the masked object to insert
    #[arg(long, value_name = "PATH")]
    pub path: String,
}

const FILTER_HELP_LIST: &str = "Key reference (e.g. key-reference=0xabc) or space separated list of key attributes in the form of attr.KEY_ATTRIBUTE_NAME=KEY_ATTRIBUTE_VALUE to select matching key(s) to list";

/// `key list`
#[derive(Debug, Args)]
pub struct KeyList {
    #[command(flatten)]
    pub cluster: ClusterIdArg,
    #[arg(long, value_name = "FILTER", num_args = 0.., help = FILTER_HELP_LIST)]
    pub filter: Vec<String>,
    /// The total number of items to return in the command's output. If the total number of items available is more than the value specified, a next-token is provided in the command's output. To resume pagination, provide the next-token value in the starting-token argument of a subsequent command
    #[arg(long = "max-items", value_name = "MAX_ITEMS", default_value_t = 10)]
    pub max_items: u64,
    /// A token to specify where to start paginating. This is the next-token from a previously truncated response
    #[arg(long = "starting-token", value_name = "STARTING_TOKEN")]
    pub starting_token: Option<String>,
    /// If included, prints all attributes and key information for each matched key. By default each matched key only displays its key-reference and label attribute. This flag when used by Admins has no effect
    #[arg(short, long)]
    pub verbose: bool,
}

/// `key delete`
#[derive(Debug, Args)]
pub struct KeyDelete {
    #[command(flatten)]
    pub cluster: ClusterIdArg,
    /// Key reference (e.g. key-reference=0xabc) or space separated list of key attributes in the form of attr.KEY_ATTRIBUTE_NAME=KEY_ATTRIBUTE_VALUE to select a matching key for deletion
    #[arg(long, value_name = "FILTER", num_args = 1.., required = true)]
    pub filter: Vec<String>,
}

/// `key share` and `key unshare`
#[derive(Debug, Args)]
pub struct KeyShare {
    #[command(flatten)]
    pub cluster: ClusterIdArg,
    /// Key reference (e.g. key-reference=0xabc) or space separated list of key attributes in the form of attr.KEY_ATTRIBUTE_NAME=KEY_ATTRIBUTE_VALUE to select a matching key for sharing
    #[arg(long, value_name = "FILTER", num_args = 1.., required = true)]
    pub filter: Vec<String>,
    /// A username with which the key will be shared
    #[arg(long, value_name = "USERNAME")]
    pub username: String,
    /// Role the user has in the cluster
    #[arg(long, value_name = "ROLE", value_parser = super::RoleParser::<UserRole>::new())]
    pub role: UserRole,
    /// Filepath of signed quorum token file to approve operation
    #[arg(long, value_name = "APPROVAL")]
    pub approval: Option<String>,
}

/// `key set-attribute`
#[derive(Debug, Args)]
pub struct KeySetAttribute {
    #[command(flatten)]
    pub cluster: ClusterIdArg,
    /// Key reference (e.g. key-reference=0xabc) or space separated list of key attributes in the form of attr.KEY_ATTRIBUTE_NAME=KEY_ATTRIBUTE_VALUE to select a matching key to modify
    #[arg(long, value_name = "FILTER", num_args = 1.., required = true)]
    pub filter: Vec<String>,
    /// Name of attribute to be set
    #[arg(long, value_name = "KEY_ATTRIBUTE")]
    pub name: String,
    /// Attribute value to be set
    #[arg(long, value_name = "KEY_ATTRIBUTE_VALUE", num_args = 1..)]
    pub value: Vec<String>,
    /// Filepath of signed quorum token file to approve operation
    #[arg(long, value_name = "APPROVAL")]
    pub approval: Option<String>,
}

/// `--encoding` of `key generate-file`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum KeyFileEncoding {
    /// PEM formatted key reference (supports private keys)
    ReferencePem,
    /// PEM format (supports public keys)
    Pem,
}

/// `key generate-file`
#[derive(Debug, Args)]
pub struct KeyGenerateFile {
    #[command(flatten)]
    pub cluster: ClusterIdArg,
    /// Encoding format for the key file
    #[arg(long, value_name = "ENCODING")]
    pub encoding: KeyFileEncoding,
    /// Filepath where the key file will be written
    #[arg(long, value_name = "PATH")]
    pub path: String,
    /// Key reference (e.g. key-reference=0xabc) or space separated list of key attributes in the form of attr.KEY_ATTRIBUTE_NAME=KEY_ATTRIBUTE_VALUE to select a matching key for file generation
    #[arg(long, value_name = "FILTER", num_args = 1.., required = true)]
    pub filter: Vec<String>,
}

/// `key import …`
#[derive(Debug, Subcommand)]
pub enum KeyImport {
    /// Import key from a PEM file
    Pem(KeyImportPem),
}

/// `--key-type-class` of `key import pem`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ImportKeyTypeClass {
    EcPublic,
    RsaPublic,
}

/// `key import pem`
#[derive(Debug, Args)]
pub struct KeyImportPem {
    #[command(flatten)]
    pub cluster: ClusterIdArg,
    /// Path where the key is located in PEM format
    #[arg(long, value_name = "PATH")]
    pub path: String,
    /// Label for the imported key
    #[arg(long, value_name = "LABEL")]
    pub label: String,
    /// Key type and class of the imported key
    #[arg(long = "key-type-class", value_name = "KEY_TYPE_CLASS")]
    pub key_type_class: ImportKeyTypeClass,
    /// Space separated list of key attributes in the form of KEY_ATTRIBUTE_NAME=KEY_ATTRIBUTE_VALUE for the imported key
    #[arg(long, value_name = "IMPORT_KEY_ATTRIBUTES", num_args = 0..)]
    pub attributes: Vec<String>,
}

/// `key generate-symmetric …`
#[derive(Debug, Subcommand)]
pub enum GenerateSymmetric {
    /// Generate an AES key
    Aes(GenerateSymmetricArgs),
    /// Generate a generic secret key
    GenericSecret(GenerateSymmetricArgs),
}

/// Options shared by `key generate-symmetric aes` and `generic-secret`.
#[derive(Debug, Args)]
pub struct GenerateSymmetricArgs {
    #[command(flatten)]
    pub cluster: ClusterIdArg,
    /// Label for the key
    #[arg(long, value_name = "LABEL")]
    pub label: String,
    /// Creates a session key that exists only in the current session. The key cannot be recovered after the session ends
    #[arg(long)]
    pub session: bool,
    /// Key length in bytes
    #[arg(long = "key-length-bytes", value_name = "KEY_LENGTH_BYTES")]
    pub key_length_bytes: u64,
    /// Space separated list of key attributes to set for the generated key in the form of KEY_ATTRIBUTE_NAME=KEY_ATTRIBUTE_VALUE
    #[arg(long, value_name = "KEY_ATTRIBUTES", num_args = 0..)]
    pub attributes: Vec<String>,
    /// Space separated list of Crypto User usernames to share the key with
    #[arg(long = "share-crypto-users", value_name = "SHARE_CRYPTO_USERS", num_args = 0..)]
    pub share_crypto_users: Vec<String>,
    /// The quorum value for key management operations
    #[arg(
        long = "manage-key-quorum-value",
        value_name = "MANAGE_KEY_QUORUM_VALUE"
    )]
    pub manage_key_quorum_value: Option<u64>,
    /// The quorum value for key usage operations
    #[arg(long = "use-key-quorum-value", value_name = "USE_KEY_QUORUM_VALUE")]
    pub use_key_quorum_value: Option<u64>,
}

/// `key generate-asymmetric-pair …`
#[derive(Debug, Subcommand)]
pub enum GenerateAsymmetricPair {
    /// Generate an RSA key pair
    Rsa(GenerateRsa),
    /// Generate an Elliptic-Curve Cryptography (ECC) key pair
    Ec(GenerateEc),
    /// Generate an ML-DSA key pair
    MlDsa(GenerateMlDsa),
}

/// Options shared by every key-pair generation command.
#[derive(Debug, Args)]
pub struct PairArgs {
    #[command(flatten)]
    pub cluster: ClusterIdArg,
    /// Label for the public key
    #[arg(long = "public-label", value_name = "PUBLIC_LABEL")]
    pub public_label: String,
    /// Label for the private key
    #[arg(long = "private-label", value_name = "PRIVATE_LABEL")]
    pub private_label: String,
    /// Creates a session key pair that exists only in the current session. The key cannot be recovered after the session ends
    #[arg(long)]
    pub session: bool,
    /// Space separated list of key attributes to set for the generated public key in the form of KEY_ATTRIBUTE_NAME=KEY_ATTRIBUTE_VALUE
    #[arg(long = "public-attributes", value_name = "PUBLIC_KEY_ATTRIBUTES", num_args = 0..)]
    pub public_attributes: Vec<String>,
    /// Space separated list of key attributes to set for the generated private key in the form of KEY_ATTRIBUTE_NAME=KEY_ATTRIBUTE_VALUE
    #[arg(long = "private-attributes", value_name = "PRIVATE_KEY_ATTRIBUTES", num_args = 0..)]
    pub private_attributes: Vec<String>,
    /// Space separated list of Crypto User usernames to share the private key with
    #[arg(long = "share-crypto-users", value_name = "SHARE_CRYPTO_USERS", num_args = 0..)]
    pub share_crypto_users: Vec<String>,
    /// The quorum value for key management operations for the private key
    #[arg(
        long = "manage-private-key-quorum-value",
        value_name = "MANAGE_PRIVATE_KEY_QUORUM_VALUE"
    )]
    pub manage_private_key_quorum_value: Option<u64>,
    /// The quorum value for key usage operations for the private key
    #[arg(
        long = "use-private-key-quorum-value",
        value_name = "USE_PRIVATE_KEY_QUORUM_VALUE"
    )]
    pub use_private_key_quorum_value: Option<u64>,
}

/// `key generate-asymmetric-pair rsa`
#[derive(Debug, Args)]
pub struct GenerateRsa {
    #[command(flatten)]
    pub pair: PairArgs,
    /// Modulus size in bits used to generate the RSA key pair
    #[arg(long = "modulus-size-bits", value_name = "MODULUS_SIZE_BITS")]
    pub modulus_size_bits: u64,
    /// Public exponent used to generate the RSA key pair
    #[arg(long = "public-exponent", value_name = "PUBLIC_EXPONENT")]
    pub public_exponent: String,
}

/// `--curve` of `key generate-asymmetric-pair ec`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum CurveArg {
    Prime256v1,
    Secp256r1,
    Secp224r1,
    Secp384r1,
    Secp256k1,
    Secp521r1,
    Ed25519,
}

/// `key generate-asymmetric-pair ec`
#[derive(Debug, Args)]
pub struct GenerateEc {
    #[command(flatten)]
    pub pair: PairArgs,
    /// Elliptic curve used to generate the key pair
    #[arg(long, value_name = "CURVE")]
    pub curve: CurveArg,
}

/// `--mldsa-algorithm` of `key generate-asymmetric-pair ml-dsa`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum MlDsaArg {
    #[value(name = "ML-DSA-44")]
    MlDsa44,
    #[value(name = "ML-DSA-65")]
    MlDsa65,
    #[value(name = "ML-DSA-87")]
    MlDsa87,
}

/// `key generate-asymmetric-pair ml-dsa`
#[derive(Debug, Args)]
pub struct GenerateMlDsa {
    #[command(flatten)]
    pub pair: PairArgs,
    /// ML-DSA algorithm
    #[arg(long = "mldsa-algorithm", value_name = "MLDSA_ALGORITHM")]
    pub mldsa_algorithm: MlDsaArg,
}
