//! Storage for function references that must not move: an arena that grows
//! by whole chunks.

use super::vmcontext::VMFuncRef;
use std::ptr::NonNull;

/// Function references with stable addresses, for functions that have no
/// instance context to live in (host functions).
#[derive(Debug, Default)]
pub(crate) struct FuncRefArena {
    chunks: Vec<Vec<VMFuncRef>>,
}

// SAFETY: the references point to code and contexts of the store that owns
// the arena, which moves between threads as a whole.
unsafe impl Send for FuncRefArena {}
// SAFETY: shared access only reads.
unsafe impl Sync for FuncRefArena {}

impl FuncRefArena {
    /// Stores `func`; its address stays valid as long as the arena.
    pub fn push(&mut self, func: VMFuncRef) -> NonNull<VMFuncRef> {
        let full = self.chunks.last().is_none_or(|c| c.len() == c.capacity());
        if full {
            let cap = self.chunks.last().map_or(16, |c| c.capacity() * 2);
            self.chunks.push(Vec::with_capacity(cap));
        }
        let chunk = self.chunks.last_mut().expect("a chunk with room");
        // Never past the capacity, so the chunk never reallocates.
        chunk.push(func);
        NonNull::from(chunk.last_mut().expect("just pushed"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::runtime::vmcontext::FuncKind;

    unsafe extern "C" fn nothing(
        _: *mut VMFuncRef,
        _: *mut crate::runtime::vmcontext::VMContext,
        _: *mut u64,
        _: usize,
    ) -> bool {
        true
    }

    #[test]
    fn references_keep_their_address_as_the_arena_grows() {
        let mut arena = FuncRefArena::default();
        let refs: Vec<_> = (0..100)
            .map(|i| {
                arena.push(VMFuncRef {
                    wasm_call: std::ptr::null(),
                    array_call: nothing,
                    vmctx: std::ptr::null_mut(),
                    instance: std::ptr::null_mut(),
                    type_id: 0,
                    kind: FuncKind::Host as u32,
                    index: i,
                    store_func: i,
                })
            })
            .collect();
        for (i, r) in refs.iter().enumerate() {
            // SAFETY: the arena is alive and never moves its references.
            assert_eq!(unsafe { r.as_ref() }.index, i as u32);
        }
    }
}
