//! The session state machine: per cluster, logged out or logged in as (user, role), over a
//! cluster that is unactivated or active. Every command is checked against the permission
//! table before its handler runs; handlers translate arguments, call the simulated HSM and
//! build the response.

mod command_id;
mod error;
mod error_basis;
mod handlers;
pub mod key_syntax;
pub mod permissions;

use std::collections::BTreeMap;
use std::io;
use std::path::PathBuf;

use crate::grammar::{Command, LoginRole, OutputFormat};
use crate::hsm::{
    self, Cluster, Credentials, Entropy, HsmError, Login, OpenClusters, Password, Role, SessionId,
    Username,
};
use crate::output::{Format, Response};
use crate::store::Home;

pub use command_id::CommandId;
pub use error::{catalogue as error_catalogue, render_errors_markdown, SessionError};
pub use permissions::{CommandClass, OperationClass, Principal};

/// Asks the person (or the script) at the other end for a password.
pub trait Prompter {
    /// Shows `prompt` (never on stdout) and reads one password; `None` at end of input.
    fn password(&mut self, prompt: &str) -> io::Result<Option<String>>;

    /// Shows `prompt` and reads one line that is not secret (a file path).
    fn line(&mut self, prompt: &str) -> io::Result<Option<String>> {
        self.password(prompt)
    }

    /// Reads and forgets up to `count` lines that were written as a password for a command
    /// that then failed to parse; returns how many there were. Only input that is already
    /// there counts (piped lines, a paste): nobody is prompted for a password no command reads.
    fn skip_secret_lines(&mut self, _count: usize) -> io::Result<usize> {
        Ok(0)
    }
}

/// What the caller does after a command.
#[derive(Debug, Clone, PartialEq)]
pub enum Outcome {
    /// Print this response and carry on.
    Respond(Response),
    /// End the session (`quit`).
    Quit,
    /// Show the session's responses this way from now on (`output`).
    SetFormat(Format),
}

/// One session: what the person at the prompt (or one single-command process) is logged in
/// as on each cluster.
#[derive(Debug)]
pub struct Session {
    home_path: Option<PathBuf>,
    default_cluster: Option<String>,
    /// The login on each cluster, with its session keys (`--session`; gone at logout). The
    /// cluster decides whether a login still holds ([`Cluster::admits`]). A command holds
    /// the login of its cluster in its [`Context`] while it runs.
    logins: BTreeMap<String, Login>,
    id: SessionId,
    entropy: Entropy,
    /// Clusters opened by earlier commands, kept open (reopened after a reset or import),
    /// on the session's clock (`CLOUDHSM_SIM_NOW`).
    open: OpenClusters,
}

/// A command bound to its cluster, ready for a handler: the cluster, and this session's login
/// on it (taken out of the session for the command, and put back after it).
pub(crate) struct Context<'a> {
    pub cluster_id: String,
    pub cluster: Cluster,
    pub login: Option<Login>,
    pub session: &'a mut Session,
}

impl Context<'_> {
    /// Runs `f` on the destination cluster `requested` of a replication whose source `ctx`
    /// holds, with this session's login there; the cluster and the login go back to the
    /// session afterwards. Refused when the destination is the source, when the session is
    /// not logged in there, or when its role there may not run the command.
    pub(crate) fn on_destination<T>(
        ctx: &mut Context<'_>,
        id: CommandId,
        requested: &str,
        f: impl FnOnce(&mut Cluster, Option<&Login>, &mut Cluster, &Login) -> Result<T, SessionError>,
    ) -> Result<T, SessionError> {
        let session = &mut *ctx.session;
        let home = session.home()?;
        let cluster_id = hsm::resolve(&home, Some(requested), &mut session.entropy)?;
        if cluster_id == ctx.cluster_id {
            return Err(SessionError::SameCluster {
                cluster: cluster_id,
            });
        }
        let mut destination = session.open.take(&home, &cluster_id)?;
        if let Err(e) = destination.check_connection() {
            session.open.put(destination);
            return Err(e.into());
        }
        if session
            .logins
            .get(&cluster_id)
            .is_some_and(|l| !destination.admits(l))
        {
            session.logins.remove(&cluster_id);
        }
        let result = (|| {
            destination.require_available()?;
            let login = session.logins.get(&cluster_id).ok_or_else(|| {
                SessionError::NotLoggedInDestination {
                    command: id.name(),
                    cluster: cluster_id.clone(),
                }
            })?;
            let allowed = match permissions::class_of(id) {
                Some(CommandClass::Fixed(class)) => {
                    permissions::allows(class, principal(Some(login)))
                }
                _ => false,
            };
            if !allowed {
                return Err(SessionError::PermissionDenied {
                    username: login.username().to_string(),
                    role: login.role().as_str(),
                    command: id.name(),
                });
            }
            f(
                &mut ctx.cluster,
                ctx.login.as_ref(),
                &mut destination,
                login,
            )
        })()
        .map_err(|e| match e {
            SessionError::Hsm(e) => SessionError::Hsm(destination.locate(e)),
            other => other,
        });
        session.open.put(destination);
        result
    }

    /// Puts the open cluster and the login back into the session once the command is done.
    fn finish(self) {
        let Context {
            cluster_id,
            cluster,
            login,
            session,
        } = self;
        if let Some(login) = login {
            session.logins.insert(cluster_id.clone(), login);
        }
        session.open.put(cluster);
    }
}

impl Session {
    /// A logged-out session on the state directory `home_path` (`None` when no state
    /// directory could be determined: every command then says so). `default_cluster` is the
    /// `--cluster-id` given to `interactive`; `seed` is `CLOUDHSM_SIM_SEED`.
    pub fn new(
        home_path: Option<PathBuf>,
        default_cluster: Option<String>,
        seed: Option<u64>,
    ) -> Session {
        Session {
            home_path,
            default_cluster,
            logins: BTreeMap::new(),
            id: SessionId::new(),
            entropy: Entropy::new(seed),
            open: OpenClusters::default(),
        }
    }

    /// Fixes the clock (`CLOUDHSM_SIM_NOW`, Unix seconds) used for token expiry.
    pub fn with_clock(mut self, clock: Option<i64>) -> Session {
        self.open = OpenClusters::new(clock);
        self
    }

    /// Whether `command` needs a logged-in user (single-command mode then logs in from
    /// `CLOUDHSM_ROLE` / `CLOUDHSM_PIN` first).
    pub fn requires_login(command: &Command) -> bool {
        match permissions::class_of(CommandId::of(command)) {
            Some(CommandClass::Session) => false,
            None => true,
            Some(
                CommandClass::Fixed(class)
                | CommandClass::ByTarget { other: class, .. }
                | CommandClass::ByAttribute { other: class, .. },
            ) => !permissions::allows(class, Principal::Unauthenticated),
        }
    }

    /// Checks the cluster `interactive --cluster-id` named, so that a session on a cluster
    /// that does not exist fails at its start rather than at its first command.
    pub fn check_default_cluster(&mut self) -> Result<(), Response> {
        if self.default_cluster.is_none() {
            return Ok(());
        }
        let home = self.home().map_err(|e| Response::error(e.to_string()))?;
        hsm::resolve(&home, self.default_cluster.as_deref(), &mut self.entropy)
            .map(drop)
            .map_err(|e| Response::error(SessionError::from(e).to_string()))
    }

    /// The prompt's `user@cluster` part, as the real CLI shows it under a multi-cluster
    /// configuration: the user logged in on the session's cluster, when the state directory
    /// (or the CLI configuration) holds more than one cluster. `None`: the plain prompt.
    pub fn whoami(&self) -> Option<String> {
        let cluster = self.default_cluster.as_deref()?;
        let login = self.logins.get(cluster)?;
        let home = self.home().ok()?;
        let configured = home.cli_config().clusters.len();
        let present = home.cluster_ids().map_or(0, |ids| ids.len());
        (configured.max(present) > 1).then(|| format!("{}@{cluster}", login.username()))
    }

    /// Runs one parsed command.
    pub fn execute(&mut self, command: &Command, prompter: &mut dyn Prompter) -> Outcome {
        match self.dispatch(command, prompter) {
            Ok(outcome) => outcome,
            Err(e) => Outcome::Respond(Response::error(e.to_string())),
        }
    }

    /// Logs in from the single-command environment variables (`CLOUDHSM_ROLE`,
    /// `CLOUDHSM_PIN=<username>:<password>`) on the cluster `command` targets (the source
    /// cluster of a replication).
    pub fn login_from_env(
        &mut self,
        command: &Command,
        role: Option<&str>,
        pin: Option<&Password>,
    ) -> Result<(), Response> {
        let id = CommandId::of(command);
        let missing = SessionError::MissingCredentials { command: id.name() };
        self.env_login(handlers::cluster_arg(command), role, pin, missing)
    }

    /// For `user replicate` and `key replicate` in single-command mode: logs in on the
    /// destination cluster from `DESTINATION_CLOUDHSM_ROLE` and `DESTINATION_CLOUDHSM_PIN`.
    /// Nothing for any other command, nor when the destination is the source (the command
    /// then refuses).
    pub fn login_destination_from_env(
        &mut self,
        command: &Command,
        role: Option<&str>,
        pin: Option<&Password>,
    ) -> Result<(), Response> {
        let Some((source, destination)) = handlers::replication_clusters(command) else {
            return Ok(());
        };
        if source == destination {
            return Ok(());
        }
        let id = CommandId::of(command);
        let missing = SessionError::MissingDestinationCredentials { command: id.name() };
        self.env_login(Some(destination), role, pin, missing)
    }

    fn env_login(
        &mut self,
        cluster_id: Option<&str>,
        role: Option<&str>,
        pin: Option<&Password>,
        missing: SessionError,
    ) -> Result<(), Response> {
        let fail = |e: SessionError| Response::error(e.to_string());
        let (Some(role), Some(pin)) = (role, pin) else {
            return Err(fail(missing));
        };
        let credentials =
            Credentials::parse(pin.expose()).map_err(|_| fail(SessionError::MalformedPin))?;
        let role = match role {
            "admin" => LoginRole::Admin,
            "crypto-user" => LoginRole::CryptoUser,
            "appliance-user" => LoginRole::ApplianceUser,
            _ => return Err(fail(SessionError::UnknownRole)),
        };
        let mut ctx = self.context(cluster_id).map_err(fail)?;
        let result = handlers::login(
            &mut ctx,
            credentials.username(),
            role,
            credentials.password().expose(),
        )
        .map(|_| ())
        .map_err(fail);
        ctx.finish();
        result
    }

    /// Logs out of every cluster (the end of a session or process).
    pub fn close(&mut self) {
        let logins = std::mem::take(&mut self.logins);
        let Some(home) = self.home_path.clone().and_then(|p| Home::open(p).ok()) else {
            return;
        };
        for (cluster_id, login) in logins {
            if let Ok(mut cluster) = self.open.take(&home, &cluster_id) {
                // A login of a cluster that was replaced since has nothing to end there.
                if cluster.admits(&login) {
                    // Best effort: a record left behind is pruned once this process is gone.
                    let _ = cluster.logout(login);
                }
            }
        }
    }

    fn dispatch(
        &mut self,
        command: &Command,
        prompter: &mut dyn Prompter,
    ) -> Result<Outcome, SessionError> {
        let result = self.dispatch_once(command, prompter);
        // A command that only reads, whose cluster was reset or imported while it ran, is
        // simply run again on the new database: it changed nothing and prompts for nothing.
        let read_only = matches!(
            CommandId::of(command),
            CommandId::UserList
                | CommandId::ClusterHsmInfo
                | CommandId::QuorumTokenSignListQuorumValues
                | CommandId::QuorumTokenSignListTimeouts
        );
        match result {
            Err(e) if read_only && e.is_replaced() => self.dispatch_once(command, prompter),
            other => other,
        }
    }

    fn dispatch_once(
        &mut self,
        command: &Command,
        prompter: &mut dyn Prompter,
    ) -> Result<Outcome, SessionError> {
        let id = CommandId::of(command);
        match command {
            Command::Quit => return Ok(Outcome::Quit),
            Command::Output(o) => {
                return Ok(Outcome::SetFormat(match o {
                    OutputFormat::Json => Format::Json,
                    OutputFormat::Table => Format::Table,
                }))
            }
            Command::Interactive(_) => return Err(SessionError::NestedInteractive),
            _ => {}
        }
        let mut ctx = self.context(handlers::cluster_arg(command))?;
        let result = (|| {
            // Every command but `cluster hsm-info` (which lists the HSMs that are up) needs one.
            if id != CommandId::ClusterHsmInfo {
                ctx.cluster.require_available()?;
            }
            authorize(id, command, &ctx)?;
            handlers::run(command, &mut ctx, prompter).map(Outcome::Respond)
        })()
        .map_err(|e| match e {
            SessionError::Hsm(e) => SessionError::Hsm(ctx.cluster.locate(e)),
            other => other,
        });
        ctx.finish();
        result
    }

    fn context(&mut self, requested: Option<&str>) -> Result<Context<'_>, SessionError> {
        let home = self.home()?;
        let requested = requested
            .or(self.default_cluster.as_deref())
            .map(str::to_string);
        let cluster_id = hsm::resolve(&home, requested.as_deref(), &mut self.entropy)?;
        // The session keeps the cluster it found when nothing named one: a cluster that
        // another process adds later must not make every command ambiguous.
        if requested.is_none() {
            self.default_cluster = Some(cluster_id.clone());
        }
        let mut cluster = self.open.take(&home, &cluster_id)?;
        // A cluster that enforces mTLS refuses a CLI without a client certificate that
        // chains to one of its trust anchors: no command reaches it.
        if let Err(e) = cluster.check_connection() {
            self.open.put(cluster);
            return Err(e.into());
        }
        // A login made on a database that was replaced since (reset, import) is void, and its
        // session keys with it.
        if self
            .logins
            .get(&cluster_id)
            .is_some_and(|l| !cluster.admits(l))
        {
            self.logins.remove(&cluster_id);
        }
        let login = self.logins.remove(&cluster_id);
        Ok(Context {
            cluster_id,
            cluster,
            login,
            session: self,
        })
    }

    /// A copy of the session's randomness (same seed, if any), for per-key generators.
    pub(crate) fn entropy_snapshot(&self) -> Entropy {
        self.entropy.derive(0)
    }

    fn home(&self) -> Result<Home, SessionError> {
        let path = self.home_path.clone().ok_or_else(|| {
            SessionError::Hsm(hsm::HsmError::Store(crate::store::StoreError::Directory {
                path: PathBuf::from("$CLOUDHSM_SIM_HOME"),
                source: io::Error::new(
                    io::ErrorKind::NotFound,
                    "no state directory: set CLOUDHSM_SIM_HOME (or HOME)",
                ),
            }))
        })?;
        Ok(Home::open(path).map_err(hsm::HsmError::from)?)
    }
}

impl Drop for Session {
    fn drop(&mut self) {
        self.close();
    }
}

/// The principal the permission table sees for a login.
pub fn principal(login: Option<&Login>) -> Principal {
    login.map_or(Principal::Unauthenticated, |l| Principal::of(l.role()))
}

/// The permission check, before any handler runs.
fn authorize(id: CommandId, command: &Command, ctx: &Context<'_>) -> Result<(), SessionError> {
    let denied = || match &ctx.login {
        None => SessionError::NotLoggedIn { command: id.name() },
        Some(login) if login.role() == Role::UnactivatedAdmin => {
            SessionError::NotActivated { command: id.name() }
        }
        Some(login) => SessionError::PermissionDenied {
            username: login.username().to_string(),
            role: login.role().as_str(),
            command: id.name(),
        },
    };
    let class = match permissions::class_of(id) {
        None => return Err(denied()),
        Some(CommandClass::Session) => return Ok(()),
        Some(CommandClass::Fixed(class)) => class,
        Some(CommandClass::ByTarget { own, other }) => {
            let own_target = match (handlers::target_user(command), &ctx.login) {
                (Some(target), Some(login)) => {
                    Username::parse(target).is_ok_and(|t| &t == login.username())
                }
                _ => false,
            };
            if own_target {
                own
            } else {
                other
            }
        }
        Some(CommandClass::ByAttribute { trusted, other }) => {
            let who = principal(ctx.login.as_ref());
            let (class, instead, why) = match handlers::attribute_name(command) {
                Some("trusted") => (trusted, other, "only an admin can set it"),
                _ => (other, trusted, "an admin can only set trusted"),
            };
            // Allowed the command, not this attribute: say so, not that the command is denied.
            return match (&ctx.login, handlers::attribute_name(command)) {
                _ if permissions::allows(class, who) => Ok(()),
                (Some(login), Some(name)) if permissions::allows(instead, who) => {
                    Err(HsmError::AttributeNotPermitted {
                        username: login.username().to_string(),
                        role: login.role().as_str(),
                        attribute: name.to_string(),
                        why,
                    }
                    .into())
                }
                _ => Err(denied()),
            };
        }
    };
    let who = principal(ctx.login.as_ref());
    if permissions::allows(class, who) {
        Ok(())
    } else {
        Err(denied())
    }
}
