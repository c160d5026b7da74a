// Browser tests of the web console: headless Debian chromium (playwright-core) against the real
// `courtyard demo` binary — a SIPp caller with RFC 4733 key presses from a Node RTP endpoint, a
// SIPp agent phone registered and answering — or, while the binary is not built, against the
// console-dev example (API + console, no SIP), in which case the two full scenarios are skipped
// with the reason printed.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync, readdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { ROOT, serverKind, courtyardBin, startServer, openBrowser, login, shot, noHorizontalOverflow, toasts, apiJson, token, have } from './harness.mjs';
import { bindPhone, sleep } from './rtp-phone.mjs';


let server, browser;
before(async () => { [server, browser] = await Promise.all([startServer(), openBrowser()]); console.log(`# server: ${server.kind} http=${server.http} sip=${server.sip || '-'}`); });
after(async () => { await browser?.close(); await server?.stop(); });

function noPageErrors(page) { assert.deepEqual(page.errors, [], `JavaScript errors in the page: ${page.errors.join('\n')}`); }

test('login: wrong password is refused with a clear message, then the agent desktop opens in Chinese', async () => {
  const page = await browser.ctx.newPage();
  page.errors = []; page.on('pageerror', e => page.errors.push(String(e)));
  await page.goto(`${server.base}/console/`);
  await page.fill('#login-form input[name=username]', '8001');
  await page.fill('#login-form input[name=password]', 'wrong-password');
  await page.click('#login-form button[type=submit]');
  await page.waitForFunction(() => document.querySelector('#login-error').textContent.length > 0);
  assert.match(await page.textContent('#login-error'), /用户名或密码错误/);
  await shot(page, '00-login-error');
  await page.fill('#login-form input[name=password]', 'demo8001');
  await page.click('#login-form button[type=submit]');
  await page.waitForSelector('#screen-pop');
  assert.match(await page.textContent('#nav'), /坐席工作台/);
  assert.match(await page.textContent('#screen-pop'), /等待来电/);
  assert.ok(await noHorizontalOverflow(page), 'desktop wider than 1366 px');
  // English is one click away, and back.
  await page.click('header .lang-toggle');
  await page.waitForFunction(() => document.querySelector('#nav').textContent.includes('Agent desktop'));
  await page.click('header .lang-toggle');
  await page.waitForFunction(() => document.querySelector('#nav').textContent.includes('坐席工作台'));
  noPageErrors(page);
  await page.close();
});

test('agent desktop: caller lookup shows the owner with masked numbers, KB search answers', async () => {
  const page = await login(browser.ctx, server.base, '8001', 'demo8001');
  await page.fill('#lookup-number', '13800138000');
  await page.click('#lookup-number + button');
  await page.waitForSelector('#pop-name');
  assert.match(await page.textContent('#pop-name'), /张伟/);
  assert.match(await page.textContent('#pop-units'), /xfhy/);
  const pop = await page.textContent('#screen-pop');
  assert.ok(!pop.includes('13800138000'), 'an agent must see masked numbers only');
  await page.fill('#kb-q', '燃气怎么开户');
  await page.press('#kb-q', 'Enter');
  await page.waitForSelector('#kb-results details, #kb-results p');
  assert.ok(await page.$('#kb-results details'), `no KB answer: ${await page.textContent('#kb-results')}`);
  assert.ok(await noHorizontalOverflow(page));
  await shot(page, '01-agent-lookup-kb');
  noPageErrors(page);
  await page.close();
});

test('reports: charts render, Erlang C staffing agrees with the ACD (200/h, 180 s, 80 % in 20 s → 14)', async () => {
  const page = await login(browser.ctx, server.base, 'supervisor', 'supervisor-demo');
  await page.click('#nav button[data-view=reports]');
  await page.waitForSelector('#chart-hour canvas');
  await page.waitForSelector('#rep-kpis .kpis, #rep-kpis .na');
  await shot(page, '10-reports-overview');
  await page.click('#rep-tabs button[data-tab=staffing]');
  await page.waitForSelector('#st-needed');
  assert.equal(await page.textContent('#st-needed'), '14');
  await page.fill('#st-calls', '100');
  await page.click('#st-calc');
  assert.equal(await page.textContent('#st-needed'), '8');
  await page.click('#rep-tabs button[data-tab=flows]');
  await page.waitForSelector('#chart-flows canvas');
  await page.waitForSelector('#rep-flow-registry table, #rep-flow-registry .na');
  await shot(page, '11-reports-flows');
  await page.click('#rep-tabs button[data-tab=orders]');
  await page.waitForSelector('#chart-cat canvas');
  assert.ok(await noHorizontalOverflow(page));
  noPageErrors(page);
  await page.close();
});

test('supervisor wallboard: live connection, queue and agent panels, supervise needs an extension', async () => {
  const page = await login(browser.ctx, server.base, 'supervisor', 'supervisor-demo');
  await page.click('#nav button[data-view=wall]');
  await page.waitForSelector('#wall-kpis .kpi');
  await page.waitForSelector('#wall-queues table, #wall-queues .na');
  if (server.kind === 'real') assert.ok(await page.$('#wall-queues table'), `ACD snapshot missing: ${await page.textContent('#wall-queues')}`);
  else assert.match(await page.textContent('#wall-queues'), /acd\/snapshot/);
  await page.waitForSelector('#wall-overdue table, #wall-overdue .na, #wall-overdue p');
  if (server.kind === 'real') assert.ok(!(await page.$('#wall-overdue .na')), `overdue orders: ${await page.textContent('#wall-overdue')}`);
  assert.ok(await noHorizontalOverflow(page));
  await shot(page, '05-supervisor-wallboard');
  noPageErrors(page);
  await page.close();
});

test('admin sees the plugin list (or a clear "not available yet"), queues and users', async () => {
  const page = await login(browser.ctx, server.base, 'admin', 'admin-demo');
  await page.click('#nav button[data-view=admin]');
  await page.waitForSelector('#admin-body section, #admin-body .na');
  await shot(page, '20-admin-plugins');
  if (server.kind === 'dev') assert.match(await page.textContent('#admin-body'), /接口尚未提供|not available/);
  else assert.ok(await page.$('#admin-body section[data-flow="ivr-main"]'), `ivr-main missing: ${await page.textContent('#admin-body')}`);
  if (server.kind === 'real') {
    await page.click('#admin-tabs button[data-tab=routes]');
    await page.waitForSelector('#admin-body table');
    const routes = await page.$$eval('#admin-body tbody tr', rs => rs.map(r => [...r.cells].map(c => c.textContent)));
    assert.ok(routes.some(r => r[0] === '4008123456' && r[1] === 'ivr-main'), `route table: ${JSON.stringify(routes)}`);
    const me = await apiJson(server.base, 'GET', '/api/v1/auth/me', await token(server.base, '8002', 'demo8002'));
    assert.deepEqual([me.json.username, me.json.role, me.json.agent_id, me.json.masked], ['8002', 'agent', '8002', true]);
  }
  await page.click('#admin-tabs button[data-tab=users]');
  await page.waitForFunction(() => document.querySelector('#admin-body').textContent.includes('supervisor'));
  await page.click('#admin-tabs button[data-tab=blacklist]');
  await page.waitForSelector('#admin-body textarea');
  await page.click('#admin-body button.primary');
  await page.waitForSelector('#admin-body td');
  assert.match(await page.textContent('#admin-body'), /17000000000/);
  assert.ok((await toasts(page)).some(t => t.includes('ok')), 'saving gives visible feedback');
  noPageErrors(page);
  await page.close();
});

test('SIPp call: agent goes ready, the screen pops the owner before answer, a work order is created, the supervisor sees it', { skip: server_skip() }, async () => {
  const sup = await login(browser.ctx, server.base, 'supervisor', 'supervisor-demo');
  await sup.click('#nav button[data-view=wall]');
  await sup.waitForSelector('#wall-agents');
  // The agent's phone: SIPp registers extension 8001 (digest auth), then a second SIPp answers
  // on the same port when the ACD rings it — after 3 s of ringing.
  const agentPort = await freeUdpPort();
  const reg = await runSipp(['-sf', path.join(HERE, 'sipp/agent-register.xml'), '-s', '8001', '-au', '8001', '-ap', 'demo8001', '-p', String(agentPort)], server.sip);
  assert.equal(reg.code, 0, `agent phone did not register:\n${reg.out}`);
  const agentPhone = startSipp(['-sf', path.join(HERE, 'sipp/agent-phone.xml'), '-s', '8001', '-p', String(agentPort), '-mp', String(await freeUdpPort(true)), '-rtp_echo']);

  const agent = await login(browser.ctx, server.base, '8001', 'demo8001');
  await agent.click('#btn-login');
  await agent.click('#btn-ready');
  await agent.waitForFunction(() => document.querySelector('#agent-state').textContent.includes('示闲'), null, { timeout: 10000 })
    .catch(async () => assert.fail(`agent did not get ready: ${(await toasts(agent)).join(' | ')}`));

  // The caller: ivr-menu (4008123400) starts with its menu, barge-in on; the caller presses 0
  // (人工服务) as soon as the prompt is heard (typed ahead, the key is not lost), stays 10 s.
  const phone = await bindPhone();
  const caller = startSipp(['-sf', path.join(HERE, 'sipp/caller.xml'), '-p', String(await freeUdpPort()), '-mp', String(await freeUdpPort(true)),
    '-s', '4008123400', '-key', 'caller', '13800138000', '-key', 'rtp_port', String(phone.port), '-d', '10000', server.sip]);
  let orderId;
  try {
    if (!(await phone.waitForMedia(20000))) {
      caller.proc.kill('SIGTERM');
      assert.fail(`no RTP from the runtime; caller SIPp:\n${(await caller.done).out}\nruntime:\n${server.log().slice(-5000)}`);
    }
    await phone.press('0');
    const popped = await agent.waitForSelector('#pop-status', { timeout: 15000 }).then(() => true, () => false);
    assert.ok(popped, `no screen-pop; events seen: ${JSON.stringify(await agent.evaluate(() => window.courtyardEvents.slice(-10)))}\n${server.log().slice(-3000)}`);
    await agent.waitForSelector('#pop-name', { timeout: 8000 });
    assert.match(await agent.textContent('#pop-name'), /张伟/);
    assert.ok(!(await agent.textContent('#screen-pop')).includes('13800138000'));
    await shot(agent, '30-agent-screen-pop');
    // The owner's details were on screen while the phone rang; then the agent answered.
    await agent.waitForFunction(() => /通话中/.test(document.querySelector('#pop-status').textContent), null, { timeout: 15000 })
      .catch(async () => assert.fail(`the agent's phone was not answered: ${await agent.textContent('#pop-status')}\n${agentPhone.out()}`));
    assert.equal(await agent.getAttribute('#screen-pop', 'data-shown-while'), 'ringing', 'the pop must show the owner before the agent answers');

    // The supervisor sees the call: the agent on the call (or the caller still waiting).
    await sup.waitForFunction(() => /13800138000/.test(document.querySelector('#wall-calls').textContent) || /通话|振铃/.test(document.querySelector('#wall-agents').textContent), null, { timeout: 10000 });
    await shot(sup, '31-supervisor-wallboard-call');

    // Work order from the call.
    await agent.selectOption('#order-form select[name=category]', 'repair');
    await agent.fill('#order-form textarea[name=description]', '厨房水管漏水，浏览器测试');
    await agent.selectOption('#order-form select[name=priority]', 'high');
    await agent.click('#order-create');
    await agent.waitForFunction(() => /工单已创建/.test(document.querySelector('#order-result').textContent));
    orderId = /工单已创建：(\S+?)（/.exec(await agent.textContent('#order-result'))[1];
    await shot(agent, '32-agent-order-created');
  } finally {
    phone.close();
  }
  // The caller hangs up; both SIPp ends must have seen a clean call.
  const [c, a] = await Promise.all([caller.done, agentPhone.done]);
  assert.equal(c.code, 0, `caller SIPp failed:\n${c.out}\n${server.log().slice(-3000)}`);
  assert.equal(a.code, 0, `agent phone SIPp failed:\n${a.out}`);
  const adminTok = await token(server.base, 'admin', 'admin-demo');
  const o = await apiJson(server.base, 'GET', `/api/v1/orders/${orderId}`, adminTok);
  assert.equal(o.status, 200);
  assert.equal(o.json.order.caller, '13800138000');
  assert.equal(o.json.order.category, 'repair');
  assert.ok(o.json.order.call_id, 'order bound to the call');
  // The conversation's recording is attached to the order once the call record is written.
  const cdr = await waitFor(async () => { const r = await apiJson(server.base, 'GET', `/api/v1/cdrs/${encodeURIComponent(o.json.order.call_id)}`, adminTok); return r.json?.end && r.json; }, 10000);
  assert.equal(cdr.agent, '8001', `CDR: ${JSON.stringify(cdr)}`);
  assert.ok(cdr.recording_id, `the call was not recorded: ${JSON.stringify(cdr)}`);
  const attached = await waitFor(async () => (await apiJson(server.base, 'GET', `/api/v1/orders/${orderId}`, adminTok)).json.order.recording_id, 10000);
  assert.equal(attached, cdr.recording_id, 'the call recording is attached to the order');
  const audio = await fetch(`${server.base}/api/v1/recordings/${encodeURIComponent(cdr.recording_id)}/audio`, { headers: { Authorization: `Bearer ${adminTok}` } });
  const wav = Buffer.from(await audio.arrayBuffer());
  assert.equal(audio.status, 200, `the recording does not play: ${wav.toString().slice(0, 300)}`);
  assert.ok(wav.length > 8000 && wav.toString('latin1', 0, 4) === 'RIFF', `the recording holds no audio (${wav.length} bytes)`);

  // Reports: the supervisor scores the recording; the per-agent table shows the call, the ACD's
  // figures for the agent and the QA average.
  await sup.click('#nav button[data-view=reports]');
  await sup.waitForSelector('#chart-hour canvas');
  await sup.click('#rep-tabs button[data-tab=qa]');
  const row = `#rep-qa span[data-recording="${cdr.recording_id}"]`;
  await sup.waitForSelector(row);
  await sup.selectOption(`${row} select`, '4');
  await sup.fill(`${row} input`, '礼貌，记录完整');
  await sup.click(`${row} button`);
  await sup.waitForSelector(`${row} span[data-score="4"]`);
  const qa = await apiJson(server.base, 'GET', '/api/v1/qa/scores?agent=8001', adminTok);
  assert.equal(qa.status, 200);
  assert.deepEqual(qa.json.scores.map(x => [x.id, x.agent, x.score, x.by]), [[cdr.recording_id, '8001', 4, 'supervisor']]);
  await sup.click('#rep-tabs button[data-tab=agents]');
  await sup.waitForSelector('#rep-agents table');
  const agentRow = await sup.$$eval('#rep-agents tbody tr', rs => rs.map(r => [...r.cells].map(c => c.textContent)).find(c => c[0] === '8001'));
  assert.ok(agentRow, 'agent 8001 in the per-agent report');
  assert.equal(agentRow[2], '1', `inbound answered: ${agentRow}`);
  assert.equal(agentRow[6], '1', `orders created from the agent's calls: ${agentRow}`);
  assert.match(agentRow[10], /^4\.0 \(1\)$/, `QA column: ${agentRow}`);
  assert.ok(!(await sup.$('#rep-body .na')), `a report part is not available: ${await sup.textContent('#rep-body')}`);
  await shot(sup, '33-reports-agents-qa');

  for (const p of [sup, agent]) { noPageErrors(p); await p.close(); }
});

// ivr-main calls all of these but kv, which the package declares unused (as a Python or JS flow's
// package does for the interfaces its toolchain imports without them being called).
const GRANTS = 'call,directory.read,billing.read,work-orders.write,log,clock,content,notify.sms';

test('admin uploads a signed ivr-main package in the browser, activates it, then rolls back', { skip: (serverKind() !== 'real' && 'needs the real courtyard binary (flow registry)') }, async () => {
  // A vendor package made with the runtime's own CLI: keygen, pack, sign; the operator trusts the key.
  const dir = mkdtempSync(path.join(tmpdir(), 'pkg-'));
  const bin = courtyardBin();
  const run = (...a) => { const r = spawnSync(bin, a, { cwd: dir, encoding: 'utf8' }); assert.equal(r.status, 0, `courtyard ${a.join(' ')}:\n${r.stdout}${r.stderr}`); return r.stdout; };
  writeFileSync(path.join(dir, 'plugin.toml'), ['name = "ivr-main"', 'version = "1.0.1"', 'vendor = "courtyard-test"', 'description = "ivr-main repackaged by the console test"',
    'wit = "courtyard:flow@0.1.0"', 'world = "inbound-flow"', `capabilities = [${GRANTS.split(',').map(c => `"${c}"`).join(', ')}]`, 'unused-imports = ["kv"]'].join('\n') + '\n');
  run('plugin', 'keygen', '--key-id', 'console-test', '--vendor', 'courtyard-test', '--out', dir);
  // Version 1.0.1 is a new build of ivr-main: the same code with a build-id custom section, so
  // its content hash (the registry's version key) differs from the demo's 1.0.0. Installing the
  // very same bytes again would return the existing version, leaving nothing to roll back to.
  const wasm = path.join(dir, 'ivr_main.wasm');
  writeFileSync(wasm, withCustomSection(readFileSync(path.join(ROOT, 'plugins/target/wasm32-wasip2/release/ivr_main.wasm')), 'courtyard-build', '1.0.1'));
  run('plugin', 'pack', dir, wasm, '-o', path.join(dir, 'ivr-main.cyp'));
  run('plugin', 'sign', path.join(dir, 'ivr-main.cyp'), '--key', path.join(dir, 'console-test.key'));
  run('plugin', 'trust', '--trust', path.join(server.data, 'trust.toml'), 'add', path.join(dir, 'console-test.pub'));

  const admin = await login(browser.ctx, server.base, 'admin', 'admin-demo');
  await admin.click('#nav button[data-view=admin]');
  await admin.waitForSelector('#admin-body section[data-flow="ivr-main"]');
  const before = await admin.$$eval('#admin-body section[data-flow="ivr-main"] tbody tr', rs => rs.length);
  await admin.setInputFiles('#admin-body input[type=file]', path.join(dir, 'ivr-main.cyp'));
  // Choosing the file inspects it: name, version, signer (trusted), the capabilities it asks for
  // as check boxes, which fill the grants.
  await admin.waitForSelector('#pkg-caps input[name=cap]');
  assert.equal(await admin.textContent('#pkg-name'), 'ivr-main@1.0.1');
  assert.match(await admin.textContent('#pkg-trust'), /console-test ✓/);
  const caps = await admin.$$eval('#pkg-caps input[name=cap]', bs => bs.map(b => b.value));
  for (const c of GRANTS.split(',')) assert.ok(caps.includes(c), `requested capabilities ${caps} lack ${c}`);
  assert.ok(!caps.includes('kv'), `kv is declared unused, not requested: ${caps}`);
  assert.match(await admin.textContent('#pkg-unused'), /kv/);
  assert.deepEqual((await admin.inputValue('#admin-body input[name=grants]')).split(',').sort(), [...caps].sort());
  assert.equal(await admin.inputValue('#admin-body input[name=flow]'), 'ivr-main');
  await admin.$eval('#pkg-inspect', n => n.scrollIntoView());
  await shot(admin, '39-admin-package-inspected');
  await admin.check('#admin-body input[name=activate]');
  await admin.click('#admin-body section:last-child button.primary');
  await admin.waitForFunction(() => [...document.querySelectorAll('#toasts .toast')].some(t => t.classList.contains('bad') || /ivr-main@/.test(t.textContent)), null, { timeout: 30000 });
  assert.ok((await toasts(admin)).some(t => /ivr-main@1\.0\.1/.test(t)), `install failed: ${(await toasts(admin)).join(' | ')}`);
  await admin.waitForFunction(n => document.querySelectorAll('#admin-body section[data-flow="ivr-main"] tbody tr').length > n, before);
  // The new version's row shows its grants, and kv (declared unused) struck through as a trap.
  const row = await admin.$$eval('#admin-body section[data-flow="ivr-main"] tbody tr', rs => rs.map(r => r.textContent).find(t => t.includes('@1.0.1')));
  assert.ok(row && row.includes('billing') && row.includes('kv'), `version row: ${row}`);
  assert.equal(await admin.$eval('#admin-body section[data-flow="ivr-main"] tbody tr s', n => n.textContent).catch(() => ''), 'kv');
  await shot(admin, '40-admin-installed');
  await admin.click('#admin-body section[data-flow="ivr-main"] button[data-action=rollback]');
  await admin.waitForFunction(() => [...document.querySelectorAll('#toasts .toast')].some(t => /已回滚|失败/.test(t.textContent)));
  const ts = await toasts(admin);
  assert.ok(ts.some(t => /已回滚 ivr-main/.test(t)), `rollback did not succeed: ${ts.join(' | ')}`);
  await shot(admin, '41-admin-rolled-back');
  const flows = await apiJson(server.base, 'GET', '/api/v1/flows', await token(server.base, 'admin', 'admin-demo'));
  const active = flows.json.flows.find(f => f.name === 'ivr-main').versions.find(v => v.active);
  assert.notEqual(active.plugin_version, '1.0.1', 'the rolled-back version must no longer be active');
  noPageErrors(admin);
  await admin.close();
});

/** `bytes` (a wasm module or component) with one more custom section appended. */
function withCustomSection(bytes, name, text) {
  const leb = n => { const out = []; do { let b = n & 0x7f; n >>>= 7; if (n) b |= 0x80; out.push(b); } while (n); return out; };
  const nm = Buffer.from(name), payload = Buffer.from(text);
  const content = Buffer.concat([Buffer.from(leb(nm.length)), nm, payload]);
  return Buffer.concat([bytes, Buffer.from([0, ...leb(content.length)]), content]);
}

/** A UDP port that was free a moment ago. With `media`, an even port whose next three are free
 * too: SIPp binds RTP and RTCP for audio and video from -mp, and fails to start otherwise. */
async function freeUdpPort(media = false) {
  const dgram = await import('node:dgram');
  const bind = port => new Promise(r => { const s = dgram.createSocket('udp4'); s.once('error', () => { s.close(); r(null); }); s.bind(port, '127.0.0.1', () => r(s)); });
  for (;;) {
    const s = await bind(0);
    const p = s.address().port;
    if (!media) { s.close(); return p; }
    if (p % 2 !== 0 || p > 65000) { s.close(); continue; }
    const next = await Promise.all([1, 2, 3].map(i => bind(p + i)));
    for (const n of [s, ...next]) n?.close();
    if (next.every(Boolean)) return p;
  }
}

const HERE = path.dirname(new URL(import.meta.url).pathname);

/** Starts SIPp (bound to 127.0.0.1, one call, no screen); `done` resolves to {code, out}. */
function startSipp(args) {
  const dir = mkdtempSync(path.join(tmpdir(), 'sipp-'));
  const p = spawn('sipp', ['-i', '127.0.0.1', '-m', '1', '-timeout', '60s', '-timeout_error', '-nostdin', '-trace_err', ...args], { cwd: dir });
  let out = '';
  p.stdout.on('data', d => { out += d; }); p.stderr.on('data', d => { out += d; });
  const done = new Promise(r => p.on('exit', code => {
    for (const f of readdirSync(dir)) out += `\n--- ${f} ---\n${readFileSync(path.join(dir, f), 'utf8').slice(-5000)}`;
    r({ code, out: out.slice(-8000) });
  }));
  return { proc: p, done, out: () => out.slice(-8000) };
}
async function runSipp(args, target) { return startSipp([...args, target]).done; }

/** Polls `f` every 200 ms until it returns something truthy (or fails after `ms`). */
async function waitFor(f, ms) {
  const end = Date.now() + ms;
  for (;;) {
    const v = await f();
    if (v) return v;
    if (Date.now() > end) assert.fail(`condition not met within ${ms} ms: ${f}`);
    await sleep(200);
  }
}

function server_skip() {
  if (serverKind() !== 'real') return 'needs the real courtyard binary (SIP, ACD); running against the console-dev example';
  if (!have('sipp')) return 'sipp is not installed (apt-get install sip-tester)';
  return false;
}
