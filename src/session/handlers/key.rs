//! Handlers of the `key` commands: translate options, call the simulated HSM, and print
//! keys as the AWS guide shows them.

use serde_json::{Map, Value};

use crate::grammar::{KeyDelete, KeyList, KeySetAttribute, KeyShare, UserRole};
use crate::hsm::key::attributes::hex;
use crate::hsm::key::{filter, Flag, Key, KeyError, Typed};
use crate::hsm::{Actor, Role};
use crate::output::{
    KeyBriefView, KeyInfoView, KeyListView, KeyQuorumView, KeyUserView, KeyView, LabelView, MessageView, Response,
};

use super::super::{Context, SessionError};

type Result<T> = std::result::Result<T, SessionError>;

/// The logged-in user as the HSM sees it (the permission table guarantees a login).
pub(crate) fn actor(ctx: &Context<'_>) -> Result<Actor> {
    let login = ctx.login.as_ref().ok_or(SessionError::NoLogin)?;
    Ok(Actor {
        username: login.username.clone(),
        role: login.role,
    })
}

fn terms(items: &[String]) -> Result<Vec<filter::Term>> {
    filter::parse(items).map_err(|e| SessionError::Hsm(e.into()))
}

fn message(text: &str) -> Response {
    Response::ok(MessageView {
        message: text.to_string(),
    })
}

/// The full key object, attributes in the documented order.
pub(crate) fn key_view(key: &Key) -> KeyView {
    let user = |u: &str| KeyUserView {
        username: u.to_string(),
        key_coverage: "full".into(),
    };
    let mut a = Map::new();
    let flags = &key.attrs.flags;
    a.insert("key-type".into(), key.key_type.as_str().into());
    a.insert("label".into(), key.attrs.label.clone().into());
    let id = if key.attrs.id.is_empty() { String::new() } else { hex(&key.attrs.id) };
    a.insert("id".into(), id.into());
    if let Some(cv) = &key.derived.check_value {
        a.insert("check-value".into(), hex(cv).into());
    }
    a.insert("class".into(), key.class.as_str().into());
    for flag in Flag::ALL {
        if flag == Flag::Sensitive {
            if let Typed::MlDsa { algorithm } = &key.derived.typed {
                a.insert("mldsa-algorithm".into(), algorithm.clone().into());
            }
        }
        a.insert(flag.name().into(), Value::Bool(flag.get(flags)));
    }
    a.insert("key-length-bytes".into(), key.derived.key_length_bytes.into());
    match &key.derived.typed {
        Typed::Rsa {
            public_exponent,
            modulus,
            modulus_size_bits,
        } => {
            a.insert("public-exponent".into(), hex(public_exponent).into());
            a.insert("modulus".into(), hex(modulus).into());
            a.insert("modulus-size-bits".into(), (*modulus_size_bits).into());
        }
        Typed::Ec { ec_point, curve } => {
            a.insert("ec-point".into(), hex(ec_point).into());
            a.insert("curve".into(), curve.clone().into());
        }
        Typed::MlDsa { .. } | Typed::None => {}
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
            cluster_coverage: "full".into(),
        },
        attributes: a,
    }
}

pub(crate) fn list(ctx: &mut Context<'_>, c: &KeyList) -> Result<Response> {
    let actor = actor(ctx)?;
    let terms = terms(&c.filter)?;
    let start = match &c.starting_token {
        None => 0,
        Some(t) => t
            .parse::<usize>()
            .map_err(|_| SessionError::Hsm(KeyError::InvalidStartingToken { token: t.clone() }.into()))?,
    };
    let keys = ctx.cluster.list_keys(&actor, &terms, ctx.session.session_keys(&ctx.cluster_id))?;
    let total = keys.len();
    let max = usize::try_from(c.max_items).unwrap_or(usize::MAX);
    let page: Vec<&Key> = keys.iter().skip(start).take(max).collect();
    let end = start.saturating_add(page.len());
    // "This flag when used by Admins has no effect": admins see references and labels.
    let verbose = c.verbose && actor.role != Role::Admin;
    let matched_keys = page
        .iter()
        .map(|k| {
            if verbose {
                serde_json::to_value(key_view(k))
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
    let actor = actor(ctx)?;
    let terms = terms(&c.filter)?;
    let id = ctx.cluster_id.clone();
    ctx.cluster.delete_key(&actor, &terms, ctx.session.session_keys(&id))?;
    Ok(message("Key deleted successfully"))
}

pub(crate) fn share(ctx: &mut Context<'_>, c: &KeyShare, share: bool) -> Result<Response> {
    let actor = actor(ctx)?;
    let terms = terms(&c.filter)?;
    let role = match c.role {
        UserRole::CryptoUser => Role::CryptoUser,
        UserRole::Admin => Role::Admin,
    };
    let id = ctx.cluster_id.clone();
    ctx.cluster
        .share_key(&actor, &terms, &c.username, role, share, ctx.session.session_keys(&id))?;
    Ok(message(if share {
        "Key shared successfully"
    } else {
        "Key unshared successfully"
    }))
}

pub(crate) fn set_attribute(ctx: &mut Context<'_>, c: &KeySetAttribute) -> Result<Response> {
    let actor = actor(ctx)?;
    let terms = terms(&c.filter)?;
    let value = c.value.join(" ");
    let id = ctx.cluster_id.clone();
    ctx.cluster
        .set_key_attribute(&actor, &terms, &c.name, &value, ctx.session.session_keys(&id))?;
    Ok(message("Attribute set successfully"))
}
