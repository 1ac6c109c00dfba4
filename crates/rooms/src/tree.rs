//! The xAPI document tree: paths, lookups, wildcard selection, and the nested deltas that feedback carries.
//!
//! RoomOS speaks JSON where repeated nodes are arrays of objects keyed by an `"id"` member
//! (`"Connector":[{"id":1,"Connected":"True"}]`), a removed array entry is announced as
//! `{"id":1,"ghost":"True"}`, and node names match case-insensitively. A [`Path`] is what the JSON-RPC
//! `Path`/`Query` parameters carry: names, numeric indexes (the `id` of an array entry) and the `**` wildcard.
//! Feedback reuses [`select`]: a change is turned into a delta rooted at the document root ([`nest`]) and
//! each subscription sends whatever its query selects from that delta.

use serde_json::{Map, Value};
use std::fmt;

/// One element of an xAPI path.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum PathElem {
    /// A node name such as `Video` (matched case-insensitively).
    Node(String),
    /// An array entry, by its `id` (`Connector 2`).
    Index(u64),
    /// `**`: zero or more levels (only meaningful in `xQuery` and feedback queries).
    AnyDepth,
}

/// A parsed xAPI path.
pub type Path = Vec<PathElem>;

/// Why a path or a tree operation was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TreeError {
    /// The `Path`/`Query` parameter was not an array of strings and numbers.
    #[error("path must be an array of node names and indexes, got {got}")]
    NotAPath {
        /// The JSON type that was found instead.
        got: &'static str,
    },
    /// A path element was empty or not a plain name.
    #[error("bad path element {element:?}")]
    BadElement {
        /// The offending element.
        element: String,
    },
    /// A path used `**` where only a concrete path is allowed (`xGet`, `xSet`).
    #[error("wildcard `**` is only allowed in queries")]
    WildcardNotAllowed,
    /// A path went through a leaf value.
    #[error("path {path} goes through a leaf value")]
    ThroughLeaf {
        /// The path, space separated.
        path: String,
    },
}

/// Parses the JSON form of a path (`["Status","Video","Output","Connector",1]`).
/// Digit-only strings are indexes, as jsxapi's `normalizePath` produces them.
pub fn parse_path(value: &Value) -> Result<Path, TreeError> {
    let Value::Array(items) = value else {
        return Err(TreeError::NotAPath { got: json_type(value) });
    };
    items.iter().map(parse_elem).collect()
}

fn parse_elem(item: &Value) -> Result<PathElem, TreeError> {
    match item {
        Value::Number(n) => n
            .as_u64()
            .map(PathElem::Index)
            .ok_or_else(|| TreeError::BadElement { element: n.to_string() }),
        Value::String(s) => parse_word(s),
        other => Err(TreeError::NotAPath { got: json_type(other) }),
    }
}

fn parse_word(word: &str) -> Result<PathElem, TreeError> {
    if word == "**" {
        return Ok(PathElem::AnyDepth);
    }
    if !word.is_empty() && word.bytes().all(|b| b.is_ascii_digit()) {
        return word
            .parse()
            .map(PathElem::Index)
            .map_err(|_| TreeError::BadElement { element: word.to_owned() });
    }
    if word.is_empty() || !word.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_') {
        return Err(TreeError::BadElement { element: word.to_owned() });
    }
    Ok(PathElem::Node(word.to_owned()))
}

/// Parses the space-separated text form used in docs and logs: `Configuration Video Output Connector 1 MonitorRole`.
pub fn parse_text_path(text: &str) -> Result<Path, TreeError> {
    text.split_whitespace().map(parse_word).collect()
}

/// The JSON form of a path, as sent in `Path`/`Query` parameters.
pub fn path_to_json(path: &[PathElem]) -> Value {
    Value::Array(
        path.iter()
            .map(|e| match e {
                PathElem::Node(n) => Value::String(n.clone()),
                PathElem::Index(i) => Value::from(*i),
                PathElem::AnyDepth => Value::String("**".to_owned()),
            })
            .collect(),
    )
}

/// Displays a path in its text form.
pub struct DisplayPath<'a>(pub &'a [PathElem]);

impl fmt::Display for DisplayPath<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, e) in self.0.iter().enumerate() {
            if i > 0 {
                f.write_str(" ")?;
            }
            match e {
                PathElem::Node(n) => f.write_str(n)?,
                PathElem::Index(n) => write!(f, "{n}")?,
                PathElem::AnyDepth => f.write_str("**")?,
            }
        }
        Ok(())
    }
}

fn json_type(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "bool",
        Value::Number(_) => "number",
        Value::String(_) => "string",
        Value::Array(_) => "array",
        Value::Object(_) => "object",
    }
}

fn key_ci<'a>(map: &'a Map<String, Value>, name: &str) -> Option<&'a String> {
    map.keys().find(|k| k.eq_ignore_ascii_case(name))
}

/// The `id` of an array entry.
pub fn entry_id(entry: &Value) -> Option<u64> {
    match entry.get("id")? {
        Value::Number(n) => n.as_u64(),
        Value::String(s) => s.parse().ok(),
        _ => None,
    }
}

fn is_ghost(entry: &Value) -> bool {
    entry.get("ghost").and_then(Value::as_str) == Some("True")
}

/// Looks up a concrete path (`xGet`); the result is relative to the path.
pub fn get<'a>(root: &'a Value, path: &[PathElem]) -> Option<&'a Value> {
    let mut node = root;
    for elem in path {
        node = match (elem, node) {
            (PathElem::Node(name), Value::Object(map)) => map.get(key_ci(map, name)?)?,
            (PathElem::Index(id), Value::Array(items)) => items.iter().find(|e| entry_id(e) == Some(*id))?,
            _ => return None,
        };
    }
    Some(node)
}

/// Selects from `value` what `pattern` matches, keeping the path from the root (`xQuery`, feedback).
/// Array entries keep their `id`; a ghost entry that the pattern reaches is kept whole.
pub fn select(value: &Value, pattern: &[PathElem]) -> Option<Value> {
    let Some((first, rest)) = pattern.split_first() else {
        return Some(value.clone());
    };
    match first {
        PathElem::AnyDepth => {
            let mut out = select(value, rest);
            if let Some(deeper) = select_children(value, pattern) {
                match &mut out {
                    Some(acc) => merge(acc, deeper),
                    None => out = Some(deeper),
                }
            }
            out
        }
        PathElem::Node(name) => match value {
            Value::Object(map) => {
                let key = key_ci(map, name)?;
                let child = select(map.get(key)?, rest)?;
                Some(Value::Object(Map::from_iter([(key.clone(), child)])))
            }
            Value::Array(_) => select_children(value, pattern),
            _ => None,
        },
        PathElem::Index(id) => {
            let Value::Array(items) = value else { return None };
            let entry = items.iter().find(|e| entry_id(e) == Some(*id))?;
            select_entry(entry, rest).map(|e| Value::Array(vec![e]))
        }
    }
}

fn select_children(value: &Value, pattern: &[PathElem]) -> Option<Value> {
    match value {
        Value::Object(map) => {
            let out: Map<String, Value> = map
                .iter()
                .filter_map(|(k, child)| select(child, pattern).map(|c| (k.clone(), c)))
                .collect();
            (!out.is_empty()).then_some(Value::Object(out))
        }
        Value::Array(items) => {
            let out: Vec<Value> = items.iter().filter_map(|e| select_entry(e, pattern)).collect();
            (!out.is_empty()).then_some(Value::Array(out))
        }
        _ => None,
    }
}

fn select_entry(entry: &Value, pattern: &[PathElem]) -> Option<Value> {
    if pattern.is_empty() || is_ghost(entry) {
        return Some(entry.clone());
    }
    let id = entry_id(entry)?;
    let mut selected = select(entry, pattern)?;
    if let Value::Object(map) = &mut selected {
        map.insert("id".to_owned(), Value::from(id));
    }
    Some(selected)
}

/// Deep-merges `other` into `acc`: objects by key, arrays of entries by `id`, anything else replaced.
pub fn merge(acc: &mut Value, other: Value) {
    match (acc, other) {
        (Value::Object(a), Value::Object(b)) => {
            for (k, v) in b {
                match a.get_mut(&k) {
                    Some(slot) => merge(slot, v),
                    None => {
                        a.insert(k, v);
                    }
                }
            }
        }
        (Value::Array(a), Value::Array(b)) => {
            for entry in b {
                let id = entry_id(&entry);
                match a.iter_mut().find(|e| id.is_some() && entry_id(e) == id) {
                    Some(slot) if is_ghost(&entry) => *slot = entry,
                    Some(slot) => merge(slot, entry),
                    None => a.push(entry),
                }
            }
        }
        (slot, v) => *slot = v,
    }
}

/// Wraps `value` so that it sits at `path` from the root: the shape of a feedback delta.
pub fn nest(path: &[PathElem], value: Value) -> Value {
    path.iter().rev().fold(value, |acc, elem| match elem {
        PathElem::Node(name) => Value::Object(Map::from_iter([(name.clone(), acc)])),
        PathElem::Index(id) => {
            let mut entry = match acc {
                Value::Object(map) => map,
                leaf => Map::from_iter([("Value".to_owned(), leaf)]),
            };
            entry.insert("id".to_owned(), Value::from(*id));
            Value::Array(vec![Value::Object(entry)])
        }
        PathElem::AnyDepth => acc,
    })
}

/// Writes `value` at a concrete path, creating objects and array entries on the way.
pub fn upsert(root: &mut Value, path: &[PathElem], value: Value) -> Result<(), TreeError> {
    let Some((last, parents)) = path.split_last() else {
        *root = value;
        return Ok(());
    };
    let mut node = root;
    for (depth, elem) in parents.iter().enumerate() {
        let next_is_index = matches!(path.get(depth + 1), Some(PathElem::Index(_)));
        node = child_mut(node, elem, next_is_index, path)?;
    }
    let slot = child_mut(node, last, false, path)?;
    match (slot, value) {
        (Value::Object(existing), Value::Object(new)) if matches!(last, PathElem::Index(_)) => {
            existing.extend(new);
            Ok(())
        }
        (slot, value) => {
            *slot = value;
            Ok(())
        }
    }
}

fn child_mut<'a>(
    node: &'a mut Value,
    elem: &PathElem,
    array_child: bool,
    full: &[PathElem],
) -> Result<&'a mut Value, TreeError> {
    let through_leaf = || TreeError::ThroughLeaf { path: DisplayPath(full).to_string() };
    match elem {
        PathElem::Node(name) => {
            let Value::Object(map) = node else { return Err(through_leaf()) };
            let key = key_ci(map, name).cloned().unwrap_or_else(|| name.clone());
            let fresh = if array_child { Value::Array(Vec::new()) } else { Value::Object(Map::new()) };
            Ok(map.entry(key).or_insert(fresh))
        }
        PathElem::Index(id) => {
            let Value::Array(items) = node else { return Err(through_leaf()) };
            let pos = match items.iter().position(|e| entry_id(e) == Some(*id)) {
                Some(pos) => pos,
                None => {
                    items.push(Value::Object(Map::from_iter([("id".to_owned(), Value::from(*id))])));
                    items.sort_by_key(entry_id);
                    items.iter().position(|e| entry_id(e) == Some(*id)).ok_or_else(through_leaf)?
                }
            };
            items.get_mut(pos).ok_or_else(through_leaf)
        }
        PathElem::AnyDepth => Err(TreeError::WildcardNotAllowed),
    }
}

/// Removes the array entry `id` under `array_path`; true when it existed.
pub fn remove_entry(root: &mut Value, array_path: &[PathElem], id: u64) -> bool {
    let Some(Value::Array(items)) = get_mut(root, array_path) else { return false };
    let before = items.len();
    items.retain(|e| entry_id(e) != Some(id));
    items.len() != before
}

fn get_mut<'a>(root: &'a mut Value, path: &[PathElem]) -> Option<&'a mut Value> {
    let mut node = root;
    for elem in path {
        node = match (elem, node) {
            (PathElem::Node(name), Value::Object(map)) => {
                let key = key_ci(map, name)?.clone();
                map.get_mut(&key)?
            }
            (PathElem::Index(id), Value::Array(items)) => items.iter_mut().find(|e| entry_id(e) == Some(*id))?,
            _ => return None,
        };
    }
    Some(node)
}

#[cfg(test)]
mod tests;
