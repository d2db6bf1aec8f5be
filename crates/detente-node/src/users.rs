//! A node's operators and what each role may do.
//!
//! Operators are people in the party's implementation office. Each has a name, a role and a
//! token; the node keeps only the token's SHA-256. Roles are ordered, each allowing what the
//! one before allows:
//!
//! - `viewer` reads everything the node holds;
//! - `analyst` also submits observations (what the party saw of others);
//! - `officer` also writes the party's own declarations, notifications, items and events;
//! - `admin` also manages operators.

use std::fmt;

use crate::home::{random_bytes, sha256_hex};
use crate::store::{Store, StoreError, StoredUser};

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    Viewer,
    Analyst,
    Officer,
    Admin,
}

impl Role {
    pub const ALL: [Role; 4] = [Role::Viewer, Role::Analyst, Role::Officer, Role::Admin];

    pub fn name(self) -> &'static str {
        match self {
            Role::Viewer => "viewer",
            Role::Analyst => "analyst",
            Role::Officer => "officer",
            Role::Admin => "admin",
        }
    }

    pub fn parse(text: &str) -> Option<Role> {
        Role::ALL.into_iter().find(|r| r.name() == text)
    }

    /// Whether this role may submit a record of this `kind` (the facts contract's kinds).
    pub fn may_submit(self, kind: &str) -> bool {
        match kind {
            "observation" => self >= Role::Analyst,
            _ => self >= Role::Officer,
        }
    }

    /// The least role that may submit a record of this kind.
    pub fn needed_to_submit(kind: &str) -> Role {
        if kind == "observation" {
            Role::Analyst
        } else {
            Role::Officer
        }
    }
}

impl fmt::Display for Role {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// An authenticated operator.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Operator {
    pub name: String,
    pub role: Role,
}

/// Why a user could not be added.
#[derive(Debug)]
pub enum UserError {
    BadName(String),
    Store(StoreError),
}

impl fmt::Display for UserError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            UserError::BadName(name) => write!(
                f,
                "`{name}` is not a user name: 1 to 64 letters, digits, `.`, `_` or `-`"
            ),
            UserError::Store(e) => write!(f, "{e}"),
        }
    }
}

impl std::error::Error for UserError {}

/// Adds an operator and returns the token, which is shown once and never stored.
pub async fn add_user(
    store: &impl Store,
    name: &str,
    role: Role,
    now_ms: i64,
) -> Result<String, UserError> {
    let valid = !name.is_empty()
        && name.len() <= 64
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-'));
    if !valid {
        return Err(UserError::BadName(name.chars().take(80).collect()));
    }
    let token = format!("dt_{}", crate::home::hex(&random_bytes()));
    store
        .add_user(&StoredUser {
            name: name.to_owned(),
            role: role.name().to_owned(),
            token_sha256: sha256_hex(token.as_bytes()),
            created_at_ms: now_ms,
        })
        .await
        .map_err(UserError::Store)?;
    Ok(token)
}

/// The operator a token belongs to, if any. Tokens are compared by their hashes, so the
/// comparison reveals nothing about the stored ones.
pub async fn authenticate(store: &impl Store, token: &str) -> Result<Option<Operator>, StoreError> {
    let digest = sha256_hex(token.trim().as_bytes());
    Ok(store
        .users()
        .await?
        .into_iter()
        .find(|u| u.token_sha256 == digest)
        .and_then(|u| {
            Some(Operator {
                role: Role::parse(&u.role)?,
                name: u.name,
            })
        }))
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use crate::memory_store::MemoryStore;

    #[test]
    fn roles_allow_what_the_role_before_allows() {
        assert!(!Role::Viewer.may_submit("observation"));
        assert!(Role::Analyst.may_submit("observation"));
        assert!(!Role::Analyst.may_submit("notification"));
        assert!(Role::Officer.may_submit("notification"));
        assert!(Role::Admin.may_submit("declaration"));
        assert_eq!(Role::parse("officer"), Some(Role::Officer));
        assert_eq!(Role::parse("root"), None);
    }

    #[tokio::test]
    async fn a_token_authenticates_its_user_only_and_is_not_stored() {
        let store = MemoryStore::new();
        let token = add_user(&store, "ana", Role::Analyst, 1).await.unwrap();
        let other = add_user(&store, "olga", Role::Officer, 2).await.unwrap();
        assert_ne!(token, other);
        let ana = authenticate(&store, &token).await.unwrap().unwrap();
        assert_eq!((ana.name.as_str(), ana.role), ("ana", Role::Analyst));
        assert!(authenticate(&store, "dt_nope").await.unwrap().is_none());
        let stored = store.users().await.unwrap();
        assert!(stored.iter().all(|u| !u.token_sha256.contains(&token)));
        assert!(matches!(
            add_user(&store, "ana", Role::Admin, 3).await,
            Err(UserError::Store(StoreError::Exists(_)))
        ));
        assert!(matches!(
            add_user(&store, "bad name", Role::Admin, 3).await,
            Err(UserError::BadName(_))
        ));
    }
}
