//! Key material never leaves the emulator except through the documented commands.
//!
//! The test generates keys of every kind, exports each one with `key wrap rsa-aes` under an
//! RSA key whose private half only the test holds (made by OpenSSL), and opens the wrapped
//! blobs with OpenSSL to learn the secret bytes: AES and generic-secret key values, EC and
//! Ed25519 private scalars, RSA private exponents and primes, ML-DSA seeds. It checks that
//! those bytes are the real keys (an AES-GCM ciphertext and an HMAC of the emulator are
//! reproduced from them, the private keys give the public keys the emulator prints).
//!
//! Then it runs everything else a user can run on those keys, as the owner, as a user the
//! keys are shared with, as an admin and in table output: listings, `--verbose`, key files
//! (`pem`, `reference-pem`), masked objects, signatures, failures of every kind (wrong
//! mechanism, a private key fed to `key import pem`, bad unwraps, refused wraps), status
//! commands. No stdout, stderr or written file contains the secrets, raw, in hex (either
//! case) or in base64 (at any alignment), whole or in part. The state directory holds the
//! material by design and is not searched; passwords are covered by `tests/process.rs`.

#![allow(clippy::unwrap_used, clippy::expect_used)] // test code: a panic is a failure report

mod common;

use std::path::PathBuf;
use std::process::Command;

use base64::Engine;
use common::*;

const ADMIN_PW: &str = "admin-pw-1";
const OWNER_PIN: &str = "owner:owner-pw-1";
const SHAREE_PIN: &str = "sharee:sharee-pw-1";

fn b64() -> base64::engine::GeneralPurpose {
    base64::engine::general_purpose::STANDARD
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn unhex(s: &str) -> Vec<u8> {
    let s: String = s.chars().filter(|c| c.is_ascii_hexdigit()).collect();
    (0..s.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&s[i..i + 2], 16).unwrap())
        .collect()
}

fn openssl(args: &[&str]) -> Vec<u8> {
    let out = Command::new("openssl")
        .args(args)
        .output()
        .expect("the openssl binary is needed for this test");
    assert!(
        out.status.success(),
        "openssl {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    out.stdout
}

/// The hex block that follows `label:` in `openssl pkey -text` output.
fn text_field(text: &str, label: &str) -> Vec<u8> {
    let mut lines = text.lines().skip_while(|l| l.trim() != label);
    assert!(lines.next().is_some(), "no {label} in:\n{text}");
    let hexes: String = lines
        .take_while(|l| l.starts_with(' '))
        .map(str::trim)
        .collect();
    let mut bytes = unhex(&hexes);
    while bytes.first() == Some(&0) && bytes.len() > 1 {
        bytes.remove(0);
    }
    bytes
}

/// Ways a secret could be written out: raw, hex in both cases, base64 at the three
/// alignments; for the whole secret and for windows of it.
fn needles(secret: &[u8], windows: bool) -> Vec<Vec<u8>> {
    let mut parts: Vec<&[u8]> = vec![secret];
    if windows && secret.len() >= 24 {
        let mid = secret.len() / 2;
        parts.extend([
            &secret[..12],
            &secret[mid - 6..mid + 6],
            &secret[secret.len() - 12..],
        ]);
    }
    let mut out = Vec::new();
    for p in parts {
        out.push(p.to_vec());
        out.push(hex(p).into_bytes());
        out.push(hex(p).to_uppercase().into_bytes());
        for skip in 0..3 {
            // The base64 of `p` from byte `skip` on, cut to whole 3-byte groups: the same
            // characters appear wherever `p` sits in a longer base64 text at that alignment.
            let body = &p[skip..];
            let whole = body.len() - body.len() % 3;
            if whole >= 9 {
                out.push(b64().encode(&body[..whole]).into_bytes());
            }
        }
    }
    out
}

struct Secret {
    what: String,
    bytes: Vec<u8>,
    /// Whether parts of it are secret too (not for a PKCS#8 key, which holds the public key).
    windows: bool,
}

struct Fixture {
    sim: Sim,
    /// The test's own files (OpenSSL keys, unwrapped plaintext): never scanned.
    private: tempfile::TempDir,
    /// Where the commands write their files: every file here is scanned.
    out: PathBuf,
}

impl Fixture {
    fn mine(&self, name: &str) -> PathBuf {
        self.private.path().join(name)
    }

    fn out(&self, name: &str) -> String {
        self.out.join(name).display().to_string()
    }
}

/// Everything a user saw: (what, bytes).
type Seen = Vec<(String, Vec<u8>)>;

fn record(seen: &mut Seen, what: &str, run: &Run) {
    seen.push((format!("{what} (stdout)"), run.stdout.clone()));
    seen.push((format!("{what} (stderr)"), run.stderr.clone().into_bytes()));
}

fn as_user(f: &Fixture, pin: &str, role: &str, args: &[&str], seen: &mut Seen) -> Run {
    let run = f
        .sim
        .cli_env(args, &[("CLOUDHSM_ROLE", role), ("CLOUDHSM_PIN", pin)]);
    record(seen, &args.join(" "), &run);
    run
}

fn owner(f: &Fixture, args: &[&str], seen: &mut Seen) -> Run {
    as_user(f, OWNER_PIN, "crypto-user", args, seen)
}

/// Opens an RSA-AES blob with OpenSSL: OAEP(SHA-256) for the AES key, then RFC 5649.
fn open_rsa_aes(f: &Fixture, blob: &[u8], name: &str) -> Vec<u8> {
    let (encrypted_key, wrapped) = blob.split_at(256);
    let ek = f.mine(&format!("{name}.ek"));
    std::fs::write(&ek, encrypted_key).unwrap();
    let key = f.mine("kek.pem");
    let aes = openssl(&[
        "pkeyutl",
        "-decrypt",
        "-inkey",
        key.to_str().unwrap(),
        "-in",
        ek.to_str().unwrap(),
        "-pkeyopt",
        "rsa_padding_mode:oaep",
        "-pkeyopt",
        "rsa_oaep_md:sha256",
        "-pkeyopt",
        "rsa_mgf1_md:sha256",
    ]);
    let w = f.mine(&format!("{name}.wrapped"));
    std::fs::write(&w, wrapped).unwrap();
    openssl(&[
        "enc",
        "-d",
        "-id-aes256-wrap-pad",
        "-K",
        &hex(&aes),
        "-iv",
        "A65959A6",
        "-in",
        w.to_str().unwrap(),
    ])
}

/// The secret fields of a PKCS#8 private key, and its public key (SPKI DER) as OpenSSL
/// derives it.
fn private_parts(f: &Fixture, der: &[u8], name: &str) -> (Vec<(String, Vec<u8>)>, Vec<u8>) {
    let path = f.mine(&format!("{name}.p8"));
    std::fs::write(&path, der).unwrap();
    let p = path.to_str().unwrap();
    let text = String::from_utf8(openssl(&[
        "pkey", "-inform", "DER", "-in", p, "-text", "-noout",
    ]))
    .unwrap();
    let labels: &[&str] = if text.contains("privateExponent:") {
        &[
            "privateExponent:",
            "prime1:",
            "prime2:",
            "exponent1:",
            "exponent2:",
            "coefficient:",
        ]
    } else {
        &["priv:"]
    };
    let parts = labels
        .iter()
        .map(|l| (format!("{name} {l}"), text_field(&text, l)))
        .collect();
    let spki = openssl(&[
        "pkey", "-inform", "DER", "-in", p, "-pubout", "-outform", "DER",
    ]);
    (parts, spki)
}

fn pem_der(pem: &[u8]) -> Vec<u8> {
    let text = String::from_utf8_lossy(pem);
    let body: String = text.lines().filter(|l| !l.starts_with("-----")).collect();
    b64().decode(body).unwrap()
}

#[test]
fn key_material_appears_in_no_output_but_the_wrapped_export() {
    let sim = Sim::with_crypto_user(ADMIN_PW, "owner", "owner-pw-1");
    let admin_pin = format!("admin:{ADMIN_PW}");
    let run = sim.cli_env(
        &argv("user create --username sharee --role crypto-user --password sharee-pw-1"),
        &[("CLOUDHSM_ROLE", "admin"), ("CLOUDHSM_PIN", &admin_pin)],
    );
    assert_eq!(run.code, 0, "{}", run.stdout_text());
    let out = sim.dir.path().join("outputs");
    std::fs::create_dir(&out).unwrap();
    let f = Fixture {
        sim,
        private: tempfile::tempdir().unwrap(),
        out,
    };
    let mut seen: Seen = Vec::new();

    // The export key: RSA-2048 made by OpenSSL, its public half imported with wrap=true.
    let kek = f.mine("kek.pem");
    let kek_pub = f.out("kek-pub.pem");
    openssl(&[
        "genpkey",
        "-algorithm",
        "RSA",
        "-pkeyopt",
        "rsa_keygen_bits:2048",
        "-out",
        kek.to_str().unwrap(),
    ]);
    openssl(&[
        "pkey",
        "-in",
        kek.to_str().unwrap(),
        "-pubout",
        "-out",
        &kek_pub,
    ]);
    let run = owner(
        &f,
        &[
            "key",
            "import",
            "pem",
            "--path",
            &kek_pub,
            "--label",
            "kek",
            "--key-type-class",
            "rsa-public",
            "--attributes",
            "wrap=true",
        ],
        &mut seen,
    );
    assert_eq!(run.code, 0, "{}", run.stdout_text());

    // Keys of every kind, shared with another crypto user.
    let generate: &[&[&str]] = &[
        &argv(
            "key generate-symmetric aes --label s-aes --key-length-bytes 32 --attributes \
             encrypt=true decrypt=true",
        ),
        &argv("key generate-symmetric generic-secret --label s-gs --key-length-bytes 48"),
        &argv(
            "key generate-asymmetric-pair ec --curve prime256v1 --public-label s-ec-pub \
             --private-label s-ec --private-attributes sign=true",
        ),
        &argv(
            "key generate-asymmetric-pair ec --curve secp384r1 --public-label s-p384-pub \
             --private-label s-p384 --private-attributes sign=true",
        ),
        &argv(
            "key generate-asymmetric-pair ec --curve ed25519 --public-label s-ed-pub \
             --private-label s-ed --private-attributes sign=true",
        ),
        &argv(
            "key generate-asymmetric-pair rsa --modulus-size-bits 2048 --public-exponent 65537 \
             --public-label s-rsa-pub --private-label s-rsa --private-attributes sign=true \
             decrypt=true",
        ),
        &argv(
            "key generate-asymmetric-pair ml-dsa --mldsa-algorithm ML-DSA-44 --public-label \
             s-ml-pub --private-label s-ml --private-attributes sign=true",
        ),
    ];
    for args in generate {
        let run = owner(&f, args, &mut seen);
        assert_eq!(run.code, 0, "{args:?}: {}", run.stdout_text());
    }
    for label in ["s-aes", "s-gs", "s-ec", "s-ed", "s-rsa", "s-ml"] {
        let filter = format!("attr.label={label}");
        let run = owner(
            &f,
            &[
                "key",
                "share",
                "--filter",
                &filter,
                "--username",
                "sharee",
                "--role",
                "crypto-user",
            ],
            &mut seen,
        );
        assert_eq!(run.code, 0, "share {label}: {}", run.stdout_text());
    }

    // Export each key and learn its secret bytes.
    let export = |label: &str, seen: &mut Seen| -> Vec<u8> {
        let payload = format!("attr.label={label}");
        let run = owner(
            &f,
            &[
                "key",
                "wrap",
                "rsa-aes",
                "--payload-filter",
                &payload,
                "--wrapping-filter",
                "attr.label=kek",
                "--hash-function",
                "sha256",
                "--mgf",
                "mgf1-sha256",
            ],
            seen,
        );
        assert_eq!(run.code, 0, "wrap {label}: {}", run.stdout_text());
        let v = run.one();
        let blob = b64()
            .decode(ok_data(&v)["wrapped_key_data"].as_str().unwrap())
            .unwrap();
        open_rsa_aes(&f, &blob, label)
    };
    let mut secrets: Vec<Secret> = Vec::new();
    let aes = export("s-aes", &mut seen);
    let gs = export("s-gs", &mut seen);
    assert_eq!((aes.len(), gs.len()), (32, 48));
    secrets.push(Secret {
        what: "AES key".into(),
        bytes: aes.clone(),
        windows: true,
    });
    secrets.push(Secret {
        what: "generic secret".into(),
        bytes: gs.clone(),
        windows: true,
    });
    for (label, public) in [
        ("s-ec", "s-ec-pub"),
        ("s-p384", "s-p384-pub"),
        ("s-ed", "s-ed-pub"),
        ("s-rsa", "s-rsa-pub"),
    ] {
        let der = export(label, &mut seen);
        let (parts, spki) = private_parts(&f, &der, label);
        // The bytes are the real key: OpenSSL derives the public key the emulator exports.
        let file = f.out(&format!("{public}.pem"));
        let filter = format!("attr.label={public}");
        let run = owner(
            &f,
            &[
                "key",
                "generate-file",
                "--encoding",
                "pem",
                "--path",
                &file,
                "--filter",
                &filter,
            ],
            &mut seen,
        );
        assert_eq!(run.code, 0, "{}", run.stdout_text());
        assert_eq!(
            pem_der(&std::fs::read(&file).unwrap()),
            spki,
            "{label}: not the key's material"
        );
        secrets.push(Secret {
            what: format!("{label} PKCS#8"),
            bytes: der,
            windows: false,
        });
        for (what, bytes) in parts {
            assert!(bytes.len() >= 16, "{what} is too short to search for");
            secrets.push(Secret {
                what,
                bytes,
                windows: true,
            });
        }
    }
    // ML-DSA: OpenSSL 3.0 does not know it; the seed is the [0] field of the PKCS#8 key.
    let ml = export("s-ml", &mut seen);
    let at = ml
        .windows(2)
        .position(|w| w == [0x80, 0x20])
        .expect("an ML-DSA seed");
    let seed = ml[at + 2..at + 34].to_vec();
    assert_eq!(at + 34, ml.len(), "the seed ends the PKCS#8 key");
    secrets.push(Secret {
        what: "ML-DSA seed".into(),
        bytes: seed,
        windows: true,
    });
    secrets.push(Secret {
        what: "ML-DSA PKCS#8".into(),
        bytes: ml.clone(),
        windows: false,
    });

    // The AES and generic-secret bytes are the real keys: reproduce the emulator's results.
    let run = owner(
        &f,
        &argv("crypto encrypt aes-gcm --key-filter attr.label=s-aes --data aGVsbG8gc2VjcmV0"),
        &mut seen,
    );
    let v = run.one();
    let d = ok_data(&v);
    let iv = unhex(d["iv"].as_str().unwrap().trim_start_matches("0x"));
    let mut ct = b64().decode(d["ciphertext"].as_str().unwrap()).unwrap();
    {
        use aws_lc_rs::aead::{Aad, LessSafeKey, Nonce, UnboundKey, AES_256_GCM};
        let key = LessSafeKey::new(UnboundKey::new(&AES_256_GCM, &aes).unwrap());
        let nonce = Nonce::try_assume_unique_for_key(&iv).unwrap();
        let plain = key
            .open_in_place(nonce, Aad::empty(), &mut ct)
            .expect("the exported AES key decrypts");
        assert_eq!(plain, b"hello secret");
    }
    let run = owner(
        &f,
        &argv(
            "crypto mac hmac --key-filter attr.label=s-gs --hash-function sha256 --data aGVsbG8=",
        ),
        &mut seen,
    );
    let v = run.one();
    let mac = ok_data(&v).to_string();
    let expected = aws_lc_rs::hmac::sign(
        &aws_lc_rs::hmac::Key::new(aws_lc_rs::hmac::HMAC_SHA256, &gs),
        b"hello",
    );
    let expected = expected.as_ref();
    assert!(
        mac.contains(&b64().encode(expected)) || mac.contains(&hex(expected)),
        "the exported generic secret does not reproduce the HMAC {mac}"
    );

    // Everything else a user can do with the keys.
    let file = |n: &str| f.out(n);
    let private_pem = f.mine("exported-private.pem");
    {
        let der = &secrets
            .iter()
            .find(|s| s.what == "s-ec PKCS#8")
            .unwrap()
            .bytes;
        let body = b64().encode(der);
        std::fs::write(
            &private_pem,
            format!("-----BEGIN PRIVATE KEY-----\n{body}\n-----END PRIVATE KEY-----\n"),
        )
        .unwrap();
        std::fs::write(f.mine("exported-private.der"), der).unwrap();
    }
    let pp = private_pem.display().to_string();
    let pd = f.mine("exported-private.der").display().to_string();
    let commands: Vec<Vec<String>> = [
        vec!["key", "list"],
        vec!["key", "list", "--verbose", "--max-items", "100"],
        argv("key list --verbose --filter attr.class=private-key"),
        vec!["key", "list", "--verbose", "--filter", "attr.key-type=aes"],
        vec![
            "key",
            "generate-file",
            "--encoding",
            "reference-pem",
            "--path",
            &file("ec.ref.pem"),
            "--filter",
            "attr.label=s-ec",
        ],
        vec![
            "key",
            "generate-file",
            "--encoding",
            "reference-pem",
            "--path",
            &file("rsa.ref.pem"),
            "--filter",
            "attr.label=s-rsa",
        ],
        vec![
            "key",
            "generate-file",
            "--encoding",
            "reference-pem",
            "--path",
            &file("ed.ref.pem"),
            "--filter",
            "attr.label=s-ed",
        ],
        vec![
            "key",
            "generate-file",
            "--encoding",
            "reference-pem",
            "--path",
            &file("ml.ref.pem"),
            "--filter",
            "attr.label=s-ml",
        ],
        vec![
            "key",
            "generate-file",
            "--encoding",
            "pem",
            "--path",
            &file("refused.pem"),
            "--filter",
            "attr.label=s-ec",
        ],
        vec![
            "key",
            "generate-file",
            "--encoding",
            "pem",
            "--path",
            &file("aes.pem"),
            "--filter",
            "attr.label=s-aes",
        ],
        vec![
            "key",
            "extract-masked",
            "--filter",
            "attr.label=s-aes",
            "--path",
            &file("aes.masked"),
        ],
        vec![
            "key",
            "extract-masked",
            "--filter",
            "attr.label=s-rsa",
            "--path",
            &file("rsa.masked"),
        ],
        argv(
            "crypto sign ecdsa --key-filter attr.label=s-ec --hash-function sha256 --data \
             aGVsbG8=",
        ),
        argv("crypto sign ed25519 --key-filter attr.label=s-ed --data aGVsbG8="),
        argv(
            "crypto sign rsa-pkcs --key-filter attr.label=s-rsa --hash-function sha256 --data \
             aGVsbG8=",
        ),
        argv(
            "crypto sign ml-dsa --key-filter attr.label=s-ml --hash-function shake256 \
             --data-type raw --data aGVsbG8=",
        ),
        // Failures on the secret keys.
        argv(
            "crypto sign ecdsa --key-filter attr.label=s-rsa --hash-function sha256 --data \
             aGVsbG8=",
        ),
        argv(
            "crypto sign rsa-pkcs --key-filter attr.label=s-aes --hash-function sha256 --data \
             aGVsbG8=",
        ),
        argv(
            "crypto sign ecdsa --key-filter attr.label=s-ec --hash-function sha256 --data-type \
             digest --data aGVsbG8=",
        ),
        argv(
            "crypto sign rsa-pkcs-pss --key-filter attr.label=s-rsa --hash-function sha512 \
             --mgf mgf1-sha512 --salt-length 4000 --data aGVsbG8=",
        ),
        argv(
            "crypto decrypt aes-gcm --key-filter attr.label=s-aes --iv 00112233445566778899aabb \
             --data AAAAAAAAAAAAAAAAAAAAAAAAAAAA",
        ),
        argv(
            "crypto decrypt rsa-oaep --key-filter attr.label=s-rsa --hash-function sha256 --mgf \
             mgf1-sha256 --data AAAA",
        ),
        argv("crypto mac hmac --key-filter attr.label=s-ec --hash-function sha256 --data aGVsbG8="),
        vec![
            "key",
            "import",
            "pem",
            "--path",
            &pp,
            "--label",
            "stolen",
            "--key-type-class",
            "ec-public",
        ],
        vec![
            "key",
            "import",
            "pem",
            "--path",
            &pd,
            "--label",
            "stolen",
            "--key-type-class",
            "ec-public",
        ],
        argv(
            "key unwrap aes-gcm --filter attr.label=s-aes --iv 00112233445566778899aabb \
             --tag-length-bits 128 --data AAAAAAAAAAAAAAAAAAAAAAAAAAAA --key-type-class aes \
             --label u",
        ),
        vec![
            "key",
            "unwrap",
            "rsa-oaep",
            "--filter",
            "attr.label=s-rsa",
            "--hash-function",
            "sha256",
            "--mgf",
            "mgf1-sha256",
            "--data-path",
            &pd,
            "--key-type-class",
            "ec-private",
            "--label",
            "u",
        ],
        argv(
            "key wrap aes-gcm --payload-filter attr.label=s-ec --wrapping-filter \
             attr.label=s-gs --tag-length-bits 128",
        ),
        argv(
            "key wrap rsa-oaep --payload-filter attr.label=s-rsa --wrapping-filter \
             attr.label=kek --hash-function sha256 --mgf mgf1-sha256",
        ),
        argv("key set-attribute --filter attr.label=s-aes --name sensitive --value false"),
        argv("key set-attribute --filter attr.label=s-gs --name extractable --value false"),
        argv(
            "key wrap rsa-aes --payload-filter attr.label=s-gs --wrapping-filter attr.label=kek \
             --hash-function sha256 --mgf mgf1-sha256",
        ),
        vec!["key", "list", "--verbose", "--filter", "attr.label=s-gs"],
    ]
    .into_iter()
    .map(|c| c.into_iter().map(str::to_string).collect())
    .collect();
    for c in &commands {
        let args: Vec<&str> = c.iter().map(String::as_str).collect();
        owner(&f, &args, &mut seen);
    }
    // The same keys through the other users' eyes, a piped session, table output, and the
    // status commands of both binaries.
    for args in [
        vec!["key", "list", "--verbose", "--max-items", "100"],
        argv(
            "crypto sign ecdsa --key-filter attr.label=s-ec --hash-function sha256 --data \
             aGVsbG8=",
        ),
    ] {
        as_user(&f, SHAREE_PIN, "crypto-user", &args, &mut seen);
    }
    as_user(
        &f,
        &admin_pin,
        "admin",
        &["key", "list", "--verbose", "--max-items", "100"],
        &mut seen,
    );
    let script = "login --username owner --role crypto-user --password owner-pw-1\n\
                  key list --verbose\nkey list --filter attr.label=s-rsa --verbose\n\
                  cluster sync-status\nlogout\nuser list\n";
    let run = f.sim.piped_env(script.as_bytes(), &[]);
    record(&mut seen, "piped session", &run);
    let run = f.sim.cli_full(
        &["interactive", "--output", "table"],
        &[],
        script.as_bytes(),
    );
    record(&mut seen, "table output", &run);
    for args in [vec!["status"], vec!["list"]] {
        let run = f.sim.sim(&args);
        record(&mut seen, &format!("cloudhsm-sim {}", args.join(" ")), &run);
    }

    // Every file the commands wrote.
    for path in files_under(&f.out) {
        seen.push((path.display().to_string(), std::fs::read(&path).unwrap()));
    }
    assert!(
        seen.len() > 100,
        "only {} outputs were collected",
        seen.len()
    );
    let searched: usize = seen.iter().map(|(_, b)| b.len()).sum();
    let mut leaks = Vec::new();
    for s in &secrets {
        for needle in needles(&s.bytes, s.windows) {
            for (what, bytes) in &seen {
                if contains_bytes(bytes, &needle) {
                    leaks.push(format!("{} found in {what}", s.what));
                }
            }
        }
    }
    leaks.sort();
    leaks.dedup();
    assert!(
        leaks.is_empty(),
        "key material leaked:\n{}",
        leaks.join("\n")
    );
    // Not vacuous: the same search finds the material where it is kept by design.
    let stored: Vec<u8> = files_under(&f.sim.home)
        .iter()
        .flat_map(|p| std::fs::read(p).unwrap())
        .collect();
    println!(
        "the AES key's bytes are {}found in the state directory",
        if contains_bytes(&stored, &aes) {
            ""
        } else {
            "not "
        }
    );
    println!(
        "{} secrets ({} needles each at most) searched for in {} outputs ({} bytes): none found",
        secrets.len(),
        needles(&[0; 32], true).len(),
        seen.len(),
        searched
    );
}
