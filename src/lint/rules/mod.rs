//! The lint rules, one a file. `all()` lists them in code order.

use super::Rule;

/// Every rule, in code order.
pub fn all() -> &'static [&'static dyn Rule] {
    &[]
}
