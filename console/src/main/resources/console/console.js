'use strict';
// The console's page: reads api/snapshot and api/history (relative: the operator serves a console under each
// cluster's own path) and draws the page the address's #fragment names.

const page = () => document.getElementById('page');

function el(tag, attrs, ...children) {
  const e = document.createElement(tag);
  Object.entries(attrs || {}).forEach(([k, v]) => e.setAttribute(k, v));
  children.flat().forEach(c => e.append(c instanceof Node ? c : document.createTextNode(String(c))));
  return e;
}

function svg(tag, attrs) {
  const e = document.createElementNS('http://www.w3.org/2000/svg', tag);
  Object.entries(attrs || {}).forEach(([k, v]) => e.setAttribute(k, v));
  return e;
}

function num(n) {
  return Number(n).toLocaleString('en-US', { maximumFractionDigits: 1 });
}

function bytes(n) {
  if (n < 0) return '?';
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  let i = 0;
  while (n >= 1024 && i < units.length - 1) { n /= 1024; i++; }
  return `${num(n)} ${units[i]}`;
}

function table(headers, rows, numeric) {
  return el('table', {},
    el('thead', {}, el('tr', {}, headers.map((h, i) => el('th', numeric && numeric.includes(i) ? { class: 'num' } : {}, h)))),
    el('tbody', {}, rows.map(r => el('tr', r.attrs || {}, r.cells.map((c, i) => el('td', numeric && numeric.includes(i) ? { class: 'num' } : {}, c))))));
}

/** A line chart of one series (nulls left as gaps), with its last value and maximum. */
function chart(title, times, values, unit) {
  const w = 520, h = 120, pad = 30;
  const shown = values.map(v => (v === null || v === undefined) ? null : Number(v));
  const max = Math.max(1, ...shown.filter(v => v !== null));
  const s = svg('svg', { class: 'chart', width: w, height: h, role: 'img', 'aria-label': title });
  s.append(svg('line', { class: 'axis', x1: pad, y1: h - pad, x2: w - 5, y2: h - pad }));
  const label = svg('text', { x: pad, y: 14 });
  const last = shown.length ? shown[shown.length - 1] : null;
  label.textContent = `${title}: ${last === null ? '–' : num(last)} ${unit} now, max ${num(max)}`;
  s.append(label);
  const points = shown.map((v, i) => v === null ? null
    : `${pad + (i * (w - pad - 5)) / Math.max(1, shown.length - 1)},${h - pad - (v / max) * (h - 2 * pad)}`).filter(p => p);
  if (points.length) s.append(svg('polyline', { class: 'line', points: points.join(' ') }));
  return s;
}

async function getJson(url) {
  const r = await fetch(url, { cache: 'no-store' });
  const body = await r.json();
  if (!r.ok) throw new Error(body.error || `${url}: HTTP ${r.status}`);
  return body;
}

function brokersPage(s) {
  return [
    el('h2', {}, `Brokers (${s.brokers.length})`),
    table(['id', 'address', 'rack', 'leads', 'replicas', 'role'], s.brokers.map(b => ({
      cells: [b.id, `${b.host}:${b.port}`, b.rack || '–', b.leaders, b.replicas, b.id === s.controllerId ? 'controller' : ''] })), [3, 4]),
  ];
}

function topicsPage(s, h) {
  const out = [el('h2', {}, `Topics (${s.topics.length})`),
    table(['topic', 'partitions', 'replication', 'records', 'size', 'under-replicated'], s.topics.map(t => {
      const under = t.partitions.filter(p => p.isr.length < p.replicas.length).length;
      return { attrs: under ? { class: 'warn', 'data-topic': t.name } : { 'data-topic': t.name },
        cells: [t.name, t.partitions.length, t.replicationFactor, num(t.records), bytes(t.sizeBytes), under] };
    }), [1, 2, 3, 4, 5])];
  s.topics.forEach(t => {
    out.push(el('h2', {}, `${t.name}`));
    if (h.topicRecordsPerSecond[t.name]) out.push(chart(`${t.name} produce rate`, h.times, h.topicRecordsPerSecond[t.name], 'records/s'));
    out.push(table(['partition', 'leader', 'replicas', 'in sync', 'start offset', 'end offset', 'size'],
      t.partitions.map(p => ({ attrs: p.isr.length < p.replicas.length ? { class: 'warn' } : {},
        cells: [p.partition, p.leader, p.replicas.join(', '), p.isr.join(', '), p.startOffset, p.endOffset, bytes(p.sizeBytes)] })),
      [0, 1, 4, 5, 6]));
  });
  return out;
}

function groupsPage(s, h, actionsAllowed) {
  const out = [el('h2', {}, `Consumer groups (${s.groups.length})`),
    table(['group', 'type', 'state', 'members', 'lag'], s.groups.map(g => ({ attrs: { 'data-group': g.groupId },
      cells: [g.groupId, g.type, g.state, g.members, num(g.totalLag)] })), [3, 4])];
  s.groups.forEach(g => {
    out.push(el('h2', {}, `${g.groupId}`));
    if (h.groupLag[g.groupId]) out.push(chart(`${g.groupId} lag`, h.times, h.groupLag[g.groupId], 'records'));
    out.push(table(['topic', 'partition', 'committed', 'end offset', 'lag', 'client', 'host'],
      g.partitions.map(p => ({ attrs: { 'data-lag': `${g.groupId}/${p.topic}/${p.partition}/${p.lag}` },
        cells: [p.topic, p.partition, p.committed < 0 ? '–' : p.committed, p.endOffset, p.lag, p.clientId || '–', p.host || '–'] })),
      [1, 2, 3, 4]));
    if (actionsAllowed) {
      const act = (what) => async () => {
        if (!confirm(`${what} ${g.groupId}?`)) return;
        const r = await fetch(`api/groups/${encodeURIComponent(g.groupId)}/${what}`, { method: 'POST', headers: { 'X-Capstan-Action': '1' } });
        const body = await r.json();
        document.getElementById('status').textContent = r.ok ? JSON.stringify(body) : body.error;
        render();
      };
      const del = el('button', {}, 'Delete group'); del.addEventListener('click', act('delete'));
      const early = el('button', {}, 'Reset to earliest'); early.addEventListener('click', act('reset-to-earliest'));
      const late = el('button', {}, 'Reset to latest'); late.addEventListener('click', act('reset-to-latest'));
      out.push(el('div', { class: 'actions' }, del, early, late));
    }
  });
  return out;
}

/** A BrokerCluster's rollout as its operator reports it (only in the operator's console). */
function rolloutPage(r) {
  const canary = r.phase ? `${r.phase}${r.step ? `, step ${r.step} of ${r.steps}` : ''}` : 'no canary';
  const rows = [
    ['cluster', `${r.namespace}/${r.name}`],
    ['version', r.currentVersion === r.targetVersion ? (r.currentVersion || '–') : `${r.currentVersion || '–'} → ${r.targetVersion}`],
    ['brokers ready', `${r.readyReplicas} of ${r.replicas}`],
    ['brokers updated', `${r.updatedReplicas} of ${r.replicas}`],
    ['canary', canary],
    ['message', r.message || '–'],
    ['generation', r.observedGeneration === r.generation ? `${r.generation} (observed)` : `${r.generation} (operator at ${r.observedGeneration})`],
    ['cluster version', r.clusterVersion === null || r.clusterVersion === undefined ? '–' : r.clusterVersion],
  ];
  return [
    el('h2', {}, `Rollout of ${r.name}`),
    el('table', { class: 'facts', 'data-rollout': `${r.phase || 'none'}/${r.step || 0}/${r.currentVersion}/${r.targetVersion}` },
      el('tbody', {}, rows.map(([k, v]) => el('tr', {}, el('th', {}, k), el('td', {}, v))))),
    el('h2', {}, 'Conditions'),
    table(['type', 'status', 'reason', 'message', 'since'], r.conditions.map(c => ({
      attrs: { 'data-condition': `${c.type}=${c.status}`, class: (c.type === 'Ready') === (c.status === 'True') ? '' : 'warn' },
      cells: [c.type, c.status, c.reason || '–', c.message || '–', c.lastTransitionTime || '–'] }))),
  ];
}

async function render() {
  const route = (location.hash.replace(/^#\//, '') || 'brokers').split('/')[0];
  document.querySelectorAll('nav a').forEach(a => a.classList.toggle('active', a.id === `nav-${route}`));
  try {
    const [{ snapshot: s, actionsAllowed, rollout }, h] = await Promise.all([getJson('api/snapshot'), getJson('api/history')]);
    document.getElementById('nav-rollout').hidden = !rollout;
    document.getElementById('cluster').textContent = `cluster ${s.clusterId} · ${s.brokers.length} brokers · read ${new Date(s.takenAtMs).toLocaleTimeString()}`
      + (actionsAllowed ? ' · actions on' : ' · read-only');
    const content = route === 'topics' ? topicsPage(s, h) : route === 'groups' ? groupsPage(s, h, actionsAllowed)
      : route === 'rollout' && rollout ? rolloutPage(rollout) : brokersPage(s);
    page().replaceChildren(...content);
    document.body.dataset.ready = route;
  } catch (e) {
    page().replaceChildren(el('p', { class: 'error' }, `Cannot read the cluster: ${e.message}`));
    document.body.dataset.ready = 'error';
  }
}

window.addEventListener('hashchange', render);
render();
setInterval(render, 5000);
