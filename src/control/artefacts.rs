//! Artefacts generated from the two grammars: shell completions (`cloudhsm-sim completions`),
//! man pages (`cloudhsm-sim man`) and `docs/commands.md` (`cloudhsm-sim commands`), so that
//! none of them can drift from the commands they describe.

use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};

use clap::{CommandFactory, ValueEnum};
use serde_json::json;

use crate::grammar::Cli;
use crate::session::permissions::{self, class_of, CommandClass, OperationClass, COMMANDS, TABLE};
use crate::session::Principal;

use super::{print_json, ControlError, SimCli};

/// A shell that `cloudhsm-sim completions` writes a script for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ShellArg {
    /// bash (bash-completion)
    Bash,
    /// zsh (compsys)
    Zsh,
    /// fish
    Fish,
    /// PowerShell
    Powershell,
}

/// One of the two binaries.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum BinArg {
    /// The emulated CLI
    #[value(name = "cloudhsm-cli")]
    Cli,
    /// This control binary
    #[value(name = "cloudhsm-sim")]
    Sim,
}

/// `cloudhsm-sim completions`: the completion script of both binaries (or of `--bin`).
///
/// Install them where your shell looks for completions, for example:
///
/// - bash: `cloudhsm-sim completions bash > ~/.local/share/bash-completion/completions/cloudhsm-cli`
///   (one file holds both binaries; or `source <(cloudhsm-sim completions bash)` in `~/.bashrc`)
/// - zsh: `cloudhsm-sim completions zsh --bin cloudhsm-cli > ~/.zfunc/_cloudhsm-cli` and the
///   same for `cloudhsm-sim` into `_cloudhsm-sim`, with `fpath+=~/.zfunc` before `compinit`
/// - fish: `cloudhsm-sim completions fish > ~/.config/fish/completions/cloudhsm-cli.fish`
/// - PowerShell: `cloudhsm-sim completions powershell | Out-String | Invoke-Expression` in
///   your `$PROFILE`
#[derive(Debug, clap::Args)]
pub struct Completions {
    /// The shell
    #[arg(value_enum)]
    pub shell: ShellArg,
    /// Only this binary's script (zsh wants one file per command)
    #[arg(long, value_enum)]
    pub bin: Option<BinArg>,
}

/// `cloudhsm-sim man`
#[derive(Debug, clap::Args)]
pub struct Man {
    /// Write the pages of cloudhsm-cli and cloudhsm-sim, one per command (cloudhsm-cli.1,
    /// cloudhsm-cli-key-list.1, ...), into this directory instead of printing the page of
    /// cloudhsm-cli to stdout
    #[arg(long, value_name = "DIR")]
    pub dir: Option<PathBuf>,
}

fn grammar(bin: BinArg) -> (clap::Command, &'static str) {
    match bin {
        BinArg::Cli => (Cli::command_tree(), crate::grammar::BIN_NAME),
        BinArg::Sim => (SimCli::command(), "cloudhsm-sim"),
    }
}

/// Writes the completion script(s).
pub fn completions(args: &Completions, out: &mut dyn Write) -> Result<(), ControlError> {
    use clap_complete::Shell;
    let shell = match args.shell {
        ShellArg::Bash => Shell::Bash,
        ShellArg::Zsh => Shell::Zsh,
        ShellArg::Fish => Shell::Fish,
        ShellArg::Powershell => Shell::PowerShell,
    };
    let bins = match args.bin {
        Some(bin) => vec![bin],
        None => vec![BinArg::Cli, BinArg::Sim],
    };
    for bin in bins {
        let (mut cmd, name) = grammar(bin);
        // Into a buffer first: clap_complete panics on a write error (a closed pipe).
        let mut script = Vec::new();
        clap_complete::generate(shell, &mut cmd, name, &mut script);
        if shell == Shell::Bash {
            script = fix_bash_states(&script, name);
        }
        out.write_all(&script)?;
    }
    out.flush()?;
    Ok(())
}

/// Works around clap_complete's bash scripts for a binary whose name has a hyphen
/// (clap-rs/clap#6421): the loop that follows the words names the state `cloudhsm__cli__...`,
/// while the arms that complete spell it `cloudhsm__subcmd__cli__...`, so nothing below the
/// top level ever completed. The arms are renamed to match the loop.
fn fix_bash_states(script: &[u8], name: &str) -> Vec<u8> {
    let text = String::from_utf8_lossy(script);
    let arm = format!("{}__", name.replace('-', "__subcmd__"));
    let state = format!("{}__", name.replace('-', "__"));
    text.replace(&arm, &state).into_bytes()
}

/// Writes the man page of `cloudhsm-cli` to `out`, or both pages into `--dir`.
pub fn man(args: &Man, out: &mut dyn Write) -> Result<(), ControlError> {
    let Some(dir) = &args.dir else {
        clap_mangen::Man::new(man_tree(Cli::command_tree())).render(out)?;
        out.flush()?;
        return Ok(());
    };
    fs::create_dir_all(dir)?;
    let mut written = Vec::new();
    for bin in [BinArg::Cli, BinArg::Sim] {
        let (cmd, _) = grammar(bin);
        write_man_pages(&man_tree(cmd), dir, &mut written)?;
    }
    print_json(out, &json!({ "written": written }))
}

/// A command tree as the man pages show it: built (so each subcommand's page is named
/// `parent-child`), without clap's `help` subcommand, which has no page of its own.
fn man_tree(cmd: clap::Command) -> clap::Command {
    let mut cmd = cmd.disable_help_subcommand(true);
    cmd.build();
    cmd
}

/// Writes the page of `cmd` and of every visible subcommand below it: each page's
/// SUBCOMMANDS section names those pages, so all of them must exist.
fn write_man_pages(
    cmd: &clap::Command,
    dir: &Path,
    written: &mut Vec<PathBuf>,
) -> Result<(), ControlError> {
    written.push(clap_mangen::Man::new(cmd.clone()).generate_to(dir)?);
    for sub in cmd.get_subcommands().filter(|s| !s.is_hide_set()) {
        write_man_pages(sub, dir, written)?;
    }
    Ok(())
}

/// Who may run a command of `class`, from the permission table.
fn allowed(class: OperationClass) -> String {
    let title = TABLE
        .iter()
        .find(|r| r.class == class)
        .map_or("?", |r| r.title);
    let who: Vec<&str> = Principal::ALL
        .iter()
        .filter(|p| permissions::allows(class, **p))
        .map(|p| p.label())
        .collect();
    let who = if who.is_empty() {
        "no one".to_string()
    } else {
        who.join(", ")
    };
    format!("{who} ({title})")
}

fn who_may_run(class: Option<CommandClass>) -> String {
    match class {
        None => "no one: the command has no row in the permission table".into(),
        Some(CommandClass::Session) => "anyone (session management; see docs/scripting.md)".into(),
        Some(CommandClass::Fixed(c)) => allowed(c),
        Some(CommandClass::ByTarget { own, other }) => format!(
            "for the logged-in user: {}; for another user: {}",
            allowed(own),
            allowed(other)
        ),
        Some(CommandClass::ByAttribute { trusted, other }) => format!(
            "`--name trusted`: {}; any other attribute: {}",
            allowed(trusted),
            allowed(other)
        ),
    }
}

/// A Markdown table cell: one line, pipes escaped.
fn cell(text: &str) -> String {
    text.replace('\n', " ").replace('|', "\\|")
}

/// The options and arguments of one command as Markdown.
fn options(cmd: &clap::Command, md: &mut String) {
    let args: Vec<&clap::Arg> = cmd
        .get_arguments()
        .filter(|a| !a.is_hide_set() && a.get_id() != "help" && a.get_id() != "version")
        .collect();
    if args.is_empty() {
        md.push_str("No options.\n\n");
        return;
    }
    md.push_str("| option | value | description |\n| --- | --- | --- |\n");
    for a in args {
        let name = match a.get_long() {
            Some(long) => format!("`--{long}`"),
            None => format!("`<{}>`", a.get_id()),
        };
        let takes = a.get_action().takes_values();
        let mut value = match a.get_value_names() {
            Some(names) if takes => names
                .iter()
                .map(|n| format!("`{n}`"))
                .collect::<Vec<_>>()
                .join(" "),
            _ if takes => format!("`{}`", a.get_id().as_str().to_uppercase()),
            _ => "(flag)".to_string(),
        };
        let possible: Vec<String> = a
            .get_possible_values()
            .iter()
            .filter(|v| !v.is_hide_set())
            .map(|v| format!("`{}`", v.get_name()))
            .collect();
        if takes && !possible.is_empty() {
            value = format!("one of {}", possible.join(", "));
        }
        let mut help = a.get_help().map(|h| h.to_string()).unwrap_or_default();
        if a.is_required_set() {
            help.push_str(" (required)");
        }
        let defaults: Vec<String> = a
            .get_default_values()
            .iter()
            .map(|d| d.to_string_lossy().into_owned())
            .collect();
        if !defaults.is_empty() {
            help.push_str(&format!(" (default: {})", defaults.join(" ")));
        }
        md.push_str(&format!("| {name} | {value} | {} |\n", cell(help.trim())));
    }
    md.push('\n');
}

/// The subcommand at `path` (words) under `root`.
fn find<'c>(root: &'c clap::Command, path: &str) -> Option<&'c clap::Command> {
    path.split(' ')
        .try_fold(root, |cmd, word| cmd.find_subcommand(word))
}

fn about(cmd: &clap::Command) -> String {
    cmd.get_about().map(|a| a.to_string()).unwrap_or_default()
}

/// `docs/commands.md`, generated from the two grammars and the permission table.
pub fn render_commands_markdown() -> String {
    let mut md = String::from(
        "# Commands\n\n\
         <!-- Generated from the grammar and the permission table by \
         `cargo run --bin cloudhsm-sim -- commands`. Do not edit: a test fails when this file \
         and the code drift apart (`SNAPSHOTS=overwrite cargo test` rewrites it). -->\n\n\
         Every command of `cloudhsm-cli` (the emulated AWS CloudHSM CLI, its emulator \
         extensions marked as such) with its options and who may run it according to the \
         permission table (docs/permissions.md), then the commands of `cloudhsm-sim`. \
         `help <command>` and `<command> --help` print the same help in the shell.\n\n\
         ## cloudhsm-cli\n\n",
    );
    let cli = Cli::command_tree();
    for (id, _) in COMMANDS {
        let name = id.name();
        md.push_str(&format!("### `{name}`\n\n"));
        match find(&cli, name) {
            Some(cmd) => {
                let text = about(cmd);
                if !text.is_empty() {
                    md.push_str(&format!("{}\n\n", text.trim()));
                }
                md.push_str(&format!(
                    "Who may run it: {}.\n\n",
                    who_may_run(class_of(*id))
                ));
                options(cmd, &mut md);
            }
            None => md.push_str("Not in the grammar.\n\n"),
        }
    }
    md.push_str("## cloudhsm-sim\n\nControls the simulated clusters; it needs no login.\n\n");
    let sim = SimCli::command();
    let mut stack: Vec<(String, &clap::Command)> = sim
        .get_subcommands()
        .map(|s| (s.get_name().to_string(), s))
        .collect();
    stack.reverse();
    while let Some((path, cmd)) = stack.pop() {
        let subs: Vec<&clap::Command> = cmd.get_subcommands().collect();
        md.push_str(&format!("### `cloudhsm-sim {path}`\n\n"));
        let text = about(cmd);
        if !text.is_empty() {
            md.push_str(&format!("{}\n\n", text.trim()));
        }
        if subs.is_empty() {
            options(cmd, &mut md);
        }
        for sub in subs.into_iter().rev() {
            stack.push((format!("{path} {}", sub.get_name()), sub));
        }
    }
    md
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn docs_commands_md_is_generated_from_the_grammar() {
        let path = concat!(env!("CARGO_MANIFEST_DIR"), "/docs/commands.md");
        let on_disk = std::fs::read_to_string(path).unwrap_or_default();
        if std::env::var_os("SNAPSHOTS").is_some_and(|v| v == "overwrite") {
            std::fs::write(path, render_commands_markdown()).unwrap();
            return;
        }
        assert!(
            on_disk == render_commands_markdown(),
            "docs/commands.md drifted from the grammar: run \
             `cargo run --bin cloudhsm-sim -- commands > docs/commands.md`"
        );
    }

    #[test]
    fn every_command_is_documented_with_who_may_run_it() {
        let md = render_commands_markdown();
        for (id, _) in COMMANDS {
            assert!(
                md.contains(&format!("### `{}`\n", id.name())),
                "{}",
                id.name()
            );
        }
        assert!(!md.contains("Not in the grammar"));
        assert!(md.contains("Who may run it: admin (Add, remove users)."));
        assert!(md.contains("### `cloudhsm-sim completions`"));
        assert!(md.contains("one of `prime256v1`"));
    }

    #[test]
    fn completions_cover_both_binaries() {
        for shell in [
            ShellArg::Bash,
            ShellArg::Zsh,
            ShellArg::Fish,
            ShellArg::Powershell,
        ] {
            let mut out = Vec::new();
            completions(&Completions { shell, bin: None }, &mut out).unwrap();
            let text = String::from_utf8(out).unwrap();
            for word in [
                "cloudhsm-cli",
                "cloudhsm-sim",
                "generate-asymmetric-pair",
                "crypto-user",
            ] {
                assert!(text.contains(word), "{shell:?} script lacks {word}");
            }
            // clap_complete's fish and PowerShell scripts stop two levels down.
            if matches!(shell, ShellArg::Bash | ShellArg::Zsh) {
                assert!(
                    text.contains("secp384r1"),
                    "{shell:?} script lacks the curves"
                );
            }
        }
    }

    #[test]
    fn man_page_of_the_cli() {
        let mut out = Vec::new();
        man(&Man { dir: None }, &mut out).unwrap();
        let page = String::from_utf8(out).unwrap();
        assert!(page.starts_with(".ie \\n(.g .ds Aq"), "{}", &page[..80]);
        assert!(page.contains(".TH cloudhsm-cli 1"));
    }
}
