//! The loader's decoder (`model::decode`, `#[derive(FromValue)]`) against the model's serde
//! derives: on every document of the Istio corpus, and on mutated copies with wrong types,
//! both must give the same value, or both fail with the same message. The encoder
//! (`model::encode`, `#[derive(ToValue)]`) against `serde_json::to_value` on each decoded
//! value, with and without the `extra` maps.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // test code: failures panic

mod common;

use meshroute_model::model::decode::{decode, FromValue};
use meshroute_model::model::encode::ToValue;
use meshroute_model::model::{self, ObjectMeta};
use meshroute_model::yaml::{parse_stream, Limits};
use meshroute_model::Kind;
use serde::de::DeserializeOwned;
use serde::Serialize;
use serde_json::{json, Value};

fn same<T: FromValue + ToValue + DeserializeOwned + Serialize + PartialEq + std::fmt::Debug>(
    v: &Value,
    what: &str,
    failures: &mut Vec<String>,
) {
    let ours = decode::<T>(v.clone());
    let theirs = serde_json::from_value::<T>(v.clone());
    match (ours, theirs) {
        (Ok(a), Ok(b)) if a == b => {
            let enc = a.to_value();
            let ser = serde_json::to_value(&a).unwrap();
            if enc != ser {
                failures.push(format!("{what}: to_value {enc} vs serde {ser}"));
            }
            let enc = model::without_extra(|| a.to_value());
            let ser = model::without_extra(|| serde_json::to_value(&a).unwrap());
            if enc != ser {
                failures.push(format!(
                    "{what}: without_extra: to_value {enc} vs serde {ser}"
                ));
            }
        }
        (Err(a), Err(b)) if a.message() == b.to_string() => {}
        (a, b) => failures.push(format!("{what}: decode {a:?} vs serde {b:?}\n  input: {v}")),
    }
}

fn check_object(obj: &Value, what: &str, failures: &mut Vec<String>) {
    let api = obj.get("apiVersion").and_then(Value::as_str).unwrap_or("");
    let kind = obj.get("kind").and_then(Value::as_str).unwrap_or("");
    let Some(kind) = Kind::from_type(api, kind) else {
        return;
    };
    if let Some(m) = obj.get("metadata") {
        same::<ObjectMeta>(m, what, failures);
    }
    let mut body = obj.clone();
    if let Some(m) = body.as_object_mut() {
        m.remove("apiVersion");
        m.remove("kind");
        m.remove("metadata");
    }
    let spec = obj.get("spec").cloned().unwrap_or(json!({}));
    match kind {
        Kind::VirtualService => same::<model::VirtualService>(&spec, what, failures),
        Kind::DestinationRule => same::<model::DestinationRule>(&spec, what, failures),
        Kind::Gateway => same::<model::Gateway>(&spec, what, failures),
        Kind::ServiceEntry => same::<model::ServiceEntry>(&spec, what, failures),
        Kind::WorkloadEntry => same::<model::WorkloadEntry>(&spec, what, failures),
        Kind::Service => same::<model::Service>(&body, what, failures),
        Kind::Pod => same::<model::Pod>(&body, what, failures),
        Kind::Deployment => same::<model::Deployment>(&body, what, failures),
        Kind::Namespace => same::<model::Namespace>(&body, what, failures),
        Kind::Secret => same::<model::Secret>(&body, what, failures),
    }
}

/// Every leaf of `v` replaced, one at a time, by a value of another type.
fn mutations(v: &Value) -> Vec<Value> {
    fn walk(v: &Value, out: &mut Vec<Value>, rebuild: &dyn Fn(Value) -> Value) {
        match v {
            Value::Object(m) => {
                for (k, child) in m {
                    let k = k.clone();
                    walk(child, out, &|c| {
                        let mut m2 = m.clone();
                        m2.insert(k.clone(), c);
                        rebuild(Value::Object(m2))
                    });
                }
                out.push(rebuild(json!("not-a-map")));
            }
            Value::Array(a) => {
                for (i, child) in a.iter().enumerate() {
                    walk(child, out, &|c| {
                        let mut a2 = a.clone();
                        a2[i] = c;
                        rebuild(Value::Array(a2))
                    });
                }
                out.push(rebuild(json!({"not": "a list"})));
            }
            Value::String(_) => {
                out.push(rebuild(json!(12)));
                out.push(rebuild(json!(-1.5)));
            }
            Value::Number(_) => {
                out.push(rebuild(json!("7")));
                out.push(rebuild(json!(-3)));
                out.push(rebuild(json!(2.5)));
            }
            Value::Bool(_) => out.push(rebuild(json!("true"))),
            Value::Null => out.push(rebuild(json!([]))),
        }
    }
    let mut out = Vec::new();
    walk(v, &mut out, &|x| x);
    out
}

#[test]
fn decoder_agrees_with_serde_on_the_corpus() {
    let mut failures = Vec::new();
    let mut objects = 0;
    for sub in ["samples", "validation", "analyzers"] {
        let Some(dir) = common::corpus_dir(sub) else {
            return;
        };
        let mut files = common::yaml_files(&dir);
        for d in std::fs::read_dir(&dir).unwrap().flatten() {
            if d.path().is_dir() {
                files.extend(common::yaml_files(&d.path()));
            }
        }
        for file in files {
            let text = std::fs::read_to_string(&file).unwrap();
            for doc in parse_stream(&text, Limits::default()).into_iter().flatten() {
                let items = match doc.value.get("items").and_then(Value::as_array) {
                    Some(items) => items.clone(),
                    None => vec![doc.value],
                };
                for obj in items {
                    objects += 1;
                    let what = format!("{}", file.display());
                    check_object(&obj, &what, &mut failures);
                    if objects % 7 == 0 {
                        for m in mutations(&obj).into_iter().take(400) {
                            check_object(&m, &what, &mut failures);
                        }
                    }
                }
            }
        }
    }
    assert!(objects > 100, "only {objects} objects");
    assert!(
        failures.is_empty(),
        "{} disagreements, first ones:\n{}",
        failures.len(),
        failures
            .iter()
            .take(10)
            .cloned()
            .collect::<Vec<_>>()
            .join("\n")
    );
}

#[test]
fn error_paths() {
    let e = decode::<model::VirtualService>(
        json!({"http": [{"route": [{"destination": {"host": "a"}, "weight": "x"}]}]}),
    )
    .unwrap_err();
    assert_eq!(e.path_from("spec"), "spec.http[0].route[0].weight");
    let e = decode::<model::VirtualService>(
        json!({"http": [{"match": [{"headers": {"x-a": {"exact": 1}}}]}]}),
    )
    .unwrap_err();
    assert_eq!(
        e.path_from("spec"),
        "spec.http[0].match[0].headers.x-a.exact"
    );
    let vs = decode::<model::VirtualService>(json!({"hosts": ["a"], "future": {"x": 1}})).unwrap();
    assert_eq!(vs.extra.get("future"), Some(&json!({"x": 1})));
}
