//! Read-only questions about the logs a node holds, asked by the API and the dashboard: which
//! entries hold a fact, the facts of one kind with the entries they came from, the
//! notifications received from other parties and those sent to them, with their proofs of
//! receipt (cosignatures), and the office's acknowledgements of what it received.
//!
//! Every answer names the log entry behind each fact (`origin`, `index`), so that a reader
//! can ask for its receipt and check it offline: a fact the node shows is a fact a party
//! signed.

use detente_assess::facts::{Area, Facts, Origin};
use detente_lang::time::Instant;
use detente_ledger::entry::Entry;
use serde::Serialize;
use serde_json::Value;
use std::collections::BTreeMap;
use std::fmt;
use std::sync::Arc;

use crate::facts::LogFacts;
use crate::home::TreatyBundle;
use crate::node::{Node, NodeError};
use crate::store::{Store, StoredAcknowledgement, StoredCosignature};

/// The most entries [`Node::logged_facts`] reads at once (a page of facts).
pub const MAX_FACTS_PAGE: usize = 1000;
/// The longest notification id or party name an acknowledgement may name.
pub const MAX_NAME_CHARS: usize = 256;

/// One entry of one log.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize)]
pub struct EntryRef {
    pub origin: String,
    pub index: u64,
}

impl EntryRef {
    /// The API path of this entry's receipt (`/api/v1/receipt?origin=…&index=…`).
    pub fn receipt_path(&self) -> String {
        format!(
            "/api/v1/receipt?origin={}&index={}",
            query_escape(&self.origin),
            self.index
        )
    }
}

/// Percent-encodes what a query value may not hold as it is (letters, digits, `-._~/` and
/// `:@!$'()*+,;` stay).
pub fn query_escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for byte in text.bytes() {
        let keep = byte.is_ascii_alphanumeric() || b"-._~/:@!$'()*+,;".contains(&byte);
        if keep {
            out.push(char::from(byte));
        } else {
            out.push_str(&format!("%{byte:02X}"));
        }
    }
    out
}

/// The entry a fact was read from: the facts of the logs are read with one source per log
/// (named by its origin) and entry `i` as line `i + 1`.
pub fn entry_of(facts: &Facts, origin: Origin) -> EntryRef {
    EntryRef {
        origin: facts.source_name(origin).to_owned(),
        index: origin.line.saturating_sub(1),
    }
}

/// The kinds of the facts contract.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum FactKind {
    Declaration,
    Item,
    Event,
    Notification,
    Observation,
}

impl FactKind {
    pub const ALL: [FactKind; 5] = [
        FactKind::Declaration,
        FactKind::Item,
        FactKind::Event,
        FactKind::Notification,
        FactKind::Observation,
    ];

    pub fn name(self) -> &'static str {
        match self {
            FactKind::Declaration => "declaration",
            FactKind::Item => "item",
            FactKind::Event => "event",
            FactKind::Notification => "notification",
            FactKind::Observation => "observation",
        }
    }

    pub fn parse(text: &str) -> Option<FactKind> {
        FactKind::ALL.into_iter().find(|k| k.name() == text)
    }
}

impl fmt::Display for FactKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// The entries holding the facts with each id (items recorded over several intervals have
/// several), in log order. Declarations without an id are not listed.
pub fn entries_by_id(facts: &LogFacts) -> BTreeMap<String, Vec<EntryRef>> {
    let f = &facts.facts;
    let mut by_id: BTreeMap<String, Vec<EntryRef>> = BTreeMap::new();
    let mut add = |id: &str, origin: Origin| {
        by_id
            .entry(id.to_owned())
            .or_default()
            .push(entry_of(f, origin));
    };
    for record in f.records() {
        if let Some(id) = record.id {
            add(id, record.origin);
        }
    }
    for list in by_id.values_mut() {
        list.sort();
        list.dedup();
    }
    by_id
}

/// A page of the facts of one kind the assessments read (records left out are not among
/// them), in the facts' canonical order, about one party or all: a record is about its
/// `party` (for an observation, the party observed). Returns how many there are in all,
/// and the entries of those from `offset`, at most `limit`.
pub fn facts_page(
    facts: &LogFacts,
    kind: FactKind,
    party: Option<&str>,
    offset: usize,
    limit: usize,
) -> (u64, Vec<EntryRef>) {
    let f = &facts.facts;
    let keep = |p: &str| party.is_none_or(|wanted| wanted == p);
    let origins = f
        .records()
        .filter(|r| r.kind == kind.name() && keep(r.party))
        .map(|r| r.origin);
    let mut total = 0u64;
    let mut page = Vec::new();
    for (position, origin) in origins.enumerate() {
        total += 1;
        if position >= offset && page.len() < limit {
            page.push(entry_of(f, origin));
        }
    }
    (total, page)
}

/// A fact as its party logged it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct LoggedFact {
    pub origin: String,
    pub index: u64,
    /// When the party's node appended the entry (its clock).
    pub appended_at: String,
    /// The record, exactly as logged (canonical JSON).
    pub record: Value,
}

/// When each cosigner first cosigned a checkpoint covering an entry of one log.
#[derive(Debug, Default)]
struct FirstCosignatures {
    /// Per cosigner: (checkpoint size, the earliest time of a cosignature on a checkpoint
    /// of that size or larger), by size.
    by_cosigner: BTreeMap<String, Vec<(u64, u64)>>,
}

impl FirstCosignatures {
    fn new(cosignatures: &[StoredCosignature]) -> FirstCosignatures {
        let mut raw: BTreeMap<String, Vec<(u64, u64)>> = BTreeMap::new();
        for c in cosignatures {
            raw.entry(c.cosigner.clone())
                .or_default()
                .push((c.size, c.timestamp));
        }
        for list in raw.values_mut() {
            list.sort_unstable();
            // Earliest time among this size and every larger one.
            let mut earliest = u64::MAX;
            for (_, time) in list.iter_mut().rev() {
                earliest = earliest.min(*time);
                *time = earliest;
            }
        }
        FirstCosignatures { by_cosigner: raw }
    }

    /// When `cosigner` first cosigned a checkpoint covering entry `index` (seconds).
    fn covering(&self, cosigner: &str, index: u64) -> Option<i64> {
        let list = self.by_cosigner.get(cosigner)?;
        let at = list.partition_point(|(size, _)| *size <= index);
        list.get(at)
            .map(|(_, time)| i64::try_from(*time).unwrap_or(i64::MAX))
    }
}

/// The time of a notification's window opening, if it states a window.
fn window_json(n: &detente_assess::facts::Notification) -> Option<Value> {
    n.window
        .map(|w| serde_json::json!({"from": w.from.to_string(), "to": w.to.to_string()}))
}

fn area_kind(area: Option<&Area>) -> Option<&'static str> {
    area.map(|a| match a {
        Area::Circle { .. } => "circle",
        Area::Polygon(_) => "polygon",
        Area::Zone(_) => "zone",
    })
}

/// A notification another party logged and this node mirrored.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct IncomingNotification {
    pub party: String,
    pub id: String,
    pub provision: String,
    pub event_type: String,
    pub sent_at: String,
    pub window: Option<Value>,
    /// What kind of launch and impact areas it states (`circle`, `polygon`, `zone`).
    pub launch_area: Option<&'static str>,
    pub impact_area: Option<&'static str>,
    pub origin: String,
    pub index: u64,
    /// This node's proof of receipt: the time of its first cosignature on a checkpoint of
    /// the party's log covering the entry. `None` until this node has cosigned one.
    pub received_at: Option<String>,
    /// Seconds from `received_at` to the opening of the window (negative: received after
    /// the window opened).
    pub lead_seconds: Option<i64>,
    pub acknowledged: Option<Acknowledgement>,
}

/// Who in this office acknowledged a notification, and when.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Acknowledgement {
    pub by: String,
    pub at: String,
}

impl From<&StoredAcknowledgement> for Acknowledgement {
    fn from(a: &StoredAcknowledgement) -> Acknowledgement {
        Acknowledgement {
            by: a.operator.clone(),
            at: Instant::from_unix_seconds(a.acknowledged_at_ms.div_euclid(1000)).to_string(),
        }
    }
}

/// A notification this node's party logged, with each other party's proof of receipt.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct OutgoingNotification {
    pub party: String,
    pub id: String,
    pub provision: String,
    pub event_type: String,
    pub sent_at: String,
    pub window: Option<Value>,
    pub launch_area: Option<&'static str>,
    pub impact_area: Option<&'static str>,
    pub origin: String,
    pub index: u64,
    /// One per other party of the network, in the network file's order.
    pub receipts: Vec<PartyReceipt>,
}

/// When one party's node first cosigned a checkpoint covering a notification.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PartyReceipt {
    pub party: String,
    /// `None` while that party has not cosigned a checkpoint covering it.
    pub cosigned_at: Option<String>,
    pub lead_seconds: Option<i64>,
}

fn lead(window_opens: Option<Instant>, received: Option<i64>) -> Option<i64> {
    Some(window_opens?.unix_seconds().saturating_sub(received?))
}

impl<S: Store> Node<S> {
    /// The treaty this node runs, shared (for callers that keep it beside an engine).
    pub fn treaty_handle(&self) -> Arc<TreatyBundle> {
        self.treaty.clone()
    }

    /// The facts at `entries`, as their parties logged them, in the order given. At most
    /// [`MAX_FACTS_PAGE`].
    pub async fn logged_facts(&self, entries: &[EntryRef]) -> Result<Vec<LoggedFact>, NodeError> {
        if entries.len() > MAX_FACTS_PAGE {
            return Err(NodeError::Invalid(format!(
                "{} facts asked for at once; at most {MAX_FACTS_PAGE}",
                entries.len()
            )));
        }
        let mut out = Vec::with_capacity(entries.len());
        for at in entries {
            let stored = self
                .store
                .entries(&at.origin, at.index, at.index.saturating_add(1))
                .await?
                .into_iter()
                .next()
                .ok_or_else(|| {
                    NodeError::NotFound(format!("entry {} of {}", at.index, at.origin))
                })?;
            let entry: Entry = Self::decode_stored(&at.origin, &stored)?;
            let record = serde_json::from_slice(&entry.body).unwrap_or(Value::Null);
            out.push(LoggedFact {
                origin: at.origin.clone(),
                index: at.index,
                appended_at: Instant::from_unix_seconds(entry.appended_at_ms.div_euclid(1000))
                    .to_string(),
                record,
            });
        }
        Ok(out)
    }

    /// Every notification of another party that this node holds, by party then id, with
    /// this node's proof of receipt and the office's acknowledgement.
    pub async fn incoming_notifications(&self) -> Result<Vec<IncomingNotification>, NodeError> {
        let facts = self.log_facts().await?;
        let acknowledgements: BTreeMap<(String, String), StoredAcknowledgement> = self
            .store
            .acknowledgements()
            .await?
            .into_iter()
            .map(|a| ((a.party.clone(), a.notification_id.clone()), a))
            .collect();
        let mut cosigned: BTreeMap<String, FirstCosignatures> = BTreeMap::new();
        let mut out = Vec::new();
        for n in &facts.facts.notifications {
            let at = entry_of(&facts.facts, n.origin);
            if at.origin == self.origin {
                continue;
            }
            if !cosigned.contains_key(&at.origin) {
                let list = self.store.cosignatures(&at.origin).await?;
                cosigned.insert(at.origin.clone(), FirstCosignatures::new(&list));
            }
            let received = cosigned
                .get(&at.origin)
                .and_then(|c| c.covering(&self.origin, at.index));
            out.push(IncomingNotification {
                party: n.party.to_string(),
                id: n.id.clone(),
                provision: n.provision.to_string(),
                event_type: n.event_type.to_string(),
                sent_at: n.sent_at.to_string(),
                window: window_json(n),
                launch_area: area_kind(n.launch_area.as_ref()),
                impact_area: area_kind(n.impact_area.as_ref()),
                received_at: received.map(|s| Instant::from_unix_seconds(s).to_string()),
                lead_seconds: lead(n.window.map(|w| w.from), received),
                acknowledged: acknowledgements
                    .get(&(n.party.to_string(), n.id.clone()))
                    .map(Acknowledgement::from),
                origin: at.origin,
                index: at.index,
            });
        }
        Ok(out)
    }

    /// Every notification in this node's own log, by id, with each other party's proof
    /// of receipt.
    pub async fn outgoing_notifications(&self) -> Result<Vec<OutgoingNotification>, NodeError> {
        let facts = self.log_facts().await?;
        let cosigned = FirstCosignatures::new(&self.store.cosignatures(&self.origin).await?);
        let others: Vec<(String, String)> = self
            .network
            .parties
            .iter()
            .filter(|p| p.name != self.party)
            .map(|p| (p.name.clone(), self.network.origin(&p.name)))
            .collect();
        let mut out = Vec::new();
        for n in &facts.facts.notifications {
            let at = entry_of(&facts.facts, n.origin);
            if at.origin != self.origin {
                continue;
            }
            let receipts = others
                .iter()
                .map(|(party, origin)| {
                    let cosigned_at = cosigned.covering(origin, at.index);
                    PartyReceipt {
                        party: party.clone(),
                        cosigned_at: cosigned_at.map(|s| Instant::from_unix_seconds(s).to_string()),
                        lead_seconds: lead(n.window.map(|w| w.from), cosigned_at),
                    }
                })
                .collect();
            out.push(OutgoingNotification {
                party: n.party.to_string(),
                id: n.id.clone(),
                provision: n.provision.to_string(),
                event_type: n.event_type.to_string(),
                sent_at: n.sent_at.to_string(),
                window: window_json(n),
                launch_area: area_kind(n.launch_area.as_ref()),
                impact_area: area_kind(n.impact_area.as_ref()),
                receipts,
                origin: at.origin,
                index: at.index,
            });
        }
        Ok(out)
    }

    /// Records that `operator` of this office acknowledged notification `id` of `party`
    /// (another party's, held in its mirrored log). Returns the acknowledgement that
    /// stands and whether it is new: acknowledging again changes nothing.
    pub async fn acknowledge(
        &self,
        party: &str,
        id: &str,
        operator: &str,
    ) -> Result<(Acknowledgement, bool), NodeError> {
        if party == self.party {
            return Err(NodeError::Invalid(format!(
                "`party`: {party} is this node's own party; only notifications received from another party are acknowledged"
            )));
        }
        if self.network.party(party).is_none() {
            let names: Vec<&str> = self
                .network
                .parties
                .iter()
                .map(|p| p.name.as_str())
                .collect();
            return Err(NodeError::Invalid(format!(
                "`party`: `{}` is not a party of the network; the parties are {}",
                party.chars().take(MAX_NAME_CHARS).collect::<String>(),
                names.join(", ")
            )));
        }
        let facts = self.log_facts().await?;
        let held = facts
            .facts
            .notifications
            .iter()
            .any(|n| &*n.party == party && n.id == id);
        if !held {
            return Err(NodeError::NotFound(format!(
                "this node holds no notification `{}` of {party}",
                id.chars().take(MAX_NAME_CHARS).collect::<String>()
            )));
        }
        let acknowledgement = StoredAcknowledgement {
            party: party.to_owned(),
            notification_id: id.to_owned(),
            operator: operator.to_owned(),
            acknowledged_at_ms: self.clock.now_ms(),
        };
        if self.store.add_acknowledgement(&acknowledgement).await? {
            return Ok((Acknowledgement::from(&acknowledgement), true));
        }
        let standing = self
            .store
            .acknowledgements()
            .await?
            .into_iter()
            .find(|a| a.party == party && a.notification_id == id)
            .unwrap_or(acknowledgement);
        Ok((Acknowledgement::from(&standing), false))
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn receipt_paths_escape_what_a_query_cannot_hold() {
        let at = EntryRef {
            origin: "detente/carter_1977/US".into(),
            index: 3,
        };
        assert_eq!(
            at.receipt_path(),
            "/api/v1/receipt?origin=detente/carter_1977/US&index=3"
        );
        assert_eq!(query_escape("a b&c=d"), "a%20b%26c%3Dd");
    }

    #[test]
    fn the_first_cosignature_covering_an_entry_is_the_earliest_on_any_larger_checkpoint() {
        let c = |size, cosigner: &str, timestamp| StoredCosignature {
            origin: "o".into(),
            size,
            cosigner: cosigner.into(),
            timestamp,
            line: String::new(),
        };
        let first = FirstCosignatures::new(&[
            c(5, "B", 100),
            c(10, "B", 90),
            c(20, "B", 300),
            c(10, "C", 50),
        ]);
        // Entry 4 is covered by the checkpoints at 5, 10 and 20; the earliest is 90.
        assert_eq!(first.covering("B", 4), Some(90));
        assert_eq!(first.covering("B", 5), Some(90));
        assert_eq!(first.covering("B", 10), Some(300));
        assert_eq!(first.covering("B", 20), None);
        assert_eq!(first.covering("C", 0), Some(50));
        assert_eq!(first.covering("D", 0), None);
    }
}
