// Modal dialogs on <dialog>: the browser traps focus and Esc closes; focus returns to where it was.
//
//   if (await confirm({ title: t('tokens.revoke_title'), message: …, confirmLabel: t('tokens.revoke'), danger: true })) …
//   await alert({ title, message })
//   const user = await formDialog({ title, fields, values, submitLabel, onSubmit })   // null when cancelled
//   const d = openDialog({ title, body, actions: [{ label, variant, onClick: (close) => … }], size: 'lg' });
//   d.close(value); await d.result;   d.setBody(node)   d.setActions([...])
//
// size: 'sm' | 'md' (default) | 'lg'. testId: data-testid on the <dialog> (for browser tests).

import { h, mount, uid } from './dom.js';
import { iconButton } from './button.js';
import { createForm } from './form.js';
import { t } from '../i18n.js';

export function openDialog({ title, body, actions, size = 'md', closeLabel, dismissible = true, className, testId }) {
  const titleId = uid('dlg');
  const previousFocus = document.activeElement;
  let resolve;
  const result = new Promise((r) => {
    resolve = r;
  });
  let closed = false;

  const bodyEl = h('div', { class: 'dialog__body' });
  const footer = h('div', { class: 'dialog__footer' });
  const dialog = h(
    'dialog',
    { class: ['dialog', `dialog--${size}`, className], 'aria-labelledby': titleId, 'data-testid': testId },
    h(
      'div',
      { class: 'dialog__header' },
      h('h2', { class: 'dialog__title', id: titleId }, title),
      dismissible && iconButton({ label: closeLabel || t('common.close'), icon: 'close', onClick: () => close(undefined) }),
    ),
    bodyEl,
    footer,
  );

  function close(value) {
    if (closed) return;
    closed = true;
    dialog.close();
    dialog.remove();
    if (previousFocus && document.contains(previousFocus)) previousFocus.focus();
    resolve(value);
  }

  function setBody(node) {
    mount(bodyEl, node);
  }

  function setActions(list) {
    footer.hidden = !list || list.length === 0;
    mount(
      footer,
      (list || []).map((a) =>
        h(
          'button',
          {
            type: 'button',
            class: ['btn', `btn--${a.variant || 'secondary'}`],
            autofocus: !!a.autofocus,
            onclick: () => a.onClick(close),
          },
          a.label,
        ),
      ),
    );
  }

  // Esc: the browser fires "cancel"; we close ourselves so the promise resolves.
  dialog.addEventListener('cancel', (e) => {
    e.preventDefault();
    if (dismissible) close(undefined);
  });

  setBody(typeof body === 'function' ? body(close) : body);
  setActions(actions);
  document.body.appendChild(dialog);
  dialog.showModal();
  const first = dialog.querySelector('[autofocus]') || bodyEl.querySelector('input, select, textarea, button, [href], [tabindex]:not([tabindex="-1"])') || footer.querySelector('button');
  first?.focus();

  return { el: dialog, close, result, setBody, setActions };
}

/** Asks a yes/no question. Resolves true only when confirmed. */
export function confirm({ title, message, confirmLabel, cancelLabel, danger = false }) {
  const d = openDialog({
    title,
    size: 'sm',
    body: h('p', { class: 'dialog__message' }, message),
    actions: [
      { label: cancelLabel || t('common.cancel'), onClick: (close) => close(false), autofocus: danger },
      { label: confirmLabel || t('common.ok'), variant: danger ? 'danger' : 'primary', onClick: (close) => close(true), autofocus: !danger },
    ],
  });
  return d.result.then((v) => v === true);
}

/** Shows a message with one OK button. `message` may be text or a node. */
export function alert({ title, message, okLabel }) {
  const d = openDialog({
    title,
    size: 'sm',
    body: typeof message === 'string' ? h('p', { class: 'dialog__message' }, message) : message,
    actions: [{ label: okLabel || t('common.ok'), variant: 'primary', onClick: (close) => close(), autofocus: true }],
  });
  return d.result.then(() => undefined);
}

/**
 * A form in a dialog. Takes createForm() options (fields, values, submitLabel, onSubmit,
 * errorFieldByCode, validate, submitTestId) plus title, intro (text/node above the form), size
 * and testId. Resolves with what
 * onSubmit returned, or null when cancelled. Errors stay in the dialog.
 */
export function formDialog({ title, intro, size = 'md', testId, ...formOptions }) {
  let dlg;
  const form = createForm({
    ...formOptions,
    cancelLabel: formOptions.cancelLabel || t('common.cancel'),
    onCancel: () => dlg.close(null),
    onDone: (result) => dlg.close(result ?? true),
  });
  dlg = openDialog({
    title,
    size,
    className: 'dialog--form',
    testId,
    body: h('div', intro && (typeof intro === 'string' ? h('p', { class: 'dialog__intro' }, intro) : intro), form.el),
  });
  form.focus();
  return dlg.result.then((v) => (v === undefined ? null : v));
}
