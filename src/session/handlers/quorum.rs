//! Handlers of `quorum token-sign *`, `user change-quorum token-sign register`,
//! `user change-mfa token-sign` and `login … mfa-token-sign`.

use serde::Serialize;
use serde_json::{Map, Value};

use crate::grammar::{
    ChangeMfaTokenSign, QuorumRegister, QuorumServiceArg, ScopeArg, SetQuorumValue, SetTimeout,
    TargetRole, TokenGenerate,
};
use crate::hsm::key::filter;
use crate::hsm::quorum::TokenSetFile;
use crate::hsm::{QuorumError, Role, Service};
use crate::output::{LoginView, Response};

use super::super::{Context, Prompter, SessionError};
use super::key::actor;
use super::{approval, approval_file, new_password};

type Result<T> = std::result::Result<T, SessionError>;

fn quorum_error(e: QuorumError) -> SessionError {
    SessionError::Hsm(e.into())
}

fn write_json(path: &str, value: &impl Serialize) -> Result<()> {
    let text = serde_json::to_string_pretty(value)
        .map_err(|e| SessionError::Prompt(std::io::Error::other(e)))?;
    // Tokens to be signed by other people: nothing a key could be derived from.
    super::write_output(path, (text + "\n").as_bytes(), super::Sensitivity::Public)
}

fn read_file(path: &str) -> Result<Vec<u8>> {
    super::read_path(path)
}

fn token_set(path: &str) -> Result<TokenSetFile> {
    serde_json::from_slice(&read_file(path)?).map_err(|e| {
        quorum_error(QuorumError::BadFile {
            path: path.to_string(),
            detail: e.to_string(),
        })
    })
}

/// `{"filepath": …, "path": …}` of `quorum token-sign generate`: the command page prints
/// `filepath`, the quorum setup guides (admin and crypto user) print `path`, and scripts follow
/// either, so both keys carry the file's path.
#[derive(Debug, Serialize)]
struct FilepathView {
    filepath: String,
    path: String,
}

pub(crate) fn generate(ctx: &mut Context<'_>, c: &TokenGenerate) -> Result<Response> {
    let actor = actor(ctx)?;
    let key = if c.filter.is_empty() {
        None
    } else {
        let terms = filter::parse(&c.filter).map_err(|e| SessionError::Hsm(e.into()))?;
        let id = ctx.cluster_id.clone();
        Some(
            ctx.cluster
                .select_key(&actor, &terms, ctx.session.session_keys(&id))?
                .reference,
        )
    };
    let sid = ctx.session.id().clone();
    let clock = ctx.session.clock();
    let mut entropy = ctx.session.entropy_snapshot();
    let file = ctx.cluster.generate_token(
        &actor.username,
        actor.role,
        &sid,
        c.service.as_str(),
        key,
        &mut entropy,
        clock,
    )?;
    write_json(&c.token, &file)?;
    Ok(Response::ok(FilepathView {
        filepath: c.token.clone(),
        path: c.token.clone(),
    }))
}

pub(crate) fn list(ctx: &mut Context<'_>) -> Result<Response> {
    let clock = ctx.session.clock();
    let tokens = ctx
        .cluster
        .list_tokens(clock)?
        .into_iter()
        .map(|t| {
            let mut m = Map::new();
            m.insert("username".into(), t.username.into());
            m.insert("service".into(), t.service.into());
            if let Some(r) = t.key_reference {
                m.insert(
                    "key-reference".into(),
                    crate::hsm::key::format_reference(r).into(),
                );
            }
            m.insert("approvals-required".into(), t.approvals_required.into());
            m.insert("number-of-approvals".into(), 0.into());
            m.insert("token-timeout-seconds".into(), t.timeout_seconds.into());
            m.insert("cluster-coverage".into(), "full".into());
            Value::Object(m)
        })
        .collect::<Vec<_>>();
    Ok(Response::ok(serde_json::json!({ "tokens": tokens })))
}

pub(crate) fn delete(ctx: &mut Context<'_>, scope: ScopeArg) -> Result<Response> {
    let actor = actor(ctx)?;
    ctx.cluster
        .delete_tokens(&actor.username, scope == ScopeArg::All)?;
    Ok(Response::message("Deletion of quorum token(s) successful"))
}

pub(crate) fn list_quorum_values(ctx: &mut Context<'_>) -> Result<Response> {
    let mut m = Map::new();
    for (service, value) in ctx.cluster.quorum_values()? {
        m.insert(service.into(), value.into());
    }
    Ok(Response::ok(Value::Object(m)))
}

pub(crate) fn set_quorum_value(ctx: &mut Context<'_>, c: &SetQuorumValue) -> Result<Response> {
    let actor = actor(ctx)?;
    let file = approval_file(c.approval.as_deref())?;
    let sid = ctx.session.id().clone();
    let a = approval(&actor.username, &sid, file.as_ref(), ctx.session.clock());
    let token = ctx.cluster.approve_service(&a, Service::Quorum)?;
    let service = match c.service {
        QuorumServiceArg::User => "user",
        QuorumServiceArg::Quorum => "quorum",
        QuorumServiceArg::Cluster => "cluster",
    };
    ctx.cluster.set_quorum_value(service, c.value)?;
    ctx.cluster.consume_tokens(&[token])?;
    Ok(Response::message("Set Quorum Value successful"))
}

pub(crate) fn list_timeouts(ctx: &mut Context<'_>) -> Result<Response> {
    let (generated, approved) = ctx.cluster.token_timeouts()?;
    Ok(Response::ok(
        serde_json::json!({ "generated": generated, "approved": approved }),
    ))
}

pub(crate) fn set_timeout(ctx: &mut Context<'_>, c: &SetTimeout) -> Result<Response> {
    ctx.cluster.set_token_timeouts(c.generated, c.approved)?;
    Ok(Response::message("Set token timeout successful"))
}

pub(crate) fn register(ctx: &mut Context<'_>, c: &QuorumRegister) -> Result<Response> {
    let actor = actor(ctx)?;
    let pem = read_file(&c.public_key)?;
    let signed = token_set(&c.signed_token)?;
    let sid = ctx.session.id().clone();
    ctx.cluster
        .register_quorum_key(&actor.username, &sid, &pem, &signed)?;
    Ok(Response::ok(LoginView {
        username: actor.username,
        role: actor.role.as_str().into(),
    }))
}

pub(crate) fn change_mfa(
    ctx: &mut Context<'_>,
    c: &ChangeMfaTokenSign,
    prompter: &mut dyn Prompter,
) -> Result<Response> {
    let actor = actor(ctx)?;
    let role = match c.role {
        TargetRole::Admin => Role::Admin,
        TargetRole::CryptoUser => Role::CryptoUser,
        TargetRole::ApplianceUser => Role::ApplianceUser,
    };
    let file = approval_file(c.approval.as_deref())?;
    let sid = ctx.session.id().clone();
    let a = approval(&actor.username, &sid, file.as_ref(), ctx.session.clock());
    let token = ctx.cluster.approve_service(&a, Service::User)?;
    // The command always (re)sets the user's password.
    let password = new_password(c.change_password.as_ref(), prompter)?;
    let username = c.username.to_ascii_lowercase();
    if c.deregister {
        let mut entropy = ctx.session.entropy_snapshot();
        let user =
            ctx.cluster
                .change_password(&username, role, password.expose(), &sid, &mut entropy)?;
        ctx.cluster.deregister_mfa(&user.username)?;
        ctx.cluster.consume_tokens(&[token])?;
        return Ok(Response::ok(LoginView {
            username: user.username,
            role: user.role.as_str().into(),
        }));
    }
    let Some(path) = c.token.as_deref() else {
        return Err(SessionError::NoPassword);
    };
    // Check the target exists before writing tokens for it.
    ctx.cluster.require_user(&username, role)?;
    let mut entropy = ctx.session.entropy_snapshot();
    let clock = ctx.session.clock();
    let unsigned = ctx
        .cluster
        .mfa_tokens(&username, &sid, "mfa-register", &mut entropy, clock)?;
    write_json(path, &unsigned)?;
    let signed_path = prompter
        .line("Enter signed token file path (press enter if same as the unsigned token file):")
        .map_err(SessionError::Prompt)?
        .ok_or(SessionError::NoInput)?;
    let signed_path = if signed_path.trim().is_empty() {
        path.to_string()
    } else {
        signed_path.trim().to_string()
    };
    let pem_path = prompter
        .line("Enter public key PEM file path:")
        .map_err(SessionError::Prompt)?
        .ok_or(SessionError::NoInput)?;
    let signed = token_set(&signed_path)?;
    let pem = read_file(pem_path.trim())?;
    ctx.cluster
        .register_mfa_key(&username, &sid, &pem, &signed)?;
    let user =
        ctx.cluster
            .change_password(&username, role, password.expose(), &sid, &mut entropy)?;
    ctx.cluster.consume_tokens(&[token])?;
    Ok(Response::ok(LoginView {
        username: user.username,
        role: user.role.as_str().into(),
    }))
}

/// The second factor of `login … mfa-token-sign`: writes one unsigned token per HSM, reads
/// the signed file, and checks every signature against the user's registered key.
pub(crate) fn mfa_second_factor(
    ctx: &mut Context<'_>,
    username: &str,
    token_path: &str,
    prompter: &mut dyn Prompter,
) -> Result<()> {
    let sid = ctx.session.id().clone();
    let mut entropy = ctx.session.entropy_snapshot();
    let clock = ctx.session.clock();
    let unsigned = ctx
        .cluster
        .mfa_tokens(username, &sid, "mfa-login", &mut entropy, clock)?;
    write_json(token_path, &unsigned)?;
    let signed_path = prompter
        .line("Enter signed token file path (press enter if same as the unsigned token file):")
        .map_err(SessionError::Prompt)?
        .ok_or(SessionError::NoInput)?;
    let signed_path = if signed_path.trim().is_empty() {
        token_path.to_string()
    } else {
        signed_path.trim().to_string()
    };
    let signed = token_set(&signed_path)?;
    ctx.cluster.verify_mfa_login(username, &sid, &signed)?;
    Ok(())
}
