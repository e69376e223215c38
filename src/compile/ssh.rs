//! `ssh`: password logins, root logins and host keys. cloud-init's own keys set the
//! policy and a drop-in makes sshd's effective configuration (`sshd -T`) agree even
//! where the image's sshd_config says otherwise.

use super::Ctx;
use crate::cloud_config::WriteFile;

/// sshd keeps the first value it reads for a keyword, and drop-ins are read in name
/// order at the top of sshd_config: this name sorts before cloud-init's
/// `50-cloud-init.conf` and distribution drop-ins.
pub const DROP_IN: &str = "/etc/ssh/sshd_config.d/01-ctxgen.conf";

pub(super) fn compile(ctx: &mut Ctx) {
    let ssh = &ctx.spec.ssh;
    let span = ctx.spec_span();
    ctx.out.ssh_pwauth = Some(ssh.password_authentication);
    ctx.out.disable_root = Some(!ssh.permit_root_login);
    ctx.out.ssh_deletekeys = Some(!ssh.keep_host_keys);
    if !ssh.keep_host_keys {
        ctx.out.ssh_genkeytypes = ["ed25519", "ecdsa", "rsa"].map(String::from).to_vec();
    }
    for key in [
        "/ssh_pwauth",
        "/disable_root",
        "/ssh_deletekeys",
        "/ssh_genkeytypes",
    ] {
        ctx.prov.record(key, span);
    }
    let yes_no = |b: bool| if b { "yes" } else { "no" };
    let root = match (ssh.permit_root_login, ssh.password_authentication) {
        (false, _) => "no",
        (true, false) => "prohibit-password",
        (true, true) => "yes",
    };
    let content = format!(
        "# Written by ctxgen for `{name}`: the SSH policy of the spec.\n\
         PasswordAuthentication {pw}\n\
         KbdInteractiveAuthentication {pw}\n\
         PermitRootLogin {root}\n",
        name = ctx.spec.name.value,
        pw = yes_no(ssh.password_authentication),
    );
    ctx.write_file(WriteFile::root(DROP_IN, content, "0644"), span);
}
