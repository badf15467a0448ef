//! Values ↔ flyteidl `Literal`s, by Flyte type: command-line and JSON/YAML inputs in, printable
//! values out, and a canonical hash of a literal for cache keys.

use fledge_core::flyte::graph::Literal as SrcLiteral;
use fledge_core::syntax::ExprKind;
use fledge_core::types::{LiteralType, Simple};
use fledge_proto::flyteidl::core::{
    blob_type::BlobDimensionality, literal, primitive, scalar, Blob, BlobMetadata, BlobType, Literal,
    LiteralCollection, LiteralMap, Primitive, Scalar, StructuredDataset, Void,
};
use fledge_proto::prost_types;
use serde_json::Value as Json;
use sha2::{Digest, Sha256};
use std::collections::BTreeMap;

fn scalar_lit(v: scalar::Value) -> Literal {
    Literal { value: Some(literal::Value::Scalar(Box::new(Scalar { value: Some(v) }))), ..Default::default() }
}

pub fn prim(v: primitive::Value) -> Literal {
    scalar_lit(scalar::Value::Primitive(Primitive { value: Some(v) }))
}

pub fn none_lit() -> Literal {
    scalar_lit(scalar::Value::NoneType(Void {}))
}

pub fn collection(items: Vec<Literal>) -> Literal {
    Literal { value: Some(literal::Value::Collection(LiteralCollection { literals: items })), ..Default::default() }
}

pub fn map_lit(items: BTreeMap<String, Literal>) -> Literal {
    Literal {
        value: Some(literal::Value::Map(LiteralMap { literals: items.into_iter().collect() })),
        ..Default::default()
    }
}

/// A command-line value (`--n 3`, `--xs '[1,2]'`, `--currency USD`) as the input's Flyte type.
/// Errors name the input and the expected type.
pub fn from_cli(name: &str, ty: &LiteralType, text: &str) -> Result<Literal, String> {
    let json = match ty {
        LiteralType::Simple { simple: Simple::String }
        | LiteralType::Enum { .. }
        | LiteralType::Blob { .. }
        | LiteralType::StructuredDataset { .. } => Json::String(text.to_string()),
        _ => match serde_json::from_str::<Json>(text) {
            Ok(j) => j,
            // A bare word for a union with a string variant, or for an Optional[str].
            Err(_) => Json::String(text.to_string()),
        },
    };
    from_json(name, ty, &json)
}

/// A JSON (or YAML, converted) value as the input's Flyte type.
pub fn from_json(name: &str, ty: &LiteralType, v: &Json) -> Result<Literal, String> {
    let bad = |what: &str| Err(format!("input `{name}`: expected {what}, got {}", short(v)));
    match ty {
        LiteralType::Simple { simple } => match (simple, v) {
            (Simple::Integer, Json::Number(n)) if n.is_i64() => {
                Ok(prim(primitive::Value::Integer(n.as_i64().unwrap_or(0))))
            }
            (Simple::Integer, _) => bad("an integer"),
            (Simple::Float, Json::Number(n)) => Ok(prim(primitive::Value::FloatValue(n.as_f64().unwrap_or(0.0)))),
            (Simple::Float, _) => bad("a number"),
            (Simple::String, Json::String(s)) => Ok(prim(primitive::Value::StringValue(s.clone()))),
            (Simple::String, _) => bad("a string"),
            (Simple::Boolean, Json::Bool(b)) => Ok(prim(primitive::Value::Boolean(*b))),
            (Simple::Boolean, Json::String(s))
                if matches!(s.to_ascii_lowercase().as_str(), "true" | "false" | "yes" | "no" | "1" | "0") =>
            {
                Ok(prim(primitive::Value::Boolean(matches!(s.to_ascii_lowercase().as_str(), "true" | "yes" | "1"))))
            }
            (Simple::Boolean, _) => bad("true or false"),
            (Simple::None, Json::Null) => Ok(none_lit()),
            (Simple::None, _) => bad("null"),
            (Simple::Duration, Json::Number(n)) => {
                let secs = n.as_f64().unwrap_or(0.0);
                Ok(prim(primitive::Value::Duration(prost_types::Duration {
                    seconds: secs.trunc() as i64,
                    nanos: (secs.fract() * 1e9) as i32,
                })))
            }
            (Simple::Duration, _) => bad("a duration in seconds"),
            (Simple::Datetime, Json::String(s)) => {
                parse_datetime(s).map(|t| prim(primitive::Value::Datetime(t))).ok_or_else(|| {
                    format!("input `{name}`: expected a date-time like 2024-01-31T12:00:00Z, got {}", short(v))
                })
            }
            (Simple::Datetime, _) => bad("a date-time string"),
        },
        LiteralType::Enum { values } => match v {
            Json::String(s) if values.contains(s) => Ok(prim(primitive::Value::StringValue(s.clone()))),
            _ => bad(&format!("one of {}", values.join(", "))),
        },
        LiteralType::Collection { element } => match v {
            Json::Array(items) => Ok(collection(
                items
                    .iter()
                    .enumerate()
                    .map(|(i, x)| from_json(&format!("{name}[{i}]"), element, x))
                    .collect::<Result<_, _>>()?,
            )),
            _ => bad("a JSON list"),
        },
        LiteralType::Map { value } => match v {
            Json::Object(m) => Ok(map_lit(
                m.iter()
                    .map(|(k, x)| Ok((k.clone(), from_json(&format!("{name}[{k:?}]"), value, x)?)))
                    .collect::<Result<_, String>>()?,
            )),
            _ => bad("a JSON object"),
        },
        LiteralType::Struct { def } => match v {
            Json::Object(m) => {
                for f in &def.fields {
                    if f.required && !m.contains_key(&f.name) {
                        return Err(format!("input `{name}`: field `{}` of `{}` is missing", f.name, def.name));
                    }
                }
                for k in m.keys() {
                    if !def.fields.iter().any(|f| &f.name == k) {
                        return Err(format!("input `{name}`: `{}` has no field `{k}`", def.name));
                    }
                }
                Ok(scalar_lit(scalar::Value::Generic(json_struct(m))))
            }
            _ => bad(&format!("a JSON object for `{}`", def.name)),
        },
        LiteralType::UntypedStruct => match v {
            Json::Object(m) => Ok(scalar_lit(scalar::Value::Generic(json_struct(m)))),
            _ => bad("a JSON object"),
        },
        LiteralType::Blob { format, multipart } => match v {
            Json::String(p) => {
                let path = std::path::Path::new(p);
                if !path.exists() && !p.contains("://") {
                    return Err(format!("input `{name}`: {p} does not exist"));
                }
                let uri = path.canonicalize().map(|p| p.display().to_string()).unwrap_or_else(|_| p.clone());
                let dim = if *multipart { BlobDimensionality::Multipart } else { BlobDimensionality::Single };
                Ok(scalar_lit(scalar::Value::Blob(Blob {
                    metadata: Some(BlobMetadata {
                        r#type: Some(BlobType { format: format.clone(), dimensionality: dim as i32 }),
                    }),
                    uri,
                })))
            }
            _ => bad("a path"),
        },
        LiteralType::StructuredDataset { format, .. } => match v {
            Json::String(p) => {
                let path = std::path::Path::new(p);
                if !path.exists() && !p.contains("://") {
                    return Err(format!("input `{name}`: {p} does not exist"));
                }
                let uri = path.canonicalize().map(|p| p.display().to_string()).unwrap_or_else(|_| p.clone());
                let meta = fledge_proto::flyteidl::core::StructuredDatasetMetadata {
                    structured_dataset_type: Some(fledge_proto::flyteidl::core::StructuredDatasetType {
                        format: if format.is_empty() { "parquet".into() } else { format.clone() },
                        ..Default::default()
                    }),
                };
                Ok(scalar_lit(scalar::Value::StructuredDataset(StructuredDataset { uri, metadata: Some(meta) })))
            }
            _ => bad("a path to a dataset"),
        },
        LiteralType::Union { variants } => {
            if v.is_null() {
                if variants.iter().any(|x| matches!(x.ty, LiteralType::Simple { simple: Simple::None })) {
                    return Ok(none_lit());
                }
                return bad("a value (this input is not optional)");
            }
            let mut errors = Vec::new();
            for var in variants.iter().filter(|x| !matches!(x.ty, LiteralType::Simple { simple: Simple::None })) {
                match from_json(name, &var.ty, v) {
                    Ok(l) => return Ok(l),
                    Err(e) => errors.push(e),
                }
            }
            Err(errors.into_iter().next().unwrap_or_else(|| format!("input `{name}`: no variant fits {}", short(v))))
        }
        LiteralType::Schema { .. } => {
            Err(format!("input `{name}`: FlyteSchema inputs are not supported by fledge run"))
        }
        LiteralType::Unknown => Err(format!(
            "input `{name}`: fledge does not know this input's Flyte type, so it cannot convert a value for it"
        )),
    }
}

fn short(v: &Json) -> String {
    let s = v.to_string();
    if s.len() > 60 {
        format!("{}…", &s[..s.char_indices().nth(57).map_or(s.len(), |c| c.0)])
    } else {
        s
    }
}

fn parse_datetime(s: &str) -> Option<prost_types::Timestamp> {
    // YYYY-MM-DD[THH:MM:SS[.frac]][Z]
    let s = s.trim_end_matches('Z');
    let (date, time) = s.split_once(['T', ' ']).unwrap_or((s, "00:00:00"));
    let d: Vec<i64> = date.split('-').map(|x| x.parse().ok()).collect::<Option<_>>()?;
    let (hms, frac) = time.split_once('.').unwrap_or((time, "0"));
    let t: Vec<i64> = hms.split(':').map(|x| x.parse().ok()).collect::<Option<_>>()?;
    if d.len() != 3 || t.len() != 3 {
        return None;
    }
    // Days from civil (Howard Hinnant's algorithm).
    let (y, m, day) = (if d[1] <= 2 { d[0] - 1 } else { d[0] }, d[1], d[2]);
    let era = if y >= 0 { y } else { y - 399 } / 400;
    let yoe = y - era * 400;
    let doy = (153 * (if m > 2 { m - 3 } else { m + 9 }) + 2) / 5 + day - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    let days = era * 146097 + doe - 719468;
    let nanos = format!("0.{frac}").parse::<f64>().ok()? * 1e9;
    Some(prost_types::Timestamp { seconds: days * 86400 + t[0] * 3600 + t[1] * 60 + t[2], nanos: nanos as i32 })
}

fn json_struct(m: &serde_json::Map<String, Json>) -> prost_types::Struct {
    prost_types::Struct { fields: m.iter().map(|(k, v)| (k.clone(), json_value(v))).collect() }
}

fn json_value(v: &Json) -> prost_types::Value {
    use prost_types::value::Kind;
    let kind = match v {
        Json::Null => Kind::NullValue(0),
        Json::Bool(b) => Kind::BoolValue(*b),
        Json::Number(n) => Kind::NumberValue(n.as_f64().unwrap_or(0.0)),
        Json::String(s) => Kind::StringValue(s.clone()),
        Json::Array(a) => Kind::ListValue(prost_types::ListValue { values: a.iter().map(json_value).collect() }),
        Json::Object(m) => Kind::StructValue(json_struct(m)),
    };
    prost_types::Value { kind: Some(kind) }
}

fn struct_json(s: &prost_types::Struct) -> Json {
    Json::Object(s.fields.iter().map(|(k, v)| (k.clone(), value_json(v))).collect())
}

fn value_json(v: &prost_types::Value) -> Json {
    use prost_types::value::Kind;
    match &v.kind {
        None | Some(Kind::NullValue(_)) => Json::Null,
        Some(Kind::BoolValue(b)) => Json::Bool(*b),
        Some(Kind::NumberValue(n)) => serde_json::Number::from_f64(*n).map_or(Json::Null, Json::Number),
        Some(Kind::StringValue(s)) => Json::String(s.clone()),
        Some(Kind::ListValue(l)) => Json::Array(l.values.iter().map(value_json).collect()),
        Some(Kind::StructValue(s)) => struct_json(s),
    }
}

/// A constant written in the workflow source, as the binding's type.
pub fn from_source(name: &str, ty: &LiteralType, c: &SrcLiteral) -> Result<Literal, String> {
    let json = match c {
        SrcLiteral::Int(t) => serde_json::from_str::<Json>(&t.replace('_', "")).unwrap_or(Json::Null),
        SrcLiteral::Float(t) => serde_json::from_str::<Json>(&t.replace('_', "")).unwrap_or(Json::Null),
        SrcLiteral::Str(s) => Json::String(s.clone()),
        SrcLiteral::Bool(b) => Json::Bool(*b),
        SrcLiteral::None => Json::Null,
    };
    if ty.is_unknown() {
        // No declared type: the constant's own.
        return Ok(match c {
            SrcLiteral::Int(_) => prim(primitive::Value::Integer(json.as_i64().unwrap_or(0))),
            SrcLiteral::Float(_) => prim(primitive::Value::FloatValue(json.as_f64().unwrap_or(0.0))),
            SrcLiteral::Str(s) => prim(primitive::Value::StringValue(s.clone())),
            SrcLiteral::Bool(b) => prim(primitive::Value::Boolean(*b)),
            SrcLiteral::None => none_lit(),
        });
    }
    // flytekit turns an int constant into a float for a float input.
    let json = match (ty, &json) {
        (LiteralType::Simple { simple: Simple::Float }, Json::Number(n)) => {
            serde_json::Number::from_f64(n.as_f64().unwrap_or(0.0)).map_or(json.clone(), Json::Number)
        }
        _ => json,
    };
    from_json(name, ty, &json)
}

/// A literal as a plain JSON value, for printing and for `jsonl` events.
pub fn to_json(l: &Literal) -> Json {
    match &l.value {
        Some(literal::Value::Scalar(s)) => match &s.value {
            Some(scalar::Value::Primitive(p)) => match &p.value {
                Some(primitive::Value::Integer(i)) => Json::from(*i),
                Some(primitive::Value::FloatValue(f)) => {
                    serde_json::Number::from_f64(*f).map_or(Json::Null, Json::Number)
                }
                Some(primitive::Value::StringValue(s)) => Json::String(s.clone()),
                Some(primitive::Value::Boolean(b)) => Json::Bool(*b),
                Some(primitive::Value::Datetime(t)) => Json::String(format!("{}s+{}ns since 1970", t.seconds, t.nanos)),
                Some(primitive::Value::Duration(d)) => Json::from(d.seconds as f64 + d.nanos as f64 / 1e9),
                None => Json::Null,
            },
            Some(scalar::Value::Blob(b)) => Json::String(b.uri.clone()),
            Some(scalar::Value::StructuredDataset(d)) => Json::String(d.uri.clone()),
            Some(scalar::Value::Schema(d)) => Json::String(d.uri.clone()),
            Some(scalar::Value::Binary(b)) if b.tag == "msgpack" => msgpack::decode(&b.value).unwrap_or(Json::Null),
            Some(scalar::Value::Binary(b)) => Json::String(format!("<{} bytes, {}>", b.value.len(), b.tag)),
            Some(scalar::Value::NoneType(_)) | None => Json::Null,
            Some(scalar::Value::Error(e)) => Json::String(format!("error: {}", e.message)),
            Some(scalar::Value::Generic(s)) => struct_json(s),
            Some(scalar::Value::Union(u)) => u.value.as_deref().map_or(Json::Null, to_json),
        },
        Some(literal::Value::Collection(c)) => Json::Array(c.literals.iter().map(to_json).collect()),
        Some(literal::Value::Map(m)) => {
            let sorted: BTreeMap<&String, &Literal> = m.literals.iter().collect();
            Json::Object(sorted.into_iter().map(|(k, v)| (k.clone(), to_json(v))).collect())
        }
        Some(literal::Value::OffloadedMetadata(o)) => Json::String(o.uri.clone()),
        None => Json::Null,
    }
}

/// `value.a.b` of a dataclass / dict value, converted to the type the binding expects.
pub fn attr(l: &Literal, path: &[String], ty: &LiteralType) -> Result<Literal, String> {
    if path.is_empty() {
        return Ok(l.clone());
    }
    if let Some(literal::Value::Map(m)) = &l.value {
        let v = m.literals.get(&path[0]).ok_or_else(|| format!("the value has no key `{}`", path[0]))?;
        return attr(v, &path[1..], ty);
    }
    if let Some(literal::Value::Collection(c)) = &l.value {
        let i: usize = path[0].parse().map_err(|_| format!("a list has no attribute `{}`", path[0]))?;
        let v = c.literals.get(i).ok_or_else(|| format!("index {i} is out of range"))?;
        return attr(v, &path[1..], ty);
    }
    let mut j = to_json(l);
    for p in path {
        j = match j {
            Json::Object(mut m) => m.remove(p).ok_or_else(|| format!("the value has no field `{p}`"))?,
            Json::Array(a) => {
                let i: usize = p.parse().map_err(|_| format!("a list has no attribute `{p}`"))?;
                a.into_iter().nth(i).ok_or_else(|| format!("index {i} is out of range"))?
            }
            _ => return Err(format!("cannot read `{p}` of a plain value")),
        };
    }
    from_json(&path.join("."), ty, &j)
}

/// A stable hash of a literal's meaning: map keys sorted, `hash`/metadata ignored.
pub fn literal_hash(l: &Literal) -> String {
    let mut h = Sha256::new();
    feed(&mut h, l);
    super::fingerprint::hex(&h.finalize())
}

fn feed(h: &mut Sha256, l: &Literal) {
    use fledge_proto::prost::Message;
    match &l.value {
        Some(literal::Value::Collection(c)) => {
            h.update(format!("C{}:", c.literals.len()));
            c.literals.iter().for_each(|x| feed(h, x));
        }
        Some(literal::Value::Map(m)) => {
            let sorted: BTreeMap<&String, &Literal> = m.literals.iter().collect();
            h.update(format!("M{}:", sorted.len()));
            for (k, v) in sorted {
                h.update(format!("{}:{k}", k.len()));
                feed(h, v);
            }
        }
        Some(literal::Value::Scalar(s)) => match &s.value {
            Some(scalar::Value::Generic(st)) => {
                h.update("G");
                h.update(struct_json(st).to_string());
            }
            Some(scalar::Value::Union(u)) => {
                h.update("U");
                if let Some(v) = &u.value {
                    feed(h, v);
                }
            }
            _ => {
                h.update("S");
                h.update(s.encode_to_vec());
            }
        },
        Some(literal::Value::OffloadedMetadata(o)) => {
            h.update("O");
            h.update(&o.uri);
        }
        None => h.update("N"),
    }
}

pub fn map_hashes(m: &LiteralMap) -> BTreeMap<String, String> {
    m.literals.iter().map(|(k, v)| (k.clone(), literal_hash(v))).collect()
}

/// A scalar's comparable value, for conditions.
#[derive(Debug, PartialEq, PartialOrd)]
pub enum Cmp {
    Num(f64),
    Str(String),
    Bool(bool),
    None,
}

pub fn comparable(l: &Literal) -> Option<Cmp> {
    // Date-times compare by time (their JSON form is text); durations are already seconds.
    if let Some(t) = datetime_seconds(l) {
        return Some(Cmp::Num(t));
    }
    match to_json(l) {
        Json::Number(n) => n.as_f64().map(Cmp::Num),
        Json::String(s) => Some(Cmp::Str(s)),
        Json::Bool(b) => Some(Cmp::Bool(b)),
        Json::Null => Some(Cmp::None),
        _ => None,
    }
}

/// A date-time literal as seconds since 1970.
pub fn datetime_seconds(l: &Literal) -> Option<f64> {
    match &l.value {
        Some(literal::Value::Scalar(s)) => match &s.value {
            Some(scalar::Value::Primitive(p)) => match &p.value {
                Some(primitive::Value::Datetime(t)) => Some(t.seconds as f64 + t.nanos as f64 / 1e9),
                _ => None,
            },
            _ => None,
        },
        _ => None,
    }
}

/// `Binary` literals: a tiny reader for the msgpack flytekit writes for dataclasses and dicts.
mod msgpack {
    use serde_json::Value as Json;

    pub fn decode(b: &[u8]) -> Option<Json> {
        let mut r = Reader { b, i: 0, depth: 0 };
        r.value()
    }

    struct Reader<'a> {
        b: &'a [u8],
        i: usize,
        depth: usize,
    }

    impl Reader<'_> {
        fn take(&mut self, n: usize) -> Option<&[u8]> {
            let s = self.b.get(self.i..self.i.checked_add(n)?)?;
            self.i += n;
            Some(s)
        }
        fn uint(&mut self, n: usize) -> Option<u64> {
            Some(self.take(n)?.iter().fold(0u64, |a, x| (a << 8) | *x as u64))
        }
        fn str(&mut self, n: usize) -> Option<Json> {
            Some(Json::String(String::from_utf8_lossy(self.take(n)?).into_owned()))
        }
        fn array(&mut self, n: usize) -> Option<Json> {
            (0..n).map(|_| self.value()).collect::<Option<Vec<_>>>().map(Json::Array)
        }
        fn map(&mut self, n: usize) -> Option<Json> {
            let mut m = serde_json::Map::new();
            for _ in 0..n {
                let k = match self.value()? {
                    Json::String(s) => s,
                    other => other.to_string(),
                };
                m.insert(k, self.value()?);
            }
            Some(Json::Object(m))
        }
        fn value(&mut self) -> Option<Json> {
            self.depth += 1;
            if self.depth > 200 {
                return None;
            }
            let t = *self.take(1)?.first()?;
            let v = match t {
                0x00..=0x7f => Json::from(t as u64),
                0x80..=0x8f => self.map((t & 0x0f) as usize)?,
                0x90..=0x9f => self.array((t & 0x0f) as usize)?,
                0xa0..=0xbf => self.str((t & 0x1f) as usize)?,
                0xc0 => Json::Null,
                0xc2 => Json::Bool(false),
                0xc3 => Json::Bool(true),
                0xc4..=0xc6 => {
                    let n = self.uint(1 << (t - 0xc4))? as usize;
                    Json::String(format!("<{} bytes>", self.take(n)?.len()))
                }
                0xca => Json::from(f32::from_bits(self.uint(4)? as u32) as f64),
                0xcb => serde_json::Number::from_f64(f64::from_bits(self.uint(8)?)).map_or(Json::Null, Json::Number),
                0xcc..=0xcf => Json::from(self.uint(1 << (t - 0xcc))?),
                0xd0 => Json::from(self.uint(1)? as u8 as i8 as i64),
                0xd1 => Json::from(self.uint(2)? as u16 as i16 as i64),
                0xd2 => Json::from(self.uint(4)? as u32 as i32 as i64),
                0xd3 => Json::from(self.uint(8)? as i64),
                0xd9..=0xdb => {
                    let n = self.uint(1 << (t - 0xd9))? as usize;
                    self.str(n)?
                }
                0xdc | 0xdd => {
                    let n = self.uint(if t == 0xdc { 2 } else { 4 })? as usize;
                    self.array(n)?
                }
                0xde | 0xdf => {
                    let n = self.uint(if t == 0xde { 2 } else { 4 })? as usize;
                    self.map(n)?
                }
                0xe0..=0xff => Json::from(t as i8 as i64),
                _ => return None,
            };
            self.depth -= 1;
            Some(v)
        }
    }
}

/// A parameter's default value as written (constants, lists/dicts of constants, `Enum.MEMBER`).
pub fn default_literal(var: &fledge_core::flyte::Var, e: &fledge_core::syntax::Expr) -> Result<Literal, String> {
    fn json(e: &fledge_core::syntax::Expr, ty: &LiteralType) -> Option<serde_json::Value> {
        Some(match &e.kind {
            ExprKind::Int(t) | ExprKind::Float(t) => serde_json::from_str(&t.replace('_', "")).ok()?,
            ExprKind::Str(s) => serde_json::Value::String(s.clone()),
            ExprKind::Bool(b) => serde_json::Value::Bool(*b),
            ExprKind::NoneLit => serde_json::Value::Null,
            ExprKind::Unary { op, operand } if op == "-" => match json(operand, ty)? {
                serde_json::Value::Number(n) => serde_json::from_str(&format!("-{n}")).ok()?,
                _ => return None,
            },
            ExprKind::List(items) | ExprKind::Tuple(items) => {
                let elem = match ty {
                    LiteralType::Collection { element } => element,
                    _ => ty,
                };
                serde_json::Value::Array(items.iter().map(|x| json(x, elem)).collect::<Option<_>>()?)
            }
            // `Currency.EUR`: flytekit stores the member's value; fledge knows the values, and the
            // member names of enums whose values spell their names.
            ExprKind::Attribute { attr, .. } => match ty {
                LiteralType::Enum { values } if values.contains(attr) => serde_json::Value::String(attr.clone()),
                LiteralType::Enum { values } => {
                    let lower = attr.to_lowercase();
                    serde_json::Value::String(values.iter().find(|v| v.to_lowercase() == lower)?.clone())
                }
                _ => return None,
            },
            _ => return None,
        })
    }
    let ty = match &var.ty.lit {
        LiteralType::Union { variants } => variants
            .iter()
            .find(|v| !matches!(v.ty, LiteralType::Simple { simple: fledge_core::types::Simple::None }))
            .map_or(&var.ty.lit, |v| &v.ty),
        t => t,
    };
    let j = json(e, ty)
        .ok_or_else(|| format!("fledge cannot read the default of input `{}`; pass --{} VALUE", var.name, var.name))?;
    from_json(&var.name, &var.ty.lit, &j)
}

/// Reads an `--inputs` file (JSON or YAML) into a JSON object.
pub fn read_inputs_file(path: &std::path::Path) -> Result<serde_json::Map<String, Json>, String> {
    let text = std::fs::read_to_string(path).map_err(|e| format!("cannot read {}: {e}", path.display()))?;
    let is_yaml = matches!(path.extension().and_then(|e| e.to_str()), Some("yaml" | "yml"));
    let v: Json = if is_yaml {
        serde_norway::from_str(&text).map_err(|e| format!("{} is not valid YAML: {e}", path.display()))?
    } else {
        serde_json::from_str(&text).map_err(|e| format!("{} is not valid JSON: {e}", path.display()))?
    };
    match v {
        Json::Object(m) => Ok(m),
        _ => Err(format!("{} must hold a mapping from input names to values", path.display())),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use fledge_core::types::Variant;
    use fledge_proto::flyteidl::core::Binary;

    #[test]
    fn cli_values_convert_by_type_and_errors_name_the_input() {
        let int = LiteralType::simple(Simple::Integer);
        assert_eq!(to_json(&from_cli("n", &int, "3").unwrap()), Json::from(3));
        let e = from_cli("n_orders", &int, "three").unwrap_err();
        assert!(e.contains("`n_orders`") && e.contains("integer"), "{e}");
        let float = LiteralType::simple(Simple::Float);
        assert_eq!(to_json(&from_cli("x", &float, "2").unwrap()), Json::from(2.0));
        let en = LiteralType::Enum { values: vec!["EUR".into(), "USD".into()] };
        assert_eq!(to_json(&from_cli("currency", &en, "USD").unwrap()), Json::from("USD"));
        let e = from_cli("currency", &en, "JPY").unwrap_err();
        assert!(e.contains("`currency`") && e.contains("EUR, USD"), "{e}");
        let list = LiteralType::list(int.clone());
        assert_eq!(to_json(&from_cli("xs", &list, "[1, 2]").unwrap()), serde_json::json!([1, 2]));
        let e = from_cli("xs", &list, "[1, \"a\"]").unwrap_err();
        assert!(e.contains("`xs[1]`"), "{e}");
        let opt = LiteralType::Union {
            variants: vec![
                Variant { ty: LiteralType::simple(Simple::String), tag: "str".into() },
                Variant { ty: LiteralType::simple(Simple::None), tag: "none".into() },
            ],
        };
        assert_eq!(to_json(&from_cli("c", &opt, "null").unwrap()), Json::Null);
        assert_eq!(to_json(&from_cli("c", &opt, "hi").unwrap()), Json::from("hi"));
        let b = LiteralType::simple(Simple::Boolean);
        assert_eq!(to_json(&from_cli("flag", &b, "False").unwrap()), Json::from(false));
    }

    #[test]
    fn hash_ignores_map_order_and_tells_values_apart() {
        let a = map_lit(
            [
                ("a".to_string(), prim(primitive::Value::Integer(1))),
                ("b".to_string(), prim(primitive::Value::Integer(2))),
            ]
            .into_iter()
            .collect(),
        );
        let b = map_lit(
            [
                ("b".to_string(), prim(primitive::Value::Integer(2))),
                ("a".to_string(), prim(primitive::Value::Integer(1))),
            ]
            .into_iter()
            .collect(),
        );
        assert_eq!(literal_hash(&a), literal_hash(&b));
        assert_ne!(
            literal_hash(&prim(primitive::Value::Integer(1))),
            literal_hash(&prim(primitive::Value::FloatValue(1.0)))
        );
    }

    #[test]
    fn msgpack_dataclass_values_print_as_json() {
        // {"total": 1.5, "n": 3, "name": "x", "tags": [true, null]}
        let mut b = vec![0x84, 0xa5];
        b.extend(b"total");
        b.push(0xcb);
        b.extend(1.5f64.to_bits().to_be_bytes());
        b.extend([0xa1, b'n', 0x03, 0xa4]);
        b.extend(b"name");
        b.extend([0xa1, b'x', 0xa4]);
        b.extend(b"tags");
        b.extend([0x92, 0xc3, 0xc0]);
        let l = scalar_lit(scalar::Value::Binary(Binary { value: b, tag: "msgpack".into() }));
        assert_eq!(to_json(&l), serde_json::json!({"total": 1.5, "n": 3, "name": "x", "tags": [true, null]}));
        let total = attr(&l, &["total".to_string()], &LiteralType::simple(Simple::Float)).unwrap();
        assert_eq!(to_json(&total), Json::from(1.5));
        // Truncated input never panics.
        assert_eq!(msgpack::decode(&[0x84, 0xa5, b't']), None);
    }

    #[test]
    fn inputs_files_are_json_or_yaml_mappings() {
        let dir = tempfile::tempdir().unwrap();
        let y = dir.path().join("in.yaml");
        std::fs::write(&y, "n_orders: 3\ncurrency: USD\nskus: [a, b]\n").unwrap();
        let m = read_inputs_file(&y).unwrap();
        assert_eq!(m["n_orders"], Json::from(3));
        assert_eq!(m["skus"], serde_json::json!(["a", "b"]));
        let j = dir.path().join("in.json");
        std::fs::write(&j, "[1, 2]").unwrap();
        assert!(read_inputs_file(&j).unwrap_err().contains("mapping"));
    }
}
