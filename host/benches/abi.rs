//! Throughput of clinval_bg.wasm through its C ABI in wasmtime, against the
//! same engine layer compiled natively: the module's speed as a partner's
//! host sees it.
//!
//! Run: `cargo bench -p clinval-host --bench abi [-- --records N --rounds R]`
//! (after `cargo run -p clinval-wasm-pack`; default 1,000,000 records, 7
//! rounds). One core. Each round runs the native engine layer and then the
//! module on the same bytes, so both see the same phase of a noisy machine;
//! the ratio of each round and their median are printed. Times are the
//! thread's CPU time (`CLOCK_THREAD_CPUTIME_ID`): on a shared VM, wall time
//! also counts the time the hypervisor gave our vCPU to someone else, which
//! made single runs range from 44% to 86%.
//!
//! The wasm side is what docs/abi.md asks of a host (`through_abi`; the
//! server adds epoch interruption and fuel for its CPU bound). The native
//! side is the same `clinval_wasm::engine` code producing the same Events
//! JSON.

mod synth;
mod through_abi;

use std::time::Duration;

use through_abi::{Wasm, native_events};

const OPTIONS: &str = r#"{"asOf": "2025-06-30"}"#;

fn main() {
    let synth::Inputs { records, big, .. } = synth::inputs();
    let rounds = through_abi::count_arg("--rounds", 7);
    let bytes = std::fs::read(&big).expect("read data file");
    let module_path = concat!(env!("CARGO_MANIFEST_DIR"), "/../wasm/pkg/clinval_bg.wasm");
    let module = std::fs::read(module_path)
        .expect("wasm/pkg/clinval_bg.wasm (cargo run -p clinval-wasm-pack)");
    let wasm = Wasm::new(&module);

    let mut ratios = Vec::new();
    let (mut best_native, mut best_wasm) = (Duration::MAX, Duration::MAX);
    for round in 1..=rounds {
        let native = native_events("patient", OPTIONS, "csv", &bytes);
        let through_abi::Run {
            cpu: wasm_time,
            summary,
            ..
        } = wasm.run("patient", OPTIONS, "csv", &bytes);
        let wasm_records = summary["records"].as_u64().unwrap_or(0);
        best_native = best_native.min(native);
        best_wasm = best_wasm.min(wasm_time);
        assert_eq!(wasm_records, records, "the module read every record");
        let ratio = native.as_secs_f64() / wasm_time.as_secs_f64();
        println!(
            "round {round} (CPU time): native {:.3} s ({:.0} records/s), wasm {:.3} s ({:.0} records/s): {:.1}%",
            native.as_secs_f64(),
            records as f64 / native.as_secs_f64(),
            wasm_time.as_secs_f64(),
            records as f64 / wasm_time.as_secs_f64(),
            ratio * 100.0
        );
        ratios.push(ratio);
    }
    ratios.sort_by(f64::total_cmp);
    println!(
        "wasm throughput / native, median of {rounds} rounds: {:.1}% (range {:.1}–{:.1}%)",
        ratios[ratios.len() / 2] * 100.0,
        ratios[0] * 100.0,
        ratios[ratios.len() - 1] * 100.0
    );
    println!(
        "best round of each: native {:.0} records/s, wasm {:.0} records/s: {:.1}%",
        records as f64 / best_native.as_secs_f64(),
        records as f64 / best_wasm.as_secs_f64(),
        best_native.as_secs_f64() / best_wasm.as_secs_f64() * 100.0
    );
}
