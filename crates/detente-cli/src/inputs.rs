//! Reading the files a command names: the treaty, its zone files and the facts.

use crate::{ErrorFormat, Exit, Setup, parse_date, render};
use detente_assess::engine::{Engine, Options, Provenance};
use detente_assess::facts::{Facts, FactsLoader, Origin, Vocabulary};
use detente_assess::geo::Shape;
use detente_assess::report::InputRef;
use detente_lang::model::{Treaty, ZoneSource};
use sha2::{Digest, Sha256};
use std::collections::{BTreeMap, VecDeque};
use std::io::Read;
use std::mem::ManuallyDrop;
use std::path::{Path, PathBuf};
use std::sync::mpsc::{Receiver, SyncSender, sync_channel};

/// Largest treaty or zone file read, in bytes.
const MAX_TEXT_BYTES: u64 = 16 * 1024 * 1024;

/// Everything an assessment needs, read and checked.
#[derive(Debug)]
pub struct Loaded {
    pub treaty: Treaty,
    /// Never dropped: the facts live until the process exits, and freeing millions of
    /// records one by one just before exiting would only cost time (4% of a large run).
    pub facts: ManuallyDrop<Facts>,
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
    read_text_at_most(path, MAX_TEXT_BYTES)
}

/// A UTF-8 text file of at most `max` bytes, and its name for messages.
pub fn read_text_at_most(path: &Path, max: u64) -> Result<(String, String), Exit> {
    let name = path.display().to_string();
    let meta = std::fs::metadata(path)
        .map_err(|e| Exit::invalid(format!("error: cannot read `{name}`: {e}")))?;
    if meta.len() > max {
        return Err(Exit::invalid(format!(
            "error: `{name}` is {} bytes; the limit is {max}",
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
    let treaty_path = setup
        .treaty
        .as_deref()
        .ok_or_else(|| Exit::invalid("error: `--treaty FILE` or `--node DIR` is required"))?;
    let (source, name) = read_text(treaty_path)?;
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
    let base = treaty_path
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
    let vocabulary = Vocabulary::of_treaty(&treaty);
    let (loader, inputs) = read_facts(&setup.facts, &vocabulary)?;
    let (facts, mut errors) = match loader {
        // Items and the other records are put in order side by side.
        Some(l) => l.finish_with(|items, others| {
            std::thread::scope(|scope| {
                scope.spawn(&mut *others);
                items();
            });
        }),
        None => (Facts::default(), Vec::new()),
    };
    if errors.is_empty() {
        errors = facts.validate(&vocabulary);
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
        facts: ManuallyDrop::new(facts),
        zones,
        provenance: Provenance {
            source_sha256: sha256_hex(source.as_bytes()),
            inputs,
        },
    })
}

/// Bytes of whole lines handed to a parsing thread at a time.
const BATCH_BYTES: u64 = 1 << 20;
/// Threads that parse facts: one per core, at least 2 and at most 8.
fn parser_count() -> usize {
    std::thread::available_parallelism().map_or(2, |n| n.get().clamp(2, 8))
}
/// Batches read ahead of the parsed ones, per parser.
const IN_FLIGHT: usize = 4;

/// Lines of one source for a parsing thread: whole lines, checked UTF-8.
struct Batch {
    source: u32,
    first_line: u64,
    text: String,
}

/// What a parsing thread made of a batch.
struct Parsed {
    part: FactsLoader,
    /// Non-blank lines, for provenance.
    records: u64,
    /// The batch's buffer, to read into again.
    buffer: Vec<u8>,
}

/// The parsing threads and the batches they have not returned yet.
struct Parsers<'scope> {
    batches: Vec<SyncSender<Batch>>,
    parsed: Vec<Receiver<Parsed>>,
    /// The parser of each batch sent and not yet received, in the order sent.
    pending: VecDeque<usize>,
    sent: usize,
    /// Buffers of batches parsed, to read into again.
    buffers: Vec<Vec<u8>>,
    _threads: Vec<std::thread::ScopedJoinHandle<'scope, ()>>,
}

impl<'scope> Parsers<'scope> {
    fn spawn<'env>(
        scope: &'scope std::thread::Scope<'scope, 'env>,
        loader: &FactsLoader,
    ) -> Parsers<'scope> {
        let mut parsers = Parsers {
            batches: Vec::new(),
            parsed: Vec::new(),
            pending: VecDeque::new(),
            sent: 0,
            buffers: Vec::new(),
            _threads: Vec::new(),
        };
        for _ in 0..parser_count() {
            let (batch_in, batch_out) = sync_channel::<Batch>(IN_FLIGHT);
            let (parsed_in, parsed_out) = sync_channel::<Parsed>(IN_FLIGHT);
            let part = loader.part();
            parsers
                ._threads
                .push(scope.spawn(move || parse_batches(part, &batch_out, &parsed_in)));
            parsers.batches.push(batch_in);
            parsers.parsed.push(parsed_out);
        }
        parsers
    }

    /// Hands a batch to the next parser, round robin; once enough are in flight, absorbs
    /// the oldest.
    fn send(&mut self, batch: Batch, loader: &mut FactsLoader, records: &mut u64) {
        let parser = self.sent % self.batches.len().max(1);
        self.sent = self.sent.wrapping_add(1);
        if let Some(sender) = self.batches.get(parser)
            && sender.send(batch).is_ok()
        {
            self.pending.push_back(parser);
        }
        while self.pending.len() > IN_FLIGHT * self.batches.len() {
            self.receive(loader, records);
        }
    }

    /// Absorbs the oldest parsed batch; parts are absorbed in line order.
    fn receive(&mut self, loader: &mut FactsLoader, records: &mut u64) {
        let Some(parser) = self.pending.pop_front() else {
            return;
        };
        if let Some(Ok(parsed)) = self.parsed.get(parser).map(Receiver::recv) {
            loader.absorb(parsed.part);
            *records = records.saturating_add(parsed.records);
            self.buffers.push(parsed.buffer);
        }
    }

    fn drain(&mut self, loader: &mut FactsLoader, records: &mut u64) {
        while !self.pending.is_empty() {
            self.receive(loader, records);
        }
    }
}

/// A parsing thread: reads each batch's lines into its part of the facts and returns them.
fn parse_batches(mut part: FactsLoader, batches: &Receiver<Batch>, parsed: &SyncSender<Parsed>) {
    while let Ok(batch) = batches.recv() {
        let mut records = 0u64;
        let mut line = batch.first_line;
        for raw in batch.text.split_inclusive('\n') {
            let text = raw.trim_end_matches(['\n', '\r']);
            if !text.trim().is_empty() {
                records += 1;
            }
            part.push_line_at(
                Origin {
                    source: batch.source,
                    line,
                },
                text,
            );
            line = line.saturating_add(1);
        }
        let mut buffer = batch.text.into_bytes();
        buffer.clear();
        let result = Parsed {
            part: part.take(),
            records,
            buffer,
        };
        if parsed.send(result).is_err() {
            return;
        }
    }
}

/// Reads the facts files, in order, into one loader, with their provenance.
///
/// This thread reads each file, hashes it and cuts it into batches of whole lines, checked
/// as UTF-8; [`parser_count`] threads parse the batches, round robin, and this thread absorbs
/// what they parsed in the order of the lines. The facts and errors are those of one loader
/// reading every line in order (see [`FactsLoader::absorb`]).
fn read_facts(
    paths: &[PathBuf],
    vocabulary: &Vocabulary,
) -> Result<(Option<FactsLoader>, Vec<InputRef>), Exit> {
    let mut inputs = Vec::new();
    let mut loader: Option<FactsLoader> = None;
    std::thread::scope(|scope| {
        let mut parsers: Option<Parsers<'_>> = None;
        for (source, path) in paths.iter().enumerate() {
            let name = path.display().to_string();
            let cannot_read =
                |e: std::io::Error| Exit::invalid(format!("error: cannot read `{name}`: {e}"));
            let mut file = std::fs::File::open(path).map_err(cannot_read)?;
            let loader = match &mut loader {
                Some(l) => {
                    l.start_source(&name);
                    l
                }
                None => {
                    let loader = loader.insert(FactsLoader::new(&name));
                    loader.intern_names(vocabulary_names(vocabulary));
                    loader
                }
            };
            let parsers = match &mut parsers {
                Some(p) => p,
                None => parsers.insert(Parsers::spawn(scope, loader)),
            };
            let source = u32::try_from(source).unwrap_or(u32::MAX);
            let mut hasher = Sha256::new();
            let mut records = 0u64;
            let mut next_line = 1u64;
            let mut carry: Vec<u8> = Vec::new();
            loop {
                // A buffer parsed earlier, so that its memory is not fresh again.
                let mut bytes = parsers.buffers.pop().unwrap_or_default();
                bytes.append(&mut carry);
                let mut end_of_file = false;
                // Read a batch's worth, and on to the end of its last line (the carried
                // part of a line has no line end).
                let whole = loop {
                    let before = bytes.len();
                    bytes.reserve(usize::try_from(BATCH_BYTES).unwrap_or(0));
                    let read = (&mut file)
                        .take(BATCH_BYTES)
                        .read_to_end(&mut bytes)
                        .map_err(cannot_read)?;
                    let new = bytes.get(before..).unwrap_or_default();
                    hasher.update(new);
                    if read == 0 {
                        end_of_file = true;
                        break bytes.len();
                    }
                    if let Some(last) = new.iter().rposition(|&b| b == b'\n') {
                        break before + last + 1;
                    }
                };
                carry = bytes.split_off(whole.min(bytes.len()));
                if bytes.is_empty() {
                    break;
                }
                let lines = count_newlines(&bytes);
                let text = String::from_utf8(bytes).map_err(|_| {
                    cannot_read(std::io::Error::new(
                        std::io::ErrorKind::InvalidData,
                        "stream did not contain valid UTF-8",
                    ))
                })?;
                let lines =
                    u64::try_from(lines).unwrap_or(u64::MAX) + u64::from(!text.ends_with('\n'));
                let batch = Batch {
                    source,
                    first_line: next_line,
                    text,
                };
                next_line = next_line.saturating_add(lines);
                parsers.send(batch, loader, &mut records);
                if end_of_file {
                    break;
                }
            }
            parsers.drain(loader, &mut records);
            let digest = hasher.finalize();
            inputs.push(InputRef {
                name,
                sha256: digest.iter().map(|b| format!("{b:02x}")).collect(),
                records,
            });
        }
        Ok::<(), Exit>(())
    })?;
    Ok((loader, inputs))
}

/// Every name a treaty defines, for the loader to share between its parts.
fn vocabulary_names(vocabulary: &Vocabulary) -> impl Iterator<Item = &str> {
    let kinds = vocabulary.categories.iter().chain(&vocabulary.event_types);
    vocabulary
        .parties
        .iter()
        .chain(&vocabulary.declarable_quantities)
        .chain(&vocabulary.provisions)
        .chain(&vocabulary.zones)
        .chain(kinds.clone().map(|(kind, _)| kind))
        .chain(kinds.flat_map(|(_, attributes)| attributes.keys()))
        .map(String::as_str)
}

/// How many `\n` there are, eight bytes at a time.
fn count_newlines(bytes: &[u8]) -> usize {
    const LOW7: u64 = 0x7f7f_7f7f_7f7f_7f7f;
    const NEWLINES: u64 = 0x0a0a_0a0a_0a0a_0a0a;
    const LOW8: u64 = 0x00ff_00ff_00ff_00ff;
    // Per-byte counts, summed when they could reach 255.
    let sum = |lanes: u64| {
        let pairs = (lanes & LOW8).wrapping_add((lanes >> 8) & LOW8);
        usize::try_from(pairs.wrapping_mul(0x0001_0001_0001_0001) >> 48).unwrap_or(0)
    };
    let mut total = 0usize;
    let mut words = bytes.chunks_exact(8);
    let mut lanes = 0u64;
    let mut counted = 0u32;
    for word in &mut words {
        let x = u64::from_le_bytes(<[u8; 8]>::try_from(word).unwrap_or_default()) ^ NEWLINES;
        // The high bit of each byte of `x` that is zero: exact, no carries between bytes.
        let zero = !(((x & LOW7).wrapping_add(LOW7)) | x) & !LOW7;
        lanes = lanes.wrapping_add(zero >> 7);
        counted += 1;
        if counted == 255 {
            total = total.wrapping_add(sum(lanes));
            lanes = 0;
            counted = 0;
        }
    }
    total = total.wrapping_add(sum(lanes));
    total.wrapping_add(words.remainder().iter().filter(|&&b| b == b'\n').count())
}

#[cfg(test)]
mod tests {
    use super::*;
    use detente_assess::facts::FactError;

    /// What the command read before it parsed on several threads: each file line by line,
    /// in order, into one loader.
    fn read_in_order(paths: &[PathBuf]) -> ((Facts, Vec<FactError>), Vec<InputRef>) {
        let mut loader: Option<FactsLoader> = None;
        let mut inputs = Vec::new();
        for path in paths {
            let name = path.display().to_string();
            let bytes = std::fs::read(path).unwrap();
            match &mut loader {
                None => loader = Some(FactsLoader::new(&name)),
                Some(l) => l.start_source(&name),
            }
            let mut records = 0;
            for line in String::from_utf8(bytes.clone())
                .unwrap()
                .split_inclusive('\n')
            {
                let text = line.trim_end_matches(['\n', '\r']);
                if !text.trim().is_empty() {
                    records += 1;
                }
                loader.as_mut().unwrap().push_line(text);
            }
            inputs.push(InputRef {
                name,
                sha256: sha256_hex(&bytes),
                records,
            });
        }
        (loader.unwrap().finish(), inputs)
    }

    fn read_in_parallel(paths: &[PathBuf]) -> ((Facts, Vec<FactError>), Vec<InputRef>) {
        let (loader, inputs) = read_facts(paths, &Vocabulary::default()).unwrap();
        (loader.unwrap().finish(), inputs)
    }

    #[test]
    fn batches_read_like_lines_in_order() {
        let dir = tempfile::tempdir().unwrap();
        // Several batches' worth: lines across batch ends, CRLF, blank and whitespace-only
        // lines, a BOM, errors and contradictions far into the file, a line over the limit,
        // no line end at the very end.
        let mut text = String::from("\u{feff}");
        for i in 0..40_000 {
            let line = match i % 97 {
                0 => "\r".to_owned(),
                1 => "   \t".to_owned(),
                2 => format!("{{\"kind\":\"item\",\"party\":\"P\",\"id\":\"bad{i}\"}}"),
                3 => "\u{3000}".to_owned(),
                4 if i == 4 || i == 30_074 => "x".repeat(detente_assess::facts::MAX_LINE_BYTES + 1),
                _ => format!(
                    "{{\"kind\":\"item\",\"party\":\"P{}\",\"id\":\"i{}\",\"category\":\"c\",\"attributes\":{{\"a\":{}}},\"from\":\"20{:02}-01-01\"}}",
                    i % 3,
                    i % 5000,
                    i % 2,
                    i % 50,
                ),
            };
            text.push_str(&line);
            text.push_str(if i % 11 == 0 { "\r\n" } else { "\n" });
        }
        text.push_str("{\"kind\":\"item\"}");
        let big = dir.path().join("big.jsonl");
        std::fs::write(&big, &text).unwrap();
        let small = dir.path().join("small.jsonl");
        std::fs::write(&small, "\n{\"kind\":\"event\",\"party\":\"P\",\"id\":\"e\",\"type\":\"t\",\"at\":\"2001-01-01\"}\n").unwrap();
        let empty = dir.path().join("empty.jsonl");
        std::fs::write(&empty, "").unwrap();
        let clean = dir.path().join("clean.jsonl");
        let lines: Vec<String> = (0..40_000)
            .map(|i| format!("{{\"kind\":\"item\",\"party\":\"P{}\",\"id\":\"i{i}\",\"category\":\"c\",\"from\":\"2001-01-01\"}}\n", i % 3))
            .collect();
        std::fs::write(&clean, lines.concat()).unwrap();
        for (paths, with_errors) in [
            (vec![big.clone()], true),
            (
                vec![small.clone(), big.clone(), empty.clone(), small.clone()],
                true,
            ),
            (vec![empty.clone()], false),
            (vec![clean.clone(), small.clone(), clean.clone()], false),
        ] {
            let parallel = read_in_parallel(&paths);
            let in_order = read_in_order(&paths);
            assert_eq!(!in_order.0.1.is_empty(), with_errors);
            assert_eq!(parallel.1, in_order.1);
            assert_eq!(parallel.0.1, in_order.0.1);
            assert!(parallel.0.0 == in_order.0.0, "the facts differ");
        }
    }

    #[test]
    fn a_file_that_is_not_utf8_cannot_be_read() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("f.jsonl");
        let mut bytes = "{}\n".repeat(600_000).into_bytes();
        bytes.extend_from_slice(b"\xff\n{}\n");
        std::fs::write(&path, bytes).unwrap();
        let message = read_facts(std::slice::from_ref(&path), &Vocabulary::default())
            .err()
            .unwrap()
            .message;
        let name = path.display();
        assert_eq!(
            message,
            format!("error: cannot read `{name}`: stream did not contain valid UTF-8")
        );
    }

    #[test]
    fn newlines_are_counted_exactly() {
        // Runs of newlines long enough to fill the per-byte counters, other bytes (some
        // with the high bit set, some next to `\n`), at every alignment.
        let mut bytes = Vec::new();
        let mut state = 0x2545_f491_4f6c_dd1d_u64;
        for _ in 0..20_000 {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            bytes.push(match state % 5 {
                0 | 1 => b'\n',
                2 => 0x0b,
                3 => 0x8a,
                _ => (state >> 8) as u8,
            });
        }
        bytes.extend(std::iter::repeat_n(b'\n', 8 * 300 + 3));
        for start in 0..9 {
            let slice = &bytes[start..];
            let expected = slice.iter().filter(|&&b| b == b'\n').count();
            assert_eq!(count_newlines(slice), expected, "from byte {start}");
        }
    }
}
