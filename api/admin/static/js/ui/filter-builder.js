// A filter builder: nested AND/OR groups of conditions ({field, op, value}), with the operators
// and value inputs that suit each field's type. It edits a condition tree in the shape the
// records API takes as `where`, and shows the API's errors at the condition they point at
// ("where.and[1].op").
//
//   const builder = createFilterBuilder({ fields, where });   // where: a tree to start from, or null
//   html`<${FilterBuilder} builder=${builder} />`
//   builder.toWhere()        → the tree for the API (null when empty); incomplete conditions are
//                              marked with an error and make it return undefined
//   builder.setWhere(tree)   → start again from a saved tree;  builder.clear()
//   builder.setErrors(err)   → an ApiError's errors shown at their conditions; true if any matched
//                              (the paths are those of the last toWhere(); toWhere({ check: false })
//                              maps them for a tree sent without editing, e.g. from the URL)
//   builder.count            → a signal: how many conditions the builder shows
//   countConditions(tree)    → how many conditions an API tree has (an applied filter)
//
// fields: [{ key, label, type, group?, options?: [{value, label}], ops?: [...] }]: `type` is a
// field type of the customer database (text, integer, date, select, multi_select, reference…);
// `options` makes the value a choice among them (select fields, statuses, owners); `group` puts
// the field under a heading in the picker (a referenced table's fields: key "company.name").

import { html, cx, signal, computed, uid, useConst } from '../lib.js';
import { t } from '../i18n.js';
import { fieldErrorText } from '../errors.js';
import { Button } from './button.js';
import { Icon } from './icons.js';

export const MAX_DEPTH = 4; // the API allows 5 levels; the root group is one

const EMPTY_OPS = ['is_empty', 'not_empty'];
const TEXT_OPS = ['contains', 'eq', 'ne', 'starts_with', 'in', ...EMPTY_OPS];
const ORDERED_OPS = ['eq', 'ne', 'gt', 'gte', 'lt', 'lte', 'between', 'in', ...EMPTY_OPS];
const TEXT_TYPES = ['text', 'long_text', 'email', 'phone', 'url', 'postal_code', 'furigana', 'file'];

/** The operators the API accepts for a field type (api/customers/query.py OPERATORS). */
export function operatorsFor(type) {
  if (TEXT_TYPES.includes(type)) return TEXT_OPS;
  if (['integer', 'decimal', 'date', 'datetime'].includes(type)) return ORDERED_OPS;
  if (type === 'boolean') return ['eq', ...EMPTY_OPS];
  if (type === 'select') return ['eq', 'ne', 'in', ...EMPTY_OPS];
  if (type === 'multi_select') return ['has', 'has_any', ...EMPTY_OPS];
  if (type === 'reference') return ['eq', 'in', ...EMPTY_OPS];
  return ['eq', ...EMPTY_OPS];
}

const TIME_TYPES = ['date', 'datetime'];

/** An operator's words; dates say "before"/"after" where numbers say "less"/"greater". */
export function operatorLabel(op, type) {
  const time = TIME_TYPES.includes(type);
  switch (op) {
    case 'eq': return t('customers.filter.op.eq');
    case 'ne': return t('customers.filter.op.ne');
    case 'contains': return t('customers.filter.op.contains');
    case 'starts_with': return t('customers.filter.op.starts_with');
    case 'in': return t('customers.filter.op.in');
    case 'lt': return time ? t('customers.filter.op.before') : t('customers.filter.op.lt');
    case 'lte': return time ? t('customers.filter.op.on_or_before') : t('customers.filter.op.lte');
    case 'gt': return time ? t('customers.filter.op.after') : t('customers.filter.op.gt');
    case 'gte': return time ? t('customers.filter.op.on_or_after') : t('customers.filter.op.gte');
    case 'between': return t('customers.filter.op.between');
    case 'has': return t('customers.filter.op.has');
    case 'has_any': return t('customers.filter.op.has_any');
    case 'is_empty': return t('customers.filter.op.is_empty');
    case 'not_empty': return t('customers.filter.op.not_empty');
    default: return op;
  } // prettier-ignore
}

const isList = (op) => op === 'in' || op === 'has_any';
const needsNoValue = (op) => EMPTY_OPS.includes(op);

// ------------------------------------------------------------------------------------ the tree

let seq = 0;
const nextId = () => `fb${(seq += 1)}`;

const newGroup = (join = 'and', items = []) => ({ id: nextId(), kind: 'group', join, items });
const newCondition = (field = '', op = '', value = '') => ({ id: nextId(), kind: 'cond', field, op, value });

function emptyValue(field, op) {
  if (op === 'between') return ['', ''];
  if (isList(op)) return field?.options ? [] : '';
  if (field?.type === 'boolean') return 'true';
  return '';
}

/** The raw input values of a condition from a value of the API. */
function rawValue(field, op, value) {
  if (needsNoValue(op)) return '';
  if (op === 'between') return Array.isArray(value) ? value.map((v) => rawScalar(field, v)) : ['', ''];
  if (isList(op)) {
    const list = Array.isArray(value) ? value : [value];
    return field?.options ? list : list.map((v) => rawScalar(field, v)).join(', ');
  }
  return rawScalar(field, value);
}

function rawScalar(field, value) {
  if (value == null) return '';
  if (field?.type === 'boolean') return value ? 'true' : 'false';
  if (field?.type === 'datetime') return String(value).slice(0, 16); // datetime-local: YYYY-MM-DDTHH:MM
  return String(value);
}

const INTEGER_LIKE = ['integer', 'reference', 'owner'];

/** An input's text → the value the API takes (numbers as numbers; decimals stay exact strings). */
function apiScalar(field, raw) {
  const s = String(raw ?? '').trim();
  if (field?.type === 'boolean') return s === 'true';
  if (INTEGER_LIKE.includes(field?.type) || field?.numeric) return /^-?\d+$/.test(s) ? Number(s) : s;
  if (field?.options) {
    const option = field.options.find((o) => String(o.value) === s);
    return option ? option.value : s;
  }
  return s;
}

/** How many conditions a tree of the API has. */
export function countConditions(tree) {
  if (!tree || typeof tree !== 'object') return 0;
  const items = tree.and || tree.or;
  return Array.isArray(items) ? items.reduce((n, item) => n + countConditions(item), 0) : 1;
}

const splitList = (raw) =>
  String(raw ?? '')
    .split(/[\n,、，]/)
    .map((s) => s.trim())
    .filter(Boolean);

export function createFilterBuilder({ fields, where = null }) {
  const byKey = new Map(fields.map((f) => [f.key, f]));
  const root = signal(fromWhere(where));
  const errors = signal({}); // node id → message
  const count = computed(() => countNodes(root.value));

  function fromWhere(tree) {
    if (!tree || typeof tree !== 'object') return newGroup();
    const node = build(tree);
    return node.kind === 'group' ? node : newGroup('and', [node]);
  }

  function build(node) {
    for (const join of ['and', 'or']) {
      if (Array.isArray(node?.[join])) return newGroup(join, node[join].map(build));
    }
    const field = byKey.get(node?.field);
    return newCondition(node?.field || '', node?.op || '', rawValue(field, node?.op, node?.value));
  }

  function countNodes(group) {
    return group.items.reduce((n, item) => n + (item.kind === 'group' ? countNodes(item) : 1), 0);
  }

  /** A copy of the tree with `fn` applied to the node `id` (fn returns the new node or null). */
  function edit(id, fn) {
    const walk = (node) => {
      if (node.id === id) return fn(node);
      if (node.kind !== 'group') return node;
      return { ...node, items: node.items.map(walk).filter(Boolean) };
    };
    root.value = walk(root.value) || newGroup();
    if (errors.value[id]) {
      const next = { ...errors.value };
      delete next[id];
      errors.value = next;
    }
  }

  function depthOf(id) {
    const find = (node, depth) => {
      if (node.id === id) return depth;
      if (node.kind !== 'group') return null;
      for (const item of node.items) {
        const d = find(item, depth + 1);
        if (d != null) return d;
      }
      return null;
    };
    return find(root.value, 0) ?? 0;
  }

  function addCondition(groupId = root.value.id) {
    const first = fields[0];
    const op = first ? operatorsOf(first)[0] : '';
    const node = newCondition(first?.key || '', op, emptyValue(first, op));
    edit(groupId, (g) => ({ ...g, items: [...g.items, node] }));
    return node.id;
  }

  function addGroup(groupId = root.value.id) {
    const join = findNode(groupId)?.join === 'and' ? 'or' : 'and';
    const first = fields[0];
    const op = first ? operatorsOf(first)[0] : '';
    const group = newGroup(join, [newCondition(first?.key || '', op, emptyValue(first, op))]);
    edit(groupId, (g) => ({ ...g, items: [...g.items, group] }));
    return group.id;
  }

  function findNode(id) {
    const find = (node) => {
      if (node.id === id) return node;
      if (node.kind !== 'group') return null;
      for (const item of node.items) {
        const found = find(item);
        if (found) return found;
      }
      return null;
    };
    return find(root.value);
  }

  const operatorsOf = (field) => field?.ops || operatorsFor(field?.type);

  function setField(id, key) {
    const field = byKey.get(key);
    edit(id, (c) => {
      const ops = operatorsOf(field);
      const op = ops.includes(c.op) ? c.op : ops[0];
      const sameKind = byKey.get(c.field)?.type === field?.type && !!byKey.get(c.field)?.options === !!field?.options;
      return { ...c, field: key, op, value: sameKind && c.op === op ? c.value : emptyValue(field, op) };
    });
  }

  function setOp(id, op) {
    edit(id, (c) => {
      const field = byKey.get(c.field);
      const keep = (isList(op) && isList(c.op)) || (!isList(op) && !isList(c.op) && op !== 'between' && c.op !== 'between');
      return { ...c, op, value: keep ? c.value : emptyValue(field, op) };
    });
  }

  const setValue = (id, value) => edit(id, (c) => ({ ...c, value }));
  const setJoin = (id, join) => edit(id, (g) => ({ ...g, join }));
  const remove = (id) => edit(id, () => null);

  function conditionValue(c, field) {
    if (needsNoValue(c.op)) return { ok: true };
    if (c.op === 'between') {
      const [a, b] = Array.isArray(c.value) ? c.value : ['', ''];
      if (String(a).trim() === '' || String(b).trim() === '') return { ok: false };
      return { ok: true, value: [apiScalar(field, a), apiScalar(field, b)] };
    }
    if (isList(c.op)) {
      const list = Array.isArray(c.value) ? c.value : splitList(c.value);
      if (list.length === 0) return { ok: false };
      return { ok: true, value: list.map((v) => apiScalar(field, v)) };
    }
    if (String(c.value ?? '').trim() === '') return { ok: false };
    return { ok: true, value: apiScalar(field, c.value) };
  }

  let paths = new Map(); // "where.and[1]" → node id, from the last toWhere()

  /** The tree for the API: null when there are no conditions; undefined (and errors shown) when
   * a condition is incomplete. */
  function toWhere({ check = true } = {}) {
    const problems = {};
    paths = new Map();
    const serialise = (node, path) => {
      if (node.kind === 'group') {
        const items = [];
        for (const item of node.items) {
          const out = serialise(item, `${path}.${node.join}[${items.length}]`);
          if (out) items.push(out);
        }
        if (items.length === 0) return null;
        paths.set(path, node.id);
        return { [node.join]: items };
      }
      const field = byKey.get(node.field);
      if (!field) {
        problems[node.id] = t('customers.filter.error.field');
        return null;
      }
      const { ok, value } = conditionValue(node, field);
      if (!ok) {
        problems[node.id] = t('customers.filter.error.value');
        return null;
      }
      paths.set(path, node.id);
      const out = { field: node.field, op: node.op };
      if (value !== undefined) out.value = value;
      return out;
    };
    const tree = serialise(root.value, 'where');
    if (!check) return tree;
    errors.value = problems;
    if (Object.keys(problems).length) return undefined;
    return tree;
  }

  /** Shows an ApiError's errors at the conditions their paths point at; true if any did. */
  function setErrors(err) {
    const next = {};
    for (const e of err?.errors || []) {
      let path = String(e.field || '');
      if (!path.startsWith('where')) continue;
      while (path && !paths.has(path)) {
        const cut = path.replace(/(\.[a-z_]+(\[\d+\])?|\[\d+\])$/, '');
        if (cut === path) break;
        path = cut;
      }
      const id = paths.get(path);
      if (id) next[id] = fieldErrorText(e);
    }
    errors.value = next;
    return Object.keys(next).length > 0;
  }

  return {
    fields,
    byKey,
    root,
    errors,
    count,
    operatorsOf,
    depthOf,
    addCondition,
    addGroup,
    setField,
    setOp,
    setValue,
    setJoin,
    remove,
    toWhere,
    setErrors,
    setWhere(tree) {
      root.value = fromWhere(tree);
      errors.value = {};
    },
    clear() {
      root.value = newGroup();
      errors.value = {};
    },
  };
}

// ------------------------------------------------------------------------------------ the view

function FieldPicker({ builder, node, id }) {
  const groups = [];
  for (const f of builder.fields) {
    const name = f.group || '';
    let g = groups.find((x) => x.name === name);
    if (!g) groups.push((g = { name, items: [] }));
    g.items.push(f);
  }
  const options = (items) => items.map((f) => html`<option value=${f.key} key=${f.key}>${f.label}</option>`);
  return html`<select id=${id} class="input input--sm filter-cond__field" aria-label=${t('customers.filter.field')} value=${node.field}
    onChange=${(e) => builder.setField(node.id, e.currentTarget.value)}>
    ${!builder.byKey.has(node.field) && html`<option value=${node.field}>${node.field || t('customers.filter.choose_field')}</option>`}
    ${groups.map((g) => (g.name ? html`<optgroup label=${g.name} key=${g.name}>${options(g.items)}</optgroup>` : options(g.items)))}
  </select>`;
}

function ScalarInput({ field, value, onInput, label }) {
  const type = field?.type;
  if (field?.options) {
    return html`<select class="input input--sm filter-cond__value" aria-label=${label} value=${String(value ?? '')} onChange=${(e) => onInput(e.currentTarget.value)}>
      <option value="" disabled>${t('customers.filter.choose_value')}</option>
      ${field.options.map((o) => html`<option value=${String(o.value)} key=${String(o.value)}>${o.label}</option>`)}
    </select>`;
  }
  if (type === 'boolean') {
    return html`<select class="input input--sm filter-cond__value" aria-label=${label} value=${String(value || 'true')} onChange=${(e) => onInput(e.currentTarget.value)}>
      <option value="true">${t('common.yes')}</option>
      <option value="false">${t('common.no')}</option>
    </select>`;
  }
  const attrs = { type: 'text', inputmode: undefined, step: undefined };
  if (type === 'date') attrs.type = 'date';
  else if (type === 'datetime') attrs.type = 'datetime-local';
  else if (INTEGER_LIKE.includes(type)) Object.assign(attrs, { type: 'number', step: '1' });
  else if (type === 'decimal') attrs.inputmode = 'decimal';
  return html`<input class="input input--sm filter-cond__value" aria-label=${label} type=${attrs.type} step=${attrs.step} inputmode=${attrs.inputmode}
    value=${value ?? ''} onInput=${(e) => onInput(e.currentTarget.value)} />`;
}

function ValueInput({ builder, node }) {
  const field = builder.byKey.get(node.field);
  const label = t('customers.filter.value');
  if (!field || needsNoValue(node.op)) return null;
  if (node.op === 'between') {
    const [a, b] = Array.isArray(node.value) ? node.value : ['', ''];
    return html`<span class="filter-cond__range">
      <${ScalarInput} field=${field} value=${a} label=${t('customers.filter.from')} onInput=${(v) => builder.setValue(node.id, [v, b])} />
      <span class="filter-cond__dash" aria-hidden="true">〜</span>
      <${ScalarInput} field=${field} value=${b} label=${t('customers.filter.to')} onInput=${(v) => builder.setValue(node.id, [a, v])} />
    </span>`;
  }
  if (isList(node.op) && field.options) {
    const chosen = Array.isArray(node.value) ? node.value.map(String) : [];
    return html`<span class="filter-cond__choices" role="group" aria-label=${label}>
      ${field.options.map((o) => {
        const on = chosen.includes(String(o.value));
        return html`<label class=${cx('filter-choice', on && 'is-on')} key=${String(o.value)}>
          <input type="checkbox" class="checkbox" checked=${on}
            onChange=${() => builder.setValue(node.id, on ? chosen.filter((v) => v !== String(o.value)) : [...chosen, String(o.value)])} />
          <span>${o.label}</span>
        </label>`;
      })}
    </span>`;
  }
  if (isList(node.op)) {
    return html`<input class="input input--sm filter-cond__value filter-cond__value--list" aria-label=${label} type="text" value=${node.value ?? ''}
      placeholder=${t('customers.filter.list_placeholder')} onInput=${(e) => builder.setValue(node.id, e.currentTarget.value)} />`;
  }
  return html`<${ScalarInput} field=${field} value=${node.value} label=${label} onInput=${(v) => builder.setValue(node.id, v)} />`;
}

function Condition({ builder, node }) {
  const field = builder.byKey.get(node.field);
  const error = builder.errors.value[node.id];
  const pickerId = useConst(() => uid('cond'));
  return html`<li class=${cx('filter-cond', error && 'filter-cond--invalid')} data-testid="filter-condition">
    <div class="filter-cond__row">
      <${FieldPicker} builder=${builder} node=${node} id=${pickerId} />
      <select class="input input--sm filter-cond__op" aria-label=${t('customers.filter.operator')} value=${node.op}
        onChange=${(e) => builder.setOp(node.id, e.currentTarget.value)}>
        ${!builder.operatorsOf(field).includes(node.op) && html`<option value=${node.op}>${node.op}</option>`}
        ${builder.operatorsOf(field).map((op) => html`<option value=${op} key=${op}>${operatorLabel(op, field?.type)}</option>`)}
      </select>
      <${ValueInput} builder=${builder} node=${node} />
      <${Button} icon="close" size="sm" variant="ghost" class="btn--icon filter-cond__remove" aria-label=${t('customers.filter.remove_condition')}
        title=${t('customers.filter.remove_condition')} onClick=${() => builder.remove(node.id)} />
    </div>
    ${error && html`<p class="field__error filter-cond__error" role="alert">${error}</p>`}
  </li>`;
}

function Group({ builder, node, depth }) {
  const error = builder.errors.value[node.id];
  return html`<div class=${cx('filter-group', depth > 0 && 'filter-group--nested')} data-testid="filter-group" data-join=${node.join}>
    <div class="filter-group__head">
      <div class="segmented segmented--sm" role="group" aria-label=${t('customers.filter.join')}>
        <button type="button" class="segmented__option" aria-pressed=${String(node.join === 'and')} onClick=${() => builder.setJoin(node.id, 'and')}>${t('customers.filter.all')}</button>
        <button type="button" class="segmented__option" aria-pressed=${String(node.join === 'or')} onClick=${() => builder.setJoin(node.id, 'or')}>${t('customers.filter.any')}</button>
      </div>
      ${depth > 0 && html`<${Button} icon="trash" size="sm" variant="danger-ghost" label=${t('customers.filter.remove_group')} onClick=${() => builder.remove(node.id)} />`}
    </div>
    ${error && html`<p class="field__error" role="alert">${error}</p>`}
    ${node.items.length > 0 && html`<ul class="filter-group__items">
      ${node.items.map((item, i) => html`<li class="filter-group__item" key=${item.id}>
        ${i > 0 && html`<span class="filter-group__join" aria-hidden="true">${node.join === 'and' ? t('customers.filter.and') : t('customers.filter.or')}</span>`}
        ${item.kind === 'group'
          ? html`<${Group} builder=${builder} node=${item} depth=${depth + 1} />`
          : html`<ul class="filter-group__single"><${Condition} builder=${builder} node=${item} /></ul>`}
      </li>`)}
    </ul>`}
    <div class="filter-group__add">
      <${Button} icon="plus" size="sm" variant="ghost" label=${t('customers.filter.add_condition')} onClick=${() => builder.addCondition(node.id)} />
      ${depth + 1 < MAX_DEPTH && html`<${Button} icon="plus" size="sm" variant="ghost" label=${t('customers.filter.add_group')} onClick=${() => builder.addGroup(node.id)} />`}
    </div>
  </div>`;
}

/** The builder's editor: the root group and its nested groups. */
export function FilterBuilder({ builder }) {
  const root = builder.root.value;
  return html`<div class="filter-builder" data-testid="filter-builder">
    ${root.items.length === 0 && html`<p class="filter-builder__empty"><${Icon} name="info" size=${16} /><span>${t('customers.filter.empty')}</span></p>`}
    <${Group} builder=${builder} node=${root} depth=${0} />
  </div>`;
}
