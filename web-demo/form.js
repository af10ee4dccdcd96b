// The ePRO form: built from the trial protocol's field list, checked by
// the clinval WebAssembly module as the patient types (no network), sent
// to /api/v1/submissions, then followed until processed. Which questions
// are asked comes from the module's record verdict (`hidden`): the form
// has no logic of its own, so it branches exactly as the server checks.

import { Validator } from '/pkg/clinval.js';
import { t, initialLang, translatePage, languageSelect } from '/assets/i18n.js';

const PATIENT_ID = /^[A-Za-z0-9_-]{1,64}$/;
const $ = (id) => document.getElementById(id);

const state = {
  lang: initialLang(),
  token: null,
  trialId: 'CT001',
  project: null,
  validator: null,
  values: {},
  touched: new Set(),
  // The answers sent (hidden questions' left out) and their verdict.
  answers: {},
  verdict: null,
  idempotencyKey: null,
  polling: null,
};

function today() {
  const d = new Date();
  return `${d.getFullYear()}-${String(d.getMonth() + 1).padStart(2, '0')}-${String(d.getDate()).padStart(2, '0')}`;
}

function authHeaders() {
  return state.token ? { authorization: `Bearer ${state.token}` } : {};
}

/** A validator for the trial's protocol, in the module it needs (a branching one needs the full module). */
async function makeValidator() {
  const protocol = state.project?.protocol ?? 'epro-daily';
  const validator = await Validator.load(protocol, { asOf: today(), lang: state.lang });
  state.validator?.free();
  state.validator = validator;
}

function fields() {
  return state.validator.protocol().fields;
}

/** One input (or a group of choices) per field, from its type and limits. */
function buildForm() {
  const box = $('fields');
  box.replaceChildren();
  for (const field of fields()) {
    const msgId = `msg-${field.name}`;
    const hintId = `hint-${field.name}`;
    const many = field.type === 'multiselect';
    const choices = field.type === 'boolean'
      ? [['true', 'yes'], ['false', 'no']]
      : field.enum?.map((value) => [value, null]);
    let wrapper;
    if (choices) {
      wrapper = document.createElement('fieldset');
      const legend = document.createElement('legend');
      legend.append(labelText(field));
      const group = document.createElement('div');
      group.className = 'choices';
      for (const [value, key] of choices) {
        const label = document.createElement('label');
        const input = document.createElement('input');
        Object.assign(input, { type: many ? 'checkbox' : 'radio', name: field.name, value });
        input.setAttribute('aria-describedby', msgId);
        input.addEventListener('change', () => answer(field, many ? checkedOf(field) : value, true));
        const text = document.createElement('span');
        text.textContent = key
          ? t(state.lang, key)
          : (field.enumTitles?.[state.lang]?.[value] ?? field.labels?.[value] ?? value);
        if (key) text.dataset.i18n = key;
        label.append(input, text);
        group.append(label);
      }
      wrapper.append(legend, group);
    } else {
      wrapper = document.createElement('div');
      const id = `f-${field.name}`;
      const label = document.createElement('label');
      label.htmlFor = id;
      label.append(labelText(field));
      const long = field.type === 'string' && (field.maxLength ?? 0) > 200;
      const input = document.createElement(long ? 'textarea' : 'input');
      input.id = id;
      input.name = field.name;
      if (!long) input.type = field.type === 'date' ? 'date' : 'text';
      if (field.type === 'integer' || field.type === 'number') {
        input.inputMode = field.type === 'integer' ? 'numeric' : 'decimal';
      }
      if (field.type === 'date') {
        if (field.maximum === '$asOf') input.max = today();
        else if (typeof field.maximum === 'string') input.max = field.maximum;
        if (typeof field.minimum === 'string') input.min = field.minimum;
      }
      if (field.required) input.setAttribute('aria-required', 'true');
      input.autocomplete = 'off';
      const hint = hintText(field);
      input.setAttribute('aria-describedby', hint ? `${hintId} ${msgId}` : msgId);
      input.addEventListener('input', () => answer(field, input.value, false));
      input.addEventListener('blur', () => answer(field, input.value, true));
      wrapper.append(label, input);
      if (hint) {
        const p = document.createElement('p');
        p.id = hintId;
        p.className = 'hint';
        p.textContent = hint;
        wrapper.append(p);
      }
    }
    wrapper.classList.add('field');
    wrapper.dataset.field = field.name;
    const msg = document.createElement('p');
    msg.id = msgId;
    msg.className = 'msg';
    msg.setAttribute('aria-live', 'polite');
    wrapper.append(msg);
    box.append(wrapper);
  }
}

/** A protocol text in the page's language, if the protocol has it. */
function localTitle(item) {
  return item.titles?.[state.lang] ?? item.title;
}

function labelText(field) {
  const span = document.createElement('span');
  span.textContent = localTitle(field);
  if (!field.required) return span;
  const star = document.createElement('span');
  star.className = 'req';
  star.textContent = ' *';
  star.title = t(state.lang, 'required');
  const sr = document.createElement('span');
  sr.className = 'sr-only';
  sr.textContent = ` (${t(state.lang, 'required')})`;
  const all = document.createDocumentFragment();
  all.append(span, star, sr);
  return all;
}

function hintText(field) {
  if ((field.type === 'integer' || field.type === 'number') && field.minimum !== undefined && field.maximum !== undefined) {
    return `${field.minimum}–${field.maximum}`;
  }
  if (field.maxLength && field.type === 'string') return t(state.lang, 'characters', { n: 0, max: field.maxLength });
  return '';
}

/** The chosen codes of a multi-select's checkboxes, in choice order. */
function checkedOf(field) {
  return [...document.querySelectorAll(`[name="${CSS.escape(field.name)}"]:checked`)].map((input) => input.value);
}

/** The value the module gets for a field (`null`: no answer). */
function valueOf(field) {
  const raw = state.values[field.name];
  if (raw === undefined || raw === '' || (Array.isArray(raw) && raw.length === 0)) return null;
  if (field.type === 'boolean') return raw === 'true';
  return raw;
}

function answer(field, raw, touch) {
  state.values[field.name] = raw;
  if (touch || raw !== '') state.touched.add(field.name);
  if (field.maxLength && field.type === 'string') {
    const hint = $(`hint-${field.name}`);
    if (hint) hint.textContent = t(state.lang, 'characters', { n: [...raw].length, max: field.maxLength });
  }
  evaluate();
  updateSubmit();
}

/**
 * Checks the whole record with the module, then shows what it says: the
 * questions its verdict hides are hidden and their answers left out of
 * what is sent (which may hide the questions that depend on them, so
 * until nothing changes), and each touched question shows its first issue.
 */
function evaluate() {
  const answers = {};
  for (const field of fields()) {
    const value = valueOf(field);
    if (value !== null) answers[field.name] = value;
  }
  let verdict = state.validator.validateRecord(answers);
  for (let round = 0; round < fields().length && (verdict.hidden ?? []).some((name) => name in answers); round++) {
    for (const name of verdict.hidden) delete answers[name];
    verdict = state.validator.validateRecord(answers);
  }
  state.answers = answers;
  state.verdict = verdict;
  const hidden = new Set(verdict.hidden ?? []);
  const issues = new Map();
  for (const issue of verdict.issues) if (issue.field && !issues.has(issue.field)) issues.set(issue.field, issue);
  for (const field of fields()) {
    const wrapper = document.querySelector(`[data-field="${CSS.escape(field.name)}"]`);
    if (wrapper) wrapper.hidden = hidden.has(field.name);
    const issue = issues.get(field.name);
    showMessage(field.name, issue && state.touched.has(field.name) ? issue.message : '');
  }
}

function showMessage(name, message) {
  const wrapper = document.querySelector(`[data-field="${CSS.escape(name)}"]`);
  if (!wrapper) return; // not a question of this form
  $(`msg-${name}`).textContent = message;
  for (const input of wrapper.querySelectorAll('input, textarea')) {
    if (message) input.setAttribute('aria-invalid', 'true');
    else input.removeAttribute('aria-invalid');
  }
}

function patientOk() {
  return PATIENT_ID.test($('patientId').value.trim());
}

function checkPatient(touch) {
  const value = $('patientId').value.trim();
  const bad = !patientOk() && (touch || value !== '');
  $('msg-patientId').textContent = bad ? t(state.lang, 'patientBad') : '';
  if (bad) $('patientId').setAttribute('aria-invalid', 'true');
  else $('patientId').removeAttribute('aria-invalid');
}

function allValid() {
  return Boolean(state.verdict?.valid);
}

function updateSubmit() {
  const ok = Boolean(state.token) && patientOk() && allValid();
  $('submit').disabled = !ok;
  $('form-status').textContent = ok ? t(state.lang, 'ready') : t(state.lang, 'fixFirst');
  $('form-status').className = 'status';
}

function refreshAll() {
  buildForm();
  for (const field of fields()) {
    const raw = state.values[field.name];
    if (raw === undefined) continue;
    const inputs = document.querySelectorAll(`[name="${CSS.escape(field.name)}"]`);
    for (const input of inputs) {
      if (input.type === 'radio') input.checked = input.value === raw;
      else if (input.type === 'checkbox') input.checked = raw.includes(input.value);
      else input.value = raw;
    }
  }
  evaluate();
  checkPatient(false);
  updateSubmit();
}

function renderTrial() {
  const p = state.project;
  $('trial').textContent = p ? t(state.lang, 'trialLine', { id: p.id, name: p.name }) : '';
}

async function submit(event) {
  event.preventDefault();
  if ($('submit').disabled) return;
  evaluate();
  const reportData = state.answers;
  const verdict = state.verdict;
  if (!verdict.valid) {
    for (const issue of verdict.issues) if (issue.field) showMessage(issue.field, issue.message);
    return;
  }
  state.idempotencyKey ??= crypto.randomUUID();
  $('submit').disabled = true;
  $('form-status').textContent = t(state.lang, 'sending');
  try {
    const response = await fetch('/api/v1/submissions', {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'idempotency-key': state.idempotencyKey, ...authHeaders() },
      body: JSON.stringify({ patientId: $('patientId').value.trim(), trialId: state.trialId, reportData }),
    });
    const body = await response.json();
    if (response.status === 202) {
      state.idempotencyKey = null;
      receipt(body.submissionId);
      return;
    }
    for (const issue of body.issues ?? []) if (issue.field) showMessage(issue.field, issue.message);
    fail(body.error?.message ?? response.statusText);
  } catch (error) {
    // Network trouble: the same Idempotency-Key is reused on the next try.
    fail(String(error.message ?? error));
  }
}

function fail(message) {
  $('form-status').textContent = t(state.lang, 'failed', { message });
  $('form-status').className = 'status bad';
  updateSubmitLater();
}

function updateSubmitLater() {
  $('submit').disabled = !(patientOk() && allValid());
}

function statusLabel(status) {
  const key = { accepted: 'statusAccepted', processing: 'statusProcessing', processed: 'statusProcessed', failed: 'statusFailed' }[status];
  return key ? t(state.lang, key) : status;
}

function receipt(id) {
  $('diary').hidden = true;
  $('receipt').hidden = false;
  $('sub-id').textContent = id;
  $('sub-status').textContent = statusLabel('accepted');
  $('sub-status').dataset.status = 'accepted';
  $('scores').replaceChildren();
  $('receipt-title').focus?.();
  clearInterval(state.polling);
  state.polling = setInterval(async () => {
    const response = await fetch(`/api/v1/submissions/${encodeURIComponent(id)}`, { headers: authHeaders() });
    if (!response.ok) return;
    const submission = await response.json();
    $('sub-status').textContent = statusLabel(submission.status);
    $('sub-status').dataset.status = submission.status;
    if (submission.status === 'processed' || submission.status === 'failed') {
      clearInterval(state.polling);
      showScores(submission.scores ?? {});
    }
  }, 400);
}

function showScores(scores) {
  const list = $('scores');
  list.replaceChildren();
  const titles = Object.fromEntries((state.validator.protocol().scores ?? []).map((s) => [s.name, localTitle(s)]));
  for (const [name, value] of Object.entries(scores)) {
    const dt = document.createElement('dt');
    dt.textContent = titles[name] ?? name;
    const dd = document.createElement('dd');
    dd.textContent = value === null ? '—' : String(value);
    dd.dataset.score = name;
    list.append(dt, dd);
  }
}

function again() {
  clearInterval(state.polling);
  state.values = {};
  state.touched.clear();
  $('receipt').hidden = true;
  $('diary').hidden = false;
  refreshAll();
  $('patientId').focus();
}

async function loadProject() {
  if (!state.token) return null;
  const response = await fetch(`/api/v1/projects/${encodeURIComponent(state.trialId)}`, { headers: authHeaders() });
  return response.ok ? response.json() : null;
}

async function main() {
  translatePage(state.lang);
  languageSelect(state.lang, async (lang) => {
    state.lang = lang;
    translatePage(lang);
    await makeValidator();
    renderTrial();
    refreshAll();
  });
  const demo = await fetch('/demo.json').then((r) => (r.ok ? r.json() : null)).catch(() => null);
  if (demo) {
    state.token = demo.token;
    state.trialId = demo.trialId;
  } else {
    $('token-field').hidden = false;
    $('token').addEventListener('change', async () => {
      state.token = $('token').value.trim() || null;
      state.project = await loadProject();
      await makeValidator();
      renderTrial();
      refreshAll();
    });
  }
  state.project = await loadProject();
  await makeValidator();
  renderTrial();
  $('patientId').addEventListener('input', () => { checkPatient(false); updateSubmit(); });
  $('patientId').addEventListener('blur', () => { checkPatient(true); updateSubmit(); });
  $('diary').addEventListener('submit', submit);
  $('again').addEventListener('click', again);
  refreshAll();
  document.body.dataset.ready = 'true';
}

main().catch((error) => {
  $('form-status').textContent = t(state.lang, 'failed', { message: String(error.message ?? error) });
});
