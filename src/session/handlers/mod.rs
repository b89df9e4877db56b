//! Thin command handlers: translate arguments, make one call into the simulated HSM, build
//! the response. Roles are never checked here: the permission table did that already, and
//! the simulated HSM checks them again against the login each call is given.

mod crypto;
mod key;
mod mtls;
mod quorum;
mod wrap;

use crate::grammar::{
    ChangeMfaCommand, ChangeQuorumCommand, ChangeQuorumTokenSign, ClusterCommand, Command,
    CryptoCommand, DecryptCommand, EncryptCommand, GenerateAsymmetricPair, GenerateSymmetric,
    KeyCommand, KeyImport, LoginRole, MacCommand, MtlsCommand, Password, QuorumCommand,
    SignCommand, TargetRole, TokenSignCommand, UnwrapCommand, UserChangePassword, UserCommand,
    UserCreate, UserDelete, UserReplicate, UserRole, VerifyCommand, WrapCommand,
};
use crate::hsm::{
    fips_state, ApprovalFile, Cluster, HsmError, Login, QuorumError, Role, Service, Username,
};
use crate::output::{
    HsmInfoView, HsmView, LoginView, OneUserView, Response, StrategyView, UserView, UsersView,
};

use super::{CommandId, Context, Prompter, SessionError};

type Result<T> = std::result::Result<T, SessionError>;

/// The `--cluster-id` a command was given.
pub(crate) fn cluster_arg(command: &Command) -> Option<&str> {
    if let Some((source, _)) = replication_clusters(command) {
        return Some(source);
    }
    let arg = match command {
        Command::Interactive(c) => &c.cluster,
        Command::Cluster(ClusterCommand::Activate(c)) => &c.cluster,
        Command::Cluster(ClusterCommand::HsmInfo(c) | ClusterCommand::SyncStatus(c)) => &c.cluster,
        Command::Cluster(ClusterCommand::Mtls(m)) => match m {
            MtlsCommand::RegisterTrustAnchor(c) => &c.cluster,
            MtlsCommand::DeregisterTrustAnchor(c) => &c.cluster,
            MtlsCommand::ListTrustAnchors(c) | MtlsCommand::GetEnforcement(c) => &c.cluster,
            MtlsCommand::SetEnforcement(c) => &c.cluster,
        },
        Command::Crypto(CryptoCommand::Sign(s)) => match s {
            SignCommand::Ecdsa(c) | SignCommand::RsaPkcs(c) => &c.input.cluster,
            SignCommand::Ed25519(c) => &c.input.cluster,
            SignCommand::Ed25519ph(c) => &c.input.cluster,
            SignCommand::MlDsa(c) => &c.input.cluster,
            SignCommand::RsaPkcsPss(c) => &c.input.cluster,
        },
        Command::Crypto(CryptoCommand::Verify(v)) => match v {
            VerifyCommand::Ecdsa(c) | VerifyCommand::RsaPkcs(c) => &c.input.cluster,
            VerifyCommand::Ed25519(c) => &c.input.cluster,
            VerifyCommand::Ed25519ph(c) => &c.input.cluster,
            VerifyCommand::MlDsa(c) => &c.input.cluster,
            VerifyCommand::RsaPkcsPss(c) => &c.input.cluster,
        },
        Command::Crypto(CryptoCommand::Encrypt(e)) => match e {
            EncryptCommand::AesGcm(c) => &c.input.cluster,
            EncryptCommand::RsaOaep(c) => &c.input.cluster,
        },
        Command::Crypto(CryptoCommand::Decrypt(d)) => match d {
            DecryptCommand::AesGcm(c) => &c.input.cluster,
            DecryptCommand::RsaOaep(c) => &c.input.cluster,
        },
        Command::Crypto(CryptoCommand::Mac(MacCommand::Hmac(c))) => &c.input.cluster,
        Command::Crypto(CryptoCommand::Digest(c)) => &c.cluster,
        Command::Key(k) => match k {
            KeyCommand::List(c) => &c.cluster,
            KeyCommand::Delete(c) => &c.cluster,
            KeyCommand::Share(c) | KeyCommand::Unshare(c) => &c.cluster,
            KeyCommand::SetAttribute(c) => &c.cluster,
            KeyCommand::GenerateFile(c) => &c.cluster,
            KeyCommand::ExtractMasked(c) => &c.cluster,
            KeyCommand::Replicate(_) => return None,
            KeyCommand::InsertMasked(c) => &c.cluster,
            KeyCommand::Import(KeyImport::Pem(c)) => &c.cluster,
            KeyCommand::GenerateSymmetric(
                GenerateSymmetric::Aes(c) | GenerateSymmetric::GenericSecret(c),
            ) => &c.cluster,
            KeyCommand::Wrap(w) => match w {
                WrapCommand::AesGcm(c) | WrapCommand::CloudhsmAesGcm(c) => &c.wrap.cluster,
                WrapCommand::RsaAes(c) | WrapCommand::RsaOaep(c) => &c.wrap.cluster,
                WrapCommand::AesNoPad(c)
                | WrapCommand::AesPkcs5Pad(c)
                | WrapCommand::AesZeroPad(c)
                | WrapCommand::RsaPkcs(c) => &c.cluster,
            },
            KeyCommand::Unwrap(u) => match u {
                UnwrapCommand::AesGcm(c) => &c.unwrap.cluster,
                UnwrapCommand::CloudhsmAesGcm(c) => &c.unwrap.cluster,
                UnwrapCommand::RsaAes(c) | UnwrapCommand::RsaOaep(c) => &c.unwrap.cluster,
                UnwrapCommand::AesNoPad(c)
                | UnwrapCommand::AesPkcs5Pad(c)
                | UnwrapCommand::AesZeroPad(c)
                | UnwrapCommand::RsaPkcs(c) => &c.cluster,
            },
            KeyCommand::GenerateAsymmetricPair(g) => match g {
                GenerateAsymmetricPair::Rsa(c) => &c.pair.cluster,
                GenerateAsymmetricPair::Ec(c) => &c.pair.cluster,
                GenerateAsymmetricPair::MlDsa(c) => &c.pair.cluster,
            },
        },
        Command::Login(c) => &c.cluster,
        Command::Logout(c) => &c.cluster,
        Command::User(UserCommand::List(c)) => &c.cluster,
        Command::User(UserCommand::Create(c)) => &c.cluster,
        Command::User(UserCommand::Delete(c)) => &c.cluster,
        Command::User(UserCommand::ChangePassword(c)) => &c.cluster,
        Command::User(UserCommand::ChangeMfa(ChangeMfaCommand::TokenSign(c))) => &c.cluster,
        Command::User(UserCommand::ChangeQuorum(ChangeQuorumCommand::TokenSign(
            ChangeQuorumTokenSign::Register(c),
        ))) => &c.cluster,
        Command::Quorum(QuorumCommand::TokenSign(t)) => match t {
            TokenSignCommand::Generate(c) => &c.cluster,
            TokenSignCommand::List(c)
            | TokenSignCommand::ListQuorumValues(c)
            | TokenSignCommand::ListTimeouts(c) => &c.cluster,
            TokenSignCommand::Delete(c) => &c.cluster,
            TokenSignCommand::SetQuorumValue(c) => &c.cluster,
            TokenSignCommand::SetTimeout(c) => &c.cluster,
        },
        Command::User(UserCommand::Replicate(_)) => return None,
        Command::Quit | Command::Output(_) => return None,
    };
    arg.cluster_id.as_deref()
}

/// The source and the destination cluster of `user replicate` and `key replicate`.
pub(crate) fn replication_clusters(command: &Command) -> Option<(&str, &str)> {
    match command {
        Command::User(UserCommand::Replicate(c)) => {
            Some((&c.source_cluster_id, &c.destination_cluster_id))
        }
        Command::Key(KeyCommand::Replicate(c)) => {
            Some((&c.source_cluster_id, &c.destination_cluster_id))
        }
        _ => None,
    }
}

/// The attribute `key set-attribute` sets (the permission class depends on it).
pub(crate) fn attribute_name(command: &Command) -> Option<&str> {
    match command {
        Command::Key(KeyCommand::SetAttribute(c)) => Some(&c.name),
        _ => None,
    }
}

/// The user a command acts on, where the permission class depends on it.
pub(crate) fn target_user(command: &Command) -> Option<&str> {
    match command {
        Command::User(UserCommand::ChangePassword(c)) => Some(&c.username),
        Command::User(UserCommand::ChangeMfa(ChangeMfaCommand::TokenSign(c))) => Some(&c.username),
        _ => None,
    }
}

pub(crate) fn run(
    command: &Command,
    ctx: &mut Context<'_>,
    prompter: &mut dyn Prompter,
) -> Result<Response> {
    match command {
        Command::Cluster(ClusterCommand::Activate(c)) => {
            activate(ctx, c.password.as_ref(), prompter)
        }
        Command::Cluster(ClusterCommand::HsmInfo(_)) => hsm_info(ctx),
        Command::Cluster(ClusterCommand::SyncStatus(_)) => sync_status(ctx),
        Command::Cluster(ClusterCommand::Mtls(c)) => mtls::run(ctx, c),
        Command::Key(KeyCommand::ExtractMasked(c)) => key::extract_masked(ctx, c),
        Command::Key(KeyCommand::InsertMasked(c)) => key::insert_masked(ctx, c),
        Command::Login(c) => {
            let known = match &ctx.login {
                Some(login) => Err(SessionError::AlreadyLoggedIn {
                    username: login.username().to_string(),
                }),
                // A malformed name is refused after the password, as an unknown user is.
                None if c.password.is_none() => match Username::parse(&c.username) {
                    Ok(username) => ctx.cluster.check_login(&username).map_err(Into::into),
                    Err(_) => Ok(()),
                },
                None => Ok(()),
            };
            before_prompt(c.password.as_ref(), 1, prompter, known)?;
            let password = password(c.password.as_ref(), prompter)?;
            match &c.mfa {
                None => login(ctx, &c.username, c.role, password.expose()),
                // A user with MFA logs in only with the second factor, and only such a user
                // can (the simulated HSM refuses either way).
                Some(crate::grammar::LoginCommand::MfaTokenSign(m)) => {
                    quorum::mfa_login(ctx, &c.username, c.role, &password, &m.token, prompter)
                }
            }
        }
        Command::Logout(_) => logout(ctx),
        Command::Crypto(CryptoCommand::Sign(c)) => crypto::sign(ctx, c),
        Command::Crypto(CryptoCommand::Verify(c)) => crypto::verify(ctx, c),
        Command::Crypto(CryptoCommand::Encrypt(c)) => crypto::encrypt(ctx, c),
        Command::Crypto(CryptoCommand::Decrypt(c)) => crypto::decrypt(ctx, c),
        Command::Crypto(CryptoCommand::Mac(c)) => crypto::mac(ctx, c),
        Command::Crypto(CryptoCommand::Digest(c)) => crypto::digest(c),
        Command::Key(KeyCommand::Wrap(c)) => wrap::wrap(ctx, c),
        Command::Key(KeyCommand::Unwrap(c)) => wrap::unwrap(ctx, c),
        Command::Key(KeyCommand::List(c)) => key::list(ctx, c),
        Command::Key(KeyCommand::Delete(c)) => key::delete(ctx, c),
        Command::Key(KeyCommand::Share(c)) => key::share(ctx, c, true),
        Command::Key(KeyCommand::Unshare(c)) => key::share(ctx, c, false),
        Command::Key(KeyCommand::SetAttribute(c)) => key::set_attribute(ctx, c),
        Command::Key(KeyCommand::GenerateFile(c)) => key::generate_file(ctx, c),
        Command::Key(KeyCommand::Import(KeyImport::Pem(c))) => key::import_pem(ctx, c),
        Command::Key(KeyCommand::GenerateSymmetric(g)) => key::generate_symmetric(ctx, g),
        Command::Key(KeyCommand::GenerateAsymmetricPair(g)) => key::generate_pair(ctx, g),
        Command::Key(KeyCommand::Replicate(c)) => key::replicate(ctx, c),
        Command::User(UserCommand::List(_)) => user_list(ctx),
        Command::User(UserCommand::Replicate(c)) => user_replicate(ctx, c),
        Command::User(UserCommand::Create(c)) => user_create(ctx, c, prompter),
        Command::User(UserCommand::Delete(c)) => user_delete(ctx, c),
        Command::User(UserCommand::ChangePassword(c)) => user_change_password(ctx, c, prompter),
        Command::User(UserCommand::ChangeMfa(ChangeMfaCommand::TokenSign(c))) => {
            quorum::change_mfa(ctx, c, prompter)
        }
        Command::User(UserCommand::ChangeQuorum(ChangeQuorumCommand::TokenSign(
            ChangeQuorumTokenSign::Register(c),
        ))) => quorum::register(ctx, c),
        Command::Quorum(QuorumCommand::TokenSign(t)) => match t {
            TokenSignCommand::Generate(c) => quorum::generate(ctx, c),
            TokenSignCommand::List(_) => quorum::list(ctx),
            TokenSignCommand::Delete(c) => quorum::delete(ctx, c.scope),
            TokenSignCommand::ListQuorumValues(_) => quorum::list_quorum_values(ctx),
            TokenSignCommand::SetQuorumValue(c) => quorum::set_quorum_value(ctx, c),
            TokenSignCommand::ListTimeouts(_) => quorum::list_timeouts(ctx),
            TokenSignCommand::SetTimeout(c) => quorum::set_timeout(ctx, c),
        },
        // Handled by the session before a cluster is opened.
        Command::Quit | Command::Output(_) | Command::Interactive(_) => {
            Err(SessionError::NestedInteractive)
        }
    }
}

/// The most an input file (data, signature, key, token or masked object) may hold.
pub(crate) const MAX_INPUT_FILE: u64 = 64 * 1024 * 1024;

/// Reads an input file whole, refusing one larger than [`MAX_INPUT_FILE`] (or endless, such
/// as `/dev/zero`) instead of exhausting memory.
pub(crate) fn read_input(path: &str) -> std::io::Result<Vec<u8>> {
    use std::io::Read;
    let mut bytes = Vec::new();
    std::fs::File::open(path)?
        .take(MAX_INPUT_FILE + 1)
        .read_to_end(&mut bytes)?;
    if bytes.len() as u64 > MAX_INPUT_FILE {
        return Err(std::io::Error::other("the file is larger than 64 MiB"));
    }
    Ok(bytes)
}

/// Whether a file a command writes holds anything a key could be derived from (a masked
/// object, a wrapped key): such a file is private to its owner.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Sensitivity {
    /// Public keys, key references, unsigned tokens: created with the usual mode (0666 less
    /// the umask).
    Public,
    /// Created 0600; an existing file others may read is made 0600 before it is written.
    Secret,
}

/// Writes the file a command produces at a path the user gave (`--path`, `--token`). An
/// existing regular file is overwritten, as the real CLI does (docs/fidelity.md). The last
/// component is never followed when it is a symbolic link, and only a regular file is ever
/// written: a FIFO, a device or a directory is refused, and opening one never blocks.
pub(crate) fn write_output(path: &str, bytes: &[u8], sensitivity: Sensitivity) -> Result<()> {
    use std::io::Write;
    use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
    let refuse = |reason: String| SessionError::WriteFile {
        path: path.to_string(),
        reason,
    };
    let secret = sensitivity == Sensitivity::Secret;
    let opened = std::fs::OpenOptions::new()
        .write(true)
        .create(true)
        .mode(if secret { 0o600 } else { 0o666 })
        .custom_flags(libc::O_NOFOLLOW | libc::O_NONBLOCK | libc::O_CLOEXEC)
        .open(path);
    let file = match opened {
        Ok(file) => file,
        Err(e) if e.raw_os_error() == Some(libc::ELOOP) => {
            return Err(refuse(
                "it is a symbolic link, which is never followed".into(),
            ))
        }
        // O_NONBLOCK on a FIFO that nobody reads.
        Err(e) if e.raw_os_error() == Some(libc::ENXIO) => {
            return Err(refuse("it is not a regular file".into()))
        }
        Err(e) => return Err(refuse(e.to_string())),
    };
    let meta = file.metadata().map_err(|e| refuse(e.to_string()))?;
    if !meta.is_file() {
        return Err(refuse("it is not a regular file".into()));
    }
    let mut file = file;
    let write = |file: &mut std::fs::File| -> std::io::Result<()> {
        if secret && meta.permissions().mode() & 0o077 != 0 {
            file.set_permissions(std::fs::Permissions::from_mode(0o600))?;
        }
        file.set_len(0)?;
        file.write_all(bytes)?;
        file.flush()
    };
    write(&mut file).map_err(|e| refuse(e.to_string()))
}

/// An input file named by an option, read with [`read_input`]; failures name the path.
pub(crate) fn read_path(path: &str) -> Result<Vec<u8>> {
    read_input(path).map_err(|e| SessionError::ReadFile {
        path: path.to_string(),
        reason: e.to_string(),
    })
}

/// The parsed `--approval` (or `--wrapping-approval`, `--payload-approval`) file, if given.
pub(crate) fn approval_file(path: Option<&str>) -> Result<Option<ApprovalFile>> {
    let Some(path) = path else {
        return Ok(None);
    };
    let bad = |detail: String| {
        SessionError::Hsm(
            QuorumError::BadFile {
                path: path.to_string(),
                detail,
            }
            .into(),
        )
    };
    let text = read_input(path).map_err(|e| bad(e.to_string()))?;
    serde_json::from_slice(&text)
        .map(Some)
        .map_err(|e| bad(e.to_string()))
}

/// The login of the command's session on its cluster (the permission table guarantees one
/// wherever a handler asks).
pub(crate) fn logged_in(login: &Option<Login>) -> Result<&Login> {
    login.as_ref().ok_or(SessionError::NoLogin)
}

/// [`logged_in`], for an operation that changes what the login holds (its session keys).
pub(crate) fn logged_in_mut(login: &mut Option<Login>) -> Result<&mut Login> {
    login.as_mut().ok_or(SessionError::NoLogin)
}

/// Refuses a command before its password prompt when `known` already says it fails:
/// nobody is asked for a password that cannot be used. Input already written as that password
/// (the next piped `lines`, a paste) is consumed all the same, so that it never runs, and is
/// never echoed, as a command.
fn before_prompt<T>(
    given: Option<&Password>,
    lines: usize,
    prompter: &mut dyn Prompter,
    known: Result<T>,
) -> Result<T> {
    if known.is_err() && given.is_none() {
        prompter
            .skip_secret_lines(lines)
            .map_err(SessionError::Prompt)?;
    }
    known
}

/// A password given as an option, or else prompted for once.
fn password(given: Option<&Password>, prompter: &mut dyn Prompter) -> Result<Password> {
    if let Some(p) = given {
        return Ok(p.clone());
    }
    prompter
        .password("Enter password:")
        .map_err(SessionError::Prompt)?
        .map(Password::from)
        .ok_or(SessionError::NoPassword)
}

/// A new password given as an option, or else prompted for and confirmed.
pub(crate) fn new_password(
    given: Option<&Password>,
    prompter: &mut dyn Prompter,
) -> Result<Password> {
    if let Some(p) = given {
        return Ok(p.clone());
    }
    let first = password(None, prompter)?;
    let second = prompter
        .password("Confirm password:")
        .map_err(SessionError::Prompt)?
        .map(Password::from)
        .ok_or(SessionError::NoConfirmation)?;
    if first == second {
        Ok(first)
    } else {
        Err(SessionError::PasswordMismatch)
    }
}

fn activate(
    ctx: &mut Context<'_>,
    given: Option<&Password>,
    prompter: &mut dyn Prompter,
) -> Result<Response> {
    let known = match ctx.cluster.activated() {
        Ok(true) => Err(crate::hsm::HsmError::AlreadyActivated.into()),
        Ok(false) => Ok(()),
        Err(e) => Err(e.into()),
    };
    before_prompt(given, 2, prompter, known)?;
    let pw = new_password(given, prompter)?;
    ctx.cluster
        .activate(pw.expose(), &mut ctx.session.entropy)?;
    // The unactivated admin's login ends with activation (the cluster forgot it): the docs
    // log in again as admin.
    ctx.login = None;
    Ok(Response::message("Cluster activation successful"))
}

fn hsm_info(ctx: &mut Context<'_>) -> Result<Response> {
    let settings = ctx.cluster.settings().clone();
    let model = settings.hsm_type.model();
    let hsms = ctx
        .cluster
        .hsms()?
        .into_iter()
        .filter(|h| h.up)
        .map(|h| HsmView {
            vendor: model.vendor.into(),
            model: model.model.into(),
            serial_number: h.serial_number,
            hardware_version_major: model.hardware_version_major.into(),
            hardware_version_minor: model.hardware_version_minor.into(),
            firmware_version_major: model.firmware_version_major.into(),
            firmware_version_minor: model.firmware_version_minor.into(),
            firmware_build_number: model.firmware_build_number.into(),
            firmware_id: model.firmware_id.into(),
            fips_state: fips_state(settings.fips).into(),
        })
        .collect();
    Ok(Response::ok(HsmInfoView { hsms }))
}

fn sync_status(ctx: &mut Context<'_>) -> Result<Response> {
    let (in_sync, hsms) = ctx.cluster.sync_status(logged_in(&ctx.login)?)?;
    let hsms: Vec<serde_json::Value> = hsms
        .into_iter()
        .map(|h| {
            serde_json::json!({
                "hsm-id": h.id,
                "state": if h.up { "up" } else { "down" },
                "digests": h.digests,
            })
        })
        .collect();
    Ok(Response::ok(
        serde_json::json!({ "in-sync": in_sync, "hsms": hsms }),
    ))
}

pub(crate) fn login(
    ctx: &mut Context<'_>,
    username: &str,
    role: LoginRole,
    password: &str,
) -> Result<Response> {
    let role = login_role(role);
    let username = Username::parse_login(username)?;
    let login = ctx
        .cluster
        .login(&username, role, password, &ctx.session.id)?;
    Ok(logged_in_as(ctx, login))
}

/// Holds `login` as the session's login on the command's cluster; the response of `login`.
pub(crate) fn logged_in_as(ctx: &mut Context<'_>, login: Login) -> Response {
    let view = LoginView {
        username: login.username().to_string(),
        role: login.role().as_str().into(),
    };
    ctx.login = Some(login);
    Response::ok(view)
}

/// The role a user logs in with.
pub(crate) fn login_role(role: LoginRole) -> Role {
    match role {
        LoginRole::Admin => Role::Admin,
        LoginRole::CryptoUser => Role::CryptoUser,
        LoginRole::ApplianceUser => Role::ApplianceUser,
    }
}

fn logout(ctx: &mut Context<'_>) -> Result<Response> {
    let login = ctx.login.take().ok_or(SessionError::NoLogin)?;
    ctx.cluster.logout(login)?;
    Ok(Response::message("Logout successful"))
}

fn user_list(ctx: &mut Context<'_>) -> Result<Response> {
    let users = user_views(&mut ctx.cluster)?;
    Ok(Response::ok(UsersView { users }))
}

/// Every user of `cluster` as `user list` shows it.
fn user_views(cluster: &mut Cluster) -> Result<Vec<UserView>> {
    let registrations = cluster.registrations()?;
    let coverage = cluster.user_coverage()?;
    let strategy = |on: bool| -> Vec<StrategyView> {
        if on {
            vec![StrategyView {
                strategy: "token-sign".into(),
                status: "enabled".into(),
            }]
        } else {
            Vec::new()
        }
    };
    Ok(cluster
        .users()?
        .into_iter()
        .map(|u| {
            let (quorum, mfa) = registrations
                .iter()
                .find(|(name, _, _)| *name == u.username)
                .map_or((false, false), |(_, q, m)| (*q, *m));
            let full = coverage.get(&u.username).copied().unwrap_or(true);
            UserView {
                username: u.username,
                role: u.role.as_str().into(),
                locked: u.locked.to_string(),
                cluster_coverage: if full {
                    "full".into()
                } else {
                    "partial".into()
                },
                mfa: strategy(mfa),
                quorum: strategy(quorum),
            }
        })
        .collect())
}

/// `user replicate`: the user as the destination now lists it.
fn user_replicate(ctx: &mut Context<'_>, c: &UserReplicate) -> Result<Response> {
    let username = Username::parse(&c.username)?;
    let role = user_role(c.role);
    let destination_id = &c.destination_cluster_id;
    let id = CommandId::UserReplicate;
    Context::on_destination(ctx, id, destination_id, |source, login, destination, to| {
        let login = login.ok_or(SessionError::NoLogin)?;
        let user = source.replicate_user(login, destination, to, &username, role)?;
        let view = user_views(destination)?
            .into_iter()
            .find(|u| u.username == user.username)
            .ok_or(SessionError::Hsm(HsmError::UserNotFound {
                username: user.username,
                role: role.as_str().to_string(),
            }))?;
        Ok(Response::ok(OneUserView {
            user: view,
            message: "Successfully replicated user".into(),
        }))
    })
}

fn user_role(role: UserRole) -> Role {
    match role {
        UserRole::Admin => Role::Admin,
        UserRole::CryptoUser => Role::CryptoUser,
    }
}

fn done(username: String, role: Role) -> Response {
    Response::ok(LoginView {
        username,
        role: role.as_str().into(),
    })
}

/// Checks, before any password prompt, the user-service approval of the logged-in user's
/// operation (the operation checks it again and spends it); returns the parsed file.
fn user_service_approval(
    ctx: &mut Context<'_>,
    path: Option<&str>,
) -> Result<Option<ApprovalFile>> {
    let login = logged_in(&ctx.login)?;
    let file = approval_file(path)?;
    ctx.cluster
        .check_service_approval(login, Service::User, file.as_ref())?;
    Ok(file)
}

fn user_create(
    ctx: &mut Context<'_>,
    c: &UserCreate,
    prompter: &mut dyn Prompter,
) -> Result<Response> {
    // With the password given, the create itself checks, in its own order.
    let known = user_service_approval(ctx, c.approval.as_deref()).and_then(|file| {
        if c.password.is_some() {
            return Ok(file);
        }
        Username::parse(&c.username)
            .and_then(|username| ctx.cluster.check_new_user(&username, user_role(c.role)))
            .map(|()| file)
            .map_err(Into::into)
    });
    let file = before_prompt(c.password.as_ref(), 2, prompter, known)?;
    let pw = new_password(c.password.as_ref(), prompter)?;
    let username = Username::parse(&c.username)?;
    let user = ctx.cluster.create_user(
        logged_in(&ctx.login)?,
        &username,
        user_role(c.role),
        pw.expose(),
        file.as_ref(),
        &mut ctx.session.entropy,
    )?;
    Ok(done(user.username, user.role))
}

fn user_delete(ctx: &mut Context<'_>, c: &UserDelete) -> Result<Response> {
    let file = user_service_approval(ctx, c.approval.as_deref())?;
    let username = Username::parse(&c.username)?;
    let user = ctx.cluster.delete_user(
        logged_in(&ctx.login)?,
        &username,
        user_role(c.role),
        file.as_ref(),
    )?;
    Ok(done(user.username, user.role))
}

fn user_change_password(
    ctx: &mut Context<'_>,
    c: &UserChangePassword,
    prompter: &mut dyn Prompter,
) -> Result<Response> {
    let role = match c.role {
        TargetRole::Admin => Role::Admin,
        TargetRole::CryptoUser => Role::CryptoUser,
        TargetRole::ApplianceUser => Role::ApplianceUser,
    };
    let known = user_service_approval(ctx, c.approval.as_deref()).and_then(|file| {
        if c.password.is_some() {
            return Ok(file);
        }
        Username::parse(&c.username)
            .and_then(|username| ctx.cluster.require_user(&username, role))
            .map(|_| file)
            .map_err(Into::into)
    });
    let file = before_prompt(c.password.as_ref(), 2, prompter, known)?;
    let pw = new_password(c.password.as_ref(), prompter)?;
    let username = Username::parse(&c.username)?;
    let deregister = c.deregister_mfa || c.deregister_quorum;
    if deregister {
        // A missing user is told before a bad password, as when the password is prompted for.
        ctx.cluster.require_user(&username, role)?;
    }
    let user = ctx.cluster.change_password(
        logged_in(&ctx.login)?,
        &username,
        role,
        pw.expose(),
        deregister,
        file.as_ref(),
        &mut ctx.session.entropy,
    )?;
    Ok(done(user.username, user.role))
}
