//! Every function of PKCS#11 v2.40, exported by name and through `C_GetFunctionList`. Each
//! body runs inside [`guard`](crate::boundary::guard) (no panic crosses into the caller) and
//! reads the caller's memory only through the checked helpers of `boundary`. Functions AWS's
//! library does not support return `CKR_FUNCTION_NOT_SUPPORTED` after the usual
//! initialisation and session checks (spec/pkcs11.md §2.2).

#![allow(non_snake_case)]

use std::ffi::c_void;

use cloudhsm_sim::hsm::crypto::Direction;
use cryptoki_sys::*;

use crate::boundary::{self, lock, Output, Result};
use crate::ciphers::CipherMechanism;
use crate::crypto::{self, Side};
use crate::mechanisms::SignMechanism;
use crate::session::Session;
use crate::state::{self, Module, Slot};
use crate::wrapping::{self, Wrap};
use crate::{certificates, ciphers, derive, encryption, general, objects, template};

/// Defines exported entry points: `fn C_X(args) { body }` becomes an `extern "C"` function
/// whose body runs under [`boundary::guard`] and returns `CKR_OK` when it ends with `Ok`.
macro_rules! entry {
    ($(fn $name:ident($($arg:ident: $ty:ty),* $(,)?) $body:block)*) => {$(
        /// A PKCS#11 v2.40 entry point.
        ///
        /// # Safety
        /// The caller keeps PKCS#11's contract for every pointer argument.
        #[no_mangle]
        pub unsafe extern "C" fn $name($($arg: $ty),*) -> CK_RV {
            boundary::guard(|| -> Result<()> { $body })
        }
    )*};
}

/// Runs `f` on session `h`, its slot and the module. A call that fails because another
/// thread's `C_Finalize` ended the module under it returns `CKR_CRYPTOKI_NOT_INITIALIZED`.
fn with_session<T>(
    h: CK_SESSION_HANDLE,
    f: impl FnOnce(&Module, &Slot, &mut Session) -> Result<T>,
) -> Result<T> {
    let module = state::module()?;
    let result = (|| {
        let session = module.session(h)?;
        let mut s = lock(&session);
        let slot = module.slot_at(s.slot)?;
        f(&module, slot, &mut s)
    })();
    match result {
        Err(_) if module.finalized() => Err(CKR_CRYPTOKI_NOT_INITIALIZED),
        other => other,
    }
}

/// Checks that the module is initialised and `h` is one of its sessions, before anything
/// else of a call is read: PKCS#11 names these failures first.
fn known(h: CK_SESSION_HANDLE) -> Result<()> {
    state::module()?.session(h).map(|_| ())
}

/// Checks the session and refuses: a function AWS's library does not have.
fn unsupported(h: CK_SESSION_HANDLE) -> Result<()> {
    with_session(h, |_, _, _| Err(CKR_FUNCTION_NOT_SUPPORTED))
}

/// A list out by PKCS#11's protocol: NULL asks for the count, a short array gets
/// `CKR_BUFFER_TOO_SMALL` and the count.
///
/// # Safety
/// `count` is NULL or writable; `out` is NULL or holds `*count` writable items.
unsafe fn put_list<T: Copy>(items: &[T], out: *mut T, count: *mut CK_ULONG) -> Result<()> {
    // SAFETY: the caller's contract.
    let count = unsafe { boundary::out(count) }?;
    let n = items.len() as CK_ULONG;
    if out.is_null() {
        *count = n;
        return Ok(());
    }
    if *count < n {
        *count = n;
        return Err(CKR_BUFFER_TOO_SMALL);
    }
    // SAFETY: `out` holds `*count >= n` items (caller's contract).
    let out = unsafe { boundary::array(out, n) }?;
    out.copy_from_slice(items);
    *count = n;
    Ok(())
}

/// The caller's mechanism.
///
/// # Safety
/// `p` is NULL or points to a readable `CK_MECHANISM`.
unsafe fn mechanism<'a>(p: *mut CK_MECHANISM) -> Result<&'a CK_MECHANISM> {
    // SAFETY: the caller's contract.
    unsafe { p.as_ref() }.ok_or(CKR_ARGUMENTS_BAD)
}

entry! {
    fn C_Initialize(pInitArgs: *mut c_void) {
        if !pInitArgs.is_null() {
            // SAFETY: a non-NULL argument points to CK_C_INITIALIZE_ARGS (PKCS#11 §5.4).
            let args = unsafe { &*(pInitArgs as *const CK_C_INITIALIZE_ARGS) };
            if !args.pReserved.is_null() {
                return Err(CKR_ARGUMENTS_BAD);
            }
            let given = [
                args.CreateMutex.is_some(),
                args.DestroyMutex.is_some(),
                args.LockMutex.is_some(),
                args.UnlockMutex.is_some(),
            ];
            // All four callbacks or none; the module always uses its own locks.
            if given.iter().any(|g| *g) && !given.iter().all(|g| *g) {
                return Err(CKR_ARGUMENTS_BAD);
            }
        }
        state::initialize()
    }

    fn C_Finalize(pReserved: *mut c_void) {
        if !pReserved.is_null() {
            return Err(CKR_ARGUMENTS_BAD);
        }
        state::finalize()
    }

    fn C_GetInfo(pInfo: *mut CK_INFO) {
        state::module()?;
        // SAFETY: the caller's contract.
        *unsafe { boundary::out(pInfo) }? = general::info();
        Ok(())
    }

    fn C_GetFunctionList(ppFunctionList: *mut *mut CK_FUNCTION_LIST) {
        // SAFETY: the caller's contract.
        let out = unsafe { boundary::out(ppFunctionList) }?;
        // The list is never written through this pointer (PKCS#11 makes it read-only).
        *out = &FUNCTION_LIST as *const CK_FUNCTION_LIST as *mut CK_FUNCTION_LIST;
        Ok(())
    }

    fn C_GetSlotList(tokenPresent: CK_BBOOL, pSlotList: *mut CK_SLOT_ID, pulCount: *mut CK_ULONG) {
        let _ = tokenPresent; // every slot has its token
        let module = state::module()?;
        let ids: Vec<CK_SLOT_ID> = module.slots.iter().map(|s| s.id).collect();
        // SAFETY: the caller's contract.
        unsafe { put_list(&ids, pSlotList, pulCount) }
    }

    fn C_GetSlotInfo(slotID: CK_SLOT_ID, pInfo: *mut CK_SLOT_INFO) {
        let module = state::module()?;
        // SAFETY: the caller's contract.
        let out = unsafe { boundary::out(pInfo) }?;
        *out = general::slot_info(&module, slotID)?;
        Ok(())
    }

    fn C_GetTokenInfo(slotID: CK_SLOT_ID, pInfo: *mut CK_TOKEN_INFO) {
        let module = state::module()?;
        // SAFETY: the caller's contract.
        let out = unsafe { boundary::out(pInfo) }?;
        *out = general::token_info(&module, slotID)?;
        Ok(())
    }

    fn C_GetMechanismList(slotID: CK_SLOT_ID, pMechanismList: *mut CK_MECHANISM_TYPE, pulCount: *mut CK_ULONG) {
        let module = state::module()?;
        let (_, slot) = module.slot(slotID)?;
        let fips = ciphers::fips(&module, slot)?;
        // SAFETY: the caller's contract.
        unsafe { put_list(&general::mechanism_list(fips), pMechanismList, pulCount) }
    }

    fn C_GetMechanismInfo(slotID: CK_SLOT_ID, type_: CK_MECHANISM_TYPE, pInfo: *mut CK_MECHANISM_INFO) {
        let module = state::module()?;
        let (_, slot) = module.slot(slotID)?;
        // SAFETY: the caller's contract.
        let out = unsafe { boundary::out(pInfo) }?;
        *out = general::mechanism_info(type_, ciphers::fips(&module, slot)?)?;
        Ok(())
    }

    fn C_InitToken(slotID: CK_SLOT_ID, pPin: *mut CK_UTF8CHAR, ulPinLen: CK_ULONG, pLabel: *mut CK_UTF8CHAR) {
        let _ = (pPin, ulPinLen, pLabel);
        state::module()?.slot(slotID)?;
        // The token is the cluster: `cluster activate` initialises it.
        Err(CKR_FUNCTION_NOT_SUPPORTED)
    }

    fn C_InitPIN(hSession: CK_SESSION_HANDLE, pPin: *mut CK_UTF8CHAR, ulPinLen: CK_ULONG) {
        known(hSession)?;
        let _ = (pPin, ulPinLen);
        unsupported(hSession)
    }

    fn C_SetPIN(hSession: CK_SESSION_HANDLE, pOldPin: *mut CK_UTF8CHAR, ulOldLen: CK_ULONG, pNewPin: *mut CK_UTF8CHAR, ulNewLen: CK_ULONG) {
        known(hSession)?;
        let _ = (pOldPin, ulOldLen, pNewPin, ulNewLen);
        // Passwords change with `user change-password` in the CLI.
        unsupported(hSession)
    }

    fn C_OpenSession(slotID: CK_SLOT_ID, flags: CK_FLAGS, pApplication: *mut c_void, Notify: CK_NOTIFY, phSession: *mut CK_SESSION_HANDLE) {
        let _ = (pApplication, Notify);
        let module = state::module()?;
        let (index, _) = module.slot(slotID)?;
        // SAFETY: the caller's contract.
        let out = unsafe { boundary::out(phSession) }?;
        if flags & CKF_SERIAL_SESSION == 0 {
            return Err(CKR_SESSION_PARALLEL_NOT_SUPPORTED);
        }
        *out = module.open_session(index, flags & CKF_RW_SESSION != 0)?;
        Ok(())
    }

    fn C_CloseSession(hSession: CK_SESSION_HANDLE) {
        state::module()?.close_session(hSession)
    }

    fn C_CloseAllSessions(slotID: CK_SLOT_ID) {
        let module = state::module()?;
        let (index, _) = module.slot(slotID)?;
        for h in module.sessions_of(index) {
            // A session another thread closed meanwhile is closed.
            let _ = module.close_session(h);
        }
        Ok(())
    }

    fn C_GetSessionInfo(hSession: CK_SESSION_HANDLE, pInfo: *mut CK_SESSION_INFO) {
        known(hSession)?;
        // SAFETY: the caller's contract.
        let out = unsafe { boundary::out(pInfo) }?;
        with_session(hSession, |_, slot, s| {
            let state = match (slot.logged_in(), s.rw) {
                (true, true) => CKS_RW_USER_FUNCTIONS,
                (true, false) => CKS_RO_USER_FUNCTIONS,
                (false, true) => CKS_RW_PUBLIC_SESSION,
                (false, false) => CKS_RO_PUBLIC_SESSION,
            };
            *out = CK_SESSION_INFO {
                slotID: slot.id,
                state,
                flags: CKF_SERIAL_SESSION | if s.rw { CKF_RW_SESSION } else { 0 },
                ulDeviceError: 0,
            };
            Ok(())
        })
    }

    fn C_GetOperationState(hSession: CK_SESSION_HANDLE, pOperationState: *mut CK_BYTE, pulOperationStateLen: *mut CK_ULONG) {
        known(hSession)?;
        let _ = (pOperationState, pulOperationStateLen);
        unsupported(hSession)
    }

    fn C_SetOperationState(hSession: CK_SESSION_HANDLE, pOperationState: *mut CK_BYTE, ulOperationStateLen: CK_ULONG, hEncryptionKey: CK_OBJECT_HANDLE, hAuthenticationKey: CK_OBJECT_HANDLE) {
        known(hSession)?;
        let _ = (pOperationState, ulOperationStateLen, hEncryptionKey, hAuthenticationKey);
        unsupported(hSession)
    }

    fn C_Login(hSession: CK_SESSION_HANDLE, userType: CK_USER_TYPE, pPin: *mut CK_UTF8CHAR, ulPinLen: CK_ULONG) {
        with_session(hSession, |module, slot, _| {
            // Crypto users only: admins manage the cluster with the CLI.
            if userType != CKU_USER {
                return Err(CKR_USER_TYPE_INVALID);
            }
            if pPin.is_null() {
                // No protected authentication path.
                return Err(CKR_ARGUMENTS_BAD);
            }
            // SAFETY: the caller's contract.
            let pin = zeroize::Zeroizing::new(unsafe { boundary::bytes(pPin, ulPinLen) }?.to_vec());
            slot.login(module, &pin)
        })
    }

    fn C_Logout(hSession: CK_SESSION_HANDLE) {
        with_session(hSession, |module, slot, _| {
            if slot.logout(module) {
                Ok(())
            } else {
                Err(CKR_USER_NOT_LOGGED_IN)
            }
        })
    }

    fn C_CreateObject(hSession: CK_SESSION_HANDLE, pTemplate: *mut CK_ATTRIBUTE, ulCount: CK_ULONG, phObject: *mut CK_OBJECT_HANDLE) {
        known(hSession)?;
        // SAFETY: the caller's contract.
        let given = unsafe { template::read(pTemplate, ulCount) }?;
        // SAFETY: the caller's contract.
        let out = unsafe { boundary::out(phObject) }?;
        with_session(hSession, |module, slot, s| {
            *out = objects::create_object(module, slot, s, hSession, &given)?;
            Ok(())
        })
    }

    fn C_CopyObject(hSession: CK_SESSION_HANDLE, hObject: CK_OBJECT_HANDLE, pTemplate: *mut CK_ATTRIBUTE, ulCount: CK_ULONG, phNewObject: *mut CK_OBJECT_HANDLE) {
        known(hSession)?;
        let _ = (hObject, pTemplate, ulCount, phNewObject);
        unsupported(hSession)
    }

    fn C_DestroyObject(hSession: CK_SESSION_HANDLE, hObject: CK_OBJECT_HANDLE) {
        with_session(hSession, |module, slot, s| {
            match certificates::lookup(module, slot, s.slot, hObject)? {
                Some(cert) => certificates::destroy(module, slot, s, &cert),
                None => objects::destroy(module, slot, s, hObject),
            }
        })
    }

    fn C_GetObjectSize(hSession: CK_SESSION_HANDLE, hObject: CK_OBJECT_HANDLE, pulSize: *mut CK_ULONG) {
        known(hSession)?;
        // SAFETY: the caller's contract.
        let out = unsafe { boundary::out(pulSize) }?;
        with_session(hSession, |module, slot, s| {
            *out = match certificates::lookup(module, slot, s.slot, hObject)? {
                Some(cert) => certificates::size(&cert),
                None => objects::size(&objects::key(module, slot, s.slot, hObject)?),
            };
            Ok(())
        })
    }

    fn C_GetAttributeValue(hSession: CK_SESSION_HANDLE, hObject: CK_OBJECT_HANDLE, pTemplate: *mut CK_ATTRIBUTE, ulCount: CK_ULONG) {
        known(hSession)?;
        // SAFETY: the caller's contract.
        let template = unsafe { boundary::template(pTemplate, ulCount) }?;
        with_session(hSession, |module, slot, s| {
            if let Some(cert) = certificates::lookup(module, slot, s.slot, hObject)? {
                // SAFETY: the caller's contract for each attribute's buffer.
                return unsafe { certificates::get_attributes(&cert, template) };
            }
            let key = objects::key(module, slot, s.slot, hObject)?;
            // SAFETY: the caller's contract for each attribute's buffer.
            unsafe { objects::get_attributes(module, slot, &key, template) }
        })
    }

    fn C_SetAttributeValue(hSession: CK_SESSION_HANDLE, hObject: CK_OBJECT_HANDLE, pTemplate: *mut CK_ATTRIBUTE, ulCount: CK_ULONG) {
        known(hSession)?;
        // SAFETY: the caller's contract.
        let given = unsafe { template::read(pTemplate, ulCount) }?;
        with_session(hSession, |module, slot, s| {
            match certificates::lookup(module, slot, s.slot, hObject)? {
                // Certificates only (AWS: with certificate storage).
                Some(cert) => certificates::set(module, slot, s, &cert, &given),
                // Key attributes change with `key set-attribute` in the CLI (AWS: "Modify
                // attributes").
                None => Err(CKR_FUNCTION_NOT_SUPPORTED),
            }
        })
    }

    fn C_FindObjectsInit(hSession: CK_SESSION_HANDLE, pTemplate: *mut CK_ATTRIBUTE, ulCount: CK_ULONG) {
        known(hSession)?;
        // SAFETY: the caller's contract.
        let given = unsafe { template::read(pTemplate, ulCount) }?;
        with_session(hSession, |module, slot, s| objects::find_init(module, slot, s, &given))
    }

    fn C_FindObjects(hSession: CK_SESSION_HANDLE, phObject: *mut CK_OBJECT_HANDLE, ulMaxObjectCount: CK_ULONG, pulObjectCount: *mut CK_ULONG) {
        with_session(hSession, |_, _, s| {
            // SAFETY: the caller's contract.
            unsafe { objects::find(s, phObject, ulMaxObjectCount, pulObjectCount) }
        })
    }

    fn C_FindObjectsFinal(hSession: CK_SESSION_HANDLE) {
        with_session(hSession, |_, _, s| {
            s.find.take().map(|_| ()).ok_or(CKR_OPERATION_NOT_INITIALIZED)
        })
    }

    fn C_EncryptInit(hSession: CK_SESSION_HANDLE, pMechanism: *mut CK_MECHANISM, hKey: CK_OBJECT_HANDLE) {
        known(hSession)?;
        // SAFETY: the caller's contract.
        let m = unsafe { CipherMechanism::parse(mechanism(pMechanism)?, Direction::Encrypt) }?;
        with_session(hSession, |module, slot, s| encryption::init(module, slot, s, Direction::Encrypt, m, hKey))
    }

    fn C_Encrypt(hSession: CK_SESSION_HANDLE, pData: *mut CK_BYTE, ulDataLen: CK_ULONG, pEncryptedData: *mut CK_BYTE, pulEncryptedDataLen: *mut CK_ULONG) {
        known(hSession)?;
        // SAFETY: the caller's contract.
        let data = unsafe { boundary::bytes(pData, ulDataLen) }?;
        // SAFETY: the caller's contract.
        let out = unsafe { Output::new(pEncryptedData, pulEncryptedDataLen) }?;
        with_session(hSession, |_, _, s| encryption::single(s, Direction::Encrypt, data, &out))
    }

    fn C_EncryptUpdate(hSession: CK_SESSION_HANDLE, pPart: *mut CK_BYTE, ulPartLen: CK_ULONG, pEncryptedPart: *mut CK_BYTE, pulEncryptedPartLen: *mut CK_ULONG) {
        known(hSession)?;
        // SAFETY: the caller's contract.
        let part = unsafe { boundary::bytes(pPart, ulPartLen) }?;
        // SAFETY: the caller's contract.
        let out = unsafe { Output::new(pEncryptedPart, pulEncryptedPartLen) }?;
        with_session(hSession, |_, _, s| encryption::update(s, Direction::Encrypt, part, &out))
    }

    fn C_EncryptFinal(hSession: CK_SESSION_HANDLE, pLastEncryptedPart: *mut CK_BYTE, pulLastEncryptedPartLen: *mut CK_ULONG) {
        known(hSession)?;
        // SAFETY: the caller's contract.
        let out = unsafe { Output::new(pLastEncryptedPart, pulLastEncryptedPartLen) }?;
        with_session(hSession, |_, _, s| encryption::finish(s, Direction::Encrypt, &out))
    }

    fn C_DecryptInit(hSession: CK_SESSION_HANDLE, pMechanism: *mut CK_MECHANISM, hKey: CK_OBJECT_HANDLE) {
        known(hSession)?;
        // SAFETY: the caller's contract.
        let m = unsafe { CipherMechanism::parse(mechanism(pMechanism)?, Direction::Decrypt) }?;
        with_session(hSession, |module, slot, s| encryption::init(module, slot, s, Direction::Decrypt, m, hKey))
    }

    fn C_Decrypt(hSession: CK_SESSION_HANDLE, pEncryptedData: *mut CK_BYTE, ulEncryptedDataLen: CK_ULONG, pData: *mut CK_BYTE, pulDataLen: *mut CK_ULONG) {
        known(hSession)?;
        // SAFETY: the caller's contract.
        let data = unsafe { boundary::bytes(pEncryptedData, ulEncryptedDataLen) }?;
        // SAFETY: the caller's contract.
        let out = unsafe { Output::new(pData, pulDataLen) }?;
        with_session(hSession, |_, _, s| encryption::single(s, Direction::Decrypt, data, &out))
    }

    fn C_DecryptUpdate(hSession: CK_SESSION_HANDLE, pEncryptedPart: *mut CK_BYTE, ulEncryptedPartLen: CK_ULONG, pPart: *mut CK_BYTE, pulPartLen: *mut CK_ULONG) {
        known(hSession)?;
        // SAFETY: the caller's contract.
        let part = unsafe { boundary::bytes(pEncryptedPart, ulEncryptedPartLen) }?;
        // SAFETY: the caller's contract.
        let out = unsafe { Output::new(pPart, pulPartLen) }?;
        with_session(hSession, |_, _, s| encryption::update(s, Direction::Decrypt, part, &out))
    }

    fn C_DecryptFinal(hSession: CK_SESSION_HANDLE, pLastPart: *mut CK_BYTE, pulLastPartLen: *mut CK_ULONG) {
        known(hSession)?;
        // SAFETY: the caller's contract.
        let out = unsafe { Output::new(pLastPart, pulLastPartLen) }?;
        with_session(hSession, |_, _, s| encryption::finish(s, Direction::Decrypt, &out))
    }

    fn C_DigestInit(hSession: CK_SESSION_HANDLE, pMechanism: *mut CK_MECHANISM) {
        known(hSession)?;
        // SAFETY: the caller's contract.
        let m = unsafe { mechanism(pMechanism) }?;
        with_session(hSession, |_, _, s| crypto::digest_init(s, m))
    }

    fn C_Digest(hSession: CK_SESSION_HANDLE, pData: *mut CK_BYTE, ulDataLen: CK_ULONG, pDigest: *mut CK_BYTE, pulDigestLen: *mut CK_ULONG) {
        known(hSession)?;
        // SAFETY: the caller's contract.
        let data = unsafe { boundary::bytes(pData, ulDataLen) }?;
        // SAFETY: the caller's contract.
        let out = unsafe { Output::new(pDigest, pulDigestLen) }?;
        with_session(hSession, |_, _, s| crypto::digest(s, Some(data), &out))
    }

    fn C_DigestUpdate(hSession: CK_SESSION_HANDLE, pPart: *mut CK_BYTE, ulPartLen: CK_ULONG) {
        known(hSession)?;
        // SAFETY: the caller's contract.
        let part = unsafe { boundary::bytes(pPart, ulPartLen) }?;
        with_session(hSession, |_, _, s| crypto::digest_update(s, part))
    }

    fn C_DigestKey(hSession: CK_SESSION_HANDLE, hKey: CK_OBJECT_HANDLE) {
        known(hSession)?;
        let _ = hKey;
        unsupported(hSession)
    }

    fn C_DigestFinal(hSession: CK_SESSION_HANDLE, pDigest: *mut CK_BYTE, pulDigestLen: *mut CK_ULONG) {
        known(hSession)?;
        // SAFETY: the caller's contract.
        let out = unsafe { Output::new(pDigest, pulDigestLen) }?;
        with_session(hSession, |_, _, s| crypto::digest(s, None, &out))
    }

    fn C_SignInit(hSession: CK_SESSION_HANDLE, pMechanism: *mut CK_MECHANISM, hKey: CK_OBJECT_HANDLE) {
        known(hSession)?;
        // SAFETY: the caller's contract.
        let m = unsafe { SignMechanism::parse(mechanism(pMechanism)?) }?;
        with_session(hSession, |module, slot, s| crypto::init(module, slot, s, Side::Sign, m, hKey))
    }

    fn C_Sign(hSession: CK_SESSION_HANDLE, pData: *mut CK_BYTE, ulDataLen: CK_ULONG, pSignature: *mut CK_BYTE, pulSignatureLen: *mut CK_ULONG) {
        known(hSession)?;
        // SAFETY: the caller's contract.
        let data = unsafe { boundary::bytes(pData, ulDataLen) }?;
        // SAFETY: the caller's contract.
        let out = unsafe { Output::new(pSignature, pulSignatureLen) }?;
        with_session(hSession, |module, slot, s| crypto::sign(module, slot, s, Some(data), &out))
    }

    fn C_SignUpdate(hSession: CK_SESSION_HANDLE, pPart: *mut CK_BYTE, ulPartLen: CK_ULONG) {
        known(hSession)?;
        // SAFETY: the caller's contract.
        let part = unsafe { boundary::bytes(pPart, ulPartLen) }?;
        with_session(hSession, |_, _, s| crypto::update(s, Side::Sign, part))
    }

    fn C_SignFinal(hSession: CK_SESSION_HANDLE, pSignature: *mut CK_BYTE, pulSignatureLen: *mut CK_ULONG) {
        known(hSession)?;
        // SAFETY: the caller's contract.
        let out = unsafe { Output::new(pSignature, pulSignatureLen) }?;
        with_session(hSession, |module, slot, s| crypto::sign(module, slot, s, None, &out))
    }

    fn C_SignRecoverInit(hSession: CK_SESSION_HANDLE, pMechanism: *mut CK_MECHANISM, hKey: CK_OBJECT_HANDLE) {
        known(hSession)?;
        let _ = (pMechanism, hKey);
        // "Client SDK 5 does not support Sign Recover and Verify Recover functions."
        unsupported(hSession)
    }

    fn C_SignRecover(hSession: CK_SESSION_HANDLE, pData: *mut CK_BYTE, ulDataLen: CK_ULONG, pSignature: *mut CK_BYTE, pulSignatureLen: *mut CK_ULONG) {
        known(hSession)?;
        let _ = (pData, ulDataLen, pSignature, pulSignatureLen);
        unsupported(hSession)
    }

    fn C_VerifyInit(hSession: CK_SESSION_HANDLE, pMechanism: *mut CK_MECHANISM, hKey: CK_OBJECT_HANDLE) {
        known(hSession)?;
        // SAFETY: the caller's contract.
        let m = unsafe { SignMechanism::parse(mechanism(pMechanism)?) }?;
        with_session(hSession, |module, slot, s| crypto::init(module, slot, s, Side::Verify, m, hKey))
    }

    fn C_Verify(hSession: CK_SESSION_HANDLE, pData: *mut CK_BYTE, ulDataLen: CK_ULONG, pSignature: *mut CK_BYTE, ulSignatureLen: CK_ULONG) {
        known(hSession)?;
        // SAFETY: the caller's contract.
        let data = unsafe { boundary::bytes(pData, ulDataLen) }?;
        // SAFETY: the caller's contract.
        let signature = unsafe { boundary::bytes(pSignature, ulSignatureLen) }?;
        with_session(hSession, |module, slot, s| crypto::verify(module, slot, s, Some(data), signature))
    }

    fn C_VerifyUpdate(hSession: CK_SESSION_HANDLE, pPart: *mut CK_BYTE, ulPartLen: CK_ULONG) {
        known(hSession)?;
        // SAFETY: the caller's contract.
        let part = unsafe { boundary::bytes(pPart, ulPartLen) }?;
        with_session(hSession, |_, _, s| crypto::update(s, Side::Verify, part))
    }

    fn C_VerifyFinal(hSession: CK_SESSION_HANDLE, pSignature: *mut CK_BYTE, ulSignatureLen: CK_ULONG) {
        known(hSession)?;
        // SAFETY: the caller's contract.
        let signature = unsafe { boundary::bytes(pSignature, ulSignatureLen) }?;
        with_session(hSession, |module, slot, s| crypto::verify(module, slot, s, None, signature))
    }

    fn C_VerifyRecoverInit(hSession: CK_SESSION_HANDLE, pMechanism: *mut CK_MECHANISM, hKey: CK_OBJECT_HANDLE) {
        known(hSession)?;
        let _ = (pMechanism, hKey);
        unsupported(hSession)
    }

    fn C_VerifyRecover(hSession: CK_SESSION_HANDLE, pSignature: *mut CK_BYTE, ulSignatureLen: CK_ULONG, pData: *mut CK_BYTE, pulDataLen: *mut CK_ULONG) {
        known(hSession)?;
        let _ = (pSignature, ulSignatureLen, pData, pulDataLen);
        unsupported(hSession)
    }

    fn C_DigestEncryptUpdate(hSession: CK_SESSION_HANDLE, pPart: *mut CK_BYTE, ulPartLen: CK_ULONG, pEncryptedPart: *mut CK_BYTE, pulEncryptedPartLen: *mut CK_ULONG) {
        known(hSession)?;
        let _ = (pPart, ulPartLen, pEncryptedPart, pulEncryptedPartLen);
        unsupported(hSession)
    }

    fn C_DecryptDigestUpdate(hSession: CK_SESSION_HANDLE, pEncryptedPart: *mut CK_BYTE, ulEncryptedPartLen: CK_ULONG, pPart: *mut CK_BYTE, pulPartLen: *mut CK_ULONG) {
        known(hSession)?;
        let _ = (pEncryptedPart, ulEncryptedPartLen, pPart, pulPartLen);
        unsupported(hSession)
    }

    fn C_SignEncryptUpdate(hSession: CK_SESSION_HANDLE, pPart: *mut CK_BYTE, ulPartLen: CK_ULONG, pEncryptedPart: *mut CK_BYTE, pulEncryptedPartLen: *mut CK_ULONG) {
        known(hSession)?;
        let _ = (pPart, ulPartLen, pEncryptedPart, pulEncryptedPartLen);
        unsupported(hSession)
    }

    fn C_DecryptVerifyUpdate(hSession: CK_SESSION_HANDLE, pEncryptedPart: *mut CK_BYTE, ulEncryptedPartLen: CK_ULONG, pPart: *mut CK_BYTE, pulPartLen: *mut CK_ULONG) {
        known(hSession)?;
        let _ = (pEncryptedPart, ulEncryptedPartLen, pPart, pulPartLen);
        unsupported(hSession)
    }

    fn C_GenerateKey(hSession: CK_SESSION_HANDLE, pMechanism: *mut CK_MECHANISM, pTemplate: *mut CK_ATTRIBUTE, ulCount: CK_ULONG, phKey: *mut CK_OBJECT_HANDLE) {
        known(hSession)?;
        // SAFETY: the caller's contract.
        let m = unsafe { mechanism(pMechanism) }?;
        // SAFETY: the caller's contract.
        let given = unsafe { template::read(pTemplate, ulCount) }?;
        // SAFETY: the caller's contract.
        let out = unsafe { boundary::out(phKey) }?;
        with_session(hSession, |module, slot, s| {
            *out = objects::generate_key(module, slot, s, hSession, m, &given)?;
            Ok(())
        })
    }

    fn C_GenerateKeyPair(hSession: CK_SESSION_HANDLE, pMechanism: *mut CK_MECHANISM, pPublicKeyTemplate: *mut CK_ATTRIBUTE, ulPublicKeyAttributeCount: CK_ULONG, pPrivateKeyTemplate: *mut CK_ATTRIBUTE, ulPrivateKeyAttributeCount: CK_ULONG, phPublicKey: *mut CK_OBJECT_HANDLE, phPrivateKey: *mut CK_OBJECT_HANDLE) {
        known(hSession)?;
        // SAFETY: the caller's contract.
        let m = unsafe { mechanism(pMechanism) }?;
        // SAFETY: the caller's contract.
        let public = unsafe { template::read(pPublicKeyTemplate, ulPublicKeyAttributeCount) }?;
        // SAFETY: the caller's contract.
        let private = unsafe { template::read(pPrivateKeyTemplate, ulPrivateKeyAttributeCount) }?;
        // SAFETY: the caller's contract.
        let (public_out, private_out) = unsafe { (boundary::out(phPublicKey)?, boundary::out(phPrivateKey)?) };
        with_session(hSession, |module, slot, s| {
            let (p, q) = objects::generate_key_pair(module, slot, s, hSession, m, &public, &private)?;
            *public_out = p;
            *private_out = q;
            Ok(())
        })
    }

    fn C_WrapKey(hSession: CK_SESSION_HANDLE, pMechanism: *mut CK_MECHANISM, hWrappingKey: CK_OBJECT_HANDLE, hKey: CK_OBJECT_HANDLE, pWrappedKey: *mut CK_BYTE, pulWrappedKeyLen: *mut CK_ULONG) {
        known(hSession)?;
        // SAFETY: the caller's contract.
        let w = unsafe { Wrap::parse(mechanism(pMechanism)?) }?;
        // SAFETY: the caller's contract.
        let out = unsafe { Output::new(pWrappedKey, pulWrappedKeyLen) }?;
        with_session(hSession, |module, slot, s| wrapping::wrap(module, slot, s, &w, hWrappingKey, hKey, &out))
    }

    fn C_UnwrapKey(hSession: CK_SESSION_HANDLE, pMechanism: *mut CK_MECHANISM, hUnwrappingKey: CK_OBJECT_HANDLE, pWrappedKey: *mut CK_BYTE, ulWrappedKeyLen: CK_ULONG, pTemplate: *mut CK_ATTRIBUTE, ulAttributeCount: CK_ULONG, phKey: *mut CK_OBJECT_HANDLE) {
        known(hSession)?;
        // SAFETY: the caller's contract.
        let w = unsafe { Wrap::parse(mechanism(pMechanism)?) }?;
        // SAFETY: the caller's contract.
        let data = unsafe { boundary::bytes(pWrappedKey, ulWrappedKeyLen) }?;
        // SAFETY: the caller's contract.
        let given = unsafe { template::read(pTemplate, ulAttributeCount) }?;
        // SAFETY: the caller's contract.
        let out = unsafe { boundary::out(phKey) }?;
        with_session(hSession, |module, slot, s| {
            *out = wrapping::unwrap(module, slot, s, hSession, &w, hUnwrappingKey, data, &given)?;
            Ok(())
        })
    }

    fn C_DeriveKey(hSession: CK_SESSION_HANDLE, pMechanism: *mut CK_MECHANISM, hBaseKey: CK_OBJECT_HANDLE, pTemplate: *mut CK_ATTRIBUTE, ulAttributeCount: CK_ULONG, phKey: *mut CK_OBJECT_HANDLE) {
        known(hSession)?;
        // SAFETY: the caller's contract.
        let m = unsafe { mechanism(pMechanism) }?;
        // SAFETY: the caller's contract.
        let given = unsafe { template::read(pTemplate, ulAttributeCount) }?;
        // SAFETY: the caller's contract.
        let out = unsafe { boundary::out(phKey) }?;
        with_session(hSession, |module, slot, s| {
            // SAFETY: the caller's contract for the mechanism's parameters.
            *out = unsafe { derive::derive_key(module, slot, s, hSession, m, hBaseKey, &given) }?;
            Ok(())
        })
    }

    fn C_SeedRandom(hSession: CK_SESSION_HANDLE, pSeed: *mut CK_BYTE, ulSeedLen: CK_ULONG) {
        known(hSession)?;
        let _ = (pSeed, ulSeedLen);
        unsupported(hSession)
    }

    fn C_GenerateRandom(hSession: CK_SESSION_HANDLE, RandomData: *mut CK_BYTE, ulRandomLen: CK_ULONG) {
        known(hSession)?;
        // SAFETY: the caller's contract.
        let out = unsafe { boundary::array(RandomData, ulRandomLen) }?;
        with_session(hSession, |_, _, _| crypto::random(out))
    }

    fn C_GetFunctionStatus(hSession: CK_SESSION_HANDLE) {
        with_session(hSession, |_, _, _| Err(CKR_FUNCTION_NOT_PARALLEL))
    }

    fn C_CancelFunction(hSession: CK_SESSION_HANDLE) {
        with_session(hSession, |_, _, _| Err(CKR_FUNCTION_NOT_PARALLEL))
    }

    fn C_WaitForSlotEvent(flags: CK_FLAGS, pSlot: *mut CK_SLOT_ID, pReserved: *mut c_void) {
        let _ = (flags, pSlot, pReserved);
        state::module()?;
        // Slots never change while the module is initialised.
        Err(CKR_FUNCTION_NOT_SUPPORTED)
    }
}

/// The function list of `C_GetFunctionList`, version 2.40.
static FUNCTION_LIST: CK_FUNCTION_LIST = CK_FUNCTION_LIST {
    version: general::CRYPTOKI_VERSION,
    C_Initialize: Some(C_Initialize),
    C_Finalize: Some(C_Finalize),
    C_GetInfo: Some(C_GetInfo),
    C_GetFunctionList: Some(C_GetFunctionList),
    C_GetSlotList: Some(C_GetSlotList),
    C_GetSlotInfo: Some(C_GetSlotInfo),
    C_GetTokenInfo: Some(C_GetTokenInfo),
    C_GetMechanismList: Some(C_GetMechanismList),
    C_GetMechanismInfo: Some(C_GetMechanismInfo),
    C_InitToken: Some(C_InitToken),
    C_InitPIN: Some(C_InitPIN),
    C_SetPIN: Some(C_SetPIN),
    C_OpenSession: Some(C_OpenSession),
    C_CloseSession: Some(C_CloseSession),
    C_CloseAllSessions: Some(C_CloseAllSessions),
    C_GetSessionInfo: Some(C_GetSessionInfo),
    C_GetOperationState: Some(C_GetOperationState),
    C_SetOperationState: Some(C_SetOperationState),
    C_Login: Some(C_Login),
    C_Logout: Some(C_Logout),
    C_CreateObject: Some(C_CreateObject),
    C_CopyObject: Some(C_CopyObject),
    C_DestroyObject: Some(C_DestroyObject),
    C_GetObjectSize: Some(C_GetObjectSize),
    C_GetAttributeValue: Some(C_GetAttributeValue),
    C_SetAttributeValue: Some(C_SetAttributeValue),
    C_FindObjectsInit: Some(C_FindObjectsInit),
    C_FindObjects: Some(C_FindObjects),
    C_FindObjectsFinal: Some(C_FindObjectsFinal),
    C_EncryptInit: Some(C_EncryptInit),
    C_Encrypt: Some(C_Encrypt),
    C_EncryptUpdate: Some(C_EncryptUpdate),
    C_EncryptFinal: Some(C_EncryptFinal),
    C_DecryptInit: Some(C_DecryptInit),
    C_Decrypt: Some(C_Decrypt),
    C_DecryptUpdate: Some(C_DecryptUpdate),
    C_DecryptFinal: Some(C_DecryptFinal),
    C_DigestInit: Some(C_DigestInit),
    C_Digest: Some(C_Digest),
    C_DigestUpdate: Some(C_DigestUpdate),
    C_DigestKey: Some(C_DigestKey),
    C_DigestFinal: Some(C_DigestFinal),
    C_SignInit: Some(C_SignInit),
    C_Sign: Some(C_Sign),
    C_SignUpdate: Some(C_SignUpdate),
    C_SignFinal: Some(C_SignFinal),
    C_SignRecoverInit: Some(C_SignRecoverInit),
    C_SignRecover: Some(C_SignRecover),
    C_VerifyInit: Some(C_VerifyInit),
    C_Verify: Some(C_Verify),
    C_VerifyUpdate: Some(C_VerifyUpdate),
    C_VerifyFinal: Some(C_VerifyFinal),
    C_VerifyRecoverInit: Some(C_VerifyRecoverInit),
    C_VerifyRecover: Some(C_VerifyRecover),
    C_DigestEncryptUpdate: Some(C_DigestEncryptUpdate),
    C_DecryptDigestUpdate: Some(C_DecryptDigestUpdate),
    C_SignEncryptUpdate: Some(C_SignEncryptUpdate),
    C_DecryptVerifyUpdate: Some(C_DecryptVerifyUpdate),
    C_GenerateKey: Some(C_GenerateKey),
    C_GenerateKeyPair: Some(C_GenerateKeyPair),
    C_WrapKey: Some(C_WrapKey),
    C_UnwrapKey: Some(C_UnwrapKey),
    C_DeriveKey: Some(C_DeriveKey),
    C_SeedRandom: Some(C_SeedRandom),
    C_GenerateRandom: Some(C_GenerateRandom),
    C_GetFunctionStatus: Some(C_GetFunctionStatus),
    C_CancelFunction: Some(C_CancelFunction),
    C_WaitForSlotEvent: Some(C_WaitForSlotEvent),
};
