// The pages' service worker: they open and check answers with no network
// after one visit. Every GET it answers goes to the network first (so a
// server upgrade reaches the page at once, and the module is always the
// one the server runs) and falls back to the copy kept from the last
// successful answer when the network fails or is too slow. What it keeps:
// the pages, their scripts, the compact module (fetched at install) and
// whatever the pages ask to keep (`keep` in offline.js: the trial, its
// protocol, the full module when the protocol needs it). Nothing else is
// cached: submissions, statuses and batch results always go to the server.

const CACHE = 'clinval-pages';
/** What a page needs to open offline, fetched when the worker installs. */
const SHELL = [
  '/',
  '/batch.html',
  '/assets/style.css',
  '/assets/i18n.js',
  '/assets/offline.js',
  '/assets/device.js',
  '/assets/outbox.js',
  '/assets/local-time.js',
  '/assets/widgets.js',
  '/assets/access.js',
  '/assets/form.js',
  '/assets/batch.js',
  '/assets/batch-worker.js',
  '/pkg/clinval.js',
  '/pkg/clinval_bg.wasm',
];
/** How long the network gets before the kept copy is used instead. */
const NETWORK_WAIT_MS = 5000;

self.addEventListener('install', (event) => {
  event.waitUntil((async () => {
    const cache = await caches.open(CACHE);
    await cache.addAll(SHELL);
    await self.skipWaiting();
  })());
});

self.addEventListener('activate', (event) => {
  event.waitUntil(self.clients.claim());
});

self.addEventListener('fetch', (event) => {
  const request = event.request;
  const url = new URL(request.url);
  if (request.method !== 'GET' || url.origin !== self.location.origin) return;
  event.respondWith(answer(request, url));
});

/** The network's answer, kept if the URL is kept; else the kept copy. */
async function answer(request, url) {
  const cache = await caches.open(CACHE);
  // A page asks for `/` as a navigation; its copy is kept under the path.
  const key = url.origin + url.pathname + url.search;
  const kept = await cache.match(key);
  try {
    const response = await withDeadline(fetch(request), kept ? NETWORK_WAIT_MS : null);
    if (response.ok && kept) await cache.put(key, response.clone());
    return response;
  } catch (error) {
    if (kept) return kept;
    throw error;
  }
}

/** `promise`, or a rejection after `ms` (none when `ms` is null). */
function withDeadline(promise, ms) {
  if (ms === null) return promise;
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('the network is too slow')), ms);
    promise.then(
      (value) => { clearTimeout(timer); resolve(value); },
      (error) => { clearTimeout(timer); reject(error); },
    );
  });
}
