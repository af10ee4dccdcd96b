//! Bearer tokens on requests: 401 without a known token, 403 without the
//! scope. Known tokens are cached in memory (tokens cannot be changed once
//! made; unknown ones are not cached, so guessing costs no memory).

use std::collections::HashMap;
use std::sync::RwLock;

use axum::http::{HeaderMap, StatusCode, header};

use crate::store::{Scope, Store, TokenInfo};

use super::error::ApiError;

/// Tokens already seen, by hash.
#[derive(Debug, Default)]
pub struct TokenCache(RwLock<HashMap<[u8; 32], TokenInfo>>);

impl TokenCache {
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
        let cached = self.0.read().ok().and_then(|map| map.get(&digest).cloned());
        let info = match cached {
            Some(info) => info,
            None => {
                let found = store.token(digest).await.map_err(|e| {
                    tracing::error!(error = %e, "token lookup failed");
                    ApiError::new(
                        StatusCode::SERVICE_UNAVAILABLE,
                        "storage_unavailable",
                        "try again",
                    )
                })?;
                let info = found.ok_or_else(|| ApiError::unauthorized("the token is not valid"))?;
                if let Ok(mut map) = self.0.write() {
                    map.insert(digest, info.clone());
                }
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
