//! Logging in and out: the [`Login`] capability that every guarded operation of a cluster
//! requires, made only here, after the password (and for a user with MFA, the second factor)
//! was checked; and logout, which ends everything the login held.
//!
//! A front end (the CLI's session, single-command mode, a PKCS#11 module) holds the `Login`
//! and hands it to each operation; it cannot make one, so no key or user operation runs as a
//! user who has not logged in. Which class of operation the login's role may run is checked
//! by `policy` on every call.

use crate::store::records::{self, UserRecord};
use crate::store::Tx;

use super::auth::verify_password;
use super::cluster::{user_info, UserInfo, MAX_FAILED_LOGINS};
use super::keys::{Actor, SessionKeys};
use super::policy::{self, OperationClass};
use super::process::SessionId;
use super::quorum::{self, QuorumError, TokenKind, TokenSetFile, Who};
use super::user::{Role, Username};
use super::{Cluster, Entropy, HsmError};

/// A user logged in to a cluster, bound to the instance of the cluster database the login
/// was made on and to the login session (process and session number) that made it, with the
/// session keys it makes (they live and die with it).
///
/// Only [`Cluster::login`] and [`Cluster::complete_mfa_login`] make one, and
/// [`Cluster::logout`] ends it. A database that was replaced since (`cloudhsm-sim reset`,
/// `cloudhsm-sim import --replace`) does not admit it ([`Cluster::admits`]): a replaced
/// cluster starts with nobody logged in, whichever front end holds the login.
///
/// Nothing outside `hsm` can make one, nor copy one:
///
/// ```compile_fail
/// fn forge(real: &cloudhsm_sim::hsm::Login) -> cloudhsm_sim::hsm::Login {
///     real.clone()
/// }
/// ```
///
/// ```compile_fail
/// let forged = cloudhsm_sim::hsm::Login {
///     instance: String::new(),
///     session: cloudhsm_sim::hsm::SessionId::new(),
/// };
/// ```
#[derive(Debug)]
pub struct Login {
    pub(super) actor: Actor,
    pub(super) instance: String,
    pub(super) session: SessionId,
    pub(super) keys: SessionKeys,
}

impl Login {
    /// The user, in the lowercase form the HSM stores.
    pub fn username(&self) -> &Username {
        &self.actor.username
    }

    pub fn role(&self) -> Role {
        self.actor.role
    }

    /// How many session keys (`--session`) this login holds.
    pub fn session_key_count(&self) -> usize {
        self.keys.len()
    }

    /// The login as the offerer of a quorum approval.
    pub(super) fn who(&self) -> Who<'_> {
        Who {
            username: &self.actor.username,
            session: self.session.tag(),
        }
    }
}

/// The first step of an MFA login: the password was right, and the unsigned tokens of the
/// second factor were issued to this login session. It is not a login: nothing but
/// [`Cluster::complete_mfa_login`] takes it.
#[derive(Debug)]
pub struct MfaChallenge {
    username: Username,
    login_role: Role,
    session: SessionId,
    instance: String,
    tokens: TokenSetFile,
}

impl MfaChallenge {
    /// The unsigned tokens (one per HSM) to sign with the user's registered key.
    pub fn tokens(&self) -> &TokenSetFile {
        &self.tokens
    }

    pub fn username(&self) -> &Username {
        &self.username
    }
}

/// What a correct password leads to.
enum Step<'a> {
    /// A login without a second factor: refused for a user with MFA.
    Password,
    /// The first step of an MFA login: refused for a user without MFA; issues the tokens.
    Mfa(&'a mut Entropy),
}

/// What the write of a login attempt produced.
enum Outcome {
    LoggedIn(UserInfo),
    Challenged(TokenSetFile),
}

impl Cluster {
    /// Whether `login` holds on this cluster: it was made on the database instance this
    /// handle reads. A login made before the cluster was reset or imported is void, and so
    /// are its session keys and the quorum tokens of its session.
    pub fn admits(&self, login: &Login) -> bool {
        self.store.instance() == Some(login.instance.as_str())
    }

    /// The gate of every guarded operation: `login` holds on this cluster, its role may run
    /// an operation of `class`, and an HSM of the cluster is up.
    pub(super) fn guard(&mut self, login: &Login, class: OperationClass) -> Result<(), HsmError> {
        self.admit(login, class)?;
        self.require_available()
    }

    /// [`Cluster::guard`] without the availability check, for an operation that checks it
    /// in its own read (the hot path of key use).
    pub(super) fn admit(&self, login: &Login, class: OperationClass) -> Result<(), HsmError> {
        if !self.admits(login) {
            return Err(HsmError::LoginVoid);
        }
        policy::require(login.username(), login.role(), class)
    }

    /// `login` with a password: checks it (outside the write lock), then records the outcome
    /// in one transaction: a failure counts towards the lockout, a success resets the count
    /// and records who is logged in. A user with MFA is refused after a correct password: it
    /// logs in with [`Cluster::begin_mfa_login`].
    pub fn login(
        &mut self,
        username: &Username,
        login_role: Role,
        password: &str,
        session: &SessionId,
    ) -> Result<Login, HsmError> {
        match self.attempt(username, login_role, password, session, Step::Password)? {
            Outcome::LoggedIn(user) => Ok(self.made(user, session)),
            // `Step::Password` never issues tokens.
            Outcome::Challenged(_) => Err(HsmError::BadCredentials),
        }
    }

    /// The first step of `login … mfa-token-sign`: checks the password as [`Cluster::login`]
    /// does (a wrong one counts towards the lockout), refuses a user without MFA, and issues
    /// one unsigned token per HSM to `session`. Nobody is logged in yet.
    pub fn begin_mfa_login(
        &mut self,
        username: &Username,
        login_role: Role,
        password: &str,
        session: &SessionId,
        entropy: &mut Entropy,
    ) -> Result<MfaChallenge, HsmError> {
        let step = Step::Mfa(entropy);
        match self.attempt(username, login_role, password, session, step)? {
            Outcome::Challenged(tokens) => Ok(MfaChallenge {
                username: username.clone(),
                login_role,
                session: session.clone(),
                instance: self.store.instance().unwrap_or_default().to_string(),
                tokens,
            }),
            Outcome::LoggedIn(_) => Err(HsmError::BadCredentials),
        }
    }

    /// The second step of an MFA login: every token of `challenge` signed with the user's
    /// registered key. The check and the login record are one transaction; a refusal leaves
    /// nobody logged in.
    pub fn complete_mfa_login(
        &mut self,
        challenge: MfaChallenge,
        signed: &TokenSetFile,
    ) -> Result<Login, HsmError> {
        if self.store.instance() != Some(challenge.instance.as_str()) {
            return Err(HsmError::LoginVoid);
        }
        let cluster_id = self.settings.id.clone();
        let MfaChallenge {
            username,
            login_role,
            session,
            ..
        } = challenge;
        let user = self.store.write(|tx| {
            let Some(user) = records::user(tx, &username)? else {
                return Err(HsmError::BadCredentials);
            };
            if user.locked {
                return Err(HsmError::UserLocked {
                    username: username.into_string(),
                });
            }
            let info = user_info(&cluster_id, user)?;
            if !info.role.answers_to(login_role) {
                return Err(HsmError::BadCredentials);
            }
            quorum::verify_mfa_login(tx, &username, &session.tag(), signed)?;
            records::insert_login(tx, &session.record(&username))?;
            Ok(info)
        })?;
        Ok(self.made(user, &session))
    }

    /// `logout`: ends `login` in one transaction: its login record goes, and with it the
    /// number of session keys it published; the tokens its session issued are void. Its
    /// session keys go with the value.
    pub fn logout(&mut self, login: Login) -> Result<(), HsmError> {
        if !self.admits(&login) {
            return Err(HsmError::LoginVoid);
        }
        let record = login.session.record(login.username());
        let tag = login.session.tag();
        self.store.write(|tx| {
            records::delete_login(tx, &record)?;
            records::end_session_tokens(tx, &tag)?;
            Ok::<_, HsmError>(())
        })
    }

    /// What `login` can refuse before it asks for a password: a locked user, which `user
    /// list` shows anyone anyway. Whether a user exists is never told before the password.
    pub fn check_login(&mut self, username: &Username) -> Result<(), HsmError> {
        match self.store.read(|tx| records::user(tx, username))? {
            Some(user) if user.locked => Err(HsmError::UserLocked {
                username: username.to_string(),
            }),
            _ => Ok(()),
        }
    }

    /// A login of `user` in `session` on the instance this handle is bound to.
    fn made(&self, user: UserInfo, session: &SessionId) -> Login {
        Login {
            keys: SessionKeys::for_login(session.record(&user.username)),
            // The write that recorded the login checked that it was on the bound instance.
            instance: self.store.instance().unwrap_or_default().to_string(),
            session: session.clone(),
            actor: Actor {
                username: Username::stored(user.username),
                role: user.role,
            },
        }
    }

    /// Checks a password and records the outcome: see [`Cluster::login`].
    fn attempt(
        &mut self,
        username: &Username,
        login_role: Role,
        password: &str,
        session: &SessionId,
        step: Step<'_>,
    ) -> Result<Outcome, HsmError> {
        let Some(user) = self.store.read(|tx| records::user(tx, username))? else {
            return Err(HsmError::BadCredentials);
        };
        let matches = |u: &UserRecord| {
            u.password_hash
                .as_deref()
                .is_some_and(|h| verify_password(password, h))
        };
        let mut verified = (user.password_hash.clone(), matches(&user));
        let cluster_id = self.settings.id.clone();
        // The tokens of an MFA login: one per HSM, made before the write.
        let issue = match step {
            Step::Password => None,
            Step::Mfa(entropy) => {
                Some(self.unsigned_tokens(username, session, TokenKind::MfaLogin, entropy)?)
            }
        };
        self.store.write(|tx| {
            let Some(user) = records::user(tx, username)? else {
                return Ok(Err(HsmError::BadCredentials));
            };
            if user.locked {
                return Ok(Err(HsmError::UserLocked {
                    username: username.to_string(),
                }));
            }
            if verified.0 != user.password_hash {
                // The password changed between the read and the write: check again.
                verified = (user.password_hash.clone(), matches(&user));
            }
            let role = user_info(&cluster_id, user.clone())?.role;
            if !verified.1 || !role.answers_to(login_role) {
                let failed = user.failed_logins + 1;
                records::set_login_failures(tx, username, failed, failed > MAX_FAILED_LOGINS)?;
                return Ok(Err(HsmError::BadCredentials));
            }
            // Rewriting an unchanged counter would give the user a new version: a durable
            // write per login, and `partial` coverage while an HSM is down.
            if user.failed_logins != 0 {
                records::set_login_failures(tx, username, 0, false)?;
            }
            second_step(tx, username, role, session, issue)
        })?
    }
}

/// After a correct password: a login (recorded in `tx`), or the tokens of the second factor
/// (stored in `tx`), as the user's MFA registration and the step asked for allow. The outer
/// error is a failure (the transaction rolls back), the inner one a refusal (the reset
/// failure count is kept).
fn second_step(
    tx: &Tx<'_>,
    username: &str,
    role: Role,
    session: &SessionId,
    issue: Option<quorum::Issued>,
) -> Result<Result<Outcome, HsmError>, HsmError> {
    let mfa = records::user_key(tx, username)?.is_some_and(|k| k.mfa);
    Ok(match (issue, mfa) {
        (None, false) => {
            records::insert_login(tx, &session.record(username))?;
            Ok(Outcome::LoggedIn(UserInfo {
                username: username.to_string(),
                role,
                locked: false,
            }))
        }
        (None, true) => Err(QuorumError::MfaRequired {
            username: username.to_string(),
        }
        .into()),
        (Some(_), false) => Err(QuorumError::MfaNotEnabled {
            username: username.to_string(),
        }
        .into()),
        (Some(issued), true) => Ok(Outcome::Challenged(quorum::store_issued(
            tx, username, issued,
        )?)),
    })
}
