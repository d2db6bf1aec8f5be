//! Talking to another party's node: the peer protocol as a trait, and its HTTP client.
//!
//! Every answer is bounded in size and checked for shape here; whether it is *true*
//! (signatures, proofs, hashes) is the node's business.

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as BASE64;
use ed25519_dalek::SigningKey;
use serde::{Deserialize, Serialize};
use std::fmt;
use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use crate::auth::sign_request;
use crate::clock::Clock;
use crate::store::Hash;

/// Largest answer accepted from a peer, in bytes (a page of entries is at most
/// 1,000 entries of at most 1 MiB each, in base64; real pages are far smaller).
pub const MAX_RESPONSE_BYTES: usize = 64 * 1024 * 1024;
/// Largest checkpoint note accepted, in bytes.
pub const MAX_NOTE_BYTES: usize = 64 * 1024;
/// Most hashes in a proof (a tree of 2^64 leaves needs 64 per side).
pub const MAX_PROOF_HASHES: usize = 130;

/// Why a peer's answer was not used.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PeerError {
    pub peer: String,
    pub what: String,
    pub detail: String,
}

impl fmt::Display for PeerError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "peer {} ({}): {}", self.peer, self.what, self.detail)
    }
}

impl std::error::Error for PeerError {}

/// The peer protocol: what one node asks of another about that node's own log.
pub trait Peer: Send + Sync {
    /// The party whose node this is.
    fn party(&self) -> &str;

    /// The latest checkpoint of its log: a signed note, with cosignatures.
    fn checkpoint(&self) -> impl Future<Output = Result<String, PeerError>> + Send;

    /// Encoded entries `from..to` of its log (it may return fewer, never more).
    fn entries(
        &self,
        from: u64,
        to: u64,
    ) -> impl Future<Output = Result<Vec<Vec<u8>>, PeerError>> + Send;

    /// A consistency proof of its log from `old_size` to `new_size`.
    fn consistency(
        &self,
        old_size: u64,
        new_size: u64,
    ) -> impl Future<Output = Result<Vec<Hash>, PeerError>> + Send;

    /// Gives it this node's cosignature on its checkpoint at `size`.
    fn add_cosignature(
        &self,
        size: u64,
        line: &str,
    ) -> impl Future<Output = Result<(), PeerError>> + Send;

    /// The latest checkpoint it holds of every other log: (origin, signed note).
    fn mirrors(&self) -> impl Future<Output = Result<Vec<(String, String)>, PeerError>> + Send;
}

/// The JSON shapes of the peer endpoints.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EntriesBody {
    /// Base64 of each encoded entry.
    pub entries: Vec<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ProofBody {
    /// Base64 of each hash.
    pub proof: Vec<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CosignatureBody {
    pub size: u64,
    /// The cosignature line (`— name base64`).
    pub line: String,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MirrorsBody {
    pub logs: Vec<MirroredCheckpoint>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MirroredCheckpoint {
    pub origin: String,
    pub checkpoint: String,
}

pub fn encode_hashes(hashes: &[Hash]) -> ProofBody {
    ProofBody {
        proof: hashes.iter().map(|h| BASE64.encode(h)).collect(),
    }
}

/// Decodes the hashes of a proof; `None` names the first bad one.
pub fn decode_hashes(body: &ProofBody) -> Result<Vec<Hash>, String> {
    if body.proof.len() > MAX_PROOF_HASHES {
        return Err(format!(
            "{} hashes; a proof has at most {MAX_PROOF_HASHES}",
            body.proof.len()
        ));
    }
    body.proof
        .iter()
        .enumerate()
        .map(|(i, text)| {
            BASE64
                .decode(text)
                .ok()
                .and_then(|b| <Hash>::try_from(b.as_slice()).ok())
                .ok_or_else(|| format!("proof hash {i} is not the base64 of 32 bytes"))
        })
        .collect()
}

/// A peer reached over HTTP, every request signed with this node's key.
#[derive(Debug, Clone)]
pub struct HttpPeer {
    party: String,
    /// The peer's log origin, which the signed requests name as their recipient.
    recipient: String,
    base_url: String,
    sender: String,
    key: SigningKey,
    clock: Arc<dyn Clock>,
    client: reqwest::Client,
}

impl HttpPeer {
    pub fn new(
        party: &str,
        recipient: &str,
        base_url: &str,
        sender: &str,
        key: SigningKey,
        clock: Arc<dyn Clock>,
    ) -> Result<HttpPeer, PeerError> {
        // reqwest is built without a TLS provider of its own (STACK.md: no aws-lc); ring's
        // is installed once per process. A second install fails harmlessly.
        let _ = rustls::crypto::ring::default_provider().install_default();
        let client = reqwest::Client::builder()
            .connect_timeout(Duration::from_secs(5))
            .timeout(Duration::from_secs(60))
            .no_proxy()
            .build()
            .map_err(|e| PeerError {
                peer: party.to_owned(),
                what: "client".into(),
                detail: e.to_string(),
            })?;
        Ok(HttpPeer {
            party: party.to_owned(),
            recipient: recipient.to_owned(),
            base_url: base_url.trim_end_matches('/').to_owned(),
            sender: sender.to_owned(),
            key,
            clock,
            client,
        })
    }

    fn error(&self, what: &str, detail: impl Into<String>) -> PeerError {
        PeerError {
            peer: self.party.clone(),
            what: what.to_owned(),
            detail: detail.into(),
        }
    }

    /// Sends a signed request and reads at most `limit` bytes of a successful answer.
    async fn call(
        &self,
        what: &str,
        method: reqwest::Method,
        path_and_query: &str,
        body: Vec<u8>,
        limit: usize,
    ) -> Result<Vec<u8>, PeerError> {
        let nonce: String = {
            let bytes: [u8; 16] = rand::random();
            bytes.iter().map(|b| format!("{b:02x}")).collect()
        };
        let headers = sign_request(
            &self.key,
            &self.sender,
            &self.recipient,
            method.as_str(),
            path_and_query,
            self.clock.now_secs(),
            &nonce,
            &body,
        );
        let mut request = self
            .client
            .request(method, format!("{}{path_and_query}", self.base_url));
        for (name, value) in headers {
            request = request.header(name, value);
        }
        if !body.is_empty() {
            request = request
                .header("content-type", "application/json")
                .body(body);
        }
        let mut response = request
            .send()
            .await
            .map_err(|e| self.error(what, format!("cannot reach {}: {e}", self.base_url)))?;
        let status = response.status();
        if response
            .content_length()
            .is_some_and(|length| length > limit as u64)
        {
            return Err(self.error(
                what,
                format!("the answer is larger than {limit} bytes; refused"),
            ));
        }
        let mut bytes = Vec::new();
        while let Some(chunk) = response
            .chunk()
            .await
            .map_err(|e| self.error(what, format!("reading the answer: {e}")))?
        {
            if bytes.len() + chunk.len() > limit {
                return Err(self.error(
                    what,
                    format!("the answer is larger than {limit} bytes; refused"),
                ));
            }
            bytes.extend_from_slice(&chunk);
        }
        if !status.is_success() {
            let text: String = String::from_utf8_lossy(&bytes).chars().take(500).collect();
            return Err(self.error(what, format!("HTTP {status}: {text}")));
        }
        Ok(bytes)
    }

    async fn get_json<T: serde::de::DeserializeOwned>(
        &self,
        what: &str,
        path_and_query: &str,
        limit: usize,
    ) -> Result<T, PeerError> {
        let bytes = self
            .call(
                what,
                reqwest::Method::GET,
                path_and_query,
                Vec::new(),
                limit,
            )
            .await?;
        serde_json::from_slice(&bytes)
            .map_err(|e| self.error(what, format!("malformed answer: {e}")))
    }
}

impl Peer for HttpPeer {
    fn party(&self) -> &str {
        &self.party
    }

    async fn checkpoint(&self) -> Result<String, PeerError> {
        let bytes = self
            .call(
                "checkpoint",
                reqwest::Method::GET,
                "/peer/v1/checkpoint",
                Vec::new(),
                MAX_NOTE_BYTES,
            )
            .await?;
        String::from_utf8(bytes).map_err(|_| self.error("checkpoint", "the note is not UTF-8"))
    }

    async fn entries(&self, from: u64, to: u64) -> Result<Vec<Vec<u8>>, PeerError> {
        let body: EntriesBody = self
            .get_json(
                "entries",
                &format!("/peer/v1/entries?from={from}&to={to}"),
                MAX_RESPONSE_BYTES,
            )
            .await?;
        body.entries
            .iter()
            .enumerate()
            .map(|(i, text)| {
                BASE64.decode(text).map_err(|_| {
                    self.error(
                        "entries",
                        format!("entry {} is not base64", from + i as u64),
                    )
                })
            })
            .collect()
    }

    async fn consistency(&self, old_size: u64, new_size: u64) -> Result<Vec<Hash>, PeerError> {
        let body: ProofBody = self
            .get_json(
                "consistency proof",
                &format!("/peer/v1/consistency?old={old_size}&new={new_size}"),
                MAX_NOTE_BYTES,
            )
            .await?;
        decode_hashes(&body).map_err(|e| self.error("consistency proof", e))
    }

    async fn add_cosignature(&self, size: u64, line: &str) -> Result<(), PeerError> {
        let body = serde_json::to_vec(&CosignatureBody {
            size,
            line: line.to_owned(),
        })
        .map_err(|e| self.error("cosignature", e.to_string()))?;
        self.call(
            "cosignature",
            reqwest::Method::POST,
            "/peer/v1/cosignature",
            body,
            MAX_NOTE_BYTES,
        )
        .await
        .map(|_| ())
    }

    async fn mirrors(&self) -> Result<Vec<(String, String)>, PeerError> {
        let body: MirrorsBody = self
            .get_json("mirrors", "/peer/v1/mirrors", MAX_NOTE_BYTES * 64)
            .await?;
        Ok(body
            .logs
            .into_iter()
            .map(|m| (m.origin, m.checkpoint))
            .collect())
    }
}
