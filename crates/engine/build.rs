//! Decides how the interpreter dispatches its threaded instructions
//! (`src/interp/threaded.rs`): by tail calls, which need the optimizer to
//! turn each handler's final call into a jump, or by returning to a loop.
//! Tail calls are used only where that is known to happen: optimized builds
//! for x86-64 and aarch64. Elsewhere every call would take stack, and a long
//! run of straight-line code would exhaust it.

fn main() {
    println!("cargo::rustc-check-cfg=cfg(tern_tail_calls)");
    println!("cargo::rerun-if-changed=build.rs");
    let opt = std::env::var("OPT_LEVEL").unwrap_or_default();
    let arch = std::env::var("CARGO_CFG_TARGET_ARCH").unwrap_or_default();
    let optimized = matches!(opt.as_str(), "2" | "3" | "s" | "z");
    if optimized && matches!(arch.as_str(), "x86_64" | "aarch64") {
        println!("cargo::rustc-cfg=tern_tail_calls");
    }
}
