// The batch page: a file checked in a Web Worker through the clinval
// module (the page never blocks), or sent to the server; counts by code
// and a virtual table that stays fast for hundreds of thousands of issues.

import init, { moduleInfo } from '/pkg/clinval.js';
import { t, codeHelp, initialLang, translatePage, languageSelect } from '/assets/i18n.js';
import { registerServiceWorker } from '/assets/offline.js';

const ROW_HEIGHT = 32;
const OVERSCAN = 8;
/**
 * The tallest the table's spacer is made: browsers stop laying out an
 * element at a few million pixels (Chromium ~16.7 M, so ~520,000 rows of
 * 32 px). Beyond it the scroll position is scaled to the row index.
 */
const MAX_SPACER = 4_000_000;
const MEDIA = { csv: 'text/csv', json: 'application/json', ndjson: 'application/x-ndjson' };
/** Workbooks by extension, with the media type the server takes them as. */
const WORKBOOKS = {
  xlsx: 'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet',
  xlsm: 'application/vnd.ms-excel.sheet.macroEnabled.12',
  xlsb: 'application/vnd.ms-excel.sheet.binary.macroEnabled.12',
  xls: 'application/vnd.ms-excel',
  ods: 'application/vnd.oasis.opendocument.spreadsheet',
};
const MODULES = { compact: '/pkg/clinval_bg.wasm', full: '/pkg/clinval_full_bg.wasm' };
const $ = (id) => document.getElementById(id);

const state = {
  lang: initialLang(),
  file: null,
  worker: null,
  abort: null,
  issues: [],
  /** The issues as filtered and sorted (`issues` itself when neither). */
  view: [],
  viewDirty: true,
  /** The last summary shown, with its server module hash, to re-render. */
  shown: null,
  serverRecords: null,
  by: null,
  /** The sha256 of each module the browser ran, by build, once hashed. */
  shas: {},
  browserSha: null,
  drawQueued: false,
};

function today() {
  const d = new Date();
  return `${d.getFullYear()}-${String(d.getMonth() + 1).padStart(2, '0')}-${String(d.getDate()).padStart(2, '0')}`;
}

function extension(file) {
  const name = file.name.toLowerCase();
  return name.includes('.') ? name.slice(name.lastIndexOf('.') + 1) : '';
}

function formatOf(file) {
  const name = file.name.toLowerCase();
  if (extension(file) in WORKBOOKS) return 'workbook';
  if (name.endsWith('.json')) return 'json';
  if (name.endsWith('.ndjson') || name.endsWith('.jsonl')) return 'ndjson';
  if (name.endsWith('.csv')) return 'csv';
  if (file.type.includes('ndjson')) return 'ndjson';
  if (file.type.includes('json')) return 'json';
  return 'csv';
}

async function sha256(bytes) {
  const digest = await crypto.subtle.digest('SHA-256', bytes);
  return [...new Uint8Array(digest)].map((b) => b.toString(16).padStart(2, '0')).join('');
}

function choose(file) {
  // A new file: the previous file's results (and its valid records, kept
  // by the worker) are not this one's.
  state.worker?.terminate();
  state.worker = null;
  state.abort?.abort();
  state.abort = null;
  setBusy(false);
  clearResults();
  state.file = file;
  $('chosen').textContent = file ? `${file.name} — ${size(file.size)}` : '';
  $('run').disabled = !file;
  $('send').disabled = !file;
}

function setBusy(busy) {
  $('run').disabled = busy || !state.file;
  $('send').disabled = busy || !state.file;
  $('cancel').hidden = !busy;
  $('progress-box').hidden = !busy;
}

/** A file size for people: KB under a megabyte, else MB. */
function size(bytes) {
  return bytes < 1e6 ? `${Math.max(1, Math.round(bytes / 1e3))} KB` : `${(bytes / 1e6).toFixed(2)} MB`;
}

/** Forgets the last results (checked next `by`, or none). */
function forgetResults(by) {
  state.issues = [];
  state.viewDirty = true;
  state.shown = null;
  state.serverRecords = null;
  state.by = by;
  resetFilters();
  setDownloads(false);
}

/** Hides every result, and what the downloads would export. */
function clearResults() {
  forgetResults(null);
  $('results').hidden = true;
  status('');
  delete document.body.dataset.done;
}

/** The downloads are offered only for a file that was checked. */
function setDownloads(on) {
  $('download-valid').disabled = !on;
  $('download-errors').disabled = !on;
  $('download-csv').disabled = !on;
}

/** Empties the filters (their choices come with the next summary). */
function resetFilters() {
  for (const id of ['filter-code', 'filter-field']) {
    const select = $(id);
    select.replaceChildren(new Option(t(state.lang, 'all'), ''));
  }
  $('sort').value = 'row';
}

/** Offers the codes and fields the issues have, keeping the choices made. */
function fillFilters(summary) {
  const fields = new Set();
  for (const issue of state.issues) if (issue.field) fields.add(issue.field);
  const fill = (id, values) => {
    const select = $(id);
    const chosen = select.value;
    select.replaceChildren(new Option(t(state.lang, 'all'), ''), ...values.map((v) => new Option(v, v)));
    select.value = values.includes(chosen) ? chosen : '';
  };
  fill('filter-code', Object.keys(summary.byCode).sort());
  fill('filter-field', [...fields].sort());
}

/** The issues shown: the chosen code and field, in the chosen order. */
function currentView() {
  if (!state.viewDirty) return state.view;
  const code = $('filter-code').value;
  const field = $('filter-field').value;
  const sort = $('sort').value;
  let view = state.issues;
  if (code || field) {
    view = view.filter((i) => (!code || i.code === code) && (!field || i.field === field));
  }
  if (sort !== 'row') {
    // Stable: ties keep the row order.
    view = (view === state.issues ? [...view] : view).sort((a, b) => (a[sort] ?? '').localeCompare(b[sort] ?? ''));
  }
  state.view = view;
  state.viewDirty = false;
  return view;
}

function refilter() {
  state.viewDirty = true;
  $('scroller').scrollTop = 0;
  draw();
}

function resetResults(by) {
  forgetResults(by);
  $('results').hidden = false;
  $('summary').replaceChildren();
  $('modules').replaceChildren();
  $('codes').tBodies[0].replaceChildren();
  $('scroller').scrollTop = 0;
  draw();
}

function addIssues(issues) {
  for (const issue of issues) state.issues.push(issue);
  state.viewDirty = true;
  if (!state.drawQueued) {
    state.drawQueued = true;
    requestAnimationFrame(() => {
      state.drawQueued = false;
      draw();
    });
  }
}

/** Renders only the rows in view. */
function draw() {
  const rows = $('rows');
  const scroller = $('scroller');
  const list = currentView();
  const total = list.length;
  $('issue-count').textContent = state.issues.length.toLocaleString();
  $('shown').textContent = list === state.issues ? '' : t(state.lang, 'shown', {
    shown: total.toLocaleString(),
    total: state.issues.length.toLocaleString(),
  });
  const height = total * ROW_HEIGHT;
  const spacer = Math.min(height, MAX_SPACER);
  rows.style.height = `${spacer}px`;
  // The rows start `top` below the scroller's content top (the header
  // row). Scrolled to a fraction of the content's real range, the rows
  // shown are those at the same fraction of the range all rows would
  // need, drawn where the view is (`shift`; 0 when nothing is scaled).
  const view = scroller.clientHeight;
  const top = rows.getBoundingClientRect().top - scroller.getBoundingClientRect().top - scroller.clientTop + scroller.scrollTop;
  const range = scroller.scrollHeight - view;
  const fraction = range > 0 ? Math.min(1, scroller.scrollTop / range) : 0;
  const logical = fraction * Math.max(0, range + height - spacer);
  const shift = scroller.scrollTop - logical;
  const first = Math.max(0, Math.floor((logical - top) / ROW_HEIGHT) - OVERSCAN);
  const last = Math.min(total, Math.ceil((logical - top + view) / ROW_HEIGHT) + OVERSCAN);
  const fragment = document.createDocumentFragment();
  for (let i = first; i < last; i += 1) {
    const issue = list[i];
    const row = document.createElement('div');
    row.className = 'grid-row';
    row.setAttribute('role', 'row');
    row.style.cssText = `position:absolute;top:${i * ROW_HEIGHT + shift}px;left:0;right:0;height:${ROW_HEIGHT}px`;
    row.dataset.index = String(i);
    // A workbook's issue shows its cell (`patients!C17`) where a file's
    // shows its line.
    for (const value of [issue.row, issue.cell ?? issue.line, issue.field ?? '—', issue.code, issue.message, issue.value ?? '']) {
      const cell = document.createElement('span');
      cell.setAttribute('role', 'cell');
      cell.textContent = String(value);
      cell.title = String(value);
      row.append(cell);
    }
    fragment.append(row);
  }
  rows.replaceChildren(fragment);
}

function showSummary(summary, moduleSha) {
  state.shown = { summary, moduleSha };
  const put = (list, key, value, attr) => {
    const dt = document.createElement('dt');
    dt.textContent = t(state.lang, key);
    const dd = document.createElement('dd');
    dd.textContent = value;
    if (attr) dd.dataset.summary = attr;
    list.append(dt, dd);
  };
  const list = $('summary');
  list.replaceChildren();
  put(list, 'checkedBy', t(state.lang, state.by));
  put(list, 'records', summary.records.toLocaleString(), 'records');
  put(list, 'valid', summary.valid.toLocaleString(), 'valid');
  put(list, 'invalid', summary.invalid.toLocaleString(), 'invalid');
  put(list, 'issues', summary.issues.toLocaleString(), 'issues');
  const modules = $('modules');
  modules.replaceChildren();
  put(modules, 'moduleBrowser', state.browserSha ?? '…', 'browser-sha');
  if (moduleSha) {
    put(modules, 'moduleServer', moduleSha, 'server-sha');
    put(modules, 'match', moduleSha === state.browserSha ? t(state.lang, 'same') : t(state.lang, 'differs'), 'same-module');
  }
  const body = $('codes').tBodies[0];
  body.replaceChildren();
  for (const [code, count] of Object.entries(summary.byCode).sort((a, b) => b[1] - a[1])) {
    const tr = document.createElement('tr');
    tr.dataset.code = code;
    const th = document.createElement('td');
    th.textContent = code;
    const td = document.createElement('td');
    td.textContent = count.toLocaleString();
    const help = document.createElement('td');
    help.textContent = codeHelp(state.lang, code);
    tr.append(th, td, help);
    body.append(tr);
  }
}

function status(text, kind = '') {
  $('status').textContent = text;
  $('status').className = `status ${kind}`;
}

function runInBrowser() {
  const file = state.file;
  resetResults('browser');
  setBusy(true);
  status('');
  $('progress').value = 0;
  state.worker?.terminate();
  const worker = new Worker('/assets/batch-worker.js', { type: 'module' });
  state.worker = worker;
  worker.onmessage = async ({ data }) => {
    if (data.type === 'progress') {
      $('progress').value = data.total ? data.bytes / data.total : 1;
      addIssues(data.issues);
    } else if (data.type === 'done') {
      state.browserSha = await moduleSha(data.build);
      setBusy(false);
      draw();
      showSummary(data.summary);
      fillFilters(data.summary);
      setDownloads(true);
      status(t(state.lang, 'checked', { n: data.summary.records.toLocaleString() }), 'ok');
      document.body.dataset.done = 'browser';
    } else if (data.type === 'records') {
      download(data.blob, 'valid-records.json');
    } else if (data.type === 'error') {
      setBusy(false);
      $('results').hidden = true;
      status(t(state.lang, 'unusable', { message: data.message }), 'bad');
      document.body.dataset.done = 'error';
    }
  };
  worker.postMessage({
    type: 'start',
    file,
    protocol: $('protocol').value,
    asOf: $('asof').value || today(),
    lang: state.lang,
    format: formatOf(file),
    sheet: $('sheet').value.trim(),
  });
}

/** The sha256 of the module of `build` (fetched again from the cache). */
async function moduleSha(build) {
  state.shas[build] ??= await fetch(MODULES[build]).then((r) => r.arrayBuffer()).then(sha256);
  return state.shas[build];
}

async function sendToServer() {
  const file = state.file;
  const format = formatOf(file);
  resetResults('server');
  setBusy(true);
  $('progress').removeAttribute('value');
  status('');
  const controller = new AbortController();
  state.abort = controller;
  const query = new URLSearchParams({
    protocol: $('protocol').value,
    as_of: $('asof').value || today(),
    lang: state.lang,
    include: 'valid',
  });
  const sheet = $('sheet').value.trim();
  if (format === 'workbook' && sheet) query.set('sheet', sheet);
  try {
    const response = await fetch(`/api/v1/batches?${query}`, {
      method: 'POST',
      headers: { 'content-type': format === 'workbook' ? WORKBOOKS[extension(file)] : MEDIA[format] },
      body: file,
      signal: controller.signal,
    });
    const report = await response.json();
    if (state.abort !== controller) return; // superseded by another file
    setBusy(false);
    if (!response.ok) {
      $('results').hidden = true;
      status(t(state.lang, 'unusable', { message: report.error?.message ?? response.statusText }), 'bad');
      document.body.dataset.done = 'error';
      return;
    }
    state.serverRecords = report.records ?? [];
    addIssues(report.issues);
    draw();
    showSummary(report.summary, report.module?.sha256);
    fillFilters(report.summary);
    setDownloads(true);
    status(t(state.lang, 'checked', { n: report.summary.records.toLocaleString() }), 'ok');
    document.body.dataset.done = 'server';
  } catch (error) {
    if (state.abort !== controller) return; // superseded by another file
    setBusy(false);
    $('results').hidden = true;
    status(error.name === 'AbortError' ? t(state.lang, 'cancelled') : t(state.lang, 'unusable', { message: error.message }), 'bad');
  }
}

function cancel() {
  state.worker?.terminate();
  state.worker = null;
  state.abort?.abort();
  setBusy(false);
  status(t(state.lang, 'cancelled'));
}

function download(blob, name) {
  const url = URL.createObjectURL(blob);
  const a = document.createElement('a');
  a.href = url;
  a.download = name;
  document.body.append(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 10_000);
}

function downloadValid() {
  if (state.by === 'server' && state.serverRecords) {
    const text = `[${state.serverRecords.map((r) => JSON.stringify(r)).join(',\n')}]\n`;
    download(new Blob([text], { type: 'application/json' }), 'valid-records.json');
  } else if (state.by === 'browser') {
    state.worker?.postMessage({ type: 'records' });
  }
}

/** One CSV field: quoted when it holds a comma, a quote or a line break. */
function csvField(value) {
  const text = value === null || value === undefined ? '' : String(value);
  return /[",\r\n]/.test(text) ? `"${text.replaceAll('"', '""')}"` : text;
}

function downloadCsv() {
  const columns = ['row', 'line', 'cell', 'field', 'code', 'message', 'value'];
  const lines = [`${columns.join(',')}\r\n`];
  for (const issue of state.issues) lines.push(`${columns.map((c) => csvField(issue[c])).join(',')}\r\n`);
  // A byte-order mark, so that Excel reads the UTF-8 (Chinese messages).
  download(new Blob(['\uFEFF', ...lines], { type: 'text/csv' }), 'errors.csv');
}

function downloadErrors() {
  const lines = state.issues.map((issue) => `${JSON.stringify(issue)}\n`);
  download(new Blob(lines, { type: 'application/x-ndjson' }), 'errors.jsonl');
}

async function main() {
  registerServiceWorker();
  translatePage(state.lang);
  languageSelect(state.lang, (lang) => {
    state.lang = lang;
    translatePage(lang);
    // The texts made from results: the summary, the filters' "All".
    if (state.shown) showSummary(state.shown.summary, state.shown.moduleSha);
    for (const id of ['filter-code', 'filter-field']) $(id).options[0].textContent = t(lang, 'all');
    draw();
  });
  $('asof').value = today();
  const bytes = await fetch(MODULES.compact).then((r) => r.arrayBuffer());
  state.shas.compact = await sha256(bytes);
  state.browserSha = state.shas.compact;
  await init({ module_or_path: bytes });
  for (const name of moduleInfo().protocols) {
    const option = document.createElement('option');
    option.value = name;
    option.textContent = name;
    $('protocol').append(option);
  }
  $('file').addEventListener('change', () => choose($('file').files[0] ?? null));
  const drop = $('drop');
  drop.addEventListener('dragover', (e) => { e.preventDefault(); drop.classList.add('over'); });
  drop.addEventListener('dragleave', () => drop.classList.remove('over'));
  drop.addEventListener('drop', (e) => {
    e.preventDefault();
    drop.classList.remove('over');
    choose(e.dataTransfer.files[0] ?? null);
  });
  drop.addEventListener('keydown', (e) => {
    if (e.key === 'Enter' || e.key === ' ') { e.preventDefault(); $('file').click(); }
  });
  drop.tabIndex = 0;
  $('run').addEventListener('click', runInBrowser);
  $('send').addEventListener('click', sendToServer);
  $('cancel').addEventListener('click', cancel);
  $('scroller').addEventListener('scroll', draw, { passive: true });
  $('download-valid').addEventListener('click', downloadValid);
  $('download-errors').addEventListener('click', downloadErrors);
  $('download-csv').addEventListener('click', downloadCsv);
  for (const id of ['filter-code', 'filter-field', 'sort']) $(id).addEventListener('change', refilter);
  resetFilters();
  document.body.dataset.ready = 'true';
}

main().catch((error) => status(String(error.message ?? error), 'bad'));
