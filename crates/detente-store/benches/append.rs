#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]
//! Durable appends to a `SqliteStore` in a temporary directory (`synchronous = FULL`: one
//! WAL sync per append), in batches of 1, 100 and 1000 entries of 300 bytes, and reading
//! back 1,000,000 leaf hashes and 100,000 entries.
//!
//! `cargo bench -p detente-store`; divan reports the time per sample and, through the
//! item counter, entries per second.

use detente_node::store::{Store, StoredCheckpoint, StoredEntry};
use detente_store::SqliteStore;
use divan::Bencher;
use divan::counter::ItemsCount;

fn main() {
    divan::main();
}

const ENTRY_BYTES: usize = 300;
const ORIGIN: &str = "detente/bench/party";

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .unwrap()
}

fn entry(index: u64) -> StoredEntry {
    let seed = index.to_le_bytes();
    let mut leaf_hash = [0u8; 32];
    for (i, byte) in leaf_hash.iter_mut().enumerate() {
        *byte = seed[i % 8] ^ u8::try_from(i).unwrap();
    }
    let bytes = (0..ENTRY_BYTES)
        .map(|i| seed[i % 8].wrapping_add(u8::try_from(i % 251).unwrap()))
        .collect();
    StoredEntry {
        index,
        leaf_hash,
        bytes,
    }
}

fn checkpoint(size: u64) -> StoredCheckpoint {
    StoredCheckpoint {
        size,
        note: format!(
            "{ORIGIN}\n{size}\nAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=\n\n— {ORIGIN} \
             AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA\n"
        ),
        stored_at_ms: 1_700_000_000_000,
    }
}

/// Appends `total` entries in batches of `batch`, each one durable transaction.
async fn fill(store: &SqliteStore, total: u64, batch: u64) {
    let mut size = 0;
    while size < total {
        let next = (size + batch).min(total);
        let entries: Vec<_> = (size..next).map(entry).collect();
        store
            .append(ORIGIN, size, &entries, &checkpoint(next))
            .await
            .unwrap();
        size = next;
    }
}

/// Entries appended per sample: fewer for single-entry batches, where every entry costs
/// a WAL sync.
fn total_for(batch: u64) -> u64 {
    if batch == 1 { 10_000 } else { 100_000 }
}

#[divan::bench(args = [1, 100, 1000], sample_count = 3, sample_size = 1)]
fn append(bencher: Bencher, batch: u64) {
    let runtime = runtime();
    let total = total_for(batch);
    bencher
        .counter(ItemsCount::new(total))
        .with_inputs(|| {
            let dir = tempfile::tempdir().unwrap();
            let store = runtime
                .block_on(SqliteStore::open(&dir.path().join("bench.db")))
                .unwrap();
            (dir, store)
        })
        .bench_local_values(|(dir, store)| {
            runtime.block_on(fill(&store, total, batch));
            (dir, store)
        });
}

#[divan::bench(sample_count = 5, sample_size = 1)]
fn load_1m_leaf_hashes(bencher: Bencher) {
    let runtime = runtime();
    let dir = tempfile::tempdir().unwrap();
    let store = runtime.block_on(async {
        let store = SqliteStore::open(&dir.path().join("bench.db"))
            .await
            .unwrap();
        fill(&store, 1_000_000, 5_000).await;
        store
    });
    bencher
        .counter(ItemsCount::new(1_000_000u64))
        .bench_local(|| {
            let hashes = runtime
                .block_on(store.leaf_hashes(ORIGIN, 0, u64::MAX))
                .unwrap();
            assert_eq!(hashes.len(), 1_000_000);
            hashes
        });
    runtime.block_on(store.close());
}

#[divan::bench(sample_count = 5, sample_size = 1)]
fn load_100k_entries(bencher: Bencher) {
    let runtime = runtime();
    let dir = tempfile::tempdir().unwrap();
    let store = runtime.block_on(async {
        let store = SqliteStore::open(&dir.path().join("bench.db"))
            .await
            .unwrap();
        fill(&store, 100_000, 5_000).await;
        store
    });
    bencher
        .counter(ItemsCount::new(100_000u64))
        .bench_local(|| {
            let entries = runtime
                .block_on(store.entries(ORIGIN, 0, u64::MAX))
                .unwrap();
            assert_eq!(entries.len(), 100_000);
            entries
        });
    runtime.block_on(store.close());
}
