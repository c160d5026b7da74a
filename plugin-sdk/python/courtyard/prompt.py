"""Spoken prompts: fixed text, library prompts and typed dynamic parts in one value.

A `Prompt` is the list of segments the host plays in order. Dynamic parts are typed so the
host's TTS reads them correctly in Chinese: `money(32050)` is read 三百二十元五角,
`digits("101")` 幺零幺, `date("2026-11-15")` 2026年11月15日.

    p = Prompt("您本月物业费为", money(32050), ",请于", date("2026-11-15"), "前缴纳")
    t = Prompt.template("您共欠费{amount},谢谢", amount=money(1200))
"""

from wit_world.imports import call as _raw


class Prompt:
    """A sequence of segments played as one prompt (strings become text segments)."""

    __slots__ = ("segments",)

    def __init__(self, *parts):
        self.segments = []
        for part in parts:
            self._add(part)

    def _add(self, part):
        if part is None:
            return
        if isinstance(part, Prompt):
            self.segments.extend(part.segments)
        elif isinstance(part, str):
            if part:
                self.segments.append(_raw.Segment_Text(part))
        elif isinstance(part, (list, tuple)):
            for p in part:
                self._add(p)
        else:
            self.segments.append(part)

    def then(self, *parts):
        """A new prompt: this one followed by `parts` (text, segments or prompts)."""
        out = Prompt(self)
        for p in parts:
            out._add(p)
        return out

    def __add__(self, other):
        return self.then(other)

    def is_empty(self):
        """True when nothing would be played."""
        return not self.segments

    @staticmethod
    def template(text, **values):
        """An operator text with `{name}` placeholders replaced by prompts/segments/text.

        Unknown placeholders stay as literal text, so a typo in the configuration is audible.
        """
        out = Prompt()
        literal = ""
        rest = text
        while True:
            open_ = rest.find("{")
            if open_ < 0:
                break
            literal += rest[:open_]
            after = rest[open_ + 1:]
            close = after.find("}")
            if close < 0:
                literal += "{"
                rest = after
                continue
            key = after[:close]
            if key in values:
                out._add(literal)
                literal = ""
                out._add(values[key])
            else:
                literal += "{" + key + "}"
            rest = after[close + 1:]
        out._add(literal + rest)
        return out

    def plain_text(self):
        """A plain rendering for logs (money as `<n>分`); callers hear the host's TTS rendering."""
        out = []
        for s in self.segments:
            if isinstance(s, _raw.Segment_Text):
                out.append(s.value)
            elif isinstance(s, _raw.Segment_Prompt):
                out.append(s.value.fallback_text)
            elif isinstance(s, _raw.Segment_Money):
                out.append(f"{s.value}分")
            elif isinstance(s, _raw.Segment_Pause):
                pass
            else:
                out.append(str(s.value))
        return "".join(out)


def as_prompt(p):
    """Anything prompt-like (str, segment, list, Prompt) as a Prompt."""
    return p if isinstance(p, Prompt) else Prompt(p)


def text(t):
    """Text spoken by TTS."""
    return _raw.Segment_Text(t)


def money(fen):
    """An amount in fen read in money form (32050 -> 三百二十元五角)."""
    return _raw.Segment_Money(int(fen))


def number(n):
    """A number read as a quantity (1502 -> 一千五百零二)."""
    return _raw.Segment_Number(int(n))


def digits(s):
    """A string read digit by digit (phone and order numbers)."""
    return _raw.Segment_Digits(str(s))


def date(iso):
    """An ISO date read as a date."""
    return _raw.Segment_Date(iso)


def pause(ms):
    """Silence of `ms` milliseconds."""
    return _raw.Segment_Pause(int(ms))


def named(key, fallback_text):
    """A prompt-library entry (a recorded WAV when the operator has one for `key`)."""
    return _raw.Segment_Prompt(_raw.NamedPrompt(key, fallback_text))
