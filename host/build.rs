//! Embeds clinval_bg.wasm and its JS glue when `cargo run -p
//! clinval-wasm-pack` has built them (cfg `embedded_module`); without them
//! `--engine wasm` and `serve` need `--module`, and the web demo has no
//! module to load.

use std::path::PathBuf;

fn main() {
    let module = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../wasm/pkg/clinval_bg.wasm");
    println!("cargo::rustc-check-cfg=cfg(embedded_module)");
    println!("cargo::rerun-if-changed={}", module.display());
    println!(
        "cargo::rerun-if-changed={}",
        module.with_file_name("clinval.js").display()
    );
    if module.exists() {
        println!("cargo::rustc-cfg=embedded_module");
    }
}
