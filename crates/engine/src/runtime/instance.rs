//! The per-instance context: one allocation laid out by [`VMOffsets`].

use super::vmcontext::{
    VMContext, VMFuncRef, VMGlobalDefinition, VMMemoryDefinition, VMOffsets, VMTableDefinition,
};
use std::alloc::Layout;
use std::ptr::NonNull;

/// An instance's [`VMContext`] and the arrays after it, owned.
///
/// The allocation never moves, so code and function references can point
/// into it for as long as the store that owns the instance lives. Setters
/// check their index against the layout; the contents are plain data.
#[derive(Debug)]
pub(crate) struct InstanceContext {
    ptr: NonNull<VMContext>,
    offsets: VMOffsets,
}

// SAFETY: the context is owned by this value and by the store holding it;
// the pointers inside point to entities of the same store, which moves
// between threads as a whole.
unsafe impl Send for InstanceContext {}
// SAFETY: shared access only reads.
unsafe impl Sync for InstanceContext {}

impl InstanceContext {
    fn layout(offsets: &VMOffsets) -> Layout {
        Layout::from_size_align(offsets.size() as usize, 16).expect("a context fits in memory")
    }

    /// A zeroed context laid out by `offsets`, with `header` at its start.
    pub fn new(offsets: VMOffsets, header: VMContext) -> Self {
        let layout = Self::layout(&offsets);
        // SAFETY: the layout is never zero-sized (the header has fields).
        let raw = unsafe { std::alloc::alloc_zeroed(layout) };
        let Some(ptr) = NonNull::new(raw.cast::<VMContext>()) else {
            std::alloc::handle_alloc_error(layout)
        };
        // SAFETY: the allocation starts with room for the header, aligned.
        unsafe { ptr.as_ptr().write(header) };
        Self { ptr, offsets }
    }

    /// The context, as code sees it.
    pub fn as_ptr(&self) -> *mut VMContext {
        self.ptr.as_ptr()
    }

    /// The slot at `offset`, of type `F`.
    fn slot<F>(&self, offset: u32) -> *mut F {
        debug_assert!(offset as usize + size_of::<F>() <= self.offsets.size() as usize);
        // SAFETY: every offset passed here comes from `self.offsets` for an
        // index checked by the caller, so it lies inside the allocation.
        unsafe { self.ptr.as_ptr().cast::<u8>().add(offset as usize).cast() }
    }

    /// Points imported function `i` at `func`.
    pub fn set_imported_func(&mut self, i: u32, func: *mut VMFuncRef) {
        assert!(i < self.offsets.num_imported_funcs);
        // SAFETY: `slot` points inside the allocation, aligned for a pointer.
        unsafe { *self.slot(self.offsets.imported_func(i)) = func };
    }

    /// Points memory `i` at `def`.
    pub fn set_memory(&mut self, i: u32, def: *mut VMMemoryDefinition) {
        assert!(i < self.offsets.num_memories);
        // SAFETY: as in `set_imported_func`.
        unsafe { *self.slot(self.offsets.memory(i)) = def };
    }

    /// Points table `i` at `def`.
    pub fn set_table(&mut self, i: u32, def: *mut VMTableDefinition) {
        assert!(i < self.offsets.num_tables);
        // SAFETY: as in `set_imported_func`.
        unsafe { *self.slot(self.offsets.table(i)) = def };
    }

    /// Points global `i` at `cell`.
    pub fn set_global(&mut self, i: u32, cell: *mut VMGlobalDefinition) {
        assert!(i < self.offsets.num_globals);
        // SAFETY: as in `set_imported_func`.
        unsafe { *self.slot(self.offsets.global(i)) = cell };
    }

    /// The cell of defined global `i`, inside the context.
    pub fn defined_global(&self, i: u32) -> NonNull<VMGlobalDefinition> {
        assert!(i < self.offsets.num_defined_globals);
        let offset = self.offsets.defined_globals() + i * size_of::<VMGlobalDefinition>() as u32;
        NonNull::new(self.slot(offset)).expect("inside a live allocation")
    }

    /// The reference of defined function `i`, inside the context.
    pub fn func_ref(&self, i: u32) -> NonNull<VMFuncRef> {
        assert!(i < self.offsets.num_defined_funcs);
        NonNull::new(self.slot(self.offsets.func_ref(i))).expect("inside a live allocation")
    }

    /// Sets defined function `i`'s reference.
    pub fn set_func_ref(&mut self, i: u32, func: VMFuncRef) {
        // SAFETY: `func_ref` points inside the allocation, aligned for a
        // reference; the slot holds plain data.
        unsafe { self.func_ref(i).as_ptr().write(func) };
    }

    /// The reference of function `i` of the module's index space.
    pub fn any_func_ref(&self, i: u32) -> *mut VMFuncRef {
        match i.checked_sub(self.offsets.num_imported_funcs) {
            // SAFETY: `slot` points inside the allocation; instantiation
            // sets every import before reading any.
            None => unsafe { *self.slot::<*mut VMFuncRef>(self.offsets.imported_func(i)) },
            Some(d) => self.func_ref(d).as_ptr(),
        }
    }
}

impl Drop for InstanceContext {
    fn drop(&mut self) {
        // SAFETY: the allocation was made in `new` with this layout; code
        // of the store no longer runs when its instances drop.
        unsafe {
            (*self.ptr.as_ptr()).magic = 0;
            std::alloc::dealloc(self.ptr.as_ptr().cast(), Self::layout(&self.offsets));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::runtime::vmcontext::{VMCONTEXT_MAGIC, VMStoreContext};

    fn header() -> VMContext {
        VMContext {
            magic: VMCONTEXT_MAGIC,
            instance: 3,
            store: std::ptr::null_mut::<VMStoreContext>(),
            builtins: std::ptr::null(),
            env: std::ptr::null(),
            interp: std::ptr::null(),
        }
    }

    #[test]
    fn setters_write_where_the_offsets_say() {
        let offsets = VMOffsets {
            num_imported_funcs: 1,
            num_memories: 1,
            num_tables: 2,
            num_globals: 2,
            num_defined_globals: 1,
            num_defined_funcs: 2,
        };
        let mut cx = InstanceContext::new(offsets, header());
        // SAFETY: the context starts with its header.
        assert_eq!(unsafe { (*cx.as_ptr()).instance }, 3);
        let mut table = VMTableDefinition {
            base: std::ptr::null_mut(),
            current_elements: 9,
        };
        cx.set_table(1, &mut table);
        let cell = cx.defined_global(0);
        cx.set_global(1, cell.as_ptr());
        let vmctx = cx.as_ptr();
        // SAFETY: the context is live and laid out by `offsets`.
        unsafe {
            assert_eq!((*VMContext::table(vmctx, &offsets, 1)).current_elements, 9);
            assert_eq!(*VMContext::globals(vmctx, &offsets).add(1), cell.as_ptr());
            (**VMContext::globals(vmctx, &offsets).add(1)).set(42);
        }
        assert_eq!(
            (cell.as_ptr() as usize - vmctx as usize) as u32,
            offsets.defined_globals()
        );
        // SAFETY: as above.
        assert_eq!(unsafe { cell.as_ref() }.get(), 42);
        assert_eq!(
            (cx.func_ref(1).as_ptr() as usize - vmctx as usize) as u32,
            offsets.func_ref(1)
        );
    }

    #[test]
    #[should_panic]
    fn an_index_past_the_layout_panics_instead_of_writing() {
        let offsets = VMOffsets {
            num_imported_funcs: 0,
            num_memories: 0,
            num_tables: 1,
            num_globals: 0,
            num_defined_globals: 0,
            num_defined_funcs: 0,
        };
        let mut cx = InstanceContext::new(offsets, header());
        cx.set_table(1, std::ptr::null_mut());
    }
}
