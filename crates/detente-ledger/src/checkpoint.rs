//! C2SP checkpoints (<https://c2sp.org/tlog-checkpoint>) and timestamped Ed25519
//! cosignatures (<https://c2sp.org/tlog-cosignature>).
//!
//! A checkpoint is the signed note text
//!
//! ```text
//! <origin>
//! <tree size in decimal>
//! <base64 root hash>
//! [extension lines]
//! ```
//!
//! signed by the log's key (type 0x01, key name = origin). Another node that has checked
//! the checkpoint's consistency with the last one it saw adds a cosignature (type 0x04):
//! an Ed25519 signature over `cosignature/v1\ntime <ts>\n` + the checkpoint text, with
//! `ts` (POSIX seconds, the cosigner's clock) written in front of the signature bytes.
//! That timestamp is the cosigner's statement of when it had seen the log this far: for
//! detente, the proof of when a party received everything up to that size.

use crate::Hash;
use crate::note::{
    Algorithm, MAX_NOTE_BYTES, MAX_SIGNATURES, Note, NoteError, NoteSignature, Signer, Verifier,
    check_note_text, cosignature_message, sign, split_timestamped,
};
use crate::text::{b64_decode, b64_decode_32, b64_encode, key_name_problem, parse_decimal};

/// A log's signed tree head.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Checkpoint {
    /// The log's origin, `detente/<treaty>/<party>` (also its key name).
    pub origin: String,
    /// The number of entries in the log.
    pub size: u64,
    /// The RFC 6962 root of those entries.
    pub root: Hash,
    /// Extension lines (opaque, non-empty, no newline). detente writes none.
    pub extensions: Vec<String>,
}

fn checkpoint_error(line: usize, problem: String) -> NoteError {
    NoteError::Checkpoint { line, problem }
}

impl Checkpoint {
    /// A checkpoint without extension lines.
    pub fn new(origin: &str, size: u64, root: Hash) -> Checkpoint {
        Checkpoint {
            origin: origin.to_owned(),
            size,
            root,
            extensions: Vec::new(),
        }
    }

    /// Checks that the checkpoint's text parses back to itself: the origin is a valid
    /// key name (the log signs with key name = origin) and extension lines are non-empty
    /// single lines.
    pub fn validate(&self) -> Result<(), NoteError> {
        if let Some(problem) = key_name_problem(&self.origin) {
            return Err(checkpoint_error(
                1,
                format!("origin {:?} {problem}", self.origin),
            ));
        }
        for (i, ext) in self.extensions.iter().enumerate() {
            if ext.is_empty() || ext.contains('\n') {
                return Err(checkpoint_error(
                    4 + i,
                    "extension line must be non-empty and a single line".to_owned(),
                ));
            }
        }
        check_note_text(&self.body())
    }

    /// The checkpoint note text (what the log signs), ending in a newline.
    pub fn body(&self) -> String {
        let mut out = format!(
            "{}\n{}\n{}\n",
            self.origin,
            self.size,
            b64_encode(&self.root)
        );
        for ext in &self.extensions {
            out.push_str(ext);
            out.push('\n');
        }
        out
    }

    /// Parses checkpoint note text (without signatures).
    pub fn parse_body(text: &str) -> Result<Checkpoint, NoteError> {
        if text.len() > MAX_NOTE_BYTES {
            return Err(NoteError::TooLarge {
                what: "checkpoint",
                len: text.len(),
                max: MAX_NOTE_BYTES,
            });
        }
        let Some(lines) = text.strip_suffix('\n') else {
            return Err(checkpoint_error(
                text.matches('\n').count() + 1,
                "text does not end with a newline".to_owned(),
            ));
        };
        let mut lines = lines.split('\n');
        let origin = lines.next().unwrap_or_default();
        if origin.is_empty() {
            return Err(checkpoint_error(1, "origin is empty".to_owned()));
        }
        if let Some(c) = origin.chars().find(|c| c.is_control()) {
            return Err(checkpoint_error(
                1,
                format!("origin contains control character U+{:04X}", c as u32),
            ));
        }
        let size_text = lines
            .next()
            .ok_or_else(|| checkpoint_error(2, "tree size line is missing".to_owned()))?;
        let size = parse_decimal(size_text)
            .map_err(|problem| checkpoint_error(2, format!("tree size {size_text:?} {problem}")))?;
        let root_text = lines
            .next()
            .ok_or_else(|| checkpoint_error(3, "root hash line is missing".to_owned()))?;
        let root = b64_decode_32(root_text).ok_or_else(|| {
            checkpoint_error(
                3,
                format!("root hash {root_text:?} is not base64 of 32 bytes"),
            )
        })?;
        let mut extensions = Vec::new();
        for (i, ext) in lines.enumerate() {
            if ext.is_empty() {
                return Err(checkpoint_error(
                    4 + i,
                    "extension line is empty".to_owned(),
                ));
            }
            extensions.push(ext.to_owned());
        }
        Ok(Checkpoint {
            origin: origin.to_owned(),
            size,
            root,
            extensions,
        })
    }
}

/// Signs a checkpoint with the log's key and returns the signed note.
///
/// The key name must equal the checkpoint's origin: that is how a verifier knows which
/// key speaks for which log ([`open_checkpoint`] checks it).
pub fn sign_checkpoint(cp: &Checkpoint, signer: &Signer) -> Result<String, NoteError> {
    cp.validate()?;
    if cp.origin != signer.name() {
        return Err(NoteError::OriginMismatch {
            origin: cp.origin.clone(),
            key_name: signer.name().to_owned(),
        });
    }
    sign(&cp.body(), signer)
}

/// Parses a signed checkpoint note, checks that a signature by `log` (alg 0x01, name ==
/// key name) verifies, and that the origin equals `log.name()`. Other signature lines
/// (cosignatures, unknown keys) are kept, not rejected.
pub fn open_checkpoint(note: &str, log: &Verifier) -> Result<(Checkpoint, Note), NoteError> {
    if log.algorithm() != Algorithm::Ed25519 {
        return Err(NoteError::WrongAlgorithm {
            name: log.name().to_owned(),
            expected: Algorithm::Ed25519,
            found: log.algorithm(),
        });
    }
    let parsed = Note::parse(note)?;
    parsed.verify(log)?;
    let cp = Checkpoint::parse_body(&parsed.text)?;
    if cp.origin != log.name() {
        return Err(NoteError::OriginMismatch {
            origin: cp.origin,
            key_name: log.name().to_owned(),
        });
    }
    Ok((cp, parsed))
}

/// A timestamped Ed25519 cosignature (tlog-cosignature, type 0x04) on a checkpoint.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Cosignature {
    /// The cosigner's key name.
    pub cosigner: String,
    /// The cosigner's type-0x04 key id.
    pub key_id: [u8; 4],
    /// POSIX seconds on the cosigner's clock when it checked and cosigned.
    pub timestamp: u64,
    /// The Ed25519 signature over `cosignature/v1\ntime <timestamp>\n<checkpoint text>`.
    pub signature: [u8; 64],
}

impl Cosignature {
    /// The note signature line `— <name> <base64(key id || timestamp BE u64 || signature)>`,
    /// without a newline.
    pub fn line(&self) -> String {
        self.to_note_signature().line()
    }

    /// Parses a cosignature line (a trailing newline is allowed).
    pub fn parse_line(line: &str) -> Result<Cosignature, NoteError> {
        let line = line.strip_suffix('\n').unwrap_or(line);
        if line.len() > 1024 {
            return Err(NoteError::TooLarge {
                what: "cosignature line",
                len: line.len(),
                max: 1024,
            });
        }
        let bad = |problem: String| NoteError::MalformedCosignature { problem };
        let rest = line.strip_prefix("— ").ok_or_else(|| {
            bad("line does not start with an em dash (U+2014) and a space".to_owned())
        })?;
        let (name, b64) = rest
            .split_once(' ')
            .ok_or_else(|| bad("no space between key name and signature".to_owned()))?;
        if let Some(problem) = key_name_problem(name) {
            return Err(bad(format!("key name {name:?} {problem}")));
        }
        let raw =
            b64_decode(b64).ok_or_else(|| bad(format!("signature of {name} is not base64")))?;
        let Some((key_id, rest)) = raw.split_first_chunk::<4>() else {
            return Err(bad(format!("signature of {name} is shorter than a key id")));
        };
        Cosignature::from_parts(name, *key_id, rest)
    }

    /// Reads a cosignature from a note signature line (whose bytes after the key id must
    /// be a 72-byte `timestamped_signature`).
    pub fn from_note_signature(sig: &NoteSignature) -> Result<Cosignature, NoteError> {
        Cosignature::from_parts(&sig.name, sig.key_id, &sig.signature)
    }

    fn from_parts(name: &str, key_id: [u8; 4], bytes: &[u8]) -> Result<Cosignature, NoteError> {
        let (timestamp, signature) =
            split_timestamped(bytes).ok_or_else(|| NoteError::MalformedCosignature {
                problem: format!(
                    "signature of {name} is {} bytes after the key id, not 72 (8-byte timestamp and 64-byte Ed25519 signature)",
                    bytes.len()
                ),
            })?;
        if timestamp > i64::MAX as u64 {
            return Err(NoteError::TimestampTooLarge { timestamp });
        }
        Ok(Cosignature {
            cosigner: name.to_owned(),
            key_id,
            timestamp,
            signature,
        })
    }

    /// As a note signature line.
    pub fn to_note_signature(&self) -> NoteSignature {
        let mut signature = Vec::with_capacity(72);
        signature.extend_from_slice(&self.timestamp.to_be_bytes());
        signature.extend_from_slice(&self.signature);
        NoteSignature {
            name: self.cosigner.clone(),
            key_id: self.key_id,
            signature,
        }
    }
}

/// Cosigns a checkpoint at `timestamp` (POSIX seconds, the caller's clock: this crate
/// has none). tlog-cosignature caps timestamps at 2^63 - 1; larger values are clamped
/// to it so the signature always matches the stored timestamp.
///
/// The caller should only cosign a checkpoint it got from [`open_checkpoint`] and
/// checked for consistency with the last one it cosigned for that log.
pub fn cosign(cp: &Checkpoint, signer: &Signer, timestamp: u64) -> Cosignature {
    let timestamp = timestamp.min(i64::MAX as u64);
    let message = cosignature_message(timestamp, &cp.body());
    Cosignature {
        cosigner: signer.name().to_owned(),
        key_id: signer.cosigner_key_id(),
        timestamp,
        signature: signer.sign_raw(message.as_bytes()),
    }
}

/// Checks a cosignature on `cp` by `cosigner` (a type-0x04 verifier).
pub fn verify_cosignature(
    cp: &Checkpoint,
    cos: &Cosignature,
    cosigner: &Verifier,
) -> Result<(), NoteError> {
    if cosigner.algorithm() != Algorithm::CosignatureV1 {
        return Err(NoteError::WrongAlgorithm {
            name: cosigner.name().to_owned(),
            expected: Algorithm::CosignatureV1,
            found: cosigner.algorithm(),
        });
    }
    if cos.cosigner != cosigner.name() || cos.key_id != cosigner.key_id() {
        return Err(NoteError::CosignerMismatch {
            expected_name: cosigner.name().to_owned(),
            expected_key_id: cosigner.key_id(),
            name: cos.cosigner.clone(),
            key_id: cos.key_id,
        });
    }
    if cos.timestamp > i64::MAX as u64 {
        return Err(NoteError::TimestampTooLarge {
            timestamp: cos.timestamp,
        });
    }
    let message = cosignature_message(cos.timestamp, &cp.body());
    if !cosigner.verify_raw(message.as_bytes(), &cos.signature) {
        return Err(NoteError::BadSignature {
            name: cos.cosigner.clone(),
            key_id: cos.key_id,
            line: None,
        });
    }
    Ok(())
}

/// The cosignatures in `note` by `cosigner` (lines with its name and key id), each
/// checked against the note's checkpoint. Any such line that is malformed or does not
/// verify is an error (signed-note: a bad signature by a known key rejects the note).
pub fn cosignatures_by(note: &Note, cosigner: &Verifier) -> Result<Vec<Cosignature>, NoteError> {
    let cp = Checkpoint::parse_body(&note.text)?;
    let mut out = Vec::new();
    for (i, sig) in note.signatures.iter().enumerate() {
        if !cosigner.matches(sig) {
            continue;
        }
        let cos = Cosignature::from_note_signature(sig)?;
        verify_cosignature(&cp, &cos, cosigner).map_err(|e| match e {
            NoteError::BadSignature { name, key_id, .. } => NoteError::BadSignature {
                name,
                key_id,
                line: Some(note.signature_line_number(i)),
            },
            other => other,
        })?;
        out.push(cos);
    }
    Ok(out)
}

/// A signed checkpoint note with cosignature lines appended (what a node serves and a
/// receipt carries). A cosignature replaces any existing line by the same key (name and
/// key id), so re-cosigning updates rather than duplicates.
pub fn with_cosignatures(
    signed_note: &str,
    cosignatures: &[Cosignature],
) -> Result<String, NoteError> {
    let mut note = Note::parse(signed_note)?;
    for cos in cosignatures {
        if let Some(problem) = key_name_problem(&cos.cosigner) {
            return Err(NoteError::InvalidKeyName {
                name: cos.cosigner.clone(),
                problem,
            });
        }
        note.signatures
            .retain(|s| !(s.name == cos.cosigner && s.key_id == cos.key_id));
        note.signatures.push(cos.to_note_signature());
    }
    if note.signatures.len() > MAX_SIGNATURES {
        return Err(NoteError::TooManySignatures {
            max: MAX_SIGNATURES,
        });
    }
    let out = note.format();
    if out.len() > MAX_NOTE_BYTES {
        return Err(NoteError::TooLarge {
            what: "note",
            len: out.len(),
            max: MAX_NOTE_BYTES,
        });
    }
    Ok(out)
}
