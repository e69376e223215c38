//! `volumes` and `swap`. A volume becomes one early boot step (`bootcmd`, every boot,
//! idempotent) that waits for the device, makes a filesystem only when asked and only
//! on a device with no signature at all, adds one fstab line (by label, UUID or
//! device) and mounts it — before packages and files that may live on it. cloud-init's
//! own `mounts` module cannot mount by label, hence the step. The swap file uses
//! cloud-init's `swap` key.

use super::Ctx;
use crate::cloud_config::{Command, SwapFile};
use crate::diag::{Code, Diagnostic};
use crate::spec::{Filesystem, FormatPolicy};

/// The step's shell text: a constant; every value is passed as an argument.
const VOLUME_SCRIPT: &str = include_str!("../../templates/volume.sh");

pub(super) fn compile(ctx: &mut Ctx) {
    for volume in &ctx.spec.volumes {
        let v = &volume.value;
        let label = v.label.as_ref().map_or("", |l| l.value.as_str());
        let source = match (&v.label, &v.uuid) {
            (Some(l), _) => format!("LABEL={}", l.value),
            (None, Some(u)) => format!("UUID={}", u.value),
            (None, None) => v.device.value.clone(),
        };
        let format = match v.format {
            FormatPolicy::Never => "never",
            FormatPolicy::IfEmpty => "if_empty",
        };
        if v.format == FormatPolicy::IfEmpty && v.filesystem == Filesystem::Xfs {
            ctx.error(
                Diagnostic::warning(
                    Code::InvalidValue,
                    "formatting as xfs needs mkfs.xfs in the image",
                )
                .with_span(volume.span)
                .with_hint(
                    "the volume step runs before packages are installed: use an image with xfsprogs, or ext4",
                ),
            );
        }
        let options: Vec<&str> = v.options.iter().map(|o| o.value.as_str()).collect();
        let cmd = Command::argv([
            "sh",
            "-eu",
            "-c",
            VOLUME_SCRIPT,
            "ctxgen-volume",
            &v.device.value,
            v.filesystem.as_str(),
            format,
            label,
            &source,
            &v.mount.value,
            &options.join(","),
        ]);
        ctx.bootcmd(cmd, volume.span);
    }
    if let Some(swap) = &ctx.spec.swap {
        ctx.prov.record("/swap", swap.span);
        ctx.out.swap = Some(SwapFile {
            filename: swap.value.path.value.clone(),
            size: swap.value.size.value.clone(),
            maxsize: swap.value.size.value.clone(),
        });
    }
}
