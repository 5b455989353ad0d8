//! The Wasm call stack: frames and their slots, on the heap.

use super::InterpFunc;
use super::instr::Instr;
use crate::runtime::vmcontext::VMContext;
use crate::trap::TrapCode;

/// One activation of a Wasm function.
#[derive(Debug, Copy, Clone)]
pub(crate) struct Frame {
    /// Where to continue: the caller's next instruction while a callee runs.
    pub ip: *const Instr,
    pub func: *const InterpFunc,
    /// Index of the frame's first slot in the stack.
    pub base: usize,
    /// The running function's instance.
    pub vmctx: *mut VMContext,
}

/// Frames and slots of every Wasm activation of a store.
#[derive(Debug)]
pub(crate) struct Stack {
    slots: Vec<u64>,
    pub frames: Vec<Frame>,
    max_slots: usize,
    max_frames: usize,
}

// SAFETY: the raw pointers in frames point into code owned by modules that
// the same store keeps alive; they are never shared between threads apart
// from the store moving as a whole.
unsafe impl Send for Stack {}
// SAFETY: as above; shared references never dereference the pointers.
unsafe impl Sync for Stack {}

/// The largest buffers a dropped stack leaves for the next one: 512 KiB
/// of slots, 1024 frames. Bigger ones are freed.
const SPARE_MAX_SLOTS: usize = 1 << 16;
const SPARE_MAX_FRAMES: usize = 1 << 10;

std::thread_local! {
    /// Buffers of the last stack dropped on this thread, so that a server
    /// making a store per request does not allocate them every time.
    static SPARE: std::cell::Cell<(Vec<u64>, Vec<Frame>)> =
        const { std::cell::Cell::new((Vec::new(), Vec::new())) };
}

impl Drop for Stack {
    fn drop(&mut self) {
        let slots = std::mem::take(&mut self.slots);
        let mut frames = std::mem::take(&mut self.frames);
        if slots.capacity() > SPARE_MAX_SLOTS || frames.capacity() > SPARE_MAX_FRAMES {
            return;
        }
        frames.clear();
        // During thread exit the spare is gone; the buffers are just freed.
        let _ = SPARE.try_with(|spare| spare.set((slots, frames)));
    }
}

impl Stack {
    /// A stack that may use up to `max_bytes` for slots and frames.
    pub fn new(max_bytes: usize) -> Self {
        let per_frame = std::mem::size_of::<Frame>();
        // The slots are zeroed as they are taken into use (see `grow`), so
        // nothing of the previous store's values can be read.
        let (mut slots, frames) = SPARE.try_with(|spare| spare.take()).unwrap_or_default();
        slots.clear();
        Self {
            slots,
            frames,
            max_slots: max_bytes / 2 / 8,
            max_frames: (max_bytes / 2 / per_frame).max(1),
        }
    }

    /// Pointer to slot `base`.
    #[inline(always)]
    pub fn slot_ptr(&mut self, base: usize) -> *mut u64 {
        self.slots.as_mut_ptr().wrapping_add(base)
    }

    /// The first slot above the running frame.
    pub fn top(&self) -> usize {
        match self.frames.last() {
            // SAFETY: frame functions point into modules the store keeps alive.
            Some(f) => f.base + unsafe { (*f.func).num_slots } as usize,
            None => 0,
        }
    }

    /// Reserves the slots of a frame of `func` at `base` and zeroes its
    /// non-parameter locals.
    #[inline(always)]
    pub fn enter(&mut self, func: &InterpFunc, base: usize) -> Result<(), TrapCode> {
        let end = base + func.num_slots as usize;
        if end > self.slots.len() {
            self.grow(end)?;
        }
        if self.frames.len() >= self.max_frames {
            return Err(TrapCode::StackOverflow);
        }
        // Usually a handful of locals: a plain loop beats a memset call.
        for slot in
            &mut self.slots[base + func.num_params as usize..base + func.num_locals as usize]
        {
            *slot = 0;
        }
        Ok(())
    }

    #[cold]
    fn grow(&mut self, end: usize) -> Result<(), TrapCode> {
        if end > self.max_slots {
            return Err(TrapCode::StackOverflow);
        }
        let new_len = end
            .max(self.slots.len() * 2)
            .clamp(1024, self.max_slots.max(end));
        self.slots.resize(new_len, 0);
        Ok(())
    }

    /// Slots `base..base + n`, for arguments and results.
    pub fn slots_mut(&mut self, base: usize, n: usize) -> &mut [u64] {
        &mut self.slots[base..base + n]
    }

    /// `(instance context, function index)` of the frames from `from` up
    /// to `to`, innermost first.
    pub fn trace(
        &self,
        from: usize,
        to: usize,
    ) -> impl Iterator<Item = (*mut VMContext, u32)> + '_ {
        let to = to.min(self.frames.len());
        self.frames[from.min(to)..to]
            .iter()
            .rev()
            // SAFETY: frame functions point into modules the store keeps alive.
            .map(|f| (f.vmctx, unsafe { (*f.func).func_index }))
    }

    /// Makes sure slots `base..base + n` exist (for host call arguments).
    pub fn ensure(&mut self, end: usize) -> Result<(), TrapCode> {
        if end > self.slots.len() {
            self.grow(end)?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_stack_reusing_a_dropped_ones_buffers_reads_zeros() {
        let mut first = Stack::new(1 << 20);
        first.ensure(3000).expect("room");
        first.slots_mut(0, 3000).fill(u64::MAX);
        let buffer = first.slot_ptr(0);
        drop(first);

        let mut second = Stack::new(1 << 20);
        second.ensure(2000).expect("room");
        // The same buffer came back, and every slot in use reads zero.
        assert_eq!(second.slot_ptr(0), buffer);
        assert!(
            second
                .slots_mut(0, second.slots.len())
                .iter()
                .all(|&s| s == 0)
        );
    }
}
