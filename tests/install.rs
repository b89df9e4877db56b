//! `cloudhsm-sim install --prefix DIR [--uninstall]`: the client SDK's layout as links to this
//! build, so that a program naming `$prefix/lib/libcloudhsm_pkcs11.so` loads our module.
//! Needs the module built beside the binaries (`cargo test` at the root builds it; alone:
//! `cargo build -p cloudhsm-pkcs11`), `cc` and p11-kit's pkcs11.h (.ci/run installs both).

mod common;

use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;

use common::{scrub, Ctx, SIM};
use serde_json::Value;

const LINKS: &[(&str, &str)] = &[
    ("lib/libcloudhsm_pkcs11.so", "libcloudhsm_pkcs11.so"),
    ("bin/cloudhsm-cli", "cloudhsm-cli"),
    ("bin/configure-cli", "configure-cli"),
    ("bin/configure-pkcs11", "configure-pkcs11"),
];
const HEADER: &str = "include/pkcs11/cloudhsm_pkcs11_vendor_defs.h";
const HEADER_SOURCE: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/pkcs11/include/cloudhsm_pkcs11_vendor_defs.h"
);
const CLIENT: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/pkcs11/tests/c/vendor_defs_client.c"
);

/// The build directory: where cargo put `cloudhsm-sim` and the module.
fn build_dir() -> PathBuf {
    let exe = Path::new(SIM).canonicalize().ctx("cloudhsm-sim's path");
    let dir = exe.parent().ctx("cloudhsm-sim's directory").to_path_buf();
    common::module_beside_binaries();
    dir
}

struct Outcome {
    code: i32,
    stdout: String,
    stderr: String,
}

fn sim_at(exe: &Path, args: &[&str]) -> Outcome {
    let mut cmd = Command::new(exe);
    scrub(&mut cmd);
    let out = cmd.args(args).output().ctx("run");
    Outcome {
        code: out.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    }
}

fn install(prefix: &Path, extra: &[&str]) -> Outcome {
    let mut args = vec!["install", "--prefix", prefix.to_str().ctx("prefix path")];
    args.extend_from_slice(extra);
    sim_at(Path::new(SIM), &args)
}

/// Every file, link and directory under `dir`, relative, sorted.
fn tree(dir: &Path) -> Vec<String> {
    let mut found = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for entry in fs::read_dir(&d).ctx("read_dir") {
            let path = entry.ctx("entry").path();
            found.push(
                path.strip_prefix(dir)
                    .ctx("under dir")
                    .display()
                    .to_string(),
            );
            if fs::symlink_metadata(&path).ctx("metadata").is_dir() {
                stack.push(path);
            }
        }
    }
    found.sort();
    found
}

/// Compiles the vendor-header client against the INSTALLED header and runs it on the
/// INSTALLED module path.
fn load_installed_module(prefix: &Path) -> Outcome {
    let exe = prefix.parent().ctx("prefix's parent").join("client");
    let cc = Command::new("cc")
        .args(["-std=c99", "-Wall", "-Wextra", "-Werror"])
        .arg("-I/usr/include/p11-kit-1/p11-kit")
        .arg(format!("-I{}", prefix.join("include/pkcs11").display()))
        .arg(CLIENT)
        .arg("-o")
        .arg(&exe)
        .arg("-ldl")
        .output()
        .ctx("cc");
    assert!(
        cc.status.success(),
        "cc: {}",
        String::from_utf8_lossy(&cc.stderr)
    );
    let module = prefix.join("lib/libcloudhsm_pkcs11.so");
    sim_at(&exe, &["load", module.to_str().ctx("module path")])
}

#[test]
fn install_twice_links_the_build_and_a_c_program_loads_the_module_from_the_prefix() {
    let build = build_dir();
    let dir = tempfile::tempdir().unwrap();
    let prefix = dir.path().join("opt/cloudhsm");
    for round in 0..2 {
        let run = install(&prefix, &[]);
        assert_eq!(run.code, 0, "round {round}: {}", run.stderr);
        let report: Value = serde_json::from_str(&run.stdout).unwrap();
        assert_eq!(report["installed"].as_array().unwrap().len(), 5);
        for (relative, name) in LINKS {
            let path = prefix.join(relative);
            assert!(fs::symlink_metadata(&path)
                .unwrap()
                .file_type()
                .is_symlink());
            assert_eq!(
                fs::read_link(&path).unwrap(),
                build.join(name),
                "{relative}"
            );
        }
        assert_eq!(
            fs::read_to_string(prefix.join(HEADER)).unwrap(),
            fs::read_to_string(HEADER_SOURCE).unwrap()
        );
    }
    // Nothing but the layout (no temporary files left).
    assert_eq!(
        tree(&prefix),
        [
            "bin",
            "bin/cloudhsm-cli",
            "bin/configure-cli",
            "bin/configure-pkcs11",
            "include",
            "include/pkcs11",
            "include/pkcs11/cloudhsm_pkcs11_vendor_defs.h",
            "lib",
            "lib/libcloudhsm_pkcs11.so",
        ]
    );
    let run = load_installed_module(&prefix);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(run.stdout.contains("loaded "), "{}", run.stdout);
    // The installed tools are this build's.
    let run = sim_at(&prefix.join("bin/configure-pkcs11"), &["--help"]);
    assert_eq!(run.code, 0);
    assert!(run.stdout.contains("--enable-ecdh-without-kdf"));

    // Uninstall leaves the prefix empty of our files and directories.
    let run = install(&prefix, &["--uninstall"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    let report: Value = serde_json::from_str(&run.stdout).unwrap();
    assert_eq!(report["removed"].as_array().unwrap().len(), 5);
    assert!(report.get("kept").is_none());
    assert!(tree(&prefix).is_empty(), "{:?}", tree(&prefix));
    // The build itself is untouched.
    assert!(build.join("libcloudhsm_pkcs11.so").is_file());
    // Uninstalling again finds nothing to remove.
    let run = install(&prefix, &["--uninstall"]);
    assert_eq!(run.code, 0);
    assert_eq!(
        serde_json::from_str::<Value>(&run.stdout).unwrap()["removed"],
        serde_json::json!([])
    );
}

#[test]
fn a_file_install_did_not_make_is_never_replaced_nor_removed() {
    build_dir();
    let dir = tempfile::tempdir().unwrap();
    let prefix = dir.path().join("opt");
    fs::create_dir_all(prefix.join("bin")).unwrap();
    fs::create_dir_all(prefix.join("include/pkcs11")).unwrap();
    // Someone else's header, and a regular file where a link would go.
    fs::write(prefix.join("bin/cloudhsm-cli"), b"#!/bin/sh\n").unwrap();
    fs::write(prefix.join(HEADER), b"/* AWS's header */\n").unwrap();
    let run = install(&prefix, &[]);
    assert_eq!(run.code, 1);
    assert!(
        run.stderr.starts_with(&format!(
            "error: refusing to replace {}: cloudhsm-sim install did not make it",
            prefix.join(HEADER).display()
        )),
        "{}",
        run.stderr
    );
    assert!(run.stdout.is_empty());
    // Checked before anything changed: nothing was laid out.
    assert!(!prefix.join("lib").exists());

    // Without the foreign header, the regular file still stops it.
    fs::remove_file(prefix.join(HEADER)).unwrap();
    let run = install(&prefix, &[]);
    assert_eq!(run.code, 1);
    assert!(run.stderr.contains("bin/cloudhsm-cli"), "{}", run.stderr);
    assert!(!prefix.join("lib").exists());

    // A symbolic link to something else is someone else's too.
    fs::remove_file(prefix.join("bin/cloudhsm-cli")).unwrap();
    std::os::unix::fs::symlink("/bin/true", prefix.join("bin/configure-cli")).unwrap();
    let run = install(&prefix, &[]);
    assert_eq!(run.code, 1);
    assert!(run.stderr.contains("bin/configure-cli"), "{}", run.stderr);

    // Uninstall removes ours and keeps theirs, saying so.
    fs::remove_file(prefix.join("bin/configure-cli")).unwrap();
    assert_eq!(install(&prefix, &[]).code, 0);
    fs::remove_file(prefix.join("bin/configure-pkcs11")).unwrap();
    fs::write(prefix.join("bin/configure-pkcs11"), b"mine").unwrap();
    let run = install(&prefix, &["--uninstall"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    let report: Value = serde_json::from_str(&run.stdout).unwrap();
    assert_eq!(report["removed"].as_array().unwrap().len(), 4);
    assert_eq!(
        report["kept"][0]["path"],
        prefix.join("bin/configure-pkcs11").to_str().unwrap()
    );
    assert_eq!(tree(&prefix), ["bin", "bin/configure-pkcs11"]);
    assert_eq!(
        fs::read(prefix.join("bin/configure-pkcs11")).unwrap(),
        b"mine"
    );
}

#[test]
fn a_build_without_the_module_is_named_with_the_command_that_makes_it() {
    // A cloudhsm-sim alone in a directory (hard-linked, so it runs from there): the build it
    // would link to has no module.
    let build = build_dir();
    let lone = tempfile::tempdir_in(&build).unwrap();
    let exe = lone.path().join("cloudhsm-sim");
    fs::hard_link(build.join("cloudhsm-sim"), &exe).unwrap();
    let prefix = lone.path().join("prefix");
    let run = sim_at(&exe, &["install", "--prefix", prefix.to_str().unwrap()]);
    assert_eq!(run.code, 1);
    assert!(
        run.stderr
            .contains("libcloudhsm_pkcs11.so is missing: build it next to cloudhsm-sim first (cargo build --release -p cloudhsm-pkcs11"),
        "{}",
        run.stderr
    );
    assert!(!prefix.exists());
}
