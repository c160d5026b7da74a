// Reports with ECharts: volume, ACD KPIs (the ACD's own numbers), per-agent table, IVR funnel,
// flow versions side by side, work orders, SLA breaches, recordings with QA, Erlang C staffing.
// Counting CDRs is done here; KPI ratios come from the ACD (runtime/acd stats.rs) only.
import { t } from './i18n.js';
import { api } from './api.js';
import { h, act, na, table, pct, secs, exportButtons, toast, when, dur } from './ui.js';
import { agentsNeeded, trafficErlangs, serviceLevel, averageSpeedOfAnswer } from './erlang.js';
import { flowVersions, ivrFunnel, agentCounts, qaByAgent } from './metrics.js';

const TABS = ['overview', 'agents', 'funnel', 'flows', 'orders', 'sla', 'qa', 'staffing'];
const LABEL = { overview: 'rep.perhour', agents: 'rep.agents', funnel: 'rep.funnel', flows: 'rep.flows', orders: 'rep.orders', sla: 'rep.sla', qa: 'rep.qa', staffing: 'rep.staffing' };
let body, charts = [], cdrs = [], range, tab = 'overview';

export function mount(el) {
  const today = new Date(), from = new Date(today.getTime() - 6 * 86400000);
  // The browser's own calendar day (toISOString would give the UTC day: wrong after 16:00 in China).
  const d = x => `${x.getFullYear()}-${String(x.getMonth() + 1).padStart(2, '0')}-${String(x.getDate()).padStart(2, '0')}`;
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
const cellText = v => v instanceof Node ? v.textContent : v;
/** Export buttons for a table made of `cols` over `rows` (the cells as shown). */
const exportTable = (base, cols, rows) => exportButtons(base, () => ({ header: cols.map(c => c.label), rows: rows.map(r => cols.map(c => cellText(c.get(r)))) }));
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
    exportButtons('calls', () => ({ header: ['call_id', 'direction', 'caller', 'called', 'start', 'answer', 'end', 'flow', 'plugin_version', 'ivr_path', 'queue', 'agent', 'hangup_side', 'hangup_cause', 'recording_id'],
      rows: cdrs.map(c => [c.call_id, c.direction, c.caller, c.called, c.start, c.answer, c.end, c.flow, c.plugin_version, (c.ivr_path || []).join('>'), c.queue, c.agent, c.hangup_side, c.hangup_cause, c.recording_id]) })));
  const r = isoRange();
  try {
    const k = await api('GET', `/api/v1/acd/kpis?from_ms=${Date.parse(r.from)}&to_ms=${Date.parse(r.to)}`);
    const kv = (l, v) => h('div', { class: 'kpi' }, h('div', { class: 'label' }, l), h('div', { class: 'big' }, v));
    kpiBox.replaceChildren(h('div', { class: 'kpis' }, kv(t('wall.sl'), pct(k.service_level)), kv(t('wall.asa'), secs(k.asa_secs)), kv(t('wall.aht'), secs(k.aht_secs)), kv(t('wall.abandon'), pct(k.abandonment))),
      h('p', { class: 'muted' }, `queued ${k.queued} · answered ${k.answered} · abandoned ${k.abandoned} (short ${k.short_abandoned}) · callbacks ${k.callbacks} · timed out ${k.timed_out}`));
  } catch (e) { kpiBox.replaceChildren(na(e)); }
}

async function agents() {
  let orders = [], ordersErr = null, scores = [], qaErr = null;
  try { orders = (await api('GET', '/api/v1/orders?limit=500')).items || []; } catch (e) { ordersErr = e; }
  try { scores = (await api('GET', '/api/v1/qa/scores')).scores || []; } catch (e) { qaErr = e; }
  const rows = agentCounts(cdrs, orders), qa = qaByAgent(scores);
  // Missed, AHT and occupancy are the ACD's numbers for the same range (stats.rs definitions).
  const r = isoRange(), acd = new Map();
  let acdErr = null;
  for (const a of rows.map(x => x.agent)) {
    try { acd.set(a, await api('GET', `/api/v1/acd/agents/${encodeURIComponent(a)}/kpis?from_ms=${Date.parse(r.from)}&to_ms=${Date.parse(r.to)}`)); } catch (e) { acdErr = e; break; }
  }
  const cols = [{ label: t('wall.agent'), get: r => r.agent }, { label: t('rep.total'), num: true, get: r => r.total }, { label: t('rep.answered'), num: true, get: r => r.answered },
    { label: t('rep.missed'), num: true, get: r => acd.get(r.agent)?.no_answer ?? '—' },
    { label: t('rep.outbound'), num: true, get: r => r.outbound }, { label: t('rep.outtime'), num: true, get: r => dur(r.outboundMs) },
    { label: t('rep.ordersn'), num: true, get: r => r.orders }, { label: t('rep.orderrate'), num: true, get: r => pct(r.orderRate) },
    { label: t('wall.aht'), num: true, get: r => secs(acd.get(r.agent)?.aht_secs) }, { label: t('rep.occupancy'), num: true, get: r => pct(acd.get(r.agent)?.occupancy) },
    { label: t('rep.qascore'), num: true, get: r => qa.has(r.agent) ? `${qa.get(r.agent).avg.toFixed(1)} (${qa.get(r.agent).n})` : '—' }];
  body.append(card(t('rep.agents'), ...[acdErr, ordersErr, qaErr].filter(Boolean).map(na), h('div', { id: 'rep-agents' }, table(cols, rows)), exportTable('agents', cols, rows)));
}

function funnel() {
  const f = ivrFunnel(cdrs);
  const stages = [{ name: 'IVR', value: f.entered }, ...f.steps.map((v, i) => ({ name: `${t('rep.step')} ${i + 1}`, value: v })), { name: t('wall.agent'), value: f.toAgent }];
  const kc = [{ label: t('rep.stepkey'), get: ([k]) => k }, { label: t('admin.calls'), num: true, get: ([, v]) => v }];
  const hc = [{ label: t('rep.hangupat'), get: ([k]) => k }, { label: t('admin.calls'), num: true, get: ([, v]) => v }];
  body.append(h('div', { class: 'grid cols2' },
    card(t('rep.funnel'), chart('chart-funnel', { tooltip: {}, series: [{ type: 'funnel', sort: 'descending', left: 10, right: 10, top: 10, bottom: 10, label: { formatter: '{b}: {c}' }, data: stages }] })),
    card(t('rep.keys'), h('div', { id: 'rep-keys' }, table(kc, f.keys.slice(0, 15))), exportTable('ivr-keys', kc, f.keys),
      h('h3', {}, t('rep.hangupat')), h('div', { id: 'rep-hangups' }, table(hc, f.hangups.slice(0, 10))), exportTable('ivr-hangups', hc, f.hangups))));
}

async function flows() {
  // Versions of one flow side by side (definitions in metrics.js / docs/console.md).
  const gs = flowVersions(cdrs);
  const label = g => `${g.flow} ${g.version}`;
  const cols = [{ label: t('rep.flow'), get: g => g.flow }, { label: t('admin.version'), get: g => h('span', { title: g.key }, g.version) }, { label: t('admin.calls'), num: true, get: g => g.calls },
    { label: t('rep.containment'), num: true, get: g => pct(g.containment) }, { label: t('rep.ivrabandon'), num: true, get: g => pct(g.ivrAbandonment) },
    { label: t('rep.ivrtime'), num: true, get: g => secs(g.avgIvrSecs) }, { label: t('rep.traps'), num: true, get: g => g.traps }, { label: t('rep.timeouts'), num: true, get: g => g.timeouts },
    { label: t('rep.otherfail'), num: true, get: g => g.otherFailures }, { label: t('rep.menutimeouts'), num: true, get: g => g.menuTimeouts }];
  const reg = h('div', { id: 'rep-flow-registry' });
  body.append(card(t('rep.flows'),
    chart('chart-flows', { tooltip: {}, legend: { top: 0 }, grid: { left: 40, right: 10, top: 30, bottom: 30 }, xAxis: { type: 'category', data: gs.map(label) }, yAxis: { type: 'value', max: 1, axisLabel: { formatter: v => `${v * 100}%` } },
      series: [{ name: t('rep.containment'), type: 'bar', data: gs.map(g => g.containment) }, { name: t('rep.ivrabandon'), type: 'bar', data: gs.map(g => g.ivrAbandonment) }, { name: t('admin.failures'), type: 'bar', data: gs.map(g => g.failureRate) }] }),
    h('div', { id: 'rep-flow-table' }, table(cols, gs)), exportTable('flow-versions', cols, gs)), card(t('rep.registry'), reg));
  try {
    const r = await api('GET', '/api/v1/flows');
    reg.replaceChildren(table([{ label: t('rep.flow'), get: v => v.flow }, { label: 'plugin', get: v => `${v.plugin_name}@${v.plugin_version}` }, { label: t('admin.active'), get: v => v.active ? '✔' : '' },
      { label: t('admin.calls'), num: true, get: v => v.counts.calls }, { label: t('admin.completed'), num: true, get: v => v.counts.completed }, { label: t('admin.hangups'), num: true, get: v => v.counts.caller_hangups },
      { label: t('rep.trapstimeouts'), num: true, get: v => v.counts.failures }], (r.flows || []).flatMap(f => f.versions)));
  } catch (e) { reg.replaceChildren(na(e)); }
}

async function orders() {
  let os;
  try { os = (await api('GET', '/api/v1/orders?limit=500')).items; } catch (e) { return body.append(na(e)); }
  const pie = (id, m) => chart(id, { tooltip: {}, series: [{ type: 'pie', radius: '65%', data: [...m].map(([name, value]) => ({ name, value })) }] });
  body.append(h('div', { class: 'grid cols3' }, card(t('rep.bycat'), pie('chart-cat', count(os, o => t(`cat.${o.category}`)))),
    card(t('rep.byestate'), pie('chart-estate', count(os, o => o.estate_id || '—'))), card(t('rep.bystate'), pie('chart-state', count(os, o => o.state)))),
    exportButtons('orders', () => ({ header: ['id', 'category', 'estate', 'unit', 'state', 'priority', 'assignee', 'created_at', 'call_id', 'recording_id', 'description'],
      rows: os.map(o => [o.id, o.category, o.estate_id, o.unit_id, o.state, o.priority, o.assignee, o.created_at, o.call_id, o.recording_id, o.description]) })));
}

async function sla() {
  try {
    const r = await api('GET', '/api/v1/sla/overdue');
    const rows = (r.levels || []).flatMap(l => l.orders.map(o => ({ ...o, level: l.level, name: l.name })));
    const slaCols = [{ label: t('wall.level'), get: o => `${o.level} ${o.name}` }, { label: '#', get: o => o.order_id }, { label: t('wall.state'), get: o => o.state },
      { label: t('rep.assignee'), get: o => o.assignee || '—' }, { label: t('rep.escalated'), get: o => when(o.escalated_at) }];
    body.append(card(t('rep.sla'), chart('chart-sla', bar((r.levels || []).map(l => `L${l.level} ${l.name}`), (r.levels || []).map(l => l.orders.length))),
      table(slaCols, rows), exportTable('sla-breaches', slaCols, rows)));
  } catch (e) { body.append(card(t('rep.sla'), na(e))); }
}

async function qa() {
  const rec = cdrs.filter(c => c.recording_id).slice(0, 50);
  const box = h('div', { id: 'rep-qa' });
  body.append(card(t('rep.qa'), box));
  let scores = new Map();
  try { scores = new Map(((await api('GET', '/api/v1/qa/scores')).scores || []).map(s => [s.id, s])); } catch (e) { box.append(na(e)); }
  box.append(table([{ label: '', get: c => when(c.start) }, { label: t('wall.caller'), get: c => c.caller }, { label: t('wall.agent'), get: c => c.agent || '—' },
    { label: t('common.play'), get: c => h('audio', { controls: true, preload: 'none', src: `/api/v1/recordings/${encodeURIComponent(c.recording_id)}/audio` }) },
    { label: t('rep.score'), get: c => {
      const old = scores.get(c.recording_id);
      const s = h('select', { 'aria-label': t('rep.score') }, [5, 4, 3, 2, 1].map(v => h('option', { value: v, selected: old?.score === v }, v)));
      const n = h('input', { size: 12, value: old?.notes || '', placeholder: t('rep.notes') });
      const shown = h('span', { class: 'muted', dataset: { score: old?.score ?? '' } }, old ? `${old.score}★ ${old.by}` : '');
      return h('span', { class: 'row', dataset: { recording: c.recording_id } }, s, n, h('button', { type: 'button', onclick: async e => {
        const r = await act(e.target, () => api('POST', `/api/v1/recordings/${encodeURIComponent(c.recording_id)}/qa`, { score: Number(s.value), notes: n.value }), t('admin.saved'));
        if (r) { shown.textContent = `${r.score}★ ${r.by}`; shown.dataset.score = r.score; }
      } }, t('rep.qa.save')), shown); } }], rec));
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
