//! The `meshroute` command line: `analyze`, `simulate` and `render` Istio traffic
//! rules offline, with the same model the Envoy filter and the editor use.

use clap::{Parser, Subcommand, ValueEnum};
use std::io::IsTerminal;
use std::path::PathBuf;
use std::process::ExitCode;

mod analyze;
mod simulate;

#[derive(Parser)]
#[command(name = "meshroute", version, about = "Author, analyze, simulate and render Istio traffic rules without running Istio")]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Clone, Copy, ValueEnum, PartialEq, Eq)]
pub enum Output {
    Text,
    Json,
}

#[derive(Subcommand)]
enum Command {
    /// Check Istio traffic YAML offline, like `istioctl analyze`, plus meshroute's production lints.
    Analyze {
        /// Output format.
        #[arg(short, long, value_enum, default_value_t = Output::Text)]
        output: Output,
        /// Namespace of resources that do not name one.
        #[arg(short, long, default_value = "default")]
        namespace: String,
        /// Colour: auto (on a terminal), always or never.
        #[arg(long, default_value = "auto")]
        color: String,
        /// Files, directories or `-` for stdin.
        #[arg(required = true)]
        paths: Vec<PathBuf>,
    },
    /// Decide one request like Envoy with Istio's rules: the matched rule, its destinations
    /// (with probabilities and clusters), rewrites, retries, faults, mirrors, and why
    /// earlier rules did not match. Exit 0 routed, 1 no route (404), 2 bad input.
    Simulate(simulate::Args),
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    match cli.command {
        Command::Analyze {
            output,
            namespace,
            color,
            paths,
        } => {
            let color = match color.as_str() {
                "always" => true,
                "never" => false,
                _ => std::io::stdout().is_terminal() && std::env::var_os("NO_COLOR").is_none(),
            };
            analyze::run(&paths, &namespace, output, color)
        }
        Command::Simulate(args) => simulate::run(args),
    }
}
