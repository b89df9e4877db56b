//! The module's state between `C_Initialize` and `C_Finalize`: one slot per configured
//! cluster, the sessions of the process, and the object handles it gave out.
//!
//! Each slot holds the process's one login to its cluster (shared by all its sessions, as
//! PKCS#11 has it) and a pool of open cluster handles, so that threads run at once: a
//! signature takes a handle of its own and only reads the login.

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, AtomicU32, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, RwLock};

use cloudhsm_sim::hsm::{self, Cluster, Entropy, Environment, HsmError, Login, SessionId};
use cloudhsm_sim::store::pkcs11_config::{self, Pkcs11Config};
use cloudhsm_sim::store::Home;
use cryptoki_sys::*;

use crate::boundary::{lock, read, write, Result};
use crate::error::rv;
use crate::session::Session;

/// The slot id of the first cluster: what AWS's SDK 5 reports for its one slot
/// (spec/pkcs11.md §1.1); further clusters follow in configuration order.
pub(crate) const FIRST_SLOT_ID: CK_SLOT_ID = 0x2000_0000_0000_0001;

/// The most sessions one application may hold (AWS CloudHSM quotas).
pub(crate) const MAX_SESSIONS: usize = 1024;

/// The initialised module. `C_Finalize` drops it; calls still running on another thread
/// finish on their own `Arc` of it.
pub(crate) struct Module {
    pub(crate) home: Home,
    /// `configure-pkcs11`'s settings, read once at `C_Initialize` as AWS's library reads its
    /// configuration file when the application starts.
    pub(crate) config: Pkcs11Config,
    pub(crate) entropy: Entropy,
    clock: Option<i64>,
    pub(crate) slots: Vec<Slot>,
    sessions: RwLock<HashMap<CK_SESSION_HANDLE, Entry>>,
    /// Session and object handles come from one counter and are never reused in a run.
    next_handle: AtomicU64,
    objects: Mutex<Handles>,
    /// Set by `C_Finalize`: a call still running on this module that fails because the
    /// finalisation took its login reports `CKR_CRYPTOKI_NOT_INITIALIZED`.
    finalized: AtomicBool,
}

/// One cluster: the process's login to it and its open handles.
pub(crate) struct Slot {
    pub(crate) id: CK_SLOT_ID,
    pub(crate) cluster_id: String,
    pool: Mutex<Vec<Cluster>>,
    login: RwLock<Option<Login>>,
    /// Session objects (session keys of the login) by key reference: the PKCS#11 session
    /// that made each, which takes it along when it closes.
    session_objects: Mutex<HashMap<u64, CK_SESSION_HANDLE>>,
}

/// An open session: its slot and kind (fixed for its life) beside its mutable state, so that
/// finding the sessions of a slot never waits for a session in use.
struct Entry {
    slot: usize,
    rw: bool,
    state: Arc<Mutex<Session>>,
}

/// Object handles, both ways: handle → (slot index, key reference).
#[derive(Default)]
struct Handles {
    by_handle: HashMap<CK_OBJECT_HANDLE, (usize, u64)>,
    by_key: HashMap<(usize, u64), CK_OBJECT_HANDLE>,
}

static STATE: RwLock<Option<Arc<Module>>> = RwLock::new(None);

/// The process that initialised [`STATE`] (0: none). A child of `fork()` inherits the
/// parent's module, logins and database connections; PKCS#11 v2.40 §6.7.1 says it must call
/// `C_Initialize` again, and until it does, the module is not initialised in it. Checked
/// before any lock: a lock another thread of the parent held at the fork stays held forever
/// in the child.
static OWNER: AtomicU32 = AtomicU32::new(0);

fn initialised_here() -> bool {
    OWNER.load(Ordering::Acquire) == std::process::id()
}

/// The initialised module, or `CKR_CRYPTOKI_NOT_INITIALIZED` (also in a child of `fork()`
/// that has not initialised the module again).
pub(crate) fn module() -> Result<Arc<Module>> {
    if !initialised_here() {
        return Err(CKR_CRYPTOKI_NOT_INITIALIZED);
    }
    read(&STATE).clone().ok_or(CKR_CRYPTOKI_NOT_INITIALIZED)
}

/// `C_Initialize`: finds the state directory and the clusters as the CLI does.
pub(crate) fn initialize() -> Result<()> {
    let mut state = write(&STATE);
    if state.is_some() {
        if initialised_here() {
            return Err(CKR_CRYPTOKI_ALREADY_INITIALIZED);
        }
        // The parent's module, inherited by `fork()`: abandoned, never dropped. Its logins
        // are the parent's to end, and closing SQLite connections inherited across a fork
        // can damage the parent's database (sqlite.org/howtocorrupt.html §2.6).
        std::mem::forget(state.take());
    }
    *state = Some(Arc::new(Module::open()?));
    OWNER.store(std::process::id(), Ordering::Release);
    Ok(())
}

/// `C_Finalize`: logs every slot out (session objects go with their login).
pub(crate) fn finalize() -> Result<()> {
    if !initialised_here() {
        return Err(CKR_CRYPTOKI_NOT_INITIALIZED);
    }
    let module = write(&STATE).take().ok_or(CKR_CRYPTOKI_NOT_INITIALIZED)?;
    module.finalized.store(true, Ordering::Release);
    for slot in &module.slots {
        slot.logout(&module);
    }
    Ok(())
}

impl Module {
    fn open() -> Result<Module> {
        let env = Environment::from_process();
        let root = env.home().cloned().ok_or(CKR_GENERAL_ERROR)?;
        let home = Home::open(root).map_err(|_| CKR_GENERAL_ERROR)?;
        let mut entropy = env.entropy().map_err(|_| CKR_ARGUMENTS_BAD)?;
        let config = pkcs11_config::load(&home).map_err(|_| CKR_GENERAL_ERROR)?;
        let ids = cluster_ids(&home, &config, &mut entropy).map_err(|e| rv(&e))?;
        let slots = ids
            .into_iter()
            .zip(FIRST_SLOT_ID..)
            .map(|(cluster_id, id)| Slot {
                id,
                cluster_id,
                pool: Mutex::new(Vec::new()),
                login: RwLock::new(None),
                session_objects: Mutex::new(HashMap::new()),
            })
            .collect();
        Ok(Module {
            home,
            config,
            entropy,
            clock: env.clock(),
            slots,
            sessions: RwLock::new(HashMap::new()),
            next_handle: AtomicU64::new(1),
            objects: Mutex::new(Handles::default()),
            finalized: AtomicBool::new(false),
        })
    }

    /// Whether `C_Finalize` ended this module (a call still running on it is late).
    pub(crate) fn finalized(&self) -> bool {
        self.finalized.load(Ordering::Acquire)
    }

    fn next_handle(&self) -> CK_ULONG {
        self.next_handle.fetch_add(1, Ordering::Relaxed) as CK_ULONG
    }

    /// The slot with PKCS#11 id `id`, and its index.
    pub(crate) fn slot(&self, id: CK_SLOT_ID) -> Result<(usize, &Slot)> {
        self.slots
            .iter()
            .enumerate()
            .find(|(_, s)| s.id == id)
            .ok_or(CKR_SLOT_ID_INVALID)
    }

    pub(crate) fn slot_at(&self, index: usize) -> Result<&Slot> {
        self.slots.get(index).ok_or(CKR_GENERAL_ERROR)
    }

    /// Opens a session on slot `index`.
    pub(crate) fn open_session(&self, index: usize, rw: bool) -> Result<CK_SESSION_HANDLE> {
        let mut sessions = write(&self.sessions);
        if sessions.len() >= MAX_SESSIONS {
            return Err(CKR_SESSION_COUNT);
        }
        let handle = self.next_handle();
        let state = Arc::new(Mutex::new(Session::new(index, rw)));
        sessions.insert(
            handle,
            Entry {
                slot: index,
                rw,
                state,
            },
        );
        Ok(handle)
    }

    /// The session `handle`, or `CKR_SESSION_HANDLE_INVALID`.
    pub(crate) fn session(&self, handle: CK_SESSION_HANDLE) -> Result<Arc<Mutex<Session>>> {
        read(&self.sessions)
            .get(&handle)
            .map(|e| e.state.clone())
            .ok_or(CKR_SESSION_HANDLE_INVALID)
    }

    /// Closes `handle`: its session objects are destroyed, and the last session of a slot
    /// logs the slot out.
    pub(crate) fn close_session(&self, handle: CK_SESSION_HANDLE) -> Result<()> {
        let (index, last) = {
            let mut sessions = write(&self.sessions);
            let entry = sessions.remove(&handle).ok_or(CKR_SESSION_HANDLE_INVALID)?;
            let last = !sessions.values().any(|s| s.slot == entry.slot);
            (entry.slot, last)
        };
        let slot = self.slot_at(index)?;
        if last {
            slot.logout(self);
        } else {
            slot.destroy_session_objects(self, index, handle);
        }
        Ok(())
    }

    /// The handles of every open session of slot `index`.
    pub(crate) fn sessions_of(&self, index: usize) -> Vec<CK_SESSION_HANDLE> {
        read(&self.sessions)
            .iter()
            .filter(|(_, s)| s.slot == index)
            .map(|(h, _)| *h)
            .collect()
    }

    pub(crate) fn session_count(&self, index: usize) -> (usize, usize) {
        let sessions = read(&self.sessions);
        let mine = sessions.values().filter(|s| s.slot == index);
        (mine.clone().count(), mine.filter(|s| s.rw).count())
    }

    /// The handle of key `reference` of slot `index` (the same one every time in this run).
    pub(crate) fn handle_of(&self, index: usize, reference: u64) -> CK_OBJECT_HANDLE {
        let mut objects = lock(&self.objects);
        if let Some(h) = objects.by_key.get(&(index, reference)) {
            return *h;
        }
        let handle = self.next_handle();
        objects.by_key.insert((index, reference), handle);
        objects.by_handle.insert(handle, (index, reference));
        handle
    }

    /// The key reference behind object `handle`, which must belong to slot `index`.
    pub(crate) fn object(&self, index: usize, handle: CK_OBJECT_HANDLE) -> Result<u64> {
        match lock(&self.objects).by_handle.get(&handle) {
            Some((slot, reference)) if *slot == index => Ok(*reference),
            _ => Err(CKR_OBJECT_HANDLE_INVALID),
        }
    }

    /// Forgets the handle of a key that no longer exists.
    pub(crate) fn forget(&self, index: usize, reference: u64) {
        let mut objects = lock(&self.objects);
        if let Some(h) = objects.by_key.remove(&(index, reference)) {
            objects.by_handle.remove(&h);
        }
    }
}

/// The clusters the module serves, in slot order: those `configure-pkcs11` added, else those
/// `configure-cli` added, else every cluster of the state directory; an empty directory gets
/// the default cluster, as the CLI's first run does.
fn cluster_ids(
    home: &Home,
    config: &Pkcs11Config,
    entropy: &mut Entropy,
) -> std::result::Result<Vec<String>, HsmError> {
    let existing = home.cluster_ids()?;
    let configured = if config.clusters.is_empty() {
        home.cli_config().clusters
    } else {
        config.clusters.clone()
    };
    let ids: Vec<String> = if configured.is_empty() {
        existing
    } else {
        configured
            .into_iter()
            .filter(|c| existing.contains(c))
            .collect()
    };
    if ids.is_empty() {
        return Ok(vec![hsm::resolve(home, None, entropy)?]);
    }
    Ok(ids)
}

impl Slot {
    /// Runs `f` on an open handle of this slot's cluster (one taken from the pool, or opened;
    /// a handle whose database was replaced by a reset or import is not reused).
    pub(crate) fn with_cluster<T>(
        &self,
        module: &Module,
        f: impl FnOnce(&mut Cluster) -> std::result::Result<T, HsmError>,
    ) -> std::result::Result<T, HsmError> {
        // The module's settings are configure-pkcs11's, read at C_Initialize (as AWS's
        // library reads its configuration when the application starts): a kept handle is not
        // given the CLI's configuration again.
        let kept = lock(&self.pool)
            .pop()
            .and_then(|mut c| c.is_current().then_some(c));
        let mut cluster = match kept {
            Some(c) => c,
            None => Cluster::open_with_clock(&module.home, &self.cluster_id, module.clock)?,
        };
        cluster.use_key_availability_check(module.config.key_availability_check);
        let result = f(&mut cluster);
        lock(&self.pool).push(cluster);
        result
    }

    pub(crate) fn logged_in(&self) -> bool {
        read(&self.login).is_some()
    }

    /// Runs `f` with the login (`CKR_USER_NOT_LOGGED_IN` without one). A login the cluster
    /// no longer admits (it was reset or imported since) is dropped: the sessions are public
    /// again, as on a real cluster that lost its users.
    pub(crate) fn with_login<T>(
        &self,
        module: &Module,
        f: impl FnOnce(&mut Cluster, &Login) -> std::result::Result<T, HsmError>,
    ) -> std::result::Result<T, LoginFailure> {
        let result = {
            let login = read(&self.login);
            let login = login.as_ref().ok_or(LoginFailure::NotLoggedIn)?;
            self.with_cluster(module, |c| f(c, login))
        };
        self.check_void(result)
    }

    /// [`Slot::with_login`] for an operation that changes the login's session keys.
    pub(crate) fn with_login_mut<T>(
        &self,
        module: &Module,
        f: impl FnOnce(&mut Cluster, &mut Login) -> std::result::Result<T, HsmError>,
    ) -> std::result::Result<T, LoginFailure> {
        let result = {
            let mut login = write(&self.login);
            let login = login.as_mut().ok_or(LoginFailure::NotLoggedIn)?;
            self.with_cluster(module, |c| f(c, login))
        };
        self.check_void(result)
    }

    fn check_void<T>(
        &self,
        result: std::result::Result<T, HsmError>,
    ) -> std::result::Result<T, LoginFailure> {
        if let Err(HsmError::LoginVoid) = result {
            write(&self.login).take();
            lock(&self.session_objects).clear();
        }
        result.map_err(LoginFailure::Hsm)
    }

    /// `C_Login` as a crypto user: one login per slot for the whole process.
    pub(crate) fn login(&self, module: &Module, pin: &[u8]) -> Result<()> {
        let mut login = write(&self.login);
        // `C_Finalize` on another thread sets the flag before it takes each slot's login: a
        // login made after it would never be ended.
        if module.finalized() {
            return Err(CKR_CRYPTOKI_NOT_INITIALIZED);
        }
        if login.is_some() {
            return Err(CKR_USER_ALREADY_LOGGED_IN);
        }
        // A PIN that is no `user:password` is a wrong PIN (osslsigncode #431); so is a user
        // that does not exist (its existence is never told).
        let credentials = hsm::Credentials::parse_bytes(pin).map_err(|_| CKR_PIN_INCORRECT)?;
        let username =
            hsm::Username::parse(credentials.username()).map_err(|_| CKR_PIN_INCORRECT)?;
        let session = SessionId::new();
        let made = self.with_cluster(module, |c| {
            c.login(
                &username,
                hsm::Role::CryptoUser,
                credentials.password().expose(),
                &session,
            )
        });
        *login = Some(made.map_err(|e| rv(&e))?);
        Ok(())
    }

    /// `C_Logout` (and the last session's close, and `C_Finalize`): the login ends, and with
    /// it every session object. Returns whether a user was logged in.
    pub(crate) fn logout(&self, module: &Module) -> bool {
        let Some(login) = write(&self.login).take() else {
            return false;
        };
        let references: Vec<u64> = lock(&self.session_objects)
            .drain()
            .map(|(r, _)| r)
            .collect();
        if let Some(index) = module.slots.iter().position(|s| s.id == self.id) {
            for reference in references {
                module.forget(index, reference);
            }
        }
        // A void login (the cluster was reset) has nothing left to end.
        let _ = self.with_cluster(module, |c| c.logout(login));
        true
    }

    /// Records that session `owner` made session object `reference`.
    pub(crate) fn own_session_object(&self, reference: u64, owner: CK_SESSION_HANDLE) {
        lock(&self.session_objects).insert(reference, owner);
    }

    pub(crate) fn drop_session_object(&self, reference: u64) {
        lock(&self.session_objects).remove(&reference);
    }

    /// Destroys the session objects that session `owner` made.
    fn destroy_session_objects(&self, module: &Module, index: usize, owner: CK_SESSION_HANDLE) {
        let references: Vec<u64> = {
            let mut objects = lock(&self.session_objects);
            let mine: Vec<u64> = objects
                .iter()
                .filter(|(_, o)| **o == owner)
                .map(|(r, _)| *r)
                .collect();
            for r in &mine {
                objects.remove(r);
            }
            mine
        };
        for reference in references {
            module.forget(index, reference);
            let terms = [hsm::key::Term::Reference(reference)];
            // The key lives only in this process: if the login went, so did the key.
            let _ = self.with_login_mut(module, |c, login| c.delete_key(login, &terms));
        }
    }
}

/// Why an operation that needs the login did not run.
#[derive(Debug)]
pub(crate) enum LoginFailure {
    NotLoggedIn,
    Hsm(HsmError),
}

impl LoginFailure {
    /// Its return code, with [`rv`] for the cluster's refusals.
    pub(crate) fn rv(&self) -> CK_RV {
        match self {
            LoginFailure::NotLoggedIn => CKR_USER_NOT_LOGGED_IN,
            LoginFailure::Hsm(e) => rv(e),
        }
    }

    /// Its return code in a key-using function.
    pub(crate) fn key_use_rv(&self) -> CK_RV {
        match self {
            LoginFailure::NotLoggedIn => CKR_USER_NOT_LOGGED_IN,
            LoginFailure::Hsm(e) => crate::error::key_use_rv(e),
        }
    }
}
