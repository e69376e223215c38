//! Credentials written into the spec itself: a spec is committed and shared, so a
//! private key block, a token or a password literal in it is an error whose hint says
//! to declare it under `secrets:`. The detectors are lint's (`CL001`); messages name
//! the kind of credential and never quote it.

use crate::diag::{Code, Diagnostic, Diagnostics};
use crate::lint::rules::credential_in_user_data::looks_like_credential;
use crate::source::yaml11::{self, Node, NodeKind};
use crate::source::{FileId, Sources};

/// Every string of the spec outside `secrets:` that looks like a credential. A spec
/// the YAML 1.1 loader cannot read is not scanned (the spec's own parser has already
/// read it, and reports what it finds).
pub fn check(sources: &Sources, id: FileId) -> Diagnostics {
    let mut diags = Diagnostics::default();
    let Ok(loaded) = yaml11::load(sources, id) else {
        return diags;
    };
    if let NodeKind::Map(entries) = &loaded.root.kind {
        for (key, value) in entries {
            if matches!(&key.kind, NodeKind::Str(k) if k == "secrets") {
                continue;
            }
            walk(sources, value, text_of(key), &mut diags);
        }
    }
    diags
}

fn text_of(node: &Node) -> Option<&str> {
    match &node.kind {
        NodeKind::Str(s) => Some(s),
        _ => None,
    }
}

fn walk(sources: &Sources, node: &Node, key: Option<&str>, diags: &mut Diagnostics) {
    match &node.kind {
        NodeKind::Str(value) => {
            // `{ secret: NAME }` names a secret; it is not one. SSH keys have their own
            // check, which says to use the public half. A key block is shown by its
            // first line only.
            if key == Some("secret") || key == Some("ssh_keys") {
                return;
            }
            if let Some(kind) = looks_like_credential(key, value) {
                diags.push(
                    Diagnostic::error(
                        Code::Secret,
                        format!("this looks like {kind}, written in the spec"),
                    )
                    .with_span(sources.begin_line(node.span))
                    .masked()
                    .with_hint(
                        "a spec is shared and committed: declare the credential under `secrets:` \
                             (from env, file or command) and use `{ secret: NAME }` or `{{ secrets.NAME }}`",
                    ),
                );
            }
        }
        NodeKind::Seq(items) => items.iter().for_each(|n| walk(sources, n, key, diags)),
        NodeKind::Map(entries) => {
            for (k, v) in entries {
                walk(sources, v, text_of(k), diags);
            }
        }
        _ => {}
    }
}
