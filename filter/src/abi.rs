//! The proxy-wasm ABI 0.2.1 host functions the filter calls, declared here so that every
//! status the host returns becomes a `Result` (wasm only).
//!
//! proxy-wasm 0.2.5's `hostcalls::*` return `Result`, but each one `panic!`s on any status
//! it does not expect (`set_map_value`, `resume_http_request`, `send_http_response`,
//! `increment_metric`, … only expect `Ok`), and a panic kills the VM: every request on the
//! worker then fails until Envoy reloads it. These wrappers call the same imports and map
//! every status to [`Status`]. Request headers are returned as one buffer
//! ([`HeaderBlock`]) instead of one `String` per name and value.
//!
//! Not wrapped: `proxy_http_call` (mirrors), because the SDK's dispatcher must register the
//! call's token to route its response; its wrapper already returns the statuses Envoy's
//! `httpCall` produces (`BadArgument`, `InternalFailure`).
#![allow(unsafe_code)]

use std::ptr::{null, null_mut};

use proxy_wasm::types::{BufferType, LogLevel, MapType, MetricType, StreamType};

use crate::headers::HeaderBlock;

/// A host call's non-`Ok` status (the ABI's numbering).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Status(pub u32);

impl std::fmt::Display for Status {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let name = match self.0 {
            1 => "NotFound",
            2 => "BadArgument",
            7 => "SerializationFailure",
            8 => "ParseFailure",
            10 => "InternalFailure",
            12 => "Unimplemented",
            _ => "status",
        };
        write!(f, "{name} ({})", self.0)
    }
}

const OK: u32 = 0;
const NOT_FOUND: u32 = 1;

#[link(wasm_import_module = "env")]
extern "C" {
    fn proxy_log(level: u32, message_data: *const u8, message_size: usize) -> u32;
    fn proxy_get_current_time_nanoseconds(return_time: *mut u64) -> u32;
    fn proxy_set_tick_period_milliseconds(period: u32) -> u32;
    fn proxy_set_effective_context(context_id: u32) -> u32;
    fn proxy_get_header_map_pairs(
        map_type: u32,
        return_map_data: *mut *mut u8,
        return_map_size: *mut usize,
    ) -> u32;
    fn proxy_replace_header_map_value(
        map_type: u32,
        key: *const u8,
        key_size: usize,
        value: *const u8,
        value_size: usize,
    ) -> u32;
    fn proxy_add_header_map_value(
        map_type: u32,
        key: *const u8,
        key_size: usize,
        value: *const u8,
        value_size: usize,
    ) -> u32;
    fn proxy_remove_header_map_value(map_type: u32, key_data: *const u8, key_size: usize) -> u32;
    fn proxy_get_buffer_bytes(
        buffer_type: u32,
        start: usize,
        max_size: usize,
        return_buffer_data: *mut *mut u8,
        return_buffer_size: *mut usize,
    ) -> u32;
    fn proxy_get_property(
        path_data: *const u8,
        path_size: usize,
        return_value_data: *mut *mut u8,
        return_value_size: *mut usize,
    ) -> u32;
    fn proxy_continue_stream(stream_type: u32) -> u32;
    #[allow(clippy::too_many_arguments)]
    fn proxy_send_local_response(
        status_code: u32,
        status_code_details_data: *const u8,
        status_code_details_size: usize,
        body_data: *const u8,
        body_size: usize,
        headers_data: *const u8,
        headers_size: usize,
        grpc_status: i32,
    ) -> u32;
    fn proxy_define_metric(
        metric_type: u32,
        name_data: *const u8,
        name_size: usize,
        return_id: *mut u32,
    ) -> u32;
    fn proxy_increment_metric(metric_id: u32, offset: i64) -> u32;
}

fn check(status: u32) -> Result<(), Status> {
    if status == OK {
        Ok(())
    } else {
        Err(Status(status))
    }
}

/// Takes ownership of a buffer the host allocated with `proxy_on_memory_allocate`.
fn host_buffer(data: *mut u8, size: usize) -> Vec<u8> {
    if data.is_null() {
        return Vec::new();
    }
    // SAFETY: the host allocated `size` bytes at `data` through the SDK's
    // `proxy_on_memory_allocate` (a boxed `[u8]` of exactly `size` bytes, alignment 1) and
    // hands ownership to the caller; this is what the SDK's own `hostcalls` do.
    unsafe { Vec::from_raw_parts(data, size, size) }
}

/// A host-allocated result: the buffer on `Ok`, `None` on `NotFound`.
fn found(status: u32, data: *mut u8, size: usize) -> Result<Option<Vec<u8>>, Status> {
    match status {
        OK => Ok(Some(host_buffer(data, size))),
        NOT_FOUND => Ok(None),
        s => Err(Status(s)),
    }
}

/// Logs `msg` (best effort is up to the caller).
pub fn log(level: LogLevel, msg: &str) -> Result<(), Status> {
    // SAFETY: pointer and length of a live `&str`.
    check(unsafe { proxy_log(level as u32, msg.as_ptr(), msg.len()) })
}

/// The host clock, nanoseconds since the Unix epoch.
pub fn now_nanos() -> Result<u64, Status> {
    let mut t: u64 = 0;
    // SAFETY: `t` is a valid `u64` out-pointer for the call's duration.
    check(unsafe { proxy_get_current_time_nanoseconds(&mut t) })?;
    Ok(t)
}

/// Arms (or with 0, stops) the effective root context's tick timer.
pub fn set_tick_period_ms(period: u32) -> Result<(), Status> {
    // SAFETY: plain value arguments.
    check(unsafe { proxy_set_tick_period_milliseconds(period) })
}

/// Makes later calls apply to `context_id` (`BadArgument`: that context is gone).
pub fn set_effective_context(context_id: u32) -> Result<(), Status> {
    // SAFETY: plain value arguments.
    check(unsafe { proxy_set_effective_context(context_id) })
}

/// A header map as one buffer, read in place.
pub fn header_map(map: MapType) -> Result<HeaderBlock, Status> {
    let mut data: *mut u8 = null_mut();
    let mut size: usize = 0;
    // SAFETY: valid out-pointers for the call's duration.
    check(unsafe { proxy_get_header_map_pairs(map as u32, &mut data, &mut size) })?;
    // 8 = SerializationFailure: the buffer was not in the ABI's map format.
    HeaderBlock::parse(host_buffer(data, size)).map_err(|_| Status(8))
}

/// The signature shared by `proxy_replace_header_map_value` and `proxy_add_header_map_value`.
type MapValueCall = unsafe extern "C" fn(u32, *const u8, usize, *const u8, usize) -> u32;

fn map_value(call: MapValueCall, map: MapType, key: &str, value: &str) -> Result<(), Status> {
    // SAFETY: an ABI import called with the pointers and lengths of live `&str`s.
    check(unsafe {
        call(
            map as u32,
            key.as_ptr(),
            key.len(),
            value.as_ptr(),
            value.len(),
        )
    })
}

/// Sets (replaces) header `key`.
pub fn set_header(map: MapType, key: &str, value: &str) -> Result<(), Status> {
    map_value(proxy_replace_header_map_value, map, key, value)
}

/// Adds a value to header `key`.
pub fn add_header(map: MapType, key: &str, value: &str) -> Result<(), Status> {
    map_value(proxy_add_header_map_value, map, key, value)
}

/// Removes header `key`.
pub fn remove_header(map: MapType, key: &str) -> Result<(), Status> {
    // SAFETY: pointer and length of a live `&str`.
    check(unsafe { proxy_remove_header_map_value(map as u32, key.as_ptr(), key.len()) })
}

/// Up to `max` bytes of a buffer from `start` (`None`: the host has no such buffer).
pub fn buffer(kind: BufferType, start: usize, max: usize) -> Result<Option<Vec<u8>>, Status> {
    let mut data: *mut u8 = null_mut();
    let mut size: usize = 0;
    // SAFETY: valid out-pointers for the call's duration.
    let status = unsafe { proxy_get_buffer_bytes(kind as u32, start, max, &mut data, &mut size) };
    found(status, data, size)
}

/// A property by path (`None`: not found).
pub fn property(path: &[&str]) -> Result<Option<Vec<u8>>, Status> {
    // The ABI's property path: the parts joined by NUL.
    let serialized = path.join("\0");
    let mut data: *mut u8 = null_mut();
    let mut size: usize = 0;
    // SAFETY: pointer and length of a live buffer; valid out-pointers.
    let status =
        unsafe { proxy_get_property(serialized.as_ptr(), serialized.len(), &mut data, &mut size) };
    found(status, data, size)
}

/// Resumes the paused request.
pub fn resume_request() -> Result<(), Status> {
    // SAFETY: plain value arguments.
    check(unsafe { proxy_continue_stream(StreamType::HttpRequest as u32) })
}

/// Answers the request locally. For a gRPC reply (`grpc_status: Some`), Envoy sends HTTP
/// 200 with that `grpc-status` and `body` as the `grpc-message` (as the SDK's
/// `send_grpc_response` does).
pub fn send_local_response(
    status: u32,
    headers: &[(&str, &str)],
    body: Option<&[u8]>,
    grpc_status: Option<i32>,
) -> Result<(), Status> {
    let h = HeaderBlock::serialize(headers);
    let (body_ptr, body_len) = body.map_or((null(), 0), |b| (b.as_ptr(), b.len()));
    // SAFETY: pointers and lengths of live buffers (or null with length 0).
    check(unsafe {
        proxy_send_local_response(
            status,
            null(),
            0,
            body_ptr,
            body_len,
            h.as_ptr(),
            h.len(),
            grpc_status.unwrap_or(-1),
        )
    })
}

/// Defines (or finds) a metric; its id.
pub fn define_metric(kind: MetricType, name: &str) -> Result<u32, Status> {
    let mut id: u32 = 0;
    // SAFETY: pointer and length of a live `&str`; a valid out-pointer.
    check(unsafe { proxy_define_metric(kind as u32, name.as_ptr(), name.len(), &mut id) })?;
    Ok(id)
}

/// Adds `by` to a counter.
pub fn increment_metric(id: u32, by: i64) -> Result<(), Status> {
    // SAFETY: plain value arguments.
    check(unsafe { proxy_increment_metric(id, by) })
}
