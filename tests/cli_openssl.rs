//! Keys and signatures made through `cloudhsm-cli` are the real thing: OpenSSL reads the
//! exported public keys and verifies the signatures, and what OpenSSL makes the CLI accepts.

#![allow(clippy::unwrap_used, clippy::expect_used)] // test code: a panic is a failure report

mod common;

use std::path::Path;
use std::process::Command;

use base64::Engine;
use common::{argv, ok_data, Sim};
use serde_json::Value;

const CU: &[(&str, &str)] = &[
    ("CLOUDHSM_ROLE", "crypto-user"),
    ("CLOUDHSM_PIN", "cu1:cu1-password"),
];

fn sim() -> Sim {
    Sim::with_crypto_user("admin-pw-1", "cu1", "cu1-password")
}

fn cu(sim: &Sim, args: &[&str]) -> Value {
    let run = sim.cli_env(args, CU);
    let v = run.one();
    assert_eq!(v["error_code"], 0, "{args:?} failed: {v}\n{}", run.stderr);
    v
}

fn openssl(args: &[&str]) -> (bool, String) {
    let out = Command::new("openssl")
        .args(args)
        .output()
        .unwrap_or_else(|e| panic!("openssl is needed for these tests (CI installs it): {e}"));
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    (out.status.success(), text)
}

/// Decrypts `input` into `output` with OpenSSL: RSA-OAEP, SHA-256 and MGF1-SHA-256.
fn openssl_oaep_sha256_decrypt(key: &Path, input: &Path, output: &Path) {
    let (ok, text) = openssl(&[
        "pkeyutl",
        "-decrypt",
        "-inkey",
        p(key),
        "-pkeyopt",
        "rsa_padding_mode:oaep",
        "-pkeyopt",
        "rsa_oaep_md:sha256",
        "-pkeyopt",
        "rsa_mgf1_md:sha256",
        "-in",
        p(input),
        "-out",
        p(output),
    ]);
    assert!(ok, "{text}");
}

fn b64(bytes: &[u8]) -> String {
    base64::engine::general_purpose::STANDARD.encode(bytes)
}

fn unb64(text: &str) -> Vec<u8> {
    base64::engine::general_purpose::STANDARD
        .decode(text)
        .expect("base64 signature")
}

fn p(path: &Path) -> &str {
    path.to_str().expect("utf-8 temp path")
}

fn pair(sim: &Sim, kind: &[&str], label: &str) {
    let public = format!("{label}-pub");
    let private = format!("{label}-priv");
    let mut args = vec!["key", "generate-asymmetric-pair"];
    args.extend_from_slice(kind);
    args.extend_from_slice(&[
        "--public-label",
        &public,
        "--private-label",
        &private,
        "--public-attributes",
        "verify=true",
        "--private-attributes",
        "sign=true",
    ]);
    cu(sim, &args);
}

/// A key pair made by `openssl genpkey -algorithm ALGORITHM -pkeyopt OPTION`: the private
/// key at `key`, its public key (SubjectPublicKeyInfo PEM) at `public`.
fn openssl_key_pair(key: &Path, public: &Path, algorithm: &str, option: &str) {
    let made = openssl(&[
        "genpkey",
        "-algorithm",
        algorithm,
        "-pkeyopt",
        option,
        "-out",
        p(key),
    ]);
    assert!(made.0, "openssl genpkey {algorithm}: {}", made.1);
    assert!(openssl(&["pkey", "-in", p(key), "-pubout", "-out", p(public)]).0);
}

/// `key import pem` of the public key at `path` as the crypto user; the response.
fn import_pem(sim: &Sim, path: &Path, label: &str, class: &str, attributes: &str) -> Value {
    cu(
        sim,
        &[
            "key",
            "import",
            "pem",
            "--path",
            p(path),
            "--label",
            label,
            "--key-type-class",
            class,
            "--attributes",
            attributes,
        ],
    )
}

fn export(sim: &Sim, label: &str) -> std::path::PathBuf {
    let path = sim.dir.path().join(format!("{label}.pem"));
    let filter = format!("attr.label={label}");
    cu(
        sim,
        &[
            "key",
            "generate-file",
            "--encoding",
            "pem",
            "--path",
            p(&path),
            "--filter",
            &filter,
        ],
    );
    path
}

/// Raw r||s (as the CLI prints ECDSA signatures) to the DER that OpenSSL reads.
fn ecdsa_der(raw: &[u8]) -> Vec<u8> {
    fn int(bytes: &[u8]) -> Vec<u8> {
        let mut v: Vec<u8> = bytes.iter().copied().skip_while(|b| *b == 0).collect();
        if v.first().is_none_or(|b| b & 0x80 != 0) {
            v.insert(0, 0);
        }
        let mut out = vec![0x02, v.len() as u8];
        out.extend(v);
        out
    }
    let (r, s) = raw.split_at(raw.len() / 2);
    let body = [int(r), int(s)].concat();
    let mut out = vec![0x30];
    if body.len() >= 0x80 {
        out.extend([0x81, body.len() as u8]);
    } else {
        out.push(body.len() as u8);
    }
    out.extend(body);
    out
}

#[test]
fn exported_rsa_key_is_what_the_attributes_say_and_signatures_verify_in_openssl() {
    let sim = sim();
    pair(
        &sim,
        &argv("rsa --modulus-size-bits 2048 --public-exponent 65537"),
        "rsa",
    );
    let pem = export(&sim, "rsa-pub");
    let (ok, text) = openssl(&["rsa", "-pubin", "-in", p(&pem), "-noout", "-modulus"]);
    assert!(ok, "{text}");
    let listed = cu(
        &sim,
        &["key", "list", "--filter", "attr.label=rsa-pub", "--verbose"],
    );
    let modulus = listed["data"]["matched_keys"][0]["attributes"]["modulus"]
        .as_str()
        .expect("modulus")
        .trim_start_matches("0x")
        .to_ascii_uppercase();
    assert_eq!(text.trim().trim_start_matches("Modulus="), modulus);

    let data = sim.dir.path().join("data.bin");
    std::fs::write(&data, b"the quick brown fox").expect("write data");
    for hash in ["sha1", "sha224", "sha256", "sha384", "sha512"] {
        let v = cu(
            &sim,
            &[
                "crypto",
                "sign",
                "rsa-pkcs",
                "--key-filter",
                "attr.label=rsa-priv",
                "--hash-function",
                hash,
                "--data-path",
                p(&data),
            ],
        );
        let sig = sim.dir.path().join(format!("rsa-{hash}.sig"));
        std::fs::write(
            &sig,
            unb64(ok_data(&v)["signature"].as_str().expect("signature")),
        )
        .expect("write sig");
        let (ok, text) = openssl(&[
            "dgst",
            &format!("-{hash}"),
            "-verify",
            p(&pem),
            "-signature",
            p(&sig),
            p(&data),
        ]);
        assert!(ok, "rsa-pkcs {hash}: {text}");

        let v = cu(
            &sim,
            &[
                "crypto",
                "sign",
                "rsa-pkcs-pss",
                "--key-filter",
                "attr.label=rsa-priv",
                "--hash-function",
                hash,
                "--mgf",
                &format!("mgf1-{hash}"),
                "--salt-length",
                "20",
                "--data-path",
                p(&data),
            ],
        );
        std::fs::write(
            &sig,
            unb64(ok_data(&v)["signature"].as_str().expect("signature")),
        )
        .expect("write sig");
        let (ok, text) = openssl(&[
            "dgst",
            &format!("-{hash}"),
            "-sigopt",
            "rsa_padding_mode:pss",
            "-sigopt",
            "rsa_pss_saltlen:20",
            "-verify",
            p(&pem),
            "-signature",
            p(&sig),
            p(&data),
        ]);
        assert!(ok, "rsa-pkcs-pss {hash}: {text}");
    }
}

#[test]
fn ecdsa_signatures_verify_in_openssl_on_every_curve() {
    let sim = sim();
    let data = sim.dir.path().join("data.bin");
    std::fs::write(&data, b"message for ecdsa").expect("write data");
    for curve in [
        "prime256v1",
        "secp224r1",
        "secp256k1",
        "secp384r1",
        "secp521r1",
    ] {
        pair(&sim, &["ec", "--curve", curve], curve);
        let pem = export(&sim, &format!("{curve}-pub"));
        let filter = format!("attr.label={curve}-priv");
        let v = cu(
            &sim,
            &[
                "crypto",
                "sign",
                "ecdsa",
                "--key-filter",
                &filter,
                "--hash-function",
                "sha256",
                "--data-path",
                p(&data),
            ],
        );
        let raw = unb64(ok_data(&v)["signature"].as_str().expect("signature"));
        let sig = sim.dir.path().join(format!("{curve}.sig"));
        std::fs::write(&sig, ecdsa_der(&raw)).expect("write sig");
        let (ok, text) = openssl(&[
            "dgst",
            "-sha256",
            "-verify",
            p(&pem),
            "-signature",
            p(&sig),
            p(&data),
        ]);
        assert!(ok, "ecdsa on {curve}: {text}");
    }
}

#[test]
fn ed25519_signatures_verify_in_openssl() {
    let sim = sim();
    pair(&sim, &["ec", "--curve", "ed25519"], "ed");
    let pem = export(&sim, "ed-pub");
    let data = sim.dir.path().join("data.bin");
    std::fs::write(&data, b"abc").expect("write data");
    let v = cu(
        &sim,
        &[
            "crypto",
            "sign",
            "ed25519",
            "--key-filter",
            "attr.label=ed-priv",
            "--data",
            &b64(b"abc"),
        ],
    );
    let sig = sim.dir.path().join("ed.sig");
    std::fs::write(
        &sig,
        unb64(ok_data(&v)["signature"].as_str().expect("signature")),
    )
    .expect("write sig");
    let (ok, text) = openssl(&[
        "pkeyutl",
        "-verify",
        "-pubin",
        "-inkey",
        p(&pem),
        "-rawin",
        "-in",
        p(&data),
        "-sigfile",
        p(&sig),
    ]);
    assert!(ok, "ed25519: {text}");
}

#[test]
fn openssl_keys_import_and_openssl_signatures_verify_in_the_cli() {
    let sim = sim();
    let dir = sim.dir.path();
    let data = dir.join("data.bin");
    std::fs::write(&data, b"signed by openssl").expect("write data");
    // RSA: same modulus after import; an OpenSSL PKCS#1 v1.5 signature verifies.
    let key = dir.join("rsa.key");
    let public = dir.join("rsa.pub.pem");
    openssl_key_pair(&key, &public, "RSA", "rsa_keygen_bits:2048");
    let v = import_pem(&sim, &public, "ossl-rsa", "rsa-public", "verify=true");
    let modulus = ok_data(&v)["key"]["attributes"]["modulus"]
        .as_str()
        .expect("modulus")
        .trim_start_matches("0x")
        .to_ascii_uppercase();
    let (_, text) = openssl(&["rsa", "-pubin", "-in", p(&public), "-noout", "-modulus"]);
    assert_eq!(text.trim().trim_start_matches("Modulus="), modulus);
    assert_eq!(ok_data(&v)["key"]["attributes"]["local"], false);
    let sig = dir.join("rsa.sig");
    assert!(
        openssl(&[
            "dgst",
            "-sha256",
            "-sign",
            p(&key),
            "-out",
            p(&sig),
            p(&data)
        ])
        .0
    );
    cu(
        &sim,
        &[
            "crypto",
            "verify",
            "rsa-pkcs",
            "--key-filter",
            "attr.label=ossl-rsa",
            "--hash-function",
            "sha256",
            "--data-path",
            p(&data),
            "--signature-path",
            p(&sig),
        ],
    );
    // A tampered message fails with the documented text and exit status 1.
    let other = dir.join("other.bin");
    std::fs::write(&other, b"signed by someone else").expect("write data");
    let run = sim.cli_env(
        &[
            "crypto",
            "verify",
            "rsa-pkcs",
            "--key-filter",
            "attr.label=ossl-rsa",
            "--hash-function",
            "sha256",
            "--data-path",
            p(&other),
            "--signature-path",
            p(&sig),
        ],
        CU,
    );
    assert_eq!(run.code, 1);
    assert_eq!(run.one()["data"], "Signature verification failed");

    // EC P-256: same point after import.
    let key = dir.join("ec.key");
    let public = dir.join("ec.pub.pem");
    openssl_key_pair(&key, &public, "EC", "ec_paramgen_curve:P-256");
    let v = import_pem(&sim, &public, "ossl-ec", "ec-public", "verify=true");
    let point = ok_data(&v)["key"]["attributes"]["ec-point"]
        .as_str()
        .expect("ec-point")
        .to_string();
    let (_, text) = openssl(&["pkey", "-pubin", "-in", p(&public), "-noout", "-text"]);
    let openssl_hex: String = text
        .lines()
        .skip_while(|l| !l.starts_with("pub:"))
        .skip(1)
        .take_while(|l| l.starts_with(' '))
        .flat_map(|l| l.trim().split(':'))
        .filter(|s| !s.is_empty())
        .collect();
    assert_eq!(point, format!("0x{openssl_hex}"));
}

#[test]
fn the_same_seed_makes_the_same_keys() {
    let run = || {
        let sim = Sim::with_crypto_user("admin-pw-1", "cu1", "cu1-password");
        let env = [CU[0], CU[1], ("CLOUDHSM_SIM_SEED", "42")];
        for args in [
            argv("key generate-symmetric aes --label a --key-length-bytes 32"),
            argv(
                "key generate-asymmetric-pair ec --curve secp384r1 --public-label p \
                 --private-label q",
            ),
            argv(
                "key generate-asymmetric-pair rsa --modulus-size-bits 2048 --public-exponent \
                 65537 --public-label r --private-label s",
            ),
        ] {
            assert_eq!(sim.cli_env(&args, &env).code, 0);
        }
        let v = sim.cli_env(&["key", "list", "--verbose"], &env).one();
        let pem = export(&sim, "r");
        (v, std::fs::read(pem).expect("pem"))
    };
    let (a, pem_a) = run();
    let (b, pem_b) = run();
    assert_eq!(a["data"]["total_key_count"], 5);
    assert_eq!(a, b, "the same seed and commands gave different keys");
    assert_eq!(pem_a, pem_b);
    let refs: Vec<&str> = a["data"]["matched_keys"]
        .as_array()
        .expect("keys")
        .iter()
        .map(|k| k["key-reference"].as_str().expect("ref"))
        .collect();
    assert_eq!(
        refs,
        [
            "0x0000000000000030",
            "0x0000000000000031",
            "0x0000000000000032",
            "0x0000000000000033",
            "0x0000000000000034"
        ]
    );
}

#[test]
fn twenty_five_keys_page_by_ten_each_exactly_once() {
    let sim = sim();
    let mut script =
        String::from("login --username cu1 --role crypto-user --password cu1-password\n");
    for i in 0..25 {
        script.push_str(&format!(
            "key generate-symmetric aes --label k{i:02} --key-length-bytes 16\n"
        ));
    }
    assert_eq!(sim.piped(&script).code, 0);
    let mut seen = Vec::new();
    let mut token: Option<String> = None;
    let mut pages = 0;
    loop {
        let mut args = vec!["key", "list", "--max-items", "10"];
        if let Some(t) = &token {
            args.extend(["--starting-token", t.as_str()]);
        }
        let v = cu(&sim, &args);
        let data = ok_data(&v);
        assert_eq!(data["total_key_count"], 25);
        for k in data["matched_keys"].as_array().expect("matched_keys") {
            seen.push(
                k["attributes"]["label"]
                    .as_str()
                    .expect("label")
                    .to_string(),
            );
        }
        pages += 1;
        match data.get("next_token") {
            Some(t) => token = Some(t.as_str().expect("next_token is a string").to_string()),
            None => break,
        }
        assert!(pages < 5, "pagination does not end");
    }
    assert_eq!(pages, 3);
    let want: Vec<String> = (0..25).map(|i| format!("k{i:02}")).collect();
    assert_eq!(seen, want, "every key exactly once, in reference order");
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// The check value OpenSSL computes for an AES key: AES-ECB of a zero block, first 3 bytes.
fn openssl_aes_check_value(dir: &Path, key: &[u8]) -> String {
    let zero = dir.join("zero.bin");
    let out = dir.join("ecb.bin");
    std::fs::write(&zero, [0u8; 16]).expect("write zero block");
    let cipher = format!("-aes-{}-ecb", key.len() * 8);
    let (ok, text) = openssl(&[
        "enc",
        &cipher,
        "-nopad",
        "-K",
        &hex(key),
        "-in",
        p(&zero),
        "-out",
        p(&out),
    ]);
    assert!(ok, "{text}");
    let block = std::fs::read(out).expect("read ecb output");
    format!("0x{}", hex(&block[..3]))
}

#[test]
fn wrapped_keys_cross_the_border_with_openssl_in_both_directions() {
    let sim = sim();
    let dir = sim.dir.path();
    // An RSA wrapping key made by OpenSSL, imported as AWS KMS scripts do.
    let kms_key = dir.join("kms.key");
    let kms_pub = dir.join("kms.pub.pem");
    openssl_key_pair(&kms_key, &kms_pub, "RSA", "rsa_keygen_bits:2048");
    import_pem(
        &sim,
        &kms_pub,
        "kms-wrapping-key",
        "rsa-public",
        "wrap=true",
    );
    let v = cu(
        &sim,
        &argv("key generate-symmetric aes --label data-key --key-length-bytes 32"),
    );
    let check_value = ok_data(&v)["key"]["attributes"]["check-value"]
        .as_str()
        .expect("check value")
        .to_string();

    // rsa-oaep: OpenSSL decrypts the wrapped key; its check value is the key's.
    let blob = dir.join("oaep.bin");
    cu(
        &sim,
        &[
            "key",
            "wrap",
            "rsa-oaep",
            "--payload-filter",
            "attr.label=data-key",
            "--wrapping-filter",
            "attr.label=kms-wrapping-key",
            "--hash-function",
            "sha256",
            "--mgf",
            "mgf1-sha256",
            "--path",
            p(&blob),
        ],
    );
    let plain = dir.join("oaep.key");
    openssl_oaep_sha256_decrypt(&kms_key, &blob, &plain);
    let key_bytes = std::fs::read(&plain).expect("unwrapped key");
    assert_eq!(key_bytes.len(), 32);
    assert_eq!(openssl_aes_check_value(dir, &key_bytes), check_value);

    // rsa-aes (the layout AWS KMS imports): OAEP-wrapped AES-256 key, then RFC 5649 key wrap.
    let blob = dir.join("rsa-aes.bin");
    cu(
        &sim,
        &[
            "key",
            "wrap",
            "rsa-aes",
            "--payload-filter",
            "attr.label=data-key",
            "--wrapping-filter",
            "attr.label=kms-wrapping-key",
            "--hash-function",
            "sha256",
            "--mgf",
            "mgf1-sha256",
            "--path",
            p(&blob),
        ],
    );
    let data = std::fs::read(&blob).expect("rsa-aes blob");
    let (rsa_part, kwp_part) = data.split_at(256);
    let rsa_file = dir.join("rsa-part.bin");
    let kwp_file = dir.join("kwp-part.bin");
    let ephemeral = dir.join("ephemeral.key");
    std::fs::write(&rsa_file, rsa_part).expect("write");
    std::fs::write(&kwp_file, kwp_part).expect("write");
    openssl_oaep_sha256_decrypt(&kms_key, &rsa_file, &ephemeral);
    let ephemeral_key = std::fs::read(&ephemeral).expect("ephemeral key");
    let unwrapped = dir.join("kwp.key");
    let (ok, text) = openssl(&[
        "enc",
        "-d",
        "-id-aes256-wrap-pad",
        "-K",
        &hex(&ephemeral_key),
        "-iv",
        "A65959A6",
        "-in",
        p(&kwp_file),
        "-out",
        p(&unwrapped),
    ]);
    assert!(ok, "{text}");
    assert_eq!(std::fs::read(&unwrapped).expect("payload"), key_bytes);

    // The other way: OpenSSL wraps a key for the HSM's RSA key, the CLI unwraps it.
    pair(
        &sim,
        &argv("rsa --modulus-size-bits 2048 --public-exponent 65537"),
        "hsm-rsa",
    );
    cu(
        &sim,
        &argv("key set-attribute --filter attr.label=hsm-rsa-pub --name wrap --value true"),
    );
    cu(
        &sim,
        &argv("key set-attribute --filter attr.label=hsm-rsa-priv --name unwrap --value true"),
    );
    let hsm_pub = export(&sim, "hsm-rsa-pub");
    let secret = [0x42u8; 16];
    let secret_file = dir.join("secret.bin");
    std::fs::write(&secret_file, secret).expect("write secret");
    let wrapped = dir.join("from-openssl.bin");
    let (ok, text) = openssl(&[
        "pkeyutl",
        "-encrypt",
        "-pubin",
        "-inkey",
        p(&hsm_pub),
        "-pkeyopt",
        "rsa_padding_mode:oaep",
        "-pkeyopt",
        "rsa_oaep_md:sha256",
        "-pkeyopt",
        "rsa_mgf1_md:sha256",
        "-in",
        p(&secret_file),
        "-out",
        p(&wrapped),
    ]);
    assert!(ok, "{text}");
    let v = cu(
        &sim,
        &[
            "key",
            "unwrap",
            "rsa-oaep",
            "--filter",
            "attr.label=hsm-rsa-priv",
            "--hash-function",
            "sha256",
            "--mgf",
            "mgf1-sha256",
            "--data-path",
            p(&wrapped),
            "--key-type-class",
            "aes",
            "--label",
            "from-openssl",
            "--attributes",
            "encrypt=true",
        ],
    );
    let attrs = &ok_data(&v)["key"]["attributes"];
    assert_eq!(
        attrs["check-value"].as_str(),
        Some(openssl_aes_check_value(dir, &secret).as_str())
    );
    assert_eq!(attrs["local"], false);

    // A generic secret wrapped by OpenSSL: the CLI's HMAC equals OpenSSL's.
    let mac_key = [0x07u8; 32];
    std::fs::write(&secret_file, mac_key).expect("write mac key");
    let (ok, text) = openssl(&[
        "pkeyutl",
        "-encrypt",
        "-pubin",
        "-inkey",
        p(&hsm_pub),
        "-pkeyopt",
        "rsa_padding_mode:pkcs1",
        "-in",
        p(&secret_file),
        "-out",
        p(&wrapped),
    ]);
    assert!(ok, "{text}");
    cu(
        &sim,
        &[
            "key",
            "unwrap",
            "rsa-pkcs",
            "--filter",
            "attr.label=hsm-rsa-priv",
            "--data-path",
            p(&wrapped),
            "--key-type-class",
            "generic-secret",
            "--label",
            "mac-key",
        ],
    );
    let message = dir.join("message.bin");
    std::fs::write(&message, b"authenticate me").expect("write message");
    let v = cu(
        &sim,
        &[
            "crypto",
            "mac",
            "hmac",
            "--key-filter",
            "attr.label=mac-key",
            "--hash-function",
            "sha256",
            "--data-path",
            p(&message),
        ],
    );
    let mac = unb64(ok_data(&v)["mac"].as_str().expect("mac"));
    let (ok, text) = openssl(&[
        "dgst",
        "-sha256",
        "-mac",
        "HMAC",
        "-macopt",
        &format!("hexkey:{}", hex(&mac_key)),
        "-hex",
        p(&message),
    ]);
    assert!(ok, "{text}");
    assert!(
        text.trim().ends_with(&hex(&mac)),
        "openssl: {text}, cli: {}",
        hex(&mac)
    );

    // Digest: equal to OpenSSL's for every hash.
    for h in ["sha1", "sha224", "sha256", "sha384", "sha512"] {
        let v = cu(
            &sim,
            &[
                "crypto",
                "digest",
                "--hash-function",
                h,
                "--data-path",
                p(&message),
            ],
        );
        let digest = unb64(ok_data(&v)["digest"].as_str().expect("digest"));
        let (_, text) = openssl(&["dgst", &format!("-{h}"), "-hex", p(&message)]);
        assert!(text.trim().ends_with(&hex(&digest)), "{h}: openssl {text}");
    }
}

#[test]
fn the_documented_ecdsa_recipe_verifies_in_openssl() {
    let sim = sim();
    for curve in ["secp256r1", "secp384r1", "secp521r1"] {
        let dir = tempfile::tempdir().unwrap();
        pair(&sim, &["ec", "--curve", curve], "ec-signer");
        let public = export(&sim, "ec-signer-pub");
        std::fs::copy(&public, dir.path().join("ec-signer-pub.pem")).unwrap();
        std::fs::write(dir.path().join("msg.bin"), b"a message to sign").unwrap();
        // docs/scripting.md, as printed: sign, raw r||s to DER, `openssl dgst -verify`.
        let recipe =
            common::doc_block("scripting.md", "### An ECDSA signature, checked by OpenSSL");
        let run = common::run_bash(&sim, dir.path(), &recipe, CU);
        assert_eq!(
            run.code,
            0,
            "{curve}: {}\n{}",
            run.stdout_text(),
            run.stderr
        );
        assert_eq!(run.stdout_text().trim(), "Verified OK", "{curve}");
        // The same recipe rejects a signature over other data.
        let tampered = recipe.replace("openssl dgst", "echo tampered > msg.bin; openssl dgst");
        let run = common::run_bash(&sim, dir.path(), &tampered, CU);
        assert_ne!(run.code, 0, "{curve}: a wrong message verified");
        cu(&sim, &argv("key delete --filter attr.label=ec-signer-priv"));
        cu(&sim, &argv("key delete --filter attr.label=ec-signer-pub"));
    }
}
