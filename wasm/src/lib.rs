//! clinval-wasm: the engine as one WebAssembly module.
//!
//! The module's one face is [`abi`], a plain C ABI (docs/abi.md) that every
//! host calls: wasmtime and other runtimes, and the browser and Node
//! through `wasm/js/clinval.js`, a thin ES module over the same exports.
//! It is thin over [`engine`], plain Rust over `clinval-core`: the same
//! bytes give the same verdicts whoever calls.

pub mod abi;
pub mod engine;
