//! `#[derive(FromValue)]` for `meshroute-model`'s types.
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

fn expand(input: &DeriveInput) -> syn::Result<TokenStream2> {
    let name = &input.ident;
    let Data::Struct(data) = &input.data else {
        return Err(syn::Error::new_spanned(
            name,
            "FromValue derive: structs only (implement enums by hand)",
        ));
    };
    let Fields::Named(fields) = &data.fields else {
        return Err(syn::Error::new_spanned(
            name,
            "FromValue derive: named fields only",
        ));
    };
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
