//! The front end of `cloudhsm-cli`: the three ways in (terminal REPL, piped input,
//! single-command mode), password prompts, history and completion.
//!
//! Exit status (docs/scripting.md): single-command mode exits 0 when `error_code` is 0, 1
//! when it is 1, and 2 on a usage error. Interactive and piped sessions carry on after a
//! failure and exit 0 at `quit` or end of input, unless `CLOUDHSM_SIM_STRICT=1`, which stops
//! at the first failure with that failure's status.

mod env;
mod lines;
mod repl;
mod secret;
mod terminal;

use std::ffi::OsString;
use std::io::{self, BufRead, Write};

use crate::grammar::{Cli, Command};
use crate::output::{Response, View};
use crate::session::Session;
use zeroize::Zeroizing;

pub use env::Env;
pub use lines::{holds_secret, Continuation};
pub use repl::{Failure, Shell, Step};
pub use secret::{read_line, LinePrompter, NoInput, TerminalPrompter};
pub use terminal::{CONTINUATION_PROMPT, PROMPT};

/// The process's standard streams, injectable for tests.
pub struct Stdio<'a> {
    pub input: &'a mut dyn BufRead,
    /// Whether stdin is a terminal (passwords are then read without echo).
    pub input_is_terminal: bool,
    /// Whether stdin and stdout are both terminals (the REPL then uses the line editor).
    pub interactive_terminal: bool,
    pub out: &'a mut dyn Write,
    pub err: &'a mut dyn Write,
}

/// Runs `cloudhsm-cli` with `args` (without the program name) and returns the exit status.
pub fn run(args: Vec<OsString>, env: &Env, io: Stdio<'_>) -> i32 {
    let seed = match env.sim.seed() {
        Ok(seed) => seed,
        Err(text) => {
            let _ = writeln!(io.err, "error: {text}");
            return 2;
        }
    };
    let cli = match Cli::parse_words(args) {
        Ok(cli) => cli,
        Err(e) => {
            let session = Session::new(env.sim.home().cloned(), None, seed);
            let mut shell = Shell::new(session, io.out, io.err);
            return match shell.usage(&e) {
                Ok(Step::Done { failed: Some(f) }) => f.exit_code(),
                _ => 0,
            };
        }
    };
    let flag = match &cli.command {
        Command::Interactive(args) => args.output.as_deref(),
        _ => None,
    };
    let format = match env.format(flag) {
        Ok(format) => format,
        Err(text) => {
            let _ = writeln!(io.err, "error: {text}");
            return 2;
        }
    };
    // Tables take the terminal's width on a terminal, a fixed one otherwise.
    let view = View {
        format,
        width: (!io.interactive_terminal).then_some(crate::output::TABLE_WIDTH),
    };
    match cli.command {
        Command::Interactive(args) => {
            let session = Session::new(env.sim.home().cloned(), args.cluster.cluster_id, seed)
                .with_clock(env.sim.clock());
            interactive(session, env, io, view)
        }
        command => single(
            command,
            Session::new(env.sim.home().cloned(), None, seed).with_clock(env.sim.clock()),
            env,
            io,
            view,
        ),
    }
}

/// Single-command mode: log in from the environment if the command needs it, run it once.
fn single(command: Command, mut session: Session, env: &Env, io: Stdio<'_>, view: View) -> i32 {
    if Session::requires_login(&command) {
        let logged_in = session
            .login_from_env(&command, env.role.as_deref(), env.pin.as_ref())
            .and_then(|()| {
                session.login_destination_from_env(
                    &command,
                    env.destination_role.as_deref(),
                    env.destination_pin.as_ref(),
                )
            });
        if let Err(response) = logged_in {
            let _ = response.write_json(io.out);
            return Failure::Command.exit_code();
        }
    }
    let mut tty = TerminalPrompter;
    let mut line_prompter;
    let prompter: &mut dyn crate::session::Prompter = if io.input_is_terminal {
        &mut tty
    } else {
        line_prompter = LinePrompter::new(io.input);
        &mut line_prompter
    };
    let outcome = session.execute(&command, prompter);
    session.close();
    let response = match outcome {
        crate::session::Outcome::Quit => return 0,
        crate::session::Outcome::Respond(response) => response,
        crate::session::Outcome::SetFormat(_) => Response::error(
            "output sets the format of an interactive session; a single command takes \
             CLOUDHSM_SIM_OUTPUT",
        ),
    };
    let mut shell = Shell::new(session, io.out, io.err).with_view(view);
    match shell.respond(&response) {
        Ok(Step::Done { failed: Some(f) }) => f.exit_code(),
        _ => 0,
    }
}

/// `cloudhsm-cli interactive`: the line editor on a terminal, plain lines otherwise.
fn interactive(mut session: Session, env: &Env, io: Stdio<'_>, view: View) -> i32 {
    if let Err(response) = session.check_default_cluster() {
        let _ = response.write_json(io.out);
        return Failure::Command.exit_code();
    }
    // rustyline reads a terminal it cannot drive (TERM=dumb) through a second lock of stdin,
    // which this process holds: such a terminal gets plain lines, with prompts.
    if io.interactive_terminal && !terminal::unsupported_terminal() {
        let history = env
            .sim
            .home()
            .cloned()
            .and_then(|p| crate::store::Home::open(p).ok())
            .map(|h| h.history_path());
        if let Ok(terminal) = terminal::Terminal::new(history, env.sim.home().cloned()) {
            let shell = Shell::new(session, io.out, io.err)
                .with_view(view)
                .with_pager(env.pager.clone());
            return terminal_loop(shell, terminal, env.strict);
        }
    }
    let shell = Shell::new(session, io.out, io.err)
        .with_view(view)
        .on_terminal(io.interactive_terminal);
    piped_shell(shell, env.strict, io.input_is_terminal, io.input)
}

fn finish(mut shell: Shell<'_>, status: i32) -> i32 {
    shell.session.close();
    status
}

fn terminal_loop(mut shell: Shell<'_>, mut terminal: terminal::Terminal, strict: bool) -> i32 {
    loop {
        // A line may hold a password: its bytes are zeroed once the command has run.
        // `aws-cloudhsm > `, or `user@cluster > ` once more than one cluster is configured.
        let prompt = shell
            .session
            .whoami()
            .map_or_else(|| PROMPT.to_string(), |who| format!("{who} > "));
        let line = match terminal.read(&prompt) {
            terminal::Input::Line(line) => line,
            terminal::Input::Interrupted => continue,
            terminal::Input::Eof => {
                // Leave the terminal on a fresh line, as shells do at Ctrl-D.
                let _ = shell.end_line();
                return finish(shell, 0);
            }
        };
        // Output taller than the terminal goes through the pager, if one is set.
        shell.set_rows(terminal.rows());
        let step = shell.run_line(&line, &mut terminal::EditorPrompter(&mut terminal));
        if matches!(
            step,
            Ok(Step::Quit
                | Step::Done {
                    failed: None | Some(Failure::Command)
                })
        ) {
            terminal.remember(&line);
        }
        match step {
            Ok(Step::Quit) => return finish(shell, 0),
            Ok(Step::Done { failed: Some(f) }) if strict => return finish(shell, f.exit_code()),
            Ok(Step::Done { .. }) => {}
            Err(_) => return finish(shell, 0),
        }
    }
}

/// Plain line input: each line is a command. When stdin is a pipe, a password that
/// `--password` does not give is the next line; when stdin is a terminal (and only stdout is
/// redirected) it is prompted for without echo. No command prompt is printed; every response
/// is flushed as soon as it is printed.
pub fn piped_loop(
    session: Session,
    strict: bool,
    input_is_terminal: bool,
    input: &mut dyn BufRead,
    out: &mut dyn Write,
    err: &mut dyn Write,
) -> i32 {
    piped_shell(
        Shell::new(session, out, err),
        strict,
        input_is_terminal,
        input,
    )
}

fn piped_shell(
    mut shell: Shell<'_>,
    strict: bool,
    input_is_terminal: bool,
    input: &mut dyn BufRead,
) -> i32 {
    let mut continuation = Continuation::new();
    loop {
        // A terminal the line editor cannot drive (TERM=dumb) still gets its prompts.
        if input_is_terminal && shell.is_terminal() {
            let prompt = if continuation.is_continuing() {
                CONTINUATION_PROMPT
            } else {
                PROMPT
            };
            let _ = shell.prompt(prompt);
        }
        // A line may hold a password: its bytes are zeroed once the command has run.
        let line = match read_line(input) {
            Ok(Some(line)) => match continuation.push(&Zeroizing::new(line)) {
                Some(line) => line,
                None => continue,
            },
            // The end of input runs a command whose last line ended in `\`, as shells do.
            Ok(None) => match continuation.finish() {
                Some(line) => line,
                None => return finish(shell, 0),
            },
            Err(e) if e.kind() == io::ErrorKind::InvalidData => {
                let what = if continuation.finish().is_some() {
                    "error: input line is not valid UTF-8; the command it continues was skipped"
                } else {
                    "error: input line is not valid UTF-8; it was skipped"
                };
                let _ = shell.diagnostic(what);
                if strict {
                    return finish(shell, Failure::Usage.exit_code());
                }
                continue;
            }
            Err(_) => return finish(shell, 0),
        };
        let step = if input_is_terminal {
            shell.run_line(&line, &mut TerminalPrompter)
        } else {
            shell.run_line(&line, &mut LinePrompter::new(input))
        };
        match step {
            Ok(Step::Quit) => return finish(shell, 0),
            Ok(Step::Done { failed: Some(f) }) if strict => return finish(shell, f.exit_code()),
            Ok(Step::Done { .. }) => {}
            // stdout closed (a reader went away): stop quietly, as ripgrep does.
            Err(_) => return finish(shell, 0),
        }
    }
}
