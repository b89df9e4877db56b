//! Threads on one module: sessions of one login signing at once, and sessions opened,
//! closed, keys made, found and destroyed at once, with only documented return codes.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::sync::Mutex;

use common::{module_path, rv_of, session, slot, Fixture, PIN1};
use cryptoki::context::{CInitializeArgs, CInitializeFlags, Pkcs11};
use cryptoki::error::RvError;
use cryptoki::mechanism::Mechanism;
use cryptoki::object::{Attribute, ObjectClass, ObjectHandle};
use cryptoki::session::SessionState;

const THREADS: usize = 8;
const P256: [u8; 10] = [0x06, 0x08, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x03, 0x01, 0x07];

/// A session key pair of the login (RSA 2048 or P-256), able to sign and verify.
fn pair(s: &cryptoki::session::Session, rsa: bool) -> (ObjectHandle, ObjectHandle) {
    let (mechanism, mut public) = if rsa {
        (
            Mechanism::RsaPkcsKeyPairGen,
            vec![Attribute::ModulusBits(2048.into())],
        )
    } else {
        (
            Mechanism::EccKeyPairGen,
            vec![Attribute::EcParams(P256.to_vec())],
        )
    };
    public.push(Attribute::Verify(true));
    s.generate_key_pair(&mechanism, &public, &[Attribute::Sign(true)])
        .unwrap()
}

#[test]
fn eight_sessions_of_one_login_sign_and_verify_at_once() {
    let fixture = Fixture::new();
    let pkcs11 = fixture.pkcs11();
    let main = session(&pkcs11, PIN1);
    let rsa = pair(&main, true);
    let ec = pair(&main, false);
    let slot = slot(&pkcs11);
    let errors = Mutex::new(Vec::new());
    std::thread::scope(|scope| {
        for t in 0..THREADS {
            let (pkcs11, errors) = (&pkcs11, &errors);
            scope.spawn(move || {
                // Its own session, logged in by the login the first session made.
                let s = pkcs11.open_rw_session(slot).unwrap();
                let state = s.get_session_info().unwrap().session_state();
                assert!(matches!(state, SessionState::RwUser), "{state:?}");
                for i in 0..50 {
                    let data = format!("thread {t}, signature {i}");
                    for (mechanism, (public, private)) in [
                        (Mechanism::Sha256RsaPkcs, rsa),
                        (Mechanism::EcdsaSha256, ec),
                    ] {
                        let result = s
                            .sign(&mechanism, private, data.as_bytes())
                            .and_then(|sig| s.verify(&mechanism, public, data.as_bytes(), &sig));
                        if let Err(e) = result {
                            errors
                                .lock()
                                .unwrap()
                                .push(format!("{t}/{i} {mechanism:?}: {e}"));
                        }
                    }
                }
            });
        }
    });
    assert_eq!(errors.into_inner().unwrap(), Vec::<String>::new());
    // The keys of the login are still there and still work.
    let signature = main.sign(&Mechanism::EcdsaSha256, ec.1, b"after").unwrap();
    main.verify(&Mechanism::EcdsaSha256, ec.0, b"after", &signature)
        .unwrap();
}

/// Every thread opens sessions, makes session keys, finds keys (its own and the others'),
/// destroys one it found, and closes its session (which takes its keys along), all at once.
/// Another thread's key may be gone between finding and using it: that is
/// `CKR_OBJECT_HANDLE_INVALID` / `CKR_KEY_HANDLE_INVALID`, and nothing else may come back.
#[test]
fn sessions_keys_finds_and_destroys_at_once_give_only_documented_codes() {
    let fixture = Fixture::new();
    let pkcs11 = fixture.pkcs11();
    // Holds the login while the threads' sessions come and go.
    let main = session(&pkcs11, PIN1);
    let slot = slot(&pkcs11);
    let unexpected = Mutex::new(Vec::new());
    let expected = [RvError::ObjectHandleInvalid, RvError::KeyHandleInvalid];
    std::thread::scope(|scope| {
        for t in 0..THREADS {
            let (pkcs11, unexpected) = (&pkcs11, &unexpected);
            scope.spawn(move || {
                let note = |what: &str, e: cryptoki::error::Error| {
                    let rv = rv_of(e);
                    if !expected.contains(&rv) {
                        unexpected
                            .lock()
                            .unwrap()
                            .push(format!("{t} {what}: {rv:?}"));
                    }
                };
                for i in 0..10 {
                    let s = pkcs11.open_rw_session(slot).unwrap();
                    let label = format!("t{t}-{i}");
                    let made = s.generate_key(
                        &Mechanism::AesKeyGen,
                        &[
                            Attribute::ValueLen(32.into()),
                            Attribute::Label(label.as_bytes().to_vec()),
                            Attribute::Sign(true),
                        ],
                    );
                    let key = match made {
                        Ok(key) => key,
                        Err(e) => {
                            note("C_GenerateKey", e);
                            continue;
                        }
                    };
                    let (_, private) = pair(&s, i % 2 == 0);
                    let found = match s.find_objects(&[Attribute::Class(ObjectClass::SECRET_KEY)]) {
                        Ok(found) => found,
                        Err(e) => {
                            note("C_FindObjects", e);
                            Vec::new()
                        }
                    };
                    // Another thread's key, if one was found: destroy it, or read it.
                    if let Some(other) = found.iter().find(|h| **h != key) {
                        if let Err(e) = s.destroy_object(*other) {
                            note("C_DestroyObject", e);
                        }
                    }
                    // Its own keys are its own until it closes the session... unless another
                    // thread destroyed them (they are the login's, visible to every session).
                    let mechanism = if i % 2 == 0 {
                        Mechanism::Sha256RsaPkcs
                    } else {
                        Mechanism::EcdsaSha256
                    };
                    if let Err(e) = s.sign(&mechanism, private, label.as_bytes()) {
                        note("C_Sign", e);
                    }
                    if let Err(e) = s.sign(&Mechanism::Sha256Hmac, key, label.as_bytes()) {
                        note("C_Sign (HMAC)", e);
                    }
                    s.close().unwrap();
                }
            });
        }
    });
    assert_eq!(unexpected.into_inner().unwrap(), Vec::<String>::new());
    // Every thread's session closed, taking its session keys along.
    assert_eq!(main.find_objects(&[]).unwrap(), Vec::new());
    let state = main.get_session_info().unwrap().session_state();
    assert!(matches!(state, SessionState::RwUser), "{state:?}");
}

/// A thread loads the module, signs, finalises and unloads it, and ends: the module's
/// per-thread state must not outlive its code (it stays mapped, `-z nodelete`); before,
/// the thread's exit crashed the process with SIGSEGV.
#[test]
fn a_thread_that_used_the_module_ends_after_the_module_was_unloaded() {
    let fixture = Fixture::new();
    std::env::set_var("CLOUDHSM_SIM_HOME", &fixture.root);
    let signed = std::thread::spawn(|| {
        let pkcs11 = Pkcs11::new(module_path()).unwrap();
        pkcs11
            .initialize(CInitializeArgs::new(CInitializeFlags::OS_LOCKING_OK))
            .unwrap();
        let signature = {
            let s = session(&pkcs11, PIN1);
            let (_, private) = pair(&s, false);
            s.sign(&Mechanism::EcdsaSha256, private, b"then unload")
                .unwrap()
        };
        pkcs11.finalize().unwrap();
        signature.len()
    })
    .join()
    .unwrap();
    assert_eq!(signed, 64);
}
