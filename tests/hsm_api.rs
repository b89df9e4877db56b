//! The rules of the simulated HSM, called through its API as a second front end (the PKCS#11
//! module) will call it, with no CLI session in front: no key operation without a login of
//! this cluster; the role table; `trusted` set only by an admin, who sets nothing else; an
//! MFA login in two steps, the first of which uses no key; logout leaves nothing of the
//! login; one quorum approval spent once, whatever the number of threads offering it.

#![allow(clippy::unwrap_used, clippy::expect_used)] // test code: a panic is a failure report

use std::sync::Barrier;

use base64::Engine;
use cloudhsm_sim::hsm::crypto::{self, DataType, HashFunction, Mechanism, PrivateKey};
use cloudhsm_sim::hsm::key::{Assignment, Attribute, Flag, KeyError, Term, Value};
use cloudhsm_sim::hsm::quorum::TokenSetFile;
use cloudhsm_sim::hsm::{
    self, ApprovalFile, Cluster, ClusterConfig, Entropy, GenerateRequest, HsmError, Kdf, KeyKind,
    Login, QuorumError, Role, Service, SessionId, Username,
};
use cloudhsm_sim::store::Home;

const ID: &str = "cluster-api";
const ADMIN_PW: &str = "admin-pw-1";
const CU_PW: &str = "cu1-pw-123";
const APP_PW: &str = "app-pw-123";

/// A username as a front end passes it: parsed once, at its edge.
fn username(name: &str) -> Username {
    Username::parse(name).unwrap()
}

fn b64() -> base64::engine::GeneralPurpose {
    base64::engine::general_purpose::STANDARD
}

/// A state directory with an activated cluster (`ID`, fast password hashing, an appliance
/// user that can log in) and crypto user `cu1`.
struct Fixture {
    _dir: tempfile::TempDir,
    home: Home,
    entropy: Entropy,
}

impl Fixture {
    fn new() -> Fixture {
        let dir = tempfile::tempdir().unwrap();
        let home = Home::open(dir.path().join("state")).unwrap();
        let mut entropy = Entropy::new(Some(7));
        make_cluster(&home, ID, &mut entropy);
        let mut fixture = Fixture {
            _dir: dir,
            home,
            entropy,
        };
        let mut cluster = fixture.open();
        let admin = fixture.login(&mut cluster, "admin", Role::Admin, ADMIN_PW);
        cluster
            .create_user(
                &admin,
                &username("cu1"),
                Role::CryptoUser,
                CU_PW,
                None,
                &mut fixture.entropy,
            )
            .unwrap();
        cluster.logout(admin).unwrap();
        fixture
    }

    fn open(&self) -> Cluster {
        Cluster::open(&self.home, ID).unwrap()
    }

    fn login(&self, cluster: &mut Cluster, user: &str, role: Role, pw: &str) -> Login {
        cluster
            .login(&username(user), role, pw, &SessionId::new())
            .unwrap()
    }

    fn cu1(&self, cluster: &mut Cluster) -> Login {
        self.login(cluster, "cu1", Role::CryptoUser, CU_PW)
    }

    fn admin(&self, cluster: &mut Cluster) -> Login {
        self.login(cluster, "admin", Role::Admin, ADMIN_PW)
    }

    /// How many rows of the cluster database `sql` counts.
    fn count(&self, sql: &str, param: &str) -> i64 {
        let db = rusqlite::Connection::open(self.home.cluster_path(ID)).unwrap();
        db.query_row(sql, [param], |r| r.get(0)).unwrap()
    }
}

fn make_cluster(home: &Home, id: &str, entropy: &mut Entropy) {
    let config = ClusterConfig {
        id: Some(id.into()),
        kdf: Kdf::Fast,
        appliance_password: Some(APP_PW.into()),
        ..ClusterConfig::default()
    };
    hsm::create(home, &config, entropy).unwrap();
    Cluster::open(home, id)
        .unwrap()
        .activate(ADMIN_PW, entropy)
        .unwrap();
}

fn terms(label: &str) -> Vec<Term> {
    vec![Term::Is(Attribute::Label, Value::Text(label.into()))]
}

/// A token EC P-256 pair: the private key labelled `label`, the public one `<label>-pub`.
fn ec_pair(label: &str) -> GenerateRequest {
    GenerateRequest {
        kind: KeyKind::Ec {
            curve: crypto::Curve::Prime256v1,
        },
        label: format!("{label}-pub"),
        private_label: label.into(),
        attributes: vec![Assignment::Flag(Flag::Verify, true)],
        private_attributes: vec![Assignment::Flag(Flag::Sign, true)],
        share_with: Vec::new(),
        manage_quorum: None,
        use_quorum: None,
        token: true,
    }
}

fn aes(label: &str, token: bool) -> GenerateRequest {
    GenerateRequest {
        kind: KeyKind::Aes { bytes: 32 },
        label: label.into(),
        private_label: String::new(),
        attributes: Vec::new(),
        private_attributes: Vec::new(),
        share_with: Vec::new(),
        manage_quorum: None,
        use_quorum: None,
        token,
    }
}

const ECDSA: Mechanism = Mechanism::Ecdsa {
    hash: HashFunction::Sha256,
    data_type: DataType::Raw,
};

fn sign(cluster: &mut Cluster, login: &Login, label: &str) -> Result<Vec<u8>, HsmError> {
    cluster
        .sign_data(
            login,
            &terms(label),
            &ECDSA,
            b"data",
            &Entropy::new(None),
            None,
        )
        .map(|(_, signature)| signature)
}

fn not_permitted(result: Result<impl std::fmt::Debug, HsmError>) {
    assert!(
        matches!(result, Err(HsmError::NotPermitted { .. })),
        "{result:?}"
    );
}

/// An RSA-2048 token-sign key pair (quorum and MFA), as `openssl genrsa` makes one.
struct Signer {
    key: PrivateKey,
}

impl Signer {
    fn new(seed: u64) -> Signer {
        Signer {
            key: crypto::generate_rsa(&mut Entropy::new(Some(seed)), 2048, 65537).unwrap(),
        }
    }

    fn public_pem(&self) -> Vec<u8> {
        self.key.public_key().to_pem().unwrap().into_bytes()
    }

    /// `openssl pkeyutl -sign -pkeyopt digest:sha256` of the base64 token, in base64.
    fn sign(&self, token_b64: &str) -> String {
        let mut digest_info = HashFunction::Sha256.digest_info_prefix().to_vec();
        digest_info.extend(b64().decode(token_b64).unwrap());
        let mechanism = Mechanism::RsaPkcs {
            hash: HashFunction::Sha256,
            data_type: DataType::Digest,
        };
        let signature =
            crypto::sign(&self.key, &mechanism, &digest_info, &mut Entropy::new(None)).unwrap();
        b64().encode(signature)
    }

    /// Every token of `file` signed.
    fn sign_all(&self, file: &TokenSetFile) -> TokenSetFile {
        let mut signed = file.clone();
        for t in &mut signed.tokens {
            t.signed = self.sign(&t.unsigned);
        }
        signed
    }
}

/// Registers `signer` as `login`'s quorum key (`user change-quorum token-sign register`).
fn register_quorum(cluster: &mut Cluster, login: &Login, signer: &Signer) {
    let file = cluster
        .generate_token(login, Service::Registration, None, &mut Entropy::new(None))
        .unwrap();
    let file: TokenSetFile = serde_json::from_value(file).unwrap();
    cluster
        .register_quorum_key(login, &signer.public_pem(), &signer.sign_all(&file))
        .unwrap();
}

#[test]
fn no_key_operation_without_a_login_of_this_cluster() {
    let mut f = Fixture::new();
    let mut cluster = f.open();
    let mut cu1 = f.cu1(&mut cluster);
    cluster
        .generate_keys(&mut cu1, &ec_pair("k1"), &f.entropy)
        .unwrap();
    sign(&mut cluster, &cu1, "k1").unwrap();

    // A login of another cluster, even of a user of the same name, is no login here.
    make_cluster(&f.home, "cluster-other", &mut f.entropy);
    let mut other = Cluster::open(&f.home, "cluster-other").unwrap();
    let admin = f.admin(&mut other);
    other
        .create_user(
            &admin,
            &username("cu1"),
            Role::CryptoUser,
            CU_PW,
            None,
            &mut f.entropy,
        )
        .unwrap();
    assert!(!other.admits(&cu1));
    assert!(matches!(
        other.list_keys(&cu1, &[]),
        Err(HsmError::LoginVoid)
    ));
    assert!(matches!(
        other.generate_keys(&mut cu1, &aes("x", true), &f.entropy),
        Err(HsmError::LoginVoid)
    ));
    assert!(matches!(other.logout(cu1), Err(HsmError::LoginVoid)));

    // A login made before the cluster was reset holds nothing on the reset cluster.
    let cu1 = f.cu1(&mut cluster);
    hsm::reset(&f.home, ID, &mut f.entropy).unwrap();
    let mut reset = f.open();
    assert!(matches!(
        sign(&mut reset, &cu1, "k1"),
        Err(HsmError::LoginVoid)
    ));
}

#[test]
fn each_role_runs_only_its_classes_of_operation() {
    let mut f = Fixture::new();
    let mut cluster = f.open();
    let mut cu1 = f.cu1(&mut cluster);
    cluster
        .generate_keys(&mut cu1, &ec_pair("k1"), &f.entropy)
        .unwrap();

    // The appliance user neither makes, lists nor uses keys.
    let mut app = f.login(&mut cluster, "app_user", Role::ApplianceUser, APP_PW);
    not_permitted(cluster.generate_keys(&mut app, &aes("a", true), &f.entropy));
    not_permitted(cluster.list_keys(&app, &[]));
    not_permitted(sign(&mut cluster, &app, "k1"));

    // An admin lists keys but neither makes nor uses them.
    let mut admin = f.admin(&mut cluster);
    assert_eq!(cluster.list_keys(&admin, &[]).unwrap().len(), 2);
    not_permitted(cluster.generate_keys(&mut admin, &aes("a", true), &f.entropy));
    not_permitted(sign(&mut cluster, &admin, "k1"));

    // A crypto user neither adds users nor sets quorum values.
    not_permitted(cluster.create_user(
        &cu1,
        &username("cu2"),
        Role::CryptoUser,
        CU_PW,
        None,
        &mut f.entropy,
    ));
    not_permitted(cluster.set_quorum_value(&cu1, Service::User, 1, None));

    // Own password versus another user's.
    cluster
        .create_user(
            &admin,
            &username("cu2"),
            Role::CryptoUser,
            CU_PW,
            None,
            &mut f.entropy,
        )
        .unwrap();
    let other = cluster.change_password(
        &cu1,
        &username("cu2"),
        Role::CryptoUser,
        "new-pw-123",
        false,
        None,
        &mut f.entropy,
    );
    let text = other.as_ref().map_err(ToString::to_string).unwrap_err();
    assert_eq!(
        text,
        "User cu1 with role crypto-user is not permitted to change another user's password"
    );
    cluster
        .change_password(
            &cu1,
            &username("CU1"),
            Role::CryptoUser,
            "new-pw-123",
            false,
            None,
            &mut f.entropy,
        )
        .unwrap();
    cluster
        .change_password(
            &admin,
            &username("cu2"),
            Role::CryptoUser,
            "new-pw-456",
            false,
            None,
            &mut f.entropy,
        )
        .unwrap();

    // At least one HSM up.
    for h in cluster.hsms().unwrap() {
        cluster.fail_hsm(&h.id).unwrap();
    }
    assert!(matches!(
        sign(&mut cluster, &cu1, "k1"),
        Err(HsmError::NoHsmAvailable { .. })
    ));
    assert!(matches!(
        cluster.list_keys(&cu1, &[]),
        Err(HsmError::NoHsmAvailable { .. })
    ));
}

#[test]
fn only_an_admin_sets_trusted_and_an_admin_sets_nothing_else() {
    let f = Fixture::new();
    let mut cluster = f.open();
    let mut cu1 = f.cu1(&mut cluster);
    cluster
        .generate_keys(&mut cu1, &aes("k1", true), &f.entropy)
        .unwrap();

    // The owner sets what the attribute rules allow, but not `trusted`.
    let refused = cluster.set_key_attribute(
        &mut cu1,
        &terms("k1"),
        &Assignment::Flag(Flag::Trusted, true),
        None,
    );
    assert_eq!(
        refused.unwrap_err().to_string(),
        "User cu1 with role crypto-user is not permitted to set the trusted attribute: only an \
         admin can set it"
    );
    cluster
        .set_key_attribute(
            &mut cu1,
            &terms("k1"),
            &Assignment::Flag(Flag::Decrypt, false),
            None,
        )
        .unwrap();

    // An admin sets `trusted` on a key it does not own, and nothing else.
    let mut admin = f.admin(&mut cluster);
    cluster
        .set_key_attribute(
            &mut admin,
            &terms("k1"),
            &Assignment::Flag(Flag::Trusted, true),
            None,
        )
        .unwrap();
    for assignment in [
        Assignment::Label("renamed".into()),
        Assignment::Flag(Flag::Decrypt, true),
    ] {
        let name = assignment.name();
        let refused = cluster.set_key_attribute(&mut admin, &terms("k1"), &assignment, None);
        assert_eq!(
            refused.unwrap_err().to_string(),
            format!(
                "User admin with role admin is not permitted to set the {name} attribute: an \
                 admin can only set trusted"
            )
        );
    }
    let key = cluster.select_key(&cu1, &terms("k1")).unwrap();
    assert!(key.attrs.flags.trusted);
    assert!(!key.attrs.flags.decrypt);
    assert_eq!(key.attrs.label, "k1");
}

#[test]
fn an_mfa_users_first_step_alone_uses_no_key() {
    let mut f = Fixture::new();
    let mut cluster = f.open();
    let mut cu1 = f.cu1(&mut cluster);
    cluster
        .generate_keys(&mut cu1, &ec_pair("k1"), &f.entropy)
        .unwrap();
    cluster.logout(cu1).unwrap();

    // An admin registers cu1's MFA key (`user change-mfa token-sign --token`).
    let admin = f.admin(&mut cluster);
    let mfa = Signer::new(11);
    let unsigned = cluster
        .issue_mfa_registration(&admin, &username("cu1"), Role::CryptoUser, &mut f.entropy)
        .unwrap();
    cluster
        .register_mfa_key(
            &admin,
            &username("cu1"),
            Role::CryptoUser,
            &mfa.public_pem(),
            &mfa.sign_all(&unsigned),
            CU_PW,
            None,
            &mut f.entropy,
        )
        .unwrap();

    // The password alone is no login.
    let session = SessionId::new();
    let refused = cluster.login(&username("cu1"), Role::CryptoUser, CU_PW, &session);
    assert!(matches!(
        refused,
        Err(HsmError::Quorum(QuorumError::MfaRequired { .. }))
    ));
    let logins = "SELECT count(*) FROM logins WHERE username = ?1";
    assert_eq!(f.count(logins, "cu1"), 0);

    // The first step issues the tokens and logs nobody in; a wrong second factor neither.
    let challenge = cluster
        .begin_mfa_login(
            &username("cu1"),
            Role::CryptoUser,
            CU_PW,
            &session,
            &mut f.entropy,
        )
        .unwrap();
    assert_eq!(challenge.tokens().tokens.len(), 2);
    assert_eq!(f.count(logins, "cu1"), 0);
    let forged = Signer::new(12).sign_all(challenge.tokens());
    let refused = cluster.complete_mfa_login(challenge, &forged);
    assert!(matches!(
        refused,
        Err(HsmError::Quorum(QuorumError::BadRegistrationSignature))
    ));
    assert_eq!(f.count(logins, "cu1"), 0);

    // Both steps: a login that uses the key.
    let challenge = cluster
        .begin_mfa_login(
            &username("cu1"),
            Role::CryptoUser,
            CU_PW,
            &session,
            &mut f.entropy,
        )
        .unwrap();
    let signed = mfa.sign_all(challenge.tokens());
    let cu1 = cluster.complete_mfa_login(challenge, &signed).unwrap();
    assert_eq!(f.count(logins, "cu1"), 1);
    sign(&mut cluster, &cu1, "k1").unwrap();

    // A user without MFA cannot take the MFA path.
    let refused = cluster.begin_mfa_login(
        &username("admin"),
        Role::Admin,
        ADMIN_PW,
        &session,
        &mut f.entropy,
    );
    assert!(matches!(
        refused,
        Err(HsmError::Quorum(QuorumError::MfaNotEnabled { .. }))
    ));
}

#[test]
fn logout_leaves_nothing_of_the_login() {
    let mut f = Fixture::new();
    let mut cluster = f.open();
    let mut cu1 = f.cu1(&mut cluster);
    cluster
        .generate_keys(&mut cu1, &aes("kept", true), &f.entropy)
        .unwrap();
    cluster
        .generate_keys(&mut cu1, &aes("session", false), &f.entropy)
        .unwrap();
    assert_eq!(cu1.session_key_count(), 1);
    let kept = cluster.select_key(&cu1, &terms("kept")).unwrap();
    for (service, key) in [
        (Service::Registration, None),
        (Service::KeyUsage, Some(kept.reference)),
    ] {
        cluster
            .generate_token(&cu1, service, key, &mut f.entropy)
            .unwrap();
    }
    let rows = "SELECT count(*) FROM logins WHERE username = ?1 AND session_keys = 1";
    assert_eq!(f.count(rows, "cu1"), 1);
    let live_tokens = "SELECT count(*) FROM tokens WHERE username = ?1 AND session != 'ended'";
    assert_eq!(f.count(live_tokens, "cu1"), 3);

    cluster.logout(cu1).unwrap();

    let logins = "SELECT count(*) FROM logins WHERE username = ?1";
    assert_eq!(f.count(logins, "cu1"), 0);
    assert_eq!(f.count(live_tokens, "cu1"), 0);
    // The approval token is kept, void, so that offering it can be told its session ended.
    let other = "SELECT count(*) FROM tokens WHERE username = ?1 AND kind != 'approval'";
    assert_eq!(f.count(other, "cu1"), 0);

    // The session key went with the login; the token key stays.
    let cu1 = f.cu1(&mut cluster);
    let labels: Vec<String> = cluster
        .list_keys(&cu1, &[])
        .unwrap()
        .into_iter()
        .map(|k| k.attrs.label)
        .collect();
    assert_eq!(labels, ["kept"]);
    assert!(cluster.list_tokens(&cu1).unwrap().is_empty());
}

/// Admins `admin` and `admin2` registered for quorum, the `user` service at 2, and an approval
/// of `admin`'s `login` signed by both.
fn user_service_approval(f: &mut Fixture, cluster: &mut Cluster, admin: &Login) -> ApprovalFile {
    let (one, two) = (Signer::new(21), Signer::new(22));
    let user_quorum = cluster
        .quorum_values()
        .unwrap()
        .into_iter()
        .find(|(service, _)| *service == Service::User)
        .map(|(_, value)| value);
    if user_quorum != Some(2) {
        cluster
            .create_user(
                admin,
                &username("admin2"),
                Role::Admin,
                ADMIN_PW,
                None,
                &mut f.entropy,
            )
            .unwrap();
        register_quorum(cluster, admin, &one);
        let admin2 = f.login(cluster, "admin2", Role::Admin, ADMIN_PW);
        register_quorum(cluster, &admin2, &two);
        cluster.logout(admin2).unwrap();
        cluster
            .set_quorum_value(admin, Service::User, 2, None)
            .unwrap();
    }
    let file = cluster
        .generate_token(admin, Service::User, None, &mut f.entropy)
        .unwrap();
    let mut file: ApprovalFile = serde_json::from_value(file).unwrap();
    for (name, signer) in [("admin", &one), ("admin2", &two)] {
        file.signatures.push(hsm::quorum::ApprovalSignature {
            username: name.into(),
            signature: signer.sign(&file.token),
        });
    }
    file
}

#[test]
fn an_approval_approves_one_change() {
    let mut f = Fixture::new();
    let mut cluster = f.open();
    let admin = f.admin(&mut cluster);
    let approval = user_service_approval(&mut f, &mut cluster, &admin);
    cluster
        .check_service_approval(&admin, hsm::Service::User, Some(&approval))
        .unwrap();
    let mut create = |name: &str| {
        cluster.create_user(
            &admin,
            &username(name),
            Role::CryptoUser,
            CU_PW,
            Some(&approval),
            &mut Entropy::new(None),
        )
    };
    create("first").unwrap();
    assert!(matches!(
        create("second"),
        Err(HsmError::Quorum(QuorumError::InvalidSignaturePair))
    ));
    // A refused change spends nothing: the approval stays for the next try.
    let approval = user_service_approval(&mut f, &mut cluster, &admin);
    let taken = cluster.create_user(
        &admin,
        &username("first"),
        Role::CryptoUser,
        CU_PW,
        Some(&approval),
        &mut f.entropy,
    );
    assert!(matches!(taken, Err(HsmError::UserExists)));
    cluster
        .create_user(
            &admin,
            &username("second"),
            Role::CryptoUser,
            CU_PW,
            Some(&approval),
            &mut f.entropy,
        )
        .unwrap();
}

#[test]
fn two_threads_racing_to_spend_one_approval_one_wins() {
    let mut f = Fixture::new();
    let mut cluster = f.open();
    let admin = f.admin(&mut cluster);
    for round in 0..4 {
        let approval = user_service_approval(&mut f, &mut cluster, &admin);
        let start = Barrier::new(2);
        let names = [format!("racer_{round}_a"), format!("racer_{round}_b")];
        let results: Vec<Result<_, HsmError>> = std::thread::scope(|s| {
            let threads: Vec<_> = names
                .iter()
                .map(|name| {
                    let (home, admin, approval, start) = (&f.home, &admin, &approval, &start);
                    s.spawn(move || {
                        // Each thread has its own handle on the cluster, as each thread of a
                        // PKCS#11 application may.
                        let mut cluster = Cluster::open(home, ID).unwrap();
                        start.wait();
                        cluster.create_user(
                            admin,
                            &username(name),
                            Role::CryptoUser,
                            CU_PW,
                            Some(approval),
                            &mut Entropy::new(None),
                        )
                    })
                })
                .collect();
            threads.into_iter().map(|t| t.join().unwrap()).collect()
        });
        let won = results.iter().filter(|r| r.is_ok()).count();
        assert_eq!(won, 1, "round {round}: {results:?}");
        for lost in results.iter().filter_map(|r| r.as_ref().err()) {
            assert!(
                matches!(lost, HsmError::Quorum(QuorumError::InvalidSignaturePair)),
                "round {round}: {lost:?}"
            );
        }
        let users: Vec<String> = cluster
            .users()
            .unwrap()
            .into_iter()
            .map(|u| u.username)
            .filter(|u| names.contains(u))
            .collect();
        assert_eq!(users.len(), 1, "round {round}: {users:?}");
    }
}

/// A key error reaches a front end typed, with the CLI's text: no key is `NotFound`, not a
/// count; two keys are a count; a refused generation is the crypto layer's own variant.
#[test]
fn a_refused_key_operation_keeps_its_cli_text() {
    let f = Fixture::new();
    let mut cluster = f.open();
    let mut cu1 = f.cu1(&mut cluster);
    let none = sign(&mut cluster, &cu1, "missing").unwrap_err();
    assert!(matches!(none, HsmError::Key(KeyError::NotFound)));
    assert_eq!(
        none.to_string(),
        "Key selection criteria matched 0 keys. Refine selection criteria to select a single key."
    );
    let never = cluster
        .select_key(&cu1, &[Term::Never(Attribute::KeyType)])
        .unwrap_err();
    assert!(matches!(never, HsmError::Key(KeyError::NotFound)));

    for _ in 0..2 {
        cluster
            .generate_keys(&mut cu1, &aes("twin", true), &f.entropy)
            .unwrap();
    }
    let two = cluster.select_key(&cu1, &terms("twin")).unwrap_err();
    assert!(matches!(
        two,
        HsmError::Key(KeyError::SelectionCount { count: 2 })
    ));
    assert_eq!(
        two.to_string(),
        "Key selection criteria matched 2 keys. Refine selection criteria to select a single key."
    );

    let mut odd = aes("odd", true);
    odd.kind = KeyKind::Aes { bytes: 20 };
    let refused = cluster
        .generate_keys(&mut cu1, &odd, &f.entropy)
        .unwrap_err();
    assert!(matches!(
        refused,
        HsmError::Key(KeyError::Crypto(crypto::CryptoError::AesKeyLength {
            len: 20
        }))
    ));
    assert_eq!(
        refused.to_string(),
        "Invalid AES key length 20: an AES key is 16, 24 or 32 bytes long."
    );
}

#[test]
fn a_username_is_parsed_once_into_the_form_the_hsm_stores() {
    // The only way to a `Username` normalises it (the type has no public constructor).
    assert_eq!(username("MixedCase_01").as_str(), "mixedcase_01");
    assert_eq!(username(&"A".repeat(31)).as_str(), "a".repeat(31));
    // A bad name keeps the CLI's texts: invalid where a user is named, and at login the
    // same refusal as a wrong password, so that a login never tells who exists.
    for bad in ["", "bad-name", "two words", "ünï", &"a".repeat(32)] {
        assert_eq!(
            Username::parse(bad).unwrap_err().to_string(),
            "Invalid username: a username is 1 to 31 characters long and may contain only \
             letters, digits and '_'"
        );
        assert_eq!(
            Username::parse_login(bad).unwrap_err().to_string(),
            HsmError::BadCredentials.to_string()
        );
    }
    assert_eq!(
        HsmError::BadCredentials.to_string(),
        "Incorrect credentials are passed for this operation: Incorrect authentication credentials."
    );

    // However it was typed, a name reaches the same user, and a login holds the stored form.
    let f = Fixture::new();
    let mut cluster = f.open();
    let cu1 = f.login(&mut cluster, "CU1", Role::CryptoUser, CU_PW);
    assert_eq!(cu1.username(), &username("cu1"));
    assert_eq!(cu1.username().to_string(), "cu1");
    let user = cluster
        .require_user(&username("Cu1"), Role::CryptoUser)
        .unwrap();
    assert_eq!(user.username, "cu1");
}

#[test]
fn quorum_services_are_typed_and_keep_the_cli_texts() {
    let f = Fixture::new();
    let mut cluster = f.open();
    let admin = f.admin(&mut cluster);
    // Only user, quorum and cluster have a settable quorum value.
    for service in [
        Service::Registration,
        Service::KeyUsage,
        Service::KeyManagement,
    ] {
        let refused = cluster.set_quorum_value(&admin, service, 1, None);
        assert_eq!(
            refused.map_err(|e| e.to_string()).unwrap_err(),
            "The set-quorum-value service must be user, quorum or cluster"
        );
    }
    // The cluster service has one on hsm2m.medium, the type of this cluster.
    cluster
        .set_quorum_value(&admin, Service::Cluster, 1, None)
        .unwrap();
    // An admin generates no token of a crypto user's service.
    let refused = cluster.generate_token(&admin, Service::KeyUsage, None, &mut Entropy::new(None));
    assert_eq!(
        refused.map_err(|e| e.to_string()).unwrap_err(),
        "The key-usage service token is for crypto users"
    );
    cluster
        .generate_token(&admin, Service::User, None, &mut Entropy::new(None))
        .unwrap();
    let listed = cluster.list_tokens(&admin).unwrap();
    assert_eq!(
        listed.iter().map(|t| t.service).collect::<Vec<_>>(),
        [Service::User]
    );
}
