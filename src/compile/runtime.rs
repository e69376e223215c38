//! `runtime_secrets`: the boot step that fetches credentials on the VM itself.
//!
//! Emits, as root-only `write_files`: the program (`templates/runtime-secrets.py`,
//! standard-library python3, which exists wherever cloud-init runs), its JSON
//! configuration (address, items, where to write them), the bootstrap token (the one
//! credential in the user-data: single-use, refused by Vault once the VM has used it)
//! and the optional CA certificate. The first `runcmd` entry after `set -e` runs it, so
//! a failure stops the commands after it and shows in `cloud-init status`, and what
//! services and commands need is on disk before them. The program's own behaviour
//! (lookup, unwrap, retries, atomic writes, running once) is described in the README.

use serde_json::json;

use super::Ctx;
use super::files::encode;
use crate::cloud_config::{Command, WriteFile};
use crate::secrets::Secret;
use crate::spec::TokenKind;

const PROGRAM: &str = include_str!("../../templates/runtime-secrets.py");
const PROGRAM_PATH: &str = "/usr/local/lib/ctxgen/runtime-secrets.py";
const CONFIG_PATH: &str = "/etc/ctxgen/runtime-secrets.json";
const TOKEN_PATH: &str = "/etc/ctxgen/vault-token";
const CA_PATH: &str = "/etc/ctxgen/vault-ca.pem";
const STATE_PATH: &str = "/var/lib/ctxgen/runtime-secrets.done";
const DEFAULT_CREATION_PATH: &str = "auth/token/create";

pub(super) fn compile(ctx: &mut Ctx) {
    let Some(rt) = &ctx.spec.runtime_secrets else {
        return;
    };
    let vault = &rt.value.vault.value;
    let span = rt.span;

    let token_name = &vault.token.value.secret.value;
    ctx.used_secrets.insert(token_name.clone());
    let token = match ctx.secrets.get(token_name) {
        Some(secret) => secret.expose().to_string(),
        // Validation reports an undeclared name; keep going to report the rest.
        None => Secret::placeholder(token_name),
    };

    let ca_file = match &vault.ca {
        Some(ca) => match ctx.files.read_text(&ca.value.file, "CA certificate") {
            Ok(pem) if pem.contains("-----BEGIN CERTIFICATE-----") => {
                ctx.write_file(WriteFile::root(CA_PATH, pem, "0644"), ca.span);
                Some(CA_PATH)
            }
            Ok(_) => {
                ctx.error(crate::secrets::misuse(
                    ca.value.file.span,
                    format!("`{}` holds no PEM certificate", ca.value.file.value),
                    "give the CA certificate that signed Vault's TLS certificate, in PEM form",
                ));
                None
            }
            Err(d) => {
                ctx.error(d);
                None
            }
        },
        None => None,
    };

    let items: Vec<serde_json::Value> = vault
        .items
        .iter()
        .map(|item| {
            let i = &item.value;
            json!({
                "key": i.key.value,
                "field": i.field.value,
                "kv": i.kv.as_ref().map(|k| k.value),
                "dest": i.dest.value,
                "owner": i.owner.as_ref().map(|o| &o.value),
                "group": i.group.as_ref().map(|g| &g.value),
                "mode": i.mode.as_ref().map(|m| format!("{:0>4}", m.value)),
            })
        })
        .collect();
    let (kind, creation_path) = match vault.token_kind {
        TokenKind::Wrapped => (
            "wrapped",
            Some(
                vault
                    .creation_path
                    .as_ref()
                    .map_or(DEFAULT_CREATION_PATH, |p| p.value.as_str()),
            ),
        ),
        TokenKind::Locker => ("locker", None),
    };
    let config = json!({
        "address": vault.address.value,
        "ca_file": ca_file,
        "token_file": TOKEN_PATH,
        "token_kind": kind,
        "expected_creation_path": creation_path,
        "items": items,
        "state_file": STATE_PATH,
        "deadline_seconds": vault.deadline_seconds.as_ref().map_or(300, |d| d.value),
    });
    let mut config_text = serde_json::to_string_pretty(&config).unwrap_or_default();
    config_text.push('\n');

    let (encoding, program) = encode(PROGRAM.as_bytes());
    ctx.write_file(
        WriteFile {
            encoding,
            ..WriteFile::root(PROGRAM_PATH, program, "0700")
        },
        span,
    );
    ctx.write_file(WriteFile::root(CONFIG_PATH, config_text, "0600"), span);
    ctx.write_file(
        WriteFile::root(TOKEN_PATH, format!("{token}\n"), "0600"),
        vault.token.span,
    );
    ctx.runcmd(
        Command::Argv(vec!["python3".into(), PROGRAM_PATH.into(), CONFIG_PATH.into()]),
        span,
    );
}
