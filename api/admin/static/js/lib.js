// The component library, in one place: Preact + htm + @preact/signals (vendored in ../vendor/,
// see ../vendor/README.md). Import from here, never from vendor/ directly:
//
//   import { html, useSignal, useMemo } from '../lib.js';
//   function Hello({ name }) {
//     const count = useSignal(0);
//     return html`<button class="btn" onClick=${() => count.value++}>${name}: ${count}</button>`;
//   }
//
// htm's tagged templates build Preact elements without a build step (no JSX, no eval). Text in
// `${…}` is always a text node: data from the server is never parsed as HTML.
//
// Importing this module installs the checks the old DOM toolkit made (ui/dom.js h()), now for
// every element Preact creates: `dangerouslySetInnerHTML`, `innerHTML`, `outerHTML` and
// `srcdoc` throw; `on…` handlers must be functions; `style` must be an object (the CSP refuses
// style attributes); href/src/action/formaction pass through safeUrl() (relative, http(s) and
// mailto only) and may not be signals (a signal would update the attribute unchecked).

import { h, Fragment, Component, render, options, createRef, createContext, createPortal, toChildArray } from '../vendor/preact/preact.js';
import { useState, useEffect, useLayoutEffect, useMemo, useRef, useCallback, useContext, useReducer } from '../vendor/preact/hooks.js';
import { signal, computed, effect, batch, untracked, Signal, useSignal, useComputed, useSignalEffect } from '../vendor/signals/signals.js';
import htm from '../vendor/htm/htm.js';

export { h, Fragment, Component, render, createRef, createContext, createPortal, toChildArray };
export { useState, useEffect, useLayoutEffect, useMemo, useRef, useCallback, useContext, useReducer };
export { signal, computed, effect, batch, untracked, Signal, useSignal, useComputed, useSignalEffect };

/** html`<p class=${cls}>${text}</p>` → a Preact element. */
export const html = htm.bind(h);

const FORBIDDEN = new Set(['dangerouslysetinnerhtml', 'innerhtml', 'outerhtml', 'srcdoc', 'insertadjacenthtml']);
const URL_PROPS = new Set(['href', 'src', 'action', 'formaction', 'xlink:href', 'xlinkhref']);

/** Returns `url` when it is safe to put in href/src, otherwise 'about:blank'. */
export function safeUrl(url) {
  const s = String(url).trim();
  // Relative (/x, ./x, ../x, #x, ?x, x) or an allowed scheme.
  if (/^(?:[a-z][a-z0-9+.-]*:)/i.test(s) && !/^(?:https?|mailto):/i.test(s)) {
    console.warn('refused URL', s);
    return 'about:blank';
  }
  return s;
}

/** Checks (and for URLs, fixes) the props of an element before Preact renders it. */
export function checkProps(type, props) {
  for (const name of Object.keys(props)) {
    const lower = name.toLowerCase();
    const value = props[name];
    if (FORBIDDEN.has(lower)) throw new Error(`<${type}>: "${name}" is not allowed (no HTML from strings)`);
    if (value == null || name === 'children') continue;
    if (lower.startsWith('on') && typeof value !== 'function') throw new Error(`<${type}>: "${name}" must be a function`);
    if (lower === 'style' && (typeof value !== 'object' || value instanceof Signal)) throw new Error(`<${type}>: style must be an object`);
    if (URL_PROPS.has(lower)) {
      if (value instanceof Signal) throw new Error(`<${type}>: "${name}" cannot be a signal`);
      props[name] = safeUrl(value);
    }
  }
}

const previousVnode = options.vnode;
options.vnode = (vnode) => {
  if (typeof vnode.type === 'string' && vnode.props) checkProps(vnode.type, vnode.props);
  if (previousVnode) previousVnode(vnode);
};

/** 'a b' from ('a', false && 'b', ['c'], { d: true }). */
export function cx(...values) {
  const out = [];
  for (const v of values) {
    if (!v) continue;
    if (typeof v === 'string') out.push(v);
    else if (Array.isArray(v)) out.push(cx(...v));
    else if (typeof v === 'object') for (const k of Object.keys(v)) if (v[k]) out.push(k);
  }
  return out.filter(Boolean).join(' ') || undefined;
}

let idCounter = 0;
/** A unique id for label/aria wiring outside components (in a component: useConst(() => uid('x'))). */
export function uid(prefix = 'kz') {
  idCounter += 1;
  return `${prefix}-${idCounter}`;
}

/** Calls fn at most once `ms` after the last call (search boxes). `.cancel()` drops a pending call. */
export function debounce(fn, ms = 300) {
  let timer;
  const debounced = (...args) => {
    clearTimeout(timer);
    timer = setTimeout(() => fn(...args), ms);
  };
  debounced.cancel = () => clearTimeout(timer);
  return debounced;
}

/** A value made once per mounted component (a model, a controller): useConst(() => createTable(…)). */
export function useConst(make) {
  const ref = useRef(null);
  if (ref.current === null) ref.current = { value: make() };
  return ref.current.value;
}

/**
 * Renders `vnode` into a new element appended to <body> (dialogs, toasts): a separate root, so
 * it outlives the screen that opened it. Returns { el, update(vnode), remove() }.
 */
export function mountRoot(vnode, { className } = {}) {
  const el = document.createElement('div');
  if (className) el.className = className;
  document.body.appendChild(el);
  render(vnode, el);
  return {
    el,
    update(next) {
      render(next, el);
    },
    remove() {
      render(null, el);
      el.remove();
    },
  };
}
