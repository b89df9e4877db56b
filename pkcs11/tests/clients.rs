//! Real clients on the built module: OpenSC's `pkcs11-tool` and OpenSSL through libp11's
//! pkcs11 engine, each in a fixture state directory, beside the CLI that made the keys.
//! The tools come from Debian's packages (`.ci/run` installs them when missing).

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::path::Path;
use std::process::{Command, Output};

use common::{cli_ok, installed, module_path, rv_of, session, text, Fixture, CU1_PW, CU2_PW, PIN1};
use cryptoki::error::RvError;
use cryptoki::mechanism::Mechanism;
use cryptoki::object::{Attribute, ObjectClass};

/// `pkcs11-tool --module <the module> args`, on the fixture's state directory.
fn pkcs11_tool(fixture: &Fixture, args: &[&str]) -> Output {
    Command::new(installed("pkcs11-tool"))
        .arg("--module")
        .arg(module_path())
        .args(args)
        .env("CLOUDHSM_SIM_HOME", &fixture.root)
        .output()
        .unwrap()
}

/// [`pkcs11_tool`] logged in as cu1; the run must succeed. Returns stdout and stderr.
fn pkcs11_tool_cu1(fixture: &Fixture, args: &[&str]) -> (String, String) {
    let mut all = vec!["--login", "--pin", PIN1];
    all.extend_from_slice(args);
    let out = pkcs11_tool(fixture, &all);
    let (stdout, stderr) = text(&out);
    assert!(
        out.status.success(),
        "pkcs11-tool {args:?} failed:\n{stdout}\n{stderr}"
    );
    (stdout, stderr)
}

/// `openssl args` with libp11's engine pointed at the module (`PKCS11_MODULE_PATH`, which
/// libp11 0.4.12 reads when no `MODULE_PATH` is configured).
fn openssl(fixture: &Fixture, args: &[&str]) -> Output {
    Command::new(installed("openssl"))
        .args(args)
        .env("PKCS11_MODULE_PATH", module_path())
        .env("CLOUDHSM_SIM_HOME", &fixture.root)
        .output()
        .unwrap()
}

fn assert_ok(out: &Output, what: &str) -> String {
    let (stdout, stderr) = text(out);
    assert!(out.status.success(), "{what} failed:\n{stdout}\n{stderr}");
    stdout
}

/// The public key labelled `label`, written as PEM by `key generate-file`.
fn public_pem(fixture: &Fixture, label: &str, path: &Path) {
    let filter = format!("attr.label={label}");
    cli_ok(
        fixture,
        "cu1",
        CU1_PW,
        &[
            "key",
            "generate-file",
            "--encoding",
            "pem",
            "--path",
            path.to_str().unwrap(),
            "--filter",
            &filter,
        ],
    );
}

#[test]
fn pkcs11_tool_shows_the_slot_and_its_token() {
    let fixture = Fixture::new();
    let out = pkcs11_tool(&fixture, &["-L"]);
    let stdout = assert_ok(&out, "pkcs11-tool -L");
    assert!(stdout.contains("Slot 0 (0x2000000000000001)"), "{stdout}");
    assert!(stdout.contains("token label        : hsm1"), "{stdout}");
    assert!(stdout.contains("login required"), "{stdout}");
    assert!(stdout.contains("token initialized"), "{stdout}");
}

#[test]
fn pkcs11_tool_lists_the_keys_the_cli_made_for_the_user() {
    let fixture = Fixture::new();
    cli_ok(
        &fixture,
        "cu1",
        CU1_PW,
        &[
            "key",
            "generate-asymmetric-pair",
            "rsa",
            "--public-exponent",
            "65537",
            "--modulus-size-bits",
            "2048",
            "--public-label",
            "cli-rsa-pub",
            "--private-label",
            "cli-rsa",
        ],
    );
    cli_ok(
        &fixture,
        "cu2",
        CU2_PW,
        &[
            "key",
            "generate-symmetric",
            "aes",
            "--key-length-bytes",
            "32",
            "--label",
            "cu2-aes",
        ],
    );
    let (stdout, _) = pkcs11_tool_cu1(&fixture, &["-O"]);
    assert!(
        stdout.contains("Public Key Object; RSA 2048 bits"),
        "{stdout}"
    );
    assert!(stdout.contains("label:      cli-rsa-pub"), "{stdout}");
    assert!(stdout.contains("Private Key Object; RSA"), "{stdout}");
    assert!(stdout.contains("label:      cli-rsa\n"), "{stdout}");
    // cu2's secret key is not cu1's to see.
    assert!(!stdout.contains("cu2-aes"), "{stdout}");
    // Without a login no key shows: every CloudHSM key is a private object.
    let out = pkcs11_tool(&fixture, &["-O"]);
    let stdout = assert_ok(&out, "pkcs11-tool -O");
    assert!(!stdout.contains("cli-rsa"), "{stdout}");
}

#[test]
fn pkcs11_tool_makes_token_keys_and_signs_with_them() {
    let fixture = Fixture::new();
    let (ec, _) = pkcs11_tool_cu1(
        &fixture,
        &[
            "--keypairgen",
            "--key-type",
            "EC:prime256v1",
            "--usage-sign",
            "--private",
            "--label",
            "tool-ec",
            "--id",
            "01",
        ],
    );
    assert!(ec.contains("Key pair generated"), "{ec}");
    assert!(ec.contains("EC_POINT 256 bits"), "{ec}");
    assert!(ec.contains("EC_PARAMS:  06082a8648ce3d030107"), "{ec}");
    let (rsa, _) = pkcs11_tool_cu1(
        &fixture,
        &[
            "--keypairgen",
            "--key-type",
            "rsa:2048",
            "--usage-sign",
            "--private",
            "--label",
            "tool-rsa",
            "--id",
            "02",
        ],
    );
    assert!(rsa.contains("Public Key Object; RSA 2048 bits"), "{rsa}");
    assert!(rsa.contains("Usage:      sign"), "{rsa}");
    let (aes, _) = pkcs11_tool_cu1(
        &fixture,
        &[
            "--keygen",
            "--key-type",
            "AES:32",
            "--private",
            "--label",
            "tool-aes",
            "--id",
            "03",
        ],
    );
    assert!(aes.contains("Secret Key Object; AES length 32"), "{aes}");

    // pkcs11-tool made token keys: the CLI lists them as cu1's, with the template's id.
    let list = cli_ok(&fixture, "cu1", CU1_PW, &["key", "list", "--verbose"]);
    for label in ["tool-ec", "tool-rsa", "tool-aes"] {
        assert!(
            list.contains(&format!("\"label\": \"{label}\"")),
            "{label}: {list}"
        );
    }
    assert!(list.contains("\"id\": \"0x02\""), "{list}");

    // Sign and verify, selecting the key by --id (pkcs11-tool 0.23 ignores --label there).
    let dir = tempfile::tempdir().unwrap();
    let message = dir.path().join("message");
    std::fs::write(&message, b"signed by pkcs11-tool through the simulated HSM").unwrap();
    let msg = message.to_str().unwrap();
    for (mechanism, id) in [("SHA256-RSA-PKCS", "02"), ("ECDSA-SHA256", "01")] {
        let sig = dir.path().join(format!("{id}.sig"));
        let sig = sig.to_str().unwrap();
        pkcs11_tool_cu1(
            &fixture,
            &["--sign", "-m", mechanism, "--id", id, "-i", msg, "-o", sig],
        );
        let (verified, _) = pkcs11_tool_cu1(
            &fixture,
            &[
                "--verify",
                "-m",
                mechanism,
                "--id",
                id,
                "-i",
                msg,
                "--signature-file",
                sig,
            ],
        );
        assert!(
            verified.contains("Signature is valid"),
            "{mechanism}: {verified}"
        );
        // A signature of other data is refused.
        let other = dir.path().join("other");
        std::fs::write(&other, b"something else").unwrap();
        let (refused, _) = pkcs11_tool_cu1(
            &fixture,
            &[
                "--verify",
                "-m",
                mechanism,
                "--id",
                id,
                "-i",
                other.to_str().unwrap(),
                "--signature-file",
                sig,
            ],
        );
        assert!(
            refused.contains("Invalid signature"),
            "{mechanism}: {refused}"
        );
    }

    // OpenSSL verifies the RSA signature with the public key pkcs11-tool reads out.
    let der = dir.path().join("rsa.der");
    pkcs11_tool_cu1(
        &fixture,
        &[
            "--read-object",
            "--type",
            "pubkey",
            "--id",
            "02",
            "-o",
            der.to_str().unwrap(),
        ],
    );
    let pem = dir.path().join("rsa.pem");
    assert_ok(
        &openssl(
            &fixture,
            &[
                "pkey",
                "-pubin",
                "-inform",
                "DER",
                "-in",
                der.to_str().unwrap(),
                "-out",
                pem.to_str().unwrap(),
            ],
        ),
        "openssl pkey",
    );
    let sig = dir.path().join("02.sig");
    let out = openssl(
        &fixture,
        &[
            "dgst",
            "-sha256",
            "-verify",
            pem.to_str().unwrap(),
            "-signature",
            sig.to_str().unwrap(),
            msg,
        ],
    );
    assert!(assert_ok(&out, "openssl dgst -verify").contains("Verified OK"));
}

/// pkcs11-tool sets `CKA_PRIVATE` false unless `--private`, and the real CloudHSM refuses
/// any `CKA_PRIVATE` but its default, true (AWS's attribute table, footnote 1; OpenSC issue
/// #2747): the module refuses it too, and nothing is made.
#[test]
fn pkcs11_tool_without_private_is_refused_as_cloudhsm_refuses_it() {
    let fixture = Fixture::new();
    for args in [
        [
            "--keypairgen",
            "--key-type",
            "EC:prime256v1",
            "--label",
            "public-ec",
        ],
        [
            "--keypairgen",
            "--key-type",
            "rsa:2048",
            "--label",
            "public-rsa",
        ],
        ["--keygen", "--key-type", "AES:32", "--label", "public-aes"],
    ] {
        let mut all = vec!["--login", "--pin", PIN1, "--usage-sign"];
        all.extend_from_slice(&args);
        let out = pkcs11_tool(&fixture, &all);
        let (stdout, stderr) = text(&out);
        assert!(!out.status.success(), "{args:?}: {stdout}");
        assert!(
            stderr.contains("CKR_ATTRIBUTE_VALUE_INVALID"),
            "{args:?}: {stderr}"
        );
    }
    let list = cli_ok(&fixture, "cu1", CU1_PW, &["key", "list"]);
    assert!(list.contains("\"total_key_count\": 0"), "{list}");
}

#[test]
fn pkcs11_tool_lists_every_mechanism_the_module_lists() {
    let fixture = Fixture::new();
    let out = pkcs11_tool(&fixture, &["--list-mechanisms"]);
    let stdout = assert_ok(&out, "pkcs11-tool --list-mechanisms");
    assert!(
        stdout.contains("SHA256-RSA-PKCS, keySize={2048,4096}, hw, sign, verify"),
        "{stdout}"
    );
    assert!(
        stdout.contains("ECDSA-SHA256, keySize={224,521}, hw, sign, verify"),
        "{stdout}"
    );
    assert!(stdout.contains("RSA-PKCS-KEY-PAIR-GEN, keySize={2048,4096}, hw, generate_key_pair"));
    assert!(
        stdout.contains("AES-KEY-GEN, keySize={16,32}, hw, generate"),
        "{stdout}"
    );
    assert!(stdout.contains("SHA256, digest"), "{stdout}");
    // Every signature mechanism of the issue, each once.
    let listed: Vec<&str> = stdout
        .lines()
        .filter_map(|l| l.strip_prefix("  ")?.split(',').next())
        .collect();
    for name in [
        "RSA-PKCS",
        "SHA1-RSA-PKCS",
        "SHA224-RSA-PKCS",
        "SHA384-RSA-PKCS",
        "SHA512-RSA-PKCS",
        "RSA-PKCS-PSS",
        "SHA256-RSA-PKCS-PSS",
        "ECDSA",
        "ECDSA-SHA1",
        "ECDSA-SHA512",
        "SHA256-HMAC",
        "SHA512-HMAC",
        "EC-KEY-PAIR-GEN",
        "GENERIC-SECRET-KEY-GEN",
        "SHA-1",
    ] {
        let alias = if name == "EC-KEY-PAIR-GEN" {
            "ECDSA-KEY-PAIR-GEN"
        } else {
            name
        };
        let n = listed
            .iter()
            .filter(|l| **l == name || **l == alias)
            .count();
        assert_eq!(n, 1, "{name}: {stdout}");
    }
}

/// OpenSC's self test: random, digests, and signatures with every RSA mechanism it knows
/// (it checks them with OpenSSL), verification, on a key it made.
#[test]
fn pkcs11_tool_test_finds_no_errors() {
    let fixture = Fixture::new();
    pkcs11_tool_cu1(
        &fixture,
        &[
            "--keypairgen",
            "--key-type",
            "rsa:2048",
            "--usage-sign",
            "--private",
            "--label",
            "self-test",
            "--id",
            "0a",
        ],
    );
    let (stdout, stderr) = pkcs11_tool_cu1(&fixture, &["--test"]);
    assert!(stdout.contains("No errors"), "{stdout}\n{stderr}");
    assert!(stdout.contains("SHA256-RSA-PKCS: OK"), "{stdout}");
    assert!(
        stdout.contains("all 4 digest functions seem to work"),
        "{stdout}"
    );
}

/// What `--test` needs of a single-part mechanism: `C_SignUpdate` answers
/// `CKR_FUNCTION_NOT_SUPPORTED` and ends the operation; multi-part mechanisms take parts.
#[test]
fn a_single_part_mechanism_refuses_parts_as_pkcs11_tool_expects() {
    let fixture = Fixture::new();
    let pkcs11 = fixture.pkcs11();
    let s = session(&pkcs11, PIN1);
    let (public, private) = s
        .generate_key_pair(
            &Mechanism::RsaPkcsKeyPairGen,
            &[Attribute::ModulusBits(2048.into()), Attribute::Verify(true)],
            &[Attribute::Sign(true)],
        )
        .unwrap();
    s.sign_init(&Mechanism::RsaPkcs, private).unwrap();
    assert_eq!(
        rv_of(s.sign_update(b"part").unwrap_err()),
        RvError::FunctionNotSupported
    );
    assert_eq!(
        rv_of(s.sign_final().unwrap_err()),
        RvError::OperationNotInitialized
    );
    s.verify_init(&Mechanism::RsaPkcs, public).unwrap();
    assert_eq!(
        rv_of(s.verify_update(b"part").unwrap_err()),
        RvError::FunctionNotSupported
    );
    assert_eq!(
        rv_of(s.verify_final(&[0; 256]).unwrap_err()),
        RvError::OperationNotInitialized
    );
    s.sign_init(&Mechanism::Sha256RsaPkcs, private).unwrap();
    s.sign_update(b"part one, ").unwrap();
    s.sign_update(b"part two").unwrap();
    let parts = s.sign_final().unwrap();
    let whole = s
        .sign(&Mechanism::Sha256RsaPkcs, private, b"part one, part two")
        .unwrap();
    assert_eq!(parts, whole, "PKCS#1 v1.5 is deterministic");
}

/// libp11's engine signs with keys `cloudhsm-cli` generated, found by token and label in a
/// PKCS#11 URI with the `user:password` PIN in it; OpenSSL verifies with the public key the
/// CLI exports.
#[test]
fn openssl_signs_through_the_engine_with_keys_the_cli_made() {
    let fixture = Fixture::new();
    cli_ok(
        &fixture,
        "cu1",
        CU1_PW,
        &[
            "key",
            "generate-asymmetric-pair",
            "rsa",
            "--public-exponent",
            "65537",
            "--modulus-size-bits",
            "2048",
            "--public-label",
            "web-rsa-pub",
            "--private-label",
            "web-rsa",
            "--private-attributes",
            "sign=true",
        ],
    );
    cli_ok(
        &fixture,
        "cu1",
        CU1_PW,
        &[
            "key",
            "generate-asymmetric-pair",
            "ec",
            "--curve",
            "prime256v1",
            "--public-label",
            "web-ec-pub",
            "--private-label",
            "web-ec",
            "--private-attributes",
            "sign=true",
        ],
    );
    let dir = tempfile::tempdir().unwrap();
    let message = dir.path().join("message");
    std::fs::write(&message, b"a certificate request, say").unwrap();
    let msg = message.to_str().unwrap();
    for label in ["web-rsa", "web-ec"] {
        let pem = dir.path().join(format!("{label}.pem"));
        public_pem(&fixture, &format!("{label}-pub"), &pem);
        let sig = dir.path().join(format!("{label}.sig"));
        let uri = format!("pkcs11:token=hsm1;object={label};type=private;pin-value={PIN1}");
        assert_ok(
            &openssl(
                &fixture,
                &[
                    "dgst",
                    "-sha256",
                    "-engine",
                    "pkcs11",
                    "-keyform",
                    "engine",
                    "-sign",
                    &uri,
                    "-out",
                    sig.to_str().unwrap(),
                    msg,
                ],
            ),
            "openssl dgst -sign (engine)",
        );
        let out = openssl(
            &fixture,
            &[
                "dgst",
                "-sha256",
                "-verify",
                pem.to_str().unwrap(),
                "-signature",
                sig.to_str().unwrap(),
                msg,
            ],
        );
        assert!(
            assert_ok(&out, "openssl dgst -verify").contains("Verified OK"),
            "{label}"
        );

        // pkeyutl signs a hash the application made.
        let hash = dir.path().join("hash");
        std::fs::write(&hash, [7u8; 32]).unwrap();
        let sig = dir.path().join(format!("{label}.pkeyutl"));
        assert_ok(
            &openssl(
                &fixture,
                &[
                    "pkeyutl",
                    "-engine",
                    "pkcs11",
                    "-keyform",
                    "engine",
                    "-sign",
                    "-inkey",
                    &uri,
                    "-in",
                    hash.to_str().unwrap(),
                    "-pkeyopt",
                    "digest:sha256",
                    "-out",
                    sig.to_str().unwrap(),
                ],
            ),
            "openssl pkeyutl -sign (engine)",
        );
        let out = openssl(
            &fixture,
            &[
                "pkeyutl",
                "-verify",
                "-pubin",
                "-inkey",
                pem.to_str().unwrap(),
                "-in",
                hash.to_str().unwrap(),
                "-sigfile",
                sig.to_str().unwrap(),
                "-pkeyopt",
                "digest:sha256",
            ],
        );
        let stdout = assert_ok(&out, "openssl pkeyutl -verify");
        assert!(
            stdout.contains("Signature Verified Successfully"),
            "{label}: {stdout}"
        );
    }
    // A wrong PIN signs nothing.
    let uri = "pkcs11:token=hsm1;object=web-rsa;type=private;pin-value=cu1:wrong-password";
    let sig = dir.path().join("refused.sig");
    let out = openssl(
        &fixture,
        &[
            "dgst",
            "-sha256",
            "-engine",
            "pkcs11",
            "-keyform",
            "engine",
            "-sign",
            uri,
            "-out",
            sig.to_str().unwrap(),
            msg,
        ],
    );
    assert!(!out.status.success(), "{:?}", text(&out));
}

/// DER `ECDSA-Sig-Value` of a PKCS#11 ECDSA signature (`r ‖ s`, each half the length).
fn ecdsa_der(raw: &[u8]) -> Vec<u8> {
    fn integer(half: &[u8]) -> Vec<u8> {
        let trimmed: Vec<u8> = half.iter().copied().skip_while(|b| *b == 0).collect();
        let mut value = if trimmed.first().is_some_and(|b| b & 0x80 != 0) {
            vec![0]
        } else {
            Vec::new()
        };
        value.extend(if trimmed.is_empty() { vec![0] } else { trimmed });
        let mut out = vec![0x02, u8::try_from(value.len()).unwrap()];
        out.extend(value);
        out
    }
    let (r, s) = raw.split_at(raw.len() / 2);
    let body = [integer(r), integer(s)].concat();
    let mut out = vec![0x30, u8::try_from(body.len()).unwrap()];
    out.extend(body);
    out
}

/// Signatures made through `C_Sign` (cryptoki) verify with `openssl dgst -verify` and the
/// public key the CLI exports.
#[test]
fn openssl_verifies_what_c_sign_made() {
    let fixture = Fixture::new();
    let pkcs11 = fixture.pkcs11();
    let s = session(&pkcs11, PIN1);
    let token = |label: &str| vec![Attribute::Token(true), Attribute::Label(label.into())];
    let mut rsa_public = token("app-rsa-pub");
    rsa_public.extend([Attribute::ModulusBits(2048.into()), Attribute::Verify(true)]);
    let mut rsa_private = token("app-rsa");
    rsa_private.push(Attribute::Sign(true));
    let (_, rsa) = s
        .generate_key_pair(&Mechanism::RsaPkcsKeyPairGen, &rsa_public, &rsa_private)
        .unwrap();
    // prime256v1's OID.
    let p256 = vec![0x06, 0x08, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x03, 0x01, 0x07];
    let mut ec_public = token("app-ec-pub");
    ec_public.extend([Attribute::EcParams(p256), Attribute::Verify(true)]);
    let mut ec_private = token("app-ec");
    ec_private.push(Attribute::Sign(true));
    let (_, ec) = s
        .generate_key_pair(&Mechanism::EccKeyPairGen, &ec_public, &ec_private)
        .unwrap();
    assert_eq!(
        s.find_objects(&[Attribute::Class(ObjectClass::PRIVATE_KEY)])
            .unwrap()
            .len(),
        2
    );

    let dir = tempfile::tempdir().unwrap();
    let message = dir.path().join("message");
    let data = b"signed through C_Sign".repeat(100);
    std::fs::write(&message, &data).unwrap();
    for (label, mechanism, key) in [
        ("app-rsa", Mechanism::Sha256RsaPkcs, rsa),
        ("app-ec", Mechanism::EcdsaSha256, ec),
    ] {
        let mut signature = s.sign(&mechanism, key, &data).unwrap();
        if label == "app-ec" {
            assert_eq!(signature.len(), 64);
            signature = ecdsa_der(&signature);
        }
        let sig = dir.path().join(format!("{label}.sig"));
        std::fs::write(&sig, &signature).unwrap();
        let pem = dir.path().join(format!("{label}.pem"));
        public_pem(&fixture, &format!("{label}-pub"), &pem);
        let out = openssl(
            &fixture,
            &[
                "dgst",
                "-sha256",
                "-verify",
                pem.to_str().unwrap(),
                "-signature",
                sig.to_str().unwrap(),
                message.to_str().unwrap(),
            ],
        );
        assert!(
            assert_ok(&out, "openssl dgst -verify").contains("Verified OK"),
            "{label}"
        );
    }
}
