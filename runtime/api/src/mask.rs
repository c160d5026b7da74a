//! Phone masking for roles that do not need full numbers (agents, plugin vendors).
//!
//! Applied to whole JSON responses: every value under a phone-bearing field name is masked, so a
//! new endpoint cannot leak numbers by forgetting to mask one field.

use courtyard_store::model::{Role, mask_phone};
use serde_json::Value;

/// Field names whose values are personal phone numbers.
const PHONE_FIELDS: &[&str] = &["phones", "caller", "number", "office_phone"];

/// Whether a role sees masked numbers by default.
pub fn masks(role: Role) -> bool {
    matches!(role, Role::Agent | Role::PluginVendor)
}

/// Mask phone fields in place, recursively.
pub fn mask_json(v: &mut Value) {
    match v {
        Value::Object(m) => {
            for (k, val) in m.iter_mut() {
                if PHONE_FIELDS.contains(&k.as_str()) {
                    mask_leaf(val);
                } else {
                    mask_json(val);
                }
            }
        }
        Value::Array(a) => a.iter_mut().for_each(mask_json),
        _ => {}
    }
}

fn mask_leaf(v: &mut Value) {
    match v {
        Value::String(s) => *s = mask_phone(s),
        Value::Array(a) => a.iter_mut().for_each(mask_leaf),
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn masks_nested_phone_fields_only() {
        let mut v = serde_json::json!({"residents":[{"name":"张伟","phones":["13800138000"]}],"caller":"13912345678","called":"4008123456"});
        mask_json(&mut v);
        assert_eq!(v["residents"][0]["phones"][0], "138****8000");
        assert_eq!(v["caller"], "139****5678");
        assert_eq!(v["called"], "4008123456");
        assert_eq!(v["residents"][0]["name"], "张伟");
    }
}
