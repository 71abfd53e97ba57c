// The designs of the customer database's tables, as the record screens use them: labels in the
// staff's language, the fields a list shows, statuses, the label of a record, and the names the
// screens look up (owners, referenced records).
//
//   const designs = await loadDesigns({ signal });      // every active table, by key
//   const design = designs.get('customers');
//   tableLabel(design) · fieldLabel(field) · listFields(design) · recordLabel(design, record)
//   statusLabel(design, 'lead') · statusTone(design, 'lead')
//   const owners = await loadOwners('customers', { signal });   // Map id → { id, name, active }
//   const refs = await loadReferenceLabels(designs, design, records, { signal });
//       // Map '<table>:<id>' → label, for the reference fields of those records

import { api, isAbort } from '../api.js';
import { getLanguage, t } from '../i18n.js';

/** A {ja, en} label in the staff's language (then the other one), or `fallback`. */
export function labelOf(label, fallback = '') {
  if (!label || typeof label !== 'object') return fallback;
  const lang = getLanguage();
  return label[lang] || label.ja || label.en || fallback;
}

export const tableLabel = (design) => labelOf(design?.label, design?.key || '');
export const fieldLabel = (field) => labelOf(field?.label, field?.key || '');
export const helpText = (field) => labelOf(field?.help, '');

/** Every active table's design (GET /api/customers/tables), by key, in the API's order. */
export async function loadDesigns({ signal } = {}) {
  const list = await api.get('/api/customers/tables', null, { signal });
  return new Map((list || []).filter((d) => !d.retired).map((d) => [d.key, d]));
}

/** The active fields, in display order. */
export const activeFields = (design) => (design?.fields || []).filter((f) => !f.retired);

/** The fields marked "shown in lists" (a list's columns when no view says otherwise). */
export const listFields = (design) => activeFields(design).filter((f) => f.shown_in_list);

export function findField(design, key) {
  return activeFields(design).find((f) => f.key === key) || null;
}

// ------------------------------------------------------------------------------------- statuses

export function statuses(design) {
  return (design?.statuses || []).map((s) => (typeof s === 'string' ? { value: s, label: {} } : s));
}

export function statusLabel(design, value) {
  if (value == null || value === '') return '';
  const found = statuses(design).find((s) => s.value === value);
  return found ? labelOf(found.label, found.value) : value;
}

const TONES = ['info', 'success', 'neutral', 'accent', 'warning', 'danger'];

/** A badge tone per status, by its place in the table's list (stable for a design). */
export function statusTone(design, value) {
  const i = statuses(design).findIndex((s) => s.value === value);
  return i < 0 ? 'neutral' : TONES[i % TONES.length];
}

// ------------------------------------------------------------------------------ record labels

const LABEL_TYPES = ['text', 'furigana', 'email', 'phone', 'postal_code', 'url'];

/** The field whose value names a record: `name` if there is one, else the first text field,
 * else the first select (a purchase is named by its product). */
export function labelField(design) {
  const fields = activeFields(design);
  return (
    fields.find((f) => f.key === 'name' && LABEL_TYPES.includes(f.type)) ||
    fields.find((f) => f.type === 'text') ||
    fields.find((f) => LABEL_TYPES.includes(f.type)) ||
    fields.find((f) => f.type === 'select') ||
    null
  );
}

/** "山田 太郎", or "#12" when the record has no value to name it by. */
export function recordLabel(design, record) {
  const field = labelField(design);
  const value = field ? record?.values?.[field.key] : null;
  if (value == null || String(value).trim() === '') return t('customers.record.number', { id: record?.id ?? '' });
  if (field.type === 'select') {
    const choice = (field.choices || []).map((c) => (typeof c === 'string' ? { value: c, label: {} } : c)).find((c) => c.value === value);
    return choice ? labelOf(choice.label, choice.value) : String(value);
  }
  return String(value);
}

// ------------------------------------------------------------------------------ look-ups

/** The staff who own records (names for every reader): Map id → { id, name, active }. */
export async function loadOwners(tableKey, { signal } = {}) {
  try {
    const list = await api.get(`/api/customers/tables/${encodeURIComponent(tableKey)}/owners`, null, { signal });
    return new Map((list || []).map((o) => [o.id, o]));
  } catch (err) {
    if (isAbort(err)) throw err;
    if (err?.status !== 404) console.warn('owners', err); // (no such table: the screen says so)
    return new Map(); // the owner shows as a number
  }
}

export function ownerName(owners, id) {
  if (id == null) return '';
  return owners?.get(id)?.name || t('customers.record.staff_number', { id });
}

/** The key of a referenced record in the maps below. */
export const refKey = (table, id) => `${table}:${id}`;

/**
 * The labels of the records that `records`' reference fields point at (one request per
 * referenced table): Map '<table>:<id>' → label. `extra` adds ids to look up: [[table, id], …].
 */
export async function loadReferenceLabels(designs, design, records, { signal, extra = [] } = {}) {
  const wanted = new Map(); // table → Set of ids
  const want = (table, id) => {
    if (table == null || id == null || !Number.isInteger(Number(id))) return;
    if (!wanted.has(table)) wanted.set(table, new Set());
    wanted.get(table).add(Number(id));
  };
  for (const field of activeFields(design)) {
    if (field.type !== 'reference') continue;
    for (const record of records || []) want(field.references, record.values?.[field.key]);
  }
  for (const [table, id] of extra) want(table, id);
  const labels = new Map();
  await Promise.all(
    [...wanted].map(async ([table, ids]) => {
      const target = designs.get(table);
      if (!target) return;
      const list = [...ids].slice(0, 500);
      try {
        const page = await api.get(
          `/api/customers/tables/${encodeURIComponent(table)}/records`,
          { where: JSON.stringify({ field: 'id', op: 'in', value: list }), per_page: list.length },
          { signal },
        );
        for (const r of page.items || []) labels.set(refKey(table, r.id), recordLabel(target, r));
      } catch (err) {
        if (isAbort(err)) throw err;
        console.warn('reference labels', table, err); // shown as numbers
      }
    }),
  );
  return labels;
}
