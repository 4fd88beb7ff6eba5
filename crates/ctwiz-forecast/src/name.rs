//! [`Name`]: the shared, immutable text of a supporting-data name (antigen,
//! vaccine group, series, series group, vaccine type), and [`Shared`], a
//! shared read-only list, so that building a result copies no strings and
//! allocates little.

use std::borrow::Borrow;
use std::fmt;
use std::ops::Deref;
use std::sync::Arc;

/// A name from the supporting data, e.g. the antigen `"Measles"` or the
/// vaccine group `"DTaP/Tdap/Td"`.
///
/// The supporting data holds each name once; every result that mentions it
/// shares that text, so building a forecast copies no strings. A `Name` reads
/// like a `&str` (it derefs to one, compares with `str` and `String`, prints
/// and serializes as a plain string); turn it into a `String` with
/// [`ToString::to_string`] or `String::from`.
///
/// ```
/// use ctwiz_forecast::Name;
///
/// let name = Name::from("Measles");
/// assert_eq!(name, "Measles");
/// assert!(name.eq_ignore_ascii_case("MEASLES"));
/// assert_eq!(String::from(name.clone()), "Measles");
/// # #[cfg(feature = "serde")]
/// assert_eq!(serde_json::to_string(&name).unwrap(), r#""Measles""#);
/// ```
///
/// The names of supporting data are interned: kept once for the life of the
/// process (a release loaded again adds nothing), so copying one into a
/// result costs no reference count. A name made with `From` is counted like
/// an `Arc<str>`.
#[derive(Clone)]
pub struct Name(Repr);

#[derive(Clone)]
enum Repr {
    /// A supporting-data name, interned ([`Name::interned`]).
    Interned(&'static str),
    /// Any other text.
    Counted(Arc<str>),
}

impl Name {
    /// The text.
    pub fn as_str(&self) -> &str {
        match &self.0 {
            Repr::Interned(s) => s,
            Repr::Counted(s) => s,
        }
    }

    /// The name for `text` from the process-wide table of supporting-data
    /// names, adding it the first time. Only for the supporting data's own
    /// names (a bounded vocabulary): results copy them for free.
    pub(crate) fn interned(text: &str) -> Name {
        use std::collections::HashSet;
        use std::sync::{Mutex, OnceLock};
        static TABLE: OnceLock<Mutex<HashSet<&'static str>>> = OnceLock::new();
        let mut table = TABLE
            .get_or_init(Default::default)
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        if let Some(&s) = table.get(text) {
            return Name(Repr::Interned(s));
        }
        let s: &'static str = Box::leak(text.into());
        table.insert(s);
        Name(Repr::Interned(s))
    }
}

impl Default for Name {
    fn default() -> Self {
        Name(Repr::Interned(""))
    }
}

impl PartialEq for Name {
    fn eq(&self, other: &Name) -> bool {
        let (a, b) = (self.as_str(), other.as_str());
        // One interned text is one pointer: equal names usually compare
        // without reading their bytes.
        a.len() == b.len() && (std::ptr::eq(a.as_ptr(), b.as_ptr()) || a == b)
    }
}

impl Eq for Name {}

impl PartialOrd for Name {
    fn partial_cmp(&self, other: &Name) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for Name {
    fn cmp(&self, other: &Name) -> std::cmp::Ordering {
        self.as_str().cmp(other.as_str())
    }
}

impl std::hash::Hash for Name {
    fn hash<H: std::hash::Hasher>(&self, state: &mut H) {
        self.as_str().hash(state)
    }
}

impl Deref for Name {
    type Target = str;
    fn deref(&self) -> &str {
        self.as_str()
    }
}

impl AsRef<str> for Name {
    fn as_ref(&self) -> &str {
        self.as_str()
    }
}

impl Borrow<str> for Name {
    fn borrow(&self) -> &str {
        self.as_str()
    }
}

impl fmt::Display for Name {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl fmt::Debug for Name {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(self.as_str(), f)
    }
}

impl From<&str> for Name {
    fn from(s: &str) -> Self {
        Name(Repr::Counted(Arc::from(s)))
    }
}

impl From<String> for Name {
    fn from(s: String) -> Self {
        Name(Repr::Counted(Arc::from(s)))
    }
}

impl From<Name> for String {
    fn from(n: Name) -> Self {
        n.as_str().to_string()
    }
}

impl PartialEq<str> for Name {
    fn eq(&self, other: &str) -> bool {
        self.as_str() == other
    }
}

impl PartialEq<&str> for Name {
    fn eq(&self, other: &&str) -> bool {
        self.as_str() == *other
    }
}

impl PartialEq<String> for Name {
    fn eq(&self, other: &String) -> bool {
        self.as_str() == other.as_str()
    }
}

impl PartialEq<Name> for str {
    fn eq(&self, other: &Name) -> bool {
        self == other.as_str()
    }
}

impl PartialEq<Name> for &str {
    fn eq(&self, other: &Name) -> bool {
        *self == other.as_str()
    }
}

impl PartialEq<Name> for String {
    fn eq(&self, other: &Name) -> bool {
        self.as_str() == other.as_str()
    }
}

#[cfg(feature = "serde")]
impl serde::Serialize for Name {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.as_str())
    }
}

#[cfg(feature = "serde")]
impl<'de> serde::Deserialize<'de> for Name {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        <String as serde::Deserialize>::deserialize(deserializer).map(Name::from)
    }
}

/// A read-only list shared between results: the antigens of a vaccine group
/// ([`Names`]), the vaccines of a forecast, the dose evaluations of a
/// series. It reads like a slice (`iter`, `len`, indexing, `for x in &list`),
/// compares and serializes as one (a JSON array); cloning it copies nothing.
/// Build one from a `Vec` with `From`/`collect`.
pub struct Shared<T> {
    /// `None` for an empty list (no allocation), or while the engine is still
    /// filling the buffer this list will point into. A shared `Vec`, so a
    /// finished buffer is shared as it is, never copied.
    all: Option<Arc<Vec<T>>>,
    start: u32,
    end: u32,
}

/// The antigens of a vaccine group, shared with the supporting data.
pub type Names = Shared<Name>;

impl<T> Shared<T> {
    /// The elements `range` of a buffer that is still being filled: the list
    /// reads as empty until [`Shared::resolve`] points it at the finished
    /// buffer. Lets many lists share one allocation per forecast.
    pub(crate) fn pending(range: std::ops::Range<usize>) -> Self {
        Shared {
            all: None,
            start: range.start as u32,
            end: range.end as u32,
        }
    }

    /// The range of a pending list.
    pub(crate) fn range(&self) -> std::ops::Range<usize> {
        self.start as usize..self.end as usize
    }

    /// Points a pending list at the finished buffer.
    pub(crate) fn resolve(&mut self, all: &Arc<Vec<T>>) {
        debug_assert!(self.start <= self.end && self.end as usize <= all.len());
        if self.start < self.end {
            self.all = Some(Arc::clone(all));
        }
    }

    /// The elements as a slice.
    pub fn as_slice(&self) -> &[T] {
        match &self.all {
            Some(all) => &all[self.start as usize..self.end as usize],
            None => &[],
        }
    }
}

impl<T> Clone for Shared<T> {
    fn clone(&self) -> Self {
        Shared {
            all: self.all.clone(),
            start: self.start,
            end: self.end,
        }
    }
}

impl<T> Default for Shared<T> {
    fn default() -> Self {
        Shared {
            all: None,
            start: 0,
            end: 0,
        }
    }
}

impl<T> Deref for Shared<T> {
    type Target = [T];
    fn deref(&self) -> &[T] {
        self.as_slice()
    }
}

impl<'a, T> IntoIterator for &'a Shared<T> {
    type Item = &'a T;
    type IntoIter = std::slice::Iter<'a, T>;
    fn into_iter(self) -> Self::IntoIter {
        self.as_slice().iter()
    }
}

impl<T> From<Vec<T>> for Shared<T> {
    fn from(v: Vec<T>) -> Self {
        if v.is_empty() {
            return Shared::default();
        }
        let end = v.len() as u32;
        Shared {
            all: Some(Arc::new(v)),
            start: 0,
            end,
        }
    }
}

impl<T> FromIterator<T> for Shared<T> {
    fn from_iter<I: IntoIterator<Item = T>>(iter: I) -> Self {
        Shared::from(iter.into_iter().collect::<Vec<T>>())
    }
}

impl<T: PartialEq> PartialEq for Shared<T> {
    fn eq(&self, other: &Self) -> bool {
        self.as_slice() == other.as_slice()
    }
}

impl<T: Eq> Eq for Shared<T> {}

impl<T: std::hash::Hash> std::hash::Hash for Shared<T> {
    fn hash<H: std::hash::Hasher>(&self, state: &mut H) {
        self.as_slice().hash(state)
    }
}

impl<T: fmt::Debug> fmt::Debug for Shared<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_list().entries(self.as_slice()).finish()
    }
}

#[cfg(feature = "serde")]
impl<T: serde::Serialize> serde::Serialize for Shared<T> {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_seq(self.as_slice())
    }
}

#[cfg(feature = "serde")]
impl<'de, T: serde::Deserialize<'de>> serde::Deserialize<'de> for Shared<T> {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        <Vec<T> as serde::Deserialize>::deserialize(deserializer).map(Shared::from)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn interned_and_counted_names_are_the_same_text() {
        let a = Name::interned("Measles");
        let b = Name::interned(&String::from("Measles"));
        // Interned once: both point at the same text.
        assert!(std::ptr::eq(a.as_str(), b.as_str()));
        let counted = Name::from("Measles");
        assert_eq!(a, counted);
        assert_eq!(a.cmp(&counted), std::cmp::Ordering::Equal);
        let mut set = std::collections::HashSet::new();
        set.insert(a.clone());
        assert!(set.contains(&counted));
        assert!(set.contains("Measles"));
        assert!(counted < Name::interned("Mumps"));
        assert_eq!(Name::default(), "");
    }

    #[test]
    fn a_shared_slice_reads_compares_and_clones_like_its_elements() {
        let all = Arc::new(vec![1, 2, 3, 4]);
        let mut mid = Shared::pending(1..3);
        assert!(mid.is_empty(), "pending lists read as empty");
        mid.resolve(&all);
        assert_eq!(&mid[..], &[2, 3]);
        assert_eq!(mid, Shared::from(vec![2, 3]));
        assert_eq!(mid.clone().iter().sum::<u8>(), 5);
        assert!(Shared::<u8>::default().is_empty());
        #[cfg(feature = "serde")]
        {
            let json = serde_json::to_string(&mid).expect("serializes");
            assert_eq!(json, "[2,3]");
            let back: Shared<u8> = serde_json::from_str(&json).expect("deserializes");
            assert_eq!(back, mid);
        }
    }
}
