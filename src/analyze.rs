//! `meshroute analyze`: load, check, print like istioctl, exit 0/1/2.

use crate::Output;
use meshroute_model::check::{check, CheckOptions};
use meshroute_model::lint::hint_for;
use meshroute_model::{load_path, Diagnostic, Level, Loaded};
use std::path::PathBuf;
use std::process::ExitCode;

pub fn run(paths: &[PathBuf], namespace: &str, output: Output, color: bool) -> ExitCode {
    let mut loaded = Loaded::default();
    for p in paths {
        loaded.extend(load_path(p));
    }
    let opts = CheckOptions {
        default_namespace: namespace.to_owned(),
    };
    let diags = check(&loaded, &opts);
    match output {
        Output::Json => {
            let body = serde_json::json!({ "diagnostics": diags });
            println!(
                "{}",
                serde_json::to_string_pretty(&body).unwrap_or_default()
            );
        }
        Output::Text => print_text(&diags, color),
    }
    if loaded.unreadable && loaded.documents.is_empty() {
        ExitCode::from(2)
    } else if diags.iter().any(Diagnostic::is_error) {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    }
}

fn print_text(diags: &[Diagnostic], color: bool) {
    let paint = |level: Level, s: &str| -> String {
        if !color {
            return s.to_owned();
        }
        let code = match level {
            Level::Error => "31;1",
            Level::Warning => "33;1",
            Level::Info => "36",
        };
        format!("\x1b[{code}m{s}\x1b[0m")
    };
    for d in diags {
        let line = d.to_string();
        let title = d.level.title();
        let rest = line.strip_prefix(title).unwrap_or(&line);
        println!("{}{}", paint(d.level, title), rest);
        if let Some(hint) = hint_for(&d.code) {
            println!("    hint: {hint}");
        }
    }
    let count = |l: Level| diags.iter().filter(|d| d.level == l).count();
    let (e, w, i) = (
        count(Level::Error),
        count(Level::Warning),
        count(Level::Info),
    );
    if diags.is_empty() {
        println!("\u{2714} No validation issues found when analyzing the given files.");
    } else {
        println!("{e} error(s), {w} warning(s), {i} info message(s).");
    }
}
