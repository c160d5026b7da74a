"""bill-lookup in Python: reads the caller's outstanding bills and total, then offers a
payment-link SMS, a repeat or an agent. The same flow, texts and configuration as the Rust
plugin (plugins/bill-lookup + flows-common), passing the same simulator scripts."""

import courtyard
from courtyard import (
    FEE_NAMES_ZH, Collect, Miss, Prompt, ServiceError, billing, clock, date, digits, directory,
    fee_key, log, money, notify, number, work_orders,
)

import settings


def unit_prompt(unit):
    """"3栋2单元" then the room digit by digit, the way room numbers are said on the phone."""
    return Prompt(f"{unit.building}栋{unit.entrance}单元", digits(unit.room))


def unit_label(unit):
    """Written form for SMS texts: 3栋2单元1502."""
    return f"{unit.building}栋{unit.entrance}单元{unit.room}"


def period_prompt(period):
    """"2026-10" read 二零二六年十月; anything else as text."""
    y, sep, m = period.partition("-")
    if sep and len(y) == 4 and y.isdigit() and m.isdigit() and 1 <= int(m) <= 12:
        return Prompt(digits(y), "年", number(int(m)), "月")
    return Prompt(period)


def count_prompt(n):
    """2 is 两 before a measure word (两笔)."""
    return Prompt("两") if n == 2 else Prompt(number(n))


def yuan(fen):
    """Fen as a yuan string for SMS texts ("320.50")."""
    sign = "-" if fen < 0 else ""
    a = abs(fen)
    return f"{sign}{a // 100}.{a % 100:02d}"


def fill(text, **values):
    """Fill `{name}` placeholders of a plain (SMS) text."""
    for k, v in values.items():
        text = text.replace("{" + k + "}", v)
    return text


class Ctx:
    """One call: the call, the settings and what is known about the caller so far."""

    def __init__(self, call, s):
        self.call = call
        self.s = s
        self.customer = call.caller
        self.looked_up = False
        self.resident_found = None
        self.unit_found = None

    # --- hand-off to a human -------------------------------------------------------------
    def to_agent_at(self, text, queue, priority):
        if text:
            self.call.say(text)
        self.enqueue(queue, priority)

    def to_agent(self):
        c = self.s.common
        self.to_agent_at(c.transfer_text, c.agent_queue, c.agent_priority)

    def degrade(self, what, err, queue=None):
        log.warn(f"{what} failed: {err}; handing the caller to an agent")
        self.call.set_var("degraded", what)
        c = self.s.common
        self.to_agent_at(c.service_error_text, queue or c.agent_queue, c.agent_priority)

    def enqueue(self, queue, priority):
        self.call.set_var("queue", queue)
        outcome = self.call.enqueue(queue, priority)
        if outcome[0] == "answered":
            self.call.set_var("agent", outcome[1])
        elif outcome[0] == "timeout":
            self.callback(f"排队超时({queue})", self.s.common.queue_busy_text)
        elif outcome[0] == "callback-requested":
            self.callback(f"来电请求回电({queue})", self.s.common.callback_text)

    def callback(self, reason, text):
        try:
            task = work_orders.create_callback(self.customer, reason, None, clock.now())
            self.call.set_var("callback_task", task)
        except ServiceError as e:
            log.warn(f"callback task failed: {e}")
            text = self.s.common.callback_failed_text
        self.call.say(text)
        self.call.hangup()

    def goodbye(self):
        if self.s.common.goodbye_text:
            self.call.say(self.s.common.goodbye_text)
        self.call.hangup()

    def one_key(self):
        c = self.s.common
        return Collect.digits(1).timeout_ms(c.first_digit_timeout_ms).barge_in(c.barge_in)

    def ask_key(self, prompt, keys):
        """A one-key question with the common retry texts; raises Miss after all attempts."""
        c = self.s.common
        return self.call.ask(prompt, self.one_key(), keys=keys, attempts=c.attempts,
                             on_invalid=c.invalid_text, on_timeout=c.no_input_text)

    # --- who is calling --------------------------------------------------------------------
    def resident(self):
        if not self.looked_up:
            self.looked_up = True
            try:
                found = directory.lookup_caller(self.customer)
                self.resident_found = found[0] if found else None
            except ServiceError as e:
                log.warn(f"caller lookup failed: {e}")
            if self.resident_found:
                self.call.set_var("resident_id", self.resident_found.id)
        return self.resident_found

    def unit(self):
        """The unit of this call, or None when the caller was already handed to an agent."""
        if self.unit_found:
            return self.unit_found
        r = self.resident()
        found = self.choose_unit(r) if r and r.unit_ids else self.unit_by_keypad()
        if found:
            self.call.set_var("unit_id", found.id)
            self.unit_found = found
        return found

    def choose_unit(self, r):
        units = []
        for uid in r.unit_ids[:9]:
            try:
                u = directory.get_unit(uid)
            except ServiceError as e:
                self.degrade("directory.get-unit", e)
                return None
            if u is None:
                log.warn(f"resident {r.id} links unknown unit {uid}")
            else:
                units.append(u)
        if len(units) <= 1:
            return units[0] if units else self.unit_by_keypad()
        cfg = self.s.identify
        keys = [str(k) for k in range(1, len(units) + 1)]
        prompt = Prompt(cfg.choose_intro)
        for u, key in zip(units, keys):
            prompt = prompt.then(Prompt.template(cfg.choose_item, unit=unit_prompt(u), key=key))
        try:
            k = self.ask_key(prompt, keys)
        except Miss:
            self.to_agent()
            return None
        self.call.mark(f"unit:{k}")
        return units[int(k) - 1]

    def ask_number(self, prefix, text, most):
        c = self.s.common
        try:
            return self.call.ask(prefix.then(text),
                                 Collect.between(1, most).terminator("#").timeout_ms(c.first_digit_timeout_ms),
                                 attempts=c.attempts, on_invalid=c.invalid_text, on_timeout=c.no_input_text)
        except Miss:
            return None

    def unit_by_keypad(self):
        cfg = self.s.identify
        prefix = Prompt()
        for _ in range(max(cfg.attempts, 1)):
            building = self.ask_number(prefix, cfg.building_prompt, 4)
            if building is None:
                break
            entrance = self.ask_number(Prompt(), cfg.entrance_prompt, 3)
            if entrance is None:
                break
            room = self.ask_number(Prompt(), cfg.room_prompt, 6)
            if room is None:
                break
            try:
                unit = directory.find_unit(self.call.estate_id, building, entrance, room)
            except ServiceError as e:
                self.degrade("directory.find-unit", e)
                return None
            if unit is None:
                prefix = Prompt(cfg.not_found_text)
                continue
            self.call.mark("identify:unit")
            if not cfg.verify or self.verify(unit):
                return unit
            break
        c = self.s.common
        self.to_agent_at(cfg.failed_text, c.agent_queue, c.agent_priority)
        return None

    def verify(self, unit):
        """Last-four-digits check against the phones registered for the unit."""
        try:
            residents = directory.residents_of_unit(unit.id)
        except ServiceError as e:
            log.warn(f"residents-of-unit failed: {e}")
            return False
        phones = [p for r in residents for p in r.phones]
        if not phones:
            log.info("unit has no registered phone; verification skipped")
            return True
        cfg = self.s.identify
        prefix = Prompt()
        for _ in range(max(cfg.attempts, 1)):
            try:
                last4 = self.call.ask(prefix.then(cfg.verify_prompt),
                                      Collect.digits(4).timeout_ms(self.s.common.first_digit_timeout_ms),
                                      attempts=1)
            except Miss:
                prefix = Prompt(self.s.common.no_input_text)
                continue
            if any(p.endswith(last4) for p in phones):
                self.call.mark("identify:verified")
                return True
            prefix = Prompt(cfg.verify_failed_text)
        return False

    # --- the bills -------------------------------------------------------------------------
    def fee_name(self, fee):
        return self.s.bills.fee_names.get(fee_key(fee)) or FEE_NAMES_ZH[fee]

    def statement(self, unit, bills):
        cfg = self.s.bills
        total = sum(b.amount for b in bills)
        p = Prompt.template(cfg.header_text, unit=unit_prompt(unit), count=count_prompt(len(bills)))
        for b in bills[:cfg.max_items]:
            p = p.then(Prompt.template(
                cfg.item_text,
                fee=self.fee_name(b.fee_type),
                period=period_prompt(b.period),
                amount=money(b.amount),
                due=date(b.due_date) if b.due_date else Prompt(),
            ))
        return p.then(Prompt.template(cfg.total_text, total=money(total)))

    def bill_lookup(self):
        self.call.mark("bills")
        unit = self.unit()
        if unit is None:
            return
        cfg = self.s.bills
        try:
            bills = billing.bills(unit.id, True)
        except ServiceError as e:
            return self.degrade("billing.bills", e, cfg.queue)
        if not bills:
            self.call.say(Prompt.template(cfg.no_bills_text, unit=unit_prompt(unit)))
            return self.goodbye()
        total = sum(b.amount for b in bills)
        self.call.set_var("arrears_fen", str(total))
        self.call.say(self.statement(unit, bills))
        for _ in range(3):
            try:
                key = self.ask_key(cfg.offer_prompt, ["1", "2", "0"])
            except Miss:
                return self.goodbye()
            if key == "1":
                self.call.mark("bills:sms")
                if self.send_payment_link(unit, total):
                    self.goodbye()
                return
            if key == "2":
                self.call.mark("bills:repeat")
                self.call.say(self.statement(unit, bills))
                continue
            self.call.mark("bills:agent")
            c = self.s.common
            return self.to_agent_at(c.transfer_text, cfg.queue, c.agent_priority)
        self.goodbye()

    def send_payment_link(self, unit, total_fen):
        """SMS the payment link; False when a service failed and the caller went to a queue."""
        cfg = self.s.bills
        try:
            link = billing.payment_link(unit.id)
        except ServiceError as e:
            self.degrade("billing.payment-link", e, cfg.queue)
            return False
        body = fill(cfg.sms_text, unit=unit_label(unit), total=yuan(total_fen), link=link)
        try:
            notify.sms(self.customer, self.s.common.sms_signature + body)
        except ServiceError as e:
            self.degrade("notify.send", e, cfg.queue)
            return False
        self.call.set_var("sms", "payment-link")
        self.call.say(cfg.sms_sent_text)
        return True


def check_config(doc):
    settings.load(doc)


def handle_call(call):
    Ctx(call, settings.load(courtyard.config())).bill_lookup()


WitWorld = courtyard.inbound(handle_call, check_config)
