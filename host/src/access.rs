//! Patients' access codes: a coordinator makes one for one patient of one
//! trial (`clinval patient invite`, or the admin API) and hands the
//! patient a link with it; the patient's phone exchanges it, once, for a
//! credential — a token bound to that patient, with the submit and read
//! scopes — that it keeps. The credential submits and reads that
//! patient's diaries of that trial and nothing else, so the form asks no
//! Patient ID and no patient can send as another. Codes, like tokens, are
//! 256 random bits shown once and stored as their SHA-256; the link
//! carries the code in its fragment (`/#access=…`), which browsers never
//! send to a server, so it is in no access log. Revoking a patient's
//! access (`clinval patient revoke`) ends their credentials and unused
//! codes at once (a running server within `token_cache_ttl`).

use std::process::ExitCode;
use std::time::Duration;

use anyhow::{Context, Result, bail};
use chrono::{DateTime, Utc};

use crate::auth::StoreArgs;
use crate::ids::{PatientId, TrialId};
use crate::store::{InviteRefusal, NewInvite, PatientScope, Revoked, Store};

/// Every access code starts so.
pub const PREFIX: &str = "clva_";

/// How long a code works by default.
pub const DEFAULT_VALID_FOR: Duration = Duration::from_secs(14 * 24 * 3600);

/// A new access code, shown once.
#[derive(Debug, Clone)]
pub struct Invitation {
    /// The code.
    pub code: String,
    /// When it stops working.
    pub expires_at: DateTime<Utc>,
}

/// Makes an access code for `patient`, working for `valid_for`; the
/// trial must exist.
pub async fn invite(
    store: &dyn Store,
    patient: PatientScope,
    valid_for: Duration,
) -> Result<Option<Invitation>> {
    if store.trial(patient.trial.to_string()).await?.is_none() {
        return Ok(None);
    }
    let (code, code_hash) = crate::auth::new_secret(PREFIX)?;
    let expires_at =
        Utc::now() + chrono::TimeDelta::from_std(valid_for).context("the validity is too long")?;
    store
        .create_invite(NewInvite {
            code_hash,
            patient,
            expires_at_ms: expires_at.timestamp_millis(),
        })
        .await?;
    Ok(Some(Invitation { code, expires_at }))
}

/// A patient's credential, made from an access code.
#[derive(Debug, Clone)]
pub struct Credential {
    /// The token (shown once, to the device).
    pub token: String,
    /// Whose diaries it acts for.
    pub patient: PatientScope,
}

/// Exchanges `code` for a credential, or says why not.
pub async fn redeem(store: &dyn Store, code: &str) -> Result<Result<Credential, InviteRefusal>> {
    let (token, token_hash) = crate::auth::new_token()?;
    let redeemed = store
        .redeem_invite(crate::auth::hash(code), token_hash)
        .await?;
    Ok(redeemed.map(|patient| Credential { token, patient }))
}

/// The page's address for `code`: `base` (the server's public address)
/// with the code in the fragment.
pub fn link(base: &str, code: &str) -> String {
    format!("{}/#access={code}", base.trim_end_matches('/'))
}

/// Which patient, on the command line.
#[derive(Debug, Clone, clap::Args)]
pub struct PatientArgs {
    /// The trial (project id).
    #[arg(long, value_name = "ID")]
    trial: TrialId,

    /// The patient's id in the trial.
    #[arg(long, value_name = "ID")]
    patient: PatientId,

    #[command(flatten)]
    store: StoreArgs,
}

impl PatientArgs {
    fn scope(&self) -> PatientScope {
        PatientScope {
            trial: self.trial.clone(),
            patient: self.patient.clone(),
        }
    }
}

/// Arguments of `clinval patient invite`.
#[derive(Debug, clap::Args)]
pub struct InviteArgs {
    #[command(flatten)]
    patient: PatientArgs,

    /// How long the code works before it is used: `14d`, `12h`, `30m`.
    #[arg(long, default_value = "14d", value_parser = humantime::parse_duration)]
    valid_for: Duration,

    /// The server's address as patients reach it, for the link.
    #[arg(
        long,
        env = "CLINVAL_PUBLIC_URL",
        default_value = "http://127.0.0.1:8080",
        value_name = "URL"
    )]
    base_url: String,
}

/// `clinval patient invite`: prints the patient's link (with a new code) once.
pub fn run_invite(args: InviteArgs) -> ExitCode {
    let scope = args.patient.scope();
    let (trial, patient) = (scope.trial.clone(), scope.patient.clone());
    args.patient.store.run(
        async |store| match invite(store, scope, args.valid_for).await? {
            Some(invitation) => Ok(invitation),
            None => bail!("no trial has id `{trial}` (see GET /api/v1/projects)"),
        },
        |invitation| {
            eprintln!(
                "access link for patient {patient} of trial {trial}, valid until {} and for one device (shown once):",
                invitation.expires_at.to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
            );
            println!("{}", link(&args.base_url, &invitation.code));
        },
    )
}

/// `clinval patient revoke`: the patient's devices and unused codes stop working.
pub fn run_revoke(args: PatientArgs) -> ExitCode {
    let scope = args.scope();
    let (trial, patient) = (scope.trial.clone(), scope.patient.clone());
    args.store.run(
        async |store| Ok(store.revoke_patient(scope).await?),
        |Revoked { credentials, codes }| {
            eprintln!(
                "patient {patient} of trial {trial}: {credentials} device credential(s) and {codes} unused code(s) revoked"
            );
        },
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_link_carries_the_code_in_its_fragment() {
        assert_eq!(
            link("https://epro.example.org/", "clva_ab"),
            "https://epro.example.org/#access=clva_ab"
        );
    }
}
