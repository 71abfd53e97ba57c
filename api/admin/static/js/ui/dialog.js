// Modal dialogs on native <dialog>: showModal() traps focus, Esc closes (when dismissible), focus
// returns to where it was.
//
// Imperative helpers (each dialog is its own root at the end of <body>, so it can be opened from
// anywhere, and resolves a promise):
//
//   if (await confirm({ title, message, confirmLabel, danger: true })) …
//   await alert({ title, message })
//   const saved = await formDialog({ title, intro, fields, values, submitLabel, onSubmit })   // null when cancelled
//   const d = openDialog({ title, body, actions: [{ label, variant, onClick: (close) => … }], size: 'lg' });
//   d.close(value); await d.result;   d.setBody(vnode)   d.setActions([...])
//
// `body` is an element, or a component: it then gets `close` as a prop and can keep its own state
// in signals (the job dialog polls and re-renders itself). `actions` may also be a signal.
// size: 'sm' | 'md' (default) | 'lg'. testId: data-testid on the <dialog>.
//
// Or the component, when a screen owns the dialog's state:
//
//   ${open.value && html`<${Dialog} title=${…} onClose=${() => (open.value = false)} actions=${[…]}>…<//>`}

import { html, cx, signal, mountRoot, uid, useConst, useLayoutEffect, useRef, Signal } from '../lib.js';
import { IconButton } from './button.js';
import { createForm, Form } from './form.js';
import { t } from '../i18n.js';

const FOCUSABLE = 'input:not([disabled]):not([type=hidden]), select:not([disabled]), textarea:not([disabled]), button:not([disabled]), [href], [tabindex]:not([tabindex="-1"])';

export function Dialog({ title, size = 'md', className, testId, dismissible = true, closeLabel, onClose, actions, children }) {
  const ref = useRef(null);
  const titleId = useConst(() => uid('dlg'));
  const closing = useRef(false);

  useLayoutEffect(() => {
    const dialog = ref.current;
    const previousFocus = document.activeElement;
    if (!dialog.open) dialog.showModal();
    const first = dialog.querySelector('[autofocus]') || dialog.querySelector(`.dialog__body :is(${FOCUSABLE})`) || dialog.querySelector('.dialog__footer button');
    first?.focus();
    return () => {
      closing.current = true;
      if (dialog.open) dialog.close();
      if (previousFocus && document.contains(previousFocus)) previousFocus.focus();
    };
  }, []);

  const list = (actions instanceof Signal ? actions.value : actions) || [];
  const close = (value) => onClose?.(value);
  return html`<dialog
    ref=${ref}
    class=${cx('dialog', `dialog--${size}`, className)}
    aria-labelledby=${titleId}
    data-testid=${testId}
    onCancel=${(e) => {
      // Esc (or leaving the screen): we close ourselves, so the owner's state stays true.
      e.preventDefault();
      if (dismissible) close(undefined);
    }}
    onClose=${() => {
      // Closed by the browser itself (e.g. a second Esc): tell the owner.
      if (!closing.current) close(undefined);
    }}
  >
    <div class="dialog__header">
      <h2 class="dialog__title" id=${titleId}>${title}</h2>
      ${dismissible && html`<${IconButton} label=${closeLabel || t('common.close')} icon="close" onClick=${() => close(undefined)} />`}
    </div>
    <div class="dialog__body">${children}</div>
    <div class="dialog__footer" hidden=${list.length === 0}>
      ${list.map(
        (a) => html`<button type="button" class=${cx('btn', `btn--${a.variant || 'secondary'}`)} autofocus=${!!a.autofocus} data-testid=${a.testId}
          disabled=${!!a.disabled} aria-busy=${a.busy ? 'true' : undefined}
          onClick=${() => a.onClick(close)}>${a.label}</button>`,
      )}
    </div>
  </dialog>`;
}

/** Opens a dialog in its own root. Returns { el, close(value), result, setBody, setActions }. */
export function openDialog({ title, body, actions, size = 'md', closeLabel, dismissible = true, className, testId }) {
  let resolve;
  const result = new Promise((r) => {
    resolve = r;
  });
  const bodySignal = signal(body);
  const actionsSignal = actions instanceof Signal ? actions : signal(actions || []);
  let closed = false;
  let host = null;

  function close(value) {
    if (closed) return;
    closed = true;
    host?.remove();
    resolve(value);
  }

  function Host() {
    const b = bodySignal.value;
    const content = typeof b === 'function' ? html`<${b} close=${close} />` : b;
    return html`<${Dialog} title=${title} size=${size} className=${className} testId=${testId} dismissible=${dismissible}
      closeLabel=${closeLabel} onClose=${close} actions=${actionsSignal}>${content}<//>`;
  }

  host = mountRoot(html`<${Host} />`);
  return {
    el: host.el.querySelector('dialog'),
    close,
    result,
    setBody(next) {
      bodySignal.value = next;
    },
    setActions(next) {
      actionsSignal.value = next || [];
    },
  };
}

/** Asks a yes/no question. Resolves true only when confirmed. */
export function confirm({ title, message, confirmLabel, cancelLabel, danger = false }) {
  const d = openDialog({
    title,
    size: 'sm',
    body: html`<p class="dialog__message">${message}</p>`,
    actions: [
      { label: cancelLabel || t('common.cancel'), onClick: (close) => close(false), autofocus: danger },
      { label: confirmLabel || t('common.ok'), variant: danger ? 'danger' : 'primary', onClick: (close) => close(true), autofocus: !danger },
    ],
  });
  return d.result.then((v) => v === true);
}

/** Shows a message with one OK button. `message` may be text or an element. */
export function alert({ title, message, okLabel }) {
  const d = openDialog({
    title,
    size: 'sm',
    body: typeof message === 'string' ? html`<p class="dialog__message">${message}</p>` : message,
    actions: [{ label: okLabel || t('common.ok'), variant: 'primary', onClick: (close) => close(), autofocus: true }],
  });
  return d.result.then(() => undefined);
}

/**
 * A form in a dialog. Takes createForm() options (fields, values, submitLabel, onSubmit,
 * errorFieldByCode, validate, submitTestId …) plus title, intro (text or element above the
 * form), size and testId. Resolves with what onSubmit returned (true when it returned nothing),
 * or null when cancelled. Errors stay in the dialog, at their fields.
 */
export function formDialog({ title, intro, size = 'md', testId, ...formOptions }) {
  let dlg = null;
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
    body: html`<div>
      ${intro && (typeof intro === 'string' ? html`<p class="dialog__intro">${intro}</p>` : intro)}
      <${Form} form=${form} />
    </div>`,
  });
  form.focus();
  return dlg.result.then((v) => (v === undefined ? null : v));
}
