// A member's log-in, on the member's record (the "Log-in" tab of a member-table record):
// whether they can log in, last log-in, failed attempts, live sessions (end one, or all), and,
// with members:write, "set a password" and "suspend" / "reactivate". GET/PUT
// /api/members/accounts/<record id>…; every change ends the member's sessions at once where
// the API says so (suspension, a new password).

import { html, signal, useConst, useEffect } from '../lib.js';
import { api, isAbort } from '../api.js';
import { t } from '../i18n.js';
import { can, session } from '../session.js';
import { errorText } from '../errors.js';
import * as fmt from '../format.js';
import { Button } from '../ui/button.js';
import { badge, detailList, time } from '../ui/cells.js';
import { confirm, formDialog } from '../ui/dialog.js';
import { toast } from '../ui/toast.js';
import { passwordRulesText, sentences } from '../password-rules.js';

function statusBadge(state) {
  if (state.status === 'suspended') return badge(t('members.login.status.suspended'), 'danger');
  if (state.can_log_in) return badge(t('members.login.status.active'), 'success');
  return badge(t('members.login.status.none'), 'neutral');
}

export function MemberLoginPanel({ record }) {
  const model = useConst(() => ({ state: signal(null), error: signal(null), busy: signal(false) }));
  const base = `/api/members/accounts/${encodeURIComponent(record.id)}`;
  async function refresh() {
    try {
      model.state.value = await api.get(base);
      model.error.value = null;
    } catch (err) {
      if (!isAbort(err)) model.error.value = err;
    }
  }
  useEffect(() => {
    refresh();
  }, [record.id]);

  async function run(action, done) {
    model.busy.value = true;
    try {
      const result = await action();
      if (result && result.record_id) model.state.value = result;
      else await refresh();
      toast(done, { type: 'success' });
    } catch (err) {
      toast(errorText(err), { type: 'error' });
    } finally {
      model.busy.value = false;
    }
  }

  async function setPassword() {
    const saved = await formDialog({
      title: t('members.login.password_title'),
      intro: t('members.login.password_intro'),
      testId: 'member-password-dialog',
      fields: [
        {
          name: 'password', type: 'password', label: t('members.login.password'), required: true,
          autocomplete: 'new-password', help: sentences(passwordRulesText(session.passwordPolicy, { who: 'staff' })),
        },
      ],
      submitLabel: t('members.login.password_save'),
      onSubmit: (values) => api.put(`${base}/password`, { password: values.password }),
    });
    if (saved) {
      model.state.value = saved;
      toast(t('members.login.password_saved'), { type: 'success' });
    }
  }

  async function setStatus(status) {
    const suspend = status === 'suspended';
    const ok = await confirm({
      title: suspend ? t('members.login.suspend_title') : t('members.login.reactivate_title'),
      message: suspend ? t('members.login.suspend_message') : t('members.login.reactivate_message'),
      confirmLabel: suspend ? t('members.login.suspend') : t('members.login.reactivate'),
      danger: suspend,
    });
    if (ok) run(() => api.put(`${base}/status`, { status }), suspend ? t('members.login.suspended') : t('members.login.reactivated'));
  }

  async function endSession(s) {
    const ok = await confirm({
      title: t('members.login.end_title'),
      message: t('members.login.end_message'),
      confirmLabel: t('members.login.end'),
      danger: true,
    });
    if (ok) run(() => api.del(`${base}/sessions/${encodeURIComponent(s.id)}`), t('members.login.ended'));
  }

  async function endAll() {
    const ok = await confirm({
      title: t('members.login.end_all_title'),
      message: t('members.login.end_all_message'),
      confirmLabel: t('members.login.end_all'),
      danger: true,
    });
    if (ok) run(() => api.post(`${base}/sessions/end`, {}), t('members.login.ended'));
  }

  if (model.error.value) return html`<p class="muted panel-pad">${errorText(model.error.value)}</p>`;
  const state = model.state.value;
  if (!state) return html`<p class="muted panel-pad">${t('common.loading')}</p>`;
  const canWrite = can('members:write');
  const busy = model.busy.value;
  return html`<div class="panel-pad stack" data-testid="member-login">
    ${!state.login_field && html`<p class="muted">${t('members.login.no_login_field')}</p>`}
    ${detailList([
      [t('members.login.state'), statusBadge(state)],
      [t('members.login.email'), state.email || null],
      [t('members.login.has_password'), state.has_password ? t('common.yes') : t('common.no')],
      [t('members.login.last_login'), time(state.last_login_at)],
      [t('members.login.failed'), state.failed_attempts ? html`<span>${fmt.number(state.failed_attempts)} ${state.last_failed_at ? html`<span class="muted">(${fmt.dateTime(state.last_failed_at)})</span>` : null}</span>` : '0'],
      [t('members.login.password_changed'), time(state.password_changed_at)],
      state.suspended_at && [t('members.login.suspended_at'), time(state.suspended_at)],
    ])}
    ${canWrite && html`<div class="member-login__actions">
      <${Button} label=${t('members.login.set_password')} size="sm" testId="member-set-password" disabled=${busy || !state.login_field} onClick=${setPassword} />
      ${state.status === 'suspended'
        ? html`<${Button} label=${t('members.login.reactivate')} size="sm" testId="member-reactivate" disabled=${busy} onClick=${() => setStatus('active')} />`
        : state.has_account && html`<${Button} label=${t('members.login.suspend')} size="sm" variant="danger-ghost" testId="member-suspend" disabled=${busy} onClick=${() => setStatus('suspended')} />`}
      ${state.sessions.length > 0 && html`<${Button} label=${t('members.login.end_all')} size="sm" variant="ghost" testId="member-end-all" disabled=${busy} onClick=${endAll} />`}
    </div>`}
    <h3 class="member-login__title">${t('members.login.sessions', { count: fmt.number(state.sessions.length) })}</h3>
    ${state.sessions.length === 0
      ? html`<p class="muted">${t('members.login.no_sessions')}</p>`
      : html`<div class="table-scroll table-scroll--plain"><table class="table table--compact" data-testid="member-sessions">
          <thead><tr>
            <th>${t('members.login.session.started')}</th>
            <th>${t('members.login.session.last_used')}</th>
            <th>${t('members.login.session.device')}</th>
            <th>${t('members.login.session.ip')}</th>
            ${canWrite && html`<th><span class="visually-hidden">${t('members.login.end')}</span></th>`}
          </tr></thead>
          <tbody>${state.sessions.map((s) => html`<tr key=${s.id}>
            <td>${time(s.created_at)}</td>
            <td>${time(s.last_used_at)}</td>
            <td>${s.user_agent || fmt.EMPTY}</td>
            <td>${s.ip || fmt.EMPTY}</td>
            ${canWrite && html`<td><${Button} label=${t('members.login.end')} size="sm" variant="ghost" disabled=${busy} onClick=${() => endSession(s)} /></td>`}
          </tr>`)}</tbody>
        </table></div>`}
  </div>`;
}
