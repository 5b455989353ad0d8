//! The engine: configuration and state shared by every module and store.

use crate::config::{Config, Strategy};
use crate::cranelift::{Compiler, Trampolines};
use crate::environ::NameMap;
use crate::error::{Error, ErrorKind, Result};
use crate::runtime::MemoryPool;
use crate::runtime::fiber::FiberPool;
use crate::types::{FuncType, TypeId};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, OnceLock};

/// Shared compilation and runtime settings.
///
/// An `Engine` is cheap to clone (a reference count) and is `Send + Sync`:
/// create one per process and share it.
#[derive(Clone, Debug)]
pub struct Engine {
    inner: Arc<EngineInner>,
}

#[derive(Debug)]
struct EngineInner {
    config: Config,
    epoch: AtomicU64,
    types: Mutex<TypeRegistry>,
    memory_pool: Option<Arc<MemoryPool>>,
    /// The code generator and what compiled code needs, made on first use.
    jit: OnceLock<std::result::Result<Jit, String>>,
}

/// What an engine that compiles code keeps: the compiler, the trampolines
/// of every signature, and the stacks compiled code runs on.
#[derive(Debug)]
pub(crate) struct Jit {
    pub compiler: Compiler,
    pub trampolines: Trampolines,
    pub fibers: FiberPool,
}

#[derive(Debug, Default)]
struct TypeRegistry {
    ids: NameMap<FuncType, TypeId>,
    types: Vec<FuncType>,
}

impl Default for Engine {
    fn default() -> Self {
        Self::new(&Config::default())
    }
}

impl Engine {
    /// An engine with the given configuration.
    pub fn new(config: &Config) -> Self {
        Self {
            inner: Arc::new(EngineInner {
                config: config.clone(),
                epoch: AtomicU64::new(0),
                types: Mutex::new(TypeRegistry::default()),
                memory_pool: (config.pooled_memories > 0).then(|| {
                    let reservation =
                        config.memory_reservation.min(1 << 32) + config.memory_guard_size;
                    Arc::new(MemoryPool::new(
                        reservation as usize,
                        config.pooled_memories,
                        config.pooled_memory_keep_resident,
                    ))
                }),
                jit: OnceLock::new(),
            }),
        }
    }

    /// Whether Wasm calls run on fibers: whenever code may be compiled.
    pub(crate) fn uses_fibers(&self) -> bool {
        cfg!(feature = "cranelift") && self.inner.config.strategy != Strategy::Interpreter
    }

    /// The code generator and its companions.
    ///
    /// # Errors
    ///
    /// When the host cannot run compiled code.
    pub(crate) fn jit(&self) -> Result<&Jit> {
        let jit = self.inner.jit.get_or_init(|| {
            let config = &self.inner.config;
            let compiler = Compiler::new(config).map_err(|e| e.to_string())?;
            let stacks = std::thread::available_parallelism().map_or(4, |n| n.get() * 2);
            Ok(Jit {
                compiler,
                trampolines: Trampolines::default(),
                fibers: FiberPool::new(config.max_wasm_stack, stacks),
            })
        });
        jit.as_ref()
            .map_err(|why| Error::new_kind(ErrorKind::Unsupported, why.clone()))
    }

    /// The configuration this engine was built with.
    pub fn config(&self) -> &Config {
        &self.inner.config
    }

    /// Advances the epoch counter by one. Safe to call from any thread, for
    /// example a timer thread that interrupts guests past their deadline.
    pub fn increment_epoch(&self) {
        self.inner.epoch.fetch_add(1, Ordering::Relaxed);
    }

    /// The current epoch.
    pub fn current_epoch(&self) -> u64 {
        self.inner.epoch.load(Ordering::Relaxed)
    }

    pub(crate) fn memory_pool(&self) -> Option<&Arc<MemoryPool>> {
        self.inner.memory_pool.as_ref()
    }

    /// Memory reservations kept for reuse right now (see
    /// [`Config::pooled_memories`]).
    pub fn pooled_memories(&self) -> usize {
        self.inner.memory_pool.as_ref().map_or(0, |p| p.len())
    }

    pub(crate) fn epoch_counter(&self) -> &AtomicU64 {
        &self.inner.epoch
    }

    /// Whether two handles name the same engine.
    pub fn same(a: &Engine, b: &Engine) -> bool {
        Arc::ptr_eq(&a.inner, &b.inner)
    }

    pub(crate) fn intern(&self, ty: &FuncType) -> TypeId {
        let mut reg = self.inner.types.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(id) = reg.ids.get(ty) {
            return *id;
        }
        let id = TypeId(reg.types.len() as u32);
        reg.types.push(ty.clone());
        reg.ids.insert(ty.clone(), id);
        id
    }
}
