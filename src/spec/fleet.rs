//! Roles and instances: which user-data a spec describes, and the spec of each.
//!
//! A spec without `roles:` or `instances:` describes one user-data. With roles, each
//! role is one user-data: the top level with the role's sections merged in (see
//! [`super::merge`]). With instances (in the spec, or a CSV or YAML file that replaces
//! them), each instance is one user-data: its role's, with its `vars` merged into
//! `vars`, and `instance.name`, `instance.index` and `instance.role` as template values.

use serde::Serialize;

use super::merge::{self, Assembled};
use super::{InstanceDecl, Parsed, Role};
use crate::diag::{Code, Diagnostic, Diagnostics};
use crate::source::yaml11::{self, Node, NodeKind};
use crate::source::{self, FileId, Sources, Span, Spanned};

/// The values templates see as `instance` while one instance is built.
#[derive(Debug, Clone, Serialize)]
pub struct InstanceValues {
    /// The instance's name.
    pub name: String,
    /// Its position in the list of instances, from 0.
    pub index: usize,
    /// Its role (none in a spec without roles).
    pub role: Option<String>,
}

/// One VM of the application.
#[derive(Debug, Clone)]
pub struct Instance {
    pub name: Spanned<String>,
    pub role: Option<Spanned<String>>,
    /// The `vars` mapping as written (spec, YAML file or CSV cells).
    vars: Option<Node>,
}

/// What a spec describes: its roles and its instances.
#[derive(Debug, Default)]
pub struct Layout {
    /// Role names, each with the span of its key.
    pub roles: Vec<Spanned<String>>,
    pub instances: Vec<Instance>,
    /// The spec as YAML nodes, for merging (loaded when there is something to merge).
    root: Option<Node>,
    /// The findings of the checks made once on the spec file.
    checked: Diagnostics,
}

/// One user-data a spec describes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Unit {
    /// The spec itself (no roles, no instances).
    Whole,
    /// Role number `n` of [`Layout::roles`].
    Role(usize),
    /// Instance number `n` of [`Layout::instances`].
    Instance(usize),
}

/// Which user-data to build of a spec that describes several.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Select {
    Role(String),
    Instance(String),
}

impl Layout {
    /// Every user-data the spec describes: one per instance, else one per role, else
    /// the spec itself.
    pub fn units(&self) -> Vec<Unit> {
        if !self.instances.is_empty() {
            (0..self.instances.len()).map(Unit::Instance).collect()
        } else if !self.roles.is_empty() {
            (0..self.roles.len()).map(Unit::Role).collect()
        } else {
            vec![Unit::Whole]
        }
    }

    /// The unit `select` names, or an error listing the names there are.
    pub fn select(&self, select: &Select) -> Result<Unit, Diagnostic> {
        let (what, name, names): (&str, &str, Vec<&str>) = match select {
            Select::Role(name) => (
                "role",
                name,
                self.roles.iter().map(|r| r.value.as_str()).collect(),
            ),
            Select::Instance(name) => (
                "instance",
                name,
                self.instances.iter().map(|i| i.name.value.as_str()).collect(),
            ),
        };
        if let Some(n) = names.iter().position(|n| n == &name) {
            return Ok(match select {
                Select::Role(_) => Unit::Role(n),
                Select::Instance(_) => Unit::Instance(n),
            });
        }
        Err(no_such(what, name, &names))
    }

    /// How a unit is named in file names and messages (`None` for the whole spec).
    pub fn unit_name(&self, unit: Unit) -> Option<&str> {
        match unit {
            Unit::Whole => None,
            Unit::Role(n) => self.roles.get(n).map(|r| r.value.as_str()),
            Unit::Instance(n) => self.instances.get(n).map(|i| i.name.value.as_str()),
        }
    }

    /// The role a unit plays.
    pub fn role_of(&self, unit: Unit) -> Option<&str> {
        match unit {
            Unit::Whole => None,
            Unit::Role(n) => self.roles.get(n).map(|r| r.value.as_str()),
            Unit::Instance(n) => self
                .instances
                .get(n)
                .and_then(|i| i.role.as_ref())
                .map(|r| r.value.as_str()),
        }
    }

    /// The template values of an instance.
    pub fn instance_values(&self, unit: Unit) -> Option<InstanceValues> {
        let Unit::Instance(n) = unit else { return None };
        let instance = self.instances.get(n)?;
        Some(InstanceValues {
            name: instance.name.value.clone(),
            index: n,
            role: instance.role.as_ref().map(|r| r.value.clone()),
        })
    }
}

/// The fields of a spec that say what it describes.
#[derive(serde::Deserialize)]
struct LayoutFields {
    #[serde(default)]
    roles: indexmap::IndexMap<String, Spanned<Role>>,
    #[serde(default)]
    instances: Vec<Spanned<InstanceDecl>>,
}

/// Reads what spec `id` describes. `instances`: a registered CSV or YAML file whose
/// instances replace the spec's.
pub fn layout(sources: &Sources, id: FileId, instances: Option<FileId>) -> Result<Layout, Diagnostics> {
    let one = |d: Diagnostic| Diagnostics(vec![d]);
    let checked = super::check_file(sources, id)?;
    let fields: LayoutFields = source::parse(sources, id).map_err(one)?;
    let load = || yaml11::load(sources, id).map(|l| l.root).map_err(one);
    let mut root = if fields.roles.is_empty() && fields.instances.is_empty() {
        None
    } else {
        Some(load()?)
    };
    let roles: Vec<Spanned<String>> = match root.as_ref().and_then(|r| section(r, "roles")) {
        Some(Node {
            kind: NodeKind::Map(entries),
            ..
        }) => entries
            .iter()
            .filter_map(|(k, _)| merge::key_text(k).map(|name| Spanned::new(name.to_string(), k.span)))
            .collect(),
        _ => Vec::new(),
    };
    let list = match instances {
        Some(file) => read_instances(sources, file)?,
        None => {
            let nodes = match root.as_ref().and_then(|r| section(r, "instances")) {
                Some(Node {
                    kind: NodeKind::Seq(items),
                    ..
                }) => items.clone(),
                _ => Vec::new(),
            };
            with_vars(fields.instances, &nodes)
        }
    };
    if roles.is_empty() && !list.iter().any(|i| i.vars.is_some()) {
        root = None;
    } else if root.is_none() {
        root = Some(load()?);
    }
    let layout = Layout {
        roles,
        instances: list,
        root,
        checked,
    };
    check(&layout)?;
    Ok(layout)
}

/// Pairs typed instances with their `vars` nodes.
fn with_vars(decls: Vec<Spanned<InstanceDecl>>, nodes: &[Node]) -> Vec<Instance> {
    decls
        .into_iter()
        .enumerate()
        .map(|(i, d)| Instance {
            name: d.value.name,
            role: d.value.role,
            vars: nodes.get(i).and_then(|n| section(n, "vars")).cloned(),
        })
        .collect()
}

/// The value of `key` in mapping `node`.
fn section<'a>(node: &'a Node, key: &str) -> Option<&'a Node> {
    match &node.kind {
        NodeKind::Map(entries) => entries
            .iter()
            .find(|(k, _)| merge::key_text(k) == Some(key))
            .map(|(_, v)| v),
        _ => None,
    }
}

/// Instances from a file: CSV (a header row with `name`, optionally `role`, and one
/// column per variable) when it ends in `.csv`, otherwise a YAML list of
/// `{ name, role, vars }`.
fn read_instances(sources: &Sources, file: FileId) -> Result<Vec<Instance>, Diagnostics> {
    let one = |d: Diagnostic| Diagnostics(vec![d]);
    let name = sources
        .get(file)
        .map(|f| f.name.to_ascii_lowercase())
        .unwrap_or_default();
    if name.ends_with(".csv") {
        return super::csv::instances(sources, file).map_err(one);
    }
    let decls: Vec<Spanned<InstanceDecl>> = source::parse(sources, file).map_err(one)?;
    let root = yaml11::load(sources, file).map_err(one)?.root;
    let nodes = match root.kind {
        NodeKind::Seq(items) => items,
        _ => Vec::new(),
    };
    Ok(with_vars(decls, &nodes))
}

/// A CSV row as an instance: `vars` from the cells of the variable columns.
pub(super) fn csv_instance(
    name: Spanned<String>,
    role: Option<Spanned<String>>,
    vars: Vec<((String, Span), (String, Span))>,
    row: Span,
) -> Instance {
    let vars = (!vars.is_empty()).then(|| {
        merge::map_node(
            vars.into_iter()
                .map(|((k, ks), (v, vs))| (merge::string_node(&k, ks), merge::string_node(&v, vs)))
                .collect(),
            row,
        )
    });
    Instance { name, role, vars }
}

/// Names and roles: unique, well formed, and every instance's role declared.
fn check(layout: &Layout) -> Result<(), Diagnostics> {
    let mut diags = Diagnostics::default();
    for role in &layout.roles {
        if !super::validate::is_name(&role.value) {
            diags.push(
                Diagnostic::error(
                    Code::InvalidValue,
                    format!("`{}` is not a valid role name", role.value),
                )
                .with_span(role.span)
                .with_hint("use lowercase letters, digits and `-` (at most 63), such as `web`"),
            );
        }
    }
    let mut seen = std::collections::HashSet::new();
    for instance in &layout.instances {
        let name = &instance.name;
        if !super::validate::is_name(&name.value) {
            diags.push(
                Diagnostic::error(Code::InvalidValue, format!("`{}` is not a valid instance name", name.value))
                    .with_span(name.span)
                    .with_hint("use lowercase letters, digits and `-` (at most 63), such as `web-01`; it names the user-data file"),
            );
        }
        if !seen.insert(name.value.as_str()) {
            diags.push(
                Diagnostic::error(
                    Code::InvalidValue,
                    format!("instance `{}` is listed twice", name.value),
                )
                .with_span(name.span)
                .with_hint("give every instance its own name"),
            );
        }
        match (&instance.role, layout.roles.is_empty()) {
            (None, false) => diags.push(
                Diagnostic::error(
                    Code::InvalidValue,
                    format!("instance `{}` has no role", name.value),
                )
                .with_span(name.span)
                .with_hint(format!("add `role:` with one of: {}", role_list(layout))),
            ),
            (Some(role), true) => diags.push(
                Diagnostic::error(
                    Code::InvalidValue,
                    format!(
                        "instance `{}` names role `{}`, but the spec has no roles",
                        name.value, role.value
                    ),
                )
                .with_span(role.span)
                .with_hint("remove `role`, or declare the role under `roles:`"),
            ),
            (Some(role), false) if !layout.roles.iter().any(|r| r.value == role.value) => {
                let names: Vec<&str> = layout.roles.iter().map(|r| r.value.as_str()).collect();
                diags.push(no_such("role", &role.value, &names).with_span(role.span));
            }
            _ => {}
        }
    }
    if diags.has_errors() { Err(diags) } else { Ok(()) }
}

/// "no role named `x`", with the names there are (and the nearest) as the hint.
fn no_such(what: &str, name: &str, names: &[&str]) -> Diagnostic {
    let hint = if names.is_empty() {
        format!("the spec has no {what}s")
    } else {
        let mut hint = format!("the {what}s are: {}", names[..names.len().min(10)].join(", "));
        if names.len() > 10 {
            hint.push_str(&format!(" and {} more", names.len() - 10));
        }
        if let Some(near) = source::did_you_mean(name, names.iter().copied()) {
            hint = format!("did you mean `{near}`? {hint}");
        }
        hint
    };
    Diagnostic::error(Code::InvalidValue, format!("no {what} named `{name}`")).with_hint(hint)
}

fn role_list(layout: &Layout) -> String {
    layout
        .roles
        .iter()
        .map(|r| r.value.as_str())
        .collect::<Vec<_>>()
        .join(", ")
}

/// Parses the spec of one unit: the spec itself, or the top level merged with the
/// unit's role and its instance's `vars`, read from an assembled text registered in
/// `sources` (its spans point into the user's files).
pub(super) fn parse_unit(
    sources: &mut Sources,
    id: FileId,
    layout: &Layout,
    unit: Unit,
) -> Result<Parsed, Diagnostics> {
    let role = layout.role_of(unit);
    let vars = match unit {
        Unit::Instance(n) => layout.instances.get(n).and_then(|i| i.vars.clone()),
        _ => None,
    };
    let instance = layout.instance_values(unit);
    let Some(root) = layout.root.as_ref().filter(|_| role.is_some() || vars.is_some()) else {
        return super::parse_text(sources, id, None, instance.as_ref(), layout.checked.clone());
    };
    let mut merged = root.clone();
    if let NodeKind::Map(entries) = &mut merged.kind {
        entries.retain(|(k, _)| !matches!(merge::key_text(k), Some("roles" | "instances")));
    }
    if let Some(role) = role {
        let body = section(root, "roles").and_then(|r| section(r, role));
        if let Some(body) = body.filter(|b| !matches!(b.kind, NodeKind::Null)) {
            check_role_body(body)?;
            merge::merge(&mut merged, body.clone());
        }
    }
    if let Some(vars) = vars {
        let key = merge::string_node("vars", vars.span);
        merge::merge(&mut merged, merge::map_node(vec![(key, vars.clone())], vars.span));
    }
    let Assembled { text, map } = merge::assemble(&merged);
    let spec_name = sources.get(id).map(|f| f.name.clone()).unwrap_or_default();
    let label = match (layout.unit_name(unit), unit) {
        (Some(name), Unit::Instance(_)) => format!("{spec_name} (instance {name})"),
        (Some(name), _) => format!("{spec_name} (role {name})"),
        (None, _) => spec_name,
    };
    let assembled = sources.add(label, text);
    super::parse_text(
        sources,
        assembled,
        Some(map),
        instance.as_ref(),
        layout.checked.clone(),
    )
}

/// A role cannot set what applies to the whole application.
fn check_role_body(body: &Node) -> Result<(), Diagnostics> {
    let NodeKind::Map(entries) = &body.kind else {
        return Err(Diagnostics(vec![
            Diagnostic::error(Code::SpecShape, "a role is a mapping of spec sections")
                .with_span(body.span)
                .with_hint("write the role's sections under it, such as `packages: { install: [nginx] }`"),
        ]));
    };
    let diags: Vec<Diagnostic> = entries
        .iter()
        .filter_map(|(k, _)| {
            let name = merge::key_text(k)?;
            super::APPLICATION_SECTIONS.contains(&name).then(|| {
                Diagnostic::error(
                    Code::SpecShape,
                    format!("a role cannot set `{name}`: it applies to the whole application"),
                )
                .with_span(k.span)
                .with_hint(format!("move `{name}` to the top level of the spec"))
            })
        })
        .collect();
    if diags.is_empty() {
        Ok(())
    } else {
        Err(Diagnostics(diags))
    }
}
