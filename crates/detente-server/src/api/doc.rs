//! The OpenAPI document (`/api/v1/openapi.json`) and its Swagger UI (`/api/v1/docs`,
//! served from the binary: the `vendored` feature, no CDN).
//!
//! The handlers are generic over the store, so each operation is described on a function
//! of its own here, and the answers by the `*Doc` types below, which mirror the JSON the
//! handlers write (the router tests check every answer they get against its schema).

#![allow(dead_code)] // The functions below exist for their `#[utoipa::path]` only.

use axum::Router;
use detente_node::Store;
use serde_json::Value;
use std::collections::BTreeMap;
use std::sync::Arc;
use utoipa::openapi::security::{ApiKey, ApiKeyValue, HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::{Modify, OpenApi, ToSchema};
use utoipa_swagger_ui::SwaggerUi;

use crate::AppState;

/// Where the document is served.
pub const OPENAPI_PATH: &str = "/api/v1/openapi.json";
/// Where Swagger UI is served.
pub const DOCS_PATH: &str = "/api/v1/docs";

/// The document and the UI (both public: see the module documentation of [`crate::api`]).
pub fn routes<S: Store>() -> Router<Arc<AppState<S>>> {
    Router::from(SwaggerUi::new(DOCS_PATH).url(OPENAPI_PATH, ApiDoc::openapi()))
}

#[derive(Debug, OpenApi)]
#[openapi(
    info(
        title = "detente node API",
        description = "One party's node: assessments computed from the signed logs it holds, the facts in them, notifications and their receipts, submission to the party's own log, ledger health, operators.\n\nEvery `/api/v1` call needs an operator token (`Authorization: Bearer TOKEN`, from `detente user add NAME --role viewer|analyst|officer|admin`); each operation says the least role it needs. Errors are `{\"error\": {\"status\", \"code\", \"message\"}}`; a message about a query parameter or a body field starts with its name.\n\nThe `/peer/v1` endpoints are for the other parties' nodes, which sign each request with their node key.",
        license(name = "Apache-2.0")
    ),
    paths(
        report, timeline, plan, findings, facts, incoming, outgoing, acknowledge, log, receipt,
        submit, letters, operators_list, operators_add, operators_remove, metrics, healthz,
        peer_checkpoint, peer_entries, peer_consistency, peer_inclusion, peer_cosignature,
        peer_mirrors
    ),
    components(schemas(
        ErrorDoc, ErrorDetailDoc, StatusDoc, TreatyRefDoc, AssumptionsDoc, InputRefDoc,
        ViolationDoc, StalenessDoc, FindingDoc, DeferredDoc, ReportDoc, EntryLinkDoc,
        ViolationWithEntriesDoc, FindingWithEntriesDoc, FindingsDoc, TimelinePointDoc,
        TimelineDoc, MilestoneDoc, PlanDoc, LoggedFactDoc, FactsPageDoc, AcknowledgementDoc,
        IncomingDoc, IncomingListDoc, PartyReceiptDoc, OutgoingDoc, OutgoingListDoc,
        AckRequestDoc, AckAnswerDoc, LogHeadDoc, MirrorHealthDoc, EquivocationDoc, LogDoc,
        ReceiptDoc, SubmittedDoc, CosignerDoc, LetterDoc, LettersDoc, OperatorDoc, OperatorsDoc,
        NewOperatorDoc, AddedOperatorDoc, RemovedDoc, EntriesDoc, ProofDoc, CosignatureBodyDoc,
        CosignatureAnswerDoc, MirroredDoc, MirrorsDoc
    )),
    modifiers(&Security),
    security(("bearer" = [])),
    tags(
        (name = "assess", description = "Assessments computed from the logs"),
        (name = "facts", description = "The facts in the logs, and notifications"),
        (name = "ledger", description = "Logs, receipts and submission"),
        (name = "operators", description = "The node's operators (admin)"),
        (name = "node", description = "Health and metrics"),
        (name = "peer", description = "For other parties' nodes (signed requests)")
    )
)]
pub struct ApiDoc;

/// The security schemes: operators' bearer tokens, and peers' signed requests.
struct Security;

impl Modify for Security {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Bearer)
                    .description(Some(
                        "An operator token, printed once by `detente user add` or `POST /api/v1/operators`. The dashboard sends it as the `detente_token` cookie instead.",
                    ))
                    .build(),
            ),
        );
        components.add_security_scheme(
            "node_signature",
            SecurityScheme::ApiKey(ApiKey::Header(ApiKeyValue::with_description(
                "detente-signature",
                "A request signed by a node key of the network file: headers `detente-key` (the sender's origin), `detente-time` (seconds), `detente-nonce` and `detente-signature` (base64 Ed25519 over `detente-request/v1`, the recipient's origin, the method, the path and query, the time, the nonce and the body's SHA-256, one per line; see docs/api.md).",
            ))),
        );
    }
}

// ----- schemas --------------------------------------------------------------------------------

/// The one shape of every error.
#[derive(Debug, ToSchema)]
#[schema(as = Error)]
pub struct ErrorDoc {
    error: ErrorDetailDoc,
}

#[derive(Debug, ToSchema)]
#[schema(as = ErrorDetail)]
pub struct ErrorDetailDoc {
    /// The HTTP status, repeated.
    status: u16,
    /// A stable code: `bad_request`, `unauthenticated`, `forbidden`, `not_found`, `invalid_body`, `rejected`, `too_large`…
    code: String,
    /// What is wrong and where; about a query parameter or a body field, it starts with its name.
    message: String,
}

/// A finding's status.
#[derive(Debug, ToSchema)]
#[schema(as = Status)]
#[allow(non_camel_case_types)]
pub enum StatusDoc {
    compliant,
    violation,
    not_yet_in_force,
    expired,
    no_data,
}

#[derive(Debug, ToSchema)]
#[schema(as = TreatyRef)]
pub struct TreatyRefDoc {
    id: String,
    title: String,
    source_sha256: String,
}

#[derive(Debug, ToSchema)]
#[schema(as = Assumptions)]
pub struct AssumptionsDoc {
    in_force: Option<String>,
    in_force_assumed: bool,
    /// Every param with the value used (`null` when it has none).
    params: BTreeMap<String, Value>,
    overridden: Vec<String>,
    interpretation: Option<String>,
}

/// A log checkpoint the answer was computed from: `name` is the log's origin, `sha256` its root, `records` its size.
#[derive(Debug, ToSchema)]
#[schema(as = InputRef)]
pub struct InputRefDoc {
    name: String,
    sha256: String,
    records: u64,
}

#[derive(Debug, ToSchema)]
#[schema(as = Violation)]
pub struct ViolationDoc {
    reason: String,
    /// The ids of the facts involved.
    ids: Vec<String>,
    at: Option<String>,
    detail: String,
    evidence: Option<BTreeMap<String, Value>>,
}

#[derive(Debug, ToSchema)]
#[schema(as = Staleness)]
pub struct StalenessDoc {
    data_as_of: String,
    due_as_of: String,
}

/// The engine's verdict on one provision for one party at one instant.
#[derive(Debug, ToSchema)]
#[schema(as = Finding)]
pub struct FindingDoc {
    party: String,
    provision: String,
    kind: String,
    title: String,
    article: Option<String>,
    status: StatusDoc,
    value: Option<f64>,
    bound: Option<f64>,
    margin: Option<f64>,
    comparison: Option<String>,
    effective_from: Option<String>,
    until: Option<String>,
    reason: Option<String>,
    violations: Option<Vec<ViolationDoc>>,
    stale: Option<StalenessDoc>,
    evidence: Option<BTreeMap<String, Value>>,
}

#[derive(Debug, ToSchema)]
#[schema(as = Deferred)]
pub struct DeferredDoc {
    id: String,
    title: String,
    note: Option<String>,
}

/// The report of `detente assess --format json` (docs/facts.md).
#[derive(Debug, ToSchema)]
#[schema(as = Report)]
pub struct ReportDoc {
    treaty: TreatyRefDoc,
    at: String,
    assumptions: AssumptionsDoc,
    inputs: Vec<InputRefDoc>,
    findings: Vec<FindingDoc>,
    deferred: Vec<DeferredDoc>,
    /// The number of findings of each status.
    summary: BTreeMap<String, u64>,
}

/// A log entry holding a fact a violation names, and where its receipt is.
#[derive(Debug, ToSchema)]
#[schema(as = EntryLink)]
pub struct EntryLinkDoc {
    id: String,
    origin: String,
    index: u64,
    /// `/api/v1/receipt?origin=…&index=…`
    receipt: String,
}

#[derive(Debug, ToSchema)]
#[schema(as = ViolationWithEntries)]
pub struct ViolationWithEntriesDoc {
    reason: String,
    ids: Vec<String>,
    at: Option<String>,
    detail: String,
    evidence: Option<BTreeMap<String, Value>>,
    entries: Vec<EntryLinkDoc>,
    /// Entries past the first 1,000, counted.
    entries_left_out: Option<u64>,
}

#[derive(Debug, ToSchema)]
#[schema(as = FindingWithEntries)]
pub struct FindingWithEntriesDoc {
    party: String,
    provision: String,
    kind: String,
    title: String,
    article: Option<String>,
    status: StatusDoc,
    value: Option<f64>,
    bound: Option<f64>,
    margin: Option<f64>,
    comparison: Option<String>,
    effective_from: Option<String>,
    until: Option<String>,
    reason: Option<String>,
    violations: Option<Vec<ViolationWithEntriesDoc>>,
    stale: Option<StalenessDoc>,
    evidence: Option<BTreeMap<String, Value>>,
}

/// The report with the findings asked for, each violation with its entries.
#[derive(Debug, ToSchema)]
#[schema(as = Findings)]
pub struct FindingsDoc {
    treaty: TreatyRefDoc,
    at: String,
    assumptions: AssumptionsDoc,
    inputs: Vec<InputRefDoc>,
    findings: Vec<FindingWithEntriesDoc>,
    deferred: Vec<DeferredDoc>,
    summary: BTreeMap<String, u64>,
}

#[derive(Debug, ToSchema)]
#[schema(as = TimelinePoint)]
pub struct TimelinePointDoc {
    at: String,
    party: String,
    provision: String,
    status: StatusDoc,
    value: Option<f64>,
    bound: Option<f64>,
    margin: Option<f64>,
}

/// The timeline of `detente timeline --format json`.
#[derive(Debug, ToSchema)]
#[schema(as = Timeline)]
pub struct TimelineDoc {
    treaty: TreatyRefDoc,
    from: String,
    to: String,
    every: String,
    assumptions: AssumptionsDoc,
    inputs: Vec<InputRefDoc>,
    points: Vec<TimelinePointDoc>,
}

#[derive(Debug, ToSchema)]
#[schema(as = Milestone)]
pub struct MilestoneDoc {
    provision: String,
    kind: String,
    date: String,
    bound: f64,
    current_value: f64,
    reduction_owed: f64,
    days_left: i64,
    per_year: f64,
}

/// What one party still owes (`detente plan --format json`).
#[derive(Debug, ToSchema)]
#[schema(as = Plan)]
pub struct PlanDoc {
    treaty: TreatyRefDoc,
    party: String,
    at: String,
    assumptions: AssumptionsDoc,
    inputs: Vec<InputRefDoc>,
    milestones: Vec<MilestoneDoc>,
    /// Limits whose value is unknown: [provision, reason].
    unknown: Vec<Vec<String>>,
}

/// A fact as its party logged it.
#[derive(Debug, ToSchema)]
#[schema(as = LoggedFact)]
pub struct LoggedFactDoc {
    origin: String,
    index: u64,
    appended_at: String,
    /// The record, exactly as logged (docs/facts.md).
    record: BTreeMap<String, Value>,
    receipt: String,
}

#[derive(Debug, ToSchema)]
#[schema(as = FactsPage)]
pub struct FactsPageDoc {
    kind: String,
    party: Option<String>,
    /// How many facts of this kind (and party) there are in all.
    total: u64,
    offset: u64,
    limit: u64,
    facts: Vec<LoggedFactDoc>,
}

#[derive(Debug, ToSchema)]
#[schema(as = Acknowledgement)]
pub struct AcknowledgementDoc {
    /// The operator.
    by: String,
    at: String,
}

/// A notification of another party, from its mirrored log.
#[derive(Debug, ToSchema)]
#[schema(as = IncomingNotification)]
pub struct IncomingDoc {
    party: String,
    id: String,
    provision: String,
    event_type: String,
    sent_at: String,
    /// `{from, to}`
    window: Option<BTreeMap<String, String>>,
    /// `circle`, `polygon` or `zone`
    launch_area: Option<String>,
    impact_area: Option<String>,
    origin: String,
    index: u64,
    /// This node's cosignature time on the first checkpoint covering the entry: its proof of receipt.
    received_at: Option<String>,
    /// Seconds from receipt to the window's opening (negative: received after it opened).
    lead_seconds: Option<i64>,
    acknowledged: Option<AcknowledgementDoc>,
}

#[derive(Debug, ToSchema)]
#[schema(as = IncomingNotifications)]
pub struct IncomingListDoc {
    notifications: Vec<IncomingDoc>,
}

#[derive(Debug, ToSchema)]
#[schema(as = PartyReceipt)]
pub struct PartyReceiptDoc {
    party: String,
    /// That party's first cosignature on a checkpoint covering the notification.
    cosigned_at: Option<String>,
    lead_seconds: Option<i64>,
}

/// A notification in this node's own log.
#[derive(Debug, ToSchema)]
#[schema(as = OutgoingNotification)]
pub struct OutgoingDoc {
    party: String,
    id: String,
    provision: String,
    event_type: String,
    sent_at: String,
    window: Option<BTreeMap<String, String>>,
    launch_area: Option<String>,
    impact_area: Option<String>,
    origin: String,
    index: u64,
    receipts: Vec<PartyReceiptDoc>,
}

#[derive(Debug, ToSchema)]
#[schema(as = OutgoingNotifications)]
pub struct OutgoingListDoc {
    notifications: Vec<OutgoingDoc>,
}

#[derive(Debug, ToSchema)]
#[schema(as = AckRequest)]
pub struct AckRequestDoc {
    /// The party that sent the notification.
    party: String,
    /// The notification's `id`.
    id: String,
}

#[derive(Debug, ToSchema)]
#[schema(as = AckAnswer)]
pub struct AckAnswerDoc {
    party: String,
    id: String,
    /// The acknowledgement that stands (the first one).
    acknowledged: AcknowledgementDoc,
    /// Whether this call recorded it.
    new: bool,
}

#[derive(Debug, ToSchema)]
#[schema(as = LogHead)]
pub struct LogHeadDoc {
    origin: String,
    size: u64,
    /// The root at that size, hexadecimal.
    root: String,
    frozen: bool,
}

#[derive(Debug, ToSchema)]
#[schema(as = MirrorHealth)]
pub struct MirrorHealthDoc {
    last_attempt_ms: Option<i64>,
    last_success_ms: Option<i64>,
    last_error: Option<String>,
    consecutive_failures: u32,
}

#[derive(Debug, ToSchema)]
#[schema(as = Equivocation)]
pub struct EquivocationDoc {
    origin: String,
    detail: String,
    held_checkpoint: String,
    conflicting_checkpoint: String,
    detected_at_ms: i64,
}

/// Ledger health.
#[derive(Debug, ToSchema)]
#[schema(as = Log)]
pub struct LogDoc {
    party: String,
    origin: String,
    logs: Vec<LogHeadDoc>,
    /// Entries that assessments leave out, each `origin:index: problem`.
    left_out: Vec<String>,
    /// By party: mirroring since the server started.
    mirrors: BTreeMap<String, MirrorHealthDoc>,
    equivocations: Vec<EquivocationDoc>,
}

#[derive(Debug, ToSchema)]
#[schema(as = Receipt)]
pub struct ReceiptDoc {
    origin: String,
    index: u64,
    /// The entry's bytes, base64.
    entry: String,
    /// The C2SP tlog-proof text.
    receipt: String,
}

#[derive(Debug, ToSchema)]
#[schema(as = Submitted)]
pub struct SubmittedDoc {
    appended: u64,
    already_logged: u64,
    first_index: u64,
    size: u64,
    /// The signed checkpoint covering the log afterwards.
    checkpoint: String,
}

#[derive(Debug, ToSchema)]
#[schema(as = LetterCosigner)]
pub struct CosignerDoc {
    cosigner: String,
    at: String,
    timestamp: u64,
}

/// A letter entry: metadata only (the node cannot read a letter).
#[derive(Debug, ToSchema)]
#[schema(as = Letter)]
pub struct LetterDoc {
    origin: String,
    party: String,
    index: u64,
    sender: Option<String>,
    addressee: Option<String>,
    appended_at: String,
    appended_at_ms: i64,
    size: u64,
    problem: Option<String>,
    cosigned_by: Vec<CosignerDoc>,
}

#[derive(Debug, ToSchema)]
#[schema(as = Letters)]
pub struct LettersDoc {
    letters: Vec<LetterDoc>,
}

#[derive(Debug, ToSchema)]
#[schema(as = OperatorInfo)]
pub struct OperatorDoc {
    name: String,
    /// viewer, analyst, officer or admin
    role: String,
    created_at: String,
}

#[derive(Debug, ToSchema)]
#[schema(as = Operators)]
pub struct OperatorsDoc {
    operators: Vec<OperatorDoc>,
}

#[derive(Debug, ToSchema)]
#[schema(as = NewOperator)]
pub struct NewOperatorDoc {
    /// 1 to 64 letters, digits, `.`, `_` or `-`.
    name: String,
    /// viewer, analyst, officer or admin
    role: String,
}

#[derive(Debug, ToSchema)]
#[schema(as = AddedOperator)]
pub struct AddedOperatorDoc {
    name: String,
    role: String,
    /// Shown this once; the node keeps only its SHA-256.
    token: String,
}

#[derive(Debug, ToSchema)]
#[schema(as = Removed)]
pub struct RemovedDoc {
    removed: String,
}

#[derive(Debug, ToSchema)]
#[schema(as = Entries)]
pub struct EntriesDoc {
    /// Encoded entries, base64 (docs/ledger-format.md).
    entries: Vec<String>,
}

#[derive(Debug, ToSchema)]
#[schema(as = Proof)]
pub struct ProofDoc {
    /// Hashes, base64.
    proof: Vec<String>,
}

#[derive(Debug, ToSchema)]
#[schema(as = CosignatureBody)]
pub struct CosignatureBodyDoc {
    size: u64,
    /// The signature line exactly as in a signed note.
    line: String,
}

#[derive(Debug, ToSchema)]
#[schema(as = CosignatureAnswer)]
pub struct CosignatureAnswerDoc {
    new: bool,
}

#[derive(Debug, ToSchema)]
#[schema(as = Mirrored)]
pub struct MirroredDoc {
    origin: String,
    checkpoint: String,
}

#[derive(Debug, ToSchema)]
#[schema(as = Mirrors)]
pub struct MirrorsDoc {
    logs: Vec<MirroredDoc>,
}

// ----- operations -----------------------------------------------------------------------------

/// The report at an instant
///
/// Computed from every log the node holds, each at its latest checkpoint; byte for byte what `detente assess --node DIR --format json` prints with the same options.
#[utoipa::path(get, path = "/api/v1/report", tag = "assess",
    params(
        ("at" = String, Query, description = "A date (`1980-12-31`) or an instant in UTC (`1980-12-31T12:00:00Z`)"),
        ("set" = Option<Vec<String>>, Query, description = "Param overrides `name=value`, repeatable or comma-separated"),
        ("assume_in_force" = Option<String>, Query, description = "Assess as if the treaty entered into force on this date"),
        ("interpretation" = Option<String>, Query, description = "A named interpretation of the treaty"),
    ),
    responses(
        (status = 200, description = "The report (viewer)", body = ReportDoc),
        (status = 400, description = "A parameter is missing, unknown or malformed, or names nothing in the treaty", body = ErrorDoc),
        (status = 401, description = "No token, or not the token of an operator", body = ErrorDoc),
    ))]
fn report() {}

/// A timeline of limits and objectives
///
/// One point per party and limit at every step from `from` to `to` (at most 1,000 instants).
#[utoipa::path(get, path = "/api/v1/timeline", tag = "assess",
    params(
        ("from" = String, Query, description = "A date or an instant in UTC"),
        ("to" = String, Query, description = "A date or an instant in UTC, not before `from`"),
        ("every" = Option<String>, Query, description = "The step: `1 month` (default), `6 months`, `1 year`, `30 days`"),
        ("party" = Option<Vec<String>>, Query, description = "Only these parties (repeatable)"),
        ("set" = Option<Vec<String>>, Query, description = "Param overrides `name=value`"),
        ("assume_in_force" = Option<String>, Query, description = "An assumed entry into force"),
        ("interpretation" = Option<String>, Query, description = "A named interpretation"),
    ),
    responses(
        (status = 200, description = "The timeline (viewer)", body = TimelineDoc),
        (status = 400, description = "A parameter is missing or malformed, `to` is before `from`, or too many instants", body = ErrorDoc),
        (status = 401, description = "No token, or not the token of an operator", body = ErrorDoc),
    ))]
fn timeline() {}

/// The reductions each party still owes
#[utoipa::path(get, path = "/api/v1/plan", tag = "assess",
    params(
        ("at" = String, Query, description = "A date or an instant in UTC"),
        ("party" = Option<Vec<String>>, Query, description = "Only these parties (repeatable; default every party)"),
        ("set" = Option<Vec<String>>, Query, description = "Param overrides `name=value`"),
        ("assume_in_force" = Option<String>, Query, description = "An assumed entry into force"),
        ("interpretation" = Option<String>, Query, description = "A named interpretation"),
    ),
    responses(
        (status = 200, description = "One plan per party (viewer)", body = Vec<PlanDoc>),
        (status = 400, description = "A parameter is missing or malformed, or an unknown party", body = ErrorDoc),
        (status = 401, description = "No token, or not the token of an operator", body = ErrorDoc),
    ))]
fn plan() {}

/// Findings with evidence and receipts
///
/// The report's findings at `at`, optionally only some; each violation lists the log entries holding the facts it names, with a link to each entry's receipt.
#[utoipa::path(get, path = "/api/v1/findings", tag = "assess",
    params(
        ("at" = String, Query, description = "A date or an instant in UTC"),
        ("party" = Option<Vec<String>>, Query, description = "Only these parties (repeatable)"),
        ("provision" = Option<Vec<String>>, Query, description = "Only these provisions (repeatable)"),
        ("status" = Option<Vec<String>>, Query, description = "Only these statuses (repeatable): compliant, violation, not_yet_in_force, expired, no_data"),
        ("set" = Option<Vec<String>>, Query, description = "Param overrides `name=value`"),
        ("assume_in_force" = Option<String>, Query, description = "An assumed entry into force"),
        ("interpretation" = Option<String>, Query, description = "A named interpretation"),
    ),
    responses(
        (status = 200, description = "The findings (viewer)", body = FindingsDoc),
        (status = 400, description = "A parameter is missing, unknown or malformed", body = ErrorDoc),
        (status = 401, description = "No token, or not the token of an operator", body = ErrorDoc),
    ))]
fn findings() {}

/// Facts of one kind
///
/// A page of the facts assessments read, in canonical order, each as its party logged it, with its entry and receipt link.
#[utoipa::path(get, path = "/api/v1/facts", tag = "facts",
    params(
        ("kind" = String, Query, description = "item, event, declaration, notification or observation"),
        ("party" = Option<String>, Query, description = "Only facts about this party (for an observation, the party observed)"),
        ("limit" = Option<u64>, Query, description = "At most this many (1 to 1000, default 100)"),
        ("offset" = Option<u64>, Query, description = "Skip this many (default 0)"),
    ),
    responses(
        (status = 200, description = "A page of facts (viewer)", body = FactsPageDoc),
        (status = 400, description = "A parameter is missing, unknown or out of range", body = ErrorDoc),
        (status = 401, description = "No token, or not the token of an operator", body = ErrorDoc),
    ))]
fn facts() {}

/// Notifications received
///
/// The other parties' notifications held in their mirrored logs, with this node's cosignature time (its proof of receipt), the lead time left before the window, and the office's acknowledgement.
#[utoipa::path(get, path = "/api/v1/notifications/incoming", tag = "facts",
    params(
        ("party" = Option<String>, Query, description = "Only this sender"),
        ("acknowledged" = Option<bool>, Query, description = "`false`: only those not yet acknowledged; `true`: only those acknowledged"),
    ),
    responses(
        (status = 200, description = "Incoming notifications (viewer)", body = IncomingListDoc),
        (status = 400, description = "A parameter is unknown or malformed", body = ErrorDoc),
        (status = 401, description = "No token, or not the token of an operator", body = ErrorDoc),
    ))]
fn incoming() {}

/// Notifications sent
///
/// This party's notifications, with each other party's cosignature time and the lead time it left.
#[utoipa::path(get, path = "/api/v1/notifications/outgoing", tag = "facts",
    responses(
        (status = 200, description = "Outgoing notifications (viewer)", body = OutgoingListDoc),
        (status = 400, description = "A query parameter was given (none is taken)", body = ErrorDoc),
        (status = 401, description = "No token, or not the token of an operator", body = ErrorDoc),
    ))]
fn outgoing() {}

/// Acknowledge a notification received
///
/// Records, in this node only (not in the log), that the calling officer acknowledged the notification. Acknowledging again changes nothing.
#[utoipa::path(post, path = "/api/v1/notifications/ack", tag = "facts",
    request_body(content = AckRequestDoc, description = "At most 16 KiB"),
    responses(
        (status = 200, description = "Acknowledged (officer)", body = AckAnswerDoc),
        (status = 400, description = "The body is not a JSON object", body = ErrorDoc),
        (status = 401, description = "No token, or not the token of an operator", body = ErrorDoc),
        (status = 403, description = "The operator is below officer", body = ErrorDoc),
        (status = 404, description = "No such notification of that party", body = ErrorDoc),
        (status = 413, description = "The body is too large", body = ErrorDoc),
        (status = 422, description = "A field is missing, unknown or invalid (the message names it)", body = ErrorDoc),
    ))]
fn acknowledge() {}

/// Ledger health
///
/// Every log's size and root, entries left out of assessments, mirroring since the server started, equivocations.
#[utoipa::path(get, path = "/api/v1/log", tag = "ledger",
    responses(
        (status = 200, description = "Ledger health (viewer)", body = LogDoc),
        (status = 401, description = "No token, or not the token of an operator", body = ErrorDoc),
    ))]
fn log() {}

/// A receipt for one entry
#[utoipa::path(get, path = "/api/v1/receipt", tag = "ledger",
    params(
        ("index" = u64, Query, description = "The entry's index"),
        ("origin" = Option<String>, Query, description = "The log (default this node's own)"),
    ),
    responses(
        (status = 200, description = "The entry and its C2SP tlog-proof (viewer)", body = ReceiptDoc),
        (status = 400, description = "A parameter is missing, unknown or malformed", body = ErrorDoc),
        (status = 401, description = "No token, or not the token of an operator", body = ErrorDoc),
        (status = 404, description = "No such log or entry", body = ErrorDoc),
    ))]
fn receipt() {}

/// Append facts to this party's log
///
/// JSON Lines (docs/facts.md), checked whole against the treaty and the log; one problem refuses it all. Analysts may submit observations, officers every kind of the party's own facts.
#[utoipa::path(post, path = "/api/v1/submit", tag = "ledger",
    request_body(content = String, content_type = "application/x-ndjson", description = "JSON Lines, at most 64 MiB"),
    responses(
        (status = 200, description = "Appended (analyst for observations, officer for the rest)", body = SubmittedDoc),
        (status = 400, description = "The body is not UTF-8", body = ErrorDoc),
        (status = 401, description = "No token, or not the token of an operator", body = ErrorDoc),
        (status = 403, description = "The operator is a viewer", body = ErrorDoc),
        (status = 409, description = "Another process appended at the same instant; submitting again is safe", body = ErrorDoc),
        (status = 413, description = "The body is too large", body = ErrorDoc),
        (status = 422, description = "Refused; nothing was written (each problem is `submission:LINE: …`)", body = ErrorDoc),
    ))]
fn submit() {}

/// Letters in the logs
///
/// Metadata of every letter entry the node holds (the node cannot read a letter).
#[utoipa::path(get, path = "/api/v1/letters", tag = "ledger",
    responses(
        (status = 200, description = "Letters (viewer)", body = LettersDoc),
        (status = 401, description = "No token, or not the token of an operator", body = ErrorDoc),
    ))]
fn letters() {}

/// The operators
#[utoipa::path(get, path = "/api/v1/operators", tag = "operators",
    responses(
        (status = 200, description = "Every operator (admin)", body = OperatorsDoc),
        (status = 401, description = "No token, or not the token of an operator", body = ErrorDoc),
        (status = 403, description = "The operator is not an admin", body = ErrorDoc),
    ))]
fn operators_list() {}

/// Add an operator
///
/// Answers the operator's token, the only time it is shown.
#[utoipa::path(post, path = "/api/v1/operators", tag = "operators",
    request_body(content = NewOperatorDoc, description = "At most 16 KiB"),
    responses(
        (status = 201, description = "Added (admin)", body = AddedOperatorDoc),
        (status = 400, description = "The body is not a JSON object", body = ErrorDoc),
        (status = 401, description = "No token, or not the token of an operator", body = ErrorDoc),
        (status = 403, description = "The operator is not an admin", body = ErrorDoc),
        (status = 409, description = "The name is taken", body = ErrorDoc),
        (status = 413, description = "The body is too large", body = ErrorDoc),
        (status = 422, description = "A field is missing, unknown or invalid (the message names it)", body = ErrorDoc),
    ))]
fn operators_add() {}

/// Remove an operator
///
/// Its token stops working at once. The last admin cannot be removed.
#[utoipa::path(delete, path = "/api/v1/operators/{name}", tag = "operators",
    params(("name" = String, Path, description = "The operator's name")),
    responses(
        (status = 200, description = "Removed (admin)", body = RemovedDoc),
        (status = 401, description = "No token, or not the token of an operator", body = ErrorDoc),
        (status = 403, description = "The operator is not an admin", body = ErrorDoc),
        (status = 404, description = "No such operator", body = ErrorDoc),
        (status = 409, description = "It is the last admin", body = ErrorDoc),
    ))]
fn operators_remove() {}

/// Metrics in the Prometheus text format
///
/// Entries per log, mirror lag and failures per peer, equivocations, request latencies by route and status.
#[utoipa::path(get, path = "/metrics", tag = "node",
    responses(
        (status = 200, description = "Metrics (viewer)", body = String, content_type = "text/plain; version=0.0.4"),
        (status = 401, description = "No token, or not the token of an operator", body = ErrorDoc),
    ))]
fn metrics() {}

/// Liveness
#[utoipa::path(get, path = "/healthz", tag = "node", security(()),
    responses((status = 200, description = "`ok` while the server runs (anyone)", body = String, content_type = "text/plain")))]
fn healthz() {}

/// This node's latest checkpoint, with cosignatures
#[utoipa::path(get, path = "/peer/v1/checkpoint", tag = "peer", security(("node_signature" = [])),
    responses(
        (status = 200, description = "A C2SP signed note", body = String, content_type = "text/plain"),
        (status = 401, description = "Not signed by a node of the network", body = ErrorDoc),
        (status = 404, description = "This node's log is empty", body = ErrorDoc),
    ))]
fn peer_checkpoint() {}

/// Entries of this node's log
#[utoipa::path(get, path = "/peer/v1/entries", tag = "peer", security(("node_signature" = [])),
    params(
        ("from" = u64, Query, description = "First index"),
        ("to" = u64, Query, description = "One past the last index (at most 1,000 are answered)"),
    ),
    responses(
        (status = 200, description = "Encoded entries", body = EntriesDoc),
        (status = 400, description = "A parameter is missing or `to` is before `from`", body = ErrorDoc),
        (status = 401, description = "Not signed by a node of the network", body = ErrorDoc),
    ))]
fn peer_entries() {}

/// A consistency proof of this node's log
#[utoipa::path(get, path = "/peer/v1/consistency", tag = "peer", security(("node_signature" = [])),
    params(("old" = u64, Query, description = "Old size"), ("new" = u64, Query, description = "New size")),
    responses(
        (status = 200, description = "The proof", body = ProofDoc),
        (status = 400, description = "A parameter is missing", body = ErrorDoc),
        (status = 401, description = "Not signed by a node of the network", body = ErrorDoc),
        (status = 404, description = "A size is out of range", body = ErrorDoc),
    ))]
fn peer_consistency() {}

/// An inclusion proof in this node's log
#[utoipa::path(get, path = "/peer/v1/inclusion", tag = "peer", security(("node_signature" = [])),
    params(("index" = u64, Query, description = "Entry index"), ("size" = u64, Query, description = "Tree size")),
    responses(
        (status = 200, description = "The proof", body = ProofDoc),
        (status = 400, description = "A parameter is missing", body = ErrorDoc),
        (status = 401, description = "Not signed by a node of the network", body = ErrorDoc),
        (status = 404, description = "Out of range", body = ErrorDoc),
    ))]
fn peer_inclusion() {}

/// Give this node a cosignature on its checkpoint
#[utoipa::path(post, path = "/peer/v1/cosignature", tag = "peer", security(("node_signature" = [])),
    request_body(content = CosignatureBodyDoc, description = "At most 64 KiB"),
    responses(
        (status = 200, description = "Kept (`new: false` if held already)", body = CosignatureAnswerDoc),
        (status = 401, description = "Not signed by a node of the network", body = ErrorDoc),
        (status = 422, description = "Not the expected body, or the cosignature does not verify", body = ErrorDoc),
    ))]
fn peer_cosignature() {}

/// The checkpoints this node holds of the other logs
#[utoipa::path(get, path = "/peer/v1/mirrors", tag = "peer", security(("node_signature" = [])),
    responses(
        (status = 200, description = "Signed notes", body = MirrorsDoc),
        (status = 401, description = "Not signed by a node of the network", body = ErrorDoc),
    ))]
fn peer_mirrors() {}
