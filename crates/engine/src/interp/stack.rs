//! The Wasm call stack: frames and their slots, on the heap.

use super::instr::Slot;
use super::{InterpFunc, Op};
use crate::runtime::vmcontext::VMContext;
use crate::trap::TrapCode;
use std::num::NonZeroUsize;

/// One activation of a Wasm function.
#[derive(Debug, Copy, Clone)]
pub(crate) struct Frame {
    /// Where to continue: the caller's next instruction while a callee runs.
    pub ip: *const Op,
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
        // Usually a handful of locals. Volatile stores keep this a short
        // loop, as in `try_push`: the compiler made a plain one a `memset`
        // call on every entry from the host.
        for slot in
            &mut self.slots[base + func.num_params as usize..base + func.num_locals as usize]
        {
            // SAFETY: `slot` is a valid, exclusive reference.
            unsafe { std::ptr::write_volatile(slot, 0) };
        }
        Ok(())
    }

    /// Enters `callee` of instance `vmctx`, called by the top frame (of
    /// the same instance) from the call whose last word is at `ip`, with
    /// its frame at slot `at` of the caller's, when the frame fits in what
    /// the stack has reserved; returns the callee's first slot. `None`, with nothing changed, when
    /// it does not fit (or there is no caller): the loop then makes the
    /// call, growing the stack or trapping.
    #[inline(always)]
    pub fn try_push(
        &mut self,
        ip: *const Op,
        callee: &InterpFunc,
        at: Slot,
        vmctx: *mut VMContext,
    ) -> Option<*mut u64> {
        let len = self.frames.len();
        if len == 0 || len >= self.frames.capacity() || len >= self.max_frames {
            return None;
        }
        let frames = self.frames.as_mut_ptr();
        // SAFETY: `0 < len`, so the frame before index `len` is initialized.
        let top = unsafe { &mut *frames.add(len - 1) };
        let base = top.base + at as usize;
        let locals = self
            .slots
            .get_mut(base..base + callee.num_slots as usize)?
            .get_mut(callee.num_params as usize..callee.num_locals as usize)?;
        // Volatile stores keep this a short loop: a `memset` call would
        // make every call save and restore registers around it.
        for slot in locals {
            // SAFETY: `slot` is a valid, exclusive reference.
            unsafe { std::ptr::write_volatile(slot, 0) };
        }
        top.ip = ip.wrapping_add(1);
        // SAFETY: `len` is below the capacity, so the frame at index `len`
        // is allocated; a `Frame` is plain data.
        unsafe {
            frames.add(len).write(Frame {
                ip: callee.code.as_ptr(),
                func: std::ptr::from_ref(callee),
                base,
                vmctx,
            });
            self.frames.set_len(len + 1);
        }
        Some(self.slots.as_mut_ptr().wrapping_add(base))
    }

    /// Leaves the top frame for its caller, when there are more than
    /// `min_frames` frames and the caller runs in the top frame's instance,
    /// `vmctx`; returns where the caller continues and its first slot.
    /// `None`, with nothing changed, otherwise: the loop then makes the
    /// return.
    #[inline(always)]
    pub fn try_pop(
        &mut self,
        min_frames: NonZeroUsize,
        vmctx: *mut VMContext,
    ) -> Option<(*const Op, *mut u64)> {
        let len = self.frames.len();
        if len <= min_frames.get() {
            return None;
        }
        // SAFETY: `len > min_frames >= 1`, so index `len - 2` is a frame.
        let caller = unsafe { *self.frames.get_unchecked(len - 2) };
        if caller.vmctx != vmctx {
            return None;
        }
        self.frames.truncate(len - 1);
        Some((caller.ip, self.slots.as_mut_ptr().wrapping_add(caller.base)))
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
    use crate::interp::instr::Instr;

    /// A function of one parameter, two locals and four slots.
    fn func() -> InterpFunc {
        InterpFunc {
            code: vec![Op::new(Instr::Return)].into(),
            func_index: 0,
            num_params: 1,
            num_results: 1,
            num_locals: 2,
            num_slots: 4,
        }
    }

    /// A stack holding the entry frame of `f` at slot 0, with room for
    /// `frames` frames and `slots` slots.
    fn entered(f: &InterpFunc, frames: usize, slots: usize) -> Stack {
        let mut stack = Stack::new(1 << 20);
        stack.frames.reserve_exact(frames);
        stack.ensure(slots).expect("room");
        stack.enter(f, 0).expect("room");
        stack.frames.push(Frame {
            ip: f.code.as_ptr(),
            func: f,
            base: 0,
            vmctx: std::ptr::null_mut(),
        });
        stack
    }

    #[test]
    fn calls_in_the_threaded_handlers_push_and_pop_frames_as_the_loop_does() {
        let f = func();
        let mut stack = entered(&f, 4, 1024);
        stack.slots_mut(0, 8).fill(7);
        let ip = f.code.as_ptr();
        let regs = stack.try_push(ip, &f, 2, std::ptr::null_mut());
        assert_eq!(regs, Some(stack.slot_ptr(2)));
        assert_eq!(stack.frames.len(), 2);
        assert_eq!(stack.frames[0].ip, ip.wrapping_add(1));
        assert_eq!(stack.frames[1].base, 2);
        // The parameter is kept, the other local zeroed, the rest left.
        assert_eq!(stack.slots_mut(2, 4), &[7, 0, 7, 7]);

        let min = NonZeroUsize::MIN;
        // A caller of another instance is left to the loop.
        assert_eq!(stack.try_pop(min, std::ptr::dangling_mut()), None);
        let back = stack.try_pop(min, std::ptr::null_mut());
        assert_eq!(back, Some((ip.wrapping_add(1), stack.slot_ptr(0))));
        // So is the return from the run's entry frame.
        assert_eq!(stack.try_pop(min, std::ptr::null_mut()), None);
        assert_eq!(stack.frames.len(), 1);
    }

    #[test]
    fn calls_beyond_the_reserved_room_are_left_to_the_loop() {
        let f = func();
        let ip = f.code.as_ptr();
        // No frame reserved beyond the entry frame.
        let mut stack = entered(&f, 1, 1024);
        stack.frames.shrink_to_fit();
        assert_eq!(stack.try_push(ip, &f, 2, std::ptr::null_mut()), None);
        // No slots beyond the entry frame's.
        let mut stack = entered(&f, 4, 0);
        let len = stack.slots.len();
        assert_eq!(
            stack.try_push(ip, &f, len as u32 - 3, std::ptr::null_mut()),
            None
        );
        // No frame allowed beyond the limit.
        let mut stack = entered(&f, 4, 1024);
        stack.max_frames = 1;
        assert_eq!(stack.try_push(ip, &f, 2, std::ptr::null_mut()), None);
        assert_eq!(stack.frames.len(), 1);
        assert_eq!(stack.frames[0].ip, ip);
    }

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
