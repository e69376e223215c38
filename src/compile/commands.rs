//! `commands`: `every_boot` steps become `bootcmd` entries and `first_boot` steps
//! `runcmd` entries, one entry per step, in order. Argv lists are passed exactly
//! (cloud-init quotes each argument); shell steps run under `sh -eu -c`.

use super::Ctx;
use crate::cloud_config::Command;
use crate::source::Spanned;
use crate::spec::Step;

pub(super) fn compile(ctx: &mut Ctx) {
    let commands = &ctx.spec.commands;
    for step in &commands.every_boot {
        if let Some(cmd) = command(ctx, step) {
            ctx.bootcmd(cmd, step.span);
        }
    }
    for step in &commands.first_boot {
        if let Some(cmd) = command(ctx, step) {
            ctx.runcmd(cmd, step.span);
        }
    }
}

/// The cloud-init command of one step (`None` when its script cannot be read).
fn command(ctx: &mut Ctx, step: &Spanned<Step>) -> Option<Command> {
    match &step.value {
        Step::Argv(argv) => Some(Command::Argv(argv.clone())),
        Step::Shell(text) => Some(shell(text)),
        Step::Script(path) => {
            let path = Spanned::new(path.clone(), step.span);
            match ctx.files.read_text(&path, "script") {
                Ok(text) => Some(shell(&text)),
                Err(d) => {
                    ctx.error(d);
                    None
                }
            }
        }
    }
}

/// A shell step: `sh -eu -c TEXT`, so the first failing line or unset variable stops it.
pub(super) fn shell(text: &str) -> Command {
    Command::argv(["sh", "-eu", "-c", text])
}
