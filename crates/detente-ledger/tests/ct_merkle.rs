#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]
//! Known-answer tests against ct-merkle 0.3, an independent RFC 6962 implementation:
//! roots, inclusion proofs and consistency proofs must be byte-identical, and each
//! verifier must accept the other's proofs.

use ct_merkle::mem_backed_tree::MemoryBackedTree;
use ct_merkle::{ConsistencyProof, InclusionProof, RootHash};
use detente_ledger::Hash;
use detente_ledger::merkle::{Tree, leaf_hash, root_of, verify_consistency, verify_inclusion};
use proptest::prelude::*;
use sha2::Sha256;

type CtTree = MemoryBackedTree<Sha256, Vec<u8>>;

fn data(i: u64) -> Vec<u8> {
    // Varying lengths, so leaves are not all one SHA-256 block.
    let mut d = i.to_be_bytes().to_vec();
    d.resize(usize::try_from(i % 97).unwrap() + 8, 0xa5);
    d
}

fn flatten(proof: &[Hash]) -> Vec<u8> {
    proof.iter().flatten().copied().collect()
}

fn split(bytes: &[u8]) -> Vec<Hash> {
    bytes
        .chunks_exact(32)
        .map(|c| c.try_into().unwrap())
        .collect()
}

fn ct_root(hash: &Hash, size: u64) -> RootHash<Sha256> {
    RootHash::new((*hash).into(), size)
}

fn as_hash(root: &RootHash<Sha256>) -> Hash {
    root.as_bytes().as_slice().try_into().unwrap()
}

/// Builds both trees over leaves `0..n`; ct-merkle also at every prefix size (ct-merkle
/// only proves against its current size, so prefixes are separate trees).
fn ct_prefixes(n: u64) -> Vec<CtTree> {
    let mut out = Vec::new();
    let mut t = CtTree::new();
    out.push(t.clone());
    for i in 0..n {
        t.push(data(i));
        out.push(t.clone());
    }
    out
}

fn ours(n: u64) -> Tree {
    Tree::from_leaf_hashes((0..n).map(|i| leaf_hash(&data(i))).collect())
}

fn check_size(ours: &Tree, ct: &CtTree, size: u64) {
    let root = ours.root_at(size).unwrap();
    assert_eq!(root, as_hash(&ct.root()), "root at {size}");
    let leaves: Vec<Hash> = (0..size).map(|i| ours.leaf_hash(i).unwrap()).collect();
    assert_eq!(root_of(&leaves), root, "root_of at {size}");
    let ct_r = ct.root();
    for index in 0..size {
        let proof = ours.inclusion_proof(index, size).unwrap();
        let ct_proof = ct.prove_inclusion(usize::try_from(index).unwrap());
        assert_eq!(
            flatten(&proof),
            ct_proof.as_bytes(),
            "inclusion {index}@{size}"
        );
        // Each verifier accepts the other's proof.
        let lh = ours.leaf_hash(index).unwrap();
        verify_inclusion(&lh, index, size, &split(ct_proof.as_bytes()), &root).unwrap();
        ct_r.verify_inclusion(
            &data(index),
            index,
            &InclusionProof::<Sha256>::from_digests(
                proof.iter().map(|h| (*h).into()).collect::<Vec<_>>().iter(),
            ),
        )
        .unwrap();
    }
}

fn check_consistency(ours: &Tree, ct_new: &CtTree, old: u64, new: u64) {
    let proof = ours.consistency_proof(old, new).unwrap();
    let old_root = ours.root_at(old).unwrap();
    let new_root = ours.root_at(new).unwrap();
    verify_consistency(old, new, &old_root, &new_root, &proof).unwrap();
    if old == 0 {
        // ct-merkle has no consistency proofs from the empty tree; ours is empty.
        assert!(proof.is_empty());
        return;
    }
    let ct_proof = ct_new.prove_consistency(usize::try_from(new - old).unwrap());
    assert_eq!(
        flatten(&proof),
        ct_proof.as_bytes(),
        "consistency {old}->{new}"
    );
    verify_consistency(old, new, &old_root, &new_root, &split(ct_proof.as_bytes())).unwrap();
    let digests: Vec<_> = proof.iter().map(|h| (*h).into()).collect();
    ct_root(&new_root, new)
        .verify_consistency(
            &ct_root(&old_root, old),
            &ConsistencyProof::<Sha256>::from_digests(digests.iter()),
        )
        .unwrap();
}

#[test]
fn every_size_up_to_70_matches_ct_merkle() {
    const N: u64 = 70;
    let ct = ct_prefixes(N);
    let tree = ours(N);
    for size in 0..=N {
        check_size(&tree, &ct[size as usize], size);
        for old in 0..=size {
            check_consistency(&tree, &ct[size as usize], old, size);
        }
    }
}

#[test]
fn pushed_and_built_trees_match_ct_merkle() {
    let mut pushed = Tree::new();
    let mut ct = CtTree::new();
    for i in 0..70 {
        assert_eq!(pushed.root(), as_hash(&ct.root()));
        pushed.push(leaf_hash(&data(i)));
        ct.push(data(i));
    }
    assert_eq!(pushed.root(), as_hash(&ct.root()));
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(48))]

    #[test]
    fn random_sizes_match_ct_merkle(
        size in 1u64..3000,
        index_seed in any::<u64>(),
        old_seed in any::<u64>(),
        extra in 0u64..200,
    ) {
        // Our tree holds more leaves than the size proved, which exercises proofs at
        // earlier sizes; ct-merkle's tree is exactly `size` leaves.
        let tree = ours(size + extra);
        let mut ct = CtTree::new();
        for i in 0..size {
            ct.push(data(i));
        }
        let root = tree.root_at(size).unwrap();
        prop_assert_eq!(root, as_hash(&ct.root()));

        let index = index_seed % size;
        let proof = tree.inclusion_proof(index, size).unwrap();
        let ct_proof = ct.prove_inclusion(usize::try_from(index).unwrap());
        prop_assert_eq!(flatten(&proof), ct_proof.as_bytes().to_vec());
        verify_inclusion(&tree.leaf_hash(index).unwrap(), index, size, &split(ct_proof.as_bytes()), &root).unwrap();
        let digests: Vec<_> = proof.iter().map(|h| (*h).into()).collect();
        ct.root().verify_inclusion(&data(index), index, &InclusionProof::<Sha256>::from_digests(digests.iter())).unwrap();

        let old = 1 + old_seed % size;
        check_consistency(&tree, &ct, old, size);
    }
}
