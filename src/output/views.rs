//! Response payloads, with fields in the order the AWS guide prints them.

use serde::Serialize;

/// `{"username", "role"}`: login, user create, user delete, user change-password.
#[derive(Debug, Clone, Serialize)]
pub struct LoginView {
    pub username: String,
    pub role: String,
}

/// One registered MFA or quorum strategy (`{"strategy": "token-sign", "status": "enabled"}`).
#[derive(Debug, Clone, Serialize)]
pub struct StrategyView {
    pub strategy: String,
    pub status: String,
}

/// One record of `user list`.
#[derive(Debug, Clone, Serialize)]
pub struct UserView {
    pub username: String,
    pub role: String,
    /// `"true"` or `"false"`: a string, as the real CLI prints it.
    pub locked: String,
    pub mfa: Vec<StrategyView>,
    pub quorum: Vec<StrategyView>,
    #[serde(rename = "cluster-coverage")]
    pub cluster_coverage: String,
}

/// `user list`.
#[derive(Debug, Clone, Serialize)]
pub struct UsersView {
    pub users: Vec<UserView>,
}

/// One HSM of `cluster hsm-info`; every value is a string.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "kebab-case")]
pub struct HsmView {
    pub vendor: String,
    pub model: String,
    pub serial_number: String,
    pub hardware_version_major: String,
    pub hardware_version_minor: String,
    pub firmware_version_major: String,
    pub firmware_version_minor: String,
    pub firmware_build_number: String,
    pub firmware_id: String,
    pub fips_state: String,
}

/// `cluster hsm-info`.
#[derive(Debug, Clone, Serialize)]
pub struct HsmInfoView {
    pub hsms: Vec<HsmView>,
}
