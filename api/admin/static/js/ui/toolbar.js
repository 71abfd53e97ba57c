// The row of search and filters above a table.
//
//   toolbar(
//     searchBox({ value: ctx.query.q, placeholder: t('staff.search'), onSearch: (q) => … }),
//     filterSelect({ label: t('staff.col.role'), value, allLabel: t('common.all'), options, onChange }),
//     filterText({ label: t('audit.filter.action'), value, onChange }),
//   )
//
// searchBox and filterText call back after typing pauses (300 ms) and on Enter.

import { debounce, h, uid } from './dom.js';
import { icon } from './icons.js';

export function toolbar(...children) {
  return h('div', { class: 'toolbar', role: 'search' }, children);
}

export function searchBox({ value = '', placeholder, label, onSearch, delay = 300 }) {
  const id = uid('search');
  const fire = debounce((v) => onSearch(v.trim()), delay);
  const input = h('input', {
    id,
    type: 'search',
    class: 'input search__input',
    value,
    placeholder,
    'aria-label': label || placeholder,
    autocomplete: 'off',
    oninput: (e) => fire(e.target.value),
    onkeydown: (e) => {
      if (e.key === 'Enter') {
        e.preventDefault();
        onSearch(e.target.value.trim());
      }
    },
  });
  return h('div', { class: 'search' }, icon('search', { size: 16, className: 'search__icon' }), input);
}

/** options: [{value, label}]; allLabel adds a first "all" option with value ''. */
export function filterSelect({ label, value = '', options, allLabel, onChange }) {
  const id = uid('filter');
  return h(
    'div',
    { class: 'filter' },
    h('label', { class: 'filter__label', for: id }, label),
    h(
      'select',
      { id, class: 'input filter__select', onchange: (e) => onChange(e.target.value) },
      allLabel != null && h('option', { value: '', selected: value === '' }, allLabel),
      options.map((o) => h('option', { value: String(o.value), selected: String(o.value) === String(value) }, o.label)),
    ),
  );
}

export function filterText({ label, value = '', placeholder, onChange, delay = 300, list }) {
  const id = uid('filter');
  const fire = debounce((v) => onChange(v.trim()), delay);
  return h(
    'div',
    { class: 'filter' },
    h('label', { class: 'filter__label', for: id }, label),
    h('input', {
      id,
      type: 'text',
      class: 'input filter__input',
      value,
      placeholder,
      list,
      autocomplete: 'off',
      oninput: (e) => fire(e.target.value),
      onkeydown: (e) => {
        if (e.key === 'Enter') {
          e.preventDefault();
          onChange(e.target.value.trim());
        }
      },
    }),
  );
}
