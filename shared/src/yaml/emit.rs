//! Writing `serde_json::Value`s as block-style YAML, the way `kubectl get -o yaml` looks.

use super::read::resolve_plain;
use serde_json::Value;

/// One document as YAML (no `---`), ending in a newline.
pub fn to_yaml(value: &Value) -> String {
    let mut out = String::new();
    match value {
        Value::Object(m) if !m.is_empty() => emit_map(m, 0, &mut out),
        Value::Array(a) if !a.is_empty() => emit_seq(a, 0, &mut out),
        other => {
            emit_scalar(other, 0, &mut out);
            out.push('\n');
        }
    }
    out
}

/// Several documents joined with `---` lines.
pub fn to_yaml_documents<'a>(values: impl IntoIterator<Item = &'a Value>) -> String {
    let mut out = String::new();
    for (i, v) in values.into_iter().enumerate() {
        if i > 0 {
            out.push_str("---\n");
        }
        out.push_str(&to_yaml(v));
    }
    out
}

fn indent(out: &mut String, n: usize) {
    for _ in 0..n {
        out.push(' ');
    }
}

fn is_nonempty_collection(v: &Value) -> bool {
    match v {
        Value::Object(m) => !m.is_empty(),
        Value::Array(a) => !a.is_empty(),
        _ => false,
    }
}

/// Emits the entries of a mapping, each line at `ind` (the caller has already
/// indented the first line when the map starts after `- `).
fn emit_map(m: &serde_json::Map<String, Value>, ind: usize, out: &mut String) {
    for (i, (k, v)) in m.iter().enumerate() {
        if i > 0 {
            indent(out, ind);
        }
        emit_string(k, ind, out, true);
        out.push(':');
        match v {
            Value::Object(inner) if !inner.is_empty() => {
                out.push('\n');
                indent(out, ind + 2);
                emit_map(inner, ind + 2, out);
            }
            Value::Array(items) if !items.is_empty() => {
                out.push('\n');
                indent(out, ind);
                emit_seq(items, ind, out);
            }
            _ => {
                out.push(' ');
                emit_scalar(v, ind + 2, out);
                out.push('\n');
            }
        }
    }
}

fn emit_seq(a: &[Value], ind: usize, out: &mut String) {
    for (i, v) in a.iter().enumerate() {
        if i > 0 {
            indent(out, ind);
        }
        out.push('-');
        if is_nonempty_collection(v) {
            out.push(' ');
            match v {
                Value::Object(m) => emit_map(m, ind + 2, out),
                Value::Array(inner) => emit_seq(inner, ind + 2, out),
                _ => {}
            }
        } else {
            out.push(' ');
            emit_scalar(v, ind + 2, out);
            out.push('\n');
        }
    }
}

fn emit_scalar(v: &Value, ind: usize, out: &mut String) {
    match v {
        Value::Null => out.push_str("null"),
        Value::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
        Value::Number(n) => out.push_str(&n.to_string()),
        Value::String(s) => emit_string(s, ind, out, false),
        Value::Object(_) => out.push_str("{}"),
        Value::Array(_) => out.push_str("[]"),
    }
}

/// True when `s` can be written without quotes and reads back as the same string.
pub(crate) fn plain_safe(s: &str) -> bool {
    let Some(first) = s.chars().next() else {
        return false;
    };
    if "-?:,[]{}#&*!|>'\"%@`".contains(first) || first.is_whitespace() {
        return false;
    }
    if s.ends_with(char::is_whitespace) || s.ends_with(':') {
        return false;
    }
    if s.contains(": ") || s.contains(" #") || s.contains(":\t") {
        return false;
    }
    if s.chars()
        .any(|c| c.is_control() || c == '\u{feff}' || c == '\u{2028}' || c == '\u{2029}')
    {
        return false;
    }
    matches!(resolve_plain(s), Value::String(_))
}

fn literal_ok(s: &str) -> bool {
    s.contains('\n')
        && !s.starts_with([' ', '\n', '\t'])
        && !s
            .chars()
            .any(|c| (c.is_control() && c != '\n') || c == '\u{feff}')
        && !s.split('\n').any(|l| l.ends_with([' ', '\t']))
}

fn emit_string(s: &str, ind: usize, out: &mut String, is_key: bool) {
    if plain_safe(s) {
        out.push_str(s);
    } else if !is_key && literal_ok(s) {
        let body = s.trim_end_matches('\n');
        let trailing = s.len() - body.len();
        out.push_str(match trailing {
            0 => "|-",
            1 => "|",
            _ => "|+",
        });
        for line in s
            .split('\n')
            .take(body.split('\n').count() + trailing.saturating_sub(1))
        {
            out.push('\n');
            if !line.is_empty() {
                indent(out, ind);
                out.push_str(line);
            }
        }
    } else {
        // JSON's string escapes are valid in YAML double-quoted scalars.
        out.push_str(&Value::String(s.to_owned()).to_string());
    }
}

#[cfg(test)]
mod tests {
    use super::super::read::{parse_stream, Limits};
    use super::*;
    use serde_json::json;

    fn round_trip(v: &Value) {
        let text = to_yaml(v);
        let docs = parse_stream(&text, Limits::default());
        assert_eq!(docs.len(), 1, "{text}");
        assert_eq!(&docs[0].as_ref().unwrap().value, v, "emitted:\n{text}");
    }

    #[test]
    fn kubectl_style_block_yaml() {
        let v = json!({"apiVersion": "networking.istio.io/v1", "kind": "VirtualService",
            "spec": {"hosts": ["reviews"], "http": [{"match": [{"headers": {"end-user": {"exact": "jason"}}}],
            "route": [{"destination": {"host": "reviews", "subset": "v2"}, "weight": 90}]}]}});
        let text = to_yaml(&v);
        assert_eq!(
            text,
            "apiVersion: networking.istio.io/v1\nkind: VirtualService\nspec:\n  hosts:\n  - reviews\n  http:\n  - match:\n    - headers:\n        end-user:\n          exact: jason\n    route:\n    - destination:\n        host: reviews\n        subset: v2\n      weight: 90\n"
        );
        round_trip(&v);
    }

    #[test]
    fn ambiguous_strings_are_quoted() {
        for s in [
            "yes",
            "1.0",
            "10",
            "*.example.com",
            "",
            " x",
            "a: b",
            "null",
            "~",
            "-x",
            "a #b",
            "on",
            "0x1F",
            "{x}",
            "[x]",
            "@x",
            "`x",
            "x:",
            "tab\tin",
            "bell\u{7}",
        ] {
            round_trip(&json!({ "k": s, s: 1 }));
        }
        assert_eq!(
            to_yaml(&json!({"h": "*.example.com"})),
            "h: \"*.example.com\"\n"
        );
    }

    #[test]
    fn multi_line_strings_and_nesting() {
        round_trip(
            &json!({"cert": "-----BEGIN-----\nabc\n-----END-----\n", "b": "x\ny", "c": "x\n\n", "d": "\nlead"}),
        );
        round_trip(
            &json!({"a": [[1, 2], [], {}, [{"x": [{}]}]], "e": {}, "f": [], "g": null, "h": 1.5, "i": -2}),
        );
        round_trip(&json!([1, "two", {"three": 3}]));
        round_trip(&json!("scalar"));
    }
}
