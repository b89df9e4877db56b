//! Object functions: finding keys, reading their attributes, destroying them, and making
//! them (`C_GenerateKey`, `C_GenerateKeyPair`). Token objects are the cluster's keys the
//! logged-in crypto user can see (its own, those shared with it, every public key); session
//! objects are the login's session keys, each owned by the PKCS#11 session that made it.

use cloudhsm_sim::hsm::crypto::KeyMaterial;
use cloudhsm_sim::hsm::key::attributes::{Flag, Setting};
use cloudhsm_sim::hsm::key::{Assignment, Attribute, Key, KeyClass, KeyType, Term, Value};
use cloudhsm_sim::hsm::{GenerateRequest, ImportMaterial, KeyKind, PublicExponent};
use cryptoki_sys::*;

use crate::attributes::{self, Readout};
use crate::boundary::{self, Result};
use crate::certificates;
use crate::session::{Find, Session};
use crate::state::{Module, Slot};
use crate::template::{self, Given, Making};

/// The key behind `handle`, read now (attributes are never cached: a change the CLI made a
/// moment ago is what the caller sees).
pub(crate) fn key(
    module: &Module,
    slot: &Slot,
    index: usize,
    handle: CK_OBJECT_HANDLE,
) -> Result<Key> {
    let reference = module.object(index, handle)?;
    let terms = [Term::Reference(reference)];
    match slot.with_login(module, |c, login| c.list_keys(login, &terms)) {
        Ok(mut keys) => keys.pop().ok_or(CKR_OBJECT_HANDLE_INVALID),
        // Without a login no key is visible.
        Err(crate::state::LoginFailure::NotLoggedIn) => Err(CKR_OBJECT_HANDLE_INVALID),
        Err(e) => Err(e.rv()),
    }
}

/// The bytes of a secret key the login owns, for a `CKA_VALUE` the key lets out.
fn secret_value(module: &Module, slot: &Slot, key: &Key) -> Option<Vec<u8>> {
    let blob = slot
        .with_login(module, |c, login| c.key_material(login, key))
        .ok()?;
    match KeyMaterial::from_blob(&blob).ok()? {
        KeyMaterial::Secret(secret) => Some(secret.bytes().to_vec()),
        _ => None,
    }
}

/// `C_FindObjectsInit`: the keys matching `template`, found now.
pub(crate) fn find_init(
    module: &Module,
    slot: &Slot,
    session: &mut Session,
    given: &[Given],
) -> Result<()> {
    if session.find.is_some() {
        return Err(CKR_OPERATION_ACTIVE);
    }
    let index = session.slot;
    // What SQL can narrow by; the rest is compared below, byte for byte as read.
    let mut terms = Vec::new();
    for g in given {
        match g.ty {
            CKA_LABEL => match String::from_utf8(g.value.clone()) {
                Ok(label) => terms.push(Term::Is(Attribute::Label, Value::Text(label))),
                Err(_) => terms.push(Term::Never(Attribute::Label)),
            },
            CKA_CLASS => match template::ulong_of(g).ok().and_then(class_of) {
                Some(c) => terms.push(Term::Is(Attribute::Class, Value::Class(c))),
                None => terms.push(Term::Never(Attribute::Class)),
            },
            _ => {}
        }
    }
    let keys = match slot.with_login(module, |c, login| c.list_keys(login, &terms)) {
        Ok(keys) => keys,
        // A public session sees no key: every key of CloudHSM is a private object.
        Err(crate::state::LoginFailure::NotLoggedIn) => Vec::new(),
        Err(e) => return Err(e.rv()),
    };
    let mut handles: Vec<_> = keys
        .iter()
        .filter(|key| {
            given.iter().all(|g| {
                attributes::read(key, g.ty, || secret_value(module, slot, key))
                    == Readout::Value(g.value.clone())
            })
        })
        .map(|key| module.handle_of(index, key.reference))
        .collect();
    // "Operations that apply to both certificate and key objects, such as C_FindObjects,
    // will return results from both key and certificate storage" (AWS).
    handles.extend(
        certificates::all(module, slot)?
            .iter()
            .filter(|cert| certificates::matches(cert, given))
            .map(|cert| module.handle_of(index, cert.reference)),
    );
    session.find = Some(Find { handles, next: 0 });
    Ok(())
}

fn class_of(c: CK_ULONG) -> Option<KeyClass> {
    match c {
        CKO_SECRET_KEY => Some(KeyClass::SecretKey),
        CKO_PUBLIC_KEY => Some(KeyClass::PublicKey),
        CKO_PRIVATE_KEY => Some(KeyClass::PrivateKey),
        _ => None,
    }
}

/// `C_FindObjects`. A NULL output array asks how many are left (at most `max`) without
/// taking them: AWS's samples rely on it (spec/pkcs11.md §2.3).
///
/// # Safety
/// `out` is NULL or holds `max` writable handles; `count` is NULL or writable.
pub(crate) unsafe fn find(
    session: &mut Session,
    out: *mut CK_OBJECT_HANDLE,
    max: CK_ULONG,
    count: *mut CK_ULONG,
) -> Result<()> {
    let find = session.find.as_mut().ok_or(CKR_OPERATION_NOT_INITIALIZED)?;
    // SAFETY: the caller's contract.
    let count = unsafe { boundary::out(count) }?;
    let left = find.handles.len() - find.next;
    let n = left.min(usize::try_from(max).unwrap_or(usize::MAX));
    if out.is_null() {
        *count = n as CK_ULONG;
        return Ok(());
    }
    // SAFETY: the caller's contract: `max` handles at `out`.
    let out = unsafe { boundary::array(out, max) }?;
    let taken = find
        .handles
        .get(find.next..find.next + n)
        .unwrap_or_default();
    for (o, h) in out.iter_mut().zip(taken) {
        *o = *h;
    }
    find.next += n;
    *count = n as CK_ULONG;
    Ok(())
}

/// `C_GetAttributeValue`: every attribute of the template gets its value, its length, or
/// `CK_UNAVAILABLE_INFORMATION` with the reason returned (the first one met).
///
/// # Safety
/// The template's value pointers are NULL or hold `ulValueLen` writable bytes.
pub(crate) unsafe fn get_attributes(
    module: &Module,
    slot: &Slot,
    key: &Key,
    template: &mut [CK_ATTRIBUTE],
) -> Result<()> {
    let mut result = CKR_OK;
    let mut fail = |rv: CK_RV| {
        if result == CKR_OK {
            result = rv;
        }
    };
    for a in template.iter_mut() {
        match attributes::read(key, a.type_, || secret_value(module, slot, key)) {
            Readout::Value(_) if crate::wrapping::is_template(a.type_) => {
                let stored = crate::wrapping::stored(key, a.type_);
                // SAFETY: the caller's contract for the array and its entries' buffers.
                if let Err(rv) = unsafe { crate::wrapping::put_template(a, stored) } {
                    fail(rv);
                }
            }
            readout => {
                // SAFETY: the caller's contract for the entry's buffer.
                if let Err(rv) = unsafe { put(a, readout) } {
                    fail(rv);
                }
            }
        }
    }
    if result == CKR_OK {
        Ok(())
    } else {
        Err(result)
    }
}

/// Writes one attribute's readout into the caller's template entry (the buffer protocol of
/// `C_GetAttributeValue`); the entry's failure, if any.
///
/// # Safety
/// `a.pValue` is NULL or holds `a.ulValueLen` writable bytes.
pub(crate) unsafe fn put(a: &mut CK_ATTRIBUTE, readout: Readout) -> Result<()> {
    match readout {
        Readout::Value(v) => {
            let len = v.len() as CK_ULONG;
            if a.pValue.is_null() {
                a.ulValueLen = len;
            } else if a.ulValueLen >= len {
                // SAFETY: `pValue` holds `ulValueLen >= len` writable bytes (caller).
                unsafe { std::ptr::copy_nonoverlapping(v.as_ptr(), a.pValue as *mut u8, v.len()) };
                a.ulValueLen = len;
            } else {
                a.ulValueLen = CK_UNAVAILABLE_INFORMATION;
                return Err(CKR_BUFFER_TOO_SMALL);
            }
            Ok(())
        }
        Readout::Sensitive => {
            a.ulValueLen = CK_UNAVAILABLE_INFORMATION;
            Err(CKR_ATTRIBUTE_SENSITIVE)
        }
        Readout::Invalid => {
            a.ulValueLen = CK_UNAVAILABLE_INFORMATION;
            Err(CKR_ATTRIBUTE_TYPE_INVALID)
        }
    }
}

/// `C_GetObjectSize`: the bytes of the key's attributes as `C_GetAttributeValue` gives them
/// (what leaves the HSM; PKCS#11 leaves the measure to the token).
pub(crate) fn size(key: &Key) -> CK_ULONG {
    const TYPES: [CK_ATTRIBUTE_TYPE; 28] = [
        CKA_CLASS,
        CKA_KEY_TYPE,
        CKA_LABEL,
        CKA_ID,
        CKA_TOKEN,
        CKA_PRIVATE,
        CKA_MODIFIABLE,
        CKA_DESTROYABLE,
        CKA_LOCAL,
        CKA_ENCRYPT,
        CKA_DECRYPT,
        CKA_DERIVE,
        CKA_SIGN,
        CKA_VERIFY,
        CKA_WRAP,
        CKA_UNWRAP,
        CKA_TRUSTED,
        CKA_WRAP_WITH_TRUSTED,
        CKA_SENSITIVE,
        CKA_EXTRACTABLE,
        CKA_NEVER_EXTRACTABLE,
        CKA_ALWAYS_SENSITIVE,
        CKA_MODULUS,
        CKA_PUBLIC_EXPONENT,
        CKA_EC_PARAMS,
        CKA_EC_POINT,
        CKA_VALUE_LEN,
        CKA_CHECK_VALUE,
    ];
    TYPES
        .iter()
        .map(|t| match attributes::read(key, *t, || None) {
            Readout::Value(v) => v.len() as CK_ULONG,
            _ => 0,
        })
        .sum()
}

/// `C_DestroyObject`: the owner destroys a key it may destroy; a token key needs a
/// read-write session.
pub(crate) fn destroy(
    module: &Module,
    slot: &Slot,
    session: &Session,
    handle: CK_OBJECT_HANDLE,
) -> Result<()> {
    let index = session.slot;
    let key = key(module, slot, index, handle)?;
    if key.attrs.flags.token && !session.rw {
        return Err(CKR_SESSION_READ_ONLY);
    }
    if !key.attrs.flags.destroyable {
        return Err(CKR_ACTION_PROHIBITED);
    }
    let terms = [Term::Reference(key.reference)];
    slot.with_login_mut(module, |c, login| c.delete_key(login, &terms))
        .map_err(|e| e.rv())?;
    slot.drop_session_object(key.reference);
    module.forget(index, key.reference);
    Ok(())
}

/// A mechanism of a key-making function, without parameters.
fn bare(m: &CK_MECHANISM) -> Result<CK_MECHANISM_TYPE> {
    if !m.pParameter.is_null() && m.ulParameterLen != 0 {
        return Err(CKR_MECHANISM_PARAM_INVALID);
    }
    Ok(m.mechanism)
}

/// Stores what a key-making function made: handles for the keys, and the session
/// objects (`CKA_TOKEN` false) recorded as the calling session's.
fn handles(
    module: &Module,
    slot: &Slot,
    index: usize,
    owner: CK_SESSION_HANDLE,
    keys: &[Key],
) -> Vec<CK_OBJECT_HANDLE> {
    keys.iter()
        .map(|k| {
            if !k.attrs.flags.token {
                slot.own_session_object(k.reference, owner);
            }
            module.handle_of(index, k.reference)
        })
        .collect()
}

fn generate(
    module: &Module,
    slot: &Slot,
    req: &GenerateRequest,
) -> std::result::Result<Vec<Key>, crate::state::LoginFailure> {
    slot.with_login_mut(module, |c, login| {
        c.generate_keys_with(login, req, &module.entropy, Setting::Template)
    })
}

/// `C_GenerateKey`: an AES or generic secret key, `CKA_VALUE_LEN` bytes long, or a DES3 key
/// (24 bytes, no `CKA_VALUE_LEN`; refused by the cluster in FIPS mode).
pub(crate) fn generate_key(
    module: &Module,
    slot: &Slot,
    session: &Session,
    owner: CK_SESSION_HANDLE,
    mechanism: &CK_MECHANISM,
    given: &[Given],
) -> Result<CK_OBJECT_HANDLE> {
    let key_type = match bare(mechanism)? {
        CKM_AES_KEY_GEN => KeyType::Aes,
        CKM_DES3_KEY_GEN => KeyType::Des3,
        CKM_GENERIC_SECRET_KEY_GEN => KeyType::GenericSecret,
        _ => return Err(CKR_MECHANISM_INVALID),
    };
    let t = template::key_template(given, key_type, KeyClass::SecretKey, Making::Generate)?;
    let bytes = || -> Result<u64> {
        let len = template::find(given, CKA_VALUE_LEN).ok_or(CKR_TEMPLATE_INCOMPLETE)?;
        Ok(template::ulong_of(len)? as u64)
    };
    let kind = match key_type {
        KeyType::Aes => KeyKind::Aes { bytes: bytes()? },
        KeyType::Des3 => KeyKind::Des3,
        _ => KeyKind::GenericSecret { bytes: bytes()? },
    };
    if t.token && !session.rw {
        return Err(CKR_SESSION_READ_ONLY);
    }
    let req = request(
        kind,
        t.label,
        String::new(),
        t.assignments,
        Vec::new(),
        t.token,
    );
    let keys = generate(module, slot, &req).map_err(|e| e.rv())?;
    handles(module, slot, session.slot, owner, &keys)
        .pop()
        .ok_or(CKR_GENERAL_ERROR)
}

fn request(
    kind: KeyKind,
    label: String,
    private_label: String,
    attributes: Vec<Assignment>,
    private_attributes: Vec<Assignment>,
    token: bool,
) -> GenerateRequest {
    GenerateRequest {
        kind,
        label,
        private_label,
        attributes,
        private_attributes,
        share_with: Vec::new(),
        manage_quorum: None,
        use_quorum: None,
        token,
    }
}

/// `C_GenerateKeyPair`: an RSA or EC pair. The halves may differ in `CKA_TOKEN`: the pair is
/// made as session keys and the token half then made a token key, as `key set-attribute`
/// does.
pub(crate) fn generate_key_pair(
    module: &Module,
    slot: &Slot,
    session: &Session,
    owner: CK_SESSION_HANDLE,
    mechanism: &CK_MECHANISM,
    public: &[Given],
    private: &[Given],
) -> Result<(CK_OBJECT_HANDLE, CK_OBJECT_HANDLE)> {
    let key_type = match bare(mechanism)? {
        CKM_RSA_PKCS_KEY_PAIR_GEN | CKM_RSA_X9_31_KEY_PAIR_GEN => KeyType::Rsa,
        CKM_EC_KEY_PAIR_GEN => KeyType::Ec,
        _ => return Err(CKR_MECHANISM_INVALID),
    };
    let pt = template::key_template(public, key_type, KeyClass::PublicKey, Making::Generate)?;
    let st = template::key_template(private, key_type, KeyClass::PrivateKey, Making::Generate)?;
    let kind = match key_type {
        KeyType::Rsa => {
            let bits = template::find(public, CKA_MODULUS_BITS).ok_or(CKR_TEMPLATE_INCOMPLETE)?;
            let exponent = match template::find(public, CKA_PUBLIC_EXPONENT) {
                Some(e) => big_endian(&e.value)?,
                None => 65_537,
            };
            KeyKind::Rsa {
                modulus_bits: template::ulong_of(bits)? as u64,
                public_exponent: PublicExponent::from(exponent),
            }
        }
        _ => {
            let params = template::find(public, CKA_EC_PARAMS).ok_or(CKR_TEMPLATE_INCOMPLETE)?;
            let curve = attributes::curve_of(&params.value).ok_or(match params.value.first() {
                Some(0x06) => CKR_CURVE_NOT_SUPPORTED,
                _ => CKR_ATTRIBUTE_VALUE_INVALID,
            })?;
            KeyKind::Ec { curve }
        }
    };
    if (pt.token || st.token) && !session.rw {
        return Err(CKR_SESSION_READ_ONLY);
    }
    let both = pt.token && st.token;
    let req = request(
        kind,
        pt.label,
        st.label,
        pt.assignments,
        st.assignments,
        both,
    );
    let mut keys = generate(module, slot, &req).map_err(|e| match e {
        crate::state::LoginFailure::Hsm(e) => crate::error::generate_rv(&e),
        e => e.rv(),
    })?;
    if pt.token != st.token {
        let half = if pt.token { 0 } else { 1 };
        let reference = keys
            .get(half)
            .map(|k| k.reference)
            .ok_or(CKR_GENERAL_ERROR)?;
        let promote = Assignment::Flag(Flag::Token, true);
        let terms = [Term::Reference(reference)];
        slot.with_login_mut(module, |c, login| {
            c.set_key_attribute(login, &terms, &promote, None)
        })
        .map_err(|e| e.rv())?;
        if let Some(k) = keys.get_mut(half) {
            k.attrs.flags.token = true;
        }
    }
    let handles = handles(module, slot, session.slot, owner, &keys);
    match handles.as_slice() {
        [public, private] => Ok((*public, *private)),
        _ => Err(CKR_GENERAL_ERROR),
    }
}

/// An unsigned big-endian integer of at most 8 bytes (`CKA_PUBLIC_EXPONENT`).
fn big_endian(bytes: &[u8]) -> Result<u64> {
    let digits = bytes.iter().skip_while(|b| **b == 0).collect::<Vec<_>>();
    if digits.len() > 8 {
        return Err(CKR_ATTRIBUTE_VALUE_INVALID);
    }
    Ok(digits.iter().fold(0u64, |n, b| (n << 8) | u64::from(**b)))
}

/// `C_CreateObject`: a secret, RSA or EC key given in the clear (`CKA_LOCAL` false).
pub(crate) fn create_object(
    module: &Module,
    slot: &Slot,
    session: &Session,
    owner: CK_SESSION_HANDLE,
    given: &[Given],
) -> Result<CK_OBJECT_HANDLE> {
    let ulong = |ty| -> Result<CK_ULONG> {
        template::ulong_of(template::find(given, ty).ok_or(CKR_TEMPLATE_INCOMPLETE)?)
    };
    let key_class = match ulong(CKA_CLASS)? {
        CKO_SECRET_KEY => KeyClass::SecretKey,
        CKO_PUBLIC_KEY => KeyClass::PublicKey,
        CKO_PRIVATE_KEY => KeyClass::PrivateKey,
        // With certificate storage on (configure-pkcs11) and an hsm2m.medium cluster.
        CKO_CERTIFICATE => return certificates::create(module, slot, session, given),
        _ => return Err(CKR_ATTRIBUTE_VALUE_INVALID),
    };
    let key_type = match (ulong(CKA_KEY_TYPE)?, key_class) {
        (CKK_AES, KeyClass::SecretKey) => KeyType::Aes,
        (CKK_DES3, KeyClass::SecretKey) => KeyType::Des3,
        (CKK_GENERIC_SECRET, KeyClass::SecretKey) => KeyType::GenericSecret,
        (CKK_RSA, KeyClass::PublicKey | KeyClass::PrivateKey) => KeyType::Rsa,
        (CKK_EC, KeyClass::PublicKey | KeyClass::PrivateKey) => KeyType::Ec,
        // "ML-DSA key import through C_CreateObject is not supported".
        _ => return Err(CKR_TEMPLATE_INCONSISTENT),
    };
    let t = template::key_template(given, key_type, key_class, Making::Create)?;
    if t.token && !session.rw {
        return Err(CKR_SESSION_READ_ONLY);
    }
    let bytes = |ty| -> Result<Vec<u8>> {
        Ok(template::find(given, ty)
            .ok_or(CKR_TEMPLATE_INCOMPLETE)?
            .value
            .clone())
    };
    let secret =
        |ty| -> Result<zeroize::Zeroizing<Vec<u8>>> { Ok(zeroize::Zeroizing::new(bytes(ty)?)) };
    let curve = || -> Result<cloudhsm_sim::hsm::crypto::Curve> {
        let params = bytes(CKA_EC_PARAMS)?;
        attributes::curve_of(&params).ok_or(match params.first() {
            Some(0x06) => CKR_CURVE_NOT_SUPPORTED,
            _ => CKR_ATTRIBUTE_VALUE_INVALID,
        })
    };
    let material = match (key_type, key_class) {
        (KeyType::Rsa, KeyClass::PublicKey) => ImportMaterial::RsaPublic {
            modulus: bytes(CKA_MODULUS)?,
            public_exponent: bytes(CKA_PUBLIC_EXPONENT)?,
        },
        (KeyType::Rsa, _) => ImportMaterial::RsaPrivate {
            modulus: bytes(CKA_MODULUS)?,
            public_exponent: bytes(CKA_PUBLIC_EXPONENT)?,
            private_exponent: secret(CKA_PRIVATE_EXPONENT)?,
            primes: [CKA_PRIME_1, CKA_PRIME_2]
                .into_iter()
                .filter_map(|ty| template::find(given, ty))
                .map(|g| zeroize::Zeroizing::new(g.value.clone()))
                .collect(),
        },
        (KeyType::Ec, KeyClass::PublicKey) => ImportMaterial::EcPublic {
            curve: curve()?,
            point: attributes::point_of(&bytes(CKA_EC_POINT)?),
        },
        (KeyType::Ec, _) => ImportMaterial::EcPrivate {
            curve: curve()?,
            secret: secret(CKA_VALUE)?,
        },
        (kt, _) => ImportMaterial::Secret {
            key_type: kt,
            bytes: secret(CKA_VALUE)?,
        },
    };
    let key = slot
        .with_login_mut(module, |c, login| {
            c.import_key(
                login,
                material,
                &t.label,
                &t.assignments,
                t.token,
                Setting::Template,
            )
        })
        .map_err(|e| match e {
            // Material the cluster cannot take (a point off the curve, a wrong length).
            crate::state::LoginFailure::Hsm(cloudhsm_sim::hsm::HsmError::Key(
                cloudhsm_sim::hsm::key::KeyError::Crypto(_),
            )) => CKR_ATTRIBUTE_VALUE_INVALID,
            // A DES3 key on a FIPS-mode cluster: the CKA_KEY_TYPE it cannot hold.
            crate::state::LoginFailure::Hsm(cloudhsm_sim::hsm::HsmError::Key(
                cloudhsm_sim::hsm::key::KeyError::Des3InFipsMode,
            )) => CKR_ATTRIBUTE_VALUE_INVALID,
            e => e.rv(),
        })?;
    handles(module, slot, session.slot, owner, &[key])
        .pop()
        .ok_or(CKR_GENERAL_ERROR)
}
