#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]
//! The dependency rules of ARCHITECTURE.md, checked mechanically: each crate's manifest
//! may not name the crates (ours or external) its layer must not depend on.

const RULES: &[(&str, &[&str])] = &[
    (
        "detente-lang",
        &[
            "detente-", "tokio", "serde", "axum", "sqlx", "reqwest", "jiff", "rand",
        ],
    ),
    (
        "detente-assess",
        &[
            "detente-ledger",
            "detente-store",
            "detente-node",
            "detente-server",
            "detente-cli",
            "tokio",
            "axum",
            "sqlx",
            "reqwest",
            "rand",
            "jiff",
        ],
    ),
    (
        "detente-ledger",
        &[
            "detente-", "tokio", "axum", "sqlx", "reqwest", "rand", "jiff", "serde",
        ],
    ),
    (
        "detente-node",
        &[
            "detente-store",
            "detente-server",
            "detente-cli",
            "axum",
            "clap",
            "sqlx",
        ],
    ),
    (
        "detente-store",
        &["detente-server", "detente-cli", "axum", "clap", "reqwest"],
    ),
    (
        "detente-server",
        &["detente-store", "detente-cli", "sqlx", "clap"],
    ),
];

/// The names in the `[dependencies]` table of a manifest (not dev-dependencies).
fn dependencies(manifest: &str) -> Vec<String> {
    let mut names = Vec::new();
    let mut in_deps = false;
    for line in manifest.lines() {
        let line = line.trim();
        if line.starts_with('[') {
            in_deps = line == "[dependencies]";
            continue;
        }
        if in_deps && let Some((name, _)) = line.split_once('=') {
            names.push(name.trim().to_owned());
        }
    }
    names
}

#[test]
fn core_crates_keep_their_dependency_rules() {
    let root = concat!(env!("CARGO_MANIFEST_DIR"), "/../..");
    let mut broken = Vec::new();
    for (krate, forbidden) in RULES {
        let manifest = std::fs::read_to_string(format!("{root}/crates/{krate}/Cargo.toml"))
            .expect("crate manifest is readable");
        for dep in dependencies(&manifest) {
            if forbidden
                .iter()
                .any(|f| dep.starts_with(f) && dep != *krate)
            {
                broken.push(format!("{krate} depends on {dep}"));
            }
        }
    }
    assert!(broken.is_empty(), "dependency rules broken: {broken:?}");
}

#[test]
fn core_crates_do_not_read_the_clock_or_the_environment() {
    let root = concat!(env!("CARGO_MANIFEST_DIR"), "/../..");
    let forbidden = [
        "SystemTime",
        "std::time::Instant",
        "std::fs",
        "std::env",
        "HashMap",
        "thread_rng",
        "std::net",
    ];
    let mut found = Vec::new();
    for krate in [
        "detente-lang",
        "detente-assess",
        "detente-ledger",
        "detente-escrow",
    ] {
        let mut stack = vec![std::path::PathBuf::from(format!(
            "{root}/crates/{krate}/src"
        ))];
        while let Some(dir) = stack.pop() {
            for entry in std::fs::read_dir(&dir).expect("source folder is readable") {
                let path = entry.expect("entry").path();
                if path.is_dir() {
                    stack.push(path);
                } else if path.extension().is_some_and(|e| e == "rs") {
                    let text = std::fs::read_to_string(&path).expect("source is readable");
                    // Test modules may read fixtures.
                    let code = text.split("#[cfg(test)]").next().unwrap_or("");
                    for word in forbidden {
                        if code.contains(word) {
                            found.push(format!("{}: {word}", path.display()));
                        }
                    }
                }
            }
        }
    }
    assert!(found.is_empty(), "the core must stay pure: {found:#?}");
}
