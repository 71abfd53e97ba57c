// Live settings (#/settings): values staff may change while Kizuna runs.
// The form is built from GET /api/settings (load()), one field per item by its type, grouped by
// the key's first part ("mail.sender_name" → group "mail"). Only changed values are sent; after
// a save the form is rebuilt from the answer (new defaults, "changed by").

import { html, useSignal } from '../lib.js';
import { api } from '../api.js';
import { t, tOr } from '../i18n.js';
import { can, applySettings } from '../session.js';
import { settingLabel } from '../labels.js';
import * as fmt from '../format.js';
import { Notice, Page } from '../ui/page.js';
import { createForm, Form } from '../ui/form.js';
import { toast } from '../ui/toast.js';
import { TestMailButton } from '../actions/test-mail.js';

const INPUT_TYPES = { string: 'text', text: 'textarea', int: 'number', bool: 'checkbox', email: 'email', choice: 'select' };

function shown(value) {
  if (value === true) return t('common.yes');
  if (value === false) return t('common.no');
  if (value == null || value === '') return t('settings.empty_value');
  const s = String(value);
  return s.length > 60 ? `${s.slice(0, 60)}…` : s;
}

function helpFor(item) {
  const parts = [t('settings.default', { value: shown(item.default) })];
  if (item.updated_at) parts.push(t('settings.updated', { at: fmt.dateTime(item.updated_at), by: item.updated_by || '—' }));
  return parts.join(' · ');
}

function choiceOptions(item) {
  return (item.choices || []).map((c) => {
    const value = c != null && typeof c === 'object' ? c.value : c;
    const label = c != null && typeof c === 'object' && c.label ? c.label : tOr(`settings.choice.${item.key}.${value}`, String(value));
    return { value, label };
  });
}

/** The field list of the settings form (exported for screens that show settings of their own). */
export function fieldsFor(items) {
  const fields = [];
  let group = null;
  for (const item of items) {
    const g = item.key.split('.')[0];
    if (g !== group) {
      group = g;
      fields.push({ type: 'section', label: tOr(`settings.group.${g}`, g) });
    }
    fields.push({
      name: item.key,
      type: INPUT_TYPES[item.type] || 'text',
      label: settingLabel(item.key),
      help: helpFor(item),
      options: item.type === 'choice' ? choiceOptions(item) : undefined,
      step: item.type === 'int' ? 1 : undefined,
      rows: item.type === 'text' ? 5 : undefined,
      width: item.type === 'int' ? 'sm' : undefined,
      value: item.value,
    });
  }
  return fields;
}

export function load(ctx) {
  return api.get('/api/settings', null, { signal: ctx.signal });
}

let built = 0;

export default function SettingsView({ data }) {
  const canWrite = can('settings:write');
  const form = useSignal(null); // { model, id }: a new form after each save

  function build(items) {
    built += 1;
    const model = createForm({
      fields: fieldsFor(items),
      readOnly: !canWrite,
      submitLabel: t('common.save'),
      onSubmit: (values, { changed }) => {
        if (Object.keys(changed).length === 0) return null;
        return api.patch('/api/settings', { values: changed });
      },
      onDone: (result) => {
        if (!result) {
          toast(t('common.no_changes'));
          return;
        }
        toast(t('common.saved'), { type: 'success' });
        applySettings(result.items); // the password fields' help text follows the new rules
        form.value = build(result.items || []);
      },
    });
    return { model, id: built };
  }
  if (form.peek() === null) form.value = build(data.items || []);

  return html`<${Page} title=${t('nav.settings')} subtitle=${t('settings.subtitle')} actions=${[html`<${TestMailButton} />`]}>
    <div class="stack">
      ${!canWrite && html`<${Notice} tone="info" message=${t('settings.read_only')} />`}
      <div class="card card--form"><${Form} key=${form.value.id} form=${form.value.model} /></div>
    </div>
  <//>`;
}
