//! AWS's own examples, and the scripts written from them, against the real binaries
//! (issue 18): the EC generate example in single-command and piped modes, a signature file
//! written from `crypto sign` output, and the paging loop of docs/scripting.md.

#![allow(clippy::unwrap_used, clippy::expect_used)] // test code: a panic is a failure report

mod common;

use std::fs;
use std::process::Command;

use base64::Engine;
use common::*;

const ADMIN_PW: &str = "admin-pw1";
const CU_PW: &str = "cu1-password";

fn crypto_user_env() -> [(&'static str, &'static str); 2] {
    [
        ("CLOUDHSM_ROLE", "crypto-user"),
        ("CLOUDHSM_PIN", "cu1:cu1-password"),
    ]
}

/// The EC example of the guide's `key generate-asymmetric-pair ec` page, verbatim.
const EC_EXAMPLE: &str = "key generate-asymmetric-pair ec --curve secp224r1 \
     --public-label ec-public-key-example --private-label ec-private-key-example \
     --public-attributes encrypt=true --private-attributes decrypt=true";

#[test]
fn the_guides_ec_example_succeeds_in_single_command_and_piped_modes() {
    let sim = Sim::with_crypto_user(ADMIN_PW, "cu1", CU_PW);
    let run = sim.cli_env(&argv(EC_EXAMPLE), &crypto_user_env());
    assert_eq!(run.code, 0, "{} / {}", run.stdout_text(), run.stderr);
    let v = run.one();
    let data = ok_data(&v);
    assert_eq!(data["public_key"]["attributes"]["encrypt"], true);
    assert_eq!(data["public_key"]["attributes"]["curve"], "secp224r1");
    assert_eq!(data["private_key"]["attributes"]["decrypt"], true);
    assert_eq!(data["public_key"]["attributes"]["id"], "0x");

    let script = format!(
        "login --username cu1 --role crypto-user --password {CU_PW}\n\
         {}\n\
         crypto encrypt aes-gcm --key-filter attr.label=ec-public-key-example --data aGVsbG8=\n",
        EC_EXAMPLE
            .replace("ec-public-key-example", "second-public")
            .replace("ec-private-key-example", "second-private")
    );
    let out = sim.piped(&script).json();
    assert_eq!(out.len(), 3, "{out:?}");
    assert_eq!(
        ok_data(&out[1])["public_key"]["attributes"]["encrypt"],
        true
    );
    // The flag is stored; what the key cannot do is refused when it is tried.
    assert_eq!(err_text(&out[2]), "The aes-gcm mechanism needs an AES key.");
}

#[test]
fn a_signature_file_of_base64_text_is_named_as_such() {
    let sim = Sim::with_crypto_user(ADMIN_PW, "cu1", CU_PW);
    let env = crypto_user_env();
    let gen = sim.cli_env(
        &argv(
            "key generate-asymmetric-pair ec --curve prime256v1 --public-label pub \
             --private-label priv --public-attributes verify=true --private-attributes sign=true",
        ),
        &env,
    );
    assert_eq!(gen.code, 0, "{}", gen.stdout_text());
    let sign = sim.cli_env(
        &argv("crypto sign ecdsa --key-filter attr.label=priv --hash-function sha256 --data YWJj"),
        &env,
    );
    let v = sign.one();
    let text = ok_data(&v)["signature"].as_str().unwrap().to_string();
    // What `jq -r .data.signature > sig.b64` writes, and the raw bytes `base64 -d` gives.
    let b64 = sim.dir.path().join("sig.b64");
    fs::write(&b64, format!("{text}\n")).unwrap();
    let raw = sim.dir.path().join("sig.bin");
    let bytes = base64::engine::general_purpose::STANDARD
        .decode(&text)
        .unwrap();
    fs::write(&raw, &bytes).unwrap();

    let verify = |path: &std::path::Path| {
        let mut args = argv(
            "crypto verify ecdsa --key-filter attr.label=pub --hash-function sha256 --data YWJj \
             --signature-path",
        );
        let path = path.display().to_string();
        args.push(&path);
        sim.cli_env(&args, &env)
    };
    let run = verify(&b64);
    assert_eq!(run.code, 1);
    let message = err_text(&run.one()).to_string();
    assert!(
        message.starts_with(&format!(
            "The signature file {} holds base64 text: --signature-path takes the raw signature bytes",
            b64.display()
        )),
        "{message}"
    );
    let run = verify(&raw);
    assert_eq!(run.code, 0, "{}", run.stdout_text());
    assert_eq!(
        ok_data(&run.one())["message"],
        "Signature verified successfully"
    );
}

/// The "Every key, page by page" loop of docs/scripting.md, as the page prints it.
fn scripting_md_paging_loop() -> String {
    let doc = fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/docs/scripting.md"))
        .expect("docs/scripting.md");
    let start = doc
        .find("# Every key, page by page")
        .expect("the paging loop of docs/scripting.md");
    let rest = &doc[start..];
    let end = rest.find("\ndone\n").expect("the end of the paging loop") + "\ndone\n".len();
    rest[..end].to_string()
}

/// Runs the paging loop with `--max-items max` in bash: the references it prints, and how many
/// `key list` calls it made. A loop that does not end stops itself after 50 calls and fails.
fn run_paging_loop(sim: &Sim, max: &str) -> (Vec<String>, usize) {
    let paging = scripting_md_paging_loop();
    assert!(paging.contains("--max-items 100"), "{paging}");
    let paging = paging.replace("--max-items 100", &format!("--max-items {max}"));
    let count = sim.dir.path().join("calls");
    fs::write(&count, "0").unwrap();
    let script = format!(
        "set -euo pipefail\n\
         cloudhsm-cli() {{\n\
           n=$(( $(cat \"$COUNT\") + 1 )); echo \"$n\" > \"$COUNT\"\n\
           if [ \"$n\" -gt 50 ]; then echo 'the paging loop does not end' >&2; exit 3; fi\n\
           command \"$CLI\" \"$@\"\n\
         }}\n\
         {paging}"
    );
    let mut cmd = Command::new("bash");
    scrub(&mut cmd);
    cmd.env("CLOUDHSM_SIM_HOME", &sim.home)
        .env("CLI", CLI)
        .env("COUNT", &count)
        .env("CLOUDHSM_ROLE", "crypto-user")
        .env("CLOUDHSM_PIN", "cu1:cu1-password")
        .arg("-c")
        .arg(script);
    let run = run(cmd, b"");
    assert_eq!(run.code, 0, "{}\n{}", run.stdout_text(), run.stderr);
    let calls = fs::read_to_string(&count).unwrap().trim().parse().unwrap();
    (
        run.stdout_text().lines().map(str::to_string).collect(),
        calls,
    )
}

#[test]
fn the_paging_loop_of_scripting_md_ends_with_max_items_zero() {
    let sim = Sim::with_crypto_user(ADMIN_PW, "cu1", CU_PW);
    let script = format!(
        "login --username cu1 --role crypto-user --password {CU_PW}\n\
         key generate-symmetric aes --label k1 --key-length-bytes 16\n\
         key generate-symmetric aes --label k2 --key-length-bytes 16\n\
         key generate-symmetric aes --label k3 --key-length-bytes 16\n"
    );
    let made = sim.piped(&script).json();
    assert!(made.iter().all(|v| v["error_code"] == 0), "{made:?}");

    // `--max-items 0` means no limit: one page holds every key, and the loop ends.
    let (all, calls) = run_paging_loop(&sim, "0");
    assert_eq!(all.len(), 3, "{all:?}");
    assert_eq!(calls, 1);
    // Pages of one key: three pages, the same keys in the same order.
    let (paged, calls) = run_paging_loop(&sim, "1");
    assert_eq!(paged, all);
    assert_eq!(calls, 3);
}
