//! clinval-wasm: the engine as one WebAssembly module.
//!
//! The module's one face is [`abi`], a plain C ABI (docs/abi.md) that every
//! host calls: wasmtime and other runtimes, and the browser and Node
//! through `wasm/js/clinval.js`, a thin ES module over the same exports.
//! It is thin over [`engine`], plain Rust over `clinval-core`: the same
//! bytes give the same verdicts whoever calls.

pub mod abi;
pub mod engine;
mod handles;
#[cfg(feature = "schema")]
pub mod schema;

/// The module's allocator: Talc instead of Rust's default dlmalloc for
/// wasm32, smaller and faster on the allocation pattern of a batch (a few
/// small vectors a record); see docs/benchmarks.md.
#[cfg(all(not(target_feature = "atomics"), target_family = "wasm"))]
#[global_allocator]
static ALLOCATOR: talc::wasm::WasmDynamicTalc = talc::wasm::new_wasm_dynamic_allocator();
