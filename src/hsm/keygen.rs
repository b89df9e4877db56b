//! Making keys: generation of every documented type, `key import pem`, and the key files of
//! `key generate-file`. The material comes from `crate::hsm::crypto`; this file applies the
//! attribute rules, checks the cluster's type and mode, and stores the result.

use super::crypto::{self, Curve, KeyMaterial, MlDsaAlgorithm, PublicKey};
use super::key::attributes::{self, Assignment, Setting};
use super::key::{Derived, Key, KeyClass, KeyError, KeyType, QuorumValues, Settable, Typed};
use super::keys::{check_quorum, Actor, NewKey, OneKey, SessionKeys};
use super::login::Login;
use super::model::HsmType;
use super::policy::OperationClass;
use super::{Cluster, Entropy, HsmError};
use crate::store::records;

/// What to generate.
#[derive(Debug, Clone)]
pub enum KeyKind {
    Aes {
        bytes: u64,
    },
    /// A 24-byte triple DES key (its length is fixed).
    Des3,
    GenericSecret {
        bytes: u64,
    },
    Rsa {
        modulus_bits: u64,
        public_exponent: PublicExponent,
    },
    Ec {
        curve: Curve,
    },
    MlDsa {
        algorithm: MlDsaAlgorithm,
    },
}

/// A `key generate-*` request, options as given.
#[derive(Debug, Clone)]
pub struct GenerateRequest {
    pub kind: KeyKind,
    /// The label of a secret key, or of the public half of a pair.
    pub label: String,
    /// The label of the private half of a pair.
    pub private_label: String,
    /// `--attributes` of a secret key, or `--public-attributes`.
    pub attributes: Vec<Assignment>,
    /// `--private-attributes`.
    pub private_attributes: Vec<Assignment>,
    pub share_with: Vec<String>,
    pub manage_quorum: Option<u64>,
    pub use_quorum: Option<u64>,
    /// False for `--session`.
    pub token: bool,
}

/// The attributes the material determines.
pub(super) fn derived(material: &KeyMaterial) -> Derived {
    let a = material.attributes();
    let typed = if let Some(rsa) = a.rsa {
        Typed::Rsa {
            public_exponent: rsa.public_exponent,
            modulus: rsa.modulus,
            modulus_size_bits: rsa.modulus_size_bits as u64,
        }
    } else if let Some(ec) = a.ec {
        Typed::Ec {
            ec_point: ec.ec_point,
            curve: ec.curve.to_string(),
        }
    } else if let Some(alg) = a.mldsa_algorithm {
        Typed::MlDsa {
            algorithm: alg.to_string(),
        }
    } else {
        Typed::None
    };
    Derived {
        check_value: Some(a.check_value),
        key_length_bytes: a.key_length_bytes as u64,
        typed,
    }
}

/// A new key's attributes: the defaults, then each assignment with the creation rules of
/// `setting` (the CLI's, or a PKCS#11 template's).
#[allow(clippy::too_many_arguments)]
pub(super) fn settable(
    key_type: KeyType,
    class: KeyClass,
    label: &str,
    given: &[Assignment],
    token: bool,
    local: bool,
    hsm2m: bool,
    setting: Setting,
) -> Result<Settable, HsmError> {
    attributes::check_label(label)?;
    let mut attrs = Settable::new(
        label.to_string(),
        Vec::new(),
        attributes::defaults(key_type, class, token),
    );
    attrs.flags.local = local;
    for assignment in given {
        attributes::apply(&mut attrs, key_type, class, assignment, setting, hsm2m)?;
    }
    Ok(attrs)
}

/// An RSA public exponent: its value, and the text it was given as, which a refusal repeats.
/// Made by [`PublicExponent::parse`] (the CLI's `--public-exponent`, a seed file) or from a
/// number.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PublicExponent {
    value: u64,
    text: String,
}

impl PublicExponent {
    /// Decimal, or hexadecimal after `0x`; a value that is no number is an invalid
    /// `public-exponent` attribute value. (Whether the number is a usable exponent is the
    /// generation's check.)
    pub fn parse(text: &str) -> Result<PublicExponent, HsmError> {
        Ok(PublicExponent {
            value: parse_exponent(text)?,
            text: text.to_string(),
        })
    }

    pub fn value(&self) -> u64 {
        self.value
    }

    /// The exponent as it was given.
    pub fn as_given(&self) -> &str {
        &self.text
    }
}

impl From<u64> for PublicExponent {
    fn from(value: u64) -> PublicExponent {
        PublicExponent {
            value,
            text: value.to_string(),
        }
    }
}

fn parse_exponent(text: &str) -> Result<u64, HsmError> {
    let parsed = match text.strip_prefix("0x").or_else(|| text.strip_prefix("0X")) {
        Some(hex) => u64::from_str_radix(hex, 16),
        None => text.parse::<u64>(),
    };
    parsed.map_err(|_| {
        KeyError::InvalidAttributeValue {
            name: "public-exponent".into(),
            value: text.to_string(),
        }
        .into()
    })
}

/// The size and exponent rules, checked before a key reference is taken.
fn precheck(kind: &KeyKind) -> Result<(), HsmError> {
    use crypto::CryptoError;
    let fail = |e: CryptoError| Err(HsmError::from(e));
    match kind {
        KeyKind::Aes { bytes } => {
            if !crypto::AES_KEY_LENGTHS.iter().any(|l| *l as u64 == *bytes) {
                return fail(CryptoError::AesKeyLength {
                    len: *bytes as usize,
                });
            }
        }
        KeyKind::GenericSecret { bytes } => {
            if !crypto::GENERIC_SECRET_LENGTHS.contains(&(*bytes as usize)) {
                return fail(CryptoError::GenericSecretLength {
                    len: *bytes as usize,
                });
            }
        }
        KeyKind::Rsa {
            modulus_bits,
            public_exponent,
        } => {
            let bits = *modulus_bits as usize;
            if !(crypto::MIN_MODULUS_BITS..=crypto::MAX_MODULUS_BITS).contains(&bits)
                || !bits.is_multiple_of(crypto::MODULUS_STEP_BITS)
            {
                return fail(CryptoError::ModulusSize { bits });
            }
            let e = public_exponent.value();
            if e % 2 == 0
                || !(crypto::MIN_PUBLIC_EXPONENT..=crypto::MAX_PUBLIC_EXPONENT).contains(&e)
            {
                return fail(CryptoError::PublicExponent {
                    exponent: public_exponent.as_given().to_string(),
                });
            }
        }
        KeyKind::Des3 | KeyKind::Ec { .. } | KeyKind::MlDsa { .. } => {}
    }
    Ok(())
}

impl KeyKind {
    /// The type of the key, or of both halves of the pair, that this kind makes.
    fn key_type(&self) -> KeyType {
        match self {
            KeyKind::Aes { .. } => KeyType::Aes,
            KeyKind::Des3 => KeyType::Des3,
            KeyKind::GenericSecret { .. } => KeyType::GenericSecret,
            KeyKind::Rsa { .. } => KeyType::Rsa,
            KeyKind::Ec { .. } => KeyType::Ec,
            KeyKind::MlDsa { .. } => KeyType::MlDsa,
        }
    }
}

/// The checked attributes of the keys a request makes, before any reference or material.
enum Plan {
    Secret(Settable),
    Pair { public: Settable, private: Settable },
}

impl Plan {
    /// How many references the keys take.
    fn count(&self) -> i64 {
        match self {
            Plan::Secret(_) => 1,
            Plan::Pair { .. } => 2,
        }
    }

    /// The keys to store: the planned attributes with `material`, from reference `first` on.
    fn into_keys(
        self,
        req: &GenerateRequest,
        first: u64,
        material: KeyMaterial,
        quorum: QuorumValues,
    ) -> Result<Vec<NewKey>, HsmError> {
        let key_type = req.kind.key_type();
        match (self, material) {
            (Plan::Secret(attrs), material) => Ok(vec![NewKey {
                reference: first,
                key_type,
                class: KeyClass::SecretKey,
                attrs,
                derived: derived(&material),
                quorum,
                share_with: req.share_with.clone(),
                material: material.to_blob(),
            }]),
            (
                Plan::Pair {
                    public: public_attrs,
                    private: private_attrs,
                },
                KeyMaterial::Private(private),
            ) => {
                let public = KeyMaterial::Public(private.public_key());
                let private = KeyMaterial::Private(private);
                // The guide's examples: the public key comes first, the private key next; only
                // the private key is shared and carries the quorum values.
                Ok(vec![
                    NewKey {
                        reference: first,
                        key_type,
                        class: KeyClass::PublicKey,
                        attrs: public_attrs,
                        derived: derived(&public),
                        quorum: QuorumValues::default(),
                        share_with: Vec::new(),
                        material: public.to_blob(),
                    },
                    NewKey {
                        reference: first + 1,
                        key_type,
                        class: KeyClass::PrivateKey,
                        attrs: private_attrs,
                        derived: derived(&private),
                        quorum,
                        share_with: req.share_with.clone(),
                        material: private.to_blob(),
                    },
                ])
            }
            (Plan::Pair { .. }, _) => {
                Err(KeyError::Internal("key generation returned no private key").into())
            }
        }
    }
}

/// New material of `kind`, from `rng`.
fn generate_material(kind: &KeyKind, rng: &mut Entropy) -> Result<KeyMaterial, HsmError> {
    Ok(match kind {
        KeyKind::Aes { bytes } => KeyMaterial::Secret(crypto::generate_aes(rng, *bytes as usize)?),
        KeyKind::Des3 => KeyMaterial::Secret(crypto::generate_des3(rng)?),
        KeyKind::GenericSecret { bytes } => {
            KeyMaterial::Secret(crypto::generate_generic_secret(rng, *bytes as usize)?)
        }
        KeyKind::Rsa {
            modulus_bits,
            public_exponent,
        } => KeyMaterial::Private(crypto::generate_rsa(
            rng,
            *modulus_bits as usize,
            public_exponent.value(),
        )?),
        KeyKind::Ec { curve } => KeyMaterial::Private(crypto::generate_ec(rng, *curve)?),
        KeyKind::MlDsa { algorithm } => {
            KeyMaterial::Private(crypto::generate_ml_dsa(rng, *algorithm)?)
        }
    })
}

impl Cluster {
    /// Whether the cluster's HSMs are hsm2m.medium (the attribute rules depend on it).
    pub(super) fn hsm2m(&self) -> bool {
        self.settings.hsm_type == HsmType::Hsm2mMedium
    }

    /// The rule of the cluster's mode on a key type, for every way a key is made (generated,
    /// imported, unwrapped) or used to encrypt: DES3 keys are "disallowed for clusters in FIPS
    /// mode after 2023", still allowed in non-FIPS mode (AWS, PKCS#11 mechanisms, fn5).
    pub(super) fn require_key_type_allowed(&self, key_type: KeyType) -> Result<(), HsmError> {
        if key_type == KeyType::Des3 && self.settings.fips {
            return Err(KeyError::Des3InFipsMode.into());
        }
        Ok(())
    }

    fn require_hsm2m_non_fips(&self, what: &'static str) -> Result<(), HsmError> {
        if self.settings.hsm_type == HsmType::Hsm2mMedium && !self.settings.fips {
            Ok(())
        } else {
            Err(KeyError::NeedsHsm2mNonFips { what }.into())
        }
    }

    /// `key generate-symmetric *` and `key generate-asymmetric-pair *`: every option is
    /// checked before any material is made; the material comes from a generator derived from
    /// the new key's reference (repeatable under `CLOUDHSM_SIM_SEED`). The keys are
    /// `login`'s; session keys (`token` false) live in it.
    pub fn generate_keys(
        &mut self,
        login: &mut Login,
        req: &GenerateRequest,
        entropy: &Entropy,
    ) -> Result<Vec<Key>, HsmError> {
        self.generate_keys_with(login, req, entropy, Setting::Creation)
    }

    /// [`Cluster::generate_keys`] with the attribute rules of `setting`: a PKCS#11
    /// `C_GenerateKey`/`C_GenerateKeyPair` gives [`Setting::Template`].
    pub fn generate_keys_with(
        &mut self,
        login: &mut Login,
        req: &GenerateRequest,
        entropy: &Entropy,
        setting: Setting,
    ) -> Result<Vec<Key>, HsmError> {
        self.guard(login, OperationClass::KeyManagement)?;
        let Login { actor, keys, .. } = login;
        self.make_keys_with(actor, req, entropy, keys, setting)
    }

    /// Generates keys owned by `actor`: see [`Cluster::generate_keys`]. Three steps: check
    /// everything the user gave and plan the keys' attributes, make the material, and store
    /// the keys.
    pub(super) fn make_keys(
        &mut self,
        actor: &Actor,
        req: &GenerateRequest,
        entropy: &Entropy,
        session: &mut SessionKeys,
    ) -> Result<Vec<Key>, HsmError> {
        self.make_keys_with(actor, req, entropy, session, Setting::Creation)
    }

    fn make_keys_with(
        &mut self,
        actor: &Actor,
        req: &GenerateRequest,
        entropy: &Entropy,
        session: &mut SessionKeys,
        setting: Setting,
    ) -> Result<Vec<Key>, HsmError> {
        precheck(&req.kind)?;
        let quorum = check_quorum(req.manage_quorum, req.use_quorum, 1 + req.share_with.len())?;
        // Check everything the user gave before spending time on key generation.
        let plan = self.plan(req, setting)?;
        let count = plan.count();
        // The material comes from a generator derived from the first reference.
        let make = |first: u64| -> Result<Vec<NewKey>, HsmError> {
            let material = generate_material(&req.kind, &mut entropy.derive(first))?;
            plan.into_keys(req, first, material, quorum)
        };
        self.store_generated(actor, req, session, count, make)
    }

    /// The attributes of the keys `req` makes, checked against the cluster's type and mode.
    fn plan(&self, req: &GenerateRequest, setting: Setting) -> Result<Plan, HsmError> {
        let hsm2m = self.hsm2m();
        let key_type = req.kind.key_type();
        let secret = || {
            let attrs = settable(
                key_type,
                KeyClass::SecretKey,
                &req.label,
                &req.attributes,
                req.token,
                true,
                hsm2m,
                setting,
            )?;
            Ok(Plan::Secret(attrs))
        };
        let pair = || -> Result<Plan, HsmError> {
            let public = settable(
                key_type,
                KeyClass::PublicKey,
                &req.label,
                &req.attributes,
                req.token,
                true,
                hsm2m,
                setting,
            )?;
            let private = settable(
                key_type,
                KeyClass::PrivateKey,
                &req.private_label,
                &req.private_attributes,
                req.token,
                true,
                hsm2m,
                setting,
            )?;
            Ok(Plan::Pair { public, private })
        };
        match &req.kind {
            KeyKind::Aes { .. } | KeyKind::GenericSecret { .. } => secret(),
            KeyKind::Des3 => {
                self.require_key_type_allowed(KeyType::Des3)?;
                secret()
            }
            KeyKind::Rsa { .. } => pair(),
            KeyKind::Ec { curve } => {
                if *curve == Curve::Ed25519 {
                    self.require_hsm2m_non_fips("Curve ed25519")?;
                }
                pair()
            }
            KeyKind::MlDsa { .. } => {
                if self.settings.hsm_type != HsmType::Hsm2mMedium {
                    return Err(KeyError::NeedsHsm2m { what: "ML-DSA" }.into());
                }
                pair()
            }
        }
    }

    /// Takes `count` references and stores the keys `make` builds from the first of them.
    fn store_generated(
        &mut self,
        actor: &Actor,
        req: &GenerateRequest,
        session: &mut SessionKeys,
        count: i64,
        make: impl FnOnce(u64) -> Result<Vec<NewKey>, HsmError>,
    ) -> Result<Vec<Key>, HsmError> {
        if matches!(req.kind, KeyKind::Rsa { .. }) {
            // RSA generation takes 50 ms to seconds: not while holding the write lock. The
            // reference is taken in a transaction of its own (a refused key then leaves a
            // gap), after the users to share with are checked.
            self.store.read(|tx| {
                for user in &req.share_with {
                    super::keys::check_share_target(tx, actor, user)?;
                }
                Ok::<_, HsmError>(())
            })?;
            let first = self
                .store
                .write(|tx| Ok::<_, HsmError>(records::allocate_references(tx, count)?))?;
            let new = make(first as u64)?;
            self.store_keys(actor, req.token, session, |_| Ok(new))
        } else {
            // Everything else is made in microseconds: reference, material and key in one
            // transaction, one commit.
            self.store_keys(actor, req.token, session, |tx| {
                make(records::allocate_references(tx, count)? as u64)
            })
        }
    }

    /// A secret key of fixed bytes (a seed's `material_hex`) for an `aes` or `generic-secret`
    /// request: checked like a generated key and stored, bytes and all, in one transaction,
    /// so that a failure leaves no key rather than a key of other bytes. It is marked as an
    /// imported key (`local`, `always-sensitive` and `never-extractable` false); its check
    /// value and length follow the bytes.
    pub(super) fn store_secret(
        &mut self,
        actor: &Actor,
        req: &GenerateRequest,
        bytes: Vec<u8>,
        session: &mut SessionKeys,
    ) -> Result<Vec<Key>, HsmError> {
        let (kind, key_type) = match req.kind {
            KeyKind::Aes { .. } => (crypto::SecretKind::Aes, KeyType::Aes),
            KeyKind::Des3 => (crypto::SecretKind::Des3, KeyType::Des3),
            KeyKind::GenericSecret { .. } => {
                (crypto::SecretKind::GenericSecret, KeyType::GenericSecret)
            }
            _ => return Err(KeyError::Internal("fixed material is for secret keys").into()),
        };
        self.require_key_type_allowed(key_type)?;
        let material = KeyMaterial::Secret(crypto::SecretKey::new(kind, bytes)?);
        let mut attrs = settable(
            key_type,
            KeyClass::SecretKey,
            &req.label,
            &req.attributes,
            req.token,
            false,
            self.hsm2m(),
            Setting::Creation,
        )?;
        attrs.flags.always_sensitive = false;
        attrs.flags.never_extractable = false;
        let quorum = check_quorum(req.manage_quorum, req.use_quorum, 1 + req.share_with.len())?;
        let new = OneKey {
            key_type,
            class: KeyClass::SecretKey,
            attrs,
            material,
            quorum,
            share_with: req.share_with.clone(),
        };
        let key = self.store_one(
            actor,
            req.token,
            session,
            new,
            |_| Ok(()),
            "the key was not stored",
        )?;
        Ok(vec![key])
    }

    /// `key import pem`: a public key (RSA, EC or Ed25519) from PEM text, owned by `login`,
    /// `local: false`.
    pub fn import_public_pem(
        &mut self,
        login: &mut Login,
        pem: &[u8],
        expected: KeyType,
        label: &str,
        attributes: &[Assignment],
    ) -> Result<Key, HsmError> {
        self.guard(login, OperationClass::KeyManagement)?;
        let Login {
            actor,
            keys: session,
            ..
        } = login;
        let public = PublicKey::from_pem(pem)?;
        let found = match &public {
            PublicKey::Rsa(_) => KeyType::Rsa,
            PublicKey::Ec(_) => KeyType::Ec,
            PublicKey::MlDsa(_) => KeyType::MlDsa,
        };
        let describe = |t: KeyType| match t {
            KeyType::Rsa => "an RSA public key (rsa-public)",
            KeyType::Ec => "an EC public key (ec-public)",
            _ => "an ML-DSA public key",
        };
        if found != expected {
            return Err(KeyError::ImportTypeMismatch {
                found: describe(found),
                expected: describe(expected),
            }
            .into());
        }
        let attrs = settable(
            found,
            KeyClass::PublicKey,
            label,
            attributes,
            true,
            false,
            self.hsm2m(),
            Setting::Creation,
        )?;
        let new = OneKey {
            key_type: found,
            class: KeyClass::PublicKey,
            attrs,
            material: KeyMaterial::Public(public),
            quorum: QuorumValues::default(),
            share_with: Vec::new(),
        };
        self.store_one(
            actor,
            true,
            session,
            new,
            |_| Ok(()),
            "the imported key was not stored",
        )
    }

    /// `key generate-file --encoding pem`: the SubjectPublicKeyInfo PEM of a public key
    /// `login` owns.
    pub fn public_key_pem(&mut self, login: &Login, key: &Key) -> Result<String, HsmError> {
        self.guard(login, OperationClass::KeyManagement)?;
        let (actor, session) = (&login.actor, &login.keys);
        match key.class {
            KeyClass::PublicKey => {}
            KeyClass::SecretKey => return Err(KeyError::GenerateFileNeedsAsymmetricKey.into()),
            KeyClass::PrivateKey => return Err(KeyError::PemNeedsPublicKey.into()),
        }
        super::keys::require_owner(actor, key)?;
        let blob = self.material_blob(key, session)?;
        match KeyMaterial::from_blob(&blob)? {
            KeyMaterial::Public(public) => public.to_pem().map_err(HsmError::from),
            _ => Err(KeyError::PemNeedsPublicKey.into()),
        }
    }
}

/// Key material given in the clear, by its components (unsigned big-endian numbers), as
/// PKCS#11's `C_CreateObject` gives it.
#[derive(Debug)]
pub enum ImportMaterial {
    /// An AES or generic secret key.
    Secret {
        key_type: KeyType,
        bytes: zeroize::Zeroizing<Vec<u8>>,
    },
    RsaPublic {
        modulus: Vec<u8>,
        public_exponent: Vec<u8>,
    },
    RsaPrivate {
        modulus: Vec<u8>,
        public_exponent: Vec<u8>,
        private_exponent: zeroize::Zeroizing<Vec<u8>>,
        /// The two primes, or none (then recovered from the exponents).
        primes: Vec<zeroize::Zeroizing<Vec<u8>>>,
    },
    /// `point`: the uncompressed point (`04 || X || Y`), or Ed25519's 32 bytes.
    EcPublic { curve: Curve, point: Vec<u8> },
    /// `secret`: the private scalar (or Ed25519 seed), as long as the curve's order.
    EcPrivate {
        curve: Curve,
        secret: zeroize::Zeroizing<Vec<u8>>,
    },
}

impl ImportMaterial {
    fn into_material(self) -> Result<(KeyType, KeyClass, KeyMaterial), HsmError> {
        use crypto::{EcPrivateKey, EcPublicKey, PrivateKey, RsaPrivateKey, RsaPublicKey};
        Ok(match self {
            ImportMaterial::Secret { key_type, bytes } => {
                let kind = match key_type {
                    KeyType::Aes => crypto::SecretKind::Aes,
                    KeyType::Des3 => crypto::SecretKind::Des3,
                    KeyType::GenericSecret => crypto::SecretKind::GenericSecret,
                    _ => {
                        return Err(
                            KeyError::Internal("a secret key is AES, DES3 or generic").into()
                        )
                    }
                };
                let secret = crypto::SecretKey::new(kind, bytes.to_vec())?;
                (key_type, KeyClass::SecretKey, KeyMaterial::Secret(secret))
            }
            ImportMaterial::RsaPublic {
                modulus,
                public_exponent,
            } => {
                let key = RsaPublicKey::from_components(&modulus, &public_exponent)?;
                (
                    KeyType::Rsa,
                    KeyClass::PublicKey,
                    KeyMaterial::Public(PublicKey::Rsa(key)),
                )
            }
            ImportMaterial::RsaPrivate {
                modulus,
                public_exponent,
                private_exponent,
                primes,
            } => {
                let primes: Vec<&[u8]> = primes.iter().map(|p| p.as_slice()).collect();
                let key = RsaPrivateKey::from_components(
                    &modulus,
                    &public_exponent,
                    &private_exponent,
                    &primes,
                )?;
                (
                    KeyType::Rsa,
                    KeyClass::PrivateKey,
                    KeyMaterial::Private(PrivateKey::Rsa(key)),
                )
            }
            ImportMaterial::EcPublic { curve, point } => {
                let key = EcPublicKey::from_point(curve, &point)?;
                (
                    KeyType::Ec,
                    KeyClass::PublicKey,
                    KeyMaterial::Public(PublicKey::Ec(key)),
                )
            }
            ImportMaterial::EcPrivate { curve, secret } => {
                let key = EcPrivateKey::from_secret(curve, &secret)?;
                (
                    KeyType::Ec,
                    KeyClass::PrivateKey,
                    KeyMaterial::Private(PrivateKey::Ec(key)),
                )
            }
        })
    }
}

impl Cluster {
    /// A key given in the clear (PKCS#11's `C_CreateObject`), owned by `login`: checked as a
    /// generated key is (attributes, cluster type, quotas), marked as imported (`local`,
    /// `always-sensitive` and `never-extractable` false: its material was outside the HSM).
    /// A session key (`token` false) lives in the login.
    pub fn import_key(
        &mut self,
        login: &mut Login,
        material: ImportMaterial,
        label: &str,
        attributes: &[Assignment],
        token: bool,
        setting: Setting,
    ) -> Result<Key, HsmError> {
        self.guard(login, OperationClass::KeyManagement)?;
        let (key_type, class, material) = material.into_material()?;
        self.require_key_type_allowed(key_type)?;
        if let KeyMaterial::Private(crypto::PrivateKey::Ec(k)) = &material {
            if k.curve() == Curve::Ed25519 {
                self.require_hsm2m_non_fips("Curve ed25519")?;
            }
        }
        let mut attrs = settable(
            key_type,
            class,
            label,
            attributes,
            token,
            false,
            self.hsm2m(),
            setting,
        )?;
        attrs.flags.always_sensitive = false;
        attrs.flags.never_extractable = false;
        let Login {
            actor,
            keys: session,
            ..
        } = login;
        let new = OneKey {
            key_type,
            class,
            attrs,
            material,
            quorum: QuorumValues::default(),
            share_with: Vec::new(),
        };
        self.store_one(
            actor,
            token,
            session,
            new,
            |_| Ok(()),
            "the imported key was not stored",
        )
    }
}

/// The PEM label of a key-reference file.
pub const REFERENCE_PEM_LABEL: &str = "CLOUDHSM KEY REFERENCE";

impl Cluster {
    /// `key generate-file --encoding reference-pem`: a PEM file that names a private key the
    /// `login` owns without holding any of its private material: the 8-byte key reference
    /// (big-endian) followed by the SubjectPublicKeyInfo DER of its public half.
    pub fn reference_pem(&mut self, login: &Login, key: &Key) -> Result<String, HsmError> {
        self.guard(login, OperationClass::KeyManagement)?;
        let (actor, session) = (&login.actor, &login.keys);
        match key.class {
            KeyClass::PrivateKey => {}
            KeyClass::SecretKey => return Err(KeyError::GenerateFileNeedsAsymmetricKey.into()),
            KeyClass::PublicKey => return Err(KeyError::ReferencePemNeedsPrivateKey.into()),
        }
        super::keys::require_owner(actor, key)?;
        let blob = self.material_blob(key, session)?;
        let KeyMaterial::Private(private) = KeyMaterial::from_blob(&blob)? else {
            return Err(KeyError::ReferencePemNeedsPrivateKey.into());
        };
        let mut payload = key.reference.to_be_bytes().to_vec();
        payload.extend_from_slice(&private.public_key().to_spki_der());
        Ok(pem_block(REFERENCE_PEM_LABEL, &payload))
    }
}

/// A PEM block: base64 in lines of 64 characters between BEGIN and END lines.
fn pem_block(label: &str, der: &[u8]) -> String {
    use base64::Engine;
    let body = base64::engine::general_purpose::STANDARD.encode(der);
    let mut out = format!("-----BEGIN {label}-----\n");
    for chunk in body.as_bytes().chunks(64) {
        out.push_str(&String::from_utf8_lossy(chunk));
        out.push('\n');
    }
    out.push_str(&format!("-----END {label}-----\n"));
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_public_exponent_keeps_the_text_it_was_given_as() {
        let e = PublicExponent::parse("0x010001").unwrap_or_else(|e| panic!("{e}"));
        assert_eq!((e.value(), e.as_given()), (65537, "0x010001"));
        assert_eq!(
            PublicExponent::parse("65537").map(|e| e.value()).ok(),
            Some(65537)
        );
        assert_eq!(PublicExponent::from(3).as_given(), "3");
        // Not a number: an invalid attribute value, naming what was typed.
        let text = PublicExponent::parse("lots")
            .map(|_| String::new())
            .unwrap_or_else(|e| e.to_string());
        assert!(
            text.contains("public-exponent") && text.contains("lots"),
            "{text}"
        );
        // A number that is no usable exponent is refused with the text as typed.
        let kind = KeyKind::Rsa {
            modulus_bits: 2048,
            public_exponent: PublicExponent::parse("0x10000").unwrap_or_else(|e| panic!("{e}")),
        };
        let refused = precheck(&kind)
            .map(|_| String::new())
            .unwrap_or_else(|e| e.to_string());
        assert!(
            refused.starts_with("Invalid RSA public exponent 0x10000:"),
            "{refused}"
        );
    }
}
