//! OpenSSL interoperability of key wrapping and the cipher primitives: RSA-OAEP, RSA PKCS#1 v1.5
//! and RSA-AES blobs opened by `openssl pkeyutl` / `openssl enc -id-aes256-wrap-pad`, OpenSSL's
//! blobs unwrapped here, AES-GCM ciphertext compared with OpenSSL's AES-CTR (OpenSSL 3.0's `enc`
//! refuses AEAD ciphers, so the GCM tag is checked against the NIST vectors instead), digests
//! and HMAC compared with `openssl dgst`; plus AWS-LC cross-checks of AES key wrap.

#![allow(clippy::unwrap_used, clippy::expect_used)] // test code: a panic is a failure report

use std::path::PathBuf;
use std::process::{Command, Output};
use std::sync::OnceLock;

use cloudhsm_sim::hsm::crypto::*;
use cloudhsm_sim::hsm::Entropy;

/// A scratch directory for the files handed to `openssl`.
struct Scratch(tempfile::TempDir);

impl Scratch {
    fn new() -> Scratch {
        Scratch(tempfile::tempdir().unwrap())
    }

    /// The path of `name` in the directory, as a string for `openssl` arguments.
    fn file(&self, name: &str) -> String {
        let path: PathBuf = self.0.path().join(name);
        path.to_str().unwrap().to_string()
    }

    /// Writes `bytes` to `name` and returns its path.
    fn write(&self, name: &str, bytes: &[u8]) -> String {
        std::fs::write(self.file(name), bytes).unwrap();
        self.file(name)
    }

    fn read(&self, name: &str) -> Vec<u8> {
        std::fs::read(self.file(name)).unwrap()
    }
}

/// Runs `openssl` with `args`; the command must succeed.
fn openssl(args: &[&str]) -> Output {
    let out = Command::new("openssl")
        .args(args)
        .output()
        .expect("the openssl binary is needed for these tests");
    assert!(
        out.status.success(),
        "openssl {args:?} failed: {}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    out
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn unhex(s: &str) -> Vec<u8> {
    (0..s.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&s[i..i + 2], 16).unwrap())
        .collect()
}

fn entropy(seed: u64) -> Entropy {
    Entropy::new(Some(seed))
}

fn aes(bytes: &[u8]) -> KeyMaterial {
    KeyMaterial::Secret(SecretKey::new(SecretKind::Aes, bytes.to_vec()).unwrap())
}

/// An RSA-2048 key made by `openssl genpkey`, made once for the test binary.
struct OpensslRsa {
    /// The private key PEM as OpenSSL wrote it.
    key_pem: Vec<u8>,
    /// The public key PEM as OpenSSL wrote it.
    public_pem: Vec<u8>,
    /// The public key imported with `PublicKey::from_pem`.
    public: KeyMaterial,
    /// The private key imported from OpenSSL's PKCS#8 DER.
    private: KeyMaterial,
}

fn openssl_rsa() -> &'static OpensslRsa {
    static KEY: OnceLock<OpensslRsa> = OnceLock::new();
    KEY.get_or_init(|| {
        let dir = Scratch::new();
        let (key, public, der) = (
            dir.file("key.pem"),
            dir.file("pub.pem"),
            dir.file("key.der"),
        );
        let bits = "rsa_keygen_bits:2048";
        openssl(&[
            "genpkey",
            "-algorithm",
            "RSA",
            "-pkeyopt",
            bits,
            "-out",
            &key,
        ]);
        openssl(&["pkey", "-in", &key, "-pubout", "-out", &public]);
        openssl(&[
            "pkcs8", "-topk8", "-nocrypt", "-in", &key, "-outform", "DER", "-out", &der,
        ]);
        let public_key = PublicKey::from_pem(&dir.read("pub.pem")).unwrap();
        let private = PrivateKey::from_pkcs8_der(&dir.read("key.der")).unwrap();
        assert_eq!(private.public_key(), public_key);
        OpensslRsa {
            key_pem: dir.read("key.pem"),
            public_pem: dir.read("pub.pem"),
            public: KeyMaterial::Public(public_key),
            private: KeyMaterial::Private(private),
        }
    })
}

/// `openssl pkeyutl -decrypt` of `ciphertext` with the OpenSSL key and `-pkeyopt` `options`.
fn pkeyutl_decrypt(ciphertext: &[u8], options: &[String]) -> Vec<u8> {
    let dir = Scratch::new();
    let (key, input) = (
        dir.write("key.pem", &openssl_rsa().key_pem),
        dir.write("ct", ciphertext),
    );
    let mut args = vec!["pkeyutl", "-decrypt", "-inkey", &key, "-in", &input];
    options
        .iter()
        .for_each(|o| args.extend(["-pkeyopt", o.as_str()]));
    openssl(&args).stdout
}

/// `openssl pkeyutl -encrypt` of `plaintext` for the OpenSSL key with `-pkeyopt` `options`.
fn pkeyutl_encrypt(plaintext: &[u8], options: &[String]) -> Vec<u8> {
    let dir = Scratch::new();
    let public = dir.write("pub.pem", &openssl_rsa().public_pem);
    let input = dir.write("pt", plaintext);
    let mut args = vec![
        "pkeyutl", "-encrypt", "-pubin", "-inkey", &public, "-in", &input,
    ];
    options
        .iter()
        .for_each(|o| args.extend(["-pkeyopt", o.as_str()]));
    openssl(&args).stdout
}

/// The `-pkeyopt` values of OAEP with `hash` and MGF1 `mgf`.
fn oaep_options(hash: HashFunction, mgf: HashFunction) -> Vec<String> {
    vec![
        "rsa_padding_mode:oaep".to_string(),
        format!("rsa_oaep_md:{}", hash.name()),
        format!("rsa_mgf1_md:{}", mgf.name()),
    ]
}

/// `openssl enc` of `input` with `cipher`, key `key` and IV `iv` (hex); `decrypt` adds `-d`.
fn enc(cipher: &str, key: &[u8], iv: &str, input: &[u8], decrypt: bool) -> Vec<u8> {
    let dir = Scratch::new();
    let path = dir.write("in.bin", input);
    let key = hex(key);
    let mut args = vec!["enc", cipher, "-K", &key, "-iv", iv, "-in", &path];
    if decrypt {
        args.push("-d");
    }
    openssl(&args).stdout
}

const HASH_PAIRS: [(HashFunction, HashFunction); 4] = [
    (HashFunction::Sha256, HashFunction::Sha256),
    (HashFunction::Sha1, HashFunction::Sha1),
    (HashFunction::Sha224, HashFunction::Sha512),
    (HashFunction::Sha512, HashFunction::Sha1),
];

#[test]
fn rsa_oaep_and_pkcs_wraps_are_decrypted_by_openssl() {
    let public = &openssl_rsa().public;
    let payload = generate_aes(&mut entropy(1), 32).unwrap().bytes().to_vec();
    for (hash, mgf) in HASH_PAIRS {
        let m = WrapMechanism::RsaOaep { hash, mgf };
        let out = wrap_key(&m, public, &payload, &mut entropy(2)).unwrap();
        let plain = pkeyutl_decrypt(&out.data, &oaep_options(hash, mgf));
        assert_eq!(plain, payload, "{m:?}");
    }
    let out = wrap_key(&WrapMechanism::RsaPkcs, public, &payload, &mut entropy(3)).unwrap();
    let plain = pkeyutl_decrypt(&out.data, &["rsa_padding_mode:pkcs1".into()]);
    assert_eq!(plain, payload);
}

#[test]
fn rsa_aes_wraps_are_unwrapped_by_openssl() {
    let public = &openssl_rsa().public;
    let ec = generate_ec(&mut entropy(4), Curve::Secp256r1)
        .unwrap()
        .to_pkcs8_der();
    let payloads = [ec.clone(), vec![7u8; 24], vec![1u8; 5], ec];
    for (payload, (hash, mgf)) in payloads.iter().zip(HASH_PAIRS) {
        let m = WrapMechanism::RsaAes { hash, mgf };
        let out = wrap_key(&m, public, payload, &mut entropy(5)).unwrap();
        // The RSA part is as long as the modulus; OpenSSL recovers the AES-256 key from it,
        // then opens the RFC 5649 part with `enc -id-aes256-wrap-pad` and IV A65959A6.
        let (encrypted_key, wrapped) = out.data.split_at(256);
        let aes_key = pkeyutl_decrypt(encrypted_key, &oaep_options(hash, mgf));
        assert_eq!(aes_key.len(), RSA_AES_KEY_LEN);
        let plain = enc("-id-aes256-wrap-pad", &aes_key, "A65959A6", wrapped, true);
        assert_eq!(&plain, payload, "{m:?}");
    }
}

#[test]
fn openssl_rsa_ciphertexts_are_unwrapped() {
    let private = &openssl_rsa().private;
    let payload = b"0123456789abcdef0123456789abcdef";
    for (hash, mgf) in HASH_PAIRS {
        let blob = pkeyutl_encrypt(payload, &oaep_options(hash, mgf));
        let m = WrapMechanism::RsaOaep { hash, mgf };
        assert_eq!(unwrap_key(&m, private, &blob, None).unwrap(), payload);
        // An RSA-AES blob assembled from OpenSSL's OAEP and its AES key wrap with padding.
        let aes_key = [0x42u8; 32];
        let encrypted_key = pkeyutl_encrypt(&aes_key, &oaep_options(hash, mgf));
        let wrapped = enc("-id-aes256-wrap-pad", &aes_key, "A65959A6", payload, false);
        let blob = [encrypted_key, wrapped].concat();
        let m = WrapMechanism::RsaAes { hash, mgf };
        assert_eq!(unwrap_key(&m, private, &blob, None).unwrap(), payload);
    }
    let blob = pkeyutl_encrypt(payload, &["rsa_padding_mode:pkcs1".into()]);
    let back = unwrap_key(&WrapMechanism::RsaPkcs, private, &blob, None).unwrap();
    assert_eq!(back, payload);
}

#[test]
fn aes_key_wrap_matches_openssl_both_ways() {
    let mut e = entropy(6);
    for (len, bits) in [(16, 128), (24, 192), (32, 256)] {
        let kek = generate_aes(&mut e, len).unwrap().bytes().to_vec();
        let key = aes(&kek);
        let (kw, kwp) = (
            format!("-id-aes{bits}-wrap"),
            format!("-id-aes{bits}-wrap-pad"),
        );
        for n in [5usize, 8, 16, 24, 32, 121] {
            let mut payload = vec![0u8; n];
            e.fill(&mut payload);
            // aes-zero-pad is RFC 5649: OpenSSL's wrap-pad, both ways.
            let ours = wrap_key(&WrapMechanism::AesZeroPad, &key, &payload, &mut e).unwrap();
            assert_eq!(enc(&kwp, &kek, "A65959A6", &ours.data, true), payload);
            let theirs = enc(&kwp, &kek, "A65959A6", &payload, false);
            assert_eq!(ours.data, theirs);
            let back = unwrap_key(&WrapMechanism::AesZeroPad, &key, &theirs, None).unwrap();
            assert_eq!(back, payload);
            // aes-pkcs5-pad is RFC 3394 over PKCS#5-padded data.
            let pad = 8 - n % 8;
            let padded = [payload.clone(), vec![pad as u8; pad]].concat();
            if n >= 8 {
                let theirs = enc(&kw, &kek, "A6A6A6A6A6A6A6A6", &padded, false);
                let m = WrapMechanism::AesPkcs5Pad;
                let ours = wrap_key(&m, &key, &payload, &mut e).unwrap();
                assert_eq!(ours.data, theirs);
                assert_eq!(unwrap_key(&m, &key, &theirs, None).unwrap(), payload);
            }
            if !n.is_multiple_of(8) || n < 16 {
                continue;
            }
            // aes-no-pad is plain RFC 3394.
            let m = WrapMechanism::AesNoPad;
            let ours = wrap_key(&m, &key, &payload, &mut e).unwrap();
            assert_eq!(
                enc(&kw, &kek, "A6A6A6A6A6A6A6A6", &ours.data, true),
                payload
            );
            let theirs = enc(&kw, &kek, "A6A6A6A6A6A6A6A6", &payload, false);
            assert_eq!(unwrap_key(&m, &key, &theirs, None).unwrap(), payload);
        }
    }
}

#[test]
fn aes_gcm_ciphertext_matches_openssl_ctr_and_tags_match_nist() {
    let mut e = entropy(7);
    let payload = generate_aes(&mut e, 32).unwrap().bytes().to_vec();
    for (len, bits) in [(16, 128), (24, 192), (32, 256)] {
        let key_bytes = generate_aes(&mut e, len).unwrap().bytes().to_vec();
        let key = aes(&key_bytes);
        let m = WrapMechanism::AesGcm {
            tag_length_bits: 64,
            aad: vec![0x10],
        };
        let out = wrap_key(&m, &key, &payload, &mut e).unwrap();
        let iv = out.iv.clone().unwrap();
        // GCM encrypts with AES-CTR from counter block IV || 00000002.
        let counter = format!("{}00000002", hex(&iv));
        let ctr = enc(
            &format!("-aes-{bits}-ctr"),
            &key_bytes,
            &counter,
            &payload,
            false,
        );
        assert_eq!(out.data[..payload.len()], ctr[..]);
        let m = WrapMechanism::CloudHsmAesGcm {
            tag_length_bits: 128,
            aad: vec![],
        };
        let out = wrap_key(&m, &key, &payload, &mut e).unwrap();
        let counter = format!("{}00000002", hex(&out.data[..12]));
        let ctr = enc(
            &format!("-aes-{bits}-ctr"),
            &key_bytes,
            &counter,
            &payload,
            false,
        );
        assert_eq!(out.data[12..12 + payload.len()], ctr[..]);
    }
    // The tag: GCM test case 4 (AES-128, 60-byte text, 20-byte AAD) with full and cut tags.
    let key = aes(&unhex("feffe9928665731c6d6a8f9467308308"));
    let iv = unhex("cafebabefacedbaddecaf888");
    let aad = unhex("feedfacedeadbeeffeedfacedeadbeefabaddad2");
    let c = unhex(concat!(
        "42831ec2217774244b7221b784d0d49ce3aa212f2c02a4e035c17e2329aca12e",
        "21d514b25466931c7d8f6a5aac84aa051ba30b396a0aac973d58e091"
    ));
    let p = unhex(concat!(
        "d9313225f88406e5a55909c5aff5269a86a7a9531534f7da2e4c303d8a318a72",
        "1c3c0c95956809532fcf0e2449a6b525b16aedf5aa0de657ba637b39"
    ));
    let tag = unhex("5bc94fbc3221a5db94fae95ae7121a47");
    for tag_bits in (64..=128).step_by(8) {
        let data = [&c[..], &tag[..tag_bits / 8]].concat();
        assert_eq!(
            aes_gcm_decrypt(&key, &iv, &data, &aad, tag_bits).unwrap(),
            p
        );
        let m = WrapMechanism::AesGcm {
            tag_length_bits: tag_bits,
            aad: aad.clone(),
        };
        assert_eq!(unwrap_key(&m, &key, &data, Some(&iv)).unwrap(), p);
        let mut bad = data.clone();
        *bad.last_mut().unwrap() ^= 1;
        assert!(aes_gcm_decrypt(&key, &iv, &bad, &aad, tag_bits).is_err());
    }
}

#[test]
fn digests_and_hmacs_match_openssl() {
    let dir = Scratch::new();
    let data = b"The quick brown fox jumps over the lazy dog";
    let path = dir.write("data.bin", data);
    let key = [0x0bu8; 20];
    let dgst = |args: &[&str]| {
        let out = String::from_utf8(openssl(args).stdout).unwrap();
        unhex(out.split_whitespace().next().unwrap())
    };
    for hash in HASH_FUNCTIONS {
        let flag = format!("-{}", hash.name());
        assert_eq!(
            digest(hash, data),
            dgst(&["dgst", &flag, "-r", &path]),
            "{hash:?}"
        );
        let macopt = format!("hexkey:{}", hex(&key));
        let args = [
            "dgst", &flag, "-mac", "HMAC", "-macopt", &macopt, "-r", &path,
        ];
        assert_eq!(hmac(hash, &key, data), dgst(&args), "{hash:?}");
    }
    // RFC 4231 test case 2.
    let mac = "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843";
    let sha256 = HashFunction::Sha256;
    assert_eq!(
        hmac(sha256, b"Jefe", b"what do ya want for nothing?"),
        unhex(mac)
    );
}

#[test]
fn key_wrap_agrees_with_aws_lc() {
    use aws_lc_rs::key_wrap::{AesKek, KeyWrap, KeyWrapPadded, AES_128, AES_256};
    let mut e = entropy(8);
    for (cipher, len) in [(&AES_128, 16), (&AES_256, 32)] {
        let kek = generate_aes(&mut e, len).unwrap();
        let key = KeyMaterial::Secret(kek.clone());
        for n in [1usize, 7, 8, 9, 16, 24, 40, 121, 1218] {
            let mut payload = vec![0u8; n];
            e.fill(&mut payload);
            let mut buf = vec![0u8; n + 16];
            let theirs = AesKek::new(cipher, kek.bytes()).unwrap();
            let expected = theirs.wrap_with_padding(&payload, &mut buf).unwrap();
            let ours = wrap_key(&WrapMechanism::AesZeroPad, &key, &payload, &mut e).unwrap();
            assert_eq!(ours.data, expected, "KWP {n}");
            if n.is_multiple_of(8) && n >= 16 {
                let theirs = AesKek::new(cipher, kek.bytes()).unwrap();
                let expected = theirs.wrap(&payload, &mut buf).unwrap();
                let ours = wrap_key(&WrapMechanism::AesNoPad, &key, &payload, &mut e).unwrap();
                assert_eq!(ours.data, expected, "KW {n}");
            }
        }
    }
}

#[test]
fn oaep_with_every_hash_pair_round_trips() {
    let OpensslRsa {
        public, private, ..
    } = openssl_rsa();
    let mut e = entropy(9);
    for hash in HASH_FUNCTIONS {
        for mgf in HASH_FUNCTIONS {
            let ct = rsa_oaep_encrypt(public, hash, mgf, b"message", &mut e).unwrap();
            assert_eq!(
                rsa_oaep_decrypt(private, hash, mgf, &ct).unwrap(),
                b"message"
            );
            let other = HASH_FUNCTIONS.into_iter().find(|h| *h != mgf).unwrap();
            assert!(rsa_oaep_decrypt(private, hash, other, &ct).is_err());
        }
        let max = 256 - 2 * hash.output_len() - 2;
        let err = rsa_oaep_encrypt(public, hash, hash, &vec![0; max + 1], &mut e).unwrap_err();
        let (mechanism, actual) = ("rsa-oaep", max + 1);
        assert_eq!(
            err,
            CryptoError::DataTooLong {
                mechanism,
                max,
                actual
            }
        );
    }
}
