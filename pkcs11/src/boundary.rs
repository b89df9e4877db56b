//! The C boundary: every entry point runs through [`guard`], which turns a Rust error into
//! its `CK_RV` and a panic into `CKR_GENERAL_ERROR`, so that nothing unwinds into the
//! application. The helpers here are the only code that reads or writes the caller's
//! memory; each checks its pointer first (`CKR_ARGUMENTS_BAD`) and implements PKCS#11's
//! buffer protocol where bytes go out.

use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::{Mutex, MutexGuard, RwLock, RwLockReadGuard, RwLockWriteGuard};

use cryptoki_sys::{
    CKR_ARGUMENTS_BAD, CKR_BUFFER_TOO_SMALL, CKR_GENERAL_ERROR, CKR_OK, CK_ATTRIBUTE, CK_BYTE,
    CK_RV, CK_ULONG,
};

/// What every operation of the module returns: a value, or the `CK_RV` that refuses it.
pub(crate) type Result<T> = std::result::Result<T, CK_RV>;

/// Runs one entry point: `Ok` is `CKR_OK`, an error is its code, a panic is
/// `CKR_GENERAL_ERROR` (the state it interrupted stays usable: locks recover from poison).
pub(crate) fn guard(f: impl FnOnce() -> Result<()>) -> CK_RV {
    match catch_unwind(AssertUnwindSafe(f)) {
        Ok(Ok(())) => CKR_OK,
        Ok(Err(rv)) => rv,
        Err(_) => CKR_GENERAL_ERROR,
    }
}

/// Locks `m`; a thread that panicked while holding it (caught by [`guard`]) left its data in
/// a state every operation is prepared for, so the poison is ignored.
pub(crate) fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

pub(crate) fn read<T>(l: &RwLock<T>) -> RwLockReadGuard<'_, T> {
    l.read().unwrap_or_else(|e| e.into_inner())
}

pub(crate) fn write<T>(l: &RwLock<T>) -> RwLockWriteGuard<'_, T> {
    l.write().unwrap_or_else(|e| e.into_inner())
}

/// The caller's `*mut T` to write one value to.
///
/// # Safety
/// `p` is NULL or points to a writable `T`, as PKCS#11 requires of the caller.
pub(crate) unsafe fn out<'a, T>(p: *mut T) -> Result<&'a mut T> {
    // SAFETY: the caller's contract; NULL is refused.
    unsafe { p.as_mut() }.ok_or(CKR_ARGUMENTS_BAD)
}

/// The caller's input bytes: `len` bytes at `p` (NULL is an empty input only when `len` is 0).
///
/// # Safety
/// `p` is NULL or points to `len` readable bytes.
pub(crate) unsafe fn bytes<'a>(p: *const CK_BYTE, len: CK_ULONG) -> Result<&'a [u8]> {
    let len = usize::try_from(len).map_err(|_| CKR_ARGUMENTS_BAD)?;
    if p.is_null() {
        return if len == 0 {
            Ok(&[])
        } else {
            Err(CKR_ARGUMENTS_BAD)
        };
    }
    // SAFETY: the caller's contract; a length beyond the address space is refused above.
    Ok(unsafe { std::slice::from_raw_parts(p, len) })
}

/// The caller's array of `count` values at `p` (NULL only when `count` is 0).
///
/// # Safety
/// `p` is NULL or points to `count` values of `T`, writable when the caller gives them out.
pub(crate) unsafe fn array<'a, T>(p: *mut T, count: CK_ULONG) -> Result<&'a mut [T]> {
    let count = usize::try_from(count).map_err(|_| CKR_ARGUMENTS_BAD)?;
    if p.is_null() {
        return if count == 0 {
            Ok(&mut [])
        } else {
            Err(CKR_ARGUMENTS_BAD)
        };
    }
    if count
        .checked_mul(size_of::<T>())
        .is_none_or(|n| n > isize::MAX as usize)
    {
        return Err(CKR_ARGUMENTS_BAD);
    }
    // SAFETY: the caller's contract; the size fits the address space (checked above).
    Ok(unsafe { std::slice::from_raw_parts_mut(p, count) })
}

/// A template: the caller's `count` attributes at `p`.
///
/// # Safety
/// As [`array`].
pub(crate) unsafe fn template<'a>(
    p: *mut CK_ATTRIBUTE,
    count: CK_ULONG,
) -> Result<&'a mut [CK_ATTRIBUTE]> {
    // SAFETY: forwarded.
    unsafe { array(p, count) }
}

/// The value bytes of one template attribute, as the caller gave them.
///
/// # Safety
/// `a.pValue` is NULL or points to `a.ulValueLen` readable bytes.
pub(crate) unsafe fn value<'a>(a: &CK_ATTRIBUTE) -> Result<&'a [u8]> {
    // SAFETY: forwarded.
    unsafe { bytes(a.pValue as *const CK_BYTE, a.ulValueLen) }
}

/// Where a function's output bytes go: PKCS#11's buffer protocol. With a NULL buffer the
/// caller asks for the length only; a buffer too small gets `CKR_BUFFER_TOO_SMALL` and the
/// length needed. Either way the operation that made the bytes stays active: the caller
/// learns whether they were written from [`Output::put`]'s `Ok(true)`.
pub(crate) struct Output {
    buf: *mut CK_BYTE,
    len: *mut CK_ULONG,
}

impl Output {
    /// # Safety
    /// `len` is NULL or points to a writable `CK_ULONG` giving the size of `buf`; `buf` is
    /// NULL or points to that many writable bytes.
    pub(crate) unsafe fn new(buf: *mut CK_BYTE, len: *mut CK_ULONG) -> Result<Output> {
        if len.is_null() {
            return Err(CKR_ARGUMENTS_BAD);
        }
        Ok(Output { buf, len })
    }

    /// Whether the caller only asks for the length.
    pub(crate) fn is_query(&self) -> bool {
        self.buf.is_null()
    }

    /// Writes `data` (or only its length): `Ok(true)` when the bytes were delivered, which
    /// ends the operation; `Ok(false)` for a length query; `CKR_BUFFER_TOO_SMALL` otherwise.
    pub(crate) fn put(&self, data: &[u8]) -> Result<bool> {
        let needed = CK_ULONG::try_from(data.len()).map_err(|_| CKR_GENERAL_ERROR)?;
        // SAFETY: `len` is non-NULL (checked in `new`) and writable by the caller's contract.
        let len = unsafe { &mut *self.len };
        if self.buf.is_null() {
            *len = needed;
            return Ok(false);
        }
        if *len < needed {
            *len = needed;
            return Err(CKR_BUFFER_TOO_SMALL);
        }
        // SAFETY: `buf` holds at least `*len >= data.len()` writable bytes (caller's contract).
        unsafe { std::ptr::copy_nonoverlapping(data.as_ptr(), self.buf, data.len()) };
        *len = needed;
        Ok(true)
    }
}

/// Copies `text` into a fixed-width PKCS#11 field, padded with blanks (never NUL-terminated).
pub(crate) fn padded<const N: usize>(text: &str) -> [u8; N] {
    let mut field = [b' '; N];
    for (f, b) in field.iter_mut().zip(text.bytes()) {
        *f = b;
    }
    field
}
