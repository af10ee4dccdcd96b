// Compiled by `tsc --noEmit` in the test command (wasm/tsconfig.json): the
// package's declarations — clinval.d.ts over the generated
// clinval-results.d.ts — used as a partner's TypeScript would use them.
import init, { ClinvalError, Validator, moduleInfo, type FieldInfo, type RecordVerdict } from "../../pkg/clinval.js";

export async function check(): Promise<string[]> {
  await init();
  const build: string = moduleInfo().build;
  const validator = new Validator("patient", { asOf: "2025-06-30", maxRecordCells: 100, encoding: "auto" });
  const fields: FieldInfo[] = validator.protocol().fields;
  const verdict: RecordVerdict = validator.validateRecord({ id: "P1", age: 17 });
  const codes = verdict.issues.map((issue) => issue.code);
  const batch = validator.startBatch("csv");
  const events = batch.feed(new TextEncoder().encode("id\nP1\n"));
  const end = batch.finish();
  const rows: (number | null)[] = events.issues.concat(end.issues).map((line) => line.row);
  const invalid: number | undefined = end.summary?.invalid;
  try {
    validator.validateText("", "csv");
  } catch (error) {
    if (error instanceof ClinvalError && error.kind === "empty") codes.push(error.kind);
  }
  return [build, String(fields.length), ...codes, String(rows.length), String(invalid)];
}

export async function workbook(bytes: Uint8Array): Promise<(string | undefined)[]> {
  const validator = await Validator.forWorkbooks("patient", { asOf: "2025-06-30", sheet: 2, maxWorkbookBytes: 1 << 20 });
  const report = validator.validateText(bytes, "workbook");
  const sheet: string | undefined = report.summary?.workbook?.sheet;
  const cells: (string | null | undefined)[] = report.issues.map((line) => line.cell);
  return [sheet, ...cells.map((cell) => cell ?? undefined)];
}
