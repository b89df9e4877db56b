//! Token-sign tokens: generating approval and registration tokens, listing and deleting
//! them, and voiding those of login sessions that ended.

use super::*;

impl Cluster {
    /// `quorum token-sign generate`: a token for `service` (bound to a key for key services),
    /// issued to `login`'s session and returned as the JSON document to write to the
    /// `--token` file.
    pub fn generate_token(
        &mut self,
        login: &Login,
        service: Service,
        key_reference: Option<u64>,
        entropy: &mut Entropy,
    ) -> Result<serde_json::Value, HsmError> {
        self.guard(login, OperationClass::QuorumTokens)?;
        let (username, role) = (login.username(), login.role());
        match (service, role) {
            (Service::User | Service::Quorum | Service::Cluster, r) if r != Role::Admin => {
                return Err(QuorumError::ServiceForAdmins {
                    service: service.as_str(),
                }
                .into())
            }
            (Service::KeyUsage | Service::KeyManagement, r) if r != Role::CryptoUser => {
                return Err(QuorumError::ServiceForCryptoUsers {
                    service: service.as_str(),
                }
                .into())
            }
            (Service::Cluster, _) if self.settings.hsm_type != crate::hsm::HsmType::Hsm2mMedium => {
                return Err(QuorumError::ClusterServiceUnavailable.into())
            }
            _ => {}
        }
        let now = self.now();
        let hsms = self.hsms()?.len().max(1);
        let tag = login.session.tag();
        if service == Service::Registration {
            let mut tokens = Vec::new();
            let mut rows = Vec::new();
            for _ in 0..hsms {
                let mut data = vec![0u8; 245];
                entropy.fill(&mut data);
                let unsigned = b64().encode(sha256(&data));
                tokens.push(SignedToken {
                    approval_data: Some(b64().encode(&data)),
                    unsigned: unsigned.clone(),
                    signed: String::new(),
                });
                rows.push(self.token_row(
                    unsigned,
                    TokenKind::Registration,
                    username,
                    service,
                    None,
                    &tag,
                    now,
                    data,
                ));
            }
            self.insert_tokens(username, TokenKind::Registration, None, rows, now)?;
            return serde_json::to_value(TokenSetFile {
                version: "2.0".into(),
                tokens,
            })
            .map_err(|e| HsmError::Kdf(e.to_string()));
        }
        // One approval record per HSM, in the layout of the guide's example (80 bytes each).
        let mut data = Vec::with_capacity(80 * hsms);
        for i in 0..hsms {
            data.extend_from_slice(&1u16.to_be_bytes());
            data.extend_from_slice(&service.id().to_be_bytes());
            data.extend_from_slice(&(0x14u32 + i as u32).to_be_bytes());
            data.extend_from_slice(&[0u8; 8]);
            let mut nonce = [0u8; 16];
            entropy.fill(&mut nonce);
            data.extend_from_slice(&nonce);
            let mut name = [0u8; 36];
            for (slot, b) in name.iter_mut().zip(username.bytes()) {
                *slot = b;
            }
            data.extend_from_slice(&name);
            data.extend_from_slice(&(now as u32).to_be_bytes());
            data.extend_from_slice(&[0u8; 8]);
        }
        let token = b64().encode(sha256(&data));
        let row = self.token_row(
            token.clone(),
            TokenKind::Approval,
            username,
            service,
            key_reference,
            &tag,
            now,
            data.clone(),
        );
        // One active token per user per service for the admin services.
        let replace = service.is_admin_service().then_some(service);
        self.insert_tokens(username, TokenKind::Approval, replace, vec![row], now)?;
        let mut file = serde_json::json!({
            "version": "2.0",
            "approval_data": b64().encode(&data),
            "token": token,
            "signatures": [],
        });
        if let (Some(r), Some(obj)) = (key_reference, file.as_object_mut()) {
            obj.insert("service".into(), service.as_str().into());
            obj.insert(
                "key_reference".into(),
                crate::hsm::key::format_reference(r).into(),
            );
        }
        Ok(file)
    }

    pub(super) fn token_row(
        &self,
        token: String,
        kind: TokenKind,
        username: &str,
        service: Service,
        key_reference: Option<u64>,
        tag: &str,
        now: i64,
        approval_data: Vec<u8>,
    ) -> TokenRecord {
        TokenRecord {
            token,
            kind: kind.as_str().to_string(),
            username: username.to_string(),
            service: service.as_str().to_string(),
            key_reference: key_reference.map(|r| r as i64),
            session: tag.to_string(),
            created: now,
            approval_data,
        }
    }

    pub(super) fn insert_tokens(
        &mut self,
        username: &str,
        kind: TokenKind,
        replace_service: Option<Service>,
        rows: Vec<TokenRecord>,
        now: i64,
    ) -> Result<(), HsmError> {
        self.store.write(|tx| {
            let (generated_timeout, _) = timeouts(tx)?;
            prune_dead_sessions(tx, now - generated_timeout)?;
            if let Some(service) = replace_service {
                records::delete_user_tokens(
                    tx,
                    username,
                    Some(kind.as_str()),
                    Some(service.as_str()),
                )?;
            }
            let live = records::tokens(tx)?
                .iter()
                .filter(|t| tag_is_alive(&t.session))
                .count();
            if live + rows.len() > MAX_TOKENS {
                return Err(QuorumError::TooManyTokens { max: MAX_TOKENS }.into());
            }
            for row in &rows {
                records::insert_token(tx, row)?;
            }
            Ok::<_, HsmError>(())
        })
    }

    /// `quorum token-sign list`.
    pub fn list_tokens(&mut self, login: &Login) -> Result<Vec<TokenInfo>, HsmError> {
        self.guard(login, OperationClass::QuorumTokens)?;
        let now = self.now();
        self.store.read(|tx| {
            let (generated, _) = timeouts(tx)?;
            let mut out = Vec::new();
            for t in records::tokens(tx)? {
                if !TokenKind::Approval.holds(&t)
                    || now > t.created.saturating_add(generated)
                    || !tag_is_alive(&t.session)
                {
                    continue;
                }
                let service = Service::parse(&t.service).ok_or_else(|| {
                    crate::hsm::keys::corrupt(format!(
                        "a token of an unknown service {:?}",
                        t.service
                    ))
                })?;
                let required = match (service, t.key_reference) {
                    (Service::KeyUsage, Some(r)) => key_quorum(tx, r)?.1,
                    (Service::KeyManagement, Some(r)) => key_quorum(tx, r)?.0,
                    (s, _) => records::quorum_value(tx, s.as_str())?,
                };
                out.push(TokenInfo {
                    username: t.username,
                    service,
                    key_reference: t.key_reference.map(|r| r as u64),
                    approvals_required: u8::try_from(required).unwrap_or(u8::MAX),
                    timeout_seconds: t.created.saturating_add(generated) - now,
                });
            }
            Ok(out)
        })
    }

    /// `quorum token-sign delete --scope user|all`: the tokens of `login`'s user, or all.
    pub fn delete_tokens(&mut self, login: &Login, all: bool) -> Result<(), HsmError> {
        self.guard(login, OperationClass::QuorumAdministration)?;
        let username = login.username();
        self.store.write(|tx| {
            if all {
                records::delete_all_tokens(tx)?;
            } else {
                records::delete_user_tokens(tx, username, None, None)?;
            }
            Ok::<_, HsmError>(())
        })
    }
}

/// Unsigned tokens issued to a session, to store in the transaction that decides to issue
/// them.
#[derive(Debug)]
pub(in crate::hsm) struct Issued {
    pub(super) kind: TokenKind,
    pub(super) rows: Vec<TokenRecord>,
    pub(super) file: TokenSetFile,
}

/// Stores `issued` in place of the earlier tokens of its kind of `username`; returns the file
/// of unsigned tokens.
pub(in crate::hsm) fn store_issued(
    tx: &Tx<'_>,
    username: &str,
    issued: Issued,
) -> Result<TokenSetFile, HsmError> {
    records::delete_user_tokens(tx, username, Some(issued.kind.as_str()), None)?;
    for row in &issued.rows {
        records::insert_token(tx, row)?;
    }
    Ok(issued.file)
}

/// Drops tokens of sessions whose process is gone. An approval token made before
/// `expired_before` would have expired anyway; a younger one stays (void, and counted towards
/// no limit) until then, so that a command offering it can be told why it is void: its login
/// session has ended.
pub(super) fn prune_dead_sessions(tx: &Tx<'_>, expired_before: i64) -> Result<(), HsmError> {
    for t in records::tokens(tx)? {
        let explainable = TokenKind::Approval.holds(&t) && t.created >= expired_before;
        if !tag_is_alive(&t.session) && !explainable {
            records::delete_token(tx, &t.token)?;
        }
    }
    Ok(())
}
