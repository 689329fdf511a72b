//! `#[derive(FromValue)]` and `#[derive(ToValue)]` for `meshroute-model`'s types.
//!
//! Generates `impl crate::model::decode::FromValue` for a struct with named fields from the
//! `#[serde(...)]` attributes it already carries, so that the derived decoder reads exactly
//! the JSON field names `serde` does:
//!
//! - container: `rename_all = "camelCase"` (the only rule the model uses);
//! - field: `rename = "..."`, `default`, `flatten` (the `extra` map: every key the struct
//!   does not know), `deserialize_with = "path"` (called with the field's `Value`).
//!
//! The decoder takes the `Value` by value, matches each key of the object against the known
//! names, and pushes the key onto the error path when a field fails, so a wrong type is
//! reported with its field path without `serde_path_to_error` and without the buffered
//! `Content` deserialization `#[serde(flatten)]` costs.

use proc_macro::TokenStream;
use proc_macro2::TokenStream as TokenStream2;
use quote::quote;
use syn::{parse_macro_input, Data, DeriveInput, Fields, LitStr};

#[proc_macro_derive(FromValue, attributes(serde))]
pub fn derive_from_value(input: TokenStream) -> TokenStream {
    let input = parse_macro_input!(input as DeriveInput);
    match expand(&input) {
        Ok(ts) => ts.into(),
        Err(e) => e.to_compile_error().into(),
    }
}

#[derive(Default)]
struct FieldAttrs {
    rename: Option<String>,
    default: bool,
    flatten: bool,
    deserialize_with: Option<syn::ExprPath>,
}

fn field_attrs(attrs: &[syn::Attribute]) -> syn::Result<FieldAttrs> {
    let mut out = FieldAttrs::default();
    for attr in attrs.iter().filter(|a| a.path().is_ident("serde")) {
        attr.parse_nested_meta(|meta| {
            if meta.path.is_ident("rename") {
                out.rename = Some(meta.value()?.parse::<LitStr>()?.value());
            } else if meta.path.is_ident("default") {
                out.default = true;
                if meta.input.peek(syn::Token![=]) {
                    return Err(meta.error("FromValue: `default = \"...\"` is not supported"));
                }
            } else if meta.path.is_ident("flatten") {
                out.flatten = true;
            } else if meta.path.is_ident("deserialize_with") {
                let s = meta.value()?.parse::<LitStr>()?;
                out.deserialize_with = Some(s.parse()?);
            } else if meta.path.is_ident("alias") || meta.path.is_ident("with") {
                return Err(meta.error("FromValue: this serde attribute is not supported"));
            } else if meta.input.peek(syn::Token![=]) {
                // serialize-only attributes (skip_serializing_if, serialize_with): ignore.
                let _: syn::Expr = meta.value()?.parse()?;
            }
            Ok(())
        })?;
    }
    Ok(out)
}

fn rename_all(attrs: &[syn::Attribute]) -> syn::Result<Option<String>> {
    let mut out = None;
    for attr in attrs.iter().filter(|a| a.path().is_ident("serde")) {
        attr.parse_nested_meta(|meta| {
            if meta.path.is_ident("rename_all") {
                let rule = meta.value()?.parse::<LitStr>()?.value();
                if rule != "camelCase" {
                    return Err(meta.error("FromValue: only rename_all = \"camelCase\""));
                }
                out = Some(rule);
            } else if meta.path.is_ident("deny_unknown_fields")
                || meta.path.is_ident("untagged")
                || meta.path.is_ident("tag")
            {
                return Err(meta.error("FromValue: this serde attribute is not supported"));
            } else if meta.input.peek(syn::Token![=]) {
                let _: syn::Expr = meta.value()?.parse()?;
            }
            Ok(())
        })?;
    }
    Ok(out)
}

/// serde's `camelCase` rule for a field name (`export_to` → `exportTo`).
fn camel_case(field: &str) -> String {
    let mut out = String::new();
    let mut upper = false;
    for ch in field.chars() {
        if ch == '_' {
            upper = true;
        } else if upper {
            out.extend(ch.to_uppercase());
            upper = false;
        } else {
            out.push(ch);
        }
    }
    out
}

/// The named fields of the struct `input`; an error naming `derive` for enums, unions and
/// tuple structs.
fn named_fields<'a>(input: &'a DeriveInput, derive: &str) -> syn::Result<&'a syn::FieldsNamed> {
    let Data::Struct(data) = &input.data else {
        return Err(syn::Error::new_spanned(
            &input.ident,
            format!("{derive} derive: structs only (implement enums by hand)"),
        ));
    };
    let Fields::Named(fields) = &data.fields else {
        return Err(syn::Error::new_spanned(
            &input.ident,
            format!("{derive} derive: named fields only"),
        ));
    };
    Ok(fields)
}

fn expand(input: &DeriveInput) -> syn::Result<TokenStream2> {
    let name = &input.ident;
    let fields = named_fields(input, "FromValue")?;
    let camel = rename_all(&input.attrs)?.is_some();
    let expecting = format!("struct {name}");

    let mut locals = Vec::new();
    let mut arms = Vec::new();
    let mut inits = Vec::new();
    let mut flatten: Option<syn::Ident> = None;
    for (i, f) in fields.named.iter().enumerate() {
        let Some(ident) = &f.ident else { continue };
        let attrs = field_attrs(&f.attrs)?;
        let ty = &f.ty;
        if attrs.flatten {
            if flatten.is_some() {
                return Err(syn::Error::new_spanned(
                    f,
                    "FromValue: one flatten field only",
                ));
            }
            flatten = Some(ident.clone());
            continue;
        }
        let raw = ident.to_string();
        let raw = raw.strip_prefix("r#").unwrap_or(&raw).to_owned();
        let key = match attrs.rename {
            Some(r) => r,
            None if camel => camel_case(&raw),
            None => raw,
        };
        let local = syn::Ident::new(&format!("__f{i}"), proc_macro2::Span::call_site());
        locals.push(
            quote! { let mut #local: ::core::option::Option<#ty> = ::core::option::Option::None; },
        );
        let decode = match &attrs.deserialize_with {
            Some(path) => quote! {
                #path(__v).map_err(|e| crate::model::decode::DecodeError::from_json(e).in_key(#key))
            },
            None => quote! { crate::model::decode::field(__v, #key) },
        };
        // On error: remember it and stop, so that the locals are dropped in one place.
        arms.push(quote! {
            #key => match #decode {
                ::core::result::Result::Ok(v) => #local = ::core::option::Option::Some(v),
                ::core::result::Result::Err(e) => {
                    __err = ::core::option::Option::Some(e);
                    break;
                }
            },
        });
        let init = if attrs.default {
            quote! { #ident: #local.unwrap_or_default() }
        } else {
            quote! {
                #ident: match #local {
                    ::core::option::Option::Some(v) => v,
                    ::core::option::Option::None => {
                        return ::core::result::Result::Err(
                            crate::model::decode::DecodeError::missing_field(#key),
                        )
                    }
                }
            }
        };
        inits.push(init);
    }
    let (extra_local, other_arm, extra_init) = match &flatten {
        Some(ident) => (
            quote! { let mut __extra = crate::model::Extra::new(); },
            quote! { _ => { __extra.insert(__k, __v); } },
            quote! { #ident: __extra, },
        ),
        None => (quote! {}, quote! { _ => {} }, quote! {}),
    };
    Ok(quote! {
        impl crate::model::decode::FromValue for #name {
            fn from_value(
                value: ::serde_json::Value,
            ) -> ::core::result::Result<Self, crate::model::decode::DecodeError> {
                let __map = match value {
                    ::serde_json::Value::Object(m) => m,
                    other => {
                        return ::core::result::Result::Err(
                            crate::model::decode::DecodeError::invalid_type(&other, #expecting),
                        )
                    }
                };
                #(#locals)*
                #extra_local
                let mut __err: ::core::option::Option<crate::model::decode::DecodeError> =
                    ::core::option::Option::None;
                for (__k, __v) in __map {
                    match __k.as_str() {
                        #(#arms)*
                        #other_arm
                    }
                }
                if let ::core::option::Option::Some(e) = __err {
                    return ::core::result::Result::Err(e);
                }
                ::core::result::Result::Ok(#name {
                    #(#inits,)*
                    #extra_init
                })
            }
        }
    })
}

/// `#[derive(ToValue)]`: `impl crate::model::encode::ToValue`, the JSON value
/// `serde_json::to_value` gives for the struct's `Serialize` derive, from the same
/// `#[serde(...)]` attributes: `rename_all = "camelCase"`, `rename`, `skip_serializing_if`,
/// `serialize_with` (called with `serde_json`'s value serializer) and `flatten` (the `extra`
/// map, appended after the known fields). Without serde's `Serializer` machinery, which is
/// large in WebAssembly (one `serialize` per type, `FlatMapSerializer` for every `extra`).
#[proc_macro_derive(ToValue, attributes(serde))]
pub fn derive_to_value(input: TokenStream) -> TokenStream {
    let input = parse_macro_input!(input as DeriveInput);
    match expand_to_value(&input) {
        Ok(ts) => ts.into(),
        Err(e) => e.to_compile_error().into(),
    }
}

#[derive(Default)]
struct SerAttrs {
    rename: Option<String>,
    flatten: bool,
    skip_if: Option<syn::ExprPath>,
    serialize_with: Option<syn::ExprPath>,
}

fn ser_attrs(attrs: &[syn::Attribute]) -> syn::Result<SerAttrs> {
    let mut out = SerAttrs::default();
    for attr in attrs.iter().filter(|a| a.path().is_ident("serde")) {
        attr.parse_nested_meta(|meta| {
            if meta.path.is_ident("rename") {
                out.rename = Some(meta.value()?.parse::<LitStr>()?.value());
            } else if meta.path.is_ident("flatten") {
                out.flatten = true;
            } else if meta.path.is_ident("skip_serializing_if") {
                out.skip_if = Some(meta.value()?.parse::<LitStr>()?.parse()?);
            } else if meta.path.is_ident("serialize_with") {
                out.serialize_with = Some(meta.value()?.parse::<LitStr>()?.parse()?);
            } else if meta.path.is_ident("with")
                || meta.path.is_ident("skip")
                || meta.path.is_ident("skip_serializing")
                || meta.path.is_ident("getter")
            {
                return Err(meta.error("ToValue: this serde attribute is not supported"));
            } else if meta.input.peek(syn::Token![=]) {
                // deserialize-only attributes (deserialize_with, ...): ignore.
                let _: syn::Expr = meta.value()?.parse()?;
            }
            Ok(())
        })?;
    }
    Ok(out)
}

fn expand_to_value(input: &DeriveInput) -> syn::Result<TokenStream2> {
    let name = &input.ident;
    let fields = named_fields(input, "ToValue")?;
    let camel = rename_all(&input.attrs)?.is_some();
    let mut puts = Vec::new();
    for f in &fields.named {
        let Some(ident) = &f.ident else { continue };
        let attrs = ser_attrs(&f.attrs)?;
        let put = if attrs.flatten {
            if attrs.serialize_with.is_some() {
                return Err(syn::Error::new_spanned(
                    f,
                    "ToValue: flatten with serialize_with is not supported",
                ));
            }
            quote! { crate::model::encode::put_flat(&mut __m, &self.#ident); }
        } else {
            let raw = ident.to_string();
            let raw = raw.strip_prefix("r#").unwrap_or(&raw).to_owned();
            let key = match attrs.rename {
                Some(r) => r,
                None if camel => camel_case(&raw),
                None => raw,
            };
            match &attrs.serialize_with {
                Some(path) => quote! {
                    __m.insert(
                        ::std::string::String::from(#key),
                        #path(&self.#ident, ::serde_json::value::Serializer)
                            .unwrap_or(::serde_json::Value::Null),
                    );
                },
                None => quote! { crate::model::encode::put(&mut __m, #key, &self.#ident); },
            }
        };
        puts.push(match &attrs.skip_if {
            Some(skip) => quote! { if !#skip(&self.#ident) { #put } },
            None => put,
        });
    }
    Ok(quote! {
        impl crate::model::encode::ToValue for #name {
            fn to_value(&self) -> ::serde_json::Value {
                let mut __m = ::serde_json::Map::new();
                #(#puts)*
                ::serde_json::Value::Object(__m)
            }
        }
    })
}
