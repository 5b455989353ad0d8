//! Values checked only when they cross: resources and [`Val`] itself.

use super::{ComponentType, mismatch, wrong_val};
use crate::resources::{Resource, ResourceAny};
use crate::types::Type;
use crate::values::Val;
use tern_engine::Result;

impl<R: 'static> ComponentType for Resource<R> {
    fn typecheck(ty: &Type) -> Result<()> {
        // Which resource the number stands for is known only to an
        // instance; lowering checks it on every value.
        match ty {
            Type::Own(_) | Type::Borrow(_) => Ok(()),
            _ => Err(mismatch::<Self>(ty)),
        }
    }
    fn into_val(self) -> Val {
        Val::Resource(self.into_any())
    }
    fn from_val(val: Val) -> Result<Self> {
        match val {
            Val::Resource(r) => r.try_into_resource(),
            other => Err(wrong_val::<Self>(&other)),
        }
    }
}

impl ComponentType for ResourceAny {
    fn typecheck(ty: &Type) -> Result<()> {
        match ty {
            Type::Own(_) | Type::Borrow(_) => Ok(()),
            _ => Err(mismatch::<Self>(ty)),
        }
    }
    fn into_val(self) -> Val {
        Val::Resource(self)
    }
    fn from_val(val: Val) -> Result<Self> {
        match val {
            Val::Resource(r) => Ok(r),
            other => Err(wrong_val::<Self>(&other)),
        }
    }
}

/// Any value: checked only when it is lowered.
impl ComponentType for Val {
    fn typecheck(_: &Type) -> Result<()> {
        Ok(())
    }
    fn into_val(self) -> Val {
        self
    }
    fn from_val(val: Val) -> Result<Self> {
        Ok(val)
    }
}
