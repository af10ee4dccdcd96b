//! clinval-wasm: the engine as one WebAssembly module with two faces.
//!
//! - [`js`]: the wasm-bindgen API the browser and Node use;
//! - [`abi`]: a plain C ABI for every other host (docs/abi.md).
//!
//! Both are thin over [`engine`], which is plain Rust over `clinval-core`:
//! the same bytes give the same verdicts whichever face is called.

pub mod abi;
pub mod engine;
pub mod js;
