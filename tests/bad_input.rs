//! The bad-input matrix: every runnable command of the grammar (found by walking
//! `Cli::command_tree()`, so new commands are covered without touching this file) meets
//! missing required options, an unknown option, values of the wrong type, overlong values
//! (usernames past the 31-character limit, labels past 127 characters, passwords past 32,
//! 1 MB data, 1 MB lines), non-UTF-8 bytes, control characters, and paths that do not exist,
//! are directories, cannot be read or cannot be written (`/proc/self/mem`, `/dev/full`).
//!
//! Each gets a clear error: clap's usage message on stderr with exit status 2 in single-command
//! mode, or the JSON envelope with `error_code` 1 in a piped session. Never a panic (exit 101
//! or "panicked" on stderr), never a success where an error is due, and the state is unchanged
//! afterwards: `user list` and `key list --verbose` are compared before and after every bad
//! line, in a session of the user the command is meant for (the keys' owner, or the admin).
//! Piped sessions carry on after each bad line (a sentinel command after each one must
//! answer, and so must a final `user list`).
//!
//! Each bad line is one bad element on top of a baseline command that is valid as it stands
//! (the baselines are first run, each on its own copy of the state, to know which are), so
//! that the error is about that element and a state change cannot hide behind another
//! refusal; a bad path must then be named in the error.
//!
//! Control characters in labels are refused (`labels_with_control_characters_are_refused`).

#![allow(clippy::unwrap_used, clippy::expect_used)] // test code: a panic is a failure report

mod common;

use std::ffi::OsString;
use std::os::unix::ffi::OsStringExt;
use std::path::Path;
use std::process::Stdio;
use std::time::{Duration, Instant};

use base64::Engine;
use cloudhsm_sim::grammar::Cli;
use common::*;
use serde_json::Value;

const ADMIN_PW: &str = "admin-pw-1";
const OWNER: &str = "owner";
const OWNER_PW: &str = "owner-pw-1";
const MB: usize = 1 << 20;

fn b64(bytes: &[u8]) -> String {
    base64::engine::general_purpose::STANDARD.encode(bytes)
}

// ---------------------------------------------------------------------------------------
// The grammar, walked
// ---------------------------------------------------------------------------------------

#[derive(Debug, Clone)]
struct Opt {
    /// Which word of the command path the option belongs after (`login --username ...
    /// mfa-token-sign --token ...`).
    level: usize,
    long: String,
    required: bool,
    takes_value: bool,
    possible: Vec<String>,
    numeric: bool,
}

/// A runnable command: a leaf of the tree, or a command whose subcommand is optional.
#[derive(Debug, Clone)]
struct Leaf {
    path: Vec<String>,
    opts: Vec<Opt>,
    /// The options of each required group (one of them must be given), with their level.
    groups: Vec<(usize, Vec<String>)>,
}

/// Options given to a command: (level, long name, values).
type Given = Vec<(usize, String, Vec<String>)>;

impl Leaf {
    fn name(&self) -> String {
        self.path.join(" ")
    }
}

fn leaves() -> Vec<Leaf> {
    fn numeric(a: &clap::Arg) -> bool {
        use std::any::TypeId;
        let t = a.get_value_parser().type_id();
        [
            TypeId::of::<u8>(),
            TypeId::of::<u16>(),
            TypeId::of::<u32>(),
            TypeId::of::<u64>(),
            TypeId::of::<usize>(),
            TypeId::of::<i32>(),
            TypeId::of::<i64>(),
        ]
        .iter()
        .any(|id| t == *id)
    }
    fn walk(cmd: &clap::Command, path: &mut Vec<String>, above: &Leaf, out: &mut Vec<Leaf>) {
        let level = path.len() - 1;
        let mut here = above.clone();
        here.path = path.clone();
        here.opts.extend(cmd.get_arguments().filter_map(|a| {
            let long = a.get_long()?.to_string();
            if matches!(long.as_str(), "help" | "version") {
                return None;
            }
            Some(Opt {
                level,
                long,
                required: a.is_required_set(),
                takes_value: a.get_num_args().unwrap_or_default().takes_values(),
                possible: a
                    .get_possible_values()
                    .iter()
                    .map(|v| v.get_name().to_string())
                    .collect(),
                numeric: numeric(a),
            })
        }));
        here.groups
            .extend(cmd.get_groups().filter(|g| g.is_required_set()).map(|g| {
                let members = g
                    .get_args()
                    .filter_map(|id| cmd.get_arguments().find(|a| a.get_id() == id))
                    .filter_map(|a| a.get_long().map(str::to_string))
                    .collect();
                (level, members)
            }));
        let subs: Vec<&clap::Command> = cmd
            .get_subcommands()
            .filter(|s| s.get_name() != "help")
            .collect();
        if subs.is_empty() || !cmd.is_subcommand_required_set() {
            out.push(here.clone());
        }
        for sub in subs {
            path.push(sub.get_name().to_string());
            walk(sub, path, &here, out);
            path.pop();
        }
    }
    let mut cmd = Cli::command_tree();
    cmd.build();
    let empty = Leaf {
        path: Vec::new(),
        opts: Vec::new(),
        groups: Vec::new(),
    };
    let mut out = Vec::new();
    for sub in cmd.get_subcommands().filter(|s| s.get_name() != "help") {
        walk(sub, &mut vec![sub.get_name().to_string()], &empty, &mut out);
    }
    out
}

/// Commands that change the session itself (they are checked in single-command mode only).
fn changes_session(leaf: &Leaf) -> bool {
    matches!(
        leaf.path.first().map(String::as_str),
        Some("login" | "logout" | "quit" | "interactive" | "output")
    )
}

// ---------------------------------------------------------------------------------------
// The state: keys of every kind, files, and valid inputs for the baselines
// ---------------------------------------------------------------------------------------

struct World {
    sim: Sim,
    /// Base64 wrapped data (and IV for aes-gcm) per `key unwrap` mechanism.
    wrapped: Vec<(String, String, Option<String>)>,
    ciphertext: (String, String),
    rsa_ciphertext: String,
    /// Base64 signatures of "hello" per `crypto verify` mechanism.
    signatures: Vec<(String, String)>,
}

impl World {
    fn file(&self, name: &str) -> String {
        self.sim.dir.path().join(name).display().to_string()
    }
}

fn world() -> World {
    let sim = Sim::activated(ADMIN_PW);
    let files = sim.dir.path();
    std::fs::write(files.join("data.bin"), b"hello").unwrap();
    std::fs::write(files.join("sig.bin"), [0u8; 64]).unwrap();
    std::fs::create_dir(files.join("a-directory")).unwrap();
    let f = |n: &str| files.join(n).display().to_string();
    let mut script = format!(
        "login --username admin --role admin --password {ADMIN_PW}\n\
         user create --username {OWNER} --role crypto-user --password {OWNER_PW}\n\
         user create --username sharee --role crypto-user --password sharee-pw-1\n\
         user create --username victim --role crypto-user --password victim-pw-1\n\
         quorum token-sign generate --service user --token {}\n\
         logout\n\
         login --username {OWNER} --role crypto-user --password {OWNER_PW}\n",
        f("token.json")
    );
    let both = "encrypt=true decrypt=true wrap=true unwrap=true";
    for line in [
        format!(
            "key generate-symmetric aes --label b-aes --key-length-bytes 32 --attributes {both}"
        ),
        "key generate-symmetric generic-secret --label b-gs --key-length-bytes 32".into(),
        "key generate-asymmetric-pair ec --curve prime256v1 --public-label b-ec-pub \
         --private-label b-ec-priv --public-attributes verify=true --private-attributes sign=true"
            .into(),
        "key generate-asymmetric-pair ec --curve ed25519 --public-label b-ed-pub \
         --private-label b-ed-priv --public-attributes verify=true --private-attributes sign=true"
            .into(),
        "key generate-asymmetric-pair ml-dsa --mldsa-algorithm ML-DSA-44 --public-label b-ml-pub \
         --private-label b-ml-priv --public-attributes verify=true --private-attributes sign=true"
            .into(),
        "key generate-asymmetric-pair rsa --modulus-size-bits 2048 --public-exponent 65537 \
         --public-label b-rsa-pub --private-label b-rsa-priv --public-attributes verify=true \
         encrypt=true wrap=true --private-attributes sign=true decrypt=true unwrap=true"
            .into(),
        "key share --filter attr.label=b-gs --username sharee --role crypto-user".into(),
        format!(
            "key generate-file --encoding pem --path {} --filter attr.label=b-ec-pub",
            f("ec-pub.pem")
        ),
        format!(
            "key extract-masked --filter attr.label=b-gs --path {}",
            f("masked.json")
        ),
    ] {
        script.push_str(&line);
        script.push('\n');
    }
    let mechanisms = [
        "aes-gcm",
        "aes-no-pad",
        "aes-pkcs5-pad",
        "aes-zero-pad",
        "cloudhsm-aes-gcm",
        "rsa-aes",
        "rsa-oaep",
        "rsa-pkcs",
    ];
    for m in mechanisms {
        let (wrapping, extra) = match m {
            "aes-gcm" | "cloudhsm-aes-gcm" => ("b-aes", " --tag-length-bits 128"),
            "rsa-aes" | "rsa-oaep" => ("b-rsa-pub", " --hash-function sha256 --mgf mgf1-sha256"),
            "rsa-pkcs" => ("b-rsa-pub", ""),
            _ => ("b-aes", ""),
        };
        script.push_str(&format!(
            "key wrap {m} --payload-filter attr.label=b-gs --wrapping-filter attr.label={wrapping}{extra}\n"
        ));
    }
    let signing = [
        ("ecdsa", "b-ec-priv", " --hash-function sha256"),
        ("ed25519", "b-ed-priv", ""),
        (
            "ed25519ph",
            "b-ed-priv",
            " --hash-function sha512 --data-type raw",
        ),
        (
            "ml-dsa",
            "b-ml-priv",
            " --hash-function shake256 --data-type raw",
        ),
        ("rsa-pkcs", "b-rsa-priv", " --hash-function sha256"),
        (
            "rsa-pkcs-pss",
            "b-rsa-priv",
            " --hash-function sha256 --mgf mgf1-sha256 --salt-length 32",
        ),
    ];
    for (m, key, extra) in signing {
        script.push_str(&format!(
            "crypto sign {m} --key-filter attr.label={key} --data aGVsbG8={extra}\n"
        ));
    }
    script.push_str("crypto encrypt aes-gcm --key-filter attr.label=b-aes --data aGVsbG8=\n");
    script.push_str(
        "crypto encrypt rsa-oaep --key-filter attr.label=b-rsa-pub --hash-function sha256 \
         --mgf mgf1-sha256 --data aGVsbG8=\n",
    );
    let run = sim.piped(&script);
    let values = run.json();
    for (line, v) in script.lines().zip(&values) {
        assert_eq!(v["error_code"], 0, "setup `{line}`: {v:#}");
    }
    let n = values.len();
    assert_eq!(n, script.lines().count(), "setup: {}", run.stderr);
    let wraps = &values[n - 16..n - 8];
    let signatures = signing
        .iter()
        .zip(&values[n - 8..n - 2])
        .map(|((m, _, _), v)| {
            (
                m.to_string(),
                v["data"]["signature"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    let wrapped = mechanisms
        .iter()
        .zip(wraps)
        .map(|(m, v)| {
            let d = &v["data"];
            (
                m.to_string(),
                d["wrapped_key_data"].as_str().unwrap().to_string(),
                d["iv"]
                    .as_str()
                    .map(|s| s.trim_start_matches("0x").to_string()),
            )
        })
        .collect();
    let enc = &values[n - 2]["data"];
    World {
        wrapped,
        ciphertext: (
            enc["ciphertext"].as_str().unwrap().to_string(),
            enc["iv"]
                .as_str()
                .unwrap()
                .trim_start_matches("0x")
                .to_string(),
        ),
        rsa_ciphertext: values[n - 1]["data"]["ciphertext"]
            .as_str()
            .unwrap()
            .to_string(),
        signatures,
        sim,
    }
}

/// The key a command's filter picks in the baseline.
fn filter_label(leaf: &Leaf, long: &str) -> &'static str {
    let p: Vec<&str> = leaf.path.iter().map(String::as_str).collect();
    match (p.as_slice(), long) {
        (["crypto", "sign", m], _) => match *m {
            "ecdsa" => "b-ec-priv",
            "ed25519" | "ed25519ph" => "b-ed-priv",
            "ml-dsa" => "b-ml-priv",
            _ => "b-rsa-priv",
        },
        (["crypto", "verify", m], _) => match *m {
            "ecdsa" => "b-ec-pub",
            "ed25519" | "ed25519ph" => "b-ed-pub",
            "ml-dsa" => "b-ml-pub",
            _ => "b-rsa-pub",
        },
        (["crypto", "encrypt", "rsa-oaep"], _) => "b-rsa-pub",
        (["crypto", "decrypt", "rsa-oaep"], _) => "b-rsa-priv",
        (["crypto", "mac", _], _) => "b-gs",
        (["crypto", ..], _) => "b-aes",
        (["key", "wrap", m], "wrapping-filter") if m.starts_with("rsa") => "b-rsa-pub",
        (["key", "wrap", _], "wrapping-filter") => "b-aes",
        (["key", "wrap", _], _) => "b-gs",
        (["key", "unwrap", m], _) if m.starts_with("rsa") => "b-rsa-priv",
        (["key", "unwrap", _], _) => "b-aes",
        (["key", "generate-file"], _) => "b-ec-pub",
        (["key", "unshare"], _) => "b-gs",
        _ => "b-aes",
    }
}

/// A valid value for option `opt` of `leaf` (empty for a flag).
fn good_value(w: &World, leaf: &Leaf, opt: &Opt) -> Vec<String> {
    if !opt.takes_value {
        return Vec::new();
    }
    let name = leaf.name();
    let one = |s: &str| vec![s.to_string()];
    let first_of = |prefer: &[&str]| {
        prefer
            .iter()
            .find(|p| opt.possible.iter().any(|v| v == *p))
            .map(|p| p.to_string())
            .unwrap_or_else(|| opt.possible[0].clone())
    };
    let unwrap_mech = leaf.path.get(2).cloned().unwrap_or_default();
    let wrapped = w.wrapped.iter().find(|(m, _, _)| *m == unwrap_mech);
    match opt.long.as_str() {
        l if l.contains("filter") => vec![format!("attr.label={}", filter_label(leaf, l))],
        "label" => one("new-label"),
        "public-label" => one("new-pub"),
        "private-label" => one("new-priv"),
        "username" => one(match name.as_str() {
            "user create" => "fresh_user",
            "user delete" | "user change-password" => "victim",
            "key share" | "key unshare" => "sharee",
            _ => OWNER,
        }),
        "password" | "change-password" => one("fresh-pw-123"),
        "key-length-bytes" => one("32"),
        "modulus-size-bits" => one("2048"),
        "public-exponent" => one("65537"),
        "salt-length" => one("32"),
        "tag-length-bits" => one("128"),
        "generated" | "approved" => one("600"),
        "iv" if name == "crypto decrypt aes-gcm" => vec![w.ciphertext.1.clone()],
        "iv" => vec![wrapped.and_then(|x| x.2.clone()).unwrap_or_default()],
        "data" if leaf.path[0] == "key" => vec![wrapped.map(|x| x.1.clone()).unwrap_or_default()],
        "data" if name == "crypto decrypt aes-gcm" => vec![w.ciphertext.0.clone()],
        "data" if name == "crypto decrypt rsa-oaep" => vec![w.rsa_ciphertext.clone()],
        "data" => one("aGVsbG8="),
        "signature" => vec![w
            .signatures
            .iter()
            .find(|(m, _)| Some(m) == leaf.path.get(2))
            .map(|(_, s)| s.clone())
            .unwrap_or_else(|| b64(&[0u8; 64]))],
        "data-path" => vec![w.file("data.bin")],
        "signature-path" => vec![w.file("sig.bin")],
        "key-type-class" if name == "key import pem" => one("ec-public"),
        "key-type-class" => one("generic-secret"),
        "path" => vec![match name.as_str() {
            "key import pem" => w.file("ec-pub.pem"),
            "key insert-masked" => w.file("masked.json"),
            _ => w.file("out.bin"),
        }],
        "token" => vec![w.file("token-out.json")],
        "public-key" => vec![w.file("ec-pub.pem")],
        "signed-token" => vec![w.file("token.json")],
        "name" => one("label"),
        "value" if name == "key set-attribute" => one("relabelled"),
        _ if !opt.possible.is_empty() => vec![first_of(&[
            "crypto-user",
            "sha256",
            "mgf1-sha256",
            "raw",
            "prime256v1",
            "ML-DSA-44",
            "pem",
            "user",
        ])],
        _ if opt.numeric => one("1"),
        _ => one("x"),
    }
}

/// The options of the baseline: every required one, and one of each required group
/// (the inline value rather than the file, where there is a choice).
fn baseline(w: &World, leaf: &Leaf) -> Given {
    // Required options, and passwords (a missing one would be prompted for).
    let mut chosen: Vec<(usize, String)> = leaf
        .opts
        .iter()
        .filter(|o| o.required || o.long == "password" || o.long == "change-password")
        .map(|o| (o.level, o.long.clone()))
        .collect();
    for (level, g) in &leaf.groups {
        if g.iter().any(|l| chosen.contains(&(*level, l.clone()))) {
            continue;
        }
        let takes = |l: &String| {
            leaf.opts
                .iter()
                .any(|o| o.level == *level && o.long == *l && o.takes_value)
        };
        let pick = g
            .iter()
            .find(|l| !l.contains("path") && takes(l))
            .or_else(|| g.first())
            .cloned();
        chosen.extend(pick.map(|p| (*level, p)));
    }
    chosen
        .into_iter()
        .filter_map(|(level, l)| {
            let o = leaf.opts.iter().find(|o| o.level == level && o.long == l)?;
            Some((level, l.clone(), good_value(w, leaf, o)))
        })
        .collect()
}

fn words(leaf: &Leaf, given: &Given) -> Vec<String> {
    let mut out = Vec::new();
    for (level, name) in leaf.path.iter().enumerate() {
        out.push(name.clone());
        for (lv, long, values) in given {
            if *lv == level {
                out.push(format!("--{long}"));
                out.extend(values.iter().cloned());
            }
        }
    }
    out
}

/// Shell quoting that keeps every byte (NUL and control characters included).
fn quote(word: &str) -> String {
    let plain = !word.is_empty()
        && word
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "_-./=:,+@%".contains(c));
    if plain {
        word.to_string()
    } else {
        format!("'{}'", word.replace('\'', r"'\''"))
    }
}

fn line(words: &[String]) -> Vec<u8> {
    words
        .iter()
        .map(|w| quote(w))
        .collect::<Vec<_>>()
        .join(" ")
        .into_bytes()
}

/// `given` with option `o` set to `values` (added if it was not there).
fn with(given: &Given, o: &Opt, values: Vec<String>) -> Given {
    let mut g: Given = given
        .iter()
        .filter(|(lv, l, _)| !(*lv == o.level && *l == o.long))
        .cloned()
        .collect();
    g.push((o.level, o.long.clone(), values));
    g
}

/// `given` without option `o`.
fn without(given: &Given, o: &Opt) -> Given {
    given
        .iter()
        .filter(|(lv, l, _)| !(*lv == o.level && *l == o.long))
        .cloned()
        .collect()
}

// ---------------------------------------------------------------------------------------
// State snapshots through the CLI
// ---------------------------------------------------------------------------------------

fn snapshot(sim: &Sim) -> (Value, Value, Value) {
    let owner_pin = format!("{OWNER}:{OWNER_PW}");
    let admin_pin = format!("admin:{ADMIN_PW}");
    let list = |role: &str, pin: &str| {
        let run = sim.cli_env(
            &["key", "list", "--verbose", "--max-items", "10000"],
            &[("CLOUDHSM_ROLE", role), ("CLOUDHSM_PIN", pin)],
        );
        assert_eq!(run.code, 0, "key list as {role}: {}", run.stderr);
        run.one()
    };
    let users = sim.cli(&["user", "list"]);
    assert_eq!(users.code, 0);
    (
        users.one(),
        list("crypto-user", &owner_pin),
        list("admin", &admin_pin),
    )
}

fn assert_no_panic(what: &str, code: i32, stderr: &str) {
    assert_ne!(code, 101, "{what}: exit 101 (a panic): {stderr}");
    assert!(!stderr.contains("panicked"), "{what}: a panic: {stderr}");
}

// ---------------------------------------------------------------------------------------
// 1. Single-command mode: usage errors exit 2 with clap's message, whatever the command
// ---------------------------------------------------------------------------------------

/// The argv variants of one leaf that the grammar must refuse.
fn usage_variants(w: &World, leaf: &Leaf) -> Vec<(String, Vec<OsString>)> {
    let base = baseline(w, leaf);
    let os = |ws: Vec<String>| ws.into_iter().map(OsString::from).collect::<Vec<_>>();
    let mut out = Vec::new();
    // Each required option left out, and each required group left out entirely.
    for o in leaf.opts.iter().filter(|o| o.required) {
        out.push((
            format!("without --{}", o.long),
            os(words(leaf, &without(&base, o))),
        ));
    }
    for (level, g) in &leaf.groups {
        let rest: Given = base
            .iter()
            .filter(|(lv, l, _)| !(lv == level && g.contains(l)))
            .cloned()
            .collect();
        out.push((format!("without any of {g:?}"), os(words(leaf, &rest))));
    }
    // An unknown option.
    let mut ws = words(leaf, &base);
    ws.extend(["--no-such-option".to_string(), "x".to_string()]);
    out.push(("an unknown option".into(), os(ws)));
    // Values of the wrong type.
    for o in leaf.opts.iter().filter(|o| o.takes_value) {
        let bad: Vec<&str> = if !o.possible.is_empty() {
            vec!["not-a-choice", ""]
        } else if o.numeric {
            vec!["abc", "-1", "1.5", "99999999999999999999999"]
        } else {
            continue;
        };
        for b in bad {
            let opts = with(&base, o, vec![b.to_string()]);
            out.push((format!("--{} {b:?}", o.long), os(words(leaf, &opts))));
        }
    }
    // A value that is not UTF-8.
    if let Some(long) = base
        .iter()
        .rev()
        .find(|(_, _, v)| !v.is_empty())
        .map(|(_, l, _)| l.clone())
    {
        // The last option with a value gets its value as raw bytes (it is last on the line).
        let o = leaf.opts.iter().rev().find(|o| o.long == long).unwrap();
        let mut args = os(words(leaf, &with(&base, o, vec![])));
        args.push(OsString::from_vec(b"bad-\xff\xfe-bytes".to_vec()));
        out.push((format!("--{long} with non-UTF-8 bytes"), args));
    }
    out
}

#[test]
fn every_command_refuses_bad_argv_with_a_usage_error() {
    let w = world();
    let before = snapshot(&w.sim);
    let leaves = leaves();
    assert!(
        leaves.len() > 40,
        "only {} leaf commands found",
        leaves.len()
    );
    let mut cases: Vec<(String, Vec<OsString>)> = Vec::new();
    for leaf in &leaves {
        // The baseline itself parses: the variants differ from a valid command by one thing.
        let base = words(leaf, &baseline(&w, leaf));
        if let Err(e) = Cli::parse_words(&base) {
            panic!(
                "baseline of `{}` does not parse: {base:?}\n{e}",
                leaf.name()
            );
        }
        for (what, args) in usage_variants(&w, leaf) {
            if let Ok(cli) = Cli::parse_words(&args) {
                panic!(
                    "`{}` {what}: the grammar accepts {args:?} as {:?}",
                    leaf.name(),
                    cli.command
                );
            }
            cases.push((format!("`{}` {what}", leaf.name()), args));
        }
    }
    // Run them as real processes, a few at a time, with credentials in the environment (a
    // usage error must come before any login).
    let admin_pin = format!("admin:{ADMIN_PW}");
    let started = Instant::now();
    let total = cases.len();
    let chunks: Vec<Vec<(String, Vec<OsString>)>> =
        cases.chunks(total.div_ceil(4)).map(<[_]>::to_vec).collect();
    std::thread::scope(|s| {
        for chunk in chunks {
            let sim = &w.sim;
            let admin_pin = &admin_pin;
            s.spawn(move || {
                for (what, args) in chunk {
                    let mut cmd = sim.cli_command();
                    cmd.args(&args)
                        .env("CLOUDHSM_ROLE", "admin")
                        .env("CLOUDHSM_PIN", admin_pin);
                    let run = run(cmd, b"");
                    assert_no_panic(&what, run.code, &run.stderr);
                    assert_eq!(
                        run.code,
                        2,
                        "{what}: exit status; stdout: {}",
                        run.stdout_text()
                    );
                    assert!(
                        run.stdout.is_empty(),
                        "{what}: stdout: {}",
                        run.stdout_text()
                    );
                    assert!(
                        run.stderr.starts_with("error:")
                            && (run.stderr.contains("Usage:") || run.stderr.contains("--help")),
                        "{what}: not clap's usage message: {}",
                        run.stderr
                    );
                }
            });
        }
    });
    println!(
        "{total} usage errors over {} commands in {:.1} s",
        leaves.len(),
        started.elapsed().as_secs_f64()
    );
    assert_eq!(snapshot(&w.sim), before, "usage errors changed the state");
}

// ---------------------------------------------------------------------------------------
// 2. Piped sessions: values the grammar lets through and the handlers must refuse
// ---------------------------------------------------------------------------------------

#[derive(Debug, Clone, Copy, PartialEq)]
enum Expect {
    /// An error envelope (or a usage error), never a success.
    Refused,
    /// An error envelope whose text names this path.
    PathError,
    /// Anything but a panic; success allowed (1 MB of data to digest is fine).
    NoPanic,
}

struct Variant {
    leaf: String,
    what: String,
    bytes: Vec<u8>,
    expect: Expect,
    path: Option<String>,
    /// Whether the baseline of this line succeeds in this session (set later).
    baseline_ok: bool,
}

/// Options whose value names a file, and whether the command reads or writes it.
fn file_option(leaf: &Leaf, long: &str) -> Option<&'static str> {
    let name = leaf.name();
    match long {
        "data-path" | "signature-path" | "public-key" | "signed-token" => Some("read"),
        l if l.contains("approval") => Some("read"),
        "path" if matches!(name.as_str(), "key import pem" | "key insert-masked") => Some("read"),
        "path"
            if name == "key generate-file"
                || name == "key extract-masked"
                || name.starts_with("key wrap ") =>
        {
            Some("write")
        }
        "token" => Some("write"),
        l if l.contains("path") => Some("either"),
        _ => None,
    }
}

fn piped_variants(w: &World, leaf: &Leaf) -> Vec<Variant> {
    let base = baseline(w, leaf);
    let mut out = Vec::new();
    let mut push = |what: String, bytes: Vec<u8>, expect: Expect, path: Option<String>| {
        out.push(Variant {
            leaf: leaf.name(),
            what,
            bytes,
            expect,
            path,
            baseline_ok: false,
        });
    };
    let control = "ctl\u{1}\u{1b}[2J\u{7f}\u{0}x".to_string();
    for o in &leaf.opts {
        let l = o.long.as_str();
        if l.contains("username") || l == "share-crypto-users" {
            for v in ["u".repeat(32), "u".repeat(40), control.clone()] {
                let opts = with(&base, o, vec![v.clone()]);
                let what = format!("--{l} of {} chars", v.chars().count());
                push(what, line(&words(leaf, &opts)), Expect::Refused, None);
            }
        }
        if l.contains("label") && !l.contains("filter") {
            for v in ["l".repeat(128), "l".repeat(64 * 1024)] {
                let opts = with(&base, o, vec![v.clone()]);
                let what = format!("--{l} of {} chars", v.len());
                push(what, line(&words(leaf, &opts)), Expect::Refused, None);
            }
            let opts = with(&base, o, vec![control.clone()]);
            push(
                format!("--{l} with control characters"),
                line(&words(leaf, &opts)),
                Expect::NoPanic,
                None,
            );
        }
        if l.contains("password") {
            for v in ["p".repeat(33), "p".repeat(64 * 1024)] {
                let opts = with(&base, o, vec![v.clone()]);
                let what = format!("--{l} of {} chars", v.len());
                push(what, line(&words(leaf, &opts)), Expect::Refused, None);
            }
        }
        if l.contains("filter") {
            let opts = with(&base, o, vec![format!("attr.label={control}")]);
            push(
                format!("--{l} with control characters"),
                line(&words(leaf, &opts)),
                Expect::NoPanic,
                None,
            );
            // A filter that matches nothing is not an error for `key list`.
            let opts = with(
                &base,
                o,
                vec![format!("attr.label={}", "f".repeat(64 * 1024))],
            );
            push(
                format!("--{l} of 64 KB"),
                line(&words(leaf, &opts)),
                Expect::NoPanic,
                None,
            );
        }
        if matches!(l, "data" | "signature") && base.iter().any(|(_, b, _)| b == l) {
            let opts = with(&base, o, vec![b64(&vec![0x5a; MB])]);
            push(
                format!("--{l} of 1 MB"),
                line(&words(leaf, &opts)),
                Expect::NoPanic,
                None,
            );
        }
        if let Some(mode) = file_option(leaf, l) {
            let mut paths = vec![
                "/nonexistent-dir-7f3a/file".to_string(),
                w.file("a-directory"),
                format!("{}/sub", w.file("data.bin")),
            ];
            match mode {
                "read" => paths.push("/proc/self/mem".into()),
                "write" => paths.push("/dev/full".into()),
                _ => {}
            }
            // The file option replaces its group's other member (--data for --data-path).
            let group: Vec<String> = leaf
                .groups
                .iter()
                .find(|(lv, g)| *lv == o.level && g.iter().any(|x| x == l))
                .map(|(_, g)| g.clone())
                .unwrap_or_default();
            for p in paths {
                let mut opts: Given = base
                    .iter()
                    .filter(|(lv, b, _)| !(*lv == o.level && group.contains(b)))
                    .cloned()
                    .collect();
                opts = with(&opts, o, vec![p.clone()]);
                push(
                    format!("--{l} {p}"),
                    line(&words(leaf, &opts)),
                    Expect::PathError,
                    Some(p),
                );
            }
        }
    }
    // A 1 MB line, a line that is not UTF-8, raw control characters in a command word, an
    // unknown option and a missing required option: usage errors, and the session goes on.
    let mut huge = line(&words(leaf, &base));
    huge.extend_from_slice(b" --");
    huge.extend(std::iter::repeat_n(b'z', MB));
    push("a 1 MB line".into(), huge, Expect::Refused, None);
    let mut bad = line(&words(leaf, &base));
    bad.extend_from_slice(b" \xff\xfe\xc0");
    push("non-UTF-8 bytes".into(), bad, Expect::Refused, None);
    // (Right after the command words: after the options they could be taken as one more
    // value of a multi-valued option.)
    let mut ctl = line(&leaf.path[..1]);
    ctl.extend_from_slice(b" \x01\x1b[31m\x7f ");
    ctl.extend(line(&words(leaf, &base)[1..]));
    push("control characters".into(), ctl, Expect::Refused, None);
    let mut unknown = words(leaf, &base);
    unknown.push("--no-such-option".into());
    push(
        "an unknown option".into(),
        line(&unknown),
        Expect::Refused,
        None,
    );
    if let Some(req) = leaf.opts.iter().find(|o| o.required) {
        push(
            format!("without --{}", req.long),
            line(&words(leaf, &without(&base, req))),
            Expect::Refused,
            None,
        );
    }
    out
}

/// Runs `lines` in a piped session logged in as `login` on a copy of the state in `home`.
fn piped_session(sim: &Sim, home: &Path, login: &str, body: &[u8]) -> Run {
    let mut input = format!("{login}\n").into_bytes();
    input.extend_from_slice(body);
    input.extend_from_slice(b"user list\n");
    let mut cmd = sim.cli_command();
    cmd.env("CLOUDHSM_SIM_HOME", home)
        .arg("interactive")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let child = cmd.spawn().expect("start cloudhsm-cli interactive");
    finish(
        child,
        input,
        "piped bad-input session",
        Instant::now() + Duration::from_secs(55),
    )
}

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        let target = to.join(entry.file_name());
        if entry.file_type().unwrap().is_dir() {
            copy_dir(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), &target).unwrap();
        }
    }
}

fn sentinel(i: usize) -> String {
    format!("snt{i}x")
}

/// Which baselines succeed in the session `login`, each run alone on its own copy of the
/// state; with the refusals of those that do not.
fn valid_baselines(
    w: &World,
    state: &Path,
    login: &str,
    leaves: &[&Leaf],
) -> Vec<Result<(), String>> {
    let scratch = tempfile::tempdir().unwrap();
    let chunks: Vec<Vec<(usize, &Leaf)>> = leaves
        .iter()
        .copied()
        .enumerate()
        .collect::<Vec<_>>()
        .chunks(leaves.len().div_ceil(2))
        .map(<[_]>::to_vec)
        .collect();
    let mut results: Vec<(usize, Result<(), String>)> = std::thread::scope(|s| {
        let handles: Vec<_> = chunks
            .into_iter()
            .map(|chunk| {
                let scratch = scratch.path();
                s.spawn(move || {
                    chunk
                        .into_iter()
                        .map(|(i, leaf)| {
                            let home = scratch.join(format!("state-{i}"));
                            copy_dir(state, &home);
                            let mut body = line(&words(leaf, &baseline(w, leaf)));
                            body.extend_from_slice(b"\n\n\n");
                            let run = piped_session(&w.sim, &home, login, &body);
                            let values = run.json();
                            let outcome = match values.get(1) {
                                Some(v) if v["error_code"] == 0 => Ok(()),
                                Some(v) => Err(v["data"].to_string()),
                                None => Err(run.stderr.clone()),
                            };
                            (i, outcome)
                        })
                        .collect::<Vec<_>>()
                })
            })
            .collect();
        handles
            .into_iter()
            .flat_map(|h| h.join().unwrap())
            .collect()
    });
    results.sort_by_key(|(i, _)| *i);
    results.into_iter().map(|(_, r)| r).collect()
}

/// Runs every bad line of every command in one piped session logged in as `login`, on the
/// state in `home`.
fn run_matrix(
    w: &World,
    home: &Path,
    login: &str,
    who: &str,
    leaves: &[(Leaf, bool)],
) -> (usize, usize, Vec<String>) {
    let mut variants: Vec<Variant> = Vec::new();
    for (leaf, ok) in leaves {
        for mut v in piped_variants(w, leaf) {
            v.baseline_ok = *ok;
            variants.push(v);
        }
    }
    // After each bad line: two blank lines (answers to a prompt it may open), the state
    // (user list, key list --verbose), and a sentinel whose error names its number.
    let mut body = b"user list\nkey list --verbose --max-items 10000\n".to_vec();
    for (i, v) in variants.iter().enumerate() {
        body.extend_from_slice(&v.bytes);
        body.extend_from_slice(b"\n\n\nuser list\nkey list --verbose --max-items 10000\n");
        body.extend_from_slice(format!("key list --starting-token {}\n", sentinel(i)).as_bytes());
    }
    let started = Instant::now();
    let run = piped_session(&w.sim, home, login, &body);
    assert_no_panic(who, run.code, &run.stderr);
    assert_eq!(
        run.code, 0,
        "{who}: piped session exit status: {}",
        run.stderr
    );
    let values = run.json();
    assert_eq!(values[0]["error_code"], 0, "{who}: login: {:#}", values[0]);
    let mut state = (values[1].clone(), values[2].clone());
    ok_data(&state.0);
    ok_data(&state.1);
    let mut at = 3;
    let mut accepted = Vec::new();
    let mut path_checked = 0;
    for (i, v) in variants.iter().enumerate() {
        let mut segment = Vec::new();
        loop {
            let value = values.get(at).unwrap_or_else(|| {
                panic!(
                    "{who}: the session stopped answering at `{}` {}",
                    v.leaf, v.what
                )
            });
            at += 1;
            if value["data"]
                .as_str()
                .is_some_and(|t| t.contains(&sentinel(i)))
            {
                break;
            }
            segment.push(value.clone());
        }
        let ctx = format!("{who}: `{}` {}", v.leaf, v.what);
        assert!(
            segment.len() == 2 || segment.len() == 3,
            "{ctx}: expected the state and at most one response, got {segment:#?}"
        );
        let now = (
            segment[segment.len() - 2].clone(),
            segment[segment.len() - 1].clone(),
        );
        let response = (segment.len() == 3).then(|| segment[0].clone());
        let success = response.as_ref().is_some_and(|r| r["error_code"] == 0);
        match v.expect {
            Expect::Refused => assert!(!success, "{ctx}: accepted: {:#}", response.unwrap()),
            Expect::PathError => {
                assert!(!success, "{ctx}: accepted: {:#}", response.unwrap());
                if v.baseline_ok {
                    let r = response
                        .as_ref()
                        .unwrap_or_else(|| panic!("{ctx}: no envelope"));
                    let text = err_text(r);
                    let path = v.path.as_deref().unwrap_or_default();
                    assert!(
                        text.contains(path),
                        "{ctx}: the error does not name the path: {text}"
                    );
                    path_checked += 1;
                }
            }
            Expect::NoPanic => {}
        }
        if success {
            accepted.push(ctx.to_string());
        } else {
            assert_eq!(now.0, state.0, "{ctx}: a refused line changed the users");
            assert_eq!(now.1, state.1, "{ctx}: a refused line changed the keys");
        }
        state = now;
    }
    let last = values.last().unwrap();
    assert!(
        ok_data(last)["users"].is_array(),
        "{who}: the final user list: {last:#}"
    );
    println!(
        "{who}: {} bad lines over {} commands ({} baselines valid) in {:.1} s; {path_checked} \
         path errors named their path",
        variants.len(),
        leaves.len(),
        leaves.iter().filter(|(_, ok)| *ok).count(),
        started.elapsed().as_secs_f64()
    );
    (variants.len(), path_checked, accepted)
}

#[test]
fn every_command_refuses_bad_values_in_a_piped_session_and_the_session_goes_on() {
    let w = world();
    // The owner's session runs on the state itself, the admin's on a copy of it (at the same
    // time: what one accepts must not show up as a change in the other's checks).
    let copy = tempfile::tempdir().unwrap();
    let (admin_home, owner_home_2) = (copy.path().join("admin"), copy.path().join("owner-2"));
    copy_dir(&w.sim.home, &admin_home);
    copy_dir(&w.sim.home, &owner_home_2);
    let before = snapshot(&w.sim);
    let owner_login = format!("login --username {OWNER} --role crypto-user --password {OWNER_PW}");
    let sessions = [
        ("owner", w.sim.home.clone(), owner_login.clone()),
        (
            "admin",
            admin_home,
            format!("login --username admin --role admin --password {ADMIN_PW}"),
        ),
        // The owner's commands are many: half of them run in a second session, on a copy.
        ("owner (2)", owner_home_2, owner_login),
    ];
    // Each command runs in the session where its baseline is valid (the owner's when it is
    // valid in both or in neither): there the bad element is what it is refused for.
    let all: Vec<Leaf> = leaves()
        .into_iter()
        .filter(|l| !changes_session(l))
        .collect();
    let refs: Vec<&Leaf> = all.iter().collect();
    let valid: Vec<Vec<Result<(), String>>> = std::thread::scope(|s| {
        let handles: Vec<_> = sessions[..2]
            .iter()
            .map(|(_, home, login)| {
                let (w, refs) = (&w, &refs);
                s.spawn(move || valid_baselines(w, home, login, refs))
            })
            .collect();
        handles.into_iter().map(|h| h.join().unwrap()).collect()
    });
    let mut assigned: Vec<Vec<(Leaf, bool)>> = vec![Vec::new(), Vec::new(), Vec::new()];
    for (i, leaf) in all.iter().enumerate() {
        let (owner_ok, admin_ok) = (valid[0][i].is_ok(), valid[1][i].is_ok());
        if admin_ok && !owner_ok {
            assigned[1].push((leaf.clone(), true));
        } else {
            assigned[if i % 2 == 0 { 0 } else { 2 }].push((leaf.clone(), owner_ok));
        }
        if !owner_ok && !admin_ok {
            println!(
                "the baseline of `{}` is refused to both: {} / {}",
                leaf.name(),
                valid[0][i].as_ref().unwrap_err(),
                valid[1][i].as_ref().unwrap_err()
            );
        }
    }
    let results: Vec<(usize, usize, Vec<String>)> = std::thread::scope(|s| {
        let handles: Vec<_> = sessions
            .iter()
            .zip(&assigned)
            .map(|((who, home, login), leaves)| {
                let w = &w;
                s.spawn(move || run_matrix(w, home, login, who, leaves))
            })
            .collect();
        handles.into_iter().map(|h| h.join().unwrap()).collect()
    });
    let mut accepted = Vec::new();
    let (mut lines, mut paths) = (0, 0);
    for (n, p, acc) in results {
        lines += n;
        paths += p;
        accepted.extend(acc);
    }
    assert!(
        lines > 500 && paths > 100,
        "{lines} bad lines, {paths} path errors checked"
    );
    for a in &accepted {
        println!("accepted (allowed for this kind of value): {a}");
    }
    // Lines that may succeed and change the state: control characters in a label.
    if accepted.iter().all(|a| !a.contains("label with control")) {
        assert_eq!(snapshot(&w.sim), before, "the bad lines changed the state");
    }
}

// ---------------------------------------------------------------------------------------
// 3. Single commands that need a login: overlong and odd usernames, and an unbounded file
// ---------------------------------------------------------------------------------------

#[test]
fn login_refuses_overlong_and_odd_usernames_cleanly() {
    let w = world();
    let before = snapshot(&w.sim);
    for username in [
        "u".repeat(31),
        "u".repeat(32),
        "u".repeat(4096),
        "ctl\u{1}\u{1b}[2J".to_string(),
        "owner\u{7f}".to_string(),
        String::new(),
    ] {
        let run = w.sim.cli(&[
            "login",
            "--username",
            &username,
            "--role",
            "crypto-user",
            "--password",
            "some-pw-123",
        ]);
        let what = format!("login as {} chars", username.len());
        assert_no_panic(&what, run.code, &run.stderr);
        assert_eq!(run.code, 1, "{what}: {}", run.stdout_text());
        assert!(!err_text(&run.one()).is_empty());
        // In CLOUDHSM_PIN too.
        let pin = format!("{username}:some-pw-123");
        let run = w.sim.cli_env(
            &["key", "list"],
            &[("CLOUDHSM_ROLE", "crypto-user"), ("CLOUDHSM_PIN", &pin)],
        );
        assert_no_panic(&what, run.code, &run.stderr);
        assert_eq!(run.code, 1, "{what} in CLOUDHSM_PIN: {}", run.stdout_text());
    }
    assert_eq!(snapshot(&w.sim), before);
}

#[test]
fn an_endless_data_file_is_refused_not_a_crash() {
    // /dev/zero never ends: the command must stop with an error, not take the machine's
    // memory. Run under an address-space limit so that a regression fails fast.
    let w = world();
    let pin = format!("{OWNER}:{OWNER_PW}");
    let mut cmd = std::process::Command::new("sh");
    cmd.arg("-c")
        .arg("ulimit -v 4000000; exec \"$0\" crypto digest --hash-function sha256 --data-path /dev/zero")
        .arg(CLI)
        .env("CLOUDHSM_SIM_HOME", &w.sim.home)
        .env("CLOUDHSM_ROLE", "crypto-user")
        .env("CLOUDHSM_PIN", &pin);
    scrub_some(&mut cmd);
    let run = run(cmd, b"");
    assert_no_panic("--data-path /dev/zero", run.code, &run.stderr);
    assert_eq!(
        run.code,
        1,
        "stdout: {} stderr: {}",
        run.stdout_text(),
        run.stderr
    );
    assert!(err_text(&run.one()).contains("/dev/zero"));
}

fn scrub_some(cmd: &mut std::process::Command) {
    for v in ["CLOUDHSM_SIM_STRICT", "CLOUDHSM_SIM_SEED", "XDG_DATA_HOME"] {
        cmd.env_remove(v);
    }
}

// ---------------------------------------------------------------------------------------
// 4. Known bugs
// ---------------------------------------------------------------------------------------

/// No AWS page restricts the characters of a label, so control characters are accepted; they
/// never reach the terminal raw: JSON escapes them and the table view shows them as escapes.
#[test]
fn labels_with_control_characters_never_reach_the_terminal_raw() {
    let w = world();
    let evil = "evil\u{1b}]0;owned\u{7}\u{1b}[2J\u{0}";
    let lines: Vec<Vec<String>> = vec![
        vec![
            "key",
            "generate-symmetric",
            "aes",
            "--label",
            evil,
            "--key-length-bytes",
            "16",
        ],
        vec![
            "key",
            "set-attribute",
            "--filter",
            "attr.label=b-gs",
            "--name",
            "label",
            "--value",
            evil,
        ],
        vec![
            "key",
            "generate-asymmetric-pair",
            "ec",
            "--curve",
            "prime256v1",
            "--public-label",
            evil,
            "--private-label",
            "p",
        ],
        vec![
            "key",
            "import",
            "pem",
            "--path",
            &w.file("ec-pub.pem"),
            "--label",
            evil,
            "--key-type-class",
            "ec-public",
        ],
    ]
    .into_iter()
    .map(|l| l.into_iter().map(str::to_string).collect())
    .collect();
    let mut script =
        format!("login --username {OWNER} --role crypto-user --password {OWNER_PW}\n").into_bytes();
    for l in &lines {
        script.extend(line(l));
        script.push(b'\n');
    }
    script.extend_from_slice(b"key list\n");
    let run = w
        .sim
        .cli_full(&["interactive", "--output", "table"], &[], &script);
    assert_no_panic("control characters in labels", run.code, &run.stderr);
    assert!(
        run.stdout_text().contains("Attribute set successfully"),
        "the label was not set: {}",
        run.stdout_text().escape_debug()
    );
    // What reaches the terminal carries no raw escape, bell or NUL character.
    for c in [0x1b_u8, 0x07, 0x00] {
        assert!(
            !run.stdout.contains(&c),
            "byte {c:#04x} printed raw in the table:\n{}",
            run.stdout_text()
                .lines()
                .filter(|l| l.starts_with('|'))
                .map(|l| l.escape_debug().to_string())
                .collect::<Vec<_>>()
                .join("\n")
        );
    }
    let json = w.sim.piped_env(&script, &[]);
    for c in [0x1b_u8, 0x07, 0x00] {
        assert!(
            !json.stdout.contains(&c),
            "byte {c:#04x} printed raw in JSON"
        );
    }
    let values = json.json();
    for (l, v) in lines.iter().zip(&values[1..]) {
        // The table run above already renamed `b-gs`: only the key it selects is gone.
        let renamed = l.iter().any(|w| w == "set-attribute");
        assert!(v["error_code"] == 0 || renamed, "refused: {l:?}: {v}");
    }
    let listed = values.last().map(|v| v.to_string()).unwrap_or_default();
    assert!(
        values
            .last()
            .and_then(|v| v["data"]["matched_keys"].as_array())
            .is_some_and(|keys| keys.iter().any(|k| k["attributes"]["label"] == evil)),
        "the label is kept exactly: {listed}"
    );
}
