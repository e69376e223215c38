//! `ctxgen check` and `ctxgen explain`: gathering inputs (files, folders, standard
//! input), checking them in parallel, printing one report in the chosen format, and the
//! exit code.

use std::collections::HashMap;
use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};

use anyhow::{Context, Result, bail};
use clap::ValueEnum;

use ctxgen::check::{self, Level, Options, Report, report};
use ctxgen::cloud_config::Release;
use ctxgen::lint;
use ctxgen::spec::Provider;

use super::{FINDINGS, USAGE};

#[derive(clap::Args)]
pub struct Args {
    /// Files, folders (searched recursively) or `-` for standard input.
    #[arg(required = true, value_name = "PATH")]
    paths: Vec<PathBuf>,
    /// The cloud-init release to judge by (22.4 ... 26.2).
    #[arg(long = "cloud-init", value_name = "VERSION", default_value = "26.2")]
    cloud_init: String,
    /// Output format.
    #[arg(long, value_enum, default_value_t = Format::Human)]
    format: Format,
    /// Fail (exit 1) on warnings too.
    #[arg(long)]
    strict: bool,
    /// The cloud whose user-data size budget applies.
    #[arg(long, value_enum)]
    provider: Option<Provider>,
    /// Instance data (JSON, as /run/cloud-init/instance-data.json) for jinja templates.
    #[arg(long, value_name = "FILE")]
    instance_data: Option<PathBuf>,
    /// Validate cloud-config against this JSON Schema file (e.g. cloud-init's own
    /// schema-cloud-config-v1.json) instead of ctxgen's model; errors only.
    #[arg(long, value_name = "FILE")]
    schema: Option<PathBuf>,
    /// Set a lint rule's severity: `RULE=off|warning|error` (code or name; repeatable).
    #[arg(long, value_name = "RULE=LEVEL")]
    severity: Vec<String>,
    /// Skip all lint rules (schema and syntax only).
    #[arg(long)]
    no_lint: bool,
    /// Files checked at once (default: the number of CPUs).
    #[arg(short, long, value_name = "N")]
    jobs: Option<usize>,
}

#[derive(Clone, Copy, PartialEq, Eq, ValueEnum)]
enum Format {
    /// rustc-style snippets, grouped by file, summary last.
    Human,
    /// One JSON document (see the README).
    Json,
    /// SARIF 2.1.0, for code scanning.
    Sarif,
    /// GitHub Actions workflow commands.
    Github,
    /// The source with `# E1` markers and a footer, like `cloud-init schema --annotate`.
    Annotate,
}

/// One input to check.
struct Input {
    /// As the user named it (or as found in a folder).
    name: String,
    path: Option<PathBuf>,
    /// Found by searching a folder: skipped quietly when it is not user-data.
    found: bool,
}

pub fn run(args: &Args, color: bool) -> Result<ExitCode> {
    let options = options(args)?;
    let mut inputs = Vec::new();
    for path in &args.paths {
        if path == Path::new("-") {
            inputs.push(Input {
                name: "<stdin>".into(),
                path: None,
                found: false,
            });
        } else if path.is_dir() {
            walk(path, &mut inputs).with_context(|| format!("cannot search `{}`", path.display()))?;
        } else {
            inputs.push(Input {
                name: path.display().to_string(),
                path: Some(path.clone()),
                found: false,
            });
        }
    }
    let jobs = args
        .jobs
        .unwrap_or_else(|| std::thread::available_parallelism().map_or(1, |n| n.get()))
        .clamp(1, 64);
    let results = check_all(&inputs, &options, jobs);

    let mut reports = Vec::new();
    let mut io_errors = Vec::new();
    let mut skipped = 0;
    for (input, result) in inputs.iter().zip(results) {
        match result {
            Ok(r) if input.found && !r.is_recognised() => skipped += 1,
            Ok(r) => reports.push(r),
            Err(e) => io_errors.push(format!("error: {e:#}")),
        }
    }
    let text = match args.format {
        Format::Human => report::human(&reports, skipped, color),
        Format::Json => report::json(&reports, skipped),
        Format::Sarif => report::sarif(&reports),
        Format::Github => report::github(&reports, skipped),
        Format::Annotate => report::annotate(&reports),
    };
    print!("{text}");
    for e in &io_errors {
        eprintln!("{e}");
    }
    let failed = reports
        .iter()
        .any(|r| r.findings.iter().any(|f| report::fails(f, args.strict)));
    Ok(if !io_errors.is_empty() {
        ExitCode::from(USAGE)
    } else if failed {
        ExitCode::from(FINDINGS)
    } else {
        ExitCode::SUCCESS
    })
}

fn options(args: &Args) -> Result<Options> {
    let Some(release) = Release::parse(&args.cloud_init) else {
        bail!(
            "unknown cloud-init release `{}`; known: {}",
            args.cloud_init,
            Release::known_list()
        );
    };
    let instance_data = match &args.instance_data {
        Some(path) => {
            let text =
                std::fs::read_to_string(path).with_context(|| format!("cannot read `{}`", path.display()))?;
            Some(
                serde_json::from_str(&text)
                    .with_context(|| format!("`{}` is not JSON instance data", path.display()))?,
            )
        }
        None => None,
    };
    let mut levels = HashMap::new();
    for rule in lint::rules::all() {
        if args.no_lint {
            levels.insert(rule.meta().code, Level::Off);
        }
    }
    for setting in &args.severity {
        let Some((rule, level)) = setting.split_once('=') else {
            bail!("`--severity {setting}`: write RULE=LEVEL, e.g. CL011=error or ssh-password-auth=off");
        };
        let Some(rule) = lint::find(rule.trim()) else {
            bail!("`--severity {setting}`: no lint rule `{rule}`; `ctxgen explain all` lists them");
        };
        let level = match level.trim().to_ascii_lowercase().as_str() {
            "off" | "allow" => Level::Off,
            "warning" | "warn" => Level::Warning,
            "error" | "deny" => Level::Error,
            other => bail!("`--severity {setting}`: unknown level `{other}`; use off, warning or error"),
        };
        levels.insert(rule.meta().code, level);
    }
    let schema = match &args.schema {
        Some(path) => {
            let text =
                std::fs::read_to_string(path).with_context(|| format!("cannot read `{}`", path.display()))?;
            let schema = check::external::ExternalSchema::from_json(&path.display().to_string(), &text)
                .map_err(anyhow::Error::msg)?;
            Some(std::sync::Arc::new(schema))
        }
        None => None,
    };
    Ok(Options {
        release,
        schema,
        provider: args.provider,
        instance_data,
        levels,
        base_dir: std::env::current_dir().context("cannot find the current folder")?,
    })
}

/// Checks every input on `jobs` threads; results in input order.
fn check_all(inputs: &[Input], options: &Options, jobs: usize) -> Vec<Result<Report>> {
    let next = AtomicUsize::new(0);
    let results: Mutex<Vec<Option<Result<Report>>>> = Mutex::new((0..inputs.len()).map(|_| None).collect());
    std::thread::scope(|scope| {
        for _ in 0..jobs.min(inputs.len().max(1)) {
            scope.spawn(|| {
                loop {
                    let i = next.fetch_add(1, Ordering::Relaxed);
                    let Some(input) = inputs.get(i) else { break };
                    let result = read(input).map(|bytes| check::check_bytes(&input.name, &bytes, options));
                    results.lock().unwrap_or_else(|e| e.into_inner())[i] = Some(result);
                }
            });
        }
    });
    results
        .into_inner()
        .unwrap_or_else(|e| e.into_inner())
        .into_iter()
        .map(|r| r.unwrap_or_else(|| Err(anyhow::anyhow!("internal: an input was not checked"))))
        .collect()
}

fn read(input: &Input) -> Result<Vec<u8>> {
    match &input.path {
        None => {
            let mut buf = Vec::new();
            std::io::stdin()
                .read_to_end(&mut buf)
                .context("cannot read standard input")?;
            Ok(buf)
        }
        Some(path) => std::fs::read(path).with_context(|| format!("cannot read `{}`", path.display())),
    }
}

/// Files under `dir` that may be user-data, sorted; hidden entries and symbolic links
/// are not followed.
fn walk(dir: &Path, inputs: &mut Vec<Input>) -> Result<()> {
    let mut stack = vec![dir.to_path_buf()];
    let mut found = Vec::new();
    while let Some(dir) = stack.pop() {
        for entry in std::fs::read_dir(&dir).with_context(|| format!("cannot list `{}`", dir.display()))? {
            let entry = entry?;
            let name = entry.file_name();
            let name = name.to_string_lossy();
            if name.starts_with('.') {
                continue;
            }
            let kind = entry.file_type()?;
            let path = entry.path();
            if kind.is_dir() {
                stack.push(path);
            } else if kind.is_file() && (by_name(&name) || by_content(&path)) {
                found.push(path);
            }
        }
    }
    found.sort();
    inputs.extend(found.into_iter().map(|path| Input {
        name: path.display().to_string(),
        path: Some(path),
        found: true,
    }));
    Ok(())
}

fn by_name(name: &str) -> bool {
    let lower = name.to_ascii_lowercase();
    [".yaml", ".yml", ".txt", ".cloud-config"]
        .iter()
        .any(|e| lower.ends_with(e))
        || lower.starts_with("user-data")
}

/// Whether the first bytes say user-data: gzip magic, a MIME header, or a first line
/// cloud-init recognises.
fn by_content(path: &Path) -> bool {
    let mut head = [0u8; 4096];
    let Ok(mut file) = std::fs::File::open(path) else {
        return false;
    };
    let n = file.read(&mut head).unwrap_or(0);
    let head = &head[..n];
    head.starts_with(&[0x1f, 0x8b])
        || String::from_utf8_lossy(head)
            .to_ascii_lowercase()
            .contains("mime-version:")
        || ctxgen::userdata::detect(head).is_some()
}

pub fn explain(code: &str) -> Result<ExitCode> {
    if code.eq_ignore_ascii_case("all") {
        for rule in lint::rules::all() {
            let m = rule.meta();
            println!(
                "{}  {:<32} {:<8} {}",
                m.code,
                m.name,
                severity_word(m.default_severity),
                m.summary
            );
        }
        return Ok(ExitCode::SUCCESS);
    }
    if let Some(rule) = lint::find(code) {
        let m = rule.meta();
        println!(
            "{} {} (default severity: {})\n\n{}\n\nWhy it is bad\n{}\n\nExample\n{}\n\nUse instead\n{}\n\n\
             Change its severity with `ctxgen check --severity {}=off|warning|error`.",
            m.code,
            m.name,
            severity_word(m.default_severity),
            m.summary,
            m.why,
            indent(m.example),
            m.instead,
            m.code
        );
        return Ok(ExitCode::SUCCESS);
    }
    let upper = code.to_ascii_uppercase();
    let summary = report::code_summary(&upper);
    if upper.starts_with("CG") && summary != report::code_summary("") {
        println!("{upper}: {summary}.");
        return Ok(ExitCode::SUCCESS);
    }
    eprintln!("error: no code or rule `{code}`; `ctxgen explain all` lists the lint rules");
    Ok(ExitCode::from(USAGE))
}

fn severity_word(s: ctxgen::Severity) -> &'static str {
    match s {
        ctxgen::Severity::Error => "error",
        ctxgen::Severity::Warning => "warning",
    }
}

fn indent(text: &str) -> String {
    text.lines()
        .map(|l| format!("    {l}"))
        .collect::<Vec<_>>()
        .join("\n")
}
