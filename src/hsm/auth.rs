//! Password hashing: argon2id PHC strings with a per-cluster cost preset. Verification reads
//! the parameters from the stored string, so a hash made under one preset verifies under any.

use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use argon2::{Algorithm, Argon2, Params, Version};

use super::{Entropy, HsmError};

/// The cost of password hashing in a cluster.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kdf {
    /// OWASP's argon2id minimum: 19 MiB, t=2, p=1 (about 40 ms a hash).
    Default,
    /// For CI: 256 KiB, t=1, p=1 (well under a millisecond).
    Fast,
}

impl Kdf {
    pub fn as_str(self) -> &'static str {
        match self {
            Kdf::Default => "default",
            Kdf::Fast => "fast",
        }
    }

    pub fn parse(s: &str) -> Option<Kdf> {
        match s {
            "default" => Some(Kdf::Default),
            "fast" => Some(Kdf::Fast),
            _ => None,
        }
    }

    fn params(self) -> Result<Params, HsmError> {
        let (m, t) = match self {
            Kdf::Default => (19 * 1024, 2),
            Kdf::Fast => (256, 1),
        };
        Params::new(m, t, 1, None).map_err(|e| HsmError::Kdf(e.to_string()))
    }
}

/// Hashes `password` into an argon2id PHC string.
pub fn hash_password(password: &str, kdf: Kdf, entropy: &mut Entropy) -> Result<String, HsmError> {
    let mut salt = [0u8; 16];
    entropy.fill(&mut salt);
    let salt = SaltString::encode_b64(&salt).map_err(|e| HsmError::Kdf(e.to_string()))?;
    let argon = Argon2::new(Algorithm::Argon2id, Version::V0x13, kdf.params()?);
    argon
        .hash_password(password.as_bytes(), &salt)
        .map(|h| h.to_string())
        .map_err(|e| HsmError::Kdf(e.to_string()))
}

/// Whether `password` matches the stored PHC string. A malformed stored string never matches.
pub fn verify_password(password: &str, phc: &str) -> bool {
    match PasswordHash::new(phc) {
        Ok(parsed) => Argon2::default()
            .verify_password(password.as_bytes(), &parsed)
            .is_ok(),
        Err(_) => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hash_verifies_and_hides_password() {
        let mut e = Entropy::new(Some(1));
        let phc = hash_password("correct horse", Kdf::Fast, &mut e).unwrap();
        assert!(phc.starts_with("$argon2id$v=19$m=256,t=1,p=1$"));
        assert!(!phc.contains("correct horse"));
        assert!(verify_password("correct horse", &phc));
        assert!(!verify_password("correct horsf", &phc));
        assert!(!verify_password("correct horse", "not a phc string"));
    }
}
