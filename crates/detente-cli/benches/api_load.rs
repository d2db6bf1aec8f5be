//! Load on the HTTP API of a node holding the CFE-scale facts (issue 5's targets), over
//! real HTTP on loopback:
//!
//! - the report endpoint at a fixed offered rate (open loop: request `i` is sent at
//!   `start + i / rate` whatever the answers before it, and its latency is counted from
//!   then, so a slow answer delays nobody's clock); p50, p90, p99 and max per run;
//! - submission throughput: batches of new item records of the node's own party, one
//!   `POST /api/v1/submit` after another, as an officer;
//! - the first report after a submission (the node reads its logs' facts again).
//!
//! Set-up (once per data folder): a network of the generated treaty's 30 parties, one
//! home each, sharing one SQLite file; each party's records of `facts.jsonl` are appended
//! to its own log with `Node::append_entries`, as canonical JSON (what `submit` would
//! append, without checking two million records one submission at a time). The node of
//! the first party then serves the router on 127.0.0.1.
//!
//! ```sh
//! target/release/detente gen --out bench/out/cfe --parties 30 --items 200000 \
//!     --records 2000000 --events 200000 --years 30 --seed 1990   # what bench/run.sh makes
//! cargo bench -p detente-cli --bench api_load
//! ```
//!
//! Environment: `API_LOAD_FACTS` (folder with `cfe.treaty` and `facts.jsonl`, default
//! `bench/out/cfe`, generated with the command above if absent), `API_LOAD_DATA` (the
//! node folders, kept between runs; default `bench/out/api_load`), `API_LOAD_RATE` (500),
//! `API_LOAD_SECONDS` (10), `API_LOAD_RUNS` (5), `API_LOAD_BATCH` (1000 records per
//! submission), `API_LOAD_BATCHES` (20). Prints one JSON object per figure.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    clippy::print_stdout,
    clippy::print_stderr
)]

use detente_ledger::entry::EntryKind;
use detente_node::home::{Home, generate_key};
use detente_node::network::encode_key;
use detente_node::users::{Role, add_user};
use detente_node::{Clock, Node, SystemClock};
use detente_store::SqliteStore;
use std::collections::BTreeMap;
use std::io::BufRead as _;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};

const ROOT: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../..");
/// Records appended per transaction while loading the facts.
const LOAD_BATCH: usize = 10_000;

fn env_u64(name: &str, default: u64) -> u64 {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

fn env_path(name: &str, default: &str) -> PathBuf {
    std::env::var(name).map_or_else(|_| Path::new(ROOT).join(default), PathBuf::from)
}

/// The generated facts, made with the command of `bench/run.sh` if absent.
fn facts_folder() -> PathBuf {
    let dir = env_path("API_LOAD_FACTS", "bench/out/cfe");
    if !dir.join("facts.jsonl").exists() {
        eprintln!("generating {} (detente gen)", dir.display());
        let status = std::process::Command::new(env!("CARGO_BIN_EXE_detente"))
            .args(["gen", "--out"])
            .arg(&dir)
            .args([
                "--parties",
                "30",
                "--items",
                "200000",
                "--records",
                "2000000",
                "--events",
                "200000",
                "--years",
                "30",
                "--seed",
                "1990",
            ])
            .status()
            .unwrap();
        assert!(status.success());
    }
    dir
}

/// The treaty's parties, from its `parties` line.
fn parties(treaty: &str) -> Vec<String> {
    let line = treaty
        .lines()
        .find_map(|l| l.trim().strip_prefix("parties "))
        .unwrap();
    line.split(',').map(|p| p.trim().to_owned()).collect()
}

/// The party a record speaks for.
fn speaker(record: &serde_json::Map<String, serde_json::Value>) -> String {
    let field = if record["kind"] == "observation" {
        "observer"
    } else {
        "party"
    };
    record[field].as_str().unwrap().to_owned()
}

/// The homes of every party (made once), and whether the store already holds the facts.
fn homes(data: &Path, facts: &Path, parties: &[String]) -> (Vec<Home>, bool) {
    let treaty = facts.join("cfe.treaty");
    let network = data.join("network.toml");
    if network.exists() {
        let homes = parties
            .iter()
            .map(|p| Home::open(&data.join(p)).unwrap())
            .collect();
        return (homes, data.join("loaded").exists());
    }
    std::fs::create_dir_all(data).unwrap();
    let mut text = "treaty = \"cfe_bench\"\n".to_owned();
    for p in parties {
        let key = generate_key(&data.join(p)).unwrap();
        text.push_str(&format!(
            "\n[[party]]\nname = \"{p}\"\nurl = \"http://127.0.0.1:9\"\nnode_key = \"{}\"\n",
            encode_key(&key)
        ));
    }
    std::fs::write(&network, text).unwrap();
    let homes = parties
        .iter()
        .map(|p| Home::init(&data.join(p), &treaty, p, &network).unwrap())
        .collect();
    (homes, false)
}

/// Appends every party's records to its own log, in the file's order.
async fn load(homes: &[Home], store: &SqliteStore, facts: &Path) {
    let started = Instant::now();
    let clock: Arc<dyn Clock> = Arc::new(SystemClock);
    let mut nodes = BTreeMap::new();
    for home in homes {
        let node = Node::open(home, store.clone(), clock.clone())
            .await
            .unwrap();
        nodes.insert(home.node.party.clone(), node);
    }
    let mut pending: BTreeMap<String, Vec<(EntryKind, Vec<u8>)>> = BTreeMap::new();
    let file = std::io::BufReader::with_capacity(1 << 20, std::fs::File::open(facts).unwrap());
    let mut total = 0u64;
    for line in file.lines() {
        let line = line.unwrap();
        if line.trim().is_empty() {
            continue;
        }
        let serde_json::Value::Object(record) = serde_json::from_str(&line).unwrap() else {
            panic!("not an object: {line}");
        };
        let party = speaker(&record);
        let list = pending.entry(party.clone()).or_default();
        list.push((
            EntryKind::Fact,
            detente_node::facts::canonical_json(&record),
        ));
        if list.len() >= LOAD_BATCH {
            let batch = std::mem::take(list);
            total += batch.len() as u64;
            nodes[&party].append_entries(batch).await.unwrap();
        }
    }
    for (party, batch) in pending {
        if !batch.is_empty() {
            total += batch.len() as u64;
            nodes[&party].append_entries(batch).await.unwrap();
        }
    }
    println!(
        "{{\"figure\":\"load_facts\",\"entries\":{total},\"seconds\":{:.1}}}",
        started.elapsed().as_secs_f64()
    );
}

/// Percentile `p` (0–100) of sorted durations, in milliseconds.
fn percentile(sorted: &[Duration], p: f64) -> f64 {
    if sorted.is_empty() {
        return f64::NAN;
    }
    let rank = ((p / 100.0) * sorted.len() as f64).ceil() as usize;
    sorted[rank.clamp(1, sorted.len()) - 1].as_secs_f64() * 1000.0
}

fn median(values: &mut [f64]) -> f64 {
    values.sort_by(f64::total_cmp);
    values[values.len() / 2]
}

/// One open-loop run against the report endpoint: (p50, p90, p99, max) in ms.
async fn report_run(
    client: &reqwest::Client,
    base: &str,
    token: &str,
    rate: u64,
    seconds: u64,
    dates: &[String],
) -> [f64; 4] {
    let count = rate * seconds;
    let interval = Duration::from_secs_f64(1.0 / rate as f64);
    let start = tokio::time::Instant::now() + Duration::from_millis(50);
    let mut tasks = Vec::with_capacity(count as usize);
    for i in 0..count {
        let due = start + interval * u32::try_from(i).unwrap();
        let url = format!(
            "{base}/api/v1/report?at={}",
            dates[i as usize % dates.len()]
        );
        let client = client.clone();
        let token = token.to_owned();
        tokio::time::sleep_until(due).await;
        tasks.push(tokio::spawn(async move {
            let response = client.get(&url).bearer_auth(token).send().await.unwrap();
            let status = response.status();
            let body = response.bytes().await.unwrap();
            assert!(
                status.is_success(),
                "{status}: {}",
                String::from_utf8_lossy(&body)
            );
            // From when the request was due, not when it left (no coordinated omission).
            due.elapsed()
        }));
    }
    let mut latencies = Vec::with_capacity(tasks.len());
    for task in tasks {
        latencies.push(task.await.unwrap());
    }
    let achieved = count as f64 / (start.elapsed().as_secs_f64());
    latencies.sort();
    let figures = [
        percentile(&latencies, 50.0),
        percentile(&latencies, 90.0),
        percentile(&latencies, 99.0),
        percentile(&latencies, 100.0),
    ];
    println!(
        "{{\"figure\":\"report_latency\",\"offered_rps\":{rate},\"requests\":{count},\"achieved_rps\":{achieved:.0},\"p50_ms\":{:.2},\"p90_ms\":{:.2},\"p99_ms\":{:.2},\"max_ms\":{:.2}}}",
        figures[0], figures[1], figures[2], figures[3]
    );
    figures
}

/// `n` new item records of `party`, ids starting at `first`.
fn new_items(party: &str, first: u64, n: u64) -> String {
    let models = ["t72", "t80", "m1", "leopard2"];
    (first..first + n)
        .map(|i| {
            format!(
                "{{\"kind\": \"item\", \"party\": \"{party}\", \"id\": \"{party}-bench-tank-{i:08}\", \"category\": \"battle_tank\", \"attributes\": {{\"model\": \"{}\", \"active_unit\": {}}}, \"from\": \"2020-06-01\"}}\n",
                models[(i % 4) as usize],
                i % 2 == 0
            )
        })
        .collect()
}

fn main() {
    let facts = facts_folder();
    let data = env_path("API_LOAD_DATA", "bench/out/api_load");
    let rate = env_u64("API_LOAD_RATE", 500);
    let seconds = env_u64("API_LOAD_SECONDS", 10);
    let runs = env_u64("API_LOAD_RUNS", 5);
    let batch = env_u64("API_LOAD_BATCH", 1000);
    let batches = env_u64("API_LOAD_BATCHES", 20);
    let treaty_text = std::fs::read_to_string(facts.join("cfe.treaty")).unwrap();
    let parties = parties(&treaty_text);
    let (homes, loaded) = homes(&data, &facts, &parties);
    let server = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .thread_name("server")
        .enable_all()
        .build()
        .unwrap();
    let client_runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .thread_name("client")
        .enable_all()
        .build()
        .unwrap();
    let home = homes[0].clone();
    // Every run starts from the store as loaded (submissions of earlier runs are undone).
    let base_copy = data.join("ledger.sqlite.loaded");
    if loaded {
        for suffix in ["-wal", "-shm"] {
            let _ = std::fs::remove_file(format!("{}{suffix}", home.store_path().display()));
        }
        std::fs::copy(&base_copy, home.store_path()).unwrap();
    }
    let (base, token, officer, node) = server.block_on(async {
        let mut store = SqliteStore::open(&home.store_path()).await.unwrap();
        if !loaded {
            load(&homes, &store, &facts.join("facts.jsonl")).await;
            // Closing checkpoints the WAL into the file, which is then copied whole.
            store.close().await;
            std::fs::copy(home.store_path(), &base_copy).unwrap();
            std::fs::write(data.join("loaded"), "").unwrap();
            store = SqliteStore::open(&home.store_path()).await.unwrap();
        }
        let started = Instant::now();
        let node = Arc::new(
            Node::open(&home, store, Arc::new(SystemClock))
                .await
                .unwrap(),
        );
        println!(
            "{{\"figure\":\"open_node\",\"seconds\":{:.2}}}",
            started.elapsed().as_secs_f64()
        );
        let now = node.clock().now_ms();
        let stamp = now.to_string();
        let token = add_user(
            node.store(),
            &format!("bench-viewer-{stamp}"),
            Role::Viewer,
            now,
        )
        .await
        .unwrap();
        let officer = add_user(
            node.store(),
            &format!("bench-officer-{stamp}"),
            Role::Officer,
            now,
        )
        .await
        .unwrap();
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let base = format!("http://{}", listener.local_addr().unwrap());
        let app = detente_server::router(Arc::new(detente_server::AppState::new(node.clone())));
        tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
        (base, token, officer, node)
    });
    let total_entries: u64 = server.block_on(node.log_heads()).iter().map(|h| h.1).sum();
    println!(
        "{{\"figure\":\"node\",\"logs\":{},\"entries\":{total_entries}}}",
        parties.len()
    );
    // Monthly instants over the treaty's 30 years.
    let dates: Vec<String> = (1991..2021)
        .flat_map(|y| (1..=12).map(move |m| format!("{y}-{m:02}-15")))
        .collect();
    client_runtime.block_on(async {
        // reqwest is built without a TLS provider of its own (STACK.md); plain HTTP here.
        let _ = rustls::crypto::ring::default_provider().install_default();
        let client = reqwest::Client::builder()
            .pool_max_idle_per_host(64)
            .build()
            .unwrap();
        // The first report reads every log's facts and indexes them.
        let started = Instant::now();
        let first = client
            .get(format!("{base}/api/v1/report?at=2007-07-15"))
            .bearer_auth(&token)
            .send()
            .await
            .unwrap();
        assert!(first.status().is_success());
        let bytes = first.bytes().await.unwrap().len();
        println!(
            "{{\"figure\":\"first_report\",\"seconds\":{:.2},\"bytes\":{bytes}}}",
            started.elapsed().as_secs_f64()
        );
        // Warm the connection pool and the engine.
        report_run(&client, &base, &token, rate, 1, &dates).await;
        let mut p50 = Vec::new();
        let mut p99 = Vec::new();
        for _ in 0..runs {
            let [a, _, c, _] = report_run(&client, &base, &token, rate, seconds, &dates).await;
            p50.push(a);
            p99.push(c);
        }
        println!(
            "{{\"figure\":\"report_latency_median_of_runs\",\"runs\":{runs},\"offered_rps\":{rate},\"p50_ms\":{:.2},\"p99_ms\":{:.2}}}",
            median(&mut p50),
            median(&mut p99)
        );

        // Submission: batches one after another.
        let own = node.party().to_owned();
        let first_id = node.clock().now_ms() as u64 * 1000;
        let mut rates = Vec::new();
        for round in 0..runs.min(3) {
            let started = Instant::now();
            let mut appended = 0u64;
            for b in 0..batches {
                let body = new_items(&own, first_id + (round * batches + b) * batch, batch);
                let response = client
                    .post(format!("{base}/api/v1/submit"))
                    .bearer_auth(&officer)
                    .body(body)
                    .send()
                    .await
                    .unwrap();
                let status = response.status();
                let answer: serde_json::Value = response.json().await.unwrap();
                assert!(status.is_success(), "{status}: {answer}");
                appended += answer["appended"].as_u64().unwrap();
            }
            let seconds = started.elapsed().as_secs_f64();
            let per_second = appended as f64 / seconds;
            rates.push(per_second);
            println!(
                "{{\"figure\":\"submit\",\"batch\":{batch},\"batches\":{batches},\"entries\":{appended},\"seconds\":{seconds:.2},\"entries_per_second\":{per_second:.0}}}"
            );
        }
        println!(
            "{{\"figure\":\"submit_median_of_runs\",\"entries_per_second\":{:.0}}}",
            median(&mut rates)
        );
        let started = Instant::now();
        let after = client
            .get(format!("{base}/api/v1/report?at=2020-07-15"))
            .bearer_auth(&token)
            .send()
            .await
            .unwrap();
        assert!(after.status().is_success());
        after.bytes().await.unwrap();
        println!(
            "{{\"figure\":\"first_report_after_submissions\",\"seconds\":{:.2}}}",
            started.elapsed().as_secs_f64()
        );
    });
}
