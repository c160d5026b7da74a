"""A deliberately faulty flow for the containment tests: key 1 hits a bug (KeyError, an uncaught
exception: the instance traps like a Rust panic), key 2 lets a ServiceError escape (returned as
the export's error). Either way the host's failure policy must take over the call."""

import courtyard
from courtyard import Collect, billing


def handle_call(call):
    key = call.collect("您好,请按键", Collect.digits(1)).digits
    if key == "1":
        settings = {}
        call.say(settings["greeting"])  # the bug: KeyError
    billing.bills("U1", True)  # unavailable in the script: ServiceError escapes


WitWorld = courtyard.inbound(handle_call)
