//! A node's data folder: its configuration, its key, the treaty it runs and its store.
//!
//! ```text
//! DIR/node.toml        party, listen address, treaty file (written by `detente init`)
//! DIR/network.toml     the network file (a copy; every node holds the same)
//! DIR/treaty/…         the treaty source and its zone files (copies, so the node is whole)
//! DIR/node.key         the node's Ed25519 secret key (mode 0600)
//! DIR/ledger.sqlite    the store (see detente-store)
//! ```

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as BASE64;
use detente_assess::geo::Shape;
use detente_lang::model::{Treaty, ZoneSource};
use ed25519_dalek::SigningKey;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use std::collections::BTreeMap;
use std::fmt;
use std::io::Write as _;
use std::path::{Path, PathBuf};

use crate::network::{Network, encode_key};

/// Largest treaty or zone file read, in bytes.
const MAX_TEXT_BYTES: u64 = 16 * 1024 * 1024;

pub const NODE_FILE: &str = "node.toml";
pub const NETWORK_FILE: &str = "network.toml";
pub const KEY_FILE: &str = "node.key";
pub const STORE_FILE: &str = "ledger.sqlite";
pub const TREATY_DIR: &str = "treaty";

/// Something wrong with a data folder or the files `init` was given.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HomeError {
    pub message: String,
    pub help: Option<String>,
}

impl HomeError {
    fn new(message: impl Into<String>) -> HomeError {
        HomeError {
            message: message.into(),
            help: None,
        }
    }

    fn help(mut self, help: impl Into<String>) -> HomeError {
        self.help = Some(help.into());
        self
    }
}

impl fmt::Display for HomeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.message)?;
        if let Some(help) = &self.help {
            write!(f, "\n  help: {help}")?;
        }
        Ok(())
    }
}

impl std::error::Error for HomeError {}

/// `node.toml`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NodeFile {
    pub party: String,
    /// Where `detente serve` listens (`host:port`).
    pub listen: String,
    /// The treaty source, relative to the data folder.
    pub treaty: String,
}

/// A checked treaty with its source and the zones read from its files.
#[derive(Debug, Clone)]
pub struct TreatyBundle {
    pub source: String,
    pub source_sha256: String,
    pub treaty: Treaty,
    pub zones: BTreeMap<String, Shape>,
    /// The zone files, by the name the treaty gives them, with their text.
    pub zone_files: Vec<(String, String)>,
}

/// Lowercase hexadecimal.
pub fn hex(bytes: &[u8]) -> String {
    let mut out = String::with_capacity(bytes.len() * 2);
    for byte in bytes {
        out.push_str(&format!("{byte:02x}"));
    }
    out
}

pub fn sha256_hex(bytes: &[u8]) -> String {
    hex(&Sha256::digest(bytes))
}

pub fn read_text(path: &Path) -> Result<String, HomeError> {
    let name = path.display();
    let meta = std::fs::metadata(path)
        .map_err(|e| HomeError::new(format!("cannot read `{name}`: {e}")))?;
    if meta.len() > MAX_TEXT_BYTES {
        return Err(HomeError::new(format!(
            "`{name}` is {} bytes; the limit is {MAX_TEXT_BYTES}",
            meta.len()
        )));
    }
    let bytes =
        std::fs::read(path).map_err(|e| HomeError::new(format!("cannot read `{name}`: {e}")))?;
    String::from_utf8(bytes).map_err(|e| {
        HomeError::new(format!(
            "`{name}` is not UTF-8 text (byte {})",
            e.utf8_error().valid_up_to()
        ))
    })
}

/// Reads and checks a treaty and the zone files it names (relative to it).
pub fn load_treaty(path: &Path) -> Result<TreatyBundle, HomeError> {
    let source = read_text(path)?;
    let name = path.display().to_string();
    let checked = detente_lang::check_source(&source);
    let errors: Vec<String> = checked
        .diagnostics
        .iter()
        .filter(|d| d.is_error())
        .map(|d| detente_lang::diag::render_plain(d, &name, &source))
        .collect();
    let Some(treaty) = checked.treaty.filter(|_| errors.is_empty()) else {
        return Err(HomeError::new(format!(
            "`{name}` is not a valid treaty:\n{}",
            errors.join("\n")
        ))
        .help(format!("run `detente check {name}`")));
    };
    let base = path.parent().map(Path::to_path_buf).unwrap_or_default();
    let mut zones = BTreeMap::new();
    let mut zone_files = Vec::new();
    for zone in &treaty.zones {
        if let ZoneSource::File(file) = &zone.shape {
            let text = read_text(&base.join(file))?;
            let shape = detente_assess::geo::parse_geojson(&text)
                .map_err(|e| HomeError::new(format!("zone `{}` in `{file}`: {e}", zone.name)))?;
            zones.insert(zone.name.clone(), shape);
            zone_files.push((file.clone(), text));
        }
    }
    Ok(TreatyBundle {
        source_sha256: sha256_hex(source.as_bytes()),
        source,
        treaty,
        zones,
        zone_files,
    })
}

/// Writes `contents` to a new file readable only by its owner.
pub fn write_secret(path: &Path, contents: &str) -> Result<(), HomeError> {
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt as _;
        options.mode(0o600);
    }
    let mut file = options
        .open(path)
        .map_err(|e| HomeError::new(format!("cannot create `{}`: {e}", path.display())))?;
    file.write_all(contents.as_bytes())
        .and_then(|()| file.sync_all())
        .map_err(|e| HomeError::new(format!("cannot write `{}`: {e}", path.display())))
}

/// 32 bytes from the operating system's random source.
pub fn random_bytes() -> [u8; 32] {
    rand::random()
}

/// Makes a node key in `dir` (created if needed) and returns its public key. Refuses to
/// replace an existing key.
pub fn generate_key(dir: &Path) -> Result<[u8; 32], HomeError> {
    std::fs::create_dir_all(dir)
        .map_err(|e| HomeError::new(format!("cannot create `{}`: {e}", dir.display())))?;
    let path = dir.join(KEY_FILE);
    if path.exists() {
        return Err(
            HomeError::new(format!("`{}` already exists", path.display()))
                .help("a node keeps its key for ever; use another folder for a new node"),
        );
    }
    let seed = random_bytes();
    let key = SigningKey::from_bytes(&seed);
    let public = key.verifying_key().to_bytes();
    write_secret(
        &path,
        &format!(
            "# detente node key: the secret that signs this node's log. Keep it; never share it.\n\
             public = \"{}\"\nseed = \"{}\"\n",
            encode_key(&public),
            BASE64.encode(seed)
        ),
    )?;
    Ok(public)
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct KeyFile {
    #[allow(dead_code)]
    public: String,
    seed: String,
}

pub fn read_key(dir: &Path) -> Result<SigningKey, HomeError> {
    let path = dir.join(KEY_FILE);
    let text = read_text(&path)?;
    let file: KeyFile = toml::from_str(&text)
        .map_err(|e| HomeError::new(format!("`{}`: {}", path.display(), e.message())))?;
    let seed = BASE64
        .decode(file.seed.trim())
        .ok()
        .and_then(|b| <[u8; 32]>::try_from(b.as_slice()).ok())
        .ok_or_else(|| {
            HomeError::new(format!(
                "`{}`: seed is not the base64 of 32 bytes",
                path.display()
            ))
        })?;
    Ok(SigningKey::from_bytes(&seed))
}

/// A node's data folder, read and checked.
#[derive(Debug, Clone)]
pub struct Home {
    pub dir: PathBuf,
    pub node: NodeFile,
    pub network: Network,
    pub treaty: TreatyBundle,
    pub key: SigningKey,
}

impl Home {
    pub fn store_path(&self) -> PathBuf {
        self.dir.join(STORE_FILE)
    }

    pub fn origin(&self) -> String {
        self.network.origin(&self.node.party)
    }

    /// Creates a node: checks that the treaty, the network file, the party and the node key
    /// agree, then writes the folder. The key must exist (`detente keygen`), because the
    /// network file must already name it.
    pub fn init(
        dir: &Path,
        treaty_path: &Path,
        party: &str,
        network_path: &Path,
    ) -> Result<Home, HomeError> {
        if dir.join(NODE_FILE).exists() {
            return Err(HomeError::new(format!(
                "`{}` is already a node's data folder",
                dir.display()
            )));
        }
        let treaty = load_treaty(treaty_path)?;
        let network_text = read_text(network_path)?;
        let network = Network::parse(&network_text, &network_path.display().to_string())
            .map_err(|e| HomeError::new(e.to_string()))?;
        check_agreement(&network, &treaty, party)?;
        if !dir.join(KEY_FILE).exists() {
            let public = generate_key(dir)?;
            let listed = network.party(party).map(|p| p.node_key.clone());
            if listed.as_deref() != Some(encode_key(&public).as_str()) {
                return Err(HomeError::new(format!(
                    "made a new node key in `{}`, but the network file lists another key for {party}",
                    dir.display()
                ))
                .help(format!(
                    "set node_key = \"{}\" for party {party} in `{}`, give the file to every node, and run init again",
                    encode_key(&public),
                    network_path.display()
                )));
            }
        }
        let key = read_key(dir)?;
        check_key(&network, party, &key, network_path)?;
        let file_name = treaty_path
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_else(|| "treaty.treaty".to_owned());
        let treaty_dir = dir.join(TREATY_DIR);
        std::fs::create_dir_all(&treaty_dir).map_err(|e| {
            HomeError::new(format!("cannot create `{}`: {e}", treaty_dir.display()))
        })?;
        let write = |path: PathBuf, text: &str| {
            if let Some(parent) = path.parent() {
                std::fs::create_dir_all(parent).map_err(|e| {
                    HomeError::new(format!("cannot create `{}`: {e}", parent.display()))
                })?;
            }
            std::fs::write(&path, text)
                .map_err(|e| HomeError::new(format!("cannot write `{}`: {e}", path.display())))
        };
        write(treaty_dir.join(&file_name), &treaty.source)?;
        for (name, text) in &treaty.zone_files {
            write(treaty_dir.join(name), text)?;
        }
        write(dir.join(NETWORK_FILE), &network_text)?;
        let listen = network
            .party(party)
            .map(|p| listen_address(&p.url))
            .unwrap_or_else(|| "127.0.0.1:0".to_owned());
        let node = NodeFile {
            party: party.to_owned(),
            listen,
            treaty: format!("{TREATY_DIR}/{file_name}"),
        };
        // node.toml last: its presence marks a complete folder.
        write(
            dir.join(NODE_FILE),
            &toml::to_string_pretty(&node).unwrap_or_default(),
        )?;
        Home::open(dir)
    }

    /// Reads a data folder made by [`Home::init`].
    pub fn open(dir: &Path) -> Result<Home, HomeError> {
        let node_path = dir.join(NODE_FILE);
        if !node_path.exists() {
            return Err(HomeError::new(format!(
                "`{}` is not a node's data folder (no {NODE_FILE})",
                dir.display()
            ))
            .help("create one with `detente init --treaty FILE --party P --network network.toml --data DIR`"));
        }
        let node: NodeFile = toml::from_str(&read_text(&node_path)?)
            .map_err(|e| HomeError::new(format!("`{}`: {}", node_path.display(), e.message())))?;
        let network_path = dir.join(NETWORK_FILE);
        let network = Network::parse(
            &read_text(&network_path)?,
            &network_path.display().to_string(),
        )
        .map_err(|e| HomeError::new(e.to_string()))?;
        let treaty = load_treaty(&dir.join(&node.treaty))?;
        check_agreement(&network, &treaty, &node.party)?;
        let key = read_key(dir)?;
        check_key(&network, &node.party, &key, &network_path)?;
        Ok(Home {
            dir: dir.to_path_buf(),
            node,
            network,
            treaty,
            key,
        })
    }
}

/// `host:port` of a node URL.
fn listen_address(url: &str) -> String {
    let rest = url.split_once("://").map_or(url, |(_, rest)| rest);
    let authority = rest.split('/').next().unwrap_or(rest);
    if authority.contains(':') {
        authority.to_owned()
    } else if url.starts_with("https://") {
        format!("{authority}:443")
    } else {
        format!("{authority}:80")
    }
}

fn check_agreement(network: &Network, treaty: &TreatyBundle, party: &str) -> Result<(), HomeError> {
    if network.treaty != treaty.treaty.name {
        return Err(HomeError::new(format!(
            "the network file is for treaty `{}`, but the treaty file defines `{}`",
            network.treaty, treaty.treaty.name
        )));
    }
    if let Some(pinned) = &network.treaty_sha256
        && !pinned.eq_ignore_ascii_case(&treaty.source_sha256)
    {
        return Err(HomeError::new(format!(
            "the treaty source has SHA-256 {}, but the network file pins {pinned}",
            treaty.source_sha256
        ))
        .help("every node must run the same treaty source, byte for byte"));
    }
    if network.party(party).is_none() {
        let names: Vec<&str> = network.parties.iter().map(|p| p.name.as_str()).collect();
        return Err(HomeError::new(format!(
            "party `{party}` is not in the network file (it lists {})",
            names.join(", ")
        )));
    }
    if !treaty.treaty.parties.iter().any(|p| p == party) {
        return Err(HomeError::new(format!(
            "party `{party}` is not a party to treaty `{}`",
            treaty.treaty.name
        )));
    }
    Ok(())
}

fn check_key(
    network: &Network,
    party: &str,
    key: &SigningKey,
    network_path: &Path,
) -> Result<(), HomeError> {
    let public = encode_key(&key.verifying_key().to_bytes());
    match network.party(party) {
        Some(p) if p.node_key == public => Ok(()),
        _ => Err(HomeError::new(format!(
            "this node's key is not the one `{}` lists for {party}",
            network_path.display()
        ))
        .help(format!("the node's public key is {public}"))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn listen_addresses_come_from_urls() {
        assert_eq!(listen_address("http://127.0.0.1:7701"), "127.0.0.1:7701");
        assert_eq!(listen_address("http://localhost:9/x"), "localhost:9");
        assert_eq!(listen_address("https://node.example"), "node.example:443");
    }
}
