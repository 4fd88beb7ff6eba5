//! Owned messages for building and re-encoding. Values are held unescaped
//! and escaped when written, so any text (delimiters, CR, LF included) can be
//! placed in any field.

use crate::escape::{escape, Delimiters};

use super::HEADER_SEGMENTS;

/// An owned field value: repetitions → components → sub-components.
///
/// Every level holds at least one element; `FieldBuf::default()` is the empty
/// field (one repetition, one component, one empty sub-component).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FieldBuf {
    reps: Vec<Vec<Vec<String>>>,
}

impl Default for FieldBuf {
    fn default() -> Self {
        FieldBuf::text("")
    }
}

impl FieldBuf {
    /// A primitive value.
    pub fn text(value: impl Into<String>) -> Self {
        FieldBuf {
            reps: vec![vec![vec![value.into()]]],
        }
    }

    /// A composite value (one repetition); trailing empty components are dropped.
    pub fn components<S: AsRef<str>>(components: &[S]) -> Self {
        let mut comps: Vec<Vec<String>> = components
            .iter()
            .map(|c| vec![c.as_ref().to_string()])
            .collect();
        while comps.len() > 1
            && comps
                .last()
                .is_some_and(|c| c.len() == 1 && c[0].is_empty())
        {
            comps.pop();
        }
        if comps.is_empty() {
            return FieldBuf::default();
        }
        FieldBuf { reps: vec![comps] }
    }

    /// Several repetitions of composite values.
    pub fn repetitions(reps: impl IntoIterator<Item = FieldBuf>) -> Self {
        let reps: Vec<_> = reps.into_iter().flat_map(|f| f.reps).collect();
        if reps.is_empty() {
            FieldBuf::default()
        } else {
            FieldBuf { reps }
        }
    }

    /// Builds from the full tree; empty levels are filled so that the
    /// invariant (at least one element per level) holds.
    pub fn from_tree(mut reps: Vec<Vec<Vec<String>>>) -> Self {
        if reps.is_empty() {
            reps.push(Vec::new());
        }
        for r in &mut reps {
            if r.is_empty() {
                r.push(Vec::new());
            }
            for c in r.iter_mut() {
                if c.is_empty() {
                    c.push(String::new());
                }
            }
        }
        FieldBuf { reps }
    }

    pub fn tree(&self) -> &[Vec<Vec<String>>] {
        &self.reps
    }

    pub fn is_empty(&self) -> bool {
        self.reps.len() == 1
            && self.reps[0].len() == 1
            && self.reps[0][0].len() == 1
            && self.reps[0][0][0].is_empty()
    }

    /// The first sub-component of the first component of the first repetition.
    pub fn first_text(&self) -> &str {
        &self.reps[0][0][0]
    }

    fn write(&self, d: &Delimiters, out: &mut String) {
        for (ri, rep) in self.reps.iter().enumerate() {
            if ri > 0 {
                out.push(d.repetition);
            }
            for (ci, comp) in rep.iter().enumerate() {
                if ci > 0 {
                    out.push(d.component);
                }
                for (si, sub) in comp.iter().enumerate() {
                    if si > 0 {
                        out.push(d.subcomponent);
                    }
                    out.push_str(&escape(sub, d));
                }
            }
        }
    }
}

/// An owned segment: an ID and fields 1..n.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SegmentBuf {
    id: String,
    fields: Vec<FieldBuf>,
}

impl SegmentBuf {
    pub fn new(id: &str) -> Self {
        SegmentBuf {
            id: id.to_string(),
            fields: Vec::new(),
        }
    }

    pub fn id(&self) -> &str {
        &self.id
    }

    /// Field `n` (1-based), if set.
    pub fn field(&self, n: usize) -> Option<&FieldBuf> {
        n.checked_sub(1).and_then(|i| self.fields.get(i))
    }

    pub fn field_count(&self) -> usize {
        self.fields.len()
    }

    /// Sets field `n` (1-based; 0 is ignored), padding with empty fields.
    pub fn set_field(&mut self, n: usize, value: FieldBuf) -> &mut Self {
        if n == 0 {
            return self;
        }
        if self.fields.len() < n {
            self.fields.resize(n, FieldBuf::default());
        }
        self.fields[n - 1] = value;
        self
    }

    /// Sets field `n` to a primitive value; an empty value leaves the field
    /// unset (so that optional fields do not pad the segment).
    pub fn set(&mut self, n: usize, value: &str) -> &mut Self {
        if !value.is_empty() {
            self.set_field(n, FieldBuf::text(value));
        }
        self
    }

    /// Sets field `n` to a composite; all-empty components leave it unset.
    pub fn set_components<S: AsRef<str>>(&mut self, n: usize, components: &[S]) -> &mut Self {
        let f = FieldBuf::components(components);
        if !f.is_empty() {
            self.set_field(n, f);
        }
        self
    }

    /// Builder form of [`set`](Self::set).
    pub fn with(mut self, n: usize, value: &str) -> Self {
        self.set(n, value);
        self
    }

    /// Builder form of [`set_components`](Self::set_components).
    pub fn with_components<S: AsRef<str>>(mut self, n: usize, components: &[S]) -> Self {
        self.set_components(n, components);
        self
    }

    /// Builder form of [`set_field`](Self::set_field).
    pub fn with_field(mut self, n: usize, value: FieldBuf) -> Self {
        self.set_field(n, value);
        self
    }

    fn write(&self, d: &Delimiters, out: &mut String) {
        out.push_str(&self.id);
        if HEADER_SEGMENTS.contains(&self.id.as_str()) {
            // MSH-1 and MSH-2 are the delimiters themselves, never escaped.
            out.push(d.field);
            out.push_str(&d.encoding_characters());
            for f in self.fields.iter().skip(2) {
                out.push(d.field);
                f.write(d, out);
            }
        } else {
            for f in &self.fields {
                out.push(d.field);
                f.write(d, out);
            }
        }
    }
}

/// An owned message: delimiters and segments (the first should be MSH).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MessageBuf {
    delimiters: Delimiters,
    segments: Vec<SegmentBuf>,
}

impl MessageBuf {
    /// A message with an MSH segment holding only MSH-1 and MSH-2.
    pub fn new(delimiters: Delimiters) -> Self {
        MessageBuf {
            delimiters,
            segments: vec![Self::header("MSH", delimiters)],
        }
    }

    /// An MSH/FHS/BHS segment with fields 1 and 2 set from `d`.
    pub fn header(id: &str, d: Delimiters) -> SegmentBuf {
        let mut s = SegmentBuf::new(id);
        s.set_field(1, FieldBuf::text(d.field.to_string()));
        s.set_field(2, FieldBuf::text(d.encoding_characters()));
        s
    }

    pub(crate) fn from_segments(delimiters: Delimiters, segments: Vec<SegmentBuf>) -> Self {
        MessageBuf {
            delimiters,
            segments,
        }
    }

    pub fn delimiters(&self) -> Delimiters {
        self.delimiters
    }

    pub fn segments(&self) -> &[SegmentBuf] {
        &self.segments
    }

    pub fn segments_mut(&mut self) -> &mut Vec<SegmentBuf> {
        &mut self.segments
    }

    pub fn push(&mut self, segment: SegmentBuf) -> &mut Self {
        self.segments.push(segment);
        self
    }

    /// ER7 with every segment terminated by CR (HL7 v2.5.1 §2.6.1).
    pub fn to_er7(&self) -> String {
        let mut out = String::new();
        for s in &self.segments {
            s.write(&self.delimiters, &mut out);
            out.push('\r');
        }
        out
    }

    /// Segments on separate lines, for people to read (CLI output, snapshots).
    pub fn to_lines(&self) -> String {
        self.to_er7().replace('\r', "\n")
    }
}
