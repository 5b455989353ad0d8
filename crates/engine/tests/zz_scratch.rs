use tern_engine::*;
#[test]
fn huge_table() {
    let engine = Engine::default();
    let module = Module::new(&engine, "(module (table 0xffffffff funcref))").unwrap();
    let mut store = Store::new(&engine, ());
    let r = Linker::new(&engine).instantiate(&mut store, &module);
    eprintln!("{r:?}");
}
#[test]
fn huge_table_ext() {
    let engine = Engine::default();
    let module = Module::new(&engine, "(module (table 0xffffffff externref))").unwrap();
    let mut store = Store::new(&engine, ());
    let r = Linker::new(&engine).instantiate(&mut store, &module);
    eprintln!("{r:?}");
}
#[test]
fn msgs() {
    let engine = Engine::default();
    for src in ["(module (import \"env\" \"missing_fn\" (func)))", "(module (func (result v128) (v128.const i64x2 0 0)))", "(module (func (result i32) (i64.const 1)))"] {
        match Module::new(&engine, src) {
            Ok(m) => { let mut store = Store::new(&engine, ()); eprintln!("{:?}", Linker::new(&engine).instantiate(&mut store, &m).unwrap_err().to_string()); }
            Err(e) => eprintln!("{e}"),
        }
    }
}
