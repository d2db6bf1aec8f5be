//! Router tests of the dashboard, without sockets: every page for every role, the login
//! cookie, the officer's form (its checks, the node's refusals, what it appends), the
//! replay selector, escaping, and the exports' provenance.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use axum::Router;
use axum::body::Body;
use axum::http::{Request, StatusCode, header};
use detente_node::home::{Home, generate_key};
use detente_node::memory_store::MemoryStore;
use detente_node::network::encode_key;
use detente_node::users::{Role, add_user};
use detente_node::{ManualClock, Node};
use std::sync::Arc;
use tower::ServiceExt as _;

use crate::AppState;

const ROOT: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../..");
/// 2026-11-28T10:00:00Z
const NOW_MS: i64 = 1_795_860_000_000;

pub(super) struct Fixture {
    pub(super) dir: tempfile::TempDir,
    pub(super) node: Arc<Node<MemoryStore>>,
    pub(super) clock: ManualClock,
    tokens: Vec<(Role, String)>,
}

impl Fixture {
    fn token(&self, role: Role) -> &str {
        &self.tokens.iter().find(|(r, _)| *r == role).unwrap().1
    }

    fn app(&self) -> Router {
        crate::router(Arc::new(AppState::new(self.node.clone())))
    }

    /// The treaty and network file of the fixture, to open another party's node with.
    pub(super) fn home_of(&self, party: &str) -> Home {
        let treaty = std::path::PathBuf::from(format!("{ROOT}/treaties/carter-1977.treaty"));
        Home::init(
            &self.dir.path().join(party.to_lowercase()),
            &treaty,
            party,
            &self.dir.path().join("network.toml"),
        )
        .unwrap()
    }

    pub(super) async fn get(
        &self,
        path: &str,
        role: Option<Role>,
    ) -> (StatusCode, axum::http::HeaderMap, String) {
        let mut request = Request::get(path);
        if let Some(role) = role {
            request = request.header(
                header::COOKIE,
                format!("detente_token={}", self.token(role)),
            );
        }
        self.send(request.body(Body::empty()).unwrap()).await
    }

    async fn post_form(
        &self,
        path: &str,
        role: Option<Role>,
        body: &str,
    ) -> (StatusCode, axum::http::HeaderMap, String) {
        let mut request =
            Request::post(path).header(header::CONTENT_TYPE, "application/x-www-form-urlencoded");
        if let Some(role) = role {
            request = request.header(
                header::COOKIE,
                format!("detente_token={}", self.token(role)),
            );
        }
        self.send(request.body(Body::from(body.to_owned())).unwrap())
            .await
    }

    async fn send(&self, request: Request<Body>) -> (StatusCode, axum::http::HeaderMap, String) {
        let response = self.app().oneshot(request).await.unwrap();
        let status = response.status();
        let headers = response.headers().clone();
        let body = axum::body::to_bytes(response.into_body(), 64 << 20)
            .await
            .unwrap();
        (status, headers, String::from_utf8_lossy(&body).into_owned())
    }

    async fn own_size(&self) -> u64 {
        self.node
            .log_heads()
            .await
            .into_iter()
            .find(|(o, ..)| o == self.node.origin())
            .map_or(0, |(_, size, ..)| size)
    }
}

/// A US node of the Carter-1977 treaty holding the US share of the scenario, with one
/// operator of each role.
async fn fixture() -> Fixture {
    fixture_with(&[]).await
}

/// [`fixture`], with `[[party.principal]]` blocks of (party, block) in the network file.
pub(super) async fn fixture_with(principals: &[(&str, String)]) -> Fixture {
    let blocks = |party: &str| -> String {
        principals
            .iter()
            .filter(|(p, _)| *p == party)
            .map(|(_, b)| format!("\n{b}"))
            .collect()
    };
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    let us = generate_key(&root.join("us")).unwrap();
    let ussr = generate_key(&root.join("ussr")).unwrap();
    let network = root.join("network.toml");
    std::fs::write(
        &network,
        format!(
            "treaty = \"carter_1977\"\n\n[[party]]\nname = \"US\"\nurl = \"http://127.0.0.1:9\"\nnode_key = \"{}\"\n{}\n[[party]]\nname = \"USSR\"\nurl = \"http://127.0.0.1:9\"\nnode_key = \"{}\"\n{}",
            encode_key(&us),
            blocks("US"),
            encode_key(&ussr),
            blocks("USSR"),
        ),
    )
    .unwrap();
    let treaty = std::path::PathBuf::from(format!("{ROOT}/treaties/carter-1977.treaty"));
    let home = Home::init(&root.join("us"), &treaty, "US", &network).unwrap();
    let clock = ManualClock::new(NOW_MS);
    let node = Node::open(&home, MemoryStore::new(), Arc::new(clock.clone()))
        .await
        .unwrap();
    let facts =
        std::fs::read_to_string(format!("{ROOT}/scenarios/carter-1977/facts.jsonl")).unwrap();
    let mine: String = facts
        .lines()
        .filter(|l| {
            let v: serde_json::Value = serde_json::from_str(l).unwrap();
            let who = if v["kind"] == "observation" {
                &v["observer"]
            } else {
                &v["party"]
            };
            who == "US"
        })
        .map(|l| format!("{l}\n"))
        .collect();
    node.submit(&mine, "scenario").await.unwrap();
    let mut tokens = Vec::new();
    for role in Role::ALL {
        let token = add_user(node.store(), role.name(), role, NOW_MS)
            .await
            .unwrap();
        tokens.push((role, token));
    }
    Fixture {
        dir,
        node: Arc::new(node),
        clock,
        tokens,
    }
}

fn form_body(pairs: &[(&str, &str)]) -> String {
    pairs
        .iter()
        .map(|(k, v)| format!("{}={}", super::format::encode(k), super::format::encode(v)))
        .collect::<Vec<_>>()
        .join("&")
}

/// A valid filing: a window opening in 3 days, circles for both areas.
fn filing(id: &str) -> Vec<(&'static str, String)> {
    vec![
        ("provision", "d".to_owned()),
        ("id", id.to_owned()),
        ("window_from", "2026-12-01T06:00".to_owned()),
        ("window_to", "2026-12-01T12:00:00".to_owned()),
        ("launch_lat", "34.74".to_owned()),
        ("launch_lon", "-120.57".to_owned()),
        ("launch_radius_km", "50".to_owned()),
        ("launch_zone", String::new()),
        ("impact_lat", "9.0".to_owned()),
        ("impact_lon", "167.7".to_owned()),
        ("impact_radius_km", "200".to_owned()),
        ("impact_zone", String::new()),
    ]
}

fn encode_filing(fields: &[(&'static str, String)]) -> String {
    let pairs: Vec<(&str, &str)> = fields.iter().map(|(k, v)| (*k, v.as_str())).collect();
    form_body(&pairs)
}

const PAGES: [&str; 15] = [
    "/dashboard",
    "/dashboard?at=1980-12-31",
    "/dashboard/provision/a?at=1980-12-31",
    "/dashboard/provision/g",
    "/dashboard/deadlines?at=1979-01-15",
    "/dashboard/notifications",
    "/dashboard/map?at=1980-12-31",
    "/dashboard/ledger",
    "/dashboard/what-if?at=1980-12-31&p_sdv_ceiling=2000",
    "/dashboard/what-if/findings?at=1980-12-31",
    "/dashboard/exports",
    "/dashboard/fact?origin=detente%2Fcarter_1977%2FUS&index=0",
    "/dashboard/letters",
    "/dashboard/verification?at=1980-12-31",
    "/dashboard/verification/detection?party=USSR&hidden=2",
];

#[tokio::test]
async fn without_a_token_pages_send_the_browser_to_the_login_page() {
    let f = fixture().await;
    for page in PAGES {
        let (status, headers, _) = f.get(page, None).await;
        assert_eq!(status, StatusCode::SEE_OTHER, "{page}");
        let location = headers[header::LOCATION].to_str().unwrap();
        assert!(
            location.starts_with("/login?next=%2Fdashboard"),
            "{page}: {location}"
        );
    }
    // htmx is told where to go instead of swapping a login page into the results.
    let request = Request::get("/dashboard/what-if/findings")
        .header("hx-request", "true")
        .body(Body::empty())
        .unwrap();
    let (status, headers, _) = f.send(request).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert!(
        headers["hx-redirect"]
            .to_str()
            .unwrap()
            .starts_with("/login?next=")
    );
    // A token of no operator is no better.
    let request = Request::get("/dashboard")
        .header(header::COOKIE, "detente_token=dt_nobody")
        .body(Body::empty())
        .unwrap();
    assert_eq!(f.send(request).await.0, StatusCode::SEE_OTHER);
}

#[tokio::test]
async fn every_page_answers_every_role_in_html_with_a_strict_policy() {
    let f = fixture().await;
    for role in Role::ALL {
        for page in PAGES {
            let (status, headers, body) = f.get(page, Some(role)).await;
            assert_eq!(status, StatusCode::OK, "{page} as {role}: {body}");
            assert!(
                headers[header::CONTENT_TYPE]
                    .to_str()
                    .unwrap()
                    .starts_with("text/html"),
                "{page}"
            );
            let csp = headers[header::CONTENT_SECURITY_POLICY].to_str().unwrap();
            assert!(csp.contains("default-src 'self'"), "{page}: {csp}");
            assert_eq!(headers[header::CACHE_CONTROL], "no-store", "{page}");
        }
    }
    // The overview shows the matrix with words, not colour alone.
    let (_, _, body) = f.get("/dashboard?at=1980-12-31", Some(Role::Viewer)).await;
    assert!(body.contains("id=\"matrix\""));
    assert!(body.contains("✗ violation"), "{body}");
    assert!(body.contains("✓ compliant"));
    assert!(
        body.contains("/dashboard/provision/g?at=1980-12-31T00%3A00%3A00Z#party-US"),
        "{body}"
    );
    // The provision page draws the chart inline and links violations to facts and receipts.
    let (_, _, body) = f
        .get("/dashboard/provision/g?at=1980-12-31", Some(Role::Viewer))
        .await;
    assert!(body.contains("us-base-diego-garcia"), "{body}");
    assert!(
        body.contains("/api/v1/receipt?origin=detente%2Fcarter_1977%2FUS&#38;index="),
        "{body}"
    );
    let (_, _, body) = f
        .get("/dashboard/provision/a?at=1980-12-31", Some(Role::Viewer))
        .await;
    assert!(body.contains("<svg"), "no chart");
    assert!(body.contains("Milestones") || body.contains("value"));
    let (_, _, body) = f.get("/dashboard/map", Some(Role::Viewer)).await;
    assert!(body.contains("indian_ocean"));
    assert!(body.contains("/assets/world.svg"));
}

#[tokio::test]
async fn assets_are_served_from_the_binary_to_anyone() {
    let f = fixture().await;
    for (path, kind) in [
        ("/assets/htmx.min.js", "text/javascript"),
        ("/assets/style.css", "text/css"),
        ("/assets/world.svg", "image/svg+xml"),
    ] {
        let (status, headers, body) = f.get(path, None).await;
        assert_eq!(status, StatusCode::OK, "{path}");
        assert!(
            headers[header::CONTENT_TYPE]
                .to_str()
                .unwrap()
                .starts_with(kind)
        );
        assert!(
            headers[header::CACHE_CONTROL]
                .to_str()
                .unwrap()
                .starts_with("public")
        );
        assert!(body.len() > 1000, "{path}");
    }
    assert!(f.get("/assets/htmx.min.js", None).await.2.contains("htmx"));
    assert_eq!(
        f.get("/assets/nope.js", None).await.0,
        StatusCode::NOT_FOUND
    );
    // Nothing on any page or asset points at another host.
    for page in ["/dashboard", "/dashboard/map", "/login"] {
        let (_, _, body) = f.get(page, Some(Role::Viewer)).await;
        for needle in ["src=\"http", "href=\"http", "@import", "fonts.googleapis"] {
            assert!(!body.contains(needle), "{page} has {needle}");
        }
    }
}

#[tokio::test]
async fn login_sets_a_strict_http_only_cookie_and_logout_clears_it() {
    let f = fixture().await;
    let (status, _, body) = f.get("/login?next=%2Fdashboard%2Fmap", None).await;
    assert_eq!(status, StatusCode::OK);
    assert!(body.contains("value=\"/dashboard/map\""));
    let (status, _, body) = f
        .post_form("/login", None, "token=dt_wrong&next=%2Fdashboard")
        .await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert!(body.contains("not an operator token"), "{body}");
    let token = f.token(Role::Analyst).to_owned();
    let (status, headers, _) = f
        .post_form(
            "/login",
            None,
            &form_body(&[("token", &format!(" {token} ")), ("next", "/dashboard/map")]),
        )
        .await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    assert_eq!(headers[header::LOCATION], "/dashboard/map");
    let cookie = headers[header::SET_COOKIE].to_str().unwrap();
    assert!(
        cookie.starts_with(&format!("detente_token={token};")),
        "{cookie}"
    );
    for attribute in ["HttpOnly", "SameSite=Strict", "Path=/"] {
        assert!(cookie.contains(attribute), "{cookie}");
    }
    // Another host is never where the login leads.
    let (_, headers, _) = f
        .post_form(
            "/login",
            None,
            &form_body(&[("token", &token), ("next", "//evil.example/")]),
        )
        .await;
    assert_eq!(headers[header::LOCATION], "/dashboard");
    let (status, headers, _) = f.post_form("/logout", Some(Role::Analyst), "").await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    assert!(
        headers[header::SET_COOKIE]
            .to_str()
            .unwrap()
            .contains("Max-Age=0")
    );
    // The nav bar names the operator and its role.
    let (_, _, body) = f.get("/dashboard", Some(Role::Analyst)).await;
    assert!(body.contains("analyst"), "{body}");
}

#[tokio::test]
async fn only_officers_file_notifications_and_the_form_is_checked_before_the_node() {
    let f = fixture().await;
    let before = f.own_size().await;
    // Viewers and analysts see no form, and are refused (403, in HTML) if they post one.
    for role in [Role::Viewer, Role::Analyst] {
        let (_, _, body) = f.get("/dashboard/notifications", Some(role)).await;
        assert!(!body.contains("id=\"notify-form\""), "{role}");
        assert!(body.contains("needs the officer role"));
        let (status, headers, body) = f
            .post_form(
                "/dashboard/notifications",
                Some(role),
                &encode_filing(&filing("x-1")),
            )
            .await;
        assert_eq!(status, StatusCode::FORBIDDEN, "{role}: {body}");
        assert!(
            headers[header::CONTENT_TYPE]
                .to_str()
                .unwrap()
                .starts_with("text/html")
        );
        assert!(
            body.contains("filing a notification needs the officer role"),
            "{body}"
        );
    }
    assert_eq!(
        f.post_form("/dashboard/notifications", None, "").await.0,
        StatusCode::SEE_OTHER
    );
    assert_eq!(f.own_size().await, before);

    // The dashboard's own checks: nothing reaches the log.
    let (_, _, body) = f.get("/dashboard/notifications", Some(Role::Officer)).await;
    assert!(body.contains("id=\"notify-form\""));
    assert!(
        body.contains("us-2026-11-28-ntf-1"),
        "a fresh id is proposed"
    );
    let mut bad = filing("us-bad");
    bad[2].1 = "2026-11-27T06:00".to_owned(); // opens in the past
    bad[4].1 = "north".to_owned();
    let (status, _, body) = f
        .post_form(
            "/dashboard/notifications",
            Some(Role::Officer),
            &encode_filing(&bad),
        )
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(body.contains("Not filed; nothing was written"), "{body}");
    assert!(body.contains("before now"), "{body}");
    assert!(body.contains("latitude `north`"), "{body}");
    assert!(
        body.contains("value=\"north\""),
        "the form keeps what was typed"
    );
    // Too short a lead time, unless filed late on purpose.
    let mut short = filing("us-short");
    short[2].1 = "2026-11-28T16:00".to_owned();
    let (status, _, body) = f
        .post_form(
            "/dashboard/notifications",
            Some(Role::Officer),
            &encode_filing(&short),
        )
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        body.contains("lead time: the window opens in 6 h"),
        "{body}"
    );
    assert_eq!(f.own_size().await, before);

    // A valid filing is appended and shown as outgoing, awaiting its cosignature.
    let (status, headers, body) = f
        .post_form(
            "/dashboard/notifications",
            Some(Role::Officer),
            &encode_filing(&filing("us-2026-12-01-ntf")),
        )
        .await;
    assert_eq!(status, StatusCode::SEE_OTHER, "{body}");
    assert_eq!(
        headers[header::LOCATION],
        "/dashboard/notifications?filed=us-2026-12-01-ntf"
    );
    assert_eq!(f.own_size().await, before + 1);
    let (_, _, body) = f
        .get(
            "/dashboard/notifications?filed=us-2026-12-01-ntf",
            Some(Role::Officer),
        )
        .await;
    assert!(
        body.contains("was appended to this party&#39;s log")
            || body.contains("was appended to this party"),
        "{body}"
    );
    assert!(body.contains("us-2026-12-01-ntf"));
    assert!(body.contains("awaiting cosignature"));
    let mut late = short.clone();
    late.push(("late", "1".to_owned()));
    let (status, _, _) = f
        .post_form(
            "/dashboard/notifications",
            Some(Role::Officer),
            &encode_filing(&late),
        )
        .await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    assert_eq!(f.own_size().await, before + 2);

    // The node's own refusals reach the form: an id reused for other content.
    let mut reused = filing("us-2026-12-01-ntf");
    reused[8].1 = "10.0".to_owned();
    let (status, _, body) = f
        .post_form(
            "/dashboard/notifications",
            Some(Role::Officer),
            &encode_filing(&reused),
        )
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    assert!(body.contains("notification form (officer):1:"), "{body}");
    assert_eq!(f.own_size().await, before + 2);
    f.clock.advance_ms(1000);
}

#[tokio::test]
async fn replays_name_their_checkpoints_and_refuse_sizes_without_one() {
    let f = fixture().await;
    let size = f.own_size().await;
    let (status, _, body) = f
        .get(
            &format!("/dashboard?cp_US={size}&at=1980-12-31"),
            Some(Role::Viewer),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert!(body.contains(&format!("US at {size} entries")), "{body}");
    assert!(body.contains("checkpoints chosen above"));
    let (status, _, body) = f.get("/dashboard?cp_US=3", Some(Role::Viewer)).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(body.contains("no checkpoint at size 3"), "{body}");
    let (status, _, body) = f.get("/dashboard?cp_XX=3", Some(Role::Viewer)).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(body.contains("not a party"), "{body}");
    let (status, _, _) = f.get("/dashboard?at=soon", Some(Role::Viewer)).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    // Replaying the log to empty leaves nothing to assess.
    let (status, _, body) = f.get("/dashboard?cp_US=0", Some(Role::Viewer)).await;
    assert_eq!(status, StatusCode::OK, "{body}");
}

#[tokio::test]
async fn what_if_changes_findings_and_writes_nothing() {
    let f = fixture().await;
    let before = f.own_size().await;
    let (status, _, body) = f
        .get(
            "/dashboard/what-if/findings?at=1980-12-31&p_civil_defense_cap=1&p_arms_sales_cap=100",
            Some(Role::Viewer),
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    assert!(
        body.starts_with("<div id=\"whatif-results\""),
        "a fragment: {body}"
    );
    assert!(body.contains("class=\"changed\""), "{body}");
    assert!(!body.contains("<html"));
    let (_, _, body) = f
        .get(
            "/dashboard/what-if/findings?at=1980-12-31&p_sdv_ceiling=lots",
            Some(Role::Viewer),
        )
        .await;
    assert!(body.contains("param `sdv_ceiling` expects"), "{body}");
    assert_eq!(f.own_size().await, before);
}

#[tokio::test]
async fn exports_state_the_instant_checkpoints_and_params() {
    let f = fixture().await;
    let q = "at=1980-12-31&set=sdv_ceiling%3D2000";
    let (status, headers, csv) = f
        .get(
            &format!("/dashboard/exports/findings.csv?{q}"),
            Some(Role::Viewer),
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    assert!(
        headers[header::CONTENT_DISPOSITION]
            .to_str()
            .unwrap()
            .contains("findings.csv")
    );
    assert!(csv.contains("# at: 1980-12-31T00:00:00Z\n"), "{csv}");
    assert!(
        csv.contains("# checkpoint: detente/carter_1977/US size "),
        "{csv}"
    );
    assert!(csv.contains("sdv_ceiling=2000"), "{csv}");
    assert!(csv.contains("\nparty,provision,kind,title,status,"));
    assert!(csv.contains("US,g,ban,"), "{csv}");
    let (_, _, json) = f
        .get(
            &format!("/dashboard/exports/findings.json?{q}"),
            Some(Role::Viewer),
        )
        .await;
    let report: serde_json::Value = serde_json::from_str(&json).unwrap();
    assert_eq!(report["at"], "1980-12-31T00:00:00Z");
    assert_eq!(report["provenance"]["params"]["sdv_ceiling"], 2000);
    assert!(report["provenance"]["checkpoints"][0]["root"].is_string());
    let (_, _, csv) = f
        .get(
            &format!(
                "/dashboard/exports/timeline.csv?{q}&from=1978-01-01&to=1979-01-01&every=3%20months"
            ),
            Some(Role::Viewer),
        )
        .await;
    assert!(
        csv.contains("# at: 1978-01-01T00:00:00Z to 1979-01-01T00:00:00Z, every 3 months"),
        "{csv}"
    );
    assert!(csv.contains("1978-04-01T00:00:00Z,US,b,compliant"), "{csv}");
    let (_, headers, geo) = f
        .get(
            &format!("/dashboard/exports/items.geojson?{q}"),
            Some(Role::Viewer),
        )
        .await;
    assert!(
        headers[header::CONTENT_TYPE]
            .to_str()
            .unwrap()
            .starts_with("application/geo+json")
    );
    let geo: serde_json::Value = serde_json::from_str(&geo).unwrap();
    assert_eq!(geo["type"], "FeatureCollection");
    assert!(
        geo["features"]
            .as_array()
            .unwrap()
            .iter()
            .any(|f| f["id"] == "us-base-diego-garcia")
    );
    assert_eq!(geo["provenance"]["at"], "1980-12-31T00:00:00Z");
    let (_, _, geo) = f
        .get(
            &format!("/dashboard/exports/observations.geojson?{q}"),
            Some(Role::Viewer),
        )
        .await;
    let geo: serde_json::Value = serde_json::from_str(&geo).unwrap();
    assert!(!geo["features"].as_array().unwrap().is_empty());
    let (_, _, receipts) = f
        .get(
            &format!("/dashboard/exports/receipts.json?{q}&provision=g&party=US"),
            Some(Role::Viewer),
        )
        .await;
    let receipts: serde_json::Value = serde_json::from_str(&receipts).unwrap();
    let list = receipts["receipts"].as_array().unwrap();
    assert!(
        list.iter().any(|r| r["fact"] == "us-base-diego-garcia"),
        "{receipts}"
    );
    assert!(
        list[0]["receipt"]
            .as_str()
            .unwrap()
            .starts_with("c2sp.org/tlog-proof@v1")
    );
    assert_eq!(
        f.get("/dashboard/exports/secrets.txt", Some(Role::Viewer))
            .await
            .0,
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        f.get(
            &format!("/dashboard/exports/findings.csv?{q}&bogus=1"),
            Some(Role::Viewer)
        )
        .await
        .0,
        StatusCode::BAD_REQUEST
    );
}

#[tokio::test]
async fn what_a_party_wrote_is_escaped_everywhere() {
    let f = fixture().await;
    let hostile = "<script>alert(1)</script>";
    let line = serde_json::json!({
        "kind": "item", "party": "US", "id": hostile, "category": "military_base",
        "attributes": {}, "location": {"lat": -5.0, "lon": 75.0}, "from": "1979-01-01"
    });
    f.node.submit(&line.to_string(), "hostile").await.unwrap();
    for page in [
        "/dashboard/map?at=1980-12-31",
        "/dashboard/provision/g?at=1980-12-31",
    ] {
        let (status, _, body) = f.get(page, Some(Role::Viewer)).await;
        assert_eq!(status, StatusCode::OK);
        assert!(
            !body.contains(hostile),
            "{page} holds raw markup from a fact"
        );
        assert!(
            body.contains("&lt;script&gt;") || body.contains("&#60;script&#62;"),
            "{page}"
        );
    }
}

#[tokio::test]
async fn unknown_things_are_html_errors() {
    let f = fixture().await;
    let (status, headers, body) = f.get("/dashboard/provision/zz", Some(Role::Viewer)).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert!(
        headers[header::CONTENT_TYPE]
            .to_str()
            .unwrap()
            .starts_with("text/html")
    );
    assert!(body.contains("no provision `zz`"));
    let (status, _, body) = f
        .get(
            "/dashboard/fact?origin=detente%2Fcarter_1977%2FUS&index=99999",
            Some(Role::Viewer),
        )
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND, "{body}");
    let (status, _, _) = f.get("/dashboard/fact?index=x", Some(Role::Viewer)).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    let (status, headers, body) = f.get("/dashboard/nope", Some(Role::Viewer)).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert!(
        headers[header::CONTENT_TYPE]
            .to_str()
            .unwrap()
            .starts_with("text/html")
    );
    assert!(body.contains("no page /dashboard/nope"), "{body}");
    let (_, _, body) = f.get("/dashboard/notifications", Some(Role::Viewer)).await;
    assert!(
        body.contains("hx-trigger=\"every 30s\""),
        "the tables refresh themselves"
    );
    // The root leads to the dashboard.
    let (status, headers, _) = f.get("/", None).await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    assert_eq!(headers[header::LOCATION], "/dashboard");
}
