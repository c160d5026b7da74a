// Reports with ECharts: volume, ACD KPIs (the ACD's own numbers), per-agent table, IVR funnel,
// flow versions side by side, work orders, SLA breaches, recordings with QA, Erlang C staffing.
// Counting CDRs is done here; KPI ratios come from the ACD (runtime/acd stats.rs) only.
import { t } from './i18n.js';
import { api } from './api.js';
import { h, act, na, table, pct, secs, csvDownload, toast, when, dur } from './ui.js';
import { agentsNeeded, trafficErlangs, serviceLevel, averageSpeedOfAnswer } from './erlang.js';

const TABS = ['overview', 'agents', 'funnel', 'flows', 'orders', 'sla', 'qa', 'staffing'];
const LABEL = { overview: 'rep.perhour', agents: 'rep.agents', funnel: 'rep.funnel', flows: 'rep.flows', orders: 'rep.orders', sla: 'rep.sla', qa: 'rep.qa', staffing: 'rep.staffing' };
let body, charts = [], cdrs = [], range, tab = 'overview';

export function mount(el) {
  const today = new Date(), from = new Date(today.getTime() - 6 * 86400000);
  const d = x => x.toISOString().slice(0, 10);
  range = { from: h('input', { type: 'date', id: 'rep-from', value: d(from) }), to: h('input', { type: 'date', id: 'rep-to', value: d(today) }) };
  body = h('div', { id: 'rep-body' });
  el.append(h('div', { class: 'row', style: 'margin-bottom:8px' }, t('rep.range'), range.from, '—', range.to,
      h('button', { type: 'button', class: 'primary', id: 'rep-load', onclick: e => act(e.target, () => reload(), `${t('rep.load')} ✓`) }, t('rep.load'))),
    h('div', { class: 'tabs', id: 'rep-tabs' }, TABS.map(k => h('button', { type: 'button', dataset: { tab: k }, onclick: () => show(k) }, t(LABEL[k])))), body);
  reload().catch(e => toast(e.message, 'bad'));
}
export function unmount() { disposeCharts(); }
function disposeCharts() { charts.forEach(c => c.dispose()); charts = []; }
window.addEventListener('resize', () => charts.forEach(c => c.resize()));

function isoRange() {
  const off = -new Date().getTimezoneOffset(), sign = off >= 0 ? '+' : '-', hh = String(Math.floor(Math.abs(off) / 60)).padStart(2, '0'), mm = String(Math.abs(off) % 60).padStart(2, '0');
  return { from: `${range.from.value}T00:00:00${sign}${hh}:${mm}`, to: `${range.to.value}T23:59:59${sign}${hh}:${mm}` };
}
async function reload() {
  const r = isoRange(); cdrs = [];
  for (let offset = 0; offset < 20000; offset += 500) {
    const page = await api('GET', `/api/v1/cdrs?from=${encodeURIComponent(r.from)}&to=${encodeURIComponent(r.to)}&limit=500&offset=${offset}`);
    cdrs.push(...page.items);
    if (page.items.length < 500) break;
  }
  show(tab);
}
function show(k) {
  tab = k; disposeCharts();
  document.querySelectorAll('#rep-tabs button').forEach(b => b.classList.toggle('active', b.dataset.tab === k));
  body.replaceChildren();
  ({ overview, agents, funnel, flows, orders, sla, qa, staffing })[k]();
}
function chart(id, option) {
  const n = h('div', { class: 'chart', id });
  queueMicrotask(() => { if (!window.echarts) { n.replaceChildren(na({ message: 'ECharts missing' })); return; } const c = window.echarts.init(n); c.setOption({ textStyle: { fontFamily: getComputedStyle(document.body).fontFamily }, ...option }); charts.push(c); });
  return n;
}
const card = (title, ...kids) => h('section', { class: 'card' }, h('h2', {}, title), ...kids);
const bar = (x, y, name) => ({ tooltip: {}, grid: { left: 40, right: 10, top: 20, bottom: 30 }, xAxis: { type: 'category', data: x }, yAxis: { type: 'value', minInterval: 1 }, series: [{ type: 'bar', name, data: y }] });
const count = (xs, f) => xs.reduce((m, x) => { const k = f(x); if (k !== null && k !== undefined) m.set(k, (m.get(k) || 0) + 1); return m; }, new Map());

async function overview() {
  const perHour = Array(24).fill(0); cdrs.forEach(c => perHour[new Date(c.start).getHours()]++);
  const perDay = count(cdrs, c => c.start.slice(0, 10));
  const days = [...perDay.keys()].sort();
  const kpiBox = h('div', { id: 'rep-kpis' });
  body.append(h('div', { class: 'grid cols2' },
    card(`${t('rep.perhour')} (${cdrs.length})`, chart('chart-hour', bar([...Array(24).keys()].map(x => `${x}时`), perHour, t('rep.perhour')))),
    card(t('rep.perday'), chart('chart-day', { tooltip: {}, grid: { left: 40, right: 10, top: 20, bottom: 30 }, xAxis: { type: 'category', data: days }, yAxis: { type: 'value', minInterval: 1 }, series: [{ type: 'line', data: days.map(d => perDay.get(d)) }] }))),
    card(t('rep.kpi'), kpiBox),
    h('button', { type: 'button', id: 'csv-cdrs', onclick: () => csvDownload('calls.csv', ['call_id', 'direction', 'caller', 'called', 'start', 'answer', 'end', 'flow', 'plugin_version', 'ivr_path', 'queue', 'agent', 'hangup_side', 'hangup_cause', 'recording_id'],
      cdrs.map(c => [c.call_id, c.direction, c.caller, c.called, c.start, c.answer, c.end, c.flow, c.plugin_version, (c.ivr_path || []).join('>'), c.queue, c.agent, c.hangup_side, c.hangup_cause, c.recording_id])) }, `${t('rep.csv')} (${t('rep.cdrs')})`));
  const r = isoRange();
  try {
    const k = await api('GET', `/api/v1/acd/kpis?from_ms=${Date.parse(r.from)}&to_ms=${Date.parse(r.to)}`);
    const kv = (l, v) => h('div', { class: 'kpi' }, h('div', { class: 'label' }, l), h('div', { class: 'big' }, v));
    kpiBox.replaceChildren(h('div', { class: 'kpis' }, kv(t('wall.sl'), pct(k.service_level)), kv(t('wall.asa'), secs(k.asa_secs)), kv(t('wall.aht'), secs(k.aht_secs)), kv(t('wall.abandon'), pct(k.abandonment))),
      h('p', { class: 'muted' }, `queued ${k.queued} · answered ${k.answered} · abandoned ${k.abandoned} (short ${k.short_abandoned}) · callbacks ${k.callbacks} · timed out ${k.timed_out}`));
  } catch (e) { kpiBox.replaceChildren(na(e)); }
}

async function agents() {
  const by = new Map();
  const row = a => { if (!by.has(a)) by.set(a, { agent: a, total: 0, answered: 0, out: 0, outMs: 0, orders: 0, calls: new Set() }); return by.get(a); };
  for (const c of cdrs) {
    if (!c.agent) continue;
    const r = row(c.agent); r.total++; r.calls.add(c.call_id);
    if (c.direction === 'outbound') { r.out++; if (c.answer && c.end) r.outMs += Date.parse(c.end) - Date.parse(c.answer); }
    else if (c.answer) r.answered++;
  }
  let ordersErr = null;
  try {
    const os = await api('GET', '/api/v1/orders?limit=500');
    for (const o of os.items || []) for (const r of by.values()) if (o.call_id && r.calls.has(o.call_id)) r.orders++;
  } catch (e) { ordersErr = e; }
  const missedBy = new Map();
  let acd = new Map(), acdErr = null;
  for (const a of by.keys()) {
    try { acd.set(a, await api('GET', `/api/v1/acd/agents/${encodeURIComponent(a)}/kpis`)); } catch (e) { acdErr = e; break; }
  }
  const rows = [...by.values()];
  const cols = [{ label: t('wall.agent'), get: r => r.agent }, { label: t('rep.total'), num: true, get: r => r.total }, { label: 'inbound answered', num: true, get: r => r.answered },
    { label: 'missed (no answer)', num: true, get: r => acd.get(r.agent)?.no_answer ?? '—' },
    { label: 'outbound', num: true, get: r => r.out }, { label: 'outbound time', num: true, get: r => dur(r.outMs) },
    { label: 'orders', num: true, get: r => r.orders }, { label: 'order rate', num: true, get: r => r.answered ? pct(r.orders / r.answered) : '—' },
    { label: t('wall.aht'), num: true, get: r => secs(acd.get(r.agent)?.aht_secs) }, { label: 'occupancy', num: true, get: r => pct(acd.get(r.agent)?.occupancy) },
    { label: 'QA', num: true, get: () => '—' }];
  body.append(card(t('rep.agents'), acdErr ? na(acdErr) : null, ordersErr ? na(ordersErr) : null, h('div', { class: 'na' }, `QA: ${t('na')} (GET /api/v1/qa/scores)`), table(cols, rows),
    h('button', { type: 'button', onclick: () => csvDownload('agents.csv', cols.map(c => c.label), rows.map(r => cols.map(c => { const v = c.get(r); return v instanceof Node ? v.textContent : v; }))) }, t('rep.csv'))));
  void missedBy;
}

function funnel() {
  const ivr = cdrs.filter(c => c.flow);
  const depth = [];
  for (const c of ivr) (c.ivr_path || []).forEach((_, i) => { depth[i] = (depth[i] || 0) + 1; });
  const toAgent = ivr.filter(c => c.agent).length;
  const stages = [{ name: 'IVR', value: ivr.length }, ...depth.map((v, i) => ({ name: `step ${i + 1}`, value: v })), { name: t('wall.agent'), value: toAgent }];
  const keys = count(ivr.flatMap(c => (c.ivr_path || []).map((k, i) => `${i + 1}: ${k}`)), x => x);
  const hang = count(ivr.filter(c => c.hangup_side === 'caller' && !c.agent), c => (c.ivr_path || []).join(' > ') || '(menu)');
  body.append(h('div', { class: 'grid cols2' },
    card(t('rep.funnel'), chart('chart-funnel', { tooltip: {}, series: [{ type: 'funnel', sort: 'descending', left: 10, right: 10, top: 10, bottom: 10, label: { formatter: '{b}: {c}' }, data: stages }] })),
    card('keys / hang-ups', table([{ label: 'step: key', get: ([k]) => k }, { label: 'calls', num: true, get: ([, v]) => v }], [...keys].sort((a, b) => b[1] - a[1]).slice(0, 12)),
      h('h3', {}, 'hang-up in IVR at'), table([{ label: 'path', get: ([k]) => k }, { label: 'calls', num: true, get: ([, v]) => v }], [...hang].sort((a, b) => b[1] - a[1]).slice(0, 8)))));
}

async function flows() {
  // Per version from CDRs: containment = ended by the flow (hang-up side "system") without queue
  // or agent; IVR abandonment = caller hung up without queue or agent; failures = plugin-* cause.
  const groups = new Map();
  for (const c of cdrs.filter(c => c.flow)) {
    const k = `${c.flow} · ${c.plugin_version || '?'}`;
    if (!groups.has(k)) groups.set(k, { k, calls: 0, contained: 0, abandoned: 0, failures: 0, ivrMs: 0, ivrN: 0 });
    const g = groups.get(k); g.calls++;
    const inIvrOnly = !c.queue && !c.agent;
    if ((c.hangup_cause || '').startsWith('plugin-')) g.failures++;
    else if (inIvrOnly && c.hangup_side === 'system') g.contained++;
    if (inIvrOnly && c.hangup_side === 'caller') g.abandoned++;
    if (inIvrOnly && c.answer && c.end) { g.ivrMs += Date.parse(c.end) - Date.parse(c.answer); g.ivrN++; }
  }
  const gs = [...groups.values()];
  const reg = h('div', { id: 'rep-flow-registry' });
  body.append(card(t('rep.flows'),
    chart('chart-flows', { tooltip: {}, legend: { top: 0 }, grid: { left: 40, right: 10, top: 30, bottom: 30 }, xAxis: { type: 'category', data: gs.map(g => g.k.slice(0, 40)) }, yAxis: { type: 'value', max: 1, axisLabel: { formatter: v => `${v * 100}%` } },
      series: [{ name: t('rep.containment'), type: 'bar', data: gs.map(g => g.calls ? g.contained / g.calls : 0) }, { name: t('rep.ivrabandon'), type: 'bar', data: gs.map(g => g.calls ? g.abandoned / g.calls : 0) }, { name: t('admin.failures'), type: 'bar', data: gs.map(g => g.calls ? g.failures / g.calls : 0) }] }),
    table([{ label: 'flow · version', get: g => g.k }, { label: t('admin.calls'), num: true, get: g => g.calls }, { label: t('rep.containment'), num: true, get: g => pct(g.contained / g.calls) },
      { label: t('rep.ivrabandon'), num: true, get: g => pct(g.abandoned / g.calls) }, { label: t('rep.ivrtime'), num: true, get: g => g.ivrN ? secs(g.ivrMs / g.ivrN / 1000) : '—' },
      { label: t('admin.failures'), num: true, get: g => g.failures }], gs)), card('registry', reg));
  try {
    const r = await api('GET', '/api/v1/flows');
    reg.replaceChildren(table([{ label: 'flow', get: v => v.flow }, { label: 'plugin', get: v => `${v.plugin_name}@${v.plugin_version}` }, { label: t('admin.active'), get: v => v.active ? '✔' : '' },
      { label: t('admin.calls'), num: true, get: v => v.counts.calls }, { label: t('admin.completed'), num: true, get: v => v.counts.completed }, { label: t('admin.hangups'), num: true, get: v => v.counts.caller_hangups },
      { label: 'traps/timeouts', num: true, get: v => v.counts.failures }], (r.flows || []).flatMap(f => f.versions)));
  } catch (e) { reg.replaceChildren(na(e)); }
}

async function orders() {
  let os;
  try { os = (await api('GET', '/api/v1/orders?limit=500')).items; } catch (e) { return body.append(na(e)); }
  const pie = (id, m) => chart(id, { tooltip: {}, series: [{ type: 'pie', radius: '65%', data: [...m].map(([name, value]) => ({ name, value })) }] });
  body.append(h('div', { class: 'grid cols3' }, card(t('rep.bycat'), pie('chart-cat', count(os, o => t(`cat.${o.category}`)))),
    card(t('rep.byestate'), pie('chart-estate', count(os, o => o.estate_id || '—'))), card(t('rep.bystate'), pie('chart-state', count(os, o => o.state)))),
    h('button', { type: 'button', onclick: () => csvDownload('orders.csv', ['id', 'category', 'estate', 'unit', 'state', 'priority', 'assignee', 'created_at', 'description'], os.map(o => [o.id, o.category, o.estate_id, o.unit_id, o.state, o.priority, o.assignee, o.created_at, o.description])) }, t('rep.csv')));
}

async function sla() {
  try {
    const r = await api('GET', '/api/v1/sla/overdue');
    const rows = (r.levels || []).flatMap(l => l.orders.map(o => ({ ...o, level: l.level, name: l.name })));
    body.append(card(t('rep.sla'), chart('chart-sla', bar((r.levels || []).map(l => `L${l.level} ${l.name}`), (r.levels || []).map(l => l.orders.length))),
      table([{ label: t('wall.level'), get: o => `${o.level} ${o.name}` }, { label: '#', get: o => o.order_id }, { label: t('wall.state'), get: o => o.state }, { label: '', get: o => when(o.escalated_at) }], rows)));
  } catch (e) { body.append(card(t('rep.sla'), na(e))); }
}

function qa() {
  const rec = cdrs.filter(c => c.recording_id).slice(0, 50);
  body.append(card(t('rep.qa'), table([{ label: '', get: c => when(c.start) }, { label: t('wall.caller'), get: c => c.caller }, { label: t('wall.agent'), get: c => c.agent || '—' },
    { label: t('common.play'), get: c => h('audio', { controls: true, preload: 'none', src: `/api/v1/recordings/${encodeURIComponent(c.recording_id)}/audio` }) },
    { label: t('rep.score'), get: c => { const s = h('select', {}, [5, 4, 3, 2, 1].map(v => h('option', { value: v }, v))); const n = h('input', { size: 12 });
      return h('span', { class: 'row' }, s, n, h('button', { type: 'button', onclick: e => act(e.target, () => api('POST', `/api/v1/recordings/${encodeURIComponent(c.recording_id)}/qa`, { score: Number(s.value), notes: n.value }), t('admin.saved')) }, t('rep.qa.save'))); } }], rec)));
}

function staffing() {
  const f = { calls: h('input', { id: 'st-calls', type: 'number', value: 200 }), aht: h('input', { id: 'st-aht', type: 'number', value: 180 }),
    sl: h('input', { id: 'st-sl', type: 'number', value: 80, min: 1, max: 99 }), within: h('input', { id: 'st-within', type: 'number', value: 20 }) };
  const out = h('div', { id: 'st-out' });
  const calc = () => {
    const calls = Number(f.calls.value), aht = Number(f.aht.value), target = Number(f.sl.value) / 100, within = Number(f.within.value);
    if (!(calls >= 0 && aht > 0 && target > 0 && within >= 0)) return toast('calls ≥ 0, AHT > 0, SL 1–99 %', 'warn');
    const n = agentsNeeded(calls, aht, target, within), a = trafficErlangs(calls, aht);
    out.replaceChildren(h('div', { class: 'kpis' }, h('div', { class: 'kpi' }, h('div', { class: 'label' }, t('rep.erlangs')), h('div', { class: 'big' }, a.toFixed(2))),
      h('div', { class: 'kpi' }, h('div', { class: 'label' }, t('rep.agentsneeded')), h('div', { class: 'big', id: 'st-needed' }, n)),
      h('div', { class: 'kpi' }, h('div', { class: 'label' }, t('wall.sl')), h('div', { class: 'big' }, pct(serviceLevel(n, a, aht, within)))),
      h('div', { class: 'kpi' }, h('div', { class: 'label' }, t('wall.asa')), h('div', { class: 'big' }, secs(averageSpeedOfAnswer(n, a, aht))))),
      table([{ label: 'agents', num: true, get: k => k }, { label: t('wall.sl'), num: true, get: k => pct(serviceLevel(k, a, aht, within)) }, { label: t('wall.asa'), num: true, get: k => secs(averageSpeedOfAnswer(k, a, aht)) }],
        [...Array(6).keys()].map(i => Math.max(1, n - 3 + i))));
  };
  // Observed calls per hour from the loaded CDRs as a hint.
  const busiest = Math.max(0, ...[...count(cdrs, c => c.start.slice(0, 13)).values()]);
  body.append(card(t('rep.staffing'), h('p', { class: 'muted' }, `busiest hour in range: ${busiest} calls`),
    h('div', { class: 'row' }, h('label', {}, t('rep.callsh'), f.calls), h('label', {}, t('rep.ahts'), f.aht), h('label', {}, `${t('rep.target')} %`, f.sl), h('label', {}, t('rep.within'), f.within),
      h('button', { type: 'button', class: 'primary', id: 'st-calc', onclick: calc }, t('rep.calc'))), out));
  calc();
}
