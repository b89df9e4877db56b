//! Section 1: crypto in process, next to `openssl speed`, and where the time of one
//! `Cluster::sign_data` goes.

use std::path::Path;
use std::time::{Duration, Instant};

use cloudhsm_sim::hsm::crypto::{self, Curve, HashFunction, KeyMaterial};
use cloudhsm_sim::hsm::key::{Attribute, Term, Value};
use cloudhsm_sim::hsm::{self, Cluster, Entropy};
use cloudhsm_sim::store::Home;

use crate::openssl::{versus, OpenSsl, OpenSslRounds};
use crate::probe::{cluster_probe, logged_in_cluster, sign_mech, sign_probe, Probe, DATA};
use crate::procs::setup_cluster;
use crate::report::{mb_s, ms, pass, per_s, show, us, Report};
use crate::stats::{mean_time, median};
use crate::{Res, Scale, CLUSTER};

/// The keys of the main benchmark cluster (labels, as `crypto sign` finds them).
fn main_cluster_keys() -> Vec<String> {
    let pair = |kind: &str, spec: &str, name: &str| {
        format!(
            "key generate-asymmetric-pair {kind} {spec} --public-label {name}-pub \
             --private-label {name}-priv --public-attributes verify=true \
             --private-attributes sign=true"
        )
    };
    vec![
        pair("ec", "--curve prime256v1", "ec"),
        pair(
            "rsa",
            "--modulus-size-bits 2048 --public-exponent 65537",
            "rsa",
        ),
        pair("ec", "--curve ed25519", "ed"),
        "key generate-symmetric aes --label aes-1 --key-length-bytes 32".to_string(),
    ]
}

pub(crate) fn section(report: &mut Report, root: &Path, scale: &Scale) -> OpenSsl {
    eprintln!("perf: 1. crypto in process");
    let s = "1";
    let home = root.join("main");
    if let Err(e) = setup_cluster(&home, "fast", &main_cluster_keys()) {
        report.note(format!("main cluster setup failed: {e}"));
    }
    let mut entropy = Entropy::new(None);
    let keys = (|| -> Res<_> {
        let rsa = crypto::generate_rsa(&mut entropy, 2048, 65537).map_err(|e| e.to_string())?;
        let ec = crypto::generate_ec(&mut entropy, Curve::Prime256v1).map_err(|e| e.to_string())?;
        let ed = crypto::generate_ec(&mut entropy, Curve::Ed25519).map_err(|e| e.to_string())?;
        let aes =
            KeyMaterial::Secret(crypto::generate_aes(&mut entropy, 32).map_err(|e| e.to_string())?);
        let rsa_mech = sign_mech("rsa");
        let sig = crypto::sign(&rsa, &rsa_mech, &DATA, &mut entropy).map_err(|e| e.to_string())?;
        Ok((rsa, ec, ed, aes, sig))
    })();
    let big = vec![0x5au8; 16 * 1024];
    let hmac_key = [0x11u8; 32];
    let small = [0x22u8; 64];

    let big_ref: &[u8] = &big;
    let (mut rsa_sign, mut rsa_verify, mut ec_sign, mut ed_sign, mut aes_gcm) = match &keys {
        Ok((rsa, ec, ed, aes, sig)) => {
            let public = rsa.public_key();
            let mech = sign_mech("rsa");
            let mut e = Entropy::new(None);
            (
                sign_probe(rsa, "rsa"),
                Probe::new(1.0, move || {
                    match crypto::verify(&public, &mech, &DATA, sig) {
                        Ok(true) => Ok(()),
                        Ok(false) => Err("signature did not verify".into()),
                        Err(e) => Err(e.to_string()),
                    }
                }),
                sign_probe(ec, "ec"),
                sign_probe(ed, "ed"),
                Probe::new(big_ref.len() as f64, move || {
                    crypto::aes_gcm_encrypt(aes, big_ref, &[], 128, &mut e)
                        .map(|_| ())
                        .map_err(|e| e.to_string())
                }),
            )
        }
        Err(e) => (
            Probe::failed(e.clone()),
            Probe::failed(e.clone()),
            Probe::failed(e.clone()),
            Probe::failed(e.clone()),
            Probe::failed(e.clone()),
        ),
    };
    let mut cluster_rsa = cluster_probe(&home, "rsa", "rsa");
    let mut cluster_ec = cluster_probe(&home, "ec", "ec");
    let mut cluster_ed = cluster_probe(&home, "ed", "ed");
    let mut hmac_small = Probe::new(1.0, || {
        crypto::hmac(HashFunction::Sha256, &hmac_key, &small);
        Ok(())
    });
    let mut hmac_big = Probe::new(big.len() as f64, || {
        crypto::hmac(HashFunction::Sha256, &hmac_key, &big);
        Ok(())
    });

    let mut ossl = OpenSslRounds::new();
    for round in 0..scale.rounds {
        eprintln!(
            "perf:   round {} of {}: openssl speed, then the emulator",
            round + 1,
            scale.rounds
        );
        ossl.round();
        for p in [
            &mut rsa_sign,
            &mut cluster_rsa,
            &mut rsa_verify,
            &mut ec_sign,
            &mut cluster_ec,
            &mut ed_sign,
            &mut cluster_ed,
            &mut aes_gcm,
            &mut hmac_small,
            &mut hmac_big,
        ] {
            p.sample(scale.budget);
        }
    }
    let ossl = ossl.finish();

    let target = "≥ 0.8× OpenSSL";
    let mut signing =
        |what: &str, ours: Res<f64>, theirs: &Res<f64>, label: &str, targeted: bool| {
            let (reference, ratio, r) = versus(&ours, theirs, label, per_s);
            let (t, result) = match (targeted, r) {
                (true, Some(r)) => (target, pass(r >= 0.8)),
                (true, None) => (target, "n/a".to_string()),
                (false, _) => ("–", "info".to_string()),
            };
            report.row(s, what, show(&ours, per_s), reference, ratio, t, result);
        };
    let rsa_label = "openssl speed rsa2048";
    signing(
        "RSA-2048 sign PKCS#1 v1.5 SHA-256, `crypto::sign`",
        rsa_sign.result(),
        &ossl.rsa_sign,
        rsa_label,
        true,
    );
    signing(
        "RSA-2048 sign, `Cluster::sign_data` (key lookup + decode + sign)",
        cluster_rsa.result(),
        &ossl.rsa_sign,
        rsa_label,
        true,
    );
    signing(
        "RSA-2048 verify, `crypto::verify`",
        rsa_verify.result(),
        &ossl.rsa_verify,
        rsa_label,
        false,
    );
    signing(
        "ECDSA P-256 sign SHA-256, `crypto::sign`",
        ec_sign.result(),
        &ossl.ecdsa_sign,
        "openssl speed ecdsap256",
        true,
    );
    signing(
        "ECDSA P-256 sign, `Cluster::sign_data`",
        cluster_ec.result(),
        &ossl.ecdsa_sign,
        "openssl speed ecdsap256",
        true,
    );
    signing(
        "Ed25519 sign, `crypto::sign`",
        ed_sign.result(),
        &ossl.ed25519_sign,
        "openssl speed ed25519",
        false,
    );
    signing(
        "Ed25519 sign, `Cluster::sign_data`",
        cluster_ed.result(),
        &ossl.ed25519_sign,
        "openssl speed ed25519",
        false,
    );
    drop((cluster_rsa, cluster_ec, cluster_ed));

    // RSA-2048 key generation: median time per key.
    let keygen = (|| -> Res<f64> {
        let mut times = Vec::new();
        let start = Instant::now();
        let min_keys = if scale.quick { 3 } else { 12 };
        while times.len() < min_keys
            || (start.elapsed() < Duration::from_secs(4) && times.len() < 60)
        {
            let t = Instant::now();
            crypto::generate_rsa(&mut entropy, 2048, 65537).map_err(|e| e.to_string())?;
            times.push(t.elapsed().as_secs_f64() * 1e3);
        }
        Ok(median(&times))
    })();
    let (reference, ratio) = match (&keygen, &ossl.rsa_keygen_ms) {
        (Ok(a), Ok(b)) => (
            format!(
                "{} per key (`openssl genpkey` process; `openssl speed` 3.0 has no keygen test)",
                ms(*b)
            ),
            // Keys per second, emulator / OpenSSL, like every other ratio.
            format!("{:.2}×", b / a),
        ),
        (_, Err(e)) => (format!("n/a: {e}"), "n/a".into()),
        (Err(_), Ok(b)) => (ms(*b), "n/a".into()),
    };
    report.row(
        s,
        "RSA-2048 key generation, `crypto::generate_rsa` (median per key)",
        show(&keygen, ms),
        reference,
        ratio,
        "–",
        "info".into(),
    );

    let aes = aes_gcm.result();
    let (reference, ratio, _) = versus(
        &aes,
        &ossl.aes_gcm_16k,
        "openssl speed -evp aes-256-gcm",
        mb_s,
    );
    report.row(
        s,
        "AES-256-GCM encrypt, 16 KiB messages, `crypto::aes_gcm_encrypt`",
        show(&aes, mb_s),
        reference,
        ratio,
        "–",
        "info".into(),
    );
    let (o64, o16k) = match &ossl.hmac {
        Ok((a, b)) => (Ok(*a), Ok(*b)),
        Err(e) => (Err(e.clone()), Err(e.clone())),
    };
    let h64 = hmac_small.result();
    let (reference, ratio, _) = versus(&h64, &o64, "openssl speed -hmac sha256, 64 B", per_s);
    report.row(
        s,
        "HMAC-SHA256, 64-byte messages, `crypto::hmac`",
        show(&h64, per_s),
        reference,
        ratio,
        "–",
        "info".into(),
    );
    let h16k = hmac_big.result();
    let (reference, ratio, _) = versus(&h16k, &o16k, "openssl speed -hmac sha256, 16 KiB", mb_s);
    report.row(
        s,
        "HMAC-SHA256, 16 KiB messages, `crypto::hmac`",
        show(&h16k, mb_s),
        reference,
        ratio,
        "–",
        "info".into(),
    );

    sign_breakdown(&home, scale, report);
    ossl
}

/// Where the time of one `Cluster::sign_data` goes, and the fixed cost of every command
/// (reported as diagnostics).
fn sign_breakdown(home: &Path, scale: &Scale, report: &mut Report) {
    let opened = Home::open(home.to_path_buf())
        .map_err(|e| e.to_string())
        .and_then(|h| logged_in_cluster(&h).map(|(c, login)| (h, c, login)));
    let (h, mut cluster, login) = match opened {
        Ok(x) => x,
        Err(e) => {
            report.note(format!("`Cluster::sign_data` breakdown: n/a ({e})"));
            return;
        }
    };
    let entropy = Entropy::new(None);
    let n = if scale.quick { 50 } else { 300 };
    for (name, m) in [("rsa", "rsa"), ("ec", "ec"), ("ed", "ed")] {
        let mech = sign_mech(m);
        let breakdown = (|| -> Res<String> {
            let terms = vec![Term::Is(
                Attribute::Label,
                Value::Text(format!("{name}-priv")),
            )];
            let key = cluster
                .select_key(&login, &terms)
                .map_err(|e| e.to_string())?;
            let select = mean_time(n, || {
                cluster
                    .select_key(&login, &terms)
                    .map_err(|e| e.to_string())
            })?;
            let blob = cluster
                .key_material(&login, &key)
                .map_err(|e| e.to_string())?;
            let read = mean_time(n, || {
                cluster
                    .key_material(&login, &key)
                    .map_err(|e| e.to_string())
            })?;
            let decode = mean_time(n, || {
                KeyMaterial::from_blob(&blob).map_err(|e| e.to_string())
            })?;
            let mut e = entropy.derive(key.reference);
            // The first signature on a freshly decoded key (RSA: AWS-LC loads the key
            // then), as every command signs; then a key decoded once and reused.
            let reps = n.min(100);
            let mut first = Duration::ZERO;
            for _ in 0..reps {
                let KeyMaterial::Private(k) =
                    KeyMaterial::from_blob(&blob).map_err(|e| e.to_string())?
                else {
                    return Err("not a private key".into());
                };
                let t = Instant::now();
                crypto::sign(&k, &mech, &DATA, &mut e).map_err(|e| e.to_string())?;
                first += t.elapsed();
            }
            let first = first / reps as u32;
            let KeyMaterial::Private(private) =
                KeyMaterial::from_blob(&blob).map_err(|e| e.to_string())?
            else {
                return Err("not a private key".into());
            };
            let steady = mean_time(n, || {
                crypto::sign(&private, &mech, &DATA, &mut e).map_err(|e| e.to_string())
            })?;
            Ok(format!(
                "`Cluster::sign_data` {name}: select_key {} + key_material {} + \
                 KeyMaterial::from_blob {} + first crypto::sign on the decoded key {} \
                 (a key decoded once and reused signs in {})",
                us(select),
                us(read),
                us(decode),
                us(first),
                us(steady)
            ))
        })();
        match breakdown {
            Ok(text) => report.note(text),
            Err(e) => report.note(format!("`Cluster::sign_data` {name} breakdown: n/a ({e})")),
        }
    }
    // The fixed cost every command of a piped session pays before its handler runs.
    let fixed = (|| -> Res<String> {
        let home_open = mean_time(n, || {
            Home::open(home.to_path_buf()).map_err(|e| e.to_string())
        })?;
        let mut entropy = Entropy::new(None);
        let resolve = mean_time(n, || {
            hsm::resolve(&h, None, &mut entropy).map_err(|e| e.to_string())
        })?;
        let open = mean_time(n, || Cluster::open(&h, CLUSTER).map_err(|e| e.to_string()))?;
        let users = mean_time(n, || cluster.users().map_err(|e| e.to_string()))?;
        let terms = vec![Term::Is(Attribute::Label, Value::Text("aes-1".into()))];
        let list = mean_time(n, || {
            cluster.list_keys(&login, &terms).map_err(|e| e.to_string())
        })?;
        Ok(format!(
            "per-command cost in process: Home::open {} + hsm::resolve {} + Cluster::open {}; \
             handler work: Cluster::users {}, Cluster::list_keys(label) {}",
            us(home_open),
            us(resolve),
            us(open),
            us(users),
            us(list)
        ))
    })();
    match fixed {
        Ok(text) => report.note(text),
        Err(e) => report.note(format!("per-command cost: n/a ({e})")),
    }
}
