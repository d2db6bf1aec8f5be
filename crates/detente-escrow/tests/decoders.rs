#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]
//! Every decoder bounds its input, never panics, and says what is wrong and where; every
//! valid record survives encode -> decode unchanged.

mod common;

use detente_escrow::commit::{Commitment, Item};
use detente_escrow::inspection::{FoundItem, InspectionReport};
use detente_escrow::limit::{LimitContext, LimitProof, Opening, prove_at_most};
use detente_escrow::randomness::{SeedCommitment, SeedReveal};
use detente_escrow::reveal::Reveal;
use detente_escrow::{FormatError, Problem};
use proptest::prelude::*;
use rand08::SeedableRng as _;

/// Runs every decoder on `bytes`; none may panic. Returns the errors' messages.
fn decode_all(bytes: &[u8]) -> Vec<String> {
    let mut out = Vec::new();
    let mut note = |r: Result<(), FormatError>| {
        if let Err(e) = r {
            out.push(e.to_string());
        }
    };
    note(Item::decode(bytes).map(drop));
    note(Commitment::decode(bytes).map(drop));
    note(Reveal::decode(bytes).map(drop));
    note(SeedCommitment::decode(bytes).map(drop));
    note(SeedReveal::decode(bytes).map(drop));
    note(InspectionReport::decode(bytes).map(drop));
    note(LimitProof::decode(bytes).map(drop));
    note(Opening::decode(bytes).map(drop));
    out
}

/// One valid encoding of every record (made once).
fn samples() -> Vec<Vec<u8>> {
    static SAMPLES: std::sync::OnceLock<Vec<Vec<u8>>> = std::sync::OnceLock::new();
    SAMPLES.get_or_init(make_samples).clone()
}

fn make_samples() -> Vec<Vec<u8>> {
    let e = common::escrow();
    let (proof, opening) = prove_at_most(
        &LimitContext::new("USSR", "sdv", "1979-06-18").unwrap(),
        5,
        10,
        &mut rand08::rngs::StdRng::from_seed([1; 32]),
    )
    .unwrap();
    vec![
        e.items()[0].encode().unwrap(),
        e.commitment("USSR", "1979-06-18", true)
            .unwrap()
            .encode()
            .unwrap(),
        e.commitment("USSR", "1979-06-18", false)
            .unwrap()
            .encode()
            .unwrap(),
        e.reveal("USSR", "1979-06-18", "bravo")
            .unwrap()
            .encode()
            .unwrap(),
        SeedCommitment::new("r", "US", &[1; 32])
            .unwrap()
            .encode()
            .unwrap(),
        SeedReveal {
            round: "r".into(),
            party: "US".into(),
            seed: [2; 32],
        }
        .encode()
        .unwrap(),
        InspectionReport {
            inspector: "US".into(),
            inspected: "USSR".into(),
            site: "site-b2".into(),
            date: "1979-09-03".into(),
            found: vec![FoundItem {
                id: Some("b-002".into()),
                category: "icbm_launcher".into(),
                attributes: e.items()[4].attributes.clone(),
            }],
        }
        .encode()
        .unwrap(),
        proof.encode().unwrap(),
        opening.encode().unwrap(),
    ]
}

#[test]
fn each_sample_decodes_as_exactly_its_own_record_and_re_encodes_identically() {
    for s in samples() {
        let errors = decode_all(&s);
        assert_eq!(errors.len(), 7, "{errors:?}");
        if let Ok(r) = Reveal::decode(&s) {
            assert_eq!(r.encode().unwrap(), s);
        }
        if let Ok(c) = Commitment::decode(&s) {
            assert_eq!(c.encode().unwrap(), s);
        }
        if let Ok(r) = InspectionReport::decode(&s) {
            assert_eq!(r.encode().unwrap(), s);
        }
        if let Ok(r) = LimitProof::decode(&s) {
            assert_eq!(r.encode().unwrap(), s);
        }
        if let Ok(r) = Item::decode(&s) {
            assert_eq!(r.encode().unwrap(), s);
        }
    }
}

#[test]
fn every_truncation_is_refused_with_its_offset() {
    for s in samples() {
        let good = decode_all(&s).len();
        for cut in 0..s.len() {
            let errors = decode_all(&s[..cut]);
            assert_eq!(errors.len(), 8, "cut {cut} of {}", s.len());
        }
        let mut longer = s.clone();
        longer.push(0);
        assert_eq!(decode_all(&longer).len(), 8, "trailing byte accepted");
        assert_eq!(good, 7);
    }
}

#[test]
fn errors_name_the_record_field_and_byte() {
    let mut c = common::escrow()
        .commitment("USSR", "1979-06-18", false)
        .unwrap()
        .encode()
        .unwrap();
    // The date starts after the 28-byte tag and the 2 + 4 byte party.
    c[34 + 5] = b'9';
    let e = Commitment::decode(&c).unwrap_err();
    assert_eq!(
        (e.record, e.field, e.offset),
        ("commitment", "as_of", Some(34))
    );
    assert!(
        e.to_string().starts_with("commitment byte 34: as_of:"),
        "{e}"
    );
    let e = Reveal::decode(b"detente-escrow/reveal/v2").unwrap_err();
    assert!(matches!(e.problem, Problem::BadTag { .. }), "{e}");
    let huge = vec![0u8; 300 << 20];
    let e = Reveal::decode(&huge).unwrap_err();
    assert!(matches!(e.problem, Problem::TooLarge { .. }), "{e}");
    // A count that promises more items than the bytes can hold is refused before any
    // allocation.
    let mut r = common::escrow()
        .reveal("USSR", "1979-06-18", "alpha")
        .unwrap()
        .encode()
        .unwrap();
    let at = 24 + 6 + 10 + 32 + 8 + 7;
    assert_eq!(&r[at..at + 4], &[0, 0, 0, 3]);
    r[at..at + 4].copy_from_slice(&u32::MAX.to_be_bytes());
    let e = Reveal::decode(&r).unwrap_err();
    assert_eq!((e.field, e.offset), ("items", Some(at)), "{e}");
}

const TAGS: [&str; 7] = [
    detente_escrow::commit::COMMITMENT_TAG,
    detente_escrow::reveal::REVEAL_TAG,
    detente_escrow::randomness::SEED_COMMITMENT_TAG,
    detente_escrow::randomness::SEED_REVEAL_TAG,
    detente_escrow::inspection::INSPECTION_REPORT_TAG,
    detente_escrow::limit::LIMIT_PROOF_TAG,
    detente_escrow::limit::OPENING_TAG,
];

proptest! {
    #![proptest_config(ProptestConfig { cases: 2000, ..ProptestConfig::default() })]

    #[test]
    fn decoders_never_panic_on_arbitrary_bytes(bytes in prop::collection::vec(any::<u8>(), 0..600)) {
        decode_all(&bytes);
    }

    #[test]
    fn decoders_never_panic_on_arbitrary_bytes_after_a_valid_tag(
        tag in prop::sample::select(TAGS.to_vec()),
        tail in prop::collection::vec(any::<u8>(), 0..600),
    ) {
        let mut bytes = tag.as_bytes().to_vec();
        bytes.extend_from_slice(&tail);
        decode_all(&bytes);
    }

    #[test]
    fn decoders_never_panic_on_mutated_records(
        which in 0usize..9,
        edits in prop::collection::vec((any::<prop::sample::Index>(), any::<u8>()), 1..6),
    ) {
        let mut s = samples().swap_remove(which);
        for (i, b) in edits {
            let at = i.index(s.len());
            s[at] = b;
        }
        decode_all(&s);
    }
}
