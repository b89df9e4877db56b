//! Key operations of a cluster: store new keys, list and select with filters, delete,
//! share, unshare, set attributes. Each takes the caller's [`Login`]: whether its role may run
//! the operation at all is `policy`'s table, and ownership ("may this user touch this key?")
//! is checked here.
//!
//! Token keys live in the cluster database; session keys (`--session`) live only in the
//! `SessionKeys` of the process that made them.

use crate::store::records::{self, KeyRecord, LoginRecord};
use crate::store::{DbVersion, StoreError, Tx};

use super::key::attributes::{self, Assignment, Attribute, Setting};
use super::key::{
    filter, Derived, Flag, Key, KeyClass, KeyError, KeyType, QuorumValues, Settable, Term,
};
use super::login::Login;
use super::model::HsmType;
use super::policy::{self, OperationClass};
use super::process::is_alive;
use super::quorum::{ApprovalFile, Approve, Service};
use super::user::{Role, Username};
use super::{Cluster, HsmError};

/// Who is acting on keys: the user of a [`Login`] (or, for fixtures, a key's owner). Only
/// this module's parent makes one.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct Actor {
    pub(super) username: Username,
    pub(super) role: Role,
}

/// (HSMs of the cluster, HSMs that are up and hold a key's current version).
pub type Copies = (i64, i64);

/// A key's encoded material (the row's `material` column), zeroed when dropped.
pub type Blob = zeroize::Zeroizing<Vec<u8>>;

/// A key and its encoded material.
#[derive(Debug, Clone)]
pub struct StoredKey {
    pub key: Key,
    pub material: Blob,
}

/// The session keys of one login on one cluster. They live in the process, and how many it
/// holds is published on its login's row, so that every process counts the session keys of
/// the others towards the key quotas.
#[derive(Debug, Default)]
pub struct SessionKeys {
    keys: Vec<StoredKey>,
    /// The login row that publishes their number (none for keys made outside a login).
    login: Option<LoginRecord>,
}

impl SessionKeys {
    /// No session keys yet, published on `login`'s row.
    pub(super) fn for_login(login: LoginRecord) -> SessionKeys {
        SessionKeys {
            keys: Vec::new(),
            login: Some(login),
        }
    }

    pub fn len(&self) -> usize {
        self.keys.len()
    }

    /// Whether the key at `reference` is one of these session keys.
    pub(super) fn holds(&self, reference: u64) -> bool {
        self.keys.iter().any(|s| s.key.reference == reference)
    }

    pub fn is_empty(&self) -> bool {
        self.keys.is_empty()
    }

    /// (all, asymmetric) session keys.
    fn counts(&self) -> (usize, usize) {
        let asymmetric = self
            .keys
            .iter()
            .filter(|s| s.key.key_type.is_asymmetric())
            .count();
        (self.keys.len(), asymmetric)
    }

    /// Publishes, in `tx`, the numbers these keys will have once `removing` is gone and
    /// `adding` is in.
    fn publish(
        &self,
        tx: &Tx<'_>,
        removing: Option<u64>,
        adding: &[StoredKey],
    ) -> Result<(), HsmError> {
        let Some(login) = &self.login else {
            return Ok(());
        };
        let count = |keys: &mut dyn Iterator<Item = &StoredKey>| {
            keys.fold((0i64, 0i64), |(all, asym), s| {
                (all + 1, asym + i64::from(s.key.key_type.is_asymmetric()))
            })
        };
        let (all, asymmetric) = count(
            &mut self
                .keys
                .iter()
                .filter(|s| Some(s.key.reference) != removing)
                .chain(adding),
        );
        records::set_session_key_counts(tx, login, all, asymmetric)?;
        Ok(())
    }
}

/// (all, asymmetric) session keys held by the live logins other than `own`; logins of
/// processes that are gone are pruned on the way.
fn others_session_keys(tx: &Tx<'_>, own: Option<&LoginRecord>) -> Result<(usize, usize), HsmError> {
    let (mut all, mut asymmetric) = (0usize, 0usize);
    for (login, n, a) in records::session_key_holders(tx)? {
        if own == Some(&login) {
            continue;
        }
        if !is_alive(&login) {
            records::delete_login(tx, &login)?;
            continue;
        }
        all += usize::try_from(n).unwrap_or(0);
        asymmetric += usize::try_from(a).unwrap_or(0);
    }
    Ok((all, asymmetric))
}

/// A key about to be stored, under a reference taken with `records::allocate_references`.
#[derive(Debug, Clone)]
pub struct NewKey {
    pub reference: u64,
    pub key_type: KeyType,
    pub class: KeyClass,
    pub attrs: Settable,
    pub derived: Derived,
    pub quorum: QuorumValues,
    /// Crypto users to share with at creation.
    pub share_with: Vec<String>,
    pub material: Blob,
}

/// One key to store whole (imported, unwrapped, derived): what [`Cluster::store_one`] takes.
pub(super) struct OneKey {
    pub(super) key_type: KeyType,
    pub(super) class: KeyClass,
    pub(super) attrs: Settable,
    pub(super) material: super::crypto::KeyMaterial,
    pub(super) quorum: QuorumValues,
    pub(super) share_with: Vec<String>,
}

/// Checks `--manage-key-quorum-value` / `--use-key-quorum-value` against the number of users
/// associated with the key (owner and sharees).
pub fn check_quorum(
    manage: Option<u64>,
    usage: Option<u64>,
    associated: usize,
) -> Result<QuorumValues, KeyError> {
    match (manage, usage) {
        (None, None) => Ok(QuorumValues::default()),
        (Some(m), Some(u)) if m >= 2 && u >= 2 => {
            if m > 8 || u > 8 || m as usize > associated || u as usize > associated {
                Err(KeyError::InvalidQuorumValue)
            } else {
                Ok(QuorumValues {
                    manage: m as u8,
                    usage: u as u8,
                })
            }
        }
        _ => Err(KeyError::QuorumValuesBelowTwo),
    }
}

/// Keys per cluster and asymmetric keys per cluster (AWS CloudHSM quotas).
fn key_quotas(hsm_type: HsmType) -> (usize, usize) {
    match hsm_type {
        HsmType::Hsm2mMedium => (16_666, 3_333),
        HsmType::Hsm1Medium => (3_300, 3_300),
    }
}

/// A row of the cluster database that this version could not have written.
pub(in crate::hsm) fn corrupt(detail: String) -> HsmError {
    HsmError::Store(StoreError::Damaged {
        path: "cluster database".into(),
        detail,
    })
}

fn to_record(key: &Key) -> Result<KeyRecord, HsmError> {
    let json = |v: &dyn erased::Json| v.json().map_err(|e| corrupt(e.to_string()));
    Ok(KeyRecord {
        reference: key.reference as i64,
        owner: key.owner.clone(),
        key_type: key.key_type.as_str().to_string(),
        class: key.class.as_str().to_string(),
        label: key.attrs.label.clone(),
        settable: json(&key.attrs)?,
        derived: json(&key.derived)?,
        manage_quorum: i64::from(key.quorum.manage),
        use_quorum: i64::from(key.quorum.usage),
    })
}

/// Serialising attributes to the JSON columns.
mod erased {
    pub trait Json {
        fn json(&self) -> serde_json::Result<String>;
    }
    impl<T: serde::Serialize> Json for T {
        fn json(&self) -> serde_json::Result<String> {
            serde_json::to_string(self)
        }
    }
}

fn from_record(tx: &Tx<'_>, r: KeyRecord) -> Result<Key, HsmError> {
    let bad = |what: &str| corrupt(format!("key {:#x} has an unreadable {what}", r.reference));
    Ok(Key {
        reference: r.reference as u64,
        key_type: KeyType::parse(&r.key_type).ok_or_else(|| bad("key type"))?,
        class: KeyClass::parse(&r.class).ok_or_else(|| bad("class"))?,
        shared: records::key_shares(tx, r.reference)?,
        attrs: serde_json::from_str(&r.settable).map_err(|_| bad("attribute set"))?,
        derived: serde_json::from_str(&r.derived).map_err(|_| bad("derived attribute set"))?,
        quorum: QuorumValues {
            manage: u8::try_from(r.manage_quorum).unwrap_or(0),
            usage: u8::try_from(r.use_quorum).unwrap_or(0),
        },
        owner: r.owner,
    })
}

/// Keys decoded from their rows, by reference, with the stamp of the row each was decoded
/// from. The replication triggers give a key's row a new stamp on every change (a share or
/// an unshare included), so an equal stamp means the same key, and a key used again (every
/// `crypto sign` line of a piped session) skips decoding its attributes and reading its shares.
///
/// Only read transactions fill it: they see committed rows only. A write transaction that
/// rolls back also rolls back the stamp counter, and a later change would take the same
/// stamp again for other contents.
#[derive(Debug, Default)]
pub struct KeyCache(std::collections::HashMap<u64, (i64, Key)>);

/// The last key selected for use, and what it was selected from.
#[derive(Debug)]
pub(super) struct LastUse {
    db_version: DbVersion,
    actor: Actor,
    terms: Vec<Term>,
    key: Key,
    stamp: i64,
    copies: Copies,
}

/// A key's material still to decode, with its version; `None` when the decoded keys already
/// hold that version.
pub type Fresh = Option<(Version, Blob)>;

/// Which version of a key some decoded material is: a token key's row stamp, or the blob of
/// a session key (which has no row).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Version {
    Stamp(i64),
    Blob(Blob),
}

impl KeyCache {
    /// The stamp of the row `reference` was last decoded from.
    fn stamp(&self, reference: u64) -> Option<i64> {
        self.0.get(&reference).map(|(stamp, _)| *stamp)
    }

    /// The key of `row` (at `stamp`), decoded once per version.
    fn key(&mut self, tx: &Tx<'_>, stamp: i64, row: KeyRecord) -> Result<Key, HsmError> {
        let reference = row.reference as u64;
        if let Some((cached, key)) = self.0.get(&reference) {
            if *cached == stamp {
                return Ok(key.clone());
            }
        }
        let key = from_record(tx, row)?;
        self.0.insert(reference, (stamp, key.clone()));
        Ok(key)
    }
}

/// The rows of the keys `actor` can see, narrowed by what of `terms` SQL can check.
fn visible_rows<'a>(actor: &'a Actor, terms: &'a [Term]) -> records::Visible<'a> {
    // Admins and the appliance user see every key (references and labels for admins).
    let sees_all = matches!(actor.role, Role::Admin | Role::ApplianceUser);
    records::Visible {
        username: (!sees_all).then_some(actor.username.as_str()),
        label: filter::label(terms),
        reference: filter::reference(terms).map(|r| r as i64),
    }
}

/// Whether SQL checks all of `terms` (at most one label and one reference), so that the
/// rows need no decoding to be counted and paged.
fn sql_checks_all(terms: &[Term]) -> bool {
    let labels = terms
        .iter()
        .filter(|t| matches!(t, Term::Is(Attribute::Label, _)))
        .count();
    let references = terms
        .iter()
        .filter(|t| matches!(t, Term::Reference(_)))
        .count();
    labels <= 1 && references <= 1 && labels + references == terms.len()
}

/// The keys `actor` can see that match `terms`, token and session keys together, in
/// reference order. `cache` is for read transactions only (see [`KeyCache`]).
fn visible(
    tx: &Tx<'_>,
    mut cache: Option<&mut KeyCache>,
    actor: &Actor,
    terms: &[Term],
    session: &SessionKeys,
) -> Result<Vec<Key>, HsmError> {
    let rows = records::visible_keys(tx, visible_rows(actor, terms), None)?;
    let mut keys = Vec::new();
    for (stamp, row) in rows {
        let key = match cache.as_deref_mut() {
            Some(cache) => cache.key(tx, stamp, row)?,
            None => from_record(tx, row)?,
        };
        if filter::matches(terms, &key) {
            keys.push(key);
        }
    }
    keys.extend(
        session
            .keys
            .iter()
            .map(|s| &s.key)
            .filter(|k| filter::matches(terms, k))
            .cloned(),
    );
    keys.sort_by_key(|k| k.reference);
    Ok(keys)
}

fn exactly_one(mut keys: Vec<Key>) -> Result<Key, HsmError> {
    if keys.len() == 1 {
        if let Some(key) = keys.pop() {
            return Ok(key);
        }
    }
    Err(match keys.len() {
        0 => KeyError::NotFound,
        count => KeyError::SelectionCount { count },
    }
    .into())
}

pub(super) fn require_owner(actor: &Actor, key: &Key) -> Result<(), HsmError> {
    if key.owner == actor.username {
        Ok(())
    } else {
        Err(KeyError::NotOwner.into())
    }
}

impl Cluster {
    /// The keys `login` can see that match the filter, in reference order: its own, those
    /// shared with it and its session keys; an admin sees every key.
    pub fn list_keys(&mut self, login: &Login, terms: &[Term]) -> Result<Vec<Key>, HsmError> {
        self.guard(login, OperationClass::ListKeys)?;
        self.visible_keys(&login.actor, terms, &login.keys)
    }

    /// The keys `actor` can see that match `terms`, in reference order.
    pub(super) fn visible_keys(
        &mut self,
        actor: &Actor,
        terms: &[Term],
        session: &SessionKeys,
    ) -> Result<Vec<Key>, HsmError> {
        self.store
            .read(|tx| visible(tx, Some(&mut self.keys), actor, terms, session))
    }

    /// One page of the keys `login` can see that match `terms` (`start` keys skipped, at
    /// most `max` returned), and how many match in all. When SQL checks the whole filter and
    /// the login has no session keys, only the page is read and decoded: a first page of
    /// `key list` does not decode every key of the cluster.
    pub fn list_keys_page(
        &mut self,
        login: &Login,
        terms: &[Term],
        start: usize,
        max: usize,
    ) -> Result<(Vec<Key>, usize), HsmError> {
        self.guard(login, OperationClass::ListKeys)?;
        let (actor, session) = (&login.actor, &login.keys);
        if !(session.is_empty() && sql_checks_all(terms)) {
            let keys = self.visible_keys(actor, terms, session)?;
            let total = keys.len();
            return Ok((keys.into_iter().skip(start).take(max).collect(), total));
        }
        let which = visible_rows(actor, terms);
        let page = (
            i64::try_from(start).unwrap_or(i64::MAX),
            i64::try_from(max).unwrap_or(i64::MAX),
        );
        self.store.read(|tx| {
            let total = records::visible_count(tx, which)?;
            let mut keys = Vec::new();
            for (stamp, row) in records::visible_keys(tx, which, Some(page))? {
                keys.push(self.keys.key(tx, stamp, row)?);
            }
            Ok((keys, usize::try_from(total).unwrap_or(0)))
        })
    }

    /// The one key of those `login` can see that the filter selects (the documented error
    /// for any other number).
    pub fn select_key(&mut self, login: &Login, terms: &[Term]) -> Result<Key, HsmError> {
        self.guard(login, OperationClass::ListKeys)?;
        self.select(&login.actor, terms, &login.keys)
    }

    /// The one key of those `actor` can see that the filter selects.
    pub(super) fn select(
        &mut self,
        actor: &Actor,
        terms: &[Term],
        session: &SessionKeys,
    ) -> Result<Key, HsmError> {
        exactly_one(self.visible_keys(actor, terms, session)?)
    }

    /// The one key the filter selects, its [`Copies`], and its material unless the decoded
    /// keys (`Cluster::decoded`) already hold this version of it, read in one transaction:
    /// the hot path of key use.
    ///
    /// The same selection again on an unchanged database (see [`crate::store::Store::version`]) is answered
    /// from the last one, as long as the session has no session keys and the key is decoded.
    /// The same read checks that an HSM of the cluster is up (an unchanged database has the
    /// HSMs it had).
    pub(super) fn select_for_use(
        &mut self,
        actor: &Actor,
        terms: &[Term],
        session: &SessionKeys,
    ) -> Result<(Key, Fresh, Copies), HsmError> {
        // Taken before the read: a change committed in between makes the next one differ.
        let db_version = self.store.version()?;
        if let Some(m) = &self.last_use {
            let same = m.db_version == db_version
                && session.is_empty()
                && m.actor == *actor
                && m.terms == terms;
            let decoded = || {
                self.decoded
                    .get(&m.key.reference)
                    .is_some_and(|(held, _)| *held == Version::Stamp(m.stamp))
            };
            if same && decoded() {
                return Ok((m.key.clone(), None, m.copies));
            }
        }
        let cluster_id = &self.settings.id;
        let (key, stamp, fresh, copies) = self.store.read(|tx| {
            if !records::hsms(tx)?.iter().any(|h| h.state == "up") {
                return Err(HsmError::NoHsmAvailable {
                    id: cluster_id.clone(),
                });
            }
            let key = exactly_one(visible(tx, Some(&mut self.keys), actor, terms, session)?)?;
            let reference = key.reference as i64;
            let stamp = self.keys.stamp(key.reference);
            let in_session = session
                .keys
                .iter()
                .find(|s| s.key.reference == key.reference);
            let version = match (in_session, stamp) {
                (Some(s), _) => Version::Blob(s.material.clone()),
                (None, Some(stamp)) => Version::Stamp(stamp),
                (None, None) => return Err(KeyError::NotFound.into()),
            };
            let decoded = self
                .decoded
                .get(&key.reference)
                .is_some_and(|(held, _)| *held == version);
            let fresh = match version {
                _ if decoded => None,
                Version::Blob(ref blob) => Some((version.clone(), blob.clone())),
                Version::Stamp(_) => {
                    let blob = records::key_material(tx, reference)?.ok_or(KeyError::NotFound)?;
                    Some((version, blob))
                }
            };
            let copies = records::key_availability(tx, reference, stamp)?;
            Ok::<_, HsmError>((key, stamp, fresh, copies))
        })?;
        self.last_use = match stamp {
            Some(stamp) if session.is_empty() => Some(LastUse {
                db_version,
                actor: actor.clone(),
                terms: terms.to_vec(),
                key: key.clone(),
                stamp,
                copies,
            }),
            _ => None,
        };
        Ok((key, fresh, copies))
    }

    /// The encoded material of a key `login` owns, for diagnostics (the benchmark's
    /// breakdown of a signature).
    pub fn key_material(&mut self, login: &Login, key: &Key) -> Result<Blob, HsmError> {
        self.guard(login, OperationClass::KeyManagement)?;
        require_owner(&login.actor, key)?;
        self.material_blob(key, &login.keys)
    }

    /// The encoded material of a key selected from those `session`'s login can see.
    pub(super) fn material_blob(
        &mut self,
        key: &Key,
        session: &SessionKeys,
    ) -> Result<Blob, HsmError> {
        if let Some(s) = session
            .keys
            .iter()
            .find(|s| s.key.reference == key.reference)
        {
            return Ok(s.material.clone());
        }
        self.store
            .read(|tx| records::key_material(tx, key.reference as i64))?
            .ok_or_else(|| KeyError::NotFound.into())
    }

    /// Stores new keys owned by `actor` (a pair, or one key) in one transaction, after the
    /// quotas and the users to share with are checked. Session keys go to `session`.
    ///
    /// `make` runs inside that transaction and returns the keys; it may take their references
    /// there (`records::allocate_references`), so that a new key costs one commit, and a
    /// refused one takes no reference.
    pub(super) fn store_keys(
        &mut self,
        actor: &Actor,
        token: bool,
        session: &mut SessionKeys,
        make: impl FnOnce(&Tx<'_>) -> Result<Vec<NewKey>, HsmError>,
    ) -> Result<Vec<Key>, HsmError> {
        let (max_keys, max_asym) = key_quotas(self.settings.hsm_type);
        let (own, own_asym) = session.counts();
        let (keys, stored) = self.store.write(|tx| {
            let new = make(tx)?;
            // Token keys, and the session keys of every live login (this one's included):
            // a session key takes room on the HSM like any other.
            let (total, asym) = records::key_counts(tx)?;
            let (others, others_asym) = others_session_keys(tx, session.login.as_ref())?;
            let in_session = own + others;
            let in_session_asym = own_asym + others_asym;
            let adding = new.len();
            let adding_asym = new.iter().filter(|k| k.key_type.is_asymmetric()).count();
            if total as usize + in_session + adding > max_keys {
                return Err(KeyError::KeyQuota { max: max_keys }.into());
            }
            if adding_asym > 0 && asym as usize + in_session_asym + adding_asym > max_asym {
                return Err(KeyError::AsymmetricKeyQuota { max: max_asym }.into());
            }
            for new_key in &new {
                for user in &new_key.share_with {
                    check_share_target(tx, actor, user)?;
                }
            }
            let mut keys = Vec::with_capacity(adding);
            let mut stored = Vec::new();
            for n in new {
                // Checked above; kept as the HSM knows the users (`CU2` is cu2), once each.
                let mut shared = Vec::with_capacity(n.share_with.len());
                for user in &n.share_with {
                    let user = Username::parse(user)?.to_string();
                    if !shared.contains(&user) {
                        shared.push(user);
                    }
                }
                let key = Key {
                    reference: n.reference,
                    key_type: n.key_type,
                    class: n.class,
                    owner: actor.username.to_string(),
                    shared: shared.clone(),
                    attrs: n.attrs,
                    derived: n.derived,
                    quorum: n.quorum,
                };
                if token {
                    records::insert_key(tx, &to_record(&key)?, &n.material)?;
                    for user in &shared {
                        records::add_key_share(tx, key.reference as i64, user)?;
                    }
                } else {
                    stored.push(StoredKey {
                        key: key.clone(),
                        material: n.material,
                    });
                }
                keys.push(key);
            }
            if !stored.is_empty() {
                session.publish(tx, None, &stored)?;
            }
            Ok::<_, HsmError>((keys, stored))
        })?;
        session.keys.extend(stored);
        Ok(keys)
    }

    /// Stores one new key of `actor` (see [`Cluster::store_keys`]) under a reference taken in
    /// the storing transaction, after `also` ran in that transaction (an approval spent with
    /// the key, or nothing). `what` names the key in the error of a bug.
    pub(super) fn store_one(
        &mut self,
        actor: &Actor,
        token: bool,
        session: &mut SessionKeys,
        new: OneKey,
        also: impl FnOnce(&Tx<'_>) -> Result<(), HsmError>,
        what: &'static str,
    ) -> Result<Key, HsmError> {
        let mut keys = self.store_keys(actor, token, session, |tx| {
            also(tx)?;
            Ok(vec![NewKey {
                reference: records::allocate_references(tx, 1)? as u64,
                key_type: new.key_type,
                class: new.class,
                attrs: new.attrs,
                derived: super::keygen::derived(&new.material),
                quorum: new.quorum,
                share_with: new.share_with,
                material: new.material.to_blob(),
            }])
        })?;
        keys.pop().ok_or(KeyError::Internal(what).into())
    }

    /// `key delete`: only the owner deletes, and only the selected key.
    pub fn delete_key(&mut self, login: &mut Login, terms: &[Term]) -> Result<(), HsmError> {
        self.guard(login, OperationClass::KeyManagement)?;
        let Login {
            actor,
            keys: session,
            ..
        } = login;
        let actor = &*actor;
        let done = self.store.write(|tx| {
            let key = exactly_one(visible(tx, None, actor, terms, session)?)?;
            require_owner(actor, &key)?;
            if session
                .keys
                .iter()
                .any(|s| s.key.reference == key.reference)
            {
                session.publish(tx, Some(key.reference), &[])?;
                return Ok(Some(key.reference));
            }
            records::delete_key(tx, key.reference as i64)?;
            Ok::<_, HsmError>(None)
        })?;
        if let Some(reference) = done {
            session.keys.retain(|s| s.key.reference != reference);
        }
        Ok(())
    }

    /// `key share` (`share` true) or `key unshare`: the owner's, checked against and
    /// spending an approval of the `key-management` service in the transaction that changes
    /// the key's sharees.
    pub fn share_key(
        &mut self,
        login: &mut Login,
        terms: &[Term],
        username: &Username,
        role: Role,
        share: bool,
        approval: Option<&ApprovalFile>,
    ) -> Result<(), HsmError> {
        self.guard(login, OperationClass::KeyManagement)?;
        if role != Role::CryptoUser {
            return Err(KeyError::ShareWithNonCryptoUser.into());
        }
        let now = self.now();
        let (actor, session) = (&login.actor, &login.keys);
        let session_ref = self.store.write(|tx| {
            let key = exactly_one(visible(tx, None, actor, terms, session)?)?;
            require_owner(actor, &key)?;
            Approve::key(Service::KeyManagement, &key).spend(tx, login, approval, now)?;
            if share {
                check_share_user(tx, actor, username)?;
                if key.shared.iter().any(|u| u == username) {
                    return Err(KeyError::AlreadyShared {
                        username: username.to_string(),
                    }
                    .into());
                }
            } else if !key.shared.iter().any(|u| u == username) {
                return Err(KeyError::NotShared {
                    username: username.to_string(),
                }
                .into());
            }
            if session
                .keys
                .iter()
                .any(|s| s.key.reference == key.reference)
            {
                return Ok(Some(key.reference));
            }
            if share {
                records::add_key_share(tx, key.reference as i64, username)?;
            } else {
                records::remove_key_share(tx, key.reference as i64, username)?;
            }
            Ok::<_, HsmError>(None)
        })?;
        if let Some(reference) = session_ref {
            if let Some(s) = login
                .keys
                .keys
                .iter_mut()
                .find(|s| s.key.reference == reference)
            {
                if share {
                    s.key.shared.push(username.to_string());
                } else {
                    s.key.shared.retain(|u| u != username);
                }
            }
        }
        Ok(())
    }

    /// `key set-attribute`: the owner changes what the attribute rules allow; only an admin
    /// sets `trusted` (on any key), and an admin sets nothing else. Checked against and
    /// spending an approval of the `key-management` service in the transaction that changes
    /// the key.
    pub fn set_key_attribute(
        &mut self,
        login: &mut Login,
        terms: &[Term],
        assignment: &Assignment,
        approval: Option<&ApprovalFile>,
    ) -> Result<(), HsmError> {
        if !self.admits(login) {
            return Err(HsmError::LoginVoid);
        }
        if let Some(attribute) = assignment.attribute() {
            policy::require_attribute(login.username(), login.role(), attribute)?;
        }
        self.require_available()?;
        let hsm2m = self.settings.hsm_type == HsmType::Hsm2mMedium;
        let now = self.now();
        let (actor, session) = (&login.actor, &login.keys);
        let promoted = self.store.write(|tx| {
            let mut key = exactly_one(visible(tx, None, actor, terms, session)?)?;
            // An admin sets `trusted` on any key (the policy let it set nothing else).
            if actor.role != Role::Admin {
                require_owner(actor, &key)?;
            }
            Approve::key(Service::KeyManagement, &key).spend(tx, login, approval, now)?;
            if !key.attrs.flags.modifiable {
                return Err(KeyError::NotModifiable.into());
            }
            attributes::apply(
                &mut key.attrs,
                key.key_type,
                key.class,
                assignment,
                Setting::Modification,
                hsm2m,
            )?;
            let in_session = session
                .keys
                .iter()
                .position(|s| s.key.reference == key.reference);
            match in_session {
                Some(i) if Flag::Token.get(&key.attrs.flags) => {
                    // A session key made a token key moves into the cluster.
                    let material = session
                        .keys
                        .get(i)
                        .map(|s| s.material.clone())
                        .unwrap_or_default();
                    records::insert_key(tx, &to_record(&key)?, &material)?;
                    for user in &key.shared {
                        records::add_key_share(tx, key.reference as i64, user)?;
                    }
                    session.publish(tx, Some(key.reference), &[])?;
                    Ok(Some((i, None)))
                }
                Some(i) => Ok(Some((i, Some(key)))),
                None => {
                    let record = to_record(&key)?;
                    records::update_key_settable(
                        tx,
                        record.reference,
                        &record.label,
                        &record.settable,
                    )?;
                    Ok::<_, HsmError>(None)
                }
            }
        })?;
        let session = &mut login.keys;
        match promoted {
            Some((i, None)) => {
                session.keys.remove(i);
            }
            Some((i, Some(key))) => {
                if let Some(s) = session.keys.get_mut(i) {
                    s.key = key;
                }
            }
            None => {}
        }
        Ok(())
    }
}

/// [`check_share_user`] for a name as given (a new key's `share_with`).
pub(super) fn check_share_target(
    tx: &Tx<'_>,
    actor: &Actor,
    username: &str,
) -> Result<(), HsmError> {
    check_share_user(tx, actor, &Username::parse(username)?)
}

/// `username` may be given a share of a key of `actor`: a crypto user other than `actor`.
pub(super) fn check_share_user(
    tx: &Tx<'_>,
    actor: &Actor,
    username: &Username,
) -> Result<(), HsmError> {
    if *username == actor.username {
        return Err(KeyError::ShareWithOwner.into());
    }
    match records::user(tx, username)? {
        Some(u) if u.role == Role::CryptoUser.as_str() => Ok(()),
        Some(_) => Err(KeyError::ShareWithNonCryptoUser.into()),
        None => Err(KeyError::ShareTargetMissing {
            username: username.to_string(),
        }
        .into()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quorum_rules() {
        assert_eq!(
            check_quorum(None, None, 1).unwrap(),
            QuorumValues::default()
        );
        assert_eq!(
            check_quorum(Some(2), Some(2), 2).unwrap(),
            QuorumValues {
                manage: 2,
                usage: 2
            }
        );
        assert_eq!(
            check_quorum(Some(2), None, 5),
            Err(KeyError::QuorumValuesBelowTwo)
        );
        assert_eq!(
            check_quorum(Some(1), Some(2), 5),
            Err(KeyError::QuorumValuesBelowTwo)
        );
        assert_eq!(
            check_quorum(Some(3), Some(2), 2),
            Err(KeyError::InvalidQuorumValue)
        );
        assert_eq!(
            check_quorum(Some(9), Some(9), 10),
            Err(KeyError::InvalidQuorumValue)
        );
    }
}
