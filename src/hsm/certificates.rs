//! Certificate objects: the X.509 certificates an hsm2m.medium cluster stores for the
//! PKCS#11 library's certificate storage (`configure-pkcs11 --enable-certificate-storage`).
//!
//! Certificates are public objects: anyone connected to the cluster reads them, logged in or
//! not; any crypto user creates, changes and destroys them. Their references come from the
//! key reference counter, so that a reference names one object of either kind.

use sha1::{Digest, Sha1};

use super::model::HsmType;
use super::policy::OperationClass;
use super::{Cluster, HsmError, Login};
use crate::store::certificates::{self as rows, CertificateRecord};
use crate::store::records;

/// Longest `CKA_LABEL` of a certificate, in characters.
pub const MAX_CERTIFICATE_LABEL: usize = 127;
/// Longest `CKA_ID` of a certificate, in bytes.
pub const MAX_CERTIFICATE_ID: usize = 128;
/// Largest `CKA_PUBLIC_KEY_INFO` of a certificate, in bytes.
pub const MAX_PUBLIC_KEY_INFO: usize = 16 * 1024;
/// Largest `CKA_VALUE` (the DER certificate), in bytes.
pub const MAX_CERTIFICATE_VALUE: usize = 32 * 1024;

/// Why a certificate was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CertificateError {
    #[error("Certificate storage needs an hsm2m.medium cluster")]
    NeedsHsm2m,
    #[error("Certificate attribute {attribute} is required")]
    Missing { attribute: &'static str },
    #[error("Certificate attribute {attribute} is too long: at most {max} {unit}")]
    TooLong {
        attribute: &'static str,
        max: usize,
        unit: &'static str,
    },
    #[error("Certificate label must be UTF-8 text")]
    LabelNotText,
    #[error("Certificate not found")]
    NotFound,
}

/// An attribute of a certificate a caller gives (the others are fixed or derived).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CertificateField {
    Label,
    Id,
    Subject,
    Issuer,
    SerialNumber,
    StartDate,
    EndDate,
    PublicKeyInfo,
    Value,
}

/// The attributes of a certificate a caller gives.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CertificateAttributes {
    pub label: String,
    pub id: Vec<u8>,
    pub subject: Vec<u8>,
    pub issuer: Vec<u8>,
    pub serial_number: Vec<u8>,
    pub start_date: Vec<u8>,
    pub end_date: Vec<u8>,
    pub public_key_info: Vec<u8>,
    pub value: Vec<u8>,
}

impl CertificateAttributes {
    /// Sets `field` to `bytes`, checking its own limit.
    pub fn set(&mut self, field: CertificateField, bytes: &[u8]) -> Result<(), CertificateError> {
        let too_long = |attribute, max, unit| CertificateError::TooLong {
            attribute,
            max,
            unit,
        };
        match field {
            CertificateField::Label => {
                let label =
                    std::str::from_utf8(bytes).map_err(|_| CertificateError::LabelNotText)?;
                if label.chars().count() > MAX_CERTIFICATE_LABEL {
                    return Err(too_long("CKA_LABEL", MAX_CERTIFICATE_LABEL, "characters"));
                }
                self.label = label.to_owned();
            }
            CertificateField::Id if bytes.len() > MAX_CERTIFICATE_ID => {
                return Err(too_long("CKA_ID", MAX_CERTIFICATE_ID, "bytes"))
            }
            CertificateField::PublicKeyInfo if bytes.len() > MAX_PUBLIC_KEY_INFO => {
                return Err(too_long(
                    "CKA_PUBLIC_KEY_INFO",
                    MAX_PUBLIC_KEY_INFO,
                    "bytes",
                ))
            }
            CertificateField::Value if bytes.len() > MAX_CERTIFICATE_VALUE => {
                return Err(too_long("CKA_VALUE", MAX_CERTIFICATE_VALUE, "bytes"))
            }
            CertificateField::Id => self.id = bytes.to_vec(),
            CertificateField::Subject => self.subject = bytes.to_vec(),
            CertificateField::Issuer => self.issuer = bytes.to_vec(),
            CertificateField::SerialNumber => self.serial_number = bytes.to_vec(),
            CertificateField::StartDate => self.start_date = bytes.to_vec(),
            CertificateField::EndDate => self.end_date = bytes.to_vec(),
            CertificateField::PublicKeyInfo => self.public_key_info = bytes.to_vec(),
            CertificateField::Value => self.value = bytes.to_vec(),
        }
        Ok(())
    }

    /// The attributes a certificate must have: a subject and a value.
    fn check_complete(&self) -> Result<(), CertificateError> {
        if self.subject.is_empty() {
            return Err(CertificateError::Missing {
                attribute: "CKA_SUBJECT",
            });
        }
        if self.value.is_empty() {
            return Err(CertificateError::Missing {
                attribute: "CKA_VALUE",
            });
        }
        Ok(())
    }
}

/// A stored certificate.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Certificate {
    pub reference: u64,
    pub attrs: CertificateAttributes,
}

impl Certificate {
    /// `CKA_CHECK_VALUE`: the first three bytes of the SHA-1 of the value.
    pub fn check_value(&self) -> Vec<u8> {
        Sha1::digest(&self.attrs.value)[..3].to_vec()
    }

    fn from_record(r: CertificateRecord) -> Certificate {
        Certificate {
            reference: u64::try_from(r.reference).unwrap_or(0),
            attrs: CertificateAttributes {
                label: r.label,
                id: r.id,
                subject: r.subject,
                issuer: r.issuer,
                serial_number: r.serial_number,
                start_date: r.start_date,
                end_date: r.end_date,
                public_key_info: r.public_key_info,
                value: r.value,
            },
        }
    }
}

fn record(reference: i64, creator: &str, a: &CertificateAttributes) -> CertificateRecord {
    CertificateRecord {
        reference,
        creator: creator.to_owned(),
        label: a.label.clone(),
        id: a.id.clone(),
        subject: a.subject.clone(),
        issuer: a.issuer.clone(),
        serial_number: a.serial_number.clone(),
        start_date: a.start_date.clone(),
        end_date: a.end_date.clone(),
        public_key_info: a.public_key_info.clone(),
        value: a.value.clone(),
    }
}

fn signed(reference: u64) -> i64 {
    i64::try_from(reference).unwrap_or(i64::MAX)
}

impl Cluster {
    /// Whether this cluster stores certificates (hsm2m.medium only).
    pub fn stores_certificates(&self) -> bool {
        self.settings.hsm_type == HsmType::Hsm2mMedium
    }

    fn require_certificate_storage(&self) -> Result<(), HsmError> {
        if self.stores_certificates() {
            Ok(())
        } else {
            Err(CertificateError::NeedsHsm2m.into())
        }
    }

    /// Stores a new certificate, made by a crypto user.
    pub fn create_certificate(
        &mut self,
        login: &Login,
        attrs: CertificateAttributes,
    ) -> Result<Certificate, HsmError> {
        self.guard(login, OperationClass::KeyManagement)?;
        self.require_certificate_storage()?;
        attrs.check_complete()?;
        let creator = login.username().as_str().to_owned();
        let reference = self.store.write(|tx| {
            let reference = records::allocate_references(tx, 1)?;
            rows::put_certificate(tx, &record(reference, &creator, &attrs))?;
            Ok::<_, HsmError>(reference)
        })?;
        Ok(Certificate {
            reference: u64::try_from(reference).unwrap_or(0),
            attrs,
        })
    }

    /// Every certificate of the cluster (none on a cluster that stores none). Certificates
    /// are public: no login is needed.
    pub fn certificates(&mut self) -> Result<Vec<Certificate>, HsmError> {
        if !self.stores_certificates() {
            return Ok(Vec::new());
        }
        self.require_available()?;
        let rows = self
            .store
            .read(|tx| Ok::<_, HsmError>(rows::certificates(tx)?))?;
        Ok(rows.into_iter().map(Certificate::from_record).collect())
    }

    /// The certificate `reference`, if there is one.
    pub fn certificate(&mut self, reference: u64) -> Result<Option<Certificate>, HsmError> {
        if !self.stores_certificates() {
            return Ok(None);
        }
        let row = self
            .store
            .read(|tx| Ok::<_, HsmError>(rows::certificate(tx, signed(reference))?))?;
        Ok(row.map(Certificate::from_record))
    }

    /// Changes attributes of the certificate `reference` (a crypto user's), all or none.
    pub fn update_certificate(
        &mut self,
        login: &Login,
        reference: u64,
        changes: &[(CertificateField, Vec<u8>)],
    ) -> Result<Certificate, HsmError> {
        self.guard(login, OperationClass::KeyManagement)?;
        self.require_certificate_storage()?;
        self.store.write(|tx| {
            let row =
                rows::certificate(tx, signed(reference))?.ok_or(CertificateError::NotFound)?;
            let creator = row.creator.clone();
            let mut cert = Certificate::from_record(row);
            for (field, bytes) in changes {
                cert.attrs.set(*field, bytes)?;
            }
            cert.attrs.check_complete()?;
            rows::put_certificate(tx, &record(signed(reference), &creator, &cert.attrs))?;
            Ok::<_, HsmError>(cert)
        })
    }

    /// Destroys the certificate `reference` (a crypto user's).
    pub fn delete_certificate(&mut self, login: &Login, reference: u64) -> Result<(), HsmError> {
        self.guard(login, OperationClass::KeyManagement)?;
        self.require_certificate_storage()?;
        self.store.write(|tx| {
            if rows::delete_certificate(tx, signed(reference))? {
                Ok(())
            } else {
                Err(HsmError::from(CertificateError::NotFound))
            }
        })
    }
}
