//! The vendor header as a C application uses it: compiled with `cc -Wall -Werror` against a
//! standard PKCS #11 v2.40 header (p11-kit's, Debian package libp11-kit-dev), every constant
//! and structure used, the values the C compiler sees equal to `vendor.rs`, and the built
//! module loaded with `dlopen`.

use cloudhsm_pkcs11::vendor;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

/// Where Debian's libp11-kit-dev puts a standard PKCS #11 v2.40 `pkcs11.h`.
const PKCS11_INCLUDE: &str = "/usr/include/p11-kit-1/p11-kit";
const HEADER_DIR: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/include");
const CLIENT: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/c/vendor_defs_client.c");

/// `target/<profile>/`: the test executable is `target/<profile>/deps/<name>-<hash>`.
fn profile_dir() -> PathBuf {
    let exe = std::env::current_exe().unwrap_or_else(|e| panic!("current_exe: {e}"));
    match exe.parent().and_then(Path::parent) {
        Some(dir) => dir.to_path_buf(),
        None => panic!("{} is not in target/<profile>/deps", exe.display()),
    }
}

/// The module this test build compiled: `target/<profile>/deps/libcloudhsm_pkcs11.so`.
fn module() -> PathBuf {
    // `cargo test` compiles the module into deps/ (only `cargo build` copies it up).
    let path = profile_dir().join("deps").join("libcloudhsm_pkcs11.so");
    assert!(
        path.exists(),
        "{} is missing: cargo build -p cloudhsm-pkcs11",
        path.display()
    );
    path
}

/// Compiles `source` with `cc -Wall -Wextra -Werror` against p11-kit's pkcs11.h and the
/// vendor header; returns the compiler's output and the executable's path.
fn compile(source: &Path, dir: &Path) -> (Output, PathBuf) {
    assert!(
        Path::new(PKCS11_INCLUDE).join("pkcs11.h").exists(),
        "{PKCS11_INCLUDE}/pkcs11.h is missing: apt-get install libp11-kit-dev (.ci/run does)"
    );
    let exe = dir.join("client");
    let output = Command::new("cc")
        .args(["-std=c99", "-Wall", "-Wextra", "-Werror"])
        .arg(format!("-I{PKCS11_INCLUDE}"))
        .arg(format!("-I{HEADER_DIR}"))
        .arg(source)
        .arg("-o")
        .arg(&exe)
        .arg("-ldl")
        .output()
        .unwrap_or_else(|e| panic!("cc: {e}"));
    (output, exe)
}

fn compile_client(dir: &Path) -> PathBuf {
    let (output, exe) = compile(Path::new(CLIENT), dir);
    assert!(
        output.status.success(),
        "cc failed:\n{}",
        String::from_utf8_lossy(&output.stderr)
    );
    exe
}

/// The `NAME=0xVALUE` lines the C program printed.
fn printed_constants(stdout: &str) -> BTreeMap<String, u64> {
    stdout
        .lines()
        .filter_map(|line| line.split_once("=0x"))
        .map(|(name, hex)| {
            let value = u64::from_str_radix(hex, 16).unwrap_or_else(|e| panic!("{name}: {e}"));
            (name.to_string(), value)
        })
        .collect()
}

#[test]
fn a_c_program_compiles_against_the_header_and_loads_the_module() {
    let dir = tempfile::tempdir().unwrap();
    let client = compile_client(dir.path());
    let module = module();
    let run = Command::new(&client)
        .arg("load")
        .arg(&module)
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&run.stdout);
    assert!(
        run.status.success(),
        "exit {:?}: {}",
        run.status.code(),
        String::from_utf8_lossy(&run.stderr)
    );
    assert!(stdout.contains(&format!("loaded {}", module.display())));
    // Every constant, as the C compiler sees it, is the module's value.
    let expected: BTreeMap<String, u64> = vendor::ALL
        .iter()
        .map(|(name, value, _)| (name.to_string(), *value))
        .collect();
    assert_eq!(printed_constants(&stdout), expected);
}

#[test]
fn the_c_program_uses_every_define_of_the_header() {
    let header =
        std::fs::read_to_string(Path::new(HEADER_DIR).join("cloudhsm_pkcs11_vendor_defs.h"))
            .unwrap();
    let client = std::fs::read_to_string(CLIENT).unwrap();
    let mut names = 0;
    for line in header.lines() {
        let mut words = line.split_whitespace();
        if let (Some("#define"), Some(name), Some(_)) = (words.next(), words.next(), words.next()) {
            names += 1;
            assert!(client.contains(&format!("SHOW({name})")), "{name} unused");
        }
    }
    assert_eq!(names, vendor::ALL.len());
    for structure in [
        "CK_PRF_DATA_PARAM_PTR",
        "CK_SP800_108_KDF_PARAMS_PTR",
        "CK_SP800_108_COUNTER_FORMAT_PTR",
        "CK_SP800_108_DKM_LENGTH_FORMAT_PTR",
        "CK_PRF_TYPE",
        "CK_PRF_DATA_TYPE",
        "CK_CLOUDHSM_ML_DSA_PARAMETER_SET_TYPE",
    ] {
        assert!(
            header.contains(&format!("{structure};")),
            "{structure} not in the header"
        );
        assert!(client.contains(structure), "{structure} unused");
    }
}

#[test]
fn the_header_alone_brings_in_pkcs11_h() {
    let dir = tempfile::tempdir().unwrap();
    let source = dir.path().join("alone.c");
    std::fs::write(
        &source,
        "#include \"cloudhsm_pkcs11_vendor_defs.h\"\n\
         int main(void) {\n\
             CK_MECHANISM m = {CKM_CLOUDHSM_AES_GCM, NULL_PTR, 0};\n\
             return m.mechanism == 0x80001087UL ? 0 : 1;\n\
         }\n",
    )
    .unwrap();
    let (output, exe) = compile(&source, dir.path());
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(Command::new(exe).status().unwrap().success());
}

#[test]
fn a_pkcs11_3_header_first_is_refused_with_a_clear_error() {
    // PKCS #11 3.x defines CK_SP800_108_ITERATION_VARIABLE and structures of the same names
    // with other layouts: the header stops with its own message, not a redefinition error.
    let dir = tempfile::tempdir().unwrap();
    let source = dir.path().join("v3.c");
    std::fs::write(
        &source,
        "#include \"pkcs11.h\"\n\
         #define CK_SP800_108_ITERATION_VARIABLE 0x00000001UL\n\
         #include \"cloudhsm_pkcs11_vendor_defs.h\"\n\
         int main(void) { return 0; }\n",
    )
    .unwrap();
    let (output, _) = compile(&source, dir.path());
    assert!(!output.status.success());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("is PKCS #11 3.x"), "{stderr}");
}

#[test]
fn the_module_reports_version_2_40_to_a_c_program() {
    let dir = tempfile::tempdir().unwrap();
    let client = compile_client(dir.path());
    let run = Command::new(&client)
        .arg("version")
        .arg(module())
        .output()
        .unwrap();
    assert!(
        run.status.success(),
        "exit {:?}: {}",
        run.status.code(),
        String::from_utf8_lossy(&run.stderr)
    );
    assert!(String::from_utf8_lossy(&run.stdout).contains("version=2.40"));
}
