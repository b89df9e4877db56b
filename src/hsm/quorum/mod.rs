//! Quorum (M of N) authentication and token-sign keys: quorum values, timeouts, approval,
//! registration and MFA tokens, and the check of an approval before a guarded operation.
//!
//! AWS CloudHSM User Guide: "Managing quorum authentication (M of N access control)", "Token
//! files", "Quorum authentication service names", "Multi-factor authentication".

use base64::Engine;
use serde::{Deserialize, Serialize};

use crate::store::records::{self, TokenRecord, UserKeyRecord};
use crate::store::Tx;

use super::auth::hash_password;
use super::cluster::{set_password, UserInfo};
use super::crypto::{self, DataType, HashFunction, Mechanism, PublicKey};
use super::key::Key;
use super::login::Login;
use super::policy::OperationClass;
use super::process::{tag_is_alive, SessionId};
use super::user::{check_password, Role, Username};
use super::{Cluster, Entropy, HsmError};

mod approval;
mod registration;
mod tokens;

pub(super) use approval::{Approve, Who};
pub(super) use registration::{clear_user_key, verify_mfa_login};
pub(super) use tokens::{store_issued, Issued};

/// A quorum service.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Service {
    User,
    Quorum,
    Cluster,
    Registration,
    KeyUsage,
    KeyManagement,
}

impl Service {
    /// Every service, in the order of their ids.
    pub const ALL: [Service; 6] = [
        Service::User,
        Service::Quorum,
        Service::Cluster,
        Service::Registration,
        Service::KeyUsage,
        Service::KeyManagement,
    ];

    /// The service's name, as the CLI and the guide spell it (and the store keeps it).
    pub fn as_str(self) -> &'static str {
        match self {
            Service::User => "user",
            Service::Quorum => "quorum",
            Service::Cluster => "cluster",
            Service::Registration => "registration",
            Service::KeyUsage => "key-usage",
            Service::KeyManagement => "key-management",
        }
    }

    fn id(self) -> u16 {
        match self {
            Service::User => 3,
            Service::Quorum => 4,
            Service::Cluster => 5,
            Service::Registration => 6,
            Service::KeyUsage => 7,
            Service::KeyManagement => 8,
        }
    }

    /// Services whose approvers are admins (the others': crypto users).
    fn is_admin_service(self) -> bool {
        matches!(self, Service::User | Service::Quorum | Service::Cluster)
    }

    /// The service named `s` ([`Service::as_str`]).
    pub fn parse(s: &str) -> Option<Service> {
        Service::ALL.into_iter().find(|v| v.as_str() == s)
    }
}

impl std::fmt::Display for Service {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// What a token row is for: what issued it and what spends it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TokenKind {
    /// A quorum approval token (`quorum token-sign generate`), spent by the operation it
    /// approves.
    Approval,
    /// A registration token (`quorum token-sign generate --service registration`), signed to
    /// register a quorum key.
    Registration,
    /// An MFA registration token (`user change-mfa token-sign`).
    MfaRegister,
    /// An MFA login token, the second factor of `login … mfa-token-sign`.
    MfaLogin,
}

impl TokenKind {
    pub const ALL: [TokenKind; 4] = [
        TokenKind::Approval,
        TokenKind::Registration,
        TokenKind::MfaRegister,
        TokenKind::MfaLogin,
    ];

    /// The kind as the store's token rows keep it.
    pub fn as_str(self) -> &'static str {
        match self {
            TokenKind::Approval => "approval",
            TokenKind::Registration => "registration",
            TokenKind::MfaRegister => "mfa-register",
            TokenKind::MfaLogin => "mfa-login",
        }
    }

    /// The kind named `s` ([`TokenKind::as_str`]).
    pub fn parse(s: &str) -> Option<TokenKind> {
        TokenKind::ALL.into_iter().find(|k| k.as_str() == s)
    }

    /// Whether a token row is of this kind.
    fn holds(self, row: &TokenRecord) -> bool {
        row.kind == self.as_str()
    }
}

/// An approval token file (`--approval`), as the guide documents it.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ApprovalFile {
    pub version: String,
    pub approval_data: String,
    pub token: String,
    #[serde(default)]
    pub signatures: Vec<ApprovalSignature>,
}

/// One approver's signature in an approval token file.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ApprovalSignature {
    pub username: String,
    pub signature: String,
}

/// A registration or MFA token file: one token per HSM.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct TokenSetFile {
    pub version: String,
    pub tokens: Vec<SignedToken>,
}

/// One token of a registration or MFA file.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct SignedToken {
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub approval_data: Option<String>,
    pub unsigned: String,
    #[serde(default)]
    pub signed: String,
}

/// One token of `quorum token-sign list`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TokenInfo {
    pub username: String,
    pub service: Service,
    pub key_reference: Option<u64>,
    pub approvals_required: u8,
    pub timeout_seconds: i64,
}

/// Default token timeouts in seconds (`quorum token-sign list-timeouts`).
pub const DEFAULT_TIMEOUT: i64 = 600;
/// Tokens an HSM holds at most.
pub const MAX_TOKENS: usize = 1024;

fn b64() -> base64::engine::GeneralPurpose {
    base64::engine::general_purpose::STANDARD
}

fn sha256(data: &[u8]) -> Vec<u8> {
    HashFunction::Sha256.digest(data)
}

/// Whether `signature` (base64) is the RSA PKCS#1 v1.5 SHA-256 signature of the 32-byte
/// `token` by `public_key` (SubjectPublicKeyInfo DER), as `openssl pkeyutl -sign -pkeyopt
/// digest:sha256` makes it.
fn signature_valid(public_key: &[u8], token: &[u8], signature: &str) -> bool {
    let Ok(sig) = b64().decode(signature.trim()) else {
        return false;
    };
    let Ok(key) = PublicKey::from_spki_der(public_key) else {
        return false;
    };
    let mut digest_info = HashFunction::Sha256.digest_info_prefix().to_vec();
    digest_info.extend_from_slice(token);
    let mechanism = Mechanism::RsaPkcs {
        hash: HashFunction::Sha256,
        data_type: DataType::Digest,
    };
    crypto::verify(&key, &mechanism, &digest_info, &sig).unwrap_or(false)
}

/// Why a quorum or token-sign operation was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum QuorumError {
    #[error("Quorum approval is required for this operation")]
    ApprovalRequired,
    #[error("Invalid quorum value provided.")]
    InvalidValue,
    #[error("Too few quorum approvals: currently {current} approvals, but {required} approvals required")]
    TooFew { current: usize, required: u8 },
    #[error("Invalid username-signature pair for quorum authorization")]
    InvalidSignaturePair,
    #[error("No token signatures provided")]
    NoSignatures,
    #[error("The quorum token was generated by a login session that has ended: a token is valid only in the session that generated it, so generate, sign and use it in one session (docs/scripting.md, \"Quorum in scripts\")")]
    SessionEnded,
    #[error("The quorum token has expired")]
    Expired,
    #[error("The quorum token was issued for the {issued} service, not {wanted}")]
    WrongService {
        issued: String,
        wanted: &'static str,
    },
    #[error("The quorum token was issued for another key")]
    WrongKey,
    #[error("Invalid token file {path}: {detail}")]
    BadFile { path: String, detail: String },
    #[error("The {service} service token is for admins; crypto users generate key-usage, key-management and registration tokens")]
    ServiceForAdmins { service: &'static str },
    #[error("The {service} service token is for crypto users")]
    ServiceForCryptoUsers { service: &'static str },
    #[error("The HSM holds the maximum number of quorum tokens ({max})")]
    TooManyTokens { max: usize },
    #[error("The public key must be an RSA key of 2048 to 4096 bits: {detail}")]
    BadPublicKey { detail: String },
    #[error(
        "The signed token file does not hold valid signatures of the tokens this session generated"
    )]
    BadRegistrationSignature,
    #[error("The set-quorum-value service must be user, quorum or cluster")]
    NotAQuorumService,
    #[error("The cluster service is only available on hsm2m.medium clusters")]
    ClusterServiceUnavailable,
    #[error("A timeout is a number of seconds greater than 0")]
    InvalidTimeout,
    #[error("MFA is not enabled for user {username}: log in without mfa-token-sign")]
    MfaNotEnabled { username: String },
    #[error("User {username} has MFA enabled: log in with login --username {username} --role <ROLE> mfa-token-sign --token <TOKEN>")]
    MfaRequired { username: String },
}

impl Cluster {
    /// Now, in Unix seconds: the fixed clock the cluster was opened with
    /// ([`Cluster::open_with_clock`]), else the system clock. The only reading of the system
    /// clock in `hsm`.
    pub(super) fn now(&self) -> i64 {
        self.clock.unwrap_or_else(|| {
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map(|d| d.as_secs() as i64)
                .unwrap_or_default()
        })
    }

    /// The quorum services of this cluster type with their values (`list-quorum-values`).
    pub fn quorum_values(&mut self) -> Result<Vec<(Service, i64)>, HsmError> {
        let mut services = vec![Service::User, Service::Quorum];
        if self.settings.hsm_type == super::HsmType::Hsm2mMedium {
            services.push(Service::Cluster);
        }
        self.store.read(|tx| {
            services
                .into_iter()
                .map(|s| Ok((s, records::quorum_value(tx, s.as_str())?)))
                .collect::<Result<Vec<_>, HsmError>>()
        })
    }

    /// `(generated, approved)` token timeouts in seconds.
    pub fn token_timeouts(&mut self) -> Result<(i64, i64), HsmError> {
        self.store.read(timeouts)
    }

    /// `quorum token-sign set-timeout`.
    pub fn set_token_timeouts(
        &mut self,
        login: &Login,
        generated: Option<u64>,
        approved: Option<u64>,
    ) -> Result<(), HsmError> {
        self.guard(login, OperationClass::QuorumAdministration)?;
        self.write_token_timeouts(generated, approved)
    }

    /// Sets the token timeouts: see [`Cluster::set_token_timeouts`].
    pub(super) fn write_token_timeouts(
        &mut self,
        generated: Option<u64>,
        approved: Option<u64>,
    ) -> Result<(), HsmError> {
        // Any positive number of seconds (the guide sets no upper bound; the clock saturates);
        // a token that expires as it is made could never be used.
        if generated == Some(0) || approved == Some(0) {
            return Err(QuorumError::InvalidTimeout.into());
        }
        self.store.write(|tx| {
            if let Some(v) = generated {
                records::set_meta(tx, "token_timeout_generated", &v.to_string())?;
            }
            if let Some(v) = approved {
                records::set_meta(tx, "token_timeout_approved", &v.to_string())?;
            }
            Ok::<_, HsmError>(())
        })
    }

    /// `quorum token-sign set-quorum-value`: checked against, and spending, an approval of
    /// the `quorum` service in the transaction that sets the value.
    pub fn set_quorum_value(
        &mut self,
        login: &Login,
        service: Service,
        value: u64,
        approval: Option<&ApprovalFile>,
    ) -> Result<(), HsmError> {
        self.guard(login, OperationClass::QuorumAdministration)?;
        let now = self.now();
        self.write_quorum_value(service, value, |tx| {
            Approve::service(tx, Service::Quorum)?.spend(tx, login, approval, now)
        })
    }

    /// Sets a quorum value once `approved` (run in the same transaction) said yes.
    pub(super) fn write_quorum_value(
        &mut self,
        service: Service,
        value: u64,
        approved: impl FnOnce(&Tx<'_>) -> Result<(), HsmError>,
    ) -> Result<(), HsmError> {
        match service {
            Service::User | Service::Quorum => {}
            Service::Cluster if self.settings.hsm_type == super::HsmType::Hsm2mMedium => {}
            Service::Cluster => return Err(QuorumError::ClusterServiceUnavailable.into()),
            _ => return Err(QuorumError::NotAQuorumService.into()),
        }
        if !(1..=8).contains(&value) {
            return Err(QuorumError::InvalidValue.into());
        }
        self.store.write(|tx| {
            approved(tx)?;
            let admins = records::users(tx)?
                .iter()
                .filter(|u| u.role == Role::Admin.as_str())
                .count();
            if value as usize > admins.max(1) {
                return Err(QuorumError::InvalidValue.into());
            }
            records::set_quorum_value(tx, service.as_str(), value as i64)?;
            Ok::<_, HsmError>(())
        })
    }
}

/// `(generated, approved)` token timeouts in seconds.
fn timeouts(tx: &Tx<'_>) -> Result<(i64, i64), HsmError> {
    let get = |k: &str| -> Result<i64, HsmError> {
        Ok(records::meta(tx, k)?
            .and_then(|v| v.parse::<u64>().ok())
            .map(|v| i64::try_from(v).unwrap_or(i64::MAX))
            .unwrap_or(DEFAULT_TIMEOUT))
    };
    Ok((
        get("token_timeout_generated")?,
        get("token_timeout_approved")?,
    ))
}

/// (manage, use) quorum values of key `reference`.
fn key_quorum(tx: &Tx<'_>, reference: i64) -> Result<(i64, i64), HsmError> {
    Ok(tx
        .query_row(
            "SELECT manage_quorum, use_quorum FROM keys WHERE reference = ?1",
            [reference],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .unwrap_or((0, 0)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn services_and_token_kinds_round_trip_through_their_names() {
        for service in Service::ALL {
            assert_eq!(Service::parse(service.as_str()), Some(service));
            assert_eq!(service.to_string(), service.as_str());
        }
        let names: Vec<_> = Service::ALL.iter().map(|s| s.as_str()).collect();
        assert_eq!(
            names,
            [
                "user",
                "quorum",
                "cluster",
                "registration",
                "key-usage",
                "key-management"
            ]
        );
        for kind in TokenKind::ALL {
            assert_eq!(TokenKind::parse(kind.as_str()), Some(kind));
        }
        for unknown in ["", "User", "key_usage", "mfa"] {
            assert_eq!(Service::parse(unknown), None);
            assert_eq!(TokenKind::parse(unknown), None);
        }
    }
}
