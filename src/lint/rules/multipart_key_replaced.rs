//! CL013 `multipart-key-replaced`: two cloud-config parts set the same top-level key
//! and the later one has no merge settings.
//!
//! cloud-init merges cloud-config parts in order, each with the merge settings of the
//! part being merged in (its `Merge-Type` header or `merge_how`/`merge_type` key), or
//! else with its default, `dict(replace)+list()+str()`: a top-level key set again
//! replaces the earlier value whole, so an earlier part's `runcmd` or `packages`
//! silently disappear. Equal values are not reported.

use super::{entries, finding, str_of};
use crate::diag::Severity;
use crate::lint::{Finding, RuleMeta, Whole};
use crate::source::yaml11::to_json;

/// The rule.
pub struct MultipartKeyReplaced;

/// The rule's registry entry.
pub static RULE: MultipartKeyReplaced = MultipartKeyReplaced;

static META: RuleMeta = RuleMeta {
    code: "CL013",
    name: "multipart-key-replaced",
    default_severity: Severity::Warning,
    summary: "a later cloud-config part replaces a top-level key an earlier part set",
    why: "With no merge settings, cloud-init merges parts with `dict(replace)+list()+str()`: \
          when two parts both set `runcmd`, `packages` or `write_files`, only the later \
          part's list survives. The earlier part's commands and files vanish without a \
          warning, which is rarely what splitting user-data into parts meant.",
    example: "Content-Type: multipart/mixed; boundary=\"b\"\nMIME-Version: 1.0\n\n--b\nContent-Type: text/cloud-config\n\npackages: [nginx]\n--b\nContent-Type: text/cloud-config\n\npackages: [git]\n--b--\n",
    instead: "Merge the parts into one cloud-config, or ask for appending lists in the later \
              part, with a header or a key:\n\nMerge-Type: list(append)+dict(no_replace,recurse_list)+str()\n\n# or inside the part\nmerge_how:\n  - name: list\n    settings: [append]\n  - name: dict\n    settings: [no_replace, recurse_list]\n",
};

impl super::super::Rule for MultipartKeyReplaced {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }

    fn whole(&self, whole: &Whole<'_>, out: &mut Vec<Finding>) {
        for (j, (doc, merge)) in whole.docs.iter().enumerate() {
            if merge.is_some() {
                continue;
            }
            for (k, v) in entries(doc) {
                let Some(name) = str_of(k) else { continue };
                // A key that is itself a credential is CL001's, and is not quoted here.
                if matches!(name, "merge_how" | "merge_type")
                    || !super::credential_in_user_data::scan(name).is_empty()
                {
                    continue;
                }
                let earlier = whole.docs[..j].iter().enumerate().rev().find_map(|(i, (d, _))| {
                    entries(d)
                        .iter()
                        .find(|(ek, _)| str_of(ek) == Some(name))
                        .map(|(_, ev)| (i, ev))
                });
                let Some((i, earlier_value)) = earlier else {
                    continue;
                };
                if to_json(earlier_value) == to_json(v) {
                    continue;
                }
                out.push(finding(
                    &META,
                    format!(
                        "`{name}` in {} replaces `{name}` of {}: with no merge settings cloud-init keeps only the later value",
                        doc_label(whole, j),
                        doc_label(whole, i)
                    ),
                    k.span,
                    vec![super::key(name)],
                    Some(
                        "merge the parts, or give this part `Merge-Type: list(append)+dict(no_replace,recurse_list)+str()`"
                            .to_string(),
                    ),
                ));
            }
        }
    }
}

/// "part 2 (b.yaml)": the part that holds cloud-config document `i`.
fn doc_label(whole: &Whole<'_>, i: usize) -> String {
    let configs: Vec<_> = whole
        .parts
        .iter()
        .filter(|p| p.content_type == "text/cloud-config")
        .collect();
    match configs.get(i) {
        Some(part) if configs.len() == whole.docs.len() && part.index > 0 => super::part_label(part),
        _ => format!("cloud-config part {}", i + 1),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::lint::PartInfo;
    use crate::source::Sources;
    use crate::source::yaml11;

    fn run(texts: &[&str], merges: &[Option<&str>]) -> (Sources, Vec<Finding>) {
        let mut sources = Sources::new();
        let whole_file = sources.add("user-data", texts.join("\n"));
        let ids: Vec<_> = texts
            .iter()
            .enumerate()
            .map(|(i, t)| sources.add(format!("part {i}"), *t))
            .collect();
        let roots: Vec<_> = ids
            .iter()
            .map(|id| yaml11::load(&sources, *id).unwrap().root)
            .collect();
        let docs: Vec<_> = roots
            .iter()
            .zip(merges)
            .map(|(r, m)| (r, m.map(str::to_string)))
            .collect();
        let parts: Vec<PartInfo> = (0..texts.len())
            .map(|i| PartInfo {
                index: i + 1,
                filename: Some(format!("p{}.yaml", i + 1)),
                content_type: "text/cloud-config".to_string(),
            })
            .collect();
        let whole = Whole {
            sources: &sources,
            file: whole_file,
            raw_len: 0,
            compressed: false,
            base64: false,
            parts: &parts,
            docs: &docs,
            provider: None,
        };
        let mut out = Vec::new();
        RULE.whole(&whole, &mut out);
        (sources.clone(), out)
    }

    use crate::lint::Rule;

    #[test]
    fn a_later_part_replacing_a_key_is_found() {
        let (sources, found) = run(
            &[
                "packages: [nginx]\nruncmd: [a]\n",
                "hostname: x\n",
                "packages: [git]\nruncmd: [a]\n",
            ],
            &[None, None, None],
        );
        assert_eq!(found.len(), 1, "{found:?}");
        assert_eq!(
            found[0].message,
            "`packages` in part 3 (p3.yaml) replaces `packages` of part 1 (p1.yaml): with no merge settings cloud-init keeps only the later value"
        );
        let file = sources.get(found[0].span.file).unwrap();
        assert_eq!(&file.text[found[0].span.start..found[0].span.end], "packages");
    }

    #[test]
    fn merge_settings_or_distinct_keys_are_fine() {
        let (_, found) = run(
            &["packages: [nginx]\n", "packages: [git]\n", "runcmd: [b]\n"],
            &[
                None,
                Some("list(append)+dict(no_replace,recurse_list)+str()"),
                None,
            ],
        );
        assert!(found.is_empty());
    }
}
