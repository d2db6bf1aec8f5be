//! The sealed envelope: what a letter entry's body holds, and the only part of a letter a
//! node, its operators or any other party can read.
//!
//! ```text
//! magic       16 bytes  "detente-envelope"
//! version      u8       1
//! sender       s8       PARTY/NAME of the author (u8 length + UTF-8)
//! addressee    s8       PARTY/NAME of the addressee
//! enc         32 bytes  HPKE encapsulated key (the sender's ephemeral X25519 public key)
//! ciphertext   u32 BE length + bytes: HPKE ciphertext (ChaCha20-Poly1305, 16-byte tag last)
//! ```
//!
//! Nothing follows the ciphertext. The plaintext is the letter's canonical bytes followed
//! by the author's 64-byte Ed25519 signature over them. It is sealed with HPKE (RFC 9180)
//! in Auth mode with DHKEM(X25519, HKDF-SHA256), HKDF-SHA256 and ChaCha20-Poly1305: to the
//! addressee's sealing key, authenticated by the sender's. The HPKE `info` binds the log
//! and both principals, and the associated data is the envelope's header (every byte before
//! the ciphertext's length), so a changed header, a letter moved to another log or a
//! re-addressed envelope does not open.

use ed25519_dalek::{Signature, Signer as _};
use hpke::{Deserializable as _, OpModeR, OpModeS, Serializable as _};
use rand::CryptoRng;

use super::LetterError;
use super::error::Place;
use super::letter::{Letter, Reader};
use super::principal::{PrincipalId, PrincipalKeys, PublicKeys, SealingKem};

type Kdf = hpke::kdf::HkdfSha256;
type Aead = hpke::aead::ChaCha20Poly1305;

/// The domain-separation prefix of an envelope.
pub const ENVELOPE_MAGIC: &[u8; 16] = b"detente-envelope";
/// The only envelope version written and read.
pub const ENVELOPE_VERSION: u8 = 1;
/// The prefix of the HPKE `info` string.
pub const HPKE_INFO_PREFIX: &[u8] = b"detente-letter/v1 hpke";
/// Largest sealed plaintext (letter and signature), in bytes, so that an envelope always
/// fits in a log entry (1 MiB).
pub const MAX_SEALED_BYTES: usize = 960 * 1024;
/// Length of the AEAD tag HPKE appends.
const TAG_BYTES: usize = 16;

/// An envelope, parsed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Envelope {
    pub sender: PrincipalId,
    pub addressee: PrincipalId,
    pub enc: [u8; 32],
    pub ciphertext: Vec<u8>,
}

impl Envelope {
    /// The header: every byte before the ciphertext's length (the HPKE associated data).
    fn header(sender: &PrincipalId, addressee: &PrincipalId, enc: &[u8; 32]) -> Vec<u8> {
        let mut out = Vec::with_capacity(64 + 2 * 64);
        out.extend_from_slice(ENVELOPE_MAGIC);
        out.push(ENVELOPE_VERSION);
        for principal in [sender, addressee] {
            let text = principal.to_string();
            // A principal is at most 64 + 1 + 64 bytes, so its length fits in a byte.
            out.push(u8::try_from(text.len()).unwrap_or(u8::MAX));
            out.extend_from_slice(text.as_bytes());
        }
        out.extend_from_slice(enc);
        out
    }

    pub fn encode(&self) -> Vec<u8> {
        let mut out = Envelope::header(&self.sender, &self.addressee, &self.enc);
        let len = u32::try_from(self.ciphertext.len()).unwrap_or(u32::MAX);
        out.extend_from_slice(&len.to_be_bytes());
        out.extend_from_slice(&self.ciphertext);
        out
    }

    /// Parses an envelope; the error names the field and its byte offset.
    pub fn decode(bytes: &[u8]) -> Result<Envelope, String> {
        let mut r = Reader::new(bytes);
        if r.take("magic", ENVELOPE_MAGIC.len())? != ENVELOPE_MAGIC {
            return Err("envelope byte 0: the magic is not \"detente-envelope\"".into());
        }
        let version = r.u8("version")?;
        if version != ENVELOPE_VERSION {
            return Err(format!(
                "envelope byte 16: version {version} is not supported (only {ENVELOPE_VERSION})"
            ));
        }
        let principal = |r: &mut Reader<'_>, field: &str| -> Result<PrincipalId, String> {
            let at = r.offset();
            let text = r.s8(field).map_err(|e| format!("envelope {e}"))?;
            PrincipalId::parse(&text).map_err(|e| format!("envelope byte {at}: {field}: {e}"))
        };
        let sender = principal(&mut r, "sender")?;
        let addressee = principal(&mut r, "addressee")?;
        let enc = r
            .array::<32>("encapsulated key")
            .map_err(|e| format!("envelope {e}"))?;
        let len = u32::from_be_bytes(
            r.array("ciphertext length")
                .map_err(|e| format!("envelope {e}"))?,
        );
        let len = usize::try_from(len).unwrap_or(usize::MAX);
        if len > MAX_SEALED_BYTES + TAG_BYTES {
            return Err(format!(
                "envelope: the ciphertext is {len} bytes; the limit is {}",
                MAX_SEALED_BYTES + TAG_BYTES
            ));
        }
        let ciphertext = r
            .take("ciphertext", len)
            .map_err(|e| format!("envelope {e}"))?
            .to_vec();
        if r.rest() != 0 {
            return Err(format!(
                "envelope byte {}: {} unexpected bytes after the ciphertext",
                r.offset(),
                r.rest()
            ));
        }
        Ok(Envelope {
            sender,
            addressee,
            enc,
            ciphertext,
        })
    }
}

/// The HPKE `info`: the prefix, then the log's origin, the sender and the addressee, each
/// after a one-byte length.
fn info(origin: &str, sender: &PrincipalId, addressee: &PrincipalId) -> Vec<u8> {
    let mut out = HPKE_INFO_PREFIX.to_vec();
    for text in [origin.to_owned(), sender.to_string(), addressee.to_string()] {
        out.push(u8::try_from(text.len()).unwrap_or(u8::MAX));
        out.extend_from_slice(text.as_bytes());
    }
    out
}

/// Signs `letter` with the author's key and seals it to the addressee it names, for the
/// log `origin`: the envelope's bytes. Randomness (the HPKE ephemeral key) comes from `rng`.
pub fn seal(
    letter: &Letter,
    author: &PrincipalKeys,
    origin: &str,
    rng: &mut impl CryptoRng,
) -> Result<Vec<u8>, LetterError> {
    let to = letter.content.to.clone();
    seal_to(letter, author, origin, &to, &letter.to_sealing_key, rng)
}

/// [`seal`], but to any addressee and key, whatever the letter names: how a letter sealed
/// to another addressee than its own is made (readers refuse it; tests need it).
pub fn seal_to(
    letter: &Letter,
    author: &PrincipalKeys,
    origin: &str,
    addressee: &PrincipalId,
    addressee_key: &[u8; 32],
    rng: &mut impl CryptoRng,
) -> Result<Vec<u8>, LetterError> {
    let content = &letter.content;
    if &content.from != author.id() {
        return Err(LetterError::Invalid(format!(
            "the letter is from {}, but the key file is {}'s",
            content.from,
            author.id()
        )));
    }
    if origin.len() > usize::from(u8::MAX) {
        return Err(LetterError::Invalid(format!(
            "log origin `{origin}` is longer than 255 bytes"
        )));
    }
    let mut plaintext = letter.encode()?;
    let signature = author.signing_key().sign(&plaintext);
    plaintext.extend_from_slice(&signature.to_bytes());
    if plaintext.len() > MAX_SEALED_BYTES {
        return Err(LetterError::Invalid(format!(
            "the letter is {} bytes signed; the limit is {MAX_SEALED_BYTES}",
            plaintext.len()
        )));
    }
    let recipient = <SealingKem as hpke::Kem>::PublicKey::from_bytes(addressee_key)
        .map_err(|e| LetterError::Invalid(format!("the addressee's sealing key: {e}")))?;
    let sender_secret = author.sealing_secret().map_err(LetterError::Invalid)?;
    let sender_public = <SealingKem as hpke::Kem>::PublicKey::from_bytes(&author.sealing_public())
        .map_err(|e| LetterError::Invalid(format!("the sender's sealing key: {e}")))?;
    let mode = OpModeS::Auth((sender_secret, sender_public));
    // The header needs `enc`, which sealing makes: seal in two steps (setup, then seal)
    // so that the header can be the associated data.
    let (enc, mut context) = hpke::setup_sender_with_rng::<Aead, Kdf, SealingKem>(
        &mode,
        &recipient,
        &info(origin, &content.from, addressee),
        rng,
    )
    .map_err(|e| LetterError::Invalid(format!("sealing the letter: {e}")))?;
    let mut enc_bytes = [0u8; 32];
    enc_bytes.copy_from_slice(enc.to_bytes().as_slice());
    let header = Envelope::header(&content.from, addressee, &enc_bytes);
    let ciphertext = context
        .seal(&plaintext, &header)
        .map_err(|e| LetterError::Invalid(format!("sealing the letter: {e}")))?;
    Ok(Envelope {
        sender: content.from.clone(),
        addressee: addressee.clone(),
        enc: enc_bytes,
        ciphertext,
    }
    .encode())
}

/// Opens an envelope found at `place` (in the log `place.origin`) with the reader's keys,
/// authenticating the sender by `sender_keys` (from the network file), and checks the
/// author's signature and that the letter inside was written for this envelope. Returns
/// the letter and its signature.
pub fn open(
    envelope: &Envelope,
    place: &Place,
    reader: &PrincipalKeys,
    sender_keys: &PublicKeys,
) -> Result<(Letter, [u8; 64]), LetterError> {
    if &envelope.addressee != reader.id() {
        return Err(LetterError::NotAddressedToReader {
            place: place.clone(),
            addressee: envelope.addressee.to_string(),
            reader: reader.id().to_string(),
        });
    }
    let cannot_open = |detail: String| LetterError::CannotOpen {
        place: place.clone(),
        detail,
    };
    let secret = reader.sealing_secret().map_err(cannot_open)?;
    let sender = <SealingKem as hpke::Kem>::PublicKey::from_bytes(&sender_keys.sealing)
        .map_err(|e| cannot_open(format!("the sender's sealing key: {e}")))?;
    let enc = <SealingKem as hpke::Kem>::EncappedKey::from_bytes(&envelope.enc)
        .map_err(|e| cannot_open(format!("the encapsulated key: {e}")))?;
    let header = Envelope::header(&envelope.sender, &envelope.addressee, &envelope.enc);
    let plaintext = hpke::single_shot_open::<Aead, Kdf, SealingKem>(
        &OpModeR::Auth(sender),
        &secret,
        &enc,
        &info(&place.origin, &envelope.sender, &envelope.addressee),
        &envelope.ciphertext,
        &header,
    )
    .map_err(|_| {
        cannot_open(format!(
            "it was not sealed to {}'s sealing key by {}'s, for this log, or a byte of it was changed",
            envelope.addressee, envelope.sender
        ))
    })?;
    let split = plaintext
        .len()
        .checked_sub(64)
        .ok_or_else(|| LetterError::Malformed {
            place: place.clone(),
            detail: "the sealed letter is shorter than a signature".into(),
        })?;
    let (bytes, signature) = plaintext.split_at(split);
    let signature: [u8; 64] = signature.try_into().map_err(|_| LetterError::Malformed {
        place: place.clone(),
        detail: "the signature is not 64 bytes".into(),
    })?;
    // The signature first: a letter that is not the author's is refused as such, whatever
    // its bytes hold.
    sender_keys
        .signing
        .verify_strict(bytes, &Signature::from_bytes(&signature))
        .map_err(|_| LetterError::BadSignature {
            place: place.clone(),
            author: envelope.sender.to_string(),
        })?;
    let letter = Letter::decode(bytes).map_err(|detail| LetterError::Malformed {
        place: place.clone(),
        detail: format!("letter {detail}"),
    })?;
    let mut wrong = Vec::new();
    if letter.content.from != envelope.sender {
        wrong.push(format!(
            "the signed letter is from {}, the envelope from {}",
            letter.content.from, envelope.sender
        ));
    }
    if letter.content.to != envelope.addressee {
        wrong.push(format!(
            "the signed letter is to {}, the envelope to {}",
            letter.content.to, envelope.addressee
        ));
    }
    if letter.to_sealing_key != reader.sealing_public() {
        wrong.push(format!(
            "the author sealed it to another key than {}'s",
            reader.id()
        ));
    }
    if !wrong.is_empty() {
        return Err(LetterError::Readdressed {
            place: place.clone(),
            detail: wrong.join("; "),
        });
    }
    Ok((letter, signature))
}
