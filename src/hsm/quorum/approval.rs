//! Approvals: whether a quorum approval token approves an operation, checked and spent in
//! the transaction that makes the change it approves.

use super::*;

impl Cluster {
    /// Whether `approval` would approve an operation of the admin service `service` by
    /// `login` now, without spending it: for a front end that refuses before it prompts for a
    /// password. The guarded operation checks and spends the approval again, in the
    /// transaction that makes its change.
    pub fn check_service_approval(
        &mut self,
        login: &Login,
        service: Service,
        approval: Option<&ApprovalFile>,
    ) -> Result<(), HsmError> {
        if !self.admits(login) {
            return Err(HsmError::LoginVoid);
        }
        let now = self.now();
        self.store.read(|tx| {
            Approve::service(tx, service)?
                .verify(tx, &login.who(), approval, now)
                .map(drop)
        })
    }

    /// Whether `approval` would approve an operation of `service` on `key` by `login` now,
    /// without spending it (see [`Cluster::check_service_approval`]). Reads nothing when the
    /// key's quorum value asks for no approval.
    pub(in crate::hsm) fn check_key_approval(
        &mut self,
        login: &Login,
        service: Service,
        key: &Key,
        approval: Option<&ApprovalFile>,
    ) -> Result<(), HsmError> {
        let wanted = Approve::key(service, key);
        if wanted.required <= 1 {
            return Ok(());
        }
        let now = self.now();
        let who = login.who();
        self.store
            .read(|tx| wanted.verify(tx, &who, approval, now).map(drop))
    }
}

/// Who offers an approval: a logged-in user, in its login session (see `Login::who`).
#[derive(Debug)]
pub(in crate::hsm) struct Who<'a> {
    pub(in crate::hsm) username: &'a str,
    /// The tag of the login session (`SessionId::tag`): a token approves only operations of
    /// the session it was issued to.
    pub(in crate::hsm) session: String,
}

/// What an approval must approve: an operation of `service` (on a key, for the key
/// services), by how many approvers, and who may approve.
#[derive(Debug)]
pub(in crate::hsm) struct Approve {
    service: Service,
    key_reference: Option<u64>,
    /// The approvals needed: at most 1 needs no approval at all.
    pub(in crate::hsm) required: u8,
    /// Who may approve: a key's owner and the users it is shared with; `None` for the admin
    /// services, whose approvers are the admins.
    approvers: Option<Vec<String>>,
}

impl Approve {
    /// An operation of a key service on `key`, against the key's quorum value (manage for
    /// key-management, use for key-usage).
    pub(in crate::hsm) fn key(service: Service, key: &Key) -> Approve {
        let required = match service {
            Service::KeyUsage => key.quorum.usage,
            _ => key.quorum.manage,
        };
        let mut approvers = vec![key.owner.clone()];
        approvers.extend(key.shared.iter().cloned());
        Approve {
            service,
            key_reference: Some(key.reference),
            required,
            approvers: Some(approvers),
        }
    }

    /// An operation of an admin service (`user`, `quorum`), against its quorum value.
    pub(in crate::hsm) fn service(tx: &Tx<'_>, service: Service) -> Result<Approve, HsmError> {
        let value = records::quorum_value(tx, service.as_str())?;
        Ok(Approve {
            service,
            key_reference: None,
            required: u8::try_from(value).unwrap_or(u8::MAX),
            approvers: None,
        })
    }

    /// Checks `approval` (the parsed `--approval` file) for an operation by `login` at time
    /// `now`, and spends it: its token is gone when `tx` commits. Run it in the transaction
    /// that makes the approved change, so that one approval approves one change, whatever
    /// the number of threads and processes offering it.
    pub(in crate::hsm) fn spend(
        &self,
        tx: &Tx<'_>,
        login: &Login,
        approval: Option<&ApprovalFile>,
        now: i64,
    ) -> Result<(), HsmError> {
        self.spend_by(tx, &login.who(), approval, now)
    }

    /// [`Approve::spend`] for a caller that holds parts of its login elsewhere.
    pub(in crate::hsm) fn spend_by(
        &self,
        tx: &Tx<'_>,
        who: &Who<'_>,
        approval: Option<&ApprovalFile>,
        now: i64,
    ) -> Result<(), HsmError> {
        if let Some(token) = self.verify(tx, who, approval, now)? {
            records::delete_token(tx, &token)?;
        }
        Ok(())
    }

    /// Checks `approval` without spending it; returns the token it would spend (`None` when
    /// no approval is required).
    fn verify(
        &self,
        tx: &Tx<'_>,
        who: &Who<'_>,
        approval: Option<&ApprovalFile>,
        now: i64,
    ) -> Result<Option<String>, HsmError> {
        let (service, required) = (self.service, self.required);
        if required <= 1 {
            return Ok(None);
        }
        let Some(approval) = approval else {
            return Err(if service.is_admin_service() {
                QuorumError::ApprovalRequired.into()
            } else {
                crate::hsm::key::KeyError::QuorumFailed.into()
            });
        };
        let (generated_timeout, _) = timeouts(tx)?;
        let (username, session) = (who.username, who.session.as_str());
        let Some(row) = records::token(tx, &approval.token)? else {
            return Err(QuorumError::InvalidSignaturePair.into());
        };
        let approval_row = TokenKind::Approval.holds(&row);
        if approval_row && row.session != session && !tag_is_alive(&row.session) {
            return Err(QuorumError::SessionEnded.into());
        }
        if !approval_row || row.username != username || row.session != session {
            return Err(QuorumError::InvalidSignaturePair.into());
        }
        if row.service != service.as_str() {
            return Err(QuorumError::WrongService {
                issued: row.service,
                wanted: service.as_str(),
            }
            .into());
        }
        if row.key_reference.is_some() && row.key_reference != self.key_reference.map(|r| r as i64)
        {
            return Err(QuorumError::WrongKey.into());
        }
        if now > row.created.saturating_add(generated_timeout) {
            return Err(QuorumError::Expired.into());
        }
        let data = b64()
            .decode(approval.approval_data.trim())
            .unwrap_or_default();
        let token = b64().decode(approval.token.trim()).unwrap_or_default();
        if data != row.approval_data || sha256(&data) != token {
            return Err(QuorumError::InvalidSignaturePair.into());
        }
        if approval.signatures.is_empty() {
            return Err(QuorumError::NoSignatures.into());
        }
        let mut approved: Vec<String> = Vec::new();
        for sig in &approval.signatures {
            let Ok(name) = Username::parse(&sig.username).map(Username::into_string) else {
                return Err(QuorumError::InvalidSignaturePair.into());
            };
            let Some(user) = records::user(tx, &name)? else {
                return Err(QuorumError::InvalidSignaturePair.into());
            };
            let eligible = match &self.approvers {
                None => user.role == Role::Admin.as_str(),
                Some(list) => list.contains(&name),
            };
            let key = records::user_key(tx, &name)?;
            let registered = key.as_ref().is_some_and(|k| k.quorum);
            let public = key.and_then(|k| k.public_key).unwrap_or_default();
            if !eligible || !registered || !signature_valid(&public, &token, &sig.signature) {
                return Err(QuorumError::InvalidSignaturePair.into());
            }
            if !approved.contains(&name) {
                approved.push(name);
            }
        }
        if approved.len() < usize::from(required) {
            return Err(QuorumError::TooFew {
                current: approved.len(),
                required,
            }
            .into());
        }
        Ok(Some(row.token))
    }
}
