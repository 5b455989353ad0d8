//! Statically typed calls: Rust types for Wasm parameters and results.

use super::{Func, call_raw};
use crate::error::{Error, ErrorKind, Result};
use crate::store::AsContextMut;
use crate::types::{FuncType, ValType};
use std::marker::PhantomData;

/// A Rust type that is a WebAssembly value type.
pub trait WasmTy: Copy + Send + Sync + 'static {
    /// The Wasm type.
    fn valtype() -> ValType;
    #[doc(hidden)]
    fn into_bits(self) -> u64;
    #[doc(hidden)]
    fn from_bits(bits: u64) -> Self;
}

macro_rules! wasm_ty {
    ($($t:ty => $vt:ident, |$x:ident| $into:expr, |$b:ident| $from:expr;)*) => {$(
        impl WasmTy for $t {
            fn valtype() -> ValType {
                ValType::$vt
            }
            #[inline]
            fn into_bits(self) -> u64 {
                let $x = self;
                $into
            }
            #[inline]
            fn from_bits($b: u64) -> Self {
                $from
            }
        }
    )*};
}

wasm_ty! {
    i32 => I32, |x| x as u32 as u64, |b| b as i32;
    u32 => I32, |x| x as u64, |b| b as u32;
    i64 => I64, |x| x as u64, |b| b as i64;
    u64 => I64, |x| x, |b| b;
    f32 => F32, |x| x.to_bits() as u64, |b| f32::from_bits(b as u32);
    f64 => F64, |x| x.to_bits(), |b| f64::from_bits(b);
}

/// Parameters of a typed call: `()`, one [`WasmTy`], or a tuple of them.
pub trait WasmParams: Send + Sync + 'static {
    /// The parameter types.
    fn valtypes() -> Vec<ValType>;
    #[doc(hidden)]
    fn store_bits(self, slots: &mut [u64]);
}

/// Results of a typed call: `()`, one [`WasmTy`], or a tuple of them.
pub trait WasmResults: Send + Sync + 'static {
    /// The result types.
    fn valtypes() -> Vec<ValType>;
    #[doc(hidden)]
    fn load_bits(slots: &[u64]) -> Self;
}

impl<A: WasmTy> WasmParams for A {
    fn valtypes() -> Vec<ValType> {
        vec![A::valtype()]
    }
    fn store_bits(self, slots: &mut [u64]) {
        slots[0] = self.into_bits();
    }
}

impl<A: WasmTy> WasmResults for A {
    fn valtypes() -> Vec<ValType> {
        vec![A::valtype()]
    }
    fn load_bits(slots: &[u64]) -> Self {
        A::from_bits(slots[0])
    }
}

macro_rules! tuples {
    ($($n:tt: $($t:ident $i:tt),*;)*) => {$(
        impl<$($t: WasmTy),*> WasmParams for ($($t,)*) {
            fn valtypes() -> Vec<ValType> {
                vec![$($t::valtype()),*]
            }
            #[allow(unused_variables)]
            fn store_bits(self, slots: &mut [u64]) {
                $(slots[$i] = self.$i.into_bits();)*
            }
        }

        impl<$($t: WasmTy),*> WasmResults for ($($t,)*) {
            fn valtypes() -> Vec<ValType> {
                vec![$($t::valtype()),*]
            }
            #[allow(unused_variables, clippy::unused_unit)]
            fn load_bits(slots: &[u64]) -> Self {
                ($($t::from_bits(slots[$i]),)*)
            }
        }
    )*};
}

tuples! {
    0: ;
    1: A 0;
    2: A 0, B 1;
    3: A 0, B 1, C 2;
    4: A 0, B 1, C 2, D 3;
    5: A 0, B 1, C 2, D 3, E 4;
    6: A 0, B 1, C 2, D 3, E 4, F 5;
    7: A 0, B 1, C 2, D 3, E 4, F 5, G 6;
    8: A 0, B 1, C 2, D 3, E 4, F 5, G 6, H 7;
}

/// A function whose type was checked once, called with Rust values.
pub struct TypedFunc<Params, Results> {
    pub(super) func: Func,
    pub(super) slots: usize,
    _marker: PhantomData<fn(Params) -> Results>,
}

impl<P, R> Clone for TypedFunc<P, R> {
    fn clone(&self) -> Self {
        *self
    }
}

impl<P, R> Copy for TypedFunc<P, R> {}

impl<P, R> std::fmt::Debug for TypedFunc<P, R> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TypedFunc")
            .field("func", &self.func)
            .finish()
    }
}

impl<Params: WasmParams, Results: WasmResults> TypedFunc<Params, Results> {
    pub(crate) fn new(func: Func, ty: &FuncType) -> Result<Self> {
        let (p, r) = (Params::valtypes(), Results::valtypes());
        if p != ty.params() || r != ty.results() {
            return Err(Error::new_kind(
                ErrorKind::Usage,
                format!(
                    "type mismatch: the function has type {ty}, not {}",
                    FuncType::new(p, r)
                ),
            ));
        }
        Ok(Self {
            func,
            slots: ty.params().len().max(ty.results().len()),
            _marker: PhantomData,
        })
    }

    /// The untyped function.
    pub fn func(&self) -> &Func {
        &self.func
    }

    /// Calls the function.
    ///
    /// # Errors
    ///
    /// A trap or a host function's error.
    ///
    /// # Panics
    ///
    /// When the function belongs to another store.
    pub fn call(&self, mut store: impl AsContextMut, params: Params) -> Result<Results> {
        let store = store.as_context_mut().0;
        store.check(self.func.store);
        let mut buf = [0u64; 16];
        let mut heap;
        let slots: &mut [u64] = if self.slots <= buf.len() {
            &mut buf[..self.slots]
        } else {
            heap = vec![0u64; self.slots];
            &mut heap
        };
        params.store_bits(slots);
        call_raw(store, self.func.index, slots)?;
        Ok(Results::load_bits(slots))
    }
}
