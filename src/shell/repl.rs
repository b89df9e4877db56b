//! The shell: one line in, one response out. Shared by the terminal REPL, piped scripts and
//! the transcript tests, so all three see the same behaviour.

use std::io::{self, Write};

use crate::grammar::Cli;
use crate::output::Response;
use crate::session::{Outcome, Prompter, Session};

/// How a line went.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Step {
    /// The command ran (or the line was blank); `failed` says whether it failed.
    Done { failed: Option<Failure> },
    /// `quit`.
    Quit,
}

/// What kind of failure a line was.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Failure {
    /// The command ran and reported `error_code` 1.
    Command,
    /// The line could not be parsed (clap's message was printed).
    Usage,
}

impl Failure {
    /// The exit status this failure gives in single-command and strict mode.
    pub fn exit_code(self) -> i32 {
        match self {
            Failure::Command => 1,
            Failure::Usage => 2,
        }
    }
}

/// A session with somewhere to write.
pub struct Shell<'w> {
    pub session: Session,
    out: &'w mut dyn Write,
    err: &'w mut dyn Write,
    /// The clap command tree, built once per shell: building it costs more than most commands.
    grammar: Option<clap::Command>,
}

impl<'w> Shell<'w> {
    pub fn new(session: Session, out: &'w mut dyn Write, err: &'w mut dyn Write) -> Self {
        Shell {
            session,
            out,
            err,
            grammar: None,
        }
    }

    /// Runs one input line: blank lines and `#` comments are skipped, the rest is split with
    /// shell quoting and parsed by the grammar. A failing line never ends the session.
    pub fn run_line(&mut self, line: &str, prompter: &mut dyn Prompter) -> io::Result<Step> {
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') {
            return Ok(Step::Done { failed: None });
        }
        let Some(mut words) = shlex::split(line) else {
            writeln!(self.err, "error: unbalanced quotes in command line")?;
            self.err.flush()?;
            return Ok(Step::Done {
                failed: Some(Failure::Usage),
            });
        };
        let grammar = self.grammar.get_or_insert_with(Cli::command_tree);
        let argv =
            std::iter::once(crate::grammar::BIN_NAME).chain(words.iter().map(String::as_str));
        let parsed = grammar
            .try_get_matches_from_mut(argv)
            .and_then(|mut m| <Cli as clap::FromArgMatches>::from_arg_matches_mut(&mut m));
        // The words may hold a password; clap's own copies are out of reach.
        words.iter_mut().for_each(zeroize::Zeroize::zeroize);
        let cli = match parsed {
            Ok(cli) => cli,
            Err(e) => return self.usage(&e),
        };
        match self.session.execute(&cli.command, prompter) {
            Outcome::Quit => Ok(Step::Quit),
            Outcome::Respond(response) => self.respond(&response),
        }
    }

    /// Prints a response.
    pub fn respond(&mut self, response: &Response) -> io::Result<Step> {
        response.write_json(self.out)?;
        Ok(Step::Done {
            failed: (!response.is_success()).then_some(Failure::Command),
        })
    }

    /// Prints clap's message: help and version to stdout (asked for), errors to stderr.
    pub fn usage(&mut self, e: &clap::Error) -> io::Result<Step> {
        use clap::error::ErrorKind;
        let text = e.render().to_string();
        match e.kind() {
            // Asked for: help and version go to stdout and count as success.
            ErrorKind::DisplayHelp | ErrorKind::DisplayVersion => {
                write!(self.out, "{text}")?;
                self.out.flush()?;
                Ok(Step::Done { failed: None })
            }
            // Everything else, a bare group (`user`) included, is a usage error: stderr, so
            // it never lands in the JSON stream a script reads from stdout.
            _ => {
                write!(self.err, "{text}")?;
                self.err.flush()?;
                Ok(Step::Done {
                    failed: Some(Failure::Usage),
                })
            }
        }
    }

    /// Writes a diagnostic line to stderr.
    pub fn diagnostic(&mut self, text: &str) -> io::Result<()> {
        writeln!(self.err, "{text}")?;
        self.err.flush()
    }
}
