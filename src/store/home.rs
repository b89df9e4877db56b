//! The state directory: where cluster databases live, and the lock that serialises creating
//! and removing them.

use std::fs::{self, DirBuilder, File, OpenOptions};
use std::os::unix::fs::{DirBuilderExt, OpenOptionsExt};
use std::path::{Path, PathBuf};

use super::db::is_temporary;
use super::StoreError;

const CLUSTERS: &str = "clusters";
const BACKUPS: &str = "backups";
const DB_EXTENSION: &str = "db";
const CONFIG: &str = "cloudhsm-cli.cfg";
/// Where the CLI configuration is written before it is renamed into place; only the holder
/// of the lock writes it.
const CONFIG_TMP: &str = ".cloudhsm-cli.cfg.tmp";

/// Whether `id` has the form of a cluster id: `cluster-` and lowercase letters and digits.
pub fn valid_cluster_id(id: &str) -> bool {
    let body = id.strip_prefix("cluster-").unwrap_or_default();
    !body.is_empty()
        && id.len() <= 64
        && body
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit())
}

/// Whether `id` has the form of a backup id: `backup-` and lowercase letters and digits.
pub fn valid_backup_id(id: &str) -> bool {
    let body = id.strip_prefix("backup-").unwrap_or_default();
    !body.is_empty()
        && id.len() <= 64
        && body
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit())
}

/// A file of `clusters/` that is not a cluster: reported, never used, never fatal.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Stray {
    pub path: PathBuf,
    /// Why it is not a cluster.
    pub reason: &'static str,
}

/// The state directory (`$CLOUDHSM_SIM_HOME`, else `$XDG_DATA_HOME/cloudhsm-sim`, else
/// `~/.local/share/cloudhsm-sim`), created 0700 on first use.
#[derive(Debug, Clone)]
pub struct Home {
    root: PathBuf,
}

/// The state directory's exclusive lock, held while clusters are created, a cluster is
/// imported, a seed runs or the CLI configuration changes; released on drop.
#[derive(Debug)]
pub struct HomeLock {
    _file: File,
}

impl Home {
    /// Resolves the state directory from the environment (`var` looks a variable up), once,
    /// when a process starts: a relative `CLOUDHSM_SIM_HOME` (or `HOME`) is taken relative to
    /// the working directory at that moment, and the process uses that absolute path
    /// whatever directory it is in later. A relative `XDG_DATA_HOME` is ignored, as the XDG
    /// Base Directory specification says.
    pub fn resolve(var: impl Fn(&str) -> Option<String>) -> Option<PathBuf> {
        let cwd = std::env::current_dir().ok();
        Home::resolve_in(var, cwd.as_deref())
    }

    /// [`Home::resolve`] with the working directory `cwd` (`None`: unknown, when it was
    /// removed; a relative path then stays relative and fails where it is used).
    pub fn resolve_in(var: impl Fn(&str) -> Option<String>, cwd: Option<&Path>) -> Option<PathBuf> {
        let non_empty = |name: &str| var(name).filter(|v| !v.is_empty());
        let absolute = |dir: String| {
            let dir = PathBuf::from(dir);
            match cwd {
                Some(cwd) if dir.is_relative() => cwd
                    .join(&dir)
                    .components()
                    .filter(|c| *c != std::path::Component::CurDir)
                    .collect(),
                _ => dir,
            }
        };
        if let Some(dir) = non_empty("CLOUDHSM_SIM_HOME") {
            return Some(absolute(dir));
        }
        if let Some(dir) = non_empty("XDG_DATA_HOME").filter(|d| Path::new(d).is_absolute()) {
            return Some(PathBuf::from(dir).join("cloudhsm-sim"));
        }
        non_empty("HOME").map(|h| absolute(h).join(".local/share/cloudhsm-sim"))
    }

    /// Opens (creating if needed, mode 0700) the state directory at `root`. A `root` that is
    /// a symbolic link is refused: the state holds key material and password hashes. One
    /// that others may read or enter is made private (0700), or refused when it cannot be.
    pub fn open(root: PathBuf) -> Result<Home, StoreError> {
        let dir_err = |source| StoreError::Directory {
            path: root.clone(),
            source,
        };
        match fs::symlink_metadata(&root) {
            Ok(meta) if meta.file_type().is_symlink() => {
                return Err(StoreError::Symlink { path: root });
            }
            Ok(meta) if !meta.is_dir() => {
                return Err(dir_err(std::io::Error::new(
                    std::io::ErrorKind::NotADirectory,
                    "not a directory",
                )));
            }
            Ok(meta) => make_private(&root, &meta)?,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                DirBuilder::new()
                    .recursive(true)
                    .mode(0o700)
                    .create(&root)
                    .map_err(dir_err)?;
            }
            Err(e) => return Err(dir_err(e)),
        }
        private_dir(&root.join(CLUSTERS))?;
        Ok(Home { root })
    }

    /// The state directory itself.
    pub fn root(&self) -> &Path {
        &self.root
    }

    /// The interactive shell's history file.
    pub fn history_path(&self) -> PathBuf {
        self.root.join("history")
    }

    /// The database file of cluster `id` (which may not exist).
    pub fn cluster_path(&self, id: &str) -> PathBuf {
        self.root
            .join(CLUSTERS)
            .join(format!("{id}.{DB_EXTENSION}"))
    }

    /// The directory of backups (`backups/`), created 0700 when absent.
    pub fn backups_dir(&self) -> Result<PathBuf, StoreError> {
        let dir = self.root.join(BACKUPS);
        private_dir(&dir)?;
        Ok(dir)
    }

    /// The file of backup `id` (which may not exist).
    pub fn backup_path(&self, id: &str) -> PathBuf {
        self.root.join(BACKUPS).join(format!("{id}.json"))
    }

    /// The ids of the backups in this state directory, sorted: the files of `backups/` named
    /// `<backup id>.json` (temporary files being written are skipped).
    pub fn backup_ids(&self) -> Result<Vec<String>, StoreError> {
        let dir = self.root.join(BACKUPS);
        let entries = match fs::read_dir(&dir) {
            Ok(entries) => entries,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
            Err(source) => return Err(StoreError::Directory { path: dir, source }),
        };
        let mut ids = Vec::new();
        for entry in entries {
            let name = entry?.file_name();
            let name = name.to_string_lossy();
            if let Some(stem) = name
                .strip_suffix(".json")
                .filter(|stem| valid_backup_id(stem))
            {
                ids.push(stem.to_string());
            }
        }
        ids.sort();
        Ok(ids)
    }

    /// The ids of the clusters in this state directory, sorted: the files of `clusters/`
    /// named `<cluster id>.db`. Anything else there is a [`Stray`] ([`Home::strays`]), which
    /// no command uses.
    pub fn cluster_ids(&self) -> Result<Vec<String>, StoreError> {
        Ok(self.scan()?.0)
    }

    /// The files of `clusters/` that are not clusters (and not SQLite's own companions of a
    /// cluster database, nor a database being built), sorted.
    pub fn strays(&self) -> Result<Vec<Stray>, StoreError> {
        Ok(self.scan()?.1)
    }

    fn scan(&self) -> Result<(Vec<String>, Vec<Stray>), StoreError> {
        let dir = self.root.join(CLUSTERS);
        let mut ids = Vec::new();
        let mut strays = Vec::new();
        for entry in fs::read_dir(&dir).map_err(|source| StoreError::Directory {
            path: dir.clone(),
            source,
        })? {
            let path = entry?.path();
            let name = path.file_name().unwrap_or_default().to_string_lossy();
            if is_temporary(&name) {
                // Left by a process that died: removed under the lock.
                continue;
            }
            let companion = ["-wal", "-shm", "-journal"]
                .iter()
                .find_map(|s| name.strip_suffix(s));
            if companion.is_some_and(|base| base.ends_with(".db")) {
                continue;
            }
            // A file named after a cluster is that cluster, damaged or not: using it says
            // what is wrong with it, and it is never silently replaced by a new cluster.
            match name
                .strip_suffix(".db")
                .filter(|stem| valid_cluster_id(stem))
            {
                Some(stem) => ids.push(stem.to_string()),
                None => strays.push(Stray {
                    path,
                    reason: "not named <cluster id>.db",
                }),
            }
        }
        ids.sort();
        strays.sort_by(|a, b| a.path.cmp(&b.path));
        Ok((ids, strays))
    }

    /// Takes the exclusive lock that serialises creating clusters, importing, seeding and
    /// changing the CLI configuration, so that two processes starting on an empty state
    /// directory create one default cluster, not two. Whatever a process that died while
    /// holding it was building (a temporary database) is removed: nobody else builds one
    /// without the lock.
    pub fn lock(&self) -> Result<HomeLock, StoreError> {
        let path = self.root.join("lock");
        let file = OpenOptions::new()
            .read(true)
            .write(true)
            .create(true)
            .truncate(false)
            .mode(0o600)
            .open(&path)?;
        file.lock()?;
        self.remove_orphans();
        Ok(HomeLock { _file: file })
    }

    /// Whether `name` is SQLite's companion (`-wal`, `-shm`, `-journal`) of a cluster
    /// database that is no longer there (a process died while removing it). Only a lock
    /// holder puts a database at a path, so under the lock such a file belongs to nobody; it
    /// must go before a database of that name is made again, which would read it as its own.
    fn is_stray_companion(&self, name: &str) -> bool {
        ["-wal", "-shm", "-journal"]
            .iter()
            .find_map(|s| name.strip_suffix(s))
            .is_some_and(|base| {
                base.ends_with(".db")
                    && fs::symlink_metadata(self.root.join(CLUSTERS).join(base)).is_err()
            })
    }

    /// Removes the temporary files of processes that died while holding the lock (best
    /// effort: one that cannot be removed is tried again next time).
    fn remove_orphans(&self) {
        // A backup being written when its process died: `.<backup id>.json.tmp-…`.
        if let Ok(entries) = fs::read_dir(self.root.join(BACKUPS)) {
            for entry in entries.flatten() {
                let name = entry.file_name();
                if name.to_string_lossy().starts_with(".backup-") {
                    let _ = fs::remove_file(entry.path());
                }
            }
        }
        let dirs = [(self.root.join(CLUSTERS), true), (self.root.clone(), false)];
        for (dir, databases) in dirs {
            let Ok(entries) = fs::read_dir(&dir) else {
                continue;
            };
            for entry in entries.flatten() {
                let name = entry.file_name();
                let name = name.to_string_lossy();
                let orphan = if databases {
                    is_temporary(&name) || self.is_stray_companion(&name)
                } else {
                    // The configurations' temporary files, and the names of older versions.
                    name == CONFIG_TMP
                        || name.starts_with("cloudhsm-cli.cfg.tmp")
                        || name.starts_with(&format!(".{}.tmp-", super::pkcs11_config::FILE))
                };
                if orphan {
                    let _ = fs::remove_file(entry.path());
                }
            }
        }
    }
}

/// Makes the directory `path` (whose metadata is `meta`) private to its owner, if others may
/// read, write or enter it.
/// A directory of the state directory (`clusters/`, `backups/`): made private if it exists,
/// created 0700 if it does not.
fn private_dir(dir: &Path) -> Result<(), StoreError> {
    match fs::symlink_metadata(dir) {
        Ok(meta) if meta.is_dir() => make_private(dir, &meta),
        _ => DirBuilder::new()
            .recursive(true)
            .mode(0o700)
            .create(dir)
            .map_err(|source| StoreError::Directory {
                path: dir.to_path_buf(),
                source,
            }),
    }
}

fn make_private(path: &Path, meta: &fs::Metadata) -> Result<(), StoreError> {
    use std::os::unix::fs::PermissionsExt;
    let mode = meta.permissions().mode();
    if mode & 0o077 == 0 {
        return Ok(());
    }
    fs::set_permissions(path, fs::Permissions::from_mode(mode & 0o700 | 0o700)).map_err(|e| {
        StoreError::Directory {
            path: path.to_path_buf(),
            source: std::io::Error::new(
                e.kind(),
                format!(
                    "other users may use it (mode {:o}) and it cannot be made private: {e}",
                    mode & 0o777
                ),
            ),
        }
    })
}

/// Writes `bytes` to `path` through a 0600 temporary file (uniquely named beside it) renamed
/// into place: whatever was at `path` (a file, a symbolic link, a FIFO) is replaced, never
/// written through.
pub fn write_private(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    use rand_core::RngCore;
    use std::io::Write;
    let mut nonce = [0u8; 8];
    rand_core::OsRng
        .try_fill_bytes(&mut nonce)
        .map_err(std::io::Error::other)?;
    let name = path.file_name().unwrap_or_default().to_string_lossy();
    let tmp = path.with_file_name(format!(
        ".{name}.tmp-{}-{:016x}",
        std::process::id(),
        u64::from_le_bytes(nonce)
    ));
    let result = (|| {
        let mut file = OpenOptions::new()
            .write(true)
            .create_new(true)
            .mode(0o600)
            .open(&tmp)?;
        file.write_all(bytes)?;
        file.sync_all()?;
        fs::rename(&tmp, path)
    })();
    if result.is_err() {
        let _ = fs::remove_file(&tmp);
    }
    result
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::PermissionsExt;

    #[test]
    fn resolution_order() {
        let env = |pairs: &'static [(&'static str, &'static str)]| {
            move |k: &str| {
                pairs
                    .iter()
                    .find(|(n, _)| *n == k)
                    .map(|(_, v)| v.to_string())
            }
        };
        assert_eq!(
            Home::resolve(env(&[("CLOUDHSM_SIM_HOME", "/a"), ("HOME", "/h")])),
            Some(PathBuf::from("/a"))
        );
        assert_eq!(
            Home::resolve(env(&[("XDG_DATA_HOME", "/x"), ("HOME", "/h")])),
            Some(PathBuf::from("/x/cloudhsm-sim"))
        );
        assert_eq!(
            Home::resolve(env(&[("HOME", "/h")])),
            Some(PathBuf::from("/h/.local/share/cloudhsm-sim"))
        );
        assert_eq!(Home::resolve(env(&[])), None);
    }

    #[test]
    fn a_relative_state_directory_is_made_absolute_once() {
        let env = |pairs: &'static [(&'static str, &'static str)]| {
            move |k: &str| {
                pairs
                    .iter()
                    .find(|(n, _)| *n == k)
                    .map(|(_, v)| v.to_string())
            }
        };
        let cwd = Some(Path::new("/work/job"));
        for (given, resolved) in [
            ("state", "/work/job/state"),
            ("./state", "/work/job/state"),
            ("./a/./b/", "/work/job/a/b"),
            (".", "/work/job"),
            // `..` stays: removing it by hand would be wrong when `job` is a symbolic link.
            ("../shared", "/work/job/../shared"),
            ("/abs/state", "/abs/state"),
        ] {
            let var = move |k: &str| (k == "CLOUDHSM_SIM_HOME").then(|| given.to_string());
            assert_eq!(
                Home::resolve_in(var, cwd),
                Some(PathBuf::from(resolved)),
                "{given}"
            );
        }
        // A relative XDG_DATA_HOME is invalid (XDG Base Directory specification): ignored.
        assert_eq!(
            Home::resolve_in(env(&[("XDG_DATA_HOME", "data"), ("HOME", "/h")]), cwd),
            Some(PathBuf::from("/h/.local/share/cloudhsm-sim"))
        );
        // Without a working directory (it was removed) a relative path stays as given.
        assert_eq!(
            Home::resolve_in(env(&[("CLOUDHSM_SIM_HOME", "state")]), None),
            Some(PathBuf::from("state"))
        );
    }

    #[test]
    fn the_lock_removes_companions_of_databases_that_are_gone() {
        let dir = tempfile::tempdir().unwrap();
        let home = Home::open(dir.path().join("state")).unwrap();
        let clusters = dir.path().join("state/clusters");
        for name in [
            "cluster-gone.db-wal",
            "cluster-gone.db-shm",
            "cluster-here.db",
            "cluster-here.db-wal",
            "notes-wal",
        ] {
            fs::write(clusters.join(name), b"x").unwrap();
        }
        drop(home.lock().unwrap());
        let mut left: Vec<String> = fs::read_dir(&clusters)
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        left.sort();
        assert_eq!(
            left,
            ["cluster-here.db", "cluster-here.db-wal", "notes-wal"]
        );
    }

    #[test]
    fn created_private_and_symlink_refused() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path().join("state");
        let home = Home::open(root.clone()).unwrap();
        let mode = fs::metadata(home.root()).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o700);
        let link = dir.path().join("link");
        std::os::unix::fs::symlink(&root, &link).unwrap();
        assert!(matches!(Home::open(link), Err(StoreError::Symlink { .. })));
    }
}

/// What `configure-cli` recorded for the CLI (`$CLOUDHSM_SIM_HOME/cloudhsm-cli.cfg`, JSON).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct CliConfig {
    /// `--enable-key-availability-check` / `--disable-key-availability-check`.
    #[serde(rename = "key-availability-check", default = "yes")]
    pub key_availability_check: bool,
    /// Clusters added with `configure-cli add-cluster` or `--cluster-id`.
    #[serde(default)]
    pub clusters: Vec<String>,
    /// Settings accepted and recorded without effect on the simulation.
    #[serde(default)]
    pub recorded: std::collections::BTreeMap<String, String>,
}

fn yes() -> bool {
    true
}

impl Default for CliConfig {
    fn default() -> Self {
        CliConfig {
            key_availability_check: true,
            clusters: Vec::new(),
            recorded: Default::default(),
        }
    }
}

impl Home {
    fn config_path(&self) -> PathBuf {
        self.root.join(CONFIG)
    }

    /// The CLI configuration; the default when there is none (or it cannot be read).
    pub fn cli_config(&self) -> CliConfig {
        self.read_cli_config().unwrap_or_default()
    }

    /// The CLI configuration; the default when there is none, an error when the file
    /// cannot be read or parsed.
    fn read_cli_config(&self) -> Result<CliConfig, StoreError> {
        let path = self.config_path();
        let bytes = match fs::read(&path) {
            Ok(bytes) => bytes,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(CliConfig::default()),
            Err(e) => {
                return Err(StoreError::Config {
                    path,
                    detail: e.to_string(),
                })
            }
        };
        serde_json::from_slice(&bytes).map_err(|e| StoreError::Config {
            path,
            detail: e.to_string(),
        })
    }

    /// Changes the CLI configuration under the state directory's lock (`_lock` proves it is
    /// held): reads it, applies `change` and writes it back atomically (0600), so that no
    /// change of a concurrent `configure-cli` is lost. A configuration that exists but
    /// cannot be read is an error, never overwritten.
    pub fn update_cli_config<T>(
        &self,
        _lock: &HomeLock,
        change: impl FnOnce(&mut CliConfig) -> T,
    ) -> Result<T, StoreError> {
        let mut config = self.read_cli_config()?;
        let value = change(&mut config);
        let tmp = self.root.join(CONFIG_TMP);
        let text = serde_json::to_vec_pretty(&config).map_err(std::io::Error::other)?;
        let written = (|| {
            use std::io::Write;
            let mut f = OpenOptions::new()
                .write(true)
                .create(true)
                .truncate(true)
                .mode(0o600)
                .custom_flags(libc::O_NOFOLLOW)
                .open(&tmp)?;
            f.write_all(&text)?;
            f.sync_all()?;
            fs::rename(&tmp, self.config_path())
        })();
        if written.is_err() {
            let _ = fs::remove_file(&tmp);
        }
        written?;
        Ok(value)
    }
}
