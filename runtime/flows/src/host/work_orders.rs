//! `work-orders`: forwarded to [`crate::WorkOrders`].

use crate::bindings::interfaces::work_orders::{Host, NewOrder, Order, ServiceError};
use crate::host::host_fn;
use crate::state::CallState;

impl Host for CallState {
    async fn create(&mut self, order: NewOrder) -> wasmtime::Result<Result<Order, ServiceError>> {
        host_fn!(self, self.services.work_orders.create(order).await)
    }

    async fn get(&mut self, id: String) -> wasmtime::Result<Result<Option<Order>, ServiceError>> {
        host_fn!(self, self.services.work_orders.get(&id).await)
    }

    async fn list_for_unit(
        &mut self,
        unit_id: String,
        open_only: bool,
    ) -> wasmtime::Result<Result<Vec<Order>, ServiceError>> {
        host_fn!(self, self.services.work_orders.list_for_unit(&unit_id, open_only).await)
    }

    async fn rate(
        &mut self,
        id: String,
        score: u8,
        comment_recording_id: Option<String>,
    ) -> wasmtime::Result<Result<Option<String>, ServiceError>> {
        host_fn!(self, self.services.work_orders.rate(&id, score, comment_recording_id.as_deref()).await)
    }

    async fn create_callback(
        &mut self,
        number: String,
        reason: String,
        recording_id: Option<String>,
        due: String,
    ) -> wasmtime::Result<Result<String, ServiceError>> {
        host_fn!(
            self,
            self.services.work_orders.create_callback(&number, &reason, recording_id.as_deref(), &due).await
        )
    }
}
