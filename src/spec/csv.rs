//! Instances from a CSV file (`--instances FILE.csv`): a header row naming the
//! columns, then one instance a row. `name` is required; `role` is the instance's role;
//! every other column is a variable, merged into `vars` as a string (an empty cell sets
//! nothing). RFC 4180 quoting: a field in double quotes may hold commas, line breaks and
//! `""` for a quote.

use super::fleet::{Instance, csv_instance};
use crate::diag::{Code, Diagnostic};
use crate::source::{FileId, Sources, Span, Spanned};

/// A field's text and where it was written.
type Field = (String, Span);

/// The rows of `text`, each a list of fields, with the span of the whole row.
fn rows(text: &str, file: FileId) -> Result<Vec<(Vec<Field>, Span)>, Diagnostic> {
    let mut rows = Vec::new();
    let bytes = text.as_bytes();
    let mut i = usize::from(text.starts_with('\u{feff}')) * 3;
    while i < bytes.len() {
        let row_start = i;
        let mut fields = Vec::new();
        loop {
            let start = i;
            let (value, end) = if bytes.get(i) == Some(&b'"') {
                let mut value = String::new();
                let mut j = i + 1;
                loop {
                    match text[j..].find('"') {
                        None => {
                            return Err(Diagnostic::error(
                                Code::SpecShape,
                                "a quoted CSV field is never closed",
                            )
                            .with_span(Span::new(file, start, text.len()))
                            .with_hint("end the field with `\"`; write a quote inside it as `\"\"`"));
                        }
                        Some(k) => {
                            value.push_str(&text[j..j + k]);
                            j += k + 1;
                            if bytes.get(j) == Some(&b'"') {
                                value.push('"');
                                j += 1;
                            } else {
                                break;
                            }
                        }
                    }
                }
                if !matches!(bytes.get(j), None | Some(b',' | b'\n' | b'\r')) {
                    return Err(
                        Diagnostic::error(Code::SpecShape, "text after a quoted CSV field")
                            .with_span(Span::new(file, j, j + 1))
                            .with_hint("put the whole field in quotes, or none of it"),
                    );
                }
                (value, j)
            } else {
                let end = text[i..].find([',', '\n', '\r']).map_or(text.len(), |k| i + k);
                (text[i..end].to_string(), end)
            };
            fields.push((value, Span::new(file, start, end)));
            i = end;
            match bytes.get(i) {
                Some(b',') => i += 1,
                _ => break,
            }
        }
        let row_end = i;
        if bytes.get(i) == Some(&b'\r') {
            i += 1;
        }
        if bytes.get(i) == Some(&b'\n') {
            i += 1;
        }
        let blank = fields.len() == 1 && fields[0].0.trim().is_empty();
        if !blank {
            rows.push((fields, Span::new(file, row_start, row_end)));
        }
    }
    Ok(rows)
}

/// The instances of CSV file `file`.
pub(super) fn instances(sources: &Sources, file: FileId) -> Result<Vec<Instance>, Diagnostic> {
    let text = sources.get(file).map(|f| f.text.as_str()).unwrap_or_default();
    let mut rows = rows(text, file)?.into_iter();
    let Some((header, header_span)) = rows.next() else {
        return Err(Diagnostic::error(Code::SpecShape, "the instances file is empty")
            .with_span(Span::new(file, 0, 0))
            .with_hint("start with a header row such as `name,role`, then one instance a row"));
    };
    let column = |wanted: &str| header.iter().position(|(h, _)| h.trim() == wanted);
    let Some(name_col) = column("name") else {
        return Err(
            Diagnostic::error(Code::SpecShape, "the header row has no `name` column")
                .with_span(header_span)
                .with_hint("name the columns in the first row, such as `name,role,weight`"),
        );
    };
    let role_col = column("role");
    for (i, (h, span)) in header.iter().enumerate() {
        if h.trim().is_empty() || header[..i].iter().any(|(g, _)| g.trim() == h.trim()) {
            return Err(Diagnostic::error(
                Code::SpecShape,
                format!("column {} has an empty or repeated name", i + 1),
            )
            .with_span(*span)
            .with_hint("give every column its own name in the header row"));
        }
    }
    rows.map(|(fields, row)| {
        if fields.len() != header.len() {
            return Err(Diagnostic::error(
                Code::SpecShape,
                format!(
                    "this row has {} fields; the header has {}",
                    fields.len(),
                    header.len()
                ),
            )
            .with_span(row)
            .with_hint(
                "give every row one field per column (an empty field is written as nothing between commas)",
            ));
        }
        let cell = |col: usize| Spanned::new(fields[col].0.trim().to_string(), fields[col].1);
        let role = role_col.map(cell).filter(|r| !r.value.is_empty());
        let vars = header
            .iter()
            .zip(&fields)
            .enumerate()
            .filter(|(i, (_, (v, _)))| Some(*i) != role_col && *i != name_col && !v.is_empty())
            .map(|(_, ((h, hs), (v, vs)))| ((h.trim().to_string(), *hs), (v.clone(), *vs)))
            .collect();
        Ok(csv_instance(cell(name_col), role, vars, row))
    })
    .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str) -> Vec<Vec<String>> {
        let mut sources = Sources::new();
        let id = sources.add("i.csv", text);
        rows(text, id)
            .expect("parses")
            .into_iter()
            .map(|(f, _)| f.into_iter().map(|(v, _)| v).collect())
            .collect()
    }

    #[test]
    fn quoting_and_line_ends() {
        assert_eq!(
            parse("name,note\r\nweb-01,\"a, \"\"b\"\"\nc\"\n\nweb-02,\n"),
            vec![
                vec!["name", "note"],
                vec!["web-01", "a, \"b\"\nc"],
                vec!["web-02", ""]
            ]
        );
    }

    #[test]
    fn errors_are_located() {
        let mut sources = Sources::new();
        let text = "name\n\"web-01\nweb-02\n";
        let id = sources.add("i.csv", text);
        let err = rows(text, id).unwrap_err();
        assert!(err.message.contains("never closed"), "{}", err.message);
        assert_eq!(err.span.map(|s| s.start), Some(5));
        let text = "name,role\nweb-01\n";
        let id = sources.add("j.csv", text);
        let err = instances(&sources, id).unwrap_err();
        assert!(err.message.contains("1 fields"), "{}", err.message);
    }
}
