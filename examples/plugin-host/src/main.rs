//! A SaaS platform hosting a customer's plugin: the plugin is a component
//! for the `plugin` world in `wit/plugin.wit` (here the Rust plugin in
//! `guest/`, built with wit-bindgen), and the host gives it the `host`
//! interface: a per-tenant configuration and a log.
//!
//! Each call gets a fresh store, so one tenant's plugin state never meets
//! another's, and a fuel budget, so a runaway plugin stops.
//!
//! ```text
//! cargo run -p plugin-host -- [PLUGIN.wasm] [NAME] [TEXT]
//! ```
#![forbid(unsafe_code)]

use anyhow::{Context, Result};
use std::collections::HashMap;
use tern_component::{Component, Linker};
use tern_engine::{Config, Engine, Store};
use tern_wasi::{WasiCtx, WasiCtxBuilder};

// Rust bindings of `wit/plugin.wit`: the `Plugin` struct, the
// `example::plugin::host::Host` trait and its `Level` enum.
tern_component::bindgen!("plugin" in "wit");

use example::plugin::host::{Host, Level};

/// What a plugin's store holds: the tenant's configuration, the log lines
/// the plugin wrote, and the WASI context its standard library expects.
struct Tenant {
    config: HashMap<String, String>,
    log: Vec<String>,
    wasi: WasiCtx,
}

/// The host side of the plugin world's `example:plugin/host` interface.
impl Host for Tenant {
    fn log(&mut self, level: Level, message: String) {
        let level = match level {
            Level::Info => "info",
            Level::Warn => "warn",
        };
        self.log.push(format!("[{level}] {message}"));
    }

    fn config(&mut self, key: String) -> Option<String> {
        self.config.get(&key).cloned()
    }
}

/// The host side of the plugin world: `example:plugin/host` and WASI.
fn linker(engine: &Engine) -> Result<Linker<Tenant>> {
    let mut linker = Linker::new(engine);
    tern_wasi::p2::add_to_linker(&mut linker, |t: &mut Tenant| &mut t.wasi)?;
    Plugin::add_to_linker(&mut linker, |t: &mut Tenant| t)?;
    Ok(linker)
}

/// `word-count`'s result: each word with its count, or the plugin's error.
type WordCounts = std::result::Result<Vec<(String, u32)>, String>;

/// Runs the plugin's exports for one tenant: the greeting, the word counts
/// and the log lines the plugin wrote.
pub fn run_plugin(
    plugin: &[u8],
    tenant_config: &[(&str, &str)],
    name: &str,
    text: &str,
) -> Result<(String, WordCounts, Vec<String>)> {
    let mut config = Config::new();
    config.consume_fuel(true);
    let engine = Engine::new(&config);
    let component = Component::new(&engine, plugin).context("loading the plugin")?;
    let linker = linker(&engine)?;
    let tenant = Tenant {
        config: tenant_config
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect(),
        log: Vec::new(),
        wasi: WasiCtxBuilder::new().build(),
    };
    let mut store = Store::new(&engine, tenant);
    store.set_fuel(50_000_000)?;
    let plugin = Plugin::instantiate(&mut store, &component, &linker)?;
    let greeting = plugin.call_greet(&mut store, name)?;
    let counts = plugin.call_word_count(&mut store, text)?;
    let log = std::mem::take(&mut store.data_mut().log);
    Ok((greeting, counts, log))
}

/// The plugin built from `guest/`.
pub const PLUGIN: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/guest/wasm/plugin.wasm");

fn main() -> Result<()> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let path = args.first().map_or(PLUGIN, String::as_str);
    let name = args.get(1).map_or("world", String::as_str);
    let text = args
        .get(2)
        .map_or("the quick fox and the lazy dog", String::as_str);
    let plugin = std::fs::read(path).with_context(|| format!("reading {path}"))?;
    let (greeting, counts, log) = run_plugin(&plugin, &[("greeting", "Welcome")], name, text)?;
    println!("{greeting}");
    match counts {
        Ok(counts) => {
            for (word, n) in counts {
                println!("{word}: {n}");
            }
        }
        Err(e) => println!("word-count failed: {e}"),
    }
    for line in log {
        eprintln!("plugin log: {line}");
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn plugin() -> Vec<u8> {
        std::fs::read(PLUGIN).expect("the committed plugin")
    }

    #[test]
    fn the_plugin_runs_against_the_tenant_configuration() {
        let (greeting, counts, log) = run_plugin(
            &plugin(),
            &[("greeting", "Welcome")],
            "Ada",
            "to be or not to be",
        )
        .unwrap();
        assert_eq!(greeting, "Welcome, Ada!");
        let counts = counts.unwrap();
        assert_eq!(
            counts,
            [("to", 2), ("be", 2), ("or", 1), ("not", 1)].map(|(w, n)| (w.to_string(), n))
        );
        assert_eq!(log, ["[info] greeting Ada"]);
    }

    #[test]
    fn another_tenant_gets_its_own_configuration_and_errors() {
        let (greeting, counts, log) = run_plugin(&plugin(), &[], "Bob", "   ").unwrap();
        assert_eq!(greeting, "Hello, Bob!");
        assert_eq!(counts, Err("no words in the text".to_string()));
        assert_eq!(
            log,
            ["[info] greeting Bob", "[warn] asked to count nothing"]
        );
    }

    #[test]
    fn a_host_that_lacks_part_of_the_world_is_refused_naming_it() {
        let engine = Engine::default();
        let component = Component::new(&engine, plugin()).unwrap();
        let tenant = || Tenant {
            config: HashMap::new(),
            log: Vec::new(),
            wasi: WasiCtxBuilder::new().build(),
        };
        let mut linker = Linker::<Tenant>::new(&engine);
        tern_wasi::p2::add_to_linker(&mut linker, |t: &mut Tenant| &mut t.wasi).unwrap();
        linker
            .instance("example:plugin/host@0.1.0")
            .unwrap()
            .func_wrap("config", |_, (_key,): (u32,)| Ok((None::<String>,)))
            .unwrap();
        let mut store = Store::new(&engine, tenant());
        let msg = linker
            .instantiate(&mut store, &component)
            .unwrap_err()
            .to_string();
        assert!(msg.contains("import `example:plugin/host@0.1.0`"), "{msg}");
        assert!(msg.contains("does not define function `log`"), "{msg}");

        linker
            .instance("example:plugin/host@0.1.0")
            .unwrap()
            .func_new("log", |_, _, _| Ok(()))
            .unwrap();
        let msg = linker
            .instantiate(&mut store, &component)
            .unwrap_err()
            .to_string();
        assert!(msg.contains("function `config`"), "{msg}");
        assert!(msg.contains("expected string"), "{msg}");
    }
}
