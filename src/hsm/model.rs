//! HSM hardware types and what `cluster hsm-info` reports for each.

/// The HSM type of a cluster.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HsmType {
    Hsm1Medium,
    Hsm2mMedium,
}

/// Fixed description of an HSM model (all strings, as the real CLI prints them).
#[derive(Debug, Clone, Copy)]
pub struct ModelInfo {
    pub vendor: &'static str,
    pub model: &'static str,
    pub serial_prefix: &'static str,
    pub hardware_version_major: &'static str,
    pub hardware_version_minor: &'static str,
    pub firmware_version_major: &'static str,
    pub firmware_version_minor: &'static str,
    pub firmware_build_number: &'static str,
    pub firmware_id: &'static str,
}

impl HsmType {
    pub fn as_str(self) -> &'static str {
        match self {
            HsmType::Hsm1Medium => "hsm1.medium",
            HsmType::Hsm2mMedium => "hsm2m.medium",
        }
    }

    pub fn parse(s: &str) -> Option<HsmType> {
        match s {
            "hsm1.medium" => Some(HsmType::Hsm1Medium),
            "hsm2m.medium" => Some(HsmType::Hsm2mMedium),
            _ => None,
        }
    }

    /// Maximum users per cluster (AWS CloudHSM quotas).
    pub fn max_users(self) -> usize {
        match self {
            HsmType::Hsm1Medium => 250,
            HsmType::Hsm2mMedium => 1024,
        }
    }

    /// The model description. hsm1.medium is the guide's documented example; the guide
    /// documents no hsm2m.medium values, so those are chosen (docs/fidelity.md).
    pub fn model(self) -> ModelInfo {
        match self {
            HsmType::Hsm1Medium => ModelInfo {
                vendor: "Marvell Semiconductors, Inc.",
                model: "NITROX-III CNN35XX-NFBE",
                serial_prefix: "5.3G",
                hardware_version_major: "5",
                hardware_version_minor: "3",
                firmware_version_major: "2",
                firmware_version_minor: "6",
                firmware_build_number: "16",
                firmware_id: "CNN35XX-NFBE-FW-2.06-16",
            },
            HsmType::Hsm2mMedium => ModelInfo {
                vendor: "Marvell Semiconductors, Inc.",
                model: "LS2-NFBE",
                serial_prefix: "2.0G",
                hardware_version_major: "2",
                hardware_version_minor: "0",
                firmware_version_major: "3",
                firmware_version_minor: "1",
                firmware_build_number: "8",
                firmware_id: "LS2-NFBE-FW-3.01-8",
            },
        }
    }
}

/// The `fips-state` string of a cluster mode.
pub fn fips_state(fips: bool) -> &'static str {
    if fips {
        "2 [FIPS mode with single factor authentication]"
    } else {
        "0 [non-FIPS mode with single factor authentication]"
    }
}
