// The outbox: diaries the patient sent that the server has not yet been
// heard to store. Each is kept on the device (device.js) with its
// Idempotency-Key and the exact body sent, and sent again, the same bytes
// under the same key, until an answer settles it: stored (202, also the
// replay of an earlier try whose reply was lost) or refused for a reason
// no retry changes. So a lost reply never gives two submissions, and an
// edit never reuses a key: the answers are locked until then.
//
// Waits between tries double from 1 s to 60 s (with jitter, or the
// server's Retry-After); the browser coming back online tries at once.
// A page that was closed sends what is left when it is opened again.

import * as device from '/assets/device.js';

const FIRST_WAIT_MS = 1000;
const LONGEST_WAIT_MS = 60_000;

/**
 * What an HTTP status says about a send: `stored`, `unknown` (try again:
 * the network, the server's own trouble, too many requests), `held` (the
 * credential is refused: kept until the page has another) or `refused`.
 */
export function outcomeOf(status) {
  if (status === 202) return 'stored';
  if (status === 401 || status === 403) return 'held';
  if (status === 408 || status === 425 || status === 429 || status >= 500) return 'unknown';
  return 'refused';
}

/** One queued diary. */
export function entry({ trialId, body }) {
  return { key: crypto.randomUUID(), trialId, body: JSON.stringify(body), queuedAt: new Date().toISOString(), tries: 0 };
}

export class Outbox {
  /**
   * `headers()` gives the credential's headers for a send; `onEvent(event)`
   * hears `{ kind, entry, ... }`: `sending`; `stored` with `submissionId`;
   * `waiting` with the `reason` (`network` or the status);
   * `held` and `refused` with `status` and the server's `body`; `error`
   * with the `error` when the device's storage fails.
   */
  constructor({ headers, onEvent }) {
    this.headers = headers;
    this.onEvent = onEvent;
    this.timer = null;
    this.running = null;
    this.held = new Set();
    window.addEventListener('online', () => this.kick());
  }

  /** The queued diaries of `trialId`, oldest first. */
  async pending(trialId) {
    const entries = await device.all('outbox');
    return entries.filter((e) => e.trialId === trialId).sort((a, b) => a.queuedAt.localeCompare(b.queuedAt));
  }

  /** Keeps `item` on the device (resolves once it is), then sends it. */
  async add(item) {
    await device.put('outbox', item);
    this.kick();
  }

  /**
   * Sends everything queued now, also what was held (the credential may
   * have changed) unless `retry` (a back-off's try: held stays held).
   */
  kick({ retry = false } = {}) {
    if (!retry) this.held.clear();
    this.again = true;
    this.running ??= (async () => {
      // A kick while sending (a new diary, the network back) goes again.
      while (this.again) {
        this.again = false;
        clearTimeout(this.timer);
        this.timer = null;
        await this.flush();
      }
    })()
      .catch((error) => this.onEvent({ kind: 'error', error }))
      .finally(() => { this.running = null; });
    return this.running;
  }

  async flush() {
    for (const item of await device.all('outbox')) {
      if (this.held.has(item.key)) continue;
      const wait = await this.send(item);
      if (wait !== null) {
        this.timer = setTimeout(() => this.kick({ retry: true }), wait);
        return;
      }
    }
  }

  /** One try of `item`; the wait before the next try, or null when settled or held. */
  async send(item) {
    this.onEvent({ kind: 'sending', entry: item });
    let response;
    try {
      response = await fetch('/api/v1/submissions', {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'idempotency-key': item.key, ...this.headers() },
        body: item.body,
      });
    } catch {
      return this.later(item, 'network', null);
    }
    const body = await response.json().catch(() => null);
    const outcome = outcomeOf(response.status);
    if (outcome === 'unknown') return this.later(item, response.status, response.headers.get('retry-after'));
    if (outcome === 'held') {
      this.held.add(item.key);
      this.onEvent({ kind: 'held', entry: item, status: response.status, body });
      return null;
    }
    await device.remove('outbox', item.key);
    if (outcome === 'stored') this.onEvent({ kind: 'stored', entry: item, submissionId: body?.submissionId });
    else this.onEvent({ kind: 'refused', entry: item, status: response.status, body });
    return null;
  }

  async later(item, reason, retryAfter) {
    item.tries += 1;
    await device.put('outbox', item);
    const seconds = Number(retryAfter);
    const backoff = Math.min(LONGEST_WAIT_MS, FIRST_WAIT_MS * 2 ** (item.tries - 1));
    const wait = Number.isFinite(seconds) && seconds > 0
      ? Math.min(LONGEST_WAIT_MS, seconds * 1000)
      : backoff / 2 + Math.random() * (backoff / 2);
    this.onEvent({ kind: 'waiting', entry: item, reason });
    return wait;
  }
}
