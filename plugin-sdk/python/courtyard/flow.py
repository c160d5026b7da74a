"""Exporting a flow: turns plain functions into the world's `WitWorld` class.

    WitWorld = courtyard.inbound(handle_call, check_config)

`handle_call(call)` runs the call; `check_config(cfg)` (optional) raises, or returns an error
string, for a bad configuration (any other return value means valid). A `Hangup` ends the call normally; a `FlowError` is logged and
returned as the export's error; any other exception is logged with its traceback and re-raised,
which traps the instance exactly like a Rust panic. Either way the flow's failure policy runs.
"""

import sys
import traceback

from componentize_py_types import Err

from .call import Call
from .errors import FlowError, Hangup
from .services import config, log


def _check(check_config):
    try:
        cfg = config()
    except ValueError as e:
        raise Err(f"configuration is not valid JSON: {e}") from None
    if check_config is None:
        return
    try:
        problem = check_config(cfg)
    except (ValueError, TypeError, KeyError, FlowError) as e:
        raise Err(str(e)) from None
    if isinstance(problem, str) and problem:
        raise Err(problem)


def _guard(body, on_hangup):
    try:
        return body()
    except Hangup:
        return on_hangup()
    except FlowError as e:
        log.error(str(e))
        raise Err(str(e)) from None
    except Err:
        raise
    except BaseException as e:
        # A bug: leave the traceback in the call trace and the exception on stderr (quoted in the
        # host's failure message), then trap (the host applies the failure policy).
        log.error("uncaught exception: " + traceback.format_exc(limit=8))
        print(f"uncaught {type(e).__name__}: {e}", file=sys.stderr, flush=True)
        raise


def inbound(handle_call, check_config=None):
    """The `WitWorld` export class of world `inbound-flow` for these functions."""

    class WitWorld:
        def check_config(self):
            _check(check_config)

        def handle_call(self):
            call = Call.current()
            _guard(lambda: handle_call(call), lambda: None)

    return WitWorld


def outbound(on_answer, check_config=None, hangup_outcome="hangup"):
    """The `WitWorld` export class of world `outbound-flow`: `on_answer(call, target)` returns
    the outcome string; a hang-up yields `hangup_outcome`."""

    class WitWorld:
        def check_config(self):
            _check(check_config)

        def on_answer(self, target):
            call = Call.current()
            return _guard(lambda: on_answer(call, target), lambda: hangup_outcome)

    return WitWorld
