#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    clippy::print_stdout,
    clippy::print_stderr
)]
//! Letters between two real nodes: `detente` processes on SQLite files, mirroring over
//! loopback HTTP. Set up as a newcomer does (`keygen`, `principal new`, a network file with
//! the principals, `init`, `serve`), then Carter's letter of 4 March 1977 is drafted with
//! its two amendments, sent through the US node, read by Brezhnev on the USSR node once it
//! has mirrored it, and answered.
//!
//! Servers are killed when they go out of scope, even when a test fails; waits poll for at
//! most [`WAIT`].

use serde_json::Value;
use std::io::{Read as _, Write as _};
use std::net::{SocketAddr, TcpStream};
use std::path::Path;
use std::time::Duration;

mod support;

use support::{
    ROOT, Run, Server, expect_code, free_port, init_both, keygen_both, run_with, wait_for,
    write_network,
};

const WAIT: Duration = Duration::from_secs(30);
/// The environment variable holding Brezhnev's passphrase.
const PASSPHRASE_VAR: &str = "DETENTE_TEST_BREZHNEV_PASSPHRASE";
const PASSPHRASE: &str = "the Kremlin's own words";

/// Runs `detente` in `dir`, with Brezhnev's passphrase (and a wrong one) in the environment.
fn run(dir: &Path, args: &[&str]) -> Run {
    run_with(
        dir,
        args,
        &[(PASSPHRASE_VAR, PASSPHRASE), ("WRONG_PASSPHRASE", "not it")],
    )
}

/// One GET on a fresh connection: (status, body).
fn get(port: u16, path: &str, token: Option<&str>) -> std::io::Result<(u16, String)> {
    let address = SocketAddr::from(([127, 0, 0, 1], port));
    let mut stream = TcpStream::connect_timeout(&address, Duration::from_secs(5))?;
    stream.set_read_timeout(Some(WAIT))?;
    let auth = token.map_or(String::new(), |t| format!("authorization: Bearer {t}\r\n"));
    write!(
        stream,
        "GET {path} HTTP/1.1\r\nhost: 127.0.0.1:{port}\r\nconnection: close\r\n{auth}\r\n"
    )?;
    let mut raw = Vec::new();
    stream.read_to_end(&mut raw)?;
    let text = String::from_utf8_lossy(&raw).into_owned();
    let (head, body) = text
        .split_once("\r\n\r\n")
        .ok_or_else(|| std::io::Error::other("no complete response head"))?;
    let status = head
        .split_whitespace()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .ok_or_else(|| std::io::Error::other("no status"))?;
    Ok((status, body.to_owned()))
}

/// The `[[party.principal]]` block `principal new` prints.
fn new_principal(root: &Path, name: &str, party: &str, protected: bool) -> String {
    let file = format!("{}.key", name.to_lowercase());
    let mut args = vec!["principal", "new", name, "--party", party, "--out", &file];
    if protected {
        args.extend(["--passphrase-env", PASSPHRASE_VAR]);
    }
    let r = run(root, &args);
    expect_code(&r, 0, "principal new");
    assert!(r.stdout.contains("[[party.principal]]"), "{}", r.stdout);
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt as _;
        let mode = std::fs::metadata(root.join(&file))
            .unwrap()
            .permissions()
            .mode();
        assert_eq!(mode & 0o777, 0o600, "{file}");
    }
    // Never overwritten.
    let again = run(root, &args);
    expect_code(&again, 2, "principal new over an existing key file");
    assert!(again.stderr.contains("already exists"), "{}", again.stderr);
    r.stdout
}

/// The officer token of a node, made with `detente user add`.
fn token(root: &Path, data: &str) -> String {
    let r = run(
        root,
        &["user", "add", "reader", "--role", "viewer", "--data", data],
    );
    expect_code(&r, 0, "user add");
    r.stdout.trim().to_owned()
}

fn letters_on(port: u16, token: &str) -> Value {
    let (status, body) = get(port, "/api/v1/letters", Some(token)).unwrap();
    assert_eq!(status, 200, "{body}");
    serde_json::from_str(&body).unwrap()
}

#[test]
fn two_principals_exchange_the_1977_letter_and_a_reply() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    let (us_port, ussr_port) = (free_port(), free_port());
    let node_keys = keygen_both(root);
    let carter = new_principal(root, "Carter", "US", false);
    let brezhnev = new_principal(root, "Brezhnev", "USSR", true);
    write_network(
        root,
        (us_port, ussr_port),
        &node_keys,
        [&format!("{carter}\n"), &format!("\n{brezhnev}")],
    );
    init_both(root);
    let us_token = token(root, "us");
    let ussr_token = token(root, "ussr");

    // Carter drafts the letter, with its two amendments, and previews it.
    std::fs::copy(
        format!("{ROOT}/test_data/letters/carter-1977-03-04.md"),
        root.join("carter.md"),
    )
    .unwrap();
    let r = run(
        root,
        &[
            "letter",
            "draft",
            "--from",
            "US/Carter",
            "--to",
            "USSR/Brezhnev",
            "--date",
            "1977-03-04",
            "--subject",
            "Strategic arms limitation",
            "--body",
            "carter.md",
            "--reference",
            "your letter of February 25th",
            "--out",
            "carter.json",
        ],
    );
    expect_code(&r, 0, "letter draft");
    let amendments: Vec<Value> = serde_json::from_str(
        &std::fs::read_to_string(format!(
            "{ROOT}/test_data/letters/carter-1977-03-04.amendments.json"
        ))
        .unwrap(),
    )
    .unwrap();
    for a in &amendments {
        let r = run(
            root,
            &[
                "letter",
                "amend",
                "carter.json",
                "--original",
                a["original"].as_str().unwrap(),
                "--replacement",
                a["replacement"].as_str().unwrap(),
            ],
        );
        expect_code(&r, 0, "letter amend");
    }
    let r = run(
        root,
        &[
            "letter",
            "amend",
            "carter.json",
            "--original",
            "x",
            "--replacement",
            "not in the letter",
        ],
    );
    expect_code(&r, 2, "an amendment whose replacement is not in the body");
    assert!(
        r.stderr.contains("does not occur in the body"),
        "{}",
        r.stderr
    );
    let r = run(root, &["letter", "show", "carter.json"]);
    expect_code(&r, 0, "letter show");
    assert!(r.stdout.contains("[^1]: Draft, not sent."), "{}", r.stdout);
    assert!(
        r.stdout
            .contains("This sentence originally began “Please do.”")
    );

    let us = Server::start(&root.join("us"), us_port, root.join("us.log"), WAIT);
    let ussr = Server::start(&root.join("ussr"), ussr_port, root.join("ussr.log"), WAIT);

    // Sent through the US node (which is serving: the send shares its data folder).
    let r = run(
        root,
        &[
            "letter",
            "send",
            "carter.json",
            "--key",
            "carter.key",
            "--data",
            "us",
        ],
    );
    expect_code(&r, 0, "letter send");
    assert!(
        r.stdout.contains("entry 0 of detente/carter_1977/US"),
        "{}",
        r.stdout
    );

    // The USSR node mirrors it; the API lists its metadata, never its content.
    let listed = wait_for(
        "the USSR node mirrored the letter",
        WAIT,
        &[&us, &ussr],
        || {
            let v = letters_on(ussr_port, &ussr_token);
            match v["letters"].as_array() {
                Some(l) if l.len() == 1 && !l[0]["cosigned_by"].as_array().unwrap().is_empty() => {
                    Ok(v)
                }
                _ => Err(v.to_string()),
            }
        },
    );
    let meta = &listed["letters"][0];
    assert_eq!(meta["origin"], "detente/carter_1977/US");
    assert_eq!(meta["index"], 0);
    assert_eq!(meta["sender"], "US/Carter");
    assert_eq!(meta["addressee"], "USSR/Brezhnev");
    assert!(meta["size"].as_u64().unwrap() > 4500, "{meta}");
    assert_eq!(
        meta["cosigned_by"][0]["cosigner"],
        "detente/carter_1977/USSR"
    );
    let text = listed.to_string();
    for word in ["predisposed", "Strategic", "Vladivostok"] {
        assert!(!text.contains(word), "{text}");
    }
    let (status, _) = get(ussr_port, "/api/v1/letters", None).unwrap();
    assert_eq!(status, 401);

    // Brezhnev reads it on his node, with his passphrase.
    let brezhnev_key = ["--key", "brezhnev.key", "--passphrase-env", PASSPHRASE_VAR];
    let mut args = vec!["letter", "read", "--data", "ussr", "--party", "US", "0"];
    args.extend(brezhnev_key);
    let r = run(root, &args);
    expect_code(&r, 0, "letter read by Brezhnev");
    for expected in [
        "letter from US/Carter to USSR/Brezhnev",
        "signature  valid: by US/Carter's signing key in the network file",
        "receipt    valid: in the checkpoint of size 1",
        "cosigned by detente/carter_1977/USSR at",
        "received   by your party's node at",
        "subject    Strategic arms limitation",
        "on those issues on which both of us seem predisposed to agree.",
        "2 amendment(s) before sending",
    ] {
        assert!(r.stdout.contains(expected), "`{expected}` in\n{}", r.stdout);
    }
    // Not without the passphrase, not with a wrong one, and not with Carter's key.
    let r = run(
        root,
        &[
            "letter",
            "read",
            "--data",
            "ussr",
            "--party",
            "US",
            "0",
            "--key",
            "brezhnev.key",
        ],
    );
    expect_code(&r, 2, "without the passphrase");
    assert!(
        r.stderr.contains("protected by a passphrase"),
        "{}",
        r.stderr
    );
    let r = run(
        root,
        &[
            "letter",
            "read",
            "--data",
            "ussr",
            "--party",
            "US",
            "0",
            "--key",
            "brezhnev.key",
            "--passphrase-env",
            "WRONG_PASSPHRASE",
        ],
    );
    expect_code(&r, 2, "with a wrong passphrase");
    assert!(r.stderr.contains("the passphrase is wrong"), "{}", r.stderr);
    for data in ["ussr", "us"] {
        let r = run(
            root,
            &[
                "letter",
                "read",
                "--data",
                data,
                "--party",
                "US",
                "0",
                "--key",
                "carter.key",
            ],
        );
        expect_code(&r, 2, "read with Carter's key");
        assert!(
            r.stderr.contains(
                "entry 0 of detente/carter_1977/US is addressed to USSR/Brezhnev, not to US/Carter"
            ),
            "{}",
            r.stderr
        );
    }

    // His inbox lists it and says it opens.
    let mut args = vec!["letter", "inbox", "--data", "ussr"];
    args.extend(brezhnev_key);
    let r = run(root, &args);
    expect_code(&r, 0, "letter inbox");
    assert!(r.stdout.contains("from US/Carter"), "{}", r.stdout);
    assert!(
        r.stdout
            .contains("opens: 1977-03-04, “Strategic arms limitation”"),
        "{}",
        r.stdout
    );

    let mut args = vec!["letter", "inbox", "--data", "ussr", "--json"];
    args.extend(brezhnev_key);
    let r = run(root, &args);
    expect_code(&r, 0, "letter inbox --json");
    let inbox: Value = serde_json::from_str(&r.stdout).unwrap();
    assert_eq!(inbox.as_array().map(Vec::len), Some(1), "{inbox}");
    assert_eq!(inbox[0]["opens"], true);
    assert_eq!(inbox[0]["subject"], "Strategic arms limitation");
    assert_eq!(
        inbox[0]["cosigned_by"][0]["cosigner"],
        "detente/carter_1977/USSR"
    );

    // The annotated edition: the golden text but for its source note (keys, times and
    // roots differ from the golden run's).
    let mut args = vec![
        "letter",
        "export",
        "--data",
        "ussr",
        "--party",
        "US",
        "0",
        "--annotated",
        "--out",
        "carter.annotated.md",
    ];
    args.extend(brezhnev_key);
    let r = run(root, &args);
    expect_code(&r, 0, "letter export");
    let exported = std::fs::read_to_string(root.join("carter.annotated.md")).unwrap();
    let golden = std::fs::read_to_string(format!(
        "{ROOT}/test_data/letters/carter-1977-03-04.annotated.md"
    ))
    .unwrap();
    let without_source = |text: &str| -> Vec<String> {
        text.lines()
            .filter(|l| !l.starts_with("[^1]: "))
            .map(str::to_owned)
            .collect()
    };
    assert_eq!(without_source(&exported), without_source(&golden));
    assert!(
        exported.contains("[^1]: Source: entry 0 of the log detente/carter_1977/US, appended at ")
    );
    let mut args = vec![
        "letter",
        "export",
        "--data",
        "ussr",
        "--party",
        "US",
        "0",
        "--annotated",
        "--format",
        "html",
    ];
    args.extend(brezhnev_key);
    let r = run(root, &args);
    expect_code(&r, 0, "letter export --format html");
    assert!(
        r.stdout
            .contains("predisposed to agree.<sup id=\"fnref-2\">"),
        "{}",
        r.stdout
    );

    // Brezhnev's reply goes into the USSR log; Carter reads it once the US node mirrors it.
    std::fs::write(
        root.join("reply.md"),
        "Dear Mr. President,\n\nI have received your letter of March 4th.\n",
    )
    .unwrap();
    let r = run(
        root,
        &[
            "letter",
            "draft",
            "--from",
            "USSR/Brezhnev",
            "--to",
            "US/Carter",
            "--date",
            "1977-03-15",
            "--subject",
            "Reply",
            "--body",
            "reply.md",
            "--reference",
            "your letter of March 4th@US:0",
            "--out",
            "reply.json",
        ],
    );
    expect_code(&r, 0, "letter draft (reply)");
    let mut args = vec!["letter", "send", "reply.json", "--data", "ussr"];
    args.extend(brezhnev_key);
    let r = run(root, &args);
    expect_code(&r, 0, "letter send (reply)");
    wait_for(
        "the US node mirrored the reply",
        WAIT,
        &[&us, &ussr],
        || {
            let v = letters_on(us_port, &us_token);
            let n = v["letters"].as_array().map_or(0, Vec::len);
            if n == 2 { Ok(()) } else { Err(v.to_string()) }
        },
    );
    let r = run(
        root,
        &[
            "letter",
            "read",
            "--data",
            "us",
            "--party",
            "USSR",
            "0",
            "--key",
            "carter.key",
        ],
    );
    expect_code(&r, 0, "letter read by Carter");
    assert!(
        r.stdout.contains("letter from USSR/Brezhnev to US/Carter"),
        "{}",
        r.stdout
    );
    assert!(
        r.stdout
            .contains("refers to  your letter of March 4th (entry 0 of US's log)"),
        "{}",
        r.stdout
    );
    assert!(
        r.stdout
            .contains("I have received your letter of March 4th.")
    );
    let mut args = vec!["letter", "read", "--data", "us", "--party", "USSR", "0"];
    args.extend(brezhnev_key);
    let r = run(root, &args);
    expect_code(&r, 2, "Brezhnev cannot read his own sealed reply");
    assert!(
        r.stderr.contains("is addressed to US/Carter"),
        "{}",
        r.stderr
    );
}
