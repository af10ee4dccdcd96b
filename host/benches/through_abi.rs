//! A module of `wasm/pkg` run through its C ABI in wasmtime, as
//! docs/abi.md asks of a host: wasmtime's default configuration (no epoch
//! interruption, no fuel), every import a trap, 256 KiB chunks copied into
//! guest memory, each result copied out; and the engine layer the module
//! wraps, natively, on the same bytes. Shared by the `abi` and `redcap`
//! benchmarks. Times are the thread's CPU time (`CLOCK_THREAD_CPUTIME_ID`):
//! on a shared VM, wall time also counts the time the hypervisor gave our
//! vCPU to someone else.

#![allow(dead_code, reason = "each benchmark uses part of this")]

use std::time::Duration;

use wasmtime::{Engine, Instance, Linker, Memory, Module, Store, TypedFunc};

/// Bytes fed at a time.
pub const CHUNK: usize = 256 * 1024;

/// `name N` from the command line (a positive number), or `default`.
pub fn count_arg(name: &str, default: usize) -> usize {
    let args: Vec<String> = std::env::args().collect();
    args.windows(2)
        .find(|w| w[0] == name)
        .and_then(|w| w[1].parse().ok())
        .filter(|&n| n > 0)
        .unwrap_or(default)
}

/// The engine layer natively: what the module's C ABI does per chunk
/// (issues rendered as Events JSON), for `protocol` with `options`. Not
/// inlined, so that a profiler can count it alone (docs/benchmarks.md).
#[inline(never)]
pub fn native_events(protocol: &str, options: &str, format: &str, bytes: &[u8]) -> Duration {
    use clinval_wasm::engine::{Engine, OptionsDoc};
    let options = OptionsDoc::from_json(options.as_bytes()).expect("options");
    let engine = Engine::new(protocol, options, None).expect("engine");
    let start = cpu_time();
    let mut batch = engine.batch(format).expect("batch");
    let mut out = Vec::new();
    for chunk in bytes.chunks(CHUNK) {
        out.clear();
        serde_json::to_writer(&mut out, &batch.feed(chunk).expect("valid input")).expect("json");
    }
    serde_json::to_writer(&mut out, &batch.finish().expect("valid input")).expect("json");
    cpu_time() - start
}

/// One run of the module over an input.
pub struct Run {
    /// CPU time from the first chunk to the summary.
    pub cpu: Duration,
    /// The summary.
    pub summary: serde_json::Value,
    /// The instance's linear memory at the end, in bytes: its peak, as
    /// wasm memory never shrinks.
    pub memory: usize,
}

/// The module, compiled once, run in a fresh instance per round.
pub struct Wasm {
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
    /// Compiles `bytes` (a module of `wasm/pkg`).
    pub fn new(bytes: &[u8]) -> Wasm {
        let engine = Engine::default();
        let module = Module::new(&engine, bytes).expect("compile the module");
        Wasm { engine, module }
    }

    /// Validates `bytes` (in `format`) against `protocol` with `options`
    /// through the C ABI. Not inlined, so that a profiler can count it
    /// alone (docs/benchmarks.md).
    #[inline(never)]
    pub fn run(&self, protocol: &str, options: &str, format: &str, bytes: &[u8]) -> Run {
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

        // The protocol, the options and the format, side by side.
        let setup = [protocol, options, format].concat();
        assert!(setup.len() <= CHUNK, "protocol too big for the buffer");
        put(&mut store, buffer, setup.as_bytes());
        let (p, o) = (protocol.len() as u32, options.len() as u32);
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
        Run {
            cpu: elapsed,
            summary: end["summary"].clone(),
            memory: x.memory.data_size(&store),
        }
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
pub fn cpu_time() -> Duration {
    let mut now = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: clock_gettime writes only the timespec it is given.
    let status = unsafe { libc::clock_gettime(libc::CLOCK_THREAD_CPUTIME_ID, &mut now) };
    assert_eq!(status, 0, "clock_gettime");
    Duration::new(now.tv_sec as u64, now.tv_nsec as u32)
}
