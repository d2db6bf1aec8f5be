//! Joint randomness for choosing inspection sites: commit, then reveal.
//!
//! 1. Every party picks a secret 32-byte seed and publishes a [`SeedCommitment`]:
//!    `SHA-256("detente-escrow/seed/v1" || name(round) || name(party) || seed)`.
//! 2. Once **every** party's commitment is in, each publishes its seed in a
//!    [`SeedReveal`]; every node checks it against the commitment.
//! 3. The combined seed is
//!    `SHA-256("detente-escrow/joint-seed/v1" || name(round) || u32 BE count ||
//!    (name(party) || seed) for each party in name order)`, and [`draw_sites`] turns it
//!    into the same list of sites on every node.
//!
//! (`name(x)` is a u16 BE length followed by the UTF-8 bytes.)
//!
//! **Why the last party to reveal cannot bias the draw.** When the first seed is
//! revealed, every seed is already fixed by a commitment that no one can open to another
//! value (that would need a SHA-256 collision), and no one could guess another party's
//! seed from its commitment (that would need a SHA-256 preimage of a 256-bit secret).
//! So the party that reveals last knows the outcome but can no longer change it. Its
//! only power is to **refuse to reveal** (abort): the round then has no result, which is
//! visible to everyone and attributable to that party ([`RoundStatus::awaiting_reveal`]),
//! and the treaty's response (a new round, a finding against the party) is a matter for
//! the parties. An abort does let that party veto one draw it dislikes, once, at the
//! price of being seen to do it; a protocol that removes even that (a verifiable delay
//! function, or a threshold beacon) needs more machinery than this one.
//!
//! The draw is unbiased as long as **at least one party picks its seed at random** and
//! keeps it secret until all commitments are in: the combined seed is then as
//! unpredictable as that one seed. A reveal published before every commitment is in
//! breaks this (a late committer could choose its seed knowing it), so such a round is
//! void ([`RoundFault::EarlyReveal`]).
//!
//! ```text
//! seed commitment:  tag "detente-escrow/seed-commitment/v1", round name, party name,
//!                   hash 32 bytes
//! seed reveal:      tag "detente-escrow/seed-reveal/v1", round name, party name,
//!                   seed 32 bytes
//! ```
//!
//! The draw: block `j` (j = 0, 1, ...) of the stream is
//! `SHA-256("detente-escrow/draw/v1" || combined seed || u64 BE j)`, read as four u64 BE
//! words. A uniform integer below `m` is the next word `x` with
//! `x < m * floor(2^64 / m)` (larger words are skipped), taken modulo `m`. Sites are
//! drawn by a partial Fisher–Yates shuffle of the sorted candidates: for
//! `i = 0 .. n-1`, swap position `i` with position `i + uniform(len - i)`; the first `n`
//! positions, in that order, are the draw.

use std::fmt;

use detente_ledger::Hash;
use sha2::{Digest as _, Sha256};

use crate::codec::{FormatError, MAX_NAME_BYTES, Reader, Writer, invalid, name_problem, put_str};

/// The tag inside a seed commitment's hash.
pub const SEED_TAG: &str = "detente-escrow/seed/v1";
/// The domain tag of a [`SeedCommitment`] record.
pub const SEED_COMMITMENT_TAG: &str = "detente-escrow/seed-commitment/v1";
/// The domain tag of a [`SeedReveal`] record.
pub const SEED_REVEAL_TAG: &str = "detente-escrow/seed-reveal/v1";
/// The tag of the combined seed's hash.
pub const JOINT_SEED_TAG: &str = "detente-escrow/joint-seed/v1";
/// The tag of the draw stream.
pub const DRAW_TAG: &str = "detente-escrow/draw/v1";

/// A party's secret 32-byte seed.
pub type Seed = [u8; 32];

const MAX_SEED_RECORD: usize = 64 + 2 * (2 + MAX_NAME_BYTES) + 32;

/// `SHA-256("detente-escrow/seed/v1" || name(round) || name(party) || seed)`.
pub fn seed_hash(round: &str, party: &str, seed: &Seed) -> Hash {
    let mut buf = Vec::with_capacity(SEED_TAG.len() + 4 + round.len() + party.len() + 32);
    buf.extend_from_slice(SEED_TAG.as_bytes());
    put_str(&mut buf, round);
    put_str(&mut buf, party);
    buf.extend_from_slice(seed);
    Sha256::digest(&buf).into()
}

fn check_names(record: &'static str, round: &str, party: &str) -> Result<(), FormatError> {
    if let Some(p) = name_problem(round) {
        return Err(invalid(record, "round", p));
    }
    if let Some(p) = name_problem(party) {
        return Err(invalid(record, "party", p));
    }
    Ok(())
}

/// A party's commitment to its seed for one round (a log entry).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SeedCommitment {
    /// The round, e.g. `inspections-1979-Q3`.
    pub round: String,
    /// The committing party.
    pub party: String,
    /// [`seed_hash`] of its seed.
    pub hash: Hash,
}

impl SeedCommitment {
    /// The commitment to `seed`.
    pub fn new(round: &str, party: &str, seed: &Seed) -> Result<SeedCommitment, FormatError> {
        check_names("seed-commitment", round, party)?;
        Ok(SeedCommitment {
            round: round.to_owned(),
            party: party.to_owned(),
            hash: seed_hash(round, party, seed),
        })
    }

    /// The canonical bytes.
    pub fn encode(&self) -> Result<Vec<u8>, FormatError> {
        check_names("seed-commitment", &self.round, &self.party)?;
        let mut w = Writer::with_tag(SEED_COMMITMENT_TAG);
        w.str(&self.round);
        w.str(&self.party);
        w.bytes(&self.hash);
        Ok(w.finish())
    }

    /// Decodes canonical bytes.
    pub fn decode(bytes: &[u8]) -> Result<SeedCommitment, FormatError> {
        let mut r = Reader::new(
            "seed-commitment",
            SEED_COMMITMENT_TAG,
            bytes,
            MAX_SEED_RECORD,
        )?;
        let round = r.name("round")?;
        let party = r.name("party")?;
        let hash = r.array::<32>("hash")?;
        r.finish()?;
        Ok(SeedCommitment { round, party, hash })
    }
}

/// A party's published seed (a log entry).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SeedReveal {
    /// The round.
    pub round: String,
    /// The revealing party.
    pub party: String,
    /// The seed.
    pub seed: Seed,
}

impl SeedReveal {
    /// Whether this seed opens `commitment` (same round, same party, matching hash).
    pub fn opens(&self, commitment: &SeedCommitment) -> bool {
        self.round == commitment.round
            && self.party == commitment.party
            && seed_hash(&self.round, &self.party, &self.seed) == commitment.hash
    }

    /// The canonical bytes.
    pub fn encode(&self) -> Result<Vec<u8>, FormatError> {
        check_names("seed-reveal", &self.round, &self.party)?;
        let mut w = Writer::with_tag(SEED_REVEAL_TAG);
        w.str(&self.round);
        w.str(&self.party);
        w.bytes(&self.seed);
        Ok(w.finish())
    }

    /// Decodes canonical bytes.
    pub fn decode(bytes: &[u8]) -> Result<SeedReveal, FormatError> {
        let mut r = Reader::new("seed-reveal", SEED_REVEAL_TAG, bytes, MAX_SEED_RECORD)?;
        let round = r.name("round")?;
        let party = r.name("party")?;
        let seed = r.array::<32>("seed")?;
        r.finish()?;
        Ok(SeedReveal { round, party, seed })
    }
}

/// The combined seed of a round from every party's seed (in any order; they are sorted
/// by party name first).
pub fn joint_seed(round: &str, seeds: &[(String, Seed)]) -> Hash {
    let mut sorted: Vec<&(String, Seed)> = seeds.iter().collect();
    sorted.sort();
    let mut buf = Vec::with_capacity(64 + sorted.len() * 64);
    buf.extend_from_slice(JOINT_SEED_TAG.as_bytes());
    put_str(&mut buf, round);
    buf.extend_from_slice(
        &u32::try_from(sorted.len())
            .unwrap_or(u32::MAX)
            .to_be_bytes(),
    );
    for (party, seed) in sorted {
        put_str(&mut buf, party);
        buf.extend_from_slice(seed);
    }
    Sha256::digest(&buf).into()
}

/// Why a record does not belong in a round.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RoundError {
    /// A round needs at least one party, with valid and distinct names.
    InvalidParties(String),
    /// The record is for another round.
    WrongRound {
        /// This round.
        expected: String,
        /// The record's round.
        found: String,
    },
    /// The party does not take part in this round.
    UnknownParty {
        /// The party.
        party: String,
    },
    /// The party already committed; its first commitment stands.
    AlreadyCommitted {
        /// The party.
        party: String,
    },
    /// The party already revealed a seed that opens its commitment.
    AlreadyRevealed {
        /// The party.
        party: String,
    },
}

impl fmt::Display for RoundError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            RoundError::InvalidParties(why) => write!(f, "invalid parties for a round: {why}"),
            RoundError::WrongRound { expected, found } => {
                write!(f, "record is for round {found:?}, not {expected:?}")
            }
            RoundError::UnknownParty { party } => {
                write!(f, "party {party:?} does not take part in this round")
            }
            RoundError::AlreadyCommitted { party } => {
                write!(
                    f,
                    "party {party:?} already committed to a seed in this round"
                )
            }
            RoundError::AlreadyRevealed { party } => {
                write!(f, "party {party:?} already revealed its seed in this round")
            }
        }
    }
}

impl std::error::Error for RoundError {}

/// Something a party did wrong in a round, kept as evidence.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RoundFault {
    /// The party revealed its seed before every party had committed: a party that
    /// committed later could have chosen its seed knowing this one, so the round is void.
    EarlyReveal {
        /// The party.
        party: String,
    },
    /// The party published a seed that does not open its commitment.
    BadReveal {
        /// The party.
        party: String,
    },
}

impl fmt::Display for RoundFault {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            RoundFault::EarlyReveal { party } => write!(
                f,
                "{party} revealed its seed before every party had committed; the round is void"
            ),
            RoundFault::BadReveal { party } => {
                write!(
                    f,
                    "{party} published a seed that does not open its commitment"
                )
            }
        }
    }
}

/// Where a round stands.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RoundStatus {
    /// The round.
    pub round: String,
    /// Parties whose commitment is in, in name order.
    pub committed: Vec<String>,
    /// Parties whose seed opened their commitment, in name order.
    pub revealed: Vec<String>,
    /// Parties that have not committed, in name order.
    pub awaiting_commitment: Vec<String>,
    /// Parties that committed but have not (validly) revealed, in name order. After the
    /// deadline for reveals, these are the parties to report.
    pub awaiting_reveal: Vec<String>,
    /// Faults, in the order they happened.
    pub faults: Vec<RoundFault>,
    /// The combined seed, once every party has validly revealed and no reveal came early.
    pub combined: Option<Hash>,
}

impl RoundStatus {
    /// Whether the round has produced its combined seed.
    pub fn is_complete(&self) -> bool {
        self.combined.is_some()
    }

    /// Whether the round can no longer produce a seed (a reveal came too early).
    pub fn is_void(&self) -> bool {
        self.faults
            .iter()
            .any(|f| matches!(f, RoundFault::EarlyReveal { .. }))
    }
}

/// One round of joint randomness among a fixed set of parties. Feed it the commitments
/// and reveals in the order the logs establish (the order matters: a reveal before the
/// last commitment voids the round).
#[derive(Debug, Clone)]
pub struct SeedRound {
    round: String,
    /// Sorted, distinct.
    parties: Vec<String>,
    commitments: Vec<Option<SeedCommitment>>,
    reveals: Vec<Option<Seed>>,
    faults: Vec<RoundFault>,
}

impl SeedRound {
    /// A round among `parties`.
    pub fn new(round: &str, parties: &[&str]) -> Result<SeedRound, RoundError> {
        if let Some(p) = name_problem(round) {
            return Err(RoundError::InvalidParties(format!("round name {p}")));
        }
        let mut sorted: Vec<String> = parties.iter().map(|p| (*p).to_owned()).collect();
        sorted.sort();
        let n = sorted.len();
        sorted.dedup();
        if sorted.is_empty() || sorted.len() != n {
            return Err(RoundError::InvalidParties(
                "need at least one party and no party twice".to_owned(),
            ));
        }
        if let Some((p, why)) = sorted
            .iter()
            .find_map(|p| name_problem(p).map(|why| (p, why)))
        {
            return Err(RoundError::InvalidParties(format!("party {p:?}: {why}")));
        }
        Ok(SeedRound {
            round: round.to_owned(),
            commitments: vec![None; n],
            reveals: vec![None; n],
            parties: sorted,
            faults: Vec::new(),
        })
    }

    fn slot(&self, round: &str, party: &str) -> Result<usize, RoundError> {
        if round != self.round {
            return Err(RoundError::WrongRound {
                expected: self.round.clone(),
                found: round.to_owned(),
            });
        }
        self.parties
            .binary_search_by(|p| p.as_str().cmp(party))
            .map_err(|_| RoundError::UnknownParty {
                party: party.to_owned(),
            })
    }

    /// Records a party's commitment.
    pub fn commit(&mut self, commitment: SeedCommitment) -> Result<(), RoundError> {
        let i = self.slot(&commitment.round, &commitment.party)?;
        match self.commitments.get_mut(i) {
            Some(Some(_)) => Err(RoundError::AlreadyCommitted {
                party: commitment.party,
            }),
            Some(slot) => {
                *slot = Some(commitment);
                Ok(())
            }
            None => Err(RoundError::UnknownParty {
                party: commitment.party,
            }),
        }
    }

    /// Records a party's reveal. A reveal before every party has committed is an
    /// [`RoundFault::EarlyReveal`] (the round is void); a seed that does not open the
    /// party's commitment is a [`RoundFault::BadReveal`] (the party may still reveal the
    /// right seed).
    pub fn reveal(&mut self, reveal: SeedReveal) -> Result<(), RoundError> {
        let i = self.slot(&reveal.round, &reveal.party)?;
        if self.reveals.get(i).is_some_and(Option::is_some) {
            return Err(RoundError::AlreadyRevealed {
                party: reveal.party,
            });
        }
        if self.commitments.iter().any(Option::is_none) {
            self.faults.push(RoundFault::EarlyReveal {
                party: reveal.party,
            });
            return Ok(());
        }
        let opens = self
            .commitments
            .get(i)
            .and_then(Option::as_ref)
            .is_some_and(|c| reveal.opens(c));
        if !opens {
            self.faults.push(RoundFault::BadReveal {
                party: reveal.party,
            });
            return Ok(());
        }
        if let Some(slot) = self.reveals.get_mut(i) {
            *slot = Some(reveal.seed);
        }
        Ok(())
    }

    /// Where the round stands.
    pub fn status(&self) -> RoundStatus {
        let pick = |want: &dyn Fn(usize) -> bool| -> Vec<String> {
            self.parties
                .iter()
                .enumerate()
                .filter(|(i, _)| want(*i))
                .map(|(_, p)| p.clone())
                .collect()
        };
        let committed_at = |i: usize| self.commitments.get(i).is_some_and(Option::is_some);
        let revealed_at = |i: usize| self.reveals.get(i).is_some_and(Option::is_some);
        let committed = pick(&committed_at);
        let revealed = pick(&revealed_at);
        let awaiting_commitment = pick(&|i| !committed_at(i));
        let awaiting_reveal = pick(&|i| committed_at(i) && !revealed_at(i));
        let void = self
            .faults
            .iter()
            .any(|f| matches!(f, RoundFault::EarlyReveal { .. }));
        let combined = if !void && revealed.len() == self.parties.len() {
            let seeds: Vec<(String, Seed)> = self
                .parties
                .iter()
                .zip(&self.reveals)
                .filter_map(|(p, s)| s.map(|s| (p.clone(), s)))
                .collect();
            Some(joint_seed(&self.round, &seeds))
        } else {
            None
        };
        RoundStatus {
            round: self.round.clone(),
            committed,
            revealed,
            awaiting_commitment,
            awaiting_reveal,
            faults: self.faults.clone(),
            combined,
        }
    }
}

/// Why sites could not be drawn.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DrawError {
    /// The candidates must be sorted and distinct, so every node starts from the same
    /// list.
    NotSorted {
        /// The position of the first candidate not after its predecessor.
        position: usize,
    },
    /// More sites asked for than there are candidates.
    TooMany {
        /// Sites asked for.
        wanted: usize,
        /// Candidates.
        candidates: usize,
    },
}

impl fmt::Display for DrawError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            DrawError::NotSorted { position } => write!(
                f,
                "candidate site {position} is not after the one before it: candidates must be sorted and distinct"
            ),
            DrawError::TooMany { wanted, candidates } => write!(
                f,
                "{wanted} sites asked for, but there are only {candidates} candidates"
            ),
        }
    }
}

impl std::error::Error for DrawError {}

/// A reproducible stream of u64 words: SHA-256 in counter mode over the combined seed.
#[derive(Debug, Clone)]
pub struct DrawStream {
    seed: Hash,
    block: u64,
    words: [u64; 4],
    next: usize,
}

impl DrawStream {
    /// The stream for a combined seed.
    pub fn new(seed: &Hash) -> DrawStream {
        DrawStream {
            seed: *seed,
            block: 0,
            words: [0; 4],
            next: 4,
        }
    }

    /// The next word.
    pub fn next_u64(&mut self) -> u64 {
        if self.next >= 4 {
            let mut h = Sha256::new();
            h.update(DRAW_TAG.as_bytes());
            h.update(self.seed);
            h.update(self.block.to_be_bytes());
            let out: [u8; 32] = h.finalize().into();
            for (w, chunk) in self.words.iter_mut().zip(out.chunks_exact(8)) {
                let mut b = [0u8; 8];
                b.copy_from_slice(chunk);
                *w = u64::from_be_bytes(b);
            }
            self.block = self.block.wrapping_add(1);
            self.next = 0;
        }
        let w = self.words.get(self.next).copied().unwrap_or(0);
        self.next += 1;
        w
    }

    /// A uniform integer in `[0, m)` by rejection sampling (`m` of 0 gives 0).
    pub fn below(&mut self, m: u64) -> u64 {
        if m <= 1 {
            return 0;
        }
        let span = u128::from(m);
        let accept_below = (1u128 << 64) / span * span;
        loop {
            let x = self.next_u64();
            if u128::from(x) < accept_below {
                return x % m;
            }
        }
    }
}

/// Draws `n` distinct sites from `candidates` (sorted, distinct), reproducibly from the
/// combined seed, in draw order.
pub fn draw_sites(
    combined: &Hash,
    candidates: &[String],
    n: usize,
) -> Result<Vec<String>, DrawError> {
    if let Some(position) = candidates
        .windows(2)
        .position(|w| matches!(w, [a, b] if a >= b))
    {
        return Err(DrawError::NotSorted {
            position: position + 1,
        });
    }
    if n > candidates.len() {
        return Err(DrawError::TooMany {
            wanted: n,
            candidates: candidates.len(),
        });
    }
    let mut stream = DrawStream::new(combined);
    let mut order: Vec<usize> = (0..candidates.len()).collect();
    let len = order.len();
    for i in 0..n {
        let j = i + usize::try_from(stream.below((len - i) as u64)).unwrap_or(0);
        order.swap(i, j);
    }
    Ok(order
        .iter()
        .take(n)
        .filter_map(|&i| candidates.get(i).cloned())
        .collect())
}
