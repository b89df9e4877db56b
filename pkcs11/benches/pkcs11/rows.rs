//! The single-session rows: one PKCS#11 call (or the calls of one find) timed on each module,
//! in rounds that interleave the two modules and `openssl speed`.

use std::time::{Duration, Instant};

use cryptoki::mechanism::aead::GcmParams;
use cryptoki::mechanism::Mechanism;
use cryptoki::object::Attribute;
use cryptoki::session::UserType;
use cryptoki::types::AuthPin;

use crate::openssl::OpenSslRounds;
use crate::report::{group, Report, Samples, Show};
use crate::sides::{aes_template, ec_pair_templates, rv, Side, Sides, Which, DATA};
use crate::{Res, Scale};

/// What a row measures: `op` makes one call (or one find) and returns the time it took.
struct Row {
    what: &'static str,
    show: Show,
    target: &'static str,
    op: fn(&Side) -> Res<Duration>,
}

const AT_LEAST_SOFTHSM: &str = "≥ 1.0×";

const ROWS: &[Row] = &[
    Row {
        what: "`C_Sign` RSA-2048 `CKM_SHA256_RSA_PKCS` (32-byte message)",
        show: Show::Rate,
        target: AT_LEAST_SOFTHSM,
        op: sign_rsa,
    },
    Row {
        what: "`C_Sign` ECDSA P-256 `CKM_ECDSA` (SHA-256 digest)",
        show: Show::Rate,
        target: AT_LEAST_SOFTHSM,
        op: sign_ecdsa,
    },
    Row {
        what: "`C_Sign` ECDSA P-256 `CKM_ECDSA_SHA256` (32-byte message)",
        show: Show::Rate,
        target: "–",
        op: sign_ecdsa_sha256,
    },
    Row {
        what: "`C_Sign` HMAC-SHA256 `CKM_SHA256_HMAC` (64-byte message)",
        show: Show::Rate,
        target: AT_LEAST_SOFTHSM,
        op: sign_hmac,
    },
    Row {
        what: "`C_Verify` RSA-2048 `CKM_SHA256_RSA_PKCS`",
        show: Show::Rate,
        target: AT_LEAST_SOFTHSM,
        op: verify_rsa,
    },
    Row {
        what: "`C_Encrypt` AES-256-GCM (16,000-byte message: AWS's per-call limit is 16,224)",
        show: Show::Bytes(GCM_MESSAGE as f64),
        target: AT_LEAST_SOFTHSM,
        op: encrypt_gcm,
    },
    Row {
        what: "`C_GenerateKey` AES-256 token key",
        show: Show::Time,
        target: AT_LEAST_SOFTHSM,
        op: generate_aes,
    },
    Row {
        what: "`C_GenerateKeyPair` P-256 token pair",
        show: Show::Time,
        target: AT_LEAST_SOFTHSM,
        op: generate_ec_pair,
    },
    Row {
        what: "`C_FindObjects` by label among the filled token keys (init + find + final)",
        show: Show::Time,
        target: "≥ 1.0×, ours ≤ 2 ms",
        op: find_by_label,
    },
    Row {
        what: "`C_Login` (ours: `fast` preset)",
        show: Show::Time,
        target: AT_LEAST_SOFTHSM,
        op: login,
    },
];

/// The rows' index in [`ROWS`] whose samples the `openssl speed` comparison uses.
const RSA_SIGN: usize = 0;
const ECDSA_SIGN: usize = 1;

pub(crate) fn measure(report: &mut Report, sides: &mut Sides, scale: &Scale) {
    let mut samples: Vec<Samples> = ROWS.iter().map(|_| Samples::default()).collect();
    let mut ossl = OpenSslRounds::new();
    for round in 0..scale.rounds {
        eprintln!(
            "pkcs11 bench: round {} of {}: openssl speed, then every row on both modules",
            round + 1,
            scale.rounds
        );
        if scale.only.is_none() {
            ossl.round();
        }
        for (row, s) in ROWS.iter().zip(samples.iter_mut()) {
            if !scale.wants(row.what) {
                continue;
            }
            for which in order(round) {
                let value = match sides.get(which) {
                    Ok(side) => sample(side, row.op, scale.budget),
                    Err(e) => Err(format!("not set up: {e}")),
                };
                s.push(which, value);
            }
        }
    }
    let ossl = ossl.finish();
    let filled = |w: Which| sides.get(w).as_ref().map_or(0, |s| s.filled);
    for (row, s) in ROWS.iter().zip(&samples) {
        if !scale.wants(row.what) {
            continue;
        }
        if row.what.starts_with("`C_FindObjects`") {
            let what = format!(
                "`C_FindObjects` by label among {} token keys (SoftHSMv2: {}) (init + find + final)",
                group(filled(Which::Ours) as f64),
                group(filled(Which::SoftHsm) as f64),
            );
            report.row(&what, row.show, s, row.target);
        } else {
            report.row(row.what, row.show, s, row.target);
        }
    }
    if scale.only.is_some() {
        return;
    }
    report.openssl(
        "RSA-2048 sign (`C_Sign` `CKM_SHA256_RSA_PKCS`; `openssl speed rsa2048`)",
        &samples[RSA_SIGN],
        &ossl.rsa_sign,
    );
    report.openssl(
        "ECDSA P-256 sign (`C_Sign` `CKM_ECDSA`; `openssl speed ecdsap256`)",
        &samples[ECDSA_SIGN],
        &ossl.ecdsa_sign,
    );
}

/// Which module goes first alternates from round to round.
pub(crate) fn order(round: usize) -> [Which; 2] {
    if round.is_multiple_of(2) {
        [Which::Ours, Which::SoftHsm]
    } else {
        [Which::SoftHsm, Which::Ours]
    }
}

/// Calls per second of `op` on `side` over `budget`, counting only the time `op` reports,
/// after one warm-up call; the keys the calls made are destroyed afterwards.
fn sample(side: &Side, op: fn(&Side) -> Res<Duration>, budget: Duration) -> Res<f64> {
    let result = (|| {
        op(side)?;
        let start = Instant::now();
        let mut n = 0u64;
        let mut timed = Duration::ZERO;
        while start.elapsed() < budget {
            timed += op(side)?;
            n += 1;
        }
        Ok(n as f64 / timed.as_secs_f64())
    })();
    side.clean_up()?;
    // After a new login SoftHSMv2 hands out new handles for private objects.
    side.reload_keys()?;
    result
}

fn timed<T>(f: impl FnOnce() -> cryptoki::error::Result<T>) -> Res<(Duration, T)> {
    let start = Instant::now();
    let value = f().map_err(rv)?;
    Ok((start.elapsed(), value))
}

fn sign_rsa(side: &Side) -> Res<Duration> {
    let s = &side.session;
    timed(|| s.sign(&Mechanism::Sha256RsaPkcs, side.keys().rsa_private, &DATA)).map(|t| t.0)
}

fn sign_ecdsa(side: &Side) -> Res<Duration> {
    let s = &side.session;
    timed(|| s.sign(&Mechanism::Ecdsa, side.keys().ec_private, &DATA)).map(|t| t.0)
}

fn sign_ecdsa_sha256(side: &Side) -> Res<Duration> {
    let s = &side.session;
    timed(|| s.sign(&Mechanism::EcdsaSha256, side.keys().ec_private, &DATA)).map(|t| t.0)
}

fn sign_hmac(side: &Side) -> Res<Duration> {
    let s = &side.session;
    timed(|| s.sign(&Mechanism::Sha256Hmac, side.keys().hmac, &[0x22; 64])).map(|t| t.0)
}

fn verify_rsa(side: &Side) -> Res<Duration> {
    let s = &side.session;
    let key = side.keys().rsa_public;
    let signature = &side.rsa_signature;
    timed(|| s.verify(&Mechanism::Sha256RsaPkcs, key, &DATA, signature)).map(|t| t.0)
}

/// The AES-GCM message: 16 KiB is over AWS's per-call limit for `CKM_AES_GCM` (16,224
/// bytes, `CKR_DATA_LEN_RANGE` from the real library and this module alike).
const GCM_MESSAGE: usize = 16_000;

fn encrypt_gcm(side: &Side) -> Res<Duration> {
    let message = [0x33u8; GCM_MESSAGE];
    let mut iv = [0x44u8; 12];
    let params = GcmParams::new(&mut iv, &[], 128.into()).map_err(|e| e.to_string())?;
    let start = Instant::now();
    side.session
        .encrypt(&Mechanism::AesGcm(params), side.keys().aes, &message)
        .map_err(rv)?;
    Ok(start.elapsed())
}

/// The most keys a key-generation row keeps before destroying them (untimed): a second of
/// P-256 pairs would fill the cluster's quota of 3,333 asymmetric keys (`CKR_DEVICE_MEMORY`).
const KEPT: usize = 1_000;

fn generate_aes(side: &Side) -> Res<Duration> {
    if side.made.borrow().len() >= KEPT {
        side.clean_up()?;
    }
    let template = aes_template("bench-generated");
    let s = &side.session;
    let (time, key) = timed(|| s.generate_key(&Mechanism::AesKeyGen, &template))?;
    side.made.borrow_mut().push(key);
    Ok(time)
}

fn generate_ec_pair(side: &Side) -> Res<Duration> {
    if side.made.borrow().len() >= KEPT {
        side.clean_up()?;
    }
    let (public, private) = ec_pair_templates("bench-generated");
    let s = &side.session;
    let (time, (public, private)) =
        timed(|| s.generate_key_pair(&Mechanism::EccKeyPairGen, &public, &private))?;
    side.made.borrow_mut().extend([public, private]);
    Ok(time)
}

fn find_by_label(side: &Side) -> Res<Duration> {
    let template = [Attribute::Label(side.find_label.as_bytes().to_vec())];
    let s = &side.session;
    let (time, found) = timed(|| s.find_objects(&template))?;
    match found.len() {
        1 => Ok(time),
        n => Err(format!(
            "found {n} keys labelled {}, not 1",
            side.find_label
        )),
    }
}

/// `C_Login` timed; the `C_Logout` that makes room for it is not.
fn login(side: &Side) -> Res<Duration> {
    let s = &side.session;
    s.logout().map_err(rv)?;
    let pin = AuthPin::new(side.pin.clone().into());
    timed(|| s.login(UserType::User, Some(&pin))).map(|t| t.0)
}
