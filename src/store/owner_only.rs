//! The SQLite database file is created readable by its owner only (mode 0600,
//! docs/security.md L8) before SQLite opens it: SQLite gives the `-wal` and
//! `-shm` files it creates beside it the database file's own mode, so they are
//! 0600 too. A file that already exists keeps its mode.

use super::StoreError;

/// Creates `path` empty with mode 0600 unless it exists (SQLite then opens an
/// empty file as a new database).
pub fn create_owner_only(path: &str) -> Result<(), StoreError> {
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    match options.open(path) {
        Ok(_) => Ok(()),
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => Ok(()),
        Err(e) => Err(StoreError::Unavailable(format!(
            "cannot create the database file {path}: {e}"
        ))),
    }
}
