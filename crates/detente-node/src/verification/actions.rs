//! What a party's node does with verification records: append them to its own log,
//! keeping the secrets behind them in its data folder, and read every party's
//! verification state from the logs it holds.

use std::path::{Path, PathBuf};

use detente_escrow::commit::{Escrow, Item};
use detente_escrow::inspection::InspectionReport;
use detente_escrow::limit::{LimitContext, LimitError, LimitProof, check_opening, prove_at_most};
use detente_escrow::randomness::{Seed, SeedCommitment, SeedReveal};
use detente_lang::ast::ProvisionKind;
use detente_ledger::entry::EntryKind;
use rand08::SeedableRng as _;
use serde::Serialize;

use super::limits::apply_limit_proofs;
use super::private::{self, EscrowFile};
use super::records::{Record, max_body_bytes, split_reveal};
use super::state::{
    LoggedRecord, StateOptions, VerificationState, logged_records, read_verification,
};
use crate::Node;
use crate::facts::LogInput;
use crate::home::hex;
use crate::node::{NodeError, READ_PAGE};
use crate::store::Store;

/// Entries appended to this node's own log.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Appended {
    /// The index of the first.
    pub first_index: u64,
    /// How many.
    pub count: u64,
    /// The signed checkpoint covering them.
    pub checkpoint: String,
}

/// What `escrow_commit` did.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Committed {
    pub appended: Appended,
    pub total: u64,
    pub root: String,
    /// Items per region (published in the record only if asked).
    pub regions: Vec<(String, u64)>,
    pub published_counts: bool,
    /// The private file with the items and salts.
    pub private_file: PathBuf,
}

/// What `escrow_reveal` did.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Revealed {
    pub appended: Appended,
    pub region: String,
    pub items: u64,
}

fn rng() -> rand08::rngs::StdRng {
    rand08::rngs::StdRng::from_seed(crate::home::random_bytes())
}

fn invalid(message: impl Into<String>) -> NodeError {
    NodeError::Invalid(message.into())
}

impl<S: Store> Node<S> {
    /// Every log's verification entries, with the checkpoint they are read at, in origin
    /// order.
    pub async fn verification_logs(&self) -> Result<Vec<LogInput>, NodeError> {
        let mut logs = Vec::new();
        for origin in self.origins() {
            let checkpoint = {
                let mut view = self.view(&origin).await;
                self.catch_up(&origin, &mut view).await?;
                view.checkpoint.clone()
            };
            let Some(checkpoint) = checkpoint else {
                continue;
            };
            let mut entries = Vec::new();
            let mut from = 0;
            while from < checkpoint.size {
                let to = checkpoint.size.min(from + READ_PAGE);
                for stored in self.store.entries(&origin, from, to).await? {
                    let entry = Self::decode_stored(&origin, &stored)?;
                    if entry.kind == EntryKind::Verification {
                        entries.push(entry);
                    }
                }
                from = to;
            }
            logs.push(LogInput {
                party: self
                    .network
                    .party_of_origin(&origin)
                    .map(|p| p.name.clone())
                    .unwrap_or_default(),
                origin,
                checkpoint,
                entries,
                cosignatures: Vec::new(),
            });
        }
        Ok(logs)
    }

    /// Every party's verification state, from the logs this node holds.
    pub async fn verification_state(
        &self,
        options: &StateOptions,
    ) -> Result<VerificationState, NodeError> {
        let logs = self.verification_logs().await?;
        Ok(read_verification(&logs, &self.treaty.treaty, options))
    }

    /// The report at `at` ([`Node::report`]) with the verified limit proofs applied
    /// ([`apply_limit_proofs`]).
    pub async fn report_with_verification(
        &self,
        at: detente_lang::time::Instant,
        options: &detente_assess::engine::Options,
    ) -> Result<detente_assess::report::Report, NodeError> {
        let mut report = self.report(at, options).await?;
        let state = self.verification_state(&StateOptions::default()).await?;
        apply_limit_proofs(&mut report, &state.limit_proofs);
        Ok(report)
    }

    /// This node's own verification records, in log order.
    async fn own_records(&self) -> Result<Vec<LoggedRecord>, NodeError> {
        let logs: Vec<LogInput> = self
            .verification_logs()
            .await?
            .into_iter()
            .filter(|l| l.origin == self.origin)
            .collect();
        Ok(logged_records(&logs).0)
    }

    /// Appends records of this party's own to its log, in one step. Each must speak for
    /// this party and fit in a log entry.
    pub async fn append_verification(&self, records: &[Record]) -> Result<Appended, NodeError> {
        let max = max_body_bytes(&self.origin);
        let mut bodies = Vec::with_capacity(records.len());
        for record in records {
            if record.speaker() != self.party {
                return Err(invalid(format!(
                    "a {} of {} cannot go in the log of {}",
                    record.name(),
                    record.speaker(),
                    self.party
                )));
            }
            let body = record
                .encode()
                .map_err(|e| invalid(format!("the {}: {e}", record.name())))?;
            if body.len() > max {
                return Err(invalid(format!(
                    "the {} is {} bytes, more than a log entry can hold ({max} bytes); {}",
                    record.name(),
                    body.len(),
                    match record {
                        Record::Commitment(_) =>
                            "withhold the counts per region (or declare fewer regions)",
                        Record::Inspection(_) => "report fewer items per site in one report",
                        _ => "it cannot be appended",
                    }
                )));
            }
            bodies.push(body);
        }
        self.append_bodies(bodies).await
    }

    async fn append_bodies(&self, bodies: Vec<Vec<u8>>) -> Result<Appended, NodeError> {
        let count = bodies.len() as u64;
        let (first_index, checkpoint) = self
            .append_entries(
                bodies
                    .into_iter()
                    .map(|b| (EntryKind::Verification, b))
                    .collect(),
            )
            .await?;
        Ok(Appended {
            first_index,
            count,
            checkpoint,
        })
    }

    /// Commits to a complete item-level declaration: fresh salts, the items and salts
    /// kept in `DATA/private/escrow-<root>.bin`, the commitment appended.
    pub async fn escrow_commit(
        &self,
        data_dir: &Path,
        items: Vec<Item>,
        as_of: &str,
        publish_counts: bool,
    ) -> Result<Committed, NodeError> {
        if items.is_empty() {
            return Err(invalid(
                "no items: a declaration commits to at least one item",
            ));
        }
        let escrow = Escrow::with_rng(items, &mut rng()).map_err(|e| invalid(e.to_string()))?;
        let commitment = escrow
            .commitment(&self.party, as_of, publish_counts)
            .map_err(|e| invalid(e.to_string()))?;
        let record = Record::Commitment(commitment);
        let body = record.encode().map_err(|e| invalid(e.to_string()))?;
        if body.len() > max_body_bytes(&self.origin) {
            return Err(invalid(format!(
                "the commitment is {} bytes with the counts of {} regions, more than a log entry can hold; withhold the counts per region",
                body.len(),
                escrow.regions().len()
            )));
        }
        let root = escrow.root();
        let file = EscrowFile {
            party: self.party.clone(),
            as_of: as_of.to_owned(),
            publish_counts,
            items: escrow
                .items()
                .iter()
                .cloned()
                .zip(escrow.salts().iter().copied())
                .collect(),
        };
        let private_file = private::write_escrow(data_dir, &root, &file)?;
        let appended = self.append_verification(&[record]).await?;
        Ok(Committed {
            appended,
            total: escrow.len(),
            root: hex(&root),
            regions: escrow
                .regions()
                .iter()
                .map(|r| (r.region.clone(), r.count))
                .collect(),
            published_counts: publish_counts,
            private_file,
        })
    }

    /// Reveals one region of this party's latest commitment (or the latest as of
    /// `as_of`), in as many records as it takes to fit the ledger's entry limit.
    pub async fn escrow_reveal(
        &self,
        data_dir: &Path,
        region: &str,
        as_of: Option<&str>,
    ) -> Result<Revealed, NodeError> {
        let own = self.own_records().await?;
        let commitment = own
            .iter()
            .rev()
            .find_map(|r| match &r.record {
                Record::Commitment(c) if as_of.is_none_or(|d| c.as_of == d) => Some((r.at.clone(), c.clone())),
                _ => None,
            })
            .ok_or_else(|| {
                invalid(match as_of {
                    Some(d) => format!(
                        "{} has no commitment as of {d} in its log; run `detente escrow commit` first",
                        self.party
                    ),
                    None => format!(
                        "{} has committed to no declaration in its log; run `detente escrow commit` first",
                        self.party
                    ),
                })
            })?;
        let (at, commitment) = commitment;
        let already: Vec<String> = own
            .iter()
            .filter(|r| matches!(&r.record, Record::Reveal(v) if v.root == commitment.root && v.region == region))
            .map(|r| r.at.index.to_string())
            .collect();
        if !already.is_empty() {
            return Err(invalid(format!(
                "region {region:?} of the commitment at entry {} was already revealed (entries {})",
                at.index,
                already.join(", ")
            )));
        }
        let file = private::read_escrow(data_dir, &commitment.root)?.ok_or_else(|| {
            NodeError::Config(format!(
                "this data folder does not keep the items of the commitment at entry {} (no `{}`); only the node that committed can reveal",
                at.index,
                private::escrow_path(data_dir, &commitment.root).display()
            ))
        })?;
        let escrow = Escrow::new(file.items).map_err(|e| {
            NodeError::Config(format!("the private escrow of entry {}: {e}", at.index))
        })?;
        if escrow.root() != commitment.root {
            return Err(NodeError::Config(format!(
                "the private escrow `{}` no longer gives the committed root {}: it was changed since the commitment at entry {}; refusing to reveal",
                private::escrow_path(data_dir, &commitment.root).display(),
                hex(&commitment.root),
                at.index
            )));
        }
        let reveal = escrow
            .reveal(&self.party, &commitment.as_of, region)
            .map_err(|e| {
                let regions: Vec<&str> =
                    escrow.regions().iter().map(|r| r.region.as_str()).collect();
                invalid(format!(
                    "{e}; the declaration's regions are {}",
                    regions.join(", ")
                ))
            })?;
        let items = reveal.items.len() as u64;
        let bodies = split_reveal(&reveal, max_body_bytes(&self.origin)).map_err(invalid)?;
        let appended = self.append_bodies(bodies).await?;
        Ok(Revealed {
            appended,
            region: region.to_owned(),
            items,
        })
    }

    /// Commits to a seed for a round of joint randomness: `seed`, or a fresh random one,
    /// kept in `DATA/private/seed-….json` until it is revealed.
    pub async fn seed_commit(
        &self,
        data_dir: &Path,
        round: &str,
        seed: Option<Seed>,
    ) -> Result<Appended, NodeError> {
        let own = self.own_records().await?;
        if let Some(r) = own
            .iter()
            .find(|r| matches!(&r.record, Record::SeedCommitment(c) if c.round == round))
        {
            return Err(invalid(format!(
                "{} already committed to a seed for round {round:?} (entry {})",
                self.party, r.at.index
            )));
        }
        let kept = private::read_seed(data_dir, round)?;
        let seed = match (kept, seed) {
            (Some(kept), Some(given)) if kept != given => {
                return Err(invalid(format!(
                    "this node already keeps another seed for round {round:?} in `{}`",
                    private::seed_path(data_dir, round).display()
                )));
            }
            (Some(kept), _) => kept,
            (None, given) => {
                let seed = given.unwrap_or_else(crate::home::random_bytes);
                private::write_seed(data_dir, round, &self.party, &seed)?;
                seed
            }
        };
        let commitment =
            SeedCommitment::new(round, &self.party, &seed).map_err(|e| invalid(e.to_string()))?;
        self.append_verification(&[Record::SeedCommitment(commitment)])
            .await
    }

    /// Reveals this party's seed for a round, once every party's commitment is in the
    /// logs this node holds (an earlier reveal would void the round).
    pub async fn seed_reveal(&self, data_dir: &Path, round: &str) -> Result<Appended, NodeError> {
        let logs = self.verification_logs().await?;
        let (records, _) = logged_records(&logs);
        let mut own_commitment = None;
        let mut latest_ms = i64::MIN;
        let mut committed: Vec<&str> = Vec::new();
        for r in &records {
            match &r.record {
                Record::SeedCommitment(c) if c.round == round => {
                    if r.party == self.party && own_commitment.is_none() {
                        own_commitment = Some((r.at.clone(), c.clone()));
                    }
                    committed.push(&r.party);
                    latest_ms = latest_ms.max(r.appended_at_ms);
                }
                Record::SeedReveal(s) if s.round == round && r.party == self.party => {
                    return Err(invalid(format!(
                        "{} already revealed its seed for round {round:?} (entry {})",
                        self.party, r.at.index
                    )));
                }
                _ => {}
            }
        }
        let Some((at, commitment)) = own_commitment else {
            return Err(invalid(format!(
                "{} has not committed to a seed for round {round:?}; run `detente inspect seed --round {round}` first",
                self.party
            )));
        };
        let awaiting: Vec<&str> = self
            .treaty
            .treaty
            .parties
            .iter()
            .map(String::as_str)
            .filter(|p| !committed.contains(p))
            .collect();
        if !awaiting.is_empty() {
            return Err(invalid(format!(
                "not every party has committed to a seed for round {round:?}: this node holds no commitment of {}. Revealing now would void the round (a party committing later could choose its seed knowing this one); mirror the other logs (`detente sync`) and try again",
                awaiting.join(", ")
            )));
        }
        let now = self.clock.now_ms();
        if now <= latest_ms {
            return Err(invalid(format!(
                "this node's clock ({now} ms) is not after the latest seed commitment of round {round:?} ({latest_ms} ms, by its node's clock); a reveal now would read as early. Wait {} ms, or check the clocks",
                latest_ms.saturating_sub(now).saturating_add(1)
            )));
        }
        let seed = private::read_seed(data_dir, round)?.ok_or_else(|| {
            NodeError::Config(format!(
                "this data folder does not keep the seed of round {round:?} (no `{}`)",
                private::seed_path(data_dir, round).display()
            ))
        })?;
        let reveal = SeedReveal {
            round: round.to_owned(),
            party: self.party.clone(),
            seed,
        };
        if !reveal.opens(&commitment) {
            return Err(NodeError::Config(format!(
                "the seed kept in `{}` does not open the commitment at entry {}; refusing to reveal it",
                private::seed_path(data_dir, round).display(),
                at.index
            )));
        }
        self.append_verification(&[Record::SeedReveal(reveal)])
            .await
    }

    /// Appends what this party's inspectors found at one site of another party.
    pub async fn file_inspection(&self, report: InspectionReport) -> Result<Appended, NodeError> {
        if report.inspector != self.party {
            return Err(invalid(format!(
                "the report's inspector is {}, but this node writes only {}'s records",
                report.inspector, self.party
            )));
        }
        if report.inspected == self.party || !self.treaty.treaty.parties.contains(&report.inspected)
        {
            let others: Vec<&str> = self
                .treaty
                .treaty
                .parties
                .iter()
                .map(String::as_str)
                .filter(|p| *p != self.party)
                .collect();
            return Err(invalid(format!(
                "`inspected` is {:?}; it must be another party of the treaty: {}",
                report.inspected,
                others.join(", ")
            )));
        }
        report.validate().map_err(|e| invalid(e.to_string()))?;
        self.append_verification(&[Record::Inspection(report)])
            .await
    }

    /// Proves that this party's value of a limit provision's quantity is at most
    /// `bound` without disclosing it: the proof is appended, the opening (value and
    /// blinding) kept in `DATA/private/limit-<commitment>.json`.
    pub async fn prove_limit(
        &self,
        data_dir: &Path,
        provision: &str,
        value: u64,
        bound: u64,
        as_of: &str,
    ) -> Result<(Appended, LimitProof), NodeError> {
        let limits: Vec<&str> = self
            .treaty
            .treaty
            .provisions
            .iter()
            .filter(|p| p.kind == ProvisionKind::Limit)
            .map(|p| p.id.as_str())
            .collect();
        if !limits.contains(&provision) {
            return Err(invalid(format!(
                "`{provision}` is not a limit provision of the treaty; its limits are {}",
                limits.join(", ")
            )));
        }
        let context =
            LimitContext::new(&self.party, provision, as_of).map_err(|e| invalid(e.to_string()))?;
        let (proof, opening) =
            prove_at_most(&context, value, bound, &mut rng()).map_err(|e| match e {
                LimitError::Internal(_) => NodeError::Config(e.to_string()),
                other => invalid(other.to_string()),
            })?;
        private::write_opening(data_dir, &proof.commitment, bound, &opening)?;
        let appended = self
            .append_verification(&[Record::LimitProof(proof.clone())])
            .await?;
        Ok((appended, proof))
    }

    /// Publishes the openings of this party's proofs for a provision as of a date (the
    /// value becomes public; every node checks it against the proof).
    pub async fn open_limit(
        &self,
        data_dir: &Path,
        provision: &str,
        as_of: &str,
    ) -> Result<Appended, NodeError> {
        let own = self.own_records().await?;
        let proofs: Vec<(&LoggedRecord, &LimitProof)> = own
            .iter()
            .filter_map(|r| match &r.record {
                Record::LimitProof(p)
                    if p.context.quantity == provision && p.context.as_of == as_of =>
                {
                    Some((r, p))
                }
                _ => None,
            })
            .collect();
        if proofs.is_empty() {
            return Err(invalid(format!(
                "{} has no limit proof of `{provision}` as of {as_of} in its log",
                self.party
            )));
        }
        let mut openings = Vec::new();
        for (r, proof) in proofs {
            let opened = own.iter().any(
                |o| matches!(&o.record, Record::Opening(op) if check_opening(proof, op).is_ok()),
            );
            if opened {
                continue;
            }
            let opening = private::read_opening(data_dir, &proof.commitment)?.ok_or_else(|| {
                NodeError::Config(format!(
                    "this data folder does not keep the opening of the proof at entry {} (no `{}`)",
                    r.at.index,
                    private::opening_path(data_dir, &proof.commitment).display()
                ))
            })?;
            check_opening(proof, &opening).map_err(|e| {
                NodeError::Config(format!(
                    "the opening kept for the proof at entry {} does not open it ({e}); refusing to publish it",
                    r.at.index
                ))
            })?;
            openings.push(Record::Opening(opening));
        }
        if openings.is_empty() {
            return Err(invalid(format!(
                "every proof of `{provision}` as of {as_of} is already opened"
            )));
        }
        self.append_verification(&openings).await
    }
}
