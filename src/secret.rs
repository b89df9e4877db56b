//! Secrets that cross the front ends: the zeroizing [`Password`] and the `user:password`
//! [`Credentials`] of `CLOUDHSM_PIN` and of a PKCS#11 PIN.
//!
//! A leaf: it imports nothing from the crate, so that `grammar` (which holds a typed
//! `--password`), `hsm` (which re-exports both types for every front end) and the front ends
//! themselves share one copy.

use std::fmt;

use zeroize::Zeroizing;

/// A password: typed as an option (`--password`), prompted for, or taken from
/// `CLOUDHSM_PIN` or a PKCS#11 PIN. Its bytes are zeroed when it is dropped, and `Debug`
/// never shows them.
///
/// The copies that other code keeps are out of reach: clap's raw argument values, rustyline's
/// line editor and the process environment.
#[derive(Clone, Default, PartialEq, Eq)]
pub struct Password(Zeroizing<String>);

impl Password {
    /// The password's text.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl From<String> for Password {
    fn from(text: String) -> Password {
        Password(Zeroizing::new(text))
    }
}

impl fmt::Debug for Password {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Password(<redacted>)")
    }
}

/// A username and password given as one `user:password` string: `CLOUDHSM_PIN` in the CLI's
/// single-command mode, the PIN of `C_Login` in the PKCS#11 module.
///
/// The string splits at its first `:`: the username is what comes before it (possibly empty,
/// which the login then refuses like any unknown user), the password everything after it,
/// colons included. The username is taken as given; the login normalises it.
#[derive(Clone, PartialEq, Eq)]
pub struct Credentials {
    username: String,
    password: Password,
}

/// A PIN that is not of the form `<username>:<password>`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum MalformedPin {
    /// No `:` separates a username from a password.
    #[error("the PIN has no ':' between the username and the password")]
    NoSeparator,
    /// The PIN's bytes are not UTF-8 (a PKCS#11 PIN is bytes).
    #[error("the PIN is not valid UTF-8")]
    NotUtf8,
}

impl Credentials {
    /// Splits `pin` at its first `:`.
    pub fn parse(pin: &str) -> Result<Credentials, MalformedPin> {
        let (username, password) = pin.split_once(':').ok_or(MalformedPin::NoSeparator)?;
        Ok(Credentials {
            username: username.to_string(),
            password: Password::from(password.to_string()),
        })
    }

    /// [`Credentials::parse`] for a PIN given as bytes (`C_Login`'s `pPin`, `ulPinLen`).
    pub fn parse_bytes(pin: &[u8]) -> Result<Credentials, MalformedPin> {
        Credentials::parse(std::str::from_utf8(pin).map_err(|_| MalformedPin::NotUtf8)?)
    }

    /// The username, as given (not normalised).
    pub fn username(&self) -> &str {
        &self.username
    }

    /// The password.
    pub fn password(&self) -> &Password {
        &self.password
    }
}

impl fmt::Debug for Credentials {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Credentials")
            .field("username", &self.username)
            .field("password", &self.password)
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn split(pin: &str) -> Result<(String, String), MalformedPin> {
        Credentials::parse(pin).map(|c| (c.username().to_string(), c.password().expose().into()))
    }

    #[test]
    fn the_password_is_everything_after_the_first_colon() {
        let pair = |u: &str, p: &str| Ok((u.to_string(), p.to_string()));
        assert_eq!(split("alice:secret-pw"), pair("alice", "secret-pw"));
        assert_eq!(
            split("user:pass:with:colons"),
            pair("user", "pass:with:colons")
        );
        assert_eq!(split("admin:a:b:c:d:e"), pair("admin", "a:b:c:d:e"));
        assert_eq!(split("alice::"), pair("alice", ":"));
        // Spaces and case are the caller's: the login normalises the username.
        assert_eq!(split(" Alice :pw "), pair(" Alice ", "pw "));
    }

    #[test]
    fn an_empty_username_or_password_still_parses_and_is_left_to_the_login() {
        let pair = |u: &str, p: &str| Ok((u.to_string(), p.to_string()));
        assert_eq!(split(":pw"), pair("", "pw"));
        assert_eq!(split("alice:"), pair("alice", ""));
        assert_eq!(split(":"), pair("", ""));
    }

    #[test]
    fn no_colon_is_malformed() {
        for pin in ["", "admin", "admin-pw", "alice;pw"] {
            assert_eq!(split(pin), Err(MalformedPin::NoSeparator), "{pin:?}");
        }
    }

    #[test]
    fn a_pin_of_bytes_must_be_utf8() {
        let ok = Credentials::parse_bytes(b"cu1:pw:1").unwrap();
        assert_eq!((ok.username(), ok.password().expose()), ("cu1", "pw:1"));
        assert_eq!(
            Credentials::parse_bytes(b"cu1:\xff\xfe").map(drop),
            Err(MalformedPin::NotUtf8)
        );
        assert_eq!(
            Credentials::parse_bytes(b"cu1").map(drop),
            Err(MalformedPin::NoSeparator)
        );
    }

    #[test]
    fn debug_never_shows_the_password() {
        let creds = Credentials::parse("alice:hunter2:x").unwrap();
        let shown = format!("{creds:?}");
        assert!(!shown.contains("hunter2"), "{shown}");
        assert!(
            shown.contains("alice") && shown.contains("<redacted>"),
            "{shown}"
        );
        assert_eq!(format!("{:?}", creds.password()), "Password(<redacted>)");
    }
}
