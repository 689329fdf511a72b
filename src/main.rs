//! The `meshroute` command line: `analyze`, `simulate` and `render` Istio traffic
//! rules offline, with the same model the Envoy filter and the editor use.

use clap::{Parser, Subcommand, ValueEnum};
use std::io::IsTerminal;
use std::path::PathBuf;
use std::process::ExitCode;

mod analyze;
mod render;
mod simulate;

#[derive(Parser)]
#[command(
    name = "meshroute",
    version,
    about = "Author, analyze, simulate and render Istio traffic rules without running Istio"
)]
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
    /// Write an Envoy v3 bootstrap for the rules: listeners, clusters from ServiceEntries and
    /// DestinationRules, and the meshroute Wasm filter (or native Envoy routes with --native).
    Render {
        /// Listener ADDR:PORT (with --gateway, listeners use ADDR with the servers' ports).
        #[arg(long, default_value = meshroute_model::envoy::DEFAULT_LISTEN)]
        listen: String,
        /// Envoy admin address.
        #[arg(long, default_value = meshroute_model::envoy::DEFAULT_ADMIN)]
        admin: String,
        /// The filter's .wasm [default: target/wasm32-wasip1/release/meshroute_filter.wasm].
        #[arg(long)]
        wasm: Option<PathBuf>,
        /// Play this Istio Gateway (NAMESPACE/NAME) instead of a sidecar.
        #[arg(long, value_name = "NS/NAME")]
        gateway: Option<String>,
        /// Translate VirtualServices to native Envoy routes (no Wasm).
        #[arg(long)]
        native: bool,
        /// Namespace of resources that do not name one, and of the proxy.
        #[arg(short, long, default_value = "default")]
        namespace: String,
        /// Output format.
        #[arg(long, value_enum, default_value = "yaml")]
        format: render::Format,
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
        Command::Render {
            listen,
            admin,
            wasm,
            gateway,
            native,
            namespace,
            format,
            paths,
        } => render::run(render::Args {
            listen,
            admin,
            wasm,
            gateway,
            native,
            namespace,
            format,
            paths,
        }),
        Command::Simulate(args) => simulate::run(args),
    }
}
