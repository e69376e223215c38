//! The model itself: every cloud-init module of 26.2 and the keys it reads, written by
//! hand in the vocabulary of `ty`, with version facts back to 22.4.
//!
//! The modules are split over a few files by name, alphabetically; shared definitions
//! (a user, an apt source) live with the module that owns them and are reached with
//! [`def`](super::ty::def). Facts (names, types, allowed values, versions) come from
//! cloud-init's documentation and the schema files of its Debian packages, read by a
//! person; descriptions are ours.

use std::collections::{BTreeMap, HashMap};
use std::sync::LazyLock;

use super::ty::{Module, Prop, Ty};

mod a_to_d;
mod base;
mod f_to_p;
mod r_to_t;
mod u_to_z;

/// All modules, their top-level keys and the shared definitions.
#[derive(Debug)]
pub struct Model {
    pub modules: Vec<Module>,
    defs: BTreeMap<&'static str, Ty>,
    /// Top-level key name → (module index, key index), in module order.
    top: HashMap<&'static str, Vec<(usize, usize)>>,
}

impl Model {
    fn build() -> Model {
        let modules = [
            a_to_d::modules(),
            f_to_p::modules(),
            r_to_t::modules(),
            u_to_z::modules(),
            base::modules(),
        ]
        .into_iter()
        .flatten();
        let defs = [
            a_to_d::defs(),
            f_to_p::defs(),
            r_to_t::defs(),
            u_to_z::defs(),
            base::defs(),
        ]
        .into_iter()
        .flatten();
        Model::new(modules, defs)
    }

    /// A model of the given modules and definitions.
    pub fn new(
        modules: impl IntoIterator<Item = Module>,
        defs: impl IntoIterator<Item = (&'static str, Ty)>,
    ) -> Model {
        let modules: Vec<Module> = modules.into_iter().collect();
        let mut defs_map = BTreeMap::new();
        for (name, ty) in defs {
            let previous = defs_map.insert(name, ty);
            assert!(previous.is_none(), "model bug: definition `{name}` twice");
        }
        let mut top: HashMap<&'static str, Vec<(usize, usize)>> = HashMap::new();
        for (m, module) in modules.iter().enumerate() {
            for (k, key) in module.keys.iter().enumerate() {
                top.entry(key.name).or_default().push((m, k));
            }
        }
        Model {
            modules,
            defs: defs_map,
            top,
        }
    }

    /// The definitions of top-level key `name` (usually one; a key read by two modules
    /// has two, and a value must satisfy both).
    pub fn top_level<'a>(&'a self, name: &str) -> impl Iterator<Item = &'a Prop> + 'a {
        self.top
            .get(name)
            .into_iter()
            .flatten()
            .map(|&(m, k)| &self.modules[m].keys[k])
    }

    /// Every top-level key name, sorted.
    pub fn top_level_names(&self) -> impl Iterator<Item = &'static str> + '_ {
        let mut names: Vec<&'static str> = self.top.keys().copied().collect();
        names.sort_unstable();
        names.into_iter()
    }

    /// A shared definition by name.
    pub fn def(&self, name: &str) -> Option<&Ty> {
        self.defs.get(name)
    }

    /// All shared definitions, by name.
    pub fn defs(&self) -> impl Iterator<Item = (&'static str, &Ty)> {
        self.defs.iter().map(|(k, v)| (*k, v))
    }
}

/// The model, built once.
pub fn model() -> &'static Model {
    static MODEL: LazyLock<Model> = LazyLock::new(Model::build);
    &MODEL
}
