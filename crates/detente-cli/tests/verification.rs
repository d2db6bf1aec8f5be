#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    clippy::print_stdout,
    clippy::print_stderr
)]
//! The verification scenario (`scenarios/verification/`) on two real nodes: `detente`
//! processes on SQLite data folders, US and USSR of the Carter-1977 treaty, each serving
//! and mirroring the other's log over HTTP on loopback, as in `nodes.rs`.
//!
//! The USSR commits to an item-level declaration of three missile fields, reveals
//! Kozelsk, proves provision (a) in zero knowledge, then reveals Tatishchevo, where site
//! T-05 hides a launcher it did not declare. The parties run seed round 1979-Q3 with the
//! seeds of `seeds.json`; the draw sends the US inspectors to T-04 and T-05; their report
//! on T-05 finds the undeclared launcher. Both nodes must reach byte-identical state and
//! reports. Then a reveal with a changed item, signed into the USSR's log, is a
//! `reveal_mismatch` on both nodes.

use std::path::Path;
use std::time::Duration;

mod support;

use support::{ROOT, Server, US, USSR, expect_code, free_port, json, pair, run, wait_for};

/// The longest any wait polls.
const WAIT: Duration = Duration::from_secs(60);

fn scenario(file: &str) -> String {
    format!("{ROOT}/scenarios/verification/{file}")
}

/// The verification state a node prints, as JSON (exit code 0 or 1).
fn status(root: &Path, data: &str) -> (i32, String) {
    let r = run(root, &["escrow", "status", "--data", data, "--json"]);
    assert!(r.code == 0 || r.code == 1, "escrow status: {r:?}");
    (r.code, r.stdout)
}

/// Waits until the node of `data` holds `origin` at `size` entries.
fn wait_for_log(root: &Path, data: &str, origin: &str, size: u64, servers: &[&Server]) {
    let what = format!("{data} holds {origin} at {size} entries");
    wait_for(&what, WAIT, servers, || {
        let (_, text) = status(root, data);
        let held = json(&text)["inputs"]
            .as_array()
            .unwrap()
            .iter()
            .find(|i| i["name"] == origin)
            .and_then(|i| i["records"].as_u64());
        if held == Some(size) {
            Ok(())
        } else {
            Err(format!("{held:?}"))
        }
    });
}

/// Both nodes hold both logs at these sizes.
fn wait_both(root: &Path, us_size: u64, ussr_size: u64, servers: &[&Server]) {
    for data in ["us", "ussr"] {
        wait_for_log(root, data, US, us_size, servers);
        wait_for_log(root, data, USSR, ussr_size, servers);
    }
}

/// Appends a reveal of region `region` with one item changed to the USSR's log, signed
/// by the USSR's node, as a party that tampers with its own records would (its node's
/// tools refuse to). Returns the index appended at.
fn append_tampered_reveal(data: &Path, region: &str, item_id: &str) -> u64 {
    use detente_escrow::commit::Value as ItemValue;
    use detente_node::verification::Record;
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    runtime.block_on(async {
        let home = detente_node::Home::open(data).unwrap();
        let store = detente_store::SqliteStore::open(&home.store_path())
            .await
            .unwrap();
        let node =
            detente_node::Node::open(&home, store, std::sync::Arc::new(detente_node::SystemClock))
                .await
                .unwrap();
        let logs = node.verification_logs().await.unwrap();
        let own = logs.iter().find(|l| l.origin == USSR).unwrap();
        let mut reveal = own
            .entries
            .iter()
            .find_map(|e| match Record::decode(&e.body) {
                Ok(Record::Reveal(r)) if r.region == region => Some(r),
                _ => None,
            })
            .expect("the region was revealed");
        let item = reveal
            .items
            .iter_mut()
            .find(|i| i.item.id == item_id)
            .expect("the item was revealed");
        for (name, value) in &mut item.item.attributes {
            if name == "missile" {
                *value = ItemValue::Text("SS-17".to_owned());
            }
        }
        reveal.items.retain(|i| i.item.id == item_id);
        node.append_verification(&[Record::Reveal(reveal)])
            .await
            .unwrap()
            .first_index
    })
}

#[test]
fn the_verification_scenario_runs_on_two_nodes_and_both_reach_the_same_findings() {
    let (us_port, ussr_port) = (free_port(), free_port());
    let dir = pair(us_port, ussr_port);
    let root = dir.path();
    let us = Server::start(&root.join("us"), us_port, root.join("us.log"), WAIT);
    let ussr = Server::start(&root.join("ussr"), ussr_port, root.join("ussr.log"), WAIT);
    let servers = [&us, &ussr];
    let seeds = json(&std::fs::read_to_string(scenario("seeds.json")).unwrap());
    let round = seeds["round"].as_str().unwrap();

    // 1. The USSR commits to its whole declaration (26 launchers in three fields), with
    //    counts per region, and reveals Kozelsk.
    let items = scenario("ussr-items.jsonl");
    let r = run(
        root,
        &[
            "escrow",
            "commit",
            "--data",
            "ussr",
            "--items",
            &items,
            "--as-of",
            "1979-06-18",
            "--publish-counts",
        ],
    );
    expect_code(&r, 0, "escrow commit");
    assert!(r.stdout.contains("26 items in 3 regions"), "{}", r.stdout);
    let private = root.join("ussr/private");
    let escrow_file = std::fs::read_dir(&private)
        .unwrap()
        .map(|e| e.unwrap().path())
        .find(|p| p.to_string_lossy().contains("escrow-"))
        .expect("the escrow file");
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt as _;
        let mode = std::fs::metadata(&escrow_file)
            .unwrap()
            .permissions()
            .mode();
        assert_eq!(mode & 0o777, 0o600);
    }
    let r = run(
        root,
        &["escrow", "reveal", "--data", "ussr", "--region", "kozelsk"],
    );
    expect_code(&r, 0, "escrow reveal kozelsk");
    assert!(r.stdout.contains("6 items in 1 entry"), "{}", r.stdout);

    // 2. It proves (a), SDVs <= 2400, without saying how many it has.
    let r = run(
        root,
        &[
            "prove",
            "limit",
            "--data",
            "ussr",
            "--provision",
            "a",
            "--value",
            "2380",
            "--bound",
            "2400",
            "--as-of",
            "1979-06-18",
        ],
    );
    expect_code(&r, 0, "prove limit");

    // 3. Later it reveals Tatishchevo, where site T-05 hides an undeclared launcher.
    let r = run(
        root,
        &[
            "escrow",
            "reveal",
            "--data",
            "ussr",
            "--region",
            "tatishchevo",
        ],
    );
    expect_code(&r, 0, "escrow reveal tatishchevo");

    // 4. The seed round: both commit, then both reveal, each after holding the other's
    //    commitment (a reveal before that is refused, since it would void the round).
    let r = run(
        root,
        &[
            "inspect",
            "seed",
            "--data",
            "ussr",
            "--round",
            round,
            "--seed",
            seeds["USSR"].as_str().unwrap(),
        ],
    );
    expect_code(&r, 0, "inspect seed (USSR)");
    let r = run(
        root,
        &[
            "inspect", "seed", "--data", "ussr", "--round", round, "--reveal",
        ],
    );
    expect_code(&r, 2, "an early seed reveal");
    assert!(r.stderr.contains("no commitment of US"), "{}", r.stderr);
    wait_for_log(root, "us", USSR, 5, &servers);
    let r = run(
        root,
        &[
            "inspect",
            "seed",
            "--data",
            "us",
            "--round",
            round,
            "--seed",
            seeds["US"].as_str().unwrap(),
        ],
    );
    expect_code(&r, 0, "inspect seed (US)");
    wait_for_log(root, "ussr", US, 1, &servers);
    let r = run(
        root,
        &[
            "inspect", "seed", "--data", "ussr", "--round", round, "--reveal",
        ],
    );
    expect_code(&r, 0, "inspect seed --reveal (USSR)");
    let r = run(
        root,
        &[
            "inspect", "seed", "--data", "us", "--round", round, "--reveal",
        ],
    );
    expect_code(&r, 0, "inspect seed --reveal (US)");
    wait_both(root, 2, 6, &servers);

    // 5. The draw: the same two sites on both nodes, T-05 among them (and the same as
    //    generate.py's own implementation of the draw finds).
    let expected: Vec<&str> = seeds["draw"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s.as_str().unwrap())
        .collect();
    assert_eq!(expected[..2], ["T-04", "T-05"]);
    let mut draws = Vec::new();
    for data in ["us", "ussr"] {
        let r = run(
            root,
            &[
                "inspect",
                "draw",
                "--data",
                data,
                "--round",
                round,
                "--party",
                "USSR",
                "--region",
                "tatishchevo",
                "--sites",
                "2",
            ],
        );
        expect_code(&r, 0, "inspect draw");
        draws.push(r.stdout);
    }
    assert_eq!(draws[0], draws[1]);
    assert_eq!(draws[0], "T-04\nT-05\n");

    // 6. The US inspects both sites; T-04 is as declared, at T-05 it finds a third
    //    launcher.
    let r = run(
        root,
        &[
            "inspect",
            "report",
            "--data",
            "us",
            &scenario("inspection-T-04.json"),
        ],
    );
    expect_code(&r, 0, "inspect report T-04");
    let r = run(
        root,
        &[
            "inspect",
            "report",
            "--data",
            "us",
            &scenario("inspection-T-05.json"),
        ],
    );
    expect_code(&r, 1, "inspect report T-05");
    assert!(r.stdout.contains("undeclared_item"), "{}", r.stdout);
    wait_both(root, 4, 6, &servers);

    // Both nodes: byte-identical state, with the expected findings.
    let (code_us, from_us) = status(root, "us");
    let (code_ussr, from_ussr) = status(root, "ussr");
    assert!(
        from_us == from_ussr,
        "the nodes differ:\n--- US\n{from_us}\n--- USSR\n{from_ussr}"
    );
    assert_eq!(
        (code_us, code_ussr),
        (1, 1),
        "an undeclared item is a violation"
    );
    let state = json(&from_us);
    let findings = state["findings"].as_array().unwrap();
    assert_eq!(findings.len(), 1, "{findings:#?}");
    let f = &findings[0];
    assert_eq!(f["party"], "USSR");
    assert_eq!(f["reason"], "undeclared_item");
    assert_eq!(f["ids"], serde_json::json!(["T-05-3"]));
    assert_eq!(
        f["records"],
        serde_json::json!([{"origin": US, "index": 3}])
    );
    let round_state = &state["rounds"][0];
    assert_eq!(round_state["status"], "complete");
    let draw = round_state["draws"]
        .as_array()
        .unwrap()
        .iter()
        .find(|d| d["region"] == "tatishchevo")
        .unwrap();
    assert_eq!(draw["first"], seeds["draw"]);
    let inspections = state["inspections"].as_array().unwrap();
    assert_eq!(inspections[0]["drawn"][0]["position"], 1);
    assert_eq!(inspections[1]["drawn"][0]["position"], 2);
    let detection = state["parties"][0]["detection"].as_array().unwrap();
    let tatishchevo = detection
        .iter()
        .find(|d| d["region"] == "tatishchevo")
        .unwrap();
    assert_eq!(
        (
            &tatishchevo["sites"],
            &tatishchevo["inspected"],
            &tatishchevo["probability"]
        ),
        (
            &serde_json::json!(8),
            &serde_json::json!(2),
            &serde_json::json!(0.25)
        )
    );
    let regions: Vec<&str> = state["parties"][0]["commitments"][0]["regions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["region"].as_str().unwrap())
        .collect();
    assert_eq!(regions, ["kozelsk", "tatishchevo"]);

    // The proved limit: compliant, "proved without disclosure", the same on both nodes.
    let mut reports = Vec::new();
    for data in ["us", "ussr"] {
        let r = run(
            root,
            &[
                "prove",
                "verify",
                "--data",
                data,
                "--at",
                "1979-07-01",
                "--json",
            ],
        );
        expect_code(&r, 0, "prove verify");
        reports.push(r.stdout);
    }
    assert!(reports[0] == reports[1], "the reports differ");
    let verified = json(&reports[0]);
    assert_eq!(verified["proofs"][0]["verified"], true);
    let a = verified["report"]["findings"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["party"] == "USSR" && f["provision"] == "a")
        .unwrap();
    assert_eq!(a["status"], "compliant");
    assert_eq!(
        a["evidence"]["proof"]["method"],
        "proved without disclosure"
    );
    assert_eq!(a["evidence"]["proof"]["origin"], USSR);
    assert_eq!(a["evidence"]["proof"]["index"], 2);
    assert_eq!(a["evidence"]["proof"]["bound"], 2400);
    assert!(a.get("value").is_none(), "the value is not disclosed: {a}");

    // `assess --node` reads the proved limit the same way, on both nodes.
    let mut assessed = Vec::new();
    for data in ["us", "ussr"] {
        let r = run(
            root,
            &[
                "assess",
                "--node",
                data,
                "--at",
                "1979-07-01",
                "--format",
                "json",
            ],
        );
        assert!(r.code == 0 || r.code == 1, "assess --node: {r:?}");
        assessed.push(r.stdout);
    }
    assert!(assessed[0] == assessed[1], "the assessments differ");
    let report = json(&assessed[0]);
    let a = report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["party"] == "USSR" && f["provision"] == "a")
        .unwrap();
    assert_eq!(a["status"], "compliant", "{a}");
    assert_eq!(
        a["evidence"]["proof"]["method"],
        "proved without disclosure"
    );

    // The human view says the same.
    let r = run(root, &["escrow", "status", "--data", "us"]);
    expect_code(&r, 1, "escrow status");
    assert!(r.stdout.contains("undeclared_item"), "{}", r.stdout);
    assert!(r.stdout.contains("1979-Q3: complete"), "{}", r.stdout);

    // 7. A reveal with a changed item in the USSR's log: a reveal_mismatch on both nodes.
    let index = append_tampered_reveal(&root.join("ussr"), "tatishchevo", "T-02-1");
    assert_eq!(index, 6);
    wait_both(root, 4, 7, &servers);
    let (code_us, from_us) = status(root, "us");
    let (_, from_ussr) = status(root, "ussr");
    assert!(
        from_us == from_ussr,
        "the nodes differ after the tampered reveal"
    );
    assert_eq!(code_us, 1);
    let state = json(&from_us);
    let mismatch = state["findings"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["reason"] == "reveal_mismatch")
        .unwrap_or_else(|| panic!("no reveal_mismatch: {:#?}", state["findings"]));
    assert_eq!(mismatch["party"], "USSR");
    assert_eq!(mismatch["ids"], serde_json::json!(["T-02-1"]));
    assert_eq!(
        mismatch["records"],
        serde_json::json!([{"origin": USSR, "index": 6}, {"origin": USSR, "index": 0}])
    );
    assert!(
        mismatch["detail"]
            .as_str()
            .unwrap()
            .contains("does not match the commitment"),
        "{mismatch}"
    );
}

#[test]
fn inspect_plan_needs_no_node_and_refuses_nonsense() {
    let root = Path::new(ROOT);
    let r = run(
        root,
        &[
            "inspect",
            "plan",
            "--confidence",
            "0.95",
            "--sites",
            "1000",
            "--hidden",
            "5",
        ],
    );
    expect_code(&r, 0, "inspect plan");
    assert!(r.stdout.contains("inspect 450 sites"), "{}", r.stdout);
    let r = run(
        root,
        &[
            "inspect",
            "plan",
            "--confidence",
            "1.5",
            "--sites",
            "10",
            "--hidden",
            "1",
        ],
    );
    expect_code(&r, 2, "a confidence above 1");
    let r = run(
        root,
        &[
            "inspect",
            "plan",
            "--confidence",
            "0.9",
            "--sites",
            "10",
            "--hidden",
            "11",
        ],
    );
    expect_code(&r, 2, "more hiding sites than sites");
}
