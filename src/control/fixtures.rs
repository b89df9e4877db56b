//! `cloudhsm-sim export`, `import` and `seed`: clusters as files, for CI (docs/ci.md).
//!
//! `export` writes every row of a cluster as a versioned JSON document (password hashes and
//! key material included; the file is created 0600); `import` restores one exactly;
//! `seed` applies a short hand-written document idempotently (the format is in docs/ci.md).

use std::fs;
use std::io::Write;
use std::path::PathBuf;

use serde_json::{json, Map, Value};

use crate::hsm::{self, FixtureError};
use crate::store::{write_private, Home};

use super::{cluster_status, only_cluster, print_json, ControlError};

mod seed;

pub use seed::seed;

/// `cloudhsm-sim export`
#[derive(Debug, clap::Args)]
pub struct Export {
    /// The file to write (created 0600; `-` writes to stdout)
    #[arg(long, value_name = "FILE")]
    pub path: PathBuf,
    /// The cluster; may be left out when the state directory holds one cluster
    #[arg(long = "cluster-id", value_name = "CLUSTER_ID")]
    pub cluster_id: Option<String>,
}

/// `cloudhsm-sim import`
#[derive(Debug, clap::Args)]
pub struct Import {
    /// A file written by cloudhsm-sim export
    #[arg(long, value_name = "FILE")]
    pub path: PathBuf,
    /// Overwrite a cluster of the same id in the state directory
    #[arg(long)]
    pub replace: bool,
}

/// `cloudhsm-sim seed`
#[derive(Debug, clap::Args)]
pub struct Seed {
    /// The seed document (JSON; see docs/ci.md)
    #[arg(long, value_name = "FILE")]
    pub file: PathBuf,
}

/// `cloudhsm-sim export`: the document to `--path` (atomically, 0600) or stdout.
pub fn export(home: &Home, args: Export, out: &mut dyn Write) -> Result<(), ControlError> {
    let id = only_cluster(home, args.cluster_id)?;
    let doc = hsm::export_cluster(home, &id)?;
    let mut text = serde_json::to_vec_pretty(&doc).map_err(std::io::Error::from)?;
    text.push(b'\n');
    if args.path.as_os_str() == "-" {
        out.write_all(&text)?;
        out.flush()?;
        return Ok(());
    }
    write_private(&args.path, &text)?;
    let tables: Map<String, Value> = doc["tables"]
        .as_object()
        .into_iter()
        .flatten()
        .map(|(name, rows)| (name.clone(), rows.as_array().map_or(0, Vec::len).into()))
        .collect();
    print_json(
        out,
        &json!({"cluster-id": id, "path": args.path, "rows": tables}),
    )
}

/// `cloudhsm-sim import`: restores the document; prints the cluster's status, with
/// `replaced-default-cluster` when it took the place of a default cluster nobody had used.
pub fn import(
    home: &Home,
    args: Import,
    out: &mut dyn Write,
    err: &mut dyn Write,
) -> Result<(), ControlError> {
    let bytes = fs::read(&args.path)?;
    let doc: Value = serde_json::from_slice(&bytes)
        .map_err(|e| FixtureError::NotAnExport(format!("{}: {e}", args.path.display())))?;
    let imported = hsm::import_cluster(home, &doc, args.replace)?;
    let mut status =
        serde_json::to_value(cluster_status(home, &imported.id)?).map_err(std::io::Error::from)?;
    if let Some(default) = &imported.replaced_default {
        note_replaced(err, default, &imported.id);
        if let Some(obj) = status.as_object_mut() {
            obj.insert(REPLACED_DEFAULT.into(), default.clone().into());
        }
    }
    print_json(out, &status)
}

/// The field of the `import` and `seed` output naming the default cluster they replaced.
const REPLACED_DEFAULT: &str = "replaced-default-cluster";

/// Says on stderr that the default cluster `default` gave way to `id` (which may have its id).
fn note_replaced(err: &mut dyn Write, default: &str, id: &str) {
    let by = if default == id {
        "the one imported".to_string()
    } else {
        id.to_string()
    };
    let _ = writeln!(
        err,
        "cloudhsm-sim: replaced the default cluster {default} (made by a first command, never \
         used) with {by}"
    );
}
