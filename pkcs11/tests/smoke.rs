//! The module loads, a crypto user made by the cluster logs in, and the slot is AWS's.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::{session, slot, Fixture, PIN1};

#[test]
fn a_crypto_user_logs_in_on_aws_slot() {
    let fixture = Fixture::new();
    let pkcs11 = fixture.pkcs11();
    let slot = slot(&pkcs11);
    assert_eq!(slot.id(), 0x2000_0000_0000_0001);
    let token = pkcs11.get_token_info(slot).unwrap();
    assert_eq!(token.label(), "hsm1");
    let session = session(&pkcs11, PIN1);
    let info = session.get_session_info().unwrap();
    assert!(matches!(
        info.session_state(),
        cryptoki::session::SessionState::RwUser
    ));
}
