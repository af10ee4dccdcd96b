// Screenshots of both pages at desktop and phone size, for docs/ and the
// README: `node test/screenshots.mjs` (after cargo build -p clinval-host).

import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { startServer, launchBrowser, PHONE, DESKTOP, SHARED, ROOT } from './harness.mjs';

const out = join(ROOT, 'docs/screenshots');
mkdirSync(out, { recursive: true });
const server = await startServer();
const chrome = await launchBrowser();
try {
  for (const [size, viewport] of [['desktop', DESKTOP], ['phone', PHONE]]) {
    const context = await chrome.browser.newContext({ viewport, locale: 'en-US', deviceScaleFactor: size === 'phone' ? 2 : 1 });
    const page = await context.newPage();
    await page.goto(`${server.base}/`);
    await page.waitForSelector('body[data-ready="true"]');
    await page.fill('#patientId', 'P-001');
    await page.fill('#f-pain', '11');
    await page.fill('#f-fatigue', '4');
    await page.check('input[name="sleepQuality"][value="good"]');
    await page.check('input[name="nausea"][value="true"]');
    await page.check('input[name="symptoms"][value="headache"]');
    await page.evaluate(() => window.scrollTo(0, 0));
    await page.screenshot({ path: join(out, `form-${size}.png`), fullPage: size === 'desktop' });

    await page.goto(`${server.base}/batch.html`);
    await page.waitForSelector('body[data-ready="true"]');
    await page.selectOption('#protocol', 'patient');
    await page.fill('#asof', '2025-06-30');
    await page.setInputFiles('#file', join(SHARED, 'patients-sample.csv'));
    await page.click('#send');
    await page.waitForSelector('body[data-done="server"]');
    if (size === 'phone') await page.locator('#results').scrollIntoViewIfNeeded();
    await page.screenshot({ path: join(out, `batch-${size}.png`), fullPage: size === 'desktop' });
    await context.close();
  }
  console.log(`screenshots in ${out}`);
} finally {
  await chrome.close();
  server.stop();
}
