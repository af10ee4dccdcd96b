"""frictionless-py's side of the Table Schema benchmark
(host/benches/tableschema.rs): validates one CSV with one schema, every
error kept, and prints the validation's time and the rows it flagged.

    target/fl/bin/python tests/table-schema/frictionless_bench.py SCHEMA.json DATA.csv
"""

import json
import sys
import time
import warnings
from pathlib import Path

from frictionless import Resource

warnings.simplefilter("ignore")


def main():
    schema_path, data_path = Path(sys.argv[1]), Path(sys.argv[2])
    schema = json.loads(schema_path.read_text(encoding="utf-8"))
    resource = Resource(
        {"name": "data", "path": data_path.name, "schema": schema},
        basepath=str(data_path.parent),
    )
    started = time.process_time()
    report = resource.validate(limit_errors=10**9)
    seconds = time.process_time() - started
    rows = sorted({e.row_number for e in report.tasks[0].errors if getattr(e, "row_number", None)})
    json.dump({"seconds": seconds, "rows": rows, "valid": report.valid}, sys.stdout)


if __name__ == "__main__":
    main()
