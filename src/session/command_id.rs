//! THE command table: one row per leaf command of the grammar, in grammar order. From it come
//! the command's identifier, its path as typed (`user change-password`), its class in the
//! permission table, and the mapping from a parsed command to its identifier. Adding a command
//! is: its clap type in `grammar`, one row here, and a handler.

use crate::grammar::{
    ChangeMfaCommand, ChangeQuorumCommand, ChangeQuorumTokenSign, ClusterCommand, Command,
    CryptoCommand, DecryptCommand, EncryptCommand, GenerateAsymmetricPair, GenerateSymmetric,
    KeyCommand, KeyImport, Login, MacCommand, MtlsCommand, OutputFormat, QuorumCommand,
    SignCommand, TokenSignCommand, UnwrapCommand, UserCommand, VerifyCommand, WrapCommand,
};
use crate::hsm::policy::OperationClass as Op;

use super::permissions::CommandClass::{self, ByAttribute, ByTarget, Fixed, Session};

/// Expands the rows of the command table below: `PATTERN => Id, "path", class;`.
macro_rules! command_table {
    ($($pattern:pat => $id:ident, $path:literal, $class:expr;)*) => {
        /// A leaf command.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
        pub enum CommandId {
            $($id,)*
        }

        impl CommandId {
            /// Every command, in grammar order.
            pub const ALL: &'static [CommandId] = &[$(CommandId::$id,)*];

            /// The command path as typed, e.g. `user change-password`.
            pub fn name(self) -> &'static str {
                match self {
                    $(CommandId::$id => $path,)*
                }
            }

            /// The identifier of a parsed command.
            pub fn of(command: &Command) -> CommandId {
                match command {
                    $($pattern => CommandId::$id,)*
                }
            }
        }

        /// Every command and its class in the permission table, in grammar order.
        pub const COMMANDS: &[(CommandId, CommandClass)] = &[$((CommandId::$id, $class),)*];
    };
}

// The grammar pattern of each command, then its identifier, path and class.
command_table! {
    Command::Interactive(_)
        => Interactive, "interactive", Session;
    Command::Quit
        => Quit, "quit", Session;
    Command::Output(OutputFormat::Json)
        => OutputJson, "output json", Session;
    Command::Output(OutputFormat::Table)
        => OutputTable, "output table", Session;
    Command::Login(Login { mfa: None, .. })
        => Login, "login", Session;
    Command::Login(Login { mfa: Some(_), .. })
        => LoginMfaTokenSign, "login mfa-token-sign", Session;
    Command::Logout(_)
        => Logout, "logout", Session;
    Command::Cluster(ClusterCommand::Activate(_))
        => ClusterActivate, "cluster activate", Fixed(Op::ActivateCluster);
    Command::Cluster(ClusterCommand::HsmInfo(_))
        => ClusterHsmInfo, "cluster hsm-info", Fixed(Op::BasicClusterInfo);
    Command::Cluster(ClusterCommand::Mtls(MtlsCommand::RegisterTrustAnchor(_)))
        => ClusterMtlsRegisterTrustAnchor, "cluster mtls register-trust-anchor", Fixed(Op::MtlsAdministration);
    Command::Cluster(ClusterCommand::Mtls(MtlsCommand::DeregisterTrustAnchor(_)))
        => ClusterMtlsDeregisterTrustAnchor, "cluster mtls deregister-trust-anchor", Fixed(Op::MtlsAdministration);
    Command::Cluster(ClusterCommand::Mtls(MtlsCommand::ListTrustAnchors(_)))
        => ClusterMtlsListTrustAnchors, "cluster mtls list-trust-anchors", Fixed(Op::BasicClusterInfo);
    Command::Cluster(ClusterCommand::Mtls(MtlsCommand::GetEnforcement(_)))
        => ClusterMtlsGetEnforcement, "cluster mtls get-enforcement", Fixed(Op::MtlsStatus);
    Command::Cluster(ClusterCommand::Mtls(MtlsCommand::SetEnforcement(_)))
        => ClusterMtlsSetEnforcement, "cluster mtls set-enforcement", Fixed(Op::MtlsAdministration);
    Command::Cluster(ClusterCommand::SyncStatus(_))
        => ClusterSyncStatus, "cluster sync-status", Fixed(Op::SyncStatus);
    Command::Crypto(CryptoCommand::Sign(SignCommand::Ecdsa(_)))
        => CryptoSignEcdsa, "crypto sign ecdsa", Fixed(Op::SignVerify);
    Command::Crypto(CryptoCommand::Sign(SignCommand::Ed25519(_)))
        => CryptoSignEd25519, "crypto sign ed25519", Fixed(Op::SignVerify);
    Command::Crypto(CryptoCommand::Sign(SignCommand::Ed25519ph(_)))
        => CryptoSignEd25519ph, "crypto sign ed25519ph", Fixed(Op::SignVerify);
    Command::Crypto(CryptoCommand::Sign(SignCommand::MlDsa(_)))
        => CryptoSignMlDsa, "crypto sign ml-dsa", Fixed(Op::SignVerify);
    Command::Crypto(CryptoCommand::Sign(SignCommand::RsaPkcs(_)))
        => CryptoSignRsaPkcs, "crypto sign rsa-pkcs", Fixed(Op::SignVerify);
    Command::Crypto(CryptoCommand::Sign(SignCommand::RsaPkcsPss(_)))
        => CryptoSignRsaPkcsPss, "crypto sign rsa-pkcs-pss", Fixed(Op::SignVerify);
    Command::Crypto(CryptoCommand::Verify(VerifyCommand::Ecdsa(_)))
        => CryptoVerifyEcdsa, "crypto verify ecdsa", Fixed(Op::SignVerify);
    Command::Crypto(CryptoCommand::Verify(VerifyCommand::Ed25519(_)))
        => CryptoVerifyEd25519, "crypto verify ed25519", Fixed(Op::SignVerify);
    Command::Crypto(CryptoCommand::Verify(VerifyCommand::Ed25519ph(_)))
        => CryptoVerifyEd25519ph, "crypto verify ed25519ph", Fixed(Op::SignVerify);
    Command::Crypto(CryptoCommand::Verify(VerifyCommand::MlDsa(_)))
        => CryptoVerifyMlDsa, "crypto verify ml-dsa", Fixed(Op::SignVerify);
    Command::Crypto(CryptoCommand::Verify(VerifyCommand::RsaPkcs(_)))
        => CryptoVerifyRsaPkcs, "crypto verify rsa-pkcs", Fixed(Op::SignVerify);
    Command::Crypto(CryptoCommand::Verify(VerifyCommand::RsaPkcsPss(_)))
        => CryptoVerifyRsaPkcsPss, "crypto verify rsa-pkcs-pss", Fixed(Op::SignVerify);
    Command::Crypto(CryptoCommand::Encrypt(EncryptCommand::AesGcm(_)))
        => CryptoEncryptAesGcm, "crypto encrypt aes-gcm", Fixed(Op::EncryptDecrypt);
    Command::Crypto(CryptoCommand::Encrypt(EncryptCommand::RsaOaep(_)))
        => CryptoEncryptRsaOaep, "crypto encrypt rsa-oaep", Fixed(Op::EncryptDecrypt);
    Command::Crypto(CryptoCommand::Decrypt(DecryptCommand::AesGcm(_)))
        => CryptoDecryptAesGcm, "crypto decrypt aes-gcm", Fixed(Op::EncryptDecrypt);
    Command::Crypto(CryptoCommand::Decrypt(DecryptCommand::RsaOaep(_)))
        => CryptoDecryptRsaOaep, "crypto decrypt rsa-oaep", Fixed(Op::EncryptDecrypt);
    Command::Crypto(CryptoCommand::Mac(MacCommand::Hmac(_)))
        => CryptoMacHmac, "crypto mac hmac", Fixed(Op::DigestHmac);
    Command::Crypto(CryptoCommand::Digest(_))
        => CryptoDigest, "crypto digest", Fixed(Op::DigestHmac);
    Command::Key(KeyCommand::List(_))
        => KeyList, "key list", Fixed(Op::ListKeys);
    Command::Key(KeyCommand::Delete(_))
        => KeyDelete, "key delete", Fixed(Op::KeyManagement);
    Command::Key(KeyCommand::Share(_))
        => KeyShare, "key share", Fixed(Op::KeyManagement);
    Command::Key(KeyCommand::Unshare(_))
        => KeyUnshare, "key unshare", Fixed(Op::KeyManagement);
    Command::Key(KeyCommand::SetAttribute(_))
        => KeySetAttribute, "key set-attribute", ByAttribute { trusted: Op::SetTrustedAttribute, other: Op::KeyManagement };
    Command::Key(KeyCommand::GenerateFile(_))
        => KeyGenerateFile, "key generate-file", Fixed(Op::KeyManagement);
    Command::Key(KeyCommand::Import(KeyImport::Pem(_)))
        => KeyImportPem, "key import pem", Fixed(Op::KeyManagement);
    Command::Key(KeyCommand::GenerateSymmetric(GenerateSymmetric::Aes(_)))
        => KeyGenerateSymmetricAes, "key generate-symmetric aes", Fixed(Op::KeyManagement);
    Command::Key(KeyCommand::GenerateSymmetric(GenerateSymmetric::GenericSecret(_)))
        => KeyGenerateSymmetricGenericSecret, "key generate-symmetric generic-secret", Fixed(Op::KeyManagement);
    Command::Key(KeyCommand::GenerateAsymmetricPair(GenerateAsymmetricPair::Rsa(_)))
        => KeyGenerateAsymmetricPairRsa, "key generate-asymmetric-pair rsa", Fixed(Op::KeyManagement);
    Command::Key(KeyCommand::GenerateAsymmetricPair(GenerateAsymmetricPair::Ec(_)))
        => KeyGenerateAsymmetricPairEc, "key generate-asymmetric-pair ec", Fixed(Op::KeyManagement);
    Command::Key(KeyCommand::GenerateAsymmetricPair(GenerateAsymmetricPair::MlDsa(_)))
        => KeyGenerateAsymmetricPairMlDsa, "key generate-asymmetric-pair ml-dsa", Fixed(Op::KeyManagement);
    Command::Key(KeyCommand::Wrap(WrapCommand::AesGcm(_)))
        => KeyWrapAesGcm, "key wrap aes-gcm", Fixed(Op::KeyManagement);
    Command::Key(KeyCommand::Wrap(WrapCommand::AesNoPad(_)))
        => KeyWrapAesNoPad, "key wrap aes-no-pad", Fixed(Op::KeyManagement);
    Command::Key(KeyCommand::Wrap(WrapCommand::AesPkcs5Pad(_)))
        => KeyWrapAesPkcs5Pad, "key wrap aes-pkcs5-pad", Fixed(Op::KeyManagement);
    Command::Key(KeyCommand::Wrap(WrapCommand::AesZeroPad(_)))
        => KeyWrapAesZeroPad, "key wrap aes-zero-pad", Fixed(Op::KeyManagement);
    Command::Key(KeyCommand::Wrap(WrapCommand::CloudhsmAesGcm(_)))
        => KeyWrapCloudhsmAesGcm, "key wrap cloudhsm-aes-gcm", Fixed(Op::KeyManagement);
    Command::Key(KeyCommand::Wrap(WrapCommand::RsaAes(_)))
        => KeyWrapRsaAes, "key wrap rsa-aes", Fixed(Op::KeyManagement);
    Command::Key(KeyCommand::Wrap(WrapCommand::RsaOaep(_)))
        => KeyWrapRsaOaep, "key wrap rsa-oaep", Fixed(Op::KeyManagement);
    Command::Key(KeyCommand::Wrap(WrapCommand::RsaPkcs(_)))
        => KeyWrapRsaPkcs, "key wrap rsa-pkcs", Fixed(Op::KeyManagement);
    Command::Key(KeyCommand::Unwrap(UnwrapCommand::AesGcm(_)))
        => KeyUnwrapAesGcm, "key unwrap aes-gcm", Fixed(Op::KeyManagement);
    Command::Key(KeyCommand::Unwrap(UnwrapCommand::AesNoPad(_)))
        => KeyUnwrapAesNoPad, "key unwrap aes-no-pad", Fixed(Op::KeyManagement);
    Command::Key(KeyCommand::Unwrap(UnwrapCommand::AesPkcs5Pad(_)))
        => KeyUnwrapAesPkcs5Pad, "key unwrap aes-pkcs5-pad", Fixed(Op::KeyManagement);
    Command::Key(KeyCommand::Unwrap(UnwrapCommand::AesZeroPad(_)))
        => KeyUnwrapAesZeroPad, "key unwrap aes-zero-pad", Fixed(Op::KeyManagement);
    Command::Key(KeyCommand::Unwrap(UnwrapCommand::CloudhsmAesGcm(_)))
        => KeyUnwrapCloudhsmAesGcm, "key unwrap cloudhsm-aes-gcm", Fixed(Op::KeyManagement);
    Command::Key(KeyCommand::Unwrap(UnwrapCommand::RsaAes(_)))
        => KeyUnwrapRsaAes, "key unwrap rsa-aes", Fixed(Op::KeyManagement);
    Command::Key(KeyCommand::Unwrap(UnwrapCommand::RsaOaep(_)))
        => KeyUnwrapRsaOaep, "key unwrap rsa-oaep", Fixed(Op::KeyManagement);
    Command::Key(KeyCommand::Unwrap(UnwrapCommand::RsaPkcs(_)))
        => KeyUnwrapRsaPkcs, "key unwrap rsa-pkcs", Fixed(Op::KeyManagement);
    Command::Key(KeyCommand::Replicate(_))
        => KeyReplicate, "key replicate", Fixed(Op::ReplicateKeys);
    Command::Key(KeyCommand::ExtractMasked(_))
        => KeyExtractMasked, "key extract-masked", Fixed(Op::MaskedObjects);
    Command::Key(KeyCommand::InsertMasked(_))
        => KeyInsertMasked, "key insert-masked", Fixed(Op::MaskedObjects);
    Command::Quorum(QuorumCommand::TokenSign(TokenSignCommand::Generate(_)))
        => QuorumTokenSignGenerate, "quorum token-sign generate", Fixed(Op::QuorumTokens);
    Command::Quorum(QuorumCommand::TokenSign(TokenSignCommand::List(_)))
        => QuorumTokenSignList, "quorum token-sign list", Fixed(Op::QuorumTokens);
    Command::Quorum(QuorumCommand::TokenSign(TokenSignCommand::Delete(_)))
        => QuorumTokenSignDelete, "quorum token-sign delete", Fixed(Op::QuorumAdministration);
    Command::Quorum(QuorumCommand::TokenSign(TokenSignCommand::ListQuorumValues(_)))
        => QuorumTokenSignListQuorumValues, "quorum token-sign list-quorum-values", Fixed(Op::BasicClusterInfo);
    Command::Quorum(QuorumCommand::TokenSign(TokenSignCommand::SetQuorumValue(_)))
        => QuorumTokenSignSetQuorumValue, "quorum token-sign set-quorum-value", Fixed(Op::QuorumAdministration);
    Command::Quorum(QuorumCommand::TokenSign(TokenSignCommand::ListTimeouts(_)))
        => QuorumTokenSignListTimeouts, "quorum token-sign list-timeouts", Fixed(Op::BasicClusterInfo);
    Command::Quorum(QuorumCommand::TokenSign(TokenSignCommand::SetTimeout(_)))
        => QuorumTokenSignSetTimeout, "quorum token-sign set-timeout", Fixed(Op::QuorumAdministration);
    Command::User(UserCommand::List(_))
        => UserList, "user list", Fixed(Op::BasicClusterInfo);
    Command::User(UserCommand::Create(_))
        => UserCreate, "user create", Fixed(Op::AddRemoveUsers);
    Command::User(UserCommand::Delete(_))
        => UserDelete, "user delete", Fixed(Op::AddRemoveUsers);
    Command::User(UserCommand::ChangePassword(_))
        => UserChangePassword, "user change-password", ByTarget { own: Op::ChangeOwnPassword, other: Op::ChangeAnyPassword };
    Command::User(UserCommand::ChangeMfa(ChangeMfaCommand::TokenSign(_)))
        => UserChangeMfaTokenSign, "user change-mfa token-sign", ByTarget { own: Op::ChangeOwnPassword, other: Op::ChangeAnyPassword };
    Command::User(UserCommand::ChangeQuorum(ChangeQuorumCommand::TokenSign( ChangeQuorumTokenSign::Register(_), )))
        => UserChangeQuorumTokenSignRegister, "user change-quorum token-sign register", Fixed(Op::QuorumTokens);
    Command::User(UserCommand::Replicate(_))
        => UserReplicate, "user replicate", Fixed(Op::AddRemoveUsers);
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
