//! Signing, verifying and digesting, single- and multi-part, and random numbers. The key
//! rules are the cluster's (`Cluster::check_signing_key` at init, again at every use); this
//! file keeps the operation's state and the module-side hashing of multi-part messages.

use aws_lc_rs::digest;
use cloudhsm_sim::hsm::key::Term;
use cloudhsm_sim::hsm::{SignUse, Signing};
use cryptoki_sys::*;
use zeroize::Zeroizing;

use crate::boundary::{Output, Result};
use crate::mechanisms::{self, Input, SignMechanism};
use crate::session::{algorithm, Data, DigestOp, Session, SignOp};
use crate::state::{Module, Slot};

/// Which of a session's two signature operations.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Side {
    Sign,
    Verify,
}

fn op(session: &mut Session, side: Side) -> &mut Option<SignOp> {
    match side {
        Side::Sign => &mut session.sign,
        Side::Verify => &mut session.verify,
    }
}

/// `C_SignInit` / `C_VerifyInit`: the key is checked now ("validate key at init", the
/// library's default): a key the CLI made unusable a moment ago fails here.
pub(crate) fn init(
    module: &Module,
    slot: &Slot,
    session: &mut Session,
    side: Side,
    mechanism: SignMechanism,
    handle: CK_OBJECT_HANDLE,
) -> Result<()> {
    if op(session, side).is_some() {
        return Err(CKR_OPERATION_ACTIVE);
    }
    let key = module
        .object(session.slot, handle)
        .map_err(|_| CKR_KEY_HANDLE_INVALID)?;
    let usage = match side {
        Side::Sign => SignUse::Sign,
        Side::Verify => SignUse::Verify,
    };
    let terms = [Term::Reference(key)];
    slot.with_login(module, |c, login| {
        c.check_signing_key(login, &terms, mechanism.signing, usage)
    })
    .map_err(|e| e.key_use_rv())?;
    *op(session, side) = Some(SignOp {
        key,
        mechanism,
        data: Data::Start,
        made: None,
    });
    Ok(())
}

/// Adds a part (`C_SignUpdate` / `C_VerifyUpdate`).
pub(crate) fn update(session: &mut Session, side: Side, part: &[u8]) -> Result<()> {
    let slot = op(session, side);
    let o = slot.as_mut().ok_or(CKR_OPERATION_NOT_INITIALIZED)?;
    if !o.mechanism.multi_part() || o.made.is_some() {
        // A single-part mechanism, or a one-call signature already under way.
        *slot = None;
        return Err(CKR_OPERATION_ACTIVE);
    }
    match (&mut o.data, o.mechanism.input) {
        (Data::Start, Input::Hashed(hash)) => {
            let mut context = digest::Context::new(algorithm(hash));
            context.update(part);
            o.data = Data::Hashing(hash, context);
        }
        (Data::Start, Input::Whole) => o.data = Data::Whole(Zeroizing::new(part.to_vec())),
        (Data::Hashing(_, context), _) => context.update(part),
        (Data::Whole(data), _) => data.extend_from_slice(part),
    }
    Ok(())
}

/// What the HSM is asked to sign or verify when the operation ends: the signing form and the
/// data (the message, a hash, a DigestInfo).
fn finish_input(o: &SignOp, whole: Option<&[u8]>) -> Result<(Signing, Zeroizing<Vec<u8>>)> {
    let m = &o.mechanism;
    match (whole, &o.data) {
        (Some(data), Data::Start) => Ok((m.signing_for(data)?, Zeroizing::new(data.to_vec()))),
        (Some(_), _) => Err(CKR_OPERATION_ACTIVE),
        (None, Data::Start) => match m.input {
            Input::Hashed(hash) => Ok((
                m.signing_for_hash(hash),
                hashed(hash, digest::digest(algorithm(hash), b"").as_ref(), m),
            )),
            Input::Whole => Ok((m.signing_for(b"")?, Zeroizing::new(Vec::new()))),
        },
        (None, Data::Hashing(hash, context)) => {
            let value = context.clone().finish();
            Ok((m.signing_for_hash(*hash), hashed(*hash, value.as_ref(), m)))
        }
        (None, Data::Whole(data)) => Ok((m.signing_for(data)?, data.clone())),
    }
}

/// A hash computed by the module, as the HSM takes it for `m`: PKCS#1 v1.5 wants the
/// DigestInfo, the others the bare value.
fn hashed(
    hash: cloudhsm_sim::hsm::crypto::HashFunction,
    value: &[u8],
    m: &SignMechanism,
) -> Zeroizing<Vec<u8>> {
    use cloudhsm_sim::hsm::crypto::Mechanism;
    match m.signing {
        Signing::Asymmetric(Mechanism::RsaPkcs { .. }) => {
            Zeroizing::new([hash.digest_info_prefix(), value].concat())
        }
        _ => Zeroizing::new(value.to_vec()),
    }
}

/// `C_Sign` (`whole` is the data) or `C_SignFinal` (`whole` is `None`), with the buffer
/// protocol: a length query or a buffer too small keeps the signature made for the next call;
/// any other failure ends the operation.
pub(crate) fn sign(
    module: &Module,
    slot: &Slot,
    session: &mut Session,
    whole: Option<&[u8]>,
    out: &Output,
) -> Result<()> {
    let o = session.sign.as_mut().ok_or(CKR_OPERATION_NOT_INITIALIZED)?;
    let made = match &o.made {
        Some((data, signature)) if whole.is_none_or(|w| w == data.as_slice()) => {
            Ok(signature.clone())
        }
        _ => finish_input(o, whole).and_then(|(signing, data)| {
            let terms = [Term::Reference(o.key)];
            slot.with_login(module, |c, login| {
                c.sign_with(login, &terms, signing, &data, &module.entropy)
            })
            .map(|s| (data, s))
            .map_err(|e| e.key_use_rv())
            .map(|(data, signature)| {
                o.made = Some((data, signature.clone()));
                signature
            })
        }),
    };
    let delivered = made.and_then(|signature| out.put(&signature));
    match delivered {
        Ok(false) | Err(CKR_BUFFER_TOO_SMALL) => {}
        _ => session.sign = None,
    }
    delivered.map(|_| ())
}

/// `C_Verify` (`whole` is the data) or `C_VerifyFinal`: `CKR_SIGNATURE_INVALID` for a wrong
/// signature, `CKR_SIGNATURE_LEN_RANGE` for one of the wrong length. Ends the operation.
pub(crate) fn verify(
    module: &Module,
    slot: &Slot,
    session: &mut Session,
    whole: Option<&[u8]>,
    signature: &[u8],
) -> Result<()> {
    let o = session.verify.take().ok_or(CKR_OPERATION_NOT_INITIALIZED)?;
    let (signing, data) = finish_input(&o, whole)?;
    let terms = [Term::Reference(o.key)];
    let valid = slot
        .with_login(module, |c, login| {
            let key = c.check_signing_key(login, &terms, signing, SignUse::Verify)?;
            if mechanisms::signature_len(&key, signing).is_some_and(|n| n != signature.len()) {
                return Ok(None);
            }
            c.verify_with(login, &terms, signing, &data, signature)
                .map(Some)
        })
        .map_err(|e| e.key_use_rv())?;
    match valid {
        Some(true) => Ok(()),
        Some(false) => Err(CKR_SIGNATURE_INVALID),
        None => Err(CKR_SIGNATURE_LEN_RANGE),
    }
}

/// `C_DigestInit`.
pub(crate) fn digest_init(session: &mut Session, mechanism: &CK_MECHANISM) -> Result<()> {
    if session.digest.is_some() {
        return Err(CKR_OPERATION_ACTIVE);
    }
    let hash = mechanisms::digest(mechanism.mechanism).ok_or(CKR_MECHANISM_INVALID)?;
    if !mechanism.pParameter.is_null() && mechanism.ulParameterLen != 0 {
        return Err(CKR_MECHANISM_PARAM_INVALID);
    }
    session.digest = Some(DigestOp {
        hash,
        context: digest::Context::new(algorithm(hash)),
        updated: false,
    });
    Ok(())
}

/// `C_Digest` (`whole` is the data) or `C_DigestFinal`.
pub(crate) fn digest(session: &mut Session, whole: Option<&[u8]>, out: &Output) -> Result<()> {
    let d = session
        .digest
        .as_mut()
        .ok_or(CKR_OPERATION_NOT_INITIALIZED)?;
    if out.is_query() {
        return out.put(&vec![0; d.hash.output_len()]).map(|_| ());
    }
    let mut context = d.context.clone();
    match whole {
        Some(_) if d.updated => {
            session.digest = None;
            return Err(CKR_OPERATION_ACTIVE);
        }
        Some(data) => context.update(data),
        None => {}
    }
    let value = context.finish();
    let delivered = out.put(value.as_ref());
    if !matches!(delivered, Err(CKR_BUFFER_TOO_SMALL)) {
        session.digest = None;
    }
    delivered.map(|_| ())
}

/// `C_DigestUpdate`.
pub(crate) fn digest_update(session: &mut Session, part: &[u8]) -> Result<()> {
    let d = session
        .digest
        .as_mut()
        .ok_or(CKR_OPERATION_NOT_INITIALIZED)?;
    d.context.update(part);
    d.updated = true;
    Ok(())
}

/// `C_GenerateRandom`: from the system's generator (AWS-LC), login or not.
pub(crate) fn random(out: &mut [u8]) -> Result<()> {
    aws_lc_rs::rand::fill(out).map_err(|_| CKR_FUNCTION_FAILED)
}
