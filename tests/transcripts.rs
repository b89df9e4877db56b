//! Transcript tests: every `tests/transcripts/**/*.transcript` file is a session as a user
//! sees it, run in process against a fresh state directory and compared line by line.
//!
//! Format:
//! - `aws-cloudhsm > LINE` runs LINE in the shell; the lines under it are its expected output
//!   (stdout and stderr as they appear on a terminal). A LINE that ends in `\` goes on over
//!   the next lines, as AWS prints its examples and as the shell reads them.
//! - `# ...` comments are copied through; blank lines between blocks are ignored.
//! - `#< TEXT` queues TEXT as the answer to the next password prompt; the prompt itself
//!   (`Enter password:`) appears in the output, as on a terminal.
//! - `#@ NAME` switches to session NAME (another process logged in at the same time).
//! - `#! ARGS` (before the first command) runs `cloudhsm-sim ARGS` to set the state up; without
//!   any, the state is one fast-hashing cluster `cluster-transcript` whose appliance user's
//!   password is `appliance-pw`.
//! - In expected output, `[..]` matches any text within a line and a line `...` matches any
//!   number of lines.
//! - `$TMP` in a command stands for a private temporary directory (for key files); it is
//!   printed back as `$TMP` in the output.
//!
//! `SNAPSHOTS=overwrite cargo test --test transcripts` rewrites the files from actual output.

#![allow(clippy::unwrap_used, clippy::expect_used)] // test code: a panic is a failure report

use std::cell::RefCell;
use std::collections::{BTreeMap, VecDeque};
use std::io::{self, Write};
use std::path::{Path, PathBuf};
use std::rc::Rc;

use cloudhsm_sim::output::{Format, View, TABLE_WIDTH};
use cloudhsm_sim::session::{Prompter, Session};
use cloudhsm_sim::shell::{Continuation, Shell, PROMPT};

const SEED: u64 = 20261128;

#[derive(Clone, Default)]
struct Capture(Rc<RefCell<Vec<u8>>>);

impl Write for Capture {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.0.borrow_mut().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

struct Queued<'a> {
    answers: &'a mut VecDeque<String>,
    screen: Capture,
}

impl Prompter for Queued<'_> {
    fn password(&mut self, prompt: &str) -> io::Result<Option<String>> {
        writeln!(self.screen, "{prompt}")?;
        Ok(self.answers.pop_front())
    }
}

enum Item {
    Comment(String),
    Command {
        /// The command as written: its first line, then the lines a `\` continued it on.
        written: Vec<String>,
        /// The command line the shell runs (continuations joined).
        line: String,
        expected: Vec<String>,
    },
}

fn parse(text: &str) -> (Vec<String>, Vec<Item>) {
    let mut setup = Vec::new();
    let mut items = Vec::new();
    // A command whose line ends in `\` goes on over the next lines, as the shell reads it.
    let mut continuation = Continuation::new();
    for line in text.lines() {
        if continuation.is_continuing() {
            if let Some(Item::Command {
                written, line: cmd, ..
            }) = items.last_mut()
            {
                written.push(line.to_string());
                if let Some(joined) = continuation.push(line) {
                    *cmd = joined.to_string();
                }
            }
        } else if let Some(cmd) = line.strip_prefix(PROMPT) {
            let joined = continuation.push(cmd);
            items.push(Item::Command {
                written: vec![cmd.to_string()],
                line: joined.map(|j| j.to_string()).unwrap_or_default(),
                expected: Vec::new(),
            });
        } else if let Some(args) = line.strip_prefix("#! ") {
            setup.push(args.to_string());
        } else if line.starts_with('#') {
            // Output never starts with '#': a comment ends the block above it.
            items.push(Item::Comment(line.to_string()));
        } else if let Some(Item::Command { expected, .. }) = items.last_mut() {
            expected.push(line.to_string());
        } else if !line.trim().is_empty() {
            items.push(Item::Comment(line.to_string()));
        }
    }
    if let (Some(joined), Some(Item::Command { line, .. })) =
        (continuation.finish(), items.last_mut())
    {
        *line = joined.to_string();
    }
    // Trailing blank lines of a block are separators, not output.
    for item in &mut items {
        if let Item::Command { expected, .. } = item {
            while expected.last().is_some_and(|l| l.trim().is_empty()) {
                expected.pop();
            }
        }
    }
    (setup, items)
}

fn line_matches(pattern: &str, actual: &str) -> bool {
    let parts: Vec<&str> = pattern.split("[..]").collect();
    if parts.len() == 1 {
        return pattern == actual;
    }
    let (first, rest) = (parts[0], &parts[1..]);
    let Some(mut remaining) = actual.strip_prefix(first) else {
        return false;
    };
    for (i, part) in rest.iter().enumerate() {
        if i == rest.len() - 1 {
            return remaining.ends_with(part);
        }
        match remaining.find(part) {
            Some(at) => remaining = &remaining[at + part.len()..],
            None => return false,
        }
    }
    true
}

fn lines_match(expected: &[String], actual: &[String]) -> bool {
    match expected.split_first() {
        None => actual.is_empty(),
        Some((e, rest)) if e == "..." => {
            (0..=actual.len()).any(|skip| lines_match(rest, &actual[skip..]))
        }
        Some((e, rest)) => actual
            .split_first()
            .is_some_and(|(a, arest)| line_matches(e, a) && lines_match(rest, arest)),
    }
}

fn run_setup(home: &Path, setup: &[String]) {
    let default = vec![
        "init --cluster-id cluster-transcript --kdf fast --appliance-password appliance-pw"
            .to_string(),
    ];
    for args in if setup.is_empty() { &default } else { setup } {
        let words = shlex::split(args).expect("setup line quoting");
        let (mut out, mut err) = (Vec::new(), Vec::new());
        let status = cloudhsm_sim::control::run(
            words.into_iter().map(Into::into).collect(),
            Some(home.to_path_buf()),
            Some(SEED),
            &mut out,
            &mut err,
        );
        assert_eq!(
            status,
            0,
            "setup `{args}` failed: {}",
            String::from_utf8_lossy(&err)
        );
    }
}

/// Runs one transcript; returns the actual transcript text and whether it matched.
fn run_transcript(path: &Path) -> (String, bool) {
    let text = std::fs::read_to_string(path).expect("read transcript");
    let (setup, items) = parse(&text);
    let dir = tempfile::tempdir().expect("tempdir");
    let home = dir.path().join("state");
    std::fs::create_dir(&home).expect("state dir");
    run_setup(&home, &setup);

    let screen = Capture::default();
    let mut sessions: BTreeMap<String, Shell<'static>> = BTreeMap::new();
    let mut current = "main".to_string();
    let mut answers = VecDeque::new();
    let mut actual_text: String = setup.iter().map(|s| format!("#! {s}\n")).collect();
    let mut ok = true;
    for item in items {
        match item {
            Item::Comment(c) => {
                if let Some(name) = c.strip_prefix("#@ ") {
                    current = name.trim().to_string();
                } else if let Some(answer) = c.strip_prefix("#< ") {
                    answers.push_back(answer.to_string());
                }
                actual_text.push_str(&c);
                actual_text.push('\n');
            }
            Item::Command {
                written,
                line,
                expected,
            } => {
                let shell = sessions.entry(current.clone()).or_insert_with(|| {
                    let session = Session::new(Some(home.clone()), None, Some(SEED));
                    let out: &'static mut Capture = Box::leak(Box::new(screen.clone()));
                    let err: &'static mut Capture = Box::leak(Box::new(screen.clone()));
                    // As in piped mode: tables (after `output table`) of a fixed width.
                    let view = View {
                        format: Format::Json,
                        width: Some(TABLE_WIDTH),
                    };
                    Shell::new(session, out, err).with_view(view)
                });
                screen.0.borrow_mut().clear();
                let mut prompter = Queued {
                    answers: &mut answers,
                    screen: screen.clone(),
                };
                let tmp = dir.path().to_string_lossy().to_string();
                shell
                    .run_line(&line.replace("$TMP", &tmp), &mut prompter)
                    .expect("write to capture");
                let output = String::from_utf8_lossy(&screen.0.borrow()).replace(&tmp, "$TMP");
                let actual: Vec<String> = output.lines().map(str::to_string).collect();
                let matched = lines_match(&expected, &actual);
                ok &= matched;
                actual_text.push_str(PROMPT);
                for w in &written {
                    actual_text.push_str(w);
                    actual_text.push('\n');
                }
                // Keep the expected text (with its wildcards) where it matched.
                for l in if matched { &expected } else { &actual } {
                    actual_text.push_str(l);
                    actual_text.push('\n');
                }
                if !matched {
                    eprintln!(
                        "--- {}: `{line}`\n--- expected:\n{}\n--- actual:\n{}",
                        path.display(),
                        expected.join("\n"),
                        actual.join("\n")
                    );
                }
            }
        }
    }
    for (_, mut shell) in sessions {
        shell.session.close();
    }
    (actual_text, ok)
}

fn transcripts(dir: &Path, out: &mut Vec<PathBuf>) {
    let mut entries: Vec<_> = std::fs::read_dir(dir)
        .expect("read dir")
        .flatten()
        .map(|e| e.path())
        .collect();
    entries.sort();
    for p in entries {
        if p.is_dir() {
            transcripts(&p, out);
        } else if p.extension().is_some_and(|e| e == "transcript") {
            out.push(p);
        }
    }
}

#[test]
fn transcripts_match() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/transcripts");
    let mut files = Vec::new();
    transcripts(&root, &mut files);
    assert!(
        !files.is_empty(),
        "no transcripts found under {}",
        root.display()
    );
    let overwrite = std::env::var_os("SNAPSHOTS").is_some_and(|v| v == "overwrite");
    let mut failed = Vec::new();
    for file in &files {
        let (actual, ok) = run_transcript(file);
        if !ok {
            if overwrite {
                std::fs::write(file, actual).expect("overwrite transcript");
            } else {
                failed.push(file.display().to_string());
            }
        }
    }
    assert!(
        failed.is_empty(),
        "{} of {} transcripts failed:\n{}",
        failed.len(),
        files.len(),
        failed.join("\n")
    );
    println!("{} transcripts passed", files.len());
}

#[test]
fn wildcards() {
    assert!(line_matches("a[..]c", "abbbc"));
    assert!(!line_matches("a[..]c", "abbbd"));
    assert!(line_matches("[..]", "anything"));
    let v = |s: &[&str]| s.iter().map(|x| x.to_string()).collect::<Vec<_>>();
    assert!(lines_match(
        &v(&["a", "...", "d"]),
        &v(&["a", "b", "c", "d"])
    ));
    assert!(lines_match(&v(&["a", "...", "d"]), &v(&["a", "d"])));
    assert!(!lines_match(&v(&["a", "...", "d"]), &v(&["a", "b"])));
}
