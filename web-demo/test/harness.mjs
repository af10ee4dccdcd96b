// What the web demo's browser tests share: a real `clinval serve --demo`
// on 127.0.0.1 in a fresh data dir, and Debian's Chromium driven by
// playwright-core.

import { spawn, execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { chromium } from 'playwright-core';

const ROOT = new URL('../../', import.meta.url).pathname;

/** The clinval binary: $CLINVAL_BIN, else the workspace's debug build. */
export function binary() {
  const bin = process.env.CLINVAL_BIN ?? join(ROOT, 'target/debug/clinval');
  if (!existsSync(bin)) throw new Error(`${bin} is missing: run cargo build -p clinval-host first`);
  return bin;
}

/** Runs `clinval serve --demo` on `listen` with `data` (and `args`); resolves to { child, address, token }. */
async function spawnServer(data, listen, args) {
  const child = spawn(binary(), ['serve', '--demo', '--listen', listen, '--data-dir', data, '--log-format', 'json', ...args], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const token = new Promise((resolve) => {
    createInterface({ input: child.stdout }).on('line', (line) => {
      const found = line.match(/^demo token \(submit, read\): (clv_\w+)$/);
      if (found) resolve(found[1]);
    });
  });
  const address = new Promise((resolve, reject) => {
    const logs = [];
    createInterface({ input: child.stderr }).on('line', (line) => {
      logs.push(line);
      try {
        const entry = JSON.parse(line);
        if (entry.message === 'listening') resolve(entry.address);
      } catch {}
    });
    child.on('exit', (code) => reject(new Error(`clinval serve exited ${code}: ${logs.join('\n')}`)));
  });
  return { child, address: await address, token: await token };
}

/**
 * Starts `clinval serve --demo` in a fresh data dir; resolves to
 * { base, token, stop, kill, restart, admin, invite, revoke }: `kill`
 * ends the process as a crash would (the network is gone for the pages),
 * `restart` starts it again on the same address and data (with a new demo
 * token; with other `args` if given).
 */
export async function startServer({ args = [] } = {}) {
  const data = mkdtempSync(join(tmpdir(), 'clinval-web-'));
  let running = await spawnServer(data, '127.0.0.1:0', args);
  let admin = null;
  const server = {
    base: `http://${running.address}`,
    token: running.token,
    kill() {
      const exited = new Promise((resolve) => running.child.once('exit', resolve));
      running.child.kill('SIGKILL');
      return exited;
    },
    async restart(with_ = args) {
      running = await spawnServer(data, running.address, with_);
      server.token = running.token;
    },
    /** A token with the admin scope, made by `clinval token create` on the data dir. */
    admin() {
      admin ??= execFileSync(binary(), ['token', 'create', '--scope', 'admin', '--data-dir', data], { encoding: 'utf8' }).trim();
      return admin;
    },
    /** A new access code for `patient` of trial CT001 (`validFor`: `14d`, `1s`). */
    async invite(patient, validFor = '14d') {
      const response = await fetch(`${server.base}/api/v1/projects/CT001/patients/${patient}/invites?validFor=${validFor}`, {
        method: 'POST',
        headers: { authorization: `Bearer ${server.admin()}` },
      });
      if (response.status !== 201) throw new Error(`invite: HTTP ${response.status}`);
      return (await response.json()).code;
    },
    /** Revokes `patient`'s access. */
    async revoke(patient) {
      await fetch(`${server.base}/api/v1/projects/CT001/patients/${patient}/access`, {
        method: 'DELETE',
        headers: { authorization: `Bearer ${server.admin()}` },
      });
    },
    stop() {
      running.child.kill('SIGKILL');
      rmSync(data, { recursive: true, force: true });
    },
  };
  return server;
}

/** Headless Chromium from Debian (`apt-get install chromium`). */
export async function launchBrowser() {
  // playwright gives every launch a fresh, temporary profile.
  const browser = await chromium.launch({
    executablePath: process.env.CHROMIUM ?? '/usr/bin/chromium',
    args: [
      '--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
      '--disable-background-networking', '--disable-component-update', '--disable-sync',
    ],
  });
  return {
    browser,
    close: () => browser.close(),
  };
}

/** Sizes the tests and screenshots use. */
export const PHONE = { width: 375, height: 667 };
export const DESKTOP = { width: 1280, height: 900 };

/**
 * A new context of `browser` (fresh storage) at `url`, once the page says
 * it is ready; its uncaught errors collected in `errors`.
 */
export async function openPage(browser, url, { viewport = DESKTOP, locale = 'en-US', timezoneId } = {}) {
  const context = await browser.newContext({ viewport, locale, timezoneId });
  const page = await context.newPage();
  const errors = [];
  page.on('pageerror', (error) => errors.push(error));
  await page.goto(url);
  await page.waitForSelector('body[data-ready="true"]');
  return { page, context, errors };
}

export const SHARED = join(ROOT, '../shared/data');
export { ROOT };
