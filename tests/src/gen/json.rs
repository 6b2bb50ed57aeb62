//! A JSON value whose objects keep the order in which their keys were written, so the
//! vector files have a stable, meaningful key order without serde_json's `preserve_order`
//! feature (which would change `serde_json::Map` for the whole workspace).

use serde::ser::{Serialize, SerializeMap, SerializeSeq, Serializer};

#[derive(Clone, Debug, PartialEq)]
pub(crate) enum J {
    Null,
    Bool(bool),
    Int(i64),
    Str(String),
    Arr(Vec<J>),
    Obj(Vec<(String, J)>),
}

impl J {
    /// Appends `key: value` to an object (panics on anything else: a generator bug).
    pub(crate) fn push(&mut self, key: &str, value: impl Into<J>) {
        match self {
            J::Obj(pairs) => pairs.push((key.to_string(), value.into())),
            _ => panic!("J::push on a non-object"),
        }
    }

    /// Appends `key: value` when there is a value.
    pub(crate) fn push_some(&mut self, key: &str, value: Option<impl Into<J>>) {
        if let Some(v) = value {
            self.push(key, v);
        }
    }
}

impl Serialize for J {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match self {
            J::Null => s.serialize_unit(),
            J::Bool(b) => s.serialize_bool(*b),
            J::Int(i) => s.serialize_i64(*i),
            J::Str(v) => s.serialize_str(v),
            J::Arr(items) => {
                let mut seq = s.serialize_seq(Some(items.len()))?;
                for item in items {
                    seq.serialize_element(item)?;
                }
                seq.end()
            }
            J::Obj(pairs) => {
                let mut map = s.serialize_map(Some(pairs.len()))?;
                for (k, v) in pairs {
                    map.serialize_entry(k, v)?;
                }
                map.end()
            }
        }
    }
}

/// `impl From<$type> for J` for each scalar the generator writes.
macro_rules! from_scalar {
    ($($t:ty => |$v:ident| $e:expr;)*) => {
        $(impl From<$t> for J {
            fn from($v: $t) -> Self {
                $e
            }
        })*
    };
}

from_scalar! {
    &str => |v| J::Str(v.to_string());
    String => |v| J::Str(v);
    &String => |v| J::Str(v.clone());
    bool => |v| J::Bool(v);
    i64 => |v| J::Int(v);
    u32 => |v| J::Int(i64::from(v));
}

impl<T: Into<J>> From<Vec<T>> for J {
    fn from(v: Vec<T>) -> Self {
        J::Arr(v.into_iter().map(Into::into).collect())
    }
}

impl<T: Into<J>> From<Option<T>> for J {
    fn from(v: Option<T>) -> Self {
        v.map_or(J::Null, Into::into)
    }
}

/// Pretty JSON with a 2-space indent and a trailing newline.
pub(crate) fn to_pretty(value: &J) -> Result<String, serde_json::Error> {
    let mut s = serde_json::to_string_pretty(value)?;
    s.push('\n');
    Ok(s)
}

/// An ordered JSON object: `obj!{"a" => 1, "b" => "x"}`.
macro_rules! obj {
    () => { $crate::json::J::Obj(Vec::new()) };
    ($($k:expr => $v:expr),+ $(,)?) => {
        $crate::json::J::Obj(vec![$(($k.to_string(), $crate::json::J::from($v))),+])
    };
}
pub(crate) use obj;
