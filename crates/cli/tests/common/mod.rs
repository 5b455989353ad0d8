//! What the `tern` binary's tests share.

#![allow(dead_code)] // Each test binary uses its own part.

use std::path::PathBuf;
use std::sync::atomic::{AtomicU32, Ordering};

#[path = "../../../engine/tests/common/mod.rs"]
mod tiers;
pub use tiers::{on, strategy};

/// `args` for the `tern` binary, with the running test's tier chosen by
/// `-C compiler=...` after the subcommand (or first, for `tern MODULE`);
/// unchanged when they ask for help or are empty.
pub fn with_compiler(args: &[&str]) -> Vec<String> {
    if args.is_empty() || args.contains(&"--help") {
        return args.iter().map(|a| a.to_string()).collect();
    }
    let compiler = match strategy() {
        tern_engine::Strategy::Cranelift => "compiler=cranelift",
        tern_engine::Strategy::Mixed => "compiler=mixed",
        _ => "compiler=interpreter",
    };
    let mut out: Vec<String> = args.iter().map(|a| a.to_string()).collect();
    let at = usize::from(matches!(args.first(), Some(&("run" | "serve" | "wast"))));
    out.splice(at..at, ["-C".to_string(), compiler.to_string()]);
    out
}

/// A fresh directory under the system temp dir, removed on drop.
pub struct TempDir(pub PathBuf);

impl TempDir {
    pub fn new(name: &str) -> Self {
        static NEXT: AtomicU32 = AtomicU32::new(0);
        let path = std::env::temp_dir().join(format!(
            "tern-cli-{}-{}-{name}",
            std::process::id(),
            NEXT.fetch_add(1, Ordering::Relaxed)
        ));
        std::fs::create_dir_all(&path).unwrap();
        Self(path)
    }

    pub fn join(&self, p: &str) -> PathBuf {
        self.0.join(p)
    }

    /// Writes `text` to the file `name` inside; its path.
    pub fn write(&self, name: &str, text: &str) -> PathBuf {
        let p = self.join(name);
        std::fs::write(&p, text).unwrap();
        p
    }

    /// `--dir` mapping this directory to `guest`.
    pub fn map(&self, guest: &str) -> String {
        format!("{}::{guest}", self.0.display())
    }

    /// The names left in the directory, sorted.
    pub fn entries(&self) -> Vec<String> {
        let mut names: Vec<_> = std::fs::read_dir(&self.0)
            .unwrap()
            .map(|e| e.unwrap().file_name().into_string().unwrap())
            .collect();
        names.sort();
        names
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}
