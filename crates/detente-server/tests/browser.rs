#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    clippy::print_stdout,
    clippy::print_stderr
)]
//! The dashboard in a real browser: Debian's headless Chromium, driven through
//! chromedriver (WebDriver) by fantoccini, against two real nodes (US and USSR) on
//! loopback, each holding its party's share of the Carter-1977 scenario and mirroring the
//! other's log over HTTP.
//!
//! A duty officer logs in on the US node, reads the overview, follows a violation to the
//! facts behind it and their receipt, files a launch notification, and an operator of the
//! USSR node sees it arrive among the incoming notifications once the USSR node has
//! mirrored (and cosigned) the US log.
//!
//! Without `chromium` and `chromedriver` on PATH the test says so loudly and passes, unless
//! `DETENTE_REQUIRE_BROWSER` is set (CI sets it, after installing them). With
//! `DETENTE_SCREENSHOTS=DIR` it also saves a full-page screenshot of every page in DIR
//! (`docs/screenshots` holds the ones in the documentation).

use detente_node::home::{Home, generate_key};
use detente_node::memory_store::MemoryStore;
use detente_node::network::encode_key;
use detente_node::users::{Role, add_user};
use detente_node::{Node, SystemClock};
use fantoccini::{Client, ClientBuilder, Locator};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

const ROOT: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../..");
/// The longest any wait polls.
const WAIT: Duration = Duration::from_secs(60);
/// The chromium flags of STACK.md (a fresh `--user-data-dir` is added per run).
const CHROMIUM_FLAGS: [&str; 8] = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
];
const WIDTH: u32 = 1280;

/// A program on PATH.
fn which(name: &str) -> Option<PathBuf> {
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path)
        .map(|dir| dir.join(name))
        .find(|p| p.is_file())
}

/// chromedriver, killed when dropped.
struct Driver {
    child: Child,
    port: u16,
    log: PathBuf,
}

impl Driver {
    fn start(binary: &Path, log: PathBuf) -> Driver {
        let port = free_port();
        let out = std::fs::File::create(&log).unwrap();
        let err = out.try_clone().unwrap();
        let child = Command::new(binary)
            .arg(format!("--port={port}"))
            .stdin(Stdio::null())
            .stdout(out)
            .stderr(err)
            .spawn()
            .expect("chromedriver starts");
        let mut driver = Driver { child, port, log };
        let deadline = Instant::now() + WAIT;
        while TcpStream::connect(SocketAddr::from(([127, 0, 0, 1], port))).is_err() {
            if let Ok(Some(status)) = driver.child.try_wait() {
                panic!("chromedriver exited ({status}):\n{}", driver.log_text());
            }
            assert!(Instant::now() < deadline, "chromedriver is not listening");
            std::thread::sleep(Duration::from_millis(50));
        }
        driver
    }

    fn log_text(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }
}

impl Drop for Driver {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .unwrap()
        .port()
}

/// Two nodes serving on loopback, mirroring each other every 200 ms.
struct Nodes {
    _dir: tempfile::TempDir,
    us_url: String,
    ussr_url: String,
    officer: String,
    ussr_viewer: String,
    stop: tokio::sync::watch::Sender<bool>,
}

/// The Carter-1977 scenario split by the party that speaks for each record.
fn scenario() -> (String, String) {
    let text =
        std::fs::read_to_string(format!("{ROOT}/scenarios/carter-1977/facts.jsonl")).unwrap();
    let (mut us, mut ussr) = (String::new(), String::new());
    for line in text.lines().filter(|l| !l.trim().is_empty()) {
        let record: serde_json::Value = serde_json::from_str(line).unwrap();
        let who = if record["kind"] == "observation" {
            &record["observer"]
        } else {
            &record["party"]
        };
        let out = if who == "US" { &mut us } else { &mut ussr };
        out.push_str(line);
        out.push('\n');
    }
    (us, ussr)
}

async fn start_nodes() -> Nodes {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    let us_listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let ussr_listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let us_port = us_listener.local_addr().unwrap().port();
    let ussr_port = ussr_listener.local_addr().unwrap().port();
    let us_key = generate_key(&root.join("us")).unwrap();
    let ussr_key = generate_key(&root.join("ussr")).unwrap();
    let network = root.join("network.toml");
    std::fs::write(
        &network,
        format!(
            "treaty = \"carter_1977\"\n\n\
             [[party]]\nname = \"US\"\nurl = \"http://127.0.0.1:{us_port}\"\nnode_key = \"{}\"\n\n\
             [[party]]\nname = \"USSR\"\nurl = \"http://127.0.0.1:{ussr_port}\"\nnode_key = \"{}\"\n",
            encode_key(&us_key),
            encode_key(&ussr_key)
        ),
    )
    .unwrap();
    let treaty = PathBuf::from(format!("{ROOT}/treaties/carter-1977.treaty"));
    let (us_facts, ussr_facts) = scenario();
    let (stop, stopped) = tokio::sync::watch::channel(false);
    let mut tokens = Vec::new();
    for (name, party, facts, listener, role) in [
        ("us", "US", us_facts, us_listener, Role::Officer),
        ("ussr", "USSR", ussr_facts, ussr_listener, Role::Viewer),
    ] {
        let home = Home::init(&root.join(name), &treaty, party, &network).unwrap();
        let node = Node::open(&home, MemoryStore::new(), Arc::new(SystemClock))
            .await
            .unwrap();
        node.submit(&facts, "scenario").await.unwrap();
        let operator = format!("{name}-{role}");
        tokens.push(
            add_user(node.store(), &operator, role, node.clock().now_ms())
                .await
                .unwrap(),
        );
        let node = Arc::new(node);
        let app = detente_server::router(Arc::new(detente_server::AppState::new(node.clone())));
        let mut until = stopped.clone();
        tokio::spawn(async move {
            let _ = axum::serve(listener, app)
                .with_graceful_shutdown(async move {
                    let _ = until.wait_for(|s| *s).await;
                })
                .await;
        });
        let peers = detente_node::sync::http_peers(&node).unwrap();
        let mut until = stopped.clone();
        tokio::spawn(detente_node::sync::mirror_forever(
            node,
            peers,
            Duration::from_millis(200),
            Duration::from_secs(2),
            async move {
                let _ = until.wait_for(|s| *s).await;
            },
        ));
    }
    Nodes {
        _dir: dir,
        // Two host names, so that the browser keeps one login cookie per node (cookies
        // are per host, not per port).
        us_url: format!("http://127.0.0.1:{us_port}"),
        ussr_url: format!("http://localhost:{ussr_port}"),
        officer: tokens.remove(0),
        ussr_viewer: tokens.remove(0),
        stop,
    }
}

async fn browser(chromium: &Path, driver: &Driver, profile: &Path) -> Client {
    let mut args: Vec<String> = CHROMIUM_FLAGS.iter().map(|s| (*s).to_owned()).collect();
    args.push(format!("--user-data-dir={}", profile.display()));
    args.push(format!("--window-size={WIDTH},900"));
    let mut capabilities = serde_json::Map::new();
    capabilities.insert("browserName".into(), serde_json::json!("chrome"));
    capabilities.insert(
        "goog:chromeOptions".into(),
        serde_json::json!({"binary": chromium, "args": args}),
    );
    let connector = hyper_util::client::legacy::connect::HttpConnector::new();
    let deadline = Instant::now() + WAIT;
    loop {
        match ClientBuilder::new(connector.clone())
            .capabilities(capabilities.clone())
            .connect(&format!("http://127.0.0.1:{}", driver.port))
            .await
        {
            Ok(client) => return client,
            Err(e) if Instant::now() >= deadline => {
                panic!(
                    "no WebDriver session: {e}\n--- chromedriver\n{}",
                    driver.log_text()
                )
            }
            Err(_) => tokio::time::sleep(Duration::from_millis(200)).await,
        }
    }
}

/// Saves a full-page screenshot as `DIR/NAME.png` when `DETENTE_SCREENSHOTS=DIR` is set.
async fn shot(c: &Client, name: &str) {
    let Some(dir) = std::env::var_os("DETENTE_SCREENSHOTS") else {
        return;
    };
    let height = c
        .execute("return document.documentElement.scrollHeight;", Vec::new())
        .await
        .ok()
        .and_then(|v| v.as_u64())
        .unwrap_or(900)
        .clamp(600, 3200);
    c.set_window_size(WIDTH, u32::try_from(height).unwrap_or(900) + 140)
        .await
        .unwrap();
    tokio::time::sleep(Duration::from_millis(300)).await;
    let png = c.screenshot().await.unwrap();
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(PathBuf::from(&dir).join(format!("{name}.png")), png).unwrap();
    c.set_window_size(WIDTH, 900).await.unwrap();
}

/// Waits for an element.
async fn find(c: &Client, css: &str) -> fantoccini::elements::Element {
    let deadline = Instant::now() + WAIT;
    loop {
        if let Ok(e) = c.find(Locator::Css(css)).await {
            return e;
        }
        if Instant::now() >= deadline {
            let url = c
                .current_url()
                .await
                .map(|u| u.to_string())
                .unwrap_or_default();
            let source = c.source().await.unwrap_or_default();
            panic!("no `{css}` on {url}:\n{source}");
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

async fn log_in(c: &Client, base: &str, page: &str, token: &str) {
    c.goto(&format!("{base}{page}")).await.unwrap();
    let url = c.current_url().await.unwrap();
    assert_eq!(
        url.path(),
        "/login",
        "a browser without a cookie is sent to log in"
    );
    find(c, "#token").await.send_keys(token).await.unwrap();
    find(c, "#login").await.click().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_duty_officer_works_through_the_dashboard_in_chromium() {
    let required = std::env::var_os("DETENTE_REQUIRE_BROWSER").is_some();
    let (Some(chromium), Some(chromedriver)) = (which("chromium"), which("chromedriver")) else {
        let notice = "\n\
            ************************************************************************\n\
            * BROWSER TEST NOT RUN: `chromium` and `chromedriver` are not on PATH.  *\n\
            * Install them with `apt-get install -y chromium chromium-driver`.      *\n\
            * Set DETENTE_REQUIRE_BROWSER=1 to make this a failure (CI does).       *\n\
            ************************************************************************\n";
        eprintln!("{notice}");
        assert!(!required, "DETENTE_REQUIRE_BROWSER is set but {notice}");
        return;
    };
    let work = tempfile::tempdir().unwrap();
    let nodes = start_nodes().await;
    let driver = Driver::start(&chromedriver, work.path().join("chromedriver.log"));
    let c = browser(&chromium, &driver, &work.path().join("profile")).await;
    let us = nodes.us_url.clone();

    // Log in: the overview comes up with its status matrix.
    log_in(&c, &us, "/dashboard?at=1980-12-31", &nodes.officer).await;
    let matrix = find(&c, "#matrix").await;
    let text = matrix.text().await.unwrap();
    assert!(text.contains("violation"), "{text}");
    assert!(text.contains("compliant"), "{text}");
    let url = c.current_url().await.unwrap();
    assert_eq!(url.path(), "/dashboard");
    assert_eq!(
        url.query(),
        Some("at=1980-12-31"),
        "login led back to the page asked for"
    );
    shot(&c, "overview").await;

    // Follow a violation to its evidence: the US base in the Indian Ocean (g).
    find(
        &c,
        "a.finding[data-status='violation'][href*='/dashboard/provision/g'][href$='#party-US']",
    )
    .await
    .click()
    .await
    .unwrap();
    let section = find(&c, "#party-US").await;
    let text = section.text().await.unwrap();
    assert!(text.contains("us-base-diego-garcia"), "{text}");
    assert!(
        text.contains("item_in_zone") || text.contains("zone"),
        "{text}"
    );
    shot(&c, "provision-g").await;
    find(&c, "#party-US a.fact-link")
        .await
        .click()
        .await
        .unwrap();
    let record = find(&c, "#record").await.text().await.unwrap();
    assert!(record.contains("\"us-base-diego-garcia\""), "{record}");
    let receipt = find(&c, "#receipt").await.text().await.unwrap();
    assert!(receipt.starts_with("c2sp.org/tlog-proof@v1"), "{receipt}");
    shot(&c, "fact").await;
    find(&c, "#receipt-link").await.click().await.unwrap();
    let deadline = Instant::now() + WAIT;
    loop {
        let source = c.source().await.unwrap();
        if source.contains("tlog-proof") && source.contains("\"entry\"") {
            break;
        }
        assert!(Instant::now() < deadline, "no receipt JSON: {source}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }

    // The other pages, as an officer reads them.
    c.goto(&format!("{us}/dashboard/provision/a?at=1980-12-31"))
        .await
        .unwrap();
    find(&c, "#chart svg").await;
    shot(&c, "provision-a").await;
    c.goto(&format!("{us}/dashboard/deadlines?at=1980-09-05"))
        .await
        .unwrap();
    find(&c, "table.deadlines").await;
    shot(&c, "deadlines").await;
    c.goto(&format!("{us}/dashboard/map?at=1980-12-31"))
        .await
        .unwrap();
    find(&c, "#map svg path.zone").await;
    shot(&c, "map").await;

    // What-if, through htmx: a lower ceiling puts more findings in violation.
    c.goto(&format!("{us}/dashboard/what-if?at=1980-12-31"))
        .await
        .unwrap();
    assert_eq!(find(&c, "#whatif-changed").await.text().await.unwrap(), "0");
    find(&c, "#p_sdv_ceiling")
        .await
        .send_keys("2000")
        .await
        .unwrap();
    find(&c, "#whatif-apply").await.click().await.unwrap();
    let deadline = Instant::now() + WAIT;
    loop {
        let changed = find(&c, "#whatif-changed")
            .await
            .text()
            .await
            .unwrap_or_default();
        if changed != "0" {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "htmx never swapped the results in"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(
        c.current_url().await.unwrap().path() == "/dashboard/what-if",
        "the results came as a fragment, not a new page"
    );
    shot(&c, "what-if").await;
    c.goto(&format!("{us}/dashboard/exports?at=1980-12-31"))
        .await
        .unwrap();
    find(&c, "a[href*='findings.csv']").await;
    shot(&c, "exports").await;

    // File a launch notification as the officer (the form proposes an id and a window
    // opening in two days; the areas are the officer's to give).
    c.goto(&format!("{us}/dashboard/notifications"))
        .await
        .unwrap();
    let id = find(&c, "#id").await.prop("value").await.unwrap().unwrap();
    assert!(id.starts_with("us-"), "{id}");
    for (field, value) in [
        ("#launch_lat", "34.74"),
        ("#launch_lon", "-120.57"),
        ("#impact_lat", "9.0"),
        ("#impact_lon", "167.7"),
    ] {
        find(&c, field).await.send_keys(value).await.unwrap();
    }
    find(&c, "#file-notification").await.click().await.unwrap();
    let notice = find(&c, "#notice").await.text().await.unwrap();
    assert!(notice.contains(&id), "{notice}");
    shot(&c, "notifications-us").await;

    // The USSR node mirrors the US log; its operator sees the notification arrive.
    let ussr = nodes.ussr_url.clone();
    log_in(&c, &ussr, "/dashboard/notifications", &nodes.ussr_viewer).await;
    let deadline = Instant::now() + WAIT;
    loop {
        if let Ok(incoming) = c.find(Locator::Css("#incoming")).await {
            let text = incoming.text().await.unwrap_or_default();
            if text.contains(&id) && text.contains("by USSR's cosignature") {
                break;
            }
        }
        assert!(
            Instant::now() < deadline,
            "the notification did not arrive on the USSR node:\n{}",
            c.source().await.unwrap_or_default()
        );
        tokio::time::sleep(Duration::from_millis(300)).await;
        c.refresh().await.unwrap();
    }
    assert!(
        c.find(Locator::Css("#notify-form")).await.is_err(),
        "a viewer is offered no filing form"
    );
    shot(&c, "notifications-ussr").await;
    c.goto(&format!("{ussr}/dashboard/ledger")).await.unwrap();
    find(&c, "table").await;
    shot(&c, "ledger").await;
    c.goto(&format!("{ussr}/logout")).await.unwrap();
    find(&c, "#token").await;
    shot(&c, "login").await;

    c.close().await.unwrap();
    let _ = nodes.stop.send(true);
    drop(driver);
}
