//! Which class of operation each CLI command belongs to, over THE permission table of
//! `crate::hsm::policy` (which kind of user may run which class, from AWS's "HSM user
//! permissions table for CloudHSM CLI").
//!
//! The dispatcher consults both before any handler runs, so that a denial names the command;
//! the simulated HSM checks the same table again in every guarded operation, for any front
//! end. `docs/permissions.md` is generated from both (and a test fails when they drift apart).
//! Object-level rules (ownership, lockout, quorum) are the simulated HSM's, not this table's.

use super::CommandId;

pub use crate::hsm::policy::{access, allows, Access, ClassRule, OperationClass, Principal, TABLE};

/// How a command maps to the table.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CommandClass {
    /// Session management (login, logout, quit): governed by the session state machine.
    Session,
    /// Always this class.
    Fixed(OperationClass),
    /// `own` when the command targets the logged-in user, else `other`.
    ByTarget {
        own: OperationClass,
        other: OperationClass,
    },
    /// `trusted` when the command sets the `trusted` attribute, else `other`.
    ByAttribute {
        trusted: OperationClass,
        other: OperationClass,
    },
}

/// Every command and its class, in grammar order.
pub const COMMANDS: &[(CommandId, CommandClass)] = &[
    (CommandId::Interactive, CommandClass::Session),
    (CommandId::Quit, CommandClass::Session),
    (CommandId::OutputJson, CommandClass::Session),
    (CommandId::OutputTable, CommandClass::Session),
    (CommandId::Login, CommandClass::Session),
    (CommandId::LoginMfaTokenSign, CommandClass::Session),
    (CommandId::Logout, CommandClass::Session),
    (
        CommandId::ClusterActivate,
        CommandClass::Fixed(OperationClass::ActivateCluster),
    ),
    (
        CommandId::ClusterHsmInfo,
        CommandClass::Fixed(OperationClass::BasicClusterInfo),
    ),
    (
        CommandId::ClusterSyncStatus,
        CommandClass::Fixed(OperationClass::SyncStatus),
    ),
    (
        CommandId::CryptoSignEcdsa,
        CommandClass::Fixed(OperationClass::SignVerify),
    ),
    (
        CommandId::CryptoSignEd25519,
        CommandClass::Fixed(OperationClass::SignVerify),
    ),
    (
        CommandId::CryptoSignEd25519ph,
        CommandClass::Fixed(OperationClass::SignVerify),
    ),
    (
        CommandId::CryptoSignMlDsa,
        CommandClass::Fixed(OperationClass::SignVerify),
    ),
    (
        CommandId::CryptoSignRsaPkcs,
        CommandClass::Fixed(OperationClass::SignVerify),
    ),
    (
        CommandId::CryptoSignRsaPkcsPss,
        CommandClass::Fixed(OperationClass::SignVerify),
    ),
    (
        CommandId::CryptoVerifyEcdsa,
        CommandClass::Fixed(OperationClass::SignVerify),
    ),
    (
        CommandId::CryptoVerifyEd25519,
        CommandClass::Fixed(OperationClass::SignVerify),
    ),
    (
        CommandId::CryptoVerifyEd25519ph,
        CommandClass::Fixed(OperationClass::SignVerify),
    ),
    (
        CommandId::CryptoVerifyMlDsa,
        CommandClass::Fixed(OperationClass::SignVerify),
    ),
    (
        CommandId::CryptoVerifyRsaPkcs,
        CommandClass::Fixed(OperationClass::SignVerify),
    ),
    (
        CommandId::CryptoVerifyRsaPkcsPss,
        CommandClass::Fixed(OperationClass::SignVerify),
    ),
    (
        CommandId::CryptoEncryptAesGcm,
        CommandClass::Fixed(OperationClass::EncryptDecrypt),
    ),
    (
        CommandId::CryptoEncryptRsaOaep,
        CommandClass::Fixed(OperationClass::EncryptDecrypt),
    ),
    (
        CommandId::CryptoDecryptAesGcm,
        CommandClass::Fixed(OperationClass::EncryptDecrypt),
    ),
    (
        CommandId::CryptoDecryptRsaOaep,
        CommandClass::Fixed(OperationClass::EncryptDecrypt),
    ),
    (
        CommandId::CryptoMacHmac,
        CommandClass::Fixed(OperationClass::DigestHmac),
    ),
    (
        CommandId::CryptoDigest,
        CommandClass::Fixed(OperationClass::DigestHmac),
    ),
    (
        CommandId::KeyList,
        CommandClass::Fixed(OperationClass::ListKeys),
    ),
    (
        CommandId::KeyDelete,
        CommandClass::Fixed(OperationClass::KeyManagement),
    ),
    (
        CommandId::KeyShare,
        CommandClass::Fixed(OperationClass::KeyManagement),
    ),
    (
        CommandId::KeyUnshare,
        CommandClass::Fixed(OperationClass::KeyManagement),
    ),
    (
        CommandId::KeySetAttribute,
        CommandClass::ByAttribute {
            trusted: OperationClass::SetTrustedAttribute,
            other: OperationClass::KeyManagement,
        },
    ),
    (
        CommandId::KeyGenerateFile,
        CommandClass::Fixed(OperationClass::KeyManagement),
    ),
    (
        CommandId::KeyImportPem,
        CommandClass::Fixed(OperationClass::KeyManagement),
    ),
    (
        CommandId::KeyGenerateSymmetricAes,
        CommandClass::Fixed(OperationClass::KeyManagement),
    ),
    (
        CommandId::KeyGenerateSymmetricGenericSecret,
        CommandClass::Fixed(OperationClass::KeyManagement),
    ),
    (
        CommandId::KeyGenerateAsymmetricPairRsa,
        CommandClass::Fixed(OperationClass::KeyManagement),
    ),
    (
        CommandId::KeyGenerateAsymmetricPairEc,
        CommandClass::Fixed(OperationClass::KeyManagement),
    ),
    (
        CommandId::KeyGenerateAsymmetricPairMlDsa,
        CommandClass::Fixed(OperationClass::KeyManagement),
    ),
    (
        CommandId::KeyWrapAesGcm,
        CommandClass::Fixed(OperationClass::KeyManagement),
    ),
    (
        CommandId::KeyWrapAesNoPad,
        CommandClass::Fixed(OperationClass::KeyManagement),
    ),
    (
        CommandId::KeyWrapAesPkcs5Pad,
        CommandClass::Fixed(OperationClass::KeyManagement),
    ),
    (
        CommandId::KeyWrapAesZeroPad,
        CommandClass::Fixed(OperationClass::KeyManagement),
    ),
    (
        CommandId::KeyWrapCloudhsmAesGcm,
        CommandClass::Fixed(OperationClass::KeyManagement),
    ),
    (
        CommandId::KeyWrapRsaAes,
        CommandClass::Fixed(OperationClass::KeyManagement),
    ),
    (
        CommandId::KeyWrapRsaOaep,
        CommandClass::Fixed(OperationClass::KeyManagement),
    ),
    (
        CommandId::KeyWrapRsaPkcs,
        CommandClass::Fixed(OperationClass::KeyManagement),
    ),
    (
        CommandId::KeyUnwrapAesGcm,
        CommandClass::Fixed(OperationClass::KeyManagement),
    ),
    (
        CommandId::KeyUnwrapAesNoPad,
        CommandClass::Fixed(OperationClass::KeyManagement),
    ),
    (
        CommandId::KeyUnwrapAesPkcs5Pad,
        CommandClass::Fixed(OperationClass::KeyManagement),
    ),
    (
        CommandId::KeyUnwrapAesZeroPad,
        CommandClass::Fixed(OperationClass::KeyManagement),
    ),
    (
        CommandId::KeyUnwrapCloudhsmAesGcm,
        CommandClass::Fixed(OperationClass::KeyManagement),
    ),
    (
        CommandId::KeyUnwrapRsaAes,
        CommandClass::Fixed(OperationClass::KeyManagement),
    ),
    (
        CommandId::KeyUnwrapRsaOaep,
        CommandClass::Fixed(OperationClass::KeyManagement),
    ),
    (
        CommandId::KeyUnwrapRsaPkcs,
        CommandClass::Fixed(OperationClass::KeyManagement),
    ),
    (
        CommandId::KeyExtractMasked,
        CommandClass::Fixed(OperationClass::MaskedObjects),
    ),
    (
        CommandId::KeyInsertMasked,
        CommandClass::Fixed(OperationClass::MaskedObjects),
    ),
    (
        CommandId::QuorumTokenSignGenerate,
        CommandClass::Fixed(OperationClass::QuorumTokens),
    ),
    (
        CommandId::QuorumTokenSignList,
        CommandClass::Fixed(OperationClass::QuorumTokens),
    ),
    (
        CommandId::QuorumTokenSignDelete,
        CommandClass::Fixed(OperationClass::QuorumAdministration),
    ),
    (
        CommandId::QuorumTokenSignListQuorumValues,
        CommandClass::Fixed(OperationClass::BasicClusterInfo),
    ),
    (
        CommandId::QuorumTokenSignSetQuorumValue,
        CommandClass::Fixed(OperationClass::QuorumAdministration),
    ),
    (
        CommandId::QuorumTokenSignListTimeouts,
        CommandClass::Fixed(OperationClass::BasicClusterInfo),
    ),
    (
        CommandId::QuorumTokenSignSetTimeout,
        CommandClass::Fixed(OperationClass::QuorumAdministration),
    ),
    (
        CommandId::UserList,
        CommandClass::Fixed(OperationClass::BasicClusterInfo),
    ),
    (
        CommandId::UserCreate,
        CommandClass::Fixed(OperationClass::AddRemoveUsers),
    ),
    (
        CommandId::UserDelete,
        CommandClass::Fixed(OperationClass::AddRemoveUsers),
    ),
    (
        CommandId::UserChangePassword,
        CommandClass::ByTarget {
            own: OperationClass::ChangeOwnPassword,
            other: OperationClass::ChangeAnyPassword,
        },
    ),
    (
        CommandId::UserChangeMfaTokenSign,
        CommandClass::ByTarget {
            own: OperationClass::ChangeOwnPassword,
            other: OperationClass::ChangeAnyPassword,
        },
    ),
    (
        CommandId::UserChangeQuorumTokenSignRegister,
        CommandClass::Fixed(OperationClass::QuorumTokens),
    ),
];

/// The class of `command`; `None` for a command without a row, which the dispatcher denies to
/// everyone (a test keeps every command in the table).
pub fn class_of(command: CommandId) -> Option<CommandClass> {
    COMMANDS
        .iter()
        .find(|(id, _)| *id == command)
        .map(|(_, class)| *class)
}

fn cell(a: Access) -> &'static str {
    match a {
        Access::Yes => "yes",
        Access::No => "no",
        Access::NotApplicable => "not applicable",
    }
}

/// `docs/permissions.md`, generated from the table.
pub fn render_markdown() -> String {
    let mut md = String::from(
        "# Permissions\n\n\
         <!-- Generated from src/session/permissions.rs by `cargo run --bin cloudhsm-sim -- permissions`. \
         Do not edit: a test fails when this file and the table drift apart. -->\n\n\
         Who may run what, before any command runs. The first ten rows are AWS's \
         \"HSM user permissions table for CloudHSM CLI\"; the rows after them are what the guide adds: \
         the unactivated admin may only log in, activate the cluster and read basic info; admins \
         may list keys (references and labels) and set the `trusted` key attribute; admins and \
         crypto users generate quorum tokens and register quorum keys; only admins set quorum \
         values and token timeouts. Object-level rules (key ownership, lockout, \
         quorum) are checked afterwards by the simulated HSM.\n\n\
         ## Operation classes\n\n\
         | operation class | admin | crypto user | appliance user | unauthenticated | unactivated admin |\n\
         | --- | --- | --- | --- | --- | --- |\n",
    );
    for r in TABLE {
        md.push_str(&format!(
            "| {} | {} | {} | {} | {} | {} |\n",
            r.title,
            cell(r.admin),
            cell(r.crypto_user),
            cell(r.appliance_user),
            cell(r.unauthenticated),
            cell(r.unactivated_admin)
        ));
    }
    md.push_str("\n## Commands\n\n| command | operation class |\n| --- | --- |\n");
    let title = |c: OperationClass| TABLE.iter().find(|r| r.class == c).map_or("?", |r| r.title);
    for (id, class) in COMMANDS {
        let text = match class {
            CommandClass::Session => {
                "session management (anyone; see docs/scripting.md)".to_string()
            }
            CommandClass::Fixed(c) => title(*c).to_string(),
            CommandClass::ByTarget { own, other } => {
                format!(
                    "{} (own user) / {} (another user)",
                    title(*own),
                    title(*other)
                )
            }
            CommandClass::ByAttribute { trusted, other } => format!(
                "{} (`--name trusted`) / {} (any other attribute)",
                title(*trusted),
                title(*other)
            ),
        };
        md.push_str(&format!("| `{}` | {} |\n", id.name(), text));
    }
    md
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_command_has_exactly_one_row_in_grammar_order() {
        let ids: Vec<CommandId> = COMMANDS.iter().map(|(id, _)| *id).collect();
        assert_eq!(ids, CommandId::ALL);
    }

    #[test]
    fn every_class_has_exactly_one_row() {
        let mut classes: Vec<_> = TABLE.iter().map(|r| r.class).collect();
        let n = classes.len();
        classes.sort();
        classes.dedup();
        assert_eq!(classes.len(), n);
    }

    /// The AWS table, restated independently: a typo in TABLE fails here.
    #[test]
    fn matches_the_aws_table() {
        use OperationClass::*;
        use Principal::*;
        let expect = [
            (BasicClusterInfo, [true, true, true, true, true]),
            (ChangeOwnPassword, [true, true, true, false, false]),
            (ChangeAnyPassword, [true, false, false, false, false]),
            (AddRemoveUsers, [true, false, false, false, false]),
            (SyncStatus, [true, true, true, false, false]),
            (MaskedObjects, [true, true, true, false, false]),
            (KeyManagement, [false, true, false, false, false]),
            (EncryptDecrypt, [false, true, false, false, false]),
            (SignVerify, [false, true, false, false, false]),
            (DigestHmac, [false, true, false, false, false]),
            (ActivateCluster, [true, false, false, true, true]),
            (ListKeys, [true, true, false, false, false]),
            (SetTrustedAttribute, [true, false, false, false, false]),
            (QuorumTokens, [true, true, false, false, false]),
            (QuorumAdministration, [true, false, false, false, false]),
        ];
        for (class, cells) in expect {
            for (p, want) in [
                Admin,
                CryptoUser,
                ApplianceUser,
                Unauthenticated,
                UnactivatedAdmin,
            ]
            .into_iter()
            .zip(cells)
            {
                assert_eq!(allows(class, p), want, "{class:?} for {p:?}");
            }
        }
        assert_eq!(
            access(ChangeOwnPassword, Unauthenticated),
            Access::NotApplicable
        );
    }

    #[test]
    fn docs_permissions_md_is_generated_from_the_table() {
        let path = concat!(env!("CARGO_MANIFEST_DIR"), "/docs/permissions.md");
        let on_disk = std::fs::read_to_string(path).unwrap_or_default();
        if std::env::var_os("SNAPSHOTS").is_some_and(|v| v == "overwrite") {
            std::fs::write(path, render_markdown()).unwrap();
            return;
        }
        assert!(
            on_disk == render_markdown(),
            "docs/permissions.md drifted from the table: run \
             `cargo run --bin cloudhsm-sim -- permissions > docs/permissions.md`"
        );
    }
}
