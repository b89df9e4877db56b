//! The two modules side by side: ours on an activated cluster made through the cluster's
//! API, SoftHSMv2 on a token initialised in the run's temporary directory, each loaded through
//! `cryptoki`, logged in, with the same keys made through the same calls.

use std::cell::{Cell, RefCell};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Instant;

use cloudhsm_sim::hsm::{
    self, Cluster, ClusterConfig, Entropy, GenerateRequest, Kdf, KeyKind, Role, SessionId, Username,
};
use cloudhsm_sim::store::Home;
use cryptoki::context::{CInitializeArgs, CInitializeFlags, Pkcs11};
use cryptoki::mechanism::Mechanism;
use cryptoki::object::{Attribute, ObjectClass, ObjectHandle};
use cryptoki::session::{Session, UserType};
use cryptoki::slot::Slot;
use cryptoki::types::AuthPin;

use crate::{Res, Scale};

pub(crate) const SOFTHSM_LIB: &str = "/usr/lib/softhsm/libsofthsm2.so";
pub(crate) const SOFTHSM_LABEL: &str = "bench";
const SOFTHSM_PIN: &str = "1234";
const SOFTHSM_SO_PIN: &str = "5678";

const CLUSTER: &str = "cluster-p11bench";
const ADMIN_PW: &str = "admin-pw-1";
const CU: &str = "cu1";
const CU_PW: &str = "cu1-bench-pw";

/// DER of the named curve P-256 (`CKA_EC_PARAMS`).
pub(crate) const P256: [u8; 10] = [0x06, 0x08, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x03, 0x01, 0x07];
/// What every signature row signs: 32 bytes (a SHA-256 digest for `CKM_ECDSA`).
pub(crate) const DATA: [u8; 32] = [0x5a; 32];

/// Which module.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Which {
    Ours,
    SoftHsm,
}

impl Which {
    pub(crate) fn name(self) -> &'static str {
        match self {
            Which::Ours => "ours",
            Which::SoftHsm => "SoftHSMv2",
        }
    }
}

/// One module, initialised, with a logged-in read-write session and its keys.
pub(crate) struct Side {
    pub(crate) which: Which,
    pub(crate) lib: PathBuf,
    pub(crate) pkcs11: Pkcs11,
    pub(crate) slot: Slot,
    pub(crate) pin: String,
    pub(crate) session: Session,
    /// The keys' handles: SoftHSMv2 gives private objects new handles after a new login.
    keys: Cell<Keys>,
    /// An RSA-2048 `CKM_SHA256_RSA_PKCS` signature of [`DATA`], for the verify row.
    pub(crate) rsa_signature: Vec<u8>,
    /// The label the find row looks for: one key among the filled ones.
    pub(crate) find_label: String,
    /// How many keys were filled.
    pub(crate) filled: usize,
    /// Token keys made by a sample (key generation rows), destroyed after it.
    pub(crate) made: RefCell<Vec<ObjectHandle>>,
}

/// The keys every row uses, made through the module.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Keys {
    pub(crate) rsa_private: ObjectHandle,
    pub(crate) rsa_public: ObjectHandle,
    pub(crate) ec_private: ObjectHandle,
    pub(crate) hmac: ObjectHandle,
    pub(crate) aes: ObjectHandle,
}

pub(crate) struct Sides {
    pub(crate) ours: Res<Side>,
    pub(crate) softhsm: Res<Side>,
}

impl Sides {
    /// Both modules, each with `scale.find_among` token keys; a side that cannot be set up is
    /// reported as such in every row.
    pub(crate) fn set_up(root: &Path, scale: &Scale) -> Res<Sides> {
        // Only the find row needs the filled keys (`--only` may leave it out).
        let n = if scale.wants("`C_FindObjects`") {
            scale.find_among
        } else {
            0
        };
        let skipped = "not in this run (--side)";
        eprintln!("pkcs11 bench: our cluster, {n} token keys through the cluster API");
        let ours = if !scale.wants_side("ours") {
            Err(skipped.to_string())
        } else {
            our_state(root, n)
        };
        let ours = ours.and_then(|(state, secs)| {
            eprintln!("pkcs11 bench:   filled in {secs:.1} s");
            std::env::set_var("CLOUDHSM_SIM_HOME", &state);
            std::env::remove_var("CLOUDHSM_SIM_SEED");
            Side::open(
                Which::Ours,
                our_module()?,
                &format!("{CU}:{CU_PW}"),
                None,
                n,
            )
        });
        let m = scale.softhsm_among.min(n);
        eprintln!("pkcs11 bench: SoftHSMv2 token, {m} token keys through C_GenerateKey");
        let softhsm = if !scale.wants_side("softhsm") {
            Err(skipped.to_string())
        } else {
            softhsm_token(root)
        };
        let softhsm = softhsm.and_then(|conf| {
            std::env::set_var("SOFTHSM2_CONF", &conf);
            let side = Side::open(
                Which::SoftHsm,
                PathBuf::from(SOFTHSM_LIB),
                SOFTHSM_PIN,
                Some(SOFTHSM_LABEL),
                m,
            )?;
            let start = Instant::now();
            side.fill(m)?;
            eprintln!(
                "pkcs11 bench:   filled in {:.1} s",
                start.elapsed().as_secs_f64()
            );
            Ok(side)
        });
        if ours.is_err() && softhsm.is_err() {
            let why = |s: &Res<Side>| s.as_ref().err().cloned().unwrap_or_default();
            return Err(format!(
                "ours: {}; SoftHSMv2: {}",
                why(&ours),
                why(&softhsm)
            ));
        }
        Ok(Sides { ours, softhsm })
    }

    pub(crate) fn finish(self) {
        for side in [self.ours, self.softhsm].into_iter().flatten() {
            side.finish();
        }
    }

    pub(crate) fn get(&self, which: Which) -> &Res<Side> {
        match which {
            Which::Ours => &self.ours,
            Which::SoftHsm => &self.softhsm,
        }
    }
}

/// `libcloudhsm_pkcs11.so` as cargo built it for this executable: in its `deps/` (where a
/// bench build leaves the cdylib), else in the directory above (where `cargo build` copies it).
fn our_module() -> Res<PathBuf> {
    let exe = std::env::current_exe().map_err(|e| format!("current executable: {e}"))?;
    let deps = exe.parent().ok_or("the benchmark has no directory")?;
    let candidates = [
        deps.to_path_buf(),
        deps.parent().unwrap_or(deps).to_path_buf(),
    ];
    candidates
        .iter()
        .map(|d| d.join("libcloudhsm_pkcs11.so"))
        .find(|lib| lib.exists())
        .ok_or_else(|| {
            format!(
                "libcloudhsm_pkcs11.so is not built (looked in {})",
                deps.display()
            )
        })
}

/// A state directory with an activated cluster (fast password hashing, two HSMs), crypto
/// user `cu1`, and `n` AES-256 token keys `fill-0`… of `cu1`; and how long filling took.
fn our_state(root: &Path, n: usize) -> Res<(PathBuf, f64)> {
    let e = |e: hsm::HsmError| e.to_string();
    let state = root.join("ours");
    let home = Home::open(state.clone()).map_err(|e| e.to_string())?;
    let mut entropy = Entropy::new(None);
    let config = ClusterConfig {
        id: Some(CLUSTER.into()),
        kdf: Kdf::Fast,
        hsms: 2,
        ..ClusterConfig::default()
    };
    hsm::create(&home, &config, &mut entropy).map_err(e)?;
    let mut cluster = Cluster::open(&home, CLUSTER).map_err(e)?;
    cluster.activate(ADMIN_PW, &mut entropy).map_err(e)?;
    let name = |n: &str| Username::parse(n).map_err(|e| e.to_string());
    let admin = cluster
        .login(&name("admin")?, Role::Admin, ADMIN_PW, &SessionId::new())
        .map_err(e)?;
    cluster
        .create_user(
            &admin,
            &name(CU)?,
            Role::CryptoUser,
            CU_PW,
            None,
            &mut entropy,
        )
        .map_err(e)?;
    cluster.logout(admin).map_err(e)?;
    let start = Instant::now();
    let mut login = cluster
        .login(&name(CU)?, Role::CryptoUser, CU_PW, &SessionId::new())
        .map_err(e)?;
    for i in 0..n {
        let req = GenerateRequest {
            kind: KeyKind::Aes { bytes: 32 },
            label: fill_label(i),
            private_label: String::new(),
            attributes: Vec::new(),
            private_attributes: Vec::new(),
            share_with: Vec::new(),
            manage_quorum: None,
            use_quorum: None,
            token: true,
        };
        cluster
            .generate_keys(&mut login, &req, &entropy)
            .map_err(e)?;
    }
    cluster.logout(login).map_err(e)?;
    Ok((state, start.elapsed().as_secs_f64()))
}

fn fill_label(i: usize) -> String {
    format!("fill-{i}")
}

/// A SoftHSMv2 configuration whose token directory is in `root`, with token `bench`
/// initialised by `softhsm2-util`; the configuration's path.
fn softhsm_token(root: &Path) -> Res<PathBuf> {
    if !Path::new(SOFTHSM_LIB).exists() {
        return Err(format!("{SOFTHSM_LIB} not found (Debian package softhsm2)"));
    }
    let tokens = root.join("softhsm-tokens");
    std::fs::create_dir_all(&tokens).map_err(|e| format!("{}: {e}", tokens.display()))?;
    let conf = root.join("softhsm2.conf");
    let text = format!(
        "directories.tokendir = {}\nobjectstore.backend = file\nlog.level = ERROR\nslots.removable = false\n",
        tokens.display()
    );
    std::fs::write(&conf, text).map_err(|e| format!("{}: {e}", conf.display()))?;
    let out = Command::new("softhsm2-util")
        .args(["--init-token", "--free", "--label", SOFTHSM_LABEL])
        .args(["--pin", SOFTHSM_PIN, "--so-pin", SOFTHSM_SO_PIN])
        .env("SOFTHSM2_CONF", &conf)
        .output()
        .map_err(|e| format!("softhsm2-util: {e}"))?;
    if !out.status.success() {
        return Err(format!(
            "softhsm2-util --init-token failed: {}",
            String::from_utf8_lossy(&out.stderr).trim()
        ));
    }
    Ok(conf)
}

/// A PKCS#11 error, short: the return code and the function.
pub(crate) fn rv(e: cryptoki::error::Error) -> String {
    match e {
        cryptoki::error::Error::Pkcs11(rv, f) => format!("{rv:?} from {f:?}"),
        other => other.to_string(),
    }
}

/// Loads `lib`, initialises it, finds its slot (the token labelled `label`, else the first
/// slot with a token) and opens a logged-in read-write session.
pub(crate) fn open(lib: &Path, label: Option<&str>, pin: &str) -> Res<(Pkcs11, Slot, Session)> {
    let pkcs11 = Pkcs11::new(lib).map_err(|e| format!("loading {}: {e}", lib.display()))?;
    pkcs11
        .initialize(CInitializeArgs::new(CInitializeFlags::OS_LOCKING_OK))
        .map_err(rv)?;
    let slots = pkcs11.get_slots_with_token().map_err(rv)?;
    let slot = match label {
        None => slots.first().copied(),
        Some(label) => slots.into_iter().find(|s| {
            pkcs11
                .get_token_info(*s)
                .is_ok_and(|t| t.label().trim_end() == label)
        }),
    }
    .ok_or("no slot with the token")?;
    let session = pkcs11.open_rw_session(slot).map_err(rv)?;
    session
        .login(UserType::User, Some(&AuthPin::new(pin.into())))
        .map_err(rv)?;
    Ok((pkcs11, slot, session))
}

/// The templates both modules get.
pub(crate) fn ec_pair_templates(label: &str) -> (Vec<Attribute>, Vec<Attribute>) {
    (
        vec![
            Attribute::Token(true),
            Attribute::Verify(true),
            Attribute::EcParams(P256.to_vec()),
            Attribute::Label(label.as_bytes().to_vec()),
        ],
        vec![
            Attribute::Token(true),
            Attribute::Sign(true),
            Attribute::Label(label.as_bytes().to_vec()),
        ],
    )
}

pub(crate) fn aes_template(label: &str) -> Vec<Attribute> {
    vec![
        Attribute::Token(true),
        Attribute::Encrypt(true),
        Attribute::Decrypt(true),
        Attribute::ValueLen(32.into()),
        Attribute::Label(label.as_bytes().to_vec()),
    ]
}

impl Side {
    fn open(which: Which, lib: PathBuf, pin: &str, label: Option<&str>, n: usize) -> Res<Side> {
        let (pkcs11, slot, session) = open(&lib, label, pin)?;
        make_keys(&session).map_err(|e| format!("making the keys: {e}"))?;
        let keys = find_keys(&session)?;
        let rsa_signature = session
            .sign(&Mechanism::Sha256RsaPkcs, keys.rsa_private, &DATA)
            .map_err(rv)?;
        Ok(Side {
            which,
            lib,
            pkcs11,
            slot,
            pin: pin.to_string(),
            session,
            keys: Cell::new(keys),
            rsa_signature,
            find_label: fill_label(n / 2),
            filled: n,
            made: RefCell::new(Vec::new()),
        })
    }

    /// `n` AES-256 token keys `fill-0`…, through the module.
    fn fill(&self, n: usize) -> Res<()> {
        for i in 0..n {
            self.session
                .generate_key(&Mechanism::AesKeyGen, &aes_template(&fill_label(i)))
                .map_err(rv)?;
        }
        Ok(())
    }

    pub(crate) fn keys(&self) -> Keys {
        self.keys.get()
    }

    /// Finds the keys' handles again (after a new login).
    pub(crate) fn reload_keys(&self) -> Res<()> {
        self.keys.set(find_keys(&self.session)?);
        Ok(())
    }

    /// Destroys the keys the last sample made.
    pub(crate) fn clean_up(&self) -> Res<()> {
        let made: Vec<ObjectHandle> = self.made.borrow_mut().drain(..).collect();
        for handle in made {
            self.session.destroy_object(handle).map_err(rv)?;
        }
        Ok(())
    }

    fn finish(self) {
        let _ = self.session.logout();
        let _ = self.session.close();
        let _ = self.pkcs11.finalize();
    }
}

fn make_keys(session: &Session) -> Res<()> {
    let rsa_public = vec![
        Attribute::Token(true),
        Attribute::Verify(true),
        Attribute::ModulusBits(2048.into()),
        Attribute::PublicExponent(vec![0x01, 0x00, 0x01]),
        Attribute::Label(b"bench-rsa".to_vec()),
    ];
    let rsa_private = vec![
        Attribute::Token(true),
        Attribute::Sign(true),
        Attribute::Label(b"bench-rsa".to_vec()),
    ];
    session
        .generate_key_pair(&Mechanism::RsaPkcsKeyPairGen, &rsa_public, &rsa_private)
        .map_err(rv)?;
    let (ec_public, ec_private) = ec_pair_templates("bench-ec");
    session
        .generate_key_pair(&Mechanism::EccKeyPairGen, &ec_public, &ec_private)
        .map_err(rv)?;
    session
        .generate_key(
            &Mechanism::GenericSecretKeyGen,
            &[
                Attribute::Token(true),
                Attribute::Sign(true),
                Attribute::Verify(true),
                Attribute::ValueLen(32.into()),
                Attribute::Label(b"bench-hmac".to_vec()),
            ],
        )
        .map_err(rv)?;
    session
        .generate_key(&Mechanism::AesKeyGen, &aes_template("bench-aes"))
        .map_err(rv)?;
    Ok(())
}

/// The handles of the keys [`make_keys`] made, by label and class.
fn find_keys(session: &Session) -> Res<Keys> {
    let one = |label: &str, class: ObjectClass| -> Res<ObjectHandle> {
        let found = session
            .find_objects(&[
                Attribute::Label(label.as_bytes().to_vec()),
                Attribute::Class(class),
            ])
            .map_err(rv)?;
        match found.as_slice() {
            [h] => Ok(*h),
            other => Err(format!("{} keys {label} of class {class}", other.len())),
        }
    };
    Ok(Keys {
        rsa_private: one("bench-rsa", ObjectClass::PRIVATE_KEY)?,
        rsa_public: one("bench-rsa", ObjectClass::PUBLIC_KEY)?,
        ec_private: one("bench-ec", ObjectClass::PRIVATE_KEY)?,
        hmac: one("bench-hmac", ObjectClass::SECRET_KEY)?,
        aes: one("bench-aes", ObjectClass::SECRET_KEY)?,
    })
}
