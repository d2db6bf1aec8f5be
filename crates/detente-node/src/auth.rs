//! Signed requests between nodes.
//!
//! Every request from one node to another carries three headers:
//!
//! - `detente-key`: the origin of the sender's log (`detente/<treaty>/<party>`), naming the
//!   node key in the network file that signed the request;
//! - `detente-time`: the sender's clock, in seconds since the Unix epoch;
//! - `detente-nonce`: 1 to 64 characters, letters, digits, `-` or `_`, fresh per request
//!   (two identical requests in one second must still differ);
//! - `detente-signature`: base64 of an Ed25519 signature over
//!   `"detente-request/v1\n" recipient "\n" method "\n" path-and-query "\n" time "\n"
//!   nonce "\n" hex(SHA-256(body)) "\n"`.
//!
//! The recipient's origin is signed, so a request can't be replayed to another node; the
//! time bounds how long a request may be replayed to the same node, and within that window
//! the recipient remembers the signatures it has accepted.

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as BASE64;
use ed25519_dalek::{Signature, Signer as _, SigningKey, Verifier as _, VerifyingKey};
use std::collections::BTreeMap;
use std::fmt;
use std::sync::Mutex;

use crate::network::{Network, decode_key};

pub const HEADER_KEY: &str = "detente-key";
pub const HEADER_TIME: &str = "detente-time";
pub const HEADER_NONCE: &str = "detente-nonce";
pub const HEADER_SIGNATURE: &str = "detente-signature";

/// How far a request's time may be from the recipient's clock, in seconds.
pub const MAX_SKEW_SECS: i64 = 300;

/// The bytes a request signature covers.
pub fn request_message(
    recipient: &str,
    method: &str,
    path_and_query: &str,
    time: i64,
    nonce: &str,
    body: &[u8],
) -> Vec<u8> {
    let hex = crate::home::sha256_hex(body);
    format!("detente-request/v1\n{recipient}\n{method}\n{path_and_query}\n{time}\n{nonce}\n{hex}\n")
        .into_bytes()
}

/// The headers of a signed request, as (name, value) pairs.
#[allow(clippy::too_many_arguments)]
pub fn sign_request(
    key: &SigningKey,
    sender: &str,
    recipient: &str,
    method: &str,
    path_and_query: &str,
    time: i64,
    nonce: &str,
    body: &[u8],
) -> [(&'static str, String); 4] {
    let message = request_message(recipient, method, path_and_query, time, nonce, body);
    let signature = key.sign(&message);
    [
        (HEADER_KEY, sender.to_owned()),
        (HEADER_TIME, time.to_string()),
        (HEADER_NONCE, nonce.to_owned()),
        (HEADER_SIGNATURE, BASE64.encode(signature.to_bytes())),
    ]
}

/// Why a request was refused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AuthError {
    MissingHeader(&'static str),
    UnknownKey(String),
    BadTime(String),
    BadNonce,
    Skewed { time: i64, now: i64 },
    BadSignature,
    Replayed,
}

impl fmt::Display for AuthError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            AuthError::MissingHeader(name) => {
                write!(f, "the request is not signed: header `{name}` is missing")
            }
            AuthError::UnknownKey(key) => {
                write!(f, "`{key}` is not a node of the network file")
            }
            AuthError::BadTime(text) => write!(
                f,
                "header `{HEADER_TIME}` `{text}` is not a number of seconds"
            ),
            AuthError::Skewed { time, now } => write!(
                f,
                "the request was signed at {time}, {}s from this node's clock ({now}); at most {MAX_SKEW_SECS}s is accepted",
                (now - time).abs()
            ),
            AuthError::BadNonce => write!(
                f,
                "header `{HEADER_NONCE}` must be 1 to 64 letters, digits, `-` or `_`"
            ),
            AuthError::BadSignature => write!(f, "the request signature does not verify"),
            AuthError::Replayed => write!(f, "this signed request was already received (a replay)"),
        }
    }
}

impl std::error::Error for AuthError {}

/// Checks signed requests from the nodes of one network, remembering recent signatures.
#[derive(Debug)]
pub struct RequestVerifier {
    /// origin → node key.
    keys: BTreeMap<String, VerifyingKey>,
    recipient: String,
    /// Signatures accepted, by time, for the replay window.
    seen: Mutex<BTreeMap<(i64, [u8; 64]), ()>>,
}

/// The sender of an authenticated request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Sender {
    pub party: String,
    pub origin: String,
}

impl RequestVerifier {
    pub fn new(network: &Network, recipient: &str) -> RequestVerifier {
        let keys = network
            .parties
            .iter()
            .filter_map(|p| {
                let key = VerifyingKey::from_bytes(&decode_key(&p.node_key)?).ok()?;
                Some((network.origin(&p.name), key))
            })
            .collect();
        RequestVerifier {
            keys,
            recipient: recipient.to_owned(),
            seen: Mutex::new(BTreeMap::new()),
        }
    }

    /// Checks a request; `header` looks a header up by name.
    pub fn verify<'h>(
        &self,
        header: impl Fn(&str) -> Option<&'h str>,
        method: &str,
        path_and_query: &str,
        body: &[u8],
        now: i64,
    ) -> Result<Sender, AuthError> {
        let key_name = header(HEADER_KEY).ok_or(AuthError::MissingHeader(HEADER_KEY))?;
        let time_text = header(HEADER_TIME).ok_or(AuthError::MissingHeader(HEADER_TIME))?;
        let nonce = header(HEADER_NONCE).ok_or(AuthError::MissingHeader(HEADER_NONCE))?;
        if nonce.is_empty()
            || nonce.len() > 64
            || !nonce
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
        {
            return Err(AuthError::BadNonce);
        }
        let signature_text =
            header(HEADER_SIGNATURE).ok_or(AuthError::MissingHeader(HEADER_SIGNATURE))?;
        let key = self
            .keys
            .get(key_name)
            .ok_or_else(|| AuthError::UnknownKey(key_name.chars().take(200).collect()))?;
        let time: i64 = time_text
            .parse()
            .map_err(|_| AuthError::BadTime(time_text.chars().take(40).collect()))?;
        if (now - time).abs() > MAX_SKEW_SECS {
            return Err(AuthError::Skewed { time, now });
        }
        let signature_bytes: [u8; 64] = BASE64
            .decode(signature_text)
            .ok()
            .and_then(|b| <[u8; 64]>::try_from(b.as_slice()).ok())
            .ok_or(AuthError::BadSignature)?;
        let message = request_message(&self.recipient, method, path_and_query, time, nonce, body);
        key.verify(&message, &Signature::from_bytes(&signature_bytes))
            .map_err(|_| AuthError::BadSignature)?;
        let mut seen = self.seen.lock().map_err(|_| AuthError::BadSignature)?;
        // Forget what has left the window: those requests are refused by their time.
        let horizon = now - MAX_SKEW_SECS - 1;
        while seen
            .first_key_value()
            .is_some_and(|((t, _), _)| *t < horizon)
        {
            seen.pop_first();
        }
        if seen.insert((time, signature_bytes), ()).is_some() {
            return Err(AuthError::Replayed);
        }
        let party = key_name.rsplit('/').next().unwrap_or(key_name).to_owned();
        Ok(Sender {
            party,
            origin: key_name.to_owned(),
        })
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]
    use super::*;

    fn network(a: &SigningKey, b: &SigningKey) -> Network {
        Network {
            treaty: "t".into(),
            treaty_sha256: None,
            parties: vec![
                crate::network::Party {
                    name: "A".into(),
                    url: "http://127.0.0.1:1".into(),
                    node_key: crate::network::encode_key(&a.verifying_key().to_bytes()),
                    principals: vec![],
                },
                crate::network::Party {
                    name: "B".into(),
                    url: "http://127.0.0.1:2".into(),
                    node_key: crate::network::encode_key(&b.verifying_key().to_bytes()),
                    principals: vec![],
                },
            ],
        }
    }

    #[test]
    fn signed_requests_verify_once_and_only_for_their_recipient() {
        let a = SigningKey::from_bytes(&[1; 32]);
        let b = SigningKey::from_bytes(&[2; 32]);
        let net = network(&a, &b);
        let at_b = RequestVerifier::new(&net, "detente/t/B");
        let headers = sign_request(
            &a,
            "detente/t/A",
            "detente/t/B",
            "GET",
            "/x?y=1",
            1000,
            "n1",
            b"",
        );
        let get = |name: &str| {
            headers
                .iter()
                .find(|(n, _)| *n == name)
                .map(|(_, v)| v.as_str())
        };
        assert_eq!(
            at_b.verify(get, "GET", "/x?y=1", b"", 1010).unwrap().party,
            "A"
        );
        assert_eq!(
            at_b.verify(get, "GET", "/x?y=1", b"", 1010),
            Err(AuthError::Replayed)
        );
        let at_a = RequestVerifier::new(&net, "detente/t/A");
        assert_eq!(
            at_a.verify(get, "GET", "/x?y=1", b"", 1010),
            Err(AuthError::BadSignature)
        );
        assert_eq!(
            at_b.verify(get, "GET", "/x?y=2", b"", 1010),
            Err(AuthError::BadSignature)
        );
        assert!(matches!(
            at_b.verify(get, "GET", "/x?y=1", b"", 2000),
            Err(AuthError::Skewed { .. })
        ));
        let stranger = SigningKey::from_bytes(&[3; 32]);
        let forged = sign_request(
            &stranger,
            "detente/t/A",
            "detente/t/B",
            "GET",
            "/z",
            1000,
            "n2",
            b"",
        );
        let get = |name: &str| {
            forged
                .iter()
                .find(|(n, _)| *n == name)
                .map(|(_, v)| v.as_str())
        };
        assert_eq!(
            at_b.verify(get, "GET", "/z", b"", 1000),
            Err(AuthError::BadSignature)
        );
    }
}
