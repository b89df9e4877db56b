//! `cloudhsm-sim install [--prefix DIR] [--uninstall]`: lays out what the AWS CloudHSM client
//! SDK installs and applications name by path (`/opt/cloudhsm/lib/libcloudhsm_pkcs11.so`, the
//! vendor header, the tools), as symbolic links to this build, so that code and
//! configuration written for the real SDK run unchanged against the simulation.
//!
//! The build is the directory of the running `cloudhsm-sim` executable (cargo puts the
//! module and every binary of the workspace there). The header is compiled into this program,
//! so no source tree is needed. What install made is recognised without a record of it: a
//! symbolic link to a file of the expected name in a directory holding `cloudhsm-sim` (or to
//! one that is gone: a removed build), and a header that says it is cloudhsm-sim's.
//! Anything else at one of these paths is the user's: install refuses to replace it and
//! uninstall leaves it.

use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};

use serde_json::json;

use super::{print_json, ControlError};

/// The vendor header applications compile against (pkcs11/include/).
const HEADER: &str = include_str!("../../pkcs11/include/cloudhsm_pkcs11_vendor_defs.h");
/// What marks a header as ours (any version of it): a phrase of its opening comment.
const HEADER_MARK: &str = "built against cloudhsm-sim's libcloudhsm_pkcs11.so";
/// The module's file name, next to the executables of a build.
const MODULE: &str = "libcloudhsm_pkcs11.so";

/// `cloudhsm-sim install`
#[derive(Debug, clap::Args)]
pub struct Install {
    /// The directory to lay the SDK out in
    #[arg(long, value_name = "DIR", default_value = "/opt/cloudhsm")]
    pub prefix: PathBuf,
    /// Remove what install made there (and nothing else)
    #[arg(long)]
    pub uninstall: bool,
}

/// Why install or uninstall stopped.
#[derive(Debug, thiserror::Error)]
pub enum InstallError {
    #[error("cannot find the running cloudhsm-sim executable: {0}")]
    NoExecutable(std::io::Error),
    #[error("{path} is missing: build it next to cloudhsm-sim first ({hint})", path = .path.display())]
    MissingBuild { path: PathBuf, hint: &'static str },
    #[error("refusing to replace {path}: cloudhsm-sim install did not make it (move it away, or choose another --prefix)", path = .path.display())]
    Foreign { path: PathBuf },
    #[error("{path}: {source}", path = .path.display())]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
}

fn io(path: &Path) -> impl FnOnce(std::io::Error) -> InstallError + '_ {
    move |source| InstallError::Io {
        path: path.to_path_buf(),
        source,
    }
}

/// What one path of the layout is.
#[derive(Debug, Clone, Copy)]
enum Source {
    /// A symbolic link to this file of the build.
    Build(&'static str),
    /// The vendor header, written from [`HEADER`].
    Header,
}

/// The layout, relative to the prefix: the real SDK's paths on Linux.
const LAYOUT: &[(&str, Source)] = &[
    ("lib/libcloudhsm_pkcs11.so", Source::Build(MODULE)),
    (
        "include/pkcs11/cloudhsm_pkcs11_vendor_defs.h",
        Source::Header,
    ),
    ("bin/cloudhsm-cli", Source::Build("cloudhsm-cli")),
    ("bin/configure-cli", Source::Build("configure-cli")),
    ("bin/configure-pkcs11", Source::Build("configure-pkcs11")),
];

/// The directories of the layout, deepest first (uninstall removes them when empty).
const DIRECTORIES: &[&str] = &["include/pkcs11", "include", "lib", "bin"];

/// What is at a path of the layout now.
#[derive(Debug, PartialEq, Eq)]
enum Found {
    Nothing,
    /// Made by cloudhsm-sim install (this build or another).
    Ours,
    /// Anything else: the user's.
    Foreign,
}

fn found(path: &Path, source: Source) -> Result<Found, InstallError> {
    let meta = match fs::symlink_metadata(path) {
        Ok(meta) => meta,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Found::Nothing),
        Err(e) => return Err(io(path)(e)),
    };
    let ours = match source {
        Source::Build(name) if meta.file_type().is_symlink() => {
            let target = fs::read_link(path).map_err(io(path))?;
            let target = path.parent().unwrap_or(Path::new("/")).join(target);
            target.file_name().is_some_and(|n| n == name)
                && (target.with_file_name("cloudhsm-sim").is_file()
                    || fs::symlink_metadata(&target).is_err())
        }
        Source::Header if meta.is_file() => {
            // Read only the opening comment: a large foreign file is not read whole.
            let mut head = [0u8; 1024];
            let n = fs::File::open(path)
                .and_then(|mut f| std::io::Read::read(&mut f, &mut head))
                .map_err(io(path))?;
            String::from_utf8_lossy(&head[..n]).contains(HEADER_MARK)
        }
        _ => false,
    };
    Ok(if ours { Found::Ours } else { Found::Foreign })
}

/// The build to link to: the directory of the running executable, with the module and the
/// binaries in it.
fn build_dir() -> Result<PathBuf, InstallError> {
    let exe = std::env::current_exe()
        .and_then(|exe| exe.canonicalize())
        .map_err(InstallError::NoExecutable)?;
    let dir = exe.parent().unwrap_or(Path::new("/")).to_path_buf();
    for (_, source) in LAYOUT {
        if let Source::Build(name) = source {
            let path = dir.join(name);
            if !path.is_file() {
                let hint = if *name == MODULE {
                    "cargo build --release -p cloudhsm-pkcs11, or without --release for a debug build"
                } else {
                    "cargo build --release, or without --release for a debug build"
                };
                return Err(InstallError::MissingBuild { path, hint });
            }
        }
    }
    Ok(dir)
}

/// Runs `cloudhsm-sim install`.
pub fn run(args: &Install, out: &mut dyn Write) -> Result<(), ControlError> {
    if args.uninstall {
        uninstall(&args.prefix, out)
    } else {
        install(&args.prefix, out)
    }
}

fn install(prefix: &Path, out: &mut dyn Write) -> Result<(), ControlError> {
    let build = build_dir()?;
    // Every path is checked before anything changes: a refusal leaves the prefix as it was.
    for (relative, source) in LAYOUT {
        let path = prefix.join(relative);
        if found(&path, *source)? == Found::Foreign {
            return Err(InstallError::Foreign { path }.into());
        }
    }
    let mut installed = Vec::new();
    for (relative, source) in LAYOUT {
        let path = prefix.join(relative);
        if let Some(dir) = path.parent() {
            fs::create_dir_all(dir).map_err(io(dir))?;
        }
        match source {
            Source::Build(name) => {
                let target = build.join(name);
                replace_with(&path, |tmp| std::os::unix::fs::symlink(&target, tmp))?;
                installed.push(json!({ "path": path, "link-to": target }));
            }
            Source::Header => {
                replace_with(&path, |tmp| {
                    use std::os::unix::fs::OpenOptionsExt;
                    let mut file = fs::OpenOptions::new()
                        .write(true)
                        .create_new(true)
                        .mode(0o644)
                        .open(tmp)?;
                    file.write_all(HEADER.as_bytes())?;
                    file.sync_all()
                })?;
                installed.push(json!({ "path": path }));
            }
        }
    }
    print_json(out, &json!({ "prefix": prefix, "installed": installed }))
}

/// Puts what `make` creates at a temporary path beside `path` in place of `path`, in one
/// rename: a reader sees the old entry or the new one, never none.
fn replace_with(
    path: &Path,
    make: impl FnOnce(&Path) -> std::io::Result<()>,
) -> Result<(), InstallError> {
    let name = path.file_name().unwrap_or_default().to_string_lossy();
    let tmp = path.with_file_name(format!(".{name}.cloudhsm-sim-{}", std::process::id()));
    let _ = fs::remove_file(&tmp);
    let result = make(&tmp).and_then(|()| fs::rename(&tmp, path));
    if result.is_err() {
        let _ = fs::remove_file(&tmp);
    }
    result.map_err(io(path))
}

fn uninstall(prefix: &Path, out: &mut dyn Write) -> Result<(), ControlError> {
    let mut removed = Vec::new();
    let mut kept = Vec::new();
    for (relative, source) in LAYOUT {
        let path = prefix.join(relative);
        match found(&path, *source)? {
            Found::Nothing => {}
            Found::Ours => {
                fs::remove_file(&path).map_err(io(&path))?;
                removed.push(path);
            }
            Found::Foreign => kept.push(json!({
                "path": path,
                "reason": "not made by cloudhsm-sim install",
            })),
        }
    }
    // The layout's directories go when nothing is left in them.
    for dir in DIRECTORIES {
        let _ = fs::remove_dir(prefix.join(dir));
    }
    let mut report = json!({ "prefix": prefix, "removed": removed });
    if !kept.is_empty() {
        report["kept"] = kept.into();
    }
    print_json(out, &report)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_embedded_header_carries_its_mark_where_it_is_looked_for() {
        let head = &HEADER.as_bytes()[..1024.min(HEADER.len())];
        assert!(String::from_utf8_lossy(head).contains(HEADER_MARK));
    }
}
