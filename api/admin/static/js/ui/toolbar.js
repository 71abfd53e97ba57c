// The row of search and filters above a table.
//
//   html`<${Toolbar}>
//     <${SearchBox} value=${filters.q} placeholder=${t('staff.search')} onSearch=${(q) => …} />
//     <${FilterSelect} label=${t('staff.col.role')} value=${role} allLabel=${t('common.all')} options=${options} onChange=${…} />
//     <${FilterText} label=${t('audit.filter.action')} value=${action} list="audit-actions" onChange=${…} />
//   <//>`
//
// The inputs keep their own text (uncontrolled): pass the initial value. SearchBox and
// FilterText call back 300 ms after typing pauses, and at once on Enter.

import { html, debounce, uid, useConst, useEffect, useMemo } from '../lib.js';
import { Icon } from './icons.js';

export function Toolbar({ children }) {
  return html`<div class="toolbar" role="search">${children}</div>`;
}

function useDebounced(fn, delay) {
  const fire = useMemo(() => debounce((v) => fn(v.trim()), delay), []);
  useEffect(() => () => fire.cancel(), []);
  return fire;
}

function onEnter(fire, fn) {
  return (e) => {
    if (e.key === 'Enter') {
      e.preventDefault();
      fire.cancel();
      fn(e.currentTarget.value.trim());
    }
  };
}

export function SearchBox({ value = '', placeholder, label, onSearch, delay = 300 }) {
  const id = useConst(() => uid('filter'));
  const fire = useDebounced(onSearch, delay);
  return html`<div class="search">
    <${Icon} name="search" size=${16} className="search__icon" />
    <input id=${id} type="search" class="input search__input" defaultValue=${value} placeholder=${placeholder}
      aria-label=${label || placeholder} autocomplete="off"
      onInput=${(e) => fire(e.currentTarget.value)} onKeyDown=${onEnter(fire, onSearch)} />
  </div>`;
}

/** options: [{value, label}]; allLabel adds a first "all" option with value ''. */
export function FilterSelect({ label, value = '', options, allLabel, onChange }) {
  const id = useConst(() => uid('filter'));
  return html`<div class="filter">
    <label class="filter__label" for=${id}>${label}</label>
    <select id=${id} class="input filter__select" value=${String(value)} onChange=${(e) => onChange(e.currentTarget.value)}>
      ${allLabel != null && html`<option value="">${allLabel}</option>`}
      ${options.map((o) => html`<option value=${String(o.value)}>${o.label}</option>`)}
    </select>
  </div>`;
}

export function FilterText({ label, value = '', placeholder, onChange, delay = 300, list }) {
  const id = useConst(() => uid('filter'));
  const fire = useDebounced(onChange, delay);
  return html`<div class="filter">
    <label class="filter__label" for=${id}>${label}</label>
    <input id=${id} type="text" class="input filter__input" defaultValue=${value} placeholder=${placeholder} list=${list}
      autocomplete="off" onInput=${(e) => fire(e.currentTarget.value)} onKeyDown=${onEnter(fire, onChange)} />
  </div>`;
}
