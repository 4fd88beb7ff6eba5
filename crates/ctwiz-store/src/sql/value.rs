//! Values crossing the SQL boundary: what a parameter binds ([`ToSql`]) and what a column
//! reads as ([`FromSql`]), in SQLite's five storage classes, which both backends share.

use super::Error;
use std::borrow::Cow;

/// A value as bound or read: NULL, a 64-bit integer, a double, text or bytes. Booleans
/// are integers 0/1 and dates are ISO text on both backends, so rows read the same.
#[derive(Debug, Clone, PartialEq)]
pub enum ValueRef<'a> {
    Null,
    Integer(i64),
    Real(f64),
    Text(Cow<'a, str>),
    Blob(Cow<'a, [u8]>),
}

/// An owned value, for parameter lists built at run time.
#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    Null,
    Integer(i64),
    Real(f64),
    Text(String),
    Blob(Vec<u8>),
}

impl ValueRef<'_> {
    fn kind(&self) -> &'static str {
        match self {
            ValueRef::Null => "NULL",
            ValueRef::Integer(_) => "an integer",
            ValueRef::Real(_) => "a real number",
            ValueRef::Text(_) => "text",
            ValueRef::Blob(_) => "bytes",
        }
    }
}

/// A Rust value bound as a statement parameter.
pub trait ToSql {
    fn to_sql(&self) -> Result<ValueRef<'_>, Error>;
}

/// A Rust value read from a column.
pub trait FromSql: Sized {
    fn from_sql(v: ValueRef<'_>) -> Result<Self, String>;
}

fn wrong<T>(v: &ValueRef<'_>, want: &str) -> Result<T, String> {
    Err(format!("expected {want}, found {}", v.kind()))
}

impl ToSql for Value {
    fn to_sql(&self) -> Result<ValueRef<'_>, Error> {
        Ok(match self {
            Value::Null => ValueRef::Null,
            Value::Integer(i) => ValueRef::Integer(*i),
            Value::Real(r) => ValueRef::Real(*r),
            Value::Text(t) => ValueRef::Text(Cow::Borrowed(t)),
            Value::Blob(b) => ValueRef::Blob(Cow::Borrowed(b)),
        })
    }
}

impl ToSql for ValueRef<'_> {
    fn to_sql(&self) -> Result<ValueRef<'_>, Error> {
        Ok(match self {
            ValueRef::Text(t) => ValueRef::Text(Cow::Borrowed(t)),
            ValueRef::Blob(b) => ValueRef::Blob(Cow::Borrowed(b)),
            ValueRef::Null => ValueRef::Null,
            ValueRef::Integer(i) => ValueRef::Integer(*i),
            ValueRef::Real(r) => ValueRef::Real(*r),
        })
    }
}

macro_rules! integer_to_sql {
    ($($t:ty),*) => {$(
        impl ToSql for $t {
            fn to_sql(&self) -> Result<ValueRef<'_>, Error> {
                Ok(ValueRef::Integer(i64::from(*self)))
            }
        }
    )*};
}
integer_to_sql!(i8, i16, i32, i64, u8, u16, u32, bool);

/// Unsigned integers wider than a column's signed 64 bits are refused, not wrapped.
macro_rules! wide_to_sql {
    ($($t:ty),*) => {$(
        impl ToSql for $t {
            fn to_sql(&self) -> Result<ValueRef<'_>, Error> {
                i64::try_from(*self)
                    .map(ValueRef::Integer)
                    .map_err(|_| Error::Value(format!("{self} is too large for a 64-bit column")))
            }
        }
    )*};
}
wide_to_sql!(u64, usize);

impl ToSql for f64 {
    fn to_sql(&self) -> Result<ValueRef<'_>, Error> {
        Ok(ValueRef::Real(*self))
    }
}

impl ToSql for str {
    fn to_sql(&self) -> Result<ValueRef<'_>, Error> {
        Ok(ValueRef::Text(Cow::Borrowed(self)))
    }
}

impl ToSql for String {
    fn to_sql(&self) -> Result<ValueRef<'_>, Error> {
        Ok(ValueRef::Text(Cow::Borrowed(self)))
    }
}

impl ToSql for [u8] {
    fn to_sql(&self) -> Result<ValueRef<'_>, Error> {
        Ok(ValueRef::Blob(Cow::Borrowed(self)))
    }
}

impl ToSql for Vec<u8> {
    fn to_sql(&self) -> Result<ValueRef<'_>, Error> {
        Ok(ValueRef::Blob(Cow::Borrowed(self)))
    }
}

impl<T: ToSql + ?Sized> ToSql for &T {
    fn to_sql(&self) -> Result<ValueRef<'_>, Error> {
        (**self).to_sql()
    }
}

impl<T: ToSql + ?Sized> ToSql for Box<T> {
    fn to_sql(&self) -> Result<ValueRef<'_>, Error> {
        (**self).to_sql()
    }
}

impl<T: ToSql> ToSql for Option<T> {
    fn to_sql(&self) -> Result<ValueRef<'_>, Error> {
        match self {
            Some(v) => v.to_sql(),
            None => Ok(ValueRef::Null),
        }
    }
}

impl FromSql for i64 {
    fn from_sql(v: ValueRef<'_>) -> Result<Self, String> {
        match v {
            ValueRef::Integer(i) => Ok(i),
            other => wrong(&other, "an integer"),
        }
    }
}

macro_rules! narrow_from_sql {
    ($($t:ty),*) => {$(
        impl FromSql for $t {
            fn from_sql(v: ValueRef<'_>) -> Result<Self, String> {
                let i = i64::from_sql(v)?;
                <$t>::try_from(i).map_err(|_| format!("{i} is out of range for {}", stringify!($t)))
            }
        }
    )*};
}
narrow_from_sql!(i32, u32, u64, u16, u8, usize);

impl FromSql for bool {
    fn from_sql(v: ValueRef<'_>) -> Result<Self, String> {
        Ok(i64::from_sql(v)? != 0)
    }
}

impl FromSql for f64 {
    fn from_sql(v: ValueRef<'_>) -> Result<Self, String> {
        match v {
            ValueRef::Real(r) => Ok(r),
            ValueRef::Integer(i) => Ok(i as f64),
            other => wrong(&other, "a real number"),
        }
    }
}

impl FromSql for String {
    fn from_sql(v: ValueRef<'_>) -> Result<Self, String> {
        match v {
            ValueRef::Text(t) => Ok(t.into_owned()),
            other => wrong(&other, "text"),
        }
    }
}

impl FromSql for Vec<u8> {
    fn from_sql(v: ValueRef<'_>) -> Result<Self, String> {
        match v {
            ValueRef::Blob(b) => Ok(b.into_owned()),
            // SQLite hands back text stored in a column declared BLOB as text.
            ValueRef::Text(t) => Ok(t.into_owned().into_bytes()),
            other => wrong(&other, "bytes"),
        }
    }
}

impl FromSql for Value {
    fn from_sql(v: ValueRef<'_>) -> Result<Self, String> {
        Ok(match v {
            ValueRef::Null => Value::Null,
            ValueRef::Integer(i) => Value::Integer(i),
            ValueRef::Real(r) => Value::Real(r),
            ValueRef::Text(t) => Value::Text(t.into_owned()),
            ValueRef::Blob(b) => Value::Blob(b.into_owned()),
        })
    }
}

impl<T: FromSql> FromSql for Option<T> {
    fn from_sql(v: ValueRef<'_>) -> Result<Self, String> {
        match v {
            ValueRef::Null => Ok(None),
            v => T::from_sql(v).map(Some),
        }
    }
}
