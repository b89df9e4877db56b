//! A proptest-driven fuzz harness (cargo-fuzz needs a nightly toolchain, which this project's
//! machines cannot fetch). Hostile input goes, in process, to:
//!
//! - the piped line runner (`shell::piped_loop`): arbitrary bytes, and lines made of command
//!   words with bytes spliced in;
//! - the shell (`Shell::run_line`) and the grammar (`Cli::parse_words`): sequences of tokens
//!   drawn from every command and option name of the grammar and from edge-case values;
//! - PEM and DER import (`PublicKey::from_pem`, `from_spki_der`, `PrivateKey::from_pkcs8_der`)
//!   and stored key blobs (`KeyMaterial::from_blob`): arbitrary bytes and mutations of real keys;
//! - key filters and attributes (`key_syntax::parse_filter`, `filter::matches`, `attributes::*`);
//! - token, approval and masked-object files (`--approval`, `--signed-token`,
//!   `--public-key`, `key insert-masked --path`): mutations of real ones and garbage.
//!
//! Properties: no panic, no hang (input sizes are bounded and every test runs under a
//! watchdog), and after garbage the session still answers `user list` with the right users.
//! Each test first replays the matching files of `tests/fuzz-corpus/`.
//!
//! The runs are deterministic. `CLOUDHSM_FUZZ_CASES=<n>` multiplies the cases by n and
//! `CLOUDHSM_FUZZ_SEED=<n>` explores another part of the input space, for a longer session:
//! `CLOUDHSM_FUZZ_CASES=20 CLOUDHSM_FUZZ_SEED=7 cargo test --test fuzz`.

#![allow(clippy::unwrap_used, clippy::expect_used)] // test code: a panic is a failure report

use std::cell::RefCell;
use std::collections::VecDeque;
use std::ffi::OsString;
use std::io::{self, Cursor, Write};
use std::os::unix::ffi::OsStringExt;
use std::path::{Path, PathBuf};
use std::rc::Rc;
use std::sync::mpsc;
use std::time::{Duration, Instant};

use cloudhsm_sim::grammar::Cli;
use cloudhsm_sim::hsm::crypto::{
    generate_aes, generate_ec, generate_generic_secret, generate_ml_dsa, generate_rsa, Curve,
    KeyMaterial, MlDsaAlgorithm, PrivateKey, PublicKey, CURVES,
};
use cloudhsm_sim::hsm::key::attributes::{self, Setting};
use cloudhsm_sim::hsm::key::{
    filter, Derived, Key, KeyClass, KeyType, QuorumValues, Settable, Typed,
};
use cloudhsm_sim::hsm::Entropy;
use cloudhsm_sim::session::{key_syntax, Prompter, Session};
use cloudhsm_sim::shell::{piped_loop, Shell};
use proptest::prelude::*;
use proptest::test_runner::{Config, RngAlgorithm, TestCaseError, TestRng, TestRunner};
use serde_json::Value;

const CLUSTER: &str = "cluster-fuzz";
const ADMIN_PW: &str = "fz-admin-pw-NOT-IN-VOCAB";
const FUZZER: &str = "fuzzer";
const FUZZER_PW: &str = "fuzzer-pw-1";
/// Every test must end well within this (times `CLOUDHSM_FUZZ_CASES`), or it fails as a hang.
const WATCHDOG: Duration = Duration::from_secs(50);

// ---------------------------------------------------------------------------------------
// Harness
// ---------------------------------------------------------------------------------------

/// Runs `f` on a thread and fails if it does not finish within `WATCHDOG`.
///
/// The process's working directory moves to a scratch directory under `target/` first:
/// fuzzed commands may name relative paths (`--path 0`) and must not write into the crate.
fn watchdog(name: &str, f: impl FnOnce() + Send + 'static) {
    let scratch = Path::new(env!("CARGO_TARGET_TMPDIR")).join("fuzz-cwd");
    std::fs::create_dir_all(&scratch).unwrap();
    std::env::set_current_dir(&scratch).unwrap();
    let (tx, rx) = mpsc::channel();
    let handle = std::thread::Builder::new()
        .name(name.to_string())
        .spawn(move || {
            f();
            let _ = tx.send(());
        })
        .unwrap();
    let limit = WATCHDOG * scale();
    match rx.recv_timeout(limit) {
        Ok(()) => handle.join().unwrap(),
        Err(mpsc::RecvTimeoutError::Disconnected) => {
            // The closure panicked: re-raise its panic here.
            if let Err(p) = handle.join() {
                std::panic::resume_unwind(p);
            }
        }
        Err(mpsc::RecvTimeoutError::Timeout) => {
            panic!("{name}: no answer within {limit:?}: a hang")
        }
    }
}

fn scale() -> u32 {
    std::env::var("CLOUDHSM_FUZZ_CASES")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(1)
}

/// A deterministic runner with `cases` cases (times `CLOUDHSM_FUZZ_CASES`).
fn runner(cases: u32, salt: u8) -> TestRunner {
    let seed = std::env::var("CLOUDHSM_FUZZ_SEED")
        .ok()
        .and_then(|s| s.parse::<u64>().ok())
        .unwrap_or(0);
    let mut bytes = [salt; 32];
    bytes[..8].copy_from_slice(&seed.to_le_bytes());
    let config = Config {
        cases: cases * scale(),
        failure_persistence: None,
        max_shrink_iters: 256,
        max_shrink_time: 20_000,
        ..Config::default()
    };
    TestRunner::new_with_rng(config, TestRng::from_seed(RngAlgorithm::ChaCha, &bytes))
}

/// Runs `test` over `strategy`, failing the Rust test with proptest's minimal input.
fn check<S: Strategy>(
    name: &str,
    mut runner: TestRunner,
    strategy: S,
    test: impl Fn(S::Value) -> Result<(), TestCaseError>,
) where
    S::Value: std::fmt::Debug,
{
    let started = Instant::now();
    if let Err(e) = runner.run(&strategy, test) {
        panic!("{name}: {e}");
    }
    println!(
        "{name}: {} cases in {:.1} s",
        runner.config().cases,
        started.elapsed().as_secs_f64()
    );
}

fn corpus(prefix: &str) -> Vec<(PathBuf, Vec<u8>)> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fuzz-corpus");
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| {
            p.file_name()
                .and_then(|n| n.to_str())
                .is_some_and(|n| n.starts_with(prefix) && n.ends_with(".txt"))
        })
        .collect();
    files.sort();
    assert!(!files.is_empty(), "no {prefix}*.txt in {}", dir.display());
    files
        .into_iter()
        .map(|p| {
            let bytes = std::fs::read(&p).unwrap();
            (p, bytes)
        })
        .collect()
}

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

impl Capture {
    fn take(&self) -> Vec<u8> {
        std::mem::take(&mut *self.0.borrow_mut())
    }
}

/// Answers password prompts from a queue; `None` (end of input) when it is empty.
struct Answers(VecDeque<String>);

impl Prompter for Answers {
    fn password(&mut self, _prompt: &str) -> io::Result<Option<String>> {
        Ok(self.0.pop_front())
    }
}

fn find_last(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).rposition(|w| w == needle)
}

fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    haystack.windows(needle.len()).any(|w| w == needle)
}

// ---------------------------------------------------------------------------------------
// The state every shell test runs against
// ---------------------------------------------------------------------------------------

/// An activated fast-hashing cluster with a crypto user `fuzzer` who owns keys of every
/// kind, another crypto user, and a scratch directory of files for path options.
struct Fixture {
    dir: tempfile::TempDir,
    home: PathBuf,
    users: Vec<(String, String)>,
}

impl Fixture {
    fn new() -> Fixture {
        let dir = tempfile::tempdir().unwrap();
        let home = dir.path().join("state");
        std::fs::create_dir(&home).unwrap();
        let args: Vec<OsString> = [
            "init",
            "--cluster-id",
            CLUSTER,
            "--kdf",
            "fast",
            "--appliance-password",
            "appliance-pw",
        ]
        .iter()
        .map(OsString::from)
        .collect();
        let (mut out, mut err) = (Vec::new(), Vec::new());
        let status =
            cloudhsm_sim::control::run(args, Some(home.clone()), Some(1), &mut out, &mut err);
        assert_eq!(status, 0, "init: {}", String::from_utf8_lossy(&err));
        let fx = Fixture {
            dir,
            home,
            users: Vec::new(),
        };
        let files = fx.dir.path();
        std::fs::write(files.join("data.bin"), b"hello fuzz").unwrap();
        std::fs::write(
            files.join("garbage.pem"),
            b"-----BEGIN PUBLIC KEY-----\nzz\n",
        )
        .unwrap();
        std::fs::write(
            files.join("approval.json"),
            br#"{"approval_data": 1, "token": [}"#,
        )
        .unwrap();
        std::fs::create_dir(files.join("a-directory")).unwrap();
        let lines = [
            format!("cluster activate --password {ADMIN_PW}"),
            format!("login --username admin --role admin --password {ADMIN_PW}"),
            format!("user create --username {FUZZER} --role crypto-user --password {FUZZER_PW}"),
            "user create --username other --role crypto-user --password other-pw-1".into(),
            "logout".into(),
            format!("login --username {FUZZER} --role crypto-user --password {FUZZER_PW}"),
            "key generate-symmetric aes --label fz-aes --key-length-bytes 32 --attributes \
             encrypt=true decrypt=true wrap=true unwrap=true"
                .into(),
            "key generate-symmetric generic-secret --label fz-gs --key-length-bytes 32".into(),
            "key generate-asymmetric-pair ec --curve prime256v1 --public-label fz-ec-pub \
             --private-label fz-ec-priv --public-attributes verify=true --private-attributes \
             sign=true"
                .into(),
            "key generate-asymmetric-pair ec --curve ed25519 --public-label fz-ed-pub \
             --private-label fz-ed-priv --public-attributes verify=true --private-attributes \
             sign=true"
                .into(),
            "key generate-asymmetric-pair ml-dsa --mldsa-algorithm ML-DSA-44 --public-label \
             fz-ml-pub --private-label fz-ml-priv --public-attributes verify=true \
             --private-attributes sign=true"
                .into(),
            "key generate-asymmetric-pair rsa --modulus-size-bits 2048 --public-exponent 65537 \
             --public-label fz-rsa-pub --private-label fz-rsa-priv --public-attributes \
             verify=true encrypt=true wrap=true --private-attributes sign=true decrypt=true \
             unwrap=true"
                .into(),
            format!(
                "key generate-file --encoding pem --path {} --filter attr.label=fz-ec-pub",
                files.join("ec-pub.pem").display()
            ),
            "logout".into(),
        ];
        let values = fx.run(&lines, false);
        for (line, v) in lines.iter().zip(&values) {
            assert_eq!(v["error_code"], 0, "fixture `{line}`: {v:#}");
        }
        let users = fx.user_list().expect("user list of the fixture");
        Fixture { users, ..fx }
    }

    fn session(&self) -> Session {
        Session::new(Some(self.home.clone()), None, None)
    }

    /// Runs lines in one fresh session and returns the JSON responses.
    fn run(&self, lines: &[String], logged_in: bool) -> Vec<Value> {
        let out = Capture::default();
        let (mut o, mut e) = (out.clone(), Capture::default());
        let mut shell = Shell::new(self.session(), &mut o, &mut e);
        let mut answers = Answers(VecDeque::new());
        if logged_in {
            let login =
                format!("login --username {FUZZER} --role crypto-user --password {FUZZER_PW}");
            shell.run_line(&login, &mut answers).unwrap();
        }
        for line in lines {
            shell.run_line(line, &mut answers).unwrap();
        }
        shell.session.close();
        drop(shell);
        serde_json::Deserializer::from_slice(&out.take())
            .into_iter::<Value>()
            .collect::<Result<_, _>>()
            .unwrap()
    }

    /// `user list` in a fresh session, as (username, role).
    fn user_list(&self) -> Result<Vec<(String, String)>, String> {
        let v = self.run(&["user list".to_string()], false);
        users_of(v.first().ok_or("no response to user list")?)
    }

    fn path(&self, name: &str) -> String {
        self.dir.path().join(name).display().to_string()
    }
}

fn users_of(v: &Value) -> Result<Vec<(String, String)>, String> {
    if v["error_code"] != 0 {
        return Err(format!("user list failed: {v:#}"));
    }
    let users = v["data"]["users"]
        .as_array()
        .ok_or_else(|| format!("no users array: {v:#}"))?;
    Ok(users
        .iter()
        .map(|u| {
            (
                u["username"].as_str().unwrap_or("?").to_string(),
                u["role"].as_str().unwrap_or("?").to_string(),
            )
        })
        .collect())
}

/// Whether a line of `input` would be the `quit` command.
fn has_quit_line(input: &[u8]) -> bool {
    input.split(|b| *b == b'\n').any(|line| {
        std::str::from_utf8(line)
            .ok()
            .and_then(|l| shlex::split(l.trim()))
            .is_some_and(|w| w == ["quit"])
    })
}

/// Feeds `input` to the piped line runner (after a login when `logged_in`), then `user list`.
fn piped(fx: &Fixture, input: &[u8], logged_in: bool) -> Result<(), TestCaseError> {
    let mut data = Vec::new();
    if logged_in {
        data.extend_from_slice(
            format!("login --username {FUZZER} --role crypto-user --password {FUZZER_PW}\n")
                .as_bytes(),
        );
    }
    data.extend_from_slice(input);
    // Blank lines answer (and fail) a password prompt left open by the input.
    data.extend_from_slice(b"\n\n\nuser list\n");
    let (mut out, mut err) = (Vec::new(), Vec::new());
    let mut reader = Cursor::new(data);
    let code = piped_loop(fx.session(), false, false, &mut reader, &mut out, &mut err);
    prop_assert_eq!(code, 0, "exit status of a non-strict piped session");
    prop_assert!(
        !contains(&err, b"panicked"),
        "stderr: {}",
        String::from_utf8_lossy(&err)
    );
    if !has_quit_line(input) {
        let at = find_last(&out, b"{\n  \"error_code\"");
        prop_assert!(
            at.is_some(),
            "no response at all: {}",
            String::from_utf8_lossy(&out)
        );
        let last: Value = serde_json::from_slice(&out[at.unwrap_or(0)..])
            .map_err(|e| TestCaseError::fail(format!("last response is not JSON: {e}")))?;
        let users = users_of(&last).map_err(TestCaseError::fail)?;
        prop_assert_eq!(&users, &fx.users, "user list at the end of the garbage");
    }
    let users = fx.user_list().map_err(TestCaseError::fail)?;
    prop_assert_eq!(&users, &fx.users, "user list in a fresh session");
    Ok(())
}

// ---------------------------------------------------------------------------------------
// Vocabulary
// ---------------------------------------------------------------------------------------

/// Every subcommand and `--option` name of the grammar (so new commands are fuzzed too).
fn grammar_words() -> Vec<String> {
    fn walk(cmd: &clap::Command, out: &mut Vec<String>) {
        for arg in cmd.get_arguments() {
            if let Some(l) = arg.get_long() {
                out.push(format!("--{l}"));
            }
            if let Some(s) = arg.get_short() {
                out.push(format!("-{s}"));
            }
            for v in arg.get_possible_values() {
                out.push(v.get_name().to_string());
            }
        }
        for sub in cmd.get_subcommands() {
            out.push(sub.get_name().to_string());
            walk(sub, out);
        }
    }
    let mut out = vec!["help".to_string()];
    walk(&Cli::command_tree(), &mut out);
    out.sort();
    out.dedup();
    out
}

/// Edge-case values. No correct admin password, no user `fuzzer`, no large RSA sizes.
fn edge_values(fx: &Fixture) -> Vec<String> {
    let mut v: Vec<String> = [
        "",
        " ",
        "0",
        "1",
        "-1",
        "7",
        "8",
        "12",
        "16",
        "24",
        "32",
        "64",
        "96",
        "128",
        "256",
        "2047",
        "2048",
        "3",
        "18446744073709551615",
        "18446744073709551616",
        "-0",
        "1e3",
        "abc",
        "true",
        "false",
        "TRUE",
        "maybe",
        "0x",
        "0X",
        "0x30",
        "0x31",
        "0x0000000000000030",
        "0xffffffffffffffff",
        "0x10000000000000000",
        "0xzz",
        "48",
        "key-reference=0x30",
        "key-reference=0x",
        "key-reference=",
        "key-reference=-1",
        "key-reference=0x32",
        "attr.label=fz-aes",
        "attr.label=fz-ec-priv",
        "attr.label=fz-rsa-pub",
        "attr.label=fz-ml-priv",
        "attr.label=fz-ed-priv",
        "attr.label=fz-gs",
        "attr.label=",
        "attr.=x",
        "attr.label",
        "label=x",
        "attr.sign=maybe",
        "attr.sign=TRUE",
        "attr.colour=red",
        "attr.key-type=aes",
        "attr.class=private-key",
        "attr.id=0x",
        "attr.check-value=0x",
        "attr.modulus=000",
        "attr.public-exponent=0x010001",
        "encrypt=true",
        "decrypt=false",
        "token=true",
        "trusted=true",
        "id=0x0102",
        "id=zz",
        "id=",
        "sign=true",
        "verify=true",
        "wrap=true",
        "unwrap=true",
        "label=",
        "=true",
        "extractable=false",
        "modifiable=false",
        "private=false",
        "a=b=c",
        "crypto-user",
        "admin",
        "appliance-user",
        "other",
        "nobody",
        "app_user",
        "prime256v1",
        "ed25519",
        "secp224r1",
        "ML-DSA-44",
        "sha256",
        "sha512",
        "shake256",
        "mgf1-sha256",
        "raw",
        "digest",
        "external-mu",
        "pem",
        "reference-pem",
        "rsa-public",
        "ec-public",
        "ec-private",
        "rsa-private",
        "des3",
        "aGVsbG8=",
        "aGVsbG8",
        "====",
        "!!!",
        "AAAA",
        "ключ",
        "🔑",
        "\u{0}",
        "\u{7f}",
        "\u{1b}[31m",
        "a\tb",
        "a\rb",
        "a\"b",
        "'",
        "\"",
        "\\",
        "#",
        "--",
        "-",
        "--=",
        "--password",
        "wrong-pw-1",
        "cluster-fuzz",
        "cluster-other",
        "cluster-",
        "00112233445566778899aabb",
        "0x00112233445566778899aabb",
    ]
    .iter()
    .map(|s| s.to_string())
    .collect();
    v.push("u".repeat(31));
    v.push("u".repeat(32));
    v.push("l".repeat(127));
    v.push("l".repeat(128));
    v.push(format!("attr.label={}", "l".repeat(200)));
    for f in [
        "data.bin",
        "garbage.pem",
        "ec-pub.pem",
        "approval.json",
        "a-directory",
        "missing/file",
        "out.bin",
    ] {
        v.push(fx.path(f));
    }
    v.push("/proc/self/mem".into());
    v.push("/nonexistent/x".into());
    v
}

/// One leaf command of the grammar and its options.
#[derive(Debug, Clone)]
struct Leaf {
    path: Vec<String>,
    options: Vec<Opt>,
    /// The options of each required group (`--data` or `--data-path`, ...).
    one_of: Vec<Vec<String>>,
}

#[derive(Debug, Clone)]
struct Opt {
    long: String,
    required: bool,
    /// 0 for a flag; otherwise the most values it takes (capped at 3).
    max_values: usize,
    possible: Vec<String>,
}

fn leaves() -> Vec<Leaf> {
    fn walk(cmd: &clap::Command, path: &mut Vec<String>, out: &mut Vec<Leaf>) {
        let subs: Vec<&clap::Command> = cmd.get_subcommands().collect();
        if subs.is_empty() {
            let options = cmd
                .get_arguments()
                .filter_map(|a| {
                    let long = a.get_long()?.to_string();
                    if matches!(long.as_str(), "help" | "version") {
                        return None;
                    }
                    let range = a.get_num_args().unwrap_or_default();
                    Some(Opt {
                        long,
                        required: a.is_required_set(),
                        max_values: if range.takes_values() {
                            range.max_values().min(3)
                        } else {
                            0
                        },
                        possible: a
                            .get_possible_values()
                            .iter()
                            .map(|v| v.get_name().to_string())
                            .collect(),
                    })
                })
                .collect();
            let one_of = cmd
                .get_groups()
                .filter(|g| g.is_required_set())
                .map(|g| {
                    g.get_args()
                        .filter_map(|id| cmd.get_arguments().find(|a| a.get_id() == id))
                        .filter_map(|a| a.get_long().map(str::to_string))
                        .collect()
                })
                .collect();
            out.push(Leaf {
                path: path.clone(),
                options,
                one_of,
            });
        }
        // clap's generated `help` subcommands are not commands of the grammar.
        for sub in subs.into_iter().filter(|s| s.get_name() != "help") {
            path.push(sub.get_name().to_string());
            walk(sub, path, out);
            path.pop();
        }
    }
    let mut cmd = Cli::command_tree();
    cmd.build();
    let mut out = Vec::new();
    walk(&cmd, &mut Vec::new(), &mut out);
    out
}

/// Values worth trying for an option, by its name: (plausible, hostile).
fn pool(fx: &Fixture, long: &str) -> (Vec<String>, Vec<String>) {
    let v = |xs: &[&str]| xs.iter().map(|s| s.to_string()).collect::<Vec<_>>();
    let hostile = |xs: &[&str]| {
        let mut h = v(xs);
        h.extend(v(&["", "--", "\u{1b}[31m", "x\u{0}y", "ключ"]));
        h
    };
    if long.contains("filter") {
        let good = [
            "fz-aes",
            "fz-gs",
            "fz-ec-priv",
            "fz-ec-pub",
            "fz-ed-priv",
            "fz-ed-pub",
            "fz-ml-priv",
            "fz-ml-pub",
            "fz-rsa-priv",
            "fz-rsa-pub",
            "nothing",
        ]
        .iter()
        .map(|l| format!("attr.label={l}"))
        .chain(v(&[
            "key-reference=0x30",
            "attr.key-type=aes",
            "attr.class=private-key",
        ]))
        .collect();
        let bad = hostile(&[
            "key-reference=0x",
            "attr.sign=maybe",
            "attr.colour=red",
            "label=x",
        ]);
        (good, bad)
    } else if long.contains("path") || long.contains("approval") {
        let good = ["data.bin", "ec-pub.pem", "out.bin", "approval.json"]
            .iter()
            .map(|f| fx.path(f))
            .collect();
        let mut bad: Vec<String> = ["garbage.pem", "a-directory", "missing/x"]
            .iter()
            .map(|f| fx.path(f))
            .collect();
        bad.extend(v(&["/proc/self/mem", "/dev/null", ""]));
        (good, bad)
    } else if long.contains("label") {
        let mut bad = hostile(&["fz-aes"]);
        bad.push("l".repeat(128));
        (v(&["fuzz-new", "fuzz-other", &"l".repeat(127)]), bad)
    } else if long.contains("username") || long.contains("share-crypto-users") {
        let mut bad = hostile(&["nobody", "app_user", "a b", "Other"]);
        bad.push("u".repeat(32));
        (v(&["other", "admin", &"u".repeat(31)]), bad)
    } else if long.contains("password") {
        (
            v(&["wrong-pw-1"]),
            hostile(&["short", "with:colon-1", &"p".repeat(33)]),
        )
    } else if long.contains("attributes") {
        let good = v(&[
            "encrypt=true",
            "decrypt=true",
            "sign=true",
            "verify=true",
            "wrap=true",
            "unwrap=true",
            "id=0x01",
            "extractable=false",
            "sensitive=false",
            "modifiable=false",
            "wrap-with-trusted=true",
        ]);
        (
            good,
            hostile(&[
                "token=true",
                "trusted=true",
                "id=zz",
                "colour=red",
                "=",
                "garbage",
            ]),
        )
    } else if matches!(long, "data" | "signature") {
        (
            v(&["aGVsbG8=", "AAAA", &"QUFB".repeat(1000)]),
            hostile(&["====", "!!"]),
        )
    } else if matches!(long, "iv" | "aad") {
        (
            v(&[
                "00112233445566778899aabb",
                "0x00112233445566778899aabb",
                "00",
            ]),
            hostile(&["zz", "0x"]),
        )
    } else if long == "public-exponent" {
        (
            v(&["65537", "3", "0x010001"]),
            hostile(&["1", "0", "abc", "18446744073709551615"]),
        )
    } else if long == "modulus-size-bits" {
        // No valid size: a real RSA generation would make the cases slow.
        (
            v(&["1024", "2047", "2049"]),
            hostile(&["0", "18446744073709551615", "-1"]),
        )
    } else if long == "name" {
        (NAMES.iter().map(|s| s.to_string()).collect(), hostile(&[]))
    } else if long == "value" {
        (v(&["true", "false", "TRUE", "0x01"]), hostile(&["x", "0x"]))
    } else if long == "cluster-id" {
        (v(&[CLUSTER]), hostile(&["cluster-other", "bad"]))
    } else if long == "starting-token" {
        (
            v(&["0", "1", "99"]),
            hostile(&["-1", "abc", "18446744073709551615"]),
        )
    } else {
        let good = v(&[
            "0",
            "1",
            "2",
            "8",
            "16",
            "24",
            "32",
            "64",
            "96",
            "128",
            "18446744073709551615",
        ]);
        (good, hostile(&["-1", "x", "1.5"]))
    }
}

/// A command line for a leaf, from a random seed: mostly plausible, with a
/// missing required option, a repeated or unknown option or a hostile value now and then.
fn guided_line(fx: &Fixture, leaves: &[Leaf], seed: u64) -> String {
    // xorshift64*: every choice of the line comes from the case's seed.
    let mut state = seed | 1;
    let mut pick = |n: usize| {
        state ^= state >> 12;
        state ^= state << 25;
        state ^= state >> 27;
        (state.wrapping_mul(0x2545_F491_4F6C_DD1D) >> 33) as usize % n.max(1)
    };
    let leaf = &leaves[pick(leaves.len())];
    let mut words = leaf.path.clone();
    let chosen: Vec<String> = leaf
        .one_of
        .iter()
        .map(|g| g[pick(g.len())].clone())
        .collect();
    for opt in &leaf.options {
        let grouped = leaf.one_of.iter().any(|g| g.contains(&opt.long));
        let include = if opt.required || chosen.contains(&opt.long) {
            pick(40) != 0
        } else if grouped {
            pick(40) == 0
        } else {
            pick(10) < 4
        };
        if !include {
            continue;
        }
        let times = if pick(40) == 0 { 2 } else { 1 };
        for _ in 0..times {
            words.push(format!("--{}", opt.long));
            if opt.max_values == 0 {
                continue;
            }
            let n = 1 + pick(opt.max_values);
            for _ in 0..n {
                let hostile = pick(12) == 0;
                let value = if !opt.possible.is_empty() && !hostile {
                    opt.possible[pick(opt.possible.len())].clone()
                } else {
                    let (good, bad) = pool(fx, &opt.long);
                    let from = if hostile || good.is_empty() {
                        bad
                    } else {
                        good
                    };
                    from[pick(from.len())].clone()
                };
                words.push(value);
            }
        }
    }
    if pick(40) == 0 {
        words.push("--no-such-option".into());
    }
    shlex::try_join(words.iter().map(String::as_str)).unwrap_or_else(|_| words.join(" "))
}

// ---------------------------------------------------------------------------------------
// The shell: bytes and tokens
// ---------------------------------------------------------------------------------------

#[test]
fn shell_survives_arbitrary_bytes() {
    watchdog("shell_survives_arbitrary_bytes", || {
        let fx = Fixture::new();
        for (path, bytes) in corpus("shell-") {
            for logged_in in [false, true] {
                if let Err(e) = piped(&fx, &bytes, logged_in) {
                    panic!("corpus {}: {e}", path.display());
                }
            }
        }
        // A 1 MB line and a line of control characters, too large or too odd for the corpus.
        let mut big = b"key list --filter attr.label=".to_vec();
        big.extend(std::iter::repeat_n(b'x', 1 << 20));
        big.push(b'\n');
        piped(&fx, &big, true).unwrap();
        let controls: Vec<u8> = (0u8..32).chain([127]).collect();
        piped(&fx, &controls, true).unwrap();

        let words = grammar_words();
        let word = prop::sample::select(words);
        // Lines of grammar words with random bytes spliced in.
        let line = (
            prop::collection::vec(word, 0..8),
            prop::collection::vec(any::<u8>(), 0..8),
            any::<usize>(),
        )
            .prop_map(|(words, noise, at)| {
                let mut l = words.join(" ").into_bytes();
                let at = if l.is_empty() { 0 } else { at % l.len() };
                l.splice(at..at, noise);
                l.push(b'\n');
                l
            });
        let structured = prop::collection::vec(line, 0..6).prop_map(|ls| ls.concat());
        let strategy = (
            prop_oneof![prop::collection::vec(any::<u8>(), 0..2048), structured,],
            any::<bool>(),
        );
        check(
            "arbitrary bytes",
            runner(160, 1),
            strategy,
            |(input, logged_in)| piped(&fx, &input, logged_in),
        );
    });
}

#[test]
fn shell_and_grammar_survive_token_sequences() {
    watchdog("shell_and_grammar_survive_token_sequences", || {
        let fx = Fixture::new();
        // Replay the corpus line by line in one logged-in session.
        let out = Capture::default();
        {
            let (mut o, mut e) = (out.clone(), Capture::default());
            let mut shell = Shell::new(fx.session(), &mut o, &mut e);
            let mut answers = Answers(VecDeque::new());
            let login =
                format!("login --username {FUZZER} --role crypto-user --password {FUZZER_PW}");
            shell.run_line(&login, &mut answers).unwrap();
            for (_, bytes) in corpus("shell-") {
                for line in String::from_utf8_lossy(&bytes).lines() {
                    shell.run_line(line, &mut answers).unwrap();
                    if let Some(words) = shlex::split(line) {
                        let _ = Cli::parse_words(&words).map_err(|e| e.render().to_string());
                    }
                }
            }
            out.take();
            shell.run_line("user list", &mut answers).unwrap();
            let v: Value = serde_json::from_slice(&out.take()).unwrap();
            assert_eq!(users_of(&v).unwrap(), fx.users);
            shell.session.close();
        }

        let mut vocab = grammar_words();
        vocab.extend(edge_values(&fx));
        let token = prop_oneof![
            8 => prop::sample::select(vocab),
            1 => any::<String>().prop_map(|s| s.chars().take(40).collect::<String>()),
        ];
        let strategy = (
            any::<bool>(),
            prop::collection::vec((prop::collection::vec(token, 0..12), any::<bool>()), 1..6),
            prop::collection::vec(
                prop::sample::select(vec!["", "short", "wrong-pw-1", "other-pw-1"]),
                0..3,
            ),
        );
        check(
            "token sequences",
            runner(220, 2),
            strategy,
            |(logged_in, lines, answers)| {
                let out = Capture::default();
                let (mut o, mut e) = (out.clone(), Capture::default());
                let mut shell = Shell::new(fx.session(), &mut o, &mut e);
                let mut answers = Answers(answers.iter().map(|s| s.to_string()).collect());
                if logged_in {
                    let login = format!(
                        "login --username {FUZZER} --role crypto-user --password {FUZZER_PW}"
                    );
                    shell.run_line(&login, &mut answers).unwrap();
                }
                for (tokens, quoted) in &lines {
                    // The grammar alone, on the exact tokens.
                    if let Err(e) = Cli::parse_words(tokens) {
                        let _ = e.render().to_string();
                    }
                    // The shell, on a line that either quotes the tokens or just joins them.
                    let line = if *quoted {
                        shlex::try_join(tokens.iter().map(String::as_str))
                            .unwrap_or_else(|_| tokens.join(" "))
                    } else {
                        tokens.join(" ")
                    };
                    let step = shell.run_line(&line, &mut answers);
                    prop_assert!(step.is_ok(), "run_line failed: {step:?}");
                }
                // A generated `output table` may have switched the view (by design).
                shell.run_line("output json", &mut answers).unwrap();
                out.take();
                shell.run_line("user list", &mut answers).unwrap();
                let text = out.take();
                let v: Value = serde_json::from_slice(&text).map_err(|e| {
                    TestCaseError::fail(format!(
                        "user list: {e}: {}",
                        String::from_utf8_lossy(&text)
                    ))
                })?;
                let users = users_of(&v).map_err(TestCaseError::fail)?;
                prop_assert_eq!(&users, &fx.users);
                shell.session.close();
                Ok(())
            },
        );

        // Lines built from the grammar: a real command, its options (sometimes one missing,
        // repeated or unknown) and values chosen for each option's kind.
        let leaves = leaves();
        assert!(
            leaves.len() > 40,
            "the grammar has {} leaf commands",
            leaves.len()
        );
        let strategy = (any::<bool>(), prop::collection::vec(any::<u64>(), 1..6));
        let outcomes = RefCell::new([0usize; 3]);
        check(
            "grammar-guided lines",
            runner(400, 10),
            strategy,
            |(logged_in, lines)| {
                let out = Capture::default();
                let (mut o, mut e) = (out.clone(), Capture::default());
                let mut shell = Shell::new(fx.session(), &mut o, &mut e);
                let mut answers = Answers(VecDeque::new());
                if logged_in {
                    let login = format!(
                        "login --username {FUZZER} --role crypto-user --password {FUZZER_PW}"
                    );
                    shell.run_line(&login, &mut answers).unwrap();
                }
                out.take();
                for seed in &lines {
                    let line = guided_line(&fx, &leaves, *seed);
                    let step = shell.run_line(&line, &mut answers);
                    prop_assert!(step.is_ok(), "run_line failed on {line}: {step:?}");
                    let text = out.take();
                    if std::env::var_os("CLOUDHSM_FUZZ_DEBUG").is_some() {
                        eprintln!("{line}\n  -> {}", String::from_utf8_lossy(&text));
                    }
                    let i = match serde_json::from_slice::<Value>(&text) {
                        Ok(v) if v["error_code"] == 0 => 0,
                        Ok(_) => 1,
                        Err(_) => 2,
                    };
                    outcomes.borrow_mut()[i] += 1;
                }
                shell.run_line("output json", &mut answers).unwrap();
                out.take();
                shell.run_line("user list", &mut answers).unwrap();
                let text = out.take();
                let v: Value = serde_json::from_slice(&text).map_err(|e| {
                    TestCaseError::fail(format!(
                        "user list: {e}: {}",
                        String::from_utf8_lossy(&text)
                    ))
                })?;
                let users = users_of(&v).map_err(TestCaseError::fail)?;
                prop_assert_eq!(&users, &fx.users);
                shell.session.close();
                Ok(())
            },
        );
        let [ok, failed, other] = *outcomes.borrow();
        println!(
            "grammar-guided lines: {ok} succeeded, {failed} refused with an envelope, \
             {other} usage errors or help"
        );
        assert!(
            ok > 0 && failed > 0,
            "the guided lines must reach the handlers"
        );
    });
}

#[test]
fn grammar_survives_arbitrary_argv() {
    watchdog("grammar_survives_arbitrary_argv", || {
        let words = grammar_words();
        let token = prop_oneof![
            3 => prop::sample::select(words).prop_map(String::into_bytes),
            1 => prop::collection::vec(any::<u8>(), 0..24),
        ];
        check(
            "arbitrary argv",
            runner(600, 3),
            prop::collection::vec(token, 0..10),
            |argv| {
                let args: Vec<OsString> = argv.into_iter().map(OsString::from_vec).collect();
                if let Err(e) = Cli::parse_words(args) {
                    let _ = e.render().to_string();
                    let _ = e.kind();
                }
                Ok(())
            },
        );
    });
}

// ---------------------------------------------------------------------------------------
// PEM, DER and stored key blobs
// ---------------------------------------------------------------------------------------

/// Real keys of every kind: SPKI DER, PKCS#8 DER and storage blobs.
struct Samples {
    spki: Vec<Vec<u8>>,
    pkcs8: Vec<Vec<u8>>,
    blobs: Vec<Vec<u8>>,
}

fn samples() -> Samples {
    let mut e = Entropy::new(Some(7));
    let mut private: Vec<PrivateKey> = CURVES
        .iter()
        .filter(|c| **c != Curve::Secp256r1)
        .map(|c| generate_ec(&mut e, *c).unwrap())
        .collect();
    private.push(generate_ml_dsa(&mut e, MlDsaAlgorithm::MlDsa44).unwrap());
    private.push(generate_rsa(&mut e, 2048, 65537).unwrap());
    let mut s = Samples {
        spki: Vec::new(),
        pkcs8: Vec::new(),
        blobs: Vec::new(),
    };
    for k in private {
        let public = k.public_key();
        s.spki.push(public.to_spki_der());
        s.pkcs8.push(k.to_pkcs8_der());
        s.blobs.push(KeyMaterial::Public(public).to_blob().to_vec());
        s.blobs.push(KeyMaterial::Private(k).to_blob().to_vec());
    }
    s.blobs.push(
        KeyMaterial::Secret(generate_aes(&mut e, 32).unwrap())
            .to_blob()
            .to_vec(),
    );
    s.blobs.push(
        KeyMaterial::Secret(generate_generic_secret(&mut e, 48).unwrap())
            .to_blob()
            .to_vec(),
    );
    s
}

/// Edits of a valid encoding: byte changes, truncation, extension.
fn mutated(valid: Vec<Vec<u8>>) -> impl Strategy<Value = Vec<u8>> {
    (
        prop::sample::select(valid),
        prop::collection::vec((any::<usize>(), any::<u8>()), 0..4),
        prop::option::of(any::<usize>()),
        prop::collection::vec(any::<u8>(), 0..3),
    )
        .prop_map(|(mut bytes, edits, cut, tail)| {
            for (at, b) in edits {
                if !bytes.is_empty() {
                    let i = at % bytes.len();
                    bytes[i] = b;
                }
            }
            if let Some(c) = cut {
                let keep = c % (bytes.len() + 1);
                bytes.truncate(keep);
            }
            bytes.extend(tail);
            bytes
        })
}

fn armor(label: &str, der: &[u8], width: usize) -> Vec<u8> {
    use base64::Engine;
    let body = base64::engine::general_purpose::STANDARD.encode(der);
    let mut out = format!("-----BEGIN {label}-----\n");
    for chunk in body.as_bytes().chunks(width.max(1)) {
        out.push_str(&String::from_utf8_lossy(chunk));
        out.push('\n');
    }
    out.push_str(&format!("-----END {label}-----\n"));
    out.into_bytes()
}

/// Everything a successfully parsed public key offers must work on it.
fn exercise_public(k: &PublicKey) {
    let _ = k.to_pem();
    let _ = k.to_spki_der();
    let _ = KeyMaterial::Public(k.clone()).attributes();
}

#[test]
fn pem_and_der_import_survive_garbage() {
    watchdog("pem_and_der_import_survive_garbage", || {
        for (path, bytes) in corpus("pem-") {
            if let Ok(k) = PublicKey::from_pem(&bytes) {
                exercise_public(&k);
                println!("{}: parses as a public key", path.display());
            }
        }
        let s = samples();
        // Every real key round-trips through PEM.
        for der in &s.spki {
            let k = PublicKey::from_pem(&armor("PUBLIC KEY", der, 64)).unwrap();
            assert_eq!(&k.to_spki_der(), der);
        }
        let labels = prop::sample::select(vec![
            "PUBLIC KEY",
            "RSA PUBLIC KEY",
            "PRIVATE KEY",
            "CERTIFICATE",
            "EC PARAMETERS",
            "",
        ]);
        let pem = prop_oneof![
            prop::collection::vec(any::<u8>(), 0..2048),
            (labels.clone(), mutated(s.spki.clone()), 1usize..80)
                .prop_map(|(l, der, w)| armor(l, &der, w)),
            (
                labels,
                prop::collection::vec(any::<u8>(), 0..600),
                1usize..80
            )
                .prop_map(|(l, der, w)| armor(l, &der, w)),
            // Two blocks, text around them, CRLF line ends.
            (mutated(s.spki.clone()), "[ -~]{0,40}").prop_map(|(der, text)| {
                let mut v = text.clone().into_bytes();
                v.extend(armor("CERTIFICATE", &der, 64));
                v.extend(
                    String::from_utf8_lossy(&armor("PUBLIC KEY", &der, 64))
                        .replace('\n', "\r\n")
                        .into_bytes(),
                );
                v.extend(text.into_bytes());
                v
            }),
        ];
        check("PEM import", runner(700, 4), pem, |bytes| {
            if let Ok(k) = PublicKey::from_pem(&bytes) {
                exercise_public(&k);
            }
            Ok(())
        });
        check(
            "SPKI DER",
            runner(700, 5),
            prop_oneof![
                mutated(s.spki.clone()),
                prop::collection::vec(any::<u8>(), 0..512)
            ],
            |der| {
                if let Ok(k) = PublicKey::from_spki_der(&der) {
                    exercise_public(&k);
                }
                Ok(())
            },
        );
        check(
            "PKCS#8 DER",
            runner(500, 6),
            prop_oneof![
                mutated(s.pkcs8.clone()),
                prop::collection::vec(any::<u8>(), 0..512)
            ],
            |der| {
                if let Ok(k) = PrivateKey::from_pkcs8_der(&der) {
                    exercise_public(&k.public_key());
                    let _ = KeyMaterial::Private(k).to_blob();
                }
                Ok(())
            },
        );
    });
}

#[test]
fn key_blobs_survive_garbage() {
    watchdog("key_blobs_survive_garbage", || {
        let s = samples();
        for blob in &s.blobs {
            let back = KeyMaterial::from_blob(blob).unwrap();
            assert_eq!(
                back.to_blob().as_slice(),
                blob.as_slice(),
                "a blob round-trips"
            );
        }
        for (path, bytes) in corpus("blob-") {
            for line in String::from_utf8_lossy(&bytes).lines() {
                let line = line.trim();
                if line.is_empty() || line.starts_with('#') {
                    continue;
                }
                let blob = attributes::parse_hex("blob", line)
                    .unwrap_or_else(|_| panic!("{}: not hex: {line}", path.display()));
                if let Ok(m) = KeyMaterial::from_blob(&blob) {
                    let _ = m.attributes();
                    let _ = m.to_blob();
                }
            }
        }
        // The common prefix of all blobs is the magic and version: keep it, vary the rest.
        let prefix_len = (0..)
            .take_while(|i| s.blobs.iter().all(|b| b.get(*i) == s.blobs[0].get(*i)))
            .count();
        let prefix = s.blobs[0][..prefix_len].to_vec();
        let strategy = prop_oneof![
            mutated(s.blobs.clone()),
            prop::collection::vec(any::<u8>(), 0..256),
            (any::<u8>(), prop::collection::vec(any::<u8>(), 0..160)).prop_map(move |(tag, p)| {
                let mut b = prefix.clone();
                b.push(tag % 12);
                b.extend(p);
                b
            }),
        ];
        check("key blobs", runner(1500, 7), strategy, |blob| {
            if let Ok(m) = KeyMaterial::from_blob(&blob) {
                let _ = m.attributes();
                let again = KeyMaterial::from_blob(&m.to_blob());
                prop_assert!(again.is_ok(), "a re-encoded blob does not parse");
            }
            Ok(())
        });
    });
}

// ---------------------------------------------------------------------------------------
// Token, approval and masked-object files
// ---------------------------------------------------------------------------------------

/// A JSON document with one field replaced by another value, dropped, or duplicated.
fn json_mutated(valid: Vec<Vec<u8>>) -> impl Strategy<Value = Vec<u8>> {
    let value = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::from),
        any::<i64>().prop_map(Value::from),
        any::<f64>()
            .prop_map(|f| serde_json::Number::from_f64(f).map_or(Value::Null, Value::Number)),
        any::<String>().prop_map(Value::from),
        prop::collection::vec(any::<u8>(), 0..64).prop_map(|b| {
            use base64::Engine;
            Value::from(base64::engine::general_purpose::STANDARD.encode(b))
        }),
        Just(serde_json::json!([{"username": "admin", "signature": "AAAA"}])),
        Just(serde_json::json!({})),
    ];
    (prop::sample::select(valid), any::<usize>(), value, 0u8..3).prop_map(
        |(bytes, at, value, how)| {
            let Ok(Value::Object(mut map)) = serde_json::from_slice::<Value>(&bytes) else {
                return bytes;
            };
            let keys: Vec<String> = map.keys().cloned().collect();
            if keys.is_empty() {
                return bytes;
            }
            let key = keys[at % keys.len()].clone();
            match how {
                0 => {
                    map.insert(key, value);
                }
                1 => {
                    map.remove(&key);
                }
                _ => {
                    map.insert(format!("{key}-extra"), value);
                }
            }
            serde_json::to_vec_pretty(&Value::Object(map)).unwrap_or(bytes)
        },
    )
}

#[test]
fn token_approval_and_masked_files_survive_garbage() {
    watchdog("token_approval_and_masked_files_survive_garbage", || {
        let fx = Fixture::new();
        let (masked, approval, registration) = (
            fx.path("masked.json"),
            fx.path("approval-token.json"),
            fx.path("registration-token.json"),
        );
        // Real files to start from: a masked object, an approval token, a registration token.
        let setup = [
            format!("login --username admin --role admin --password {ADMIN_PW}"),
            format!("quorum token-sign generate --service user --token {approval}"),
            "logout".to_string(),
            format!("login --username {FUZZER} --role crypto-user --password {FUZZER_PW}"),
            format!("key extract-masked --filter attr.label=fz-gs --path {masked}"),
            format!("quorum token-sign generate --service registration --token {registration}"),
            "logout".to_string(),
        ];
        for (line, v) in setup.iter().zip(fx.run(&setup, false)) {
            assert_eq!(v["error_code"], 0, "`{line}`: {v:#}");
        }
        let valid: Vec<Vec<u8>> = [&masked, &approval, &registration]
            .iter()
            .map(|p| std::fs::read(p).unwrap())
            .collect();
        let input = fx.path("fuzz-input.json");
        let public = fx.path("ec-pub.pem");
        let lines = [
            format!("key insert-masked --path {input}"),
            format!(
                "key share --filter attr.label=fz-aes --username other --role crypto-user \
                 --approval {input}"
            ),
            format!(
                "key unshare --filter attr.label=fz-aes --username other --role crypto-user \
                 --approval {input}"
            ),
            format!(
                "crypto sign ecdsa --key-filter attr.label=fz-ec-priv --hash-function sha256 \
                 --data aGVsbG8= --approval {input}"
            ),
            format!("user change-quorum token-sign register --public-key {public} --signed-token {input}"),
            format!("user change-quorum token-sign register --public-key {input} --signed-token {registration}"),
        ];
        let replay: Vec<Vec<u8>> = corpus("file-")
            .into_iter()
            .map(|(_, b)| b)
            .chain(valid.iter().cloned())
            .collect();
        for bytes in &replay {
            std::fs::write(&input, bytes).unwrap();
            assert_eq!(fx.run(&lines, true).len(), lines.len() + 1);
        }
        let strategy = prop_oneof![
            3 => json_mutated(valid.clone()),
            2 => mutated(valid.clone()),
            1 => prop::collection::vec(any::<u8>(), 0..1024),
        ];
        check(
            "token, approval and masked files",
            runner(120, 11),
            strategy,
            |content| {
                std::fs::write(&input, &content).unwrap();
                let values = fx.run(&lines, true);
                // One envelope per line after the login: no line may vanish or panic.
                prop_assert_eq!(values.len(), lines.len() + 1);
                let users = fx.user_list().map_err(TestCaseError::fail)?;
                prop_assert_eq!(&users, &fx.users);
                Ok(())
            },
        );
    });
}

// ---------------------------------------------------------------------------------------
// Filters and attributes
// ---------------------------------------------------------------------------------------

fn sample_keys() -> Vec<Key> {
    let key = |reference, key_type, class, label: &str, id: Vec<u8>, typed| Key {
        reference,
        key_type,
        class,
        owner: FUZZER.into(),
        shared: vec!["other".into()],
        attrs: Settable::new(
            label.into(),
            id,
            attributes::defaults(key_type, class, true),
        ),
        derived: Derived {
            check_value: Some("0x0a0b0c".into()),
            key_length_bytes: 32,
            typed,
        },
        quorum: QuorumValues::default(),
    };
    vec![
        key(
            0x30,
            KeyType::Aes,
            KeyClass::SecretKey,
            "k",
            vec![],
            Typed::None,
        ),
        key(
            u64::MAX,
            KeyType::Rsa,
            KeyClass::PublicKey,
            "ключ",
            vec![0, 1, 0xff],
            Typed::Rsa {
                public_exponent: "0x010001".into(),
                modulus: "0x00c0ffee".into(),
                modulus_size_bits: 2048,
            },
        ),
        key(
            1,
            KeyType::Ec,
            KeyClass::PrivateKey,
            "",
            vec![],
            Typed::Ec {
                ec_point: "0x04aa".into(),
                curve: "prime256v1".into(),
            },
        ),
        key(
            2,
            KeyType::MlDsa,
            KeyClass::PrivateKey,
            "m",
            vec![],
            Typed::MlDsa {
                algorithm: "ML-DSA-44".into(),
            },
        ),
    ]
}

const NAMES: [&str; 32] = [
    "label",
    "id",
    "key-type",
    "class",
    "check-value",
    "key-length-bytes",
    "modulus",
    "modulus-size-bits",
    "public-exponent",
    "ec-point",
    "curve",
    "mldsa-algorithm",
    "encrypt",
    "decrypt",
    "token",
    "always-sensitive",
    "derive",
    "destroyable",
    "extractable",
    "local",
    "modifiable",
    "never-extractable",
    "private",
    "sensitive",
    "sign",
    "trusted",
    "unwrap",
    "verify",
    "wrap",
    "wrap-with-trusted",
    "colour",
    "",
];

fn filter_item() -> impl Strategy<Value = String> {
    let value = prop_oneof![
        prop::sample::select(vec![
            "",
            "true",
            "FALSE",
            "0x",
            "0x0",
            "0x00",
            "0x30",
            "0x010001",
            "0x00c0ffee",
            "ключ",
            "18446744073709551615",
            "18446744073709551616",
            "-1",
            "0xffffffffffffffffff",
        ])
        .prop_map(String::from),
        any::<String>().prop_map(|s| s.chars().take(30).collect()),
    ];
    prop_oneof![
        (prop::sample::select(NAMES.to_vec()), value.clone())
            .prop_map(|(n, v)| format!("attr.{n}={v}")),
        value.clone().prop_map(|v| format!("key-reference={v}")),
        (prop::sample::select(NAMES.to_vec()), value).prop_map(|(n, v)| format!("{n}={v}")),
        any::<String>().prop_map(|s| s.chars().take(40).collect()),
    ]
}

fn exercise_filter(items: &[String], keys: &[Key]) {
    if let Ok(terms) = key_syntax::parse_filter(items) {
        for k in keys {
            let _ = filter::matches(&terms, k);
        }
        let _ = filter::label(&terms);
        let _ = filter::reference(&terms);
    }
}

fn exercise_attributes(items: &[String]) {
    let Ok(pairs) = key_syntax::split_assignments(items) else {
        return;
    };
    let kinds = [
        (KeyType::Aes, KeyClass::SecretKey),
        (KeyType::GenericSecret, KeyClass::SecretKey),
        (KeyType::Rsa, KeyClass::PublicKey),
        (KeyType::Rsa, KeyClass::PrivateKey),
        (KeyType::Ec, KeyClass::PrivateKey),
        (KeyType::MlDsa, KeyClass::PublicKey),
    ];
    for (key_type, class) in kinds {
        for setting in [Setting::Creation, Setting::Modification] {
            for id_settable in [true, false] {
                let mut attrs = Settable::new(
                    String::new(),
                    Vec::new(),
                    attributes::defaults(key_type, class, true),
                );
                for (name, value) in &pairs {
                    let Ok(assignment) = key_syntax::parse_assignment(name, value) else {
                        continue;
                    };
                    let _ = attributes::apply(
                        &mut attrs,
                        key_type,
                        class,
                        &assignment,
                        setting,
                        id_settable,
                    );
                }
            }
        }
    }
}

#[test]
fn filters_and_attributes_survive_garbage() {
    watchdog("filters_and_attributes_survive_garbage", || {
        let keys = sample_keys();
        for (_, bytes) in corpus("filter-") {
            let items: Vec<String> = String::from_utf8_lossy(&bytes)
                .lines()
                .map(str::to_string)
                .collect();
            exercise_filter(&items, &keys);
            exercise_attributes(&items);
            for item in &items {
                let _ = key_syntax::parse_reference(item);
            }
        }
        let items = prop::collection::vec(filter_item(), 0..6);
        check("filters and attributes", runner(2000, 8), items, |items| {
            exercise_filter(&items, &keys);
            exercise_attributes(&items);
            for item in &items {
                if let Ok(r) = key_syntax::parse_reference(item) {
                    let again =
                        key_syntax::parse_reference(&cloudhsm_sim::hsm::key::format_reference(r));
                    prop_assert_eq!(again.ok(), Some(r));
                }
                let _ = attributes::parse_bool("x", item);
                let label_ok = attributes::check_label(item).is_ok();
                prop_assert_eq!(label_ok, item.chars().count() <= 127);
            }
            Ok(())
        });
        check(
            "hex round trip",
            runner(500, 9),
            prop::collection::vec(any::<u8>(), 0..64),
            |bytes| {
                let text = attributes::hex(&bytes);
                prop_assert_eq!(attributes::parse_hex("id", &text).ok(), Some(bytes.clone()));
                prop_assert_eq!(
                    attributes::parse_hex("id", &text.to_uppercase().replacen("0X", "0x", 1)).ok(),
                    Some(bytes)
                );
                Ok(())
            },
        );
    });
}
