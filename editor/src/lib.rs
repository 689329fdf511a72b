//! meshroute-editor: a Leptos client-side app to build, validate, simulate and
//! export Istio traffic YAML. All model logic comes from `meshroute-model`.
