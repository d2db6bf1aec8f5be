#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]
//! The same facts in any line order give the same report (docs/facts.md), and the same
//! inputs give the same bytes.
//!
//! The lines of `scenarios/carter-1977/facts.jsonl` are shuffled with a seeded generator
//! into a temporary file; the seed is printed, and `DETENTE_SHUFFLE_SEED=N` replays one.
//! The reports must be equal except for `inputs` (the file's name and hash differ).

use serde_json::Value;
use std::path::Path;
use std::process::Command;

const ROOT: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../..");
const FACTS: &str = "scenarios/carter-1977/facts.jsonl";

/// SplitMix64: small, seedable, good enough to shuffle lines.
struct SplitMix64(u64);

impl SplitMix64 {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// Fisher–Yates.
    fn shuffle<T>(&mut self, items: &mut [T]) {
        for i in (1..items.len()).rev() {
            let j = (self.next() % (i as u64 + 1)) as usize;
            items.swap(i, j);
        }
    }
}

fn detente(cwd: &Path, args: &[&str]) -> (i32, String) {
    let output = Command::new(env!("CARGO_BIN_EXE_detente"))
        .args(args)
        .current_dir(cwd)
        .output()
        .expect("the detente binary runs");
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.is_empty(), "detente {}: {stderr}", args.join(" "));
    (
        output.status.code().expect("an exit code"),
        String::from_utf8(output.stdout).expect("UTF-8"),
    )
}

fn without_inputs(text: &str) -> Value {
    let mut value: Value = serde_json::from_str(text).expect("a JSON report");
    match &mut value {
        Value::Object(map) => {
            assert!(map.remove("inputs").is_some(), "the report has `inputs`");
        }
        Value::Array(plans) => {
            for plan in plans {
                if let Value::Object(map) = plan {
                    assert!(map.remove("inputs").is_some(), "the plan has `inputs`");
                }
            }
        }
        _ => panic!("unexpected JSON: {text}"),
    }
    value
}

fn seeds() -> Vec<u64> {
    if let Some(seed) = std::env::var("DETENTE_SHUFFLE_SEED")
        .ok()
        .and_then(|s| s.parse().ok())
    {
        return vec![seed];
    }
    // A fixed seed, and one that changes from run to run.
    let clock = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(1, |d| d.as_nanos() as u64);
    vec![0x5EED_1977, clock]
}

#[test]
fn shuffled_facts_give_the_same_report() {
    let root = Path::new(ROOT);
    let text = std::fs::read_to_string(root.join(FACTS)).expect("the scenario");
    let lines: Vec<&str> = text.lines().collect();
    assert!(lines.len() > 1000);
    let treaty = root.join("treaties/carter-1977.treaty");
    let treaty = treaty.to_str().expect("a UTF-8 path");
    let caps = [
        "--set",
        "civil_defense_cap=1000",
        "--set",
        "arms_sales_cap=2000",
    ];

    for seed in seeds() {
        eprintln!("shuffle seed: {seed} (replay with DETENTE_SHUFFLE_SEED={seed})");
        let mut shuffled = lines.clone();
        SplitMix64(seed).shuffle(&mut shuffled);
        assert_ne!(shuffled, lines, "seed {seed}: the shuffle moved nothing");
        let dir = tempfile::tempdir().expect("a temporary folder");
        std::fs::write(
            dir.path().join("shuffled.jsonl"),
            shuffled.join("\n") + "\n",
        )
        .expect("write");
        let original = root.join(FACTS);
        let original = original.to_str().expect("a UTF-8 path");

        for at in ["1978-07-01", "1979-09-30", "1980-12-31", "1982-12-31"] {
            for command in ["assess", "plan"] {
                let mut base = vec![command, "--treaty", treaty, "--at", at, "--format", "json"];
                base.extend(caps);
                let mut a = base.clone();
                a.extend(["--facts", original]);
                let mut b = base.clone();
                b.extend(["--facts", "shuffled.jsonl"]);
                let (code_a, out_a) = detente(dir.path(), &a);
                let (code_b, out_b) = detente(dir.path(), &b);
                assert_eq!(code_a, code_b, "seed {seed}, {command} at {at}: exit codes");
                let (va, vb) = (without_inputs(&out_a), without_inputs(&out_b));
                if va != vb {
                    let pa = serde_json::to_string_pretty(&va).unwrap_or_default();
                    let pb = serde_json::to_string_pretty(&vb).unwrap_or_default();
                    let first = pa
                        .lines()
                        .zip(pb.lines())
                        .position(|(x, y)| x != y)
                        .unwrap_or(0);
                    panic!(
                        "seed {seed}, {command} at {at}: the shuffled facts give another report, from line {}:\n--- in order\n{}\n--- shuffled\n{}",
                        first + 1,
                        pa.lines()
                            .skip(first.saturating_sub(3))
                            .take(8)
                            .collect::<Vec<_>>()
                            .join("\n"),
                        pb.lines()
                            .skip(first.saturating_sub(3))
                            .take(8)
                            .collect::<Vec<_>>()
                            .join("\n"),
                    );
                }
                // Byte for byte too, apart from the `inputs` block.
                assert_eq!(
                    serde_json::to_string(&va).unwrap_or_default(),
                    serde_json::to_string(&vb).unwrap_or_default(),
                    "seed {seed}, {command} at {at}"
                );
            }
        }
    }
}

#[test]
fn the_same_inputs_give_the_same_bytes() {
    let root = Path::new(ROOT);
    let args = [
        "assess",
        "--treaty",
        "treaties/carter-1977.treaty",
        "--facts",
        FACTS,
        "--at",
        "1980-12-31",
        "--format",
        "json",
    ];
    let (code, first) = detente(root, &args);
    assert_eq!(code, 1);
    for _ in 0..2 {
        let (_, again) = detente(root, &args);
        assert_eq!(again, first, "two runs on the same inputs differ");
    }
    let args = [
        "timeline",
        "--treaty",
        "treaties/carter-1977.treaty",
        "--facts",
        FACTS,
        "--from",
        "1977-10-03",
        "--to",
        "1983-12-31",
        "--every",
        "3 months",
        "--format",
        "json",
    ];
    let (_, first) = detente(root, &args);
    let (_, again) = detente(root, &args);
    assert_eq!(again, first, "two timelines on the same inputs differ");
}
