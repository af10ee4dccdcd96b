//! `clinval serve --demo`: two trials from the seed data in an empty data
//! dir, a token to try the API with, and a demo patient's access link.

use anyhow::{Context, Result};

use crate::ids::{PatientId, TrialId};
use crate::store::{NewProject, PatientScope, Scope, TrialStatus};

use super::app::App;

/// The demo trials: `(id, name, status, start date)`.
const TRIALS: [(&str, &str, TrialStatus, &str); 2] = [
    (
        "CT001",
        "A Phase III Study of Drug-X",
        TrialStatus::Recruiting,
        "2025-01-15",
    ),
    (
        "CT002",
        "Early Detection of Disease-Y",
        TrialStatus::Completed,
        "2023-03-01",
    ),
];

/// The label of the demo's token.
const DEMO_LABEL: &str = "demo";

/// The demo patient a link is printed for, in the first trial.
pub const PATIENT: &str = "P-DEMO-1";

/// Seeds an empty store and prints a new demo token on stdout, revoking
/// the one an earlier `--demo` start made (so demo tokens do not pile up
/// in a data dir, each one still valid).
pub async fn seed(app: &App) -> Result<()> {
    if app.services.store.is_empty().await? {
        for (id, name, status, start) in TRIALS {
            app.services
                .store
                .create_project(NewProject {
                    id: id.into(),
                    name: name.into(),
                    status,
                    start_date: Some(start.into()),
                    protocol: "epro-daily".into(),
                    target_enrollment: Some(300),
                })
                .await
                .with_context(|| format!("seeding {id}"))?;
        }
        tracing::info!(projects = TRIALS.len(), "demo data seeded");
    }
    let earlier: Vec<i64> = app
        .services
        .store
        .tokens()
        .await?
        .into_iter()
        .filter(|t| t.label == DEMO_LABEL && t.revoked_at.is_none())
        .map(|t| t.id)
        .collect();
    for id in &earlier {
        app.services.store.revoke_token(*id).await?;
    }
    if !earlier.is_empty() {
        tracing::info!(revoked = earlier.len(), "the earlier demo token revoked");
    }
    let token = crate::auth::create(
        app.services.store.as_ref(),
        vec![Scope::Submit, Scope::Read],
        DEMO_LABEL,
    )
    .await?;
    println!("demo token (submit, read): {token}");
    let _ = app.demo_token.set(token);
    Ok(())
}

/// A new access link for the demo patient on the server at `base`.
pub async fn patient_link(app: &App, base: &str) -> Result<String> {
    let patient = PatientScope {
        trial: TrialId::parse(TRIALS[0].0)?,
        patient: PatientId::parse(PATIENT)?,
    };
    let invitation = crate::access::invite(
        app.services.store.as_ref(),
        patient,
        crate::access::DEFAULT_VALID_FOR,
    )
    .await?
    .context("the demo trial is missing")?;
    Ok(crate::access::link(base, &invitation.code))
}
