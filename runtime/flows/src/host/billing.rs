//! `billing`: forwarded to [`crate::Billing`].

use crate::bindings::interfaces::billing::{Bill, Host, ServiceError};
use crate::host::host_fn;
use crate::state::CallState;

impl Host for CallState {
    async fn bills(&mut self, unit_id: String, unpaid_only: bool) -> wasmtime::Result<Result<Vec<Bill>, ServiceError>> {
        host_fn!(self, self.services.billing.bills(&unit_id, unpaid_only).await)
    }

    async fn arrears(&mut self, unit_id: String) -> wasmtime::Result<Result<i64, ServiceError>> {
        host_fn!(self, self.services.billing.arrears(&unit_id).await)
    }

    async fn payment_link(&mut self, unit_id: String) -> wasmtime::Result<Result<String, ServiceError>> {
        host_fn!(self, self.services.billing.payment_link(&unit_id).await)
    }
}
