//! What the integration tests of the `detente` binary share: running it, reading what it
//! prints, a `detente serve` process killed when dropped, and a network of two nodes (US and
//! USSR of the Carter-1977 treaty) set up as a newcomer does (`keygen`, a network file,
//! `init`).
//!
//! Each test file compiles this module on its own (`mod support;`), and none uses all of it.
#![allow(
    dead_code,
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use serde_json::Value;
use std::fs::File;
use std::io::{Read as _, Write as _};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

pub const ROOT: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../..");
pub const BIN: &str = env!("CARGO_BIN_EXE_detente");
pub const US: &str = "detente/carter_1977/US";
pub const USSR: &str = "detente/carter_1977/USSR";

// ----- running the binary ------------------------------------------------------------------

#[derive(Debug)]
pub struct Run {
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
}

impl Run {
    /// The exit code and the UTF-8 output of a finished `detente`.
    pub fn of(output: Output) -> Run {
        Run {
            code: output.status.code().expect("an exit code, not a signal"),
            stdout: String::from_utf8(output.stdout).expect("stdout is UTF-8"),
            stderr: String::from_utf8(output.stderr).expect("stderr is UTF-8"),
        }
    }
}

/// Runs `detente` in `dir` without colour and with no input.
pub fn run(dir: &Path, args: &[&str]) -> Run {
    run_with(dir, args, &[])
}

/// [`run`], with these environment variables set as well.
pub fn run_with(dir: &Path, args: &[&str], env: &[(&str, &str)]) -> Run {
    let mut command = Command::new(BIN);
    command.args(args).current_dir(dir).env("NO_COLOR", "1");
    for (key, value) in env {
        command.env(key, value);
    }
    let output = command
        .stdin(Stdio::null())
        .output()
        .expect("the detente binary runs");
    Run::of(output)
}

pub fn expect_code(r: &Run, code: i32, what: &str) {
    assert_eq!(
        r.code, code,
        "{what}: exit code\n--- stdout\n{}\n--- stderr\n{}",
        r.stdout, r.stderr
    );
}

/// `text` (a `&str`, a `String` or bytes) parsed as JSON; a panic naming it otherwise.
pub fn json(text: &(impl AsRef<[u8]> + ?Sized)) -> Value {
    let text = text.as_ref();
    serde_json::from_slice(text)
        .unwrap_or_else(|e| panic!("not JSON ({e}):\n{}", String::from_utf8_lossy(text)))
}

pub fn path_str(path: &Path) -> &str {
    path.to_str().expect("a UTF-8 path")
}

/// A loopback port nothing listens on (bound, then released).
pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("a free port")
        .port()
}

// ----- a server process ---------------------------------------------------------------------

/// Whether `GET /healthz` on this loopback port answers 200.
pub fn healthy(port: u16) -> bool {
    let address = SocketAddr::from(([127, 0, 0, 1], port));
    let Ok(mut stream) = TcpStream::connect_timeout(&address, Duration::from_secs(2)) else {
        return false;
    };
    let _ = stream.set_read_timeout(Some(Duration::from_secs(5)));
    let request =
        format!("GET /healthz HTTP/1.1\r\nhost: 127.0.0.1:{port}\r\nconnection: close\r\n\r\n");
    if stream.write_all(request.as_bytes()).is_err() {
        return false;
    }
    let mut raw = Vec::new();
    let _ = stream.read_to_end(&mut raw);
    raw.starts_with(b"HTTP/1.1 200")
}

/// `detente serve` on a data folder; killed (SIGKILL) when dropped.
#[derive(Debug)]
pub struct Server {
    child: Child,
    pub port: u16,
    log: PathBuf,
}

impl Server {
    /// Starts the node of `data` listening on `port`, with its output in `log`, and waits
    /// (at most `wait`) until `/healthz` answers.
    pub fn start(data: &Path, port: u16, log: PathBuf, wait: Duration) -> Server {
        let out = File::create(&log).expect("the server log is created");
        let err = out.try_clone().expect("the server log is shared");
        let child = Command::new(BIN)
            .args([
                "serve",
                "--data",
                path_str(data),
                "--listen",
                &format!("127.0.0.1:{port}"),
                "--sync-every-ms",
                "200",
            ])
            .env("NO_COLOR", "1")
            .stdin(Stdio::null())
            .stdout(out)
            .stderr(err)
            .spawn()
            .expect("detente serve starts");
        let mut server = Server { child, port, log };
        let deadline = Instant::now() + wait;
        loop {
            if let Ok(Some(status)) = server.child.try_wait() {
                panic!(
                    "detente serve exited ({status}) before it was ready:\n{}",
                    server.log_text()
                );
            }
            if healthy(port) {
                return server;
            }
            assert!(
                Instant::now() < deadline,
                "detente serve is not ready after {wait:?}:\n{}",
                server.log_text()
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// What the server has written so far.
    pub fn log_text(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }

    /// SIGKILL, and reap.
    pub fn kill(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        self.kill();
    }
}

/// Polls `check` until it gives a value; panics after `wait` with its last complaint and
/// the servers' logs.
pub fn wait_for<T>(
    what: &str,
    wait: Duration,
    servers: &[&Server],
    mut check: impl FnMut() -> Result<T, String>,
) -> T {
    let deadline = Instant::now() + wait;
    loop {
        match check() {
            Ok(value) => return value,
            Err(last) if Instant::now() >= deadline => {
                let logs: Vec<String> = servers
                    .iter()
                    .map(|s| format!("--- server on port {}\n{}", s.port, s.log_text()))
                    .collect();
                panic!(
                    "{what}: not after {wait:?}; last: {last}\n{}",
                    logs.join("\n")
                );
            }
            Err(_) => std::thread::sleep(Duration::from_millis(100)),
        }
    }
}

// ----- a network of two nodes ---------------------------------------------------------------

pub fn treaty() -> String {
    format!("{ROOT}/treaties/carter-1977.treaty")
}

/// `keygen` for the data folders `us` and `ussr` in `root`: their node keys.
pub fn keygen_both(root: &Path) -> [String; 2] {
    ["us", "ussr"].map(|name| {
        let r = run(root, &["keygen", "--data", name]);
        expect_code(&r, 0, "keygen");
        r.stdout.trim().to_owned()
    })
}

/// Writes `root/network.toml`: US's node (key `keys[0]`) on `us_port` and USSR's (key
/// `keys[1]`) on `ussr_port`, each party followed by `principals` (its `[[party.principal]]`
/// blocks, or nothing).
pub fn write_network(
    root: &Path,
    (us_port, ussr_port): (u16, u16),
    keys: &[String; 2],
    principals: [&str; 2],
) -> PathBuf {
    let network = root.join("network.toml");
    std::fs::write(
        &network,
        format!(
            "treaty = \"carter_1977\"\n\n\
             [[party]]\nname = \"US\"\nurl = \"http://127.0.0.1:{us_port}\"\nnode_key = \"{}\"\n\n{}\
             [[party]]\nname = \"USSR\"\nurl = \"http://127.0.0.1:{ussr_port}\"\nnode_key = \"{}\"\n{}",
            keys[0], principals[0], keys[1], principals[1]
        ),
    )
    .unwrap();
    network
}

/// `init` of the data folders `us` (US) and `ussr` (USSR) in `root` with `network.toml`.
pub fn init_both(root: &Path) {
    for (name, party) in [("us", "US"), ("ussr", "USSR")] {
        let r = run(
            root,
            &[
                "init",
                "--treaty",
                &treaty(),
                "--party",
                party,
                "--network",
                "network.toml",
                "--data",
                name,
            ],
        );
        expect_code(&r, 0, "init");
    }
}

/// `keygen`, a network file giving the nodes these ports, and `init` for US and USSR, in a
/// temporary folder (data folders `us` and `ussr`).
pub fn pair(us_port: u16, ussr_port: u16) -> tempfile::TempDir {
    let dir = tempfile::tempdir().expect("a temporary folder");
    let root = dir.path();
    let keys = keygen_both(root);
    write_network(root, (us_port, ussr_port), &keys, ["", ""]);
    init_both(root);
    dir
}
