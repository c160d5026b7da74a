// bill-lookup in JavaScript: reads the caller's outstanding bills and total, then offers a
// payment-link SMS, a repeat or an agent. The same flow, texts and configuration as the Rust
// plugin (plugins/bill-lookup + flows-common), passing the same simulator scripts.

import {
  inbound, config, Prompt, Collect, Miss, ServiceError, FEE_NAMES_ZH,
  billing, clock, directory, log, notify, workOrders, date, digits, money, number,
} from './courtyard.js'; // copied next to app.js by build.sh
import { load } from './settings.js';

/** "3栋2单元" then the room digit by digit, the way room numbers are said on the phone. */
const unitPrompt = (u) => new Prompt(`${u.building}栋${u.entrance}单元`, digits(u.room));
/** Written form for SMS texts: 3栋2单元1502. */
const unitLabel = (u) => `${u.building}栋${u.entrance}单元${u.room}`;

/** "2026-10" read 二零二六年十月; anything else as text. */
function periodPrompt(period) {
  const m = /^(\d{4})-(\d+)$/.exec(period);
  if (m && Number(m[2]) >= 1 && Number(m[2]) <= 12) return new Prompt(digits(m[1]), '年', number(Number(m[2])), '月');
  return new Prompt(period);
}

/** 2 is 两 before a measure word (两笔). */
const countPrompt = (n) => (n === 2 ? new Prompt('两') : new Prompt(number(n)));

/** Fen (BigInt) as a yuan string for SMS texts ("320.50"). */
function yuan(fen) {
  const neg = fen < 0n;
  const a = neg ? -fen : fen;
  return `${neg ? '-' : ''}${a / 100n}.${String(a % 100n).padStart(2, '0')}`;
}

/** Fill `{name}` placeholders of a plain (SMS) text. */
const fill = (t, values) => Object.entries(values).reduce((s, [k, v]) => s.split(`{${k}}`).join(v), t);

const sum = (bills) => bills.reduce((t, b) => t + b.amount, 0n);

/** One call: the call, the settings and what is known about the caller so far. */
class Ctx {
  constructor(call, s) {
    this.call = call;
    this.s = s;
    this.customer = call.caller;
    this.lookedUp = false;
    this.residentFound = undefined;
    this.unitFound = undefined;
  }

  // --- hand-off to a human
  toAgentAt(text, queue, priority) {
    if (text) this.call.say(text);
    this.enqueue(queue, priority);
  }

  toAgent() {
    const c = this.s.common;
    this.toAgentAt(c.transfer_text, c.agent_queue, c.agent_priority);
  }

  degrade(what, err, queue) {
    log.warn(`${what} failed: ${err.message}; handing the caller to an agent`);
    this.call.setVar('degraded', what);
    const c = this.s.common;
    this.toAgentAt(c.service_error_text, queue || c.agent_queue, c.agent_priority);
  }

  enqueue(queue, priority) {
    this.call.setVar('queue', queue);
    const out = this.call.enqueue(queue, priority);
    if (out.tag === 'answered') this.call.setVar('agent', out.val);
    else if (out.tag === 'timeout') this.callback(`排队超时(${queue})`, this.s.common.queue_busy_text);
    else if (out.tag === 'callback-requested') this.callback(`来电请求回电(${queue})`, this.s.common.callback_text);
  }

  callback(reason, text) {
    try {
      const task = workOrders.createCallback(this.customer, reason, undefined, clock.now());
      this.call.setVar('callback_task', task);
    } catch (e) {
      if (!(e instanceof ServiceError)) throw e;
      log.warn(`callback task failed: ${e.message}`);
      text = this.s.common.callback_failed_text;
    }
    this.call.say(text);
    this.call.hangup();
  }

  goodbye() {
    if (this.s.common.goodbye_text) this.call.say(this.s.common.goodbye_text);
    this.call.hangup();
  }

  oneKey() {
    const c = this.s.common;
    return Collect.digits(1).timeoutMs(c.first_digit_timeout_ms).bargeIn(c.barge_in);
  }

  /** A one-key question with the common retry texts; throws Miss after all attempts. */
  askKey(prompt, keys) {
    const c = this.s.common;
    return this.call.ask(prompt, this.oneKey(), { keys, attempts: c.attempts, onInvalid: c.invalid_text, onTimeout: c.no_input_text });
  }

  // --- who is calling
  resident() {
    if (!this.lookedUp) {
      this.lookedUp = true;
      try {
        const found = directory.lookupCaller(this.customer);
        this.residentFound = found[0];
      } catch (e) {
        if (!(e instanceof ServiceError)) throw e;
        log.warn(`caller lookup failed: ${e.message}`);
      }
      if (this.residentFound) this.call.setVar('resident_id', this.residentFound.id);
    }
    return this.residentFound;
  }

  /** The unit of this call, or undefined when the caller was already handed to an agent. */
  unit() {
    if (this.unitFound) return this.unitFound;
    const r = this.resident();
    const found = r && r.unitIds.length ? this.chooseUnit(r) : this.unitByKeypad();
    if (found) {
      this.call.setVar('unit_id', found.id);
      this.unitFound = found;
    }
    return found;
  }

  chooseUnit(r) {
    const units = [];
    for (const id of r.unitIds.slice(0, 9)) {
      let u;
      try {
        u = directory.getUnit(id);
      } catch (e) {
        if (!(e instanceof ServiceError)) throw e;
        this.degrade('directory.get-unit', e);
        return undefined;
      }
      if (u) units.push(u);
      else log.warn(`resident ${r.id} links unknown unit ${id}`);
    }
    if (units.length <= 1) return units.length ? units[0] : this.unitByKeypad();
    const cfg = this.s.identify;
    const keys = units.map((_, i) => String(i + 1));
    let prompt = new Prompt(cfg.choose_intro);
    units.forEach((u, i) => {
      prompt = prompt.then(Prompt.template(cfg.choose_item, { unit: unitPrompt(u), key: keys[i] }));
    });
    let k;
    try {
      k = this.askKey(prompt, keys);
    } catch (e) {
      if (!(e instanceof Miss)) throw e;
      this.toAgent();
      return undefined;
    }
    this.call.mark(`unit:${k}`);
    return units[Number(k) - 1];
  }

  askNumber(prefix, text, most) {
    const c = this.s.common;
    try {
      return this.call.ask(prefix.then(text), Collect.between(1, most).terminator('#').timeoutMs(c.first_digit_timeout_ms),
        { attempts: c.attempts, onInvalid: c.invalid_text, onTimeout: c.no_input_text });
    } catch (e) {
      if (e instanceof Miss) return undefined;
      throw e;
    }
  }

  unitByKeypad() {
    const cfg = this.s.identify;
    let prefix = new Prompt();
    for (let i = 0; i < Math.max(cfg.attempts, 1); i++) {
      const building = this.askNumber(prefix, cfg.building_prompt, 4);
      if (building === undefined) break;
      const entrance = this.askNumber(new Prompt(), cfg.entrance_prompt, 3);
      if (entrance === undefined) break;
      const room = this.askNumber(new Prompt(), cfg.room_prompt, 6);
      if (room === undefined) break;
      let unit;
      try {
        unit = directory.findUnit(this.call.estateId, building, entrance, room);
      } catch (e) {
        if (!(e instanceof ServiceError)) throw e;
        this.degrade('directory.find-unit', e);
        return undefined;
      }
      if (!unit) {
        prefix = new Prompt(cfg.not_found_text);
        continue;
      }
      this.call.mark('identify:unit');
      if (!cfg.verify || this.verify(unit)) return unit;
      break;
    }
    const c = this.s.common;
    this.toAgentAt(cfg.failed_text, c.agent_queue, c.agent_priority);
    return undefined;
  }

  /** Last-four-digits check against the phones registered for the unit. */
  verify(unit) {
    let residents;
    try {
      residents = directory.residentsOfUnit(unit.id);
    } catch (e) {
      if (!(e instanceof ServiceError)) throw e;
      log.warn(`residents-of-unit failed: ${e.message}`);
      return false;
    }
    const phones = residents.flatMap((r) => r.phones);
    if (!phones.length) {
      log.info('unit has no registered phone; verification skipped');
      return true;
    }
    const cfg = this.s.identify;
    let prefix = new Prompt();
    for (let i = 0; i < Math.max(cfg.attempts, 1); i++) {
      let last4;
      try {
        last4 = this.call.ask(prefix.then(cfg.verify_prompt), Collect.digits(4).timeoutMs(this.s.common.first_digit_timeout_ms), { attempts: 1 });
      } catch (e) {
        if (!(e instanceof Miss)) throw e;
        prefix = new Prompt(this.s.common.no_input_text);
        continue;
      }
      if (phones.some((p) => p.endsWith(last4))) {
        this.call.mark('identify:verified');
        return true;
      }
      prefix = new Prompt(cfg.verify_failed_text);
    }
    return false;
  }

  // --- the bills
  feeName(fee) {
    return this.s.bills.fee_names[fee] || FEE_NAMES_ZH[fee];
  }

  statement(unit, bills) {
    const cfg = this.s.bills;
    let p = Prompt.template(cfg.header_text, { unit: unitPrompt(unit), count: countPrompt(bills.length) });
    for (const b of bills.slice(0, cfg.max_items)) {
      p = p.then(Prompt.template(cfg.item_text, {
        fee: this.feeName(b.feeType),
        period: periodPrompt(b.period),
        amount: money(b.amount),
        due: b.dueDate ? date(b.dueDate) : new Prompt(),
      }));
    }
    return p.then(Prompt.template(cfg.total_text, { total: money(sum(bills)) }));
  }

  billLookup() {
    this.call.mark('bills');
    const unit = this.unit();
    if (!unit) return;
    const cfg = this.s.bills;
    let bills;
    try {
      bills = billing.bills(unit.id, true);
    } catch (e) {
      if (!(e instanceof ServiceError)) throw e;
      this.degrade('billing.bills', e, cfg.queue);
      return;
    }
    if (!bills.length) {
      this.call.say(Prompt.template(cfg.no_bills_text, { unit: unitPrompt(unit) }));
      this.goodbye();
      return;
    }
    const total = sum(bills);
    this.call.setVar('arrears_fen', String(total));
    this.call.say(this.statement(unit, bills));
    for (let i = 0; i < 3; i++) {
      let key;
      try {
        key = this.askKey(cfg.offer_prompt, ['1', '2', '0']);
      } catch (e) {
        if (!(e instanceof Miss)) throw e;
        this.goodbye();
        return;
      }
      if (key === '1') {
        this.call.mark('bills:sms');
        if (this.sendPaymentLink(unit, total)) this.goodbye();
        return;
      }
      if (key === '2') {
        this.call.mark('bills:repeat');
        this.call.say(this.statement(unit, bills));
        continue;
      }
      this.call.mark('bills:agent');
      const c = this.s.common;
      this.toAgentAt(c.transfer_text, cfg.queue, c.agent_priority);
      return;
    }
    this.goodbye();
  }

  /** SMS the payment link; false when a service failed and the caller went to a queue. */
  sendPaymentLink(unit, totalFen) {
    const cfg = this.s.bills;
    let link;
    try {
      link = billing.paymentLink(unit.id);
    } catch (e) {
      if (!(e instanceof ServiceError)) throw e;
      this.degrade('billing.payment-link', e, cfg.queue);
      return false;
    }
    const body = fill(cfg.sms_text, { unit: unitLabel(unit), total: yuan(totalFen), link });
    try {
      notify.sms(this.customer, this.s.common.sms_signature + body);
    } catch (e) {
      if (!(e instanceof ServiceError)) throw e;
      this.degrade('notify.send', e, cfg.queue);
      return false;
    }
    this.call.setVar('sms', 'payment-link');
    this.call.say(cfg.sms_sent_text);
    return true;
  }
}

export const { checkConfig, handleCall } = inbound(
  (call) => new Ctx(call, load(config())).billLookup(),
  (doc) => { load(doc); },
);
