#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]
//! One conformance suite for every `Store`: each `check_*` function runs against the
//! `MemoryStore` and against a `SqliteStore` in a temporary directory. Tests that only
//! make sense for a file (reopening, two handles, corruption) follow, then a property
//! test that random operations leave both stores in the same observable state.

use std::path::Path;

use detente_node::memory_store::MemoryStore;
use detente_node::store::{
    Hash, LogState, Store, StoreError, StoredCheckpoint, StoredCosignature, StoredEntry,
    StoredEquivocation,
};
use detente_store::SqliteStore;

// ---------------------------------------------------------------------------------------
// Helpers

fn leaf_hash(origin: &str, index: u64) -> Hash {
    let mut hash = [0u8; 32];
    for (i, byte) in origin.bytes().chain(index.to_le_bytes()).enumerate() {
        hash[i % 32] ^= byte.wrapping_add(u8::try_from(i % 251).unwrap());
    }
    hash
}

fn entry(origin: &str, index: u64) -> StoredEntry {
    StoredEntry {
        index,
        leaf_hash: leaf_hash(origin, index),
        // Lengths vary, including empty.
        bytes: format!("{origin}#{index};")
            .into_bytes()
            .repeat(usize::try_from(index % 4).unwrap()),
    }
}

fn entries(origin: &str, from: u64, to: u64) -> Vec<StoredEntry> {
    (from..to).map(|index| entry(origin, index)).collect()
}

fn checkpoint(origin: &str, size: u64) -> StoredCheckpoint {
    StoredCheckpoint {
        size,
        note: format!("{origin}\n{size}\nroot\n\n— {origin} sig{size}\n"),
        stored_at_ms: 1_700_000_000_000 + i64::try_from(size % 1_000_000).unwrap(),
    }
}

/// Appends `from..to` to `origin` with the matching checkpoint.
async fn append<S: Store>(store: &S, origin: &str, from: u64, to: u64) -> Result<(), StoreError> {
    store
        .append(
            origin,
            from,
            &entries(origin, from, to),
            &checkpoint(origin, to),
        )
        .await
}

fn cosignature(origin: &str, size: u64, cosigner: &str, timestamp: u64) -> StoredCosignature {
    StoredCosignature {
        origin: origin.to_owned(),
        size,
        cosigner: cosigner.to_owned(),
        timestamp,
        line: format!("— {cosigner} {size}/{timestamp}"),
    }
}

fn equivocation(origin: &str, n: i64) -> StoredEquivocation {
    StoredEquivocation {
        origin: origin.to_owned(),
        held_note: format!("held {n}"),
        conflicting_note: format!("conflicting {n}"),
        detail: format!("root differs at size {n}"),
        detected_at_ms: 1000 - n,
    }
}

fn assert_invalid(result: Result<(), StoreError>, needle: &str) {
    match result {
        Err(StoreError::InvalidAppend { detail, .. }) => {
            assert!(
                detail.contains(needle),
                "{detail:?} should mention {needle:?}"
            );
        }
        other => panic!("expected InvalidAppend ({needle}), got {other:?}"),
    }
}

/// Everything a caller can observe about `origins` in a store.
#[derive(Debug, PartialEq)]
struct Observed {
    logs: Vec<LogState>,
    per_origin: Vec<ObservedLog>,
    equivocations: Vec<StoredEquivocation>,
}

#[derive(Debug, PartialEq)]
struct ObservedLog {
    entries: Vec<StoredEntry>,
    leaf_hashes: Vec<Hash>,
    checkpoints: Vec<StoredCheckpoint>,
    cosignatures: Vec<StoredCosignature>,
}

async fn observe<S: Store>(store: &S, origins: &[&str]) -> Observed {
    let mut per_origin = Vec::new();
    for origin in origins {
        per_origin.push(ObservedLog {
            entries: store.entries(origin, 0, u64::MAX).await.unwrap(),
            leaf_hashes: store.leaf_hashes(origin, 0, u64::MAX).await.unwrap(),
            checkpoints: store.checkpoints(origin).await.unwrap(),
            cosignatures: store.cosignatures(origin).await.unwrap(),
        });
    }
    Observed {
        logs: store.logs().await.unwrap(),
        per_origin,
        equivocations: store.equivocations().await.unwrap(),
    }
}

async fn open_sqlite(path: &Path) -> SqliteStore {
    SqliteStore::open(path).await.unwrap()
}

// ---------------------------------------------------------------------------------------
// The checks every store must pass

async fn check_append_and_read_back<S: Store>(store: S) {
    let o = "detente/t/a";
    append(&store, o, 0, 3).await.unwrap();
    append(&store, o, 3, 5).await.unwrap();
    assert_eq!(store.entries(o, 0, 5).await.unwrap(), entries(o, 0, 5));
    assert_eq!(store.entries(o, 1, 4).await.unwrap(), entries(o, 1, 4));
    assert_eq!(
        store.leaf_hashes(o, 0, 5).await.unwrap(),
        (0..5).map(|i| leaf_hash(o, i)).collect::<Vec<_>>()
    );
    assert_eq!(
        store.logs().await.unwrap(),
        vec![LogState {
            origin: o.to_owned(),
            size: 5,
            checkpoint: Some(checkpoint(o, 5)),
        }]
    );
    assert_eq!(
        store.checkpoints(o).await.unwrap(),
        vec![checkpoint(o, 3), checkpoint(o, 5)]
    );
}

async fn check_large_append<S: Store>(store: S) {
    // More than one multi-row INSERT, with a remainder of odd size.
    let o = "big";
    append(&store, o, 0, 1000).await.unwrap();
    append(&store, o, 1000, 1777).await.unwrap();
    assert_eq!(
        store.entries(o, 0, 2000).await.unwrap(),
        entries(o, 0, 1777)
    );
    assert_eq!(store.leaf_hashes(o, 900, 1100).await.unwrap().len(), 200);
}

async fn check_conflict<S: Store>(store: S) {
    let o = "detente/t/a";
    // An absent log has size 0.
    match append(&store, o, 2, 3).await {
        Err(StoreError::Conflict {
            origin,
            expected: 2,
            actual: 0,
        }) => assert_eq!(origin, o),
        other => panic!("expected a conflict, got {other:?}"),
    }
    assert_eq!(
        store.logs().await.unwrap(),
        vec![],
        "a rejected append creates no log"
    );
    append(&store, o, 0, 3).await.unwrap();
    for expected in [0, 2, 4] {
        match append(&store, o, expected, expected + 1).await {
            Err(StoreError::Conflict {
                expected: e,
                actual: 3,
                ..
            }) => assert_eq!(e, expected),
            other => panic!("expected a conflict at {expected}, got {other:?}"),
        }
    }
    // Also for an append of no entries.
    match store.append(o, 2, &[], &checkpoint(o, 2)).await {
        Err(StoreError::Conflict {
            expected: 2,
            actual: 3,
            ..
        }) => {}
        other => panic!("expected a conflict, got {other:?}"),
    }
    assert_eq!(store.entries(o, 0, 10).await.unwrap(), entries(o, 0, 3));
    assert_eq!(store.checkpoints(o).await.unwrap(), vec![checkpoint(o, 3)]);
}

async fn check_invalid_appends<S: Store>(store: S) {
    let o = "detente/t/b";
    append(&store, o, 0, 2).await.unwrap();
    // Indices not consecutive.
    let mut gap = entries(o, 2, 5);
    gap[1].index = 4;
    assert_invalid(
        store.append(o, 2, &gap, &checkpoint(o, 5)).await,
        "has index 4, expected 3",
    );
    // Indices not starting at the expected size.
    assert_invalid(
        store
            .append(o, 2, &entries(o, 3, 5), &checkpoint(o, 4))
            .await,
        "has index 3, expected 2",
    );
    // Checkpoint size is not the size after the append.
    assert_invalid(
        store
            .append(o, 2, &entries(o, 2, 4), &checkpoint(o, 5))
            .await,
        "checkpoint size 5",
    );
    // Shape is checked before the size: a malformed append at a wrong size is invalid.
    assert_invalid(
        store
            .append(o, 7, &entries(o, 7, 8), &checkpoint(o, 9))
            .await,
        "checkpoint size 9",
    );
    // An append of no entries whose checkpoint is not at the current size.
    assert_invalid(
        store.append(o, 2, &[], &checkpoint(o, 3)).await,
        "checkpoint size 3",
    );
    // Sizes that SQL cannot hold.
    assert_invalid(
        store
            .append(o, u64::MAX, &[], &checkpoint(o, u64::MAX))
            .await,
        "largest storable size",
    );
    // Nothing changed.
    assert_eq!(store.entries(o, 0, 10).await.unwrap(), entries(o, 0, 2));
    assert_eq!(store.checkpoints(o).await.unwrap(), vec![checkpoint(o, 2)]);
    // A malformed append to an absent log creates nothing.
    assert_invalid(
        store
            .append(
                "absent",
                0,
                &entries("absent", 1, 2),
                &checkpoint("absent", 1),
            )
            .await,
        "expected 0",
    );
    assert_eq!(store.logs().await.unwrap().len(), 1);
}

async fn check_empty_append_records_checkpoint<S: Store>(store: S) {
    let o = "detente/t/c";
    // An empty log with a checkpoint at size 0.
    store.append(o, 0, &[], &checkpoint(o, 0)).await.unwrap();
    assert_eq!(
        store.logs().await.unwrap(),
        vec![LogState {
            origin: o.to_owned(),
            size: 0,
            checkpoint: Some(checkpoint(o, 0)),
        }]
    );
    append(&store, o, 0, 2).await.unwrap();
    // The same note again: accepted, nothing changes (the first stored_at_ms stays).
    let mut again = checkpoint(o, 2);
    again.stored_at_ms += 99;
    store.append(o, 2, &[], &again).await.unwrap();
    assert_eq!(
        store.checkpoints(o).await.unwrap(),
        vec![checkpoint(o, 0), checkpoint(o, 2)]
    );
    // A different note at the same size: rejected, nothing is replaced.
    let mut other = checkpoint(o, 2);
    other.note.push_str("— someone else\n");
    assert_invalid(
        store.append(o, 2, &[], &other).await,
        "a different checkpoint is already stored at size 2",
    );
    assert_eq!(
        store.logs().await.unwrap()[0].checkpoint,
        Some(checkpoint(o, 2))
    );
    // An empty append to a new log at size 0 without entries, then entries on top.
    store
        .append("fresh", 0, &[], &checkpoint("fresh", 0))
        .await
        .unwrap();
    append(&store, "fresh", 0, 1).await.unwrap();
    assert_eq!(store.checkpoints("fresh").await.unwrap().len(), 2);
}

async fn check_empty_queries<S: Store>(store: S) {
    assert_eq!(store.logs().await.unwrap(), vec![]);
    assert_eq!(store.entries("none", 0, 10).await.unwrap(), vec![]);
    assert_eq!(
        store.leaf_hashes("none", 0, u64::MAX).await.unwrap(),
        Vec::<Hash>::new()
    );
    assert_eq!(store.checkpoints("none").await.unwrap(), vec![]);
    assert_eq!(store.cosignatures("none").await.unwrap(), vec![]);
    assert_eq!(store.equivocations().await.unwrap(), vec![]);
    // A log that exists but is empty.
    store
        .append("empty", 0, &[], &checkpoint("empty", 0))
        .await
        .unwrap();
    assert_eq!(store.entries("empty", 0, 10).await.unwrap(), vec![]);
    assert_eq!(
        store.leaf_hashes("empty", 0, 10).await.unwrap(),
        Vec::<Hash>::new()
    );
}

async fn check_range_clamping<S: Store>(store: S) {
    let o = "o";
    append(&store, o, 0, 10).await.unwrap();
    let hashes = |from: u64, to: u64| (from..to).map(|i| leaf_hash(o, i)).collect::<Vec<_>>();
    for (from, to, want_from, want_to) in [
        (0, 10, 0, 10),
        (0, 100, 0, 10),
        (3, u64::MAX, 3, 10),
        (7, 3, 0, 0),
        (5, 5, 0, 0),
        (10, 20, 0, 0),
        (u64::MAX, u64::MAX, 0, 0),
        (u64::MAX - 1, u64::MAX, 0, 0),
        (9, 10, 9, 10),
    ] {
        assert_eq!(
            store.entries(o, from, to).await.unwrap(),
            entries(o, want_from, want_to),
            "entries {from}..{to}"
        );
        assert_eq!(
            store.leaf_hashes(o, from, to).await.unwrap(),
            hashes(want_from, want_to),
            "leaf hashes {from}..{to}"
        );
    }
}

async fn check_orderings<S: Store>(store: S) {
    // Byte order of UTF-8, not locale order: "B" < "a" < "ä" < "z" would be wrong.
    let origins = [
        "detente/z",
        "detente/ä",
        "detente/a",
        "detente/B",
        "detente/a/b",
    ];
    for origin in origins {
        append(&store, origin, 0, 1).await.unwrap();
    }
    let mut sorted = origins.map(str::to_owned).to_vec();
    sorted.sort();
    let listed: Vec<_> = store
        .logs()
        .await
        .unwrap()
        .into_iter()
        .map(|log| log.origin)
        .collect();
    assert_eq!(listed, sorted);

    // Checkpoints by size (numerically, not as text: 9 < 10 < 100).
    let o = "detente/a";
    append(&store, o, 1, 9).await.unwrap();
    append(&store, o, 9, 10).await.unwrap();
    append(&store, o, 10, 100).await.unwrap();
    let sizes: Vec<_> = store
        .checkpoints(o)
        .await
        .unwrap()
        .into_iter()
        .map(|c| c.size)
        .collect();
    assert_eq!(sizes, vec![1, 9, 10, 100]);

    // Cosignatures by size, then cosigner, then timestamp (numerically).
    let added = [
        cosignature(o, 10, "w2", 5),
        cosignature(o, 9, "w2", 100),
        cosignature(o, 10, "w1", 20),
        cosignature(o, 9, "w2", 9),
        cosignature(o, 100, "W", 1),
        cosignature(o, 10, "w1", 3),
        cosignature("detente/z", 1, "w1", 1),
    ];
    for c in &added {
        assert!(store.add_cosignature(c).await.unwrap());
    }
    assert_eq!(
        store.cosignatures(o).await.unwrap(),
        vec![
            cosignature(o, 9, "w2", 9),
            cosignature(o, 9, "w2", 100),
            cosignature(o, 10, "w1", 3),
            cosignature(o, 10, "w1", 20),
            cosignature(o, 10, "w2", 5),
            cosignature(o, 100, "W", 1),
        ]
    );
    assert_eq!(
        store.cosignatures("detente/z").await.unwrap(),
        vec![cosignature("detente/z", 1, "w1", 1)]
    );
}

async fn check_duplicate_cosignature<S: Store>(store: S) {
    let o = "o";
    append(&store, o, 0, 1).await.unwrap();
    let first = cosignature(o, 1, "w", 7);
    assert!(store.add_cosignature(&first).await.unwrap());
    assert!(!store.add_cosignature(&first).await.unwrap());
    // Same key, different line: still a duplicate, and the first line stays.
    let mut other_line = first.clone();
    other_line.line.push_str("AAAA");
    assert!(!store.add_cosignature(&other_line).await.unwrap());
    // A new timestamp is a new cosignature.
    assert!(
        store
            .add_cosignature(&cosignature(o, 1, "w", 8))
            .await
            .unwrap()
    );
    assert_eq!(
        store.cosignatures(o).await.unwrap(),
        vec![first, cosignature(o, 1, "w", 8)]
    );
    // A cosignature on a log not (yet) held is kept too.
    assert!(
        store
            .add_cosignature(&cosignature("elsewhere", 4, "w", 1))
            .await
            .unwrap()
    );
    assert_eq!(store.cosignatures("elsewhere").await.unwrap().len(), 1);
    // Numbers SQL cannot hold are rejected.
    let too_big = cosignature(o, 1, "w", u64::MAX);
    match store.add_cosignature(&too_big).await {
        Err(StoreError::Backend(message)) => assert!(message.contains("timestamp"), "{message}"),
        other => panic!("expected a Backend error, got {other:?}"),
    }
}

async fn check_equivocations_in_order<S: Store>(store: S) {
    // Recorded order, not sorted by origin or time; duplicates are kept.
    let recorded = [
        equivocation("z", 1),
        equivocation("a", 2),
        equivocation("m", 0),
        equivocation("a", 2),
    ];
    for e in &recorded {
        store.add_equivocation(e).await.unwrap();
    }
    assert_eq!(store.equivocations().await.unwrap(), recorded.to_vec());
}

async fn check_concurrent_appends<S: Store + Clone>(store: S) {
    // Writers race for the same log; each retries on Conflict. Every entry lands exactly
    // once, in order.
    let o = "raced";
    let mut tasks = Vec::new();
    for writer in 0..4u64 {
        let store = store.clone();
        tasks.push(tokio::spawn(async move {
            let mut won = 0;
            let mut conflicts = 0;
            while won < 5 {
                let size = store
                    .logs()
                    .await
                    .unwrap()
                    .into_iter()
                    .find(|log| log.origin == o)
                    .map_or(0, |log| log.size);
                let batch = 1 + (writer + size) % 3;
                match append(&store, o, size, size + batch).await {
                    Ok(()) => won += 1,
                    Err(StoreError::Conflict { .. }) => conflicts += 1,
                    Err(e) => panic!("writer {writer}: {e}"),
                }
                tokio::task::yield_now().await;
            }
            conflicts
        }));
    }
    for task in tasks {
        task.await.unwrap();
    }
    let log = store.logs().await.unwrap().remove(0);
    assert_eq!(
        store.entries(o, 0, u64::MAX).await.unwrap(),
        entries(o, 0, log.size)
    );
    assert_eq!(store.checkpoints(o).await.unwrap().len(), 20);
    assert_eq!(log.checkpoint, Some(checkpoint(o, log.size)));
}

async fn check_users<S: Store>(store: S) {
    use detente_node::store::StoredUser;
    let user = |name: &str, role: &str, token: &str| StoredUser {
        name: name.to_owned(),
        role: role.to_owned(),
        token_sha256: token.to_owned(),
        created_at_ms: 7,
    };
    assert!(store.users().await.unwrap().is_empty());
    store.add_user(&user("zoe", "viewer", "aa")).await.unwrap();
    store.add_user(&user("ann", "admin", "bb")).await.unwrap();
    let err = store
        .add_user(&user("zoe", "admin", "cc"))
        .await
        .unwrap_err();
    assert!(matches!(err, StoreError::Exists(_)), "{err}");
    assert!(err.to_string().contains("zoe"), "{err}");
    let users = store.users().await.unwrap();
    assert_eq!(
        users.iter().map(|u| u.name.as_str()).collect::<Vec<_>>(),
        ["ann", "zoe"]
    );
    assert_eq!(users[1], user("zoe", "viewer", "aa"));
    assert!(store.remove_user("zoe").await.unwrap());
    assert!(!store.remove_user("zoe").await.unwrap());
    assert_eq!(store.users().await.unwrap().len(), 1);
}

async fn check_acknowledgements<S: Store>(store: S) {
    use detente_node::store::StoredAcknowledgement;
    let ack = |party: &str, id: &str, operator: &str, at: i64| StoredAcknowledgement {
        party: party.to_owned(),
        notification_id: id.to_owned(),
        operator: operator.to_owned(),
        acknowledged_at_ms: at,
    };
    assert!(store.acknowledgements().await.unwrap().is_empty());
    assert!(
        store
            .add_acknowledgement(&ack("USSR", "n-2", "olga", 5))
            .await
            .unwrap()
    );
    assert!(
        store
            .add_acknowledgement(&ack("USSR", "n-1", "olga", 6))
            .await
            .unwrap()
    );
    // The same notification id of another party is another notification.
    assert!(
        store
            .add_acknowledgement(&ack("GB", "n-2", "ivan", 7))
            .await
            .unwrap()
    );
    // A second acknowledgement changes nothing: the first one stands.
    assert!(
        !store
            .add_acknowledgement(&ack("USSR", "n-2", "ivan", 9))
            .await
            .unwrap()
    );
    assert_eq!(
        store.acknowledgements().await.unwrap(),
        [
            ack("GB", "n-2", "ivan", 7),
            ack("USSR", "n-1", "olga", 6),
            ack("USSR", "n-2", "olga", 5),
        ]
    );
}

async fn check_revision<S: Store>(store: S) {
    let start = store.revision().await.unwrap();
    append(&store, "a", 0, 3).await.unwrap();
    let appended = store.revision().await.unwrap();
    assert!(appended > start);
    // A checkpoint again at the same size, a refused append, operators and
    // equivocations leave the logs' contents as they were.
    store
        .append("a", 3, &[], &checkpoint("a", 3))
        .await
        .unwrap();
    assert!(append(&store, "a", 0, 1).await.is_err());
    store.add_equivocation(&equivocation("a", 1)).await.unwrap();
    assert_eq!(store.revision().await.unwrap(), appended);
    assert!(
        store
            .add_cosignature(&cosignature("a", 3, "b", 5))
            .await
            .unwrap()
    );
    let cosigned = store.revision().await.unwrap();
    assert!(cosigned > appended);
    assert!(
        !store
            .add_cosignature(&cosignature("a", 3, "b", 5))
            .await
            .unwrap()
    );
    assert_eq!(store.revision().await.unwrap(), cosigned);
    append(&store, "b", 0, 1).await.unwrap();
    assert!(store.revision().await.unwrap() > cosigned);
}

macro_rules! conformance {
    ($($check:ident),* $(,)?) => {
        mod memory {
            $(
                #[tokio::test]
                async fn $check() {
                    super::$check(super::MemoryStore::new()).await;
                }
            )*
        }
        mod sqlite {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $check() {
                    let dir = tempfile::tempdir().unwrap();
                    let store = super::open_sqlite(&dir.path().join("store.db")).await;
                    super::$check(store.clone()).await;
                    store.close().await;
                }
            )*
        }
    };
}

conformance!(
    check_users,
    check_acknowledgements,
    check_revision,
    check_append_and_read_back,
    check_large_append,
    check_conflict,
    check_invalid_appends,
    check_empty_append_records_checkpoint,
    check_empty_queries,
    check_range_clamping,
    check_orderings,
    check_duplicate_cosignature,
    check_equivocations_in_order,
    check_concurrent_appends,
);

// ---------------------------------------------------------------------------------------
// SQLite only

#[tokio::test]
async fn sqlite_persists_across_reopen() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("store.db");
    let store = open_sqlite(&path).await;
    append(&store, "a", 0, 300).await.unwrap();
    store
        .add_cosignature(&cosignature("a", 300, "w", 1))
        .await
        .unwrap();
    store.add_equivocation(&equivocation("b", 1)).await.unwrap();
    let before = observe(&store, &["a", "b"]).await;
    // Dropped without close: what was acknowledged is already durable.
    drop(store);
    let store = open_sqlite(&path).await;
    assert_eq!(observe(&store, &["a", "b"]).await, before);
    append(&store, "a", 300, 301).await.unwrap();
    store.close().await;
    // Reopening runs no migration twice.
    let store = open_sqlite(&path).await;
    assert_eq!(store.logs().await.unwrap()[0].size, 301);
    store.close().await;
}

#[tokio::test]
async fn sqlite_file_is_wal_and_created_if_absent() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("new.db");
    assert!(!path.exists());
    let store = open_sqlite(&path).await;
    assert!(path.exists());
    assert_eq!(store.path(), path);
    store.close().await;
    use sqlx::Connection;
    let mut conn = sqlx::SqliteConnection::connect(&format!("sqlite://{}", path.display()))
        .await
        .unwrap();
    let mode: String = sqlx::query_scalar("PRAGMA journal_mode")
        .fetch_one(&mut conn)
        .await
        .unwrap();
    assert_eq!(mode, "wal");
}

#[tokio::test]
async fn sqlite_open_reports_the_path() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("no/such/dir/store.db");
    match SqliteStore::open(&path).await {
        Err(StoreError::Backend(message)) => {
            assert!(message.contains("no/such/dir/store.db"), "{message}");
        }
        other => panic!("expected a Backend error, got {other:?}"),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sqlite_two_handles_on_one_file() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("shared.db");
    // Two handles opening a new file at once: the schema is created once.
    let (a, b) = tokio::join!(SqliteStore::open(&path), SqliteStore::open(&path));
    let (a, b) = (a.unwrap(), b.unwrap());
    append(&a, "o", 0, 2).await.unwrap();
    match append(&b, "o", 0, 1).await {
        Err(StoreError::Conflict {
            expected: 0,
            actual: 2,
            ..
        }) => {}
        other => panic!("expected a conflict, got {other:?}"),
    }
    append(&b, "o", 2, 3).await.unwrap();
    assert_eq!(a.entries("o", 0, 10).await.unwrap(), entries("o", 0, 3));
    // Racing handles (as a CLI and a server would): they serialise on SQLite's write
    // lock, and each append either lands whole or gets a Conflict.
    check_concurrent_two(a.clone(), b.clone()).await;
    a.close().await;
    b.close().await;
}

async fn check_concurrent_two(a: SqliteStore, b: SqliteStore) {
    let o = "raced";
    let mut tasks = Vec::new();
    for (writer, store) in [a.clone(), b.clone(), a.clone(), b.clone()]
        .into_iter()
        .enumerate()
    {
        tasks.push(tokio::spawn(async move {
            let mut won = 0;
            while won < 10 {
                let size = store
                    .logs()
                    .await
                    .unwrap()
                    .into_iter()
                    .find(|log| log.origin == o)
                    .map_or(0, |log| log.size);
                match append(&store, o, size, size + 2).await {
                    Ok(()) => won += 1,
                    Err(StoreError::Conflict { .. }) => {}
                    Err(e) => panic!("writer {writer}: {e}"),
                }
            }
        }));
    }
    for task in tasks {
        task.await.unwrap();
    }
    assert_eq!(a.entries(o, 0, u64::MAX).await.unwrap(), entries(o, 0, 80));
    assert_eq!(b.checkpoints(o).await.unwrap().len(), 40);
}

#[tokio::test]
async fn sqlite_corrupt_leaf_hash_is_reported() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("store.db");
    let store = open_sqlite(&path).await;
    append(&store, "detente/t/a", 0, 5).await.unwrap();
    store.close().await;
    {
        use sqlx::Connection;
        let mut conn = sqlx::SqliteConnection::connect(&format!("sqlite://{}", path.display()))
            .await
            .unwrap();
        sqlx::query("PRAGMA ignore_check_constraints = ON")
            .execute(&mut conn)
            .await
            .unwrap();
        sqlx::query("UPDATE entries SET leaf_hash = x'0102' WHERE idx = 3")
            .execute(&mut conn)
            .await
            .unwrap();
        conn.close().await.unwrap();
    }
    let store = open_sqlite(&path).await;
    for result in [
        store.entries("detente/t/a", 0, 5).await.map(|_| ()),
        store.leaf_hashes("detente/t/a", 2, 5).await.map(|_| ()),
    ] {
        match result {
            Err(StoreError::Backend(message)) => {
                assert!(message.contains("detente/t/a"), "{message}");
                assert!(message.contains("entry 3"), "{message}");
                assert!(message.contains("2 bytes"), "{message}");
                assert!(message.contains("store.db"), "{message}");
            }
            other => panic!("expected a Backend error, got {other:?}"),
        }
    }
    // The entries before it still read.
    assert_eq!(store.entries("detente/t/a", 0, 3).await.unwrap().len(), 3);
    store.close().await;
}

// ---------------------------------------------------------------------------------------
// Property: random operations leave both stores in the same observable state.

mod property {
    use super::*;
    use proptest::prelude::*;

    const ORIGINS: [&str; 3] = ["detente/t/a", "detente/t/b", "detente/t/ä"];

    #[derive(Debug, Clone)]
    enum Op {
        /// Append `count` entries to ORIGINS[origin], with the expected size off by
        /// `skew` from the true size, and a possible malformation.
        Append {
            origin: usize,
            count: u64,
            skew: i8,
            malform: Malform,
        },
        /// Re-record the current checkpoint, possibly with a different note.
        Recheckpoint {
            origin: usize,
            different: bool,
        },
        Cosign {
            origin: usize,
            size: u64,
            cosigner: u8,
            timestamp: u64,
        },
        Equivocate {
            origin: usize,
            n: i64,
        },
    }

    #[derive(Debug, Clone, Copy)]
    enum Malform {
        None,
        BadIndex,
        BadCheckpointSize,
    }

    fn op() -> impl Strategy<Value = Op> {
        prop_oneof![
            4 => (0..3usize, 0..6u64, prop_oneof![4 => Just(0i8), 1 => -1..=1i8],
                  prop_oneof![6 => Just(Malform::None), 1 => Just(Malform::BadIndex),
                              1 => Just(Malform::BadCheckpointSize)])
                .prop_map(|(origin, count, skew, malform)| Op::Append { origin, count, skew, malform }),
            1 => (0..3usize, any::<bool>())
                .prop_map(|(origin, different)| Op::Recheckpoint { origin, different }),
            2 => (0..3usize, 0..12u64, 0..3u8, 0..4u64)
                .prop_map(|(origin, size, cosigner, timestamp)| Op::Cosign { origin, size, cosigner, timestamp }),
            1 => (0..3usize, 0..5i64).prop_map(|(origin, n)| Op::Equivocate { origin, n }),
        ]
    }

    async fn size_of<S: Store>(store: &S, origin: &str) -> u64 {
        store
            .logs()
            .await
            .unwrap()
            .into_iter()
            .find(|log| log.origin == origin)
            .map_or(0, |log| log.size)
    }

    /// Applies `op` and describes the outcome (Backend messages differ between stores,
    /// so only their kind is compared).
    async fn apply<S: Store>(store: &S, op: &Op) -> String {
        let outcome = |result: Result<String, StoreError>| match result {
            Ok(value) => format!("ok {value}"),
            Err(StoreError::Backend(_)) => "backend error".to_owned(),
            Err(e) => format!("error {e}"),
        };
        match *op {
            Op::Append {
                origin,
                count,
                skew,
                malform,
            } => {
                let o = ORIGINS[origin];
                let size = size_of(store, o).await;
                let expected = size.saturating_add_signed(i64::from(skew));
                let mut batch = entries(o, expected, expected + count);
                let mut cp = checkpoint(o, expected + count);
                match malform {
                    Malform::None => {}
                    Malform::BadIndex => {
                        if let Some(last) = batch.last_mut() {
                            last.index += 1;
                        }
                    }
                    Malform::BadCheckpointSize => cp.size += 1,
                }
                outcome(
                    store
                        .append(o, expected, &batch, &cp)
                        .await
                        .map(|()| String::new()),
                )
            }
            Op::Recheckpoint { origin, different } => {
                let o = ORIGINS[origin];
                let size = size_of(store, o).await;
                let mut cp = checkpoint(o, size);
                cp.stored_at_ms += 5;
                if different {
                    cp.note.push('!');
                }
                outcome(
                    store
                        .append(o, size, &[], &cp)
                        .await
                        .map(|()| String::new()),
                )
            }
            Op::Cosign {
                origin,
                size,
                cosigner,
                timestamp,
            } => {
                let c = cosignature(ORIGINS[origin], size, &format!("w{cosigner}"), timestamp);
                outcome(
                    store
                        .add_cosignature(&c)
                        .await
                        .map(|added| added.to_string()),
                )
            }
            Op::Equivocate { origin, n } => outcome(
                store
                    .add_equivocation(&equivocation(ORIGINS[origin], n))
                    .await
                    .map(|()| String::new()),
            ),
        }
    }

    proptest! {
        #![proptest_config(ProptestConfig {
            cases: 64,
            failure_persistence: None,
            ..ProptestConfig::default()
        })]

        #[test]
        fn memory_and_sqlite_agree(ops in proptest::collection::vec(op(), 1..40)) {
            let runtime = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .unwrap();
            runtime.block_on(async {
                let dir = tempfile::tempdir().unwrap();
                let sqlite = open_sqlite(&dir.path().join("store.db")).await;
                let memory = MemoryStore::new();
                for (step, op) in ops.iter().enumerate() {
                    let in_memory = apply(&memory, op).await;
                    let in_sqlite = apply(&sqlite, op).await;
                    assert_eq!(in_memory, in_sqlite, "step {step}: {op:?}");
                    assert_ne!(in_memory, "backend error", "step {step}: {op:?}");
                }
                assert_eq!(observe(&memory, &ORIGINS).await, observe(&sqlite, &ORIGINS).await);
                sqlite.close().await;
            });
        }
    }
}
