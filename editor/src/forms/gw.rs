//! The Gateway form: workload selector and servers (port, protocol, hosts, TLS).

use std::sync::Arc;

use leptos::prelude::*;
use meshroute_model::load::Spec;
use meshroute_model::model::{
    Gateway, OptSliceExt, Port, Server, PORT_PROTOCOLS, SERVER_TLS_MODES,
};

use super::widgets::{
    list_text, map_text, opt_list, opt_map, opt_num, opt_str, prune, rows, AreaField, CheckField,
    FieldDiags, NumberField, SelectField, TextField,
};
use super::{edit_spec, spec_memo};
use crate::state::DocId;
use crate::{ctx, Ctx};

#[derive(Clone, Copy)]
struct Gw {
    ctx: Ctx,
    id: DocId,
    gw: Memo<Option<Spec>>,
}

impl Gw {
    fn read<T: Default>(self, f: impl FnOnce(&Gateway) -> T) -> T {
        self.gw.with(|s| match s {
            Some(Spec::Gateway(v)) => f(v),
            _ => T::default(),
        })
    }

    fn server<T: Default>(self, k: usize, f: impl FnOnce(&Server) -> T) -> T {
        self.read(|g| g.servers.items().get(k).map(f).unwrap_or_default())
    }

    fn write(self, key: &str, f: impl FnOnce(&mut Gateway)) {
        edit_spec(
            self.ctx,
            self.id,
            key,
            |s| match s {
                Spec::Gateway(v) => Some(v),
                _ => None,
            },
            f,
        );
    }

    fn write_server(self, k: usize, key: &str, f: impl FnOnce(&mut Server)) {
        self.write(key, |g| {
            if let Some(s) = g.servers.as_mut().and_then(|v| v.get_mut(k)) {
                f(s);
                prune(&mut s.tls);
                prune(&mut s.port);
            }
        });
    }
}

#[component]
pub fn GwForm(id: DocId) -> impl IntoView {
    let ctx = ctx();
    let gw = Gw {
        ctx,
        id,
        gw: spec_memo(ctx, id),
    };
    let n = Memo::new(move |_| gw.read(|g| g.servers.items().len()));
    let add = move |_| {
        gw.write("!add-server", |g| {
            g.servers.get_or_insert_with(Vec::new).push(Server {
                port: Some(Port {
                    number: Some(80),
                    name: Some("http".into()),
                    protocol: Some("HTTP".into()),
                    ..Default::default()
                }),
                hosts: Some(vec!["*".into()]),
                ..Default::default()
            });
        });
    };
    view! {
        <AreaField
            label="Selector (labels of the gateway pods, key: value per line)"
            path="spec.selector"
            value=Arc::new(move || gw.read(|g| map_text(g.selector.as_ref())))
            on_set=Arc::new(move |s: String| gw.write("spec.selector", |g| g.selector = opt_map(&s)))
        />
        <h3>"Servers"</h3>
        <FieldDiags path="spec.servers"/>
        {rows(n, move |k| view! { <ServerCard gw=gw k=k/> }.into_any())}
        <button class="add" data-testid="add-server" on:click=add>"+ Server"</button>
    }
}

#[component]
fn ServerCard(gw: Gw, k: usize) -> impl IntoView {
    let base = format!("spec.servers[{k}]");
    let protocols: Vec<(String, String)> = PORT_PROTOCOLS
        .iter()
        .map(|p| (p.to_string(), p.to_string()))
        .collect();
    let mut tls_modes: Vec<(String, String)> = vec![(String::new(), "(no TLS)".into())];
    tls_modes.extend(
        SERVER_TLS_MODES
            .iter()
            .map(|m| (m.to_string(), m.to_string())),
    );
    view! {
        <div class="card server" data-testid=format!("f-{base}") tabindex="-1" role="group" aria-label=format!("Server {}", k + 1)>
            <div class="card-head">
                <h4>{format!("Server {}", k + 1)}</h4>
                <button class="icon danger" data-testid=format!("del-server-{k}") aria-label=format!("Remove server {}", k + 1)
                    on:click=move |_| gw.write("!del-server", |g| {
                        if let Some(v) = g.servers.as_mut() {
                            if k < v.len() {
                                v.remove(k);
                            }
                        }
                    })>"✕"</button>
            </div>
            <FieldDiags path=base.clone()/>
            <div class="row">
                <NumberField
                    label="Port"
                    path=format!("{base}.port.number")
                    min="1"
                    max="65535"
                    value=Arc::new(move || gw.server(k, |s| s.port.as_ref().and_then(|p| p.number).map(|n| n.to_string()).unwrap_or_default()))
                    on_set=Arc::new(move |v: String| {
                        if let Ok(n) = opt_num::<u32>(&v) {
                            gw.write_server(k, "server-port", |s| s.port.get_or_insert_with(Default::default).number = n);
                        }
                    })
                />
                <TextField
                    label="Port name"
                    path=format!("{base}.port.name")
                    value=Arc::new(move || gw.server(k, |s| s.port.as_ref().and_then(|p| p.name.clone()).unwrap_or_default()))
                    on_set=Arc::new(move |v: String| gw.write_server(k, "server-port-name", |s| s.port.get_or_insert_with(Default::default).name = opt_str(&v)))
                />
                <SelectField
                    label="Protocol"
                    path=format!("{base}.port.protocol")
                    options=protocols
                    value=Arc::new(move || gw.server(k, |s| s.port.as_ref().and_then(|p| p.protocol.clone()).unwrap_or_default()))
                    on_set=Arc::new(move |v: String| gw.write_server(k, "server-protocol", |s| s.port.get_or_insert_with(Default::default).protocol = opt_str(&v)))
                />
            </div>
            <TextField
                label="Hosts (comma-separated, [namespace/]host)"
                path=format!("{base}.hosts")
                value=Arc::new(move || gw.server(k, |s| list_text(s.hosts.as_ref())))
                on_set=Arc::new(move |v: String| gw.write_server(k, "server-hosts", |s| s.hosts = opt_list(&v)))
            />
            <fieldset>
                <legend>"TLS"</legend>
                <SelectField
                    label="Mode"
                    path=format!("{base}.tls.mode")
                    options=tls_modes
                    value=Arc::new(move || gw.server(k, |s| s.tls.as_ref().and_then(|t| t.mode.clone()).unwrap_or_default()))
                    on_set=Arc::new(move |v: String| gw.write_server(k, "server-tls-mode", |s| s.tls.get_or_insert_with(Default::default).mode = opt_str(&v)))
                />
                <TextField
                    label="Credential name (Kubernetes secret)"
                    path=format!("{base}.tls.credentialName")
                    value=Arc::new(move || gw.server(k, |s| s.tls.as_ref().and_then(|t| t.credential_name.clone()).unwrap_or_default()))
                    on_set=Arc::new(move |v: String| gw.write_server(k, "server-credential", |s| s.tls.get_or_insert_with(Default::default).credential_name = opt_str(&v)))
                />
                <CheckField
                    label="Redirect HTTP to HTTPS"
                    path=format!("{base}.tls.httpsRedirect")
                    value=Arc::new(move || gw.server(k, |s| s.tls.as_ref().and_then(|t| t.https_redirect).unwrap_or(false)))
                    on_set=Arc::new(move |b: bool| gw.write_server(k, "server-redirect", |s| {
                        s.tls.get_or_insert_with(Default::default).https_redirect = b.then_some(true);
                    }))
                />
            </fieldset>
        </div>
    }
}
