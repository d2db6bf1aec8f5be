//! Receipts: C2SP transparency log proofs (<https://c2sp.org/tlog-proof>).
//!
//! ```text
//! c2sp.org/tlog-proof@v1
//! [extra <base64 opaque data>]
//! index <decimal>
//! <base64 inclusion proof hash, leaf sibling first>   (zero or more lines)
//!
//! <signed and cosigned checkpoint note, verbatim>
//! ```
//!
//! A receipt lets anyone holding the entry bytes, the log's public key and the keys of
//! the cosigners they trust check offline that the entry is in the log, and when each
//! cosigner had seen it.

use std::fmt;

use crate::Hash;
use crate::checkpoint::{Cosignature, open_checkpoint, verify_cosignature};
use crate::entry::{Entry, EntryError};
use crate::merkle::{ProofError, leaf_hash, verify_inclusion};
use crate::note::{Algorithm, MAX_NOTE_BYTES, NoteError, Verifier};
use crate::text::{b64_decode, b64_decode_32, b64_encode, parse_decimal};

/// The first line of every receipt.
pub const HEADER: &str = "c2sp.org/tlog-proof@v1";

/// The most proof hashes accepted: a tree of up to 2^64 leaves needs at most 64.
pub const MAX_PROOF_HASHES: usize = 64;

/// The largest extra data accepted, decoded.
pub const MAX_EXTRA_BYTES: usize = 16 * 1024;

/// The largest receipt accepted: header, extra, index, 64 hashes, and a note.
pub const MAX_RECEIPT_BYTES: usize = MAX_NOTE_BYTES + 4 * MAX_EXTRA_BYTES / 3 + 8 * 1024;

/// A receipt for one entry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Receipt {
    /// The entry's index in the log.
    pub index: u64,
    /// The inclusion proof in the checkpoint's tree, leaf sibling first.
    pub proof: Vec<Hash>,
    /// The signed (and usually cosigned) checkpoint note, verbatim.
    pub checkpoint_note: String,
    /// Opaque, unauthenticated extra data (detente sets none).
    pub extra: Option<Vec<u8>>,
}

/// What a verified receipt establishes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Verified {
    /// The log's origin.
    pub origin: String,
    /// The entry's index.
    pub index: u64,
    /// The size of the checkpoint's tree.
    pub size: u64,
    /// The checkpoint's root.
    pub root: Hash,
    /// Each valid cosignature by a trusted cosigner: (cosigner name, POSIX seconds), in
    /// the order the note lists them.
    pub cosigned_by: Vec<(String, u64)>,
}

/// Why a receipt could not be parsed or did not verify.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ReceiptError {
    /// Larger than [`MAX_RECEIPT_BYTES`].
    TooLarge {
        /// Its length.
        len: usize,
    },
    /// A line of the receipt is malformed.
    Syntax {
        /// 1-based line.
        line: usize,
        /// What is wrong.
        problem: String,
    },
    /// The checkpoint note or a cosignature is invalid.
    Note(NoteError),
    /// The inclusion proof does not verify.
    Proof(ProofError),
    /// The entry bytes are not a valid entry.
    Entry(EntryError),
    /// The entry says it is at another index than the receipt.
    EntryIndexMismatch {
        /// The index in the entry.
        entry_index: u64,
        /// The index in the receipt.
        receipt_index: u64,
    },
    /// The entry says it belongs to another log.
    EntryOriginMismatch {
        /// The origin in the entry.
        entry_origin: String,
        /// The checkpoint's origin.
        log_origin: String,
    },
    /// A verifier of the wrong type was given as a cosigner.
    NotACosigner {
        /// Its key name.
        name: String,
    },
}

impl fmt::Display for ReceiptError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::TooLarge { len } => write!(
                f,
                "receipt: {len} bytes is more than the {MAX_RECEIPT_BYTES}-byte limit"
            ),
            Self::Syntax { line, problem } => write!(f, "receipt line {line}: {problem}"),
            Self::Note(e) => write!(f, "receipt checkpoint: {e}"),
            Self::Proof(e) => write!(f, "receipt inclusion proof: {e}"),
            Self::Entry(e) => write!(f, "receipt entry: {e}"),
            Self::EntryIndexMismatch {
                entry_index,
                receipt_index,
            } => write!(
                f,
                "receipt: the entry is for index {entry_index}, the receipt for index {receipt_index}"
            ),
            Self::EntryOriginMismatch {
                entry_origin,
                log_origin,
            } => write!(
                f,
                "receipt: the entry is for log {entry_origin:?}, the checkpoint is of log {log_origin:?}"
            ),
            Self::NotACosigner { name } => write!(
                f,
                "receipt: cosigner key {name} is not a cosignature (0x04) key"
            ),
        }
    }
}

impl std::error::Error for ReceiptError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            Self::Note(e) => Some(e),
            Self::Proof(e) => Some(e),
            Self::Entry(e) => Some(e),
            _ => None,
        }
    }
}

impl From<NoteError> for ReceiptError {
    fn from(e: NoteError) -> Self {
        ReceiptError::Note(e)
    }
}

impl From<ProofError> for ReceiptError {
    fn from(e: ProofError) -> Self {
        ReceiptError::Proof(e)
    }
}

impl From<EntryError> for ReceiptError {
    fn from(e: EntryError) -> Self {
        ReceiptError::Entry(e)
    }
}

fn syntax(line: usize, problem: impl Into<String>) -> ReceiptError {
    ReceiptError::Syntax {
        line,
        problem: problem.into(),
    }
}

impl Receipt {
    /// The receipt text (`.tlog-proof` file contents).
    pub fn format(&self) -> String {
        let mut out =
            String::with_capacity(64 + 45 * self.proof.len() + self.checkpoint_note.len());
        out.push_str(HEADER);
        out.push('\n');
        if let Some(extra) = &self.extra {
            out.push_str("extra ");
            out.push_str(&b64_encode(extra));
            out.push('\n');
        }
        out.push_str(&format!("index {}\n", self.index));
        for h in &self.proof {
            out.push_str(&b64_encode(h));
            out.push('\n');
        }
        out.push('\n');
        out.push_str(&self.checkpoint_note);
        out
    }

    /// Parses receipt text. Checks the syntax only; [`verify_receipt`] checks the rest.
    pub fn parse(text: &str) -> Result<Receipt, ReceiptError> {
        if text.len() > MAX_RECEIPT_BYTES {
            return Err(ReceiptError::TooLarge { len: text.len() });
        }
        let mut rest = text;
        let mut line_no = 0usize;
        // Takes the next line (without its newline); None at the end of the text.
        let mut next_line = |line_no: &mut usize| -> Option<&str> {
            let (line, after) = rest.split_once('\n')?;
            rest = after;
            *line_no += 1;
            Some(line)
        };

        let header = next_line(&mut line_no).ok_or_else(|| syntax(1, "empty receipt"))?;
        if header != HEADER {
            return Err(syntax(1, format!("first line is not {HEADER:?}")));
        }
        let mut line =
            next_line(&mut line_no).ok_or_else(|| syntax(2, "ends before the \"index\" line"))?;
        let mut extra = None;
        if let Some(b64) = line.strip_prefix("extra ") {
            if b64.len() > 4 * MAX_EXTRA_BYTES / 3 + 4 {
                return Err(syntax(
                    line_no,
                    format!("extra data is more than {MAX_EXTRA_BYTES} bytes"),
                ));
            }
            extra = Some(
                b64_decode(b64).ok_or_else(|| syntax(line_no, "extra data is not valid base64"))?,
            );
            line = next_line(&mut line_no)
                .ok_or_else(|| syntax(line_no + 1, "ends before the \"index\" line"))?;
        }
        let index_text = line
            .strip_prefix("index ")
            .ok_or_else(|| syntax(line_no, "expected \"index <decimal>\""))?;
        let index = parse_decimal(index_text)
            .map_err(|problem| syntax(line_no, format!("index {index_text:?} {problem}")))?;

        let mut proof = Vec::new();
        loop {
            let line = next_line(&mut line_no).ok_or_else(|| {
                syntax(
                    line_no + 1,
                    "ends before the blank line that precedes the checkpoint",
                )
            })?;
            if line.is_empty() {
                break;
            }
            if proof.len() >= MAX_PROOF_HASHES {
                return Err(syntax(
                    line_no,
                    format!("more than {MAX_PROOF_HASHES} proof hashes"),
                ));
            }
            let hash = b64_decode_32(line).ok_or_else(|| {
                syntax(
                    line_no,
                    format!("proof hash {line:?} is not base64 of 32 bytes"),
                )
            })?;
            proof.push(hash);
        }
        if rest.is_empty() {
            return Err(syntax(line_no + 1, "the checkpoint is missing"));
        }
        Ok(Receipt {
            index,
            proof,
            checkpoint_note: rest.to_owned(),
            extra,
        })
    }
}

/// Checks offline: the checkpoint signature by `log`, each cosignature by a key in
/// `cosigners` (unknown cosigners are ignored, bad signatures by known cosigners are an
/// error), and the inclusion of SHA-256(0x00||entry) at index.
///
/// `entry` must be a valid detente entry whose own index and origin are the receipt's
/// index and the checkpoint's origin, so a receipt cannot be replayed for an entry at
/// another position or in another log. For opaque leaves use [`verify_receipt_leaf`].
///
/// Trust policy (how many cosigners, how recent) is the caller's: see
/// [`Verified::cosigned_by`].
pub fn verify_receipt(
    receipt: &Receipt,
    entry: &[u8],
    log: &Verifier,
    cosigners: &[Verifier],
) -> Result<Verified, ReceiptError> {
    let decoded = Entry::decode(entry)?;
    if decoded.index != receipt.index {
        return Err(ReceiptError::EntryIndexMismatch {
            entry_index: decoded.index,
            receipt_index: receipt.index,
        });
    }
    let verified = verify_receipt_leaf(receipt, &leaf_hash(entry), log, cosigners)?;
    if decoded.origin != verified.origin {
        return Err(ReceiptError::EntryOriginMismatch {
            entry_origin: decoded.origin,
            log_origin: verified.origin,
        });
    }
    Ok(verified)
}

/// [`verify_receipt`] for a leaf hash, without looking inside the entry.
pub fn verify_receipt_leaf(
    receipt: &Receipt,
    leaf: &Hash,
    log: &Verifier,
    cosigners: &[Verifier],
) -> Result<Verified, ReceiptError> {
    if let Some(c) = cosigners
        .iter()
        .find(|c| c.algorithm() != Algorithm::CosignatureV1)
    {
        return Err(ReceiptError::NotACosigner {
            name: c.name().to_owned(),
        });
    }
    let (cp, note) = open_checkpoint(&receipt.checkpoint_note, log)?;
    let mut cosigned_by = Vec::new();
    for (i, sig) in note.signatures.iter().enumerate() {
        let Some(cosigner) = cosigners.iter().find(|c| c.matches(sig)) else {
            continue;
        };
        let with_line = |e: NoteError| match e {
            NoteError::BadSignature { name, key_id, .. } => NoteError::BadSignature {
                name,
                key_id,
                line: Some(note.signature_line_number(i)),
            },
            other => other,
        };
        let cos = Cosignature::from_note_signature(sig).map_err(with_line)?;
        verify_cosignature(&cp, &cos, cosigner).map_err(with_line)?;
        cosigned_by.push((cos.cosigner, cos.timestamp));
    }
    verify_inclusion(leaf, receipt.index, cp.size, &receipt.proof, &cp.root)?;
    Ok(Verified {
        origin: cp.origin,
        index: receipt.index,
        size: cp.size,
        root: cp.root,
        cosigned_by,
    })
}
