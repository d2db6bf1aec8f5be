#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]
//! Every error says what is wrong and where.

use detente_ledger::checkpoint::{Checkpoint, Cosignature, open_checkpoint};
use detente_ledger::entry::{Entry, EntryError, EntryKind, MAX_ENTRY_BYTES};
use detente_ledger::merkle::{Tree, leaf_hash, verify_consistency, verify_inclusion};
use detente_ledger::note::{Note, Signer, Verifier, sign};
use detente_ledger::receipt::Receipt;

fn msg<E: std::fmt::Display>(r: Result<impl std::fmt::Debug, E>) -> String {
    r.unwrap_err().to_string()
}

#[test]
fn checkpoint_errors() {
    let root = "CsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=";
    let cases = [
        (
            format!("o\n12a\n{root}\n"),
            "checkpoint line 2: tree size \"12a\" is not a decimal number",
        ),
        (
            format!("o\n012\n{root}\n"),
            "checkpoint line 2: tree size \"012\" has a leading zero",
        ),
        (
            format!("o\n99999999999999999999\n{root}\n"),
            "checkpoint line 2: tree size \"99999999999999999999\" does not fit in 64 bits",
        ),
        (
            "o\n1\nAAAA\n".to_owned(),
            "checkpoint line 3: root hash \"AAAA\" is not base64 of 32 bytes",
        ),
        (
            "o\n1\n".to_owned(),
            "checkpoint line 3: root hash line is missing",
        ),
        (
            "o\n".to_owned(),
            "checkpoint line 2: tree size line is missing",
        ),
        (
            format!("\n1\n{root}\n"),
            "checkpoint line 1: origin is empty",
        ),
        (
            format!("o\n1\n{root}\n\n"),
            "checkpoint line 4: extension line is empty",
        ),
        (
            format!("o\n1\n{root}"),
            "checkpoint line 3: text does not end with a newline",
        ),
    ];
    for (text, want) in cases {
        assert_eq!(msg(Checkpoint::parse_body(&text)), want, "{text:?}");
    }
}

#[test]
fn entry_errors() {
    let e = Entry::new("detente/t/us", 3, -5, EntryKind::Fact, b"{}".to_vec()).unwrap();
    let bytes = e.encode();
    assert_eq!(
        msg(Entry::decode(&bytes[..25])),
        "entry byte 23: time needs 8 bytes but only 2 remain"
    );
    assert_eq!(
        msg(Entry::decode(&bytes[..bytes.len() - 1])),
        "entry byte 49: body needs 2 bytes but only 1 remain"
    );
    let mut b = bytes.clone();
    b[14] = 9;
    assert_eq!(
        msg(Entry::decode(&b)),
        "entry byte 14: kind 9 is not 1 (fact), 2 (letter) or 3 (verification)"
    );
    let mut b = bytes.clone();
    b[13] = 2;
    assert_eq!(
        msg(Entry::decode(&b)),
        "entry byte 13: version 2 is not supported (only 1)"
    );
    let mut b = bytes.clone();
    b[0] = b'D';
    assert_eq!(
        msg(Entry::decode(&b)),
        "entry byte 0: magic is not \"detente-entry\""
    );
    let mut b = bytes.clone();
    b.push(0);
    assert_eq!(
        msg(Entry::decode(&b)),
        "entry byte 51: 1 unexpected bytes after the body"
    );
    let mut b = bytes.clone();
    b[33] = b' ';
    assert_eq!(
        msg(Entry::decode(&b)),
        "entry byte 33: origin \" etente/t/us\" contains a space"
    );
    let mut b = bytes.clone();
    b[31] = 0;
    b[32] = 0;
    assert_eq!(
        msg(Entry::decode(&b)),
        "entry byte 31: origin length 0 is not between 1 and 255"
    );
    assert_eq!(
        msg(Entry::decode(&vec![0; MAX_ENTRY_BYTES + 1])),
        "entry: 1048577 bytes is more than the 1048576-byte limit"
    );
    assert!(matches!(
        Entry::new("a+b", 0, 0, EntryKind::Letter, vec![]),
        Err(EntryError::InvalidOrigin { .. })
    ));
    assert!(matches!(
        Entry::new("a", 0, 0, EntryKind::Letter, vec![0; MAX_ENTRY_BYTES]),
        Err(EntryError::TooLarge { .. })
    ));
}

#[test]
fn note_errors() {
    let text = "hello\nworld\n";
    let good = sign(text, &Signer::from_seed("k", [1; 32]).unwrap()).unwrap();
    assert_eq!(
        msg(Note::parse(&good.replace('—', "-"))),
        "note line 4: signature line does not start with an em dash (U+2014) and a space"
    );
    assert_eq!(
        msg(Note::parse(&format!("{good}— k\n"))),
        "note line 5: signature line has no space between key name and signature"
    );
    assert_eq!(
        msg(Note::parse(&format!("{good}— k !!!\n"))),
        "note line 5: signature of k is not valid base64"
    );
    assert_eq!(
        msg(Note::parse(&format!("{good}— k AAAA\n"))),
        "note line 5: signature of k is shorter than its 4-byte key id"
    );
    assert_eq!(
        msg(Note::parse(&format!("{good}— k AAAAAA==\n"))),
        "note line 5: signature of k is empty"
    );
    assert_eq!(
        msg(Note::parse(&format!("a\tb\n{good}"))),
        "note line 1: control character U+0009 is not allowed"
    );
    assert_eq!(
        msg(Note::parse(text)),
        "note: no blank line followed by signature lines \"— <name> <signature>\""
    );
    assert_eq!(
        msg(Note::parse(good.trim_end())),
        "note line 4: the last signature line does not end with a newline"
    );
    let other = Signer::from_seed("k", [2; 32]).unwrap();
    assert_eq!(
        msg(Note::parse(&good).unwrap().verify(&other.verifier())),
        format!(
            "note: no signature by key k+{}",
            hex(&other.verifier().key_id())
        )
    );
    assert_eq!(
        msg(Verifier::parse_vkey("k+1234567+AAAA")),
        "verifier key: key id is not 8 hex digits"
    );
    assert_eq!(
        msg(Verifier::parse_vkey("a b+12345678+AAAA")),
        "key name \"a b\" contains a space"
    );
    assert!(
        msg(Verifier::parse_vkey(
            "k+12345678+BdBKsjJ0K7SrOhNovUYV5ObQIkq3GgFrr4UgozLJd4c3"
        ))
        .contains("signature type 0x05")
    );
    assert_eq!(
        msg(Cosignature::parse_line("— w AAAA")),
        "cosignature: signature of w is shorter than a key id"
    );
    assert_eq!(
        msg(Cosignature::parse_line("— w AAAAAAAA")),
        "cosignature: signature of w is 2 bytes after the key id, not 72 (8-byte timestamp and 64-byte Ed25519 signature)"
    );
}

#[test]
fn a_bad_log_signature_names_its_line() {
    let us = Signer::from_seed("detente/t/us", [1; 32]).unwrap();
    let cp = Checkpoint::new("detente/t/us", 0, detente_ledger::merkle::empty_root());
    let note = detente_ledger::checkpoint::sign_checkpoint(&cp, &us).unwrap();
    let mut parsed = Note::parse(&note).unwrap();
    parsed.signatures[0].signature[10] ^= 1;
    assert_eq!(
        msg(open_checkpoint(&parsed.format(), &us.verifier())),
        format!(
            "note line 5: signature by key detente/t/us+{} does not verify",
            hex(&us.verifier().key_id())
        )
    );
}

#[test]
fn proof_errors() {
    let t = Tree::from_leaf_hashes((0..5u8).map(|i| leaf_hash(&[i])).collect());
    assert_eq!(
        msg(t.inclusion_proof(5, 5)),
        "leaf index 5 is not in a tree of 5 leaves"
    );
    assert_eq!(
        msg(t.root_at(6)),
        "tree size 6 is larger than the 5 leaves the tree holds"
    );
    assert_eq!(
        msg(t.consistency_proof(4, 3)),
        "old tree size 4 is larger than new tree size 3"
    );
    let root = t.root();
    let lh = t.leaf_hash(1).unwrap();
    assert_eq!(
        msg(verify_inclusion(&lh, 1, 5, &[], &root)),
        "inclusion proof has 0 hashes, but these sizes need exactly 3"
    );
    let p = t.inclusion_proof(1, 5).unwrap();
    assert_eq!(
        msg(verify_inclusion(&lh, 2, 5, &p, &root)),
        "inclusion proof for leaf 2 does not lead to the root of the tree of 5 leaves"
    );
    let p = t.consistency_proof(3, 5).unwrap();
    assert_eq!(
        msg(verify_consistency(3, 5, &root, &root, &p)),
        "consistency proof from size 3 to 5 does not reproduce the root of size 3"
    );
}

#[test]
fn receipt_errors() {
    let cases = [
        ("", "receipt line 1: empty receipt"),
        (
            "hello\n",
            "receipt line 1: first line is not \"c2sp.org/tlog-proof@v1\"",
        ),
        (
            "c2sp.org/tlog-proof@v1\nindex x\n\nnote\n",
            "receipt line 2: index \"x\" is not a decimal number",
        ),
        (
            "c2sp.org/tlog-proof@v1\nextra !\nindex 1\n\nnote\n",
            "receipt line 2: extra data is not valid base64",
        ),
        (
            "c2sp.org/tlog-proof@v1\nindex 1\nAAAA\n\nnote\n",
            "receipt line 3: proof hash \"AAAA\" is not base64 of 32 bytes",
        ),
        (
            "c2sp.org/tlog-proof@v1\nindex 1\n",
            "receipt line 3: ends before the blank line that precedes the checkpoint",
        ),
        (
            "c2sp.org/tlog-proof@v1\nindex 1\n\n",
            "receipt line 4: the checkpoint is missing",
        ),
        (
            "c2sp.org/tlog-proof@v1\nsize 1\n\nnote\n",
            "receipt line 2: expected \"index <decimal>\"",
        ),
    ];
    for (text, want) in cases {
        assert_eq!(msg(Receipt::parse(text)), want, "{text:?}");
    }
}

fn hex(b: &[u8]) -> String {
    b.iter().map(|x| format!("{x:02x}")).collect()
}
