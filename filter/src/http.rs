//! The filter's behaviour over an abstract [`Host`]: the proxy-wasm adapter (`wasm.rs`)
//! implements it with fallible hostcalls, the tests with a recording mock.
//!
//! * [`RootLogic`]: configuration (compile or refuse) and the tick that ends fault delays.
//! * [`HttpLogic`]: one request — strip control headers, decide, plan, act.
//!
//! Per-worker state ([`Shared`]) is behind `Rc<RefCell<…>>`: a Wasm VM is single-threaded,
//! and no borrow is held across a host call.

use std::borrow::Cow;
use std::cell::RefCell;
use std::collections::HashMap;
use std::rc::Rc;
use std::time::Duration;

use meshroute_model::engine::{FnvBuild, Request, SplitMix64};

use crate::config::{compile, describe, Compiled};
use crate::headers::HeaderBlock;
use crate::metrics::{metric_name, Metric};
use crate::plan::{
    control_headers, labels, plan, shadow_headers, HeaderOp, Labels, LocalReply, Outcome,
    PlanSettings,
};
use crate::timers::{DelayQueue, Nanos, Tick};

/// Largest request body copied for mirrors; bigger requests are not mirrored.
pub const MAX_MIRROR_BODY: usize = 1 << 20;

/// Status of the reply when the filter cannot enforce the rules (no configuration, headers
/// unreadable): the request is refused rather than forwarded unrouted (fail closed).
pub const REFUSED_STATUS: u32 = 503;

/// Body of that reply.
pub const REFUSED_BODY: &str = "meshroute: routing unavailable";

/// Timeout of a mirror call when the route has none.
pub const DEFAULT_MIRROR_TIMEOUT: Duration = Duration::from_secs(30);

/// How long the per-request counter (`meshroute_requests_total`) may lag: increments are
/// added up in the VM and handed to Envoy by the root context's tick at most this long after
/// the first one, saving a host call per request. While requests keep coming, the tick that
/// flushes schedules the next flush itself and the periodic timer runs on untouched, so a
/// period costs one tick, one clock read and one increment per counter; the timer stops
/// after a period without requests. (The delayed, aborted and mirrored counters, one per
/// fault or mirror, are incremented at once.)
pub const COUNTER_FLUSH: Duration = Duration::from_millis(100);

/// Log levels (the host's).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Level {
    Debug,
    Info,
    Warn,
    Error,
    Critical,
}

/// What a callback tells the host.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    Continue,
    Pause,
}

/// A failed host call.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HostError(pub String);

impl std::fmt::Display for HostError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

/// What the filter needs from the proxy. Request-scoped calls apply to the current
/// context: the request whose callback runs, or the one selected with [`Host::enter`].
pub trait Host {
    fn log(&mut self, level: Level, msg: &str);
    /// Host clock, nanoseconds since the epoch.
    fn now(&mut self) -> Nanos;
    /// The request headers, read in place ([`HeaderBlock`]).
    fn request_headers(&mut self) -> Result<HeaderBlock, HostError>;
    fn request_header(&mut self, op: &HeaderOp<'_>) -> Result<(), HostError>;
    fn response_header(&mut self, op: &HeaderOp<'_>) -> Result<(), HostError>;
    /// `size` bytes of the request body buffer from `start`.
    fn request_body(&mut self, start: usize, size: usize) -> Result<Vec<u8>, HostError>;
    /// The port of the listener the request came in on.
    fn listener_port(&mut self) -> Option<u32>;
    fn send_reply(&mut self, reply: &LocalReply) -> Result<(), HostError>;
    /// Fire-and-forget HTTP call to `cluster` that outlives the request.
    fn mirror(
        &mut self,
        cluster: &str,
        headers: &[(String, String)],
        body: Option<&[u8]>,
        timeout: Duration,
    ) -> Result<(), HostError>;
    /// Adds one to the counter with this full name.
    fn increment(&mut self, metric: &str);
    /// The id of the counter with this full name (defined on first use); `None` if the
    /// host refuses it.
    fn metric_id(&mut self, metric: &str) -> Option<u32>;
    /// Adds `by` to the counter with this id (from [`Host::metric_id`]).
    fn increment_id(&mut self, id: u32, by: u64);
    /// (Re)arms the root context's tick timer; zero stops it.
    fn set_tick(&mut self, period: Duration);
    /// From the root context: make request `context_id` current. False if it is gone.
    fn enter(&mut self, context_id: u32) -> bool;
    /// Back to the callback's own context after [`Host::enter`].
    fn leave(&mut self);
    /// Resume the current (paused) request.
    fn resume(&mut self) -> Result<(), HostError>;
}

/// A request held by a fault delay.
#[derive(Debug)]
pub struct Parked {
    /// `None`: continue after the delay; `Some`: answer (an abort after the delay).
    reply: Option<LocalReply>,
    aborted: bool,
    labels: Labels,
    mirror: Option<Rc<RefCell<MirrorState>>>,
}

/// A shadow copy waiting for the request to be forwarded and its body to be complete.
#[derive(Debug)]
pub struct MirrorState {
    clusters: Vec<String>,
    headers: Vec<(String, String)>,
    labels: Labels,
    timeout: Duration,
    body: Vec<u8>,
    body_done: bool,
    released: bool,
    fired: bool,
    overflow: bool,
}

/// Per-worker state shared by the root context and its requests.
#[derive(Debug)]
pub struct Shared {
    pub config: Option<Rc<Compiled>>,
    pub rng: SplitMix64,
    pub delays: DelayQueue,
    pub parked: HashMap<u32, Parked, FnvBuild>,
    /// Request-counter increments not yet handed to the host, by metric id
    /// (see [`COUNTER_FLUSH`]).
    pub counts: HashMap<u32, u64, FnvBuild>,
}

pub type SharedRef = Rc<RefCell<Shared>>;

impl Shared {
    pub fn new(seed: u64) -> SharedRef {
        Rc::new(RefCell::new(Shared {
            config: None,
            rng: SplitMix64(seed),
            delays: DelayQueue::new(),
            parked: HashMap::default(),
            counts: HashMap::default(),
        }))
    }
}

/// Adds one to counter `id` in the VM and makes sure a flush is scheduled (the host clock is
/// read only when none is).
fn count(shared: &SharedRef, host: &mut impl Host, id: u32) {
    let scheduled = {
        let mut sh = shared.borrow_mut();
        *sh.counts.entry(id).or_insert(0) += 1;
        sh.delays.flush_scheduled()
    };
    if !scheduled {
        let now = host.now();
        let tick = shared
            .borrow_mut()
            .delays
            .schedule_flush(now, COUNTER_FLUSH);
        apply_tick(host, tick);
    }
}

/// Hands every batched counter increment to the host.
fn flush_counts(shared: &SharedRef, host: &mut impl Host) {
    let counts = std::mem::take(&mut shared.borrow_mut().counts);
    for (id, n) in counts {
        host.increment_id(id, n);
    }
}

fn apply_tick(host: &mut impl Host, tick: Tick) {
    match tick {
        Tick::Keep => {}
        Tick::Arm(p) => host.set_tick(p),
        Tick::Stop => host.set_tick(Duration::ZERO),
    }
}

/// Sends the shadow copies once the request is forwarded and its body complete.
fn fire(m: &Rc<RefCell<MirrorState>>, host: &mut impl Host) {
    let (clusters, headers, body, labels, timeout) = {
        let mut st = m.borrow_mut();
        if st.fired || !st.released || !st.body_done {
            return;
        }
        st.fired = true;
        if st.overflow {
            drop(st);
            host.log(
                Level::Debug,
                "meshroute: request body too large to mirror; mirror skipped",
            );
            return;
        }
        (
            std::mem::take(&mut st.clusters),
            std::mem::take(&mut st.headers),
            std::mem::take(&mut st.body),
            st.labels.clone(),
            st.timeout,
        )
    };
    let body = (!body.is_empty()).then_some(body.as_slice());
    for c in &clusters {
        match host.mirror(c, &headers, body, timeout) {
            Ok(()) => host.increment(&metric_name(Metric::Mirrored, &labels, Some(c))),
            Err(e) => host.log(
                Level::Warn,
                &format!("meshroute: mirror to {c} failed: {e}"),
            ),
        }
    }
}

/// The root context: configuration and delays.
pub struct RootLogic {
    pub shared: SharedRef,
}

impl RootLogic {
    /// Compiles `raw`; on any error logs every diagnostic and returns false (Envoy then
    /// rejects the configuration; the previous one, if any, stays).
    pub fn configure(&self, host: &mut impl Host, raw: &[u8]) -> bool {
        match compile(raw) {
            Ok(c) => {
                for w in &c.warnings {
                    host.log(Level::Warn, &format!("meshroute: warning: {}", describe(w)));
                }
                host.log(
                    Level::Info,
                    &format!(
                        "meshroute {}: configured {} resources (gateway {}, namespace {}, cluster header {}{})",
                        crate::VERSION,
                        c.resources,
                        c.settings.gateway,
                        c.settings.namespace,
                        c.settings.cluster_header,
                        match &c.sticky {
                            Some(s) => format!(", sticky {s:?}"),
                            None => String::new(),
                        }
                    ),
                );
                self.shared.borrow_mut().config = Some(Rc::new(c));
                true
            }
            Err(diags) => {
                for d in &diags {
                    host.log(
                        Level::Error,
                        &format!("meshroute: configuration rejected: {}", describe(d)),
                    );
                }
                host.log(
                    Level::Error,
                    &format!(
                        "meshroute: configuration rejected with {} error(s); nothing applied",
                        diags.len()
                    ),
                );
                false
            }
        }
    }

    /// The plugin is going away (VM shutdown or configuration removal): hands over the
    /// batched counters so no request goes uncounted.
    pub fn done(&self, host: &mut impl Host) {
        flush_counts(&self.shared, host);
    }

    /// Ends the delays that are due (resumes each request, or sends its abort) and, when it
    /// is due, flushes the batched counters.
    pub fn tick(&self, host: &mut impl Host) {
        let now = host.now();
        let (flush, due, tick) = {
            let mut sh = self.shared.borrow_mut();
            let flush = sh.delays.take_flush(now);
            if flush && !sh.counts.is_empty() {
                // Traffic in the last period: the next flush keeps the timer running.
                sh.delays.reschedule_flush(now, COUNTER_FLUSH);
            }
            let (due, tick) = sh.delays.pop_due(now);
            (flush, due, tick)
        };
        apply_tick(host, tick);
        if flush {
            flush_counts(&self.shared, host);
        }
        let mut entered = false;
        for id in due {
            let parked = self.shared.borrow_mut().parked.remove(&id);
            let Some(p) = parked else {
                continue; // the request went away meanwhile
            };
            if !host.enter(id) {
                continue;
            }
            entered = true;
            match &p.reply {
                Some(reply) => {
                    if p.aborted {
                        host.increment(&metric_name(Metric::Aborted, &p.labels, None));
                    }
                    if let Err(e) = host.send_reply(reply) {
                        host.log(Level::Warn, &format!("meshroute: cannot answer: {e}"));
                    }
                }
                None => {
                    if let Err(e) = host.resume() {
                        host.log(Level::Warn, &format!("meshroute: cannot resume: {e}"));
                    }
                    if let Some(m) = &p.mirror {
                        m.borrow_mut().released = true;
                        fire(m, host);
                    }
                }
            }
        }
        if entered {
            host.leave();
        }
    }
}

/// One request.
pub struct HttpLogic {
    id: u32,
    shared: SharedRef,
    config: Option<Rc<Compiled>>,
    response_ops: Vec<HeaderOp<'static>>,
    /// The last body callback paused while delayed: the host accumulates the body.
    buffering: bool,
    /// Bytes of the accumulated body already copied for mirrors.
    seen: usize,
    mirror: Option<Rc<RefCell<MirrorState>>>,
}

impl HttpLogic {
    pub fn new(id: u32, shared: SharedRef) -> HttpLogic {
        let config = shared.borrow().config.clone();
        HttpLogic {
            id,
            shared,
            config,
            response_ops: Vec::new(),
            buffering: false,
            seen: 0,
            mirror: None,
        }
    }

    fn parked(&self) -> bool {
        self.shared.borrow().parked.contains_key(&self.id)
    }

    pub fn on_request_headers(&mut self, host: &mut impl Host, end_of_stream: bool) -> Verdict {
        let Some(cfg) = self.config.clone() else {
            // Fail closed: continuing would let the client's own cluster header (or none)
            // pick the destination, bypassing every rule.
            host.log(
                Level::Error,
                "meshroute: no configuration; request refused (503)",
            );
            return self.refuse(host);
        };
        let block = match host.request_headers() {
            Ok(h) => h,
            Err(e) => {
                // Fail closed: without the headers the client's control headers cannot be
                // stripped nor the rules applied.
                host.log(
                    Level::Error,
                    &format!("meshroute: cannot read request headers: {e}; request refused (503)"),
                );
                return self.refuse(host);
            }
        };
        let headers = block.pairs();
        let ch = cfg.settings.cluster_header.as_str();
        let stripped = control_headers(&headers, ch);
        for name in &stripped {
            if let Err(e) = host.request_header(&HeaderOp::Remove(name.into())) {
                host.log(
                    Level::Warn,
                    &format!("meshroute: cannot remove {name}: {e}"),
                );
            }
        }
        let port = if cfg.is_gateway() {
            host.listener_port()
        } else {
            None
        };
        let mut req =
            Request::from_headers(&headers).with_source(&[], Some(cfg.settings.namespace.as_str()));
        if let Some(p) = port {
            req = req.with_port(p);
        }
        let decision = cfg.engine.decide(&req);
        let settings = PlanSettings {
            cluster_header: ch,
            sticky: cfg.sticky.as_ref(),
        };
        let mut plan = {
            let mut sh = self.shared.borrow_mut();
            plan(&decision, &req, &settings, &mut sh.rng)
        };
        // The request counter's id, cached per (rule, destination) in the configuration:
        // the tagged name is formatted only the first time.
        let cached = cfg.metric_id(&plan.key);
        let id = cached.or_else(|| {
            let name = metric_name(
                Metric::Requests,
                &labels(&decision, &plan.destination),
                None,
            );
            let id = host.metric_id(&name)?;
            cfg.cache_metric_id(plan.key, id);
            Some(id)
        });
        if let Some(id) = id {
            count(&self.shared, host, id);
        }

        if plan.outcome == Outcome::Forward {
            // The client sent no cluster header (nearly always): add ours rather than
            // replace, which spares Envoy a search of the header map for one to remove.
            let sent = stripped.iter().any(|s| s.eq_ignore_ascii_case(ch));
            for op in &plan.request_ops {
                let add;
                let op = match op {
                    HeaderOp::Set(k, v) if !sent && k.eq_ignore_ascii_case(ch) => {
                        add = HeaderOp::Add(Cow::Borrowed(k.as_ref()), Cow::Borrowed(v.as_ref()));
                        &add
                    }
                    _ => op,
                };
                if let Err(e) = host.request_header(op) {
                    host.log(Level::Warn, &format!("meshroute: cannot apply {op:?}: {e}"));
                }
            }
            if !plan.mirrors.is_empty() {
                let original: Vec<(String, String)> = headers
                    .iter()
                    .filter(|(k, _)| !stripped.iter().any(|s| s.eq_ignore_ascii_case(k)))
                    .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
                    .collect();
                self.mirror = Some(Rc::new(RefCell::new(MirrorState {
                    clusters: plan.mirrors.iter().map(|c| c.to_string()).collect(),
                    headers: shadow_headers(&original, &plan.request_ops, ch),
                    labels: labels(&decision, &plan.destination),
                    timeout: plan
                        .timeout
                        .filter(|t| !t.is_zero())
                        .unwrap_or(DEFAULT_MIRROR_TIMEOUT),
                    body: Vec::new(),
                    body_done: end_of_stream,
                    released: false,
                    fired: false,
                    overflow: false,
                })));
            }
            self.response_ops = std::mem::take(&mut plan.response_ops)
                .into_iter()
                .map(HeaderOp::into_owned)
                .collect();
        }

        if let Some(delay) = plan.delay {
            let labels = labels(&decision, &plan.destination);
            host.increment(&metric_name(Metric::Delayed, &labels, None));
            let now = host.now();
            let deadline = now.saturating_add(delay.as_nanos().min(u128::from(u64::MAX)) as u64);
            let reply = match plan.outcome {
                Outcome::Reply(r) => Some(r),
                Outcome::Forward => None,
            };
            let tick = {
                let mut sh = self.shared.borrow_mut();
                sh.parked.insert(
                    self.id,
                    Parked {
                        reply,
                        aborted: plan.aborted,
                        labels,
                        mirror: self.mirror.clone(),
                    },
                );
                sh.delays.push(now, deadline, self.id)
            };
            apply_tick(host, tick);
            return Verdict::Pause;
        }
        match plan.outcome {
            Outcome::Reply(reply) => {
                if plan.aborted {
                    let labels = labels(&decision, &plan.destination);
                    host.increment(&metric_name(Metric::Aborted, &labels, None));
                }
                if let Err(e) = host.send_reply(&reply) {
                    host.log(Level::Error, &format!("meshroute: cannot answer: {e}"));
                }
                Verdict::Pause
            }
            Outcome::Forward => {
                if let Some(m) = &self.mirror {
                    m.borrow_mut().released = true;
                    fire(m, host);
                }
                Verdict::Continue
            }
        }
    }

    /// Answers 503 when the filter cannot enforce the rules (fail closed).
    fn refuse(&mut self, host: &mut impl Host) -> Verdict {
        let reply = LocalReply {
            status: REFUSED_STATUS,
            headers: Vec::new(),
            body: Some(REFUSED_BODY.as_bytes().to_vec()),
            grpc_status: None,
        };
        if let Err(e) = host.send_reply(&reply) {
            host.log(Level::Error, &format!("meshroute: cannot answer: {e}"));
        }
        Verdict::Pause
    }

    pub fn on_request_body(
        &mut self,
        host: &mut impl Host,
        body_size: usize,
        end_of_stream: bool,
    ) -> Verdict {
        let parked = self.parked();
        // While paused the host keeps accumulating the body and shows all of it each time;
        // after a resume it shows new data only.
        let start = if self.buffering && parked {
            self.seen
        } else {
            0
        };
        if let Some(m) = self.mirror.clone() {
            let mut st = m.borrow_mut();
            if !st.fired && !st.body_done {
                if body_size > start && !st.overflow {
                    let n = body_size - start;
                    if st.body.len() + n > MAX_MIRROR_BODY {
                        st.overflow = true;
                        st.body = Vec::new();
                    } else {
                        match host.request_body(start, n) {
                            Ok(b) => st.body.extend_from_slice(&b),
                            Err(e) => {
                                host.log(Level::Warn, &format!("meshroute: cannot read body: {e}"));
                                st.overflow = true;
                            }
                        }
                    }
                }
                st.body_done = end_of_stream;
            }
            drop(st);
            if end_of_stream {
                fire(&m, host);
            }
        }
        if parked {
            self.buffering = true;
            self.seen = body_size;
            Verdict::Pause
        } else {
            self.buffering = false;
            self.seen = 0;
            Verdict::Continue
        }
    }

    pub fn on_request_trailers(&mut self, host: &mut impl Host) -> Verdict {
        if let Some(m) = self.mirror.clone() {
            let done = {
                let mut st = m.borrow_mut();
                let was = st.body_done;
                st.body_done = true;
                !was
            };
            if done {
                fire(&m, host);
            }
        }
        if self.parked() {
            Verdict::Pause
        } else {
            Verdict::Continue
        }
    }

    pub fn on_response_headers(&mut self, host: &mut impl Host) -> Verdict {
        for op in &self.response_ops {
            if let Err(e) = host.response_header(op) {
                host.log(
                    Level::Warn,
                    &format!("meshroute: cannot apply {op:?} to the response: {e}"),
                );
            }
        }
        Verdict::Continue
    }

    /// The request is over (or reset): forget any pending delay.
    pub fn on_done(&mut self) {
        let mut sh = self.shared.borrow_mut();
        if !sh.parked.is_empty() {
            sh.parked.remove(&self.id);
        }
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use serde_json::json;

    /// A recorded mirror call: cluster, headers, body.
    pub type MirrorCall = (String, Vec<(String, String)>, Option<Vec<u8>>);

    /// Records every host call.
    #[derive(Debug, Default)]
    pub struct Mock {
        pub now: Nanos,
        pub current: u32,
        pub headers: HashMap<u32, Vec<(String, String)>>,
        pub response_headers: HashMap<u32, Vec<(String, String)>>,
        pub bodies: HashMap<u32, Vec<u8>>,
        pub replies: Vec<(u32, LocalReply)>,
        pub resumed: Vec<(u32, Nanos)>,
        pub mirrors: Vec<MirrorCall>,
        pub metrics: HashMap<String, u64>,
        /// Names of the counters defined with `metric_id`, by id.
        pub metric_names: Vec<String>,
        pub tick: Option<Duration>,
        pub logs: Vec<(Level, String)>,
        pub gone: Vec<u32>,
        pub port: Option<u32>,
        /// The host's serialized header map (`Some`: returned as is, e.g. malformed).
        pub raw_headers: Option<Vec<u8>>,
    }

    impl Mock {
        pub fn header(&self, id: u32, name: &str) -> Option<&str> {
            self.headers
                .get(&id)?
                .iter()
                .find(|(k, _)| k == name)
                .map(|(_, v)| v.as_str())
        }
        pub fn count(&self, needle: &str) -> u64 {
            self.metrics
                .iter()
                .filter(|(k, _)| k.contains(needle))
                .map(|(_, v)| v)
                .sum()
        }
    }

    impl Host for Mock {
        fn log(&mut self, level: Level, msg: &str) {
            self.logs.push((level, msg.to_owned()));
        }
        fn now(&mut self) -> Nanos {
            self.now
        }
        fn request_headers(&mut self) -> Result<HeaderBlock, HostError> {
            if let Some(raw) = &self.raw_headers {
                return HeaderBlock::parse(raw.clone()).map_err(HostError);
            }
            let h = self.headers.get(&self.current).cloned().unwrap_or_default();
            Ok(HeaderBlock::from_pairs(&h))
        }
        fn request_header(&mut self, op: &HeaderOp<'_>) -> Result<(), HostError> {
            let h = self.headers.entry(self.current).or_default();
            crate::plan::apply_ops(h, std::slice::from_ref(op));
            Ok(())
        }
        fn response_header(&mut self, op: &HeaderOp<'_>) -> Result<(), HostError> {
            let h = self.response_headers.entry(self.current).or_default();
            crate::plan::apply_ops(h, std::slice::from_ref(op));
            Ok(())
        }
        fn request_body(&mut self, start: usize, size: usize) -> Result<Vec<u8>, HostError> {
            let b = self.bodies.get(&self.current).cloned().unwrap_or_default();
            b.get(start..start + size)
                .map(<[u8]>::to_vec)
                .ok_or_else(|| HostError("out of range".into()))
        }
        fn listener_port(&mut self) -> Option<u32> {
            self.port
        }
        fn send_reply(&mut self, reply: &LocalReply) -> Result<(), HostError> {
            self.replies.push((self.current, reply.clone()));
            Ok(())
        }
        fn mirror(
            &mut self,
            cluster: &str,
            headers: &[(String, String)],
            body: Option<&[u8]>,
            _timeout: Duration,
        ) -> Result<(), HostError> {
            self.mirrors.push((
                cluster.to_owned(),
                headers.to_vec(),
                body.map(<[u8]>::to_vec),
            ));
            Ok(())
        }
        fn increment(&mut self, metric: &str) {
            *self.metrics.entry(metric.to_owned()).or_default() += 1;
        }
        fn metric_id(&mut self, metric: &str) -> Option<u32> {
            let id = match self.metric_names.iter().position(|m| m == metric) {
                Some(i) => i,
                None => {
                    self.metric_names.push(metric.to_owned());
                    self.metric_names.len() - 1
                }
            };
            u32::try_from(id).ok()
        }
        fn increment_id(&mut self, id: u32, by: u64) {
            let name = self.metric_names[id as usize].clone();
            *self.metrics.entry(name).or_default() += by;
        }
        fn set_tick(&mut self, period: Duration) {
            self.tick = (!period.is_zero()).then_some(period);
        }
        fn enter(&mut self, context_id: u32) -> bool {
            if self.gone.contains(&context_id) {
                return false;
            }
            self.current = context_id;
            true
        }
        fn leave(&mut self) {
            self.current = 0;
        }
        fn resume(&mut self) -> Result<(), HostError> {
            self.resumed.push((self.current, self.now));
            Ok(())
        }
    }

    const MS: u64 = 1_000_000;

    pub fn setup(resources: serde_json::Value) -> (RootLogic, Mock) {
        let raw = serde_json::to_vec(&json!({"resources": resources})).unwrap();
        let root = RootLogic {
            shared: Shared::new(7),
        };
        let mut host = Mock::default();
        assert!(root.configure(&mut host, &raw), "{:?}", host.logs);
        (root, host)
    }

    fn request(host: &mut Mock, id: u32, headers: &[(&str, &str)]) {
        host.current = id;
        host.headers.insert(
            id,
            headers
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect(),
        );
    }

    fn vs(spec: serde_json::Value) -> serde_json::Value {
        json!([{"apiVersion": "networking.istio.io/v1", "kind": "VirtualService",
                "metadata": {"name": "ratings", "namespace": "default"}, "spec": spec}])
    }

    #[test]
    fn the_cluster_header_is_added_once_whether_or_not_the_client_sent_one() {
        let (root, mut host) = setup(vs(json!({"hosts": ["ratings"], "http": [
            {"match": [{"headers": {"end-user": {"exact": "jason"}}}],
             "route": [{"destination": {"host": "ratings", "subset": "v2"}}]},
            {"route": [{"destination": {"host": "ratings", "subset": "v1"}}]}]})));
        let filler: Vec<(String, String)> = (0..30)
            .map(|i| (format!("x-filler-{i}"), i.to_string()))
            .collect();
        for (id, cluster_sent) in [(3, false), (4, true)] {
            let mut h: Vec<(&str, &str)> = vec![(":authority", "ratings"), (":path", "/")];
            h.extend(filler.iter().map(|(k, v)| (k.as_str(), v.as_str())));
            if cluster_sent {
                h.push(("x-meshroute-cluster", "outbound|80|v9|evil"));
            }
            h.push(("end-user", "jason"));
            request(&mut host, id, &h);
            let mut f = HttpLogic::new(id, root.shared.clone());
            assert_eq!(f.on_request_headers(&mut host, true), Verdict::Continue);
            let clusters: Vec<&str> = host.headers[&id]
                .iter()
                .filter(|(k, _)| k == "x-meshroute-cluster")
                .map(|(_, v)| v.as_str())
                .collect();
            assert_eq!(
                clusters,
                ["outbound|80|v2|ratings.default.svc.cluster.local"],
                "client sent one: {cluster_sent}"
            );
        }
    }

    #[test]
    fn routes_and_strips_client_control_headers() {
        let (root, mut host) = setup(vs(json!({"hosts": ["ratings"], "http": [
            {"route": [{"destination": {"host": "ratings", "subset": "v1"}}],
             "headers": {"response": {"set": {"x-served-by": "meshroute"}}}}]})));
        let mut f = HttpLogic::new(2, root.shared.clone());
        request(
            &mut host,
            2,
            &[
                (":authority", "ratings"),
                (":path", "/"),
                (":method", "GET"),
                ("x-meshroute-cluster", "outbound|80|v2|evil"),
                ("x-envoy-fault-abort-request", "500"),
            ],
        );
        assert_eq!(f.on_request_headers(&mut host, true), Verdict::Continue);
        assert_eq!(
            host.header(2, "x-meshroute-cluster"),
            Some("outbound|80|v1|ratings.default.svc.cluster.local")
        );
        assert_eq!(host.header(2, "x-envoy-fault-abort-request"), None);
        assert_eq!(f.on_response_headers(&mut host), Verdict::Continue);
        assert_eq!(
            host.response_headers[&2],
            vec![("x-served-by".to_owned(), "meshroute".to_owned())]
        );
        // The request counter is batched: nothing reaches the host until the flush tick,
        // which the first request scheduled.
        assert_eq!(host.count("meshroute_requests_total"), 0);
        assert_eq!(host.tick, Some(COUNTER_FLUSH));
        host.now += COUNTER_FLUSH.as_nanos() as u64;
        root.tick(&mut host);
        assert_eq!(host.count("meshroute_requests_total"), 1);
        // There was traffic: the periodic timer runs on for the next flush...
        assert_eq!(host.tick, Some(COUNTER_FLUSH));
        host.now += COUNTER_FLUSH.as_nanos() as u64;
        root.tick(&mut host);
        // ...and after an idle period, with nothing left to wait for, it is switched off.
        assert_eq!(host.count("meshroute_requests_total"), 1);
        assert_eq!(host.tick, None, "nothing left to wait for: timer off");
    }

    #[test]
    fn batched_request_counts_are_flushed_by_the_tick_and_when_done() {
        let (root, mut host) = setup(vs(json!({"hosts": ["ratings"], "http": [
            {"route": [{"destination": {"host": "ratings"}}]}]})));
        let send = |host: &mut Mock, id: u32| {
            let mut f = HttpLogic::new(id, root.shared.clone());
            request(host, id, &[(":authority", "ratings"), (":path", "/")]);
            assert_eq!(f.on_request_headers(host, true), Verdict::Continue);
        };
        for id in 1..=10 {
            send(&mut host, id);
        }
        assert_eq!(host.count("meshroute_requests_total"), 0);
        // An early tick (before the flush is due) hands over nothing.
        host.now += 50 * MS;
        root.tick(&mut host);
        assert_eq!(host.count("meshroute_requests_total"), 0);
        host.now += 50 * MS;
        root.tick(&mut host);
        assert_eq!(host.count("meshroute_requests_total"), 10);
        // Counts after a flush schedule the next one; VM shutdown hands over the rest.
        for id in 11..=13 {
            send(&mut host, id);
        }
        assert_eq!(host.tick, Some(COUNTER_FLUSH));
        root.done(&mut host);
        assert_eq!(host.count("meshroute_requests_total"), 13);
    }

    #[test]
    fn request_counters_by_cached_id_keep_their_labels() {
        let (root, mut host) = setup(vs(json!({"hosts": ["ratings"], "http": [
            {"name": "split", "match": [{"headers": {"x": {"exact": "split"}}}],
             "route": [{"destination": {"host": "ratings", "subset": "a"}, "weight": 50},
                       {"destination": {"host": "ratings", "subset": "b"}, "weight": 50}]},
            {"redirect": {"uri": "/moved"}}]})));
        let mut split = HashMap::<String, u64>::new();
        for id in 100..300 {
            let mut f = HttpLogic::new(id, root.shared.clone());
            request(&mut host, id, &[(":authority", "ratings"), ("x", "split")]);
            f.on_request_headers(&mut host, true);
            let c = host.header(id, "x-meshroute-cluster").unwrap().to_owned();
            *split.entry(c).or_default() += 1;
        }
        for id in 300..305 {
            let mut f = HttpLogic::new(id, root.shared.clone());
            request(&mut host, id, &[(":authority", "ratings"), (":path", "/")]);
            assert_eq!(f.on_request_headers(&mut host, true), Verdict::Pause);
        }
        root.done(&mut host); // hand over the batched counts
        let name = |rule: &str, dest: &str| {
            format!("virtual_service=.=default/ratings;.;rule=.={rule};.;destination=.={dest};.;meshroute_requests_total")
        };
        for (cluster, n) in &split {
            assert_eq!(
                host.metrics.get(&name("split", cluster)),
                Some(n),
                "{host:?}"
            );
        }
        assert_eq!(split.len(), 2);
        assert_eq!(host.metrics.get(&name("1", "redirect")), Some(&5));
        assert_eq!(host.metric_names.len(), 3, "one id per (rule, destination)");
        assert_eq!(
            root.shared
                .borrow()
                .config
                .as_ref()
                .unwrap()
                .metric_ids
                .lock()
                .unwrap()
                .len(),
            3
        );
    }

    #[test]
    fn concurrent_delays_resume_at_their_deadlines() {
        let (root, mut host) = setup(vs(json!({"hosts": ["ratings"], "http": [
            {"match": [{"headers": {"d": {"exact": "300"}}}],
             "fault": {"delay": {"fixedDelay": "300ms", "percentage": {"value": 100}}},
             "route": [{"destination": {"host": "ratings"}}]},
            {"match": [{"headers": {"d": {"exact": "100"}}}],
             "fault": {"delay": {"fixedDelay": "100ms", "percentage": {"value": 100}},
                       "abort": {"httpStatus": 418, "percentage": {"value": 100}}},
             "route": [{"destination": {"host": "ratings"}}]}]})));
        let mut a = HttpLogic::new(10, root.shared.clone());
        request(&mut host, 10, &[(":authority", "ratings"), ("d", "300")]);
        assert_eq!(a.on_request_headers(&mut host, true), Verdict::Pause);
        // The first request's count scheduled the counter flush (100 ms), earlier than the
        // 300 ms delay: the timer is armed for the flush.
        assert_eq!(host.tick, Some(COUNTER_FLUSH));

        host.now = 50 * MS;
        let mut b = HttpLogic::new(11, root.shared.clone());
        request(&mut host, 11, &[(":authority", "ratings"), ("d", "100")]);
        assert_eq!(b.on_request_headers(&mut host, true), Verdict::Pause);
        assert_eq!(
            host.tick,
            Some(COUNTER_FLUSH),
            "the 150 ms deadline is after the armed 100 ms tick: kept"
        );
        assert!(host.replies.is_empty(), "abort waits for the delay");

        host.now = 100 * MS;
        root.tick(&mut host);
        assert_eq!(host.count("meshroute_requests_total"), 2, "flushed");
        assert!(host.replies.is_empty() && host.resumed.is_empty());
        assert_eq!(
            host.tick,
            Some(Duration::from_millis(50)),
            "re-armed for the earlier delay"
        );

        host.now = 150 * MS;
        root.tick(&mut host);
        assert_eq!(host.replies.len(), 1);
        assert_eq!(host.replies[0].0, 11);
        assert_eq!(host.replies[0].1.status, 418);
        assert!(host.resumed.is_empty());
        // Next: the flush rescheduled at 200 ms (there were counts at 100 ms), 50 ms away,
        // the timer's period already.
        assert_eq!(host.tick, Some(Duration::from_millis(50)));

        host.now = 300 * MS;
        root.tick(&mut host);
        assert_eq!(host.resumed, vec![(10, 300 * MS)]);
        assert_eq!(host.tick, None, "timer stopped when nothing waits");
        assert_eq!(host.count("meshroute_delayed_total"), 2);
        assert_eq!(host.count("meshroute_aborted_total"), 1);
    }

    #[test]
    fn a_request_that_goes_away_is_not_resumed() {
        let (root, mut host) = setup(vs(json!({"hosts": ["ratings"], "http": [
            {"fault": {"delay": {"fixedDelay": "10ms", "percentage": {"value": 100}}},
             "route": [{"destination": {"host": "ratings"}}]}]})));
        let mut a = HttpLogic::new(3, root.shared.clone());
        request(&mut host, 3, &[(":authority", "ratings")]);
        assert_eq!(a.on_request_headers(&mut host, true), Verdict::Pause);
        a.on_done();
        host.now = 20 * MS;
        root.tick(&mut host);
        assert!(host.resumed.is_empty());
    }

    #[test]
    fn mirror_with_body_after_delay() {
        let (root, mut host) = setup(vs(json!({"hosts": ["ratings"], "http": [
            {"fault": {"delay": {"fixedDelay": "10ms", "percentage": {"value": 100}}},
             "mirror": {"host": "shadow", "port": {"number": 8080}},
             "route": [{"destination": {"host": "ratings"}}]}]})));
        let mut a = HttpLogic::new(4, root.shared.clone());
        request(
            &mut host,
            4,
            &[
                (":authority", "ratings:80"),
                (":method", "POST"),
                (":path", "/p"),
                ("content-length", "6"),
            ],
        );
        assert_eq!(a.on_request_headers(&mut host, false), Verdict::Pause);
        host.bodies.insert(4, b"abc".to_vec());
        assert_eq!(a.on_request_body(&mut host, 3, false), Verdict::Pause);
        // Paused: the host shows the accumulated body.
        host.bodies.insert(4, b"abcdef".to_vec());
        assert_eq!(a.on_request_body(&mut host, 6, true), Verdict::Pause);
        assert!(host.mirrors.is_empty(), "not forwarded yet");
        host.now = 10 * MS;
        root.tick(&mut host);
        assert_eq!(host.resumed.len(), 1);
        assert_eq!(host.mirrors.len(), 1);
        let (cluster, headers, body) = &host.mirrors[0];
        assert_eq!(cluster, "outbound|8080||shadow.default.svc.cluster.local");
        assert!(headers.contains(&(":authority".into(), "ratings-shadow:80".into())));
        assert!(!headers
            .iter()
            .any(|(k, _)| k == "content-length" || k == "x-meshroute-cluster"));
        assert_eq!(body.as_deref(), Some(&b"abcdef"[..]));
        assert_eq!(host.count("meshroute_mirrored_total"), 1);
    }

    #[test]
    fn mirror_streams_body_without_pausing() {
        let (root, mut host) = setup(vs(json!({"hosts": ["ratings"], "http": [
            {"mirror": {"host": "shadow"}, "route": [{"destination": {"host": "ratings"}}]}]})));
        let mut a = HttpLogic::new(5, root.shared.clone());
        request(
            &mut host,
            5,
            &[(":authority", "ratings"), (":method", "PUT")],
        );
        assert_eq!(a.on_request_headers(&mut host, false), Verdict::Continue);
        host.bodies.insert(5, b"12".to_vec());
        assert_eq!(a.on_request_body(&mut host, 2, false), Verdict::Continue);
        host.bodies.insert(5, b"34".to_vec());
        assert_eq!(a.on_request_body(&mut host, 2, true), Verdict::Continue);
        assert_eq!(host.mirrors.len(), 1);
        assert_eq!(host.mirrors[0].2.as_deref(), Some(&b"1234"[..]));
    }

    #[test]
    fn without_configuration_requests_are_refused_not_forwarded() {
        let root = RootLogic {
            shared: Shared::new(1),
        };
        let mut host = Mock::default();
        let mut f = HttpLogic::new(9, root.shared.clone());
        request(
            &mut host,
            9,
            &[
                (":authority", "ratings"),
                ("x-meshroute-cluster", "outbound|80|v2|evil"),
            ],
        );
        assert_eq!(f.on_request_headers(&mut host, true), Verdict::Pause);
        assert_eq!(host.replies.len(), 1);
        assert_eq!(host.replies[0].1.status, REFUSED_STATUS);
    }

    #[test]
    fn a_malformed_header_map_is_refused_not_routed() {
        let (root, mut host) = setup(vs(json!({"hosts": ["ratings"], "http": [
            {"route": [{"destination": {"host": "ratings"}}]}]})));
        let mut f = HttpLogic::new(4, root.shared.clone());
        host.current = 4;
        // One header whose value runs past the end of the buffer.
        host.raw_headers = Some(vec![1, 0, 0, 0, 10, 0, 0, 0, 200, 0, 0, 0, b'k', 0]);
        assert_eq!(f.on_request_headers(&mut host, true), Verdict::Pause);
        assert_eq!(host.replies.len(), 1);
        assert_eq!(host.replies[0].1.status, REFUSED_STATUS);
        assert_eq!(host.header(4, "x-meshroute-cluster"), None);
        assert!(
            host.logs
                .iter()
                .any(|(l, m)| *l == Level::Error && m.contains("malformed header map")),
            "{:?}",
            host.logs
        );
    }

    #[test]
    fn bad_configuration_is_refused_with_reasons() {
        let root = RootLogic {
            shared: Shared::new(1),
        };
        let mut host = Mock::default();
        let raw = serde_json::to_vec(&json!({"resources": vs(json!({"hosts": ["ratings"], "http": [
            {"match": [{"uri": {"regex": "(["}}], "route": [{"destination": {"host": "ratings"}}]}]}))}))
        .unwrap();
        assert!(!root.configure(&mut host, &raw));
        assert!(root.shared.borrow().config.is_none());
        let errors: Vec<&String> = host
            .logs
            .iter()
            .filter(|(l, _)| *l == Level::Error)
            .map(|(_, m)| m)
            .collect();
        assert!(errors.len() >= 2, "{errors:?}");
        assert!(
            errors[0].contains("VirtualService default/ratings")
                && errors[0].contains("spec.http[0].match[0].uri"),
            "{errors:?}"
        );
    }
}

#[cfg(test)]
mod per_request_profile {
    //! Not a test of behaviour: a loop of the bench's prefix/N request (match at the last of
    //! `MESHROUTE_PROFILE_RULES` prefix rules, default 1) through the filter with the mock
    //! host, for `valgrind --tool=callgrind` on the test binary (BENCHMARKS.md, "Where D − C
    //! goes"). `cargo test --release -p meshroute-filter --lib -- --ignored per_request_loop`.
    use super::tests::setup;
    use super::*;
    use serde_json::json;

    fn env(name: &str, default: u32) -> u32 {
        std::env::var(name)
            .ok()
            .and_then(|v| v.parse().ok())
            .unwrap_or(default)
    }

    #[test]
    #[ignore = "profiling loop, run by hand under callgrind"]
    fn per_request_loop() {
        let rules = env("MESHROUTE_PROFILE_RULES", 1).max(1);
        let n = env("MESHROUTE_PROFILE_N", 10_000);
        let http: Vec<_> = (0..rules)
            .map(|i| {
                let host = if i + 1 == rules { "bench" } else { "decoy" };
                json!({"name": format!("r{i}"), "match": [{"uri": {"prefix": format!("/r{i}/")}}],
                       "route": [{"destination": {"host": host}}]})
            })
            .collect();
        let entry = |name: &str| {
            json!({"apiVersion": "networking.istio.io/v1", "kind": "ServiceEntry",
                   "metadata": {"name": name, "namespace": "default"},
                   "spec": {"hosts": [format!("{name}.default.svc.cluster.local")],
                            "ports": [{"number": 80, "protocol": "HTTP", "name": "http"}],
                            "location": "MESH_INTERNAL", "resolution": "STATIC",
                            "endpoints": [{"address": "127.0.0.1"}]}})
        };
        let (root, mut host) = setup(json!([
            {"apiVersion": "networking.istio.io/v1", "kind": "VirtualService",
             "metadata": {"name": "bench", "namespace": "default"},
             "spec": {"hosts": ["bench"], "http": http}},
            entry("bench"),
            entry("decoy")]));
        let path = format!("/r{}/items/42", rules - 1);
        let headers: Vec<(String, String)> = [
            (":authority", "bench"),
            (":path", path.as_str()),
            (":method", "GET"),
            (":scheme", "http"),
            ("x-forwarded-proto", "http"),
            ("x-request-id", "6f1e7d55-2a1c-4bd2-9d47-8e0f3f0f2c11"),
        ]
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
        for id in 1..=n {
            host.current = id;
            host.headers.insert(id, headers.clone());
            let mut f = HttpLogic::new(id, root.shared.clone());
            assert_eq!(f.on_request_headers(&mut host, true), Verdict::Continue);
            assert_eq!(
                host.header(id, "x-meshroute-cluster"),
                Some("outbound|80||bench.default.svc.cluster.local")
            );
            f.on_response_headers(&mut host);
            f.on_done();
            host.headers.remove(&id);
        }
        root.done(&mut host);
        assert_eq!(host.count("meshroute_requests_total"), u64::from(n));
    }
}
