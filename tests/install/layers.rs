//! Layers call downward only, and no module reaches back to a sibling that
//! uses it (issue 13). The source is read as text: every `crate::`, `super::`
//! and `self::` path (in `use` or in code, `{...}` groups expanded) is an edge
//! from the module it appears in to the module it names, taken at the level
//! where the two part (`card::cps::pin` → `card::cps::select::x` is
//! `pin → select` inside `card::cps`). Files are modules; comments, strings
//! and characters are skipped.

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
    std::fs::write(dir.join("lib.rs"), "mod a; mod b; // crate::b::x\n").unwrap();
    std::fs::write(
        dir.join("a/mod.rs"),
        "use crate::{b::{self, Y}, a};\nconst S: &str = \"super::c\";",
    )
    .unwrap();
    std::fs::write(
        dir.join("b.rs"),
        "fn f() { super::a::g() }\nmod tests { use super::*; }",
    )
    .unwrap();
    let g = graph(&dir);
    std::fs::remove_dir_all(&dir).unwrap();
    assert_eq!(cycles(&g), ["<crate>: a → b → a"]);
}

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// For each parent module, its children's edges to their siblings.
type Graph = BTreeMap<Module, BTreeMap<String, BTreeSet<String>>>;

/// The sibling edges of the crate whose root is in `dir` (lib.rs or main.rs);
/// `bin/` is other crates.
fn graph(dir: &Path) -> Graph {
    let mut files = Vec::new();
    collect(dir, &mut files);
    let modules: BTreeSet<Module> = files.iter().map(|f| module_of(dir, f)).collect();
    let mut graph = Graph::new();
    for file in &files {
        let text = std::fs::read_to_string(file).unwrap();
        for (from, path) in references(&module_of(dir, file), &lex(&text)) {
            let d = from.iter().zip(&path).take_while(|(a, b)| a == b).count();
            if d == from.len() || d == path.len() || !modules.contains(&path[..=d].to_vec()) {
                continue; // itself, a descendant, an ancestor or an item of the parent
            }
            let siblings = graph.entry(path[..d].to_vec()).or_default();
            siblings
                .entry(from[d].clone())
                .or_default()
                .insert(path[d].clone());
        }
    }
    graph
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

/// Identifiers and punctuation, without comments, strings and characters.
fn lex(text: &str) -> Vec<String> {
    let c: Vec<char> = text.chars().collect();
    let (mut out, mut i) = (Vec::new(), 0);
    let at = |i: usize| c.get(i).copied().unwrap_or('\0');
    while i < c.len() {
        match (c[i], at(i + 1)) {
            ('/', '/') => i = (i..c.len()).find(|&j| c[j] == '\n').unwrap_or(c.len()),
            ('/', '*') => {
                i = (i + 2..c.len())
                    .find(|&j| c[j - 1] == '*' && c[j] == '/')
                    .unwrap_or(c.len())
                    + 1
            }
            ('r' | 'b', '"' | '#' | 'r')
                if !ident_char(at(i.wrapping_sub(1))) && raw_or_byte(&c, i).is_some() =>
            {
                i = raw_or_byte(&c, i).unwrap();
            }
            ('"', _) => i = string_end(&c, i + 1),
            ('\'', '\\') => i = (i + 2..c.len()).find(|&j| c[j] == '\'').unwrap_or(c.len()) + 1,
            ('\'', _) if at(i + 2) == '\'' => i += 3,
            (':', ':') => {
                out.push("::".into());
                i += 2;
            }
            (ch, _) if ident_char(ch) => {
                let end = (i..c.len()).find(|&j| !ident_char(c[j])).unwrap_or(c.len());
                out.push(c[i..end].iter().collect());
                i = end;
            }
            (ch, _) => {
                if !ch.is_whitespace() {
                    out.push(ch.to_string());
                }
                i += 1;
            }
        }
    }
    out
}

fn ident_char(c: char) -> bool {
    c.is_alphanumeric() || c == '_'
}

/// The end of a string starting after its opening quote.
fn string_end(c: &[char], mut i: usize) -> usize {
    while i < c.len() && c[i] != '"' {
        i += if c[i] == '\\' { 2 } else { 1 };
    }
    i + 1
}

/// Where a raw or byte string starting at `i` (`r"`, `r#"`, `br"`, `b"`) ends.
fn raw_or_byte(c: &[char], i: usize) -> Option<usize> {
    let mut j = i + 1;
    if c[i] == 'b' && c.get(j) == Some(&'r') {
        j += 1;
    } else if c[i] == 'b' {
        return (c.get(j) == Some(&'"')).then(|| string_end(c, j + 1));
    }
    let hashes = c[j..].iter().take_while(|&&h| h == '#').count();
    j += hashes;
    if c.get(j) != Some(&'"') {
        return None;
    }
    let closes =
        |k: usize| c[k] == '"' && c[k + 1..].iter().take(hashes).filter(|&&h| h == '#').count() == hashes;
    Some(
        (j + 1..c.len())
            .find(|&k| closes(k))
            .map_or(c.len(), |k| k + 1 + hashes),
    )
}

/// (module it appears in, absolute path) of every `crate::`/`super::`/`self::` path.
fn references(file: &Module, t: &[String]) -> Vec<(Module, Module)> {
    let (mut out, mut inline, mut depth, mut i) = (Vec::new(), Vec::<(String, usize)>::new(), 0, 0);
    while i < t.len() {
        let here: Module = file
            .iter()
            .cloned()
            .chain(inline.iter().map(|(m, _)| m.clone()))
            .collect();
        match t[i].as_str() {
            "mod" if t.get(i + 2).is_some_and(|b| b == "{") => {
                inline.push((t[i + 1].clone(), depth + 1));
                i += 2;
                continue;
            }
            "{" => depth += 1,
            "}" => {
                depth = depth.saturating_sub(1);
                inline.retain(|(_, d)| *d <= depth);
            }
            "crate" | "super" | "self" if t.get(i + 1).is_some_and(|c| c == "::") => {
                let mut paths = Vec::new();
                i = tree(t, i, Vec::new(), &mut paths);
                for p in paths {
                    if let Some(abs) = absolute(&here, &p) {
                        out.push((here.clone(), abs));
                    }
                }
                continue;
            }
            _ => {}
        }
        i += 1;
    }
    out
}

/// Reads a path tree (`a::b::{c, d::{e}}`) from `i`; returns where it ends.
fn tree(t: &[String], mut i: usize, mut prefix: Vec<String>, out: &mut Vec<Vec<String>>) -> usize {
    loop {
        match t.get(i).map(String::as_str) {
            Some("{") => {
                i += 1;
                while t.get(i).is_some_and(|s| s != "}") {
                    let next = tree(t, i, prefix.clone(), out);
                    i = next.max(i + 1);
                    if t.get(i).is_some_and(|s| s == ",") {
                        i += 1;
                    }
                }
                return i + 1;
            }
            Some("self") if !prefix.is_empty() => i += 1,
            Some(s) if s.starts_with(|c: char| ident_char(c)) => {
                prefix.push(s.to_string());
                i += 1;
            }
            _ => break,
        }
        if t.get(i).is_some_and(|s| s == "::") {
            i += 1;
        } else {
            break;
        }
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
