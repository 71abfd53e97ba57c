// Live settings (#/settings): values staff may change while Kizuna runs.
// The form is built from GET /api/settings, one field per item by its type, grouped by the key's
// first part ("mail.sender_name" → group "mail"). Only changed values are sent.

import { api } from '../api.js';
import { t, tOr } from '../i18n.js';
import { can, updatePasswordPolicy } from '../session.js';
import { settingLabel } from '../labels.js';
import * as fmt from '../format.js';
import { h, mount } from '../ui/dom.js';
import { notice, page } from '../ui/page.js';
import { createForm } from '../ui/form.js';
import { toast } from '../ui/toast.js';
import { testMailButton } from '../actions/test-mail.js';

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

function fieldsFor(items) {
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

export default async function settingsView(ctx) {
  const canWrite = can('settings:write');
  const data = await api.get('/api/settings', null, { signal: ctx.signal });
  const slot = h('div', { class: 'card card--form' });

  function render(items) {
    const form = createForm({
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
        updatePasswordPolicy(result.items); // the password fields' help text follows the new rules
        render(result.items || []);
      },
    });
    mount(slot, form.el);
  }
  render(data.items || []);

  return page({
    title: t('nav.settings'),
    subtitle: t('settings.subtitle'),
    actions: [testMailButton()].filter(Boolean),
    body: h('div', { class: 'stack' }, !canWrite && notice({ tone: 'info', message: t('settings.read_only') }), slot),
  });
}
