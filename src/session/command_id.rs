//! One identifier per leaf command of the grammar, spelled as the CLI spells it.

use crate::grammar::{
    ChangeMfaCommand, ChangeQuorumCommand, ChangeQuorumTokenSign, ClusterCommand, Command,
    CryptoCommand, DecryptCommand, EncryptCommand, GenerateAsymmetricPair, GenerateSymmetric,
    KeyCommand, KeyImport, MacCommand, OutputFormat, QuorumCommand, SignCommand, TokenSignCommand,
    UnwrapCommand, UserCommand, VerifyCommand, WrapCommand,
};

/// A leaf command.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum CommandId {
    Interactive,
    Quit,
    OutputJson,
    OutputTable,
    Login,
    LoginMfaTokenSign,
    Logout,
    ClusterActivate,
    ClusterHsmInfo,
    ClusterSyncStatus,
    CryptoSignEcdsa,
    CryptoSignEd25519,
    CryptoSignEd25519ph,
    CryptoSignMlDsa,
    CryptoSignRsaPkcs,
    CryptoSignRsaPkcsPss,
    CryptoVerifyEcdsa,
    CryptoVerifyEd25519,
    CryptoVerifyEd25519ph,
    CryptoVerifyMlDsa,
    CryptoVerifyRsaPkcs,
    CryptoVerifyRsaPkcsPss,
    CryptoEncryptAesGcm,
    CryptoEncryptRsaOaep,
    CryptoDecryptAesGcm,
    CryptoDecryptRsaOaep,
    CryptoMacHmac,
    CryptoDigest,
    KeyList,
    KeyDelete,
    KeyShare,
    KeyUnshare,
    KeySetAttribute,
    KeyGenerateFile,
    KeyImportPem,
    KeyGenerateSymmetricAes,
    KeyGenerateSymmetricGenericSecret,
    KeyGenerateAsymmetricPairRsa,
    KeyGenerateAsymmetricPairEc,
    KeyGenerateAsymmetricPairMlDsa,
    KeyWrapAesGcm,
    KeyWrapAesNoPad,
    KeyWrapAesPkcs5Pad,
    KeyWrapAesZeroPad,
    KeyWrapCloudhsmAesGcm,
    KeyWrapRsaAes,
    KeyWrapRsaOaep,
    KeyWrapRsaPkcs,
    KeyUnwrapAesGcm,
    KeyUnwrapAesNoPad,
    KeyUnwrapAesPkcs5Pad,
    KeyUnwrapAesZeroPad,
    KeyUnwrapCloudhsmAesGcm,
    KeyUnwrapRsaAes,
    KeyUnwrapRsaOaep,
    KeyUnwrapRsaPkcs,
    KeyExtractMasked,
    KeyInsertMasked,
    QuorumTokenSignGenerate,
    QuorumTokenSignList,
    QuorumTokenSignDelete,
    QuorumTokenSignListQuorumValues,
    QuorumTokenSignSetQuorumValue,
    QuorumTokenSignListTimeouts,
    QuorumTokenSignSetTimeout,
    UserList,
    UserCreate,
    UserDelete,
    UserChangePassword,
    UserChangeMfaTokenSign,
    UserChangeQuorumTokenSignRegister,
}

impl CommandId {
    /// Every command, in grammar order.
    pub const ALL: &'static [CommandId] = &[
        CommandId::Interactive,
        CommandId::Quit,
        CommandId::OutputJson,
        CommandId::OutputTable,
        CommandId::Login,
        CommandId::LoginMfaTokenSign,
        CommandId::Logout,
        CommandId::ClusterActivate,
        CommandId::ClusterHsmInfo,
        CommandId::ClusterSyncStatus,
        CommandId::CryptoSignEcdsa,
        CommandId::CryptoSignEd25519,
        CommandId::CryptoSignEd25519ph,
        CommandId::CryptoSignMlDsa,
        CommandId::CryptoSignRsaPkcs,
        CommandId::CryptoSignRsaPkcsPss,
        CommandId::CryptoVerifyEcdsa,
        CommandId::CryptoVerifyEd25519,
        CommandId::CryptoVerifyEd25519ph,
        CommandId::CryptoVerifyMlDsa,
        CommandId::CryptoVerifyRsaPkcs,
        CommandId::CryptoVerifyRsaPkcsPss,
        CommandId::CryptoEncryptAesGcm,
        CommandId::CryptoEncryptRsaOaep,
        CommandId::CryptoDecryptAesGcm,
        CommandId::CryptoDecryptRsaOaep,
        CommandId::CryptoMacHmac,
        CommandId::CryptoDigest,
        CommandId::KeyList,
        CommandId::KeyDelete,
        CommandId::KeyShare,
        CommandId::KeyUnshare,
        CommandId::KeySetAttribute,
        CommandId::KeyGenerateFile,
        CommandId::KeyImportPem,
        CommandId::KeyGenerateSymmetricAes,
        CommandId::KeyGenerateSymmetricGenericSecret,
        CommandId::KeyGenerateAsymmetricPairRsa,
        CommandId::KeyGenerateAsymmetricPairEc,
        CommandId::KeyGenerateAsymmetricPairMlDsa,
        CommandId::KeyWrapAesGcm,
        CommandId::KeyWrapAesNoPad,
        CommandId::KeyWrapAesPkcs5Pad,
        CommandId::KeyWrapAesZeroPad,
        CommandId::KeyWrapCloudhsmAesGcm,
        CommandId::KeyWrapRsaAes,
        CommandId::KeyWrapRsaOaep,
        CommandId::KeyWrapRsaPkcs,
        CommandId::KeyUnwrapAesGcm,
        CommandId::KeyUnwrapAesNoPad,
        CommandId::KeyUnwrapAesPkcs5Pad,
        CommandId::KeyUnwrapAesZeroPad,
        CommandId::KeyUnwrapCloudhsmAesGcm,
        CommandId::KeyUnwrapRsaAes,
        CommandId::KeyUnwrapRsaOaep,
        CommandId::KeyUnwrapRsaPkcs,
        CommandId::KeyExtractMasked,
        CommandId::KeyInsertMasked,
        CommandId::QuorumTokenSignGenerate,
        CommandId::QuorumTokenSignList,
        CommandId::QuorumTokenSignDelete,
        CommandId::QuorumTokenSignListQuorumValues,
        CommandId::QuorumTokenSignSetQuorumValue,
        CommandId::QuorumTokenSignListTimeouts,
        CommandId::QuorumTokenSignSetTimeout,
        CommandId::UserList,
        CommandId::UserCreate,
        CommandId::UserDelete,
        CommandId::UserChangePassword,
        CommandId::UserChangeMfaTokenSign,
        CommandId::UserChangeQuorumTokenSignRegister,
    ];

    /// The command path as typed, e.g. `user change-password`.
    pub fn name(self) -> &'static str {
        match self {
            CommandId::Interactive => "interactive",
            CommandId::Quit => "quit",
            CommandId::OutputJson => "output json",
            CommandId::OutputTable => "output table",
            CommandId::Login => "login",
            CommandId::LoginMfaTokenSign => "login mfa-token-sign",
            CommandId::QuorumTokenSignGenerate => "quorum token-sign generate",
            CommandId::QuorumTokenSignList => "quorum token-sign list",
            CommandId::QuorumTokenSignDelete => "quorum token-sign delete",
            CommandId::QuorumTokenSignListQuorumValues => "quorum token-sign list-quorum-values",
            CommandId::QuorumTokenSignSetQuorumValue => "quorum token-sign set-quorum-value",
            CommandId::QuorumTokenSignListTimeouts => "quorum token-sign list-timeouts",
            CommandId::QuorumTokenSignSetTimeout => "quorum token-sign set-timeout",
            CommandId::UserChangeMfaTokenSign => "user change-mfa token-sign",
            CommandId::UserChangeQuorumTokenSignRegister => {
                "user change-quorum token-sign register"
            }
            CommandId::Logout => "logout",
            CommandId::ClusterActivate => "cluster activate",
            CommandId::ClusterHsmInfo => "cluster hsm-info",
            CommandId::ClusterSyncStatus => "cluster sync-status",
            CommandId::KeyExtractMasked => "key extract-masked",
            CommandId::KeyInsertMasked => "key insert-masked",
            CommandId::CryptoSignEcdsa => "crypto sign ecdsa",
            CommandId::CryptoSignEd25519 => "crypto sign ed25519",
            CommandId::CryptoSignEd25519ph => "crypto sign ed25519ph",
            CommandId::CryptoSignMlDsa => "crypto sign ml-dsa",
            CommandId::CryptoSignRsaPkcs => "crypto sign rsa-pkcs",
            CommandId::CryptoSignRsaPkcsPss => "crypto sign rsa-pkcs-pss",
            CommandId::CryptoVerifyEcdsa => "crypto verify ecdsa",
            CommandId::CryptoVerifyEd25519 => "crypto verify ed25519",
            CommandId::CryptoVerifyEd25519ph => "crypto verify ed25519ph",
            CommandId::CryptoVerifyMlDsa => "crypto verify ml-dsa",
            CommandId::CryptoVerifyRsaPkcs => "crypto verify rsa-pkcs",
            CommandId::CryptoVerifyRsaPkcsPss => "crypto verify rsa-pkcs-pss",
            CommandId::CryptoEncryptAesGcm => "crypto encrypt aes-gcm",
            CommandId::CryptoEncryptRsaOaep => "crypto encrypt rsa-oaep",
            CommandId::CryptoDecryptAesGcm => "crypto decrypt aes-gcm",
            CommandId::CryptoDecryptRsaOaep => "crypto decrypt rsa-oaep",
            CommandId::CryptoMacHmac => "crypto mac hmac",
            CommandId::CryptoDigest => "crypto digest",
            CommandId::KeyWrapAesGcm => "key wrap aes-gcm",
            CommandId::KeyWrapAesNoPad => "key wrap aes-no-pad",
            CommandId::KeyWrapAesPkcs5Pad => "key wrap aes-pkcs5-pad",
            CommandId::KeyWrapAesZeroPad => "key wrap aes-zero-pad",
            CommandId::KeyWrapCloudhsmAesGcm => "key wrap cloudhsm-aes-gcm",
            CommandId::KeyWrapRsaAes => "key wrap rsa-aes",
            CommandId::KeyWrapRsaOaep => "key wrap rsa-oaep",
            CommandId::KeyWrapRsaPkcs => "key wrap rsa-pkcs",
            CommandId::KeyUnwrapAesGcm => "key unwrap aes-gcm",
            CommandId::KeyUnwrapAesNoPad => "key unwrap aes-no-pad",
            CommandId::KeyUnwrapAesPkcs5Pad => "key unwrap aes-pkcs5-pad",
            CommandId::KeyUnwrapAesZeroPad => "key unwrap aes-zero-pad",
            CommandId::KeyUnwrapCloudhsmAesGcm => "key unwrap cloudhsm-aes-gcm",
            CommandId::KeyUnwrapRsaAes => "key unwrap rsa-aes",
            CommandId::KeyUnwrapRsaOaep => "key unwrap rsa-oaep",
            CommandId::KeyUnwrapRsaPkcs => "key unwrap rsa-pkcs",
            CommandId::KeyList => "key list",
            CommandId::KeyDelete => "key delete",
            CommandId::KeyShare => "key share",
            CommandId::KeyUnshare => "key unshare",
            CommandId::KeySetAttribute => "key set-attribute",
            CommandId::KeyGenerateFile => "key generate-file",
            CommandId::KeyImportPem => "key import pem",
            CommandId::KeyGenerateSymmetricAes => "key generate-symmetric aes",
            CommandId::KeyGenerateSymmetricGenericSecret => "key generate-symmetric generic-secret",
            CommandId::KeyGenerateAsymmetricPairRsa => "key generate-asymmetric-pair rsa",
            CommandId::KeyGenerateAsymmetricPairEc => "key generate-asymmetric-pair ec",
            CommandId::KeyGenerateAsymmetricPairMlDsa => "key generate-asymmetric-pair ml-dsa",
            CommandId::UserList => "user list",
            CommandId::UserCreate => "user create",
            CommandId::UserDelete => "user delete",
            CommandId::UserChangePassword => "user change-password",
        }
    }

    /// The identifier of a parsed command.
    pub fn of(command: &Command) -> CommandId {
        match command {
            Command::Interactive(_) => CommandId::Interactive,
            Command::Quit => CommandId::Quit,
            Command::Output(OutputFormat::Json) => CommandId::OutputJson,
            Command::Output(OutputFormat::Table) => CommandId::OutputTable,
            Command::Login(l) if l.mfa.is_some() => CommandId::LoginMfaTokenSign,
            Command::Login(_) => CommandId::Login,
            Command::Quorum(QuorumCommand::TokenSign(TokenSignCommand::Generate(_))) => {
                CommandId::QuorumTokenSignGenerate
            }
            Command::Quorum(QuorumCommand::TokenSign(TokenSignCommand::List(_))) => {
                CommandId::QuorumTokenSignList
            }
            Command::Quorum(QuorumCommand::TokenSign(TokenSignCommand::Delete(_))) => {
                CommandId::QuorumTokenSignDelete
            }
            Command::Quorum(QuorumCommand::TokenSign(TokenSignCommand::ListQuorumValues(_))) => {
                CommandId::QuorumTokenSignListQuorumValues
            }
            Command::Quorum(QuorumCommand::TokenSign(TokenSignCommand::SetQuorumValue(_))) => {
                CommandId::QuorumTokenSignSetQuorumValue
            }
            Command::Quorum(QuorumCommand::TokenSign(TokenSignCommand::ListTimeouts(_))) => {
                CommandId::QuorumTokenSignListTimeouts
            }
            Command::Quorum(QuorumCommand::TokenSign(TokenSignCommand::SetTimeout(_))) => {
                CommandId::QuorumTokenSignSetTimeout
            }
            Command::User(UserCommand::ChangeMfa(ChangeMfaCommand::TokenSign(_))) => {
                CommandId::UserChangeMfaTokenSign
            }
            Command::User(UserCommand::ChangeQuorum(ChangeQuorumCommand::TokenSign(
                ChangeQuorumTokenSign::Register(_),
            ))) => CommandId::UserChangeQuorumTokenSignRegister,
            Command::Logout(_) => CommandId::Logout,
            Command::Cluster(ClusterCommand::Activate(_)) => CommandId::ClusterActivate,
            Command::Cluster(ClusterCommand::HsmInfo(_)) => CommandId::ClusterHsmInfo,
            Command::Cluster(ClusterCommand::SyncStatus(_)) => CommandId::ClusterSyncStatus,
            Command::Key(KeyCommand::ExtractMasked(_)) => CommandId::KeyExtractMasked,
            Command::Key(KeyCommand::InsertMasked(_)) => CommandId::KeyInsertMasked,
            Command::Crypto(CryptoCommand::Sign(SignCommand::Ecdsa(_))) => {
                CommandId::CryptoSignEcdsa
            }
            Command::Crypto(CryptoCommand::Sign(SignCommand::Ed25519(_))) => {
                CommandId::CryptoSignEd25519
            }
            Command::Crypto(CryptoCommand::Sign(SignCommand::Ed25519ph(_))) => {
                CommandId::CryptoSignEd25519ph
            }
            Command::Crypto(CryptoCommand::Sign(SignCommand::MlDsa(_))) => {
                CommandId::CryptoSignMlDsa
            }
            Command::Crypto(CryptoCommand::Sign(SignCommand::RsaPkcs(_))) => {
                CommandId::CryptoSignRsaPkcs
            }
            Command::Crypto(CryptoCommand::Sign(SignCommand::RsaPkcsPss(_))) => {
                CommandId::CryptoSignRsaPkcsPss
            }
            Command::Crypto(CryptoCommand::Verify(VerifyCommand::Ecdsa(_))) => {
                CommandId::CryptoVerifyEcdsa
            }
            Command::Crypto(CryptoCommand::Verify(VerifyCommand::Ed25519(_))) => {
                CommandId::CryptoVerifyEd25519
            }
            Command::Crypto(CryptoCommand::Verify(VerifyCommand::Ed25519ph(_))) => {
                CommandId::CryptoVerifyEd25519ph
            }
            Command::Crypto(CryptoCommand::Verify(VerifyCommand::MlDsa(_))) => {
                CommandId::CryptoVerifyMlDsa
            }
            Command::Crypto(CryptoCommand::Verify(VerifyCommand::RsaPkcs(_))) => {
                CommandId::CryptoVerifyRsaPkcs
            }
            Command::Crypto(CryptoCommand::Verify(VerifyCommand::RsaPkcsPss(_))) => {
                CommandId::CryptoVerifyRsaPkcsPss
            }
            Command::Crypto(CryptoCommand::Encrypt(EncryptCommand::AesGcm(_))) => {
                CommandId::CryptoEncryptAesGcm
            }
            Command::Crypto(CryptoCommand::Encrypt(EncryptCommand::RsaOaep(_))) => {
                CommandId::CryptoEncryptRsaOaep
            }
            Command::Crypto(CryptoCommand::Decrypt(DecryptCommand::AesGcm(_))) => {
                CommandId::CryptoDecryptAesGcm
            }
            Command::Crypto(CryptoCommand::Decrypt(DecryptCommand::RsaOaep(_))) => {
                CommandId::CryptoDecryptRsaOaep
            }
            Command::Crypto(CryptoCommand::Mac(MacCommand::Hmac(_))) => CommandId::CryptoMacHmac,
            Command::Crypto(CryptoCommand::Digest(_)) => CommandId::CryptoDigest,
            Command::Key(KeyCommand::Wrap(WrapCommand::AesGcm(_))) => CommandId::KeyWrapAesGcm,
            Command::Key(KeyCommand::Wrap(WrapCommand::AesNoPad(_))) => CommandId::KeyWrapAesNoPad,
            Command::Key(KeyCommand::Wrap(WrapCommand::AesPkcs5Pad(_))) => {
                CommandId::KeyWrapAesPkcs5Pad
            }
            Command::Key(KeyCommand::Wrap(WrapCommand::AesZeroPad(_))) => {
                CommandId::KeyWrapAesZeroPad
            }
            Command::Key(KeyCommand::Wrap(WrapCommand::CloudhsmAesGcm(_))) => {
                CommandId::KeyWrapCloudhsmAesGcm
            }
            Command::Key(KeyCommand::Wrap(WrapCommand::RsaAes(_))) => CommandId::KeyWrapRsaAes,
            Command::Key(KeyCommand::Wrap(WrapCommand::RsaOaep(_))) => CommandId::KeyWrapRsaOaep,
            Command::Key(KeyCommand::Wrap(WrapCommand::RsaPkcs(_))) => CommandId::KeyWrapRsaPkcs,
            Command::Key(KeyCommand::Unwrap(UnwrapCommand::AesGcm(_))) => {
                CommandId::KeyUnwrapAesGcm
            }
            Command::Key(KeyCommand::Unwrap(UnwrapCommand::AesNoPad(_))) => {
                CommandId::KeyUnwrapAesNoPad
            }
            Command::Key(KeyCommand::Unwrap(UnwrapCommand::AesPkcs5Pad(_))) => {
                CommandId::KeyUnwrapAesPkcs5Pad
            }
            Command::Key(KeyCommand::Unwrap(UnwrapCommand::AesZeroPad(_))) => {
                CommandId::KeyUnwrapAesZeroPad
            }
            Command::Key(KeyCommand::Unwrap(UnwrapCommand::CloudhsmAesGcm(_))) => {
                CommandId::KeyUnwrapCloudhsmAesGcm
            }
            Command::Key(KeyCommand::Unwrap(UnwrapCommand::RsaAes(_))) => {
                CommandId::KeyUnwrapRsaAes
            }
            Command::Key(KeyCommand::Unwrap(UnwrapCommand::RsaOaep(_))) => {
                CommandId::KeyUnwrapRsaOaep
            }
            Command::Key(KeyCommand::Unwrap(UnwrapCommand::RsaPkcs(_))) => {
                CommandId::KeyUnwrapRsaPkcs
            }
            Command::Key(KeyCommand::List(_)) => CommandId::KeyList,
            Command::Key(KeyCommand::Delete(_)) => CommandId::KeyDelete,
            Command::Key(KeyCommand::Share(_)) => CommandId::KeyShare,
            Command::Key(KeyCommand::Unshare(_)) => CommandId::KeyUnshare,
            Command::Key(KeyCommand::SetAttribute(_)) => CommandId::KeySetAttribute,
            Command::Key(KeyCommand::GenerateFile(_)) => CommandId::KeyGenerateFile,
            Command::Key(KeyCommand::Import(KeyImport::Pem(_))) => CommandId::KeyImportPem,
            Command::Key(KeyCommand::GenerateSymmetric(GenerateSymmetric::Aes(_))) => {
                CommandId::KeyGenerateSymmetricAes
            }
            Command::Key(KeyCommand::GenerateSymmetric(GenerateSymmetric::GenericSecret(_))) => {
                CommandId::KeyGenerateSymmetricGenericSecret
            }
            Command::Key(KeyCommand::GenerateAsymmetricPair(GenerateAsymmetricPair::Rsa(_))) => {
                CommandId::KeyGenerateAsymmetricPairRsa
            }
            Command::Key(KeyCommand::GenerateAsymmetricPair(GenerateAsymmetricPair::Ec(_))) => {
                CommandId::KeyGenerateAsymmetricPairEc
            }
            Command::Key(KeyCommand::GenerateAsymmetricPair(GenerateAsymmetricPair::MlDsa(_))) => {
                CommandId::KeyGenerateAsymmetricPairMlDsa
            }
            Command::User(UserCommand::List(_)) => CommandId::UserList,
            Command::User(UserCommand::Create(_)) => CommandId::UserCreate,
            Command::User(UserCommand::Delete(_)) => CommandId::UserDelete,
            Command::User(UserCommand::ChangePassword(_)) => CommandId::UserChangePassword,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::grammar::Cli;

    /// Every leaf of the clap tree has an id whose name is its path, and vice versa.
    #[test]
    fn ids_cover_the_grammar() {
        fn leaves(cmd: &clap::Command, prefix: &str, out: &mut Vec<String>) {
            let subs: Vec<_> = cmd
                .get_subcommands()
                .filter(|s| s.get_name() != "help")
                .collect();
            // A leaf, or a command whose subcommand is optional (`login [mfa-token-sign]`).
            if subs.is_empty() || (!cmd.is_subcommand_required_set() && !prefix.is_empty()) {
                out.push(prefix.trim().to_string());
            }
            for s in subs {
                leaves(s, &format!("{prefix} {}", s.get_name()), out);
            }
        }
        let mut paths = Vec::new();
        leaves(&Cli::command_tree(), "", &mut paths);
        let mut names: Vec<String> = CommandId::ALL
            .iter()
            .map(|c| c.name().to_string())
            .collect();
        paths.sort();
        names.sort();
        assert_eq!(paths, names);
    }
}
