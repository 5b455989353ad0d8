//! Turning a binary into a module: decoding, then validating every function
//! body and making its code, on several threads for big modules.

use super::{ModuleInner, validated};
use crate::config::Strategy;
use crate::cranelift::{self, CompiledFunc, FuncCompiler};
use crate::engine::Engine;
use crate::environ::ModuleEnv;
use crate::environ::parse::{self, Body};
use crate::environ::{FuncError, validate_body};
use crate::error::{Error, Result};
use crate::interp::translate::{FuncEnv, translate_function};
use crate::interp::{InterpCode, InterpFunc, InterpOptions, TranslatorState};
use wasmparser::{BinaryReaderError, FuncValidatorAllocations};

/// Bytes of function bodies below which one thread does them all:
/// starting another costs more than it saves.
const PARALLEL_THRESHOLD: usize = 16 << 10;

/// The same when the bodies are only validated (translation is lazy): that
/// is fast enough (a 50 KiB program in about 0.3 ms) that a second thread,
/// which costs about as much to start and stop, pays off only for bigger
/// modules.
const VALIDATE_PARALLEL_THRESHOLD: usize = 128 << 10;

/// Threads that work on one module at most.
const MAX_THREADS: usize = 4;

/// What became of one function body: interpreter code (or its body's
/// range, to translate on first call), or native code.
enum Made {
    Interp(std::result::Result<InterpFunc, std::ops::Range<u64>>),
    Native(CompiledFunc),
}

/// Decodes, validates and makes the code of `bytes`.
pub(crate) fn compile(engine: &Engine, bytes: &[u8]) -> Result<ModuleInner> {
    let parsed = parse::parse(bytes, &|ty| engine.intern(ty))?;
    let env = parsed.env;
    let config = engine.config();
    let n = env.num_defined_funcs();
    let native: Box<[bool]> = match config.strategy {
        Strategy::Interpreter => vec![false; n as usize].into(),
        Strategy::Cranelift => vec![true; n as usize].into(),
        Strategy::Mixed => (0..n)
            .map(|d| (env.num_imported_funcs + d) % 2 == 0)
            .collect(),
    };
    let jit = match config.strategy {
        Strategy::Interpreter => None,
        _ => Some(engine.jit()?),
    };
    let lazy = config.lazy_translation;
    let options = InterpOptions {
        fuel: config.consume_fuel,
        epoch: config.epoch_interruption,
        verify: config.interpreter_verifier,
        native,
    };
    let v = |e: BinaryReaderError| parse::classify(bytes, e);
    // Bodies translated lazily need no validating now when the cache says
    // these bytes validated before. Translating now (or compiling)
    // validates in the same pass, which the cache would hardly shorten.
    let cached = match (&config.validation_cache, jit) {
        (Some(dir), None) if lazy => Some(validated::Entry::new(dir, bytes)),
        _ => None,
    };
    let validate = !cached.as_ref().is_some_and(validated::Entry::exists);
    // Bodies the cache vouched for are still validated as they are
    // translated, so a tampered cache is found out before they run.
    let unvalidated = match parsed.bodies.first() {
        Some((to_validate, _)) if !validate => Some(to_validate.resources.clone()),
        _ => None,
    };
    let threshold = match jit {
        None if !validate => usize::MAX,
        None if lazy => VALIDATE_PARALLEL_THRESHOLD,
        _ => PARALLEL_THRESHOLD,
    };
    let made = for_each_body(parsed.bodies, threshold, |first, chunk| {
        make_chunk(
            &env,
            &options,
            jit.map(|j| &j.compiler),
            Work { lazy, validate },
            first,
            chunk,
            &v,
        )
    })?;
    let mut interp_funcs = Vec::with_capacity(made.len());
    let mut natives = Vec::new();
    for (d, m) in made.into_iter().enumerate() {
        match m {
            Made::Interp(f) => interp_funcs.push(f),
            Made::Native(f) => {
                // Never translated for the interpreter, which calls it
                // through its reference.
                interp_funcs.push(Err(0..0));
                natives.push((d as u32, f));
            }
        }
    }
    let native = match jit {
        Some(jit) => {
            // Every signature's trampolines, looked up now so that
            // instantiation needs no lock and cannot fail for want of them.
            let trampolines = env
                .types
                .iter()
                .zip(&env.type_ids)
                .map(|(ty, id)| jit.trampolines.get(&jit.compiler, *id, ty))
                .collect::<Result<Vec<_>>>()?;
            Some(cranelift::compile_module(
                &jit.compiler,
                &env,
                natives,
                trampolines,
            )?)
        }
        None => None,
    };
    let (code_section, code_section_offset) = match parsed.code_section {
        Some((section, offset)) if lazy => (section.into(), offset),
        _ => (Box::default(), 0),
    };
    let interp = InterpCode::new(
        interp_funcs,
        code_section,
        code_section_offset,
        options,
        unvalidated,
    );
    let memory_image = if engine.config().memory_init_cow {
        crate::runtime::image::MemoryImage::for_module(&env)
    } else {
        None
    };
    if let Some(entry) = cached.filter(|_| validate) {
        entry.record();
    }
    static NEXT_ID: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
    Ok(ModuleInner {
        id: NEXT_ID.fetch_add(1, std::sync::atomic::Ordering::Relaxed),
        engine: engine.clone(),
        env,
        interp,
        native,
        memory_image,
    })
}

/// What loading does with the bodies the interpreter runs.
#[derive(Clone, Copy)]
struct Work {
    /// Translate on first call rather than now.
    lazy: bool,
    /// Validate them (not when the validation cache vouches for them).
    validate: bool,
}

/// Validates and makes the code of consecutive bodies, the first being
/// defined function `first`: native code for the functions `options` says
/// are compiled, interpreter code for the others.
fn make_chunk(
    env: &ModuleEnv,
    options: &InterpOptions,
    compiler: Option<&cranelift::Compiler>,
    work: Work,
    first: usize,
    chunk: Vec<Body<'_>>,
    v: &(impl Fn(BinaryReaderError) -> Error + Sync),
) -> Result<Vec<Made>> {
    let Some(compiler) = compiler else {
        return Ok(translate_chunk(env, options, work, first, chunk, v)?
            .into_iter()
            .map(Made::Interp)
            .collect());
    };
    let error = |e| match e {
        FuncError::Wasm(e) => v(e),
        FuncError::Other(e) => e,
    };
    let mut fc = FuncCompiler::default();
    let mut out = Vec::with_capacity(chunk.len());
    for (i, body) in chunk.into_iter().enumerate() {
        let d = first + i;
        if options.native[d] {
            let (to_validate, body) = body;
            let f = fc
                .compile(compiler, env, &options.native, d as u32, &body, to_validate)
                .map_err(error)?;
            out.push(Made::Native(f));
        } else {
            let mut made = translate_chunk(env, options, work, d, vec![body], v)?;
            out.push(Made::Interp(made.pop().expect("one function")));
        }
    }
    Ok(out)
}

/// Validates consecutive bodies (unless `work` says they need not be), the
/// first being defined function `first`, and translates them now or, when
/// `work` is lazy, prepares them for translation on first call.
fn translate_chunk(
    env: &ModuleEnv,
    options: &InterpOptions,
    work: Work,
    first: usize,
    chunk: Vec<Body<'_>>,
    v: &(impl Fn(BinaryReaderError) -> Error + Sync),
) -> Result<Vec<std::result::Result<InterpFunc, std::ops::Range<u64>>>> {
    let error = |e| match e {
        FuncError::Wasm(e) => v(e),
        FuncError::Other(e) => e,
    };
    let mut allocs = FuncValidatorAllocations::default();
    let mut state = TranslatorState::default();
    let mut out = Vec::with_capacity(chunk.len());
    for (i, (to_validate, body)) in chunk.into_iter().enumerate() {
        let mut validator = work
            .validate
            .then(|| to_validate.into_validator(std::mem::take(&mut allocs)));
        let made = if work.lazy {
            if let Some(validator) = &mut validator {
                validate_body(&body, validator).map_err(error)?;
            }
            Err(body.range())
        } else {
            let fenv = FuncEnv {
                module: env,
                func_index: env.num_imported_funcs + (first + i) as u32,
                options,
            };
            Ok(translate_function(&fenv, &body, validator.as_mut(), &mut state).map_err(error)?)
        };
        if let Some(validator) = validator {
            allocs = validator.into_allocations();
        }
        out.push(made);
    }
    Ok(out)
}

/// Consecutive bodies, with the index of the first.
type Chunk<'a> = (usize, Vec<Body<'a>>);

/// Runs `work` over every body, in order, on several threads when there are
/// `threshold` bytes of code or more: contiguous chunks of about equal code
/// size, so that results come back in order and the first error is the
/// lowest function's, whichever thread found it.
pub(crate) fn for_each_body<'a, T: Send>(
    bodies: Vec<Body<'a>>,
    threshold: usize,
    work: impl Fn(usize, Vec<Body<'a>>) -> Result<Vec<T>> + Sync,
) -> Result<Vec<T>> {
    let code_bytes: usize = bodies.iter().map(|(_, b)| b.as_bytes().len()).sum();
    let threads = if code_bytes < threshold {
        1
    } else {
        std::thread::available_parallelism()
            .map_or(1, |n| n.get())
            .min(MAX_THREADS)
            .min(bodies.len().max(1))
    };
    if threads <= 1 {
        return work(0, bodies);
    }
    let per_thread = code_bytes.div_ceil(threads);
    let mut chunks: Vec<Chunk<'a>> = Vec::new();
    let mut size = 0;
    for (i, body) in bodies.into_iter().enumerate() {
        if chunks.is_empty() || (size >= per_thread && chunks.len() < threads) {
            chunks.push((i, Vec::new()));
            size = 0;
        }
        size += body.1.as_bytes().len();
        chunks.last_mut().expect("pushed above").1.push(body);
    }
    // Each chunk is taken once: by its thread, or here when no thread
    // could be started for it.
    let slots: Vec<std::sync::Mutex<Option<Chunk<'a>>>> = chunks
        .into_iter()
        .map(|c| std::sync::Mutex::new(Some(c)))
        .collect();
    let run = |i: usize| {
        let taken = slots[i]
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .take();
        let (first, chunk) = taken.expect("each chunk is taken once");
        work(first, chunk)
    };
    let results: Vec<Result<Vec<T>>> = std::thread::scope(|scope| {
        let run = &run;
        // The first chunk is done on this thread, the others beside it.
        let handles: Vec<_> = (1..slots.len())
            .map(|i| {
                std::thread::Builder::new()
                    .name("tern-compile".into())
                    .spawn_scoped(scope, move || run(i))
                    .map_err(|_| run(i))
            })
            .collect();
        let first = run(0);
        std::iter::once(first)
            .chain(handles.into_iter().map(|h| {
                match h {
                    Ok(thread) => thread
                        .join()
                        .unwrap_or_else(|p| std::panic::resume_unwind(p)),
                    Err(done_here) => done_here,
                }
            }))
            .collect()
    });
    let mut out = Vec::new();
    for r in results {
        out.extend(r?);
    }
    Ok(out)
}
