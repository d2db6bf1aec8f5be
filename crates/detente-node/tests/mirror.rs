#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    clippy::print_stdout,
    clippy::print_stderr
)]
//! Nodes mirroring and cosigning each other in one process: two (or three) [`Node`]s on
//! [`MemoryStore`]s and one [`ManualClock`], talking through [`LocalPeer`], a `Peer`
//! that calls the other node's methods directly (what the HTTP server does for a real
//! peer, without the HTTP).
//!
//! The homes are real data folders (`Home::init` in a temporary folder, with keys made
//! by `generate_key` and a network file written here) for the Carter-1977 treaty.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use detente_assess::engine::Options;
use detente_lang::time::Instant;
use detente_ledger::checkpoint::{Cosignature, cosign, open_checkpoint, sign_checkpoint};
use detente_ledger::note::Signer;
use detente_node::home::{Home, hex};
use detente_node::memory_store::MemoryStore;
use detente_node::store::{
    Hash, LogState, Store, StoreError, StoredCheckpoint, StoredCosignature, StoredEntry,
    StoredEquivocation,
};
use detente_node::{Clock, ManualClock, MirrorError, Node, NodeError};

mod support;

use support::{LocalPeer, Net, ROOT, US, USSR, network, open, open_on, treaty_path};

/// 2030-01-01T00:00:00Z, in seconds.
const T0: i64 = 1_893_456_000;

// ----- set-up ------------------------------------------------------------------------------

impl Net {
    fn network_file(&self) -> PathBuf {
        self.dir.path().join("network.toml")
    }

    /// Another data folder for US holding a copy of US's key: a second node that signs
    /// as US (an equivocating party runs two of them).
    fn us_twin(&self) -> Home {
        let twin = self.dir.path().join("us-twin");
        std::fs::create_dir_all(&twin).unwrap();
        std::fs::copy(
            self.us.dir.join(detente_node::home::KEY_FILE),
            twin.join(detente_node::home::KEY_FILE),
        )
        .unwrap();
        Home::init(&twin, &treaty_path(), "US", &self.network_file()).unwrap()
    }
}

/// The Carter-1977 scenario split by the party that speaks for each record: (US, USSR).
fn scenario() -> (String, String) {
    let text =
        std::fs::read_to_string(Path::new(ROOT).join("scenarios/carter-1977/facts.jsonl")).unwrap();
    let (mut us, mut ussr) = (String::new(), String::new());
    for line in text.lines().filter(|l| !l.trim().is_empty()) {
        let record: serde_json::Value = serde_json::from_str(line).unwrap();
        let field = if record["kind"] == "observation" {
            "observer"
        } else {
            "party"
        };
        let out = match record[field].as_str() {
            Some("US") => &mut us,
            Some("USSR") => &mut ussr,
            other => panic!("a record of {other:?}"),
        };
        out.push_str(line);
        out.push('\n');
    }
    (us, ussr)
}

/// `n` distinct, valid facts of `party`: arms transfers with ids `{prefix}-{i}`.
fn transfers(party: &str, prefix: &str, n: usize) -> String {
    (0..n)
        .map(|i| {
            format!(
                "{{\"kind\": \"event\", \"party\": \"{party}\", \"id\": \"{prefix}-{i}\", \"type\": \"arms_transfer\", \"at\": \"1985-01-01T12:00:00Z\", \"attributes\": {{\"recipient\": \"GB\", \"value_musd\": {}.5}}}}\n",
                i + 1
            )
        })
        .collect()
}

fn instant(text: &str) -> Instant {
    Instant::parse(text).unwrap()
}

/// The verifier of `party`'s checkpoints, from the network file.
fn log_verifier(home: &Home, party: &str) -> detente_ledger::note::Verifier {
    home.network
        .log_verifier(home.network.party(party).unwrap())
        .unwrap()
}

fn cosigner_verifier(home: &Home, party: &str) -> detente_ledger::note::Verifier {
    home.network
        .cosigner_verifier(home.network.party(party).unwrap())
        .unwrap()
}

/// A node's signer for its own key (what it signs checkpoints and cosignatures with).
fn signer_of(home: &Home) -> Signer {
    Signer::from_seed(&home.origin(), home.key.to_bytes()).unwrap()
}

/// The latest checkpoint `node` holds of its own log, opened.
async fn own_checkpoint<S: Store>(
    node: &Node<S>,
    home: &Home,
) -> (detente_ledger::checkpoint::Checkpoint, String) {
    let note = node
        .checkpoint_with_cosignatures(node.origin())
        .await
        .unwrap()
        .expect("a checkpoint");
    let (cp, _) = open_checkpoint(&note, &log_verifier(home, node.party())).unwrap();
    (cp, note)
}

// ----- 5. mirror, cosign, same reports ------------------------------------------------------

#[tokio::test]
async fn mirror_then_cosign_round_trip() {
    let net = network();
    let clock = ManualClock::new(T0 * 1000);
    let a = open(&net.us, &clock).await;
    let b = open(&net.ussr, &clock).await;
    let (us_facts, ussr_facts) = scenario();
    let submitted = a.submit(&us_facts, "us.jsonl").await.unwrap();
    assert_eq!((submitted.first_index, submitted.size), (0, 42));
    assert_eq!(
        b.submit(&ussr_facts, "ussr.jsonl").await.unwrap().size,
        1664
    );

    // B mirrors A and gives its cosignature back.
    clock.advance_ms(7_000);
    let mirrored = b.mirror(&LocalPeer::new(&a, "USSR")).await.unwrap();
    assert_eq!(
        (
            mirrored.origin.as_str(),
            mirrored.from_size,
            mirrored.to_size
        ),
        (US, 0, 42)
    );
    assert!(mirrored.cosignature_delivered);

    // A holds it, on its checkpoint at 42, and it verifies with B's key from the network file.
    let (cp, _) = own_checkpoint(&a, &net.us).await;
    let held = a.store().cosignatures(US).await.unwrap();
    assert_eq!(held.len(), 1, "{held:?}");
    assert_eq!(
        (held[0].size, held[0].cosigner.as_str(), held[0].timestamp),
        (42, USSR, (T0 + 7) as u64)
    );
    let cosignature = Cosignature::parse_line(&held[0].line).unwrap();
    detente_ledger::checkpoint::verify_cosignature(
        &cp,
        &cosignature,
        &cosigner_verifier(&net.us, "USSR"),
    )
    .unwrap();
    // A serves its checkpoint with the cosignature now.
    let (_, served) = own_checkpoint(&a, &net.us).await;
    assert!(served.contains(&held[0].line), "{served}");
    // B keeps the same cosignature (one per checkpoint: its time is the proof of receipt).
    assert_eq!(b.store().cosignatures(US).await.unwrap(), held);

    // Mirroring again changes nothing and makes no second cosignature, even later.
    clock.advance_ms(60_000);
    let again = b.mirror(&LocalPeer::new(&a, "USSR")).await.unwrap();
    assert_eq!((again.from_size, again.to_size), (42, 42));
    assert!(again.cosignature_delivered);
    assert_eq!(a.store().cosignatures(US).await.unwrap(), held);
    assert_eq!(b.store().cosignatures(US).await.unwrap(), held);

    // A mirrors B: both now hold the same two checkpoints.
    let back = a.mirror(&LocalPeer::new(&b, "US")).await.unwrap();
    assert_eq!((back.origin.as_str(), back.to_size), (USSR, 1664));
    assert!(back.cosignature_delivered);
    assert_eq!(a.log_heads().await, b.log_heads().await);
    assert_eq!(b.store().cosignatures(USSR).await.unwrap().len(), 1);

    for at in ["1978-07-01", "1980-12-31", "1982-12-31T12:00:00Z"] {
        let options = Options::default();
        let from_a = a.report(instant(at), &options).await.unwrap();
        let from_b = b.report(instant(at), &options).await.unwrap();
        let inputs: Vec<_> = from_a
            .inputs
            .iter()
            .map(|i| (i.name.as_str(), i.records))
            .collect();
        assert_eq!(inputs, [(US, 42), (USSR, 1664)], "at {at}");
        assert!(!from_a.findings.is_empty());
        assert_eq!(
            serde_json::to_string(&from_a).unwrap(),
            serde_json::to_string(&from_b).unwrap(),
            "the reports of A and B at {at} differ"
        );
    }
    assert!(a.equivocations().await.unwrap().is_empty());
    assert!(b.equivocations().await.unwrap().is_empty());
}

// ----- 6. forgery and equivocation ----------------------------------------------------------

#[tokio::test]
async fn a_forged_checkpoint_is_refused() {
    let net = network();
    let clock = ManualClock::new(T0 * 1000);
    let a = open(&net.us, &clock).await;
    let b_store = MemoryStore::new();
    let b = open_on(&net.ussr, b_store.clone(), &clock).await;
    a.submit(&transfers("US", "t", 12), "us.jsonl")
        .await
        .unwrap();
    let (cp, note) = own_checkpoint(&a, &net.us).await;

    // A's checkpoint re-signed by a key that is not A's (with A's key name); A's own
    // signature over another checkpoint text; the note with A's signature line only
    // renamed.
    let stranger = Signer::from_seed(US, [7; 32]).unwrap();
    let resigned = sign_checkpoint(&cp, &stranger).unwrap();
    let other_text = note.replacen("\n12\n", "\n13\n", 1);
    assert_ne!(other_text, note);
    let mut bigger = cp.clone();
    bigger.size = 1_000;
    let bigger_by_stranger = sign_checkpoint(&bigger, &stranger).unwrap();
    for (what, forged) in [
        ("re-signed by a stranger", resigned),
        ("A's signature on another text", other_text),
        ("a larger checkpoint by a stranger", bigger_by_stranger),
    ] {
        let result = b.mirror(&LocalPeer::serving(&a, "USSR", forged)).await;
        let Err(MirrorError::Forged(detail)) = &result else {
            panic!("{what}: expected Forged, got {result:?}");
        };
        assert!(detail.contains(US), "{what}: {detail}");
        // Nothing stored, nothing cosigned, nothing recorded as evidence.
        assert!(
            b_store.logs().await.unwrap().iter().all(|l| l.origin != US),
            "{what}: B stored A's log"
        );
        assert!(b_store.cosignatures(US).await.unwrap().is_empty(), "{what}");
        assert!(
            a.store().cosignatures(US).await.unwrap().is_empty(),
            "{what}"
        );
        assert!(b.equivocations().await.unwrap().is_empty(), "{what}");
        let heads = b.log_heads().await;
        assert!(
            heads
                .iter()
                .any(|(o, size, _, frozen)| o == US && *size == 0 && !frozen),
            "{what}: {heads:?}"
        );
    }
    let health = b.mirror_health();
    assert_eq!(health["US"].consecutive_failures, 3);
    assert!(
        health["US"]
            .last_error
            .as_deref()
            .is_some_and(|e| e.contains("forged")),
        "{health:?}"
    );
    // Not a note at all is a malformed answer, not a forgery: nothing is stored either.
    let result = b
        .mirror(&LocalPeer::serving(&a, "USSR", "hello\n".to_owned()))
        .await;
    let Err(MirrorError::Peer(error)) = &result else {
        panic!("expected a malformed answer, got {result:?}");
    };
    assert!(error.detail.contains("not a signed note"), "{error}");
    assert!(b_store.logs().await.unwrap().iter().all(|l| l.origin != US));

    // The honest checkpoint is still taken afterwards.
    let mirrored = b.mirror(&LocalPeer::new(&a, "USSR")).await.unwrap();
    assert_eq!((mirrored.from_size, mirrored.to_size), (0, 12));
    assert_eq!(b.mirror_health()["US"].consecutive_failures, 0);
}

/// How the equivocating twin's log compares in size with what B already holds.
#[derive(Debug, Clone, Copy)]
enum Rewrite {
    Larger,
    Equal,
    Smaller,
}

#[tokio::test]
async fn a_rewritten_history_is_caught_as_equivocation() {
    let net = network();
    let twin_home = net.us_twin();
    let clock = ManualClock::new(T0 * 1000);
    let a = open(&net.us, &clock).await;
    a.submit(&transfers("US", "honest", 10), "us.jsonl")
        .await
        .unwrap();
    let (a_cp, a_note) = own_checkpoint(&a, &net.us).await;
    let us_key = log_verifier(&net.us, "US");

    for rewrite in [Rewrite::Larger, Rewrite::Equal, Rewrite::Smaller] {
        let what = format!("{rewrite:?}");
        // A fresh B for each case, mirroring A's honest log first.
        let b_store = MemoryStore::new();
        let b = open_on(&net.ussr, b_store.clone(), &clock).await;
        b.submit(&transfers("USSR", "ussr", 3), "ussr.jsonl")
            .await
            .unwrap();
        let mirrored = b.mirror(&LocalPeer::new(&a, "USSR")).await.unwrap();
        assert_eq!(mirrored.to_size, 10, "{what}");

        // A second node with A's key signs a different history.
        let twin = open(&twin_home, &clock).await;
        let n = match rewrite {
            Rewrite::Larger => 15,
            Rewrite::Equal => 10,
            Rewrite::Smaller => 5,
        };
        twin.submit(&transfers("US", "rewritten", n), "us.jsonl")
            .await
            .unwrap();
        let (twin_cp, _) = own_checkpoint(&twin, &twin_home).await;
        assert_eq!(twin_cp.size, n as u64);

        clock.advance_ms(1_000);
        let result = b.mirror(&LocalPeer::new(&twin, "USSR")).await;
        let Err(MirrorError::Equivocation(detail)) = &result else {
            panic!("{what}: expected Equivocation, got {result:?}");
        };
        assert!(detail.contains(US), "{what}: {detail}");

        // The evidence: both signed notes, each verifying with A's key.
        let evidence = b.equivocations().await.unwrap();
        assert_eq!(evidence.len(), 1, "{what}: {evidence:?}");
        let record = &evidence[0];
        assert_eq!(record.origin, US, "{what}");
        assert_eq!(record.detected_at_ms, clock.now_ms(), "{what}");
        let (held, _) = open_checkpoint(&record.held_note, &us_key).unwrap();
        let (conflicting, _) = open_checkpoint(&record.conflicting_note, &us_key).unwrap();
        assert_eq!(held, a_cp, "{what}");
        assert_eq!(conflicting, twin_cp, "{what}");
        assert_eq!(record.held_note, a_note, "{what}");

        // Frozen: neither node's checkpoint is taken any more, and nothing changes.
        for peer in [LocalPeer::new(&a, "USSR"), LocalPeer::new(&twin, "USSR")] {
            let result = b.mirror(&peer).await;
            assert!(
                matches!(&result, Err(MirrorError::Frozen(origin)) if origin == US),
                "{what}: {result:?}"
            );
        }
        assert_eq!(b.equivocations().await.unwrap().len(), 1, "{what}");
        let heads = b.log_heads().await;
        assert!(
            heads.contains(&(US.to_owned(), 10, a_cp.root, true)),
            "{what}: {heads:?}"
        );

        // B's reports still read A's last consistent checkpoint.
        let report = b
            .report(instant("1985-06-01"), &Options::default())
            .await
            .unwrap();
        let input = report.inputs.iter().find(|i| i.name == US).unwrap();
        assert_eq!(
            (input.records, input.sha256.as_str()),
            (10, hex(&a_cp.root).as_str()),
            "{what}"
        );
        let facts = b.log_facts().await.unwrap();
        let ids: Vec<&str> = facts
            .facts
            .events
            .iter()
            .filter(|e| &*e.party == "US")
            .map(|e| &*e.id)
            .collect();
        assert_eq!(ids.len(), 10, "{what}: {ids:?}");
        assert!(ids.iter().all(|id| id.starts_with("honest-")), "{what}");

        // The freeze survives a restart: it is read back from the store.
        drop(b);
        let reopened = open_on(&net.ussr, b_store.clone(), &clock).await;
        assert!(
            reopened
                .log_heads()
                .await
                .contains(&(US.to_owned(), 10, a_cp.root, true)),
            "{what}"
        );
        let result = reopened.mirror(&LocalPeer::new(&a, "USSR")).await;
        assert!(
            matches!(result, Err(MirrorError::Frozen(_))),
            "{what}: {result:?}"
        );
    }
}

/// A consistency proof that does not verify shows that the proof is wrong, not that the
/// party signed two histories: the two checkpoints here are consistent. It comes from a
/// faulty peer, or from anyone on the path of a plain-HTTP answer (answers are not
/// signed), and must not freeze the log for ever with "evidence" that proves nothing.
#[tokio::test]

async fn a_bad_consistency_proof_is_not_taken_for_equivocation() {
    let net = network();
    let clock = ManualClock::new(T0 * 1000);
    let a = open(&net.us, &clock).await;
    let b = open(&net.ussr, &clock).await;
    a.submit(&transfers("US", "first", 10), "us.jsonl")
        .await
        .unwrap();
    b.mirror(&LocalPeer::new(&a, "USSR")).await.unwrap();
    // A extends its log honestly.
    a.submit(&transfers("US", "second", 5), "us.jsonl")
        .await
        .unwrap();

    let tampered = LocalPeer {
        bad_proof: true,
        ..LocalPeer::new(&a, "USSR")
    };
    let result = b.mirror(&tampered).await;
    assert!(
        result.is_err(),
        "a proof that does not verify was accepted: {result:?}"
    );
    let evidence = b.equivocations().await.unwrap();
    assert!(
        !matches!(result, Err(MirrorError::Equivocation(_))) && evidence.is_empty(),
        "a bad proof was recorded as an equivocation by A: {result:?}, {evidence:?}"
    );
    // The honest answer is still taken.
    let mirrored = b.mirror(&LocalPeer::new(&a, "USSR")).await.unwrap();
    assert_eq!((mirrored.from_size, mirrored.to_size), (10, 15));
}

// ----- 7. cosignatures ----------------------------------------------------------------------

/// `line` with the base64 character at byte `at` replaced by one whose 6-bit value differs
/// in its highest bit (so the decoded bytes always change).
fn flip_base64_char(line: &str, at: usize) -> String {
    const ALPHABET: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut bytes = line.as_bytes().to_vec();
    let value = ALPHABET.iter().position(|c| *c == bytes[at]).unwrap();
    bytes[at] = ALPHABET[value ^ 0b10_0000];
    String::from_utf8(bytes).unwrap()
}

#[tokio::test]
async fn cosignature_tampering_is_refused() {
    let net = network();
    let clock = ManualClock::new(T0 * 1000);
    let a = open(&net.us, &clock).await;
    a.submit(&transfers("US", "first", 10), "us.jsonl")
        .await
        .unwrap();
    let (cp10, _) = own_checkpoint(&a, &net.us).await;
    a.submit(&transfers("US", "second", 10), "us.jsonl")
        .await
        .unwrap();
    let (cp20, _) = own_checkpoint(&a, &net.us).await;
    assert_eq!((cp10.size, cp20.size), (10, 20));

    let ussr = signer_of(&net.ussr);
    let genuine = cosign(&cp20, &ussr, (T0 + 60) as u64).line();
    let genuine_on_10 = cosign(&cp10, &ussr, (T0 + 60) as u64).line();
    let stranger = Signer::from_seed(USSR, [9; 32]).unwrap();
    let by_stranger = cosign(&cp20, &stranger, (T0 + 60) as u64).line();
    let mallory = Signer::from_seed("detente/carter_1977/MALLORY", [9; 32]).unwrap();
    let by_mallory = cosign(&cp20, &mallory, (T0 + 60) as u64).line();
    // US's own key as a cosigner speaks for US, not for the USSR.
    let by_us = cosign(&cp20, &signer_of(&net.us), (T0 + 60) as u64).line();

    let mut refused: Vec<(String, &str, u64, String)> = vec![
        (
            "a key not in the network file".into(),
            "USSR",
            20,
            by_stranger,
        ),
        (
            "a cosigner not in the network file".into(),
            "USSR",
            20,
            by_mallory,
        ),
        ("another party's key".into(), "USSR", 20, by_us),
        (
            "from a party not in the network file".into(),
            "MALLORY",
            20,
            genuine.clone(),
        ),
        (
            "the line for size 20 given as size 10".into(),
            "USSR",
            10,
            genuine.clone(),
        ),
        (
            "the line for size 10 given as size 20".into(),
            "USSR",
            20,
            genuine_on_10,
        ),
        (
            "a size with no checkpoint".into(),
            "USSR",
            15,
            genuine.clone(),
        ),
        ("a size beyond the log".into(), "USSR", 21, genuine.clone()),
        ("not a line".into(), "USSR", 20, "cosigned, honestly".into()),
        ("an empty line".into(), "USSR", 20, String::new()),
    ];
    // Every single-character change of the signature's base64 (key id, timestamp, signature).
    let b64_start = genuine.rfind(' ').unwrap() + 1;
    let b64_end = genuine.trim_end_matches('=').len();
    for at in b64_start..b64_end {
        refused.push((
            format!("byte {at} of the line changed"),
            "USSR",
            20,
            flip_base64_char(&genuine, at),
        ));
    }
    // And the name.
    refused.push((
        "the cosigner's name changed".into(),
        "USSR",
        20,
        genuine.replacen("/USSR ", "/USSQ ", 1),
    ));
    assert!(refused.len() > 100);

    for (what, from, size, line) in &refused {
        let result = a.receive_cosignature(from, *size, line).await;
        assert!(
            matches!(result, Err(NodeError::Invalid(_))),
            "{what}: expected a rejection, got {result:?}"
        );
    }
    assert!(
        a.store().cosignatures(US).await.unwrap().is_empty(),
        "a refused cosignature was stored"
    );
    assert!(a.log_facts().await.unwrap().receipts.is_empty());

    // The genuine line is taken, once.
    assert!(a.receive_cosignature("USSR", 20, &genuine).await.unwrap());
    assert!(!a.receive_cosignature("USSR", 20, &genuine).await.unwrap());
    let held = a.store().cosignatures(US).await.unwrap();
    assert_eq!(held.len(), 1);
    assert_eq!(
        (
            held[0].size,
            held[0].cosigner.as_str(),
            held[0].line.as_str()
        ),
        (20, USSR, genuine.as_str())
    );
}

// ----- 8. notification receipts -------------------------------------------------------------

fn notification(
    id: &str,
    sent_at: &str,
    received_at: Option<&str>,
    window: (&str, &str),
) -> String {
    let received = received_at
        .map(|r| format!("\"received_at\": \"{r}\", "))
        .unwrap_or_default();
    format!(
        "{{\"kind\": \"notification\", \"party\": \"US\", \"id\": \"{id}\", \"provision\": \"d\", \"event_type\": \"missile_test_launch\", \"sent_at\": \"{sent_at}\", {received}\"window\": {{\"from\": \"{}\", \"to\": \"{}\"}}, \"launch_area\": {{\"circle\": {{\"center\": {{\"lat\": 34.74, \"lon\": -120.57}}, \"radius_km\": 50}}}}, \"impact_area\": {{\"circle\": {{\"center\": {{\"lat\": 9.1, \"lon\": 167.5}}, \"radius_km\": 100}}}}}}\n",
        window.0, window.1
    )
}

fn received_at(facts: &detente_node::facts::LogFacts, id: &str) -> Option<String> {
    facts
        .facts
        .notifications
        .iter()
        .find(|n| n.id == id)
        .unwrap_or_else(|| panic!("no notification {id}"))
        .received_at
        .map(|at| at.to_string())
}

#[tokio::test]
async fn a_notification_is_received_when_another_party_cosigns_it() {
    let net = network();
    let clock = ManualClock::new(T0 * 1000);
    let a = open(&net.us, &clock).await;
    let b = open(&net.ussr, &clock).await;

    // At T0, two live notifications of a window two days ahead: one with no receipt time,
    // one claiming it was received at once.
    let window = ("2030-01-03T00:00:00Z", "2030-01-04T00:00:00Z");
    let live = notification("live", "2030-01-01T00:00:00Z", None, window)
        + &notification(
            "claimed",
            "2030-01-01T00:00:00Z",
            Some("2030-01-01T00:00:00Z"),
            window,
        );
    a.submit(&live, "ntf.jsonl").await.unwrap();
    let facts = a.log_facts().await.unwrap();
    assert!(
        facts.receipts.is_empty(),
        "not received before a cosignature"
    );
    assert_eq!(received_at(&facts, "live"), None);
    assert_eq!(
        received_at(&facts, "claimed").as_deref(),
        Some("2030-01-01T00:00:00Z")
    );

    // B mirrors and cosigns an hour later: that is when the USSR received both.
    clock.set_ms((T0 + 3_600) * 1000 + 250);
    assert!(
        b.mirror(&LocalPeer::new(&a, "USSR"))
            .await
            .unwrap()
            .cosignature_delivered
    );
    let receipt = T0 + 3_600;
    for (who, node_facts) in [
        ("A", a.log_facts().await.unwrap()),
        ("B", b.log_facts().await.unwrap()),
    ] {
        assert_eq!(
            node_facts.receipts.iter().collect::<Vec<_>>(),
            [
                (&(US.to_owned(), 0), &receipt),
                (&(US.to_owned(), 1), &receipt)
            ],
            "{who}"
        );
        for id in ["live", "claimed"] {
            assert_eq!(
                received_at(&node_facts, id).as_deref(),
                Some("2030-01-01T01:00:00Z"),
                "{who}: {id}"
            );
        }
    }

    // Ten days on, after the windows opened: a record of a notification whose window has
    // already opened keeps its declared receipt time; a new live one is received at the
    // next cosignature; the first two keep their first receipt.
    clock.set_ms((T0 + 10 * 86_400) * 1000);
    let later = notification(
        "past",
        "2030-01-05T00:00:00Z",
        Some("2030-01-05T06:00:00Z"),
        ("2030-01-06T00:00:00Z", "2030-01-07T00:00:00Z"),
    ) + &notification(
        "live-2",
        "2030-01-11T00:00:00Z",
        None,
        ("2030-01-20T00:00:00Z", "2030-01-21T00:00:00Z"),
    );
    let submitted = a.submit(&later, "ntf2.jsonl").await.unwrap();
    assert_eq!((submitted.first_index, submitted.size), (2, 4));
    clock.advance_ms(1_800_000);
    assert!(
        b.mirror(&LocalPeer::new(&a, "USSR"))
            .await
            .unwrap()
            .cosignature_delivered
    );
    let second = T0 + 10 * 86_400 + 1_800;
    for (who, node_facts) in [
        ("A", a.log_facts().await.unwrap()),
        ("B", b.log_facts().await.unwrap()),
    ] {
        assert_eq!(
            node_facts.receipts.iter().collect::<Vec<_>>(),
            [
                (&(US.to_owned(), 0), &receipt),
                (&(US.to_owned(), 1), &receipt),
                (&(US.to_owned(), 3), &second),
            ],
            "{who}"
        );
        assert_eq!(
            received_at(&node_facts, "live").as_deref(),
            Some("2030-01-01T01:00:00Z"),
            "{who}"
        );
        assert_eq!(
            received_at(&node_facts, "past").as_deref(),
            Some("2030-01-05T06:00:00Z"),
            "{who}"
        );
        assert_eq!(
            received_at(&node_facts, "live-2").as_deref(),
            Some("2030-01-11T00:30:00Z"),
            "{who}"
        );
    }
    // Both nodes assess the same thing from it.
    let at = instant("2030-02-01");
    assert_eq!(
        serde_json::to_string(&a.report(at, &Options::default()).await.unwrap()).unwrap(),
        serde_json::to_string(&b.report(at, &Options::default()).await.unwrap()).unwrap()
    );
}

/// Whether a notification was "appended after its window opened" is read from the
/// entry's `appended_at`, which only the notifier's node writes. A notifier whose clock is
/// ahead (or which lies) thereby keeps the receipt time it declares, although the other
/// party's cosignature proves the notification was received, late, before the window.
#[tokio::test]

async fn the_notifier_clock_does_not_decide_when_a_notification_was_received() {
    let net = network();
    let real_time = ManualClock::new(T0 * 1000);
    // A's clock runs three days ahead.
    let a_clock = ManualClock::new((T0 + 3 * 86_400) * 1000);
    let a = open(&net.us, &a_clock).await;
    let b = open(&net.ussr, &real_time).await;
    // Sent for a launch window two days away, claiming it was received at once.
    a.submit(
        &notification(
            "skewed",
            "2030-01-01T00:00:00Z",
            Some("2030-01-01T00:00:00Z"),
            ("2030-01-03T00:00:00Z", "2030-01-04T00:00:00Z"),
        ),
        "ntf.jsonl",
    )
    .await
    .unwrap();
    // The USSR receives it thirty hours later: eighteen hours before the window, short of
    // the treaty's 24-hour lead.
    real_time.set_ms((T0 + 30 * 3_600) * 1000);
    assert!(
        b.mirror(&LocalPeer::new(&a, "USSR"))
            .await
            .unwrap()
            .cosignature_delivered
    );
    let facts = b.log_facts().await.unwrap();
    assert_eq!(
        received_at(&facts, "skewed").as_deref(),
        Some("2030-01-02T06:00:00Z"),
        "the cosignature, made before the window opened, is the receipt"
    );
    assert_eq!(
        facts.receipts.get(&(US.to_owned(), 0)),
        Some(&(T0 + 30 * 3_600))
    );
}

// ----- cancellation -------------------------------------------------------------------------

/// A [`MemoryStore`] whose appends can be made to hang (as an SQLite append does while
/// another process holds the write lock, or while the disk syncs).
#[derive(Debug, Clone, Default)]
struct StallingStore {
    inner: MemoryStore,
    stall: Arc<AtomicBool>,
}

impl Store for StallingStore {
    async fn logs(&self) -> Result<Vec<LogState>, StoreError> {
        self.inner.logs().await
    }

    async fn append(
        &self,
        origin: &str,
        expected_size: u64,
        entries: &[StoredEntry],
        checkpoint: &StoredCheckpoint,
    ) -> Result<(), StoreError> {
        if self.stall.load(Ordering::SeqCst) {
            std::future::pending::<()>().await;
        }
        self.inner
            .append(origin, expected_size, entries, checkpoint)
            .await
    }

    async fn entries(
        &self,
        origin: &str,
        from: u64,
        to: u64,
    ) -> Result<Vec<StoredEntry>, StoreError> {
        self.inner.entries(origin, from, to).await
    }

    async fn leaf_hashes(&self, origin: &str, from: u64, to: u64) -> Result<Vec<Hash>, StoreError> {
        self.inner.leaf_hashes(origin, from, to).await
    }

    async fn checkpoints(&self, origin: &str) -> Result<Vec<StoredCheckpoint>, StoreError> {
        self.inner.checkpoints(origin).await
    }

    async fn add_cosignature(&self, cosignature: &StoredCosignature) -> Result<bool, StoreError> {
        self.inner.add_cosignature(cosignature).await
    }

    async fn cosignatures(&self, origin: &str) -> Result<Vec<StoredCosignature>, StoreError> {
        self.inner.cosignatures(origin).await
    }

    async fn add_equivocation(&self, equivocation: &StoredEquivocation) -> Result<(), StoreError> {
        self.inner.add_equivocation(equivocation).await
    }

    async fn equivocations(&self) -> Result<Vec<StoredEquivocation>, StoreError> {
        self.inner.equivocations().await
    }

    async fn add_user(&self, user: &detente_node::store::StoredUser) -> Result<(), StoreError> {
        self.inner.add_user(user).await
    }

    async fn users(&self) -> Result<Vec<detente_node::store::StoredUser>, StoreError> {
        self.inner.users().await
    }

    async fn remove_user(&self, name: &str) -> Result<bool, StoreError> {
        self.inner.remove_user(name).await
    }

    async fn add_acknowledgement(
        &self,
        acknowledgement: &detente_node::store::StoredAcknowledgement,
    ) -> Result<bool, StoreError> {
        self.inner.add_acknowledgement(acknowledgement).await
    }

    async fn acknowledgements(
        &self,
    ) -> Result<Vec<detente_node::store::StoredAcknowledgement>, StoreError> {
        self.inner.acknowledgements().await
    }

    async fn revision(&self) -> Result<u64, StoreError> {
        self.inner.revision().await
    }
}

/// The HTTP server drops a submission's future when its client hangs up (hyper cancels
/// the handler); a submission dropped while its append waits on the store must leave the
/// node as it was.
#[tokio::test]

async fn a_submission_cancelled_during_its_append_leaves_the_node_usable() {
    let net = network();
    let clock = ManualClock::new(T0 * 1000);
    let store = StallingStore::default();
    let a = open_on(&net.us, store.clone(), &clock).await;
    a.submit(&transfers("US", "before", 5), "us.jsonl")
        .await
        .unwrap();

    store.stall.store(true, Ordering::SeqCst);
    let abandoned = tokio::time::timeout(
        std::time::Duration::from_millis(50),
        a.submit(&transfers("US", "abandoned", 3), "us.jsonl"),
    )
    .await;
    assert!(abandoned.is_err(), "the append was meant to hang");
    store.stall.store(false, Ordering::SeqCst);
    assert_eq!(store.inner.logs().await.unwrap()[0].size, 5);

    let after = a.submit(&transfers("US", "after", 2), "us.jsonl").await;
    let after = after.unwrap_or_else(|e| panic!("the node is wedged: {e}"));
    assert_eq!((after.first_index, after.size), (5, 7));
    a.report(instant("1985-06-01"), &Options::default())
        .await
        .unwrap();
    let (cp, _) = own_checkpoint(&a, &net.us).await;
    assert_eq!(cp.size, 7);
}

/// Two nodes mirroring each other at the same moment: each holds the lock of its mirror
/// of the other's log while it asks the other for a consistency proof of that log, which
/// needs only the lock of the asked node's own log. (With one lock for all logs, each
/// would wait for the other for ever.)
#[tokio::test]
async fn two_nodes_mirroring_each_other_at_once_do_not_wait_for_each_other() {
    let net = network();
    let clock = ManualClock::new(T0 * 1000);
    let a = open(&net.us, &clock).await;
    let b = open(&net.ussr, &clock).await;
    a.submit(&transfers("US", "first", 3), "us.jsonl")
        .await
        .unwrap();
    b.submit(&transfers("USSR", "first", 3), "ussr.jsonl")
        .await
        .unwrap();
    b.mirror(&LocalPeer::new(&a, "USSR")).await.unwrap();
    a.mirror(&LocalPeer::new(&b, "US")).await.unwrap();
    // Both grow, so the next round asks each for a consistency proof of its own log.
    a.submit(&transfers("US", "second", 2), "us.jsonl")
        .await
        .unwrap();
    b.submit(&transfers("USSR", "second", 2), "ussr.jsonl")
        .await
        .unwrap();
    let (peer_b, peer_a) = (LocalPeer::new(&b, "US"), LocalPeer::new(&a, "USSR"));
    let both = async { tokio::join!(a.mirror(&peer_b), b.mirror(&peer_a)) };
    let (from_b, from_a) = tokio::time::timeout(std::time::Duration::from_secs(20), both)
        .await
        .expect("the two mirrors waited for each other");
    assert_eq!(from_b.unwrap().to_size, 5);
    assert_eq!(from_a.unwrap().to_size, 5);
}
