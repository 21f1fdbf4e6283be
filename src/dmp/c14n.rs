//! Exclusive XML canonicalisation without comments
//! (`http://www.w3.org/2001/10/xml-exc-c14n#`) of an element and its
//! descendants, optionally leaving one descendant out (the enveloped-signature
//! transform) and with an InclusiveNamespaces prefix list.
//!
//! The tree comes from `roxmltree`, which has already applied the XML rules
//! (entities, line ends, attribute-value normalisation); prefixes are read
//! back from the source text since c14n keeps them as written.

use super::DmpError;
use roxmltree::{Node, NodeId, NodeType};
use std::collections::{BTreeMap, BTreeSet};

pub(crate) const EXC_C14N: &str = "http://www.w3.org/2001/10/xml-exc-c14n#";
const XML_NS: &str = "http://www.w3.org/XML/1998/namespace";
/// Deeper than any assertion; keeps the recursion bounded on hostile input.
const MAX_DEPTH: usize = 128;

/// Text content as c14n writes it (and as the builder writes it, so that its
/// output survives a parse and a canonicalisation unchanged).
pub(crate) fn escape_text(s: &str, out: &mut String) {
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '\r' => out.push_str("&#xD;"),
            c => out.push(c),
        }
    }
}

/// An attribute value as c14n writes it (between double quotes).
pub(crate) fn escape_attr(s: &str, out: &mut String) {
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '"' => out.push_str("&quot;"),
            '\t' => out.push_str("&#x9;"),
            '\n' => out.push_str("&#xA;"),
            '\r' => out.push_str("&#xD;"),
            c => out.push(c),
        }
    }
}

/// The canonical form of `apex` and its descendants, without `exclude` and
/// its descendants. `inclusive` is the InclusiveNamespaces PrefixList
/// (`#default` for the default namespace).
pub(crate) fn canonicalize(
    apex: Node<'_, '_>,
    exclude: Option<NodeId>,
    inclusive: &[String],
) -> Result<String, DmpError> {
    if !apex.is_element() {
        return Err(DmpError::Structure("canonicalisation of a non-element".into()));
    }
    let inclusive: Vec<&str> = inclusive
        .iter()
        .map(|p| if p == "#default" { "" } else { p.as_str() })
        .collect();
    let mut out = String::new();
    let c = Canon {
        exclude,
        inclusive: &inclusive,
    };
    c.element(apex, &BTreeMap::new(), &mut out, 0)?;
    Ok(out)
}

struct Canon<'a> {
    exclude: Option<NodeId>,
    inclusive: &'a [&'a str],
}

/// The qualified name of an element as written in the source.
fn element_qname<'i>(e: Node<'_, 'i>) -> Result<&'i str, DmpError> {
    let text = e.document().input_text();
    let rest = text
        .get(e.range().start..)
        .and_then(|s| s.strip_prefix('<'))
        .ok_or_else(|| DmpError::Xml("element position".into()))?;
    let end = rest
        .find(|c: char| c.is_whitespace() || c == '/' || c == '>')
        .unwrap_or(rest.len());
    Ok(&rest[..end])
}

fn prefix_of(qname: &str) -> &str {
    qname.split_once(':').map(|(p, _)| p).unwrap_or("")
}

impl Canon<'_> {
    fn element(
        &self,
        e: Node<'_, '_>,
        rendered: &BTreeMap<String, String>,
        out: &mut String,
        depth: usize,
    ) -> Result<(), DmpError> {
        if depth > MAX_DEPTH {
            return Err(DmpError::Xml(format!("nested deeper than {MAX_DEPTH}")));
        }
        let text = e.document().input_text();
        let qname = element_qname(e)?;
        let mut attrs = Vec::new();
        // Prefixes visibly utilised by the element and its attributes, plus
        // the inclusive ones; "" is the default namespace.
        let mut used: BTreeSet<&str> = BTreeSet::from([prefix_of(qname)]);
        for a in e.attributes() {
            let aq = text
                .get(a.range_qname())
                .ok_or_else(|| DmpError::Xml("attribute position".into()))?;
            let p = prefix_of(aq);
            if !p.is_empty() && p != "xml" {
                used.insert(p);
            }
            attrs.push((a.namespace().unwrap_or(""), a.name(), aq, a.value()));
        }
        used.extend(self.inclusive.iter().copied());

        let mut rendered = rendered.clone();
        out.push('<');
        out.push_str(qname);
        for p in used {
            let uri = if p.is_empty() {
                e.default_namespace().unwrap_or("")
            } else {
                match e.lookup_namespace_uri(Some(p)) {
                    Some(uri) => uri,
                    // An inclusive prefix not in scope here.
                    None => continue,
                }
            };
            if uri == XML_NS {
                continue;
            }
            let before = rendered.get(p).map(String::as_str).unwrap_or("");
            // An unset default needs no `xmlns=""` unless an output ancestor set one.
            if before == uri && (p.is_empty() || rendered.contains_key(p)) {
                continue;
            }
            out.push_str(if p.is_empty() { " xmlns" } else { " xmlns:" });
            out.push_str(p);
            out.push_str("=\"");
            escape_attr(uri, out);
            out.push('"');
            rendered.insert(p.to_string(), uri.to_string());
        }
        attrs.sort_by(|a, b| (a.0, a.1).cmp(&(b.0, b.1)));
        for (_, _, aq, value) in attrs {
            out.push(' ');
            out.push_str(aq);
            out.push_str("=\"");
            escape_attr(value, out);
            out.push('"');
        }
        out.push('>');
        for child in e.children() {
            if Some(child.id()) == self.exclude {
                continue;
            }
            match child.node_type() {
                NodeType::Element => self.element(child, &rendered, out, depth + 1)?,
                NodeType::Text => escape_text(child.text().unwrap_or(""), out),
                NodeType::PI => {
                    if let Some(pi) = child.pi() {
                        out.push_str("<?");
                        out.push_str(pi.target);
                        if let Some(v) = pi.value.filter(|v| !v.is_empty()) {
                            out.push(' ');
                            out.push_str(v);
                        }
                        out.push_str("?>");
                    }
                }
                NodeType::Comment | NodeType::Root => {}
            }
        }
        out.push_str("</");
        out.push_str(qname);
        out.push('>');
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn c14n(xml: &str, inclusive: &[&str]) -> String {
        let doc = roxmltree::Document::parse(xml).unwrap();
        let inclusive: Vec<String> = inclusive.iter().map(|s| s.to_string()).collect();
        canonicalize(doc.root_element(), None, &inclusive).unwrap()
    }

    #[test]
    fn namespaces_are_rendered_where_visibly_used() {
        // The W3C exc-c14n spec's own example (§2.2): n1 is not used by n1:elem2's
        // parent, so it moves down; n2 is never used.
        let xml = r#"<n0:local xmlns:n0="foo:bar" xmlns:n3="ftp://example.org"><n1:elem2 xmlns:n1="http://example.net" xml:lang="en"><n3:stuff xmlns:n3="ftp://example.org"/></n1:elem2></n0:local>"#;
        let doc = roxmltree::Document::parse(xml).unwrap();
        let elem2 = doc
            .descendants()
            .find(|n| n.tag_name().name() == "elem2")
            .unwrap();
        assert_eq!(
            canonicalize(elem2, None, &[]).unwrap(),
            r#"<n1:elem2 xmlns:n1="http://example.net" xml:lang="en"><n3:stuff xmlns:n3="ftp://example.org"></n3:stuff></n1:elem2>"#
        );
        // With n3 inclusive, it is rendered on the apex instead.
        assert_eq!(
            canonicalize(elem2, None, &["n3".to_string()]).unwrap(),
            r#"<n1:elem2 xmlns:n1="http://example.net" xmlns:n3="ftp://example.org" xml:lang="en"><n3:stuff></n3:stuff></n1:elem2>"#
        );
    }

    #[test]
    fn attributes_sorted_text_escaped_comments_dropped() {
        let xml = "<a xmlns=\"urn:x\" xmlns:p=\"urn:p\" z=\"1\" p:b=\"&quot;&#9;\" b=\"2&lt;\"><!-- c --><b xmlns=\"\">x &amp; &gt; \r\n y<?pi  data?></b><p:c/></a>";
        assert_eq!(
            c14n(xml, &[]),
            "<a xmlns=\"urn:x\" xmlns:p=\"urn:p\" b=\"2&lt;\" z=\"1\" p:b=\"&quot;&#x9;\"><b xmlns=\"\">x &amp; &gt; \n y<?pi data?></b><p:c></p:c></a>"
        );
    }

    #[test]
    fn an_excluded_element_leaves_its_whitespace() {
        let xml = "<a><s><t/></s> <b/></a>";
        let doc = roxmltree::Document::parse(xml).unwrap();
        let s = doc.descendants().find(|n| n.has_tag_name("s")).unwrap();
        assert_eq!(
            canonicalize(doc.root_element(), Some(s.id()), &[]).unwrap(),
            "<a> <b></b></a>"
        );
    }

    #[test]
    fn depth_is_bounded() {
        let xml = format!("{}{}", "<a>".repeat(200), "</a>".repeat(200));
        let doc = roxmltree::Document::parse(&xml).unwrap();
        assert!(matches!(
            canonicalize(doc.root_element(), None, &[]),
            Err(DmpError::Xml(_))
        ));
    }
}
