//! `cvmfs`: the CernVM-FS client. The release package from CERN adds the package
//! repository and its key, the client is installed from it, `/etc/cvmfs/default.local`
//! sets repositories, proxy and cache quota, `cvmfs_config setup` configures autofs so
//! every repository mounts under /cvmfs on access, on this and every later boot, and
//! `cvmfs_config probe` proves each one mounts at first boot.

use super::Ctx;
use crate::cloud_config::{Command, WriteFile};

/// The install step's shell text: a constant; values are passed as arguments.
const INSTALL_SCRIPT: &str = include_str!("../../templates/cvmfs-install.sh");
/// CERN's release packages (documented in the CernVM-FS "Getting started" guide).
const RELEASE_DEB: &str = "https://ecsft.cern.ch/dist/cvmfs/cvmfs-release/cvmfs-release-latest_all.deb";
const RELEASE_RPM: &str = "https://ecsft.cern.ch/dist/cvmfs/cvmfs-release/cvmfs-release-latest.noarch.rpm";

pub(super) fn compile(ctx: &mut Ctx) {
    let Some(cvmfs) = &ctx.spec.cvmfs else {
        return;
    };
    let span = cvmfs.span;
    let c = &cvmfs.value;
    let (family, url) = if ctx.os.is_rpm() {
        ("dnf", RELEASE_RPM)
    } else {
        ("apt", RELEASE_DEB)
    };
    if family == "apt" {
        ctx.need_package("curl");
        ctx.need_package("ca-certificates");
    }
    let repos: Vec<&str> = c.repositories.iter().map(|r| r.value.as_str()).collect();
    let mut conf = format!(
        "# Written by ctxgen for `{}`: CernVM-FS client settings.\n\
         CVMFS_REPOSITORIES={}\n\
         CVMFS_HTTP_PROXY='{}'\n",
        ctx.spec.name.value,
        repos.join(","),
        c.http_proxy.value,
    );
    if let Some(q) = &c.quota_mb {
        conf.push_str(&format!("CVMFS_QUOTA_LIMIT={}\n", q.value));
    }
    ctx.write_file(WriteFile::root("/etc/cvmfs/default.local", conf, "0644"), span);
    ctx.runcmd(
        Command::argv(["sh", "-eu", "-c", INSTALL_SCRIPT, "ctxgen-cvmfs", family, url]),
        span,
    );
    ctx.runcmd(Command::argv(["cvmfs_config", "setup"]), span);
    let mut probe = vec!["cvmfs_config", "probe"];
    probe.extend(&repos);
    ctx.runcmd(Command::argv(probe), span);
}
