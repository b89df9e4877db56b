//! `key wrap`, `key unwrap` and the cipher extensions (`crypto encrypt|decrypt|mac`): the key
//! rules (ownership, `extractable`, `wrap`/`unwrap`/`encrypt`/`decrypt`/`sign`, trusted
//! wrapping, key quorum) around the mechanisms of `crate::hsm::crypto`.

use super::crypto::{
    self, HashFunction, KeyMaterial, PrivateKey, SecretKey, SecretKind, WrapMechanism, WrapOutput,
};
use super::key::attributes::{self, Assignment, Flag, Setting, Template};
use super::key::{
    Attribute, Key, KeyClass, KeyError, KeyType, QuorumValues, Settable, Term, Value,
};
use super::keygen::derived;
use super::keys::{check_quorum, require_owner, OneKey, SessionKeys};
use super::login::Login;
use super::model::HsmType;
use super::policy::OperationClass;
use super::quorum::{ApprovalFile, Approve, Service, Who};
use super::{Cluster, Entropy, HsmError};

/// What `key unwrap` makes of the unwrapped bytes (`--key-type-class`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum UnwrapTarget {
    Aes,
    Des3,
    GenericSecret,
    EcPrivate,
    RsaPrivate,
}

/// The options of a new unwrapped key.
#[derive(Debug, Clone)]
pub struct UnwrapRequest {
    pub target: UnwrapTarget,
    pub label: String,
    pub attributes: Vec<Assignment>,
    pub share_with: Vec<String>,
    pub manage_quorum: Option<u64>,
    pub use_quorum: Option<u64>,
    /// False for `--session`; the PKCS#11 default (false) for `C_UnwrapKey`.
    pub token: bool,
    /// The rules `attributes` are given under: the CLI's, or a PKCS#11 template's (where a
    /// `token` assignment is the caller's explicit `CKA_TOKEN`).
    pub setting: Setting,
}

impl Cluster {
    fn material(&mut self, key: &Key, session: &SessionKeys) -> Result<KeyMaterial, HsmError> {
        let blob = self.material_blob(key, session)?;
        KeyMaterial::from_blob(&blob).map_err(HsmError::from)
    }

    /// `key wrap *`: the payload (a secret or private key `login` owns, `extractable`)
    /// wrapped under a key with `wrap` set (`trusted` too if the payload asks for it). The
    /// approvals (payload, wrapping key) that the keys' quorum values ask for are checked and
    /// spent in one write transaction with the wrap.
    pub fn wrap_key(
        &mut self,
        login: &Login,
        payload: &[Term],
        wrapping: &[Term],
        mechanism: &WrapMechanism,
        entropy: &Entropy,
        approvals: (Option<&ApprovalFile>, Option<&ApprovalFile>),
    ) -> Result<(Key, Key, WrapOutput), HsmError> {
        self.guard(login, OperationClass::KeyManagement)?;
        let (actor, session) = (&login.actor, &login.keys);
        let payload_key = self.select(actor, payload, session)?;
        let wrapping_key = self.select(actor, wrapping, session)?;
        require_owner(actor, &payload_key)?;
        if payload_key.class == KeyClass::PublicKey {
            return Err(KeyError::WrongClass {
                needed: "a secret or private payload key",
            }
            .into());
        }
        if !payload_key.attrs.flags.extractable {
            return Err(KeyError::NotExtractable.into());
        }
        if !wrapping_key.attrs.flags.wrap {
            return Err(KeyError::AttributeRequired { name: "wrap" }.into());
        }
        if payload_key.attrs.flags.wrap_with_trusted && !wrapping_key.attrs.flags.trusted {
            return Err(KeyError::NeedsTrustedWrappingKey.into());
        }
        if let Some(attribute) = wrapping_key.attrs.wrap_template.mismatch(&payload_key) {
            return Err(KeyError::WrapTemplateMismatch {
                name: attribute.name(),
            }
            .into());
        }
        self.check_key_available(&payload_key, self.availability_check)?;
        self.check_key_available(&wrapping_key, self.availability_check)?;
        let (payload_approval, wrapping_approval) = approvals;
        let wanted = [
            Approve::key(Service::KeyManagement, &payload_key),
            Approve::key(Service::KeyManagement, &wrapping_key),
        ];
        let quorum = wanted.iter().any(|w| w.required > 1);
        if quorum {
            // Refused before any material is read, as without the write below.
            self.check_key_approval(
                login,
                Service::KeyManagement,
                &payload_key,
                payload_approval,
            )?;
            self.check_key_approval(
                login,
                Service::KeyManagement,
                &wrapping_key,
                wrapping_approval,
            )?;
        }
        let bytes = match self.material(&payload_key, session)? {
            KeyMaterial::Secret(k) => k.bytes().to_vec(),
            KeyMaterial::Private(k) => k.to_pkcs8_der(),
            KeyMaterial::Public(_) => {
                return Err(KeyError::WrongClass {
                    needed: "a secret or private payload key",
                }
                .into())
            }
        };
        let wrapping_material = self.material(&wrapping_key, session)?;
        let context = payload_key.reference ^ wrapping_key.reference.rotate_left(32);
        // An AES-GCM wrap draws an IV: a seeded run must never repeat one under a key, in
        // this process or another (as `encrypt_aes_gcm`), so each such wrap takes the next
        // position of the cluster's seeded stream.
        let draws_iv = matches!(
            mechanism,
            crypto::WrapMechanism::AesGcm { .. } | crypto::WrapMechanism::CloudHsmAesGcm { .. }
        );
        let mut rng = if draws_iv && entropy.is_seeded() {
            entropy.derive_use(context, self.next_seeded_use()?)
        } else {
            entropy.derive(context)
        };
        let mut wrap = || {
            crypto::wrap_key(mechanism, &wrapping_material, &bytes, &mut rng)
                .map_err(HsmError::from)
        };
        let out = if quorum {
            let now = self.now();
            let [for_payload, for_wrapping] = &wanted;
            self.store.write(|tx| {
                for_payload.spend(tx, login, payload_approval, now)?;
                for_wrapping.spend(tx, login, wrapping_approval, now)?;
                wrap()
            })?
        } else {
            wrap()?
        };
        Ok((payload_key, wrapping_key, out))
    }

    /// `key unwrap *`: a new key owned by the actor, `local: false`, from data wrapped under a
    /// key with `unwrap` set.
    pub fn unwrap_key(
        &mut self,
        login: &mut Login,
        unwrapping: &[Term],
        mechanism: &WrapMechanism,
        data: &[u8],
        iv: Option<&[u8]>,
        req: &UnwrapRequest,
        approval: Option<&ApprovalFile>,
    ) -> Result<Key, HsmError> {
        self.guard(login, OperationClass::KeyManagement)?;
        let (key_type, class) = match req.target {
            UnwrapTarget::Aes => (KeyType::Aes, KeyClass::SecretKey),
            UnwrapTarget::GenericSecret => (KeyType::GenericSecret, KeyClass::SecretKey),
            UnwrapTarget::EcPrivate => (KeyType::Ec, KeyClass::PrivateKey),
            UnwrapTarget::RsaPrivate => (KeyType::Rsa, KeyClass::PrivateKey),
            UnwrapTarget::Des3 => (KeyType::Des3, KeyClass::SecretKey),
        };
        self.require_key_type_allowed(key_type)?;
        // Everything the user gave is checked before the unwrap.
        let quorum = check_quorum(req.manage_quorum, req.use_quorum, 1 + req.share_with.len())?;
        attributes::check_label(&req.label)?;
        let unwrapping_key = self.select(&login.actor, unwrapping, &login.keys)?;
        if !unwrapping_key.attrs.flags.unwrap {
            return Err(KeyError::AttributeRequired { name: "unwrap" }.into());
        }
        let merged =
            merge_unwrap_template(req, key_type, class, &unwrapping_key.attrs.unwrap_template)?;
        let mut attrs = Settable::new(
            merged.label.clone(),
            Vec::new(),
            attributes::defaults(key_type, class, merged.token),
        );
        attrs.flags.local = false;
        if req.setting == Setting::Template {
            // PKCS#11's C_UnwrapKey leaves every usage flag false unless given (AWS CloudHSM
            // User Guide, "PKCS #11 attributes": UnwrapKey defaults), where the CLI's keys
            // may sign and verify.
            attrs.flags.sign = false;
            attrs.flags.verify = false;
        }
        let hsm2m = self.settings.hsm_type == HsmType::Hsm2mMedium;
        for assignment in &merged.assignments {
            attributes::apply(&mut attrs, key_type, class, assignment, req.setting, hsm2m)?;
        }
        // An unwrapped key has been outside the HSM: never "always sensitive".
        attrs.flags.always_sensitive = false;
        attrs.flags.never_extractable = false;

        self.check_key_available(&unwrapping_key, self.availability_check)?;
        let wanted = Approve::key(Service::KeyManagement, &unwrapping_key);
        self.check_key_approval(login, Service::KeyManagement, &unwrapping_key, approval)?;
        let unwrapping_material = self.material(&unwrapping_key, &login.keys)?;
        let bytes = crypto::unwrap_key(mechanism, &unwrapping_material, data, iv)?;
        let material = match req.target {
            UnwrapTarget::Aes => KeyMaterial::Secret(SecretKey::new(SecretKind::Aes, bytes)?),
            UnwrapTarget::GenericSecret => {
                KeyMaterial::Secret(SecretKey::new(SecretKind::GenericSecret, bytes)?)
            }
            UnwrapTarget::EcPrivate | UnwrapTarget::RsaPrivate => {
                let private = PrivateKey::from_pkcs8_der(&bytes)?;
                let found = match &private {
                    PrivateKey::Rsa(_) => KeyType::Rsa,
                    PrivateKey::Ec(_) => KeyType::Ec,
                    PrivateKey::MlDsa(_) => return Err(KeyError::MlDsaUnwrap.into()),
                };
                if found != key_type {
                    return Err(KeyError::UnwrappedTypeMismatch {
                        found: found.as_str(),
                        expected: key_type.as_str(),
                    }
                    .into());
                }
                KeyMaterial::Private(private)
            }
            UnwrapTarget::Des3 => KeyMaterial::Secret(SecretKey::new(SecretKind::Des3, bytes)?),
        };
        // The template's entries the material fixes (a length, a curve) are checked on the
        // key as it would be.
        let made = Key {
            reference: 0,
            key_type,
            class,
            owner: login.actor.username.to_string(),
            shared: Vec::new(),
            attrs: attrs.clone(),
            derived: derived(&material),
            quorum: QuorumValues::default(),
        };
        let fixed = Template::new(merged.fixed).map_err(HsmError::from)?;
        if let Some(attribute) = fixed.mismatch(&made) {
            return Err(KeyError::UnwrapTemplateConflict {
                name: attribute.name(),
            }
            .into());
        }
        let now = self.now();
        let Login {
            actor,
            session,
            keys: session_keys,
            ..
        } = login;
        let who = Who {
            username: &actor.username,
            session: session.tag(),
        };
        let new = OneKey {
            key_type,
            class,
            attrs,
            material,
            quorum,
            share_with: req.share_with.clone(),
        };
        // The approval is spent with the new key, or not at all.
        let spend = |tx: &crate::store::Tx<'_>| wanted.spend_by(tx, &who, approval, now);
        self.store_one(
            actor,
            merged.token,
            session_keys,
            new,
            spend,
            "the unwrapped key was not stored",
        )
    }

    /// The key and material of a cipher extension, with the attribute the operation needs.
    pub(super) fn cipher_key(
        &mut self,
        login: &Login,
        terms: &[Term],
        needs: &'static str,
    ) -> Result<(Key, KeyMaterial), HsmError> {
        let class = if needs == "sign" {
            OperationClass::DigestHmac
        } else {
            OperationClass::EncryptDecrypt
        };
        // The hot path of key use, as a signature's: no read while the database is unchanged
        // (the HSMs' availability is checked in the read that selects the key), the decoded
        // key kept.
        self.admit(login, class)?;
        let session = &login.keys;
        let (key, fresh, copies) = self.select_for_use(&login.actor, terms, session)?;
        let flags = &key.attrs.flags;
        let set = match needs {
            "encrypt" => flags.encrypt,
            "decrypt" => flags.decrypt,
            _ => flags.sign,
        };
        if !set {
            return Err(KeyError::AttributeRequired { name: needs }.into());
        }
        super::replication::availability(&key, self.availability_check, copies)?;
        if key.quorum.usage > 1 {
            // No --approval option on the extensions: a key that needs approvals cannot be used.
            return Err(KeyError::QuorumFailed.into());
        }
        if let Some((version, blob)) = fresh {
            let material = KeyMaterial::from_blob(&blob)?;
            self.decoded.insert(key.reference, (version, material));
        }
        let material = match self.decoded.get(&key.reference) {
            Some((_, material)) => material.clone(),
            None => return Err(KeyError::NotFound.into()),
        };
        Ok((key, material))
    }

    /// `crypto encrypt aes-gcm` \[emulator extension\]: returns the key, the IV and
    /// ciphertext || tag.
    pub fn encrypt_aes_gcm(
        &mut self,
        login: &Login,
        terms: &[Term],
        plaintext: &[u8],
        aad: &[u8],
        tag_length_bits: usize,
        entropy: &Entropy,
    ) -> Result<(Key, Vec<u8>, Vec<u8>), HsmError> {
        let (key, material) = self.cipher_key(login, terms, "encrypt")?;
        // A seeded run must still never repeat an IV under a key, in this process or another.
        let position = if entropy.is_seeded() {
            self.next_seeded_use()?
        } else {
            0
        };
        let mut rng = entropy.derive_use(key.reference, position);
        let (iv, ciphertext) =
            crypto::aes_gcm_encrypt(&material, plaintext, aad, tag_length_bits, &mut rng)?;
        Ok((key, iv, ciphertext))
    }

    /// `crypto decrypt aes-gcm` \[emulator extension\].
    pub fn decrypt_aes_gcm(
        &mut self,
        login: &Login,
        terms: &[Term],
        iv: &[u8],
        ciphertext: &[u8],
        aad: &[u8],
        tag_length_bits: usize,
    ) -> Result<(Key, Vec<u8>), HsmError> {
        let (key, material) = self.cipher_key(login, terms, "decrypt")?;
        let plaintext = crypto::aes_gcm_decrypt(&material, iv, ciphertext, aad, tag_length_bits)?;
        Ok((key, plaintext))
    }

    /// `crypto encrypt rsa-oaep` \[emulator extension\].
    pub fn encrypt_rsa_oaep(
        &mut self,
        login: &Login,
        terms: &[Term],
        hash: HashFunction,
        mgf: HashFunction,
        plaintext: &[u8],
        entropy: &Entropy,
    ) -> Result<(Key, Vec<u8>), HsmError> {
        let (key, material) = self.cipher_key(login, terms, "encrypt")?;
        let mut rng = entropy.derive(key.reference);
        let ciphertext = crypto::rsa_oaep_encrypt(&material, hash, mgf, plaintext, &mut rng)?;
        Ok((key, ciphertext))
    }

    /// `crypto decrypt rsa-oaep` \[emulator extension\].
    pub fn decrypt_rsa_oaep(
        &mut self,
        login: &Login,
        terms: &[Term],
        hash: HashFunction,
        mgf: HashFunction,
        ciphertext: &[u8],
    ) -> Result<(Key, Vec<u8>), HsmError> {
        let (key, material) = self.cipher_key(login, terms, "decrypt")?;
        let plaintext = crypto::rsa_oaep_decrypt(&material, hash, mgf, ciphertext)?;
        Ok((key, plaintext))
    }

    /// `crypto mac hmac` \[emulator extension\]: a generic secret or AES key with `sign` set.
    pub fn hmac(
        &mut self,
        login: &Login,
        terms: &[Term],
        hash: HashFunction,
        data: &[u8],
    ) -> Result<(Key, Vec<u8>), HsmError> {
        let (key, material) = self.cipher_key(login, terms, "sign")?;
        match material {
            KeyMaterial::Secret(secret) => Ok((key, crypto::hmac(hash, secret.bytes(), data))),
            _ => Err(KeyError::WrongClass {
                needed: "a generic secret or AES key",
            }
            .into()),
        }
    }
}

/// The attributes of a key being unwrapped: the caller's, and those of the unwrapping key's
/// unwrap template. "If you specify an unwrap template and the application provides its own
/// unwrap template, the HSM uses the union of both templates … if a value in the
/// CKA_UNWRAP_TEMPLATE for the wrapping key conflicts with an attribute provided by the
/// application during the unwrap request, then the unwrap request fails" (AWS CloudHSM User
/// Guide, "Using trusted keys to control key unwraps").
struct Merged {
    label: String,
    token: bool,
    assignments: Vec<Assignment>,
    /// Entries the key's type and material fix, checked once the material is known.
    fixed: Vec<(Attribute, Value)>,
}

fn merge_unwrap_template(
    req: &UnwrapRequest,
    key_type: KeyType,
    class: KeyClass,
    template: &Template,
) -> Result<Merged, HsmError> {
    let mut token_given = None;
    let mut assignments = Vec::new();
    for a in &req.attributes {
        match a {
            // A PKCS#11 caller's own `CKA_TOKEN` (the CLI's `--attributes` refuse `token`).
            Assignment::Flag(Flag::Token, v) if req.setting == Setting::Template => {
                token_given = Some(*v)
            }
            other => assignments.push(other.clone()),
        }
    }
    let mut merged = Merged {
        label: req.label.clone(),
        token: req.token,
        assignments: Vec::new(),
        fixed: Vec::new(),
    };
    for (attribute, value) in template.entries() {
        let conflict = || -> HsmError {
            KeyError::UnwrapTemplateConflict {
                name: attribute.name(),
            }
            .into()
        };
        match (attribute, value) {
            (Attribute::Class, Value::Class(c)) if *c != class => return Err(conflict()),
            (Attribute::KeyType, Value::KeyType(t)) if *t != key_type => return Err(conflict()),
            (Attribute::Class | Attribute::KeyType, _) => {}
            (Attribute::Flag(Flag::Token), Value::Bool(v)) => {
                if token_given.is_some_and(|g| g != *v) {
                    return Err(conflict());
                }
                token_given = Some(*v);
            }
            (Attribute::Flag(flag), Value::Bool(v)) => {
                let differs = assignments
                    .iter()
                    .any(|a| matches!(a, Assignment::Flag(f, w) if f == flag && w != v));
                if differs {
                    return Err(conflict());
                }
                merged.assignments.push(Assignment::Flag(*flag, *v));
            }
            (Attribute::Label, Value::Text(label)) => {
                if !req.label.is_empty() && req.label != *label {
                    return Err(conflict());
                }
                merged.label = label.clone();
            }
            (Attribute::Id, Value::Bytes(id)) => {
                let differs = assignments
                    .iter()
                    .any(|a| matches!(a, Assignment::Id(given) if given != id));
                if differs {
                    return Err(conflict());
                }
                merged.assignments.push(Assignment::Id(id.clone()));
            }
            (attribute, value) => merged.fixed.push((*attribute, value.clone())),
        }
    }
    if let Some(token) = token_given {
        merged.token = token;
    }
    // The caller's attributes first, the template's after: equal where both give one.
    assignments.append(&mut merged.assignments);
    merged.assignments = assignments;
    Ok(merged)
}
