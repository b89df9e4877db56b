//! Encryption and decryption, single- and multi-part (`C_EncryptInit` ... `C_DecryptFinal`).
//! The key rules are the cluster's (`Cluster::begin_encrypt`/`begin_decrypt`, at init); the
//! operation then holds the key material, so the calls after init need no cluster. This file
//! keeps PKCS#11's side: one operation of each direction per session, the buffer protocol,
//! and the `CKM_AES_GCM` IV written back into the caller's parameters (spec/pkcs11.md §3.4).

use cloudhsm_sim::hsm::crypto::Direction;
use cloudhsm_sim::hsm::key::Term;
use cryptoki_sys::*;
use zeroize::Zeroizing;

use crate::boundary::{Output, Result};
use crate::ciphers::CipherMechanism;
use crate::error::cipher_rv;
use crate::session::{CipherOp, Session};
use crate::state::{LoginFailure, Module, Slot};

fn op(session: &mut Session, direction: Direction) -> &mut Option<CipherOp> {
    match direction {
        Direction::Encrypt => &mut session.encrypt,
        Direction::Decrypt => &mut session.decrypt,
    }
}

/// `C_EncryptInit` / `C_DecryptInit`: the key is checked now; a `CKM_AES_GCM` encryption
/// zeroes the caller's `pIv` (AWS: "pIV points to a zeroized buffer when AES-GCM encryption
/// is initialized").
pub(crate) fn init(
    module: &Module,
    slot: &Slot,
    session: &mut Session,
    direction: Direction,
    mechanism: CipherMechanism,
    handle: CK_OBJECT_HANDLE,
) -> Result<()> {
    if op(session, direction).is_some() {
        return Err(CKR_OPERATION_ACTIVE);
    }
    let key = module
        .object(session.slot, handle)
        .map_err(|_| CKR_KEY_HANDLE_INVALID)?;
    let terms = [Term::Reference(key)];
    let cipher = &mechanism.cipher;
    let (_, operation) = slot
        .with_login(module, |c, login| match direction {
            Direction::Encrypt => c.begin_encrypt(login, &terms, cipher, &module.entropy),
            Direction::Decrypt => c.begin_decrypt(login, &terms, cipher),
        })
        .map_err(|e| match e {
            LoginFailure::Hsm(e) => cipher_rv(&e, direction),
            other => other.key_use_rv(),
        })?;
    let iv_out = match (mechanism.iv_out, operation.iv()) {
        (Some(out), Some(iv)) => {
            out.zero();
            Some((out, iv.to_vec()))
        }
        _ => None,
    };
    *op(session, direction) = Some(CipherOp {
        operation: Some(operation),
        made: None,
        iv_out,
        updated: false,
    });
    Ok(())
}

/// Whether the operation goes on after a call that returned `result`: a length query, a
/// part delivered (multi-part) and a buffer too small keep it; anything else ends it.
fn keep(result: &Result<bool>, more: bool) -> bool {
    match result {
        Ok(false) | Err(CKR_BUFFER_TOO_SMALL) => true,
        Ok(true) => more,
        Err(_) => false,
    }
}

/// `C_Encrypt` / `C_Decrypt`: the whole data in one call. A length query answers without
/// running the operation (the exact length, or an upper bound for a decryption that removes
/// padding); a buffer too small keeps the output made for the next call with the same data.
pub(crate) fn single(
    session: &mut Session,
    direction: Direction,
    data: &[u8],
    out: &Output,
) -> Result<()> {
    let slot = op(session, direction);
    let o = slot.as_mut().ok_or(CKR_OPERATION_NOT_INITIALIZED)?;
    let result = single_call(o, direction, data, out);
    if matches!(result, Ok(true)) {
        if let Some((out, iv)) = &o.iv_out {
            out.write(iv);
        }
    }
    if !keep(&result, false) {
        *slot = None;
    }
    result.map(|_| ())
}

fn single_call(o: &mut CipherOp, direction: Direction, data: &[u8], out: &Output) -> Result<bool> {
    if o.updated {
        return Err(CKR_OPERATION_ACTIVE);
    }
    if let Some((input, output)) = &o.made {
        // PKCS#11: the call after CKR_BUFFER_TOO_SMALL gives the same data again.
        if input.as_slice() != data {
            return Err(CKR_ARGUMENTS_BAD);
        }
        return out.put(output);
    }
    let operation = o.operation.take().ok_or(CKR_OPERATION_NOT_INITIALIZED)?;
    if out.is_query() {
        let len = operation.output_len(data.len());
        o.operation = Some(operation);
        return out.room_for(len);
    }
    let output = Zeroizing::new(
        operation
            .single(data)
            .map_err(|e| cipher_rv(&e, direction))?,
    );
    let delivered = out.put(&output);
    if delivered == Err(CKR_BUFFER_TOO_SMALL) {
        o.made = Some((Zeroizing::new(data.to_vec()), output));
    }
    delivered
}

/// `C_EncryptUpdate` / `C_DecryptUpdate`: the output of every block now complete. AES-GCM
/// and RSA have no parts: `CKR_MECHANISM_INVALID` (AWS known issue ki-pkcs11-8).
pub(crate) fn update(
    session: &mut Session,
    direction: Direction,
    part: &[u8],
    out: &Output,
) -> Result<()> {
    let slot = op(session, direction);
    let o = slot.as_mut().ok_or(CKR_OPERATION_NOT_INITIALIZED)?;
    let result = update_call(o, direction, part, out);
    if !keep(&result, true) {
        *slot = None;
    }
    result.map(|_| ())
}

fn update_call(o: &mut CipherOp, direction: Direction, part: &[u8], out: &Output) -> Result<bool> {
    if o.made.is_some() {
        return Err(CKR_OPERATION_ACTIVE);
    }
    let operation = o.operation.as_mut().ok_or(CKR_OPERATION_NOT_INITIALIZED)?;
    if !operation.is_multipart() {
        return Err(CKR_MECHANISM_INVALID);
    }
    // The length is exact: the operation knows the bytes it holds back.
    if !out.room_for(operation.update_len(part.len()))? {
        return Ok(false);
    }
    let output = Zeroizing::new(
        operation
            .update(part)
            .map_err(|e| cipher_rv(&e, direction))?,
    );
    o.updated = true;
    out.put(&output)
}

/// `C_EncryptFinal` / `C_DecryptFinal`: the held-back last block (CBC-PAD), checked and
/// unpadded when decrypting. The length answered is exact, but an upper bound (one block)
/// for a `CKM_AES_CBC_PAD` decryption.
pub(crate) fn finish(session: &mut Session, direction: Direction, out: &Output) -> Result<()> {
    let slot = op(session, direction);
    let o = slot.as_mut().ok_or(CKR_OPERATION_NOT_INITIALIZED)?;
    let result = finish_call(o, direction, out);
    if !keep(&result, false) {
        *slot = None;
    }
    result.map(|_| ())
}

fn finish_call(o: &mut CipherOp, direction: Direction, out: &Output) -> Result<bool> {
    if o.made.is_some() {
        return Err(CKR_OPERATION_ACTIVE);
    }
    let operation = o.operation.as_ref().ok_or(CKR_OPERATION_NOT_INITIALIZED)?;
    if operation.is_multipart() && !out.room_for(operation.finish_len())? {
        return Ok(false);
    }
    let operation = o.operation.take().ok_or(CKR_OPERATION_NOT_INITIALIZED)?;
    let output = Zeroizing::new(operation.finish().map_err(|e| cipher_rv(&e, direction))?);
    out.put(&output)
}
