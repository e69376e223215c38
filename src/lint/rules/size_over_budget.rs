//! CL014 `size-over-budget`: the user-data is larger than the provider accepts.
//!
//! Budgets, in bytes of what the provider receives (SPEC.md): aws 16384 as given;
//! openstack 65535 after base64 encoding (4 bytes for every 3, rounded up); azure
//! 65535; gcp 262144; oci 32000; nocloud and generic none. Only checked when a
//! provider is given. The table is [`Budget`], which `ctxgen build` also uses.

use super::finding;
use crate::diag::Severity;
use crate::lint::{Finding, RuleMeta, Whole};
use crate::source::Span;
use crate::userdata::write::Budget;

/// The rule.
pub struct SizeOverBudget;

/// The rule's registry entry.
pub static RULE: SizeOverBudget = SizeOverBudget;

static META: RuleMeta = RuleMeta {
    code: "CL014",
    name: "size-over-budget",
    default_severity: Severity::Error,
    summary: "the user-data is larger than the cloud provider accepts",
    why: "Every provider caps user-data: EC2 at 16 KiB, OpenStack Nova at 64 KiB of \
          base64 (about 48 KiB of user-data), Azure at 64 KiB, OCI at 32000 bytes, GCE \
          at 256 KiB. Too large, the API refuses to create the VM, or (with some tools) \
          the data is cut and cloud-init fails on what is left.",
    example: "# 70 KB of write_files content, sent to OpenStack\n",
    instead: "Compress it: cloud-init reads gzip-compressed user-data as is, and `ctxgen \
              build` gzips when over budget (`output.compression: auto` or `gzip`). If it \
              is still too large, fetch big files at boot (packages, `git clone`, an \
              object store) instead of inlining them.",
};

impl super::super::Rule for SizeOverBudget {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }

    fn whole(&self, whole: &Whole<'_>, out: &mut Vec<Finding>) {
        let Some(budget) = whole.provider.and_then(Budget::of) else {
            return;
        };
        let (limit, encoded, name) = (budget.limit, budget.counts_base64, budget.provider);
        let size = budget.measure(whole.raw_len);
        if size <= limit {
            return;
        }
        let measured = if encoded {
            format!("{} bytes, {size} once base64-encoded", whole.raw_len)
        } else {
            format!("{size} bytes")
        };
        let message = format!(
            "the user-data is {measured}, over {name}'s limit of {limit} bytes{}",
            if encoded { " (counted after base64)" } else { "" }
        );
        let hint = if whole.compressed {
            "it is already gzip-compressed: fetch large files at boot instead of inlining them, or split the VM's roles"
        } else {
            "gzip it: cloud-init reads compressed user-data, and `ctxgen build` compresses when over budget (`output.compression: auto` or `gzip`)"
        };
        let first_line = whole
            .sources
            .get(whole.file)
            .map_or(0, |f| f.text.find('\n').unwrap_or(f.text.len()));
        out.push(finding(
            &META,
            message,
            Span::new(whole.file, 0, first_line),
            Vec::new(),
            Some(hint.to_string()),
        ));
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::lint::Rule;
    use crate::source::Sources;
    use crate::spec::Provider;

    fn run(provider: Option<Provider>, raw_len: usize, compressed: bool) -> Vec<Finding> {
        let mut sources = Sources::new();
        let file = sources.add("user-data", "#cloud-config\nhostname: x\n");
        let whole = Whole {
            sources: &sources,
            file,
            raw_len,
            compressed,
            base64: false,
            parts: &[],
            docs: &[],
            provider,
        };
        let mut out = Vec::new();
        RULE.whole(&whole, &mut out);
        out
    }

    #[test]
    fn budgets() {
        assert!(run(Some(Provider::Aws), 16384, false).is_empty());
        let found = run(Some(Provider::Aws), 16385, false);
        assert_eq!(
            found[0].message,
            "the user-data is 16385 bytes, over aws's limit of 16384 bytes"
        );
        assert!(found[0].hint.as_deref().unwrap().starts_with("gzip it"));
        assert_eq!((found[0].span.start, found[0].span.end), (0, 13));
        // 49149 bytes encode to 65532; 49150 and more to 65536, one over.
        assert!(run(Some(Provider::Openstack), 49149, false).is_empty());
        let found = run(Some(Provider::Openstack), 49152, true);
        assert_eq!(
            found[0].message,
            "the user-data is 49152 bytes, 65536 once base64-encoded, over openstack's limit of 65535 bytes (counted after base64)"
        );
        assert!(found[0].hint.as_deref().unwrap().starts_with("it is already"));
        assert!(run(Some(Provider::Generic), 10 << 20, false).is_empty());
        assert!(run(None, 10 << 20, false).is_empty());
        assert_eq!(run(Some(Provider::Oci), 32001, false).len(), 1);
        assert_eq!(run(Some(Provider::Gcp), 262_145, false).len(), 1);
        assert_eq!(run(Some(Provider::Azure), 65536, false).len(), 1);
    }
}
