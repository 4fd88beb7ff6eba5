//! Errors as responses: every failure becomes a page that says what went wrong, and a
//! refusal (403) never carries patient data.

use crate::page;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use ctwiz_store::StoreError;

#[derive(Debug, thiserror::Error)]
pub enum AppError {
    /// The user's access type does not allow this here.
    #[error("You do not have access to this page.")]
    Forbidden,
    #[error("{0} was not found.")]
    NotFound(String),
    /// Bad input: the message is shown to the user beside the form.
    #[error("{0}")]
    BadRequest(String),
    /// The form did not carry this session's anti-forgery token.
    #[error("The form expired or did not come from this site. Go back, reload and try again.")]
    Csrf,
    #[error("internal error: {0}")]
    Internal(String),
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl From<ctwiz_core::CoreError> for AppError {
    fn from(e: ctwiz_core::CoreError) -> Self {
        AppError::BadRequest(e.to_string())
    }
}

/// A use case's refusal as a response: the matrix's no and a dose of another clinic are
/// 403, a missing record 404, a rule's refusal 400 with its sentence.
impl From<ctwiz_store::usecase::UseCaseError> for AppError {
    fn from(e: ctwiz_store::usecase::UseCaseError) -> Self {
        use ctwiz_core::dose::DoseError;
        use ctwiz_store::usecase::UseCaseError as E;
        match e {
            E::Denied(_) | E::Dose(DoseError::NotReportingClinic { .. }) => AppError::Forbidden,
            E::NotFound { what, id } => AppError::NotFound(format!("{what} {id}")),
            E::UnknownUser(u) => AppError::NotFound(format!("user {u:?}")),
            E::Store(s) => AppError::Store(s),
            refused => AppError::BadRequest(refused.to_string()),
        }
    }
}

impl IntoResponse for AppError {
    fn into_response(self) -> Response {
        let (status, title) = match &self {
            AppError::Forbidden => (StatusCode::FORBIDDEN, "Access denied"),
            AppError::NotFound(_) => (StatusCode::NOT_FOUND, "Not found"),
            AppError::BadRequest(_) => (StatusCode::BAD_REQUEST, "Please check your input"),
            AppError::Csrf => (StatusCode::FORBIDDEN, "Form expired"),
            AppError::Store(StoreError::NotFound { .. }) => (StatusCode::NOT_FOUND, "Not found"),
            AppError::Store(StoreError::Core(_)) | AppError::Store(StoreError::Conflict(_)) => {
                (StatusCode::BAD_REQUEST, "Please check your input")
            }
            AppError::Internal(_) | AppError::Store(_) => {
                (StatusCode::INTERNAL_SERVER_ERROR, "Something went wrong")
            }
        };
        let message = if status == StatusCode::INTERNAL_SERVER_ERROR {
            tracing::error!("{self}");
            "The server could not complete the request. It has been logged.".to_string()
        } else {
            self.to_string()
        };
        (status, page::bare(title, &message)).into_response()
    }
}
