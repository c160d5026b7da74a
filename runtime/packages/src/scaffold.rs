//! scaffold (placeholder while written)
/// opts
pub struct ScaffoldOptions;
/// new
pub fn new_plugin() {}
