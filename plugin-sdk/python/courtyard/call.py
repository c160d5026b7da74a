"""The live call: say, collect, ask (validated with retries), record, queue, transfer, hang up.

Every function blocks until the media action is done and raises `Hangup` once the caller is
gone, so a flow reads top to bottom like the Rust SDK's.
"""

from componentize_py_types import Err
from wit_world.imports import call as _raw

from .errors import FlowError, call_error
from .prompt import Prompt, as_prompt


def _checked(fn, *args):
    try:
        return fn(*args)
    except Err as e:
        raise call_error(e.value) from None


class Collect:
    """How to collect digits: `Collect.digits(1)` for a menu key, `Collect.between(1, 6)` ..."""

    def __init__(self, min_digits, max_digits):
        self.min = min_digits
        self.max = max(max_digits, min_digits, 1)
        self.first_ms = 5000
        self.inter_ms = 3000
        self.terminator_key = None
        self.barge = False

    @staticmethod
    def digits(n):
        """Exactly `n` digits."""
        return Collect(n, n)

    @staticmethod
    def between(min_digits, max_digits):
        """Between `min_digits` and `max_digits` digits (add a terminator for variable lengths)."""
        return Collect(min_digits, max_digits)

    def timeout_ms(self, ms):
        """Wait for the first digit after the prompt ended."""
        self.first_ms = ms
        return self

    def inter_digit_ms(self, ms):
        """Wait between digits."""
        self.inter_ms = ms
        return self

    def terminator(self, key):
        """A key ending input early ("#"), not included in the digits."""
        self.terminator_key = key
        return self

    def barge_in(self, on=True):
        """A key press interrupts the prompt (and counts as the first digit)."""
        self.barge = bool(on)
        return self

    def options(self):
        """The WIT record sent to the host."""
        return _raw.CollectOptions(self.min, self.max, self.first_ms, self.inter_ms, self.terminator_key, self.barge)


class Input:
    """Digits the caller pressed and why collection ended."""

    def __init__(self, collected):
        self.digits = collected.digits
        self.ended_by = collected.ended_by

    def timed_out(self):
        """True when collection ended by timeout."""
        return self.ended_by == _raw.CollectEnd.TIMEOUT


class Miss(FlowError):
    """An `ask` got no valid answer after all attempts; `reason` is "invalid" or "timeout"."""

    def __init__(self, reason):
        super().__init__(reason)
        self.reason = reason


class Call:
    """The call this plugin instance handles (one per call, from `Call.current()`)."""

    def __init__(self, info):
        self.info = info

    @staticmethod
    def current():
        """The live call."""
        return Call(_raw.info())

    @property
    def caller(self):
        """Caller number ("anonymous" when withheld)."""
        return self.info.caller

    @property
    def called(self):
        """Number that routed the call here."""
        return self.info.called

    @property
    def estate_id(self):
        """Estate of the called number, when known."""
        return self.info.estate_id

    @property
    def call_id(self):
        """Unique id of the call (key of its record)."""
        return self.info.call_id

    @property
    def language(self):
        """Prompt language ("zh" or "en")."""
        return self.info.language

    def answer(self):
        """Answer the call (idempotent)."""
        _checked(_raw.answer)

    def say(self, *prompt, barge_in=False):
        """Play a prompt to the end (`barge_in`: a key press stops it, the key is kept)."""
        _checked(_raw.say, Prompt(*prompt).segments, barge_in)

    def collect(self, prompt, options):
        """Play a prompt, then collect digits per `options` (a `Collect`)."""
        return Input(_checked(_raw.collect, as_prompt(prompt).segments, options.options()))

    def ask(self, prompt, collect, keys=None, accept=None, attempts=3, on_invalid=None, on_timeout=None):
        """Ask with validation and retries; returns the answer or raises `Miss` after `attempts`.

        `keys` accepts only these answers (menu keys); `accept(digits)` decides otherwise; by
        default any input of at least the minimum length is valid. Re-prompts are prefixed with
        `on_invalid` / `on_timeout`.
        """
        if keys is not None:
            allowed = list(keys)
            accept = lambda d: d in allowed  # noqa: E731
        elif accept is None:
            least = max(collect.min, 1)
            accept = lambda d: len(d) >= least  # noqa: E731
        prompt = as_prompt(prompt)
        prefix = Prompt()
        reason = "timeout"
        for _ in range(max(attempts, 1)):
            got = self.collect(prefix.then(prompt), collect)
            if accept(got.digits):
                return got.digits
            if not got.digits:
                reason, prefix = "timeout", as_prompt(on_timeout)
            else:
                reason, prefix = "invalid", as_prompt(on_invalid)
        raise Miss(reason)

    def record(self, max_seconds=60, silence_timeout_ms=3000, terminator="#", beep=True):
        """Record the caller; returns the recording (`.id`, `.duration_ms`)."""
        return _checked(_raw.record, _raw.RecordOptions(max_seconds, silence_timeout_ms, terminator, beep))

    def transfer(self, target):
        """Blind transfer to an agent or allowed external number."""
        _checked(_raw.transfer, target)

    def enqueue(self, queue, priority=0):
        """Queue the caller; returns ("answered", agent) / ("abandoned",) / ("timeout",) / ("callback-requested",)."""
        out = _checked(_raw.enqueue, queue, priority)
        if isinstance(out, _raw.QueueOutcome_Answered):
            return ("answered", out.value)
        if isinstance(out, _raw.QueueOutcome_Abandoned):
            return ("abandoned",)
        if isinstance(out, _raw.QueueOutcome_Timeout):
            return ("timeout",)
        return ("callback-requested",)

    def hangup(self):
        """End the call."""
        _raw.hangup()

    def set_var(self, name, value):
        """Set a call variable (call record, agent screen-pop)."""
        _raw.set_var(name, str(value))

    def var(self, name):
        """A call variable, or None."""
        return _raw.get_var(name)

    def mark(self, node):
        """Mark a step of the IVR path for reports."""
        _raw.mark(node)
