//! `libcloudhsm_pkcs11.so`: the PKCS#11 front end of the simulated cluster.
//!
//! Applications that use AWS CloudHSM's PKCS#11 library load this one instead and work,
//! unchanged, against the cluster that `cloudhsm-cli` manages: a crypto user logs in with
//! PIN `username:password`, the keys it owns or that are shared with it are its token
//! objects, and every rule about keys is the cluster's (`cloudhsm_sim::hsm`), the one copy
//! the CLI uses too. This crate adds only what PKCS#11 itself defines: slots and sessions,
//! handles, templates and mechanisms, return codes, and the C boundary (`entry`, through
//! `boundary`).

mod attributes;
mod boundary;
mod certificates;
mod ciphers;
mod crypto;
mod derive;
mod encryption;
pub mod entry;
mod error;
mod general;
mod mechanisms;
mod objects;
mod session;
mod state;
mod template;
pub mod vendor;
mod wrapping;
