//! `## template: jinja` parts: rendered as cloud-init would at boot, so that what they
//! render to can be checked.
//!
//! cloud-init renders with the instance's data (`/run/cloud-init/instance-data.json`):
//! the standardised `v1` keys, the datasource's own `ds` keys, and more. `check` has
//! no instance, so it renders against a stub with every standard `v1` key (hyphens as
//! underscores, as cloud-init offers them to templates) holding a placeholder, unless
//! `--instance-data FILE` gives real data. A name the data lacks is an error located
//! in the template (strict rendering), because at boot cloud-init would render a
//! `CI_MISSING_JINJA_VAR/` placeholder into the document instead.

use serde_json::{Value, json};

use crate::diag::Diagnostic;
use crate::render::{self, Origin};
use crate::source::{FileId, Sources};

/// The stub instance data: every standard `v1` key, with values that are valid where
/// cloud-config expects text.
fn stub() -> Value {
    let v1 = json!({
        "availability_zone": "zone-1",
        "cloud_id": "openstack",
        "cloud_name": "openstack",
        "distro": "debian",
        "distro_release": "trixie",
        "distro_version": "13",
        "instance_id": "i-00000000",
        "kernel_release": "6.12.0-0-cloud-amd64",
        "local_hostname": "instance-0",
        "machine": "x86_64",
        "platform": "openstack",
        "public_ssh_keys": [],
        "python_version": "3.13.0",
        "region": "region-1",
        "subplatform": "metadata (http://169.254.169.254)",
        "system_platform": "Linux",
        "variant": "debian",
    });
    json!({
        "v1": v1,
        "ds": {"meta_data": {}},
        "merged_cfg": {},
        "merged_system_cfg": {},
        "sys_info": {},
    })
}

/// Renders the part in file `id` (its whole text, first line included) and returns the
/// rendered text without the `## template: jinja` line.
pub fn render(sources: &Sources, id: FileId, data: Option<&Value>) -> Result<String, Diagnostic> {
    let text = sources.get(id).map(|f| f.text.as_str()).unwrap_or_default();
    let fallback: Value;
    let values = match data {
        Some(d) => d,
        None => {
            fallback = stub();
            &fallback
        }
    };
    let name = sources.get(id).map(|f| f.name.as_str()).unwrap_or("template");
    match render::render(sources, name, text, Origin::File(id), values) {
        Ok(out) => Ok(out
            .split_once('\n')
            .map(|(_, rest)| rest.to_string())
            .unwrap_or_default()),
        Err(mut d) => {
            d.hint = Some(
                "cloud-init renders this with the instance's data; `ctxgen check` uses a stub with the \
                 standard `v1` keys: pass the real data with `--instance-data FILE` or fix the name"
                    .to_string(),
            );
            Err(d)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn renders_against_the_stub_and_drops_the_header() {
        let mut sources = Sources::new();
        let id = sources.add(
            "t",
            "## template: jinja\n#cloud-config\nhostname: {{ v1.local_hostname }}\n",
        );
        assert_eq!(
            render(&sources, id, None).unwrap(),
            "#cloud-config\nhostname: instance-0\n"
        );
        let bad = sources.add(
            "u",
            "## template: jinja\n#cloud-config\nhostname: {{ v1.nope }}\n",
        );
        let d = render(&sources, bad, None).unwrap_err();
        assert_eq!(d.location(&sources).map(|l| l.1), Some(3));
    }
}
