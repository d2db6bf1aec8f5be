#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]
//! Property tests: tampering with any single bit of what a receipt covers is caught,
//! encodings round-trip, and no parser panics on arbitrary input.

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use detente_ledger::checkpoint::{
    Checkpoint, Cosignature, cosign, sign_checkpoint, with_cosignatures,
};
use detente_ledger::entry::{Entry, EntryKind};
use detente_ledger::merkle::Tree;
use detente_ledger::note::{Note, Signer, Verifier};
use detente_ledger::receipt::{Receipt, Verified, verify_receipt};
use proptest::prelude::*;

const US: &str = "detente/t/us";
const RU: &str = "detente/t/ru";

struct Fixture {
    log: Verifier,
    cosigner: Verifier,
    entry: Vec<u8>,
    receipt: Receipt,
}

impl Fixture {
    fn new(n: u64, index: u64, body: Vec<u8>) -> Fixture {
        let us = Signer::from_seed(US, [1; 32]).unwrap();
        let ru = Signer::from_seed(RU, [2; 32]).unwrap();
        let entries: Vec<Entry> = (0..n)
            .map(|i| {
                let b = if i == index {
                    body.clone()
                } else {
                    vec![i as u8; 5]
                };
                Entry::new(US, i, 1_000 * i as i64, EntryKind::Letter, b).unwrap()
            })
            .collect();
        let tree = Tree::from_leaf_hashes(entries.iter().map(Entry::leaf_hash).collect());
        let cp = Checkpoint::new(US, n, tree.root());
        let signed = sign_checkpoint(&cp, &us).unwrap();
        let note = with_cosignatures(&signed, &[cosign(&cp, &ru, 1_700_000_000)]).unwrap();
        Fixture {
            log: us.verifier(),
            cosigner: ru.cosigner_verifier(),
            entry: entries[index as usize].encode(),
            receipt: Receipt {
                index,
                proof: tree.inclusion_proof(index, n).unwrap(),
                checkpoint_note: note,
                extra: None,
            },
        }
    }

    fn verify(&self, receipt: &Receipt, entry: &[u8]) -> Result<Verified, String> {
        verify_receipt(
            receipt,
            entry,
            &self.log,
            std::slice::from_ref(&self.cosigner),
        )
        .map_err(|e| e.to_string())
    }

    fn good(&self) -> Verified {
        self.verify(&self.receipt, &self.entry).unwrap()
    }

    /// The receipt with its note's `sig`-th signature bytes changed by `f`.
    fn with_signature_bytes(&self, sig: usize, f: impl FnOnce(&mut Vec<u8>)) -> Receipt {
        let mut note = Note::parse(&self.receipt.checkpoint_note).unwrap();
        f(&mut note.signatures[sig].signature);
        Receipt {
            checkpoint_note: note.format(),
            ..self.receipt.clone()
        }
    }
}

fn flip(bytes: &mut [u8], bit: usize) {
    bytes[bit / 8] ^= 1 << (bit % 8);
}

#[test]
fn every_bit_of_the_entry_matters() {
    let f = Fixture::new(13, 9, br#"{"count":3}"#.to_vec());
    let good = f.good();
    assert_eq!(good.cosigned_by, vec![(RU.to_owned(), 1_700_000_000)]);
    for bit in 0..f.entry.len() * 8 {
        let mut e = f.entry.clone();
        flip(&mut e, bit);
        assert!(f.verify(&f.receipt, &e).is_err(), "entry bit {bit} flipped");
    }
}

#[test]
fn every_bit_of_every_proof_hash_matters() {
    let f = Fixture::new(13, 9, b"x".to_vec());
    assert_eq!(f.receipt.proof.len(), 4);
    for h in 0..f.receipt.proof.len() {
        for bit in 0..256 {
            let mut r = f.receipt.clone();
            flip(&mut r.proof[h], bit);
            assert!(
                f.verify(&r, &f.entry).is_err(),
                "proof[{h}] bit {bit} flipped"
            );
        }
    }
}

#[test]
fn every_bit_of_the_checkpoint_body_matters() {
    let f = Fixture::new(13, 9, b"x".to_vec());
    let note = f.receipt.checkpoint_note.as_bytes();
    let body_len = note.windows(2).position(|w| w == b"\n\n").unwrap() + 1;
    for bit in 0..body_len * 8 {
        let mut n = note.to_vec();
        flip(&mut n, bit);
        // Bytes that are no longer UTF-8 cannot even be a note.
        let Ok(text) = String::from_utf8(n) else {
            continue;
        };
        let r = Receipt {
            checkpoint_note: text,
            ..f.receipt.clone()
        };
        assert!(
            f.verify(&r, &f.entry).is_err(),
            "checkpoint bit {bit} flipped"
        );
    }
}

#[test]
fn every_bit_of_the_log_signature_matters() {
    let f = Fixture::new(13, 9, b"x".to_vec());
    for bit in 0..64 * 8 {
        let r = f.with_signature_bytes(0, |s| flip(s, bit));
        assert!(
            f.verify(&r, &f.entry).is_err(),
            "log signature bit {bit} flipped"
        );
    }
}

#[test]
fn every_bit_of_the_cosignature_matters() {
    let f = Fixture::new(13, 9, b"x".to_vec());
    // 8 timestamp bytes and 64 signature bytes: a known cosigner's bad cosignature
    // rejects the receipt.
    for bit in 0..72 * 8 {
        let r = f.with_signature_bytes(1, |s| flip(s, bit));
        assert!(
            f.verify(&r, &f.entry).is_err(),
            "cosignature bit {bit} flipped"
        );
    }
    // A flipped key id bit makes the line a signature by an unknown key, which
    // signed-note says to ignore: the receipt then verifies without that cosigner.
    for bit in 0..32 {
        let mut note = Note::parse(&f.receipt.checkpoint_note).unwrap();
        flip(&mut note.signatures[1].key_id, bit);
        let r = Receipt {
            checkpoint_note: note.format(),
            ..f.receipt.clone()
        };
        let v = f.verify(&r, &f.entry).unwrap();
        assert!(
            v.cosigned_by.is_empty(),
            "cosignature key id bit {bit} flipped"
        );
    }
}

#[test]
fn every_bit_of_the_receipt_text_matters() {
    let f = Fixture::new(6, 5, b"x".to_vec());
    let good = f.good();
    let text = f.receipt.format();
    for bit in 0..text.len() * 8 {
        let mut t = text.clone().into_bytes();
        flip(&mut t, bit);
        let Ok(t) = String::from_utf8(t) else {
            continue;
        };
        let Ok(r) = Receipt::parse(&t) else { continue };
        match f.verify(&r, &f.entry) {
            Err(_) => {}
            // Only a flip in an unknown-to-the-verifier part may leave it valid, and
            // then the result must say less (a cosigner dropped), never something else.
            Ok(v) => {
                assert_eq!(
                    (&v.origin, v.index, v.size, v.root),
                    (&good.origin, good.index, good.size, good.root),
                    "bit {bit}"
                );
                assert!(v.cosigned_by.is_empty(), "receipt text bit {bit} flipped");
            }
        }
    }
}

fn origin() -> impl Strategy<Value = String> {
    "[a-z0-9][a-z0-9./_-]{0,40}"
}

fn entry() -> impl Strategy<Value = Entry> {
    (
        origin(),
        any::<u64>(),
        any::<i64>(),
        prop_oneof![Just(EntryKind::Fact), Just(EntryKind::Letter)],
        proptest::collection::vec(any::<u8>(), 0..600),
    )
        .prop_map(|(origin, index, t, kind, body)| {
            Entry::new(&origin, index, t, kind, body).unwrap()
        })
}

/// Strings made mostly of the characters the note/receipt grammars care about, so that
/// random inputs get past the first checks.
fn notey_string() -> impl Strategy<Value = String> {
    proptest::collection::vec(
        prop_oneof![
            Just("\n".to_owned()),
            Just("\n\n".to_owned()),
            Just("— ".to_owned()),
            Just(" ".to_owned()),
            Just("index ".to_owned()),
            Just("extra ".to_owned()),
            Just("c2sp.org/tlog-proof@v1\n".to_owned()),
            Just("AAAA".to_owned()),
            Just("=".to_owned()),
            Just("+".to_owned()),
            Just("0".to_owned()),
            Just("12".to_owned()),
            "[a-zA-Z0-9/+=]{1,60}",
            ".{0,4}",
        ],
        0..40,
    )
    .prop_map(|parts| parts.concat())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn entry_round_trips(e in entry()) {
        let bytes = e.try_encode().unwrap();
        prop_assert_eq!(bytes.len(), e.encoded_len());
        prop_assert_eq!(Entry::decode(&bytes).unwrap(), e);
    }

    #[test]
    fn entry_decode_never_panics(bytes in proptest::collection::vec(any::<u8>(), 0..400)) {
        let _ = Entry::decode(&bytes);
        // And with a valid header, so the later fields get exercised too.
        let mut with_header = b"detente-entry\x01\x01".to_vec();
        with_header.extend_from_slice(&bytes);
        let _ = Entry::decode(&with_header);
    }

    #[test]
    fn entry_any_single_bit_flip_changes_or_breaks_it(e in entry(), bit_seed in any::<usize>()) {
        let bytes = e.encode();
        let mut flipped = bytes.clone();
        flip(&mut flipped, bit_seed % (bytes.len() * 8));
        match Entry::decode(&flipped) {
            Err(_) => {}
            Ok(d) => prop_assert_ne!(d, e),
        }
    }

    #[test]
    fn receipt_rejects_a_random_entry_bit_flip(body in proptest::collection::vec(any::<u8>(), 0..300), n in 1u64..40, i_seed in any::<u64>(), bit_seed in any::<usize>()) {
        let index = i_seed % n;
        let f = Fixture::new(n, index, body);
        f.good();
        let mut e = f.entry.clone();
        let bits = e.len() * 8;
        flip(&mut e, bit_seed % bits);
        prop_assert!(f.verify(&f.receipt, &e).is_err());
    }

    #[test]
    fn note_parse_never_panics(s in ".{0,300}", t in notey_string()) {
        let _ = Note::parse(&s);
        if let Ok(n) = Note::parse(&t) {
            // What parses formats back to itself.
            prop_assert_eq!(Note::parse(&n.format()).unwrap(), n);
        }
    }

    #[test]
    fn other_parsers_never_panic(s in ".{0,200}", t in notey_string()) {
        for input in [&s, &t] {
            let _ = Receipt::parse(input);
            let _ = Checkpoint::parse_body(input);
            let _ = Verifier::parse_vkey(input);
            let _ = Cosignature::parse_line(input);
        }
    }

    #[test]
    fn checkpoint_body_round_trips(origin in origin(), size in any::<u64>(), root in any::<[u8; 32]>()) {
        let cp = Checkpoint::new(&origin, size, root);
        prop_assert_eq!(Checkpoint::parse_body(&cp.body()).unwrap(), cp);
    }

    #[test]
    fn receipt_round_trips(index in any::<u64>(), proof in proptest::collection::vec(any::<[u8; 32]>(), 0..64), extra in proptest::option::of(proptest::collection::vec(any::<u8>(), 0..100))) {
        let r = Receipt {
            index,
            proof,
            checkpoint_note: format!("{US}\n1\n{}\n\n— {US} AAAAAAA=\n", STANDARD.encode([0u8; 32])),
            extra,
        };
        prop_assert_eq!(Receipt::parse(&r.format()).unwrap(), r);
    }
}
