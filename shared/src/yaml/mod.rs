//! YAML (and JSON, a subset of YAML) in and out, with positions.
//!
//! [`parse_stream`] turns a multi-document YAML stream into one
//! [`serde_json::Value`] per document plus a [`Positions`] table mapping every
//! field path (`spec.http[0].route[1].weight`) to its line and column. Each
//! document is parsed on its own, so a syntax error in one leaves the others
//! intact. Aliases are expanded with a budget (no "billion laughs"), nesting is
//! bounded, and `<<` merge keys work as in Kubernetes' YAML.
//!
//! Scalars resolve like Kubernetes' YAML reader (go-yaml v2, YAML 1.1 booleans
//! such as `yes`/`on`), so what meshroute loads is what `kubectl apply` sends.
//!
//! [`to_yaml`] writes a value back as block YAML; strings that would read back
//! as something else (`"yes"`, `"1.0"`, `"*.example.com"`) are quoted.

mod emit;
mod path;
mod read;

pub use emit::{to_yaml, to_yaml_documents};
pub use path::{join_index, join_key, Positions};
pub use read::{parse_stream, Limits, ParsedDocument, YamlError};
