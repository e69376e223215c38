//! Stage `render`: file contents from templates, with minijinja in strict mode.
//!
//! Input: template text, where it came from (a file registered in `Sources`, or the
//! span of an inline `content:`), and the template values (`vars`, and later secrets
//! and instance values). Output: the rendered text, or a located diagnostic: an unknown
//! name or a syntax error points at the template line. Templates make file contents
//! only; documents are never built from text.

use minijinja::{Environment, UndefinedBehavior};
use serde::Serialize;

use crate::diag::{Code, Diagnostic};
use crate::source::{FileId, Sources, Span};

/// Where a template's text lives, for locating errors.
#[derive(Clone, Copy, Debug)]
pub enum Origin {
    /// A whole registered file (a `source:` template): errors point into it.
    File(FileId),
    /// Inline text in the spec: errors point at the field, and name the line.
    Inline(Span),
}

/// A strict environment that keeps a template's final line break and never escapes;
/// `script`: block tags take their line with them (shell templates).
fn environment(script: bool) -> Environment<'static> {
    let mut env = Environment::new();
    env.set_undefined_behavior(UndefinedBehavior::Strict);
    if let Ok(syntax) = minijinja::syntax::SyntaxConfig::builder()
        .keep_trailing_newline(true)
        .trim_blocks(script)
        .lstrip_blocks(script)
        .build()
    {
        env.set_syntax(syntax);
    }
    env.set_auto_escape_callback(|_| minijinja::AutoEscape::None);
    env
}

/// Renders `text` with `values` in strict mode.
pub fn render<V: Serialize>(
    sources: &Sources,
    name: &str,
    text: &str,
    origin: Origin,
    values: &V,
) -> Result<String, Diagnostic> {
    run(&environment(false), sources, name, text, origin, values)
}

/// Renders `text` in `env`, locating a failure.
fn run<V: Serialize>(
    env: &Environment<'_>,
    sources: &Sources,
    name: &str,
    text: &str,
    origin: Origin,
    values: &V,
) -> Result<String, Diagnostic> {
    env.template_from_named_str(name, text)
        .and_then(|t| t.render(minijinja::Value::from(minijinja::value::Serde(values))))
        .map_err(|e| diagnostic_of(&e, sources, name, text, origin))
}

/// Renders a shell template (a bootstrap script of `templates/`) in strict mode, with
/// every `{{ value }}` written shell-quoted: a string or number becomes one
/// single-quoted word (`'` inside it becomes `'\''`), a list becomes its items as
/// quoted words separated by spaces. Nothing is ever written unquoted (`|safe` does not
/// help), so no value can end its quotes. Values go in command positions only: a
/// newline in a quoted word is harmless there, but would end a `#` comment.
pub fn render_shell<V: Serialize>(
    sources: &Sources,
    name: &str,
    text: &str,
    origin: Origin,
    values: &V,
) -> Result<String, Diagnostic> {
    let mut env = environment(true);
    env.set_formatter(|out, _state, value| {
        let words = shell_words(value)?;
        out.write_str(&words)
            .map_err(|e| minijinja::Error::new(minijinja::ErrorKind::WriteFailure, e.to_string()))
    });
    run(&env, sources, name, text, origin, values)
}

/// `value` as quoted shell words (see [`render_shell`]).
fn shell_words(value: &minijinja::Value) -> Result<String, minijinja::Error> {
    use minijinja::value::ValueKind;
    let refuse = |why: &str| {
        Err(minijinja::Error::new(
            minijinja::ErrorKind::InvalidOperation,
            why.to_string(),
        ))
    };
    match value.kind() {
        ValueKind::Undefined => refuse("an undefined value cannot be written into a script"),
        ValueKind::None => refuse("`none` cannot be written into a script (test it with `{% if %}`)"),
        ValueKind::Seq | ValueKind::Iterable => {
            let mut words = Vec::new();
            for item in value.try_iter()? {
                if matches!(item.kind(), ValueKind::Seq | ValueKind::Iterable | ValueKind::Map) {
                    return refuse("a list written into a script must hold plain values");
                }
                words.push(shell_words(&item)?);
            }
            Ok(words.join(" "))
        }
        ValueKind::String | ValueKind::Number | ValueKind::Bool | ValueKind::Bytes => {
            let text = value.to_string();
            if text.contains('\0') {
                return refuse("a value with a NUL character cannot be written into a script");
            }
            Ok(shell_quote(&text))
        }
        _ => refuse("only strings, numbers, booleans and lists of them can be written into a script"),
    }
}

/// `text` as one single-quoted POSIX shell word.
pub fn shell_quote(text: &str) -> String {
    format!("'{}'", text.replace('\'', r"'\''"))
}

/// The secrets a template names as `secrets.NAME`, found without rendering it. A template that does not parse names none (rendering will
/// report it).
pub fn secrets_used(text: &str) -> Vec<String> {
    let env = Environment::new();
    let Ok(template) = env.template_from_str(text) else {
        return Vec::new();
    };
    template
        .undeclared_variables(true)
        .into_iter()
        .filter_map(|v| {
            v.strip_prefix("secrets.")
                .map(|n| n.split('.').next().unwrap_or(n).to_string())
        })
        .collect()
}

fn diagnostic_of(
    err: &minijinja::Error,
    sources: &Sources,
    name: &str,
    text: &str,
    origin: Origin,
) -> Diagnostic {
    use minijinja::ErrorKind as K;
    let detail = err
        .detail()
        .map(str::to_string)
        .unwrap_or_else(|| err.kind().to_string());
    let (message, hint) = match err.kind() {
        K::UndefinedError => (
            format!("template `{name}` uses an undefined value: {detail}"),
            if detail.contains("`instance` is undefined") {
                "`instance` is defined only when an instance is built: list the VMs under `instances:` (or give `--instances FILE`) and build them with `--out-dir DIR` or `--instance NAME`"
            } else if detail.contains("`instance.") {
                "an instance has `instance.name`, `instance.index` (from 0) and `instance.role`; its own values are in `vars`"
            } else {
                "define it under `vars:` (templates see `vars.NAME`), or fix the name"
            },
        ),
        K::SyntaxError => (
            format!("template `{name}` has a syntax error: {detail}"),
            "check the `{{ }}` and `{% %}` tags; to write them literally use {% raw %}...{% endraw %}",
        ),
        _ => (
            format!("template `{name}` failed to render: {detail}"),
            "check the template expression",
        ),
    };
    let line = err.line();
    let mut d = Diagnostic::error(Code::Template, message).with_hint(hint);
    match origin {
        Origin::File(id) => {
            let span = err
                .range()
                .map(|r| Span::new(id, r.start, r.end))
                .or_else(|| line.map(|l| line_span(id, sources, l)));
            if let Some(span) = span {
                d = d.with_span(span);
            }
        }
        Origin::Inline(span) => {
            d = d.with_span(span);
            if let Some(l) = line {
                let snippet = text.lines().nth(l.saturating_sub(1)).unwrap_or("").trim();
                d = d.with_note(format!("at line {l} of the template: {snippet}"));
            }
        }
    }
    d
}

fn line_span(id: FileId, sources: &Sources, line: usize) -> Span {
    let text = sources.get(id).map_or("", |f| f.text.as_str());
    let start: usize = text
        .split_inclusive('\n')
        .take(line.saturating_sub(1))
        .map(str::len)
        .sum();
    let len = text[start.min(text.len())..]
        .find('\n')
        .unwrap_or(text.len() - start.min(text.len()));
    Span::new(id, start, start + len)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn strict_mode_locates_unknown_names() {
        let mut sources = Sources::new();
        let text = "a\nserver {{ vars.domian }}\n";
        let id = sources.add("app.conf.j2", text);
        let err = render(
            &sources,
            "app.conf.j2",
            text,
            Origin::File(id),
            &json!({"vars": {"domain": "x"}}),
        )
        .unwrap_err();
        assert_eq!(err.code, Code::Template);
        let (_, line, _) = err.location(&sources).unwrap();
        assert_eq!(line, 2);
    }

    fn shell(template: &str, values: serde_json::Value) -> Result<String, Diagnostic> {
        render_shell(
            &Sources::new(),
            "t.sh",
            template,
            Origin::Inline(Span::default()),
            &values,
        )
    }

    #[test]
    fn shell_templates_quote_every_value() {
        let out = shell(
            "git clone {{ url }} {{ args }} {{ n }}{{ v|safe }}\n",
            json!({"url": "a'b $(id) `id`\nrm -rf /", "args": ["x y", "-e", "'"], "n": 3, "v": "z;"}),
        )
        .unwrap();
        assert_eq!(
            out,
            "git clone 'a'\\''b $(id) `id`\nrm -rf /' 'x y' '-e' ''\\''' '3''z;'\n"
        );
        assert!(shell("{{ m }}", json!({"m": {"a": 1}})).is_err());
        assert!(shell("{{ n }}", json!({"n": null})).is_err());
        assert!(shell("{{ nope }}", json!({})).is_err());
        assert_eq!(
            shell("{% if flag %}\nyes\n{% endif %}\n", json!({"flag": true})).unwrap(),
            "yes\n"
        );
    }

    /// Hostile values, rendered into a script and run by `sh`: each arrives as exactly
    /// one argument, and nothing in them runs.
    #[test]
    fn quoted_values_never_break_out() {
        let hostile = [
            "plain",
            "it's",
            "'; touch /tmp/ctxgen-pwned; '",
            "$(touch /tmp/ctxgen-pwned)",
            "`touch /tmp/ctxgen-pwned`",
            "a\nb; touch /tmp/ctxgen-pwned\n",
            "\"double\" \\ back $HOME ${HOME} *",
            "",
            "-n",
        ];
        let out = shell(
            "printf '<%s>\\n' {{ one }} {{ many }}\n",
            json!({"one": hostile[2], "many": hostile}),
        )
        .unwrap();
        let run = std::process::Command::new("sh")
            .arg("-c")
            .arg(&out)
            .output()
            .expect("sh runs");
        assert!(run.status.success());
        let expected: String = std::iter::once(hostile[2])
            .chain(hostile)
            .map(|v| format!("<{v}>\n"))
            .collect();
        assert_eq!(String::from_utf8_lossy(&run.stdout), expected);
        assert!(!std::path::Path::new("/tmp/ctxgen-pwned").exists());
    }

    #[test]
    fn renders_and_keeps_trailing_newline() {
        let sources = Sources::new();
        let out = render(
            &sources,
            "t",
            "host {{ vars.domain }}\n",
            Origin::Inline(Span::default()),
            &json!({"vars": {"domain": "example.org"}}),
        )
        .unwrap();
        assert_eq!(out, "host example.org\n");
    }
}
