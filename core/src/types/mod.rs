//! Flyte's type system as fledge models it: `LiteralType` (flyteidl `core/types.proto`)
//! plus the Python spelling it came from.

mod castability;
mod display;

pub use castability::{castable, Castability};
use serde::Serialize;
use std::sync::Arc;

/// `flyteidl.core.SimpleType`, limited to what flytekit produces.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize)]
pub enum Simple {
    None,
    Integer,
    Float,
    String,
    Boolean,
    Datetime,
    Duration,
}

/// A Flyte `LiteralType`, with only the side data the compiler looks at.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum LiteralType {
    Simple {
        simple: Simple,
    },
    /// `simple: STRUCT` with a JSON schema (dataclass or pydantic model).
    Struct {
        def: Arc<StructDef>,
    },
    /// `simple: STRUCT` without schema: untyped `dict`, `Dict[int, V]`.
    UntypedStruct,
    Blob {
        format: String,
        multipart: bool,
    },
    Collection {
        element: Box<LiteralType>,
    },
    Map {
        value: Box<LiteralType>,
    },
    Enum {
        values: Vec<String>,
    },
    StructuredDataset {
        format: String,
        columns: Vec<Column>,
    },
    Schema {
        columns: Vec<Column>,
    },
    Union {
        variants: Vec<Variant>,
    },
    /// fledge could not work out the type (unknown third-party class, ...). Never an error by itself.
    Unknown,
}

#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Column {
    pub name: String,
    pub ty: LiteralType,
}

/// One variant of a union, with the `structure.tag` flytekit gives it (the transformer name).
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Variant {
    pub ty: LiteralType,
    pub tag: String,
}

/// The schema-relevant shape of a dataclass or pydantic model.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct StructDef {
    /// The class name (the JSON schema's `title`).
    pub name: String,
    pub pydantic: bool,
    pub fields: Vec<StructField>,
}

#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct StructField {
    pub name: String,
    pub ty: LiteralType,
    pub py: String,
    pub required: bool,
}

/// A type as the user wrote it and as Flyte sees it.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct FlyteType {
    /// Python spelling, e.g. `List[int]`.
    pub py: String,
    pub lit: LiteralType,
    /// flytekit falls back to pickling this type.
    pub pickled: bool,
}

pub const PICKLE_FORMAT: &str = "PythonPickle";

impl LiteralType {
    pub fn simple(s: Simple) -> Self {
        LiteralType::Simple { simple: s }
    }
    pub fn blob(format: &str) -> Self {
        LiteralType::Blob { format: format.to_string(), multipart: false }
    }
    pub fn pickle() -> Self {
        LiteralType::blob(PICKLE_FORMAT)
    }
    pub fn list(t: LiteralType) -> Self {
        LiteralType::Collection { element: Box::new(t) }
    }
    pub fn map(t: LiteralType) -> Self {
        LiteralType::Map { value: Box::new(t) }
    }

    pub fn is_unknown(&self) -> bool {
        matches!(self, LiteralType::Unknown)
    }

    /// True when this type or anything inside it is unknown to fledge.
    pub fn contains_unknown(&self) -> bool {
        match self {
            LiteralType::Unknown => true,
            LiteralType::Collection { element } => element.contains_unknown(),
            LiteralType::Map { value } => value.contains_unknown(),
            LiteralType::Union { variants } => variants.iter().any(|v| v.ty.contains_unknown()),
            LiteralType::Struct { def } => def.fields.iter().any(|f| f.ty.contains_unknown()),
            _ => false,
        }
    }

    /// A union with a `NONE` variant: Flyte lets such inputs stay unbound.
    pub fn is_optional(&self) -> bool {
        match self {
            LiteralType::Union { variants } => {
                variants.iter().any(|v| matches!(v.ty, LiteralType::Simple { simple: Simple::None }))
            }
            _ => false,
        }
    }
}

impl FlyteType {
    pub fn new(py: impl Into<String>, lit: LiteralType) -> Self {
        FlyteType { py: py.into(), lit, pickled: false }
    }
    pub fn unknown(py: impl Into<String>) -> Self {
        FlyteType::new(py, LiteralType::Unknown)
    }
    /// `Python (FLYTE)` as used in messages, e.g. `str (STRING)`.
    pub fn describe(&self) -> String {
        format!("`{}` ({})", self.py, self.lit)
    }
}
