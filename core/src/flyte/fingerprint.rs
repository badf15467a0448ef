//! Content fingerprints of tasks: a hash of everything in the project's source that determines
//! what a task computes, so a run cache can be keyed by content and `stale-cache-version` can tell
//! when a task changed under an unchanged `cache_version`.
//!
//! What goes in (docs/fingerprint.md has the reasoning):
//! - the entity's kind and qualified name, and its function's source (signature and body) as a
//!   normalized token stream: comments, docstrings and other string-only statements, blank lines,
//!   indentation width, line breaks inside brackets, quote style, trailing commas, redundant
//!   parentheses that black adds or removes, and `;`/one-line-compound splitting do not count;
//! - the decorator arguments that change results (`EXCLUDED_TASK_ARGS` lists the ones that do not:
//!   retries, timeouts, resources, caching, docs, decks, ...); other decorators in full;
//! - its Flyte interface as fledge types it;
//! - transitively, every project function, class (dataclasses, enums, ...) and module-level
//!   assignment its source refers to, resolved through imports, aliases, re-exports and
//!   function-local imports, each by its own normalized source; cycles are cut by a visited set;
//! - the dotted names of third-party things it uses (`numpy.mean`); their versions are unknown
//!   statically (the runner adds flytekit's).
//!
//! The fingerprint is the hash of the sorted list of named parts, which is kept for `--explain`.

use crate::diagnostic::TextRange;
use crate::flyte::{EntityId, EntityTable};
use crate::ide::lex::{self, Tok, Token};
use crate::project::resolve::canonical_external;
use crate::project::{Index, ModuleId, Resolved};
use crate::workspace::Analysis;
use serde::{Serialize, Serializer};
use sha2::{Digest, Sha256};
use std::collections::{BTreeSet, HashMap, HashSet};
use std::fmt;

/// A SHA-256 content hash.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug, PartialOrd, Ord)]
pub struct Fingerprint(pub [u8; 32]);

impl fmt::Display for Fingerprint {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for b in self.0 {
            write!(f, "{b:02x}")?;
        }
        Ok(())
    }
}

impl Serialize for Fingerprint {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

/// One named ingredient of a fingerprint, e.g. `function shop.pricing.discount`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct FingerprintPart {
    pub what: String,
    pub hash: Fingerprint,
}

/// A task's fingerprint and the parts it is the hash of (sorted by `what`).
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct TaskFingerprint {
    pub fingerprint: Fingerprint,
    pub parts: Vec<FingerprintPart>,
}

impl TaskFingerprint {
    /// What differs from `old`: parts whose hash changed, parts added, parts removed (by `what`).
    pub fn changed_parts(&self, old: &TaskFingerprint) -> Vec<String> {
        let new: HashMap<&str, Fingerprint> = self.parts.iter().map(|p| (p.what.as_str(), p.hash)).collect();
        let before: HashMap<&str, Fingerprint> = old.parts.iter().map(|p| (p.what.as_str(), p.hash)).collect();
        let mut out: Vec<String> = Vec::new();
        for p in &self.parts {
            match before.get(p.what.as_str()) {
                Some(h) if *h == p.hash => {}
                Some(_) => out.push(p.what.clone()),
                None => out.push(format!("{} (new)", p.what)),
            }
        }
        for p in &old.parts {
            if !new.contains_key(p.what.as_str()) {
                out.push(format!("{} (removed)", p.what));
            }
        }
        out.dedup();
        out
    }
}

/// Decorator and constructor arguments that do not change what a task computes, so they are left
/// out: scheduling and infrastructure, retries and timeouts, caching (the run cache is keyed by
/// content, so `cache_version` need not be in it), documentation and decks.
pub const EXCLUDED_TASK_ARGS: &[&str] = &[
    "cache",
    "cache_version",
    "cache_serialize",
    "cache_ignore_input_vars",
    "retries",
    "interruptible",
    "timeout",
    "deprecated",
    "requests",
    "limits",
    "resources",
    "accelerator",
    "shared_memory",
    "pod_template",
    "pod_template_name",
    "labels",
    "annotations",
    "node_dependency_hints",
    "task_resolver",
    "docs",
    "disable_deck",
    "enable_deck",
    "deck_fields",
];

impl Analysis {
    /// The content fingerprint of one entity (task-like, workflow, map task, launch plan).
    /// For many entities at once, use one [`Fingerprinter`]: it shares work between them.
    pub fn task_fingerprint(&self, entity: EntityId) -> Option<TaskFingerprint> {
        Fingerprinter::new(&self.index, &self.entities).entity(entity)
    }
}

/// Free-function spelling of [`Analysis::task_fingerprint`].
pub fn task_fingerprint(analysis: &Analysis, entity: EntityId) -> Option<TaskFingerprint> {
    analysis.task_fingerprint(entity)
}

/// Something in the project a fingerprint can depend on.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
enum Item {
    /// A function or class definition: its whole source, decorators included.
    Def { module: ModuleId, range: TextRange, kind: &'static str, name: String },
    /// A module-level `name = value`: the value's source.
    Value { module: ModuleId, name: String, range: TextRange },
    /// A project module used as a value (`getattr(mod, name)`): its whole source.
    Module(ModuleId),
}

struct ItemInfo {
    what: String,
    hash: Fingerprint,
    deps: Vec<Item>,
}

/// Computes fingerprints, remembering each definition's hash and references across calls.
pub struct Fingerprinter<'a> {
    index: &'a Index,
    entities: &'a EntityTable,
    items: HashMap<Item, ItemInfo>,
}

impl<'a> Fingerprinter<'a> {
    pub fn new(index: &'a Index, entities: &'a EntityTable) -> Self {
        Fingerprinter { index, entities, items: HashMap::new() }
    }

    /// The fingerprint of entity `id`, or `None` if there is no such entity.
    pub fn entity(&mut self, id: EntityId) -> Option<TaskFingerprint> {
        let e = self.entities.entities.get(id)?;
        let module = self.index.module(e.module);
        let text: &str = &module.text;
        let qname = e.qualified_name(self.index);
        let mut parts: Vec<FingerprintPart> = Vec::new();
        let mut roots: Vec<Item> = Vec::new();
        match &e.function {
            Some(f) => {
                // The function without the entity's own decorator, whose arguments come next.
                let own = normalize(text, f.range, Mode::Block, &[e.config_range]);
                let (deps, externals) = self.resolve(e.module, &own);
                let mut h = Sha256::new();
                h.update(e.kind.describe());
                h.update([0]);
                h.update(&own.bytes);
                hash_externals(&mut h, &externals);
                parts.push(FingerprintPart { what: format!("{} {qname}", e.kind.describe()), hash: finish(h) });
                roots.extend(deps);
                let mut h = Sha256::new();
                for a in &e.config_args {
                    if a.name.as_deref().is_some_and(|n| EXCLUDED_TASK_ARGS.contains(&n)) {
                        continue;
                    }
                    let value = normalize(text, a.value.range, Mode::Expr, &[]);
                    let (deps, externals) = self.resolve(e.module, &value);
                    h.update(a.name.as_deref().unwrap_or("*"));
                    h.update([0]);
                    h.update(&value.bytes);
                    hash_externals(&mut h, &externals);
                    roots.extend(deps);
                }
                parts.push(FingerprintPart { what: format!("decorator arguments of {qname}"), hash: finish(h) });
            }
            None => {
                // `name = map_task(t, ...)` and the like: the call, and through it what it wraps.
                let call = normalize(text, e.config_range, Mode::Expr, &[]);
                let (deps, externals) = self.resolve(e.module, &call);
                let mut h = Sha256::new();
                h.update(e.kind.describe());
                h.update([0]);
                h.update(&call.bytes);
                hash_externals(&mut h, &externals);
                parts.push(FingerprintPart { what: format!("{} {qname}", e.kind.describe()), hash: finish(h) });
                roots.extend(deps);
            }
        }
        let mut h = Sha256::new();
        for (dir, vars) in [("in", &e.interface.inputs), ("out", &e.interface.outputs)] {
            for v in vars {
                let lit = serde_json::to_string(&v.ty.lit).unwrap_or_default();
                h.update(format!("{dir} {} {} {lit} {}\n", v.name, v.ty.py, v.ty.pickled));
            }
        }
        parts.push(FingerprintPart { what: format!("interface of {qname}"), hash: finish(h) });
        // Everything reachable from the entity, each once (cycles end at the visited set).
        let mut seen: HashSet<Item> = HashSet::new();
        let mut stack = roots;
        while let Some(item) = stack.pop() {
            if !seen.insert(item.clone()) {
                continue;
            }
            let info = self.info(&item);
            parts.push(FingerprintPart { what: info.what.clone(), hash: info.hash });
            stack.extend(info.deps.iter().filter(|d| !seen.contains(*d)).cloned());
        }
        parts.sort_by(|a, b| (&a.what, a.hash).cmp(&(&b.what, b.hash)));
        parts.dedup();
        let mut h = Sha256::new();
        for p in &parts {
            h.update(p.what.as_bytes());
            h.update([0]);
            h.update(p.hash.0);
        }
        Some(TaskFingerprint { fingerprint: finish(h), parts })
    }

    fn info(&mut self, item: &Item) -> &ItemInfo {
        if !self.items.contains_key(item) {
            let info = self.compute(item);
            self.items.insert(item.clone(), info);
        }
        &self.items[item]
    }

    fn compute(&self, item: &Item) -> ItemInfo {
        let (module, range, mode, what) = match item {
            Item::Def { module, range, kind, name } => (*module, *range, Mode::Block, format!("{kind} {name}")),
            Item::Value { module, name, range } => (*module, *range, Mode::Expr, format!("constant {name}")),
            Item::Module(m) => {
                let module = self.index.module(*m);
                let norm = normalize(&module.text, TextRange::new(0, module.text.len()), Mode::Block, &[]);
                let mut h = Sha256::new();
                h.update(&norm.bytes);
                // A whole module is a leaf: what it refers to is not followed.
                return ItemInfo { what: format!("module {}", module.name), hash: finish(h), deps: Vec::new() };
            }
        };
        let norm = normalize(&self.index.module(module).text, range, mode, &[]);
        let (deps, externals) = self.resolve(module, &norm);
        let mut h = Sha256::new();
        h.update(&norm.bytes);
        hash_externals(&mut h, &externals);
        ItemInfo { what, hash: finish(h), deps }
    }

    /// The project items and external names that a normalized snippet of module `m` refers to.
    fn resolve(&self, m: ModuleId, norm: &Normalized) -> (Vec<Item>, BTreeSet<String>) {
        let index = self.index;
        // Function-local imports shadow module-level names.
        let mut local: HashMap<&str, Resolved> = HashMap::new();
        let mut externals = BTreeSet::new();
        let mut deps = Vec::new();
        for imp in &norm.imports {
            let module = index.module(m);
            let Some(abs) = module.absolute_module(imp.module.as_deref(), imp.level) else { continue };
            match &imp.name {
                // `from abs import name as bound`
                Some(name) => {
                    let r = match index.find_import(m, &abs) {
                        Some(id) => match index.member(id, name, 0) {
                            Resolved::Unknown => match index.module_by_name(&format!("{abs}.{name}")) {
                                Some(sub) => Resolved::Module(sub),
                                None => Resolved::Unknown,
                            },
                            r => r,
                        },
                        None => match index.module_by_name(&format!("{abs}.{name}")) {
                            Some(sub) => Resolved::Module(sub),
                            None => Resolved::External(canonical_external(&format!("{abs}.{name}"))),
                        },
                    };
                    local.insert(&imp.bound, r);
                }
                // `import abs as bound` / `import abs` (binds the top package).
                None => {
                    let target =
                        if imp.aliased { abs.clone() } else { abs.split('.').next().unwrap_or("").to_string() };
                    let r = match index.find_import(m, &target) {
                        Some(id) => Resolved::Module(id),
                        None => Resolved::External(canonical_external(&target)),
                    };
                    // The imported module itself is a dependency, even if only `a` is used later.
                    if let Resolved::External(_) = &r {
                        externals.insert(canonical_external(&abs));
                    }
                    local.insert(&imp.bound, r);
                }
            }
        }
        for chain in &norm.refs {
            let first = chain[0].as_str();
            let mut r = match local.get(first) {
                Some(r) => r.clone(),
                None => index.resolve_name(m, first),
            };
            let mut i = 1;
            loop {
                match r {
                    Resolved::Module(id) if i < chain.len() => match index.member(id, &chain[i], 0) {
                        Resolved::Unknown => break,
                        next => {
                            r = next;
                            i += 1;
                        }
                    },
                    Resolved::External(p) if i < chain.len() => {
                        r = Resolved::External(canonical_external(&format!("{p}.{}", chain[i])));
                        i += 1;
                    }
                    _ => break,
                }
            }
            match r {
                Resolved::Function(fm, f) => deps.push(Item::Def {
                    module: fm,
                    range: f.range,
                    kind: "function",
                    name: format!("{}.{}", index.module(fm).name, f.name),
                }),
                Resolved::Class(cm, c) => deps.push(Item::Def {
                    module: cm,
                    range: c.range,
                    kind: "class",
                    name: format!("{}.{}", index.module(cm).name, c.name),
                }),
                Resolved::Value(vm, name, value) => deps.push(Item::Value {
                    module: vm,
                    name: format!("{}.{name}", index.module(vm).name),
                    range: value.range,
                }),
                Resolved::Module(id) => deps.push(Item::Module(id)),
                Resolved::External(p) => {
                    if !p.starts_with("builtins.") {
                        externals.insert(p);
                    }
                }
                Resolved::Unknown => {}
            }
        }
        (deps, externals)
    }
}

fn hash_externals(h: &mut Sha256, externals: &BTreeSet<String>) {
    h.update([1]);
    for e in externals {
        h.update(e.as_bytes());
        h.update([0]);
    }
}

fn finish(h: Sha256) -> Fingerprint {
    Fingerprint(h.finalize().into())
}

// ---------------------------------------------------------------------------------------------
// Normalization: source text → a token stream that ignores formatting.

#[derive(Clone, Copy, PartialEq, Eq)]
enum Mode {
    /// Statements (a `def` or `class` with its decorators, a module): lines and indentation count.
    Block,
    /// One expression: line breaks are formatting.
    Expr,
}

/// An `import` inside the normalized source (a function-local import).
struct LocalImport {
    module: Option<String>,
    level: usize,
    /// `Some(name)` for `from module import name`.
    name: Option<String>,
    bound: String,
    aliased: bool,
}

struct Normalized {
    bytes: Vec<u8>,
    /// Name chains read (`a`, `mod.f`), in order.
    refs: Vec<Vec<String>>,
    imports: Vec<LocalImport>,
}

const KEYWORDS: &[&str] = &[
    "False", "None", "True", "and", "as", "assert", "async", "await", "break", "class", "continue", "def", "del",
    "elif", "else", "except", "finally", "for", "from", "global", "if", "import", "in", "is", "lambda", "nonlocal",
    "not", "or", "pass", "raise", "return", "try", "while", "with", "yield",
];

/// Keywords that start a compound statement whose body may follow its `:` on the same line.
const COMPOUND: &[&str] = &[
    "if", "elif", "else", "for", "while", "with", "try", "except", "finally", "def", "class", "async", "match", "case",
];

/// After these, a parenthesized expression that runs to the end of the statement (or to the
/// header's `:`) is redundant: black adds and removes such parentheses when it splits lines.
const BEFORE_REDUNDANT_PARENS: &[&str] = &["return", "if", "elif", "while", "in", "assert", "del", "yield", "else"];

fn is_keyword(s: &str) -> bool {
    KEYWORDS.contains(&s)
}

fn normalize(text: &str, range: TextRange, mode: Mode, skip: &[TextRange]) -> Normalized {
    let toks: Vec<Token> = lex::tokens(text, range.start, range.end)
        .into_iter()
        .filter(|t| t.kind != Tok::Comment && !skip.iter().any(|s| s.start <= t.range.start && t.range.end <= s.end))
        .collect();
    // Logical lines with the column of their first token.
    let mut lines: Vec<(usize, Vec<Token>)> = Vec::new();
    let mut cur: Vec<Token> = Vec::new();
    let mut depth = 0usize;
    for t in toks {
        match t.kind {
            Tok::Newline => {
                if mode == Mode::Block && depth == 0 && !cur.is_empty() {
                    let col = column(text, cur[0].range.start);
                    lines.push((col, std::mem::take(&mut cur)));
                }
                continue;
            }
            Tok::Open(_) => depth += 1,
            Tok::Close(_) => depth = depth.saturating_sub(1),
            _ => {}
        }
        cur.push(t);
    }
    if !cur.is_empty() {
        let col = if mode == Mode::Block { column(text, cur[0].range.start) } else { 0 };
        lines.push((col, cur));
    }
    let src = |t: &Token| text.get(t.range.start..t.range.end).unwrap_or("");
    // Simple lines with their block level.
    let mut simple: Vec<(usize, Vec<Token>)> = Vec::new();
    let mut stack: Vec<usize> = Vec::new();
    for (col, line) in lines {
        // String-only statements (docstrings) do nothing.
        if mode == Mode::Block && line.iter().all(|t| t.kind == Tok::Str) {
            continue;
        }
        while stack.last().is_some_and(|top| col < *top) {
            stack.pop();
        }
        if stack.last().is_none_or(|top| col > *top) {
            stack.push(col);
        }
        let level = stack.len() - 1;
        // `if x: y` is `if x:` with `y` in its body; `a; b` is two statements.
        let (header, body) = match line.first() {
            Some(first) if mode == Mode::Block && first.kind == Tok::Ident && COMPOUND.contains(&src(first)) => {
                match header_colon(&line) {
                    Some(c) if c + 1 < line.len() => (Some(line[..=c].to_vec()), line[c + 1..].to_vec()),
                    _ => (None, line),
                }
            }
            _ => (None, line),
        };
        let body_level = if header.is_some() {
            simple.push((level, header.unwrap_or_default()));
            level + 1
        } else {
            level
        };
        for stmt in split_semicolons(&body, &src) {
            let string_only = mode == Mode::Block && stmt.iter().all(|t| t.kind == Tok::Str);
            if !stmt.is_empty() && !string_only {
                simple.push((body_level, stmt));
            }
        }
    }
    let mut out = Normalized { bytes: Vec::new(), refs: Vec::new(), imports: Vec::new() };
    for (level, line) in &simple {
        out.bytes.push(b'\n');
        out.bytes.extend_from_slice(&(*level as u32).to_le_bytes());
        emit_line(text, line, &mut out);
    }
    out
}

/// Column of `offset` on its line (tabs to the next multiple of 8, as Python counts).
fn column(text: &str, offset: usize) -> usize {
    let start = text[..offset].rfind('\n').map(|p| p + 1).unwrap_or(0);
    text[start..offset].chars().fold(0, |c, ch| if ch == '\t' { (c / 8 + 1) * 8 } else { c + 1 })
}

/// The `:` ending a compound statement's header: the first at bracket depth 0.
fn header_colon(line: &[Token]) -> Option<usize> {
    let mut depth = 0usize;
    for (i, t) in line.iter().enumerate() {
        match t.kind {
            Tok::Open(_) => depth += 1,
            Tok::Close(_) => depth = depth.saturating_sub(1),
            Tok::Colon if depth == 0 => return Some(i),
            _ => {}
        }
    }
    None
}

fn split_semicolons<'t>(line: &[Token], src: &dyn Fn(&Token) -> &'t str) -> Vec<Vec<Token>> {
    let mut out = vec![Vec::new()];
    let mut depth = 0usize;
    for t in line {
        match t.kind {
            Tok::Open(_) => depth += 1,
            Tok::Close(_) => depth = depth.saturating_sub(1),
            Tok::Op if depth == 0 && src(t) == ";" => {
                out.push(Vec::new());
                continue;
            }
            _ => {}
        }
        out.last_mut().expect("non-empty").push(*t);
    }
    out
}

/// Hash one simple statement's tokens into `out`, and collect what it refers to.
fn emit_line(text: &str, line: &[Token], out: &mut Normalized) {
    let src = |t: &Token| text.get(t.range.start..t.range.end).unwrap_or("");
    let n = line.len();
    // Matching brackets.
    let mut matching = vec![usize::MAX; n];
    let mut open: Vec<usize> = Vec::new();
    for (i, t) in line.iter().enumerate() {
        match t.kind {
            Tok::Open(_) => open.push(i),
            Tok::Close(_) => {
                if let Some(o) = open.pop() {
                    matching[o] = i;
                    matching[i] = o;
                }
            }
            _ => {}
        }
    }
    let callish = |i: usize| -> bool {
        i > 0 && {
            let p = &line[i - 1];
            matches!(p.kind, Tok::Close(_) | Tok::Str) || (p.kind == Tok::Ident && !is_keyword(src(p)))
        }
    };
    // Top-level commas inside each bracket pair.
    let mut commas = vec![0usize; n];
    let mut groups: Vec<usize> = Vec::new();
    for (i, t) in line.iter().enumerate() {
        match t.kind {
            Tok::Open(_) => groups.push(i),
            Tok::Close(_) => {
                groups.pop();
            }
            Tok::Comma => {
                if let Some(g) = groups.last() {
                    commas[*g] += 1;
                }
            }
            _ => {}
        }
    }
    let mut drop = vec![false; n];
    for i in 0..n {
        let t = &line[i];
        // Redundant grouping parentheses around a whole right-hand side or condition.
        if t.kind == Tok::Open(b'(') && matching[i] != usize::MAX && i > 0 && !callish(i) {
            let j = matching[i];
            let prev = src(&line[i - 1]);
            let after_ok = line[i - 1].kind == Tok::Assign
                || (line[i - 1].kind == Tok::Op && prev.ends_with('=') && !matches!(prev, "==" | "<=" | ">=" | "!="))
                || (line[i - 1].kind == Tok::Ident && BEFORE_REDUNDANT_PARENS.contains(&prev));
            let ends = j + 1 == n || (j + 2 == n && line[j + 1].kind == Tok::Colon);
            if after_ok && ends && j > i + 1 && commas[i] == 0 {
                drop[i] = true;
                drop[j] = true;
            }
        }
        // Trailing commas that change nothing.
        if t.kind == Tok::Comma && i + 1 < n && matches!(line[i + 1].kind, Tok::Close(_)) {
            let o = matching[i + 1];
            if o != usize::MAX {
                let useless = commas[o] >= 2
                    || line[o].kind == Tok::Open(b'{')
                    || (line[o].kind == Tok::Open(b'[') && !callish(o))
                    || (line[o].kind == Tok::Open(b'(') && callish(o));
                if useless {
                    drop[i] = true;
                }
            }
        }
    }
    // Imports: recorded for resolution, and their names are not references.
    let first = line.first().map(src).unwrap_or("");
    let is_import = first == "import" || first == "from";
    if is_import {
        parse_import(line, &src, &mut out.imports);
    }
    for (i, t) in line.iter().enumerate() {
        if drop[i] {
            continue;
        }
        let s = src(t);
        match t.kind {
            Tok::Str => {
                out.bytes.push(b'S');
                let (prefix, body) = normalize_string(s);
                out.bytes.extend_from_slice(prefix.as_bytes());
                out.bytes.push(1);
                out.bytes.extend_from_slice(body.as_bytes());
                if !is_import {
                    string_refs(&prefix, &body, out);
                }
            }
            Tok::Number => {
                out.bytes.push(b'N');
                out.bytes.extend_from_slice(s.to_ascii_lowercase().as_bytes());
            }
            Tok::Ident => {
                out.bytes.push(b'I');
                out.bytes.extend_from_slice(s.as_bytes());
                if !is_import && !is_keyword(s) {
                    let prev = if i > 0 { Some(&line[i - 1]) } else { None };
                    let after_dot = prev.is_some_and(|p| p.kind == Tok::Dot);
                    let defined = prev.is_some_and(|p| matches!(src(p), "def" | "class"));
                    let bound = line.get(i + 1).is_some_and(|n| n.kind == Tok::Assign);
                    if !after_dot && !defined && !bound {
                        let mut chain = vec![s.to_string()];
                        let mut k = i + 1;
                        while k + 1 < n && line[k].kind == Tok::Dot && line[k + 1].kind == Tok::Ident {
                            chain.push(src(&line[k + 1]).to_string());
                            k += 2;
                        }
                        out.refs.push(chain);
                    }
                }
            }
            _ => {
                out.bytes.push(b'O');
                out.bytes.extend_from_slice(s.as_bytes());
            }
        }
        out.bytes.push(0);
    }
}

/// A string literal as (sorted lowercase prefix without `u`, body between the quotes), with
/// escaped quotes unescaped so `'it\'s'` and `"it's"` agree.
fn normalize_string(s: &str) -> (String, String) {
    let q = s.find(['"', '\'']).unwrap_or(s.len());
    let mut prefix: Vec<char> = s[..q].to_ascii_lowercase().chars().filter(|c| *c != 'u').collect();
    prefix.sort_unstable();
    let prefix: String = prefix.into_iter().collect();
    let rest = &s[q..];
    let quote = rest.chars().next().unwrap_or('"');
    let triple: String = std::iter::repeat_n(quote, 3).collect();
    let delim = if rest.starts_with(&triple) && rest.len() >= 6 { triple.as_str() } else { &rest[..rest.len().min(1)] };
    let body = rest.strip_prefix(delim).unwrap_or(rest);
    let body = body.strip_suffix(delim).unwrap_or(body);
    if prefix.contains('r') {
        return (prefix, body.to_string());
    }
    let mut out = String::with_capacity(body.len());
    let mut chars = body.chars();
    while let Some(c) = chars.next() {
        if c == '\\' {
            match chars.next() {
                Some(q @ ('\'' | '"')) => out.push(q),
                Some(o) => {
                    out.push('\\');
                    out.push(o);
                }
                None => out.push('\\'),
            }
        } else {
            out.push(c);
        }
    }
    (prefix, out)
}

/// Names a string refers to: the expressions of an f-string, or a forward-reference annotation
/// (`"Order"`, `"shop.types.Order"`).
fn string_refs(prefix: &str, body: &str, out: &mut Normalized) {
    if prefix.contains('f') {
        let mut depth = 0usize;
        let mut seg_start = 0;
        let bytes = body.as_bytes();
        let mut i = 0;
        while i < bytes.len() {
            match bytes[i] {
                b'{' if depth == 0 && bytes.get(i + 1) == Some(&b'{') => i += 1,
                b'{' => {
                    if depth == 0 {
                        seg_start = i + 1;
                    }
                    depth += 1;
                }
                b'}' if depth > 0 => {
                    depth -= 1;
                    if depth == 0 {
                        let seg = &body[seg_start..i];
                        let toks = lex::tokens(seg, 0, seg.len());
                        let mut sub = Normalized { bytes: Vec::new(), refs: Vec::new(), imports: Vec::new() };
                        emit_line(seg, &toks, &mut sub);
                        out.refs.extend(sub.refs);
                    }
                }
                _ => {}
            }
            i += 1;
        }
    } else if !body.is_empty()
        && body.split('.').all(|p| {
            p.chars().next().is_some_and(|c| c == '_' || c.is_alphabetic())
                && p.chars().all(|c| c == '_' || c.is_alphanumeric())
        })
    {
        out.refs.push(body.split('.').map(str::to_string).collect());
    }
}

/// `import a.b as c, d` / `from ..m import (x as y, z)` → local imports.
fn parse_import<'t>(line: &[Token], src: &dyn Fn(&Token) -> &'t str, out: &mut Vec<LocalImport>) {
    let words: Vec<(Tok, &str)> = line.iter().map(|t| (t.kind, src(t))).collect();
    let dotted = |mut i: usize| -> (String, usize) {
        let mut s = String::new();
        while i < words.len() {
            match words[i] {
                (Tok::Ident, w) if w != "as" && w != "import" => s.push_str(w),
                (Tok::Dot, _) if !s.is_empty() => s.push('.'),
                _ => break,
            }
            i += 1;
        }
        (s, i)
    };
    if words.first().map(|w| w.1) == Some("import") {
        let mut i = 1;
        while i < words.len() {
            let (name, next) = dotted(i);
            i = next;
            let mut bound = name.split('.').next().unwrap_or("").to_string();
            let mut aliased = false;
            if words.get(i).map(|w| w.1) == Some("as") {
                if let Some((Tok::Ident, a)) = words.get(i + 1) {
                    bound = a.to_string();
                    aliased = true;
                }
                i += 2;
            }
            if !name.is_empty() {
                out.push(LocalImport { module: Some(name), level: 0, name: None, bound, aliased });
            }
            i += 1; // the comma
        }
    } else {
        let mut i = 1;
        let mut level = 0;
        while let Some((k, w)) = words.get(i) {
            match (k, *w) {
                (Tok::Dot, _) => level += 1,
                (Tok::Op, "...") => level += 3,
                _ => break,
            }
            i += 1;
        }
        let (module, next) = dotted(i);
        i = next;
        if words.get(i).map(|w| w.1) != Some("import") {
            return;
        }
        i += 1;
        while i < words.len() {
            if let (Tok::Ident, name) = words[i] {
                let mut bound = name.to_string();
                if words.get(i + 1).map(|w| w.1) == Some("as") {
                    if let Some((Tok::Ident, a)) = words.get(i + 2) {
                        bound = a.to_string();
                    }
                    i += 2;
                }
                out.push(LocalImport {
                    module: if module.is_empty() { None } else { Some(module.clone()) },
                    level,
                    name: Some(name.to_string()),
                    bound,
                    aliased: true,
                });
            }
            i += 1;
        }
    }
}

#[cfg(test)]
mod tests;
