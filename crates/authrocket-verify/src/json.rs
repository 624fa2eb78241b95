//! Strict JSON shapes for what is parsed from a token or an upstream answer.
//!
//! * A struct is filled from a JSON **object** only: serde's derived `Deserialize` also
//!   accepts a JSON array and fills the fields by position, so `["HS256"]` would pass as a
//!   header and `[…]` as a claim set or a membership. [`Object`] refuses anything but an
//!   object.
//! * Nesting is bounded ([`within_depth`]): serde_json limits what it builds, but skips unread
//!   values without counting their depth.

use std::fmt;
use std::marker::PhantomData;

use serde::de::value::MapAccessDeserializer;
use serde::de::{Deserialize, Deserializer, MapAccess, Visitor};

/// Deepest nesting of arrays and objects accepted in a token's header or claim set.
pub(crate) const MAX_DEPTH: usize = 128;

/// A `T` that was written as a JSON object (never as an array filled by position).
#[derive(Debug)]
pub(crate) struct Object<T>(pub(crate) T);

impl<'de, T: Deserialize<'de>> Deserialize<'de> for Object<T> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V<T>(PhantomData<T>);
        impl<'de, T: Deserialize<'de>> Visitor<'de> for V<T> {
            type Value = Object<T>;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a JSON object")
            }
            fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<Object<T>, A::Error> {
                T::deserialize(MapAccessDeserializer::new(map)).map(Object)
            }
        }
        d.deserialize_map(V(PhantomData))
    }
}

#[cfg(feature = "http")]
/// Deserialize an optional [`Object`] as an `Option<T>` (for `#[serde(deserialize_with)]`).
pub(crate) fn object<'de, D, T>(d: D) -> Result<Option<T>, D::Error>
where
    D: Deserializer<'de>,
    T: Deserialize<'de>,
{
    Ok(Option::<Object<T>>::deserialize(d)?.map(|o| o.0))
}

/// Deserialize a sequence of [`Object`]s as a `Vec<T>` (for `#[serde(deserialize_with)]`).
pub(crate) fn objects<'de, D, T>(d: D) -> Result<Option<Vec<T>>, D::Error>
where
    D: Deserializer<'de>,
    T: Deserialize<'de>,
{
    let all = Option::<Vec<Object<T>>>::deserialize(d)?;
    Ok(all.map(|v| v.into_iter().map(|o| o.0).collect()))
}

/// `true` when `json` nests arrays and objects at most [`MAX_DEPTH`] levels deep. Brackets
/// inside strings do not count.
pub(crate) fn within_depth(json: &[u8]) -> bool {
    // Fewer opening brackets than the limit cannot nest deeper than it: the common case. The
    // count is vectorised ('[' and '{' differ only in bit 0x20; byte-wide counters per chunk of
    // 255: a usize counter per byte is ten times slower here).
    let opening: usize = json
        .chunks(255)
        .map(|chunk| {
            let n = chunk
                .iter()
                .fold(0u8, |n, &b| n + u8::from(b | 0x20 == b'{'));
            usize::from(n)
        })
        .sum();
    if opening <= MAX_DEPTH {
        return true;
    }
    let (mut depth, mut in_string, mut escaped) = (0usize, false, false);
    for &b in json {
        if in_string {
            match b {
                _ if escaped => escaped = false,
                b'\\' => escaped = true,
                b'"' => in_string = false,
                _ => {}
            }
            continue;
        }
        match b {
            b'"' => in_string = true,
            b'[' | b'{' => {
                depth += 1;
                if depth > MAX_DEPTH {
                    return false;
                }
            }
            b']' | b'}' => depth = depth.saturating_sub(1),
            _ => {}
        }
    }
    true
}

/// Parse `json` as a `T` written as an object, within the depth limit; `None` otherwise.
///
/// At the top level an object is recognised by its first character, which spares the
/// [`Object`] wrapper (and a move of the whole `T`) on every token: serde_json fills a struct
/// by position only from input that starts with `[`.
pub(crate) fn parse_object<'a, T: Deserialize<'a>>(json: &'a str) -> Option<T> {
    if !json.trim_start().starts_with('{') || !within_depth(json.as_bytes()) {
        return None;
    }
    serde_json::from_str::<T>(json).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug, serde::Deserialize, PartialEq)]
    struct Pair {
        a: String,
        b: u8,
    }

    #[test]
    fn objects_only() {
        assert_eq!(
            parse_object::<Pair>(r#"{"a":"x","b":1}"#),
            Some(Pair {
                a: "x".into(),
                b: 1
            })
        );
        assert_eq!(parse_object::<Pair>(r#"["x",1]"#), None);
        assert_eq!(parse_object::<Pair>("null"), None);
    }

    #[test]
    fn depth_is_counted_outside_strings_only() {
        let nest = |n: usize| format!("{}1{}", "[".repeat(n), "]".repeat(n));
        assert!(within_depth(nest(MAX_DEPTH).as_bytes()));
        assert!(!within_depth(nest(MAX_DEPTH + 1).as_bytes()));
        let in_string = format!(r#"{{"s":"{}"}}"#, "[".repeat(500));
        assert!(within_depth(in_string.as_bytes()));
        let escaped_quote = format!(r#"{{"s":"\"{}"}}"#, "[".repeat(500));
        assert!(within_depth(escaped_quote.as_bytes()));
    }
}
