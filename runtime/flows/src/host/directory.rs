//! `directory`: forwarded to [`crate::Directory`].

use crate::bindings::interfaces::directory::{Estate, Host, Resident, ServiceError, Unit, WarrantyItem};
use crate::host::host_fn;
use crate::state::CallState;

impl Host for CallState {
    async fn lookup_caller(&mut self, number: String) -> wasmtime::Result<Result<Vec<Resident>, ServiceError>> {
        host_fn!(self, self.services.directory.lookup_caller(&number).await)
    }

    async fn get_unit(&mut self, unit_id: String) -> wasmtime::Result<Result<Option<Unit>, ServiceError>> {
        host_fn!(self, self.services.directory.get_unit(&unit_id).await)
    }

    async fn find_unit(
        &mut self,
        estate_id: Option<String>,
        building: String,
        entrance: String,
        room: String,
    ) -> wasmtime::Result<Result<Option<Unit>, ServiceError>> {
        host_fn!(
            self,
            self.services.directory.find_unit(estate_id.as_deref(), &building, &entrance, &room).await
        )
    }

    async fn get_estate(&mut self, estate_id: String) -> wasmtime::Result<Result<Option<Estate>, ServiceError>> {
        host_fn!(self, self.services.directory.get_estate(&estate_id).await)
    }

    async fn residents_of_unit(&mut self, unit_id: String) -> wasmtime::Result<Result<Vec<Resident>, ServiceError>> {
        host_fn!(self, self.services.directory.residents_of_unit(&unit_id).await)
    }

    async fn warranty(&mut self, unit_id: String) -> wasmtime::Result<Result<Vec<WarrantyItem>, ServiceError>> {
        host_fn!(self, self.services.directory.warranty(&unit_id).await)
    }
}
