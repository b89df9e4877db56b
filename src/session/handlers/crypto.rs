//! Handlers of `crypto sign *`, `crypto verify *` and the emulator extensions
//! `crypto encrypt|decrypt|mac|digest`.

use base64::Engine;
use serde::Serialize;

use crate::grammar::{
    DataTypeArg, DecryptCommand, Digest, EncryptCommand, HashArg, KeyedInput, MacCommand, MgfArg,
    MlDsaDataTypeArg, SignCommand, SignInput, VerifyCommand, VerifyInput,
};
use crate::hsm::crypto::{DataType, HashFunction, Mechanism};
use crate::hsm::key::KeyError;
use crate::output::{MessageView, Response};
use crate::session::key_syntax::parse_filter;

use super::super::{Context, SessionError};
use super::logged_in;

type Result<T> = std::result::Result<T, SessionError>;

/// `{"key-reference", "signature"}` of `crypto sign`.
#[derive(Debug, Serialize)]
struct SignatureView {
    #[serde(rename = "key-reference")]
    key_reference: String,
    signature: String,
}

pub(crate) fn key_error(e: KeyError) -> SessionError {
    SessionError::Hsm(e.into())
}

pub(crate) fn hash(h: HashArg) -> HashFunction {
    match h {
        HashArg::Sha1 => HashFunction::Sha1,
        HashArg::Sha224 => HashFunction::Sha224,
        HashArg::Sha256 => HashFunction::Sha256,
        HashArg::Sha384 => HashFunction::Sha384,
        HashArg::Sha512 => HashFunction::Sha512,
    }
}

pub(crate) fn mgf(m: MgfArg) -> HashFunction {
    match m {
        MgfArg::Mgf1Sha1 => HashFunction::Sha1,
        MgfArg::Mgf1Sha224 => HashFunction::Sha224,
        MgfArg::Mgf1Sha256 => HashFunction::Sha256,
        MgfArg::Mgf1Sha384 => HashFunction::Sha384,
        MgfArg::Mgf1Sha512 => HashFunction::Sha512,
    }
}

fn data_type(d: DataTypeArg) -> DataType {
    match d {
        DataTypeArg::Raw => DataType::Raw,
        DataTypeArg::Digest => DataType::Digest,
    }
}

fn mldsa_data_type(d: MlDsaDataTypeArg) -> DataType {
    match d {
        MlDsaDataTypeArg::Raw => DataType::Raw,
        MlDsaDataTypeArg::ExternalMu => DataType::ExternalMu,
    }
}

/// Base64 text given as an option, or the raw bytes of a file.
pub(crate) fn bytes(
    inline: Option<&str>,
    path: Option<&str>,
    what: &'static str,
) -> Result<Vec<u8>> {
    match (inline, path) {
        (Some(text), _) => base64::engine::general_purpose::STANDARD
            .decode(text.trim())
            .map_err(|_| SessionError::InvalidBase64 { what }),
        (None, Some(path)) => super::read_path(path),
        // clap's argument groups make one of the two required.
        (None, None) => Err(SessionError::InvalidBase64 { what }),
    }
}

/// The signature of `crypto verify`: `--signature` base64 text, or the raw bytes of the
/// `--signature-path` file. A file of base64 text (what `jq -r .data.signature > FILE` writes)
/// is refused with a message that says so, rather than failing verification: no raw
/// signature (64 bytes or more of binary) reads as base64 text.
fn signature(input: &VerifyInput) -> Result<Vec<u8>> {
    let signature = bytes(
        input.signature.as_deref(),
        input.signature_path.as_deref(),
        "--signature",
    )?;
    match (&input.signature, &input.signature_path) {
        (None, Some(path)) if is_base64_text(&signature) => {
            Err(SessionError::SignatureFileIsBase64 { path: path.clone() })
        }
        _ => Ok(signature),
    }
}

/// Whether `bytes` are base64 text (line breaks and surrounding blanks allowed).
fn is_base64_text(bytes: &[u8]) -> bool {
    let text: Vec<u8> = bytes
        .iter()
        .copied()
        .filter(|b| !b.is_ascii_whitespace())
        .collect();
    !text.is_empty()
        && base64::engine::general_purpose::STANDARD
            .decode(&text)
            .is_ok()
}

fn salt(len: u64) -> usize {
    usize::try_from(len).unwrap_or(usize::MAX)
}

/// The key input and the mechanism of a `crypto sign` or `crypto verify` command: both
/// enums have the same variants with the same mechanism options.
macro_rules! mechanism_of {
    ($command:expr, $Enum:ident) => {
        match $command {
            $Enum::Ecdsa(a) => (
                &a.input,
                Mechanism::Ecdsa {
                    hash: hash(a.hash_function),
                    data_type: data_type(a.data_type),
                },
            ),
            $Enum::RsaPkcs(a) => (
                &a.input,
                Mechanism::RsaPkcs {
                    hash: hash(a.hash_function),
                    data_type: data_type(a.data_type),
                },
            ),
            $Enum::RsaPkcsPss(a) => (
                &a.input,
                Mechanism::RsaPkcsPss {
                    hash: hash(a.hash_function),
                    mgf: mgf(a.mgf),
                    salt_length: salt(a.salt_length),
                    data_type: data_type(a.data_type),
                },
            ),
            $Enum::Ed25519(a) => (&a.input, Mechanism::Ed25519),
            $Enum::Ed25519ph(a) => (
                &a.input,
                Mechanism::Ed25519ph {
                    data_type: data_type(a.data_type),
                },
            ),
            $Enum::MlDsa(a) => (
                &a.input,
                Mechanism::MlDsa {
                    data_type: mldsa_data_type(a.data_type),
                },
            ),
        }
    };
}

/// The key filter and the data of an encryption, decryption or MAC, both checked.
fn keyed_input(input: &KeyedInput) -> Result<(Vec<crate::hsm::key::Term>, Vec<u8>)> {
    let terms = parse_filter(&input.key_filter).map_err(key_error)?;
    let data = bytes(input.data.as_deref(), input.data_path.as_deref(), "--data")?;
    Ok((terms, data))
}

pub(crate) fn sign(ctx: &mut Context<'_>, c: &SignCommand) -> Result<Response> {
    let (input, mechanism): (&SignInput, Mechanism) = mechanism_of!(c, SignCommand);
    let login = logged_in(&ctx.login)?;
    let terms = parse_filter(&input.key_filter).map_err(key_error)?;
    let data = bytes(input.data.as_deref(), input.data_path.as_deref(), "--data")?;
    let entropy = ctx.session.entropy_snapshot();
    let file = super::approval_file(input.approval.as_deref())?;
    let (key, signature) =
        ctx.cluster
            .sign_data(login, &terms, &mechanism, &data, &entropy, file.as_ref())?;
    Ok(Response::ok(SignatureView {
        key_reference: key.reference_string(),
        signature: base64::engine::general_purpose::STANDARD.encode(signature),
    }))
}

pub(crate) fn verify(ctx: &mut Context<'_>, c: &VerifyCommand) -> Result<Response> {
    let (input, mechanism): (&VerifyInput, Mechanism) = mechanism_of!(c, VerifyCommand);
    let login = logged_in(&ctx.login)?;
    let terms = parse_filter(&input.key_filter).map_err(key_error)?;
    let data = bytes(input.data.as_deref(), input.data_path.as_deref(), "--data")?;
    let signature = signature(input)?;
    let valid = ctx
        .cluster
        .verify_data(login, &terms, &mechanism, &data, &signature)?;
    if valid {
        Ok(Response::ok(MessageView {
            message: "Signature verified successfully".into(),
        }))
    } else {
        Err(key_error(KeyError::SignatureInvalid))
    }
}

fn b64(bytes: &[u8]) -> String {
    base64::engine::general_purpose::STANDARD.encode(bytes)
}

fn tag_bits(bits: u64) -> usize {
    usize::try_from(bits).unwrap_or(usize::MAX)
}

/// `crypto encrypt aes-gcm`.
#[derive(Debug, Serialize)]
struct EncryptedView {
    #[serde(rename = "key-reference")]
    key_reference: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    iv: Option<String>,
    ciphertext: String,
}

/// `crypto decrypt *`.
#[derive(Debug, Serialize)]
struct DecryptedView {
    #[serde(rename = "key-reference")]
    key_reference: String,
    plaintext: String,
}

/// `crypto mac hmac`.
#[derive(Debug, Serialize)]
struct MacView {
    #[serde(rename = "key-reference")]
    key_reference: String,
    mac: String,
}

/// `crypto digest`.
#[derive(Debug, Serialize)]
struct DigestView {
    digest: String,
}

pub(crate) fn encrypt(ctx: &mut Context<'_>, c: &EncryptCommand) -> Result<Response> {
    let login = logged_in(&ctx.login)?;
    let entropy = ctx.session.entropy_snapshot();
    match c {
        EncryptCommand::AesGcm(e) => {
            let (terms, data) = keyed_input(&e.input)?;
            let aad = super::wrap::hex_option(e.aad.as_deref(), "--aad")?;
            let (key, iv, ciphertext) = ctx.cluster.encrypt_aes_gcm(
                login,
                &terms,
                &data,
                &aad,
                tag_bits(e.tag_length_bits),
                &entropy,
            )?;
            Ok(Response::ok(EncryptedView {
                key_reference: key.reference_string(),
                iv: Some(crate::hsm::key::attributes::hex(&iv)),
                ciphertext: b64(&ciphertext),
            }))
        }
        EncryptCommand::RsaOaep(e) => {
            let (terms, data) = keyed_input(&e.input)?;
            let (key, ciphertext) = ctx.cluster.encrypt_rsa_oaep(
                login,
                &terms,
                hash(e.hash_function),
                mgf(e.mgf),
                &data,
                &entropy,
            )?;
            Ok(Response::ok(EncryptedView {
                key_reference: key.reference_string(),
                iv: None,
                ciphertext: b64(&ciphertext),
            }))
        }
    }
}

pub(crate) fn decrypt(ctx: &mut Context<'_>, c: &DecryptCommand) -> Result<Response> {
    let login = logged_in(&ctx.login)?;
    let (key, plaintext) = match c {
        DecryptCommand::AesGcm(d) => {
            let (terms, data) = keyed_input(&d.input)?;
            let aad = super::wrap::hex_option(d.aad.as_deref(), "--aad")?;
            let iv = super::wrap::hex_option(Some(&d.iv), "--iv")?;
            ctx.cluster.decrypt_aes_gcm(
                login,
                &terms,
                &iv,
                &data,
                &aad,
                tag_bits(d.tag_length_bits),
            )?
        }
        DecryptCommand::RsaOaep(d) => {
            let (terms, data) = keyed_input(&d.input)?;
            ctx.cluster
                .decrypt_rsa_oaep(login, &terms, hash(d.hash_function), mgf(d.mgf), &data)?
        }
    };
    Ok(Response::ok(DecryptedView {
        key_reference: key.reference_string(),
        plaintext: b64(&plaintext),
    }))
}

pub(crate) fn mac(ctx: &mut Context<'_>, c: &MacCommand) -> Result<Response> {
    let MacCommand::Hmac(m) = c;
    let login = logged_in(&ctx.login)?;
    let (terms, data) = keyed_input(&m.input)?;
    let (key, mac) = ctx
        .cluster
        .hmac(login, &terms, hash(m.hash_function), &data)?;
    Ok(Response::ok(MacView {
        key_reference: key.reference_string(),
        mac: b64(&mac),
    }))
}

pub(crate) fn digest(c: &Digest) -> Result<Response> {
    let data = bytes(c.data.as_deref(), c.data_path.as_deref(), "--data")?;
    Ok(Response::ok(DigestView {
        digest: b64(&crate::hsm::crypto::digest(hash(c.hash_function), &data)),
    }))
}
