//! Whether an upstream value may bind to a downstream input, by the rules of
//! Flyte's compiler (`AreTypesCastable` in flytepropeller's `validators/typing.go`).
//! The checker is chosen by the downstream type; see `shared/flyte/castability.md`.

use super::{LiteralType, Simple, StructDef, Variant};

/// The answer, keeping "fledge cannot tell" apart from "no".
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Castability {
    Yes,
    No,
    /// A side contains a type fledge does not know; never reported.
    Unknown,
}

/// May a value of type `up` bind to an input of type `down`?
pub fn castable(up: &LiteralType, down: &LiteralType) -> Castability {
    if up.contains_unknown() || down.contains_unknown() {
        return Castability::Unknown;
    }
    if casts(up, "", down, "") {
        Castability::Yes
    } else {
        Castability::No
    }
}

fn is_none(t: &LiteralType) -> bool {
    matches!(t, LiteralType::Simple { simple: Simple::None })
}

/// `AreTypesCastable` with the union tags of both sides (empty when not a union variant).
fn casts(up: &LiteralType, up_tag: &str, down: &LiteralType, down_tag: &str) -> bool {
    // A single-variant upstream union is unwrapped first.
    if let LiteralType::Union { variants } = up {
        if variants.len() == 1 && casts(&variants[0].ty, &variants[0].tag, down, down_tag) {
            return true;
        }
    }
    match down {
        LiteralType::Collection { element: down_el } => match up {
            LiteralType::Collection { element: up_el } => is_none(up_el) || casts(up_el, "", down_el, ""),
            _ => false,
        },
        LiteralType::Map { value: down_v } => match up {
            LiteralType::Map { value: up_v } => casts(up_v, "", down_v, ""),
            _ => false,
        },
        LiteralType::Blob { format: down_f, .. } => match up {
            // Dimensionality (file vs directory) is not compared by the compiler.
            LiteralType::Blob { format: up_f, .. } => up_f.is_empty() || down_f.is_empty() || up_f == down_f,
            _ => false,
        },
        LiteralType::Schema { columns: down_cols } => match up {
            LiteralType::Schema { columns: up_cols } => columns_subset_exact(up_cols, down_cols),
            LiteralType::StructuredDataset { format, columns } => {
                (format.is_empty() || format.eq_ignore_ascii_case("parquet"))
                    && columns_subset_exact(columns, down_cols)
            }
            _ => false,
        },
        LiteralType::Union { variants: down_vs } => union_casts(up, up_tag, down_vs),
        LiteralType::StructuredDataset { format: down_f, columns: down_cols } => match up {
            LiteralType::Simple { simple: Simple::None } => true,
            LiteralType::StructuredDataset { format: up_f, columns: up_cols } => {
                if !up_f.is_empty() && !down_f.is_empty() && !up_f.eq_ignore_ascii_case(down_f) {
                    return false;
                }
                if up_cols.is_empty() || down_cols.is_empty() {
                    return true;
                }
                down_cols.iter().all(|dc| up_cols.iter().any(|uc| uc.name == dc.name && casts(&uc.ty, "", &dc.ty, "")))
            }
            LiteralType::Schema { columns: up_cols } => {
                (down_f.is_empty() || down_f.eq_ignore_ascii_case("parquet"))
                    && columns_subset_exact(up_cols, down_cols)
            }
            _ => false,
        },
        LiteralType::Simple { simple: Simple::None } => is_none(up),
        _ => trivial_casts(up, up_tag, down, down_tag),
    }
}

/// The union checker: an upstream union needs a home for every variant; any other
/// upstream needs exactly one matching downstream variant (two is ambiguous).
fn union_casts(up: &LiteralType, up_tag: &str, down_vs: &[Variant]) -> bool {
    match up {
        LiteralType::Union { variants: up_vs } => {
            up_vs.iter().all(|uv| down_vs.iter().any(|dv| casts(&uv.ty, &uv.tag, &dv.ty, &dv.tag)))
        }
        _ => down_vs.iter().filter(|dv| casts(up, up_tag, &dv.ty, &dv.tag)).count() == 1,
    }
}

/// The compiler's "trivial" checker for simple and enum downstream types.
fn trivial_casts(up: &LiteralType, up_tag: &str, down: &LiteralType, down_tag: &str) -> bool {
    let string = LiteralType::simple(Simple::String);
    // Enums and strings convert into each other before tags are looked at.
    if matches!(up, LiteralType::Enum { .. }) && *down == string {
        return true;
    }
    if *up == string && matches!(down, LiteralType::Enum { .. }) {
        return true;
    }
    if !up_tag.is_empty() && up_tag != down_tag {
        return false;
    }
    match (up, down) {
        (LiteralType::Struct { def: u }, LiteralType::Struct { def: d }) => struct_casts(u, d),
        (LiteralType::Struct { .. } | LiteralType::UntypedStruct, LiteralType::UntypedStruct)
        | (LiteralType::UntypedStruct, LiteralType::Struct { .. }) => true,
        _ => up == down,
    }
}

/// Same JSON schema, or the upstream schema is a superset (a child dataclass into its parent).
fn struct_casts(up: &StructDef, down: &StructDef) -> bool {
    down.fields.iter().all(|df| up.fields.iter().any(|uf| uf.name == df.name && same_field_type(&uf.ty, &df.ty)))
}

fn same_field_type(a: &LiteralType, b: &LiteralType) -> bool {
    match (a, b) {
        (LiteralType::Struct { def: x }, LiteralType::Struct { def: y }) => {
            x.fields.len() == y.fields.len() && struct_casts(x, y)
        }
        _ => a == b,
    }
}

/// Schema columns: every downstream column exists upstream with an equal type.
fn columns_subset_exact(up: &[super::Column], down: &[super::Column]) -> bool {
    down.iter().all(|dc| up.iter().any(|uc| uc.name == dc.name && uc.ty == dc.ty))
}
