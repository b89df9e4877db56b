//! DES3 (DES-EDE3): NIST known answers (SP 800-67 Rev. 1 Appendix B, SP 800-20 with three
//! equal keys), CBC and CBC-PAD against OpenSSL's `enc -des-ede3-cbc` output, multi-part
//! equal to single-part, parity of generated keys and the check value.

use super::super::des3::{Des3Mode, Des3Stream, DES3_BLOCK_LEN, DES3_KEY_LEN};
use super::super::modes::Direction;
use super::super::{
    generate_des3, set_odd_parity, CryptoError, KeyMaterial, SecretKey, SecretKind,
};
use super::{entropy, unhex};

/// SP 800-67 Rev. 1 Appendix B: three independent keys.
const KEY: &str = "0123456789abcdef23456789abcdef01456789abcdef0123";
/// "The qufck brown fox jump" (the typo is the standard's).
const PLAINTEXT: &str = "54686520717566636b2062726f776e20666f78206a756d70";
const ECB: &str = "a826fd8ce53b855fcce21c8112256fe668d5c05dd9b6b900";
const IV: [u8; 8] = [0xf6, 0x9f, 0x24, 0x45, 0xdf, 0x4f, 0x9b, 0x17];
/// `openssl enc -des-ede3-cbc -K <KEY> -iv f69f2445df4f9b17 -nopad` of PLAINTEXT.
const CBC: &str = "a5c282bad0de3774becd2e04386b589fb5057d8552fc4336";

fn run(
    key: &[u8],
    mode: &Des3Mode,
    direction: Direction,
    data: &[u8],
) -> Result<Vec<u8>, CryptoError> {
    Des3Stream::new(key, mode.clone(), direction)?.single(data)
}

fn pieces(key: &[u8], mode: &Des3Mode, direction: Direction, data: &[u8], size: usize) -> Vec<u8> {
    let mut stream = Des3Stream::new(key, mode.clone(), direction).unwrap();
    let mut out = Vec::new();
    for part in data.chunks(size) {
        let predicted = stream.update_len(part.len());
        let got = stream.update(part).unwrap();
        assert_eq!(got.len(), predicted, "update_len predicts update's output");
        out.extend(got);
    }
    let last = stream.finish_len();
    let tail = stream.finish().unwrap();
    assert!(tail.len() <= last);
    out.extend(tail);
    out
}

#[test]
fn sp800_67_ecb_known_answer() {
    let (key, plaintext, ciphertext) = (unhex(KEY), unhex(PLAINTEXT), unhex(ECB));
    assert_eq!(
        run(&key, &Des3Mode::Ecb, Direction::Encrypt, &plaintext).unwrap(),
        ciphertext
    );
    assert_eq!(
        run(&key, &Des3Mode::Ecb, Direction::Decrypt, &ciphertext).unwrap(),
        plaintext
    );
}

#[test]
fn sp800_20_variable_plaintext_known_answers_with_equal_keys() {
    // K1 = K2 = K3 = 0101010101010101: TDEA is single DES (SP 800-20 Table 1).
    let key = unhex(&"0101010101010101".repeat(3));
    for (plaintext, ciphertext) in [
        ("8000000000000000", "95f8a5e5dd31d900"),
        ("4000000000000000", "dd7f121ca5015619"),
        ("0000000000000001", "166b40b44aba4bd6"),
    ] {
        let got = run(&key, &Des3Mode::Ecb, Direction::Encrypt, &unhex(plaintext)).unwrap();
        assert_eq!(got, unhex(ciphertext), "plaintext {plaintext}");
    }
}

#[test]
fn cbc_matches_openssl_and_round_trips() {
    let (key, plaintext) = (unhex(KEY), unhex(PLAINTEXT));
    let mode = Des3Mode::Cbc { iv: IV };
    let sealed = run(&key, &mode, Direction::Encrypt, &plaintext).unwrap();
    assert_eq!(sealed, unhex(CBC));
    assert_eq!(
        run(&key, &mode, Direction::Decrypt, &sealed).unwrap(),
        plaintext
    );
}

#[test]
fn cbc_pad_adds_one_to_eight_bytes_and_round_trips_every_length() {
    let key = unhex(KEY);
    let mode = Des3Mode::CbcPad { iv: IV };
    let data: Vec<u8> = (0..40u8).collect();
    for len in 0..=data.len() {
        let sealed = run(&key, &mode, Direction::Encrypt, &data[..len]).unwrap();
        assert_eq!(sealed.len(), (len / DES3_BLOCK_LEN + 1) * DES3_BLOCK_LEN);
        assert_eq!(
            run(&key, &mode, Direction::Decrypt, &sealed).unwrap(),
            &data[..len]
        );
    }
    // `openssl enc -des-ede3-cbc` (PKCS#7 padding) of PLAINTEXT: the CBC blocks, then a
    // block of eight 0x08 bytes.
    let sealed = run(&key, &mode, Direction::Encrypt, &unhex(PLAINTEXT)).unwrap();
    assert_eq!(sealed[..24], unhex(CBC)[..]);
    assert_eq!(sealed.len(), 32);
}

#[test]
fn multi_part_output_is_the_single_part_output() {
    let key = unhex(KEY);
    let data: Vec<u8> = (0..=255u8).cycle().take(64).collect();
    for mode in [
        Des3Mode::Ecb,
        Des3Mode::Cbc { iv: IV },
        Des3Mode::CbcPad { iv: IV },
    ] {
        let sealed = run(&key, &mode, Direction::Encrypt, &data).unwrap();
        for size in [1, 3, 8, 13, 64] {
            assert_eq!(
                pieces(&key, &mode, Direction::Encrypt, &data, size),
                sealed,
                "{}",
                mode.name()
            );
            assert_eq!(
                pieces(&key, &mode, Direction::Decrypt, &sealed, size),
                data,
                "{}",
                mode.name()
            );
        }
    }
}

#[test]
fn partial_blocks_and_bad_padding_are_refused() {
    let key = unhex(KEY);
    for mode in [Des3Mode::Ecb, Des3Mode::Cbc { iv: IV }] {
        let err = run(&key, &mode, Direction::Encrypt, &[0u8; 12]).unwrap_err();
        assert!(
            matches!(err, CryptoError::BlockMultiple { len: 12, .. }),
            "{err:?}"
        );
    }
    let mode = Des3Mode::CbcPad { iv: IV };
    let err = run(&key, &mode, Direction::Decrypt, &[0u8; 12]).unwrap_err();
    assert!(matches!(err, CryptoError::BlockMultiple { .. }), "{err:?}");
    // A damaged last block: its padding no longer reads as 1 to 8 equal bytes.
    let mut sealed = run(&key, &mode, Direction::Encrypt, b"12345678").unwrap();
    let last = sealed.len() - 1;
    sealed[last] ^= 0x55;
    let err = run(&key, &mode, Direction::Decrypt, &sealed).unwrap_err();
    assert!(
        matches!(
            err,
            CryptoError::Decrypt {
                mechanism: "CKM_DES3_CBC_PAD",
                ..
            }
        ),
        "{err:?}"
    );
}

#[test]
fn keys_are_24_bytes() {
    for len in [0, 8, 16, 23, 25, 32] {
        let err = Des3Stream::new(&vec![1u8; len], Des3Mode::Ecb, Direction::Encrypt).unwrap_err();
        assert_eq!(err, CryptoError::Des3KeyLength { len });
        let err = SecretKey::new(SecretKind::Des3, vec![1u8; len]).unwrap_err();
        assert_eq!(err, CryptoError::Des3KeyLength { len });
    }
}

#[test]
fn generated_keys_have_odd_parity_and_differ() {
    let mut e = entropy(7);
    let a = generate_des3(&mut e).unwrap();
    let b = generate_des3(&mut e).unwrap();
    assert_ne!(a.bytes(), b.bytes());
    for key in [&a, &b] {
        assert_eq!(key.bytes().len(), DES3_KEY_LEN);
        assert!(
            key.bytes().iter().all(|b| b.count_ones() % 2 == 1),
            "{:02x?}",
            key.bytes()
        );
    }
    let mut bytes = [0u8, 1, 0xfe, 0xff, 0x80, 0x7f];
    set_odd_parity(&mut bytes);
    assert_eq!(bytes, [0x01, 0x01, 0xfe, 0xfe, 0x80, 0x7f]);
}

#[test]
fn check_value_is_the_ecb_of_a_zero_block() {
    // `openssl enc -des-ede3 -K <KEY> -nopad` of eight zero bytes: 4eba739c998bcb60.
    let key = SecretKey::new(SecretKind::Des3, unhex(KEY)).unwrap();
    assert_eq!(key.check_value(), [0x4e, 0xba, 0x73]);
    let attrs = KeyMaterial::Secret(key).attributes();
    assert_eq!(attrs.key_type, "des3");
    assert_eq!(attrs.class, "secret-key");
    assert_eq!(attrs.check_value, "0x4eba73");
    assert_eq!(attrs.key_length_bytes, 24);
}
