//! Links the module with `-z nodelete`: an application may `dlclose` a PKCS#11 library after
//! `C_Finalize` (cryptoki, p11-kit and others do), but threads that called into it hold
//! thread-local state of the library (Rust's and AWS-LC's) whose destructors run when those
//! threads exit. Were the code unmapped by then, the destructors would jump into nothing and
//! crash the application; with `nodelete` the library stays mapped for the process's life.

fn main() {
    println!("cargo:rustc-cdylib-link-arg=-Wl,-z,nodelete");
}
