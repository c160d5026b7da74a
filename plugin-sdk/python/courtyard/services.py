"""The business services a flow may call (each one only when the operator granted it).

Thin wrappers over the generated `wit_world.imports.*` functions with the same names and
arguments (`directory.lookup_caller(number)`, `billing.bills(unit_id, unpaid_only)`, ...); a WIT
`service-error` is raised as `ServiceError`. Types and enums are reachable through the same
objects (`billing.FeeType.WATER`, `work_orders.NewOrder(...)`).
"""

import json as _json

from componentize_py_types import Err
from wit_world.imports import billing as _billing
from wit_world.imports import clock as _clock
from wit_world.imports import config as _config
from wit_world.imports import content as _content
from wit_world.imports import directory as _directory
from wit_world.imports import kv as _kv
from wit_world.imports import log as _log
from wit_world.imports import notify as _notify
from wit_world.imports import work_orders as _work_orders

from .errors import service_error


class _Service:
    """A generated import module whose functions raise ServiceError instead of Err."""

    def __init__(self, raw, **extra):
        self._raw = raw
        self.__dict__.update(extra)

    def __getattr__(self, name):
        item = getattr(self._raw, name)
        if not callable(item) or isinstance(item, type):
            return item

        def checked(*args):
            try:
                return item(*args)
            except Err as e:
                raise service_error(e.value) from None

        checked.__name__ = name
        checked.__doc__ = item.__doc__
        return checked


def _sms(to, text):
    """Queue an SMS; returns the message id."""
    return notify.send(_notify.Channel.SMS, to, text)


def _on_duty(to, text):
    """Alert the on-duty engineer."""
    return notify.send(_notify.Channel.ON_DUTY, to, text)


directory = _Service(_directory)
billing = _Service(_billing)
work_orders = _Service(_work_orders)
notify = _Service(_notify, sms=_sms, on_duty=_on_duty)
kv = _Service(_kv)

#: Spoken default names of fee types, by the WIT enum.
FEE_NAMES_ZH = {
    _billing.FeeType.PROPERTY: "物业费",
    _billing.FeeType.WATER: "水费",
    _billing.FeeType.ELECTRICITY: "电费",
    _billing.FeeType.GAS: "燃气费",
    _billing.FeeType.PARKING: "停车费",
    _billing.FeeType.OTHER: "其他费用",
}


def fee_key(fee):
    """Stable configuration key of a fee type ("property", "water", ...)."""
    return fee.name.lower()


class log:
    """Structured logging into the host's per-call trace."""

    @staticmethod
    def debug(message):
        """Debug line."""
        _log.log(_log.Level.DEBUG, message)

    @staticmethod
    def info(message):
        """Info line."""
        _log.log(_log.Level.INFO, message)

    @staticmethod
    def warn(message):
        """Warning line."""
        _log.log(_log.Level.WARN, message)

    @staticmethod
    def error(message):
        """Error line."""
        _log.log(_log.Level.ERROR, message)


class clock:
    """Time and working-hours calendars."""

    now = staticmethod(_clock.now)
    is_open = staticmethod(_clock.is_open)
    next_open = staticmethod(_clock.next_open)

    @staticmethod
    def today():
        """Today's date (YYYY-MM-DD)."""
        return _clock.now()[:10]


class content:
    """Announcements and knowledge-base answers."""

    announcements = staticmethod(_content.announcements)
    kb_answer = staticmethod(_content.kb_answer)


def raw_config():
    """The configuration JSON given at install ("{}" when none)."""
    return _config.get()


def config():
    """The configuration document parsed from JSON (a dict)."""
    return _json.loads(_config.get() or "{}")
