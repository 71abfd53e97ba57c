// Merging duplicate records (POST /api/customers/tables/<t>/merge): the records side by side,
// one column each; the survivor chosen with a radio button in its column header, and per field
// the record whose value is kept (default: the survivor's, else the first non-empty one — the
// server's rule); the related rows that will move to the survivor; then confirm. A record
// changed since the dialog opened is a 409: the dialog says so and offers to reload.
//
//   const result = await openMerge({ designs, design, records, refs });  // → the API's answer or null

import { html, signal, computed } from '../lib.js';
import { api, ApiError, isAbort } from '../api.js';
import { t } from '../i18n.js';
import * as fmt from '../format.js';
import { errorText } from '../errors.js';
import { openDialog } from '../ui/dialog.js';
import { Notice } from '../ui/page.js';
import { displayValue } from './display.js';
import { activeFields, fieldLabel, recordLabel, tableLabel } from './design.js';

/** A reason a group was formed ('email', 'phone', 'name_company') in words. */
export const reasonLabel = (reason) =>
  reason === 'email' ? t('customers.duplicates.reason.email')
  : reason === 'phone' ? t('customers.duplicates.reason.phone')
  : reason === 'name_company' ? t('customers.duplicates.reason.name_company')
  : reason; // prettier-ignore

export const scoreTone = (score) => (score >= 90 ? 'danger' : score >= 75 ? 'warning' : 'info');

const empty = (v) => v == null || v === '' || (Array.isArray(v) && v.length === 0);
const same = (a, b) => JSON.stringify(a ?? null) === JSON.stringify(b ?? null);

/** The merge's state: survivor, explicit choices per field, and what each field will keep. */
export function createMerge({ design, records }) {
  const survivor = signal(records[0].id);
  const picked = signal({}); // field → record id, as clicked
  const fields = activeFields(design);

  /** The record whose value a field keeps: the one clicked, else the survivor's, else the first non-empty. */
  function keeps(key) {
    const chosen = picked.value[key];
    if (chosen != null && records.some((r) => r.id === chosen)) return chosen;
    const first = records.find((r) => r.id === survivor.value);
    if (!empty(first?.values[key])) return survivor.value;
    const other = records.find((r) => r.id !== survivor.value && !empty(r.values[key]));
    return other ? other.id : survivor.value;
  }

  const differing = computed(() => fields.filter((f) => records.some((r) => !same(r.values[f.key], records[0].values[f.key]))));

  function body() {
    const sources = records.filter((r) => r.id !== survivor.value);
    const values = {};
    for (const f of differing.value) {
      const from = keeps(f.key);
      if (picked.value[f.key] != null) values[f.key] = from;
    }
    return {
      survivor: survivor.value,
      sources: sources.map((r) => r.id),
      values,
      versions: Object.fromEntries(records.map((r) => [String(r.id), r.version])),
    };
  }

  return {
    survivor,
    picked,
    fields,
    differing,
    keeps,
    body,
    choose: (key, id) => (picked.value = { ...picked.value, [key]: id }),
    setSurvivor: (id) => (survivor.value = id),
  };
}

function MergeTable({ model, design, records, refs }) {
  const name = (r) => recordLabel(design, r);
  return html`<div class="table-scroll table-scroll--plain merge__scroll">
    <table class="table table--compact merge__table" data-testid="merge-table">
      <thead><tr>
        <th scope="col">${t('customers.merge.field')}</th>
        ${records.map((r) => html`<th scope="col" key=${r.id} class=${model.survivor.value === r.id ? 'merge__col--survivor' : ''}>
          <label class="merge__survivor">
            <input type="radio" name="merge-survivor" value=${r.id} checked=${model.survivor.value === r.id}
              data-testid=${`merge-survivor-${r.id}`} onChange=${() => model.setSurvivor(r.id)} />
            <span><span class="merge__name">${name(r)}</span> <span class="muted">#${r.id}</span></span>
          </label>
          <span class="merge__role">${model.survivor.value === r.id ? t('customers.merge.survivor') : t('customers.merge.source')}</span>
        </th>`)}
      </tr></thead>
      <tbody>
        ${model.fields.map((f) => {
          const differs = model.differing.value.includes(f);
          const keep = model.keeps(f.key);
          return html`<tr key=${f.key} data-field=${f.key} class=${differs ? 'merge__row--differs' : ''}>
            <th scope="row">${fieldLabel(f)}</th>
            ${records.map((r) => {
              const shown = displayValue(f, r.values[f.key], { refs, compact: true });
              const text = shown == null ? html`<span class="muted">${fmt.EMPTY}</span>` : shown;
              return html`<td key=${r.id} class=${differs && keep === r.id ? 'merge__cell--kept' : ''}>
                ${differs
                  ? html`<label class="merge__choice">
                      <input type="radio" name=${`merge-${f.key}`} value=${r.id} checked=${keep === r.id}
                        data-testid=${`merge-pick-${f.key}-${r.id}`} onChange=${() => model.choose(f.key, r.id)} />
                      <span>${text}</span>
                    </label>`
                  : text}
              </td>`;
            })}
          </tr>`;
        })}
      </tbody>
    </table>
  </div>`;
}

function Moves({ moves, designs, design, records, survivor }) {
  if (moves === null) return html`<p class="muted">${t('common.loading')}</p>`;
  const keeper = records.find((r) => r.id === survivor);
  const list = [];
  for (const [k, count] of moves) {
    const [source, table, field] = k.split(' ');
    if (Number(source) === survivor || !count) continue;
    const other = designs.get(table);
    const spec = other?.fields.find((f) => f.key === field);
    list.push({ k, source, label: other ? tableLabel(other) : table, field: spec ? fieldLabel(spec) : field, count });
  }
  if (!list.length) return html`<p class="muted" data-testid="merge-moves">${t('customers.merge.no_moves')}</p>`;
  return html`<ul class="merge__moves" data-testid="merge-moves">
    ${list.map((m) => html`<li key=${m.k}>${t('customers.merge.moves', {
      count: fmt.number(m.count), table: m.label, field: m.field, from: `#${m.source}`, to: recordLabel(design, keeper),
    })}</li>`)}
  </ul>`;
}

/** Opens the merge dialog for these records (two or more, fresh from the API). */
export function openMerge({ designs, design, records, refs }) {
  const model = createMerge({ design, records });
  const moves = signal(null); // Map '<record> <table> <field>' → total
  const error = signal(null);
  const busy = signal(false);
  const controller = new AbortController();
  const base = `/api/customers/tables/${encodeURIComponent(design.key)}`;

  Promise.all(records.map((r) => api.get(`${base}/records/${r.id}/related`, null, { signal: controller.signal })))
    .then((all) => {
      const found = new Map();
      all.forEach((tabs, i) => tabs.forEach((tab) => found.set(`${records[i].id} ${tab.table} ${tab.field}`, tab.total)));
      moves.value = found;
    })
    .catch((err) => {
      if (!isAbort(err)) error.value = err;
    });

  async function submit(close) {
    busy.value = true;
    error.value = null;
    try {
      const result = await api.post(`${base}/merge`, model.body(), { signal: controller.signal });
      close(result);
    } catch (err) {
      if (!isAbort(err)) error.value = err;
    } finally {
      busy.value = false;
    }
  }

  const actions = computed(() => [
    { label: t('common.cancel'), variant: 'secondary', onClick: (close) => close(null) },
    {
      label: t('customers.merge.confirm', { count: records.length - 1 }),
      variant: 'primary',
      testId: 'merge-confirm',
      busy: busy.value,
      disabled: busy.value || (error.value instanceof ApiError && error.value.status === 409),
      onClick: submit,
    },
  ]);

  function Body() {
    const err = error.value;
    const conflict = err instanceof ApiError && err.status === 409 && err.code === 'records_changed';
    return html`<div class="merge stack" data-testid="merge-body">
      <p class="muted">${t('customers.merge.intro')}</p>
      ${err && html`<${Notice} tone="danger" testId=${conflict ? 'merge-conflict' : 'merge-error'}
        title=${conflict ? t('customers.merge.changed_title') : null}
        message=${conflict ? t('customers.merge.changed') : errorText(err)} />`}
      <${MergeTable} model=${model} design=${design} records=${records} refs=${refs} />
      <div>
        <h3 class="merge__heading">${t('customers.merge.related')}</h3>
        <${Moves} moves=${moves.value} designs=${designs} design=${design} records=${records} survivor=${model.survivor.value} />
      </div>
      <p class="muted">${t('customers.merge.kept_in_history')}</p>
    </div>`;
  }

  const dialog = openDialog({ title: t('customers.merge.title', { count: records.length }), body: Body, actions, size: 'lg', testId: 'merge-dialog' });
  dialog.result.finally(() => controller.abort());
  return dialog.result;
}
