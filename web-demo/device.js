// What the ePRO form keeps on the device, in IndexedDB: the draft being
// filled in (saved as the patient types, so a reload or a visit to
// another page loses nothing), the outbox of diaries not yet known to be
// stored by the server (outbox.js), and the patient's credential. IndexedDB outlives the page and
// the network; it is cleared only by the page (a diary the server has)
// or by the patient clearing the browser's site data.

const NAME = 'clinval-epro';
const VERSION = 2;
/**
 * Object stores: `drafts` by trial id, `outbox` by Idempotency-Key,
 * `credentials` (the patient's, from an access link, under `patient`).
 */
const STORES = { drafts: null, outbox: 'key', credentials: null };

let opened = null;

function database() {
  opened ??= new Promise((resolve, reject) => {
    const request = indexedDB.open(NAME, VERSION);
    request.onupgradeneeded = () => {
      for (const [store, keyPath] of Object.entries(STORES)) {
        if (!request.result.objectStoreNames.contains(store)) {
          request.result.createObjectStore(store, keyPath ? { keyPath } : undefined);
        }
      }
    };
    request.onsuccess = () => resolve(request.result);
    request.onerror = () => reject(request.error);
  });
  return opened;
}

/** Runs `work(store)` in one transaction; resolves with its request's result once committed. */
async function run(name, mode, work) {
  const db = await database();
  return new Promise((resolve, reject) => {
    const tx = db.transaction(name, mode);
    const request = work(tx.objectStore(name));
    tx.oncomplete = () => resolve(request?.result);
    tx.onerror = () => reject(tx.error);
    tx.onabort = () => reject(tx.error ?? new Error('IndexedDB transaction aborted'));
  });
}

/** The value under `key` in `store`, or undefined. */
export function get(store, key) {
  return run(store, 'readonly', (s) => s.get(key));
}

/** Every value of `store`, in key order. */
export function all(store) {
  return run(store, 'readonly', (s) => s.getAll());
}

/** Stores `value` (under `key` for a store without a key path); resolves once on disk. */
export function put(store, value, key) {
  return run(store, 'readwrite', (s) => (key === undefined ? s.put(value) : s.put(value, key)));
}

/** Deletes `key` from `store`. */
export function remove(store, key) {
  return run(store, 'readwrite', (s) => s.delete(key));
}
