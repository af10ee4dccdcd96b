// The two modules under node --test: the compact clinval_bg.wasm refuses
// what only clinval_full_bg.wasm has, and Validator.load switches.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';

import init, { ClinvalError, Validator, initFullSync, moduleInfo } from '../pkg/clinval.js';

const bytes = (file) => readFileSync(new URL(`../pkg/${file}`, import.meta.url));
const asOf = '2025-06-30';
const geo = JSON.stringify({
  name: 'sites',
  fields: [
    { name: 'site', type: 'string', constraints: { required: true, pattern: 'S-(north|south)' } },
    { name: 'where', type: 'geopoint' },
  ],
});

test('the compact module runs common protocols and names what needs the full one', async () => {
  await init(bytes('clinval_bg.wasm'));
  assert.equal(moduleInfo().build, 'compact');
  const patient = new Validator('patient', { asOf });
  assert.equal(patient.build, 'compact');
  assert.equal(patient.validateField('id', 'P-01').valid, true);
  assert.throws(
    () => new Validator(geo, { asOf }),
    (error) =>
      error instanceof ClinvalError &&
      error.code === 'needs_full_module' &&
      /fields\[0\]\.constraints\.pattern.*clinval_full_bg\.wasm/.test(error.message),
  );
});

test('Validator.load runs such a protocol in the full module, with the same verdicts', async () => {
  const v = await Validator.load(geo, { asOf }, { full: bytes('clinval_full_bg.wasm') });
  assert.equal(v.build, 'full');
  assert.deepEqual(v.validateRecord({ site: 'S-north', where: '2.35, 48.85' }).valid, true);
  const bad = v.validateRecord({ site: 'S-east', where: '200, 48' });
  assert.deepEqual(bad.issues.map((i) => [i.field, i.code]), [
    ['site', 'pattern'],
    ['where', 'type'],
  ]);
  // Both loaded: the compact module still takes what it can run.
  assert.equal(new Validator('patient', { asOf }).build, 'compact');
  const report = v.validateText('site,where\nS-south,"1,2"\nS-x,"1,2"\n', 'csv');
  assert.deepEqual([report.summary.valid, report.summary.invalid], [1, 1]);
  v.free();
});

test('a key batch needs its source in the same module', () => {
  initFullSync(bytes('clinval_full_bg.wasm'));
  const sites = new Validator(geo, { asOf });
  const patient = new Validator('patient', { asOf });
  assert.throws(() => sites.startKeyBatch(0, patient, 'csv'), /argument: the source validator runs in the other module/);
});

test('a workbook is refused by the compact module and read by Validator.forWorkbooks in the full one', async () => {
  const workbook = readFileSync(new URL('../../tests/fixtures/workbooks/types.xlsx', import.meta.url));
  const protocol = readFileSync(new URL('../../tests/fixtures/workbooks/types.protocol.json', import.meta.url), 'utf8');
  const compact = new Validator('patient', { asOf });
  assert.equal(compact.build, 'compact');
  assert.throws(
    () => compact.startBatch('workbook'),
    (error) => error.code === 'needs_full_module' && /workbooks \(xlsx, xls, ods\) need clinval's full module/.test(error.message),
  );
  const v = await Validator.forWorkbooks(protocol, { asOf, sheet: 'visits' }, { full: bytes('clinval_full_bg.wasm') });
  assert.equal(v.build, 'full');
  const report = v.validateText(workbook, 'workbook');
  assert.deepEqual(report.summary.workbook, { format: 'xlsx', sheet: 'visits', sheets: ['Notes', 'visits', 'labs', 'lookup'] });
  assert.equal(report.summary.records, 5);
  assert.deepEqual(report.issues[0], {
    row: 2,
    line: 3,
    cell: 'visits!I3',
    field: 'score',
    code: 'cell_error',
    message: 'score holds the spreadsheet error #DIV/0!: its formula has no value',
    value: null,
  });
  const nope = await Validator.forWorkbooks(protocol, { asOf, sheet: 'nope' });
  assert.throws(
    () => nope.validateText(workbook, 'workbook'),
    (error) => error.code === 'input' && error.kind === 'no_such_sheet' && /no sheet `nope`/.test(error.message),
  );
});
