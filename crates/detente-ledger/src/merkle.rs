//! RFC 6962 / RFC 9162 Merkle tree hashing and proofs.
//!
//! Hashing is SHA-256 with the RFC 6962 domain separation: a leaf hash is
//! `SHA-256(0x00 || entry)` and an interior node is `SHA-256(0x01 || left || right)`,
//! so no leaf can be passed off as an interior node. The root of the empty tree is
//! `SHA-256("")`.
//!
//! [`Tree`] keeps, for every level `k`, the hashes of all *complete aligned* subtrees
//! of `2^k` leaves (level 0 holds the leaf hashes themselves). Any RFC 6962 subtree hash
//! the proofs need is then either one lookup or the combination of the at most
//! `log2(n)` complete pieces of a ragged right edge, so roots of earlier sizes and both
//! kinds of proof cost O(log n) regardless of the tree size.

use sha2::{Digest as _, Sha256};
use std::fmt;

use crate::Hash;

/// The hash of one leaf: `SHA-256(0x00 || entry)`.
pub fn leaf_hash(entry: &[u8]) -> Hash {
    let mut h = Sha256::new();
    h.update([0x00]);
    h.update(entry);
    h.finalize().into()
}

/// The hash of an interior node: `SHA-256(0x01 || left || right)`.
pub fn node_hash(left: &Hash, right: &Hash) -> Hash {
    // One contiguous buffer: two SHA-256 blocks, no intermediate update bookkeeping.
    let mut buf = [0u8; 65];
    buf[0] = 0x01;
    buf[1..33].copy_from_slice(left);
    buf[33..].copy_from_slice(right);
    Sha256::digest(buf).into()
}

/// The root of the empty tree: `SHA-256("")` (RFC 6962 section 2.1).
pub fn empty_root() -> Hash {
    Sha256::digest([]).into()
}

/// The RFC 6962 Merkle Tree Hash of a list of leaf hashes.
///
/// Streams over the leaves with a stack of at most 64 complete subtree hashes (the
/// binary decomposition of the count so far), so it does exactly `n - 1` node hashes
/// and allocates nothing proportional to `n`.
pub fn root_of(leaf_hashes: &[Hash]) -> Hash {
    let mut stack: Vec<Hash> = Vec::with_capacity(64);
    for (i, leaf) in leaf_hashes.iter().enumerate() {
        let mut node = *leaf;
        // Each trailing one bit of `i` is a complete subtree on the stack that the new
        // leaf completes into a subtree one level up.
        let mut count = i;
        while count & 1 == 1 {
            match stack.pop() {
                Some(left) => node = node_hash(&left, &node),
                None => break,
            }
            count >>= 1;
        }
        stack.push(node);
    }
    fold_right(&stack).unwrap_or_else(empty_root)
}

/// Combines complete subtree hashes listed left to right (largest first) into the
/// RFC 6962 hash of their concatenation: the right edge is right-associated.
fn fold_right(pieces: &[Hash]) -> Option<Hash> {
    let (last, rest) = pieces.split_last()?;
    Some(
        rest.iter()
            .rev()
            .fold(*last, |acc, left| node_hash(left, &acc)),
    )
}

/// Why a proof could not be made or did not verify.
///
/// Each variant carries the numbers involved, so a log message says exactly which
/// index, size or proof was wrong. For two signed tree heads of one log, either root
/// mismatch of [`verify_consistency`] means the same thing: no proof links them, so
/// (if the proof came from the log) the log has equivocated.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ProofError {
    /// A leaf index is not below the tree size it is claimed to be in.
    IndexOutOfRange {
        /// The leaf index.
        index: u64,
        /// The tree size.
        size: u64,
    },
    /// A tree size is larger than the number of leaves held.
    SizeOutOfRange {
        /// The requested size.
        size: u64,
        /// The number of leaves available.
        available: u64,
    },
    /// A consistency proof was asked for from a larger tree to a smaller one.
    OldSizeExceedsNew {
        /// The old (earlier) tree size.
        old_size: u64,
        /// The new (later) tree size.
        new_size: u64,
    },
    /// A proof has the wrong number of hashes for its sizes and index.
    WrongProofLength {
        /// `"inclusion"` or `"consistency"`.
        proof: &'static str,
        /// The number of hashes RFC 9162 requires.
        expected: usize,
        /// The number of hashes given.
        actual: usize,
    },
    /// An inclusion proof does not lead to the given root.
    RootMismatch {
        /// The leaf index.
        index: u64,
        /// The tree size.
        size: u64,
    },
    /// A consistency proof does not reproduce the old root.
    OldRootMismatch {
        /// The old tree size.
        old_size: u64,
        /// The new tree size.
        new_size: u64,
    },
    /// A consistency proof does not reproduce the new root.
    NewRootMismatch {
        /// The old tree size.
        old_size: u64,
        /// The new tree size.
        new_size: u64,
    },
}

impl fmt::Display for ProofError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::IndexOutOfRange { index, size } => {
                write!(f, "leaf index {index} is not in a tree of {size} leaves")
            }
            Self::SizeOutOfRange { size, available } => write!(
                f,
                "tree size {size} is larger than the {available} leaves the tree holds"
            ),
            Self::OldSizeExceedsNew { old_size, new_size } => write!(
                f,
                "old tree size {old_size} is larger than new tree size {new_size}"
            ),
            Self::WrongProofLength {
                proof,
                expected,
                actual,
            } => write!(
                f,
                "{proof} proof has {actual} hashes, but these sizes need exactly {expected}"
            ),
            Self::RootMismatch { index, size } => write!(
                f,
                "inclusion proof for leaf {index} does not lead to the root of the tree of {size} leaves"
            ),
            Self::OldRootMismatch { old_size, new_size } => write!(
                f,
                "consistency proof from size {old_size} to {new_size} does not reproduce the root of size {old_size}"
            ),
            Self::NewRootMismatch { old_size, new_size } => write!(
                f,
                "consistency proof from size {old_size} to {new_size} does not reproduce the root of size {new_size}"
            ),
        }
    }
}

impl std::error::Error for ProofError {}

/// The largest power of two strictly less than `n` (`n >= 2`): RFC 6962's split point `k`.
fn split_point(n: u64) -> u64 {
    1u64 << 63u32.saturating_sub(n.saturating_sub(1).leading_zeros())
}

/// An append-only in-memory Merkle tree over leaf hashes.
///
/// `levels[k][i]` is the hash of the complete subtree over leaves
/// `[i * 2^k, (i + 1) * 2^k)`; `levels[0]` holds the leaf hashes. A push adds one
/// leaf and the complete subtrees it closes (amortised one node hash per leaf).
/// Memory is about two hashes (64 bytes) per leaf.
///
/// The hashes of the ragged right edge at the current size (every suffix of the tree
/// that ends at its last leaf and starts at a complete subtree) are computed once, on
/// the first root or proof asked for after a change, and kept until the next change:
/// proofs against the latest checkpoint, by far the most asked for, are then lookups
/// only, as in trees that store their incomplete nodes.
#[derive(Debug, Clone, Default)]
pub struct Tree {
    levels: Vec<Vec<Hash>>,
    /// (first leaf, hash) of every right-edge suffix at the current size, largest first.
    edge: std::sync::OnceLock<Vec<(u64, Hash)>>,
}

impl Tree {
    /// An empty tree.
    pub fn new() -> Tree {
        Tree::default()
    }

    /// A tree over the given leaf hashes, built level by level (n - 1 node hashes,
    /// each level one sequential pass over the one below).
    pub fn from_leaf_hashes(leaves: Vec<Hash>) -> Tree {
        let mut levels = vec![leaves];
        loop {
            let next: Vec<Hash> = match levels.last() {
                Some(below) if below.len() >= 2 => below
                    .chunks_exact(2)
                    .filter_map(|pair| match pair {
                        [left, right] => Some(node_hash(left, right)),
                        _ => None,
                    })
                    .collect(),
                _ => break,
            };
            levels.push(next);
        }
        Tree {
            levels,
            edge: std::sync::OnceLock::new(),
        }
    }

    /// Appends one leaf hash.
    pub fn push(&mut self, leaf_hash: Hash) {
        self.edge = std::sync::OnceLock::new();
        let mut node = leaf_hash;
        let mut level = 0;
        loop {
            if self.levels.len() <= level {
                self.levels.push(Vec::new());
            }
            let Some(row) = self.levels.get_mut(level) else {
                return;
            };
            row.push(node);
            // An even count means the new node closed a pair: their parent is complete.
            if row.len() % 2 == 1 {
                return;
            }
            let Some([left, right]) = row.last_chunk::<2>() else {
                return;
            };
            node = node_hash(left, right);
            level += 1;
        }
    }

    /// The number of leaves.
    pub fn len(&self) -> u64 {
        self.leaf_hashes().len() as u64
    }

    /// Whether the tree has no leaves.
    pub fn is_empty(&self) -> bool {
        self.leaf_hashes().is_empty()
    }

    /// All leaf hashes, in order.
    pub fn leaf_hashes(&self) -> &[Hash] {
        self.levels.first().map_or(&[], Vec::as_slice)
    }

    /// The leaf hash at `index`, if there is one.
    pub fn leaf_hash(&self, index: u64) -> Option<Hash> {
        self.node(0, index)
    }

    /// The root of the whole tree.
    pub fn root(&self) -> Hash {
        // The first len() leaves are always held, so this cannot fail.
        self.root_at(self.len()).unwrap_or_else(|_| empty_root())
    }

    /// The root of the tree made of the first `size` leaves.
    pub fn root_at(&self, size: u64) -> Result<Hash, ProofError> {
        self.check_size(size)?;
        if size == 0 {
            return Ok(empty_root());
        }
        self.range_hash(0, size)
    }

    /// The RFC 9162 section 2.1.3 inclusion proof (audit path) for the leaf at `index`
    /// in the tree of the first `size` leaves, from the leaf's sibling upwards.
    pub fn inclusion_proof(&self, index: u64, size: u64) -> Result<Vec<Hash>, ProofError> {
        self.check_size(size)?;
        if index >= size {
            return Err(ProofError::IndexOutOfRange { index, size });
        }
        // PATH(m, D[start..start+n]) walked top-down; RFC order is bottom-up, so reverse.
        let mut proof = Vec::with_capacity(64);
        let (mut start, mut n, mut m) = (0u64, size, index);
        while n > 1 {
            let k = split_point(n);
            if m < k {
                proof.push(self.range_hash(start + k, n - k)?);
                n = k;
            } else {
                proof.push(self.range_hash(start, k)?);
                start += k;
                m -= k;
                n -= k;
            }
        }
        proof.reverse();
        Ok(proof)
    }

    /// The RFC 9162 section 2.1.4 consistency proof that the tree of the first
    /// `old_size` leaves is a prefix of the tree of the first `new_size` leaves.
    ///
    /// The proof is empty when `old_size` is 0 or equal to `new_size` (nothing to prove).
    pub fn consistency_proof(&self, old_size: u64, new_size: u64) -> Result<Vec<Hash>, ProofError> {
        self.check_size(new_size)?;
        if old_size > new_size {
            return Err(ProofError::OldSizeExceedsNew { old_size, new_size });
        }
        let mut proof = Vec::with_capacity(64);
        if old_size == 0 || old_size == new_size {
            return Ok(proof);
        }
        // SUBPROOF(m, D[start..start+n], b) walked top-down, then reversed.
        let (mut start, mut n, mut m, mut whole_old_tree) = (0u64, new_size, old_size, true);
        loop {
            if m == n {
                if !whole_old_tree {
                    proof.push(self.range_hash(start, n)?);
                }
                break;
            }
            let k = split_point(n);
            if m <= k {
                proof.push(self.range_hash(start + k, n - k)?);
                n = k;
            } else {
                proof.push(self.range_hash(start, k)?);
                start += k;
                m -= k;
                n -= k;
                whole_old_tree = false;
            }
        }
        proof.reverse();
        Ok(proof)
    }

    /// Drops every leaf at index `size` or above (and the subtrees they were part of).
    /// A `size` at or beyond the current length changes nothing.
    pub fn truncate(&mut self, size: u64) {
        self.edge = std::sync::OnceLock::new();
        for (k, row) in self.levels.iter_mut().enumerate() {
            let keep = size.checked_shr(k as u32).unwrap_or(0);
            row.truncate(usize::try_from(keep).unwrap_or(usize::MAX));
        }
        while self.levels.len() > 1 && self.levels.last().is_some_and(Vec::is_empty) {
            self.levels.pop();
        }
    }

    fn check_size(&self, size: u64) -> Result<(), ProofError> {
        let available = self.len();
        if size > available {
            return Err(ProofError::SizeOutOfRange { size, available });
        }
        Ok(())
    }

    /// The complete subtree hash at `level` and position `index`.
    fn node(&self, level: usize, index: u64) -> Option<Hash> {
        let row = self.levels.get(level)?;
        row.get(usize::try_from(index).ok()?).copied()
    }

    /// The RFC 6962 hash of leaves `[start, start + size)`, where `start` is a multiple
    /// of the smallest power of two `>= size` (true of every range RFC 6962 proofs use).
    /// The range splits into the complete aligned subtrees given by the bits of `size`.
    fn range_hash(&self, start: u64, size: u64) -> Result<Hash, ProofError> {
        if start.checked_add(size) == Some(self.len())
            && let Some((_, hash)) = self.edge().iter().find(|(first, _)| *first == start)
        {
            return Ok(*hash);
        }
        self.compute_range_hash(start, size)
    }

    /// The right-edge suffix hashes at the current size (see [`Tree`]).
    fn edge(&self) -> &[(u64, Hash)] {
        self.edge.get_or_init(|| {
            // The complete subtrees that make up the whole tree, largest first.
            let size = self.len();
            let mut pieces = Vec::with_capacity(64);
            let mut offset = 0u64;
            for level in (0..64u32).rev() {
                let width = 1u64 << level;
                if size & width != 0 {
                    if let Some(piece) = self.node(level as usize, offset >> level) {
                        pieces.push((offset, piece));
                    }
                    offset += width;
                }
            }
            // Fold from the right, keeping every partial result.
            let mut suffixes = Vec::with_capacity(pieces.len());
            let mut acc: Option<Hash> = None;
            for (first, piece) in pieces.iter().rev() {
                let hash = match acc {
                    None => *piece,
                    Some(right) => node_hash(piece, &right),
                };
                acc = Some(hash);
                suffixes.push((*first, hash));
            }
            suffixes.reverse();
            suffixes
        })
    }

    /// [`Tree::range_hash`] computed from the complete subtrees.
    fn compute_range_hash(&self, start: u64, size: u64) -> Result<Hash, ProofError> {
        // Most ranges in a proof are one complete subtree: a lookup.
        if size.is_power_of_two() {
            let level = size.trailing_zeros();
            return self
                .node(level as usize, start >> level)
                .ok_or(ProofError::SizeOutOfRange {
                    size: start.saturating_add(size),
                    available: self.len(),
                });
        }
        let mut pieces = [[0u8; 32]; 64];
        let mut count = 0usize;
        let mut offset = start;
        for level in (0..64u32).rev() {
            let width = 1u64 << level;
            if size & width == 0 {
                continue;
            }
            let piece =
                self.node(level as usize, offset >> level)
                    .ok_or(ProofError::SizeOutOfRange {
                        size: start.saturating_add(size),
                        available: self.len(),
                    })?;
            if let Some(slot) = pieces.get_mut(count) {
                *slot = piece;
            }
            count += 1;
            offset += width;
        }
        let pieces = pieces.get(..count).unwrap_or(&[]);
        Ok(fold_right(pieces).unwrap_or_else(empty_root))
    }
}

/// The number of hashes in an RFC 9162 inclusion proof for `index < size`.
fn inclusion_proof_len(index: u64, size: u64) -> usize {
    // Levels where the path to `index` and the path to the last leaf differ need a
    // sibling each; above that, one per complete left subtree on the right edge.
    let inner = 64 - (index ^ (size - 1)).leading_zeros();
    let border = index.checked_shr(inner).unwrap_or(0).count_ones();
    (inner + border) as usize
}

/// Checks an RFC 9162 section 2.1.3.2 inclusion proof: that `leaf_hash` is the leaf at
/// `index` in the tree of `size` leaves whose root is `root`.
pub fn verify_inclusion(
    leaf_hash: &Hash,
    index: u64,
    size: u64,
    proof: &[Hash],
    root: &Hash,
) -> Result<(), ProofError> {
    if index >= size {
        return Err(ProofError::IndexOutOfRange { index, size });
    }
    let expected = inclusion_proof_len(index, size);
    if proof.len() != expected {
        return Err(ProofError::WrongProofLength {
            proof: "inclusion",
            expected,
            actual: proof.len(),
        });
    }
    let (mut fn_, mut sn) = (index, size - 1);
    let mut r = *leaf_hash;
    for p in proof {
        if sn == 0 {
            return Err(ProofError::WrongProofLength {
                proof: "inclusion",
                expected,
                actual: proof.len(),
            });
        }
        if fn_ & 1 == 1 || fn_ == sn {
            r = node_hash(p, &r);
            if fn_ & 1 == 0 {
                while fn_ & 1 == 0 && fn_ != 0 {
                    fn_ >>= 1;
                    sn >>= 1;
                }
            }
        } else {
            r = node_hash(&r, p);
        }
        fn_ >>= 1;
        sn >>= 1;
    }
    if sn != 0 || r != *root {
        return Err(ProofError::RootMismatch { index, size });
    }
    Ok(())
}

/// The number of hashes in an RFC 9162 consistency proof for `0 < old < new`.
fn consistency_proof_len(old_size: u64, new_size: u64) -> usize {
    let inner = 64 - ((old_size - 1) ^ (new_size - 1)).leading_zeros();
    let border = (old_size - 1).checked_shr(inner).unwrap_or(0).count_ones();
    let shift = old_size.trailing_zeros();
    // If the old tree is itself a complete subtree, its root is not repeated in the proof.
    let seed = u32::from(!old_size.is_power_of_two());
    (inner.saturating_sub(shift) + border + seed) as usize
}

/// Checks an RFC 9162 section 2.1.4.2 consistency proof: that the tree of `old_size`
/// leaves with root `old_root` is a prefix of the tree of `new_size` leaves with root
/// `new_root`.
///
/// The empty tree is a prefix of every tree, but its root must still be `SHA-256("")`
/// (a checkpoint of size 0 with another root is not a valid tree head).
pub fn verify_consistency(
    old_size: u64,
    new_size: u64,
    old_root: &Hash,
    new_root: &Hash,
    proof: &[Hash],
) -> Result<(), ProofError> {
    if old_size > new_size {
        return Err(ProofError::OldSizeExceedsNew { old_size, new_size });
    }
    let wrong_len = |expected: usize| ProofError::WrongProofLength {
        proof: "consistency",
        expected,
        actual: proof.len(),
    };
    if old_size == 0 || old_size == new_size {
        if !proof.is_empty() {
            return Err(wrong_len(0));
        }
        if old_size == 0 && *old_root != empty_root() {
            return Err(ProofError::OldRootMismatch { old_size, new_size });
        }
        if old_size == new_size && old_root != new_root {
            return Err(ProofError::NewRootMismatch { old_size, new_size });
        }
        return Ok(());
    }
    let expected = consistency_proof_len(old_size, new_size);
    if proof.len() != expected {
        return Err(wrong_len(expected));
    }
    // RFC 9162 2.1.4.2 step 2: a complete old tree is its own first proof element.
    let mut path = proof.iter();
    let first = if old_size.is_power_of_two() {
        *old_root
    } else {
        match path.next() {
            Some(h) => *h,
            None => return Err(wrong_len(expected)),
        }
    };
    let (mut fn_, mut sn) = (old_size - 1, new_size - 1);
    while fn_ & 1 == 1 {
        fn_ >>= 1;
        sn >>= 1;
    }
    let (mut fr, mut sr) = (first, first);
    for c in path {
        if sn == 0 {
            return Err(wrong_len(expected));
        }
        if fn_ & 1 == 1 || fn_ == sn {
            fr = node_hash(c, &fr);
            sr = node_hash(c, &sr);
            if fn_ & 1 == 0 {
                while fn_ & 1 == 0 && fn_ != 0 {
                    fn_ >>= 1;
                    sn >>= 1;
                }
            }
        } else {
            sr = node_hash(&sr, c);
        }
        fn_ >>= 1;
        sn >>= 1;
    }
    if fr != *old_root {
        return Err(ProofError::OldRootMismatch { old_size, new_size });
    }
    if sn != 0 || sr != *new_root {
        return Err(ProofError::NewRootMismatch { old_size, new_size });
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    #![allow(
        clippy::unwrap_used,
        clippy::expect_used,
        clippy::panic,
        clippy::indexing_slicing
    )]
    use super::*;

    /// The recursive RFC 6962 definition, as a reference for the fast paths.
    fn mth(leaves: &[Hash]) -> Hash {
        match leaves.len() {
            0 => empty_root(),
            1 => leaves[0],
            n => {
                let k = split_point(n as u64) as usize;
                node_hash(&mth(&leaves[..k]), &mth(&leaves[k..]))
            }
        }
    }

    fn leaves(n: u64) -> Vec<Hash> {
        (0..n).map(|i| leaf_hash(&i.to_be_bytes())).collect()
    }

    #[test]
    fn push_build_root_of_and_recursive_definition_agree() {
        for n in 0..40u64 {
            let ls = leaves(n);
            let mut pushed = Tree::new();
            for l in &ls {
                pushed.push(*l);
            }
            let built = Tree::from_leaf_hashes(ls.clone());
            assert_eq!(pushed.root(), mth(&ls), "push, n={n}");
            assert_eq!(built.root(), mth(&ls), "build, n={n}");
            assert_eq!(root_of(&ls), mth(&ls), "root_of, n={n}");
            for s in 0..=n {
                assert_eq!(built.root_at(s).unwrap(), mth(&ls[..s as usize]));
            }
        }
    }

    #[test]
    fn truncate_matches_a_tree_built_shorter() {
        let ls = leaves(37);
        for s in 0..=40u64 {
            let mut t = Tree::from_leaf_hashes(ls.clone());
            t.truncate(s);
            let keep = s.min(37) as usize;
            assert_eq!(t.len(), keep as u64);
            assert_eq!(t.root(), mth(&ls[..keep]));
            // Pushing after a truncate continues correctly.
            t.push(ls[0]);
            let mut expect = ls[..keep].to_vec();
            expect.push(ls[0]);
            assert_eq!(t.root(), mth(&expect));
        }
    }

    #[test]
    fn proof_lengths_match_formula() {
        let t = Tree::from_leaf_hashes(leaves(67));
        for size in 1..=67 {
            for index in 0..size {
                let p = t.inclusion_proof(index, size).unwrap();
                assert_eq!(p.len(), inclusion_proof_len(index, size));
            }
            for old in 1..size {
                let p = t.consistency_proof(old, size).unwrap();
                assert_eq!(p.len(), consistency_proof_len(old, size), "{old}->{size}");
            }
        }
    }
}
