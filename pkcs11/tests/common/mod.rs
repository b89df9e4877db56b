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

/// The module this test build compiled: `cargo test` leaves it in `deps/` (only `cargo
/// build` copies it up beside the binaries).
pub fn module_path() -> PathBuf {
    let path = build_dir().join("deps").join("libcloudhsm_pkcs11.so");
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
    /// The module as [`Fixture::pkcs11`] initialised it, finalised when the fixture drops.
    module: Mutex<Option<Pkcs11>>,
    _dir: tempfile::TempDir,
    pub root: PathBuf,
    pub home: Home,
    _serial: MutexGuard<'static, ()>,
}

/// The module stays loaded after `dlclose` (it links with `-z nodelete`), so its state
/// outlives a test's `Pkcs11`: the next test's `C_Initialize` needs this one's
/// `C_Finalize` (cryptoki calls it only when asked).
impl Drop for Fixture {
    fn drop(&mut self) {
        let module = self
            .module
            .get_mut()
            .unwrap_or_else(|e| e.into_inner())
            .take();
        if let Some(pkcs11) = module {
            // A test that finalised the module itself gets CKR_CRYPTOKI_NOT_INITIALIZED.
            let _ = pkcs11.finalize();
        }
    }
}

impl Fixture {
    pub fn new() -> Fixture {
        Fixture::with(ClusterConfig::default())
    }

    pub fn with(config: ClusterConfig) -> Fixture {
        Fixture::with_kdf(config, Kdf::Fast)
    }

    /// The module, initialised on this state directory (`CKF_OS_LOCKING_OK`).
    pub fn pkcs11(&self) -> Pkcs11 {
        // SAFETY (of the environment): tests of this binary hold `serial`.
        std::env::set_var("CLOUDHSM_SIM_HOME", &self.root);
        let pkcs11 = Pkcs11::new(module_path()).unwrap();
        pkcs11
            .initialize(CInitializeArgs::new(CInitializeFlags::OS_LOCKING_OK))
            .unwrap();
        *self.module.lock().unwrap_or_else(|e| e.into_inner()) = Some(pkcs11.clone());
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

// Helpers of clients.rs, cross_front_end.rs and threads.rs (real clients, the CLI, threads).

/// The return code of a failed cryptoki call (panics on an error that is no module's).
pub fn rv_of(e: cryptoki::error::Error) -> cryptoki::error::RvError {
    match e {
        cryptoki::error::Error::Pkcs11(rv, _) => rv,
        other => panic!("not a return code of the module: {other}"),
    }
}

/// A program of the system (installed by `.ci/run` from Debian's packages).
pub fn installed(name: &str) -> PathBuf {
    std::env::var_os("PATH")
        .iter()
        .flat_map(std::env::split_paths)
        .map(|dir| dir.join(name))
        .find(|p| p.is_file())
        .unwrap_or_else(|| panic!("{name} is not installed: .ci/run installs it"))
}

/// Standard output and error of a finished process, for assertions and their messages.
pub fn text(out: &Output) -> (String, String) {
    (
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// Every `"key-reference": "0x…"` of a CLI answer, in order.
pub fn key_references(json: &str) -> Vec<String> {
    json.split("\"key-reference\": \"")
        .skip(1)
        .filter_map(|rest| rest.split('"').next())
        .map(str::to_string)
        .collect()
}

/// Runs `cloudhsm-cli` as crypto user `name` and returns its answer, which must succeed.
pub fn cli_ok(fixture: &Fixture, name: &str, pw: &str, args: &[&str]) -> String {
    let out = fixture.cli_as(name, pw, args);
    let (stdout, stderr) = text(&out);
    assert!(
        out.status.success() && stdout.contains("\"error_code\": 0"),
        "cloudhsm-cli {args:?} failed:\n{stdout}\n{stderr}"
    );
    stdout
}

// functions.rs and boundary.rs: checking a signature independently of the module, with the
// `openssl` command on a public key rebuilt from its PKCS#11 attributes.

/// DER of a length.
fn der_len(n: usize) -> Vec<u8> {
    match n {
        0..0x80 => vec![n as u8],
        0x80..0x100 => vec![0x81, n as u8],
        _ => vec![0x82, (n >> 8) as u8, n as u8],
    }
}

fn der(tag: u8, content: &[u8]) -> Vec<u8> {
    let mut out = vec![tag];
    out.extend(der_len(content.len()));
    out.extend_from_slice(content);
    out
}

/// A DER INTEGER of an unsigned big-endian number.
fn der_uint(be: &[u8]) -> Vec<u8> {
    let trimmed: Vec<u8> = be.iter().copied().skip_while(|b| *b == 0).collect();
    let mut content = if trimmed.first().is_some_and(|b| b & 0x80 != 0) {
        vec![0]
    } else {
        Vec::new()
    };
    content.extend(if trimmed.is_empty() { vec![0] } else { trimmed });
    der(0x02, &content)
}

/// SubjectPublicKeyInfo of an RSA key from `CKA_MODULUS` and `CKA_PUBLIC_EXPONENT`.
pub fn rsa_spki(modulus: &[u8], exponent: &[u8]) -> Vec<u8> {
    let key = der(0x30, &[der_uint(modulus), der_uint(exponent)].concat());
    let oid = der(
        0x06,
        &[0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x01, 0x01],
    );
    let algorithm = der(0x30, &[oid, vec![0x05, 0x00]].concat());
    der(
        0x30,
        &[algorithm, der(0x03, &[&[0u8][..], &key].concat())].concat(),
    )
}

/// SubjectPublicKeyInfo of an EC key from `CKA_EC_PARAMS` (the curve's OID) and
/// `CKA_EC_POINT` (an OCTET STRING holding the point).
pub fn ec_spki(params: &[u8], ec_point: &[u8]) -> Vec<u8> {
    assert_eq!(ec_point[0], 0x04, "CKA_EC_POINT is an OCTET STRING");
    let header = if ec_point[1] < 0x80 {
        2
    } else {
        2 + usize::from(ec_point[1] & 0x7f)
    };
    let point = &ec_point[header..];
    assert_eq!(point[0], 0x04, "an uncompressed point");
    let oid = der(0x06, &[0x2a, 0x86, 0x48, 0xce, 0x3d, 0x02, 0x01]);
    let algorithm = der(0x30, &[oid, params.to_vec()].concat());
    der(
        0x30,
        &[algorithm, der(0x03, &[&[0u8][..], point].concat())].concat(),
    )
}

/// An ECDSA signature `r || s` (PKCS#11's form) as DER `ECDSA-Sig-Value` (openssl's).
pub fn ecdsa_der(signature: &[u8]) -> Vec<u8> {
    let (r, s) = signature.split_at(signature.len() / 2);
    der(0x30, &[der_uint(r), der_uint(s)].concat())
}

/// Runs `openssl` with `args`, where `{key}`, `{sig}` and `{data}` name files holding
/// `spki` (DER), `signature` and `data`; returns whether it succeeded, and its stdout.
pub fn openssl(args: &[&str], spki: &[u8], signature: &[u8], data: &[u8]) -> (bool, Vec<u8>) {
    let dir = tempfile::tempdir().unwrap();
    let files = [
        ("{key}", "key.der", spki),
        ("{sig}", "sig.bin", signature),
        ("{data}", "data.bin", data),
    ];
    for (_, name, bytes) in files {
        std::fs::write(dir.path().join(name), bytes).unwrap();
    }
    let args: Vec<String> = args
        .iter()
        .map(|a| {
            files
                .iter()
                .fold(a.to_string(), |a, (placeholder, name, _)| {
                    a.replace(placeholder, &dir.path().join(name).display().to_string())
                })
        })
        .collect();
    let out = Command::new("openssl").args(&args).output().unwrap();
    (out.status.success(), out.stdout)
}

// Helpers of abuse.rs, faults.rs and soak.rs (load, faults, abuse).

/// Fails the test process if it is still running after `limit`: a deadlock in the module
/// fails CI with a message instead of hanging it. Disarmed when dropped.
pub struct Watchdog(Option<std::sync::mpsc::Sender<()>>);

pub fn watchdog(limit: std::time::Duration, what: &'static str) -> Watchdog {
    let (disarm, armed) = std::sync::mpsc::channel::<()>();
    std::thread::spawn(move || {
        if let Err(std::sync::mpsc::RecvTimeoutError::Timeout) = armed.recv_timeout(limit) {
            use std::io::Write;
            let _ = writeln!(
                std::io::stderr(),
                "watchdog: {what} still running after {limit:?}: a deadlock; aborting"
            );
            std::process::abort();
        }
    });
    Watchdog(Some(disarm))
}

impl Drop for Watchdog {
    fn drop(&mut self) {
        if let Some(disarm) = self.0.take() {
            let _ = disarm.send(());
        }
    }
}

impl Fixture {
    /// The database file of [`CLUSTER`].
    pub fn database(&self) -> PathBuf {
        self.home.cluster_path(CLUSTER)
    }

    /// The sqlite3 CLI's answer to `sql` on the cluster's database (read-only).
    pub fn sql(&self, sql: &str) -> String {
        let out = Command::new(installed("sqlite3"))
            .arg("-readonly")
            .arg(self.database())
            .arg(sql)
            .output()
            .unwrap();
        assert!(out.status.success(), "sqlite3 {sql}: {:?}", text(&out));
        text(&out).0.trim().to_string()
    }

    /// Asserts `PRAGMA integrity_check` and `foreign_key_check` pass.
    pub fn assert_consistent(&self) {
        assert_eq!(self.sql("PRAGMA integrity_check"), "ok");
        assert_eq!(self.sql("PRAGMA foreign_key_check"), "");
    }

    /// The login records of process `pid` in the cluster's database.
    pub fn login_records_of(&self, pid: u32) -> usize {
        self.sql(&format!("SELECT count(*) FROM logins WHERE pid = {pid}"))
            .parse()
            .unwrap()
    }
}

impl Fixture {
    /// [`Fixture::with`], the passwords hashed with `kdf` (`Kdf::Default`: argon2id at its
    /// real cost, for a login slow enough to be interrupted).
    pub fn with_kdf(config: ClusterConfig, kdf: Kdf) -> Fixture {
        let serial = serial();
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path().join("state");
        let home = Home::open(root.clone()).unwrap();
        let mut entropy = Entropy::new(None);
        let config = ClusterConfig {
            id: Some(CLUSTER.into()),
            kdf,
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
            module: Mutex::new(None),
            _dir: dir,
            root,
            home,
            _serial: serial,
        }
    }
}

// Small helpers every test file of the module uses.

/// The return code of a call that must fail (a success, or an error that is no module's,
/// fails the test).
pub fn rv<T: std::fmt::Debug>(r: cryptoki::error::Result<T>) -> cryptoki::error::RvError {
    match r {
        Err(cryptoki::error::Error::Pkcs11(rv, _)) => rv,
        other => panic!("expected a PKCS#11 error, got {other:?}"),
    }
}

/// Lowercase hex of `bytes`.
pub fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// The bytes of a hex string (whitespace around it ignored).
pub fn unhex(s: &str) -> Vec<u8> {
    let s = s.trim();
    (0..s.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&s[i..i + 2], 16).unwrap())
        .collect()
}

/// `CKA_VALUE` of a key the session may read (made with `CKA_SENSITIVE` false).
pub fn value(session: &Session, key: cryptoki::object::ObjectHandle) -> Vec<u8> {
    use cryptoki::object::{Attribute, AttributeType};
    match session
        .get_attributes(key, &[AttributeType::Value])
        .unwrap()
        .pop()
    {
        Some(Attribute::Value(v)) => v,
        other => panic!("no CKA_VALUE: {other:?}"),
    }
}

/// The one object of the session's view labelled `label`.
pub fn find(session: &Session, label: &str) -> cryptoki::object::ObjectHandle {
    let found = session
        .find_objects(&[cryptoki::object::Attribute::Label(label.into())])
        .unwrap();
    assert_eq!(found.len(), 1, "one key labelled {label}");
    found[0]
}

/// Known key bytes (a NIST key, say) into the cluster as an administrator would bring them
/// into a real HSM: wrapped here (RFC 3394) under an AES token key made through `session`
/// and readable by the test, then unwrapped by cu1 with `cloudhsm-cli key unwrap aes-no-pad`
/// as a key of `class` labelled `label`, able to encrypt and decrypt. Returns the CLI's
/// answer.
pub fn unwrap_through_the_cli(
    fixture: &Fixture,
    session: &Session,
    bytes: &[u8],
    class: &str,
    label: &str,
) -> String {
    use aws_lc_rs::key_wrap::{AesKek, KeyWrap, AES_128};
    use cryptoki::mechanism::Mechanism;
    use cryptoki::object::{Attribute, KeyType, ObjectClass};
    let kek_label = format!("{label}-kek");
    let kek = session
        .generate_key(
            &Mechanism::AesKeyGen,
            &[
                Attribute::Class(ObjectClass::SECRET_KEY),
                Attribute::KeyType(KeyType::AES),
                Attribute::ValueLen(16.into()),
                Attribute::Token(true),
                Attribute::Label(kek_label.clone().into()),
                Attribute::Unwrap(true),
                Attribute::Sensitive(false),
                Attribute::Extractable(true),
            ],
        )
        .unwrap();
    let kek = AesKek::new(&AES_128, &value(session, kek)).unwrap();
    let mut out = vec![0u8; bytes.len() + 8];
    let wrapped = kek.wrap(bytes, &mut out).unwrap().to_vec();
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("wrapped");
    std::fs::write(&path, wrapped).unwrap();
    let filter = format!("attr.label={kek_label}");
    let out = fixture.cli_as(
        "cu1",
        CU1_PW,
        &[
            "key",
            "unwrap",
            "aes-no-pad",
            "--filter",
            &filter,
            "--data-path",
            path.to_str().unwrap(),
            "--key-type-class",
            class,
            "--label",
            label,
            "--attributes",
            "encrypt=true",
            "decrypt=true",
        ],
    );
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(out.status.success(), "{stdout}");
    stdout
}
