#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    clippy::print_stdout,
    clippy::print_stderr
)]
//! The verification records in nodes: two in-process [`Node`]s (US and USSR of the
//! Carter-1977 treaty) on [`MemoryStore`]s, mirroring each other through [`LocalPeer`]
//! (the peer protocol without HTTP, as in `mirror.rs`), with real data folders for the
//! private files. Every flow ends with both nodes computing byte-identical state.

use std::path::{Path, PathBuf};

use detente_assess::engine::Options;
use detente_assess::report::{Report, Status};
use detente_escrow::commit::{Escrow, Item, Location, Value};
use detente_escrow::inspection::{FoundItem, InspectionReport};
use detente_escrow::limit::Opening;
use detente_escrow::randomness::{SeedCommitment, SeedReveal, joint_seed};
use detente_lang::time::Instant;
use detente_ledger::entry::{EntryKind, MAX_ENTRY_BYTES};
use detente_node::home::hex;
use detente_node::memory_store::MemoryStore;
use detente_node::verification::private;
use detente_node::verification::records::{Record, max_body_bytes, split_reveal};
use detente_node::verification::state::VerificationState;
use detente_node::verification::{PROVED_WITHOUT_DISCLOSURE, RecordRef, Severity, StateOptions};
use detente_node::{ManualClock, Node, NodeError};

mod support;

use support::{LocalPeer, US, USSR, network, open};

/// 2030-01-01T00:00:00Z, in milliseconds.
const T0_MS: i64 = 1_893_456_000_000;

async fn own_size(node: &Node<MemoryStore>) -> u64 {
    node.log_heads()
        .await
        .into_iter()
        .find(|(o, ..)| o == node.origin())
        .map_or(0, |(_, size, ..)| size)
}

/// Each node mirrors the other's log (if it has one).
async fn sync(us: &Node<MemoryStore>, ussr: &Node<MemoryStore>, clock: &ManualClock) {
    clock.advance_ms(1_000);
    if own_size(us).await > 0 {
        ussr.mirror(&LocalPeer::new(us, "USSR")).await.unwrap();
    }
    if own_size(ussr).await > 0 {
        us.mirror(&LocalPeer::new(ussr, "US")).await.unwrap();
    }
    clock.advance_ms(1_000);
}

/// Both nodes' state, which must be byte-identical; returned once.
async fn same_state(us: &Node<MemoryStore>, ussr: &Node<MemoryStore>) -> VerificationState {
    let a = us
        .verification_state(&StateOptions::default())
        .await
        .unwrap();
    let b = ussr
        .verification_state(&StateOptions::default())
        .await
        .unwrap();
    let (ja, jb) = (
        serde_json::to_string_pretty(&a).unwrap(),
        serde_json::to_string_pretty(&b).unwrap(),
    );
    assert!(ja == jb, "the nodes differ:\n--- US\n{ja}\n--- USSR\n{jb}");
    a
}

fn item(region: &str, id: &str, site: &str, mirv: bool) -> Item {
    Item::new(
        region,
        id,
        "icbm_launcher",
        vec![
            ("site".to_owned(), Value::Text(site.to_owned())),
            ("mirv".to_owned(), Value::Bool(mirv)),
            ("missile".to_owned(), Value::Text("SS-19".to_owned())),
        ],
        Some(Location::from_degrees(51.6, 45.5).unwrap()),
    )
    .unwrap()
}

fn found(id: Option<&str>, mirv: bool) -> FoundItem {
    FoundItem {
        id: id.map(str::to_owned),
        category: "icbm_launcher".to_owned(),
        attributes: vec![("mirv".to_owned(), Value::Bool(mirv))],
    }
}

fn reasons(state: &VerificationState) -> Vec<&'static str> {
    state.findings.iter().map(|f| f.reason).collect()
}

fn at(origin: &str, index: u64) -> RecordRef {
    RecordRef {
        origin: origin.to_owned(),
        index,
    }
}

fn instant(text: &str) -> Instant {
    Instant::parse(text).unwrap()
}

fn finding<'r>(
    report: &'r Report,
    party: &str,
    provision: &str,
) -> &'r detente_assess::report::Finding {
    report
        .findings
        .iter()
        .find(|f| f.party == party && f.provision == provision)
        .unwrap()
}

#[cfg(unix)]
fn mode(path: &Path) -> u32 {
    use std::os::unix::fs::PermissionsExt as _;
    std::fs::metadata(path).unwrap().permissions().mode() & 0o777
}

fn private_files(dir: &Path) -> Vec<PathBuf> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(private::private_dir(dir))
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    files.sort();
    files
}

// ----- escrow: commit, reveal (split), coverage ----------------------------------------------

/// Many items in one region: the reveal goes in several entries, each under the entry
/// limit, and every node checks the parts together as one region.
#[tokio::test]
async fn a_large_region_is_revealed_in_parts_and_checked_as_one() {
    let net = network();
    let clock = ManualClock::new(T0_MS);
    let us = open(&net.us, &clock).await;
    let ussr = open(&net.ussr, &clock).await;

    let mut items: Vec<Item> = (0..6000)
        .map(|i| {
            item(
                "saratov",
                &format!("S-{i:05}"),
                &format!("S-{:04}", i / 3),
                true,
            )
        })
        .collect();
    items.push(item("yasny", "Y-1", "Y-1", false));
    items.push(item("yasny", "Y-2", "Y-2", false));
    let committed = ussr
        .escrow_commit(&net.ussr.dir, items, "1979-06-18", true)
        .await
        .unwrap();
    assert_eq!((committed.total, committed.appended.first_index), (6002, 0));
    assert_eq!(
        committed.regions,
        vec![("saratov".to_owned(), 6000), ("yasny".to_owned(), 2)]
    );

    // The items and salts are private: a file readable only by the party, never logged.
    let files = private_files(&net.ussr.dir);
    assert_eq!(files.len(), 1, "{files:?}");
    assert!(
        files[0]
            .file_name()
            .unwrap()
            .to_string_lossy()
            .starts_with("escrow-")
    );
    #[cfg(unix)]
    {
        assert_eq!(mode(&files[0]), 0o600);
        assert_eq!(mode(&private::private_dir(&net.ussr.dir)), 0o700);
    }

    let revealed = ussr
        .escrow_reveal(&net.ussr.dir, "saratov", None)
        .await
        .unwrap();
    assert_eq!(revealed.items, 6000);
    assert!(revealed.appended.count >= 3, "{revealed:?}");
    for bytes in ussr
        .entries(USSR, 1, 1 + revealed.appended.count)
        .await
        .unwrap()
    {
        assert!(bytes.len() <= MAX_ENTRY_BYTES);
    }
    // Revealing a region twice is refused; an unknown region names the known ones.
    let again = ussr.escrow_reveal(&net.ussr.dir, "saratov", None).await;
    assert!(
        matches!(&again, Err(NodeError::Invalid(m)) if m.contains("already revealed")),
        "{again:?}"
    );
    let unknown = ussr.escrow_reveal(&net.ussr.dir, "uzhur", None).await;
    assert!(
        matches!(&unknown, Err(NodeError::Invalid(m)) if m.contains("saratov, yasny")),
        "{unknown:?}"
    );

    sync(&us, &ussr, &clock).await;
    let state = same_state(&us, &ussr).await;
    assert!(state.findings.is_empty(), "{:?}", state.findings);
    assert!(state.problems.is_empty(), "{:?}", state.problems);
    let c = &state.parties[0].commitments[0];
    assert_eq!((c.total, c.revealed), (6002, 6000));
    assert_eq!(c.regions.len(), 1);
    let region = &c.regions[0];
    assert_eq!(
        (
            region.region.as_str(),
            region.revealed,
            region.committed,
            region.sites,
            region.clean
        ),
        ("saratov", 6000, Some(6000), 2000, true)
    );
    assert_eq!(region.records.len() as u64, revealed.appended.count);
    assert_eq!(region.records[0], at(USSR, 1));
    // The unrevealed region's two items are accounted for as not revealed yet.
    assert_eq!(c.unrevealed.len(), 1);
    assert_eq!((c.unrevealed[0].start, c.unrevealed[0].end), (6000, 6002));
    // Detection: 2000 sites revealed, none inspected.
    let d = &state.parties[0].detection;
    assert_eq!(
        (d[0].sites, d[0].inspected, d[0].probability),
        (2000, 0, Some(0.0))
    );
}

/// A part left out of a split reveal leaves a hole the merged check names.
#[tokio::test]
async fn a_missing_part_is_an_incomplete_reveal() {
    let net = network();
    let clock = ManualClock::new(T0_MS);
    let us = open(&net.us, &clock).await;
    let ussr = open(&net.ussr, &clock).await;
    let items: Vec<Item> = (0..5000)
        .map(|i| item("saratov", &format!("S-{i:05}"), &format!("S-{i:05}"), true))
        .collect();
    let committed = ussr
        .escrow_commit(&net.ussr.dir, items, "1979-06-18", false)
        .await
        .unwrap();
    // The party's own tools would reveal every part; a cheating one publishes all but one.
    let root: [u8; 32] = private::parse_hex32(&committed.root).unwrap();
    let file = private::read_escrow(&net.ussr.dir, &root).unwrap().unwrap();
    let escrow = Escrow::new(file.items).unwrap();
    let reveal = escrow.reveal("USSR", "1979-06-18", "saratov").unwrap();
    let parts = split_reveal(&reveal, max_body_bytes(USSR)).unwrap();
    assert!(parts.len() >= 3, "{} parts", parts.len());
    let kept: Vec<(EntryKind, Vec<u8>)> = parts
        .iter()
        .enumerate()
        .filter(|(i, _)| *i != 1)
        .map(|(_, p)| (EntryKind::Verification, p.clone()))
        .collect();
    let kept_count = kept.len() as u64;
    ussr.append_entries(kept).await.unwrap();
    sync(&us, &ussr, &clock).await;

    let state = same_state(&us, &ussr).await;
    assert_eq!(
        reasons(&state),
        ["incomplete_reveal"],
        "{:?}",
        state.findings
    );
    let f = &state.findings[0];
    assert_eq!(f.party, "USSR");
    assert_eq!(f.severity, Severity::Violation);
    // The parts and the commitment are the evidence.
    let mut expected: Vec<RecordRef> = (1..=kept_count).map(|i| at(USSR, i)).collect();
    expected.push(at(USSR, 0));
    assert_eq!(f.records, expected);
    let missing = &f.evidence["missing"];
    let (start, end) = (
        missing[0][0].as_u64().unwrap(),
        missing[0][1].as_u64().unwrap(),
    );
    assert!(start > 0 && end < 5000 && start < end, "{missing}");
}

// ----- joint randomness ---------------------------------------------------------------------

#[tokio::test]
async fn a_seed_round_draws_the_same_sites_on_both_nodes() {
    let net = network();
    let clock = ManualClock::new(T0_MS);
    let us = open(&net.us, &clock).await;
    let ussr = open(&net.ussr, &clock).await;
    let items: Vec<Item> = (1..=8)
        .flat_map(|s| {
            (1..=2).map(move |k| {
                item(
                    "tatishchevo",
                    &format!("T-0{s}-{k}"),
                    &format!("T-0{s}"),
                    true,
                )
            })
        })
        .collect();
    ussr.escrow_commit(&net.ussr.dir, items, "1979-06-18", true)
        .await
        .unwrap();
    ussr.escrow_reveal(&net.ussr.dir, "tatishchevo", None)
        .await
        .unwrap();

    let (us_seed, ussr_seed) = ([0x11u8; 32], [0x22u8; 32]);
    ussr.seed_commit(&net.ussr.dir, "1979-Q3", Some(ussr_seed))
        .await
        .unwrap();
    // A reveal before every party has committed would void the round: refused.
    let early = ussr.seed_reveal(&net.ussr.dir, "1979-Q3").await;
    assert!(
        matches!(&early, Err(NodeError::Invalid(m)) if m.contains("no commitment of US")),
        "{early:?}"
    );
    sync(&us, &ussr, &clock).await;
    us.seed_commit(&net.us.dir, "1979-Q3", Some(us_seed))
        .await
        .unwrap();
    // Committing twice is refused.
    assert!(us.seed_commit(&net.us.dir, "1979-Q3", None).await.is_err());
    sync(&us, &ussr, &clock).await;
    let state = same_state(&us, &ussr).await;
    assert_eq!(state.rounds[0].status, "awaiting_reveal");
    assert!(state.findings.is_empty());

    // USSR reveals; until US does, US's seed is pending.
    ussr.seed_reveal(&net.ussr.dir, "1979-Q3").await.unwrap();
    sync(&us, &ussr, &clock).await;
    let state = same_state(&us, &ussr).await;
    assert_eq!(reasons(&state), ["seed_not_revealed"]);
    assert_eq!(state.findings[0].party, "US");
    assert_eq!(state.findings[0].severity, Severity::Pending);
    assert!(!state.has_violation());
    assert_eq!(state.rounds[0].candidates_fixed_by, Some(at(USSR, 3)));

    us.seed_reveal(&net.us.dir, "1979-Q3").await.unwrap();
    sync(&us, &ussr, &clock).await;
    let state = same_state(&us, &ussr).await;
    assert!(state.findings.is_empty(), "{:?}", state.findings);
    let round = &state.rounds[0];
    assert_eq!(round.status, "complete");
    let combined = joint_seed(
        "1979-Q3",
        &[("US".to_owned(), us_seed), ("USSR".to_owned(), ussr_seed)],
    );
    assert_eq!(
        round.combined_seed.as_deref(),
        Some(hex(&combined).as_str())
    );
    let expected = detente_escrow::randomness::draw_sites(
        &combined,
        &(1..=8).map(|s| format!("T-0{s}")).collect::<Vec<_>>(),
        3,
    )
    .unwrap();
    assert_eq!(
        state.draw("1979-Q3", "USSR", "tatishchevo", 3).unwrap(),
        expected
    );
    assert_eq!(round.draws[0].first[..3], expected[..]);
    assert_eq!(round.draws[0].candidates, 8);
    // Too many sites, an unknown region or round: said plainly.
    assert!(state.draw("1979-Q3", "USSR", "tatishchevo", 9).is_err());
    assert!(
        state
            .draw("1979-Q3", "USSR", "kozelsk", 1)
            .unwrap_err()
            .contains("tatishchevo")
    );
    assert!(state.draw("1980-Q1", "USSR", "tatishchevo", 1).is_err());
}

#[tokio::test]
async fn an_early_or_wrong_seed_is_a_violation() {
    let net = network();
    let clock = ManualClock::new(T0_MS);
    let us = open(&net.us, &clock).await;
    let ussr = open(&net.ussr, &clock).await;
    // USSR reveals before US has committed (bypassing its own node's check).
    let seed = [7u8; 32];
    let records = [
        Record::SeedCommitment(SeedCommitment::new("r1", "USSR", &seed).unwrap()),
        Record::SeedReveal(SeedReveal {
            round: "r1".into(),
            party: "USSR".into(),
            seed,
        }),
    ];
    ussr.append_verification(&records).await.unwrap();
    sync(&us, &ussr, &clock).await;
    us.seed_commit(&net.us.dir, "r1", Some([8u8; 32]))
        .await
        .unwrap();
    // Round r2: US reveals a seed that does not open its commitment.
    us.seed_commit(&net.us.dir, "r2", Some([9u8; 32]))
        .await
        .unwrap();
    ussr.append_verification(&[Record::SeedCommitment(
        SeedCommitment::new("r2", "USSR", &seed).unwrap(),
    )])
    .await
    .unwrap();
    sync(&us, &ussr, &clock).await;
    us.append_verification(&[Record::SeedReveal(SeedReveal {
        round: "r2".into(),
        party: "US".into(),
        seed: [10u8; 32],
    })])
    .await
    .unwrap();
    sync(&us, &ussr, &clock).await;
    let state = same_state(&us, &ussr).await;
    assert_eq!(state.rounds[0].status, "void");
    assert_eq!(state.rounds[1].status, "awaiting_reveal");
    assert_eq!(
        reasons(&state),
        ["early_seed_reveal", "bad_seed_reveal"],
        "{:?}",
        state.findings
    );
    assert_eq!(state.findings[0].party, "USSR");
    assert_eq!(state.findings[0].records, [at(USSR, 1)]);
    assert_eq!(state.findings[1].party, "US");
    assert!(state.has_violation());
    // The void round draws nothing.
    assert!(
        state
            .draw("r1", "USSR", "x", 1)
            .unwrap_err()
            .contains("void")
    );
}

// ----- inspections ----------------------------------------------------------------------------

#[tokio::test]
async fn inspection_findings_name_the_records_behind_them() {
    let net = network();
    let clock = ManualClock::new(T0_MS);
    let us = open(&net.us, &clock).await;
    let ussr = open(&net.ussr, &clock).await;
    let items = vec![
        item("tatishchevo", "T-01-1", "T-01", true),
        item("tatishchevo", "T-01-2", "T-01", true),
        item("tatishchevo", "T-01-3", "T-01", true),
        item("tatishchevo", "T-02-1", "T-02", true),
        item("uzhur", "U-01-1", "U-01", true),
    ];
    ussr.escrow_commit(&net.ussr.dir, items, "1979-06-18", false)
        .await
        .unwrap();
    ussr.escrow_reveal(&net.ussr.dir, "tatishchevo", None)
        .await
        .unwrap();
    sync(&us, &ussr, &clock).await;

    let report = |site: &str, found: Vec<FoundItem>| InspectionReport {
        inspector: "US".into(),
        inspected: "USSR".into(),
        site: site.into(),
        date: "1979-09-12".into(),
        found,
    };
    // T-01: one as declared, one with another attribute, one undeclared; T-01-3 missing.
    us.file_inspection(report(
        "T-01",
        vec![
            found(Some("T-01-1"), true),
            found(Some("T-01-2"), false),
            found(Some("T-01-9"), true),
        ],
    ))
    .await
    .unwrap();
    // T-02: exactly as declared.
    us.file_inspection(report("T-02", vec![found(Some("T-02-1"), true)]))
        .await
        .unwrap();
    // U-01: not revealed yet, so not reconciled yet.
    us.file_inspection(report("U-01", vec![found(None, true), found(None, true)]))
        .await
        .unwrap();
    // A report on oneself, or of a party not in the treaty, is refused.
    let mut own = report("X", vec![]);
    own.inspected = "US".into();
    assert!(matches!(
        us.file_inspection(own).await,
        Err(NodeError::Invalid(_))
    ));
    sync(&us, &ussr, &clock).await;

    let state = same_state(&us, &ussr).await;
    assert_eq!(
        reasons(&state),
        ["attribute_mismatch", "undeclared_item", "missing_item"],
        "{:#?}",
        state.findings
    );
    let reveal = at(USSR, 1);
    let report_at = at(US, 0);
    let [mismatch, undeclared, missing] = &state.findings[..] else {
        unreachable!()
    };
    assert_eq!(mismatch.ids, ["T-01-2"]);
    assert_eq!(mismatch.records, [report_at.clone(), reveal.clone()]);
    assert_eq!(mismatch.evidence["attribute"], "mirv");
    assert_eq!(undeclared.ids, ["T-01-9"]);
    assert_eq!(undeclared.records, std::slice::from_ref(&report_at));
    assert_eq!(missing.ids, ["T-01-3"]);
    assert_eq!(missing.records, [report_at, reveal]);
    for f in &state.findings {
        assert_eq!(
            (f.party.as_str(), f.severity),
            ("USSR", Severity::Violation)
        );
    }
    let statuses: Vec<&str> = state.inspections.iter().map(|i| i.status).collect();
    assert_eq!(statuses, ["reconciled", "reconciled", "site_not_revealed"]);
    // 2 of the 2 revealed sites inspected: any one hiding site would have been found.
    let all = state.parties[0].detection.last().unwrap();
    assert_eq!(
        (all.sites, all.inspected, all.probability),
        (2, 2, Some(1.0))
    );

    // Once uzhur is revealed, the U-01 report is reconciled too.
    ussr.escrow_reveal(&net.ussr.dir, "uzhur", None)
        .await
        .unwrap();
    sync(&us, &ussr, &clock).await;
    let state = same_state(&us, &ussr).await;
    assert_eq!(state.inspections[2].status, "reconciled");
    assert_eq!(state.inspections[2].region.as_deref(), Some("uzhur"));
    assert_eq!(
        state.findings.last().unwrap().reason,
        "undeclared_item",
        "two found at U-01, one declared"
    );
    // With k = 2 hiding sites assumed, among 3 sites, all 3 inspected.
    let k2 = us
        .verification_state(&StateOptions { hidden: 2 })
        .await
        .unwrap();
    let all = k2.parties[0].detection.last().unwrap();
    assert_eq!((all.sites, all.inspected, all.hidden), (3, 3, 2));
}

// ----- limit proofs ---------------------------------------------------------------------------

#[tokio::test]
async fn a_proved_limit_is_compliant_and_a_bad_opening_a_violation() {
    let net = network();
    let clock = ManualClock::new(T0_MS);
    let us = open(&net.us, &clock).await;
    let ussr = open(&net.ussr, &clock).await;

    // Only limit provisions, and only values within the bound, can be proved.
    let not_limit = ussr
        .prove_limit(&net.ussr.dir, "c", 1, 2, "1979-06-18")
        .await;
    assert!(
        matches!(&not_limit, Err(NodeError::Invalid(m)) if m.contains("its limits are a, b, h, i")),
        "{not_limit:?}"
    );
    let above = ussr
        .prove_limit(&net.ussr.dir, "a", 2401, 2400, "1979-06-18")
        .await;
    assert!(matches!(above, Err(NodeError::Invalid(_))), "{above:?}");

    let (appended, proof) = ussr
        .prove_limit(&net.ussr.dir, "a", 2380, 2400, "1979-06-18")
        .await
        .unwrap();
    assert_eq!(appended.first_index, 0);
    let opening_file = private::opening_path(&net.ussr.dir, &proof.commitment);
    #[cfg(unix)]
    assert_eq!(mode(&opening_file), 0o600);
    sync(&us, &ussr, &clock).await;

    let state = same_state(&us, &ussr).await;
    assert!(state.findings.is_empty(), "{:?}", state.findings);
    assert!(state.limit_proofs[0].verified);

    // The engine alone has no value for USSR's `a`; with the proof it is compliant.
    let at_july = instant("1979-07-01");
    let plain = us.report(at_july, &Options::default()).await.unwrap();
    assert_eq!(finding(&plain, "USSR", "a").status, Status::NoData);
    let from_us = us
        .report_with_verification(at_july, &Options::default())
        .await
        .unwrap();
    let from_ussr = ussr
        .report_with_verification(at_july, &Options::default())
        .await
        .unwrap();
    assert_eq!(
        serde_json::to_string(&from_us).unwrap(),
        serde_json::to_string(&from_ussr).unwrap()
    );
    let a = finding(&from_us, "USSR", "a");
    assert_eq!(a.status, Status::Compliant);
    assert_eq!(a.value, None, "the value is not disclosed");
    let evidence = &a.evidence["proof"];
    assert_eq!(evidence["method"], PROVED_WITHOUT_DISCLOSURE);
    assert_eq!(
        (evidence["origin"].as_str(), evidence["index"].as_u64()),
        (Some(USSR), Some(0))
    );
    assert_eq!(
        (evidence["bound"].as_u64(), evidence["as_of"].as_str()),
        (Some(2400), Some("1979-06-18"))
    );
    assert_eq!(finding(&from_us, "US", "a").status, Status::NoData);
    assert_eq!(
        from_us.summary["compliant"],
        plain.summary["compliant"] + 1,
        "the summary counts it"
    );
    // Before the proof's date, or with a lower limit, the proof does not apply.
    let june = us
        .report_with_verification(instant("1979-06-01"), &Options::default())
        .await
        .unwrap();
    assert_eq!(finding(&june, "USSR", "a").status, Status::NoData);
    let mut lower = Options::default();
    lower.params.insert("sdv_ceiling".into(), "2300".into());
    let lower = us.report_with_verification(at_july, &lower).await.unwrap();
    assert_eq!(finding(&lower, "USSR", "a").status, Status::NoData);

    // The party opens it: the value is shown and checks.
    ussr.open_limit(&net.ussr.dir, "a", "1979-06-18")
        .await
        .unwrap();
    assert!(
        ussr.open_limit(&net.ussr.dir, "a", "1979-06-18")
            .await
            .is_err()
    );
    sync(&us, &ussr, &clock).await;
    let state = same_state(&us, &ussr).await;
    assert!(state.findings.is_empty(), "{:?}", state.findings);
    assert!(state.limit_proofs[0].openings[0].matches);
    let opened = us
        .report_with_verification(at_july, &Options::default())
        .await
        .unwrap();
    let a = finding(&opened, "USSR", "a");
    assert_eq!(a.status, Status::Compliant);
    assert_eq!(serde_json::to_value(a.value).unwrap(), 2380);
    assert_eq!(serde_json::to_value(a.margin).unwrap(), 20);

    // A second opening that claims another number: a violation, on every node.
    let forged = Opening {
        context: proof.context.clone(),
        value: 2100,
        blinding: [0u8; 32],
    };
    ussr.append_verification(&[Record::Opening(forged)])
        .await
        .unwrap();
    sync(&us, &ussr, &clock).await;
    let state = same_state(&us, &ussr).await;
    assert_eq!(reasons(&state), ["opening_mismatch"]);
    assert_eq!(state.findings[0].records, [at(USSR, 2), at(USSR, 0)]);
    let report = ussr
        .report_with_verification(at_july, &Options::default())
        .await
        .unwrap();
    let a = finding(&report, "USSR", "a");
    assert_eq!(a.status, Status::Violation);
    assert_eq!(a.violations[0].reason, "opening_mismatch");
}

// ----- bad records in a peer's log ----------------------------------------------------------

#[tokio::test]
async fn malformed_records_are_reported_and_never_block_the_report() {
    let net = network();
    let clock = ManualClock::new(T0_MS);
    let us = open(&net.us, &clock).await;
    let ussr = open(&net.ussr, &clock).await;
    let (_, proof) = ussr
        .prove_limit(&net.ussr.dir, "a", 2000, 2400, "1979-06-18")
        .await
        .unwrap();
    // One bit of a scalar of the range proof (t_x, little-endian, at byte 128): the
    // record still reads, but the proof no longer verifies.
    let mut broken_proof = proof.clone();
    broken_proof.proof[128] ^= 1;
    let broken_bytes = Record::LimitProof(broken_proof).encode().unwrap();
    assert!(Record::decode(&broken_bytes).is_ok());
    let commitment = Record::Commitment(
        Escrow::new(vec![(item("r", "x", "x", true), [1u8; 32])])
            .unwrap()
            .commitment("USSR", "1979-06-18", false)
            .unwrap(),
    )
    .encode()
    .unwrap();
    let stray = Escrow::new(vec![(item("r", "y", "y", true), [2u8; 32])])
        .unwrap()
        .reveal("USSR", "1979-06-18", "r")
        .unwrap();
    let bodies: Vec<Vec<u8>> = vec![
        b"not a record at all".to_vec(),
        b"detente-escrow/commitment/v1\x00".to_vec(),
        commitment[..commitment.len() - 3].to_vec(),
        Record::SeedCommitment(SeedCommitment::new("r1", "US", &[0u8; 32]).unwrap())
            .encode()
            .unwrap(),
        broken_bytes,
        Record::Reveal(stray).encode().unwrap(),
        Vec::new(),
        vec![0xff; 5000],
    ];
    ussr.append_entries(
        bodies
            .into_iter()
            .map(|b| (EntryKind::Verification, b))
            .collect(),
    )
    .await
    .unwrap();
    sync(&us, &ussr, &clock).await;

    let state = same_state(&us, &ussr).await;
    let problems: Vec<(u64, &str)> = state
        .problems
        .iter()
        .map(|p| (p.index, p.detail.as_str()))
        .collect();
    assert_eq!(
        problems.iter().map(|(i, _)| *i).collect::<Vec<_>>(),
        [1, 2, 3, 4, 7, 8],
        "{problems:#?}"
    );
    assert!(
        problems[0].1.contains("not a verification record"),
        "{}",
        problems[0].1
    );
    assert!(
        problems[1].1.contains("commitment byte"),
        "{}",
        problems[1].1
    );
    assert!(
        problems[3]
            .1
            .contains("seed commitment of US in the log of USSR"),
        "{}",
        problems[3].1
    );
    assert!(state.problems.iter().all(|p| p.origin == USSR));
    assert_eq!(
        reasons(&state),
        ["reveal_mismatch", "limit_proof_invalid"],
        "{:#?}",
        state.findings
    );
    assert_eq!(state.findings[0].records, [at(USSR, 6)]);
    assert_eq!(state.findings[1].records, [at(USSR, 5)]);
    // The valid proof still counts, and the report is computed as ever.
    assert_eq!(state.limit_proofs.iter().filter(|p| p.verified).count(), 1);
    let report = us
        .report_with_verification(instant("1979-07-01"), &Options::default())
        .await
        .unwrap();
    assert_eq!(finding(&report, "USSR", "a").status, Status::Compliant);
    let plain = us
        .report(instant("1979-07-01"), &Options::default())
        .await
        .unwrap();
    assert_eq!(plain.findings.len(), report.findings.len());
    // The facts path never sees verification entries.
    assert!(us.log_facts().await.unwrap().problems.is_empty());
}

/// A record too large for a log entry is refused with the reason; nothing is appended.
#[tokio::test]
async fn an_oversized_record_is_refused() {
    let net = network();
    let clock = ManualClock::new(T0_MS);
    let us = open(&net.us, &clock).await;
    let found: Vec<FoundItem> = (0..4000)
        .map(|i| FoundItem {
            id: Some(format!("item-{i:05}")),
            category: "icbm_launcher".into(),
            attributes: vec![("note".into(), Value::Text("x".repeat(300)))],
        })
        .collect();
    let report = InspectionReport {
        inspector: "US".into(),
        inspected: "USSR".into(),
        site: "T-01".into(),
        date: "1979-09-12".into(),
        found,
    };
    let refused = us.file_inspection(report).await;
    assert!(
        matches!(&refused, Err(NodeError::Invalid(m)) if m.contains("more than a log entry can hold")),
        "{refused:?}"
    );
    assert_eq!(own_size(&us).await, 0);
}
