//! Stage `cloud_config`: the typed model of the cloud-init modules ctxgen emits, the
//! cloud-init releases it knows, and the gate that checks a generated document before
//! it is written.
//!
//! Input: a [`CloudConfig`] built by `compile`, and the target release range.
//! Output: findings against the model (keys absent from the oldest target release,
//! keys deprecated or removed within the range, values outside their domain). It does
//! not emit text; `emit` does.

mod gate;
pub mod jsonschema;
mod model;
pub mod modules;
mod release;
pub mod ty;
pub mod validate;

pub use gate::{Fact, check, facts};
pub use model::*;
pub use release::Release;
