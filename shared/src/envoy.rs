//! Envoy configuration rendering (`meshroute render`): bootstrap, listeners,
//! clusters from ServiceEntries/WorkloadEntries and DestinationRules, the wasm
//! filter, and native Envoy routes for `--native`.
