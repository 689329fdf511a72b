//! `meshroute render`: load the files, render an Envoy bootstrap (shared::envoy), write it
//! to stdout as YAML or JSON; diagnostics go to stderr. Exit 0, 1 (error-level diagnostics,
//! the bootstrap is still written) or 2 (bad options or nothing readable).

use clap::ValueEnum;
use meshroute_model::envoy::{self, RenderOptions};
use meshroute_model::{load_path, Diagnostic, Loaded};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

#[derive(Clone, Copy, ValueEnum, PartialEq, Eq)]
pub enum Format {
    Yaml,
    Json,
}

pub struct Args {
    pub listen: String,
    pub admin: String,
    pub wasm: Option<PathBuf>,
    pub gateway: Option<String>,
    pub native: bool,
    pub namespace: String,
    pub format: Format,
    pub paths: Vec<PathBuf>,
}

/// `path` made absolute (canonical when it exists), so that the bootstrap does not depend on
/// the directory Envoy is started from.
fn absolute(path: &Path) -> PathBuf {
    if path.as_os_str() == "-" {
        return path.to_path_buf();
    }
    std::fs::canonicalize(path)
        .or_else(|_| std::path::absolute(path))
        .unwrap_or_else(|_| path.to_path_buf())
}

/// `target/wasm32-wasip1/release/meshroute_filter.wasm` under the current directory, else
/// next to the `target/` this binary was built into, else the first.
fn default_wasm() -> PathBuf {
    let here = absolute(Path::new(envoy::DEFAULT_WASM));
    if here.is_file() {
        return here;
    }
    let built = std::env::current_exe().ok().and_then(|exe| {
        let target = exe.parent()?.parent()?;
        Some(target.join("wasm32-wasip1/release/meshroute_filter.wasm"))
    });
    match built {
        Some(p) if p.is_file() => p,
        _ => here,
    }
}

pub fn run(args: Args) -> ExitCode {
    // With --gateway the listeners take the servers' ports: an address alone is enough.
    let listen = match envoy::parse_address(&args.listen) {
        Err(_) if args.gateway.is_some() && !args.listen.contains(':') => {
            envoy::parse_address(&format!("{}:0", args.listen))
        }
        other => other,
    };
    let (listen_address, listen_port) = match listen {
        Ok(a) => a,
        Err(e) => return usage(&format!("--listen: {e}")),
    };
    let (admin_address, admin_port) = match envoy::parse_address(&args.admin) {
        Ok(a) => a,
        Err(e) => return usage(&format!("--admin: {e}")),
    };
    if let Some(g) = &args.gateway {
        if g.is_empty() || g.split('/').count() > 2 || g.split('/').any(str::is_empty) {
            return usage(&format!("--gateway {g:?}: expected NAMESPACE/NAME or NAME"));
        }
    }
    let wasm = match &args.wasm {
        Some(w) => absolute(w),
        None => default_wasm(),
    };
    if !args.native && !wasm.is_file() {
        eprintln!(
            "note: {} does not exist yet (build it with `cargo build --release -p meshroute-filter --target wasm32-wasip1`, or pass --wasm); Envoy needs it to start",
            wasm.display()
        );
    }

    let mut loaded = Loaded::default();
    for p in &args.paths {
        loaded.extend(load_path(&absolute(p)));
    }
    if loaded.unreadable && loaded.documents.is_empty() {
        print_diagnostics(&loaded.diagnostics);
        return ExitCode::from(2);
    }

    let opts = RenderOptions {
        listen_address,
        listen_port,
        admin_address,
        admin_port,
        wasm_path: wasm.to_string_lossy().into_owned(),
        gateway: args.gateway,
        native: args.native,
        namespace: args.namespace,
        ..RenderOptions::default()
    };
    let rendered = envoy::render(loaded.resources(), &opts);
    let out = match args.format {
        Format::Json => {
            serde_json::to_string_pretty(&rendered.bootstrap).unwrap_or_default() + "\n"
        }
        Format::Yaml => meshroute_model::yaml::to_yaml(&rendered.bootstrap),
    };
    print!("{out}");

    // Load problems that matter here (syntax, wrong types, unreadable); unknown kinds and
    // fields (info) are noise for render.
    let load_diags: Vec<Diagnostic> = loaded
        .diagnostics
        .into_iter()
        .filter(|d| d.level != meshroute_model::Level::Info)
        .collect();
    print_diagnostics(&load_diags);
    print_diagnostics(&rendered.diagnostics);
    if load_diags
        .iter()
        .chain(&rendered.diagnostics)
        .any(Diagnostic::is_error)
    {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    }
}

fn print_diagnostics(diags: &[Diagnostic]) {
    for d in diags {
        eprintln!("{d}");
    }
}

fn usage(msg: &str) -> ExitCode {
    eprintln!("meshroute render: {msg}");
    ExitCode::from(2)
}
