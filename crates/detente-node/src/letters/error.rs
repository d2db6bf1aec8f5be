//! Why a letter, a draft or a principal's key file was refused.

use std::fmt;

use crate::node::NodeError;

/// Where a letter sits: its log and index, for error messages.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Place {
    pub origin: String,
    pub index: u64,
}

impl fmt::Display for Place {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "entry {} of {}", self.index, self.origin)
    }
}

/// Why a letter operation failed. Every refusal of a received letter names the entry.
#[derive(Debug)]
pub enum LetterError {
    /// A draft, an argument or a letter's content is not acceptable: what and where.
    Invalid(String),
    /// A principal's key file cannot be read, or does not hold what it says.
    KeyFile { source: String, message: String },
    /// The key file is not the one the network file lists for its principal.
    KeyNotInNetwork { principal: String, detail: String },
    /// The principal is not in the network file.
    UnknownPrincipal { principal: String },
    /// The entry is not a letter.
    NotALetter { place: Place },
    /// The envelope or the letter inside it does not parse.
    Malformed { place: Place, detail: String },
    /// The envelope is addressed to another principal than the reader.
    NotAddressedToReader {
        place: Place,
        addressee: String,
        reader: String,
    },
    /// The envelope's sender does not speak for the party whose log holds it.
    SenderNotOfLog {
        place: Place,
        sender: String,
        log_party: String,
    },
    /// HPKE refused to open the ciphertext: not sealed to the reader's key, not by the
    /// sender's key, or changed.
    CannotOpen { place: Place, detail: String },
    /// The author's signature does not verify with the author's key in the network file.
    BadSignature { place: Place, author: String },
    /// The signed letter names another author, addressee or sealing key than its envelope.
    Readdressed { place: Place, detail: String },
    /// The same letter id appeared before.
    Replay { place: Place, first: Place },
    /// The entry's receipt does not verify.
    Receipt { place: Place, detail: String },
    /// The node failed.
    Node(NodeError),
}

impl fmt::Display for LetterError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            LetterError::Invalid(message) => write!(f, "{message}"),
            LetterError::KeyFile { source, message } => write!(f, "key file `{source}`: {message}"),
            LetterError::KeyNotInNetwork { principal, detail } => write!(
                f,
                "the key file is not the one the network file lists for {principal}: {detail}"
            ),
            LetterError::UnknownPrincipal { principal } => write!(
                f,
                "`{principal}` is not a principal in the network file (no [[party.principal]] with that name under its party)"
            ),
            LetterError::NotALetter { place } => write!(f, "{place} is not a letter"),
            LetterError::Malformed { place, detail } => {
                write!(f, "{place}: refused: the letter is malformed: {detail}")
            }
            LetterError::NotAddressedToReader {
                place,
                addressee,
                reader,
            } => write!(
                f,
                "{place} is addressed to {addressee}, not to {reader}; only its addressee's key opens it"
            ),
            LetterError::SenderNotOfLog {
                place,
                sender,
                log_party,
            } => write!(
                f,
                "{place}: refused: its envelope names the sender {sender}, who does not speak for {log_party}, the party whose log holds it"
            ),
            LetterError::CannotOpen { place, detail } => {
                write!(f, "{place}: refused: it cannot be opened: {detail}")
            }
            LetterError::BadSignature { place, author } => write!(
                f,
                "{place}: refused: the signature is not by {author}'s signing key in the network file"
            ),
            LetterError::Readdressed { place, detail } => {
                write!(f, "{place}: refused: the letter was re-addressed: {detail}")
            }
            LetterError::Replay { place, first } => write!(
                f,
                "{place}: refused: a replay: the same letter (same letter id) is {first}, which came first"
            ),
            LetterError::Receipt { place, detail } => {
                write!(f, "{place}: refused: its receipt does not verify: {detail}")
            }
            LetterError::Node(e) => write!(f, "{e}"),
        }
    }
}

impl std::error::Error for LetterError {}

impl From<NodeError> for LetterError {
    fn from(e: NodeError) -> LetterError {
        LetterError::Node(e)
    }
}

impl From<crate::store::StoreError> for LetterError {
    fn from(e: crate::store::StoreError) -> LetterError {
        LetterError::Node(NodeError::Store(e))
    }
}
