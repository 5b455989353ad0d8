//! Memory accesses at the edges, where bounds-check bugs of JITs live
//! (CVE-2023-26489 was an address-mode miscompile of a bounds check):
//! offsets near 4 GiB, accesses straddling the end of memory, growth
//! between accesses, and zero-length bulk operations at the end. Each runs
//! on every tier, and on compiled code both with guard regions (faults
//! become traps) and without (explicit checks).

mod common;

use tern_engine::{Config, Engine, Instance, Linker, Module, Store, TrapCode};

const EDGES: &str = r#"(module
    (memory (export "mem") 1 4)
    (data (i32.const 0) "\01\02\03\04\05\06\07\08")
    (func (export "load8") (param i32) (result i32) (i32.load8_u (local.get 0)))
    (func (export "load32") (param i32) (result i32) (i32.load (local.get 0)))
    (func (export "load64") (param i32) (result i64) (i64.load (local.get 0)))
    (func (export "load64_off4") (param i32) (result i64) (i64.load offset=4 (local.get 0)))
    (func (export "load_off_max") (param i32) (result i32)
        (i32.load offset=0xfffffffc (local.get 0)))
    (func (export "load8_off_max") (param i32) (result i32)
        (i32.load8_u offset=0xffffffff (local.get 0)))
    (func (export "load_off_2g") (param i32) (result i32)
        (i32.load offset=0x80000000 (local.get 0)))
    (func (export "store64") (param i32 i64) (i64.store (local.get 0) (local.get 1)))
    (func (export "store16_off") (param i32 i32) (i32.store16 offset=65534 (local.get 0) (local.get 1)))
    (func (export "grow") (param i32) (result i32) (memory.grow (local.get 0)))
    (func (export "size") (result i32) (memory.size))
    (func (export "fill") (param i32 i32) (memory.fill (local.get 0) (i32.const 7) (local.get 1)))
    (func (export "copy") (param i32 i32 i32) (memory.copy (local.get 0) (local.get 1) (local.get 2)))
    (func (export "init") (param i32 i32 i32) (memory.init 1 (local.get 0) (local.get 1) (local.get 2)))
    (data "abcd"))"#;

/// The memory configurations: guard regions, and explicit checks.
fn configs() -> Vec<(&'static str, Config)> {
    let mut explicit = common::config();
    explicit.memory_reservation(4 * 65536).memory_guard_size(0);
    vec![
        ("guard regions", common::config()),
        ("explicit checks", explicit),
    ]
}

fn instantiate(config: &Config) -> (Store<()>, Instance) {
    let engine = Engine::new(config);
    let module = Module::new(&engine, EDGES).unwrap();
    let mut store = Store::new(&engine, ());
    let instance = Linker::new(&engine)
        .instantiate(&mut store, &module)
        .unwrap();
    (store, instance)
}

fn trap<T: std::fmt::Debug>(what: &str, r: tern_engine::Result<T>) {
    let err = r.expect_err(what);
    assert_eq!(
        err.trap_code(),
        Some(TrapCode::MemoryOutOfBounds),
        "{what}: {err:?}"
    );
}

const PAGE: i32 = 65536;

fn loads_at_the_end_and_straddling_it() {
    for (name, config) in configs() {
        let (mut s, i) = instantiate(&config);
        let load8 = i.get_typed_func::<i32, i32>(&mut s, "load8").unwrap();
        let load32 = i.get_typed_func::<i32, i32>(&mut s, "load32").unwrap();
        let load64 = i.get_typed_func::<i32, i64>(&mut s, "load64").unwrap();
        let load64_off4 = i.get_typed_func::<i32, i64>(&mut s, "load64_off4").unwrap();
        assert_eq!(load8.call(&mut s, 0).unwrap(), 1, "{name}");
        assert_eq!(load8.call(&mut s, PAGE - 1).unwrap(), 0, "{name}");
        trap(name, load8.call(&mut s, PAGE));
        assert_eq!(load32.call(&mut s, PAGE - 4).unwrap(), 0, "{name}");
        for straddle in 1..4 {
            trap(name, load32.call(&mut s, PAGE - 4 + straddle));
        }
        assert_eq!(load64.call(&mut s, PAGE - 8).unwrap(), 0, "{name}");
        trap(name, load64.call(&mut s, PAGE - 7));
        assert_eq!(load64_off4.call(&mut s, PAGE - 12).unwrap(), 0, "{name}");
        trap(name, load64_off4.call(&mut s, PAGE - 11));
        // Addresses that wrap around in 32 bits must not.
        trap(name, load32.call(&mut s, -1));
        trap(name, load32.call(&mut s, -4));
        trap(name, load64.call(&mut s, i32::MIN));
    }
}

fn offsets_near_4_gib_never_wrap() {
    for (name, config) in configs() {
        let (mut s, i) = instantiate(&config);
        let off_max = i
            .get_typed_func::<i32, i32>(&mut s, "load_off_max")
            .unwrap();
        let off8_max = i
            .get_typed_func::<i32, i32>(&mut s, "load8_off_max")
            .unwrap();
        let off_2g = i.get_typed_func::<i32, i32>(&mut s, "load_off_2g").unwrap();
        // address + offset is computed in 33 bits: 4 + 0xfffffffc is 4 GiB,
        // not 0.
        for addr in [0, 4, 8, PAGE, -1, -4, i32::MIN] {
            trap(name, off_max.call(&mut s, addr));
            trap(name, off8_max.call(&mut s, addr));
            trap(name, off_2g.call(&mut s, addr));
        }
    }
}

fn stores_straddling_the_end_write_nothing() {
    for (name, config) in configs() {
        let (mut s, i) = instantiate(&config);
        let store64 = i
            .get_typed_func::<(i32, i64), ()>(&mut s, "store64")
            .unwrap();
        let store16 = i
            .get_typed_func::<(i32, i32), ()>(&mut s, "store16_off")
            .unwrap();
        let load8 = i.get_typed_func::<i32, i32>(&mut s, "load8").unwrap();
        trap(name, store64.call(&mut s, (PAGE - 4, -1)));
        for b in PAGE - 4..PAGE {
            assert_eq!(load8.call(&mut s, b).unwrap(), 0, "{name}: byte {b}");
        }
        store16.call(&mut s, (0, 0x0102)).unwrap();
        trap(name, store16.call(&mut s, (1, 0x0304)));
        assert_eq!(load8.call(&mut s, PAGE - 1).unwrap(), 0x01, "{name}");
    }
}

fn growth_between_accesses_moves_the_end() {
    for (name, config) in configs() {
        let (mut s, i) = instantiate(&config);
        let load32 = i.get_typed_func::<i32, i32>(&mut s, "load32").unwrap();
        let store64 = i
            .get_typed_func::<(i32, i64), ()>(&mut s, "store64")
            .unwrap();
        let grow = i.get_typed_func::<i32, i32>(&mut s, "grow").unwrap();
        let size = i.get_typed_func::<(), i32>(&mut s, "size").unwrap();
        trap(name, load32.call(&mut s, PAGE));
        assert_eq!(grow.call(&mut s, 1).unwrap(), 1, "{name}");
        assert_eq!(size.call(&mut s, ()).unwrap(), 2, "{name}");
        assert_eq!(load32.call(&mut s, PAGE).unwrap(), 0, "{name}");
        store64.call(&mut s, (2 * PAGE - 8, -1)).unwrap();
        trap(name, load32.call(&mut s, 2 * PAGE - 3));
        // Past the maximum, growth fails and the end stays.
        assert_eq!(grow.call(&mut s, 3).unwrap(), -1, "{name}");
        trap(name, load32.call(&mut s, 2 * PAGE));
        assert_eq!(grow.call(&mut s, 2).unwrap(), 2, "{name}");
        assert_eq!(load32.call(&mut s, 4 * PAGE - 4).unwrap(), 0, "{name}");
        trap(name, load32.call(&mut s, 4 * PAGE - 3));
    }
}

fn zero_length_bulk_operations_at_the_end() {
    for (name, config) in configs() {
        let (mut s, i) = instantiate(&config);
        let fill = i.get_typed_func::<(i32, i32), ()>(&mut s, "fill").unwrap();
        let copy = i
            .get_typed_func::<(i32, i32, i32), ()>(&mut s, "copy")
            .unwrap();
        let init = i
            .get_typed_func::<(i32, i32, i32), ()>(&mut s, "init")
            .unwrap();
        let load8 = i.get_typed_func::<i32, i32>(&mut s, "load8").unwrap();
        // Zero bytes at the very end are in bounds; one past is not.
        fill.call(&mut s, (PAGE, 0)).unwrap();
        trap(name, fill.call(&mut s, (PAGE + 1, 0)));
        copy.call(&mut s, (PAGE, 0, 0)).unwrap();
        copy.call(&mut s, (0, PAGE, 0)).unwrap();
        trap(name, copy.call(&mut s, (PAGE + 1, 0, 0)));
        trap(name, copy.call(&mut s, (0, PAGE + 1, 0)));
        init.call(&mut s, (PAGE, 0, 0)).unwrap();
        init.call(&mut s, (0, 4, 0)).unwrap();
        trap(name, init.call(&mut s, (PAGE + 1, 0, 0)));
        trap(name, init.call(&mut s, (0, 5, 0)));
        // A bulk operation that does not fit writes nothing.
        trap(name, fill.call(&mut s, (PAGE - 2, 3)));
        assert_eq!(load8.call(&mut s, PAGE - 2).unwrap(), 0, "{name}");
        trap(name, copy.call(&mut s, (PAGE - 2, 0, 3)));
        assert_eq!(load8.call(&mut s, PAGE - 1).unwrap(), 0, "{name}");
        fill.call(&mut s, (PAGE - 3, 3)).unwrap();
        assert_eq!(load8.call(&mut s, PAGE - 1).unwrap(), 7, "{name}");
    }
}

tiers! {
    loads_at_the_end_and_straddling_it,
    offsets_near_4_gib_never_wrap,
    stores_straddling_the_end_write_nothing,
    growth_between_accesses_moves_the_end,
    zero_length_bulk_operations_at_the_end,
}
