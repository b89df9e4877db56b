//! Fixtures for CI: a cluster exported as a versioned JSON document holding every row of every
//! table (argon2 password hashes and key material included, never a password) and imported
//! back exactly; and the steps `cloudhsm-sim seed` is built from.
//!
//! The export is generic over the schema: it reads the tables and columns from the database
//! itself, so a table or column added later is exported without a change here. Only
//! [`RUNTIME_TABLES`] (which process holds a login, the quorum and MFA tokens of login
//! sessions) and the database's instance id are left out: they describe running processes
//! and one copy of the database, not the cluster. Values: integers as numbers, text as
//! strings (a text column holding a JSON object or array, such as a key's attributes, as that
//! JSON), blobs as base64.
//!
//! All of it is the control plane's (`cloudhsm-sim export`, `import`, `seed`), crate-private:
//! it writes rows no login vouches for, so no front end (nor any other crate) can reach it.
//!
//! ```compile_fail
//! let _ = cloudhsm_sim::hsm::import_cluster;
//! ```
//!
//! ```compile_fail
//! fn back_door(cluster: &mut cloudhsm_sim::hsm::Cluster, e: &mut cloudhsm_sim::hsm::Entropy) {
//!     let _ = cluster.seed_user("cu9", cloudhsm_sim::hsm::Role::CryptoUser, "pw-123456", true, e);
//! }
//! ```

use base64::Engine;
use serde_json::{json, Map, Value};

use crate::store::records::{self, AnyValue};
use crate::store::{Home, Store, StoreError, Tx, INSTANCE_KEY, SCHEMA_VERSION};

use super::auth::{hash_password, verify_password};
use super::crypto::KeyMaterial;
use super::default_cluster::{retire_default, untouched, untouched_default, ORIGIN_KEY};
use super::key::{Key, KeyClass, KeyType};
use super::keygen::GenerateRequest;
use super::keys::{check_share_target, Actor, SessionKeys};
use super::quorum::{QuorumError, Service};
use super::user::{check_password, Username};
use super::{check_cluster_id, Cluster, Entropy, HsmError, Role};

/// The `format` field of an export document.
pub const EXPORT_FORMAT: &str = "cloudhsm-sim-cluster";
/// The version of the export document's layout.
pub const EXPORT_VERSION: u64 = 1;
/// Tables of process state, never exported and never imported: an import starts with nobody
/// logged in, and a token belongs to the login session that generated it.
pub const RUNTIME_TABLES: &[&str] = &["logins", "tokens"];

/// Tables a later schema added: an export (or backup) of an older schema has none, and its
/// cluster has none of their rows (schema 3: PKCS#11 certificate storage).
const ADDED_TABLES: &[&str] = &["certificates"];

/// The oldest database schema whose exports this build imports. Schema 2 changed only the
/// runtime table `logins`, which no export holds.
const OLDEST_IMPORTED_SCHEMA: i64 = 1;

/// Why an export, import or seed step was refused.
#[derive(Debug, thiserror::Error)]
pub enum FixtureError {
    #[error("{0}")]
    Hsm(#[from] HsmError),
    #[error("not a cloudhsm-sim cluster export: {0}")]
    NotAnExport(String),
    #[error(
        "the export holds database schema {found}, this cloudhsm-sim writes schema {supported}: \
         import it with the version that exported it"
    )]
    Schema { found: i64, supported: i64 },
    #[error("cluster {id} already exists in this state directory: add --replace to overwrite it")]
    Exists { id: String },
    #[error("Backup {id} does not exist in this state directory (see cloudhsm-sim backup list)")]
    BackupNotFound { id: String },
    #[error(
        "Invalid backup id {id}: a backup id is backup- followed by lowercase letters and digits"
    )]
    InvalidBackupId { id: String },
    #[error("The backup file {path} is damaged: {detail}")]
    DamagedBackup {
        path: std::path::PathBuf,
        detail: String,
    },
    #[error("seed: {0}")]
    Seed(String),
    #[error("user {username} exists with role {found}, not {wanted}")]
    RoleMismatch {
        username: String,
        found: String,
        wanted: String,
    },
}

impl From<StoreError> for FixtureError {
    fn from(e: StoreError) -> Self {
        FixtureError::Hsm(e.into())
    }
}

fn b64() -> base64::engine::GeneralPurpose {
    base64::engine::general_purpose::STANDARD
}

/// One SQLite value as JSON (see the module documentation).
fn encode(value: AnyValue) -> Value {
    match value {
        AnyValue::Null => Value::Null,
        AnyValue::Integer(i) => i.into(),
        AnyValue::Real(f) => serde_json::Number::from_f64(f).map_or(Value::Null, Value::Number),
        AnyValue::Text(s) => match serde_json::from_str::<Value>(&s) {
            // Embedded only when writing it back gives the same text, byte for byte.
            Ok(v @ (Value::Object(_) | Value::Array(_)))
                if serde_json::to_string(&v).ok().as_deref() == Some(s.as_str()) =>
            {
                v
            }
            _ => Value::String(s),
        },
        AnyValue::Blob(b) => Value::String(b64().encode(b)),
    }
}

/// One JSON value back into a column of declared type `declared`.
fn decode(value: &Value, declared: &str, at: &str) -> Result<AnyValue, FixtureError> {
    let bad = |what: &str| FixtureError::NotAnExport(format!("{at}: {what}"));
    Ok(match value {
        Value::Null => AnyValue::Null,
        Value::Bool(b) => AnyValue::Integer(i64::from(*b)),
        Value::Number(n) => match n.as_i64() {
            Some(i) => AnyValue::Integer(i),
            None => AnyValue::Real(n.as_f64().ok_or_else(|| bad("not a number"))?),
        },
        Value::String(s) if declared.eq_ignore_ascii_case("BLOB") => {
            AnyValue::Blob(b64().decode(s).map_err(|_| bad("not base64"))?)
        }
        Value::String(s) => AnyValue::Text(s.clone()),
        other => AnyValue::Text(serde_json::to_string(other).map_err(|e| bad(&e.to_string()))?),
    })
}

/// Cluster `id` as an export document.
pub fn export_cluster(home: &Home, id: &str) -> Result<Value, FixtureError> {
    let mut cluster = Cluster::open(home, id)?;
    let id = cluster.settings.id.clone();
    cluster.store.read(|tx| {
        let mut tables = Map::new();
        for table in records::table_names(tx)? {
            if RUNTIME_TABLES.contains(&table.as_str()) {
                continue;
            }
            let names: Vec<String> = records::table_columns(tx, &table)?
                .into_iter()
                .map(|(name, _)| name)
                .collect();
            let rows = records::table_rows(tx, &table, &names)?
                .into_iter()
                .filter(|row| !(table == "meta" && is_copy_row(row)))
                .map(|row| {
                    Value::Object(
                        names
                            .iter()
                            .cloned()
                            .zip(row.into_iter().map(encode))
                            .collect(),
                    )
                })
                .collect();
            tables.insert(table, Value::Array(rows));
        }
        Ok::<_, FixtureError>(json!({
            "format": EXPORT_FORMAT,
            "version": EXPORT_VERSION,
            "schema_version": records::schema_version(tx)?,
            "cluster_id": id,
            "tables": tables,
        }))
    })
}

/// Whether a `meta` row (key, value) belongs to one copy of the database, not to the cluster:
/// its instance, and the mark of a default cluster (an imported cluster was asked for).
fn is_copy_row(row: &[AnyValue]) -> bool {
    matches!(row.first(), Some(AnyValue::Text(key)) if key == INSTANCE_KEY || key == ORIGIN_KEY)
}

/// What an import did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Imported {
    /// The imported cluster.
    pub id: String,
    /// The default cluster nobody had used that the import took the place of
    /// ([`super::untouched_default`]); the imported cluster's own id when the document holds
    /// a cluster of that id.
    pub replaced_default: Option<String>,
}

/// Restores an export document into `home`; refuses to overwrite an existing cluster of the
/// same id unless `replace`. When the state directory's only cluster is a default cluster
/// nobody has used, the imported one takes its place (with or without `replace`).
pub fn import_cluster(home: &Home, doc: &Value, replace: bool) -> Result<Imported, FixtureError> {
    let field = |k: &str| {
        doc.get(k)
            .ok_or_else(|| FixtureError::NotAnExport(format!("no {k} field")))
    };
    if field("format")?.as_str() != Some(EXPORT_FORMAT) {
        return Err(FixtureError::NotAnExport(format!(
            "format is not {EXPORT_FORMAT:?}"
        )));
    }
    if field("version")?.as_u64() != Some(EXPORT_VERSION) {
        return Err(FixtureError::NotAnExport(format!(
            "version is not {EXPORT_VERSION}"
        )));
    }
    let found = field("schema_version")?.as_i64().unwrap_or(-1);
    if !(OLDEST_IMPORTED_SCHEMA..=SCHEMA_VERSION).contains(&found) {
        return Err(FixtureError::Schema {
            found,
            supported: SCHEMA_VERSION,
        });
    }
    let id = field("cluster_id")?
        .as_str()
        .ok_or_else(|| FixtureError::NotAnExport("cluster_id is not a string".into()))?
        .to_string();
    check_cluster_id(&id)?;
    let tables = field("tables")?
        .as_object()
        .ok_or_else(|| FixtureError::NotAnExport("tables is not an object".into()))?;
    let lock = home.lock()?;
    let default = untouched_default(home, &lock)?;
    let path = home.cluster_path(&id);
    if !path.exists() {
        // A new cluster: built in a temporary file, renamed into place once complete.
        let mut refusal = None;
        let created = Store::create(&path, |tx| {
            restore(tx, tables).map_err(|e| {
                refusal = Some(e);
                StoreError::Io(std::io::Error::other("import refused"))
            })
        });
        match (created, refusal) {
            (_, Some(e)) => return Err(e),
            (Err(e), None) => return Err(e.into()),
            (Ok(()), None) => {}
        }
        // Only once the import is in place: a kill in between leaves both clusters.
        let replaced_default = match default {
            Some(d) if retire_default(home, &lock, &d)? => Some(d),
            _ => None,
        };
        return Ok(Imported {
            id,
            replaced_default,
        });
    }
    let over_default = default.as_deref() == Some(id.as_str());
    if !replace && !over_default {
        return Err(FixtureError::Exists { id });
    }
    // An existing cluster (only a cluster database of ours is ever replaced) is rebuilt in
    // place, in one transaction: a document that cannot be restored, or a kill, leaves it
    // as it was; the imported database is a new instance, so that no login of the old one
    // holds on it. Without `replace` it must still be a default nobody has used when the
    // transaction starts.
    let mut cluster = Cluster::open(home, &id)?;
    cluster.store.rebuild(
        |tx| {
            if replace || untouched(tx)? {
                Ok(())
            } else {
                Err(FixtureError::Exists { id: id.clone() })
            }
        },
        |tx, ()| restore(tx, tables),
    )?;
    Ok(Imported {
        id: id.clone(),
        replaced_default: over_default.then_some(id),
    })
}

/// Writes the rows of `tables` over a freshly created schema: triggers are dropped while the
/// rows go in exactly as exported (stamps and counters included), then recreated.
pub(super) fn restore(tx: &Tx<'_>, tables: &Map<String, Value>) -> Result<(), FixtureError> {
    let triggers = records::triggers(tx)?;
    for (name, _) in &triggers {
        records::drop_trigger(tx, name)?;
    }
    let mut names = records::table_names(tx)?;
    if let Some(unknown) = tables.keys().find(|t| !names.contains(t)) {
        return Err(FixtureError::NotAnExport(format!(
            "unknown table {unknown}"
        )));
    }
    // The AUTOINCREMENT counters last: inserting users moves them.
    names.sort_by_key(|n| n == "sqlite_sequence");
    for table in names {
        records::clear_table(tx, &table)?;
        // Runtime rows are never imported (exports of older versions held tokens).
        if RUNTIME_TABLES.contains(&table.as_str()) {
            continue;
        }
        let Some(rows) = tables.get(&table) else {
            if table == "sqlite_sequence" || ADDED_TABLES.contains(&table.as_str()) {
                continue;
            }
            return Err(FixtureError::NotAnExport(format!("no table {table}")));
        };
        let declared = records::table_columns(tx, &table)?;
        for (i, row) in rows.as_array().into_iter().flatten().enumerate() {
            let at = format!("table {table}, row {}", i + 1);
            let row = row
                .as_object()
                .ok_or_else(|| FixtureError::NotAnExport(format!("{at} is not an object")))?;
            // An imported cluster is one asked for, whatever the document says.
            if table == "meta" && row.get("key").and_then(Value::as_str) == Some(ORIGIN_KEY) {
                continue;
            }
            let mut columns = Vec::new();
            let mut values = Vec::new();
            for (column, value) in row {
                let Some((_, ty)) = declared.iter().find(|(n, _)| n == column) else {
                    return Err(FixtureError::NotAnExport(format!(
                        "{at}: unknown column {column}"
                    )));
                };
                values.push(decode(value, ty, &format!("{at}, column {column}"))?);
                columns.push(column.clone());
            }
            records::insert_row(tx, &table, &columns, values)?;
        }
    }
    for (_, sql) in &triggers {
        records::create_trigger(tx, sql)?;
    }
    Ok(())
}

/// What a seed step did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Seeded {
    /// It did not exist and was made.
    Created,
    /// It existed and was changed (a password reset, shares added, a value set).
    Updated,
    /// It existed as the seed says: nothing changed.
    Kept,
}

impl Seeded {
    /// As the seed report prints it.
    pub fn as_str(self) -> &'static str {
        match self {
            Seeded::Created => "created",
            Seeded::Updated => "updated",
            Seeded::Kept => "kept",
        }
    }
}

/// A key a seed already made: its reference and the users it is shared with.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SeededKey {
    /// The key reference (of the private half, for a pair).
    pub reference: u64,
    /// The users it is shared with.
    pub shared: Vec<String>,
}

impl Cluster {
    /// Seeds a user: creates it, or when it exists keeps it, setting its password first when
    /// `reset` and the stored hash does not already match `password`. A user of another role
    /// is an error, never changed.
    pub(crate) fn seed_user(
        &mut self,
        username: &str,
        role: Role,
        password: &str,
        reset: bool,
        entropy: &mut Entropy,
    ) -> Result<Seeded, FixtureError> {
        let name = Username::parse(username)?;
        let user = match self.store.read(|tx| records::user(tx, &name))? {
            Some(user) => user,
            None => match self.insert_user(&name, role, password, entropy, |_| Ok(())) {
                Ok(_) => return Ok(Seeded::Created),
                // Created meanwhile by a command of another process: kept, as if it had
                // been there first.
                Err(HsmError::UserExists) => self
                    .store
                    .read(|tx| records::user(tx, &name))?
                    .ok_or(HsmError::UserExists)?,
                Err(e) => return Err(e.into()),
            },
        };
        if user.role != role.as_str() {
            return Err(FixtureError::RoleMismatch {
                username: name.into_string(),
                found: user.role,
                wanted: role.as_str().to_string(),
            });
        }
        let matches = user
            .password_hash
            .as_deref()
            .is_some_and(|h| verify_password(password, h));
        if !reset || matches {
            return Ok(Seeded::Kept);
        }
        check_password(password)?;
        let hash = hash_password(password, self.settings.kdf, entropy)?;
        self.store
            .write(|tx| Ok::<_, FixtureError>(records::set_password(tx, &name, &hash)?))?;
        Ok(Seeded::Updated)
    }

    /// The token key `owner` owns of `key_type` and `class` labelled `label`: the identity of
    /// a seeded key (the secret key, or the private half of a pair).
    pub(crate) fn seeded_key(
        &mut self,
        owner: &str,
        key_type: KeyType,
        class: KeyClass,
        label: &str,
    ) -> Result<Option<SeededKey>, FixtureError> {
        self.store.read(|tx| {
            let found = records::visible_keys(
                tx,
                records::Visible {
                    username: Some(owner),
                    label: Some(label),
                    reference: None,
                },
                None,
            )?
            .into_iter()
            .map(|(_stamp, k)| k)
            .find(|k| {
                k.owner == owner && k.key_type == key_type.as_str() && k.class == class.as_str()
            });
            match found {
                None => Ok(None),
                Some(k) => Ok(Some(SeededKey {
                    reference: k.reference as u64,
                    shared: records::key_shares(tx, k.reference)?,
                })),
            }
        })
    }

    /// Whether the secret key `reference` holds exactly `bytes` (a seed's `material_hex`).
    pub(crate) fn secret_material_is(
        &mut self,
        reference: u64,
        bytes: &[u8],
    ) -> Result<bool, FixtureError> {
        let blob = self
            .store
            .read(|tx| records::key_material(tx, reference as i64))?
            .ok_or_else(|| HsmError::Corrupt {
                id: self.settings.id.clone(),
                detail: format!("key {reference:#x} vanished"),
            })?;
        Ok(match KeyMaterial::from_blob(&blob) {
            Ok(KeyMaterial::Secret(secret)) => secret.bytes() == bytes,
            _ => false,
        })
    }

    /// Seeds a token key (or pair) of `owner`, a crypto user, as `key generate-*` would make
    /// it for that user's login; with `material`, a secret key of those bytes (see
    /// `Cluster::store_secret`). No login is involved: the seed is the state directory's
    /// owner writing fixtures.
    pub(crate) fn seed_key(
        &mut self,
        owner: &Username,
        request: &GenerateRequest,
        material: Option<Vec<u8>>,
        entropy: &Entropy,
    ) -> Result<Vec<Key>, FixtureError> {
        let actor = Actor {
            username: owner.clone(),
            role: Role::CryptoUser,
        };
        let mut none = SessionKeys::default();
        Ok(match material {
            Some(bytes) => self.store_secret(&actor, request, bytes, &mut none)?,
            None => self.make_keys(&actor, request, entropy, &mut none)?,
        })
    }

    /// Seeds the quorum value of `service`, as `quorum token-sign set-quorum-value` sets it
    /// without asking for an approval.
    pub(crate) fn seed_quorum_value(
        &mut self,
        service: &str,
        value: u64,
    ) -> Result<(), FixtureError> {
        let service =
            Service::parse(service).ok_or(HsmError::from(QuorumError::NotAQuorumService))?;
        Ok(self.write_quorum_value(service, value, |_| Ok(()))?)
    }

    /// Seeds the token timeouts, as `quorum token-sign set-timeout` sets them.
    pub(crate) fn seed_token_timeouts(
        &mut self,
        generated: Option<u64>,
        approved: Option<u64>,
    ) -> Result<(), FixtureError> {
        Ok(self.write_token_timeouts(generated, approved)?)
    }

    /// Shares a seeded key of `owner` with each of `users` it is not shared with yet; returns
    /// the users added.
    pub(crate) fn seed_shares(
        &mut self,
        owner: &Username,
        key: &SeededKey,
        users: &[String],
    ) -> Result<Vec<String>, FixtureError> {
        let actor = Actor {
            username: owner.clone(),
            role: Role::CryptoUser,
        };
        self.store.write(|tx| {
            let mut added = Vec::new();
            for user in users {
                let user = Username::parse(user)?.into_string();
                if key.shared.contains(&user) || added.contains(&user) {
                    continue;
                }
                check_share_target(tx, &actor, &user)?;
                records::add_key_share(tx, key.reference as i64, &user)?;
                added.push(user);
            }
            Ok::<_, FixtureError>(added)
        })
    }
}
