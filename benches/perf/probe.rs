//! In-process throughput probes of section 1: `crypto::sign` and `Cluster::sign_data`.

use std::path::Path;
use std::time::Duration;

use cloudhsm_sim::hsm::crypto::{self, DataType, HashFunction, Mechanism};
use cloudhsm_sim::hsm::key::{Attribute, Term, Value};
use cloudhsm_sim::hsm::{Cluster, Entropy, Login, Role, SessionId, Username};
use cloudhsm_sim::store::Home;

use crate::stats::{median, throughput};
use crate::{Res, CLUSTER, CU_PW};

pub(crate) fn sign_mech(m: &str) -> Mechanism {
    match m {
        "rsa" => Mechanism::RsaPkcs {
            hash: HashFunction::Sha256,
            data_type: DataType::Raw,
        },
        "ec" => Mechanism::Ecdsa {
            hash: HashFunction::Sha256,
            data_type: DataType::Raw,
        },
        _ => Mechanism::Ed25519,
    }
}

/// The message every in-process signature signs.
pub(crate) const DATA: [u8; 32] = [7; 32];

/// One in-process throughput measurement, sampled once per round (after that round's
/// `openssl speed`), so that both sides see the same machine load.
pub(crate) struct Probe<'a> {
    run: Box<dyn FnMut() -> Res<()> + 'a>,
    /// Units per operation: bytes for MB/s figures, 1 for ops/s.
    units: f64,
    samples: Vec<f64>,
    error: Option<String>,
}

impl<'a> Probe<'a> {
    pub(crate) fn new(units: f64, run: impl FnMut() -> Res<()> + 'a) -> Probe<'a> {
        Probe {
            run: Box::new(run),
            units,
            samples: Vec::new(),
            error: None,
        }
    }

    pub(crate) fn failed(error: String) -> Probe<'a> {
        let mut p = Probe::new(1.0, || Err("not set up".to_string()));
        p.error = Some(error);
        p
    }

    pub(crate) fn sample(&mut self, budget: Duration) {
        if self.error.is_some() {
            return;
        }
        let run = &mut self.run;
        match throughput(1, budget, run) {
            Ok(rate) => self.samples.push(rate * self.units),
            Err(e) => self.error = Some(e),
        }
    }

    /// The median over the rounds.
    pub(crate) fn result(&self) -> Res<f64> {
        match (&self.error, self.samples.is_empty()) {
            (Some(e), _) => Err(e.clone()),
            (None, true) => Err("no sample".into()),
            (None, false) => Ok(median(&self.samples)),
        }
    }
}

/// `crypto::sign` with `key` under mechanism `m` (`rsa`, `ec`, `ed`).
pub(crate) fn sign_probe<'a>(key: &'a crypto::PrivateKey, m: &str) -> Probe<'a> {
    let mech = sign_mech(m);
    let mut entropy = Entropy::new(None);
    Probe::new(1.0, move || {
        crypto::sign(key, &mech, &DATA, &mut entropy)
            .map(|_| ())
            .map_err(|e| e.to_string())
    })
}

/// The main cluster, opened and logged in to as `cu1`, as a session of the CLI holds it.
pub(crate) fn logged_in_cluster(home: &Home) -> Res<(Cluster, Login)> {
    let mut cluster = Cluster::open(home, CLUSTER).map_err(|e| e.to_string())?;
    let cu1 = Username::parse("cu1").map_err(|e| e.to_string())?;
    let login = cluster
        .login(&cu1, Role::CryptoUser, CU_PW, &SessionId::new())
        .map_err(|e| e.to_string())?;
    Ok((cluster, login))
}

/// `Cluster::sign_data`, as the `crypto sign` handler calls it, with the private key
/// labelled `<name>-priv` of the main cluster.
pub(crate) fn cluster_probe(home: &Path, name: &str, m: &str) -> Probe<'static> {
    let setup = (|| -> Res<_> {
        let h = Home::open(home.to_path_buf()).map_err(|e| e.to_string())?;
        let (cluster, login) = logged_in_cluster(&h)?;
        let terms = vec![Term::Is(
            Attribute::Label,
            Value::Text(format!("{name}-priv")),
        )];
        Ok((cluster, login, terms))
    })();
    let (mut cluster, login, terms) = match setup {
        Ok(x) => x,
        Err(e) => return Probe::failed(e),
    };
    let entropy = Entropy::new(None);
    let mech = sign_mech(m);
    Probe::new(1.0, move || {
        // No approval file: the benchmark's keys have no use-key quorum.
        cluster
            .sign_data(&login, &terms, &mech, &DATA, &entropy, None)
            .map(|_| ())
            .map_err(|e| e.to_string())
    })
}
