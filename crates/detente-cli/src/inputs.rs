//! Reading the files a command names: the treaty, its zone files and the facts.

use crate::{ErrorFormat, Exit, Setup, parse_date, render};
use detente_assess::engine::{Engine, Options, Provenance};
use detente_assess::facts::{Facts, FactsLoader, Vocabulary};
use detente_assess::geo::Shape;
use detente_assess::report::InputRef;
use detente_lang::model::{Treaty, ZoneSource};
use sha2::{Digest, Sha256};
use std::collections::BTreeMap;
use std::io::BufRead;
use std::path::{Path, PathBuf};

/// Largest treaty or zone file read, in bytes.
const MAX_TEXT_BYTES: u64 = 16 * 1024 * 1024;

/// Everything an assessment needs, read and checked.
#[derive(Debug)]
pub struct Loaded {
    pub treaty: Treaty,
    pub facts: Facts,
    pub zones: BTreeMap<String, Shape>,
    pub provenance: Provenance,
}

impl Loaded {
    pub fn engine(&self, setup: &Setup) -> Result<Engine<'_, '_>, Exit> {
        let mut options = Options {
            interpretation: setup.interpretation.clone(),
            ..Options::default()
        };
        for assignment in &setup.set {
            let Some((name, value)) = assignment.split_once('=') else {
                return Err(Exit::invalid(format!(
                    "error: `--set {assignment}` is not an assignment\n  help: write it as `--set sdv_ceiling=2000`"
                )));
            };
            options
                .params
                .insert(name.trim().to_owned(), value.trim().to_owned());
        }
        if let Some(date) = &setup.assume_in_force {
            options.assume_in_force = Some(parse_date(date, "--assume-in-force")?);
        }
        Engine::new(
            &self.treaty,
            &self.facts,
            self.zones.clone(),
            &options,
            self.provenance.clone(),
        )
        .map_err(|e| Exit::invalid(format!("error: {e}")))
    }
}

pub fn sha256_hex(bytes: &[u8]) -> String {
    let digest = Sha256::digest(bytes);
    digest.iter().map(|b| format!("{b:02x}")).collect()
}

pub fn read_text(path: &Path) -> Result<(String, String), Exit> {
    let name = path.display().to_string();
    let meta = std::fs::metadata(path)
        .map_err(|e| Exit::invalid(format!("error: cannot read `{name}`: {e}")))?;
    if meta.len() > MAX_TEXT_BYTES {
        return Err(Exit::invalid(format!(
            "error: `{name}` is {} bytes; the limit is {MAX_TEXT_BYTES}",
            meta.len()
        )));
    }
    let bytes = std::fs::read(path)
        .map_err(|e| Exit::invalid(format!("error: cannot read `{name}`: {e}")))?;
    let text = String::from_utf8(bytes).map_err(|e| {
        Exit::invalid(format!(
            "error: `{name}` is not UTF-8 text (byte {})",
            e.utf8_error().valid_up_to()
        ))
    })?;
    Ok((text, name))
}

/// The repository root, for the shipped treaties and scenarios: the current folder if it
/// has them, else the folder this binary was built from.
pub fn repo_root() -> PathBuf {
    let cwd = std::env::current_dir().unwrap_or_default();
    if cwd.join("treaties/carter-1977.treaty").is_file() {
        return cwd;
    }
    PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/../.."))
}

pub fn load(setup: &Setup, color: bool) -> Result<Loaded, Exit> {
    let (source, name) = read_text(&setup.treaty)?;
    let checked = detente_lang::check_source(&source);
    let errors: Vec<_> = checked
        .diagnostics
        .iter()
        .filter(|d| d.is_error())
        .cloned()
        .collect();
    let Some(treaty) = checked.treaty.filter(|_| errors.is_empty()) else {
        let message = match setup.error_format {
            ErrorFormat::Json => render::json(&checked.diagnostics, &name, &source).to_string(),
            ErrorFormat::Human => render::human(&checked.diagnostics, &name, &source, color),
        };
        return Err(Exit::invalid(message));
    };
    let base = setup
        .treaty
        .parent()
        .map(Path::to_path_buf)
        .unwrap_or_default();
    let mut zones = BTreeMap::new();
    for zone in &treaty.zones {
        if let ZoneSource::File(file) = &zone.shape {
            let path = base.join(file);
            let (text, zone_name) = read_text(&path)?;
            let shape = detente_assess::geo::parse_geojson(&text).map_err(|e| {
                Exit::invalid(format!("error: zone `{}` in `{zone_name}`: {e}", zone.name))
            })?;
            zones.insert(zone.name.clone(), shape);
        }
    }
    let mut inputs = Vec::new();
    let mut loader: Option<FactsLoader> = None;
    for path in &setup.facts {
        let name = path.display().to_string();
        let file = std::fs::File::open(path)
            .map_err(|e| Exit::invalid(format!("error: cannot read `{name}`: {e}")))?;
        match &mut loader {
            None => loader = Some(FactsLoader::new(&name)),
            Some(l) => l.start_source(&name),
        }
        let mut hasher = Sha256::new();
        let mut reader = std::io::BufReader::with_capacity(1 << 20, file);
        let mut line = String::new();
        let mut records = 0u64;
        loop {
            line.clear();
            let n = reader
                .read_line(&mut line)
                .map_err(|e| Exit::invalid(format!("error: cannot read `{name}`: {e}")))?;
            if n == 0 {
                break;
            }
            hasher.update(line.as_bytes());
            let text = line.trim_end_matches(['\n', '\r']);
            if !text.trim().is_empty() {
                records += 1;
            }
            if let Some(l) = &mut loader {
                l.push_line(text);
            }
        }
        let digest = hasher.finalize();
        inputs.push(InputRef {
            name,
            sha256: digest.iter().map(|b| format!("{b:02x}")).collect(),
            records,
        });
    }
    let (facts, mut errors) = match loader {
        Some(l) => l.finish(),
        None => (Facts::default(), Vec::new()),
    };
    if errors.is_empty() {
        errors = facts.validate(&vocabulary(&treaty));
    }
    if !errors.is_empty() {
        let mut message = String::new();
        for e in errors.iter().take(50) {
            message.push_str(&format!("error: {e}\n"));
            if let Some(help) = &e.help {
                message.push_str(&format!("  help: {help}\n"));
            }
        }
        if errors.len() > 50 {
            message.push_str(&format!("… and {} more errors\n", errors.len() - 50));
        }
        return Err(Exit::invalid(message.trim_end().to_owned()));
    }
    Ok(Loaded {
        treaty,
        facts,
        zones,
        provenance: Provenance {
            source_sha256: sha256_hex(source.as_bytes()),
            inputs,
        },
    })
}

/// The names facts may use, taken from the checked treaty.
pub fn vocabulary(treaty: &Treaty) -> Vocabulary {
    use detente_assess::facts::AttrType;
    use detente_lang::model::Type;
    let attrs = |kind: &detente_lang::model::Kind| {
        kind.attrs
            .iter()
            .map(|(n, t)| {
                let t = match t {
                    Type::Bool => AttrType::Bool,
                    Type::Int => AttrType::Int,
                    Type::Decimal => AttrType::Decimal,
                    Type::Enum(values) => AttrType::Enum(values.clone()),
                    _ => AttrType::Text,
                };
                (n.clone(), t)
            })
            .collect()
    };
    Vocabulary {
        parties: treaty.parties.clone(),
        categories: treaty
            .categories
            .iter()
            .map(|k| (k.name.clone(), attrs(k)))
            .collect(),
        event_types: treaty
            .event_types
            .iter()
            .map(|k| (k.name.clone(), attrs(k)))
            .collect(),
        declarable_quantities: treaty
            .quantities
            .iter()
            .filter(|q| q.declarable)
            .map(|q| q.name.clone())
            .collect(),
        provisions: treaty.provisions.iter().map(|p| p.id.clone()).collect(),
        zones: treaty.zones.iter().map(|z| z.name.clone()).collect(),
    }
}
