//! `clinval-wasm-pack`: builds the partner package in `wasm/pkg/`.
//!
//! Run: `cargo run -p clinval-wasm-pack` (from anywhere in the workspace);
//! `-- --update-imports` rewrites `wasm/expected-imports.txt` from the
//! module instead of failing (for intended changes, reviewed in the diff).
//!
//! 1. `cargo build -p clinval-wasm --target wasm32-unknown-unknown --profile wasm-release`;
//! 2. wasm-bindgen (the library, at the crate's exact version) → ES module
//!    glue `clinval.js`, `clinval.d.ts`, `clinval_bg.wasm`;
//! 3. `wasm-opt -O3` from npm's binaryen (Debian's binaryen 108 breaks
//!    wasm-bindgen tables at runtime); names and producers stripped there,
//!    not earlier (`strip = true` would drop the target-features section
//!    wasm-bindgen reads);
//! 4. checks the module's imports against `wasm/expected-imports.txt` (a
//!    dependency can add JS imports silently), its exports against the C
//!    ABI, and that the glue's `init()` finds the module by default;
//! 5. writes `package.json` and the partner README, and prints the sizes.

use std::collections::BTreeSet;
use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use anyhow::{Context, Result, bail, ensure};

/// The C ABI exports docs/abi.md promises.
const ABI_EXPORTS: [&str; 14] = [
    "clinval_abi_version",
    "clinval_alloc",
    "clinval_free",
    "clinval_result_ptr",
    "clinval_result_len",
    "clinval_info",
    "clinval_validator_new",
    "clinval_validator_free",
    "clinval_check_field",
    "clinval_check_record",
    "clinval_batch_new",
    "clinval_batch_feed",
    "clinval_batch_finish",
    "clinval_batch_free",
];

fn main() -> Result<()> {
    let wasm_dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..");
    let root = wasm_dir.join("..");
    let pkg = wasm_dir.join("pkg");

    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    run(Command::new(cargo).current_dir(&root).args([
        "build",
        "-p",
        "clinval-wasm",
        "--target",
        "wasm32-unknown-unknown",
        "--profile",
        "wasm-release",
    ]))?;
    let raw = root.join("target/wasm32-unknown-unknown/wasm-release/clinval_wasm.wasm");

    if pkg.exists() {
        fs::remove_dir_all(&pkg).with_context(|| format!("cannot clear {}", pkg.display()))?;
    }
    wasm_bindgen_cli_support::Bindgen::new()
        .input_path(&raw)
        .out_name("clinval")
        .web(true)?
        .typescript(true)
        // `await init()` finds clinval_bg.wasm next to clinval.js (the
        // library, unlike the CLI, leaves that default out).
        .omit_default_module_path(false)
        .generate(&pkg)
        .context("wasm-bindgen")?;

    let glue = fs::read_to_string(pkg.join("clinval.js"))?;
    ensure!(
        glue.contains("new URL('clinval_bg.wasm', import.meta.url)"),
        "clinval.js has no default module URL: `await init()` would fail in browsers"
    );
    let module = pkg.join("clinval_bg.wasm");
    optimise(&wasm_dir, &module)?;
    let bytes = fs::read(&module)?;
    let update = std::env::args().any(|a| a == "--update-imports");
    check_interface(&bytes, &wasm_dir.join("expected-imports.txt"), update)?;

    let version = env!("CARGO_PKG_VERSION");
    fs::write(pkg.join("package.json"), package_json(version))?;
    fs::copy(wasm_dir.join("PARTNERS.md"), pkg.join("README.md")).context("partner README")?;

    let gzipped = gzip_size(&bytes)?;
    println!(
        "wasm/pkg: clinval_bg.wasm {} bytes, {} bytes gzip -9 ({:.1} KB)",
        bytes.len(),
        gzipped,
        gzipped as f64 / 1000.0
    );
    Ok(())
}

fn run(command: &mut Command) -> Result<()> {
    let status = command
        .status()
        .with_context(|| format!("cannot run {command:?}"))?;
    ensure!(status.success(), "{command:?} failed: {status}");
    Ok(())
}

/// `wasm-opt -O3` in place, installing npm's binaryen first if needed.
fn optimise(wasm_dir: &Path, module: &Path) -> Result<()> {
    let wasm_opt = wasm_dir.join("node_modules/.bin/wasm-opt");
    if !wasm_opt.exists() {
        run(Command::new("npm")
            .current_dir(wasm_dir)
            .args(["ci", "--no-audit", "--no-fund"]))?;
    }
    let optimised = module.with_extension("opt.wasm");
    run(Command::new(&wasm_opt)
        .arg(module)
        .args(["-O3", "--strip-debug", "--strip-producers"])
        // The features rustc's wasm32 target emits by default.
        .args([
            "--enable-bulk-memory",
            "--enable-nontrapping-float-to-int",
            "--enable-sign-ext",
            "--enable-mutable-globals",
            "--enable-reference-types",
            "--enable-multivalue",
        ])
        .arg("-o")
        .arg(&optimised))?;
    fs::rename(&optimised, module)?;
    Ok(())
}

/// Fails unless the imports are exactly the expected ones and every C ABI
/// export is there.
fn check_interface(bytes: &[u8], expected_path: &Path, update: bool) -> Result<()> {
    let mut imports = BTreeSet::new();
    let mut exports = BTreeSet::new();
    for payload in wasmparser::Parser::new(0).parse_all(bytes) {
        match payload? {
            wasmparser::Payload::ImportSection(reader) => {
                for import in reader.into_imports() {
                    let import = import?;
                    imports.insert(format!("{} {}", import.module, import.name));
                }
            }
            wasmparser::Payload::ExportSection(reader) => {
                for export in reader {
                    exports.insert(export?.name.to_owned());
                }
            }
            _ => {}
        }
    }
    let text = fs::read_to_string(expected_path)
        .with_context(|| format!("cannot read {}", expected_path.display()))?;
    if update {
        let header: String = text
            .lines()
            .take_while(|l| l.starts_with('#'))
            .map(|l| format!("{l}\n"))
            .collect();
        let list: String = imports.iter().map(|i| format!("{i}\n")).collect();
        fs::write(expected_path, header + &list)?;
    }
    let expected: BTreeSet<String> = fs::read_to_string(expected_path)?
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
        .map(str::to_owned)
        .collect();
    if imports != expected {
        let added: Vec<_> = imports.difference(&expected).collect();
        let removed: Vec<_> = expected.difference(&imports).collect();
        bail!(
            "the module's imports changed (update {} only if the change is intended)\n  new: {added:?}\n  gone: {removed:?}",
            expected_path.display()
        );
    }
    let missing: Vec<_> = ABI_EXPORTS
        .iter()
        .filter(|e| !exports.contains(**e))
        .collect();
    ensure!(missing.is_empty(), "C ABI exports missing: {missing:?}");
    Ok(())
}

fn package_json(version: &str) -> String {
    let package = serde_json::json!({
        "name": "@clinval/wasm",
        "version": version,
        "description": "clinval's clinical-trial data validation engine as one WebAssembly module",
        "license": "Apache-2.0",
        "type": "module",
        "main": "clinval.js",
        "types": "clinval.d.ts",
        "files": ["clinval_bg.wasm", "clinval.js", "clinval.d.ts", "clinval_bg.wasm.d.ts", "README.md"],
        "sideEffects": ["./snippets/*"]
    });
    format!(
        "{}\n",
        serde_json::to_string_pretty(&package).unwrap_or_default()
    )
}

/// Size after `gzip -9` (the size the budget is stated in).
fn gzip_size(bytes: &[u8]) -> Result<usize> {
    let mut gzip = Command::new("gzip")
        .args(["-9", "-c"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .context("cannot run gzip")?;
    let mut stdin = gzip.stdin.take().context("gzip stdin")?;
    let input = bytes.to_vec();
    let writer = std::thread::spawn(move || stdin.write_all(&input));
    let output = gzip.wait_with_output()?;
    writer
        .join()
        .map_err(|_| anyhow::anyhow!("gzip writer panicked"))??;
    Ok(output.stdout.len())
}
