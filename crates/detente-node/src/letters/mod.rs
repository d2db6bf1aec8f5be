//! Letters between principals: confidential to the addressee, signed by the author, and
//! recorded in the author's party log so that their sending cannot be denied.
//!
//! A letter is drafted locally ([`letter::Draft`]), signed with the author's Ed25519 key
//! over its content and the addressee's identity and sealing key, sealed to the addressee
//! with HPKE ([`envelope`]), and appended to the author's party log as an
//! [`EntryKind::Letter`] entry whose body reveals only the sender, the addressee and the
//! size. Every node mirrors it like any entry; only the addressee's key file opens it.
//!
//! Reading a letter checks, in this order: the entry's receipt (inclusion in a signed
//! checkpoint of the log, with its cosignatures); that the envelope parses; that its sender
//! speaks for the party whose log holds it; that it is addressed to the reader; that the
//! sender is a principal of the network file; that HPKE opens it (sealed to the reader's key
//! by the sender's, for this log); the author's signature; that the signed letter names the
//! envelope's sender and addressee and the reader's sealing key; and that its letter id did
//! not appear before in any log the node holds (a replay).
//!
//! The functions that sign, seal and open are pure (randomness comes in as an RNG, time
//! from the node's clock); the ones taking a [`Node`] read its store and append through it.
//! The node never holds a principal's secret: callers pass the principal's keys in.
//!
//! See `docs/letters.md` for the formats and what the channel does and does not guarantee.

pub mod edition;
pub mod envelope;
pub mod error;
pub mod letter;
pub mod principal;

use detente_ledger::checkpoint::{Cosignature, with_cosignatures};
use detente_ledger::entry::{Entry, EntryKind};
use detente_ledger::receipt::{Receipt, Verified, verify_receipt};
use rand::CryptoRng;
use serde::Serialize;
use std::collections::BTreeMap;

pub use error::{LetterError, Place};
pub use letter::{Amendment, Draft, Letter, Reference};
pub use principal::{KeyFile, PrincipalId, PrincipalKeys};

use crate::network::Network;
use crate::node::{Node, READ_PAGE};
use crate::store::{Store, StoredCosignature};
use envelope::Envelope;

/// The operating system's random generator, for the binary: the functions of this module
/// take their randomness as an argument so that tests can fix it.
pub fn system_rng() -> rand::rngs::ThreadRng {
    rand::rng()
}

/// A cosignature covering an entry: which node, and when (POSIX seconds).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Cosigned {
    pub cosigner: String,
    pub timestamp: u64,
}

/// What anyone holding the log knows of a letter entry: never its content.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct LetterMeta {
    pub origin: String,
    /// The party whose log holds it.
    pub party: String,
    pub index: u64,
    /// When the log's node appended it (its own claim; cosignatures are the others').
    pub appended_at_ms: i64,
    /// The envelope's size in bytes.
    pub size: u64,
    pub sender: Option<String>,
    pub addressee: Option<String>,
    /// Why the envelope cannot be read, if it cannot.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub problem: Option<String>,
    /// The earliest cosignature of each other node on a checkpoint that includes the entry.
    pub cosigned_by: Vec<Cosigned>,
}

impl LetterMeta {
    pub fn place(&self) -> Place {
        Place {
            origin: self.origin.clone(),
            index: self.index,
        }
    }

    /// The order in which letters count as sent, for replays: by the time their node
    /// appended them, then by log and index.
    fn order(&self) -> (i64, &str, u64) {
        (self.appended_at_ms, self.origin.as_str(), self.index)
    }
}

/// The earliest cosignature by each cosigner on a checkpoint that includes entry `index`.
fn covering(cosignatures: &[StoredCosignature], index: u64) -> Vec<Cosigned> {
    let mut earliest: BTreeMap<&str, u64> = BTreeMap::new();
    for c in cosignatures.iter().filter(|c| c.size > index) {
        let at = earliest.entry(c.cosigner.as_str()).or_insert(c.timestamp);
        *at = (*at).min(c.timestamp);
    }
    earliest
        .into_iter()
        .map(|(cosigner, timestamp)| Cosigned {
            cosigner: cosigner.to_owned(),
            timestamp,
        })
        .collect()
}

/// Every letter entry in every log the node holds (its own and its mirrors), by log and
/// index: metadata only, nothing is opened.
pub async fn list<S: Store>(node: &Node<S>) -> Result<Vec<LetterMeta>, LetterError> {
    let mut out = Vec::new();
    for (origin, size, _, _) in node.log_heads().await {
        let party = node
            .network()
            .party_of_origin(&origin)
            .map(|p| p.name.clone())
            .unwrap_or_default();
        let cosignatures = node.store().cosignatures(&origin).await?;
        let mut from = 0;
        while from < size {
            let to = size.min(from.saturating_add(READ_PAGE));
            for stored in node.store().entries(&origin, from, to).await? {
                let Ok(entry) = Entry::decode(&stored.bytes) else {
                    continue;
                };
                if entry.kind != EntryKind::Letter {
                    continue;
                }
                let (sender, addressee, problem) = match Envelope::decode(&entry.body) {
                    Ok(e) => (
                        Some(e.sender.to_string()),
                        Some(e.addressee.to_string()),
                        None,
                    ),
                    Err(problem) => (None, None, Some(problem)),
                };
                out.push(LetterMeta {
                    origin: origin.clone(),
                    party: party.clone(),
                    index: stored.index,
                    appended_at_ms: entry.appended_at_ms,
                    size: entry.body.len() as u64,
                    sender,
                    addressee,
                    problem,
                    cosigned_by: covering(&cosignatures, stored.index),
                });
            }
            from = to;
        }
    }
    Ok(out)
}

/// Signs and seals a draft for the author's party log `origin`: the letter and the
/// envelope's bytes. Checks the author's keys and the addressee against the network file.
pub fn seal_draft(
    network: &Network,
    origin: &str,
    draft: &Draft,
    author: &PrincipalKeys,
    rng: &mut impl CryptoRng,
) -> Result<(Letter, Vec<u8>), LetterError> {
    draft.check().map_err(LetterError::Invalid)?;
    if &draft.from != author.id() {
        return Err(LetterError::Invalid(format!(
            "the draft is from {}, but the key file is {}'s",
            draft.from,
            author.id()
        )));
    }
    if network.origin(draft.from.party()) != origin {
        return Err(LetterError::Invalid(format!(
            "{} writes for {}: a letter goes in the log of the author's party, not in {origin}",
            draft.from,
            draft.from.party()
        )));
    }
    author.check_against(network)?;
    let addressee = principal::network_keys(network, &draft.to)?;
    let mut letter_id = [0u8; 16];
    rng.fill_bytes(&mut letter_id);
    let letter = Letter {
        letter_id,
        to_sealing_key: addressee.sealing,
        content: draft.clone(),
    };
    let sealed = envelope::seal(&letter, author, origin, rng)?;
    Ok((letter, sealed))
}

/// What sending did.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Sent {
    pub origin: String,
    pub index: u64,
    #[serde(serialize_with = "hex_id")]
    pub letter_id: [u8; 16],
    /// The envelope's size in bytes.
    pub size: u64,
    /// The signed checkpoint covering the entry.
    pub checkpoint: String,
}

fn hex_id<S: serde::Serializer>(id: &[u8; 16], s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str(&crate::home::hex(id))
}

/// Signs, seals and appends a draft to the node's own log. The node must be the author's
/// party's.
pub async fn send<S: Store>(
    node: &Node<S>,
    draft: &Draft,
    author: &PrincipalKeys,
    rng: &mut impl CryptoRng,
) -> Result<Sent, LetterError> {
    let (letter, sealed) = seal_draft(node.network(), node.origin(), draft, author, rng)?;
    let size = sealed.len() as u64;
    let (index, checkpoint) = node
        .append_entries(vec![(EntryKind::Letter, sealed)])
        .await?;
    Ok(Sent {
        origin: node.origin().to_owned(),
        index,
        letter_id: letter.letter_id,
        size,
        checkpoint,
    })
}

/// Opens the letter in an entry's body, found at `place` in the log of `log_party`, with
/// the reader's keys: every check but the receipt and replays.
pub fn open_body(
    network: &Network,
    reader: &PrincipalKeys,
    place: &Place,
    log_party: &str,
    body: &[u8],
) -> Result<(Envelope, Letter, [u8; 64]), LetterError> {
    let envelope = Envelope::decode(body).map_err(|detail| LetterError::Malformed {
        place: place.clone(),
        detail,
    })?;
    if envelope.sender.party() != log_party {
        return Err(LetterError::SenderNotOfLog {
            place: place.clone(),
            sender: envelope.sender.to_string(),
            log_party: log_party.to_owned(),
        });
    }
    if &envelope.addressee != reader.id() {
        return Err(LetterError::NotAddressedToReader {
            place: place.clone(),
            addressee: envelope.addressee.to_string(),
            reader: reader.id().to_string(),
        });
    }
    let sender = principal::network_keys(network, &envelope.sender)?;
    let (letter, signature) = envelope::open(&envelope, place, reader, &sender)?;
    Ok((envelope, letter, signature))
}

/// A letter opened and checked.
#[derive(Debug, Clone)]
pub struct Opened {
    pub meta: LetterMeta,
    pub letter: Letter,
    pub signature: [u8; 64],
    /// The author's key the signature verified with (from the network file).
    pub author_signing_key: [u8; 32],
    /// The receipt checked, and what it established.
    pub receipt: Receipt,
    pub verified: Verified,
    /// When the reader's party's node cosigned a checkpoint including the entry (POSIX
    /// seconds), if it has and the log is another party's.
    pub received_by_reader_party: Option<u64>,
    /// What the reader should know that does not refuse the letter.
    pub warnings: Vec<String>,
}

impl Opened {
    /// What the edition's source note says.
    pub fn source(&self) -> edition::Source {
        edition::Source {
            origin: self.meta.origin.clone(),
            index: self.meta.index,
            appended_at_ms: self.meta.appended_at_ms,
            letter_id: self.letter.letter_id,
            author_signing_key: self.author_signing_key,
            checkpoint_size: self.verified.size,
            checkpoint_root: self.verified.root,
            cosigned_by: self.verified.cosigned_by.clone(),
        }
    }
}

/// The receipt of entry `index` of `origin` against the first checkpoint the node holds
/// that includes it and is cosigned by `prefer` (the reader's party's node), else the first
/// cosigned by anyone, else the latest. The first such checkpoint does not change as the
/// log grows, so neither does an edition's source note.
async fn receipt_for<S: Store>(
    node: &Node<S>,
    origin: &str,
    index: u64,
    prefer: &str,
) -> Result<(Vec<u8>, Receipt), LetterError> {
    let place = Place {
        origin: origin.to_owned(),
        index,
    };
    let checkpoints = node.store().checkpoints(origin).await?;
    let cosignatures = node.store().cosignatures(origin).await?;
    let including: Vec<_> = checkpoints.iter().filter(|c| c.size > index).collect();
    let cosigned_by = |size: u64, who: Option<&str>| {
        cosignatures
            .iter()
            .any(|c| c.size == size && who.is_none_or(|w| c.cosigner == w))
    };
    let chosen = including
        .iter()
        .find(|c| cosigned_by(c.size, Some(prefer)))
        .or_else(|| including.iter().find(|c| cosigned_by(c.size, None)))
        .or_else(|| including.last())
        .ok_or_else(|| LetterError::Receipt {
            place: place.clone(),
            detail: "the node holds no checkpoint that includes it".into(),
        })?;
    let lines: Vec<Cosignature> = cosignatures
        .iter()
        .filter(|c| c.size == chosen.size)
        .filter_map(|c| Cosignature::parse_line(&c.line).ok())
        .collect();
    let note = with_cosignatures(&chosen.note, &lines).map_err(|e| LetterError::Receipt {
        place: place.clone(),
        detail: format!("the checkpoint at size {}: {e}", chosen.size),
    })?;
    let proof = node.inclusion_proof(origin, index, chosen.size).await?;
    let bytes = node
        .store()
        .entries(origin, index, index + 1)
        .await?
        .into_iter()
        .next()
        .ok_or_else(|| LetterError::Receipt {
            place,
            detail: "the node does not hold the entry".into(),
        })?
        .bytes;
    Ok((
        bytes,
        Receipt {
            index,
            proof,
            checkpoint_note: note,
            extra: None,
        },
    ))
}

/// Opens and checks letter `index` of the log `origin` with the reader's keys (see the
/// module documentation for the checks, in order).
pub async fn read<S: Store>(
    node: &Node<S>,
    reader: &PrincipalKeys,
    origin: &str,
    index: u64,
) -> Result<Opened, LetterError> {
    let network = node.network();
    reader.check_against(network)?;
    let party = network.party_of_origin(origin).ok_or_else(|| {
        LetterError::Invalid(format!("no party of the network has the log {origin}"))
    })?;
    let log_verifier = network
        .log_verifier(party)
        .ok_or_else(|| LetterError::Invalid(format!("no key for the log {origin}")))?;
    let place = Place {
        origin: origin.to_owned(),
        index,
    };
    let size = node
        .log_heads()
        .await
        .into_iter()
        .find(|(o, ..)| o == origin)
        .map_or(0, |(_, size, ..)| size);
    if index >= size {
        return Err(LetterError::Invalid(format!(
            "the log {origin} held by this node has {size} entries; there is no entry {index}"
        )));
    }
    let reader_origin = network.origin(reader.id().party());
    let (bytes, receipt) = receipt_for(node, origin, index, &reader_origin).await?;
    let verified = verify_receipt(
        &receipt,
        &bytes,
        &log_verifier,
        &network.cosigner_verifiers(),
    )
    .map_err(|e| LetterError::Receipt {
        place: place.clone(),
        detail: e.to_string(),
    })?;
    let entry = Entry::decode(&bytes).map_err(|e| LetterError::Malformed {
        place: place.clone(),
        detail: e.to_string(),
    })?;
    if entry.kind != EntryKind::Letter {
        return Err(LetterError::NotALetter { place });
    }
    let (envelope, letter, signature) =
        open_body(network, reader, &place, &party.name, &entry.body)?;
    let author_signing_key = principal::network_keys(network, &envelope.sender)?
        .signing
        .to_bytes();

    let all = list(node).await?;
    let meta = all
        .iter()
        .find(|m| m.origin == origin && m.index == index)
        .cloned()
        .ok_or_else(|| LetterError::NotALetter {
            place: place.clone(),
        })?;
    if let Some(first) = first_with_id(node, reader, &all, &meta, &letter.letter_id).await? {
        return Err(LetterError::Replay { place, first });
    }

    let mut warnings = Vec::new();
    let received_by_reader_party = if reader_origin == origin {
        None
    } else {
        let at = meta
            .cosigned_by
            .iter()
            .find(|c| c.cosigner == reader_origin)
            .map(|c| c.timestamp);
        if at.is_none() {
            warnings.push(format!(
                "{}'s node has not cosigned a checkpoint including it yet: its receipt rests on {}'s signature{}",
                reader.id().party(),
                party.name,
                if verified.cosigned_by.is_empty() {
                    " alone"
                } else {
                    " and the other cosignatures"
                }
            ));
        }
        at
    };
    Ok(Opened {
        meta,
        letter,
        signature,
        author_signing_key,
        receipt,
        verified,
        received_by_reader_party,
        warnings,
    })
}

/// The first letter before `this` (in the order of [`LetterMeta::order`]) that the reader
/// can open and that has the same letter id.
async fn first_with_id<S: Store>(
    node: &Node<S>,
    reader: &PrincipalKeys,
    all: &[LetterMeta],
    this: &LetterMeta,
    letter_id: &[u8; 16],
) -> Result<Option<Place>, LetterError> {
    let reader_name = reader.id().to_string();
    let mut earlier: Vec<&LetterMeta> = all
        .iter()
        .filter(|m| m.addressee.as_deref() == Some(reader_name.as_str()))
        .filter(|m| m.order() < this.order())
        .collect();
    earlier.sort_by(|a, b| a.order().cmp(&b.order()));
    for m in earlier {
        let Some(stored) = node
            .store()
            .entries(&m.origin, m.index, m.index + 1)
            .await?
            .into_iter()
            .next()
        else {
            continue;
        };
        let Ok(entry) = Entry::decode(&stored.bytes) else {
            continue;
        };
        if let Ok((_, letter, _)) =
            open_body(node.network(), reader, &m.place(), &m.party, &entry.body)
            && &letter.letter_id == letter_id
        {
            return Ok(Some(m.place()));
        }
    }
    Ok(None)
}

/// One line of an inbox.
#[derive(Debug, Clone, Serialize)]
pub struct InboxItem {
    #[serde(flatten)]
    pub meta: LetterMeta,
    /// With the reader's secret keys: the letter's date and subject if it opens (every check
    /// but the receipt), or why it is refused.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub opens: Option<Result<(String, String), String>>,
}

/// The letters addressed to `reader` in every log the node holds, by the order they were
/// sent. With `keys` (the reader's), each is also opened and checked for replays.
pub async fn inbox<S: Store>(
    node: &Node<S>,
    reader: &PrincipalId,
    keys: Option<&PrincipalKeys>,
) -> Result<Vec<InboxItem>, LetterError> {
    if let Some(keys) = keys {
        keys.check_against(node.network())?;
    }
    let reader_name = reader.to_string();
    let mut mine: Vec<LetterMeta> = list(node)
        .await?
        .into_iter()
        .filter(|m| m.addressee.as_deref() == Some(reader_name.as_str()))
        .collect();
    mine.sort_by(|a, b| a.order().cmp(&b.order()));
    let mut seen: BTreeMap<[u8; 16], Place> = BTreeMap::new();
    let mut out = Vec::with_capacity(mine.len());
    for meta in mine {
        let opens = match keys {
            None => None,
            Some(keys) => {
                let stored = node
                    .store()
                    .entries(&meta.origin, meta.index, meta.index + 1)
                    .await?
                    .into_iter()
                    .next();
                let result = stored
                    .ok_or_else(|| "the node does not hold the entry".to_owned())
                    .and_then(|s| Entry::decode(&s.bytes).map_err(|e| e.to_string()))
                    .and_then(|entry| {
                        open_body(
                            node.network(),
                            keys,
                            &meta.place(),
                            &meta.party,
                            &entry.body,
                        )
                        .map_err(|e| e.to_string())
                    })
                    .and_then(|(_, letter, _)| match seen.get(&letter.letter_id) {
                        Some(first) => Err(LetterError::Replay {
                            place: meta.place(),
                            first: first.clone(),
                        }
                        .to_string()),
                        None => {
                            seen.insert(letter.letter_id, meta.place());
                            Ok((letter.content.date, letter.content.subject))
                        }
                    });
                Some(result)
            }
        };
        out.push(InboxItem { meta, opens });
    }
    Ok(out)
}
