//! A Java application on the module through the JDK's SunPKCS11 provider: it logs in as a
//! crypto user, makes keys in the HSM, signs (checked by the JDK's own provider) and encrypts.
//! The configuration is docs/pkcs11.md's: `slotListIndex` (SunPKCS11 cannot hold the 64-bit
//! slot id) and the usage attributes of generated keys (CloudHSM's defaults allow none).
//! Needs a JDK (`.ci/run` installs one from Debian's packages).

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::path::Path;
use std::process::Command;

use common::{module_path, Fixture, PIN1};

fn run(program: &str, args: &[&str], dir: &Path, home: &Path) -> String {
    let out = Command::new(program)
        .args(args)
        .current_dir(dir)
        .env("CLOUDHSM_SIM_HOME", home)
        .output()
        .unwrap_or_else(|e| panic!("{program}: {e} (.ci/run installs a JDK)"));
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(
        out.status.success(),
        "{program} {args:?}:\n{stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    stdout
}

#[test]
fn a_java_application_signs_and_encrypts_through_sunpkcs11() {
    let fixture = Fixture::new();
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let source = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/java/SunPkcs11Client.java");
    std::fs::copy(&source, d.join("SunPkcs11Client.java")).unwrap();
    run("javac", &["SunPkcs11Client.java"], d, &fixture.root);
    let config = format!(
        "name = CloudHSM\n\
         library = {}\n\
         slotListIndex = 0\n\
         attributes(generate, CKO_PRIVATE_KEY, *) = {{\n  CKA_SIGN = true\n}}\n\
         attributes(generate, CKO_PUBLIC_KEY, *) = {{\n  CKA_VERIFY = true\n}}\n\
         attributes(generate, CKO_SECRET_KEY, *) = {{\n  CKA_ENCRYPT = true\n  CKA_DECRYPT = true\n}}\n",
        module_path().display()
    );
    std::fs::write(d.join("cloudhsm.cfg"), config).unwrap();
    let out = run(
        "java",
        &["SunPkcs11Client", "cloudhsm.cfg", PIN1],
        d,
        &fixture.root,
    );
    assert_eq!(out, "EC: true\nRSA: true\nAES: signed in the HSM\n");
}
