//! Revealing a region, and checking a reveal against the commitment.
//!
//! A [`Reveal`] discloses every item of one region with its salt and its RFC 9162
//! inclusion proof. [`check_reveal`] recomputes each item commitment, checks that it is
//! the leaf at the stated index of the committed tree, and reports:
//!
//! * `reveal_mismatch` for an item whose hash or proof fails, that belongs to another
//!   region, that repeats an index, that breaks the (region, id) order, or that lies
//!   outside the index range the published counts give its region; and for a reveal made
//!   against another root, tree size, party or date;
//! * `incomplete_reveal` when indices of the region are missing.
//!
//! **What completeness can be checked.** Items are ordered by (region, id), so a region
//! occupies one contiguous range of leaf indices.
//!
//! * With counts per region published, the range of every region is known in advance
//!   (the regions before it in name order come first), so a reveal must cover exactly
//!   that range: any omission is detected at once and attributed to the region. If the
//!   published counts themselves were false, the items of one region spill into the
//!   range of another, which is then detected when that other region is revealed.
//! * With counts withheld, a single reveal can only be checked for holes *between* its
//!   first and last revealed index. Items left out at either end of the range are
//!   indistinguishable, for now, from the first or last items of a neighbouring region.
//!   They show up, with [`coverage`], as indices that no reveal accounts for; once every
//!   region the party declares has been revealed, any such index is an omission. Until
//!   then an unaccounted index between two revealed regions is not attributable to
//!   either (it might belong to a region that sorts between them and has not been
//!   revealed yet). [`coverage`] also catches a tree that was not built in
//!   (region, id) order, once the out-of-place items are revealed.
//!
//! Neither check can find an item that was never committed: that is what inspections
//! are for.
//!
//! Reveal bytes:
//!
//! ```text
//! tag        "detente-escrow/reveal/v1"
//! party      name
//! as_of      date      the commitment's as_of
//! root       32 bytes  the commitment's root
//! tree_size  u64 BE    the commitment's total
//! region     name
//! items      u32 BE count (0..=1048576), indices strictly increasing, each:
//!   index    u64 BE
//!   salt     32 bytes
//!   item     canonical item (see the commit module)
//!   proof    u8 count (0..=64), then that many 32-byte hashes (RFC 9162 audit path)
//! ```

use std::fmt;

use detente_ledger::Hash;
use detente_ledger::merkle::{ProofError, leaf_hash, verify_inclusion};

use crate::codec::{FormatError, Problem, Reader, Writer, date_problem, invalid, name_problem};
use crate::commit::{Commitment, Item, Salt, item_commitment};

/// The domain tag of a [`Reveal`] record.
pub const REVEAL_TAG: &str = "detente-escrow/reveal/v1";
/// The most items one reveal may hold.
pub const MAX_REVEAL_ITEMS: usize = 1 << 20;
/// The largest encoded reveal accepted (256 MiB).
pub const MAX_REVEAL_BYTES: usize = 256 << 20;
/// The most hashes in an inclusion proof (a tree of up to 2^64 leaves).
pub const MAX_PROOF_HASHES: usize = 64;

/// One revealed item.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RevealedItem {
    /// Its leaf index in the committed tree.
    pub index: u64,
    /// Its salt.
    pub salt: Salt,
    /// The item.
    pub item: Item,
    /// The inclusion proof of its commitment at `index` in the committed tree.
    pub proof: Vec<Hash>,
}

/// The disclosure of one region of a committed declaration (a log entry).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reveal {
    /// The party that committed.
    pub party: String,
    /// The commitment's `as_of` date.
    pub as_of: String,
    /// The commitment's root.
    pub root: Hash,
    /// The commitment's total (the tree size the proofs are for).
    pub tree_size: u64,
    /// The region revealed.
    pub region: String,
    /// Its items, in index order.
    pub items: Vec<RevealedItem>,
}

impl Reveal {
    /// Checks that the reveal has a canonical encoding.
    pub fn validate(&self) -> Result<(), FormatError> {
        const R: &str = "reveal";
        if let Some(p) = name_problem(&self.party) {
            return Err(invalid(R, "party", p));
        }
        if let Some(p) = date_problem(&self.as_of) {
            return Err(invalid(R, "as_of", p));
        }
        if let Some(p) = name_problem(&self.region) {
            return Err(invalid(R, "region", p));
        }
        if self.items.len() > MAX_REVEAL_ITEMS {
            return Err(invalid(
                R,
                "items",
                Problem::Length {
                    len: self.items.len(),
                    min: 0,
                    max: MAX_REVEAL_ITEMS,
                },
            ));
        }
        let mut previous: Option<u64> = None;
        for it in &self.items {
            if previous.is_some_and(|p| p >= it.index) {
                return Err(invalid(
                    R,
                    "index",
                    Problem::Invalid(format!(
                        "index {} is not after the previous item's: indices must increase",
                        it.index
                    )),
                ));
            }
            previous = Some(it.index);
            it.item.validate().map_err(|mut e| {
                e.record = R;
                e
            })?;
            if it.proof.len() > MAX_PROOF_HASHES {
                return Err(invalid(
                    R,
                    "proof",
                    Problem::Length {
                        len: it.proof.len(),
                        min: 0,
                        max: MAX_PROOF_HASHES,
                    },
                ));
            }
        }
        Ok(())
    }

    /// The canonical bytes.
    pub fn encode(&self) -> Result<Vec<u8>, FormatError> {
        self.validate()?;
        let mut w = Writer::with_tag(REVEAL_TAG);
        w.str(&self.party);
        w.bytes(self.as_of.as_bytes());
        w.bytes(&self.root);
        w.u64(self.tree_size);
        w.str(&self.region);
        w.count(self.items.len());
        for it in &self.items {
            w.u64(it.index);
            w.bytes(&it.salt);
            it.item.write(&mut w.buf);
            w.u8(u8::try_from(it.proof.len()).unwrap_or(u8::MAX));
            for h in &it.proof {
                w.bytes(h);
            }
        }
        Ok(w.finish())
    }

    /// Decodes and validates canonical bytes.
    pub fn decode(bytes: &[u8]) -> Result<Reveal, FormatError> {
        let mut r = Reader::new("reveal", REVEAL_TAG, bytes, MAX_REVEAL_BYTES)?;
        let party = r.name("party")?;
        let as_of = r.date("as_of")?;
        let root = r.array::<32>("root")?;
        let tree_size = r.u64("tree_size")?;
        let region = r.name("region")?;
        // index + salt + three 1-byte names + attribute count + location flag + proof count
        let n = r.count("items", MAX_REVEAL_ITEMS, 8 + 32 + 9 + 2 + 1 + 1)?;
        let mut items: Vec<RevealedItem> = Vec::with_capacity(n);
        for _ in 0..n {
            let at = r.pos();
            let index = r.u64("index")?;
            if items.last().is_some_and(|p| p.index >= index) {
                return Err(r.err(
                    "index",
                    at,
                    Problem::Invalid(format!(
                        "index {index} is not after the previous item's: indices must increase"
                    )),
                ));
            }
            let salt = r.array::<32>("salt")?;
            let item = Item::read(&mut r)?;
            let at = r.pos();
            let len = usize::from(r.u8("proof length")?);
            if len > MAX_PROOF_HASHES {
                return Err(r.err(
                    "proof length",
                    at,
                    Problem::Length {
                        len,
                        min: 0,
                        max: MAX_PROOF_HASHES,
                    },
                ));
            }
            let mut proof = Vec::with_capacity(len);
            for _ in 0..len {
                proof.push(r.array::<32>("proof hash")?);
            }
            items.push(RevealedItem {
                index,
                salt,
                item,
                proof,
            });
        }
        r.finish()?;
        Ok(Reveal {
            party,
            as_of,
            root,
            tree_size,
            region,
            items,
        })
    }
}

/// Why one revealed item does not match the commitment.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum MismatchReason {
    /// The item's commitment is not the leaf at its index of the committed tree: the
    /// item, its salt, its index or its proof was altered.
    Proof(ProofError),
    /// The item is committed, but in another region than the one revealed.
    WrongRegion {
        /// The item's region.
        region: String,
    },
    /// The index appears twice in the reveal.
    DuplicateIndex,
    /// The item's id is not after the previous revealed item's: the committed tree is
    /// not in (region, id) order.
    OutOfOrder {
        /// The id of the item before it.
        previous_id: String,
    },
    /// The item is committed in this region, but at an index outside the range the
    /// published counts give the region: the counts were false.
    OutsideRegionRange {
        /// First index of the range.
        start: u64,
        /// One past its last index.
        end: u64,
    },
}

impl fmt::Display for MismatchReason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            MismatchReason::Proof(e) => write!(f, "does not match the commitment: {e}"),
            MismatchReason::WrongRegion { region } => {
                write!(
                    f,
                    "is committed in region {region:?}, not the region revealed"
                )
            }
            MismatchReason::DuplicateIndex => write!(f, "repeats an index"),
            MismatchReason::OutOfOrder { previous_id } => write!(
                f,
                "comes after {previous_id:?} in the tree but not in id order"
            ),
            MismatchReason::OutsideRegionRange { start, end } => write!(
                f,
                "lies outside indices {start}..{end}, which the published counts give its region"
            ),
        }
    }
}

/// One problem found in a reveal.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RevealViolation {
    /// `reveal_mismatch`: the reveal names another party, date, root or tree size than
    /// the commitment. (Its items are still checked against the commitment.)
    WrongCommitment {
        /// `"party"`, `"as_of"`, `"root"` or `"tree_size"`.
        field: &'static str,
        /// The commitment's value.
        committed: String,
        /// The reveal's value.
        revealed: String,
    },
    /// `reveal_mismatch`: one item does not match the commitment.
    ItemMismatch {
        /// Its stated index.
        index: u64,
        /// Its id.
        id: String,
        /// Why.
        reason: MismatchReason,
    },
    /// `incomplete_reveal`: indices of the region that the reveal does not account for.
    Incomplete {
        /// The committed count of the region, if counts were published.
        committed: Option<u64>,
        /// The number of items that verified.
        revealed: u64,
        /// The missing index ranges `[start, end)`.
        missing: Vec<(u64, u64)>,
    },
}

impl RevealViolation {
    /// The violation's reason code: `reveal_mismatch` or `incomplete_reveal`.
    pub fn code(&self) -> &'static str {
        match self {
            RevealViolation::WrongCommitment { .. } | RevealViolation::ItemMismatch { .. } => {
                "reveal_mismatch"
            }
            RevealViolation::Incomplete { .. } => "incomplete_reveal",
        }
    }
}

impl fmt::Display for RevealViolation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            RevealViolation::WrongCommitment {
                field,
                committed,
                revealed,
            } => write!(
                f,
                "reveal_mismatch: the reveal's {field} is {revealed}, the commitment's is {committed}"
            ),
            RevealViolation::ItemMismatch { index, id, reason } => {
                write!(f, "reveal_mismatch: item {id:?} at index {index} {reason}")
            }
            RevealViolation::Incomplete {
                committed,
                revealed,
                missing,
            } => {
                write!(f, "incomplete_reveal: {revealed} items revealed")?;
                if let Some(c) = committed {
                    write!(f, " of {c} committed")?;
                }
                write!(f, "; missing indices")?;
                for (i, (s, e)) in missing.iter().enumerate() {
                    let sep = if i == 0 { " " } else { ", " };
                    if e.saturating_sub(*s) == 1 {
                        write!(f, "{sep}{s}")?;
                    } else {
                        write!(f, "{sep}{s}..{e}")?;
                    }
                }
                Ok(())
            }
        }
    }
}

/// The result of checking one reveal.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RevealCheck {
    /// The party the reveal names.
    pub party: String,
    /// The region revealed.
    pub region: String,
    /// The items that verified (index, id), in index order.
    pub verified: Vec<(u64, String)>,
    /// Every problem, in a fixed order: commitment fields, then items by index, then
    /// completeness.
    pub violations: Vec<RevealViolation>,
}

impl RevealCheck {
    /// Whether the reveal verified completely, with nothing to report.
    pub fn is_clean(&self) -> bool {
        self.violations.is_empty()
    }
}

/// Checks a reveal against the commitment it claims to open (see the module
/// documentation for what is and is not detected).
pub fn check_reveal(commitment: &Commitment, reveal: &Reveal) -> RevealCheck {
    let mut violations = Vec::new();
    let hex = |h: &Hash| h.iter().map(|b| format!("{b:02x}")).collect::<String>();
    let mut wrong = |field: &'static str, committed: String, revealed: String| {
        if committed != revealed {
            violations.push(RevealViolation::WrongCommitment {
                field,
                committed,
                revealed,
            });
        }
    };
    wrong("party", commitment.party.clone(), reveal.party.clone());
    wrong("as_of", commitment.as_of.clone(), reveal.as_of.clone());
    wrong("root", hex(&commitment.root), hex(&reveal.root));
    wrong(
        "tree_size",
        commitment.total.to_string(),
        reveal.tree_size.to_string(),
    );

    let range = commitment.region_range(&reveal.region);
    let mut order: Vec<&RevealedItem> = reveal.items.iter().collect();
    order.sort_by_key(|it| it.index);
    let mut verified: Vec<(u64, String)> = Vec::with_capacity(order.len());
    let mut buf_mismatch = |index: u64, id: &str, reason: MismatchReason| {
        violations.push(RevealViolation::ItemMismatch {
            index,
            id: id.to_owned(),
            reason,
        });
    };
    for it in order {
        let id = it.item.id.as_str();
        // A second copy of an index that already verified (a copy that failed does not
        // count: the index may still be revealed correctly).
        if verified.last().is_some_and(|(i, _)| *i == it.index) {
            buf_mismatch(it.index, id, MismatchReason::DuplicateIndex);
            continue;
        }
        let leaf = leaf_hash(&item_commitment(&it.salt, &it.item));
        if let Err(e) = verify_inclusion(
            &leaf,
            it.index,
            commitment.total,
            &it.proof,
            &commitment.root,
        ) {
            buf_mismatch(it.index, id, MismatchReason::Proof(e));
            continue;
        }
        if it.item.region != reveal.region {
            buf_mismatch(
                it.index,
                id,
                MismatchReason::WrongRegion {
                    region: it.item.region.clone(),
                },
            );
            continue;
        }
        if let Some((start, count)) = range {
            let end = start.saturating_add(count);
            if it.index < start || it.index >= end {
                buf_mismatch(
                    it.index,
                    id,
                    MismatchReason::OutsideRegionRange { start, end },
                );
                continue;
            }
        }
        if let Some((_, previous_id)) = verified.last()
            && previous_id.as_str() >= id
        {
            let previous_id = previous_id.clone();
            buf_mismatch(it.index, id, MismatchReason::OutOfOrder { previous_id });
            continue;
        }
        verified.push((it.index, id.to_owned()));
    }

    let indices: Vec<u64> = verified.iter().map(|(i, _)| *i).collect();
    let (expected, committed) = match range {
        Some((start, count)) => (Some((start, start.saturating_add(count))), Some(count)),
        None => (
            indices
                .first()
                .zip(indices.last())
                .map(|(f, l)| (*f, l.saturating_add(1))),
            None,
        ),
    };
    if let Some((start, end)) = expected {
        let missing = missing_ranges(&indices, start, end);
        if !missing.is_empty() {
            violations.push(RevealViolation::Incomplete {
                committed,
                revealed: indices.len() as u64,
                missing,
            });
        }
    }
    RevealCheck {
        party: reveal.party.clone(),
        region: reveal.region.clone(),
        verified,
        violations,
    }
}

/// The ranges of `[start, end)` not in `sorted` (strictly increasing indices).
fn missing_ranges(sorted: &[u64], start: u64, end: u64) -> Vec<(u64, u64)> {
    let mut missing = Vec::new();
    let mut next = start;
    for &i in sorted {
        if i < next {
            continue;
        }
        if i >= end {
            break;
        }
        if i > next {
            missing.push((next, i));
        }
        next = i.saturating_add(1);
    }
    if next < end {
        missing.push((next, end));
    }
    missing
}

/// The indices one region's reveals account for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RegionCoverage {
    /// The region.
    pub region: String,
    /// Its first verified index.
    pub first: u64,
    /// One past its last verified index.
    pub end: u64,
    /// How many of its items verified.
    pub revealed: u64,
}

/// A range of leaf indices that no reveal accounts for yet.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Unrevealed {
    /// First index.
    pub start: u64,
    /// One past the last index.
    pub end: u64,
    /// The region whose revealed items surround the range, if any: then the range is an
    /// omission from that region's reveals (`incomplete_reveal`). Otherwise it lies
    /// between regions, or before the first or after the last, and belongs to a region
    /// not revealed yet, or to one of its neighbours.
    pub within: Option<String>,
}

/// A problem that only shows across several reveals (`reveal_mismatch`): the committed
/// tree is not in (region, id) order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CoverageViolation {
    /// `later` sorts before `earlier` by name, but its items come after.
    RegionsOutOfOrder {
        /// The region whose items come first.
        earlier: String,
        /// The region whose items come after, though its name sorts first.
        later: String,
    },
    /// The items of two regions interleave.
    Interleaved {
        /// One region.
        region: String,
        /// The other.
        other: String,
    },
}

impl CoverageViolation {
    /// The reason code: `reveal_mismatch`.
    pub fn code(&self) -> &'static str {
        "reveal_mismatch"
    }
}

impl fmt::Display for CoverageViolation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            CoverageViolation::RegionsOutOfOrder { earlier, later } => write!(
                f,
                "reveal_mismatch: region {later:?} sorts before {earlier:?} but its items come after: the tree is not in region order"
            ),
            CoverageViolation::Interleaved { region, other } => write!(
                f,
                "reveal_mismatch: the items of regions {region:?} and {other:?} interleave: the tree is not in region order"
            ),
        }
    }
}

/// What all reveals so far account for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Coverage {
    /// The committed total.
    pub total: u64,
    /// Per region, in index order.
    pub regions: Vec<RegionCoverage>,
    /// The index ranges no reveal accounts for, in order.
    pub unrevealed: Vec<Unrevealed>,
    /// Order problems across regions.
    pub violations: Vec<CoverageViolation>,
}

impl Coverage {
    /// The number of items verified in some reveal.
    pub fn revealed(&self) -> u64 {
        self.regions.iter().map(|r| r.revealed).sum()
    }

    /// Whether every committed item has been revealed and verified.
    pub fn is_complete(&self) -> bool {
        self.unrevealed.is_empty()
    }
}

/// Combines the checks of every reveal made against `commitment` (several reveals of one
/// region are merged): which indices are accounted for, which are not, and whether the
/// regions' ranges are in name order and disjoint.
pub fn coverage(commitment: &Commitment, checks: &[RevealCheck]) -> Coverage {
    // (index, region) for every verified item, deduplicated.
    let mut all: Vec<(u64, &str)> = checks
        .iter()
        .flat_map(|c| c.verified.iter().map(|(i, _)| (*i, c.region.as_str())))
        .filter(|(i, _)| *i < commitment.total)
        .collect();
    all.sort_unstable();
    all.dedup_by_key(|(i, _)| *i);

    let mut by_region: Vec<(&str, u64)> = all.iter().map(|(i, r)| (*r, *i)).collect();
    by_region.sort_unstable();
    let mut regions: Vec<RegionCoverage> = Vec::new();
    for (name, index) in by_region {
        match regions.last_mut() {
            Some(last) if last.region == name => {
                last.end = index.saturating_add(1);
                last.revealed += 1;
            }
            _ => regions.push(RegionCoverage {
                region: name.to_owned(),
                first: index,
                end: index.saturating_add(1),
                revealed: 1,
            }),
        }
    }
    regions.sort_by_key(|r| r.first);

    let mut violations = Vec::new();
    for pair in regions.windows(2) {
        if let [a, b] = pair {
            if a.end > b.first {
                violations.push(CoverageViolation::Interleaved {
                    region: a.region.clone(),
                    other: b.region.clone(),
                });
            } else if a.region > b.region {
                violations.push(CoverageViolation::RegionsOutOfOrder {
                    earlier: a.region.clone(),
                    later: b.region.clone(),
                });
            }
        }
    }

    let indices: Vec<u64> = all.iter().map(|(i, _)| *i).collect();
    let unrevealed = missing_ranges(&indices, 0, commitment.total)
        .into_iter()
        .map(|(start, end)| Unrevealed {
            start,
            end,
            within: regions
                .iter()
                .find(|r| r.first < start && end <= r.end)
                .map(|r| r.region.clone()),
        })
        .collect();
    Coverage {
        total: commitment.total,
        regions,
        unrevealed,
        violations,
    }
}
