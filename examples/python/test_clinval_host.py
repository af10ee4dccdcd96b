"""Tests of the Python partner host against the built module (wasm/pkg)."""

import io
import json
import os
import subprocess
import sys
import unittest

from clinval_host import Clinval, ClinvalError

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.join(HERE, "..", "..")
WASM = os.path.join(ROOT, "wasm", "pkg", "clinval_bg.wasm")
SHARED = os.path.join(ROOT, "..", "shared", "data")
OPTIONS = {"asOf": "2025-06-30"}


def expected(name):
    with open(os.path.join(SHARED, name), encoding="utf-8") as f:
        return [json.loads(line) for line in f]


class HostTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.clinval = Clinval(WASM)

    def test_info(self):
        info = self.clinval.info()
        self.assertEqual(info["abi"], 1)
        self.assertEqual(info["protocols"], ["patient", "epro-daily"])

    def test_fields_and_values(self):
        with self.clinval.validator("patient", OPTIONS) as v:
            self.assertEqual([f["name"] for f in v.protocol["fields"]], ["id", "name", "age", "visitDate", "bloodPressure"])
            self.assertEqual(v.check_field("age", "+51"), {"valid": True, "value": 51, "issue": None})
            self.assertEqual(v.check_field("年龄", 17)["issue"]["code"], "out_of_range")
            self.assertEqual(v.check_field("visitDate", None)["issue"]["code"], "required")
            verdict = v.check_record({"id": "P1", "name": "A", "age": 30, "visitDate": "2024-01-01", "bp": "120/80"})
            self.assertTrue(verdict["valid"])
            self.assertEqual(verdict["record"]["bloodPressure"], "120/80")

    def test_both_samples_give_their_expected_verdicts(self):
        for sample in ("patients-sample.csv", "patients-sample-gbk.csv"):
            want = expected(sample.replace(".csv", ".expected.jsonl"))
            with self.clinval.validator("patient", {**OPTIONS, "includeValid": True}) as v:
                report = v.validate_file(os.path.join(SHARED, sample), "csv", chunk=4096)
            issues = [[i["row"], i["field"], i["code"]] for i in report["issues"]]
            self.assertEqual(issues, [[e["row"], f, c] for e in want for f, c in e["issues"]], sample)
            self.assertEqual(report["records"], [e["record"] for e in want if e["valid"]], sample)
            self.assertEqual(report["summary"]["records"], len(want))

    def test_errors_are_results_and_the_instance_lives_on(self):
        with self.assertRaises(ClinvalError) as e:
            self.clinval.validator("patient", {})
        self.assertEqual((e.exception.status, e.exception.code), (-1, "argument"))
        with self.assertRaises(ClinvalError) as e:
            self.clinval.validator('{"fields": [{"name": "a", "type": "integr"}]}', OPTIONS)
        self.assertEqual(e.exception.code, "protocol")
        self.assertIn("fields[0].type", e.exception.message)
        with self.clinval.validator("patient", OPTIONS) as v:
            with self.assertRaises(ClinvalError) as e:
                list(v.validate_stream(io.BytesIO(b"id,name\n1,2\n"), "csv"))
            self.assertEqual((e.exception.status, e.exception.code), (-3, "input"))
            with self.assertRaises(ClinvalError) as e:
                list(v.validate_stream(io.BytesIO(b"\x00\x01binary"), "csv"))
            self.assertIn("binary", e.exception.message)
            with self.assertRaises(ClinvalError):
                v.check_field("weight", 70)
            # Still usable after errors.
            self.assertTrue(v.check_field("age", 40)["valid"])

    def test_command_exit_codes(self):
        script = os.path.join(HERE, "clinval_host.py")
        run = lambda *args: subprocess.run([sys.executable, script, "--wasm", WASM, "--as-of", "2025-06-30", *args],
                                           capture_output=True, text=True)
        done = run(os.path.join(SHARED, "patients-sample.csv"))
        self.assertEqual(done.returncode, 1, done.stderr)
        self.assertEqual(len(done.stdout.splitlines()), 100)
        self.assertIn("400 records: 303 valid, 97 invalid", done.stderr)
        missing = run(os.path.join(ROOT, "no-such-file.csv"))
        self.assertEqual(missing.returncode, 2)


if __name__ == "__main__":
    unittest.main()
