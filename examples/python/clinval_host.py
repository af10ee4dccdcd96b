"""A partner host for clinval_bg.wasm through its C ABI, written from docs/abi.md.

Uses only the `wasmtime` package from PyPI. As a library:

    with Clinval("wasm/pkg/clinval_bg.wasm") as clinval:
        with clinval.validator("patient", {"asOf": "2025-06-30"}) as v:
            v.check_field("age", "17")["issue"]["code"]       # 'out_of_range'
            report = v.validate_file("patients.csv", "csv")

As a command (error log as JSON Lines on stdout, summary on stderr; exit
0 all valid, 1 some invalid, 2 unusable input):

    python clinval_host.py --wasm wasm/pkg/clinval_bg.wasm --as-of 2025-06-30 patients.csv
"""

import argparse
import json
import sys
from contextlib import contextmanager

import wasmtime

ABI_VERSION = 1
CHUNK = 256 * 1024


class ClinvalError(Exception):
    """An error result: `status` (negative), `code` and `message`."""

    def __init__(self, status, code, message):
        super().__init__(f"{code}: {message}")
        self.status, self.code, self.message = status, code, message


class Clinval:
    """One instance of the module (single-threaded; one per thread)."""

    def __init__(self, wasm_path):
        engine = wasmtime.Engine()
        module = wasmtime.Module.from_file(engine, wasm_path)
        self._store = wasmtime.Store(engine)
        linker = wasmtime.Linker(engine)
        # The module imports nothing (docs/abi.md); should a later release
        # add an import, it would be one this host need not call: a trap.
        linker.define_unknown_imports_as_traps(module)
        exports = linker.instantiate(self._store, module).exports(self._store)
        self._memory = exports["memory"]
        self._fn = {name: exports[name] for name in (
            "clinval_abi_version", "clinval_alloc", "clinval_free", "clinval_result_ptr",
            "clinval_result_len", "clinval_info", "clinval_validator_new", "clinval_validator_free",
            "clinval_check_field", "clinval_check_record", "clinval_batch_new", "clinval_batch_feed",
            "clinval_batch_finish", "clinval_batch_free", "clinval_keys_new")}
        version = self._raw("clinval_abi_version")
        if version != ABI_VERSION:
            raise RuntimeError(f"clinval ABI {version}; this host speaks {ABI_VERSION}")

    def __enter__(self):
        return self

    def __exit__(self, *_):
        return False

    def _raw(self, name, *args):
        return self._fn[name](self._store, *args)

    def _call(self, name, *args):
        """Calls an export; returns (status, parsed result) or raises ClinvalError."""
        status = self._raw(name, *args)
        ptr, length = self._raw("clinval_result_ptr"), self._raw("clinval_result_len")
        result = json.loads(self._memory.read(self._store, ptr, ptr + length))
        if status < 0:
            error = result["error"]
            raise ClinvalError(status, error["code"], error["message"])
        return status, result

    @contextmanager
    def _bytes(self, data):
        """`data` copied into module memory for the duration of a call: (ptr, len)."""
        size = max(len(data), 1)
        ptr = self._raw("clinval_alloc", size)
        if ptr == 0:
            raise MemoryError("clinval_alloc failed")
        try:
            self._memory.write(self._store, data, ptr)
            yield ptr, len(data)
        finally:
            self._raw("clinval_free", ptr, size)

    def info(self):
        return self._call("clinval_info")[1]

    def validator(self, protocol, options):
        """`protocol` is a built-in name or a protocol JSON document."""
        with self._bytes(protocol.encode()) as (p, pl), self._bytes(json.dumps(options).encode()) as (o, ol):
            handle, info = self._call("clinval_validator_new", p, pl, o, ol)
        return Validator(self, handle, info)


class Validator:
    def __init__(self, clinval, handle, protocol):
        self._c, self._handle, self.protocol = clinval, handle, protocol

    def __enter__(self):
        return self

    def __exit__(self, *_):
        self.close()
        return False

    def close(self):
        if self._handle:
            self._c._call("clinval_validator_free", self._handle)
            self._handle = 0

    def check_field(self, name, value):
        with self._c._bytes(name.encode()) as (n, nl), self._c._bytes(json.dumps(value).encode()) as (v, vl):
            return self._c._call("clinval_check_field", self._handle, n, nl, v, vl)[1]

    def check_record(self, record):
        with self._c._bytes(json.dumps(record).encode()) as (r, rl):
            return self._c._call("clinval_check_record", self._handle, r, rl)[1]

    def validate_stream(self, stream, fmt, chunk=CHUNK):
        """Yields Events per chunk of a binary stream; the last carries the summary."""
        with self._c._bytes(fmt.encode()) as (f, fl):
            batch, _ = self._c._call("clinval_batch_new", self._handle, f, fl)
        return self._feed(batch, stream, chunk)

    def read_keys(self, foreign_key, source, stream, fmt, chunk=CHUNK):
        """Reads a table of `source`'s protocol for the keys foreign key
        `foreign_key` refers to, and gives them to it; returns how many."""
        with self._c._bytes(fmt.encode()) as (f, fl):
            batch, _ = self._c._call("clinval_keys_new", self._handle, foreign_key, source._handle, f, fl)
        events = list(self._feed(batch, stream, chunk))
        return events[-1]["keys"]

    def _feed(self, batch, stream, chunk):
        """Feeds `stream` to `batch` in chunks, yielding each result."""
        size = chunk
        buf = self._c._raw("clinval_alloc", size)
        try:
            while True:
                data = stream.read(size)
                if not data:
                    break
                self._c._memory.write(self._c._store, data, buf)
                try:
                    yield self._c._call("clinval_batch_feed", batch, buf, len(data))[1]
                except ClinvalError:
                    self._c._raw("clinval_batch_free", batch)
                    raise
            yield self._c._call("clinval_batch_finish", batch)[1]
        finally:
            self._c._raw("clinval_free", buf, size)

    def validate_file(self, path, fmt, chunk=CHUNK):
        """The whole report: summary, issues, records (with includeValid),
        warnings. A foreign key to the file's own table gets its keys from a
        first reading of the file."""
        for k, key in enumerate(self.protocol.get("foreignKeys", [])):
            if key["resource"] is None:
                with open(path, "rb") as stream:
                    self.read_keys(k, self, stream, fmt, chunk)
        report = {"summary": None, "issues": [], "records": [], "warnings": []}
        with open(path, "rb") as stream:
            for events in self.validate_stream(stream, fmt, chunk):
                report["issues"] += events["issues"]
                report["records"] += events["records"]
                report["warnings"] += events["warnings"]
                report["summary"] = events["summary"] or report["summary"]
        return report


def _format_of(path):
    ext = path.rsplit(".", 1)[-1].lower()
    workbooks = {ext: "workbook" for ext in ("xlsx", "xlsm", "xlsb", "xls", "ods")}
    return {"csv": "csv", "json": "json", "ndjson": "ndjson", "jsonl": "ndjson", **workbooks}.get(ext)


def main(argv=None):
    parser = argparse.ArgumentParser(description="Validate a file with clinval_bg.wasm through its C ABI.")
    parser.add_argument("input")
    parser.add_argument("--wasm", required=True)
    parser.add_argument("--as-of", required=True)
    parser.add_argument("--protocol", default="patient", help="built-in name or protocol JSON file")
    parser.add_argument("--format", choices=["csv", "json", "ndjson", "workbook"])
    parser.add_argument("--sheet", help="a workbook's sheet: its name or 1-based position")
    parser.add_argument("--lang", default="en")
    parser.add_argument("--report", action="store_true", help="print the whole report (with valid records) as one JSON document")
    parser.add_argument("--chunk", type=int, default=CHUNK)
    args = parser.parse_args(argv)
    fmt = args.format or _format_of(args.input)
    if fmt is None:
        print(f"clinval_host: cannot tell the format of {args.input}; use --format", file=sys.stderr)
        return 2
    protocol = args.protocol
    if protocol.endswith(".json"):
        with open(protocol, encoding="utf-8") as f:
            protocol = f.read()
    options = {"asOf": args.as_of, "lang": args.lang, "includeValid": args.report}
    if args.sheet is not None:
        options["sheet"] = args.sheet
    try:
        with Clinval(args.wasm) as clinval, clinval.validator(protocol, options) as v:
            if args.report:
                report = v.validate_file(args.input, fmt, args.chunk)
                json.dump(report, sys.stdout, ensure_ascii=False)
                sys.stdout.write("\n")
                summary = report["summary"]
            else:
                with open(args.input, "rb") as stream:
                    for events in v.validate_stream(stream, fmt, args.chunk):
                        for issue in events["issues"]:
                            sys.stdout.write(json.dumps(issue, ensure_ascii=False) + "\n")
                        summary = events["summary"]
    except (ClinvalError, OSError) as error:
        print(f"clinval_host: {args.input}: {error}", file=sys.stderr)
        return 2
    print(f"{summary['records']} records: {summary['valid']} valid, {summary['invalid']} invalid; "
          f"{summary['issues']} issues", file=sys.stderr)
    return 1 if summary["invalid"] else 0


if __name__ == "__main__":
    sys.exit(main())
