"""What frictionless-py makes of each case in cases.json.

Run by tests/tests/frictionless.rs with the frictionless 5.21 that
`.ci/run` installs into target/fl: for every case, whether the schema
loads and, if it does, each error frictionless reports as
`[row, field, type]` (`row` null for errors of the header).

    target/fl/bin/python tests/table-schema/frictionless_report.py CASES.json
"""

import json
import sys
import tempfile
import warnings
from pathlib import Path

import frictionless
from frictionless import FrictionlessException, Resource, Schema

# frictionless warns about deprecated options it uses itself.
warnings.simplefilter("ignore")

RESOURCE_V2 = "https://datapackage.org/profiles/2.0/dataresource.json"


def report(case, directory):
    """The errors frictionless reports for one case."""
    try:
        schema = Schema.from_descriptor(case["schema"])
    except FrictionlessException as error:
        return {"name": case["name"], "refused": str(error.error.note or error)}
    name = f"{case['name']}.csv"
    (Path(directory) / name).write_bytes(case["csv"].encode("utf-8"))
    # A v2 resource: an ancestor's version is imposed on its schema, and a
    # resource without `$schema` would hold the schema to v1.
    resource = Resource(
        {"$schema": RESOURCE_V2, "name": "data", "path": name, "schema": case["schema"]},
        basepath=directory,
    )
    try:
        result = resource.validate()
    except FrictionlessException as error:
        return {"name": case["name"], "refused": str(error.error.note or error)}
    if not result.tasks:
        return {"name": case["name"], "refused": "; ".join(e.message for e in result.errors)}
    task = result.tasks[0]
    errors = []
    for error in task.errors:
        descriptor = error.to_descriptor()
        kind = descriptor.get("type")
        if kind in ("schema-error", "field-error", "source-error", "scheme-error", "format-error"):
            return {"name": case["name"], "refused": descriptor.get("note") or error.message}
        row = descriptor.get("rowNumber")
        field = descriptor.get("fieldName") or None
        errors.append([row, field, kind])
    return {"name": case["name"], "refused": None, "errors": errors}


def main():
    cases = json.loads(Path(sys.argv[1]).read_text(encoding="utf-8"))
    with tempfile.TemporaryDirectory() as directory:
        reports = [report(case, directory) for case in cases]
    json.dump({"version": frictionless.__version__, "cases": reports}, sys.stdout, ensure_ascii=False)


if __name__ == "__main__":
    main()
