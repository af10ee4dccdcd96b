//! Embeds the two modules (clinval_bg.wasm, clinval_full_bg.wasm) and
//! their JS glue when `cargo run -p clinval-wasm-pack` has built them (cfg
//! `embedded_module`); without them `--engine wasm` and `serve` need
//! `--module`, and the web demo has no module to load.

use std::path::PathBuf;

fn main() {
    let pkg = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../wasm/pkg");
    let files = ["clinval_bg.wasm", "clinval_full_bg.wasm", "clinval.js"].map(|f| pkg.join(f));
    println!("cargo::rustc-check-cfg=cfg(embedded_module)");
    for file in &files {
        println!("cargo::rerun-if-changed={}", file.display());
    }
    if files.iter().all(|f| f.exists()) {
        println!("cargo::rustc-cfg=embedded_module");
    }
}
