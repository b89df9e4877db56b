//! The terminal REPL: rustyline with the `aws-cloudhsm > ` prompt, history that never keeps a
//! password, and completion from the clap grammar.

use std::borrow::Cow;
use std::path::PathBuf;

use rustyline::completion::{Completer, Pair};
use rustyline::config::Config;
use rustyline::error::ReadlineError;
use rustyline::highlight::Highlighter;
use rustyline::hint::Hinter;
use rustyline::history::FileHistory;
use rustyline::validate::Validator;
use rustyline::{Context, Editor, Helper};

use crate::grammar::Cli;

/// The prompt of the real CLI.
pub const PROMPT: &str = "aws-cloudhsm > ";

/// A line from the terminal.
pub enum Input {
    Line(String),
    /// Ctrl-C: the line was cleared.
    Interrupted,
    /// Ctrl-D or a closed terminal.
    Eof,
}

/// The line editor and its history file.
pub struct Terminal {
    editor: Editor<GrammarHelper, FileHistory>,
    history: Option<PathBuf>,
}

impl Terminal {
    pub fn new(history: Option<PathBuf>) -> rustyline::Result<Terminal> {
        let config = Config::builder()
            .auto_add_history(false)
            .history_ignore_space(true)
            .completion_type(rustyline::CompletionType::List)
            .build();
        let mut editor = Editor::with_config(config)?;
        editor.set_helper(Some(GrammarHelper {
            tree: Cli::command_tree(),
        }));
        if let Some(path) = &history {
            // A missing or unreadable history file only means no history.
            let _ = editor.load_history(path);
        }
        Ok(Terminal { editor, history })
    }

    pub fn read(&mut self) -> Input {
        match self.editor.readline(PROMPT) {
            Ok(line) => {
                self.remember(&line);
                Input::Line(line)
            }
            Err(ReadlineError::Interrupted) => Input::Interrupted,
            Err(_) => Input::Eof,
        }
    }

    /// Adds a line to the history unless it could hold a secret.
    fn remember(&mut self, line: &str) {
        if line.trim().is_empty() || holds_secret(line) {
            return;
        }
        if self.editor.add_history_entry(line).unwrap_or(false) {
            if let Some(path) = &self.history {
                let _ = self.editor.append_history(path);
            }
        }
    }
}

/// Whether a command line carries a password and must stay out of the history file.
pub fn holds_secret(line: &str) -> bool {
    line.contains("--password") || line.contains("--change-password")
}

/// Completion of commands, subcommands and option names from the grammar.
struct GrammarHelper {
    tree: clap::Command,
}

impl Completer for GrammarHelper {
    type Candidate = Pair;

    fn complete(
        &self,
        line: &str,
        pos: usize,
        _ctx: &Context<'_>,
    ) -> rustyline::Result<(usize, Vec<Pair>)> {
        let head = line.get(..pos).unwrap_or(line);
        let start = head.rfind(' ').map_or(0, |i| i + 1);
        let partial = &head[start..];
        let mut cmd = &self.tree;
        for word in head[..start].split_whitespace() {
            if let Some(sub) = cmd.find_subcommand(word) {
                cmd = sub;
            }
        }
        let mut names: Vec<String> = if partial.starts_with('-') {
            cmd.get_arguments()
                .filter_map(|a| a.get_long())
                .map(|l| format!("--{l}"))
                .collect()
        } else {
            cmd.get_subcommands()
                .filter(|s| !s.is_hide_set())
                .map(|s| s.get_name().to_string())
                .collect()
        };
        names.retain(|n| n.starts_with(partial));
        names.sort();
        let pairs = names
            .into_iter()
            .map(|n| Pair {
                display: n.clone(),
                replacement: format!("{n} "),
            })
            .collect();
        Ok((start, pairs))
    }
}

impl Hinter for GrammarHelper {
    type Hint = String;
}

impl Highlighter for GrammarHelper {
    fn highlight_prompt<'b, 's: 'b, 'p: 'b>(
        &'s self,
        prompt: &'p str,
        _default: bool,
    ) -> Cow<'b, str> {
        Cow::Borrowed(prompt)
    }
}

impl Validator for GrammarHelper {}

impl Helper for GrammarHelper {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secrets_stay_out_of_history() {
        assert!(holds_secret("login --username a --role admin --password x"));
        assert!(!holds_secret("user list"));
    }
}
