//! Host closures with typed parameters, turned into host functions.

use super::typed::{WasmResults, WasmTy};
use super::{Caller, HostFuncFn};
use crate::error::Result;
use crate::types::{FuncType, ValType};
use std::sync::Arc;

/// What a host closure may return: results as for
/// [`WasmResults`], or a `Result` of them whose error traps the caller.
pub trait WasmRet: Send + Sync + 'static {
    #[doc(hidden)]
    fn valtypes() -> Vec<ValType>;
    #[doc(hidden)]
    fn into_slots(self, slots: &mut [u64]) -> Result<()>;
}

macro_rules! wasm_ret_tuples {
    ($($($t:ident $i:tt),*;)*) => {$(
        impl<$($t: WasmTy),*> WasmRet for ($($t,)*) {
            fn valtypes() -> Vec<ValType> {
                <($($t,)*) as WasmResults>::valtypes()
            }
            #[allow(unused_variables)]
            fn into_slots(self, slots: &mut [u64]) -> Result<()> {
                $(slots[$i] = self.$i.into_bits();)*
                Ok(())
            }
        }
    )*};
}

wasm_ret_tuples! {
    ;
    A 0;
    A 0, B 1;
    A 0, B 1, C 2;
    A 0, B 1, C 2, D 3;
}

impl<A: WasmTy> WasmRet for A {
    fn valtypes() -> Vec<ValType> {
        vec![A::valtype()]
    }
    fn into_slots(self, slots: &mut [u64]) -> Result<()> {
        slots[0] = self.into_bits();
        Ok(())
    }
}

impl<R: WasmRet> WasmRet for Result<R> {
    fn valtypes() -> Vec<ValType> {
        R::valtypes()
    }
    fn into_slots(self, slots: &mut [u64]) -> Result<()> {
        self?.into_slots(slots)
    }
}

/// A closure that can become a host function of a store with data `T`.
///
/// Implemented for `Fn(A1, A2, ...) -> R` and
/// `Fn(Caller<'_, T>, A1, A2, ...) -> R` with up to eight [`WasmTy`]
/// parameters and a [`WasmRet`] result.
pub trait IntoFunc<T, Params, Results>: Send + Sync + 'static {
    #[doc(hidden)]
    fn into_func(self) -> (FuncType, Arc<HostFuncFn<T>>);
}

macro_rules! into_func {
    ($($($a:ident $i:tt),*;)*) => {$(
        impl<T, F, R, $($a,)*> IntoFunc<T, ($($a,)*), R> for F
        where
            T: 'static,
            F: Fn($($a),*) -> R + Send + Sync + 'static,
            R: WasmRet,
            $($a: WasmTy,)*
        {
            fn into_func(self) -> (FuncType, Arc<HostFuncFn<T>>) {
                let ty = FuncType::new(vec![$($a::valtype()),*], R::valtypes());
                let f = move |_caller: Caller<'_, T>, slots: &mut [u64]| -> Result<()> {
                    let r = self($($a::from_bits(slots[$i])),*);
                    r.into_slots(slots)
                };
                (ty, Arc::new(f))
            }
        }

        impl<T, F, R, $($a,)*> IntoFunc<T, (Caller<'_, T>, $($a,)*), R> for F
        where
            T: 'static,
            F: Fn(Caller<'_, T>, $($a),*) -> R + Send + Sync + 'static,
            R: WasmRet,
            $($a: WasmTy,)*
        {
            fn into_func(self) -> (FuncType, Arc<HostFuncFn<T>>) {
                let ty = FuncType::new(vec![$($a::valtype()),*], R::valtypes());
                let f = move |caller: Caller<'_, T>, slots: &mut [u64]| -> Result<()> {
                    let r = self(caller, $($a::from_bits(slots[$i])),*);
                    r.into_slots(slots)
                };
                (ty, Arc::new(f))
            }
        }
    )*};
}

into_func! {
    ;
    A1 0;
    A1 0, A2 1;
    A1 0, A2 1, A3 2;
    A1 0, A2 1, A3 2, A4 3;
    A1 0, A2 1, A3 2, A4 3, A5 4;
    A1 0, A2 1, A3 2, A4 3, A5 4, A6 5;
    A1 0, A2 1, A3 2, A4 3, A5 4, A6 5, A7 6;
    A1 0, A2 1, A3 2, A4 3, A5 4, A6 5, A7 6, A8 7;
    A1 0, A2 1, A3 2, A4 3, A5 4, A6 5, A7 6, A8 7, A9 8;
    A1 0, A2 1, A3 2, A4 3, A5 4, A6 5, A7 6, A8 7, A9 8, A10 9;
}
