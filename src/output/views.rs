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

/// `{"user": {...}, "message": ...}` of `user replicate`.
#[derive(Debug, Clone, Serialize)]
pub struct OneUserView {
    pub user: UserView,
    pub message: String,
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

/// `{"username", "key-coverage"}` in `key-owners` and `shared-users`.
#[derive(Debug, Clone, Serialize)]
pub struct KeyUserView {
    pub username: String,
    #[serde(rename = "key-coverage")]
    pub key_coverage: String,
}

/// `key-quorum-values`.
#[derive(Debug, Clone, Serialize)]
pub struct KeyQuorumView {
    #[serde(rename = "manage-key-quorum-value")]
    pub manage: u8,
    #[serde(rename = "use-key-quorum-value")]
    pub usage: u8,
}

/// `key-info`.
#[derive(Debug, Clone, Serialize)]
pub struct KeyInfoView {
    #[serde(rename = "key-owners")]
    pub key_owners: Vec<KeyUserView>,
    #[serde(rename = "shared-users")]
    pub shared_users: Vec<KeyUserView>,
    #[serde(rename = "key-quorum-values")]
    pub key_quorum_values: KeyQuorumView,
    #[serde(rename = "cluster-coverage")]
    pub cluster_coverage: String,
}

/// A full key object (generate, import, `key list --verbose`).
#[derive(Debug, Clone, Serialize)]
pub struct KeyView {
    #[serde(rename = "key-reference")]
    pub key_reference: String,
    #[serde(rename = "key-info")]
    pub key_info: KeyInfoView,
    /// In the documented attribute order.
    pub attributes: serde_json::Map<String, serde_json::Value>,
}

/// A key of a non-verbose `key list`: reference and label only.
#[derive(Debug, Clone, Serialize)]
pub struct KeyBriefView {
    #[serde(rename = "key-reference")]
    pub key_reference: String,
    pub attributes: LabelView,
}

/// `{"label": ...}`.
#[derive(Debug, Clone, Serialize)]
pub struct LabelView {
    pub label: String,
}

/// `key list`.
#[derive(Debug, Clone, Serialize)]
pub struct KeyListView {
    pub matched_keys: Vec<serde_json::Value>,
    pub total_key_count: usize,
    pub returned_key_count: usize,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub next_token: Option<String>,
}

/// `{"key": {...}}` of symmetric generation, and `{"key", "message"}` of import.
#[derive(Debug, Clone, Serialize)]
pub struct OneKeyView {
    pub key: KeyView,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub message: Option<String>,
}

/// `{"public_key", "private_key"}` of key-pair generation.
#[derive(Debug, Clone, Serialize)]
pub struct KeyPairView {
    pub public_key: KeyView,
    pub private_key: KeyView,
}

/// `{"message": ...}` of simple key actions.
#[derive(Debug, Clone, Serialize)]
pub struct MessageView {
    pub message: String,
}

/// One trust anchor of `cluster mtls register-trust-anchor` and `list-trust-anchors`.
#[derive(Debug, Clone, Serialize)]
pub struct TrustAnchorView {
    #[serde(rename = "certificate-reference")]
    pub certificate_reference: String,
    pub certificate: String,
    #[serde(rename = "cluster-coverage")]
    pub cluster_coverage: String,
}

/// `{"trust_anchor": {...}}` of `cluster mtls register-trust-anchor`.
#[derive(Debug, Clone, Serialize)]
pub struct OneTrustAnchorView {
    pub trust_anchor: TrustAnchorView,
}

/// `{"trust_anchors": [...]}` of `cluster mtls list-trust-anchors`.
#[derive(Debug, Clone, Serialize)]
pub struct TrustAnchorsView {
    pub trust_anchors: Vec<TrustAnchorView>,
}

/// `{"mtls-enforcement-level": ...}` of `cluster mtls get-enforcement`.
#[derive(Debug, Clone, Serialize)]
pub struct MtlsEnforcementView {
    #[serde(rename = "mtls-enforcement-level")]
    pub level: String,
}
