//! The matching engine: VirtualServices (+ DestinationRules) compiled once into a
//! matcher, evaluated per request with Istio's first-match-wins semantics. Shared
//! by the Envoy filter, `meshroute simulate` and the editor's request simulator.
