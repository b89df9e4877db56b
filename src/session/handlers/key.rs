//! Handlers of the `key` commands: translate options, call the simulated HSM, and print
//! keys as the AWS guide shows them.

use serde_json::Map;

use crate::grammar::{
    CurveArg, GenerateAsymmetricPair, GenerateSymmetric, ImportKeyTypeClass, KeyDelete,
    KeyFileEncoding, KeyGenerateFile, KeyImportPem, KeyList, KeyReplicate, KeySetAttribute,
    KeyShare, MlDsaArg, UserRole,
};
use crate::hsm::crypto::{Curve, MlDsaAlgorithm};
use crate::hsm::key::{Attribute, Key, KeyError, KeyType, Term};
use crate::hsm::{GenerateRequest, KeyKind, PublicExponent, Role, Username};
use crate::output::{
    KeyBriefView, KeyInfoView, KeyListView, KeyPairView, KeyQuorumView, KeyUserView, KeyView,
    LabelView, MessageView, OneKeyView, Response,
};

use super::super::{key_syntax, CommandId, Context, SessionError};
use super::{logged_in, logged_in_mut};

type Result<T> = std::result::Result<T, SessionError>;

fn terms(items: &[String]) -> Result<Vec<Term>> {
    key_syntax::parse_filter(items).map_err(key_error)
}

fn assignments(items: &[String]) -> Result<Vec<crate::hsm::key::Assignment>> {
    key_syntax::parse_assignments(items).map_err(key_error)
}

fn key_error(e: KeyError) -> SessionError {
    SessionError::Hsm(e.into())
}

fn message(text: &str) -> Response {
    Response::ok(MessageView {
        message: text.to_string(),
    })
}

/// The full key object, attributes in the documented order.
pub(crate) fn key_view(key: &Key, full: bool) -> KeyView {
    let coverage = if full { "full" } else { "partial" };
    let user = |u: &str| KeyUserView {
        username: u.to_string(),
        key_coverage: coverage.into(),
    };
    // The attributes the key has, in the order of the table (an empty id prints as "0x",
    // as the newest pages of the guide print it).
    let mut a = Map::new();
    for attribute in Attribute::all() {
        if let Some(value) = key.value(attribute) {
            a.insert(attribute.name().into(), key_syntax::value_json(&value));
        }
    }
    KeyView {
        key_reference: key.reference_string(),
        key_info: KeyInfoView {
            key_owners: vec![user(&key.owner)],
            shared_users: key.shared.iter().map(|u| user(u)).collect(),
            key_quorum_values: KeyQuorumView {
                manage: key.quorum.manage,
                usage: key.quorum.usage,
            },
            cluster_coverage: coverage.into(),
        },
        attributes: a,
    }
}

pub(crate) fn list(ctx: &mut Context<'_>, c: &KeyList) -> Result<Response> {
    let login = logged_in(&ctx.login)?;
    let terms = terms(&c.filter)?;
    let start = match &c.starting_token {
        None => 0,
        Some(t) => t
            .parse::<usize>()
            .map_err(|_| SessionError::InvalidStartingToken { token: t.clone() })?,
    };
    // `--max-items 0` means no limit: an empty page whose next_token is the token given
    // would make a paging loop run forever (docs/fidelity.md).
    let max = match usize::try_from(c.max_items) {
        Ok(0) | Err(_) => usize::MAX,
        Ok(n) => n,
    };
    let (page, total) = ctx.cluster.list_keys_page(login, &terms, start, max)?;
    let end = start.saturating_add(page.len());
    // "This flag when used by Admins has no effect": admins see references and labels.
    let verbose = c.verbose && login.role() != Role::Admin;
    let mut coverage = Vec::with_capacity(page.len());
    for k in &page {
        coverage.push(if verbose {
            ctx.cluster.key_full_coverage(k)?
        } else {
            true
        });
    }
    let matched_keys = page
        .iter()
        .zip(coverage)
        .map(|(k, full)| {
            if verbose {
                serde_json::to_value(key_view(k, full))
            } else {
                serde_json::to_value(KeyBriefView {
                    key_reference: k.reference_string(),
                    attributes: LabelView {
                        label: k.attrs.label.clone(),
                    },
                })
            }
        })
        .collect::<std::result::Result<Vec<_>, _>>()
        .map_err(|e| SessionError::Prompt(std::io::Error::other(e)))?;
    Ok(Response::ok(KeyListView {
        returned_key_count: matched_keys.len(),
        matched_keys,
        total_key_count: total,
        next_token: (end < total).then(|| end.to_string()),
    }))
}

pub(crate) fn delete(ctx: &mut Context<'_>, c: &KeyDelete) -> Result<Response> {
    let terms = terms(&c.filter)?;
    ctx.cluster
        .delete_key(logged_in_mut(&mut ctx.login)?, &terms)?;
    Ok(message("Key deleted successfully"))
}

pub(crate) fn share(ctx: &mut Context<'_>, c: &KeyShare, share: bool) -> Result<Response> {
    logged_in(&ctx.login)?;
    let terms = terms(&c.filter)?;
    let role = match c.role {
        UserRole::CryptoUser => Role::CryptoUser,
        UserRole::Admin => Role::Admin,
    };
    let file = super::approval_file(c.approval.as_deref())?;
    let username = Username::parse(&c.username)?;
    ctx.cluster.share_key(
        logged_in_mut(&mut ctx.login)?,
        &terms,
        &username,
        role,
        share,
        file.as_ref(),
    )?;
    Ok(message(if share {
        "Key shared successfully"
    } else {
        "Key unshared successfully"
    }))
}

pub(crate) fn set_attribute(ctx: &mut Context<'_>, c: &KeySetAttribute) -> Result<Response> {
    logged_in(&ctx.login)?;
    let terms = terms(&c.filter)?;
    let assignment =
        key_syntax::parse_assignment(&c.name, &c.value.join(" ")).map_err(key_error)?;
    let file = super::approval_file(c.approval.as_deref())?;
    ctx.cluster.set_key_attribute(
        logged_in_mut(&mut ctx.login)?,
        &terms,
        &assignment,
        file.as_ref(),
    )?;
    Ok(message("Attribute set successfully"))
}

fn generate(ctx: &mut Context<'_>, req: GenerateRequest) -> Result<Vec<Key>> {
    let entropy = ctx.session.entropy_snapshot();
    Ok(ctx
        .cluster
        .generate_keys(logged_in_mut(&mut ctx.login)?, &req, &entropy)?)
}

pub(crate) fn generate_symmetric(ctx: &mut Context<'_>, g: &GenerateSymmetric) -> Result<Response> {
    let (c, kind) = match g {
        GenerateSymmetric::Aes(c) => (
            c,
            KeyKind::Aes {
                bytes: c.key_length_bytes,
            },
        ),
        GenerateSymmetric::GenericSecret(c) => (
            c,
            KeyKind::GenericSecret {
                bytes: c.key_length_bytes,
            },
        ),
    };
    let keys = generate(
        ctx,
        GenerateRequest {
            kind,
            label: c.label.clone(),
            private_label: String::new(),
            attributes: assignments(&c.attributes)?,
            private_attributes: Vec::new(),
            share_with: c.share_crypto_users.clone(),
            manage_quorum: c.manage_key_quorum_value,
            use_quorum: c.use_key_quorum_value,
            token: !c.session,
        },
    )?;
    let key = keys.first().ok_or(SessionError::NoLogin)?;
    let full = ctx.cluster.key_full_coverage(key)?;
    Ok(Response::ok(OneKeyView {
        key: key_view(key, full),
        message: None,
    }))
}

pub(crate) fn generate_pair(ctx: &mut Context<'_>, g: &GenerateAsymmetricPair) -> Result<Response> {
    let (p, kind) = match g {
        GenerateAsymmetricPair::Rsa(c) => (
            &c.pair,
            KeyKind::Rsa {
                modulus_bits: c.modulus_size_bits,
                public_exponent: PublicExponent::parse(&c.public_exponent)?,
            },
        ),
        GenerateAsymmetricPair::Ec(c) => (
            &c.pair,
            KeyKind::Ec {
                curve: curve(c.curve),
            },
        ),
        GenerateAsymmetricPair::MlDsa(c) => (
            &c.pair,
            KeyKind::MlDsa {
                algorithm: match c.mldsa_algorithm {
                    MlDsaArg::MlDsa44 => MlDsaAlgorithm::MlDsa44,
                    MlDsaArg::MlDsa65 => MlDsaAlgorithm::MlDsa65,
                    MlDsaArg::MlDsa87 => MlDsaAlgorithm::MlDsa87,
                },
            },
        ),
    };
    let keys = generate(
        ctx,
        GenerateRequest {
            kind,
            label: p.public_label.clone(),
            private_label: p.private_label.clone(),
            attributes: assignments(&p.public_attributes)?,
            private_attributes: assignments(&p.private_attributes)?,
            share_with: p.share_crypto_users.clone(),
            manage_quorum: p.manage_private_key_quorum_value,
            use_quorum: p.use_private_key_quorum_value,
            token: !p.session,
        },
    )?;
    match keys.as_slice() {
        [public, private] => {
            let (pf, sf) = (
                ctx.cluster.key_full_coverage(public)?,
                ctx.cluster.key_full_coverage(private)?,
            );
            Ok(Response::ok(KeyPairView {
                public_key: key_view(public, pf),
                private_key: key_view(private, sf),
            }))
        }
        _ => Err(SessionError::Hsm(
            KeyError::Internal("key pair generation returned no pair").into(),
        )),
    }
}

fn curve(c: CurveArg) -> Curve {
    match c {
        CurveArg::Prime256v1 => Curve::Prime256v1,
        CurveArg::Secp256r1 => Curve::Secp256r1,
        CurveArg::Secp224r1 => Curve::Secp224r1,
        CurveArg::Secp384r1 => Curve::Secp384r1,
        CurveArg::Secp256k1 => Curve::Secp256k1,
        CurveArg::Secp521r1 => Curve::Secp521r1,
        CurveArg::Ed25519 => Curve::Ed25519,
    }
}

pub(crate) fn import_pem(ctx: &mut Context<'_>, c: &KeyImportPem) -> Result<Response> {
    logged_in(&ctx.login)?;
    let pem = super::read_path(&c.path)?;
    let expected = match c.key_type_class {
        ImportKeyTypeClass::RsaPublic => KeyType::Rsa,
        ImportKeyTypeClass::EcPublic => KeyType::Ec,
    };
    let key = ctx.cluster.import_public_pem(
        logged_in_mut(&mut ctx.login)?,
        &pem,
        expected,
        &c.label,
        &assignments(&c.attributes)?,
    )?;
    let full = ctx.cluster.key_full_coverage(&key)?;
    Ok(Response::ok(OneKeyView {
        key: key_view(&key, full),
        message: Some("Successfully imported key".into()),
    }))
}

pub(crate) fn generate_file(ctx: &mut Context<'_>, c: &KeyGenerateFile) -> Result<Response> {
    let login = logged_in(&ctx.login)?;
    let terms = terms(&c.filter)?;
    let key = ctx.cluster.select_key(login, &terms)?;
    let text = match c.encoding {
        KeyFileEncoding::Pem => ctx.cluster.public_key_pem(login, &key)?,
        KeyFileEncoding::ReferencePem => ctx.cluster.reference_pem(login, &key)?,
    };
    // A public key or a reference to a private key: nothing a key could be derived from.
    super::write_output(&c.path, text.as_bytes(), super::Sensitivity::Public)?;
    Ok(message("Successfully generated key file"))
}

pub(crate) fn extract_masked(
    ctx: &mut Context<'_>,
    c: &crate::grammar::KeyExtractMasked,
) -> Result<Response> {
    let login = logged_in(&ctx.login)?;
    let terms = terms(&c.filter)?;
    let mut entropy = ctx.session.entropy_snapshot();
    let (key, file) = ctx.cluster.extract_masked(login, &terms, &mut entropy)?;
    let text = serde_json::to_vec_pretty(&file)
        .map_err(|e| SessionError::Prompt(std::io::Error::other(e)))?;
    super::write_output(&c.path, &text, super::Sensitivity::Secret)?;
    Ok(Response::ok(serde_json::json!({
        "key-reference": key.reference_string(),
        "message": "Masked object extracted successfully",
    })))
}

pub(crate) fn insert_masked(
    ctx: &mut Context<'_>,
    c: &crate::grammar::KeyInsertMasked,
) -> Result<Response> {
    let login = logged_in(&ctx.login)?;
    let bytes = super::read_path(&c.path)?;
    let file: crate::hsm::MaskedFile = serde_json::from_slice(&bytes)
        .map_err(|_| SessionError::Hsm(KeyError::MaskedObjectInvalid.into()))?;
    let mut entropy = ctx.session.entropy_snapshot();
    let reference = ctx.cluster.insert_masked(login, &file, &mut entropy)?;
    Ok(Response::ok(serde_json::json!({
        "key-reference": reference,
        "message": "Masked object inserted successfully",
    })))
}

/// `key replicate`: the key as the destination now holds it.
pub(crate) fn replicate(ctx: &mut Context<'_>, c: &KeyReplicate) -> Result<Response> {
    let terms = terms(&c.filter)?;
    let id = CommandId::KeyReplicate;
    Context::on_destination(
        ctx,
        id,
        &c.destination_cluster_id,
        |source, login, destination, to| {
            let login = login.ok_or(SessionError::NoLogin)?;
            let key = source.replicate_key(login, &terms, destination, to)?;
            let full = destination.key_full_coverage(&key)?;
            Ok(Response::ok(OneKeyView {
                key: key_view(&key, full),
                message: Some("Successfully replicated key".into()),
            }))
        },
    )
}
