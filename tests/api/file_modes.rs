//! The files of a SQLite installation (docs/security.md L8, DESIGN "Limits"):
//! the database, its `-wal` and `-shm`, and the key file beside it are created
//! readable by their owner only; and a command that finds keys sealed in the
//! database but no key file refuses to start, naming it, and creates none.
//! SQLite only, on every run: these are the files of a SQLite database.

use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

/// `behalf` on the SQLite file `db`, with no key configured: the key file decides.
fn behalf(db: &Path) -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_behalf"));
    command
        .env("BEHALF_DATABASE_URL", format!("sqlite://{}", db.display()))
        .env_remove("BEHALF_KEY_ENCRYPTION_KEY")
        .env("BEHALF_LISTEN", "127.0.0.1:0");
    command
}

fn run(db: &Path, args: &[&str]) -> Output {
    behalf(db).args(args).output().expect("the binary runs")
}

fn mode(path: &Path) -> u32 {
    std::fs::metadata(path)
        .unwrap_or_else(|e| panic!("{}: {e}", path.display()))
        .permissions()
        .mode()
        & 0o777
}

fn beside(db: &Path, suffix: &str) -> PathBuf {
    PathBuf::from(format!("{}{suffix}", db.display()))
}

#[test]
fn a_fresh_sqlite_database_its_wal_shm_and_key_file_are_readable_by_their_owner_only() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("behalf.db");
    let migrated = run(&db, &["migrate"]);
    assert!(
        migrated.status.success(),
        "{}",
        String::from_utf8_lossy(&migrated.stderr)
    );
    assert_eq!(mode(&db), 0o600, "behalf.db");
    assert_eq!(mode(&beside(&db, ".kek")), 0o600, "behalf.db.kek");

    // The server holds the database open: SQLite creates -wal and -shm beside it.
    let mut server = behalf(&db)
        .arg("serve")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let (wal, shm) = (beside(&db, "-wal"), beside(&db, "-shm"));
    let deadline = Instant::now() + Duration::from_secs(20);
    while !(wal.exists() && shm.exists()) && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(50));
    }
    let modes = (
        wal.exists().then(|| mode(&wal)),
        shm.exists().then(|| mode(&shm)),
    );
    server.kill().unwrap();
    server.wait().unwrap();
    assert_eq!(
        modes,
        (Some(0o600), Some(0o600)),
        "behalf.db-wal, behalf.db-shm"
    );
    assert_eq!(mode(&db), 0o600, "behalf.db after serving");
}

#[test]
fn a_missing_key_file_beside_a_database_with_sealed_keys_stops_every_command_and_none_is_created() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("behalf.db");
    let kek = beside(&db, ".kek");
    // First start: the key file is made and the signing keys are sealed under it.
    let listed = run(&db, &["keys", "list"]);
    assert!(
        listed.status.success(),
        "{}",
        String::from_utf8_lossy(&listed.stderr)
    );
    assert!(kek.exists());
    std::fs::remove_file(&kek).unwrap();

    for args in [
        &["migrate"][..],
        &["keys", "list"],
        &["audit", "verify"],
        &["user", "disable", "nobody"],
        &["serve"],
    ] {
        let mut child = behalf(&db)
            .args(args)
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let deadline = Instant::now() + Duration::from_secs(20);
        while child.try_wait().unwrap().is_none() && Instant::now() < deadline {
            std::thread::sleep(Duration::from_millis(50));
        }
        if child.try_wait().unwrap().is_none() {
            child.kill().unwrap();
        }
        let out = child.wait_with_output().unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(!out.status.success(), "{args:?} started: {stderr}");
        assert!(
            stderr.contains(&format!("key file {} is missing", kek.display())),
            "{args:?}: {stderr}"
        );
        assert!(!kek.exists(), "{args:?} created a key file");
    }
}
