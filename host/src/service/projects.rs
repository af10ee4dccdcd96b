//! Trial projects: made and changed by the study team (admin), read with
//! their enrolment and submission counts. The checks of a project's
//! fields live here, once, for the API and any other caller.

use chrono::NaiveDate;

use crate::ids::TrialId;
use crate::store::{NewProject, Project, ProjectPatch, StoreError, TokenInfo};

use super::Services;

/// Why a project call did not go through.
#[derive(Debug, thiserror::Error)]
pub enum ProjectError {
    /// A field cannot be used (the message says which).
    #[error("{0}")]
    Invalid(String),
    /// A project with this id exists.
    #[error("a project with id `{0}` exists already")]
    Exists(String),
    /// No project has this id.
    #[error("no project with id `{0}`")]
    Unknown(String),
    /// A patient's credential asked for another trial, or for the list.
    #[error("this credential acts only for its own patient")]
    NotThisPatient,
    /// The store failed.
    #[error(transparent)]
    Storage(StoreError),
}

impl From<StoreError> for ProjectError {
    fn from(error: StoreError) -> ProjectError {
        match error {
            StoreError::ProjectExists(id) => ProjectError::Exists(id),
            other => ProjectError::Storage(other),
        }
    }
}

impl Services {
    /// Every project (not for a patient's credential).
    pub async fn projects(&self, token: &TokenInfo) -> Result<Vec<Project>, ProjectError> {
        if token.patient.is_some() {
            return Err(ProjectError::NotThisPatient);
        }
        Ok(self.store.projects().await?)
    }

    /// The project `id`, if `token` may see it.
    pub async fn project(&self, token: &TokenInfo, id: String) -> Result<Project, ProjectError> {
        if !token.may_see_trial(&id) {
            return Err(ProjectError::NotThisPatient);
        }
        self.store
            .project(id.clone())
            .await?
            .ok_or(ProjectError::Unknown(id))
    }

    /// Creates `project` once its fields are checked.
    pub async fn create_project(&self, project: NewProject) -> Result<Project, ProjectError> {
        TrialId::parse_as(&project.id, "id").map_err(|e| ProjectError::Invalid(e.to_string()))?;
        self.check_fields(
            Some(&project.name),
            project.start_date.as_deref(),
            Some(&project.protocol),
        )?;
        Ok(self.store.create_project(project).await?)
    }

    /// Changes the project `id` as `patch` says, once its fields are checked.
    pub async fn update_project(
        &self,
        id: String,
        patch: ProjectPatch,
    ) -> Result<Project, ProjectError> {
        self.check_fields(
            patch.name.as_deref(),
            patch.start_date.as_deref(),
            patch.protocol.as_deref(),
        )?;
        self.store
            .update_project(id.clone(), patch)
            .await?
            .ok_or(ProjectError::Unknown(id))
    }

    /// A name of 1 to 200 characters, a `YYYY-MM-DD` start date, a
    /// protocol this server serves.
    fn check_fields(
        &self,
        name: Option<&str>,
        start_date: Option<&str>,
        protocol: Option<&str>,
    ) -> Result<(), ProjectError> {
        if let Some(name) = name
            && (name.trim().is_empty() || name.chars().count() > 200)
        {
            return Err(ProjectError::Invalid(
                "name must be 1 to 200 characters".into(),
            ));
        }
        if let Some(date) = start_date
            && NaiveDate::parse_from_str(date, "%Y-%m-%d").is_err()
        {
            return Err(ProjectError::Invalid(format!(
                "startDate `{date}` is not YYYY-MM-DD"
            )));
        }
        if let Some(protocol) = protocol
            && self.protocols.get(protocol).is_none()
        {
            return Err(ProjectError::Invalid(format!(
                "protocol `{protocol}` is not served (known: {})",
                self.protocols.names().join(", ")
            )));
        }
        Ok(())
    }
}
