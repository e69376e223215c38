//! Stage `cloud_config`: ctxgen's model of cloud-init's cloud-config, release by
//! release, and what is built on it.
//!
//! - `ty` and `modules`: every module of cloud-init 26.2 and the keys it reads, written
//!   by hand, with version facts back to 22.4 (added, deprecated, changed, removed);
//! - `validate`: checks a loaded document against the model for one release, with the
//!   verdicts and error paths `cloud-init schema` of that release gives (`check`);
//! - `gate`: checks what `build` generated, for every release of the target range,
//!   before it is written;
//! - `jsonschema`: the draft-07 schema for editors, for one release;
//! - `model` (the typed [`CloudConfig`] `compile` fills) and `release`.

mod gate;
pub mod jsonschema;
mod model;
pub mod modules;
mod release;
pub mod ty;
pub mod validate;

pub use gate::check;
pub use model::*;
pub use release::Release;
