// The Triggers (#/triggers): every Trigger the person may list, live
// (triggers / trigger / trigger_deleted): what starts it, whether it is
// Ready, its last delivery and its next scheduled time.
import { h, runHref } from './dom.js';
import { fmtTime } from './format.js';
import { createListView } from './listview.js';
import { workflowHref } from './workflows.js';

export const kindOf = (t) => (t.webhook && t.schedule ? 'both' : t.webhook ? 'webhook' : t.schedule ? 'schedule' : '');
const time = (iso) => (iso ? h('time', { datetime: iso, title: iso, text: fmtTime(iso) }) : '');

function lastDelivery(t) {
  const d = t.lastDelivery;
  if (!d || typeof d !== 'object') return '';
  const parts = [time(d.time)];
  const what = [d.result, d.code !== undefined && d.code !== null ? String(d.code) : ''].filter(Boolean).join(' ');
  if (what) parts.push(h('span', { class: 'result', text: what }));
  if (d.run) parts.push(h('a', { class: 'run', href: runHref(t.namespace, String(d.run)), text: String(d.run) }));
  return h('span', { class: 'cells' }, ...parts);
}

export function createTriggersView() {
  return createListView({
    id: 'triggers',
    noun: 'triggers',
    title: 'Triggers',
    types: ['triggers', 'trigger', 'trigger_deleted'],
    columns: [
      { key: 'namespace', label: 'Namespace', cell: (t) => t.namespace },
      { key: 'name', label: 'Name', cell: (t) => t.name, title: (t) => (t.hookPath ? `webhook: POST ${t.hookPath}` : '') },
      { key: 'workflow', label: 'Workflow', cell: (t) => (t.workflow ? h('a', { href: workflowHref(t.namespace, t.workflow), text: t.workflow }) : '') },
      { key: 'kind', label: 'Kind', cell: kindOf },
      { key: 'schedule', label: 'Schedule', cell: (t) => (t.schedule ? `${t.schedule}${t.timeZone ? ` (${t.timeZone})` : ''}` : '') },
      { key: 'ready', label: 'Ready', cell: (t) => h('span', { class: `ready ${t.ready ? 'yes' : 'no'}`, text: t.ready ? 'Ready' : t.readyReason || 'Not ready' }),
        title: (t) => [t.readyReason, t.readyMessage].filter(Boolean).join(': ') },
      { key: 'delivery', label: 'Last delivery', cell: lastDelivery, title: (t) => (t.lastDelivery && t.lastDelivery.id ? `delivery ${t.lastDelivery.id}` : '') },
      { key: 'fired', label: 'Last fired', cell: (t) => [time(t.lastFired), t.lastResult ? h('span', { class: 'result', text: t.lastResult }) : ''] },
      { key: 'next', label: 'Next schedule', cell: (t) => time(t.nextScheduleTime) },
      { key: 'suspended', label: 'Suspended', cell: (t) => (t.suspend ? 'yes' : '') },
    ],
  });
}
