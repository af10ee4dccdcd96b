//! The clinval host as a library: what the `clinval` binary (`main.rs`,
//! its commands) runs, and what tests and other hosts can call in-process.
//!
//! Layered (docs/architecture.md): [`serve`]'s HTTP handlers stay thin
//! over the typed [`service`] layer, which runs the module on the
//! [`pool`] of WebAssembly instances ([`wasm_host`]) and keeps state in
//! the [`store`]; nothing below [`serve`] knows of HTTP. [`validate`] is
//! the command line's file validation; ids,
//! completion times and access codes are domain types parsed once
//! ([`ids`], [`completion`], [`access`]). Files, threads, HTTP and
//! terminal output live here; every verdict comes from `clinval-core`.

pub mod access;
pub mod auth;
pub mod completion;
pub mod explain;
pub mod ids;
pub mod import;
pub mod metrics;
mod ordered_pool;
pub mod pool;
pub mod protocols;
pub mod serve;
pub mod service;
pub mod store;
pub mod validate;
pub mod wasm_host;
