//! Tuples of Rust types as a function's parameters and results.

use super::ComponentType;
use crate::abi::layout;
use crate::abi::{Lifter, Lowerer};
use crate::types::{FuncType, Type};
use crate::util::usage;
use crate::values::Val;
use tern_engine::{AsContextMut, Result};

/// A tuple of Rust types that stands for a function's parameters (or, as
/// `()` or `(T,)`, for its result).
pub trait ComponentList: Sized + 'static {
    /// Checks the types against `types`, naming the first that differs.
    ///
    /// # Errors
    ///
    /// When the counts or a type differ.
    fn typecheck(types: &[&Type]) -> Result<()>;
    /// The values, in order.
    fn into_vals(self) -> Vec<Val>;
    /// The values of `vals`, in order.
    ///
    /// # Errors
    ///
    /// When a value is of another type.
    fn from_vals(vals: Vec<Val>) -> Result<Self>;

    /// Lifts parameters of `types` from the core parameters of a lowered
    /// call (through memory when they do not fit).
    #[doc(hidden)]
    fn lift_params<S: AsContextMut>(
        cx: &mut Lifter<'_, S>,
        ty: &FuncType,
        core: &[u64],
    ) -> Result<Self>;

    /// Lowers the values as parameters of `types` to flat values for a
    /// lifted call (through memory the callee allocates when they do not
    /// fit).
    #[doc(hidden)]
    fn lower_params<S: AsContextMut>(
        self,
        cx: &mut Lowerer<'_, S>,
        ty: &FuncType,
        out: &mut Vec<u64>,
    ) -> Result<()>;

    /// Lifts the result of type `result` from a lifted call's core results.
    #[doc(hidden)]
    fn lift_results<S: AsContextMut>(
        cx: &mut Lifter<'_, S>,
        ty: &FuncType,
        core: &[u64],
    ) -> Result<Self>;

    /// Lowers the values as the result of type `result` of a lowered call:
    /// to its core results, or through the pointer its last core parameter
    /// holds.
    #[doc(hidden)]
    fn lower_results<S: AsContextMut>(
        self,
        cx: &mut Lowerer<'_, S>,
        ty: &FuncType,
        core_params: &[u64],
        core_results: &mut [u64],
    ) -> Result<()>;
}

/// The next of the types a list of Rust types was checked against.
fn next_type<'t>(types: &mut impl Iterator<Item = &'t Type>) -> Result<&'t Type> {
    types
        .next()
        .ok_or_else(|| usage("fewer types than the Rust tuple has values"))
}

/// The core pointer in `v`, where values go through memory.
fn core_ptr(v: Option<&u64>) -> Result<u32> {
    v.map(|p| *p as u32)
        .ok_or_else(|| usage("no pointer where values go through memory"))
}

macro_rules! lists {
    ($(($($t:ident),*))*) => {$(
        #[allow(non_snake_case)]
        impl<$($t: ComponentType),*> ComponentList for ($($t,)*) {
            fn typecheck(types: &[&Type]) -> Result<()> {
                let want = <[&str]>::len(&[$(stringify!($t)),*]);
                if types.len() != want {
                    return Err(usage(format!(
                        "type mismatch: {} values expected, the Rust tuple has {want}",
                        types.len()
                    )));
                }
                let mut _i = 0;
                $(
                    $t::typecheck(types[_i])
                        .map_err(|e| usage(format!("value {_i}: {}", e.message())))?;
                    _i += 1;
                )*
                Ok(())
            }
            fn into_vals(self) -> Vec<Val> {
                let ($($t,)*) = self;
                vec![$($t.into_val()),*]
            }
            fn from_vals(vals: Vec<Val>) -> Result<Self> {
                let mut _it = vals.into_iter();
                Ok(($($t::from_val(_it.next().ok_or_else(|| usage("too few values"))?)?,)*))
            }
            fn lift_params<S: AsContextMut>(
                _cx: &mut Lifter<'_, S>,
                ty: &FuncType,
                core: &[u64],
            ) -> Result<Self> {
                let mut _types = ty.params.iter().map(|(_, t)| t);
                if ty.params_spilled {
                    let _ptr = core_ptr(core.first())?;
                    let mut _offset = 0;
                    Ok(($({
                        let t = next_type(&mut _types)?;
                        _offset = layout::align_to(_offset, layout::alignment(t));
                        let v = $t::load(_cx, t, _ptr + _offset)?;
                        _offset += layout::size(t);
                        v
                    },)*))
                } else {
                    let mut _bits = core.iter().copied();
                    Ok(($($t::lift_flat(_cx, next_type(&mut _types)?, &mut _bits)?,)*))
                }
            }
            fn lower_params<S: AsContextMut>(
                self,
                _cx: &mut Lowerer<'_, S>,
                ty: &FuncType,
                _out: &mut Vec<u64>,
            ) -> Result<()> {
                let ($($t,)*) = self;
                let mut _types = ty.params.iter().map(|(_, t)| t);
                if ty.params_spilled {
                    let (mut size, mut align) = (0, 1);
                    for (_, t) in ty.params.iter() {
                        size = layout::align_to(size, layout::alignment(t)) + layout::size(t);
                        align = align.max(layout::alignment(t));
                    }
                    let _ptr = _cx.alloc(align, u64::from(layout::align_to(size, align)))?;
                    let mut _offset = 0;
                    $(
                        let t = next_type(&mut _types)?;
                        _offset = layout::align_to(_offset, layout::alignment(t));
                        $t.store(_cx, t, _ptr + _offset)?;
                        _offset += layout::size(t);
                    )*
                    _out.push(u64::from(_ptr));
                } else {
                    $($t.lower_flat(_cx, next_type(&mut _types)?, _out)?;)*
                }
                Ok(())
            }
            fn lift_results<S: AsContextMut>(
                _cx: &mut Lifter<'_, S>,
                ty: &FuncType,
                _core: &[u64],
            ) -> Result<Self> {
                let mut _types = ty.result.iter();
                Ok(($({
                    let t = next_type(&mut _types)?;
                    if ty.result_spilled {
                        $t::load(_cx, t, core_ptr(_core.first())?)?
                    } else {
                        $t::lift_flat(_cx, t, &mut _core.iter().copied())?
                    }
                },)*))
            }
            fn lower_results<S: AsContextMut>(
                self,
                _cx: &mut Lowerer<'_, S>,
                ty: &FuncType,
                _core_params: &[u64],
                _core_results: &mut [u64],
            ) -> Result<()> {
                let ($($t,)*) = self;
                let mut _types = ty.result.iter();
                $(
                    let t = next_type(&mut _types)?;
                    if ty.result_spilled {
                        $t.store(_cx, t, core_ptr(_core_params.last())?)?;
                    } else {
                        let mut bits = Vec::with_capacity(_core_results.len());
                        $t.lower_flat(_cx, t, &mut bits)?;
                        for (slot, b) in _core_results.iter_mut().zip(bits) {
                            *slot = b;
                        }
                    }
                )*
                Ok(())
            }
        }
    )*};
}

lists! {
    ()
    (A)
    (A, B)
    (A, B, C)
    (A, B, C, D)
    (A, B, C, D, E)
    (A, B, C, D, E, F)
    (A, B, C, D, E, F, G)
    (A, B, C, D, E, F, G, H)
}

/// Checks `Params` and `Results` against function type `ty`.
pub(crate) fn typecheck_func<Params: ComponentList, Results: ComponentList>(
    ty: &FuncType,
) -> Result<()> {
    let params: Vec<&Type> = ty.params().iter().map(|(_, t)| t).collect();
    Params::typecheck(&params).map_err(|e| usage(format!("parameters: {}", e.message())))?;
    let results: Vec<&Type> = ty.result().into_iter().collect();
    Results::typecheck(&results).map_err(|e| usage(format!("result: {}", e.message())))
}
