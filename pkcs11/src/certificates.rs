//! Certificate objects (`CKO_CERTIFICATE`, X.509), with `configure-pkcs11
//! --enable-certificate-storage` on an hsm2m.medium cluster (spec/pkcs11.md §4.9). The
//! cluster keeps them and their rules (`hsm::Certificate`); here are the template rules of
//! the attributes whose value is fixed, and the attributes' encodings.

use cloudhsm_sim::hsm::{Certificate, CertificateAttributes, CertificateField};
use cryptoki_sys::*;

use crate::attributes::{self, Readout};
use crate::boundary::Result;
use crate::error::rv;
use crate::session::Session;
use crate::state::{Module, Slot};
use crate::template::{self, Given};

/// Whether the module serves certificates (`configure-pkcs11 --enable-certificate-storage`).
pub(crate) fn enabled(module: &Module) -> bool {
    module.config.certificate_storage
}

/// The attribute a caller gives, or `None` for one whose value is fixed or derived.
fn field(ty: CK_ATTRIBUTE_TYPE) -> Option<CertificateField> {
    Some(match ty {
        CKA_LABEL => CertificateField::Label,
        CKA_ID => CertificateField::Id,
        CKA_SUBJECT => CertificateField::Subject,
        CKA_ISSUER => CertificateField::Issuer,
        CKA_SERIAL_NUMBER => CertificateField::SerialNumber,
        CKA_START_DATE => CertificateField::StartDate,
        CKA_END_DATE => CertificateField::EndDate,
        CKA_PUBLIC_KEY_INFO => CertificateField::PublicKeyInfo,
        CKA_VALUE => CertificateField::Value,
        _ => return None,
    })
}

/// The value a fixed attribute must have (spec §4.9: "must be True/False/that").
fn fixed(ty: CK_ATTRIBUTE_TYPE) -> Option<Vec<u8>> {
    let yes = |b: bool| vec![CK_BBOOL::from(b)];
    Some(match ty {
        CKA_CLASS => attributes::ulong(CKO_CERTIFICATE),
        CKA_TOKEN | CKA_MODIFIABLE | CKA_DESTROYABLE => yes(true),
        CKA_PRIVATE | CKA_COPYABLE | CKA_TRUSTED => yes(false),
        CKA_CERTIFICATE_TYPE => attributes::ulong(CKC_X_509),
        CKA_CERTIFICATE_CATEGORY => attributes::ulong(CK_CERTIFICATE_CATEGORY_UNSPECIFIED),
        _ => return None,
    })
}

/// The value of attribute `ty` of `cert` as `C_GetAttributeValue` gives it.
pub(crate) fn read(cert: &Certificate, ty: CK_ATTRIBUTE_TYPE) -> Readout {
    if let Some(v) = fixed(ty) {
        return Readout::Value(v);
    }
    let a = &cert.attrs;
    Readout::Value(match ty {
        CKA_LABEL => a.label.as_bytes().to_vec(),
        CKA_ID => a.id.clone(),
        CKA_SUBJECT => a.subject.clone(),
        CKA_ISSUER => a.issuer.clone(),
        CKA_SERIAL_NUMBER => a.serial_number.clone(),
        CKA_START_DATE => a.start_date.clone(),
        CKA_END_DATE => a.end_date.clone(),
        CKA_PUBLIC_KEY_INFO => a.public_key_info.clone(),
        CKA_VALUE => a.value.clone(),
        CKA_CHECK_VALUE => cert.check_value(),
        _ => return Readout::Invalid,
    })
}

/// Whether `cert` matches every attribute of a `C_FindObjectsInit` template.
pub(crate) fn matches(cert: &Certificate, given: &[Given]) -> bool {
    given
        .iter()
        .all(|g| read(cert, g.ty) == Readout::Value(g.value.clone()))
}

/// Every certificate of the slot's cluster (none with the switch off).
pub(crate) fn all(module: &Module, slot: &Slot) -> Result<Vec<Certificate>> {
    if !enabled(module) {
        return Ok(Vec::new());
    }
    slot.with_cluster(module, |c| c.certificates())
        .map_err(|e| rv(&e))
}

/// The certificate behind `handle`, or `None` when it names a key (or nothing).
pub(crate) fn lookup(
    module: &Module,
    slot: &Slot,
    index: usize,
    handle: CK_OBJECT_HANDLE,
) -> Result<Option<Certificate>> {
    if !enabled(module) {
        return Ok(None);
    }
    let reference = module.object(index, handle)?;
    slot.with_cluster(module, |c| c.certificate(reference))
        .map_err(|e| rv(&e))
}

/// `C_CreateObject` of a `CKO_CERTIFICATE`: a token object, made by the logged-in crypto
/// user in a read-write session.
pub(crate) fn create(
    module: &Module,
    slot: &Slot,
    session: &Session,
    given: &[Given],
) -> Result<CK_OBJECT_HANDLE> {
    if !enabled(module) {
        // Without certificate storage the library knows no certificate class.
        return Err(CKR_ATTRIBUTE_VALUE_INVALID);
    }
    let kind = template::find(given, CKA_CERTIFICATE_TYPE).ok_or(CKR_TEMPLATE_INCOMPLETE)?;
    if template::ulong_of(kind)? != CKC_X_509 {
        return Err(CKR_ATTRIBUTE_VALUE_INVALID);
    }
    let mut attrs = CertificateAttributes::default();
    let mut check_value = None;
    for g in given {
        if let Some(f) = field(g.ty) {
            attrs.set(f, &g.value).map_err(|e| rv(&e.into()))?;
        } else if let Some(v) = fixed(g.ty) {
            if g.value != v {
                return Err(CKR_ATTRIBUTE_VALUE_INVALID);
            }
        } else if g.ty == CKA_CHECK_VALUE {
            check_value = Some(g.value.clone());
        } else {
            return Err(CKR_ATTRIBUTE_TYPE_INVALID);
        }
    }
    if !session.rw {
        return Err(CKR_SESSION_READ_ONLY);
    }
    if let Some(given) = check_value {
        // A check value given must be the one the value has (PKCS#11 §4.6.3).
        let derived = Certificate {
            reference: 0,
            attrs: attrs.clone(),
        }
        .check_value();
        if given != derived {
            return Err(CKR_ATTRIBUTE_VALUE_INVALID);
        }
    }
    let cert = slot
        .with_login(module, |c, login| c.create_certificate(login, attrs))
        .map_err(|e| e.rv())?;
    Ok(module.handle_of(session.slot, cert.reference))
}

/// `C_SetAttributeValue` of a certificate: the attributes a caller gives, in a read-write
/// session; the fixed ones and the value (which the check value derives from) are read-only.
pub(crate) fn set(
    module: &Module,
    slot: &Slot,
    session: &Session,
    cert: &Certificate,
    given: &[Given],
) -> Result<()> {
    let mut changes = Vec::new();
    for g in given {
        match field(g.ty) {
            Some(CertificateField::Value) => return Err(CKR_ATTRIBUTE_READ_ONLY),
            Some(f) => changes.push((f, g.value.clone())),
            None if fixed(g.ty).is_some() || g.ty == CKA_CHECK_VALUE => {
                return Err(CKR_ATTRIBUTE_READ_ONLY)
            }
            None => return Err(CKR_ATTRIBUTE_TYPE_INVALID),
        }
    }
    if !session.rw {
        return Err(CKR_SESSION_READ_ONLY);
    }
    slot.with_login(module, |c, login| {
        c.update_certificate(login, cert.reference, &changes)
    })
    .map(|_| ())
    .map_err(|e| e.rv())
}

/// `C_DestroyObject` of a certificate: a token object, so a read-write session.
pub(crate) fn destroy(
    module: &Module,
    slot: &Slot,
    session: &Session,
    cert: &Certificate,
) -> Result<()> {
    if !session.rw {
        return Err(CKR_SESSION_READ_ONLY);
    }
    slot.with_login(module, |c, login| {
        c.delete_certificate(login, cert.reference)
    })
    .map_err(|e| e.rv())?;
    module.forget(session.slot, cert.reference);
    Ok(())
}

/// `C_GetObjectSize`: the bytes of the certificate's attributes as `C_GetAttributeValue`
/// gives them.
pub(crate) fn size(cert: &Certificate) -> CK_ULONG {
    const TYPES: [CK_ATTRIBUTE_TYPE; 19] = [
        CKA_CLASS,
        CKA_TOKEN,
        CKA_PRIVATE,
        CKA_MODIFIABLE,
        CKA_DESTROYABLE,
        CKA_COPYABLE,
        CKA_TRUSTED,
        CKA_CERTIFICATE_TYPE,
        CKA_CERTIFICATE_CATEGORY,
        CKA_CHECK_VALUE,
        CKA_LABEL,
        CKA_ID,
        CKA_SUBJECT,
        CKA_ISSUER,
        CKA_SERIAL_NUMBER,
        CKA_START_DATE,
        CKA_END_DATE,
        CKA_PUBLIC_KEY_INFO,
        CKA_VALUE,
    ];
    TYPES
        .iter()
        .map(|t| match read(cert, *t) {
            Readout::Value(v) => v.len() as CK_ULONG,
            _ => 0,
        })
        .sum()
}

/// `C_GetAttributeValue` of a certificate: each entry gets its value or length, or
/// `CK_UNAVAILABLE_INFORMATION` with the first failure returned.
///
/// # Safety
/// The template's value pointers are NULL or hold `ulValueLen` writable bytes.
pub(crate) unsafe fn get_attributes(
    cert: &Certificate,
    template: &mut [CK_ATTRIBUTE],
) -> Result<()> {
    let mut result = Ok(());
    for a in template.iter_mut() {
        // SAFETY: the caller's contract for the entry's buffer.
        let put = unsafe { crate::objects::put(a, read(cert, a.type_)) };
        if result.is_ok() {
            result = put;
        }
    }
    result
}
