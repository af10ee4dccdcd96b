// The ePRO form: built from the trial protocol's field list, checked by
// the clinval WebAssembly module as the patient types (no network), sent
// to /api/v1/submissions, then followed until processed. Which questions
// are asked comes from the module's record verdict (`hidden`): the form
// has no logic of its own, so it branches exactly as the server checks.
//
// Nothing typed is lost: the draft is kept on the device as it is typed
// (device.js) until the server has the diary; a sent diary waits in the
// outbox (outbox.js) until the server's answer is known, the answers
// locked meanwhile; the pages, the module and the trial's protocol are
// kept for offline use (offline.js, sw.js).

import { Validator } from '/pkg/clinval.js';
import { t, initialLang, translatePage, languageSelect, refusalText } from '/assets/i18n.js';
import { registerServiceWorker, fetchKept, keep } from '/assets/offline.js';
import * as device from '/assets/device.js';
import { Outbox, entry } from '/assets/outbox.js';
import { today, localMinute, withOffset } from '/assets/local-time.js';
import { buildQuestion, localTitle } from '/assets/widgets.js';
import { patientCredential } from '/assets/access.js';

const PATIENT_ID = /^[A-Za-z0-9_-]{1,64}$/;
const $ = (id) => document.getElementById(id);

const state = {
  lang: initialLang(),
  token: null,
  trialId: 'CT001',
  project: null,
  /** The trial's protocol as the server serves it: `{ name, text }`. */
  protocolDoc: null,
  validator: null,
  /** The validator's description of the protocol (`protocol()`). */
  info: null,
  values: {},
  touched: new Set(),
  /** Whether anything was typed in the Patient ID. */
  patientTouched: false,
  // The answers sent (hidden questions' left out) and their verdict.
  answers: {},
  verdict: null,
  /** The queued diary the answers are locked for, if any. */
  queued: null,
  outbox: null,
  polling: null,
  /** The patient's credential on this device (`{ token, trialId, patientId }`), if any. */
  patient: null,
  /** The phone's current step: a question's name, `patientId` or `review`. */
  step: null,
  /** Whether the list of problems is shown (after Send was pressed with some). */
  problemsShown: false,
  /** Why the last access link gave no credential (`used`, `expired`, …), if it did not. */
  accessProblem: null,
  /** Why the server refused the last diary (`[key, vars]`), until an answer changes. */
  refusal: null,
  /** Whether the credential is the demo's (`/demo.json`). */
  demo: false,
  /** The last status text shown, as `{ key, vars, kind }`, and the scores shown. */
  said: null,
  scores: null,
};

function authHeaders() {
  return state.token ? { authorization: `Bearer ${state.token}` } : {};
}

/**
 * A validator for the trial's protocol, the very document the server
 * checks with (kept for offline use), in the module it needs: a
 * branching one needs the full module, which is then kept too.
 */
async function makeValidator() {
  const name = state.project?.protocol ?? 'epro-daily';
  if (state.protocolDoc?.name !== name) {
    const served = await fetchKept(`/api/v1/protocols/${encodeURIComponent(name)}`);
    if (!served.ok) throw new Error(`the trial's protocol \`${name}\` is not available (HTTP ${served.status})`);
    state.protocolDoc = { name, text: JSON.stringify((await served.json()).document) };
  }
  const validator = await Validator.load(state.protocolDoc.text, { asOf: today(), lang: state.lang });
  if (validator.build === 'full') keep('/pkg/clinval_full_bg.wasm');
  state.validator?.free();
  state.validator = validator;
  state.info = validator.protocol();
}

function fields() {
  return state.info.fields;
}

/** The field the device fills in with the completion time instead of asking (the protocol's `diary.completionField`). */
function completionField() {
  return state.info.diary?.completionField ?? null;
}

/** One widget per question the patient answers (the completion time is the device's). */
function buildForm() {
  const box = $('fields');
  box.replaceChildren();
  for (const field of fields()) {
    if (field.name !== completionField()) box.append(buildQuestion(field, state.lang, answer));
  }
}

/**
 * Phones get one question per screen, with Back and Next, and a review
 * of every answer before sending; wider screens get the whole form. The
 * steps are the questions the verdict does not hide (and the Patient ID
 * when it is asked), so branching adds and removes steps as answers change.
 */
const ONE_PER_SCREEN = matchMedia('(max-width: 600px)');
const REVIEW = 'review';

function stepMode() {
  return ONE_PER_SCREEN.matches;
}

/** The shown questions' wrappers, in order, each with its step name. */
function steps() {
  const list = [];
  if (!$('patient-field').hidden) list.push({ name: 'patientId', wrapper: $('patient-field') });
  for (const wrapper of $('fields').querySelectorAll('.field')) {
    if (!wrapper.hidden) list.push({ name: wrapper.dataset.field, wrapper });
  }
  return list;
}

/** Whether step `name` is answered. */
function answered(name) {
  if (name === 'patientId') return patientIdValue() !== '';
  const field = fields().find((f) => f.name === name);
  return field ? valueOf(field) !== null : false;
}

/** Shows the current step (or everything, on a wide screen), the progress and the review. */
function renderSteps() {
  const list = steps();
  const phone = stepMode();
  if (phone && state.step !== REVIEW && !list.some((s) => s.name === state.step)) {
    state.step = list[0]?.name ?? REVIEW;
  }
  const at = list.findIndex((s) => s.name === state.step);
  for (const { name, wrapper } of list) wrapper.classList.toggle('off-step', phone && name !== state.step);
  const review = phone && state.step === REVIEW;
  $('review').hidden = !review;
  if (review) renderReview(list);
  $('step-nav').hidden = !phone || review;
  $('back').disabled = at <= 0;
  $('submit').classList.toggle('off-step', phone && !review);
  const done = list.filter((s) => answered(s.name)).length;
  $('progress-bar').max = list.length || 1;
  $('progress-bar').value = phone ? (review ? list.length : at) : done;
  $('progress-text').textContent = !phone
    ? t(state.lang, 'answeredOf', { n: done, total: list.length })
    : review
      ? t(state.lang, 'reviewStep', { total: list.length })
      : t(state.lang, 'stepOf', { n: at + 1, total: list.length });
  updateSubmit();
}

/** Every shown question with its answer (as the patient chose it) and a way back to it. */
function renderReview(list) {
  const box = $('review-list');
  box.replaceChildren();
  for (const { name, wrapper } of list) {
    const dt = document.createElement('dt');
    dt.textContent = wrapper.querySelector('legend, label')?.firstChild?.textContent ?? name;
    const dd = document.createElement('dd');
    const text = document.createElement('span');
    text.textContent = answerText(name, wrapper) || t(state.lang, 'notAnswered');
    const change = document.createElement('button');
    change.type = 'button';
    change.className = 'secondary';
    change.textContent = t(state.lang, 'change');
    change.disabled = Boolean(state.queued);
    change.addEventListener('click', () => goTo(name));
    dd.append(text, change);
    box.append(dt, dd);
  }
}

/** An answer as shown: the chosen choices' labels, or the text typed. */
function answerText(name, wrapper) {
  const chosen = [...wrapper.querySelectorAll('input:checked')].map((input) => input.parentElement.textContent.trim());
  if (chosen.length) return chosen.join(', ');
  return wrapper.querySelector('input[type="text"], input[type="date"], textarea')?.value.trim() ?? '';
}

/** Moves to step `name` and puts the focus in it. */
function goTo(name) {
  state.step = name;
  renderSteps();
  if (name === REVIEW) $('review-title').focus();
  else steps().find((s) => s.name === name)?.wrapper.querySelector('input, textarea')?.focus();
}

/** Next: only once this question has no problem (said, with the focus kept, if it has). */
function next() {
  const list = steps();
  const at = list.findIndex((s) => s.name === state.step);
  const name = list[at]?.name;
  if (name === 'patientId') {
    state.patientTouched = true;
    checkPatient(true);
    if (!patientOk()) return $('patientId').focus();
  } else if (name) {
    state.touched.add(name);
    evaluate();
    if (state.verdict.issues.some((issue) => issue.field === name)) {
      return list[at].wrapper.querySelector('input, textarea')?.focus();
    }
  }
  goTo(list[at + 1]?.name ?? REVIEW);
}

function back() {
  const list = steps();
  const at = state.step === REVIEW ? list.length : list.findIndex((s) => s.name === state.step);
  if (at > 0) goTo(list[at - 1].name);
}

/** The value the module gets for a field (`null`: no answer). */
function valueOf(field) {
  const raw = state.values[field.name];
  if (raw === undefined || raw === '' || (Array.isArray(raw) && raw.length === 0)) return null;
  if (field.type === 'boolean') return raw === 'true';
  return raw;
}

function answer(field, raw, touch) {
  if (state.queued) return; // locked: the inputs are disabled too
  state.refusal = null; // the answers change: said for the last ones
  state.values[field.name] = raw;
  saveDraft();
  if (touch || raw !== '') state.touched.add(field.name);
  countCharacters(field, raw);
  evaluate(); // and with it the steps and the button
}

/** A text's "n of max characters" under it, for `raw`. */
function countCharacters(field, raw) {
  const hint = $(`hint-${field.name}`);
  if (hint && field.maxLength && field.type === 'string') {
    hint.textContent = t(state.lang, 'characters', { n: [...raw].length, max: field.maxLength });
  }
}

/**
 * Checks the whole record with the module, then shows what it says: the
 * questions its verdict hides are hidden and their answers left out of
 * what is sent (which may hide the questions that depend on them, so
 * until nothing changes), and each touched question shows its first issue.
 * The completion time, if the protocol has the device record it, is `now`.
 */
function evaluate(now = new Date()) {
  const answers = {};
  for (const field of fields()) {
    const value = field.name === completionField() ? localMinute(now) : valueOf(field);
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
    showMessage(field.name, issue && state.touched.has(field.name) ? words(issue) : '');
  }
  renderSteps();
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

/** Whose diary it is: the device's patient, else the Patient ID typed. */
function patientIdValue() {
  return state.patient?.patientId ?? $('patientId').value.trim();
}

function patientOk() {
  return PATIENT_ID.test(patientIdValue());
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
  if (state.queued) return;
  const ok = Boolean(state.token) && patientOk() && allValid();
  // Pressing it with problems lists them; only a missing credential stops it.
  $('submit').disabled = !state.token;
  if (state.problemsShown) showProblems(ok ? [] : problems());
  if (state.refusal) say(...state.refusal, 'bad');
  // One question per screen: the state of the whole is said at the review.
  else if (stepMode() && state.step !== REVIEW) say('none');
  else say(ok ? 'ready' : 'fixFirst');
}

/** Keeps what is typed on the device, for a reload or a visit to another page. */
function saveDraft() {
  device.put('drafts', { values: state.values, patientId: $('patientId').value, savedAt: new Date().toISOString() }, state.trialId)
    .catch(() => say('noDevice', {}, 'bad'));
}

async function restoreDraft() {
  const draft = await device.get('drafts', state.trialId).catch(() => null);
  if (!draft) return;
  state.values = draft.values ?? {};
  for (const name of Object.keys(state.values)) state.touched.add(name);
  $('patientId').value = draft.patientId ?? '';
}

/** Locks the answers while `queued` (a diary whose fate is not yet known) is in the outbox, or unlocks them. */
function lock(queued) {
  state.queued = queued;
  for (const input of $('diary').querySelectorAll('input, textarea')) input.disabled = Boolean(queued);
  $('submit').disabled = Boolean(queued);
  // On a phone, a waiting diary is shown as its review.
  if (queued) state.step = REVIEW;
  if (state.verdict) renderSteps();
}

/** Shows text `key` (with `vars`) as the form's status; kept to be shown again in another language. */
function say(key, vars = {}, kind = '') {
  state.said = { key, vars, kind };
  $('form-status').textContent = t(state.lang, key, vars);
  $('form-status').className = kind ? `status ${kind}` : 'status';
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
    if (typeof raw === 'string') countCharacters(field, raw);
  }
  evaluate();
  checkPatient(false);
  lock(state.queued);
  updateSubmit(); // lock() renders the steps only once there is a verdict
}

function renderTrial() {
  const p = state.project;
  const trial = p ? t(state.lang, 'trialLine', { id: p.id, name: p.name }) : '';
  $('trial').textContent = state.patient ? `${trial} · ${t(state.lang, 'patientLine', { id: state.patient.patientId })}` : trial;
  $('access-status').hidden = !state.accessProblem;
  $('access-status').textContent = state.accessProblem ? t(state.lang, `access_${state.accessProblem}`) : '';
}

/** What the patient reads for `issue`: the module's words for patients, else its message. */
function words(issue) {
  return issue.patientMessage ?? issue.message;
}

/**
 * The problems that keep the diary from being sent, each `{ id, text }`
 * (the input to move to), in the form's order; empty when it can go.
 */
function problems() {
  const found = [];
  if (!patientOk()) found.push({ id: 'patientId', text: t(state.lang, 'patientBad') });
  const hidden = new Set(state.verdict.hidden ?? []);
  const seen = new Set();
  for (const issue of state.verdict.issues) {
    if (!issue.field || seen.has(issue.field) || hidden.has(issue.field)) continue;
    seen.add(issue.field);
    const input = document.querySelector(`[data-field="${CSS.escape(issue.field)}"] input, [data-field="${CSS.escape(issue.field)}"] textarea`);
    found.push({ id: input?.id || input?.name, input, text: words(issue) });
  }
  return found;
}

/** Lists what is left to answer or fix above the button, or hides the list when nothing is. */
function showProblems(list) {
  const box = $('problems');
  box.hidden = list.length === 0;
  const items = $('problem-list');
  items.replaceChildren();
  for (const problem of list) {
    const li = document.createElement('li');
    const link = document.createElement('a');
    link.href = '#';
    link.textContent = problem.text;
    link.addEventListener('click', (e) => {
      e.preventDefault();
      focusProblem(problem);
    });
    li.append(link);
    items.append(li);
  }
  state.problemsShown = list.length > 0;
}

/** Puts the focus on a problem's question (on a phone, its screen first). */
function focusProblem(problem) {
  const input = problem.input ?? $(problem.id);
  const step = input?.closest('[data-field]')?.dataset.field ?? (problem.id === 'patientId' ? 'patientId' : null);
  if (stepMode() && step) goTo(step);
  input?.focus();
}

async function submit(event) {
  event.preventDefault();
  if (state.queued) return;
  // Enter in a question on a phone goes on to the next one.
  if (stepMode() && state.step !== REVIEW) return next();
  if ($('submit').disabled) return;
  const now = new Date();
  evaluate(now);
  const list = problems();
  if (list.length) {
    // Every problem is said: under its question and in the list, and the
    // focus goes to the first.
    for (const field of fields()) state.touched.add(field.name);
    state.patientTouched = true;
    evaluate(now);
    checkPatient(true);
    showProblems(list);
    focusProblem(list[0]);
    return;
  }
  showProblems([]);
  const item = entry({
    trialId: state.trialId,
    body: {
      patientId: patientIdValue(),
      trialId: state.trialId,
      reportData: state.answers,
      completedAt: withOffset(now),
    },
  });
  lock(item);
  say('sending');
  try {
    await state.outbox.add(item);
  } catch {
    lock(null);
    say('noDevice', {}, 'bad');
  }
}

/** What the outbox hears about the locked diary, shown to the patient. */
function onOutbox(event) {
  if (event.kind === 'error') {
    say('noDevice', {}, 'bad');
    return;
  }
  if (event.entry.trialId !== state.trialId) return;
  switch (event.kind) {
    case 'sending':
      say('sending');
      break;
    case 'waiting':
      say(event.reason === 'network' ? 'queuedOffline' : 'queuedServer', {}, 'warn');
      break;
    case 'held':
      if (state.patient) say('heldPatient', {}, 'bad');
      else say('held', { message: event.body?.error?.message ?? event.status }, 'bad');
      refreshCredential();
      break;
    case 'stored':
      lock(null);
      device.remove('drafts', state.trialId).catch(() => {});
      receipt(event.submissionId);
      break;
    case 'refused':
      // The diary is not stored; the draft (never removed before) is
      // still here, so the answers come back to be corrected.
      lock(null);
      refreshAll();
      // The server's issues are the module's: the page's own module says
      // them again, in the patient's words and language.
      for (const field of fields()) state.touched.add(field.name);
      evaluate();
      if (event.body?.issues?.length) showProblems(problems());
      state.refusal = refusalText(event.body?.error, event.status);
      say(...state.refusal, 'bad');
      break;
  }
}

function statusLabel(status) {
  const key = { accepted: 'statusAccepted', processing: 'statusProcessing', processed: 'statusProcessed', failed: 'statusFailed' }[status];
  return key ? t(state.lang, key) : status;
}

/** Polls quickly at first, backs off on errors (up to this), never overlaps. */
const POLL_MS = 400;
const POLL_LONGEST_MS = 30_000;

function receipt(id) {
  state.values = {};
  state.touched.clear();
  state.patientTouched = false;
  $('diary').hidden = true;
  $('receipt').hidden = false;
  $('sub-id').textContent = id;
  setStatus('accepted');
  $('scores').replaceChildren();
  state.scores = null;
  $('receipt-title').focus?.();
  follow(id);
}

function setStatus(value) {
  $('sub-status').textContent = statusLabel(value);
  $('sub-status').dataset.status = value;
}

/** Follows submission `id` until processed or failed: one request at a time, waiting longer after each error. */
function follow(id) {
  clearTimeout(state.polling);
  let wait = POLL_MS;
  const poll = async () => {
    try {
      const response = await fetch(`/api/v1/submissions/${encodeURIComponent(id)}`, { headers: authHeaders() });
      if (response.status === 401) refreshCredential();
      if (!response.ok) throw new Error(`HTTP ${response.status}`);
      const submission = await response.json();
      setStatus(submission.status);
      if (submission.status === 'processed' || submission.status === 'failed') {
        showScores(submission.scores ?? {});
        return;
      }
      wait = POLL_MS;
    } catch {
      wait = Math.min(POLL_LONGEST_MS, wait * 2);
    }
    if ($('sub-id').textContent === id) state.polling = setTimeout(poll, wait);
  };
  state.polling = setTimeout(poll, wait);
}

function showScores(scores) {
  state.scores = scores;
  const list = $('scores');
  list.replaceChildren();
  const titles = Object.fromEntries((state.info.scores ?? []).map((s) => [s.name, localTitle(s, state.lang)]));
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
  clearTimeout(state.polling);
  $('sub-id').textContent = '';
  $('patientId').value = '';
  $('receipt').hidden = true;
  $('diary').hidden = false;
  state.step = null;
  refreshAll();
  const first = steps()[0];
  if (first) goTo(first.name);
}

/**
 * The demo's credential, again from the server: a `--demo` restart makes
 * a new token, while a page (or its outbox) may still hold the last one.
 * A credential given by hand stays until it is changed by hand.
 */
async function refreshCredential() {
  if (!state.demo) return;
  const demo = await fetchKept('/demo.json').then((r) => (r.ok ? r.json() : null)).catch(() => null);
  if (!demo?.token || demo.token === state.token) return;
  state.token = demo.token;
  state.outbox.kick();
}

async function loadProject() {
  if (!state.token) return null;
  const response = await fetchKept(`/api/v1/projects/${encodeURIComponent(state.trialId)}`, { headers: authHeaders() })
    .catch(() => null);
  return response?.ok ? response.json() : null;
}

async function main() {
  translatePage(state.lang);
  languageSelect(state.lang, async (lang) => {
    state.lang = lang;
    translatePage(lang);
    await makeValidator();
    renderTrial();
    refreshAll();
    // The texts made from state: the form's status, the receipt's.
    if (state.said && (state.queued || !$('receipt').hidden)) say(state.said.key, state.said.vars, state.said.kind);
    if ($('sub-status').dataset.status) setStatus($('sub-status').dataset.status);
    if (state.scores) showScores(state.scores);
  });
  const worker = registerServiceWorker();
  // A link opened in a page already open changes only the fragment: start
  // again, so its code is exchanged as on a first visit.
  window.addEventListener('hashchange', () => {
    if (new URLSearchParams(location.hash.slice(1)).has('access')) location.reload();
  });
  ({ credential: state.patient, problem: state.accessProblem } = await patientCredential());
  const demo = state.patient
    ? null
    : await fetchKept('/demo.json').then((r) => (r.ok ? r.json() : null)).catch(() => null);
  state.demo = Boolean(demo);
  if (state.patient) {
    state.token = state.patient.token;
    state.trialId = state.patient.trialId;
    $('patient-field').hidden = true;
  } else if (demo) {
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
      state.outbox.kick(); // a diary held for want of a credential
    });
  }
  state.project = await loadProject();
  await makeValidator();
  renderTrial();
  $('patientId').addEventListener('input', () => {
    state.patientTouched = true;
    checkPatient(false);
    updateSubmit();
    saveDraft();
  });
  // Leaving it empty is said only once something was typed in it: focus
  // alone (it gets it after a diary is sent) is not an answer.
  $('patientId').addEventListener('blur', () => { checkPatient(state.patientTouched); updateSubmit(); });
  $('diary').addEventListener('submit', submit);
  $('again').addEventListener('click', again);
  $('next').addEventListener('click', next);
  $('back').addEventListener('click', back);
  ONE_PER_SCREEN.addEventListener('change', renderSteps);
  await restoreDraft();
  state.outbox = new Outbox({ headers: authHeaders, onEvent: onOutbox });
  const [waiting] = await state.outbox.pending(state.trialId).catch(() => []);
  if (waiting) lock(waiting);
  refreshAll();
  if (waiting) say('sending');
  state.outbox.kick();
  await worker;
  document.body.dataset.ready = 'true';
}

main().catch((error) => say('failed', { message: String(error.message ?? error) }, 'bad'));
