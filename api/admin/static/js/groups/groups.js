// Groups (named sets of members, read by access rules as group:<key>): the dialogs the Groups
// screens and the member's record share.
//
//   groupLabel(g)                 its label in the staff's language (the key when none)
//   createGroupDialog()           → the new group, or null
//   renameGroupDialog(g)          → the group with its new labels, or null (the key never changes)
//   deleteGroup(g)                → true when deleted (a group with members asks twice)
//   editRecordGroups(recordId, current)   → the record's groups after the change, or null

import { api, ApiError } from '../api.js';
import { t } from '../i18n.js';
import { errorText } from '../errors.js';
import { confirm, formDialog } from '../ui/dialog.js';
import { toast } from '../ui/toast.js';
import { labelOf } from '../customers/design.js';

export function groupLabel(group) {
  return labelOf(group.label, group.key);
}

function labelFields(group) {
  return [
    { name: 'label_ja', type: 'text', label: t('groups.field.label_ja'), maxlength: 200, value: group?.label?.ja || '' },
    { name: 'label_en', type: 'text', label: t('groups.field.label_en'), maxlength: 200, value: group?.label?.en || '' },
    { name: 'description', type: 'textarea', label: t('groups.field.description'), maxlength: 2000, rows: 3, value: group?.description || '' },
  ];
}

function labelBody(values) {
  return { label: { ja: values.label_ja || null, en: values.label_en || null }, description: values.description || '' };
}

export function createGroupDialog() {
  return formDialog({
    title: t('groups.create_title'),
    intro: t('groups.create_intro'),
    testId: 'group-create',
    fields: [
      { name: 'key', type: 'text', label: t('groups.field.key'), required: true, maxlength: 50, help: t('groups.field.key_help'), autocomplete: 'off', testId: 'group-key' },
      ...labelFields(null),
    ],
    submitLabel: t('groups.create'),
    submitTestId: 'group-create-submit',
    errorFieldByCode: { group_key_taken: 'key', invalid_group_key: 'key' },
    validate: (v) => (!v.label_ja && !v.label_en ? { label_ja: t('groups.error.label_required') } : null),
    onSubmit: (values) => api.post('/api/groups', { key: values.key, ...labelBody(values) }),
  });
}

export function renameGroupDialog(group) {
  return formDialog({
    title: t('groups.rename_title'),
    intro: t('groups.rename_intro', { rule: group.rule }),
    testId: 'group-rename',
    fields: labelFields(group),
    submitLabel: t('common.save'),
    validate: (v) => (!v.label_ja && !v.label_en ? { label_ja: t('groups.error.label_required') } : null),
    onSubmit: (values) => api.patch(`/api/groups/${encodeURIComponent(group.key)}`, labelBody(values)),
  });
}

export async function deleteGroup(group) {
  const path = `/api/groups/${encodeURIComponent(group.key)}`;
  const ok = await confirm({
    title: t('groups.delete_title'),
    message: t('groups.delete_message', { name: groupLabel(group), rule: group.rule }),
    confirmLabel: t('groups.delete'),
    danger: true,
  });
  if (!ok) return false;
  try {
    await api.del(path);
  } catch (err) {
    if (!(err instanceof ApiError) || err.code !== 'group_not_empty') {
      toast(errorText(err), { type: 'error' });
      return false;
    }
    const sure = await confirm({
      title: t('groups.delete_title'),
      message: t('groups.delete_not_empty', { name: groupLabel(group), count: err.problem?.members ?? group.members }),
      confirmLabel: t('groups.delete_anyway'),
      danger: true,
    });
    if (!sure) return false;
    try {
      await api.del(`${path}?force=true`);
    } catch (again) {
      toast(errorText(again), { type: 'error' });
      return false;
    }
  }
  toast(t('groups.deleted', { name: groupLabel(group) }), { type: 'success' });
  return true;
}

export async function editRecordGroups(recordId, current) {
  const all = (await api.get('/api/groups')).items;
  const mine = new Set(current.map((g) => g.key));
  const fields = all.length
    ? all.map((g) => ({ name: `g:${g.key}`, type: 'checkbox', label: `${groupLabel(g)} (${g.key})`, value: mine.has(g.key), testId: `record-group-${g.key}` }))
    : [{ name: 'none', type: 'static', label: '', value: t('groups.none_yet') }];
  return formDialog({
    title: t('groups.record.edit_title'),
    intro: t('groups.record.edit_intro'),
    testId: 'record-groups-dialog',
    fields,
    submitLabel: t('common.save'),
    submitTestId: 'record-groups-save',
    onSubmit: (values) => api.put(`/api/member-groups/${encodeURIComponent(recordId)}`, {
      groups: all.filter((g) => values[`g:${g.key}`]).map((g) => g.key),
    }),
  });
}
