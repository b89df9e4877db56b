//! Encryption and decryption through the `Cluster` API, as the PKCS#11 module calls it: every
//! mechanism round-trips; an operation needs the key's `encrypt`/`decrypt` attribute and a key
//! of the mechanism's type; the HSM's per-call data limits; GCM IVs made by the HSM; RSA-PKCS
//! refused on FIPS clusters; a key shared with another crypto user is usable by it.

#![allow(clippy::unwrap_used, clippy::expect_used)] // test code: a panic is a failure report

use cloudhsm_sim::hsm::crypto::{self, CryptoError, HashFunction};
use cloudhsm_sim::hsm::key::{Assignment, Attribute, Flag, KeyError, Term, Value};
use cloudhsm_sim::hsm::{
    self, Cipher, CipherOperation, Cluster, ClusterConfig, Entropy, GenerateRequest, HsmError, Kdf,
    KeyKind, Login, PublicExponent, Role, SessionId, Username, AES_CBC_MAX_DATA, AES_GCM_MAX_DATA,
};
use cloudhsm_sim::store::Home;

const ADMIN_PW: &str = "admin-pw-1";
const CU_PW: &str = "cu-pw-1234";

fn username(name: &str) -> Username {
    Username::parse(name).unwrap()
}

/// A state directory with an activated cluster and crypto users `cu1` and `cu2`.
struct Fixture {
    _dir: tempfile::TempDir,
    home: Home,
    id: &'static str,
    entropy: Entropy,
}

impl Fixture {
    fn new(fips: bool) -> Fixture {
        let dir = tempfile::tempdir().unwrap();
        let home = Home::open(dir.path().join("state")).unwrap();
        let mut entropy = Entropy::new(Some(11));
        let id = "cluster-ciphers";
        let config = ClusterConfig {
            id: Some(id.into()),
            kdf: Kdf::Fast,
            fips,
            ..ClusterConfig::default()
        };
        hsm::create(&home, &config, &mut entropy).unwrap();
        let mut cluster = Cluster::open(&home, id).unwrap();
        cluster.activate(ADMIN_PW, &mut entropy).unwrap();
        let admin = cluster
            .login(&username("admin"), Role::Admin, ADMIN_PW, &SessionId::new())
            .unwrap();
        for cu in ["cu1", "cu2"] {
            cluster
                .create_user(
                    &admin,
                    &username(cu),
                    Role::CryptoUser,
                    CU_PW,
                    None,
                    &mut entropy,
                )
                .unwrap();
        }
        cluster.logout(admin).unwrap();
        Fixture {
            _dir: dir,
            home,
            id,
            entropy,
        }
    }

    fn open(&self) -> Cluster {
        Cluster::open(&self.home, self.id).unwrap()
    }

    fn login(&self, cluster: &mut Cluster, user: &str) -> Login {
        cluster
            .login(&username(user), Role::CryptoUser, CU_PW, &SessionId::new())
            .unwrap()
    }
}

fn terms(label: &str) -> Vec<Term> {
    vec![Term::Is(Attribute::Label, Value::Text(label.into()))]
}

fn flags(list: &[Flag]) -> Vec<Assignment> {
    list.iter().map(|f| Assignment::Flag(*f, true)).collect()
}

fn secret(kind: KeyKind, label: &str, attributes: &[Flag]) -> GenerateRequest {
    GenerateRequest {
        kind,
        label: label.into(),
        private_label: String::new(),
        attributes: flags(attributes),
        private_attributes: Vec::new(),
        share_with: Vec::new(),
        manage_quorum: None,
        use_quorum: None,
        token: true,
    }
}

fn aes(label: &str, bytes: u64, attributes: &[Flag]) -> GenerateRequest {
    secret(KeyKind::Aes { bytes }, label, attributes)
}

/// An RSA-2048 pair: the public key `<label>-pub` encrypts, the private key `label` decrypts.
fn rsa(label: &str) -> GenerateRequest {
    GenerateRequest {
        kind: KeyKind::Rsa {
            modulus_bits: 2048,
            public_exponent: PublicExponent::parse("65537").unwrap(),
        },
        label: format!("{label}-pub"),
        private_label: label.into(),
        attributes: flags(&[Flag::Encrypt]),
        private_attributes: flags(&[Flag::Decrypt]),
        share_with: Vec::new(),
        manage_quorum: None,
        use_quorum: None,
        token: true,
    }
}

const ENC_DEC: &[Flag] = &[Flag::Encrypt, Flag::Decrypt];

fn encrypt(
    cluster: &mut Cluster,
    login: &Login,
    label: &str,
    cipher: &Cipher,
) -> Result<CipherOperation, HsmError> {
    cluster
        .begin_encrypt(login, &terms(label), cipher, &Entropy::new(None))
        .map(|(_, op)| op)
}

fn decrypt(
    cluster: &mut Cluster,
    login: &Login,
    label: &str,
    cipher: &Cipher,
) -> Result<CipherOperation, HsmError> {
    cluster
        .begin_decrypt(login, &terms(label), cipher)
        .map(|(_, op)| op)
}

fn crypto_error(result: Result<impl std::fmt::Debug, HsmError>) -> CryptoError {
    match result {
        Err(HsmError::Key(KeyError::Crypto(e))) => e,
        other => panic!("expected a crypto refusal, got {other:?}"),
    }
}

fn block_modes() -> Vec<Cipher> {
    let iv = *b"0123456789abcdef";
    vec![
        Cipher::AesEcb,
        Cipher::AesCbc { iv },
        Cipher::AesCbcPad { iv },
        Cipher::AesCtr {
            counter_bits: 32,
            block: iv,
        },
    ]
}

#[test]
fn every_aes_mechanism_round_trips_single_and_multi_part() {
    let f = Fixture::new(false);
    let mut cluster = f.open();
    let mut cu1 = f.login(&mut cluster, "cu1");
    for bytes in [16, 24, 32] {
        let label = format!("aes{bytes}");
        cluster
            .generate_keys(&mut cu1, &aes(&label, bytes, ENC_DEC), &f.entropy)
            .unwrap();
        let plaintext: Vec<u8> = (0..160u8).collect();
        for cipher in block_modes() {
            let sealed = encrypt(&mut cluster, &cu1, &label, &cipher)
                .unwrap()
                .single(&plaintext)
                .unwrap();
            assert_ne!(sealed[..32], plaintext[..32], "{}", cipher.name());
            // The same in pieces, through update and finish.
            let mut op = encrypt(&mut cluster, &cu1, &label, &cipher).unwrap();
            assert!(op.is_multipart());
            let mut pieces = Vec::new();
            for part in plaintext.chunks(7) {
                pieces.extend(op.update(part).unwrap());
            }
            pieces.extend(op.finish().unwrap());
            assert_eq!(pieces, sealed, "{} in pieces", cipher.name());

            let opened = decrypt(&mut cluster, &cu1, &label, &cipher)
                .unwrap()
                .single(&sealed)
                .unwrap();
            assert_eq!(opened, plaintext, "{} with {bytes}-byte key", cipher.name());
        }
    }
}

#[test]
fn gcm_iv_is_made_by_the_hsm_and_never_repeats() {
    let f = Fixture::new(false);
    let mut cluster = f.open();
    let mut cu1 = f.login(&mut cluster, "cu1");
    cluster
        .generate_keys(&mut cu1, &aes("gcm", 32, ENC_DEC), &f.entropy)
        .unwrap();
    let aad = b"header".to_vec();
    // The IV the application passes is not used: the HSM makes its own.
    let cipher = Cipher::AesGcm {
        iv: Some(vec![0; 12]),
        aad: aad.clone(),
        tag_bits: 128,
    };
    let op = encrypt(&mut cluster, &cu1, "gcm", &cipher).unwrap();
    assert!(!op.is_multipart());
    assert_eq!(op.output_len(5), 5 + 16);
    let iv = op.iv().unwrap().to_vec();
    assert_eq!(iv.len(), 12);
    assert_ne!(iv, vec![0; 12]);
    let sealed = op.single(b"hello").unwrap();
    assert_eq!(sealed.len(), 5 + 16, "ciphertext || tag, no IV");
    let again = encrypt(&mut cluster, &cu1, "gcm", &cipher).unwrap();
    assert_ne!(again.iv().unwrap(), iv, "a fresh IV per encryption");

    let with_iv = Cipher::AesGcm {
        iv: Some(iv.clone()),
        aad: aad.clone(),
        tag_bits: 128,
    };
    let opened = decrypt(&mut cluster, &cu1, "gcm", &with_iv)
        .unwrap()
        .single(&sealed)
        .unwrap();
    assert_eq!(opened, b"hello");
    // The wrong AAD fails authentication.
    let wrong_aad = Cipher::AesGcm {
        iv: Some(iv),
        aad: b"other".to_vec(),
        tag_bits: 128,
    };
    assert!(matches!(
        crypto_error(
            decrypt(&mut cluster, &cu1, "gcm", &wrong_aad)
                .unwrap()
                .single(&sealed)
        ),
        CryptoError::Decrypt {
            mechanism: "CKM_AES_GCM",
            ..
        }
    ));
    // Decryption needs the IV; GCM is single-part only.
    let no_iv = Cipher::AesGcm {
        iv: None,
        aad: Vec::new(),
        tag_bits: 128,
    };
    assert!(matches!(
        crypto_error(decrypt(&mut cluster, &cu1, "gcm", &no_iv)),
        CryptoError::Iv { .. }
    ));
    let mut op = encrypt(&mut cluster, &cu1, "gcm", &cipher).unwrap();
    assert_eq!(
        crypto_error(op.update(b"part")),
        CryptoError::SinglePartOnly {
            mechanism: "CKM_AES_GCM"
        }
    );

    // CKM_CLOUDHSM_AES_GCM: the IV travels in front of ciphertext || tag (a 96-bit tag here).
    let prepended = Cipher::CloudHsmAesGcm {
        aad: aad.clone(),
        tag_bits: 96,
    };
    let op = encrypt(&mut cluster, &cu1, "gcm", &prepended).unwrap();
    let iv = op.iv().unwrap().to_vec();
    let sealed = op.single(b"hello").unwrap();
    assert_eq!(sealed.len(), 12 + 5 + 12);
    assert_eq!(sealed[..12], iv[..]);
    let opened = decrypt(&mut cluster, &cu1, "gcm", &prepended)
        .unwrap()
        .single(&sealed)
        .unwrap();
    assert_eq!(opened, b"hello");

    // Tags are 64 to 128 bits in steps of 8.
    let bad_tag = Cipher::CloudHsmAesGcm { aad, tag_bits: 60 };
    assert_eq!(
        crypto_error(encrypt(&mut cluster, &cu1, "gcm", &bad_tag)),
        CryptoError::TagLength { bits: 60 }
    );
}

#[test]
fn rsa_mechanisms_round_trip_and_fips_clusters_refuse_rsa_pkcs() {
    let plaintext = b"a session key, say".to_vec();
    let oaep = Cipher::RsaOaep {
        hash: HashFunction::Sha256,
        mgf: HashFunction::Sha256,
        label: b"context".to_vec(),
    };
    for fips in [false, true] {
        let f = Fixture::new(fips);
        let mut cluster = f.open();
        let mut cu1 = f.login(&mut cluster, "cu1");
        cluster
            .generate_keys(&mut cu1, &rsa("rsa"), &f.entropy)
            .unwrap();
        let mut raw = vec![0u8; 256];
        raw[200..].fill(7);
        let mut cases = vec![(oaep.clone(), plaintext.clone()), (Cipher::RsaX509, raw)];
        if !fips {
            cases.push((Cipher::RsaPkcs, plaintext.clone()));
        }
        for (cipher, data) in cases {
            let op = encrypt(&mut cluster, &cu1, "rsa-pub", &cipher).unwrap();
            assert_eq!(op.output_len(data.len()), 256);
            let sealed = op.single(&data).unwrap();
            assert_eq!(sealed.len(), 256, "{}", cipher.name());
            let opened = decrypt(&mut cluster, &cu1, "rsa", &cipher)
                .unwrap()
                .single(&sealed)
                .unwrap();
            assert_eq!(opened, data, "{} (fips {fips})", cipher.name());
        }
        for result in [
            encrypt(&mut cluster, &cu1, "rsa-pub", &Cipher::RsaPkcs),
            decrypt(&mut cluster, &cu1, "rsa", &Cipher::RsaPkcs),
        ] {
            if fips {
                assert!(
                    matches!(
                        result,
                        Err(HsmError::Key(KeyError::DisallowedInFipsMode {
                            mechanism: "CKM_RSA_PKCS"
                        }))
                    ),
                    "{result:?}"
                );
            } else {
                result.unwrap();
            }
        }
    }
}

#[test]
fn rsa_parameters_and_lengths_are_checked() {
    let f = Fixture::new(false);
    let mut cluster = f.open();
    let mut cu1 = f.login(&mut cluster, "cu1");
    cluster
        .generate_keys(&mut cu1, &rsa("rsa"), &f.entropy)
        .unwrap();
    let oaep = |label: &[u8]| Cipher::RsaOaep {
        hash: HashFunction::Sha256,
        mgf: HashFunction::Sha256,
        label: label.to_vec(),
    };
    let sealed = encrypt(&mut cluster, &cu1, "rsa-pub", &oaep(b"one"))
        .unwrap()
        .single(b"secret")
        .unwrap();
    // Another label does not decrypt.
    assert!(matches!(
        crypto_error(
            decrypt(&mut cluster, &cu1, "rsa", &oaep(b"two"))
                .unwrap()
                .single(&sealed)
        ),
        CryptoError::Decrypt { .. }
    ));
    // The MGF1 hash is the OAEP hash.
    let mismatch = Cipher::RsaOaep {
        hash: HashFunction::Sha256,
        mgf: HashFunction::Sha1,
        label: Vec::new(),
    };
    assert_eq!(
        crypto_error(encrypt(&mut cluster, &cu1, "rsa-pub", &mismatch)),
        CryptoError::OaepMgfMismatch {
            hash: "sha256",
            mgf: "sha1"
        }
    );
    // Message limits: k - 11 for PKCS#1 v1.5, k - 2h - 2 for OAEP, k for raw RSA.
    for (cipher, max) in [
        (Cipher::RsaPkcs, 245),
        (oaep(b""), 190),
        (Cipher::RsaX509, 256),
    ] {
        let op = encrypt(&mut cluster, &cu1, "rsa-pub", &cipher).unwrap();
        assert_eq!(
            crypto_error(op.single(&vec![0u8; max + 1])),
            CryptoError::DataTooLong {
                mechanism: cipher.name(),
                max,
                actual: max + 1
            }
        );
    }
    // Raw RSA decryption is RSADP itself: of a PKCS#1 v1.5 ciphertext it gives the encoded
    // block 00 02 <nonzero padding> 00 <message> (RFC 8017 section 7.2.1).
    let sealed = encrypt(&mut cluster, &cu1, "rsa-pub", &Cipher::RsaPkcs)
        .unwrap()
        .single(b"secret")
        .unwrap();
    let block = decrypt(&mut cluster, &cu1, "rsa", &Cipher::RsaX509)
        .unwrap()
        .single(&sealed)
        .unwrap();
    assert_eq!(block.len(), 256);
    assert_eq!(block[..2], [0x00, 0x02]);
    assert!(block[2..249].iter().all(|&b| b != 0));
    assert_eq!(block[249..], *b"\0secret");
    // Raw RSA input must be a number below the modulus.
    let op = encrypt(&mut cluster, &cu1, "rsa-pub", &Cipher::RsaX509).unwrap();
    assert_eq!(
        crypto_error(op.single(&[0xff; 256])),
        CryptoError::RawRsaTooLarge {
            mechanism: "CKM_RSA_X_509"
        }
    );
    // RSA is single-part.
    let mut op = encrypt(&mut cluster, &cu1, "rsa-pub", &Cipher::RsaPkcs).unwrap();
    assert!(!op.is_multipart());
    assert!(matches!(
        crypto_error(op.update(b"x")),
        CryptoError::SinglePartOnly { .. }
    ));
}

#[test]
fn the_key_needs_the_usage_attribute_and_the_mechanism_type() {
    let f = Fixture::new(false);
    let mut cluster = f.open();
    let mut cu1 = f.login(&mut cluster, "cu1");
    cluster
        .generate_keys(&mut cu1, &aes("enc-only", 32, &[Flag::Encrypt]), &f.entropy)
        .unwrap();
    cluster
        .generate_keys(&mut cu1, &aes("dec-only", 32, &[Flag::Decrypt]), &f.entropy)
        .unwrap();
    cluster
        .generate_keys(&mut cu1, &rsa("rsa"), &f.entropy)
        .unwrap();
    let cbc = Cipher::AesCbc { iv: [0; 16] };
    assert!(matches!(
        encrypt(&mut cluster, &cu1, "dec-only", &cbc),
        Err(HsmError::Key(KeyError::AttributeRequired {
            name: "encrypt"
        }))
    ));
    assert!(matches!(
        decrypt(&mut cluster, &cu1, "enc-only", &cbc),
        Err(HsmError::Key(KeyError::AttributeRequired {
            name: "decrypt"
        }))
    ));
    // An AES mechanism on an RSA key, an RSA mechanism on an AES key.
    assert!(matches!(
        crypto_error(encrypt(&mut cluster, &cu1, "rsa-pub", &cbc)),
        CryptoError::WrongKeyType {
            mechanism: "CKM_AES_CBC",
            ..
        }
    ));
    let gcm = Cipher::CloudHsmAesGcm {
        aad: Vec::new(),
        tag_bits: 128,
    };
    assert!(matches!(
        crypto_error(decrypt(&mut cluster, &cu1, "rsa", &gcm)),
        CryptoError::WrongKeyType { .. }
    ));
    assert!(matches!(
        crypto_error(encrypt(&mut cluster, &cu1, "enc-only", &Cipher::RsaX509)),
        CryptoError::WrongKeyType {
            mechanism: "CKM_RSA_X_509",
            ..
        }
    ));
    // A bad CTR counter width is refused when the operation begins.
    let ctr = Cipher::AesCtr {
        counter_bits: 0,
        block: [0; 16],
    };
    assert_eq!(
        crypto_error(encrypt(&mut cluster, &cu1, "enc-only", &ctr)),
        CryptoError::CounterBits { bits: 0 }
    );
}

#[test]
fn cbc_and_gcm_take_at_most_the_hsm_data_size_per_call() {
    let f = Fixture::new(false);
    let mut cluster = f.open();
    let mut cu1 = f.login(&mut cluster, "cu1");
    cluster
        .generate_keys(&mut cu1, &aes("k", 32, ENC_DEC), &f.entropy)
        .unwrap();
    assert_eq!((AES_CBC_MAX_DATA, AES_GCM_MAX_DATA), (16272, 16224));
    let cbc = Cipher::AesCbc { iv: [3; 16] };
    let at_limit = vec![1u8; AES_CBC_MAX_DATA];
    let sealed = encrypt(&mut cluster, &cu1, "k", &cbc)
        .unwrap()
        .single(&at_limit)
        .unwrap();
    assert_eq!(
        decrypt(&mut cluster, &cu1, "k", &cbc)
            .unwrap()
            .single(&sealed)
            .unwrap(),
        at_limit
    );
    let over = vec![1u8; AES_CBC_MAX_DATA + 16];
    let too_long = CryptoError::DataTooLong {
        mechanism: "CKM_AES_CBC",
        max: AES_CBC_MAX_DATA,
        actual: AES_CBC_MAX_DATA + 16,
    };
    let op = encrypt(&mut cluster, &cu1, "k", &cbc).unwrap();
    assert_eq!(crypto_error(op.single(&over)), too_long);
    // The limit is per call: the same data in two updates is accepted.
    let mut op = encrypt(&mut cluster, &cu1, "k", &cbc).unwrap();
    assert_eq!(crypto_error(op.update(&over)), too_long);
    let mut op = encrypt(&mut cluster, &cu1, "k", &cbc).unwrap();
    let mut out = op.update(&over[..16000]).unwrap();
    out.extend(op.update(&over[16000..]).unwrap());
    out.extend(op.finish().unwrap());
    assert_eq!(out.len(), over.len());
    // CBC-PAD has no documented limit.
    let pad = Cipher::AesCbcPad { iv: [3; 16] };
    let sealed = encrypt(&mut cluster, &cu1, "k", &pad)
        .unwrap()
        .single(&over)
        .unwrap();
    assert_eq!(sealed.len(), over.len() + 16);

    let gcm = Cipher::CloudHsmAesGcm {
        aad: Vec::new(),
        tag_bits: 128,
    };
    let at_limit = vec![2u8; AES_GCM_MAX_DATA];
    let sealed = encrypt(&mut cluster, &cu1, "k", &gcm)
        .unwrap()
        .single(&at_limit)
        .unwrap();
    assert_eq!(
        decrypt(&mut cluster, &cu1, "k", &gcm)
            .unwrap()
            .single(&sealed)
            .unwrap(),
        at_limit
    );
    let op = encrypt(&mut cluster, &cu1, "k", &gcm).unwrap();
    assert_eq!(
        crypto_error(op.single(&[2u8; AES_GCM_MAX_DATA + 1])),
        CryptoError::DataTooLong {
            mechanism: "CKM_CLOUDHSM_AES_GCM",
            max: AES_GCM_MAX_DATA,
            actual: AES_GCM_MAX_DATA + 1
        }
    );
}

#[test]
fn a_sharee_encrypts_and_decrypts_with_a_shared_key() {
    let f = Fixture::new(false);
    let mut cluster = f.open();
    let mut cu1 = f.login(&mut cluster, "cu1");
    let cu2 = f.login(&mut cluster, "cu2");
    cluster
        .generate_keys(&mut cu1, &aes("shared", 32, ENC_DEC), &f.entropy)
        .unwrap();
    let cbc = Cipher::AesCbcPad { iv: [5; 16] };
    // Not shared yet: cu2 cannot see the key.
    assert!(matches!(
        encrypt(&mut cluster, &cu2, "shared", &cbc),
        Err(HsmError::Key(KeyError::NotFound))
    ));
    cluster
        .share_key(
            &mut cu1,
            &terms("shared"),
            &username("cu2"),
            Role::CryptoUser,
            true,
            None,
        )
        .unwrap();
    let sealed = encrypt(&mut cluster, &cu2, "shared", &cbc)
        .unwrap()
        .single(b"from cu2")
        .unwrap();
    let opened = decrypt(&mut cluster, &cu1, "shared", &cbc)
        .unwrap()
        .single(&sealed)
        .unwrap();
    assert_eq!(opened, b"from cu2");
    let back = decrypt(&mut cluster, &cu2, "shared", &cbc)
        .unwrap()
        .single(&sealed)
        .unwrap();
    assert_eq!(back, b"from cu2");
    cluster.logout(cu2).unwrap();
}

/// Runs `openssl` with `args` in `dir`; it must succeed.
fn openssl(dir: &std::path::Path, args: &[&str]) {
    let out = std::process::Command::new("openssl")
        .args(args)
        .current_dir(dir)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "openssl {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// The decoded material of `label`, which `login` owns.
fn material(cluster: &mut Cluster, login: &Login, label: &str) -> crypto::KeyMaterial {
    let key = cluster.select_key(login, &terms(label)).unwrap();
    crypto::KeyMaterial::from_blob(&cluster.key_material(login, &key).unwrap()).unwrap()
}

#[test]
fn openssl_reads_what_the_hsm_encrypts_and_the_hsm_reads_openssl_oaep_with_a_label() {
    let f = Fixture::new(false);
    let mut cluster = f.open();
    let mut cu1 = f.login(&mut cluster, "cu1");
    let dir = tempfile::tempdir().unwrap();
    let dir = dir.path();

    // AES-CBC-PAD and AES-CTR (128-bit counter) ciphertexts decrypt with `openssl enc`.
    cluster
        .generate_keys(&mut cu1, &aes("aes", 32, ENC_DEC), &f.entropy)
        .unwrap();
    let crypto::KeyMaterial::Secret(secret) = material(&mut cluster, &cu1, "aes") else {
        panic!("an AES key holds a secret");
    };
    let key_hex = hex(secret.bytes());
    let iv = *b"an iv of sixteen";
    let plaintext = b"forty-one bytes of plaintext, not aligned".to_vec();
    for (cipher, openssl_name) in [
        (Cipher::AesCbcPad { iv }, "-aes-256-cbc"),
        (
            Cipher::AesCtr {
                counter_bits: 128,
                block: iv,
            },
            "-aes-256-ctr",
        ),
    ] {
        let sealed = encrypt(&mut cluster, &cu1, "aes", &cipher)
            .unwrap()
            .single(&plaintext)
            .unwrap();
        std::fs::write(dir.join("ct"), &sealed).unwrap();
        openssl(
            dir,
            &[
                "enc",
                "-d",
                openssl_name,
                "-K",
                &key_hex,
                "-iv",
                &hex(&iv),
                "-in",
                "ct",
                "-out",
                "pt",
            ],
        );
        assert_eq!(
            std::fs::read(dir.join("pt")).unwrap(),
            plaintext,
            "{}",
            cipher.name()
        );
    }

    // OAEP with SHA-384, MGF1-SHA-384 and a label, encrypted by openssl.
    cluster
        .generate_keys(&mut cu1, &rsa("rsa"), &f.entropy)
        .unwrap();
    let crypto::KeyMaterial::Public(public) = material(&mut cluster, &cu1, "rsa-pub") else {
        panic!("the public half holds a public key");
    };
    std::fs::write(dir.join("pub.pem"), public.to_pem().unwrap()).unwrap();
    std::fs::write(dir.join("msg"), b"wrapped by openssl").unwrap();
    let label = b"a label";
    let label_opt = format!("rsa_oaep_label:{}", hex(label));
    openssl(
        dir,
        &[
            "pkeyutl",
            "-encrypt",
            "-pubin",
            "-inkey",
            "pub.pem",
            "-in",
            "msg",
            "-out",
            "ct",
            "-pkeyopt",
            "rsa_padding_mode:oaep",
            "-pkeyopt",
            "rsa_oaep_md:sha384",
            "-pkeyopt",
            "rsa_mgf1_md:sha384",
            "-pkeyopt",
            &label_opt,
        ],
    );
    let cipher = Cipher::RsaOaep {
        hash: HashFunction::Sha384,
        mgf: HashFunction::Sha384,
        label: label.to_vec(),
    };
    let opened = decrypt(&mut cluster, &cu1, "rsa", &cipher)
        .unwrap()
        .single(&std::fs::read(dir.join("ct")).unwrap())
        .unwrap();
    assert_eq!(opened, b"wrapped by openssl");
}
