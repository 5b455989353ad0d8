//! The `wasi_snapshot_preview1` functions and their registration.
//!
//! Each function is a plain Rust function over the [`WasiCtx`] and the
//! caller's [`GuestMemory`] that returns `Result<(), Errno>`; the linker
//! glue turns that into the errno the guest sees. Layouts and constants
//! follow the `wasi_snapshot_preview1` witx definitions.

mod fd;
mod misc;
mod path;
mod sock;

use crate::ctx::WasiCtx;
use crate::errno::Errno;
use crate::memory::GuestMemory;
use crate::rights::{self, Rights};
use crate::strings::StringList;
use crate::table::Descriptor;
use std::time::Instant;
use tern_engine::{Caller, Error, Extern, FuncType, Linker, TrapCode, Val, ValType, Yield};

/// The import module name.
pub(crate) const MODULE: &str = "wasi_snapshot_preview1";

// filetype
pub(crate) const FILETYPE_UNKNOWN: u8 = 0;
pub(crate) const FILETYPE_BLOCK_DEVICE: u8 = 1;
pub(crate) const FILETYPE_CHARACTER_DEVICE: u8 = 2;
pub(crate) const FILETYPE_DIRECTORY: u8 = 3;
pub(crate) const FILETYPE_REGULAR_FILE: u8 = 4;
pub(crate) const FILETYPE_SOCKET_STREAM: u8 = 6;
pub(crate) const FILETYPE_SYMBOLIC_LINK: u8 = 7;

// fdflags
pub(crate) const FDFLAGS_APPEND: u16 = 1;
pub(crate) const FDFLAGS_NONBLOCK: u16 = 1 << 2;

// oflags
pub(crate) const OFLAGS_CREAT: u16 = 1;
pub(crate) const OFLAGS_DIRECTORY: u16 = 2;
pub(crate) const OFLAGS_EXCL: u16 = 4;
pub(crate) const OFLAGS_TRUNC: u16 = 8;

// lookupflags
pub(crate) const LOOKUP_SYMLINK_FOLLOW: u32 = 1;

/// Runs `f` with the WASI context and the caller's memory and turns its
/// outcome into an errno.
///
/// The context is moved out of the store for the call, so the guest's memory
/// (also inside the store) can be borrowed at the same time without
/// copying; it is put back before returning.
fn dispatch<T>(
    caller: &mut Caller<'_, T>,
    get_cx: impl Fn(&mut T) -> &mut WasiCtx,
    blocking: Blocking,
    fd: Option<i32>,
    f: impl FnOnce(&mut WasiCtx, &mut GuestMemory<'_>) -> Result<(), Errno>,
) -> Result<i32, Error> {
    if get_cx(caller.data_mut()).defer_blocking && blocking.applies(caller, &get_cx, fd) {
        return Err(Error::new(Yield));
    }
    let memory = caller
        .get_export("memory")
        .and_then(Extern::into_memory)
        .ok_or_else(|| Error::msg("wasi: the calling module does not export `memory`"))?;
    let (bytes, data) = memory.data_and_store_mut(caller);
    let cx = get_cx(data);
    let result = f(cx, &mut GuestMemory::new(bytes));
    if cx.deadline.is_some_and(|d| Instant::now() >= d) {
        return Err(TrapCode::Interrupt.into());
    }
    Ok(match result {
        Ok(()) => 0,
        Err(Errno(e)) => i32::from(e),
    })
}

/// Whether a call may block its thread, for
/// [`WasiCtx::defer_blocking_calls`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Blocking {
    /// Never: it only reads or writes the context, or asks the OS for
    /// something that does not wait.
    Never,
    /// Always: it sleeps, yields the thread, or resolves a path.
    Always,
    /// When its first argument is a file, directory or socket descriptor
    /// rather than a standard stream.
    OnFd,
}

impl Blocking {
    fn of(name: &str) -> Self {
        match name {
            "poll_oneoff" | "sched_yield" => Self::Always,
            _ if name.starts_with("path_") => Self::Always,
            "fd_read"
            | "fd_write"
            | "fd_pread"
            | "fd_pwrite"
            | "fd_readdir"
            | "fd_sync"
            | "fd_datasync"
            | "fd_allocate"
            | "fd_filestat_set_size"
            | "fd_filestat_set_times" => Self::OnFd,
            _ if name.starts_with("sock_") => Self::OnFd,
            _ => Self::Never,
        }
    }

    fn applies<T>(
        self,
        caller: &mut Caller<'_, T>,
        get_cx: &impl Fn(&mut T) -> &mut WasiCtx,
        fd: Option<i32>,
    ) -> bool {
        match self {
            Self::Never => false,
            Self::Always => true,
            Self::OnFd => !matches!(
                fd.map(|fd| get_cx(caller.data_mut()).table.get(fd as u32)),
                Some(Ok(Descriptor::Stdin | Descriptor::Stdout | Descriptor::Stderr) | Err(_))
            ),
        }
    }
}

/// The first of a function's arguments, if it has any.
macro_rules! first_arg {
    () => {
        None
    };
    ($first:ident $(, $rest:ident)*) => {
        Some($first as i32)
    };
}

/// Registers one function whose parameters are all `i32`/`i64` and whose
/// result is an errno.
macro_rules! wasi_fn {
    ($linker:ident, $get:ident, $name:literal,
     |$cx:ident, $mem:ident $(, $arg:ident : $ty:ty)*| $body:expr) => {
        let blocking = Blocking::of($name);
        $linker.func_wrap(
            MODULE,
            $name,
            move |mut caller: Caller<'_, T>, $($arg: $ty),*| -> Result<i32, Error> {
                let fd: Option<i32> = first_arg!($($arg),*);
                dispatch(&mut caller, $get, blocking, fd, |$cx, $mem| $body)
            },
        )?;
    };
}

/// Defines every `wasi_snapshot_preview1` function in `linker`; `get_cx`
/// finds the [`WasiCtx`] in the store's data.
///
/// # Errors
///
/// When a function of that module is already defined and the linker does
/// not allow shadowing.
pub fn add_to_linker<T: 'static>(
    linker: &mut Linker<T>,
    get_cx: impl Fn(&mut T) -> &mut WasiCtx + Send + Sync + Copy + 'static,
) -> Result<(), Error> {
    let g = get_cx;

    wasi_fn!(linker, g, "args_get", |cx, mem, argv: i32, buf: i32| {
        misc::strings_get(&cx.args, mem, argv as u32, buf as u32)
    });
    wasi_fn!(
        linker,
        g,
        "args_sizes_get",
        |cx, mem, argc: i32, size: i32| {
            misc::strings_sizes(&cx.args, mem, argc as u32, size as u32)
        }
    );
    wasi_fn!(linker, g, "environ_get", |cx, mem, envp: i32, buf: i32| {
        misc::strings_get(&cx.env, mem, envp as u32, buf as u32)
    });
    wasi_fn!(
        linker,
        g,
        "environ_sizes_get",
        |cx, mem, n: i32, size: i32| { misc::strings_sizes(&cx.env, mem, n as u32, size as u32) }
    );
    wasi_fn!(linker, g, "clock_res_get", |cx, mem, id: i32, out: i32| {
        misc::clock_res_get(cx, mem, id as u32, out as u32)
    });
    wasi_fn!(
        linker,
        g,
        "clock_time_get",
        |cx, mem, id: i32, _precision: i64, out: i32| {
            misc::clock_time_get(cx, mem, id as u32, out as u32)
        }
    );
    wasi_fn!(linker, g, "random_get", |cx, mem, buf: i32, len: i32| {
        misc::random_get(cx, mem, buf as u32, len as u32)
    });
    wasi_fn!(linker, g, "sched_yield", |_cx, _mem| {
        std::thread::yield_now();
        Ok(())
    });
    wasi_fn!(
        linker,
        g,
        "poll_oneoff",
        |cx, mem, input: i32, out: i32, n: i32, nevents: i32| {
            misc::poll_oneoff(cx, mem, input as u32, out as u32, n as u32, nevents as u32)
        }
    );
    linker.func_wrap(MODULE, "proc_exit", |code: i32| -> Result<(), Error> {
        Err(Error::new(crate::I32Exit(code)))
    })?;
    // Deprecated in WASI and removed from wasi-libc; signals do not exist
    // in a WASI guest.
    wasi_fn!(linker, g, "proc_raise", |_cx, _mem, _sig: i32| Err(
        Errno::NOSYS
    ));
    wasi_fn!(
        linker,
        g,
        "sock_accept",
        |cx, mem, fd: i32, flags: i32, out: i32| {
            sock::accept(cx, mem, fd as u32, flags as u16, out as u32)
        }
    );
    wasi_fn!(
        linker,
        g,
        "sock_recv",
        |cx, mem, fd: i32, iovs: i32, n: i32, flags: i32, len_out: i32, flags_out: i32| {
            sock::recv(
                cx,
                mem,
                fd as u32,
                iovs as u32,
                n as u32,
                flags as u16,
                len_out as u32,
                flags_out as u32,
            )
        }
    );
    wasi_fn!(
        linker,
        g,
        "sock_send",
        |cx, mem, fd: i32, iovs: i32, n: i32, flags: i32, out: i32| {
            sock::send(
                cx,
                mem,
                fd as u32,
                iovs as u32,
                n as u32,
                flags as u16,
                out as u32,
            )
        }
    );
    wasi_fn!(linker, g, "sock_shutdown", |cx, _mem, fd: i32, how: i32| {
        sock::shutdown(cx, fd as u32, how as u32)
    });

    wasi_fn!(
        linker,
        g,
        "fd_advise",
        |cx, _mem, fd: i32, _off: i64, _len: i64, advice: i32| {
            fd::advise(cx, fd as u32, advice as u32)
        }
    );
    wasi_fn!(
        linker,
        g,
        "fd_allocate",
        |cx, _mem, fd: i32, off: i64, len: i64| {
            fd::allocate(cx, fd as u32, off as u64, len as u64)
        }
    );
    wasi_fn!(linker, g, "fd_close", |cx, _mem, fd: i32| {
        cx.table.remove(fd as u32).map(drop)
    });
    wasi_fn!(linker, g, "fd_datasync", |cx, _mem, fd: i32| fd::sync(
        cx, fd as u32, true
    ));
    wasi_fn!(linker, g, "fd_sync", |cx, _mem, fd: i32| fd::sync(
        cx, fd as u32, false
    ));
    wasi_fn!(linker, g, "fd_fdstat_get", |cx, mem, fd: i32, out: i32| {
        fd::fdstat_get(cx, mem, fd as u32, out as u32)
    });
    wasi_fn!(
        linker,
        g,
        "fd_fdstat_set_flags",
        |cx, _mem, fd: i32, flags: i32| { fd::fdstat_set_flags(cx, fd as u32, flags as u16) }
    );
    wasi_fn!(
        linker,
        g,
        "fd_fdstat_set_rights",
        |cx, _mem, fd: i32, base: i64, inh: i64| {
            cx.table
                .narrow_rights(fd as u32, Rights::new(base as u64, inh as u64))
        }
    );
    wasi_fn!(
        linker,
        g,
        "fd_filestat_get",
        |cx, mem, fd: i32, out: i32| { fd::filestat_get(cx, mem, fd as u32, out as u32) }
    );
    wasi_fn!(
        linker,
        g,
        "fd_filestat_set_size",
        |cx, _mem, fd: i32, size: i64| { fd::filestat_set_size(cx, fd as u32, size as u64) }
    );
    wasi_fn!(
        linker,
        g,
        "fd_filestat_set_times",
        |cx, _mem, fd: i32, atim: i64, mtim: i64, flags: i32| {
            fd::filestat_set_times(cx, fd as u32, atim as u64, mtim as u64, flags as u16)
        }
    );
    wasi_fn!(
        linker,
        g,
        "fd_pread",
        |cx, mem, fd: i32, iovs: i32, n: i32, off: i64, out: i32| {
            fd::read(
                cx,
                mem,
                fd as u32,
                iovs as u32,
                n as u32,
                Some(off as u64),
                out as u32,
            )
        }
    );
    wasi_fn!(
        linker,
        g,
        "fd_read",
        |cx, mem, fd: i32, iovs: i32, n: i32, out: i32| {
            fd::read(cx, mem, fd as u32, iovs as u32, n as u32, None, out as u32)
        }
    );
    wasi_fn!(
        linker,
        g,
        "fd_pwrite",
        |cx, mem, fd: i32, iovs: i32, n: i32, off: i64, out: i32| {
            fd::write(
                cx,
                mem,
                fd as u32,
                iovs as u32,
                n as u32,
                Some(off as u64),
                out as u32,
            )
        }
    );
    wasi_fn!(
        linker,
        g,
        "fd_write",
        |cx, mem, fd: i32, iovs: i32, n: i32, out: i32| {
            fd::write(cx, mem, fd as u32, iovs as u32, n as u32, None, out as u32)
        }
    );
    wasi_fn!(linker, g, "fd_prestat_get", |cx, mem, fd: i32, out: i32| {
        fd::prestat_get(cx, mem, fd as u32, out as u32)
    });
    wasi_fn!(
        linker,
        g,
        "fd_prestat_dir_name",
        |cx, mem, fd: i32, buf: i32, len: i32| {
            fd::prestat_dir_name(cx, mem, fd as u32, buf as u32, len as u32)
        }
    );
    wasi_fn!(
        linker,
        g,
        "fd_readdir",
        |cx, mem, fd: i32, buf: i32, len: i32, cookie: i64, out: i32| {
            fd::readdir(
                cx,
                mem,
                fd as u32,
                buf as u32,
                len as u32,
                cookie as u64,
                out as u32,
            )
        }
    );
    wasi_fn!(linker, g, "fd_renumber", |cx, _mem, from: i32, to: i32| {
        cx.table.renumber(from as u32, to as u32)
    });
    wasi_fn!(
        linker,
        g,
        "fd_seek",
        |cx, mem, fd: i32, off: i64, whence: i32, out: i32| {
            fd::seek(cx, mem, fd as u32, off, whence as u32, out as u32)
        }
    );
    wasi_fn!(linker, g, "fd_tell", |cx, mem, fd: i32, out: i32| {
        fd::tell(cx, mem, fd as u32, out as u32)
    });

    wasi_fn!(
        linker,
        g,
        "path_create_directory",
        |cx, mem, fd: i32, p: i32, n: i32| {
            path::create_directory(cx, mem.str(p as u32, n as u32)?, fd as u32)
        }
    );
    wasi_fn!(
        linker,
        g,
        "path_filestat_get",
        |cx, mem, fd: i32, flags: i32, p: i32, n: i32, out: i32| {
            path::filestat_get(
                cx,
                mem,
                fd as u32,
                flags as u32,
                p as u32,
                n as u32,
                out as u32,
            )
        }
    );
    wasi_fn!(
        linker,
        g,
        "path_filestat_set_times",
        |cx, mem, fd: i32, flags: i32, p: i32, n: i32, atim: i64, mtim: i64, fst: i32| {
            path::filestat_set_times(
                cx,
                mem.str(p as u32, n as u32)?,
                fd as u32,
                flags as u32,
                atim as u64,
                mtim as u64,
                fst as u16,
            )
        }
    );
    wasi_fn!(
        linker,
        g,
        "path_link",
        |cx, mem, old_fd: i32, old_flags: i32, op: i32, on: i32, new_fd: i32, np: i32, nn: i32| {
            path::link(
                cx,
                old_fd as u32,
                old_flags as u32,
                mem.str(op as u32, on as u32)?,
                new_fd as u32,
                mem.str(np as u32, nn as u32)?,
            )
        }
    );
    wasi_fn!(
        linker,
        g,
        "path_readlink",
        |cx, mem, fd: i32, p: i32, n: i32, buf: i32, len: i32, out: i32| {
            path::readlink(
                cx, mem, fd as u32, p as u32, n as u32, buf as u32, len as u32, out as u32,
            )
        }
    );
    wasi_fn!(
        linker,
        g,
        "path_remove_directory",
        |cx, mem, fd: i32, p: i32, n: i32| {
            path::remove_directory(cx, mem.str(p as u32, n as u32)?, fd as u32)
        }
    );
    wasi_fn!(
        linker,
        g,
        "path_rename",
        |cx, mem, fd: i32, op: i32, on: i32, new_fd: i32, np: i32, nn: i32| {
            path::rename(
                cx,
                fd as u32,
                mem.str(op as u32, on as u32)?,
                new_fd as u32,
                mem.str(np as u32, nn as u32)?,
            )
        }
    );
    wasi_fn!(
        linker,
        g,
        "path_symlink",
        |cx, mem, op: i32, on: i32, fd: i32, np: i32, nn: i32| {
            path::symlink(
                cx,
                mem.str(op as u32, on as u32)?,
                fd as u32,
                mem.str(np as u32, nn as u32)?,
            )
        }
    );
    wasi_fn!(
        linker,
        g,
        "path_unlink_file",
        |cx, mem, fd: i32, p: i32, n: i32| {
            path::unlink_file(cx, mem.str(p as u32, n as u32)?, fd as u32)
        }
    );

    // Nine parameters: one more than `func_wrap` takes.
    let ty = FuncType::new(
        [
            ValType::I32,
            ValType::I32,
            ValType::I32,
            ValType::I32,
            ValType::I32,
            ValType::I64,
            ValType::I64,
            ValType::I32,
            ValType::I32,
        ],
        [ValType::I32],
    );
    linker.func_new(
        MODULE,
        "path_open",
        ty,
        move |mut caller, params, results| {
            let i32_at = |i: usize| params[i].i32().unwrap_or_default() as u32;
            let i64_at = |i: usize| params[i].i64().unwrap_or_default() as u64;
            let open = path::OpenRequest {
                dir_fd: i32_at(0),
                dirflags: i32_at(1),
                oflags: i32_at(4) as u16,
                rights: Rights::new(i64_at(5), i64_at(6)),
                fdflags: i32_at(7) as u16,
            };
            let errno = dispatch(&mut caller, g, Blocking::Always, None, |cx, mem| {
                path::open(cx, mem, &open, i32_at(2), i32_at(3), i32_at(8))
            })?;
            results[0] = Val::I32(errno);
            Ok(())
        },
    )?;
    Ok(())
}
