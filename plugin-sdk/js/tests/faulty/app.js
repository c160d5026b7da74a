// A deliberately faulty flow for the containment tests: key 1 hits a bug (TypeError, an uncaught
// throw: the instance traps like a Rust panic), key 2 lets a ServiceError escape (returned as the
// export's error). Either way the host's failure policy must take over the call.
import { inbound, Collect, billing } from './courtyard.js';

export const { checkConfig, handleCall } = inbound((call) => {
  const key = call.collect('您好,请按键', Collect.digits(1)).digits;
  if (key === '1') {
    const settings = undefined;
    call.say(settings.greeting); // the bug: TypeError
  }
  billing.bills('U1', true); // unavailable in the script: ServiceError escapes
});
