//! docs/pkcs11.md's TLS offload recipe, run as written: `openssl s_server` serves TLS with its
//! private key in the simulated HSM (OpenSSL's pkcs11 engine over the module, the key named by
//! a `pkcs11:` URI with the crypto user's PIN) and `openssl s_client` completes a verified
//! handshake against it. Needs the engine (`libengine-pkcs11-openssl`, which .ci/run installs).

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::{doc_block, module_beside_binaries, run_bash, Sim};

#[test]
fn a_tls_server_signs_its_handshakes_in_the_hsm() {
    let sim = Sim::with_crypto_user("admin-pw-1", "web", "web-password-1");
    let dir = tempfile::tempdir().unwrap();
    let recipe = doc_block(
        "pkcs11.md",
        "## TLS offload: a server whose private key stays in the HSM",
    );
    // A port nobody uses now (the recipe's default may be taken on a shared machine).
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
        .to_string();
    let module = module_beside_binaries();
    let run = run_bash(
        &sim,
        dir.path(),
        &recipe,
        &[
            ("PORT", port.as_str()),
            ("PKCS11_MODULE_PATH", module.to_str().unwrap()),
        ],
    );
    let log = std::fs::read_to_string(dir.path().join("server.log")).unwrap_or_default();
    assert_eq!(
        run.stdout_text(),
        "HTTP/1.0 200 ok\r\n",
        "stderr: {}\nserver: {log}",
        run.stderr
    );
    // The certificate is the HSM key's: its public key is the CLI's `tls-pub`.
    let cert = dir.path().join("server.pem");
    let modulus = std::process::Command::new("openssl")
        .args(["x509", "-noout", "-modulus", "-in"])
        .arg(&cert)
        .output()
        .unwrap();
    let listed = sim.cli_env(
        &["key", "list", "--filter", "attr.label=tls-pub", "--verbose"],
        &[
            ("CLOUDHSM_ROLE", "crypto-user"),
            ("CLOUDHSM_PIN", "web:web-password-1"),
        ],
    );
    let key = &listed.json()[0]["data"]["matched_keys"][0]["attributes"]["modulus"];
    let printed = String::from_utf8_lossy(&modulus.stdout).to_lowercase();
    let expected = key.as_str().unwrap().trim_start_matches("0x").to_string();
    assert!(
        printed.trim().ends_with(&expected),
        "{printed} vs {expected}"
    );
}
