//! `C_WrapKey` and `C_UnwrapKey` over the cluster's own wrap and unwrap (`Cluster::wrap_key`,
//! `Cluster::unwrap_key`, the ones `cloudhsm-cli key wrap|unwrap` use), so that a key wrapped
//! through either front end unwraps through the other, byte for byte. This file reads the
//! mechanism parameters (spec/pkcs11.md §3.4–§3.6), the unwrap template (§4.5) and the
//! nested `CKA_WRAP_TEMPLATE` / `CKA_UNWRAP_TEMPLATE` arrays (§4.8); every key rule
//! (ownership, `extractable`, `wrap`/`unwrap`, trusted keys, the templates) is the cluster's.

use cloudhsm_sim::hsm::crypto::{HashFunction, WrapMechanism};
use cloudhsm_sim::hsm::key::attributes::{AttributeIds, Flag, Kind, Setting, Template};
use cloudhsm_sim::hsm::key::{Assignment, Attribute, Key, KeyClass, KeyType, Term, Value};
use cloudhsm_sim::hsm::{UnwrapRequest, UnwrapTarget};
use cryptoki_sys::*;

use crate::attributes::{self, Cka};
use crate::boundary::{self, Output, Result};
use crate::session::Session;
use crate::state::{Module, Slot};
use crate::template::{self, Given};
use crate::{error, objects};

/// The RFC 3394 default IV, the only explicit IV AWS takes for `_NO_PAD` and `_PKCS5_PAD`
/// (and PKCS#11's `CKM_AES_KEY_WRAP`).
const KW_IV: [u8; 8] = [0xA6; 8];
/// The RFC 5649 alternative IV (its constant half), the explicit IV PKCS#11 allows for
/// `CKM_AES_KEY_WRAP_PAD`.
const KWP_IV: [u8; 4] = [0xA6, 0x59, 0x59, 0xA6];
/// The length of the IV the HSM makes for AES-GCM.
const GCM_IV_LEN: usize = 12;

/// A wrapping mechanism with its parameters read.
pub(crate) struct Wrap {
    mechanism: WrapMechanism,
    /// `CKM_AES_GCM`: the caller's `pIv` (at least 12 bytes), where a wrap writes the IV it
    /// used and an unwrap reads it.
    gcm_iv: Option<*mut CK_BYTE>,
    /// `CKM_RSA_PKCS` (not on FIPS clusters).
    rsa_pkcs: bool,
}

/// The kind of key a mechanism wraps with.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum WrappingKey {
    Aes,
    Rsa,
}

impl Wrap {
    fn wrapping_key(&self) -> WrappingKey {
        match self.mechanism {
            WrapMechanism::RsaAes { .. }
            | WrapMechanism::RsaOaep { .. }
            | WrapMechanism::RsaPkcs => WrappingKey::Rsa,
            _ => WrappingKey::Aes,
        }
    }

    /// Reads `m`: the mechanisms of spec/pkcs11.md §3.6 and their parameters. The standard
    /// `CKM_AES_KEY_WRAP` and `CKM_AES_KEY_WRAP_PAD` are RFC 3394 and RFC 5649 (spec Q10),
    /// the same bytes as `_NO_PAD` and `_ZERO_PAD`.
    ///
    /// # Safety
    /// `m.pParameter` is NULL or points to `m.ulParameterLen` readable bytes, and a
    /// `CK_GCM_PARAMS`'s `pIv` to `ulIvLen` bytes (writable for a wrap).
    pub(crate) unsafe fn parse(m: &CK_MECHANISM) -> Result<Wrap> {
        // SAFETY: forwarded.
        let param = unsafe { boundary::bytes(m.pParameter as *const CK_BYTE, m.ulParameterLen) }?;
        let plain = |mechanism| Wrap {
            mechanism,
            gcm_iv: None,
            rsa_pkcs: false,
        };
        // AWS: "specify an IV that is NULL or 8 bytes long" of the default value (ki-pkcs11-1).
        let iv_rule = |allowed: &[u8]| {
            if param.is_empty() || param == allowed {
                Ok(())
            } else {
                Err(CKR_MECHANISM_PARAM_INVALID)
            }
        };
        Ok(match m.mechanism {
            crate::vendor::CKM_CLOUDHSM_AES_KEY_WRAP_NO_PAD | CKM_AES_KEY_WRAP => {
                iv_rule(&KW_IV)?;
                plain(WrapMechanism::AesNoPad)
            }
            crate::vendor::CKM_CLOUDHSM_AES_KEY_WRAP_PKCS5_PAD => {
                iv_rule(&KW_IV)?;
                plain(WrapMechanism::AesPkcs5Pad)
            }
            crate::vendor::CKM_CLOUDHSM_AES_KEY_WRAP_ZERO_PAD => {
                // "IV calculated internally": no explicit IV at all.
                iv_rule(&[])?;
                plain(WrapMechanism::AesZeroPad)
            }
            CKM_AES_KEY_WRAP_PAD => {
                iv_rule(&KWP_IV)?;
                plain(WrapMechanism::AesZeroPad)
            }
            CKM_AES_GCM | crate::vendor::CKM_CLOUDHSM_AES_GCM => {
                let cloudhsm = m.mechanism != CKM_AES_GCM;
                // SAFETY: forwarded.
                let crate::ciphers::GcmParams {
                    iv,
                    iv_len,
                    aad,
                    tag_bits: tag_length_bits,
                } = unsafe { crate::ciphers::gcm_params(m) }?;
                if cloudhsm {
                    // "The pIV variable in the CK_GCM_PARAMS struct must be set to NULL."
                    if !iv.is_null() {
                        return Err(CKR_MECHANISM_PARAM_INVALID);
                    }
                    plain(WrapMechanism::CloudHsmAesGcm {
                        tag_length_bits,
                        aad,
                    })
                } else {
                    if iv.is_null() || iv_len != GCM_IV_LEN as CK_ULONG {
                        return Err(CKR_MECHANISM_PARAM_INVALID);
                    }
                    Wrap {
                        mechanism: WrapMechanism::AesGcm {
                            tag_length_bits,
                            aad,
                        },
                        gcm_iv: Some(iv),
                        rsa_pkcs: false,
                    }
                }
            }
            CKM_RSA_PKCS_OAEP => {
                // SAFETY: forwarded.
                let (hash, mgf) = unsafe { oaep_hashes(m.pParameter, m.ulParameterLen) }?;
                plain(WrapMechanism::RsaOaep { hash, mgf })
            }
            CKM_RSA_AES_KEY_WRAP => {
                if m.pParameter.is_null()
                    || m.ulParameterLen as usize != size_of::<CK_RSA_AES_KEY_WRAP_PARAMS>()
                {
                    return Err(CKR_MECHANISM_PARAM_INVALID);
                }
                // SAFETY: non-NULL and as long as the structure (checked above); read
                // unaligned, as the caller's memory may be.
                let p = unsafe {
                    std::ptr::read_unaligned(m.pParameter as *const CK_RSA_AES_KEY_WRAP_PARAMS)
                };
                // The HSM's ephemeral key is AES-256, as AWS's sample asks (spec §3.6).
                if p.ulAESKeyBits != 256 {
                    return Err(CKR_MECHANISM_PARAM_INVALID);
                }
                let len = size_of::<CK_RSA_PKCS_OAEP_PARAMS>() as CK_ULONG;
                // SAFETY: `pOAEPParams` is NULL or points to the OAEP parameters (caller).
                let (hash, mgf) = unsafe { oaep_hashes(p.pOAEPParams as *mut _, len) }?;
                plain(WrapMechanism::RsaAes { hash, mgf })
            }
            CKM_RSA_PKCS => {
                if !param.is_empty() {
                    return Err(CKR_MECHANISM_PARAM_INVALID);
                }
                Wrap {
                    rsa_pkcs: true,
                    ..plain(WrapMechanism::RsaPkcs)
                }
            }
            _ => return Err(CKR_MECHANISM_INVALID),
        })
    }
}

/// The OAEP parameters of a wrap: the hash and its MGF1, which must be the same, with no
/// label (a wrapped key has none).
///
/// # Safety
/// `p` is NULL or points to `len` readable bytes.
unsafe fn oaep_hashes(
    p: *const std::ffi::c_void,
    len: CK_ULONG,
) -> Result<(HashFunction, HashFunction)> {
    // SAFETY: forwarded.
    let o = unsafe { crate::ciphers::oaep_params(p, len) }?;
    if !o.label.is_empty() || o.hash != o.mgf {
        return Err(CKR_MECHANISM_PARAM_INVALID);
    }
    Ok((o.hash, o.mgf))
}

/// The key behind `handle`, with `invalid` when there is none the login sees.
fn key_or(
    module: &Module,
    slot: &Slot,
    index: usize,
    handle: CK_OBJECT_HANDLE,
    invalid: CK_RV,
) -> Result<Key> {
    objects::key(module, slot, index, handle).map_err(|rv| match rv {
        CKR_OBJECT_HANDLE_INVALID => invalid,
        other => other,
    })
}

/// Whether `key` is the kind `w` wraps (`public`: a wrap) or unwraps with.
fn fits(w: &Wrap, key: &Key, public: bool) -> bool {
    match w.wrapping_key() {
        WrappingKey::Aes => key.key_type == KeyType::Aes,
        WrappingKey::Rsa => {
            let class = if public {
                KeyClass::PublicKey
            } else {
                KeyClass::PrivateKey
            };
            key.key_type == KeyType::Rsa && key.class == class
        }
    }
}

/// `CKM_RSA_PKCS` wraps only on non-FIPS clusters ("disallowed for clusters in FIPS mode
/// after 2023", spec §3.2; Q14: `CKR_MECHANISM_INVALID`).
fn check_mode(module: &Module, slot: &Slot, w: &Wrap) -> Result<()> {
    if w.rsa_pkcs {
        let fips = slot
            .with_cluster(module, |c| Ok(c.settings().fips))
            .map_err(|e| error::rv(&e))?;
        if fips {
            return Err(CKR_MECHANISM_INVALID);
        }
    }
    Ok(())
}

/// `C_WrapKey`. A length query (NULL buffer) wraps to learn the length and leaves the
/// caller's GCM `pIv` alone; the call that delivers the bytes wraps again and writes the IV
/// of those bytes (spec §3.4: "the one in pIv after the real call must match the blob").
pub(crate) fn wrap(
    module: &Module,
    slot: &Slot,
    session: &Session,
    w: &Wrap,
    wrapping: CK_OBJECT_HANDLE,
    target: CK_OBJECT_HANDLE,
    out: &Output,
) -> Result<()> {
    if !slot.logged_in() {
        return Err(CKR_USER_NOT_LOGGED_IN);
    }
    let index = session.slot;
    let wrapping_key = key_or(
        module,
        slot,
        index,
        wrapping,
        CKR_WRAPPING_KEY_HANDLE_INVALID,
    )?;
    let target_key = key_or(module, slot, index, target, CKR_KEY_HANDLE_INVALID)?;
    if !fits(w, &wrapping_key, true) {
        return Err(CKR_WRAPPING_KEY_TYPE_INCONSISTENT);
    }
    if target_key.class == KeyClass::PublicKey {
        // Public keys are no wrap targets (spec §3.6).
        return Err(CKR_KEY_NOT_WRAPPABLE);
    }
    check_mode(module, slot, w)?;
    let payload = [Term::Reference(target_key.reference)];
    let with = [Term::Reference(wrapping_key.reference)];
    let (_, _, wrapped) = slot
        .with_login(module, |c, login| {
            c.wrap_key(
                login,
                &payload,
                &with,
                &w.mechanism,
                &module.entropy,
                (None, None),
            )
        })
        .map_err(|e| e.rv())?;
    if out.put(&wrapped.data)? {
        if let (Some(p), Some(iv)) = (w.gcm_iv, wrapped.iv.as_deref()) {
            // SAFETY: `pIv` holds `ulIvLen` = 12 writable bytes (checked at parse; the
            // caller's contract), and the HSM's IV is 12 bytes.
            unsafe { std::ptr::copy_nonoverlapping(iv.as_ptr(), p, iv.len().min(GCM_IV_LEN)) };
        }
    }
    Ok(())
}

/// `C_UnwrapKey`: a new key of the template's class and type from `data`, with the
/// template's attributes and the unwrapping key's unwrap template (spec §4.5, §4.8).
pub(crate) fn unwrap(
    module: &Module,
    slot: &Slot,
    session: &Session,
    owner: CK_SESSION_HANDLE,
    w: &Wrap,
    unwrapping: CK_OBJECT_HANDLE,
    data: &[u8],
    given: &[Given],
) -> Result<CK_OBJECT_HANDLE> {
    if !slot.logged_in() {
        return Err(CKR_USER_NOT_LOGGED_IN);
    }
    let index = session.slot;
    let unwrapping_key = key_or(
        module,
        slot,
        index,
        unwrapping,
        CKR_UNWRAPPING_KEY_HANDLE_INVALID,
    )?;
    if !fits(w, &unwrapping_key, false) {
        return Err(CKR_UNWRAPPING_KEY_TYPE_INCONSISTENT);
    }
    check_mode(module, slot, w)?;
    let t = unwrap_template(given)?;
    let token = t.token.unwrap_or(false)
        || unwrapping_key
            .attrs
            .unwrap_template
            .entries()
            .iter()
            .any(|e| matches!(e, (Attribute::Flag(Flag::Token), Value::Bool(true))));
    if token && !session.rw {
        return Err(CKR_SESSION_READ_ONLY);
    }
    let iv = w.gcm_iv.map(|p| {
        // SAFETY: `pIv` holds `ulIvLen` = 12 readable bytes (checked at parse).
        unsafe { std::slice::from_raw_parts(p as *const u8, GCM_IV_LEN) }
    });
    let mut attributes = t.assignments;
    if let Some(token) = t.token {
        attributes.push(Assignment::Flag(Flag::Token, token));
    }
    let req = UnwrapRequest {
        target: t.target,
        label: t.label,
        attributes,
        share_with: Vec::new(),
        manage_quorum: None,
        use_quorum: None,
        token: false,
        setting: Setting::Template,
    };
    let terms = [Term::Reference(unwrapping_key.reference)];
    let key = slot
        .with_login_mut(module, |c, login| {
            c.unwrap_key(login, &terms, &w.mechanism, data, iv, &req, None)
        })
        .map_err(|e| e.rv())?;
    if !key.attrs.flags.token {
        slot.own_session_object(key.reference, owner);
    }
    Ok(module.handle_of(index, key.reference))
}

/// What `C_UnwrapKey`'s template asks for.
struct UnwrapTemplate {
    target: UnwrapTarget,
    label: String,
    token: Option<bool>,
    assignments: Vec<Assignment>,
}

/// What an unwrap template takes for each kind of key (spec §4.5), columns EC private, RSA
/// private, AES, DES3, generic secret: `Y` taken, `R` read-only, `1` only its default, `N`
/// not taken (a flag is still accepted at false, its default).
fn unwrap_support(ty: CK_ATTRIBUTE_TYPE, column: usize) -> u8 {
    let row: &[u8; 5] = match ty {
        CKA_CLASS | CKA_KEY_TYPE | CKA_LABEL | CKA_ID | CKA_TOKEN => b"YYYYY",
        CKA_LOCAL | CKA_NEVER_EXTRACTABLE | CKA_ALWAYS_SENSITIVE | CKA_CHECK_VALUE => b"RRRRR",
        CKA_PRIVATE => b"11111",
        CKA_ENCRYPT | CKA_WRAP => b"NNYYN",
        CKA_DECRYPT | CKA_UNWRAP => b"NYYYN",
        CKA_DERIVE | CKA_SIGN => b"YYYYY",
        CKA_VERIFY => b"NNYYY",
        CKA_MODIFIABLE | CKA_DESTROYABLE | CKA_SENSITIVE | CKA_EXTRACTABLE => b"YYYYY",
        _ => b"NNNNN",
    };
    row.get(column).copied().unwrap_or(b'N')
}

fn unwrap_template(given: &[Given]) -> Result<UnwrapTemplate> {
    let class = template::find(given, CKA_CLASS).ok_or(CKR_TEMPLATE_INCOMPLETE)?;
    let key_type = template::find(given, CKA_KEY_TYPE).ok_or(CKR_TEMPLATE_INCOMPLETE)?;
    let (target, column) = match (template::ulong_of(class)?, template::ulong_of(key_type)?) {
        (CKO_PRIVATE_KEY, CKK_EC) => (UnwrapTarget::EcPrivate, 0),
        (CKO_PRIVATE_KEY, CKK_RSA) => (UnwrapTarget::RsaPrivate, 1),
        (CKO_SECRET_KEY, CKK_AES) => (UnwrapTarget::Aes, 2),
        (CKO_SECRET_KEY, CKK_DES3) => (UnwrapTarget::Des3, 3),
        (CKO_SECRET_KEY, CKK_GENERIC_SECRET) => (UnwrapTarget::GenericSecret, 4),
        // Public keys cannot be unwrapped; other classes and types are no keys of CloudHSM.
        _ => return Err(CKR_TEMPLATE_INCONSISTENT),
    };
    let mut out = UnwrapTemplate {
        target,
        label: String::new(),
        token: None,
        assignments: Vec::new(),
    };
    for g in given {
        if !attributes::is_key_attribute(g.ty) {
            return Err(CKR_ATTRIBUTE_TYPE_INVALID);
        }
        match unwrap_support(g.ty, column) {
            b'Y' | b'1' => {}
            b'R' => return Err(CKR_ATTRIBUTE_READ_ONLY),
            _ if is_flag(g.ty) && !template::bool_of(g)? => continue,
            _ => return Err(CKR_TEMPLATE_INCONSISTENT),
        }
        match g.ty {
            CKA_CLASS | CKA_KEY_TYPE => {}
            CKA_TOKEN => out.token = Some(template::bool_of(g)?),
            CKA_LABEL => {
                out.label =
                    String::from_utf8(g.value.clone()).map_err(|_| CKR_ATTRIBUTE_VALUE_INVALID)?;
            }
            CKA_ID => out.assignments.push(Assignment::Id(g.value.clone())),
            CKA_PRIVATE => {
                if !template::bool_of(g)? {
                    return Err(CKR_ATTRIBUTE_VALUE_INVALID);
                }
            }
            ty => match Cka::attribute(ty) {
                Some(Attribute::Flag(flag)) => {
                    out.assignments
                        .push(Assignment::Flag(flag, template::bool_of(g)?));
                }
                _ => return Err(CKR_TEMPLATE_INCONSISTENT),
            },
        }
    }
    Ok(out)
}

fn is_flag(ty: CK_ATTRIBUTE_TYPE) -> bool {
    matches!(Cka::attribute(ty), Some(Attribute::Flag(f)) if f != Flag::Token)
}

/// Whether `ty` holds an array of attributes.
pub(crate) fn is_template(ty: CK_ATTRIBUTE_TYPE) -> bool {
    matches!(ty, CKA_WRAP_TEMPLATE | CKA_UNWRAP_TEMPLATE)
}

/// A `CKA_WRAP_TEMPLATE` / `CKA_UNWRAP_TEMPLATE` given at creation (its array already
/// deep-copied by `template::read`) as the cluster's template.
pub(crate) fn template_assignment(g: &Given) -> Result<Assignment> {
    let mut entries = Vec::with_capacity(g.nested.len());
    for e in &g.nested {
        let attribute = match Cka::attribute(e.ty) {
            // The EC point's PKCS#11 form (a DER OCTET STRING) is not the stored one.
            Some(Attribute::EcPoint) | Some(Attribute::MlDsaAlgorithm) | None => {
                return Err(if attributes::is_key_attribute(e.ty) {
                    CKR_TEMPLATE_INCONSISTENT
                } else {
                    CKR_ATTRIBUTE_TYPE_INVALID
                })
            }
            Some(a) => a,
        };
        let value = match attribute.kind() {
            Kind::Bool => Value::Bool(template::bool_of(e)?),
            Kind::Text => Value::Text(
                String::from_utf8(e.value.clone()).map_err(|_| CKR_ATTRIBUTE_VALUE_INVALID)?,
            ),
            Kind::Bytes | Kind::Number => Value::Bytes(e.value.clone()),
            Kind::Integer => Value::Integer(template::ulong_of(e)? as u64),
            Kind::KeyType => Value::KeyType(
                attributes::key_type_of(template::ulong_of(e)?)
                    .ok_or(CKR_ATTRIBUTE_VALUE_INVALID)?,
            ),
            Kind::Class => Value::Class(
                attributes::class_of(template::ulong_of(e)?).ok_or(CKR_ATTRIBUTE_VALUE_INVALID)?,
            ),
            Kind::Curve => {
                Value::Curve(attributes::curve_of(&e.value).ok_or(CKR_ATTRIBUTE_VALUE_INVALID)?)
            }
            Kind::MlDsaAlgorithm => return Err(CKR_TEMPLATE_INCONSISTENT),
        };
        // Only an admin trusts a key, with the CLI (spec Q17), through a template too.
        if attribute == Attribute::Flag(Flag::Trusted) && value == Value::Bool(true) {
            return Err(CKR_ATTRIBUTE_VALUE_INVALID);
        }
        entries.push((attribute, value));
    }
    let template = Template::new(entries).map_err(|_| CKR_ATTRIBUTE_VALUE_INVALID)?;
    Ok(match g.ty {
        CKA_WRAP_TEMPLATE => Assignment::WrapTemplate(template),
        _ => Assignment::UnwrapTemplate(template),
    })
}

/// The stored template `ty` of `key` (`CKA_WRAP_TEMPLATE` or `CKA_UNWRAP_TEMPLATE`).
pub(crate) fn stored(key: &Key, ty: CK_ATTRIBUTE_TYPE) -> &Template {
    if ty == CKA_WRAP_TEMPLATE {
        &key.attrs.wrap_template
    } else {
        &key.attrs.unwrap_template
    }
}

/// Writes a template into the caller's attribute `a` by PKCS#11's rule for attribute arrays:
/// a NULL `pValue` asks for the array's size (entries × `sizeof(CK_ATTRIBUTE)`); otherwise
/// `pValue` holds that many attributes whose `type` is set here and whose values go out by
/// the buffer protocol, each a NULL `pValue` asking its length.
///
/// # Safety
/// `a.pValue` is NULL or holds `a.ulValueLen` writable bytes; each entry's `pValue` is NULL
/// or holds its `ulValueLen` writable bytes.
pub(crate) unsafe fn put_template(a: &mut CK_ATTRIBUTE, template: &Template) -> Result<()> {
    let entries = template.entries();
    let size = (entries.len() * size_of::<CK_ATTRIBUTE>()) as CK_ULONG;
    if a.pValue.is_null() {
        a.ulValueLen = size;
        return Ok(());
    }
    if a.ulValueLen < size {
        a.ulValueLen = CK_UNAVAILABLE_INFORMATION;
        return Err(CKR_BUFFER_TOO_SMALL);
    }
    if !(a.pValue as usize).is_multiple_of(align_of::<CK_ATTRIBUTE>()) {
        return Err(CKR_ARGUMENTS_BAD);
    }
    // SAFETY: `pValue` holds `ulValueLen >= size` bytes (caller), aligned (checked above).
    let inner =
        unsafe { boundary::array(a.pValue as *mut CK_ATTRIBUTE, entries.len() as CK_ULONG) }?;
    let mut result = Ok(());
    for (slot, (attribute, value)) in inner.iter_mut().zip(entries) {
        slot.type_ = Cka::id(*attribute).unwrap_or(CKA_VENDOR_DEFINED);
        let bytes = attributes::encode(value);
        let len = bytes.len() as CK_ULONG;
        if slot.pValue.is_null() {
            slot.ulValueLen = len;
        } else if slot.ulValueLen >= len {
            // SAFETY: the entry's `pValue` holds `ulValueLen >= len` writable bytes (caller).
            unsafe {
                std::ptr::copy_nonoverlapping(bytes.as_ptr(), slot.pValue as *mut u8, bytes.len())
            };
            slot.ulValueLen = len;
        } else {
            slot.ulValueLen = CK_UNAVAILABLE_INFORMATION;
            result = Err(CKR_BUFFER_TOO_SMALL);
        }
    }
    a.ulValueLen = size;
    result
}
