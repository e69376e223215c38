//! Modules PLACEHOLDER-RANGE.

use super::super::ty::*;

pub(super) fn modules() -> Vec<Module> {
    vec![]
}

pub(super) fn defs() -> Vec<(&'static str, Ty)> {
    vec![]
}
