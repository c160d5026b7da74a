//! Backends that refuse politely: every business call answers `service-error::unavailable`.
//!
//! Used for canary runs (a canary must not touch real data) and as the default until the runtime
//! wires real backends, so a plugin always meets a well-defined answer instead of a panic.

use async_trait::async_trait;

use crate::host_api::{Billing, Clock, Content, Directory, Kv, Notify, WorkOrders};
use crate::wit::{Bill, Channel, Estate, NewOrder, Order, Resident, ServiceError, Unit, WarrantyItem};

/// Implements every business trait by returning `ServiceError::Unavailable`.
#[derive(Debug, Default, Clone, Copy)]
pub struct UnavailableServices;

fn down<T>() -> Result<T, ServiceError> {
    Err(ServiceError::Unavailable("service not configured".to_string()))
}

#[async_trait]
impl Directory for UnavailableServices {
    async fn lookup_caller(&self, _: &str) -> Result<Vec<Resident>, ServiceError> {
        down()
    }
    async fn get_unit(&self, _: &str) -> Result<Option<Unit>, ServiceError> {
        down()
    }
    async fn find_unit(&self, _: Option<&str>, _: &str, _: &str, _: &str) -> Result<Option<Unit>, ServiceError> {
        down()
    }
    async fn get_estate(&self, _: &str) -> Result<Option<Estate>, ServiceError> {
        down()
    }
    async fn residents_of_unit(&self, _: &str) -> Result<Vec<Resident>, ServiceError> {
        down()
    }
    async fn warranty(&self, _: &str) -> Result<Vec<WarrantyItem>, ServiceError> {
        down()
    }
}

#[async_trait]
impl Billing for UnavailableServices {
    async fn bills(&self, _: &str, _: bool) -> Result<Vec<Bill>, ServiceError> {
        down()
    }
    async fn arrears(&self, _: &str) -> Result<i64, ServiceError> {
        down()
    }
    async fn payment_link(&self, _: &str) -> Result<String, ServiceError> {
        down()
    }
}

#[async_trait]
impl WorkOrders for UnavailableServices {
    async fn create(&self, _: NewOrder) -> Result<Order, ServiceError> {
        down()
    }
    async fn get(&self, _: &str) -> Result<Option<Order>, ServiceError> {
        down()
    }
    async fn list_for_unit(&self, _: &str, _: bool) -> Result<Vec<Order>, ServiceError> {
        down()
    }
    async fn rate(&self, _: &str, _: u8, _: Option<&str>) -> Result<Option<String>, ServiceError> {
        down()
    }
    async fn create_callback(&self, _: &str, _: &str, _: Option<&str>, _: &str) -> Result<String, ServiceError> {
        down()
    }
}

#[async_trait]
impl Notify for UnavailableServices {
    async fn send(&self, _: Channel, _: &str, _: &str) -> Result<String, ServiceError> {
        down()
    }
}

#[async_trait]
impl Kv for UnavailableServices {
    async fn get(&self, _: &str, _: &str) -> Result<Option<Vec<u8>>, ServiceError> {
        down()
    }
    async fn set(&self, _: &str, _: &str, _: Vec<u8>) -> Result<(), ServiceError> {
        down()
    }
    async fn delete(&self, _: &str, _: &str) -> Result<(), ServiceError> {
        down()
    }
    async fn increment(&self, _: &str, _: &str, _: i64) -> Result<i64, ServiceError> {
        down()
    }
}

#[async_trait]
impl Clock for UnavailableServices {
    async fn now(&self) -> String {
        chrono::Local::now().to_rfc3339_opts(chrono::SecondsFormat::Secs, false)
    }
    async fn is_open(&self, _: &str) -> bool {
        true
    }
    async fn next_open(&self, _: &str) -> String {
        self.now().await
    }
}

#[async_trait]
impl Content for UnavailableServices {
    async fn announcements(&self, _: Option<&str>) -> Vec<String> {
        Vec::new()
    }
    async fn kb_answer(&self, _: &str) -> Option<String> {
        None
    }
}
