#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]
//! Router tests without sockets: `router(state)` answers requests through
//! `tower::ServiceExt::oneshot`, for a US node on a `MemoryStore` that holds the
//! Carter-1977 scenario and has mirrored the USSR node (another in-process node), with a
//! `ManualClock`.
//!
//! - `every_documented_operation_answers_each_role` walks the OpenAPI document's
//!   operations: each is called without a token (401), with a token of no operator (401),
//!   with every role below the one it needs (403) and every role from it up (its success);
//!   peer endpoints unsigned (401) and signed. Every answer is checked against the
//!   document: its status must be documented for the operation, and its JSON body must fit
//!   the documented schema. The test fails if an operation of the document was not called
//!   successfully.
//! - `the_openapi_document_is_valid` checks the document itself.
//! - The other tests check what the answers say.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use axum::Router;
use axum::body::Body;
use axum::http::Request;
use detente_assess::engine::Options;
use detente_lang::time::Instant;
use detente_node::home::{Home, generate_key};
use detente_node::memory_store::MemoryStore;
use detente_node::network::encode_key;
use detente_node::store::Hash;
use detente_node::users::{Role, add_user};
use detente_node::{Clock, ManualClock, Node, Peer, PeerError, Store};
use detente_server::{AppState, router};
use serde_json::{Value, json};
use tower::ServiceExt as _;

const ROOT: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../..");
const US: &str = "detente/carter_1977/US";
const USSR: &str = "detente/carter_1977/USSR";
/// 2030-01-01T00:00:00Z, in seconds.
const T0: i64 = 1_893_456_000;
/// A USSR notification of a launch window opening four days after T0, appended at T0.
const LIVE_NOTIFICATION: &str = r#"{"kind": "notification", "party": "USSR", "id": "ussr-2030-live-ntf", "provision": "d", "event_type": "missile_test_launch", "sent_at": "2030-01-01T00:00:00Z", "window": {"from": "2030-01-05T00:00:00Z", "to": "2030-01-06T00:00:00Z"}, "launch_area": {"circle": {"center": {"lat": 45.92, "lon": 63.34}, "radius_km": 50}}, "impact_area": {"circle": {"center": {"lat": 57.5, "lon": 161.0}, "radius_km": 150}}}"#;
const LIVE_ID: &str = "ussr-2030-live-ntf";
/// An observation by US: what an analyst may submit.
const OBSERVATION: &str = r#"{"kind": "observation", "observer": "US", "party": "USSR", "id": "api-obs-1", "type": "missile_test_launch", "at": "1985-01-01T00:00:00Z", "launch_point": {"lat": 45.9, "lon": 63.3}, "impact_point": {"lat": 57.4, "lon": 160.8}}"#;

// ----- set-up ------------------------------------------------------------------------------

/// The peer protocol answered by another in-process node (what the peer endpoints do, minus
/// HTTP).
struct LocalPeer<'a> {
    node: &'a Node<MemoryStore>,
    caller: &'static str,
}

fn peer_error(what: &str, e: impl std::fmt::Display) -> PeerError {
    PeerError {
        peer: "local".into(),
        what: what.into(),
        detail: e.to_string(),
    }
}

impl Peer for LocalPeer<'_> {
    fn party(&self) -> &str {
        self.node.party()
    }

    async fn checkpoint(&self) -> Result<String, PeerError> {
        self.node
            .checkpoint_with_cosignatures(self.node.origin())
            .await
            .map_err(|e| peer_error("checkpoint", e))?
            .ok_or_else(|| peer_error("checkpoint", "empty"))
    }

    async fn entries(&self, from: u64, to: u64) -> Result<Vec<Vec<u8>>, PeerError> {
        self.node
            .entries(self.node.origin(), from, to)
            .await
            .map_err(|e| peer_error("entries", e))
    }

    async fn consistency(&self, old_size: u64, new_size: u64) -> Result<Vec<Hash>, PeerError> {
        self.node
            .consistency_proof(self.node.origin(), old_size, new_size)
            .await
            .map_err(|e| peer_error("consistency", e))
    }

    async fn add_cosignature(&self, size: u64, line: &str) -> Result<(), PeerError> {
        self.node
            .receive_cosignature(self.caller, size, line)
            .await
            .map(|_| ())
            .map_err(|e| peer_error("cosignature", e))
    }

    async fn mirrors(&self) -> Result<Vec<(String, String)>, PeerError> {
        self.node
            .mirrored_checkpoints()
            .await
            .map_err(|e| peer_error("mirrors", e))
    }
}

/// Two nodes that have mirrored and cosigned each other, and the US node's router.
struct World {
    _dir: tempfile::TempDir,
    ussr_home: Home,
    clock: ManualClock,
    us: Arc<Node<MemoryStore>>,
    ussr: Arc<Node<MemoryStore>>,
    tokens: BTreeMap<Role, String>,
    app: Router,
    nonce: AtomicU64,
}

fn treaty_path() -> PathBuf {
    Path::new(ROOT).join("treaties/carter-1977.treaty")
}

/// The Carter-1977 scenario split by the party that speaks for each record: (US, USSR).
fn scenario() -> (String, String) {
    let text =
        std::fs::read_to_string(Path::new(ROOT).join("scenarios/carter-1977/facts.jsonl")).unwrap();
    let (mut us, mut ussr) = (String::new(), String::new());
    for line in text.lines().filter(|l| !l.trim().is_empty()) {
        let record: Value = serde_json::from_str(line).unwrap();
        let field = if record["kind"] == "observation" {
            "observer"
        } else {
            "party"
        };
        let out = if record[field] == "US" {
            &mut us
        } else {
            &mut ussr
        };
        out.push_str(line);
        out.push('\n');
    }
    (us, ussr)
}

async fn world() -> World {
    let dir = tempfile::tempdir().unwrap();
    let us_dir = dir.path().join("us");
    let ussr_dir = dir.path().join("ussr");
    let us_key = generate_key(&us_dir).unwrap();
    let ussr_key = generate_key(&ussr_dir).unwrap();
    let network = dir.path().join("network.toml");
    std::fs::write(
        &network,
        format!(
            "treaty = \"carter_1977\"\n\n\
             [[party]]\nname = \"US\"\nurl = \"http://127.0.0.1:9\"\nnode_key = \"{}\"\n\n\
             [[party]]\nname = \"USSR\"\nurl = \"http://127.0.0.1:9\"\nnode_key = \"{}\"\n",
            encode_key(&us_key),
            encode_key(&ussr_key)
        ),
    )
    .unwrap();
    let us_home = Home::init(&us_dir, &treaty_path(), "US", &network).unwrap();
    let ussr_home = Home::init(&ussr_dir, &treaty_path(), "USSR", &network).unwrap();
    let clock = ManualClock::new(T0 * 1000);
    let handle: Arc<dyn Clock> = Arc::new(clock.clone());
    let us = Arc::new(
        Node::open(&us_home, MemoryStore::new(), handle.clone())
            .await
            .unwrap(),
    );
    let ussr = Arc::new(
        Node::open(&ussr_home, MemoryStore::new(), handle)
            .await
            .unwrap(),
    );
    let (us_facts, ussr_facts) = scenario();
    us.submit(&us_facts, "us.jsonl").await.unwrap();
    ussr.submit(&format!("{ussr_facts}{LIVE_NOTIFICATION}\n"), "ussr.jsonl")
        .await
        .unwrap();
    clock.advance_ms(7_000);
    us.mirror(&LocalPeer {
        node: &ussr,
        caller: "US",
    })
    .await
    .unwrap();
    clock.advance_ms(5_000);
    ussr.mirror(&LocalPeer {
        node: &us,
        caller: "USSR",
    })
    .await
    .unwrap();
    let mut tokens = BTreeMap::new();
    for (name, role) in [
        ("vera", Role::Viewer),
        ("anna", Role::Analyst),
        ("olga", Role::Officer),
        ("adam", Role::Admin),
    ] {
        let token = add_user(us.store(), name, role, clock.now_ms())
            .await
            .unwrap();
        tokens.insert(role, token);
    }
    let app = router(Arc::new(AppState::new(us.clone())));
    World {
        _dir: dir,
        ussr_home,
        clock,
        us,
        ussr,
        tokens,
        app,
        nonce: AtomicU64::new(0),
    }
}

// ----- calling the router ------------------------------------------------------------------

/// Every (method, path, status) answered, for the coverage check.
static CALLED: Mutex<Vec<(String, String, u16)>> = Mutex::new(Vec::new());

#[derive(Debug)]
struct Answer {
    status: u16,
    content_type: String,
    body: Vec<u8>,
}

impl Answer {
    fn json(&self) -> Value {
        serde_json::from_slice(&self.body)
            .unwrap_or_else(|e| panic!("not JSON ({e}): {}", String::from_utf8_lossy(&self.body)))
    }

    fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }

    /// The error message of a JSON error, checking the one shape.
    fn error(&self) -> String {
        let v = self.json();
        assert_eq!(v["error"]["status"], self.status, "{v}");
        assert!(v["error"]["code"].is_string(), "{v}");
        v["error"]["message"].as_str().unwrap().to_owned()
    }
}

async fn send(app: &Router, request: Request<Body>) -> Answer {
    let method = request.method().to_string();
    let path = request.uri().path().to_owned();
    let response = app.clone().oneshot(request).await.unwrap();
    let status = response.status().as_u16();
    let content_type = response
        .headers()
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_owned();
    let body = axum::body::to_bytes(response.into_body(), usize::MAX)
        .await
        .unwrap()
        .to_vec();
    CALLED.lock().unwrap().push((method, path, status));
    Answer {
        status,
        content_type,
        body,
    }
}

fn request(method: &str, uri: &str, token: Option<&str>, body: &[u8]) -> Request<Body> {
    let mut builder = Request::builder().method(method).uri(uri);
    if let Some(token) = token {
        builder = builder.header("authorization", format!("Bearer {token}"));
    }
    builder.body(Body::from(body.to_vec())).unwrap()
}

impl World {
    fn token(&self, role: Role) -> &str {
        &self.tokens[&role]
    }

    async fn call(&self, method: &str, uri: &str, role: Option<Role>, body: &[u8]) -> Answer {
        send(
            &self.app,
            request(method, uri, role.map(|r| self.token(r)), body),
        )
        .await
    }

    async fn get(&self, uri: &str) -> Answer {
        self.call("GET", uri, Some(Role::Viewer), b"").await
    }

    /// A request to the US node signed by the USSR node's key.
    async fn signed(&self, method: &str, uri: &str, body: &[u8]) -> Answer {
        let nonce = format!("n{}", self.nonce.fetch_add(1, Ordering::SeqCst));
        let headers = detente_node::auth::sign_request(
            &self.ussr_home.key,
            USSR,
            US,
            method,
            uri,
            self.clock.now_secs(),
            &nonce,
            body,
        );
        let mut builder = Request::builder().method(method).uri(uri);
        for (name, value) in headers {
            builder = builder.header(name, value);
        }
        send(&self.app, builder.body(Body::from(body.to_vec())).unwrap()).await
    }
}

// ----- the OpenAPI document ----------------------------------------------------------------

const METHODS: [&str; 5] = ["get", "post", "put", "delete", "patch"];

/// (method, path template) of every operation in the document.
fn operations(doc: &Value) -> Vec<(String, String)> {
    let mut out = Vec::new();
    for (path, item) in doc["paths"].as_object().unwrap() {
        for method in METHODS {
            if item.get(method).is_some() {
                out.push((method.to_owned(), path.clone()));
            }
        }
    }
    out
}

/// Whether a concrete path matches a template with `{name}` segments.
fn matches_template(template: &str, path: &str) -> bool {
    let a: Vec<&str> = template.split('/').collect();
    let b: Vec<&str> = path.split('/').collect();
    a.len() == b.len()
        && a.iter()
            .zip(&b)
            .all(|(t, p)| (t.starts_with('{') && t.ends_with('}') && !p.is_empty()) || t == p)
}

fn resolve<'a>(doc: &'a Value, reference: &str) -> &'a Value {
    let pointer = reference
        .strip_prefix('#')
        .unwrap_or_else(|| panic!("only local references: {reference}"));
    doc.pointer(pointer)
        .unwrap_or_else(|| panic!("{reference} does not resolve"))
}

/// What is wrong with `value` against `schema` (a small JSON Schema check: `$ref`,
/// `oneOf`/`anyOf`/`allOf`, `type`, `required`, `properties`, `additionalProperties`,
/// `items`, `enum`).
fn schema_problems(doc: &Value, schema: &Value, value: &Value, at: &str, out: &mut Vec<String>) {
    if let Some(reference) = schema.get("$ref").and_then(Value::as_str) {
        schema_problems(doc, resolve(doc, reference), value, at, out);
        return;
    }
    for key in ["oneOf", "anyOf"] {
        if let Some(options) = schema.get(key).and_then(Value::as_array) {
            let fits = options.iter().any(|s| {
                let mut inner = Vec::new();
                schema_problems(doc, s, value, at, &mut inner);
                inner.is_empty()
            });
            if !fits {
                out.push(format!("{at}: fits none of {key}: {value}"));
            }
            return;
        }
    }
    if let Some(all) = schema.get("allOf").and_then(Value::as_array) {
        for s in all {
            schema_problems(doc, s, value, at, out);
        }
    }
    if let Some(types) = schema.get("type") {
        let types: Vec<&str> = match types {
            Value::String(t) => vec![t.as_str()],
            Value::Array(list) => list.iter().filter_map(Value::as_str).collect(),
            _ => Vec::new(),
        };
        let fits = types.iter().any(|t| match *t {
            "null" => value.is_null(),
            "boolean" => value.is_boolean(),
            "integer" => value.is_i64() || value.is_u64(),
            "number" => value.is_number(),
            "string" => value.is_string(),
            "array" => value.is_array(),
            "object" => value.is_object(),
            _ => false,
        });
        if !fits {
            out.push(format!("{at}: expected {types:?}, found {value}"));
            return;
        }
    }
    if let Some(allowed) = schema.get("enum").and_then(Value::as_array)
        && !allowed.contains(value)
    {
        out.push(format!("{at}: {value} is not one of {allowed:?}"));
    }
    if let Some(object) = value.as_object() {
        for name in schema
            .get("required")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .filter_map(Value::as_str)
        {
            if !object.contains_key(name) {
                out.push(format!("{at}: `{name}` is required and missing"));
            }
        }
        let properties = schema.get("properties").and_then(Value::as_object);
        for (name, v) in object {
            if let Some(s) = properties.and_then(|p| p.get(name)) {
                schema_problems(doc, s, v, &format!("{at}.{name}"), out);
            } else if let Some(s) = schema.get("additionalProperties").filter(|s| s.is_object()) {
                schema_problems(doc, s, v, &format!("{at}.{name}"), out);
            } else if properties.is_some() {
                out.push(format!("{at}: `{name}` is not in the schema"));
            }
        }
    }
    if let (Some(items), Some(list)) = (schema.get("items"), value.as_array()) {
        for (i, v) in list.iter().enumerate().take(200) {
            schema_problems(doc, items, v, &format!("{at}[{i}]"), out);
        }
    }
}

/// Checks an answer against the document: its status is documented for the operation,
/// and a JSON body fits the documented schema.
fn check_against_document(doc: &Value, method: &str, template: &str, answer: &Answer) {
    let operation = &doc["paths"][template][method];
    let documented = &operation["responses"][answer.status.to_string()];
    assert!(
        documented.is_object(),
        "{} {template} answered {}, which the document does not list: {}",
        method.to_uppercase(),
        answer.status,
        answer.text()
    );
    if answer.content_type.starts_with("application/json") {
        let schema = &documented["content"]["application/json"]["schema"];
        assert!(
            schema.is_object(),
            "{method} {template} {}: no JSON schema documented",
            answer.status
        );
        let mut problems = Vec::new();
        schema_problems(doc, schema, &answer.json(), "body", &mut problems);
        assert!(
            problems.is_empty(),
            "{} {template} {}: the body does not fit the document:\n{}",
            method.to_uppercase(),
            answer.status,
            problems.join("\n")
        );
    }
}

fn openapi() -> Value {
    use utoipa::OpenApi as _;
    serde_json::to_value(detente_server::api::doc::ApiDoc::openapi()).unwrap()
}

#[test]
fn the_openapi_document_is_valid() {
    let doc = openapi();
    assert!(
        doc["openapi"].as_str().unwrap().starts_with("3."),
        "{}",
        doc["openapi"]
    );
    assert!(doc["info"]["title"].is_string() && doc["info"]["version"].is_string());
    let schemes = doc["components"]["securitySchemes"].as_object().unwrap();
    assert_eq!(schemes["bearer"]["scheme"], "bearer");
    assert!(schemes.contains_key("node_signature"));
    let operations = operations(&doc);
    assert!(operations.len() >= 20, "{operations:?}");
    let mut ids = BTreeSet::new();
    for (method, path) in &operations {
        let operation = &doc["paths"][path][method];
        let responses = operation["responses"].as_object();
        assert!(
            responses.is_some_and(|r| !r.is_empty()),
            "{method} {path} has no responses"
        );
        for (status, response) in responses.unwrap() {
            assert!(
                status.parse::<u16>().is_ok_and(|s| (100..600).contains(&s)),
                "{method} {path}: status {status}"
            );
            assert!(
                response["description"].is_string(),
                "{method} {path} {status}"
            );
        }
        if let Some(id) = operation["operationId"].as_str() {
            assert!(ids.insert(id.to_owned()), "operationId {id} twice");
        }
        // Every operation says who may call it: the default (bearer) or its own.
        let security = operation
            .get("security")
            .or_else(|| doc.get("security"))
            .and_then(Value::as_array)
            .unwrap();
        for requirement in security {
            for name in requirement.as_object().unwrap().keys() {
                assert!(schemes.contains_key(name), "{method} {path}: scheme {name}");
            }
        }
        // Path parameters are declared.
        for segment in path.split('/') {
            if let Some(name) = segment.strip_prefix('{').and_then(|s| s.strip_suffix('}')) {
                let declared = operation["parameters"]
                    .as_array()
                    .into_iter()
                    .flatten()
                    .any(|p| p["name"] == name && p["in"] == "path");
                assert!(declared, "{method} {path}: path parameter {name}");
            }
        }
        if path.starts_with("/api/v1/") || path == "/metrics" {
            assert!(
                operation.get("security").is_none(),
                "{method} {path} must use the document's bearer security"
            );
            assert!(
                operation["responses"].get("401").is_some(),
                "{method} {path} must document 401"
            );
        }
    }
    // Every $ref resolves.
    fn refs(value: &Value, out: &mut Vec<String>) {
        match value {
            Value::Object(map) => {
                for (k, v) in map {
                    if k == "$ref" {
                        out.push(v.as_str().unwrap().to_owned());
                    } else {
                        refs(v, out);
                    }
                }
            }
            Value::Array(list) => list.iter().for_each(|v| refs(v, out)),
            _ => {}
        }
    }
    let mut all = Vec::new();
    refs(&doc, &mut all);
    assert!(all.len() > 30, "{}", all.len());
    for reference in &all {
        resolve(&doc, reference);
    }
}

#[test]
fn the_schema_check_finds_what_does_not_fit() {
    let doc = openapi();
    let schema = json!({"$ref": "#/components/schemas/Submitted"});
    let mut problems = Vec::new();
    let good =
        json!({"appended": 1, "already_logged": 0, "first_index": 3, "size": 4, "checkpoint": "c"});
    schema_problems(&doc, &schema, &good, "body", &mut problems);
    assert!(problems.is_empty(), "{problems:?}");
    let bad = json!({"appended": "1", "first_index": 3, "size": 4, "checkpoint": "c", "extra": 1});
    schema_problems(&doc, &schema, &bad, "body", &mut problems);
    assert_eq!(problems.len(), 3, "{problems:?}");
    // Optional fields may be absent or null; a finding's status is one of five.
    let finding = json!({"$ref": "#/components/schemas/Finding"});
    let mut problems = Vec::new();
    let ok = json!({"party": "US", "provision": "a", "kind": "limit", "title": "t", "status": "compliant", "value": 3, "bound": 2.5});
    schema_problems(&doc, &finding, &ok, "body", &mut problems);
    assert!(problems.is_empty(), "{problems:?}");
    let wrong =
        json!({"party": "US", "provision": "a", "kind": "limit", "title": "t", "status": "fine"});
    schema_problems(&doc, &finding, &wrong, "body", &mut problems);
    assert_eq!(problems.len(), 1, "{problems:?}");
}

// ----- every operation, every role ---------------------------------------------------------

/// Who may call an operation.
#[derive(Debug, Clone, Copy)]
enum Who {
    /// An operator of at least this role.
    Role(Role),
    /// Anyone.
    Public,
    /// A node of the network (signed request).
    Peer,
}

struct Case {
    method: &'static str,
    uri: String,
    body: Vec<u8>,
    who: Who,
    ok: u16,
}

fn case(method: &'static str, uri: &str, body: &str, who: Who, ok: u16) -> Case {
    Case {
        method,
        uri: uri.to_owned(),
        body: body.as_bytes().to_vec(),
        who,
        ok,
    }
}

#[tokio::test]
async fn every_documented_operation_answers_each_role() {
    let w = world().await;
    let doc = openapi();
    let cosignature =
        w.us.store()
            .cosignatures(US)
            .await
            .unwrap()
            .into_iter()
            .find(|c| c.cosigner == USSR)
            .unwrap();
    let us_size = w.us.log_heads().await[0].1;
    let ack = json!({"party": "USSR", "id": LIVE_ID}).to_string();
    let cases = vec![
        case(
            "GET",
            "/api/v1/report?at=1980-12-31",
            "",
            Who::Role(Role::Viewer),
            200,
        ),
        case(
            "GET",
            "/api/v1/timeline?from=1978-01-01&to=1982-01-01&every=6%20months",
            "",
            Who::Role(Role::Viewer),
            200,
        ),
        case(
            "GET",
            "/api/v1/plan?at=1980-01-01",
            "",
            Who::Role(Role::Viewer),
            200,
        ),
        case(
            "GET",
            "/api/v1/findings?at=1980-12-31",
            "",
            Who::Role(Role::Viewer),
            200,
        ),
        case(
            "GET",
            "/api/v1/facts?kind=notification",
            "",
            Who::Role(Role::Viewer),
            200,
        ),
        case(
            "GET",
            "/api/v1/notifications/incoming",
            "",
            Who::Role(Role::Viewer),
            200,
        ),
        case(
            "GET",
            "/api/v1/notifications/outgoing",
            "",
            Who::Role(Role::Viewer),
            200,
        ),
        case(
            "POST",
            "/api/v1/notifications/ack",
            &ack,
            Who::Role(Role::Officer),
            200,
        ),
        case("GET", "/api/v1/log", "", Who::Role(Role::Viewer), 200),
        case(
            "GET",
            "/api/v1/receipt?index=0",
            "",
            Who::Role(Role::Viewer),
            200,
        ),
        case(
            "POST",
            "/api/v1/submit",
            OBSERVATION,
            Who::Role(Role::Analyst),
            200,
        ),
        case("GET", "/api/v1/letters", "", Who::Role(Role::Viewer), 200),
        case("GET", "/api/v1/operators", "", Who::Role(Role::Admin), 200),
        case(
            "POST",
            "/api/v1/operators",
            r#"{"name": "nadia", "role": "viewer"}"#,
            Who::Role(Role::Admin),
            201,
        ),
        case(
            "DELETE",
            "/api/v1/operators/nadia",
            "",
            Who::Role(Role::Admin),
            200,
        ),
        case("GET", "/metrics", "", Who::Role(Role::Viewer), 200),
        case("GET", "/healthz", "", Who::Public, 200),
        case("GET", "/peer/v1/checkpoint", "", Who::Peer, 200),
        case("GET", "/peer/v1/entries?from=0&to=3", "", Who::Peer, 200),
        case(
            "GET",
            &format!("/peer/v1/consistency?old=1&new={us_size}"),
            "",
            Who::Peer,
            200,
        ),
        case(
            "GET",
            &format!("/peer/v1/inclusion?index=0&size={us_size}"),
            "",
            Who::Peer,
            200,
        ),
        case(
            "POST",
            "/peer/v1/cosignature",
            &json!({"size": cosignature.size, "line": cosignature.line}).to_string(),
            Who::Peer,
            200,
        ),
        case("GET", "/peer/v1/mirrors", "", Who::Peer, 200),
    ];
    let templates = operations(&doc);
    let template_of = |method: &str, uri: &str| -> String {
        let path = uri.split('?').next().unwrap();
        templates
            .iter()
            .find(|(m, t)| m == &method.to_lowercase() && matches_template(t, path))
            .map(|(_, t)| t.clone())
            .unwrap_or_else(|| panic!("{method} {path} is not in the document"))
    };
    let mut succeeded = BTreeSet::new();
    for c in &cases {
        let template = template_of(c.method, &c.uri);
        let method = c.method.to_lowercase();
        let check = |answer: &Answer, expected: u16, who: &str| {
            assert_eq!(
                answer.status,
                expected,
                "{} {} as {who}: {}",
                c.method,
                c.uri,
                answer.text()
            );
            check_against_document(&doc, &method, &template, answer);
        };
        match c.who {
            Who::Public => {
                let answer = send(&w.app, request(c.method, &c.uri, None, &c.body)).await;
                check(&answer, c.ok, "anyone");
            }
            Who::Peer => {
                let unsigned = send(&w.app, request(c.method, &c.uri, None, &c.body)).await;
                check(&unsigned, 401, "an unsigned caller");
                assert!(
                    unsigned.error().contains("not signed"),
                    "{}",
                    unsigned.text()
                );
                let bearer = w.call(c.method, &c.uri, Some(Role::Admin), &c.body).await;
                check(
                    &bearer,
                    401,
                    "an operator (peers sign; tokens are not for peers)",
                );
                let signed = w.signed(c.method, &c.uri, &c.body).await;
                check(&signed, c.ok, "the USSR node");
            }
            Who::Role(least) => {
                let none = send(&w.app, request(c.method, &c.uri, None, &c.body)).await;
                check(&none, 401, "no token");
                assert!(
                    none.error().contains("needs an operator token"),
                    "{}",
                    none.text()
                );
                let bad = send(&w.app, request(c.method, &c.uri, Some("dt_nope"), &c.body)).await;
                check(&bad, 401, "a token of no operator");
                assert!(bad.error().contains("not the token of any operator"));
                for role in Role::ALL {
                    let answer = w.call(c.method, &c.uri, Some(role), &c.body).await;
                    if role < least {
                        check(&answer, 403, role.name());
                        let message = answer.error();
                        assert!(
                            message.contains(&format!("needs the {least} role")),
                            "{message}"
                        );
                    } else {
                        check(&answer, c.ok, role.name());
                    }
                }
            }
        }
        succeeded.insert((method, template));
    }
    // Every documented operation was called, and succeeded.
    let missing: Vec<_> = templates
        .iter()
        .filter(|op| !succeeded.contains(*op))
        .collect();
    assert!(
        missing.is_empty(),
        "operations in the document that no test called: {missing:?}"
    );
    // And the router's log of calls agrees.
    let called = CALLED.lock().unwrap().clone();
    for (method, template) in &templates {
        assert!(
            called.iter().any(|(m, p, s)| m.to_lowercase() == *method
                && matches_template(template, p)
                && (200..300).contains(s)),
            "{method} {template} was never answered with success"
        );
    }
}

// ----- what the answers say ----------------------------------------------------------------

#[tokio::test]
async fn the_document_and_its_ui_are_served_to_anyone_without_a_cdn() {
    let w = world().await;
    let answer = send(&w.app, request("GET", "/api/v1/openapi.json", None, b"")).await;
    assert_eq!(answer.status, 200);
    assert_eq!(answer.json(), openapi());
    let ui = send(&w.app, request("GET", "/api/v1/docs/", None, b"")).await;
    assert_eq!(ui.status, 200, "{}", ui.text());
    assert!(
        ui.content_type.starts_with("text/html"),
        "{}",
        ui.content_type
    );
    let page = ui.text();
    assert!(!page.contains("https://"), "{page}");
    let config = send(
        &w.app,
        request("GET", "/api/v1/docs/swagger-initializer.js", None, b""),
    )
    .await;
    assert_eq!(config.status, 200);
    assert!(
        config.text().contains("/api/v1/openapi.json"),
        "{}",
        config.text()
    );
    let bundle = send(
        &w.app,
        request("GET", "/api/v1/docs/swagger-ui-bundle.js", None, b""),
    )
    .await;
    assert_eq!(bundle.status, 200);
    assert!(bundle.body.len() > 100_000, "{}", bundle.body.len());
}

#[tokio::test]
async fn the_report_is_byte_for_byte_the_nodes_report_with_and_without_overrides() {
    let w = world().await;
    for (query, params) in [
        ("at=1980-12-31", vec![]),
        (
            "at=1980-12-31&set=sdv_ceiling=2000&set=mirv_ceiling=1200",
            vec![("sdv_ceiling", "2000"), ("mirv_ceiling", "1200")],
        ),
        (
            "at=1980-12-31T12:00:00Z&set=sdv_ceiling=2000,mirv_ceiling=1200",
            vec![("sdv_ceiling", "2000"), ("mirv_ceiling", "1200")],
        ),
    ] {
        let answer = w.get(&format!("/api/v1/report?{query}")).await;
        assert_eq!(answer.status, 200, "{}", answer.text());
        assert_eq!(answer.content_type, "application/json");
        let mut options = Options::default();
        for (k, v) in params {
            options.params.insert(k.to_owned(), v.to_owned());
        }
        let at = answer.json()["at"].as_str().unwrap().to_owned();
        let report =
            w.us.report(Instant::parse(&at).unwrap(), &options)
                .await
                .unwrap();
        let mut expected = serde_json::to_vec_pretty(&report).unwrap();
        expected.push(b'\n');
        assert_eq!(
            answer.text(),
            String::from_utf8(expected).unwrap(),
            "{query}"
        );
    }
    // The same request twice (the second from the kept engine) gives the same bytes.
    let a = w.get("/api/v1/report?at=1979-06-18").await;
    let b = w.get("/api/v1/report?at=1979-06-18").await;
    assert_eq!(a.body, b.body);
    // A new entry is seen at once: the engine follows the facts.
    let before = w.get("/api/v1/report?at=1985-06-01").await.json();
    let submitted = w
        .call(
            "POST",
            "/api/v1/submit",
            Some(Role::Analyst),
            OBSERVATION.as_bytes(),
        )
        .await;
    assert_eq!(submitted.status, 200, "{}", submitted.text());
    let after = w.get("/api/v1/report?at=1985-06-01").await.json();
    assert_ne!(before["inputs"], after["inputs"]);
}

#[tokio::test]
async fn bad_queries_are_400_naming_the_parameter() {
    let w = world().await;
    for (uri, needle) in [
        ("/api/v1/report", "`at` is required"),
        ("/api/v1/report?at=soon", "at: `soon` is not a date"),
        (
            "/api/v1/report?at=1980-01-01&at=1981-01-01",
            "`at` is given more than once",
        ),
        (
            "/api/v1/report?at=1980-01-01&colour=red",
            "unknown query parameter `colour`",
        ),
        (
            "/api/v1/report?at=1980-01-01&set=nope",
            "set: `nope` is not an assignment",
        ),
        (
            "/api/v1/report?at=1980-01-01&set=sdv_celing=1",
            "sdv_celing",
        ),
        (
            "/api/v1/report?at=1980-01-01&assume_in_force=later",
            "assume_in_force",
        ),
        ("/api/v1/timeline?to=1980-01-01", "`from` is required"),
        (
            "/api/v1/timeline?from=1981-01-01&to=1980-01-01",
            "to: `1980-01-01T00:00:00Z` is before from",
        ),
        (
            "/api/v1/timeline?from=1980-01-01&to=1981-01-01&every=soon",
            "every: `soon` is not a duration",
        ),
        (
            "/api/v1/timeline?from=1900-01-01&to=2100-01-01&every=1%20day",
            "more than 1000 instants",
        ),
        (
            "/api/v1/timeline?from=1980-01-01&to=1981-01-01&party=GB",
            "party: `GB` is not a party",
        ),
        ("/api/v1/plan", "`at` is required"),
        ("/api/v1/plan?at=1980-01-01&party=GB", "party: `GB`"),
        (
            "/api/v1/findings?at=1980-01-01&status=bad",
            "status: `bad` is not a status",
        ),
        (
            "/api/v1/findings?at=1980-01-01&provision=zz",
            "provision: `zz`",
        ),
        ("/api/v1/facts", "`kind` is required"),
        (
            "/api/v1/facts?kind=rumour",
            "kind: `rumour` is not a kind of fact",
        ),
        (
            "/api/v1/facts?kind=item&limit=0",
            "limit: `0` is not a whole number from 1 to 1000",
        ),
        ("/api/v1/facts?kind=item&limit=5000", "limit"),
        ("/api/v1/facts?kind=item&offset=-1", "offset"),
        ("/api/v1/facts?kind=item&party=GB", "party: `GB`"),
        (
            "/api/v1/notifications/incoming?acknowledged=maybe",
            "acknowledged: `maybe`",
        ),
        (
            "/api/v1/notifications/outgoing?x=1",
            "unknown query parameter `x`",
        ),
        ("/api/v1/receipt", "index"),
        ("/api/v1/receipt?index=x", "index"),
    ] {
        let answer = w.get(uri).await;
        assert_eq!(answer.status, 400, "{uri}: {}", answer.text());
        let message = answer.error();
        assert!(message.contains(needle), "{uri}: {message}");
    }
}

#[tokio::test]
async fn bad_bodies_are_400_or_422_naming_the_field_and_large_ones_413() {
    let w = world().await;
    let officer = Some(Role::Officer);
    for (body, status, needle) in [
        ("", 400, "the body is empty"),
        ("{", 400, "not JSON"),
        ("[1]", 400, "not a JSON object"),
        (r#"{"party": "USSR"}"#, 422, "`id`: missing"),
        (
            r#"{"party": "USSR", "id": 5}"#,
            422,
            "`id`: expected a string, found a number",
        ),
        (r#"{"party": "USSR", "id": ""}"#, 422, "`id`: is empty"),
        (
            r#"{"party": "USSR", "id": "x", "by": "me"}"#,
            422,
            "`by`: unknown field",
        ),
        (
            r#"{"party": "GB", "id": "x"}"#,
            422,
            "`party`: `GB` is not a party",
        ),
        (
            r#"{"party": "US", "id": "x"}"#,
            422,
            "`party`: US is this node's own party",
        ),
        (
            r#"{"party": "USSR", "id": "no-such"}"#,
            404,
            "no notification `no-such`",
        ),
    ] {
        let answer = w
            .call(
                "POST",
                "/api/v1/notifications/ack",
                officer,
                body.as_bytes(),
            )
            .await;
        assert_eq!(answer.status, status, "{body}: {}", answer.text());
        let message = answer.error();
        assert!(message.contains(needle), "{body}: {message}");
    }
    let long_id = format!(r#"{{"party": "USSR", "id": "{}"}}"#, "x".repeat(300));
    let answer = w
        .call(
            "POST",
            "/api/v1/notifications/ack",
            officer,
            long_id.as_bytes(),
        )
        .await;
    assert_eq!(answer.status, 422);
    assert!(answer.error().starts_with("`id`: longer than"));

    let admin = Some(Role::Admin);
    for (body, status, needle) in [
        (r#"{"name": "x"}"#, 422, "`role`: missing"),
        (
            r#"{"name": "x", "role": "root"}"#,
            422,
            "`role`: `root` is not a role",
        ),
        (
            r#"{"name": "bad name", "role": "viewer"}"#,
            422,
            "`name`: `bad name` is not a user name",
        ),
        (
            r#"{"name": "vera", "role": "viewer"}"#,
            409,
            "`name`: user `vera` already exists",
        ),
        (
            r#"{"name": ["x"], "role": "viewer"}"#,
            422,
            "`name`: expected a string, found an array",
        ),
    ] {
        let answer = w
            .call("POST", "/api/v1/operators", admin, body.as_bytes())
            .await;
        assert_eq!(answer.status, status, "{body}: {}", answer.text());
        let message = answer.error();
        assert!(message.contains(needle), "{body}: {message}");
    }

    // Too large: 413 in the JSON shape, before the body is read.
    let big = format!(r#"{{"party": "USSR", "id": "{}"}}"#, "x".repeat(20_000));
    for uri in ["/api/v1/notifications/ack", "/api/v1/operators"] {
        let answer = w.call("POST", uri, admin, big.as_bytes()).await;
        assert_eq!(answer.status, 413, "{uri}");
        assert_eq!(answer.json()["error"]["code"], "too_large");
        assert!(answer.error().contains("larger than this endpoint accepts"));
    }
    // A submission body that is not UTF-8, and one the node refuses.
    let answer = w
        .call("POST", "/api/v1/submit", officer, &[0xff, 0xfe, b'\n'])
        .await;
    assert_eq!(answer.status, 400);
    assert!(answer.error().contains("not UTF-8"));
    let answer = w
        .call(
            "POST",
            "/api/v1/submit",
            Some(Role::Analyst),
            br#"{"kind": "event", "party": "US", "id": "e", "type": "missile_test_launch", "at": "1985-01-01T00:00:00Z", "attributes": {}}"#,
        )
        .await;
    assert_eq!(answer.status, 422);
    assert!(
        answer
            .error()
            .contains("a `event` needs the officer role; this operator is an analyst"),
        "{}",
        answer.text()
    );
}

#[tokio::test]
async fn findings_map_each_violation_to_the_entries_and_receipts_behind_it() {
    let w = world().await;
    let answer = w
        .get("/api/v1/findings?at=1980-12-31&status=violation")
        .await;
    assert_eq!(answer.status, 200, "{}", answer.text());
    let body = answer.json();
    let findings = body["findings"].as_array().unwrap();
    assert!(!findings.is_empty());
    assert!(findings.iter().all(|f| f["status"] == "violation"));
    assert_eq!(body["summary"]["violation"], findings.len());
    assert_eq!(body["summary"]["compliant"], 0);
    let mut checked = 0;
    for finding in findings {
        for violation in finding["violations"].as_array().into_iter().flatten() {
            let ids: BTreeSet<&str> = violation["ids"]
                .as_array()
                .unwrap()
                .iter()
                .map(|i| i.as_str().unwrap())
                .collect();
            let entries = violation["entries"].as_array().unwrap();
            assert!(ids.is_empty() || !entries.is_empty(), "{violation}");
            for entry in entries.iter().take(3) {
                assert!(ids.contains(entry["id"].as_str().unwrap()));
                let receipt = w.get(entry["receipt"].as_str().unwrap()).await;
                assert_eq!(receipt.status, 200, "{}", receipt.text());
                let receipt = receipt.json();
                assert_eq!(receipt["origin"], entry["origin"]);
                assert_eq!(receipt["index"], entry["index"]);
                // The entry holds a fact with that id.
                let bytes = base64_decode(receipt["entry"].as_str().unwrap());
                let decoded = detente_ledger::entry::Entry::decode(&bytes).unwrap();
                let record: Value = serde_json::from_slice(&decoded.body).unwrap();
                assert_eq!(record["id"], entry["id"]);
                checked += 1;
            }
        }
    }
    assert!(checked >= 5, "{checked}");
    // Filters by party and provision.
    let us_d = w
        .get("/api/v1/findings?at=1980-12-31&party=US&provision=d")
        .await
        .json();
    let list = us_d["findings"].as_array().unwrap();
    assert_eq!(list.len(), 1, "{us_d}");
    assert_eq!(
        (list[0]["party"].as_str(), list[0]["provision"].as_str()),
        (Some("US"), Some("d"))
    );
}

fn base64_decode(text: &str) -> Vec<u8> {
    use base64::Engine as _;
    base64::engine::general_purpose::STANDARD
        .decode(text)
        .unwrap()
}

#[tokio::test]
async fn facts_are_listed_by_kind_and_party_page_by_page_as_logged() {
    let w = world().await;
    let all = w
        .get("/api/v1/facts?kind=notification&limit=1000")
        .await
        .json();
    let total = all["total"].as_u64().unwrap();
    assert!(total > 5, "{total}");
    assert_eq!(all["facts"].as_array().unwrap().len() as u64, total);
    let ussr = w
        .get("/api/v1/facts?kind=notification&party=USSR&limit=1000")
        .await
        .json();
    let ussr_facts = ussr["facts"].as_array().unwrap();
    assert!(ussr_facts.iter().all(|f| f["record"]["party"] == "USSR"
        && f["record"]["kind"] == "notification"
        && f["origin"] == USSR));
    assert!(ussr_facts.iter().any(|f| f["record"]["id"] == LIVE_ID));
    // Pages tile the list.
    let first = w
        .get("/api/v1/facts?kind=notification&limit=3")
        .await
        .json();
    let second = w
        .get("/api/v1/facts?kind=notification&limit=3&offset=3")
        .await
        .json();
    let ids = |v: &Value| -> Vec<Value> {
        v["facts"]
            .as_array()
            .unwrap()
            .iter()
            .map(|f| f["record"]["id"].clone())
            .collect()
    };
    let mut paged = ids(&first);
    paged.extend(ids(&second));
    assert_eq!(paged, ids(&all)[..6].to_vec());
    // Each names its entry and receipt.
    let fact = &first["facts"][0];
    assert_eq!(
        fact["receipt"],
        format!(
            "/api/v1/receipt?origin={}&index={}",
            fact["origin"].as_str().unwrap(),
            fact["index"]
        )
    );
    let past = w
        .get("/api/v1/facts?kind=declaration&offset=100000")
        .await
        .json();
    assert!(past["facts"].as_array().unwrap().is_empty());
    // Observations are about the party observed.
    let observed = w
        .get("/api/v1/facts?kind=observation&party=US&limit=1000")
        .await
        .json();
    assert!(
        observed["facts"]
            .as_array()
            .unwrap()
            .iter()
            .all(|f| f["record"]["party"] == "US" && f["record"]["observer"] == "USSR")
    );
}

#[tokio::test]
async fn notifications_in_and_out_carry_cosignature_times_lead_and_acknowledgement() {
    let w = world().await;
    let incoming = w.get("/api/v1/notifications/incoming").await.json();
    let list = incoming["notifications"].as_array().unwrap();
    assert!(
        list.iter()
            .all(|n| n["party"] == "USSR" && n["origin"] == USSR)
    );
    let live = list.iter().find(|n| n["id"] == LIVE_ID).unwrap();
    // US cosigned USSR's log at T0 + 7 s; the window opens at T0 + 4 days.
    assert_eq!(live["received_at"], "2030-01-01T00:00:07Z");
    assert_eq!(live["lead_seconds"], 4 * 86_400 - 7);
    assert_eq!(live["window"]["from"], "2030-01-05T00:00:00Z");
    assert_eq!(live["launch_area"], "circle");
    assert!(live["acknowledged"].is_null());

    // An officer acknowledges it; again changes nothing.
    w.clock.advance_ms(60_000);
    let body = json!({"party": "USSR", "id": LIVE_ID}).to_string();
    let first = w
        .call(
            "POST",
            "/api/v1/notifications/ack",
            Some(Role::Officer),
            body.as_bytes(),
        )
        .await
        .json();
    assert_eq!(first["new"], true);
    assert_eq!(first["acknowledged"]["by"], "olga");
    assert_eq!(first["acknowledged"]["at"], "2030-01-01T00:01:12Z");
    let again = w
        .call(
            "POST",
            "/api/v1/notifications/ack",
            Some(Role::Admin),
            body.as_bytes(),
        )
        .await
        .json();
    assert_eq!(again["new"], false);
    assert_eq!(again["acknowledged"], first["acknowledged"]);
    let acked = w
        .get("/api/v1/notifications/incoming?acknowledged=true")
        .await
        .json();
    let acked = acked["notifications"].as_array().unwrap();
    assert_eq!(acked.len(), 1);
    assert_eq!(acked[0]["acknowledged"]["by"], "olga");
    let pending = w
        .get("/api/v1/notifications/incoming?acknowledged=false&party=USSR")
        .await
        .json();
    assert_eq!(
        pending["notifications"].as_array().unwrap().len(),
        list.len() - 1
    );
    // The acknowledgement is the node's own: nothing was appended to its log.
    let sizes_before: Vec<_> = w.us.log_heads().await;
    assert_eq!(w.us.log_heads().await, sizes_before);
    assert_eq!(w.us.store().acknowledgements().await.unwrap().len(), 1);

    // Outgoing, on the USSR node: US's cosignature (T0 + 7 s) is its proof of receipt.
    let ussr_app = router(Arc::new(AppState::new(w.ussr.clone())));
    let token = add_user(w.ussr.store(), "ivan", Role::Viewer, 0)
        .await
        .unwrap();
    let outgoing = send(
        &ussr_app,
        request("GET", "/api/v1/notifications/outgoing", Some(&token), b""),
    )
    .await
    .json();
    let live = outgoing["notifications"]
        .as_array()
        .unwrap()
        .iter()
        .find(|n| n["id"] == LIVE_ID)
        .unwrap()
        .clone();
    assert_eq!(
        live["receipts"],
        json!([{"party": "US", "cosigned_at": "2030-01-01T00:00:07Z", "lead_seconds": 4 * 86_400 - 7}])
    );
    // US's outgoing: USSR cosigned US's log at T0 + 12 s.
    let ours = w.get("/api/v1/notifications/outgoing").await.json();
    let ours = ours["notifications"].as_array().unwrap();
    assert!(!ours.is_empty());
    assert!(ours.iter().all(|n| n["party"] == "US"
        && n["receipts"][0]["party"] == "USSR"
        && n["receipts"][0]["cosigned_at"] == "2030-01-01T00:00:12Z"));
}

#[tokio::test]
async fn timeline_and_plan_answer_what_the_engine_computes() {
    let w = world().await;
    let timeline = w
        .get("/api/v1/timeline?from=1978-01-01&to=1980-01-01&every=1%20year&party=USSR")
        .await
        .json();
    let points = timeline["points"].as_array().unwrap();
    assert!(!points.is_empty());
    assert!(points.iter().all(|p| p["party"] == "USSR"));
    let instants: BTreeSet<&str> = points.iter().map(|p| p["at"].as_str().unwrap()).collect();
    assert_eq!(
        instants.into_iter().collect::<Vec<_>>(),
        [
            "1978-01-01T00:00:00Z",
            "1979-01-01T00:00:00Z",
            "1980-01-01T00:00:00Z"
        ]
    );
    assert_eq!(timeline["every"], "1 year");
    let plans = w.get("/api/v1/plan?at=1980-01-01&party=US").await.json();
    assert_eq!(plans.as_array().unwrap().len(), 1);
    assert_eq!(plans[0]["party"], "US");
    let all = w.get("/api/v1/plan?at=1980-01-01").await.json();
    assert_eq!(all.as_array().unwrap().len(), 2);
    // What-if: overrides reach the engine (and unknown params are named).
    let lower = w
        .get("/api/v1/timeline?from=1980-01-01&to=1980-01-01&set=sdv_ceiling=10")
        .await
        .json();
    assert!(
        lower["points"]
            .as_array()
            .unwrap()
            .iter()
            .any(|p| p["provision"] == "a" && p["bound"] == 10),
        "{lower}"
    );
}

#[tokio::test]
async fn operators_are_managed_by_admins_and_the_last_admin_stays() {
    let w = world().await;
    let admin = Some(Role::Admin);
    let added = w
        .call(
            "POST",
            "/api/v1/operators",
            admin,
            br#"{"name": "night-officer", "role": "officer"}"#,
        )
        .await;
    assert_eq!(added.status, 201);
    let token = added.json()["token"].as_str().unwrap().to_owned();
    // The new token works at once, with its role.
    let ok = send(
        &w.app,
        request("GET", "/api/v1/report?at=1980-01-01", Some(&token), b""),
    )
    .await;
    assert_eq!(ok.status, 200);
    let list = w.call("GET", "/api/v1/operators", admin, b"").await.json();
    let names: Vec<&str> = list["operators"]
        .as_array()
        .unwrap()
        .iter()
        .map(|o| o["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["adam", "anna", "night-officer", "olga", "vera"]);
    assert!(!list.to_string().contains("dt_"), "no token is ever listed");
    // Removed: its token stops working.
    let removed = w
        .call("DELETE", "/api/v1/operators/night-officer", admin, b"")
        .await;
    assert_eq!(removed.status, 200);
    let refused = send(
        &w.app,
        request("GET", "/api/v1/report?at=1980-01-01", Some(&token), b""),
    )
    .await;
    assert_eq!(refused.status, 401);
    let missing = w
        .call("DELETE", "/api/v1/operators/night-officer", admin, b"")
        .await;
    assert_eq!(missing.status, 404);
    assert!(missing.error().contains("no operator `night-officer`"));
    let last = w.call("DELETE", "/api/v1/operators/adam", admin, b"").await;
    assert_eq!(last.status, 409);
    assert!(last.error().contains("only admin"), "{}", last.text());
}

#[tokio::test]
async fn metrics_count_entries_mirrors_equivocations_and_requests() {
    let w = world().await;
    w.get("/api/v1/report?at=1980-01-01").await;
    w.call("GET", "/api/v1/operators", Some(Role::Viewer), b"")
        .await;
    send(&w.app, request("GET", "/api/v1/log", None, b"")).await;
    let us_size = w.us.log_heads().await[0].1;
    let answer = w.get("/metrics").await;
    assert_eq!(answer.status, 200);
    assert!(answer.content_type.starts_with("text/plain; version=0.0.4"));
    let text = answer.text();
    for line in [
        format!("detente_log_entries{{origin=\"{US}\"}} {us_size}\n"),
        format!("detente_log_frozen{{origin=\"{US}\"}} 0\n"),
        format!("detente_equivocations{{origin=\"{USSR}\"}} 0\n"),
        "detente_mirror_consecutive_failures{party=\"USSR\"} 0\n".to_owned(),
        "detente_http_request_duration_seconds_count{route=\"/api/v1/report\",status=\"200\"} 1\n"
            .to_owned(),
        "detente_http_request_duration_seconds_count{route=\"/api/v1/operators\",status=\"403\"} 1\n"
            .to_owned(),
        "detente_http_request_duration_seconds_count{route=\"/api/v1/log\",status=\"401\"} 1\n"
            .to_owned(),
        "# TYPE detente_http_request_duration_seconds histogram\n".to_owned(),
    ] {
        assert!(text.contains(&line), "{line} not in\n{text}");
    }
    // Mirroring is recorded on the node (US mirrored USSR 5 s before the clock now).
    assert!(
        text.contains("detente_mirror_lag_seconds{party=\"USSR\"} 5\n"),
        "{text}"
    );
    // Every sample line is `name{labels} number`.
    for line in text.lines().filter(|l| !l.starts_with('#')) {
        let value = line.rsplit(' ').next().unwrap();
        assert!(value.parse::<f64>().is_ok(), "{line}");
    }
    // An unknown path is counted under one label, whatever the path.
    send(&w.app, request("GET", "/no/such/path/1", None, b"")).await;
    send(&w.app, request("GET", "/no/such/path/2", None, b"")).await;
    let text = w.get("/metrics").await.text();
    assert!(text.contains(
        "detente_http_request_duration_seconds_count{route=\"unmatched\",status=\"404\"} 2\n"
    ));
}

/// Refusals are logged with the operator, the route and the status.
#[tokio::test]
async fn refused_calls_are_logged() {
    #[derive(Clone, Default)]
    struct Buffer(Arc<Mutex<Vec<u8>>>);
    impl std::io::Write for Buffer {
        fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
            self.0.lock().unwrap().extend_from_slice(buf);
            Ok(buf.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }
    let w = world().await;
    let buffer = Buffer::default();
    let writer = buffer.clone();
    let subscriber = tracing_subscriber::fmt()
        .json()
        .with_current_span(true)
        .with_writer(move || writer.clone())
        .finish();
    let _guard = tracing::subscriber::set_default(subscriber);
    w.call("GET", "/api/v1/operators", Some(Role::Officer), b"")
        .await;
    send(&w.app, request("GET", "/api/v1/log", None, b"")).await;
    let text = String::from_utf8(buffer.0.lock().unwrap().clone()).unwrap();
    let lines: Vec<Value> = text
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let refused: Vec<&Value> = lines
        .iter()
        .filter(|l| l["fields"]["message"] == "refused")
        .collect();
    assert_eq!(refused.len(), 2, "{text}");
    assert_eq!(refused[0]["level"], "WARN");
    assert_eq!(refused[0]["fields"]["status"], 403);
    assert_eq!(refused[0]["span"]["operator"], "olga");
    assert_eq!(refused[0]["span"]["route"], "/api/v1/operators");
    assert_eq!(refused[1]["fields"]["status"], 401);
    assert_eq!(refused[1]["span"]["route"], "/api/v1/log");
    // The reason is logged too.
    assert!(
        text.contains("listing operators needs the admin role"),
        "{text}"
    );
}
