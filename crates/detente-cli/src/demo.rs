//! `detente demo`: two real nodes, US and USSR, on loopback ports in a data folder of their
//! own, each holding its party's share of the Carter-1977 scenario in its own log. They
//! mirror and cosign each other's logs; the findings are computed from the logs (and the
//! two nodes are checked to agree byte for byte); then both serve their API and dashboard
//! until interrupted (`--no-serve` prints and exits).

use detente_node::home::{Home, generate_key};
use detente_node::network::encode_key;
use detente_node::users::{Role, add_user};
use detente_node::{Node, SystemClock};
use detente_store::SqliteStore;
use std::io::IsTerminal;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use crate::{EXIT_OK, ErrorFormat, Exit, Setup, inputs, parse_instant, tables};
use detente_lang::time::{Duration as TreatyDuration, TimeUnit};

/// The parties of the demo, in the order their nodes are made.
const PARTIES: [&str; 2] = ["US", "USSR"];

fn internal(e: impl std::fmt::Display) -> Exit {
    Exit::internal(format!("error: demo: {e}"))
}

/// The scenario's records, split by the party that speaks for each (`observer` for an
/// observation, `party` otherwise): each node writes only its own party's facts.
fn split_by_party(text: &str) -> Result<[String; 2], Exit> {
    let mut shares = [String::new(), String::new()];
    for (number, line) in text.lines().enumerate() {
        if line.trim().is_empty() {
            continue;
        }
        let record: serde_json::Value = serde_json::from_str(line)
            .map_err(|e| Exit::invalid(format!("error: scenario line {}: {e}", number + 1)))?;
        let field = if record.get("kind").and_then(|k| k.as_str()) == Some("observation") {
            "observer"
        } else {
            "party"
        };
        let who = record.get(field).and_then(|p| p.as_str()).unwrap_or("");
        let Some(share) = PARTIES
            .iter()
            .position(|p| *p == who)
            .and_then(|i| shares.get_mut(i))
        else {
            return Err(Exit::invalid(format!(
                "error: scenario line {}: `{field}` is `{who}`, not a party of the demo",
                number + 1
            )));
        };
        share.push_str(line);
        share.push('\n');
    }
    Ok(shares)
}

/// One node of the demo, serving on its own listener.
struct DemoNode {
    party: &'static str,
    node: Arc<Node<SqliteStore>>,
    url: String,
    officer_token: String,
    dir: PathBuf,
}

async fn make_nodes(
    dir: &Path,
    treaty: &Path,
    listeners: &[tokio::net::TcpListener; 2],
) -> Result<Vec<DemoNode>, Exit> {
    let mut keys = Vec::new();
    let mut urls = Vec::new();
    for (party, listener) in PARTIES.iter().zip(listeners) {
        let folder = dir.join(party.to_lowercase());
        keys.push(generate_key(&folder).map_err(internal)?);
        let port = listener.local_addr().map_err(internal)?.port();
        urls.push(format!("http://127.0.0.1:{port}"));
    }
    let mut network = String::from("treaty = \"carter_1977\"\n");
    for ((party, key), url) in PARTIES.iter().zip(&keys).zip(&urls) {
        network.push_str(&format!(
            "\n[[party]]\nname = \"{party}\"\nurl = \"{url}\"\nnode_key = \"{}\"\n",
            encode_key(key)
        ));
    }
    let network_path = dir.join("network.toml");
    std::fs::write(&network_path, network).map_err(internal)?;
    let mut nodes = Vec::new();
    for (party, url) in PARTIES.iter().zip(urls) {
        let folder = dir.join(party.to_lowercase());
        let home = Home::init(&folder, treaty, party, &network_path).map_err(internal)?;
        let store = SqliteStore::open(&home.store_path())
            .await
            .map_err(internal)?;
        let node = Node::open(&home, store, Arc::new(SystemClock))
            .await
            .map_err(internal)?;
        let officer_token = add_user(node.store(), "office", Role::Officer, node.clock().now_ms())
            .await
            .map_err(internal)?;
        nodes.push(DemoNode {
            party,
            node: Arc::new(node),
            url,
            officer_token,
            dir: folder,
        });
    }
    Ok(nodes)
}

/// Findings at three dates, the reductions still owed and a chart, from the logs of `node`.
async fn print_findings(node: &Node<SqliteStore>, chart_path: &Path) -> Result<(), Exit> {
    let facts = node.log_facts().await.map_err(internal)?;
    let treaty = node.treaty();
    let loaded = inputs::Loaded {
        treaty: treaty.treaty.clone(),
        facts: std::mem::ManuallyDrop::new(facts.facts.clone()),
        zones: treaty.zones.clone(),
        provenance: detente_assess::engine::Provenance {
            source_sha256: treaty.source_sha256.clone(),
            inputs: facts.inputs.clone(),
        },
    };
    let setup = Setup {
        treaty: None,
        facts: Vec::new(),
        node: None,
        parties: Vec::new(),
        set: Vec::new(),
        assume_in_force: None,
        interpretation: None,
        error_format: ErrorFormat::Human,
    };
    let engine = loaded.engine(&setup)?;
    let tty = std::io::stdout().is_terminal();
    for date in ["1978-07-01", "1980-12-31", "1982-12-31"] {
        let at = parse_instant(date, "--at")?;
        let report = engine.assess(at);
        println!();
        println!("== Findings at {date} ==");
        print!("{}", tables::findings_table(&report, tty));
    }
    let at = parse_instant("1980-12-31", "--at")?;
    let plans: Vec<_> = loaded
        .treaty
        .parties
        .iter()
        .map(|p| engine.plan(p, at))
        .collect();
    println!();
    println!("== Reductions still owed, as of 1980-12-31 ==");
    print!("{}", tables::plan_table(&plans, tty));
    let start = parse_instant("1977-10-03", "--at")?;
    let end = parse_instant("1983-12-31", "--at")?;
    let timeline = engine.timeline(start, end, TreatyDuration::new(1, TimeUnit::Month));
    crate::chart::write(chart_path, &timeline).map_err(Exit::internal)?;
    println!();
    println!("chart: {}", chart_path.display());
    Ok(())
}

/// The report both nodes compute at `at`, as JSON; they must be the same bytes.
async fn agreed_report(nodes: &[DemoNode], at: &str) -> Result<String, Exit> {
    let at = parse_instant(at, "--at")?;
    let mut texts = Vec::new();
    for n in nodes {
        let report = n
            .node
            .report(at, &detente_assess::engine::Options::default())
            .await
            .map_err(internal)?;
        texts.push(crate::to_json(&report)?);
    }
    match texts.as_slice() {
        [first, rest @ ..] if rest.iter().all(|t| t == first) => Ok(first.clone()),
        _ => Err(Exit::internal(
            "error: demo: the two nodes computed different reports from the same logs (a bug)",
        )),
    }
}

pub fn run(chart: Option<PathBuf>, no_serve: bool, data: Option<PathBuf>) -> Result<u8, Exit> {
    let root = inputs::repo_root();
    let treaty = root.join("treaties/carter-1977.treaty");
    let facts_path = root.join("scenarios/carter-1977/facts.jsonl");
    let scenario = detente_node::home::read_text(&facts_path)
        .map_err(|e| Exit::invalid(format!("error: {e}")))?;
    let shares = split_by_party(&scenario)?;
    // The nodes' folders: a temporary one (removed at the end) unless --data names one.
    let temporary = match &data {
        Some(_) => None,
        None => Some(tempfile::tempdir().map_err(internal)?),
    };
    let dir = match (&data, &temporary) {
        (Some(dir), _) => {
            if dir.exists() && std::fs::read_dir(dir).map_err(internal)?.next().is_some() {
                return Err(Exit::invalid(format!(
                    "error: `{}` is not empty; the demo makes its nodes in a new folder",
                    dir.display()
                )));
            }
            dir.clone()
        }
        (None, Some(t)) => t.path().to_path_buf(),
        (None, None) => return Err(internal("no folder")),
    };
    let chart_path =
        chart.unwrap_or_else(|| std::env::temp_dir().join("detente-demo-carter-1977.svg"));

    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .map_err(internal)?;
    runtime.block_on(async {
        let listeners = [
            tokio::net::TcpListener::bind("127.0.0.1:0")
                .await
                .map_err(internal)?,
            tokio::net::TcpListener::bind("127.0.0.1:0")
                .await
                .map_err(internal)?,
        ];
        let nodes = make_nodes(&dir, &treaty, &listeners).await?;
        println!("detente demo: the framework of President Carter's letter of 4 March 1977");
        println!("treaty  {}", treaty.display());
        println!("facts   {}", facts_path.display());
        for (n, share) in nodes.iter().zip(&shares) {
            let source = format!("{} ({} records)", facts_path.display(), n.party);
            let submitted = n.node.submit(share, &source).await.map_err(internal)?;
            println!(
                "node {:<4} {}  log {} entries  data {}",
                n.party,
                n.url,
                submitted.size,
                n.dir.display()
            );
        }

        // Serve both, so that each can mirror the other over HTTP.
        let (stop_tx, stop_rx) = tokio::sync::watch::channel(false);
        let mut servers = Vec::new();
        for (n, listener) in nodes.iter().zip(listeners) {
            let app =
                detente_server::router(Arc::new(detente_server::AppState::new(n.node.clone())));
            let mut stop = stop_rx.clone();
            servers.push(tokio::spawn(async move {
                axum::serve(listener, app)
                    .with_graceful_shutdown(async move {
                        let _ = stop.wait_for(|stopped| *stopped).await;
                    })
                    .await
            }));
        }
        let mut peers = Vec::new();
        for n in &nodes {
            peers.push(detente_node::sync::http_peers(&n.node).map_err(internal)?);
        }
        for (n, peers) in nodes.iter().zip(&peers) {
            for (party, result) in detente_node::sync::mirror_all(&n.node, peers).await {
                let mirrored =
                    result.map_err(|e| internal(format!("{} mirroring {party}: {e}", n.party)))?;
                println!(
                    "node {:<4} mirrored {party}: {} entries, checked and cosigned",
                    n.party, mirrored.to_size
                );
            }
        }
        let report = agreed_report(&nodes, "1980-12-31").await?;
        println!(
            "both nodes compute the same report from the same checkpoints (sha256 {})",
            detente_node::home::sha256_hex(report.as_bytes())
        );
        let reader = nodes.first().ok_or_else(|| internal("no node"))?;
        print_findings(&reader.node, &chart_path).await?;

        if no_serve {
            let _ = stop_tx.send(true);
            for server in servers {
                let _ = server.await;
            }
            return Ok(EXIT_OK);
        }
        println!();
        println!("== The nodes are serving (Ctrl-C stops them) ==");
        for n in &nodes {
            println!(
                "{:<4} dashboard {}/  API {}/api/v1/report?at=1980-12-31",
                n.party, n.url, n.url
            );
            println!("     officer token (log in with it): {}", n.officer_token);
        }
        if temporary.is_some() {
            println!(
                "(the data folders are removed when the demo stops; keep them with --data DIR)"
            );
        }
        let mut loops = Vec::new();
        for (n, peers) in nodes.iter().zip(peers) {
            loops.push(tokio::spawn(detente_node::sync::mirror_forever(
                n.node.clone(),
                peers,
                Duration::from_secs(1),
                Duration::from_secs(30),
                {
                    let mut stop = stop_rx.clone();
                    async move {
                        let _ = stop.wait_for(|stopped| *stopped).await;
                    }
                },
            )));
        }
        crate::node_cmd::shutdown_signal().await;
        let _ = stop_tx.send(true);
        for task in loops {
            let _ = task.await;
        }
        for server in servers {
            let _ = server.await;
        }
        Ok(EXIT_OK)
    })
}

#[cfg(test)]
mod tests {
    use super::split_by_party;

    #[test]
    fn records_go_to_the_party_that_speaks_for_them() {
        let text = "{\"kind\":\"item\",\"party\":\"US\"}\n\n{\"kind\":\"observation\",\"observer\":\"USSR\",\"party\":\"US\"}\n";
        let Ok([us, ussr]) = split_by_party(text) else {
            unreachable!("the split succeeds")
        };
        assert_eq!(us.lines().count(), 1);
        assert!(ussr.contains("observer"));
        assert!(split_by_party("{\"kind\":\"item\",\"party\":\"FR\"}").is_err());
    }
}
