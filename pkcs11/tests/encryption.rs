//! Encryption and decryption through the module (`C_Encrypt*`/`C_Decrypt*`): every mechanism
//! round trip, NIST SP 800-38A known answers with the NIST key brought in through the CLI's
//! `key unwrap`, `openssl` and AWS-LC computing the same as the module, the AES-GCM IV flow of
//! AWS's sample `aes_gcm.c` in raw C calls, the return codes, the buffer protocol, the
//! mechanism list by cluster mode, and a sharee's use of a key.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::{find, hex, rv, unhex, unwrap_through_the_cli, value};

use std::ffi::c_void;
use std::io::Write;
use std::process::{Command, Stdio};
use std::sync::OnceLock;

use cloudhsm_sim::hsm::ClusterConfig;
use common::{module_path, session, slot, Fixture, CU1_PW, PIN1, PIN2};
use cryptoki::context::Pkcs11;
use cryptoki::error::RvError;
use cryptoki::mechanism::aead::GcmParams;
use cryptoki::mechanism::rsa::{PkcsMgfType, PkcsOaepParams, PkcsOaepSource};
use cryptoki::mechanism::vendor_defined::VendorDefinedMechanism;
use cryptoki::mechanism::{Mechanism, MechanismType};
use cryptoki::object::{Attribute, KeyType, ObjectClass, ObjectHandle};
use cryptoki::session::Session;
use cryptoki_sys::*;

const CKM_CLOUDHSM_AES_GCM: CK_MECHANISM_TYPE = 0x8000_1087;

// ---------------------------------------------------------------------------------------
// Keys and helpers

/// An AES key of `len` bytes whose value can be read (to compute the same elsewhere).
fn aes_key(session: &Session, len: u64, label: &str, token: bool) -> ObjectHandle {
    session
        .generate_key(
            &Mechanism::AesKeyGen,
            &[
                Attribute::Class(ObjectClass::SECRET_KEY),
                Attribute::KeyType(KeyType::AES),
                Attribute::ValueLen(len.into()),
                Attribute::Token(token),
                Attribute::Label(label.into()),
                Attribute::Encrypt(true),
                Attribute::Decrypt(true),
                Attribute::Sensitive(false),
                Attribute::Extractable(true),
            ],
        )
        .unwrap()
}

/// An RSA-2048 pair (public encrypts, private decrypts), token keys labelled `label-pub` and
/// `label-priv` so that the CLI finds them.
fn rsa_pair(session: &Session, label: &str) -> (ObjectHandle, ObjectHandle) {
    session
        .generate_key_pair(
            &Mechanism::RsaPkcsKeyPairGen,
            &[
                Attribute::Token(true),
                Attribute::Label(format!("{label}-pub").into_bytes()),
                Attribute::Encrypt(true),
                Attribute::ModulusBits(2048.into()),
                Attribute::PublicExponent(vec![1, 0, 1]),
            ],
            &[
                Attribute::Token(true),
                Attribute::Label(format!("{label}-priv").into_bytes()),
                Attribute::Decrypt(true),
            ],
        )
        .unwrap()
}

/// The PKCS#11 code of a failure.
/// `openssl enc` of `data` with `cipher` (`aes-256-cbc` ...), key and IV in hex.
fn openssl_enc(
    cipher: &str,
    key: &[u8],
    iv: Option<&[u8]>,
    pad: bool,
    decrypt: bool,
    data: &[u8],
) -> Vec<u8> {
    let mut args = vec![
        "enc".to_string(),
        format!("-{cipher}"),
        "-K".into(),
        hex(key),
    ];
    if let Some(iv) = iv {
        args.extend(["-iv".into(), hex(iv)]);
    }
    if !pad {
        args.push("-nopad".into());
    }
    if decrypt {
        args.push("-d".into());
    }
    run("openssl", &args, data)
}

fn run(program: &str, args: &[String], stdin: &[u8]) -> Vec<u8> {
    let mut child = Command::new(program)
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child.stdin.take().unwrap().write_all(stdin).unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(
        out.status.success(),
        "{program} {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    out.stdout
}

fn ctr(bits: CK_ULONG, block: [u8; 16]) -> CK_AES_CTR_PARAMS {
    CK_AES_CTR_PARAMS {
        ulCounterBits: bits,
        cb: block,
    }
}

fn ctr_mechanism(p: &CK_AES_CTR_PARAMS) -> Mechanism<'_> {
    Mechanism::VendorDefined(VendorDefinedMechanism::new(MechanismType::AES_CTR, Some(p)))
}

fn cloudhsm_gcm(p: &CK_GCM_PARAMS) -> Mechanism<'_> {
    let m = MechanismType::new_vendor_defined(CKM_CLOUDHSM_AES_GCM).unwrap();
    Mechanism::VendorDefined(VendorDefinedMechanism::new(m, Some(p)))
}

fn gcm_params(iv: *mut u8, iv_len: CK_ULONG, aad: &[u8], tag_bits: CK_ULONG) -> CK_GCM_PARAMS {
    CK_GCM_PARAMS {
        pIv: iv,
        ulIvLen: iv_len,
        ulIvBits: 0,
        pAAD: aad.as_ptr() as *mut u8,
        ulAADLen: aad.len() as CK_ULONG,
        ulTagBits: tag_bits,
    }
}

fn oaep(hash: MechanismType, mgf: PkcsMgfType, label: &[u8]) -> Mechanism<'_> {
    let source = if label.is_empty() {
        PkcsOaepSource::empty()
    } else {
        PkcsOaepSource::data_specified(label)
    };
    Mechanism::RsaPkcsOaep(PkcsOaepParams::new(hash, mgf, source))
}

/// Multi-part encryption (or decryption) of `data` in parts of `part` bytes.
fn in_parts(
    session: &Session,
    m: &Mechanism,
    key: ObjectHandle,
    data: &[u8],
    part: usize,
    decrypt: bool,
) -> Vec<u8> {
    let mut out = Vec::new();
    if decrypt {
        session.decrypt_init(m, key).unwrap();
        for chunk in data.chunks(part) {
            out.extend(session.decrypt_update(chunk).unwrap());
        }
        out.extend(session.decrypt_final().unwrap());
    } else {
        session.encrypt_init(m, key).unwrap();
        for chunk in data.chunks(part) {
            out.extend(session.encrypt_update(chunk).unwrap());
        }
        out.extend(session.encrypt_final().unwrap());
    }
    out
}

// SP 800-38A, appendix F: the key of the AES-128 examples, the four plaintext blocks, the
// CBC IV and the CTR counter block, and the AES-128 ciphertexts.
const NIST_KEY: &str = "2b7e151628aed2a6abf7158809cf4f3c";
const NIST_PLAINTEXT: &str = "6bc1bee22e409f96e93d7e117393172aae2d8a571e03ac9c9eb76fac45af8e5130c81c46a35ce411e5fbc1191a0a52eff69f2445df4f9b17ad2b417be66c3710";
const NIST_IV: &str = "000102030405060708090a0b0c0d0e0f";
const NIST_COUNTER: &str = "f0f1f2f3f4f5f6f7f8f9fafbfcfdfeff";
const NIST_ECB: &str = "3ad77bb40d7a3660a89ecaf32466ef97f5d3d58503b9699de785895a96fdbaaf43b1cd7f598ece23881b00e3ed0306887b0c785e27e8ad3f8223207104725dd4";
const NIST_CBC: &str = "7649abac8119b246cee98e9b12e9197d5086cb9b507219ee95db113a917678b273bed6b8e3c1743b7116e69e222295163ff1caa1681fac09120eca307586e1a7";
const NIST_CTR: &str = "874d6191b620e3261bef6864990db6ce9806f66b7970fdff8617187bb9fffdff5ae4df3edbd5d35e5b4f09020db03eab1e031dda2fbe03d1792170a0f3009cee";

// ---------------------------------------------------------------------------------------
// Raw C calls, on the module cryptoki loaded (the same library, so the same state)

/// The module's function list, from a load of the library that stays for the whole test
/// process. The module's AWS-LC keeps per-thread state with a pthread key destructor; a
/// test thread that exits after the library was unloaded would run it in unmapped code, so
/// the library is never unloaded here, and [`Module`] finalises it at the end of each test.
fn functions() -> &'static CK_FUNCTION_LIST {
    static PINNED: OnceLock<&'static CK_FUNCTION_LIST> = OnceLock::new();
    PINNED.get_or_init(|| {
        // SAFETY: the module is a PKCS#11 library; leaked, it stays loaded.
        let lib: &'static libloading::Library = Box::leak(Box::new(
            unsafe { libloading::Library::new(module_path()) }.unwrap(),
        ));
        type GetList = unsafe extern "C" fn(*mut *mut CK_FUNCTION_LIST) -> CK_RV;
        // SAFETY: C_GetFunctionList has this signature (PKCS#11 v2.40).
        let get: libloading::Symbol<GetList> = unsafe { lib.get(b"C_GetFunctionList") }.unwrap();
        let mut list = std::ptr::null_mut();
        // SAFETY: `list` is writable.
        assert_eq!(unsafe { get(&mut list) }, CKR_OK);
        // SAFETY: the module's static function list; the library is never unloaded.
        unsafe { &*list }
    })
}

/// The module for one test, initialised on the fixture, finalised when the test ends (even
/// by a panic), so that the next test initialises it afresh.
struct Module(Pkcs11);

impl std::ops::Deref for Module {
    type Target = Pkcs11;
    fn deref(&self) -> &Pkcs11 {
        &self.0
    }
}

impl Drop for Module {
    fn drop(&mut self) {
        // SAFETY: C_Finalize with its NULL argument; a module already finalised says so.
        unsafe { (functions().C_Finalize.unwrap())(std::ptr::null_mut()) };
    }
}

fn open(fixture: &Fixture) -> Module {
    functions();
    Module(fixture.pkcs11())
}

fn mech<T>(mechanism: CK_MECHANISM_TYPE, p: &mut T) -> CK_MECHANISM {
    CK_MECHANISM {
        mechanism,
        pParameter: p as *mut T as *mut c_void,
        ulParameterLen: size_of::<T>() as CK_ULONG,
    }
}

struct Raw {
    f: &'static CK_FUNCTION_LIST,
    h: CK_SESSION_HANDLE,
}

impl Raw {
    fn encrypt_init(&self, m: &mut CK_MECHANISM, key: ObjectHandle) -> CK_RV {
        // SAFETY: valid pointers for the call.
        unsafe { (self.f.C_EncryptInit.unwrap())(self.h, m, key.handle()) }
    }

    fn decrypt_init(&self, m: &mut CK_MECHANISM, key: ObjectHandle) -> CK_RV {
        // SAFETY: valid pointers for the call.
        unsafe { (self.f.C_DecryptInit.unwrap())(self.h, m, key.handle()) }
    }

    /// `C_Encrypt` into a buffer of `cap` bytes (`None`: a length query).
    fn encrypt(&self, data: &[u8], cap: Option<usize>) -> (CK_RV, Vec<u8>, CK_ULONG) {
        let mut buf = vec![0u8; cap.unwrap_or(0)];
        let mut len = cap.unwrap_or(0) as CK_ULONG;
        let p = if cap.is_some() {
            buf.as_mut_ptr()
        } else {
            std::ptr::null_mut()
        };
        // SAFETY: `buf` holds `len` bytes.
        let rv = unsafe {
            (self.f.C_Encrypt.unwrap())(
                self.h,
                data.as_ptr() as *mut u8,
                data.len() as CK_ULONG,
                p,
                &mut len,
            )
        };
        buf.truncate(len.min(buf.len() as CK_ULONG) as usize);
        (rv, buf, len)
    }

    fn decrypt(&self, data: &[u8], cap: Option<usize>) -> (CK_RV, Vec<u8>, CK_ULONG) {
        let mut buf = vec![0u8; cap.unwrap_or(0)];
        let mut len = cap.unwrap_or(0) as CK_ULONG;
        let p = if cap.is_some() {
            buf.as_mut_ptr()
        } else {
            std::ptr::null_mut()
        };
        // SAFETY: `buf` holds `len` bytes.
        let rv = unsafe {
            (self.f.C_Decrypt.unwrap())(
                self.h,
                data.as_ptr() as *mut u8,
                data.len() as CK_ULONG,
                p,
                &mut len,
            )
        };
        buf.truncate(len.min(buf.len() as CK_ULONG) as usize);
        (rv, buf, len)
    }

    fn encrypt_update(&self, data: &[u8], cap: Option<usize>) -> (CK_RV, CK_ULONG) {
        let mut buf = vec![0u8; cap.unwrap_or(0)];
        let mut len = cap.unwrap_or(0) as CK_ULONG;
        let p = if cap.is_some() {
            buf.as_mut_ptr()
        } else {
            std::ptr::null_mut()
        };
        // SAFETY: `buf` holds `len` bytes.
        let rv = unsafe {
            (self.f.C_EncryptUpdate.unwrap())(
                self.h,
                data.as_ptr() as *mut u8,
                data.len() as CK_ULONG,
                p,
                &mut len,
            )
        };
        (rv, len)
    }
}

fn raw(session: &Session) -> Raw {
    Raw {
        f: functions(),
        h: session.handle(),
    }
}

// ---------------------------------------------------------------------------------------
// Round trips and cross-checks

type OpensslCase<'a> = (Mechanism<'a>, &'a [u8], String, Option<&'a [u8]>, bool);

#[test]
fn every_aes_mode_round_trips_and_matches_openssl() {
    let fixture = Fixture::new();
    let pkcs11 = open(&fixture);
    let session = session(&pkcs11, PIN1);
    let data: Vec<u8> = (0..100u8).collect();
    let blocks = &data[..96];
    let iv: [u8; 16] = unhex(NIST_IV).try_into().unwrap();
    let counter: [u8; 16] = unhex(NIST_COUNTER).try_into().unwrap();
    for (len, name) in [(16u64, "128"), (24, "192"), (32, "256")] {
        let key = aes_key(&session, len, &format!("aes-{name}"), false);
        let k = value(&session, key);
        assert_eq!(k.len() as u64, len);
        let ctr_p = ctr(128, counter);
        // (mechanism, input, openssl cipher, openssl IV, padding)
        let cases: [OpensslCase; 4] = [
            (
                Mechanism::AesEcb,
                blocks,
                format!("aes-{name}-ecb"),
                None,
                false,
            ),
            (
                Mechanism::AesCbc(iv),
                blocks,
                format!("aes-{name}-cbc"),
                Some(&iv),
                false,
            ),
            (
                Mechanism::AesCbcPad(iv),
                &data,
                format!("aes-{name}-cbc"),
                Some(&iv),
                true,
            ),
            (
                ctr_mechanism(&ctr_p),
                &data,
                format!("aes-{name}-ctr"),
                Some(&counter),
                false,
            ),
        ];
        for (m, input, cipher, civ, pad) in cases {
            let ct = session.encrypt(&m, key, input).unwrap();
            assert_eq!(
                ct,
                openssl_enc(&cipher, &k, civ, pad, false, input),
                "{cipher}"
            );
            assert_eq!(
                openssl_enc(&cipher, &k, civ, pad, true, &ct),
                input,
                "{cipher}"
            );
            assert_eq!(session.decrypt(&m, key, &ct).unwrap(), input, "{cipher}");
            // In parts of odd sizes, both ways: the same bytes.
            for part in [1, 7, 16, 33] {
                assert_eq!(
                    in_parts(&session, &m, key, input, part, false),
                    ct,
                    "{cipher} / {part}"
                );
                assert_eq!(
                    in_parts(&session, &m, key, &ct, part, true),
                    input,
                    "{cipher} / {part}"
                );
            }
        }
    }
}

#[test]
fn nist_sp800_38a_known_answers_with_the_nist_key_unwrapped_through_the_cli() {
    let fixture = Fixture::new();
    let pkcs11 = open(&fixture);
    let session = session(&pkcs11, PIN1);
    // The NIST key, brought in through the CLI's `key unwrap`.
    unwrap_through_the_cli(&fixture, &session, &unhex(NIST_KEY), "aes", "nist");
    let key = find(&session, "nist");
    let plaintext = unhex(NIST_PLAINTEXT);
    let iv: [u8; 16] = unhex(NIST_IV).try_into().unwrap();
    let counter: [u8; 16] = unhex(NIST_COUNTER).try_into().unwrap();
    let ctr_p = ctr(128, counter);
    for (m, expected) in [
        (Mechanism::AesEcb, NIST_ECB),
        (Mechanism::AesCbc(iv), NIST_CBC),
        (ctr_mechanism(&ctr_p), NIST_CTR),
    ] {
        assert_eq!(
            hex(&session.encrypt(&m, key, &plaintext).unwrap()),
            expected
        );
        assert_eq!(
            session.decrypt(&m, key, &unhex(expected)).unwrap(),
            plaintext
        );
        assert_eq!(
            hex(&in_parts(&session, &m, key, &plaintext, 16, false)),
            expected
        );
    }
}

#[test]
fn aes_gcm_encryption_writes_the_hsm_iv_into_the_params_and_aws_lc_opens_it() {
    let fixture = Fixture::new();
    let pkcs11 = open(&fixture);
    let session = session(&pkcs11, PIN1);
    let key = aes_key(&session, 32, "gcm", false);
    let k = value(&session, key);
    let aad = b"header";
    let data = b"the data of AWS's aes_gcm sample".to_vec();
    let mut iv = [0u8; 12];
    let ct = {
        let params = GcmParams::new(&mut iv, aad, 128.into()).unwrap();
        session
            .encrypt(&Mechanism::AesGcm(params), key, &data)
            .unwrap()
    };
    // ciphertext || tag, no IV; the IV is in the caller's buffer.
    assert_eq!(ct.len(), data.len() + 16);
    assert_ne!(iv, [0u8; 12], "the HSM's IV was written into pIv");
    let opening = aws_lc_rs::aead::LessSafeKey::new(
        aws_lc_rs::aead::UnboundKey::new(&aws_lc_rs::aead::AES_256_GCM, &k).unwrap(),
    );
    let mut sealed = ct.clone();
    let opened = opening
        .open_in_place(
            aws_lc_rs::aead::Nonce::assume_unique_for_key(iv),
            aws_lc_rs::aead::Aad::from(aad),
            &mut sealed,
        )
        .unwrap();
    assert_eq!(opened, data.as_slice());
    // The module decrypts with the IV it gave.
    let mut iv2 = iv;
    let params = GcmParams::new(&mut iv2, aad, 128.into()).unwrap();
    assert_eq!(
        session
            .decrypt(&Mechanism::AesGcm(params), key, &ct)
            .unwrap(),
        data
    );
    // A second encryption has another IV.
    let mut other = [0u8; 12];
    let params = GcmParams::new(&mut other, aad, 128.into()).unwrap();
    session
        .encrypt(&Mechanism::AesGcm(params), key, &data)
        .unwrap();
    assert_ne!(other, iv);
    // A shorter tag: ciphertext || 12-byte tag.
    let mut iv3 = [0u8; 12];
    let params = GcmParams::new(&mut iv3, &[], 96.into()).unwrap();
    let short = session
        .encrypt(&Mechanism::AesGcm(params), key, &data)
        .unwrap();
    assert_eq!(short.len(), data.len() + 12);
    let params = GcmParams::new(&mut iv3, &[], 96.into()).unwrap();
    assert_eq!(
        session
            .decrypt(&Mechanism::AesGcm(params), key, &short)
            .unwrap(),
        data
    );
}

#[test]
fn the_aes_gcm_flow_of_aws_sample_in_raw_calls() {
    let fixture = Fixture::new();
    let pkcs11 = open(&fixture);
    let session = session(&pkcs11, PIN1);
    let key = aes_key(&session, 32, "gcm-raw", false);
    let raw = raw(&session);
    let aad = b"aad".to_vec();
    let data = b"plaintext of the sample".to_vec();
    // The application's buffer holds garbage: C_EncryptInit zeroes it.
    let mut iv = [0xAAu8; 12];
    let mut params = gcm_params(iv.as_mut_ptr(), 12, &aad, 128);
    let mut m = mech(CKM_AES_GCM, &mut params);
    assert_eq!(raw.encrypt_init(&mut m, key), CKR_OK);
    // SAFETY: `iv` is still ours; the module wrote it during the call above.
    assert_eq!(unsafe { std::ptr::read_volatile(&iv) }, [0u8; 12]);
    // Length query: plaintext + tag, nothing consumed, the IV not yet written.
    let (rv, _, len) = raw.encrypt(&data, None);
    assert_eq!((rv, len), (CKR_OK, (data.len() + 16) as CK_ULONG));
    // SAFETY: as above.
    assert_eq!(unsafe { std::ptr::read_volatile(&iv) }, [0u8; 12]);
    // A buffer too small: the length, the operation still active, the IV not written.
    let (rv, _, len) = raw.encrypt(&data, Some(4));
    assert_eq!(
        (rv, len),
        (CKR_BUFFER_TOO_SMALL, (data.len() + 16) as CK_ULONG)
    );
    // SAFETY: as above.
    assert_eq!(unsafe { std::ptr::read_volatile(&iv) }, [0u8; 12]);
    let (rv, ct, _) = raw.encrypt(&data, Some(len as usize));
    assert_eq!(rv, CKR_OK);
    assert_eq!(ct.len(), data.len() + 16);
    // SAFETY: as above.
    let hsm_iv = unsafe { std::ptr::read_volatile(&iv) };
    assert_ne!(hsm_iv, [0u8; 12]);
    // The operation ended with the delivery.
    assert_eq!(
        raw.encrypt(&data, Some(64)).0,
        CKR_OPERATION_NOT_INITIALIZED
    );
    // Decrypt with the same structure, now holding the IV (the sample reuses it).
    let mut m = mech(CKM_AES_GCM, &mut params);
    assert_eq!(raw.decrypt_init(&mut m, key), CKR_OK);
    let (rv, _, len) = raw.decrypt(&ct, None);
    assert_eq!((rv, len), (CKR_OK, data.len() as CK_ULONG));
    let (rv, pt, _) = raw.decrypt(&ct, Some(len as usize));
    assert_eq!((rv, pt), (CKR_OK, data.clone()));

    // The original 5-field CK_GCM_PARAMS of PKCS#11 v2.40 (no ulIvBits) works the same.
    #[repr(C)]
    struct Gcm240 {
        p_iv: *mut u8,
        iv_len: CK_ULONG,
        p_aad: *mut u8,
        aad_len: CK_ULONG,
        tag_bits: CK_ULONG,
    }
    let mut iv5 = [0u8; 12];
    let mut p5 = Gcm240 {
        p_iv: iv5.as_mut_ptr(),
        iv_len: 12,
        p_aad: aad.as_ptr() as *mut u8,
        aad_len: aad.len() as CK_ULONG,
        tag_bits: 128,
    };
    let mut m = mech(CKM_AES_GCM, &mut p5);
    assert_eq!(raw.encrypt_init(&mut m, key), CKR_OK);
    let (rv, ct5, _) = raw.encrypt(&data, Some(256));
    assert_eq!(rv, CKR_OK);
    let mut m = mech(CKM_AES_GCM, &mut p5);
    assert_eq!(raw.decrypt_init(&mut m, key), CKR_OK);
    assert_eq!(raw.decrypt(&ct5, Some(256)).1, data);
    // SAFETY: as above.
    assert_ne!(unsafe { std::ptr::read_volatile(&iv5) }, [0u8; 12]);

    // Multi-part AES-GCM: CKR_MECHANISM_INVALID on update (known issue ki-pkcs11-8).
    let mut iv = [0u8; 12];
    let mut params = gcm_params(iv.as_mut_ptr(), 12, &aad, 128);
    let mut m = mech(CKM_AES_GCM, &mut params);
    assert_eq!(raw.encrypt_init(&mut m, key), CKR_OK);
    assert_eq!(
        raw.encrypt_update(&data, Some(256)).0,
        CKR_MECHANISM_INVALID
    );
    // ... which ended the operation.
    assert_eq!(
        raw.encrypt(&data, Some(256)).0,
        CKR_OPERATION_NOT_INITIALIZED
    );
    // No pIv to write the IV to, or an IV of another length.
    let mut params = gcm_params(std::ptr::null_mut(), 12, &aad, 128);
    let mut m = mech(CKM_AES_GCM, &mut params);
    assert_eq!(raw.encrypt_init(&mut m, key), CKR_MECHANISM_PARAM_INVALID);
    let mut long = [0u8; 16];
    let mut params = gcm_params(long.as_mut_ptr(), 16, &aad, 128);
    let mut m = mech(CKM_AES_GCM, &mut params);
    assert_eq!(raw.encrypt_init(&mut m, key), CKR_MECHANISM_PARAM_INVALID);
    // A parameter of neither length.
    let mut m = CK_MECHANISM {
        mechanism: CKM_AES_GCM,
        pParameter: params_ptr(&mut params),
        ulParameterLen: 24,
    };
    assert_eq!(raw.encrypt_init(&mut m, key), CKR_MECHANISM_PARAM_INVALID);
}

fn params_ptr(p: &mut CK_GCM_PARAMS) -> *mut c_void {
    p as *mut CK_GCM_PARAMS as *mut c_void
}

#[test]
fn cloudhsm_aes_gcm_prepends_the_iv_and_wants_no_piv() {
    let fixture = Fixture::new();
    let pkcs11 = open(&fixture);
    let session = session(&pkcs11, PIN1);
    let key = aes_key(&session, 16, "vgcm", false);
    let k = value(&session, key);
    let aad = b"vendor".to_vec();
    let data = vec![7u8; 1000];
    let p = gcm_params(std::ptr::null_mut(), 0, &aad, 128);
    let ct = session.encrypt(&cloudhsm_gcm(&p), key, &data).unwrap();
    assert_eq!(ct.len(), 12 + data.len() + 16);
    let (iv, sealed) = ct.split_at(12);
    let opening = aws_lc_rs::aead::LessSafeKey::new(
        aws_lc_rs::aead::UnboundKey::new(&aws_lc_rs::aead::AES_128_GCM, &k).unwrap(),
    );
    let mut sealed = sealed.to_vec();
    let opened = opening
        .open_in_place(
            aws_lc_rs::aead::Nonce::try_assume_unique_for_key(iv).unwrap(),
            aws_lc_rs::aead::Aad::from(&aad),
            &mut sealed,
        )
        .unwrap();
    assert_eq!(opened, data.as_slice());
    assert_eq!(session.decrypt(&cloudhsm_gcm(&p), key, &ct).unwrap(), data);
    // pIv must be NULL.
    let mut iv = [0u8; 12];
    let with_iv = gcm_params(iv.as_mut_ptr(), 12, &aad, 128);
    assert_eq!(
        rv(session.encrypt(&cloudhsm_gcm(&with_iv), key, &data)),
        RvError::MechanismParamInvalid
    );
    // A tampered ciphertext fails authentication.
    let mut bad = ct.clone();
    bad[20] ^= 1;
    assert_eq!(
        rv(session.decrypt(&cloudhsm_gcm(&p), key, &bad)),
        RvError::EncryptedDataInvalid
    );
    // Multi-part: refused on update.
    session.encrypt_init(&cloudhsm_gcm(&p), key).unwrap();
    assert_eq!(rv(session.encrypt_update(&data)), RvError::MechanismInvalid);
}

/// The public key of `label` as PEM, exported by the CLI.
fn public_pem(fixture: &Fixture, dir: &std::path::Path, label: &str) -> std::path::PathBuf {
    let path = dir.join(format!("{label}.pem"));
    let out = fixture.cli_as(
        "cu1",
        CU1_PW,
        &[
            "key",
            "generate-file",
            "--encoding",
            "pem",
            "--path",
            path.to_str().unwrap(),
            "--filter",
            &format!("attr.label={label}"),
        ],
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );
    path
}

#[test]
fn rsa_oaep_pkcs_and_raw_interoperate_with_openssl() {
    let fixture = Fixture::new();
    let pkcs11 = open(&fixture);
    let session = session(&pkcs11, PIN1);
    let (public, private) = rsa_pair(&session, "rsa");
    let dir = tempfile::tempdir().unwrap();
    let pem = public_pem(&fixture, dir.path(), "rsa-pub");
    let pem = pem.to_str().unwrap().to_string();
    let data = b"a secret of 32 bytes, or nearly".to_vec();
    let pkeyutl = |opts: &[&str]| -> Vec<u8> {
        let mut args: Vec<String> = ["pkeyutl", "-encrypt", "-pubin", "-inkey", &pem]
            .iter()
            .map(|s| s.to_string())
            .collect();
        for o in opts {
            args.extend(["-pkeyopt".to_string(), o.to_string()]);
        }
        run("openssl", &args, &data)
    };
    // OAEP, SHA-256 and SHA-1, without and with a label: openssl encrypts, the module decrypts.
    for (hash, mgf, md, label) in [
        (
            MechanismType::SHA256,
            PkcsMgfType::MGF1_SHA256,
            "sha256",
            &b""[..],
        ),
        (
            MechanismType::SHA256,
            PkcsMgfType::MGF1_SHA256,
            "sha256",
            b"label",
        ),
        (MechanismType::SHA1, PkcsMgfType::MGF1_SHA1, "sha1", b""),
    ] {
        let label_opt = format!("rsa_oaep_label:{}", hex(label));
        let mut opts = vec![
            "rsa_padding_mode:oaep".to_string(),
            format!("rsa_oaep_md:{md}"),
            format!("rsa_mgf1_md:{md}"),
        ];
        if !label.is_empty() {
            opts.push(label_opt);
        }
        let opts: Vec<&str> = opts.iter().map(String::as_str).collect();
        let ct = pkeyutl(&opts);
        assert_eq!(
            session
                .decrypt(&oaep(hash, mgf, label), private, &ct)
                .unwrap(),
            data,
            "{md}"
        );
        // And the module's own encryption comes back.
        let mine = session
            .encrypt(&oaep(hash, mgf, label), public, &data)
            .unwrap();
        assert_eq!(mine.len(), 256);
        assert_eq!(
            session
                .decrypt(&oaep(hash, mgf, label), private, &mine)
                .unwrap(),
            data
        );
        // A wrong label fails to decrypt.
        assert_eq!(
            rv(session.decrypt(&oaep(hash, mgf, b"other"), private, &ct)),
            RvError::EncryptedDataInvalid
        );
    }
    // PKCS#1 v1.5 (a non-FIPS cluster).
    let ct = pkeyutl(&["rsa_padding_mode:pkcs1"]);
    assert_eq!(
        session.decrypt(&Mechanism::RsaPkcs, private, &ct).unwrap(),
        data
    );
    let mine = session.encrypt(&Mechanism::RsaPkcs, public, &data).unwrap();
    assert_eq!(
        session
            .decrypt(&Mechanism::RsaPkcs, private, &mine)
            .unwrap(),
        data
    );
    // Raw RSA is deterministic: the module's equals openssl's.
    let mut block = vec![0u8; 256];
    block[1..33].copy_from_slice(&[0x5a; 32]);
    let theirs = {
        let args: Vec<String> = [
            "pkeyutl",
            "-encrypt",
            "-pubin",
            "-inkey",
            &pem,
            "-pkeyopt",
            "rsa_padding_mode:none",
        ]
        .iter()
        .map(|s| s.to_string())
        .collect();
        run("openssl", &args, &block)
    };
    assert_eq!(
        session
            .encrypt(&Mechanism::RsaX509, public, &block)
            .unwrap(),
        theirs
    );
    assert_eq!(
        session
            .decrypt(&Mechanism::RsaX509, private, &theirs)
            .unwrap(),
        block
    );
    // A number not below the modulus.
    assert_eq!(
        rv(session.encrypt(&Mechanism::RsaX509, public, &[0xff; 256])),
        RvError::DataLenRange
    );
    // RSA has no parts.
    session.encrypt_init(&Mechanism::RsaPkcs, public).unwrap();
    assert_eq!(rv(session.encrypt_update(&data)), RvError::MechanismInvalid);
}

#[test]
fn oaep_with_source_zero_as_aws_sample_passes_it() {
    let fixture = Fixture::new();
    let pkcs11 = open(&fixture);
    let session = session(&pkcs11, PIN1);
    let (public, private) = rsa_pair(&session, "oaep0");
    let raw = raw(&session);
    let data = b"wrapped key bytes".to_vec();
    // rsa_wrapping.c: CK_RSA_PKCS_OAEP_PARAMS params = { CKM_SHA256, CKG_MGF1_SHA256 };
    let zero = CK_RSA_PKCS_OAEP_PARAMS {
        hashAlg: CKM_SHA256,
        mgf: CKG_MGF1_SHA256,
        source: 0,
        pSourceData: std::ptr::null_mut(),
        ulSourceDataLen: 0,
    };
    let mut p = zero;
    let mut m = mech(CKM_RSA_PKCS_OAEP, &mut p);
    assert_eq!(raw.encrypt_init(&mut m, public), CKR_OK);
    let (rv0, ct, _) = raw.encrypt(&data, Some(256));
    assert_eq!(rv0, CKR_OK);
    let mut p = zero;
    let mut m = mech(CKM_RSA_PKCS_OAEP, &mut p);
    assert_eq!(raw.decrypt_init(&mut m, private), CKR_OK);
    // A length query gives the modulus length (an upper bound), then the plaintext comes.
    let (rv1, _, len) = raw.decrypt(&ct, None);
    assert_eq!((rv1, len), (CKR_OK, 256));
    let (rv2, pt, len) = raw.decrypt(&ct, Some(256));
    assert_eq!(
        (rv2, pt, len),
        (CKR_OK, data.clone(), data.len() as CK_ULONG)
    );
    // Source 0 with a label, an unknown source, a mismatched MGF: parameter errors.
    let mut label = *b"label";
    for p in [
        CK_RSA_PKCS_OAEP_PARAMS {
            pSourceData: label.as_mut_ptr() as *mut c_void,
            ulSourceDataLen: 5,
            ..zero
        },
        CK_RSA_PKCS_OAEP_PARAMS { source: 2, ..zero },
        CK_RSA_PKCS_OAEP_PARAMS {
            mgf: CKG_MGF1_SHA1,
            ..zero
        },
        CK_RSA_PKCS_OAEP_PARAMS {
            hashAlg: CKM_MD5,
            ..zero
        },
    ] {
        let mut p = p;
        let mut m = mech(CKM_RSA_PKCS_OAEP, &mut p);
        assert_eq!(
            raw.encrypt_init(&mut m, public),
            CKR_MECHANISM_PARAM_INVALID
        );
    }
}

// ---------------------------------------------------------------------------------------
// Return codes and the buffer protocol

#[test]
fn refusals_have_the_codes_of_pkcs11() {
    let fixture = Fixture::new();
    let pkcs11 = open(&fixture);
    let session = session(&pkcs11, PIN1);
    let key = aes_key(&session, 32, "errors", true);
    let iv = [0u8; 16];
    // No operation.
    assert_eq!(
        rv(session.encrypt_update(b"x")),
        RvError::OperationNotInitialized
    );
    assert_eq!(
        rv(session.decrypt_final()),
        RvError::OperationNotInitialized
    );
    // A key without encrypt, a key of another type, a handle that is no key.
    let no_encrypt = session
        .generate_key(
            &Mechanism::AesKeyGen,
            &[
                Attribute::Class(ObjectClass::SECRET_KEY),
                Attribute::KeyType(KeyType::AES),
                Attribute::ValueLen(16.into()),
                Attribute::Token(false),
                Attribute::Encrypt(false),
            ],
        )
        .unwrap();
    assert_eq!(
        rv(session.encrypt(&Mechanism::AesCbc(iv), no_encrypt, &[0; 16])),
        RvError::KeyFunctionNotPermitted
    );
    let (public, _) = rsa_pair(&session, "errors-rsa");
    assert_eq!(
        rv(session.encrypt(&Mechanism::AesCbc(iv), public, &[0; 16])),
        RvError::KeyTypeInconsistent
    );
    assert_eq!(
        rv(session.encrypt(&Mechanism::RsaPkcs, key, &[0; 16])),
        RvError::KeyTypeInconsistent
    );
    // A mechanism that is no encryption one.
    assert_eq!(
        rv(session.encrypt(&Mechanism::Sha256, key, &[0; 16])),
        RvError::MechanismInvalid
    );
    // Parameters: a short CBC IV, a counter of 0 bits, a GCM tag of 32 bits, ECB with an IV.
    let raw = raw(&session);
    let mut short = [0u8; 8];
    let mut m = mech(CKM_AES_CBC, &mut short);
    assert_eq!(raw.encrypt_init(&mut m, key), CKR_MECHANISM_PARAM_INVALID);
    let p = ctr(0, [0; 16]);
    assert_eq!(
        rv(session.encrypt(&ctr_mechanism(&p), key, &[0; 16])),
        RvError::MechanismParamInvalid
    );
    let mut giv = [0u8; 12];
    let params = GcmParams::new(&mut giv, &[], 32.into()).unwrap();
    assert_eq!(
        rv(session.encrypt(&Mechanism::AesGcm(params), key, &[0; 16])),
        RvError::MechanismParamInvalid
    );
    let mut ecb_iv = [0u8; 16];
    let mut m = mech(CKM_AES_ECB, &mut ecb_iv);
    assert_eq!(raw.encrypt_init(&mut m, key), CKR_MECHANISM_PARAM_INVALID);
    // Data: not whole blocks (encrypting: the data; decrypting: the ciphertext).
    assert_eq!(
        rv(session.encrypt(&Mechanism::AesEcb, key, &[0; 15])),
        RvError::DataLenRange
    );
    assert_eq!(
        rv(session.decrypt(&Mechanism::AesCbc(iv), key, &[0; 17])),
        RvError::EncryptedDataLenRange
    );
    // More than the HSM takes in one CKM_AES_CBC call (16272 bytes), or one GCM call (16224).
    let big = vec![0u8; 16288];
    assert_eq!(
        rv(session.encrypt(&Mechanism::AesCbc(iv), key, &big)),
        RvError::DataLenRange
    );
    assert_eq!(
        session
            .encrypt(&Mechanism::AesCbc(iv), key, &big[..16272])
            .unwrap()
            .len(),
        16272
    );
    let mut giv = [0u8; 12];
    let params = GcmParams::new(&mut giv, &[], 128.into()).unwrap();
    assert_eq!(
        rv(session.encrypt(&Mechanism::AesGcm(params), key, &big[..16225])),
        RvError::DataLenRange
    );
    // A CTR counter that would wrap: an 8-bit counter at 0xff has one block left.
    let p = ctr(8, [0xff; 16]);
    assert_eq!(
        session
            .encrypt(&ctr_mechanism(&p), key, &[0; 16])
            .unwrap()
            .len(),
        16
    );
    assert_eq!(
        rv(session.encrypt(&ctr_mechanism(&p), key, &[0; 17])),
        RvError::DataLenRange
    );
    // Bad padding.
    let ct = session
        .encrypt(&Mechanism::AesCbc(iv), key, &[0u8; 16])
        .unwrap();
    assert_eq!(
        rv(session.decrypt(&Mechanism::AesCbcPad(iv), key, &ct)),
        RvError::EncryptedDataInvalid
    );
    // One operation of each direction at a time; an update ends a one-call use.
    session.encrypt_init(&Mechanism::AesEcb, key).unwrap();
    assert_eq!(
        rv(session.encrypt_init(&Mechanism::AesEcb, key)),
        RvError::OperationActive
    );
    session.decrypt_init(&Mechanism::AesEcb, key).unwrap();
    assert_eq!(session.encrypt_update(&[1; 16]).unwrap().len(), 16);
    // C_Encrypt after C_EncryptUpdate: out of order, the operation ends.
    assert_eq!(raw.encrypt(&[0; 16], Some(16)).0, CKR_OPERATION_ACTIVE);
    assert_eq!(
        rv(session.encrypt_final()),
        RvError::OperationNotInitialized
    );
    // The decryption went on meanwhile.
    assert_eq!(raw.decrypt(&ct, Some(16)).0, CKR_OK);
    // Not logged in.
    session.logout().unwrap();
    assert_eq!(
        rv(session.encrypt(&Mechanism::AesEcb, key, &[0; 16])),
        RvError::UserNotLoggedIn
    );
}

#[test]
fn the_buffer_protocol_keeps_the_operation_until_the_bytes_are_delivered() {
    let fixture = Fixture::new();
    let pkcs11 = open(&fixture);
    let session = session(&pkcs11, PIN1);
    let key = aes_key(&session, 16, "buffers", false);
    let raw = raw(&session);
    let iv = *b"0123456789abcdef";
    let data = vec![3u8; 40];
    let expected = session
        .encrypt(&Mechanism::AesCbcPad(iv), key, &data)
        .unwrap();
    assert_eq!(expected.len(), 48);
    let mut piv = iv;
    let mut m = mech(CKM_AES_CBC_PAD, &mut piv);
    // Single part: query, too small, then the bytes.
    assert_eq!(raw.encrypt_init(&mut m, key), CKR_OK);
    assert_eq!(raw.encrypt(&data, None), (CKR_OK, vec![], 48));
    assert_eq!(raw.encrypt(&data, Some(47)).0, CKR_BUFFER_TOO_SMALL);
    assert_eq!(raw.encrypt(&data, Some(48)), (CKR_OK, expected.clone(), 48));
    // Multi-part: an update's length is exact (the held-back bytes counted).
    assert_eq!(raw.encrypt_init(&mut m, key), CKR_OK);
    assert_eq!(raw.encrypt_update(&data[..20], None), (CKR_OK, 16));
    assert_eq!(
        raw.encrypt_update(&data[..20], Some(15)),
        (CKR_BUFFER_TOO_SMALL, 16)
    );
    assert_eq!(raw.encrypt_update(&data[..20], Some(16)), (CKR_OK, 16));
    assert_eq!(raw.encrypt_update(&data[20..], Some(16)), (CKR_OK, 16));
    // The final block: 16 bytes of data+padding.
    let mut len: CK_ULONG = 0;
    // SAFETY: a length query.
    let rv0 = unsafe { (raw.f.C_EncryptFinal.unwrap())(raw.h, std::ptr::null_mut(), &mut len) };
    assert_eq!((rv0, len), (CKR_OK, 16));
    let mut last = [0u8; 16];
    // SAFETY: `last` holds `len` bytes.
    let rv1 = unsafe { (raw.f.C_EncryptFinal.unwrap())(raw.h, last.as_mut_ptr(), &mut len) };
    assert_eq!((rv1, &last[..]), (CKR_OK, &expected[32..]));
    // Decryption: the query answers an upper bound; a buffer that holds the plaintext works.
    let mut m = mech(CKM_AES_CBC_PAD, &mut piv);
    assert_eq!(raw.decrypt_init(&mut m, key), CKR_OK);
    assert_eq!(raw.decrypt(&expected, None).2, 48);
    assert_eq!(raw.decrypt(&expected, Some(40)), (CKR_OK, data.clone(), 40));
    // A buffer too small for the plaintext keeps it for the next call with the same data.
    assert_eq!(raw.decrypt_init(&mut m, key), CKR_OK);
    let (rv0, _, len) = raw.decrypt(&expected, Some(39));
    assert_eq!((rv0, len), (CKR_BUFFER_TOO_SMALL, 40));
    assert_eq!(raw.decrypt(&expected, Some(40)), (CKR_OK, data.clone(), 40));
    assert_eq!(
        raw.decrypt(&expected, Some(40)).0,
        CKR_OPERATION_NOT_INITIALIZED
    );
}

// ---------------------------------------------------------------------------------------
// Mechanism list, FIPS mode, sharees

/// The `CK_MECHANISM_INFO` of `m` when the slot lists it, in raw calls (cryptoki leaves
/// vendor mechanisms out of its list).
fn flags(pkcs11: &Pkcs11, m: CK_MECHANISM_TYPE) -> Option<CK_MECHANISM_INFO> {
    let slot = slot(pkcs11).id();
    let f = functions();
    let mut n: CK_ULONG = 0;
    // SAFETY: a count query.
    assert_eq!(
        unsafe { (f.C_GetMechanismList.unwrap())(slot, std::ptr::null_mut(), &mut n) },
        CKR_OK
    );
    let mut listed = vec![0 as CK_MECHANISM_TYPE; n as usize];
    // SAFETY: `listed` holds `n` items.
    assert_eq!(
        unsafe { (f.C_GetMechanismList.unwrap())(slot, listed.as_mut_ptr(), &mut n) },
        CKR_OK
    );
    let mut info = CK_MECHANISM_INFO::default();
    // SAFETY: `info` is writable.
    let rv = unsafe { (f.C_GetMechanismInfo.unwrap())(slot, m, &mut info) };
    if listed.contains(&m) {
        assert_eq!(rv, CKR_OK);
        Some(info)
    } else {
        assert_eq!(rv, CKR_MECHANISM_INVALID);
        None
    }
}

fn has(info: &CK_MECHANISM_INFO, flag: CK_FLAGS) -> bool {
    info.flags & flag == flag
}

const ENCRYPTION: [CK_MECHANISM_TYPE; 9] = [
    CKM_AES_ECB,
    CKM_AES_CBC,
    CKM_AES_CBC_PAD,
    CKM_AES_CTR,
    CKM_AES_GCM,
    CKM_CLOUDHSM_AES_GCM,
    CKM_RSA_PKCS,
    CKM_RSA_X_509,
    CKM_RSA_PKCS_OAEP,
];

#[test]
fn the_encryption_mechanisms_are_listed_with_encrypt_and_decrypt() {
    let fixture = Fixture::new();
    let pkcs11 = open(&fixture);
    for m in ENCRYPTION {
        let info = flags(&pkcs11, m).unwrap_or_else(|| panic!("{m:#x} listed"));
        assert!(has(&info, CKF_ENCRYPT | CKF_DECRYPT | CKF_HW), "{m:#x}");
    }
    // CKM_RSA_PKCS keeps its signature flags beside.
    let rsa = flags(&pkcs11, CKM_RSA_PKCS).unwrap();
    assert!(has(&rsa, CKF_SIGN | CKF_VERIFY));
    assert_eq!(flags(&pkcs11, CKM_AES_GCM).unwrap().ulMaxKeySize, 32);
    // A signature mechanism does not encrypt.
    assert!(!has(
        &flags(&pkcs11, CKM_SHA256_RSA_PKCS).unwrap(),
        CKF_ENCRYPT
    ));
}

#[test]
fn a_fips_cluster_has_no_rsa_pkcs_encryption() {
    let fixture = Fixture::with(ClusterConfig {
        fips: true,
        ..ClusterConfig::default()
    });
    let pkcs11 = open(&fixture);
    let rsa = flags(&pkcs11, CKM_RSA_PKCS).unwrap();
    assert!(has(&rsa, CKF_SIGN) && !has(&rsa, CKF_ENCRYPT) && !has(&rsa, CKF_DECRYPT));
    for m in ENCRYPTION.into_iter().filter(|m| *m != CKM_RSA_PKCS) {
        assert!(
            flags(&pkcs11, m).is_some_and(|i| has(&i, CKF_ENCRYPT)),
            "{m:#x}"
        );
    }
    let session = session(&pkcs11, PIN1);
    let (public, private) = rsa_pair(&session, "fips");
    assert_eq!(
        rv(session.encrypt(&Mechanism::RsaPkcs, public, b"x")),
        RvError::MechanismInvalid
    );
    assert_eq!(
        rv(session.decrypt(&Mechanism::RsaPkcs, private, &[1; 256])),
        RvError::MechanismInvalid
    );
    let m = oaep(MechanismType::SHA256, PkcsMgfType::MGF1_SHA256, b"");
    let ct = session.encrypt(&m, public, b"x").unwrap();
    assert_eq!(session.decrypt(&m, private, &ct).unwrap(), b"x");
}

#[test]
fn a_sharee_encrypts_and_decrypts_with_a_shared_key() {
    let fixture = Fixture::new();
    for args in [
        "key generate-symmetric aes --label shared --key-length-bytes 32 --attributes encrypt=true decrypt=true",
        "key share --filter attr.label=shared --username cu2 --role crypto-user",
    ] {
        let args: Vec<&str> = args.split(' ').collect();
        let out = fixture.cli_as("cu1", CU1_PW, &args);
        assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stdout));
    }
    let pkcs11 = open(&fixture);
    let session = session(&pkcs11, PIN2);
    let key = find(&session, "shared");
    let iv = [9u8; 16];
    let ct = session
        .encrypt(&Mechanism::AesCbcPad(iv), key, b"from cu2")
        .unwrap();
    assert_eq!(
        session
            .decrypt(&Mechanism::AesCbcPad(iv), key, &ct)
            .unwrap(),
        b"from cu2"
    );
    // The owner decrypts what the sharee encrypted.
    drop(session);
    drop(pkcs11);
    let pkcs11 = open(&fixture);
    let session = common::session(&pkcs11, PIN1);
    let key = find(&session, "shared");
    assert_eq!(
        session
            .decrypt(&Mechanism::AesCbcPad(iv), key, &ct)
            .unwrap(),
        b"from cu2"
    );
}
