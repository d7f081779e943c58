//! A flat, read-only XML element tree: just enough XML to read the few text
//! fields of an AWS query-protocol answer, in time linear in the input.
//!
//! Built on quick-xml's tokenizer. Names are local names (a prefix and any
//! namespace are ignored: AWS answers declare one default namespace, and
//! nothing here depends on it). A document type declaration is refused, and
//! with it every entity but XML's five predefined ones and character
//! references: no DTD, no expansion, no external anything. The document must
//! be well formed in structure: one root element, matching end tags, no
//! text outside the root.

use quick_xml::Reader;
use quick_xml::events::{BytesRef, Event};

/// An element: its local name, its parent and its own text (the text and
/// CDATA directly inside it, references resolved).
struct Element {
    name: String,
    parent: usize,
    text: String,
}

/// A parsed document, elements in document order (the root first).
pub struct Document {
    elements: Vec<Element>,
}

/// An element of a [`Document`].
#[derive(Clone, Copy)]
pub struct Node<'a> {
    doc: &'a Document,
    index: usize,
}

/// Why a document was refused; the caller words the error (never quoting
/// the document).
#[derive(Debug, PartialEq, Eq)]
pub enum XmlError {
    Malformed,
    Dtd,
}

/// No parent: the root's.
const NONE: usize = usize::MAX;

impl Document {
    /// Parses `text`. Linear in its length.
    pub fn parse(text: &str) -> Result<Self, XmlError> {
        let mut reader = Reader::from_str(text);
        let mut elements: Vec<Element> = Vec::new();
        // Open elements, innermost last.
        let mut open: Vec<usize> = Vec::new();
        let mut root_done = false;
        loop {
            let event = reader.read_event().map_err(|_| XmlError::Malformed)?;
            match event {
                Event::Start(ref start) | Event::Empty(ref start) => {
                    if root_done {
                        return Err(XmlError::Malformed);
                    }
                    // Checks the attributes' syntax, not their names'
                    // uniqueness (a quadratic check for no gain here).
                    for attribute in start.attributes().with_checks(false) {
                        attribute.map_err(|_| XmlError::Malformed)?;
                    }
                    let parent = open.last().copied().unwrap_or(NONE);
                    elements.push(Element {
                        name: start.local_name().as_ref().to_owned(),
                        parent,
                        text: String::new(),
                    });
                    if matches!(event, Event::Start(_)) {
                        open.push(elements.len() - 1);
                    } else if open.is_empty() {
                        root_done = true;
                    }
                }
                Event::End(_) => {
                    // quick-xml checks that the name matches the start tag.
                    open.pop().ok_or(XmlError::Malformed)?;
                    root_done = open.is_empty();
                }
                Event::Text(t) => push_text(&mut elements, &open, &t.xml10_content())?,
                Event::CData(t) => push_text(&mut elements, &open, &t.xml10_content())?,
                Event::GeneralRef(r) => push_text(&mut elements, &open, &resolve(&r)?)?,
                Event::DocType(_) => return Err(XmlError::Dtd),
                Event::Decl(_) | Event::PI(_) | Event::Comment(_) => {}
                Event::Eof => break,
            }
        }
        if !open.is_empty() || !root_done {
            return Err(XmlError::Malformed);
        }
        Ok(Document { elements })
    }

    /// The root element.
    pub fn root(&self) -> Node<'_> {
        Node { doc: self, index: 0 }
    }
}

/// Text goes to the innermost open element; outside the root only
/// whitespace is allowed.
fn push_text(elements: &mut [Element], open: &[usize], text: &str) -> Result<(), XmlError> {
    match open.last() {
        Some(&i) => {
            elements[i].text.push_str(text);
            Ok(())
        }
        None if text.bytes().all(|b| matches!(b, b' ' | b'\t' | b'\r' | b'\n')) => Ok(()),
        None => Err(XmlError::Malformed),
    }
}

/// A character reference or one of the five predefined entities.
fn resolve(reference: &BytesRef<'_>) -> Result<String, XmlError> {
    if reference.is_char_ref() {
        let c = reference.resolve_char_ref().map_err(|_| XmlError::Malformed)?.ok_or(XmlError::Malformed)?;
        return Ok(c.to_string());
    }
    let c = match &**reference {
        "lt" => '<',
        "gt" => '>',
        "amp" => '&',
        "apos" => '\'',
        "quot" => '"',
        // Any other entity needs a DTD to declare it, and DTDs are refused.
        _ => return Err(XmlError::Malformed),
    };
    Ok(c.to_string())
}

impl<'a> Node<'a> {
    /// The local name.
    pub fn name(&self) -> &'a str {
        &self.doc.elements[self.index].name
    }

    /// The text directly inside the element.
    pub fn text(&self) -> &'a str {
        &self.doc.elements[self.index].text
    }

    /// The child elements, in order.
    pub fn children(&self) -> impl Iterator<Item = Node<'a>> + 'a {
        let (doc, index) = (self.doc, self.index);
        self.descendants().filter(move |n| doc.elements[n.index].parent == index)
    }

    /// Every element below this one, in document order.
    pub fn descendants(&self) -> impl Iterator<Item = Node<'a>> + 'a {
        let doc = self.doc;
        let index = self.index;
        // Elements are in document order, so a subtree is contiguous: it
        // ends at the first later element whose ancestors skip this one.
        (index + 1..doc.elements.len())
            .take_while(move |&i| doc.is_below(i, index))
            .map(move |i| Node { doc, index: i })
    }
}

impl Document {
    /// Whether element `i`, in a run of elements following `ancestor` in
    /// document order, is still in its subtree: its parent is `ancestor` or
    /// a later element. The first element after the subtree has an earlier
    /// parent (an ancestor of `ancestor`), so one comparison decides.
    fn is_below(&self, i: usize, ancestor: usize) -> bool {
        let parent = self.elements[i].parent;
        parent != NONE && parent >= ancestor
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_names_text_and_children() {
        let doc = Document::parse(
            "<?xml version=\"1.0\"?>\n<r xmlns=\"urn:x\"><a>1 &amp; &#x32;</a><p:b xmlns:p=\"u\" k='v'><c><![CDATA[<x>]]></c></p:b><a/></r>\n",
        )
        .unwrap();
        let root = doc.root();
        assert_eq!(root.name(), "r");
        let names: Vec<_> = root.children().map(|n| n.name()).collect();
        assert_eq!(names, ["a", "b", "a"]);
        assert_eq!(root.children().next().unwrap().text(), "1 & 2");
        let all: Vec<_> = root.descendants().map(|n| (n.name(), n.text())).collect();
        assert_eq!(all, [("a", "1 & 2"), ("b", ""), ("c", "<x>"), ("a", "")]);
        let b = root.children().nth(1).unwrap();
        assert_eq!(b.descendants().map(|n| n.name()).collect::<Vec<_>>(), ["c"]);
    }

    #[test]
    fn refuses_what_is_not_one_well_formed_element() {
        for bad in [
            "",
            "text",
            "<a>",
            "<a></b>",
            "</a>",
            "<a/><b/>",
            "<a/>text",
            "x<a/>",
            "<a b></a>",
            "<a>&unknown;</a>",
            "<a>&#xD800;</a>",
            "<a>&amp</a>",
        ] {
            assert!(Document::parse(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn refuses_dtds() {
        for bad in ["<!DOCTYPE r [<!ENTITY x \"y\">]><r>&x;</r>", "<!DOCTYPE r SYSTEM \"http://169.254.169.254/\"><r/>"]
        {
            assert_eq!(Document::parse(bad).err(), Some(XmlError::Dtd), "{bad:?}");
        }
    }
}
