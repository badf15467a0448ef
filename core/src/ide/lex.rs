//! A tolerant token scanner for the text around the cursor.
//!
//! While the user types, the code under the cursor rarely parses (`t(orders=` has no closing
//! parenthesis), so position-based features look at tokens instead of the AST: which call the
//! cursor is in, which keywords are already given, what precedes a `.`.

use crate::diagnostic::TextRange;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Tok {
    Ident,
    Number,
    Str,
    Comment,
    /// `(`, `[` or `{`.
    Open(u8),
    /// `)`, `]` or `}`.
    Close(u8),
    /// `=` on its own (not `==`, `<=`, ...).
    Assign,
    Comma,
    Dot,
    Colon,
    At,
    Newline,
    /// Any other operator.
    Op,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Token {
    pub kind: Tok,
    pub range: TextRange,
}

fn is_ident_start(c: char) -> bool {
    c == '_' || c.is_alphabetic()
}

fn is_ident_char(c: char) -> bool {
    c == '_' || c.is_alphanumeric()
}

/// Tokens of `text[start..end]` (offsets are into `text`). Unterminated strings run to `end`.
pub fn tokens(text: &str, start: usize, end: usize) -> Vec<Token> {
    let end = crate::line_index::floor_char_boundary(text, end.min(text.len()));
    let start = crate::line_index::floor_char_boundary(text, start.min(end));
    let s = &text[..end];
    let bytes = s.as_bytes();
    let mut out = Vec::new();
    let mut i = start;
    while i < end {
        let c = s[i..].chars().next().unwrap_or(' ');
        let len = c.len_utf8();
        match c {
            '\n' => {
                out.push(Token { kind: Tok::Newline, range: TextRange::new(i, i + 1) });
                i += 1;
            }
            ' ' | '\t' | '\r' | '\x0c' => i += 1,
            '\\' => {
                // Line continuation.
                i += 1;
                if i < end && bytes[i] == b'\r' {
                    i += 1;
                }
                if i < end && bytes[i] == b'\n' {
                    i += 1;
                }
            }
            '#' => {
                let stop = s[i..].find('\n').map(|p| i + p).unwrap_or(end);
                out.push(Token { kind: Tok::Comment, range: TextRange::new(i, stop) });
                i = stop;
            }
            '"' | '\'' => {
                let stop = string_end(s, i, end);
                out.push(Token { kind: Tok::Str, range: TextRange::new(i, stop) });
                i = stop;
            }
            c if is_ident_start(c) => {
                let mut j = i;
                for ch in s[i..].chars() {
                    if is_ident_char(ch) {
                        j += ch.len_utf8();
                    } else {
                        break;
                    }
                }
                // String prefixes: r"..", f'..', rb"..", ...
                if j < end
                    && (bytes[j] == b'"' || bytes[j] == b'\'')
                    && j - i <= 2
                    && s[i..j].chars().all(|c| "rRbBfFuU".contains(c))
                {
                    let stop = string_end(s, j, end);
                    out.push(Token { kind: Tok::Str, range: TextRange::new(i, stop) });
                    i = stop;
                } else {
                    out.push(Token { kind: Tok::Ident, range: TextRange::new(i, j) });
                    i = j;
                }
            }
            c if c.is_ascii_digit() => {
                let mut j = i;
                while j < end && (bytes[j].is_ascii_alphanumeric() || bytes[j] == b'_' || bytes[j] == b'.') {
                    j += 1;
                }
                out.push(Token { kind: Tok::Number, range: TextRange::new(i, j) });
                i = j;
            }
            '(' | '[' | '{' => {
                out.push(Token { kind: Tok::Open(c as u8), range: TextRange::new(i, i + 1) });
                i += 1;
            }
            ')' | ']' | '}' => {
                out.push(Token { kind: Tok::Close(c as u8), range: TextRange::new(i, i + 1) });
                i += 1;
            }
            ',' => {
                out.push(Token { kind: Tok::Comma, range: TextRange::new(i, i + 1) });
                i += 1;
            }
            '.' => {
                if s[i..].starts_with("...") {
                    out.push(Token { kind: Tok::Op, range: TextRange::new(i, i + 3) });
                    i += 3;
                } else if i + 1 < end && bytes[i + 1].is_ascii_digit() {
                    let mut j = i + 1;
                    while j < end && (bytes[j].is_ascii_alphanumeric() || bytes[j] == b'_') {
                        j += 1;
                    }
                    out.push(Token { kind: Tok::Number, range: TextRange::new(i, j) });
                    i = j;
                } else {
                    out.push(Token { kind: Tok::Dot, range: TextRange::new(i, i + 1) });
                    i += 1;
                }
            }
            ':' => {
                let l = if s[i..].starts_with(":=") { 2 } else { 1 };
                let kind = if l == 1 { Tok::Colon } else { Tok::Op };
                out.push(Token { kind, range: TextRange::new(i, i + l) });
                i += l;
            }
            '@' => {
                out.push(Token { kind: Tok::At, range: TextRange::new(i, i + 1) });
                i += 1;
            }
            '=' => {
                if s[i..].starts_with("==") {
                    out.push(Token { kind: Tok::Op, range: TextRange::new(i, i + 2) });
                    i += 2;
                } else {
                    out.push(Token { kind: Tok::Assign, range: TextRange::new(i, i + 1) });
                    i += 1;
                }
            }
            _ => {
                // Operators: take `c` and a trailing `=` (`<=`, `+=`, `!=`), `->`, `**`, `//`, `>>`, `<<`.
                let mut j = i + len;
                if j < end && matches!(bytes[j], b'=' | b'>' | b'*' | b'/' | b'<') && c.is_ascii() {
                    j += 1;
                }
                out.push(Token { kind: Tok::Op, range: TextRange::new(i, j) });
                i = j;
            }
        }
    }
    out
}

/// End offset of the string literal whose quote starts at `q`.
fn string_end(s: &str, q: usize, end: usize) -> usize {
    let bytes = s.as_bytes();
    let quote = bytes[q];
    let triple = q + 2 < end && bytes[q + 1] == quote && bytes[q + 2] == quote;
    let mut i = if triple { q + 3 } else { q + 1 };
    while i < end {
        let b = bytes[i];
        if b == b'\\' {
            i += 2;
            continue;
        }
        if triple {
            if b == quote && i + 2 < end && bytes[i + 1] == quote && bytes[i + 2] == quote {
                return (i + 3).min(end);
            }
        } else if b == quote {
            return i + 1;
        } else if b == b'\n' {
            // An unterminated single-line string stops at the line end.
            return i;
        }
        i += 1;
    }
    end.max(q + 1).min(s.len())
}

/// Where scanning for the context of `offset` can safely start: the start of the nearest line
/// at or before `offset` that begins a top-level statement (no indentation), or `floor`.
pub fn statement_region_start(text: &str, offset: usize, floor: usize) -> usize {
    let offset = crate::line_index::floor_char_boundary(text, offset.min(text.len()));
    let mut pos = offset;
    loop {
        let line_start = text[..pos].rfind('\n').map(|p| p + 1).unwrap_or(0);
        if line_start <= floor {
            return floor.min(offset);
        }
        let first = text[line_start..].chars().next().unwrap_or(' ');
        if line_start < offset && !first.is_whitespace() && first != '#' && first != ')' && first != ']' && first != '}'
        {
            return line_start;
        }
        if line_start == 0 {
            return 0;
        }
        pos = line_start - 1;
    }
}

/// The call whose parentheses enclose `offset`.
#[derive(Clone, Debug)]
pub struct CallContext {
    /// The called expression's text range (`t`, `mod.t`, `map_task(t)`).
    pub callee: TextRange,
    /// The `(`.
    pub open: usize,
    /// Keyword names given in the call (`name=`), with their ranges.
    pub keywords: Vec<(String, TextRange)>,
    /// The cursor is where a new argument (or a keyword name) starts.
    pub at_argument_start: bool,
    /// The keyword whose value the cursor is in (`x=|`).
    pub in_value_of: Option<String>,
    /// The identifier being typed at the cursor (may be empty).
    pub prefix: TextRange,
}

/// What the cursor is in, found from tokens.
#[derive(Clone, Debug)]
pub struct CursorContext {
    pub call: Option<CallContext>,
    /// `expr.|`: the range of `expr` (names, attributes, calls and subscripts).
    pub dot_base: Option<TextRange>,
    /// The identifier being typed at the cursor (empty range at the cursor if none).
    pub prefix: TextRange,
    /// The cursor is in a string or a comment.
    pub in_string_or_comment: bool,
    /// The cursor is on a decorator line (`@...`).
    pub in_decorator: bool,
}

/// Analyze the tokens from `region_start` to the end of the statement holding `offset`.
pub fn cursor_context(text: &str, region_start: usize, offset: usize) -> CursorContext {
    let offset = crate::line_index::floor_char_boundary(text, offset.min(text.len()));
    // Scan past the cursor far enough to see the rest of the call (its other keywords).
    let scan_end = (offset + 4096).min(text.len());
    let toks = tokens(text, region_start, scan_end);
    let mut ctx = CursorContext {
        call: None,
        dot_base: None,
        prefix: TextRange::new(offset, offset),
        in_string_or_comment: false,
        in_decorator: false,
    };
    // Tokens before the cursor (a token touching the cursor from the left counts as before).
    let before = toks.iter().take_while(|t| t.range.start < offset).count();
    if let Some(t) = toks[..before].last() {
        if matches!(t.kind, Tok::Str | Tok::Comment)
            && (t.range.end > offset || (t.range.end == offset && !closed_at(text, t)))
        {
            ctx.in_string_or_comment = true;
            return ctx;
        }
        if t.kind == Tok::Ident && t.range.end >= offset {
            ctx.prefix = TextRange::new(t.range.start, offset);
        }
    }
    let prefix_tokens = if ctx.prefix.is_empty() { 0 } else { 1 };
    let lead = &toks[..before - prefix_tokens];
    // `expr.` right before the prefix.
    if let Some(last) = lead.last() {
        if last.kind == Tok::Dot {
            ctx.dot_base =
                chain_start(&toks, lead.len() - 1).map(|s| TextRange::new(toks[s].range.start, last.range.start));
        }
    }
    // Bracket stack up to the cursor.
    let mut stack: Vec<usize> = Vec::new();
    for (i, t) in lead.iter().enumerate() {
        match t.kind {
            Tok::Open(_) => stack.push(i),
            Tok::Close(_) => {
                stack.pop();
            }
            _ => {}
        }
    }
    // Is the statement a decorator? (the first token of the cursor's logical line is `@`)
    let mut depth = 0i32;
    let mut line_first: Option<&Token> = None;
    for t in lead.iter() {
        match t.kind {
            Tok::Newline if depth == 0 => line_first = None,
            Tok::Comment | Tok::Newline => {}
            _ => {
                if line_first.is_none() {
                    line_first = Some(t);
                }
                match t.kind {
                    Tok::Open(_) => depth += 1,
                    Tok::Close(_) => depth -= 1,
                    _ => {}
                }
            }
        }
    }
    ctx.in_decorator = line_first.is_some_and(|t| t.kind == Tok::At);
    let Some(&open_i) = stack.last() else { return ctx };
    if toks[open_i].kind != Tok::Open(b'(') || open_i == 0 {
        return ctx;
    }
    let Some(callee_start) = chain_start(&toks, open_i) else { return ctx };
    let callee = TextRange::new(toks[callee_start].range.start, toks[open_i - 1].range.end);
    // Keywords at depth 1 inside the call, before and after the cursor.
    let mut keywords = Vec::new();
    let mut depth = 0i32;
    let mut i = open_i + 1;
    while i < toks.len() {
        let t = toks[i];
        match t.kind {
            Tok::Open(_) => depth += 1,
            Tok::Close(_) => {
                if depth == 0 {
                    break;
                }
                depth -= 1;
            }
            Tok::Ident if depth == 0 => {
                let next = toks[i + 1..].iter().find(|x| !matches!(x.kind, Tok::Newline | Tok::Comment));
                let prev = toks[..i].iter().rev().find(|x| !matches!(x.kind, Tok::Newline | Tok::Comment));
                let at_arg_start = prev.is_some_and(|p| p.kind == Tok::Comma || p.range == toks[open_i].range);
                let is_prefix = prefix_tokens == 1 && t.range == toks[before - 1].range;
                if next.is_some_and(|n| n.kind == Tok::Assign) && at_arg_start && !is_prefix {
                    keywords.push((text[t.range.start..t.range.end].to_string(), t.range));
                }
            }
            _ => {}
        }
        i += 1;
    }
    // What precedes the prefix, inside the call at depth 1?
    let mut depth = 0i32;
    let mut last_sig: Option<Token> = None;
    let mut value_of: Option<String> = None;
    let mut pending_name: Option<String> = None;
    for t in &lead[open_i + 1..] {
        match t.kind {
            Tok::Newline | Tok::Comment => continue,
            Tok::Open(_) => depth += 1,
            Tok::Close(_) => depth -= 1,
            Tok::Comma if depth == 0 => {
                value_of = None;
                pending_name = None;
            }
            Tok::Ident if depth == 0 => pending_name = Some(text[t.range.start..t.range.end].to_string()),
            Tok::Assign if depth == 0 => value_of = pending_name.take(),
            _ => {}
        }
        last_sig = Some(*t);
    }
    let at_argument_start = match last_sig {
        None => true,
        Some(t) => t.kind == Tok::Comma && depth == 0,
    };
    ctx.call = Some(CallContext {
        callee,
        open: toks[open_i].range.start,
        keywords,
        at_argument_start,
        in_value_of: if at_argument_start { None } else { value_of },
        prefix: ctx.prefix,
    });
    ctx
}

/// Is the string/comment token `t` complete (a closed string)? Comments are never "closed".
fn closed_at(text: &str, t: &Token) -> bool {
    let s = &text[t.range.start..t.range.end];
    if s.starts_with('#') {
        return false;
    }
    let body = s.trim_start_matches(|c: char| c.is_ascii_alphabetic());
    let q = body.chars().next().unwrap_or('"');
    if body.len() >= 6 && (body.starts_with("\"\"\"") || body.starts_with("'''")) {
        let qq: String = std::iter::repeat_n(q, 3).collect();
        return body.ends_with(&qq);
    }
    body.len() >= 2 && body.ends_with(q) && !body.ends_with(&format!("\\{q}"))
}

/// Walk back from token `end` (exclusive; `end` is a `(` or `.`) over a primary expression:
/// names joined by dots, calls and subscripts. Returns the index of its first token.
fn chain_start(toks: &[Token], end: usize) -> Option<usize> {
    let mut i = end;
    let mut start = None;
    loop {
        if i == 0 {
            return start;
        }
        let t = toks[i - 1];
        match t.kind {
            Tok::Ident => {
                start = Some(i - 1);
                i -= 1;
                // Continue only through a dot.
                if i > 0 && toks[i - 1].kind == Tok::Dot {
                    i -= 1;
                    continue;
                }
                return start;
            }
            Tok::Close(c) => {
                // Find the matching open bracket.
                let open = match c {
                    b')' => b'(',
                    b']' => b'[',
                    _ => b'{',
                };
                let mut depth = 0;
                let mut j = i - 1;
                loop {
                    match toks[j].kind {
                        Tok::Close(_) => depth += 1,
                        Tok::Open(o) => {
                            depth -= 1;
                            if depth == 0 {
                                if o != open {
                                    return start;
                                }
                                break;
                            }
                        }
                        _ => {}
                    }
                    if j == 0 {
                        return start;
                    }
                    j -= 1;
                }
                // `(...)` must follow something callable; `[...]` something subscriptable.
                if j == 0 || !matches!(toks[j - 1].kind, Tok::Ident | Tok::Close(_)) {
                    return start;
                }
                i = j;
            }
            _ => return start,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ctx(src: &str) -> (String, CursorContext) {
        let offset = src.find('|').unwrap();
        let text = src.replacen('|', "", 1);
        let c = cursor_context(&text, 0, offset);
        (text, c)
    }

    #[test]
    fn finds_the_call_and_its_keywords() {
        let (t, c) = ctx("x = mod.t(a=1, |, c=f(d=2))\n");
        let call = c.call.unwrap();
        assert_eq!(&t[call.callee.start..call.callee.end], "mod.t");
        let kws: Vec<_> = call.keywords.iter().map(|k| k.0.as_str()).collect();
        assert_eq!(kws, vec!["a", "c"]);
        assert!(call.at_argument_start);
    }

    #[test]
    fn prefix_and_value_positions() {
        let (t, c) = ctx("y = map_task(t)(xs=ys, or|\n");
        let call = c.call.unwrap();
        assert_eq!(&t[call.callee.start..call.callee.end], "map_task(t)");
        assert_eq!(&t[c.prefix.start..c.prefix.end], "or");
        assert!(call.at_argument_start);
        let (_, c) = ctx("y = t(a=|");
        assert_eq!(c.call.unwrap().in_value_of.as_deref(), Some("a"));
    }

    #[test]
    fn dot_base_and_strings() {
        let (t, c) = ctx("    lines = f(x=r.|)\n");
        let b = c.dot_base.unwrap();
        assert_eq!(&t[b.start..b.end], "r");
        let (_, c) = ctx("x = t(a=\"ab|c\")");
        assert!(c.in_string_or_comment);
        let (_, c) = ctx("x = 1  # t(|");
        assert!(c.in_string_or_comment);
        let (_, c) = ctx("@task(ret|\ndef f(): pass\n");
        assert!(c.in_decorator);
    }
}
