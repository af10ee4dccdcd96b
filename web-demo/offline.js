// What the pages share to work with no network: the service worker's
// registration (sw.js serves kept copies when the network fails), and
// `fetchKept`, a GET whose answer is kept for then. The worker cannot see
// the page's first requests (it starts controlling the page after them),
// so a page keeps what it fetched itself.

const CACHE = 'clinval-pages';

/** Registers sw.js for the whole site; resolves when it controls the page (or at once where there are no service workers). */
export async function registerServiceWorker() {
  if (!('serviceWorker' in navigator)) return;
  try {
    await navigator.serviceWorker.register('/sw.js');
    await navigator.serviceWorker.ready;
  } catch {
    // No worker (a private window, a blocked script): the page still
    // works online, and keeps what it fetched for when the worker runs.
  }
}

async function cache() {
  try {
    return await caches.open(CACHE);
  } catch {
    return null;
  }
}

/**
 * GET `url` (with `init`'s headers): the network's answer, kept when it
 * is a success (by the worker, if it controls the page and keeps the URL
 * already; else here); when the network fails, the kept answer, if any.
 */
export async function fetchKept(url, init) {
  const kept = await cache();
  try {
    const response = await fetch(url, init);
    const refreshed = navigator.serviceWorker?.controller && (await kept?.match(url));
    if (response.ok && kept && !refreshed) await kept.put(url, response.clone());
    return response;
  } catch (error) {
    const copy = await kept?.match(url);
    if (copy) return copy;
    throw error;
  }
}

/** Keeps `url` (fetched now) unless a copy is kept already; failures are left for the next visit. */
export async function keep(url) {
  const kept = await cache();
  if (!kept || (await kept.match(url))) return;
  try {
    const response = await fetch(url);
    if (response.ok) await kept.put(url, response);
  } catch {
    // Offline now: the next visit online keeps it.
  }
}
