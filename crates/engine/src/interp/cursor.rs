//! Where the interpreter is: the stack, store and running instance that
//! the loop (`exec.rs`) and the threaded handlers (`threaded.rs`) share.

use super::access::MemCache;
use super::stack::Stack;
use super::{InterpCode, InterpFunc};
use crate::environ::ModuleEnv;
use crate::runtime::vmcontext::{
    FuncKind, VMContext, VMFuncRef, VMGlobalDefinition, VMOffsets, VMStoreContext,
};
use std::num::NonZeroUsize;
use std::ptr::NonNull;

/// The run's stack, store and running instance: what the loop and the
/// threaded handlers (which are handed a pointer to it) need besides the
/// instruction pointer, the frame's slots and the memory, which they keep
/// in registers.
pub(super) struct Cursor {
    /// The instance's global pointers.
    pub globals: *const *mut VMGlobalDefinition,
    pub vmctx: *mut VMContext,
    pub(super) env: *const ModuleEnv,
    pub code: *const InterpCode,
    /// The store's context: fuel and the epoch deadline.
    pub vm: *mut VMStoreContext,
    /// The store's interpreter stack.
    pub stack: NonNull<Stack>,
    /// The frames below the run's entry frame, plus that one: a return
    /// from a frame at this depth ends the run.
    pub min_frames: NonZeroUsize,
}

impl Cursor {
    /// # Safety
    ///
    /// `vmctx` is a live instance context whose module has interpreter
    /// code.
    pub(super) unsafe fn new(
        stack: NonNull<Stack>,
        entry_depth: usize,
        vmctx: *mut VMContext,
    ) -> Self {
        // SAFETY: as the caller guarantees.
        unsafe {
            let env: *const ModuleEnv = (*vmctx).env.cast();
            Self {
                globals: VMContext::globals(vmctx, &(*env).offsets),
                vmctx,
                env,
                code: (*vmctx).interp.cast(),
                vm: (*vmctx).store,
                stack,
                min_frames: NonZeroUsize::MIN.saturating_add(entry_depth),
            }
        }
    }

    /// Moves to instance `vmctx`.
    ///
    /// # Safety
    ///
    /// As for [`Cursor::new`].
    pub(super) unsafe fn switch(&mut self, vmctx: *mut VMContext) {
        // SAFETY: as the caller guarantees.
        *self = unsafe { Self::new(self.stack, self.min_frames.get() - 1, vmctx) };
    }

    pub(super) fn env(&self) -> &ModuleEnv {
        // SAFETY: the instance keeps its module's environment alive.
        unsafe { &*self.env }
    }

    pub(super) fn offsets(&self) -> &VMOffsets {
        &self.env().offsets
    }

    /// The interpreted function of the running instance that entry `i` of
    /// `table` refers to, when it is translated and of type `type_index`;
    /// `None` for any other entry, which the loop then calls or traps on.
    ///
    /// # Safety
    ///
    /// `table` is a table of the running instance, and `type_index` a type
    /// of its module.
    #[inline(always)]
    pub(super) unsafe fn indirect_callee(
        &self,
        table: u32,
        type_index: u32,
        i: u32,
    ) -> Option<&InterpFunc> {
        // SAFETY: as the caller guarantees; the definition describes the
        // table's current elements, which are null or live function
        // references of the store.
        let f = unsafe {
            let t = VMContext::table(self.vmctx, self.offsets(), table);
            if u64::from(i) >= (*t).current_elements {
                return None;
            }
            (*(*t).base.add(i as usize) as *const VMFuncRef).as_ref()?
        };
        if f.instance != self.vmctx
            || f.kind != FuncKind::Interpreted as u32
            || f.type_id != self.env().type_ids.get(type_index as usize)?.0
        {
            return None;
        }
        // SAFETY: the instance keeps its module's code alive.
        unsafe { (*self.code).translated(f.index) }
    }

    /// The default memory of the running instance.
    pub(super) fn mem(&self) -> MemCache {
        if self.offsets().num_memories == 0 {
            return MemCache {
                base: std::ptr::null_mut(),
                len: 0,
            };
        }
        // SAFETY: the instance has a memory 0, whose definition lives as
        // long as the store.
        unsafe {
            let def = VMContext::memory(self.vmctx, self.offsets(), 0);
            MemCache {
                base: (*def).base,
                len: (*def).current_length,
            }
        }
    }
}
