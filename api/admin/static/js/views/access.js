// Access (#/access): who may read what on the site. Three tabs:
// - the matrix: every content URL of the last build with its rule, the fields and groups the
//   rule reads and how many members may read it; filters (rule, group, kind, text) in the URL,
//   and the rules in a summary with their counts (a click filters by the rule);
// - the last build: when, how many pages and files, and its warnings;
// - "view as": a path opened as a member (searched by name or e-mail), a group or an anonymous
//   visitor would get it: the gate's decision and why, and the page as served in a sandboxed
//   frame (no scripts, no same-origin; the API's link key carries no member cookie).
// Models: ../access/access.js.

import { html, useConst, useEffect } from '../lib.js';
import { api } from '../api.js';
import { t } from '../i18n.js';
import { can } from '../session.js';
import { errorText, fieldErrorText } from '../errors.js';
import * as fmt from '../format.js';
import { Notice, Page, EmptyState } from '../ui/page.js';
import { Button, LinkButton } from '../ui/button.js';
import { DataTable } from '../ui/table.js';
import { badge, detailList, mono, muted, time, twoLines } from '../ui/cells.js';
import { FilterSelect, SearchBox, Toolbar } from '../ui/toolbar.js';
import { Tabs } from '../ui/tabs.js';
import { groupLabel } from '../groups/groups.js';
import { createMatrix, createPreview, decisionLabel, decisionTone, kindLabel, reasonText } from '../access/access.js';

export async function load(ctx) {
  const build = await api.get('/api/access/build', null, { signal: ctx.signal });
  return { build };
}

function chips(values, tone) {
  if (!values?.length) return muted(fmt.EMPTY);
  return html`<span class="access-chips">${values.map((v) => badge(v, tone))}</span>`;
}

function membersCell(row, total) {
  if (row.public) return html`<span class="access-count">${t('access.everyone')}</span>`;
  return html`<span class="access-count">${fmt.number(row.members)}<span class="muted"> / ${fmt.number(total)}</span></span>`;
}

function RuleSummary({ matrix }) {
  const data = matrix.summary.value;
  if (!data || !data.rules.length) return null;
  const current = matrix.filters.rule;
  return html`<div class="card card--flush access-rules" data-testid="access-rules">
    <div class="access-rules__head">
      <h2 class="access-section-title">${t('access.rules.title')}</h2>
      <span class="muted">${data.member_table ? t('access.rules.members_total', { count: fmt.number(data.members) }) : t('access.no_member_table_short')}</span>
    </div>
    <div class="table-scroll">
      <table class="table table--compact">
        <thead><tr>
          <th scope="col">${t('access.col.rule')}</th>
          <th scope="col" class="access-num">${t('access.col.urls')}</th>
          <th scope="col" class="access-num">${t('access.col.members')}</th>
          <th scope="col"><span class="visually-hidden">${t('access.rules.filter')}</span></th>
        </tr></thead>
        <tbody>
          ${data.rules.map(
            (r) => html`<tr key=${r.rule} class=${r.rule === current ? 'is-current' : undefined}>
              <td><code class="mono access-rule">${r.rule}</code></td>
              <td class="access-num">${fmt.number(r.urls)}</td>
              <td class="access-num">${membersCell(r, data.members)}</td>
              <td class="access-num"><${Button} size="sm" variant="ghost" label=${r.rule === current ? t('access.rules.unfilter') : t('access.rules.filter')}
                onClick=${() => matrix.setFilter('rule', r.rule === current ? '' : r.rule)} /></td>
            </tr>`,
          )}
        </tbody>
      </table>
    </div>
  </div>`;
}

function MatrixPanel({ matrix, onViewAs }) {
  const data = matrix.summary.value;
  const { filters } = matrix;
  const total = data?.members ?? 0;
  const columns = [
    { key: 'path', label: t('access.col.url'), render: (r) => twoLines(html`<code class="mono mono--wrap">${r.path}</code>`, r.title) },
    { key: 'kind', label: t('access.col.kind'), nowrap: true, render: (r) => badge(kindLabel(r.kind), r.kind === 'file' ? 'accent' : 'neutral') },
    { key: 'rule', label: t('access.col.rule'), render: (r) => (r.public ? badge(t('access.public'), 'success') : html`<code class="mono access-rule">${r.rule}</code>`) },
    { key: 'reads', label: t('access.col.reads'), render: (r) => html`<span class="access-reads">${chips(r.groups.map((g) => `group:${g}`), 'info')}${r.fields.length ? chips(r.fields, 'neutral') : null}</span>` },
    { key: 'members', label: t('access.col.members'), align: 'end', nowrap: true, render: (r) => membersCell(r, total) },
    can('access:preview') && {
      key: 'view',
      label: t('access.col.view_as'),
      hideLabel: true,
      nowrap: true,
      render: (r) => html`<${Button} size="sm" label=${t('access.view_as')} testId="access-view-as-row" onClick=${(e) => { e.stopPropagation(); onViewAs(r.path); }} />`,
    },
  ].filter(Boolean);
  const options = (values, label = (v) => v) => (values || []).map((v) => ({ value: v, label: label(v) }));

  return html`<div class="stack access-panel">
    ${data && !data.manifest && html`<${Notice} tone="warning" testId="access-no-manifest" title=${t('access.no_manifest.title')} message=${t('access.no_manifest')} />`}
    ${data && data.manifest && !data.member_table && html`<${Notice} tone="info" message=${t('access.no_member_table')} />`}
    <${RuleSummary} matrix=${matrix} />
    <${Toolbar}>
      <${SearchBox} value=${filters.q} placeholder=${t('access.search')} onSearch=${(v) => matrix.setFilter('q', v)} />
      <${FilterSelect} label=${t('access.col.rule')} value=${filters.rule} allLabel=${t('common.all')} options=${options(data?.rules.map((r) => r.rule) ?? (filters.rule ? [filters.rule] : []))} onChange=${(v) => matrix.setFilter('rule', v)} />
      <${FilterSelect} label=${t('access.filter.group')} value=${filters.group} allLabel=${t('common.all')} options=${options(data?.groups ?? (filters.group ? [filters.group] : []))} onChange=${(v) => matrix.setFilter('group', v)} />
      <${FilterSelect} label=${t('access.col.kind')} value=${filters.kind} allLabel=${t('common.all')} options=${options(data?.kinds ?? (filters.kind ? [filters.kind] : []), kindLabel)} onChange=${(v) => matrix.setFilter('kind', v)} />
    <//>
    <${DataTable} table=${matrix.table} label=${t('access.matrix')} columns=${columns} empty=${data && !data.manifest ? t('access.no_manifest.title') : t('access.empty')} />
    ${data?.counted_at && html`<p class="muted access-note">${t('access.counted_at', { at: fmt.dateTime(data.counted_at) })}</p>`}
  </div>`;
}

function levelTone(level) {
  return level === 'error' ? 'danger' : level === 'info' ? 'info' : 'warning';
}

function BuildPanel({ build }) {
  if (!build.built) {
    return html`<div class="access-panel"><${EmptyState} icon="layers" title=${t('access.build.none.title')} message=${t('access.build.none')} /></div>`;
  }
  return html`<div class="stack access-panel">
    <div class="card" data-testid="access-build">
      ${detailList([
        [t('access.build.at'), build.built_at ? time(build.built_at) : null],
        [t('access.build.id'), build.build_id ? mono(build.build_id) : null],
        [t('access.build.pages'), fmt.number(build.pages)],
        [t('access.build.files'), fmt.number(build.files)],
        [t('access.build.manifest'), build.manifest ? badge(t('access.build.manifest_yes'), 'success') : badge(t('access.build.manifest_no'), 'warning')],
      ])}
    </div>
    ${build.warnings_total === 0
      ? html`<${Notice} tone="success" testId="access-no-warnings" message=${t('access.build.no_warnings')} />`
      : html`<div class="card card--flush" data-testid="access-warnings">
          <div class="access-rules__head">
            <h2 class="access-section-title">${t('access.build.warnings', { count: fmt.number(build.warnings_total) })}</h2>
            ${build.warnings_total > build.warnings.length && html`<span class="muted">${t('access.build.warnings_shown', { count: fmt.number(build.warnings.length) })}</span>`}
          </div>
          <div class="table-scroll">
            <table class="table table--compact">
              <thead><tr>
                <th scope="col">${t('access.build.col.level')}</th>
                <th scope="col">${t('access.build.col.message')}</th>
                <th scope="col">${t('access.build.col.where')}</th>
              </tr></thead>
              <tbody>
                ${build.warnings.map(
                  (w, i) => html`<tr key=${i}>
                    <td>${badge(w.level === 'error' ? t('access.build.level.error') : w.level === 'info' ? t('access.build.level.info') : t('access.build.level.warning'), levelTone(w.level))}</td>
                    <td class="access-warning">${w.message}${w.code && html` <code class="mono muted">${w.code}</code>`}</td>
                    <td>${w.source ? html`<code class="mono mono--wrap">${w.line ? `${w.source}:${w.line}` : w.source}</code>` : muted(fmt.EMPTY)}</td>
                  </tr>`,
                )}
              </tbody>
            </table>
          </div>
        </div>`}
  </div>`;
}

function previewError(err) {
  if (err?.errors?.length) return fieldErrorText(err.errors[0]);
  return errorText(err);
}

function Terms({ result }) {
  if (!result.terms.length) return null;
  return html`<ul class="access-terms" data-testid="access-terms">
    ${result.terms.map(
      (term) => html`<li key=${term.term} class=${term.holds ? 'is-true' : 'is-false'}>
        <span class="access-terms__mark" aria-hidden="true">${term.holds ? '✓' : '✗'}</span>
        <code class="mono mono--wrap">${term.term}</code>
        <span class="visually-hidden">${term.holds ? t('access.term.holds') : t('access.term.fails')}</span>
      </li>`,
    )}
  </ul>`;
}

function subjectText(subject) {
  if (subject.kind === 'anonymous') return t('access.who.anonymous');
  if (subject.kind === 'group') return t('access.subject.group', { name: subject.label, key: subject.group });
  return t('access.subject.member', { name: subject.label, id: subject.id });
}

function PreviewResult({ result }) {
  const isHtml = (result.media_type || '').startsWith('text/html');
  const isImage = (result.media_type || '').startsWith('image/');
  const values = Object.entries(result.values || {});
  return html`<div class="stack" data-testid="access-preview-result" data-decision=${result.decision}>
    <div class="card access-verdict">
      <div class="access-verdict__head">
        ${badge(decisionLabel(result.decision), decisionTone(result.decision))}
        <span class="access-verdict__status">${t('access.preview.status', { status: result.status })}</span>
        <code class="mono mono--wrap">${result.path}</code>
      </div>
      <p class="access-verdict__reason">${reasonText(result.reason)}</p>
      ${detailList([
        [t('access.preview.who'), subjectText(result.subject)],
        result.subject.kind === 'member' ? [t('access.preview.groups'), chips(result.subject.groups.map((g) => `group:${g}`), 'info')] : null,
        [t('access.col.rule'), result.rule ? html`<code class="mono access-rule">${result.rule}</code>` : null],
        result.rule_from === 'folder' ? [t('access.preview.rule_from'), t('access.preview.rule_from_folder')] : null,
        values.length ? [t('access.preview.values'), html`<span class="access-values">${values.map(([k, v]) => html`<span key=${k}><code class="mono">${k}</code> = ${v == null || v === '' ? muted(t('access.preview.no_value')) : Array.isArray(v) ? v.join(', ') : String(v)}</span>`)}</span>`] : null,
        [t('access.preview.shown'), result.shown_path ? mono(result.location || result.shown_path) : null],
      ])}
      <${Terms} result=${result} />
    </div>
    ${result.frame_url && (isHtml || isImage)
      ? html`<div class="card card--flush access-frame-card">
          <div class="access-frame-card__bar">
            <span class="muted">${t('access.preview.frame_note')}</span>
            ${isImage && html`<${LinkButton} href=${`${result.frame_url}?download=true`} label=${t('access.preview.download')} icon="download" size="sm" />`}
          </div>
          <iframe sandbox="" src=${result.frame_url} title=${t('access.preview.frame_title', { path: result.path })}
            class="access-frame" referrerpolicy="no-referrer" data-testid="access-frame"></iframe>
        </div>`
      : result.frame_url
        ? html`<div class="card access-file">
            <p>${t('access.preview.file', { type: result.media_type || '?', size: fmt.bytes(result.size ?? 0) })}</p>
            <${LinkButton} href=${`${result.frame_url}?download=true`} label=${t('access.preview.download')} icon="download" />
          </div>`
        : null}
  </div>`;
}

function PreviewPanel({ preview }) {
  useEffect(() => {
    preview.loadGroups();
  }, []);
  const who = preview.who.value;
  const member = preview.member.value;
  const result = preview.result.value;
  const error = preview.error.value;
  const submit = (e) => {
    e.preventDefault();
    preview.show();
  };
  return html`<div class="stack access-panel">
    <form class="card access-preview-form" onSubmit=${submit} data-testid="access-preview-form" novalidate>
      <p class="muted access-note">${t('access.preview.intro')}</p>
      <div class="access-preview-form__grid">
        <div class="field">
          <label class="field__label" for="access-path">${t('access.preview.path')}</label>
          <input id="access-path" name="path" class="input input--mono" value=${preview.path.value} placeholder="/members/seminar/"
            autocomplete="off" spellcheck="false" onInput=${(e) => (preview.path.value = e.currentTarget.value)} />
        </div>
        <fieldset class="field access-who">
          <legend class="field__label">${t('access.preview.as')}</legend>
          <div class="access-who__options" role="radiogroup">
            ${[
              ['member', t('access.who.member')],
              ['group', t('access.who.group')],
              ['anonymous', t('access.who.anonymous')],
            ].map(
              ([value, label]) => html`<label key=${value} class="access-who__option">
                <input type="radio" name="who" value=${value} checked=${who === value} onChange=${() => (preview.who.value = value)} />
                <span>${label}</span>
              </label>`,
            )}
          </div>
        </fieldset>
      </div>
      ${who === 'member' &&
      html`<div class="field access-member">
        <span class="field__label" id="access-member-label">${t('access.preview.member')}</span>
        ${member
          ? html`<div class="access-member__picked" data-testid="access-member-picked">
              ${twoLines(member.label, member.email || `#${member.id}`)}
              <${Button} size="sm" variant="ghost" label=${t('access.preview.change')} onClick=${() => (preview.member.value = null)} />
            </div>`
          : html`<div class="access-member__search" data-testid="access-member-search">
              <${SearchBox} label=${t('access.preview.member')} placeholder=${t('access.preview.member_search')} onSearch=${preview.search} />
              ${preview.found.value.length > 0 &&
              html`<ul class="access-member__found" aria-labelledby="access-member-label">
                ${preview.found.value.map(
                  (m) => html`<li key=${m.id}><button type="button" class="access-member__choice" data-testid="access-member-choice" onClick=${() => preview.pick(m)}>
                    ${twoLines(m.label, m.email || `#${m.id}`)}
                  </button></li>`,
                )}
              </ul>`}
            </div>`}
      </div>`}
      ${who === 'group' &&
      html`<div class="field field--sm">
        <label class="field__label" for="access-group">${t('access.preview.group')}</label>
        ${preview.groups.value.length
          ? html`<select id="access-group" name="group" class="input" value=${preview.group.value} onChange=${(e) => (preview.group.value = e.currentTarget.value)}>
              ${preview.groups.value.map((g) => html`<option key=${g.key} value=${g.key}>${groupLabel(g)} (${g.key})</option>`)}
            </select>`
          : html`<p class="muted">${t('access.preview.no_groups')}</p>`}
      </div>`}
      <div class="access-preview-form__actions">
        <${Button} type="submit" variant="primary" icon="search" label=${t('access.preview.show')} busy=${preview.busy.value} disabled=${!preview.ready()} testId="access-preview-show" />
      </div>
    </form>
    ${error && html`<${Notice} tone="danger" testId="access-preview-error" message=${previewError(error)} />`}
    ${result && html`<${PreviewResult} result=${result} key=${result.frame_url || result.path} />`}
  </div>`;
}

export default function AccessView({ ctx, data }) {
  const matrix = useConst(() => createMatrix(ctx));
  const preview = useConst(() => createPreview(ctx));
  const tab = useConst(() => ({ current: ['matrix', 'build', 'preview'].includes(ctx.query.tab) ? ctx.query.tab : 'matrix' }));
  const { build } = data;
  const canPreview = can('access:preview');

  function viewAs(path) {
    preview.path.value = path;
    preview.result.value = null;
    tab.current = 'preview';
    ctx.setQuery({ tab: 'preview', path });
    ctx.reload();
  }

  const warnings = build.warnings_total;
  return html`<${Page} title=${t('nav.access')} subtitle=${t('access.subtitle')}>
    <${Tabs}
      label=${t('nav.access')}
      selected=${tab.current}
      onChange=${(id) => {
        tab.current = id;
        ctx.setQuery({ tab: id === 'matrix' ? null : id });
      }}
      items=${[
        { id: 'matrix', label: t('access.tab.matrix'), render: () => html`<${MatrixPanel} matrix=${matrix} onViewAs=${viewAs} />` },
        { id: 'build', label: warnings ? t('access.tab.build_warnings', { count: fmt.number(warnings) }) : t('access.tab.build'), render: () => html`<${BuildPanel} build=${build} />` },
        canPreview && { id: 'preview', label: t('access.tab.preview'), render: () => html`<${PreviewPanel} preview=${preview} />` },
      ].filter(Boolean)}
    />
  <//>`;
}
