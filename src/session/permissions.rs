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

/// Every command and its class, in grammar order: the command table of `command_id.rs`.
pub use super::command_id::COMMANDS;

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
         may list keys (references and labels), replicate keys to a clone cluster and set the `trusted` key attribute; admins and \
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
            (ReplicateKeys, [true, true, false, false, false]),
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
