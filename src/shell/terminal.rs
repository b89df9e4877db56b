//! The terminal REPL: rustyline with the `aws-cloudhsm > ` prompt, history that never keeps a
//! password, and completion from the clap grammar.

use std::borrow::Cow;
use std::path::PathBuf;

use rustyline::completion::{Completer, FilenameCompleter, Pair};
use rustyline::config::{Config, Configurer};
use rustyline::error::ReadlineError;
use rustyline::highlight::Highlighter;
use rustyline::hint::Hinter;
use rustyline::history::FileHistory;
use rustyline::validate::Validator;
use rustyline::{Context, Editor, Helper};

use std::io;

use rustyline::highlight::CmdKind;
use rustyline::ColorMode;
use zeroize::Zeroizing;

use super::lines::{holds_secret, Continuation};
use crate::session::Prompter;

/// The prompt of the real CLI.
pub const PROMPT: &str = "aws-cloudhsm > ";

/// The prompt for the next line of a command whose line ended in `\`.
pub const CONTINUATION_PROMPT: &str = "> ";

/// A command line from the terminal.
pub enum Input {
    /// A whole command line (continuations joined). It may hold a password: zeroed on drop.
    Line(Zeroizing<String>),
    /// Ctrl-C: the line was cleared.
    Interrupted,
    /// Ctrl-D or a closed terminal.
    Eof,
}

/// The line editor and its history file.
///
/// Lines typed ahead or pasted while a command runs are kept: rustyline's `buffer-redux`
/// feature hands the bytes one `readline` read past its line to the next one (without it they
/// were dropped, and only the first of three typed-ahead commands ran). Bracketed paste is off,
/// so a pasted block arrives as if typed: each line runs in turn, and a password line in it
/// answers the password prompt of the command before it, as piped input does.
pub struct Terminal {
    editor: Editor<GrammarHelper, FileHistory>,
    history: Option<PathBuf>,
}

impl Terminal {
    /// The editor, with its history file and the state directory whose cluster ids
    /// `--cluster-id` completes.
    pub fn new(history: Option<PathBuf>, home: Option<PathBuf>) -> rustyline::Result<Terminal> {
        let config = Config::builder()
            .auto_add_history(false)
            .history_ignore_space(true)
            .bracketed_paste(false)
            .completion_type(rustyline::CompletionType::List)
            .build();
        let mut editor = Editor::with_config(config)?;
        let mut tree = super::repl::shell_grammar();
        tree.build();
        editor.set_helper(Some(GrammarHelper {
            tree,
            reading: Reading::Command,
            home,
            files: FilenameCompleter::new(),
        }));
        if let Some(path) = &history {
            // A missing or unreadable history file only means no history.
            let _ = editor.load_history(path);
        }
        Ok(Terminal { editor, history })
    }

    /// Reads one command line at `prompt`; a line ending in `\` continues after a `> `
    /// prompt.
    pub fn read(&mut self, prompt: &str) -> Input {
        let mut continuation = Continuation::new();
        loop {
            let prompt = if continuation.is_continuing() {
                CONTINUATION_PROMPT
            } else {
                prompt
            };
            match self.editor.readline(prompt) {
                Ok(line) => {
                    if let Some(line) = continuation.push(&Zeroizing::new(line)) {
                        return Input::Line(line);
                    }
                }
                Err(ReadlineError::Interrupted) => return Input::Interrupted,
                Err(_) => return Input::Eof,
            }
        }
    }

    /// The terminal's height in lines, if stdout is one.
    pub fn rows(&mut self) -> Option<usize> {
        self.editor.dimensions().map(|(_, rows)| usize::from(rows))
    }

    /// Reads a password at `prompt` through the line editor, shown as blanks with the cursor
    /// hidden. Going through the editor keeps the order of what was typed ahead or pasted: a
    /// password that came in with its command answers this prompt instead of running as the
    /// next command. Never added to the history. `None` at Ctrl-C or Ctrl-D.
    pub fn secret(&mut self, prompt: &str) -> io::Result<Option<String>> {
        self.set_reading(Reading::Secret);
        let cursor = self.editor.set_cursor_visibility(false).ok().flatten();
        let read = self.editor.readline(prompt);
        drop(cursor);
        self.set_reading(Reading::Command);
        finish_prompt(read)
    }

    /// Reads a file path at `prompt` (Tab completes paths), not kept in the history.
    pub fn plain(&mut self, prompt: &str) -> io::Result<Option<String>> {
        self.set_reading(Reading::Path);
        let read = self.editor.readline(prompt);
        self.set_reading(Reading::Command);
        finish_prompt(read)
    }

    fn set_reading(&mut self, reading: Reading) {
        if let Some(helper) = self.editor.helper_mut() {
            helper.reading = reading;
        }
        // Masking is a highlighter, and the editor only highlights when colours are on.
        self.editor.set_color_mode(if reading == Reading::Secret {
            ColorMode::Forced
        } else {
            ColorMode::Enabled
        });
    }

    /// Adds a command line that parsed to the history, unless it could hold a secret. (A
    /// line that did not parse may be a password typed at the wrong prompt: never kept.)
    pub fn remember(&mut self, line: &str) {
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

/// Whether rustyline treats this terminal as one it cannot drive (it then reads stdin itself,
/// echo on): the same `TERM` values as rustyline's own list. Such a terminal gets no editor.
pub fn unsupported_terminal() -> bool {
    std::env::var("TERM").is_ok_and(|t| ["dumb", "cons25", "emacs"].contains(&t.as_str()))
}

fn finish_prompt(read: rustyline::Result<String>) -> io::Result<Option<String>> {
    match read {
        Ok(line) => Ok(Some(line)),
        Err(ReadlineError::Interrupted | ReadlineError::Eof) => Ok(None),
        Err(ReadlineError::Io(e)) => Err(e),
        Err(e) => Err(io::Error::other(e.to_string())),
    }
}

/// The session's prompts on the terminal, read through the line editor.
pub struct EditorPrompter<'t>(pub &'t mut Terminal);

impl Prompter for EditorPrompter<'_> {
    fn password(&mut self, prompt: &str) -> io::Result<Option<String>> {
        self.0.secret(prompt)
    }

    fn line(&mut self, prompt: &str) -> io::Result<Option<String>> {
        self.0.plain(prompt)
    }
}

/// What the editor is reading.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Reading {
    /// A command line: completed from the grammar.
    Command,
    /// A password: nothing typed is shown and nothing is completed.
    Secret,
    /// A file path asked for by a prompt: completed from the file system.
    Path,
}

/// Completion of commands, subcommands, option names and enumerated option values from the
/// grammar.
struct GrammarHelper {
    tree: clap::Command,
    /// What the line being read is.
    reading: Reading,
    /// The state directory, for the cluster ids `--cluster-id` takes.
    home: Option<PathBuf>,
    /// Paths, for the options that take a file.
    files: FilenameCompleter,
}

impl GrammarHelper {
    fn cluster_ids(&self) -> Vec<String> {
        self.home
            .clone()
            .and_then(|h| crate::store::Home::open(h).ok())
            .and_then(|h| h.cluster_ids().ok())
            .unwrap_or_default()
    }
}

impl Completer for GrammarHelper {
    type Candidate = Pair;

    fn complete(
        &self,
        line: &str,
        pos: usize,
        _ctx: &Context<'_>,
    ) -> rustyline::Result<(usize, Vec<Pair>)> {
        match self.reading {
            Reading::Command => {}
            Reading::Secret => return Ok((pos, Vec::new())),
            Reading::Path => return self.files.complete_path(line, pos),
        }
        let head = line.get(..pos).unwrap_or(line);
        let found = complete_with(&self.tree, head, &|| self.cluster_ids());
        if found.files {
            return self.files.complete_path(line, pos);
        }
        let pairs = found
            .names
            .into_iter()
            .map(|n| Pair {
                display: n.clone(),
                // `attr.` and `attr.label=` go on with their value: no space after them.
                replacement: if n.ends_with(['=', '.']) {
                    n
                } else {
                    format!("{n} ")
                },
            })
            .collect();
        Ok((found.start, pairs))
    }
}

/// What the word being typed can be, after walking the words before it through the tree.
struct Position<'t> {
    /// The deepest (sub)command named so far.
    cmd: &'t clap::Command,
    /// The option whose value(s) the next word is, if any.
    pending: Option<&'t clap::Arg>,
    /// Options already given (single-use ones are not offered again).
    used: Vec<&'t str>,
    /// Positional words given to a leaf command.
    positionals: usize,
}

fn walk<'t>(tree: &'t clap::Command, words: &[&str]) -> Position<'t> {
    let mut at = Position {
        cmd: tree,
        pending: None,
        used: Vec::new(),
        positionals: 0,
    };
    for (i, word) in words.iter().enumerate() {
        if let Some(long) = word.strip_prefix("--") {
            let (name, inline_value) = match long.split_once('=') {
                Some((n, _)) => (n, true),
                None => (long, false),
            };
            let arg = at.cmd.get_arguments().find(|a| a.get_long() == Some(name));
            if let Some(arg) = arg {
                at.used.push(arg.get_id().as_str());
            }
            at.pending = arg.filter(|a| takes_value(a) && !inline_value);
            continue;
        }
        if let Some(arg) = at.pending {
            // A value: a single-valued option takes one, a multi-valued one keeps taking.
            if arg.get_num_args().is_none_or(|r| r.max_values() <= 1) {
                at.pending = None;
            }
            continue;
        }
        // `help WORDS...` completes like WORDS.
        if i == 0 && *word == "help" {
            continue;
        }
        match at.cmd.find_subcommand(word) {
            Some(sub) => {
                at = Position {
                    cmd: sub,
                    pending: None,
                    used: Vec::new(),
                    positionals: 0,
                };
            }
            None => at.positionals += 1,
        }
    }
    at
}

fn takes_value(arg: &clap::Arg) -> bool {
    arg.get_action().takes_values()
}

/// The long options of the command at `at` that may still be given.
fn options(at: &Position<'_>) -> Vec<String> {
    at.cmd
        .get_arguments()
        .filter(|a| !a.is_hide_set() && !a.is_positional())
        .filter(|a| {
            let repeatable = matches!(
                a.get_action(),
                clap::ArgAction::Append | clap::ArgAction::Count
            );
            repeatable || !at.used.contains(&a.get_id().as_str())
        })
        .filter_map(|a| a.get_long())
        .map(|l| format!("--{l}"))
        .collect()
}

/// The visible possible values of `arg` (roles, curves, hash functions, ...).
fn values_of(arg: &clap::Arg) -> Vec<String> {
    arg.get_possible_values()
        .into_iter()
        .filter(|v| !v.is_hide_set())
        .map(|v| v.get_name().to_string())
        .collect()
}

/// What an option's value is, when it is not one of a fixed set of values: the grammar
/// names it (`value_name`) as AWS's help texts do.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum FreeValue {
    /// A file (token files, PEM files, `--path`, data and signature files).
    File,
    /// A key filter term: `key-reference=...` or `attr.NAME=VALUE`.
    Filter,
    /// The attribute `key set-attribute --name` changes.
    AttributeName,
    /// A cluster of the state directory.
    ClusterId,
}

fn free_value(arg: &clap::Arg) -> Option<FreeValue> {
    let name = arg.get_value_names()?.first()?.as_str();
    Some(match name {
        "PATH" | "DATA_PATH" | "SIGNATURE_PATH" | "TOKEN" | "SIGNED_TOKEN" | "PUBLIC_KEY"
        | "APPROVAL" | "WRAPPING_APPROVALR" => FreeValue::File,
        "FILTER" | "KEY_FILTER" | "WRAPPING_FILTER" | "PAYLOAD_FILTER" => FreeValue::Filter,
        "KEY_ATTRIBUTE" => FreeValue::AttributeName,
        "CLUSTER_ID" => FreeValue::ClusterId,
        _ => return None,
    })
}

/// The terms a key filter word can become: `attr.` and `key-reference=`, then
/// `attr.NAME=` for every attribute name.
fn filter_terms(partial: &str) -> Vec<String> {
    if partial.starts_with("attr.") && !partial.contains('=') {
        crate::hsm::key::attribute_names()
            .into_iter()
            .map(|n| format!("attr.{n}="))
            .collect()
    } else {
        vec!["attr.".to_string(), "key-reference=".to_string()]
    }
}

/// The candidates for the word at the cursor.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Completion {
    /// Where the word being completed starts.
    pub start: usize,
    /// Sorted candidates that extend it.
    pub names: Vec<String>,
    /// The word is a file path: complete it from the file system instead.
    pub files: bool,
}

/// Completes the word that ends `head` (the line up to the cursor): returns where that word
/// starts and the sorted candidates that extend it. After an option whose clap argument has
/// possible values, the candidates are those values (`--role c` gives `crypto-user`); after
/// any other option that takes a value, nothing is offered.
#[cfg(test)]
fn complete(tree: &clap::Command, head: &str) -> (usize, Vec<String>) {
    let found = complete_with(tree, head, &Vec::new);
    (found.start, found.names)
}

/// [`complete`], and also the values the grammar cannot enumerate: key filter terms,
/// attribute names, the clusters `cluster_ids` lists, and (as [`Completion::files`]) paths.
pub fn complete_with(
    tree: &clap::Command,
    head: &str,
    cluster_ids: &dyn Fn() -> Vec<String>,
) -> Completion {
    let start = head.rfind(char::is_whitespace).map_or(0, |i| i + 1);
    let partial = &head[start..];
    let words: Vec<&str> = head[..start].split_whitespace().collect();
    let at = walk(tree, &words);
    let mut names: Vec<String> = Vec::new();
    let mut word_start = start;
    let mut prefix = partial;
    if let Some((option, value)) = partial
        .strip_prefix("--")
        .and_then(|rest| rest.split_once('='))
    {
        // `--role=cr`: complete the value in place.
        if let Some(arg) = at
            .cmd
            .get_arguments()
            .find(|a| a.get_long() == Some(option))
        {
            names = values_of(arg);
        }
        word_start = start + option.len() + 3;
        prefix = value;
    } else if let Some(arg) = at.pending.filter(|_| !partial.starts_with('-')) {
        names = values_of(arg);
        if names.is_empty() {
            match free_value(arg) {
                Some(FreeValue::File) => {
                    return Completion {
                        start,
                        names,
                        files: true,
                    }
                }
                Some(FreeValue::Filter) => names = filter_terms(partial),
                Some(FreeValue::AttributeName) => {
                    names = crate::hsm::key::settable_names()
                        .into_iter()
                        .map(String::from)
                        .collect();
                }
                Some(FreeValue::ClusterId) => names = cluster_ids(),
                None => {}
            }
        }
    } else if partial.starts_with('-') {
        names = options(&at);
    } else if at.cmd.get_subcommands().next().is_none() {
        // A leaf: the values of its next positional if they are enumerated, else options.
        names = at
            .cmd
            .get_positionals()
            .nth(at.positionals)
            .map(values_of)
            .unwrap_or_default();
        if names.is_empty() && partial.is_empty() {
            names = options(&at);
        }
    } else {
        names = at
            .cmd
            .get_subcommands()
            .filter(|s| !s.is_hide_set())
            // `help` is a command of its own at the top; `cluster help` is only noise.
            .filter(|s| s.get_name() != "help" || std::ptr::eq(at.cmd, tree))
            .map(|s| s.get_name().to_string())
            .collect();
        // `login [mfa-token-sign]`: the subcommand is optional, so options fit here too.
        if partial.is_empty() && !at.cmd.is_subcommand_required_set() {
            names.extend(options(&at));
        }
    }
    names.retain(|n| n.starts_with(prefix));
    names.sort();
    names.dedup();
    Completion {
        start: word_start,
        names,
        files: false,
    }
}

impl Hinter for GrammarHelper {
    type Hint = String;
}

impl Highlighter for GrammarHelper {
    fn highlight<'l>(&self, line: &'l str, _pos: usize) -> Cow<'l, str> {
        if self.reading == Reading::Secret {
            Cow::Owned(" ".repeat(line.chars().count()))
        } else {
            Cow::Borrowed(line)
        }
    }

    fn highlight_char(&self, _line: &str, _pos: usize, kind: CmdKind) -> bool {
        self.reading == Reading::Secret && kind != CmdKind::MoveCursor
    }

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

    fn tree() -> clap::Command {
        let mut tree = crate::shell::repl::shell_grammar();
        tree.build();
        tree
    }

    fn names(head: &str) -> Vec<String> {
        complete(&tree(), head).1
    }

    #[test]
    fn completes_commands_and_subcommands() {
        let top = names("");
        for c in [
            "cluster", "crypto", "key", "login", "logout", "quorum", "user", "quit",
        ] {
            assert!(top.contains(&c.to_string()), "{c} missing from {top:?}");
        }
        assert_eq!(complete(&tree(), "clu"), (0, vec!["cluster".to_string()]));
        assert_eq!(
            complete(&tree(), "cluster h"),
            (8, vec!["hsm-info".to_string()])
        );
        assert_eq!(names("help key li"), ["list"]);
        assert_eq!(
            names("key wrap rsa-"),
            ["rsa-aes", "rsa-oaep", "rsa-pkcs"],
            "mechanisms are subcommands"
        );
    }

    #[test]
    fn completes_options_not_yet_given() {
        assert_eq!(names("login --us"), ["--username"]);
        let left = names("user create --username a --role crypto-user --");
        assert!(left.contains(&"--password".to_string()), "{left:?}");
        assert!(!left.contains(&"--username".to_string()), "{left:?}");
        assert!(!left.contains(&"--role".to_string()), "{left:?}");
        // A leaf with nothing typed offers its options.
        assert!(names("user list ").contains(&"--cluster-id".to_string()));
    }

    #[test]
    fn completes_filters_attribute_names_clusters_and_files() {
        let tree = tree();
        let clusters = || vec!["cluster-abc".to_string(), "cluster-dr1".to_string()];
        let at = |head: &str| complete_with(&tree, head, &clusters);
        assert_eq!(at("key list --filter ").names, ["attr.", "key-reference="]);
        assert_eq!(at("key list --filter k").names, ["key-reference="]);
        assert_eq!(
            at("key list --filter attr.la").names,
            ["attr.label="],
            "attribute names after attr."
        );
        let types = at("crypto sign ecdsa --key-filter attr.key-").names;
        assert_eq!(types, ["attr.key-length-bytes=", "attr.key-type="]);
        // A filter takes several terms.
        assert_eq!(
            at("key list --filter attr.sign=true attr.cl").names,
            ["attr.class="]
        );
        assert_eq!(
            at("key set-attribute --filter key-reference=0x30 --name wrap").names,
            ["wrap", "wrap-with-trusted"]
        );
        assert!(!at("key set-attribute --filter key-reference=0x30 --name ")
            .names
            .contains(&"class".to_string()));
        assert_eq!(
            at("user list --cluster-id cluster-d").names,
            ["cluster-dr1"]
        );
        for head in [
            "key generate-file --encoding pem --path ./",
            "crypto sign ecdsa --data-path x",
            "quorum token-sign generate --service user --token ",
            "user create --username a --role admin --approval ",
            "login mfa-token-sign --token ",
        ] {
            assert!(at(head).files, "{head}: a path");
        }
        assert!(!at("key list --max-items ").files);
        assert!(!at("login --username ").files);
    }

    #[test]
    fn completes_enumerated_values() {
        assert_eq!(
            names("login --username admin --role "),
            ["admin", "appliance-user", "crypto-user"]
        );
        assert_eq!(
            names("user change-password --role "),
            ["admin", "crypto-user"]
        );
        let (start, v) = complete(&tree(), "login --role=cr");
        assert_eq!((start, v), (13, vec!["crypto-user".to_string()]));
        assert_eq!(
            names("key generate-asymmetric-pair ec --curve secp2"),
            ["secp224r1", "secp256k1", "secp256r1"]
        );
        assert_eq!(names("crypto sign ecdsa --hash-function sha5"), ["sha512"]);
        assert_eq!(names("key wrap rsa-oaep --mgf mgf1-sha38"), ["mgf1-sha384"]);
        // A free value (a username) gets no candidates, not subcommands.
        assert!(names("login --username ").is_empty());
        // After the value, options again.
        assert_eq!(names("login --role admin --us"), ["--username"]);
    }
}
