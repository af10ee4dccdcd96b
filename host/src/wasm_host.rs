//! Running clinval's modules in wasmtime, through their C ABI (docs/abi.md).
//!
//! As wasmtime's own examples do: one [`Engine`], each module compiled once
//! (and the compiled artifact cached on disk, keyed by the engine's
//! compatibility hash and the module's sha256, so restarts are fast), an
//! [`InstancePre`] from which instances start cheaply, and limits per
//! [`Store`]: a memory cap and a CPU bound per call (epoch interruption).
//! The pooling allocator keeps instance memory pre-reserved. A [`Client`]
//! whose call trapped must be dropped: its store is not reused.
//!
//! There are two builds of the module ([`Build`]): the compact
//! `clinval_bg.wasm` that pages load, and `clinval_full_bg.wasm` for the
//! protocols that need what the compact one leaves out. A protocol runs in
//! the compact module when it can ([`WasmHost::validator`]), so the host
//! runs the very bytes a browser runs for it.

use std::hash::{Hash, Hasher};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::Duration;

use anyhow::{Context, Result, anyhow, bail};
use clinval_core::Format;
use sha2::{Digest, Sha256};
use wasmtime::{
    Config, Engine, InstanceAllocationStrategy, InstancePre, Linker, Memory, Module, OptLevel,
    PoolingAllocationConfig, ResourceLimiter, Store, StoreLimits, StoreLimitsBuilder, TypedFunc,
    WasmParams, WasmResults,
};

/// A build of the module; the full one can run whatever the compact one can
/// (so it orders after it).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Build {
    /// `clinval_bg.wasm`: what pages load.
    Compact,
    /// `clinval_full_bg.wasm`: also the regex engine, strptime formats,
    /// geo and JSON compound types.
    Full,
}

impl Build {
    /// Both, compact first (the one a protocol is tried in first).
    pub const ALL: [Build; 2] = [Build::Compact, Build::Full];

    /// The build an input of `format` is first tried in: workbooks are read
    /// by the full one only.
    pub fn reading(format: Format) -> Build {
        match format {
            Format::Workbook => Build::Full,
            Format::Csv | Format::Json | Format::Ndjson => Build::Compact,
        }
    }

    /// Its file in `wasm/pkg`.
    pub fn file(self) -> &'static str {
        match self {
            Build::Compact => "clinval_bg.wasm",
            Build::Full => "clinval_full_bg.wasm",
        }
    }
}

/// The modules built by `cargo run -p clinval-wasm-pack`, when they existed
/// at build time (see build.rs): compact, full.
#[cfg(embedded_module)]
const EMBEDDED: [&[u8]; 2] = [
    include_bytes!(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../wasm/pkg/clinval_bg.wasm"
    )),
    include_bytes!(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../wasm/pkg/clinval_full_bg.wasm"
    )),
];

/// The bytes of the modules a host runs.
#[derive(Clone)]
pub struct ModuleBytes {
    compact: Vec<u8>,
    full: Option<Vec<u8>>,
}

impl ModuleBytes {
    /// The modules at `compact` and `full`, or those built into this
    /// binary. The compact module is required; without a full one, the
    /// protocols that need it are refused.
    pub fn load(compact: Option<&Path>, full: Option<&Path>) -> Result<ModuleBytes> {
        let read = |path: &Path| {
            std::fs::read(path).with_context(|| format!("cannot read module {}", path.display()))
        };
        #[cfg(embedded_module)]
        let embedded = |build: Build| Some(EMBEDDED[build as usize].to_vec());
        #[cfg(not(embedded_module))]
        let embedded = |_: Build| None::<Vec<u8>>;
        let compact = match compact {
            Some(path) => read(path)?,
            None => embedded(Build::Compact).context(
                "this binary was built without wasm/pkg; pass --module wasm/pkg/clinval_bg.wasm",
            )?,
        };
        let full = match full {
            Some(path) => Some(read(path)?),
            None => embedded(Build::Full),
        };
        Ok(ModuleBytes { compact, full })
    }

    /// One build's bytes, if there are any.
    pub fn get(&self, build: Build) -> Option<&[u8]> {
        match build {
            Build::Compact => Some(&self.compact),
            Build::Full => self.full.as_deref(),
        }
    }
}

/// The C ABI version this host speaks.
const ABI_VERSION: u32 = 1;
/// How often the epoch advances (the CPU bound's unit).
const EPOCH_TICK: Duration = Duration::from_millis(10);

/// Limits of each instance.
#[derive(Debug, Clone)]
pub struct Limits {
    /// Instances that may exist at once (the pool's size).
    pub instances: u32,
    /// Linear memory of one instance, in bytes.
    pub memory_bytes: usize,
    /// CPU time one call may take before it is interrupted.
    pub call_timeout: Duration,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            instances: 4,
            memory_bytes: 512 << 20,
            call_timeout: Duration::from_secs(10),
        }
    }
}

/// The compiled modules, ready to instantiate.
pub struct WasmHost {
    engine: Engine,
    /// Per [`Build`] (by index): the module, if the host has it.
    modules: [Option<Loaded>; 2],
    limits: Limits,
    ticking: Arc<AtomicBool>,
}

/// One compiled module.
struct Loaded {
    pre: InstancePre<MemoryCap>,
    sha256: String,
}

impl Drop for WasmHost {
    fn drop(&mut self) {
        self.ticking.store(false, Ordering::Relaxed);
    }
}

impl WasmHost {
    /// Compiles (or loads from `cache_dir`) the modules. `limits.instances`
    /// bounds the instances of each.
    pub fn new(bytes: &ModuleBytes, cache_dir: Option<&Path>, limits: Limits) -> Result<WasmHost> {
        let instances = limits.instances * 2;
        let mut pooling = PoolingAllocationConfig::new();
        pooling
            .total_core_instances(instances)
            // A store may also take a GC heap from the pool (binaryen's
            // output needs wasmtime's GC support to parse, though clinval
            // never allocates GC objects).
            .total_memories(instances * 2)
            .total_tables(instances * 2)
            .max_tables_per_module(2)
            .max_memory_size(limits.memory_bytes);
        let mut config = Config::new();
        config
            .cranelift_opt_level(OptLevel::Speed)
            .epoch_interruption(true)
            .allocation_strategy(InstanceAllocationStrategy::Pooling(pooling));
        let engine = Engine::new(&config)
            .map_err(anyhow::Error::from)
            .context("wasmtime engine")?;
        let mut modules = [None, None];
        for build in Build::ALL {
            let Some(bytes) = bytes.get(build) else {
                continue;
            };
            let sha256 = hex(&Sha256::digest(bytes));
            let module =
                load_module(&engine, bytes, &sha256, cache_dir).with_context(|| build.file())?;
            let mut linker = Linker::new(&engine);
            // The modules import nothing (docs/abi.md); a test module may.
            linker.define_unknown_imports_as_traps(&module)?;
            let pre = linker.instantiate_pre(&module)?;
            modules[build as usize] = Some(Loaded { pre, sha256 });
        }

        let ticking = Arc::new(AtomicBool::new(true));
        let (ticker, running) = (engine.clone(), Arc::clone(&ticking));
        std::thread::Builder::new()
            .name("clinval-epoch".into())
            .spawn(move || {
                while running.load(Ordering::Relaxed) {
                    std::thread::sleep(EPOCH_TICK);
                    ticker.increment_epoch();
                }
            })
            .context("epoch thread")?;
        Ok(WasmHost {
            engine,
            modules,
            limits,
            ticking,
        })
    }

    /// One build's sha256 (hex), if the host has it.
    pub fn sha256(&self, build: Build) -> Option<&str> {
        self.modules[build as usize]
            .as_ref()
            .map(|m| m.sha256.as_str())
    }

    /// A fresh instance of `build`.
    pub fn client(&self, build: Build) -> Result<Client> {
        let loaded = self.modules[build as usize]
            .as_ref()
            .with_context(|| format!("this host has no {}", build.file()))?;
        let cap = MemoryCap {
            limits: StoreLimitsBuilder::new()
                .memory_size(self.limits.memory_bytes)
                .trap_on_grow_failure(false)
                .build(),
            bytes: self.limits.memory_bytes,
            refused: false,
        };
        let mut store = Store::new(&self.engine, cap);
        store.limiter(|cap| cap);
        let ticks = ticks(self.limits.call_timeout);
        let instance = loaded.pre.instantiate(&mut store)?;
        let memory = instance
            .get_memory(&mut store, "memory")
            .ok_or_else(|| anyhow!("the module exports no memory"))?;
        macro_rules! func {
            ($name:literal) => {
                instance
                    .get_typed_func(&mut store, $name)
                    .map_err(anyhow::Error::from)
                    .with_context(|| format!("the module lacks {}", $name))?
            };
        }
        let mut client = Client {
            build,
            ticks,
            default_ticks: ticks,
            memory,
            abi_version: func!("clinval_abi_version"),
            alloc: func!("clinval_alloc"),
            free: func!("clinval_free"),
            result_ptr: func!("clinval_result_ptr"),
            result_len: func!("clinval_result_len"),
            validator_new: func!("clinval_validator_new"),
            validator_free: func!("clinval_validator_free"),
            check_record: func!("clinval_check_record"),
            info: func!("clinval_info"),
            batch_new: func!("clinval_batch_new"),
            batch_feed: func!("clinval_batch_feed"),
            batch_finish: func!("clinval_batch_finish"),
            store,
            chunk: None,
        };
        let version = client.call(client.abi_version.clone(), ())?;
        if version != ABI_VERSION {
            bail!("the module speaks C ABI {version}; this host speaks {ABI_VERSION}");
        }
        Ok(client)
    }

    /// Which build runs `protocol` on inputs of `format`: the compact one
    /// unless the input is a workbook or the compact one refuses the
    /// protocol as needing the full one (and the host has that). Returns a
    /// fresh instance of it with the protocol's validator, and the
    /// validator's description.
    pub fn validator(
        &self,
        protocol: &str,
        options: &serde_json::Value,
        format: Format,
    ) -> Result<(Client, i32, Vec<u8>), CallError> {
        let first = Build::reading(format);
        let mut client = self.client(first)?;
        match client.validator(protocol, options) {
            Ok((handle, info)) => Ok((client, handle, info)),
            Err(error)
                if first == Build::Compact
                    && error.needs_full_module()
                    && self.sha256(Build::Full).is_some() =>
            {
                let mut client = self.client(Build::Full)?;
                let (handle, info) = client.validator(protocol, options)?;
                Ok((client, handle, info))
            }
            Err(error) => Err(error),
        }
    }
}

/// A duration in epoch ticks (at least one).
fn ticks(timeout: Duration) -> u64 {
    u64::try_from(timeout.as_millis() / EPOCH_TICK.as_millis())
        .unwrap_or(u64::MAX)
        .max(1)
}

/// Loads the compiled module from the cache, or compiles and caches it.
fn load_module(
    engine: &Engine,
    bytes: &[u8],
    sha256: &str,
    cache_dir: Option<&Path>,
) -> Result<Module> {
    let Some(dir) = cache_dir else {
        return Module::new(engine, bytes)
            .map_err(anyhow::Error::from)
            .context("compiling the module");
    };
    let mut hasher = std::collections::hash_map::DefaultHasher::new();
    engine.precompile_compatibility_hash().hash(&mut hasher);
    let path: PathBuf = dir.join(format!("clinval-{sha256}-{:016x}.cwasm", hasher.finish()));
    if path.exists() {
        // SAFETY: the file was written by `Module::serialize` of this same
        // module (the sha256 in its name) for an engine with this same
        // compatibility hash; wasmtime checks the header as well.
        match unsafe { Module::deserialize_file(engine, &path) } {
            Ok(module) => return Ok(module),
            Err(_) => {
                let _ = std::fs::remove_file(&path); // stale or damaged: rebuild
            }
        }
    }
    let module = Module::new(engine, bytes)
        .map_err(anyhow::Error::from)
        .context("compiling the module")?;
    std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
    // A name of its own for each write: hosts made at once in one process
    // (or several processes) each write theirs, then rename it into place.
    static WRITES: AtomicU64 = AtomicU64::new(0);
    let write = WRITES.fetch_add(1, Ordering::Relaxed);
    let tmp = path.with_extension(format!("tmp{}-{write}", std::process::id()));
    std::fs::write(&tmp, module.serialize()?)
        .with_context(|| format!("writing {}", tmp.display()))?;
    std::fs::rename(&tmp, &path).with_context(|| format!("writing {}", path.display()))?;
    Ok(module)
}

/// Lowercase hex.
pub fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// What the module's batch calls return (docs/abi.md, Events).
#[derive(serde::Deserialize)]
pub struct Events<'a> {
    /// Error-log objects, in row order.
    #[serde(borrow)]
    pub issues: Vec<&'a serde_json::value::RawValue>,
    /// Cleaned valid records (with `includeValid`).
    #[serde(borrow)]
    pub records: Vec<&'a serde_json::value::RawValue>,
    /// Set by `clinval_batch_finish`.
    pub summary: Option<clinval_core::Summary>,
}

/// Why a call did not give a result.
#[derive(Debug, thiserror::Error)]
pub enum CallError {
    /// The module answered with an error result (`{"error": ...}`).
    #[error("{code}: {message}")]
    Refused {
        /// Negative status.
        status: i32,
        /// `argument`, `protocol`, `needs_full_module` or `input`.
        code: String,
        /// For people.
        message: String,
        /// An input error's kind (`record_too_large`, `too_many_cells`, ...).
        kind: Option<String>,
    },
    /// The call trapped or ran out of time; drop this client.
    #[error("the module failed: {0}")]
    Trap(#[from] anyhow::Error),
    /// The host could not keep what the module returned (a batch report
    /// could not be written, e.g. the disk is full). Not the module's
    /// failure: it is not counted as one, and the instance is sound.
    #[error("cannot write the report: {0}")]
    Report(std::io::Error),
}

impl CallError {
    /// A short name of the failure, for records and logs (never data):
    /// the module's error code, `engine_failed` or `report_failed`.
    pub fn name(&self) -> &str {
        match self {
            CallError::Refused { code, .. } => code,
            CallError::Trap(_) => "engine_failed",
            CallError::Report(_) => "report_failed",
        }
    }

    /// The compact module refused a protocol only the full one runs.
    pub fn needs_full_module(&self) -> bool {
        matches!(self, CallError::Refused { code, .. } if code == "needs_full_module")
    }

    /// The instance's memory limit, if the call trapped after its memory
    /// could not grow (an input that needs more memory than an instance
    /// has, not a bug in the module).
    pub fn out_of_memory(&self) -> Option<usize> {
        match self {
            CallError::Trap(error) => error.downcast_ref::<OutOfMemory>().map(|o| o.bytes),
            CallError::Refused { .. } | CallError::Report(_) => None,
        }
    }

    /// A trap that is neither the CPU bound nor the memory limit: where
    /// the module reads a workbook, calamine's xls parser panicking on a
    /// damaged file (vendor/calamine/PATCHES.md); anywhere else, a bug.
    pub fn is_reader_failure(&self) -> bool {
        matches!(self, CallError::Trap(_)) && !self.is_timeout() && self.out_of_memory().is_none()
    }

    /// The call was interrupted at its CPU bound (not a bug in the module).
    pub fn is_timeout(&self) -> bool {
        match self {
            CallError::Trap(error) => {
                error.downcast_ref::<wasmtime::Trap>() == Some(&wasmtime::Trap::Interrupt)
            }
            CallError::Refused { .. } | CallError::Report(_) => false,
        }
    }
}

/// A store's memory limit (wasmtime's [`StoreLimits`]) that remembers
/// whether it refused a growth during the current call, so that a trap
/// after it can be told apart from a bug.
struct MemoryCap {
    limits: StoreLimits,
    /// The limit, for messages.
    bytes: usize,
    refused: bool,
}

impl ResourceLimiter for MemoryCap {
    fn memory_growing(
        &mut self,
        current: usize,
        desired: usize,
        maximum: Option<usize>,
    ) -> wasmtime::Result<bool> {
        let allowed = self.limits.memory_growing(current, desired, maximum)?;
        self.refused |= !allowed;
        Ok(allowed)
    }

    fn table_growing(
        &mut self,
        current: usize,
        desired: usize,
        maximum: Option<usize>,
    ) -> wasmtime::Result<bool> {
        self.limits.table_growing(current, desired, maximum)
    }
}

/// A call trapped after the instance's memory (`bytes`) was full.
#[derive(Debug, thiserror::Error)]
#[error("the instance's memory ({bytes} bytes) is full")]
struct OutOfMemory {
    bytes: usize,
}

/// One instance and its store, speaking the C ABI.
pub struct Client {
    /// The module it is an instance of.
    pub build: Build,
    store: Store<MemoryCap>,
    /// The CPU bound of each call, in epoch ticks.
    ticks: u64,
    /// The host's bound, restored by `set_call_timeout(None)`.
    default_ticks: u64,
    memory: Memory,
    abi_version: TypedFunc<(), u32>,
    alloc: TypedFunc<u32, u32>,
    free: TypedFunc<(u32, u32), ()>,
    result_ptr: TypedFunc<(), u32>,
    result_len: TypedFunc<(), u32>,
    validator_new: TypedFunc<(u32, u32, u32, u32), i32>,
    validator_free: TypedFunc<i32, i32>,
    check_record: TypedFunc<(i32, u32, u32), i32>,
    info: TypedFunc<(), i32>,
    batch_new: TypedFunc<(i32, u32, u32), i32>,
    batch_feed: TypedFunc<(i32, u32, u32), i32>,
    batch_finish: TypedFunc<i32, i32>,
    /// A reusable input buffer in guest memory: (address, capacity).
    chunk: Option<(u32, u32)>,
}

#[derive(serde::Deserialize)]
struct ErrorBody {
    error: ErrorDetail,
}

#[derive(serde::Deserialize)]
struct ErrorDetail {
    code: String,
    message: String,
    #[serde(default)]
    kind: Option<String>,
}

impl Client {
    /// Bounds each following call by `timeout` of CPU time, or by the
    /// host's bound again with `None`.
    pub fn set_call_timeout(&mut self, timeout: Option<Duration>) {
        self.ticks = timeout.map_or(self.default_ticks, ticks);
    }

    /// Runs one export with a fresh CPU budget.
    fn call<P: WasmParams, R: WasmResults>(
        &mut self,
        func: TypedFunc<P, R>,
        params: P,
    ) -> Result<R> {
        self.store.set_epoch_deadline(self.ticks);
        self.store.data_mut().refused = false;
        func.call(&mut self.store, params).map_err(|error| {
            let cap = self.store.data();
            if cap.refused {
                // Most likely the trap of an allocation that failed.
                anyhow::Error::from(OutOfMemory { bytes: cap.bytes }).context(error)
            } else {
                anyhow::Error::from(error)
            }
        })
    }

    /// Copies `bytes` into the reusable guest buffer; returns its address.
    fn put(&mut self, bytes: &[u8]) -> Result<u32> {
        let len = u32::try_from(bytes.len()).context("input larger than 4 GiB")?;
        let fits = matches!(self.chunk, Some((_, cap)) if cap >= len);
        if !fits {
            if let Some((ptr, cap)) = self.chunk.take() {
                self.call(self.free.clone(), (ptr, cap))?;
            }
            let cap = len.max(64 * 1024);
            let ptr = self.call(self.alloc.clone(), cap)?;
            if ptr == 0 {
                bail!("the module is out of memory");
            }
            self.chunk = Some((ptr, cap));
        }
        let (ptr, _) = self.chunk.context("no buffer")?;
        self.memory
            .write(&mut self.store, ptr as usize, bytes)
            .map_err(|e| anyhow!("writing guest memory: {e}"))?;
        Ok(ptr)
    }

    /// The result of the last call, or its error.
    fn result(&mut self, status: i32) -> Result<Vec<u8>, CallError> {
        let ptr = self.call(self.result_ptr.clone(), ())? as usize;
        let len = self.call(self.result_len.clone(), ())? as usize;
        let data = self.memory.data(&self.store);
        let bytes = data
            .get(ptr..ptr + len)
            .ok_or_else(|| anyhow!("result outside memory"))?
            .to_vec();
        if status >= 0 {
            return Ok(bytes);
        }
        let body: ErrorBody =
            serde_json::from_slice(&bytes).map_err(|e| anyhow!("unreadable error result: {e}"))?;
        Err(CallError::Refused {
            status,
            code: body.error.code,
            message: body.error.message,
            kind: body.error.kind,
        })
    }

    /// Creates a validator; returns its handle and the protocol JSON.
    pub fn validator(
        &mut self,
        protocol: &str,
        options: &serde_json::Value,
    ) -> Result<(i32, Vec<u8>), CallError> {
        let options = options.to_string();
        let joined = [protocol.as_bytes(), options.as_bytes()].concat();
        let ptr = self.put(&joined)?;
        let (plen, olen) = (protocol.len() as u32, options.len() as u32);
        let status = self.call(self.validator_new.clone(), (ptr, plen, ptr + plen, olen))?;
        let body = self.result(status)?;
        Ok((status, body))
    }

    /// Frees a validator.
    pub fn free_validator(&mut self, validator: i32) -> Result<(), CallError> {
        let status = self.call(self.validator_free.clone(), validator)?;
        self.result(status).map(drop)
    }

    /// The module's facts (`clinval_info`): engine version, ABI, protocols.
    pub fn info(&mut self) -> Result<Vec<u8>, CallError> {
        let status = self.call(self.info.clone(), ())?;
        self.result(status)
    }

    /// Checks one record (a JSON object); returns the RecordVerdict JSON.
    pub fn check_record(&mut self, validator: i32, object: &[u8]) -> Result<Vec<u8>, CallError> {
        let ptr = self.put(object)?;
        let len = u32::try_from(object.len()).map_err(anyhow::Error::from)?;
        let status = self.call(self.check_record.clone(), (validator, ptr, len))?;
        self.result(status)
    }

    /// Starts a batch of `format`; returns its handle.
    pub fn batch(&mut self, validator: i32, format: &str) -> Result<i32, CallError> {
        let ptr = self.put(format.as_bytes())?;
        let len = format.len() as u32;
        let status = self.call(self.batch_new.clone(), (validator, ptr, len))?;
        self.result(status)?;
        Ok(status)
    }

    /// Feeds a chunk; returns the Events JSON.
    pub fn feed(&mut self, batch: i32, chunk: &[u8]) -> Result<Vec<u8>, CallError> {
        let ptr = self.put(chunk)?;
        let len = chunk.len() as u32;
        let status = self.call(self.batch_feed.clone(), (batch, ptr, len))?;
        self.result(status)
    }

    /// Finishes a batch; returns the last Events JSON (with the summary).
    pub fn finish(&mut self, batch: i32) -> Result<Vec<u8>, CallError> {
        let status = self.call(self.batch_finish.clone(), batch)?;
        self.result(status)
    }
}

/// `$XDG_CACHE_HOME/clinval`, else `~/.cache/clinval`.
pub fn default_cache_dir() -> Option<PathBuf> {
    std::env::var_os("XDG_CACHE_HOME")
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|home| PathBuf::from(home).join(".cache")))
        .map(|dir| dir.join("clinval"))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A module that misbehaves (see the file).
    const RUNAWAY: &str = include_str!("../tests/fixtures/runaway.wat");

    fn compact_only(compact: Vec<u8>) -> ModuleBytes {
        ModuleBytes {
            compact,
            full: None,
        }
    }

    fn runaway_host(timeout: Duration) -> WasmHost {
        let bytes = wat::parse_str(RUNAWAY).unwrap();
        let limits = Limits {
            instances: 2,
            memory_bytes: 1 << 20,
            call_timeout: timeout,
        };
        WasmHost::new(&compact_only(bytes), None, limits).unwrap()
    }

    #[test]
    fn a_call_that_runs_past_its_cpu_bound_is_interrupted() {
        let host = runaway_host(Duration::from_millis(100));
        let mut client = host.client(Build::Compact).unwrap();
        let (validator, _) = client.validator("patient", &serde_json::json!({})).unwrap();
        let batch = client.batch(validator, "csv").unwrap();
        let started = std::time::Instant::now();
        let error = client.feed(batch, b"id\n").unwrap_err();
        assert!(error.is_timeout(), "{error}");
        assert!(
            started.elapsed() < Duration::from_secs(30),
            "interrupted, not hung"
        );
    }

    #[test]
    fn a_trap_is_an_error_and_a_fresh_client_works() {
        let host = runaway_host(Duration::from_secs(5));
        let mut client = host.client(Build::Compact).unwrap();
        let error = client.finish(1).unwrap_err();
        assert!(matches!(error, CallError::Trap(_)) && !error.is_timeout());
        drop(client);
        let mut fresh = host.client(Build::Compact).unwrap();
        assert!(fresh.validator("patient", &serde_json::json!({})).is_ok());
    }

    #[test]
    fn hosts_made_at_once_share_an_empty_cache() {
        let bytes = compact_only(wat::parse_str(RUNAWAY).unwrap());
        // A race: several rounds, so that a shared temporary file would
        // show most times.
        for _ in 0..5 {
            let dir = tempfile::tempdir().unwrap();
            std::thread::scope(|scope| {
                let hosts: Vec<_> = (0..8)
                    .map(|_| {
                        scope.spawn(|| WasmHost::new(&bytes, Some(dir.path()), Limits::default()))
                    })
                    .collect();
                for host in hosts {
                    assert!(host.join().unwrap().is_ok());
                }
            });
            let cached: Vec<_> = std::fs::read_dir(dir.path()).unwrap().collect();
            assert_eq!(
                cached.len(),
                1,
                "one compiled module, no temporary file left"
            );
        }
    }

    #[test]
    fn the_compiled_module_is_cached_by_engine_and_module_hash() {
        let dir = tempfile::tempdir().unwrap();
        let bytes = wat::parse_str(RUNAWAY).unwrap();
        let bytes = compact_only(bytes);
        let first = WasmHost::new(&bytes, Some(dir.path()), Limits::default()).unwrap();
        let cached: Vec<_> = std::fs::read_dir(dir.path()).unwrap().collect();
        assert_eq!(cached.len(), 1);
        let name = cached[0]
            .as_ref()
            .unwrap()
            .file_name()
            .into_string()
            .unwrap();
        assert!(
            name.starts_with(&format!(
                "clinval-{}-",
                first.sha256(Build::Compact).unwrap()
            )) && name.ends_with(".cwasm")
        );
        // A second host loads it from the cache and works.
        let second = WasmHost::new(&bytes, Some(dir.path()), Limits::default()).unwrap();
        assert!(second.client(Build::Compact).is_ok());
        assert!(
            second.client(Build::Full).is_err(),
            "no full module was given"
        );
    }
}
