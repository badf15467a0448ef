//! The only module that talks to tree-sitter: Python text in, owned AST and syntax errors out.

pub mod ast;
mod lower;

use crate::diagnostic::TextRange;
pub use ast::*;

/// One parsed Python file.
#[derive(Clone, Debug, Default)]
pub struct ParsedModule {
    pub body: Vec<Stmt>,
    /// Places tree-sitter could not parse, with a short description.
    pub syntax_errors: Vec<SyntaxError>,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SyntaxError {
    pub range: TextRange,
    pub message: String,
}

/// How many syntax errors one file reports at most; the rest only add noise.
const MAX_SYNTAX_ERRORS: usize = 20;

/// Parse Python source. Never panics; broken code yields syntax errors plus whatever parsed.
pub fn parse(text: &str) -> ParsedModule {
    // A UTF-8 BOM is legal at the start of a Python file; blank it so offsets stay put.
    let owned;
    let src: &str = if let Some(rest) = text.strip_prefix('\u{feff}') {
        owned = format!("   {rest}");
        &owned
    } else {
        text
    };
    let mut parser = tree_sitter::Parser::new();
    if parser.set_language(&tree_sitter_python::LANGUAGE.into()).is_err() {
        return ParsedModule::default();
    }
    let Some(tree) = parser.parse(src, None) else {
        return ParsedModule {
            body: Vec::new(),
            syntax_errors: vec![SyntaxError {
                range: TextRange::new(0, 0),
                message: "the parser gave up on this file".into(),
            }],
        };
    };
    let root = tree.root_node();
    let mut syntax_errors = Vec::new();
    if root.has_error() {
        collect_errors(root, src, &mut syntax_errors);
    }
    let mut lowerer = lower::Lowerer::new(src);
    let body = lowerer.block(root);
    // Dropping a very deep tree recurses in tree-sitter's C code only iteratively, so this is safe.
    ParsedModule { body, syntax_errors }
}

fn collect_errors(root: tree_sitter::Node, src: &str, out: &mut Vec<SyntaxError>) {
    // Iterative walk: deep trees must not overflow the stack.
    let mut cursor = root.walk();
    let mut visited_children = false;
    loop {
        let node = cursor.node();
        if !visited_children {
            if node.is_error() || node.is_missing() {
                if out.len() < MAX_SYNTAX_ERRORS {
                    let message = if node.is_missing() {
                        format!("invalid syntax: expected `{}`", node.kind())
                    } else {
                        let snippet: String =
                            src.get(node.start_byte()..node.end_byte()).unwrap_or("").chars().take(30).collect();
                        let snippet = snippet.lines().next().unwrap_or("").trim().to_string();
                        if snippet.is_empty() {
                            "invalid syntax".to_string()
                        } else {
                            format!("invalid syntax near `{snippet}`")
                        }
                    };
                    let mut range = TextRange::new(node.start_byte(), node.end_byte());
                    // Keep the range on one line so editors underline something sensible.
                    if let Some(nl) = src.get(range.start..range.end).and_then(|s| s.find('\n')) {
                        range.end = range.start + nl.max(1);
                    }
                    out.push(SyntaxError { range, message });
                }
                // Don't descend into an error node.
            } else if node.has_error() && cursor.goto_first_child() {
                continue;
            }
        }
        if cursor.goto_next_sibling() {
            visited_children = false;
        } else if cursor.goto_parent() {
            visited_children = true;
        } else {
            break;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lowers_decorated_function_with_params() {
        let m = parse("@task(cache=True)\ndef f(a: int, b: str = 'x', *, c: float) -> int:\n    return a\n");
        let StmtKind::FunctionDef(f) = &m.body[0].kind else { panic!("not a function") };
        assert_eq!(f.name, "f");
        assert_eq!(f.decorators.len(), 1);
        let names: Vec<_> = f.params.iter().map(|p| (p.name.as_str(), p.kind)).collect();
        assert_eq!(names, vec![("a", ParamKind::Normal), ("b", ParamKind::Normal), ("c", ParamKind::KeywordOnly)]);
        assert_eq!(f.params[1].default.as_ref().unwrap().as_str(), Some("x"));
        assert_eq!(f.returns.as_ref().unwrap().dotted().as_deref(), Some("int"));
        assert!(m.syntax_errors.is_empty());
    }

    #[test]
    fn reports_syntax_errors_and_keeps_the_rest() {
        let m = parse("def f(:\n    pass\n\nx = 1\n");
        assert!(!m.syntax_errors.is_empty());
        assert!(m.body.iter().any(|s| matches!(&s.kind, StmtKind::Assign { .. })));
    }

    #[test]
    fn deep_nesting_does_not_overflow() {
        let src = format!("x = {}1{}\n", "(".repeat(5000), ")".repeat(5000));
        let _ = parse(&src);
        let src = format!("x = {}1{}\n", "[".repeat(5000), "]".repeat(5000));
        let _ = parse(&src);
    }

    #[test]
    fn bom_keeps_offsets() {
        let m = parse("\u{feff}x = 1\n");
        assert!(m.syntax_errors.is_empty());
        assert_eq!(m.body[0].range.start, 3);
    }
}
