//! End-to-end tests: the `courtyard` binary against real SIP peers (SIPp, baresip).
