"""Errors a flow sees: the caller hung up, a call function failed, a business service failed.

Host functions report failures as WIT `result` errors; the SDK raises them as these exceptions
so a flow is written straight-line. `Hangup` ending `handle_call` is a normal end of call; any
other `FlowError` becomes the export's error (the failure policy applies); any other exception
(a bug) traps the instance exactly like a Rust panic.
"""

from wit_world.imports import call as _call
from wit_world.imports import types as _types


class FlowError(Exception):
    """Base of the errors the SDK raises."""


class Hangup(FlowError):
    """The caller hung up: return promptly (the SDK treats it as a normal end of the call)."""

    def __init__(self):
        super().__init__("the caller hung up")


class CallFailed(FlowError):
    """A call-control function failed (not allowed by the dial plan, media error, ...)."""


class ServiceError(FlowError):
    """A business service failed; `kind` is "unavailable", "invalid" or "denied"."""

    def __init__(self, kind, message):
        super().__init__(f"{kind}: {message}")
        self.kind = kind
        self.message = message


def call_error(err):
    """Map a WIT `call-error` to the exception to raise."""
    if isinstance(err, _call.CallError_Hangup):
        return Hangup()
    if isinstance(err, _call.CallError_NotAllowed):
        return CallFailed(f"not allowed: {err.value}")
    return CallFailed(f"failed: {getattr(err, 'value', err)}")


def service_error(err):
    """Map a WIT `service-error` to a ServiceError."""
    if isinstance(err, _types.ServiceError_Unavailable):
        return ServiceError("unavailable", err.value)
    if isinstance(err, _types.ServiceError_Invalid):
        return ServiceError("invalid", err.value)
    return ServiceError("denied", getattr(err, "value", str(err)))
