// The only way the admin panel builds DOM.
//
//   h('button', { class: 'btn', type: 'button', onclick: save }, t('common.save'))
//
// Children that are strings or numbers become text nodes, so data from the server is always
// shown as text and never parsed as HTML. There is deliberately no way to pass HTML: `innerHTML`,
// `outerHTML` and `srcdoc` are refused, `on*` attributes must be functions (CSP forbids inline
// handlers anyway), `style` must be an object (the CSP refuses style attributes), and URLs in
// href/src/action are limited to relative, http(s) and mailto.

const FORBIDDEN = new Set(['innerhtml', 'outerhtml', 'srcdoc', 'insertadjacenthtml']);
const URL_ATTRS = new Set(['href', 'src', 'action', 'formaction', 'xlink:href']);
const PROPS = new Set(['value', 'checked', 'selected', 'indeterminate']);
const SVG_NS = 'http://www.w3.org/2000/svg';

/** Returns `url` when it is safe to put in href/src, otherwise 'about:blank'. */
export function safeUrl(url) {
  const s = String(url).trim();
  // Relative (/x, ./x, ../x, #x, ?x, x) or an allowed scheme.
  if (/^(?:[a-z][a-z0-9+.-]*:)/i.test(s) && !/^(?:https?|mailto):/i.test(s)) {
    console.warn('h(): refused URL', s);
    return 'about:blank';
  }
  return s;
}

function classNames(value) {
  if (!value) return '';
  if (typeof value === 'string') return value;
  if (Array.isArray(value)) return value.map(classNames).filter(Boolean).join(' ');
  return Object.keys(value).filter((k) => value[k]).join(' ');
}

function isAttrs(x) {
  return x != null && typeof x === 'object' && !Array.isArray(x) && !(x instanceof Node);
}

function setAttr(el, name, value) {
  const lower = name.toLowerCase();
  if (FORBIDDEN.has(lower)) throw new Error(`h(): "${name}" is not allowed`);
  if (value == null || value === false) return;
  if (lower.startsWith('on')) {
    if (typeof value !== 'function') throw new Error(`h(): "${name}" must be a function`);
    el.addEventListener(lower.slice(2), value);
    return;
  }
  if (name === 'class' || name === 'className') {
    const cls = classNames(value);
    if (cls) el.setAttribute('class', cls);
    return;
  }
  if (name === 'style') {
    if (typeof value !== 'object') throw new Error('h(): style must be an object');
    for (const [k, v] of Object.entries(value)) {
      if (k.startsWith('--')) el.style.setProperty(k, v);
      else el.style[k] = v;
    }
    return;
  }
  if (name === 'dataset') {
    for (const [k, v] of Object.entries(value)) if (v != null) el.dataset[k] = String(v);
    return;
  }
  if (PROPS.has(name)) {
    el[name] = value;
    return;
  }
  if (value === true) {
    el.setAttribute(name, '');
    return;
  }
  el.setAttribute(name, URL_ATTRS.has(lower) ? safeUrl(value) : String(value));
}

/** Appends children: strings/numbers as text, nodes as they are, arrays flattened, null/false skipped. */
export function append(parent, ...children) {
  for (const child of children) {
    if (child == null || child === false || child === true) continue;
    if (Array.isArray(child)) append(parent, ...child);
    else if (child instanceof Node) parent.appendChild(child);
    else parent.appendChild(document.createTextNode(String(child)));
  }
  return parent;
}

function build(el, args) {
  let [attrs, ...children] = args;
  if (!isAttrs(attrs)) {
    children = [attrs, ...children];
    attrs = null;
  }
  if (attrs) for (const [k, v] of Object.entries(attrs)) setAttr(el, k, v);
  return append(el, ...children);
}

/** h(tag, attrs?, ...children) → HTMLElement */
export function h(tag, ...args) {
  return build(document.createElement(tag), args);
}

/** Same as h() for SVG elements (icons). */
export function svg(tag, ...args) {
  return build(document.createElementNS(SVG_NS, tag), args);
}

/** Replaces all children of `el`. */
export function mount(el, ...children) {
  el.replaceChildren();
  return append(el, ...children);
}

/** A DocumentFragment of children (for returning several nodes). */
export function frag(...children) {
  return append(document.createDocumentFragment(), ...children);
}

let idCounter = 0;
/** A unique id for label/aria wiring. */
export function uid(prefix = 'kz') {
  idCounter += 1;
  return `${prefix}-${idCounter}`;
}

/** Calls fn at most once every `ms` after the last call (for search boxes). */
export function debounce(fn, ms = 300) {
  let timer;
  return (...args) => {
    clearTimeout(timer);
    timer = setTimeout(() => fn(...args), ms);
  };
}
