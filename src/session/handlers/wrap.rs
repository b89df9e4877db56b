//! Handlers of `key wrap *` and `key unwrap *`.

use base64::Engine;
use serde::Serialize;

use crate::grammar::{
    GcmArgs, OaepArgs, UnwrapArgs, UnwrapCommand, UnwrapKeyTypeClass, WrapArgs, WrapCommand,
};
use crate::hsm::crypto::WrapMechanism;
use crate::hsm::key::attributes::{hex, parse_hex, Setting};
use crate::hsm::{UnwrapRequest, UnwrapTarget};
use crate::output::{OneKeyView, Response};
use crate::session::key_syntax::{parse_assignments, parse_filter};

use super::super::{Context, SessionError};
use super::crypto::{bytes, hash, key_error, mgf};
use super::key::key_view;
use super::{logged_in, logged_in_mut};

type Result<T> = std::result::Result<T, SessionError>;

/// The output of every `key wrap` mechanism: snake_case keys, as three of the guide's four
/// examples print them (docs/fidelity.md).
#[derive(Debug, Serialize)]
struct WrapView {
    payload_key_reference: String,
    wrapping_key_reference: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    iv: Option<String>,
    wrapped_key_data: String,
}

/// An optional hex option (`--aad`, `--iv`), `0x` prefix optional.
pub(crate) fn hex_option(value: Option<&str>, what: &'static str) -> Result<Vec<u8>> {
    match value {
        None => Ok(Vec::new()),
        Some(v) => parse_hex(what, v).map_err(|_| SessionError::InvalidHex { what }),
    }
}

fn gcm(g: &GcmArgs, cloudhsm: bool) -> Result<WrapMechanism> {
    let aad = hex_option(g.aad.as_deref(), "--aad")?;
    let tag_length_bits = usize::try_from(g.tag_length_bits).unwrap_or(usize::MAX);
    Ok(if cloudhsm {
        WrapMechanism::CloudHsmAesGcm {
            tag_length_bits,
            aad,
        }
    } else {
        WrapMechanism::AesGcm {
            tag_length_bits,
            aad,
        }
    })
}

fn oaep(o: &OaepArgs, aes: bool) -> WrapMechanism {
    let (hash, mgf) = (hash(o.hash_function), mgf(o.mgf));
    if aes {
        WrapMechanism::RsaAes { hash, mgf }
    } else {
        WrapMechanism::RsaOaep { hash, mgf }
    }
}

pub(crate) fn wrap(ctx: &mut Context<'_>, c: &WrapCommand) -> Result<Response> {
    let (args, mechanism): (&WrapArgs, WrapMechanism) = match c {
        WrapCommand::AesGcm(w) => (&w.wrap, gcm(&w.gcm, false)?),
        WrapCommand::CloudhsmAesGcm(w) => (&w.wrap, gcm(&w.gcm, true)?),
        WrapCommand::AesNoPad(w) => (w, WrapMechanism::AesNoPad),
        WrapCommand::AesPkcs5Pad(w) => (w, WrapMechanism::AesPkcs5Pad),
        WrapCommand::AesZeroPad(w) => (w, WrapMechanism::AesZeroPad),
        WrapCommand::RsaAes(w) => (&w.wrap, oaep(&w.oaep, true)),
        WrapCommand::RsaOaep(w) => (&w.wrap, oaep(&w.oaep, false)),
        WrapCommand::RsaPkcs(w) => (w, WrapMechanism::RsaPkcs),
    };
    let login = logged_in(&ctx.login)?;
    let payload = parse_filter(&args.payload_filter).map_err(key_error)?;
    let wrapping = parse_filter(&args.wrapping_filter).map_err(key_error)?;
    let entropy = ctx.session.entropy_snapshot();
    let payload_file = super::approval_file(args.payload_approval.as_deref())?;
    let wrapping_file = super::approval_file(args.wrapping_approval.as_deref())?;
    let (payload_key, wrapping_key, out) = ctx.cluster.wrap_key(
        login,
        &payload,
        &wrapping,
        &mechanism,
        &entropy,
        (payload_file.as_ref(), wrapping_file.as_ref()),
    )?;
    if let Some(path) = &args.path {
        // A wrapped key: whoever holds the wrapping key derives the key from it.
        super::write_output(path, &out.data, super::Sensitivity::Secret)?;
    }
    Ok(Response::ok(WrapView {
        payload_key_reference: payload_key.reference_string(),
        wrapping_key_reference: wrapping_key.reference_string(),
        iv: out.iv.as_deref().map(hex),
        wrapped_key_data: base64::engine::general_purpose::STANDARD.encode(&out.data),
    }))
}

pub(crate) fn unwrap(ctx: &mut Context<'_>, c: &UnwrapCommand) -> Result<Response> {
    let (args, mechanism, iv): (&UnwrapArgs, WrapMechanism, Option<Vec<u8>>) = match c {
        UnwrapCommand::AesGcm(u) => (
            &u.unwrap,
            gcm(&u.gcm, false)?,
            Some(hex_option(Some(&u.iv), "--iv")?),
        ),
        UnwrapCommand::CloudhsmAesGcm(u) => (&u.unwrap, gcm(&u.gcm, true)?, None),
        UnwrapCommand::AesNoPad(u) => (u, WrapMechanism::AesNoPad, None),
        UnwrapCommand::AesPkcs5Pad(u) => (u, WrapMechanism::AesPkcs5Pad, None),
        UnwrapCommand::AesZeroPad(u) => (u, WrapMechanism::AesZeroPad, None),
        UnwrapCommand::RsaAes(u) => (&u.unwrap, oaep(&u.oaep, true), None),
        UnwrapCommand::RsaOaep(u) => (&u.unwrap, oaep(&u.oaep, false), None),
        UnwrapCommand::RsaPkcs(u) => (u, WrapMechanism::RsaPkcs, None),
    };
    logged_in(&ctx.login)?;
    let terms = parse_filter(&args.filter).map_err(key_error)?;
    let data = bytes(args.data.as_deref(), args.data_path.as_deref(), "--data")?;
    let req = UnwrapRequest {
        target: match args.key_type_class {
            UnwrapKeyTypeClass::Aes => UnwrapTarget::Aes,
            UnwrapKeyTypeClass::Des3 => UnwrapTarget::Des3,
            UnwrapKeyTypeClass::EcPrivate => UnwrapTarget::EcPrivate,
            UnwrapKeyTypeClass::GenericSecret => UnwrapTarget::GenericSecret,
            UnwrapKeyTypeClass::RsaPrivate => UnwrapTarget::RsaPrivate,
        },
        label: args.label.clone(),
        attributes: parse_assignments(&args.attributes).map_err(key_error)?,
        share_with: args.share_crypto_users.clone(),
        manage_quorum: args.manage_key_quorum_value,
        use_quorum: args.use_key_quorum_value,
        token: !args.session,
        setting: Setting::Creation,
    };
    let file = super::approval_file(args.approval.as_deref())?;
    let key = ctx.cluster.unwrap_key(
        logged_in_mut(&mut ctx.login)?,
        &terms,
        &mechanism,
        &data,
        iv.as_deref(),
        &req,
        file.as_ref(),
    )?;
    let full = ctx.cluster.key_full_coverage(&key)?;
    Ok(Response::ok(OneKeyView {
        key: key_view(&key, full),
        message: None,
    }))
}
