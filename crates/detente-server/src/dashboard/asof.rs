//! The as-of selector every page shares: the instant assessed, and optionally the
//! checkpoint each log is replayed to, plus assessment options (param overrides, an
//! interpretation, an assumed entry into force).
//!
//! Query parameters: `at` (a date or an instant; default the node's clock), `cp_PARTY`
//! (the size of a checkpoint of that party's log; empty or absent: the latest),
//! `set=NAME=VALUE` (repeatable), `interpretation`, `assume_in_force`.

use detente_assess::engine::{Engine, Options, Provenance};
use detente_lang::time::{Date, Instant};
use detente_node::facts::LogFacts;
use detente_node::{Node, NodeError, Store};
use std::collections::BTreeMap;
use std::sync::Arc;

use super::format;

/// What a page is assessed as of.
#[derive(Debug, Clone)]
pub struct AsOf {
    pub at: Instant,
    /// Whether `at` was given (else it is the node's clock, and links do not pin it).
    pub at_given: bool,
    /// Party → the size of the checkpoint its log is replayed to.
    pub sizes: BTreeMap<String, u64>,
    /// Param overrides as given, in order.
    pub set: Vec<(String, String)>,
    pub interpretation: Option<String>,
    pub assume_in_force: Option<Date>,
}

impl AsOf {
    /// Reads the as-of parameters; returns the others, in order.
    pub fn parse<S: Store>(
        node: &Node<S>,
        pairs: Vec<(String, String)>,
    ) -> Result<(AsOf, Vec<(String, String)>), String> {
        let mut asof = AsOf {
            at: format::now(node.clock()),
            at_given: false,
            sizes: BTreeMap::new(),
            set: Vec::new(),
            interpretation: None,
            assume_in_force: None,
        };
        let mut rest = Vec::new();
        for (name, value) in pairs {
            let value = value.trim().to_owned();
            if let Some(party) = name.strip_prefix("cp_") {
                if node.network().party(party).is_none() {
                    return Err(format!("`{party}` is not a party of this network"));
                }
                if value.is_empty() || value == "latest" {
                    continue;
                }
                let size = value.parse::<u64>().map_err(|_| {
                    format!(
                        "the checkpoint of {party}'s log is a size (a whole number), not `{value}`"
                    )
                })?;
                asof.sizes.insert(party.to_owned(), size);
                continue;
            }
            match name.as_str() {
                "at" => {
                    if value.is_empty() {
                        continue;
                    }
                    asof.at = format::parse_instant(&value).ok_or_else(|| {
                        format!(
                            "`{value}` is not a date (1980-12-31) or an instant in UTC (1980-12-31T12:00:00Z)"
                        )
                    })?;
                    asof.at_given = true;
                }
                "set" => {
                    for assignment in value.split(',').filter(|a| !a.trim().is_empty()) {
                        let (param, param_value) = assignment.split_once('=').ok_or_else(|| {
                            format!("`{assignment}` is not an assignment; write sdv_ceiling=2000")
                        })?;
                        asof.set
                            .push((param.trim().to_owned(), param_value.trim().to_owned()));
                    }
                }
                "interpretation" => {
                    if !value.is_empty() {
                        asof.interpretation = Some(value);
                    }
                }
                "assume_in_force" => {
                    if !value.is_empty() {
                        asof.assume_in_force = Some(Date::parse(&value).ok_or_else(|| {
                            format!(
                                "assumed entry into force: `{value}` is not a date (1977-10-03)"
                            )
                        })?);
                    }
                }
                _ => rest.push((name, value)),
            }
        }
        Ok((asof, rest))
    }

    /// The assessment options.
    pub fn options(&self) -> Options {
        let mut options = Options {
            interpretation: self.interpretation.clone(),
            assume_in_force: self.assume_in_force,
            ..Options::default()
        };
        for (name, value) in &self.set {
            options.params.insert(name.clone(), value.clone());
        }
        options
    }

    /// Whether anything but the instant differs from the latest logs with the defaults.
    pub fn replays(&self) -> bool {
        !self.sizes.is_empty()
    }

    /// The query pairs that reproduce this selection.
    pub fn pairs(&self) -> Vec<(String, String)> {
        let mut pairs = Vec::new();
        if self.at_given {
            pairs.push(("at".to_owned(), self.at.to_string()));
        }
        for (party, size) in &self.sizes {
            pairs.push((format!("cp_{party}"), size.to_string()));
        }
        for (name, value) in &self.set {
            pairs.push(("set".to_owned(), format!("{name}={value}")));
        }
        if let Some(i) = &self.interpretation {
            pairs.push(("interpretation".to_owned(), i.clone()));
        }
        if let Some(d) = self.assume_in_force {
            pairs.push(("assume_in_force".to_owned(), d.to_string()));
        }
        pairs
    }

    pub fn query(&self) -> String {
        format::query(&self.pairs())
    }

    /// The facts of the logs as selected: the latest checkpoints, or a replay.
    pub async fn facts<S: Store>(&self, node: &Node<S>) -> Result<Arc<LogFacts>, NodeError> {
        if self.sizes.is_empty() {
            return node.log_facts().await;
        }
        let sizes = self
            .sizes
            .iter()
            .map(|(party, size)| (node.network().origin(party), *size))
            .collect();
        Ok(Arc::new(node.log_facts_at(&sizes).await?))
    }
}

/// The engine over `facts` with `options`, naming the checkpoints the facts were read at.
pub fn engine<'a, S: Store>(
    node: &'a Node<S>,
    facts: &'a LogFacts,
    options: &Options,
) -> Result<Engine<'a, 'a>, String> {
    let bundle = node.treaty();
    Engine::new(
        &bundle.treaty,
        &facts.facts,
        bundle.zones.clone(),
        options,
        Provenance {
            source_sha256: bundle.source_sha256.clone(),
            inputs: facts.inputs.clone(),
        },
    )
    .map_err(|e| e.to_string())
}

/// One log's line in the as-of form: its party and the checkpoints to choose from.
#[derive(Debug, Clone)]
pub struct LogChoice {
    pub party: String,
    /// (size, label, selected), latest first.
    pub options: Vec<(String, String, bool)>,
}

/// The as-of form's choices.
pub async fn choices<S: Store>(node: &Node<S>, asof: &AsOf) -> Result<Vec<LogChoice>, NodeError> {
    let mut out = Vec::new();
    for (origin, marks) in node.checkpoint_marks().await? {
        let Some(party) = node.network().party_of_origin(&origin) else {
            continue;
        };
        let chosen = asof.sizes.get(&party.name).copied();
        let mut options = vec![(
            String::new(),
            format!(
                "latest{}",
                marks
                    .last()
                    .map(|m| format!(" ({} entries)", m.size))
                    .unwrap_or_default()
            ),
            chosen.is_none(),
        )];
        for mark in marks.iter().rev() {
            options.push((
                mark.size.to_string(),
                format!(
                    "{} entries, stored {}",
                    mark.size,
                    format::instant_minutes(format::instant_of_ms(mark.stored_at_ms))
                ),
                chosen == Some(mark.size),
            ));
        }
        out.push(LogChoice {
            party: party.name.clone(),
            options,
        });
    }
    Ok(out)
}

/// The checkpoints a report was computed from, for the page footers and exports.
#[derive(Debug, Clone)]
pub struct InputLine {
    pub name: String,
    pub size: u64,
    pub root: String,
}

pub fn input_lines(facts: &LogFacts) -> Vec<InputLine> {
    facts
        .inputs
        .iter()
        .map(|i| InputLine {
            name: i.name.clone(),
            size: i.records,
            root: i.sha256.clone(),
        })
        .collect()
}

/// The as-of form at the top of a page.
#[derive(Debug, Clone)]
pub struct AsOfForm {
    /// The page the form reloads.
    pub action: String,
    /// Other parameters the page keeps (param overrides…).
    pub hidden: Vec<(String, String)>,
    pub at_value: String,
    pub choices: Vec<LogChoice>,
    /// The query of "now, latest" (keeps the hidden parameters).
    pub reset_query: String,
    /// One line saying what the page was computed from.
    pub summary: String,
}

/// A page's as-of selection read from its query, the facts it selects and the form that
/// shows it — or the error page to answer instead.
pub async fn select<S: Store>(
    node: &Node<S>,
    pairs: Vec<(String, String)>,
    action: &str,
) -> Result<(AsOf, Arc<LogFacts>, AsOfForm), axum::response::Response> {
    let (asof, _) = AsOf::parse(node, pairs)
        .map_err(|e| super::error_page(axum::http::StatusCode::BAD_REQUEST, e))?;
    let facts = asof.facts(node).await.map_err(super::node_error)?;
    let form = form(node, &asof, action, &facts)
        .await
        .map_err(super::node_error)?;
    Ok((asof, facts, form))
}

pub async fn form<S: Store>(
    node: &Node<S>,
    asof: &AsOf,
    action: &str,
    facts: &LogFacts,
) -> Result<AsOfForm, NodeError> {
    let hidden: Vec<(String, String)> = asof
        .pairs()
        .into_iter()
        .filter(|(name, _)| name != "at" && !name.starts_with("cp_"))
        .collect();
    let logs: Vec<String> = facts
        .inputs
        .iter()
        .map(|i| {
            let party = node
                .network()
                .party_of_origin(&i.name)
                .map_or(i.name.as_str(), |p| p.name.as_str());
            format!("{party} at {} entries", i.records)
        })
        .collect();
    let mut summary = format!(
        "Assessed at {}{}, from {} ({}).",
        asof.at,
        if asof.at_given {
            ""
        } else {
            " (the node's clock)"
        },
        if asof.replays() {
            "checkpoints chosen above"
        } else {
            "the latest checkpoints"
        },
        if logs.is_empty() {
            "no log holds anything yet".to_owned()
        } else {
            logs.join(", ")
        }
    );
    if !asof.set.is_empty() {
        let set: Vec<String> = asof.set.iter().map(|(n, v)| format!("{n} = {v}")).collect();
        summary.push_str(&format!(" Params overridden: {}.", set.join(", ")));
    }
    let reset = format::query(&hidden);
    Ok(AsOfForm {
        action: action.to_owned(),
        at_value: format::datetime_local(asof.at),
        choices: choices(node, asof).await?,
        reset_query: if reset.is_empty() {
            String::new()
        } else {
            format!("?{reset}")
        },
        hidden,
        summary,
    })
}
