//! Embeds clinval_bg.wasm when `cargo run -p clinval-wasm-pack` has built
//! it (cfg `embedded_module`); without it `--engine wasm` needs `--module`.

use std::path::PathBuf;

fn main() {
    let module = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../wasm/pkg/clinval_bg.wasm");
    println!("cargo::rustc-check-cfg=cfg(embedded_module)");
    println!("cargo::rerun-if-changed={}", module.display());
    if module.exists() {
        println!("cargo::rustc-cfg=embedded_module");
    }
}
