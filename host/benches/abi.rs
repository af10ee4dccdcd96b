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
//! The wasm side is what docs/abi.md asks of a host: wasmtime with its
//! default configuration (no epoch interruption, no fuel: the server adds
//! those for its CPU bound), every import a trap, 256 KiB chunks copied into
//! guest memory, each result copied out. The native side is the same
//! `clinval_wasm::engine` code producing the same Events JSON.

mod synth;

use std::time::Duration;

use wasmtime::{Engine, Instance, Linker, Memory, Module, Store, TypedFunc};

const CHUNK: usize = 256 * 1024;
const OPTIONS: &str = r#"{"asOf": "2025-06-30"}"#;

fn main() {
    let synth::Inputs { records, big, .. } = synth::inputs();
    let rounds = rounds_arg();
    let bytes = std::fs::read(&big).expect("read data file");
    let module_path = concat!(env!("CARGO_MANIFEST_DIR"), "/../wasm/pkg/clinval_bg.wasm");
    let module = std::fs::read(module_path)
        .expect("wasm/pkg/clinval_bg.wasm (cargo run -p clinval-wasm-pack)");
    let wasm = Wasm::new(&module);

    let mut ratios = Vec::new();
    let (mut best_native, mut best_wasm) = (Duration::MAX, Duration::MAX);
    for round in 1..=rounds {
        let native = native_events(&bytes);
        let (wasm_time, wasm_records) = wasm.run(&bytes);
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

/// The engine layer natively: what the module's C ABI does per chunk
/// (issues rendered as Events JSON). Not inlined, so that a profiler or
/// `valgrind --tool=callgrind --toggle-collect='abi::native_events'` can
/// count it alone (docs/benchmarks.md).
#[inline(never)]
fn native_events(bytes: &[u8]) -> Duration {
    use clinval_wasm::engine::{Engine, OptionsDoc};
    let options = OptionsDoc::from_json(OPTIONS.as_bytes()).expect("options");
    let engine = Engine::new("patient", options, None).expect("engine");
    let start = cpu_time();
    let mut batch = engine.batch("csv").expect("batch");
    let mut out = Vec::new();
    for chunk in bytes.chunks(CHUNK) {
        out.clear();
        serde_json::to_writer(&mut out, &batch.feed(chunk).expect("valid input")).expect("json");
    }
    serde_json::to_writer(&mut out, &batch.finish().expect("valid input")).expect("json");
    cpu_time() - start
}

/// The module, compiled once, run in a fresh instance per round.
struct Wasm {
    engine: Engine,
    module: Module,
}

/// The exports a batch needs.
struct Exports {
    memory: Memory,
    alloc: TypedFunc<u32, u32>,
    result_ptr: TypedFunc<(), u32>,
    result_len: TypedFunc<(), u32>,
    validator_new: TypedFunc<(u32, u32, u32, u32), i32>,
    batch_new: TypedFunc<(i32, u32, u32), i32>,
    batch_feed: TypedFunc<(i32, u32, u32), i32>,
    batch_finish: TypedFunc<i32, i32>,
}

impl Wasm {
    fn new(bytes: &[u8]) -> Wasm {
        let engine = Engine::default();
        let module = Module::new(&engine, bytes).expect("compile the module");
        Wasm { engine, module }
    }

    /// Validates `bytes` as CSV through the C ABI; returns the time from
    /// the first chunk to the summary, and the records the summary counts.
    /// Not inlined, for the same reason as `native_events`.
    #[inline(never)]
    fn run(&self, bytes: &[u8]) -> (Duration, u64) {
        let mut store = Store::new(&self.engine, ());
        let mut linker = Linker::new(&self.engine);
        linker
            .define_unknown_imports_as_traps(&self.module)
            .expect("stub imports");
        let instance = linker
            .instantiate(&mut store, &self.module)
            .expect("instantiate");
        let x = Exports::of(&instance, &mut store);
        let put = |store: &mut Store<()>, ptr: u32, data: &[u8]| {
            x.memory
                .write(&mut *store, ptr as usize, data)
                .expect("write guest memory");
        };
        let take = |store: &mut Store<()>| -> Vec<u8> {
            let ptr = x.result_ptr.call(&mut *store, ()).expect("result_ptr") as usize;
            let len = x.result_len.call(&mut *store, ()).expect("result_len") as usize;
            x.memory.data(&*store)[ptr..ptr + len].to_vec()
        };
        let buffer = x.alloc.call(&mut store, CHUNK as u32).expect("alloc");

        // The protocol's name, the options and the format, side by side.
        let (protocol, format) = ("patient", "csv");
        put(
            &mut store,
            buffer,
            [protocol, OPTIONS, format].concat().as_bytes(),
        );
        let (p, o) = (protocol.len() as u32, OPTIONS.len() as u32);
        let validator = x
            .validator_new
            .call(&mut store, (buffer, p, buffer + p, o))
            .expect("validator_new");
        assert!(
            validator > 0,
            "{}",
            String::from_utf8_lossy(&take(&mut store))
        );
        let batch = x
            .batch_new
            .call(&mut store, (validator, buffer + p + o, format.len() as u32))
            .expect("batch_new");
        assert!(batch > 0, "{}", String::from_utf8_lossy(&take(&mut store)));

        let start = cpu_time();
        for chunk in bytes.chunks(CHUNK) {
            put(&mut store, buffer, chunk);
            let status = x
                .batch_feed
                .call(&mut store, (batch, buffer, chunk.len() as u32))
                .expect("batch_feed");
            let events = take(&mut store);
            assert_eq!(status, 0, "{}", String::from_utf8_lossy(&events));
        }
        let status = x
            .batch_finish
            .call(&mut store, batch)
            .expect("batch_finish");
        let end = take(&mut store);
        let elapsed = cpu_time() - start;
        assert_eq!(status, 0, "{}", String::from_utf8_lossy(&end));
        let end: serde_json::Value = serde_json::from_slice(&end).expect("Events JSON");
        (elapsed, end["summary"]["records"].as_u64().unwrap_or(0))
    }
}

impl Exports {
    fn of(instance: &Instance, store: &mut Store<()>) -> Exports {
        let mut store = store;
        macro_rules! func {
            ($name:literal) => {
                instance
                    .get_typed_func(&mut store, $name)
                    .expect(concat!("export ", $name))
            };
        }
        Exports {
            memory: instance
                .get_memory(&mut store, "memory")
                .expect("export memory"),
            alloc: func!("clinval_alloc"),
            result_ptr: func!("clinval_result_ptr"),
            result_len: func!("clinval_result_len"),
            validator_new: func!("clinval_validator_new"),
            batch_new: func!("clinval_batch_new"),
            batch_feed: func!("clinval_batch_feed"),
            batch_finish: func!("clinval_batch_finish"),
        }
    }
}

/// CPU time this thread has used.
fn cpu_time() -> Duration {
    let mut now = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: clock_gettime writes only the timespec it is given.
    let status = unsafe { libc::clock_gettime(libc::CLOCK_THREAD_CPUTIME_ID, &mut now) };
    assert_eq!(status, 0, "clock_gettime");
    Duration::new(now.tv_sec as u64, now.tv_nsec as u32)
}

/// `--rounds R` (default 7).
fn rounds_arg() -> usize {
    let args: Vec<String> = std::env::args().collect();
    args.windows(2)
        .find(|w| w[0] == "--rounds")
        .and_then(|w| w[1].parse().ok())
        .filter(|&r| r > 0)
        .unwrap_or(7)
}
