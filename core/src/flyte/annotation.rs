//! Python annotations to Flyte types, as flytekit's `TypeEngine.to_literal_type` maps them
//! (see `shared/flyte/types.md`). Works on source only: classes are resolved across modules.

use crate::project::{Index, ModuleId, Resolved};
use crate::syntax::{ClassDef, Expr, ExprKind, StmtKind};
use crate::types::{Column, FlyteType, LiteralType, Simple, StructDef, StructField, Variant};
use std::cell::RefCell;
use std::collections::HashMap;
use std::sync::Arc;

/// An annotation flytekit rejects when the task is decorated.
#[derive(Clone, Debug, PartialEq)]
pub struct UnsupportedType {
    pub py: String,
    pub reason: String,
}

/// A resolved annotation with the union tag flytekit would give it as a union variant.
#[derive(Clone, Debug)]
pub struct Resolution {
    pub ty: FlyteType,
    pub tag: &'static str,
}

/// Resolves annotations in the context of a project, memoizing classes.
pub struct TypeResolver<'a> {
    pub index: &'a Index,
    classes: RefCell<HashMap<(ModuleId, String), Option<Resolution>>>,
    /// Classes that have a user-registered `TypeTransformer` somewhere in the project.
    custom_transformed: Vec<String>,
}

const MAX_DEPTH: usize = 24;

fn simple(py: &str, s: Simple, tag: &'static str) -> Resolution {
    Resolution { ty: FlyteType::new(py, LiteralType::simple(s)), tag }
}

fn lit(py: impl Into<String>, lt: LiteralType, tag: &'static str) -> Resolution {
    Resolution { ty: FlyteType::new(py, lt), tag }
}

fn unknown(py: impl Into<String>) -> Resolution {
    Resolution { ty: FlyteType::unknown(py), tag: "" }
}

fn pickle(py: impl Into<String>) -> Resolution {
    let mut ty = FlyteType::new(py, LiteralType::pickle());
    ty.pickled = true;
    Resolution { ty, tag: "FlytePickle" }
}

impl<'a> TypeResolver<'a> {
    pub fn new(index: &'a Index) -> Self {
        // `class FooTransformer(TypeTransformer[Foo])` anywhere means Foo is not pickled.
        let mut custom = Vec::new();
        for m in &index.modules {
            for s in m.top_level() {
                if let StmtKind::ClassDef(c) = &s.kind {
                    for b in &c.bases {
                        if let ExprKind::Subscript { value, index: idx } = &b.value.kind {
                            if value.dotted().is_some_and(|d| d.ends_with("TypeTransformer")) {
                                if let Some(n) = idx.first().and_then(|e| e.dotted()) {
                                    custom.push(n.rsplit('.').next().unwrap_or(&n).to_string());
                                }
                            }
                        }
                    }
                }
            }
        }
        TypeResolver { index, classes: RefCell::new(HashMap::new()), custom_transformed: custom }
    }

    fn text(&self, m: ModuleId, e: &Expr) -> String {
        let t = &self.index.module(m).text;
        let s = t.get(e.range.start..e.range.end).unwrap_or("?");
        s.split_whitespace().collect::<Vec<_>>().join(" ")
    }

    /// The Flyte type of annotation `e` written in module `m`.
    pub fn resolve(&self, m: ModuleId, e: &Expr) -> Result<Resolution, UnsupportedType> {
        self.resolve_depth(m, e, 0)
    }

    fn resolve_depth(&self, m: ModuleId, e: &Expr, depth: usize) -> Result<Resolution, UnsupportedType> {
        let py = self.text(m, e);
        if depth > MAX_DEPTH {
            return Ok(unknown(py));
        }
        match &e.kind {
            ExprKind::NoneLit => Ok(simple("None", Simple::None, "none")),
            ExprKind::Str(s) => {
                // A forward reference: parse the string as an expression.
                let parsed = crate::syntax::parse(s);
                match parsed.body.first().map(|s| &s.kind) {
                    Some(StmtKind::Expr(inner)) if parsed.syntax_errors.is_empty() => {
                        let mut r = self.resolve_names_only(m, inner, s, depth + 1)?;
                        r.ty.py = s.clone();
                        Ok(r)
                    }
                    _ => Ok(unknown(py)),
                }
            }
            ExprKind::Name(_) | ExprKind::Attribute { .. } => self.resolve_named(m, e, py, depth),
            ExprKind::Subscript { value, index } => self.resolve_generic(m, value, index, py, depth),
            ExprKind::BinOp { op, left, right } if op == "|" => {
                let l = self.resolve_depth(m, left, depth + 1)?;
                let r = self.resolve_depth(m, right, depth + 1)?;
                Ok(make_union(py, vec![l, r]))
            }
            _ => Ok(unknown(py)),
        }
    }

    /// Forward-reference strings are parsed on their own; their ranges don't point into the file.
    fn resolve_names_only(
        &self,
        m: ModuleId,
        e: &Expr,
        src: &str,
        depth: usize,
    ) -> Result<Resolution, UnsupportedType> {
        let py = src.get(e.range.start..e.range.end).unwrap_or(src).to_string();
        match &e.kind {
            ExprKind::Name(_) | ExprKind::Attribute { .. } => self.resolve_named(m, e, py, depth),
            _ => Ok(unknown(py)),
        }
    }

    fn resolve_named(&self, m: ModuleId, e: &Expr, py: String, depth: usize) -> Result<Resolution, UnsupportedType> {
        match self.index.resolve_expr(m, e) {
            Resolved::External(path) => self.external(&path, py),
            Resolved::Class(cm, c) => {
                Ok(self.class(cm, &c, depth).unwrap_or_else(|| unknown(py.clone()))).map(|mut r| {
                    r.ty.py = py;
                    r
                })
            }
            Resolved::Value(vm, _, value) => {
                // A type alias: `Orders = List[Order]`, `CSV = FlyteFile[TypeVar("csv")]`.
                let mut r = self.resolve_depth(vm, &value, depth + 1)?;
                r.ty.py = py;
                Ok(r)
            }
            _ => Ok(unknown(py)),
        }
    }

    fn external(&self, path: &str, py: String) -> Result<Resolution, UnsupportedType> {
        let unsupported = |reason: &str| Err(UnsupportedType { py: py.clone(), reason: reason.to_string() });
        Ok(match path {
            "builtins.int" => simple(&py, Simple::Integer, "int"),
            "builtins.float" => simple(&py, Simple::Float, "float"),
            "builtins.str" => simple(&py, Simple::String, "str"),
            "builtins.bool" => simple(&py, Simple::Boolean, "bool"),
            "datetime.datetime" => simple(&py, Simple::Datetime, "datetime"),
            "datetime.date" => simple(&py, Simple::Datetime, "date"),
            "datetime.timedelta" => simple(&py, Simple::Duration, "timedelta"),
            "builtins.bytes" | "typing.Any" | "builtins.object" => pickle(py),
            "builtins.dict" | "typing.Dict" => lit(py, LiteralType::UntypedStruct, "Typed Dict"),
            "builtins.list" | "typing.List" => {
                return unsupported(
                    "flytekit only supports a list with one element type, e.g. `List[int]` (bare `list` raises \
                     ValueError when the task is decorated)",
                )
            }
            "builtins.tuple" | "typing.Tuple" => {
                return unsupported(
                    "flytekit restricts tuples (RestrictedTypeError); use a dataclass or a NamedTuple output",
                )
            }
            "flytekit.FlyteFile" => lit(py, LiteralType::blob(""), "FlyteFilePath"),
            "flytekit.FlyteDirectory" => {
                lit(py, LiteralType::Blob { format: String::new(), multipart: true }, "FlyteDirectory")
            }
            "flytekit.TensorboardLogs" | "flytekit.TFRecordsDirectory" => {
                let fmt = if path.ends_with("TensorboardLogs") { "tensorboard" } else { "tfrecord" };
                lit(py, LiteralType::Blob { format: fmt.into(), multipart: true }, "FlyteDirectory")
            }
            "flytekit.StructuredDataset" | "pandas.DataFrame" | "pyarrow.Table" => lit(
                py,
                LiteralType::StructuredDataset { format: String::new(), columns: Vec::new() },
                "StructuredDataset Transformer",
            ),
            "flytekit.FlyteSchema" => lit(py, LiteralType::Schema { columns: Vec::new() }, "FlyteSchema Transformer"),
            "numpy.ndarray" => lit(py, LiteralType::blob("NumpyArray"), "Numpy Array"),
            p => match file_alias_format(p) {
                Some(fmt) => lit(py, LiteralType::blob(fmt), "FlyteFilePath"),
                None => unknown(py),
            },
        })
    }

    fn resolve_generic(
        &self,
        m: ModuleId,
        base: &Expr,
        args: &[Expr],
        py: String,
        depth: usize,
    ) -> Result<Resolution, UnsupportedType> {
        let base_path = match self.index.resolve_expr(m, base) {
            Resolved::External(p) => p,
            _ => return Ok(unknown(py)),
        };
        let arg = |i: usize| args.get(i);
        let res = |e: &Expr| self.resolve_depth(m, e, depth + 1);
        match base_path.as_str() {
            "builtins.list" | "typing.List" => {
                let Some(a) = arg(0) else { return Ok(unknown(py)) };
                let el = res(a)?;
                Ok(lit(py, LiteralType::list(el.ty.lit), "Typed List"))
            }
            "typing.Iterator" | "typing.Generator" => {
                let Some(a) = arg(0) else { return Ok(unknown(py)) };
                if self.index.resolve_expr(m, a).external() == Some("flytekit.types.iterator.JSON") {
                    return Ok(lit(py, LiteralType::blob("jsonl"), "JSON Iterator"));
                }
                let el = res(a)?;
                Ok(lit(py, LiteralType::list(el.ty.lit), "Typed Iterator"))
            }
            "builtins.dict" | "typing.Dict" => {
                let (Some(k), Some(v)) = (arg(0), arg(1)) else {
                    return Ok(lit(py, LiteralType::UntypedStruct, "Typed Dict"));
                };
                let key = res(k)?;
                if matches!(key.ty.lit, LiteralType::Simple { simple: Simple::String }) {
                    let val = res(v)?;
                    Ok(lit(py, LiteralType::map(val.ty.lit), "Typed Dict"))
                } else if key.ty.lit.is_unknown() {
                    Ok(unknown(py))
                } else {
                    Ok(lit(py, LiteralType::UntypedStruct, "Typed Dict"))
                }
            }
            "typing.Optional" => {
                let Some(a) = arg(0) else { return Ok(unknown(py)) };
                let inner = res(a)?;
                Ok(make_union(py, vec![inner, simple("None", Simple::None, "none")]))
            }
            "typing.Union" => {
                let items: Vec<&Expr> = match args {
                    [one] => match &one.kind {
                        ExprKind::Tuple(xs) => xs.iter().collect(),
                        _ => vec![one],
                    },
                    xs => xs.iter().collect(),
                };
                let mut vs = Vec::new();
                for x in items {
                    vs.push(res(x)?);
                }
                Ok(make_union(py, vs))
            }
            "typing.Annotated" => {
                let Some(inner) = arg(0) else { return Ok(unknown(py)) };
                let mut r = res(inner)?;
                r.ty.py = py;
                if let LiteralType::StructuredDataset { format, columns } = &mut r.ty.lit {
                    for meta in &args[1..] {
                        match &meta.kind {
                            ExprKind::Str(s) => *format = s.clone(),
                            ExprKind::Call { .. } => match self.kwtypes_columns(m, meta, depth) {
                                Some(cols) => *columns = cols,
                                None => return Ok(unknown(r.ty.py)),
                            },
                            _ => {}
                        }
                    }
                }
                Ok(r)
            }
            "flytekit.FlyteFile" | "flytekit.FlyteDirectory" => {
                let multipart = base_path.ends_with("Directory");
                let tag = if multipart { "FlyteDirectory" } else { "FlyteFilePath" };
                match arg(0).and_then(|a| self.format_arg(m, a)) {
                    Some(fmt) => Ok(lit(py, LiteralType::Blob { format: fmt, multipart }, tag)),
                    None => Ok(unknown(py)),
                }
            }
            "flytekit.FlyteSchema" => match arg(0).and_then(|a| self.kwtypes_columns(m, a, depth)) {
                Some(columns) => Ok(lit(py, LiteralType::Schema { columns }, "FlyteSchema Transformer")),
                None => Ok(unknown(py)),
            },
            "builtins.tuple" | "typing.Tuple" => Err(UnsupportedType {
                py,
                reason: "flytekit restricts tuples as inputs and elements (RestrictedTypeError); only a return \
                         annotation may be a Tuple"
                    .into(),
            }),
            _ => Ok(unknown(py)),
        }
    }

    /// `"csv"` or `TypeVar("csv")` as a file format.
    fn format_arg(&self, m: ModuleId, a: &Expr) -> Option<String> {
        match &a.kind {
            ExprKind::Str(s) => Some(s.clone()),
            ExprKind::Call { func, args } => {
                let f = self.index.resolve_expr(m, func);
                if f.external() == Some("typing.TypeVar") {
                    args.first().and_then(|x| x.value.as_str()).map(str::to_string)
                } else {
                    None
                }
            }
            _ => None,
        }
    }

    /// `kwtypes(a=int, b=str)` as structured dataset columns.
    fn kwtypes_columns(&self, m: ModuleId, call: &Expr, depth: usize) -> Option<Vec<Column>> {
        let ExprKind::Call { func, args } = &call.kind else { return None };
        if self.index.resolve_expr(m, func).external() != Some("flytekit.kwtypes") {
            return None;
        }
        let mut cols = Vec::new();
        for a in args {
            let name = a.name.clone()?;
            let ty = self.resolve_depth(m, &a.value, depth + 1).ok()?;
            cols.push(Column { name, ty: ty.ty.lit });
        }
        Some(cols)
    }

    /// A project class as a Flyte type: enum, dataclass, pydantic model, or pickled.
    fn class(&self, m: ModuleId, c: &Arc<ClassDef>, depth: usize) -> Option<Resolution> {
        let key = (m, c.name.clone());
        if let Some(r) = self.classes.borrow().get(&key) {
            return r.clone();
        }
        // Guard recursive dataclasses while resolving fields.
        self.classes.borrow_mut().insert(key.clone(), Some(unknown(&c.name)));
        let r = self.class_uncached(m, c, depth);
        self.classes.borrow_mut().insert(key, r.clone());
        r
    }

    /// What kind of class `c` is, by its bases and decorators.
    pub fn class_kind(&self, m: ModuleId, c: &ClassDef, depth: usize) -> ClassKind {
        if depth > MAX_DEPTH {
            return ClassKind::Unknown;
        }
        if self.custom_transformed.contains(&c.name) {
            return ClassKind::Unknown;
        }
        let is_dataclass = c.decorators.iter().any(|d| {
            let target = match &d.kind {
                ExprKind::Call { func, .. } => func.as_ref(),
                _ => d,
            };
            matches!(
                self.index.resolve_expr(m, target).external(),
                Some("dataclasses.dataclass" | "pydantic.dataclasses.dataclass")
            )
        });
        let mut kind = if is_dataclass { ClassKind::Dataclass } else { ClassKind::Plain };
        for b in &c.bases {
            if b.name.is_some() {
                continue;
            }
            let base_kind = match self.index.resolve_expr(m, &b.value) {
                Resolved::External(p) => match p.as_str() {
                    "enum.Enum" | "enum.StrEnum" => ClassKind::Enum,
                    "builtins.str" | "builtins.object" => continue,
                    "pydantic.BaseModel" => ClassKind::Pydantic,
                    "typing.NamedTuple" => ClassKind::NamedTuple,
                    "mashumaro.mixins.json.DataClassJSONMixin" | "dataclasses_json.DataClassJsonMixin" => continue,
                    _ if p.starts_with("mashumaro.") || p.starts_with("dataclasses_json.") => continue,
                    _ => ClassKind::Unknown,
                },
                Resolved::Class(bm, bc) => self.class_kind(bm, &bc, depth + 1),
                _ => ClassKind::Unknown,
            };
            kind = match (kind, base_kind) {
                (ClassKind::Dataclass, ClassKind::Dataclass | ClassKind::Plain) => ClassKind::Dataclass,
                (_, ClassKind::Plain) => kind,
                (_, k) => k,
            };
        }
        kind
    }

    fn class_uncached(&self, m: ModuleId, c: &Arc<ClassDef>, depth: usize) -> Option<Resolution> {
        let py = c.name.clone();
        match self.class_kind(m, c, depth) {
            ClassKind::Enum => {
                let mut values = Vec::new();
                for s in &c.body {
                    if let StmtKind::Assign { targets, value: Some(v), .. } = &s.kind {
                        match (&targets[0].kind, &v.kind) {
                            (ExprKind::Name(_), ExprKind::Str(val)) => values.push(val.clone()),
                            // Non-string values: flytekit rejects the enum; don't guess its type.
                            (ExprKind::Name(_), _) => return Some(unknown(py)),
                            _ => {}
                        }
                    }
                }
                Some(lit(py, LiteralType::Enum { values }, "DefaultEnumTransformer"))
            }
            kind @ (ClassKind::Dataclass | ClassKind::Pydantic) => {
                let fields = self.struct_fields(m, c, depth)?;
                let pydantic = kind == ClassKind::Pydantic;
                let def = StructDef { name: c.name.clone(), pydantic, fields };
                let tag = if pydantic { "Pydantic Transformer" } else { "Object-Dataclass-Transformer" };
                Some(lit(py, LiteralType::Struct { def: Arc::new(def) }, tag))
            }
            ClassKind::Plain => Some(pickle(py)),
            ClassKind::NamedTuple | ClassKind::Unknown => None,
        }
    }

    /// Fields of a dataclass or model, base classes first; `None` if one cannot be typed.
    fn struct_fields(&self, m: ModuleId, c: &ClassDef, depth: usize) -> Option<Vec<StructField>> {
        let mut fields: Vec<StructField> = Vec::new();
        for b in &c.bases {
            if let Resolved::Class(bm, bc) = self.index.resolve_expr(m, &b.value) {
                if depth < MAX_DEPTH {
                    fields.extend(self.struct_fields(bm, &bc, depth + 1)?);
                }
            }
        }
        for s in &c.body {
            if let StmtKind::Assign { targets, annotation: Some(ann), value } = &s.kind {
                let ExprKind::Name(name) = &targets[0].kind else { continue };
                if ann.dotted().is_some_and(|d| d.ends_with("ClassVar")) {
                    continue;
                }
                if let ExprKind::Subscript { value: b, .. } = &ann.kind {
                    if b.dotted().is_some_and(|d| d.ends_with("ClassVar")) {
                        continue;
                    }
                }
                let ty = self.resolve_depth(m, ann, depth + 1).ok()?;
                let required = value.is_none();
                let field = StructField { name: name.clone(), ty: ty.ty.lit, py: ty.ty.py, required };
                if let Some(existing) = fields.iter_mut().find(|f| f.name == *name) {
                    *existing = field;
                } else {
                    fields.push(field);
                }
            }
        }
        Some(fields)
    }
}

/// The kinds of project classes that matter to Flyte.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ClassKind {
    Enum,
    Dataclass,
    Pydantic,
    NamedTuple,
    /// A plain class: flytekit pickles it.
    Plain,
    /// Derives from something fledge does not know; its type is unknown.
    Unknown,
}

fn make_union(py: String, parts: Vec<Resolution>) -> Resolution {
    let mut variants: Vec<Variant> = Vec::new();
    let mut unknown_part = false;
    for p in parts {
        match p.ty.lit {
            LiteralType::Union { variants: inner } => {
                for v in inner {
                    if !variants.contains(&v) {
                        variants.push(v);
                    }
                }
            }
            LiteralType::Unknown => unknown_part = true,
            lt => {
                let v = Variant { ty: lt, tag: p.tag.to_string() };
                if !variants.contains(&v) {
                    variants.push(v);
                }
            }
        }
    }
    if unknown_part {
        return unknown(py);
    }
    if variants.len() == 1 {
        let v = variants.pop().unwrap();
        return Resolution { ty: FlyteType::new(py, v.ty), tag: "" };
    }
    lit(py, LiteralType::Union { variants }, "Typed Union")
}

/// flytekit's ready-made `FlyteFile[...]` aliases.
fn file_alias_format(path: &str) -> Option<&'static str> {
    Some(match path.rsplit('.').next()? {
        "CSVFile" => "csv",
        "HDF5EncodedFile" => "hdf5",
        "HTMLPage" => "html",
        "JoblibSerializedFile" => "joblib",
        "JPEGImageFile" => "jpeg",
        "PDFFile" => "pdf",
        "PNGImageFile" => "png",
        "PythonPickledFile" => "python-pickle",
        "PythonNotebook" => "ipynb",
        "SVGImageFile" => "svg",
        "TFRecordFile" => "tfrecord",
        "ONNXFile" => "onnx",
        _ => return None,
    })
    .filter(|_| path.starts_with("flytekit."))
}

#[cfg(test)]
mod tests {
    use crate::project::{Index, Module};
    use crate::syntax::StmtKind;
    use std::path::PathBuf;
    use std::sync::Arc;

    /// Resolve the annotation of `x: <ann>` at the end of `src`.
    pub fn resolve_in(src: &str) -> String {
        let idx = Index::new(vec![Arc::new(Module::new("m".into(), PathBuf::from("m.py"), Arc::from(src), None))]);
        let types = super::TypeResolver::new(&idx);
        let m = idx.module(0);
        let ann = m
            .parsed
            .body
            .iter()
            .rev()
            .find_map(|s| match &s.kind {
                StmtKind::Assign { annotation: Some(a), .. } => Some(a.clone()),
                _ => None,
            })
            .expect("an annotated assignment");
        match types.resolve(0, &ann) {
            Ok(r) => format!("{}", r.ty.lit),
            Err(u) => format!("unsupported: {}", u.reason),
        }
    }

    #[test]
    fn generics_and_aliases() {
        assert_eq!(resolve_in("from typing import List\nx: List[int]\n"), "LIST<INTEGER>");
        assert_eq!(resolve_in("import typing\nx: typing.Dict[str, float]\n"), "MAP<STRING, FLOAT>");
        assert_eq!(resolve_in("x: dict[int, str]\n"), "STRUCT");
        assert_eq!(resolve_in("from typing import Optional\nx: Optional[int]\n"), "UNION<INTEGER, NONE>");
        assert_eq!(resolve_in("x: int | None\n"), "UNION<INTEGER, NONE>");
        assert_eq!(resolve_in("from flytekit.types.file import FlyteFile\nx: FlyteFile['csv']\n"), "BLOB format=csv");
        assert_eq!(resolve_in("import pandas as pd\nx: pd.DataFrame\n"), "STRUCTURED_DATASET");
        assert_eq!(resolve_in("from typing import List\nOrders = List[str]\nx: Orders\n"), "LIST<STRING>");
        assert_eq!(resolve_in("x: 'int'\n"), "INTEGER");
        assert!(resolve_in("x: list\n").starts_with("unsupported"));
        assert_eq!(resolve_in("import torch\nx: torch.Tensor\n"), "unknown");
    }
}
