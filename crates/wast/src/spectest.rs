//! The `spectest` host module the specification's scripts import from.

use anyhow::Result;
use tern_engine::{
    Func, Global, GlobalType, Linker, Memory, MemoryType, Mutability, RefType, Store, Table,
    TableType, Val, ValType,
};

/// Defines `spectest` in `linker`, with entities created in `store`.
pub fn define(linker: &mut Linker<()>, store: &mut Store<()>) -> Result<()> {
    let print = |name: &str, linker: &mut Linker<()>, store: &mut Store<()>, params: &[ValType]| {
        let ty = tern_engine::FuncType::new(params.iter().copied(), []);
        let f = Func::new(&mut *store, ty, |_, _, _| Ok(()));
        linker.define("spectest", name, f).map(drop)
    };
    use ValType::*;
    print("print", linker, store, &[])?;
    print("print_i32", linker, store, &[I32])?;
    print("print_i64", linker, store, &[I64])?;
    print("print_f32", linker, store, &[F32])?;
    print("print_f64", linker, store, &[F64])?;
    print("print_i32_f32", linker, store, &[I32, F32])?;
    print("print_f64_f64", linker, store, &[F64, F64])?;
    let global = |store: &mut Store<()>, ty, val| {
        Global::new(store, GlobalType::new(ty, Mutability::Const), val)
    };
    let g = global(store, I32, Val::I32(666))?;
    linker.define("spectest", "global_i32", g)?;
    let g = global(store, I64, Val::I64(666))?;
    linker.define("spectest", "global_i64", g)?;
    let g = global(store, F32, Val::from(666.6f32))?;
    linker.define("spectest", "global_f32", g)?;
    let g = global(store, F64, Val::from(666.6f64))?;
    linker.define("spectest", "global_f64", g)?;
    let table = Table::new(
        &mut *store,
        TableType::new(RefType::Func, 10, Some(20)),
        Val::FuncRef(None),
    )?;
    linker.define("spectest", "table", table)?;
    let memory = Memory::new(&mut *store, MemoryType::new(1, Some(2)))?;
    linker.define("spectest", "memory", memory)?;
    Ok(())
}
