//! Bearer tokens on requests: 401 without a known token, 403 without the
//! scope. Known tokens are cached in memory for `token_cache_ttl`, so most
//! requests do not ask the store, and a token revoked by `clinval token
//! revoke` (another process) is refused at most that long after. Unknown
//! tokens are not cached, so guessing costs no memory.

use std::collections::HashMap;
use std::sync::{PoisonError, RwLock};
use std::time::{Duration, Instant};

use axum::http::{HeaderMap, StatusCode, header};

use crate::store::{Scope, Store, TokenInfo};

use super::error::ApiError;

/// Tokens already seen, by hash, with when the store last confirmed them.
#[derive(Debug)]
pub struct TokenCache {
    ttl: Duration,
    seen: RwLock<HashMap<[u8; 32], (TokenInfo, Instant)>>,
}

impl TokenCache {
    /// A cache that trusts a confirmed token for `ttl`.
    pub fn new(ttl: Duration) -> TokenCache {
        TokenCache {
            ttl,
            seen: RwLock::default(),
        }
    }

    /// The caller's token if it allows `scope`.
    pub async fn authorize(
        &self,
        store: &dyn Store,
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
        let digest = crate::auth::hash(token);
        let fresh =
            |(info, at): &(TokenInfo, Instant)| (at.elapsed() < self.ttl).then(|| info.clone());
        let cached = self
            .seen
            .read()
            .ok()
            .and_then(|map| map.get(&digest).and_then(fresh));
        let info = match cached {
            Some(info) => info,
            None => {
                let found = store.token(digest).await.map_err(ApiError::storage)?;
                // The map holds no invariant a panic could break.
                let mut map = self.seen.write().unwrap_or_else(PoisonError::into_inner);
                let Some(info) = found else {
                    map.remove(&digest); // revoked: forget it now
                    return Err(ApiError::unauthorized("the token is not valid"));
                };
                map.insert(digest, (info.clone(), Instant::now()));
                info
            }
        };
        if !info.allows(scope) {
            return Err(ApiError::new(
                StatusCode::FORBIDDEN,
                "forbidden",
                format!("this token lacks the `{}` scope", scope.name()),
            ));
        }
        Ok(info)
    }
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
