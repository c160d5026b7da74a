// Unit tests of what the reports count from call records (runtime/console/assets/metrics.js)
// and of the XLSX writer (runtime/console/assets/xlsx.js, read back with Python's zipfile and
// an XML parser). No browser, no server.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { ROOT } from './harness.mjs';

const assets = path.join(ROOT, 'runtime/console/assets');
const { flowVersions, ivrFunnel, agentCounts, qaByAgent, failureKind } = await import(path.join(assets, 'metrics.js'));
const { xlsxBlob, crc32 } = await import(path.join(assets, 'xlsx.js'));

const at = s => `2026-11-27T10:00:${String(s).padStart(2, '0')}+08:00`;
function cdr(o) {
  return { call_id: o.id, direction: 'inbound', caller: '13800138000', called: '4008123456', start: at(0), answer: at(1), end: at(o.secs + 1),
    flow: 'ivr-main', plugin_version: o.v, ivr_path: o.path || [], queue: o.queue || null, agent: o.agent || null,
    hangup_side: o.side, hangup_cause: o.cause || null, recording_id: null };
}

// Version 1.0.0: 4 calls — 2 contained (flow ended them), 1 abandoned in the IVR, 1 to an agent.
// Version 1.1.0: 3 calls — 1 trap, 1 plugin timeout, 1 contained after a menu timeout.
const CDRS = [
  cdr({ id: 'a', v: '1.0.0@k1', secs: 10, side: 'system', path: ['main:1'] }),
  cdr({ id: 'b', v: '1.0.0@k1', secs: 20, side: 'system', path: ['main:4', 'info:1'] }),
  cdr({ id: 'c', v: '1.0.0@k1', secs: 6, side: 'caller', path: ['main:4'] }),
  cdr({ id: 'd', v: '1.0.0@k1', secs: 60, side: 'caller', path: ['main:0'], queue: 'default', agent: '8001' }),
  cdr({ id: 'e', v: '1.1.0@k2', secs: 2, side: 'system', cause: 'plugin-trap' }),
  cdr({ id: 'f', v: '1.1.0@k2', secs: 30, side: 'system', cause: 'plugin-timeout' }),
  cdr({ id: 'g', v: '1.1.0@k2', secs: 12, side: 'system', path: ['main:timeout', 'main:2'] }),
];

test('flow versions side by side: containment, IVR abandonment, average IVR time, traps and timeouts per version', () => {
  const [v1, v2] = flowVersions(CDRS);
  assert.deepEqual([v1.flow, v1.version, v1.key, v1.calls], ['ivr-main', '1.0.0', 'k1', 4]);
  assert.equal(v1.contained, 2);
  assert.equal(v1.containment, 0.5);
  assert.equal(v1.ivrAbandonment, 0.25);
  assert.equal(v1.avgIvrSecs, 12, 'IVR time counts only the calls that never queued: (10+20+6)/3');
  assert.deepEqual([v1.traps, v1.timeouts, v1.otherFailures], [0, 0, 0]);
  assert.deepEqual([v2.version, v2.calls, v2.contained, v2.traps, v2.timeouts, v2.menuTimeouts], ['1.1.0', 3, 1, 1, 1, 1]);
  assert.equal(v2.failureRate, 2 / 3, 'a plugin failure is never counted as containment');
  assert.equal(failureKind({ hangup_cause: 'plugin-memory' }), 'memory');
  assert.equal(failureKind({ hangup_cause: '487' }), null);
});

test('IVR funnel: depth reached, keys per step, where callers hung up in the IVR', () => {
  const f = ivrFunnel(CDRS);
  assert.equal(f.entered, 7);
  assert.deepEqual(f.steps, [5, 2]);
  assert.equal(f.toAgent, 1);
  assert.deepEqual(f.keys[0], ['1: main:4', 2]);
  assert.deepEqual(f.hangups, [['main:4', 1]], 'the caller who reached an agent did not hang up in the IVR');
});

test('per-agent counts: answered, outbound time, orders created from the agent\'s calls, QA average', () => {
  const out = { ...cdr({ id: 'o', v: '1.0.0@k1', secs: 30, side: 'agent', agent: '8001' }), direction: 'outbound', flow: null };
  const rows = agentCounts([...CDRS, out], [{ id: '1', call_id: 'd' }, { id: '2', call_id: 'zzz' }]);
  assert.equal(rows.length, 1);
  assert.deepEqual([rows[0].agent, rows[0].total, rows[0].answered, rows[0].outbound, rows[0].outboundMs, rows[0].orders, rows[0].orderRate], ['8001', 2, 1, 1, 30000, 1, 1]);
  const qa = qaByAgent([{ agent: '8001', score: 5 }, { agent: '8001', score: 2 }, { agent: null, score: 1 }]);
  assert.deepEqual(qa.get('8001'), { avg: 3.5, n: 2 });
});

test('XLSX export is a valid workbook: zip entries with correct CRCs, cells read back (numbers and Chinese text)', async () => {
  assert.equal(crc32(new TextEncoder().encode('123456789')), 0xcbf43926);
  const blob = xlsxBlob('agents', ['坐席', '呼入接听', '备注'], [['8001', 12, '厨房 "漏水" <急> & 其他'], ['8002', 0, null]]);
  const file = path.join(mkdtempSync(path.join(tmpdir(), 'xlsx-')), 'agents.xlsx');
  writeFileSync(file, Buffer.from(await blob.arrayBuffer()));
  const py = `
import sys, zipfile, xml.etree.ElementTree as ET
z = zipfile.ZipFile(sys.argv[1])
assert z.testzip() is None
ns = {'m': 'http://schemas.openxmlformats.org/spreadsheetml/2006/main'}
ET.fromstring(z.read('[Content_Types].xml')); ET.fromstring(z.read('xl/workbook.xml'))
rows = ET.fromstring(z.read('xl/worksheets/sheet1.xml')).findall('.//m:row', ns)
for r in rows:
    print('|'.join((c.get('r') + '=' + (c.findtext('m:v', namespaces=ns) or c.findtext('m:is/m:t', namespaces=ns))) for c in r.findall('m:c', ns)))
`;
  const r = spawnSync('python3', ['-c', py, file], { encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
  assert.deepEqual(r.stdout.trim().split('\n'), ['A1=坐席|B1=呼入接听|C1=备注', 'A2=8001|B2=12|C2=厨房 "漏水" <急> & 其他', 'A3=8002|B3=0']);
});

test('KPI definitions in docs/console.md are word for word those of docs/acd.md', async () => {
  const { readFileSync } = await import('node:fs');
  const rows = f => readFileSync(path.join(ROOT, 'docs', f), 'utf8').split('\n')
    .filter(l => /^\| (service level|ASA|AHT|abandonment|occupancy) \|/.test(l));
  const acd = rows('acd.md');
  assert.equal(acd.length, 5, 'docs/acd.md lost its KPI table');
  assert.deepEqual(rows('console.md'), acd);
});
