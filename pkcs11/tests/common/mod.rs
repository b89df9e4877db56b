//! What the module's tests share: a state directory with an activated cluster and crypto
//! users (made through the cluster's API, with cheap password hashing), the built module,
//! the CLI next to it, and one module per test process at a time.
//!
//! The module keeps its state in the process (as every PKCS#11 library does) and reads
//! `CLOUDHSM_SIM_HOME` at `C_Initialize`: tests of one binary take [`serial`] first.

#![allow(dead_code, clippy::unwrap_used, clippy::expect_used)] // each test binary uses a part

use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::{Mutex, MutexGuard};

use cloudhsm_sim::hsm::{
    self, Cluster, ClusterConfig, Entropy, Kdf, Login, Role, SessionId, Username,
};
use cloudhsm_sim::store::Home;
use cryptoki::context::{CInitializeArgs, CInitializeFlags, Pkcs11};
use cryptoki::session::{Session, UserType};
use cryptoki::slot::Slot;
use cryptoki::types::AuthPin;

pub const CLUSTER: &str = "cluster-p11";
pub const ADMIN_PW: &str = "admin-pw-1";
pub const CU1_PW: &str = "cu1-password";
pub const CU2_PW: &str = "cu2-password";
pub const PIN1: &str = "cu1:cu1-password";
pub const PIN2: &str = "cu2:cu2-password";

/// The directory cargo built into: `target/<profile>` (the test runs from its `deps/`).
pub fn build_dir() -> PathBuf {
    let exe = std::env::current_exe().unwrap();
    exe.parent().and_then(Path::parent).unwrap().to_path_buf()
}

/// The built module.
pub fn module_path() -> PathBuf {
    let path = build_dir().join("libcloudhsm_pkcs11.so");
    assert!(path.exists(), "{} is not built", path.display());
    path
}

/// A binary of the root package (`cloudhsm-cli`, `cloudhsm-sim`), built by the workspace's
/// `cargo test`.
pub fn bin(name: &str) -> PathBuf {
    let path = build_dir().join(name);
    assert!(
        path.exists(),
        "{} is not built: run the workspace's tests (`cargo test` at the root) or `cargo build --workspace` first",
        path.display()
    );
    path
}

static SERIAL: Mutex<()> = Mutex::new(());

/// One test at a time uses the module of this process.
pub fn serial() -> MutexGuard<'static, ()> {
    SERIAL.lock().unwrap_or_else(|e| e.into_inner())
}

/// A state directory: cluster [`CLUSTER`] (two HSMs, so that token keys pass the key
/// availability check; hsm2m.medium, the default type), activated, with crypto users `cu1`
/// and `cu2`.
pub struct Fixture {
    _dir: tempfile::TempDir,
    pub root: PathBuf,
    pub home: Home,
    _serial: MutexGuard<'static, ()>,
}

impl Fixture {
    pub fn new() -> Fixture {
        Fixture::with(ClusterConfig::default())
    }

    pub fn with(config: ClusterConfig) -> Fixture {
        let serial = serial();
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path().join("state");
        let home = Home::open(root.clone()).unwrap();
        let mut entropy = Entropy::new(None);
        let config = ClusterConfig {
            id: Some(CLUSTER.into()),
            kdf: Kdf::Fast,
            ..config
        };
        hsm::create(&home, &config, &mut entropy).unwrap();
        let mut cluster = Cluster::open(&home, CLUSTER).unwrap();
        cluster.activate(ADMIN_PW, &mut entropy).unwrap();
        let admin = cluster
            .login(&user("admin"), Role::Admin, ADMIN_PW, &SessionId::new())
            .unwrap();
        for (name, pw) in [("cu1", CU1_PW), ("cu2", CU2_PW)] {
            cluster
                .create_user(
                    &admin,
                    &user(name),
                    Role::CryptoUser,
                    pw,
                    None,
                    &mut entropy,
                )
                .unwrap();
        }
        cluster.logout(admin).unwrap();
        Fixture {
            _dir: dir,
            root,
            home,
            _serial: serial,
        }
    }

    /// The module, initialised on this state directory (`CKF_OS_LOCKING_OK`).
    pub fn pkcs11(&self) -> Pkcs11 {
        // SAFETY (of the environment): tests of this binary hold `serial`.
        std::env::set_var("CLOUDHSM_SIM_HOME", &self.root);
        let pkcs11 = Pkcs11::new(module_path()).unwrap();
        pkcs11
            .initialize(CInitializeArgs::new(CInitializeFlags::OS_LOCKING_OK))
            .unwrap();
        pkcs11
    }

    /// The cluster, through its API (the CLI's side of a cross-front-end test).
    pub fn cluster(&self) -> Cluster {
        Cluster::open(&self.home, CLUSTER).unwrap()
    }

    pub fn login(&self, cluster: &mut Cluster, name: &str, role: Role, pw: &str) -> Login {
        cluster
            .login(&user(name), role, pw, &SessionId::new())
            .unwrap()
    }

    /// `cloudhsm-cli` in single-command mode as crypto user `name`.
    pub fn cli_as(&self, name: &str, pw: &str, args: &[&str]) -> Output {
        Command::new(bin("cloudhsm-cli"))
            .args(args)
            .env("CLOUDHSM_SIM_HOME", &self.root)
            .env("CLOUDHSM_ROLE", "crypto-user")
            .env("CLOUDHSM_PIN", format!("{name}:{pw}"))
            .env_remove("CLOUDHSM_SIM_SEED")
            .output()
            .unwrap()
    }

    /// `cloudhsm-cli interactive` fed `script`.
    pub fn cli_script(&self, script: &str) -> Output {
        use std::io::Write;
        let mut child = Command::new(bin("cloudhsm-cli"))
            .arg("interactive")
            .env("CLOUDHSM_SIM_HOME", &self.root)
            .stdin(std::process::Stdio::piped())
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .unwrap();
        child
            .stdin
            .take()
            .unwrap()
            .write_all(script.as_bytes())
            .unwrap();
        child.wait_with_output().unwrap()
    }
}

pub fn user(name: &str) -> Username {
    Username::parse(name).unwrap()
}

/// The one slot of a one-cluster state directory.
pub fn slot(pkcs11: &Pkcs11) -> Slot {
    let slots = pkcs11.get_slots_with_token().unwrap();
    assert_eq!(slots.len(), 1);
    slots[0]
}

/// A read-write session on the slot, logged in with `pin` (a crypto user's `name:password`).
pub fn session(pkcs11: &Pkcs11, pin: &str) -> Session {
    let session = pkcs11.open_rw_session(slot(pkcs11)).unwrap();
    session
        .login(UserType::User, Some(&AuthPin::new(pin.into())))
        .unwrap();
    session
}
