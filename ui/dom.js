// DOM helpers. Every string is set with textContent or setAttribute: nothing
// here (or anywhere in ui/) parses HTML, so a name, a parameter or a message
// from the cluster is only ever text.
export const SVG_NS = 'http://www.w3.org/2000/svg';

function build(el, attrs, children) {
  for (const [k, v] of Object.entries(attrs || {})) {
    if (v === undefined || v === null || v === false) continue;
    if (k === 'text') el.textContent = String(v);
    else if (k === 'on') for (const [ev, fn] of Object.entries(v)) el.addEventListener(ev, fn);
    else if (k === 'dataset') for (const [dk, dv] of Object.entries(v)) el.dataset[dk] = String(dv);
    else el.setAttribute(k, v === true ? '' : String(v));
  }
  append(el, children);
  return el;
}

function append(el, children) {
  for (const c of children) {
    if (c === undefined || c === null || c === false) continue;
    if (Array.isArray(c)) append(el, c);
    else el.append(c instanceof Node ? c : document.createTextNode(String(c)));
  }
}

// h('tr', {class: 'x', dataset: {key: 'a/b'}}, h('td', {text: name}), ...)
export const h = (tag, attrs, ...children) => build(document.createElement(tag), attrs, children);
// The same for SVG elements (createElementNS).
export const s = (tag, attrs, ...children) => build(document.createElementNS(SVG_NS, tag), attrs, children);

// setText(el, value): only touches the DOM when the text changed.
export function setText(el, value) {
  const t = value === undefined || value === null ? '' : String(value);
  if (el.textContent !== t) el.textContent = t;
}

// phaseClass(phase): the CSS class of a phase ("" is a run the controller
// has not seen yet).
// A phase is anyone's to write into a status: only a plain word becomes a
// class (classList.add throws on spaces, and one bad run must not break the
// list for everyone); anything else is drawn as Unknown.
export const phaseClass = (phase) => `phase-${typeof phase === 'string' && /^[A-Za-z]+$/.test(phase) ? phase : 'Unknown'}`;
export const phaseLabel = (phase) => phase || 'New';

// setPhase(el, phase): replaces el's phase-* class and its text.
export function setPhase(el, phase, withText = true) {
  const want = phaseClass(phase);
  for (const c of [...el.classList]) if (c.startsWith('phase-') && c !== want) el.classList.remove(c);
  el.classList.add(want);
  if (withText) setText(el, phaseLabel(phase));
}

export const runHref = (ns, name) => `#/runs/${encodeURIComponent(ns)}/${encodeURIComponent(name)}`;
