//! Every function of issue 14 with its return codes, through the `cryptoki` crate loading the
//! built module as an application does. Signatures are also checked independently: RSA and
//! ECDSA by `openssl` on the public key rebuilt from its attributes, HMAC by AWS-LC from the
//! key's bytes. Raw-pointer cases (NULL, lengths, the buffer protocol) are in boundary.rs.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::rv;

use aws_lc_rs::hmac;
use cloudhsm_sim::hsm::{self, Cluster, ClusterConfig, Entropy, Kdf, Role};
use common::{bin, ec_spki, ecdsa_der, openssl, rsa_spki, Fixture, CU1_PW, CU2_PW, PIN1, PIN2};
use cryptoki::context::Pkcs11;
use cryptoki::error::RvError;
use cryptoki::mechanism::rsa::{PkcsMgfType, PkcsPssParams};
use cryptoki::mechanism::{Mechanism, MechanismType};
use cryptoki::object::{Attribute, AttributeType, KeyType, ObjectClass, ObjectHandle};
use cryptoki::session::{Session, SessionState, UserType};
use cryptoki::slot::Slot;
use cryptoki::types::AuthPin;

/// The module initialised on a fixture, finalised when the test ends (also when it fails),
/// so that the next test of this binary can initialise it again.
struct Module {
    pkcs11: Pkcs11,
    fixture: Fixture,
}

impl Module {
    fn new() -> Module {
        Module::on(Fixture::new())
    }

    fn on(fixture: Fixture) -> Module {
        Module {
            pkcs11: fixture.pkcs11(),
            fixture,
        }
    }

    fn slot(&self) -> Slot {
        common::slot(&self.pkcs11)
    }

    /// A read-write session logged in with `pin` (the slot's login).
    fn user(&self, pin: &str) -> Session {
        common::session(&self.pkcs11, pin)
    }

    fn rw(&self) -> Session {
        self.pkcs11.open_rw_session(self.slot()).unwrap()
    }
}

impl Drop for Module {
    fn drop(&mut self) {
        let _ = self.pkcs11.clone().finalize();
    }
}

/// The return code of a call that must fail.
fn pin(text: &str) -> AuthPin {
    AuthPin::new(text.into())
}

fn login(session: &Session, text: &str) -> cryptoki::error::Result<()> {
    session.login(UserType::User, Some(&pin(text)))
}

fn state(session: &Session) -> SessionState {
    session.get_session_info().unwrap().session_state()
}

fn attribute(session: &Session, key: ObjectHandle, ty: AttributeType) -> Attribute {
    let mut attrs = session.get_attributes(key, &[ty]).unwrap();
    assert_eq!(attrs.len(), 1, "attribute {ty:?} of {key:?}");
    attrs.remove(0)
}

fn bytes(session: &Session, key: ObjectHandle, ty: AttributeType) -> Vec<u8> {
    match attribute(session, key, ty) {
        Attribute::Modulus(v)
        | Attribute::PublicExponent(v)
        | Attribute::EcParams(v)
        | Attribute::EcPoint(v)
        | Attribute::Value(v)
        | Attribute::Label(v)
        | Attribute::Id(v) => v,
        other => panic!("{other:?} is no byte string"),
    }
}

fn flag(session: &Session, key: ObjectHandle, ty: AttributeType) -> bool {
    match attribute(session, key, ty) {
        Attribute::Token(b)
        | Attribute::Local(b)
        | Attribute::Sign(b)
        | Attribute::Verify(b)
        | Attribute::Sensitive(b)
        | Attribute::Extractable(b)
        | Attribute::Private(b)
        | Attribute::Encrypt(b)
        | Attribute::Decrypt(b)
        | Attribute::Modifiable(b)
        | Attribute::Destroyable(b)
        | Attribute::AlwaysSensitive(b)
        | Attribute::NeverExtractable(b) => b,
        other => panic!("{other:?} is no flag"),
    }
}

fn aes(session: &Session, len: u64, extra: &[Attribute]) -> cryptoki::error::Result<ObjectHandle> {
    let mut template = vec![Attribute::ValueLen(len.into())];
    template.extend_from_slice(extra);
    session.generate_key(&Mechanism::AesKeyGen, &template)
}

/// An RSA 2048 pair that signs and verifies (`CKA_SIGN`/`CKA_VERIFY` default to false on
/// the halves of a pair, spec §4.2).
fn rsa_pair(
    session: &Session,
    public: &[Attribute],
    private: &[Attribute],
) -> (ObjectHandle, ObjectHandle) {
    let p = [
        &[Attribute::ModulusBits(2048.into()), Attribute::Verify(true)][..],
        public,
    ]
    .concat();
    let q = [&[Attribute::Sign(true)][..], private].concat();
    session
        .generate_key_pair(&Mechanism::RsaPkcsKeyPairGen, &p, &q)
        .unwrap()
}

const P224: &[u8] = &[0x06, 0x05, 0x2b, 0x81, 0x04, 0x00, 0x21];
const P256: &[u8] = &[0x06, 0x08, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x03, 0x01, 0x07];
const K256: &[u8] = &[0x06, 0x05, 0x2b, 0x81, 0x04, 0x00, 0x0a];
const P384: &[u8] = &[0x06, 0x05, 0x2b, 0x81, 0x04, 0x00, 0x22];
const P521: &[u8] = &[0x06, 0x05, 0x2b, 0x81, 0x04, 0x00, 0x23];
const ED25519: &[u8] = &[0x06, 0x03, 0x2b, 0x65, 0x70];

/// An EC pair on the curve of `params` that signs and verifies.
fn ec_pair(session: &Session, params: &[u8]) -> (ObjectHandle, ObjectHandle) {
    let public = [
        Attribute::EcParams(params.to_vec()),
        Attribute::Verify(true),
    ];
    session
        .generate_key_pair(&Mechanism::EccKeyPairGen, &public, &[Attribute::Sign(true)])
        .unwrap()
}

fn rsa_public(session: &Session, public: ObjectHandle) -> Vec<u8> {
    rsa_spki(
        &bytes(session, public, AttributeType::Modulus),
        &bytes(session, public, AttributeType::PublicExponent),
    )
}

fn ec_public(session: &Session, public: ObjectHandle) -> Vec<u8> {
    ec_spki(
        &bytes(session, public, AttributeType::EcParams),
        &bytes(session, public, AttributeType::EcPoint),
    )
}

fn label(text: &str) -> Attribute {
    Attribute::Label(text.as_bytes().to_vec())
}

// ---------------------------------------------------------------------------------------
// Module, slots, token

#[test]
fn info_slot_and_token_are_aws() {
    let m = Module::new();
    let info = m.pkcs11.get_library_info().unwrap();
    assert_eq!(
        (
            info.cryptoki_version().major(),
            info.cryptoki_version().minor()
        ),
        (2, 40)
    );
    let slots = m.pkcs11.get_slots_with_token().unwrap();
    assert_eq!(
        slots.iter().map(Slot::id).collect::<Vec<_>>(),
        [0x2000_0000_0000_0001]
    );
    assert_eq!(m.pkcs11.get_all_slots().unwrap(), slots);
    let slot_info = m.pkcs11.get_slot_info(slots[0]).unwrap();
    assert!(slot_info.token_present());
    let token = m.pkcs11.get_token_info(slots[0]).unwrap();
    assert_eq!(token.label(), "hsm1");
    assert!(token.login_required() && token.token_initialized());
    assert!(token.user_pin_initialized() && token.rng());
    let _s = m.rw();
    let token = m.pkcs11.get_token_info(slots[0]).unwrap();
    assert_eq!(token.session_count(), Some(1));

    let wrong = Slot::try_from(0x2000_0000_0000_0002u64).unwrap();
    assert_eq!(rv(m.pkcs11.get_slot_info(wrong)), RvError::SlotIdInvalid);
    assert_eq!(rv(m.pkcs11.get_token_info(wrong)), RvError::SlotIdInvalid);
    assert_eq!(rv(m.pkcs11.open_rw_session(wrong)), RvError::SlotIdInvalid);
    assert_eq!(
        rv(m.pkcs11.get_mechanism_list(wrong)),
        RvError::SlotIdInvalid
    );
}

/// A second cluster made (and activated, with a crypto user) in the fixture's state directory.
fn second_cluster(fixture: &Fixture, id: &str) {
    let mut entropy = Entropy::new(None);
    let config = ClusterConfig {
        id: Some(id.into()),
        kdf: Kdf::Fast,
        ..ClusterConfig::default()
    };
    hsm::create(&fixture.home, &config, &mut entropy).unwrap();
    let mut cluster = Cluster::open(&fixture.home, id).unwrap();
    cluster.activate(common::ADMIN_PW, &mut entropy).unwrap();
    let admin = fixture.login(&mut cluster, "admin", Role::Admin, common::ADMIN_PW);
    cluster
        .create_user(
            &admin,
            &common::user("cu9"),
            Role::CryptoUser,
            "cu9-password",
            None,
            &mut entropy,
        )
        .unwrap();
    cluster.logout(admin).unwrap();
}

fn configure(fixture: &Fixture, args: &[&str]) {
    let out = std::process::Command::new(bin("configure-cli"))
        .args(args)
        .env("CLOUDHSM_SIM_HOME", &fixture.root)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

#[test]
fn two_configured_clusters_are_two_slots_with_their_own_logins() {
    let fixture = Fixture::new();
    second_cluster(&fixture, "cluster-second");
    configure(&fixture, &["add-cluster", "--cluster-id", common::CLUSTER]);
    configure(&fixture, &["add-cluster", "--cluster-id", "cluster-second"]);
    let m = Module::on(fixture);
    let slots = m.pkcs11.get_slots_with_token().unwrap();
    let ids: Vec<u64> = slots.iter().map(Slot::id).collect();
    assert_eq!(ids, [0x2000_0000_0000_0001, 0x2000_0000_0000_0002]);
    for slot in &slots {
        assert_eq!(m.pkcs11.get_token_info(*slot).unwrap().label(), "hsm1");
    }
    // Each slot is its cluster: cu1 exists only in the first, cu9 only in the second.
    let first = m.pkcs11.open_rw_session(slots[0]).unwrap();
    let second = m.pkcs11.open_rw_session(slots[1]).unwrap();
    assert_eq!(rv(login(&second, PIN1)), RvError::PinIncorrect);
    login(&second, "cu9:cu9-password").unwrap();
    assert_eq!(state(&first), SessionState::RwPublic);
    login(&first, PIN1).unwrap();
    assert_eq!(state(&second), SessionState::RwUser);
}

#[test]
fn one_configured_cluster_of_two_is_one_slot() {
    let fixture = Fixture::new();
    second_cluster(&fixture, "cluster-second");
    configure(&fixture, &["add-cluster", "--cluster-id", "cluster-second"]);
    let m = Module::on(fixture);
    let slot = m.slot();
    let s = m.pkcs11.open_rw_session(slot).unwrap();
    login(&s, "cu9:cu9-password").unwrap();
}

// ---------------------------------------------------------------------------------------
// Sessions and login

#[test]
fn login_is_shared_by_the_sessions_of_the_slot() {
    // spec §1.3, AWS's login_state sample.
    let m = Module::new();
    let slot = m.slot();
    let s1 = m.rw();
    let s2 = m.rw();
    let s3 = m.rw();
    let ro = m.pkcs11.open_ro_session(slot).unwrap();
    for s in [&s1, &s2, &s3] {
        assert_eq!(state(s), SessionState::RwPublic);
    }
    assert_eq!(state(&ro), SessionState::RoPublic);
    assert!(!ro.get_session_info().unwrap().read_write());
    login(&s1, PIN1).unwrap();
    for s in [&s1, &s2, &s3] {
        assert_eq!(state(s), SessionState::RwUser);
    }
    assert_eq!(state(&ro), SessionState::RoUser);
    assert_eq!(rv(login(&s2, PIN1)), RvError::UserAlreadyLoggedIn);
    assert_eq!(rv(login(&s2, PIN2)), RvError::UserAlreadyLoggedIn);
    s1.close().unwrap();
    assert_eq!(state(&s2), SessionState::RwUser);
    assert_eq!(state(&s3), SessionState::RwUser);
    s2.logout().unwrap();
    assert_eq!(state(&s3), SessionState::RwPublic);
    assert_eq!(state(&ro), SessionState::RoPublic);
    assert_eq!(rv(s3.logout()), RvError::UserNotLoggedIn);

    // Closing the last session logs out: the next session is public.
    login(&s3, PIN1).unwrap();
    drop((ro, s2, s3));
    let again = m.rw();
    assert_eq!(state(&again), SessionState::RwPublic);
    login(&again, PIN2).unwrap();
    assert_eq!(state(&again), SessionState::RwUser);
}

#[test]
fn login_refuses_bad_pins_other_user_types_and_locked_users() {
    let m = Module::new();
    let s = m.rw();
    for bad in [
        "cu1:wrong-password",
        "cu1-password",
        "nobody:cu1-password",
        ":",
        "cu1:",
        "admin:admin-pw-1",
    ] {
        assert_eq!(rv(login(&s, bad)), RvError::PinIncorrect, "{bad}");
    }
    assert_eq!(
        rv(s.login(UserType::So, Some(&pin(PIN1)))),
        RvError::UserTypeInvalid
    );
    assert_eq!(
        rv(s.login(UserType::ContextSpecific, Some(&pin(PIN1)))),
        RvError::UserTypeInvalid
    );
    assert_eq!(state(&s), SessionState::RwPublic);

    // cu1 failed once above; a successful login resets nothing for cu2, which now fails
    // MAX_FAILED_LOGINS + 1 times: its right password is then refused as locked.
    login(&s, PIN1).unwrap();
    s.logout().unwrap();
    for _ in 0..6 {
        assert_eq!(rv(login(&s, "cu2:not-the-password")), RvError::PinIncorrect);
    }
    assert_eq!(rv(login(&s, PIN2)), RvError::PinLocked);
    // The lockout is the cluster's: the CLI refuses cu2 as well.
    let out = m.fixture.cli_as("cu2", CU2_PW, &["key", "list"]);
    assert!(!out.status.success());
    // Others are not locked.
    login(&s, PIN1).unwrap();
}

// ---------------------------------------------------------------------------------------
// Objects

#[test]
fn find_objects_by_template_and_visibility() {
    let m = Module::new();
    let s = m.user(PIN1);
    let secret = aes(
        &s,
        16,
        &[
            label("find-aes"),
            Attribute::Id(vec![1, 2, 3]),
            Attribute::Token(true),
        ],
    )
    .unwrap();
    let (public, private) = rsa_pair(
        &s,
        &[label("find-rsa"), Attribute::Token(true)],
        &[label("find-rsa-private"), Attribute::Token(true)],
    );
    let session_key = aes(&s, 32, &[label("find-session")]).unwrap();

    let find = |t: &[Attribute]| {
        let mut found = s.find_objects(t).unwrap();
        found.sort_by_key(|h| h.handle());
        found
    };
    assert_eq!(find(&[label("find-aes")]), [secret]);
    assert_eq!(find(&[Attribute::Id(vec![1, 2, 3])]), [secret]);
    assert_eq!(find(&[Attribute::Class(ObjectClass::PUBLIC_KEY)]), [public]);
    assert_eq!(
        find(&[Attribute::Class(ObjectClass::PRIVATE_KEY)]),
        [private]
    );
    assert_eq!(
        find(&[Attribute::KeyType(KeyType::AES)]),
        [secret, session_key]
    );
    assert_eq!(
        find(&[
            Attribute::KeyType(KeyType::RSA),
            Attribute::Class(ObjectClass::PRIVATE_KEY)
        ]),
        [private]
    );
    assert_eq!(find(&[Attribute::Token(false)]), [session_key]);
    assert_eq!(
        find(&[label("find-aes"), Attribute::KeyType(KeyType::RSA)]),
        []
    );
    assert_eq!(find(&[label("nothing")]), []);
    assert_eq!(find(&[]), [secret, public, private, session_key]);

    // One find at a time.
    let iter = s.iter_objects(&[]).unwrap();
    assert_eq!(rv(s.find_objects(&[])), RvError::OperationActive);
    drop(iter);
    assert_eq!(find(&[label("find-aes")]), [secret]);

    // cu2 sees every public key, none of cu1's private or secret keys...
    s.logout().unwrap();
    login(&s, PIN2).unwrap();
    assert_eq!(find(&[]), [public]);
    assert_eq!(
        rv(s.get_attributes(private, &[AttributeType::Label])),
        RvError::ObjectHandleInvalid
    );
    // ...until cu1 shares one with it (through the CLI).
    let out = m.fixture.cli_as(
        "cu1",
        CU1_PW,
        &[
            "key",
            "share",
            "--filter",
            "attr.label=find-aes",
            "--username",
            "cu2",
            "--role",
            "crypto-user",
        ],
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );
    assert_eq!(find(&[]), [secret, public]);
    // A sharee may use but not destroy it.
    assert_eq!(rv(s.destroy_object(secret)), RvError::ActionProhibited);
    assert_eq!(rv(s.destroy_object(public)), RvError::ActionProhibited);

    // Without a login nothing is found.
    s.logout().unwrap();
    assert_eq!(find(&[]), []);
    assert_eq!(find(&[label("find-aes")]), []);

    // The owner destroys; the handle is then stale.
    login(&s, PIN1).unwrap();
    s.destroy_object(secret).unwrap();
    assert_eq!(rv(s.destroy_object(secret)), RvError::ObjectHandleInvalid);
    assert_eq!(
        rv(s.get_attributes(secret, &[AttributeType::Label])),
        RvError::ObjectHandleInvalid
    );
    assert_eq!(find(&[label("find-aes")]), []);
    let out = m.fixture.cli_as(
        "cu1",
        CU1_PW,
        &["key", "list", "--filter", "attr.label=find-aes"],
    );
    assert!(
        String::from_utf8_lossy(&out.stdout).contains("\"total_key_count\": 0"),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );
}

// ---------------------------------------------------------------------------------------
// Key generation

#[test]
fn generated_keys_have_the_documented_defaults() {
    let m = Module::new();
    let s = m.user(PIN1);
    for len in [16u64, 24, 32] {
        let key = aes(&s, len, &[]).unwrap();
        assert_eq!(
            attribute(&s, key, AttributeType::ValueLen),
            Attribute::ValueLen(len.into())
        );
        assert_eq!(
            attribute(&s, key, AttributeType::KeyType),
            Attribute::KeyType(KeyType::AES)
        );
        assert_eq!(
            attribute(&s, key, AttributeType::Class),
            Attribute::Class(ObjectClass::SECRET_KEY)
        );
        assert!(!flag(&s, key, AttributeType::Token));
        assert!(flag(&s, key, AttributeType::Local));
        assert!(flag(&s, key, AttributeType::Sign) && flag(&s, key, AttributeType::Verify));
        assert!(flag(&s, key, AttributeType::Sensitive) && flag(&s, key, AttributeType::Private));
    }
    let generic = s
        .generate_key(
            &Mechanism::GenericSecretKeyGen,
            &[Attribute::ValueLen(48.into())],
        )
        .unwrap();
    assert_eq!(
        attribute(&s, generic, AttributeType::KeyType),
        Attribute::KeyType(KeyType::GENERIC_SECRET)
    );
    assert_eq!(
        attribute(&s, generic, AttributeType::ValueLen),
        Attribute::ValueLen(48.into())
    );
    assert!(flag(&s, generic, AttributeType::Sign) && flag(&s, generic, AttributeType::Verify));
    assert!(!flag(&s, generic, AttributeType::Token) && flag(&s, generic, AttributeType::Local));

    let bits = [Attribute::ModulusBits(2048.into())];
    let (public, private) = s
        .generate_key_pair(&Mechanism::RsaPkcsKeyPairGen, &bits, &[])
        .unwrap();
    assert_eq!(
        attribute(&s, public, AttributeType::ModulusBits),
        Attribute::ModulusBits(2048.into())
    );
    // The halves of a pair neither sign nor verify unless asked (§4.2), unlike secret keys.
    assert!(!flag(&s, private, AttributeType::Sign) && !flag(&s, public, AttributeType::Verify));
    assert_eq!(
        rv(s.sign_init(&Mechanism::Sha256RsaPkcs, private)),
        RvError::KeyFunctionNotPermitted
    );
    assert_eq!(bytes(&s, public, AttributeType::PublicExponent), [1, 0, 1]);
    assert_eq!(bytes(&s, public, AttributeType::Modulus).len(), 256);
    for key in [public, private] {
        assert!(!flag(&s, key, AttributeType::Token) && flag(&s, key, AttributeType::Local));
    }
    assert!(
        flag(&s, private, AttributeType::Sensitive) && flag(&s, private, AttributeType::Private)
    );

    for params in [P224, P256, K256, P384, P521, ED25519] {
        let (public, private) = ec_pair(&s, params);
        assert_eq!(bytes(&s, public, AttributeType::EcParams), params);
        assert_eq!(bytes(&s, private, AttributeType::EcParams), params);
        assert_eq!(
            attribute(&s, private, AttributeType::KeyType),
            Attribute::KeyType(KeyType::EC)
        );
        assert!(bytes(&s, public, AttributeType::EcPoint).starts_with(&[0x04]));
    }
    // Every curve's key signs, and openssl verifies (ed25519 aside: no ECDSA).
    for params in [P224, P256, K256, P384, P521] {
        let (public, private) = ec_pair(&s, params);
        let data = b"every curve signs".to_vec();
        let signature = s.sign(&Mechanism::EcdsaSha256, private, &data).unwrap();
        let verify = [
            "dgst",
            "-sha256",
            "-verify",
            "{key}",
            "-signature",
            "{sig}",
            "{data}",
        ];
        assert!(
            openssl(
                &verify,
                &ec_public(&s, public),
                &ecdsa_der(&signature),
                &data
            )
            .0,
            "{params:?}"
        );
    }

    // A token key is the cluster's: the CLI lists it with the label asked for.
    let token = aes(&s, 32, &[label("made-by-module"), Attribute::Token(true)]).unwrap();
    assert!(flag(&s, token, AttributeType::Token));
    let out = m.fixture.cli_as(
        "cu1",
        CU1_PW,
        &[
            "key",
            "list",
            "--filter",
            "attr.label=made-by-module",
            "--verbose",
        ],
    );
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        text.contains("\"total_key_count\": 1") && text.contains("\"key-type\": \"aes\""),
        "{text}"
    );
}

#[test]
fn a_fips_cluster_makes_no_ed25519_key() {
    let m = Module::on(Fixture::with(ClusterConfig {
        fips: true,
        ..ClusterConfig::default()
    }));
    let s = m.user(PIN1);
    let public = [Attribute::EcParams(ED25519.to_vec())];
    let refused = s.generate_key_pair(&Mechanism::EccKeyPairGen, &public, &[]);
    assert_eq!(rv(refused), RvError::CurveNotSupported);
    // The FIPS curves still are.
    ec_pair(&s, P256);
}

#[test]
fn key_templates_are_checked() {
    let m = Module::new();
    let s = m.user(PIN1);
    let bad = |extra: &[Attribute]| rv(aes(&s, 16, extra));
    assert_eq!(
        bad(&[Attribute::Private(false)]),
        RvError::AttributeValueInvalid
    );
    assert_eq!(bad(&[Attribute::Local(true)]), RvError::AttributeReadOnly);
    assert_eq!(
        bad(&[label("a"), label("b")]),
        RvError::TemplateInconsistent
    );
    let unknown = Attribute::VendorDefined((AttributeType::VendorDefined(0x8000_7777), vec![1]));
    assert_eq!(bad(&[unknown]), RvError::AttributeTypeInvalid);
    assert_eq!(
        bad(&[Attribute::Class(ObjectClass::PUBLIC_KEY)]),
        RvError::TemplateInconsistent
    );
    assert_eq!(
        bad(&[Attribute::KeyType(KeyType::RSA)]),
        RvError::TemplateInconsistent
    );
    assert_eq!(rv(aes(&s, 20, &[])), RvError::KeySizeRange);
    assert_eq!(
        rv(s.generate_key(&Mechanism::AesKeyGen, &[])),
        RvError::TemplateIncomplete
    );
    assert_eq!(
        rv(s.generate_key(&Mechanism::Sha256, &[Attribute::ValueLen(16.into())])),
        RvError::MechanismInvalid
    );

    let rsa = Mechanism::RsaPkcsKeyPairGen;
    let bits = Attribute::ModulusBits(2048.into());
    assert_eq!(
        rv(s.generate_key_pair(&rsa, &[], &[])),
        RvError::TemplateIncomplete
    );
    assert_eq!(
        rv(s.generate_key_pair(
            &rsa,
            std::slice::from_ref(&bits),
            std::slice::from_ref(&bits)
        )),
        RvError::TemplateInconsistent
    );
    assert_eq!(
        rv(s.generate_key_pair(&rsa, &[Attribute::ModulusBits(1024.into())], &[])),
        RvError::KeySizeRange
    );
    assert_eq!(
        rv(s.generate_key_pair(
            &rsa,
            std::slice::from_ref(&bits),
            &[Attribute::Sensitive(false)]
        )),
        RvError::AttributeValueInvalid
    );
    let exponent = |e: Vec<u8>| [bits.clone(), Attribute::PublicExponent(e)];
    assert_eq!(
        rv(s.generate_key_pair(&rsa, &exponent(vec![3]), &[])),
        RvError::AttributeValueInvalid
    );
    assert_eq!(
        rv(s.generate_key_pair(&rsa, &exponent(vec![1, 0, 2]), &[])),
        RvError::AttributeValueInvalid
    );
    s.generate_key_pair(&rsa, &exponent(vec![0, 1, 0, 1]), &[])
        .unwrap();
    let odd_bits = [Attribute::ModulusBits(2049.into())];
    assert_eq!(
        rv(s.generate_key_pair(&rsa, &odd_bits, &[])),
        RvError::KeySizeRange
    );
    let generic = |len: u64| {
        s.generate_key(
            &Mechanism::GenericSecretKeyGen,
            &[Attribute::ValueLen(len.into())],
        )
    };
    assert_eq!(rv(generic(0)), RvError::KeySizeRange);
    assert_eq!(rv(generic(801)), RvError::KeySizeRange);
    generic(1).unwrap();
    generic(800).unwrap();
    assert_eq!(
        rv(aes(&s, 16, &[Attribute::Label(vec![0xff, 0xfe])])),
        RvError::AttributeValueInvalid
    );
    let ec = Mechanism::EccKeyPairGen;
    // CKA_DERIVE "must be False for all public keys" (AWS-MODIFY).
    let p256 = Attribute::EcParams(P256.to_vec());
    let derive = [p256.clone(), Attribute::Derive(true)];
    assert_eq!(
        rv(s.generate_key_pair(&ec, &derive, &[])),
        RvError::TemplateInconsistent
    );
    let derive = [p256, Attribute::Derive(false)];
    s.generate_key_pair(&ec, &derive, &[Attribute::Derive(true)])
        .unwrap();
    assert_eq!(
        rv(s.generate_key_pair(&ec, &[], &[])),
        RvError::TemplateIncomplete
    );
    // A curve the cluster does not know (brainpoolP256r1).
    let brainpool = vec![
        0x06, 0x09, 0x2b, 0x24, 0x03, 0x03, 0x02, 0x08, 0x01, 0x01, 0x07,
    ];
    assert_eq!(
        rv(s.generate_key_pair(&ec, &[Attribute::EcParams(brainpool)], &[])),
        RvError::CurveNotSupported
    );

    // Token keys need a read-write session; session keys do not.
    let ro = m.pkcs11.open_ro_session(m.slot()).unwrap();
    assert_eq!(
        rv(aes(&ro, 16, &[Attribute::Token(true)])),
        RvError::SessionReadOnly
    );
    assert_eq!(
        rv(ro.generate_key_pair(&rsa, &[bits.clone(), Attribute::Token(true)], &[])),
        RvError::SessionReadOnly
    );
    let key = aes(&ro, 16, &[]).unwrap();
    assert!(!flag(&ro, key, AttributeType::Token));
    // ...and a token key made elsewhere is not destroyed from a read-only one.
    let token = aes(&s, 16, &[Attribute::Token(true)]).unwrap();
    assert_eq!(rv(ro.destroy_object(token)), RvError::SessionReadOnly);
    s.destroy_object(token).unwrap();

    // The halves of a pair may differ in CKA_TOKEN.
    let (public, private) = rsa_pair(&s, &[Attribute::Token(true)], &[Attribute::Token(false)]);
    assert!(flag(&s, public, AttributeType::Token));
    assert!(flag(&s, private, AttributeType::Sign) && flag(&s, public, AttributeType::Verify));
    assert!(!flag(&s, private, AttributeType::Token));
    let public = [Attribute::EcParams(P256.to_vec()), Attribute::Verify(true)];
    let (public, private) = s
        .generate_key_pair(
            &ec,
            &public,
            &[Attribute::Token(true), Attribute::Sign(true)],
        )
        .unwrap();
    assert!(!flag(&s, public, AttributeType::Token));
    assert!(flag(&s, private, AttributeType::Token));
    let signature = s.sign(&Mechanism::EcdsaSha256, private, b"mixed").unwrap();
    s.verify(&Mechanism::EcdsaSha256, public, b"mixed", &signature)
        .unwrap();
}

// ---------------------------------------------------------------------------------------
// Sign and verify

/// Signs `data` whole and in parts with `mechanism`, verifies both with the module, and
/// returns them.
fn sign_both_ways(
    s: &Session,
    mechanism: &Mechanism,
    private: ObjectHandle,
    public: ObjectHandle,
    data: &[u8],
) -> [Vec<u8>; 2] {
    let whole = s.sign(mechanism, private, data).unwrap();
    s.sign_init(mechanism, private).unwrap();
    for part in data.chunks(5) {
        s.sign_update(part).unwrap();
    }
    let parts = s.sign_final().unwrap();
    s.verify(mechanism, public, data, &whole).unwrap();
    s.verify_init(mechanism, public).unwrap();
    for part in data.chunks(3) {
        s.verify_update(part).unwrap();
    }
    s.verify_final(&parts).unwrap();
    [whole, parts]
}

#[test]
fn rsa_signatures_of_every_mechanism_verify_with_openssl() {
    let m = Module::new();
    let s = m.user(PIN1);
    let (public, private) = rsa_pair(&s, &[], &[]);
    let spki = rsa_public(&s, public);
    let data = b"a message signed by every RSA mechanism".to_vec();
    let hashed = [
        (Mechanism::Sha1RsaPkcs, "-sha1"),
        (Mechanism::Sha224RsaPkcs, "-sha224"),
        (Mechanism::Sha256RsaPkcs, "-sha256"),
        (Mechanism::Sha384RsaPkcs, "-sha384"),
        (Mechanism::Sha512RsaPkcs, "-sha512"),
    ];
    for (mechanism, hash) in hashed {
        let [whole, parts] = sign_both_ways(&s, &mechanism, private, public, &data);
        assert_eq!(whole, parts, "{mechanism:?} is deterministic");
        let verify = [
            "dgst",
            hash,
            "-verify",
            "{key}",
            "-signature",
            "{sig}",
            "{data}",
        ];
        assert!(openssl(&verify, &spki, &whole, &data).0, "{mechanism:?}");
    }
    let pss = |hash: MechanismType, mgf: PkcsMgfType, salt: u64| PkcsPssParams {
        hash_alg: hash,
        mgf,
        s_len: salt.into(),
    };
    let hashed_pss = [
        (
            Mechanism::Sha1RsaPkcsPss(pss(MechanismType::SHA1, PkcsMgfType::MGF1_SHA1, 20)),
            "sha1",
            20,
        ),
        (
            Mechanism::Sha256RsaPkcsPss(pss(MechanismType::SHA256, PkcsMgfType::MGF1_SHA256, 32)),
            "sha256",
            32,
        ),
        (
            Mechanism::Sha384RsaPkcsPss(pss(MechanismType::SHA384, PkcsMgfType::MGF1_SHA384, 0)),
            "sha384",
            0,
        ),
        (
            Mechanism::Sha512RsaPkcsPss(pss(MechanismType::SHA512, PkcsMgfType::MGF1_SHA512, 64)),
            "sha512",
            64,
        ),
    ];
    for (mechanism, hash, salt) in hashed_pss {
        let (salt, mgf) = (
            format!("rsa_pss_saltlen:{salt}"),
            format!("rsa_mgf1_md:{hash}"),
        );
        let dash = format!("-{hash}");
        let verify = [
            "dgst",
            &dash,
            "-sigopt",
            "rsa_padding_mode:pss",
            "-sigopt",
            &salt,
            "-sigopt",
            &mgf,
            "-verify",
            "{key}",
            "-signature",
            "{sig}",
            "{data}",
        ];
        for signature in sign_both_ways(&s, &mechanism, private, public, &data) {
            assert!(
                openssl(&verify, &spki, &signature, &data).0,
                "{mechanism:?}"
            );
        }
    }

    // CKM_RSA_PKCS over a DigestInfo the caller made, and over arbitrary short data.
    let digest = aws_lc_rs::digest::digest(&aws_lc_rs::digest::SHA256, &data);
    let prefix = [
        0x30, 0x31, 0x30, 0x0d, 0x06, 0x09, 0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x02, 0x01,
        0x05, 0x00, 0x04, 0x20,
    ];
    let digest_info = [&prefix[..], digest.as_ref()].concat();
    let signature = s.sign(&Mechanism::RsaPkcs, private, &digest_info).unwrap();
    let verify = [
        "dgst",
        "-sha256",
        "-verify",
        "{key}",
        "-signature",
        "{sig}",
        "{data}",
    ];
    assert!(openssl(&verify, &spki, &signature, &data).0);
    s.verify(&Mechanism::RsaPkcs, public, &digest_info, &signature)
        .unwrap();
    let recover = [
        "pkeyutl",
        "-verifyrecover",
        "-pubin",
        "-keyform",
        "DER",
        "-inkey",
        "{key}",
        "-in",
        "{sig}",
    ];
    for short in [&b"hello"[..], &[0u8; 1][..], &[0xffu8; 200][..]] {
        let signature = s.sign(&Mechanism::RsaPkcs, private, short).unwrap();
        let (ok, recovered) = openssl(&recover, &spki, &signature, b"");
        assert!(ok && recovered == short, "{short:?}");
        s.verify(&Mechanism::RsaPkcs, public, short, &signature)
            .unwrap();
    }
    // Longer than the modulus allows (k - 11 bytes).
    assert_eq!(
        rv(s.sign(&Mechanism::RsaPkcs, private, &[1u8; 246])),
        RvError::DataLenRange
    );
    // Single-part only: an update is not supported and ends the operation.
    s.sign_init(&Mechanism::RsaPkcs, private).unwrap();
    assert_eq!(rv(s.sign_update(b"x")), RvError::FunctionNotSupported);

    // CKM_RSA_PKCS_PSS over a hash.
    let mechanism = Mechanism::RsaPkcsPss(pss(MechanismType::SHA256, PkcsMgfType::MGF1_SHA256, 32));
    let signature = s.sign(&mechanism, private, digest.as_ref()).unwrap();
    let verify = [
        "pkeyutl",
        "-verify",
        "-pubin",
        "-keyform",
        "DER",
        "-inkey",
        "{key}",
        "-in",
        "{data}",
        "-sigfile",
        "{sig}",
        "-pkeyopt",
        "rsa_padding_mode:pss",
        "-pkeyopt",
        "digest:sha256",
        "-pkeyopt",
        "rsa_pss_saltlen:32",
        "-pkeyopt",
        "rsa_mgf1_md:sha256",
    ];
    assert!(openssl(&verify, &spki, &signature, digest.as_ref()).0);
    s.verify(&mechanism, public, digest.as_ref(), &signature)
        .unwrap();
    // Mismatched parameters: the hash of a hashing PSS mechanism; an MGF of another hash
    // (the cluster requires the MGF's hash to be the signature's).
    let wrong =
        Mechanism::Sha256RsaPkcsPss(pss(MechanismType::SHA384, PkcsMgfType::MGF1_SHA256, 32));
    assert_eq!(
        rv(s.sign_init(&wrong, private)),
        RvError::MechanismParamInvalid
    );
    let wrong =
        Mechanism::Sha512RsaPkcsPss(pss(MechanismType::SHA512, PkcsMgfType::MGF1_SHA256, 64));
    assert_eq!(
        rv(s.sign(&wrong, private, &data)),
        RvError::MechanismParamInvalid
    );
    let wrong = Mechanism::RsaPkcsPss(pss(MechanismType::SHA256, PkcsMgfType::MGF1_SHA1, 32));
    assert_eq!(
        rv(s.sign(&wrong, private, digest.as_ref())),
        RvError::MechanismParamInvalid
    );
    // A hash of the wrong length for the parameters.
    assert_eq!(
        rv(s.sign(&mechanism, private, &[0u8; 20])),
        RvError::DataLenRange
    );
}

#[test]
fn ecdsa_signatures_of_every_mechanism_verify_with_openssl() {
    let m = Module::new();
    let s = m.user(PIN1);
    let (public, private) = ec_pair(&s, P384);
    let spki = ec_public(&s, public);
    let data = b"a message signed by every ECDSA mechanism".to_vec();
    let hashed = [
        (Mechanism::EcdsaSha1, "-sha1"),
        (Mechanism::EcdsaSha224, "-sha224"),
        (Mechanism::EcdsaSha256, "-sha256"),
        (Mechanism::EcdsaSha384, "-sha384"),
        (Mechanism::EcdsaSha512, "-sha512"),
    ];
    for (mechanism, hash) in hashed {
        let verify = [
            "dgst",
            hash,
            "-verify",
            "{key}",
            "-signature",
            "{sig}",
            "{data}",
        ];
        for signature in sign_both_ways(&s, &mechanism, private, public, &data) {
            assert_eq!(signature.len(), 96);
            assert!(
                openssl(&verify, &spki, &ecdsa_der(&signature), &data).0,
                "{mechanism:?}"
            );
        }
    }
    // CKM_ECDSA over a 32- and a 48-byte hash.
    let verify = [
        "pkeyutl", "-verify", "-pubin", "-keyform", "DER", "-inkey", "{key}", "-in", "{data}",
        "-sigfile", "{sig}",
    ];
    for hash in [&aws_lc_rs::digest::SHA256, &aws_lc_rs::digest::SHA384] {
        let digest = aws_lc_rs::digest::digest(hash, &data);
        let signature = s.sign(&Mechanism::Ecdsa, private, digest.as_ref()).unwrap();
        assert!(openssl(&verify, &spki, &ecdsa_der(&signature), digest.as_ref()).0);
        s.verify(&Mechanism::Ecdsa, public, digest.as_ref(), &signature)
            .unwrap();
        let mut altered = signature.clone();
        altered[5] ^= 0x40;
        assert_eq!(
            rv(s.verify(&Mechanism::Ecdsa, public, digest.as_ref(), &altered)),
            RvError::SignatureInvalid
        );
        assert_eq!(
            rv(s.verify(&Mechanism::Ecdsa, public, digest.as_ref(), &signature[..95])),
            RvError::SignatureLenRange
        );
    }
    // Data of no hash length.
    assert_eq!(
        rv(s.sign(&Mechanism::Ecdsa, private, &[0u8; 33])),
        RvError::DataLenRange
    );
    // Single-part only: an update is not supported and ends the operation.
    s.sign_init(&Mechanism::Ecdsa, private).unwrap();
    assert_eq!(rv(s.sign_update(b"x")), RvError::FunctionNotSupported);
}

#[test]
fn hmac_of_every_hash_matches_aws_lc() {
    let m = Module::new();
    let s = m.user(PIN1);
    let open = [Attribute::Sensitive(false), Attribute::Extractable(true)];
    let generic = s
        .generate_key(
            &Mechanism::GenericSecretKeyGen,
            &[&[Attribute::ValueLen(40.into())][..], &open].concat(),
        )
        .unwrap();
    let aes_key = aes(&s, 32, &open).unwrap();
    let data: Vec<u8> = (0..1000u32).map(|i| (i % 251) as u8).collect();
    let mechanisms = [
        (
            Mechanism::Sha1Hmac,
            hmac::HMAC_SHA1_FOR_LEGACY_USE_ONLY,
            16288,
        ),
        (Mechanism::Sha224Hmac, hmac::HMAC_SHA224, 16256),
        (Mechanism::Sha256Hmac, hmac::HMAC_SHA256, 16288),
        (Mechanism::Sha384Hmac, hmac::HMAC_SHA384, 16224),
        (Mechanism::Sha512Hmac, hmac::HMAC_SHA512, 16224),
    ];
    for key in [generic, aes_key] {
        let secret = bytes(&s, key, AttributeType::Value);
        for (mechanism, algorithm, limit) in &mechanisms {
            let limit = *limit;
            let expected = hmac::sign(&hmac::Key::new(*algorithm, &secret), &data);
            let [whole, parts] = sign_both_ways(&s, mechanism, key, key, &data);
            assert_eq!(whole, expected.as_ref(), "{mechanism:?}");
            assert_eq!(parts, expected.as_ref(), "{mechanism:?}");
            let mut altered = whole.clone();
            altered[0] ^= 1;
            assert_eq!(
                rv(s.verify(mechanism, key, &data, &altered)),
                RvError::SignatureInvalid
            );
            assert_eq!(
                rv(s.verify(mechanism, key, &data, &whole[1..])),
                RvError::SignatureLenRange
            );
            // The HSM's data limit, whole or in parts.
            s.sign(mechanism, key, &vec![7u8; limit]).unwrap();
            assert_eq!(
                rv(s.sign(mechanism, key, &vec![7u8; limit + 1])),
                RvError::DataLenRange,
                "{mechanism:?}"
            );
            s.sign_init(mechanism, key).unwrap();
            s.sign_update(&vec![7u8; limit]).unwrap();
            let over = s.sign_update(b"!").and_then(|()| s.sign_final());
            assert_eq!(rv(over), RvError::DataLenRange, "{mechanism:?} in parts");
        }
    }
}

#[test]
fn signing_refusals_have_their_codes() {
    let m = Module::new();
    let s = m.user(PIN1);
    let (public, private) = rsa_pair(&s, &[], &[]);
    let (_, ec_private) = ec_pair(&s, P256);
    // Operation state.
    assert_eq!(rv(s.sign_update(b"x")), RvError::OperationNotInitialized);
    assert_eq!(rv(s.sign_final()), RvError::OperationNotInitialized);
    assert_eq!(
        rv(s.verify_final(&[0; 256])),
        RvError::OperationNotInitialized
    );
    s.sign_init(&Mechanism::Sha256RsaPkcs, private).unwrap();
    assert_eq!(
        rv(s.sign_init(&Mechanism::Sha256RsaPkcs, private)),
        RvError::OperationActive
    );
    s.sign_update(b"the first operation").unwrap();
    let signature = s.sign_final().unwrap();
    s.verify(
        &Mechanism::Sha256RsaPkcs,
        public,
        b"the first operation",
        &signature,
    )
    .unwrap();
    s.verify_init(&Mechanism::Sha256RsaPkcs, public).unwrap();
    assert_eq!(
        rv(s.verify_init(&Mechanism::Sha256RsaPkcs, public)),
        RvError::OperationActive
    );
    s.verify_update(b"the first operation").unwrap();
    s.verify_final(&signature).unwrap();
    // Keys: usage, type, handle. A public key has no CKA_SIGN at all: the cluster refuses its
    // class for signing (KEY_TYPE_INCONSISTENT), and a private key for verifying.
    assert_eq!(
        rv(s.sign_init(&Mechanism::Sha256RsaPkcs, public)),
        RvError::KeyTypeInconsistent
    );
    assert_eq!(
        rv(s.verify_init(&Mechanism::Sha256RsaPkcs, private)),
        RvError::KeyTypeInconsistent
    );
    let bits = [Attribute::ModulusBits(2048.into())];
    let (_, no_sign) = s
        .generate_key_pair(
            &Mechanism::RsaPkcsKeyPairGen,
            &bits,
            &[Attribute::Sign(false)],
        )
        .unwrap();
    assert_eq!(
        rv(s.sign_init(&Mechanism::Sha256RsaPkcs, no_sign)),
        RvError::KeyFunctionNotPermitted
    );
    let no_sign = aes(&s, 32, &[Attribute::Sign(false)]).unwrap();
    assert_eq!(
        rv(s.sign_init(&Mechanism::Sha256Hmac, no_sign)),
        RvError::KeyFunctionNotPermitted
    );
    assert_eq!(
        rv(s.sign_init(&Mechanism::EcdsaSha256, private)),
        RvError::KeyTypeInconsistent
    );
    assert_eq!(
        rv(s.sign_init(&Mechanism::Sha256RsaPkcs, ec_private)),
        RvError::KeyTypeInconsistent
    );
    assert_eq!(
        rv(s.sign_init(&Mechanism::Sha256Hmac, private)),
        RvError::KeyTypeInconsistent
    );
    let stale = aes(&s, 16, &[]).unwrap();
    s.destroy_object(stale).unwrap();
    assert_eq!(
        rv(s.sign_init(&Mechanism::Sha256Hmac, stale)),
        RvError::KeyHandleInvalid
    );
    assert_eq!(
        rv(s.sign_init(&Mechanism::Sha256, private)),
        RvError::MechanismInvalid
    );
    // Without a login no key is usable: a token key's handle is still known, but refused.
    let token = aes(&s, 16, &[Attribute::Token(true)]).unwrap();
    s.logout().unwrap();
    assert_eq!(
        rv(s.sign_init(&Mechanism::Sha256Hmac, token)),
        RvError::UserNotLoggedIn
    );
    // A session key went with the login.
    assert_eq!(
        rv(s.sign_init(&Mechanism::Sha256RsaPkcs, private)),
        RvError::KeyHandleInvalid
    );
}

#[test]
fn eight_threads_sign_at_once_on_sessions_of_their_own() {
    let m = Module::new();
    let s = m.user(PIN1);
    let (public, private) = ec_pair(&s, P256);
    let key = aes(&s, 32, &[Attribute::Token(true)]).unwrap();
    let spki = ec_public(&s, public);
    let sessions: Vec<Session> = (0..8).map(|_| m.rw()).collect();
    let signatures: Vec<(Vec<u8>, Vec<u8>, Vec<u8>)> = std::thread::scope(|scope| {
        let workers: Vec<_> = sessions
            .into_iter()
            .enumerate()
            .map(|(i, session)| {
                scope.spawn(move || {
                    (0..10)
                        .map(|j| {
                            let data = format!("thread {i} signature {j}").into_bytes();
                            let ecdsa = session
                                .sign(&Mechanism::EcdsaSha256, private, &data)
                                .unwrap();
                            let mac = session.sign(&Mechanism::Sha256Hmac, key, &data).unwrap();
                            session
                                .verify(&Mechanism::Sha256Hmac, key, &data, &mac)
                                .unwrap();
                            (data, ecdsa, mac)
                        })
                        .collect::<Vec<_>>()
                })
            })
            .collect();
        workers
            .into_iter()
            .flat_map(|w| w.join().unwrap())
            .collect()
    });
    assert_eq!(signatures.len(), 80);
    let verify = [
        "dgst",
        "-sha256",
        "-verify",
        "{key}",
        "-signature",
        "{sig}",
        "{data}",
    ];
    for (data, ecdsa, mac) in signatures.iter().step_by(7) {
        assert!(openssl(&verify, &spki, &ecdsa_der(ecdsa), data).0);
        s.verify(&Mechanism::Sha256Hmac, key, data, mac).unwrap();
    }
}

#[test]
fn the_cli_makes_the_next_sign_init_fail() {
    let m = Module::new();
    let s = m.user(PIN1);
    let key = aes(&s, 32, &[label("cli-changes-me"), Attribute::Token(true)]).unwrap();
    s.sign(&Mechanism::Sha256Hmac, key, b"before").unwrap();
    let out = m.fixture.cli_as(
        "cu1",
        CU1_PW,
        &[
            "key",
            "set-attribute",
            "--filter",
            "attr.label=cli-changes-me",
            "--name",
            "sign",
            "--value",
            "false",
        ],
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );
    assert_eq!(
        rv(s.sign_init(&Mechanism::Sha256Hmac, key)),
        RvError::KeyFunctionNotPermitted
    );
    assert!(!flag(&s, key, AttributeType::Sign));
}

// ---------------------------------------------------------------------------------------
// Digest, random, mechanisms

#[test]
fn digests_match_known_values_whole_and_in_parts() {
    let m = Module::new();
    let s = m.rw(); // no login needed
    let cases = [
        (Mechanism::Sha1, "a9993e364706816aba3e25717850c26c9cd0d89d"),
        (Mechanism::Sha224, "23097d223405d8228642a477bda255b32aadbce4bda0b3f7e36c9da7"),
        (Mechanism::Sha256, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"),
        (
            Mechanism::Sha384,
            "cb00753f45a35e8bb5a03d699ac65007272c32ab0eded1631a8b605a43ff5bed8086072ba1e7cc2358baeca134c825a7",
        ),
        (
            Mechanism::Sha512,
            "ddaf35a193617abacc417349ae20413112e6fa4e89a97ea20a9eeee64b55d39a2192992a274fc1a836ba3c23a3feebbd454d4423643ce80e2a9ac94fa54ca49f",
        ),
    ];
    let hex = |b: &[u8]| b.iter().map(|b| format!("{b:02x}")).collect::<String>();
    for (mechanism, expected) in cases {
        assert_eq!(hex(&s.digest(&mechanism, b"abc").unwrap()), expected);
        s.digest_init(&mechanism).unwrap();
        s.digest_update(b"a").unwrap();
        s.digest_update(b"").unwrap();
        s.digest_update(b"bc").unwrap();
        assert_eq!(hex(&s.digest_final().unwrap()), expected);
    }
    assert_eq!(rv(s.digest_update(b"a")), RvError::OperationNotInitialized);
    assert_eq!(rv(s.digest_final()), RvError::OperationNotInitialized);
}

#[test]
fn random_needs_no_login_and_seeding_is_not_supported() {
    let m = Module::new();
    let s = m.rw();
    let a = s.generate_random_vec(32).unwrap();
    let b = s.generate_random_vec(32).unwrap();
    assert_eq!(a.len(), 32);
    assert_ne!(a, b);
    assert_eq!(rv(s.seed_random(b"seed")), RvError::FunctionNotSupported);
}

#[test]
fn the_mechanism_list_is_what_is_implemented() {
    let m = Module::new();
    let slot = m.slot();
    // The exact list is checked in boundary.rs: cryptoki leaves out the numbers it has no
    // name for (CKM_RSA_X9_31_KEY_PAIR_GEN, the SHA-224 ones).
    let listed: Vec<u64> = m
        .pkcs11
        .get_mechanism_list(slot)
        .unwrap()
        .into_iter()
        .map(u64::from)
        .collect();
    assert!(listed.len() > 20);
    for mechanism in &listed {
        let info = m
            .pkcs11
            .get_mechanism_info(slot, MechanismType::try_from(*mechanism).unwrap())
            .unwrap();
        assert!(
            info.sign()
                || info.digest()
                || info.generate()
                || info.generate_key_pair()
                || info.encrypt()
                || info.derive()
                || info.wrap(),
            "{mechanism:#x}"
        );
    }
    let info = m
        .pkcs11
        .get_mechanism_info(slot, MechanismType::SHA256_RSA_PKCS)
        .unwrap();
    assert!(info.sign() && info.verify() && !info.digest());
    assert_eq!((info.min_key_size(), info.max_key_size()), (2048, 4096));
    // Mechanisms CloudHSM does not have.
    for unlisted in [MechanismType::DES_KEY_GEN, MechanismType::SHA256_KEY_GEN] {
        assert_eq!(
            rv(m.pkcs11.get_mechanism_info(slot, unlisted)),
            RvError::MechanismInvalid,
            "{unlisted:?}"
        );
    }
}

#[test]
fn the_module_stays_usable_by_a_thread_that_outlives_its_unloading() {
    // AWS-LC's per-thread state has a destructor in the module: with the module unloaded
    // (cryptoki's Pkcs11 dropped: dlclose) before the thread ends, the thread's exit crashed
    // the process (SIGSEGV) until the module was linked -z nodelete.
    let fixture = Fixture::new();
    std::thread::scope(|scope| {
        scope.spawn(|| {
            let pkcs11 = fixture.pkcs11();
            let s = pkcs11.open_rw_session(common::slot(&pkcs11)).unwrap();
            assert_eq!(s.generate_random_vec(64).unwrap().len(), 64);
            drop(s);
            pkcs11.finalize().unwrap();
        });
    });
}

// ---------------------------------------------------------------------------------------
// Session objects

#[test]
fn session_objects_live_with_the_session_that_made_them() {
    // spec §1.4, AWS's session_keys sample.
    let m = Module::new();
    let s1 = m.user(PIN1);
    let s2 = m.rw();
    let s3 = m.rw();
    let (public, private) = ec_pair(&s1, P256);
    let signature = s2
        .sign(&Mechanism::EcdsaSha256, private, b"across sessions")
        .unwrap();
    s3.verify(
        &Mechanism::EcdsaSha256,
        public,
        b"across sessions",
        &signature,
    )
    .unwrap();
    let token = aes(&s1, 16, &[Attribute::Token(true)]).unwrap();
    s1.close().unwrap();
    assert_eq!(
        rv(s2.sign_init(&Mechanism::EcdsaSha256, private)),
        RvError::KeyHandleInvalid
    );
    assert_eq!(
        rv(s3.verify_init(&Mechanism::EcdsaSha256, public)),
        RvError::KeyHandleInvalid
    );
    assert_eq!(
        rv(s2.get_attributes(private, &[AttributeType::Label])),
        RvError::ObjectHandleInvalid
    );
    assert_eq!(s2.find_objects(&[Attribute::Token(false)]).unwrap(), []);
    // The token key stays.
    s2.sign(&Mechanism::Sha256Hmac, token, b"token").unwrap();

    // Logging out ends the session keys of every session.
    let key = aes(&s2, 16, &[]).unwrap();
    s3.sign(&Mechanism::Sha256Hmac, key, b"before").unwrap();
    s3.logout().unwrap();
    login(&s3, PIN1).unwrap();
    assert_eq!(
        rv(s2.sign_init(&Mechanism::Sha256Hmac, key)),
        RvError::KeyHandleInvalid
    );
    assert_eq!(s3.find_objects(&[Attribute::Token(false)]).unwrap(), []);
}
