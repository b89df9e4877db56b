//! The C boundary, called as a C application calls it: the module loaded with `libloading`,
//! `C_GetFunctionList`, then the function pointers. What `cryptoki` hides is tested here:
//! `C_Initialize`'s arguments, NULL pointers, the buffer protocol (NULL → length, too small
//! → `CKR_BUFFER_TOO_SMALL` with the operation still active), attribute lengths and
//! `CK_UNAVAILABLE_INFORMATION`, and the mechanisms `cryptoki` has no variant for.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::hex;

use cloudhsm_pkcs11::vendor;

use std::ffi::c_void;
use std::ptr::null_mut;
use std::sync::OnceLock;

use common::{module_path, openssl, rsa_spki, Fixture, PIN1};
use cryptoki_sys::*;

/// The module's function list, from `C_GetFunctionList` of the loaded library (kept loaded
/// for the whole test process).
fn functions() -> &'static CK_FUNCTION_LIST {
    static LIST: OnceLock<&'static CK_FUNCTION_LIST> = OnceLock::new();
    LIST.get_or_init(|| {
        // SAFETY: the module is a PKCS#11 library; its initialisers are Rust statics.
        let library = Box::leak(Box::new(
            unsafe { libloading::Library::new(module_path()) }.unwrap(),
        ));
        type GetList = unsafe extern "C" fn(*mut *mut CK_FUNCTION_LIST) -> CK_RV;
        // SAFETY: `C_GetFunctionList` has this signature (PKCS#11 v2.40 §5.2).
        let get = unsafe { library.get::<GetList>(b"C_GetFunctionList") }.unwrap();
        let mut list = null_mut();
        // SAFETY: `list` is writable.
        assert_eq!(unsafe { get(&mut list) }, CKR_OK);
        // SAFETY: the module returned a pointer to its static list.
        unsafe { &*list }
    })
}

/// Calls function `$f` of the list.
macro_rules! ck {
    ($f:ident($($a:expr),* $(,)?)) => {
        // SAFETY: each test passes pointers valid for the call (or NULL on purpose).
        unsafe { (functions().$f.expect(stringify!($f)))($($a),*) }
    };
}

/// Finalises the module when a test ends (also when it fails), so that the next test of
/// this binary initialises it again.
struct Finalize;

impl Drop for Finalize {
    fn drop(&mut self) {
        ck!(C_Finalize(null_mut()));
    }
}

/// The fixture's state directory, the module initialised on it.
struct Module {
    _finalize: Finalize,
    _fixture: Fixture,
}

impl Module {
    fn new() -> Module {
        let fixture = Fixture::new();
        std::env::set_var("CLOUDHSM_SIM_HOME", &fixture.root);
        assert_eq!(ck!(C_Initialize(null_mut())), CKR_OK);
        Module {
            _finalize: Finalize,
            _fixture: fixture,
        }
    }
}

fn slot() -> CK_SLOT_ID {
    let mut slots = [0; 4];
    let mut n = slots.len() as CK_ULONG;
    assert_eq!(
        ck!(C_GetSlotList(CK_TRUE, slots.as_mut_ptr(), &mut n)),
        CKR_OK
    );
    assert_eq!(n, 1);
    slots[0]
}

fn open(rw: bool) -> CK_SESSION_HANDLE {
    let mut h = 0;
    let flags = CKF_SERIAL_SESSION | if rw { CKF_RW_SESSION } else { 0 };
    assert_eq!(
        ck!(C_OpenSession(slot(), flags, null_mut(), None, &mut h)),
        CKR_OK
    );
    h
}

fn login(h: CK_SESSION_HANDLE, pin: &str) -> CK_RV {
    let mut pin = pin.as_bytes().to_vec();
    ck!(C_Login(
        h,
        CKU_USER,
        pin.as_mut_ptr(),
        pin.len() as CK_ULONG
    ))
}

/// A logged-in read-write session.
fn user_session() -> CK_SESSION_HANDLE {
    let h = open(true);
    assert_eq!(login(h, PIN1), CKR_OK);
    h
}

fn ulong(n: CK_ULONG) -> Vec<u8> {
    n.to_ne_bytes().to_vec()
}

fn flag(b: bool) -> Vec<u8> {
    vec![if b { CK_TRUE } else { CK_FALSE }]
}

/// A template whose values live as long as it does.
struct Template {
    _values: Vec<Vec<u8>>,
    attrs: Vec<CK_ATTRIBUTE>,
}

impl Template {
    fn new(items: &[(CK_ATTRIBUTE_TYPE, Vec<u8>)]) -> Template {
        let mut values: Vec<Vec<u8>> = items.iter().map(|(_, v)| v.clone()).collect();
        let attrs = items
            .iter()
            .zip(values.iter_mut())
            .map(|((ty, _), v)| CK_ATTRIBUTE {
                type_: *ty,
                pValue: v.as_mut_ptr() as *mut c_void,
                ulValueLen: v.len() as CK_ULONG,
            })
            .collect();
        Template {
            _values: values,
            attrs,
        }
    }

    fn ptr(&mut self) -> *mut CK_ATTRIBUTE {
        self.attrs.as_mut_ptr()
    }

    fn len(&self) -> CK_ULONG {
        self.attrs.len() as CK_ULONG
    }
}

fn mechanism(mechanism: CK_MECHANISM_TYPE) -> CK_MECHANISM {
    CK_MECHANISM {
        mechanism,
        pParameter: null_mut(),
        ulParameterLen: 0,
    }
}

/// An AES key of `extra` attributes; a session key unless `extra` says otherwise.
fn aes(h: CK_SESSION_HANDLE, extra: &[(CK_ATTRIBUTE_TYPE, Vec<u8>)]) -> CK_OBJECT_HANDLE {
    let mut items = vec![(CKA_VALUE_LEN, ulong(16))];
    items.extend_from_slice(extra);
    let mut t = Template::new(&items);
    let mut m = mechanism(CKM_AES_KEY_GEN);
    let mut key = 0;
    assert_eq!(
        ck!(C_GenerateKey(h, &mut m, t.ptr(), t.len(), &mut key)),
        CKR_OK
    );
    key
}

/// An RSA 2048 pair (session keys) made with `gen`: (public, private).
fn rsa(h: CK_SESSION_HANDLE, gen: CK_MECHANISM_TYPE) -> (CK_OBJECT_HANDLE, CK_OBJECT_HANDLE) {
    let mut public = Template::new(&[(CKA_MODULUS_BITS, ulong(2048)), (CKA_VERIFY, flag(true))]);
    let mut private = Template::new(&[(CKA_SIGN, flag(true))]);
    let mut m = mechanism(gen);
    let (mut p, mut q) = (0, 0);
    let rv = ck!(C_GenerateKeyPair(
        h,
        &mut m,
        public.ptr(),
        public.len(),
        private.ptr(),
        private.len(),
        &mut p,
        &mut q
    ));
    assert_eq!(rv, CKR_OK);
    (p, q)
}

/// One attribute read into a buffer of `size` bytes: the return code, the length the
/// module set, and the buffer.
fn attribute(
    h: CK_SESSION_HANDLE,
    key: CK_OBJECT_HANDLE,
    ty: CK_ATTRIBUTE_TYPE,
    size: usize,
) -> (CK_RV, CK_ULONG, Vec<u8>) {
    let mut buf = vec![0xAA; size];
    let mut a = CK_ATTRIBUTE {
        type_: ty,
        pValue: buf.as_mut_ptr() as *mut c_void,
        ulValueLen: size as CK_ULONG,
    };
    let rv = ck!(C_GetAttributeValue(h, key, &mut a, 1));
    (rv, a.ulValueLen, buf)
}

fn value(h: CK_SESSION_HANDLE, key: CK_OBJECT_HANDLE, ty: CK_ATTRIBUTE_TYPE) -> Vec<u8> {
    let (rv, len, mut buf) = attribute(h, key, ty, 1024);
    assert_eq!(rv, CKR_OK, "attribute {ty:#x}");
    buf.truncate(len as usize);
    buf
}

#[test]
fn the_function_list_is_version_2_40_and_complete() {
    let list = functions();
    assert_eq!((list.version.major, list.version.minor), (2, 40));
    // Callers dereference every entry: none is NULL.
    assert!(list.C_WaitForSlotEvent.is_some() && list.C_GetFunctionStatus.is_some());
    // SAFETY: NULL on purpose.
    assert_eq!(
        unsafe { (list.C_GetFunctionList.unwrap())(null_mut()) },
        CKR_ARGUMENTS_BAD
    );
}

#[test]
fn initialize_and_finalize_follow_the_standard() {
    let fixture = Fixture::new();
    std::env::set_var("CLOUDHSM_SIM_HOME", &fixture.root);
    let _finalize = Finalize;
    let mut info: CK_INFO = unsafe { std::mem::zeroed() };
    let mut h = 0;
    let mut n = 0;
    // Before C_Initialize.
    assert_eq!(ck!(C_GetInfo(&mut info)), CKR_CRYPTOKI_NOT_INITIALIZED);
    assert_eq!(
        ck!(C_GetSlotList(CK_TRUE, null_mut(), &mut n)),
        CKR_CRYPTOKI_NOT_INITIALIZED
    );
    let flags = CKF_SERIAL_SESSION | CKF_RW_SESSION;
    let rv = ck!(C_OpenSession(
        0x2000_0000_0000_0001,
        flags,
        null_mut(),
        None,
        &mut h
    ));
    assert_eq!(rv, CKR_CRYPTOKI_NOT_INITIALIZED);
    assert_eq!(ck!(C_CloseSession(1)), CKR_CRYPTOKI_NOT_INITIALIZED);
    assert_eq!(ck!(C_Finalize(null_mut())), CKR_CRYPTOKI_NOT_INITIALIZED);

    let args = |flags: CK_FLAGS| CK_C_INITIALIZE_ARGS {
        CreateMutex: None,
        DestroyMutex: None,
        LockMutex: None,
        UnlockMutex: None,
        flags,
        pReserved: null_mut(),
    };
    // Some but not all mutex callbacks; pReserved set.
    unsafe extern "C" fn create(_: *mut *mut c_void) -> CK_RV {
        CKR_OK
    }
    unsafe extern "C" fn destroy(_: *mut c_void) -> CK_RV {
        CKR_OK
    }
    let mut partial = args(0);
    partial.CreateMutex = Some(create);
    partial.DestroyMutex = Some(destroy);
    let p = &mut partial as *mut CK_C_INITIALIZE_ARGS as *mut c_void;
    assert_eq!(ck!(C_Initialize(p)), CKR_ARGUMENTS_BAD);
    let mut reserved = args(CKF_OS_LOCKING_OK);
    let mut anything = 0u8;
    reserved.pReserved = &mut anything as *mut u8 as *mut c_void;
    let p = &mut reserved as *mut CK_C_INITIALIZE_ARGS as *mut c_void;
    assert_eq!(ck!(C_Initialize(p)), CKR_ARGUMENTS_BAD);
    // Refused arguments left the module uninitialised.
    assert_eq!(ck!(C_GetInfo(&mut info)), CKR_CRYPTOKI_NOT_INITIALIZED);

    // NULL, then CKF_OS_LOCKING_OK, each in a finalize → initialize cycle that logs in.
    let mut locking = args(CKF_OS_LOCKING_OK);
    let with_locking = &mut locking as *mut CK_C_INITIALIZE_ARGS as *mut c_void;
    for init in [null_mut(), with_locking, null_mut()] {
        assert_eq!(ck!(C_Initialize(init)), CKR_OK);
        assert_eq!(ck!(C_Initialize(init)), CKR_CRYPTOKI_ALREADY_INITIALIZED);
        assert_eq!(ck!(C_GetInfo(&mut info)), CKR_OK);
        assert_eq!(
            (info.cryptokiVersion.major, info.cryptokiVersion.minor),
            (2, 40)
        );
        let h = open(true);
        // The login of the previous cycle ended with C_Finalize.
        assert_eq!(login(h, PIN1), CKR_OK);
        let mut byte = 0u8;
        assert_eq!(
            ck!(C_Finalize(&mut byte as *mut u8 as *mut c_void)),
            CKR_ARGUMENTS_BAD
        );
        assert_eq!(ck!(C_Finalize(null_mut())), CKR_OK);
        // Handles of the finished run are gone.
        assert_eq!(ck!(C_CloseSession(h)), CKR_CRYPTOKI_NOT_INITIALIZED);
    }
    // The CLI sees no login left behind: cu1's password still logs in there.
    let out = fixture.cli_as("cu1", common::CU1_PW, &["key", "list"]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );
}

#[test]
fn slot_list_follows_the_buffer_protocol() {
    let _m = Module::new();
    let mut n: CK_ULONG = 0;
    assert_eq!(ck!(C_GetSlotList(CK_TRUE, null_mut(), &mut n)), CKR_OK);
    assert_eq!(n, 1);
    // A zero-length array is too small; the count comes back.
    let mut slots = [0 as CK_SLOT_ID; 2];
    n = 0;
    assert_eq!(
        ck!(C_GetSlotList(CK_FALSE, slots.as_mut_ptr(), &mut n)),
        CKR_BUFFER_TOO_SMALL
    );
    assert_eq!(n, 1);
    n = 2;
    assert_eq!(
        ck!(C_GetSlotList(CK_FALSE, slots.as_mut_ptr(), &mut n)),
        CKR_OK
    );
    assert_eq!((n, slots[0]), (1, 0x2000_0000_0000_0001));
    assert_eq!(
        ck!(C_GetSlotList(CK_TRUE, slots.as_mut_ptr(), null_mut())),
        CKR_ARGUMENTS_BAD
    );

    // The mechanism list, the same way.
    n = 0;
    assert_eq!(
        ck!(C_GetMechanismList(slots[0], null_mut(), &mut n)),
        CKR_OK
    );
    let count = n;
    assert!(count > 2);
    let mut list = vec![0; count as usize];
    n = 1;
    assert_eq!(
        ck!(C_GetMechanismList(slots[0], list.as_mut_ptr(), &mut n)),
        CKR_BUFFER_TOO_SMALL
    );
    assert_eq!(n, count);
    assert_eq!(
        ck!(C_GetMechanismList(slots[0], list.as_mut_ptr(), &mut n)),
        CKR_OK
    );
    list.sort();
    let mut expected = IMPLEMENTED.to_vec();
    expected.sort();
    assert_eq!(list, expected);
    // Each listed one has its information; others are invalid.
    let mut info: CK_MECHANISM_INFO = unsafe { std::mem::zeroed() };
    for m in list {
        assert_eq!(
            ck!(C_GetMechanismInfo(slots[0], m, &mut info)),
            CKR_OK,
            "{m:#x}"
        );
        assert_ne!(
            info.flags
                & (CKF_SIGN
                    | CKF_DIGEST
                    | CKF_GENERATE
                    | CKF_GENERATE_KEY_PAIR
                    | CKF_ENCRYPT
                    | CKF_DERIVE
                    | CKF_WRAP),
            0
        );
    }
    for m in [
        CKM_MD5,
        CKM_DSA,
        CKM_DES_KEY_GEN,
        CKM_SHA256_KEY_GEN,
        CKM_VENDOR_DEFINED | 0x4242,
    ] {
        assert_eq!(
            ck!(C_GetMechanismInfo(slots[0], m, &mut info)),
            CKR_MECHANISM_INVALID,
            "{m:#x}"
        );
    }
    assert_eq!(
        ck!(C_GetMechanismInfo(0x42, CKM_SHA256, &mut info)),
        CKR_SLOT_ID_INVALID
    );
}

/// What the module implements and lists, exactly (spec §3.10: nothing more). The encryption
/// work extends this list: a mechanism listed and not implemented, or the reverse, fails here.
const IMPLEMENTED: &[CK_MECHANISM_TYPE] = &[
    CKM_RSA_PKCS_KEY_PAIR_GEN,
    CKM_RSA_X9_31_KEY_PAIR_GEN,
    CKM_EC_KEY_PAIR_GEN,
    CKM_AES_KEY_GEN,
    CKM_GENERIC_SECRET_KEY_GEN,
    CKM_RSA_PKCS,
    CKM_SHA1_RSA_PKCS,
    CKM_SHA224_RSA_PKCS,
    CKM_SHA256_RSA_PKCS,
    CKM_SHA384_RSA_PKCS,
    CKM_SHA512_RSA_PKCS,
    CKM_RSA_PKCS_PSS,
    CKM_SHA1_RSA_PKCS_PSS,
    CKM_SHA224_RSA_PKCS_PSS,
    CKM_SHA256_RSA_PKCS_PSS,
    CKM_SHA384_RSA_PKCS_PSS,
    CKM_SHA512_RSA_PKCS_PSS,
    CKM_ECDSA,
    CKM_ECDSA_SHA1,
    CKM_ECDSA_SHA224,
    CKM_ECDSA_SHA256,
    CKM_ECDSA_SHA384,
    CKM_ECDSA_SHA512,
    CKM_SHA_1_HMAC,
    CKM_SHA224_HMAC,
    CKM_SHA256_HMAC,
    CKM_SHA384_HMAC,
    CKM_SHA512_HMAC,
    CKM_SHA_1,
    CKM_SHA224,
    CKM_SHA256,
    CKM_SHA384,
    CKM_SHA512,
    CKM_ECDH1_DERIVE,
    vendor::CKM_CLOUDHSM_SP800_108_COUNTER_KDF,
    CKM_AES_ECB,
    CKM_AES_CBC,
    CKM_AES_CBC_PAD,
    CKM_AES_CTR,
    CKM_AES_GCM,
    vendor::CKM_CLOUDHSM_AES_GCM,
    CKM_RSA_PKCS_OAEP,
    CKM_RSA_X_509,
    CKM_RSA_AES_KEY_WRAP,
    CKM_AES_KEY_WRAP,
    CKM_AES_KEY_WRAP_PAD,
    vendor::CKM_CLOUDHSM_AES_KEY_WRAP_NO_PAD,
    vendor::CKM_CLOUDHSM_AES_KEY_WRAP_PKCS5_PAD,
    vendor::CKM_CLOUDHSM_AES_KEY_WRAP_ZERO_PAD,
    // The fixture's cluster is not in FIPS mode: DES3 is there.
    CKM_DES3_KEY_GEN,
    CKM_DES3_ECB,
    CKM_DES3_CBC,
    CKM_DES3_CBC_PAD,
];

#[test]
fn null_pointers_are_refused() {
    let _m = Module::new();
    let slot = slot();
    assert_eq!(ck!(C_GetInfo(null_mut())), CKR_ARGUMENTS_BAD);
    assert_eq!(ck!(C_GetSlotInfo(slot, null_mut())), CKR_ARGUMENTS_BAD);
    assert_eq!(ck!(C_GetTokenInfo(slot, null_mut())), CKR_ARGUMENTS_BAD);
    assert_eq!(
        ck!(C_GetMechanismInfo(slot, CKM_SHA256, null_mut())),
        CKR_ARGUMENTS_BAD
    );
    let flags = CKF_SERIAL_SESSION | CKF_RW_SESSION;
    assert_eq!(
        ck!(C_OpenSession(slot, flags, null_mut(), None, null_mut())),
        CKR_ARGUMENTS_BAD
    );
    let h = open(true);
    assert_eq!(ck!(C_GetSessionInfo(h, null_mut())), CKR_ARGUMENTS_BAD);
    assert_eq!(ck!(C_Login(h, CKU_USER, null_mut(), 5)), CKR_ARGUMENTS_BAD);
    assert_eq!(login(h, PIN1), CKR_OK);
    assert_eq!(ck!(C_GenerateRandom(h, null_mut(), 16)), CKR_ARGUMENTS_BAD);
    assert_eq!(ck!(C_GenerateRandom(h, null_mut(), 0)), CKR_OK);
    assert_eq!(ck!(C_DigestInit(h, null_mut())), CKR_ARGUMENTS_BAD);
    assert_eq!(ck!(C_SignInit(h, null_mut(), 1)), CKR_ARGUMENTS_BAD);
    // A template pointer NULL with attributes counted.
    let mut m = mechanism(CKM_AES_KEY_GEN);
    let mut key = 0;
    assert_eq!(
        ck!(C_GenerateKey(h, &mut m, null_mut(), 2, &mut key)),
        CKR_ARGUMENTS_BAD
    );
    let mut t = Template::new(&[(CKA_VALUE_LEN, ulong(16))]);
    assert_eq!(
        ck!(C_GenerateKey(h, &mut m, t.ptr(), t.len(), null_mut())),
        CKR_ARGUMENTS_BAD
    );
    // An attribute value NULL with a length.
    let mut bad = CK_ATTRIBUTE {
        type_: CKA_LABEL,
        pValue: null_mut(),
        ulValueLen: 4,
    };
    assert_eq!(
        ck!(C_GenerateKey(h, &mut m, &mut bad, 1, &mut key)),
        CKR_ARGUMENTS_BAD
    );
    let key = aes(h, &[]);
    assert_eq!(
        ck!(C_GetAttributeValue(h, key, null_mut(), 1)),
        CKR_ARGUMENTS_BAD
    );
    assert_eq!(ck!(C_GetObjectSize(h, key, null_mut())), CKR_ARGUMENTS_BAD);
    // C_FindObjects without a count pointer.
    assert_eq!(ck!(C_FindObjectsInit(h, null_mut(), 0)), CKR_OK);
    let mut found = [0; 4];
    assert_eq!(
        ck!(C_FindObjects(h, found.as_mut_ptr(), 4, null_mut())),
        CKR_ARGUMENTS_BAD
    );
    assert_eq!(ck!(C_FindObjectsFinal(h)), CKR_OK);
    // C_Sign without a length pointer.
    let mut m = mechanism(CKM_SHA256_HMAC);
    let hmac = aes(h, &[(CKA_SIGN, flag(true))]);
    assert_eq!(ck!(C_SignInit(h, &mut m, hmac)), CKR_OK);
    let mut data = *b"data";
    assert_eq!(
        ck!(C_Sign(h, data.as_mut_ptr(), 4, null_mut(), null_mut())),
        CKR_ARGUMENTS_BAD
    );
    assert_eq!(
        ck!(C_Sign(h, null_mut(), 4, null_mut(), &mut 0)),
        CKR_ARGUMENTS_BAD
    );
}

#[test]
fn attribute_values_follow_readability_and_the_buffer_protocol() {
    let _m = Module::new();
    let h = user_session();
    let (public, private) = rsa(h, CKM_RSA_PKCS_KEY_PAIR_GEN);

    // NULL pValue: the length only.
    let mut a = CK_ATTRIBUTE {
        type_: CKA_MODULUS,
        pValue: null_mut(),
        ulValueLen: 0,
    };
    assert_eq!(ck!(C_GetAttributeValue(h, public, &mut a, 1)), CKR_OK);
    assert_eq!(a.ulValueLen, 256);
    // Too small: CKR_BUFFER_TOO_SMALL, CK_UNAVAILABLE_INFORMATION, nothing written.
    let (rv, len, buf) = attribute(h, public, CKA_MODULUS, 100);
    assert_eq!(
        (rv, len),
        (CKR_BUFFER_TOO_SMALL, CK_UNAVAILABLE_INFORMATION)
    );
    assert!(buf.iter().all(|b| *b == 0xAA));
    // A 1-byte CK_BBOOL into an 8-byte buffer: one byte written, length 1.
    let (rv, len, buf) = attribute(h, private, CKA_SIGN, 8);
    assert_eq!((rv, len), (CKR_OK, 1));
    assert_eq!(buf, [CK_TRUE, 0xAA, 0xAA, 0xAA, 0xAA, 0xAA, 0xAA, 0xAA]);

    // The private exponent is sensitive; MODULUS_BITS is not an attribute of a private key.
    let (rv, len, _) = attribute(h, private, CKA_PRIVATE_EXPONENT, 512);
    assert_eq!(
        (rv, len),
        (CKR_ATTRIBUTE_SENSITIVE, CK_UNAVAILABLE_INFORMATION)
    );
    let (rv, len, _) = attribute(h, private, CKA_MODULUS_BITS, 8);
    assert_eq!(
        (rv, len),
        (CKR_ATTRIBUTE_TYPE_INVALID, CK_UNAVAILABLE_INFORMATION)
    );
    assert_eq!(value(h, public, CKA_MODULUS_BITS), ulong(2048));
    assert_eq!(
        value(h, private, CKA_MODULUS),
        value(h, public, CKA_MODULUS)
    );

    // A template mixing them: every readable value is still given, the code is the failure.
    let mut modulus = vec![0u8; 256];
    let mut sensitive = vec![0u8; 256];
    let mut t = [
        CK_ATTRIBUTE {
            type_: CKA_MODULUS,
            pValue: modulus.as_mut_ptr() as *mut c_void,
            ulValueLen: 256,
        },
        CK_ATTRIBUTE {
            type_: CKA_PRIME_1,
            pValue: sensitive.as_mut_ptr() as *mut c_void,
            ulValueLen: 256,
        },
    ];
    assert_eq!(
        ck!(C_GetAttributeValue(h, private, t.as_mut_ptr(), 2)),
        CKR_ATTRIBUTE_SENSITIVE
    );
    assert_eq!(
        (t[0].ulValueLen, t[1].ulValueLen),
        (256, CK_UNAVAILABLE_INFORMATION)
    );
    assert_eq!(modulus, value(h, public, CKA_MODULUS));

    // AES: VALUE sensitive by default; readable by its owner when not sensitive and extractable.
    let hidden = aes(h, &[]);
    let (rv, len, _) = attribute(h, hidden, CKA_VALUE, 32);
    assert_eq!(
        (rv, len),
        (CKR_ATTRIBUTE_SENSITIVE, CK_UNAVAILABLE_INFORMATION)
    );
    let open = aes(
        h,
        &[(CKA_SENSITIVE, flag(false)), (CKA_EXTRACTABLE, flag(true))],
    );
    let (rv, len, _) = attribute(h, open, CKA_VALUE, 32);
    assert_eq!((rv, len), (CKR_OK, 16));
    let fixed = aes(
        h,
        &[(CKA_SENSITIVE, flag(false)), (CKA_EXTRACTABLE, flag(false))],
    );
    assert_eq!(
        attribute(h, fixed, CKA_VALUE, 32).0,
        CKR_ATTRIBUTE_SENSITIVE
    );
    assert_eq!(value(h, open, CKA_VALUE_LEN), ulong(16));
    // An attribute no key has.
    assert_eq!(
        attribute(h, open, CKA_MODULUS, 8).0,
        CKR_ATTRIBUTE_TYPE_INVALID
    );
    assert_eq!(
        attribute(h, open, 0x7fff_fff0, 8).0,
        CKR_ATTRIBUTE_TYPE_INVALID
    );

    // A stale handle.
    assert_eq!(ck!(C_DestroyObject(h, open)), CKR_OK);
    assert_eq!(
        attribute(h, open, CKA_LABEL, 8).0,
        CKR_OBJECT_HANDLE_INVALID
    );
}

#[test]
fn find_objects_counts_without_consuming_on_a_null_array() {
    let _m = Module::new();
    let h = user_session();
    let label = b"counted".to_vec();
    let made: Vec<CK_OBJECT_HANDLE> = (0..3)
        .map(|_| aes(h, &[(CKA_LABEL, label.clone())]))
        .collect();
    aes(h, &[(CKA_LABEL, b"other".to_vec())]);
    let mut t = Template::new(&[(CKA_LABEL, label)]);
    assert_eq!(ck!(C_FindObjectsInit(h, t.ptr(), t.len())), CKR_OK);
    let mut n: CK_ULONG = 99;
    assert_eq!(ck!(C_FindObjects(h, null_mut(), 2, &mut n)), CKR_OK);
    assert_eq!(n, 2);
    assert_eq!(ck!(C_FindObjects(h, null_mut(), 10, &mut n)), CKR_OK);
    assert_eq!(n, 3);
    // Nothing was taken: one, then the rest.
    let mut found = [0 as CK_OBJECT_HANDLE; 10];
    assert_eq!(ck!(C_FindObjects(h, found.as_mut_ptr(), 1, &mut n)), CKR_OK);
    assert_eq!(n, 1);
    assert_eq!(
        ck!(C_FindObjects(h, found[1..].as_mut_ptr(), 9, &mut n)),
        CKR_OK
    );
    assert_eq!(n, 2);
    let mut got = found[..3].to_vec();
    got.sort();
    assert_eq!(got, made);
    assert_eq!(
        ck!(C_FindObjects(h, found.as_mut_ptr(), 10, &mut n)),
        CKR_OK
    );
    assert_eq!(n, 0);
    assert_eq!(ck!(C_FindObjectsFinal(h)), CKR_OK);
    assert_eq!(
        ck!(C_FindObjects(h, found.as_mut_ptr(), 10, &mut n)),
        CKR_OPERATION_NOT_INITIALIZED
    );
    assert_eq!(ck!(C_FindObjectsFinal(h)), CKR_OPERATION_NOT_INITIALIZED);
}

/// `C_Sign(data)` with the buffer protocol: NULL → length (operation still active), too
/// small → `CKR_BUFFER_TOO_SMALL` with the length (still active), then the signature, which
/// ends the operation.
fn sign_by_protocol(h: CK_SESSION_HANDLE, data: &[u8], expected_len: CK_ULONG) -> Vec<u8> {
    let mut data = data.to_vec();
    let len = data.len() as CK_ULONG;
    let mut n: CK_ULONG = 0;
    assert_eq!(
        ck!(C_Sign(h, data.as_mut_ptr(), len, null_mut(), &mut n)),
        CKR_OK
    );
    assert_eq!(n, expected_len);
    let mut signature = vec![0u8; n as usize];
    n = 10;
    assert_eq!(
        ck!(C_Sign(
            h,
            data.as_mut_ptr(),
            len,
            signature.as_mut_ptr(),
            &mut n
        )),
        CKR_BUFFER_TOO_SMALL
    );
    assert_eq!(n, expected_len);
    n = signature.len() as CK_ULONG + 16;
    signature.resize(n as usize, 0);
    assert_eq!(
        ck!(C_Sign(
            h,
            data.as_mut_ptr(),
            len,
            signature.as_mut_ptr(),
            &mut n
        )),
        CKR_OK
    );
    assert_eq!(n, expected_len);
    signature.truncate(n as usize);
    // Delivered: the operation ended.
    let rv = ck!(C_Sign(
        h,
        data.as_mut_ptr(),
        len,
        signature.as_mut_ptr(),
        &mut n
    ));
    assert_eq!(rv, CKR_OPERATION_NOT_INITIALIZED);
    signature
}

#[test]
fn sign_follows_the_buffer_protocol_single_and_multi_part() {
    let _m = Module::new();
    let h = user_session();
    let (public, private) = rsa(h, CKM_RSA_PKCS_KEY_PAIR_GEN);
    let spki = rsa_spki(
        &value(h, public, CKA_MODULUS),
        &value(h, public, CKA_PUBLIC_EXPONENT),
    );
    let data = b"the buffer protocol of C_Sign".to_vec();

    let mut m = mechanism(CKM_SHA256_RSA_PKCS);
    assert_eq!(ck!(C_SignInit(h, &mut m, private)), CKR_OK);
    let single = sign_by_protocol(h, &data, 256);
    let verify = [
        "dgst",
        "-sha256",
        "-verify",
        "{key}",
        "-signature",
        "{sig}",
        "{data}",
    ];
    assert!(openssl(&verify, &spki, &single, &data).0);

    // Multi-part: C_SignFinal keeps the same protocol.
    assert_eq!(ck!(C_SignInit(h, &mut m, private)), CKR_OK);
    for part in data.chunks(7) {
        let mut part = part.to_vec();
        assert_eq!(
            ck!(C_SignUpdate(h, part.as_mut_ptr(), part.len() as CK_ULONG)),
            CKR_OK
        );
    }
    let mut n: CK_ULONG = 0;
    assert_eq!(ck!(C_SignFinal(h, null_mut(), &mut n)), CKR_OK);
    assert_eq!(n, 256);
    let mut multi = vec![0u8; 256];
    n = 255;
    assert_eq!(
        ck!(C_SignFinal(h, multi.as_mut_ptr(), &mut n)),
        CKR_BUFFER_TOO_SMALL
    );
    assert_eq!(n, 256);
    assert_eq!(ck!(C_SignFinal(h, multi.as_mut_ptr(), &mut n)), CKR_OK);
    // PKCS#1 v1.5 is deterministic: parts or whole, the same signature.
    assert_eq!(multi, single);
    assert_eq!(
        ck!(C_SignFinal(h, multi.as_mut_ptr(), &mut n)),
        CKR_OPERATION_NOT_INITIALIZED
    );

    // C_Verify of a signature of the wrong length, and of an altered one.
    let mut v = mechanism(CKM_SHA256_RSA_PKCS);
    let mut d = data.clone();
    let dl = d.len() as CK_ULONG;
    assert_eq!(ck!(C_VerifyInit(h, &mut v, public)), CKR_OK);
    assert_eq!(
        ck!(C_Verify(h, d.as_mut_ptr(), dl, multi.as_mut_ptr(), 255)),
        CKR_SIGNATURE_LEN_RANGE
    );
    multi[10] ^= 1;
    assert_eq!(ck!(C_VerifyInit(h, &mut v, public)), CKR_OK);
    assert_eq!(
        ck!(C_Verify(h, d.as_mut_ptr(), dl, multi.as_mut_ptr(), 256)),
        CKR_SIGNATURE_INVALID
    );
    multi[10] ^= 1;
    assert_eq!(ck!(C_VerifyInit(h, &mut v, public)), CKR_OK);
    assert_eq!(
        ck!(C_Verify(h, d.as_mut_ptr(), dl, multi.as_mut_ptr(), 256)),
        CKR_OK
    );
}

#[test]
fn digest_follows_the_buffer_protocol() {
    let _m = Module::new();
    let h = open(false); // no login needed
    let mut m = mechanism(CKM_SHA256);
    let mut data = b"abc".to_vec();
    let sha256_abc = "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad";
    assert_eq!(ck!(C_DigestInit(h, &mut m)), CKR_OK);
    assert_eq!(ck!(C_DigestInit(h, &mut m)), CKR_OPERATION_ACTIVE);
    let mut n: CK_ULONG = 0;
    assert_eq!(
        ck!(C_Digest(h, data.as_mut_ptr(), 3, null_mut(), &mut n)),
        CKR_OK
    );
    assert_eq!(n, 32);
    let mut out = [0u8; 64];
    n = 31;
    assert_eq!(
        ck!(C_Digest(h, data.as_mut_ptr(), 3, out.as_mut_ptr(), &mut n)),
        CKR_BUFFER_TOO_SMALL
    );
    assert_eq!(n, 32);
    n = 64;
    assert_eq!(
        ck!(C_Digest(h, data.as_mut_ptr(), 3, out.as_mut_ptr(), &mut n)),
        CKR_OK
    );
    assert_eq!(n, 32);
    assert_eq!(hex(&out[..32]), sha256_abc);
    assert_eq!(
        ck!(C_Digest(h, data.as_mut_ptr(), 3, out.as_mut_ptr(), &mut n)),
        CKR_OPERATION_NOT_INITIALIZED
    );
    // Multi-part, with C_DigestFinal's protocol.
    assert_eq!(ck!(C_DigestInit(h, &mut m)), CKR_OK);
    assert_eq!(ck!(C_DigestUpdate(h, data.as_mut_ptr(), 1)), CKR_OK);
    assert_eq!(ck!(C_DigestUpdate(h, data[1..].as_mut_ptr(), 2)), CKR_OK);
    n = 0;
    assert_eq!(ck!(C_DigestFinal(h, null_mut(), &mut n)), CKR_OK);
    assert_eq!(n, 32);
    n = 1;
    assert_eq!(
        ck!(C_DigestFinal(h, out.as_mut_ptr(), &mut n)),
        CKR_BUFFER_TOO_SMALL
    );
    n = 32;
    assert_eq!(ck!(C_DigestFinal(h, out.as_mut_ptr(), &mut n)), CKR_OK);
    assert_eq!(hex(&out[..32]), sha256_abc);
    assert_eq!(
        ck!(C_DigestFinal(h, out.as_mut_ptr(), &mut n)),
        CKR_OPERATION_NOT_INITIALIZED
    );
    // C_Digest after an update is out of order.
    assert_eq!(ck!(C_DigestInit(h, &mut m)), CKR_OK);
    assert_eq!(ck!(C_DigestUpdate(h, data.as_mut_ptr(), 3)), CKR_OK);
    n = 32;
    assert_eq!(
        ck!(C_Digest(h, data.as_mut_ptr(), 3, out.as_mut_ptr(), &mut n)),
        CKR_OPERATION_ACTIVE
    );
    let mut digest_key = mechanism(CKM_MD5);
    assert_eq!(ck!(C_DigestInit(h, &mut digest_key)), CKR_MECHANISM_INVALID);
}

/// Mechanisms `cryptoki` has no variant for: `CKM_RSA_X9_31_KEY_PAIR_GEN` and
/// `CKM_SHA224_RSA_PKCS_PSS`; and PSS parameters that do not match the mechanism.
#[test]
fn x9_31_keys_and_sha224_pss_signatures() {
    let _m = Module::new();
    let h = user_session();
    let (public, private) = rsa(h, CKM_RSA_X9_31_KEY_PAIR_GEN);
    assert_eq!(value(h, public, CKA_MODULUS_BITS), ulong(2048));
    assert_eq!(value(h, public, CKA_KEY_TYPE), ulong(CKK_RSA));
    let spki = rsa_spki(
        &value(h, public, CKA_MODULUS),
        &value(h, public, CKA_PUBLIC_EXPONENT),
    );
    let mut params = CK_RSA_PKCS_PSS_PARAMS {
        hashAlg: CKM_SHA224,
        mgf: CKG_MGF1_SHA224,
        sLen: 28,
    };
    let mut m = CK_MECHANISM {
        mechanism: CKM_SHA224_RSA_PKCS_PSS,
        pParameter: &mut params as *mut CK_RSA_PKCS_PSS_PARAMS as *mut c_void,
        ulParameterLen: size_of::<CK_RSA_PKCS_PSS_PARAMS>() as CK_ULONG,
    };
    let data = b"signed with SHA-224 and PSS".to_vec();
    assert_eq!(ck!(C_SignInit(h, &mut m, private)), CKR_OK);
    let signature = sign_by_protocol(h, &data, 256);
    let verify = [
        "dgst",
        "-sha224",
        "-sigopt",
        "rsa_padding_mode:pss",
        "-sigopt",
        "rsa_pss_saltlen:28",
        "-sigopt",
        "rsa_mgf1_md:sha224",
        "-verify",
        "{key}",
        "-signature",
        "{sig}",
        "{data}",
    ];
    assert!(openssl(&verify, &spki, &signature, &data).0);
    assert_eq!(ck!(C_VerifyInit(h, &mut m, public)), CKR_OK);
    let mut d = data.clone();
    let mut s = signature.clone();
    assert_eq!(
        ck!(C_Verify(
            h,
            d.as_mut_ptr(),
            d.len() as CK_ULONG,
            s.as_mut_ptr(),
            256
        )),
        CKR_OK
    );

    // The parameters' hash must be the mechanism's; the structure must be whole.
    let p = m.pParameter as *mut CK_RSA_PKCS_PSS_PARAMS;
    // SAFETY: `p` points to `params`, alive and not otherwise borrowed.
    unsafe { (*p).hashAlg = CKM_SHA256 };
    assert_eq!(
        ck!(C_SignInit(h, &mut m, private)),
        CKR_MECHANISM_PARAM_INVALID
    );
    // SAFETY: as above.
    unsafe { (*p).hashAlg = CKM_SHA224 };
    m.ulParameterLen -= 1;
    assert_eq!(
        ck!(C_SignInit(h, &mut m, private)),
        CKR_MECHANISM_PARAM_INVALID
    );
    m.pParameter = null_mut();
    assert_eq!(
        ck!(C_SignInit(h, &mut m, private)),
        CKR_MECHANISM_PARAM_INVALID
    );
    // Nothing was left active by the refusals.
    let mut plain = mechanism(CKM_SHA224_RSA_PKCS);
    assert_eq!(ck!(C_SignInit(h, &mut plain, private)), CKR_OK);
}

#[test]
fn sessions_need_the_serial_flag_and_a_valid_handle() {
    let _m = Module::new();
    let slot = slot();
    let mut h = 0;
    let rv = ck!(C_OpenSession(
        slot,
        CKF_RW_SESSION,
        null_mut(),
        None,
        &mut h
    ));
    assert_eq!(rv, CKR_SESSION_PARALLEL_NOT_SUPPORTED);
    let rv = ck!(C_OpenSession(
        0x42,
        CKF_SERIAL_SESSION,
        null_mut(),
        None,
        &mut h
    ));
    assert_eq!(rv, CKR_SLOT_ID_INVALID);
    let mut info: CK_SESSION_INFO = unsafe { std::mem::zeroed() };
    let bad = 0xdead_beef;
    assert_eq!(
        ck!(C_GetSessionInfo(bad, &mut info)),
        CKR_SESSION_HANDLE_INVALID
    );
    assert_eq!(login(bad, PIN1), CKR_SESSION_HANDLE_INVALID);
    assert_eq!(ck!(C_Logout(bad)), CKR_SESSION_HANDLE_INVALID);
    assert_eq!(ck!(C_CloseSession(bad)), CKR_SESSION_HANDLE_INVALID);
    assert_eq!(
        ck!(C_FindObjectsInit(bad, null_mut(), 0)),
        CKR_SESSION_HANDLE_INVALID
    );
    assert_eq!(
        ck!(C_GenerateRandom(bad, [0u8; 4].as_mut_ptr(), 4)),
        CKR_SESSION_HANDLE_INVALID
    );
    let mut m = mechanism(CKM_SHA256);
    assert_eq!(ck!(C_DigestInit(bad, &mut m)), CKR_SESSION_HANDLE_INVALID);
    assert_eq!(
        ck!(C_SeedRandom(bad, [0u8; 4].as_mut_ptr(), 4)),
        CKR_SESSION_HANDLE_INVALID
    );

    // A closed session's handle is invalid; C_CloseAllSessions closes every one and logs out.
    let a = user_session();
    let b = open(false);
    assert_eq!(ck!(C_GetSessionInfo(b, &mut info)), CKR_OK);
    assert_eq!(
        (info.state, info.flags),
        (CKS_RO_USER_FUNCTIONS, CKF_SERIAL_SESSION)
    );
    assert_eq!(ck!(C_CloseSession(a)), CKR_OK);
    assert_eq!(ck!(C_CloseSession(a)), CKR_SESSION_HANDLE_INVALID);
    assert_eq!(ck!(C_GetSessionInfo(b, &mut info)), CKR_OK);
    assert_eq!(info.state, CKS_RO_USER_FUNCTIONS);
    let c = open(true);
    assert_eq!(ck!(C_CloseAllSessions(0x42)), CKR_SLOT_ID_INVALID);
    assert_eq!(ck!(C_CloseAllSessions(slot)), CKR_OK);
    for h in [b, c] {
        assert_eq!(
            ck!(C_GetSessionInfo(h, &mut info)),
            CKR_SESSION_HANDLE_INVALID
        );
    }
    let d = open(true);
    assert_eq!(ck!(C_GetSessionInfo(d, &mut info)), CKR_OK);
    assert_eq!(
        (info.state, info.flags),
        (CKS_RW_PUBLIC_SESSION, CKF_SERIAL_SESSION | CKF_RW_SESSION)
    );
    assert_eq!(info.slotID, slot);
}

#[test]
fn object_size_and_functions_aws_does_not_have() {
    let _m = Module::new();
    let h = user_session();
    let key = aes(h, &[(CKA_LABEL, b"sized".to_vec())]);
    let (public, _) = rsa(h, CKM_RSA_PKCS_KEY_PAIR_GEN);
    let mut small = 0;
    assert_eq!(ck!(C_GetObjectSize(h, key, &mut small)), CKR_OK);
    let mut large = 0;
    assert_eq!(ck!(C_GetObjectSize(h, public, &mut large)), CKR_OK);
    // The public key carries its 256-byte modulus.
    assert!(
        small > 0 && small < 256 && large > 256 + 3,
        "{small} {large}"
    );
    assert_eq!(ck!(C_DestroyObject(h, key)), CKR_OK);
    assert_eq!(
        ck!(C_GetObjectSize(h, key, &mut small)),
        CKR_OBJECT_HANDLE_INVALID
    );
    assert_eq!(ck!(C_DestroyObject(h, key)), CKR_OBJECT_HANDLE_INVALID);

    // spec §2.2: not supported, after the session check.
    let mut byte = [0u8; 8];
    let mut n: CK_ULONG = 8;
    assert_eq!(
        ck!(C_SeedRandom(h, byte.as_mut_ptr(), 8)),
        CKR_FUNCTION_NOT_SUPPORTED
    );
    assert_eq!(
        ck!(C_GetOperationState(h, byte.as_mut_ptr(), &mut n)),
        CKR_FUNCTION_NOT_SUPPORTED
    );
    assert_eq!(ck!(C_DigestKey(h, public)), CKR_FUNCTION_NOT_SUPPORTED);
    let mut m = mechanism(CKM_RSA_PKCS);
    assert_eq!(
        ck!(C_SignRecoverInit(h, &mut m, public)),
        CKR_FUNCTION_NOT_SUPPORTED
    );
    assert_eq!(
        ck!(C_VerifyRecoverInit(h, &mut m, public)),
        CKR_FUNCTION_NOT_SUPPORTED
    );
    assert_eq!(ck!(C_GetFunctionStatus(h)), CKR_FUNCTION_NOT_PARALLEL);
    assert_eq!(ck!(C_CancelFunction(h)), CKR_FUNCTION_NOT_PARALLEL);
    let mut pin = *b"cu1:cu1-password";
    assert_eq!(
        ck!(C_InitPIN(h, pin.as_mut_ptr(), 16)),
        CKR_FUNCTION_NOT_SUPPORTED
    );
    let rv = ck!(C_SetPIN(h, pin.as_mut_ptr(), 16, pin.as_mut_ptr(), 16));
    assert_eq!(rv, CKR_FUNCTION_NOT_SUPPORTED);
    let mut label = [b' '; 32];
    let rv = ck!(C_InitToken(
        slot(),
        pin.as_mut_ptr(),
        16,
        label.as_mut_ptr()
    ));
    assert_eq!(rv, CKR_FUNCTION_NOT_SUPPORTED);
    let mut s = 0;
    assert_eq!(
        ck!(C_WaitForSlotEvent(0, &mut s, null_mut())),
        CKR_FUNCTION_NOT_SUPPORTED
    );
}
