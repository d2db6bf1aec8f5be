#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]
//! Published test vectors, checked against this crate:
//! * RFC 6962 Merkle vectors from transparency-dev/merkle (`proof/verify_test.go`, the
//!   same data as certificate-transparency-go and Trillian);
//! * the signed-note vectors of golang.org/x/mod/sumdb/note (`note_test.go`);
//! * the examples in the C2SP tlog-checkpoint and tlog-cosignature specifications;
//! * detente's own worked example (`tests/vectors/`), which `docs/ledger-format.md`
//!   quotes, re-derived here and also verified by hand from the primitives.

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use detente_ledger::Hash;
use detente_ledger::checkpoint::{
    Checkpoint, Cosignature, cosign, open_checkpoint, sign_checkpoint, with_cosignatures,
};
use detente_ledger::entry::{Entry, EntryKind};
use detente_ledger::merkle::{
    Tree, empty_root, leaf_hash, node_hash, root_of, verify_consistency, verify_inclusion,
};
use detente_ledger::note::{Algorithm, Note, NoteError, Signer, Verifier, sign};
use detente_ledger::receipt::{Receipt, verify_receipt};
use sha2::{Digest as _, Sha256};

fn dh(s: &str) -> Vec<u8> {
    assert!(s.len().is_multiple_of(2));
    (0..s.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&s[i..i + 2], 16).unwrap())
        .collect()
}

fn h32(s: &str) -> Hash {
    dh(s).try_into().unwrap()
}

// ---------------------------------------------------------------------------------
// RFC 6962 (transparency-dev/merkle proof/verify_test.go)
// ---------------------------------------------------------------------------------

const LEAVES: [&str; 8] = [
    "",
    "00",
    "10",
    "2021",
    "3031",
    "40414243",
    "5051525354555657",
    "606162636465666768696a6b6c6d6e6f",
];

/// Roots of the trees of the first 1..=8 leaves.
const ROOTS: [&str; 8] = [
    "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
    "fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125",
    "aeb6bcfe274b70a14fb067a5e5578264db0fa9b51af5e0ba159158f329e06e77",
    "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
    "4e3bbb1f7b478dcfe71fb631631519a3bca12c9aefca1612bfce4c13a86264d4",
    "76e67dadbcdf1e10e1b74ddc608abd2f98dfb16fbce75277b5232a127f2087ef",
    "ddb89be403809e325750d3d263cd78929c2942b7942a34b77e122c9594a74c8c",
    "5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328",
];

/// (1-based leaf, tree size, proof) as published.
fn inclusion_vectors() -> Vec<(u64, u64, Vec<Hash>)> {
    vec![
        (1, 1, vec![]),
        (
            1,
            8,
            vec![
                h32("96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7"),
                h32("5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e"),
                h32("6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4"),
            ],
        ),
        (
            6,
            8,
            vec![
                h32("bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b"),
                h32("ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0"),
                h32("d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7"),
            ],
        ),
        (
            3,
            3,
            vec![h32(
                "fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125",
            )],
        ),
        (
            2,
            5,
            vec![
                h32("6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d"),
                h32("5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e"),
                h32("bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b"),
            ],
        ),
    ]
}

fn consistency_vectors() -> Vec<(u64, u64, Vec<Hash>)> {
    vec![
        (1, 1, vec![]),
        (
            1,
            8,
            vec![
                h32("96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7"),
                h32("5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e"),
                h32("6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4"),
            ],
        ),
        (
            6,
            8,
            vec![
                h32("0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a"),
                h32("ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0"),
                h32("d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7"),
            ],
        ),
        (
            2,
            5,
            vec![
                h32("5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e"),
                h32("bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b"),
            ],
        ),
        (
            6,
            7,
            vec![
                h32("0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a"),
                h32("b08693ec2e721597130641e8211e7eedccb4c26413963eee6c1e2ed16ffb1a5f"),
                h32("d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7"),
            ],
        ),
    ]
}

fn rfc_tree() -> Tree {
    Tree::from_leaf_hashes(LEAVES.iter().map(|l| leaf_hash(&dh(l))).collect())
}

#[test]
fn rfc6962_empty_tree_root() {
    assert_eq!(
        empty_root(),
        h32("e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855")
    );
    assert_eq!(Tree::new().root(), empty_root());
    assert_eq!(root_of(&[]), empty_root());
}

#[test]
fn rfc6962_roots_of_every_prefix() {
    let tree = rfc_tree();
    let leaf_hashes: Vec<Hash> = LEAVES.iter().map(|l| leaf_hash(&dh(l))).collect();
    for (i, root) in ROOTS.iter().enumerate() {
        let size = i as u64 + 1;
        assert_eq!(tree.root_at(size).unwrap(), h32(root), "size {size}");
        assert_eq!(
            root_of(&leaf_hashes[..=i]),
            h32(root),
            "root_of size {size}"
        );
        let mut pushed = Tree::new();
        for l in &leaf_hashes[..=i] {
            pushed.push(*l);
        }
        assert_eq!(pushed.root(), h32(root), "pushed size {size}");
    }
}

#[test]
fn rfc6962_inclusion_proofs() {
    let tree = rfc_tree();
    for (leaf, size, proof) in inclusion_vectors() {
        let index = leaf - 1;
        assert_eq!(
            tree.inclusion_proof(index, size).unwrap(),
            proof,
            "{index}@{size}"
        );
        let root = h32(ROOTS[size as usize - 1]);
        let lh = leaf_hash(&dh(LEAVES[index as usize]));
        verify_inclusion(&lh, index, size, &proof, &root).unwrap();

        // The corruptions transparency-dev checks must all be rejected.
        let some = h32("abacaba000000000000000000000000000000000000000000060061e00123456");
        let mut probes: Vec<(u64, u64, Hash, Hash, Vec<Hash>)> = vec![
            (index.wrapping_sub(1), size, root, lh, proof.clone()),
            (index + 1, size, root, lh, proof.clone()),
            (index ^ 2, size, root, lh, proof.clone()),
            (index, size * 2, root, lh, proof.clone()),
            (index, size / 2, root, lh, proof.clone()),
            (index, size, root, leaf_hash(b"WrongLeaf"), proof.clone()),
            (index, size, empty_root(), lh, proof.clone()),
            (index, size, some, lh, proof.clone()),
            (index, size, root, lh, [proof.clone(), vec![root]].concat()),
            (index, size, root, lh, [vec![root], proof.clone()].concat()),
        ];
        for i in 0..proof.len() {
            let mut p = proof.clone();
            p[i][0] ^= 8;
            probes.push((index, size, root, lh, p));
        }
        if !proof.is_empty() {
            probes.push((index, size, root, lh, proof[..proof.len() - 1].to_vec()));
        }
        if proof.len() > 1 {
            let mut p = vec![proof[0], some];
            p.extend_from_slice(&proof[1..]);
            probes.push((index, size, root, lh, p));
        }
        for (n, (i, s, r, l, p)) in probes.iter().enumerate() {
            assert!(
                verify_inclusion(l, *i, *s, p, r).is_err(),
                "probe {n} accepted for {index}@{size}"
            );
        }
    }
}

#[test]
fn rfc6962_consistency_proofs() {
    let tree = rfc_tree();
    for (old, new, proof) in consistency_vectors() {
        assert_eq!(
            tree.consistency_proof(old, new).unwrap(),
            proof,
            "{old}->{new}"
        );
        let r1 = h32(ROOTS[old as usize - 1]);
        let r2 = h32(ROOTS[new as usize - 1]);
        verify_consistency(old, new, &r1, &r2, &proof).unwrap();
        if proof.is_empty() {
            continue;
        }
        let mut probes: Vec<(u64, u64, Hash, Hash, Vec<Hash>)> = vec![
            (old - 1, new, r1, r2, proof.clone()),
            (old + 1, new, r1, r2, proof.clone()),
            (old ^ 2, new, r1, r2, proof.clone()),
            (old, new * 2, r1, r2, proof.clone()),
            (old, new / 2, r1, r2, proof.clone()),
            (old, new, leaf_hash(b"WrongRoot"), r2, proof.clone()),
            (old, new, r1, leaf_hash(b"WrongRoot"), proof.clone()),
            (old, new, r2, r1, proof.clone()),
            (old, new, r1, r2, vec![]),
            (old, new, r1, r2, [proof.clone(), vec![r1]].concat()),
            (old, new, r1, r2, [proof.clone(), vec![r2]].concat()),
            (old, new, r1, r2, [vec![r1], proof.clone()].concat()),
            (old, new, r1, r2, [vec![r2], proof.clone()].concat()),
            (old, new, r1, r2, [vec![proof[0]], proof.clone()].concat()),
            (old, new, r1, r2, proof[..proof.len() - 1].to_vec()),
        ];
        for i in 0..proof.len() {
            let mut p = proof.clone();
            p[i][0] ^= 16;
            probes.push((old, new, r1, r2, p));
        }
        for (n, (o, s, a, b, p)) in probes.iter().enumerate() {
            assert!(
                verify_consistency(*o, *s, a, b, p).is_err(),
                "probe {n} accepted for {old}->{new}"
            );
        }
    }
}

#[test]
fn rfc6962_consistency_edge_cases() {
    let e = empty_root();
    let r = leaf_hash(b"x");
    // From the empty tree: always consistent, but the old root must be the empty root
    // and the proof empty.
    verify_consistency(0, 0, &e, &e, &[]).unwrap();
    verify_consistency(0, 1, &e, &r, &[]).unwrap();
    assert!(verify_consistency(0, 1, &r, &r, &[]).is_err());
    assert!(verify_consistency(0, 1, &e, &r, &[e]).is_err());
    // Same size: roots must match and the proof be empty.
    verify_consistency(1, 1, &r, &r, &[]).unwrap();
    assert!(verify_consistency(1, 1, &e, &r, &[]).is_err());
    assert!(verify_consistency(1, 1, &r, &r, &[e]).is_err());
    // Time travel.
    assert!(verify_consistency(2, 1, &r, &r, &[]).is_err());
    // A non-trivial proof may not be empty.
    assert!(verify_consistency(1, 2, &r, &r, &[]).is_err());
    // Sanity of the node hash domain separation.
    assert_ne!(node_hash(&r, &r), leaf_hash(&[r, r].concat()));
}

// ---------------------------------------------------------------------------------
// golang.org/x/mod/sumdb/note note_test.go
// ---------------------------------------------------------------------------------

const PETER_VKEY: &str = "PeterNeumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW";
const PETER_SKEY: &str =
    "PRIVATE+KEY+PeterNeumann+c74f20a3+AYEKFALVFGyNhPJEMzD1QIDr+Y7hfZx09iUvxdXHKDFz";
const ENOCH_VKEY: &str = "EnochRoot+af0cfe78+ATtqJ7zOtqQtYqOo0CpvDXNlMhV3HeJDpjrASKGLWdop";
const TEXT: &str = "If you think cryptography is the answer to your problem,\n\
                    then you don't know what your problem is.\n";
const PETER_SIG: &str = "— PeterNeumann x08go/ZJkuBS9UG/SffcvIAQxVBtiFupLLr8pAcElZInNIuGUgYN1FFYC2pZSNXgKvqfqdngotpRZb6KE6RyyBwJnAM=\n";
const ENOCH_SIG: &str = "— EnochRoot rwz+eBzmZa0SO3NbfRGzPCpDckykFXSdeX+MNtCOXm2/5n2tiOHp+vAF1aGrQ5ovTG01oOTGwnWLox33WWd1RvMc+QQ=\n";

fn peter_signer() -> Signer {
    // The skey's base64 part is the type byte 0x01 and the 32-byte Ed25519 seed.
    let b64 = PETER_SKEY.splitn(5, '+').nth(4).unwrap();
    let raw = STANDARD.decode(b64).unwrap();
    assert_eq!(raw[0], 0x01);
    Signer::from_seed("PeterNeumann", raw[1..].try_into().unwrap()).unwrap()
}

#[test]
fn go_note_vkey_parses_and_round_trips() {
    let v = Verifier::parse_vkey(PETER_VKEY).unwrap();
    assert_eq!(v.name(), "PeterNeumann");
    assert_eq!(v.key_id(), [0xc7, 0x4f, 0x20, 0xa3]);
    assert_eq!(v.algorithm(), Algorithm::Ed25519);
    assert_eq!(v.vkey(), PETER_VKEY);
    assert_eq!(peter_signer().verifier(), v);
    assert_eq!(peter_signer().verifier().vkey(), PETER_VKEY);
    assert_eq!(Verifier::parse_vkey(ENOCH_VKEY).unwrap().vkey(), ENOCH_VKEY);
}

#[test]
fn go_note_vkey_manglings_are_rejected() {
    let b = PETER_VKEY.as_bytes();
    for i in 0..=b.len() {
        for j in i + 1..=b.len() {
            if i == 0 && j == b.len() {
                continue;
            }
            let s = std::str::from_utf8(&b[i..j]).unwrap();
            assert!(Verifier::parse_vkey(s).is_err(), "accepted {s:?}");
        }
    }
    for i in 0..b.len() {
        let mut m = b.to_vec();
        m[i] += 1;
        let s = String::from_utf8(m).unwrap();
        assert!(Verifier::parse_vkey(&s).is_err(), "accepted {s:?}");
    }
    // Wrong key length and unknown algorithm, each with an adjusted key hash.
    assert!(
        Verifier::parse_vkey(
            "PeterNeumann+cc469956+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TWBADKEY=="
        )
        .is_err()
    );
    assert!(
        Verifier::parse_vkey("PeterNeumann+173116ae+ZRpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW")
            .is_err()
    );
}

#[test]
fn go_note_sign_gives_the_published_signature() {
    let want = format!("{TEXT}\n{PETER_SIG}");
    assert_eq!(sign(TEXT, &peter_signer()).unwrap(), want);
    // Malformed text is refused.
    assert_eq!(
        sign("abc", &peter_signer()),
        Err(NoteError::TextWithoutFinalNewline)
    );
}

#[test]
fn go_note_open_with_one_and_both_keys() {
    let peter = Verifier::parse_vkey(PETER_VKEY).unwrap();
    let enoch = Verifier::parse_vkey(ENOCH_VKEY).unwrap();
    let msg = format!("{TEXT}\n{PETER_SIG}{ENOCH_SIG}");
    let note = Note::parse(&msg).unwrap();
    assert_eq!(note.text, TEXT);
    assert_eq!(note.signatures.len(), 2);
    assert_eq!(note.signatures[1].key_id, [0xaf, 0x0c, 0xfe, 0x78]);
    note.verify(&peter).unwrap();
    note.verify(&enoch).unwrap();
    assert_eq!(note.format(), msg);

    // A signature with four extra base64 characters no longer verifies.
    let bad = format!("{TEXT}\n{}ABCD{}", &PETER_SIG[..60], &PETER_SIG[60..]);
    let err = Note::parse(&bad).unwrap().verify(&peter).unwrap_err();
    assert!(
        matches!(err, NoteError::BadSignature { line: Some(4), .. }),
        "{err}"
    );

    // A key that did not sign: no signature by it.
    let stranger = Signer::from_seed("Stranger", [7; 32]).unwrap();
    assert!(matches!(
        note.verify(&stranger.verifier()),
        Err(NoteError::MissingSignature { .. })
    ));
}

#[test]
fn go_note_malformed_messages_are_rejected() {
    let bad_msgs = [
        TEXT.to_owned(),
        format!("{TEXT}\n"),
        format!("{TEXT}\n{}", &PETER_SIG[..PETER_SIG.len() - 1]),
        format!("\x01{TEXT}\n{PETER_SIG}"),
        format!(
            "{TEXT}\n— Bad Name x08go/ZJkuBS9UG/SffcvIAQxVBtiFupLLr8pAcElZInNIuGUgYN1FFYC2pZSNXgKvqfqdngotpRZb6KE6RyyBwJnAM="
        ),
        format!("{TEXT}\n{PETER_SIG}Unexpected line.\n"),
    ];
    for msg in bad_msgs {
        assert!(Note::parse(&msg).is_err(), "accepted {msg:?}");
    }
    // 101 signatures is over the limit.
    let many = format!("{TEXT}\n{}", PETER_SIG.repeat(101));
    assert!(matches!(
        Note::parse(&many),
        Err(NoteError::TooManySignatures { .. })
    ));
}

// ---------------------------------------------------------------------------------
// C2SP specification examples
// ---------------------------------------------------------------------------------

const SPEC_CHECKPOINT: &str =
    "example.com/behind-the-sofa\n20852163\nCsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=\n";
const SPEC_COSIGNATURE: &str = "— witness.example.com/w1 jWbPPwAAAABkGFDLEZMHwSRaJNiIDoe9DYn/zXcrtPHeolMI5OWXEhZCB9dlrDJsX3b2oyin1nPZqhf5nNo0xUe+mbIUBkBIfZ+qnA==";

#[test]
fn c2sp_checkpoint_example_parses() {
    let cp = Checkpoint::parse_body(SPEC_CHECKPOINT).unwrap();
    assert_eq!(cp.origin, "example.com/behind-the-sofa");
    assert_eq!(cp.size, 20_852_163);
    assert!(cp.extensions.is_empty());
    assert_eq!(cp.body(), SPEC_CHECKPOINT);
    let note = format!(
        "{SPEC_CHECKPOINT}\n— example.com/behind-the-sofa Az3grlgtzPICa5OS8npVmf1Myq/5IZniMp+ZJurmRDeOoRDe4URYN7u5/Zhcyv2q1gGzGku9nTo+zyWE+xeMcTOAYQ8=\n{SPEC_COSIGNATURE}\n"
    );
    let parsed = Note::parse(&note).unwrap();
    assert_eq!(parsed.signatures.len(), 2);
    assert_eq!(parsed.signatures[0].signature.len(), 64);
    assert_eq!(parsed.signatures[1].signature.len(), 72);
}

#[test]
fn c2sp_cosignature_example_layout() {
    // The spec's example signs "time 1679315147": the 8 bytes after the key id are that
    // timestamp, big-endian, followed by the 64-byte Ed25519 signature.
    let cos = Cosignature::parse_line(SPEC_COSIGNATURE).unwrap();
    assert_eq!(cos.cosigner, "witness.example.com/w1");
    assert_eq!(cos.key_id, [0x8d, 0x66, 0xcf, 0x3f]);
    assert_eq!(cos.timestamp, 1_679_315_147);
    assert_eq!(cos.line(), SPEC_COSIGNATURE);
}

#[test]
fn cosignature_signs_the_spec_message_with_the_spec_key_id() {
    // Independent of the crate: the signed message and key id per tlog-cosignature.
    let signer = Signer::from_seed("witness.example.com/w1", [0x42; 32]).unwrap();
    let cp = Checkpoint::parse_body(SPEC_CHECKPOINT).unwrap();
    let cos = cosign(&cp, &signer, 1_679_315_147);
    let message = format!("cosignature/v1\ntime 1679315147\n{SPEC_CHECKPOINT}");
    let vk = ed25519_dalek::VerifyingKey::from_bytes(&signer.public_key()).unwrap();
    vk.verify_strict(
        message.as_bytes(),
        &ed25519_dalek::Signature::from_bytes(&cos.signature),
    )
    .unwrap();
    let mut h = Sha256::new();
    h.update(b"witness.example.com/w1\n\x04");
    h.update(signer.public_key());
    assert_eq!(cos.key_id, h.finalize()[..4]);
    // And the 0x01 key id of the same key differs.
    let mut h = Sha256::new();
    h.update(b"witness.example.com/w1\n\x01");
    h.update(signer.public_key());
    assert_eq!(signer.verifier().key_id(), h.finalize()[..4]);
    assert_ne!(
        signer.verifier().key_id(),
        signer.cosigner_verifier().key_id()
    );
    let vkey = signer.cosigner_verifier().vkey();
    assert_eq!(
        Verifier::parse_vkey(&vkey).unwrap(),
        signer.cosigner_verifier()
    );
}

// ---------------------------------------------------------------------------------
// detente's worked example (quoted in docs/ledger-format.md)
// ---------------------------------------------------------------------------------

const US: &str = "detente/new-start/us";
const RU: &str = "detente/new-start/ru";
const EXAMPLE_RECEIPT: &str = include_str!("vectors/example.tlog-proof");
const EXAMPLE_ENTRY_HEX: &str = include_str!("vectors/example-entry.hex");

fn example_entries() -> Vec<Entry> {
    (0..8u64)
        .map(|i| {
            if i == 7 {
                Entry::new(
                    US,
                    7,
                    1_767_225_600_000,
                    EntryKind::Fact,
                    br#"{"count":3,"item":"icbm"}"#.to_vec(),
                )
                .unwrap()
            } else {
                Entry::new(
                    US,
                    i,
                    1_767_225_600_000 - 1000 * (7 - i as i64),
                    EntryKind::Fact,
                    format!("{{\"n\":{i}}}").into_bytes(),
                )
                .unwrap()
            }
        })
        .collect()
}

#[test]
fn example_entry_bytes() {
    let entry = &example_entries()[7];
    let bytes = entry.encode();
    assert_eq!(bytes, dh(EXAMPLE_ENTRY_HEX.trim()));
    assert_eq!(Entry::decode(&bytes).unwrap(), *entry);
    assert_eq!(
        entry.leaf_hash(),
        h32("8b8758e70c0ab3f3785ed0ff4576d887f698e0ae2a2b36ba829d35ee7b2937f0")
    );
}

#[test]
fn example_keys() {
    let us = Signer::from_seed(US, [0x11; 32]).unwrap();
    let ru = Signer::from_seed(RU, [0x22; 32]).unwrap();
    assert_eq!(
        us.verifier().vkey(),
        "detente/new-start/us+48bab445+AdBKsjJ0K7SrOhNovUYV5ObQIkq3GgFrr4UgozLJd4c3"
    );
    assert_eq!(
        us.cosigner_verifier().vkey(),
        "detente/new-start/us+d6604735+BNBKsjJ0K7SrOhNovUYV5ObQIkq3GgFrr4UgozLJd4c3"
    );
    assert_eq!(
        ru.cosigner_verifier().vkey(),
        "detente/new-start/ru+e22b75b1+BKCapfR6Z1mAL/lV+NwtKhSlyZ0jvpf4ZBJ/+Tg0VaTw"
    );
}

#[test]
fn example_receipt_is_reproduced_and_verifies() {
    let us = Signer::from_seed(US, [0x11; 32]).unwrap();
    let ru = Signer::from_seed(RU, [0x22; 32]).unwrap();
    let entries = example_entries();
    let tree = Tree::from_leaf_hashes(entries.iter().map(Entry::leaf_hash).collect());
    let cp = Checkpoint::new(US, 8, tree.root());
    let signed = sign_checkpoint(&cp, &us).unwrap();
    let note = with_cosignatures(&signed, &[cosign(&cp, &ru, 1_767_225_660)]).unwrap();
    let receipt = Receipt {
        index: 7,
        proof: tree.inclusion_proof(7, 8).unwrap(),
        checkpoint_note: note,
        extra: None,
    };
    assert_eq!(receipt.format(), EXAMPLE_RECEIPT);
    assert_eq!(Receipt::parse(EXAMPLE_RECEIPT).unwrap(), receipt);
    let v = verify_receipt(
        &receipt,
        &entries[7].encode(),
        &us.verifier(),
        &[ru.cosigner_verifier()],
    )
    .unwrap();
    assert_eq!(v.size, 8);
    assert_eq!(v.cosigned_by, vec![(RU.to_owned(), 1_767_225_660)]);
    let (opened, _) = open_checkpoint(&receipt.checkpoint_note, &us.verifier()).unwrap();
    assert_eq!(opened, cp);
}

/// The "verify a receipt by hand" steps of docs/ledger-format.md, using only SHA-256,
/// Ed25519 and base64, not this crate's verifiers.
#[test]
fn example_receipt_verified_by_hand() {
    let b64 = |s: &str| STANDARD.decode(s).unwrap();
    let sha = |parts: &[&[u8]]| -> Hash {
        let mut h = Sha256::new();
        for p in parts {
            h.update(p);
        }
        h.finalize().into()
    };
    let log_vkey = "detente/new-start/us+48bab445+AdBKsjJ0K7SrOhNovUYV5ObQIkq3GgFrr4UgozLJd4c3";
    let cos_vkey = "detente/new-start/ru+e22b75b1+BKCapfR6Z1mAL/lV+NwtKhSlyZ0jvpf4ZBJ/+Tg0VaTw";
    let entry = dh(EXAMPLE_ENTRY_HEX.trim());

    // 1. Split the receipt.
    let (head, note) = EXAMPLE_RECEIPT.split_once("\n\n").unwrap();
    let mut lines = head.lines();
    assert_eq!(lines.next(), Some("c2sp.org/tlog-proof@v1"));
    let index: u64 = lines
        .next()
        .unwrap()
        .strip_prefix("index ")
        .unwrap()
        .parse()
        .unwrap();
    let proof: Vec<Vec<u8>> = lines.map(b64).collect();
    // 2. Split the note at its last blank line.
    let split = note.rfind("\n\n").unwrap();
    let (text, sigs) = (&note[..=split], &note[split + 2..]);
    let mut text_lines = text.lines();
    let origin = text_lines.next().unwrap();
    let size: u64 = text_lines.next().unwrap().parse().unwrap();
    let root = b64(text_lines.next().unwrap());
    // 3. Key ids from the vkeys.
    let key_of = |vkey: &str| -> (String, Vec<u8>) {
        let mut parts = vkey.splitn(3, '+');
        let name = parts.next().unwrap().to_owned();
        let _id = parts.next().unwrap();
        (name, b64(parts.next().unwrap()))
    };
    let (log_name, log_key) = key_of(log_vkey);
    let (cos_name, cos_key) = key_of(cos_vkey);
    assert_eq!(log_name, origin);
    let log_id = sha(&[log_name.as_bytes(), b"\n", &log_key])[..4].to_vec();
    let cos_id = sha(&[cos_name.as_bytes(), b"\n", &cos_key])[..4].to_vec();
    // 4. Check the signatures.
    let verify = |key: &[u8], msg: &[u8], sig: &[u8]| {
        ed25519_dalek::VerifyingKey::from_bytes(key.try_into().unwrap())
            .unwrap()
            .verify_strict(msg, &ed25519_dalek::Signature::from_slice(sig).unwrap())
            .unwrap();
    };
    let mut checked = 0;
    for line in sigs.lines() {
        let (name, sig) = line.strip_prefix("— ").unwrap().split_once(' ').unwrap();
        let sig = b64(sig);
        if name == log_name && sig[..4] == log_id[..] {
            verify(&log_key[1..], text.as_bytes(), &sig[4..]);
            checked += 1;
        }
        if name == cos_name && sig[..4] == cos_id[..] {
            let ts = u64::from_be_bytes(sig[4..12].try_into().unwrap());
            assert_eq!(ts, 1_767_225_660);
            let msg = format!("cosignature/v1\ntime {ts}\n{text}");
            verify(&cos_key[1..], msg.as_bytes(), &sig[12..]);
            checked += 1;
        }
    }
    assert_eq!(checked, 2);
    // 5. Check the entry's own index and origin, then the inclusion proof (RFC 9162).
    assert_eq!(u64::from_be_bytes(entry[15..23].try_into().unwrap()), index);
    let origin_len = u16::from_be_bytes(entry[31..33].try_into().unwrap()) as usize;
    assert_eq!(&entry[33..33 + origin_len], origin.as_bytes());
    let mut r = sha(&[&[0], &entry]);
    let (mut fn_, mut sn) = (index, size - 1);
    for p in &proof {
        if fn_ & 1 == 1 || fn_ == sn {
            r = sha(&[&[1], p, &r]);
            while fn_ & 1 == 0 && fn_ != 0 {
                fn_ >>= 1;
                sn >>= 1;
            }
        } else {
            r = sha(&[&[1], &r, p]);
        }
        fn_ >>= 1;
        sn >>= 1;
    }
    assert_eq!(sn, 0);
    assert_eq!(r.to_vec(), root);
}
