//! meshroute-filter: a proxy-wasm (ABI 0.2.1) HTTP filter that enforces Istio
//! VirtualService/DestinationRule rules inside stock Envoy.
//!
//! This crate is a thin adapter: all parsing, validation and matching lives in
//! `meshroute-model`; the filter only talks to the host.
//!
//! Current skeleton behaviour (proves the build, the loading in Envoy's V8
//! runtime and route-cache clearing with ABI 0.2.1):
//! * plugin configuration is JSON, see [`FilterConfig`];
//! * on request headers, if `cluster` is configured, the request header named
//!   `cluster_header` (default `x-meshroute-cluster`) is set to it, so an Envoy
//!   route using `cluster_header` sends the request there (Envoy clears the route
//!   cache when a Wasm filter modifies request headers);
//! * on response headers, `x-meshroute: <crate version>` is added.
//!
//! Only the fallible `proxy_wasm::hostcalls::*` functions are used: the SDK's
//! convenience methods (`self.get_plugin_configuration()`, `self.set_http_request_header()`, ...)
//! `unwrap()` host errors and would abort the VM.

pub mod config;

pub use config::{ConfigError, FilterConfig};

/// Crate version, sent in the `x-meshroute` response header.
pub const VERSION: &str = env!("CARGO_PKG_VERSION");

/// Name of the response header that marks responses which went through the filter.
pub const RESPONSE_HEADER: &str = "x-meshroute";

#[cfg(target_family = "wasm")]
mod wasm {
    use super::{FilterConfig, RESPONSE_HEADER, VERSION};
    use proxy_wasm::hostcalls;
    use proxy_wasm::traits::{Context, HttpContext, RootContext};
    use proxy_wasm::types::{Action, BufferType, ContextType, LogLevel, MapType};
    use std::rc::Rc;

    fn log(level: LogLevel, msg: &str) {
        // Logging is best effort: there is nowhere to report a failure to log.
        let _ = hostcalls::log(level, msg);
    }

    proxy_wasm::main! {{
        proxy_wasm::set_log_level(LogLevel::Info);
        proxy_wasm::set_root_context(|_| -> Box<dyn RootContext> {
            Box::new(Root { config: Rc::new(FilterConfig::default()) })
        });
    }}

    struct Root {
        config: Rc<FilterConfig>,
    }

    impl Context for Root {}

    impl RootContext for Root {
        fn on_configure(&mut self, _plugin_configuration_size: usize) -> bool {
            let raw = match hostcalls::get_buffer(BufferType::PluginConfiguration, 0, usize::MAX) {
                Ok(raw) => raw.unwrap_or_default(),
                Err(status) => {
                    log(LogLevel::Error, &format!("meshroute: cannot read plugin configuration: {status:?}"));
                    return false;
                }
            };
            match FilterConfig::from_bytes(&raw) {
                Ok(config) => {
                    log(LogLevel::Info, &format!("meshroute {VERSION}: configured: {config:?}"));
                    self.config = Rc::new(config);
                    true
                }
                Err(err) => {
                    // Returning false makes Envoy reject the plugin (and the listener).
                    log(LogLevel::Error, &format!("meshroute: invalid plugin configuration: {err}"));
                    false
                }
            }
        }

        fn create_http_context(&self, _context_id: u32) -> Option<Box<dyn HttpContext>> {
            Some(Box::new(Http { config: Rc::clone(&self.config) }))
        }

        fn get_type(&self) -> Option<ContextType> {
            Some(ContextType::HttpContext)
        }
    }

    struct Http {
        config: Rc<FilterConfig>,
    }

    impl Context for Http {}

    impl HttpContext for Http {
        fn on_http_request_headers(&mut self, _num_headers: usize, _end_of_stream: bool) -> Action {
            if let Some(cluster) = self.config.cluster.as_deref() {
                let header = self.config.cluster_header.as_str();
                if let Err(status) = hostcalls::set_map_value(MapType::HttpRequestHeaders, header, Some(cluster)) {
                    log(LogLevel::Warn, &format!("meshroute: cannot set {header}: {status:?}"));
                }
            }
            Action::Continue
        }

        fn on_http_response_headers(&mut self, _num_headers: usize, _end_of_stream: bool) -> Action {
            if let Err(status) = hostcalls::set_map_value(MapType::HttpResponseHeaders, RESPONSE_HEADER, Some(VERSION)) {
                log(LogLevel::Warn, &format!("meshroute: cannot set {RESPONSE_HEADER}: {status:?}"));
            }
            Action::Continue
        }
    }
}
