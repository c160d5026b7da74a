// Counts the reports take from call records (CDRs as GET /api/v1/cdrs returns them). Ratios of
// the ACD (service level, ASA, AHT, abandonment, occupancy) are never computed here: they come
// from the ACD's own statistics (runtime/acd stats.rs). Pure functions, unit-tested in
// tests/console/metrics.test.mjs. Definitions: docs/console.md "Counted from CDRs".

const ms = iso => (iso ? Date.parse(iso) : NaN);

/** Whether the call stayed in the IVR: no queue and no agent. */
export const ivrOnly = c => !c.queue && !c.agent;

/** Plugin failure kind of a CDR (`trap`, `timeout`, `memory`, `error`, `instantiate`) or null. */
export function failureKind(c) {
  const m = /^plugin-([a-z]+)/.exec(c.hangup_cause || '');
  return m ? m[1] : null;
}

/** Menu no-input timeouts the flow marked in the IVR path (`<node>:timeout`). */
export const menuTimeouts = c => (c.ivr_path || []).filter(p => /:timeout$/.test(p)).length;

/** `{flow, version}` of a CDR: the version is the plugin's own version (before `@<key>`). */
export function flowVersion(c) {
  const v = c.plugin_version || '?';
  const at = v.lastIndexOf('@');
  return { flow: c.flow, version: at > 0 ? v.slice(0, at) : v, key: at > 0 ? v.slice(at + 1) : '' };
}

/**
 * Flow versions side by side: per flow and version — calls; containment (the flow ended the
 * call itself, hang-up side `system`, no queue, no agent, no plugin failure); abandonment in
 * the IVR (caller hung up, no queue, no agent); average IVR time (answer → end of the calls that
 * never queued, seconds); plugin traps, plugin timeouts, other plugin failures; menu no-input
 * timeouts. Sorted by flow, then by first call, so versions of one flow sit next to each other.
 */
export function flowVersions(cdrs) {
  const groups = new Map();
  for (const c of cdrs) {
    if (!c.flow) continue;
    const fv = flowVersion(c);
    const k = `${fv.flow}\u0000${fv.version}\u0000${fv.key}`;
    if (!groups.has(k)) groups.set(k, { flow: fv.flow, version: fv.version, key: fv.key, calls: 0, contained: 0, abandoned: 0, ivrMs: 0, ivrN: 0, traps: 0, timeouts: 0, otherFailures: 0, menuTimeouts: 0, first: Infinity });
    const g = groups.get(k);
    g.calls++;
    g.first = Math.min(g.first, ms(c.start) || Infinity);
    const fail = failureKind(c);
    if (fail === 'trap') g.traps++;
    else if (fail === 'timeout') g.timeouts++;
    else if (fail) g.otherFailures++;
    if (ivrOnly(c)) {
      if (!fail && c.hangup_side === 'system') g.contained++;
      if (c.hangup_side === 'caller') g.abandoned++;
      const d = ms(c.end) - ms(c.answer);
      if (d >= 0) { g.ivrMs += d; g.ivrN++; }
    }
    g.menuTimeouts += menuTimeouts(c);
  }
  return [...groups.values()].map(g => ({
    ...g,
    containment: g.calls ? g.contained / g.calls : null,
    ivrAbandonment: g.calls ? g.abandoned / g.calls : null,
    avgIvrSecs: g.ivrN ? g.ivrMs / g.ivrN / 1000 : null,
    failureRate: g.calls ? (g.traps + g.timeouts + g.otherFailures) / g.calls : null,
  })).sort((a, b) => a.flow.localeCompare(b.flow) || a.first - b.first);
}

/**
 * IVR path funnel of the calls that entered a flow: how many reached step 1, 2, … of the path,
 * how many reached an agent; which key was pressed at each step (`node:key` marks); where callers
 * hung up while still in the IVR (the path at hang-up).
 */
export function ivrFunnel(cdrs) {
  const ivr = cdrs.filter(c => c.flow);
  const depth = [];
  const keys = new Map(), hangups = new Map();
  for (const c of ivr) {
    const path = c.ivr_path || [];
    path.forEach((mark, i) => {
      depth[i] = (depth[i] || 0) + 1;
      const k = `${i + 1}: ${mark}`;
      keys.set(k, (keys.get(k) || 0) + 1);
    });
    if (c.hangup_side === 'caller' && ivrOnly(c)) {
      const at = path.join(' > ') || '(before the first menu)';
      hangups.set(at, (hangups.get(at) || 0) + 1);
    }
  }
  const desc = m => [...m].sort((a, b) => b[1] - a[1]);
  return {
    entered: ivr.length,
    steps: depth.map(v => v || 0),
    toAgent: ivr.filter(c => c.agent).length,
    keys: desc(keys),
    hangups: desc(hangups),
  };
}

/**
 * Per-agent counts from CDRs and orders: total calls, inbound answered, outbound count and talk
 * time (answer → end, ms), orders created from the agent's calls (order `call_id`), order rate =
 * orders ÷ inbound answered.
 */
export function agentCounts(cdrs, orders) {
  const by = new Map();
  for (const c of cdrs) {
    if (!c.agent) continue;
    if (!by.has(c.agent)) by.set(c.agent, { agent: c.agent, total: 0, answered: 0, outbound: 0, outboundMs: 0, orders: 0, calls: new Set() });
    const r = by.get(c.agent);
    r.total++; r.calls.add(c.call_id);
    if (c.direction === 'outbound') {
      r.outbound++;
      const d = ms(c.end) - ms(c.answer);
      if (d > 0) r.outboundMs += d;
    } else if (c.answer) r.answered++;
  }
  for (const o of orders || []) {
    if (!o.call_id) continue;
    for (const r of by.values()) if (r.calls.has(o.call_id)) r.orders++;
  }
  return [...by.values()].map(r => ({ ...r, orderRate: r.answered ? r.orders / r.answered : null })).sort((a, b) => a.agent.localeCompare(b.agent));
}

/** Average QA score per agent from `GET /api/v1/qa/scores` items: Map agent → {avg, n}. */
export function qaByAgent(scores) {
  const m = new Map();
  for (const s of scores || []) {
    if (!s.agent) continue;
    const e = m.get(s.agent) || { sum: 0, n: 0 };
    e.sum += s.score; e.n++;
    m.set(s.agent, e);
  }
  return new Map([...m].map(([a, e]) => [a, { avg: e.sum / e.n, n: e.n }]));
}
