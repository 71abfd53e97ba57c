// Every screen of the admin panel. To add one: write js/views/<name>.js (see README.md) and add
// a line here. The sidebar is built from the entries that have `nav`, in this order, grouped by
// section; entries whose `permission` the staff member lacks are hidden and refused.
//
//   path        '#/<path>'; ':name' parts become ctx.params.name
//   view        () => import('./views/x.js')  (loaded on first visit; default export renders)
//   title       () => text for the browser tab
//   permission  string or [strings] needed to open it (and to see it in the sidebar)
//   nav         { section, icon, label? } to list it in the sidebar (label defaults to title)
//   public      true for screens shown without login (only the login page)

import { t } from './i18n.js';

export const sections = [
  { id: 'customers', label: () => t('nav.section.customers') },
  { id: 'site', label: () => t('nav.section.site') },
  { id: 'mail', label: () => t('nav.section.mail') },
  { id: 'admin', label: () => t('nav.section.admin') },
];

export const routes = [
  { path: '/login', public: true, view: () => import('./views/login.js'), title: () => t('auth.login') },

  // The customer database. '/customers/:table/design', '/import' and '/new' come before '/customers/:table/:id'.
  { path: '/customers', permission: 'customers:read', view: () => import('./views/customer-tables.js'), title: () => t('nav.customers'), nav: { section: 'customers', icon: 'database' } },
  { path: '/customers/:table/design', permission: 'customers:design', view: () => import('./views/customer-design.js'), title: () => t('customers.design.title_plain') },
  { path: '/customers/:table/import', permission: 'customers:write', view: () => import('./views/customer-import.js'), title: () => t('customers.import.title_plain') },
  { path: '/customers/:table/duplicates', permission: 'customers:read', view: () => import('./views/customer-duplicates.js'), title: () => t('customers.duplicates.title_plain') },
  { path: '/customers/:table/new', permission: 'customers:write', view: () => import('./views/customer-record-edit.js'), title: () => t('customers.form.new_plain') },
  { path: '/customers/:table/:id/edit', permission: 'customers:write', view: () => import('./views/customer-record-edit.js'), title: () => t('customers.form.edit_plain') },

  { path: '/groups', permission: 'groups:read', view: () => import('./views/groups.js'), title: () => t('nav.groups'), nav: { section: 'customers', icon: 'users' } },
  { path: '/groups/:key', permission: 'groups:read', view: () => import('./views/group.js'), title: () => t('groups.title') },

  { path: '/access', permission: 'access:read', view: () => import('./views/access.js'), title: () => t('nav.access'), nav: { section: 'site', icon: 'lock' } },

  { path: '/outbox', permission: 'outbox:read', view: () => import('./views/outbox.js'), title: () => t('nav.outbox'), nav: { section: 'mail', icon: 'inbox' } },
  { path: '/outbox/:id', permission: 'outbox:read', view: () => import('./views/outbox-detail.js'), title: () => t('nav.outbox') },

  // After the other /customers/:table/<word> screens (new, design): ':id' would match them.
  { path: '/customers/:table', permission: 'customers:read', view: () => import('./views/customer-records.js'), title: () => t('customers.list.title') },
  { path: '/customers/:table/:id', permission: 'customers:read', view: () => import('./views/customer-record.js'), title: () => t('customers.record.title') },

  { path: '/staff', permission: 'staff:read', view: () => import('./views/staff.js'), title: () => t('nav.staff'), nav: { section: 'admin', icon: 'users' } },
  { path: '/tokens', permission: 'tokens:read', view: () => import('./views/tokens.js'), title: () => t('nav.tokens'), nav: { section: 'admin', icon: 'key' } },
  { path: '/audit', permission: 'audit:read', view: () => import('./views/audit.js'), title: () => t('nav.audit'), nav: { section: 'admin', icon: 'list' } },
  { path: '/jobs', permission: 'jobs:read', view: () => import('./views/jobs.js'), title: () => t('nav.jobs'), nav: { section: 'admin', icon: 'layers' } },
  { path: '/settings', permission: 'settings:read', view: () => import('./views/settings.js'), title: () => t('nav.settings'), nav: { section: 'admin', icon: 'sliders' } },
];
