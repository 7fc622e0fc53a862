//! The one way the CLI writes a file that can hold a secret (exports, transfer invites,
//! session files, frames, replies): a temporary file next to the target, created exclusively
//! (`O_CREAT | O_EXCL | O_NOFOLLOW`, mode 0600 from the start), written and synced, then renamed
//! over the target, and the folder synced. So the secret is never in a file another user can
//! read — not even an existing world-readable target, which is replaced rather than rewritten —
//! a symlink at the target is replaced, never followed, and a crash leaves the old file or the
//! new one, never half of it.

use std::io::Write;
use std::path::{Path, PathBuf};

use crate::error::{CliError, CliResult};

fn temp_name(path: &Path, attempt: u32) -> PathBuf {
    let mut r = [0u8; 8];
    let _ = twofold_core::crypto::RandomSource::fill(
        &twofold_core::crypto::SystemRandom::new(),
        &mut r,
    );
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let hex: String = r.iter().map(|b| format!("{b:02x}")).collect();
    path.with_file_name(format!(".{name}.{hex}{attempt}.tmp"))
}

fn open_exclusive(path: &Path) -> std::io::Result<std::fs::File> {
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600).custom_flags(libc::O_NOFOLLOW);
    }
    options.open(path)
}

/// Writes `bytes` to `path`, readable by its owner only (0600 on Unix), atomically; creates the
/// folder if needed.
pub fn write_private(path: &Path, bytes: &[u8]) -> CliResult {
    let fail = |e: std::io::Error| CliError::failed(format!("{}: {e}", path.display()));
    if path.file_name().is_none() {
        return Err(CliError::invalid(format!(
            "{}: not a file name",
            path.display()
        )));
    }
    let dir = path
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .map(Path::to_path_buf);
    if let Some(d) = &dir {
        std::fs::create_dir_all(d)
            .map_err(|e| CliError::failed(format!("{}: {e}", d.display())))?;
    }
    if path.is_dir() {
        return Err(CliError::invalid(format!(
            "{}: is a folder",
            path.display()
        )));
    }
    let (tmp, mut file) = {
        let mut attempt = 0;
        loop {
            let tmp = temp_name(path, attempt);
            match open_exclusive(&tmp) {
                Ok(f) => break (tmp, f),
                Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists && attempt < 8 => {
                    attempt += 1;
                }
                Err(e) => return Err(fail(e)),
            }
        }
    };
    let written = file
        .write_all(bytes)
        .and_then(|()| file.sync_all())
        .and_then(|()| {
            drop(file);
            std::fs::rename(&tmp, path)
        });
    if let Err(e) = written {
        let _ = std::fs::remove_file(&tmp);
        return Err(fail(e));
    }
    #[cfg(unix)]
    if let Ok(d) = std::fs::File::open(dir.as_deref().unwrap_or(Path::new("."))) {
        let _ = d.sync_all();
    }
    Ok(())
}

#[cfg(all(test, unix))]
mod tests {
    use super::*;
    use std::os::unix::fs::PermissionsExt;

    fn mode(p: &Path) -> u32 {
        std::fs::symlink_metadata(p)
            .expect("the file was just written")
            .permissions()
            .mode()
            & 0o777
    }

    #[test]
    fn an_existing_world_readable_file_is_replaced_by_a_private_one() {
        let dir = tempfile::tempdir().unwrap();
        let target = dir.path().join("export.txt");
        std::fs::write(&target, "old").unwrap();
        std::fs::set_permissions(&target, std::fs::Permissions::from_mode(0o644)).unwrap();
        write_private(&target, b"secret").unwrap();
        assert_eq!(mode(&target), 0o600);
        assert_eq!(std::fs::read(&target).unwrap(), b"secret");
        let left: Vec<_> = std::fs::read_dir(dir.path()).unwrap().collect();
        assert_eq!(left.len(), 1, "no temporary file left behind");
    }

    #[test]
    fn a_symlink_target_is_replaced_not_followed() {
        let dir = tempfile::tempdir().unwrap();
        let victim = dir.path().join("victim");
        std::fs::write(&victim, "do not touch").unwrap();
        std::fs::set_permissions(&victim, std::fs::Permissions::from_mode(0o644)).unwrap();
        let link = dir.path().join("out.txt");
        std::os::unix::fs::symlink(&victim, &link).unwrap();
        write_private(&link, b"secret").unwrap();
        assert_eq!(std::fs::read(&victim).unwrap(), b"do not touch");
        assert!(
            !std::fs::symlink_metadata(&link)
                .unwrap()
                .file_type()
                .is_symlink()
        );
        assert_eq!(mode(&link), 0o600);
        assert_eq!(std::fs::read(&link).unwrap(), b"secret");
    }

    #[test]
    fn a_planted_symlink_at_the_temporary_name_is_never_opened() {
        let dir = tempfile::tempdir().unwrap();
        let victim = dir.path().join("victim");
        std::fs::write(&victim, "x").unwrap();
        let planted = dir.path().join("planted");
        std::os::unix::fs::symlink(&victim, &planted).unwrap();
        assert_eq!(
            open_exclusive(&planted).unwrap_err().kind(),
            std::io::ErrorKind::AlreadyExists
        );
        assert_eq!(std::fs::read(&victim).unwrap(), b"x");
    }

    #[test]
    fn a_folder_is_not_overwritten() {
        let dir = tempfile::tempdir().unwrap();
        assert!(write_private(dir.path(), b"x").is_err());
    }
}
