//! The console examples of README.md and docs/*.md, run as tests so that they cannot rot.
//!
//! The convention, for whoever writes documentation:
//!
//! - A ```` ```console ```` block is a terminal session: `$ COMMAND` lines, each followed by
//!   the output it shows (if any). A command continues on the next line after a trailing `\`,
//!   and a heredoc (`<<'EOF'`) runs to its terminator line.
//! - Commands may be `cloudhsm-cli`, `cloudhsm-sim`, `jq`, `export`, `cat` (to write an
//!   input file with a heredoc), `pkcs11-tool` and `openssl`, after optional `NAME=value`
//!   assignments; pipelines and
//!   `$(...)` inside them are fine. A block with a `cargo` command (building, installing) is
//!   not run. Any other command fails this test: fence such a block as ```` ```text ````.
//! - All the runnable blocks of one file run in order in one `bash` session, as a reader
//!   following the page would type them: variables and files carry over. The session starts in
//!   an empty temporary directory (also `$HOME` and `$TMPDIR`) with `CLOUDHSM_SIM_HOME` set to
//!   a fresh state directory inside it and the binaries under test first on `PATH`. The
//!   PKCS#11 module the workspace built is at `target/release/libcloudhsm_pkcs11.so` there,
//!   where a reader who ran `cargo build --release` in the repository has it.
//! - Every command must exit 0 (`pipefail` is set). Output shown under a command is compared
//!   with its stdout line by line (trailing blanks ignored): a line `...` matches any number
//!   of lines and `[..]` any text within a line. A command that shows no output is not
//!   compared.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::{Path, PathBuf};
use std::process::Command;

mod common;

const CLI: &str = env!("CARGO_BIN_EXE_cloudhsm-cli");
const SIM: &str = env!("CARGO_BIN_EXE_cloudhsm-sim");
const RUNNABLE: &[&str] = &[
    "cloudhsm-cli",
    "cloudhsm-sim",
    "jq",
    "export",
    "cat",
    "pkcs11-tool",
    "openssl",
];

/// The PKCS#11 module of this build.
fn module() -> PathBuf {
    common::module_beside_binaries()
}

/// One `$` command of a block and the output it shows.
#[derive(Debug)]
struct Example {
    /// Where the command is, for messages.
    at: String,
    command: String,
    expected: Vec<String>,
}

/// The first word of a command after `NAME=value` assignments.
fn program(command: &str) -> &str {
    command
        .split_whitespace()
        .find(|w| *w != "\\" && (w.starts_with('-') || !w.contains('=')))
        .unwrap_or("")
}

/// The heredoc terminator a command line opens, if any.
fn heredoc(line: &str) -> Option<String> {
    let rest = &line[line.find("<<")? + 2..];
    let rest = rest.trim_start_matches('-').trim_start();
    let word: String = rest
        .trim_matches(|c| c == '\'' || c == '"')
        .chars()
        .take_while(|c| c.is_alphanumeric() || *c == '_')
        .collect();
    (!word.is_empty()).then_some(word)
}

/// The console blocks of `text` as lists of examples (blocks with a `cargo` command left out;
/// a command of any other unknown program is an error).
fn blocks(file: &str, text: &str) -> Result<Vec<Vec<Example>>, String> {
    let mut out = Vec::new();
    let mut lines = text.lines().enumerate().peekable();
    while let Some((_, line)) = lines.next() {
        if line.trim() != "```console" {
            continue;
        }
        let mut block: Vec<Example> = Vec::new();
        while let Some((n, line)) = lines.next() {
            if line.trim_start().starts_with("```") {
                break;
            }
            let Some(first) = line.strip_prefix("$ ") else {
                match block.last_mut() {
                    Some(ex) => ex.expected.push(line.trim_end().to_string()),
                    None if line.trim().is_empty() => {}
                    None => return Err(format!("{file}:{}: output before any command", n + 1)),
                }
                continue;
            };
            let mut command = first.to_string();
            while command.ends_with('\\') {
                match lines.next() {
                    Some((_, next)) => command = format!("{command}\n{next}"),
                    None => break,
                }
            }
            if let Some(end) = heredoc(&command) {
                for (_, next) in lines.by_ref() {
                    command = format!("{command}\n{next}");
                    if next.trim() == end {
                        break;
                    }
                }
            }
            block.push(Example {
                at: format!("{file}:{}", n + 1),
                command,
                expected: Vec::new(),
            });
        }
        if block.iter().any(|ex| program(&ex.command) == "cargo") {
            continue;
        }
        if let Some(ex) = block
            .iter()
            .find(|ex| !RUNNABLE.contains(&program(&ex.command)))
        {
            return Err(format!(
                "{}: `{}` is not a command these examples run; fence the block as ```text \
                 or use {RUNNABLE:?}",
                ex.at,
                program(&ex.command)
            ));
        }
        out.push(block);
    }
    Ok(out)
}

/// Whether `actual` matches the `expected` lines (`...` lines, `[..]` wildcards).
fn matches(expected: &[String], actual: &[&str]) -> bool {
    match expected.split_first() {
        None => actual.is_empty(),
        Some((e, rest)) if e == "..." => (0..=actual.len()).any(|i| matches(rest, &actual[i..])),
        Some((e, rest)) => actual
            .split_first()
            .is_some_and(|(a, more)| line_matches(e, a.trim_end()) && matches(rest, more)),
    }
}

fn line_matches(pattern: &str, line: &str) -> bool {
    let parts: Vec<&str> = pattern.split("[..]").collect();
    if parts.len() == 1 {
        return pattern == line;
    }
    let mut at = 0;
    for (i, part) in parts.iter().enumerate() {
        if i == 0 {
            if !line.starts_with(part) {
                return false;
            }
            at = part.len();
        } else if i == parts.len() - 1 {
            return line.len() >= at + part.len() && line[at..].ends_with(part);
        } else {
            match line[at..].find(part) {
                Some(p) => at += p + part.len(),
                None => return false,
            }
        }
    }
    true
}

/// A directory holding the two binaries under test, for `PATH`.
fn bin_dir(dir: &Path) -> PathBuf {
    let bin = dir.join("bin");
    std::fs::create_dir_all(&bin).unwrap();
    for exe in [CLI, SIM] {
        let name = Path::new(exe).file_name().unwrap();
        std::os::unix::fs::symlink(exe, bin.join(name)).unwrap();
    }
    bin
}

/// Runs the examples of one file in one bash session; returns the failures.
fn run_file(examples: &[Example]) -> Vec<String> {
    let dir = tempfile::tempdir().unwrap();
    let work = dir.path().join("work");
    std::fs::create_dir_all(work.join("target/release")).unwrap();
    std::os::unix::fs::symlink(module(), work.join("target/release/libcloudhsm_pkcs11.so"))
        .unwrap();
    let path = format!(
        "{}:{}",
        bin_dir(dir.path()).display(),
        std::env::var("PATH").unwrap_or_default()
    );
    let mut script = String::from("set -o pipefail\n");
    for (i, ex) in examples.iter().enumerate() {
        script.push_str(&format!(
            "printf '\\n@@@ {i} @@@\\n'\n{}\nprintf '\\n@@@ status %s @@@\\n' \"$?\"\n",
            ex.command
        ));
    }
    let mut cmd = Command::new("bash");
    for var in [
        "CLOUDHSM_ROLE",
        "CLOUDHSM_PIN",
        "CLOUDHSM_SIM_STRICT",
        "CLOUDHSM_SIM_SEED",
        "CLOUDHSM_SIM_OUTPUT",
        "XDG_DATA_HOME",
    ] {
        cmd.env_remove(var);
    }
    let out = cmd
        .arg("-c")
        .arg(&script)
        .current_dir(&work)
        .env("PATH", path)
        .env("HOME", &work)
        .env("TMPDIR", &work)
        .env("CLOUDHSM_SIM_HOME", work.join("state"))
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    let stderr = String::from_utf8_lossy(&out.stderr);
    let mut failures = Vec::new();
    for (i, ex) in examples.iter().enumerate() {
        let start = format!("\n@@@ {i} @@@\n");
        let Some(from) = stdout.find(&start).map(|p| p + start.len()) else {
            failures.push(format!("{}: never ran (stderr: {stderr})", ex.at));
            continue;
        };
        let Some(len) = stdout[from..].find("\n@@@ status ") else {
            failures.push(format!("{}: did not finish", ex.at));
            continue;
        };
        let printed = &stdout[from..from + len];
        let status = stdout[from + len..]
            .split_whitespace()
            .nth(2)
            .unwrap_or("?");
        if status != "0" {
            failures.push(format!(
                "{}: `{}` exited {status}; it printed:\n{printed}\nstderr:\n{stderr}",
                ex.at, ex.command
            ));
            continue;
        }
        let mut expected = ex.expected.clone();
        while expected.last().is_some_and(|l| l.is_empty()) {
            expected.pop();
        }
        let mut actual: Vec<&str> = printed.lines().collect();
        while actual.last().is_some_and(|l| l.trim().is_empty()) {
            actual.pop();
        }
        if !expected.is_empty() && !matches(&expected, &actual) {
            failures.push(format!(
                "{}: `{}` printed:\n{}\nbut the docs show:\n{}",
                ex.at,
                ex.command,
                actual.join("\n"),
                expected.join("\n")
            ));
        }
    }
    failures
}

/// README.md and every docs/*.md.
fn documents() -> Vec<PathBuf> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut files = vec![root.join("README.md")];
    let mut docs: Vec<PathBuf> = std::fs::read_dir(root.join("docs"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "md"))
        .collect();
    docs.sort();
    files.extend(docs);
    files
}

#[test]
fn console_examples_in_the_docs_run_as_shown() {
    let mut failures = Vec::new();
    let mut ran = 0;
    for path in documents() {
        let name = path.file_name().unwrap().to_string_lossy().into_owned();
        let text = std::fs::read_to_string(&path).unwrap();
        let examples: Vec<Example> = match blocks(&name, &text) {
            Ok(blocks) => blocks.into_iter().flatten().collect(),
            Err(e) => {
                failures.push(e);
                continue;
            }
        };
        if examples.is_empty() {
            continue;
        }
        ran += examples.len();
        failures.extend(run_file(&examples));
    }
    assert!(failures.is_empty(), "{}", failures.join("\n\n"));
    // README.md and docs/ci.md hold runnable examples: finding none means the parser broke.
    assert!(ran >= 10, "only {ran} console examples were found");
}

#[test]
fn the_convention_itself() {
    let text = "```console\n$ cloudhsm-cli user list | jq -r '.data.users[].username'\nadmin\n...\n$ FOO=1 cloudhsm-sim status \\\n    --x\n$ cat > f <<'EOF'\nline\nEOF\n```\n```console\n$ cargo install --path .\n```\n";
    let found = blocks("t.md", text).unwrap();
    assert_eq!(found.len(), 1);
    let b = &found[0];
    assert_eq!(b.len(), 3);
    assert_eq!(b[0].expected, ["admin", "..."]);
    assert_eq!(b[1].command, "FOO=1 cloudhsm-sim status \\\n    --x");
    assert_eq!(b[2].command, "cat > f <<'EOF'\nline\nEOF");
    assert!(blocks("t.md", "```console\n$ rm -rf /\n```\n").is_err());
    assert!(matches(
        &["a".into(), "...".into(), "z[..]".into()],
        &["a", "b", "c", "zed"]
    ));
    assert!(!matches(&["a".into()], &["a", "b"]));
    assert!(line_matches("0x[..]31", "0x0000000000000031"));
}

/// `--version`, the man pages, the completions and docs/commands.md from the built binaries.
#[test]
fn generated_artefacts_and_versions() {
    let run = |bin: &str, args: &[&str]| {
        let out = Command::new(bin)
            .args(args)
            .env_remove("CLOUDHSM_SIM_HOME")
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{bin} {args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8(out.stdout).unwrap()
    };
    let version = env!("CARGO_PKG_VERSION");
    assert_eq!(
        run(CLI, &["--version"]),
        format!("cloudhsm-cli {version}\n")
    );
    assert_eq!(
        run(SIM, &["--version"]),
        format!("cloudhsm-sim {version}\n")
    );

    let dir = tempfile::tempdir().unwrap();
    let written = run(SIM, &["man", "--dir", dir.path().to_str().unwrap()]);
    assert!(
        written.contains("cloudhsm-cli.1") && written.contains("cloudhsm-sim.1"),
        "{written}"
    );
    for (page, name) in [
        ("cloudhsm-cli.1", "cloudhsm-cli"),
        ("cloudhsm-sim.1", "cloudhsm-sim"),
    ] {
        let text = std::fs::read_to_string(dir.path().join(page)).unwrap();
        assert!(text.contains(&format!(".TH {name} 1")), "{page}:\n{text}");
    }
    assert!(run(SIM, &["man"]).contains(".TH cloudhsm-cli 1"));
    // Every page a SUBCOMMANDS section names (`cloudhsm\-cli\-key(1)`) was written.
    let mut named = 0;
    for entry in std::fs::read_dir(dir.path()).unwrap() {
        let text = std::fs::read_to_string(entry.unwrap().path()).unwrap();
        for (at, _) in text.match_indices("(1)") {
            let head = &text[..at];
            let start = head.rfind(|c: char| c.is_whitespace()).map_or(0, |i| i + 1);
            let page = head[start..].replace("\\-", "-").replace("\\fB", "");
            if page.starts_with("cloudhsm-") {
                named += 1;
                assert!(
                    dir.path().join(format!("{page}.1")).exists(),
                    "{page}(1) is named but not written"
                );
            }
        }
    }
    assert!(named > 20, "only {named} sub-pages named");

    // The bash script really completes: a curve after `--curve`, a command of each binary.
    let bash = run(SIM, &["completions", "bash"]);
    let script = dir.path().join("completions.bash");
    std::fs::write(&script, bash).unwrap();
    let probe = format!(
        "source {}\n\
         COMP_WORDS=(cloudhsm-cli key generate-asymmetric-pair ec --curve secp3); COMP_CWORD=5\n\
         _cloudhsm__cli cloudhsm-cli secp3 --curve; echo \"${{COMPREPLY[@]}}\"\n\
         COMP_WORDS=(cloudhsm-sim se); COMP_CWORD=1\n\
         _cloudhsm__sim cloudhsm-sim se cloudhsm-sim; echo \"${{COMPREPLY[@]}}\"\n",
        script.display()
    );
    let out = Command::new("bash").arg("-c").arg(probe).output().unwrap();
    assert_eq!(String::from_utf8_lossy(&out.stdout), "secp384r1\nseed\n");
    let zsh = run(SIM, &["completions", "zsh", "--bin", "cloudhsm-cli"]);
    assert!(zsh.starts_with("#compdef cloudhsm-cli"), "{zsh}");

    let commands = run(SIM, &["commands"]);
    let on_disk = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/docs/commands.md"));
    assert!(on_disk.is_ok_and(|d| d == commands), "docs/commands.md is stale: run `cargo run --bin cloudhsm-sim -- commands > docs/commands.md`");
}
