//! The AES block modes of PKCS#11 encryption: NIST SP 800-38A known answers (F.1 ECB, F.2
//! CBC, F.5 CTR, AES-128 and AES-256), every mode the same whole or in pieces, CBC-PAD
//! padding and its refusal, and the CTR counter width.

use super::super::modes::{AesMode, AesStream, Direction, AES_BLOCK_LEN};
use super::super::CryptoError;
use super::unhex;

const KEY_128: &str = "2b7e151628aed2a6abf7158809cf4f3c";
const KEY_256: &str = "603deb1015ca71be2b73aef0857d77811f352c073b6108d72d9810a30914dff4";
const PLAINTEXT: &str = "6bc1bee22e409f96e93d7e117393172aae2d8a571e03ac9c9eb76fac45af8e51\
                         30c81c46a35ce411e5fbc1191a0a52eff69f2445df4f9b17ad2b417be66c3710";
const CBC_IV: &str = "000102030405060708090a0b0c0d0e0f";
const CTR_BLOCK: &str = "f0f1f2f3f4f5f6f7f8f9fafbfcfdfeff";

/// (key, mode, ciphertext) of SP 800-38A appendix F.
fn vectors() -> Vec<(&'static str, AesMode, &'static str)> {
    let iv: [u8; 16] = unhex(CBC_IV).try_into().unwrap();
    let block: [u8; 16] = unhex(CTR_BLOCK).try_into().unwrap();
    let ctr = AesMode::Ctr {
        counter_bits: 128,
        block,
    };
    vec![
        // F.1.1 ECB-AES128.Encrypt
        (
            KEY_128,
            AesMode::Ecb,
            "3ad77bb40d7a3660a89ecaf32466ef97f5d3d58503b9699de785895a96fdbaaf\
             43b1cd7f598ece23881b00e3ed0306887b0c785e27e8ad3f8223207104725dd4",
        ),
        // F.1.5 ECB-AES256.Encrypt
        (
            KEY_256,
            AesMode::Ecb,
            "f3eed1bdb5d2a03c064b5a7e3db181f8591ccb10d410ed26dc5ba74a31362870\
             b6ed21b99ca6f4f9f153e7b1beafed1d23304b7a39f9f3ff067d8d8f9e24ecc7",
        ),
        // F.2.1 CBC-AES128.Encrypt
        (
            KEY_128,
            AesMode::Cbc { iv },
            "7649abac8119b246cee98e9b12e9197d5086cb9b507219ee95db113a917678b2\
             73bed6b8e3c1743b7116e69e222295163ff1caa1681fac09120eca307586e1a7",
        ),
        // F.2.5 CBC-AES256.Encrypt
        (
            KEY_256,
            AesMode::Cbc { iv },
            "f58c4c04d6e5f1ba779eabfb5f7bfbd69cfc4e967edb808d679f777bc6702c7d\
             39f23369a9d9bacfa530e26304231461b2eb05e2c39be9fcda6c19078c6a9d1b",
        ),
        // F.5.1 CTR-AES128.Encrypt
        (
            KEY_128,
            ctr.clone(),
            "874d6191b620e3261bef6864990db6ce9806f66b7970fdff8617187bb9fffdff\
             5ae4df3edbd5d35e5b4f09020db03eab1e031dda2fbe03d1792170a0f3009cee",
        ),
        // F.5.5 CTR-AES256.Encrypt
        (
            KEY_256,
            ctr,
            "601ec313775789a5b7a7f504bbf3d228f443e3ca4d62b59aca84e990cacaf5c5\
             2b0930daa23de94ce87017ba2d84988ddfc9c58db67aada613c2dd08457941a6",
        ),
    ]
}

fn run(key: &str, mode: &AesMode, direction: Direction, data: &[u8]) -> Vec<u8> {
    AesStream::new(&unhex(key), mode.clone(), direction)
        .unwrap()
        .single(data)
        .unwrap()
}

/// `data` through `update` in pieces of `sizes` (cycled), then `finish`.
fn pieces(
    key: &[u8],
    mode: &AesMode,
    direction: Direction,
    data: &[u8],
    sizes: &[usize],
) -> Vec<u8> {
    let mut stream = AesStream::new(key, mode.clone(), direction).unwrap();
    let mut out = Vec::new();
    let mut rest = data;
    for &size in sizes.iter().cycle() {
        if rest.is_empty() {
            break;
        }
        let (part, tail) = rest.split_at(size.min(rest.len()));
        let before = stream.update_len(part.len());
        let got = stream.update(part).unwrap();
        assert_eq!(got.len(), before, "update_len predicts update's output");
        out.extend(got);
        rest = tail;
    }
    out.extend(stream.finish().unwrap());
    out
}

#[test]
fn sp800_38a_known_answers_encrypt_and_decrypt() {
    let plaintext = unhex(PLAINTEXT);
    for (key, mode, ciphertext) in vectors() {
        let ciphertext = unhex(ciphertext);
        assert_eq!(
            run(key, &mode, Direction::Encrypt, &plaintext),
            ciphertext,
            "{} encrypt, key {key}",
            mode.name()
        );
        assert_eq!(
            run(key, &mode, Direction::Decrypt, &ciphertext),
            plaintext,
            "{} decrypt, key {key}",
            mode.name()
        );
    }
}

#[test]
fn multi_part_output_is_the_single_part_output() {
    let plaintext = unhex(PLAINTEXT);
    for (key, mode, ciphertext) in vectors() {
        let key = unhex(key);
        let ciphertext = unhex(ciphertext);
        for sizes in [&[1][..], &[7, 16, 3], &[15], &[17, 31], &[64]] {
            assert_eq!(
                pieces(&key, &mode, Direction::Encrypt, &plaintext, sizes),
                ciphertext,
                "{} encrypt in pieces {sizes:?}",
                mode.name()
            );
            assert_eq!(
                pieces(&key, &mode, Direction::Decrypt, &ciphertext, sizes),
                plaintext,
                "{} decrypt in pieces {sizes:?}",
                mode.name()
            );
        }
    }
}

#[test]
fn every_mode_round_trips_with_every_key_length() {
    let data: Vec<u8> = (0..=255u8).cycle().take(100).collect();
    let iv = [9u8; 16];
    for len in [16, 24, 32] {
        let key = vec![0x42u8; len];
        let modes = [
            AesMode::Ecb,
            AesMode::Cbc { iv },
            AesMode::CbcPad { iv },
            AesMode::Ctr {
                counter_bits: 32,
                block: iv,
            },
        ];
        for mode in modes {
            let input = match mode {
                AesMode::Ecb | AesMode::Cbc { .. } => &data[..96],
                _ => &data[..],
            };
            let sealed = pieces(&key, &mode, Direction::Encrypt, input, &[5, 40]);
            assert_ne!(sealed[..16], input[..16], "{} encrypts", mode.name());
            let opened = pieces(&key, &mode, Direction::Decrypt, &sealed, &[33, 2]);
            assert_eq!(opened, input, "{} with a {len}-byte key", mode.name());
        }
    }
}

#[test]
fn cbc_pad_adds_a_whole_block_to_aligned_data_and_round_trips_every_length() {
    let key = unhex(KEY_128);
    let mode = AesMode::CbcPad { iv: [1; 16] };
    for len in 0..=48 {
        let data = vec![0xa5u8; len];
        let sealed = run(KEY_128, &mode, Direction::Encrypt, &data);
        assert_eq!(sealed.len(), (len / AES_BLOCK_LEN + 1) * AES_BLOCK_LEN);
        assert_eq!(run(KEY_128, &mode, Direction::Decrypt, &sealed), data);
        assert_eq!(
            pieces(&key, &mode, Direction::Decrypt, &sealed, &[16]),
            data
        );
    }
}

#[test]
fn cbc_pad_decryption_holds_the_last_block_until_finish() {
    let key = unhex(KEY_128);
    let mode = AesMode::CbcPad { iv: [1; 16] };
    let sealed = run(KEY_128, &mode, Direction::Encrypt, &[7u8; 20]);
    assert_eq!(sealed.len(), 32);
    let mut stream = AesStream::new(&key, mode, Direction::Decrypt).unwrap();
    // Both blocks given: only the first comes out, the second may be all padding.
    assert_eq!(stream.update(&sealed).unwrap(), vec![7u8; 16]);
    assert_eq!(stream.finish().unwrap(), vec![7u8; 4]);
}

#[test]
fn cbc_pad_refuses_bad_padding() {
    let mode = AesMode::CbcPad { iv: [1; 16] };
    let mut sealed = run(KEY_128, &mode, Direction::Encrypt, b"sixteen byte msg");
    // The last block is all padding (16 x 0x10): damage the first ciphertext block, which
    // changes the padding block's plaintext byte for byte.
    sealed[15] ^= 0x01;
    let err = AesStream::new(&unhex(KEY_128), mode.clone(), Direction::Decrypt)
        .unwrap()
        .single(&sealed)
        .unwrap_err();
    assert!(
        matches!(
            err,
            CryptoError::Decrypt {
                mechanism: "CKM_AES_CBC_PAD",
                ..
            }
        ),
        "{err:?}"
    );
    // A wrong key gives bad padding too (overwhelmingly likely; fixed data keeps it certain).
    let err = AesStream::new(&unhex(KEY_256), mode, Direction::Decrypt)
        .unwrap()
        .single(&sealed)
        .unwrap_err();
    assert!(matches!(err, CryptoError::Decrypt { .. }), "{err:?}");
}

#[test]
fn unpadded_modes_refuse_partial_blocks() {
    for mode in [AesMode::Ecb, AesMode::Cbc { iv: [0; 16] }] {
        for direction in [Direction::Encrypt, Direction::Decrypt] {
            let stream = AesStream::new(&unhex(KEY_128), mode.clone(), direction).unwrap();
            assert!(matches!(
                stream.single(&[0u8; 17]),
                Err(CryptoError::BlockMultiple { len: 17, .. })
            ));
            // In pieces, the rest is refused at the end.
            let mut stream = AesStream::new(&unhex(KEY_128), mode.clone(), direction).unwrap();
            assert_eq!(stream.update(&[0u8; 20]).unwrap().len(), 16);
            assert!(matches!(
                stream.finish(),
                Err(CryptoError::BlockMultiple { len: 4, .. })
            ));
        }
    }
    // CBC-PAD ciphertext is whole blocks, and never empty.
    let mode = AesMode::CbcPad { iv: [0; 16] };
    for bad in [&[0u8; 0][..], &[0u8; 31]] {
        let stream = AesStream::new(&unhex(KEY_128), mode.clone(), Direction::Decrypt).unwrap();
        assert!(matches!(
            stream.single(bad),
            Err(CryptoError::BlockMultiple {
                what: "ciphertext",
                ..
            })
        ));
    }
}

#[test]
fn ctr_refuses_to_wrap_its_counter() {
    let key = unhex(KEY_128);
    let block: [u8; 16] = unhex(CTR_BLOCK).try_into().unwrap();
    // The low 8 bits of the block are 0xff: one block, then the counter would wrap.
    let mode = AesMode::Ctr {
        counter_bits: 8,
        block,
    };
    let expected = unhex("874d6191b620e3261bef6864990db6ce");
    let plaintext = unhex(PLAINTEXT);
    assert_eq!(
        run(KEY_128, &mode, Direction::Encrypt, &plaintext[..16]),
        expected
    );
    let mut stream = AesStream::new(&key, mode.clone(), Direction::Encrypt).unwrap();
    assert_eq!(stream.update(&plaintext[..10]).unwrap(), expected[..10]);
    // The rest of the first block comes from its keystream; a 17th byte needs a new block.
    assert_eq!(stream.update(&plaintext[10..16]).unwrap(), expected[10..]);
    assert_eq!(
        stream.update(&plaintext[16..17]),
        Err(CryptoError::CounterExhausted { bits: 8 })
    );
    let stream = AesStream::new(&key, mode, Direction::Encrypt).unwrap();
    assert_eq!(
        stream.single(&plaintext[..17]),
        Err(CryptoError::CounterExhausted { bits: 8 })
    );

    // 16 bits at 0xfeff: 0x101 blocks, exactly.
    let mode = AesMode::Ctr {
        counter_bits: 16,
        block,
    };
    let stream = AesStream::new(&key, mode.clone(), Direction::Encrypt).unwrap();
    assert_eq!(
        stream.single(&vec![0u8; 0x101 * 16]).unwrap().len(),
        0x101 * 16
    );
    let stream = AesStream::new(&key, mode, Direction::Encrypt).unwrap();
    assert!(stream.single(&vec![0u8; 0x101 * 16 + 1]).is_err());

    // A wide counter carries across bytes exactly as SP 800-38A's 128-bit one does.
    let wide = AesMode::Ctr {
        counter_bits: 64,
        block,
    };
    assert_eq!(
        run(KEY_128, &wide, Direction::Encrypt, &plaintext),
        run(
            KEY_128,
            &AesMode::Ctr {
                counter_bits: 128,
                block
            },
            Direction::Encrypt,
            &plaintext
        )
    );
}

#[test]
fn ctr_counter_width_is_1_to_128_bits() {
    for bits in [0, 129] {
        let err = AesStream::new(
            &unhex(KEY_128),
            AesMode::Ctr {
                counter_bits: bits,
                block: [0; 16],
            },
            Direction::Encrypt,
        )
        .unwrap_err();
        assert_eq!(err, CryptoError::CounterBits { bits });
    }
}

#[test]
fn aes_key_lengths_other_than_16_24_32_are_refused() {
    let err = AesStream::new(&[0u8; 20], AesMode::Ecb, Direction::Encrypt).unwrap_err();
    assert_eq!(err, CryptoError::AesKeyLength { len: 20 });
}
