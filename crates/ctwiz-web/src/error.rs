//! Errors as responses: every failure becomes a page that says what went wrong, and a
//! refusal (403) never carries patient data. Every 500 is logged (`tracing`) with the
//! request's id, and the page shows that id so a help desk can find the log line.

use crate::page;
use axum::http::{header, StatusCode};
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
    /// Too many attempts from this address or for this account (sign-in, public forms).
    #[error("Too many attempts. Please wait {retry_after} seconds and try again.")]
    TooManyRequests { retry_after: u64 },
    /// A portal visit that ended, or a record no longer shown there.
    #[error("{}", ctwiz_store::usecase::UseCaseError::PortalClosed)]
    PortalClosed,
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
            E::PortalClosed => AppError::PortalClosed,
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
            AppError::TooManyRequests { .. } => (StatusCode::TOO_MANY_REQUESTS, "Please wait"),
            AppError::PortalClosed => (StatusCode::UNAUTHORIZED, "Your visit has ended"),
            AppError::Store(StoreError::NotFound { .. }) => (StatusCode::NOT_FOUND, "Not found"),
            AppError::Store(StoreError::Core(_)) | AppError::Store(StoreError::Conflict(_)) => {
                (StatusCode::BAD_REQUEST, "Please check your input")
            }
            AppError::Internal(_) | AppError::Store(_) => {
                (StatusCode::INTERNAL_SERVER_ERROR, "Something went wrong")
            }
        };
        let message = if status == StatusCode::INTERNAL_SERVER_ERROR {
            let id = crate::request_id();
            tracing::error!(request_id = %id, error = %self, "request failed");
            format!("The server could not complete the request. It has been logged under reference {id}; please quote it if you contact the help desk.")
        } else {
            self.to_string()
        };
        let mut res = (status, page::bare(title, &message)).into_response();
        if let AppError::TooManyRequests { retry_after } = self {
            res.headers_mut()
                .insert(header::RETRY_AFTER, header::HeaderValue::from(retry_after));
        }
        res
    }
}

impl From<ctwiz_store::accounts::AdminError> for AppError {
    fn from(e: ctwiz_store::accounts::AdminError) -> Self {
        use ctwiz_store::accounts::AdminError;
        match e {
            AdminError::Denied(_) => AppError::Forbidden,
            AdminError::NoSuchUser(id) => AppError::NotFound(format!("User {id}")),
            AdminError::NoSuchRequest(id) => AppError::NotFound(format!("Account request {id}")),
            e @ (AdminError::AlreadyDecided(_)
            | AdminError::UsernameTaken(_)
            | AdminError::Invalid(_)) => AppError::BadRequest(e.to_string()),
            AdminError::Store(e) => AppError::Store(e),
        }
    }
}
