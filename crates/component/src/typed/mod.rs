//! Rust types that stand for component types, checked once against a
//! function's type, so calls and host functions take and return plain Rust
//! values.
//!
//! Values of these types cross the canonical ABI directly, between linear
//! memory and Rust values, with every check a [`Val`] would get; what has
//! no direct path yet goes through a [`Val`].

mod containers;
mod dynamic;
mod func;
mod params;
mod scalars;
mod tuples;

pub use func::TypedFunc;
pub use params::ComponentList;
pub(crate) use params::typecheck_func;

use crate::abi::layout;
use crate::abi::{Lifter, Lowerer};
use crate::types::Type;
use crate::util::usage;
use crate::values::Val;
use tern_engine::{AsContextMut, Result};

/// A Rust type that stands for a component value type.
pub trait ComponentType: Sized + 'static {
    /// Whether this is `()`, which stands for "no payload" in the cases of
    /// `result` (as in `Result<(), String>`).
    #[doc(hidden)]
    const IS_UNIT: bool = false;

    /// Whether values of this type can stand for values of `ty`; the error
    /// says what `ty` is and what this type is.
    ///
    /// # Errors
    ///
    /// When the types differ.
    fn typecheck(ty: &Type) -> Result<()>;

    /// The value as a dynamic value.
    fn into_val(self) -> Val;

    /// The value of a dynamic value.
    ///
    /// # Errors
    ///
    /// When `val` is of another type.
    fn from_val(val: Val) -> Result<Self>;

    // What follows moves values across the canonical ABI without making
    // `Val`s of them where a type can do better (lists of numbers are
    // copied whole, tuples and options field by field). The defaults go
    // through `Val`; either way every value is checked.

    /// Lifts a value of `ty` from flat core values.
    #[doc(hidden)]
    fn lift_flat<S: AsContextMut>(
        cx: &mut Lifter<'_, S>,
        ty: &Type,
        src: &mut dyn Iterator<Item = u64>,
    ) -> Result<Self> {
        Self::from_val(cx.lift_flat(ty, src)?)
    }

    /// Loads a value of `ty` from memory at `ptr`.
    #[doc(hidden)]
    fn load<S: AsContextMut>(cx: &mut Lifter<'_, S>, ty: &Type, ptr: u32) -> Result<Self> {
        Self::from_val(cx.load(ty, ptr)?)
    }

    /// Loads a list of `len` values of `elem` at `ptr`.
    #[doc(hidden)]
    fn load_list<S: AsContextMut>(
        cx: &mut Lifter<'_, S>,
        elem: &Type,
        ptr: u32,
        len: u32,
    ) -> Result<Vec<Self>> {
        let (elem_size, _) = cx.check_list(elem, ptr, len, size_of::<Self>())?;
        (0..len)
            .map(|i| Self::load(cx, elem, ptr + i * elem_size))
            .collect()
    }

    /// Lowers the value as `ty` to flat core values appended to `out`.
    #[doc(hidden)]
    fn lower_flat<S: AsContextMut>(
        self,
        cx: &mut Lowerer<'_, S>,
        ty: &Type,
        out: &mut Vec<u64>,
    ) -> Result<()> {
        cx.lower_flat(ty, &self.into_val(), out)
    }

    /// Stores the value as `ty` at `ptr`.
    #[doc(hidden)]
    fn store<S: AsContextMut>(self, cx: &mut Lowerer<'_, S>, ty: &Type, ptr: u32) -> Result<()> {
        cx.store(ty, &self.into_val(), ptr)
    }

    /// Stores `items` as a new list of `elem`: its address and length.
    #[doc(hidden)]
    fn store_list<S: AsContextMut>(
        items: Vec<Self>,
        cx: &mut Lowerer<'_, S>,
        elem: &Type,
    ) -> Result<(u32, u32)> {
        let (ptr, len, elem_size) = cx.alloc_list(elem, items.len())?;
        for (i, item) in items.into_iter().enumerate() {
            item.store(cx, elem, ptr + i as u32 * elem_size)?;
        }
        Ok((ptr, len))
    }
}

fn mismatch<T>(ty: &Type) -> tern_engine::Error {
    usage(format!(
        "type mismatch: expected {ty}, the Rust type is {}",
        std::any::type_name::<T>()
    ))
}

fn wrong_val<T>(val: &Val) -> tern_engine::Error {
    usage(format!(
        "a {} value cannot be a {}",
        val.desc(),
        std::any::type_name::<T>()
    ))
}

/// The address and length of a string or list from flat values.
fn flat_pair(src: &mut dyn Iterator<Item = u64>) -> Result<(u32, u32)> {
    let mut next = || {
        src.next()
            .ok_or_else(|| crate::util::abi_trap("too few flat values"))
    };
    Ok((next()? as u32, next()? as u32))
}

/// Traps unless `ptr` is aligned for a value of `ty`.
#[inline]
fn check_aligned(ty: &Type, ptr: u32) -> Result<()> {
    let align = layout::alignment(ty);
    if ptr.is_multiple_of(align) {
        Ok(())
    } else {
        Err(crate::util::abi_trap(format!(
            "pointer {ptr} to a {ty} is not {align}-byte aligned"
        )))
    }
}
