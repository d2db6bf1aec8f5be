//! The node commands: `keygen`, `init`, `submit`, `sync`, `serve`, `log`, `receipt`,
//! `verify-receipt`, and reading a node's logs for `assess --node`.

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as BASE64;
use clap::{Args, Subcommand};
use detente_ledger::entry::{Entry, EntryKind};
use detente_ledger::note::Verifier;
use detente_ledger::receipt::{Receipt, verify_receipt};
use detente_node::home::{Home, generate_key};
use detente_node::network::{Network, encode_key};
use detente_node::{Node, SystemClock};
use detente_store::SqliteStore;
use std::io::IsTerminal;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use crate::{EXIT_OK, EXIT_VIOLATION, Exit, inputs};

#[derive(Debug, Args)]
pub struct DataDir {
    /// The node's data folder.
    #[arg(long = "data", value_name = "DIR")]
    pub dir: PathBuf,
}

#[derive(Debug, Subcommand)]
pub enum LogCommand {
    /// Recompute every log from its stored bytes: every entry, checkpoint and cosignature.
    Verify {
        #[command(flatten)]
        data: DataDir,
        /// Print the result as JSON.
        #[arg(long)]
        json: bool,
    },
    /// Show each log's checkpoint and cosignatures, and its latest entries.
    Show {
        #[command(flatten)]
        data: DataDir,
        /// Only this party's log.
        #[arg(long)]
        party: Option<String>,
        /// How many of the latest entries to list per log.
        #[arg(long, default_value_t = 10)]
        last: u64,
    },
}

fn runtime() -> Result<tokio::runtime::Runtime, Exit> {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .map_err(|e| Exit::internal(format!("error: cannot start the runtime: {e}")))
}

fn home_error(e: impl std::fmt::Display) -> Exit {
    Exit::invalid(format!("error: {e}"))
}

/// Opens a node on its data folder's SQLite store.
pub async fn open_node(dir: &Path) -> Result<(Home, Node<SqliteStore>), Exit> {
    let home = Home::open(dir).map_err(home_error)?;
    let store = SqliteStore::open(&home.store_path())
        .await
        .map_err(|e| Exit::internal(format!("error: {e}")))?;
    let node = Node::open(&home, store, Arc::new(SystemClock))
        .await
        .map_err(|e| Exit::internal(format!("error: {e}")))?;
    Ok((home, node))
}

pub fn keygen(data: &DataDir) -> Result<u8, Exit> {
    let public = generate_key(&data.dir).map_err(home_error)?;
    println!("{}", encode_key(&public));
    eprintln!(
        "made a node key in {}; put the line above as `node_key` for this party in the network file",
        data.dir.display()
    );
    Ok(EXIT_OK)
}

#[derive(Debug, Subcommand)]
pub enum UserCommand {
    /// Add an operator and print its token (shown once; only its hash is kept).
    Add {
        name: String,
        /// viewer (reads), analyst (also submits observations), officer (also the party's
        /// own declarations and notifications), admin (also manages operators).
        #[arg(long)]
        role: String,
        #[command(flatten)]
        data: DataDir,
    },
    /// List the operators and their roles.
    List {
        #[command(flatten)]
        data: DataDir,
    },
    /// Remove an operator (its token stops working at once).
    Remove {
        name: String,
        #[command(flatten)]
        data: DataDir,
    },
}

pub fn user(command: &UserCommand) -> Result<u8, Exit> {
    use detente_node::Store as _;
    use detente_node::users::{Role, add_user};
    runtime()?.block_on(async {
        match command {
            UserCommand::Add { name, role, data } => {
                let role = Role::parse(role).ok_or_else(|| {
                    Exit::invalid(format!(
                        "error: `{role}` is not a role\n  help: the roles are viewer, analyst, officer, admin"
                    ))
                })?;
                let (_, node) = open_node(&data.dir).await?;
                let token = add_user(node.store(), name, role, node.clock().now_ms())
                    .await
                    .map_err(|e| Exit::invalid(format!("error: {e}")))?;
                println!("{token}");
                eprintln!(
                    "added {name} ({role}); the line above is its token, shown only now: give it to {name}"
                );
                Ok(EXIT_OK)
            }
            UserCommand::List { data } => {
                let (_, node) = open_node(&data.dir).await?;
                let users = node
                    .store()
                    .users()
                    .await
                    .map_err(|e| Exit::internal(format!("error: {e}")))?;
                for u in users {
                    let since = detente_lang::time::Instant::from_unix_seconds(
                        u.created_at_ms.div_euclid(1000),
                    );
                    println!("{:<24} {:<8} since {since}", u.name, u.role);
                }
                Ok(EXIT_OK)
            }
            UserCommand::Remove { name, data } => {
                let (_, node) = open_node(&data.dir).await?;
                let removed = node
                    .store()
                    .remove_user(name)
                    .await
                    .map_err(|e| Exit::internal(format!("error: {e}")))?;
                if removed {
                    println!("removed {name}");
                    Ok(EXIT_OK)
                } else {
                    Err(Exit::invalid(format!("error: there is no operator `{name}`")))
                }
            }
        }
    })
}

pub fn init(treaty: &Path, party: &str, network: &Path, data: &DataDir) -> Result<u8, Exit> {
    let home = Home::init(&data.dir, treaty, party, network).map_err(home_error)?;
    runtime()?.block_on(async {
        let (_, node) = open_node(&home.dir).await?;
        println!(
            "node {} ready in {}\n  log      {}\n  listens  {}\n  treaty   {} (sha256 {})",
            node.party(),
            home.dir.display(),
            node.origin(),
            home.node.listen,
            home.node.treaty,
            home.treaty.source_sha256
        );
        Ok(EXIT_OK)
    })
}

/// A spinner on a terminal (nothing otherwise) while a long operation runs.
fn spinner(message: String) -> indicatif::ProgressBar {
    if std::io::stderr().is_terminal() {
        let bar = indicatif::ProgressBar::new_spinner().with_message(message);
        bar.enable_steady_tick(Duration::from_millis(120));
        bar
    } else {
        indicatif::ProgressBar::hidden()
    }
}

/// Splits a file's text into parts of whole lines, each at most `limit` bytes (a single
/// longer line is a part of its own, which the node then refuses by name), with the
/// number of each part's first line.
fn parts(text: &str, limit: usize) -> Vec<(u64, &str)> {
    let mut parts = Vec::new();
    let (mut start, mut first_line, mut line) = (0usize, 1u64, 1u64);
    let mut end = 0usize;
    for piece in text.split_inclusive('\n') {
        if end > start && end - start + piece.len() > limit {
            parts.push((first_line, text.get(start..end).unwrap_or("")));
            start = end;
            first_line = line;
        }
        end += piece.len();
        line += 1;
    }
    if end > start {
        parts.push((first_line, text.get(start..end).unwrap_or("")));
    }
    parts
}

pub fn submit(data: &DataDir, files: &[PathBuf]) -> Result<u8, Exit> {
    runtime()?.block_on(async {
        let (_, node) = open_node(&data.dir).await?;
        for file in files {
            let name = file.display().to_string();
            let bytes = std::fs::read(file)
                .map_err(|e| Exit::invalid(format!("error: cannot read `{name}`: {e}")))?;
            let text = String::from_utf8(bytes).map_err(|e| {
                Exit::invalid(format!(
                    "error: `{name}` is not UTF-8 text (byte {})",
                    e.utf8_error().valid_up_to()
                ))
            })?;
            // A large file goes in parts the node accepts, each appended atomically.
            for (first_line, part) in parts(&text, detente_node::node::MAX_SUBMISSION_BYTES) {
                let bar = spinner(format!(
                    "checking and appending {name} from line {first_line}"
                ));
                let submitted = node.submit_part(part, &name, first_line, None).await;
                bar.finish_and_clear();
                let submitted = submitted.map_err(|e| match e {
                    detente_node::NodeError::Rejected(_) => Exit::invalid(format!("error: {e}")),
                    other => Exit::internal(format!("error: {other}")),
                })?;
                println!(
                    "{name}: appended {} entries ({}..{}), {} already in the log; log size {}",
                    submitted.appended,
                    submitted.first_index,
                    submitted.first_index + submitted.appended,
                    submitted.already_logged,
                    submitted.size
                );
            }
        }
        Ok(EXIT_OK)
    })
}

pub fn sync(data: &DataDir) -> Result<u8, Exit> {
    runtime()?.block_on(async {
        let (_, node) = open_node(&data.dir).await?;
        let peers = detente_node::sync::http_peers(&node)
            .map_err(|e| Exit::internal(format!("error: {e}")))?;
        let mut failed = false;
        let bar = spinner("mirroring".to_owned());
        let results = detente_node::sync::mirror_all(&node, &peers).await;
        bar.finish_and_clear();
        for (party, result) in results {
            match result {
                Ok(m) => println!(
                    "{party}: {} entries → {}{}",
                    m.from_size,
                    m.to_size,
                    if m.cosignature_delivered {
                        ", cosigned"
                    } else {
                        ", cosignature not delivered"
                    }
                ),
                Err(e) => {
                    failed = true;
                    eprintln!("{party}: {e}");
                }
            }
        }
        Ok(if failed { EXIT_VIOLATION } else { EXIT_OK })
    })
}

pub fn serve(data: &DataDir, listen: Option<&str>, every_ms: u64) -> Result<u8, Exit> {
    init_tracing();
    runtime()?.block_on(async {
        let (home, node) = open_node(&data.dir).await?;
        let node = Arc::new(node);
        let state = Arc::new(detente_server::AppState::new(node.clone()));
        let app = detente_server::router(state);
        let address = listen.unwrap_or(&home.node.listen).to_owned();
        let listener = tokio::net::TcpListener::bind(&address)
            .await
            .map_err(|e| Exit::invalid(format!("error: cannot listen on {address}: {e}")))?;
        let bound = listener
            .local_addr()
            .map(|a| a.to_string())
            .unwrap_or(address);
        println!("node {} serving on http://{bound}", node.party());
        let peers = detente_node::sync::http_peers(&node)
            .map_err(|e| Exit::internal(format!("error: {e}")))?;
        let (stop_tx, stop_rx) = tokio::sync::watch::channel(false);
        let mirror = tokio::spawn(detente_node::sync::mirror_forever(
            node.clone(),
            peers,
            Duration::from_millis(every_ms.max(50)),
            Duration::from_secs(60),
            wait_for(stop_rx.clone()),
        ));
        let served = axum::serve(listener, app)
            .with_graceful_shutdown(async move {
                shutdown_signal().await;
                let _ = stop_tx.send(true);
            })
            .await;
        let _ = mirror.await;
        served.map_err(|e| Exit::internal(format!("error: the server stopped: {e}")))?;
        Ok(EXIT_OK)
    })
}

/// Ctrl-C, or SIGTERM (what service managers send).
pub async fn shutdown_signal() {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        if let Ok(mut term) = signal(SignalKind::terminate()) {
            tokio::select! {
                _ = tokio::signal::ctrl_c() => {}
                _ = term.recv() => {}
            }
            return;
        }
    }
    let _ = tokio::signal::ctrl_c().await;
}

async fn wait_for(mut stop: tokio::sync::watch::Receiver<bool>) {
    while !*stop.borrow() {
        if stop.changed().await.is_err() {
            return;
        }
    }
}

/// Logs to standard error: text by default, one JSON object per line with
/// `DETENTE_LOG_FORMAT=json` (for a log collector); the level or filter is `DETENTE_LOG`
/// (`info` by default, e.g. `debug` or `detente_server=debug`).
fn init_tracing() {
    use tracing_subscriber::EnvFilter;
    let filter = EnvFilter::try_from_env("DETENTE_LOG").unwrap_or_else(|_| EnvFilter::new("info"));
    let json = std::env::var("DETENTE_LOG_FORMAT").is_ok_and(|f| f.eq_ignore_ascii_case("json"));
    if json {
        let _ = tracing_subscriber::fmt()
            .json()
            .with_current_span(true)
            .with_span_list(false)
            .with_env_filter(filter)
            .with_writer(std::io::stderr)
            .try_init();
    } else {
        let _ = tracing_subscriber::fmt()
            .with_env_filter(filter)
            .with_ansi(std::io::stderr().is_terminal())
            .with_writer(std::io::stderr)
            .try_init();
    }
}

pub fn log(command: &LogCommand) -> Result<u8, Exit> {
    match command {
        LogCommand::Verify { data, json } => log_verify(&data.dir, *json),
        LogCommand::Show { data, party, last } => log_show(&data.dir, party.as_deref(), *last),
    }
}

fn log_verify(dir: &Path, json: bool) -> Result<u8, Exit> {
    runtime()?.block_on(async {
        // Open the store only: a damaged store must still be checked, not refused.
        let home = Home::open(dir).map_err(home_error)?;
        let store = SqliteStore::open(&home.store_path())
            .await
            .map_err(|e| Exit::internal(format!("error: {e}")))?;
        let tty = std::io::stderr().is_terminal();
        let bar = indicatif::ProgressBar::new(0);
        if !tty {
            bar.set_draw_target(indicatif::ProgressDrawTarget::hidden());
        }
        let checked =
            detente_node::verify::check_store(&store, &home.network, |origin, done, total| {
                bar.set_length(total);
                bar.set_position(done);
                bar.set_message(origin.to_owned());
            })
            .await
            .map_err(|e| Exit::internal(format!("error: {e}")))?;
        bar.finish_and_clear();
        if json {
            println!("{}", crate::to_json(&checked)?);
        } else {
            for log in &checked.logs {
                let status = if log.problems.is_empty() {
                    "ok"
                } else {
                    "DAMAGED"
                };
                println!(
                    "{}: {status}: {} entries, {} checkpoints, {} cosignatures, root {}",
                    log.origin, log.entries, log.checkpoints, log.cosignatures, log.root
                );
                for problem in &log.problems {
                    println!("  {problem}");
                }
                if log.more_problems > 0 {
                    println!("  … and {} more problems", log.more_problems);
                }
            }
            if checked.equivocations > 0 {
                println!(
                    "{} equivocation{} recorded (see `detente log show`)",
                    checked.equivocations,
                    if checked.equivocations == 1 { "" } else { "s" }
                );
            }
        }
        Ok(if checked.is_clean() {
            EXIT_OK
        } else {
            EXIT_VIOLATION
        })
    })
}

/// One line about an entry: its index, time, kind and what it says.
fn describe_entry(bytes: &[u8]) -> String {
    match Entry::decode(bytes) {
        Err(e) => format!("(undecodable: {e})"),
        Ok(entry) => {
            let time = detente_lang::time::Instant::from_unix_seconds(
                entry.appended_at_ms.div_euclid(1000),
            );
            let what = match entry.kind {
                EntryKind::Fact => serde_json::from_slice::<serde_json::Value>(&entry.body)
                    .ok()
                    .map(|v| {
                        let field = |name: &str| v.get(name).and_then(|x| x.as_str()).unwrap_or("");
                        format!("{} {}", field("kind"), field("id"))
                    })
                    .unwrap_or_else(|| "fact (not JSON)".to_owned()),
                EntryKind::Letter => format!("letter ({} bytes, sealed)", entry.body.len()),
                EntryKind::Verification => {
                    // Each record starts with its domain tag, `detente-escrow/<record>/v1`.
                    let tag = entry
                        .body
                        .windows(3)
                        .position(|w| w == b"/v1")
                        .and_then(|end| entry.body.get(..end + 3))
                        .map(String::from_utf8_lossy)
                        .unwrap_or_default();
                    format!("verification record {tag} ({} bytes)", entry.body.len())
                }
            };
            format!("{:>8}  {time}  {what}", entry.index)
        }
    }
}

fn log_show(dir: &Path, party: Option<&str>, last: u64) -> Result<u8, Exit> {
    runtime()?.block_on(async {
        let (_, node) = open_node(dir).await?;
        if let Some(p) = party {
            known_party(&node, p)?;
        }
        use detente_node::Store as _;
        let heads = node.log_heads().await;
        for (origin, size, root, frozen) in heads {
            if party.is_some_and(|p| node.network().origin(p) != origin) {
                continue;
            }
            println!(
                "{origin}{}: {size} entries, root {}",
                if origin == node.origin() {
                    " (own)"
                } else {
                    " (mirror)"
                },
                BASE64.encode(root)
            );
            if frozen {
                println!("  FROZEN after an equivocation");
            }
            let cosignatures = node
                .store()
                .cosignatures(&origin)
                .await
                .map_err(|e| Exit::internal(format!("error: {e}")))?;
            for c in cosignatures.iter().filter(|c| c.size == size) {
                let at = detente_lang::time::Instant::from_unix_seconds(
                    i64::try_from(c.timestamp).unwrap_or(i64::MAX),
                );
                println!("  cosigned by {} at {at}", c.cosigner);
            }
            let entries = node
                .store()
                .entries(&origin, size.saturating_sub(last), size)
                .await
                .map_err(|e| Exit::internal(format!("error: {e}")))?;
            for entry in entries {
                println!("  {}", describe_entry(&entry.bytes));
            }
        }
        for e in node
            .equivocations()
            .await
            .map_err(|e| Exit::internal(format!("error: {e}")))?
        {
            println!("\nEQUIVOCATION by {}: {}", e.origin, e.detail);
            println!("  held checkpoint:\n{}", indent(&e.held_note));
            println!("  conflicting checkpoint:\n{}", indent(&e.conflicting_note));
        }
        Ok(EXIT_OK)
    })
}

/// Refuses a party the network file does not name.
fn known_party(node: &Node<SqliteStore>, party: &str) -> Result<(), Exit> {
    let network = node.network();
    if network.party(party).is_some() {
        return Ok(());
    }
    let names: Vec<&str> = network.parties.iter().map(|p| p.name.as_str()).collect();
    let help = detente_lang::suggest::did_you_mean_help(party, names.iter().copied())
        .unwrap_or_else(|| format!("the network's parties are {}", names.join(", ")));
    Err(Exit::invalid(format!(
        "error: the network has no party `{party}`\n  help: {help}"
    )))
}

fn indent(text: &str) -> String {
    text.lines()
        .map(|l| format!("    {l}"))
        .collect::<Vec<_>>()
        .join("\n")
}

pub fn receipt(data: &DataDir, party: Option<&str>, index: u64, out: &Path) -> Result<u8, Exit> {
    runtime()?.block_on(async {
        let (_, node) = open_node(&data.dir).await?;
        let origin = match party {
            Some(p) => {
                known_party(&node, p)?;
                node.network().origin(p)
            }
            None => node.origin().to_owned(),
        };
        let (entry, receipt) = node.receipt(&origin, index).await.map_err(|e| match e {
            detente_node::NodeError::NotFound(_) => Exit::invalid(format!("error: {e}")),
            other => Exit::internal(format!("error: {other}")),
        })?;
        let proof_path = out.with_extension("proof");
        let entry_path = out.with_extension("entry");
        std::fs::write(&proof_path, receipt.format())
            .and_then(|()| std::fs::write(&entry_path, &entry))
            .map_err(|e| Exit::internal(format!("error: cannot write the receipt: {e}")))?;
        println!(
            "receipt for entry {index} of {origin}\n  proof  {}\n  entry  {}\ncheck it anywhere with\n  detente verify-receipt --proof {} --entry {} --network network.toml",
            proof_path.display(),
            entry_path.display(),
            proof_path.display(),
            entry_path.display()
        );
        Ok(EXIT_OK)
    })
}

pub fn verify_receipt_cmd(proof: &Path, entry: &Path, network: &Path) -> Result<u8, Exit> {
    let text = detente_node::home::read_text(proof).map_err(home_error)?;
    let receipt = Receipt::parse(&text)
        .map_err(|e| Exit::invalid(format!("error: {}: {e}", proof.display())))?;
    let entry_bytes = std::fs::read(entry)
        .map_err(|e| Exit::invalid(format!("error: cannot read `{}`: {e}", entry.display())))?;
    let network_text = detente_node::home::read_text(network).map_err(home_error)?;
    let network =
        Network::parse(&network_text, &network.display().to_string()).map_err(home_error)?;
    let decoded = Entry::decode(&entry_bytes)
        .map_err(|e| Exit::invalid(format!("error: {}: {e}", entry.display())))?;
    let log: Verifier = network
        .party_of_origin(&decoded.origin)
        .and_then(|p| network.log_verifier(p))
        .ok_or_else(|| {
            Exit::invalid(format!(
                "error: the entry belongs to log {}, which the network file does not list",
                decoded.origin
            ))
        })?;
    match verify_receipt(&receipt, &entry_bytes, &log, &network.cosigner_verifiers()) {
        Ok(verified) => {
            println!(
                "valid: entry {} of {} is in the log at size {}",
                verified.index, verified.origin, verified.size
            );
            println!("  {}", describe_entry(&entry_bytes).trim_start());
            for (cosigner, time) in &verified.cosigned_by {
                let at = detente_lang::time::Instant::from_unix_seconds(
                    i64::try_from(*time).unwrap_or(i64::MAX),
                );
                println!("  cosigned by {cosigner} at {at}");
            }
            Ok(EXIT_OK)
        }
        Err(e) => {
            println!("INVALID: {e}");
            Ok(EXIT_VIOLATION)
        }
    }
}

/// The verified limit proofs in a node's logs.
pub fn limit_proofs(dir: &Path) -> Result<Vec<detente_node::verification::ProofState>, Exit> {
    runtime()?.block_on(async {
        let (_, node) = open_node(dir).await?;
        let state = node
            .verification_state(&detente_node::verification::StateOptions::default())
            .await
            .map_err(|e| Exit::internal(format!("error: {e}")))?;
        Ok(state.limit_proofs)
    })
}

/// The facts in a node's logs, as `assess`, `timeline` and `plan` read them.
pub fn load_from_node(dir: &Path) -> Result<inputs::Loaded, Exit> {
    runtime()?.block_on(async {
        let (home, node) = open_node(dir).await?;
        let facts = node
            .log_facts()
            .await
            .map_err(|e| Exit::internal(format!("error: {e}")))?;
        for problem in &facts.problems {
            eprintln!("warning: {problem}");
        }
        Ok(inputs::Loaded {
            treaty: home.treaty.treaty.clone(),
            facts: std::mem::ManuallyDrop::new(facts.facts.clone()),
            zones: home.treaty.zones.clone(),
            provenance: detente_assess::engine::Provenance {
                source_sha256: home.treaty.source_sha256.clone(),
                inputs: facts.inputs.clone(),
            },
        })
    })
}

#[cfg(test)]
mod tests {
    use super::parts;

    #[test]
    fn large_files_are_cut_at_line_ends_and_keep_their_line_numbers() {
        let text = "aaaa\nbbbb\ncccc\ndddd\n";
        assert_eq!(
            parts(text, 10),
            vec![(1, "aaaa\nbbbb\n"), (3, "cccc\ndddd\n")]
        );
        assert_eq!(parts(text, 100), vec![(1, text)]);
        assert_eq!(
            parts("a-very-long-line\nx", 4),
            vec![(1, "a-very-long-line\n"), (2, "x")]
        );
        assert!(parts("", 4).is_empty());
    }
}
