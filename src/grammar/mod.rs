//! The command grammar: clap derive types for the whole `cloudhsm-cli` command tree. Pure
//! data: the same tree parses process arguments, shell lines, `help` and completion.
//!
//! Option names, value names and help texts follow the AWS CloudHSM User Guide.

mod cluster;
mod crypto;
mod key;
mod login;
mod quorum;
mod shared;
mod user;
mod wrap;

use clap::{Parser, Subcommand};

pub use cluster::{
    ClusterActivate, ClusterCommand, ClusterHsmInfo, MtlsCommand, MtlsDeregisterTrustAnchor,
    MtlsLevel, MtlsRegisterTrustAnchor, MtlsSetEnforcement,
};
pub use crypto::{
    CipherRsaOaep, CryptoCommand, DataTypeArg, DecryptAesGcm, DecryptCommand, Digest,
    EncryptAesGcm, EncryptCommand, HashArg, KeyedInput, MacCommand, MacHmac, MgfArg,
    MlDsaDataTypeArg, SignCommand, SignInput, VerifyCommand, VerifyInput,
};
pub use key::{
    CurveArg, GenerateAsymmetricPair, GenerateEc, GenerateMlDsa, GenerateRsa, GenerateSymmetric,
    GenerateSymmetricArgs, ImportKeyTypeClass, KeyCommand, KeyDelete, KeyExtractMasked,
    KeyFileEncoding, KeyGenerateFile, KeyImport, KeyImportPem, KeyInsertMasked, KeyList,
    KeyReplicate, KeySetAttribute, KeyShare, MlDsaArg, PairArgs,
};
pub use login::{Login, Logout};
pub use quorum::{
    ChangeMfaCommand, ChangeMfaTokenSign, ChangeQuorumCommand, ChangeQuorumTokenSign, ClusterOnly,
    LoginCommand, MfaTokenSign, QuorumCommand, QuorumRegister, QuorumServiceArg, ScopeArg,
    ServiceArg, SetQuorumValue, SetTimeout, TokenDelete, TokenGenerate, TokenSignCommand,
};
pub use shared::{ClusterIdArg, LoginRole, Password, RoleParser, TargetRole, UserRole};
pub use user::{UserChangePassword, UserCommand, UserCreate, UserDelete, UserList, UserReplicate};
pub use wrap::{
    GcmArgs, OaepArgs, UnwrapAesGcm, UnwrapArgs, UnwrapCloudhsmAesGcm, UnwrapCommand,
    UnwrapKeyTypeClass, UnwrapRsaOaep, WrapAesGcm, WrapArgs, WrapCommand, WrapRsaOaep,
};

/// The name the grammar is parsed under, in usage lines and errors.
pub const BIN_NAME: &str = "cloudhsm-cli";

/// `cloudhsm-cli`, and each line typed at the `aws-cloudhsm > ` prompt.
#[derive(Debug, Parser)]
#[command(
    name = BIN_NAME,
    version,
    about = "CloudHSM CLI",
    long_about = "CloudHSM CLI: manage users, keys and the cluster of an AWS CloudHSM cluster \
                  (simulated locally by cloudhsm-sim)",
    subcommand_required = true,
    arg_required_else_help = true
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

/// The top-level commands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Start an interactive session
    Interactive(Interactive),
    /// Cluster management
    #[command(subcommand)]
    Cluster(ClusterCommand),
    /// Cryptographic operations: sign and verify; [emulator extension] encrypt, decrypt, digest, mac
    #[command(subcommand)]
    Crypto(CryptoCommand),
    /// Key management
    #[command(subcommand)]
    Key(KeyCommand),
    /// Login to your cluster
    Login(Login),
    /// Logout of your cluster
    Logout(Logout),
    /// Quorum management
    #[command(subcommand)]
    Quorum(QuorumCommand),
    /// User management
    #[command(subcommand)]
    User(UserCommand),
    /// Quit the interactive session
    Quit,
    /// [emulator extension] Show the rest of this interactive session's responses as json (the real CLI's output) or table (lists as tables)
    #[command(subcommand)]
    Output(OutputFormat),
}

/// The formats of `output` \[emulator extension\].
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::Subcommand)]
pub enum OutputFormat {
    /// The real CLI's JSON
    Json,
    /// Lists as tables, everything else as JSON
    Table,
}

/// `cloudhsm-cli interactive`.
#[derive(Debug, clap::Args)]
pub struct Interactive {
    #[command(flatten)]
    pub cluster: ClusterIdArg,
    /// [emulator extension] How responses are shown: json (the default, as the real CLI) or table (lists as tables); overrides CLOUDHSM_SIM_OUTPUT
    #[arg(long, value_name = "FORMAT", value_parser = ["json", "table"])]
    pub output: Option<String>,
}

impl Cli {
    /// Parses the words of a command (argv without the program name, or a shell line split
    /// with shell quoting).
    pub fn parse_words<I, S>(words: I) -> Result<Cli, clap::Error>
    where
        I: IntoIterator<Item = S>,
        S: Into<std::ffi::OsString> + Clone,
    {
        let argv = std::iter::once(std::ffi::OsString::from(BIN_NAME))
            .chain(words.into_iter().map(Into::into));
        Cli::try_parse_from(argv)
    }

    /// The clap command tree, for help, completion and generated docs.
    pub fn command_tree() -> clap::Command {
        <Cli as clap::CommandFactory>::command()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn grammar_is_consistent() {
        Cli::command_tree().debug_assert();
    }

    #[test]
    fn debug_output_never_shows_a_password() {
        for words in [
            &[
                "login",
                "--username",
                "alice",
                "--role",
                "admin",
                "--password",
                "pw-4711-x",
            ][..],
            &["cluster", "activate", "--password", "pw-4711-x"],
            &[
                "user",
                "create",
                "--username",
                "bob",
                "--role",
                "admin",
                "--password",
                "pw-4711-x",
            ],
            &[
                "user",
                "change-password",
                "--username",
                "bob",
                "--role",
                "admin",
                "--password",
                "pw-4711-x",
            ],
        ] {
            let cli = Cli::parse_words(words.iter().copied()).unwrap();
            let shown = format!("{cli:?}");
            assert!(shown.contains("Password(<redacted>)"), "{words:?}: {shown}");
            assert!(!shown.contains("pw-4711-x"), "{words:?}: {shown}");
        }
    }

    #[test]
    fn parses_user_create() {
        let cli = Cli::parse_words([
            "user",
            "create",
            "--username",
            "alice",
            "--role",
            "crypto-user",
            "--password",
            "a b c d e",
        ])
        .unwrap();
        match cli.command {
            Command::User(UserCommand::Create(c)) => {
                assert_eq!(c.username, "alice");
                assert_eq!(c.role, UserRole::CryptoUser);
                assert_eq!(c.password.as_ref().map(Password::expose), Some("a b c d e"));
            }
            other => panic!("parsed as {other:?}"),
        }
    }

    #[test]
    fn rejects_unknown_role() {
        assert!(Cli::parse_words(["login", "--username", "a", "--role", "co"]).is_err());
    }
}
