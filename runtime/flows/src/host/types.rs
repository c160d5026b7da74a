//! `types`: only type definitions, nothing to implement.

use crate::bindings::interfaces::types::Host;
use crate::state::CallState;

impl Host for CallState {}
