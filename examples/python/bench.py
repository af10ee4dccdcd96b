"""Throughput of clinval_bg.wasm through the C ABI in wasmtime (Cranelift).

    python examples/python/bench.py wasm/pkg/clinval_bg.wasm target/bench-data/patients-1000000.csv

(`cargo bench -p clinval-host --bench validate` writes that file;
`cargo bench -p clinval-host --bench abi` compares the module in wasmtime
with the same engine natively, docs/benchmarks.md.)
Feeds 256 KiB chunks and copies each result out of guest memory, as a host
must; parsing the results' JSON in Python is timed separately, since that
is the host language's cost, not the module's.
"""

import json
import os
import sys
import time

from clinval_host import Clinval

CHUNK = 256 * 1024


def run(clinval, path, parse):
    with clinval.validator("patient", {"asOf": "2025-06-30"}) as v:
        c = clinval
        with c._bytes(b"csv") as (f, fl):
            batch, _ = c._call("clinval_batch_new", v._handle, f, fl)
        buf = c._raw("clinval_alloc", CHUNK)
        issues = 0
        start = time.perf_counter()
        with open(path, "rb") as stream:
            while data := stream.read(CHUNK):
                c._memory.write(c._store, data, buf)
                status = c._raw("clinval_batch_feed", batch, buf, len(data))
                assert status == 0, status
                ptr, n = c._raw("clinval_result_ptr"), c._raw("clinval_result_len")
                result = c._memory.read(c._store, ptr, ptr + n)
                if parse:
                    issues += len(json.loads(result)["issues"])
        _, end = c._call("clinval_batch_finish", batch)
        elapsed = time.perf_counter() - start
        c._raw("clinval_free", buf, CHUNK)
        return elapsed, end["summary"]["records"]


def main():
    wasm, path = sys.argv[1], sys.argv[2]
    size = os.path.getsize(path)
    t0 = time.perf_counter()
    clinval = Clinval(wasm)
    print(f"compile + instantiate: {(time.perf_counter() - t0) * 1000:.0f} ms")
    for parse in (False, True):
        best = min(run(clinval, path, parse) for _ in range(3))
        elapsed, records = best
        what = "module, results copied out" if not parse else "module + Python json.loads of results"
        print(f"{what}: {elapsed:.3f} s, {records / elapsed:,.0f} records/s, {size / 1e6 / elapsed:.1f} MB/s (best of 3)")


if __name__ == "__main__":
    main()
