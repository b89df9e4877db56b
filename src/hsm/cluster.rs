//! A simulated cluster: its HSMs, users and authentication, kept in the cluster's database.
//!
//! This layer answers "may this user touch this object now?" (lockout, who is logged in
//! where, quotas, uniqueness). Every operation on users takes the caller's [`Login`]
//! (`login.rs`), whose role `policy`'s table checks; which CLI command is which operation is
//! the session's business.

use crate::store::records::{self, HsmRecord, UserRecord};
use crate::store::{Home, HomeLock, Store, StoreError, Tx};

use super::auth::{hash_password, Kdf};
use super::login::Login;
use super::model::HsmType;
use super::policy::OperationClass;
use super::process::{is_alive, SessionId};
use super::quorum::{ApprovalFile, Approve, Service};
use super::user::{
    check_password, Role, Username, ADMIN, APPLIANCE_USER, UNACTIVATED_ADMIN_PASSWORD,
};
use super::{Entropy, HsmError};

/// More failed logins than this lock the account ("If you exceed five incorrect login
/// attempts, your account is locked out").
pub const MAX_FAILED_LOGINS: i64 = 5;

/// Settings of a new cluster (`cloudhsm-sim init`, or the default cluster).
#[derive(Debug, Clone)]
pub struct ClusterConfig {
    /// `None`: a random `cluster-xxxxxxxxxxx` id.
    pub id: Option<String>,
    pub hsms: usize,
    pub hsm_type: HsmType,
    pub fips: bool,
    pub kdf: Kdf,
    /// The password of `app_user`; without one the appliance user cannot log in.
    pub appliance_password: Option<String>,
}

impl Default for ClusterConfig {
    fn default() -> Self {
        ClusterConfig {
            id: None,
            hsms: 2,
            hsm_type: HsmType::Hsm2mMedium,
            fips: false,
            kdf: Kdf::Default,
            appliance_password: None,
        }
    }
}

/// The fixed settings of an existing cluster.
#[derive(Debug, Clone)]
pub struct Settings {
    pub id: String,
    pub hsm_type: HsmType,
    pub fips: bool,
    pub kdf: Kdf,
}

/// One HSM as `cluster hsm-info` and `cloudhsm-sim status` see it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HsmInfo {
    pub id: String,
    pub serial_number: String,
    pub up: bool,
}

/// One user as `user list` sees it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UserInfo {
    pub username: String,
    pub role: Role,
    pub locked: bool,
}

/// An open simulated cluster.
#[derive(Debug)]
pub struct Cluster {
    pub(super) settings: Settings,
    pub(super) store: Store,
    /// The key availability check of the CLI configuration (`configure-cli`).
    pub(super) availability_check: bool,
    /// Decoded key material by reference, with the version it was decoded from.
    pub(super) decoded:
        std::collections::BTreeMap<u64, (super::keys::Version, super::crypto::KeyMaterial)>,
    /// Keys decoded from their rows, by version.
    pub(super) keys: super::keys::KeyCache,
    /// The last key selected for use (`Cluster::select_for_use`).
    pub(super) last_use: Option<super::keys::LastUse>,
    /// A fixed clock (Unix seconds) for token expiry; `None`: the system clock.
    pub(super) clock: Option<i64>,
    /// The client certificate and key of the CLI configuration (mTLS).
    pub(super) client_tls: super::mtls::ClientTls,
}

/// Checks the form of a cluster id given by a user.
pub fn check_cluster_id(id: &str) -> Result<(), HsmError> {
    if crate::store::valid_cluster_id(id) {
        Ok(())
    } else {
        Err(HsmError::InvalidClusterId { id: id.to_string() })
    }
}

/// Creates a new, never-activated cluster and returns its id.
pub fn create(
    home: &Home,
    config: &ClusterConfig,
    entropy: &mut Entropy,
) -> Result<String, HsmError> {
    let lock = home.lock()?;
    create_locked(home, &lock, config, entropy)
}

/// [`create`] for a caller that already holds the state directory's lock.
pub fn create_locked(
    home: &Home,
    lock: &HomeLock,
    config: &ClusterConfig,
    entropy: &mut Entropy,
) -> Result<String, HsmError> {
    create_as(home, lock, config, false, entropy)
}

/// [`create_locked`], for the default cluster (`auto`) or one asked for.
fn create_as(
    home: &Home,
    _lock: &HomeLock,
    config: &ClusterConfig,
    auto: bool,
    entropy: &mut Entropy,
) -> Result<String, HsmError> {
    let id = match &config.id {
        Some(id) => {
            check_cluster_id(id)?;
            id.clone()
        }
        None => format!("cluster-{}", entropy.id_chars(11)),
    };
    let path = home.cluster_path(&id);
    if path.exists() {
        return Err(HsmError::ClusterExists { id });
    }
    // Hash outside the database transaction: argon2 is the slow part.
    let admin_hash = hash_password(UNACTIVATED_ADMIN_PASSWORD, config.kdf, entropy)?;
    let appliance_hash = match &config.appliance_password {
        Some(pw) => {
            check_password(pw)?;
            Some(hash_password(pw, config.kdf, entropy)?)
        }
        None => None,
    };
    let factory = Factory {
        id: id.clone(),
        hsm_type: config.hsm_type,
        fips: config.fips,
        kdf: config.kdf,
        hsms: config.hsms,
        admin_hash,
        appliance_hash,
        auto,
        lineage: super::backup::new_lineage(entropy, &id),
    };
    Store::create(&path, |tx| factory.write(tx, entropy))?;
    Ok(id)
}

/// The rows of a cluster in its factory state: never activated, `admin` with the
/// unactivated admin's password, `app_user`, and its HSMs.
struct Factory {
    id: String,
    hsm_type: HsmType,
    fips: bool,
    kdf: Kdf,
    hsms: usize,
    admin_hash: String,
    appliance_hash: Option<String>,
    /// Made by the first command on an empty state directory, not asked for
    /// ([`super::default_cluster`]).
    auto: bool,
    /// The lineage: a new one for a new cluster, the one it had for a reset cluster.
    lineage: String,
}

impl Factory {
    fn write(&self, tx: &Tx<'_>, entropy: &mut Entropy) -> Result<(), StoreError> {
        if self.auto {
            super::default_cluster::mark(tx)?;
        }
        records::set_meta(tx, "cluster_id", &self.id)?;
        records::set_meta(tx, "hsm_type", self.hsm_type.as_str())?;
        records::set_meta(tx, "fips", if self.fips { "true" } else { "false" })?;
        records::set_meta(tx, "kdf", self.kdf.as_str())?;
        records::set_meta(tx, "activated", "false")?;
        records::set_meta(tx, super::backup::LINEAGE_KEY, &self.lineage)?;
        let model = self.hsm_type.model();
        for ordinal in 0..self.hsms {
            records::insert_hsm(
                tx,
                &HsmRecord {
                    id: format!("hsm-{}", entropy.id_chars(11)),
                    ordinal: ordinal as i64,
                    serial_number: format!(
                        "{}{:04}-ICM{:06}",
                        model.serial_prefix,
                        1900 + entropy.below(100),
                        entropy.below(1_000_000)
                    ),
                    state: "up".to_string(),
                },
            )?;
        }
        records::insert_user(
            tx,
            ADMIN,
            Role::UnactivatedAdmin.as_str(),
            Some(&self.admin_hash),
        )?;
        records::insert_user(
            tx,
            APPLIANCE_USER,
            Role::ApplianceUser.as_str(),
            self.appliance_hash.as_deref(),
        )?;
        Ok(())
    }
}

/// Picks the cluster a command runs against, as the real CLI's multi-cluster configuration
/// does: the requested id, else the only cluster, else an error when there are several.
/// An empty state directory gets a default cluster (created once, whatever the number of
/// processes starting at the same time).
pub fn resolve(
    home: &Home,
    requested: Option<&str>,
    entropy: &mut Entropy,
) -> Result<String, HsmError> {
    // `configure-cli add-cluster` narrows the clusters the CLI uses to those it added.
    let configured = home.cli_config().clusters;
    if let Some(id) = requested {
        check_cluster_id(id)?;
        if !configured.is_empty() && !configured.iter().any(|c| c == id) {
            return Err(HsmError::ClusterNotConfigured { id: id.to_string() });
        }
        if home.cluster_path(id).exists() {
            return Ok(id.to_string());
        }
        return Err(HsmError::ClusterNotFound { id: id.to_string() });
    }
    let pick = |mut ids: Vec<String>| -> Result<Option<String>, HsmError> {
        if !configured.is_empty() {
            ids.retain(|i| configured.contains(i));
        }
        match ids.len() {
            0 => Ok(None),
            1 => Ok(ids.into_iter().next()),
            _ => Err(HsmError::MultipleClusters),
        }
    };
    if let Some(id) = pick(home.cluster_ids()?)? {
        return Ok(id);
    }
    let lock = home.lock()?;
    if let Some(id) = pick(home.cluster_ids()?)? {
        return Ok(id);
    }
    create_as(home, &lock, &ClusterConfig::default(), true, entropy)
}

/// Returns cluster `id` to its factory state: same id and settings, as many HSMs (with new
/// ids), never activated, no users but `admin` and `app_user` (whose password is kept).
///
/// The database is rebuilt in place in one transaction ([`Store::rebuild`]): a kill at any
/// moment leaves the cluster as it was or reset, never missing; processes reading it
/// meanwhile see the old cluster; and the reset database is a new instance, so that every
/// login, session key and quorum token of the old one is void.
pub fn reset(home: &Home, id: &str, entropy: &mut Entropy) -> Result<(), HsmError> {
    let mut cluster = Cluster::open(home, id)?;
    // The slow hash first, outside the transaction, with the cost the cluster has now; the
    // rest is read again inside it.
    let admin_hash = hash_password(UNACTIVATED_ADMIN_PASSWORD, cluster.settings.kdf, entropy)?;
    let corrupt = |detail: &str| HsmError::Corrupt {
        id: id.to_string(),
        detail: detail.to_string(),
    };
    cluster.store.rebuild(
        |tx| {
            let settings = read_settings(tx, id)?;
            let hsms = records::hsms(tx)?.len();
            let appliance_hash = records::user(tx, APPLIANCE_USER)?.and_then(|u| u.password_hash);
            // A reset cluster is the same cluster: its clones stay its clones.
            let lineage = records::meta(tx, super::backup::LINEAGE_KEY)?
                .unwrap_or_else(|| super::backup::legacy_lineage(&settings.id));
            if hsms == 0 {
                return Err(corrupt("the cluster has no HSM"));
            }
            Ok(Factory {
                id: settings.id,
                hsm_type: settings.hsm_type,
                fips: settings.fips,
                kdf: settings.kdf,
                hsms,
                admin_hash,
                appliance_hash,
                // A cluster someone reset is theirs, whoever made it.
                auto: false,
                lineage,
            })
        },
        |tx, factory| Ok(factory.write(tx, entropy)?),
    )
}

/// The fixed settings of cluster `id` from its `meta` rows.
fn read_settings(tx: &Tx<'_>, id: &str) -> Result<Settings, HsmError> {
    let corrupt = |detail: &str| HsmError::Corrupt {
        id: id.to_string(),
        detail: detail.to_string(),
    };
    let get = |key: &str| -> Result<String, HsmError> {
        records::meta(tx, key)?.ok_or_else(|| corrupt(&format!("missing setting {key}")))
    };
    Ok(Settings {
        id: id.to_string(),
        hsm_type: HsmType::parse(&get("hsm_type")?).ok_or_else(|| corrupt("unknown hsm type"))?,
        fips: get("fips")? == "true",
        kdf: Kdf::parse(&get("kdf")?).ok_or_else(|| corrupt("unknown password-hash preset"))?,
    })
}

impl Cluster {
    /// Opens an existing cluster, on the system clock.
    pub fn open(home: &Home, id: &str) -> Result<Cluster, HsmError> {
        Cluster::open_with_clock(home, id, None)
    }

    /// Opens an existing cluster whose token expiry runs on `clock`: fixed Unix seconds
    /// (`CLOUDHSM_SIM_NOW`, [`super::Environment::clock`]), or `None` for the system clock.
    /// The cluster keeps the clock it was opened with.
    pub fn open_with_clock(home: &Home, id: &str, clock: Option<i64>) -> Result<Cluster, HsmError> {
        check_cluster_id(id)?;
        let path = home.cluster_path(id);
        if !path.exists() {
            return Err(HsmError::ClusterNotFound { id: id.to_string() });
        }
        let mut store = Store::open(&path)?;
        // The first transaction binds the handle to the instance it reads.
        let settings = store.read(|tx| read_settings(tx, id))?;
        let config = home.cli_config();
        Ok(Cluster {
            settings,
            store,
            availability_check: config.key_availability_check,
            client_tls: super::mtls::ClientTls::of(&config),
            decoded: Default::default(),
            keys: Default::default(),
            last_use: None,
            clock,
        })
    }

    /// Whether this open cluster still reads the database it was opened on (a session keeps
    /// clusters open between commands; `cloudhsm-sim reset` or `import` replaces it). When
    /// it does not, every transaction through it is refused: open the cluster again.
    pub fn is_current(&mut self) -> bool {
        self.store.is_current()
    }

    /// Names the database file in an error that says the file is damaged.
    pub fn locate(&self, e: HsmError) -> HsmError {
        match e {
            HsmError::Store(e) => HsmError::Store(e.located(self.store.path())),
            other => other,
        }
    }

    /// Takes the CLI configuration again (`configure-cli` may have changed it).
    pub fn refresh_config(&mut self, home: &Home) {
        let config = home.cli_config();
        self.availability_check = config.key_availability_check;
        self.client_tls = super::mtls::ClientTls::of(&config);
    }

    /// The key availability check of a front end with its own configuration (the PKCS#11
    /// library's `configure-pkcs11 --disable-key-availability-check`) rather than the CLI's.
    pub fn use_key_availability_check(&mut self, on: bool) {
        self.availability_check = on;
    }

    pub fn settings(&self) -> &Settings {
        &self.settings
    }

    /// Whether `cluster activate` has run.
    pub fn activated(&mut self) -> Result<bool, HsmError> {
        Ok(self
            .store
            .read(|tx| records::meta(tx, "activated"))?
            .as_deref()
            == Some("true"))
    }

    /// The cluster's HSMs in order.
    pub fn hsms(&mut self) -> Result<Vec<HsmInfo>, HsmError> {
        let rows = self.store.read(records::hsms)?;
        Ok(rows
            .into_iter()
            .map(|h| HsmInfo {
                up: h.state == "up",
                id: h.id,
                serial_number: h.serial_number,
            })
            .collect())
    }

    /// All users: `admin` first, then users in creation order, `app_user` last.
    pub fn users(&mut self) -> Result<Vec<UserInfo>, HsmError> {
        let rows = self.store.read(records::users)?;
        let mut users = rows
            .into_iter()
            .map(|u| user_info(&self.settings.id, u))
            .collect::<Result<Vec<_>, _>>()?;
        users.sort_by_key(|u| u.role == Role::ApplianceUser);
        Ok(users)
    }

    /// `cluster activate`: sets the admin password; `admin` becomes an `admin`.
    pub fn activate(&mut self, password: &str, entropy: &mut Entropy) -> Result<(), HsmError> {
        if self.activated()? {
            return Err(HsmError::AlreadyActivated);
        }
        check_password(password)?;
        let hash = hash_password(password, self.settings.kdf, entropy)?;
        self.store.write(|tx| {
            if records::meta(tx, "activated")?.as_deref() == Some("true") {
                return Err(HsmError::AlreadyActivated);
            }
            records::set_password(tx, ADMIN, &hash)?;
            records::set_user_role(tx, ADMIN, Role::Admin.as_str())?;
            records::set_meta(tx, "activated", "true")?;
            tx.execute("DELETE FROM logins WHERE username = ?1", [ADMIN])
                .map_err(crate::store::StoreError::from)?;
            Ok(())
        })
    }

    /// `user create`, checked against and spending an approval of the `user` service in the
    /// transaction that adds the user.
    pub fn create_user(
        &mut self,
        login: &Login,
        username: &Username,
        role: Role,
        password: &str,
        approval: Option<&ApprovalFile>,
        entropy: &mut Entropy,
    ) -> Result<UserInfo, HsmError> {
        self.guard(login, OperationClass::AddRemoveUsers)?;
        let now = self.now();
        self.insert_user(username, role, password, entropy, |tx| {
            Approve::service(tx, Service::User)?.spend(tx, login, approval, now)
        })
    }

    /// Adds a user once `approved` (run in the same transaction) said yes.
    pub(super) fn insert_user(
        &mut self,
        username: &Username,
        role: Role,
        password: &str,
        entropy: &mut Entropy,
        approved: impl FnOnce(&Tx<'_>) -> Result<(), HsmError>,
    ) -> Result<UserInfo, HsmError> {
        if !matches!(role, Role::Admin | Role::CryptoUser) {
            return Err(HsmError::ReservedRole {
                role: role.as_str().to_string(),
            });
        }
        check_password(password)?;
        let hash = hash_password(password, self.settings.kdf, entropy)?;
        let max = self.settings.hsm_type.max_users();
        self.store.write(|tx| {
            approved(tx)?;
            new_user_allowed(tx, username, max)?;
            records::insert_user(tx, username, role.as_str(), Some(&hash))?;
            Ok(UserInfo {
                username: username.to_string(),
                role,
                locked: false,
            })
        })
    }

    /// What `user create` can refuse before it asks for a password: a reserved role, a
    /// username taken or malformed, the user quota reached. (The create itself checks again.)
    pub fn check_new_user(&mut self, username: &Username, role: Role) -> Result<(), HsmError> {
        if !matches!(role, Role::Admin | Role::CryptoUser) {
            return Err(HsmError::ReservedRole {
                role: role.as_str().to_string(),
            });
        }
        let max = self.settings.hsm_type.max_users();
        self.store.read(|tx| new_user_allowed(tx, username, max))
    }

    /// The next number of a counter kept in the cluster's state, for randomness of seeded
    /// runs that must not repeat across uses (AES-GCM IVs): the seed makes a run repeatable,
    /// this makes each use, in any process, distinct.
    pub(crate) fn next_seeded_use(&mut self) -> Result<u64, HsmError> {
        self.store.write(|tx| {
            let next = records::meta(tx, SEEDED_USES)?
                .and_then(|v| v.parse::<u64>().ok())
                .unwrap_or(0)
                + 1;
            records::set_meta(tx, SEEDED_USES, &next.to_string())?;
            Ok(next)
        })
    }

    /// `user delete`: the user must exist with that role and be logged in nowhere; checked
    /// against and spending an approval of the `user` service in the transaction that
    /// deletes the user.
    pub fn delete_user(
        &mut self,
        login: &Login,
        username: &Username,
        role: Role,
        approval: Option<&ApprovalFile>,
    ) -> Result<UserInfo, HsmError> {
        self.guard(login, OperationClass::AddRemoveUsers)?;
        let cluster_id = self.settings.id.clone();
        let now = self.now();
        self.store.write(|tx| {
            Approve::service(tx, Service::User)?.spend(tx, login, approval, now)?;
            let user = existing_user(tx, &cluster_id, username, role)?;
            if logged_in_elsewhere(tx, username, None)? {
                return Err(HsmError::DeleteLoggedIn {
                    username: username.to_string(),
                });
            }
            if records::owns_keys(tx, username)? {
                return Err(HsmError::OwnsKeys {
                    username: username.to_string(),
                });
            }
            records::remove_shares_of(tx, username)?;
            records::delete_user(tx, username)?;
            Ok(user)
        })
    }

    /// `user change-password`: sets a new password, which also unlocks a locked user, and
    /// with `deregister` removes the user's token-sign key (MFA and quorum share it). Refused
    /// while the user is logged in through any session other than `login`'s. Changing
    /// another user's password is an admin's; the approval of the `user` service is checked
    /// and spent in the transaction that sets the password.
    pub fn change_password(
        &mut self,
        login: &Login,
        username: &Username,
        role: Role,
        password: &str,
        deregister: bool,
        approval: Option<&ApprovalFile>,
        entropy: &mut Entropy,
    ) -> Result<UserInfo, HsmError> {
        self.password_guard(login, username)?;
        check_password(password)?;
        let hash = hash_password(password, self.settings.kdf, entropy)?;
        let cluster_id = self.settings.id.clone();
        let now = self.now();
        self.store.write(|tx| {
            Approve::service(tx, Service::User)?.spend(tx, login, approval, now)?;
            let user = set_password(tx, &cluster_id, username, role, &hash, login)?;
            if deregister {
                super::quorum::clear_user_key(tx, username)?;
            }
            Ok(user)
        })
    }

    /// The gate of an operation on `username`'s password (or MFA key): changing one's own is
    /// [`OperationClass::ChangeOwnPassword`], another user's
    /// [`OperationClass::ChangeAnyPassword`].
    pub(super) fn password_guard(
        &mut self,
        login: &Login,
        username: &Username,
    ) -> Result<(), HsmError> {
        let class = if username == login.username() {
            OperationClass::ChangeOwnPassword
        } else {
            OperationClass::ChangeAnyPassword
        };
        self.guard(login, class)
    }

    /// Checks that `username` exists with `role`.
    pub fn require_user(&mut self, username: &Username, role: Role) -> Result<UserInfo, HsmError> {
        let cluster_id = self.settings.id.clone();
        self.store
            .read(|tx| existing_user(tx, &cluster_id, username, role))
    }

    /// The number of users.
    pub fn user_count(&mut self) -> Result<usize, HsmError> {
        let n = self.store.read(records::user_count)?;
        Ok(usize::try_from(n).unwrap_or_default())
    }
}

/// The meta key of [`Cluster::next_seeded_use`]'s counter.
const SEEDED_USES: &str = "seeded_uses";

/// A user named `username` may be added: the name is free and the quota not reached.
fn new_user_allowed(tx: &Tx<'_>, username: &str, max: usize) -> Result<(), HsmError> {
    if records::user(tx, username)?.is_some() {
        return Err(HsmError::UserExists);
    }
    if usize::try_from(records::user_count(tx)?).unwrap_or(usize::MAX) >= max {
        return Err(HsmError::UserQuota { max });
    }
    Ok(())
}

/// Sets the password of `username` (of `role`) to `hash` in `tx`, which also unlocks it;
/// refused while the user is logged in through a session other than `login`'s.
pub(super) fn set_password(
    tx: &Tx<'_>,
    cluster_id: &str,
    username: &str,
    role: Role,
    hash: &str,
    login: &Login,
) -> Result<UserInfo, HsmError> {
    let mut user = existing_user(tx, cluster_id, username, role)?;
    if logged_in_elsewhere(tx, username, Some(&login.session))? {
        return Err(HsmError::PasswordChangeLoggedIn {
            username: username.to_string(),
        });
    }
    records::set_password(tx, username, hash)?;
    user.locked = false;
    Ok(user)
}

pub(super) fn user_info(cluster_id: &str, u: UserRecord) -> Result<UserInfo, HsmError> {
    let role = Role::parse(&u.role).ok_or_else(|| HsmError::Corrupt {
        id: cluster_id.to_string(),
        detail: format!("user {} has unknown role {}", u.username, u.role),
    })?;
    Ok(UserInfo {
        username: u.username,
        role,
        locked: u.locked,
    })
}

pub(super) fn existing_user(
    tx: &Tx<'_>,
    cluster_id: &str,
    username: &str,
    role: Role,
) -> Result<UserInfo, HsmError> {
    let not_found = || HsmError::UserNotFound {
        username: username.to_string(),
        role: role.as_str().to_string(),
    };
    let user = records::user(tx, username)?.ok_or_else(not_found)?;
    let info = user_info(cluster_id, user)?;
    if info.role.answers_to(role) {
        Ok(info)
    } else {
        Err(not_found())
    }
}

/// Whether a live process other than `except` holds a login of `username`; records of
/// processes that are gone are pruned on the way.
pub(super) fn logged_in_elsewhere(
    tx: &Tx<'_>,
    username: &str,
    except: Option<&SessionId>,
) -> Result<bool, HsmError> {
    let mut found = false;
    for login in records::logins(tx)? {
        if !is_alive(&login) {
            records::delete_login(tx, &login)?;
        } else if login.username == username && !except.is_some_and(|s| s.owns(&login)) {
            found = true;
        }
    }
    Ok(found)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fast_cluster(home: &Home) -> Cluster {
        let config = ClusterConfig {
            id: Some("cluster-abc".into()),
            kdf: Kdf::Fast,
            ..ClusterConfig::default()
        };
        let mut entropy = Entropy::new(Some(1));
        let id = create(home, &config, &mut entropy).unwrap();
        let mut cluster = Cluster::open(home, &id).unwrap();
        cluster.activate("admin-pw-1", &mut entropy).unwrap();
        cluster
    }

    /// The rule every front end relies on: a login holds only on the database instance it
    /// was made on, whatever the seed (two runs with one seed make the same ids otherwise).
    #[test]
    fn a_login_is_void_on_a_reset_or_imported_cluster() {
        let dir = tempfile::tempdir().unwrap();
        let home = Home::open(dir.path().join("state")).unwrap();
        let mut cluster = fast_cluster(&home);
        let session = SessionId::new();
        let login = cluster
            .login(
                &Username::parse("admin").unwrap(),
                Role::Admin,
                "admin-pw-1",
                &session,
            )
            .unwrap();
        assert!(cluster.admits(&login));
        assert!(Cluster::open(&home, "cluster-abc").unwrap().admits(&login));

        reset(&home, "cluster-abc", &mut Entropy::new(Some(1))).unwrap();
        let reopened = Cluster::open(&home, "cluster-abc").unwrap();
        assert!(!reopened.admits(&login));
        // The handle the login was made through is done.
        assert!(!cluster.is_current());
        assert!(matches!(
            cluster.users(),
            Err(HsmError::Store(StoreError::Replaced { .. }))
        ));

        let mut reopened = reopened;
        let again = reopened
            .login(
                &Username::parse("admin").unwrap(),
                Role::Admin,
                UNACTIVATED_ADMIN_PASSWORD,
                &session,
            )
            .unwrap();
        assert!(reopened.admits(&again));
        let doc = super::super::export_cluster(&home, "cluster-abc").unwrap();
        super::super::import_cluster(&home, &doc, true).unwrap();
        assert!(!Cluster::open(&home, "cluster-abc").unwrap().admits(&again));
    }
}
