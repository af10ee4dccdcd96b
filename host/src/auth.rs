//! API tokens: made from the OS's CSPRNG, shown once, stored only as their
//! SHA-256 (a token has 256 random bits, so a plain hash is enough: there
//! is nothing to brute-force). `clinval token create` and the server's
//! bearer check both live here.

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::{Context, Result};
use sha2::{Digest, Sha256};

use crate::store::sqlite::SqliteStore;
use crate::store::{Scope, Store};
use crate::wasm_host::hex;

/// Every token starts so (easy to spot in a leaked config or log).
pub const PREFIX: &str = "clv_";

/// A new token's text and hash.
pub fn new_token() -> Result<(String, [u8; 32])> {
    let mut secret = [0u8; 32];
    getrandom::fill(&mut secret).map_err(|e| anyhow::anyhow!("no randomness: {e}"))?;
    let token = format!("{PREFIX}{}", hex(&secret));
    let digest = hash(&token);
    Ok((token, digest))
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

/// Arguments of `clinval token create`.
#[derive(Debug, clap::Args)]
pub struct CreateArgs {
    /// What the token may do (repeat for several): submit, read, admin.
    #[arg(long = "scope", required = true, value_name = "SCOPE")]
    scopes: Vec<Scope>,

    /// The server's data directory.
    #[arg(
        long,
        env = "CLINVAL_DATA_DIR",
        default_value = "clinval-data",
        value_name = "DIR"
    )]
    data_dir: PathBuf,

    /// A note kept with the token (who or what it is for).
    #[arg(long, default_value = "", value_name = "TEXT")]
    label: String,
}

/// `clinval token create`: prints a new token once, on stdout.
pub fn run_create(args: CreateArgs) -> ExitCode {
    let made = (|| -> Result<String> {
        let store = SqliteStore::open(&args.data_dir)
            .with_context(|| format!("data dir {}", args.data_dir.display()))?;
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()?;
        runtime.block_on(create(&store, args.scopes.clone(), &args.label))
    })();
    match made {
        Ok(token) => {
            let scopes: Vec<&str> = args.scopes.iter().map(|s| s.name()).collect();
            eprintln!(
                "token with scopes {} (shown once; only its hash is stored):",
                scopes.join(", ")
            );
            println!("{token}");
            ExitCode::SUCCESS
        }
        Err(error) => {
            eprintln!("clinval: error: {error:#}");
            ExitCode::from(2)
        }
    }
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
