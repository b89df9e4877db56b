//! Arguments shared by many commands.

use clap::{Args, ValueEnum};

/// `--cluster-id`, on every command.
#[derive(Debug, Clone, Default, Args)]
pub struct ClusterIdArg {
    /// Unique Id to choose which of the clusters in the config file to run the operation against. If not provided, will fall back to the value provided when interactive mode was started, or error
    #[arg(long = "cluster-id", value_name = "CLUSTER_ID")]
    pub cluster_id: Option<String>,
}

/// `--role` of `user create` and `user delete`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum UserRole {
    /// A CryptoUser has the ability to manage and use keys
    CryptoUser,
    /// An Admin has the ability to manage user accounts
    Admin,
}

/// `--role` of `login`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum LoginRole {
    /// A CryptoUser has the ability to manage and use keys
    CryptoUser,
    /// An Admin has the ability to manage user accounts
    Admin,
    /// [emulator extension] The appliance user app_user, whose password `cloudhsm-sim init --appliance-password` sets
    ApplianceUser,
}

/// `--role` of `user change-password`: the documented roles, and the appliance user (hidden),
/// who may change its own password.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum TargetRole {
    /// A CryptoUser has the ability to manage and use keys
    CryptoUser,
    /// An Admin has the ability to manage user accounts
    Admin,
    /// [emulator extension] The appliance user app_user
    #[value(hide = true)]
    ApplianceUser,
}

/// The value parser of every `--role`: the enum's values, and a hint when the value is a
/// role name of the older CloudHSM tools (`co`, `cu`, ...), which `cloudhsm-cli` does not know.
#[derive(Debug, Clone, Copy)]
pub struct RoleParser<E>(std::marker::PhantomData<E>);

impl<E> RoleParser<E> {
    pub fn new() -> RoleParser<E> {
        RoleParser(std::marker::PhantomData)
    }
}

impl<E> Default for RoleParser<E> {
    fn default() -> RoleParser<E> {
        RoleParser::new()
    }
}

/// The `cloudhsm-cli` role for a role name of the older tools (cloudhsm_mgmt_util, key_mgmt_util).
fn role_of_older_tools(value: &str) -> Option<(&'static str, &'static str)> {
    match value.to_ascii_lowercase().as_str() {
        "co" | "pco" | "preco" | "crypto-officer" | "crypto_officer" | "cryptoofficer" => {
            Some(("crypto officer", "admin"))
        }
        "cu" | "crypto_user" | "cryptouser" => Some(("crypto user", "crypto-user")),
        "au" | "appliance_user" => Some(("appliance user", "appliance-user")),
        _ => None,
    }
}

impl<E: ValueEnum + Clone + Send + Sync + 'static> clap::builder::TypedValueParser
    for RoleParser<E>
{
    type Value = E;

    fn parse_ref(
        &self,
        cmd: &clap::Command,
        arg: Option<&clap::Arg>,
        value: &std::ffi::OsStr,
    ) -> Result<E, clap::Error> {
        use clap::error::{ContextKind, ContextValue};
        let inner = clap::builder::EnumValueParser::<E>::new();
        inner.parse_ref(cmd, arg, value).map_err(|e| {
            let Some((old, new)) = value.to_str().and_then(role_of_older_tools) else {
                return e;
            };
            // clap's error again, with this tip instead of its "similar value" guess.
            let mut hinted = clap::Error::new(e.kind()).with_cmd(cmd);
            for kind in [
                ContextKind::InvalidArg,
                ContextKind::InvalidValue,
                ContextKind::ValidValue,
            ] {
                if let Some(v) = e.get(kind) {
                    hinted.insert(kind, v.clone());
                }
            }
            hinted.insert(
                ContextKind::Suggested,
                ContextValue::StyledStrs(vec![format!(
                    "the {old} role of the older CloudHSM tools is '{new}' in cloudhsm-cli"
                )
                .into()]),
            );
            hinted
        })
    }

    fn possible_values(
        &self,
    ) -> Option<Box<dyn Iterator<Item = clap::builder::PossibleValue> + '_>> {
        Some(Box::new(
            E::value_variants()
                .iter()
                .filter_map(|v| v.to_possible_value()),
        ))
    }
}

/// `--password` of every command that takes one: the zeroizing secret type both front ends
/// share.
pub use crate::secret::Password;
