//! The oracle: run one module on Tern and on wasmi, in lock step, and
//! compare everything a host can observe.

use crate::generate::{Rng, generate, smith_config};
use crate::runtime::{Subject, Tern, TernBudget, Tiers, Wasmi};
use crate::value::{ExportKind, Failure, Outcome, ShowOutcome, Trap, Ty, Value, Values};
use std::any::Any;
use std::collections::HashSet;
use std::fmt;
use std::panic::{self, AssertUnwindSafe};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::thread::{self, JoinHandle};
use std::time::Duration;

/// Fuel wasmi gets for each call (and for instantiation).
pub const WASMI_FUEL: u64 = 1_000_000;

/// Fuel Tern gets for each call in [`Mode::Fuel`]: far more than wasmi's,
/// so that whenever wasmi finishes Tern must too; fuel units differ (Tern
/// charges every operator, wasmi skips some and charges bulk operations
/// by the byte) but not by this factor.
pub const TERN_FUEL: u64 = 64 * WASMI_FUEL;

/// How often the ticker advances Tern's epoch in [`Mode::Epoch`].
const TICK: Duration = Duration::from_millis(50);

/// Epochs a Tern call may run in [`Mode::Epoch`] (100 ticks: 5 s). A guard
/// against hangs, never reached by a call that wasmi finished in its fuel.
const EPOCH_DEADLINE: u64 = 100;

/// Passes over the exported functions: the first with zero arguments, the
/// others with seeded ones.
const PASSES: u64 = 3;

/// Fresh starts after calls wasmi could not finish, before the oracle
/// gives up on a module.
const MAX_RESTARTS: usize = 8;

/// Recursion depth wasmi allows (Tern allows far more).
const WASMI_MAX_RECURSION: usize = 20_000;

/// How Tern is kept from running forever.
///
/// Fuel metering and epoch interruption change the code Tern generates, so
/// the oracle exercises both. wasmi always runs first, with fuel; Tern
/// runs a call only if wasmi finished it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    /// Tern consumes fuel ([`TERN_FUEL`] per call).
    Fuel,
    /// Tern checks an epoch deadline, advanced by a ticker thread.
    Epoch,
}

/// How one module is checked.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Setup {
    /// How Tern is kept from running forever.
    pub mode: Mode,
    /// The seed call arguments are drawn from.
    pub arg_seed: u64,
    /// Whether floats must agree to the bit, NaNs included. Only modules
    /// that canonicalise NaNs can promise that; otherwise any NaN equals
    /// any NaN, and a global or memory that differs ends the comparison
    /// with wasmi as [`Skip::NanPayloads`] (Tern's tiers must still agree
    /// to the bit).
    pub exact_nans: bool,
}

impl Setup {
    /// The setup of the module generated from `seed`: the mode alternates
    /// between seeds, arguments come from the seed, and NaNs are exact when
    /// the seed's generator configuration canonicalises them.
    pub fn for_seed(seed: u64) -> Setup {
        Setup {
            mode: if seed.is_multiple_of(2) {
                Mode::Fuel
            } else {
                Mode::Epoch
            },
            arg_seed: seed,
            exact_nans: smith_config(&mut Rng::new(seed)).canonicalize_nans,
        }
    }
}

/// One step both engines took alike, in order.
#[derive(Debug, Clone)]
pub enum Step {
    /// A fresh store, and the module instantiated in it.
    Instantiate,
    /// A call and the outcome both engines agreed on.
    Call {
        /// The exported function.
        name: String,
        /// Its arguments.
        args: Vec<Value>,
        /// What it did in both engines.
        outcome: Outcome<Vec<Value>>,
    },
}

impl fmt::Display for Step {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Instantiate => f.write_str("instantiation"),
            Self::Call { name, args, .. } => write!(f, "call {name:?}({})", Values(args)),
        }
    }
}

/// Where the engines parted.
#[derive(Debug, Clone)]
pub enum Divergence {
    /// Exactly one engine refused the module; its message.
    Compile {
        /// The engine that refused.
        refused_by: &'static str,
        /// Its message.
        message: String,
    },
    /// The engines list different exports.
    Exports {
        /// wasmi's exports, sorted by name.
        wasmi: Vec<(String, ExportKind)>,
        /// Tern's exports, sorted by name.
        tern: Vec<(String, ExportKind)>,
    },
    /// One engine instantiated the module and the other did not, or they
    /// trapped differently.
    Instantiate {
        /// wasmi's outcome.
        wasmi: Outcome<()>,
        /// Tern's outcome.
        tern: Outcome<()>,
    },
    /// A call did different things.
    Call {
        /// The exported function.
        name: String,
        /// Its arguments.
        args: Vec<Value>,
        /// wasmi's outcome.
        wasmi: Outcome<Vec<Value>>,
        /// Tern's outcome.
        tern: Outcome<Vec<Value>>,
    },
    /// An exported global differs after the last step.
    Global {
        /// The export.
        name: String,
        /// wasmi's value.
        wasmi: Value,
        /// Tern's value.
        tern: Value,
    },
    /// An exported memory differs after the last step.
    Memory {
        /// The export.
        name: String,
        /// How.
        detail: String,
    },
    /// An exported table differs after the last step.
    Table {
        /// The export.
        name: String,
        /// How.
        detail: String,
    },
}

/// A behaviour on which the engines disagree, and the steps that led there.
#[derive(Debug, Clone)]
pub struct Mismatch {
    /// Steps both engines took alike before they parted.
    pub steps: Vec<Step>,
    /// How they parted.
    pub divergence: Divergence,
}

impl fmt::Display for Mismatch {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let after = match self.steps.last() {
            Some(step) => format!(" after {step} (step {})", self.steps.len()),
            None => String::new(),
        };
        match &self.divergence {
            Divergence::Compile {
                refused_by,
                message,
            } => write!(
                f,
                "compile: only {refused_by} refused the module: {message}"
            ),
            Divergence::Exports { wasmi, tern } => {
                write!(f, "exports differ:\nwasmi {wasmi:?}\ntern  {tern:?}")
            }
            Divergence::Instantiate { wasmi, tern } => write!(
                f,
                "instantiation{after}:\nwasmi {}\ntern  {}",
                show_unit(wasmi),
                show_unit(tern)
            ),
            Divergence::Call {
                name,
                args,
                wasmi,
                tern,
            } => write!(
                f,
                "call {name:?}({}) (step {}):\nwasmi {}\ntern  {}",
                Values(args),
                self.steps.len() + 1,
                ShowOutcome(wasmi),
                ShowOutcome(tern)
            ),
            Divergence::Global { name, wasmi, tern } => {
                write!(f, "global {name:?}{after}:\nwasmi {wasmi}\ntern  {tern}")
            }
            Divergence::Memory { name, detail } => write!(f, "memory {name:?}{after}: {detail}"),
            Divergence::Table { name, detail } => write!(f, "table {name:?}{after}: {detail}"),
        }
    }
}

/// Why the comparison of a module stopped before its end, without a
/// mismatch.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Skip {
    /// Both engines refused the module (wasm-smith made something neither
    /// supports); the messages.
    BothRejected(String),
    /// wasmi ran out of fuel or stack (its limits are the tighter ones)
    /// too often, or while instantiating: which limit.
    WasmiExhausted(Trap),
    /// Both engines failed to instantiate the module, alike.
    BothFailedToInstantiate,
    /// In a module that keeps its NaNs, the engines' NaN payloads reached
    /// an integer global or memory (wasm-smith mixes dropped floats into
    /// globals by their bits): the specification leaves those bits open,
    /// so the engines' states may differ from there on. Tern's tiers are
    /// still compared to the bit. Which global or memory.
    NanPayloads(String),
}

/// What checking one module found.
#[derive(Debug, Clone, Default)]
pub struct Report {
    /// The first disagreement; the comparison stops there, as the states
    /// may have diverged.
    pub mismatch: Option<Mismatch>,
    /// Why the comparison stopped early, if it did without a mismatch.
    pub skip: Option<Skip>,
    /// Calls whose outcomes were compared.
    pub calls: usize,
    /// Of those, calls that trapped (alike) in both engines.
    pub traps: usize,
    /// Calls wasmi could not finish (out of fuel or stack), after each of
    /// which both engines started over from a fresh instance.
    pub restarts: usize,
}

/// Runs modules on both engines and compares them.
///
/// Holds the engines and, for [`Mode::Epoch`], a thread that advances
/// Tern's epoch; create one and reuse it for many modules.
#[derive(Debug)]
pub struct Oracle {
    /// Tern's engines for fuel and epochs: the interpreter's, then
    /// Cranelift's.
    tern_fuel: [tern_engine::Engine; 2],
    tern_epoch: [tern_engine::Engine; 2],
    wasmi: wasmi::Engine,
    /// Kept for its `Drop`, which stops the thread.
    _ticker: Ticker,
    trace: bool,
}

impl Default for Oracle {
    fn default() -> Self {
        Self::new()
    }
}

impl Oracle {
    /// An oracle with Tern's default configuration (plus fuel or epochs,
    /// and the interpreter's verifier on every function it translates)
    /// on both tiers, and wasmi's (plus fuel, eager translation and a
    /// deeper stack).
    pub fn new() -> Self {
        let tiers = |f: &dyn Fn(&mut tern_engine::Config)| {
            [
                tern_engine::Strategy::Interpreter,
                tern_engine::Strategy::Cranelift,
            ]
            .map(|s| {
                let mut config = tern_engine::Config::new();
                config.strategy(s).interpreter_verifier(true);
                f(&mut config);
                tern_engine::Engine::new(&config)
            })
        };
        let tern_fuel = tiers(&|c| {
            c.consume_fuel(true);
        });
        let tern_epoch = tiers(&|c| {
            c.epoch_interruption(true);
        });

        let mut config = wasmi::Config::default();
        config
            .consume_fuel(true)
            .compilation_mode(wasmi::CompilationMode::Eager)
            .set_max_recursion_depth(WASMI_MAX_RECURSION)
            .set_max_stack_height(8 * 1024 * 1024);
        let wasmi = wasmi::Engine::new(&config);

        let ticker = Ticker::start(tern_epoch.clone());
        Self {
            tern_fuel,
            tern_epoch,
            wasmi,
            _ticker: ticker,
            trace: false,
        }
    }

    /// Whether to print every call and both outcomes to stderr. Default:
    /// off.
    pub fn trace(&mut self, on: bool) -> &mut Self {
        self.trace = on;
        self
    }

    /// Generates the module for `seed` and checks it, in the seed's mode
    /// and with arguments drawn from the seed.
    ///
    /// # Errors
    ///
    /// When wasm-smith cannot build a module from the seed.
    pub fn check_seed(&self, seed: u64) -> anyhow::Result<(Vec<u8>, Report)> {
        let wasm = generate(seed)?;
        let report = self.check(&wasm, &Setup::for_seed(seed));
        Ok((wasm, report))
    }

    /// Checks `wasm` as `setup` says.
    pub fn check(&self, wasm: &[u8], setup: &Setup) -> Report {
        let mut report = Report::default();
        let mut run = Run {
            steps: Vec::new(),
            trace: self.trace,
            exact_nans: setup.exact_nans,
        };
        if let Err(stop) = run.run(self, wasm, setup, &mut report) {
            match stop {
                Stop::Diverged(divergence) => {
                    report.mismatch = Some(Mismatch {
                        steps: run.steps,
                        divergence,
                    });
                }
                Stop::Skip(s) => report.skip = Some(s),
            }
        }
        report
    }
}

/// Why [`Run::run`] stopped early.
enum Stop {
    Diverged(Divergence),
    Skip(Skip),
}

/// The comparison of one module.
struct Run {
    steps: Vec<Step>,
    trace: bool,
    exact_nans: bool,
}

impl Run {
    fn run(
        &mut self,
        oracle: &Oracle,
        wasm: &[u8],
        setup: &Setup,
        report: &mut Report,
    ) -> Result<(), Stop> {
        // Compile.
        let wasmi = guard(|| Wasmi::new(&oracle.wasmi, wasm, WASMI_FUEL));
        let tern = guard(|| {
            let (engines, budget) = match setup.mode {
                Mode::Fuel => (&oracle.tern_fuel, TernBudget::Fuel(TERN_FUEL)),
                Mode::Epoch => (&oracle.tern_epoch, TernBudget::Epoch(EPOCH_DEADLINE)),
            };
            let interp = Tern::new(&engines[0], wasm, budget);
            let compiled = Tern::new(&engines[1], wasm, budget);
            match (interp, compiled) {
                (Ok(a), Ok(b)) => Ok(Tiers::new(a, b)),
                (Err(a), Err(_)) => Err(a),
                (Ok(_), Err(b)) => Err(format!("the tiers disagree: only cranelift refused: {b}")),
                (Err(a), Ok(_)) => Err(format!(
                    "the tiers disagree: only the interpreter refused: {a}"
                )),
            }
        });
        let (mut wasmi, mut tern) = match (wasmi, tern) {
            (Ok(w), Ok(t)) => (w, t),
            (Err(w), Err(t)) => {
                return Err(Stop::Skip(Skip::BothRejected(format!(
                    "wasmi: {w}; tern: {t}"
                ))));
            }
            (Ok(_), Err(message)) => {
                return Err(Stop::Diverged(Divergence::Compile {
                    refused_by: "tern",
                    message,
                }));
            }
            (Err(message), Ok(_)) => {
                return Err(Stop::Diverged(Divergence::Compile {
                    refused_by: "wasmi",
                    message,
                }));
            }
        };

        // Exports.
        let exports = tern.exports();
        let mut wasmi_exports = wasmi.exports();
        let mut tern_sorted = exports.clone();
        tern_sorted.sort_by(|a, b| a.0.cmp(&b.0));
        wasmi_exports.sort_by(|a, b| a.0.cmp(&b.0));
        if tern_sorted != wasmi_exports {
            return Err(Stop::Diverged(Divergence::Exports {
                wasmi: wasmi_exports,
                tern: tern_sorted,
            }));
        }

        self.instantiate(&exports, &mut wasmi, &mut tern)?;

        // Calls, in export order, in several passes. A call wasmi cannot
        // finish leaves the two states apart: both engines start over from
        // a fresh instance, and that function is not called again.
        let mut banned: HashSet<&str> = HashSet::new();
        for pass in 0..PASSES {
            let mut rng = Rng::new(setup.arg_seed ^ pass.wrapping_mul(0x5851_f42d_4c95_7f2d));
            for (name, kind) in &exports {
                let ExportKind::Func(sig) = kind else {
                    continue;
                };
                let args: Vec<Value> = sig
                    .params
                    .iter()
                    .map(|t| {
                        if pass == 0 {
                            zero(*t)
                        } else {
                            arg(&mut rng, *t)
                        }
                    })
                    .collect();
                if banned.contains(name.as_str()) {
                    continue;
                }

                let w = guard(|| wasmi.call(name, &args));
                if let Err(Failure::Trap(t)) = &w
                    && t.is_exhaustion()
                {
                    if self.trace {
                        eprintln!(
                            "call {name:?}({})\n  wasmi {t:?}: fresh start",
                            Values(&args)
                        );
                    }
                    report.restarts += 1;
                    if report.restarts > MAX_RESTARTS {
                        return Err(Stop::Skip(Skip::WasmiExhausted(t.clone())));
                    }
                    banned.insert(name);
                    wasmi.reset();
                    tern.reset();
                    self.instantiate(&exports, &mut wasmi, &mut tern)?;
                    continue;
                }
                let t = guard(|| tern.call(name, &args));
                if self.trace {
                    eprintln!(
                        "call {name:?}({})\n  wasmi {}\n  tern  {}",
                        Values(&args),
                        ShowOutcome(&w),
                        ShowOutcome(&t)
                    );
                }
                report.calls += 1;
                let same = match (&w, &t) {
                    (Ok(a), Ok(b)) => same_values(a, b, self.exact_nans),
                    (Err(a), Err(b)) => a.same_as(b),
                    _ => false,
                };
                if !same {
                    return Err(Stop::Diverged(Divergence::Call {
                        name: name.clone(),
                        args,
                        wasmi: w,
                        tern: t,
                    }));
                }
                if w.is_err() {
                    report.traps += 1;
                }
                self.steps.push(Step::Call {
                    name: name.clone(),
                    args,
                    outcome: w,
                });
                compare_state(&exports, &mut wasmi, &mut tern, self.exact_nans)?;
            }
        }
        Ok(())
    }

    /// Instantiates the module in both engines (wasmi first, so that its
    /// limits decide what runs) and compares the outcomes and the new
    /// state.
    fn instantiate(
        &mut self,
        exports: &[(String, ExportKind)],
        wasmi: &mut Wasmi,
        tern: &mut Tiers,
    ) -> Result<(), Stop> {
        let w = guard(|| wasmi.instantiate());
        if let Err(Failure::Trap(t)) = &w
            && t.is_exhaustion()
        {
            return Err(Stop::Skip(Skip::WasmiExhausted(t.clone())));
        }
        let t = guard(|| tern.instantiate());
        match (&w, &t) {
            (Ok(()), Ok(())) => {}
            // wasmi reports segments that do not fit as errors, not traps.
            (Err(Failure::Trap(a)), Err(Failure::Trap(b))) if a != b => {
                return Err(Stop::Diverged(Divergence::Instantiate {
                    wasmi: w,
                    tern: t,
                }));
            }
            (Err(_), Err(_)) => return Err(Stop::Skip(Skip::BothFailedToInstantiate)),
            _ => {
                return Err(Stop::Diverged(Divergence::Instantiate {
                    wasmi: w,
                    tern: t,
                }));
            }
        }
        self.steps.push(Step::Instantiate);
        compare_state(exports, wasmi, tern, self.exact_nans)
    }
}

fn show_unit(o: &Outcome<()>) -> String {
    match o {
        Ok(()) => "ok".to_string(),
        Err(f) => f.to_string(),
    }
}

/// Compares every exported global, memory and table.
fn compare_state(
    exports: &[(String, ExportKind)],
    wasmi: &mut Wasmi,
    tern: &mut Tiers,
    exact_nans: bool,
) -> Result<(), Stop> {
    for (name, kind) in exports {
        let name = name.clone();
        match kind {
            ExportKind::Func(_) => {}
            ExportKind::Global(..) => {
                let (w, t) = (wasmi.global(&name), tern.global(&name));
                if !same_values(
                    std::slice::from_ref(&w),
                    std::slice::from_ref(&t),
                    exact_nans,
                ) {
                    if !exact_nans {
                        return Err(Stop::Skip(Skip::NanPayloads(format!("global {name:?}"))));
                    }
                    return Err(Stop::Diverged(Divergence::Global {
                        name,
                        wasmi: w,
                        tern: t,
                    }));
                }
            }
            ExportKind::Memory => {
                let w = wasmi.memory(&name);
                let t = tern.memory(&name);
                if w != t {
                    if !exact_nans {
                        return Err(Stop::Skip(Skip::NanPayloads(format!("memory {name:?}"))));
                    }
                    let detail = describe_memory_difference(w, t);
                    return Err(Stop::Diverged(Divergence::Memory { name, detail }));
                }
            }
            ExportKind::Table(_) => {
                let (w, t) = (wasmi.table(&name), tern.table(&name));
                if w != t {
                    let first = w.iter().zip(&t).position(|(a, b)| a != b);
                    let detail = match first {
                        Some(i) => format!(
                            "sizes {} and {}; entry {i}: wasmi {}, tern {}",
                            w.len(),
                            t.len(),
                            w[i],
                            t[i]
                        ),
                        None => format!("sizes: wasmi {}, tern {}", w.len(), t.len()),
                    };
                    return Err(Stop::Diverged(Divergence::Table { name, detail }));
                }
            }
        }
    }
    Ok(())
}

/// Whether two lists of values agree: to the bit, or with any NaN equal to
/// any NaN when `exact_nans` is off.
fn same_values(a: &[Value], b: &[Value], exact_nans: bool) -> bool {
    let nan = |v: &Value| match v {
        Value::F32(bits) => f32::from_bits(*bits).is_nan(),
        Value::F64(bits) => f64::from_bits(*bits).is_nan(),
        _ => false,
    };
    a.len() == b.len()
        && a.iter()
            .zip(b)
            .all(|(x, y)| x == y || !exact_nans && nan(x) && nan(y))
}

fn describe_memory_difference(w: &[u8], t: &[u8]) -> String {
    if w.len() != t.len() {
        return format!("sizes: wasmi {} bytes, tern {} bytes", w.len(), t.len());
    }
    let differing: Vec<usize> = (0..w.len()).filter(|&i| w[i] != t[i]).collect();
    let first = differing[0];
    let end = (first + 16).min(w.len());
    format!(
        "{} bytes differ, first at offset {first}:\nwasmi {:02x?}\ntern  {:02x?}",
        differing.len(),
        &w[first..end],
        &t[first..end]
    )
}

/// Runs `f`, turning a panic into an error so that a panicking engine is a
/// finding, not the end of the run.
fn guard<T, F: FnOnce() -> Result<T, E>, E: From<PanicError>>(f: F) -> Result<T, E> {
    match panic::catch_unwind(AssertUnwindSafe(f)) {
        Ok(r) => r,
        Err(payload) => Err(E::from(PanicError(panic_message(&payload)))),
    }
}

/// A panic caught by [`guard`].
struct PanicError(String);

impl From<PanicError> for Failure {
    fn from(p: PanicError) -> Self {
        Failure::Error(format!("panicked: {}", p.0))
    }
}

impl From<PanicError> for String {
    fn from(p: PanicError) -> Self {
        format!("panicked: {}", p.0)
    }
}

fn panic_message(payload: &Box<dyn Any + Send>) -> String {
    if let Some(s) = payload.downcast_ref::<&str>() {
        (*s).to_string()
    } else if let Some(s) = payload.downcast_ref::<String>() {
        s.clone()
    } else {
        "a non-string payload".to_string()
    }
}

fn zero(t: Ty) -> Value {
    match t {
        Ty::I32 => Value::I32(0),
        Ty::I64 => Value::I64(0),
        Ty::F32 => Value::F32(0),
        Ty::F64 => Value::F64(0),
        Ty::FuncRef => Value::FuncRef(None),
        Ty::ExternRef => Value::ExternRef(false),
    }
}

/// A seeded argument, biased toward edge cases and small numbers (which
/// make useful addresses and table indices).
fn arg(rng: &mut Rng, t: Ty) -> Value {
    let r = rng.next_u64();
    match t {
        Ty::I32 => Value::I32(match rng.below(8) {
            0 => [0, 1, -1, i32::MIN, i32::MAX, 65536, 0xffff, -65536][(r % 8) as usize],
            1..=3 => (r % 128) as i32,
            4 => (r % 70_000) as i32,
            _ => r as i32,
        }),
        Ty::I64 => Value::I64(match rng.below(8) {
            0 => [
                0,
                1,
                -1,
                i64::MIN,
                i64::MAX,
                1 << 32,
                u32::MAX.into(),
                -65536,
            ][(r % 8) as usize],
            1..=3 => (r % 128) as i64,
            4 => (r % 70_000) as i64,
            _ => r as i64,
        }),
        Ty::F32 => {
            let v: f32 = match rng.below(4) {
                0 => [
                    0.0,
                    -0.0,
                    1.0,
                    -1.0,
                    f32::INFINITY,
                    f32::NEG_INFINITY,
                    f32::NAN,
                    2.5e9,
                ][(r % 8) as usize],
                1 => (r % 256) as f32 - 128.0,
                _ => f32::from_bits(r as u32),
            };
            // The canonical NaN only: the generator canonicalises every NaN
            // an operation makes, not those a caller passes in.
            Value::F32(if v.is_nan() { 0x7fc0_0000 } else { v.to_bits() })
        }
        Ty::F64 => {
            let v: f64 = match rng.below(4) {
                0 => [
                    0.0,
                    -0.0,
                    1.0,
                    -1.0,
                    f64::INFINITY,
                    f64::NEG_INFINITY,
                    f64::NAN,
                    9.3e18,
                ][(r % 8) as usize],
                1 => (r % 256) as f64 - 128.0,
                _ => f64::from_bits(r),
            };
            Value::F64(if v.is_nan() {
                0x7ff8_0000_0000_0000
            } else {
                v.to_bits()
            })
        }
        Ty::FuncRef => Value::FuncRef(None),
        Ty::ExternRef => Value::ExternRef(false),
    }
}

/// Advances an engine's epoch every [`TICK`] until dropped.
#[derive(Debug)]
struct Ticker {
    stop: Arc<AtomicBool>,
    thread: Option<JoinHandle<()>>,
}

impl Ticker {
    fn start(engines: [tern_engine::Engine; 2]) -> Self {
        let stop = Arc::new(AtomicBool::new(false));
        let flag = Arc::clone(&stop);
        let thread = thread::Builder::new()
            .name("difftest-epoch".to_string())
            .spawn(move || {
                while !flag.load(Ordering::Relaxed) {
                    thread::sleep(TICK);
                    for engine in &engines {
                        engine.increment_epoch();
                    }
                }
            })
            .expect("spawn the epoch ticker");
        Self {
            stop,
            thread: Some(thread),
        }
    }
}

impl Drop for Ticker {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}
