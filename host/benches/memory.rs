//! Memory of clinval_bg.wasm through its C ABI in wasmtime, by input size:
//! the figures docs/abi.md gives partners for sizing an instance (and the
//! server's `instance_memory`), measured, not estimated.
//!
//! Run: `cargo bench -p clinval-host --bench memory [-- --records N]`
//! (after `cargo run -p clinval-wasm-pack`; default up to 2,000,000
//! records). For N/8, N/4, N/2 and N synthetic patient records (99%
//! distinct ids, so the duplicate check of the primary key remembers
//! almost every record), fed in 256 KiB chunks as docs/abi.md asks, it
//! prints the instance's linear memory at the end (its peak: wasm memory
//! never shrinks) and what it costs per distinct key over the smallest
//! input, with the module's records/s (CPU time). The duplicate check
//! keeps 17 bytes a key in a table that doubles when 7/8 full; freed
//! tables stay in the instance's memory (it never shrinks, and each
//! larger table fits in none of them), so the peak is about twice the
//! last table: ~70 bytes a distinct key.

mod synth;
mod through_abi;

use through_abi::Wasm;

const OPTIONS: &str = r#"{"asOf": "2025-06-30"}"#;

fn main() {
    let most = through_abi::count_arg("--records", 2_000_000) as u64;
    let module_path = concat!(env!("CARGO_MANIFEST_DIR"), "/../wasm/pkg/clinval_bg.wasm");
    let module = std::fs::read(module_path)
        .expect("wasm/pkg/clinval_bg.wasm (cargo run -p clinval-wasm-pack)");
    let wasm = Wasm::new(&module);
    let sizes = [most / 8, most / 4, most / 2, most];
    let mut first: Option<(u64, usize)> = None;
    for records in sizes {
        let bytes = std::fs::read(synth::data_file(records)).expect("read data file");
        let run = wasm.run("patient", OPTIONS, "csv", &bytes);
        let read = run.summary["records"].as_u64().unwrap_or(0);
        assert_eq!(read, records, "the module read every record");
        let mib = run.memory as f64 / f64::from(1 << 20);
        let rate = records as f64 / run.cpu.as_secs_f64();
        match first {
            None => {
                println!(
                    "{records:>9} records: instance memory {mib:7.1} MiB ({rate:.0} records/s)"
                );
                first = Some((records, run.memory));
            }
            Some((base_records, base_memory)) => {
                let per_key = (run.memory - base_memory) as f64 / (records - base_records) as f64;
                println!(
                    "{records:>9} records: instance memory {mib:7.1} MiB, \
                     {per_key:5.1} bytes per further record ({per_key:.0} MB per million; \
                     {rate:.0} records/s)"
                );
            }
        }
    }
}
