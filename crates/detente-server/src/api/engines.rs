//! Engines kept across requests.
//!
//! Indexing the facts for the treaty (`Engine::new`) costs about 0.2 s at CFE scale (two
//! million item records), while assessing one instant from the index costs about a
//! millisecond. A node's facts change only when a log grows or gains a cosignature, so the
//! server builds the engine once per version of the facts and answers every request from
//! it until the facts change.
//!
//! An engine borrows the treaty and the facts it indexes, so it cannot be stored beside
//! them in a struct without `unsafe`. Instead it lives on the stack of a thread that owns
//! (`Arc`s of) both: the *manager* builds the engine for the facts of the first request
//! it receives, then lends it, in a scope, to worker threads (one per core) that run
//! requests until one arrives for other facts; then the scope ends and the manager builds
//! the engine for those. Requests with other options (`set=`, `interpretation`,
//! `assume_in_force`: a what-if) are indexed by the worker that takes them, which keeps
//! the last such engine for the next request with the same options.
//!
//! The work runs off the async runtime, so a slow assessment never holds up the server's
//! other requests. A job that panics (an engine bug) answers its request with an error
//! and leaves the threads running.

use std::collections::BTreeMap;
use std::panic::AssertUnwindSafe;
use std::sync::mpsc;
use std::sync::{Arc, Mutex, OnceLock, PoisonError};

use detente_assess::engine::{Engine, EngineError, Options, Provenance};
use detente_node::facts::LogFacts;
use detente_node::home::TreatyBundle;
use detente_node::queries::{EntryRef, entries_by_id};

/// What a job may read besides the engine: the facts, and what is derived from them once
/// per version.
#[derive(Debug)]
pub struct Prepared<'a> {
    pub facts: &'a LogFacts,
    pub treaty: &'a TreatyBundle,
    entries: &'a OnceLock<BTreeMap<String, Vec<EntryRef>>>,
}

impl Prepared<'_> {
    /// The entries holding the facts with each id (built on first use, then kept while the
    /// facts stay the same).
    pub fn entries_by_id(&self) -> &BTreeMap<String, Vec<EntryRef>> {
        self.entries.get_or_init(|| entries_by_id(self.facts))
    }
}

/// A job's work: given the engine (or why it could not be built for the job's options)
/// and the prepared facts.
type Work = Box<
    dyn for<'e, 't, 'f> FnOnce(Result<&'e Engine<'t, 'f>, EngineError>, &'e Prepared<'e>) + Send,
>;

struct Job {
    facts: Arc<LogFacts>,
    treaty: Arc<TreatyBundle>,
    options: Options,
    work: Work,
}

/// Why a job did not run.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum EngineFailure {
    /// The options do not fit the treaty (an unknown param or interpretation…).
    Options(EngineError),
    /// The job stopped without an answer (a bug in the engine; logged).
    Failed,
}

impl std::fmt::Display for EngineFailure {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            EngineFailure::Options(e) => write!(f, "{e}"),
            EngineFailure::Failed => write!(f, "the assessment stopped without an answer"),
        }
    }
}

/// The engines of one server. Dropping it stops its threads once their jobs are done.
#[derive(Debug)]
pub struct Engines {
    jobs: Mutex<mpsc::Sender<Job>>,
}

impl Default for Engines {
    fn default() -> Self {
        Self::new()
    }
}

fn is_default(options: &Options) -> bool {
    options.params.is_empty()
        && options.assume_in_force.is_none()
        && options.interpretation.is_none()
}

fn same_options(a: &Options, b: &Options) -> bool {
    a.params == b.params
        && a.assume_in_force == b.assume_in_force
        && a.interpretation == b.interpretation
}

fn build<'t, 'f>(
    treaty: &'t TreatyBundle,
    facts: &'f LogFacts,
    options: &Options,
) -> Result<Engine<'t, 'f>, EngineError> {
    Engine::new(
        &treaty.treaty,
        &facts.facts,
        treaty.zones.clone(),
        options,
        Provenance {
            source_sha256: treaty.source_sha256.clone(),
            inputs: facts.inputs.clone(),
        },
    )
}

/// Runs a job's work, catching a panic so that the threads survive it (the job's answer
/// channel is then dropped, which its caller sees as [`EngineFailure::Failed`]).
fn run_job<'t, 'f>(
    engine: Result<&Engine<'t, 'f>, EngineError>,
    prepared: &Prepared<'_>,
    work: Work,
) {
    if std::panic::catch_unwind(AssertUnwindSafe(move || work(engine, prepared))).is_err() {
        tracing::error!("an assessment job panicked; its request was answered with an error");
    }
}

impl Engines {
    /// Starts the manager thread (it starts its workers when the first job arrives).
    pub fn new() -> Engines {
        let (tx, rx) = mpsc::channel::<Job>();
        let workers = std::thread::available_parallelism()
            .map(usize::from)
            .unwrap_or(2)
            .clamp(1, 4);
        let spawned = std::thread::Builder::new()
            .name("detente-engines".to_owned())
            .spawn(move || manage(&rx, workers));
        if let Err(e) = spawned {
            // Jobs sent to a channel nobody reads fail at once with `Failed`.
            tracing::error!(error = %e, "cannot start the assessment threads");
        }
        Engines {
            jobs: Mutex::new(tx),
        }
    }

    /// Runs `work` with an engine for `facts` and `options`, on the engine threads.
    pub async fn run<R, F>(
        &self,
        facts: Arc<LogFacts>,
        treaty: Arc<TreatyBundle>,
        options: Options,
        work: F,
    ) -> Result<R, EngineFailure>
    where
        R: Send + 'static,
        F: for<'e, 't, 'f> FnOnce(&'e Engine<'t, 'f>, &'e Prepared<'e>) -> R + Send + 'static,
    {
        let (reply, answer) = tokio::sync::oneshot::channel();
        let job = Job {
            facts,
            treaty,
            options,
            work: Box::new(move |engine, prepared| {
                let result = match engine {
                    Ok(engine) => Ok(work(engine, prepared)),
                    Err(e) => Err(EngineFailure::Options(e)),
                };
                let _ = reply.send(result);
            }),
        };
        let sent = self
            .jobs
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .send(job);
        if sent.is_err() {
            return Err(EngineFailure::Failed);
        }
        answer.await.unwrap_or(Err(EngineFailure::Failed))
    }
}

/// The manager: one scope per version of the facts (see the module documentation).
fn manage(jobs: &mpsc::Receiver<Job>, workers: usize) {
    let mut next: Option<Job> = None;
    loop {
        let first = match next.take() {
            Some(job) => job,
            None => match jobs.recv() {
                Ok(job) => job,
                Err(_) => return,
            },
        };
        let facts = first.facts.clone();
        let treaty = first.treaty.clone();
        let entries = OnceLock::new();
        let prepared = Prepared {
            facts: &facts,
            treaty: &treaty,
            entries: &entries,
        };
        let started = std::time::Instant::now();
        let engine = build(&treaty, &facts, &Options::default());
        tracing::debug!(
            elapsed_ms = started.elapsed().as_millis() as u64,
            records = facts.facts.len(),
            "indexed the facts"
        );
        let mut closed = false;
        let (to_workers, queue) = mpsc::channel::<Job>();
        let queue = Mutex::new(queue);
        std::thread::scope(|scope| {
            for _ in 0..workers {
                let queue = &queue;
                let engine = &engine;
                let prepared = &prepared;
                scope.spawn(move || work_loop(queue, engine, prepared));
            }
            let mut job = first;
            loop {
                if to_workers.send(job).is_err() {
                    break;
                }
                match jobs.recv() {
                    Ok(j) if Arc::ptr_eq(&j.facts, &facts) && Arc::ptr_eq(&j.treaty, &treaty) => {
                        job = j;
                    }
                    Ok(j) => {
                        next = Some(j);
                        break;
                    }
                    Err(_) => {
                        closed = true;
                        break;
                    }
                }
            }
            // Workers finish the jobs queued, then stop; the scope waits for them.
            drop(to_workers);
        });
        if closed {
            return;
        }
    }
}

/// One worker: takes jobs until the manager closes the queue.
fn work_loop<'t, 'f>(
    queue: &Mutex<mpsc::Receiver<Job>>,
    engine: &Result<Engine<'t, 'f>, EngineError>,
    prepared: &Prepared<'_>,
) {
    // The last engine built for other options, kept for the next job with the same ones.
    let mut other: Option<(Options, Result<Engine<'_, '_>, EngineError>)> = None;
    loop {
        let job = {
            let queue = queue.lock().unwrap_or_else(PoisonError::into_inner);
            queue.recv()
        };
        let Ok(job) = job else {
            return;
        };
        if is_default(&job.options) {
            run_job(engine.as_ref().map_err(Clone::clone), prepared, job.work);
            continue;
        }
        let reuse = other
            .as_ref()
            .is_some_and(|(options, _)| same_options(options, &job.options));
        if !reuse {
            other = Some((
                job.options.clone(),
                build(prepared.treaty, prepared.facts, &job.options),
            ));
        }
        if let Some((_, built)) = &other {
            run_job(built.as_ref().map_err(Clone::clone), prepared, job.work);
        }
    }
}
