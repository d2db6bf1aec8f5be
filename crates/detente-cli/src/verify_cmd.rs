//! The verification commands (docs/verification.md, "How nodes use it"):
//! `escrow commit|reveal|status`, `inspect seed|draw|report|plan`,
//! `prove limit|open|verify`.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use clap::Subcommand;
use detente_escrow::commit::{Item, Location, Value as ItemValue};
use detente_escrow::inspection::{FoundItem, InspectionReport};
use detente_escrow::probability::{detection_probability, sites_needed};
use detente_node::NodeError;
use detente_node::verification::private::parse_hex32;
use detente_node::verification::state::{ProofState, VerificationFinding};
use detente_node::verification::{StateOptions, VerificationState};
use serde::Deserialize;
use serde_json::{Map, Value};

use crate::node_cmd::{DataDir, open_node};
use crate::{EXIT_OK, EXIT_VIOLATION, Exit, parse_date, parse_instant};

/// Largest items file read (JSON Lines).
const MAX_ITEMS_FILE: u64 = 4 << 30;
/// Largest inspection report file read.
const MAX_REPORT_FILE: u64 = 64 << 20;

#[derive(Debug, Subcommand)]
pub enum EscrowCommand {
    /// Commit to a complete item-level declaration: fresh salts, the commitment in the
    /// log, the items and salts kept in DIR/private/.
    Commit {
        #[command(flatten)]
        data: DataDir,
        /// The items, as JSON Lines: region, id, category, attributes, optional location
        /// {"lat": …, "lon": …}.
        #[arg(long, value_name = "FILE.jsonl")]
        items: PathBuf,
        /// The date the declaration is as of.
        #[arg(long, value_name = "DATE")]
        as_of: String,
        /// Publish how many items each region holds (discloses the distribution; lets
        /// every reveal be checked for completeness at once).
        #[arg(long)]
        publish_counts: bool,
    },
    /// Reveal one region of the latest commitment: its items, salts and proofs.
    Reveal {
        #[command(flatten)]
        data: DataDir,
        #[arg(long)]
        region: String,
        /// Reveal from the commitment as of this date rather than the latest.
        #[arg(long, value_name = "DATE")]
        as_of: Option<String>,
    },
    /// Every party's verification state from the logs held: commitments, reveals,
    /// rounds and draws, inspections, detection probability, limit proofs, findings.
    Status {
        #[command(flatten)]
        data: DataDir,
        /// Only this party.
        #[arg(long)]
        party: Option<String>,
        /// Hiding sites assumed for the detection probability (k).
        #[arg(long, default_value_t = 1)]
        hidden: u64,
        /// Print the state as JSON.
        #[arg(long)]
        json: bool,
    },
}

#[derive(Debug, Subcommand)]
pub enum InspectCommand {
    /// Commit to a seed for a round of joint randomness; with --reveal, reveal it
    /// (once every party has committed).
    Seed {
        #[command(flatten)]
        data: DataDir,
        #[arg(long)]
        round: String,
        /// Reveal the seed committed to.
        #[arg(long)]
        reveal: bool,
        /// Commit to this seed (64 hex digits) instead of a random one: for scenarios
        /// and tests. A seed anyone can guess gives the other party the draw.
        #[arg(long, value_name = "HEX", conflicts_with = "reveal")]
        seed: Option<String>,
    },
    /// The sites a complete round draws from a party's revealed region (the same on
    /// every node).
    Draw {
        #[command(flatten)]
        data: DataDir,
        #[arg(long)]
        round: String,
        /// The inspected party.
        #[arg(long)]
        party: String,
        #[arg(long)]
        region: String,
        /// How many sites.
        #[arg(long)]
        sites: usize,
    },
    /// File what inspectors found at one site (JSON: inspected, site, date, found).
    Report {
        #[command(flatten)]
        data: DataDir,
        #[arg(value_name = "FILE.json")]
        file: PathBuf,
    },
    /// How many sites to inspect to find k hiding ones among N with a confidence.
    Plan {
        #[arg(long)]
        confidence: f64,
        /// Sites to draw from (N).
        #[arg(long)]
        sites: u64,
        /// Sites assumed to hide undeclared items (k).
        #[arg(long)]
        hidden: u64,
    },
}

#[derive(Debug, Subcommand)]
pub enum ProveCommand {
    /// Prove that this party's value for a limit provision is at most a bound, without
    /// disclosing it (the opening is kept in DIR/private/).
    Limit {
        #[command(flatten)]
        data: DataDir,
        /// The limit provision, e.g. `a`.
        #[arg(long)]
        provision: String,
        /// The party's value (kept private).
        #[arg(long)]
        value: u64,
        /// The bound proved.
        #[arg(long)]
        bound: u64,
        #[arg(long, value_name = "DATE")]
        as_of: String,
    },
    /// Publish the openings of this party's proofs for a provision and date (discloses
    /// the value).
    Open {
        #[command(flatten)]
        data: DataDir,
        #[arg(long)]
        provision: String,
        #[arg(long, value_name = "DATE")]
        as_of: String,
    },
    /// Check every limit proof and opening in the logs; with --at, the report at that
    /// instant with the proved limits.
    Verify {
        #[command(flatten)]
        data: DataDir,
        /// Only this party's proofs.
        #[arg(long)]
        party: Option<String>,
        /// Also print the report at this instant, with the proved limits applied.
        #[arg(long)]
        at: Option<String>,
        /// Print JSON.
        #[arg(long)]
        json: bool,
    },
}

fn runtime() -> Result<tokio::runtime::Runtime, Exit> {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .map_err(|e| Exit::internal(format!("error: cannot start the runtime: {e}")))
}

fn node_error(e: NodeError) -> Exit {
    match e {
        NodeError::Invalid(_) | NodeError::Rejected(_) | NodeError::NotFound(_) => {
            Exit::invalid(format!("error: {e}"))
        }
        other => Exit::internal(format!("error: {other}")),
    }
}

fn to_json<T: serde::Serialize>(value: &T) -> Result<String, Exit> {
    serde_json::to_string_pretty(value)
        .map_err(|e| Exit::internal(format!("error: internal error: {e}")))
}

fn check_date(text: &str, flag: &str) -> Result<String, Exit> {
    parse_date(text, flag)?;
    Ok(text.trim().to_owned())
}

// ----- items and reports from JSON -----------------------------------------------------------

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct ItemLine {
    region: String,
    id: String,
    category: String,
    #[serde(default)]
    attributes: Map<String, Value>,
    #[serde(default)]
    location: Option<LocationJson>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct LocationJson {
    lat: f64,
    lon: f64,
}

/// An attribute value: text, a whole number, true/false, or a decimal (kept as the text
/// of its shortest round-trip form, as every party writes it).
fn attribute(name: &str, value: &Value) -> Result<ItemValue, String> {
    match value {
        Value::String(s) => Ok(ItemValue::Text(s.clone())),
        Value::Bool(b) => Ok(ItemValue::Bool(*b)),
        Value::Number(n) => match n.as_i64() {
            Some(i) => Ok(ItemValue::Integer(i)),
            None if n.is_u64() => Err(format!(
                "attribute `{name}`: {n} is too large for a whole number (at most {})",
                i64::MAX
            )),
            None => Ok(ItemValue::Text(n.to_string())),
        },
        _ => Err(format!(
            "attribute `{name}`: a value is text, a whole number, true or false, or a decimal"
        )),
    }
}

fn attributes(map: &Map<String, Value>) -> Result<Vec<(String, ItemValue)>, String> {
    map.iter()
        .map(|(k, v)| Ok((k.clone(), attribute(k, v)?)))
        .collect()
}

/// The items of a JSON Lines file; every problem is reported as `file:line: …`.
fn read_items(path: &Path) -> Result<Vec<Item>, Exit> {
    let (text, name) = crate::inputs::read_text_at_most(path, MAX_ITEMS_FILE)?;
    let mut items = Vec::new();
    let mut problems = Vec::new();
    for (number, line) in text.lines().enumerate() {
        let number = number + 1;
        if line.trim().is_empty() {
            continue;
        }
        let parsed: ItemLine = match serde_json::from_str(line) {
            Ok(p) => p,
            Err(e) => {
                problems.push(format!("{name}:{number}:{}: {e}", e.column()));
                continue;
            }
        };
        let item = attributes(&parsed.attributes).and_then(|attrs| {
            let location = parsed
                .location
                .map(|l| Location::from_degrees(l.lat, l.lon))
                .transpose()
                .map_err(|e| e.to_string())?;
            Item::new(
                &parsed.region,
                &parsed.id,
                &parsed.category,
                attrs,
                location,
            )
            .map_err(|e| e.to_string())
        });
        match item {
            Ok(item) => items.push(item),
            Err(e) => problems.push(format!("{name}:{number}: {e}")),
        }
    }
    if !problems.is_empty() {
        let shown: Vec<&String> = problems.iter().take(50).collect();
        let more = problems.len().saturating_sub(50);
        return Err(Exit::invalid(format!(
            "error: `{name}` has {} problems; nothing was committed:\n  {}{}",
            problems.len(),
            shown
                .iter()
                .map(|s| s.as_str())
                .collect::<Vec<_>>()
                .join("\n  "),
            if more > 0 {
                format!("\n  … and {more} more")
            } else {
                String::new()
            }
        )));
    }
    Ok(items)
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct ReportJson {
    inspected: String,
    site: String,
    date: String,
    #[serde(default)]
    found: Vec<FoundJson>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct FoundJson {
    #[serde(default)]
    id: Option<String>,
    category: String,
    #[serde(default)]
    attributes: Map<String, Value>,
}

fn read_report(path: &Path, inspector: &str) -> Result<InspectionReport, Exit> {
    let (text, name) = crate::inputs::read_text_at_most(path, MAX_REPORT_FILE)?;
    let parsed: ReportJson = serde_json::from_str(&text).map_err(|e| {
        Exit::invalid(format!(
            "error: {name}:{}:{}: {e}\n  help: a report is {{\"inspected\": \"USSR\", \"site\": \"…\", \"date\": \"1979-09-12\", \"found\": [{{\"id\": \"…\", \"category\": \"…\", \"attributes\": {{…}}}}]}}",
            e.line(),
            e.column()
        ))
    })?;
    let mut found = Vec::with_capacity(parsed.found.len());
    for (i, f) in parsed.found.into_iter().enumerate() {
        let mut attrs = attributes(&f.attributes)
            .map_err(|e| Exit::invalid(format!("error: {name}: found item {i}: {e}")))?;
        attrs.sort_by(|a, b| a.0.cmp(&b.0));
        found.push(FoundItem {
            id: f.id,
            category: f.category,
            attributes: attrs,
        });
    }
    let report = InspectionReport {
        inspector: inspector.to_owned(),
        inspected: parsed.inspected,
        site: parsed.site,
        date: parsed.date,
        found,
    };
    report
        .validate()
        .map_err(|e| Exit::invalid(format!("error: {name}: {e}")))?;
    Ok(report)
}

// ----- rendering ----------------------------------------------------------------------------

fn short(hex: &str) -> &str {
    hex.get(..16).unwrap_or(hex)
}

fn refs(records: &[detente_node::verification::RecordRef]) -> String {
    records
        .iter()
        .map(ToString::to_string)
        .collect::<Vec<_>>()
        .join(", ")
}

fn render_finding(out: &mut String, f: &VerificationFinding) {
    let severity = match f.severity {
        detente_node::verification::Severity::Violation => "violation",
        detente_node::verification::Severity::Pending => "pending",
    };
    let _ = writeln!(
        out,
        "  {severity:<9} {} {}: {}",
        f.party, f.reason, f.detail
    );
    let _ = writeln!(out, "            records: {}", refs(&f.records));
}

fn render_proof(out: &mut String, p: &ProofState) {
    let _ = writeln!(
        out,
        "  {} `{}` <= {} as of {} ({}): {}",
        p.party,
        p.provision,
        p.bound,
        p.as_of,
        p.record,
        if p.verified {
            "verified".to_owned()
        } else {
            format!("DOES NOT VERIFY: {}", p.error.as_deref().unwrap_or(""))
        }
    );
    for o in &p.openings {
        let _ = writeln!(
            out,
            "      opened at {}: value {}, {}",
            o.record,
            o.value,
            if o.matches {
                "matches the proof"
            } else {
                "DOES NOT MATCH the proof"
            }
        );
    }
}

fn render_state(state: &VerificationState) -> String {
    let mut out = String::new();
    let logs: Vec<String> = state
        .inputs
        .iter()
        .map(|i| format!("{} (size {}, root {})", i.name, i.records, short(&i.sha256)))
        .collect();
    let _ = writeln!(out, "From the logs {}", logs.join(", "));
    for p in &state.parties {
        let _ = writeln!(out, "\n{}", p.party);
        for c in &p.commitments {
            let _ = writeln!(
                out,
                "  commitment {} as of {}: {} items, root {}…, counts per region {}; {} revealed",
                c.record,
                c.as_of,
                c.total,
                short(&c.root),
                if c.region_counts.is_some() {
                    "published"
                } else {
                    "withheld"
                },
                c.revealed
            );
            for r in &c.regions {
                let _ = writeln!(
                    out,
                    "    {:<16} {} items{} at {} sites, {} ({})",
                    r.region,
                    r.revealed,
                    r.committed.map(|n| format!(" of {n}")).unwrap_or_default(),
                    r.sites,
                    if r.clean { "checks" } else { "see findings" },
                    refs(&r.records)
                );
            }
            if let Some(counts) = &c.region_counts {
                for (region, n) in counts {
                    if !c.regions.iter().any(|r| r.region == *region) {
                        let _ = writeln!(out, "    {region:<16} {n} items, not revealed");
                    }
                }
            }
            let unaccounted: u64 = c
                .unrevealed
                .iter()
                .map(|u| u.end.saturating_sub(u.start))
                .sum();
            if unaccounted > 0 {
                let _ = writeln!(out, "    {unaccounted} committed items not revealed yet");
            }
        }
        for d in &p.detection {
            let chance = match d.probability {
                Some(p) => format!("{:.1}%", p * 100.0),
                None => "n/a (more hiding sites assumed than there are sites)".to_owned(),
            };
            let _ = writeln!(
                out,
                "  inspected {} of {} sites{}: if {} {} undeclared items, the chance the inspections so far found {} is {chance}",
                d.inspected,
                d.sites,
                d.region
                    .as_deref()
                    .map(|r| format!(" in {r}"))
                    .unwrap_or_else(|| " in all revealed regions".to_owned()),
                d.hidden,
                if d.hidden == 1 {
                    "site hides"
                } else {
                    "sites hide"
                },
                if d.hidden == 1 { "it" } else { "at least one" },
            );
        }
    }
    if !state.rounds.is_empty() {
        let _ = writeln!(out, "\nRounds of joint randomness");
        for r in &state.rounds {
            let _ = writeln!(
                out,
                "  {}: {}{}",
                r.round,
                r.status.replace('_', " "),
                r.combined_seed
                    .as_deref()
                    .map(|s| format!(", combined seed {}…", short(s)))
                    .unwrap_or_default()
            );
            for p in &r.parties {
                let _ = writeln!(
                    out,
                    "    {:<8} committed {}, revealed {}",
                    p.party,
                    p.committed
                        .as_ref()
                        .map_or("-".to_owned(), ToString::to_string),
                    p.revealed
                        .as_ref()
                        .map_or("-".to_owned(), ToString::to_string)
                );
            }
            for d in &r.draws {
                let _ = writeln!(
                    out,
                    "    draw from {}'s {} ({} sites): {}{}",
                    d.party,
                    d.region,
                    d.candidates,
                    d.first.join(", "),
                    if d.candidates as usize > d.first.len() {
                        ", …"
                    } else {
                        ""
                    }
                );
            }
        }
    }
    if !state.inspections.is_empty() {
        let _ = writeln!(out, "\nInspections");
        for i in &state.inspections {
            let drawn: Vec<String> = i
                .drawn
                .iter()
                .map(|d| format!("drawn {} in round {}", d.position, d.round))
                .collect();
            let _ = writeln!(
                out,
                "  {} at {}'s site {} on {} ({}): {} items found, {}, {} {}{}",
                i.inspector,
                i.inspected,
                i.site,
                i.date,
                i.record,
                i.found,
                i.status.replace('_', " "),
                i.findings,
                if i.findings == 1 {
                    "finding"
                } else {
                    "findings"
                },
                if drawn.is_empty() {
                    String::new()
                } else {
                    format!("; {}", drawn.join(", "))
                }
            );
        }
    }
    if !state.limit_proofs.is_empty() {
        let _ = writeln!(out, "\nLimit proofs");
        for p in &state.limit_proofs {
            render_proof(&mut out, p);
        }
    }
    let _ = writeln!(out, "\nFindings");
    if state.findings.is_empty() {
        let _ = writeln!(out, "  none");
    }
    for f in &state.findings {
        render_finding(&mut out, f);
    }
    if !state.problems.is_empty() {
        let _ = writeln!(out, "\nRecords left out");
        for p in &state.problems {
            let _ = writeln!(out, "  {p}");
        }
    }
    out
}

fn check_party(state_parties: &[String], party: &str) -> Result<(), Exit> {
    if state_parties.iter().any(|p| p == party) {
        Ok(())
    } else {
        Err(Exit::invalid(format!(
            "error: the treaty has no party `{party}`; its parties are {}",
            state_parties.join(", ")
        )))
    }
}

// ----- the commands -------------------------------------------------------------------------

pub fn escrow(command: &EscrowCommand) -> Result<u8, Exit> {
    runtime()?.block_on(async {
        match command {
            EscrowCommand::Commit {
                data,
                items,
                as_of,
                publish_counts,
            } => {
                let as_of = check_date(as_of, "--as-of")?;
                let items = read_items(items)?;
                let (home, node) = open_node(&data.dir).await?;
                let c = node
                    .escrow_commit(&home.dir, items, &as_of, *publish_counts)
                    .await
                    .map_err(node_error)?;
                println!(
                    "{} committed to its declaration as of {as_of}: {} items in {} regions, root {}\n  entry {} of {}\n  counts per region {}\n  items and salts kept in {} (needed to reveal; keep it safe and backed up)",
                    node.party(),
                    c.total,
                    c.regions.len(),
                    c.root,
                    c.appended.first_index,
                    node.origin(),
                    if c.published_counts { "published" } else { "withheld" },
                    c.private_file.display()
                );
                Ok(EXIT_OK)
            }
            EscrowCommand::Reveal {
                data,
                region,
                as_of,
            } => {
                let as_of = as_of.as_deref().map(|d| check_date(d, "--as-of")).transpose()?;
                let (home, node) = open_node(&data.dir).await?;
                let r = node
                    .escrow_reveal(&home.dir, region, as_of.as_deref())
                    .await
                    .map_err(node_error)?;
                println!(
                    "{} revealed region {}: {} items in {} {} ({}..{} of {})",
                    node.party(),
                    r.region,
                    r.items,
                    r.appended.count,
                    if r.appended.count == 1 { "entry" } else { "entries" },
                    r.appended.first_index,
                    r.appended.first_index + r.appended.count,
                    node.origin()
                );
                Ok(EXIT_OK)
            }
            EscrowCommand::Status {
                data,
                party,
                hidden,
                json,
            } => {
                let (home, node) = open_node(&data.dir).await?;
                let mut state = node
                    .verification_state(&StateOptions { hidden: *hidden })
                    .await
                    .map_err(node_error)?;
                if let Some(party) = party {
                    check_party(&home.treaty.treaty.parties, party)?;
                    state.retain_party(party);
                }
                if *json {
                    println!("{}", to_json(&state)?);
                } else {
                    print!("{}", render_state(&state));
                }
                Ok(if state.has_violation() {
                    EXIT_VIOLATION
                } else {
                    EXIT_OK
                })
            }
        }
    })
}

pub fn inspect(command: &InspectCommand) -> Result<u8, Exit> {
    if let InspectCommand::Plan {
        confidence,
        sites,
        hidden,
    } = command
    {
        return plan(*confidence, *sites, *hidden);
    }
    runtime()?.block_on(async {
        match command {
            InspectCommand::Seed {
                data,
                round,
                reveal,
                seed,
            } => {
                let (home, node) = open_node(&data.dir).await?;
                if *reveal {
                    let a = node.seed_reveal(&home.dir, round).await.map_err(node_error)?;
                    println!(
                        "{} revealed its seed for round {round}: entry {} of {}",
                        node.party(),
                        a.first_index,
                        node.origin()
                    );
                } else {
                    let seed = seed
                        .as_deref()
                        .map(|s| {
                            parse_hex32(s).ok_or_else(|| {
                                Exit::invalid(format!(
                                    "error: `--seed {s}` is not 64 hex digits (32 bytes)"
                                ))
                            })
                        })
                        .transpose()?;
                    let a = node
                        .seed_commit(&home.dir, round, seed)
                        .await
                        .map_err(node_error)?;
                    println!(
                        "{} committed to a seed for round {round}: entry {} of {}\n  the seed is kept in {} until `detente inspect seed --round {round} --reveal`, once every party has committed",
                        node.party(),
                        a.first_index,
                        node.origin(),
                        detente_node::verification::private::seed_path(&home.dir, round).display()
                    );
                }
                Ok(EXIT_OK)
            }
            InspectCommand::Draw {
                data,
                round,
                party,
                region,
                sites,
            } => {
                let (home, node) = open_node(&data.dir).await?;
                check_party(&home.treaty.treaty.parties, party)?;
                let state = node
                    .verification_state(&StateOptions::default())
                    .await
                    .map_err(node_error)?;
                let drawn = state
                    .draw(round, party, region, *sites)
                    .map_err(|e| Exit::invalid(format!("error: {e}")))?;
                let candidates = state
                    .rounds
                    .iter()
                    .find(|r| r.round == *round)
                    .and_then(|r| r.draws.iter().find(|d| d.party == *party && d.region == *region))
                    .map_or(0, |d| d.candidates);
                eprintln!(
                    "round {round}: {} of the {candidates} revealed sites of {party}'s region {region}, in draw order",
                    drawn.len()
                );
                for site in drawn {
                    println!("{site}");
                }
                Ok(EXIT_OK)
            }
            InspectCommand::Report { data, file } => {
                let (_, node) = open_node(&data.dir).await?;
                let report = read_report(file, node.party())?;
                let a = node.file_inspection(report).await.map_err(node_error)?;
                let state = node
                    .verification_state(&StateOptions::default())
                    .await
                    .map_err(node_error)?;
                let at = detente_node::verification::RecordRef {
                    origin: node.origin().to_owned(),
                    index: a.first_index,
                };
                let inspection = state.inspections.iter().find(|i| i.record == at);
                println!(
                    "{} filed the inspection report: entry {} of {}; {}",
                    node.party(),
                    a.first_index,
                    node.origin(),
                    inspection.map_or("", |i| match i.status {
                        "reconciled" => "reconciled with the revealed declaration",
                        "site_not_revealed" => "the site is not revealed yet: reconciled once it is",
                        _ => "the inspected party has no declaration as of the date",
                    })
                );
                let findings: Vec<&VerificationFinding> = state
                    .findings
                    .iter()
                    .filter(|f| f.records.first() == Some(&at))
                    .collect();
                let mut out = String::new();
                for f in &findings {
                    render_finding(&mut out, f);
                }
                print!("{out}");
                Ok(if findings.is_empty() {
                    EXIT_OK
                } else {
                    EXIT_VIOLATION
                })
            }
            InspectCommand::Plan { .. } => Ok(EXIT_OK),
        }
    })
}

fn plan(confidence: f64, sites: u64, hidden: u64) -> Result<u8, Exit> {
    let invalid =
        |e: detente_escrow::probability::ProbabilityError| Exit::invalid(format!("error: {e}"));
    let n = sites_needed(sites, hidden, confidence).map_err(invalid)?;
    let p = detection_probability(sites, hidden, n).map_err(invalid)?;
    println!(
        "To find at least one of {hidden} hiding sites among {sites} with probability {confidence}, inspect {n} sites drawn at random (P = {p:.4})."
    );
    println!("\n  inspected  P(detect)");
    let mut shown: Vec<u64> = [n / 4, n / 2, (3 * n) / 4, n, n.saturating_mul(2)]
        .into_iter()
        .map(|x| x.clamp(1.min(sites), sites))
        .collect();
    shown.sort_unstable();
    shown.dedup();
    for k in shown {
        let p = detection_probability(sites, hidden, k).map_err(invalid)?;
        println!("  {k:>9}  {p:.4}");
    }
    println!(
        "\nAssumes the hidden items are at {hidden} distinct sites among the {sites}, the sites are drawn uniformly without replacement (as `detente inspect draw` does), and an inspection finds what is there."
    );
    Ok(EXIT_OK)
}

pub fn prove(command: &ProveCommand) -> Result<u8, Exit> {
    runtime()?.block_on(async {
        match command {
            ProveCommand::Limit {
                data,
                provision,
                value,
                bound,
                as_of,
            } => {
                let as_of = check_date(as_of, "--as-of")?;
                let (home, node) = open_node(&data.dir).await?;
                let (a, proof) = node
                    .prove_limit(&home.dir, provision, *value, *bound, &as_of)
                    .await
                    .map_err(node_error)?;
                println!(
                    "{} proved that its `{provision}` as of {as_of} is at most {bound}, without disclosing it: entry {} of {}\n  the value and the secret that opens the proof are kept in {}",
                    node.party(),
                    a.first_index,
                    node.origin(),
                    detente_node::verification::private::opening_path(&home.dir, &proof.commitment)
                        .display()
                );
                Ok(EXIT_OK)
            }
            ProveCommand::Open {
                data,
                provision,
                as_of,
            } => {
                let as_of = check_date(as_of, "--as-of")?;
                let (home, node) = open_node(&data.dir).await?;
                let a = node
                    .open_limit(&home.dir, provision, &as_of)
                    .await
                    .map_err(node_error)?;
                println!(
                    "{} opened its proofs of `{provision}` as of {as_of}: entries {}..{} of {}; the value is now public",
                    node.party(),
                    a.first_index,
                    a.first_index + a.count,
                    node.origin()
                );
                Ok(EXIT_OK)
            }
            ProveCommand::Verify {
                data,
                party,
                at,
                json,
            } => {
                let at = at.as_deref().map(|t| parse_instant(t, "--at")).transpose()?;
                let (home, node) = open_node(&data.dir).await?;
                let mut state = node
                    .verification_state(&StateOptions::default())
                    .await
                    .map_err(node_error)?;
                if let Some(party) = party {
                    check_party(&home.treaty.treaty.parties, party)?;
                    state.retain_party(party);
                }
                const PROOF_REASONS: [&str; 3] =
                    ["limit_proof_invalid", "opening_mismatch", "opened_above_bound"];
                let findings: Vec<&VerificationFinding> = state
                    .findings
                    .iter()
                    .filter(|f| PROOF_REASONS.contains(&f.reason))
                    .collect();
                let report = match at {
                    Some(at) => Some(
                        node.report_with_verification(at, &detente_assess::engine::Options::default())
                            .await
                            .map_err(node_error)?,
                    ),
                    None => None,
                };
                if *json {
                    let mut out = serde_json::json!({
                        "proofs": state.limit_proofs,
                        "findings": findings,
                    });
                    if let (Some(report), Some(map)) = (&report, out.as_object_mut()) {
                        map.insert(
                            "report".into(),
                            serde_json::to_value(report).map_err(|e| {
                                Exit::internal(format!("error: internal error: {e}"))
                            })?,
                        );
                    }
                    println!("{}", to_json(&out)?);
                } else {
                    let mut out = String::new();
                    if state.limit_proofs.is_empty() {
                        let _ = writeln!(out, "No limit proofs in the logs held.");
                    }
                    for p in &state.limit_proofs {
                        render_proof(&mut out, p);
                    }
                    for f in &findings {
                        render_finding(&mut out, f);
                    }
                    if let Some(report) = &report {
                        let _ = writeln!(out, "\nLimits at {}", report.at);
                        for f in report.findings.iter().filter(|f| {
                            f.kind == "limit" && party.as_ref().is_none_or(|p| *p == f.party)
                        }) {
                            let how = f
                                .evidence
                                .get(detente_node::verification::limits::PROOF_EVIDENCE)
                                .map(|_| format!(" ({})", detente_node::verification::PROVED_WITHOUT_DISCLOSURE))
                                .unwrap_or_default();
                            let _ = writeln!(
                                out,
                                "  {:<6} {:<3} {}{how}",
                                f.party,
                                f.provision,
                                f.status.as_str()
                            );
                        }
                    }
                    print!("{out}");
                }
                // The exit code is about the proofs; the report's other findings are
                // `assess`'s business.
                Ok(if findings.is_empty() {
                    EXIT_OK
                } else {
                    EXIT_VIOLATION
                })
            }
        }
    })
}
