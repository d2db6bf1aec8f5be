#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]
//! How a node uses the crate: append, checkpoint, mirror with consistency checks,
//! cosign, hand out receipts, and catch equivocation.

use detente_ledger::checkpoint::{
    Checkpoint, cosign, cosignatures_by, open_checkpoint, sign_checkpoint, verify_cosignature,
    with_cosignatures,
};
use detente_ledger::entry::{Entry, EntryKind};
use detente_ledger::merkle::{Tree, verify_consistency};
use detente_ledger::note::{Algorithm, Note, NoteError, Signer, sign};
use detente_ledger::receipt::{Receipt, ReceiptError, verify_receipt, verify_receipt_leaf};

const US: &str = "detente/new-start/us";
const RU: &str = "detente/new-start/ru";
const CN: &str = "detente/new-start/cn";

fn signer(name: &str, seed: u8) -> Signer {
    Signer::from_seed(name, [seed; 32]).unwrap()
}

fn entry(origin: &str, i: u64) -> Entry {
    Entry::new(
        origin,
        i,
        1_767_225_600_000 + i as i64,
        if i.is_multiple_of(2) {
            EntryKind::Fact
        } else {
            EntryKind::Letter
        },
        format!("{{\"seq\":{i}}}").into_bytes(),
    )
    .unwrap()
}

struct Log {
    signer: Signer,
    entries: Vec<Entry>,
    tree: Tree,
}

impl Log {
    fn new(signer: Signer) -> Log {
        Log {
            signer,
            entries: Vec::new(),
            tree: Tree::new(),
        }
    }
    fn append(&mut self) {
        let e = entry(self.signer.name(), self.tree.len());
        self.tree.push(e.leaf_hash());
        self.entries.push(e);
    }
    fn checkpoint(&self) -> (Checkpoint, String) {
        let cp = Checkpoint::new(self.signer.name(), self.tree.len(), self.tree.root());
        let note = sign_checkpoint(&cp, &self.signer).unwrap();
        (cp, note)
    }
}

#[test]
fn mirror_checks_consistency_cosigns_and_receipts_verify() {
    let mut us = Log::new(signer(US, 1));
    let ru = signer(RU, 2);
    let cn = signer(CN, 3);
    for _ in 0..5 {
        us.append();
    }
    let (cp5, note5) = us.checkpoint();
    for _ in 0..6 {
        us.append();
    }
    let (cp11, note11) = us.checkpoint();

    // RU mirrors: opens both checkpoints with the US log key and checks consistency.
    let (seen5, _) = open_checkpoint(&note5, &us.signer.verifier()).unwrap();
    let (seen11, _) = open_checkpoint(&note11, &us.signer.verifier()).unwrap();
    assert_eq!((seen5.clone(), seen11.clone()), (cp5, cp11.clone()));
    let proof = us.tree.consistency_proof(5, 11).unwrap();
    verify_consistency(5, 11, &seen5.root, &seen11.root, &proof).unwrap();

    // RU and CN cosign; the node serves the note with both cosignatures.
    let ru_cos = cosign(&seen11, &ru, 1_767_225_700);
    let cn_cos = cosign(&seen11, &cn, 1_767_225_705);
    verify_cosignature(&seen11, &ru_cos, &ru.cosigner_verifier()).unwrap();
    let served = with_cosignatures(&note11, &[ru_cos.clone(), cn_cos]).unwrap();
    // Re-cosigning replaces the older line rather than adding one.
    let ru_later = cosign(&seen11, &ru, 1_767_225_800);
    let served2 = with_cosignatures(&served, &[ru_later]).unwrap();
    let parsed = Note::parse(&served2).unwrap();
    assert_eq!(parsed.signatures.len(), 3);
    let by_ru = cosignatures_by(&parsed, &ru.cosigner_verifier()).unwrap();
    assert_eq!(by_ru.len(), 1);
    assert_eq!(by_ru[0].timestamp, 1_767_225_800);

    // A receipt for every entry verifies; the cosigners reported are the trusted ones.
    for i in 0..11u64 {
        let receipt = Receipt {
            index: i,
            proof: us.tree.inclusion_proof(i, 11).unwrap(),
            checkpoint_note: served.clone(),
            extra: None,
        };
        let receipt = Receipt::parse(&receipt.format()).unwrap();
        let bytes = us.entries[i as usize].encode();
        let v = verify_receipt(
            &receipt,
            &bytes,
            &us.signer.verifier(),
            &[ru.cosigner_verifier(), cn.cosigner_verifier()],
        )
        .unwrap();
        assert_eq!(v.origin, US);
        assert_eq!(v.size, 11);
        assert_eq!(
            v.cosigned_by,
            vec![
                (RU.to_owned(), 1_767_225_700),
                (CN.to_owned(), 1_767_225_705)
            ]
        );
        // Trusting only RU: CN's line is an unknown key and is ignored.
        let only_ru = verify_receipt(
            &receipt,
            &bytes,
            &us.signer.verifier(),
            &[ru.cosigner_verifier()],
        )
        .unwrap();
        assert_eq!(only_ru.cosigned_by, vec![(RU.to_owned(), 1_767_225_700)]);
        // Trusting nobody still proves inclusion.
        let none = verify_receipt(&receipt, &bytes, &us.signer.verifier(), &[]).unwrap();
        assert!(none.cosigned_by.is_empty());
        // The leaf-hash variant agrees.
        let leaf = verify_receipt_leaf(
            &receipt,
            &us.entries[i as usize].leaf_hash(),
            &us.signer.verifier(),
            &[],
        )
        .unwrap();
        assert_eq!(leaf, none);
    }
}

#[test]
fn receipts_fail_for_the_wrong_entry_key_or_cosigner() {
    let mut us = Log::new(signer(US, 1));
    let mut cn_log = Log::new(signer(CN, 3));
    for _ in 0..7 {
        us.append();
        cn_log.append();
    }
    let ru = signer(RU, 2);
    let (cp, note) = us.checkpoint();
    let note = with_cosignatures(&note, &[cosign(&cp, &ru, 100)]).unwrap();
    let receipt = |i: u64| Receipt {
        index: i,
        proof: us.tree.inclusion_proof(i, 7).unwrap(),
        checkpoint_note: note.clone(),
        extra: None,
    };
    let log = us.signer.verifier();
    let cosigners = [ru.cosigner_verifier()];

    // The entry at another index (a replay) fails on the entry's own index.
    let err = verify_receipt(&receipt(3), &us.entries[4].encode(), &log, &cosigners).unwrap_err();
    assert!(matches!(
        err,
        ReceiptError::EntryIndexMismatch {
            entry_index: 4,
            receipt_index: 3
        }
    ));
    // An entry of another log at the same index fails on its origin (before that, on
    // the inclusion proof, since its leaf is not in this tree).
    let err =
        verify_receipt(&receipt(3), &cn_log.entries[3].encode(), &log, &cosigners).unwrap_err();
    assert!(matches!(err, ReceiptError::Proof(_)), "{err}");
    // Another log's key.
    let err = verify_receipt(
        &receipt(3),
        &us.entries[3].encode(),
        &ru.verifier(),
        &cosigners,
    )
    .unwrap_err();
    assert!(
        matches!(err, ReceiptError::Note(NoteError::MissingSignature { .. })),
        "{err}"
    );
    // A cosigner key where a log key is needed, and the other way round.
    let err = verify_receipt(
        &receipt(3),
        &us.entries[3].encode(),
        &us.signer.cosigner_verifier(),
        &cosigners,
    )
    .unwrap_err();
    assert!(
        matches!(err, ReceiptError::Note(NoteError::WrongAlgorithm { .. })),
        "{err}"
    );
    let err =
        verify_receipt(&receipt(3), &us.entries[3].encode(), &log, &[ru.verifier()]).unwrap_err();
    assert!(matches!(err, ReceiptError::NotACosigner { .. }), "{err}");
    // A proof for another index.
    let mut r = receipt(3);
    r.proof = us.tree.inclusion_proof(2, 7).unwrap();
    assert!(verify_receipt(&r, &us.entries[3].encode(), &log, &cosigners).is_err());
}

#[test]
fn equivocation_is_caught_by_a_failing_consistency_proof() {
    // The US node shows RU one history and CN another, both of size 4 and 6.
    let mut honest = Log::new(signer(US, 1));
    for _ in 0..4 {
        honest.append();
    }
    let (cp4, _) = honest.checkpoint();
    let mut forked = Log::new(signer(US, 1));
    for i in 0..6u64 {
        let mut e = entry(US, i);
        if i == 2 {
            e.body = b"{\"seq\":\"rewritten\"}".to_vec();
        }
        forked.tree.push(e.leaf_hash());
        forked.entries.push(e);
    }
    let (cp6, note6) = forked.checkpoint();
    // Both checkpoints carry valid signatures by the same log key...
    open_checkpoint(&note6, &honest.signer.verifier()).unwrap();
    // ...but no consistency proof the forked log can produce links them.
    let proof = forked.tree.consistency_proof(4, 6).unwrap();
    let err = verify_consistency(4, 6, &cp4.root, &cp6.root, &proof).unwrap_err();
    // (With a complete old tree, RFC 9162 takes the old root as given, so the mismatch
    // shows at the new root.)
    assert_eq!(
        err.to_string(),
        "consistency proof from size 4 to 6 does not reproduce the root of size 6"
    );
}

#[test]
fn truncate_drops_an_unverified_mirrored_batch() {
    let mut us = Log::new(signer(US, 1));
    for _ in 0..9 {
        us.append();
    }
    let root9 = us.tree.root();
    for _ in 0..5 {
        us.append();
    }
    us.tree.truncate(9);
    assert_eq!(us.tree.len(), 9);
    assert_eq!(us.tree.root(), root9);
}

#[test]
fn checkpoint_origin_must_match_the_key() {
    let us = signer(US, 1);
    let cp = Checkpoint::new(RU, 1, [0; 32]);
    assert!(matches!(
        sign_checkpoint(&cp, &us),
        Err(NoteError::OriginMismatch { .. })
    ));
    // A note whose text names another origin, signed by the US key, is refused too.
    let note = sign(&cp.body(), &us).unwrap();
    let err = open_checkpoint(&note, &us.verifier()).unwrap_err();
    assert_eq!(
        err.to_string(),
        "checkpoint line 1: origin \"detente/new-start/ru\" is not the log key's name \"detente/new-start/us\""
    );
}

#[test]
fn one_key_two_ids_and_no_cross_use() {
    let us = signer(US, 1);
    assert_eq!(
        us.verifier().public_key(),
        us.cosigner_verifier().public_key()
    );
    assert_ne!(us.verifier().key_id(), us.cosigner_verifier().key_id());
    assert_eq!(us.verifier().algorithm(), Algorithm::Ed25519);
    assert_eq!(us.cosigner_verifier().algorithm(), Algorithm::CosignatureV1);
    // A plain note signature can never be over a cosignature message.
    let forged_text = format!(
        "cosignature/v1\ntime 5\n{}",
        Checkpoint::new(RU, 1, [0; 32]).body()
    );
    assert_eq!(sign(&forged_text, &us), Err(NoteError::ReservedText));
    // A cosignature is not a checkpoint signature.
    let cp = Checkpoint::new(US, 0, detente_ledger::merkle::empty_root());
    let cos = cosign(&cp, &us, 9);
    let note_text = with_cosignatures(&sign_checkpoint(&cp, &us).unwrap(), &[cos]).unwrap();
    let mut note = Note::parse(&note_text).unwrap();
    note.signatures.remove(0);
    assert!(open_checkpoint(&note.format(), &us.verifier()).is_err());
}
