#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]
//! Verification benchmarks: committing 1,000,000 items (beside the raw SHA-256 cost of
//! the same bytes), checking a reveal of 10,000 items, and proving and verifying a limit
//! proof. The proof's size is printed before the benchmarks run.
//!
//! Run with `cargo bench -p detente-escrow`.

use std::sync::LazyLock;

use detente_escrow::commit::{Commitment, Escrow, Item, Location, Salt, Value};
use detente_escrow::limit::{LimitContext, LimitProof, prove_at_most, verify_at_most};
use detente_escrow::reveal::{Reveal, check_reveal};
use divan::counter::{BytesCount, ItemsCount};
use divan::{Bencher, black_box};
use rand08::SeedableRng as _;
use sha2::{Digest as _, Sha256};

const N: usize = 1_000_000;
/// 100 regions of 10,000 items each.
const REGIONS: usize = 100;

/// One million realistic items with fixed salts.
static ITEMS: LazyLock<Vec<(Item, Salt)>> = LazyLock::new(|| {
    (0..N)
        .map(|i| {
            let region = i % REGIONS;
            let item = Item::new(
                &format!("region-{region:03}"),
                &format!("item-{i:07}"),
                if i % 7 == 0 {
                    "heavy_bomber"
                } else {
                    "icbm_launcher"
                },
                vec![
                    (
                        "site".to_owned(),
                        Value::Text(format!("site-{:05}", i / 20)),
                    ),
                    ("mirv".to_owned(), Value::Bool(i % 3 == 0)),
                    ("warheads".to_owned(), Value::Integer((i % 10) as i64)),
                ],
                Some(Location {
                    lat_e7: (i as i32 % 1_800_000) * 500 - 900_000_000,
                    lon_e7: (i as i32 % 3_600_000) * 1_000 - 1_800_000_000,
                }),
            )
            .unwrap();
            let salt: Salt = Sha256::digest((i as u64).to_be_bytes()).into();
            (item, salt)
        })
        .collect()
});

/// The exact bytes the item commitments hash: tag || salt || canonical item.
static PREIMAGES: LazyLock<Vec<Vec<u8>>> = LazyLock::new(|| {
    ITEMS
        .iter()
        .map(|(item, salt)| {
            let mut b = b"detente-escrow/item/v1".to_vec();
            b.extend_from_slice(salt);
            b.extend_from_slice(&item.encode().unwrap());
            b
        })
        .collect()
});

static ESCROW: LazyLock<Escrow> = LazyLock::new(|| Escrow::new(ITEMS.clone()).unwrap());
static COMMITMENT: LazyLock<Commitment> =
    LazyLock::new(|| ESCROW.commitment("USSR", "1979-06-18", true).unwrap());
static REVEAL: LazyLock<Reveal> =
    LazyLock::new(|| ESCROW.reveal("USSR", "1979-06-18", "region-042").unwrap());

fn context() -> LimitContext {
    LimitContext::new("USSR", "strategic_delivery_vehicles", "1979-06-18").unwrap()
}

static PROOF: LazyLock<LimitProof> = LazyLock::new(|| {
    let mut rng = rand08::rngs::StdRng::from_seed([7; 32]);
    prove_at_most(&context(), 2_250, 2_400, &mut rng).unwrap().0
});

fn main() {
    let bytes = PROOF.encode().unwrap();
    eprintln!(
        "limit proof record: {} bytes (range proof {} bytes, aggregated over 2 values)",
        bytes.len(),
        PROOF.proof.len()
    );
    let total: usize = PREIMAGES.iter().map(Vec::len).sum();
    eprintln!(
        "commit input: {N} items, {total} bytes hashed for item commitments ({:.1} bytes/item)",
        total as f64 / N as f64
    );
    eprintln!(
        "reveal of region-042: {} items, {} bytes encoded",
        REVEAL.items.len(),
        REVEAL.encode().unwrap().len()
    );
    divan::main();
}

/// The whole commitment: validate, sort by (region, id), check ids, hash every item,
/// build the Merkle tree. Input cloning is outside the timing.
#[divan::bench(sample_count = 5, sample_size = 1)]
fn commit_1m_items(bencher: Bencher) {
    bencher
        .counter(ItemsCount::new(N))
        .with_inputs(|| ITEMS.clone())
        .bench_values(|items| Escrow::new(items).unwrap());
}

/// Raw SHA-256 over the same bytes the item commitments hash, one digest per item: the
/// floor for the hashing part of `commit_1m_items`.
#[divan::bench(sample_count = 5, sample_size = 1)]
fn sha256_item_preimages_1m(bencher: Bencher) {
    let total: usize = PREIMAGES.iter().map(Vec::len).sum();
    bencher.counter(BytesCount::new(total)).bench(|| {
        let mut acc = 0u8;
        for p in PREIMAGES.iter() {
            let d: [u8; 32] = Sha256::digest(p).into();
            acc ^= d[0];
        }
        black_box(acc)
    });
}

/// Raw SHA-256 throughput on one contiguous 64 MiB buffer (the machine's bulk rate).
#[divan::bench(sample_count = 5, sample_size = 1)]
fn sha256_bulk_64mib(bencher: Bencher) {
    let buf = vec![0x5au8; 64 << 20];
    bencher
        .counter(BytesCount::new(buf.len()))
        .bench(|| black_box(Sha256::digest(&buf)));
}

/// Checking a reveal of 10,000 items against a commitment of 1,000,000.
#[divan::bench(sample_count = 20, sample_size = 1)]
fn check_reveal_10k_items(bencher: Bencher) {
    let (c, r) = (&*COMMITMENT, &*REVEAL);
    assert_eq!(r.items.len(), 10_000);
    assert!(check_reveal(c, r).is_clean());
    bencher
        .counter(ItemsCount::new(r.items.len()))
        .bench(|| check_reveal(black_box(c), black_box(r)));
}

/// Decoding the same reveal from its bytes (what a node does first).
#[divan::bench(sample_count = 20, sample_size = 1)]
fn decode_reveal_10k_items(bencher: Bencher) {
    let bytes = REVEAL.encode().unwrap();
    bencher
        .counter(BytesCount::new(bytes.len()))
        .bench(|| Reveal::decode(black_box(&bytes)).unwrap());
}

#[divan::bench(sample_count = 50)]
fn prove_limit(bencher: Bencher) {
    let ctx = context();
    let mut rng = rand08::rngs::StdRng::from_seed([9; 32]);
    bencher.bench_local(|| prove_at_most(&ctx, black_box(2_250), 2_400, &mut rng).unwrap());
}

#[divan::bench(sample_count = 50)]
fn verify_limit(bencher: Bencher) {
    let ctx = context();
    let proof = &*PROOF;
    bencher.bench(|| verify_at_most(black_box(proof), 2_400, &ctx).unwrap());
}
