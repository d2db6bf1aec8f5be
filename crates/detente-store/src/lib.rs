//! SQLite implementation of the node's store: [`SqliteStore`], a [`Store`] in one file.
//!
//! # Durability and sharing
//!
//! [`SqliteStore::open`] creates the file if absent, runs the embedded migrations
//! (`migrations/sqlite`, under a write lock so that two processes opening a new file at
//! once don't both create the schema) and sets, on every connection:
//!
//! - `journal_mode = WAL`: readers never block the writer, nor the writer readers;
//! - `synchronous = FULL`: the WAL is synced at every commit, so an append that has
//!   returned survives SIGKILL and power loss (`NORMAL` would only survive the former);
//! - `foreign_keys = ON`;
//! - `busy_timeout = 5 s`: a CLI process and a server process can share the file; a
//!   writer waits for the other's transaction to end.
//!
//! # Transactions
//!
//! [`Store::append`] is one transaction started with `BEGIN IMMEDIATE`, which takes the
//! database's write lock before reading anything: the log's size is read, compared with
//! the expected size ([`StoreError::Conflict`]), the entries, the checkpoint and the new
//! size are written, and the transaction commits. No other writer, in this process or another, can interleave between the
//! read and the writes. Appends through one [`SqliteStore`] (and its clones) are also
//! queued on an in-process lock, so they wait on each other without SQLite's
//! sleep-and-retry busy handler. Any error rolls the transaction back before the
//! connection goes back to the pool (and sqlx rolls back a transaction that is dropped,
//! e.g. when the caller's future is cancelled).
//!
//! The semantics of each call, including which error an invalid append gets and what an
//! append of no entries does when a checkpoint is already stored at that size, are the
//! [`MemoryStore`](detente_node::memory_store::MemoryStore)'s: its module docs describe
//! them, and both stores share the validation code.
//!
//! # Schema
//!
//! See `migrations/sqlite/0001_logs.sql` (then `0002_users.sql`,
//! `0003_acknowledgements.sql`, and `0004_revision.sql`: a one-row counter that triggers
//! bump whenever a log's size changes or a cosignature is inserted, which
//! [`Store::revision`] reads). Logs are numbered (`logs.id`) so that entries
//! and checkpoints carry an integer, not the origin string. `entries` is `WITHOUT ROWID`
//! (clustered on `(log_id, idx)`), with a covering index `(log_id, idx, leaf_hash)` so
//! that [`Store::leaf_hashes`] reads 45 bytes a row rather than whole entries. Entries
//! are inserted with multi-row `INSERT`s of power-of-two sizes (at most
//! [`MAX_ROWS_PER_INSERT`] rows), so only a handful of distinct statements are ever
//! prepared and they stay in sqlx's statement cache.
//!
//! What is read back is checked: a leaf hash that is not 32 bytes, a gap in the indices
//! or a negative number is reported as [`StoreError::Backend`] naming the origin and the
//! index (the file was corrupted or written by something else).
//!
//! # A PostgreSQL implementation
//!
//! It would implement the same trait with the same checks, and run the same conformance
//! suite (`tests/conformance.rs`), with a `migrations/postgres` directory and these
//! differences:
//!
//! - types: `BIGINT` for sizes, indices and timestamps, `BYTEA` for leaf hashes and
//!   entries, `BIGINT GENERATED ALWAYS AS IDENTITY` (or `BIGSERIAL`) for `logs.id` and
//!   `equivocations.id`; `TEXT` compared with `COLLATE "C"` so that `ORDER BY origin`
//!   is byte order, as here and in the memory store; no `WITHOUT ROWID` (a plain primary
//!   key; the covering index becomes `(log_id, idx) INCLUDE (leaf_hash)`);
//! - placeholders `$1, $2, …` instead of `?`;
//! - locking: no `BEGIN IMMEDIATE`. An append runs `INSERT INTO logs (origin, size)
//!   VALUES ($1, 0) ON CONFLICT DO NOTHING`, then `SELECT id, size FROM logs WHERE origin
//!   = $1 FOR UPDATE` in a `READ COMMITTED` transaction: the row lock serialises appends
//!   to one log (and only that log), and the size read under it is the size the writes
//!   build on. The absent-log row inserted for a rejected append is rolled back with it;
//! - durability: PostgreSQL's default `synchronous_commit = on` with `fsync = on`;
//! - entries: `INSERT … SELECT * FROM UNNEST($1::bigint[], $2::bytea[], $3::bytea[])`
//!   or `COPY` instead of multi-row `VALUES`;
//! - `add_cosignature`: `INSERT … ON CONFLICT DO NOTHING`, `rows_affected() == 1`, as here.

use std::path::{Path, PathBuf};
use std::sync::{Arc, LazyLock};
use std::time::Duration;

use detente_node::store::{
    Hash, LogState, Store, StoreError, StoredAcknowledgement, StoredCheckpoint, StoredCosignature,
    StoredEntry, StoredEquivocation, StoredUser, different_checkpoint_detail, validate_append,
    validate_cosignature,
};
use sqlx::sqlite::{
    SqliteConnectOptions, SqliteConnection, SqliteJournalMode, SqlitePool, SqlitePoolOptions,
    SqliteSynchronous,
};
use sqlx::{Connection, SqliteExecutor};

/// The largest number of entries one `INSERT` statement carries (3 parameters each, far
/// below SQLite's 32,766-parameter limit).
pub const MAX_ROWS_PER_INSERT: usize = 256;

/// How long a writer waits for another process's write transaction.
pub const BUSY_TIMEOUT: Duration = Duration::from_secs(5);

/// How often opening a store is tried again while its new file is locked (20 ms apart).
const OPEN_ATTEMPTS: u32 = 250;

/// Connections in the pool: readers run in parallel (WAL); writers take turns.
const MAX_CONNECTIONS: u32 = 4;

/// Rows the SQLite worker thread may run ahead of the reader: large enough that reading
/// a million leaf hashes is not a million thread hand-offs.
const ROW_BUFFER: usize = 1024;

static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("migrations/sqlite");

/// `INSERT INTO entries … VALUES (?1, ?2, ?3, ?4), (?1, ?5, ?6, ?7), …` for 1, 2, 4, …
/// up to [`MAX_ROWS_PER_INSERT`] rows; `?1` is the log id, then index, leaf hash and
/// bytes for each row.
static INSERT_ENTRIES: LazyLock<Vec<(usize, String)>> = LazyLock::new(|| {
    let mut statements = Vec::new();
    let mut rows = MAX_ROWS_PER_INSERT;
    while rows > 0 {
        // Numbered: sqlx binds plain `?` in order, ignoring SQLite's numbering after `?1`.
        let values = (0..rows)
            .map(|row| {
                let first = 2 + 3 * row;
                format!("(?1, ?{first}, ?{}, ?{})", first + 1, first + 2)
            })
            .collect::<Vec<_>>()
            .join(", ");
        statements.push((
            rows,
            format!("INSERT INTO entries (log_id, idx, leaf_hash, bytes) VALUES {values}"),
        ));
        rows /= 2;
    }
    statements
});

/// The node's logs in an SQLite file. Clones share one connection pool.
#[derive(Debug, Clone)]
pub struct SqliteStore {
    pool: SqlitePool,
    path: Arc<PathBuf>,
    /// Queues this handle's appends (see the crate docs).
    write_lock: Arc<tokio::sync::Mutex<()>>,
}

impl SqliteStore {
    /// Opens (creating it if absent) the store in the file at `path`, and brings its
    /// schema up to date.
    pub async fn open(path: &Path) -> Result<SqliteStore, StoreError> {
        let options = SqliteConnectOptions::new()
            .filename(path)
            .create_if_missing(true)
            .journal_mode(SqliteJournalMode::Wal)
            .synchronous(SqliteSynchronous::Full)
            .foreign_keys(true)
            .busy_timeout(BUSY_TIMEOUT)
            .row_buffer_size(ROW_BUFFER);
        // Two processes creating the same new file at once: the second one's switch to
        // WAL can find the file locked (SQLITE_BUSY, code 5) without SQLite's busy handler
        // being called; it waits a little and tries again.
        let mut attempts = 0u32;
        let pool = loop {
            let connected = SqlitePoolOptions::new()
                .max_connections(MAX_CONNECTIONS)
                .connect_with(options.clone())
                .await;
            match connected {
                Ok(pool) => break pool,
                Err(sqlx::Error::Database(e))
                    if e.code()
                        .and_then(|c| c.parse::<i32>().ok())
                        .is_some_and(|c| c & 0xff == 5)
                        && attempts < OPEN_ATTEMPTS =>
                {
                    attempts += 1;
                    tokio::time::sleep(Duration::from_millis(20)).await;
                }
                Err(e) => {
                    return Err(StoreError::Backend(format!(
                        "opening SQLite store {}: {e}",
                        path.display()
                    )));
                }
            }
        };
        let store = SqliteStore {
            pool,
            path: Arc::new(path.to_owned()),
            write_lock: Arc::new(tokio::sync::Mutex::new(())),
        };
        store.migrate().await?;
        Ok(store)
    }

    /// The file this store is in.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Closes every connection (waiting for those in use to come back), so that SQLite
    /// checkpoints the WAL into the main file. Dropping the store without closing it is
    /// also safe: everything acknowledged is already durable.
    pub async fn close(self) {
        self.pool.close().await;
    }

    /// Runs the embedded migrations inside `BEGIN IMMEDIATE`, so that a second process
    /// opening the same new file waits and then finds the schema in place.
    async fn migrate(&self) -> Result<(), StoreError> {
        let error = |e: &dyn std::fmt::Display| {
            StoreError::Backend(format!(
                "migrating SQLite store {}: {e}",
                self.path.display()
            ))
        };
        let mut conn = self.pool.acquire().await.map_err(|e| error(&e))?;
        let mut tx = conn
            .begin_with("BEGIN IMMEDIATE")
            .await
            .map_err(|e| error(&e))?;
        match MIGRATOR.run(&mut *tx).await {
            Ok(()) => tx.commit().await.map_err(|e| error(&e)),
            Err(e) => {
                // The original error matters more than a failed rollback, and a dropped
                // transaction is rolled back anyway.
                let _ = tx.rollback().await;
                Err(error(&e))
            }
        }
    }

    /// A [`StoreError::Backend`] saying what failed, on which log, in which file.
    fn backend(&self, what: &str, origin: &str, error: impl std::fmt::Display) -> StoreError {
        StoreError::Backend(format!(
            "SQLite store {}: {what} of log {origin}: {error}",
            self.path.display()
        ))
    }

    /// A [`StoreError::Backend`] for something that concerns no single log.
    fn backend_global(&self, what: &str, error: impl std::fmt::Display) -> StoreError {
        StoreError::Backend(format!(
            "SQLite store {}: {what}: {error}",
            self.path.display()
        ))
    }

    async fn append_in_transaction(
        &self,
        conn: &mut SqliteConnection,
        origin: &str,
        expected_size: u64,
        entries: &[StoredEntry],
        checkpoint: &StoredCheckpoint,
    ) -> Result<(), StoreError> {
        let held: Option<(i64, i64)> = sqlx::query_as("SELECT id, size FROM logs WHERE origin = ?")
            .bind(origin)
            .fetch_optional(&mut *conn)
            .await
            .map_err(|e| self.backend("reading the size", origin, e))?;
        let actual = match held {
            Some((_, size)) => self.read_u64(size, "size", origin)?,
            None => 0,
        };
        if actual != expected_size {
            return Err(StoreError::Conflict {
                origin: origin.to_owned(),
                expected: expected_size,
                actual,
            });
        }
        let log_id = match held {
            Some((id, _)) => id,
            None => {
                sqlx::query_scalar("INSERT INTO logs (origin, size) VALUES (?, 0) RETURNING id")
                    .bind(origin)
                    .fetch_one(&mut *conn)
                    .await
                    .map_err(|e| self.backend("creating the log", origin, e))?
            }
        };
        let size = to_i64(checkpoint.size);
        if entries.is_empty() {
            let note: Option<String> =
                sqlx::query_scalar("SELECT note FROM checkpoints WHERE log_id = ? AND size = ?")
                    .bind(log_id)
                    .bind(size)
                    .fetch_optional(&mut *conn)
                    .await
                    .map_err(|e| self.backend("reading the checkpoint", origin, e))?;
            match note {
                Some(note) if note == checkpoint.note => return Ok(()),
                Some(_) => {
                    return Err(StoreError::InvalidAppend {
                        origin: origin.to_owned(),
                        detail: different_checkpoint_detail(checkpoint.size),
                    });
                }
                None => {}
            }
        } else {
            self.insert_entries(conn, origin, log_id, entries).await?;
            sqlx::query("UPDATE logs SET size = ? WHERE id = ?")
                .bind(size)
                .bind(log_id)
                .execute(&mut *conn)
                .await
                .map_err(|e| self.backend("updating the size", origin, e))?;
        }
        sqlx::query(
            "INSERT INTO checkpoints (log_id, size, note, stored_at_ms) VALUES (?, ?, ?, ?)",
        )
        .bind(log_id)
        .bind(size)
        .bind(checkpoint.note.as_str())
        .bind(checkpoint.stored_at_ms)
        .execute(&mut *conn)
        .await
        .map_err(|e| self.backend("storing the checkpoint", origin, e))?;
        Ok(())
    }

    async fn insert_entries(
        &self,
        conn: &mut SqliteConnection,
        origin: &str,
        log_id: i64,
        entries: &[StoredEntry],
    ) -> Result<(), StoreError> {
        let mut rest = entries;
        while let Some(first) = rest.first() {
            let Some((rows, sql)) = INSERT_ENTRIES.iter().find(|(rows, _)| *rows <= rest.len())
            else {
                break; // unreachable: the last statement has one row
            };
            let Some((chunk, tail)) = rest.split_at_checked(*rows) else {
                break;
            };
            let mut query = sqlx::query(sql.as_str()).bind(log_id);
            for entry in chunk {
                query = query
                    .bind(to_i64(entry.index))
                    .bind(entry.leaf_hash.as_slice())
                    .bind(entry.bytes.as_slice());
            }
            query.execute(&mut *conn).await.map_err(|e| {
                self.backend(&format!("inserting entries {}..", first.index), origin, e)
            })?;
            rest = tail;
        }
        Ok(())
    }

    /// A stored integer that must not be negative.
    fn read_u64(&self, value: i64, what: &str, origin: &str) -> Result<u64, StoreError> {
        u64::try_from(value).map_err(|_| {
            self.backend(
                "reading",
                origin,
                format_args!("{what} is negative ({value}): the file is corrupt"),
            )
        })
    }

    /// Reads `(idx, leaf_hash, …)` rows checking that the indices run from `from`
    /// without gaps and that each leaf hash has 32 bytes.
    fn check_row(
        &self,
        origin: &str,
        expected_index: u64,
        index: i64,
        leaf_hash: &[u8],
    ) -> Result<Hash, StoreError> {
        let index = self.read_u64(index, "an entry index", origin)?;
        if index != expected_index {
            return Err(self.backend(
                "reading entries",
                origin,
                format_args!(
                    "entry {expected_index} is missing (found {index} instead): the file is corrupt"
                ),
            ));
        }
        Hash::try_from(leaf_hash).map_err(|_| {
            self.backend(
                "reading entries",
                origin,
                format_args!(
                    "entry {index} has a leaf hash of {} bytes, not 32: the file is corrupt",
                    leaf_hash.len()
                ),
            )
        })
    }
}

/// `value` as an SQL integer. Values above `i64::MAX` never get here: appends and
/// cosignatures are validated first, and read ranges are clamped.
fn to_i64(value: u64) -> i64 {
    i64::try_from(value).unwrap_or(i64::MAX)
}

/// Looks up a log's id; `None` if the store has no such log.
async fn log_id<'e>(
    executor: impl SqliteExecutor<'e>,
    origin: &str,
) -> Result<Option<i64>, sqlx::Error> {
    sqlx::query_scalar("SELECT id FROM logs WHERE origin = ?")
        .bind(origin)
        .fetch_optional(executor)
        .await
}

impl Store for SqliteStore {
    async fn logs(&self) -> Result<Vec<LogState>, StoreError> {
        let rows: Vec<(String, i64, Option<String>, Option<i64>)> = sqlx::query_as(
            "SELECT l.origin, l.size, c.note, c.stored_at_ms \
             FROM logs l LEFT JOIN checkpoints c ON c.log_id = l.id AND c.size = l.size \
             ORDER BY l.origin",
        )
        .fetch_all(&self.pool)
        .await
        .map_err(|e| self.backend_global("listing the logs", e))?;
        rows.into_iter()
            .map(|(origin, size, note, stored_at_ms)| {
                let size = self.read_u64(size, "size", &origin)?;
                let checkpoint = match (note, stored_at_ms) {
                    (Some(note), Some(stored_at_ms)) => Some(StoredCheckpoint {
                        size,
                        note,
                        stored_at_ms,
                    }),
                    _ => None,
                };
                Ok(LogState {
                    origin,
                    size,
                    checkpoint,
                })
            })
            .collect()
    }

    async fn append(
        &self,
        origin: &str,
        expected_size: u64,
        entries: &[StoredEntry],
        checkpoint: &StoredCheckpoint,
    ) -> Result<(), StoreError> {
        validate_append(origin, expected_size, entries, checkpoint)?;
        let _queued = self.write_lock.lock().await;
        let mut conn = self
            .pool
            .acquire()
            .await
            .map_err(|e| self.backend("appending (getting a connection)", origin, e))?;
        let mut tx = conn
            .begin_with("BEGIN IMMEDIATE")
            .await
            .map_err(|e| self.backend("appending (BEGIN IMMEDIATE)", origin, e))?;
        let result = self
            .append_in_transaction(&mut tx, origin, expected_size, entries, checkpoint)
            .await;
        match result {
            Ok(()) => tx
                .commit()
                .await
                .map_err(|e| self.backend("appending (COMMIT)", origin, e)),
            Err(e) => {
                // Report what went wrong, not a failed rollback; if the rollback failed,
                // dropping the transaction queues another before the connection is reused.
                let _ = tx.rollback().await;
                Err(e)
            }
        }
    }

    async fn entries(
        &self,
        origin: &str,
        from: u64,
        to: u64,
    ) -> Result<Vec<StoredEntry>, StoreError> {
        if from >= to {
            return Ok(Vec::new());
        }
        let rows: Vec<(i64, Vec<u8>, Vec<u8>)> = sqlx::query_as(
            "SELECT idx, leaf_hash, bytes FROM entries \
             WHERE log_id = (SELECT id FROM logs WHERE origin = ?) AND idx >= ? AND idx < ? \
             ORDER BY idx",
        )
        .bind(origin)
        .bind(to_i64(from))
        .bind(to_i64(to))
        .fetch_all(&self.pool)
        .await
        .map_err(|e| self.backend(&format!("reading entries {from}..{to}"), origin, e))?;
        rows.into_iter()
            .zip(from..)
            .map(|((index, leaf_hash, bytes), expected)| {
                Ok(StoredEntry {
                    leaf_hash: self.check_row(origin, expected, index, &leaf_hash)?,
                    index: expected,
                    bytes,
                })
            })
            .collect()
    }

    async fn leaf_hashes(&self, origin: &str, from: u64, to: u64) -> Result<Vec<Hash>, StoreError> {
        if from >= to {
            return Ok(Vec::new());
        }
        let rows: Vec<(i64, Vec<u8>)> = sqlx::query_as(
            "SELECT idx, leaf_hash FROM entries INDEXED BY entries_leaf_hashes \
             WHERE log_id = (SELECT id FROM logs WHERE origin = ?) AND idx >= ? AND idx < ? \
             ORDER BY idx",
        )
        .bind(origin)
        .bind(to_i64(from))
        .bind(to_i64(to))
        .fetch_all(&self.pool)
        .await
        .map_err(|e| self.backend(&format!("reading leaf hashes {from}..{to}"), origin, e))?;
        rows.into_iter()
            .zip(from..)
            .map(|((index, leaf_hash), expected)| {
                self.check_row(origin, expected, index, &leaf_hash)
            })
            .collect()
    }

    async fn checkpoints(&self, origin: &str) -> Result<Vec<StoredCheckpoint>, StoreError> {
        let Some(log_id) = log_id(&self.pool, origin)
            .await
            .map_err(|e| self.backend("reading checkpoints", origin, e))?
        else {
            return Ok(Vec::new());
        };
        let rows: Vec<(i64, String, i64)> = sqlx::query_as(
            "SELECT size, note, stored_at_ms FROM checkpoints WHERE log_id = ? ORDER BY size",
        )
        .bind(log_id)
        .fetch_all(&self.pool)
        .await
        .map_err(|e| self.backend("reading checkpoints", origin, e))?;
        rows.into_iter()
            .map(|(size, note, stored_at_ms)| {
                Ok(StoredCheckpoint {
                    size: self.read_u64(size, "a checkpoint size", origin)?,
                    note,
                    stored_at_ms,
                })
            })
            .collect()
    }

    async fn add_cosignature(&self, cosignature: &StoredCosignature) -> Result<bool, StoreError> {
        validate_cosignature(cosignature)?;
        let result = sqlx::query(
            "INSERT INTO cosignatures (origin, size, cosigner, timestamp, line) \
             VALUES (?, ?, ?, ?, ?) ON CONFLICT DO NOTHING",
        )
        .bind(cosignature.origin.as_str())
        .bind(to_i64(cosignature.size))
        .bind(cosignature.cosigner.as_str())
        .bind(to_i64(cosignature.timestamp))
        .bind(cosignature.line.as_str())
        .execute(&self.pool)
        .await
        .map_err(|e| {
            self.backend(
                &format!(
                    "adding the cosignature by {} at size {}",
                    cosignature.cosigner, cosignature.size
                ),
                &cosignature.origin,
                e,
            )
        })?;
        Ok(result.rows_affected() == 1)
    }

    async fn cosignatures(&self, origin: &str) -> Result<Vec<StoredCosignature>, StoreError> {
        let rows: Vec<(i64, String, i64, String)> = sqlx::query_as(
            "SELECT size, cosigner, timestamp, line FROM cosignatures WHERE origin = ? \
             ORDER BY size, cosigner, timestamp",
        )
        .bind(origin)
        .fetch_all(&self.pool)
        .await
        .map_err(|e| self.backend("reading cosignatures", origin, e))?;
        rows.into_iter()
            .map(|(size, cosigner, timestamp, line)| {
                Ok(StoredCosignature {
                    origin: origin.to_owned(),
                    size: self.read_u64(size, "a cosignature size", origin)?,
                    cosigner,
                    timestamp: self.read_u64(timestamp, "a cosignature timestamp", origin)?,
                    line,
                })
            })
            .collect()
    }

    async fn add_equivocation(&self, equivocation: &StoredEquivocation) -> Result<(), StoreError> {
        sqlx::query(
            "INSERT INTO equivocations \
             (origin, held_note, conflicting_note, detail, detected_at_ms) \
             VALUES (?, ?, ?, ?, ?)",
        )
        .bind(equivocation.origin.as_str())
        .bind(equivocation.held_note.as_str())
        .bind(equivocation.conflicting_note.as_str())
        .bind(equivocation.detail.as_str())
        .bind(equivocation.detected_at_ms)
        .execute(&self.pool)
        .await
        .map_err(|e| self.backend("recording an equivocation", &equivocation.origin, e))?;
        Ok(())
    }

    async fn equivocations(&self) -> Result<Vec<StoredEquivocation>, StoreError> {
        let rows: Vec<(String, String, String, String, i64)> = sqlx::query_as(
            "SELECT origin, held_note, conflicting_note, detail, detected_at_ms \
             FROM equivocations ORDER BY id",
        )
        .fetch_all(&self.pool)
        .await
        .map_err(|e| self.backend_global("reading equivocations", e))?;
        Ok(rows
            .into_iter()
            .map(
                |(origin, held_note, conflicting_note, detail, detected_at_ms)| {
                    StoredEquivocation {
                        origin,
                        held_note,
                        conflicting_note,
                        detail,
                        detected_at_ms,
                    }
                },
            )
            .collect())
    }

    async fn add_user(&self, user: &StoredUser) -> Result<(), StoreError> {
        let result = sqlx::query(
            "INSERT INTO users (name, role, token_sha256, created_at_ms) VALUES (?, ?, ?, ?)",
        )
        .bind(user.name.as_str())
        .bind(user.role.as_str())
        .bind(user.token_sha256.as_str())
        .bind(user.created_at_ms)
        .execute(&self.pool)
        .await;
        match result {
            Ok(_) => Ok(()),
            Err(sqlx::Error::Database(e)) if e.is_unique_violation() => {
                Err(StoreError::Exists(format!("user `{}`", user.name)))
            }
            Err(e) => Err(self.backend_global("adding a user", e)),
        }
    }

    async fn users(&self) -> Result<Vec<StoredUser>, StoreError> {
        let rows: Vec<(String, String, String, i64)> = sqlx::query_as(
            "SELECT name, role, token_sha256, created_at_ms FROM users ORDER BY name",
        )
        .fetch_all(&self.pool)
        .await
        .map_err(|e| self.backend_global("reading users", e))?;
        Ok(rows
            .into_iter()
            .map(|(name, role, token_sha256, created_at_ms)| StoredUser {
                name,
                role,
                token_sha256,
                created_at_ms,
            })
            .collect())
    }

    async fn remove_user(&self, name: &str) -> Result<bool, StoreError> {
        let done = sqlx::query("DELETE FROM users WHERE name = ?")
            .bind(name)
            .execute(&self.pool)
            .await
            .map_err(|e| self.backend_global("removing a user", e))?;
        Ok(done.rows_affected() > 0)
    }

    async fn add_acknowledgement(
        &self,
        acknowledgement: &StoredAcknowledgement,
    ) -> Result<bool, StoreError> {
        let done = sqlx::query(
            "INSERT INTO acknowledgements (party, notification_id, operator, acknowledged_at_ms) \
             VALUES (?, ?, ?, ?) ON CONFLICT DO NOTHING",
        )
        .bind(acknowledgement.party.as_str())
        .bind(acknowledgement.notification_id.as_str())
        .bind(acknowledgement.operator.as_str())
        .bind(acknowledgement.acknowledged_at_ms)
        .execute(&self.pool)
        .await
        .map_err(|e| {
            self.backend_global(
                &format!(
                    "acknowledging notification `{}` of {}",
                    acknowledgement.notification_id, acknowledgement.party
                ),
                e,
            )
        })?;
        Ok(done.rows_affected() == 1)
    }

    async fn revision(&self) -> Result<u64, StoreError> {
        let n: i64 = sqlx::query_scalar("SELECT n FROM revision WHERE id = 1")
            .fetch_one(&self.pool)
            .await
            .map_err(|e| self.backend_global("reading the revision", e))?;
        Ok(u64::try_from(n).unwrap_or(0))
    }

    async fn acknowledgements(&self) -> Result<Vec<StoredAcknowledgement>, StoreError> {
        let rows: Vec<(String, String, String, i64)> = sqlx::query_as(
            "SELECT party, notification_id, operator, acknowledged_at_ms FROM acknowledgements \
             ORDER BY party, notification_id",
        )
        .fetch_all(&self.pool)
        .await
        .map_err(|e| self.backend_global("reading acknowledgements", e))?;
        Ok(rows
            .into_iter()
            .map(
                |(party, notification_id, operator, acknowledged_at_ms)| StoredAcknowledgement {
                    party,
                    notification_id,
                    operator,
                    acknowledged_at_ms,
                },
            )
            .collect())
    }
}
