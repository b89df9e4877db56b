//! The shell: one line in, one response out. Shared by the terminal REPL, piped scripts and
//! the transcript tests, so all three see the same behaviour.

use std::io::{self, Write};

use crate::grammar::Cli;
use crate::output::{Format, Response, View};
use crate::session::{Outcome, Prompter, Session};

use super::lines;

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

/// The command tree as the shell shows it: `interactive` (refused inside a session) and
/// `--version` are the binary's, not the shell's, so `help` does not list them.
pub(crate) fn shell_grammar() -> clap::Command {
    Cli::command_tree()
        .mut_subcommand("interactive", |c| c.hide(true))
        .disable_version_flag(true)
}

/// The usage error of an input line whose first word is no command. Unlike clap's own text it
/// does not repeat the word: such a line is often a password.
const NOT_A_COMMAND: &str = "error: unrecognized command (the line is not repeated here: it \
                             may be a password)\n\nFor more information, try 'help'.\n";

/// A session with somewhere to write.
pub struct Shell<'w> {
    pub session: Session,
    out: &'w mut dyn Write,
    err: &'w mut dyn Write,
    /// The clap command tree, built once per shell: building it costs more than most commands.
    grammar: Option<clap::Command>,
    /// How responses are shown (`output` changes it).
    view: View,
    /// The pager for a response taller than the terminal, and the terminal's height.
    pager: Option<String>,
    rows: Option<usize>,
    /// stdout is a terminal (prompts are printed on it when no line editor does).
    terminal: bool,
}

impl<'w> Shell<'w> {
    pub fn new(session: Session, out: &'w mut dyn Write, err: &'w mut dyn Write) -> Self {
        Shell {
            session,
            out,
            err,
            grammar: None,
            view: View::default(),
            pager: None,
            rows: None,
            terminal: false,
        }
    }

    /// Says whether stdout is a terminal.
    pub fn on_terminal(mut self, terminal: bool) -> Self {
        self.terminal = terminal;
        self
    }

    /// Whether stdout is a terminal.
    pub fn is_terminal(&self) -> bool {
        self.terminal
    }

    /// Shows the command prompt (on a terminal the line editor does not drive).
    pub fn prompt(&mut self, prompt: &str) -> io::Result<()> {
        write!(self.out, "{prompt}")?;
        self.out.flush()
    }

    /// Shows responses as `view` says (JSON by default).
    pub fn with_view(mut self, view: View) -> Self {
        self.view = view;
        self
    }

    /// Pages responses taller than the terminal through `pager` (a shell command line).
    pub fn with_pager(mut self, pager: Option<String>) -> Self {
        self.pager = pager;
        self
    }

    /// The terminal's height, when stdout is one (a pager is used only then).
    pub fn set_rows(&mut self, rows: Option<usize>) {
        self.rows = rows;
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
        let grammar = self.grammar.get_or_insert_with(shell_grammar);
        let argv =
            std::iter::once(crate::grammar::BIN_NAME).chain(words.iter().map(String::as_str));
        let parsed = grammar
            .try_get_matches_from_mut(argv)
            .and_then(|mut m| <Cli as clap::FromArgMatches>::from_arg_matches_mut(&mut m));
        let cli = match parsed {
            Ok(cli) => cli,
            Err(e) => {
                let step = self.usage_of_line(&e, &words, prompter);
                words.iter_mut().for_each(zeroize::Zeroize::zeroize);
                return step;
            }
        };
        // The words may hold a password; clap's own copies are out of reach.
        words.iter_mut().for_each(zeroize::Zeroize::zeroize);
        match self.session.execute(&cli.command, prompter) {
            Outcome::Quit => Ok(Step::Quit),
            Outcome::Respond(response) => self.respond(&response),
            Outcome::SetFormat(format) => {
                self.view.format = format;
                let name = match format {
                    Format::Json => "json",
                    Format::Table => "table",
                };
                self.respond(&Response::message(&format!("Output format: {name}")))
            }
        }
    }

    /// Prints a response, through the pager when it is taller than the terminal.
    pub fn respond(&mut self, response: &Response) -> io::Result<Step> {
        let text = response.render(self.view)?;
        if !self.page(&text) {
            self.out.write_all(&text)?;
            self.out.flush()?;
        }
        Ok(Step::Done {
            failed: (!response.is_success()).then_some(Failure::Command),
        })
    }

    /// Shows `text` through the pager, as psql does, when a pager is set and stdout is a
    /// terminal that `text` would overflow; false when it did not (then print it).
    fn page(&mut self, text: &[u8]) -> bool {
        let (Some(pager), Some(rows)) = (&self.pager, self.rows) else {
            return false;
        };
        let lines = text.iter().filter(|&&b| b == b'\n').count();
        if lines < rows.saturating_sub(1) {
            return false;
        }
        let _ = self.out.flush();
        let child = std::process::Command::new("sh")
            .args(["-c", pager])
            .stdin(std::process::Stdio::piped())
            .spawn();
        let Ok(mut child) = child else {
            let _ = self.diagnostic(&format!("note: the pager {pager:?} did not start"));
            return false;
        };
        // A pager that quits early closes its input: the rest is not wanted.
        if let Some(mut stdin) = child.stdin.take() {
            let _ = stdin.write_all(text);
        }
        child.wait().is_ok()
    }

    /// A line that did not parse. Its message never shows a password the line gave, and when
    /// the line is a command that reads its password from the next input line(s) (`login`
    /// without `--password`, say), those lines are consumed as the command would have
    /// consumed them: they were written as a password, so they must not run, and so be
    /// echoed, as commands (docs/scripting.md).
    fn usage_of_line(
        &mut self,
        e: &clap::Error,
        words: &[String],
        prompter: &mut dyn Prompter,
    ) -> io::Result<Step> {
        let is_command = |word: &String| {
            self.grammar
                .as_ref()
                .is_some_and(|g| g.find_subcommand(word).is_some())
        };
        let asked = matches!(
            e.kind(),
            clap::error::ErrorKind::DisplayHelp | clap::error::ErrorKind::DisplayVersion
        );
        let text = if !asked && words.first().is_some_and(|w| !is_command(w)) {
            // The line does not start with a command. It may be a password that its command
            // never read (a typo'd `login` above it, a paste): say so without showing it.
            NOT_A_COMMAND.to_string()
        } else if let Some(better) = self.help_suggestion(e, words) {
            better
        } else {
            lines::redact(&e.render().to_string(), words)
        };
        let step = self.usage_text(e.kind(), &text)?;
        if step != (Step::Done { failed: None }) {
            let skipped = prompter.skip_secret_lines(lines::password_lines(words))?;
            if skipped > 0 {
                let (lines, were) = if skipped == 1 {
                    ("line was", "it was not run as a command")
                } else {
                    ("lines were", "they were not run as commands")
                };
                self.diagnostic(&format!(
                    "note: the next {skipped} input {lines} read as this command's password; \
                     {were}"
                ))?;
            }
        }
        Ok(step)
    }

    /// `help key lst`: clap's `help` names the unknown word but suggests nothing; the same
    /// path without `help` gets clap's "a similar subcommand exists" tip.
    fn help_suggestion(&mut self, e: &clap::Error, words: &[String]) -> Option<String> {
        use clap::error::ErrorKind;
        if e.kind() != ErrorKind::InvalidSubcommand || words.first()? != "help" {
            return None;
        }
        let grammar = self.grammar.as_mut()?;
        let argv =
            std::iter::once(crate::grammar::BIN_NAME).chain(words[1..].iter().map(String::as_str));
        match grammar.try_get_matches_from_mut(argv) {
            Err(e) if e.kind() == ErrorKind::InvalidSubcommand => Some(e.render().to_string()),
            _ => None,
        }
    }

    /// Prints clap's message: help and version to stdout (asked for), errors to stderr.
    pub fn usage(&mut self, e: &clap::Error) -> io::Result<Step> {
        self.usage_text(e.kind(), &e.render().to_string())
    }

    fn usage_text(&mut self, kind: clap::error::ErrorKind, text: &str) -> io::Result<Step> {
        use clap::error::ErrorKind;
        match kind {
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

    /// Ends the terminal's current line (after Ctrl-D at the prompt).
    pub fn end_line(&mut self) -> io::Result<()> {
        // stderr is the same terminal, and no JSON reader (the table view) sees it.
        writeln!(self.err)?;
        self.err.flush()
    }

    /// Writes a diagnostic line to stderr.
    pub fn diagnostic(&mut self, text: &str) -> io::Result<()> {
        writeln!(self.err, "{text}")?;
        self.err.flush()
    }
}
