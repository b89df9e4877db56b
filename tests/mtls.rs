//! `cluster mtls` end to end: trust anchors made by the `openssl` command line, the
//! enforcement level, and its effect on a CLI with and without a matching client
//! certificate (`configure-cli --client-cert-hsm-tls-file/--client-key-hsm-tls-file`).

#![allow(clippy::unwrap_used, clippy::expect_used)] // test code: a panic is a failure report

mod common;

use std::path::Path;
use std::process::Command;

use common::{err_text, ok_data, Sim};

const ADMIN: &[(&str, &str)] = &[
    ("CLOUDHSM_ROLE", "admin"),
    ("CLOUDHSM_PIN", "admin:admin-pw1"),
];

fn openssl(dir: &Path, args: &[&str]) {
    let out = Command::new("openssl")
        .args(args)
        .current_dir(dir)
        .output()
        .unwrap();
    assert!(out.status.success(), "openssl {args:?}: {out:?}");
}

/// In `dir`: a CA (`ca.pem`), a client certificate signed by it (`client.pem`,
/// `client.key`), an unrelated certificate (`other.pem`, `other.key`), a second CA
/// (`ca2.pem`, RSA 3072), a third (`ca3.pem`) and a certificate with an RSA 1024 key.
fn pki(dir: &Path) {
    let ec = [
        "-newkey",
        "ec",
        "-pkeyopt",
        "ec_paramgen_curve:P-384",
        "-nodes",
    ];
    openssl(
        dir,
        &[
            &["req", "-x509"][..],
            &ec,
            &["-keyout", "ca.key", "-out", "ca.pem", "-subj", "/CN=ca"],
        ]
        .concat(),
    );
    openssl(
        dir,
        &[
            &["req"][..],
            &ec,
            &[
                "-keyout",
                "client.key",
                "-out",
                "client.csr",
                "-subj",
                "/CN=client",
            ],
        ]
        .concat(),
    );
    openssl(
        dir,
        &[
            "x509",
            "-req",
            "-in",
            "client.csr",
            "-CA",
            "ca.pem",
            "-CAkey",
            "ca.key",
            "-set_serial",
            "7",
            "-out",
            "client.pem",
        ],
    );
    openssl(
        dir,
        &[
            &["req", "-x509"][..],
            &ec,
            &[
                "-keyout",
                "other.key",
                "-out",
                "other.pem",
                "-subj",
                "/CN=ca",
            ],
        ]
        .concat(),
    );
    openssl(
        dir,
        &[
            "req", "-x509", "-newkey", "rsa:3072", "-nodes", "-keyout", "ca2.key", "-out",
            "ca2.pem", "-subj", "/CN=ca2",
        ],
    );
    openssl(
        dir,
        &[
            "req",
            "-x509",
            "-newkey",
            "ec",
            "-pkeyopt",
            "ec_paramgen_curve:P-521",
            "-nodes",
            "-keyout",
            "ca3.key",
            "-out",
            "ca3.pem",
            "-subj",
            "/CN=ca3",
        ],
    );
    openssl(
        dir,
        &[
            "req",
            "-x509",
            "-newkey",
            "rsa:1024",
            "-nodes",
            "-keyout",
            "small.key",
            "-out",
            "small.pem",
            "-subj",
            "/CN=small",
        ],
    );
}

fn path(dir: &Path, name: &str) -> String {
    dir.join(name).display().to_string()
}

/// Points the CLI configuration at the client certificate and key `name`.pem/`name`.key.
fn use_client(sim: &Sim, dir: &Path, name: &str) {
    let run = sim.configure(&[
        "--client-cert-hsm-tls-file",
        &path(dir, &format!("{name}.pem")),
        "--client-key-hsm-tls-file",
        &path(dir, &format!("{name}.key")),
    ]);
    assert_eq!(run.code, 0, "configure-cli: {}", run.stderr);
}

/// A PKI made by OpenSSL (see [`pki`]), its CA registered as the trust anchor, this CLI
/// configured with the client certificate the CA signed, and enforcement on. The directory
/// holds the certificates and must live as long as the test uses them.
fn enforced(sim: &Sim) -> tempfile::TempDir {
    let certs = tempfile::tempdir().unwrap();
    let d = certs.path();
    pki(d);
    let reg = sim.cli_env(
        &[
            "cluster",
            "mtls",
            "register-trust-anchor",
            "--path",
            &path(d, "ca.pem"),
        ],
        ADMIN,
    );
    assert_eq!(reg.code, 0, "{}", reg.stdout_text());
    use_client(sim, d, "client");
    let set = sim.cli_env(
        &["cluster", "mtls", "set-enforcement", "--level", "cluster"],
        ADMIN,
    );
    assert_eq!(set.code, 0, "{}", set.stdout_text());
    certs
}

#[test]
fn two_anchors_enforcement_and_the_connection_check() {
    let sim = Sim::activated("admin-pw1");
    let certs = tempfile::tempdir().unwrap();
    let d = certs.path();
    pki(d);
    let register = |name: &str| {
        sim.cli_env(
            &[
                "cluster",
                "mtls",
                "register-trust-anchor",
                "--path",
                &path(d, name),
            ],
            ADMIN,
        )
        .one()
    };

    // Wrong key sizes and types are refused; two anchors are registered; a third is refused.
    let small = register("small.pem");
    assert_eq!(
        err_text(&small),
        "Unsupported trust anchor key RSA 1024: the key of a trust anchor is EC (P-256, P-384, P-521) or RSA (2048, 3072, 4096 bits)"
    );
    let first = register("ca.pem");
    let anchor = &ok_data(&first)["trust_anchor"];
    assert_eq!(anchor["certificate-reference"], "0x01");
    assert_eq!(anchor["cluster-coverage"], "full");
    assert_eq!(
        anchor["certificate"].as_str().unwrap(),
        std::fs::read_to_string(d.join("ca.pem")).unwrap()
    );
    let second = register("ca2.pem");
    assert_eq!(
        ok_data(&second)["trust_anchor"]["certificate-reference"],
        "0x02"
    );
    assert_eq!(
        err_text(&register("ca3.pem")),
        "The maximum number of trust anchors (2) is already registered"
    );
    let list = sim.cli(&["cluster", "mtls", "list-trust-anchors"]).one();
    let refs: Vec<_> = ok_data(&list)["trust_anchors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["certificate-reference"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(refs, ["0x01", "0x02"]);

    // Without an mTLS connection the level cannot be set; with the client certificate of
    // the first CA it can.
    let set = |level: &str| {
        sim.cli_env(
            &["cluster", "mtls", "set-enforcement", "--level", level],
            ADMIN,
        )
        .one()
    };
    assert!(err_text(&set("cluster"))
        .starts_with("The mtls enforcement level can only be set over an mTLS connection"));
    use_client(&sim, d, "client");
    let done = set("cluster");
    assert_eq!(
        ok_data(&done)["message"],
        "Mtls enforcement level set to Cluster successfully"
    );
    let get = sim
        .cli_env(&["cluster", "mtls", "get-enforcement"], ADMIN)
        .one();
    assert_eq!(ok_data(&get)["mtls-enforcement-level"], "cluster");

    // A CLI whose certificate does not chain to an anchor cannot connect: every command fails.
    use_client(&sim, d, "other");
    for args in [
        &["user", "list"][..],
        &["cluster", "mtls", "list-trust-anchors"],
        &["cluster", "hsm-info"],
    ] {
        let run = sim.cli(args);
        assert_eq!(run.code, 1, "{args:?}");
        assert!(
            err_text(&run.one()).starts_with("Cannot connect to cluster cluster-abc: it enforces mTLS and the client certificate"),
            "{args:?}: {}",
            run.stdout_text()
        );
    }
    // With the matching certificate again, it connects.
    use_client(&sim, d, "client");
    assert_eq!(sim.cli(&["user", "list"]).code, 0);

    // Deregistering: the first anchor is the one the client chains to; with the second
    // still registered it may go, and the client is then refused (its connection dropped).
    let dereg = |reference: &str| {
        sim.cli_env(
            &[
                "cluster",
                "mtls",
                "deregister-trust-anchor",
                "--certificate-reference",
                reference,
            ],
            ADMIN,
        )
        .one()
    };
    // The last anchor of an enforcing cluster is kept: first make the RSA CA's the only one
    // that could go, then try to remove the last.
    let gone = dereg("0x02");
    assert_eq!(
        ok_data(&gone)["message"],
        "Trust anchor with reference 0x02 deregistered successfully"
    );
    assert_eq!(
        err_text(&dereg("0x01")),
        "Cannot deregister trust anchor 0x01: it is the last trust anchor and the mtls enforcement level is cluster; set the enforcement level to none first"
    );
    // Register ca2 again and drop the client's anchor: the client can no longer connect.
    assert_eq!(
        ok_data(&register("ca2.pem"))["trust_anchor"]["certificate-reference"],
        "0x02"
    );
    assert_eq!(
        ok_data(&dereg("0x01"))["message"],
        "Trust anchor with reference 0x01 deregistered successfully"
    );
    let run = sim.cli(&["user", "list"]);
    assert_eq!(run.code, 1);
    assert!(err_text(&run.one()).contains("does not chain to a registered trust anchor"));
}

#[test]
fn a_cli_without_a_client_certificate_is_refused_when_enforced() {
    let sim = Sim::activated("admin-pw1");
    // A second state directory's configuration has no client certificate: simulate that by
    // enforcing with one and then removing it from the configuration.
    let certs = enforced(&sim);
    let d = certs.path();
    let config = sim.home.join("cloudhsm-cli.cfg");
    let mut value: serde_json::Value =
        serde_json::from_slice(&std::fs::read(&config).unwrap()).unwrap();
    value["recorded"]
        .as_object_mut()
        .unwrap()
        .retain(|k, _| !k.starts_with("--client-"));
    std::fs::write(&config, serde_json::to_vec(&value).unwrap()).unwrap();
    let run = sim.cli(&["user", "list"]);
    assert_eq!(run.code, 1);
    assert_eq!(
        err_text(&run.one()),
        "Cannot connect to cluster cluster-abc: it enforces mTLS and the CLI configuration has no client certificate and key; configure one with configure-cli --client-cert-hsm-tls-file and --client-key-hsm-tls-file"
    );
    // Back to the matching certificate: the level can be set to none, after which any CLI
    // connects.
    use_client(&sim, d, "client");
    let none = sim.cli_env(
        &["cluster", "mtls", "set-enforcement", "--level", "none"],
        ADMIN,
    );
    assert_eq!(
        ok_data(&none.one())["message"],
        "Mtls enforcement level set to None successfully"
    );
    use_client(&sim, d, "other");
    assert_eq!(sim.cli(&["user", "list"]).code, 0);
}

/// A client certificate path that names an endless file is read only so far, and refused.
#[test]
fn an_endless_client_certificate_file_is_refused_not_read_whole() {
    let sim = Sim::activated("admin-pw1");
    let _certs = enforced(&sim);
    let run = sim.configure(&["--client-cert-hsm-tls-file", "/dev/zero"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    let run = sim.cli(&["user", "list"]);
    assert_eq!(run.code, 1);
    assert!(err_text(&run.one()).contains("/dev/zero does not chain to a registered trust anchor"));
}
