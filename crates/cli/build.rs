//! Link options of the `tern` binary that make each process start faster.
//!
//! Packed relative relocations (DT_RELR), where the C library supports
//! them: the binary stays position-independent (its address is still
//! randomized), but the dynamic loader applies its ~25,000 relative
//! relocations from a few kilobytes of bitmaps instead of 600 KB of tables.
//! On this project's machine that is about 6% of the CPU time of `tern run`
//! on a small program.
//!
//! A binary linked so runs only with glibc 2.36 or later, so the option is
//! used only when the build links against such a C library on the machine
//! it builds on (the library names the `GLIBC_ABI_DT_RELR` version).
//!
//! The unwinder linked in from `libgcc_eh.a` rather than loaded from
//! `libgcc_s.so.1`: loading that library runs its constructor, which queries
//! the CPU with `cpuid` about ten times. Under a hypervisor each query traps
//! (about 9 µs each on this project's machine), so the shared library cost
//! about 80 µs of every start. Panics still unwind as before.

fn main() {
    println!("cargo:rerun-if-changed=build.rs");
    let var = |k: &str| std::env::var(k).unwrap_or_default();
    let arch = var("CARGO_CFG_TARGET_ARCH");
    let native = var("HOST") == var("TARGET");
    if native
        && var("CARGO_CFG_TARGET_OS") == "linux"
        && var("CARGO_CFG_TARGET_ENV") == "gnu"
        && matches!(arch.as_str(), "x86_64" | "aarch64")
        && libc_supports_relr(&arch)
    {
        println!("cargo:rustc-link-arg-bin=tern=-Wl,-z,pack-relative-relocs");
    }
    if native && var("CARGO_CFG_TARGET_ENV") == "gnu" {
        link_unwinder_statically();
    }
}

/// Links the unwinder from `libgcc_eh.a` into the binary instead of loading
/// `libgcc_s.so.1` at start: the standard library asks for `-lgcc_s`, which
/// a linker script of that name, in a directory the linker searches first,
/// redirects. Nothing changes where the C compiler has no `libgcc_eh.a`.
fn link_unwinder_statically() {
    let out = std::path::PathBuf::from(std::env::var("OUT_DIR").unwrap()).join("unwinder");
    let found = std::process::Command::new(std::env::var("CC").unwrap_or("cc".into()))
        .arg("-print-file-name=libgcc_eh.a")
        .output()
        .ok()
        .map(|o| std::path::PathBuf::from(String::from_utf8_lossy(&o.stdout).trim()))
        .filter(|p| p.is_absolute() && p.exists());
    if found.is_none() || std::fs::create_dir_all(&out).is_err() {
        return;
    }
    if std::fs::write(out.join("libgcc_s.so"), "INPUT(-lgcc_eh)\n").is_ok() {
        println!("cargo:rustc-link-arg-bin=tern=-L{}", out.display());
    }
}

/// Whether the system's glibc for `arch` provides DT_RELR.
fn libc_supports_relr(arch: &str) -> bool {
    let candidates = [
        format!("/lib/{arch}-linux-gnu/libc.so.6"),
        format!("/usr/lib/{arch}-linux-gnu/libc.so.6"),
        "/lib64/libc.so.6".to_string(),
        "/usr/lib64/libc.so.6".to_string(),
    ];
    let Some(libc) = candidates.iter().find_map(|p| std::fs::read(p).ok()) else {
        return false;
    };
    let needle = b"GLIBC_ABI_DT_RELR";
    libc.windows(needle.len()).any(|w| w == needle)
}
