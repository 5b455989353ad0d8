//! Backtraces across both tiers: the interpreter's frames on its heap
//! stack, compiled frames on a fiber's stack, walked through their frame
//! pointers, interleaved in the order of the store's activations.

use super::{Activation, StoreOpaque};
use crate::runtime::fiber::TrapSite;
use crate::trap::{FrameInfo, WasmBacktrace};

/// Compiled frames a walk reads at most: a bound for a corrupt chain.
const MAX_NATIVE_FRAMES: usize = 1 << 20;

impl StoreOpaque {
    /// The frames of the activations from `from` up, innermost first. For
    /// the innermost compiled activation, the walk starts at `site` when a
    /// trap was caught there, else where compiled code last left.
    pub(crate) fn backtrace_since(&self, from: usize, site: Option<TrapSite>) -> WasmBacktrace {
        let mut frames = Vec::new();
        let mut heap_top = self.stack.frames.len();
        let acts = &self.activations[from.min(self.activations.len())..];
        for (i, act) in acts.iter().enumerate().rev() {
            match *act {
                Activation::Interp { depth } => {
                    frames.extend(self.interp_frames(depth, heap_top));
                    heap_top = depth;
                }
                Activation::Compiled {
                    entry_fp,
                    exit_fp,
                    exit_pc,
                } => {
                    let (entry, pc, fp) = if i + 1 == acts.len() {
                        match site {
                            Some(s) => (self.vm.last_entry_fp, s.pc, s.fp),
                            None => (
                                self.vm.last_entry_fp,
                                self.vm.last_exit_pc,
                                self.vm.last_exit_fp,
                            ),
                        }
                    } else {
                        (entry_fp, exit_pc, exit_fp)
                    };
                    self.compiled_frames(pc, fp, entry, &mut frames);
                }
            }
        }
        WasmBacktrace::new(frames)
    }

    /// The interpreted frames from `from` up to `to`, innermost first.
    fn interp_frames(&self, from: usize, to: usize) -> Vec<FrameInfo> {
        self.stack
            .trace(from, to)
            .map(|(vmctx, func_index)| {
                // SAFETY: frames are pushed only for live instances of this
                // store, whose environments they keep alive.
                let module = unsafe { &*(*vmctx).env.cast::<crate::environ::ModuleEnv>() };
                FrameInfo {
                    module_name: module.name.clone(),
                    func_index,
                    func_name: module.func_names.get(&func_index).cloned(),
                }
            })
            .collect()
    }

    /// The compiled frames from the one running `pc` with frame pointer
    /// `fp` out to the one the trampoline with frame pointer `entry` called.
    fn compiled_frames(&self, pc: usize, mut fp: usize, entry: usize, out: &mut Vec<FrameInfo>) {
        // The first address is in its function; later ones are return
        // addresses, just after a call, which may be a function's last
        // instruction: look up the byte before.
        let mut lookup = pc;
        for _ in 0..MAX_NATIVE_FRAMES {
            if let Some(frame) = self.frame_at(lookup) {
                out.push(frame);
            }
            if fp == 0 {
                break;
            }
            // SAFETY: `fp` is the frame pointer of a live compiled frame on
            // the running (or suspended) fiber's stack: compiled code keeps
            // frame pointers, so it points at the saved caller's frame
            // pointer, followed by the return address.
            let (caller_fp, return_pc) = unsafe {
                (
                    *(fp as *const usize),
                    *((fp + size_of::<usize>()) as *const usize),
                )
            };
            // The trampoline that entered compiled code ends the walk; a
            // chain that does not go up the stack is not one to follow.
            if caller_fp == entry || caller_fp <= fp {
                break;
            }
            lookup = return_pc - 1;
            fp = caller_fp;
        }
    }

    /// The frame of the compiled function whose code holds `pc`.
    fn frame_at(&self, pc: usize) -> Option<FrameInfo> {
        let mut seen: Option<*const crate::module::ModuleInner> = None;
        for inst in &self.instances {
            let module = &*inst.module.inner;
            if seen == Some(std::ptr::from_ref(module)) {
                continue;
            }
            seen = Some(module);
            if let Some(func_index) = module.native.as_ref().and_then(|n| n.func_at(pc)) {
                return Some(FrameInfo {
                    module_name: module.name.clone(),
                    func_index,
                    func_name: module.func_names.get(&func_index).cloned(),
                });
            }
        }
        None
    }
}
