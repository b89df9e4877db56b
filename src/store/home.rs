//! The state directory: where cluster databases live, and the lock that serialises creating
//! and removing them.

use std::fs::{self, DirBuilder, File, OpenOptions};
use std::os::unix::fs::{DirBuilderExt, OpenOptionsExt};
use std::path::{Path, PathBuf};

use super::StoreError;

const CLUSTERS: &str = "clusters";
const DB_EXTENSION: &str = "db";

/// The state directory (`$CLOUDHSM_SIM_HOME`, else `$XDG_DATA_HOME/cloudhsm-sim`, else
/// `~/.local/share/cloudhsm-sim`), created 0700 on first use.
#[derive(Debug, Clone)]
pub struct Home {
    root: PathBuf,
}

/// Held while clusters are created or removed; released on drop.
#[derive(Debug)]
pub struct HomeLock {
    _file: File,
}

impl Home {
    /// Resolves the state directory from the environment (`var` looks a variable up).
    pub fn resolve(var: impl Fn(&str) -> Option<String>) -> Option<PathBuf> {
        let non_empty = |name: &str| var(name).filter(|v| !v.is_empty());
        if let Some(dir) = non_empty("CLOUDHSM_SIM_HOME") {
            return Some(PathBuf::from(dir));
        }
        if let Some(dir) = non_empty("XDG_DATA_HOME") {
            return Some(PathBuf::from(dir).join("cloudhsm-sim"));
        }
        non_empty("HOME").map(|h| PathBuf::from(h).join(".local/share/cloudhsm-sim"))
    }

    /// Opens (creating if needed, mode 0700) the state directory at `root`. A `root` that is
    /// a symbolic link is refused: the state holds key material and password hashes.
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
            Ok(_) => {}
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                DirBuilder::new()
                    .recursive(true)
                    .mode(0o700)
                    .create(&root)
                    .map_err(dir_err)?;
            }
            Err(e) => return Err(dir_err(e)),
        }
        let clusters = root.join(CLUSTERS);
        if !clusters.is_dir() {
            DirBuilder::new()
                .recursive(true)
                .mode(0o700)
                .create(&clusters)
                .map_err(|source| StoreError::Directory {
                    path: clusters.clone(),
                    source,
                })?;
        }
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

    /// The ids of the clusters in this state directory, sorted.
    pub fn cluster_ids(&self) -> Result<Vec<String>, StoreError> {
        let dir = self.root.join(CLUSTERS);
        let mut ids = Vec::new();
        for entry in fs::read_dir(&dir).map_err(|source| StoreError::Directory {
            path: dir.clone(),
            source,
        })? {
            let path = entry?.path();
            if path.extension().and_then(|e| e.to_str()) == Some(DB_EXTENSION) {
                if let Some(stem) = path.file_stem().and_then(|s| s.to_str()) {
                    ids.push(stem.to_string());
                }
            }
        }
        ids.sort();
        Ok(ids)
    }

    /// Takes the exclusive lock that serialises creating and removing clusters, so that two
    /// processes starting on an empty state directory create one default cluster, not two.
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
        Ok(HomeLock { _file: file })
    }

    /// Deletes cluster `id`'s database and its WAL files. Call with the lock held.
    pub fn remove_cluster(&self, id: &str) -> Result<(), StoreError> {
        let path = self.cluster_path(id);
        fs::remove_file(&path)?;
        for suffix in ["-wal", "-shm"] {
            let mut p = path.clone().into_os_string();
            p.push(suffix);
            match fs::remove_file(PathBuf::from(p)) {
                Err(e) if e.kind() != std::io::ErrorKind::NotFound => return Err(e.into()),
                _ => {}
            }
        }
        Ok(())
    }
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
        self.root.join("cloudhsm-cli.cfg")
    }

    /// The CLI configuration; the default when there is none (or it cannot be read).
    pub fn cli_config(&self) -> CliConfig {
        fs::read(self.config_path())
            .ok()
            .and_then(|b| serde_json::from_slice(&b).ok())
            .unwrap_or_default()
    }

    /// Writes the CLI configuration (atomically, 0600).
    pub fn save_cli_config(&self, config: &CliConfig) -> Result<(), StoreError> {
        let tmp = self
            .root
            .join(format!("cloudhsm-cli.cfg.tmp{}", std::process::id()));
        let text = serde_json::to_vec_pretty(config).map_err(std::io::Error::other)?;
        {
            use std::io::Write;
            let mut f = OpenOptions::new()
                .write(true)
                .create(true)
                .truncate(true)
                .mode(0o600)
                .open(&tmp)?;
            f.write_all(&text)?;
            f.sync_all()?;
        }
        fs::rename(&tmp, self.config_path())?;
        Ok(())
    }
}
