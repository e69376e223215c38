//! Command line: parses arguments (clap), reads inputs, calls the library, renders
//! diagnostics and sets the exit code: 0 success, 1 findings in the input, 2 usage or
//! I/O errors. The only module that prints, reads the environment or exits.

mod check;
mod output;
mod seed;

use std::io::{IsTerminal, Read, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::{Context, Result};
use clap::{Parser, Subcommand, ValueEnum};

use ctxgen::{BuildOptions, Sources};

/// Exit code: the input has findings (errors in the spec).
pub(crate) const FINDINGS: u8 = 1;
/// Exit code: usage or I/O error.
pub(crate) const USAGE: u8 = 2;

#[derive(Parser)]
#[command(
    name = "ctxgen",
    version,
    about = "The contextualization compiler for cloud-init",
    long_about = "Compiles an application spec into validated cloud-init user-data.\n\n\
                  Exit codes: 0 success, 1 the input has errors, 2 usage or I/O error."
)]
struct Cli {
    /// When to color diagnostics.
    #[arg(long, value_enum, default_value_t = Color::Auto, global = true)]
    color: Color,
    #[command(subcommand)]
    command: Commands,
}

#[derive(Clone, Copy, ValueEnum)]
enum Color {
    Auto,
    Always,
    Never,
}

#[derive(Subcommand)]
enum Commands {
    /// Compile a spec into user-data: #cloud-config, or what `output.format` and
    /// `output.compression` ask for (a MIME multipart, gzip, base64 for gcp).
    Build {
        /// The spec file (`-` reads standard input; local paths are then relative to
        /// the current folder).
        spec: PathBuf,
        /// Write the output here (atomically, mode 0600) instead of standard output.
        #[arg(short, long, value_name = "FILE")]
        output: Option<PathBuf>,
        /// Write every user-data of a spec with roles or instances into DIR: one
        /// `NAME.user-data` per instance (else per role), each atomically, mode 0600.
        #[arg(long, value_name = "DIR", conflicts_with_all = ["output", "json"])]
        out_dir: Option<PathBuf>,
        /// Print the compiled document as JSON instead of the user-data.
        #[arg(long)]
        json: bool,
        #[command(flatten)]
        how: BuildArgs,
    },
    /// Check user-data files, folders and specs as cloud-init would, plus lint.
    #[command(
        long_about = "Checks user-data (#cloud-config, multipart MIME, gzip, base64, \
        jinja templates, scripts, #include, archives) and ctxgen specs. Folders are searched \
        recursively for .yaml, .yml, .txt, user-data* and *.cloud-config files and for files \
        whose content is user-data; `-` reads standard input.\n\n\
        Exit codes: 0 no errors, 1 errors (or warnings with --strict), 2 usage or I/O error."
    )]
    Check(check::Args),
    /// Write a NoCloud seed (`user-data`, `meta-data`) for a spec: a folder, an ISO
    /// image (`.iso`) or a FAT image (`.img`), labelled `cidata`.
    #[command(long_about = seed::LONG_ABOUT)]
    Seed(seed::Args),
    /// Explain a diagnostic code or lint rule (`CL001`, `secret-file-mode`, `CG011`).
    Explain {
        /// The code or rule name; `all` lists every lint rule.
        code: String,
    },
    /// Print a JSON Schema.
    Schema {
        #[arg(value_enum)]
        which: SchemaKind,
        /// For `cloud-config`: the cloud-init release (22.4 ... 26.2).
        #[arg(long = "cloud-init", value_name = "VERSION", default_value = "26.2")]
        cloud_init: String,
    },
}

#[derive(Clone, Copy, ValueEnum)]
enum SchemaKind {
    /// The ctxgen spec (draft-07), as committed in schemas/ctxgen-spec.schema.json.
    Spec,
    /// cloud-config user-data (draft-07) for one cloud-init release, from ctxgen's model;
    /// schemas/cloud-config.schema.json is the one for 26.2.
    CloudConfig,
}

pub fn main() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) => {
            let _ = e.print();
            return if e.use_stderr() {
                ExitCode::from(USAGE)
            } else {
                ExitCode::SUCCESS
            };
        }
    };
    let color = match cli.color {
        Color::Always => true,
        Color::Never => false,
        Color::Auto => std::io::stderr().is_terminal() && std::env::var_os("NO_COLOR").is_none(),
    };
    match run(cli.command, color) {
        Ok(code) => code,
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::from(USAGE)
        }
    }
}

fn run(command: Commands, color: bool) -> Result<ExitCode> {
    match command {
        Commands::Build {
            spec,
            output,
            out_dir,
            json,
            how,
        } => match out_dir {
            Some(dir) => build_all(&spec, &dir, &how, color),
            None => build(&spec, output.as_deref(), json, &how, color),
        },
        Commands::Check(args) => check::run(&args, color),
        Commands::Seed(args) => seed::run(args, color),
        Commands::Explain { code } => check::explain(&code),
        Commands::Schema { which, cloud_init } => {
            match which {
                SchemaKind::Spec => print!("{}", ctxgen::schema::spec_schema_text()),
                SchemaKind::CloudConfig => {
                    let Some(release) = ctxgen::cloud_config::Release::parse(&cloud_init) else {
                        anyhow::bail!(
                            "unknown cloud-init release `{cloud_init}`; known: {}",
                            ctxgen::cloud_config::Release::known_list()
                        );
                    };
                    print!(
                        "{}",
                        ctxgen::cloud_config::jsonschema::cloud_config_schema_text(release)
                    );
                }
            }
            Ok(ExitCode::SUCCESS)
        }
    }
}

/// How a spec is compiled, for `build` and `seed`.
#[derive(clap::Args)]
pub(crate) struct BuildArgs {
    /// Let local files come from this folder (which must contain the spec's folder)
    /// instead of only the spec's folder.
    #[arg(long, value_name = "DIR")]
    pub files_dir: Option<PathBuf>,
    /// Replace built-in bootstrap templates (such as `ansible-pull.sh`) by the files of
    /// the same name in DIR. Every value is still written shell-quoted.
    #[arg(long, value_name = "DIR")]
    pub templates: Option<PathBuf>,
    /// Build without credentials: every secret's value is `<secret:NAME>` and no source
    /// is read (the output is the same at every run, for diffs and CI).
    #[arg(long)]
    pub redact: bool,
    /// Write the values of `generate` secrets to FILE (mode 0600, one `name: value`
    /// line each; for roles and instances, under a `NAME:` line each), for the operator.
    #[arg(long, value_name = "FILE", conflicts_with = "redact")]
    pub secrets_out: Option<PathBuf>,
    /// The instances of the application, replacing the spec's `instances:`: a CSV
    /// file (`.csv`: a header row with `name`, `role` and one column per variable) or a
    /// YAML list of `{ name, role, vars }`.
    #[arg(long, value_name = "FILE")]
    pub instances: Option<PathBuf>,
    /// Build this role of the spec (the top level with the role merged in).
    #[arg(long, value_name = "NAME", conflicts_with = "instance")]
    pub role: Option<String>,
    /// Build this instance of the spec (or of `--instances`).
    #[arg(long, value_name = "NAME")]
    pub instance: Option<String>,
}

/// How secrets get their values: from their sources (the environment for `env`), or
/// redacted.
pub(crate) fn secrets_mode(redact: bool) -> ctxgen::secrets::SecretsMode {
    if redact {
        ctxgen::secrets::SecretsMode::Redact
    } else {
        ctxgen::secrets::SecretsMode::Resolve(std::sync::Arc::new(|name| std::env::var(name).ok()))
    }
}

fn build(spec: &Path, output: Option<&Path>, json: bool, how: &BuildArgs, color: bool) -> Result<ExitCode> {
    let artifact = match compile(spec, how, false, color)? {
        Ok(mut artifacts) => match artifacts.pop() {
            Some(artifact) => artifact,
            None => return Ok(ExitCode::from(FINDINGS)),
        },
        Err(code) => return Ok(code),
    };
    if let Some(path) = &how.secrets_out {
        write_secrets_out(path, std::slice::from_ref(&artifact))?;
    }
    // `--json` prints the document; otherwise the payload the provider receives
    // (`output.format`, `output.compression`), which may be binary (gzip).
    let payload = if json {
        ctxgen::emit::to_json(&artifact.json).into_bytes()
    } else {
        artifact.bytes
    };
    match output {
        Some(path) => output::write_atomic(path, &payload)?,
        None if !json
            && artifact.delivery.gzip
            && !artifact.delivery.base64
            && std::io::stdout().is_terminal() =>
        {
            anyhow::bail!(
                "the output is gzip-compressed (binary); write it with `-o FILE` or redirect standard output"
            );
        }
        None => {
            let mut stdout = std::io::stdout().lock();
            stdout
                .write_all(&payload)
                .and_then(|()| stdout.flush())
                .context("cannot write to standard output")?;
        }
    }
    Ok(ExitCode::SUCCESS)
}

/// `build --out-dir DIR`: every user-data of the spec, one file each. Nothing is
/// written unless every one compiles.
fn build_all(spec: &Path, dir: &Path, how: &BuildArgs, color: bool) -> Result<ExitCode> {
    let artifacts = match compile(spec, how, true, color)? {
        Ok(artifacts) => artifacts,
        Err(code) => return Ok(code),
    };
    std::os::unix::fs::DirBuilderExt::mode(std::fs::DirBuilder::new().recursive(true), 0o700)
        .create(dir)
        .with_context(|| format!("cannot create the folder `{}`", dir.display()))?;
    for artifact in &artifacts {
        let name = artifact.unit.as_deref().unwrap_or(&artifact.name);
        output::write_atomic(&dir.join(format!("{name}.user-data")), &artifact.bytes)?;
    }
    if let Some(path) = &how.secrets_out {
        write_secrets_out(path, &artifacts)?;
    }
    eprintln!(
        "wrote {} user-data file{} to `{}`",
        artifacts.len(),
        if artifacts.len() == 1 { "" } else { "s" },
        dir.display()
    );
    Ok(ExitCode::SUCCESS)
}

/// Writes the values of `generate` secrets to `path` (`--secrets-out`): `name: value`
/// lines, under a `UNIT:` line for each role or instance.
pub(crate) fn write_secrets_out(path: &Path, artifacts: &[ctxgen::Artifact]) -> Result<()> {
    let mut manifest = String::new();
    for artifact in artifacts {
        let indent = match &artifact.unit {
            Some(unit) => {
                manifest.push_str(&format!("{unit}:\n"));
                "  "
            }
            None => "",
        };
        for s in &artifact.generated {
            manifest.push_str(&format!(
                "{indent}{}: {}\n",
                s.name(),
                serde_json::Value::from(s.expose())
            ));
        }
    }
    output::write_atomic(path, manifest.as_bytes())
}

/// Reads and compiles `spec` (`-`: standard input): every user-data it describes
/// (`all`), or the one selected, printing warnings; or printing the diagnostics and
/// returning `Err` with the exit code to end with.
pub(crate) fn compile(
    spec: &Path,
    how: &BuildArgs,
    all: bool,
    color: bool,
) -> Result<Result<Vec<ctxgen::Artifact>, ExitCode>> {
    let (name, bytes, base) = if spec == Path::new("-") {
        let mut buf = Vec::new();
        std::io::stdin()
            .read_to_end(&mut buf)
            .context("cannot read the spec from standard input")?;
        (
            String::from("<stdin>"),
            buf,
            std::env::current_dir().context("cannot find the current folder")?,
        )
    } else {
        let bytes = std::fs::read(spec).with_context(|| format!("cannot read `{}`", spec.display()))?;
        let base = spec
            .parent()
            .filter(|p| !p.as_os_str().is_empty())
            .unwrap_or(Path::new("."));
        (spec.display().to_string(), bytes, base.to_path_buf())
    };
    let Ok(text) = String::from_utf8(bytes) else {
        eprintln!("error: `{name}` is not UTF-8 text\n  = help: save the spec as UTF-8");
        return Ok(Err(ExitCode::from(FINDINGS)));
    };
    let mut sources = Sources::new();
    let id = sources.add(name, text);
    let mut options = BuildOptions::new(base);
    options.files_root.clone_from(&how.files_dir);
    options.templates_dir.clone_from(&how.templates);
    options.secrets = secrets_mode(how.redact);
    if let Some(path) = &how.instances {
        let text =
            std::fs::read_to_string(path).with_context(|| format!("cannot read `{}`", path.display()))?;
        options.instances = Some(sources.add(path.display().to_string(), text));
    }
    options.select = match (&how.role, &how.instance) {
        (Some(role), _) => Some(ctxgen::spec::Select::Role(role.clone())),
        (None, Some(instance)) => Some(ctxgen::spec::Select::Instance(instance.clone())),
        (None, None) => None,
    };
    if let Some(select) = &options.select
        && let Ok(layout) = ctxgen::spec::layout(&sources, id, options.instances)
        && let Err(d) = layout.select(select)
    {
        anyhow::bail!(
            "{}",
            d.message.clone() + &d.hint.map(|h| format!("; {h}")).unwrap_or_default()
        );
    }
    let built = if all {
        ctxgen::build_all(&mut sources, id, &options)
    } else {
        ctxgen::build(&mut sources, id, &options).map(|a| vec![a])
    };
    match built {
        Ok(artifacts) => {
            let warnings = artifacts
                .iter()
                .map(|a| (a.unit.clone().unwrap_or_default(), a.warnings.clone()))
                .collect();
            eprint!(
                "{}",
                ctxgen::Diagnostics::of_units(warnings).render(&sources, color)
            );
            let notes: std::collections::BTreeSet<&String> =
                artifacts.iter().flat_map(|a| &a.delivery.notes).collect();
            for note in notes {
                eprintln!("note: {note}");
            }
            Ok(Ok(artifacts))
        }
        Err(diagnostics) => {
            eprint!("{}", diagnostics.render(&sources, color));
            let errors = diagnostics.iter().filter(|d| d.is_error()).count();
            eprintln!(
                "error: could not compile `{}`: {errors} error{}",
                spec.display(),
                if errors == 1 { "" } else { "s" }
            );
            Ok(Err(ExitCode::from(FINDINGS)))
        }
    }
}
