// The Workflows (#/workflows): every Workflow the person may list, live
// (workflows / workflow / workflow_deleted), each linking to its page.
import { h } from './dom.js';
import { fmtAge } from './format.js';
import { createListView } from './listview.js';

export const workflowHref = (ns, name) => `#/workflows/${encodeURIComponent(ns)}/${encodeURIComponent(name)}`;
const num = (v) => (Number.isFinite(Number(v)) && v !== null && v !== undefined ? String(v) : '');

export function createWorkflowsView() {
  return createListView({
    id: 'workflows',
    noun: 'workflows',
    title: 'Workflows',
    types: ['workflows', 'workflow', 'workflow_deleted'],
    columns: [
      { key: 'namespace', label: 'Namespace', cell: (w) => w.namespace },
      { key: 'name', label: 'Name', cell: (w) => h('a', { href: workflowHref(w.namespace, w.name), text: w.name }) },
      { key: 'steps', label: 'Steps', cell: (w) => (Number(w.finally) > 0 ? `${num(w.steps)} + ${num(w.finally)} finally` : num(w.steps)) },
      { key: 'params', label: 'Params', cell: (w) => num(w.params) },
      { key: 'age', label: 'Age', cell: (w, now) => fmtAge(w.created, now), title: (w) => w.created || '', tick: true },
    ],
  });
}
