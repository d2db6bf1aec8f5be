//! End-to-end ledger figures for `docs/benchmarks.md`, on real SQLite files and real HTTP on
//! loopback:
//!
//! - durable appends to a node's own log, in batches (`Node::append_entries`: entry
//!   encoding, leaf hashes, tree, signed checkpoint, one SQLite transaction per batch);
//! - mirroring 100,000 entries from one node to another over HTTP (signed requests,
//!   checkpoint, consistency proof, pages of entries, checks, store, cosignature);
//! - verifying a log of 1,000,000 entries end to end (`detente log verify`'s
//!   `check_store`: read every entry back from SQLite, hash, decode, rebuild the tree,
//!   check every checkpoint signature and root).
//!
//! Run: `cargo bench -p detente-cli --bench ledger_e2e` (`LEDGER_E2E_ENTRIES` and
//! `LEDGER_E2E_MIRRORED` change the sizes). Prints one JSON object per figure.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::print_stdout,
    clippy::print_stderr
)]

use detente_ledger::entry::EntryKind;
use detente_node::home::{Home, generate_key};
use detente_node::network::encode_key;
use detente_node::{Node, SystemClock};
use detente_store::SqliteStore;
use std::path::Path;
use std::sync::Arc;
use std::time::Instant;

fn env_u64(name: &str, default: u64) -> u64 {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

/// A fact body of realistic size (~230 bytes), distinct per index.
fn body(index: u64) -> Vec<u8> {
    format!(
        r#"{{"kind":"item","attributes":{{"mirv":false,"type":"ss-19"}},"category":"icbm_launcher","from":"1979-01-01","id":"ussr-icbm-{index:07}","location":{{"lat":51.{:04},"lon":45.{:04}}},"party":"US"}}"#,
        index % 10_000,
        (index * 7) % 10_000
    )
    .into_bytes()
}

async fn homes(dir: &Path, ports: [u16; 2]) -> (Home, Home) {
    let treaty = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../treaties/carter-1977.treaty");
    let us = generate_key(&dir.join("us")).unwrap();
    let ussr = generate_key(&dir.join("ussr")).unwrap();
    let network = format!(
        "treaty = \"carter_1977\"\n\n[[party]]\nname = \"US\"\nurl = \"http://127.0.0.1:{}\"\nnode_key = \"{}\"\n\n[[party]]\nname = \"USSR\"\nurl = \"http://127.0.0.1:{}\"\nnode_key = \"{}\"\n",
        ports[0],
        encode_key(&us),
        ports[1],
        encode_key(&ussr)
    );
    let network_path = dir.join("network.toml");
    std::fs::write(&network_path, network).unwrap();
    let a = Home::init(&dir.join("us"), &treaty, "US", &network_path).unwrap();
    let b = Home::init(&dir.join("ussr"), &treaty, "USSR", &network_path).unwrap();
    (a, b)
}

fn report(name: &str, entries: u64, seconds: f64) {
    println!(
        "{{\"figure\":\"{name}\",\"entries\":{entries},\"seconds\":{seconds:.3},\"entries_per_second\":{:.0}}}",
        entries as f64 / seconds
    );
}

async fn append(node: &Node<SqliteStore>, from: u64, to: u64, batch: u64) {
    let mut next = from;
    while next < to {
        let end = to.min(next + batch);
        let entries = (next..end).map(|i| (EntryKind::Fact, body(i))).collect();
        node.append_entries(entries).await.unwrap();
        next = end;
    }
}

fn main() {
    let total = env_u64("LEDGER_E2E_ENTRIES", 1_000_000);
    let mirrored = env_u64("LEDGER_E2E_MIRRORED", 100_000).min(total);
    let batch = env_u64("LEDGER_E2E_BATCH", 1_000);
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    runtime.block_on(async {
        let dir = tempfile::tempdir().unwrap();
        let listeners = [
            tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap(),
            tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap(),
        ];
        let ports = [
            listeners[0].local_addr().unwrap().port(),
            listeners[1].local_addr().unwrap().port(),
        ];
        let (us_home, ussr_home) = homes(dir.path(), ports).await;
        let open = |home: Home| async move {
            let store = SqliteStore::open(&home.store_path()).await.unwrap();
            Arc::new(
                Node::open(&home, store, Arc::new(SystemClock))
                    .await
                    .unwrap(),
            )
        };
        let us = open(us_home.clone()).await;
        let ussr = open(ussr_home.clone()).await;
        let [us_listener, ussr_listener] = listeners;
        for (node, listener) in [(us.clone(), us_listener), (ussr.clone(), ussr_listener)] {
            let app = detente_server::router(Arc::new(detente_server::AppState::new(node)));
            tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
        }

        let started = Instant::now();
        append(&us, 0, mirrored, batch).await;
        report(
            &format!("append_batch_{batch}"),
            mirrored,
            started.elapsed().as_secs_f64(),
        );

        let peers = detente_node::sync::http_peers(&ussr).unwrap();
        let started = Instant::now();
        let results = detente_node::sync::mirror_all(&ussr, &peers).await;
        let seconds = started.elapsed().as_secs_f64();
        for (_, result) in &results {
            let mirrored_now = result.as_ref().unwrap();
            assert_eq!(mirrored_now.to_size, mirrored);
            assert!(mirrored_now.cosignature_delivered);
        }
        report("mirror_over_http", mirrored, seconds);

        let started = Instant::now();
        append(&us, mirrored, total, batch).await;
        report(
            &format!("append_batch_{batch}"),
            total - mirrored,
            started.elapsed().as_secs_f64(),
        );

        let checked_store = SqliteStore::open(&us_home.store_path()).await.unwrap();
        let started = Instant::now();
        let checked =
            detente_node::verify::check_store(&checked_store, &us_home.network, |_, _, _| {})
                .await
                .unwrap();
        let seconds = started.elapsed().as_secs_f64();
        assert!(checked.is_clean(), "{checked:?}");
        let own = checked
            .logs
            .iter()
            .find(|l| l.origin == us.origin())
            .unwrap();
        assert_eq!(own.entries, total);
        report("verify_log", total, seconds);
    });
}
