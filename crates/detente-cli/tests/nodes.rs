#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    clippy::print_stdout,
    clippy::print_stderr
)]
//! Nodes run for real: `detente` processes on real SQLite files, talking HTTP over the
//! loopback interface. Two parties (US and USSR) of the Carter-1977 treaty, set up as a
//! newcomer does (`keygen`, a network file, `init`, `submit`, `serve`).
//!
//! Every server is a [`Server`] (in a [`Node`]), killed when it goes out of scope, even
//! when a test fails. Waits poll (`/healthz`, `/api/v1/log`, `log show`) for at most
//! [`WAIT`]; nothing asserts on how long anything took. HTTP is spoken with a few lines of
//! `std::net` (requests with `Connection: close`), which also serve as the fake peer of
//! `malformed_and_oversized_peer_answers_are_refused`.

use serde_json::{Value, json};
use std::collections::{BTreeMap, BTreeSet};
use std::io::{Read as _, Write as _};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as BASE64;

mod support;

use support::{
    BIN, ROOT, Run, Server, US, USSR, expect_code, free_port, json, pair, path_str, run, wait_for,
};

/// The longest any wait polls.
const WAIT: Duration = Duration::from_secs(30);

// ----- HTTP, by hand --------------------------------------------------------------------------

#[derive(Debug)]
struct Response {
    status: u16,
    body: Vec<u8>,
}

impl Response {
    fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }
}

/// One request on a fresh connection. A response cut short (no complete head, or fewer
/// body bytes than announced) is an error, not a response.
fn http(
    port: u16,
    method: &str,
    path: &str,
    headers: &[(&str, &str)],
    body: &[u8],
) -> std::io::Result<Response> {
    let address = SocketAddr::from(([127, 0, 0, 1], port));
    let mut stream = TcpStream::connect_timeout(&address, Duration::from_secs(5))?;
    stream.set_read_timeout(Some(WAIT))?;
    stream.set_write_timeout(Some(WAIT))?;
    let mut head = format!(
        "{method} {path} HTTP/1.1\r\nhost: 127.0.0.1:{port}\r\nconnection: close\r\ncontent-length: {}\r\n",
        body.len()
    );
    for (name, value) in headers {
        head.push_str(&format!("{name}: {value}\r\n"));
    }
    head.push_str("\r\n");
    stream.write_all(head.as_bytes())?;
    stream.write_all(body)?;
    let mut raw = Vec::new();
    stream.read_to_end(&mut raw)?;
    parse_response(&raw)
}

fn cut_short(what: &str) -> std::io::Error {
    std::io::Error::new(std::io::ErrorKind::UnexpectedEof, what.to_owned())
}

fn parse_response(raw: &[u8]) -> std::io::Result<Response> {
    let end = raw
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .ok_or_else(|| cut_short("no complete response head"))?;
    let head = String::from_utf8_lossy(&raw[..end]).to_ascii_lowercase();
    let status = head
        .split_whitespace()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .ok_or_else(|| cut_short("no status"))?;
    let rest = &raw[end + 4..];
    let header = |name: &str| {
        head.lines()
            .find_map(|l| l.strip_prefix(name).map(|v| v.trim().to_owned()))
    };
    let body = if header("transfer-encoding:").is_some_and(|v| v.contains("chunked")) {
        let mut body = Vec::new();
        let mut rest = rest;
        loop {
            let line_end = rest
                .windows(2)
                .position(|w| w == b"\r\n")
                .ok_or_else(|| cut_short("chunk size"))?;
            let size_text = String::from_utf8_lossy(&rest[..line_end]).into_owned();
            let size = usize::from_str_radix(size_text.split(';').next().unwrap_or("").trim(), 16)
                .map_err(|_| cut_short("chunk size"))?;
            rest = &rest[line_end + 2..];
            if size == 0 {
                break body;
            }
            if rest.len() < size + 2 {
                return Err(cut_short("chunk"));
            }
            body.extend_from_slice(&rest[..size]);
            rest = &rest[size + 2..];
        }
    } else if let Some(length) = header("content-length:") {
        let length: usize = length.parse().map_err(|_| cut_short("content-length"))?;
        if rest.len() != length {
            return Err(cut_short("body shorter than its content-length"));
        }
        rest.to_vec()
    } else {
        rest.to_vec()
    };
    Ok(Response { status, body })
}

// ----- a node's API --------------------------------------------------------------------------

/// A [`Server`] and an officer's token, sent with every API request.
struct Node {
    server: Server,
    token: String,
}

impl Node {
    /// Starts the node of `data` listening on `port`, and waits until `/healthz` answers.
    fn start(data: &Path, port: u16, log: PathBuf) -> Node {
        let token = operator_token(data);
        Node {
            server: Server::start(data, port, log, WAIT),
            token,
        }
    }

    fn get(&self, path: &str) -> Response {
        let bearer = format!("Bearer {}", self.token);
        http(self.port, "GET", path, &[("authorization", &bearer)], b"")
            .unwrap_or_else(|e| panic!("GET {path}: {e}\n--- server log\n{}", self.log_text()))
    }

    /// (origin, size, root) of every log the node holds, from `/api/v1/log`.
    fn logs(&self) -> Vec<(String, u64, String)> {
        let response = self.get("/api/v1/log");
        assert_eq!(response.status, 200, "{}", response.text());
        json(&response.body)["logs"]
            .as_array()
            .expect("logs")
            .iter()
            .map(|l| {
                (
                    l["origin"].as_str().unwrap().to_owned(),
                    l["size"].as_u64().unwrap(),
                    l["root"].as_str().unwrap().to_owned(),
                )
            })
            .collect()
    }
}

impl std::ops::Deref for Node {
    type Target = Server;

    fn deref(&self) -> &Server {
        &self.server
    }
}

impl std::ops::DerefMut for Node {
    fn deref_mut(&mut self) -> &mut Server {
        &mut self.server
    }
}

// ----- a network of two nodes ---------------------------------------------------------------

struct Pair {
    dir: tempfile::TempDir,
    us: PathBuf,
    ussr: PathBuf,
    network: PathBuf,
    us_port: u16,
    ussr_port: u16,
}

impl Pair {
    fn root(&self) -> &Path {
        self.dir.path()
    }

    fn log(&self, name: &str) -> PathBuf {
        self.root().join(format!("{name}.log"))
    }
}

/// `keygen` and `init` for US and USSR, with a network file giving their nodes these ports.
fn pair_on(us_port: u16, ussr_port: u16) -> Pair {
    let dir = pair(us_port, ussr_port);
    let root = dir.path();
    Pair {
        us: root.join("us"),
        ussr: root.join("ussr"),
        network: root.join("network.toml"),
        us_port,
        ussr_port,
        dir,
    }
}

/// The Carter-1977 scenario split by the party that speaks for each record: (US, USSR).
fn scenario() -> (String, String) {
    let text = std::fs::read_to_string(format!("{ROOT}/scenarios/carter-1977/facts.jsonl"))
        .expect("the scenario");
    let (mut us, mut ussr) = (String::new(), String::new());
    for line in text.lines().filter(|l| !l.trim().is_empty()) {
        let record = json(line.as_bytes());
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

/// Submits each party's share of the scenario to its node (42 and 1,664 entries).
fn submit_scenario(pair: &Pair, which: &[&str]) {
    let (us, ussr) = scenario();
    for (name, text, size) in [("us", us, 42), ("ussr", ussr, 1664)] {
        if !which.contains(&name) {
            continue;
        }
        let file = pair.root().join(format!("{name}.jsonl"));
        std::fs::write(&file, text).unwrap();
        let r = run(pair.root(), &["submit", "--data", name, path_str(&file)]);
        expect_code(&r, 0, "submit");
        assert!(
            r.stdout.contains(&format!("log size {size}")),
            "{}",
            r.stdout
        );
    }
}

/// `log verify --json`: (exit code, the result).
fn verify(data: &Path) -> (i32, Value, Run) {
    let r = run(
        Path::new(ROOT),
        &["log", "verify", "--data", path_str(data), "--json"],
    );
    let value = json(r.stdout.as_bytes());
    (r.code, value, r)
}

/// One log of a `log verify --json` result.
fn checked<'v>(verified: &'v Value, origin: &str) -> &'v Value {
    verified["logs"]
        .as_array()
        .expect("logs")
        .iter()
        .find(|l| l["origin"] == origin)
        .unwrap_or_else(|| panic!("no log {origin} in {verified}"))
}

/// The (index, id) of each fact entry of `party`'s log, from `log show`.
fn logged_ids(data: &Path, party: &str) -> BTreeMap<u64, String> {
    let r = run(
        Path::new(ROOT),
        &[
            "log",
            "show",
            "--data",
            path_str(data),
            "--party",
            party,
            "--last",
            "1000000",
        ],
    );
    expect_code(&r, 0, "log show");
    r.stdout
        .lines()
        .filter_map(|line| {
            // `   index  time  kind id`
            let words: Vec<&str> = line.split_whitespace().collect();
            let index = words.first()?.parse().ok()?;
            Some((index, words.get(3)?.to_string()))
        })
        .collect()
}

/// The token of an officer of the node in `data` (made with `detente user add` the first
/// time, and kept beside the folder).
fn operator_token(data: &Path) -> String {
    let cache = data.with_extension("officer-token");
    if let Ok(token) = std::fs::read_to_string(&cache) {
        return token.trim().to_owned();
    }
    let out = Command::new(BIN)
        .args([
            "user",
            "add",
            "test-officer",
            "--role",
            "officer",
            "--data",
            path_str(data),
        ])
        .output()
        .expect("detente user add runs");
    assert!(
        out.status.success(),
        "detente user add: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let token = String::from_utf8(out.stdout).unwrap().trim().to_owned();
    std::fs::write(&cache, &token).unwrap();
    token
}

/// One valid fact of US: an arms transfer with this id.
fn transfer(id: &str) -> String {
    format!(
        "{{\"kind\": \"event\", \"party\": \"US\", \"id\": \"{id}\", \"type\": \"arms_transfer\", \"at\": \"1985-01-01T12:00:00Z\", \"attributes\": {{\"recipient\": \"GB\", \"value_musd\": 10.0}}}}\n"
    )
}

fn submit_http(port: u16, token: &str, body: &str) -> std::io::Result<Response> {
    let bearer = format!("Bearer {token}");
    http(
        port,
        "POST",
        "/api/v1/submit",
        &[
            ("authorization", &bearer),
            ("content-type", "application/x-ndjson"),
        ],
        body.as_bytes(),
    )
}

// ----- 1. two nodes, one report -------------------------------------------------------------

#[test]
fn two_nodes_compute_byte_identical_reports() {
    let pair = pair_on(free_port(), free_port());
    submit_scenario(&pair, &["us", "ussr"]);
    let us = Node::start(&pair.us, pair.us_port, pair.log("us-serve"));
    let ussr = Node::start(&pair.ussr, pair.ussr_port, pair.log("ussr-serve"));

    // Both nodes hold both logs, with the same roots.
    let heads = wait_for(
        "both logs mirrored on both nodes",
        WAIT,
        &[&us, &ussr],
        || {
            let (a, b) = (us.logs(), ussr.logs());
            let sizes: Vec<(&str, u64)> = a.iter().map(|(o, s, _)| (o.as_str(), *s)).collect();
            if sizes == [(US, 42), (USSR, 1664)] && a == b {
                Ok(a)
            } else {
                Err(format!("US holds {a:?}, USSR holds {b:?}"))
            }
        },
    );
    // And each node's cosignature reached the other.
    for data in [&pair.us, &pair.ussr] {
        wait_for("cosignatures on both logs", WAIT, &[&us, &ussr], || {
            let r = run(
                pair.root(),
                &["log", "show", "--data", path_str(data), "--last", "0"],
            );
            let by_us = r.stdout.contains(&format!("cosigned by {US} at"));
            let by_ussr = r.stdout.contains(&format!("cosigned by {USSR} at"));
            if r.code == 0 && by_us && by_ussr {
                Ok(())
            } else {
                Err(format!("{}\n{}", r.stdout, r.stderr))
            }
        });
    }

    let inputs = json!([
        {"name": US, "sha256": heads[0].2, "records": 42},
        {"name": USSR, "sha256": heads[1].2, "records": 1664},
    ]);
    for at in ["1978-07-01", "1980-12-31", "1982-12-31"] {
        let path = format!("/api/v1/report?at={at}");
        let (from_us, from_ussr) = (us.get(&path), ussr.get(&path));
        assert_eq!(from_us.status, 200, "{}", from_us.text());
        assert_eq!(from_ussr.status, 200, "{}", from_ussr.text());
        assert!(
            from_us.body == from_ussr.body,
            "the reports at {at} differ:\n--- US\n{}\n--- USSR\n{}",
            from_us.text(),
            from_ussr.text()
        );
        let report = json(&from_us.body);
        assert_eq!(report["inputs"], inputs, "at {at}");
        assert!(!report["findings"].as_array().unwrap().is_empty());

        // The same findings as the offline assessment of the scenario file, and as
        // `assess --node` on either data folder.
        let offline = run(
            Path::new(ROOT),
            &[
                "assess",
                "--treaty",
                "treaties/carter-1977.treaty",
                "--facts",
                "scenarios/carter-1977/facts.jsonl",
                "--at",
                at,
                "--format",
                "json",
            ],
        );
        assert!(offline.code == 0 || offline.code == 1, "{offline:?}");
        let offline = json(offline.stdout.as_bytes());
        assert_eq!(report["findings"], offline["findings"], "findings at {at}");
        assert_eq!(report["summary"], offline["summary"], "summary at {at}");
        for data in [&pair.us, &pair.ussr] {
            let from_node = run(
                pair.root(),
                &[
                    "assess",
                    "--node",
                    path_str(data),
                    "--at",
                    at,
                    "--format",
                    "json",
                ],
            );
            assert!(from_node.code == 0 || from_node.code == 1, "{from_node:?}");
            let from_node = json(from_node.stdout.as_bytes());
            assert_eq!(
                from_node["findings"], offline["findings"],
                "assess --node at {at}"
            );
            assert_eq!(from_node["inputs"], inputs, "assess --node at {at}");
        }
    }

    // A receipt from the running node's folder checks offline, cosignature included.
    let out = pair.root().join("r5");
    let r = run(
        pair.root(),
        &["receipt", "--data", "us", "5", "--out", path_str(&out)],
    );
    expect_code(&r, 0, "receipt");
    let verify_args = [
        "verify-receipt",
        "--proof",
        "r5.proof",
        "--entry",
        "r5.entry",
        "--network",
        path_str(&pair.network),
    ];
    let r = run(pair.root(), &verify_args);
    expect_code(&r, 0, "verify-receipt");
    assert!(
        r.stdout.contains(&format!("valid: entry 5 of {US}")),
        "{}",
        r.stdout
    );
    assert!(
        r.stdout.contains(&format!("cosigned by {USSR} at")),
        "{}",
        r.stdout
    );
    // One changed byte of the entry and it is refused.
    let entry = pair.root().join("r5.entry");
    let mut bytes = std::fs::read(&entry).unwrap();
    *bytes.last_mut().unwrap() ^= 1;
    std::fs::write(&entry, bytes).unwrap();
    let r = run(pair.root(), &verify_args);
    expect_code(&r, 1, "verify-receipt of a changed entry");
    assert!(r.stdout.contains("INVALID"), "{}", r.stdout);

    for (server, data) in [(&us, &pair.us), (&ussr, &pair.ussr)] {
        let (code, verified, r) = verify(data);
        assert_eq!(code, 0, "{r:?}");
        assert_eq!(verified["equivocations"], 0);
        let log = json(&server.get("/api/v1/log").body);
        assert_eq!(log["equivocations"], json!([]));
    }
}

// ----- 2. SIGKILL ---------------------------------------------------------------------------

#[test]
fn sigkill_during_appends_loses_nothing_acknowledged() {
    // The USSR's node is never started: mirroring it only fails, in the log.
    let pair = pair_on(free_port(), free_port());
    submit_scenario(&pair, &["us"]);
    let token = operator_token(&pair.us);
    let mut server = Node::start(&pair.us, pair.us_port, pair.log("us-serve"));

    // Two writers submit one record at a time, each recording what was acknowledged.
    let acknowledged: Arc<Mutex<Vec<(String, u64)>>> = Arc::default();
    let refused: Arc<Mutex<Vec<String>>> = Arc::default();
    let stop = Arc::new(AtomicBool::new(false));
    let writers: Vec<_> = (0..2)
        .map(|writer| {
            let (acknowledged, refused, stop) =
                (acknowledged.clone(), refused.clone(), stop.clone());
            let (port, token) = (server.port, token.clone());
            std::thread::spawn(move || {
                let deadline = Instant::now() + WAIT * 2;
                for i in 0..5_000 {
                    if stop.load(Ordering::SeqCst) || Instant::now() > deadline {
                        return;
                    }
                    let id = format!("w{writer}-{i}");
                    match submit_http(port, &token, &transfer(&id)) {
                        Ok(r) if r.status == 200 => {
                            let answer = json(&r.body);
                            if answer["appended"] != 1 {
                                refused.lock().unwrap().push(format!("{id}: {}", r.text()));
                                return;
                            }
                            let index = answer["first_index"].as_u64().unwrap();
                            acknowledged.lock().unwrap().push((id, index));
                        }
                        Ok(r) => {
                            refused.lock().unwrap().push(format!(
                                "{id}: HTTP {}: {}",
                                r.status,
                                r.text()
                            ));
                            return;
                        }
                        // The server is gone.
                        Err(_) => return,
                    }
                }
            })
        })
        .collect();
    wait_for("40 acknowledged submissions", WAIT, &[&server], || {
        let n = acknowledged.lock().unwrap().len();
        if n >= 40 || writers.iter().all(|w| w.is_finished()) {
            Ok(())
        } else {
            Err(format!("{n} acknowledged"))
        }
    });
    server.kill();
    stop.store(true, Ordering::SeqCst);
    for writer in writers {
        writer.join().unwrap();
    }
    let refused = refused.lock().unwrap().clone();
    assert!(refused.is_empty(), "submissions refused: {refused:?}");
    let acknowledged = acknowledged.lock().unwrap().clone();
    assert!(
        acknowledged.len() >= 40,
        "only {} acknowledged before the writers stopped:\n{}",
        acknowledged.len(),
        server.log_text()
    );

    // The store is whole, and holds every acknowledged record where it was acknowledged.
    let (code, verified, r) = verify(&pair.us);
    assert_eq!(code, 0, "{r:?}");
    let size = checked(&verified, US)["entries"].as_u64().unwrap();
    let logged = logged_ids(&pair.us, "US");
    assert_eq!(logged.len() as u64, size, "log show lists every entry");
    for (id, index) in &acknowledged {
        assert_eq!(
            logged.get(index),
            Some(id),
            "acknowledged {id} at index {index} is not there"
        );
    }
    let distinct: BTreeSet<&String> = logged.values().collect();
    assert_eq!(distinct.len(), logged.len(), "an id is logged twice");
    // Beyond the scenario, only the writers' records: the acknowledged ones and at most
    // one in flight per writer.
    let streamed = logged.range(42..).count();
    assert!(logged.range(42..).all(|(_, id)| id.starts_with('w')));
    assert!(
        streamed >= acknowledged.len() && streamed <= acknowledged.len() + 2,
        "{streamed} streamed records logged, {} acknowledged",
        acknowledged.len()
    );

    // The node starts again on the same folder and takes the next submission.
    let restarted = Node::start(&pair.us, free_port(), pair.log("us-serve-2"));
    let r = submit_http(restarted.port, &token, &transfer("after-restart")).unwrap();
    assert_eq!(r.status, 200, "{}", r.text());
    let answer = json(&r.body);
    assert_eq!(answer["appended"], 1);
    assert_eq!(answer["first_index"], size);
    // An acknowledged record has a receipt from the restarted node.
    let (id, index) = &acknowledged[acknowledged.len() / 2];
    let r = restarted.get(&format!("/api/v1/receipt?index={index}"));
    assert_eq!(r.status, 200, "{}", r.text());
    let entry = BASE64
        .decode(json(&r.body)["entry"].as_str().unwrap())
        .unwrap();
    let entry = detente_ledger::entry::Entry::decode(&entry).unwrap();
    assert_eq!((entry.origin.as_str(), entry.index), (US, *index));
    assert_eq!(json(&entry.body)["id"], id.as_str());
    drop(restarted);
    let (code, _, r) = verify(&pair.us);
    assert_eq!(code, 0, "{r:?}");
}

// ----- 3. one changed byte ------------------------------------------------------------------

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        let target = to.join(entry.file_name());
        if entry.file_type().unwrap().is_dir() {
            copy_dir(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), target).unwrap();
        }
    }
}

/// `text` with its base64 character at byte `at` replaced by one whose 6-bit value
/// differs in its highest bit (so the decoded bytes change).
fn flip_base64_char(text: &str, at: usize) -> String {
    const ALPHABET: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut bytes = text.as_bytes().to_vec();
    let value = ALPHABET
        .iter()
        .position(|c| *c == bytes[at])
        .unwrap_or_else(|| panic!("byte {at} of {text:?} is not base64"));
    bytes[at] = ALPHABET[value ^ 0b10_0000];
    String::from_utf8(bytes).unwrap()
}

/// The byte offset of the middle of line `line` (from 0) of `text`.
fn middle_of_line(text: &str, line: usize) -> usize {
    let start: usize = text.split('\n').take(line).map(|l| l.len() + 1).sum();
    let length = text.split('\n').nth(line).unwrap().len();
    start + length / 2
}

/// The byte offset of the middle of the base64 of the last signature line of a note.
fn middle_of_signature(note: &str) -> usize {
    let lines: Vec<&str> = note.trim_end_matches('\n').split('\n').collect();
    let last = lines.len() - 1;
    let start: usize = lines[..last].iter().map(|l| l.len() + 1).sum();
    let signature_start = lines[last].rfind(' ').unwrap() + 1;
    start + signature_start + (lines[last].len() - signature_start) / 2
}

#[derive(Debug, Clone, Copy)]
enum Damage {
    EntryBytes {
        origin: &'static str,
        index: i64,
    },
    LeafHash {
        origin: &'static str,
        index: i64,
    },
    CheckpointSignature {
        origin: &'static str,
    },
    CheckpointRoot {
        origin: &'static str,
    },
    Cosignature {
        origin: &'static str,
        cosigner: &'static str,
    },
}

/// Changes one byte of the store in `data`, as `damage` says.
async fn damage_store(data: &Path, damage: Damage) {
    use sqlx::Connection as _;
    let options = sqlx::sqlite::SqliteConnectOptions::new().filename(data.join("ledger.sqlite"));
    let mut db = sqlx::SqliteConnection::connect_with(&options)
        .await
        .unwrap();
    match damage {
        Damage::EntryBytes { origin, index } | Damage::LeafHash { origin, index } => {
            let bytes = matches!(damage, Damage::EntryBytes { .. });
            let (select, update) = if bytes {
                (
                    "SELECT bytes FROM entries \
                     WHERE log_id = (SELECT id FROM logs WHERE origin = ?) AND idx = ?",
                    "UPDATE entries SET bytes = ? \
                     WHERE log_id = (SELECT id FROM logs WHERE origin = ?) AND idx = ?",
                )
            } else {
                (
                    "SELECT leaf_hash FROM entries \
                     WHERE log_id = (SELECT id FROM logs WHERE origin = ?) AND idx = ?",
                    "UPDATE entries SET leaf_hash = ? \
                     WHERE log_id = (SELECT id FROM logs WHERE origin = ?) AND idx = ?",
                )
            };
            let mut value: Vec<u8> = sqlx::query_scalar(select)
                .bind(origin)
                .bind(index)
                .fetch_one(&mut db)
                .await
                .unwrap();
            // The last byte of an entry is in its body; the first of a hash is any bit.
            if bytes {
                *value.last_mut().unwrap() ^= 0x01;
            } else {
                value[0] ^= 0x80;
            }
            let done = sqlx::query(update)
                .bind(value)
                .bind(origin)
                .bind(index)
                .execute(&mut db)
                .await
                .unwrap();
            assert_eq!(done.rows_affected(), 1);
        }
        Damage::CheckpointSignature { origin } | Damage::CheckpointRoot { origin } => {
            let (size, note): (i64, String) = sqlx::query_as(
                "SELECT size, note FROM checkpoints \
                 WHERE log_id = (SELECT id FROM logs WHERE origin = ?) ORDER BY size DESC LIMIT 1",
            )
            .bind(origin)
            .fetch_one(&mut db)
            .await
            .unwrap();
            let at = if matches!(damage, Damage::CheckpointRoot { .. }) {
                middle_of_line(&note, 2)
            } else {
                middle_of_signature(&note)
            };
            let changed = flip_base64_char(&note, at);
            let done = sqlx::query(
                "UPDATE checkpoints SET note = ? \
                 WHERE log_id = (SELECT id FROM logs WHERE origin = ?) AND size = ?",
            )
            .bind(changed)
            .bind(origin)
            .bind(size)
            .execute(&mut db)
            .await
            .unwrap();
            assert_eq!(done.rows_affected(), 1);
        }
        Damage::Cosignature { origin, cosigner } => {
            let (size, line): (i64, String) = sqlx::query_as(
                "SELECT size, line FROM cosignatures WHERE origin = ? AND cosigner = ?",
            )
            .bind(origin)
            .bind(cosigner)
            .fetch_one(&mut db)
            .await
            .unwrap();
            let changed = flip_base64_char(&line, middle_of_signature(&line));
            let done = sqlx::query(
                "UPDATE cosignatures SET line = ? WHERE origin = ? AND cosigner = ? AND size = ?",
            )
            .bind(changed)
            .bind(origin)
            .bind(cosigner)
            .bind(size)
            .execute(&mut db)
            .await
            .unwrap();
            assert_eq!(done.rows_affected(), 1);
        }
    }
    db.close().await.unwrap();
}

#[test]
fn any_changed_byte_is_found_and_named() {
    let pair = pair_on(free_port(), free_port());
    submit_scenario(&pair, &["us", "ussr"]);
    // US mirrors and cosigns the USSR's log once, from a running USSR node.
    {
        let _ussr = Node::start(&pair.ussr, pair.ussr_port, pair.log("ussr-serve"));
        let r = run(pair.root(), &["sync", "--data", "us"]);
        expect_code(&r, 0, "sync");
        assert!(
            r.stdout.contains("USSR: 0 entries → 1664, cosigned"),
            "{}",
            r.stdout
        );
    }
    let (code, pristine, r) = verify(&pair.us);
    assert_eq!(code, 0, "{r:?}");
    assert_eq!(
        (
            &checked(&pristine, US)["entries"],
            &checked(&pristine, US)["checkpoints"]
        ),
        (&json!(42), &json!(1))
    );
    assert_eq!(checked(&pristine, USSR)["entries"], 1664);
    assert_eq!(checked(&pristine, USSR)["cosignatures"], 1);

    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let cases: [(Damage, &str, &str); 7] = [
        (
            Damage::EntryBytes {
                origin: US,
                index: 5,
            },
            US,
            "entry 5: its bytes do not hash to its stored leaf hash",
        ),
        (
            Damage::EntryBytes {
                origin: USSR,
                index: 1000,
            },
            USSR,
            "entry 1000: its bytes do not hash to its stored leaf hash",
        ),
        (
            Damage::LeafHash {
                origin: US,
                index: 5,
            },
            US,
            "entry 5: its bytes do not hash to its stored leaf hash",
        ),
        (
            Damage::CheckpointSignature { origin: US },
            US,
            "checkpoint at size 42:",
        ),
        (
            Damage::CheckpointRoot { origin: US },
            US,
            "checkpoint at size 42:",
        ),
        (
            Damage::CheckpointRoot { origin: USSR },
            USSR,
            "checkpoint at size 1664:",
        ),
        (
            Damage::Cosignature {
                origin: USSR,
                cosigner: US,
            },
            USSR,
            "cosignature by detente/carter_1977/US at size 1664:",
        ),
    ];
    for (n, (damage, origin, problem)) in cases.into_iter().enumerate() {
        let what = format!("{damage:?}");
        let copy = pair.root().join(format!("damaged-{n}"));
        copy_dir(&pair.us, &copy);
        runtime.block_on(damage_store(&copy, damage));

        let (code, verified, r) = verify(&copy);
        assert_eq!(code, 1, "{what}: {r:?}");
        let named = checked(&verified, origin);
        let problems: Vec<&str> = named["problems"]
            .as_array()
            .unwrap()
            .iter()
            .map(|p| p.as_str().unwrap())
            .collect();
        let expected = format!("{origin}: {problem}");
        assert!(
            problems.first().is_some_and(|p| p.starts_with(&expected)),
            "{what}: expected the first problem to start with {expected:?}, got {problems:#?}"
        );
        // The other log is clean.
        let other = if origin == US { USSR } else { US };
        assert_eq!(checked(&verified, other)["problems"], json!([]), "{what}");

        // The text output says the same.
        let text = run(
            Path::new(ROOT),
            &["log", "verify", "--data", path_str(&copy)],
        );
        expect_code(&text, 1, &what);
        assert!(
            text.stdout.contains(&format!("{origin}: DAMAGED")),
            "{what}: {}",
            text.stdout
        );
        assert!(text.stdout.contains(&expected), "{what}: {}", text.stdout);
    }
    // The original is untouched.
    let (code, after, _) = verify(&pair.us);
    assert_eq!((code, &after), (0, &pristine));
}

/// `log verify` finds a changed entry byte; a node must not assess from it meanwhile. The
/// report names the signed checkpoint's root as its input, so facts read from bytes that
/// do not hash to that tree make it claim what the log does not say.
#[test]

fn a_node_does_not_assess_from_a_changed_entry() {
    let pair = pair_on(free_port(), free_port());
    submit_scenario(&pair, &["us"]);
    let at = "1980-12-31";
    let assess = |data: &Path| {
        run(
            Path::new(ROOT),
            &[
                "assess",
                "--node",
                path_str(data),
                "--at",
                at,
                "--format",
                "json",
            ],
        )
    };
    let pristine = assess(&pair.us);
    assert!(pristine.code == 0 || pristine.code == 1, "{pristine:?}");
    let pristine = json(pristine.stdout.as_bytes());

    // Entry 5 is the US declaration as of 1980-07-01: make its `sdv` 2xxx into 9xxx.
    let copy = pair.root().join("changed");
    copy_dir(&pair.us, &copy);
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    runtime.block_on(async {
        use sqlx::Connection as _;
        let options =
            sqlx::sqlite::SqliteConnectOptions::new().filename(copy.join("ledger.sqlite"));
        let mut db = sqlx::SqliteConnection::connect_with(&options)
            .await
            .unwrap();
        let select = "SELECT bytes FROM entries \
                      WHERE log_id = (SELECT id FROM logs WHERE origin = ?) AND idx = 5";
        let mut bytes: Vec<u8> = sqlx::query_scalar(select)
            .bind(US)
            .fetch_one(&mut db)
            .await
            .unwrap();
        let needle = b"\"sdv\":2";
        let at = bytes
            .windows(needle.len())
            .position(|w| w == needle)
            .expect("entry 5 declares sdv")
            + needle.len()
            - 1;
        bytes[at] = b'9';
        sqlx::query(
            "UPDATE entries SET bytes = ? \
             WHERE log_id = (SELECT id FROM logs WHERE origin = ?) AND idx = 5",
        )
        .bind(bytes)
        .bind(US)
        .execute(&mut db)
        .await
        .unwrap();
        db.close().await.unwrap();
    });
    let (code, _, r) = verify(&copy);
    assert_eq!(code, 1, "log verify finds it: {r:?}");

    let changed = assess(&copy);
    let report: Option<Value> = serde_json::from_str(&changed.stdout).ok();
    let status = |report: &Value| {
        report["findings"]
            .as_array()
            .unwrap()
            .iter()
            .find(|f| f["party"] == "US" && f["provision"] == "a")
            .map(|f| f["status"].clone())
    };
    assert!(
        changed.code != 0 && changed.code != 1 && changed.stderr.contains("entry 5"),
        "assess --node on a changed entry exited {} and reported US (a) as {:?} (from the \
         intact log: {:?}) with inputs {}\n--- stderr\n{}",
        changed.code,
        report.as_ref().and_then(status),
        status(&pristine),
        report.as_ref().map_or(Value::Null, |r| r["inputs"].clone()),
        changed.stderr
    );
}

// ----- 4. a hostile peer --------------------------------------------------------------------

/// What the fake USSR node answers.
#[derive(Debug, Clone)]
struct Answers {
    checkpoint: Vec<u8>,
    entries: Vec<u8>,
}

/// A full HTTP response with a body and its length.
fn ok(content_type: &str, body: &[u8]) -> Vec<u8> {
    let mut out = format!(
        "HTTP/1.1 200 OK\r\ncontent-type: {content_type}\r\ncontent-length: {}\r\nconnection: close\r\n\r\n",
        body.len()
    )
    .into_bytes();
    out.extend_from_slice(body);
    out
}

/// A fake peer: answers each request, one connection at a time, with the current
/// [`Answers`], and records the request lines it got.
struct FakePeer {
    answers: Arc<Mutex<Answers>>,
    requests: Arc<Mutex<Vec<String>>>,
    stop: Arc<AtomicBool>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl FakePeer {
    fn start(listener: TcpListener) -> FakePeer {
        let answers = Arc::new(Mutex::new(Answers {
            checkpoint: Vec::new(),
            entries: Vec::new(),
        }));
        let requests: Arc<Mutex<Vec<String>>> = Arc::default();
        let stop = Arc::new(AtomicBool::new(false));
        listener.set_nonblocking(true).unwrap();
        let thread = {
            let (answers, requests, stop) = (answers.clone(), requests.clone(), stop.clone());
            std::thread::spawn(move || {
                while !stop.load(Ordering::SeqCst) {
                    match listener.accept() {
                        Ok((stream, _)) => {
                            let _ = FakePeer::answer(stream, &answers, &requests);
                        }
                        Err(_) => std::thread::sleep(Duration::from_millis(5)),
                    }
                }
            })
        };
        FakePeer {
            answers,
            requests,
            stop,
            thread: Some(thread),
        }
    }

    fn answer(
        mut stream: TcpStream,
        answers: &Mutex<Answers>,
        requests: &Mutex<Vec<String>>,
    ) -> std::io::Result<()> {
        stream.set_nonblocking(false)?;
        stream.set_read_timeout(Some(Duration::from_secs(5)))?;
        stream.set_write_timeout(Some(Duration::from_secs(5)))?;
        let mut head = Vec::new();
        let mut byte = [0u8; 1];
        while !head.ends_with(b"\r\n\r\n") {
            if stream.read(&mut byte)? == 0 {
                return Ok(());
            }
            head.push(byte[0]);
        }
        let head = String::from_utf8_lossy(&head).into_owned();
        let length: usize = head
            .lines()
            .find_map(|l| {
                l.to_ascii_lowercase()
                    .strip_prefix("content-length:")
                    .map(|v| v.trim().parse().unwrap_or(0))
            })
            .unwrap_or(0);
        let mut body = vec![0; length];
        stream.read_exact(&mut body)?;
        let request_line = head.lines().next().unwrap_or("").to_owned();
        requests.lock().unwrap().push(request_line.clone());
        let path = request_line.split_whitespace().nth(1).unwrap_or("");
        let answers = answers.lock().unwrap().clone();
        let response = if path.starts_with("/peer/v1/checkpoint") {
            answers.checkpoint
        } else if path.starts_with("/peer/v1/entries") {
            answers.entries
        } else {
            b"HTTP/1.1 404 Not Found\r\ncontent-length: 0\r\nconnection: close\r\n\r\n".to_vec()
        };
        // The client may hang up once it has read enough to refuse: write what it takes.
        for chunk in response.chunks(16 * 1024) {
            stream.write_all(chunk)?;
        }
        stream.flush()
    }
}

impl Drop for FakePeer {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

#[test]
fn malformed_and_oversized_peer_answers_are_refused() {
    use detente_ledger::checkpoint::{Checkpoint, sign_checkpoint};
    use detente_ledger::entry::{Entry, EntryKind};
    use detente_ledger::merkle::{Tree, leaf_hash};
    use detente_ledger::note::Signer;

    // The network file gives the USSR's node the address of the fake peer.
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let fake_port = listener.local_addr().unwrap().port();
    let pair = pair_on(free_port(), fake_port);
    submit_scenario(&pair, &["us"]);
    let peer = FakePeer::start(listener);
    let (code, before, r) = verify(&pair.us);
    assert_eq!(code, 0, "{r:?}");
    let us_before = checked(&before, US).clone();

    // The real USSR key signs the checkpoints meant to pass the signature check.
    let ussr_key = detente_node::home::read_key(&pair.ussr).unwrap();
    let ussr = Signer::from_seed(USSR, ussr_key.to_bytes()).unwrap();
    let stranger = Signer::from_seed(USSR, [42; 32]).unwrap();
    let entry = |origin: &str, index: u64, id: &str| {
        Entry {
            origin: origin.to_owned(),
            index,
            appended_at_ms: 1_800_000_000_000,
            kind: EntryKind::Fact,
            body: transfer(id)
                .trim_end()
                .replace("\"US\"", "\"USSR\"")
                .into_bytes(),
        }
        .encode()
    };
    let e0 = entry(USSR, 0, "ussr-0");
    let e1 = entry(USSR, 1, "ussr-1");
    let checkpoint_of = |entries: &[&Vec<u8>], signer: &Signer| {
        let mut tree = Tree::new();
        for e in entries {
            tree.push(leaf_hash(e));
        }
        let cp = Checkpoint::new(USSR, tree.len(), tree.root());
        let note = sign_checkpoint(&cp, signer).unwrap();
        ok("text/plain; charset=utf-8", note.as_bytes())
    };
    let honest = checkpoint_of(&[&e0, &e1], &ussr);
    let page = |entries: &[&Vec<u8>]| {
        let encoded: Vec<String> = entries.iter().map(|e| BASE64.encode(e)).collect();
        ok(
            "application/json",
            serde_json::to_string(&json!({ "entries": encoded }))
                .unwrap()
                .as_bytes(),
        )
    };
    let text = |body: &str| ok("text/plain; charset=utf-8", body.as_bytes());
    let huge = vec![b'x'; 200 * 1024];
    let mut huge_with_length = format!(
        "HTTP/1.1 200 OK\r\ncontent-type: text/plain\r\ncontent-length: {}\r\nconnection: close\r\n\r\n",
        huge.len()
    )
    .into_bytes();
    huge_with_length.extend_from_slice(&huge);
    // No length: the body runs until the connection closes.
    let mut huge_until_close =
        b"HTTP/1.1 200 OK\r\ncontent-type: text/plain\r\nconnection: close\r\n\r\n".to_vec();
    huge_until_close.extend_from_slice(&huge);
    let e_us = entry(US, 0, "us-0");
    let other = entry(USSR, 1, "other-1");

    let cases: Vec<(&str, Answers, &[&str])> = vec![
        (
            "a checkpoint that is not a signed note",
            Answers {
                checkpoint: text("I am not a checkpoint\n"),
                entries: page(&[&e0, &e1]),
            },
            &["USSR: peer USSR (checkpoint): not a signed note"],
        ),
        (
            "a checkpoint signed by a key not in the network file",
            Answers {
                checkpoint: checkpoint_of(&[&e0, &e1], &stranger),
                entries: page(&[&e0, &e1]),
            },
            &[
                "USSR: refused a forged checkpoint",
                "not signed by its key in the network file",
            ],
        ),
        (
            "a checkpoint larger than 64 KiB, with its length",
            Answers {
                checkpoint: huge_with_length,
                entries: page(&[&e0, &e1]),
            },
            &["peer USSR (checkpoint)", "larger than 65536 bytes; refused"],
        ),
        (
            "a checkpoint larger than 64 KiB, without a length",
            Answers {
                checkpoint: huge_until_close,
                entries: page(&[&e0, &e1]),
            },
            &["peer USSR (checkpoint)", "larger than 65536 bytes; refused"],
        ),
        (
            "an entries page that is not JSON",
            Answers {
                checkpoint: honest.clone(),
                entries: ok("application/json", b"{\"entries\": [\"AAAA\", "),
            },
            &["peer USSR (entries)", "malformed answer"],
        ),
        (
            "an entries page with an unknown member",
            Answers {
                checkpoint: honest.clone(),
                entries: ok("application/json", b"{\"entries\": [], \"more\": true}"),
            },
            &["peer USSR (entries)", "malformed answer"],
        ),
        (
            "an entry that is not base64",
            Answers {
                checkpoint: honest.clone(),
                entries: ok("application/json", b"{\"entries\": [\"not base64!\"]}"),
            },
            &["peer USSR (entries)", "entry 0 is not base64"],
        ),
        (
            "entry 0 replayed as entry 1",
            Answers {
                checkpoint: honest.clone(),
                entries: page(&[&e0, &e0]),
            },
            &[
                "refused the entries served",
                "entry 1: it is entry 0 of detente/carter_1977/USSR, not entry 1",
            ],
        ),
        (
            "an entry of another log",
            Answers {
                checkpoint: honest.clone(),
                entries: page(&[&e_us, &e1]),
            },
            &[
                "refused the entries served",
                "entry 0: it is entry 0 of detente/carter_1977/US, not entry 0 of detente/carter_1977/USSR",
            ],
        ),
        (
            "entries that are not the signed ones",
            Answers {
                checkpoint: honest.clone(),
                entries: page(&[&e0, &other]),
            },
            &[
                "refused the entries served",
                "do not have the root of the signed checkpoint",
            ],
        ),
        (
            "more entries than asked for",
            Answers {
                checkpoint: honest.clone(),
                entries: page(&[&e0, &e1, &e1]),
            },
            &[
                "refused the entries served",
                "asked for 2 entries (0..2) and got 3",
            ],
        ),
        (
            "no entries",
            Answers {
                checkpoint: honest.clone(),
                entries: page(&[]),
            },
            &[
                "refused the entries served",
                "asked for entries 0..2 and got none",
            ],
        ),
        (
            "bytes that are not an entry",
            Answers {
                checkpoint: honest.clone(),
                entries: page(&[&b"detente-entry, honestly".to_vec(), &e1]),
            },
            &["refused the entries served", "entry 0:"],
        ),
    ];

    for (what, answers, expected) in cases {
        *peer.answers.lock().unwrap() = answers;
        let r = run(pair.root(), &["sync", "--data", "us"]);
        eprintln!("{what}:\n  {}", r.stderr.trim());
        assert_eq!(r.code, 1, "{what}: {r:?}");
        for part in expected {
            assert!(
                r.stderr.contains(part),
                "{what}: expected {part:?} in the message:\n{}",
                r.stderr
            );
        }
        // Nothing of the USSR's was kept, and US's own log is as it was.
        let (code, after, r) = verify(&pair.us);
        assert_eq!(code, 0, "{what}: {r:?}");
        assert_eq!(checked(&after, US), &us_before, "{what}");
        let logs: Vec<&Value> = after["logs"].as_array().unwrap().iter().collect();
        assert_eq!(logs.len(), 1, "{what}: the USSR's log was stored: {after}");
    }
    // Nothing was cosigned (the only requests were for checkpoints and entries).
    let requests = peer.requests.lock().unwrap().clone();
    assert!(
        requests
            .iter()
            .all(|r| r.starts_with("GET /peer/v1/checkpoint")
                || r.starts_with("GET /peer/v1/entries")),
        "{requests:#?}"
    );

    // The honest answer is taken: the refusals left nothing in the way.
    *peer.answers.lock().unwrap() = Answers {
        checkpoint: honest.clone(),
        entries: page(&[&e0, &e1]),
    };
    let r = run(pair.root(), &["sync", "--data", "us"]);
    expect_code(&r, 0, "sync with honest answers");
    assert!(r.stdout.contains("USSR: 0 entries → 2"), "{}", r.stdout);
    let (code, after, r) = verify(&pair.us);
    assert_eq!(code, 0, "{r:?}");
    assert_eq!(checked(&after, USSR)["entries"], 2);
    assert_eq!(checked(&after, US), &us_before);
}

// ----- a client that hangs up ---------------------------------------------------------------

/// A client that gives up on a submission (a timeout, a closed laptop) must not break the
/// node. The test holds SQLite's write lock from another connection (as a concurrent
/// `detente submit` does) so that the submission is sure to be waiting on its append when
/// the client hangs up; hyper then drops the handler's future.
#[test]

fn a_client_hanging_up_mid_submission_does_not_wedge_the_node() {
    use sqlx::Connection as _;
    let pair = pair_on(free_port(), free_port());
    submit_scenario(&pair, &["us"]);
    let token = operator_token(&pair.us);
    let server = Node::start(&pair.us, pair.us_port, pair.log("us-serve"));
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let options = sqlx::sqlite::SqliteConnectOptions::new().filename(pair.us.join("ledger.sqlite"));
    let mut db = runtime
        .block_on(sqlx::SqliteConnection::connect_with(&options))
        .unwrap();
    runtime
        .block_on(sqlx::query("BEGIN IMMEDIATE").execute(&mut db))
        .unwrap();

    // Send a whole submission, give the node time to check it and reach its append (which
    // waits for the lock, up to 5 s), then hang up.
    let body = transfer("abandoned");
    let mut stream = TcpStream::connect(("127.0.0.1", server.port)).unwrap();
    write!(
        stream,
        "POST /api/v1/submit HTTP/1.1\r\nhost: 127.0.0.1\r\nauthorization: Bearer {token}\r\ncontent-length: {}\r\n\r\n{body}",
        body.len()
    )
    .unwrap();
    std::thread::sleep(Duration::from_millis(1_500));
    drop(stream);
    std::thread::sleep(Duration::from_millis(300));
    runtime
        .block_on(sqlx::query("ROLLBACK").execute(&mut db))
        .unwrap();
    runtime.block_on(db.close()).unwrap();

    let r = submit_http(server.port, &token, &transfer("next")).unwrap();
    assert_eq!(r.status, 200, "the next submission: {}", r.text());
    let report = server.get("/api/v1/report?at=1985-06-01");
    assert_eq!(report.status, 200, "{}", report.text());
    drop(server);
    let (code, _, r) = verify(&pair.us);
    assert_eq!(code, 0, "{r:?}");
}
