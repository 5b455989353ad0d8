//! A WASI command for Tern's tests: `probe <subcommand> [args]`.
//!
//! Each subcommand exercises one area of `wasi_snapshot_preview1` and prints
//! lines the tests compare; a failed check panics, which aborts (traps).

use std::fs::{self, File, OpenOptions};
use std::io::{self, Read, Seek, SeekFrom, Write};
use std::os::fd::AsRawFd;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

/// Direct calls, for what std does not expose on wasip1 and for
/// deliberately bad arguments.
mod raw {
    #[link(wasm_import_module = "wasi_snapshot_preview1")]
    unsafe extern "C" {
        pub fn fd_write(fd: i32, iovs: i32, iovs_len: i32, nwritten: i32) -> i32;
        pub fn fd_pread(fd: i32, iovs: i32, iovs_len: i32, offset: i64, nread: i32) -> i32;
        pub fn fd_pwrite(fd: i32, iovs: i32, iovs_len: i32, offset: i64, nwritten: i32) -> i32;
        pub fn random_get(buf: i32, len: i32) -> i32;
        pub fn path_symlink(old: i32, old_len: i32, fd: i32, new: i32, new_len: i32) -> i32;
        #[allow(clippy::too_many_arguments)]
        pub fn path_open(
            fd: i32,
            dirflags: i32,
            path: i32,
            path_len: i32,
            oflags: i32,
            base: i64,
            inheriting: i64,
            fdflags: i32,
            opened: i32,
        ) -> i32;
    }

    /// `path_open` for reading beneath `dir_fd`: the errno, or 0.
    pub fn open_read(dir_fd: i32, path: &str) -> i32 {
        let mut fd = 0i32;
        // SAFETY: the pointers are to live locals and `path`'s bytes.
        unsafe {
            path_open(
                dir_fd,
                1,
                path.as_ptr() as i32,
                path.len() as i32,
                0,
                2, // fd_read
                0,
                0,
                &raw mut fd as i32,
            )
        }
    }

    pub fn symlink(target: &str, dir_fd: i32, link: &str) -> i32 {
        // SAFETY: the pointers are to live string bytes.
        unsafe {
            path_symlink(
                target.as_ptr() as i32,
                target.len() as i32,
                dir_fd,
                link.as_ptr() as i32,
                link.len() as i32,
            )
        }
    }

    pub fn pwrite(fd: i32, bytes: &[u8], offset: u64) -> i32 {
        let iov = [bytes.as_ptr() as i32, bytes.len() as i32];
        let mut n = 0i32;
        // SAFETY: the iovec and the count are live locals.
        let e = unsafe { fd_pwrite(fd, iov.as_ptr() as i32, 1, offset as i64, &raw mut n as i32) };
        assert_eq!(e, 0, "fd_pwrite");
        n
    }

    pub fn pread(fd: i32, buf: &mut [u8], offset: u64) -> i32 {
        let iov = [buf.as_mut_ptr() as i32, buf.len() as i32];
        let mut n = 0i32;
        // SAFETY: the iovec and the count are live locals.
        let e = unsafe { fd_pread(fd, iov.as_ptr() as i32, 1, offset as i64, &raw mut n as i32) };
        assert_eq!(e, 0, "fd_pread");
        n
    }
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let sub = args.get(1).map(String::as_str).unwrap_or("");
    let rest = &args[2.min(args.len())..];
    match sub {
        "hello" => hello(rest),
        "exit" => std::process::exit(rest[0].parse().expect("an exit code")),
        "trap" => std::process::abort(),
        "stdin" => {
            let mut s = String::new();
            io::stdin().read_to_string(&mut s).unwrap();
            print!("{}", s.to_uppercase());
        }
        "fs" => fs_ops(&rest[0]),
        "escape" => escape(&rest[0]),
        "readonly" => readonly(&rest[0]),
        "clock" => clock(),
        "random" => random(),
        "efault" => efault(),
        _ => {
            eprintln!("usage: probe hello|exit N|trap|stdin|fs DIR|escape DIR|readonly DIR|clock|random|efault");
            std::process::exit(2);
        }
    }
}

fn hello(rest: &[String]) {
    println!("args: {rest:?}");
    println!("GREETING={}", std::env::var("GREETING").unwrap_or_default());
    let mut vars: Vec<String> = std::env::vars().map(|(k, v)| format!("{k}={v}")).collect();
    vars.sort();
    println!("env: {vars:?}");
    eprintln!("to stderr");
}

fn fs_ops(dir: &str) {
    let p = |name: &str| format!("{dir}/{name}");
    fs::write(p("a.txt"), "hello").unwrap();
    assert_eq!(fs::read_to_string(p("a.txt")).unwrap(), "hello");
    println!("ok create write read");

    let mut f = File::open(p("a.txt")).unwrap();
    f.seek(SeekFrom::Start(1)).unwrap();
    let mut three = [0u8; 3];
    f.read_exact(&mut three).unwrap();
    assert_eq!(&three, b"ell");
    assert_eq!(f.stream_position().unwrap(), 4);
    assert_eq!(f.seek(SeekFrom::End(-1)).unwrap(), 4);
    assert!(f.write_all(b"x").is_err(), "wrote to a read-only descriptor");
    drop(f);
    println!("ok seek tell");

    let mut f = OpenOptions::new().append(true).open(p("a.txt")).unwrap();
    f.write_all(b" world").unwrap();
    drop(f);
    assert_eq!(fs::read_to_string(p("a.txt")).unwrap(), "hello world");
    println!("ok append");

    let f = OpenOptions::new().read(true).write(true).open(p("a.txt")).unwrap();
    let fd = f.as_raw_fd();
    assert_eq!(raw::pwrite(fd, b"J", 0), 1);
    let mut buf = [0u8; 5];
    assert_eq!(raw::pread(fd, &mut buf, 6), 5);
    assert_eq!(&buf, b"world");
    f.set_len(5).unwrap();
    assert_eq!(f.metadata().unwrap().len(), 5);
    drop(f);
    assert_eq!(fs::read_to_string(p("a.txt")).unwrap(), "Jello");
    println!("ok pread pwrite truncate");

    let e = OpenOptions::new().write(true).create_new(true).open(p("a.txt")).unwrap_err();
    assert_eq!(e.kind(), io::ErrorKind::AlreadyExists);
    println!("ok create_new refuses an existing file");

    fs::create_dir(p("sub")).unwrap();
    fs::write(p("sub/x"), "x").unwrap();
    let mut names: Vec<String> = fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .collect();
    names.sort();
    println!("readdir: {names:?}");
    assert!(fs::metadata(p("sub")).unwrap().is_dir());
    assert!(fs::metadata(p("a.txt")).unwrap().is_file());
    let e = fs::remove_dir(p("sub")).unwrap_err();
    println!("rmdir non-empty: errno {:?}", e.raw_os_error());

    fs::rename(p("a.txt"), p("b.txt")).unwrap();
    assert_eq!(fs::read(p("a.txt")).unwrap_err().kind(), io::ErrorKind::NotFound);
    assert_eq!(fs::read_to_string(p("b.txt")).unwrap(), "Jello");
    println!("ok rename");

    let preopen = 3;
    let rel = |name: &str| name.to_string();
    assert_eq!(raw::symlink("b.txt", preopen, &rel("link")), 0);
    assert_eq!(fs::read_to_string(p("link")).unwrap(), "Jello");
    assert_eq!(fs::read_link(p("link")).unwrap().to_str(), Some("b.txt"));
    assert!(fs::symlink_metadata(p("link")).unwrap().file_type().is_symlink());
    println!("ok symlink readlink");

    fs::hard_link(p("b.txt"), p("c.txt")).unwrap();
    assert_eq!(fs::read_to_string(p("c.txt")).unwrap(), "Jello");
    println!("ok hard link");

    for name in ["b.txt", "c.txt", "link", "sub/x"] {
        fs::remove_file(p(name)).unwrap();
    }
    fs::remove_dir(p("sub")).unwrap();
    assert_eq!(fs::read_dir(dir).unwrap().count(), 0);
    println!("ok unlink rmdir");
}

fn refused(what: &str, result: io::Result<impl std::fmt::Debug>) {
    match result {
        Ok(v) => {
            println!("ESCAPED {what}: {v:?}");
            std::process::exit(1);
        }
        Err(e) => println!("refused {what}: errno {:?}", e.raw_os_error()),
    }
}

fn refused_errno(what: &str, errno: i32) {
    if errno == 0 {
        println!("ESCAPED {what}");
        std::process::exit(1);
    }
    println!("refused {what}: errno {errno}");
}

fn escape(dir: &str) {
    refused("dotdot", fs::read_to_string(format!("{dir}/../outside.txt")));
    refused("sub dotdot", {
        fs::create_dir(format!("{dir}/sub")).unwrap();
        let r = fs::read_to_string(format!("{dir}/sub/../../outside.txt"));
        fs::remove_dir(format!("{dir}/sub")).unwrap();
        r
    });
    refused_errno("raw dotdot", raw::open_read(3, "../outside.txt"));
    refused_errno("raw absolute", raw::open_read(3, "/etc/passwd"));
    refused("absolute symlink", fs::read_to_string(format!("{dir}/abs-link")));
    refused("relative symlink", fs::read_to_string(format!("{dir}/up-link")));
    refused_errno("create absolute symlink", raw::symlink("/etc/passwd", 3, "new-link"));
    // A relative symlink that climbs out may be created, never followed.
    if raw::symlink("../outside.txt", 3, "new-up") == 0 {
        refused("follow created symlink", fs::read_to_string(format!("{dir}/new-up")));
        fs::remove_file(format!("{dir}/new-up")).unwrap();
    }
    refused("write through dotdot", fs::write(format!("{dir}/../planted.txt"), "x"));
    println!("escape ok");
}

fn readonly(dir: &str) {
    assert_eq!(fs::read_to_string(format!("{dir}/data.txt")).unwrap(), "data");
    println!("ok read");
    refused("create", fs::write(format!("{dir}/new.txt"), "x"));
    refused("open for writing", OpenOptions::new().write(true).open(format!("{dir}/data.txt")));
    refused("truncate", File::create(format!("{dir}/data.txt")));
    refused("mkdir", fs::create_dir(format!("{dir}/d")));
    refused("rename", fs::rename(format!("{dir}/data.txt"), format!("{dir}/moved.txt")));
    refused("unlink", fs::remove_file(format!("{dir}/data.txt")));
    refused("hard link", fs::hard_link(format!("{dir}/data.txt"), format!("{dir}/l.txt")));
    refused_errno("symlink", raw::symlink("data.txt", 3, "s"));
    assert_eq!(fs::read_to_string(format!("{dir}/data.txt")).unwrap(), "data");
    println!("readonly ok");
}

fn clock() {
    let now = SystemTime::now().duration_since(UNIX_EPOCH).unwrap();
    assert!(now.as_secs() > 1_600_000_000, "realtime is {now:?}");
    let start = Instant::now();
    std::thread::sleep(Duration::from_millis(20));
    let slept = start.elapsed();
    assert!(slept >= Duration::from_millis(20), "slept {slept:?}");
    assert!(slept < Duration::from_secs(5), "slept {slept:?}");
    println!("clock ok");
}

fn random() {
    let mut buf = [0u8; 16];
    // SAFETY: `buf` is a live local of the given length.
    let e = unsafe { raw::random_get(buf.as_mut_ptr() as i32, buf.len() as i32) };
    assert_eq!(e, 0);
    let hex: String = buf.iter().map(|b| format!("{b:02x}")).collect();
    println!("{hex}");
}

fn efault() {
    let mut n = 0i32;
    // An iovec array past the end of memory, then an iovec whose buffer is.
    // SAFETY: the host must check these pointers; the guest only passes them.
    let past_end = unsafe { raw::fd_write(1, -16, 1, &raw mut n as i32) };
    let iov = [i32::MAX, 16];
    // SAFETY: as above.
    let bad_buf = unsafe { raw::fd_write(1, iov.as_ptr() as i32, 1, &raw mut n as i32) };
    // SAFETY: as above.
    let bad_out = unsafe { raw::fd_write(1, iov.as_ptr() as i32, 0, -2) };
    println!("efault: {past_end} {bad_buf} {bad_out}");
}
