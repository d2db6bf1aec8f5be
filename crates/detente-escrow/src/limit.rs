//! Proofs that a committed number is at most a bound, without disclosing it.
//!
//! This is the only module that uses the curve25519-dalek 4 generation (through
//! bulletproofs 5); its types never leave it (STACK.md, gotcha 1).
//!
//! The party commits to `value` with a Pedersen commitment `C = value·B + r·B̃` (`B` the
//! Ristretto base point, `B̃` the Bulletproofs blinding generator, `r` a random scalar)
//! and proves, in one aggregated Bulletproofs range proof over 32-bit values, that both
//!
//! * `value` (opening `C`) and
//! * `bound - value` (opening `bound·B - C`, blinding `-r`)
//!
//! lie in `[0, 2^32)`. Since `bound < 2^32`, the second can only hold if
//! `value <= bound`. The verifier computes `bound·B - C` itself from the bound it
//! expects, so a proof made for another bound fails. The Fiat–Shamir transcript starts
//! with `"detente-escrow/limit/v1"` and binds the party, the quantity's name, the bound
//! and the `as_of` date, so a proof cannot be replayed for another party, quantity,
//! bound or date.
//!
//! Verification is deterministic: the random weight Bulletproofs verification uses to
//! combine its checks is drawn from a ChaCha generator seeded with
//! `SHA-256("detente-escrow/limit-verify/v1" || encoded limit proof)`, so every node
//! reaches the same answer, and a prover cannot know the weight before fixing the proof.
//!
//! An aggregated proof for two values is 672 bytes; two separate proofs would be 1216
//! (2 × 608), so the aggregated form is what keeps the record under 1 KB.
//!
//! ```text
//! limit proof:  tag "detente-escrow/limit-proof/v1", party name, quantity name,
//!               as_of date, bound u64 BE (< 2^32), commitment 32 bytes (compressed
//!               Ristretto C), proof u16 BE length (= 672) + bytes
//! opening:      tag "detente-escrow/limit-opening/v1", party name, quantity name,
//!               as_of date, value u64 BE (< 2^32), blinding 32 bytes (canonical scalar,
//!               little-endian)
//! ```

use std::fmt;
use std::sync::OnceLock;

use bulletproofs::{BulletproofGens, PedersenGens, RangeProof};
use curve25519_dalek_v4::ristretto::{CompressedRistretto, RistrettoPoint};
use curve25519_dalek_v4::scalar::Scalar;
use merlin::Transcript;
use rand08::SeedableRng as _;
use sha2::{Digest as _, Sha256};

use crate::codec::{
    FormatError, MAX_NAME_BYTES, Problem, Reader, Writer, date_problem, invalid, name_problem,
};

/// The domain tag of a [`LimitProof`] record.
pub const LIMIT_PROOF_TAG: &str = "detente-escrow/limit-proof/v1";
/// The domain tag of an [`Opening`] record.
pub const OPENING_TAG: &str = "detente-escrow/limit-opening/v1";
/// The Fiat–Shamir transcript label.
pub const TRANSCRIPT_LABEL: &[u8] = b"detente-escrow/limit/v1";
/// The tag of the verifier's deterministic weight seed.
pub const VERIFY_SEED_TAG: &str = "detente-escrow/limit-verify/v1";
/// The range proved: values in `[0, 2^RANGE_BITS)`.
pub const RANGE_BITS: usize = 32;
/// The largest bound (and value) a proof can be made for.
pub const MAX_BOUND: u64 = (1 << RANGE_BITS) - 1;
/// The size of the aggregated range proof for two 32-bit values.
pub const RANGE_PROOF_BYTES: usize = 672;
/// The largest encoded limit proof (with 128-byte names): 1013 bytes.
pub const MAX_LIMIT_PROOF_BYTES: usize =
    LIMIT_PROOF_TAG.len() + 2 * (2 + MAX_NAME_BYTES) + 10 + 8 + 32 + 2 + RANGE_PROOF_BYTES;
const MAX_OPENING_BYTES: usize = OPENING_TAG.len() + 2 * (2 + MAX_NAME_BYTES) + 10 + 8 + 32;

fn pedersen() -> &'static PedersenGens {
    static GENS: OnceLock<PedersenGens> = OnceLock::new();
    GENS.get_or_init(PedersenGens::default)
}

fn bulletproof_gens() -> &'static BulletproofGens {
    static GENS: OnceLock<BulletproofGens> = OnceLock::new();
    GENS.get_or_init(|| BulletproofGens::new(RANGE_BITS, 2))
}

/// What a limit proof is about.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct LimitContext {
    /// The proving party.
    pub party: String,
    /// The quantity's name (e.g. `strategic_delivery_vehicles`).
    pub quantity: String,
    /// The date the value is as of, `YYYY-MM-DD`.
    pub as_of: String,
}

impl LimitContext {
    /// A context (checked).
    pub fn new(party: &str, quantity: &str, as_of: &str) -> Result<LimitContext, FormatError> {
        let c = LimitContext {
            party: party.to_owned(),
            quantity: quantity.to_owned(),
            as_of: as_of.to_owned(),
        };
        c.validate("limit-proof")?;
        Ok(c)
    }

    fn validate(&self, record: &'static str) -> Result<(), FormatError> {
        if let Some(p) = name_problem(&self.party) {
            return Err(invalid(record, "party", p));
        }
        if let Some(p) = name_problem(&self.quantity) {
            return Err(invalid(record, "quantity", p));
        }
        if let Some(p) = date_problem(&self.as_of) {
            return Err(invalid(record, "as_of", p));
        }
        Ok(())
    }

    fn write(&self, w: &mut Writer) {
        w.str(&self.party);
        w.str(&self.quantity);
        w.bytes(self.as_of.as_bytes());
    }

    fn read(r: &mut Reader<'_>) -> Result<LimitContext, FormatError> {
        Ok(LimitContext {
            party: r.name("party")?,
            quantity: r.name("quantity")?,
            as_of: r.date("as_of")?,
        })
    }

    fn transcript(&self, bound: u64) -> Transcript {
        let mut t = Transcript::new(TRANSCRIPT_LABEL);
        t.append_message(b"party", self.party.as_bytes());
        t.append_message(b"quantity", self.quantity.as_bytes());
        t.append_message(b"as_of", self.as_of.as_bytes());
        t.append_u64(b"bound", bound);
        t
    }
}

/// A proof that the committed value of a quantity is at most a bound (a log entry).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LimitProof {
    /// What it is about.
    pub context: LimitContext,
    /// The bound proved.
    pub bound: u64,
    /// The Pedersen commitment `C` to the value (compressed Ristretto).
    pub commitment: [u8; 32],
    /// The aggregated range proof, [`RANGE_PROOF_BYTES`] long.
    pub proof: Vec<u8>,
}

/// The secret that opens a limit proof's commitment. The party keeps it; publishing it
/// later (a log entry) discloses the value and lets everyone check it against the
/// commitment.
#[derive(Clone, PartialEq, Eq)]
pub struct Opening {
    /// What it is about.
    pub context: LimitContext,
    /// The committed value.
    pub value: u64,
    /// The blinding scalar `r` (canonical, little-endian).
    pub blinding: [u8; 32],
}

impl fmt::Debug for Opening {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // The blinding stays out of logs and panic messages.
        f.debug_struct("Opening")
            .field("context", &self.context)
            .field("value", &self.value)
            .field("blinding", &"<secret>")
            .finish()
    }
}

/// Why a limit proof could not be made or does not verify, or an opening does not
/// match.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LimitError {
    /// A name or date is not valid, or bytes are not a valid record.
    Format(FormatError),
    /// Bounds must be below 2^32.
    BoundTooLarge {
        /// The bound.
        bound: u64,
    },
    /// The value is above the bound: no proof can be made.
    ValueAboveBound {
        /// The value.
        value: u64,
        /// The bound.
        bound: u64,
    },
    /// The proof is for another bound than the one the verifier expects.
    BoundMismatch {
        /// The bound in the proof.
        proved: u64,
        /// The bound expected.
        expected: u64,
    },
    /// The proof or opening is about another party, quantity or date.
    ContextMismatch {
        /// `"party"`, `"quantity"` or `"as_of"`.
        field: &'static str,
        /// The record's value.
        found: String,
        /// The value expected.
        expected: String,
    },
    /// The commitment is not a valid Ristretto point.
    InvalidCommitment,
    /// The proof bytes are not a range proof.
    InvalidProof,
    /// The range proof does not verify: the value is not shown to be at most the bound.
    VerificationFailed,
    /// The opening's value and blinding do not give the committed point.
    OpeningMismatch {
        /// The value the opening claims.
        value: u64,
    },
    /// The prover failed internally (should not happen).
    Internal(String),
}

impl fmt::Display for LimitError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            LimitError::Format(e) => write!(f, "{e}"),
            LimitError::BoundTooLarge { bound } => {
                write!(f, "bound {bound} is not below 2^32 = 4294967296")
            }
            LimitError::ValueAboveBound { value, bound } => {
                write!(
                    f,
                    "value {value} is above the bound {bound}: no proof exists"
                )
            }
            LimitError::BoundMismatch { proved, expected } => write!(
                f,
                "the proof is for bound {proved}, not the expected bound {expected}"
            ),
            LimitError::ContextMismatch {
                field,
                found,
                expected,
            } => write!(f, "the record's {field} is {found:?}, not {expected:?}"),
            LimitError::InvalidCommitment => {
                write!(f, "the commitment is not a valid Ristretto point")
            }
            LimitError::InvalidProof => write!(f, "the proof bytes are not a range proof"),
            LimitError::VerificationFailed => write!(
                f,
                "the range proof does not verify: the committed value is not shown to be at most the bound"
            ),
            LimitError::OpeningMismatch { value } => write!(
                f,
                "the opening (value {value}) does not match the commitment"
            ),
            LimitError::Internal(why) => write!(f, "internal prover error: {why}"),
        }
    }
}

impl std::error::Error for LimitError {}

impl From<FormatError> for LimitError {
    fn from(e: FormatError) -> LimitError {
        LimitError::Format(e)
    }
}

fn check_context(found: &LimitContext, expected: &LimitContext) -> Result<(), LimitError> {
    for (field, f, e) in [
        ("party", &found.party, &expected.party),
        ("quantity", &found.quantity, &expected.quantity),
        ("as_of", &found.as_of, &expected.as_of),
    ] {
        if f != e {
            return Err(LimitError::ContextMismatch {
                field,
                found: f.clone(),
                expected: e.clone(),
            });
        }
    }
    Ok(())
}

/// Proves that `value <= bound` for `context`, with a fresh blinding drawn from `rng`.
/// Returns the public proof and the secret opening.
pub fn prove_at_most(
    context: &LimitContext,
    value: u64,
    bound: u64,
    rng: &mut (impl rand08::RngCore + rand08::CryptoRng),
) -> Result<(LimitProof, Opening), LimitError> {
    context.validate("limit-proof")?;
    if bound > MAX_BOUND {
        return Err(LimitError::BoundTooLarge { bound });
    }
    if value > bound {
        return Err(LimitError::ValueAboveBound { value, bound });
    }
    let r = Scalar::random(rng);
    let mut transcript = context.transcript(bound);
    let (proof, commitments) = RangeProof::prove_multiple_with_rng(
        bulletproof_gens(),
        pedersen(),
        &mut transcript,
        &[value, bound - value],
        &[r, -r],
        RANGE_BITS,
        rng,
    )
    .map_err(|e| LimitError::Internal(format!("{e:?}")))?;
    let Some(c) = commitments.first() else {
        return Err(LimitError::Internal("no commitment returned".to_owned()));
    };
    // The second commitment must be the one the verifier derives.
    if commitments.get(1) != Some(&derived(c, bound)?) {
        return Err(LimitError::Internal(
            "the bound commitment is not bound·B - C".to_owned(),
        ));
    }
    let proof = LimitProof {
        context: context.clone(),
        bound,
        commitment: c.to_bytes(),
        proof: proof.to_bytes(),
    };
    let opening = Opening {
        context: context.clone(),
        value,
        blinding: r.to_bytes(),
    };
    Ok((proof, opening))
}

/// `bound·B - C`, the commitment to `bound - value`.
fn derived(c: &CompressedRistretto, bound: u64) -> Result<CompressedRistretto, LimitError> {
    let point = c.decompress().ok_or(LimitError::InvalidCommitment)?;
    let bound_point: RistrettoPoint = Scalar::from(bound) * pedersen().B;
    Ok((bound_point - point).compress())
}

/// Verifies that `proof` shows the value committed for `context` is at most `bound`.
/// The bound and context are the verifier's own (from the treaty and the log entry);
/// a proof about anything else fails.
pub fn verify_at_most(
    proof: &LimitProof,
    bound: u64,
    context: &LimitContext,
) -> Result<(), LimitError> {
    if bound > MAX_BOUND {
        return Err(LimitError::BoundTooLarge { bound });
    }
    if proof.bound != bound {
        return Err(LimitError::BoundMismatch {
            proved: proof.bound,
            expected: bound,
        });
    }
    check_context(&proof.context, context)?;
    let encoded = proof.encode()?;
    let c = CompressedRistretto(proof.commitment);
    let v1 = derived(&c, bound)?;
    if proof.proof.len() != RANGE_PROOF_BYTES {
        return Err(LimitError::InvalidProof);
    }
    let range_proof = RangeProof::from_bytes(&proof.proof).map_err(|_| LimitError::InvalidProof)?;
    let seed: [u8; 32] = Sha256::new()
        .chain_update(VERIFY_SEED_TAG.as_bytes())
        .chain_update(&encoded)
        .finalize()
        .into();
    let mut weights = rand08::rngs::StdRng::from_seed(seed);
    let mut transcript = context.transcript(bound);
    range_proof
        .verify_multiple_with_rng(
            bulletproof_gens(),
            pedersen(),
            &mut transcript,
            &[c, v1],
            RANGE_BITS,
            &mut weights,
        )
        .map_err(|_| LimitError::VerificationFailed)
}

/// Checks that a published opening matches the proof's commitment (and is about the
/// same party, quantity and date). A mismatch is a violation: the party committed to
/// one number and now claims another.
pub fn check_opening(proof: &LimitProof, opening: &Opening) -> Result<(), LimitError> {
    check_context(&opening.context, &proof.context)?;
    let r = Option::<Scalar>::from(Scalar::from_canonical_bytes(opening.blinding)).ok_or_else(
        || {
            LimitError::Format(invalid(
                "limit-opening",
                "blinding",
                Problem::Invalid("not a canonical scalar".to_owned()),
            ))
        },
    )?;
    let point = pedersen().commit(Scalar::from(opening.value), r);
    if point.compress().to_bytes() != proof.commitment {
        return Err(LimitError::OpeningMismatch {
            value: opening.value,
        });
    }
    Ok(())
}

impl LimitProof {
    /// The canonical bytes.
    pub fn encode(&self) -> Result<Vec<u8>, FormatError> {
        self.context.validate("limit-proof")?;
        if self.bound > MAX_BOUND {
            return Err(invalid(
                "limit-proof",
                "bound",
                Problem::Invalid(format!("{} is not below 2^32", self.bound)),
            ));
        }
        if self.proof.len() != RANGE_PROOF_BYTES {
            return Err(invalid(
                "limit-proof",
                "proof",
                Problem::Length {
                    len: self.proof.len(),
                    min: RANGE_PROOF_BYTES,
                    max: RANGE_PROOF_BYTES,
                },
            ));
        }
        let mut w = Writer::with_tag(LIMIT_PROOF_TAG);
        self.context.write(&mut w);
        w.u64(self.bound);
        w.bytes(&self.commitment);
        w.u16(RANGE_PROOF_BYTES as u16);
        w.bytes(&self.proof);
        Ok(w.finish())
    }

    /// Decodes canonical bytes; the commitment must be a valid point and the proof must
    /// parse (whether it verifies is [`verify_at_most`]'s business).
    pub fn decode(bytes: &[u8]) -> Result<LimitProof, FormatError> {
        let mut r = Reader::new("limit-proof", LIMIT_PROOF_TAG, bytes, MAX_LIMIT_PROOF_BYTES)?;
        let context = LimitContext::read(&mut r)?;
        let at = r.pos();
        let bound = r.u64("bound")?;
        if bound > MAX_BOUND {
            return Err(r.err(
                "bound",
                at,
                Problem::Invalid(format!("{bound} is not below 2^32")),
            ));
        }
        let at = r.pos();
        let commitment = r.array::<32>("commitment")?;
        if CompressedRistretto(commitment).decompress().is_none() {
            return Err(r.err(
                "commitment",
                at,
                Problem::Invalid("not a valid compressed Ristretto point".to_owned()),
            ));
        }
        let at = r.pos();
        let len = usize::from(r.u16("proof length")?);
        if len != RANGE_PROOF_BYTES {
            return Err(r.err(
                "proof length",
                at,
                Problem::Length {
                    len,
                    min: RANGE_PROOF_BYTES,
                    max: RANGE_PROOF_BYTES,
                },
            ));
        }
        let at = r.pos();
        let proof = r.take("proof", len)?.to_vec();
        if RangeProof::from_bytes(&proof).is_err() {
            return Err(r.err(
                "proof",
                at,
                Problem::Invalid("not a range proof (a scalar is not canonical)".to_owned()),
            ));
        }
        r.finish()?;
        Ok(LimitProof {
            context,
            bound,
            commitment,
            proof,
        })
    }
}

impl Opening {
    /// The canonical bytes.
    pub fn encode(&self) -> Result<Vec<u8>, FormatError> {
        self.context.validate("limit-opening")?;
        if self.value > MAX_BOUND {
            return Err(invalid(
                "limit-opening",
                "value",
                Problem::Invalid(format!("{} is not below 2^32", self.value)),
            ));
        }
        if Option::<Scalar>::from(Scalar::from_canonical_bytes(self.blinding)).is_none() {
            return Err(invalid(
                "limit-opening",
                "blinding",
                Problem::Invalid("not a canonical scalar".to_owned()),
            ));
        }
        let mut w = Writer::with_tag(OPENING_TAG);
        self.context.write(&mut w);
        w.u64(self.value);
        w.bytes(&self.blinding);
        Ok(w.finish())
    }

    /// Decodes canonical bytes.
    pub fn decode(bytes: &[u8]) -> Result<Opening, FormatError> {
        let mut r = Reader::new("limit-opening", OPENING_TAG, bytes, MAX_OPENING_BYTES)?;
        let context = LimitContext::read(&mut r)?;
        let at = r.pos();
        let value = r.u64("value")?;
        if value > MAX_BOUND {
            return Err(r.err(
                "value",
                at,
                Problem::Invalid(format!("{value} is not below 2^32")),
            ));
        }
        let at = r.pos();
        let blinding = r.array::<32>("blinding")?;
        if Option::<Scalar>::from(Scalar::from_canonical_bytes(blinding)).is_none() {
            return Err(r.err(
                "blinding",
                at,
                Problem::Invalid("not a canonical scalar".to_owned()),
            ));
        }
        r.finish()?;
        Ok(Opening {
            context,
            value,
            blinding,
        })
    }
}
