//! `clinval-wasm-pack`: builds the partner package in `wasm/pkg/`.
//!
//! Run: `cargo run -p clinval-wasm-pack` (from anywhere in the workspace).
//!
//! Two modules of one engine ([`MODULES`]): the compact `clinval_bg.wasm`
//! that pages load, and `clinval_full_bg.wasm` with what the compact one
//! leaves out (the `full` feature: the regex engine, strptime formats, geo
//! and JSON compound types), loaded only for a protocol that needs it.
//! For each:
//!
//! 1. `cargo build -p clinval-wasm --target wasm32-unknown-unknown --profile
//!    wasm-release` (with `--features full` for the full one), with
//!    WebAssembly SIMD on;
//! 2. for the full module, `wasm-metadce` from npm's binaryen with the C
//!    ABI and the memory as its only roots (a dependency's own exports,
//!    such as the wasm-bindgen ones calamine's zip brings in through
//!    getrandom, go, and with them the imports only they used); then
//!    `wasm-opt -O3`, names and producers stripped;
//! 3. checks that the module imports nothing (a dependency can add imports
//!    silently) and exports the whole C ABI, and that it is within its
//!    size budget (the build fails above it).
//!
//! Then copies the JavaScript API (`wasm/js/clinval.js`, `clinval.d.ts`),
//! writes the JSON Schema of every result shape (`clinval.schema.json`)
//! and its TypeScript declarations (`clinval-results.d.ts`, which
//! `clinval.d.ts` imports), both generated from the Rust types that make
//! the results, writes `package.json` and the partner README, and prints
//! the sizes.

use std::collections::BTreeSet;
use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use anyhow::{Context, Result, ensure};

mod typescript;

/// The C ABI exports docs/abi.md promises.
const ABI_EXPORTS: [&str; 15] = [
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
    "clinval_keys_new",
    "clinval_batch_feed",
    "clinval_batch_finish",
    "clinval_batch_free",
];

/// One module the package holds.
struct Spec {
    /// Its file in `wasm/pkg/`.
    file: &'static str,
    /// Cargo features of `clinval-wasm` it is built with.
    features: &'static [&'static str],
    /// The most it may weigh after `gzip -9`, in bytes.
    budget_gzip: usize,
    /// Whether to keep only what the C ABI reaches (`wasm-metadce`): the
    /// full module's dependencies export things of their own; the compact
    /// one has none, and the pass costs it a kilobyte gzipped (it reorders
    /// functions).
    abi_roots_only: bool,
}

/// The package's modules. The compact module's budget is the product's
/// (200 KB with every feature pages need); the full one, fetched only for
/// protocols that need it, has room for what does not fit there.
const MODULES: [Spec; 2] = [
    Spec {
        file: "clinval_bg.wasm",
        features: &[],
        budget_gzip: 200_000,
        abi_roots_only: false,
    },
    Spec {
        file: "clinval_full_bg.wasm",
        features: &["full"],
        budget_gzip: 700_000,
        abi_roots_only: true,
    },
];

fn main() -> Result<()> {
    let wasm_dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..");
    let root = wasm_dir.join("..");
    let pkg = wasm_dir.join("pkg");

    if pkg.exists() {
        fs::remove_dir_all(&pkg).with_context(|| format!("cannot clear {}", pkg.display()))?;
    }
    fs::create_dir_all(&pkg)?;
    let mut sizes = Vec::new();
    for spec in &MODULES {
        sizes.push(build(&root, &wasm_dir, &pkg, spec)?);
    }
    for file in ["clinval.js", "clinval.d.ts"] {
        fs::copy(wasm_dir.join("js").join(file), pkg.join(file))
            .with_context(|| format!("cannot copy wasm/js/{file}"))?;
    }
    let schema = clinval_wasm::schema::results_document();
    fs::write(
        pkg.join("clinval.schema.json"),
        serde_json::to_string_pretty(&schema)? + "\n",
    )?;
    fs::write(
        pkg.join("clinval-results.d.ts"),
        typescript::declarations(&schema)?,
    )?;
    let version = env!("CARGO_PKG_VERSION");
    fs::write(pkg.join("package.json"), package_json(version))?;
    fs::copy(wasm_dir.join("PARTNERS.md"), pkg.join("README.md")).context("partner README")?;

    for (spec, (bytes, gzipped)) in MODULES.iter().zip(&sizes) {
        println!(
            "wasm/pkg: {} {bytes} bytes, {gzipped} bytes gzip -9 ({:.1} KB; budget {:.0} KB)",
            spec.file,
            *gzipped as f64 / 1000.0,
            spec.budget_gzip as f64 / 1000.0
        );
    }
    for (spec, (_, gzipped)) in MODULES.iter().zip(&sizes) {
        ensure!(
            *gzipped <= spec.budget_gzip,
            "{} is {gzipped} bytes gzipped, over its {}-byte budget: shrink it, or move the \
             feature to a module loaded only when needed",
            spec.file,
            spec.budget_gzip
        );
    }
    Ok(())
}

/// Builds, optimises and checks one module; returns its size and gzipped size.
fn build(root: &Path, wasm_dir: &Path, pkg: &Path, spec: &Spec) -> Result<(usize, usize)> {
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    // Each module in its own target directory, so that building one does
    // not invalidate the other's artifacts.
    let target = root
        .join("target/wasm")
        .join(spec.file.trim_end_matches(".wasm"));
    let mut command = Command::new(cargo);
    command.current_dir(root).args([
        "build",
        "-p",
        "clinval-wasm",
        "--target",
        "wasm32-unknown-unknown",
        "--profile",
        "wasm-release",
    ]);
    command.arg("--target-dir").arg(&target);
    // WebAssembly SIMD (fixed-width, 128-bit): every current browser,
    // Node, wasmtime, wasmer and wazero run it, and it makes a batch ~10%
    // faster (memchr's line and cell searches, UTF-8 checks). Set here,
    // for these builds only, whatever RUSTFLAGS the caller has.
    command.env("CARGO_ENCODED_RUSTFLAGS", "-Ctarget-feature=+simd128");
    if !spec.features.is_empty() {
        command.args(["--features", &spec.features.join(",")]);
    }
    run(&mut command)?;
    let raw = target.join("wasm32-unknown-unknown/wasm-release/clinval_wasm.wasm");
    let module = pkg.join(spec.file);
    optimise(wasm_dir, &raw, &module, spec.abi_roots_only)?;
    let bytes = fs::read(&module)?;
    check_interface(&bytes).with_context(|| spec.file)?;
    Ok((bytes.len(), gzip_size(&bytes)?))
}

fn run(command: &mut Command) -> Result<()> {
    let status = command
        .status()
        .with_context(|| format!("cannot run {command:?}"))?;
    ensure!(status.success(), "{command:?} failed: {status}");
    Ok(())
}

/// The features rustc's wasm32 target emits by default (with SIMD on).
const WASM_FEATURES: [&str; 7] = [
    "--enable-bulk-memory",
    "--enable-nontrapping-float-to-int",
    "--enable-sign-ext",
    "--enable-mutable-globals",
    "--enable-reference-types",
    "--enable-multivalue",
    "--enable-simd",
];

/// `wasm-opt -O3` from `raw` to `module`, after keeping only what the C
/// ABI and the memory export reach (`wasm-metadce`) if `abi_roots_only`;
/// installs npm's binaryen first if needed.
fn optimise(wasm_dir: &Path, raw: &Path, module: &Path, abi_roots_only: bool) -> Result<()> {
    let bin = wasm_dir.join("node_modules/.bin");
    if !bin.join("wasm-opt").exists() {
        run(Command::new("npm")
            .current_dir(wasm_dir)
            .args(["ci", "--no-audit", "--no-fund"]))?;
    }
    let opt = |input: &Path| {
        run(Command::new(bin.join("wasm-opt"))
            .arg(input)
            .args(["-O3", "--strip-debug", "--strip-producers"])
            .args(WASM_FEATURES)
            .arg("-o")
            .arg(module))
    };
    if !abi_roots_only {
        return opt(raw);
    }
    let roots: Vec<serde_json::Value> = ABI_EXPORTS
        .iter()
        .chain(&["memory"])
        .map(|export| serde_json::json!({ "name": export, "export": export, "root": true }))
        .collect();
    let graph = module.with_extension("roots.json");
    let reduced = module.with_extension("dce.wasm");
    fs::write(&graph, serde_json::to_vec(&roots)?)?;
    run(Command::new(bin.join("wasm-metadce"))
        .arg(raw)
        .arg("--graph-file")
        .arg(&graph)
        .args(WASM_FEATURES)
        .arg("-o")
        .arg(&reduced)
        // It lists what it removed on stdout.
        .stdout(Stdio::null()))?;
    opt(&reduced)?;
    fs::remove_file(&graph)?;
    fs::remove_file(&reduced)?;
    Ok(())
}

/// Fails unless the module imports nothing and exports the whole C ABI.
fn check_interface(bytes: &[u8]) -> Result<()> {
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
    ensure!(
        imports.is_empty(),
        "the module imports {imports:?}: hosts would have to provide them (docs/abi.md promises none)"
    );
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
        "files": ["clinval_bg.wasm", "clinval_full_bg.wasm", "clinval.js", "clinval.d.ts", "clinval-results.d.ts", "clinval.schema.json", "README.md"],
        "sideEffects": false
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
