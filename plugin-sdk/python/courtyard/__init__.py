"""Courtyard flow SDK for Python (componentize-py): helpers so a flow reads like the Rust one.

    import courtyard
    from courtyard import Prompt, money

    def handle_call(call):
        call.say("您好,您本月物业费为", money(32050))
        key = call.ask("确认请按1", courtyard.Collect.digits(1), keys=["1", "2"])

    WitWorld = courtyard.inbound(handle_call)

See docs/plugin-guide-python.md.
"""

from .call import Call, Collect, Input, Miss
from .errors import CallFailed, FlowError, Hangup, ServiceError
from .flow import inbound, outbound
from .prompt import Prompt, as_prompt, date, digits, money, named, number, pause, text
from .services import (
    FEE_NAMES_ZH,
    billing,
    clock,
    config,
    content,
    directory,
    fee_key,
    kv,
    log,
    notify,
    raw_config,
    work_orders,
)

__all__ = [
    "Call", "Collect", "Input", "Miss", "CallFailed", "FlowError", "Hangup", "ServiceError",
    "inbound", "outbound", "Prompt", "as_prompt", "date", "digits", "money", "named", "number",
    "pause", "text", "FEE_NAMES_ZH", "billing", "clock", "config", "content", "directory",
    "fee_key", "kv", "log", "notify", "raw_config", "work_orders",
]
