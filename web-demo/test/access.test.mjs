// Patients' access links in real Chromium against a real `clinval serve
// --demo` (its tokens re-checked every second, so a revocation is seen
// at once): the link gives the phone a credential for one patient, and
// every way a link can fail is said to the patient with nothing lost.

import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { startServer, launchBrowser, openPage } from './harness.mjs';

let chrome;
let server;

before(async () => {
  chrome = await launchBrowser();
  server = await startServer({ args: ['--token-cache-ttl', '1'] });
});

after(async () => {
  await chrome?.close();
  server?.stop();
});

/** A browser opening `path` (a link), ready. */
function open(path, options) {
  return openPage(chrome.browser, `${server.base}${path}`, options);
}

async function answer(page) {
  await page.check('[name="pain"][value="4"]');
  await page.check('[name="fatigue"][value="3"]');
  await page.check('[name="sleepQuality"][value="fair"]');
  await page.check('[name="nausea"][value="false"]');
  await page.check('[name="symptoms"][value="none"]');
}

async function stored(id) {
  const response = await fetch(`${server.base}/api/v1/submissions/${id}`, { headers: { authorization: `Bearer ${server.token}` } });
  return response.json();
}

test('a patient\'s link opens the form without a Patient ID, and its credential acts for that patient only', async () => {
  const code = await server.invite('P-LINK-1');
  const { page, context, errors } = await open(`/#access=${code}`);
  assert.equal(await page.isHidden('#patient-field'), true, 'no Patient ID is asked');
  assert.equal(await page.evaluate(() => location.hash), '', 'the code is out of the address');
  assert.match(await page.textContent('#trial'), /P-LINK-1/);
  await answer(page);
  await page.click('#submit');
  await page.waitForSelector('#receipt:not([hidden])');
  const diary = await stored((await page.textContent('#sub-id')).trim());
  assert.equal(diary.patientId, 'P-LINK-1');

  // The phone keeps it: the form opens as this patient's from now on.
  await page.goto(`${server.base}/`);
  await page.waitForSelector('body[data-ready="true"]');
  assert.equal(await page.isHidden('#patient-field'), true);
  await page.selectOption('#lang', 'zh-CN');
  assert.match(await page.textContent('#trial'), /您的日记（患者 P-LINK-1）/);

  // The credential it holds cannot act for anyone else.
  const statuses = await page.evaluate(async () => {
    const db = await new Promise((resolve, reject) => {
      const request = indexedDB.open('clinval-epro');
      request.onsuccess = () => resolve(request.result);
      request.onerror = () => reject(request.error);
    });
    const credential = await new Promise((resolve) => {
      const request = db.transaction('credentials').objectStore('credentials').get('patient');
      request.onsuccess = () => resolve(request.result);
    });
    const headers = { authorization: `Bearer ${credential.token}`, 'content-type': 'application/json' };
    const as = (patientId, trialId) => fetch('/api/v1/submissions', {
      method: 'POST',
      headers,
      body: JSON.stringify({ patientId, trialId, reportData: {} }),
    }).then((r) => r.status);
    return [await as('P-OTHER', 'CT001'), await as('P-LINK-1', 'CT002'), await fetch('/api/v1/projects', { headers }).then((r) => r.status)];
  });
  assert.deepEqual(statuses, [403, 403, 403]);
  assert.deepEqual(errors, []);
  await context.close();
});

test('a used, expired or withdrawn link is said in the patient\'s words, and nothing on the phone is lost', async () => {
  // The patient's phone, with a draft.
  const code = await server.invite('P-LINK-2');
  const phone = await open(`/#access=${code}`);
  await phone.page.check('[name="pain"][value="6"]');

  // The same link on another device: used.
  const other = await open(`/#access=${code}`);
  assert.match(await other.page.textContent('#access-status'), /already been used/);
  assert.equal(await other.page.isVisible('#patient-field'), true, 'no credential: the Patient ID is asked');
  await other.context.close();

  // An expired one, and one withdrawn before it was used, in Chinese.
  const brief = await server.invite('P-LINK-3', '1s');
  await new Promise((resolve) => setTimeout(resolve, 1200));
  const late = await open(`/#access=${brief}`);
  assert.match(await late.page.textContent('#access-status'), /expired/);
  await late.context.close();
  const unused = await server.invite('P-LINK-4');
  await server.revoke('P-LINK-4');
  const withdrawn = await open(`/#access=${unused}`, { locale: 'zh-CN' });
  assert.match(await withdrawn.page.textContent('#access-status'), /已被研究团队撤销/);
  await withdrawn.context.close();

  // The phone's access is withdrawn while it holds a diary: it waits.
  const { page, context, errors } = phone;
  await server.revoke('P-LINK-2');
  await new Promise((resolve) => setTimeout(resolve, 1200));
  await page.reload();
  await page.waitForSelector('body[data-ready="true"]');
  assert.equal(await page.isChecked('[name="pain"][value="6"]'), true, 'the draft is kept');
  await answer(page);
  await page.click('#submit');
  await page.waitForSelector('#form-status.bad');
  assert.match(await page.textContent('#form-status'), /access to the study has been withdrawn/);
  assert.equal(await page.isDisabled('[name="pain"][value="6"]'), true, 'still locked, still on the phone');

  // A new link: the waiting diary goes, once.
  const again = await server.invite('P-LINK-2');
  await page.goto(`${server.base}/#access=${again}`);
  await page.waitForSelector('#receipt:not([hidden])', { timeout: 30_000 });
  const diary = await stored((await page.textContent('#sub-id')).trim());
  assert.equal(diary.patientId, 'P-LINK-2');
  assert.deepEqual(errors, []);
  await context.close();
});
