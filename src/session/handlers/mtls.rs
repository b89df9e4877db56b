//! `cluster mtls …`: trust anchors and the mTLS enforcement level. The rules (limits, key
//! types, who may set the level, the connection check) are the cluster's (`hsm::mtls`).

use crate::grammar::{MtlsCommand, MtlsLevel};
use crate::hsm::mtls::{parse_certificate_reference, Enforcement, TrustAnchor};
use crate::hsm::Service;
use crate::output::{
    MessageView, MtlsEnforcementView, OneTrustAnchorView, Response, TrustAnchorView,
    TrustAnchorsView,
};

use super::{approval_file, logged_in, read_path, Context, Result};

pub(super) fn run(ctx: &mut Context<'_>, command: &MtlsCommand) -> Result<Response> {
    match command {
        MtlsCommand::RegisterTrustAnchor(c) => {
            let file = cluster_service_approval(ctx, c.approval.as_deref())?;
            let pem = read_path(&c.path)?;
            let anchor =
                ctx.cluster
                    .register_trust_anchor(logged_in(&ctx.login)?, &pem, file.as_ref())?;
            Ok(Response::ok(OneTrustAnchorView {
                trust_anchor: view(anchor),
            }))
        }
        MtlsCommand::DeregisterTrustAnchor(c) => {
            let file = cluster_service_approval(ctx, c.approval.as_deref())?;
            let reference = parse_certificate_reference(&c.certificate_reference)
                .map_err(crate::hsm::HsmError::from)?;
            let anchor = ctx.cluster.deregister_trust_anchor(
                logged_in(&ctx.login)?,
                reference,
                file.as_ref(),
            )?;
            Ok(Response::ok(MessageView {
                message: format!(
                    "Trust anchor with reference {} deregistered successfully",
                    anchor.reference_hex()
                ),
            }))
        }
        MtlsCommand::ListTrustAnchors(_) => Ok(Response::ok(TrustAnchorsView {
            trust_anchors: ctx.cluster.trust_anchors()?.into_iter().map(view).collect(),
        })),
        MtlsCommand::GetEnforcement(_) => {
            let level = ctx.cluster.mtls_enforcement(logged_in(&ctx.login)?)?;
            Ok(Response::ok(MtlsEnforcementView {
                level: level.as_str().into(),
            }))
        }
        MtlsCommand::SetEnforcement(c) => {
            let level = match c.level {
                MtlsLevel::None => Enforcement::None,
                MtlsLevel::Cluster => Enforcement::Cluster,
            };
            let file = approval_file(c.approval.as_deref())?;
            ctx.cluster
                .set_mtls_enforcement(logged_in(&ctx.login)?, level, file.as_ref())?;
            Ok(Response::ok(MessageView {
                message: format!(
                    "Mtls enforcement level set to {} successfully",
                    level.title()
                ),
            }))
        }
    }
}

/// Checks the `cluster` service approval before the anchor file is read (the operation
/// checks it again and spends it); returns the parsed file.
fn cluster_service_approval(
    ctx: &mut Context<'_>,
    path: Option<&str>,
) -> Result<Option<crate::hsm::ApprovalFile>> {
    let login = logged_in(&ctx.login)?;
    let file = approval_file(path)?;
    ctx.cluster
        .check_service_approval(login, Service::Cluster, file.as_ref())?;
    Ok(file)
}

fn view(anchor: TrustAnchor) -> TrustAnchorView {
    TrustAnchorView {
        certificate_reference: anchor.reference_hex(),
        certificate: anchor.certificate,
        // Every HSM of a simulated cluster holds the cluster's anchors.
        cluster_coverage: "full".into(),
    }
}
