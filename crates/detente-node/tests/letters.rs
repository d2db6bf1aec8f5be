#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    clippy::print_stdout,
    clippy::print_stderr
)]
//! Letters between principals, on two in-process nodes (US and USSR of the Carter-1977
//! treaty, [`MemoryStore`]s, one [`ManualClock`], mirroring through [`LocalPeer`]) with
//! principals whose keys are fixed bytes and randomness from a fixed seed, so every byte
//! (letter ids, envelopes, roots) is the same on every run.
//!
//! The annotated edition of the letter of 4 March 1977 is compared with
//! `test_data/letters/carter-1977-03-04.annotated.md`; after a deliberate change rewrite it
//! with
//!
//! ```sh
//! UPDATE_EXPECT=1 cargo test -p detente-node --test letters
//! ```
//!
//! and read the diff.

use std::convert::Infallible;
use std::path::Path;

use detente_ledger::entry::{Entry, EntryKind};
use detente_node::letters::edition::{self, EditionFormat};
use detente_node::letters::envelope::{self, Envelope};
use detente_node::letters::principal::{KdfParams, Protection};
use detente_node::letters::{
    self, Amendment, Draft, KeyFile, Letter, LetterError, Place, PrincipalId, PrincipalKeys,
    Reference,
};
use detente_node::memory_store::MemoryStore;
use detente_node::network::encode_key;
use detente_node::{ManualClock, Node};
use sha2::{Digest, Sha256};

mod support;

use support::{LocalPeer, Net, ROOT, US, USSR, network_with, open};

/// 2030-01-01T00:00:00Z, in seconds.
const T0: i64 = 1_893_456_000;

// ----- fixed randomness --------------------------------------------------------------------

/// SHA-256 in counter mode over a seed: a deterministic stand-in for the OS generator, so
/// that envelopes are reproducible. (Never for real letters.)
struct TestRng {
    seed: [u8; 32],
    counter: u64,
    buffer: Vec<u8>,
}

impl TestRng {
    fn new(label: &str) -> TestRng {
        TestRng {
            seed: Sha256::digest(label.as_bytes()).into(),
            counter: 0,
            buffer: Vec::new(),
        }
    }
}

impl rand::TryRng for TestRng {
    type Error = Infallible;

    fn try_next_u32(&mut self) -> Result<u32, Infallible> {
        let mut b = [0u8; 4];
        self.try_fill_bytes(&mut b)?;
        Ok(u32::from_le_bytes(b))
    }

    fn try_next_u64(&mut self) -> Result<u64, Infallible> {
        let mut b = [0u8; 8];
        self.try_fill_bytes(&mut b)?;
        Ok(u64::from_le_bytes(b))
    }

    fn try_fill_bytes(&mut self, dst: &mut [u8]) -> Result<(), Infallible> {
        for byte in dst {
            if self.buffer.is_empty() {
                let mut h = Sha256::new();
                h.update(self.seed);
                h.update(self.counter.to_be_bytes());
                self.counter += 1;
                self.buffer = h.finalize().to_vec();
            }
            *byte = self.buffer.remove(0);
        }
        Ok(())
    }
}

impl rand::TryCryptoRng for TestRng {}

// ----- principals and nodes ----------------------------------------------------------------

fn id(text: &str) -> PrincipalId {
    PrincipalId::parse(text).unwrap()
}

/// Fixed keys for a principal: secrets are SHA-256 of the name and a label.
fn keys(principal: &str) -> PrincipalKeys {
    let secret = |label: &str| -> [u8; 32] {
        Sha256::digest(format!("{principal} {label}").as_bytes()).into()
    };
    PrincipalKeys::from_secrets(id(principal), secret("signing"), secret("sealing"))
}

fn carter() -> PrincipalKeys {
    keys("US/Carter")
}
fn brezhnev() -> PrincipalKeys {
    keys("USSR/Brezhnev")
}
fn gromyko() -> PrincipalKeys {
    keys("USSR/Gromyko")
}

fn principal_block(keys: &PrincipalKeys) -> String {
    format!("\n{}", keys.network_block())
}

/// US (Carter) and USSR (Brezhnev, Gromyko), each party with a data folder.
fn network() -> Net {
    network_with(
        &principal_block(&carter()),
        &format!(
            "{}{}",
            principal_block(&brezhnev()),
            principal_block(&gromyko())
        ),
    )
}

/// `reader` mirrors `writer`'s log (and cosigns it).
async fn mirror(reader: &Node<MemoryStore>, writer: &Node<MemoryStore>) {
    reader
        .mirror(&LocalPeer::new(writer, reader.party()))
        .await
        .unwrap();
}

// ----- the fixture -------------------------------------------------------------------------

fn fixture(name: &str) -> String {
    std::fs::read_to_string(Path::new(ROOT).join("test_data/letters").join(name)).unwrap()
}

/// The letter of 4 March 1977 as a draft, with its two recorded amendments.
fn carter_draft() -> Draft {
    let mut draft = Draft::new(
        id("US/Carter"),
        id("USSR/Brezhnev"),
        "1977-03-04",
        "Strategic arms limitation",
        &fixture("carter-1977-03-04.md"),
        vec![Reference {
            description: "your letter of February 25th".into(),
            party: None,
            index: None,
        }],
    )
    .unwrap();
    let amendments: Vec<Amendment> =
        serde_json::from_str(&fixture("carter-1977-03-04.amendments.json")).unwrap();
    for a in amendments {
        draft.amend(a).unwrap();
    }
    draft
}

/// Brezhnev's reply, referring to Carter's letter at `index` of the US log.
fn reply_draft(index: u64) -> Draft {
    Draft::new(
        id("USSR/Brezhnev"),
        id("US/Carter"),
        "1977-03-15",
        "Reply",
        "Dear Mr. President,\n\nI have received your letter of March 4th and read it closely.",
        vec![Reference {
            description: "your letter of March 4th".into(),
            party: Some("US".into()),
            index: Some(index),
        }],
    )
    .unwrap()
}

/// A US node and a USSR node; Carter's letter sent at T0 (US entry 0); the USSR node
/// mirrors it at T0 + 5 s and cosigns; the US node mirrors back.
struct Sent {
    net: Net,
    clock: ManualClock,
    us: Node<MemoryStore>,
    ussr: Node<MemoryStore>,
    sent: letters::Sent,
}

async fn sent() -> Sent {
    let net = network();
    let clock = ManualClock::new(T0 * 1000);
    let us = open(&net.us, &clock).await;
    let ussr = open(&net.ussr, &clock).await;
    let sent = letters::send(&us, &carter_draft(), &carter(), &mut TestRng::new("carter"))
        .await
        .unwrap();
    clock.advance_ms(5_000);
    mirror(&ussr, &us).await;
    Sent {
        net,
        clock,
        us,
        ussr,
        sent,
    }
}

fn place(origin: &str, index: u64) -> Place {
    Place {
        origin: origin.into(),
        index,
    }
}

/// The body of entry `index` of `origin` on `node`.
async fn body_of(node: &Node<MemoryStore>, origin: &str, index: u64) -> Vec<u8> {
    let bytes = node.entries(origin, index, index + 1).await.unwrap();
    Entry::decode(&bytes[0]).unwrap().body
}

// ----- round trip --------------------------------------------------------------------------

#[tokio::test]
async fn a_letter_and_its_reply_round_trip_with_known_keys() {
    let s = sent().await;
    assert_eq!((s.sent.origin.as_str(), s.sent.index), (US, 0));

    // Brezhnev reads it on his node: the content, the signature, the receipt, the time
    // his node received it.
    let opened = letters::read(&s.ussr, &brezhnev(), US, 0).await.unwrap();
    assert_eq!(opened.letter.content, carter_draft());
    assert_eq!(opened.letter.letter_id, s.sent.letter_id);
    assert_eq!(opened.letter.to_sealing_key, brezhnev().sealing_public());
    assert_eq!(opened.author_signing_key, carter().signing_public());
    assert_eq!(opened.verified.size, 1);
    assert_eq!(
        opened.verified.cosigned_by,
        vec![(USSR.to_owned(), (T0 + 5) as u64)]
    );
    assert_eq!(opened.received_by_reader_party, Some((T0 + 5) as u64));
    assert!(opened.warnings.is_empty(), "{:?}", opened.warnings);
    assert_eq!(opened.meta.size, s.sent.size);

    // His inbox lists it, and with his keys says it opens.
    let inbox = letters::inbox(&s.ussr, &id("USSR/Brezhnev"), Some(&brezhnev()))
        .await
        .unwrap();
    assert_eq!(inbox.len(), 1);
    assert_eq!(
        inbox[0].opens,
        Some(Ok((
            "1977-03-04".to_owned(),
            "Strategic arms limitation".to_owned()
        )))
    );
    assert!(
        letters::inbox(&s.ussr, &id("USSR/Gromyko"), None)
            .await
            .unwrap()
            .is_empty()
    );

    // The reply, in the USSR log, refers to Carter's letter; Carter reads it on his node.
    s.clock.advance_ms(60_000);
    let reply = letters::send(
        &s.ussr,
        &reply_draft(0),
        &brezhnev(),
        &mut TestRng::new("reply"),
    )
    .await
    .unwrap();
    assert_eq!((reply.origin.as_str(), reply.index), (USSR, 0));
    s.clock.advance_ms(5_000);
    mirror(&s.us, &s.ussr).await;
    let opened = letters::read(&s.us, &carter(), USSR, 0).await.unwrap();
    assert_eq!(opened.letter.content, reply_draft(0));
    assert_eq!(opened.received_by_reader_party, Some((T0 + 70) as u64));
    let md = edition::render(
        &opened.letter.content,
        Some(&opened.source()),
        true,
        EditionFormat::Markdown,
    );
    assert!(
        md.contains("your letter of March 4th[^2] and")
            && md.contains("[^2]: See entry 0 of the log detente/carter_1977/US."),
        "{md}"
    );
}

#[tokio::test]
async fn the_metadata_reveals_no_content() {
    let s = sent().await;
    let listed = letters::list(&s.ussr).await.unwrap();
    assert_eq!(listed.len(), 1);
    let meta = &listed[0];
    assert_eq!(
        (
            meta.origin.as_str(),
            meta.index,
            meta.sender.as_deref(),
            meta.addressee.as_deref()
        ),
        (US, 0, Some("US/Carter"), Some("USSR/Brezhnev"))
    );
    assert_eq!(meta.appended_at_ms, T0 * 1000);
    assert_eq!(meta.cosigned_by.len(), 1);
    let json = serde_json::to_string(&listed).unwrap();
    // Neither the metadata nor the stored entry holds any of the letter's words.
    let entry = s.ussr.entries(US, 0, 1).await.unwrap().remove(0);
    for words in [
        "Strategic",
        "Vladivostok",
        "predisposed",
        "1977-03-04",
        "February",
    ] {
        assert!(!json.contains(words), "{json}");
        assert!(
            !entry.windows(words.len()).any(|w| w == words.as_bytes()),
            "the entry holds `{words}`"
        );
    }
}

// ----- only the addressee -------------------------------------------------------------------

#[tokio::test]
async fn only_the_addressee_can_read_it() {
    let s = sent().await;
    for (reader, who) in [(carter(), "US/Carter"), (gromyko(), "USSR/Gromyko")] {
        let e = letters::read(&s.ussr, &reader, US, 0).await.unwrap_err();
        assert!(
            matches!(&e, LetterError::NotAddressedToReader { addressee, reader, .. }
                if addressee == "USSR/Brezhnev" && reader == who),
            "{e}"
        );
        assert_eq!(
            e.to_string(),
            format!(
                "entry 0 of {US} is addressed to USSR/Brezhnev, not to {who}; only its addressee's key opens it"
            )
        );
    }
    // A node operator holds the node's key, not Brezhnev's: keys made up for him are not
    // the network file's, and even past that check they do not open the letter.
    let impostor = PrincipalKeys::from_secrets(
        id("USSR/Brezhnev"),
        s.net.ussr.key.to_bytes(),
        s.net.ussr.key.to_bytes(),
    );
    let e = letters::read(&s.ussr, &impostor, US, 0).await.unwrap_err();
    assert!(matches!(e, LetterError::KeyNotInNetwork { .. }), "{e}");
    let body = body_of(&s.ussr, US, 0).await;
    let e =
        letters::open_body(s.ussr.network(), &impostor, &place(US, 0), "US", &body).unwrap_err();
    assert!(matches!(e, LetterError::CannotOpen { .. }), "{e}");
}

// ----- tampering ----------------------------------------------------------------------------

/// What reading a changed envelope gives, by every reader that could try.
fn refusal(node: &Node<MemoryStore>, body: &[u8], reader: &PrincipalKeys) -> LetterError {
    letters::open_body(node.network(), reader, &place(US, 0), "US", body)
        .map(|(_, l, _)| l)
        .expect_err("a changed envelope must be refused")
}

#[tokio::test]
async fn every_changed_byte_of_the_envelope_is_refused() {
    let s = sent().await;
    let good = body_of(&s.ussr, US, 0).await;
    let parsed = Envelope::decode(&good).unwrap();
    assert_eq!(Envelope::decode(&parsed.encode()).unwrap(), parsed);
    assert_eq!(parsed.encode(), good);
    // magic 16, version 1, sender 1 + 9, addressee 1 + 13, enc 32, length 4.
    let header = 16 + 1 + 10 + 14 + 32;
    let ciphertext_at = header + 4;
    assert_eq!(good.len(), ciphertext_at + parsed.ciphertext.len());

    // Every byte of the header and the length, and every 97th byte of the ciphertext and
    // the whole tag: one flipped bit each.
    let positions: Vec<usize> = (0..ciphertext_at)
        .chain((ciphertext_at..good.len()).step_by(97))
        .chain(good.len() - 16..good.len())
        .collect();
    for at in positions {
        let mut changed = good.clone();
        changed[at] ^= 0x01;
        let e = refusal(&s.ussr, &changed, &brezhnev());
        let field = match at {
            0..16 => "magic",
            16 => "version",
            17..27 => "sender",
            27..41 => "addressee",
            41..73 => "enc",
            73..77 => "length",
            _ => "ciphertext",
        };
        let expected = match field {
            "magic" | "version" | "length" => matches!(e, LetterError::Malformed { .. }),
            // A changed name is malformed, or another party's, or another principal's.
            "sender" => matches!(
                e,
                LetterError::Malformed { .. }
                    | LetterError::SenderNotOfLog { .. }
                    | LetterError::UnknownPrincipal { .. }
            ),
            "addressee" => matches!(
                e,
                LetterError::Malformed { .. } | LetterError::NotAddressedToReader { .. }
            ),
            _ => matches!(e, LetterError::CannotOpen { .. }),
        };
        assert!(expected, "byte {at} ({field}): {e}");
    }
    // A byte more, or one fewer.
    let mut longer = good.clone();
    longer.push(0);
    assert!(matches!(
        refusal(&s.ussr, &longer, &brezhnev()),
        LetterError::Malformed { .. }
    ));
    assert!(matches!(
        refusal(&s.ussr, &good[..good.len() - 1], &brezhnev()),
        LetterError::Malformed { .. }
    ));
}

#[tokio::test]
async fn a_changed_sender_or_addressee_does_not_open() {
    let s = sent().await;
    let good = Envelope::decode(&body_of(&s.ussr, US, 0).await).unwrap();
    // Re-addressed to Gromyko by whoever holds the log: Gromyko cannot open it, and
    // Brezhnev is no longer its addressee.
    let readdressed = Envelope {
        addressee: id("USSR/Gromyko"),
        ..good.clone()
    }
    .encode();
    let e = refusal(&s.ussr, &readdressed, &gromyko());
    assert!(matches!(e, LetterError::CannotOpen { .. }), "{e}");
    let e = refusal(&s.ussr, &readdressed, &brezhnev());
    assert!(matches!(e, LetterError::NotAddressedToReader { .. }), "{e}");
    // A sender of another party in the US log; an unknown US principal.
    let foreign = Envelope {
        sender: id("USSR/Gromyko"),
        ..good.clone()
    }
    .encode();
    let e = refusal(&s.ussr, &foreign, &brezhnev());
    assert_eq!(
        e.to_string(),
        format!(
            "entry 0 of {US}: refused: its envelope names the sender USSR/Gromyko, who does not speak for US, the party whose log holds it"
        )
    );
    let unknown = Envelope {
        sender: id("US/Nixon"),
        ..good
    }
    .encode();
    let e = refusal(&s.ussr, &unknown, &brezhnev());
    assert!(
        matches!(&e, LetterError::UnknownPrincipal { principal } if principal == "US/Nixon"),
        "{e}"
    );

    // Appended as entries by the US node's operator, they are refused on reading too.
    let (index, _) =
        s.us.append_entries(vec![(EntryKind::Letter, readdressed)])
            .await
            .unwrap();
    let e = letters::read(&s.us, &gromyko(), US, index)
        .await
        .unwrap_err();
    assert!(
        e.to_string().starts_with(&format!(
            "entry 1 of {US}: refused: it cannot be opened: it was not sealed to USSR/Gromyko's sealing key by US/Carter's"
        )),
        "{e}"
    );
}

#[tokio::test]
async fn a_letter_sealed_to_another_addressee_is_refused() {
    let s = sent().await;
    // Carter's signed letter to Brezhnev, sealed to Gromyko instead: it opens for Gromyko,
    // but the signed letter names Brezhnev and Brezhnev's key.
    let letter = Letter {
        letter_id: [1; 16],
        to_sealing_key: brezhnev().sealing_public(),
        content: carter_draft(),
    };
    let sealed = envelope::seal_to(
        &letter,
        &carter(),
        US,
        &id("USSR/Gromyko"),
        &gromyko().sealing_public(),
        &mut TestRng::new("readdress"),
    )
    .unwrap();
    let (index, _) =
        s.us.append_entries(vec![(EntryKind::Letter, sealed)])
            .await
            .unwrap();
    let e = letters::read(&s.us, &gromyko(), US, index)
        .await
        .unwrap_err();
    assert_eq!(
        e.to_string(),
        format!(
            "entry 1 of {US}: refused: the letter was re-addressed: the signed letter is to USSR/Brezhnev, the envelope to USSR/Gromyko; the author sealed it to another key than USSR/Gromyko's"
        )
    );
    // Sealed to Brezhnev's key, but naming Gromyko in its envelope.
    let sealed = envelope::seal_to(
        &letter,
        &carter(),
        US,
        &id("USSR/Gromyko"),
        &brezhnev().sealing_public(),
        &mut TestRng::new("misaddressed"),
    )
    .unwrap();
    let e = refusal(&s.us, &sealed, &gromyko());
    assert!(matches!(e, LetterError::CannotOpen { .. }), "{e}");
}

#[tokio::test]
async fn a_letter_in_the_log_of_another_party_is_refused() {
    let s = sent().await;
    // The USSR node copies Carter's envelope into its own log.
    let copied = body_of(&s.ussr, US, 0).await;
    let (index, _) = s
        .ussr
        .append_entries(vec![(EntryKind::Letter, copied)])
        .await
        .unwrap();
    let e = letters::read(&s.ussr, &brezhnev(), USSR, index)
        .await
        .unwrap_err();
    assert!(
        matches!(&e, LetterError::SenderNotOfLog { sender, log_party, .. }
            if sender == "US/Carter" && log_party == "USSR"),
        "{e}"
    );
}

#[tokio::test]
async fn a_signature_by_a_key_not_in_the_network_file_is_refused() {
    let s = sent().await;
    // Someone with Carter's sealing key but another signing key.
    let forger = PrincipalKeys::from_secrets(id("US/Carter"), [0x66; 32], {
        let secret: [u8; 32] = Sha256::digest(b"US/Carter sealing").into();
        secret
    });
    assert_eq!(forger.sealing_public(), carter().sealing_public());
    assert_ne!(forger.signing_public(), carter().signing_public());
    // Sending refuses keys that are not the network file's…
    let e = letters::send(&s.us, &carter_draft(), &forger, &mut TestRng::new("f"))
        .await
        .unwrap_err();
    assert!(matches!(e, LetterError::KeyNotInNetwork { .. }), "{e}");
    // …and a letter made with them anyway is refused by the reader.
    let letter = Letter {
        letter_id: [2; 16],
        to_sealing_key: brezhnev().sealing_public(),
        content: carter_draft(),
    };
    let sealed = envelope::seal(&letter, &forger, US, &mut TestRng::new("forged")).unwrap();
    let (index, _) =
        s.us.append_entries(vec![(EntryKind::Letter, sealed)])
            .await
            .unwrap();
    let e = letters::read(&s.us, &brezhnev(), US, index)
        .await
        .unwrap_err();
    assert_eq!(
        e.to_string(),
        format!(
            "entry 1 of {US}: refused: the signature is not by US/Carter's signing key in the network file"
        )
    );
    // A principal the network file does not know at all.
    let nixon = keys("US/Nixon");
    let letter = Letter {
        letter_id: [3; 16],
        to_sealing_key: brezhnev().sealing_public(),
        content: Draft {
            from: id("US/Nixon"),
            ..carter_draft()
        },
    };
    let sealed = envelope::seal(&letter, &nixon, US, &mut TestRng::new("nixon")).unwrap();
    let (index, _) =
        s.us.append_entries(vec![(EntryKind::Letter, sealed)])
            .await
            .unwrap();
    let e = letters::read(&s.us, &brezhnev(), US, index)
        .await
        .unwrap_err();
    assert_eq!(
        e.to_string(),
        "`US/Nixon` is not a principal in the network file (no [[party.principal]] with that name under its party)"
    );
}

// ----- replays ------------------------------------------------------------------------------

#[tokio::test]
async fn a_replayed_letter_is_refused_naming_the_first() {
    let s = sent().await;
    // The same envelope again, later in the same log.
    s.clock.advance_ms(1_000);
    let again = body_of(&s.us, US, 0).await;
    let (index, _) =
        s.us.append_entries(vec![(EntryKind::Letter, again)])
            .await
            .unwrap();
    assert_eq!(index, 1);
    mirror(&s.ussr, &s.us).await;
    let e = letters::read(&s.ussr, &brezhnev(), US, 1)
        .await
        .unwrap_err();
    assert_eq!(
        e.to_string(),
        format!(
            "entry 1 of {US}: refused: a replay: the same letter (same letter id) is entry 0 of {US}, which came first"
        )
    );
    // The first still reads.
    letters::read(&s.ussr, &brezhnev(), US, 0).await.unwrap();

    // The same letter id in another log: Gromyko writes to Brezhnev with Carter's id.
    s.clock.advance_ms(1_000);
    let letter = Letter {
        letter_id: s.sent.letter_id,
        to_sealing_key: brezhnev().sealing_public(),
        content: Draft {
            from: id("USSR/Gromyko"),
            ..carter_draft()
        },
    };
    let sealed = envelope::seal(&letter, &gromyko(), USSR, &mut TestRng::new("gromyko")).unwrap();
    let (index, _) = s
        .ussr
        .append_entries(vec![(EntryKind::Letter, sealed)])
        .await
        .unwrap();
    let e = letters::read(&s.ussr, &brezhnev(), USSR, index)
        .await
        .unwrap_err();
    assert!(
        matches!(&e, LetterError::Replay { first, .. } if *first == place(US, 0)),
        "{e}"
    );

    // The inbox says the same, without refusing the first.
    let inbox = letters::inbox(&s.ussr, &id("USSR/Brezhnev"), Some(&brezhnev()))
        .await
        .unwrap();
    let verdicts: Vec<(String, u64, bool)> = inbox
        .iter()
        .map(|i| {
            (
                i.meta.origin.clone(),
                i.meta.index,
                matches!(i.opens, Some(Ok(_))),
            )
        })
        .collect();
    assert_eq!(
        verdicts,
        vec![
            (US.to_owned(), 0, true),
            (US.to_owned(), 1, false),
            (USSR.to_owned(), 0, false)
        ]
    );
}

// ----- the annotated edition ----------------------------------------------------------------

#[tokio::test]
async fn the_annotated_edition_of_the_1977_letter_is_golden() {
    let s = sent().await;
    let opened = letters::read(&s.ussr, &brezhnev(), US, 0).await.unwrap();
    let md = edition::render(
        &opened.letter.content,
        Some(&opened.source()),
        true,
        EditionFormat::Markdown,
    );
    // The two amendments recorded by the FRUS edition, as it words them.
    assert!(md.contains("on which both of us seem predisposed to agree.[^2] We should exploit"));
    assert!(md.contains("\n\nI hope you will[^3] not predicate"));
    assert!(md.contains(
        "[^2]: The end of this sentence originally read “substantial consensus already exists.” The author struck through these words and substituted “both of us seem predisposed to agree.”\n"
    ));
    assert!(md.contains(
        "[^3]: This sentence originally began “Please do.” The author struck through these words and substituted “I hope you will.”\n"
    ));
    let html = edition::render(
        &opened.letter.content,
        Some(&opened.source()),
        true,
        EditionFormat::Html,
    );
    assert!(html.contains("predisposed to agree.<sup id=\"fnref-2\">"));
    assert!(html.contains("<li id=\"fn-3\">This sentence originally began “Please do.”"));

    let path = Path::new(ROOT).join("test_data/letters/carter-1977-03-04.annotated.md");
    if std::env::var_os("UPDATE_EXPECT").is_some_and(|v| v == "1") {
        std::fs::write(&path, &md).unwrap();
        return;
    }
    let expected = std::fs::read_to_string(&path).unwrap_or_else(|e| {
        panic!(
            "cannot read {} ({e}); run with UPDATE_EXPECT=1 to create it",
            path.display()
        )
    });
    assert!(
        expected == md,
        "the edition differs from {}; if the change is intended, run \
         UPDATE_EXPECT=1 cargo test -p detente-node --test letters and review the diff\n--- actual\n{md}",
        path.display()
    );
}

// ----- key files and drafts -----------------------------------------------------------------

#[test]
fn key_files_round_trip_and_refuse_a_wrong_passphrase() {
    let keys = carter();
    let plain = keys.to_key_file(None).unwrap();
    let file = KeyFile::parse(&plain, "carter.key").unwrap();
    assert!(!file.is_protected());
    let back = file.unlock(None).unwrap();
    assert_eq!(back.public_keys(), keys.public_keys());

    // Small Argon2id parameters keep the test fast; the format is the same.
    let protection = Protection {
        passphrase: b"correct horse",
        params: KdfParams {
            memory_kib: 256,
            iterations: 1,
            parallelism: 1,
        },
        salt: [5; 16],
        nonce: [6; 12],
    };
    let protected = keys.to_key_file(Some(protection)).unwrap();
    assert!(!protected.contains("secrets ="), "{protected}");
    let file = KeyFile::parse(&protected, "carter.key").unwrap();
    assert!(file.is_protected());
    assert_eq!(file.id(), &id("US/Carter"));
    assert_eq!(file.signing_public(), keys.signing_public());
    let back = file.unlock(Some(b"correct horse")).unwrap();
    assert_eq!(back.public_keys(), keys.public_keys());
    for (passphrase, message) in [
        (
            None,
            "key file `carter.key`: it is protected by a passphrase; give it with --passphrase-env VAR",
        ),
        (
            Some(&b"wrong horse"[..]),
            "key file `carter.key`: the passphrase is wrong, or the file was changed (its secrets do not open)",
        ),
    ] {
        assert_eq!(file.unlock(passphrase).unwrap_err().to_string(), message);
    }
    // Swapping in another principal's public key breaks the encryption's associated data.
    let swapped = protected.replace(
        &encode_key(&keys.sealing_public()),
        &encode_key(&brezhnev().sealing_public()),
    );
    assert!(
        KeyFile::parse(&swapped, "x")
            .unwrap()
            .unlock(Some(b"correct horse"))
            .is_err()
    );
    // Hostile parameters are refused before any work.
    let greedy = protected.replace("memory_kib = 256", "memory_kib = 4000000");
    let e = KeyFile::parse(&greedy, "x")
        .unwrap()
        .unlock(Some(b"correct horse"))
        .unwrap_err();
    assert!(e.to_string().contains("exceed the limits"), "{e}");
    // And the plain file with its public key swapped is caught too.
    let swapped = plain.replace(
        &encode_key(&keys.signing_public()),
        &encode_key(&brezhnev().signing_public()),
    );
    assert!(
        KeyFile::parse(&swapped, "x")
            .unwrap()
            .unlock(None)
            .unwrap_err()
            .to_string()
            .contains("do not give the public keys")
    );
    assert!(KeyFile::parse("format = 1", "x").is_err());
}

#[test]
fn drafts_round_trip_as_json_and_refuse_what_is_wrong() {
    let draft = carter_draft();
    let text = draft.to_json();
    assert_eq!(Draft::from_json(&text, "d.json").unwrap(), draft);
    let unknown = text.replacen("\"subject\"", "\"subjekt\"", 1);
    assert!(Draft::from_json(&unknown, "d.json").is_err());
    let bad_date = text.replace("1977-03-04", "1977-02-30");
    assert_eq!(
        Draft::from_json(&bad_date, "d.json")
            .unwrap_err()
            .to_string(),
        "`d.json`: date `1977-02-30` is not a date written YYYY-MM-DD"
    );
    let moved = text.replace(
        "both of us seem predisposed to agree\"",
        "both of us agree\"",
    );
    assert_eq!(
        Draft::from_json(&moved, "d.json").unwrap_err().to_string(),
        "`d.json`: amendment 1: the replacement `both of us agree` does not occur in the body"
    );
    // A letter's canonical bytes round-trip.
    let letter = Letter {
        letter_id: [9; 16],
        to_sealing_key: brezhnev().sealing_public(),
        content: draft,
    };
    assert_eq!(Letter::decode(&letter.encode().unwrap()).unwrap(), letter);
}
