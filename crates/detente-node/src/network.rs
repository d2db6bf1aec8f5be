//! The network file: which parties take part, where their nodes are, and the public keys
//! that every node trusts. Every node of a network holds the same file.
//!
//! ```toml
//! treaty = "carter_1977"
//! treaty_sha256 = "…"            # optional: every node must run this exact treaty source
//!
//! [[party]]
//! name = "US"
//! url = "http://127.0.0.1:7701"
//! node_key = "base64 of the node's 32-byte Ed25519 public key"
//!
//! [[party.principal]]             # optional: people who write letters for the party
//! name = "Carter"
//! signing_key = "base64 Ed25519 public key"
//! sealing_key = "base64 X25519 public key"
//! ```

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as BASE64;
use detente_ledger::note::Verifier;
use serde::{Deserialize, Serialize};
use std::fmt;

/// Largest network file read, in bytes.
pub const MAX_NETWORK_BYTES: usize = 1 << 20;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Network {
    /// The treaty's name, as in `treaty NAME "title"`: part of every log's origin.
    pub treaty: String,
    /// The SHA-256 (hex) of the treaty source every node must run, if pinned.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub treaty_sha256: Option<String>,
    #[serde(rename = "party")]
    pub parties: Vec<Party>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Party {
    pub name: String,
    /// Base URL of the party's node (`http://host:port`).
    pub url: String,
    /// Base64 of the node's Ed25519 public key.
    pub node_key: String,
    #[serde(default, rename = "principal", skip_serializing_if = "Vec::is_empty")]
    pub principals: Vec<Principal>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Principal {
    pub name: String,
    /// Base64 of the principal's Ed25519 public key (signs letters).
    pub signing_key: String,
    /// Base64 of the principal's X25519 public key (letters are sealed to it).
    pub sealing_key: String,
}

/// What is wrong with a network file, and where.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NetworkError {
    pub source: String,
    pub message: String,
}

impl fmt::Display for NetworkError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.source, self.message)
    }
}

impl std::error::Error for NetworkError {}

/// The origin of a party's log: `detente/<treaty>/<party>`.
pub fn origin(treaty: &str, party: &str) -> String {
    format!("detente/{treaty}/{party}")
}

/// Decodes a base64 32-byte public key.
pub fn decode_key(text: &str) -> Option<[u8; 32]> {
    let bytes = BASE64.decode(text.trim()).ok()?;
    <[u8; 32]>::try_from(bytes.as_slice()).ok()
}

pub fn encode_key(key: &[u8; 32]) -> String {
    BASE64.encode(key)
}

fn is_name(text: &str) -> bool {
    !text.is_empty()
        && text.len() <= 64
        && text
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
}

impl Network {
    /// Reads and checks a network file; `source` names it in errors.
    pub fn parse(text: &str, source: &str) -> Result<Network, NetworkError> {
        let error = |message: String| NetworkError {
            source: source.to_owned(),
            message,
        };
        if text.len() > MAX_NETWORK_BYTES {
            return Err(error(format!(
                "the file is {} bytes; a network file is at most {MAX_NETWORK_BYTES}",
                text.len()
            )));
        }
        let network: Network = toml::from_str(text).map_err(|e| {
            let place = e
                .span()
                .map(|span| {
                    let before = text.get(..span.start).unwrap_or("");
                    let line = before.matches('\n').count() + 1;
                    let column = before.rsplit('\n').next().map_or(0, str::len) + 1;
                    format!("line {line}, column {column}: ")
                })
                .unwrap_or_default();
            error(format!("{place}{}", e.message()))
        })?;
        network.check().map_err(error)?;
        Ok(network)
    }

    fn check(&self) -> Result<(), String> {
        if !is_name(&self.treaty) {
            return Err(format!(
                "treaty `{}` is not a name (letters, digits, `_`, `-`)",
                self.treaty
            ));
        }
        if let Some(hash) = &self.treaty_sha256
            && (hash.len() != 64 || !hash.chars().all(|c| c.is_ascii_hexdigit()))
        {
            return Err(format!(
                "treaty_sha256 `{hash}` is not 64 hexadecimal digits"
            ));
        }
        if self.parties.len() < 2 {
            return Err("a network has at least two parties ([[party]] tables)".to_owned());
        }
        let mut names = std::collections::BTreeSet::new();
        let mut keys = std::collections::BTreeSet::new();
        for party in &self.parties {
            if !is_name(&party.name) {
                return Err(format!(
                    "party `{}` is not a name (letters, digits, `_`, `-`)",
                    party.name
                ));
            }
            if !names.insert(party.name.as_str()) {
                return Err(format!("party `{}` is listed twice", party.name));
            }
            if !(party.url.starts_with("http://") || party.url.starts_with("https://")) {
                return Err(format!(
                    "party `{}`: url `{}` must start with http:// or https://",
                    party.name, party.url
                ));
            }
            let Some(key) = decode_key(&party.node_key) else {
                return Err(format!(
                    "party `{}`: node_key is not the base64 of a 32-byte Ed25519 public key",
                    party.name
                ));
            };
            if !keys.insert(key) {
                return Err(format!(
                    "party `{}`: node_key is also another party's key",
                    party.name
                ));
            }
            for principal in &party.principals {
                if decode_key(&principal.signing_key).is_none()
                    || decode_key(&principal.sealing_key).is_none()
                {
                    return Err(format!(
                        "party `{}`, principal `{}`: keys must be base64 of 32 bytes",
                        party.name, principal.name
                    ));
                }
            }
        }
        Ok(())
    }

    pub fn party(&self, name: &str) -> Option<&Party> {
        self.parties.iter().find(|p| p.name == name)
    }

    /// The origin of `party`'s log.
    pub fn origin(&self, party: &str) -> String {
        origin(&self.treaty, party)
    }

    /// The party whose log has this origin.
    pub fn party_of_origin(&self, origin: &str) -> Option<&Party> {
        self.parties.iter().find(|p| self.origin(&p.name) == origin)
    }

    /// The party whose node key this is.
    pub fn party_of_key(&self, key: &[u8; 32]) -> Option<&Party> {
        self.parties
            .iter()
            .find(|p| decode_key(&p.node_key).as_ref() == Some(key))
    }

    /// The key that signs `party`'s checkpoints.
    pub fn log_verifier(&self, party: &Party) -> Option<Verifier> {
        let key = decode_key(&party.node_key)?;
        Verifier::ed25519(&self.origin(&party.name), key).ok()
    }

    /// The key with which `party`'s node cosigns other logs' checkpoints.
    pub fn cosigner_verifier(&self, party: &Party) -> Option<Verifier> {
        let key = decode_key(&party.node_key)?;
        Verifier::cosigner(&self.origin(&party.name), key).ok()
    }

    /// Every party's cosigner key.
    pub fn cosigner_verifiers(&self) -> Vec<Verifier> {
        self.parties
            .iter()
            .filter_map(|p| self.cosigner_verifier(p))
            .collect()
    }

    pub fn to_toml(&self) -> String {
        toml::to_string_pretty(self).unwrap_or_default()
    }
}
