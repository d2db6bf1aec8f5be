//! A party's private verification state, kept in its data folder and never in a log:
//!
//! ```text
//! DIR/private/                          mode 0700
//!   escrow-<root hex>.bin               the items and salts behind a commitment
//!   seed-<SHA-256(round) hex>.json      a seed for a round (until and after its reveal)
//!   limit-<commitment hex>.json         the opening of a limit proof (value, blinding)
//! ```
//!
//! Every file is written once (never overwritten), readable only by its owner (0600),
//! and written before the record that depends on it is appended, so a crash never leaves
//! a commitment in the log without the secret that opens it.
//!
//! The escrow file: `"detente-escrow-private/v1\n"`, party (u16 BE length + UTF-8),
//! as_of (10 bytes), counts published (u8 0/1), item count (u64 BE), then per item its
//! 32-byte salt and its canonical bytes (u32 BE length + bytes).

use std::io::Write as _;
use std::path::{Path, PathBuf};

use detente_escrow::commit::{Item, MAX_ITEM_BYTES, Salt};
use detente_escrow::limit::{LimitContext, Opening};
use detente_escrow::randomness::Seed;
use serde::{Deserialize, Serialize};
use sha2::{Digest as _, Sha256};

use crate::home::hex;
use crate::node::NodeError;

/// The folder of a data folder's private verification state.
pub fn private_dir(data_dir: &Path) -> PathBuf {
    data_dir.join("private")
}

const ESCROW_MAGIC: &[u8] = b"detente-escrow-private/v1\n";
/// The largest escrow file read (16 GiB).
const MAX_ESCROW_FILE: u64 = 16 << 30;
/// The largest seed or opening file read.
const MAX_SMALL_FILE: u64 = 64 << 10;

fn io_error(what: &str, path: &Path, e: impl std::fmt::Display) -> NodeError {
    NodeError::Config(format!("{what} `{}`: {e}", path.display()))
}

/// Makes `DIR/private` (owner only) if needed.
fn ensure_dir(data_dir: &Path) -> Result<PathBuf, NodeError> {
    let dir = private_dir(data_dir);
    std::fs::create_dir_all(&dir).map_err(|e| io_error("cannot create", &dir, e))?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt as _;
        std::fs::set_permissions(&dir, std::fs::Permissions::from_mode(0o700))
            .map_err(|e| io_error("cannot restrict", &dir, e))?;
    }
    Ok(dir)
}

/// Writes a new file readable only by its owner; refuses to replace one.
fn write_new(path: &Path, bytes: &[u8]) -> Result<(), NodeError> {
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt as _;
        options.mode(0o600);
    }
    let mut file = options
        .open(path)
        .map_err(|e| io_error("cannot create", path, e))?;
    file.write_all(bytes)
        .and_then(|()| file.sync_all())
        .map_err(|e| io_error("cannot write", path, e))
}

/// Reads a file of at most `max` bytes; `None` if it does not exist.
fn read_bounded(path: &Path, max: u64) -> Result<Option<Vec<u8>>, NodeError> {
    let meta = match std::fs::metadata(path) {
        Ok(m) => m,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(io_error("cannot read", path, e)),
    };
    if meta.len() > max {
        return Err(io_error(
            "cannot read",
            path,
            format!(
                "{} bytes is more than the {max} this file may have",
                meta.len()
            ),
        ));
    }
    std::fs::read(path)
        .map(Some)
        .map_err(|e| io_error("cannot read", path, e))
}

/// The items and salts behind one commitment.
#[derive(Debug, Clone)]
pub struct EscrowFile {
    pub party: String,
    pub as_of: String,
    pub publish_counts: bool,
    pub items: Vec<(Item, Salt)>,
}

pub fn escrow_path(data_dir: &Path, root: &[u8; 32]) -> PathBuf {
    private_dir(data_dir).join(format!("escrow-{}.bin", hex(root)))
}

/// Writes the escrow file of the commitment with root `root`.
pub fn write_escrow(
    data_dir: &Path,
    root: &[u8; 32],
    file: &EscrowFile,
) -> Result<PathBuf, NodeError> {
    ensure_dir(data_dir)?;
    let path = escrow_path(data_dir, root);
    let mut buf = Vec::with_capacity(64 + file.items.len() * 160);
    buf.extend_from_slice(ESCROW_MAGIC);
    let party = file.party.as_bytes();
    buf.extend_from_slice(&u16::try_from(party.len()).unwrap_or(u16::MAX).to_be_bytes());
    buf.extend_from_slice(party);
    buf.extend_from_slice(file.as_of.as_bytes());
    buf.push(u8::from(file.publish_counts));
    buf.extend_from_slice(&(file.items.len() as u64).to_be_bytes());
    for (item, salt) in &file.items {
        let bytes = item
            .encode()
            .map_err(|e| NodeError::Invalid(format!("item {:?}: {e}", item.id)))?;
        buf.extend_from_slice(salt);
        buf.extend_from_slice(&u32::try_from(bytes.len()).unwrap_or(u32::MAX).to_be_bytes());
        buf.extend_from_slice(&bytes);
    }
    write_new(&path, &buf)?;
    Ok(path)
}

/// Reads the escrow file of the commitment with root `root`, if this node keeps one.
pub fn read_escrow(data_dir: &Path, root: &[u8; 32]) -> Result<Option<EscrowFile>, NodeError> {
    let path = escrow_path(data_dir, root);
    let Some(bytes) = read_bounded(&path, MAX_ESCROW_FILE)? else {
        return Ok(None);
    };
    let bad = |at: usize, what: &str| io_error("cannot read", &path, format!("byte {at}: {what}"));
    let mut pos = 0usize;
    let mut take = |n: usize, what: &str| -> Result<&[u8], NodeError> {
        let slice = pos
            .checked_add(n)
            .and_then(|end| bytes.get(pos..end))
            .ok_or_else(|| bad(pos, &format!("the file ends inside {what}")))?;
        pos += n;
        Ok(slice)
    };
    if take(ESCROW_MAGIC.len(), "the magic")? != ESCROW_MAGIC {
        return Err(bad(0, "not a detente escrow file"));
    }
    let len = u16::from_be_bytes(take(2, "the party")?.try_into().unwrap_or_default());
    let party = String::from_utf8(take(usize::from(len), "the party")?.to_vec())
        .map_err(|_| bad(0, "the party is not UTF-8"))?;
    let as_of = String::from_utf8(take(10, "the date")?.to_vec())
        .map_err(|_| bad(0, "the date is not UTF-8"))?;
    let publish_counts = take(1, "the counts flag")?.first() == Some(&1);
    let count = u64::from_be_bytes(take(8, "the item count")?.try_into().unwrap_or_default());
    let mut items = Vec::new();
    for i in 0..count {
        let salt: Salt = take(32, "a salt")?.try_into().unwrap_or_default();
        let len = u32::from_be_bytes(take(4, "an item length")?.try_into().unwrap_or_default());
        let len = usize::try_from(len).unwrap_or(usize::MAX);
        if len > MAX_ITEM_BYTES {
            return Err(bad(0, &format!("item {i} claims {len} bytes")));
        }
        let item =
            Item::decode(take(len, "an item")?).map_err(|e| bad(0, &format!("item {i}: {e}")))?;
        items.push((item, salt));
    }
    if pos != bytes.len() {
        return Err(bad(pos, "unexpected bytes after the last item"));
    }
    Ok(Some(EscrowFile {
        party,
        as_of,
        publish_counts,
        items,
    }))
}

#[derive(Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct SeedFile {
    round: String,
    party: String,
    seed: String,
}

pub fn seed_path(data_dir: &Path, round: &str) -> PathBuf {
    private_dir(data_dir).join(format!(
        "seed-{}.json",
        hex(&Sha256::digest(round.as_bytes()))
    ))
}

fn unhex32(text: &str) -> Option<[u8; 32]> {
    if text.len() != 64 {
        return None;
    }
    let mut out = [0u8; 32];
    for (i, byte) in out.iter_mut().enumerate() {
        *byte = u8::from_str_radix(text.get(2 * i..2 * i + 2)?, 16).ok()?;
    }
    Some(out)
}

/// Parses 64 hex digits.
pub fn parse_hex32(text: &str) -> Option<[u8; 32]> {
    unhex32(text.trim())
}

pub fn write_seed(data_dir: &Path, round: &str, party: &str, seed: &Seed) -> Result<(), NodeError> {
    ensure_dir(data_dir)?;
    let file = SeedFile {
        round: round.to_owned(),
        party: party.to_owned(),
        seed: hex(seed),
    };
    let text = serde_json::to_string_pretty(&file)
        .map_err(|e| NodeError::Config(format!("seed file: {e}")))?;
    write_new(&seed_path(data_dir, round), text.as_bytes())
}

/// The seed this node keeps for `round`, if any.
pub fn read_seed(data_dir: &Path, round: &str) -> Result<Option<Seed>, NodeError> {
    let path = seed_path(data_dir, round);
    let Some(bytes) = read_bounded(&path, MAX_SMALL_FILE)? else {
        return Ok(None);
    };
    let file: SeedFile =
        serde_json::from_slice(&bytes).map_err(|e| io_error("cannot read", &path, e))?;
    if file.round != round {
        return Err(io_error(
            "cannot read",
            &path,
            format!("it keeps the seed of round {:?}, not {round:?}", file.round),
        ));
    }
    unhex32(&file.seed)
        .map(Some)
        .ok_or_else(|| io_error("cannot read", &path, "the seed is not 64 hex digits"))
}

#[derive(Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct OpeningFile {
    party: String,
    quantity: String,
    as_of: String,
    bound: u64,
    value: u64,
    blinding: String,
}

pub fn opening_path(data_dir: &Path, commitment: &[u8; 32]) -> PathBuf {
    private_dir(data_dir).join(format!("limit-{}.json", hex(commitment)))
}

pub fn write_opening(
    data_dir: &Path,
    commitment: &[u8; 32],
    bound: u64,
    opening: &Opening,
) -> Result<(), NodeError> {
    ensure_dir(data_dir)?;
    let file = OpeningFile {
        party: opening.context.party.clone(),
        quantity: opening.context.quantity.clone(),
        as_of: opening.context.as_of.clone(),
        bound,
        value: opening.value,
        blinding: hex(&opening.blinding),
    };
    let text = serde_json::to_string_pretty(&file)
        .map_err(|e| NodeError::Config(format!("opening file: {e}")))?;
    write_new(&opening_path(data_dir, commitment), text.as_bytes())
}

/// The opening this node keeps for the proof whose commitment is `commitment`, if any.
pub fn read_opening(data_dir: &Path, commitment: &[u8; 32]) -> Result<Option<Opening>, NodeError> {
    let path = opening_path(data_dir, commitment);
    let Some(bytes) = read_bounded(&path, MAX_SMALL_FILE)? else {
        return Ok(None);
    };
    let file: OpeningFile =
        serde_json::from_slice(&bytes).map_err(|e| io_error("cannot read", &path, e))?;
    let context = LimitContext::new(&file.party, &file.quantity, &file.as_of)
        .map_err(|e| io_error("cannot read", &path, e))?;
    let blinding = unhex32(&file.blinding)
        .ok_or_else(|| io_error("cannot read", &path, "the blinding is not 64 hex digits"))?;
    Ok(Some(Opening {
        context,
        value: file.value,
        blinding,
    }))
}
