//! Lowering tree-sitter's Python CST into the owned [`ast`](super::ast).

use super::ast::*;
use crate::diagnostic::TextRange;
use tree_sitter::Node;

/// Deeper nesting than this is lowered as `Other`, so pathological input cannot overflow the stack.
const MAX_DEPTH: usize = 100;

pub(super) struct Lowerer<'a> {
    pub src: &'a str,
    depth: usize,
}

/// Field ids, looked up once: `child_by_field_name` scans every field name on each call.
fn fid(name: &str) -> std::num::NonZeroU16 {
    use std::collections::HashMap;
    use std::num::NonZeroU16;
    use std::sync::OnceLock;
    static IDS: OnceLock<HashMap<String, NonZeroU16>> = OnceLock::new();
    let ids = IDS.get_or_init(|| {
        let lang: tree_sitter::Language = tree_sitter_python::LANGUAGE.into();
        let mut ids = HashMap::new();
        for id in 1..=lang.field_count() as u16 {
            if let (Some(name), Some(nz)) = (lang.field_name_for_id(id), NonZeroU16::new(id)) {
                ids.insert(name.to_string(), nz);
            }
        }
        ids
    });
    // Every name used here exists in the grammar (a unit test checks it); u16::MAX matches no child.
    ids.get(name).copied().unwrap_or(NonZeroU16::MAX)
}

fn field<'t>(n: Node<'t>, name: &str) -> Option<Node<'t>> {
    n.child_by_field_id(fid(name).get())
}

fn range(n: Node) -> TextRange {
    TextRange::new(n.start_byte(), n.end_byte())
}

impl<'a> Lowerer<'a> {
    pub fn new(src: &'a str) -> Self {
        Lowerer { src, depth: 0 }
    }

    fn text(&self, n: Node) -> &'a str {
        self.src.get(n.start_byte()..n.end_byte()).unwrap_or("")
    }

    pub fn block(&mut self, n: Node) -> Vec<Stmt> {
        let mut out = Vec::new();
        let mut cursor = n.walk();
        for child in n.named_children(&mut cursor) {
            if child.kind() == "comment" {
                continue;
            }
            if let Some(s) = self.stmt(child) {
                out.push(s);
            }
        }
        out
    }

    fn body_of(&mut self, n: Node, name: &str) -> Vec<Stmt> {
        match field(n, name) {
            Some(b) => self.block(b),
            None => Vec::new(),
        }
    }

    fn stmt(&mut self, n: Node) -> Option<Stmt> {
        if self.depth > MAX_DEPTH {
            return Some(Stmt { kind: StmtKind::Other, range: range(n) });
        }
        self.depth += 1;
        let kind = self.stmt_kind(n);
        self.depth -= 1;
        kind.map(|kind| Stmt { kind, range: range(n) })
    }

    fn stmt_kind(&mut self, n: Node) -> Option<StmtKind> {
        Some(match n.kind() {
            "expression_statement" => {
                let child = n.named_child(0)?;
                match child.kind() {
                    "assignment" => self.assignment(child),
                    "augmented_assignment" => StmtKind::AugAssign {
                        target: self.field_expr(child, "left"),
                        op: field(child, "operator").map(|o| self.text(o).to_string()).unwrap_or_default(),
                        value: self.field_expr(child, "right"),
                    },
                    _ => {
                        // `a, b` as a statement is a tuple of its named children.
                        if n.named_child_count() > 1 {
                            let mut items = Vec::new();
                            let mut c = n.walk();
                            for ch in n.named_children(&mut c) {
                                items.push(self.expr(ch));
                            }
                            StmtKind::Expr(Expr::new(ExprKind::Tuple(items), range(n)))
                        } else {
                            StmtKind::Expr(self.expr(child))
                        }
                    }
                }
            }
            "return_statement" => StmtKind::Return(n.named_child(0).map(|e| self.expr(e))),
            "if_statement" => {
                let test = self.field_expr(n, "condition");
                let body = self.body_of(n, "consequence");
                let mut orelse = Vec::new();
                // elif chains become nested ifs.
                let mut c = n.walk();
                let alternatives: Vec<Node> = n.children_by_field_id(fid("alternative"), &mut c).collect();
                let mut tail: Vec<Stmt> = Vec::new();
                for alt in alternatives.into_iter().rev() {
                    match alt.kind() {
                        "else_clause" => tail = self.body_of(alt, "body"),
                        "elif_clause" => {
                            let t = self.field_expr(alt, "condition");
                            let b = self.body_of(alt, "consequence");
                            tail =
                                vec![Stmt { kind: StmtKind::If { test: t, body: b, orelse: tail }, range: range(alt) }];
                        }
                        _ => {}
                    }
                }
                orelse.extend(tail);
                StmtKind::If { test, body, orelse }
            }
            "for_statement" => StmtKind::For {
                target: self.field_expr(n, "left"),
                iter: self.field_expr(n, "right"),
                body: self.body_of(n, "body"),
                orelse: field(n, "alternative").map(|a| self.body_of(a, "body")).unwrap_or_default(),
            },
            "while_statement" => StmtKind::While {
                test: self.field_expr(n, "condition"),
                body: self.body_of(n, "body"),
                orelse: field(n, "alternative").map(|a| self.body_of(a, "body")).unwrap_or_default(),
            },
            "with_statement" => {
                let mut items = Vec::new();
                let mut c = n.walk();
                for ch in n.named_children(&mut c) {
                    if ch.kind() == "with_clause" {
                        let mut c2 = ch.walk();
                        for item in ch.named_children(&mut c2) {
                            if item.kind() != "with_item" {
                                continue;
                            }
                            if let Some(v) = field(item, "value") {
                                if v.kind() == "as_pattern" {
                                    let e = v.named_child(0).map(|x| self.expr(x)).unwrap_or_else(|| self.other(v));
                                    let alias = field(v, "alias").map(|a| self.expr(a));
                                    items.push((e, alias));
                                } else {
                                    items.push((self.expr(v), None));
                                }
                            }
                        }
                    }
                }
                StmtKind::With { items, body: self.body_of(n, "body") }
            }
            "try_statement" => {
                let body = self.body_of(n, "body");
                let mut handlers = Vec::new();
                let mut orelse = Vec::new();
                let mut finalbody = Vec::new();
                let mut c = n.walk();
                for ch in n.named_children(&mut c) {
                    match ch.kind() {
                        "except_clause" | "except_group_clause" => {
                            let mut c2 = ch.walk();
                            let blk = ch.named_children(&mut c2).find(|x| x.kind() == "block");
                            handlers.push(blk.map(|b| self.block(b)).unwrap_or_default());
                        }
                        "else_clause" => orelse = self.body_of(ch, "body"),
                        "finally_clause" => {
                            let mut c2 = ch.walk();
                            let blk = ch.named_children(&mut c2).find(|x| x.kind() == "block");
                            finalbody = blk.map(|b| self.block(b)).unwrap_or_default();
                        }
                        _ => {}
                    }
                }
                StmtKind::Try { body, handlers, orelse, finalbody }
            }
            "function_definition" => StmtKind::FunctionDef(std::sync::Arc::new(self.function(n, Vec::new(), range(n)))),
            "class_definition" => StmtKind::ClassDef(std::sync::Arc::new(self.class(n, Vec::new(), range(n)))),
            "decorated_definition" => {
                let mut decorators = Vec::new();
                let mut c = n.walk();
                for ch in n.named_children(&mut c) {
                    if ch.kind() == "decorator" {
                        if let Some(e) = ch.named_child(0) {
                            decorators.push(self.expr(e));
                        }
                    }
                }
                let def = field(n, "definition")?;
                match def.kind() {
                    "function_definition" => {
                        StmtKind::FunctionDef(std::sync::Arc::new(self.function(def, decorators, range(n))))
                    }
                    "class_definition" => {
                        StmtKind::ClassDef(std::sync::Arc::new(self.class(def, decorators, range(n))))
                    }
                    _ => StmtKind::Other,
                }
            }
            "import_statement" => {
                let mut names = Vec::new();
                let mut c = n.walk();
                for ch in n.children_by_field_id(fid("name"), &mut c) {
                    names.push(self.import_name(ch));
                }
                StmtKind::Import(names)
            }
            "import_from_statement" => {
                let (module, level) = match field(n, "module_name") {
                    Some(m) if m.kind() == "relative_import" => {
                        let t = self.text(m);
                        let level = t.chars().take_while(|c| *c == '.').count();
                        let rest = t[level..].trim();
                        (if rest.is_empty() { None } else { Some(rest.to_string()) }, level)
                    }
                    Some(m) => (Some(self.text(m).to_string()), 0),
                    None => (None, 0),
                };
                let mut names = Vec::new();
                let mut star = false;
                let mut c = n.walk();
                for ch in n.children_by_field_id(fid("name"), &mut c) {
                    names.push(self.import_name(ch));
                }
                let mut c = n.walk();
                if n.named_children(&mut c).any(|ch| ch.kind() == "wildcard_import") {
                    star = true;
                }
                StmtKind::ImportFrom { module, level, names, star }
            }
            "future_import_statement" => StmtKind::Other,
            "pass_statement" => StmtKind::Pass,
            "comment" => return None,
            _ => StmtKind::Other,
        })
    }

    fn import_name(&mut self, n: Node) -> ImportName {
        if n.kind() == "aliased_import" {
            let name = field(n, "name").map(|x| self.text(x)).unwrap_or("");
            let alias = field(n, "alias").map(|x| self.text(x).to_string());
            ImportName { name: strip_ws(name), alias, range: range(n) }
        } else {
            ImportName { name: strip_ws(self.text(n)), alias: None, range: range(n) }
        }
    }

    fn assignment(&mut self, n: Node) -> StmtKind {
        // `a = b = c` nests: assignment(left=a, right=assignment(left=b, right=c)).
        let mut targets = vec![self.field_expr(n, "left")];
        let annotation = field(n, "type").and_then(|t| t.named_child(0)).map(|t| self.expr(t));
        let mut value_node = field(n, "right");
        while let Some(v) = value_node {
            if v.kind() == "assignment" {
                targets.push(self.field_expr(v, "left"));
                value_node = field(v, "right");
            } else {
                break;
            }
        }
        let value = value_node.map(|v| self.expr(v));
        StmtKind::Assign { targets, annotation, value }
    }

    fn function(&mut self, n: Node, decorators: Vec<Expr>, whole: TextRange) -> FunctionDef {
        let name_node = field(n, "name");
        let name = name_node.map(|x| self.text(x).to_string()).unwrap_or_default();
        let name_range = name_node.map(range).unwrap_or(range(n));
        let is_async = self.text(n).trim_start().starts_with("async");
        let mut params = Vec::new();
        if let Some(ps) = field(n, "parameters") {
            let mut kind_after_star = ParamKind::Normal;
            let mut c = ps.walk();
            let children: Vec<Node> = ps.named_children(&mut c).collect();
            for p in children {
                match p.kind() {
                    "identifier" => params.push(Param {
                        name: self.text(p).to_string(),
                        range: range(p),
                        annotation: None,
                        default: None,
                        kind: kind_after_star,
                    }),
                    "typed_parameter" => {
                        let inner = p.named_child(0);
                        let ann = field(p, "type").and_then(|t| t.named_child(0)).map(|t| self.expr(t));
                        match inner.map(|i| i.kind()) {
                            Some("list_splat_pattern") => {
                                kind_after_star = ParamKind::KeywordOnly;
                                params.push(Param {
                                    name: self.text(inner.unwrap()).trim_start_matches('*').to_string(),
                                    range: range(p),
                                    annotation: ann,
                                    default: None,
                                    kind: ParamKind::VarArgs,
                                })
                            }
                            Some("dictionary_splat_pattern") => params.push(Param {
                                name: self.text(inner.unwrap()).trim_start_matches('*').to_string(),
                                range: range(p),
                                annotation: ann,
                                default: None,
                                kind: ParamKind::VarKwargs,
                            }),
                            _ => params.push(Param {
                                name: inner.map(|i| self.text(i).to_string()).unwrap_or_default(),
                                range: inner.map(range).unwrap_or(range(p)),
                                annotation: ann,
                                default: None,
                                kind: kind_after_star,
                            }),
                        }
                    }
                    "default_parameter" | "typed_default_parameter" => {
                        let nm = field(p, "name");
                        let ann = field(p, "type").and_then(|t| t.named_child(0)).map(|t| self.expr(t));
                        params.push(Param {
                            name: nm.map(|x| self.text(x).to_string()).unwrap_or_default(),
                            range: nm.map(range).unwrap_or(range(p)),
                            annotation: ann,
                            default: field(p, "value").map(|v| self.expr(v)),
                            kind: kind_after_star,
                        })
                    }
                    "list_splat_pattern" => {
                        kind_after_star = ParamKind::KeywordOnly;
                        params.push(Param {
                            name: self.text(p).trim_start_matches('*').to_string(),
                            range: range(p),
                            annotation: None,
                            default: None,
                            kind: ParamKind::VarArgs,
                        })
                    }
                    "dictionary_splat_pattern" => params.push(Param {
                        name: self.text(p).trim_start_matches('*').to_string(),
                        range: range(p),
                        annotation: None,
                        default: None,
                        kind: ParamKind::VarKwargs,
                    }),
                    "keyword_separator" => kind_after_star = ParamKind::KeywordOnly,
                    "positional_separator" => {
                        for q in params.iter_mut() {
                            if q.kind == ParamKind::Normal {
                                q.kind = ParamKind::PositionalOnly;
                            }
                        }
                    }
                    _ => {}
                }
            }
        }
        let returns = field(n, "return_type").map(|r| {
            // `return_type` is a `type` node wrapping the expression.
            if r.kind() == "type" {
                r.named_child(0).map(|x| self.expr(x)).unwrap_or_else(|| self.other(r))
            } else {
                self.expr(r)
            }
        });
        let body_node = field(n, "body");
        let body = body_node.map(|b| self.block(b)).unwrap_or_default();
        let docstring = body.first().and_then(|s| match &s.kind {
            StmtKind::Expr(e) => e.as_str().map(str::to_string),
            _ => None,
        });
        let header_end = body_node.map(|b| b.start_byte()).unwrap_or(n.end_byte());
        FunctionDef {
            name,
            name_range,
            decorators,
            params,
            returns,
            body,
            is_async,
            docstring,
            range: whole,
            header_range: TextRange::new(whole.start, header_end),
        }
    }

    fn class(&mut self, n: Node, decorators: Vec<Expr>, whole: TextRange) -> ClassDef {
        let name_node = field(n, "name");
        let bases = field(n, "superclasses").map(|a| self.arguments(a)).unwrap_or_default();
        ClassDef {
            name: name_node.map(|x| self.text(x).to_string()).unwrap_or_default(),
            name_range: name_node.map(range).unwrap_or(range(n)),
            decorators,
            bases,
            body: self.body_of(n, "body"),
            range: whole,
        }
    }

    fn field_expr(&mut self, n: Node, name: &str) -> Expr {
        match field(n, name) {
            Some(c) => self.expr(c),
            None => Expr::new(ExprKind::Other, range(n)),
        }
    }

    fn other(&self, n: Node) -> Expr {
        Expr::new(ExprKind::Other, range(n))
    }

    fn children_exprs(&mut self, n: Node) -> Vec<Expr> {
        let mut out = Vec::new();
        let mut c = n.walk();
        let kids: Vec<Node> = n.named_children(&mut c).collect();
        for ch in kids {
            if ch.kind() == "comment" {
                continue;
            }
            out.push(self.expr(ch));
        }
        out
    }

    fn arguments(&mut self, n: Node) -> Vec<Arg> {
        let mut out = Vec::new();
        let mut c = n.walk();
        let kids: Vec<Node> = n.named_children(&mut c).collect();
        for ch in kids {
            match ch.kind() {
                "comment" => {}
                "keyword_argument" => {
                    let nm = field(ch, "name");
                    out.push(Arg {
                        name: nm.map(|x| self.text(x).to_string()),
                        name_range: nm.map(range),
                        value: self.field_expr(ch, "value"),
                        range: range(ch),
                        star: ArgStar::None,
                    })
                }
                "list_splat" => out.push(Arg {
                    name: None,
                    name_range: None,
                    value: ch.named_child(0).map(|x| self.expr(x)).unwrap_or_else(|| self.other(ch)),
                    range: range(ch),
                    star: ArgStar::Args,
                }),
                "dictionary_splat" => out.push(Arg {
                    name: None,
                    name_range: None,
                    value: ch.named_child(0).map(|x| self.expr(x)).unwrap_or_else(|| self.other(ch)),
                    range: range(ch),
                    star: ArgStar::Kwargs,
                }),
                _ => out.push(Arg {
                    name: None,
                    name_range: None,
                    value: self.expr(ch),
                    range: range(ch),
                    star: ArgStar::None,
                }),
            }
        }
        out
    }

    pub fn expr(&mut self, n: Node) -> Expr {
        if self.depth > MAX_DEPTH {
            return self.other(n);
        }
        self.depth += 1;
        let kind = self.expr_kind(n);
        self.depth -= 1;
        Expr::new(kind, range(n))
    }

    fn expr_kind(&mut self, n: Node) -> ExprKind {
        match n.kind() {
            "identifier" => ExprKind::Name(self.text(n).to_string()),
            "attribute" => {
                let attr = field(n, "attribute");
                ExprKind::Attribute {
                    value: Box::new(self.field_expr(n, "object")),
                    attr: attr.map(|a| self.text(a).to_string()).unwrap_or_default(),
                    attr_range: attr.map(range).unwrap_or(range(n)),
                }
            }
            "call" => {
                let func = Box::new(self.field_expr(n, "function"));
                let args = match field(n, "arguments") {
                    Some(a) if a.kind() == "argument_list" => self.arguments(a),
                    Some(g) => vec![Arg {
                        name: None,
                        name_range: None,
                        value: self.expr(g),
                        range: range(g),
                        star: ArgStar::None,
                    }],
                    None => Vec::new(),
                };
                ExprKind::Call { func, args }
            }
            "subscript" => {
                let value = Box::new(self.field_expr(n, "value"));
                let mut index = Vec::new();
                let mut c = n.walk();
                let subs: Vec<Node> = n.children_by_field_id(fid("subscript"), &mut c).collect();
                for s in subs {
                    index.push(self.expr(s));
                }
                ExprKind::Subscript { value, index }
            }
            "string" => self.string(n),
            "concatenated_string" => {
                let mut s = String::new();
                let mut interps = Vec::new();
                let mut c = n.walk();
                let kids: Vec<Node> = n.named_children(&mut c).collect();
                for ch in kids {
                    match self.string(ch) {
                        ExprKind::Str(t) => s.push_str(&t),
                        ExprKind::FString(es) => interps.extend(es),
                        _ => {}
                    }
                }
                if interps.is_empty() && !self.text(n).contains(['f', 'F']) {
                    ExprKind::Str(s)
                } else {
                    ExprKind::FString(interps)
                }
            }
            "integer" => ExprKind::Int(self.text(n).to_string()),
            "float" => ExprKind::Float(self.text(n).to_string()),
            "true" => ExprKind::Bool(true),
            "false" => ExprKind::Bool(false),
            "none" => ExprKind::NoneLit,
            "ellipsis" => ExprKind::Ellipsis,
            "list" => ExprKind::List(self.children_exprs(n)),
            "tuple" | "expression_list" | "pattern_list" | "tuple_pattern" | "list_pattern" => {
                let items = self.children_exprs(n);
                if n.kind() == "list_pattern" {
                    ExprKind::List(items)
                } else {
                    ExprKind::Tuple(items)
                }
            }
            "set" => ExprKind::Set(self.children_exprs(n)),
            "dictionary" => {
                let mut kvs = Vec::new();
                let mut c = n.walk();
                let kids: Vec<Node> = n.named_children(&mut c).collect();
                for ch in kids {
                    if ch.kind() == "pair" {
                        kvs.push((self.field_expr(ch, "key"), self.field_expr(ch, "value")));
                    }
                }
                ExprKind::Dict(kvs)
            }
            "parenthesized_expression" => match n.named_child(0) {
                Some(inner) if inner.kind() != "comment" => self.expr(inner).kind,
                _ => ExprKind::Other,
            },
            "binary_operator" => ExprKind::BinOp {
                op: field(n, "operator").map(|o| self.text(o).to_string()).unwrap_or_default(),
                left: Box::new(self.field_expr(n, "left")),
                right: Box::new(self.field_expr(n, "right")),
            },
            "boolean_operator" => ExprKind::BoolOp {
                op: field(n, "operator").map(|o| self.text(o).to_string()).unwrap_or_default(),
                left: Box::new(self.field_expr(n, "left")),
                right: Box::new(self.field_expr(n, "right")),
            },
            "comparison_operator" => {
                let mut ops = Vec::new();
                let mut operands = Vec::new();
                let mut c = n.walk();
                let kids: Vec<Node> = n.children(&mut c).collect();
                for ch in kids {
                    if ch.is_named() && ch.kind() != "comment" {
                        operands.push(self.expr(ch));
                    } else if !ch.is_named() {
                        ops.push(self.text(ch).to_string());
                    }
                }
                ExprKind::Compare { ops, operands }
            }
            "not_operator" => ExprKind::Unary { op: "not".into(), operand: Box::new(self.field_expr(n, "argument")) },
            "unary_operator" => ExprKind::Unary {
                op: field(n, "operator").map(|o| self.text(o).to_string()).unwrap_or_default(),
                operand: Box::new(self.field_expr(n, "argument")),
            },
            "conditional_expression" => {
                let mut c = n.walk();
                let kids: Vec<Node> = n.named_children(&mut c).filter(|k| k.kind() != "comment").collect();
                if kids.len() == 3 {
                    ExprKind::IfExp {
                        body: Box::new(self.expr(kids[0])),
                        test: Box::new(self.expr(kids[1])),
                        orelse: Box::new(self.expr(kids[2])),
                    }
                } else {
                    ExprKind::Other
                }
            }
            "list_comprehension" | "set_comprehension" | "generator_expression" | "dictionary_comprehension" => {
                let element = Box::new(self.field_expr(n, "body"));
                let mut iters = Vec::new();
                let mut c = n.walk();
                let kids: Vec<Node> = n.named_children(&mut c).collect();
                for ch in kids {
                    if ch.kind() == "for_in_clause" {
                        iters.push(self.field_expr(ch, "right"));
                    }
                }
                ExprKind::Comprehension { element, iters }
            }
            "lambda" => ExprKind::Lambda,
            "list_splat" | "list_splat_pattern" => {
                ExprKind::Starred(Box::new(n.named_child(0).map(|x| self.expr(x)).unwrap_or_else(|| self.other(n))))
            }
            "await" => {
                ExprKind::Await(Box::new(n.named_child(0).map(|x| self.expr(x)).unwrap_or_else(|| self.other(n))))
            }
            // Annotations: tree-sitter has type-specific nodes for `List[int]`, `A | B`, `a.B`.
            "type" => match n.named_child(0) {
                Some(inner) => self.expr(inner).kind,
                None => ExprKind::Other,
            },
            "generic_type" => {
                let mut c = n.walk();
                let kids: Vec<Node> = n.named_children(&mut c).collect();
                let Some(base) = kids.first() else { return ExprKind::Other };
                let value = Box::new(self.expr(*base));
                let mut index = Vec::new();
                for k in &kids[1..] {
                    if k.kind() == "type_parameter" {
                        let mut c2 = k.walk();
                        let params: Vec<Node> = k.named_children(&mut c2).collect();
                        for p in params {
                            index.push(self.expr(p));
                        }
                    }
                }
                ExprKind::Subscript { value, index }
            }
            "union_type" => {
                let mut c = n.walk();
                let kids: Vec<Node> = n.named_children(&mut c).collect();
                if kids.len() == 2 {
                    ExprKind::BinOp {
                        op: "|".into(),
                        left: Box::new(self.expr(kids[0])),
                        right: Box::new(self.expr(kids[1])),
                    }
                } else {
                    ExprKind::Other
                }
            }
            "member_type" => {
                let mut c = n.walk();
                let kids: Vec<Node> = n.named_children(&mut c).collect();
                match kids.as_slice() {
                    [obj, attr] => ExprKind::Attribute {
                        value: Box::new(self.expr(*obj)),
                        attr: self.text(*attr).to_string(),
                        attr_range: range(*attr),
                    },
                    _ => ExprKind::Other,
                }
            }
            _ => ExprKind::Other,
        }
    }

    fn string(&mut self, n: Node) -> ExprKind {
        if n.kind() != "string" {
            return ExprKind::Other;
        }
        let mut content = String::new();
        let mut interps = Vec::new();
        let mut is_f = false;
        let mut c = n.walk();
        let kids: Vec<Node> = n.named_children(&mut c).collect();
        for ch in kids {
            match ch.kind() {
                "string_start" => is_f = self.text(ch).to_ascii_lowercase().contains('f'),
                "string_content" => content.push_str(&unescape(self.text(ch))),
                "escape_sequence" => content.push_str(&unescape(self.text(ch))),
                "interpolation" => {
                    if let Some(e) = field(ch, "expression") {
                        interps.push(self.expr(e));
                    }
                }
                _ => {}
            }
        }
        if is_f {
            ExprKind::FString(interps)
        } else {
            ExprKind::Str(content)
        }
    }
}

fn strip_ws(s: &str) -> String {
    s.chars().filter(|c| !c.is_whitespace()).collect()
}

/// Best-effort unescaping of simple escapes (enough for names, formats and quantities).
fn unescape(s: &str) -> String {
    if !s.contains('\\') {
        return s.to_string();
    }
    let mut out = String::with_capacity(s.len());
    let mut chars = s.chars();
    while let Some(c) = chars.next() {
        if c != '\\' {
            out.push(c);
            continue;
        }
        match chars.next() {
            Some('n') => out.push('\n'),
            Some('t') => out.push('\t'),
            Some('\\') => out.push('\\'),
            Some('\'') => out.push('\''),
            Some('"') => out.push('"'),
            Some('\n') => {}
            Some(o) => {
                out.push('\\');
                out.push(o);
            }
            None => out.push('\\'),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    #[test]
    fn every_field_name_used_exists_in_the_grammar() {
        let src = include_str!("lower.rs");
        let mut names: Vec<&str> = Vec::new();
        for pat in ["field(n, \"", "fid(\"", "field_expr(n, \"", "body_of(n, \""] {
            let mut rest = src;
            while let Some(i) = rest.find(pat) {
                rest = &rest[i + pat.len()..];
                names.push(&rest[..rest.find('"').unwrap()]);
            }
        }
        assert!(names.len() > 10);
        for n in names {
            assert_ne!(super::fid(n), std::num::NonZeroU16::MAX, "field `{n}` is not in tree-sitter-python");
        }
    }
}
