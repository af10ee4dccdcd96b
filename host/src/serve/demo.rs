//! `clinval serve --demo`: two trials from the seed data in an empty data
//! dir, and a token to try the API with.

use anyhow::{Context, Result};

use crate::store::{NewProject, Scope};

use super::app::App;

/// The demo trials: `(id, name, status, start date)`.
const TRIALS: [(&str, &str, &str, &str); 2] = [
    (
        "CT001",
        "A Phase III Study of Drug-X",
        "Recruiting",
        "2025-01-15",
    ),
    (
        "CT002",
        "Early Detection of Disease-Y",
        "Completed",
        "2023-03-01",
    ),
];

/// Seeds an empty store and prints a new demo token on stdout.
pub async fn seed(app: &App) -> Result<()> {
    if app.store.is_empty().await? {
        for (id, name, status, start) in TRIALS {
            app.store
                .create_project(NewProject {
                    id: id.into(),
                    name: name.into(),
                    status: status.into(),
                    start_date: Some(start.into()),
                    protocol: "epro-daily".into(),
                    target_enrollment: Some(300),
                })
                .await
                .with_context(|| format!("seeding {id}"))?;
        }
        tracing::info!(projects = TRIALS.len(), "demo data seeded");
    }
    let token =
        crate::auth::create(app.store.as_ref(), vec![Scope::Submit, Scope::Read], "demo").await?;
    println!("demo token (submit, read): {token}");
    let _ = app.demo_token.set(token);
    Ok(())
}
