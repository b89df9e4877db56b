//! Link options of the module.

fn main() {
    // The module is never unloaded (`-z nodelete`: `dlclose` leaves it mapped). Its crypto
    // library (AWS-LC) keeps per-thread state behind `pthread_key_create` destructors that
    // live in the module: had `dlclose` unmapped it, every thread that had called into the
    // module would jump into unmapped memory when it exits (an application that loads the
    // module, signs, finalizes and unloads it, then ends a thread, crashed with SIGSEGV).
    // A module that can be loaded again after `C_Finalize` needs nothing more.
    println!("cargo:rustc-cdylib-link-arg=-Wl,-z,nodelete");
}
