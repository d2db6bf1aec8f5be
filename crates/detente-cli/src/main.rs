//! The `detente` binary: arguments → configuration → the library crates → rendering.
//!
//! It owns no business logic: it reads files, hands values to `detente-lang` and
//! `detente-assess`, renders what comes back, and maps outcomes to the exit codes of
//! DESIGN.md: 0 no violation, 1 a violation, 2 invalid input, 3 internal error.
#![allow(clippy::print_stdout, clippy::print_stderr)]

mod demo;
#[path = "gen.rs"] // `gen` is a reserved word in Rust 2024
mod generator;
mod inputs;
mod letter_cmd;
mod node_cmd;
mod render;
mod tables;
mod verify_cmd;

use clap::{Args, Parser, Subcommand, ValueEnum};
use detente_assess::engine::Engine;
use detente_lang::time::{Date, Duration, Instant, TimeUnit};
use detente_server::chart;
use std::io::IsTerminal;
use std::path::PathBuf;
use std::process::ExitCode;

/// Exit codes (DESIGN.md, "Contracts").
const EXIT_OK: u8 = 0;
const EXIT_VIOLATION: u8 = 1;
const EXIT_INVALID: u8 = 2;
const EXIT_INTERNAL: u8 = 3;

#[derive(Debug, Parser)]
#[command(
    name = "detente",
    version,
    about = "Treaties as code: check them, assess compliance from facts, plan reductions",
    after_help = "Exit codes: 0 no violation, 1 a violation was found, 2 invalid input, 3 internal error."
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Check a treaty: syntax, names, types; print every problem with its source.
    Check {
        file: PathBuf,
        #[arg(long, value_enum, default_value_t = ErrorFormat::Human)]
        error_format: ErrorFormat,
    },
    /// Format treaties canonically (in place), or check that they are formatted.
    Fmt {
        #[arg(required = true)]
        files: Vec<PathBuf>,
        /// Do not write; exit 1 if a file is not formatted.
        #[arg(long)]
        check: bool,
    },
    /// Assess compliance with every provision at one instant.
    Assess {
        #[command(flatten)]
        setup: Setup,
        /// The instant to assess at (`1980-01-01` or `1980-01-01T12:00:00Z`).
        #[arg(long)]
        at: String,
        #[command(flatten)]
        output: Output,
    },
    /// Limits and objectives over a series of instants.
    Timeline {
        #[command(flatten)]
        setup: Setup,
        #[arg(long)]
        from: String,
        #[arg(long)]
        to: String,
        /// The step, e.g. `1 month`, `6 months`, `1 year`, `30 days`.
        #[arg(long, default_value = "1 month")]
        every: String,
        #[command(flatten)]
        output: Output,
    },
    /// The reductions a party still owes at each future milestone.
    Plan {
        #[command(flatten)]
        setup: Setup,
        #[arg(long)]
        at: String,
        #[command(flatten)]
        output: Output,
    },
    /// Two nodes (US, USSR) on loopback with the letter of 4 March 1977 and its scenario:
    /// they mirror and cosign each other's logs, print the findings at three dates, the
    /// reductions plan and a chart, then serve their API and dashboard until interrupted.
    Demo {
        /// Where to write the chart (default: a temporary file).
        #[arg(long)]
        chart: Option<PathBuf>,
        /// Print the findings and exit instead of serving.
        #[arg(long)]
        no_serve: bool,
        /// Make the nodes' data folders here (a new or empty folder) and keep them;
        /// by default they are temporary.
        #[arg(long, value_name = "DIR")]
        data: Option<PathBuf>,
    },
    /// Generate a CFE-scale treaty and facts file for the benchmark (deterministic).
    Gen(generator::GenArgs),
    /// Make a node key in a data folder and print its public key (for the network file).
    Keygen {
        #[command(flatten)]
        data: node_cmd::DataDir,
    },
    /// Create a node: a data folder for one party's log and its mirrors of the others.
    Init {
        /// The treaty the network runs.
        #[arg(long)]
        treaty: PathBuf,
        /// The party this node speaks for.
        #[arg(long)]
        party: String,
        /// The network file: every party, its node URL and its node key.
        #[arg(long)]
        network: PathBuf,
        #[command(flatten)]
        data: node_cmd::DataDir,
    },
    /// Append this party's own facts (JSON Lines) to its log.
    Submit {
        #[command(flatten)]
        data: node_cmd::DataDir,
        #[arg(required = true)]
        files: Vec<PathBuf>,
    },
    /// Mirror every other party's log once: fetch, check, store, cosign.
    Sync {
        #[command(flatten)]
        data: node_cmd::DataDir,
    },
    /// Run the node: its HTTP API and peer endpoints, mirroring the others continuously.
    Serve {
        #[command(flatten)]
        data: node_cmd::DataDir,
        /// Listen here instead of the address in node.toml (`host:port`).
        #[arg(long)]
        listen: Option<String>,
        /// Milliseconds between mirroring rounds (failures back off up to a minute).
        #[arg(long, default_value_t = 2000)]
        sync_every_ms: u64,
    },
    /// Manage a node's operators (people who use its API and dashboard).
    #[command(subcommand)]
    User(node_cmd::UserCommand),
    /// Inspect and verify the logs a node holds.
    #[command(subcommand)]
    Log(node_cmd::LogCommand),
    /// Make a principal's keys (people who write letters for a party).
    #[command(subcommand)]
    Principal(letter_cmd::PrincipalCommand),
    /// Confidential, signed letters between principals: draft, amend, send, read, export.
    #[command(subcommand)]
    Letter(letter_cmd::LetterCommand),
    /// Escrowed declarations: commit to every item now, reveal region by region.
    #[command(subcommand)]
    Escrow(verify_cmd::EscrowCommand),
    /// Inspections: jointly drawn sites, inspection reports, how many to inspect.
    #[command(subcommand)]
    Inspect(verify_cmd::InspectCommand),
    /// Prove a limit is met without disclosing the number; check every proof.
    #[command(subcommand)]
    Prove(verify_cmd::ProveCommand),
    /// Write a receipt for an entry: the entry and its C2SP tlog-proof, checkable offline.
    Receipt {
        #[command(flatten)]
        data: node_cmd::DataDir,
        /// The entry's index in the log.
        index: u64,
        /// Whose log (default: this node's own).
        #[arg(long)]
        party: Option<String>,
        /// Write PATH.proof and PATH.entry.
        #[arg(long, value_name = "PATH")]
        out: PathBuf,
    },
    /// Check a receipt offline against the keys of a network file.
    VerifyReceipt {
        #[arg(long)]
        proof: PathBuf,
        #[arg(long)]
        entry: PathBuf,
        #[arg(long)]
        network: PathBuf,
    },
}

#[derive(Debug, Clone, Copy, ValueEnum)]
enum ErrorFormat {
    Human,
    Json,
}

#[derive(Debug, Clone, Copy, ValueEnum, PartialEq, Eq)]
enum Format {
    Table,
    Json,
    Csv,
}

#[derive(Debug, Args)]
struct Setup {
    /// The treaty file.
    #[arg(long, required_unless_present = "node", conflicts_with = "node")]
    treaty: Option<PathBuf>,
    /// A facts file in JSON Lines (repeatable).
    #[arg(long = "facts", conflicts_with = "node")]
    facts: Vec<PathBuf>,
    /// Read the treaty and the facts from a node's logs (its data folder) instead.
    #[arg(long, value_name = "DIR")]
    node: Option<PathBuf>,
    /// Only this party (repeatable); all parties by default.
    #[arg(long = "party")]
    parties: Vec<String>,
    /// Override a param: `--set sdv_ceiling=2000` (repeatable).
    #[arg(long = "set", value_name = "NAME=VALUE")]
    set: Vec<String>,
    /// Assume the treaty entered into force on this date.
    #[arg(long)]
    assume_in_force: Option<String>,
    /// Assess under a named interpretation.
    #[arg(long)]
    interpretation: Option<String>,
    #[arg(long, value_enum, default_value_t = ErrorFormat::Human)]
    error_format: ErrorFormat,
}

#[derive(Debug, Args)]
struct Output {
    #[arg(long, value_enum, default_value_t = Format::Table)]
    format: Format,
    /// Also write a chart of value and bound over time per limit (SVG).
    #[arg(long)]
    chart: Option<PathBuf>,
}

/// An outcome that ends the program with a code, after its message is printed.
#[derive(Debug)]
pub struct Exit {
    code: u8,
    message: String,
}

impl Exit {
    pub fn invalid(message: impl Into<String>) -> Exit {
        Exit {
            code: EXIT_INVALID,
            message: message.into(),
        }
    }
    pub fn internal(message: impl Into<String>) -> Exit {
        Exit {
            code: EXIT_INTERNAL,
            message: message.into(),
        }
    }
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    // Library code never panics by design; if something still does, report it as an
    // internal error with exit code 3 rather than Rust's default 101.
    let outcome = std::panic::catch_unwind(|| run(cli));
    match outcome {
        Ok(Ok(code)) => ExitCode::from(code),
        Ok(Err(exit)) => {
            if !exit.message.is_empty() {
                eprintln!("{}", exit.message);
            }
            ExitCode::from(exit.code)
        }
        Err(_) => {
            eprintln!("error: internal error (this is a bug in detente; please report it)");
            ExitCode::from(EXIT_INTERNAL)
        }
    }
}

fn run(cli: Cli) -> Result<u8, Exit> {
    let color = std::io::stderr().is_terminal();
    match cli.command {
        Command::Check { file, error_format } => {
            let (source, name) = inputs::read_text(&file)?;
            let checked = detente_lang::check_source(&source);
            let has_error = checked.diagnostics.iter().any(|d| d.is_error());
            match error_format {
                ErrorFormat::Json => {
                    println!("{}", render::json(&checked.diagnostics, &name, &source));
                }
                ErrorFormat::Human => {
                    eprint!(
                        "{}",
                        render::human(&checked.diagnostics, &name, &source, color)
                    );
                    if let Some(t) = &checked.treaty
                        && !has_error
                    {
                        println!(
                            "{name}: treaty `{}` is valid: {} parties, {} provisions, {} quantities, {} params",
                            t.name,
                            t.parties.len(),
                            t.provisions.len(),
                            t.quantities.len(),
                            t.params.len()
                        );
                    }
                }
            }
            Ok(if has_error { EXIT_INVALID } else { EXIT_OK })
        }
        Command::Fmt { files, check } => {
            let mut unformatted = false;
            for file in files {
                let (source, name) = inputs::read_text(&file)?;
                match detente_lang::format::format_source(&source) {
                    Ok(text) if text == source => {}
                    Ok(text) => {
                        if check {
                            eprintln!("{name}: not formatted");
                            unformatted = true;
                        } else {
                            std::fs::write(&file, text).map_err(|e| {
                                Exit::invalid(format!("error: cannot write `{name}`: {e}"))
                            })?;
                            eprintln!("{name}: formatted");
                        }
                    }
                    Err(diagnostics) => {
                        eprint!("{}", render::human(&diagnostics, &name, &source, color));
                        return Err(Exit::invalid(format!(
                            "error: `{name}` has syntax errors; fix them before formatting"
                        )));
                    }
                }
            }
            Ok(if unformatted { EXIT_VIOLATION } else { EXIT_OK })
        }
        Command::Assess { setup, at, output } => {
            let at = parse_instant(&at, "--at")?;
            let loaded = load(&setup, color)?;
            check_parties(&setup, &loaded)?;
            let engine = loaded.engine(&setup)?;
            let mut report = engine.assess(at);
            if let Some(dir) = &setup.node {
                // From a node's logs, a limit proved in zero knowledge counts as the API
                // and the dashboard count it.
                let proofs = node_cmd::limit_proofs(dir)?;
                detente_node::verification::apply_limit_proofs(&mut report, &proofs);
            }
            if !setup.parties.is_empty() {
                report.findings.retain(|f| setup.parties.contains(&f.party));
                report.summary = detente_assess::report::summarize(&report.findings);
            }
            match output.format {
                Format::Json => println!("{}", to_json(&report)?),
                Format::Csv => print!("{}", tables::findings_csv(&report)),
                Format::Table => print!(
                    "{}",
                    tables::findings_table(&report, std::io::stdout().is_terminal())
                ),
            }
            if let Some(path) = &output.chart {
                write_chart(&engine, &loaded, path, at)?;
            }
            Ok(if report.has_binding_violation() {
                EXIT_VIOLATION
            } else {
                EXIT_OK
            })
        }
        Command::Timeline {
            setup,
            from,
            to,
            every,
            output,
        } => {
            let from = parse_instant(&from, "--from")?;
            let to = parse_instant(&to, "--to")?;
            if to < from {
                return Err(Exit::invalid(format!(
                    "error: `--to {to}` is before `--from {from}`\n  help: give the earlier instant to `--from`"
                )));
            }
            let every = parse_duration(&every)?;
            let loaded = load(&setup, color)?;
            check_parties(&setup, &loaded)?;
            let engine = loaded.engine(&setup)?;
            let mut timeline = engine.timeline(from, to, every);
            if !setup.parties.is_empty() {
                timeline.points.retain(|p| setup.parties.contains(&p.party));
            }
            match output.format {
                Format::Json => println!("{}", to_json(&timeline)?),
                Format::Csv => print!("{}", tables::timeline_csv(&timeline)),
                Format::Table => print!(
                    "{}",
                    tables::timeline_table(&timeline, std::io::stdout().is_terminal())
                ),
            }
            if let Some(path) = &output.chart {
                chart::write(path, &timeline).map_err(Exit::internal)?;
            }
            let violation = timeline.points.iter().any(|p| {
                p.status == detente_assess::report::Status::Violation
                    && loaded
                        .treaty
                        .provision(&p.provision)
                        .is_some_and(|x| x.kind != detente_lang::ast::ProvisionKind::Objective)
            });
            Ok(if violation { EXIT_VIOLATION } else { EXIT_OK })
        }
        Command::Plan { setup, at, output } => {
            let at = parse_instant(&at, "--at")?;
            let loaded = load(&setup, color)?;
            let engine = loaded.engine(&setup)?;
            let parties: Vec<String> = if setup.parties.is_empty() {
                loaded.treaty.parties.clone()
            } else {
                setup.parties.clone()
            };
            let mut plans = Vec::new();
            for party in &parties {
                if !loaded.treaty.parties.contains(party) {
                    return Err(Exit::invalid(format!(
                        "error: the treaty has no party `{party}`; its parties are {}",
                        loaded.treaty.parties.join(", ")
                    )));
                }
                plans.push(engine.plan(party, at));
            }
            match output.format {
                Format::Json => println!("{}", to_json(&plans)?),
                Format::Csv => print!("{}", tables::plan_csv(&plans)),
                Format::Table => print!(
                    "{}",
                    tables::plan_table(&plans, std::io::stdout().is_terminal())
                ),
            }
            Ok(EXIT_OK)
        }
        Command::Demo {
            chart,
            no_serve,
            data,
        } => demo::run(chart, no_serve, data),
        Command::Gen(args) => generator::run(&args),
        Command::Keygen { data } => node_cmd::keygen(&data),
        Command::Init {
            treaty,
            party,
            network,
            data,
        } => node_cmd::init(&treaty, &party, &network, &data),
        Command::Submit { data, files } => node_cmd::submit(&data, &files),
        Command::Sync { data } => node_cmd::sync(&data),
        Command::Serve {
            data,
            listen,
            sync_every_ms,
        } => node_cmd::serve(&data, listen.as_deref(), sync_every_ms),
        Command::Log(command) => node_cmd::log(&command),
        Command::User(command) => node_cmd::user(&command),
        Command::Principal(command) => letter_cmd::principal_cmd(&command),
        Command::Letter(command) => letter_cmd::letter(&command),
        Command::Escrow(command) => verify_cmd::escrow(&command),
        Command::Inspect(command) => verify_cmd::inspect(&command),
        Command::Prove(command) => verify_cmd::prove(&command),
        Command::Receipt {
            data,
            index,
            party,
            out,
        } => node_cmd::receipt(&data, party.as_deref(), index, &out),
        Command::VerifyReceipt {
            proof,
            entry,
            network,
        } => node_cmd::verify_receipt_cmd(&proof, &entry, &network),
    }
}

/// The treaty and facts a command names: files, or a node's logs.
fn load(setup: &Setup, color: bool) -> Result<inputs::Loaded, Exit> {
    match &setup.node {
        Some(dir) => node_cmd::load_from_node(dir),
        None => inputs::load(setup, color),
    }
}

/// Refuses a `--party` the treaty does not name, rather than silently printing nothing.
fn check_parties(setup: &Setup, loaded: &inputs::Loaded) -> Result<(), Exit> {
    for party in &setup.parties {
        if !loaded.treaty.parties.contains(party) {
            let help = detente_lang::suggest::did_you_mean_help(
                party,
                loaded.treaty.parties.iter().map(String::as_str),
            )
            .unwrap_or_else(|| format!("its parties are {}", loaded.treaty.parties.join(", ")));
            return Err(Exit::invalid(format!(
                "error: the treaty has no party `{party}`\n  help: {help}"
            )));
        }
    }
    Ok(())
}

fn to_json<T: serde::Serialize>(value: &T) -> Result<String, Exit> {
    serde_json::to_string_pretty(value)
        .map_err(|e| Exit::internal(format!("error: internal error: {e}")))
}

pub fn parse_instant(text: &str, flag: &str) -> Result<Instant, Exit> {
    Instant::parse(text.trim()).ok_or_else(|| {
        Exit::invalid(format!(
            "error: `{flag} {text}` is not a date or instant\n  help: write a date as `1980-01-01` or an instant in UTC as `1980-01-01T12:00:00Z`"
        ))
    })
}

pub fn parse_date(text: &str, flag: &str) -> Result<Date, Exit> {
    Date::parse(text.trim()).ok_or_else(|| {
        Exit::invalid(format!(
            "error: `{flag} {text}` is not a date\n  help: write it as `1979-10-01`"
        ))
    })
}

fn parse_duration(text: &str) -> Result<Duration, Exit> {
    let text = text.trim();
    let split = text
        .find(|c: char| !c.is_ascii_digit())
        .unwrap_or(text.len());
    let count = text
        .get(..split)
        .and_then(|n| n.parse::<i64>().ok())
        .filter(|n| *n > 0);
    let unit = text
        .get(split..)
        .and_then(|u| TimeUnit::from_word(u.trim()));
    match (count, unit) {
        (Some(count), Some(unit)) => Ok(Duration::new(count, unit)),
        _ => Err(Exit::invalid(format!(
            "error: `--every {text}` is not a duration\n  help: write it as `1 month`, `6 months`, `1 year` or `30 days`"
        ))),
    }
}

fn write_chart(
    engine: &Engine<'_, '_>,
    loaded: &inputs::Loaded,
    path: &std::path::Path,
    at: Instant,
) -> Result<(), Exit> {
    // Chart the span from entry into force (or ten years back) to the instant assessed.
    let from = loaded
        .treaty
        .in_force
        .map(Date::start)
        .filter(|f| *f < at)
        .or_else(|| at.checked_sub(Duration::new(10, TimeUnit::Year)))
        .unwrap_or(at);
    let timeline = engine.timeline(from, at, Duration::new(1, TimeUnit::Month));
    chart::write(path, &timeline).map_err(Exit::internal)
}

/// The demo: the letter's framework on its 1977–1983 scenario.
#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_parse() {
        assert!(
            matches!(parse_duration("1 month"), Ok(d) if d == Duration::new(1, TimeUnit::Month))
        );
        assert!(matches!(parse_duration("30days"), Ok(d) if d == Duration::new(30, TimeUnit::Day)));
        assert!(parse_duration("month").is_err());
        assert!(parse_duration("0 days").is_err());
    }
}
