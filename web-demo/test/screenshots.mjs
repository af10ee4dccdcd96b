// Screenshots of both pages at desktop and phone size, for docs/ and the
// README: `node test/screenshots.mjs` (after cargo build -p clinval-host;
// Chinese text needs Debian's fonts-noto-cjk).

import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { startServer, launchBrowser, PHONE, DESKTOP, SHARED, ROOT } from './harness.mjs';

const out = join(ROOT, 'docs/screenshots');
mkdirSync(out, { recursive: true });
const server = await startServer();
const chrome = await launchBrowser();

async function open(viewport, locale) {
  const context = await chrome.browser.newContext({ viewport, locale, deviceScaleFactor: viewport === PHONE ? 2 : 1 });
  const page = await context.newPage();
  await page.goto(`${server.base}/`);
  await page.waitForSelector('body[data-ready="true"]');
  return { page, context };
}

const shot = (page, name, fullPage = false) => page.screenshot({ path: join(out, `${name}.png`), fullPage });

try {
  // The whole form on a desktop, Send pressed with answers missing.
  {
    const { page, context } = await open(DESKTOP, 'en-US');
    await page.fill('#patientId', 'P-001');
    await page.check('[name="pain"][value="3"]');
    await page.check('[name="sleepQuality"][value="good"]');
    await page.check('[name="nausea"][value="true"]');
    await page.check('[name="symptoms"][value="headache"]');
    await page.click('#submit');
    await page.evaluate(() => window.scrollTo(0, 0));
    await shot(page, 'form-desktop', true);
    await context.close();
  }
  // One question per screen on a phone, in English and in Chinese.
  for (const [name, locale] of [['form-phone', 'en-US'], ['form-phone-zh', 'zh-CN']]) {
    const { page, context } = await open(PHONE, locale);
    await page.fill('#patientId', 'P-001');
    await page.click('#next');
    await page.check('[name="pain"][value="3"]');
    await shot(page, name);
    await context.close();
  }
  // Offline: the diary waits on the phone, shown as its review.
  {
    const offline = await startServer();
    const context = await chrome.browser.newContext({ viewport: PHONE, locale: 'en-US', deviceScaleFactor: 2 });
    const page = await context.newPage();
    await page.goto(`${offline.base}/`);
    await page.waitForSelector('body[data-ready="true"]');
    await page.waitForFunction(() => navigator.serviceWorker.controller !== null);
    await page.fill('#patientId', 'P-001');
    await page.click('#next');
    for (const [field, value] of [['pain', '3'], ['fatigue', '4'], ['sleepQuality', 'good'], ['nausea', 'false'], ['symptoms', 'headache']]) {
      await page.check(`[name="${field}"][value="${value}"]`);
      await page.click('#next');
    }
    await page.click('#next'); // no notes
    await offline.kill();
    await page.click('#submit');
    await page.waitForSelector('#form-status.warn');
    await shot(page, 'form-phone-offline', true);
    await context.close();
    offline.stop();
  }
  for (const [size, viewport] of [['desktop', DESKTOP], ['phone', PHONE]]) {
    const context = await chrome.browser.newContext({ viewport, locale: 'en-US', deviceScaleFactor: size === 'phone' ? 2 : 1 });
    const page = await context.newPage();
    await page.goto(`${server.base}/batch.html`);
    await page.waitForSelector('body[data-ready="true"]');
    await page.selectOption('#protocol', 'patient');
    await page.fill('#asof', '2025-06-30');
    await page.setInputFiles('#file', join(SHARED, 'patients-sample.csv'));
    await page.click('#send');
    await page.waitForSelector('body[data-done="server"]');
    if (size === 'phone') await page.locator('#results').scrollIntoViewIfNeeded();
    await shot(page, `batch-${size}`, size === 'desktop');
    await context.close();
  }
  console.log(`screenshots in ${out}`);
} finally {
  await chrome.close();
  server.stop();
}
