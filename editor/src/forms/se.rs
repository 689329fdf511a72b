//! The ServiceEntry form: hosts, location, resolution and ports.

use std::sync::Arc;

use leptos::prelude::*;
use meshroute_model::load::Spec;
use meshroute_model::model::{
    OptSliceExt, ServiceEntry, ServicePort, PORT_PROTOCOLS, SERVICE_ENTRY_LOCATIONS,
    SERVICE_ENTRY_RESOLUTIONS,
};

use super::widgets::{
    list_text, opt_list, opt_num, opt_str, rows, FieldDiags, NumberField, SelectField, TextField,
};
use super::{edit_spec, spec_memo};
use crate::state::DocId;
use crate::{ctx, Ctx};

#[derive(Clone, Copy)]
struct Se {
    ctx: Ctx,
    id: DocId,
    se: Memo<Option<Spec>>,
}

impl Se {
    fn read<T: Default>(self, f: impl FnOnce(&ServiceEntry) -> T) -> T {
        self.se.with(|s| match s {
            Some(Spec::ServiceEntry(v)) => f(v),
            _ => T::default(),
        })
    }

    fn write(self, key: &str, f: impl FnOnce(&mut ServiceEntry)) {
        edit_spec(
            self.ctx,
            self.id,
            key,
            |s| match s {
                Spec::ServiceEntry(v) => Some(v),
                _ => None,
            },
            f,
        );
    }

    fn write_port(self, k: usize, key: &str, f: impl FnOnce(&mut ServicePort)) {
        self.write(key, |s| {
            if let Some(p) = s.ports.as_mut().and_then(|v| v.get_mut(k)) {
                f(p);
            }
        });
    }
}

fn options(values: &[&str], none: &str) -> Vec<(String, String)> {
    let mut v = vec![(String::new(), none.to_owned())];
    v.extend(values.iter().map(|x| (x.to_string(), x.to_string())));
    v
}

#[component]
pub fn SeForm(id: DocId) -> impl IntoView {
    let ctx = ctx();
    let se = Se {
        ctx,
        id,
        se: spec_memo(ctx, id),
    };
    let n = Memo::new(move |_| se.read(|s| s.ports.items().len()));
    view! {
        <TextField
            label="Hosts (comma-separated)"
            path="spec.hosts"
            value=Arc::new(move || se.read(|s| list_text(s.hosts.as_ref())))
            on_set=Arc::new(move |v: String| se.write("spec.hosts", |s| s.hosts = opt_list(&v)))
        />
        <div class="row">
            <SelectField
                label="Location"
                path="spec.location"
                options=options(SERVICE_ENTRY_LOCATIONS, "(default: MESH_EXTERNAL)")
                value=Arc::new(move || se.read(|s| s.location.clone().unwrap_or_default()))
                on_set=Arc::new(move |v: String| se.write("spec.location", |s| s.location = opt_str(&v)))
            />
            <SelectField
                label="Resolution"
                path="spec.resolution"
                options=options(SERVICE_ENTRY_RESOLUTIONS, "(default: NONE)")
                value=Arc::new(move || se.read(|s| s.resolution.clone().unwrap_or_default()))
                on_set=Arc::new(move |v: String| se.write("spec.resolution", |s| s.resolution = opt_str(&v)))
            />
        </div>
        <h3>"Ports"</h3>
        <FieldDiags path="spec.ports"/>
        {rows(n, move |k| {
            let base = format!("spec.ports[{k}]");
            view! {
                <div class="card row" data-testid=format!("f-{base}") tabindex="-1" role="group" aria-label=format!("Port {}", k + 1)>
                    <NumberField
                        label="Number"
                        path=format!("{base}.number")
                        min="1"
                        max="65535"
                        value=Arc::new(move || se.read(|s| s.ports.items().get(k).and_then(|p| p.number).map(|n| n.to_string()).unwrap_or_default()))
                        on_set=Arc::new(move |v: String| {
                            if let Ok(n) = opt_num::<u32>(&v) {
                                se.write_port(k, "port-number", |p| p.number = n);
                            }
                        })
                    />
                    <TextField
                        label="Name"
                        path=format!("{base}.name")
                        value=Arc::new(move || se.read(|s| s.ports.items().get(k).and_then(|p| p.name.clone()).unwrap_or_default()))
                        on_set=Arc::new(move |v: String| se.write_port(k, "port-name", |p| p.name = opt_str(&v)))
                    />
                    <SelectField
                        label="Protocol"
                        path=format!("{base}.protocol")
                        options=options(PORT_PROTOCOLS, "(not set)")
                        value=Arc::new(move || se.read(|s| s.ports.items().get(k).and_then(|p| p.protocol.clone()).unwrap_or_default()))
                        on_set=Arc::new(move |v: String| se.write_port(k, "port-protocol", |p| p.protocol = opt_str(&v)))
                    />
                    <button class="icon danger" aria-label=format!("Remove port {}", k + 1)
                        on:click=move |_| se.write("!del-port", |s| {
                            if let Some(v) = s.ports.as_mut() {
                                if k < v.len() {
                                    v.remove(k);
                                }
                            }
                        })>"✕"</button>
                </div>
            }
        }.into_any())}
        <button class="add" data-testid="add-port" on:click=move |_| se.write("!add-port", |s| {
            s.ports.get_or_insert_with(Vec::new).push(ServicePort {
                number: Some(443),
                name: Some("https".into()),
                protocol: Some("TLS".into()),
                ..Default::default()
            });
        })>"+ Port"</button>
    }
}
