//! Which kind of user may run which class of operation: AWS's "HSM user permissions table for
//! CloudHSM CLI", cell for cell, plus the rows the guide adds. Every guarded `Cluster`
//! operation checks its class here against the role of the [`super::Login`] it is given, so
//! that each front end (the CLI's session, a PKCS#11 module) gets the same rule from one copy.
//!
//! Which class a CLI command belongs to is the CLI's business (`session/permissions.rs`, which
//! also generates `docs/permissions.md` from this table).

use super::key::{Attribute, Flag};
use super::user::Role;
use super::HsmError;

/// Who is asking: the kinds of principal the table distinguishes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Principal {
    Unauthenticated,
    UnactivatedAdmin,
    Admin,
    CryptoUser,
    ApplianceUser,
}

impl Principal {
    pub const ALL: &'static [Principal] = &[
        Principal::Admin,
        Principal::CryptoUser,
        Principal::ApplianceUser,
        Principal::Unauthenticated,
        Principal::UnactivatedAdmin,
    ];

    pub fn label(self) -> &'static str {
        match self {
            Principal::Unauthenticated => "unauthenticated",
            Principal::UnactivatedAdmin => "unactivated admin",
            Principal::Admin => "admin",
            Principal::CryptoUser => "crypto user",
            Principal::ApplianceUser => "appliance user",
        }
    }
}

/// A cell of the table.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Access {
    Yes,
    No,
    /// "Not applicable" in AWS's table (an unauthenticated session has no own password).
    NotApplicable,
}

/// A row of the table: an operation class.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum OperationClass {
    BasicClusterInfo,
    ActivateCluster,
    ChangeOwnPassword,
    ChangeAnyPassword,
    AddRemoveUsers,
    SyncStatus,
    MaskedObjects,
    KeyManagement,
    EncryptDecrypt,
    SignVerify,
    DigestHmac,
    ListKeys,
    ReplicateKeys,
    SetTrustedAttribute,
    QuorumTokens,
    QuorumAdministration,
    MtlsAdministration,
    MtlsStatus,
}

/// One row: the class, its wording, and the cell of each principal.
#[derive(Debug, Clone, Copy)]
pub struct ClassRule {
    pub class: OperationClass,
    pub title: &'static str,
    pub admin: Access,
    pub crypto_user: Access,
    pub appliance_user: Access,
    pub unauthenticated: Access,
    pub unactivated_admin: Access,
}

use Access::{No, NotApplicable as NA, Yes};

/// The table. The first ten rows are AWS's, cell for cell; `ActivateCluster` is the
/// unactivated admin's one power ("may only log in, activate the cluster and read basic
/// info"). An admin exists only once the cluster is active, so an admin who runs
/// `cluster activate` is told `Cluster has already been activated`, as scripts expect.
/// `ListKeys` and `SetTrustedAttribute` are the guide's documented exceptions for admins
/// ("key list" is for admins and crypto users; "admins can set the trusted attribute");
/// `ReplicateKeys` is the key replicate page's "Admins (COs) and CUs" (a CU must own the key,
/// which the operation checks).
pub const TABLE: &[ClassRule] = &[
    ClassRule {
        class: OperationClass::BasicClusterInfo,
        title: "Get basic cluster info",
        admin: Yes,
        crypto_user: Yes,
        appliance_user: Yes,
        unauthenticated: Yes,
        unactivated_admin: Yes,
    },
    ClassRule {
        class: OperationClass::ChangeOwnPassword,
        title: "Change own password",
        admin: Yes,
        crypto_user: Yes,
        appliance_user: Yes,
        unauthenticated: NA,
        unactivated_admin: No,
    },
    ClassRule {
        class: OperationClass::ChangeAnyPassword,
        title: "Change any user's password",
        admin: Yes,
        crypto_user: No,
        appliance_user: No,
        unauthenticated: No,
        unactivated_admin: No,
    },
    ClassRule {
        class: OperationClass::AddRemoveUsers,
        title: "Add, remove users",
        admin: Yes,
        crypto_user: No,
        appliance_user: No,
        unauthenticated: No,
        unactivated_admin: No,
    },
    ClassRule {
        class: OperationClass::SyncStatus,
        title: "Get sync status",
        admin: Yes,
        crypto_user: Yes,
        appliance_user: Yes,
        unauthenticated: No,
        unactivated_admin: No,
    },
    ClassRule {
        class: OperationClass::MaskedObjects,
        title: "Extract, insert masked objects",
        admin: Yes,
        crypto_user: Yes,
        appliance_user: Yes,
        unauthenticated: No,
        unactivated_admin: No,
    },
    ClassRule {
        class: OperationClass::KeyManagement,
        title: "Key management functions",
        admin: No,
        crypto_user: Yes,
        appliance_user: No,
        unauthenticated: No,
        unactivated_admin: No,
    },
    ClassRule {
        class: OperationClass::EncryptDecrypt,
        title: "Encrypt, decrypt",
        admin: No,
        crypto_user: Yes,
        appliance_user: No,
        unauthenticated: No,
        unactivated_admin: No,
    },
    ClassRule {
        class: OperationClass::SignVerify,
        title: "Sign, verify",
        admin: No,
        crypto_user: Yes,
        appliance_user: No,
        unauthenticated: No,
        unactivated_admin: No,
    },
    ClassRule {
        class: OperationClass::DigestHmac,
        title: "Generate digests and HMACs",
        admin: No,
        crypto_user: Yes,
        appliance_user: No,
        unauthenticated: No,
        unactivated_admin: No,
    },
    ClassRule {
        class: OperationClass::ActivateCluster,
        title: "Activate the cluster",
        admin: Yes,
        crypto_user: No,
        appliance_user: No,
        unauthenticated: Yes,
        unactivated_admin: Yes,
    },
    ClassRule {
        class: OperationClass::ListKeys,
        title: "List keys (admins see references and labels)",
        admin: Yes,
        crypto_user: Yes,
        appliance_user: No,
        unauthenticated: No,
        unactivated_admin: No,
    },
    ClassRule {
        class: OperationClass::ReplicateKeys,
        title: "Replicate keys to a clone cluster (crypto users: keys they own)",
        admin: Yes,
        crypto_user: Yes,
        appliance_user: No,
        unauthenticated: No,
        unactivated_admin: No,
    },
    ClassRule {
        class: OperationClass::QuorumTokens,
        title: "Generate and list quorum tokens, register a quorum key",
        admin: Yes,
        crypto_user: Yes,
        appliance_user: No,
        unauthenticated: No,
        unactivated_admin: No,
    },
    ClassRule {
        class: OperationClass::QuorumAdministration,
        title: "Set quorum values and token timeouts, delete quorum tokens",
        admin: Yes,
        crypto_user: No,
        appliance_user: No,
        unauthenticated: No,
        unactivated_admin: No,
    },
    ClassRule {
        class: OperationClass::MtlsAdministration,
        title: "Register and deregister mTLS trust anchors, set the mTLS enforcement level",
        admin: Yes,
        crypto_user: No,
        appliance_user: No,
        unauthenticated: No,
        unactivated_admin: No,
    },
    ClassRule {
        class: OperationClass::MtlsStatus,
        title: "Get the mTLS enforcement level",
        admin: Yes,
        crypto_user: Yes,
        appliance_user: No,
        unauthenticated: No,
        unactivated_admin: No,
    },
    ClassRule {
        class: OperationClass::SetTrustedAttribute,
        title: "Set the trusted key attribute",
        admin: Yes,
        crypto_user: No,
        appliance_user: No,
        unauthenticated: No,
        unactivated_admin: No,
    },
];

/// The cell for `principal` in the row of `class`.
pub fn access(class: OperationClass, principal: Principal) -> Access {
    let Some(rule) = TABLE.iter().find(|r| r.class == class) else {
        return Access::No;
    };
    match principal {
        Principal::Admin => rule.admin,
        Principal::CryptoUser => rule.crypto_user,
        Principal::ApplianceUser => rule.appliance_user,
        Principal::Unauthenticated => rule.unauthenticated,
        Principal::UnactivatedAdmin => rule.unactivated_admin,
    }
}

/// Whether `principal` may run an operation of `class`.
pub fn allows(class: OperationClass, principal: Principal) -> bool {
    access(class, principal) == Access::Yes
}

impl Principal {
    /// The principal of a logged-in user of `role`.
    pub fn of(role: Role) -> Principal {
        match role {
            Role::UnactivatedAdmin => Principal::UnactivatedAdmin,
            Role::Admin => Principal::Admin,
            Role::CryptoUser => Principal::CryptoUser,
            Role::ApplianceUser => Principal::ApplianceUser,
        }
    }
}

impl OperationClass {
    /// What an operation of this class does, as the refusal of a role names it.
    pub fn action(self) -> &'static str {
        match self {
            OperationClass::BasicClusterInfo => "get basic cluster info",
            OperationClass::ActivateCluster => "activate the cluster",
            OperationClass::ChangeOwnPassword => "change its own password",
            OperationClass::ChangeAnyPassword => "change another user's password",
            OperationClass::AddRemoveUsers => "add or remove users",
            OperationClass::SyncStatus => "get the sync status",
            OperationClass::MaskedObjects => "extract or insert masked objects",
            OperationClass::KeyManagement => "manage keys",
            OperationClass::EncryptDecrypt => "encrypt or decrypt",
            OperationClass::SignVerify => "sign or verify",
            OperationClass::DigestHmac => "generate digests or HMACs",
            OperationClass::ListKeys => "list keys",
            OperationClass::ReplicateKeys => "replicate keys",
            OperationClass::SetTrustedAttribute => "set the trusted key attribute",
            OperationClass::QuorumTokens => "generate or list quorum tokens",
            OperationClass::QuorumAdministration => {
                "set quorum values or token timeouts, or delete quorum tokens"
            }
            OperationClass::MtlsAdministration => {
                "register or deregister trust anchors, or set the mtls enforcement level"
            }
            OperationClass::MtlsStatus => "get the mtls enforcement level",
        }
    }
}

/// Refuses an operation of `class` to `username` of `role` unless the table allows it.
pub(super) fn require(username: &str, role: Role, class: OperationClass) -> Result<(), HsmError> {
    if allows(class, Principal::of(role)) {
        Ok(())
    } else {
        Err(HsmError::NotPermitted {
            username: username.to_string(),
            role: role.as_str(),
            operation: class.action(),
        })
    }
}

/// The `trusted` rule of `key set-attribute`: only an admin sets `trusted`, and an admin sets
/// nothing else. `name` is the attribute to change; the refusal says which half of the rule
/// applies.
pub(super) fn require_attribute(
    username: &str,
    role: Role,
    attribute: Attribute,
) -> Result<(), HsmError> {
    let who = Principal::of(role);
    let (class, instead, why) = if attribute == Attribute::Flag(Flag::Trusted) {
        (
            OperationClass::SetTrustedAttribute,
            OperationClass::KeyManagement,
            "only an admin can set it",
        )
    } else {
        (
            OperationClass::KeyManagement,
            OperationClass::SetTrustedAttribute,
            "an admin can only set trusted",
        )
    };
    if allows(class, who) {
        Ok(())
    } else if allows(instead, who) {
        Err(HsmError::AttributeNotPermitted {
            username: username.to_string(),
            role: role.as_str(),
            attribute: attribute.name().to_string(),
            why,
        })
    } else {
        require(username, role, class)
    }
}
