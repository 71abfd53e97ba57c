// Create a record (#/customers/<key>/new?company=12: query parameters fill fields, e.g. for
// "add a related row") and edit one (#/customers/<key>/<id>/edit). The form is generated from the
// table's active fields by customers/fields.js (display order, help, required marks), with the
// owner (a staff member) and the status (the allowed transitions). Server errors appear at their
// fields. If someone changed the record since it was opened, the save is refused (409
// record_changed): what changed, by whom and when is shown, with a way to load the latest
// version that keeps one's other edits. Nothing is overwritten silently. After a save: the
// record's page (#/customers/<key>/<id>).

import { html, signal, useConst } from '../lib.js';
import { api, ApiError, isAbort } from '../api.js';
import { t } from '../i18n.js';
import { href } from '../router.js';
import { can, session } from '../session.js';
import { errorText, fieldErrorText } from '../errors.js';
import * as fmt from '../format.js';
import { Notice, Page } from '../ui/page.js';
import { Button } from '../ui/button.js';
import { createForm, Form } from '../ui/form.js';
import { toast } from '../ui/toast.js';
import { apiValue, fieldLabel, formField, formValue, formatValue, loadDesign, recordFields, statusLabel, tableLabel } from '../customers/fields.js';

const recordsBase = (key) => `/api/customers/tables/${encodeURIComponent(key)}/records`;

export async function load(ctx) {
  const key = ctx.params.table;
  const id = ctx.params.id;
  const signal = ctx.signal;
  const [design, record, staff] = await Promise.all([
    loadDesign(key, { signal, fresh: true }),
    id ? api.get(`${recordsBase(key)}/${encodeURIComponent(id)}`, null, { signal }) : null,
    loadOwners(key, signal),
  ]);
  return { design, record, staff };
}

/**
 * Staff who may own records: the staff list for those who may read it (admins), else
 * GET …/owners (names for every reader); null when neither answers (then: no owner, or oneself).
 */
async function loadOwners(key, signal) {
  try {
    if (can('staff:read')) return (await api.get('/api/staff/users', { per_page: 100 }, { signal })).items || [];
    const owners = await api.get(`/api/customers/tables/${encodeURIComponent(key)}/owners`, null, { signal });
    return owners.map((o) => ({ id: o.id, name: o.name, is_active: o.active }));
  } catch (err) {
    if (isAbort(err)) throw err;
    return null;
  }
}

/** A query parameter as the raw value of a field's control (prefill of a new record). */
function fromQuery(field, text) {
  switch (field.type) {
    case 'multi_select':
      return String(text).split(',').map((s) => s.trim()).filter(Boolean);
    case 'boolean':
      return ['1', 'true', 'yes'].includes(String(text).toLowerCase()) ? true : ['0', 'false', 'no'].includes(String(text).toLowerCase()) ? false : null;
    case 'reference':
      return /^\d+$/.test(text) ? Number(text) : null;
    case 'datetime':
      return formValue(field, text);
    default:
      return String(text);
  }
}

function ownerOptions(staff, current) {
  const options = [{ value: null, label: t('customers.form.no_owner') }];
  if (staff) {
    for (const s of staff) if (s.is_active || s.id === current) options.push({ value: s.id, label: s.is_active ? s.name : t('customers.form.owner_inactive', { name: s.name }) });
  } else if (session.staff) {
    options.push({ value: session.staff.id, label: t('customers.form.owner_me', { name: session.staff.name }) });
  }
  if (current != null && !options.some((o) => o.value === current)) options.push({ value: current, label: t('customers.form.owner_other', { id: current }) });
  return options;
}

function statusOptions(design, current) {
  const active = (design.statuses || []).filter((s) => !s.retired).map((s) => s.value);
  let allowed = active;
  if (current) {
    const next = (design.transitions || {})[current];
    allowed = next ? [current, ...next.filter((s) => s !== current && active.includes(s))] : active.includes(current) ? active : [current, ...active];
  }
  return allowed.map((value) => ({ value, label: statusLabel(design, value) }));
}

function createEditor(ctx, data) {
  const key = ctx.params.table;
  const design = data.design;
  const fields = recordFields(design);
  const byKey = Object.fromEntries(fields.map((f) => [f.key, f]));
  const isFile = (name) => byKey[name]?.type === 'file';
  const fileUrl = (rec, f) => (rec ? `/api/customers/tables/${encodeURIComponent(key)}/records/${rec.id}/files/${encodeURIComponent(f.key)}` : null);
  const isSales = session.staff?.role === 'sales';
  const record = signal(data.record);
  const conflict = signal(null); // [{ name, label, current, by, at }]
  const form = signal(null);

  function build(rec, overlay = {}) {
    const statuses = (design.statuses || []).filter((s) => !s.retired);
    const owner = rec ? rec.owner_id : session.staff?.id ?? null;
    const hasStatus = statuses.length > 0 || !!rec?.status;
    const head = [
      { type: 'section', label: hasStatus ? t('customers.form.section.record') : t('customers.form.section.owner') },
      {
        name: 'owner_id', type: 'select', label: t('customers.form.owner'), options: ownerOptions(data.staff, owner), width: 'md',
        disabled: isSales, help: isSales ? t('customers.form.owner_sales_help') : t('customers.form.owner_help'), testId: 'record-owner',
      },
    ];
    if (hasStatus) {
      head.push({ name: 'status', type: 'select', label: t('customers.form.status'), options: statusOptions(design, rec?.status || null), width: 'md', testId: 'record-status',
        help: rec?.status && (design.transitions || {})[rec.status] ? t('customers.form.status_help') : null });
    }
    const values = { owner_id: owner, status: rec ? rec.status || null : statuses[0]?.value ?? null };
    for (const f of fields) {
      let v = rec ? rec.values?.[f.key] : f.default;
      values[f.key] = formValue(f, v ?? null);
      if (!rec && ctx.query[f.key] != null) {
        v = fromQuery(f, ctx.query[f.key]);
        if (v != null) values[f.key] = v;
      }
    }
    const model = createForm({
      fields: [...head, { type: 'section', label: t('customers.form.section.values') }, ...fields.map((f) => formField(f, { current: rec?.values?.[f.key], fileUrl: fileUrl(rec, f) }))],
      values,
      submitLabel: rec ? t('common.save') : t('customers.form.create'),
      submitTestId: 'record-save',
      onCancel: () => ctx.navigate(rec ? `/customers/${encodeURIComponent(key)}/${rec.id}` : `/customers/${encodeURIComponent(key)}`),
      onSubmit: async (v, { changed }) => {
        const saved = rec ? await update(rec, changed) : await create(v);
        return saved.unchanged ? saved : syncFiles(saved, rec ? changed : v);
      },
      onDone: (saved) => {
        if (!saved) return;
        if (saved.unchanged) {
          toast(t('common.no_changes'), { type: 'info' });
          return;
        }
        toast(rec ? t('customers.form.updated') : t('customers.form.created'), { type: 'success' });
        ctx.navigate(`/customers/${encodeURIComponent(key)}/${saved.id}`);
      },
    });
    for (const [name, raw] of Object.entries(overlay)) {
      const slot = model.field(name);
      if (slot) slot.value.value = raw;
    }
    return model;
  }

  /**
   * File fields are written by their upload endpoint once the record exists: each chosen file
   * is uploaded (or a removed one emptied) at the record's current version. If one is refused
   * (too large, a type the field does not take), the record itself is saved: say so and open it
   * for editing, where the file can be chosen again.
   */
  async function syncFiles(saved, values) {
    let current = saved;
    for (const f of fields.filter((x) => x.type === 'file')) {
      const raw = values[f.key];
      if (!raw) continue;
      const url = `${recordsBase(key)}/${current.id}/files/${encodeURIComponent(f.key)}`;
      try {
        if (raw.pick) {
          const body = new FormData();
          body.append('file', raw.pick, raw.pick.name);
          current = await api.post(url, body, { query: { version: current.version } });
        } else if (raw.remove && raw.current) {
          current = await api.del(url, { query: { version: current.version } });
        }
      } catch (err) {
        if (!(err instanceof ApiError)) throw err;
        toast(t('customers.form.file_failed', { field: fieldLabel(f), reason: err.errors?.[0] ? fieldErrorText(err.errors[0]) : errorText(err) }), { type: 'error', timeout: 12000 });
        ctx.navigate(`/customers/${encodeURIComponent(key)}/${current.id}/edit`);
        return null;
      }
    }
    return current;
  }

  async function create(v) {
    const values = {};
    for (const f of fields) {
      if (f.type === 'file') continue;
      const value = apiValue(f, v[f.key]);
      if (value != null) values[f.key] = value;
    }
    const body = { values };
    if (!isSales) body.owner_id = v.owner_id ?? null;
    if (v.status != null) body.status = v.status;
    return api.post(recordsBase(key), body);
  }

  async function update(rec, changed) {
    const body = { version: rec.version, values: {} };
    const files = Object.keys(changed).filter(isFile);
    for (const [name, value] of Object.entries(changed)) {
      if (isFile(name)) continue;
      if (name === 'owner_id' || name === 'status') body[name] = value;
      else if (byKey[name]) body.values[name] = apiValue(byKey[name], value);
    }
    if (isSales) delete body.owner_id;
    if (!Object.keys(body.values).length && !('owner_id' in body) && !('status' in body)) return files.length ? rec : { unchanged: true };
    try {
      const saved = await api.patch(`${recordsBase(key)}/${encodeURIComponent(rec.id)}`, body);
      conflict.value = null;
      return saved;
    } catch (err) {
      if (err instanceof ApiError && err.code === 'record_changed') conflict.value = conflictItems(err);
      throw err;
    }
  }

  function conflictItems(err) {
    return err.errors.map((e) => {
      const name = String(e.field || '').replace(/^values\./, '');
      const f = byKey[name];
      const p = e.params || {};
      let current;
      if (name === 'status') current = statusLabel(design, p.current);
      else if (name === 'owner_id') current = ownerOptions(data.staff, p.current).find((o) => o.value === p.current)?.label || fmt.EMPTY;
      else current = f ? formatValue(f, p.current) : String(p.current ?? fmt.EMPTY);
      const label = f ? fieldLabel(f) : name === 'status' ? t('customers.form.status') : name === 'owner_id' ? t('customers.form.owner') : name;
      return { name, label, current, by: p.by || t('customers.form.someone'), at: p.at ? fmt.dateTime(p.at) : '' };
    });
  }

  /** Load the record as it is now; keep one's edits of the fields nobody else changed. */
  async function reload() {
    const current = form.value;
    const mine = current.changed();
    const clashing = new Set((conflict.value || []).map((c) => c.name));
    const overlay = {};
    for (const name of Object.keys(mine)) if (!clashing.has(name)) overlay[name] = current.field(name).value.value;
    try {
      const latest = await api.get(`${recordsBase(key)}/${encodeURIComponent(record.value.id)}`, null, { signal: ctx.signal });
      record.value = latest;
      conflict.value = null;
      form.value = build(latest, overlay);
      toast(Object.keys(overlay).length ? t('customers.form.reloaded_kept', { count: Object.keys(overlay).length }) : t('customers.form.reloaded'), { type: 'info' });
      form.value.focus();
    } catch (err) {
      toast(errorText(err), { type: 'error' });
    }
  }

  form.value = build(data.record);
  return { key, design, record, form, conflict, reload };
}

function ConflictNotice({ model }) {
  const items = model.conflict.value;
  if (!items) return null;
  return html`<${Notice} tone="danger" title=${t('customers.form.conflict_title')} message=${t('customers.form.conflict_message')} testId="record-conflict">
    <ul class="conflict__list">
      ${items.map(
        (c) => html`<li key=${c.name}>${c.at
          ? t('customers.form.conflict_item', { field: c.label, value: c.current, by: c.by, at: c.at })
          : t('customers.form.conflict_item_plain', { field: c.label, value: c.current, by: c.by })}</li>`,
      )}
      ${items.length === 0 && html`<li>${t('customers.form.conflict_unknown')}</li>`}
    </ul>
    <div class="notice__actions">
      <${Button} label=${t('customers.form.reload')} icon="refresh" variant="primary" size="sm" testId="record-reload" onClick=${model.reload} />
    </div>
  <//>`;
}

export default function CustomerRecordEditView({ ctx, data }) {
  const model = useConst(() => createEditor(ctx, data));
  const d = model.design;
  const rec = model.record.value;
  const table = tableLabel(d);
  const base = `/customers/${encodeURIComponent(d.key)}`;
  const empty = recordFields(d).length === 0;
  return html`<${Page}
    title=${rec ? t('customers.form.edit_title', { table }) : t('customers.form.new_title', { table })}
    subtitle=${rec ? t('customers.form.edit_subtitle', { id: rec.id, version: rec.version, at: fmt.dateTime(rec.updated_at) }) : t('customers.form.new_subtitle')}
    back=${rec ? { href: href(`${base}/${rec.id}`), label: t('customers.form.back_record') } : { href: href(base), label: table }}
  >
    <div class="record-edit">
    <${ConflictNotice} model=${model} />
    ${empty &&
    html`<${Notice} tone="info" message=${t('customers.form.no_fields')}>
      ${can('customers:design') && html`<p><a href=${href(`${base}/design`)}>${t('customers.form.open_designer')}</a></p>`}
    <//>`}
    <div class="card card--form record-form">
      <${Form} form=${model.form.value} key=${rec ? rec.version : 'new'} />
    </div>
    </div>
  <//>`;
}
