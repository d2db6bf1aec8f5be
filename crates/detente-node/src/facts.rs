//! Between facts and log entries: what a submission must be to be appended, and how the
//! logs are read back as the facts the engine assesses.
//!
//! A fact entry's body is the record in canonical JSON: compact, `kind` first (the facts
//! contract asks for it), then every other member sorted by name, objects within sorted
//! the same way. The same record therefore always has the same bytes, which is how a
//! retried submission is recognised.

use detente_assess::facts::{Facts, FactsLoader, Origin, Vocabulary};
use detente_assess::report::InputRef;
use detente_lang::model::Treaty;
use detente_lang::time::Instant;
use detente_ledger::checkpoint::Checkpoint;
use detente_ledger::entry::{Entry, EntryKind};
use serde_json::Value;
use std::borrow::Cow;
use std::collections::{BTreeMap, BTreeSet};

use crate::store::StoredCosignature;

/// A record in canonical JSON (see the module documentation).
pub fn canonical_json(record: &serde_json::Map<String, Value>) -> Vec<u8> {
    let mut out = String::from("{");
    let mut first = true;
    let mut member = |name: &str, value: &Value, out: &mut String| {
        if !first {
            out.push(',');
        }
        first = false;
        out.push_str(&Value::String(name.to_owned()).to_string());
        out.push(':');
        out.push_str(&value.to_string());
    };
    if let Some(kind) = record.get("kind") {
        member("kind", kind, &mut out);
    }
    for (name, value) in record {
        if name != "kind" {
            member(name, value, &mut out);
        }
    }
    out.push('}');
    out.into_bytes()
}

/// The party a record speaks for: its `observer` for an observation, else its `party`.
fn speaker(record: &serde_json::Map<String, Value>) -> Option<&str> {
    let field = if record.get("kind").and_then(Value::as_str) == Some("observation") {
        "observer"
    } else {
        "party"
    };
    record.get(field).and_then(Value::as_str)
}

/// Checks a submission of JSON Lines against the treaty and the log's current facts and
/// returns each record's canonical body, in order. Every problem is reported, each as
/// `source:line: message`, lines counted from `first_line` (a later part of a large file
/// keeps the file's numbering); one problem refuses the whole submission.
#[allow(clippy::too_many_arguments)]
pub fn prepare_submission(
    text: &str,
    source_name: &str,
    first_line: u64,
    role: Option<crate::users::Role>,
    party: &str,
    origin: &str,
    existing: &[Vec<u8>],
    treaty: &Treaty,
) -> Result<Vec<Vec<u8>>, Vec<String>> {
    prepare_submission_against(
        text,
        source_name,
        first_line,
        role,
        party,
        origin,
        existing,
        None,
        treaty,
    )
}

/// The problems the log's own facts have alone (`existing`, the bodies of its fact
/// entries in log order): what [`prepare_submission`] reads before the submission, kept
/// by a node between submissions while its log does not change.
pub fn existing_problems(origin: &str, existing: &[Vec<u8>], treaty: &Treaty) -> BTreeSet<String> {
    load(origin, existing, None, &Vocabulary::of_treaty(treaty))
        .into_iter()
        .collect()
}

/// [`prepare_submission`], given the problems the log already has
/// ([`existing_problems`] of the same `existing`), when known: one reading of the log's
/// facts instead of two.
#[allow(clippy::too_many_arguments)]
pub fn prepare_submission_against(
    text: &str,
    source_name: &str,
    first_line: u64,
    role: Option<crate::users::Role>,
    party: &str,
    origin: &str,
    existing: &[Vec<u8>],
    before: Option<&BTreeSet<String>>,
    treaty: &Treaty,
) -> Result<Vec<Vec<u8>>, Vec<String>> {
    let mut problems = Vec::new();
    let mut bodies = Vec::new();
    let mut lines = Vec::new();
    for (number, line) in text.split('\n').enumerate() {
        let number = number as u64 + first_line.max(1);
        let line = line.strip_suffix('\r').unwrap_or(line);
        if line.trim().is_empty() {
            continue;
        }
        let record = match serde_json::from_str::<Value>(line) {
            Ok(Value::Object(record)) => record,
            Ok(_) => {
                problems.push(format!("{source_name}:{number}: a record is a JSON object"));
                continue;
            }
            Err(e) => {
                problems.push(format!(
                    "{source_name}:{number}:{}: not JSON: {e}",
                    e.column()
                ));
                continue;
            }
        };
        if let Some(role) = role {
            let kind = record.get("kind").and_then(Value::as_str).unwrap_or("");
            if !role.may_submit(kind) {
                problems.push(format!(
                    "{source_name}:{number}: a `{kind}` needs the {} role; this operator is {} {role}",
                    crate::users::Role::needed_to_submit(kind),
                    if role == crate::users::Role::Viewer { "a" } else { "an" },
                ));
                continue;
            }
        }
        match speaker(&record) {
            Some(who) if who == party => {}
            Some(who) => {
                let field = if record.get("kind").and_then(Value::as_str) == Some("observation") {
                    "observer"
                } else {
                    "party"
                };
                problems.push(format!(
                    "{source_name}:{number}: `{field}` is `{who}`; this node writes only {party}'s own facts"
                ));
                continue;
            }
            None => {
                // The loader below says what is missing.
            }
        }
        bodies.push(canonical_json(&record));
        lines.push(number);
    }
    if !problems.is_empty() {
        return Err(problems);
    }
    // The log's facts alone, then with the submission: a problem the submission brings is
    // one that appears only in the second reading.
    let vocabulary = Vocabulary::of_treaty(treaty);
    let read;
    let before = match before {
        Some(before) => before,
        None => {
            read = existing_problems(origin, existing, treaty);
            &read
        }
    };
    let with = load(
        origin,
        existing,
        Some((source_name, &bodies, &lines)),
        &vocabulary,
    );
    let new: Vec<String> = with.into_iter().filter(|p| !before.contains(p)).collect();
    if new.is_empty() { Ok(bodies) } else { Err(new) }
}

/// A submission to check: its source name, its canonical bodies and their line numbers.
type Submission<'a> = (&'a str, &'a [Vec<u8>], &'a [u64]);

/// Loads the log's bodies (lines numbered from 1) and the submission (lines as given);
/// returns every problem found, as text.
fn load(
    origin: &str,
    existing: &[Vec<u8>],
    submission: Option<Submission<'_>>,
    vocabulary: &Vocabulary,
) -> Vec<String> {
    let mut loader = FactsLoader::new(origin);
    for (i, body) in existing.iter().enumerate() {
        loader.push_line_at(
            Origin {
                source: 0,
                line: i as u64 + 1,
            },
            &String::from_utf8_lossy(body),
        );
    }
    if let Some((name, bodies, lines)) = submission {
        loader.start_source(name);
        for (body, line) in bodies.iter().zip(lines) {
            loader.push_line_at(
                Origin {
                    source: 1,
                    line: *line,
                },
                &String::from_utf8_lossy(body),
            );
        }
    }
    let (facts, mut errors) = loader.finish();
    if errors.is_empty() {
        errors = facts.validate(vocabulary);
    }
    errors
        .iter()
        .map(|e| {
            let mut text = e.to_string();
            if let Some(help) = &e.help {
                text.push_str(&format!(" (help: {help})"));
            }
            text
        })
        .collect()
}

/// One log as the engine's input: its latest checkpoint, its entries and the cosignatures
/// held on its checkpoints.
#[derive(Debug, Clone)]
pub struct LogInput {
    pub origin: String,
    pub party: String,
    pub checkpoint: Checkpoint,
    pub entries: Vec<Entry>,
    pub cosignatures: Vec<StoredCosignature>,
}

/// The facts of every log, what they were read from, and the entries left out.
#[derive(Debug, Clone)]
pub struct LogFacts {
    pub facts: Facts,
    /// One per log: name = origin, sha256 = root (hex), records = size.
    pub inputs: Vec<InputRef>,
    /// Entries that could not be read as facts, each as `origin:index: problem`; they are
    /// left out of every assessment (a party's log may hold anything it signed).
    pub problems: Vec<String>,
    /// Notifications whose receipt time is the cosignature of another party:
    /// (origin, index) → cosignature time.
    pub receipts: BTreeMap<(String, u64), i64>,
}

use crate::home::hex;

/// The facts read from a log that speak for another party than the log's (`party`, or
/// `observer` for an observation): (where, whose).
fn foreign_facts(facts: &Facts, logs: &[LogInput]) -> Vec<(Origin, String)> {
    let party_of = |origin: Origin| logs.get(origin.source as usize).map(|l| l.party.as_str());
    let mut foreign: Vec<(Origin, String)> = facts
        .records()
        .filter(|r| party_of(r.origin) != Some(r.speaker))
        .map(|r| (r.origin, r.speaker.to_owned()))
        .collect();
    foreign.sort();
    foreign.dedup();
    foreign
}

/// When another party's node first cosigned a checkpoint covering entry `index`: that
/// party's proof of receipt.
fn receipt_time(log: &LogInput, index: u64) -> Option<i64> {
    log.cosignatures
        .iter()
        .filter(|c| c.size > index && c.cosigner != log.origin)
        .map(|c| i64::try_from(c.timestamp).unwrap_or(i64::MAX))
        .min()
}

/// Reads every log's fact entries as facts. Entries are read in log order (origin, then
/// index), so every node holding the same checkpoints reads the same facts.
///
/// A notification is received when another party's node cosigned a checkpoint that
/// covers it, and its `received_at` becomes that time — unless both its append time and
/// that cosignature are later than the opening of the window it announces (a record of
/// past notifications, such as a historical scenario): the log can't prove when those were
/// received, and their declared times stand.
pub fn read_logs(logs: &[LogInput], treaty: &Treaty) -> LogFacts {
    let vocabulary = Vocabulary::of_treaty(treaty);
    let mut problems = Vec::new();
    let mut receipts = BTreeMap::new();
    // (source, line) → body text: as it is in the entry, or rewritten (a notification
    // whose receipt time the cosignatures set).
    let mut lines: Vec<(Origin, Cow<'_, str>)> = Vec::new();
    for (source, log) in logs.iter().enumerate() {
        let source = source as u32;
        for entry in &log.entries {
            if entry.kind != EntryKind::Fact {
                continue;
            }
            let place = format!("{}:{}", log.origin, entry.index);
            let origin = Origin {
                source,
                line: entry.index + 1,
            };
            let Ok(text) = std::str::from_utf8(&entry.body) else {
                problems.push(format!("{place}: the body is not UTF-8 text"));
                continue;
            };
            // Only a notification needs its record read here (its receipt time). Every other
            // record goes to the loader as it is, and whose fact it is is checked on the
            // facts read (`foreign_facts`): parsing two million records twice would double
            // the time of every report after a change. The test is on the text, not its
            // form, so no spacing can slip a notification past the receipt rule.
            if !text.contains("\"notification\"") {
                lines.push((origin, Cow::Borrowed(text)));
                continue;
            }
            let Ok(Value::Object(mut record)) = serde_json::from_str::<Value>(text) else {
                problems.push(format!("{place}: the body is not a JSON object"));
                continue;
            };
            match speaker(&record) {
                Some(who) if who == log.party => {}
                other => {
                    problems.push(format!(
                        "{place}: a fact of {} in the log of {}; left out",
                        other.unwrap_or("no party"),
                        log.party
                    ));
                    continue;
                }
            }
            if record.get("kind").and_then(Value::as_str) == Some("notification")
                && let Some(received) = receipt_time(log, entry.index)
            {
                let opens = record
                    .get("window")
                    .and_then(|w| w.get("from"))
                    .and_then(Value::as_str)
                    .and_then(Instant::parse);
                let appended = entry.appended_at_ms.div_euclid(1000);
                // Live if either clock says it came before the window: the notifier's (its
                // append time) or the receiver's (its cosignature).
                if opens.is_some_and(|opens| {
                    appended <= opens.unix_seconds() || received <= opens.unix_seconds()
                }) {
                    let at = Instant::from_unix_seconds(received);
                    record.insert("received_at".to_owned(), Value::String(at.to_string()));
                    receipts.insert((log.origin.clone(), entry.index), received);
                }
            }
            let text = String::from_utf8(canonical_json(&record)).unwrap_or_default();
            lines.push((origin, Cow::Owned(text)));
        }
    }
    let names: Vec<&str> = logs.iter().map(|l| l.origin.as_str()).collect();
    // Read; leave out the entries the loader or the validation refuse; read again.
    let mut left_out: BTreeSet<Origin> = BTreeSet::new();
    let facts = loop {
        let mut loader = FactsLoader::new(names.first().copied().unwrap_or("logs"));
        for name in names.iter().skip(1) {
            loader.start_source(name);
        }
        for (origin, text) in &lines {
            if !left_out.contains(origin) {
                loader.push_line_at(*origin, text);
            }
        }
        let (facts, mut errors) = loader.finish();
        if errors.is_empty() {
            errors = facts.validate(&vocabulary);
        }
        let foreign = if errors.is_empty() {
            foreign_facts(&facts, logs)
        } else {
            Vec::new()
        };
        if errors.is_empty() && foreign.is_empty() {
            break facts;
        }
        let before = left_out.len();
        for (origin, who) in foreign {
            let log = logs.get(origin.source as usize);
            problems.push(format!(
                "{}:{}: a fact of {who} in the log of {}; left out",
                log.map_or("", |l| l.origin.as_str()),
                origin.line.saturating_sub(1),
                log.map_or("", |l| l.party.as_str())
            ));
            left_out.insert(origin);
        }
        for error in &errors {
            let source = names.iter().position(|n| *n == error.source);
            if let Some(source) = source {
                left_out.insert(Origin {
                    source: source as u32,
                    line: error.line,
                });
            }
            problems.push(format!(
                "{}:{}: {}; left out",
                error.source,
                error.line.saturating_sub(1),
                error.message
            ));
        }
        if left_out.len() == before {
            // Nothing attributable to an entry: assess without any facts rather than loop.
            break Facts::default();
        }
    };
    LogFacts {
        facts,
        inputs: logs
            .iter()
            .map(|l| InputRef {
                name: l.origin.clone(),
                sha256: hex(&l.checkpoint.root),
                records: l.checkpoint.size,
            })
            .collect(),
        problems,
        receipts,
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::indexing_slicing)]
    use super::*;

    #[test]
    fn canonical_json_puts_kind_first_and_sorts_the_rest() {
        let value: Value =
            serde_json::from_str(r#"{"party":"US","kind":"item","b":{"z":1,"a":[2,1]},"a":1.5}"#)
                .unwrap();
        let Value::Object(map) = value else {
            unreachable!()
        };
        assert_eq!(
            String::from_utf8(canonical_json(&map)).unwrap(),
            r#"{"kind":"item","a":1.5,"b":{"a":[2,1],"z":1},"party":"US"}"#
        );
    }

    fn log_of(party: &str, bodies: &[&str]) -> LogInput {
        let origin = format!("detente/carter_1977/{party}");
        LogInput {
            origin: origin.clone(),
            party: party.to_owned(),
            checkpoint: Checkpoint {
                origin: origin.clone(),
                size: bodies.len() as u64,
                root: [0; 32],
                extensions: Vec::new(),
            },
            entries: bodies
                .iter()
                .enumerate()
                .map(|(i, body)| Entry {
                    origin: origin.clone(),
                    index: i as u64,
                    appended_at_ms: 0,
                    kind: EntryKind::Fact,
                    body: body.as_bytes().to_vec(),
                })
                .collect(),
            cosignatures: Vec::new(),
        }
    }

    #[test]
    fn entries_that_are_not_facts_of_the_log_party_are_left_out_and_named() {
        let source = include_str!("../../../treaties/carter-1977.treaty");
        let treaty = detente_lang::check_source(source).treaty.unwrap();
        let own = r#"{"kind":"item","attributes":{},"category":"military_base","from":"1973-03-01","id":"us-base","location":{"lat":-7.31,"lon":72.41},"party":"US"}"#;
        // Another party's record, with spacing a node would not write, and not JSON.
        let foreign = r#"{"kind": "item", "party": "USSR", "id": "ussr-ship", "category": "warship", "attributes": {}, "from": "1978-01-15"}"#;
        let foreign_notification = r#"{ "kind" : "notification", "party": "USSR", "id": "n1", "provision": "d", "event_type": "missile_test_launch", "sent_at": "1979-01-01T00:00:00Z", "window": {"from": "1979-01-02T00:00:00Z", "to": "1979-01-03T00:00:00Z"}}"#;
        let facts = read_logs(
            &[log_of(
                "US",
                &[own, foreign, "not json", foreign_notification],
            )],
            &treaty,
        );
        assert_eq!(facts.facts.items.len(), 1, "{:?}", facts.problems);
        assert_eq!(&*facts.facts.items[0].id, "us-base");
        assert!(facts.facts.notifications.is_empty());
        let problems = facts.problems.join("\n");
        assert!(
            problems
                .contains("detente/carter_1977/US:1: a fact of USSR in the log of US; left out"),
            "{problems}"
        );
        assert!(problems.contains("detente/carter_1977/US:2:"), "{problems}");
        assert!(
            problems
                .contains("detente/carter_1977/US:3: a fact of USSR in the log of US; left out"),
            "{problems}"
        );
    }
}
