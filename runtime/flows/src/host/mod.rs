//! Host implementations of the `courtyard:flow` interfaces, one module per WIT interface.
//!
//! Each module forwards to the seam traits of [`crate::host_api`]; [`link`] adds to a linker only
//! the interfaces a plugin version was granted, plus WASI with nothing granted.

use std::collections::BTreeSet;

use wasmtime::component::types::ComponentItem;
use wasmtime::component::{Component, HasSelf, Linker};

use crate::bindings::interfaces as flow;
use crate::grants::{Capability, Grants, flow_interface};
use crate::state::CallState;

mod billing;
mod call;
mod clock;
mod config;
mod content;
mod directory;
mod kv;
mod log;
mod notify;
mod types;
mod work_orders;

/// Wrap one host function body: budget bookkeeping before and after the awaited work.
macro_rules! host_fn {
    ($state:ident, $body:expr) => {{
        $state.enter_host()?;
        let result = $body;
        $state.leave_host();
        Ok(result)
    }};
}
pub(crate) use host_fn;

/// The store data is the host state itself (`HasSelf`).
fn get(state: &mut CallState) -> &mut CallState {
    state
}

/// Build a linker with WASI (nothing granted) and exactly the granted flow interfaces.
pub(crate) fn link(engine: &wasmtime::Engine, grants: &Grants) -> wasmtime::Result<Linker<CallState>> {
    let mut linker = Linker::<CallState>::new(engine);
    wasmtime_wasi::p2::add_to_linker_async(&mut linker)?;
    flow::types::add_to_linker::<CallState, HasSelf<CallState>>(&mut linker, get)?;
    for cap in Capability::ALL {
        if !grants.allows(cap) {
            continue;
        }
        match cap {
            Capability::Call => flow::call::add_to_linker::<CallState, HasSelf<CallState>>(&mut linker, get)?,
            Capability::Directory => {
                flow::directory::add_to_linker::<CallState, HasSelf<CallState>>(&mut linker, get)?
            }
            Capability::Billing => flow::billing::add_to_linker::<CallState, HasSelf<CallState>>(&mut linker, get)?,
            Capability::WorkOrders => {
                flow::work_orders::add_to_linker::<CallState, HasSelf<CallState>>(&mut linker, get)?
            }
            Capability::Notify => flow::notify::add_to_linker::<CallState, HasSelf<CallState>>(&mut linker, get)?,
            Capability::Kv => flow::kv::add_to_linker::<CallState, HasSelf<CallState>>(&mut linker, get)?,
            Capability::Log => flow::log::add_to_linker::<CallState, HasSelf<CallState>>(&mut linker, get)?,
            Capability::Config => flow::config::add_to_linker::<CallState, HasSelf<CallState>>(&mut linker, get)?,
            Capability::Clock => flow::clock::add_to_linker::<CallState, HasSelf<CallState>>(&mut linker, get)?,
            Capability::Content => flow::content::add_to_linker::<CallState, HasSelf<CallState>>(&mut linker, get)?,
        }
    }
    Ok(linker)
}

/// Links every interface of `unused` that `component` imports and was not granted with functions
/// that trap when called, naming the function and the missing grant. The flow installs and runs;
/// should it call one after all, that call's instance ends and the failure policy takes the
/// caller, as for any trap.
pub(crate) fn link_unused_as_traps(
    linker: &mut Linker<CallState>,
    engine: &wasmtime::Engine,
    component: &Component,
    grants: &Grants,
    unused: &BTreeSet<Capability>,
) -> wasmtime::Result<()> {
    let ty = component.component_type();
    for (import, item) in ty.imports(engine) {
        let Some(cap) = flow_interface(import).and_then(|i| i.parse::<Capability>().ok()) else { continue };
        if grants.allows(cap) || !unused.contains(&cap) {
            continue;
        }
        let ComponentItem::ComponentInstance(instance) = item.ty else { continue };
        let mut linked = linker.instance(import)?;
        for (name, item) in instance.exports(engine) {
            if !matches!(item.ty, ComponentItem::ComponentFunc(_)) {
                continue;
            }
            let message = format!(
                "the plugin called {import}#{name}, but '{cap}' is not granted to it (it is declared unused: linked only so the component can load)"
            );
            linked.func_new(name, move |_, _, _, _| Err(wasmtime::Error::msg(message.clone())))?;
        }
    }
    Ok(())
}
