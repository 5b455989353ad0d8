//! Generated code is never writable and executable at once: after modules
//! are compiled (in parallel, with trampolines) and run, no mapping of the
//! process is both.

#![cfg(feature = "cranelift")]

use tern_engine::{Config, Engine, Linker, Module, Store, Strategy};

/// The mappings of this process that are writable and executable.
fn writable_and_executable() -> Vec<String> {
    std::fs::read_to_string("/proc/self/maps")
        .expect("/proc/self/maps")
        .lines()
        .filter(|l| {
            let perms = l.split_whitespace().nth(1).unwrap_or("");
            perms.contains('w') && perms.contains('x')
        })
        .map(str::to_string)
        .collect()
}

#[test]
fn no_mapping_is_writable_and_executable() {
    assert_eq!(writable_and_executable(), Vec::<String>::new(), "before");
    let engine = Engine::new(Config::new().strategy(Strategy::Cranelift));
    // Enough code (about 26 KiB, over the 16 KiB threshold) to compile on
    // several threads: function `i` adds 1 to its parameter forty-odd
    // times, then a constant, so that it returns its parameter plus `i`.
    let funcs: String = (0..200usize)
        .map(|i| {
            let ones = 40 + i % 7;
            let adds = " (i32.const 1) (i32.add)".repeat(ones);
            format!(
                "(func (export \"f{i}\") (param i32) (result i32)
                   (local.get 0){adds} (i32.const {}) (i32.add))",
                i as i64 - ones as i64
            )
        })
        .collect();
    let module = Module::new(&engine, format!("(module {funcs})")).unwrap();
    let mut store = Store::new(&engine, ());
    let instance = Linker::new(&engine)
        .instantiate(&mut store, &module)
        .unwrap();
    let f = instance
        .get_typed_func::<i32, i32>(&mut store, "f199")
        .unwrap();
    assert_eq!(f.call(&mut store, 1).unwrap(), 200);
    assert_eq!(writable_and_executable(), Vec::<String>::new(), "after");
}
