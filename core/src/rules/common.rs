//! Helpers shared by several rules.

use super::Context;
use crate::flyte::graph::{BoundValue, Literal, Node, PromiseSource, WorkflowGraph};
use crate::flyte::Entity;
use crate::types::{LiteralType, Simple};

/// Declare a rule's metadata; its documentation is `docs/rules/<code>.md`.
#[macro_export]
macro_rules! rule_meta {
    ($code:literal, $severity:ident, $summary:literal) => {
        pub const META: $crate::rules::RuleMeta = $crate::rules::RuleMeta {
            code: $code,
            summary: $summary,
            severity: $crate::diagnostic::Severity::$severity,
            doc: include_str!(concat!(env!("CARGO_MANIFEST_DIR"), "/../docs/rules/", $code, ".md")),
        };
    };
}

/// Whether a constant fits a Flyte type the way flytekit's TypeEngine converts it
/// (exact Python types: `3` is not a float, `True` is not an int).
#[derive(Clone, Debug, PartialEq)]
pub enum Fit {
    Yes,
    No(String),
    /// A string that is not one of the enum's values.
    NotInEnum(Vec<String>),
    Unknown,
}

/// Does a bound constant (possibly a list/dict of constants) fit type `ty`?
pub fn value_fits(v: &BoundValue, ty: &LiteralType) -> Fit {
    match v {
        BoundValue::Literal { literal } => literal_fits(literal, ty),
        BoundValue::List { items } => match ty {
            LiteralType::Collection { element } => {
                for (item, _) in items {
                    match value_fits(item, element) {
                        Fit::Yes | Fit::Unknown => {}
                        other => return other,
                    }
                }
                Fit::Yes
            }
            LiteralType::Unknown | LiteralType::Union { .. } => Fit::Unknown,
            LiteralType::Blob { format, .. } if format == crate::types::PICKLE_FORMAT => Fit::Unknown,
            _ if items.iter().all(|(i, _)| matches!(i, BoundValue::Literal { .. })) => {
                Fit::No(format!("a list is given where {} is expected", describe_kind(ty)))
            }
            _ => Fit::Unknown,
        },
        BoundValue::Dict { items } => match ty {
            LiteralType::Map { value } => {
                for (key, item, _) in items {
                    if key.is_none() {
                        return Fit::Unknown;
                    }
                    match value_fits(item, value) {
                        Fit::Yes | Fit::Unknown => {}
                        other => return other,
                    }
                }
                Fit::Yes
            }
            LiteralType::Simple { simple } if items.iter().all(|(_, i, _)| matches!(i, BoundValue::Literal { .. })) => {
                Fit::No(format!("a dict is given where {simple} is expected"))
            }
            _ => Fit::Unknown,
        },
        _ => Fit::Unknown,
    }
}

fn describe_kind(ty: &LiteralType) -> String {
    format!("{ty}")
}

/// Python type name of a constant, for messages.
pub fn literal_py(l: &Literal) -> &'static str {
    match l {
        Literal::Int(_) => "int",
        Literal::Float(_) => "float",
        Literal::Str(_) => "str",
        Literal::Bool(_) => "bool",
        Literal::None => "None",
    }
}

pub fn literal_text(l: &Literal) -> String {
    match l {
        Literal::Int(t) | Literal::Float(t) => t.clone(),
        Literal::Str(s) => format!("{s:?}"),
        Literal::Bool(b) => {
            if *b {
                "True".into()
            } else {
                "False".into()
            }
        }
        Literal::None => "None".into(),
    }
}

/// flytekit converts constants strictly by Python type (verified with flytekit 1.16.31).
pub fn literal_fits(l: &Literal, ty: &LiteralType) -> Fit {
    use Simple::*;
    let no = || Fit::No(format!("flytekit cannot convert the {} constant `{}`", literal_py(l), literal_text(l)));
    match ty {
        LiteralType::Unknown => Fit::Unknown,
        LiteralType::Union { variants } => {
            let fits: Vec<Fit> = variants.iter().map(|v| literal_fits(l, &v.ty)).collect();
            if fits.contains(&Fit::Yes) {
                Fit::Yes
            } else if fits.contains(&Fit::Unknown) {
                Fit::Unknown
            } else {
                no()
            }
        }
        LiteralType::Simple { simple } => {
            let ok = matches!(
                (l, simple),
                (Literal::Int(_), Integer)
                    | (Literal::Float(_), Float)
                    | (Literal::Str(_), String)
                    | (Literal::Bool(_), Boolean)
                    | (Literal::None, None)
            );
            if ok {
                Fit::Yes
            } else {
                no()
            }
        }
        LiteralType::Enum { values } => match l {
            Literal::Str(s) if values.contains(s) => Fit::Yes,
            Literal::Str(_) => Fit::NotInEnum(values.clone()),
            _ => no(),
        },
        // A string is a path or URI for files, directories and datasets; pickles take anything.
        LiteralType::Blob { .. } | LiteralType::StructuredDataset { .. } | LiteralType::Schema { .. } => match l {
            Literal::Str(_) => Fit::Unknown,
            _ if matches!(ty, LiteralType::Blob { format, .. } if format == crate::types::PICKLE_FORMAT) => Fit::Yes,
            Literal::None if matches!(ty, LiteralType::StructuredDataset { .. }) => Fit::Unknown,
            _ => no(),
        },
        LiteralType::Collection { .. } | LiteralType::Map { .. } => no(),
        LiteralType::Struct { .. } | LiteralType::UntypedStruct => match l {
            Literal::Str(_) => Fit::Unknown,
            _ => no(),
        },
    }
}

/// "output `o0` of `clean_orders`" / "workflow input `n`".
pub fn describe_source(g: &WorkflowGraph, source: &PromiseSource, attr_path: &[String]) -> String {
    let path = if attr_path.is_empty() { String::new() } else { format!(".{}", attr_path.join(".")) };
    match source {
        PromiseSource::Node { node, output } => {
            format!("output `{output}{path}` of `{}`", g.nodes[*node].callee.name)
        }
        PromiseSource::WorkflowInput { name } => format!("workflow input `{name}{path}`"),
    }
}

/// "input `n` of task `train`".
pub fn describe_input(node: &Node, input: &str) -> String {
    format!("input `{input}` of {} `{}`", node.callee.kind.describe(), node.callee.name)
}

/// Where the entity a node calls is declared, for related locations.
pub fn callee_entity<'a>(ctx: &'a Context, node: &Node) -> Option<&'a Entity> {
    node.callee.entity.map(|id| &ctx.entities.entities[id])
}

/// The closest name by edit distance, when close enough to be a likely typo.
pub fn closest<'a>(name: &str, candidates: impl Iterator<Item = &'a str>) -> Option<&'a str> {
    candidates
        .map(|c| (levenshtein(name, c), c))
        .filter(|(d, c)| *d <= c.len().max(name.len()).div_ceil(3))
        .min_by_key(|(d, _)| *d)
        .map(|(_, c)| c)
}

fn levenshtein(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut prev: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut cur = vec![i + 1];
        for (j, cb) in b.iter().enumerate() {
            let sub = prev[j] + usize::from(ca != *cb);
            cur.push(sub.min(prev[j + 1] + 1).min(cur[j] + 1));
        }
        prev = cur;
    }
    prev[b.len()]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn closest_names() {
        assert_eq!(closest("nmae", ["name", "age"].into_iter()), Some("name"));
        assert_eq!(closest("zzz", ["name", "age"].into_iter()), None);
    }

    #[test]
    fn constants_convert_strictly() {
        let int = LiteralType::simple(Simple::Integer);
        let float = LiteralType::simple(Simple::Float);
        assert_eq!(literal_fits(&Literal::Int("3".into()), &int), Fit::Yes);
        assert!(matches!(literal_fits(&Literal::Int("3".into()), &float), Fit::No(_)));
        assert!(matches!(literal_fits(&Literal::Bool(true), &int), Fit::No(_)));
    }
}
