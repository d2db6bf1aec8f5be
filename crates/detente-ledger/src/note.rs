//! C2SP signed notes (<https://c2sp.org/signed-note>) with Ed25519 keys.
//!
//! A signed note is a text ending in a newline, a blank line, and one or more
//! signature lines `— <key name> <base64(key id || signature)>` (em dash U+2014).
//! The key id is the first four bytes of `SHA-256(key name || 0x0A || type || public key)`,
//! where the type byte is 0x01 for a plain Ed25519 note signature and 0x04 for a
//! timestamped Ed25519 cosignature (`c2sp.org/tlog-cosignature`). A verifier is
//! identified by the pair (key name, key id); lines by other keys are kept but ignored.

use std::fmt;

use ed25519_dalek::{Signature, Signer as _, SigningKey, VerifyingKey};
use sha2::{Digest as _, Sha256};

use crate::text::{b64_decode, b64_encode, first_control_char, hex, key_name_problem, line_of};

/// The largest note accepted (64 KiB): far more than a checkpoint with a hundred
/// cosignatures needs, and small enough that parsing hostile input stays cheap.
pub const MAX_NOTE_BYTES: usize = 64 * 1024;

/// The most signature lines accepted in one note (C2SP requires at least 16; this is
/// the limit of the Go reference implementation).
pub const MAX_SIGNATURES: usize = 100;

/// The largest verifier key string accepted.
pub const MAX_VKEY_BYTES: usize = 512;

/// The first line of every Ed25519 cosignature's signed message (tlog-cosignature).
pub const COSIGNATURE_HEADER: &str = "cosignature/v1";

/// The signature types this crate implements (the type byte of a key id and a vkey).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Algorithm {
    /// 0x01: an Ed25519 signature over the note text (signed-note). Used by a log
    /// for its checkpoints.
    Ed25519,
    /// 0x04: a timestamped Ed25519 cosignature (tlog-cosignature, `cosignature/v1`).
    /// Used by a node to cosign another party's checkpoint.
    CosignatureV1,
}

impl Algorithm {
    /// The signature type byte.
    pub fn code(self) -> u8 {
        match self {
            Algorithm::Ed25519 => 0x01,
            Algorithm::CosignatureV1 => 0x04,
        }
    }

    /// The algorithm for a signature type byte, if implemented here.
    pub fn from_code(code: u8) -> Option<Algorithm> {
        match code {
            0x01 => Some(Algorithm::Ed25519),
            0x04 => Some(Algorithm::CosignatureV1),
            _ => None,
        }
    }
}

impl fmt::Display for Algorithm {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Algorithm::Ed25519 => write!(f, "Ed25519 note signature (0x01)"),
            Algorithm::CosignatureV1 => write!(f, "Ed25519 cosignature/v1 (0x04)"),
        }
    }
}

/// The C2SP key id: `SHA-256(name || 0x0A || type || public key)[:4]`.
pub fn key_id(name: &str, algorithm: Algorithm, public_key: &[u8; 32]) -> [u8; 4] {
    let mut h = Sha256::new();
    h.update(name.as_bytes());
    h.update([b'\n', algorithm.code()]);
    h.update(public_key);
    let digest: [u8; 32] = h.finalize().into();
    [digest[0], digest[1], digest[2], digest[3]]
}

/// Everything that can be wrong with a note, a key, a checkpoint or a cosignature.
/// Parse errors give the line (1-based) they are on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum NoteError {
    /// Input is larger than its limit.
    TooLarge {
        /// What was too large ("note", "checkpoint", "verifier key").
        what: &'static str,
        /// Its length in bytes.
        len: usize,
        /// The limit.
        max: usize,
    },
    /// A control character other than newline (signed notes may contain none).
    ControlCharacter {
        /// What contains it.
        what: &'static str,
        /// 1-based line.
        line: usize,
        /// The character's code point.
        code: u32,
    },
    /// No blank line followed by signature lines.
    MissingSignatureBlock,
    /// Note text to be signed does not end with a newline.
    TextWithoutFinalNewline,
    /// Note text to be signed starts with `cosignature/`, which would let a 0x01
    /// signature be confused with a cosignature's signed message.
    ReservedText,
    /// More than [`MAX_SIGNATURES`] signature lines.
    TooManySignatures {
        /// The limit.
        max: usize,
    },
    /// A signature line is not `— <name> <base64>`.
    MalformedSignatureLine {
        /// 1-based line in the note.
        line: usize,
        /// What is wrong.
        problem: String,
    },
    /// A key name is not valid.
    InvalidKeyName {
        /// The name.
        name: String,
        /// What is wrong.
        problem: &'static str,
    },
    /// A verifier key string is malformed.
    MalformedVkey {
        /// What is wrong.
        problem: String,
    },
    /// A verifier key's stated key id does not match its name and key.
    VkeyIdMismatch {
        /// The key name.
        name: String,
        /// The id in the string.
        stated: [u8; 4],
        /// The id computed from name, type and key.
        computed: [u8; 4],
    },
    /// A signature type byte this crate does not implement.
    UnsupportedAlgorithm {
        /// The type byte.
        code: u8,
    },
    /// 32 bytes that are not an Ed25519 public key.
    InvalidPublicKey {
        /// The key name.
        name: String,
    },
    /// A verifier of the wrong type was given (e.g. a cosigner key to check a log's
    /// checkpoint signature).
    WrongAlgorithm {
        /// The key name.
        name: String,
        /// The type needed.
        expected: Algorithm,
        /// The verifier's type.
        found: Algorithm,
    },
    /// The note has no signature line by this key.
    MissingSignature {
        /// Key name.
        name: String,
        /// Key id.
        key_id: [u8; 4],
    },
    /// A signature by a known key does not verify.
    BadSignature {
        /// Key name.
        name: String,
        /// Key id.
        key_id: [u8; 4],
        /// 1-based line in the note, when known.
        line: Option<usize>,
    },
    /// A checkpoint body is malformed.
    Checkpoint {
        /// 1-based line of the checkpoint text.
        line: usize,
        /// What is wrong.
        problem: String,
    },
    /// A checkpoint's origin is not the log key's name.
    OriginMismatch {
        /// The checkpoint's origin.
        origin: String,
        /// The key name.
        key_name: String,
    },
    /// A cosignature line or signature is malformed.
    MalformedCosignature {
        /// What is wrong.
        problem: String,
    },
    /// A cosignature is not by the given cosigner key.
    CosignerMismatch {
        /// The cosigner key's name.
        expected_name: String,
        /// The cosigner key's id.
        expected_key_id: [u8; 4],
        /// The cosignature's name.
        name: String,
        /// The cosignature's key id.
        key_id: [u8; 4],
    },
    /// A cosignature timestamp above 2^63 - 1 (tlog-cosignature forbids it).
    TimestampTooLarge {
        /// The timestamp.
        timestamp: u64,
    },
}

impl fmt::Display for NoteError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::TooLarge { what, len, max } => {
                write!(f, "{what}: {len} bytes is more than the {max}-byte limit")
            }
            Self::ControlCharacter { what, line, code } => write!(
                f,
                "{what} line {line}: control character U+{code:04X} is not allowed"
            ),
            Self::MissingSignatureBlock => write!(
                f,
                "note: no blank line followed by signature lines \"— <name> <signature>\""
            ),
            Self::TextWithoutFinalNewline => {
                write!(f, "note text: does not end with a newline")
            }
            Self::ReservedText => write!(
                f,
                "note text: starts with \"cosignature/\", which is reserved for cosignature messages"
            ),
            Self::TooManySignatures { max } => {
                write!(f, "note: more than {max} signature lines")
            }
            Self::MalformedSignatureLine { line, problem } => {
                write!(f, "note line {line}: {problem}")
            }
            Self::InvalidKeyName { name, problem } => write!(f, "key name {name:?} {problem}"),
            Self::MalformedVkey { problem } => write!(f, "verifier key: {problem}"),
            Self::VkeyIdMismatch {
                name,
                stated,
                computed,
            } => write!(
                f,
                "verifier key {name}: key id {} does not match the key (computed {})",
                hex(stated),
                hex(computed)
            ),
            Self::UnsupportedAlgorithm { code } => write!(
                f,
                "signature type 0x{code:02x} is not supported (only 0x01 and 0x04)"
            ),
            Self::InvalidPublicKey { name } => {
                write!(f, "key {name}: not a valid Ed25519 public key")
            }
            Self::WrongAlgorithm {
                name,
                expected,
                found,
            } => write!(f, "key {name}: is a {found} key, need a {expected} key"),
            Self::MissingSignature { name, key_id } => {
                write!(f, "note: no signature by key {name}+{}", hex(key_id))
            }
            Self::BadSignature { name, key_id, line } => match line {
                Some(line) => write!(
                    f,
                    "note line {line}: signature by key {name}+{} does not verify",
                    hex(key_id)
                ),
                None => write!(f, "signature by key {name}+{} does not verify", hex(key_id)),
            },
            Self::Checkpoint { line, problem } => write!(f, "checkpoint line {line}: {problem}"),
            Self::OriginMismatch { origin, key_name } => write!(
                f,
                "checkpoint line 1: origin {origin:?} is not the log key's name {key_name:?}"
            ),
            Self::MalformedCosignature { problem } => write!(f, "cosignature: {problem}"),
            Self::CosignerMismatch {
                expected_name,
                expected_key_id,
                name,
                key_id,
            } => write!(
                f,
                "cosignature by {name}+{} is not by the cosigner key {expected_name}+{}",
                hex(key_id),
                hex(expected_key_id)
            ),
            Self::TimestampTooLarge { timestamp } => {
                write!(f, "cosignature: timestamp {timestamp} is above 2^63 - 1")
            }
        }
    }
}

impl std::error::Error for NoteError {}

fn check_key_name(name: &str) -> Result<(), NoteError> {
    match key_name_problem(name) {
        Some(problem) => Err(NoteError::InvalidKeyName {
            name: name.to_owned(),
            problem,
        }),
        None => Ok(()),
    }
}

/// An Ed25519 signing key with its key name.
///
/// A node uses one key for its log's checkpoints ([`Signer::verifier`], type 0x01)
/// and for the cosignatures it makes ([`Signer::cosigner_verifier`], type 0x04); the
/// type byte gives the two uses different key ids and different signed messages.
#[derive(Clone)]
pub struct Signer {
    name: String,
    key: SigningKey,
}

impl fmt::Debug for Signer {
    // Never print the secret key.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Signer")
            .field("name", &self.name)
            .field("public_key", &hex(&self.public_key()))
            .finish_non_exhaustive()
    }
}

impl Signer {
    /// A signer from a 32-byte Ed25519 seed (RFC 8032 private key) and a key name.
    pub fn from_seed(name: &str, seed: [u8; 32]) -> Result<Signer, NoteError> {
        check_key_name(name)?;
        Ok(Signer {
            name: name.to_owned(),
            key: SigningKey::from_bytes(&seed),
        })
    }

    /// The key name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The Ed25519 public key.
    pub fn public_key(&self) -> [u8; 32] {
        self.key.verifying_key().to_bytes()
    }

    /// The verifier for this key's note signatures (type 0x01).
    pub fn verifier(&self) -> Verifier {
        Verifier::build(&self.name, Algorithm::Ed25519, self.key.verifying_key())
    }

    /// The verifier for this key's cosignatures (type 0x04).
    pub fn cosigner_verifier(&self) -> Verifier {
        Verifier::build(
            &self.name,
            Algorithm::CosignatureV1,
            self.key.verifying_key(),
        )
    }

    /// The key id of this key's note signatures (type 0x01).
    pub fn key_id(&self) -> [u8; 4] {
        key_id(&self.name, Algorithm::Ed25519, &self.public_key())
    }

    /// The key id of this key's cosignatures (type 0x04).
    pub fn cosigner_key_id(&self) -> [u8; 4] {
        key_id(&self.name, Algorithm::CosignatureV1, &self.public_key())
    }

    /// A raw Ed25519 signature (deterministic, RFC 8032).
    pub(crate) fn sign_raw(&self, message: &[u8]) -> [u8; 64] {
        self.key.sign(message).to_bytes()
    }
}

/// A public key a note signature can be checked against: name, key id, type and
/// Ed25519 key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Verifier {
    name: String,
    key_id: [u8; 4],
    algorithm: Algorithm,
    key: VerifyingKey,
}

impl Verifier {
    fn build(name: &str, algorithm: Algorithm, key: VerifyingKey) -> Verifier {
        Verifier {
            name: name.to_owned(),
            key_id: key_id(name, algorithm, key.as_bytes()),
            algorithm,
            key,
        }
    }

    fn new(name: &str, algorithm: Algorithm, public_key: [u8; 32]) -> Result<Verifier, NoteError> {
        check_key_name(name)?;
        let key =
            VerifyingKey::from_bytes(&public_key).map_err(|_| NoteError::InvalidPublicKey {
                name: name.to_owned(),
            })?;
        Ok(Verifier::build(name, algorithm, key))
    }

    /// A verifier for Ed25519 note signatures (type 0x01), e.g. a log's checkpoints.
    pub fn ed25519(name: &str, public_key: [u8; 32]) -> Result<Verifier, NoteError> {
        Verifier::new(name, Algorithm::Ed25519, public_key)
    }

    /// A verifier for timestamped Ed25519 cosignatures (type 0x04, `cosignature/v1`).
    pub fn cosigner(name: &str, public_key: [u8; 32]) -> Result<Verifier, NoteError> {
        Verifier::new(name, Algorithm::CosignatureV1, public_key)
    }

    /// Parses a verifier key `<name>+<key id as 8 hex digits>+<base64(type || key)>`,
    /// checking that the key id matches the name and key.
    pub fn parse_vkey(vkey: &str) -> Result<Verifier, NoteError> {
        if vkey.len() > MAX_VKEY_BYTES {
            return Err(NoteError::TooLarge {
                what: "verifier key",
                len: vkey.len(),
                max: MAX_VKEY_BYTES,
            });
        }
        let malformed = |problem: &str| NoteError::MalformedVkey {
            problem: problem.to_owned(),
        };
        // The base64 part may itself contain '+', so split only twice.
        let mut parts = vkey.splitn(3, '+');
        let (Some(name), Some(id_hex), Some(key_b64)) = (parts.next(), parts.next(), parts.next())
        else {
            return Err(malformed("is not <name>+<8 hex digit key id>+<base64 key>"));
        };
        check_key_name(name)?;
        if id_hex.len() != 8 || !id_hex.bytes().all(|b| b.is_ascii_hexdigit()) {
            return Err(malformed("key id is not 8 hex digits"));
        }
        let stated = u32::from_str_radix(id_hex, 16)
            .map_err(|_| malformed("key id is not 8 hex digits"))?
            .to_be_bytes();
        let raw = b64_decode(key_b64).ok_or_else(|| malformed("key is not valid base64"))?;
        let Some((&code, key)) = raw.split_first() else {
            return Err(malformed("key is empty"));
        };
        let algorithm =
            Algorithm::from_code(code).ok_or(NoteError::UnsupportedAlgorithm { code })?;
        let public_key = <[u8; 32]>::try_from(key).map_err(|_| {
            malformed(&format!(
                "an Ed25519 key is 32 bytes after the type byte, not {}",
                key.len()
            ))
        })?;
        let computed = key_id(name, algorithm, &public_key);
        if computed != stated {
            return Err(NoteError::VkeyIdMismatch {
                name: name.to_owned(),
                stated,
                computed,
            });
        }
        Verifier::new(name, algorithm, public_key)
    }

    /// The verifier key string `<name>+<key id hex>+<base64(type || key)>`.
    pub fn vkey(&self) -> String {
        let mut raw = Vec::with_capacity(33);
        raw.push(self.algorithm.code());
        raw.extend_from_slice(self.key.as_bytes());
        format!("{}+{}+{}", self.name, hex(&self.key_id), b64_encode(&raw))
    }

    /// The key name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The key id.
    pub fn key_id(&self) -> [u8; 4] {
        self.key_id
    }

    /// The Ed25519 public key.
    pub fn public_key(&self) -> [u8; 32] {
        self.key.to_bytes()
    }

    /// The signature type.
    pub fn algorithm(&self) -> Algorithm {
        self.algorithm
    }

    /// Whether a signature line claims to be by this key (same name and key id).
    pub fn matches(&self, signature: &NoteSignature) -> bool {
        signature.name == self.name && signature.key_id == self.key_id
    }

    /// Checks a raw Ed25519 signature. Strict verification (RFC 8032 with canonical S,
    /// no small-order keys or R), so a signature has a single accepted encoding.
    pub(crate) fn verify_raw(&self, message: &[u8], signature: &[u8; 64]) -> bool {
        self.key
            .verify_strict(message, &Signature::from_bytes(signature))
            .is_ok()
    }

    /// Checks the signature bytes of one note signature line by this key over `text`:
    /// for type 0x01 an Ed25519 signature over the text, for type 0x04 a timestamp and
    /// an Ed25519 signature over the `cosignature/v1` message.
    pub(crate) fn verify_signature_bytes(&self, text: &str, signature: &[u8]) -> bool {
        match self.algorithm {
            Algorithm::Ed25519 => <&[u8; 64]>::try_from(signature)
                .is_ok_and(|sig| self.verify_raw(text.as_bytes(), sig)),
            Algorithm::CosignatureV1 => {
                let Some((ts, sig)) = split_timestamped(signature) else {
                    return false;
                };
                ts <= i64::MAX as u64
                    && self.verify_raw(cosignature_message(ts, text).as_bytes(), &sig)
            }
        }
    }
}

/// Splits tlog-cosignature's `timestamped_signature` (u64 BE timestamp || 64-byte
/// Ed25519 signature).
pub(crate) fn split_timestamped(bytes: &[u8]) -> Option<(u64, [u8; 64])> {
    let (ts, sig) = bytes.split_first_chunk::<8>()?;
    let sig = <[u8; 64]>::try_from(sig).ok()?;
    Some((u64::from_be_bytes(*ts), sig))
}

/// The message an Ed25519 cosignature signs: `cosignature/v1\ntime <ts>\n` followed by
/// the whole checkpoint note text.
pub(crate) fn cosignature_message(timestamp: u64, text: &str) -> String {
    format!("{COSIGNATURE_HEADER}\ntime {timestamp}\n{text}")
}

/// One signature line of a note.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NoteSignature {
    /// The key name.
    pub name: String,
    /// The key id (first four bytes of the base64 payload).
    pub key_id: [u8; 4],
    /// The signature bytes after the key id (64 for type 0x01, 72 for type 0x04).
    pub signature: Vec<u8>,
}

impl NoteSignature {
    /// The signature line, `— <name> <base64(key id || signature)>`, without newline.
    pub fn line(&self) -> String {
        let mut raw = Vec::with_capacity(4 + self.signature.len());
        raw.extend_from_slice(&self.key_id);
        raw.extend_from_slice(&self.signature);
        format!("— {} {}", self.name, b64_encode(&raw))
    }

    /// Parses one signature line (without its newline). `line_no` is only used in
    /// error messages.
    fn parse_line(line: &str, line_no: usize) -> Result<NoteSignature, NoteError> {
        let bad = |problem: String| NoteError::MalformedSignatureLine {
            line: line_no,
            problem,
        };
        let rest = line.strip_prefix("— ").ok_or_else(|| {
            bad("signature line does not start with an em dash (U+2014) and a space".to_owned())
        })?;
        let (name, b64) = rest.split_once(' ').ok_or_else(|| {
            bad("signature line has no space between key name and signature".to_owned())
        })?;
        if let Some(problem) = key_name_problem(name) {
            return Err(bad(format!("key name {name:?} {problem}")));
        }
        let raw = b64_decode(b64)
            .ok_or_else(|| bad(format!("signature of {name} is not valid base64")))?;
        let Some((key_id, signature)) = raw.split_first_chunk::<4>() else {
            return Err(bad(format!(
                "signature of {name} is shorter than its 4-byte key id"
            )));
        };
        if signature.is_empty() {
            return Err(bad(format!("signature of {name} is empty")));
        }
        Ok(NoteSignature {
            name: name.to_owned(),
            key_id: *key_id,
            signature: signature.to_vec(),
        })
    }
}

/// A parsed signed note. Parsing checks the syntax only; [`Note::verify`] checks a
/// signature.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Note {
    /// The signed text, including its final newline (not the blank separator line).
    pub text: String,
    /// The signature lines, in order.
    pub signatures: Vec<NoteSignature>,
}

impl Note {
    /// Parses a signed note: text, blank line, signature lines, each ending in a newline.
    pub fn parse(s: &str) -> Result<Note, NoteError> {
        if s.len() > MAX_NOTE_BYTES {
            return Err(NoteError::TooLarge {
                what: "note",
                len: s.len(),
                max: MAX_NOTE_BYTES,
            });
        }
        if let Some((at, c)) = first_control_char(s) {
            return Err(NoteError::ControlCharacter {
                what: "note",
                line: line_of(s, at),
                code: c as u32,
            });
        }
        // The text ends at the last blank line; it may itself contain blank lines.
        let split = s.rfind("\n\n").ok_or(NoteError::MissingSignatureBlock)?;
        let (text, sigs) = (
            s.get(..=split).unwrap_or_default(),
            s.get(split + 2..).unwrap_or_default(),
        );
        if sigs.is_empty() {
            return Err(NoteError::MissingSignatureBlock);
        }
        let first_sig_line = line_of(s, split + 2);
        if !sigs.ends_with('\n') {
            return Err(NoteError::MalformedSignatureLine {
                line: first_sig_line + sigs.matches('\n').count(),
                problem: "the last signature line does not end with a newline".to_owned(),
            });
        }
        let mut signatures = Vec::new();
        for (i, line) in sigs.split_terminator('\n').enumerate() {
            if i >= MAX_SIGNATURES {
                return Err(NoteError::TooManySignatures {
                    max: MAX_SIGNATURES,
                });
            }
            signatures.push(NoteSignature::parse_line(line, first_sig_line + i)?);
        }
        Ok(Note {
            text: text.to_owned(),
            signatures,
        })
    }

    /// The signed note: text, blank line, one line per signature.
    pub fn format(&self) -> String {
        let mut out = String::with_capacity(self.text.len() + 1 + 120 * self.signatures.len());
        out.push_str(&self.text);
        out.push('\n');
        for sig in &self.signatures {
            out.push_str(&sig.line());
            out.push('\n');
        }
        out
    }

    /// The 1-based line of the `i`-th signature in [`Note::format`]'s output.
    pub fn signature_line_number(&self, i: usize) -> usize {
        self.text.matches('\n').count() + 2 + i
    }

    /// Checks that this note carries at least one signature by `verifier` and that every
    /// line claiming to be by it (same name and key id) verifies.
    ///
    /// Signed-note: lines by unknown keys are ignored; a failing signature by a known
    /// key rejects the note.
    pub fn verify(&self, verifier: &Verifier) -> Result<(), NoteError> {
        let mut found = false;
        for (i, sig) in self.signatures.iter().enumerate() {
            if !verifier.matches(sig) {
                continue;
            }
            if !verifier.verify_signature_bytes(&self.text, &sig.signature) {
                return Err(NoteError::BadSignature {
                    name: sig.name.clone(),
                    key_id: sig.key_id,
                    line: Some(self.signature_line_number(i)),
                });
            }
            found = true;
        }
        if !found {
            return Err(NoteError::MissingSignature {
                name: verifier.name.clone(),
                key_id: verifier.key_id,
            });
        }
        Ok(())
    }
}

/// Checks that `text` can be the text of a signed note.
pub(crate) fn check_note_text(text: &str) -> Result<(), NoteError> {
    if text.len() > MAX_NOTE_BYTES {
        return Err(NoteError::TooLarge {
            what: "note text",
            len: text.len(),
            max: MAX_NOTE_BYTES,
        });
    }
    if !text.ends_with('\n') {
        return Err(NoteError::TextWithoutFinalNewline);
    }
    if let Some((at, c)) = first_control_char(text) {
        return Err(NoteError::ControlCharacter {
            what: "note text",
            line: line_of(text, at),
            code: c as u32,
        });
    }
    Ok(())
}

/// Signs `text` (which must end with a newline) and returns the signed note with one
/// Ed25519 (type 0x01) signature line.
///
/// Text starting with `cosignature/` is refused: the same key also makes cosignatures,
/// whose signed message starts with `cosignature/v1\n`, and a note signature must never
/// be usable as one.
pub fn sign(text: &str, signer: &Signer) -> Result<String, NoteError> {
    check_note_text(text)?;
    if text.starts_with("cosignature/") {
        return Err(NoteError::ReservedText);
    }
    let note = Note {
        text: text.to_owned(),
        signatures: vec![NoteSignature {
            name: signer.name.clone(),
            key_id: signer.key_id(),
            signature: signer.sign_raw(text.as_bytes()).to_vec(),
        }],
    };
    Ok(note.format())
}
