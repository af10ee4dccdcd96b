// The ePRO form when the network fails: real headless Chromium against a
// real `clinval serve --demo` that each test kills (as a lost network or
// a crash looks to the page) and starts again on the same address.

import { after, before, afterEach, test } from 'node:test';
import assert from 'node:assert/strict';
import { startServer, launchBrowser, openPage } from './harness.mjs';

let chrome;
let server;

before(async () => {
  chrome = await launchBrowser();
});

afterEach(() => {
  server?.stop();
  server = null;
});

after(async () => {
  await chrome?.close();
});

/** A page on a fresh server, once the service worker controls it. */
async function visit(args = []) {
  server = await startServer({ args });
  const opened = await openPage(chrome.browser, `${server.base}/`);
  await opened.page.waitForFunction(() => navigator.serviceWorker.controller !== null);
  return opened;
}

async function ready(page) {
  await page.waitForSelector('body[data-ready="true"]');
}

async function fillDiary(page, patient) {
  await page.fill('#patientId', patient);
  await page.check('[name="pain"][value="3"]');
  await page.check('[name="fatigue"][value="4"]');
  await page.check('[name="sleepQuality"][value="good"]');
  await page.check('[name="nausea"][value="false"]');
  await page.check('[name="symptoms"][value="none"]');
  assert.equal(await page.isDisabled('#submit'), false, await page.textContent('#form-status'));
}

/** A valid diary sent with the server killed: it waits on the phone. */
async function sendWhileServerIsDown(page, patient) {
  await fillDiary(page, patient);
  await server.kill();
  await page.click('#submit');
  await page.waitForSelector('#form-status.warn');
}

/** The trial's stored submissions, counted by the server. */
async function stored() {
  const response = await fetch(`${server.base}/api/v1/projects/CT001`, { headers: { authorization: `Bearer ${server.token}` } });
  const { submissions } = await response.json();
  return submissions.accepted + submissions.processing + submissions.processed + submissions.failed;
}

/** The value chosen for `name` (a scale or choices), or null. */
async function chosen(page, name) {
  return page.$eval(`#fields`, (box, name) => box.querySelector(`[name="${name}"]:checked`)?.value ?? null, name);
}

async function locked(page) {
  return page.evaluate(() => [...document.querySelectorAll('#diary input')].every((input) => input.disabled));
}

test('the form opens and checks answers with no network after one visit, and a draft survives a reload', async () => {
  const { page, context, errors } = await visit();
  await page.fill('#patientId', 'P-OFF-1');
  await page.check('[name="pain"][value="3"]');
  await page.check('[name="sleepQuality"][value="good"]');
  await page.check('[name="symptoms"][value="headache"]');
  await page.fill('#f-notes', 'Slept badly.');
  await page.reload();
  await ready(page);
  assert.equal(await page.inputValue('#patientId'), 'P-OFF-1');
  assert.equal(await chosen(page, 'pain'), '3');
  assert.equal(await page.isChecked('[name="sleepQuality"][value="good"]'), true);
  assert.equal(await page.isChecked('[name="symptoms"][value="headache"]'), true);
  assert.equal(await page.inputValue('#f-notes'), 'Slept badly.');

  // The server is gone: the page, the module and the protocol are on the phone.
  await server.kill();
  await page.reload();
  await ready(page);
  assert.equal(await chosen(page, 'pain'), '3', 'the draft, offline');
  await page.fill('#f-notes', 'x'.repeat(2001));
  assert.match(await page.textContent('#msg-notes'), /at most 2000 characters/);
  await page.check('[name="pain"][value="2"]');
  await page.fill('#f-notes', 'Slept badly.');
  assert.equal(await page.textContent('#msg-notes'), '');
  // And after a visit to the other page and back.
  await page.click('a[href="/batch.html"]');
  await page.waitForSelector('#drop');
  await page.goBack();
  await ready(page);
  assert.equal(await chosen(page, 'pain'), '2');
  assert.deepEqual(errors, []);
  await context.close();
});

test('a diary sent while the server is unreachable waits on the phone and arrives exactly once, also after a reload', async () => {
  const { page, context, errors } = await visit();
  await sendWhileServerIsDown(page, 'P-OFF-2');
  assert.match(await page.textContent('#form-status'), /Saved on this phone/);
  assert.equal(await locked(page), true, 'the answers are locked while the diary waits');

  // Closed and opened again, still offline: the diary is still waiting.
  await page.reload();
  await ready(page);
  assert.equal(await locked(page), true);
  assert.equal(await chosen(page, 'pain'), '3');
  await page.waitForSelector('#form-status.warn');

  // The server is back: the diary is sent by itself, once.
  await server.restart();
  await page.waitForSelector('#receipt:not([hidden])', { timeout: 90_000 });
  assert.match((await page.textContent('#sub-id')).trim(), /^[0-9a-f-]{36}$/);
  await page.waitForSelector('#sub-status[data-status="processed"]', { timeout: 30_000 });
  assert.equal(await stored(), 1);
  // Nothing is left to send, and the next diary starts empty.
  await page.reload();
  await ready(page);
  assert.equal(await locked(page), false);
  assert.equal(await chosen(page, 'pain'), null);
  assert.equal(await stored(), 1);
  assert.deepEqual(errors, []);
  await context.close();
});

test('a lost reply is retried with the same Idempotency-Key and stores one submission, the answers locked meanwhile', async () => {
  const { page, context, errors } = await visit();
  await fillDiary(page, 'P-OFF-3');
  const keys = [];
  let lose = true;
  await page.route('**/api/v1/submissions', async (route) => {
    keys.push(route.request().headers()['idempotency-key']);
    if (!lose) return route.continue();
    lose = false;
    // The server stores the diary; its reply never reaches the phone.
    const response = await route.fetch();
    assert.equal(response.status(), 202);
    await route.abort('connectionreset');
  });
  await page.click('#submit');
  await page.waitForSelector('#form-status.warn');
  assert.equal(await locked(page), true);
  await page.waitForSelector('#receipt:not([hidden])', { timeout: 30_000 });
  assert.equal(keys.length, 2, 'one retry');
  assert.equal(keys[0], keys[1], 'the same key');
  assert.equal(await stored(), 1);
  // The receipt has the focus.
  assert.equal(await page.evaluate(() => document.activeElement.id), 'receipt-title');
  assert.deepEqual(errors, []);
  await context.close();
});

test('a queued diary altered on the device is refused when it arrives, and the patient\'s answers come back', async () => {
  const { page, context, errors } = await visit();
  await sendWhileServerIsDown(page, 'P-OFF-4');
  // Someone edits what waits in the outbox.
  await page.evaluate(async () => {
    const db = await new Promise((resolve) => { indexedDB.open('clinval-epro').onsuccess = (e) => resolve(e.target.result); });
    const store = db.transaction('outbox', 'readwrite').objectStore('outbox');
    const all = await new Promise((resolve) => { store.getAll().onsuccess = (e) => resolve(e.target.result); });
    const entry = all[0];
    entry.body = entry.body.replace('"pain":"3"', '"pain":"99"');
    await new Promise((resolve) => { store.put(entry).onsuccess = resolve; });
  });
  await server.restart();
  await page.waitForSelector('#form-status.bad', { timeout: 90_000 });
  assert.match(await page.textContent('#form-status'), /not valid/);
  assert.equal(await locked(page), false, 'the answers are the patient\'s again');
  assert.equal(await chosen(page, 'pain'), '3', 'as the patient gave them');
  assert.equal(await stored(), 0);
  assert.deepEqual(errors, []);
  await context.close();
});

test('the receipt follows a diary through a server outage: polling backs off on errors and resumes', async () => {
  // A server that accepts but does not process: the receipt keeps polling.
  const { page, context, errors } = await visit(['--process-workers', '0']);
  await fillDiary(page, 'P-OFF-5');
  await page.click('#submit');
  await page.waitForSelector('#sub-status[data-status="accepted"]');
  const id = (await page.textContent('#sub-id')).trim();
  const polls = [];
  page.on('request', (request) => { if (request.url().endsWith(`/api/v1/submissions/${id}`)) polls.push(Date.now()); });
  await server.kill();
  await new Promise((resolve) => setTimeout(resolve, 3000));
  // At 400 ms apart it would be 7 tries; backing off, it is at most 4.
  assert.ok(polls.length >= 1 && polls.length <= 4, `${polls.length} polls while the server was down`);
  await server.restart([]);
  await page.waitForSelector('#sub-status[data-status="processed"]', { timeout: 60_000 });
  assert.deepEqual(errors, [], 'no uncaught error');
  await context.close();
});
