//! Links the module so that it stays mapped after `dlclose` (`-z nodelete`).
//!
//! AWS-LC (through aws-lc-rs) keeps per-thread state (its random generator) behind a pthread
//! key whose destructor is code of this library. An application that unloads the module
//! (cryptoki's `Pkcs11` drop, p11-kit, an OpenSSL engine, a JVM) and then ends a thread that
//! used it would run that destructor from unmapped memory: a crash at thread exit. ELF's
//! NODELETE flag makes `dlclose` keep the library, as glibc does itself for libraries with
//! C++ thread-local destructors.

fn main() {
    let family = std::env::var("CARGO_CFG_TARGET_FAMILY").unwrap_or_default();
    let os = std::env::var("CARGO_CFG_TARGET_OS").unwrap_or_default();
    if family == "unix" && os != "macos" && os != "ios" {
        println!("cargo:rustc-cdylib-link-arg=-Wl,-z,nodelete");
    }
}
