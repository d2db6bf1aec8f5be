//! The canonical bytes of one log entry: what a leaf hash covers.
//!
//! ```text
//! magic    13 bytes  "detente-entry"        domain separation from any other signed or hashed bytes
//! version   u8       1
//! kind      u8       1 = fact, 2 = letter
//! index     u64 BE   the entry's position in its log (a replay at another index fails)
//! time      i64 BE   ms since the Unix epoch at which the log's node appended it
//! origin    u16 BE length (1..=255) + UTF-8 bytes: the log's origin, a valid key name
//! body      u32 BE length + bytes: a fact's record as canonical JSON, or an opaque letter
//! ```
//!
//! Nothing may follow the body, and the whole entry is at most [`MAX_ENTRY_BYTES`].
//! Every field has exactly one encoding, so equal entries always hash equally and a
//! decoder never has to choose between readings of the same bytes.

use std::fmt;

use crate::Hash;
use crate::text::{MAX_KEY_NAME_BYTES, key_name_problem};

/// The domain-separation prefix of every entry.
pub const MAGIC: &[u8; 13] = b"detente-entry";

/// The only entry format version this crate writes and reads.
pub const VERSION: u8 = 1;

/// The largest encoded entry accepted (1 MiB). A decoder checks this before reading
/// any field, so hostile input cannot make it allocate more.
pub const MAX_ENTRY_BYTES: usize = 1 << 20;

/// Bytes before the origin: magic, version, kind, index, time.
const FIXED_HEADER: usize = 13 + 1 + 1 + 8 + 8;

/// What an entry records.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum EntryKind {
    /// A fact: the body is the record as canonical JSON: compact, `kind` first, the other
    /// members sorted (docs/ledger-format.md, "Fact bodies").
    Fact,
    /// A letter between parties: the body is opaque (usually ciphertext).
    Letter,
    /// A verification record (an escrow commitment or reveal, a seed commitment or
    /// reveal, an inspection report, a limit proof or its opening): the body is the
    /// record's own domain-separated bytes (docs/verification.md).
    Verification,
}

impl EntryKind {
    /// The kind byte in the encoding.
    pub fn code(self) -> u8 {
        match self {
            EntryKind::Fact => 1,
            EntryKind::Letter => 2,
            EntryKind::Verification => 3,
        }
    }

    /// The kind for a kind byte, if version 1 defines it.
    pub fn from_code(code: u8) -> Option<EntryKind> {
        match code {
            1 => Some(EntryKind::Fact),
            2 => Some(EntryKind::Letter),
            3 => Some(EntryKind::Verification),
            _ => None,
        }
    }
}

/// One log entry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Entry {
    /// The origin of the log the entry belongs to, `detente/<treaty>/<party>`.
    pub origin: String,
    /// The entry's zero-based position in that log.
    pub index: u64,
    /// When the log's node appended it, in milliseconds since the Unix epoch.
    pub appended_at_ms: i64,
    /// Fact, letter or verification record.
    pub kind: EntryKind,
    /// The payload.
    pub body: Vec<u8>,
}

/// Why bytes are not a valid entry, or an entry cannot be encoded. Each variant names
/// the field and the byte offset at which it starts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum EntryError {
    /// The whole entry is larger than [`MAX_ENTRY_BYTES`].
    TooLarge {
        /// Its length in bytes.
        len: usize,
    },
    /// The bytes end inside a field.
    Truncated {
        /// The field being read.
        field: &'static str,
        /// Byte offset of the field.
        offset: usize,
        /// Bytes the field needs.
        needed: usize,
        /// Bytes left.
        available: usize,
    },
    /// The first 13 bytes are not `detente-entry`.
    BadMagic,
    /// The version byte is not 1.
    UnsupportedVersion {
        /// The version byte.
        version: u8,
    },
    /// The kind byte is not 1 (fact), 2 (letter) or 3 (verification).
    UnknownKind {
        /// The kind byte.
        kind: u8,
    },
    /// The origin's length prefix is 0 or above 255.
    OriginLength {
        /// The stated length.
        len: usize,
        /// Byte offset of the length prefix.
        offset: usize,
    },
    /// The origin is not UTF-8.
    OriginNotUtf8 {
        /// Byte offset of the origin's first byte.
        offset: usize,
    },
    /// The origin is not a valid log origin / key name.
    InvalidOrigin {
        /// The origin (lossily decoded).
        origin: String,
        /// What is wrong with it.
        problem: &'static str,
        /// Byte offset of the origin's first byte.
        offset: usize,
    },
    /// Bytes follow the body.
    TrailingBytes {
        /// Byte offset just after the body.
        offset: usize,
        /// How many bytes follow.
        count: usize,
    },
}

impl fmt::Display for EntryError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::TooLarge { len } => write!(
                f,
                "entry: {len} bytes is more than the {MAX_ENTRY_BYTES}-byte limit"
            ),
            Self::Truncated {
                field,
                offset,
                needed,
                available,
            } => write!(
                f,
                "entry byte {offset}: {field} needs {needed} bytes but only {available} remain"
            ),
            Self::BadMagic => write!(f, "entry byte 0: magic is not \"detente-entry\""),
            Self::UnsupportedVersion { version } => write!(
                f,
                "entry byte 13: version {version} is not supported (only {VERSION})"
            ),
            Self::UnknownKind { kind } => write!(
                f,
                "entry byte 14: kind {kind} is not 1 (fact), 2 (letter) or 3 (verification)"
            ),
            Self::OriginLength { len, offset } => write!(
                f,
                "entry byte {offset}: origin length {len} is not between 1 and {MAX_KEY_NAME_BYTES}"
            ),
            Self::OriginNotUtf8 { offset } => {
                write!(f, "entry byte {offset}: origin is not valid UTF-8")
            }
            Self::InvalidOrigin {
                origin,
                problem,
                offset,
            } => write!(f, "entry byte {offset}: origin {origin:?} {problem}"),
            Self::TrailingBytes { offset, count } => write!(
                f,
                "entry byte {offset}: {count} unexpected bytes after the body"
            ),
        }
    }
}

impl std::error::Error for EntryError {}

impl Entry {
    /// An entry, checked so that it encodes to bytes [`Entry::decode`] accepts.
    pub fn new(
        origin: &str,
        index: u64,
        appended_at_ms: i64,
        kind: EntryKind,
        body: Vec<u8>,
    ) -> Result<Entry, EntryError> {
        let entry = Entry {
            origin: origin.to_owned(),
            index,
            appended_at_ms,
            kind,
            body,
        };
        entry.validate()?;
        Ok(entry)
    }

    /// Checks that the origin is a valid log origin and the entry fits the size limit.
    pub fn validate(&self) -> Result<(), EntryError> {
        let origin_offset = FIXED_HEADER + 2;
        let len = self.origin.len();
        if len == 0 || len > MAX_KEY_NAME_BYTES {
            return Err(EntryError::OriginLength {
                len,
                offset: FIXED_HEADER,
            });
        }
        if let Some(problem) = key_name_problem(&self.origin) {
            return Err(EntryError::InvalidOrigin {
                origin: self.origin.clone(),
                problem,
                offset: origin_offset,
            });
        }
        let total = self.encoded_len();
        if total > MAX_ENTRY_BYTES {
            return Err(EntryError::TooLarge { len: total });
        }
        Ok(())
    }

    /// The length of the encoding.
    pub fn encoded_len(&self) -> usize {
        FIXED_HEADER
            .saturating_add(2)
            .saturating_add(self.origin.len())
            .saturating_add(4)
            .saturating_add(self.body.len())
    }

    /// The canonical bytes, after checking the entry (prefer this for anything that
    /// will be appended to a log).
    pub fn try_encode(&self) -> Result<Vec<u8>, EntryError> {
        self.validate()?;
        Ok(self.encode())
    }

    /// The canonical bytes.
    ///
    /// Does not check the entry: an entry made with [`Entry::new`] or returned by
    /// [`Entry::decode`] is valid, but one assembled by hand with an invalid origin or
    /// an oversized body encodes to bytes that [`Entry::decode`] rejects (lengths that
    /// do not fit their prefix are written as the prefix's maximum). Use
    /// [`Entry::try_encode`] when in doubt.
    pub fn encode(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(self.encoded_len());
        self.encode_into(&mut out);
        out
    }

    /// Appends the canonical bytes to `out` (lets a caller encoding many entries reuse
    /// one buffer). Same caveat as [`Entry::encode`].
    pub fn encode_into(&self, out: &mut Vec<u8>) {
        out.reserve(self.encoded_len());
        out.extend_from_slice(MAGIC);
        out.push(VERSION);
        out.push(self.kind.code());
        out.extend_from_slice(&self.index.to_be_bytes());
        out.extend_from_slice(&self.appended_at_ms.to_be_bytes());
        let origin_len = u16::try_from(self.origin.len()).unwrap_or(u16::MAX);
        out.extend_from_slice(&origin_len.to_be_bytes());
        out.extend_from_slice(self.origin.as_bytes());
        let body_len = u32::try_from(self.body.len()).unwrap_or(u32::MAX);
        out.extend_from_slice(&body_len.to_be_bytes());
        out.extend_from_slice(&self.body);
    }

    /// The leaf hash of this entry, `SHA-256(0x00 || encode())`.
    pub fn leaf_hash(&self) -> Hash {
        crate::merkle::leaf_hash(&self.encode())
    }

    /// Parses canonical entry bytes, rejecting anything that [`Entry::encode`] would not
    /// have produced for a valid entry.
    pub fn decode(bytes: &[u8]) -> Result<Entry, EntryError> {
        if bytes.len() > MAX_ENTRY_BYTES {
            return Err(EntryError::TooLarge { len: bytes.len() });
        }
        let mut r = Reader { bytes, offset: 0 };
        let magic = r.take("magic", MAGIC.len())?;
        if magic != MAGIC {
            return Err(EntryError::BadMagic);
        }
        let [version] = r.array::<1>("version")?;
        if version != VERSION {
            return Err(EntryError::UnsupportedVersion { version });
        }
        let [kind] = r.array::<1>("kind")?;
        let kind = EntryKind::from_code(kind).ok_or(EntryError::UnknownKind { kind })?;
        let index = u64::from_be_bytes(r.array("index")?);
        let appended_at_ms = i64::from_be_bytes(r.array("time")?);

        let len_offset = r.offset;
        let origin_len = usize::from(u16::from_be_bytes(r.array("origin length")?));
        if origin_len == 0 || origin_len > MAX_KEY_NAME_BYTES {
            return Err(EntryError::OriginLength {
                len: origin_len,
                offset: len_offset,
            });
        }
        let origin_offset = r.offset;
        let origin = std::str::from_utf8(r.take("origin", origin_len)?).map_err(|_| {
            EntryError::OriginNotUtf8 {
                offset: origin_offset,
            }
        })?;
        if let Some(problem) = key_name_problem(origin) {
            return Err(EntryError::InvalidOrigin {
                origin: origin.to_owned(),
                problem,
                offset: origin_offset,
            });
        }

        let body_len = u32::from_be_bytes(r.array("body length")?);
        let body_len = usize::try_from(body_len).unwrap_or(usize::MAX);
        let body = r.take("body", body_len)?.to_vec();
        let rest = bytes.len().saturating_sub(r.offset);
        if rest != 0 {
            return Err(EntryError::TrailingBytes {
                offset: r.offset,
                count: rest,
            });
        }
        Ok(Entry {
            origin: origin.to_owned(),
            index,
            appended_at_ms,
            kind,
            body,
        })
    }
}

/// A cursor that reports the field and offset of a short read.
struct Reader<'a> {
    bytes: &'a [u8],
    offset: usize,
}

impl<'a> Reader<'a> {
    fn take(&mut self, field: &'static str, len: usize) -> Result<&'a [u8], EntryError> {
        let rest = self.bytes.get(self.offset..).unwrap_or(&[]);
        let Some(out) = rest.get(..len) else {
            return Err(EntryError::Truncated {
                field,
                offset: self.offset,
                needed: len,
                available: rest.len(),
            });
        };
        self.offset += len;
        Ok(out)
    }

    fn array<const N: usize>(&mut self, field: &'static str) -> Result<[u8; N], EntryError> {
        let offset = self.offset;
        let slice = self.take(field, N)?;
        <[u8; N]>::try_from(slice).map_err(|_| EntryError::Truncated {
            field,
            offset,
            needed: N,
            available: slice.len(),
        })
    }
}
