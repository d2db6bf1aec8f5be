#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]
//! Ledger benchmarks at 1,000,000 leaves: tree building, inclusion and consistency
//! proofs (ours and ct-merkle on the same leaves), and entry encoding + leaf hashing,
//! the inner loop of verifying a whole log.
//!
//! Run with `cargo bench -p detente-ledger`.

use std::sync::LazyLock;
use std::sync::atomic::{AtomicU64, Ordering};

use ct_merkle::mem_backed_tree::MemoryBackedTree;
use ct_merkle::{ConsistencyProof, InclusionProof, RootHash};
use detente_ledger::Hash;
use detente_ledger::entry::{Entry, EntryKind};
use detente_ledger::merkle::{Tree, leaf_hash, root_of, verify_consistency, verify_inclusion};
use divan::counter::ItemsCount;
use divan::{Bencher, black_box};
use sha2::{Digest as _, Sha256};

const N: u64 = 1_000_000;

type CtTree = MemoryBackedTree<Sha256, [u8; 32]>;

/// Leaf data: SHA-256 of the big-endian index (deterministic).
static DATA: LazyLock<Vec<[u8; 32]>> = LazyLock::new(|| {
    (0..N)
        .map(|i| Sha256::digest(i.to_be_bytes()).into())
        .collect()
});
static LEAVES: LazyLock<Vec<Hash>> = LazyLock::new(|| DATA.iter().map(|d| leaf_hash(d)).collect());
static OURS: LazyLock<Tree> = LazyLock::new(|| Tree::from_leaf_hashes(LEAVES.clone()));
static CT: LazyLock<CtTree> = LazyLock::new(|| {
    let mut t = CtTree::new();
    for d in DATA.iter() {
        t.push(*d);
    }
    t
});

/// A deterministic pseudo-random sequence (splitmix64) for picking indices and sizes.
fn next_random() -> u64 {
    static STATE: AtomicU64 = AtomicU64::new(0x5eed);
    let mut z = STATE
        .fetch_add(0x9e37_79b9_7f4a_7c15, Ordering::Relaxed)
        .wrapping_add(0x9e37_79b9_7f4a_7c15);
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

fn ct_root(h: &Hash, size: u64) -> RootHash<Sha256> {
    RootHash::new((*h).into(), size)
}

fn main() {
    // Build the shared trees before any timing starts.
    LazyLock::force(&OURS);
    LazyLock::force(&CT);
    divan::main();
}

mod build {
    use super::*;

    /// Our tree from 1M precomputed leaf hashes (n - 1 node hashes).
    #[divan::bench(sample_count = 10, sample_size = 1)]
    fn ours_from_leaf_hashes(b: Bencher) {
        b.counter(ItemsCount::new(N))
            .with_inputs(|| LEAVES.clone())
            .bench_local_values(Tree::from_leaf_hashes);
    }

    /// Our tree from the 1M leaf data, hashing the leaves too (what ct-merkle does).
    #[divan::bench(sample_count = 10, sample_size = 1)]
    fn ours_hash_leaves_and_build() -> Tree {
        Tree::from_leaf_hashes(DATA.iter().map(|d| leaf_hash(d)).collect())
    }

    /// Our tree, one push per leaf (how a node appends).
    #[divan::bench(sample_count = 10, sample_size = 1)]
    fn ours_push_each() -> Tree {
        let mut t = Tree::new();
        for l in LEAVES.iter() {
            t.push(*l);
        }
        t
    }

    /// The root alone, streaming (no tree kept).
    #[divan::bench(sample_count = 10, sample_size = 1)]
    fn ours_root_of() -> Hash {
        root_of(&LEAVES)
    }

    /// ct-merkle from the same 1M leaf data (it hashes the leaves itself).
    #[divan::bench(sample_count = 10, sample_size = 1)]
    fn ct_merkle_push_each() -> CtTree {
        let mut t = CtTree::new();
        for d in DATA.iter() {
            t.push(*d);
        }
        t
    }
}

mod inclusion {
    use super::*;

    #[divan::bench]
    fn ours_prove(b: Bencher) {
        b.with_inputs(|| next_random() % N)
            .bench_local_values(|i| OURS.inclusion_proof(i, N).unwrap());
    }

    #[divan::bench]
    fn ct_merkle_prove(b: Bencher) {
        b.with_inputs(|| next_random() % N)
            .bench_local_values(|i| CT.prove_inclusion(i as usize));
    }

    #[divan::bench]
    fn ours_verify(b: Bencher) {
        let root = OURS.root();
        b.with_inputs(|| {
            let i = next_random() % N;
            (
                i,
                OURS.leaf_hash(i).unwrap(),
                OURS.inclusion_proof(i, N).unwrap(),
            )
        })
        .bench_local_refs(|(i, leaf, proof)| {
            verify_inclusion(leaf, *i, N, proof, &root).unwrap();
        });
    }

    #[divan::bench]
    fn ct_merkle_verify(b: Bencher) {
        let root = CT.root();
        b.with_inputs(|| {
            let i = next_random() % N;
            (i, CT.prove_inclusion(i as usize))
        })
        .bench_local_refs(|(i, proof): &mut (u64, InclusionProof<Sha256>)| {
            root.verify_inclusion(&DATA[*i as usize], *i, proof)
                .unwrap();
        });
    }
}

mod consistency {
    use super::*;

    fn old_size() -> u64 {
        1 + next_random() % (N - 1)
    }

    #[divan::bench]
    fn ours_prove(b: Bencher) {
        b.with_inputs(old_size)
            .bench_local_values(|old| OURS.consistency_proof(old, N).unwrap());
    }

    #[divan::bench]
    fn ct_merkle_prove(b: Bencher) {
        b.with_inputs(old_size)
            .bench_local_values(|old| CT.prove_consistency((N - old) as usize));
    }

    #[divan::bench]
    fn ours_verify(b: Bencher) {
        let new_root = OURS.root();
        b.with_inputs(|| {
            let old = old_size();
            (
                old,
                OURS.root_at(old).unwrap(),
                OURS.consistency_proof(old, N).unwrap(),
            )
        })
        .bench_local_refs(|(old, old_root, proof)| {
            verify_consistency(*old, N, old_root, &new_root, proof).unwrap();
        });
    }

    #[divan::bench]
    fn ct_merkle_verify(b: Bencher) {
        let new_root = CT.root();
        b.with_inputs(|| {
            let old = old_size();
            (
                ct_root(&OURS.root_at(old).unwrap(), old),
                CT.prove_consistency((N - old) as usize),
            )
        })
        .bench_local_refs(
            |(old_root, proof): &mut (RootHash<Sha256>, ConsistencyProof<Sha256>)| {
                new_root.verify_consistency(old_root, proof).unwrap();
            },
        );
    }
}

mod entries {
    use super::*;

    /// Encode 1M entries with ~300-byte bodies and hash each leaf, then take the root:
    /// the work of re-verifying a log of 1,000,000 entries against its checkpoint.
    #[divan::bench(sample_count = 5, sample_size = 1)]
    fn encode_hash_and_root_1m(b: Bencher) {
        let mut entry = Entry::new(
            "detente/new-start/us",
            0,
            1_767_225_600_000,
            EntryKind::Fact,
            vec![b'x'; 300],
        )
        .unwrap();
        let mut buf = Vec::with_capacity(400);
        b.counter(ItemsCount::new(N)).bench_local(|| {
            let mut leaves = Vec::with_capacity(N as usize);
            for i in 0..N {
                entry.index = i;
                entry.appended_at_ms = 1_767_225_600_000 + i as i64;
                buf.clear();
                entry.encode_into(&mut buf);
                leaves.push(leaf_hash(&buf));
            }
            black_box(root_of(&leaves))
        });
    }

    /// One entry: decode its bytes and hash them (per-entry cost when reading a log back).
    #[divan::bench]
    fn decode_and_hash_one(b: Bencher) {
        let bytes = Entry::new(
            "detente/new-start/us",
            7,
            1_767_225_600_000,
            EntryKind::Fact,
            vec![b'x'; 300],
        )
        .unwrap()
        .encode();
        b.bench_local(|| {
            let e = Entry::decode(black_box(&bytes)).unwrap();
            (e.index, leaf_hash(&bytes))
        });
    }
}
