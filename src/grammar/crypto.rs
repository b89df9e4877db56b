//! `crypto sign` and `crypto verify` (AWS CloudHSM User Guide, "The crypto category in
//! CloudHSM CLI").

use clap::{ArgGroup, Args, Subcommand, ValueEnum};

use super::ClusterIdArg;

/// `crypto …`
#[derive(Debug, Subcommand)]
pub enum CryptoCommand {
    /// Sign data with a private key
    #[command(subcommand)]
    Sign(SignCommand),
    /// Verify a signature with a public key
    #[command(subcommand)]
    Verify(VerifyCommand),
    /// [emulator extension] Encrypt data with a key
    #[command(subcommand)]
    Encrypt(EncryptCommand),
    /// [emulator extension] Decrypt data with a key
    #[command(subcommand)]
    Decrypt(DecryptCommand),
    /// [emulator extension] Compute a message authentication code
    #[command(subcommand)]
    Mac(MacCommand),
    /// [emulator extension] Compute a digest of data
    Digest(Digest),
}

/// `crypto sign …`
#[derive(Debug, Subcommand)]
pub enum SignCommand {
    /// Sign with the ECDSA mechanism
    Ecdsa(SignHashed),
    /// Sign with the Ed25519 mechanism
    Ed25519(SignPlain),
    /// Sign with the Ed25519ph mechanism
    Ed25519ph(SignEd25519ph),
    /// Signs data with a ML-DSA private key
    MlDsa(SignMlDsa),
    /// Sign with the RSA-PKCS mechanism
    RsaPkcs(SignHashed),
    /// Sign with the RSA-PKCS-PSS mechanism
    RsaPkcsPss(SignPss),
}

/// `crypto verify …`
#[derive(Debug, Subcommand)]
pub enum VerifyCommand {
    /// Verify with the ECDSA mechanism
    Ecdsa(VerifyHashed),
    /// Verify with the Ed25519 mechanism
    Ed25519(VerifyPlain),
    /// Verify with the Ed25519ph mechanism
    Ed25519ph(VerifyEd25519ph),
    /// Verifies a signature with a ML-DSA public key
    MlDsa(VerifyMlDsa),
    /// Verify with the RSA-PKCS mechanism
    RsaPkcs(VerifyHashed),
    /// Verify with the RSA-PKCS-PSS mechanism
    RsaPkcsPss(VerifyPss),
}

/// `--hash-function` of ecdsa, rsa-pkcs and rsa-pkcs-pss.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum HashArg {
    Sha1,
    Sha224,
    Sha256,
    Sha384,
    Sha512,
}

/// `--hash-function` of ed25519ph.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Sha512Only {
    Sha512,
}

/// `--hash-function` of ml-dsa.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Shake256Only {
    Shake256,
}

/// `--data-type`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum DataTypeArg {
    Raw,
    Digest,
}

/// `--data-type` of ml-dsa.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum MlDsaDataTypeArg {
    Raw,
    ExternalMu,
}

/// `--mgf` of rsa-pkcs-pss.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum MgfArg {
    #[value(name = "mgf1-sha1")]
    Mgf1Sha1,
    #[value(name = "mgf1-sha224")]
    Mgf1Sha224,
    #[value(name = "mgf1-sha256")]
    Mgf1Sha256,
    #[value(name = "mgf1-sha384")]
    Mgf1Sha384,
    #[value(name = "mgf1-sha512")]
    Mgf1Sha512,
}

const KEY_FILTER_HELP: &str = "Key reference (e.g. key-reference=0xabc) or space separated list of key attributes in the form of attr.KEY_ATTRIBUTE_NAME=KEY_ATTRIBUTE_VALUE to select a matching key";

/// The key and the data of a signature operation.
#[derive(Debug, Args)]
#[command(group(ArgGroup::new("input").required(true).args(["data_path", "data"])))]
pub struct SignInput {
    #[command(flatten)]
    pub cluster: ClusterIdArg,
    #[arg(long = "key-filter", value_name = "KEY_FILTER", num_args = 1.., required = true, help = KEY_FILTER_HELP)]
    pub key_filter: Vec<String>,
    /// The path to the file containing the data to be signed
    #[arg(long = "data-path", value_name = "DATA_PATH")]
    pub data_path: Option<String>,
    /// Base64 Encoded data to be signed
    #[arg(long, value_name = "DATA")]
    pub data: Option<String>,
    /// Filepath of signed quorum token file to approve operation
    #[arg(long, value_name = "APPROVAL")]
    pub approval: Option<String>,
}

/// The key, the data and the signature of a verification.
#[derive(Debug, Args)]
#[command(group(ArgGroup::new("input").required(true).args(["data_path", "data"])))]
#[command(group(ArgGroup::new("sig").required(true).args(["signature_path", "signature"])))]
pub struct VerifyInput {
    #[command(flatten)]
    pub cluster: ClusterIdArg,
    #[arg(long = "key-filter", value_name = "KEY_FILTER", num_args = 1.., required = true, help = KEY_FILTER_HELP)]
    pub key_filter: Vec<String>,
    /// The path to the file containing the data to be verified
    #[arg(long = "data-path", value_name = "DATA_PATH")]
    pub data_path: Option<String>,
    /// Base64 encoded data to be verified
    #[arg(long, value_name = "DATA")]
    pub data: Option<String>,
    /// The path to where the signature is located
    #[arg(long = "signature-path", value_name = "SIGNATURE_PATH")]
    pub signature_path: Option<String>,
    /// Base64 encoded signature to be verified
    #[arg(long, value_name = "SIGNATURE")]
    pub signature: Option<String>,
}

/// `crypto sign ecdsa` and `crypto sign rsa-pkcs`.
#[derive(Debug, Args)]
pub struct SignHashed {
    #[command(flatten)]
    pub input: SignInput,
    #[arg(long = "hash-function", value_name = "HASH_FUNCTION")]
    pub hash_function: HashArg,
    /// The type of data passed in, either raw or digest
    #[arg(long = "data-type", value_name = "DATA_TYPE", default_value = "raw")]
    pub data_type: DataTypeArg,
}

/// `crypto sign ed25519`.
#[derive(Debug, Args)]
pub struct SignPlain {
    #[command(flatten)]
    pub input: SignInput,
}

/// `crypto sign ed25519ph`.
#[derive(Debug, Args)]
pub struct SignEd25519ph {
    #[command(flatten)]
    pub input: SignInput,
    /// The type of data passed in, either raw or digest
    #[arg(long = "data-type", value_name = "DATA_TYPE")]
    pub data_type: DataTypeArg,
    /// Hash function
    #[arg(long = "hash-function", value_name = "HASH_FUNCTION")]
    pub hash_function: Sha512Only,
}

/// `crypto sign ml-dsa`.
#[derive(Debug, Args)]
pub struct SignMlDsa {
    #[command(flatten)]
    pub input: SignInput,
    /// The hash function to use with ML-DSA.
    #[arg(long = "hash-function", value_name = "HASH_FUNCTION")]
    pub hash_function: Shake256Only,
    /// Specifies if the data is raw or has been processed using external mu.
    #[arg(long = "data-type", value_name = "DATA_TYPE")]
    pub data_type: MlDsaDataTypeArg,
}

/// `crypto sign rsa-pkcs-pss`.
#[derive(Debug, Args)]
pub struct SignPss {
    #[command(flatten)]
    pub input: SignInput,
    #[arg(long = "hash-function", value_name = "HASH_FUNCTION")]
    pub hash_function: HashArg,
    /// The mask generation function
    #[arg(long, value_name = "MGF")]
    pub mgf: MgfArg,
    /// The salt length
    #[arg(long = "salt-length", value_name = "SALT_LENGTH")]
    pub salt_length: u64,
    /// The type of data passed in, either raw or digest
    #[arg(long = "data-type", value_name = "DATA_TYPE", default_value = "raw")]
    pub data_type: DataTypeArg,
}

/// `crypto verify ecdsa` and `crypto verify rsa-pkcs`.
#[derive(Debug, Args)]
pub struct VerifyHashed {
    #[command(flatten)]
    pub input: VerifyInput,
    #[arg(long = "hash-function", value_name = "HASH_FUNCTION")]
    pub hash_function: HashArg,
    /// The type of data passed in, either raw or digest
    #[arg(long = "data-type", value_name = "DATA_TYPE", default_value = "raw")]
    pub data_type: DataTypeArg,
}

/// `crypto verify ed25519`.
#[derive(Debug, Args)]
pub struct VerifyPlain {
    #[command(flatten)]
    pub input: VerifyInput,
}

/// `crypto verify ed25519ph`.
#[derive(Debug, Args)]
pub struct VerifyEd25519ph {
    #[command(flatten)]
    pub input: VerifyInput,
    /// The type of data passed in, either raw or digest
    #[arg(long = "data-type", value_name = "DATA_TYPE")]
    pub data_type: DataTypeArg,
    /// Hash function
    #[arg(long = "hash-function", value_name = "HASH_FUNCTION")]
    pub hash_function: Sha512Only,
}

/// `crypto verify ml-dsa`.
#[derive(Debug, Args)]
pub struct VerifyMlDsa {
    #[command(flatten)]
    pub input: VerifyInput,
    /// The hash function to use with ML-DSA.
    #[arg(long = "hash-function", value_name = "HASH_FUNCTION")]
    pub hash_function: Shake256Only,
    /// Specifies if the data is raw or has been processed using external mu.
    #[arg(long = "data-type", value_name = "DATA_TYPE")]
    pub data_type: MlDsaDataTypeArg,
}

/// `crypto verify rsa-pkcs-pss`.
#[derive(Debug, Args)]
pub struct VerifyPss {
    #[command(flatten)]
    pub input: VerifyInput,
    #[arg(long = "hash-function", value_name = "HASH_FUNCTION")]
    pub hash_function: HashArg,
    /// The mask generation function
    #[arg(long, value_name = "MGF")]
    pub mgf: MgfArg,
    /// The salt length
    #[arg(long = "salt-length", value_name = "SALT_LENGTH")]
    pub salt_length: u64,
    /// The type of data passed in, either raw or digest
    #[arg(long = "data-type", value_name = "DATA_TYPE", default_value = "raw")]
    pub data_type: DataTypeArg,
}

/// `crypto encrypt …` \[emulator extension\]
#[derive(Debug, Subcommand)]
pub enum EncryptCommand {
    /// [emulator extension] Encrypt with AES-GCM
    AesGcm(EncryptAesGcm),
    /// [emulator extension] Encrypt with RSA-OAEP
    RsaOaep(CipherRsaOaep),
}

/// `crypto decrypt …` \[emulator extension\]
#[derive(Debug, Subcommand)]
pub enum DecryptCommand {
    /// [emulator extension] Decrypt with AES-GCM
    AesGcm(DecryptAesGcm),
    /// [emulator extension] Decrypt with RSA-OAEP
    RsaOaep(CipherRsaOaep),
}

/// `crypto mac …` \[emulator extension\]
#[derive(Debug, Subcommand)]
pub enum MacCommand {
    /// [emulator extension] Compute an HMAC with a generic secret or AES key
    Hmac(MacHmac),
}

/// The key and the data of an encryption, decryption or MAC.
#[derive(Debug, Args)]
#[command(group(ArgGroup::new("input").required(true).args(["data_path", "data"])))]
pub struct KeyedInput {
    #[command(flatten)]
    pub cluster: ClusterIdArg,
    #[arg(long = "key-filter", value_name = "KEY_FILTER", num_args = 1.., required = true, help = KEY_FILTER_HELP)]
    pub key_filter: Vec<String>,
    /// The path to the file containing the data
    #[arg(long = "data-path", value_name = "DATA_PATH")]
    pub data_path: Option<String>,
    /// Base64 encoded data
    #[arg(long, value_name = "DATA")]
    pub data: Option<String>,
}

/// `crypto encrypt aes-gcm`.
#[derive(Debug, Args)]
pub struct EncryptAesGcm {
    #[command(flatten)]
    pub input: KeyedInput,
    /// Additional authenticated data, in hex
    #[arg(long, value_name = "AAD")]
    pub aad: Option<String>,
    /// Tag length in bits
    #[arg(
        long = "tag-length-bits",
        value_name = "TAG_LENGTH_BITS",
        default_value_t = 128
    )]
    pub tag_length_bits: u64,
}

/// `crypto decrypt aes-gcm`.
#[derive(Debug, Args)]
pub struct DecryptAesGcm {
    #[command(flatten)]
    pub input: KeyedInput,
    /// The IV the data was encrypted with, in hex
    #[arg(long, value_name = "IV")]
    pub iv: String,
    /// Additional authenticated data, in hex
    #[arg(long, value_name = "AAD")]
    pub aad: Option<String>,
    /// Tag length in bits
    #[arg(
        long = "tag-length-bits",
        value_name = "TAG_LENGTH_BITS",
        default_value_t = 128
    )]
    pub tag_length_bits: u64,
}

/// `crypto encrypt rsa-oaep` and `crypto decrypt rsa-oaep`.
#[derive(Debug, Args)]
pub struct CipherRsaOaep {
    #[command(flatten)]
    pub input: KeyedInput,
    /// Hash algorithm
    #[arg(long = "hash-function", value_name = "HASH_FUNCTION")]
    pub hash_function: HashArg,
    /// Mask Generation Function algorithm
    #[arg(long, value_name = "MGF")]
    pub mgf: MgfArg,
}

/// `crypto mac hmac`.
#[derive(Debug, Args)]
pub struct MacHmac {
    #[command(flatten)]
    pub input: KeyedInput,
    /// Hash function
    #[arg(long = "hash-function", value_name = "HASH_FUNCTION")]
    pub hash_function: HashArg,
}

/// `crypto digest`.
#[derive(Debug, Args)]
#[command(group(ArgGroup::new("input").required(true).args(["data_path", "data"])))]
pub struct Digest {
    #[command(flatten)]
    pub cluster: ClusterIdArg,
    /// Hash function
    #[arg(long = "hash-function", value_name = "HASH_FUNCTION")]
    pub hash_function: HashArg,
    /// The path to the file containing the data
    #[arg(long = "data-path", value_name = "DATA_PATH")]
    pub data_path: Option<String>,
    /// Base64 encoded data
    #[arg(long, value_name = "DATA")]
    pub data: Option<String>,
}
