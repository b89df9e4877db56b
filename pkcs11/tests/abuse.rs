//! Abuse of the C interface (issue 16, item 4): wrong and stale session and object handles,
//! another session's session objects, malformed templates, calls out of order, `C_Finalize`
//! while other threads are inside calls, `fork()` after `C_Initialize`, and generated call
//! sequences. Every answer must be a defined `CK_RV`, never a crash or a hang.
//!
//! The calls go through the module's own function list (`C_GetFunctionList` of the built
//! `.so`, loaded with `dlopen`), so that any handle, length and order can be given. NULL
//! pointers and lengths are `boundary.rs`'s sweep, not repeated here.

// The tests print what they measured (docs/reliability.md takes its figures from them).
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::print_stdout,
    clippy::print_stderr
)]

mod common;

use std::ffi::c_void;
use std::process::{Command, Stdio};
use std::ptr::null_mut;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use common::{module_path, Fixture, PIN1, PIN2};
use cryptoki_sys::*;
use proptest::prelude::*;
use proptest::test_runner::{Config, RngAlgorithm, TestCaseError, TestRng, TestRunner};

/// The slot of the fixture's one cluster (SDK 5's first slot id; `Raw::slot` checks it).
const SLOT: CK_SLOT_ID = 0x2000_0000_0000_0001;
const P256: [u8; 10] = [0x06, 0x08, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x03, 0x01, 0x07];

/// The module's function list, through `dlopen` of the built module (the same mapping the
/// cryptoki client of [`Fixture::pkcs11`] uses: one state).
struct Raw {
    _lib: libloading::Library,
    f: CK_FUNCTION_LIST,
}

/// Calls `C_x` of the function list with `args`.
macro_rules! call {
    ($raw:expr, $name:ident($($arg:expr),* $(,)?)) => {
        // SAFETY: every pointer argument points to live memory of the right size.
        unsafe { ($raw.f.$name.expect(stringify!($name)))($($arg),*) }
    };
}

impl Raw {
    fn load() -> Raw {
        // SAFETY: the module's initialisers are Rust statics; loading runs no foreign code.
        let lib = unsafe { libloading::Library::new(module_path()) }.unwrap();
        let mut list: *mut CK_FUNCTION_LIST = null_mut();
        // SAFETY: the symbol has C_GetFunctionList's signature.
        let rv = unsafe {
            let get: libloading::Symbol<unsafe extern "C" fn(*mut *mut CK_FUNCTION_LIST) -> CK_RV> =
                lib.get(b"C_GetFunctionList").unwrap();
            get(&mut list)
        };
        assert_eq!(rv, CKR_OK);
        // SAFETY: the module's static list, mapped for the life of the process (-z nodelete).
        let f = unsafe { *list };
        Raw { _lib: lib, f }
    }

    fn initialize(&self) -> CK_RV {
        call!(self, C_Initialize(null_mut()))
    }

    fn finalize(&self) -> CK_RV {
        call!(self, C_Finalize(null_mut()))
    }

    fn slot(&self) -> CK_SLOT_ID {
        let mut slots = [0 as CK_SLOT_ID; 4];
        let mut n = slots.len() as CK_ULONG;
        assert_eq!(
            call!(self, C_GetSlotList(CK_TRUE, slots.as_mut_ptr(), &mut n)),
            CKR_OK
        );
        assert_eq!(&slots[..n as usize], [SLOT]);
        SLOT
    }

    fn open(&self) -> (CK_RV, CK_SESSION_HANDLE) {
        let mut h = 0;
        let flags = CKF_SERIAL_SESSION | CKF_RW_SESSION;
        let rv = call!(self, C_OpenSession(SLOT, flags, null_mut(), None, &mut h));
        (rv, h)
    }

    fn session(&self) -> CK_SESSION_HANDLE {
        let (rv, h) = self.open();
        assert_eq!(rv, CKR_OK);
        h
    }

    fn login(&self, h: CK_SESSION_HANDLE, pin: &str) -> CK_RV {
        let mut pin = pin.as_bytes().to_vec();
        call!(
            self,
            C_Login(h, CKU_USER, pin.as_mut_ptr(), pin.len() as CK_ULONG)
        )
    }

    fn generate_aes(&self, h: CK_SESSION_HANDLE, token: bool) -> (CK_RV, CK_OBJECT_HANDLE) {
        let mut template = Template::new();
        template.ulong(CKA_VALUE_LEN, 32);
        template.bool(CKA_TOKEN, token);
        template.bool(CKA_SIGN, true);
        template.bool(CKA_VERIFY, true);
        self.generate_key(h, &mut template)
    }

    fn generate_key(&self, h: CK_SESSION_HANDLE, t: &mut Template) -> (CK_RV, CK_OBJECT_HANDLE) {
        let mut m = mechanism(CKM_AES_KEY_GEN);
        let mut key = 0;
        let (p, n) = t.raw();
        let rv = call!(self, C_GenerateKey(h, &mut m, p, n, &mut key));
        (rv, key)
    }

    fn generate_ec(&self, h: CK_SESSION_HANDLE, token: bool) -> (CK_RV, [CK_OBJECT_HANDLE; 2]) {
        let mut m = mechanism(CKM_EC_KEY_PAIR_GEN);
        let mut public = Template::new();
        public.bytes(CKA_EC_PARAMS, &P256);
        public.bool(CKA_TOKEN, token);
        public.bool(CKA_VERIFY, true);
        let mut private = Template::new();
        private.bool(CKA_TOKEN, token);
        private.bool(CKA_SIGN, true);
        let (mut pair, (pp, pn), (qp, qn)) = ([0; 2], public.raw(), private.raw());
        let (a, b) = pair.split_at_mut(1);
        let rv = call!(
            self,
            C_GenerateKeyPair(h, &mut m, pp, pn, qp, qn, &mut a[0], &mut b[0])
        );
        (rv, pair)
    }

    fn sign(&self, h: CK_SESSION_HANDLE, mech: CK_MECHANISM_TYPE, key: CK_OBJECT_HANDLE) -> CK_RV {
        let mut m = mechanism(mech);
        let rv = call!(self, C_SignInit(h, &mut m, key));
        if rv != CKR_OK {
            return rv;
        }
        let mut data = *b"some data";
        let (mut sig, mut len) = ([0u8; 512], 512 as CK_ULONG);
        call!(
            self,
            C_Sign(
                h,
                data.as_mut_ptr(),
                data.len() as CK_ULONG,
                sig.as_mut_ptr(),
                &mut len
            )
        )
    }

    fn find(&self, h: CK_SESSION_HANDLE) -> (CK_RV, Vec<CK_OBJECT_HANDLE>) {
        let rv = call!(self, C_FindObjectsInit(h, null_mut(), 0));
        if rv != CKR_OK {
            return (rv, Vec::new());
        }
        let (mut found, mut n) = (vec![0; 4096], 0);
        let rv = call!(self, C_FindObjects(h, found.as_mut_ptr(), 4096, &mut n));
        found.truncate(n as usize);
        let end = call!(self, C_FindObjectsFinal(h));
        (if rv == CKR_OK { end } else { rv }, found)
    }
}

fn mechanism(m: CK_MECHANISM_TYPE) -> CK_MECHANISM {
    CK_MECHANISM {
        mechanism: m,
        pParameter: null_mut(),
        ulParameterLen: 0,
    }
}

/// A template whose values it owns.
struct Template {
    values: Vec<(CK_ATTRIBUTE_TYPE, Vec<u8>)>,
    attrs: Vec<CK_ATTRIBUTE>,
}

impl Template {
    fn new() -> Template {
        Template {
            values: Vec::new(),
            attrs: Vec::new(),
        }
    }

    fn bytes(&mut self, ty: CK_ATTRIBUTE_TYPE, v: &[u8]) {
        self.values.push((ty, v.to_vec()));
    }

    fn bool(&mut self, ty: CK_ATTRIBUTE_TYPE, v: bool) {
        self.bytes(ty, &[if v { CK_TRUE } else { CK_FALSE }]);
    }

    fn ulong(&mut self, ty: CK_ATTRIBUTE_TYPE, v: CK_ULONG) {
        self.bytes(ty, &v.to_ne_bytes());
    }

    fn raw(&mut self) -> (*mut CK_ATTRIBUTE, CK_ULONG) {
        self.attrs = self
            .values
            .iter_mut()
            .map(|(ty, v)| CK_ATTRIBUTE {
                type_: *ty,
                pValue: v.as_mut_ptr() as *mut c_void,
                ulValueLen: v.len() as CK_ULONG,
            })
            .collect();
        (self.attrs.as_mut_ptr(), self.attrs.len() as CK_ULONG)
    }
}

/// Scratch memory for the output arguments of [`every_session_function`].
struct Scratch {
    data: [u8; 64],
    out: [u8; 512],
    len: CK_ULONG,
    handle: CK_OBJECT_HANDLE,
    handles: [CK_OBJECT_HANDLE; 8],
    attr: [CK_ATTRIBUTE; 1],
    mech: CK_MECHANISM,
    info: CK_SESSION_INFO,
}

impl Scratch {
    fn new(m: CK_MECHANISM_TYPE) -> Box<Scratch> {
        Box::new(Scratch {
            data: [7; 64],
            out: [0; 512],
            len: 512,
            handle: 0,
            handles: [0; 8],
            attr: [CK_ATTRIBUTE {
                type_: CKA_LABEL,
                pValue: null_mut(),
                ulValueLen: 0,
            }],
            mech: mechanism(m),
            info: CK_SESSION_INFO::default(),
        })
    }
}

/// Every function that takes a session handle, called on `h` with well-formed arguments
/// (and object handle `o`): each answer, by name.
fn every_session_function(
    raw: &Raw,
    h: CK_SESSION_HANDLE,
    o: CK_OBJECT_HANDLE,
) -> Vec<(&'static str, CK_RV)> {
    let s = &mut *Scratch::new(CKM_ECDSA_SHA256);
    let d = s.data.as_mut_ptr();
    let out = s.out.as_mut_ptr();
    let mut pin = PIN1.as_bytes().to_vec();
    let (pp, pn) = (pin.as_mut_ptr(), pin.len() as CK_ULONG);
    let mut v = vec![
        (
            "C_GetSessionInfo",
            call!(raw, C_GetSessionInfo(h, &mut s.info)),
        ),
        ("C_Login", call!(raw, C_Login(h, CKU_USER, pp, pn))),
        ("C_Logout", call!(raw, C_Logout(h))),
        ("C_InitPIN", call!(raw, C_InitPIN(h, pp, pn))),
        ("C_SetPIN", call!(raw, C_SetPIN(h, pp, pn, pp, pn))),
        (
            "C_GetOperationState",
            call!(raw, C_GetOperationState(h, out, &mut s.len)),
        ),
        (
            "C_SetOperationState",
            call!(raw, C_SetOperationState(h, d, 64, 0, 0)),
        ),
        (
            "C_CreateObject",
            call!(
                raw,
                C_CreateObject(h, s.attr.as_mut_ptr(), 1, &mut s.handle)
            ),
        ),
        (
            "C_CopyObject",
            call!(
                raw,
                C_CopyObject(h, o, s.attr.as_mut_ptr(), 1, &mut s.handle)
            ),
        ),
        ("C_DestroyObject", call!(raw, C_DestroyObject(h, o))),
        (
            "C_GetObjectSize",
            call!(raw, C_GetObjectSize(h, o, &mut s.len)),
        ),
        (
            "C_GetAttributeValue",
            call!(raw, C_GetAttributeValue(h, o, s.attr.as_mut_ptr(), 1)),
        ),
        (
            "C_SetAttributeValue",
            call!(raw, C_SetAttributeValue(h, o, s.attr.as_mut_ptr(), 1)),
        ),
        (
            "C_FindObjectsInit",
            call!(raw, C_FindObjectsInit(h, s.attr.as_mut_ptr(), 1)),
        ),
        (
            "C_FindObjects",
            call!(raw, C_FindObjects(h, s.handles.as_mut_ptr(), 8, &mut s.len)),
        ),
        ("C_FindObjectsFinal", call!(raw, C_FindObjectsFinal(h))),
    ];
    s.len = 512;
    let more = [
        (
            "C_EncryptInit",
            call!(raw, C_EncryptInit(h, &mut s.mech, o)),
        ),
        (
            "C_Encrypt",
            call!(raw, C_Encrypt(h, d, 64, out, &mut s.len)),
        ),
        (
            "C_EncryptUpdate",
            call!(raw, C_EncryptUpdate(h, d, 64, out, &mut s.len)),
        ),
        (
            "C_EncryptFinal",
            call!(raw, C_EncryptFinal(h, out, &mut s.len)),
        ),
        (
            "C_DecryptInit",
            call!(raw, C_DecryptInit(h, &mut s.mech, o)),
        ),
        (
            "C_Decrypt",
            call!(raw, C_Decrypt(h, d, 64, out, &mut s.len)),
        ),
        (
            "C_DecryptUpdate",
            call!(raw, C_DecryptUpdate(h, d, 64, out, &mut s.len)),
        ),
        (
            "C_DecryptFinal",
            call!(raw, C_DecryptFinal(h, out, &mut s.len)),
        ),
        (
            "C_DigestInit",
            call!(raw, C_DigestInit(h, &mut mechanism(CKM_SHA256))),
        ),
        ("C_Digest", call!(raw, C_Digest(h, d, 64, out, &mut s.len))),
        ("C_DigestUpdate", call!(raw, C_DigestUpdate(h, d, 64))),
        ("C_DigestKey", call!(raw, C_DigestKey(h, o))),
        (
            "C_DigestFinal",
            call!(raw, C_DigestFinal(h, out, &mut s.len)),
        ),
        ("C_SignInit", call!(raw, C_SignInit(h, &mut s.mech, o))),
        ("C_Sign", call!(raw, C_Sign(h, d, 64, out, &mut s.len))),
        ("C_SignUpdate", call!(raw, C_SignUpdate(h, d, 64))),
        ("C_SignFinal", call!(raw, C_SignFinal(h, out, &mut s.len))),
        (
            "C_SignRecoverInit",
            call!(raw, C_SignRecoverInit(h, &mut s.mech, o)),
        ),
        (
            "C_SignRecover",
            call!(raw, C_SignRecover(h, d, 64, out, &mut s.len)),
        ),
        ("C_VerifyInit", call!(raw, C_VerifyInit(h, &mut s.mech, o))),
        ("C_Verify", call!(raw, C_Verify(h, d, 64, out, 64))),
        ("C_VerifyUpdate", call!(raw, C_VerifyUpdate(h, d, 64))),
        ("C_VerifyFinal", call!(raw, C_VerifyFinal(h, out, 64))),
        (
            "C_VerifyRecoverInit",
            call!(raw, C_VerifyRecoverInit(h, &mut s.mech, o)),
        ),
        (
            "C_VerifyRecover",
            call!(raw, C_VerifyRecover(h, out, 64, d, &mut s.len)),
        ),
        (
            "C_DigestEncryptUpdate",
            call!(raw, C_DigestEncryptUpdate(h, d, 64, out, &mut s.len)),
        ),
        (
            "C_DecryptDigestUpdate",
            call!(raw, C_DecryptDigestUpdate(h, d, 64, out, &mut s.len)),
        ),
        (
            "C_SignEncryptUpdate",
            call!(raw, C_SignEncryptUpdate(h, d, 64, out, &mut s.len)),
        ),
        (
            "C_DecryptVerifyUpdate",
            call!(raw, C_DecryptVerifyUpdate(h, d, 64, out, &mut s.len)),
        ),
        (
            "C_GenerateKey",
            call!(
                raw,
                C_GenerateKey(
                    h,
                    &mut mechanism(CKM_AES_KEY_GEN),
                    s.attr.as_mut_ptr(),
                    0,
                    &mut s.handle
                )
            ),
        ),
        (
            "C_GenerateKeyPair",
            call!(
                raw,
                C_GenerateKeyPair(
                    h,
                    &mut mechanism(CKM_EC_KEY_PAIR_GEN),
                    s.attr.as_mut_ptr(),
                    0,
                    s.attr.as_mut_ptr(),
                    0,
                    &mut s.handles[0],
                    &mut s.handles[1]
                )
            ),
        ),
        (
            "C_WrapKey",
            call!(
                raw,
                C_WrapKey(h, &mut mechanism(CKM_AES_KEY_WRAP), o, o, out, &mut s.len)
            ),
        ),
        (
            "C_UnwrapKey",
            call!(
                raw,
                C_UnwrapKey(
                    h,
                    &mut mechanism(CKM_AES_KEY_WRAP),
                    o,
                    d,
                    64,
                    s.attr.as_mut_ptr(),
                    1,
                    &mut s.handle
                )
            ),
        ),
        (
            "C_DeriveKey",
            call!(
                raw,
                C_DeriveKey(
                    h,
                    &mut mechanism(CKM_ECDH1_DERIVE),
                    o,
                    s.attr.as_mut_ptr(),
                    1,
                    &mut s.handle
                )
            ),
        ),
        ("C_SeedRandom", call!(raw, C_SeedRandom(h, d, 64))),
        ("C_GenerateRandom", call!(raw, C_GenerateRandom(h, out, 64))),
        ("C_GetFunctionStatus", call!(raw, C_GetFunctionStatus(h))),
        ("C_CancelFunction", call!(raw, C_CancelFunction(h))),
        ("C_CloseSession", call!(raw, C_CloseSession(h))),
    ];
    v.extend(more);
    v
}

/// Session handles that are no session: never given, already closed (its number is never
/// given again), an object's handle (one counter numbers both), zero and the largest.
#[test]
fn wrong_and_stale_session_handles_are_refused_by_every_function() {
    let fixture = Fixture::new();
    let _pkcs11 = fixture.pkcs11();
    let raw = Raw::load();
    let live = raw.session();
    assert_eq!(raw.login(live, PIN1), CKR_OK);
    let (rv, key) = raw.generate_aes(live, false);
    assert_eq!(rv, CKR_OK);
    let closed = raw.session();
    assert_eq!(call!(raw, C_CloseSession(closed)), CKR_OK);
    for h in [closed, key, 0, CK_SESSION_HANDLE::MAX, live + 1000] {
        let answers = every_session_function(&raw, h, key);
        assert_eq!(answers.len(), 55);
        for (name, rv) in answers {
            assert_eq!(rv, CKR_SESSION_HANDLE_INVALID, "{name} on session {h:#x}");
        }
    }
    // The live session and its key were not disturbed.
    assert_eq!(raw.sign(live, CKM_SHA256_HMAC, key), CKR_OK);
}

/// Object handles that are no object of the session: never given, destroyed, a session's
/// handle, another slot's number range, and a key of another user's that was once seen.
#[test]
fn wrong_and_stale_object_handles_are_refused_by_every_function_that_takes_one() {
    let fixture = Fixture::new();
    let _pkcs11 = fixture.pkcs11();
    let raw = Raw::load();
    let h = raw.session();
    assert_eq!(raw.login(h, PIN1), CKR_OK);
    let (rv, destroyed) = raw.generate_aes(h, true);
    assert_eq!(rv, CKR_OK);
    assert_eq!(call!(raw, C_DestroyObject(h, destroyed)), CKR_OK);
    let (rv, [_, private]) = raw.generate_ec(h, true);
    assert_eq!(rv, CKR_OK);
    for o in [destroyed, h, 0, CK_OBJECT_HANDLE::MAX, private + 1000] {
        let s = &mut *Scratch::new(CKM_ECDSA_SHA256);
        let mut sha = mechanism(CKM_SHA256_HMAC);
        for (name, rv, expected) in [
            (
                "C_DestroyObject",
                call!(raw, C_DestroyObject(h, o)),
                CKR_OBJECT_HANDLE_INVALID,
            ),
            (
                "C_GetObjectSize",
                call!(raw, C_GetObjectSize(h, o, &mut s.len)),
                CKR_OBJECT_HANDLE_INVALID,
            ),
            (
                "C_GetAttributeValue",
                call!(raw, C_GetAttributeValue(h, o, s.attr.as_mut_ptr(), 1)),
                CKR_OBJECT_HANDLE_INVALID,
            ),
            (
                "C_SignInit",
                call!(raw, C_SignInit(h, &mut s.mech, o)),
                CKR_KEY_HANDLE_INVALID,
            ),
            (
                "C_VerifyInit",
                call!(raw, C_VerifyInit(h, &mut s.mech, o)),
                CKR_KEY_HANDLE_INVALID,
            ),
            (
                "C_SignInit (HMAC)",
                call!(raw, C_SignInit(h, &mut sha, o)),
                CKR_KEY_HANDLE_INVALID,
            ),
            // Functions AWS's library does not have, and mechanisms not implemented, refuse
            // before they look at the handle.
            (
                "C_CopyObject",
                call!(
                    raw,
                    C_CopyObject(h, o, s.attr.as_mut_ptr(), 0, &mut s.handle)
                ),
                CKR_FUNCTION_NOT_SUPPORTED,
            ),
            (
                "C_SetAttributeValue",
                call!(raw, C_SetAttributeValue(h, o, s.attr.as_mut_ptr(), 0)),
                CKR_FUNCTION_NOT_SUPPORTED,
            ),
            (
                "C_DigestKey",
                call!(raw, C_DigestKey(h, o)),
                CKR_FUNCTION_NOT_SUPPORTED,
            ),
            (
                "C_EncryptInit",
                call!(raw, C_EncryptInit(h, &mut s.mech, o)),
                CKR_MECHANISM_INVALID,
            ),
            (
                "C_DecryptInit",
                call!(raw, C_DecryptInit(h, &mut s.mech, o)),
                CKR_MECHANISM_INVALID,
            ),
        ] {
            assert_eq!(rv, expected, "{name} on object {o:#x}");
        }
        // No operation was left active by a refused init.
        assert_eq!(
            call!(
                raw,
                C_Sign(h, s.data.as_mut_ptr(), 1, s.out.as_mut_ptr(), &mut s.len)
            ),
            CKR_OPERATION_NOT_INITIALIZED
        );
    }
    // A private key of cu1 that cu2 once... cannot see: a handle of this run, invalid to
    // another login.
    assert_eq!(call!(raw, C_Logout(h)), CKR_OK);
    assert_eq!(raw.login(h, PIN2), CKR_OK);
    let mut len = 0;
    assert_eq!(
        call!(raw, C_GetObjectSize(h, private, &mut len)),
        CKR_OBJECT_HANDLE_INVALID
    );
    assert_eq!(
        raw.sign(h, CKM_ECDSA_SHA256, private),
        CKR_KEY_HANDLE_INVALID
    );
    assert_eq!(
        call!(raw, C_DestroyObject(h, private)),
        CKR_OBJECT_HANDLE_INVALID
    );
}

/// PKCS#11's model: a session object is visible to every session of the application while
/// the session that made it is open, and gone with it.
#[test]
fn another_sessions_session_object_works_until_that_session_closes() {
    let fixture = Fixture::new();
    let _pkcs11 = fixture.pkcs11();
    let raw = Raw::load();
    let (maker, user) = (raw.session(), raw.session());
    assert_eq!(raw.login(maker, PIN1), CKR_OK);
    let (rv, hmac) = raw.generate_aes(maker, false);
    assert_eq!(rv, CKR_OK);
    let (rv, [_, ec]) = raw.generate_ec(maker, false);
    assert_eq!(rv, CKR_OK);
    assert_eq!(raw.sign(user, CKM_SHA256_HMAC, hmac), CKR_OK);
    assert_eq!(raw.sign(user, CKM_ECDSA_SHA256, ec), CKR_OK);
    assert_eq!(raw.find(user).1.len(), 3);
    // An operation the other session started with it, left active.
    let mut m = mechanism(CKM_SHA256_HMAC);
    assert_eq!(call!(raw, C_SignInit(user, &mut m, hmac)), CKR_OK);

    assert_eq!(call!(raw, C_CloseSession(maker)), CKR_OK);
    let (mut len, mut data, mut sig) = (64 as CK_ULONG, *b"data", [0u8; 64]);
    assert_eq!(
        call!(
            raw,
            C_Sign(user, data.as_mut_ptr(), 4, sig.as_mut_ptr(), &mut len)
        ),
        CKR_KEY_HANDLE_INVALID
    );
    for key in [hmac, ec] {
        assert_eq!(raw.sign(user, CKM_SHA256_HMAC, key), CKR_KEY_HANDLE_INVALID);
        assert_eq!(
            call!(raw, C_GetObjectSize(user, key, &mut len)),
            CKR_OBJECT_HANDLE_INVALID
        );
        assert_eq!(
            call!(raw, C_DestroyObject(user, key)),
            CKR_OBJECT_HANDLE_INVALID
        );
    }
    assert_eq!(raw.find(user), (CKR_OK, Vec::new()));
    // The login stayed (`user` is still open), and makes new keys.
    assert_eq!(raw.generate_aes(user, false).0, CKR_OK);
}

/// Unknown attribute types, values of the wrong length, duplicated attributes.
#[test]
fn malformed_templates_get_their_codes() {
    let fixture = Fixture::new();
    let _pkcs11 = fixture.pkcs11();
    let raw = Raw::load();
    let h = raw.session();
    assert_eq!(raw.login(h, PIN1), CKR_OK);
    let aes = |extra: &dyn Fn(&mut Template)| {
        let mut t = Template::new();
        t.ulong(CKA_VALUE_LEN, 32);
        extra(&mut t);
        raw.generate_key(h, &mut t).0
    };
    type Case<'a> = (&'a str, &'a dyn Fn(&mut Template), CK_RV);
    let cases: [Case; 9] = [
        (
            "unknown type",
            &|t| t.bool(0x0fff_0001, true),
            CKR_ATTRIBUTE_TYPE_INVALID,
        ),
        (
            "vendor type",
            &|t| t.bool(CKA_VENDOR_DEFINED | 0x7777, true),
            CKR_ATTRIBUTE_TYPE_INVALID,
        ),
        (
            "3-byte CK_BBOOL",
            &|t| t.bytes(CKA_SIGN, &[1, 0, 0]),
            CKR_ATTRIBUTE_VALUE_INVALID,
        ),
        (
            "empty CK_BBOOL",
            &|t| t.bytes(CKA_TOKEN, &[]),
            CKR_ATTRIBUTE_VALUE_INVALID,
        ),
        (
            "2-byte CK_ULONG",
            &|t| {
                t.values.clear();
                t.bytes(CKA_VALUE_LEN, &[32, 0]);
            },
            CKR_ATTRIBUTE_VALUE_INVALID,
        ),
        (
            "9-byte CK_ULONG",
            &|t| t.bytes(CKA_CLASS, &[4, 0, 0, 0, 0, 0, 0, 0, 0]),
            CKR_ATTRIBUTE_VALUE_INVALID,
        ),
        (
            "duplicate",
            &|t| {
                t.bool(CKA_SIGN, true);
                t.bool(CKA_SIGN, true);
            },
            CKR_TEMPLATE_INCONSISTENT,
        ),
        (
            "duplicate, differing",
            &|t| {
                t.bool(CKA_TOKEN, false);
                t.bool(CKA_TOKEN, true);
            },
            CKR_TEMPLATE_INCONSISTENT,
        ),
        (
            "duplicate length",
            &|t| t.ulong(CKA_VALUE_LEN, 32),
            CKR_TEMPLATE_INCONSISTENT,
        ),
    ];
    for (what, extra, expected) in cases {
        assert_eq!(aes(extra), expected, "C_GenerateKey, {what}");
    }
    // The same in a key pair's templates, either half.
    let mut m = mechanism(CKM_EC_KEY_PAIR_GEN);
    for (public_extra, private_extra, expected) in [
        (
            Some((CKA_VERIFY, vec![1u8, 1])),
            None,
            CKR_ATTRIBUTE_VALUE_INVALID,
        ),
        (
            None,
            Some((0x0fff_0002, vec![1u8])),
            CKR_ATTRIBUTE_TYPE_INVALID,
        ),
        (None, Some((CKA_SIGN, vec![1u8])), CKR_TEMPLATE_INCONSISTENT),
    ] {
        let mut public = Template::new();
        public.bytes(CKA_EC_PARAMS, &P256);
        if let Some((ty, v)) = &public_extra {
            public.bytes(*ty, v);
        }
        let mut private = Template::new();
        private.bool(CKA_SIGN, true);
        if let Some((ty, v)) = &private_extra {
            private.bytes(*ty, v);
        }
        let ((pp, pn), (qp, qn), mut a, mut b) = (public.raw(), private.raw(), 0, 0);
        let rv = call!(
            raw,
            C_GenerateKeyPair(h, &mut m, pp, pn, qp, qn, &mut a, &mut b)
        );
        assert_eq!(
            rv, expected,
            "C_GenerateKeyPair {public_extra:?} {private_extra:?}"
        );
    }
    // Finding: duplicates refused; an unknown type or a wrong-length value matches nothing.
    let (rv, key) = raw.generate_aes(h, false);
    assert_eq!(rv, CKR_OK);
    for (what, template, expected) in [
        (
            "duplicate",
            vec![(CKA_CLASS, CKO_SECRET_KEY.to_ne_bytes().to_vec()); 2],
            Err(CKR_TEMPLATE_INCONSISTENT),
        ),
        ("unknown type", vec![(0x0fff_0001, vec![1])], Ok(0)),
        ("2-byte class", vec![(CKA_CLASS, vec![4, 0])], Ok(0)),
        ("3-byte CK_BBOOL", vec![(CKA_SIGN, vec![1, 0, 0])], Ok(0)),
        (
            "class",
            vec![(CKA_CLASS, CKO_SECRET_KEY.to_ne_bytes().to_vec())],
            Ok(1),
        ),
    ] {
        let mut t = Template::new();
        for (ty, v) in &template {
            t.bytes(*ty, v);
        }
        let (p, n) = t.raw();
        let rv = call!(raw, C_FindObjectsInit(h, p, n));
        let got = if rv == CKR_OK {
            let (mut found, mut count) = ([0; 8], 0);
            assert_eq!(
                call!(raw, C_FindObjects(h, found.as_mut_ptr(), 8, &mut count)),
                CKR_OK
            );
            assert_eq!(call!(raw, C_FindObjectsFinal(h)), CKR_OK);
            Ok(count)
        } else {
            Err(rv)
        };
        assert_eq!(got, expected, "C_FindObjectsInit, {what}");
    }
    // Reading: an unknown type is marked unavailable, the others are still answered.
    let (mut label, mut class) = ([0u8; 32], [0u8; 8]);
    let mut attrs = [
        CK_ATTRIBUTE {
            type_: 0x0fff_0001,
            pValue: null_mut(),
            ulValueLen: 0,
        },
        CK_ATTRIBUTE {
            type_: CKA_CLASS,
            pValue: class.as_mut_ptr() as *mut c_void,
            ulValueLen: 8,
        },
        CK_ATTRIBUTE {
            type_: CKA_LABEL,
            pValue: label.as_mut_ptr() as *mut c_void,
            ulValueLen: 32,
        },
    ];
    assert_eq!(
        call!(raw, C_GetAttributeValue(h, key, attrs.as_mut_ptr(), 3)),
        CKR_ATTRIBUTE_TYPE_INVALID
    );
    assert_eq!(attrs[0].ulValueLen, CK_UNAVAILABLE_INFORMATION);
    assert_eq!(attrs[1].ulValueLen, 8);
    assert_eq!(CK_ULONG::from_ne_bytes(class), CKO_SECRET_KEY);
    // A 2-byte buffer for a CK_ULONG is too small, and says so.
    let mut short = [0u8; 2];
    let mut attr = [CK_ATTRIBUTE {
        type_: CKA_CLASS,
        pValue: short.as_mut_ptr() as *mut c_void,
        ulValueLen: 2,
    }];
    assert_eq!(
        call!(raw, C_GetAttributeValue(h, key, attr.as_mut_ptr(), 1)),
        CKR_BUFFER_TOO_SMALL
    );
    assert_eq!(attr[0].ulValueLen, CK_UNAVAILABLE_INFORMATION);
    assert_eq!(short, [0, 0]);
}

/// Calls before `C_Initialize`, before a login, before an operation's init, twice, after
/// their operation ended.
#[test]
fn calls_out_of_order_get_their_codes() {
    let fixture = Fixture::new();
    let pkcs11 = fixture.pkcs11();
    let raw = Raw::load();
    assert_eq!(raw.initialize(), CKR_CRYPTOKI_ALREADY_INITIALIZED);
    let slot = raw.slot();
    let h = raw.session();
    let mut info = CK_INFO::default();
    let (mut data, mut out, mut len) = ([1u8; 32], [0u8; 512], 512 as CK_ULONG);
    let (d, o) = (data.as_mut_ptr(), out.as_mut_ptr());

    // Public session: no key to make, no logout.
    assert_eq!(raw.generate_aes(h, false).0, CKR_USER_NOT_LOGGED_IN);
    assert_eq!(raw.generate_ec(h, true).0, CKR_USER_NOT_LOGGED_IN);
    assert_eq!(call!(raw, C_Logout(h)), CKR_USER_NOT_LOGGED_IN);
    assert_eq!(raw.find(h), (CKR_OK, Vec::new()));
    assert_eq!(raw.login(h, PIN1), CKR_OK);
    assert_eq!(raw.login(h, PIN1), CKR_USER_ALREADY_LOGGED_IN);
    assert_eq!(raw.login(h, PIN2), CKR_USER_ALREADY_LOGGED_IN);
    let (rv, key) = raw.generate_aes(h, false);
    assert_eq!(rv, CKR_OK);

    // Operations never started.
    for (name, rv) in [
        ("C_Sign", call!(raw, C_Sign(h, d, 32, o, &mut len))),
        ("C_SignUpdate", call!(raw, C_SignUpdate(h, d, 32))),
        ("C_SignFinal", call!(raw, C_SignFinal(h, o, &mut len))),
        ("C_Verify", call!(raw, C_Verify(h, d, 32, o, 32))),
        ("C_VerifyUpdate", call!(raw, C_VerifyUpdate(h, d, 32))),
        ("C_VerifyFinal", call!(raw, C_VerifyFinal(h, o, 32))),
        ("C_Digest", call!(raw, C_Digest(h, d, 32, o, &mut len))),
        ("C_DigestUpdate", call!(raw, C_DigestUpdate(h, d, 32))),
        ("C_DigestFinal", call!(raw, C_DigestFinal(h, o, &mut len))),
        (
            "C_FindObjects",
            call!(raw, C_FindObjects(h, &mut 0, 1, &mut len)),
        ),
        ("C_FindObjectsFinal", call!(raw, C_FindObjectsFinal(h))),
        ("C_Encrypt", call!(raw, C_Encrypt(h, d, 32, o, &mut len))),
        ("C_Decrypt", call!(raw, C_Decrypt(h, d, 32, o, &mut len))),
    ] {
        assert_eq!(rv, CKR_OPERATION_NOT_INITIALIZED, "{name}");
    }
    // Started twice.
    let mut hmac = mechanism(CKM_SHA256_HMAC);
    assert_eq!(call!(raw, C_SignInit(h, &mut hmac, key)), CKR_OK);
    assert_eq!(
        call!(raw, C_SignInit(h, &mut hmac, key)),
        CKR_OPERATION_ACTIVE
    );
    assert_eq!(call!(raw, C_VerifyInit(h, &mut hmac, key)), CKR_OK);
    assert_eq!(
        call!(raw, C_VerifyInit(h, &mut hmac, key)),
        CKR_OPERATION_ACTIVE
    );
    assert_eq!(call!(raw, C_FindObjectsInit(h, null_mut(), 0)), CKR_OK);
    assert_eq!(
        call!(raw, C_FindObjectsInit(h, null_mut(), 0)),
        CKR_OPERATION_ACTIVE
    );
    assert_eq!(
        call!(raw, C_DigestInit(h, &mut mechanism(CKM_SHA256))),
        CKR_OK
    );
    assert_eq!(
        call!(raw, C_DigestInit(h, &mut mechanism(CKM_SHA256))),
        CKR_OPERATION_ACTIVE
    );
    // Parts, then the single-part call: the operation is in its multi-part course, and the
    // refusal ends it (a failed call ends its operation, PKCS#11 v2.40 §5.2).
    assert_eq!(call!(raw, C_SignUpdate(h, d, 32)), CKR_OK);
    assert_eq!(call!(raw, C_DigestUpdate(h, d, 32)), CKR_OK);
    assert_eq!(
        call!(raw, C_Digest(h, d, 32, o, &mut len)),
        CKR_OPERATION_ACTIVE
    );
    assert_eq!(
        call!(raw, C_DigestFinal(h, o, &mut len)),
        CKR_OPERATION_NOT_INITIALIZED
    );
    len = 512;
    assert_eq!(call!(raw, C_SignFinal(h, o, &mut len)), CKR_OK);
    assert_eq!(len, 32);
    // Ended: the next call finds nothing to finish.
    assert_eq!(
        call!(raw, C_SignFinal(h, o, &mut len)),
        CKR_OPERATION_NOT_INITIALIZED
    );
    // A verification whose signature is wrong ends too.
    let mut wrong = [0u8; 32];
    let w = wrong.as_mut_ptr();
    assert_eq!(call!(raw, C_Verify(h, d, 32, w, 32)), CKR_SIGNATURE_INVALID);
    assert_eq!(
        call!(raw, C_Verify(h, d, 32, w, 32)),
        CKR_OPERATION_NOT_INITIALIZED
    );
    assert_eq!(call!(raw, C_FindObjectsFinal(h)), CKR_OK);
    assert_eq!(
        call!(raw, C_FindObjectsFinal(h)),
        CKR_OPERATION_NOT_INITIALIZED
    );

    // Logged out: the session key went with the login.
    assert_eq!(call!(raw, C_Logout(h)), CKR_OK);
    assert_eq!(call!(raw, C_Logout(h)), CKR_USER_NOT_LOGGED_IN);
    assert_eq!(raw.sign(h, CKM_SHA256_HMAC, key), CKR_KEY_HANDLE_INVALID);

    // Finalised: everything but C_Initialize and C_GetFunctionList is refused.
    assert_eq!(raw.finalize(), CKR_OK);
    assert_eq!(raw.finalize(), CKR_CRYPTOKI_NOT_INITIALIZED);
    assert_eq!(
        call!(raw, C_GetInfo(&mut info)),
        CKR_CRYPTOKI_NOT_INITIALIZED
    );
    let mut n = 0;
    assert_eq!(
        call!(raw, C_GetSlotList(CK_TRUE, null_mut(), &mut n)),
        CKR_CRYPTOKI_NOT_INITIALIZED
    );
    let mut opened = 0;
    assert_eq!(
        call!(
            raw,
            C_OpenSession(slot, CKF_SERIAL_SESSION, null_mut(), None, &mut opened)
        ),
        CKR_CRYPTOKI_NOT_INITIALIZED
    );
    for (name, rv) in every_session_function(&raw, h, key) {
        assert_eq!(rv, CKR_CRYPTOKI_NOT_INITIALIZED, "{name} after C_Finalize");
    }
    // And initialised again, it works; the old session is gone.
    assert_eq!(raw.initialize(), CKR_OK);
    assert_eq!(call!(raw, C_CloseSession(h)), CKR_SESSION_HANDLE_INVALID);
    let h = raw.session();
    assert_eq!(raw.login(h, PIN1), CKR_OK);
    assert_eq!(raw.generate_ec(h, false).0, CKR_OK);
    drop(pkcs11); // the fixture finalises
}

/// `C_Finalize` while other threads sign, make, find and destroy keys and log in: each call
/// completes or returns `CKR_CRYPTOKI_NOT_INITIALIZED` (never another code, a crash or a
/// hang), no login outlives the module, and `C_Initialize` works again.
#[test]
fn finalize_while_other_threads_are_inside_calls() {
    const THREADS: usize = 6;
    const ROUNDS: usize = 10;
    let fixture = Fixture::new();
    let _pkcs11 = fixture.pkcs11();
    let raw = Raw::load();
    let _watchdog = common::watchdog(
        Duration::from_secs(300),
        "finalize_while_other_threads_are_inside_calls",
    );
    let late = Mutex::new(Vec::new());
    let mut completed = 0usize;
    for round in 0..ROUNDS {
        if round > 0 {
            assert_eq!(raw.initialize(), CKR_OK, "round {round}");
        }
        let main = raw.session();
        assert_eq!(raw.login(main, PIN1), CKR_OK);
        let (rv, [_, ec]) = raw.generate_ec(main, false);
        assert_eq!(rv, CKR_OK);
        let started = std::sync::atomic::AtomicUsize::new(0);
        let done = std::sync::atomic::AtomicUsize::new(0);
        std::thread::scope(|scope| {
            for t in 0..THREADS {
                let (raw, late, started, done) = (&raw, &late, &started, &done);
                scope.spawn(move || {
                    let note = |what: &str, rv: CK_RV| -> bool {
                        match rv {
                            CKR_OK => {
                                done.fetch_add(1, Ordering::Relaxed);
                                false
                            }
                            CKR_CRYPTOKI_NOT_INITIALIZED => true,
                            other => {
                                late.lock()
                                    .unwrap()
                                    .push(format!("thread {t} {what}: {other:#x}"));
                                true
                            }
                        }
                    };
                    started.fetch_add(1, Ordering::Relaxed);
                    for _ in 0..100_000 {
                        let (rv, h) = raw.open();
                        if note("C_OpenSession", rv) {
                            return;
                        }
                        let ended = match t % 3 {
                            0 => note("sign", raw.sign(h, CKM_ECDSA_SHA256, ec)),
                            1 => {
                                let (rv, key) = raw.generate_aes(h, t % 2 == 0);
                                note("C_GenerateKey", rv)
                                    || note("find", raw.find(h).0)
                                    || note("C_DestroyObject", call!(raw, C_DestroyObject(h, key)))
                            }
                            _ => {
                                let rv = raw.login(h, PIN1);
                                let rv = if rv == CKR_USER_ALREADY_LOGGED_IN {
                                    CKR_OK
                                } else {
                                    rv
                                };
                                let mut info = CK_SESSION_INFO::default();
                                note("C_Login", rv)
                                    || note(
                                        "C_GetSessionInfo",
                                        call!(raw, C_GetSessionInfo(h, &mut info)),
                                    )
                            }
                        };
                        if ended || note("C_CloseSession", call!(raw, C_CloseSession(h))) {
                            return;
                        }
                    }
                    late.lock()
                        .unwrap()
                        .push(format!("thread {t} never saw the module finalised"));
                });
            }
            // Finalise once every thread is well inside its loop.
            while started.load(Ordering::Relaxed) < THREADS || done.load(Ordering::Relaxed) < 30 {
                std::thread::yield_now();
            }
            assert_eq!(raw.finalize(), CKR_OK);
        });
        completed += done.load(Ordering::Relaxed);
        // The module's logins ended with it, those a late C_Login made included.
        assert_eq!(
            fixture.login_records_of(std::process::id()),
            0,
            "round {round}"
        );
    }
    assert_eq!(late.into_inner().unwrap(), Vec::<String>::new());
    assert_eq!(raw.initialize(), CKR_OK);
    let h = raw.session();
    assert_eq!(raw.login(h, PIN1), CKR_OK);
    let (rv, [_, ec]) = raw.generate_ec(h, false);
    assert_eq!(rv, CKR_OK);
    assert_eq!(raw.sign(h, CKM_ECDSA_SHA256, ec), CKR_OK);
    fixture.assert_consistent();
    eprintln!(
        "finalize under load: {ROUNDS} rounds, {THREADS} threads, {completed} calls completed"
    );
}

/// The child of the next test: initialises, logs in, forks, and checks what the forked
/// child gets. Prints one line per finding; `fork ok` at the end.
#[test]
#[ignore = "run by fork_after_initialize_needs_initialize_again_in_the_child"]
fn child_that_forks() {
    let raw = Raw::load();
    assert_eq!(raw.initialize(), CKR_OK);
    let h = raw.session();
    assert_eq!(raw.login(h, PIN1), CKR_OK);
    let (rv, [_, ec]) = raw.generate_ec(h, false);
    assert_eq!(rv, CKR_OK);
    let slot = raw.slot();

    // SAFETY: this process runs one thread here (the harness runs with --test-threads=1).
    let pid = unsafe { libc::fork() };
    assert!(pid >= 0, "fork failed");
    if pid == 0 {
        // The forked child: exit status 0 when every answer is the expected one.
        let mut info = CK_INFO::default();
        let mut opened = 0;
        let checks: [(&str, CK_RV, CK_RV); 6] = [
            (
                "C_GetInfo",
                call!(raw, C_GetInfo(&mut info)),
                CKR_CRYPTOKI_NOT_INITIALIZED,
            ),
            (
                "C_OpenSession",
                call!(
                    raw,
                    C_OpenSession(slot, CKF_SERIAL_SESSION, null_mut(), None, &mut opened)
                ),
                CKR_CRYPTOKI_NOT_INITIALIZED,
            ),
            (
                "C_Sign (the parent's session)",
                raw.sign(h, CKM_ECDSA_SHA256, ec),
                CKR_CRYPTOKI_NOT_INITIALIZED,
            ),
            (
                "C_Logout (the parent's login)",
                call!(raw, C_Logout(h)),
                CKR_CRYPTOKI_NOT_INITIALIZED,
            ),
            ("C_Finalize", raw.finalize(), CKR_CRYPTOKI_NOT_INITIALIZED),
            ("C_Initialize", raw.initialize(), CKR_OK),
        ];
        let mut bad = checks.iter().filter(|(_, got, want)| got != want).count();
        // Initialised in the child: its own session and login work; the parent's handles
        // mean nothing here.
        let h2 = raw.session();
        bad += usize::from(raw.login(h2, PIN1) != CKR_OK);
        bad += usize::from(raw.sign(h2, CKM_ECDSA_SHA256, ec) != CKR_KEY_HANDLE_INVALID);
        let (rv, [_, mine]) = raw.generate_ec(h2, true);
        bad += usize::from(rv != CKR_OK);
        bad += usize::from(raw.sign(h2, CKM_ECDSA_SHA256, mine) != CKR_OK);
        bad += usize::from(raw.finalize() != CKR_OK);
        // SAFETY: ends the forked child without running the parent's exit handlers.
        unsafe { libc::_exit(bad.min(100) as i32) };
    }
    let deadline = Instant::now() + Duration::from_secs(60);
    let mut status = 0;
    loop {
        // SAFETY: `pid` is our child.
        let r = unsafe { libc::waitpid(pid, &mut status, libc::WNOHANG) };
        if r == pid {
            break;
        }
        if Instant::now() > deadline {
            // SAFETY: our child.
            unsafe { libc::kill(pid, libc::SIGKILL) };
            panic!("the forked child hangs");
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    assert!(
        libc::WIFEXITED(status),
        "the forked child crashed: status {status:#x}"
    );
    assert_eq!(
        libc::WEXITSTATUS(status),
        0,
        "wrong answers in the forked child"
    );
    // The parent's login and session key are untouched by the child.
    assert_eq!(raw.sign(h, CKM_ECDSA_SHA256, ec), CKR_OK);
    let mut info = CK_SESSION_INFO::default();
    assert_eq!(call!(raw, C_GetSessionInfo(h, &mut info)), CKR_OK);
    assert_eq!(info.state, CKS_RW_USER_FUNCTIONS);
    assert_eq!(raw.finalize(), CKR_OK);
    println!("fork ok");
}

/// `fork()` after `C_Initialize`: in the child the module is not initialised (every call
/// returns `CKR_CRYPTOKI_NOT_INITIALIZED`, the parent's sessions and login are not the
/// child's) until the child calls `C_Initialize`; then it works on its own. The parent goes
/// on as before.
#[test]
fn fork_after_initialize_needs_initialize_again_in_the_child() {
    let fixture = Fixture::new();
    let out = Command::new(std::env::current_exe().unwrap())
        .args([
            "--exact",
            "child_that_forks",
            "--ignored",
            "--nocapture",
            "--test-threads=1",
        ])
        .env("CLOUDHSM_SIM_HOME", &fixture.root)
        .stdin(Stdio::null())
        .output()
        .unwrap();
    let (stdout, stderr) = common::text(&out);
    assert!(
        out.status.success() && stdout.contains("fork ok"),
        "{stdout}\n{stderr}"
    );
    fixture.assert_consistent();
}

/// A handle argument: one the run gave out (an index into those seen), or any number.
#[derive(Debug, Clone)]
enum Pick {
    Seen(usize),
    Any(u64),
}

fn pick() -> impl Strategy<Value = Pick> {
    prop_oneof![
        4 => any::<usize>().prop_map(Pick::Seen),
        1 => prop_oneof![Just(0u64), Just(u64::MAX), 1u64..64].prop_map(Pick::Any),
    ]
}

/// One call of a generated sequence.
#[derive(Debug, Clone)]
enum Op {
    Open(bool),
    Close(Pick),
    CloseAll,
    Login(Pick, usize),
    Logout(Pick),
    GenerateAes(Pick, bool),
    GenerateEc(Pick, bool),
    Find(Pick),
    SignInit(Pick, Pick, usize),
    SignUpdate(Pick),
    SignFinal(Pick),
    Sign(Pick),
    VerifyInit(Pick, Pick, usize),
    VerifyUpdate(Pick),
    VerifyFinal(Pick),
    Verify(Pick),
    Destroy(Pick, Pick),
    GetAttribute(Pick, Pick),
    Finalize,
    Initialize,
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        3 => any::<bool>().prop_map(Op::Open),
        1 => pick().prop_map(Op::Close),
        1 => Just(Op::CloseAll),
        2 => (pick(), 0usize..5).prop_map(|(s, p)| Op::Login(s, p)),
        1 => pick().prop_map(Op::Logout),
        2 => (pick(), any::<bool>()).prop_map(|(s, t)| Op::GenerateAes(s, t)),
        2 => (pick(), any::<bool>()).prop_map(|(s, t)| Op::GenerateEc(s, t)),
        1 => pick().prop_map(Op::Find),
        3 => (pick(), pick(), 0usize..4).prop_map(|(s, k, m)| Op::SignInit(s, k, m)),
        1 => pick().prop_map(Op::SignUpdate),
        1 => pick().prop_map(Op::SignFinal),
        2 => pick().prop_map(Op::Sign),
        2 => (pick(), pick(), 0usize..4).prop_map(|(s, k, m)| Op::VerifyInit(s, k, m)),
        1 => pick().prop_map(Op::VerifyUpdate),
        1 => pick().prop_map(Op::VerifyFinal),
        1 => pick().prop_map(Op::Verify),
        2 => (pick(), pick()).prop_map(|(s, k)| Op::Destroy(s, k)),
        1 => (pick(), pick()).prop_map(|(s, k)| Op::GetAttribute(s, k)),
        1 => Just(Op::Finalize),
        1 => Just(Op::Initialize),
    ]
}

/// The good PIN, then wrong ones (cu2's may end locked: `CKR_PIN_LOCKED`).
const PINS: [&str; 5] = [
    PIN1,
    "cu2:wrong-password",
    "nobody:password",
    "no-colon",
    "",
];
const SIGN_MECHANISMS: [CK_MECHANISM_TYPE; 4] = [
    CKM_ECDSA_SHA256,
    CKM_ECDSA,
    CKM_SHA256_HMAC,
    CKM_SHA256_RSA_PKCS,
];

/// What every function taking a session may answer besides its own codes.
const ANY_SESSION_CALL: [CK_RV; 2] = [CKR_CRYPTOKI_NOT_INITIALIZED, CKR_SESSION_HANDLE_INVALID];
/// What a key-using call may answer: the key or its login went, or does not fit.
const KEY_USE: [CK_RV; 6] = [
    CKR_KEY_HANDLE_INVALID,
    CKR_USER_NOT_LOGGED_IN,
    CKR_KEY_TYPE_INCONSISTENT,
    CKR_KEY_FUNCTION_NOT_PERMITTED,
    CKR_OPERATION_NOT_INITIALIZED,
    CKR_DATA_LEN_RANGE,
];

/// A run of one generated sequence: the handles it has seen.
struct Run<'a> {
    raw: &'a Raw,
    slot: CK_SLOT_ID,
    sessions: Vec<CK_SESSION_HANDLE>,
    keys: Vec<CK_OBJECT_HANDLE>,
}

impl Run<'_> {
    fn resolve(list: &[u64], p: &Pick) -> u64 {
        match p {
            Pick::Seen(i) if !list.is_empty() => list[i % list.len()],
            Pick::Seen(_) => 0,
            Pick::Any(n) => *n,
        }
    }

    fn s(&self, p: &Pick) -> CK_SESSION_HANDLE {
        Run::resolve(&self.sessions, p)
    }

    fn k(&self, p: &Pick) -> CK_OBJECT_HANDLE {
        Run::resolve(&self.keys, p)
    }

    /// Runs `op`: its name, its answer, and the codes it may answer.
    fn apply(&mut self, op: &Op) -> (&'static str, CK_RV, Vec<CK_RV>) {
        let raw = self.raw;
        let (mut data, mut sig, mut len) = ([5u8; 32], [0u8; 512], 512 as CK_ULONG);
        let (d, o) = (data.as_mut_ptr(), sig.as_mut_ptr());
        let session = |codes: &[CK_RV]| -> Vec<CK_RV> {
            [&[CKR_OK][..], &ANY_SESSION_CALL[..], codes].concat()
        };
        match op {
            Op::Open(rw) => {
                let mut h = 0;
                let flags = CKF_SERIAL_SESSION | if *rw { CKF_RW_SESSION } else { 0 };
                let rv = call!(
                    raw,
                    C_OpenSession(self.slot, flags, null_mut(), None, &mut h)
                );
                if rv == CKR_OK {
                    self.sessions.push(h);
                }
                (
                    "C_OpenSession",
                    rv,
                    vec![CKR_OK, CKR_CRYPTOKI_NOT_INITIALIZED],
                )
            }
            Op::Close(s) => (
                "C_CloseSession",
                call!(raw, C_CloseSession(self.s(s))),
                session(&[]),
            ),
            Op::CloseAll => (
                "C_CloseAllSessions",
                call!(raw, C_CloseAllSessions(self.slot)),
                vec![CKR_OK, CKR_CRYPTOKI_NOT_INITIALIZED],
            ),
            Op::Login(s, p) => (
                "C_Login",
                raw.login(self.s(s), PINS[*p]),
                session(&[
                    CKR_USER_ALREADY_LOGGED_IN,
                    CKR_PIN_INCORRECT,
                    CKR_PIN_LOCKED,
                ]),
            ),
            Op::Logout(s) => (
                "C_Logout",
                call!(raw, C_Logout(self.s(s))),
                session(&[CKR_USER_NOT_LOGGED_IN]),
            ),
            Op::GenerateAes(s, token) => {
                let (rv, key) = raw.generate_aes(self.s(s), *token);
                if rv == CKR_OK {
                    self.keys.push(key);
                }
                (
                    "C_GenerateKey",
                    rv,
                    session(&[CKR_USER_NOT_LOGGED_IN, CKR_SESSION_READ_ONLY]),
                )
            }
            Op::GenerateEc(s, token) => {
                let (rv, pair) = raw.generate_ec(self.s(s), *token);
                if rv == CKR_OK {
                    self.keys.extend(pair);
                }
                (
                    "C_GenerateKeyPair",
                    rv,
                    session(&[CKR_USER_NOT_LOGGED_IN, CKR_SESSION_READ_ONLY]),
                )
            }
            Op::Find(s) => {
                let (rv, found) = raw.find(self.s(s));
                let new: Vec<_> = found
                    .into_iter()
                    .filter(|h| !self.keys.contains(h))
                    .collect();
                self.keys.extend(new);
                ("C_FindObjects*", rv, session(&[CKR_OPERATION_ACTIVE]))
            }
            Op::SignInit(s, k, m) | Op::VerifyInit(s, k, m) => {
                let mut mech = mechanism(SIGN_MECHANISMS[*m]);
                let (h, key) = (self.s(s), self.k(k));
                let (name, rv) = if matches!(op, Op::SignInit(..)) {
                    ("C_SignInit", call!(raw, C_SignInit(h, &mut mech, key)))
                } else {
                    ("C_VerifyInit", call!(raw, C_VerifyInit(h, &mut mech, key)))
                };
                (
                    name,
                    rv,
                    session(&[&KEY_USE[..], &[CKR_OPERATION_ACTIVE]].concat()),
                )
            }
            Op::SignUpdate(s) | Op::VerifyUpdate(s) => {
                let h = self.s(s);
                let (name, rv) = if matches!(op, Op::SignUpdate(_)) {
                    ("C_SignUpdate", call!(raw, C_SignUpdate(h, d, 32)))
                } else {
                    ("C_VerifyUpdate", call!(raw, C_VerifyUpdate(h, d, 32)))
                };
                (
                    name,
                    rv,
                    session(&[&KEY_USE[..], &[CKR_FUNCTION_NOT_SUPPORTED]].concat()),
                )
            }
            Op::Sign(s) => (
                "C_Sign",
                call!(raw, C_Sign(self.s(s), d, 32, o, &mut len)),
                session(&[&KEY_USE[..], &[CKR_OPERATION_ACTIVE]].concat()),
            ),
            Op::SignFinal(s) => (
                "C_SignFinal",
                call!(raw, C_SignFinal(self.s(s), o, &mut len)),
                session(&KEY_USE),
            ),
            Op::Verify(s) | Op::VerifyFinal(s) => {
                let h = self.s(s);
                let (name, rv) = if matches!(op, Op::Verify(_)) {
                    ("C_Verify", call!(raw, C_Verify(h, d, 32, o, 64)))
                } else {
                    ("C_VerifyFinal", call!(raw, C_VerifyFinal(h, o, 64)))
                };
                let codes = [
                    CKR_SIGNATURE_INVALID,
                    CKR_SIGNATURE_LEN_RANGE,
                    CKR_OPERATION_ACTIVE,
                ];
                (name, rv, session(&[&KEY_USE[..], &codes].concat()))
            }
            Op::Destroy(s, k) => (
                "C_DestroyObject",
                call!(raw, C_DestroyObject(self.s(s), self.k(k))),
                session(&[
                    CKR_OBJECT_HANDLE_INVALID,
                    CKR_SESSION_READ_ONLY,
                    CKR_ACTION_PROHIBITED,
                ]),
            ),
            Op::GetAttribute(s, k) => {
                let mut attrs = [CK_ULONG::default(); 2];
                let mut template = [
                    CK_ATTRIBUTE {
                        type_: CKA_CLASS,
                        pValue: attrs.as_mut_ptr() as *mut c_void,
                        ulValueLen: 8,
                    },
                    CK_ATTRIBUTE {
                        type_: CKA_VALUE,
                        pValue: null_mut(),
                        ulValueLen: 0,
                    },
                ];
                let rv = call!(
                    raw,
                    C_GetAttributeValue(self.s(s), self.k(k), template.as_mut_ptr(), 2)
                );
                let codes = [
                    CKR_OBJECT_HANDLE_INVALID,
                    CKR_ATTRIBUTE_SENSITIVE,
                    CKR_ATTRIBUTE_TYPE_INVALID,
                ];
                ("C_GetAttributeValue", rv, session(&codes))
            }
            Op::Finalize => (
                "C_Finalize",
                raw.finalize(),
                vec![CKR_OK, CKR_CRYPTOKI_NOT_INITIALIZED],
            ),
            Op::Initialize => (
                "C_Initialize",
                raw.initialize(),
                vec![CKR_OK, CKR_CRYPTOKI_ALREADY_INITIALIZED],
            ),
        }
    }
}

/// The number of generated sequences (`CLOUDHSM_PKCS11_CASES` sets another).
fn cases() -> u32 {
    std::env::var("CLOUDHSM_PKCS11_CASES")
        .ok()
        .and_then(|n| n.parse().ok())
        .unwrap_or(200)
}

/// Generated call sequences (up to 40 calls, handles seen or made up, good and bad PINs,
/// `C_Finalize`/`C_Initialize` anywhere): every answer is one of the codes its function
/// may give (`CKR_GENERAL_ERROR`, what a panic becomes, is in no set), and afterwards the
/// module initialises, logs in and signs as new.
#[test]
fn generated_call_sequences_get_only_their_functions_codes() {
    let fixture = Fixture::new();
    let _pkcs11 = fixture.pkcs11();
    let raw = Raw::load();
    let slot = raw.slot();
    let _watchdog = common::watchdog(Duration::from_secs(600), "generated call sequences");
    let config = Config {
        cases: cases(),
        failure_persistence: None,
        max_shrink_iters: 200,
        ..Config::default()
    };
    let seed = std::env::var("CLOUDHSM_PKCS11_SEED")
        .ok()
        .and_then(|s| s.parse::<u8>().ok())
        .unwrap_or(16);
    let mut runner = TestRunner::new_with_rng(
        config,
        TestRng::from_seed(RngAlgorithm::ChaCha, &[seed; 32]),
    );
    let calls = std::sync::atomic::AtomicUsize::new(0);
    let ok = AtomicBool::new(true);
    let result = runner.run(&proptest::collection::vec(op(), 1..40), |ops| {
        let _ = raw.initialize();
        let mut run = Run {
            raw: &raw,
            slot,
            sessions: Vec::new(),
            keys: Vec::new(),
        };
        for (i, op) in ops.iter().enumerate() {
            let (name, rv, allowed) = run.apply(op);
            calls.fetch_add(1, Ordering::Relaxed);
            if !allowed.contains(&rv) {
                ok.store(false, Ordering::Relaxed);
                let _ = raw.finalize();
                return Err(TestCaseError::fail(format!(
                    "call {i}: {name} ({op:?}) returned {rv:#x}"
                )));
            }
        }
        // Not wedged: a new start works.
        let _ = raw.finalize();
        prop_assert_eq!(raw.initialize(), CKR_OK);
        let h = raw.session();
        prop_assert_eq!(raw.login(h, PIN1), CKR_OK);
        let (rv, [_, ec]) = raw.generate_ec(h, false);
        prop_assert_eq!(rv, CKR_OK);
        prop_assert_eq!(raw.sign(h, CKM_ECDSA_SHA256, ec), CKR_OK);
        prop_assert_eq!(raw.finalize(), CKR_OK);
        Ok(())
    });
    let _ = raw.initialize();
    result.unwrap();
    assert!(ok.load(Ordering::Relaxed));
    fixture.assert_consistent();
    eprintln!(
        "generated sequences: {} cases, {} calls",
        cases(),
        calls.load(Ordering::Relaxed)
    );
}
