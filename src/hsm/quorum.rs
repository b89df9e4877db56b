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
use super::user::{check_password, Role};
use super::{Cluster, Entropy, HsmError};

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

    fn parse(s: &str) -> Option<Service> {
        [
            Service::User,
            Service::Quorum,
            Service::Cluster,
            Service::Registration,
            Service::KeyUsage,
            Service::KeyManagement,
        ]
        .into_iter()
        .find(|v| v.as_str() == s)
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
    pub service: String,
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
    /// Now, in Unix seconds: the fixed clock when one is set ([`Cluster::set_clock`]).
    pub(super) fn now(&self) -> i64 {
        self.clock.unwrap_or_else(|| {
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map(|d| d.as_secs() as i64)
                .unwrap_or_default()
        })
    }

    /// Fixes the clock (Unix seconds) of token expiry, for tests (`CLOUDHSM_SIM_NOW`).
    pub fn set_clock(&mut self, clock: Option<i64>) {
        self.clock = clock;
    }

    /// The quorum services of this cluster type with their values (`list-quorum-values`).
    pub fn quorum_values(&mut self) -> Result<Vec<(&'static str, i64)>, HsmError> {
        let mut services = vec![Service::User, Service::Quorum];
        if self.settings.hsm_type == super::HsmType::Hsm2mMedium {
            services.push(Service::Cluster);
        }
        self.store.read(|tx| {
            services
                .into_iter()
                .map(|s| Ok((s.as_str(), records::quorum_value(tx, s.as_str())?)))
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

    /// Whether `approval` would approve an operation of the admin service `service` by
    /// `login` now, without spending it: for a front end that refuses before it prompts for a
    /// password. The guarded operation checks and spends the approval again, in the
    /// transaction that makes its change.
    pub fn check_service_approval(
        &mut self,
        login: &Login,
        service: Service,
        approval: Option<&ApprovalFile>,
    ) -> Result<(), HsmError> {
        if !self.admits(login) {
            return Err(HsmError::LoginVoid);
        }
        let now = self.now();
        self.store.read(|tx| {
            Approve::service(tx, service)?
                .verify(tx, &login.who(), approval, now)
                .map(drop)
        })
    }

    /// Whether `approval` would approve an operation of `service` on `key` by `login` now,
    /// without spending it (see [`Cluster::check_service_approval`]). Reads nothing when the
    /// key's quorum value asks for no approval.
    pub(super) fn check_key_approval(
        &mut self,
        login: &Login,
        service: Service,
        key: &Key,
        approval: Option<&ApprovalFile>,
    ) -> Result<(), HsmError> {
        let wanted = Approve::key(service, key);
        if wanted.required <= 1 {
            return Ok(());
        }
        let now = self.now();
        let who = login.who();
        self.store
            .read(|tx| wanted.verify(tx, &who, approval, now).map(drop))
    }

    /// `quorum token-sign set-quorum-value`: checked against, and spending, an approval of
    /// the `quorum` service in the transaction that sets the value.
    pub fn set_quorum_value(
        &mut self,
        login: &Login,
        service: &str,
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
        service: &str,
        value: u64,
        approved: impl FnOnce(&Tx<'_>) -> Result<(), HsmError>,
    ) -> Result<(), HsmError> {
        let service = match Service::parse(service) {
            Some(s @ (Service::User | Service::Quorum)) => s,
            Some(Service::Cluster) if self.settings.hsm_type == super::HsmType::Hsm2mMedium => {
                Service::Cluster
            }
            Some(Service::Cluster) => return Err(QuorumError::ClusterServiceUnavailable.into()),
            _ => return Err(QuorumError::NotAQuorumService.into()),
        };
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

    /// `quorum token-sign generate`: a token for `service` (bound to a key for key services),
    /// issued to `login`'s session and returned as the JSON document to write to the
    /// `--token` file.
    pub fn generate_token(
        &mut self,
        login: &Login,
        service: &str,
        key_reference: Option<u64>,
        entropy: &mut Entropy,
    ) -> Result<serde_json::Value, HsmError> {
        self.guard(login, OperationClass::QuorumTokens)?;
        let (username, role) = (login.username(), login.role());
        let service = Service::parse(service).ok_or(QuorumError::NotAQuorumService)?;
        match (service, role) {
            (Service::User | Service::Quorum | Service::Cluster, r) if r != Role::Admin => {
                return Err(QuorumError::ServiceForAdmins {
                    service: service.as_str(),
                }
                .into())
            }
            (Service::KeyUsage | Service::KeyManagement, r) if r != Role::CryptoUser => {
                return Err(QuorumError::ServiceForCryptoUsers {
                    service: service.as_str(),
                }
                .into())
            }
            (Service::Cluster, _) if self.settings.hsm_type != super::HsmType::Hsm2mMedium => {
                return Err(QuorumError::ClusterServiceUnavailable.into())
            }
            _ => {}
        }
        let now = self.now();
        let hsms = self.hsms()?.len().max(1);
        let tag = login.session.tag();
        if service == Service::Registration {
            let mut tokens = Vec::new();
            let mut rows = Vec::new();
            for _ in 0..hsms {
                let mut data = vec![0u8; 245];
                entropy.fill(&mut data);
                let unsigned = b64().encode(sha256(&data));
                tokens.push(SignedToken {
                    approval_data: Some(b64().encode(&data)),
                    unsigned: unsigned.clone(),
                    signed: String::new(),
                });
                rows.push(self.token_row(
                    unsigned,
                    "registration",
                    username,
                    service,
                    None,
                    &tag,
                    now,
                    data,
                ));
            }
            self.insert_tokens(username, "registration", None, rows, now)?;
            return serde_json::to_value(TokenSetFile {
                version: "2.0".into(),
                tokens,
            })
            .map_err(|e| HsmError::Kdf(e.to_string()));
        }
        // One approval record per HSM, in the layout of the guide's example (80 bytes each).
        let mut data = Vec::with_capacity(80 * hsms);
        for i in 0..hsms {
            data.extend_from_slice(&1u16.to_be_bytes());
            data.extend_from_slice(&service.id().to_be_bytes());
            data.extend_from_slice(&(0x14u32 + i as u32).to_be_bytes());
            data.extend_from_slice(&[0u8; 8]);
            let mut nonce = [0u8; 16];
            entropy.fill(&mut nonce);
            data.extend_from_slice(&nonce);
            let mut name = [0u8; 36];
            for (slot, b) in name.iter_mut().zip(username.bytes()) {
                *slot = b;
            }
            data.extend_from_slice(&name);
            data.extend_from_slice(&(now as u32).to_be_bytes());
            data.extend_from_slice(&[0u8; 8]);
        }
        let token = b64().encode(sha256(&data));
        let row = self.token_row(
            token.clone(),
            "approval",
            username,
            service,
            key_reference,
            &tag,
            now,
            data.clone(),
        );
        // One active token per user per service for the admin services.
        let replace = service.is_admin_service().then_some(service.as_str());
        self.insert_tokens(username, "approval", replace, vec![row], now)?;
        let mut file = serde_json::json!({
            "version": "2.0",
            "approval_data": b64().encode(&data),
            "token": token,
            "signatures": [],
        });
        if let (Some(r), Some(obj)) = (key_reference, file.as_object_mut()) {
            obj.insert("service".into(), service.as_str().into());
            obj.insert(
                "key_reference".into(),
                super::key::format_reference(r).into(),
            );
        }
        Ok(file)
    }

    fn token_row(
        &self,
        token: String,
        kind: &str,
        username: &str,
        service: Service,
        key_reference: Option<u64>,
        tag: &str,
        now: i64,
        approval_data: Vec<u8>,
    ) -> TokenRecord {
        TokenRecord {
            token,
            kind: kind.to_string(),
            username: username.to_string(),
            service: service.as_str().to_string(),
            key_reference: key_reference.map(|r| r as i64),
            session: tag.to_string(),
            created: now,
            approval_data,
        }
    }

    fn insert_tokens(
        &mut self,
        username: &str,
        kind: &str,
        replace_service: Option<&str>,
        rows: Vec<TokenRecord>,
        now: i64,
    ) -> Result<(), HsmError> {
        self.store.write(|tx| {
            let (generated_timeout, _) = timeouts(tx)?;
            prune_dead_sessions(tx, now - generated_timeout)?;
            if let Some(service) = replace_service {
                records::delete_user_tokens(tx, username, Some(kind), Some(service))?;
            }
            let live = records::tokens(tx)?
                .iter()
                .filter(|t| tag_is_alive(&t.session))
                .count();
            if live + rows.len() > MAX_TOKENS {
                return Err(QuorumError::TooManyTokens { max: MAX_TOKENS }.into());
            }
            for row in &rows {
                records::insert_token(tx, row)?;
            }
            Ok::<_, HsmError>(())
        })
    }

    /// `quorum token-sign list`.
    pub fn list_tokens(&mut self, login: &Login) -> Result<Vec<TokenInfo>, HsmError> {
        self.guard(login, OperationClass::QuorumTokens)?;
        let now = self.now();
        self.store.read(|tx| {
            let (generated, _) = timeouts(tx)?;
            let mut out = Vec::new();
            for t in records::tokens(tx)? {
                if t.kind != "approval"
                    || now > t.created.saturating_add(generated)
                    || !tag_is_alive(&t.session)
                {
                    continue;
                }
                let required = match (t.service.as_str(), t.key_reference) {
                    ("key-usage", Some(r)) => key_quorum(tx, r)?.1,
                    ("key-management", Some(r)) => key_quorum(tx, r)?.0,
                    (s, _) => records::quorum_value(tx, s)?,
                };
                out.push(TokenInfo {
                    username: t.username,
                    service: t.service,
                    key_reference: t.key_reference.map(|r| r as u64),
                    approvals_required: u8::try_from(required).unwrap_or(u8::MAX),
                    timeout_seconds: t.created.saturating_add(generated) - now,
                });
            }
            Ok(out)
        })
    }

    /// `quorum token-sign delete --scope user|all`: the tokens of `login`'s user, or all.
    pub fn delete_tokens(&mut self, login: &Login, all: bool) -> Result<(), HsmError> {
        self.guard(login, OperationClass::QuorumAdministration)?;
        let username = login.username();
        self.store.write(|tx| {
            if all {
                records::delete_all_tokens(tx)?;
            } else {
                records::delete_user_tokens(tx, username, None, None)?;
            }
            Ok::<_, HsmError>(())
        })
    }

    /// `user change-quorum token-sign register`: the logged-in user's public key, proven by
    /// signatures over the registration tokens this session generated.
    pub fn register_quorum_key(
        &mut self,
        login: &Login,
        public_pem: &[u8],
        signed: &TokenSetFile,
    ) -> Result<(), HsmError> {
        self.guard(login, OperationClass::QuorumTokens)?;
        let username = login.username();
        let spki = rsa_spki(public_pem)?;
        let tag = login.session.tag();
        self.store.write(|tx| {
            verify_token_set(tx, username, &tag, "registration", &spki, signed)?;
            let mut key = records::user_key(tx, username)?.unwrap_or(UserKeyRecord {
                public_key: None,
                quorum: false,
                mfa: false,
            });
            if key.mfa && key.public_key.as_deref() != Some(&spki[..]) {
                // Quorum and MFA share one key: a new quorum key replaces the MFA key too.
                key.mfa = true;
            }
            key.public_key = Some(spki.clone());
            key.quorum = true;
            records::set_user_key(tx, username, &key)?;
            Ok::<_, HsmError>(())
        })
    }

    /// The unsigned MFA tokens (one per HSM) of `kind` (`mfa-register` or `mfa-login`) for
    /// `username`, issued to `session`; [`store_issued`] stores them.
    pub(super) fn unsigned_tokens(
        &mut self,
        username: &str,
        session: &SessionId,
        kind: &'static str,
        entropy: &mut Entropy,
    ) -> Result<Issued, HsmError> {
        let now = self.now();
        let hsms = self.hsms()?.len().max(1);
        let tag = session.tag();
        let mut tokens = Vec::new();
        let mut rows = Vec::new();
        for _ in 0..hsms {
            let mut data = vec![0u8; 64];
            entropy.fill(&mut data);
            let unsigned = b64().encode(sha256(&data));
            tokens.push(SignedToken {
                approval_data: None,
                unsigned: unsigned.clone(),
                signed: String::new(),
            });
            rows.push(self.token_row(
                unsigned,
                kind,
                username,
                Service::Registration,
                None,
                &tag,
                now,
                data,
            ));
        }
        Ok(Issued {
            kind,
            rows,
            file: TokenSetFile {
                version: "2.0".into(),
                tokens,
            },
        })
    }

    /// `user change-mfa token-sign --token`, first step: the unsigned tokens (one per HSM)
    /// that `username` signs to register its MFA key, issued to `login`'s session.
    pub fn issue_mfa_registration(
        &mut self,
        login: &Login,
        username: &str,
        role: Role,
        entropy: &mut Entropy,
    ) -> Result<TokenSetFile, HsmError> {
        let username = self.password_guard(login, username)?;
        // The target must exist before tokens are written for it.
        self.require_user(&username, role)?;
        let issued = self.unsigned_tokens(&username, &login.session, "mfa-register", entropy)?;
        self.store.write(|tx| store_issued(tx, &username, issued))
    }

    /// `user change-mfa token-sign --token`, second step: registers `public_pem` for MFA (and
    /// quorum: they share one key) once every token is signed with it, and sets the user's
    /// password, checked against and spending an approval of the `user` service, all in one
    /// transaction.
    pub fn register_mfa_key(
        &mut self,
        login: &Login,
        username: &str,
        role: Role,
        public_pem: &[u8],
        signed: &TokenSetFile,
        password: &str,
        approval: Option<&ApprovalFile>,
        entropy: &mut Entropy,
    ) -> Result<UserInfo, HsmError> {
        let username = self.password_guard(login, username)?;
        let spki = rsa_spki(public_pem)?;
        // A bad password is told after the signatures were checked.
        let hash = check_password(password)
            .and_then(|()| hash_password(password, self.settings.kdf, entropy));
        let tag = login.session.tag();
        let now = self.now();
        let cluster_id = self.settings.id.clone();
        self.store.write(|tx| {
            Approve::service(tx, Service::User)?.spend(tx, login, approval, now)?;
            verify_token_set(tx, &username, &tag, "mfa-register", &spki, signed)?;
            let hash = hash?;
            let user = set_password(tx, &cluster_id, &username, role, &hash, login)?;
            records::set_user_key(
                tx,
                &username,
                &UserKeyRecord {
                    public_key: Some(spki.clone()),
                    quorum: true,
                    mfa: true,
                },
            )?;
            Ok(user)
        })
    }

    /// The (quorum, mfa) registrations of every user, for `user list`.
    pub fn registrations(&mut self) -> Result<Vec<(String, bool, bool)>, HsmError> {
        self.store.read(|tx| {
            let mut out = Vec::new();
            for u in records::users(tx)? {
                let k = records::user_key(tx, &u.username)?;
                out.push((
                    u.username,
                    k.as_ref().is_some_and(|k| k.quorum),
                    k.as_ref().is_some_and(|k| k.mfa),
                ));
            }
            Ok::<_, HsmError>(out)
        })
    }
}

/// Unsigned tokens issued to a session, to store in the transaction that decides to issue
/// them.
#[derive(Debug)]
pub(super) struct Issued {
    kind: &'static str,
    rows: Vec<TokenRecord>,
    file: TokenSetFile,
}

/// Stores `issued` in place of the earlier tokens of its kind of `username`; returns the file
/// of unsigned tokens.
pub(super) fn store_issued(
    tx: &Tx<'_>,
    username: &str,
    issued: Issued,
) -> Result<TokenSetFile, HsmError> {
    records::delete_user_tokens(tx, username, Some(issued.kind), None)?;
    for row in &issued.rows {
        records::insert_token(tx, row)?;
    }
    Ok(issued.file)
}

/// Checks the signed MFA login tokens of `username` issued to the session `tag` (the second
/// factor); they are consumed.
pub(super) fn verify_mfa_login(
    tx: &Tx<'_>,
    username: &str,
    tag: &str,
    signed: &TokenSetFile,
) -> Result<(), HsmError> {
    let key = records::user_key(tx, username)?
        .and_then(|k| k.public_key)
        .ok_or_else(|| QuorumError::MfaNotEnabled {
            username: username.to_string(),
        })?;
    verify_token_set(tx, username, tag, "mfa-login", &key, signed)
}

/// Removes the token-sign key of `username`: its MFA and its quorum registration (they share
/// the key).
pub(super) fn clear_user_key(tx: &Tx<'_>, username: &str) -> Result<(), HsmError> {
    records::set_user_key(
        tx,
        username,
        &UserKeyRecord {
            public_key: None,
            quorum: false,
            mfa: false,
        },
    )?;
    Ok(())
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

/// Every token of `signed` must be one this session issued to `username` as `kind`, and be
/// signed by `spki`; all issued tokens of that kind must be signed. They are consumed.
fn verify_token_set(
    tx: &Tx<'_>,
    username: &str,
    tag: &str,
    kind: &str,
    spki: &[u8],
    signed: &TokenSetFile,
) -> Result<(), HsmError> {
    let issued: Vec<TokenRecord> = records::tokens(tx)?
        .into_iter()
        .filter(|t| t.kind == kind && t.username == username && t.session == tag)
        .collect();
    if issued.is_empty() || signed.tokens.len() != issued.len() {
        return Err(QuorumError::BadRegistrationSignature.into());
    }
    for t in &signed.tokens {
        let ok = issued.iter().any(|i| i.token == t.unsigned)
            && b64()
                .decode(t.unsigned.trim())
                .is_ok_and(|token| signature_valid(spki, &token, &t.signed));
        if !ok {
            return Err(QuorumError::BadRegistrationSignature.into());
        }
    }
    for t in &issued {
        records::delete_token(tx, &t.token)?;
    }
    Ok(())
}

/// The SubjectPublicKeyInfo DER of an RSA public key PEM (2048 to 4096 bits).
fn rsa_spki(pem: &[u8]) -> Result<Vec<u8>, HsmError> {
    match PublicKey::from_pem(pem) {
        Ok(key @ PublicKey::Rsa(_)) => Ok(key.to_spki_der()),
        Ok(_) => Err(QuorumError::BadPublicKey {
            detail: "not an RSA key".into(),
        }
        .into()),
        Err(e) => Err(QuorumError::BadPublicKey {
            detail: e.to_string(),
        }
        .into()),
    }
}

/// Drops tokens of sessions whose process is gone. An approval token made before
/// `expired_before` would have expired anyway; a younger one stays (void, and counted towards
/// no limit) until then, so that a command offering it can be told why it is void: its login
/// session has ended.
fn prune_dead_sessions(tx: &Tx<'_>, expired_before: i64) -> Result<(), HsmError> {
    for t in records::tokens(tx)? {
        let explainable = t.kind == "approval" && t.created >= expired_before;
        if !tag_is_alive(&t.session) && !explainable {
            records::delete_token(tx, &t.token)?;
        }
    }
    Ok(())
}

/// Who offers an approval: a logged-in user, in its login session (see `Login::who`).
#[derive(Debug)]
pub(super) struct Who<'a> {
    pub(super) username: &'a str,
    /// The tag of the login session (`SessionId::tag`): a token approves only operations of
    /// the session it was issued to.
    pub(super) session: String,
}

/// What an approval must approve: an operation of `service` (on a key, for the key
/// services), by how many approvers, and who may approve.
#[derive(Debug)]
pub(super) struct Approve {
    service: Service,
    key_reference: Option<u64>,
    /// The approvals needed: at most 1 needs no approval at all.
    pub(super) required: u8,
    /// Who may approve: a key's owner and the users it is shared with; `None` for the admin
    /// services, whose approvers are the admins.
    approvers: Option<Vec<String>>,
}

impl Approve {
    /// An operation of a key service on `key`, against the key's quorum value (manage for
    /// key-management, use for key-usage).
    pub(super) fn key(service: Service, key: &Key) -> Approve {
        let required = match service {
            Service::KeyUsage => key.quorum.usage,
            _ => key.quorum.manage,
        };
        let mut approvers = vec![key.owner.clone()];
        approvers.extend(key.shared.iter().cloned());
        Approve {
            service,
            key_reference: Some(key.reference),
            required,
            approvers: Some(approvers),
        }
    }

    /// An operation of an admin service (`user`, `quorum`), against its quorum value.
    pub(super) fn service(tx: &Tx<'_>, service: Service) -> Result<Approve, HsmError> {
        let value = records::quorum_value(tx, service.as_str())?;
        Ok(Approve {
            service,
            key_reference: None,
            required: u8::try_from(value).unwrap_or(u8::MAX),
            approvers: None,
        })
    }

    /// Checks `approval` (the parsed `--approval` file) for an operation by `login` at time
    /// `now`, and spends it: its token is gone when `tx` commits. Run it in the transaction
    /// that makes the approved change, so that one approval approves one change, whatever
    /// the number of threads and processes offering it.
    pub(super) fn spend(
        &self,
        tx: &Tx<'_>,
        login: &Login,
        approval: Option<&ApprovalFile>,
        now: i64,
    ) -> Result<(), HsmError> {
        self.spend_by(tx, &login.who(), approval, now)
    }

    /// [`Approve::spend`] for a caller that holds parts of its login elsewhere.
    pub(super) fn spend_by(
        &self,
        tx: &Tx<'_>,
        who: &Who<'_>,
        approval: Option<&ApprovalFile>,
        now: i64,
    ) -> Result<(), HsmError> {
        if let Some(token) = self.verify(tx, who, approval, now)? {
            records::delete_token(tx, &token)?;
        }
        Ok(())
    }

    /// Checks `approval` without spending it; returns the token it would spend (`None` when
    /// no approval is required).
    fn verify(
        &self,
        tx: &Tx<'_>,
        who: &Who<'_>,
        approval: Option<&ApprovalFile>,
        now: i64,
    ) -> Result<Option<String>, HsmError> {
        let (service, required) = (self.service, self.required);
        if required <= 1 {
            return Ok(None);
        }
        let Some(approval) = approval else {
            return Err(if service.is_admin_service() {
                QuorumError::ApprovalRequired.into()
            } else {
                super::key::KeyError::QuorumFailed.into()
            });
        };
        let (generated_timeout, _) = timeouts(tx)?;
        let (username, session) = (who.username, who.session.as_str());
        let Some(row) = records::token(tx, &approval.token)? else {
            return Err(QuorumError::InvalidSignaturePair.into());
        };
        if row.kind == "approval" && row.session != session && !tag_is_alive(&row.session) {
            return Err(QuorumError::SessionEnded.into());
        }
        if row.kind != "approval" || row.username != username || row.session != session {
            return Err(QuorumError::InvalidSignaturePair.into());
        }
        if row.service != service.as_str() {
            return Err(QuorumError::WrongService {
                issued: row.service,
                wanted: service.as_str(),
            }
            .into());
        }
        if row.key_reference.is_some() && row.key_reference != self.key_reference.map(|r| r as i64)
        {
            return Err(QuorumError::WrongKey.into());
        }
        if now > row.created.saturating_add(generated_timeout) {
            return Err(QuorumError::Expired.into());
        }
        let data = b64()
            .decode(approval.approval_data.trim())
            .unwrap_or_default();
        let token = b64().decode(approval.token.trim()).unwrap_or_default();
        if data != row.approval_data || sha256(&data) != token {
            return Err(QuorumError::InvalidSignaturePair.into());
        }
        if approval.signatures.is_empty() {
            return Err(QuorumError::NoSignatures.into());
        }
        let mut approved: Vec<String> = Vec::new();
        for sig in &approval.signatures {
            let name = sig.username.to_ascii_lowercase();
            let Some(user) = records::user(tx, &name)? else {
                return Err(QuorumError::InvalidSignaturePair.into());
            };
            let eligible = match &self.approvers {
                None => user.role == Role::Admin.as_str(),
                Some(list) => list.contains(&name),
            };
            let key = records::user_key(tx, &name)?;
            let registered = key.as_ref().is_some_and(|k| k.quorum);
            let public = key.and_then(|k| k.public_key).unwrap_or_default();
            if !eligible || !registered || !signature_valid(&public, &token, &sig.signature) {
                return Err(QuorumError::InvalidSignaturePair.into());
            }
            if !approved.contains(&name) {
                approved.push(name);
            }
        }
        if approved.len() < usize::from(required) {
            return Err(QuorumError::TooFew {
                current: approved.len(),
                required,
            }
            .into());
        }
        Ok(Some(row.token))
    }
}
