//! Bearer tokens on requests: the `Authorization` header read, the token
//! checked by the tokens service (`service::tokens`: cached for
//! `token_cache_ttl`), 401 without a known token, 403 without the scope.

use axum::http::{HeaderMap, StatusCode, header};

use crate::service::tokens::AuthError;
use crate::store::{Scope, TokenInfo};

use super::error::ApiError;

/// The caller's token if it allows `scope`.
pub async fn authorize(
    app: &super::app::App,
    headers: &HeaderMap,
    scope: Scope,
) -> Result<TokenInfo, ApiError> {
    let token = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| {
            let (scheme, token) = v.split_once(' ')?;
            scheme.eq_ignore_ascii_case("bearer").then(|| token.trim())
        })
        .ok_or_else(|| ApiError::unauthorized("send a token: Authorization: Bearer <token>"))?;
    let services = &app.services;
    services
        .tokens
        .authenticate(services.store.as_ref(), token, scope)
        .await
        .map_err(|error| match error {
            AuthError::Unknown => ApiError::unauthorized(&error.to_string()),
            AuthError::MissingScope(_) => {
                ApiError::new(StatusCode::FORBIDDEN, "forbidden", error.to_string())
            }
            AuthError::Storage(error) => ApiError::storage(error),
        })
}

/// The scope an [`Authorized`] extractor demands, as a type.
pub trait NeededScope {
    /// The scope.
    const SCOPE: Scope;
}

/// Marker types of the scopes, for [`Authorized`].
pub mod scope {
    use super::{NeededScope, Scope};

    /// Needs `submit`.
    #[derive(Debug)]
    pub struct Submit;
    /// Needs `read`.
    #[derive(Debug)]
    pub struct Read;
    /// Needs `admin`.
    #[derive(Debug)]
    pub struct Admin;

    impl NeededScope for Submit {
        const SCOPE: Scope = Scope::Submit;
    }
    impl NeededScope for Read {
        const SCOPE: Scope = Scope::Read;
    }
    impl NeededScope for Admin {
        const SCOPE: Scope = Scope::Admin;
    }
}

/// The caller's token, if it allows scope `S`: an extractor, so a handler
/// that takes one is never reached without it (401 without a known
/// token, 403 without the scope), before its body is read.
#[derive(Debug)]
pub struct Authorized<S> {
    /// The token.
    pub token: TokenInfo,
    scope: std::marker::PhantomData<S>,
}

impl<S: NeededScope + Send> axum::extract::FromRequestParts<std::sync::Arc<super::app::App>>
    for Authorized<S>
{
    type Rejection = ApiError;

    async fn from_request_parts(
        parts: &mut axum::http::request::Parts,
        app: &std::sync::Arc<super::app::App>,
    ) -> Result<Authorized<S>, ApiError> {
        let token = app.authorize(&parts.headers, S::SCOPE).await?;
        Ok(Authorized {
            token,
            scope: std::marker::PhantomData,
        })
    }
}
