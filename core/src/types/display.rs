//! Short Flyte spellings of literal types for messages, e.g. `LIST<INTEGER>`.

use super::{LiteralType, Simple};
use std::fmt;

impl fmt::Display for Simple {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Simple::None => "NONE",
            Simple::Integer => "INTEGER",
            Simple::Float => "FLOAT",
            Simple::String => "STRING",
            Simple::Boolean => "BOOLEAN",
            Simple::Datetime => "DATETIME",
            Simple::Duration => "DURATION",
        })
    }
}

impl fmt::Display for LiteralType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            LiteralType::Simple { simple } => write!(f, "{simple}"),
            LiteralType::Struct { def } => write!(f, "STRUCT {}", def.name),
            LiteralType::UntypedStruct => f.write_str("STRUCT"),
            LiteralType::Blob { format, multipart } => {
                let kind = if *multipart { "MULTIPART BLOB" } else { "BLOB" };
                if format.is_empty() {
                    f.write_str(kind)
                } else {
                    write!(f, "{kind} format={format}")
                }
            }
            LiteralType::Collection { element } => write!(f, "LIST<{element}>"),
            LiteralType::Map { value } => write!(f, "MAP<STRING, {value}>"),
            LiteralType::Enum { values } => write!(f, "ENUM{values:?}"),
            LiteralType::StructuredDataset { format, columns } => {
                f.write_str("STRUCTURED_DATASET")?;
                if !format.is_empty() {
                    write!(f, " format={format}")?;
                }
                if !columns.is_empty() {
                    let cols: Vec<String> = columns.iter().map(|c| format!("{}: {}", c.name, c.ty)).collect();
                    write!(f, " columns=[{}]", cols.join(", "))?;
                }
                Ok(())
            }
            LiteralType::Schema { .. } => f.write_str("SCHEMA"),
            LiteralType::Union { variants } => {
                let vs: Vec<String> = variants.iter().map(|v| v.ty.to_string()).collect();
                write!(f, "UNION<{}>", vs.join(", "))
            }
            LiteralType::Unknown => f.write_str("unknown"),
        }
    }
}
