#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]
//! A node keeps what submissions are checked against between submissions (the bodies of
//! its own log's facts and the problems they have alone) instead of reading its log back
//! for each. These tests check that it answers exactly what checking against the whole log
//! read from the store answers (`facts::prepare_submission`), and that it sees entries
//! another process sharing the store appended meanwhile.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use detente_ledger::entry::{Entry, EntryKind};
use detente_node::home::{Home, generate_key};
use detente_node::memory_store::MemoryStore;
use detente_node::network::encode_key;
use detente_node::{Clock, ManualClock, Node, NodeError, Store};

const ROOT: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../..");
const US: &str = "detente/carter_1977/US";

fn home(dir: &Path) -> Home {
    let us = generate_key(&dir.join("us")).unwrap();
    let ussr = generate_key(&dir.join("ussr")).unwrap();
    let network = dir.join("network.toml");
    std::fs::write(
        &network,
        format!(
            "treaty = \"carter_1977\"\n\n\
             [[party]]\nname = \"US\"\nurl = \"http://127.0.0.1:9\"\nnode_key = \"{}\"\n\n\
             [[party]]\nname = \"USSR\"\nurl = \"http://127.0.0.1:9\"\nnode_key = \"{}\"\n",
            encode_key(&us),
            encode_key(&ussr)
        ),
    )
    .unwrap();
    let treaty: PathBuf = Path::new(ROOT).join("treaties/carter-1977.treaty");
    Home::init(&dir.join("us"), &treaty, "US", &network).unwrap()
}

fn transfer(id: &str, value: f64) -> String {
    format!(
        "{{\"kind\": \"event\", \"party\": \"US\", \"id\": \"{id}\", \"type\": \"arms_transfer\", \"at\": \"1985-01-01T12:00:00Z\", \"attributes\": {{\"recipient\": \"GB\", \"value_musd\": {value}}}}}\n"
    )
}

/// The bodies of every fact entry of the US log, read from the store.
async fn logged(store: &MemoryStore) -> Vec<Vec<u8>> {
    let size = store
        .logs()
        .await
        .unwrap()
        .into_iter()
        .find(|l| l.origin == US)
        .map_or(0, |l| l.size);
    store
        .entries(US, 0, size)
        .await
        .unwrap()
        .into_iter()
        .map(|e| Entry::decode(&e.bytes).unwrap())
        .filter(|e| e.kind == EntryKind::Fact)
        .map(|e| e.body)
        .collect()
}

#[tokio::test]
async fn submissions_answer_as_if_checked_against_the_whole_log() {
    let dir = tempfile::tempdir().unwrap();
    let home = home(dir.path());
    let clock = ManualClock::new(1_893_456_000_000);
    let handle: Arc<dyn Clock> = Arc::new(clock.clone());
    let store = MemoryStore::new();
    // Two nodes on one store: two processes sharing a data folder.
    let a = Node::open(&home, store.clone(), handle.clone())
        .await
        .unwrap();
    let b = Node::open(&home, store.clone(), handle).await.unwrap();
    let scenario: String =
        std::fs::read_to_string(Path::new(ROOT).join("scenarios/carter-1977/facts.jsonl"))
            .unwrap()
            .lines()
            .filter(|l| l.contains("\"party\": \"US\"") && !l.contains("\"observation\""))
            .map(|l| format!("{l}\n"))
            .collect();
    let steps: Vec<(&Node<MemoryStore>, String)> = vec![
        (&a, scenario.clone()),
        (&a, transfer("t-1", 10.5)),
        // Already logged, by the same node and then by the other.
        (&a, transfer("t-1", 10.5)),
        (&b, format!("{}{}", transfer("t-1", 10.5), transfer("t-2", 3.0))),
        // `a` has not read `t-2`, which `b` appended: it is already logged.
        (&a, transfer("t-2", 3.0)),
        // The same id with other content contradicts `b`'s entry.
        (&a, transfer("t-2", 4.0)),
        (&a, "{\"kind\": \"event\", \"party\": \"US\", \"id\": \"x\", \"type\": \"missile_tst_launch\", \"at\": \"1985-01-01T00:00:00Z\"}\n".to_owned()),
        (&a, "not json\n".to_owned()),
        (&b, transfer("t-3", 1.0)),
        (&a, format!("{}{}", transfer("t-3", 2.0), transfer("t-4", 2.0))),
        (&a, transfer("t-4", 2.0)),
        (&a, scenario),
    ];
    let treaty = &home.treaty.treaty;
    let mut refused = 0;
    for (step, (node, text)) in steps.into_iter().enumerate() {
        let existing = logged(&store).await;
        let expected = detente_node::facts::prepare_submission(
            &text, "s.jsonl", 1, None, "US", US, &existing, treaty,
        );
        let got = node.submit(&text, "s.jsonl").await;
        match (expected, got) {
            (Ok(bodies), Ok(submitted)) => {
                let fresh: Vec<_> = bodies
                    .iter()
                    .filter(|b| !existing.contains(b))
                    .collect::<std::collections::BTreeSet<_>>()
                    .into_iter()
                    .collect();
                assert_eq!(submitted.appended as usize, fresh.len(), "step {step}");
                assert_eq!(
                    submitted.already_logged as usize,
                    bodies.len() - fresh.len(),
                    "step {step}"
                );
            }
            (Err(problems), Err(NodeError::Rejected(got))) => {
                assert_eq!(got, problems, "step {step}");
                refused += 1;
            }
            (expected, got) => panic!("step {step}: expected {expected:?}, got {got:?}"),
        }
        clock.advance_ms(1_000);
    }
    // The contradiction of `t-2`, the unknown type, the line that is not JSON, and `t-3`.
    assert_eq!(refused, 4);
    let bodies = logged(&store).await;
    let unique: std::collections::BTreeSet<_> = bodies.iter().collect();
    assert_eq!(unique.len(), bodies.len(), "nothing was logged twice");
}

#[tokio::test]
async fn entries_of_other_kinds_appended_meanwhile_are_skipped() {
    let dir = tempfile::tempdir().unwrap();
    let home = home(dir.path());
    let clock: Arc<dyn Clock> = Arc::new(ManualClock::new(1_893_456_000_000));
    let node = Node::open(&home, MemoryStore::new(), clock).await.unwrap();
    node.submit(&transfer("t-1", 1.0), "s").await.unwrap();
    node.append_entries(vec![(EntryKind::Letter, b"sealed".to_vec())])
        .await
        .unwrap();
    let again = node.submit(&transfer("t-1", 1.0), "s").await.unwrap();
    assert_eq!((again.appended, again.already_logged), (0, 1));
    let next = node.submit(&transfer("t-2", 1.0), "s").await.unwrap();
    assert_eq!((next.first_index, next.appended, next.size), (2, 1, 3));
}
