//! A MIME reader that splits a message exactly as Python's `email.message_from_string`
//! (the `compat32` feed parser) does, because that parser decides which parts
//! cloud-init sees. Written from the parser's documented and observed behaviour.
//!
//! Rules kept: lines end at `\r\n`, `\r` or `\n`; headers are lines that start with a
//! run of printable ASCII other than `:` and then `:` (or `From `), or with a space or
//! tab (a continuation); the first other line ends the headers (a blank line is
//! dropped, anything else starts the body). A header's value is the rest of its first
//! line without leading spaces and tabs, plus its continuation lines, without trailing
//! line breaks. The first header of a name wins. A content type without exactly one `/`
//! is `text/plain`; a missing one is `text/plain`, or `message/rfc822` inside
//! `multipart/digest`. A multipart needs a `boundary`; its parts sit between lines that
//! are `--boundary`, optionally `--`, optional spaces or tabs; a boundary of any
//! enclosing multipart also ends a part; each part loses one trailing line break;
//! repeated boundary lines make no empty parts. Without a boundary parameter, or
//! without a first boundary line, a multipart has no parts. A `message/*` part holds one
//! message (`message/delivery-status` holds header blocks separated by blank lines).
//!
//! Not modelled (documented in the parent module): `uuencode` transfer encoding.

use super::codec::{
    decode_quoted_printable, decode_transfer_base64, py_isspace, py_strip, raw_unicode_escape,
};
use super::params::{param, param_collapsed};

/// How deeply multiparts and messages may nest before reading stops.
pub(crate) const MAX_DEPTH: usize = 64;

/// One parsed message or part.
#[derive(Debug, Clone)]
pub(crate) struct Message {
    /// Headers in order, names as written.
    pub headers: Vec<(String, String)>,
    /// What `get_content_type()` would return for this message when no `Content-Type`
    /// header is present.
    default_type: &'static str,
    pub body: Body,
}

/// The payload of a [`Message`].
#[derive(Debug, Clone)]
pub(crate) enum Body {
    /// Text (a leaf, or a multipart that got no parts).
    Text(String),
    /// Parts of a multipart, or the messages inside a `message/*` part.
    Parts(Vec<Message>),
}

/// The nesting limit was passed.
#[derive(Debug)]
pub(crate) struct TooDeep;

/// Parses `text` as one message.
pub(crate) fn parse(text: &str) -> Result<Message, TooDeep> {
    let mut input = Input {
        lines: split_lines(text),
        pos: 0,
        pushed: Vec::new(),
        eof: Vec::new(),
    };
    input.message("text/plain", 0)
}

/// Splits after each `\r\n`, `\r` or `\n`, keeping the line break with its line.
fn split_lines(text: &str) -> Vec<&str> {
    let bytes = text.as_bytes();
    let mut lines = Vec::new();
    let mut start = 0;
    let mut i = 0;
    while i < bytes.len() {
        let end = match bytes[i] {
            b'\n' => i + 1,
            b'\r' if bytes.get(i + 1) == Some(&b'\n') => i + 2,
            b'\r' => i + 1,
            _ => {
                i += 1;
                continue;
            }
        };
        lines.push(&text[start..end]);
        start = end;
        i = end;
    }
    if start < text.len() {
        lines.push(&text[start..]);
    }
    lines
}

/// The line break at the end of `line`, if any.
fn line_break(line: &str) -> &str {
    if line.ends_with("\r\n") {
        &line[line.len() - 2..]
    } else if line.ends_with('\n') || line.ends_with('\r') {
        &line[line.len() - 1..]
    } else {
        ""
    }
}

/// Something that makes the reader see a false end of input.
#[derive(Debug, Clone)]
enum EndAt {
    /// A boundary line of an enclosing multipart (`--` plus the boundary).
    Boundary(String),
    /// A blank line (between `message/delivery-status` blocks).
    BlankLine,
}

/// What a boundary line says.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum BoundaryLine {
    Separator,
    Close,
}

fn boundary_line(line: &str, separator: &str) -> Option<BoundaryLine> {
    let rest = line.strip_prefix(separator)?;
    let (close, rest) = match rest.strip_prefix("--") {
        Some(after) => (true, after),
        None => (false, rest),
    };
    let rest = rest.trim_start_matches([' ', '\t']);
    let ok = rest.len() == line_break(rest).len();
    ok.then_some(if close {
        BoundaryLine::Close
    } else {
        BoundaryLine::Separator
    })
}

fn is_blank(line: &str) -> bool {
    line.starts_with(['\r', '\n'])
}

/// A line that may belong to the header block.
fn is_header_line(line: &str) -> bool {
    if line.starts_with("From ") || line.starts_with([' ', '\t']) {
        return true;
    }
    let name_len = line
        .bytes()
        .take_while(|&b| (0x21..=0x7e).contains(&b) && b != b':')
        .count();
    line.as_bytes().get(name_len) == Some(&b':')
}

struct Input<'a> {
    lines: Vec<&'a str>,
    pos: usize,
    /// Lines given back, read again before `lines[pos]` (last in, first out).
    pushed: Vec<&'a str>,
    eof: Vec<EndAt>,
}

impl<'a> Input<'a> {
    /// The next line, or `None` at the end of input or at a line an [`EndAt`] matches
    /// (which stays unread).
    fn readline(&mut self) -> Option<&'a str> {
        let line = match self.pushed.pop() {
            Some(line) => line,
            None => {
                let line = *self.lines.get(self.pos)?;
                self.pos += 1;
                line
            }
        };
        let stop = self.eof.iter().any(|end| match end {
            EndAt::Boundary(sep) => boundary_line(line, sep).is_some(),
            EndAt::BlankLine => is_blank(line),
        });
        if stop {
            self.pushed.push(line);
            return None;
        }
        Some(line)
    }

    fn unread(&mut self, line: &'a str) {
        self.pushed.push(line);
    }

    fn rest(&mut self) -> String {
        let mut text = String::new();
        while let Some(line) = self.readline() {
            text.push_str(line);
        }
        text
    }

    fn message(&mut self, default_type: &'static str, depth: usize) -> Result<Message, TooDeep> {
        if depth > MAX_DEPTH {
            return Err(TooDeep);
        }
        let mut lines = Vec::new();
        while let Some(line) = self.readline() {
            if !is_header_line(line) {
                if !is_blank(line) {
                    self.unread(line);
                }
                break;
            }
            lines.push(line);
        }
        let headers = self.headers(&lines);
        let mut msg = Message {
            headers,
            default_type,
            body: Body::Text(String::new()),
        };
        let ctype = msg.content_type();
        msg.body = if ctype == "message/delivery-status" {
            Body::Parts(self.header_blocks(depth)?)
        } else if ctype.starts_with("message/") {
            Body::Parts(vec![self.message("text/plain", depth + 1)?])
        } else if ctype.starts_with("multipart/") {
            match msg.boundary() {
                Some(boundary) => {
                    let child_default = if ctype == "multipart/digest" {
                        "message/rfc822"
                    } else {
                        "text/plain"
                    };
                    self.multipart(&format!("--{boundary}"), child_default, depth)?
                }
                None => Body::Text(self.rest()),
            }
        } else {
            Body::Text(self.rest())
        };
        Ok(msg)
    }

    /// The header block `lines` as (name, value) pairs.
    fn headers(&mut self, lines: &[&'a str]) -> Vec<(String, String)> {
        let mut headers: Vec<(String, String)> = Vec::new();
        let mut current: Option<(String, String)> = None;
        for (n, line) in lines.iter().enumerate() {
            if line.starts_with([' ', '\t']) {
                // A continuation before any header is dropped.
                if let Some((_, value)) = current.as_mut() {
                    value.push_str(line);
                }
                continue;
            }
            if let Some(done) = current.take() {
                headers.push(finish_header(done));
            }
            if line.starts_with("From ") {
                if n + 1 == lines.len() && n > 0 {
                    // A `From ` line last in a block starts the body.
                    self.unread(line);
                    return headers;
                }
                continue;
            }
            match line.find(':') {
                Some(i) if i > 0 => {
                    current = Some((
                        line[..i].to_string(),
                        line[i + 1..].trim_start_matches([' ', '\t']).to_string(),
                    ));
                }
                _ => {}
            }
        }
        if let Some(done) = current {
            headers.push(finish_header(done));
        }
        headers
    }

    fn header_blocks(&mut self, depth: usize) -> Result<Vec<Message>, TooDeep> {
        let mut blocks = Vec::new();
        loop {
            self.eof.push(EndAt::BlankLine);
            let block = self.message("text/plain", depth + 1);
            self.eof.pop();
            blocks.push(block?);
            // Consume the blank line, then see whether anything follows.
            let _ = self.readline();
            match self.readline() {
                Some(line) => self.unread(line),
                None => return Ok(blocks),
            }
        }
    }

    fn multipart(
        &mut self,
        separator: &str,
        child_default: &'static str,
        depth: usize,
    ) -> Result<Body, TooDeep> {
        let mut preamble = String::new();
        let mut in_preamble = true;
        let mut parts = Vec::new();
        while let Some(line) = self.readline() {
            match boundary_line(line, separator) {
                Some(BoundaryLine::Close) => {
                    // The epilogue is read and dropped.
                    while self.readline().is_some() {}
                    break;
                }
                Some(BoundaryLine::Separator) => in_preamble = false,
                None if in_preamble => {
                    preamble.push_str(line);
                    continue;
                }
                // Only reachable through an unusual enclosing end (a blank line of
                // `message/delivery-status`): the line is dropped.
                None => continue,
            }
            // Skip repeated boundary lines, then read one part.
            while let Some(next) = self.readline() {
                if boundary_line(next, separator).is_none() {
                    self.unread(next);
                    break;
                }
            }
            self.eof.push(EndAt::Boundary(separator.to_string()));
            let part = self.message(child_default, depth + 1);
            self.eof.pop();
            let mut part = part?;
            strip_final_break(&mut part);
            parts.push(part);
        }
        if in_preamble {
            // No first boundary: the multipart's payload is text, so it has no parts.
            return Ok(Body::Text(preamble));
        }
        Ok(Body::Parts(parts))
    }
}

fn finish_header((name, value): (String, String)) -> (String, String) {
    let value = value.trim_end_matches(['\r', '\n']).to_string();
    (name, value)
}

/// The line break before a boundary belongs to the boundary: the part's text (or, for a
/// `message/*` part, the innermost last message's text) loses it.
fn strip_final_break(msg: &mut Message) {
    let is_multipart = msg.content_type().starts_with("multipart/");
    match &mut msg.body {
        Body::Text(text) if !is_multipart => {
            let cut = line_break(text).len();
            text.truncate(text.len() - cut);
        }
        Body::Parts(inner) if !is_multipart => {
            if let Some(last) = inner.last_mut() {
                strip_final_break(last);
            }
        }
        _ => {}
    }
}

impl Message {
    /// The value of the first header named `name` (any case).
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    /// `get_content_type()`: lower case `type/subtype`, without parameters.
    pub fn content_type(&self) -> String {
        match self.header("content-type") {
            Some(value) => normalize_type(value),
            None => self.default_type.to_string(),
        }
    }

    /// `get_boundary()`.
    fn boundary(&self) -> Option<String> {
        let value = param(self.header("content-type")?, "boundary")?;
        Some(value.collapse().trim_end_matches(py_isspace).to_string())
    }

    /// `get_filename()`: `filename` of `Content-Disposition`, else `name` of
    /// `Content-Type`, unquoted and stripped.
    pub fn filename(&self) -> Option<String> {
        self.disposition_filename()
            .or_else(|| param_collapsed(self.header("content-type")?, "name"))
    }

    /// `filename` of `Content-Disposition` only (what is left once cloud-init has
    /// replaced the `Content-Type` header).
    pub fn disposition_filename(&self) -> Option<String> {
        param_collapsed(self.header("content-disposition")?, "filename")
    }

    /// The transfer encoding as `get_payload(decode=True)` compares it: lower case, not
    /// trimmed.
    pub fn transfer_encoding(&self) -> String {
        self.header("content-transfer-encoding")
            .unwrap_or("")
            .to_lowercase()
    }

    /// `get_payload(decode=True)` of a leaf: the text as bytes (Latin-1 or `\u` escapes
    /// for characters beyond ASCII, as Python does), then undone transfer encoding.
    /// `None` for a container.
    pub fn decoded_body(&self) -> Option<Vec<u8>> {
        let Body::Text(text) = &self.body else { return None };
        Some(decode_transfer(
            &self.transfer_encoding(),
            raw_unicode_escape(text),
        ))
    }
}

/// Undoes a `Content-Transfer-Encoding` (`base64`, `quoted-printable`; other values
/// leave the bytes as they are).
pub(crate) fn decode_transfer(encoding: &str, bytes: Vec<u8>) -> Vec<u8> {
    match encoding {
        "base64" => decode_transfer_base64(&bytes),
        "quoted-printable" => decode_quoted_printable(&bytes),
        _ => bytes,
    }
}

/// `get_content_type()` of a `Content-Type` value.
pub(crate) fn normalize_type(value: &str) -> String {
    let main = value.split(';').next().unwrap_or("");
    let ctype = py_strip(main).to_lowercase();
    if ctype.matches('/').count() == 1 {
        ctype
    } else {
        "text/plain".to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn leaf_texts(msg: &Message) -> Vec<String> {
        match &msg.body {
            Body::Text(t) => vec![t.clone()],
            Body::Parts(parts) => parts.iter().flat_map(leaf_texts).collect(),
        }
    }

    #[test]
    fn headers_end_at_the_first_non_header_line() {
        let msg = parse("Content-Type: text/x-shellscript\n  ; charset=x\n#!/bin/sh\n").expect("shallow");
        assert_eq!(msg.content_type(), "text/x-shellscript");
        assert_eq!(leaf_texts(&msg), ["#!/bin/sh\n"]);
        let msg = parse("#cloud-config\nMIME-Version: 1.0\n").expect("shallow");
        assert_eq!(msg.content_type(), "text/plain");
        assert_eq!(leaf_texts(&msg), ["#cloud-config\nMIME-Version: 1.0\n"]);
    }

    #[test]
    fn multipart_parts_lose_one_line_break() {
        let text = "Content-Type: multipart/mixed; boundary=\"b\"\n\npre\n--b\n\none\n\n--b \r\n\ntwo\r\n--b--\nepilogue\n";
        let msg = parse(text).expect("shallow");
        assert_eq!(leaf_texts(&msg), ["one\n", "two"]);
    }

    #[test]
    fn outer_boundaries_end_inner_parts() {
        let text = "Content-Type: multipart/mixed; boundary=o\n\n--o\nContent-Type: multipart/mixed; boundary=i\n\n--i\n\na\n--o\n\nb\n--o--\n";
        let msg = parse(text).expect("shallow");
        assert_eq!(leaf_texts(&msg), ["a", "b"]);
    }

    #[test]
    fn multipart_without_start_boundary_has_no_parts() {
        let msg = parse("Content-Type: multipart/mixed; boundary=b\n\nno parts here\n").expect("shallow");
        assert!(matches!(msg.body, Body::Text(_)));
    }

    #[test]
    fn content_types_as_python_reads_them() {
        assert_eq!(
            normalize_type(" Text/Cloud-Config ; charset=x"),
            "text/cloud-config"
        );
        assert_eq!(normalize_type("cloud-config"), "text/plain");
        assert_eq!(normalize_type("text/x/y"), "text/plain");
    }

    #[test]
    fn nesting_is_bounded() {
        let mut text = String::new();
        for i in 0..=MAX_DEPTH + 1 {
            text.push_str(&format!(
                "Content-Type: multipart/mixed; boundary=b{i}\n\n--b{i}\n"
            ));
        }
        assert!(parse(&text).is_err());
    }
}
