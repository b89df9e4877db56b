//! What `configure-pkcs11` recorded for the PKCS#11 module: `$CLOUDHSM_SIM_HOME/pkcs11.json`
//! (JSON, 0600, written atomically under the state directory's lock). The module reads it with
//! [`load`] when it initialises; `configure-pkcs11` changes it with [`update`].
//!
//! The real library keeps these settings in `/opt/cloudhsm/etc/cloudhsm-pkcs11.cfg`; the
//! emulator keeps them beside its clusters so that one state directory is one installation.

use std::collections::BTreeMap;
use std::fs;
use std::path::PathBuf;

use super::home::write_private;
use super::{Home, HomeLock, StoreError};

/// The file name, in the state directory.
pub const FILE: &str = "pkcs11.json";

/// The PKCS#11 library's configuration. A setting absent from the file has its default, the
/// real library's (spec pkcs11.md §1.6).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "kebab-case")]
pub struct Pkcs11Config {
    /// `--enable-/--disable-key-availability-check` (default enabled): a token key is used
    /// only when at least two HSMs hold it.
    #[serde(default = "yes")]
    pub key_availability_check: bool,
    /// `--enable-/--disable-validate-key-at-init` (default enabled): key permission errors
    /// surface at `C_*Init` rather than at the later call.
    #[serde(default = "yes")]
    pub validate_key_at_init: bool,
    /// `--enable-ecdh-without-kdf` (default disabled): `CKM_ECDH1_DERIVE` with `CKD_NULL`.
    #[serde(default)]
    pub ecdh_without_kdf: bool,
    /// `--enable-/--disable-certificate-storage` (default disabled): `CKO_CERTIFICATE`
    /// objects on hsm2m.medium clusters.
    #[serde(default)]
    pub certificate_storage: bool,
    /// The clusters of `configure-pkcs11 add-cluster` / `--cluster-id`, one slot each, in
    /// slot order. Empty: none configured.
    #[serde(default)]
    pub clusters: Vec<String>,
    /// Settings accepted and recorded without effect on the simulation (addresses,
    /// certificates, logging, retries), by option name.
    #[serde(default)]
    pub recorded: BTreeMap<String, String>,
}

fn yes() -> bool {
    true
}

impl Default for Pkcs11Config {
    fn default() -> Self {
        Pkcs11Config {
            key_availability_check: true,
            validate_key_at_init: true,
            ecdh_without_kdf: false,
            certificate_storage: false,
            clusters: Vec::new(),
            recorded: BTreeMap::new(),
        }
    }
}

fn path(home: &Home) -> PathBuf {
    home.root().join(FILE)
}

/// The PKCS#11 configuration of `home`: the default when there is none; an error when the
/// file cannot be read or is not a configuration (never silently the default).
pub fn load(home: &Home) -> Result<Pkcs11Config, StoreError> {
    let path = path(home);
    let bytes = match fs::read(&path) {
        Ok(bytes) => bytes,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Pkcs11Config::default()),
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

/// Writes `config` as `home`'s PKCS#11 configuration: a 0600 file renamed into place, under
/// the state directory's lock (`_lock` proves it is held).
pub fn save(home: &Home, _lock: &HomeLock, config: &Pkcs11Config) -> Result<(), StoreError> {
    let text = serde_json::to_vec_pretty(config).map_err(std::io::Error::other)?;
    write_private(&path(home), &text)?;
    Ok(())
}

/// Reads the configuration, applies `change` and writes it back, all under the lock, so that
/// no change of a concurrent `configure-pkcs11` is lost. A file that cannot be read is an
/// error, never overwritten.
pub fn update<T>(
    home: &Home,
    lock: &HomeLock,
    change: impl FnOnce(&mut Pkcs11Config) -> T,
) -> Result<T, StoreError> {
    let mut config = load(home)?;
    let value = change(&mut config);
    save(home, lock, &config)?;
    Ok(value)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::PermissionsExt;

    #[test]
    fn absent_is_the_default_and_a_saved_file_is_private() {
        let dir = tempfile::tempdir().unwrap();
        let home = Home::open(dir.path().join("state")).unwrap();
        assert_eq!(load(&home).unwrap(), Pkcs11Config::default());
        let lock = home.lock().unwrap();
        let config = update(&home, &lock, |c| {
            c.ecdh_without_kdf = true;
            c.clusters.push("cluster-abc".into());
            c.clone()
        })
        .unwrap();
        assert_eq!(load(&home).unwrap(), config);
        let mode = fs::metadata(path(&home)).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o600);
    }

    #[test]
    fn missing_settings_take_their_defaults_and_damage_is_an_error() {
        let dir = tempfile::tempdir().unwrap();
        let home = Home::open(dir.path().join("state")).unwrap();
        fs::write(path(&home), br#"{"certificate-storage": true}"#).unwrap();
        let config = load(&home).unwrap();
        assert!(config.certificate_storage && config.key_availability_check);
        assert!(config.validate_key_at_init && !config.ecdh_without_kdf);
        fs::write(path(&home), b"{not json").unwrap();
        assert!(matches!(load(&home), Err(StoreError::Config { .. })));
        let lock = home.lock().unwrap();
        assert!(update(&home, &lock, |_| ()).is_err());
        assert_eq!(fs::read(path(&home)).unwrap(), b"{not json");
    }
}
