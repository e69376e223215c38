//! `users`: accounts with locked passwords, groups, sudo policy, shells and checked SSH
//! keys; `host.default_user` decides whether the image's default user is created.
//! Groups a user joins are created by cloud-init when missing; listing them under
//! cloud-init's top-level `groups` would make it warn about every group that exists
//! already (and `cloud-init status` report "degraded" from 23.4 on).

use super::Ctx;
use crate::cloud_config::{User, UserEntry};
use crate::diag::{Code, Diagnostic};
use crate::source::{Span, Spanned};
use crate::spec::{DefaultUser, KeyRef, Os, SecretRef, SudoPolicy};

/// sudoers rule for `sudo: nopasswd`.
const NOPASSWD_RULE: &str = "ALL=(ALL) NOPASSWD:ALL";
/// sudoers rule for `sudo: password` where the OS family (and so its sudo group) is unknown.
const PASSWORD_RULE: &str = "ALL=(ALL) ALL";

/// The group whose members may use sudo with their password.
fn sudo_group(os: Os) -> Option<&'static str> {
    match os {
        Os::Debian | Os::Ubuntu => Some("sudo"),
        Os::Rhel | Os::Fedora => Some("wheel"),
        Os::Any => None,
    }
}

pub(super) fn compile(ctx: &mut Ctx) {
    let spec = ctx.spec;
    let mut entries = Vec::new();
    match (spec.host.default_user.value, spec.users.is_empty()) {
        // No `users` key at all: cloud-init creates the default user by itself.
        (DefaultUser::Keep, true) => return,
        (DefaultUser::Keep, false) => entries.push(UserEntry::Default),
        (DefaultUser::Remove, true) => {
            ctx.error(
                Diagnostic::error(
                    Code::InvalidValue,
                    "`default_user: remove` with no `users` leaves no account to log in with",
                )
                .with_span(spec.host.default_user.span)
                .with_hint("add a user under `users:`, or keep the default user"),
            );
            return;
        }
        (DefaultUser::Remove, false) => {}
    }
    for user in &spec.users {
        let u = &user.value;
        let mut member_of: Vec<String> = u.groups.iter().map(|g| g.value.clone()).collect();
        let sudo = match (u.sudo, sudo_group(ctx.os)) {
            (SudoPolicy::None, _) => None,
            (SudoPolicy::Nopasswd, _) => Some(NOPASSWD_RULE.to_string()),
            (SudoPolicy::Password, Some(group)) => {
                if !member_of.iter().any(|g| g == group) {
                    member_of.push(group.to_string());
                }
                None
            }
            (SudoPolicy::Password, None) => Some(PASSWORD_RULE.to_string()),
        };
        let keys = authorized_keys(ctx, &user.value.ssh_keys);
        let hashed_passwd = u.password.as_ref().and_then(|p| password_hash(ctx, p));
        ctx.prov.record(format!("/users/{}", entries.len()), user.span);
        entries.push(UserEntry::User(Box::new(User {
            name: u.name.value.clone(),
            gecos: u.gecos.as_ref().map(|g| g.value.clone()),
            groups: (!member_of.is_empty()).then(|| member_of.join(", ")),
            sudo,
            shell: u.shell.as_ref().map(|s| s.value.clone()),
            lock_passwd: hashed_passwd.is_none(),
            hashed_passwd,
            ssh_authorized_keys: keys,
        })));
    }
    ctx.prov.record("/users", ctx.spec_span());
    ctx.out.users = Some(entries);
}

/// The SHA-512 crypt hash of a user's password secret (validation has checked that the
/// secret is declared).
fn password_hash(ctx: &mut Ctx, password: &Spanned<SecretRef>) -> Option<String> {
    let name = &password.value.secret.value;
    ctx.used_secrets.insert(name.clone());
    let secret = ctx.secrets.get(name)?;
    crate::secrets::hash_password(secret, ctx.secrets.redacted)
        .map_err(|d| ctx.error(d.with_span(password.span)))
        .ok()
}

/// Every key line of a user, checked; problems are located at the line.
fn authorized_keys(ctx: &mut Ctx, refs: &[Spanned<KeyRef>]) -> Vec<String> {
    let mut keys = Vec::new();
    for r in refs {
        match &r.value {
            KeyRef::Inline(line) => {
                if let Some(k) = checked(ctx, line, r.span) {
                    keys.push(k);
                }
            }
            KeyRef::File(path) => {
                let path = Spanned::new(path.clone(), r.span);
                let text = match ctx.files.read_text(&path, "key file") {
                    Ok(t) => t,
                    Err(d) => {
                        ctx.error(d);
                        continue;
                    }
                };
                let id = ctx.sources.add(path.value.clone(), text.clone());
                if text.contains("PRIVATE KEY") {
                    let span = ctx.sources.begin_line(Span::whole(id, text.len()));
                    ctx.error(key_error(&crate::sshkey::KeyProblem::Private, span));
                    continue;
                }
                let mut offset = 0;
                let mut found = false;
                for raw in text.split_inclusive('\n') {
                    let line = raw.trim();
                    let span = Span::new(id, offset, offset + raw.trim_end().len());
                    offset += raw.len();
                    if line.is_empty() || line.starts_with('#') {
                        continue;
                    }
                    found = true;
                    if let Some(k) = checked(ctx, line, span) {
                        keys.push(k);
                    }
                }
                if !found {
                    ctx.error(
                        Diagnostic::error(Code::SshKey, format!("key file `{}` has no key", path.value))
                            .with_span(path.span)
                            .with_hint("name a `.pub` file with one key per line"),
                    );
                }
            }
        }
    }
    keys
}

fn checked(ctx: &mut Ctx, line: &str, span: Span) -> Option<String> {
    match crate::sshkey::check(line) {
        Ok(()) => Some(line.trim().to_string()),
        Err(problem @ crate::sshkey::KeyProblem::Private) => {
            // Point at the BEGIN line only: a snippet of the whole block would print
            // the private key.
            let span = ctx.sources.begin_line(span);
            ctx.error(key_error(&problem, span));
            None
        }
        Err(problem) => {
            ctx.error(key_error(&problem, span));
            None
        }
    }
}

fn key_error(problem: &crate::sshkey::KeyProblem, span: Span) -> Diagnostic {
    Diagnostic::error(Code::SshKey, problem.to_string())
        .with_span(span)
        .with_hint(problem.hint())
}
