//! The vocabulary of ctxgen's cloud-config model: what a key may hold ([`Ty`]), the keys
//! of an object ([`Prop`]), and when each appeared, changed or was deprecated ([`Life`]).
//!
//! The model says what cloud-init's own validation accepts, release by release, so that
//! `check` gives the verdict `cloud-init schema` would give. It therefore speaks the
//! same language of constraints (types, required keys, closed objects, alternatives)
//! and evaluates them with the same rules (see `validate`), but it is written by hand
//! here, in these types, with descriptions of our own.
//!
//! Modules are written with the small builder functions at the end of this file:
//!
//! ```text
//! module("cc_timezone", "Timezone", [
//!     prop("timezone", string(), "The system timezone, as a zoneinfo name such as `Europe/Rome`."),
//! ])
//! ```

use serde_json::Value;

use super::Release;

/// One cloud-init config module (`cc_*`) and the top-level keys it reads.
#[derive(Debug, Clone)]
pub struct Module {
    /// cloud-init's module id, e.g. `cc_write_files`.
    pub id: &'static str,
    /// Human title, e.g. "Write Files".
    pub title: &'static str,
    pub keys: Vec<Prop>,
}

/// A named key of an object.
#[derive(Debug, Clone)]
pub struct Prop {
    pub name: &'static str,
    pub ty: Ty,
    /// What the key does, in our words (one or two sentences, Markdown).
    pub doc: &'static str,
    pub life: Life,
    /// The value cloud-init assumes when the key is absent (documentation only).
    pub default: Option<Value>,
}

/// Version facts of a key or of one alternative of a value.
#[derive(Debug, Clone, Default)]
pub struct Life {
    /// First release that knows it (None: before 22.4, i.e. always for ctxgen).
    pub added: Option<Release>,
    pub deprecated: Option<Deprecation>,
    /// Changes of meaning that cloud-init reports like deprecations.
    pub changed: Option<Change>,
    /// First release that no longer knows it.
    pub removed: Option<Release>,
}

/// `deprecated` in cloud-init's terms: still accepted, reported, to be dropped.
#[derive(Debug, Clone)]
pub struct Deprecation {
    /// The release that deprecated it. It may predate 22.4 (e.g. 22.2).
    pub since: Release,
    /// What to use instead, as a short sentence ("Use `package_update` instead.").
    pub note: &'static str,
}

/// `changed` in cloud-init's terms: the value form still works but means something
/// new, reported like a deprecation from `since` on.
#[derive(Debug, Clone)]
pub struct Change {
    pub since: Release,
    pub note: &'static str,
}

impl Life {
    /// Whether the key exists in `release`.
    pub fn exists_in(&self, release: Release) -> bool {
        self.added.is_none_or(|a| a <= release) && self.removed.is_none_or(|r| r > release)
    }

    /// The deprecation in force at `release`, if any.
    pub fn deprecated_in(&self, release: Release) -> Option<&Deprecation> {
        self.deprecated.as_ref().filter(|d| d.since <= release)
    }

    /// The change notice in force at `release`, if any.
    pub fn changed_in(&self, release: Release) -> Option<&Change> {
        self.changed.as_ref().filter(|c| c.since <= release)
    }

    fn is_plain(&self) -> bool {
        self.added.is_none() && self.deprecated.is_none() && self.changed.is_none() && self.removed.is_none()
    }
}

/// A JSON type, as cloud-init's validator (draft-04) names them. `string` also admits
/// YAML `!!binary` bytes; `integer` and `number` never admit booleans; `number` admits
/// integers; a YAML date or timestamp is none of these.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Null,
    Boolean,
    Integer,
    Number,
    String,
    Array,
    Object,
}

impl Kind {
    pub fn as_str(self) -> &'static str {
        match self {
            Kind::Null => "null",
            Kind::Boolean => "boolean",
            Kind::Integer => "integer",
            Kind::Number => "number",
            Kind::String => "string",
            Kind::Array => "array",
            Kind::Object => "object",
        }
    }
}

/// What a value may be.
#[derive(Debug, Clone)]
pub enum Ty {
    /// Anything at all.
    Any,
    Null,
    Bool,
    /// An integer, optionally bounded (inclusive).
    Int {
        min: Option<i64>,
        max: Option<i64>,
    },
    /// Any number (integers included), optionally bounded below (inclusive).
    Num {
        min: Option<f64>,
    },
    Str(Box<Str>),
    Array(Box<Array>),
    Object(Box<Object>),
    /// One of these literal values (booleans never equal numbers). With no type of its
    /// own: `"a"` fails only as "not one of".
    Enum(Vec<Value>),
    /// Exactly one alternative must hold (cloud-init's `oneOf`).
    OneOf(Vec<Ty>),
    /// At least one alternative must hold (`anyOf`).
    AnyOf(Vec<Ty>),
    /// Every part must hold (`allOf`), for a type plus an extra constraint.
    AllOf(Vec<Ty>),
    /// The part must not hold (`not`).
    Not(Box<Ty>),
    /// A value of one of several JSON types, each with its own constraints (a `type`
    /// list in JSON Schema): the member whose kind matches the value checks it. Every
    /// member must be a type-bearing variant (Null, Bool, Int, Num, Str, Array, Object)
    /// of a distinct kind.
    Union(Vec<Ty>),
    /// No type of its own: when the value is an object, these keys must be present.
    Requires(Vec<&'static str>),
    /// A named shared definition (see `modules::defs`).
    Ref(&'static str),
    /// The inner type, with version facts for whoever matches it (an alternative that
    /// was deprecated, or added later).
    Life(Box<Ty>, Box<Life>),
    /// A type that changed over releases: the entry with the greatest `from` not after
    /// the release being checked applies. Ordered by `from`, first entry usually 22.4.
    Since(Vec<(Release, Ty)>),
}

/// String constraints.
#[derive(Debug, Clone, Default)]
pub struct Str {
    pub min_len: Option<usize>,
    pub max_len: Option<usize>,
    /// A regular expression searched for anywhere in the string (Python `re.search`);
    /// anchor it with `^…$` to match the whole string.
    pub pattern: Option<&'static str>,
    /// Allowed values (an `enum` beside the type).
    pub one_of: Option<Vec<&'static str>>,
    pub format: Option<Format>,
}

/// String formats cloud-init's schema names. Which of them its validator really checks
/// depends on the Python packages installed; see `validate` for what ctxgen checks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    Hostname,
    Uri,
    Date,
}

impl Format {
    pub fn as_str(self) -> &'static str {
        match self {
            Format::Hostname => "hostname",
            Format::Uri => "uri",
            Format::Date => "date",
        }
    }
}

/// Array constraints.
#[derive(Debug, Clone, Default)]
pub struct Array {
    /// The type of every item (after `prefix`, when `prefix` is given and
    /// `extra_items` allows more).
    pub items: Option<Ty>,
    /// Types of the first items, position by position (a tuple).
    pub prefix: Vec<Ty>,
    /// With a `prefix`: whether items beyond it are allowed.
    pub extra_items: bool,
    pub min_items: Option<usize>,
    pub max_items: Option<usize>,
    pub unique: bool,
}

/// Object constraints.
#[derive(Debug, Clone)]
pub struct Object {
    pub props: Vec<Prop>,
    /// Keys matching a regular expression (searched, as in `Str::pattern`), with their
    /// type and a label naming them in docs.
    pub patterns: Vec<(&'static str, Ty)>,
    /// Keys neither named nor matched by a pattern.
    pub extra: Extra,
    pub required: Vec<&'static str>,
    pub min_props: Option<usize>,
}

/// What an object does with keys it does not name.
#[derive(Debug, Clone)]
pub enum Extra {
    /// Accepted, unchecked.
    Allow,
    /// Refused ("Additional properties are not allowed").
    Deny,
    /// Accepted when they hold this type.
    Ty(Box<Ty>),
}

// ---------------------------------------------------------------------------------
// Builders. Short names on purpose: the module files are long lists of these.

/// A module and its top-level keys.
pub fn module<const N: usize>(id: &'static str, title: &'static str, keys: [Prop; N]) -> Module {
    Module {
        id,
        title,
        keys: keys.into(),
    }
}

/// A key with its type and description.
pub fn prop(name: &'static str, ty: Ty, doc: &'static str) -> Prop {
    Prop {
        name,
        ty,
        doc,
        life: Life::default(),
        default: None,
    }
}

/// Parses `"24.1"` into a release, for version facts (any `YY.N`, not only known
/// releases: cloud-init deprecated keys as early as 20.x). Invalid text is a bug in the
/// model, caught by the model's own tests when they build it.
pub fn ver(s: &'static str) -> Release {
    let (y, m) = s.split_once('.').expect("version facts are written YY.N");
    Release::new(
        y.parse().expect("version year is a number"),
        m.parse().expect("version minor is a number"),
    )
}

impl Prop {
    pub fn added(mut self, v: &'static str) -> Self {
        self.life.added = Some(ver(v));
        self
    }
    pub fn removed(mut self, v: &'static str) -> Self {
        self.life.removed = Some(ver(v));
        self
    }
    pub fn deprecated(mut self, v: &'static str, note: &'static str) -> Self {
        self.life.deprecated = Some(Deprecation { since: ver(v), note });
        self
    }
    pub fn changed(mut self, v: &'static str, note: &'static str) -> Self {
        self.life.changed = Some(Change { since: ver(v), note });
        self
    }
    pub fn default(mut self, v: Value) -> Self {
        self.default = Some(v);
        self
    }
}

pub fn any() -> Ty {
    Ty::Any
}
pub fn null() -> Ty {
    Ty::Null
}
pub fn boolean() -> Ty {
    Ty::Bool
}
pub fn int() -> Ty {
    Ty::Int { min: None, max: None }
}
/// An integer within `min..=max` (either bound optional).
pub fn int_in(min: Option<i64>, max: Option<i64>) -> Ty {
    Ty::Int { min, max }
}
pub fn number() -> Ty {
    Ty::Num { min: None }
}
pub fn number_min(min: f64) -> Ty {
    Ty::Num { min: Some(min) }
}
pub fn string() -> Ty {
    Ty::Str(Box::default())
}
/// A string matching `pattern` (searched; anchor it for a full match).
pub fn pattern(pattern: &'static str) -> Ty {
    Ty::Str(Box::new(Str {
        pattern: Some(pattern),
        ..Str::default()
    }))
}
/// A string that is one of `values`.
pub fn str_enum<const N: usize>(values: [&'static str; N]) -> Ty {
    Ty::Str(Box::new(Str {
        one_of: Some(values.into()),
        ..Str::default()
    }))
}
/// A string with a `format`.
pub fn format(format: Format) -> Ty {
    Ty::Str(Box::new(Str {
        format: Some(format),
        ..Str::default()
    }))
}
/// One of these literal values, of any type.
pub fn lit<const N: usize>(values: [Value; N]) -> Ty {
    Ty::Enum(values.into())
}
/// A list of `items`.
pub fn array(items: Ty) -> Ty {
    Ty::Array(Box::new(Array {
        items: Some(items),
        ..Array::default()
    }))
}
/// A list whose items are not constrained.
pub fn array_any() -> Ty {
    Ty::Array(Box::default())
}
/// A list of exactly these positions, or more when `extra_items`.
pub fn tuple<const N: usize>(prefix: [Ty; N], extra_items: bool) -> Ty {
    Ty::Array(Box::new(Array {
        prefix: prefix.into(),
        extra_items,
        ..Array::default()
    }))
}
/// An object with these keys; other keys are accepted (see [`Ty::closed`]).
pub fn obj<const N: usize>(props: [Prop; N]) -> Ty {
    Ty::Object(Box::new(Object {
        props: props.into(),
        patterns: Vec::new(),
        extra: Extra::Allow,
        required: Vec::new(),
        min_props: None,
    }))
}
/// An object whose every value has type `values` (any key).
pub fn map_of(values: Ty) -> Ty {
    Ty::Object(Box::new(Object {
        props: Vec::new(),
        patterns: Vec::new(),
        extra: Extra::Ty(Box::new(values)),
        required: Vec::new(),
        min_props: None,
    }))
}
pub fn one_of<const N: usize>(alternatives: [Ty; N]) -> Ty {
    Ty::OneOf(alternatives.into())
}
pub fn any_of<const N: usize>(alternatives: [Ty; N]) -> Ty {
    Ty::AnyOf(alternatives.into())
}
pub fn all_of<const N: usize>(parts: [Ty; N]) -> Ty {
    Ty::AllOf(parts.into())
}
pub fn not(ty: Ty) -> Ty {
    Ty::Not(Box::new(ty))
}
/// A value of one of several JSON types, each checked by its own member.
pub fn union<const N: usize>(members: [Ty; N]) -> Ty {
    Ty::Union(members.into())
}
pub fn requires<const N: usize>(keys: [&'static str; N]) -> Ty {
    Ty::Requires(keys.into())
}
pub fn def(name: &'static str) -> Ty {
    Ty::Ref(name)
}
/// `old` until `from`, `new` from then on.
pub fn since(from: &'static str, new: Ty, old: Ty) -> Ty {
    Ty::Since(vec![(Release::OLDEST, old), (ver(from), new)])
}

impl Ty {
    /// Refuse keys the object does not name or match.
    pub fn closed(mut self) -> Self {
        self.object_mut().extra = Extra::Deny;
        self
    }
    /// Keys that must be present.
    pub fn required<const N: usize>(mut self, keys: [&'static str; N]) -> Self {
        self.object_mut().required.extend(keys);
        self
    }
    /// Keys matching `pattern` hold `ty`.
    pub fn pattern_props(mut self, pattern: &'static str, ty: Ty) -> Self {
        self.object_mut().patterns.push((pattern, ty));
        self
    }
    /// Other keys hold `ty`.
    pub fn extra(mut self, ty: Ty) -> Self {
        self.object_mut().extra = Extra::Ty(Box::new(ty));
        self
    }
    pub fn min_props(mut self, n: usize) -> Self {
        self.object_mut().min_props = Some(n);
        self
    }
    pub fn min_items(mut self, n: usize) -> Self {
        self.array_mut().min_items = Some(n);
        self
    }
    pub fn max_items(mut self, n: usize) -> Self {
        self.array_mut().max_items = Some(n);
        self
    }
    pub fn unique(mut self) -> Self {
        self.array_mut().unique = true;
        self
    }
    /// For tuples: the type of items past the prefix.
    pub fn rest(mut self, ty: Ty) -> Self {
        let a = self.array_mut();
        a.items = Some(ty);
        a.extra_items = true;
        self
    }
    pub fn min_len(mut self, n: usize) -> Self {
        self.str_mut().min_len = Some(n);
        self
    }
    pub fn max_len(mut self, n: usize) -> Self {
        self.str_mut().max_len = Some(n);
        self
    }
    /// This alternative is deprecated since `v`.
    pub fn deprecated(self, v: &'static str, note: &'static str) -> Self {
        self.with_life(|l| l.deprecated = Some(Deprecation { since: ver(v), note }))
    }
    /// This alternative changed meaning in `v`.
    pub fn changed(self, v: &'static str, note: &'static str) -> Self {
        self.with_life(|l| l.changed = Some(Change { since: ver(v), note }))
    }
    /// This alternative exists from `v` on.
    pub fn added(self, v: &'static str) -> Self {
        self.with_life(|l| l.added = Some(ver(v)))
    }
    /// This alternative no longer exists from `v` on.
    pub fn removed(self, v: &'static str) -> Self {
        self.with_life(|l| l.removed = Some(ver(v)))
    }

    fn with_life(self, edit: impl FnOnce(&mut Life)) -> Self {
        match self {
            Ty::Life(inner, mut life) => {
                edit(&mut life);
                Ty::Life(inner, life)
            }
            other => {
                let mut life = Life::default();
                edit(&mut life);
                debug_assert!(!life.is_plain());
                Ty::Life(Box::new(other), Box::new(life))
            }
        }
    }

    fn object_mut(&mut self) -> &mut Object {
        match self {
            Ty::Object(o) => o,
            Ty::Life(inner, _) => inner.object_mut(),
            other => panic!("model bug: object constraint on {other:?}"),
        }
    }

    fn array_mut(&mut self) -> &mut Array {
        match self {
            Ty::Array(a) => a,
            Ty::Life(inner, _) => inner.array_mut(),
            other => panic!("model bug: array constraint on {other:?}"),
        }
    }

    fn str_mut(&mut self) -> &mut Str {
        match self {
            Ty::Str(s) => s,
            Ty::Life(inner, _) => inner.str_mut(),
            other => panic!("model bug: string constraint on {other:?}"),
        }
    }

    /// For [`Ty::Since`] steps: the type in force at `release` (the first step for a
    /// release before all of them).
    pub fn step_for(steps: &[(Release, Ty)], release: Release) -> Option<&Ty> {
        steps
            .iter()
            .rev()
            .find(|(from, _)| *from <= release)
            .or(steps.first())
            .map(|(_, ty)| ty)
    }

    /// The JSON type this variant demands of a value, if it demands one.
    pub fn kind(&self) -> Option<Kind> {
        match self {
            Ty::Null => Some(Kind::Null),
            Ty::Bool => Some(Kind::Boolean),
            Ty::Int { .. } => Some(Kind::Integer),
            Ty::Num { .. } => Some(Kind::Number),
            Ty::Str(_) => Some(Kind::String),
            Ty::Array(_) => Some(Kind::Array),
            Ty::Object(_) => Some(Kind::Object),
            Ty::Life(inner, _) => inner.kind(),
            _ => None,
        }
    }
}
