//! mTLS trust anchors (`cluster mtls register-trust-anchor`): the checks a certificate chain
//! must pass to become an anchor, and whether a client certificate chains to an anchor.
//!
//! Certificates are parsed with RustCrypto's `x509-cert` (the `der`/`spki` family already
//! in the tree) and signatures are verified with `aws-lc-rs`; nothing here decodes DER by
//! hand.

use aws_lc_rs::signature::{self, UnparsedPublicKey, VerificationAlgorithm};
use x509_cert::der::asn1::ObjectIdentifier as Oid;
use x509_cert::der::Encode;
use x509_cert::Certificate;

use super::login::Login;
use super::model::HsmType;
use super::policy::OperationClass;
use super::quorum::{ApprovalFile, Approve, Service};
use super::{Cluster, HsmError};
use crate::store::records;
use crate::store::Tx;

/// At most this many trust anchors ("The maximum number of trust anchors can be registered
/// is two (2)").
pub const MAX_TRUST_ANCHORS: usize = 2;

/// The largest chain a trust anchor may be, in bytes of its PEM file.
pub const MAX_CHAIN_BYTES: usize = 6980;

const RSA: Oid = Oid::new_unwrap("1.2.840.113549.1.1.1");
const EC: Oid = Oid::new_unwrap("1.2.840.10045.2.1");
const P256: Oid = Oid::new_unwrap("1.2.840.10045.3.1.7");
const P384: Oid = Oid::new_unwrap("1.3.132.0.34");
const P521: Oid = Oid::new_unwrap("1.3.132.0.35");
const SHA256_RSA: Oid = Oid::new_unwrap("1.2.840.113549.1.1.11");
const SHA384_RSA: Oid = Oid::new_unwrap("1.2.840.113549.1.1.12");
const SHA512_RSA: Oid = Oid::new_unwrap("1.2.840.113549.1.1.13");
const ECDSA_SHA256: Oid = Oid::new_unwrap("1.2.840.10045.4.3.2");
const ECDSA_SHA384: Oid = Oid::new_unwrap("1.2.840.10045.4.3.3");
const ECDSA_SHA512: Oid = Oid::new_unwrap("1.2.840.10045.4.3.4");

/// Why a trust anchor or a client certificate was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum MtlsError {
    #[error(
        "The trust anchor is {size} bytes; a trust anchor chain is at most {MAX_CHAIN_BYTES} bytes"
    )]
    ChainTooLarge { size: usize },
    #[error("The trust anchor is not a PEM encoded certificate chain: {detail}")]
    NotPem { detail: String },
    #[error("Unsupported trust anchor key {key}: the key of a trust anchor is EC (P-256, P-384, P-521) or RSA (2048, 3072, 4096 bits)")]
    UnsupportedKey { key: String },
    #[error("The trust anchor chain is not in hierarchical order: certificate {index} is not signed by the certificate after it")]
    ChainOrder { index: usize },
    #[error("mTLS is available only on hsm2m.medium clusters; cluster {cluster} is {hsm_type}")]
    Unsupported {
        cluster: String,
        hsm_type: &'static str,
    },
    #[error("The maximum number of trust anchors ({MAX_TRUST_ANCHORS}) is already registered")]
    TooManyAnchors,
    #[error("This trust anchor is already registered with reference {reference}")]
    AnchorExists { reference: String },
    #[error("Invalid certificate reference {value}: use a hexadecimal (0x...) or decimal certificate reference")]
    InvalidReference { value: String },
    #[error("Trust anchor with reference {reference} does not exist")]
    AnchorNotFound { reference: String },
    #[error("Cannot deregister trust anchor {reference}: it is the last trust anchor and the mtls enforcement level is cluster; set the enforcement level to none first")]
    LastAnchorEnforced { reference: String },
    #[error("Only the user admin can set the mtls enforcement level")]
    DefaultAdminOnly,
    #[error("Register a trust anchor before setting the mtls enforcement level")]
    NoTrustAnchor,
    #[error("The mtls enforcement level can only be set over an mTLS connection: configure a client certificate that chains to a registered trust anchor with configure-cli --client-cert-hsm-tls-file and --client-key-hsm-tls-file")]
    NotMtls,
    #[error("Cannot connect to cluster {cluster}: it enforces mTLS and {why}; configure one with configure-cli --client-cert-hsm-tls-file and --client-key-hsm-tls-file")]
    ConnectionRefused { cluster: String, why: String },
}

/// A checked trust anchor: the chain as registered (PEM, hierarchical order).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AnchorChain {
    pub pem: String,
    certificates: Vec<Certificate>,
}

/// The named curve of an EC key.
fn curve_of(spki: &x509_cert::spki::SubjectPublicKeyInfoOwned) -> Option<Oid> {
    spki.algorithm
        .parameters
        .as_ref()
        .and_then(|p| p.decode_as::<Oid>().ok())
}

/// The accepted key of a certificate, or why it is not accepted.
fn accepted_key(cert: &Certificate) -> Result<(), MtlsError> {
    let spki = cert.tbs_certificate().subject_public_key_info();
    let algorithm = spki.algorithm.oid;
    if algorithm == EC {
        let curve = curve_of(spki);
        return match curve {
            Some(c) if c == P256 || c == P384 || c == P521 => Ok(()),
            Some(c) => Err(MtlsError::UnsupportedKey {
                key: format!("EC curve {c}"),
            }),
            None => Err(MtlsError::UnsupportedKey {
                key: "EC without a named curve".into(),
            }),
        };
    }
    if algorithm == RSA {
        use rsa::pkcs1::DecodeRsaPublicKey;
        use rsa::traits::PublicKeyParts;
        let bits = spki
            .subject_public_key
            .as_bytes()
            .and_then(|der| rsa::PublicKey::from_pkcs1_der(der).ok())
            .map(|k| k.size() * 8)
            .ok_or_else(|| MtlsError::UnsupportedKey {
                key: "RSA (unreadable)".into(),
            })?;
        return match bits {
            2048 | 3072 | 4096 => Ok(()),
            _ => Err(MtlsError::UnsupportedKey {
                key: format!("RSA {bits}"),
            }),
        };
    }
    Err(MtlsError::UnsupportedKey {
        key: algorithm.to_string(),
    })
}

/// The verification algorithm for a signature of `signature_oid` by a key of `issuer`.
fn verification(
    issuer: &Certificate,
    signature_oid: Oid,
) -> Option<&'static dyn VerificationAlgorithm> {
    let spki = issuer.tbs_certificate().subject_public_key_info();
    if spki.algorithm.oid == RSA {
        return Some(match signature_oid {
            o if o == SHA256_RSA => &signature::RSA_PKCS1_2048_8192_SHA256,
            o if o == SHA384_RSA => &signature::RSA_PKCS1_2048_8192_SHA384,
            o if o == SHA512_RSA => &signature::RSA_PKCS1_2048_8192_SHA512,
            _ => return None,
        });
    }
    let curve = curve_of(spki)?;
    Some(match (curve, signature_oid) {
        (c, s) if c == P256 && s == ECDSA_SHA256 => &signature::ECDSA_P256_SHA256_ASN1,
        (c, s) if c == P256 && s == ECDSA_SHA384 => &signature::ECDSA_P256_SHA384_ASN1,
        (c, s) if c == P384 && s == ECDSA_SHA256 => &signature::ECDSA_P384_SHA256_ASN1,
        (c, s) if c == P384 && s == ECDSA_SHA384 => &signature::ECDSA_P384_SHA384_ASN1,
        (c, s) if c == P521 && s == ECDSA_SHA256 => &signature::ECDSA_P521_SHA256_ASN1,
        (c, s) if c == P521 && s == ECDSA_SHA384 => &signature::ECDSA_P521_SHA384_ASN1,
        (c, s) if c == P521 && s == ECDSA_SHA512 => &signature::ECDSA_P521_SHA512_ASN1,
        _ => return None,
    })
}

/// Whether `cert` names `issuer` as its issuer and carries a valid signature by its key.
fn signed_by(cert: &Certificate, issuer: &Certificate) -> bool {
    if cert.tbs_certificate().issuer() != issuer.tbs_certificate().subject() {
        return false;
    }
    let Some(algorithm) = verification(issuer, cert.signature_algorithm().oid) else {
        return false;
    };
    let (Ok(tbs), Some(sig), Some(key)) = (
        cert.tbs_certificate().to_der(),
        cert.signature().as_bytes(),
        issuer
            .tbs_certificate()
            .subject_public_key_info()
            .subject_public_key
            .as_bytes(),
    ) else {
        return false;
    };
    UnparsedPublicKey::new(algorithm, key)
        .verify(&tbs, sig)
        .is_ok()
}

fn parse_chain(pem: &[u8]) -> Result<Vec<Certificate>, MtlsError> {
    let chain = Certificate::load_pem_chain(pem).map_err(|e| MtlsError::NotPem {
        detail: e.to_string(),
    })?;
    if chain.is_empty() {
        return Err(MtlsError::NotPem {
            detail: "no certificate".into(),
        });
    }
    Ok(chain)
}

impl AnchorChain {
    /// Checks the contents of a trust anchor file: at most [`MAX_CHAIN_BYTES`], a PEM chain in
    /// hierarchical order (each certificate signed by the next one), every key an accepted
    /// one.
    pub fn parse(pem: &[u8]) -> Result<AnchorChain, MtlsError> {
        if pem.len() > MAX_CHAIN_BYTES {
            return Err(MtlsError::ChainTooLarge { size: pem.len() });
        }
        let certificates = parse_chain(pem)?;
        for cert in &certificates {
            accepted_key(cert)?;
        }
        for (index, pair) in certificates.windows(2).enumerate() {
            if !signed_by(&pair[0], &pair[1]) {
                return Err(MtlsError::ChainOrder { index: index + 1 });
            }
        }
        Ok(AnchorChain {
            pem: String::from_utf8_lossy(pem).into_owned(),
            certificates,
        })
    }

    /// Whether the client certificate chain `client` (PEM: the client certificate first,
    /// then any intermediates) chains to this anchor: some certificate of the client's
    /// chain is signed by, or is, a certificate of the anchor, and each certificate of the
    /// client's chain up to it is signed by the next.
    pub fn admits(&self, client: &[u8]) -> bool {
        let Ok(chain) = parse_chain(client) else {
            return false;
        };
        for (i, cert) in chain.iter().enumerate() {
            if i > 0 && !signed_by(&chain[i - 1], cert) {
                return false;
            }
            if self
                .certificates
                .iter()
                .any(|anchor| anchor == cert || signed_by(cert, anchor))
            {
                return true;
            }
        }
        false
    }
}

/// Parses `--certificate-reference`: `0x` and hexadecimal digits, or decimal.
pub fn parse_certificate_reference(value: &str) -> Result<u64, MtlsError> {
    let v = value.trim();
    let parsed = match v.strip_prefix("0x").or_else(|| v.strip_prefix("0X")) {
        Some(hex) => u64::from_str_radix(hex, 16),
        None => v.parse::<u64>(),
    };
    parsed.map_err(|_| MtlsError::InvalidReference {
        value: value.to_string(),
    })
}

/// The mtls enforcement level of a cluster.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Enforcement {
    None,
    Cluster,
}

impl Enforcement {
    /// As `get-enforcement` prints it.
    pub fn as_str(self) -> &'static str {
        match self {
            Enforcement::None => "none",
            Enforcement::Cluster => "cluster",
        }
    }

    /// As `set-enforcement` says it (`Mtls enforcement level set to Cluster successfully`).
    pub fn title(self) -> &'static str {
        match self {
            Enforcement::None => "None",
            Enforcement::Cluster => "Cluster",
        }
    }
}

/// A registered trust anchor as `list-trust-anchors` shows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TrustAnchor {
    /// 1 or 2.
    pub reference: u64,
    /// The chain as registered (PEM).
    pub certificate: String,
}

impl TrustAnchor {
    /// `0x01`.
    pub fn reference_hex(&self) -> String {
        format!("0x{:02x}", self.reference)
    }
}

/// The client certificate and key files of the CLI configuration.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ClientTls {
    pub certificate: Option<std::path::PathBuf>,
    pub key: Option<std::path::PathBuf>,
}

impl ClientTls {
    /// From the settings `configure-cli` recorded.
    pub fn of(config: &crate::store::CliConfig) -> ClientTls {
        let path = |name: &str| config.recorded.get(name).map(std::path::PathBuf::from);
        ClientTls {
            certificate: path("--client-cert-hsm-tls-file"),
            key: path("--client-key-hsm-tls-file"),
        }
    }

    /// Whether this client connects over mTLS to a cluster holding `anchors`; else why not.
    fn chains_to(&self, anchors: &[TrustAnchor]) -> Result<(), String> {
        let (Some(cert), Some(_key)) = (&self.certificate, &self.key) else {
            return Err("the CLI configuration has no client certificate and key".into());
        };
        let pem = read_bounded(cert).map_err(|e| {
            format!(
                "the client certificate {} cannot be read ({e})",
                cert.display()
            )
        })?;
        let admitted = anchors.iter().any(|a| {
            AnchorChain::parse(a.certificate.as_bytes()).is_ok_and(|chain| chain.admits(&pem))
        });
        if admitted {
            Ok(())
        } else {
            Err(format!(
                "the client certificate {} does not chain to a registered trust anchor",
                cert.display()
            ))
        }
    }
}

/// The most of a client certificate file that is read: a chain is a few kilobytes, and a
/// path such as `/dev/zero` must not exhaust memory.
const MAX_CLIENT_FILE: u64 = 1024 * 1024;

fn read_bounded(path: &std::path::Path) -> std::io::Result<Vec<u8>> {
    use std::io::Read;
    let mut bytes = Vec::new();
    std::fs::File::open(path)?
        .take(MAX_CLIENT_FILE)
        .read_to_end(&mut bytes)?;
    Ok(bytes)
}

const ENFORCEMENT_KEY: &str = "mtls_enforcement";

fn anchor_key(reference: u64) -> String {
    format!("mtls_trust_anchor_{reference}")
}

fn anchors(tx: &Tx<'_>) -> Result<Vec<TrustAnchor>, HsmError> {
    let mut out = Vec::new();
    for reference in 1..=MAX_TRUST_ANCHORS as u64 {
        if let Some(certificate) = records::meta(tx, &anchor_key(reference))? {
            out.push(TrustAnchor {
                reference,
                certificate,
            });
        }
    }
    Ok(out)
}

fn enforcement(tx: &Tx<'_>) -> Result<Enforcement, HsmError> {
    Ok(match records::meta(tx, ENFORCEMENT_KEY)?.as_deref() {
        Some("cluster") => Enforcement::Cluster,
        _ => Enforcement::None,
    })
}

impl Cluster {
    fn require_mtls_model(&self) -> Result<(), HsmError> {
        if self.settings.hsm_type == HsmType::Hsm2mMedium {
            Ok(())
        } else {
            Err(MtlsError::Unsupported {
                cluster: self.settings.id.clone(),
                hsm_type: self.settings.hsm_type.as_str(),
            }
            .into())
        }
    }

    /// `cluster mtls register-trust-anchor`: registers the chain `pem` (the contents of
    /// the `--path` file) under the lowest free reference, with the approval of the
    /// `cluster` quorum service when its quorum value is above 1.
    pub fn register_trust_anchor(
        &mut self,
        login: &Login,
        pem: &[u8],
        approval: Option<&ApprovalFile>,
    ) -> Result<TrustAnchor, HsmError> {
        self.guard(login, OperationClass::MtlsAdministration)?;
        self.require_mtls_model()?;
        let chain = AnchorChain::parse(pem)?;
        let now = self.now();
        self.store.write(|tx| {
            Approve::service(tx, Service::Cluster)?.spend(tx, login, approval, now)?;
            let existing = anchors(tx)?;
            if let Some(same) = existing.iter().find(|a| a.certificate == chain.pem) {
                return Err(MtlsError::AnchorExists {
                    reference: same.reference_hex(),
                }
                .into());
            }
            let free = (1..=MAX_TRUST_ANCHORS as u64)
                .find(|r| existing.iter().all(|a| a.reference != *r))
                .ok_or(MtlsError::TooManyAnchors)?;
            records::set_meta(tx, &anchor_key(free), &chain.pem)?;
            Ok(TrustAnchor {
                reference: free,
                certificate: chain.pem.clone(),
            })
        })
    }

    /// `cluster mtls deregister-trust-anchor`. The last anchor of a cluster that enforces
    /// mTLS is kept: without it no client could connect again (docs/fidelity.md).
    pub fn deregister_trust_anchor(
        &mut self,
        login: &Login,
        reference: u64,
        approval: Option<&ApprovalFile>,
    ) -> Result<TrustAnchor, HsmError> {
        self.guard(login, OperationClass::MtlsAdministration)?;
        self.require_mtls_model()?;
        let now = self.now();
        self.store.write(|tx| {
            Approve::service(tx, Service::Cluster)?.spend(tx, login, approval, now)?;
            let existing = anchors(tx)?;
            let Some(anchor) = existing.iter().find(|a| a.reference == reference) else {
                return Err(MtlsError::AnchorNotFound {
                    reference: format!("0x{reference:02x}"),
                }
                .into());
            };
            if existing.len() == 1 && enforcement(tx)? == Enforcement::Cluster {
                return Err(MtlsError::LastAnchorEnforced {
                    reference: anchor.reference_hex(),
                }
                .into());
            }
            tx.execute("DELETE FROM meta WHERE key = ?1", [anchor_key(reference)])
                .map_err(crate::store::StoreError::from)?;
            Ok(anchor.clone())
        })
    }

    /// `cluster mtls list-trust-anchors`: every user, no login needed.
    pub fn trust_anchors(&mut self) -> Result<Vec<TrustAnchor>, HsmError> {
        self.require_mtls_model()?;
        self.store.read(anchors)
    }

    /// `cluster mtls get-enforcement`.
    pub fn mtls_enforcement(&mut self, login: &Login) -> Result<Enforcement, HsmError> {
        self.guard(login, OperationClass::MtlsStatus)?;
        self.require_mtls_model()?;
        self.store.read(enforcement)
    }

    /// `cluster mtls set-enforcement`: only the user `admin`, with at least one trust
    /// anchor registered and this CLI connected over mTLS (its client certificate chains
    /// to a registered anchor), with the `cluster` service's approval when required.
    pub fn set_mtls_enforcement(
        &mut self,
        login: &Login,
        level: Enforcement,
        approval: Option<&ApprovalFile>,
    ) -> Result<(), HsmError> {
        self.guard(login, OperationClass::MtlsAdministration)?;
        self.require_mtls_model()?;
        if login.username() != super::ADMIN {
            return Err(MtlsError::DefaultAdminOnly.into());
        }
        let now = self.now();
        let client = self.client_tls.clone();
        self.store.write(|tx| {
            // Refused changes roll the transaction back: the approval is spent only with one.
            Approve::service(tx, Service::Cluster)?.spend(tx, login, approval, now)?;
            let existing = anchors(tx)?;
            if existing.is_empty() {
                return Err(MtlsError::NoTrustAnchor.into());
            }
            if client.chains_to(&existing).is_err() {
                return Err(MtlsError::NotMtls.into());
            }
            records::set_meta(tx, ENFORCEMENT_KEY, level.as_str())?;
            Ok(())
        })
    }

    /// Whether this CLI may connect to the cluster: always, unless the cluster enforces
    /// mTLS; then only with a configured client certificate that chains to a registered
    /// trust anchor. A front end calls it when it opens the cluster for a command.
    pub fn check_connection(&mut self) -> Result<(), HsmError> {
        let cluster = self.settings.id.clone();
        let client = self.client_tls.clone();
        self.store.read(|tx| {
            if enforcement(tx)? == Enforcement::None {
                return Ok(());
            }
            client
                .chains_to(&anchors(tx)?)
                .map_err(|why| MtlsError::ConnectionRefused { cluster, why }.into())
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::Path;
    use std::process::Command;

    fn openssl(dir: &Path, args: &[&str]) {
        let status = Command::new("openssl")
            .args(args)
            .current_dir(dir)
            .output()
            .unwrap();
        assert!(status.status.success(), "{args:?}: {status:?}");
    }

    /// A CA of `key` (openssl `-newkey` spec), a client certificate signed by it, and an
    /// unrelated self-signed certificate.
    fn pki(dir: &Path, key: &[&str]) {
        let mut ca = vec!["req", "-x509"];
        ca.extend(key);
        openssl(dir, &ca);
        openssl(
            dir,
            &[
                "req", "-x509", "-key", "ca.key", "-nodes", "-keyout", "ca.key", "-out", "ca.pem",
                "-subj", "/CN=ca", "-days", "30",
            ],
        );
        openssl(
            dir,
            &[
                "req",
                "-newkey",
                "ec",
                "-pkeyopt",
                "ec_paramgen_curve:P-256",
                "-nodes",
                "-keyout",
                "client.key",
                "-out",
                "client.csr",
                "-subj",
                "/CN=client",
            ],
        );
        openssl(
            dir,
            &[
                "x509",
                "-req",
                "-in",
                "client.csr",
                "-CA",
                "ca.pem",
                "-CAkey",
                "ca.key",
                "-CAcreateserial",
                "-out",
                "client.pem",
                "-days",
                "30",
            ],
        );
        openssl(
            dir,
            &[
                "req",
                "-x509",
                "-newkey",
                "ec",
                "-pkeyopt",
                "ec_paramgen_curve:P-384",
                "-nodes",
                "-keyout",
                "other.key",
                "-out",
                "other.pem",
                "-subj",
                "/CN=ca",
                "-days",
                "30",
            ],
        );
    }

    fn read(dir: &Path, name: &str) -> Vec<u8> {
        std::fs::read(dir.join(name)).unwrap()
    }

    #[test]
    fn an_ec_anchor_admits_its_clients_only() {
        let dir = tempfile::tempdir().unwrap();
        let d = dir.path();
        pki(
            d,
            &[
                "-newkey",
                "ec",
                "-pkeyopt",
                "ec_paramgen_curve:P-256",
                "-nodes",
                "-keyout",
                "ca.key",
                "-out",
                "ca.pem",
                "-subj",
                "/CN=ca",
            ],
        );
        let anchor = AnchorChain::parse(&read(d, "ca.pem")).unwrap();
        assert!(anchor.admits(&read(d, "client.pem")));
        assert!(anchor.admits(&read(d, "ca.pem")));
        // Same subject, another key: not signed by the anchor.
        assert!(!anchor.admits(&read(d, "other.pem")));
        assert!(!anchor.admits(b"not a certificate"));
        // A chain in hierarchical order is accepted, in the other order refused.
        let mut chain = read(d, "client.pem");
        chain.extend(read(d, "ca.pem"));
        AnchorChain::parse(&chain).unwrap();
        let mut reversed = read(d, "ca.pem");
        reversed.extend(read(d, "client.pem"));
        assert_eq!(
            AnchorChain::parse(&reversed),
            Err(MtlsError::ChainOrder { index: 1 })
        );
    }

    #[test]
    fn rsa_sizes_and_curves_outside_the_list_are_refused() {
        let dir = tempfile::tempdir().unwrap();
        let d = dir.path();
        pki(
            d,
            &[
                "-newkey", "rsa:2048", "-nodes", "-keyout", "ca.key", "-out", "ca.pem", "-subj",
                "/CN=ca",
            ],
        );
        let anchor = AnchorChain::parse(&read(d, "ca.pem")).unwrap();
        assert!(anchor.admits(&read(d, "client.pem")));
        openssl(
            d,
            &[
                "req",
                "-x509",
                "-newkey",
                "rsa:1024",
                "-nodes",
                "-keyout",
                "small.key",
                "-out",
                "small.pem",
                "-subj",
                "/CN=small",
                "-days",
                "30",
            ],
        );
        assert_eq!(
            AnchorChain::parse(&read(d, "small.pem")),
            Err(MtlsError::UnsupportedKey {
                key: "RSA 1024".into()
            })
        );
        openssl(
            d,
            &[
                "req",
                "-x509",
                "-newkey",
                "ec",
                "-pkeyopt",
                "ec_paramgen_curve:secp256k1",
                "-nodes",
                "-keyout",
                "k1.key",
                "-out",
                "k1.pem",
                "-subj",
                "/CN=k1",
                "-days",
                "30",
            ],
        );
        assert!(matches!(
            AnchorChain::parse(&read(d, "k1.pem")),
            Err(MtlsError::UnsupportedKey { .. })
        ));
    }

    #[test]
    fn too_large_and_not_pem_are_refused() {
        assert_eq!(
            AnchorChain::parse(&vec![b'a'; MAX_CHAIN_BYTES + 1]),
            Err(MtlsError::ChainTooLarge {
                size: MAX_CHAIN_BYTES + 1
            })
        );
        assert!(matches!(
            AnchorChain::parse(b"hello"),
            Err(MtlsError::NotPem { .. })
        ));
    }
}
