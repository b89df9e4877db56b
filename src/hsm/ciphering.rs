//! Encryption and decryption of data under a cluster key, as the PKCS#11 module does it
//! (`C_EncryptInit`/`C_Encrypt`/`C_EncryptUpdate`/`C_EncryptFinal` and their decrypting
//! twins): the key rules (usage attribute, availability, key quorum, the cluster's FIPS mode)
//! are checked once, when the operation begins, and the operation then holds the decoded key
//! material (zeroed when dropped) so the front end runs it without holding the cluster.
//!
//! The per-call data limits of the HSM (AWS "Maximum data size for each mechanism") are
//! checked by the operation on every call.

use super::crypto::{
    self, AesMode, AesStream, CryptoError, Des3Mode, Des3Stream, Direction, HashFunction,
    KeyMaterial, DES3_BLOCK_LEN, GCM_IV_LEN,
};
use super::key::{Key, KeyError, KeyType, Term};
use super::login::Login;
use super::{Cluster, Entropy, HsmError};

/// The most data one `CKM_AES_CBC` call takes, in bytes (AWS, PKCS#11 library mechanisms).
pub const AES_CBC_MAX_DATA: usize = 16272;
/// The most data one `CKM_AES_GCM` or `CKM_CLOUDHSM_AES_GCM` call takes, in bytes.
pub const AES_GCM_MAX_DATA: usize = 16224;
/// The most data one `CKM_DES3_CBC` call takes, in bytes.
pub const DES3_CBC_MAX_DATA: usize = 16280;

/// An encryption mechanism with its parameters.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Cipher {
    /// `CKM_AES_ECB`.
    AesEcb,
    /// `CKM_AES_CBC` (no padding).
    AesCbc { iv: [u8; 16] },
    /// `CKM_AES_CBC_PAD` (PKCS#7 padding).
    AesCbcPad { iv: [u8; 16] },
    /// `CKM_AES_CTR` (`CK_AES_CTR_PARAMS`: counter width in bits and the counter block).
    AesCtr { counter_bits: u32, block: [u8; 16] },
    /// `CKM_AES_GCM`, single-part. Encryption ignores `iv`: the HSM generates the 12-byte IV
    /// ([`CipherOperation::iv`]) and the output is ciphertext || tag. Decryption needs the
    /// IV and takes ciphertext || tag.
    AesGcm {
        iv: Option<Vec<u8>>,
        aad: Vec<u8>,
        tag_bits: usize,
    },
    /// `CKM_CLOUDHSM_AES_GCM`, single-part: as `AesGcm`, with the HSM's IV prepended to the
    /// output of encryption and expected before the ciphertext when decrypting.
    CloudHsmAesGcm { aad: Vec<u8>, tag_bits: usize },
    /// `CKM_DES3_ECB`; DES3 is disallowed in FIPS mode.
    Des3Ecb,
    /// `CKM_DES3_CBC` (no padding).
    Des3Cbc { iv: [u8; DES3_BLOCK_LEN] },
    /// `CKM_DES3_CBC_PAD` (PKCS#7 padding).
    Des3CbcPad { iv: [u8; DES3_BLOCK_LEN] },
    /// `CKM_RSA_PKCS` (PKCS#1 v1.5), single-part; disallowed in FIPS mode.
    RsaPkcs,
    /// `CKM_RSA_X_509` (raw RSA), single-part.
    RsaX509,
    /// `CKM_RSA_PKCS_OAEP`, single-part: the MGF1 hash must be the OAEP hash.
    RsaOaep {
        hash: HashFunction,
        mgf: HashFunction,
        label: Vec<u8>,
    },
}

impl Cipher {
    /// The PKCS#11 name of the mechanism, as error texts show it.
    pub fn name(&self) -> &'static str {
        match self {
            Cipher::AesEcb => "CKM_AES_ECB",
            Cipher::AesCbc { .. } => "CKM_AES_CBC",
            Cipher::AesCbcPad { .. } => "CKM_AES_CBC_PAD",
            Cipher::AesCtr { .. } => "CKM_AES_CTR",
            Cipher::AesGcm { .. } => "CKM_AES_GCM",
            Cipher::CloudHsmAesGcm { .. } => "CKM_CLOUDHSM_AES_GCM",
            Cipher::Des3Ecb => "CKM_DES3_ECB",
            Cipher::Des3Cbc { .. } => "CKM_DES3_CBC",
            Cipher::Des3CbcPad { .. } => "CKM_DES3_CBC_PAD",
            Cipher::RsaPkcs => "CKM_RSA_PKCS",
            Cipher::RsaX509 => "CKM_RSA_X_509",
            Cipher::RsaOaep { .. } => "CKM_RSA_PKCS_OAEP",
        }
    }

    /// Whether the mechanism has multi-part operations (`C_EncryptUpdate`).
    pub fn is_multipart(&self) -> bool {
        matches!(
            self,
            Cipher::AesEcb
                | Cipher::AesCbc { .. }
                | Cipher::AesCbcPad { .. }
                | Cipher::AesCtr { .. }
                | Cipher::Des3Ecb
                | Cipher::Des3Cbc { .. }
                | Cipher::Des3CbcPad { .. }
        )
    }

    /// The DES3 mode of a DES3 mechanism.
    fn des3_mode(&self) -> Option<Des3Mode> {
        Some(match self {
            Cipher::Des3Ecb => Des3Mode::Ecb,
            Cipher::Des3Cbc { iv } => Des3Mode::Cbc { iv: *iv },
            Cipher::Des3CbcPad { iv } => Des3Mode::CbcPad { iv: *iv },
            _ => return None,
        })
    }

    /// The AES mode of a block-mode mechanism.
    fn aes_mode(&self) -> Option<AesMode> {
        Some(match self {
            Cipher::AesEcb => AesMode::Ecb,
            Cipher::AesCbc { iv } => AesMode::Cbc { iv: *iv },
            Cipher::AesCbcPad { iv } => AesMode::CbcPad { iv: *iv },
            Cipher::AesCtr {
                counter_bits,
                block,
            } => AesMode::Ctr {
                counter_bits: *counter_bits,
                block: *block,
            },
            _ => return None,
        })
    }

    /// The most data one call takes, where the HSM has a limit.
    fn max_data(&self) -> Option<usize> {
        match self {
            Cipher::AesCbc { .. } => Some(AES_CBC_MAX_DATA),
            Cipher::Des3Cbc { .. } => Some(DES3_CBC_MAX_DATA),
            Cipher::AesGcm { .. } | Cipher::CloudHsmAesGcm { .. } => Some(AES_GCM_MAX_DATA),
            _ => None,
        }
    }
}

/// An encryption or decryption begun on a key: the key material and the mechanism's state.
pub struct CipherOperation {
    mechanism: &'static str,
    direction: Direction,
    max_data: Option<usize>,
    state: State,
}

enum State {
    Aes(AesStream),
    Des3(Des3Stream),
    Gcm {
        key: KeyMaterial,
        iv: [u8; GCM_IV_LEN],
        aad: Vec<u8>,
        tag_len: usize,
        /// `CKM_CLOUDHSM_AES_GCM`: the IV travels before the ciphertext.
        iv_prepended: bool,
    },
    Rsa {
        key: KeyMaterial,
        scheme: RsaScheme,
        /// The randomness of the padding (encryption only).
        entropy: Entropy,
    },
}

enum RsaScheme {
    Pkcs1,
    Raw,
    Oaep {
        hash: HashFunction,
        mgf: HashFunction,
        label: Vec<u8>,
    },
}

impl std::fmt::Debug for CipherOperation {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CipherOperation")
            .field("mechanism", &self.mechanism)
            .field("direction", &self.direction)
            .finish_non_exhaustive()
    }
}

impl CipherOperation {
    /// The PKCS#11 name of the mechanism.
    pub fn mechanism(&self) -> &'static str {
        self.mechanism
    }

    /// Whether this operation encrypts or decrypts.
    pub fn direction(&self) -> Direction {
        self.direction
    }

    /// Whether [`update`](Self::update) and [`finish`](Self::finish) are available.
    pub fn is_multipart(&self) -> bool {
        matches!(self.state, State::Aes(_) | State::Des3(_))
    }

    /// The IV the HSM generated for a GCM encryption (written back into `CK_GCM_PARAMS` for
    /// `CKM_AES_GCM`); `None` for every other operation.
    pub fn iv(&self) -> Option<&[u8]> {
        match &self.state {
            State::Gcm { iv, .. } if self.direction == Direction::Encrypt => Some(iv),
            _ => None,
        }
    }

    /// The most bytes [`single`](Self::single) returns for `input` bytes (the answer to a
    /// PKCS#11 length query).
    pub fn output_len(&self, input: usize) -> usize {
        match &self.state {
            State::Aes(stream) => stream.update_len(input) + stream.finish_len(),
            State::Des3(stream) => stream.update_len(input) + stream.finish_len(),
            State::Gcm {
                tag_len,
                iv_prepended,
                ..
            } => {
                let iv = if *iv_prepended { GCM_IV_LEN } else { 0 };
                match self.direction {
                    Direction::Encrypt => input + tag_len + iv,
                    Direction::Decrypt => input.saturating_sub(tag_len + iv),
                }
            }
            State::Rsa { key, .. } => match key {
                KeyMaterial::Public(crypto::PublicKey::Rsa(k)) => k.modulus_bits().div_ceil(8),
                KeyMaterial::Private(crypto::PrivateKey::Rsa(k)) => {
                    k.public_key().modulus_bits().div_ceil(8)
                }
                _ => 0,
            },
        }
    }

    /// The most bytes [`update`](Self::update) returns for `input` more bytes.
    pub fn update_len(&self, input: usize) -> usize {
        match &self.state {
            State::Aes(stream) => stream.update_len(input),
            State::Des3(stream) => stream.update_len(input),
            _ => 0,
        }
    }

    /// The most bytes [`finish`](Self::finish) returns.
    pub fn finish_len(&self) -> usize {
        match &self.state {
            State::Aes(stream) => stream.finish_len(),
            State::Des3(stream) => stream.finish_len(),
            _ => 0,
        }
    }

    /// One part of a multi-part operation (`C_EncryptUpdate`/`C_DecryptUpdate`).
    pub fn update(&mut self, data: &[u8]) -> Result<Vec<u8>, HsmError> {
        within(self.mechanism, self.max_data, data.len())?;
        match &mut self.state {
            State::Aes(stream) => Ok(stream.update(data)?),
            State::Des3(stream) => Ok(stream.update(data)?),
            _ => Err(CryptoError::SinglePartOnly {
                mechanism: self.mechanism,
            }
            .into()),
        }
    }

    /// The end of a multi-part operation (`C_EncryptFinal`/`C_DecryptFinal`).
    pub fn finish(self) -> Result<Vec<u8>, HsmError> {
        match self.state {
            State::Aes(stream) => Ok(stream.finish()?),
            State::Des3(stream) => Ok(stream.finish()?),
            _ => Err(CryptoError::SinglePartOnly {
                mechanism: self.mechanism,
            }
            .into()),
        }
    }

    /// The whole operation over `data` (`C_Encrypt`/`C_Decrypt`).
    pub fn single(self, data: &[u8]) -> Result<Vec<u8>, HsmError> {
        let CipherOperation {
            mechanism,
            direction,
            max_data,
            state,
        } = self;
        let too_long = |len: usize| within(mechanism, max_data, len);
        let out = match state {
            State::Aes(stream) => {
                too_long(data.len())?;
                stream.single(data)?
            }
            State::Des3(stream) => {
                too_long(data.len())?;
                stream.single(data)?
            }
            State::Gcm {
                key,
                iv,
                aad,
                tag_len,
                iv_prepended,
            } => {
                let key = crypto::aes_key(&key, mechanism)?;
                match direction {
                    Direction::Encrypt => {
                        too_long(data.len())?;
                        let sealed = crypto::gcm_seal(key, iv, &aad, data, tag_len)?;
                        if iv_prepended {
                            [iv.as_slice(), &sealed].concat()
                        } else {
                            sealed
                        }
                    }
                    Direction::Decrypt => {
                        let (iv, data) = if iv_prepended {
                            let Some((given, rest)) = data.split_first_chunk::<GCM_IV_LEN>() else {
                                return Err(CryptoError::Decrypt {
                                    mechanism,
                                    detail: format!(
                                        "the data is {} bytes long, shorter than the \
                                         {GCM_IV_LEN}-byte IV it must begin with",
                                        data.len()
                                    ),
                                }
                                .into());
                            };
                            (*given, rest)
                        } else {
                            (iv, data)
                        };
                        too_long(data.len().saturating_sub(tag_len))?;
                        crypto::gcm_open_named(key, iv, &aad, data, tag_len, mechanism)?
                    }
                }
            }
            State::Rsa {
                key,
                scheme,
                mut entropy,
            } => rsa_single(&key, &scheme, direction, data, &mut entropy, mechanism)?,
        };
        Ok(out)
    }
}

/// Refuses `len` bytes in one call where the mechanism has a limit `max_data`.
fn within(mechanism: &'static str, max_data: Option<usize>, len: usize) -> Result<(), CryptoError> {
    match max_data {
        Some(max) if len > max => Err(CryptoError::DataTooLong {
            mechanism,
            max,
            actual: len,
        }),
        _ => Ok(()),
    }
}

/// An RSA encryption or decryption of `data` in one call.
fn rsa_single(
    key: &KeyMaterial,
    scheme: &RsaScheme,
    direction: Direction,
    data: &[u8],
    entropy: &mut Entropy,
    mechanism: &'static str,
) -> Result<Vec<u8>, CryptoError> {
    match direction {
        Direction::Encrypt => {
            let public = crypto::rsa_public_key(key, mechanism)?;
            match scheme {
                RsaScheme::Pkcs1 => crypto::rsa_pkcs1_encrypt(public, data, entropy, mechanism),
                RsaScheme::Raw => crypto::raw_rsa_encrypt(public, data, mechanism),
                RsaScheme::Oaep { hash, mgf, label } => crypto::rsa_oaep_encrypt_labelled(
                    public, *hash, *mgf, label, data, entropy, mechanism,
                ),
            }
        }
        Direction::Decrypt => {
            let private = crypto::rsa_private_key(key, mechanism)?;
            match scheme {
                RsaScheme::Pkcs1 => crypto::pkcs1_decrypt(private, data, mechanism),
                RsaScheme::Raw => crypto::raw_rsa_decrypt(private, data, mechanism),
                RsaScheme::Oaep { hash, mgf, label } => {
                    crypto::oaep_decrypt_labelled(private, *hash, *mgf, label, data, mechanism)
                }
            }
        }
    }
}

impl Cluster {
    /// `C_EncryptInit`: an encryption with `cipher` under the key `terms` selects, which must
    /// have `encrypt` set, be available, and need no key quorum approval. For GCM the HSM
    /// draws the IV here, never the same twice under a key ([`CipherOperation::iv`]).
    pub fn begin_encrypt(
        &mut self,
        login: &Login,
        terms: &[Term],
        cipher: &Cipher,
        entropy: &Entropy,
    ) -> Result<(Key, CipherOperation), HsmError> {
        self.begin(login, terms, cipher, Direction::Encrypt, entropy)
    }

    /// `C_DecryptInit`: a decryption with `cipher` under the key `terms` selects, which must
    /// have `decrypt` set, be available, and need no key quorum approval.
    pub fn begin_decrypt(
        &mut self,
        login: &Login,
        terms: &[Term],
        cipher: &Cipher,
    ) -> Result<(Key, CipherOperation), HsmError> {
        // Decryption draws nothing: a generator of the OS is never read.
        self.begin(
            login,
            terms,
            cipher,
            Direction::Decrypt,
            &Entropy::new(None),
        )
    }

    fn begin(
        &mut self,
        login: &Login,
        terms: &[Term],
        cipher: &Cipher,
        direction: Direction,
        entropy: &Entropy,
    ) -> Result<(Key, CipherOperation), HsmError> {
        let needs = match direction {
            Direction::Encrypt => "encrypt",
            Direction::Decrypt => "decrypt",
        };
        let (key, material) = self.cipher_key(login, terms, needs)?;
        let mechanism = cipher.name();
        if self.settings.fips && *cipher == Cipher::RsaPkcs {
            return Err(KeyError::DisallowedInFipsMode { mechanism }.into());
        }
        let state = match (cipher.aes_mode(), cipher.des3_mode()) {
            (Some(mode), _) => State::Aes(AesStream::new(
                crypto::aes_key(&material, mechanism)?,
                mode,
                direction,
            )?),
            (None, Some(mode)) => {
                self.require_key_type_allowed(KeyType::Des3)?;
                State::Des3(Des3Stream::new(
                    crypto::des3_key(&material, mechanism)?,
                    mode,
                    direction,
                )?)
            }
            (None, None) => match cipher {
                Cipher::AesGcm { .. } | Cipher::CloudHsmAesGcm { .. } => {
                    self.gcm_state(&key, material, cipher, direction, entropy)?
                }
                _ => self.rsa_state(&key, material, cipher, direction, entropy)?,
            },
        };
        Ok((
            key,
            CipherOperation {
                mechanism,
                direction,
                max_data: cipher.max_data(),
                state,
            },
        ))
    }

    /// The generator of one use of `key`: in a seeded run a use of its own, so an IV or
    /// padding is never repeated under a key, in this process or another.
    fn use_entropy(&mut self, key: &Key, entropy: &Entropy) -> Result<Entropy, HsmError> {
        let position = if entropy.is_seeded() {
            self.next_seeded_use()?
        } else {
            0
        };
        Ok(entropy.derive_use(key.reference, position))
    }

    /// A GCM operation: the tag length checked, the IV drawn (encryption) or taken from the
    /// parameters (`CKM_AES_GCM` decryption) or later from the data (`CKM_CLOUDHSM_AES_GCM`).
    fn gcm_state(
        &mut self,
        key: &Key,
        material: KeyMaterial,
        cipher: &Cipher,
        direction: Direction,
        entropy: &Entropy,
    ) -> Result<State, HsmError> {
        let mechanism = cipher.name();
        let (given_iv, aad, tag_bits, iv_prepended) = match cipher {
            Cipher::AesGcm { iv, aad, tag_bits } => (iv.as_deref(), aad, *tag_bits, false),
            Cipher::CloudHsmAesGcm { aad, tag_bits } => (None, aad, *tag_bits, true),
            _ => return Err(KeyError::Internal("a GCM state for another mechanism").into()),
        };
        crypto::aes_key(&material, mechanism)?;
        let tag_len = crypto::gcm_tag_len(tag_bits)?;
        let iv = match (direction, iv_prepended) {
            (Direction::Encrypt, _) => {
                let mut iv = [0u8; GCM_IV_LEN];
                self.use_entropy(key, entropy)?.fill(&mut iv);
                iv
            }
            // Read from the data at the call.
            (Direction::Decrypt, true) => [0u8; GCM_IV_LEN],
            (Direction::Decrypt, false) => {
                crypto::gcm_iv(given_iv.ok_or_else(|| CryptoError::Iv {
                    detail: format!("{mechanism} decryption needs the IV of the encryption"),
                })?)?
            }
        };
        Ok(State::Gcm {
            key: material,
            iv,
            aad: aad.clone(),
            tag_len,
            iv_prepended,
        })
    }

    /// An RSA operation: the padding parameters checked, and the key the direction needs
    /// (public to encrypt, private to decrypt) checked now rather than at the first call.
    fn rsa_state(
        &mut self,
        key: &Key,
        material: KeyMaterial,
        cipher: &Cipher,
        direction: Direction,
        entropy: &Entropy,
    ) -> Result<State, HsmError> {
        let mechanism = cipher.name();
        let scheme = match cipher {
            Cipher::RsaPkcs => RsaScheme::Pkcs1,
            Cipher::RsaX509 => RsaScheme::Raw,
            Cipher::RsaOaep { hash, mgf, label } => {
                if hash != mgf {
                    return Err(CryptoError::OaepMgfMismatch {
                        hash: hash.name(),
                        mgf: mgf.name(),
                    }
                    .into());
                }
                RsaScheme::Oaep {
                    hash: *hash,
                    mgf: *mgf,
                    label: label.clone(),
                }
            }
            _ => return Err(KeyError::Internal("an RSA state for another mechanism").into()),
        };
        let entropy = match direction {
            Direction::Encrypt => {
                crypto::rsa_public_key(&material, mechanism)?;
                self.use_entropy(key, entropy)?
            }
            Direction::Decrypt => {
                crypto::rsa_private_key(&material, mechanism)?;
                // Decryption draws nothing from it.
                Entropy::new(None)
            }
        };
        Ok(State::Rsa {
            key: material,
            scheme,
            entropy,
        })
    }
}
