//! HSM users: roles as the CLI spells them, and the rules for names and passwords
//! (AWS CloudHSM quotas: usernames of at most 31 characters, passwords of 8 to 32).

use super::HsmError;

/// The role of an HSM user, spelled as `user list` prints it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Role {
    /// The default admin of a never-activated cluster.
    UnactivatedAdmin,
    Admin,
    CryptoUser,
    /// `app_user`, the appliance user AWS uses to keep HSMs in step.
    ApplianceUser,
}

impl Role {
    pub fn as_str(self) -> &'static str {
        match self {
            Role::UnactivatedAdmin => "unactivated-admin",
            Role::Admin => "admin",
            Role::CryptoUser => "crypto-user",
            Role::ApplianceUser => "internal(APPLIANCE_USER)",
        }
    }

    pub fn parse(s: &str) -> Option<Role> {
        [
            Role::UnactivatedAdmin,
            Role::Admin,
            Role::CryptoUser,
            Role::ApplianceUser,
        ]
        .into_iter()
        .find(|r| r.as_str() == s)
    }

    /// Whether a user of this role logs in with `--role login_role`.
    pub fn answers_to(self, login_role: Role) -> bool {
        match login_role {
            Role::Admin | Role::UnactivatedAdmin => {
                matches!(self, Role::Admin | Role::UnactivatedAdmin)
            }
            other => self == other,
        }
    }
}

/// The built-in administrator.
pub const ADMIN: &str = "admin";
/// The built-in appliance user.
pub const APPLIANCE_USER: &str = "app_user";
/// The password of the unactivated admin on a new cluster, as on real HSMs.
pub const UNACTIVATED_ADMIN_PASSWORD: &str = "password";

/// A username in the form the HSM stores it: 1 to 31 ASCII letters, digits or `_`, in
/// lowercase (usernames are case-insensitive). Made only by [`Username::parse`], once, where a
/// name enters the HSM (a front end's argument, a PIN, a fixture), so that every operation
/// compares and looks up the stored form.
///
/// ```compile_fail
/// let forged = cloudhsm_sim::hsm::Username(String::from("Not Normalised"));
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Username(String);

impl Username {
    /// Checks `name` and returns it in the stored (lowercase) form;
    /// [`HsmError::InvalidUsername`] otherwise.
    pub fn parse(name: &str) -> Result<Username, HsmError> {
        let ok = !name.is_empty()
            && name.chars().count() <= 31
            && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_');
        if ok {
            Ok(Username(name.to_ascii_lowercase()))
        } else {
            Err(HsmError::InvalidUsername)
        }
    }

    /// [`Username::parse`] for a login: a malformed name is refused as
    /// [`HsmError::BadCredentials`], as an unknown user is, so that a login never tells
    /// whether a user exists.
    pub fn parse_login(name: &str) -> Result<Username, HsmError> {
        Username::parse(name).map_err(|_| HsmError::BadCredentials)
    }

    /// A name read from the cluster's own rows, stored normalised.
    pub(super) fn stored(name: String) -> Username {
        Username(name)
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    pub fn into_string(self) -> String {
        self.0
    }
}

impl std::ops::Deref for Username {
    type Target = str;

    fn deref(&self) -> &str {
        &self.0
    }
}

impl AsRef<str> for Username {
    fn as_ref(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Display for Username {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::str::FromStr for Username {
    type Err = HsmError;

    fn from_str(name: &str) -> Result<Username, HsmError> {
        Username::parse(name)
    }
}

impl PartialEq<str> for Username {
    fn eq(&self, other: &str) -> bool {
        self.0 == other
    }
}

impl PartialEq<&str> for Username {
    fn eq(&self, other: &&str) -> bool {
        self.0 == *other
    }
}

impl PartialEq<String> for Username {
    fn eq(&self, other: &String) -> bool {
        &self.0 == other
    }
}

impl PartialEq<Username> for String {
    fn eq(&self, other: &Username) -> bool {
        *self == other.0
    }
}

/// Checks a new password against the cluster's rules.
pub fn check_password(password: &str) -> Result<(), HsmError> {
    let len = password.chars().count();
    if (8..=32).contains(&len) && !password.contains(':') {
        Ok(())
    } else {
        Err(HsmError::InvalidPassword)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn usernames() {
        assert_eq!(Username::parse("Alice_1").unwrap().as_str(), "alice_1");
        assert_eq!(Username::parse(&"a".repeat(31)).unwrap(), "a".repeat(31));
        assert_eq!("ALICE".parse::<Username>().unwrap(), "alice");
        for bad in ["", "a-b", "a b", "ünï", "ALİCE", &"a".repeat(32)] {
            assert!(
                matches!(Username::parse(bad), Err(HsmError::InvalidUsername)),
                "{bad:?} accepted"
            );
            assert!(matches!(
                Username::parse_login(bad),
                Err(HsmError::BadCredentials)
            ));
        }
    }

    #[test]
    fn passwords() {
        assert!(check_password("12345678").is_ok());
        assert!(check_password(&"p".repeat(32)).is_ok());
        for bad in ["1234567", "with:colon", &"p".repeat(33)] {
            assert!(check_password(bad).is_err(), "{bad:?} accepted");
        }
    }

    #[test]
    fn roles_round_trip_and_login_roles() {
        for r in [
            Role::UnactivatedAdmin,
            Role::Admin,
            Role::CryptoUser,
            Role::ApplianceUser,
        ] {
            assert_eq!(Role::parse(r.as_str()), Some(r));
        }
        assert!(Role::UnactivatedAdmin.answers_to(Role::Admin));
        assert!(!Role::CryptoUser.answers_to(Role::Admin));
        assert!(!Role::Admin.answers_to(Role::CryptoUser));
    }
}
