// Small stroke icons (20×20, drawn for Kizuna). Decorative: aria-hidden.
//
//   html`<${Icon} name="users" size=${16} />`      or, in a cell or a list: icon('users')
//
// To add one, add its path data (one string per <path>) or circles below.

import { html, cx } from '../lib.js';

const PATHS = {
  users: ['M3 17c0-3.3 2.7-5 6-5s6 1.7 6 5', 'M13.5 3.6a3 3 0 0 1 0 5.8', 'M16.5 12.4c1.6.7 2.5 2.3 2.5 4.6'],
  key: ['M9 11.5 16.5 4', 'M13.5 7l2 2', 'M15.5 5l2 2'],
  list: ['M7 5h10', 'M7 10h10', 'M7 15h10', 'M3 5h.01', 'M3 10h.01', 'M3 15h.01'],
  inbox: ['M2.5 11 5 4.5h10l2.5 6.5v4.5h-15z', 'M2.5 11h4.2l1 2h4.6l1-2h4.2'],
  sliders: ['M3 5h14', 'M3 10h14', 'M3 15h14'],
  logout: ['M12 3.5h3a1 1 0 0 1 1 1v11a1 1 0 0 1-1 1h-3', 'M8 14l-4-4 4-4', 'M4 10h9'],
  menu: ['M3 5h14', 'M3 10h14', 'M3 15h14'],
  close: ['M5 5l10 10', 'M15 5 5 15'],
  mail: ['M3 4.5h14v11H3z', 'M3 5l7 6 7-6'],
  send: ['M17.5 2.5 9 11', 'M17.5 2.5 12 17.5l-3-6.5-6.5-3z'],
  left: ['M12 5l-5 5 5 5'],
  right: ['M8 5l5 5-5 5'],
  back: ['M16 10H4', 'M9 5l-5 5 5 5'],
  search: ['M13.2 13.2 17 17'],
  plus: ['M10 4v12', 'M4 10h12'],
  copy: ['M7 7h9v9.5H7z', 'M4 13V4.5A1 1 0 0 1 5 3.5h8'],
  download: ['M10 3v10', 'M6 9l4 4 4-4', 'M4 16.5h12'],
  upload: ['M10 13V3', 'M6 7l4-4 4 4', 'M4 16.5h12'],
  refresh: ['M16.5 10a6.5 6.5 0 1 1-2-4.7', 'M16.5 3v3.5H13'],
  trash: ['M3.5 5.5h13', 'M8 5.5V3.5h4v2', 'M5.5 5.5l1 11h7l1-11'],
  warning: ['M10 2.8 18 17H2z', 'M10 8v4', 'M10 14.5v.2'],
  info: ['M10 9v5', 'M10 6v.2'],
  check: ['M4 10.5l4 4 8-8.5'],
  globe: ['M3 10h14', 'M10 3c2 2 3 4.5 3 7s-1 5-3 7c-2-2-3-4.5-3-7s1-5 3-7z'],
  database: ['M3.5 5c0-1.4 2.9-2.5 6.5-2.5s6.5 1.1 6.5 2.5-2.9 2.5-6.5 2.5S3.5 6.4 3.5 5z', 'M3.5 5v10c0 1.4 2.9 2.5 6.5 2.5s6.5-1.1 6.5-2.5V5', 'M3.5 10c0 1.4 2.9 2.5 6.5 2.5s6.5-1.1 6.5-2.5'],
  edit: ['M13 4l3 3-8.5 8.5H4.5v-3z', 'M11 6l3 3'],
  up: ['M10 16V4.5', 'M5 9.5l5-5 5 5'],
  down: ['M10 4v11.5', 'M5 10.5l5 5 5-5'],
  grip: ['M7.5 5h.01', 'M12.5 5h.01', 'M7.5 10h.01', 'M12.5 10h.01', 'M7.5 15h.01', 'M12.5 15h.01'],
  lock: ['M4.5 9h11v8.5h-11z', 'M7 9V6.5a3 3 0 0 1 6 0V9', 'M10 12.5v2'],
  layers: ['M10 2.8 17.5 6.6 10 10.4 2.5 6.6z', 'M2.5 10.2 10 14l7.5-3.8', 'M2.5 13.8 10 17.6l7.5-3.8'],
};

// Extra shapes drawn in addition to the paths.
const CIRCLES = {
  users: [[9, 6.5, 3.2]],
  key: [[6.5, 13.5, 3.5]],
  sliders: [[7, 5, 1.8], [13, 10, 1.8], [8.5, 15, 1.8]],
  search: [[8.8, 8.8, 5.5]],
  info: [[10, 10, 7.5]],
  globe: [[10, 10, 7]],
};

export function Icon({ name, size = 18, className }) {
  const circles = (CIRCLES[name] || []).map(([cx_, cy, r]) => html`<circle cx=${cx_} cy=${cy} r=${r} class=${name === 'sliders' ? 'icon-knob' : undefined} />`);
  const paths = (PATHS[name] || []).map((d) => html`<path d=${d} />`);
  // Knobs drawn after the rails look better on top.
  const shapes = name === 'sliders' ? [...paths, ...circles] : [...circles, ...paths];
  return html`<svg class=${cx('icon', className)} viewBox="0 0 20 20" width=${size} height=${size} fill="none" stroke="currentColor"
    stroke-width="1.6" stroke-linecap="round" stroke-linejoin="round" aria-hidden="true" focusable="false">${shapes}</svg>`;
}

/** icon('users', { size, className }) → the same element as <Icon>. */
export function icon(name, { size = 18, className } = {}) {
  return html`<${Icon} name=${name} size=${size} className=${className} />`;
}
