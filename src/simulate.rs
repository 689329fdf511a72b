//! `meshroute simulate`: load rules, compile the matching engine, decide one
//! request and explain it. Exit 0 when the request is routed (or redirected /
//! answered directly), 1 when no route matches (Envoy's 404 NR), 2 when the input
//! cannot be loaded or compiled.

use std::path::PathBuf;
use std::process::ExitCode;

use meshroute_model::engine::{Engine, EngineOptions, Request};
use meshroute_model::{load_path, Diagnostic, Loaded};

use crate::Output;

/// Arguments of `meshroute simulate`.
#[derive(clap::Args)]
pub struct Args {
    /// Files, directories or `-` for stdin.
    #[arg(required = true)]
    pub paths: Vec<PathBuf>,
    /// HTTP method.
    #[arg(short = 'X', long, default_value = "GET")]
    pub method: String,
    /// Request host (`:authority`), optionally with a port: `reviews`, `reviews:9080`.
    #[arg(long)]
    pub host: String,
    /// Request path, with an optional query string.
    #[arg(long, default_value = "/")]
    pub path: String,
    /// A request header, `NAME: VALUE` (repeatable).
    #[arg(short = 'H', long = "header", value_name = "NAME: VALUE")]
    pub headers: Vec<String>,
    /// `http` or `https`.
    #[arg(long, default_value = "http")]
    pub scheme: String,
    /// Listener port [default: the host's port, else 80/443].
    #[arg(long)]
    pub port: Option<u32>,
    /// Simulate this Istio Gateway (NAMESPACE/NAME) instead of a sidecar (`mesh`).
    #[arg(long, value_name = "NS/NAME")]
    pub gateway: Option<String>,
    /// Namespace of resources that do not name one, and of the client.
    #[arg(short, long, default_value = "default")]
    pub namespace: String,
    /// A label of the client workload, `KEY=VALUE` (repeatable), for `sourceLabels`.
    #[arg(long = "source-label", value_name = "KEY=VALUE")]
    pub source_labels: Vec<String>,
    /// The client's namespace for `sourceNamespace` and short host names [default: --namespace].
    #[arg(long)]
    pub source_namespace: Option<String>,
    /// Output format.
    #[arg(short, long, value_enum, default_value_t = Output::Text)]
    pub output: Output,
}

fn print_diags(diags: &[Diagnostic]) {
    for d in diags {
        eprintln!("{d}");
    }
}

pub fn run(args: Args) -> ExitCode {
    let mut loaded = Loaded::default();
    for p in &args.paths {
        loaded.extend(load_path(p));
    }
    let load_errors: Vec<Diagnostic> = loaded
        .diagnostics
        .iter()
        .filter(|d| d.is_error())
        .cloned()
        .collect();
    if loaded.unreadable || !load_errors.is_empty() {
        print_diags(&load_errors);
        eprintln!("error: the input cannot be loaded");
        return ExitCode::from(2);
    }
    let opts = EngineOptions {
        default_namespace: args.namespace.clone(),
        gateway: args.gateway.clone(),
    };
    let engine = match Engine::compile(loaded.resources(), &opts) {
        Ok(e) => e,
        Err(errs) => {
            print_diags(&errs);
            eprintln!(
                "error: the rules cannot be compiled ({} error(s))",
                errs.len()
            );
            return ExitCode::from(2);
        }
    };

    let mut headers: Vec<(String, String)> = Vec::new();
    for h in &args.headers {
        match h.split_once(':') {
            Some((k, v)) if !k.trim().is_empty() => {
                headers.push((k.trim().to_ascii_lowercase(), v.trim().to_owned()))
            }
            _ => {
                eprintln!("error: header {h:?} is not `NAME: VALUE`");
                return ExitCode::from(2);
            }
        }
    }
    let mut labels: Vec<(&str, &str)> = Vec::new();
    for l in &args.source_labels {
        match l.split_once('=') {
            Some((k, v)) => labels.push((k, v)),
            None => {
                eprintln!("error: source label {l:?} is not `KEY=VALUE`");
                return ExitCode::from(2);
            }
        }
    }
    let source_ns = args.source_namespace.as_deref().unwrap_or(&args.namespace);
    let mut req = Request::new(&args.method, &args.host, &args.path)
        .with_headers(&headers)
        .with_scheme(&args.scheme)
        .with_source(&labels, Some(source_ns));
    req.port = args.port;

    let explanation = engine.explain(&req);
    let routed = explanation.decision.is_match();
    match args.output {
        Output::Json => {
            let mut v = serde_json::to_value(&explanation).unwrap_or_default();
            if let Some(obj) = v.as_object_mut() {
                obj.insert(
                    "warnings".into(),
                    serde_json::to_value(engine.warnings()).unwrap_or_default(),
                );
            }
            println!("{}", serde_json::to_string_pretty(&v).unwrap_or_default());
        }
        Output::Text => {
            print!("{}", explanation.to_text());
            for w in engine.warnings() {
                println!("{w}");
            }
        }
    }
    if routed {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    }
}
