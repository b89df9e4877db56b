//! A minimal DER writer and the object identifiers of the supported key algorithms, enough to
//! encode SubjectPublicKeyInfo and simple PKCS#8 structures without a fallible encoder.

/// DER content bytes of rsaEncryption (1.2.840.113549.1.1.1).
pub(crate) const OID_RSA: &[u8] = &[0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x01, 0x01];
/// DER content bytes of id-ecPublicKey (1.2.840.10045.2.1).
pub(crate) const OID_EC_PUBLIC_KEY: &[u8] = &[0x2a, 0x86, 0x48, 0xce, 0x3d, 0x02, 0x01];
/// DER content bytes of secp224r1 (1.3.132.0.33).
pub(crate) const OID_SECP224R1: &[u8] = &[0x2b, 0x81, 0x04, 0x00, 0x21];
/// DER content bytes of prime256v1 / secp256r1 (1.2.840.10045.3.1.7).
pub(crate) const OID_PRIME256V1: &[u8] = &[0x2a, 0x86, 0x48, 0xce, 0x3d, 0x03, 0x01, 0x07];
/// DER content bytes of secp384r1 (1.3.132.0.34).
pub(crate) const OID_SECP384R1: &[u8] = &[0x2b, 0x81, 0x04, 0x00, 0x22];
/// DER content bytes of secp521r1 (1.3.132.0.35).
pub(crate) const OID_SECP521R1: &[u8] = &[0x2b, 0x81, 0x04, 0x00, 0x23];
/// DER content bytes of secp256k1 (1.3.132.0.10).
pub(crate) const OID_SECP256K1: &[u8] = &[0x2b, 0x81, 0x04, 0x00, 0x0a];
/// DER content bytes of id-Ed25519 (1.3.101.112).
pub(crate) const OID_ED25519: &[u8] = &[0x2b, 0x65, 0x70];
/// DER content bytes of id-ml-dsa-44 (2.16.840.1.101.3.4.3.17).
pub(crate) const OID_ML_DSA_44: &[u8] = &[0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x03, 0x11];
/// DER content bytes of id-ml-dsa-65 (2.16.840.1.101.3.4.3.18).
pub(crate) const OID_ML_DSA_65: &[u8] = &[0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x03, 0x12];
/// DER content bytes of id-ml-dsa-87 (2.16.840.1.101.3.4.3.19).
pub(crate) const OID_ML_DSA_87: &[u8] = &[0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x03, 0x13];

const TAG_INTEGER: u8 = 0x02;
const TAG_BIT_STRING: u8 = 0x03;
const TAG_OCTET_STRING: u8 = 0x04;
const TAG_NULL: u8 = 0x05;
const TAG_OID: u8 = 0x06;
const TAG_SEQUENCE: u8 = 0x30;

/// One DER element: `tag`, definite length, `content`.
pub(crate) fn tlv(tag: u8, content: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(content.len() + 6);
    out.push(tag);
    let len = content.len();
    if len < 0x80 {
        out.push(len as u8);
    } else {
        let bytes = len.to_be_bytes();
        let skip = bytes.iter().take_while(|b| **b == 0).count();
        let significant = bytes.get(skip..).unwrap_or_default();
        out.push(0x80 | significant.len() as u8);
        out.extend_from_slice(significant);
    }
    out.extend_from_slice(content);
    out
}

/// A SEQUENCE of the already-encoded `parts`.
pub(crate) fn sequence(parts: &[&[u8]]) -> Vec<u8> {
    tlv(TAG_SEQUENCE, &parts.concat())
}

/// An OBJECT IDENTIFIER from its content bytes.
pub(crate) fn oid(content: &[u8]) -> Vec<u8> {
    tlv(TAG_OID, content)
}

/// A non-negative INTEGER from its unsigned big-endian bytes.
pub(crate) fn unsigned_integer(be: &[u8]) -> Vec<u8> {
    let skip = be.iter().take_while(|b| **b == 0).count();
    let trimmed = be.get(skip..).unwrap_or_default();
    let mut content = Vec::with_capacity(trimmed.len() + 1);
    if trimmed.first().is_none_or(|b| b & 0x80 != 0) {
        content.push(0);
    }
    content.extend_from_slice(trimmed);
    tlv(TAG_INTEGER, &content)
}

/// A BIT STRING with no unused bits.
pub(crate) fn bit_string(bytes: &[u8]) -> Vec<u8> {
    let mut content = Vec::with_capacity(bytes.len() + 1);
    content.push(0);
    content.extend_from_slice(bytes);
    tlv(TAG_BIT_STRING, &content)
}

/// An OCTET STRING.
pub(crate) fn octet_string(bytes: &[u8]) -> Vec<u8> {
    tlv(TAG_OCTET_STRING, bytes)
}

/// A NULL.
pub(crate) fn null() -> Vec<u8> {
    vec![TAG_NULL, 0]
}

/// A SubjectPublicKeyInfo: AlgorithmIdentifier { `algorithm`, `parameters` } and the key bits.
pub(crate) fn spki(algorithm: &[u8], parameters: Option<&[u8]>, key: &[u8]) -> Vec<u8> {
    let alg_oid = oid(algorithm);
    let alg = match parameters {
        Some(p) => sequence(&[&alg_oid, p]),
        None => sequence(&[&alg_oid]),
    };
    sequence(&[&alg, &bit_string(key)])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lengths_and_integers() {
        assert_eq!(tlv(0x04, &[1, 2]), vec![0x04, 2, 1, 2]);
        let long = tlv(0x04, &[0u8; 300]);
        assert_eq!(long.get(..4), Some(&[0x04, 0x82, 0x01, 0x2c][..]));
        assert_eq!(long.len(), 304);
        assert_eq!(unsigned_integer(&[0x01, 0x00, 0x01]), vec![2, 3, 1, 0, 1]);
        assert_eq!(unsigned_integer(&[0, 0, 0x80]), vec![2, 2, 0, 0x80]);
        assert_eq!(unsigned_integer(&[]), vec![2, 1, 0]);
    }
}
