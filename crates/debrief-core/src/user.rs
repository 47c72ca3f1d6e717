//! Users, roles, API-token scopes and who may see and do what. Pure rules: the server asks them,
//! the store keeps the records.

use jiff::Timestamp;
use serde::{Deserialize, Serialize};

use crate::ParseError;
use crate::postmortem::{Status, simple_enum};
use crate::text::Name;

/// The id of a user.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct UserId(pub i64);

/// The id of an API token.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct TokenId(pub i64);

simple_enum!(
    /// What a user may do. Ordered: a higher role may do everything a lower one may.
    UserRole, "user role" {
        Viewer => "viewer",
        Editor => "editor",
        Admin => "admin",
    }
);

simple_enum!(
    /// What an API token may do, at most (never more than its user's role allows).
    Scope, "token scope" {
        Read => "read",
        Write => "write",
        Admin => "admin",
    }
);

/// What a request wants to do, for the permission check.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Access {
    /// Read postmortems the user may see.
    Read,
    /// Create and change postmortems, timelines, actions, participants.
    Write,
    /// Manage users and tokens.
    Admin,
}

impl UserRole {
    /// Whether this role allows `access`.
    pub fn allows(self, access: Access) -> bool {
        match access {
            Access::Read => true,
            Access::Write => self >= UserRole::Editor,
            Access::Admin => self == UserRole::Admin,
        }
    }
}

impl Scope {
    /// Whether a token with this scope allows `access`. Scopes nest: `write` includes `read`,
    /// `admin` includes both.
    pub fn allows(self, access: Access) -> bool {
        match access {
            Access::Read => true,
            Access::Write => self >= Scope::Write,
            Access::Admin => self == Scope::Admin,
        }
    }
}

/// An email address used to sign in: `local@domain`, no spaces, at most 254 characters, stored in
/// lower case so that sign-in does not depend on how it was typed.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Email(String);

impl Email {
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl std::str::FromStr for Email {
    type Err = ParseError;
    fn from_str(s: &str) -> Result<Email, ParseError> {
        let s = s.trim();
        let fail = |why: &str| ParseError::new("email", format!("{s:?} {why}"));
        if s.is_empty() {
            return Err(ParseError::new("email", "must not be empty"));
        }
        if s.len() > 254 {
            return Err(fail("is longer than 254 characters"));
        }
        if s.chars().any(|c| c.is_whitespace() || c.is_control()) {
            return Err(fail("contains a space or a control character"));
        }
        match s.split_once('@') {
            Some((local, domain))
                if !local.is_empty()
                    && !domain.is_empty()
                    && !domain.contains('@')
                    && !domain.starts_with('.')
                    && !domain.ends_with('.') =>
            {
                Ok(Email(s.to_lowercase()))
            }
            _ => Err(fail("is not an email address (expected name@domain)")),
        }
    }
}

impl TryFrom<String> for Email {
    type Error = ParseError;
    fn try_from(value: String) -> Result<Email, ParseError> {
        value.parse()
    }
}

impl From<Email> for String {
    fn from(value: Email) -> String {
        value.0
    }
}

impl std::fmt::Display for Email {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

/// A stored user. The password hash never leaves the store through this type.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct User {
    pub id: UserId,
    pub name: Name,
    pub email: Email,
    pub role: UserRole,
    pub disabled: bool,
    pub created_at: Timestamp,
}

/// The shortest password Debrief accepts.
pub const MIN_PASSWORD_CHARS: usize = 10;

/// Checks a new password: long enough, not absurdly long (hashing cost), no control characters.
pub fn check_password(password: &str) -> Result<(), ParseError> {
    let n = password.chars().count();
    if n < MIN_PASSWORD_CHARS {
        return Err(ParseError::new(
            "password",
            format!("must be at least {MIN_PASSWORD_CHARS} characters (got {n})"),
        ));
    }
    if password.len() > 1024 {
        return Err(ParseError::new("password", "must be at most 1024 bytes"));
    }
    if password.chars().any(char::is_control) {
        return Err(ParseError::new(
            "password",
            "must not contain control characters",
        ));
    }
    Ok(())
}

/// A stored API token. Only a hash of the secret is kept; the secret is shown once.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ApiToken {
    pub id: TokenId,
    pub user_id: UserId,
    pub name: Name,
    pub scope: Scope,
    pub created_at: Timestamp,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expires_at: Option<Timestamp>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_used_at: Option<Timestamp>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub revoked_at: Option<Timestamp>,
}

impl ApiToken {
    /// Whether the token can be used at `now`.
    pub fn is_active(&self, now: Timestamp) -> bool {
        self.revoked_at.is_none() && self.expires_at.is_none_or(|t| t > now)
    }
}

/// Who a reader is, for the visibility rule.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Reader {
    pub role: UserRole,
    /// Whether the reader is listed among the postmortem's participants.
    pub participant: bool,
}

/// Whether `reader` may see a postmortem in `status`. Until it is published, a postmortem is
/// visible to editors, admins and its own participants — people speak freely in a draft. Once
/// published (and after), every signed-in user may read it.
pub fn may_see(status: Status, reader: Reader) -> bool {
    match status {
        Status::Published | Status::Closed => true,
        Status::Draft | Status::InReview => reader.role >= UserRole::Editor || reader.participant,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn roles_and_scopes_nest() {
        assert!(UserRole::Viewer.allows(Access::Read));
        assert!(!UserRole::Viewer.allows(Access::Write));
        assert!(UserRole::Editor.allows(Access::Write));
        assert!(!UserRole::Editor.allows(Access::Admin));
        assert!(UserRole::Admin.allows(Access::Admin));
        assert!(!Scope::Read.allows(Access::Write));
        assert!(Scope::Write.allows(Access::Read));
        assert!(!Scope::Write.allows(Access::Admin));
    }

    #[test]
    fn drafts_are_for_editors_and_participants() {
        let viewer = Reader {
            role: UserRole::Viewer,
            participant: false,
        };
        assert!(!may_see(Status::Draft, viewer));
        assert!(!may_see(Status::InReview, viewer));
        assert!(may_see(Status::Published, viewer));
        assert!(may_see(Status::Closed, viewer));
        assert!(may_see(
            Status::Draft,
            Reader {
                participant: true,
                ..viewer
            }
        ));
        assert!(may_see(
            Status::Draft,
            Reader {
                role: UserRole::Editor,
                participant: false
            }
        ));
    }

    #[test]
    fn emails_are_checked_and_lowercased() {
        let e: Email = " Ana@Example.COM ".parse().expect("valid");
        assert_eq!(e.as_str(), "ana@example.com");
        for bad in [
            "",
            "ana",
            "@example.com",
            "ana@",
            "a b@example.com",
            "a@b@c",
            "a@.com",
        ] {
            let err = bad.parse::<Email>().expect_err(bad);
            assert_eq!(err.field, "email");
        }
    }

    #[test]
    fn passwords_need_length() {
        assert!(check_password("short").is_err());
        assert!(check_password("long enough pass").is_ok());
        assert!(check_password("tab\there is fine?").is_err());
    }
}
