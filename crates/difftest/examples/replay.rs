//! Triage helper: `replay FILE NAME...` calls the named exports of FILE, in
//! order and with zero arguments, on Tern and on wasmi (fuel 10^7 per call),
//! printing each outcome and every exported global after each call.

use tern_engine as t;

fn main() -> anyhow::Result<()> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let wasm = std::fs::read(&args[0])?;
    let names = &args[1..];
    let fuel = 10_000_000;

    let mut config = t::Config::new();
    config.consume_fuel(true);
    let engine = t::Engine::new(&config);
    let module = t::Module::new(&engine, &wasm)?;
    let mut store = t::Store::new(&engine, ());
    store.set_fuel(fuel)?;
    let instance = t::Linker::new(&engine).instantiate(&mut store, &module)?;
    let globals: Vec<String> = module
        .exports()
        .filter(|e| matches!(e.ty, t::ExternType::Global(_)))
        .map(|e| e.name.to_string())
        .collect();
    for name in names {
        let f = instance
            .get_func(&mut store, name)
            .expect("exported function");
        let ty = f.ty(&store);
        let params: Vec<t::Val> = ty
            .params()
            .iter()
            .map(|t| t::Val::default_for(*t))
            .collect();
        let mut results: Vec<t::Val> = ty
            .results()
            .iter()
            .map(|t| t::Val::default_for(*t))
            .collect();
        store.set_fuel(fuel)?;
        let r = f.call(&mut store, &params, &mut results);
        let g: Vec<_> = globals
            .iter()
            .map(|g| instance.get_global(&mut store, g).unwrap().get(&store))
            .collect();
        println!(
            "tern  {name:?}: {:?} {results:?} globals {g:?}",
            r.map_err(|e| e.to_string())
        );
    }

    let mut config = wasmi::Config::default();
    config.consume_fuel(true);
    let engine = wasmi::Engine::new(&config);
    let module = wasmi::Module::new(&engine, &wasm)?;
    let mut store = wasmi::Store::new(&engine, ());
    store.set_fuel(fuel)?;
    let instance = wasmi::Linker::new(&engine).instantiate_and_start(&mut store, &module)?;
    for name in names {
        let f = instance.get_func(&store, name).expect("exported function");
        let ty = f.ty(&store);
        let params: Vec<wasmi::Val> = ty
            .params()
            .iter()
            .map(|t| wasmi::Val::default_for_ty(*t))
            .collect();
        let mut results: Vec<wasmi::Val> = ty
            .results()
            .iter()
            .map(|t| wasmi::Val::default_for_ty(*t))
            .collect();
        store.set_fuel(fuel)?;
        let r = f.call(&mut store, &params, &mut results);
        let g: Vec<_> = globals
            .iter()
            .map(|g| instance.get_global(&store, g).unwrap().get(&store))
            .collect();
        println!(
            "wasmi {name:?}: {:?} {results:?} globals {g:?}",
            r.map_err(|e| e.to_string())
        );
    }
    Ok(())
}
