//! Engine configuration.

/// How an engine runs Wasm functions.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub enum Strategy {
    /// Every function runs on the interpreter: it starts at once (each
    /// function is translated on its first call) and needs no code
    /// generation. The default.
    #[default]
    Interpreter,
    /// Every function is compiled to native code with Cranelift when the
    /// module loads: slower to load, much faster to run.
    Cranelift,
    /// A testing mode: functions of even index are compiled, the others
    /// interpreted, so calls cross tiers in every direction.
    Mixed,
}

impl std::str::FromStr for Strategy {
    type Err = String;

    /// `interpreter`, `cranelift` or `mixed`.
    fn from_str(s: &str) -> Result<Self, String> {
        match s {
            "interpreter" => Ok(Self::Interpreter),
            "cranelift" => Ok(Self::Cranelift),
            "mixed" => Ok(Self::Mixed),
            other => Err(format!(
                "unknown compiler `{other}` (expected `interpreter` or `cranelift`)"
            )),
        }
    }
}

/// Configuration for an [`Engine`](crate::Engine).
///
/// Every setter states its default. A `Config` is cheap to clone.
#[derive(Debug, Clone)]
pub struct Config {
    pub(crate) max_wasm_stack: usize,
    pub(crate) consume_fuel: bool,
    pub(crate) epoch_interruption: bool,
    pub(crate) memory_reservation: u64,
    pub(crate) memory_guard_size: u64,
    pub(crate) max_table_elements: u64,
    pub(crate) pooled_memories: usize,
    pub(crate) pooled_memory_keep_resident: usize,
    pub(crate) memory_init_cow: bool,
    pub(crate) lazy_translation: bool,
    pub(crate) validation_cache: Option<std::path::PathBuf>,
    pub(crate) interpreter_verifier: bool,
    pub(crate) strategy: Strategy,
    pub(crate) max_lifted_bytes: u64,
}

impl Default for Config {
    fn default() -> Self {
        Self {
            max_wasm_stack: 256 << 20,
            consume_fuel: false,
            epoch_interruption: false,
            memory_reservation: 4 << 30,
            memory_guard_size: 2 << 30,
            max_table_elements: 10_000_000,
            pooled_memories: 0,
            pooled_memory_keep_resident: 0,
            memory_init_cow: true,
            lazy_translation: true,
            validation_cache: None,
            interpreter_verifier: cfg!(debug_assertions),
            strategy: Strategy::Interpreter,
            max_lifted_bytes: 256 << 20,
        }
    }
}

impl Config {
    /// A configuration with every default.
    pub fn new() -> Self {
        Self::default()
    }

    /// How functions run: interpreted or compiled. Default:
    /// [`Strategy::Interpreter`].
    pub fn strategy(&mut self, strategy: Strategy) -> &mut Self {
        self.strategy = strategy;
        self
    }

    /// The strategy set with [`strategy`](Self::strategy).
    pub fn get_strategy(&self) -> Strategy {
        self.strategy
    }

    /// Bytes of Wasm call stack (frames, locals and operands) a call may
    /// use before it traps with [`TrapCode::StackOverflow`](crate::TrapCode).
    ///
    /// Neither tier runs Wasm on the host thread's stack, so deep recursion
    /// never crashes the process: the interpreter keeps its frames on the
    /// heap, and compiled code runs on a stack of its own of this size
    /// (plus room for the host functions it calls), checked in every
    /// function's prologue. Default: 256 MiB, enough for well over a million
    /// frames of a small function.
    pub fn max_wasm_stack(&mut self, bytes: usize) -> &mut Self {
        self.max_wasm_stack = bytes;
        self
    }

    /// Whether a module's functions are translated for the interpreter on
    /// their first call rather than all at load.
    ///
    /// Either way every function is validated at load (unless the
    /// [validation cache](Self::validation_cache) knows the module), and a
    /// module the engine cannot run is refused then, so a call never fails
    /// for want of a translation. Lazy translation roughly halves the work of
    /// loading (validation remains) and costs nothing for functions that
    /// never run (most of a typical program's); each function is translated once and shared by
    /// every instance and thread. Turn it off to pay the whole cost up
    /// front, as a server does before taking traffic. Default: on.
    pub fn lazy_translation(&mut self, enable: bool) -> &mut Self {
        self.lazy_translation = enable;
        self
    }

    /// A directory in which the engine remembers the modules it has
    /// validated, so that loading the same bytes again skips validating
    /// their function bodies: with lazy translation, most of what loading
    /// costs the interpreter. Entries are keyed by a BLAKE3 hash of the
    /// bytes, the engine's version and its WebAssembly features, and written
    /// only for modules that validated.
    ///
    /// Only the interpreter with [lazy translation](Self::lazy_translation)
    /// uses it: translating or compiling at load validates in the same
    /// pass. A body loaded on the cache's word is still validated as it is
    /// translated on its first call, so an entry that lies (a tampered
    /// directory) makes that call fail with an [`ErrorKind::Invalid`]
    /// error rather than run unchecked code; but such a module does load.
    /// The engine creates the directory readable and writable by its owner
    /// only. Entries are a few dozen bytes each and are never removed by
    /// the engine. Default: none (every load validates).
    ///
    /// [`ErrorKind::Invalid`]: crate::ErrorKind::Invalid
    pub fn validation_cache(&mut self, dir: Option<std::path::PathBuf>) -> &mut Self {
        self.validation_cache = dir;
        self
    }

    /// Whether every function translated for the interpreter is checked
    /// before it runs: every slot inside its frame, every branch inside its
    /// code, every index naming something the module has. The interpreter
    /// relies on these without checking as it runs, so a translation that
    /// breaks one is refused as an engine fault instead of being run.
    /// Costs about as much as the translation itself. Default: on in debug
    /// builds of the engine, off in release builds.
    pub fn interpreter_verifier(&mut self, enable: bool) -> &mut Self {
        self.interpreter_verifier = enable;
        self
    }

    /// Whether execution consumes fuel: each store then starts with none and
    /// traps with [`TrapCode::OutOfFuel`](crate::TrapCode) when its fuel,
    /// set by [`Store::set_fuel`](crate::Store::set_fuel), runs out.
    /// Default: off.
    pub fn consume_fuel(&mut self, enable: bool) -> &mut Self {
        self.consume_fuel = enable;
        self
    }

    /// Whether Wasm code checks the engine's epoch at function entry and
    /// loop back-edges, trapping with [`TrapCode::Interrupt`](crate::TrapCode)
    /// once the store's deadline has passed (see
    /// [`Engine::increment_epoch`](crate::Engine::increment_epoch) and
    /// [`Store::set_epoch_deadline`](crate::Store::set_epoch_deadline)).
    /// Default: off.
    pub fn epoch_interruption(&mut self, enable: bool) -> &mut Self {
        self.epoch_interruption = enable;
        self
    }

    /// Bytes of virtual address space reserved for each linear memory.
    ///
    /// Memories grow inside this reservation and never move; a memory cannot
    /// grow past it (`memory.grow` returns -1). Default: 4 GiB, the whole
    /// 32-bit index space.
    pub fn memory_reservation(&mut self, bytes: u64) -> &mut Self {
        self.memory_reservation = bytes;
        self
    }

    /// Whether instances map their memory's initial contents from an image
    /// of the module's data segments, copy-on-write, instead of copying the
    /// segments (Linux; elsewhere they are always copied). An image is made
    /// when the module defines its memory and its data is at least 4 KiB
    /// at constant offsets inside the memory's initial size; instantiating
    /// then costs one system call whatever the data's size, and pages no
    /// instance writes are shared between instances. Pooled memories
    /// (`pooled_memories`) map images of 256 KiB or more and copy smaller
    /// data into their already resident pages. Default: on.
    pub fn memory_init_cow(&mut self, enable: bool) -> &mut Self {
        self.memory_init_cow = enable;
        self
    }

    /// Elements any table may hold, whatever its type allows: a module
    /// declaring or growing a larger table is refused (`table.grow` returns
    /// -1), so untrusted code cannot make the host allocate without bound
    /// even without a store limiter. Default: 10,000,000.
    pub fn max_table_elements(&mut self, elements: u64) -> &mut Self {
        self.max_table_elements = elements;
        self
    }

    /// Bytes of inaccessible guard region mapped after each memory's
    /// reservation. Default: 2 GiB.
    pub fn memory_guard_size(&mut self, bytes: u64) -> &mut Self {
        self.memory_guard_size = bytes;
        self
    }

    /// Linear-memory reservations the engine keeps for reuse once the memory
    /// that held one is dropped with its store.
    ///
    /// Creating a memory then takes a kept reservation instead of mapping a
    /// new one, which saves the map and unmap system calls (and the kernel's
    /// address-space lock) for every instance: what a server instantiating
    /// per request wants. A reservation is reset before it is kept: its pages
    /// are discarded, so they read as zero, and made inaccessible again, so
    /// nothing of the previous memory's contents, grown pages included, is
    /// visible to the next. Kept reservations hold address space, not memory.
    /// Default: 0 (every memory maps and unmaps its own).
    pub fn pooled_memories(&mut self, count: usize) -> &mut Self {
        self.pooled_memories = count;
        self
    }

    /// Bytes at the start of each pooled memory reservation that stay
    /// mapped between uses (see [`pooled_memories`](Self::pooled_memories)).
    ///
    /// On reuse, the pages of that prefix the previous memory touched are
    /// zeroed in place instead of being discarded, which saves the next
    /// memory its page faults and the host a TLB flush on every core; the
    /// cost is resident memory of up to this many bytes per kept
    /// reservation. Past the prefix, pages are discarded as before. Only on
    /// Linux with `/proc/self/pagemap` readable (which tells the touched
    /// pages, whether in memory or in swap); elsewhere everything is
    /// discarded. Default: 0.
    pub fn pooled_memory_keep_resident(&mut self, bytes: usize) -> &mut Self {
        self.pooled_memory_keep_resident = bytes;
        self
    }

    /// Bytes of host memory the values of one component-model crossing may
    /// take once lifted: the parameters a component passes to a host
    /// function, or the results a component's export returns.
    ///
    /// Lifted values are larger than their bytes in linear memory (a
    /// `list<u8>` element becomes a whole value; a record repeats its field
    /// names), so without this bound a guest could make the host allocate
    /// many times its own memory. A crossing over the bound traps with
    /// [`TrapCode::CanonicalAbi`](crate::TrapCode) before the host allocates.
    /// Default: 256 MiB.
    pub fn max_lifted_bytes(&mut self, bytes: u64) -> &mut Self {
        self.max_lifted_bytes = bytes;
        self
    }

    /// The bound set by [`max_lifted_bytes`](Self::max_lifted_bytes).
    pub fn get_max_lifted_bytes(&self) -> u64 {
        self.max_lifted_bytes
    }
}
