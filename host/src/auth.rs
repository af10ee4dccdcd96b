//! API tokens: made from the OS's CSPRNG, shown once, stored only as their
//! SHA-256 (a token has 256 random bits, so a plain hash is enough: there
//! is nothing to brute-force). `clinval token create` and the server's
//! bearer check both live here.

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::{Context, Result};
use sha2::{Digest, Sha256};

use crate::store::{Scope, Store, StoreLocation};
use crate::wasm_host::hex;

/// Every token starts so (easy to spot in a leaked config or log).
pub const PREFIX: &str = "clv_";

/// A new token's text and hash.
pub fn new_token() -> Result<(String, [u8; 32])> {
    new_secret(PREFIX)
}

/// 256 random bits as hex after `prefix`, and the text's hash.
pub fn new_secret(prefix: &str) -> Result<(String, [u8; 32])> {
    let mut secret = [0u8; 32];
    getrandom::fill(&mut secret).map_err(|e| anyhow::anyhow!("no randomness: {e}"))?;
    let text = format!("{prefix}{}", hex(&secret));
    let digest = hash(&text);
    Ok((text, digest))
}

/// The stored form of a token.
pub fn hash(token: &str) -> [u8; 32] {
    Sha256::digest(token.as_bytes()).into()
}

/// Makes a token with `scopes` in `store`; returns its text.
pub async fn create(store: &dyn Store, scopes: Vec<Scope>, label: &str) -> Result<String> {
    let (token, digest) = new_token()?;
    store
        .create_token(digest, scopes, label.to_owned())
        .await
        .context("storing the token")?;
    Ok(token)
}

/// Where the server's state is, as every command that touches it takes
/// it: `--store URL` (PostgreSQL), else the SQLite data dir.
#[derive(Debug, Clone, clap::Args)]
pub struct StoreArgs {
    /// The server's data directory (without `--store`).
    #[arg(
        long = "data-dir",
        env = "CLINVAL_DATA_DIR",
        default_value = "clinval-data",
        value_name = "DIR"
    )]
    data_dir: PathBuf,

    /// The server's PostgreSQL database (`postgres://user@host:port/db`).
    #[arg(long, env = "CLINVAL_STORE", value_name = "URL")]
    store: Option<String>,
}

impl StoreArgs {
    /// Runs `work` on the store; prints an error and returns exit status 2
    /// if it fails.
    pub fn run<T>(
        &self,
        work: impl AsyncFnOnce(&dyn Store) -> Result<T>,
        done: impl FnOnce(T),
    ) -> ExitCode {
        let result = (|| -> Result<T> {
            let location = StoreLocation::parse(self.store.as_deref(), &self.data_dir)?;
            let runtime = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()?;
            runtime.block_on(async {
                let store = location.open().await.with_context(|| location.describe())?;
                work(store.as_ref()).await
            })
        })();
        match result {
            Ok(value) => {
                done(value);
                ExitCode::SUCCESS
            }
            Err(error) => {
                eprintln!("clinval: error: {}", crate::explain::explain(&error));
                ExitCode::from(2)
            }
        }
    }
}

/// Arguments of `clinval token create`.
#[derive(Debug, clap::Args)]
pub struct CreateArgs {
    /// What the token may do (repeat for several): submit, read, admin.
    #[arg(long = "scope", required = true, value_name = "SCOPE")]
    scopes: Vec<Scope>,

    #[command(flatten)]
    store: StoreArgs,

    /// A note kept with the token (who or what it is for).
    #[arg(long, default_value = "", value_name = "TEXT")]
    label: String,
}

/// `clinval token create`: prints a new token once, on stdout.
pub fn run_create(args: CreateArgs) -> ExitCode {
    let scopes: Vec<&str> = args.scopes.iter().map(|s| s.name()).collect();
    args.store.run(
        async |store| create(store, args.scopes.clone(), &args.label).await,
        |token| {
            eprintln!(
                "token with scopes {} (shown once; only its hash is stored):",
                scopes.join(", ")
            );
            println!("{token}");
        },
    )
}

/// `clinval token list`: every token's id, scopes, dates and label (never
/// the token itself: only its hash is stored).
pub fn run_list(store: StoreArgs) -> ExitCode {
    store.run(
        async |store| Ok(store.tokens().await?),
        |tokens| {
            println!("id\tscopes\tcreated\trevoked\tlabel");
            for t in tokens {
                let scopes: Vec<&str> = t.scopes.iter().map(|s| s.name()).collect();
                let revoked = t.revoked_at.as_deref().unwrap_or("-");
                // A patient's credential says whose it is.
                let label = match &t.patient {
                    Some(p) => format!("{} ({}/{})", t.label, p.trial, p.patient),
                    None => t.label,
                };
                println!(
                    "{}\t{}\t{}\t{revoked}\t{label}",
                    t.id,
                    scopes.join(","),
                    t.created_at,
                );
            }
        },
    )
}

/// Arguments of `clinval token revoke`.
#[derive(Debug, clap::Args)]
pub struct RevokeArgs {
    /// The token's id (`clinval token list`).
    id: i64,

    #[command(flatten)]
    store: StoreArgs,
}

/// `clinval token revoke`: the token stops working (within the server's
/// `token_cache_ttl`); its submissions stay.
pub fn run_revoke(args: RevokeArgs) -> ExitCode {
    let id = args.id;
    args.store.run(
        async |store| match store.revoke_token(id).await? {
            Some(newly) => Ok(newly),
            None => anyhow::bail!("no token has id {id} (see `clinval token list`)"),
        },
        |newly| {
            if newly {
                eprintln!("token {id} revoked");
            } else {
                eprintln!("token {id} was already revoked");
            }
        },
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_are_random_prefixed_and_hashed() {
        let (a, hash_a) = new_token().unwrap();
        let (b, _) = new_token().unwrap();
        assert_ne!(a, b);
        assert!(a.starts_with(PREFIX) && a.len() == PREFIX.len() + 64);
        assert_eq!(hash(&a), hash_a);
    }
}
