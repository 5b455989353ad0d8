//! The validation cache: a directory in which an engine remembers the
//! modules whose function bodies it has validated, so that loading the same
//! bytes again skips that work (most of what loading costs the
//! interpreter, which translates each function only on its first call).
//!
//! An entry is a small file named after a BLAKE3 hash of the module's bytes,
//! the engine's version and the WebAssembly features it validates against;
//! it holds that hash again, so a truncated or foreign file is no entry.
//! Entries are written only after a module validated, to a temporary name
//! and then renamed, so readers never see half an entry.
//!
//! The cache is used only where functions are translated on their first
//! call, and a body loaded on its word is validated as it is translated
//! then: an entry that lies (a tampered directory) makes that call fail,
//! never run unchecked code. The engine creates the directory readable and
//! writable by its owner only.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};

/// What an entry file starts with, ahead of the hash.
const MAGIC: &str = "tern validated module v1\n";

/// One module's place in the cache.
pub(crate) struct Entry {
    path: PathBuf,
    contents: String,
}

impl Entry {
    /// The entry of `bytes` in `dir`, validated against the engine's
    /// feature set.
    pub(crate) fn new(dir: &Path, bytes: &[u8]) -> Self {
        let mut hasher = blake3::Hasher::new();
        hasher.update(MAGIC.as_bytes());
        hasher.update(env!("CARGO_PKG_VERSION").as_bytes());
        hasher.update(&[0]);
        hasher.update(&crate::environ::parse::features().bits().to_le_bytes());
        hasher.update(bytes);
        let hex = hasher.finalize().to_hex();
        Self {
            path: dir.join(hex.as_str()),
            contents: format!("{MAGIC}{hex}\n"),
        }
    }

    /// Whether the cache holds this entry.
    pub(crate) fn exists(&self) -> bool {
        let mut buf = [0u8; 128];
        let Ok(mut file) = std::fs::File::open(&self.path) else {
            return false;
        };
        let n = read_up_to(&mut file, &mut buf);
        buf.get(..n) == Some(self.contents.as_bytes())
    }

    /// Records the entry. A cache that cannot be written is passed over:
    /// the module loads all the same, and is validated again next time.
    pub(crate) fn record(&self) {
        if let Err(e) = self.write() {
            tracing::debug!(path = %self.path.display(), error = %e, "validation cache not written");
        }
    }

    fn write(&self) -> std::io::Result<()> {
        let dir = self.path.parent().unwrap_or(Path::new("."));
        let mut builder = std::fs::DirBuilder::new();
        builder.recursive(true);
        #[cfg(unix)]
        std::os::unix::fs::DirBuilderExt::mode(&mut builder, 0o700);
        builder.create(dir)?;
        // A name no other writer uses, in this process or another.
        static NEXT: AtomicU64 = AtomicU64::new(0);
        let n = NEXT.fetch_add(1, Ordering::Relaxed);
        let tmp = self
            .path
            .with_extension(format!("tmp{}-{n}", std::process::id()));
        let mut file = std::fs::File::create(&tmp)?;
        let written = file
            .write_all(self.contents.as_bytes())
            .and_then(|()| std::fs::rename(&tmp, &self.path));
        if written.is_err() {
            let _ = std::fs::remove_file(&tmp);
        }
        written
    }
}

/// Reads into `buf` until it is full or the file ends; a read error ends
/// it too (the entry then does not match).
fn read_up_to(file: &mut std::fs::File, buf: &mut [u8]) -> usize {
    use std::io::Read;
    let mut n = 0;
    while n < buf.len() {
        match file.read(&mut buf[n..]) {
            Ok(0) | Err(_) => break,
            Ok(k) => n += k,
        }
    }
    n
}

#[cfg(test)]
mod tests {
    use super::*;

    fn dir(name: &str) -> PathBuf {
        let d = std::env::temp_dir().join(format!("tern-validated-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&d);
        d
    }

    #[test]
    fn an_entry_exists_once_recorded_and_only_for_the_same_bytes() {
        let d = dir("same");
        let a = Entry::new(&d, b"\0asm\x01\0\0\0");
        let b = Entry::new(&d, b"\0asm\x01\0\0\0\0");
        assert!(!a.exists());
        a.record();
        assert!(a.exists());
        assert!(!b.exists(), "another module's bytes have their own entry");
        assert!(Entry::new(&d, b"\0asm\x01\0\0\0").exists());
        std::fs::remove_dir_all(&d).unwrap();
    }

    #[test]
    fn a_file_of_other_contents_is_no_entry() {
        let d = dir("foreign");
        let e = Entry::new(&d, b"bytes");
        e.record();
        let full = std::fs::read(&e.path).unwrap();
        std::fs::write(&e.path, &full[..full.len() - 2]).unwrap();
        assert!(!e.exists(), "a truncated entry");
        std::fs::write(&e.path, [full.as_slice(), b"more"].concat()).unwrap();
        assert!(!e.exists(), "an entry with more after it");
        e.record();
        assert!(e.exists(), "written again");
        std::fs::remove_dir_all(&d).unwrap();
    }

    #[cfg(unix)]
    #[test]
    fn the_directory_is_its_owners_alone() {
        use std::os::unix::fs::PermissionsExt;
        let d = dir("mode");
        Entry::new(&d, b"x").record();
        let mode = std::fs::metadata(&d).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o700);
        std::fs::remove_dir_all(&d).unwrap();
    }

    /// A module whose function sums its two parameters, and one whose
    /// function's body does not validate (it returns nothing for an i32).
    const GOOD: &str = r#"(module (func (export "add") (param i32 i32) (result i32) local.get 0 local.get 1 i32.add))"#;
    const BAD: &str = r#"(module (func (export "f") (result i32)))"#;

    fn engine(cache: Option<&Path>, strategy: crate::Strategy, lazy: bool) -> crate::Engine {
        let mut config = crate::Config::new();
        config
            .validation_cache(cache.map(Path::to_path_buf))
            .strategy(strategy)
            .lazy_translation(lazy);
        crate::Engine::new(&config)
    }

    fn instantiate(engine: &crate::Engine, wasm: &[u8]) -> (crate::Store<()>, crate::Instance) {
        let module = crate::Module::new(engine, wasm).unwrap();
        let mut store = crate::Store::new(engine, ());
        let instance = crate::Instance::new(&mut store, &module, &[]).unwrap();
        (store, instance)
    }

    fn add(engine: &crate::Engine, wasm: &[u8]) -> i32 {
        let (mut store, instance) = instantiate(engine, wasm);
        let f = instance
            .get_typed_func::<(i32, i32), i32>(&mut store, "add")
            .unwrap();
        f.call(&mut store, (2, 40)).unwrap()
    }

    fn entries(d: &Path) -> usize {
        std::fs::read_dir(d).map_or(0, |r| r.count())
    }

    #[test]
    fn a_module_loads_from_the_cache_as_it_loaded_before_it() {
        let d = dir("load");
        let wasm = wat::parse_str(GOOD).unwrap();
        let e = engine(Some(&d), crate::Strategy::Interpreter, true);
        assert_eq!(add(&e, &wasm), 42, "first load");
        assert_eq!(entries(&d), 1);
        assert_eq!(add(&e, &wasm), 42, "from the cache");
        assert_eq!(entries(&d), 1);
        std::fs::remove_dir_all(&d).unwrap();
    }

    #[test]
    fn loads_at_once_on_many_threads_leave_one_entry() {
        let d = dir("threads");
        let wasm = wat::parse_str(GOOD).unwrap();
        let e = engine(Some(&d), crate::Strategy::Interpreter, true);
        std::thread::scope(|s| {
            for _ in 0..8 {
                s.spawn(|| assert_eq!(add(&e, &wasm), 42));
            }
        });
        let names: Vec<_> = std::fs::read_dir(&d)
            .unwrap()
            .map(|f| f.unwrap().file_name())
            .collect();
        assert_eq!(names.len(), 1, "one entry, no temporary files: {names:?}");
        assert!(Entry::new(&d, &wasm).exists());
        std::fs::remove_dir_all(&d).unwrap();
    }

    #[test]
    fn a_module_that_fails_validation_is_never_recorded() {
        let d = dir("invalid");
        let wasm = wat::parse_str(BAD).unwrap();
        let e = engine(Some(&d), crate::Strategy::Interpreter, true);
        for _ in 0..2 {
            let err = crate::Module::new(&e, &wasm).unwrap_err().to_string();
            assert!(err.contains("type mismatch"), "{err}");
        }
        assert_eq!(entries(&d), 0);
    }

    #[test]
    fn a_lying_entry_is_found_out_at_the_first_call() {
        // An entry for bytes whose body does not validate (as a tampered
        // directory could hold) lets them load; the body is validated as it
        // is translated, and the call fails instead of running it.
        let d = dir("lying");
        let wasm = wat::parse_str(BAD).unwrap();
        Entry::new(&d, &wasm).record();
        let e = engine(Some(&d), crate::Strategy::Interpreter, true);
        let (mut store, instance) = instantiate(&e, &wasm);
        let f = instance.get_typed_func::<(), i32>(&mut store, "f").unwrap();
        let err = f.call(&mut store, ()).unwrap_err();
        assert_eq!(err.kind(), crate::ErrorKind::Invalid);
        let msg = err.to_string();
        assert!(
            msg.contains("type mismatch") && msg.contains("validation cache"),
            "{msg}"
        );
        // Without the cache, or translating at load, the bytes never load.
        for e in [
            engine(None, crate::Strategy::Interpreter, true),
            engine(Some(&d), crate::Strategy::Interpreter, false),
        ] {
            assert!(crate::Module::new(&e, &wasm).is_err());
        }
        std::fs::remove_dir_all(&d).unwrap();
    }

    #[cfg(feature = "cranelift")]
    #[test]
    fn a_compiling_engine_neither_reads_nor_writes_the_cache() {
        let d = dir("cranelift");
        let bad = wat::parse_str(BAD).unwrap();
        Entry::new(&d, &bad).record();
        let e = engine(Some(&d), crate::Strategy::Cranelift, true);
        assert!(crate::Module::new(&e, &bad).is_err());
        let good = wat::parse_str(GOOD).unwrap();
        assert_eq!(add(&e, &good), 42);
        assert_eq!(entries(&d), 1, "only the entry written by hand");
        std::fs::remove_dir_all(&d).unwrap();
    }

    #[test]
    fn an_unwritable_cache_is_passed_over() {
        let d = dir("unwritable");
        std::fs::write(&d, b"a file where the directory should be").unwrap();
        let e = Entry::new(&d.join("sub"), b"x");
        e.record();
        assert!(!e.exists());
        std::fs::remove_file(&d).unwrap();
    }
}
