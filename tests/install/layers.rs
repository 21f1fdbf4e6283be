//! Layers call downward only, and no module reaches back to a sibling that
//! uses it (issue 13). The source is read as text: every `crate::`, `super::`
//! and `self::` path (in `use` or in code, `{...}` groups expanded) is an edge
//! from the module it appears in to the module it names, taken at the level
//! where the two part (`card::cps::pin` → `card::cps::select::x` is
//! `pin → select` inside `card::cps`). Files are modules; the text is
//! tokenised, so comments and strings never count.

use crate::common::root;
use proc_macro2::{Delimiter, Spacing, TokenStream, TokenTree};
use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

/// The library's top-level modules each may use (besides itself); a module
/// missing from the table may use anything. The layers: api → service →
/// card → apdu; `transport` implements `apdu::Exchange` (the link the card
/// code needs) and uses nothing above it; `dmp` is pure code over card data.
const MAY_USE: &[(&str, &[&str])] = &[
    ("api", &["service", "card", "dmp", "config"]),
    ("service", &["card", "dmp", "apdu", "transport", "config"]),
    ("dmp", &["card"]),
    ("card", &["apdu"]),
    ("apdu", &[]),
    ("transport", &["apdu", "config"]),
    ("config", &[]),
];

type Module = Vec<String>;

#[test]
fn layers_call_downward_only() {
    let graph = graph(&root().join("src"));
    let mut wrong = Vec::new();
    for (from, tos) in graph.get(&Vec::new()).into_iter().flatten() {
        let Some((_, allowed)) = MAY_USE.iter().find(|(m, _)| m == from) else {
            continue;
        };
        for to in tos.iter().filter(|to| !allowed.contains(&to.as_str())) {
            wrong.push(format!("{from} uses {to}"));
        }
    }
    assert!(wrong.is_empty(), "against the layers: {wrong:#?}");
}

#[test]
fn sibling_modules_have_no_cycle() {
    let src = root().join("src");
    let mut crates = vec![graph(&src)];
    for entry in std::fs::read_dir(src.join("bin")).unwrap() {
        let dir = entry.unwrap().path();
        if dir.is_dir() {
            crates.push(graph(&dir));
        }
    }
    let cycles: Vec<String> = crates.iter().flat_map(cycles).collect();
    assert!(cycles.is_empty(), "modules that use each other: {cycles:#?}");
}

#[test]
fn the_reader_finds_a_cycle() {
    let dir = std::env::temp_dir().join(format!("lecteur-layers-{}", std::process::id()));
    std::fs::create_dir_all(dir.join("a")).unwrap();
    let files = [
        ("lib.rs", "mod a; mod b; mod c; pub use b::{self as bee, Y};"),
        (
            "a/mod.rs",
            "use crate::{Y, a}; // crate::c::x\nconst S: &str = \"super::c\";",
        ),
        (
            "b.rs",
            "fn f() { matches!(x, super::a::G) }\nmod tests { use super::*; }",
        ),
        ("c.rs", ""),
    ];
    for (name, text) in files {
        std::fs::write(dir.join(name), text).unwrap();
    }
    let g = graph(&dir);
    std::fs::remove_dir_all(&dir).unwrap();
    let edges = |to: &str| BTreeSet::from([to.to_string()]);
    assert_eq!(
        g[&vec![]],
        BTreeMap::from([("a".into(), edges("b")), ("b".into(), edges("a"))])
    );
    assert_eq!(cycles(&g), ["<crate>: a → b → a"]);
}

/// For each parent module, its children's edges to their siblings.
type Graph = BTreeMap<Module, BTreeMap<String, BTreeSet<String>>>;

/// The sibling edges of the crate whose root is in `dir` (lib.rs or main.rs);
/// `bin/` is other crates. A name a module imports from its child stands for
/// the child's item (`super::RawObject` re-exported by `cps/mod.rs` is
/// `objects::RawObject`).
fn graph(dir: &Path) -> Graph {
    let mut files = Vec::new();
    collect(dir, &mut files);
    let modules: BTreeSet<Module> = files.iter().map(|f| module_of(dir, f)).collect();
    let (mut refs, mut uses) = (Vec::new(), Vec::new());
    for file in &files {
        let tokens: TokenStream = std::fs::read_to_string(file).unwrap().parse().unwrap();
        references(&module_of(dir, file), tokens, &mut refs, &mut uses);
    }
    let aliases: BTreeMap<Module, Module> = uses
        .into_iter()
        .filter(|(m, p)| !p.is_empty() && modules.contains(&[&m[..], &p[..1]].concat()))
        .map(|(m, p)| ([&m[..], &p[p.len() - 1..]].concat(), [m, p].concat()))
        .filter(|(alias, _)| !modules.contains(alias))
        .collect();
    let mut graph = Graph::new();
    for (from, path) in refs {
        let path = unalias(&aliases, path);
        let d = from.iter().zip(&path).take_while(|(a, b)| a == b).count();
        if d == from.len() || d == path.len() || !modules.contains(&path[..=d]) {
            continue; // itself, a descendant, an ancestor or an item of the parent
        }
        let siblings = graph.entry(path[..d].to_vec()).or_default();
        siblings
            .entry(from[d].clone())
            .or_default()
            .insert(path[d].clone());
    }
    graph
}

/// `path` with its re-exported prefix replaced by where it comes from.
fn unalias(aliases: &BTreeMap<Module, Module>, mut path: Module) -> Module {
    for _ in 0..8 {
        let Some((k, to)) = (1..=path.len())
            .rev()
            .find_map(|k| Some((k, aliases.get(&path[..k])?)))
        else {
            break;
        };
        path = [&to[..], &path[k..]].concat();
    }
    path
}

fn collect(dir: &Path, files: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() && !path.ends_with("bin") {
            collect(&path, files);
        } else if path.extension().is_some_and(|e| e == "rs") {
            files.push(path);
        }
    }
}

fn module_of(dir: &Path, file: &Path) -> Module {
    let rel = file.strip_prefix(dir).unwrap().with_extension("");
    let mut m: Module = rel.iter().map(|s| s.to_string_lossy().into_owned()).collect();
    if matches!(m.last().map(String::as_str), Some("mod" | "lib" | "main")) {
        m.pop();
    }
    m
}

/// (module it appears in, absolute path) of every `crate::`/`super::`/`self::`
/// path in `tokens`, inline modules (`mod tests { ... }`) included, and
/// (module, relative path) of every `use` of a path relative to the module.
fn references(
    here: &Module,
    tokens: TokenStream,
    refs: &mut Vec<(Module, Module)>,
    uses: &mut Vec<(Module, Module)>,
) {
    let t: Vec<TokenTree> = tokens.into_iter().collect();
    let mut i = 0;
    while i < t.len() {
        let used = i > 0 && matches!(&t[i - 1], TokenTree::Ident(u) if u == "use");
        match (&t[i], t.get(i + 1), t.get(i + 2)) {
            (TokenTree::Ident(m), Some(TokenTree::Ident(name)), Some(TokenTree::Group(body)))
                if m == "mod" && body.delimiter() == Delimiter::Brace =>
            {
                let inner = [&here[..], &[name.to_string()]].concat();
                references(&inner, body.stream(), refs, uses);
                i += 3;
                continue;
            }
            (TokenTree::Ident(id), ..)
                if ["crate", "super", "self"].contains(&&*id.to_string()) && sep(&t, i + 1) =>
            {
                let mut paths = Vec::new();
                i = tree(&t, i, Vec::new(), &mut paths);
                for p in paths {
                    if used && p[0] == "self" {
                        uses.push((here.clone(), p[1..].to_vec()));
                    }
                    refs.extend(absolute(here, &p).map(|abs| (here.clone(), abs)));
                }
                continue;
            }
            (TokenTree::Ident(_), ..) if used => {
                let mut paths = Vec::new();
                i = tree(&t, i, Vec::new(), &mut paths);
                uses.extend(paths.into_iter().map(|p| (here.clone(), p)));
                continue;
            }
            (TokenTree::Group(g), ..) => references(here, g.stream(), refs, uses),
            _ => {}
        }
        i += 1;
    }
}

/// Whether `::` starts at `i`.
fn sep(t: &[TokenTree], i: usize) -> bool {
    matches!((t.get(i), t.get(i + 1)), (Some(TokenTree::Punct(a)), Some(TokenTree::Punct(b)))
        if a.as_char() == ':' && a.spacing() == Spacing::Joint && b.as_char() == ':')
}

/// Reads a path tree (`a::b::{self, c, d::{e}}`) from `i` into `out`;
/// returns where it ends.
fn tree(t: &[TokenTree], mut i: usize, mut prefix: Vec<String>, out: &mut Vec<Vec<String>>) -> usize {
    loop {
        match t.get(i) {
            Some(TokenTree::Group(g)) if g.delimiter() == Delimiter::Brace => {
                let inner: Vec<TokenTree> = g.stream().into_iter().collect();
                let mut j = 0;
                while j < inner.len() {
                    j = tree(&inner, j, prefix.clone(), out) + 1; // past the comma
                }
                return i + 1;
            }
            Some(TokenTree::Ident(id)) => {
                if id != "self" || prefix.is_empty() {
                    prefix.push(id.to_string());
                }
                i += 1;
            }
            _ => break,
        }
        if matches!(t.get(i), Some(TokenTree::Ident(a)) if a == "as") {
            i += 2; // the name it is given
            break;
        }
        if !sep(t, i) {
            break;
        }
        i += 2;
    }
    out.push(prefix);
    i
}

fn absolute(here: &Module, path: &[String]) -> Option<Module> {
    let mut abs = here.clone();
    let mut rest = path;
    match path.first().map(String::as_str) {
        Some("crate") => {
            abs.clear();
            rest = &path[1..];
        }
        Some("self") => rest = &path[1..],
        _ => {
            while rest.first().is_some_and(|s| s == "super") {
                abs.pop()?;
                rest = &rest[1..];
            }
        }
    }
    abs.extend(rest.iter().cloned());
    Some(abs)
}

/// Every cycle among siblings, as `parent: a → b → a`.
fn cycles(graph: &Graph) -> Vec<String> {
    let mut found = Vec::new();
    for (parent, edges) in graph {
        let mut done = BTreeSet::new();
        for start in edges.keys() {
            let mut stack = Vec::new();
            walk(edges, start, &mut stack, &mut done, &mut |cycle| {
                let name = if parent.is_empty() {
                    "<crate>".into()
                } else {
                    parent.join("::")
                };
                found.push(format!("{name}: {}", cycle.join(" → ")));
            });
        }
    }
    found
}

fn walk<'a>(
    edges: &'a BTreeMap<String, BTreeSet<String>>,
    node: &'a String,
    stack: &mut Vec<&'a String>,
    done: &mut BTreeSet<&'a String>,
    report: &mut dyn FnMut(Vec<&str>),
) {
    if let Some(at) = stack.iter().position(|n| *n == node) {
        let cycle = stack[at..].iter().chain([&node]).map(|s| s.as_str()).collect();
        return report(cycle);
    }
    if !done.insert(node) {
        return;
    }
    stack.push(node);
    for next in edges.get(node).into_iter().flatten() {
        walk(edges, next, stack, done, report);
    }
    stack.pop();
}
