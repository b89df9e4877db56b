//! `cloudhsm-sim export`, `import` and `seed` through the real binaries: an export imported
//! into a fresh state directory is the same cluster, row for row (a table or column that a
//! later schema adds and the export forgets fails here), the file never holds a password,
//! import never overwrites by accident, and a seed applied twice changes nothing.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::collections::BTreeMap;
use std::path::Path;

use common::*;
use serde_json::Value;

const CLUSTER_ID: &str = "cluster-ci";

/// A seed with a bit of everything: users of both roles, a shared AES key, a generic secret
/// of fixed material, a shared EC pair with key quorum values, quorum values and a timeout.
const SEED: &str = r#"{
  "version": 1,
  "cluster": {"id": "cluster-ci", "hsms": 3, "kdf": "fast", "appliance_password": "app-pw-123"},
  "admin_password": "admin-pw-1",
  "users": [
    {"username": "alice", "role": "crypto-user", "password": "alice-pw-1"},
    {"username": "bob", "role": "crypto-user", "password": "bob-pw-123"},
    {"username": "ops", "role": "admin", "password": "ops-pw-123"}
  ],
  "quorum": {"quorum": 2},
  "token_timeouts": {"generated": 300},
  "keys": [
    {"owner": "alice", "type": "aes", "label": "data-key",
     "attributes": {"encrypt": true, "decrypt": true}, "share_with": ["bob"]},
    {"owner": "alice", "type": "generic-secret", "label": "mac-key",
     "material_hex": "000102030405060708090a0b0c0d0e0f", "attributes": {"sign": true}},
    {"owner": "bob", "type": "ec", "curve": "secp384r1", "label": "signer-pub",
     "private_label": "signer", "public_attributes": {"verify": true},
     "private_attributes": {"sign": true}, "share_with": ["alice"],
     "quorum": {"manage": 2, "use": 2}}
  ]
}"#;

const PASSWORDS: &[&str] = &[
    "admin-pw-1",
    "alice-pw-1",
    "bob-pw-123",
    "ops-pw-123",
    "app-pw-123",
];

fn seeded() -> Sim {
    let sim = Sim::empty();
    let run = seed(&sim, SEED);
    assert_eq!(run.code, 0, "seed failed: {}", run.stderr);
    sim
}

fn seed(sim: &Sim, doc: &str) -> Run {
    let path = sim.dir.path().join("seed.json");
    std::fs::write(&path, doc).unwrap();
    sim.sim(&["seed", "--file", path.to_str().unwrap()])
}

fn db(sim: &Sim) -> std::path::PathBuf {
    sim.home.join("clusters").join(format!("{CLUSTER_ID}.db"))
}

/// Exports `cluster-ci` of `sim` to a file; returns the file's bytes.
fn export(sim: &Sim, name: &str) -> Vec<u8> {
    let path = sim.dir.path().join(name);
    let run = sim.sim(&[
        "export",
        "--path",
        path.to_str().unwrap(),
        "--cluster-id",
        CLUSTER_ID,
    ]);
    assert_eq!(run.code, 0, "export failed: {}", run.stderr);
    std::fs::read(&path).unwrap()
}

/// Tables of process state, never exported or imported.
const RUNTIME_TABLES: &[&str] = &["logins", "tokens"];

/// Every row of every table (but the runtime tables, and the `meta` row naming the database's
/// instance, which every copy has its own of), every schema object, and the schema version of
/// a cluster database, read with SQLite directly.
fn dump(path: &Path) -> BTreeMap<String, Vec<String>> {
    use rusqlite::{Connection, OpenFlags};
    let conn = Connection::open_with_flags(path, OpenFlags::SQLITE_OPEN_READ_ONLY).unwrap();
    let mut out = BTreeMap::new();
    let mut stmt = conn
        .prepare("SELECT type, name, coalesce(sql, '') FROM sqlite_master ORDER BY type, name")
        .unwrap();
    let objects: Vec<(String, String, String)> = stmt
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))
        .unwrap()
        .map(Result::unwrap)
        .collect();
    out.insert(
        "(schema)".into(),
        objects.iter().map(|o| format!("{o:?}")).collect(),
    );
    let version: i64 = conn
        .query_row("PRAGMA user_version", [], |r| r.get(0))
        .unwrap();
    out.insert("(user_version)".into(), vec![version.to_string()]);
    for (_, table, _) in objects
        .iter()
        .filter(|(t, n, _)| t == "table" && !RUNTIME_TABLES.contains(&n.as_str()))
    {
        let filter = if table == "meta" {
            " WHERE key != 'instance'"
        } else {
            ""
        };
        let mut stmt = conn
            .prepare(&format!("SELECT * FROM \"{table}\"{filter} ORDER BY rowid"))
            .unwrap();
        let n = stmt.column_count();
        let rows = stmt
            .query_map([], |r| {
                (0..n)
                    .map(|i| {
                        r.get::<_, rusqlite::types::Value>(i)
                            .map(|v| format!("{v:?}"))
                    })
                    .collect::<rusqlite::Result<Vec<_>>>()
            })
            .unwrap()
            .map(|r| r.unwrap().join(" | "))
            .collect();
        out.insert(table.clone(), rows);
    }
    out
}

/// The columns of each table of a cluster database (but the runtime tables).
fn columns(path: &Path) -> BTreeMap<String, Vec<String>> {
    let conn = rusqlite::Connection::open(path).unwrap();
    let mut stmt = conn
        .prepare("SELECT name FROM sqlite_master WHERE type = 'table'")
        .unwrap();
    let tables: Vec<String> = stmt
        .query_map([], |r| r.get(0))
        .unwrap()
        .map(Result::unwrap)
        .filter(|t: &String| !RUNTIME_TABLES.contains(&t.as_str()))
        .collect();
    tables
        .into_iter()
        .map(|t| {
            let mut stmt = conn
                .prepare("SELECT name FROM pragma_table_info(?1) ORDER BY cid")
                .unwrap();
            let cols = stmt
                .query_map([&t], |r| r.get(0))
                .unwrap()
                .map(Result::unwrap)
                .collect();
            (t, cols)
        })
        .collect()
}

#[test]
fn export_import_export_is_exact_and_holds_no_password() {
    let one = seeded();
    // Some history the export must carry: a failed login, a deleted key, a deleted user.
    let bad = one.cli_env(
        &["key", "list"],
        &[
            ("CLOUDHSM_ROLE", "crypto-user"),
            ("CLOUDHSM_PIN", "bob:wrong-pw-1"),
        ],
    );
    assert_eq!(bad.code, 1);
    let alice = [
        ("CLOUDHSM_ROLE", "crypto-user"),
        ("CLOUDHSM_PIN", "alice:alice-pw-1"),
    ];
    let run = one.cli_env(
        &argv("key generate-symmetric aes --label gone --key-length-bytes 16"),
        &alice,
    );
    assert_eq!(run.code, 0, "{}", run.stdout_text());
    assert_eq!(
        one.cli_env(&["key", "delete", "--filter", "attr.label=gone"], &alice)
            .code,
        0
    );
    let admin = [
        ("CLOUDHSM_ROLE", "admin"),
        ("CLOUDHSM_PIN", "admin:admin-pw-1"),
    ];
    let run = one.cli_env(
        &argv("user create --username temp --role crypto-user --password temp-pw-12"),
        &admin,
    );
    assert_eq!(run.code, 0, "{}", run.stdout_text());
    assert_eq!(
        one.cli_env(
            &[
                "user",
                "delete",
                "--username",
                "temp",
                "--role",
                "crypto-user"
            ],
            &admin
        )
        .code,
        0
    );

    let first = export(&one, "first.json");
    use std::os::unix::fs::PermissionsExt;
    let mode = std::fs::metadata(one.dir.path().join("first.json"))
        .unwrap()
        .permissions()
        .mode();
    assert_eq!(mode & 0o777, 0o600, "export file mode {:o}", mode & 0o777);
    let text = String::from_utf8(first.clone()).unwrap();
    for pw in PASSWORDS {
        assert!(!text.contains(pw), "the export holds the password {pw}");
    }
    let doc: Value = serde_json::from_slice(&first).unwrap();
    assert_eq!(doc["format"], "cloudhsm-sim-cluster");
    assert_eq!(doc["version"], 1);
    for user in doc["tables"]["users"].as_array().unwrap() {
        let hash = user["password_hash"].as_str().unwrap();
        assert!(hash.starts_with("$argon2id$"), "{hash}");
    }

    // Every column of every table of the database is in the export.
    for (table, cols) in columns(&db(&one)) {
        let rows = doc["tables"][&table]
            .as_array()
            .unwrap_or_else(|| panic!("the export has no table {table}"));
        for row in rows {
            let keys: Vec<&String> = row.as_object().unwrap().keys().collect();
            assert_eq!(keys, cols.iter().collect::<Vec<_>>(), "columns of {table}");
        }
    }

    let two = Sim::empty();
    let path = one.dir.path().join("first.json");
    let run = two.sim(&["import", "--path", path.to_str().unwrap()]);
    assert_eq!(run.code, 0, "import failed: {}", run.stderr);
    assert_eq!(run.one()["cluster-id"], CLUSTER_ID);
    let second = export(&two, "second.json");
    assert!(
        first == second,
        "export -> import -> export changed the document"
    );
    assert_eq!(
        dump(&db(&one)),
        dump(&db(&two)),
        "the imported database differs"
    );
}

#[test]
fn imported_cluster_works_and_is_never_overwritten_by_accident() {
    let one = seeded();
    let file = one.dir.path().join("c.json");
    std::fs::write(&file, export(&one, "c.json")).unwrap();
    let file = file.to_str().unwrap();

    let two = Sim::empty();
    assert_eq!(two.sim(&["import", "--path", file]).code, 0);
    // The fixed material came along: HMAC-SHA256("hello") with key 00..0f.
    let alice = [
        ("CLOUDHSM_ROLE", "crypto-user"),
        ("CLOUDHSM_PIN", "alice:alice-pw-1"),
    ];
    let args = argv(
        "crypto mac hmac --key-filter attr.label=mac-key --hash-function sha256 --data aGVsbG8=",
    );
    let run = two.cli_env(&args, &alice);
    assert_eq!(
        ok_data(&run.one())["mac"],
        "kWPrDVaKKOOZTJacnV3+8YHMu7CodCswRk1NIAy8tPQ="
    );

    let before = dump(&db(&two));
    let run = two.sim(&["import", "--path", file]);
    assert_eq!(run.code, 1);
    assert!(
        run.stderr.contains("already exists") && run.stderr.contains("--replace"),
        "{}",
        run.stderr
    );
    assert_eq!(
        dump(&db(&two)),
        before,
        "a refused import changed the cluster"
    );
    // A document that cannot be restored leaves the cluster it was to replace as it was.
    let mut doc: Value = serde_json::from_str(&std::fs::read_to_string(file).unwrap()).unwrap();
    doc["tables"]["users"][0]["nickname"] = "bogus".into();
    let broken = one.dir.path().join("broken.json");
    std::fs::write(&broken, doc.to_string()).unwrap();
    let run = two.sim(&["import", "--path", broken.to_str().unwrap(), "--replace"]);
    assert_eq!(run.code, 1);
    assert!(
        run.stderr.contains("unknown column nickname"),
        "{}",
        run.stderr
    );
    assert_eq!(
        dump(&db(&two)),
        before,
        "a failed import changed the cluster"
    );
    for left in files_under(&two.home.join("clusters")) {
        let name = left.file_name().unwrap().to_string_lossy();
        assert!(
            !name.contains(".importing") && !name.contains(".tmp"),
            "{name} left behind"
        );
    }
    let run = two.sim(&["import", "--path", file, "--replace"]);
    assert_eq!(run.code, 0, "{}", run.stderr);

    let garbage = one.dir.path().join("garbage.json");
    std::fs::write(&garbage, r#"{"format": "something-else"}"#).unwrap();
    let run = Sim::empty().sim(&["import", "--path", garbage.to_str().unwrap()]);
    assert_eq!(run.code, 1);
    assert!(
        run.stderr.contains("not a cloudhsm-sim cluster export"),
        "{}",
        run.stderr
    );
}

#[test]
fn seed_twice_changes_nothing_and_reset_password_is_explicit() {
    let sim = seeded();
    let before = export(&sim, "before.json");
    let run = seed(&sim, SEED);
    assert_eq!(run.code, 0, "{}", run.stderr);
    let report = run.one();
    assert_eq!(report["changed"], false, "{report:#}");
    assert_eq!(report["users"]["alice"], "kept");
    assert_eq!(report["keys"][2]["result"], "kept");
    assert!(
        export(&sim, "after.json") == before,
        "a second seed changed the cluster"
    );

    // A new password is taken only with reset_password.
    let doc = SEED.replace("\"alice-pw-1\"}", "\"alice-pw-2\"}");
    assert_eq!(seed(&sim, &doc).one()["users"]["alice"], "kept");
    let doc = SEED.replace(
        "\"alice-pw-1\"}",
        "\"alice-pw-2\", \"reset_password\": true}",
    );
    assert_eq!(seed(&sim, &doc).one()["users"]["alice"], "updated");
    assert_eq!(seed(&sim, &doc).one()["changed"], false);
    let login = |pw: &str| {
        sim.cli_env(
            &["key", "list"],
            &[
                ("CLOUDHSM_ROLE", "crypto-user"),
                ("CLOUDHSM_PIN", &format!("alice:{pw}")),
            ],
        )
        .code
    };
    assert_eq!((login("alice-pw-2"), login("alice-pw-1")), (0, 1));
}

#[test]
fn seed_refuses_what_it_cannot_do() {
    let sim = seeded();
    for (doc, says) in [
        (
            SEED.replace("\"admin_password\"", "\"admin_pasword\""),
            "unknown field `admin_pasword`",
        ),
        (
            SEED.replace("\"role\": \"admin\"", "\"role\": \"crypto-user\""),
            "user ops exists with role admin",
        ),
        (
            SEED.replace("\"hsms\": 3", "\"hsms\": 2"),
            "cluster cluster-ci has hsms 3, the seed says 2",
        ),
        (
            SEED.replace("\"version\": 1", "\"version\": 2"),
            "version must be 1",
        ),
    ] {
        let run = seed(&sim, &doc);
        assert_eq!(run.code, 1, "{doc}");
        assert!(
            run.stderr.contains(says),
            "expected {says:?} in {}",
            run.stderr
        );
    }
    let fresh = Sim::empty();
    let run = seed(
        &fresh,
        r#"{"version": 1, "users": [{"username": "a", "role": "crypto-user", "password": "a-password"}]}"#,
    );
    assert_eq!(run.code, 1);
    assert!(
        run.stderr.contains("is not activated: give admin_password"),
        "{}",
        run.stderr
    );
}

/// An export made before schema 3 (no `certificates` table) still imports: the cluster gets
/// the table, empty.
#[test]
fn an_export_of_schema_2_without_certificates_imports() {
    let one = seeded();
    let mut doc: Value = serde_json::from_slice(&export(&one, "new.json")).unwrap();
    assert!(doc["tables"]["certificates"].is_array());
    doc["tables"]
        .as_object_mut()
        .unwrap()
        .remove("certificates");
    doc["schema_version"] = 2.into();
    let path = one.dir.path().join("old.json");
    std::fs::write(&path, serde_json::to_vec(&doc).unwrap()).unwrap();
    let two = Sim::empty();
    let run = two.sim(&["import", "--path", path.to_str().unwrap()]);
    assert_eq!(run.code, 0, "import failed: {}", run.stderr);
    let conn = rusqlite::Connection::open(db(&two)).unwrap();
    let count: i64 = conn
        .query_row("SELECT count(*) FROM certificates", [], |r| r.get(0))
        .unwrap();
    assert_eq!(count, 0);
}
