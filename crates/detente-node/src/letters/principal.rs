//! Principals and their keys: who may write letters for a party, and the key file each
//! keeps for themselves.
//!
//! A principal is named `PARTY/NAME` (`US/Carter`). Their public keys are in the network
//! file (`[[party.principal]]`, read by [`crate::network`]); their secrets are in a key file
//! that only they hold, never the node:
//!
//! ```toml
//! format = "detente-principal-key/v1"
//! principal = "US/Carter"
//! signing_key = "base64 Ed25519 public key"
//! sealing_key = "base64 X25519 public key"
//! secrets = "base64 of 64 bytes: Ed25519 seed || X25519 secret"   # without a passphrase
//!
//! [protected]                     # instead of `secrets`, with a passphrase
//! kdf = "argon2id"
//! version = 19
//! memory_kib = 65536
//! iterations = 3
//! parallelism = 1
//! salt = "base64 of 16 bytes"
//! nonce = "base64 of 12 bytes"
//! ciphertext = "base64 of 80 bytes: ChaCha20-Poly1305 of the 64 secret bytes, with its tag"
//! ```
//!
//! With a passphrase the 32-byte key is Argon2id(passphrase, salt) with the stored
//! parameters, and the associated data is the file's public part (format, principal and both
//! public keys, each followed by a newline), so a key file whose public keys were swapped
//! does not open. After opening, the public keys are recomputed from the secrets and must be
//! the ones written.

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as BASE64;
use chacha20poly1305::aead::{Aead as _, KeyInit as _, Payload};
use ed25519_dalek::{SigningKey, VerifyingKey};
use hpke::{Deserializable as _, Kem as _, Serializable as _};
use rand::CryptoRng;
use serde::{Deserialize, Serialize};
use std::fmt;

use super::LetterError;
use crate::network::{Network, decode_key, encode_key};

/// The HPKE KEM letters are sealed with (X25519, HKDF-SHA256).
pub(crate) type SealingKem = hpke::kem::X25519HkdfSha256;

/// The first line of a key file's public part.
pub const KEY_FILE_FORMAT: &str = "detente-principal-key/v1";

/// Largest key file read, in bytes.
pub const MAX_KEY_FILE_BYTES: usize = 16 * 1024;

/// Longest passphrase accepted, in bytes.
pub const MAX_PASSPHRASE_BYTES: usize = 1024;

/// Longest party or principal name, in bytes (the network file's rule for party names).
pub const MAX_NAME_BYTES: usize = 64;

/// A principal: `PARTY/NAME`.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct PrincipalId {
    party: String,
    name: String,
}

/// Whether `text` is a name: 1 to 64 ASCII letters, digits, `_` or `-`.
pub fn is_name(text: &str) -> bool {
    !text.is_empty()
        && text.len() <= MAX_NAME_BYTES
        && text
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
}

impl PrincipalId {
    /// Parses `PARTY/NAME`.
    pub fn parse(text: &str) -> Result<PrincipalId, LetterError> {
        let invalid = || {
            LetterError::Invalid(format!(
                "`{text}` is not a principal; write PARTY/NAME, e.g. `US/Carter` (letters, digits, `_`, `-`)"
            ))
        };
        let (party, name) = text.split_once('/').ok_or_else(invalid)?;
        if !is_name(party) || !is_name(name) {
            return Err(invalid());
        }
        Ok(PrincipalId {
            party: party.to_owned(),
            name: name.to_owned(),
        })
    }

    pub fn party(&self) -> &str {
        &self.party
    }

    pub fn name(&self) -> &str {
        &self.name
    }
}

impl fmt::Display for PrincipalId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.party, self.name)
    }
}

impl TryFrom<String> for PrincipalId {
    type Error = String;
    fn try_from(text: String) -> Result<PrincipalId, String> {
        PrincipalId::parse(&text).map_err(|e| e.to_string())
    }
}

impl From<PrincipalId> for String {
    fn from(id: PrincipalId) -> String {
        id.to_string()
    }
}

/// A principal's public keys, as the network file lists them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PublicKeys {
    pub signing: VerifyingKey,
    pub sealing: [u8; 32],
}

/// The public keys the network file lists for `id`.
pub fn network_keys(network: &Network, id: &PrincipalId) -> Result<PublicKeys, LetterError> {
    let unknown = || LetterError::UnknownPrincipal {
        principal: id.to_string(),
    };
    let listed = network
        .party(id.party())
        .and_then(|p| p.principals.iter().find(|x| x.name == id.name()))
        .ok_or_else(unknown)?;
    let signing = decode_key(&listed.signing_key)
        .and_then(|k| VerifyingKey::from_bytes(&k).ok())
        .ok_or_else(|| {
            LetterError::Invalid(format!(
                "the network file's signing_key for {id} is not an Ed25519 public key"
            ))
        })?;
    let sealing = decode_key(&listed.sealing_key).ok_or_else(|| {
        LetterError::Invalid(format!(
            "the network file's sealing_key for {id} is not the base64 of 32 bytes"
        ))
    })?;
    Ok(PublicKeys { signing, sealing })
}

/// Argon2id's cost parameters for a passphrase-protected key file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct KdfParams {
    pub memory_kib: u32,
    pub iterations: u32,
    pub parallelism: u32,
}

impl KdfParams {
    /// What `detente principal new` uses: 64 MiB, 3 passes, 1 lane (RFC 9106 §4's second
    /// recommendation, with one lane so that it costs the same on a 1-core machine).
    pub const DEFAULT: KdfParams = KdfParams {
        memory_kib: 64 * 1024,
        iterations: 3,
        parallelism: 1,
    };

    /// The most a key file may ask for: reading a hostile file must not exhaust the
    /// machine.
    const MAX_MEMORY_KIB: u32 = 1024 * 1024;
    const MAX_ITERATIONS: u32 = 64;
    const MAX_PARALLELISM: u32 = 16;

    fn argon2(&self) -> Result<argon2::Argon2<'static>, String> {
        if self.memory_kib > Self::MAX_MEMORY_KIB
            || self.iterations > Self::MAX_ITERATIONS
            || self.parallelism > Self::MAX_PARALLELISM
        {
            return Err(format!(
                "Argon2id parameters memory_kib = {}, iterations = {}, parallelism = {} exceed the limits ({}, {}, {})",
                self.memory_kib,
                self.iterations,
                self.parallelism,
                Self::MAX_MEMORY_KIB,
                Self::MAX_ITERATIONS,
                Self::MAX_PARALLELISM
            ));
        }
        let params =
            argon2::Params::new(self.memory_kib, self.iterations, self.parallelism, Some(32))
                .map_err(|e| format!("Argon2id parameters: {e}"))?;
        Ok(argon2::Argon2::new(
            argon2::Algorithm::Argon2id,
            argon2::Version::V0x13,
            params,
        ))
    }

    fn derive(&self, passphrase: &[u8], salt: &[u8; 16]) -> Result<[u8; 32], String> {
        let mut key = [0u8; 32];
        self.argon2()?
            .hash_password_into(passphrase, salt, &mut key)
            .map_err(|e| format!("Argon2id: {e}"))?;
        Ok(key)
    }
}

/// A principal's secret keys. Only the principal's own commands hold one.
#[derive(Clone)]
pub struct PrincipalKeys {
    id: PrincipalId,
    signing: SigningKey,
    /// The X25519 secret, clamped.
    sealing: [u8; 32],
}

impl fmt::Debug for PrincipalKeys {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // Never the secrets, not even in a debug print.
        f.debug_struct("PrincipalKeys")
            .field("id", &self.id)
            .field("signing_key", &encode_key(&self.signing_public()))
            .field("sealing_key", &encode_key(&self.sealing_public()))
            .finish()
    }
}

/// Clamps an X25519 secret as RFC 7748 does (HPKE clamps on reading it too).
fn clamp(mut secret: [u8; 32]) -> [u8; 32] {
    if let Some(first) = secret.first_mut() {
        *first &= 248;
    }
    if let Some(last) = secret.last_mut() {
        *last &= 127;
        *last |= 64;
    }
    secret
}

impl PrincipalKeys {
    /// New keys for `id`, from `rng`.
    pub fn generate(id: PrincipalId, rng: &mut impl CryptoRng) -> PrincipalKeys {
        let mut signing_seed = [0u8; 32];
        let mut sealing = [0u8; 32];
        rng.fill_bytes(&mut signing_seed);
        rng.fill_bytes(&mut sealing);
        PrincipalKeys::from_secrets(id, signing_seed, sealing)
    }

    /// Keys from their secret bytes: an Ed25519 seed and an X25519 secret.
    pub fn from_secrets(
        id: PrincipalId,
        signing_seed: [u8; 32],
        sealing_secret: [u8; 32],
    ) -> PrincipalKeys {
        PrincipalKeys {
            id,
            signing: SigningKey::from_bytes(&signing_seed),
            sealing: clamp(sealing_secret),
        }
    }

    pub fn id(&self) -> &PrincipalId {
        &self.id
    }

    pub fn signing_key(&self) -> &SigningKey {
        &self.signing
    }

    pub fn signing_public(&self) -> [u8; 32] {
        self.signing.verifying_key().to_bytes()
    }

    pub(crate) fn sealing_secret(&self) -> Result<<SealingKem as hpke::Kem>::PrivateKey, String> {
        <SealingKem as hpke::Kem>::PrivateKey::from_bytes(&self.sealing)
            .map_err(|e| format!("the sealing secret: {e}"))
    }

    pub fn sealing_public(&self) -> [u8; 32] {
        match self.sealing_secret() {
            Ok(secret) => {
                let public = SealingKem::sk_to_pk(&secret).to_bytes();
                let mut out = [0u8; 32];
                out.copy_from_slice(public.as_slice());
                out
            }
            // 32 bytes always make a key; an all-zero public key can never match the network.
            Err(_) => [0u8; 32],
        }
    }

    pub fn public_keys(&self) -> PublicKeys {
        PublicKeys {
            signing: self.signing.verifying_key(),
            sealing: self.sealing_public(),
        }
    }

    /// Checks that the network file lists these keys for this principal.
    pub fn check_against(&self, network: &Network) -> Result<(), LetterError> {
        let listed = network_keys(network, &self.id)?;
        let mut wrong = Vec::new();
        if listed.signing.to_bytes() != self.signing_public() {
            wrong.push(format!(
                "it lists signing_key {}, the key file holds {}",
                encode_key(&listed.signing.to_bytes()),
                encode_key(&self.signing_public())
            ));
        }
        if listed.sealing != self.sealing_public() {
            wrong.push(format!(
                "it lists sealing_key {}, the key file holds {}",
                encode_key(&listed.sealing),
                encode_key(&self.sealing_public())
            ));
        }
        if wrong.is_empty() {
            Ok(())
        } else {
            Err(LetterError::KeyNotInNetwork {
                principal: self.id.to_string(),
                detail: wrong.join("; "),
            })
        }
    }

    /// The `[[party.principal]]` block to add under the principal's party in the network
    /// file.
    pub fn network_block(&self) -> String {
        format!(
            "[[party.principal]]\nname = \"{}\"\nsigning_key = \"{}\"\nsealing_key = \"{}\"\n",
            self.id.name(),
            encode_key(&self.signing_public()),
            encode_key(&self.sealing_public())
        )
    }

    fn secret_bytes(&self) -> [u8; 64] {
        let mut out = [0u8; 64];
        let (signing, sealing) = out.split_at_mut(32);
        signing.copy_from_slice(&self.signing.to_bytes());
        sealing.copy_from_slice(&self.sealing);
        out
    }

    /// The key file's text. With `protection` (passphrase, Argon2id parameters, and a fresh
    /// salt and nonce), the secrets are encrypted.
    pub fn to_key_file(&self, protection: Option<Protection<'_>>) -> Result<String, LetterError> {
        let public = PublicPart {
            principal: self.id.to_string(),
            signing_key: encode_key(&self.signing_public()),
            sealing_key: encode_key(&self.sealing_public()),
        };
        let mut file = KeyFileToml {
            format: KEY_FILE_FORMAT.to_owned(),
            principal: public.principal.clone(),
            signing_key: public.signing_key.clone(),
            sealing_key: public.sealing_key.clone(),
            secrets: None,
            protected: None,
        };
        let secrets = self.secret_bytes();
        match protection {
            None => file.secrets = Some(BASE64.encode(secrets)),
            Some(p) => {
                check_passphrase(p.passphrase)?;
                let key = p
                    .params
                    .derive(p.passphrase, &p.salt)
                    .map_err(LetterError::Invalid)?;
                let cipher = chacha20poly1305::ChaCha20Poly1305::new(&key.into());
                let ciphertext = cipher
                    .encrypt(
                        &p.nonce.into(),
                        Payload {
                            msg: &secrets,
                            aad: public.aad().as_bytes(),
                        },
                    )
                    .map_err(|_| {
                        LetterError::Invalid("encrypting the key file's secrets failed".into())
                    })?;
                file.protected = Some(Protected {
                    kdf: "argon2id".to_owned(),
                    version: 19,
                    memory_kib: p.params.memory_kib,
                    iterations: p.params.iterations,
                    parallelism: p.params.parallelism,
                    salt: BASE64.encode(p.salt),
                    nonce: BASE64.encode(p.nonce),
                    ciphertext: BASE64.encode(ciphertext),
                });
            }
        }
        let mut body = toml::to_string(&file)
            .map_err(|e| LetterError::Invalid(format!("writing the key file: {e}")))?;
        if !body.ends_with('\n') {
            body.push('\n');
        }
        Ok(format!(
            "# detente principal key of {}: the secrets that sign this principal's letters and open\n\
             # the letters sealed to them. Keep it; never give it to a node or its operators.\n{body}",
            self.id
        ))
    }
}

/// How to protect a key file with a passphrase.
#[derive(Debug, Clone, Copy)]
pub struct Protection<'a> {
    pub passphrase: &'a [u8],
    pub params: KdfParams,
    pub salt: [u8; 16],
    pub nonce: [u8; 12],
}

impl<'a> Protection<'a> {
    /// Default parameters with a salt and nonce from `rng`.
    pub fn new(passphrase: &'a [u8], rng: &mut impl CryptoRng) -> Protection<'a> {
        let mut salt = [0u8; 16];
        let mut nonce = [0u8; 12];
        rng.fill_bytes(&mut salt);
        rng.fill_bytes(&mut nonce);
        Protection {
            passphrase,
            params: KdfParams::DEFAULT,
            salt,
            nonce,
        }
    }
}

fn check_passphrase(passphrase: &[u8]) -> Result<(), LetterError> {
    if passphrase.is_empty() {
        return Err(LetterError::Invalid("the passphrase is empty".into()));
    }
    if passphrase.len() > MAX_PASSPHRASE_BYTES {
        return Err(LetterError::Invalid(format!(
            "the passphrase is {} bytes; the limit is {MAX_PASSPHRASE_BYTES}",
            passphrase.len()
        )));
    }
    Ok(())
}

struct PublicPart {
    principal: String,
    signing_key: String,
    sealing_key: String,
}

impl PublicPart {
    /// What the encryption of the secrets authenticates.
    fn aad(&self) -> String {
        format!(
            "{KEY_FILE_FORMAT}\n{}\n{}\n{}\n",
            self.principal, self.signing_key, self.sealing_key
        )
    }
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct KeyFileToml {
    format: String,
    principal: String,
    signing_key: String,
    sealing_key: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    secrets: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    protected: Option<Protected>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct Protected {
    kdf: String,
    version: u32,
    memory_kib: u32,
    iterations: u32,
    parallelism: u32,
    salt: String,
    nonce: String,
    ciphertext: String,
}

/// A key file, read: its public part, and its secrets, which may need a passphrase.
#[derive(Debug, Clone)]
pub struct KeyFile {
    source: String,
    id: PrincipalId,
    signing_public: [u8; 32],
    sealing_public: [u8; 32],
    file: KeyFileToml,
}

impl KeyFile {
    /// Reads a key file's text; `source` names it in errors. Checks the public part; the
    /// secrets are checked by [`KeyFile::unlock`].
    pub fn parse(text: &str, source: &str) -> Result<KeyFile, LetterError> {
        let error = |message: String| LetterError::KeyFile {
            source: source.to_owned(),
            message,
        };
        if text.len() > MAX_KEY_FILE_BYTES {
            return Err(error(format!(
                "{} bytes; a key file is at most {MAX_KEY_FILE_BYTES}",
                text.len()
            )));
        }
        let file: KeyFileToml = toml::from_str(text).map_err(|e| error(e.message().to_owned()))?;
        if file.format != KEY_FILE_FORMAT {
            return Err(error(format!(
                "format `{}` is not `{KEY_FILE_FORMAT}`",
                file.format
            )));
        }
        let id = PrincipalId::parse(&file.principal).map_err(|e| error(e.to_string()))?;
        let signing_public = decode_key(&file.signing_key)
            .ok_or_else(|| error("signing_key is not the base64 of 32 bytes".into()))?;
        let sealing_public = decode_key(&file.sealing_key)
            .ok_or_else(|| error("sealing_key is not the base64 of 32 bytes".into()))?;
        match (&file.secrets, &file.protected) {
            (Some(_), None) | (None, Some(_)) => {}
            _ => {
                return Err(error(
                    "a key file holds either `secrets` or a `[protected]` table, exactly one"
                        .into(),
                ));
            }
        }
        Ok(KeyFile {
            source: source.to_owned(),
            id,
            signing_public,
            sealing_public,
            file,
        })
    }

    pub fn id(&self) -> &PrincipalId {
        &self.id
    }

    /// Whether opening it needs a passphrase.
    pub fn is_protected(&self) -> bool {
        self.file.protected.is_some()
    }

    pub fn signing_public(&self) -> [u8; 32] {
        self.signing_public
    }

    pub fn sealing_public(&self) -> [u8; 32] {
        self.sealing_public
    }

    /// The secret keys. A protected file needs its passphrase; a wrong one is refused.
    pub fn unlock(&self, passphrase: Option<&[u8]>) -> Result<PrincipalKeys, LetterError> {
        let error = |message: String| LetterError::KeyFile {
            source: self.source.clone(),
            message,
        };
        let secrets: Vec<u8> = match (&self.file.secrets, &self.file.protected) {
            (Some(plain), _) => BASE64
                .decode(plain.trim())
                .map_err(|_| error("secrets is not base64".into()))?,
            (None, Some(p)) => {
                let passphrase = passphrase.ok_or_else(|| {
                    error(
                        "it is protected by a passphrase; give it with --passphrase-env VAR".into(),
                    )
                })?;
                check_passphrase(passphrase)?;
                if p.kdf != "argon2id" || p.version != 19 {
                    return Err(error(format!(
                        "kdf `{}` version {} is not argon2id version 19",
                        p.kdf, p.version
                    )));
                }
                let salt: [u8; 16] = BASE64
                    .decode(p.salt.trim())
                    .ok()
                    .and_then(|b| b.try_into().ok())
                    .ok_or_else(|| error("salt is not the base64 of 16 bytes".into()))?;
                let nonce: [u8; 12] = BASE64
                    .decode(p.nonce.trim())
                    .ok()
                    .and_then(|b| b.try_into().ok())
                    .ok_or_else(|| error("nonce is not the base64 of 12 bytes".into()))?;
                let ciphertext = BASE64
                    .decode(p.ciphertext.trim())
                    .map_err(|_| error("ciphertext is not base64".into()))?;
                let params = KdfParams {
                    memory_kib: p.memory_kib,
                    iterations: p.iterations,
                    parallelism: p.parallelism,
                };
                let key = params.derive(passphrase, &salt).map_err(error)?;
                let public = PublicPart {
                    principal: self.file.principal.clone(),
                    signing_key: self.file.signing_key.clone(),
                    sealing_key: self.file.sealing_key.clone(),
                };
                chacha20poly1305::ChaCha20Poly1305::new(&key.into())
                    .decrypt(
                        &nonce.into(),
                        Payload {
                            msg: &ciphertext,
                            aad: public.aad().as_bytes(),
                        },
                    )
                    .map_err(|_| {
                        error(
                            "the passphrase is wrong, or the file was changed (its secrets do not open)"
                                .into(),
                        )
                    })?
            }
            (None, None) => return Err(error("it holds no secrets".into())),
        };
        let secrets: [u8; 64] = secrets
            .try_into()
            .map_err(|_| error("the secrets are not 64 bytes".into()))?;
        let (signing, sealing) = secrets.split_at(32);
        let mut signing_seed = [0u8; 32];
        let mut sealing_secret = [0u8; 32];
        signing_seed.copy_from_slice(signing);
        sealing_secret.copy_from_slice(sealing);
        let keys = PrincipalKeys::from_secrets(self.id.clone(), signing_seed, sealing_secret);
        if keys.signing_public() != self.signing_public
            || keys.sealing_public() != self.sealing_public
        {
            return Err(error(
                "its secrets do not give the public keys written in it".into(),
            ));
        }
        Ok(keys)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn principal_ids_parse() {
        let id = PrincipalId::parse("US/Carter").unwrap();
        assert_eq!((id.party(), id.name()), ("US", "Carter"));
        assert_eq!(id.to_string(), "US/Carter");
        for bad in ["US", "US/", "/Carter", "US/Car ter", "US/Carter/x", ""] {
            assert!(PrincipalId::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn clamping_matches_hpke() {
        let keys = PrincipalKeys::from_secrets(
            PrincipalId::parse("US/Carter").unwrap(),
            [1; 32],
            [0xff; 32],
        );
        let public = keys.sealing_public();
        assert_ne!(public, [0u8; 32]);
        assert_eq!(keys.sealing, clamp([0xff; 32]));
    }
}
