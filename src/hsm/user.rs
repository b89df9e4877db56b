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

/// Checks a username and returns it in the lowercase form the HSM stores.
pub fn normalize_username(name: &str) -> Result<String, HsmError> {
    let ok = !name.is_empty()
        && name.chars().count() <= 31
        && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_');
    if ok {
        Ok(name.to_ascii_lowercase())
    } else {
        Err(HsmError::InvalidUsername)
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
        assert_eq!(normalize_username("Alice_1").unwrap(), "alice_1");
        assert_eq!(normalize_username(&"a".repeat(31)).unwrap(), "a".repeat(31));
        for bad in ["", "a-b", "a b", "ünï", &"a".repeat(32)] {
            assert!(normalize_username(bad).is_err(), "{bad:?} accepted");
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
