//! Router tests of the letters and verification pages, without sockets: a US node (the
//! fixture of `tests.rs`) and a USSR node in the same process, mirroring each other through
//! the peer protocol without HTTP. The letters are sealed with fixed principal keys; the
//! verification records are the known-answer vectors of `test_data/escrow/` and a limit
//! proof made by the USSR node.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use axum::http::{StatusCode, header};
use detente_ledger::entry::EntryKind;
use detente_node::letters::{self, Draft, PrincipalId, PrincipalKeys};
use detente_node::memory_store::MemoryStore;
use detente_node::store::Hash;
use detente_node::users::Role;
use detente_node::{Clock, Node, Peer, PeerError, Store};
use std::sync::Arc;

use super::tests::{Fixture, fixture_with};

const ROOT: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../..");
const US: &str = "detente%2Fcarter_1977%2FUS";
const USSR: &str = "detente%2Fcarter_1977%2FUSSR";

/// The peer protocol answered by another in-process node (what the server's peer
/// endpoints do, minus HTTP).
struct LocalPeer<'a, S: Store> {
    node: &'a Node<S>,
    caller: String,
}

impl<'a, S: Store> LocalPeer<'a, S> {
    fn new(node: &'a Node<S>, caller: &str) -> Self {
        LocalPeer {
            node,
            caller: caller.to_owned(),
        }
    }

    fn error(&self, what: &str, e: impl std::fmt::Display) -> PeerError {
        PeerError {
            peer: self.node.party().to_owned(),
            what: what.to_owned(),
            detail: e.to_string(),
        }
    }
}

impl<S: Store> Peer for LocalPeer<'_, S> {
    fn party(&self) -> &str {
        self.node.party()
    }

    async fn checkpoint(&self) -> Result<String, PeerError> {
        self.node
            .checkpoint_with_cosignatures(self.node.origin())
            .await
            .map_err(|e| self.error("checkpoint", e))?
            .ok_or_else(|| self.error("checkpoint", "this node's log is empty"))
    }

    async fn entries(&self, from: u64, to: u64) -> Result<Vec<Vec<u8>>, PeerError> {
        self.node
            .entries(self.node.origin(), from, to)
            .await
            .map_err(|e| self.error("entries", e))
    }

    async fn consistency(&self, old_size: u64, new_size: u64) -> Result<Vec<Hash>, PeerError> {
        self.node
            .consistency_proof(self.node.origin(), old_size, new_size)
            .await
            .map_err(|e| self.error("consistency proof", e))
    }

    async fn add_cosignature(&self, size: u64, line: &str) -> Result<(), PeerError> {
        self.node
            .receive_cosignature(&self.caller, size, line)
            .await
            .map(|_| ())
            .map_err(|e| self.error("cosignature", e))
    }

    async fn mirrors(&self) -> Result<Vec<(String, String)>, PeerError> {
        self.node
            .mirrored_checkpoints()
            .await
            .map_err(|e| self.error("mirrors", e))
    }
}

/// Each node mirrors (and cosigns) the other's log, twice, so that both hold the other's
/// cosignatures of their own.
async fn sync(f: &Fixture, ussr: &Node<MemoryStore>) {
    for _ in 0..2 {
        f.clock.advance_ms(1_000);
        if f.node
            .log_heads()
            .await
            .iter()
            .any(|(o, s, ..)| o == f.node.origin() && *s > 0)
        {
            ussr.mirror(&LocalPeer::new(&*f.node, "USSR"))
                .await
                .unwrap();
        }
        if ussr
            .log_heads()
            .await
            .iter()
            .any(|(o, s, ..)| o == ussr.origin() && *s > 0)
        {
            f.node.mirror(&LocalPeer::new(ussr, "US")).await.unwrap();
        }
    }
    f.clock.advance_ms(1_000);
}

async fn ussr_node(f: &Fixture) -> Node<MemoryStore> {
    let clock: Arc<dyn Clock> = Arc::new(f.clock.clone());
    Node::open(&f.home_of("USSR"), MemoryStore::new(), clock)
        .await
        .unwrap()
}

// ----- letters -------------------------------------------------------------------------------

fn principal(name: &str, n: u8) -> PrincipalKeys {
    PrincipalKeys::from_secrets(PrincipalId::parse(name).unwrap(), [n; 32], [n + 100; 32])
}

const SUBJECT: &str = "Strategic arms limitation";
const BODY: &str = "I was pleased to receive your letter of February 25th. \
    Substantial consensus already exists on a comprehensive test ban, \
    and I hope you will reply to this confidential passage.";
const REPLY: &str = "A reply that only the President can read: about the Backfire.";

#[tokio::test]
async fn letters_are_listed_as_metadata_with_their_receipts_and_never_their_content() {
    let carter = principal("US/Carter", 1);
    let brezhnev = principal("USSR/Brezhnev", 2);
    let f = fixture_with(&[
        ("US", carter.network_block()),
        ("USSR", brezhnev.network_block()),
    ])
    .await;
    // No letter yet: the page says so, and says the node cannot read them.
    let (status, _, body) = f.get("/dashboard/letters", Some(Role::Viewer)).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert!(body.contains("id=\"no-letters\""), "{body}");
    assert!(body.contains("This node cannot read letters"));

    let ussr = ussr_node(&f).await;
    let draft = Draft::new(
        carter.id().clone(),
        brezhnev.id().clone(),
        "1977-03-04",
        SUBJECT,
        BODY,
        Vec::new(),
    )
    .unwrap();
    let sent = letters::send(&f.node, &draft, &carter, &mut letters::system_rng())
        .await
        .unwrap();
    // Not yet received: awaiting the USSR node's cosignature.
    let (_, _, body) = f.get("/dashboard/letters", Some(Role::Viewer)).await;
    assert!(body.contains("awaiting cosignature"), "{body}");
    sync(&f, &ussr).await;
    let reply = Draft::new(
        brezhnev.id().clone(),
        carter.id().clone(),
        "1977-03-15",
        "Reply",
        REPLY,
        Vec::new(),
    )
    .unwrap();
    let answered = letters::send(&ussr, &reply, &brezhnev, &mut letters::system_rng())
        .await
        .unwrap();
    sync(&f, &ussr).await;

    for role in Role::ALL {
        let (status, headers, body) = f.get("/dashboard/letters", Some(role)).await;
        assert_eq!(status, StatusCode::OK, "{role}: {body}");
        assert!(
            headers[header::CONTENT_TYPE]
                .to_str()
                .unwrap()
                .starts_with("text/html")
        );
    }
    let (_, _, body) = f.get("/dashboard/letters", Some(Role::Viewer)).await;
    // Both letters, in both logs, with sender, addressee, size and receipts.
    assert!(body.contains("<strong>US/Carter</strong>"), "{body}");
    assert!(body.contains("<strong>USSR/Brezhnev</strong>"), "{body}");
    assert!(
        body.contains(&format!(
            "data-origin=\"detente/carter_1977/US\" data-index=\"{}\"",
            sent.index
        )),
        "{body}"
    );
    assert!(
        body.contains(&format!(
            "data-origin=\"detente/carter_1977/USSR\" data-index=\"{}\"",
            answered.index
        )),
        "{body}"
    );
    assert!(body.contains(&letters_size(sent.size)), "{body}");
    assert!(
        body.contains(&format!(
            "/api/v1/receipt?origin={US}&#38;index={}",
            sent.index
        )),
        "{body}"
    );
    assert!(
        body.contains(&format!(
            "/api/v1/receipt?origin={USSR}&#38;index={}",
            answered.index
        )),
        "{body}"
    );
    // The US letter was cosigned by the USSR node (the addressee's party), and the reply
    // by the US node.
    assert!(body.contains("✓ USSR"), "{body}");
    assert!(body.contains("✓ US</span>"), "{body}");
    assert!(
        body.contains("the addressee&#39;s party") || body.contains("the addressee's party"),
        "{body}"
    );
    assert!(!body.contains("awaiting cosignature"), "{body}");
    assert!(body.contains("detente letter read"));
    assert!(body.contains("2 in") || body.contains("1 in US"), "{body}");
    // The nav bar has its place.
    assert!(
        body.contains("href=\"/dashboard/letters\" aria-current=\"page\""),
        "{body}"
    );

    // Never the content: not on the list, not on the entry's page, not in the replay.
    let fact = format!("/dashboard/fact?origin={US}&index={}", sent.index);
    let (status, _, fact_page) = f.get(&fact, Some(Role::Viewer)).await;
    assert_eq!(status, StatusCode::OK, "{fact_page}");
    assert!(
        fact_page.contains("A sealed letter from US/Carter to USSR/Brezhnev"),
        "{fact_page}"
    );
    assert!(fact_page.contains("This node cannot read it"));
    assert!(fact_page.contains("href=\"/dashboard/letters\">Every letter"));
    let size = f
        .node
        .log_heads()
        .await
        .into_iter()
        .find(|(o, ..)| o == f.node.origin())
        .unwrap()
        .1;
    let (status, _, replayed) = f
        .get(
            &format!("/dashboard/letters?cp_US={size}"),
            Some(Role::Viewer),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{replayed}");
    for page in [&body, &fact_page, &replayed] {
        for secret in [
            SUBJECT,
            "Substantial consensus",
            "February 25th",
            REPLY,
            "Backfire",
        ] {
            assert!(
                !page.contains(secret),
                "a letter's content reached a page: {secret}"
            );
        }
    }
    // Replayed to before the letter, or to an instant before it, it is not listed.
    let (_, _, before) = f
        .get(
            &format!("/dashboard/letters?cp_US={}", sent.index),
            Some(Role::Viewer),
        )
        .await;
    assert!(
        !before.contains("data-origin=\"detente/carter_1977/US\""),
        "{before}"
    );
    let (_, _, before) = f
        .get("/dashboard/letters?at=1977-01-01", Some(Role::Viewer))
        .await;
    assert!(before.contains("id=\"no-letters\""), "{before}");
    let (status, _, _) = f
        .get("/dashboard/letters?cp_US=99999", Some(Role::Viewer))
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
}

fn letters_size(n: u64) -> String {
    super::letters::bytes(n)
}

#[tokio::test]
async fn letters_and_verification_send_a_browser_without_a_token_to_log_in() {
    let f = fixture_with(&[]).await;
    for page in [
        "/dashboard/letters",
        "/dashboard/verification",
        "/dashboard/verification/detection?party=USSR",
    ] {
        let (status, headers, _) = f.get(page, None).await;
        assert_eq!(status, StatusCode::SEE_OTHER, "{page}");
        assert!(
            headers[header::LOCATION]
                .to_str()
                .unwrap()
                .starts_with("/login?next=%2Fdashboard%2F"),
            "{page}"
        );
    }
}

// ----- verification ----------------------------------------------------------------------------

/// A value of a known-answer file of `test_data/escrow/`, decoded from hex.
fn vector(file: &str, key: &str) -> Vec<u8> {
    let text = std::fs::read_to_string(format!("{ROOT}/test_data/escrow/{file}")).unwrap();
    let hex = text
        .lines()
        .find_map(|l| l.strip_prefix(&format!("{key} = ")))
        .unwrap_or_else(|| panic!("{file} has no {key}"));
    (0..hex.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&hex[i..i + 2], 16).unwrap())
        .collect()
}

async fn append(node: &Node<MemoryStore>, records: &[(&str, &str)]) {
    node.append_entries(
        records
            .iter()
            .map(|(file, key)| (EntryKind::Verification, vector(file, key)))
            .collect(),
    )
    .await
    .unwrap();
}

/// The USSR commits to the nine items of `commit.txt` (publishing its counts per region),
/// reveals region bravo, proves (a) ≤ 2400 and (with the known-answer proof) a quantity
/// that is no provision, which it opens; both parties commit to and reveal their seeds of
/// round `inspections-1979-Q3`; US inspectors report on site `site-b2`.
async fn verification_fixture() -> (Fixture, Node<MemoryStore>) {
    let f = fixture_with(&[]).await;
    let ussr = ussr_node(&f).await;
    append(
        &ussr,
        &[
            ("commit.txt", "commitment-with-counts"),
            ("commit.txt", "reveal-bravo"),
            ("limit.txt", "proof-record"),
        ],
    )
    .await;
    ussr.prove_limit(&f.dir.path().join("ussr"), "a", 2380, 2400, "1979-06-18")
        .await
        .unwrap();
    f.clock.advance_ms(1_000);
    append(&ussr, &[("randomness.txt", "seed-commitment-USSR")]).await;
    append(&f.node, &[("randomness.txt", "seed-commitment-US")]).await;
    sync(&f, &ussr).await;
    append(&ussr, &[("randomness.txt", "seed-reveal-USSR")]).await;
    append(&f.node, &[("randomness.txt", "seed-reveal-US")]).await;
    f.clock.advance_ms(1_000);
    append(&f.node, &[("inspection.txt", "report")]).await;
    append(&ussr, &[("limit.txt", "opening-record")]).await;
    sync(&f, &ussr).await;
    (f, ussr)
}

#[tokio::test]
async fn verification_shows_commitments_reveals_inspections_draws_and_proofs() {
    let (f, _ussr) = verification_fixture().await;
    for role in Role::ALL {
        let (status, _, body) = f
            .get("/dashboard/verification?at=1979-07-01", Some(role))
            .await;
        assert_eq!(status, StatusCode::OK, "{role}: {body}");
    }
    let (_, _, body) = f
        .get("/dashboard/verification?at=1979-07-01", Some(Role::Viewer))
        .await;
    assert!(
        body.contains(
            "href=\"/dashboard/verification?at=1979-07-01T00%3A00%3A00Z\" aria-current=\"page\""
        ),
        "{body}"
    );
    // What is committed: the total, the counts per region, the root.
    assert!(body.contains("id=\"party-USSR\""));
    assert!(body.contains("alpha 3, bravo 3, charlie 3"), "{body}");
    assert!(body.contains("8ff04379b76f"), "the root");
    assert!(body.contains("3 / 9"), "{body}");
    // What is revealed, and what is not.
    assert!(body.contains("✓ checks"), "{body}");
    assert!(
        body.contains("region alpha: 3 items committed, not revealed yet"),
        "{body}"
    );
    assert!(body.contains("region charlie: 3 items committed, not revealed yet"));
    // Where: the map and the site plan of bravo, with the inspected site flagged.
    assert!(body.contains("/assets/world.svg"));
    assert!(
        body.contains("aria-label=\"sites of region bravo\""),
        "{body}"
    );
    assert!(body.contains("site r0 flagged"), "{body}");
    assert!(body.contains(">site-b1</text>"), "{body}");
    // The inspection and its outcomes, each with the records behind it.
    assert!(body.contains("<strong>site-b2</strong>"), "{body}");
    for reason in ["undeclared_item", "missing_item", "attribute_mismatch"] {
        assert!(
            body.contains(&format!("<code>{reason}</code>")),
            "{reason}: {body}"
        );
    }
    assert!(
        body.contains("<strong class=\"mono\">b-002</strong>"),
        "{body}"
    );
    assert!(
        body.contains("<strong class=\"mono\">b-010</strong>"),
        "{body}"
    );
    assert!(
        body.contains(&format!("/dashboard/fact?origin={US}&#38;index=")),
        "links to the report's entry: {body}"
    );
    assert!(
        body.contains(&format!("/api/v1/receipt?origin={USSR}&#38;index=1")),
        "the reveal's receipt: {body}"
    );
    // The seed round, its draw, and where the inspected site came in it.
    assert!(body.contains("Round inspections-1979-Q3"), "{body}");
    assert!(body.contains("✓ complete"));
    assert!(body.contains("7cc5c2b2bf79c3ff"), "the combined seed");
    assert!(body.contains("in round inspections-1979-Q3"), "{body}");
    // Detection: one of bravo's two sites inspected, k = 1.
    assert!(body.contains("id=\"detection-USSR\""));
    assert!(body.contains("P(detect) for k = 1"));
    assert!(body.contains("<strong>50.0%</strong>"), "{body}");
    // Proved limits: (a) compliant, proved without disclosure; the other applies to no
    // finding, and is opened.
    assert!(body.contains("/dashboard/provision/a?"), "{body}");
    assert!(body.contains("✓ compliant"), "{body}");
    assert!(
        body.contains("proved without disclosure: this proof establishes it"),
        "{body}"
    );
    assert!(body.contains("not opened: the number stays undisclosed"));
    assert!(
        body.contains("2250 <span class=\"status st-compliant\">✓ matches</span>"),
        "{body}"
    );
    assert!(body.contains("is not a provision of the treaty"), "{body}");
    // Findings are listed with their severity, and the summary counts them.
    assert!(body.contains("3 violation(s)"), "{body}");

    // k through htmx: the fragment alone.
    let (status, _, fragment) = f
        .get(
            "/dashboard/verification/detection?party=USSR&hidden=2&at=1979-07-01",
            Some(Role::Viewer),
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    assert!(
        fragment.starts_with("<div id=\"detection-USSR\""),
        "{fragment}"
    );
    assert!(!fragment.contains("<html"));
    assert!(fragment.contains("P(detect) for k = 2"), "{fragment}");
    assert!(fragment.contains("<strong>100.0%</strong>"), "{fragment}");
    assert!(
        fragment.contains("name=\"at\" value=\"1979-07-01T00:00:00Z\""),
        "the form keeps the selection: {fragment}"
    );
    let (_, _, fragment) = f
        .get(
            "/dashboard/verification/detection?party=USSR&hidden=3",
            Some(Role::Viewer),
        )
        .await;
    assert!(
        fragment.contains("— (3 hiding sites assumed, only 2 revealed)"),
        "{fragment}"
    );
    let (_, _, fragment) = f
        .get(
            "/dashboard/verification/detection?party=USSR&hidden=none",
            Some(Role::Viewer),
        )
        .await;
    assert!(fragment.contains("not `none`"), "{fragment}");
    let (status, _, _) = f
        .get(
            "/dashboard/verification/detection?party=XX",
            Some(Role::Viewer),
        )
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    let (status, _, body) = f
        .get("/dashboard/verification?hidden=0", Some(Role::Viewer))
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
    // Without scripts the same form reloads the page with k for every party.
    let (_, _, body) = f
        .get(
            "/dashboard/verification?hidden=2&party=USSR",
            Some(Role::Viewer),
        )
        .await;
    assert!(body.contains("P(detect) for k = 2"), "{body}");

    // The records' own pages say what they are, in words.
    let (_, _, page) = f
        .get(
            &format!("/dashboard/fact?origin={USSR}&index=0"),
            Some(Role::Viewer),
        )
        .await;
    assert!(
        page.contains("Commitment of USSR to its item-level declaration as of 1979-06-18: 9 items"),
        "{page}"
    );
    let (_, _, page) = f
        .get(
            &format!("/dashboard/fact?origin={USSR}&index=1"),
            Some(Role::Viewer),
        )
        .await;
    assert!(page.contains("Reveal by USSR of region bravo"), "{page}");
    assert!(page.contains("b-010 (heavy_bomber)"), "{page}");
    let (_, _, page) = f
        .get(
            &format!("/dashboard/fact?origin={USSR}&index=3"),
            Some(Role::Viewer),
        )
        .await;
    assert!(page.contains("The number is not disclosed."), "{page}");
}

#[tokio::test]
async fn verification_replays_to_a_checkpoint() {
    let (f, _ussr) = verification_fixture().await;
    // The US log replayed to before its inspection report: nothing inspected yet.
    let marks = f.node.checkpoint_marks().await.unwrap();
    let us_sizes: Vec<u64> = marks
        .iter()
        .find(|(o, _)| o == f.node.origin())
        .unwrap()
        .1
        .iter()
        .map(|m| m.size)
        .collect();
    let latest = *us_sizes.last().unwrap();
    let before = us_sizes
        .iter()
        .rev()
        .find(|s| **s < latest)
        .copied()
        .unwrap();
    let (status, _, body) = f
        .get(
            &format!("/dashboard/verification?cp_US={before}"),
            Some(Role::Viewer),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert!(body.contains("No inspection report on USSR"), "{body}");
    assert!(body.contains(&format!("US at {before} entries")), "{body}");
    // The USSR log replayed to empty: no commitment.
    let (_, _, body) = f
        .get("/dashboard/verification?cp_USSR=0", Some(Role::Viewer))
        .await;
    assert!(
        body.contains("USSR has committed to no declaration"),
        "{body}"
    );
    let (status, _, _) = f
        .get("/dashboard/verification?cp_US=3", Some(Role::Viewer))
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
}
