// The JavaScript API of the package as built (wasm/pkg), under node --test.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';

import { initSync, Validator, moduleInfo } from '../pkg/clinval.js';

initSync({ module: readFileSync(new URL('../pkg/clinval_bg.wasm', import.meta.url)) });

const shared = (name) => new URL(`../../../shared/data/${name}`, import.meta.url);
const asOf = '2025-06-30';

test('module info names the engine, the ABI and the built-in protocols', () => {
  const info = moduleInfo();
  assert.match(info.engine, /^\d+\.\d+\.\d+$/);
  assert.equal(info.abi, 1);
  assert.deepEqual(info.protocols, ['patient', 'epro-daily']);
});

test('a protocol lists its fields for building a form', () => {
  const v = new Validator('patient', { asOf });
  const protocol = v.protocol();
  assert.equal(protocol.name, 'patient');
  assert.deepEqual(protocol.fields.map((f) => f.name), ['id', 'name', 'age', 'visitDate', 'bloodPressure']);
  const age = protocol.fields[2];
  assert.deepEqual([age.type, age.required, age.minimum, age.maximum, age.title], ['integer', true, 19, 80, 'Age (years)']);
  assert.equal(protocol.fields[3].maximum, '$asOf');
});

test('one value at a time, as a patient types', () => {
  const v = new Validator('patient', { asOf });
  assert.deepEqual(v.validateField('age', '+51'), { valid: true, value: 51, issue: null });
  assert.deepEqual(v.validateField('bp', ' １２０／８０ '), { valid: true, value: '120/80', issue: null });
  const low = v.validateField('age', 17);
  assert.equal(low.valid, false);
  assert.deepEqual(low.issue, { field: 'age', code: 'out_of_range', message: 'age 17 is outside 19..=80', value: '17' });
  assert.equal(v.validateField('visitDate', '04/07/2022').issue.code, 'ambiguous_date');
  assert.equal(v.validateField('visitDate', undefined).issue.code, 'required');
  assert.throws(() => v.validateField('weight', 70), /argument: protocol `patient` has no field `weight`/);
});

test('messages in Simplified Chinese', () => {
  const v = new Validator('patient', { asOf, lang: 'zh-CN' });
  assert.equal(v.validateField('age', '17').issue.message, 'age 17 超出范围 19..=80');
});

test('one record: issues and the cleaned record', () => {
  const v = new Validator('patient', { asOf });
  const ok = v.validateRecord({ 'Patient ID': 'P1', name: ' Ann   Lee ', age: 30, visitDate: '2024年5月9日', bp: '120 / 80', site: 'Ward 3' });
  assert.deepEqual(ok, {
    valid: true,
    issues: [],
    record: { id: 'P1', name: 'Ann Lee', age: 30, visitDate: '2024-05-09', bloodPressure: '120/80', site: 'Ward 3' },
  });
  const bad = v.validateRecord({ id: 'P#1', name: 'A', age: 30.5, visitDate: '2030-01-01', bp: '80/120' });
  assert.equal(bad.valid, false);
  assert.equal(bad.record, null);
  assert.deepEqual(bad.issues.map((i) => [i.field, i.code]), [['id', 'pattern'], ['age', 'type'], ['visitDate', 'future_date'], ['bloodPressure', 'implausible']]);
});

test('a whole input, text or bytes, with progress', () => {
  const v = new Validator('patient', { asOf });
  const bytes = readFileSync(shared('patients-sample-gbk.csv'));
  const seen = [];
  const report = v.validateText(bytes, 'csv', (done, total) => seen.push([done, total]));
  assert.equal(report.summary.records, 200);
  const expected = readFileSync(shared('patients-sample-gbk.expected.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l));
  assert.equal(report.summary.invalid, expected.filter((e) => !e.valid).length);
  assert.deepEqual(report.issues.map((i) => [i.row, i.field, i.code]), expected.flatMap((e) => e.issues.map(([f, c]) => [e.row, f, c])));
  assert.deepEqual(seen.at(-1), [bytes.length, bytes.length]);

  const text = 'id,name,age,visitDate,bp\nP1,Ann,30,2024-01-01,120/80\n';
  const small = new Validator('patient', { asOf, includeValid: true }).validateText(text, 'csv');
  assert.deepEqual(small.records, [{ id: 'P1', name: 'Ann', age: 30, visitDate: '2024-01-01', bloodPressure: '120/80' }]);
});

test('an incremental batch gives the same issues as one call', () => {
  const v = new Validator('patient', { asOf });
  const bytes = readFileSync(shared('patients-sample.csv'));
  const whole = v.validateText(bytes, 'csv');
  const batch = v.startBatch('csv');
  const issues = [];
  for (let at = 0; at < bytes.length; at += 997) {
    issues.push(...batch.feed(bytes.subarray(at, at + 997)).issues);
  }
  const end = batch.finish();
  issues.push(...end.issues);
  assert.deepEqual(issues, whole.issues);
  assert.deepEqual(end.summary, whole.summary);
});

test('bad protocols, options and inputs are errors, not crashes', () => {
  assert.throws(() => new Validator('{"fields": {}}', { asOf }), /protocol: protocol key `fields`: expected a list/);
  assert.throws(() => new Validator('nope', { asOf }), /no built-in protocol named `nope`/);
  assert.throws(() => new Validator('patient', { asOf: '2025-13-01' }), /asOf `2025-13-01` is not a date/);
  assert.throws(() => new Validator('patient', { asof: asOf }), /options: unknown field `asof`/);
  const v = new Validator('patient', { asOf });
  assert.throws(() => v.validateText('id,name\n1,2\n', 'csv'), /input: line 1: the header lacks column/);
  assert.throws(
    () => v.validateText('id,name\n1,2\n', 'csv'),
    (error) => error.code === 'input' && error.kind === 'missing_columns' && error.line === 1,
  );
  assert.throws(() => v.startBatch('xml'), /unknown format `xml`/);
  // The validator still works after errors.
  assert.equal(v.validateField('age', '40').valid, true);
});

test('asOf defaults to today', () => {
  const v = new Validator('patient');
  assert.equal(v.validateField('visitDate', '2999-01-01').issue.code, 'future_date');
  assert.equal(v.validateField('visitDate', '2000-01-01').valid, true);
});

test('the ePRO diary branches and scores a valid answer, as the server does', async () => {
  assert.throws(() => new Validator('epro-daily'), (error) => error.code === 'needs_full_module');
  const full = readFileSync(new URL('../pkg/clinval_full_bg.wasm', import.meta.url));
  const diary = await Validator.load('epro-daily', { asOf: '2026-11-27' }, { full });
  assert.equal(diary.build, 'full');
  assert.deepEqual(diary.protocol().scores.map((s) => s.name), ['symptomBurden', 'nauseaDays']);
  const verdict = diary.validateRecord({
    pain: 3, fatigue: '5', sleepQuality: 'fair', nausea: 'no', symptoms: ['dizziness', 'rash'], completedAt: '2026-11-27 07:45',
  });
  assert.equal(verdict.valid, true, JSON.stringify(verdict));
  assert.deepEqual(verdict.scores, { symptomBurden: 13, nauseaDays: 0 });
  assert.deepEqual(verdict.hidden, ['nauseaSeverity']);
  const sick = diary.validateRecord({
    pain: 3, fatigue: 5, sleepQuality: 'fair', nausea: 'yes', symptoms: ['none'], completedAt: '2026-11-27',
  });
  assert.deepEqual(sick.hidden, []);
  assert.deepEqual(sick.issues.map((i) => [i.field, i.code]), [['nauseaSeverity', 'required']]);
  const late = diary.validateRecord({ pain: 3, fatigue: 5, sleepQuality: 'fair', nausea: false, symptoms: ['none'], completedAt: '2026-11-28' });
  assert.equal(late.valid, false);
  assert.equal(late.scores, undefined);
  assert.equal(late.issues[0].code, 'future_date');
});
