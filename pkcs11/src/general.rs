//! Module, slot, token and mechanism information.

use cryptoki_sys::*;

use crate::boundary::{padded, Result};
use crate::mechanisms::{self, MECHANISMS};
use crate::state::{Module, MAX_SESSIONS};

/// The PKCS#11 version the module implements, as AWS's library states it.
pub(crate) const CRYPTOKI_VERSION: CK_VERSION = CK_VERSION {
    major: 2,
    minor: 40,
};

/// The client SDK version the module stands in for.
const LIBRARY_VERSION: CK_VERSION = CK_VERSION {
    major: 5,
    minor: 16,
};

const MANUFACTURER: &str = "AWS (cloudhsm-sim emulator)";

/// `CKF_RNG | CKF_LOGIN_REQUIRED | CKF_USER_PIN_INITIALIZED | CKF_TOKEN_INITIALIZED`: the
/// token is initialised by `cluster activate`, and users and PINs are made with the CLI.
pub(crate) const TOKEN_FLAGS: CK_FLAGS =
    CKF_RNG | CKF_LOGIN_REQUIRED | CKF_USER_PIN_INITIALIZED | CKF_TOKEN_INITIALIZED;

/// The token label of an SDK 5 slot (spec/pkcs11.md §1.2).
pub(crate) const TOKEN_LABEL: &str = "hsm1";

pub(crate) fn info() -> CK_INFO {
    CK_INFO {
        cryptokiVersion: CRYPTOKI_VERSION,
        manufacturerID: padded(MANUFACTURER),
        flags: 0,
        libraryDescription: padded("AWS CloudHSM PKCS#11 (simulated)"),
        libraryVersion: LIBRARY_VERSION,
    }
}

pub(crate) fn slot_info(module: &Module, slot_id: CK_SLOT_ID) -> Result<CK_SLOT_INFO> {
    let (_, slot) = module.slot(slot_id)?;
    Ok(CK_SLOT_INFO {
        slotDescription: padded(&format!("AWS CloudHSM {} (cloudhsm-sim)", slot.cluster_id)),
        manufacturerID: padded(MANUFACTURER),
        flags: CKF_TOKEN_PRESENT | CKF_HW_SLOT,
        hardwareVersion: CK_VERSION { major: 1, minor: 0 },
        firmwareVersion: LIBRARY_VERSION,
    })
}

pub(crate) fn token_info(module: &Module, slot_id: CK_SLOT_ID) -> Result<CK_TOKEN_INFO> {
    let (index, slot) = module.slot(slot_id)?;
    let (sessions, rw) = module.session_count(index);
    // The serial number is the cluster's: its id without `cluster-`, 16 characters at most.
    let serial = slot.cluster_id.trim_start_matches("cluster-");
    Ok(CK_TOKEN_INFO {
        label: padded(TOKEN_LABEL),
        manufacturerID: padded(MANUFACTURER),
        model: padded("hsm1.medium"),
        serialNumber: padded(serial),
        flags: TOKEN_FLAGS,
        ulMaxSessionCount: MAX_SESSIONS as CK_ULONG,
        ulSessionCount: sessions as CK_ULONG,
        ulMaxRwSessionCount: MAX_SESSIONS as CK_ULONG,
        ulRwSessionCount: rw as CK_ULONG,
        // `user:password`: a name of 1 to 31 characters, a password of 8 to 32.
        ulMaxPinLen: 64,
        ulMinPinLen: 10,
        ulTotalPublicMemory: CK_UNAVAILABLE_INFORMATION,
        ulFreePublicMemory: CK_UNAVAILABLE_INFORMATION,
        ulTotalPrivateMemory: CK_UNAVAILABLE_INFORMATION,
        ulFreePrivateMemory: CK_UNAVAILABLE_INFORMATION,
        hardwareVersion: CK_VERSION { major: 1, minor: 0 },
        firmwareVersion: LIBRARY_VERSION,
        utcTime: [b' '; 16],
    })
}

pub(crate) fn mechanism_list() -> Vec<CK_MECHANISM_TYPE> {
    MECHANISMS.iter().map(|m| m.mechanism).collect()
}

pub(crate) fn mechanism_info(mechanism: CK_MECHANISM_TYPE) -> Result<CK_MECHANISM_INFO> {
    let info = mechanisms::info_of(mechanism)?;
    Ok(CK_MECHANISM_INFO {
        ulMinKeySize: info.min,
        ulMaxKeySize: info.max,
        flags: info.flags,
    })
}
