//! The proxy-wasm adapter: contexts that forward to [`RootLogic`]/[`HttpLogic`], and a
//! [`Host`] made of the never-panicking host calls of [`crate::abi`] (the SDK's convenience
//! methods `unwrap()` host errors, and its `hostcalls::*` panic on statuses they do not
//! expect: either would abort the VM).

use std::cell::RefCell;
use std::collections::HashMap;
use std::time::Duration;

use proxy_wasm::hostcalls;
use proxy_wasm::traits::{Context, HttpContext, RootContext};
use proxy_wasm::types::{Action, BufferType, ContextType, LogLevel, MapType, MetricType};

use crate::abi;
use crate::headers::HeaderBlock;
use crate::http::{Host, HostError, HttpLogic, Level, RootLogic, Shared, SharedRef, Verdict};
use crate::plan::{HeaderOp, LocalReply};
use crate::timers::Nanos;

thread_local! {
    /// Metric ids by full name (defined on first use).
    static METRICS: RefCell<HashMap<String, u32>> = RefCell::new(HashMap::new());
}

fn log(level: LogLevel, msg: &str) {
    // Best effort: there is nowhere to report a failure to log.
    let _ = abi::log(level, msg);
}

fn err(what: &str, s: abi::Status) -> HostError {
    HostError(format!("{what}: {s}"))
}

fn seed() -> u64 {
    let mut buf = [0u8; 8];
    match getrandom::fill(&mut buf) {
        Ok(()) => u64::from_le_bytes(buf),
        Err(e) => {
            log(
                LogLevel::Warn,
                &format!("meshroute: getrandom failed ({e}); seeding from the clock"),
            );
            abi::now_nanos().unwrap_or(0x5eed)
        }
    }
}

proxy_wasm::main! {{
    proxy_wasm::set_log_level(LogLevel::Info);
    // Replaces the SDK's hook, which unwraps the log call.
    std::panic::set_hook(Box::new(|info| {
        log(LogLevel::Critical, &format!("meshroute: panic: {info}"));
    }));
    proxy_wasm::set_root_context(|context_id| -> Box<dyn RootContext> {
        Box::new(Root {
            id: context_id,
            logic: RootLogic { shared: Shared::new(seed()) },
        })
    });
}}

/// The host, seen from one context.
struct WasmHost {
    root_id: u32,
    /// The context whose callback is running.
    own_id: u32,
    /// The context host calls currently apply to.
    current: u32,
}

impl WasmHost {
    fn new(root_id: u32, own_id: u32) -> WasmHost {
        WasmHost {
            root_id,
            own_id,
            current: own_id,
        }
    }
}

impl Host for WasmHost {
    fn log(&mut self, level: Level, msg: &str) {
        let level = match level {
            Level::Debug => LogLevel::Debug,
            Level::Info => LogLevel::Info,
            Level::Warn => LogLevel::Warn,
            Level::Error => LogLevel::Error,
            Level::Critical => LogLevel::Critical,
        };
        log(level, msg);
    }

    fn now(&mut self) -> Nanos {
        abi::now_nanos().unwrap_or(0)
    }

    fn request_headers(&mut self) -> Result<HeaderBlock, HostError> {
        abi::header_map(MapType::HttpRequestHeaders).map_err(|s| err("get request headers", s))
    }

    fn request_header(&mut self, op: &HeaderOp<'_>) -> Result<(), HostError> {
        header_op(MapType::HttpRequestHeaders, op)
    }

    fn response_header(&mut self, op: &HeaderOp<'_>) -> Result<(), HostError> {
        header_op(MapType::HttpResponseHeaders, op)
    }

    fn request_body(&mut self, start: usize, size: usize) -> Result<Vec<u8>, HostError> {
        abi::buffer(BufferType::HttpRequestBody, start, size)
            .map(Option::unwrap_or_default)
            .map_err(|s| err("get request body", s))
    }

    fn listener_port(&mut self) -> Option<u32> {
        let bytes = abi::property(&["destination", "port"]).ok()??;
        let arr: [u8; 8] = bytes.get(..8)?.try_into().ok()?;
        u32::try_from(i64::from_le_bytes(arr)).ok()
    }

    fn send_reply(&mut self, reply: &LocalReply) -> Result<(), HostError> {
        let headers: Vec<(&str, &str)> = reply
            .headers
            .iter()
            .map(|(k, v)| (k.as_str(), v.as_str()))
            .collect();
        match reply.grpc_status {
            // HTTP 200 with `grpc-status` (codes past 16 as 2, Unknown) and the body as
            // `grpc-message`, like the SDK's `send_grpc_response`.
            Some(code) => {
                let code = if code <= 16 { code } else { 2 };
                abi::send_local_response(
                    200,
                    &headers,
                    reply.body.as_deref(),
                    i32::try_from(code).ok(),
                )
                .map_err(|s| err("send gRPC response", s))
            }
            None => abi::send_local_response(reply.status, &headers, reply.body.as_deref(), None)
                .map_err(|s| err("send response", s)),
        }
    }

    fn mirror(
        &mut self,
        cluster: &str,
        headers: &[(String, String)],
        body: Option<&[u8]>,
        timeout: Duration,
    ) -> Result<(), HostError> {
        let headers: Vec<(&str, &str)> = headers
            .iter()
            .map(|(k, v)| (k.as_str(), v.as_str()))
            .collect();
        // Dispatched from the root context, so the call is not cancelled when the client's
        // request ends first (Envoy cancels a context's calls when it is destroyed).
        abi::set_effective_context(self.root_id)
            .map_err(|s| err("switch to the root context", s))?;
        // The SDK's call (its dispatcher must register the token); it returns BadArgument
        // and InternalFailure, the statuses Envoy's httpCall produces, as errors.
        let r = hostcalls::dispatch_http_call(cluster, headers, body, Vec::new(), timeout)
            .map(|_| ())
            .map_err(|s| HostError(format!("dispatch: {s:?}")));
        let _ = abi::set_effective_context(self.current);
        r
    }

    fn increment(&mut self, metric: &str) {
        if let Some(id) = self.metric_id(metric) {
            self.increment_id(id, 1);
        }
    }

    fn metric_id(&mut self, metric: &str) -> Option<u32> {
        if let Some(id) = METRICS.with(|m| m.borrow().get(metric).copied()) {
            return Some(id);
        }
        match abi::define_metric(MetricType::Counter, metric) {
            Ok(id) => {
                METRICS.with(|m| m.borrow_mut().insert(metric.to_owned(), id));
                Some(id)
            }
            Err(s) => {
                log(
                    LogLevel::Warn,
                    &format!("meshroute: cannot define metric {metric}: {s}"),
                );
                None
            }
        }
    }

    fn increment_id(&mut self, id: u32, by: u64) {
        let by = i64::try_from(by).unwrap_or(i64::MAX);
        if let Err(s) = abi::increment_metric(id, by) {
            log(
                LogLevel::Debug,
                &format!("meshroute: cannot increment metric {id}: {s}"),
            );
        }
    }

    fn set_tick(&mut self, period: Duration) {
        // The tick timer belongs to the root context.
        let switch = self.current != self.root_id;
        if switch {
            let _ = abi::set_effective_context(self.root_id);
        }
        let ms = u32::try_from(period.as_millis()).unwrap_or(u32::MAX);
        if let Err(s) = abi::set_tick_period_ms(ms) {
            log(
                LogLevel::Error,
                &format!("meshroute: cannot set the tick period: {s}"),
            );
        }
        if switch {
            let _ = abi::set_effective_context(self.current);
        }
    }

    fn enter(&mut self, context_id: u32) -> bool {
        match abi::set_effective_context(context_id) {
            Ok(()) => {
                self.current = context_id;
                true
            }
            Err(_) => false,
        }
    }

    fn leave(&mut self) {
        let _ = abi::set_effective_context(self.own_id);
        self.current = self.own_id;
    }

    fn resume(&mut self) -> Result<(), HostError> {
        abi::resume_request().map_err(|s| err("resume", s))
    }
}

fn header_op(map: MapType, op: &HeaderOp<'_>) -> Result<(), HostError> {
    match op {
        HeaderOp::Set(k, v) => abi::set_header(map, k, v),
        HeaderOp::Add(k, v) => abi::add_header(map, k, v),
        HeaderOp::Remove(k) => abi::remove_header(map, k),
    }
    .map_err(|s| err("header", s))
}

fn action(v: Verdict) -> Action {
    match v {
        Verdict::Continue => Action::Continue,
        Verdict::Pause => Action::Pause,
    }
}

struct Root {
    id: u32,
    logic: RootLogic,
}

impl Context for Root {
    fn on_done(&mut self) -> bool {
        let mut host = WasmHost::new(self.id, self.id);
        self.logic.done(&mut host);
        true
    }
}

impl RootContext for Root {
    fn on_configure(&mut self, _plugin_configuration_size: usize) -> bool {
        let raw = match abi::buffer(BufferType::PluginConfiguration, 0, usize::MAX) {
            Ok(raw) => raw.unwrap_or_default(),
            Err(s) => {
                log(
                    LogLevel::Error,
                    &format!("meshroute: cannot read the plugin configuration: {s}"),
                );
                return false;
            }
        };
        let mut host = WasmHost::new(self.id, self.id);
        self.logic.configure(&mut host, &raw)
    }

    fn on_tick(&mut self) {
        let mut host = WasmHost::new(self.id, self.id);
        self.logic.tick(&mut host);
    }

    fn create_http_context(&self, context_id: u32) -> Option<Box<dyn HttpContext>> {
        Some(Box::new(Http {
            logic: HttpLogic::new(context_id, SharedRef::clone(&self.logic.shared)),
            host: WasmHost::new(self.id, context_id),
        }))
    }

    fn get_type(&self) -> Option<ContextType> {
        Some(ContextType::HttpContext)
    }
}

struct Http {
    logic: HttpLogic,
    host: WasmHost,
}

impl Context for Http {
    fn on_done(&mut self) -> bool {
        self.logic.on_done();
        true
    }
}

impl HttpContext for Http {
    fn on_http_request_headers(&mut self, _num_headers: usize, end_of_stream: bool) -> Action {
        action(self.logic.on_request_headers(&mut self.host, end_of_stream))
    }

    fn on_http_request_body(&mut self, body_size: usize, end_of_stream: bool) -> Action {
        action(
            self.logic
                .on_request_body(&mut self.host, body_size, end_of_stream),
        )
    }

    fn on_http_request_trailers(&mut self, _num_trailers: usize) -> Action {
        action(self.logic.on_request_trailers(&mut self.host))
    }

    fn on_http_response_headers(&mut self, _num_headers: usize, _end_of_stream: bool) -> Action {
        action(self.logic.on_response_headers(&mut self.host))
    }
}
