//! Registering a user's token-sign key, for quorum approvals and for MFA, from signatures
//! over the tokens its session was issued.

use super::*;

impl Cluster {
    /// `user change-quorum token-sign register`: the logged-in user's public key, proven by
    /// signatures over the registration tokens this session generated.
    pub fn register_quorum_key(
        &mut self,
        login: &Login,
        public_pem: &[u8],
        signed: &TokenSetFile,
    ) -> Result<(), HsmError> {
        self.guard(login, OperationClass::QuorumTokens)?;
        let username = login.username();
        let spki = rsa_spki(public_pem)?;
        let tag = login.session.tag();
        self.store.write(|tx| {
            verify_token_set(tx, username, &tag, TokenKind::Registration, &spki, signed)?;
            let mut key = records::user_key(tx, username)?.unwrap_or(UserKeyRecord {
                public_key: None,
                quorum: false,
                mfa: false,
            });
            if key.mfa && key.public_key.as_deref() != Some(&spki[..]) {
                // Quorum and MFA share one key: a new quorum key replaces the MFA key too.
                key.mfa = true;
            }
            key.public_key = Some(spki.clone());
            key.quorum = true;
            records::set_user_key(tx, username, &key)?;
            Ok::<_, HsmError>(())
        })
    }

    /// The unsigned MFA tokens (one per HSM) of `kind` (`mfa-register` or `mfa-login`) for
    /// `username`, issued to `session`; [`store_issued`] stores them.
    pub(in crate::hsm) fn unsigned_tokens(
        &mut self,
        username: &str,
        session: &SessionId,
        kind: TokenKind,
        entropy: &mut Entropy,
    ) -> Result<Issued, HsmError> {
        let now = self.now();
        let hsms = self.hsms()?.len().max(1);
        let tag = session.tag();
        let mut tokens = Vec::new();
        let mut rows = Vec::new();
        for _ in 0..hsms {
            let mut data = vec![0u8; 64];
            entropy.fill(&mut data);
            let unsigned = b64().encode(sha256(&data));
            tokens.push(SignedToken {
                approval_data: None,
                unsigned: unsigned.clone(),
                signed: String::new(),
            });
            rows.push(self.token_row(
                unsigned,
                kind,
                username,
                Service::Registration,
                None,
                &tag,
                now,
                data,
            ));
        }
        Ok(Issued {
            kind,
            rows,
            file: TokenSetFile {
                version: "2.0".into(),
                tokens,
            },
        })
    }

    /// `user change-mfa token-sign --token`, first step: the unsigned tokens (one per HSM)
    /// that `username` signs to register its MFA key, issued to `login`'s session.
    pub fn issue_mfa_registration(
        &mut self,
        login: &Login,
        username: &Username,
        role: Role,
        entropy: &mut Entropy,
    ) -> Result<TokenSetFile, HsmError> {
        self.password_guard(login, username)?;
        // The target must exist before tokens are written for it.
        self.require_user(username, role)?;
        let issued =
            self.unsigned_tokens(username, &login.session, TokenKind::MfaRegister, entropy)?;
        self.store.write(|tx| store_issued(tx, username, issued))
    }

    /// `user change-mfa token-sign --token`, second step: registers `public_pem` for MFA (and
    /// quorum: they share one key) once every token is signed with it, and sets the user's
    /// password, checked against and spending an approval of the `user` service, all in one
    /// transaction.
    pub fn register_mfa_key(
        &mut self,
        login: &Login,
        username: &Username,
        role: Role,
        public_pem: &[u8],
        signed: &TokenSetFile,
        password: &str,
        approval: Option<&ApprovalFile>,
        entropy: &mut Entropy,
    ) -> Result<UserInfo, HsmError> {
        self.password_guard(login, username)?;
        let spki = rsa_spki(public_pem)?;
        // A bad password is told after the signatures were checked.
        let hash = check_password(password)
            .and_then(|()| hash_password(password, self.settings.kdf, entropy));
        let tag = login.session.tag();
        let now = self.now();
        let cluster_id = self.settings.id.clone();
        self.store.write(|tx| {
            Approve::service(tx, Service::User)?.spend(tx, login, approval, now)?;
            verify_token_set(tx, username, &tag, TokenKind::MfaRegister, &spki, signed)?;
            let hash = hash?;
            let user = set_password(tx, &cluster_id, username, role, &hash, login)?;
            records::set_user_key(
                tx,
                username,
                &UserKeyRecord {
                    public_key: Some(spki.clone()),
                    quorum: true,
                    mfa: true,
                },
            )?;
            Ok(user)
        })
    }

    /// The (quorum, mfa) registrations of every user, for `user list`.
    pub fn registrations(&mut self) -> Result<Vec<(String, bool, bool)>, HsmError> {
        self.store.read(|tx| {
            let mut out = Vec::new();
            for u in records::users(tx)? {
                let k = records::user_key(tx, &u.username)?;
                out.push((
                    u.username,
                    k.as_ref().is_some_and(|k| k.quorum),
                    k.as_ref().is_some_and(|k| k.mfa),
                ));
            }
            Ok::<_, HsmError>(out)
        })
    }
}

/// Checks the signed MFA login tokens of `username` issued to the session `tag` (the second
/// factor); they are consumed.
pub(in crate::hsm) fn verify_mfa_login(
    tx: &Tx<'_>,
    username: &str,
    tag: &str,
    signed: &TokenSetFile,
) -> Result<(), HsmError> {
    let key = records::user_key(tx, username)?
        .and_then(|k| k.public_key)
        .ok_or_else(|| QuorumError::MfaNotEnabled {
            username: username.to_string(),
        })?;
    verify_token_set(tx, username, tag, TokenKind::MfaLogin, &key, signed)
}

/// Removes the token-sign key of `username`: its MFA and its quorum registration (they share
/// the key).
pub(in crate::hsm) fn clear_user_key(tx: &Tx<'_>, username: &str) -> Result<(), HsmError> {
    records::set_user_key(
        tx,
        username,
        &UserKeyRecord {
            public_key: None,
            quorum: false,
            mfa: false,
        },
    )?;
    Ok(())
}

/// Every token of `signed` must be one this session issued to `username` as `kind`, and be
/// signed by `spki`; all issued tokens of that kind must be signed. They are consumed.
pub(super) fn verify_token_set(
    tx: &Tx<'_>,
    username: &str,
    tag: &str,
    kind: TokenKind,
    spki: &[u8],
    signed: &TokenSetFile,
) -> Result<(), HsmError> {
    let issued: Vec<TokenRecord> = records::tokens(tx)?
        .into_iter()
        .filter(|t| kind.holds(t) && t.username == username && t.session == tag)
        .collect();
    if issued.is_empty() || signed.tokens.len() != issued.len() {
        return Err(QuorumError::BadRegistrationSignature.into());
    }
    for t in &signed.tokens {
        let ok = issued.iter().any(|i| i.token == t.unsigned)
            && b64()
                .decode(t.unsigned.trim())
                .is_ok_and(|token| signature_valid(spki, &token, &t.signed));
        if !ok {
            return Err(QuorumError::BadRegistrationSignature.into());
        }
    }
    for t in &issued {
        records::delete_token(tx, &t.token)?;
    }
    Ok(())
}

/// The SubjectPublicKeyInfo DER of an RSA public key PEM (2048 to 4096 bits).
pub(super) fn rsa_spki(pem: &[u8]) -> Result<Vec<u8>, HsmError> {
    match PublicKey::from_pem(pem) {
        Ok(key @ PublicKey::Rsa(_)) => Ok(key.to_spki_der()),
        Ok(_) => Err(QuorumError::BadPublicKey {
            detail: "not an RSA key".into(),
        }
        .into()),
        Err(e) => Err(QuorumError::BadPublicKey {
            detail: e.to_string(),
        }
        .into()),
    }
}
