// The ePRO form's question widgets, built from the protocol's field
// descriptions (FieldInfo): what a patient taps or types. Accessible by
// construction: every input has a label, and is tied to its message (and
// hint) by `aria-describedby`; choices are native radio buttons and
// checkboxes, so the keyboard works as everywhere.

import { t } from '/assets/i18n.js';
import { today } from '/assets/local-time.js';

/** Most points a rating scale shows as buttons (0–10 is eleven). */
const SCALE_POINTS = 11;

/** The points of an integer field with a small range (`[min..max]`), for a rating scale; else null. */
function scalePoints(field) {
  const { minimum: min, maximum: max } = field;
  if (field.type !== 'integer' || !Number.isInteger(min) || !Number.isInteger(max)) return null;
  if (field.exclusiveMinimum !== undefined || field.exclusiveMaximum !== undefined) return null;
  if (max < min || max - min + 1 > SCALE_POINTS) return null;
  return Array.from({ length: max - min + 1 }, (_, i) => String(min + i));
}

/**
 * The widget of `field` (a FieldInfo), from its type and limits: a rating
 * scale of buttons for an integer with a small range, large radio buttons
 * (or checkboxes) with their labels for choices, else an input; in a
 * `.field` wrapper with its message (`aria-describedby`). Texts are in
 * `lang`; `onAnswer(field, raw, touched)` hears every change.
 */
export function buildQuestion(field, lang, onAnswer) {
  const ctx = { lang, onAnswer };
  const points = scalePoints(field);
  const choices = field.type === 'boolean'
    ? [['true', 'yes'], ['false', 'no']]
    : field.enum?.map((value) => [value, null]);
  const wrapper = points
    ? choiceGroup(ctx, field, points.map((value) => [value, null]), { scale: true })
    : choices
      ? choiceGroup(ctx, field, choices, { many: field.type === 'multiselect' })
      : textInput(ctx, field);
  wrapper.classList.add('field');
  wrapper.dataset.field = field.name;
  const msg = document.createElement('p');
  msg.id = `msg-${field.name}`;
  msg.className = 'msg';
  msg.setAttribute('aria-live', 'polite');
  wrapper.append(msg);
  return wrapper;
}

/** A fieldset of radio buttons (checkboxes when `many`), as a row of numbered buttons when `scale`. */
function choiceGroup({ lang, onAnswer }, field, choices, { many = false, scale = false }) {
  const msgId = `msg-${field.name}`;
  const wrapper = document.createElement('fieldset');
  const legend = document.createElement('legend');
  legend.append(labelText(field, lang));
  const group = document.createElement('div');
  group.className = scale ? 'choices scale' : 'choices';
  for (const [value, key] of choices) {
    const label = document.createElement('label');
    const input = document.createElement('input');
    Object.assign(input, { type: many ? 'checkbox' : 'radio', name: field.name, value, id: `f-${field.name}-${value}` });
    input.setAttribute('aria-describedby', msgId);
    input.addEventListener('change', () => onAnswer(field, many ? checkedOf(field) : value, true));
    const text = document.createElement('span');
    text.textContent = key
      ? t(lang, key)
      : (field.enumTitles?.[lang]?.[value] ?? field.labels?.[value] ?? value);
    if (key) text.dataset.i18n = key;
    label.append(input, text);
    group.append(label);
  }
  wrapper.append(legend, group);
  return wrapper;
}

/** A labelled text input (a text area for long text, a date input for dates). */
function textInput({ lang, onAnswer }, field) {
  const msgId = `msg-${field.name}`;
  const wrapper = document.createElement('div');
  const id = `f-${field.name}`;
  const label = document.createElement('label');
  label.htmlFor = id;
  label.append(labelText(field, lang));
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
  const hint = hintText(field, lang);
  input.setAttribute('aria-describedby', hint ? `hint-${field.name} ${msgId}` : msgId);
  input.addEventListener('input', () => onAnswer(field, input.value, false));
  input.addEventListener('blur', () => onAnswer(field, input.value, true));
  wrapper.append(label, input);
  if (hint) wrapper.append(hintLine(field, hint));
  return wrapper;
}

function hintLine(field, text) {
  const p = document.createElement('p');
  p.id = `hint-${field.name}`;
  p.className = 'hint';
  p.textContent = text;
  return p;
}

/** A protocol text in the page's language, if the protocol has it. */
export function localTitle(item, lang) {
  return item.titles?.[lang] ?? item.title;
}

function labelText(field, lang) {
  const span = document.createElement('span');
  span.textContent = localTitle(field, lang);
  if (!field.required) return span;
  const star = document.createElement('span');
  star.className = 'req';
  star.textContent = ' *';
  star.title = t(lang, 'required');
  const sr = document.createElement('span');
  sr.className = 'sr-only';
  sr.textContent = ` (${t(lang, 'required')})`;
  const all = document.createDocumentFragment();
  all.append(span, star, sr);
  return all;
}

function hintText(field, lang) {
  if ((field.type === 'integer' || field.type === 'number') && field.minimum !== undefined && field.maximum !== undefined) {
    return `${field.minimum}–${field.maximum}`;
  }
  if (field.maxLength && field.type === 'string') return t(lang, 'characters', { n: 0, max: field.maxLength });
  return '';
}

/** The chosen codes of a multi-select's checkboxes, in choice order. */
function checkedOf(field) {
  return [...document.querySelectorAll(`[name="${CSS.escape(field.name)}"]:checked`)].map((input) => input.value);
}
