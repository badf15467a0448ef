//! A small owned Python AST: the subset of Python that Flyte analysis needs.
//!
//! It is lowered from tree-sitter's concrete tree once per file, so later
//! stages hold no tree and can be cached and shared across threads.

use crate::diagnostic::TextRange;
use std::sync::Arc;

#[derive(Clone, Debug, PartialEq)]
pub struct Expr {
    pub kind: ExprKind,
    pub range: TextRange,
}

#[derive(Clone, Debug, PartialEq)]
pub enum ExprKind {
    Name(String),
    Attribute {
        value: Box<Expr>,
        attr: String,
        attr_range: TextRange,
    },
    Call {
        func: Box<Expr>,
        args: Vec<Arg>,
    },
    Subscript {
        value: Box<Expr>,
        index: Vec<Expr>,
    },
    Str(String),
    /// An f-string; the expressions interpolated into it.
    FString(Vec<Expr>),
    Int(String),
    Float(String),
    Bool(bool),
    NoneLit,
    Ellipsis,
    List(Vec<Expr>),
    Tuple(Vec<Expr>),
    Set(Vec<Expr>),
    Dict(Vec<(Expr, Expr)>),
    /// `a + b`, `a | b`, `a >> b`, ... with the operator text.
    BinOp {
        op: String,
        left: Box<Expr>,
        right: Box<Expr>,
    },
    /// `a < b`, `a == b`, `a in b`, ...
    Compare {
        ops: Vec<String>,
        operands: Vec<Expr>,
    },
    /// `a and b`, `a or b`.
    BoolOp {
        op: String,
        left: Box<Expr>,
        right: Box<Expr>,
    },
    /// `not a`, `-a`, `~a`.
    Unary {
        op: String,
        operand: Box<Expr>,
    },
    /// `a if cond else b`.
    IfExp {
        test: Box<Expr>,
        body: Box<Expr>,
        orelse: Box<Expr>,
    },
    /// A comprehension; `iters` are the iterables it loops over, `element` what it yields.
    Comprehension {
        element: Box<Expr>,
        iters: Vec<Expr>,
    },
    Lambda,
    Starred(Box<Expr>),
    Await(Box<Expr>),
    /// Anything else; the analysis treats it as an unknown value.
    Other,
}

/// One call argument: positional (`name == None`), keyword, `*args` or `**kwargs`.
#[derive(Clone, Debug, PartialEq)]
pub struct Arg {
    pub name: Option<String>,
    pub name_range: Option<TextRange>,
    pub value: Expr,
    pub range: TextRange,
    pub star: ArgStar,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ArgStar {
    None,
    Args,
    Kwargs,
}

#[derive(Clone, Debug, PartialEq)]
pub struct Stmt {
    pub kind: StmtKind,
    pub range: TextRange,
}

#[derive(Clone, Debug, PartialEq)]
pub enum StmtKind {
    Expr(Expr),
    /// `a = b = value`, `a, b = value`, `a: T = value`.
    Assign {
        targets: Vec<Expr>,
        annotation: Option<Expr>,
        value: Option<Expr>,
    },
    AugAssign {
        target: Expr,
        op: String,
        value: Expr,
    },
    Return(Option<Expr>),
    If {
        test: Expr,
        body: Vec<Stmt>,
        orelse: Vec<Stmt>,
    },
    For {
        target: Expr,
        iter: Expr,
        body: Vec<Stmt>,
        orelse: Vec<Stmt>,
    },
    While {
        test: Expr,
        body: Vec<Stmt>,
        orelse: Vec<Stmt>,
    },
    With {
        items: Vec<(Expr, Option<Expr>)>,
        body: Vec<Stmt>,
    },
    Try {
        body: Vec<Stmt>,
        handlers: Vec<Vec<Stmt>>,
        orelse: Vec<Stmt>,
        finalbody: Vec<Stmt>,
    },
    FunctionDef(Arc<FunctionDef>),
    ClassDef(Arc<ClassDef>),
    Import(Vec<ImportName>),
    ImportFrom {
        module: Option<String>,
        level: usize,
        names: Vec<ImportName>,
        star: bool,
    },
    Pass,
    Other,
}

/// `a.b.c` or `a.b.c as d` in an import, or `x as y` in a from-import.
#[derive(Clone, Debug, PartialEq)]
pub struct ImportName {
    pub name: String,
    pub alias: Option<String>,
    pub range: TextRange,
}

#[derive(Clone, Debug, PartialEq)]
pub struct FunctionDef {
    pub name: String,
    pub name_range: TextRange,
    pub decorators: Vec<Expr>,
    pub params: Vec<Param>,
    pub returns: Option<Expr>,
    pub body: Vec<Stmt>,
    pub is_async: bool,
    pub docstring: Option<String>,
    /// The whole definition, decorators included.
    pub range: TextRange,
    /// Where the signature ends (the `:` before the body).
    pub header_range: TextRange,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ParamKind {
    Normal,
    /// `*args`
    VarArgs,
    /// `**kwargs`
    VarKwargs,
    KeywordOnly,
    PositionalOnly,
}

#[derive(Clone, Debug, PartialEq)]
pub struct Param {
    pub name: String,
    pub range: TextRange,
    pub annotation: Option<Expr>,
    pub default: Option<Expr>,
    pub kind: ParamKind,
}

#[derive(Clone, Debug, PartialEq)]
pub struct ClassDef {
    pub name: String,
    pub name_range: TextRange,
    pub decorators: Vec<Expr>,
    pub bases: Vec<Arg>,
    pub body: Vec<Stmt>,
    pub range: TextRange,
}

impl Expr {
    pub fn new(kind: ExprKind, range: TextRange) -> Self {
        Expr { kind, range }
    }

    /// `a.b.c` as a dotted string, when the expression is only names and attributes.
    pub fn dotted(&self) -> Option<String> {
        match &self.kind {
            ExprKind::Name(n) => Some(n.clone()),
            ExprKind::Attribute { value, attr, .. } => value.dotted().map(|v| format!("{v}.{attr}")),
            _ => None,
        }
    }

    /// The leftmost name of an attribute or subscript chain (`a` in `a.b[0].c`), or "".
    pub fn root_name(&self) -> &str {
        match &self.kind {
            ExprKind::Name(n) => n,
            ExprKind::Attribute { value, .. } | ExprKind::Subscript { value, .. } => value.root_name(),
            _ => "",
        }
    }

    /// The part of a name/attribute chain that ends at byte `end` (`a.b` in `a.b.c` for the end of `b`).
    pub fn subexpr_ending_at(&self, end: usize) -> Option<&Expr> {
        match &self.kind {
            ExprKind::Name(_) if self.range.end == end => Some(self),
            ExprKind::Attribute { value, attr_range, .. } => {
                if attr_range.end == end {
                    Some(self)
                } else {
                    value.subexpr_ending_at(end)
                }
            }
            _ => None,
        }
    }

    pub fn as_str(&self) -> Option<&str> {
        match &self.kind {
            ExprKind::Str(s) => Some(s),
            _ => None,
        }
    }

    /// Visit this expression and every sub-expression, outer first.
    pub fn walk<'a>(&'a self, f: &mut dyn FnMut(&'a Expr)) {
        f(self);
        match &self.kind {
            ExprKind::Attribute { value, .. } => value.walk(f),
            ExprKind::Call { func, args } => {
                func.walk(f);
                for a in args {
                    a.value.walk(f);
                }
            }
            ExprKind::Subscript { value, index } => {
                value.walk(f);
                index.iter().for_each(|e| e.walk(f));
            }
            ExprKind::FString(es) | ExprKind::List(es) | ExprKind::Tuple(es) | ExprKind::Set(es) => {
                es.iter().for_each(|e| e.walk(f))
            }
            ExprKind::Dict(kvs) => {
                for (k, v) in kvs {
                    k.walk(f);
                    v.walk(f);
                }
            }
            ExprKind::BinOp { left, right, .. } | ExprKind::BoolOp { left, right, .. } => {
                left.walk(f);
                right.walk(f);
            }
            ExprKind::Compare { operands, .. } => operands.iter().for_each(|e| e.walk(f)),
            ExprKind::Unary { operand, .. } | ExprKind::Starred(operand) | ExprKind::Await(operand) => operand.walk(f),
            ExprKind::IfExp { test, body, orelse } => {
                test.walk(f);
                body.walk(f);
                orelse.walk(f);
            }
            ExprKind::Comprehension { element, iters } => {
                element.walk(f);
                iters.iter().for_each(|e| e.walk(f));
            }
            _ => {}
        }
    }
}

impl Stmt {
    /// The statement blocks nested directly in a compound statement (`if`/`while`/`for` bodies and
    /// `else`s, `with`, `try` with its handlers), in source order; not function or class bodies.
    pub fn blocks(&self) -> Vec<&[Stmt]> {
        match &self.kind {
            StmtKind::If { body, orelse, .. }
            | StmtKind::While { body, orelse, .. }
            | StmtKind::For { body, orelse, .. } => vec![body, orelse],
            StmtKind::With { body, .. } => vec![body],
            StmtKind::Try { body, handlers, orelse, finalbody } => {
                let mut out: Vec<&[Stmt]> = vec![body];
                out.extend(handlers.iter().map(Vec::as_slice));
                out.push(orelse);
                out.push(finalbody);
                out
            }
            _ => Vec::new(),
        }
    }
}

impl Arg {
    pub fn is_keyword(&self) -> bool {
        self.name.is_some()
    }
    pub fn is_positional(&self) -> bool {
        self.name.is_none() && self.star == ArgStar::None
    }
}

/// Find a keyword argument by name.
pub fn keyword<'a>(args: &'a [Arg], name: &str) -> Option<&'a Arg> {
    args.iter().find(|a| a.name.as_deref() == Some(name))
}
