//! OCI (placeholder while written).
/// Auth.
pub enum RegistryAuth { /// none
Anonymous }
/// push
pub async fn push() {}
/// pull
pub async fn pull() {}
