//! The state directory on first use (issue 19, item 10), through the real binaries.
//!
//! - A read-only first command (`cloudhsm-cli user list`) on an empty state directory makes
//!   the default cluster; a later `cloudhsm-sim import` or `seed` puts its cluster in the
//!   default's place, so that one cluster is left and no command needs `--cluster-id`. Both
//!   say so (`replaced-default-cluster` in the JSON, a note on stderr).
//! - A default cluster someone used (activated, logged in to) and a cluster made by
//!   `cloudhsm-sim init` are never replaced: the import lands beside them, as before.
//! - A shell that was open on a replaced default says at its next command that the cluster is
//!   gone, and never writes to it.
//! - A relative `CLOUDHSM_SIM_HOME` is resolved once per process against its working
//!   directory; `cloudhsm-sim status` shows the absolute path (the docs' recipe runs here).

mod common;

use std::fs;
use std::path::{Path, PathBuf};

use common::*;

const REPLACED: &str = "replaced-default-cluster";
const ADMIN_PW: &str = "admin-pw-1";

/// An export of `cluster-ci` (activated, with a crypto user `alice`), written in `sim`'s
/// temporary directory; returns its path.
fn export_file(into: &Sim) -> PathBuf {
    let source = Sim::with_crypto_user(ADMIN_PW, "alice", "alice-pw-1");
    let path = into.dir.path().join("cluster.json");
    let run = source.sim(&[
        "export",
        "--path",
        path.to_str().ctx("path"),
        "--cluster-id",
        CLUSTER,
    ]);
    assert_eq!(run.code, 0, "export: {}", run.stderr);
    path
}

fn import(sim: &Sim, file: &Path) -> Run {
    sim.sim(&["import", "--path", file.to_str().ctx("path")])
}

fn cluster_ids(sim: &Sim) -> Vec<String> {
    let run = sim.sim(&["list"]);
    assert_eq!(run.code, 0, "list: {}", run.stderr);
    serde_json::from_value(run.one()["clusters"].clone()).ctx("cluster ids")
}

/// The files of `clusters/`.
fn cluster_files(sim: &Sim) -> Vec<String> {
    let mut names: Vec<String> = files_under(&sim.home.join("clusters"))
        .iter()
        .map(|p| p.file_name().ctx("name").to_string_lossy().into_owned())
        .collect();
    names.sort();
    names
}

/// A read-only first command makes the default cluster, which `user list` shows.
fn first_command(sim: &Sim) -> String {
    let run = sim.cli(&["user", "list"]);
    assert_eq!(run.code, 0, "user list: {}", run.stderr);
    let ids = cluster_ids(sim);
    assert_eq!(ids.len(), 1, "the first command makes one cluster: {ids:?}");
    ids[0].clone()
}

fn usernames(sim: &Sim) -> Vec<String> {
    sim.users().into_iter().map(|(name, _, _)| name).collect()
}

#[test]
fn a_read_only_first_command_then_import_leaves_one_cluster() {
    let sim = Sim::empty();
    let file = export_file(&sim);
    let default = first_command(&sim);

    let run = import(&sim, &file);
    assert_eq!(run.code, 0, "import: {}", run.stderr);
    let out = run.one();
    assert_eq!(out["cluster-id"], CLUSTER);
    assert_eq!(out[REPLACED], default.as_str());
    assert!(
        run.stderr
            .contains(&format!("replaced the default cluster {default}")),
        "{}",
        run.stderr
    );

    assert_eq!(cluster_ids(&sim), [CLUSTER]);
    // Nothing of the default is left behind (no WAL of a removed database).
    assert_eq!(cluster_files(&sim), [format!("{CLUSTER}.db")]);
    // No command needs --cluster-id: the imported cluster is the only one.
    assert_eq!(usernames(&sim), ["admin", "alice", "app_user"]);
    let alice = [
        ("CLOUDHSM_ROLE", "crypto-user"),
        ("CLOUDHSM_PIN", "alice:alice-pw-1"),
    ];
    let run = sim.cli_env(&argv("key list"), &alice);
    assert_eq!(run.code, 0, "{}", run.stdout_text());
}

#[test]
fn a_read_only_first_command_then_seed_leaves_one_cluster() {
    // A seed that names its cluster.
    let sim = Sim::empty();
    let default = first_command(&sim);
    let seed = sim.dir.path().join("seed.json");
    fs::write(
        &seed,
        r#"{"version": 1, "cluster": {"id": "cluster-ci", "kdf": "fast"},
            "admin_password": "admin-pw-1",
            "users": [{"username": "alice", "role": "crypto-user", "password": "alice-pw-1"}]}"#,
    )
    .ctx("write seed");
    let seed = seed.to_str().ctx("path");
    let run = sim.sim(&["seed", "--file", seed]);
    assert_eq!(run.code, 0, "seed: {}", run.stderr);
    let out = run.one();
    assert_eq!(out["cluster"], "created");
    assert_eq!(out[REPLACED], default.as_str());
    assert!(
        run.stderr.contains("replaced the default cluster"),
        "{}",
        run.stderr
    );
    assert_eq!(cluster_ids(&sim), ["cluster-ci"]);
    assert_eq!(usernames(&sim), ["admin", "alice", "app_user"]);
    // Run again: nothing changes, nothing is replaced.
    let run = sim.sim(&["seed", "--file", seed]);
    assert_eq!(run.code, 0, "seed again: {}", run.stderr);
    assert_eq!(run.one()["changed"], false);
    assert_eq!(run.one().get(REPLACED), None);

    // A seed that names no cluster, with settings the default does not have (fast hashing):
    // a new cluster of those settings takes the default's place.
    let sim = Sim::empty();
    let default = first_command(&sim);
    let seed = sim.dir.path().join("seed.json");
    fs::write(
        &seed,
        r#"{"version": 1, "cluster": {"kdf": "fast", "hsms": 3}, "admin_password": "admin-pw-1"}"#,
    )
    .ctx("write seed");
    let run = sim.sim(&["seed", "--file", seed.to_str().ctx("path")]);
    assert_eq!(run.code, 0, "seed: {}", run.stderr);
    let out = run.one();
    assert_eq!(out[REPLACED], default.as_str());
    let ids = cluster_ids(&sim);
    assert_eq!(ids.len(), 1);
    assert_ne!(ids[0], default);
    let status = sim.sim(&["status"]).one();
    assert_eq!(status["clusters"][0]["kdf"], "fast");
    assert_eq!(
        status["clusters"][0]["hsms"].as_array().ctx("hsms").len(),
        3
    );

    // A seed whose settings are the default's uses the default cluster itself.
    let sim = Sim::empty();
    let default = first_command(&sim);
    fs::write(&seed, r#"{"version": 1, "admin_password": "admin-pw-1"}"#).ctx("write seed");
    let run = sim.sim(&["seed", "--file", seed.to_str().ctx("path")]);
    assert_eq!(run.code, 0, "seed: {}", run.stderr);
    let out = run.one();
    assert_eq!(out["cluster-id"], default.as_str());
    assert_eq!(out["cluster"], "kept");
    assert_eq!(out["activation"], "activated");
    assert_eq!(out.get(REPLACED), None);
}

/// A deterministic run (`CLOUDHSM_SIM_SEED`) gives the default cluster the same id on every
/// machine, so an export of one lands on the default of another: it takes its place without
/// `--replace`.
#[test]
fn an_export_of_the_defaults_own_id_replaces_it_without_replace() {
    let seed = [("CLOUDHSM_SIM_SEED", "19")];
    let source = Sim::empty();
    let run = source.cli_env(&argv("cluster activate --password admin-pw-1"), &seed);
    assert_eq!(run.code, 0, "activate: {}", run.stdout_text());
    let id = cluster_ids(&source).remove(0);
    let file = source.dir.path().join("default.json");
    let run = source.sim(&["export", "--path", file.to_str().ctx("path")]);
    assert_eq!(run.code, 0, "export: {}", run.stderr);

    let sim = Sim::empty();
    let run = sim.cli_env(&["user", "list"], &seed);
    assert_eq!(run.code, 0);
    assert_eq!(cluster_ids(&sim), [id.as_str()]);
    let run = import(&sim, &file);
    assert_eq!(run.code, 0, "import: {}", run.stderr);
    let out = run.one();
    assert_eq!(out[REPLACED], id.as_str());
    assert_eq!(out["state"], "active");
    // The imported cluster is one asked for: a second import of it needs --replace.
    let run = import(&sim, &file);
    assert_eq!(run.code, 1);
    assert!(run.stderr.contains("--replace"), "{}", run.stderr);
}

#[test]
fn a_default_someone_used_or_a_cluster_made_by_init_is_not_replaced() {
    // Activated.
    let sim = Sim::empty();
    let file = export_file(&sim);
    let run = sim.cli(&argv("cluster activate --password admin-pw-1"));
    assert_eq!(run.code, 0, "{}", run.stdout_text());
    let default = cluster_ids(&sim).remove(0);
    let run = import(&sim, &file);
    assert_eq!(run.code, 0, "import: {}", run.stderr);
    assert_eq!(run.one().get(REPLACED), None);
    assert!(!run.stderr.contains("replaced"), "{}", run.stderr);
    let mut both = vec![CLUSTER.to_string(), default];
    both.sort();
    assert_eq!(cluster_ids(&sim), both);
    // Then, as before, commands need --cluster-id.
    let run = sim.cli(&["user", "list"]);
    assert_eq!(run.code, 1);
    let v = run.one();
    assert!(
        err_text(&v).starts_with("multiple clusters provided in configuration file"),
        "{v}"
    );

    // Made by init (with the default's settings: the mark, not the settings, decides).
    let sim = Sim::empty();
    let file = export_file(&sim);
    assert_eq!(sim.sim(&["init", "--cluster-id", "cluster-mine"]).code, 0);
    let run = import(&sim, &file);
    assert_eq!(run.code, 0, "import: {}", run.stderr);
    assert_eq!(run.one().get(REPLACED), None);
    assert_eq!(cluster_ids(&sim), [CLUSTER, "cluster-mine"]);

    // Reset: someone worked on it.
    let sim = Sim::empty();
    let file = export_file(&sim);
    let default = first_command(&sim);
    assert_eq!(sim.sim(&["reset"]).code, 0);
    let run = import(&sim, &file);
    assert_eq!(run.code, 0, "import: {}", run.stderr);
    assert_eq!(run.one().get(REPLACED), None);
    let mut both = vec![CLUSTER.to_string(), default];
    both.sort();
    assert_eq!(cluster_ids(&sim), both);
}

/// A shell logged in to the default (as the unactivated admin) is working on it: the import
/// lands beside it. A shell that only read from it is not; after the import has replaced it,
/// its next command says the cluster is gone, and nothing it does reaches a removed database.
#[test]
fn a_live_shell_on_the_default_keeps_it_or_learns_it_is_gone() {
    let sim = Sim::empty();
    let file = export_file(&sim);
    let mut shell = Live::start(&sim);
    let v = shell.ask("login --username admin --role admin --password password");
    assert_eq!(v["error_code"], 0, "{v}");
    let default = cluster_ids(&sim).remove(0);
    let run = import(&sim, &file);
    assert_eq!(run.code, 0, "import: {}", run.stderr);
    assert_eq!(run.one().get(REPLACED), None);
    let mut both = vec![CLUSTER.to_string(), default];
    both.sort();
    assert_eq!(cluster_ids(&sim), both);
    // The shell keeps the cluster it started on.
    let v = shell.ask("user list");
    assert_eq!(ok_data(&v)["users"][0]["role"], "unactivated-admin");
    assert_eq!(shell.close(), 0);

    let sim = Sim::empty();
    let file = export_file(&sim);
    let mut shell = Live::start(&sim);
    let v = shell.ask("user list");
    assert_eq!(v["error_code"], 0, "{v}");
    let default = cluster_ids(&sim).remove(0);
    let run = import(&sim, &file);
    assert_eq!(run.code, 0, "import: {}", run.stderr);
    assert_eq!(run.one()[REPLACED], default.as_str());
    for line in [
        "user list",
        "login --username admin --role admin --password password",
        "cluster activate --password admin-pw-9",
    ] {
        let v = shell.ask(line);
        assert!(
            err_text(&v).contains(&format!("Cluster {default} does not exist")),
            "{line}: {v}"
        );
    }
    assert_eq!(shell.close(), 0);
    // The shell wrote nothing anywhere: the imported cluster is as imported, and nothing of
    // the default came back.
    assert_eq!(cluster_files(&sim), [format!("{CLUSTER}.db")]);
    assert_eq!(usernames(&sim), ["admin", "alice", "app_user"]);
}

// ---------------------------------------------------------------------------------------
// A relative CLOUDHSM_SIM_HOME.
// ---------------------------------------------------------------------------------------

fn state_directory(run: &Run) -> String {
    assert_eq!(run.code, 0, "status: {}", run.stderr);
    run.one()["state-directory"]
        .as_str()
        .ctx("state-directory")
        .to_string()
}

/// Each process resolves a relative `CLOUDHSM_SIM_HOME` once, against the directory it starts
/// in, and says which directory that is: run from two directories it is two state
/// directories, each complete in itself.
#[test]
fn a_relative_state_directory_is_resolved_once_per_process() {
    let sim = Sim::empty();
    let root = sim.dir.path().canonicalize().ctx("canonical temp dir");
    let (a, b) = (root.join("a"), root.join("b"));
    for dir in [&a, &b] {
        fs::create_dir(dir).ctx("mkdir");
    }
    let in_dir = |dir: &Path, bin: &str, args: &[&str]| {
        let mut cmd = std::process::Command::new(bin);
        scrub(&mut cmd);
        cmd.current_dir(dir)
            .env("CLOUDHSM_SIM_HOME", "./state")
            .args(args);
        run(cmd, b"")
    };
    let run = in_dir(
        &a,
        SIM,
        &["init", "--cluster-id", "cluster-rel", "--kdf", "fast"],
    );
    assert_eq!(run.code, 0, "init: {}", run.stderr);
    assert!(a.join("state/clusters/cluster-rel.db").exists());
    assert_eq!(
        state_directory(&in_dir(&a, SIM, &["status"])),
        a.join("state").to_str().ctx("path")
    );
    // The CLI in `a` uses that cluster: no default is made beside it.
    let run = in_dir(&a, CLI, &["user", "list"]);
    assert_eq!(run.code, 0, "{}", run.stdout_text());
    assert_eq!(
        state_directory(&in_dir(&b, SIM, &["status"])),
        b.join("state").to_str().ctx("path")
    );
    let run = in_dir(&b, SIM, &["list"]);
    assert_eq!(run.one()["clusters"], serde_json::json!([]));
    let run = in_dir(&a, SIM, &["list"]);
    assert_eq!(run.one()["clusters"], serde_json::json!(["cluster-rel"]));
}

/// The recipe of docs/scripting.md ("A relative state directory") does what it says.
#[test]
fn the_relative_state_directory_recipe_runs_as_documented() {
    let sim = Sim::empty();
    let dir = sim.dir.path().canonicalize().ctx("canonical temp dir");
    let recipe = doc_block("scripting.md", "### A relative state directory");
    let run = run_bash(&sim, &dir, &recipe, &[]);
    assert_eq!(
        run.code,
        0,
        "recipe failed: {}\n{}",
        run.stderr,
        run.stdout_text()
    );
    let lines: Vec<String> = run.stdout_text().lines().map(str::to_string).collect();
    let here = dir.join("state");
    let sub = dir.join("sub/state");
    assert_eq!(
        lines,
        [
            here.to_str().ctx("path"),
            sub.to_str().ctx("path"),
            here.to_str().ctx("path"),
        ],
        "{}",
        run.stderr
    );
}
