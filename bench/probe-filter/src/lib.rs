//! Probe filter of `bench-filter --probe`: the no-op filter plus the meshroute filter's
//! per-request host operations, cumulatively, chosen by the plugin configuration (a plain
//! string):
//!
//! - `headers`: read every request header (`get_map_bytes`, as the meshroute filter does)
//!   and convert the values to `String`s;
//! - `cluster`: `headers` + set the cluster header (the client does not send it);
//! - `retry`: `cluster` + set the three headers of Istio's default retry policy that meshroute
//!   sets for a rule without `retries` (`x-envoy-max-retries`, `x-envoy-retry-on`,
//!   `x-envoy-retriable-status-codes`): the router then runs with retries enabled;
//! - `metric`: `retry` + format the request metric's tagged name, look its id up in a
//!   `HashMap` and increment it.
//!
//! The remaining difference to the meshroute filter is the engine decision, the plan and the
//! filter's own bookkeeping.

use std::cell::RefCell;
use std::collections::HashMap;
use std::rc::Rc;

use proxy_wasm::hostcalls;
use proxy_wasm::traits::{Context, HttpContext, RootContext};
use proxy_wasm::types::{Action, BufferType, ContextType, LogLevel, MapType, MetricType};

const CLUSTER: &str = "outbound|80||bench.default.svc.cluster.local";

proxy_wasm::main! {{
    proxy_wasm::set_log_level(LogLevel::Warn);
    proxy_wasm::set_root_context(|_| -> Box<dyn RootContext> {
        Box::new(ProbeRoot { level: Rc::new(RefCell::new(0)) })
    });
}}

thread_local! {
    static METRICS: RefCell<HashMap<String, u32>> = RefCell::new(HashMap::new());
}

struct ProbeRoot {
    level: Rc<RefCell<u8>>,
}

impl Context for ProbeRoot {}

impl RootContext for ProbeRoot {
    fn on_configure(&mut self, _plugin_configuration_size: usize) -> bool {
        let raw = hostcalls::get_buffer(BufferType::PluginConfiguration, 0, usize::MAX)
            .ok()
            .flatten()
            .unwrap_or_default();
        let level = match String::from_utf8_lossy(&raw).trim() {
            "headers" => 1,
            "cluster" => 2,
            "retry" => 3,
            "metric" => 4,
            _ => 0,
        };
        *self.level.borrow_mut() = level;
        true
    }

    fn create_http_context(&self, _context_id: u32) -> Option<Box<dyn HttpContext>> {
        Some(Box::new(Probe {
            level: *self.level.borrow(),
        }))
    }

    fn get_type(&self) -> Option<ContextType> {
        Some(ContextType::HttpContext)
    }
}

struct Probe {
    level: u8,
}

impl Context for Probe {}

impl HttpContext for Probe {
    fn on_http_request_headers(&mut self, _num_headers: usize, _end_of_stream: bool) -> Action {
        if self.level >= 1 {
            let headers: Vec<(String, String)> =
                match hostcalls::get_map_bytes(MapType::HttpRequestHeaders) {
                    Ok(m) => m
                        .into_iter()
                        .map(|(k, v)| (k, String::from_utf8_lossy(&v).into_owned()))
                        .collect(),
                    Err(_) => Vec::new(),
                };
            std::hint::black_box(&headers);
        }
        if self.level >= 2 {
            let _ = hostcalls::set_map_value(
                MapType::HttpRequestHeaders,
                "x-meshroute-cluster",
                Some(CLUSTER),
            );
        }
        if self.level >= 3 {
            let ops = [
                ("x-envoy-max-retries", "2"),
                (
                    "x-envoy-retry-on",
                    "connect-failure,refused-stream,unavailable,cancelled,retriable-status-codes",
                ),
                ("x-envoy-retriable-status-codes", "503"),
            ];
            for (k, v) in ops {
                let _ = hostcalls::set_map_value(MapType::HttpRequestHeaders, k, Some(v));
            }
        }
        if self.level >= 4 {
            let name = format!(
                "virtual_service=.={};.;rule=.={};.;destination=.={};.;meshroute_requests_total",
                "default/bench", "r0", CLUSTER
            );
            let id = METRICS.with(|m| m.borrow().get(&name).copied());
            let id = match id {
                Some(id) => Some(id),
                None => hostcalls::define_metric(MetricType::Counter, &name)
                    .ok()
                    .inspect(|&id| {
                        METRICS.with(|m| m.borrow_mut().insert(name.clone(), id));
                    }),
            };
            if let Some(id) = id {
                let _ = hostcalls::increment_metric(id, 1);
            }
        }
        Action::Continue
    }
}
