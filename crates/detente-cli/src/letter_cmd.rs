//! The principal and letter commands: `principal new`, and `letter draft`, `amend`, `show`,
//! `send`, `inbox`, `read` and `export`.
//!
//! A principal's key file is read from `--key FILE` and unlocked with the passphrase in the
//! environment variable `--passphrase-env VAR` names; the node's data folder never holds it.
//! A letter that is refused (forged, changed, replayed, not for this key) exits with 2.

use clap::{Args, Subcommand, ValueEnum};
use detente_node::letters::edition::{self, EditionFormat};
use detente_node::letters::principal::Protection;
use detente_node::letters::{
    self, Amendment, Draft, KeyFile, LetterError, PrincipalId, PrincipalKeys, Reference,
};
use detente_node::network::encode_key;
use std::path::{Path, PathBuf};

use crate::node_cmd::{DataDir, open_node};
use crate::{EXIT_OK, Exit};

#[derive(Debug, Subcommand)]
pub enum PrincipalCommand {
    /// Make a principal's key file (X25519 sealing and Ed25519 signing secrets, mode 0600)
    /// and print the `[[party.principal]]` block for the network file.
    New {
        /// The principal's name, e.g. `Carter`.
        name: String,
        /// The party they write for, e.g. `US`.
        #[arg(long)]
        party: String,
        /// Where to write the key file (never overwritten).
        #[arg(long, value_name = "FILE")]
        out: PathBuf,
        /// Encrypt the secrets with the passphrase in this environment variable.
        #[arg(long, value_name = "VAR")]
        passphrase_env: Option<String>,
    },
}

/// A principal's key file and how to unlock it.
#[derive(Debug, Args)]
pub struct KeyArgs {
    /// The principal's key file (made by `detente principal new`).
    #[arg(long = "key", value_name = "FILE")]
    pub key: PathBuf,
    /// The environment variable holding the key file's passphrase.
    #[arg(long, value_name = "VAR")]
    pub passphrase_env: Option<String>,
}

#[derive(Debug, Clone, Copy, ValueEnum, PartialEq, Eq)]
pub enum ExportFormat {
    Md,
    Html,
}

#[derive(Debug, Subcommand)]
pub enum LetterCommand {
    /// Start a letter: a local draft file; nothing is sent.
    Draft {
        /// The author, PARTY/NAME.
        #[arg(long)]
        from: String,
        /// The addressee, PARTY/NAME.
        #[arg(long)]
        to: String,
        /// The letter's date, YYYY-MM-DD.
        #[arg(long)]
        date: String,
        #[arg(long)]
        subject: String,
        /// The body, a Markdown file.
        #[arg(long, value_name = "FILE")]
        body: PathBuf,
        /// An earlier letter referred to, e.g. "your letter of February 25th"; end it with
        /// `@PARTY:INDEX` to name its log entry (repeatable).
        #[arg(long = "reference", value_name = "TEXT")]
        references: Vec<String>,
        /// The draft file to write (never overwritten).
        #[arg(long, value_name = "DRAFT.json")]
        out: PathBuf,
    },
    /// Record an amendment in a draft: a passage struck through and its replacement.
    Amend {
        draft: PathBuf,
        /// The struck passage.
        #[arg(long)]
        original: String,
        /// What replaced it; it must occur in the body. Empty for a deletion.
        #[arg(long, allow_hyphen_values = true)]
        replacement: String,
        /// A remark printed after the footnote's account.
        #[arg(long)]
        note: Option<String>,
        /// For a deletion: the passage of the body right after which the struck words stood.
        #[arg(long, conflicts_with = "before")]
        after: Option<String>,
        /// For a deletion: the passage of the body right before which they stood.
        #[arg(long)]
        before: Option<String>,
        /// Which occurrence (from 1) of the replacement (or passage) is meant.
        #[arg(long)]
        occurrence: Option<u32>,
    },
    /// Show a draft as its annotated edition will read.
    Show { draft: PathBuf },
    /// Sign, seal and append a draft to the author's party log.
    Send {
        draft: PathBuf,
        #[command(flatten)]
        key: KeyArgs,
        #[command(flatten)]
        data: DataDir,
    },
    /// List the letters addressed to the key's principal in every log the node holds.
    Inbox {
        #[command(flatten)]
        data: DataDir,
        #[command(flatten)]
        key: KeyArgs,
        /// Print JSON.
        #[arg(long)]
        json: bool,
    },
    /// Open a letter with the addressee's key and check it: signature, receipt, replays.
    Read {
        #[command(flatten)]
        data: DataDir,
        #[command(flatten)]
        key: KeyArgs,
        /// The party whose log holds the letter.
        #[arg(long)]
        party: String,
        /// Its index in that log.
        index: u64,
    },
    /// Write a letter's edition: the final text, with its amendments as footnotes
    /// (`--annotated`) and a source note.
    Export {
        #[command(flatten)]
        data: DataDir,
        #[command(flatten)]
        key: KeyArgs,
        #[arg(long)]
        party: String,
        index: u64,
        /// Each amendment as a numbered footnote.
        #[arg(long)]
        annotated: bool,
        #[arg(long, value_enum, default_value_t = ExportFormat::Md)]
        format: ExportFormat,
        /// Write here instead of standard output.
        #[arg(long, value_name = "FILE")]
        out: Option<PathBuf>,
    },
}

fn runtime() -> Result<tokio::runtime::Runtime, Exit> {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .map_err(|e| Exit::internal(format!("error: cannot start the runtime: {e}")))
}

/// A refusal or a bad argument exits with 2; a failing node or store with 3.
fn letter_error(e: LetterError) -> Exit {
    match e {
        LetterError::Node(_) => Exit::internal(format!("error: {e}")),
        other => Exit::invalid(format!("error: {other}")),
    }
}

fn invalid(e: impl std::fmt::Display) -> Exit {
    Exit::invalid(format!("error: {e}"))
}

fn read_text(path: &Path) -> Result<String, Exit> {
    detente_node::home::read_text(path).map_err(invalid)
}

fn passphrase(var: Option<&str>) -> Result<Option<String>, Exit> {
    let Some(var) = var else {
        return Ok(None);
    };
    match std::env::var(var) {
        Ok(text) if !text.is_empty() => Ok(Some(text)),
        Ok(_) => Err(invalid(format!(
            "the environment variable `{var}` (--passphrase-env) is empty"
        ))),
        Err(_) => Err(invalid(format!(
            "the environment variable `{var}` (--passphrase-env) is not set, or not UTF-8"
        ))),
    }
}

/// Warns when a key file can be read by others than its owner.
fn warn_if_shared(path: &Path) {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt as _;
        if let Ok(meta) = std::fs::metadata(path)
            && meta.permissions().mode() & 0o077 != 0
        {
            eprintln!(
                "warning: `{}` can be read by others than its owner; run `chmod 600 {}`",
                path.display(),
                path.display()
            );
        }
    }
}

fn key_file(args: &KeyArgs) -> Result<KeyFile, Exit> {
    warn_if_shared(&args.key);
    KeyFile::parse(&read_text(&args.key)?, &args.key.display().to_string()).map_err(letter_error)
}

fn unlock(file: &KeyFile, args: &KeyArgs) -> Result<PrincipalKeys, Exit> {
    let pass = passphrase(args.passphrase_env.as_deref())?;
    if pass.is_some() && !file.is_protected() {
        eprintln!(
            "warning: `{}` is not protected by a passphrase; --passphrase-env is ignored",
            args.key.display()
        );
    }
    file.unlock(pass.as_deref().map(str::as_bytes))
        .map_err(letter_error)
}

fn keys(args: &KeyArgs) -> Result<PrincipalKeys, Exit> {
    unlock(&key_file(args)?, args)
}

fn principal(text: &str, flag: &str) -> Result<PrincipalId, Exit> {
    PrincipalId::parse(text).map_err(|e| invalid(format!("{flag}: {e}")))
}

fn time_ms(ms: i64) -> String {
    detente_lang::time::Instant::from_unix_seconds(ms.div_euclid(1000)).to_string()
}

fn time_secs(secs: u64) -> String {
    detente_lang::time::Instant::from_unix_seconds(i64::try_from(secs).unwrap_or(i64::MAX))
        .to_string()
}

pub fn principal_cmd(command: &PrincipalCommand) -> Result<u8, Exit> {
    let PrincipalCommand::New {
        name,
        party,
        out,
        passphrase_env,
    } = command;
    let id = principal(&format!("{party}/{name}"), "NAME and --party")?;
    if out.exists() {
        return Err(invalid(format!(
            "`{}` already exists; a key file is never overwritten",
            out.display()
        )));
    }
    let mut rng = letters::system_rng();
    let keys = PrincipalKeys::generate(id.clone(), &mut rng);
    let pass = passphrase(passphrase_env.as_deref())?;
    let protection = pass
        .as_deref()
        .map(|p| Protection::new(p.as_bytes(), &mut rng));
    let text = keys.to_key_file(protection).map_err(letter_error)?;
    detente_node::home::write_secret(out, &text).map_err(invalid)?;
    println!(
        "# add under the [[party]] table of {party} in the network file, and give the file to every node\n{}",
        keys.network_block()
    );
    eprintln!(
        "made the keys of {id} in {} ({}); keep that file with the principal, not on a node",
        out.display(),
        if pass.is_some() {
            "protected by the passphrase"
        } else {
            "not protected by a passphrase"
        }
    );
    Ok(EXIT_OK)
}

/// `TEXT` or `TEXT@PARTY:INDEX`.
fn parse_reference(text: &str) -> Reference {
    if let Some((description, place)) = text.rsplit_once('@')
        && let Some((party, index)) = place.split_once(':')
        && let Ok(index) = index.parse::<u64>()
        && letters::principal::is_name(party)
    {
        return Reference {
            description: description.trim().to_owned(),
            party: Some(party.to_owned()),
            index: Some(index),
        };
    }
    Reference {
        description: text.trim().to_owned(),
        party: None,
        index: None,
    }
}

fn read_draft(path: &Path) -> Result<Draft, Exit> {
    Draft::from_json(&read_text(path)?, &path.display().to_string()).map_err(letter_error)
}

fn write_file(path: &Path, text: &str) -> Result<(), Exit> {
    std::fs::write(path, text)
        .map_err(|e| Exit::internal(format!("error: cannot write `{}`: {e}", path.display())))
}

pub fn letter(command: &LetterCommand) -> Result<u8, Exit> {
    match command {
        LetterCommand::Draft {
            from,
            to,
            date,
            subject,
            body,
            references,
            out,
        } => {
            if out.exists() {
                return Err(invalid(format!(
                    "`{}` already exists; amend it with `detente letter amend`, or choose another file",
                    out.display()
                )));
            }
            let draft = Draft::new(
                principal(from, "--from")?,
                principal(to, "--to")?,
                date,
                subject,
                &read_text(body)?,
                references.iter().map(|r| parse_reference(r)).collect(),
            )
            .map_err(letter_error)?;
            write_file(out, &draft.to_json())?;
            println!(
                "drafted a letter from {} to {} in {} (nothing is sent)",
                draft.from,
                draft.to,
                out.display()
            );
            Ok(EXIT_OK)
        }
        LetterCommand::Amend {
            draft: path,
            original,
            replacement,
            note,
            after,
            before,
            occurrence,
        } => {
            let mut draft = read_draft(path)?;
            draft
                .amend(Amendment {
                    original: original.clone(),
                    replacement: replacement.clone(),
                    note: note.clone(),
                    after: after.clone(),
                    before: before.clone(),
                    occurrence: *occurrence,
                })
                .map_err(|e| invalid(format!("`{}`: {e}", path.display())))?;
            write_file(path, &draft.to_json())?;
            println!(
                "recorded amendment {} in {}",
                draft.amendments.len(),
                path.display()
            );
            Ok(EXIT_OK)
        }
        LetterCommand::Show { draft } => {
            let draft = read_draft(draft)?;
            print!(
                "{}",
                edition::render(&draft, None, true, EditionFormat::Markdown)
            );
            Ok(EXIT_OK)
        }
        LetterCommand::Send { draft, key, data } => send(draft, key, data),
        LetterCommand::Inbox { data, key, json } => inbox(data, key, *json),
        LetterCommand::Read {
            data,
            key,
            party,
            index,
        } => read(data, key, party, *index),
        LetterCommand::Export {
            data,
            key,
            party,
            index,
            annotated,
            format,
            out,
        } => export(
            data,
            key,
            party,
            *index,
            *annotated,
            *format,
            out.as_deref(),
        ),
    }
}

fn send(path: &Path, key: &KeyArgs, data: &DataDir) -> Result<u8, Exit> {
    let draft = read_draft(path)?;
    let keys = keys(key)?;
    runtime()?.block_on(async {
        let (_, node) = open_node(&data.dir).await?;
        let mut rng = letters::system_rng();
        let sent = letters::send(&node, &draft, &keys, &mut rng)
            .await
            .map_err(letter_error)?;
        println!(
            "sent the letter from {} to {}: entry {} of {} ({} bytes sealed), letter id {}",
            draft.from,
            draft.to,
            sent.index,
            sent.origin,
            sent.size,
            detente_node::home::hex(&sent.letter_id)
        );
        Ok(EXIT_OK)
    })
}

/// The party whose log holds the letter, as its origin.
fn origin_of<S: detente_node::Store>(
    node: &detente_node::Node<S>,
    party: &str,
) -> Result<String, Exit> {
    if node.network().party(party).is_none() {
        let names: Vec<&str> = node
            .network()
            .parties
            .iter()
            .map(|p| p.name.as_str())
            .collect();
        return Err(invalid(format!(
            "`{party}` is not a party of the network; its parties are {}",
            names.join(", ")
        )));
    }
    Ok(node.network().origin(party))
}

fn inbox(data: &DataDir, key: &KeyArgs, json: bool) -> Result<u8, Exit> {
    let file = key_file(key)?;
    // The public part names the principal; the secrets are needed only to open letters.
    let keys = if file.is_protected() && key.passphrase_env.is_none() {
        eprintln!(
            "note: `{}` is protected; give --passphrase-env VAR to check which letters open",
            key.key.display()
        );
        None
    } else {
        Some(unlock(&file, key)?)
    };
    runtime()?.block_on(async {
        let (_, node) = open_node(&data.dir).await?;
        let items = letters::inbox(&node, file.id(), keys.as_ref())
            .await
            .map_err(letter_error)?;
        if json {
            let list: Vec<serde_json::Value> = items
                .iter()
                .map(|i| {
                    let mut v = serde_json::Map::new();
                    let mut put = |name: &str, value: serde_json::Value| {
                        v.insert(name.to_owned(), value);
                    };
                    put("origin", i.meta.origin.clone().into());
                    put("party", i.meta.party.clone().into());
                    put("index", i.meta.index.into());
                    put("sender", i.meta.sender.clone().into());
                    put("addressee", i.meta.addressee.clone().into());
                    put("appended_at", time_ms(i.meta.appended_at_ms).into());
                    put("size", i.meta.size.into());
                    let cosigned: Vec<serde_json::Value> = i
                        .meta
                        .cosigned_by
                        .iter()
                        .map(|c| {
                            serde_json::json!({
                                "cosigner": c.cosigner,
                                "at": time_secs(c.timestamp),
                            })
                        })
                        .collect();
                    put("cosigned_by", cosigned.into());
                    match &i.opens {
                        Some(Ok((date, subject))) => {
                            put("opens", true.into());
                            put("date", date.clone().into());
                            put("subject", subject.clone().into());
                        }
                        Some(Err(reason)) => {
                            put("opens", false.into());
                            put("refused", reason.clone().into());
                        }
                        None => {}
                    }
                    serde_json::Value::Object(v)
                })
                .collect();
            println!("{}", crate::to_json(&list)?);
            return Ok(EXIT_OK);
        }
        if items.is_empty() {
            println!("no letters to {} in the logs this node holds", file.id());
            return Ok(EXIT_OK);
        }
        println!("letters to {} in the logs this node holds:", file.id());
        for i in &items {
            let cosigned = if i.meta.cosigned_by.is_empty() {
                "not cosigned yet".to_owned()
            } else {
                let list: Vec<String> = i
                    .meta
                    .cosigned_by
                    .iter()
                    .map(|c| format!("{} at {}", c.cosigner, time_secs(c.timestamp)))
                    .collect();
                format!("cosigned by {}", list.join(", "))
            };
            println!(
                "  {} {:>4}  from {}  appended {}  {} bytes  {cosigned}",
                i.meta.party,
                i.meta.index,
                i.meta.sender.as_deref().unwrap_or("?"),
                time_ms(i.meta.appended_at_ms),
                i.meta.size,
            );
            match &i.opens {
                Some(Ok((date, subject))) => println!("         opens: {date}, “{subject}”"),
                Some(Err(reason)) => println!("         REFUSED: {reason}"),
                None => {}
            }
        }
        Ok(EXIT_OK)
    })
}

fn opened(data: &DataDir, key: &KeyArgs, party: &str, index: u64) -> Result<letters::Opened, Exit> {
    let keys = keys(key)?;
    runtime()?.block_on(async {
        let (_, node) = open_node(&data.dir).await?;
        let origin = origin_of(&node, party)?;
        letters::read(&node, &keys, &origin, index)
            .await
            .map_err(letter_error)
    })
}

fn read(data: &DataDir, key: &KeyArgs, party: &str, index: u64) -> Result<u8, Exit> {
    let o = opened(data, key, party, index)?;
    let c = &o.letter.content;
    println!("letter from {} to {}", c.from, c.to);
    println!(
        "  entry      {} of {}, appended {}, {} bytes sealed",
        o.meta.index,
        o.meta.origin,
        time_ms(o.meta.appended_at_ms),
        o.meta.size
    );
    println!(
        "  letter id  {}",
        detente_node::home::hex(&o.letter.letter_id)
    );
    println!(
        "  signature  valid: by {}'s signing key in the network file ({})",
        c.from,
        encode_key(&o.author_signing_key)
    );
    let cosigned = if o.verified.cosigned_by.is_empty() {
        "not cosigned".to_owned()
    } else {
        let list: Vec<String> = o
            .verified
            .cosigned_by
            .iter()
            .map(|(who, at)| format!("{who} at {}", time_secs(*at)))
            .collect();
        format!("cosigned by {}", list.join(", "))
    };
    println!(
        "  receipt    valid: in the checkpoint of size {} (root {}), {cosigned}",
        o.verified.size,
        encode_key(&o.verified.root)
    );
    if let Some(at) = o.received_by_reader_party {
        println!("  received   by your party's node at {}", time_secs(at));
    }
    for warning in &o.warnings {
        eprintln!("warning: {warning}");
    }
    println!("  date       {}", c.date);
    println!("  subject    {}", c.subject);
    for r in &c.references {
        match (&r.party, r.index) {
            (Some(p), Some(i)) => {
                println!("  refers to  {} (entry {i} of {p}'s log)", r.description)
            }
            _ => println!("  refers to  {}", r.description),
        }
    }
    println!();
    println!("{}", c.body);
    if !c.amendments.is_empty() {
        println!();
        println!(
            "{} amendment(s) before sending; `detente letter export --annotated` prints them as footnotes",
            c.amendments.len()
        );
    }
    Ok(EXIT_OK)
}

fn export(
    data: &DataDir,
    key: &KeyArgs,
    party: &str,
    index: u64,
    annotated: bool,
    format: ExportFormat,
    out: Option<&Path>,
) -> Result<u8, Exit> {
    let o = opened(data, key, party, index)?;
    for warning in &o.warnings {
        eprintln!("warning: {warning}");
    }
    let format = match format {
        ExportFormat::Md => EditionFormat::Markdown,
        ExportFormat::Html => EditionFormat::Html,
    };
    let text = edition::render(&o.letter.content, Some(&o.source()), annotated, format);
    match out {
        Some(path) => {
            write_file(path, &text)?;
            eprintln!("wrote {}", path.display());
        }
        None => print!("{text}"),
    }
    Ok(EXIT_OK)
}
