// The web demo end to end: real headless Chromium against a real
// `clinval serve --demo` on 127.0.0.1.

import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execFileSync } from 'node:child_process';
import { startServer, launchBrowser, openPage, binary, PHONE, DESKTOP, SHARED, ROOT } from './harness.mjs';

let server;
let chrome;

before(async () => {
  server = await startServer();
  chrome = await launchBrowser();
});

after(async () => {
  await chrome?.close();
  server?.stop();
});

function open(path, options) {
  return openPage(chrome.browser, `${server.base}${path}`, options);
}

function today() {
  const d = new Date();
  return `${d.getFullYear()}-${String(d.getMonth() + 1).padStart(2, '0')}-${String(d.getDate()).padStart(2, '0')}`;
}

test('an invalid answer shows the module\'s words for patients as it is typed, with no request', async () => {
  const { page, context, errors } = await open('/');
  const requests = [];
  page.on('request', (request) => requests.push(request.url()));
  await page.fill('#f-notes', 'x'.repeat(2001));
  assert.equal(await page.textContent('#msg-notes'), '“Anything else your study team should know” can be at most 2000 characters; it has 2001.');
  assert.equal(await page.getAttribute('#f-notes', 'aria-invalid'), 'true');
  assert.match(await page.getAttribute('#f-notes', 'aria-describedby'), /\bmsg-notes\b/);
  await page.fill('#f-notes', 'Slept well.');
  assert.equal(await page.textContent('#msg-notes'), '');
  // A 0–10 rating is a scale of eleven buttons, tied to its message.
  assert.deepEqual(await page.$$eval('[name="pain"]', (inputs) => inputs.map((i) => i.value)), ['0', '1', '2', '3', '4', '5', '6', '7', '8', '9', '10']);
  assert.equal(await page.getAttribute('#f-pain-7', 'aria-describedby'), 'msg-pain');
  await page.check('#f-pain-7');
  // The completion time is the device's to record, not a question.
  assert.equal(await page.locator('#f-completedAt').count(), 0);
  // Send with problems: they are listed, nothing is sent, the focus goes to the first.
  await page.click('#submit');
  await page.waitForSelector('#problems:not([hidden])');
  const listed = await page.$$eval('#problem-list li', (items) => items.map((li) => li.textContent));
  assert.equal(listed[0], 'Patient ID must be 1 to 64 letters, digits, - or _.');
  assert.ok(listed.includes('Please answer “How did you sleep last night?”.'), listed.join('\n'));
  assert.equal(await page.evaluate(() => document.activeElement.id), 'patientId');
  assert.deepEqual(requests, [], 'checked in the page, not on the server');
  // Simplified Chinese, from the same module: every text again, no field key.
  await page.selectOption('#lang', 'zh-CN');
  assert.equal(await page.textContent('#hint-notes'), '11 / 2000 字', 'the counter of what was typed, in Chinese');
  await page.fill('#f-notes', '好'.repeat(2001));
  assert.equal(await page.textContent('#msg-notes'), '“还有什么需要告诉研究团队的吗”最多 2000 个字，现在是 2001 个。');
  const zh = await page.$$eval('#problem-list li, #diary .msg', (items) => items.map((el) => el.textContent).filter(Boolean));
  assert.ok(zh.length >= 5, zh.join('\n'));
  for (const text of zh) {
    assert.match(text, /[\u4e00-\u9fff]/, text);
    assert.doesNotMatch(text, /\b(pain|fatigue|sleepQuality|nausea|symptoms|completedAt)\b|\.\.=/, text);
  }
  // Questions and choices in Chinese too, from the protocol's `titles`.
  assert.match(await page.textContent('[data-field="pain"] legend'), /疼痛/);
  assert.match(await page.textContent('[data-field="sleepQuality"] .choices'), /很好.*很差/);
  assert.equal(await page.getAttribute('html', 'lang'), 'zh-CN');
  assert.deepEqual(requests, []);
  assert.deepEqual(errors, []);
  await context.close();
});

test('every input has a label and every message is tied to its input', async () => {
  const { page, context } = await open('/');
  const problems = await page.evaluate(() => {
    const found = [];
    for (const input of document.querySelectorAll('#diary input, #diary textarea, #diary select')) {
      if (input.closest('[hidden]')) continue;
      const labelled = input.labels?.length > 0;
      if (!labelled) found.push(`no label: ${input.name || input.id}`);
    }
    for (const msg of document.querySelectorAll('#diary .msg')) {
      const tied = [...document.querySelectorAll('[aria-describedby]')]
        .some((el) => el.getAttribute('aria-describedby').split(/\s+/).includes(msg.id));
      if (!tied) found.push(`message not described: ${msg.id}`);
    }
    return found;
  });
  assert.deepEqual(problems, []);
  await context.close();
});

test('on a phone, a diary is one question per screen with a review, by keyboard alone, and followed until processed', async () => {
  const { page, context, errors } = await open('/', { viewport: PHONE });
  const keys = page.keyboard;
  const focused = () => page.evaluate(() => document.activeElement.id);
  /** Tab to a button (by id), then press it. */
  const press = async (id) => {
    for (let i = 0; i < 12 && (await focused()) !== id; i += 1) await keys.press('Tab');
    assert.equal(await focused(), id);
    await keys.press('Enter');
  };
  assert.equal(await page.textContent('#progress-text'), 'Question 1 of 7');
  await page.focus('#patientId');
  await keys.type('P-WEB-1');
  await press('next');
  assert.equal(await page.textContent('#progress-text'), 'Question 2 of 7');
  assert.equal(await focused(), 'f-pain-0', 'the focus is on the new question');
  assert.equal(await page.isHidden('#patient-field'), true, 'one question per screen');
  // Next with no answer: said, and the screen stays.
  await press('next');
  assert.equal(await page.textContent('#msg-pain'), 'Please answer “Pain right now (0 = no pain, 10 = worst imaginable)”.');
  assert.equal(await page.textContent('#progress-text'), 'Question 2 of 7');
  await page.focus('#f-pain-0');
  for (let i = 0; i < 3; i += 1) await keys.press('ArrowRight'); // 3 on the scale
  await press('next');
  await page.focus('#f-fatigue-0');
  for (let i = 0; i < 4; i += 1) await keys.press('ArrowRight');
  await press('next');
  await keys.press('ArrowRight'); // "good"
  await press('back'); // and back: the fatigue is kept
  assert.equal(await page.isChecked('#f-fatigue-4'), true);
  await press('next');
  await press('next');
  await keys.press('ArrowRight'); // nausea: No, so "how bad" is not a step
  await press('next');
  assert.equal(await page.textContent('#progress-text'), 'Question 6 of 7');
  await keys.press('Space'); // headache
  await press('next');
  await keys.type('Slept well.');
  await press('next');
  // The review: every answer as chosen, each with a way back.
  assert.equal(await focused(), 'review-title');
  assert.equal(await page.textContent('#progress-text'), 'All 7 questions: check and send');
  const review = await page.textContent('#review-list');
  for (const shown of ['P-WEB-1', 'Good', 'No', 'Headache', 'Slept well.']) assert.ok(review.includes(shown), review);
  assert.equal(await page.locator('#review-list button').count(), 7);
  const wide = await page.evaluate(() => document.documentElement.scrollWidth);
  assert.ok(wide <= PHONE.width, `the review is ${wide}px wide`);
  await press('submit');
  await page.waitForSelector('#receipt:not([hidden])');
  assert.equal(await focused(), 'receipt-title', 'the focus follows to the receipt');
  const id = (await page.textContent('#sub-id')).trim();
  assert.match(id, /^[0-9a-f-]{36}$/);
  await page.waitForSelector('#sub-status[data-status="processed"]', { timeout: 30_000 });
  assert.match(await page.textContent('[data-score="symptomBurden"]'), /^9.5$/);

  const response = await fetch(`${server.base}/api/v1/submissions/${id}`, {
    headers: { authorization: `Bearer ${server.token}` },
  });
  const submission = await response.json();
  assert.equal(submission.status, 'processed');
  assert.equal(submission.patientId, 'P-WEB-1');
  assert.deepEqual(submission.scores, { symptomBurden: 9.5, nauseaDays: 0 });
  // Completed now, on the device's day, with its offset.
  assert.equal(submission.localDate, today());
  assert.match(submission.completedAt, new RegExp(`^${today()}T\\d\\d:\\d\\d:\\d\\d[+-]\\d\\d:\\d\\d$`));
  assert.deepEqual(errors, []);
  await context.close();
});

/**
 * A time zone whose date differs from UTC's now, as Shanghai's does from
 * 16:00 UTC on (the night the server used to refuse), and its offset.
 */
function zoneOffTheUtcDate() {
  const hour = new Date().getUTCHours();
  if (hour >= 16) return { zone: 'Asia/Shanghai', offset: '+08:00' };
  if (hour >= 10) return { zone: 'Pacific/Kiritimati', offset: '+14:00' };
  return { zone: 'Pacific/Pago_Pago', offset: '-11:00' };
}

test('a diary is dated in the patient\'s own time zone, stored with its offset, and one a day', async () => {
  const { zone, offset } = zoneOffTheUtcDate();
  const { page, context, errors } = await open('/', { locale: 'zh-CN', timezoneId: zone });
  const localDate = new Intl.DateTimeFormat('en-CA', { timeZone: zone }).format(new Date());
  assert.notEqual(localDate, new Date().toISOString().slice(0, 10), `${zone} is on another date than UTC`);
  const fill = async () => {
    await page.fill('#patientId', 'P-ZONE');
    await page.check('[name="pain"][value="2"]');
    await page.check('[name="fatigue"][value="2"]');
    await page.check('[name="sleepQuality"][value="good"]');
    await page.check('[name="nausea"][value="false"]');
    await page.check('[name="symptoms"][value="none"]');
  };
  await fill();
  await page.click('#submit');
  await page.waitForSelector('#receipt:not([hidden])');
  const id = (await page.textContent('#sub-id')).trim();
  const response = await fetch(`${server.base}/api/v1/submissions/${id}`, { headers: { authorization: `Bearer ${server.token}` } });
  const stored = await response.json();
  assert.equal(stored.localDate, localDate, zone);
  assert.equal(stored.utcOffset, offset);
  assert.ok(stored.completedAt.startsWith(localDate) && stored.completedAt.endsWith(offset), stored.completedAt);

  // A second diary that day is refused, in the page's language, and its answers stay.
  await page.click('#again');
  await fill();
  await page.click('#submit');
  await page.waitForSelector('#form-status.bad');
  assert.match(await page.textContent('#form-status'), /今天的日记已经提交/);
  assert.equal(await page.isChecked('[name="pain"][value="2"]'), true);
  assert.deepEqual(errors, []);
  await context.close();
});

test('a phone whose clock is ahead is told so in the patient\'s words, and its answers stay', async () => {
  const context = await chrome.browser.newContext({ viewport: DESKTOP, locale: 'en-US' });
  await context.clock.install({ time: Date.now() + 2 * 86_400_000 });
  const page = await context.newPage();
  const errors = [];
  page.on('pageerror', (error) => errors.push(error));
  await page.goto(`${server.base}/`);
  await page.waitForSelector('body[data-ready="true"]');
  await page.fill('#patientId', 'P-CLOCK');
  for (const [name, value] of [['pain', '1'], ['fatigue', '1'], ['sleepQuality', 'good'], ['nausea', 'false'], ['symptoms', 'none']]) {
    await page.check(`[name="${name}"][value="${value}"]`);
  }
  await page.click('#submit');
  await page.waitForSelector('#form-status.bad');
  assert.match(await page.textContent('#form-status'), /clock is ahead of the real time/);
  assert.equal(await page.isChecked('[name="pain"][value="1"]'), true, 'the answers stay');
  assert.equal(await page.isDisabled('[name="pain"][value="1"]'), false, 'and can be sent again');
  assert.deepEqual(errors, []);
  await context.close();
});

test('questions appear and disappear as answers change, from the module\'s verdict, and hidden answers are not sent', async () => {
  const { page, context, errors } = await open('/');
  const severity = '[data-field="nauseaSeverity"]';
  assert.equal(await page.isHidden(severity), true, 'asked only after nausea');
  await page.check('[name="nausea"][value="true"]');
  assert.equal(await page.isVisible(severity), true);
  await page.check('[name="nauseaSeverity"][value="severe"]');
  await page.check('[name="nausea"][value="false"]');
  assert.equal(await page.isHidden(severity), true);
  // The checklist: several boxes; "none" with a symptom is the protocol's own issue.
  await page.check('[name="symptoms"][value="rash"]');
  await page.check('[name="symptoms"][value="none"]');
  assert.match(await page.textContent('#msg-symptoms'), /symptoms|none/i);
  await page.uncheck('[name="symptoms"][value="none"]');
  assert.equal(await page.textContent('#msg-symptoms'), '');
  await page.fill('#patientId', 'P-WEB-2');
  await page.check('[name="pain"][value="2"]');
  await page.check('[name="fatigue"][value="1"]');
  await page.check('[name="sleepQuality"][value="fair"]');
  assert.equal(await page.isDisabled('#submit'), false, await page.textContent('#form-status'));
  const sent = page.waitForRequest((request) => request.url().endsWith('/api/v1/submissions') && request.method() === 'POST');
  await page.click('#submit');
  const body = JSON.parse((await sent).postData());
  assert.deepEqual(body.reportData.symptoms, ['rash']);
  assert.equal('nauseaSeverity' in body.reportData, false, 'the hidden answer is left out');
  await page.waitForSelector('#sub-status[data-status="processed"]', { timeout: 30_000 });
  assert.match(await page.textContent('[data-score="symptomBurden"]'), /^8$/);

  // Shown again, "how bad" is required, in Chinese too.
  await page.click('#again');
  await page.selectOption('#lang', 'zh-CN');
  await page.check('[name="nausea"][value="true"]');
  assert.match(await page.textContent(`${severity} legend`), /恶心有多严重/);
  assert.match(await page.textContent('[data-field="symptoms"] .choices'), /头痛.*皮疹.*以上都没有/);
  await page.click('#submit');
  assert.match(await page.textContent('#problem-list'), /请回答“恶心有多严重？”。/);
  assert.deepEqual(errors, []);
  await context.close();
});

/** Counts by code that a shared expected file implies. */
function expectedCounts(name) {
  const counts = {};
  for (const line of readFileSync(join(SHARED, name), 'utf8').split('\n')) {
    if (!line.trim()) continue;
    for (const [, code] of JSON.parse(line).issues) counts[code] = (counts[code] ?? 0) + 1;
  }
  return counts;
}

async function shownCounts(page) {
  return page.$$eval('#codes tbody tr', (rows) =>
    Object.fromEntries(rows.map((row) => [row.dataset.code, Number(row.cells[1].textContent.replace(/\D/g, ''))])));
}

test('the shared sample shows the counts by code its expected file implies, in the browser and on the server', async () => {
  const { page, context, errors } = await open('/batch.html');
  await page.selectOption('#protocol', 'patient');
  await page.fill('#asof', '2025-06-30');
  for (const [sample, expected] of [
    ['patients-sample.csv', 'patients-sample.expected.jsonl'],
    ['patients-sample-gbk.csv', 'patients-sample-gbk.expected.jsonl'],
  ]) {
    await page.setInputFiles('#file', join(SHARED, sample));
    await page.evaluate(() => delete document.body.dataset.done);
    await page.click('#run');
    await page.waitForSelector('body[data-done="browser"]');
    assert.deepEqual(await shownCounts(page), expectedCounts(expected), sample);

    await page.evaluate(() => delete document.body.dataset.done);
    await page.click('#send');
    await page.waitForSelector('body[data-done="server"]');
    assert.deepEqual(await shownCounts(page), expectedCounts(expected), `${sample} on the server`);
    const browserSha = await page.textContent('[data-summary="browser-sha"]');
    const serverSha = await page.textContent('[data-summary="server-sha"]');
    assert.match(browserSha, /^[0-9a-f]{64}$/);
    assert.equal(serverSha, browserSha, 'the server ran the very module the browser ran');
  }
  const rows = await page.$$eval('#rows .grid-row', (r) => r.length);
  assert.ok(rows > 0 && rows < 60, `only the rows in view are drawn (${rows})`);
  assert.deepEqual(errors, []);
  await context.close();
});

/** Counts by code, and the first issue, `clinval validate` gives `file`. */
function cliReport(file, args = []) {
  const dir = mkdtempSync(join(tmpdir(), 'clinval-cli-'));
  const errors = join(dir, 'errors.jsonl');
  try {
    execFileSync(binary(), ['validate', file, '--as-of', '2025-06-30', '--errors', errors, ...args], { stdio: 'ignore' });
  } catch (error) {
    if (error.status !== 1) throw error;
  }
  const issues = readFileSync(errors, 'utf8').split('\n').filter((l) => l.trim()).map((l) => JSON.parse(l));
  const counts = {};
  for (const issue of issues) counts[issue.code] = (counts[issue.code] ?? 0) + 1;
  return { counts, first: issues[0] };
}

test('a workbook is checked in the browser by the full module, fetched only then, as the CLI and the server check it', async () => {
  const { page, context, errors } = await open('/batch.html');
  const fetched = [];
  page.on('request', (request) => fetched.push(new URL(request.url()).pathname));
  await page.selectOption('#protocol', 'patient');
  await page.fill('#asof', '2025-06-30');
  const workbooks = join(ROOT, 'tests/fixtures/workbooks');
  // A CSV first: the full module is not fetched for it.
  await page.setInputFiles('#file', join(SHARED, 'patients-sample.csv'));
  await page.click('#run');
  await page.waitForSelector('body[data-done="browser"]');
  assert.ok(!fetched.includes('/pkg/clinval_full_bg.wasm'), `fetched ${fetched}`);
  for (const name of ['patients.xlsx', 'patients.xls', 'patients-zh.ods']) {
    const file = join(workbooks, name);
    const expected = cliReport(file);
    await page.setInputFiles('#file', file);
    await page.evaluate(() => delete document.body.dataset.done);
    await page.click('#run');
    await page.waitForSelector('body[data-done="browser"]');
    assert.deepEqual(await shownCounts(page), expected.counts, name);
    // The first issue shows its cell, as the CLI names it.
    const firstCell = await page.textContent('#rows .grid-row span:nth-child(2)');
    assert.equal(firstCell, expected.first.cell, name);
    assert.ok(fetched.includes('/pkg/clinval_full_bg.wasm'), 'the full module was fetched');

    await page.evaluate(() => delete document.body.dataset.done);
    await page.click('#send');
    await page.waitForSelector('body[data-done="server"]');
    assert.deepEqual(await shownCounts(page), expected.counts, `${name} on the server`);
    const browserSha = await page.textContent('[data-summary="browser-sha"]');
    const serverSha = await page.textContent('[data-summary="server-sha"]');
    assert.equal(serverSha, browserSha, `${name}: the server ran the very module the browser ran`);
  }
  // A sheet by name; a sheet that does not exist is a clear message.
  const types = join(workbooks, 'types.xlsx');
  await page.fill('#sheet', 'nope');
  await page.setInputFiles('#file', types);
  await page.evaluate(() => delete document.body.dataset.done);
  await page.click('#run');
  await page.waitForSelector('body[data-done="error"]');
  assert.match(await page.textContent('#status'), /no sheet `nope` \(its sheets: Notes, visits, labs, lookup\)/);
  // A damaged xls the reader fails on (the module traps): its message.
  await page.fill('#sheet', '');
  await page.setInputFiles('#file', join(workbooks, 'damaged.xls'));
  await page.evaluate(() => delete document.body.dataset.done);
  await page.click('#run');
  await page.waitForSelector('body[data-done="error"]');
  assert.match(await page.textContent('#status'), /its reader failed on a damaged part of the file/);
  assert.deepEqual(errors, []);
  await context.close();
});

/** A CSV of `n` patient records, one in `invalidEvery` (default ten) invalid. */
function bigCsv(n, { invalidEvery = 10 } = {}) {
  const dir = mkdtempSync(join(tmpdir(), 'clinval-big-'));
  const file = join(dir, `patients-${n}.csv`);
  const lines = ['id,name,age,visitDate,bloodPressure'];
  for (let i = 1; i <= n; i += 1) {
    const age = i % invalidEvery === 0 ? 17 : 20 + (i % 60);
    lines.push(`P${i},Patient ${i},${age},2024-0${1 + (i % 9)}-1${i % 10},${110 + (i % 40)}/${70 + (i % 20)}`);
  }
  writeFileSync(file, `${lines.join('\n')}\n`);
  return file;
}

test('the batch page answers clicks while 200,000 records are checked, and can cancel', async () => {
  const { page, context, errors } = await open('/batch.html');
  await page.selectOption('#protocol', 'patient');
  await page.fill('#asof', '2025-06-30');
  await page.setInputFiles('#file', bigCsv(200_000));
  await page.click('#run');
  await page.waitForFunction(() => document.getElementById('progress').value > 0);
  await page.click('details summary');
  const during = await page.evaluate(() => ({
    open: document.querySelector('details').open,
    done: document.body.dataset.done ?? null,
  }));
  assert.deepEqual(during, { open: true, done: null }, 'the click was handled while the file was being checked');
  await page.waitForSelector('body[data-done="browser"]', { timeout: 120_000 });
  assert.equal(await page.textContent('[data-summary="records"]'), (200_000).toLocaleString('en-US'));
  assert.deepEqual(await shownCounts(page), { out_of_range: 20_000 });
  // Scrolling to the end draws the last issue.
  await page.$eval('#scroller', (s) => { s.scrollTop = s.scrollHeight; });
  await page.waitForFunction(() => [...document.querySelectorAll('#rows .grid-row span:first-child')]
    .some((cell) => cell.textContent === '200000'));

  // Cancel stops a run at once.
  await page.evaluate(() => delete document.body.dataset.done);
  await page.click('#run');
  await page.click('#cancel');
  assert.match(await page.textContent('#status'), /Cancelled/);
  assert.equal(await page.isHidden('#cancel'), true);
  assert.deepEqual(errors, []);
  await context.close();
});

test('a new file clears the last one\'s results, an unusable file offers no download, and a checked file fits a phone', async () => {
  const { page, context, errors } = await open('/batch.html', { viewport: PHONE });
  await page.fill('#asof', '2025-06-30');
  await page.setInputFiles('#file', join(SHARED, 'patients-sample.csv'));
  await page.click('#run');
  await page.waitForSelector('body[data-done="browser"]');
  assert.equal(await page.isVisible('#results'), true);
  // The module's sha256 wraps: the page stays within the phone's width.
  const width = await page.evaluate(() => document.documentElement.scrollWidth);
  assert.ok(width <= PHONE.width, `the results are ${width}px wide`);
  // Another file: nothing of the first stays, nor can be downloaded.
  await page.setInputFiles('#file', join(ROOT, 'tests/fixtures/workbooks/encrypted.xlsx'));
  assert.equal(await page.isVisible('#results'), false, 'the first file\'s results are gone');
  await page.click('#run');
  await page.waitForSelector('body[data-done="error"]');
  assert.equal(await page.isVisible('#results'), false);
  assert.equal(await page.isDisabled('#download-valid'), true);
  assert.equal(await page.isDisabled('#download-errors'), true);
  assert.match(await page.textContent('#status'), /password-protected/);
  // The same on the server.
  await page.evaluate(() => delete document.body.dataset.done);
  await page.click('#send');
  await page.waitForSelector('body[data-done="error"]');
  assert.equal(await page.isVisible('#results'), false);
  assert.deepEqual(errors, []);
  await context.close();
});

test('issues can be filtered and sorted, each code is explained, and the log downloads as CSV', async () => {
  const { page, context, errors } = await open('/batch.html');
  await page.fill('#asof', '2025-06-30');
  await page.setInputFiles('#file', join(SHARED, 'patients-sample.csv'));
  assert.match(await page.textContent('#chosen'), /patients-sample\.csv — 17 KB$/);
  await page.click('#run');
  await page.waitForSelector('body[data-done="browser"]');
  const expected = cliReport(join(SHARED, 'patients-sample.csv'));
  const total = Object.values(expected.counts).reduce((a, b) => a + b, 0);
  // Each code explained beside its count.
  assert.equal(
    await page.textContent('#codes tr[data-code="ambiguous_date"] td:nth-child(3)'),
    'Day and month cannot be told apart (e.g. 03/04).',
  );
  // Filter by code: only its issues, and how many of all.
  await page.selectOption('#filter-code', 'required');
  const codes = await page.$$eval('#rows .grid-row span:nth-child(4)', (cells) => cells.map((c) => c.textContent));
  assert.ok(codes.length > 0 && codes.every((c) => c === 'required'), codes.join());
  assert.equal(await page.textContent('#shown'), `${expected.counts.required} of ${total} shown`);
  // Sort by field, all codes.
  await page.selectOption('#filter-code', '');
  await page.selectOption('#sort', 'field');
  const fields = await page.$$eval('#rows .grid-row span:nth-child(3)', (cells) => cells.map((c) => c.textContent));
  assert.deepEqual(fields, [...fields].sort((a, b) => a.localeCompare(b)));
  // Chinese: the explanations too.
  await page.selectOption('#lang', 'zh-CN');
  assert.equal(await page.textContent('#codes tr[data-code="ambiguous_date"] td:nth-child(3)'), '无法分辨日和月（如 03/04）。');
  // The CSV: a header, one line an issue, quoted where needed, with a BOM.
  const [download] = await Promise.all([page.waitForEvent('download'), page.click('#download-csv')]);
  const csv = readFileSync(await download.path(), 'utf8');
  assert.ok(csv.startsWith('\uFEFFrow,line,cell,field,code,message,value\r\n'), csv.slice(0, 80));
  assert.equal(csv.trimEnd().split('\r\n').length, total + 1);
  assert.match(csv, /,"[^"]*,[^"]*",/, 'a message with a comma is quoted');
  assert.deepEqual(errors, []);
  await context.close();
});

test('the issue table reaches its last row beyond what a browser lays out (600,000 issues)', async () => {
  const { page, context, errors } = await open('/batch.html');
  await page.fill('#asof', '2025-06-30');
  const file = bigCsv(600_000, { invalidEvery: 1 });
  await page.setInputFiles('#file', file);
  await page.click('#run');
  await page.waitForSelector('body[data-done="browser"]', { timeout: 120_000 });
  const count = Number((await page.textContent('#issue-count')).replace(/\D/g, ''));
  assert.ok(count >= 600_000, `${count} issues`);
  await page.$eval('#scroller', (s) => { s.scrollTop = s.scrollHeight; });
  await page.waitForFunction((n) => [...document.querySelectorAll('#rows .grid-row')].some((r) => r.dataset.index === String(n - 1)), count);
  // The last row is drawn inside the view, not below it.
  const [view, last] = await page.$eval('#scroller', (s) => {
    const rows = [...s.querySelectorAll('.grid-row')];
    const row = rows.find((r) => r.dataset.index === String(rows.length && Math.max(...rows.map((x) => Number(x.dataset.index)))));
    return [s.getBoundingClientRect().top + s.clientTop + s.clientHeight, row.getBoundingClientRect().bottom];
  });
  assert.ok(last <= view + 1, `the last row ends at ${last}, the view at ${view}`);
  // And the middle is reachable too.
  await page.$eval('#scroller', (s) => { s.scrollTop = (s.scrollHeight - s.clientHeight) / 2; });
  // The table redraws on the scroll event, which comes after the assignment.
  await page.waitForFunction((n) => ![...document.querySelectorAll('#rows .grid-row')].some((r) => r.dataset.index === String(n - 1)), count);
  const middle = await page.$eval('#rows', (r) => Number(r.querySelector('.grid-row:nth-child(12)').dataset.index));
  assert.ok(Math.abs(middle - count / 2) < 100, `row ${middle} in the middle of ${count}`);
  assert.deepEqual(errors, []);
  await context.close();
});

test('both pages fit a 375×667 phone screen', async () => {
  for (const path of ['/', '/batch.html']) {
    const { page, context } = await open(path, { viewport: PHONE });
    const width = await page.evaluate(() => document.documentElement.scrollWidth);
    assert.ok(width <= PHONE.width, `${path} is ${width}px wide`);
    for (const selector of path === '/' ? ['#patientId', '#next', '#progress'] : ['#drop', '#run', '#protocol']) {
      const box = await page.locator(selector).boundingBox();
      assert.ok(box && box.x >= 0 && box.x + box.width <= PHONE.width, `${selector} on ${path}: ${JSON.stringify(box)}`);
    }
    await context.close();
  }
});
