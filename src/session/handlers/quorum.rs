//! Handlers of `quorum token-sign *`, `user change-quorum token-sign register`,
//! `user change-mfa token-sign` and `login … mfa-token-sign`.

use serde::Serialize;
use serde_json::{Map, Value};

use crate::grammar::{
    ChangeMfaTokenSign, LoginRole, Password, QuorumRegister, QuorumServiceArg, ScopeArg,
    ServiceArg, SetQuorumValue, SetTimeout, TargetRole, TokenGenerate,
};
use crate::hsm::quorum::TokenSetFile;
use crate::hsm::{QuorumError, Role, Service, Username};
use crate::output::{LoginView, Response};
use crate::session::key_syntax::parse_filter;

use super::super::{Context, Prompter, SessionError};
use super::{approval_file, logged_in, new_password};

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
    let login = logged_in(&ctx.login)?;
    let key = if c.filter.is_empty() {
        None
    } else {
        let terms = parse_filter(&c.filter).map_err(|e| SessionError::Hsm(e.into()))?;
        Some(ctx.cluster.select_key(login, &terms)?.reference)
    };
    let mut entropy = ctx.session.entropy_snapshot();
    let file = ctx
        .cluster
        .generate_token(login, service(c.service), key, &mut entropy)?;
    write_json(&c.token, &file)?;
    Ok(Response::ok(FilepathView {
        filepath: c.token.clone(),
        path: c.token.clone(),
    }))
}

/// The quorum service `--service` names.
fn service(arg: ServiceArg) -> Service {
    match arg {
        ServiceArg::User => Service::User,
        ServiceArg::Quorum => Service::Quorum,
        ServiceArg::Cluster => Service::Cluster,
        ServiceArg::Registration => Service::Registration,
        ServiceArg::KeyUsage => Service::KeyUsage,
        ServiceArg::KeyManagement => Service::KeyManagement,
    }
}

pub(crate) fn list(ctx: &mut Context<'_>) -> Result<Response> {
    let tokens = ctx
        .cluster
        .list_tokens(logged_in(&ctx.login)?)?
        .into_iter()
        .map(|t| {
            let mut m = Map::new();
            m.insert("username".into(), t.username.into());
            m.insert("service".into(), t.service.as_str().into());
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
    ctx.cluster
        .delete_tokens(logged_in(&ctx.login)?, scope == ScopeArg::All)?;
    Ok(Response::message("Deletion of quorum token(s) successful"))
}

pub(crate) fn list_quorum_values(ctx: &mut Context<'_>) -> Result<Response> {
    let mut m = Map::new();
    for (service, value) in ctx.cluster.quorum_values()? {
        m.insert(service.as_str().into(), value.into());
    }
    Ok(Response::ok(Value::Object(m)))
}

pub(crate) fn set_quorum_value(ctx: &mut Context<'_>, c: &SetQuorumValue) -> Result<Response> {
    let login = logged_in(&ctx.login)?;
    let file = approval_file(c.approval.as_deref())?;
    // The approval is refused before the service and value are looked at.
    ctx.cluster
        .check_service_approval(login, Service::Quorum, file.as_ref())?;
    let service = match c.service {
        QuorumServiceArg::User => Service::User,
        QuorumServiceArg::Quorum => Service::Quorum,
        QuorumServiceArg::Cluster => Service::Cluster,
    };
    ctx.cluster
        .set_quorum_value(login, service, c.value, file.as_ref())?;
    Ok(Response::message("Set Quorum Value successful"))
}

pub(crate) fn list_timeouts(ctx: &mut Context<'_>) -> Result<Response> {
    let (generated, approved) = ctx.cluster.token_timeouts()?;
    Ok(Response::ok(
        serde_json::json!({ "generated": generated, "approved": approved }),
    ))
}

pub(crate) fn set_timeout(ctx: &mut Context<'_>, c: &SetTimeout) -> Result<Response> {
    ctx.cluster
        .set_token_timeouts(logged_in(&ctx.login)?, c.generated, c.approved)?;
    Ok(Response::message("Set token timeout successful"))
}

pub(crate) fn register(ctx: &mut Context<'_>, c: &QuorumRegister) -> Result<Response> {
    let login = logged_in(&ctx.login)?;
    let pem = read_file(&c.public_key)?;
    let signed = token_set(&c.signed_token)?;
    ctx.cluster.register_quorum_key(login, &pem, &signed)?;
    Ok(Response::ok(LoginView {
        username: login.username().to_string(),
        role: login.role().as_str().into(),
    }))
}

pub(crate) fn change_mfa(
    ctx: &mut Context<'_>,
    c: &ChangeMfaTokenSign,
    prompter: &mut dyn Prompter,
) -> Result<Response> {
    let login = logged_in(&ctx.login)?;
    let role = match c.role {
        TargetRole::Admin => Role::Admin,
        TargetRole::CryptoUser => Role::CryptoUser,
        TargetRole::ApplianceUser => Role::ApplianceUser,
    };
    let file = approval_file(c.approval.as_deref())?;
    ctx.cluster
        .check_service_approval(login, Service::User, file.as_ref())?;
    // The command always (re)sets the user's password.
    let password = new_password(c.change_password.as_ref(), prompter)?;
    let mut entropy = ctx.session.entropy_snapshot();
    let username = Username::parse(&c.username)?;
    if c.deregister {
        let user = ctx.cluster.change_password(
            login,
            &username,
            role,
            password.expose(),
            true,
            file.as_ref(),
            &mut entropy,
        )?;
        return Ok(Response::ok(LoginView {
            username: user.username,
            role: user.role.as_str().into(),
        }));
    }
    let Some(path) = c.token.as_deref() else {
        return Err(SessionError::NoPassword);
    };
    let unsigned = ctx
        .cluster
        .issue_mfa_registration(login, &username, role, &mut entropy)?;
    write_json(path, &unsigned)?;
    let signed_path = signed_token_path(path, prompter)?;
    let pem_path = prompter
        .line("Enter public key PEM file path:")
        .map_err(SessionError::Prompt)?
        .ok_or(SessionError::NoInput)?;
    let signed = token_set(&signed_path)?;
    let pem = read_file(pem_path.trim())?;
    let user = ctx.cluster.register_mfa_key(
        login,
        &username,
        role,
        &pem,
        &signed,
        password.expose(),
        file.as_ref(),
        &mut entropy,
    )?;
    Ok(Response::ok(LoginView {
        username: user.username,
        role: user.role.as_str().into(),
    }))
}

/// Asks where the signed token file is; an empty answer: the unsigned file, signed in place.
fn signed_token_path(unsigned: &str, prompter: &mut dyn Prompter) -> Result<String> {
    let answer = prompter
        .line("Enter signed token file path (press enter if same as the unsigned token file):")
        .map_err(SessionError::Prompt)?
        .ok_or(SessionError::NoInput)?;
    Ok(if answer.trim().is_empty() {
        unsigned.to_string()
    } else {
        answer.trim().to_string()
    })
}

/// `login … mfa-token-sign`: the password first (the simulated HSM refuses a user without
/// MFA), then one unsigned token per HSM written to `token_path`, then the signed file read
/// and checked against the user's registered key. Nobody is logged in until it checked.
pub(crate) fn mfa_login(
    ctx: &mut Context<'_>,
    username: &str,
    role: LoginRole,
    password: &Password,
    token_path: &str,
    prompter: &mut dyn Prompter,
) -> Result<Response> {
    let mut entropy = ctx.session.entropy_snapshot();
    let challenge = ctx.cluster.begin_mfa_login(
        &Username::parse_login(username)?,
        super::login_role(role),
        password.expose(),
        &ctx.session.id,
        &mut entropy,
    )?;
    write_json(token_path, challenge.tokens())?;
    let signed_path = signed_token_path(token_path, prompter)?;
    let signed = token_set(&signed_path)?;
    let login = ctx.cluster.complete_mfa_login(challenge, &signed)?;
    Ok(super::logged_in_as(ctx, login))
}

#[cfg(test)]
mod tests {
    use clap::ValueEnum;

    use super::*;

    #[test]
    fn every_service_the_cli_names_is_the_hsm_service_of_that_name() {
        for arg in ServiceArg::value_variants() {
            let name = arg.to_possible_value().map(|v| v.get_name().to_string());
            assert_eq!(name.as_deref(), Some(service(*arg).as_str()));
            assert_eq!(Service::parse(service(*arg).as_str()), Some(service(*arg)));
        }
    }
}
