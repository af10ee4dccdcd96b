//! Who a request's bearer token is: known tokens are cached in memory for
//! `token_cache_ttl`, so most requests do not ask the store, and a token
//! revoked by `clinval token revoke` (another process, another replica)
//! is refused at most that long after. Unknown tokens are not cached, so
//! guessing costs no memory.

use std::collections::HashMap;
use std::sync::{PoisonError, RwLock};
use std::time::{Duration, Instant};

use crate::store::{Scope, Store, StoreError, TokenInfo};

/// Why a token does not let a request through.
#[derive(Debug, thiserror::Error)]
pub enum AuthError {
    /// No such token, or a revoked one.
    #[error("the token is not valid")]
    Unknown,
    /// The token lacks the scope.
    #[error("this token lacks the `{}` scope", .0.name())]
    MissingScope(Scope),
    /// The store could not be asked.
    #[error(transparent)]
    Storage(StoreError),
}

/// Tokens already seen, by hash, with when the store last confirmed them.
#[derive(Debug)]
pub struct Tokens {
    ttl: Duration,
    seen: RwLock<HashMap<[u8; 32], (TokenInfo, Instant)>>,
}

impl Tokens {
    /// A cache that trusts a confirmed token for `ttl`.
    pub fn new(ttl: Duration) -> Tokens {
        Tokens {
            ttl,
            seen: RwLock::default(),
        }
    }

    /// The token `text`, if `store` knows it and it allows `scope`.
    pub async fn authenticate(
        &self,
        store: &dyn Store,
        text: &str,
        scope: Scope,
    ) -> Result<TokenInfo, AuthError> {
        let digest = crate::auth::hash(text);
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
                let found = store.token(digest).await.map_err(AuthError::Storage)?;
                // The map holds no invariant a panic could break.
                let mut map = self.seen.write().unwrap_or_else(PoisonError::into_inner);
                let Some(info) = found else {
                    map.remove(&digest); // revoked: forget it now
                    return Err(AuthError::Unknown);
                };
                map.insert(digest, (info.clone(), Instant::now()));
                info
            }
        };
        if !info.allows(scope) {
            return Err(AuthError::MissingScope(scope));
        }
        Ok(info)
    }
}
