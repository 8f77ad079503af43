//! Markup built as text, with every attribute value and text node escaped on the way in:
//! nothing from a recording reaches the page unescaped.

/// A growing document.
#[derive(Debug, Default)]
pub(super) struct Markup {
    out: String,
}

impl Markup {
    /// `<tag attrs…>`.
    pub(super) fn open(&mut self, tag: &str, attrs: &[(&str, &str)]) -> &mut Self {
        self.start_tag(tag, attrs);
        self.out.push('>');
        self
    }

    /// `</tag>`.
    pub(super) fn close(&mut self, tag: &str) -> &mut Self {
        self.out.push_str("</");
        self.out.push_str(tag);
        self.out.push_str(">\n");
        self
    }

    /// `<tag attrs…/>`: an SVG element without content.
    pub(super) fn empty(&mut self, tag: &str, attrs: &[(&str, &str)]) -> &mut Self {
        self.start_tag(tag, attrs);
        self.out.push_str("/>\n");
        self
    }

    /// `<tag attrs…>text</tag>`.
    pub(super) fn element(&mut self, tag: &str, attrs: &[(&str, &str)], text: &str) -> &mut Self {
        self.open(tag, attrs);
        self.text(text);
        self.close(tag)
    }

    /// Text content, escaped.
    pub(super) fn text(&mut self, text: &str) -> &mut Self {
        escape_into(&mut self.out, text);
        self
    }

    /// Markup this module did not build: constant text of the renderer's own (a style
    /// sheet, a doctype), never anything from a recording.
    pub(super) fn raw(&mut self, markup: &'static str) -> &mut Self {
        self.out.push_str(markup);
        self
    }

    /// Another document's markup, already escaped as it was built.
    pub(super) fn append(&mut self, other: Markup) -> &mut Self {
        self.out.push_str(&other.out);
        self
    }

    /// The document.
    pub(super) fn finish(self) -> String {
        self.out
    }

    fn start_tag(&mut self, tag: &str, attrs: &[(&str, &str)]) {
        self.out.push('<');
        self.out.push_str(tag);
        for (name, value) in attrs {
            self.out.push(' ');
            self.out.push_str(name);
            self.out.push_str("=\"");
            escape_into(&mut self.out, value);
            self.out.push('"');
        }
    }
}

/// Escapes the five characters that could end a text node or a quoted attribute (HTML
/// Living Standard, "Serializing HTML fragments"; XML 1.0 §2.4 for the SVG on its own).
fn escape_into(out: &mut String, text: &str) {
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_and_attributes_are_escaped() {
        let mut m = Markup::default();
        m.element("text", &[("data-x", "a\"b'<c>&")], "</text><script>&amp;");
        assert_eq!(
            m.finish(),
            "<text data-x=\"a&quot;b&#39;&lt;c&gt;&amp;\">&lt;/text&gt;&lt;script&gt;&amp;amp;</text>\n"
        );
    }
}
