//! Tern's tiers against their peers on the same guests, in the same
//! process: the interpreter (`tern`) against wasmi, the Cranelift tier
//! (`tern-cranelift`) against wasmtime.
//!
//! - `execute/<workload>/<runtime>`: one call of a workload's export on an
//!   instance prepared beforehand (see `tern_bench::WORKLOADS`).
//! - `compile/<guest>/<runtime>`: `Module::new` (load, validate, translate
//!   or compile) of the programs and of the large guest.
//! - `bounds/<workload>/<runtime>`: the programs on the Cranelift tier with
//!   guard regions (`tern-cranelift`) and with explicit bounds checks
//!   (`tern-cranelift-checked`).
//!
//! `crates/bench/report.sh` runs this and prints the ratios.

use std::hint::black_box;
use std::time::Duration;

use criterion::{
    BatchSize, BenchmarkGroup, BenchmarkId, Criterion, SamplingMode, measurement::WallTime,
};
use tern_bench::{
    Guest, LARGE, PROGRAMS, Prepared, Runtime, Tern, TernCranelift, TernCraneliftChecked,
    WORKLOADS, Wasmi, Wasmtime, Workload, prepare_checked,
};

/// Short runs so the whole suite takes a few minutes on two cores; every
/// iteration takes milliseconds, so flat sampling fits.
fn configure(group: &mut BenchmarkGroup<'_, WallTime>) {
    group
        .sampling_mode(SamplingMode::Flat)
        .sample_size(20)
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(3));
}

/// A runtime that cannot run a workload correctly is skipped with a
/// message rather than failing the suite; the report shows a gap.
fn execute_on<R: Runtime>(group: &mut BenchmarkGroup<'_, WallTime>, workload: &Workload) {
    let mut prepared = match prepare_checked::<R>(workload) {
        Ok(prepared) => prepared,
        Err(error) => {
            eprintln!("skipping execute/{}/{}: {error:#}", workload.name, R::NAME);
            return;
        }
    };
    group.bench_function(BenchmarkId::new(workload.name, R::NAME), |b| {
        b.iter(|| black_box(prepared.call().expect("the checked call succeeded before")));
    });
}

fn execute(c: &mut Criterion) {
    let mut group = c.benchmark_group("execute");
    configure(&mut group);
    for workload in WORKLOADS {
        execute_on::<Tern>(&mut group, workload);
        execute_on::<Wasmi>(&mut group, workload);
        execute_on::<TernCranelift>(&mut group, workload);
        execute_on::<Wasmtime>(&mut group, workload);
    }
    group.finish();
}

/// Each iteration gets a fresh engine, so that code the engine keeps does
/// not pile up; creating and dropping it is not timed.
fn compile_on<R: Runtime>(group: &mut BenchmarkGroup<'_, WallTime>, name: &str, guest: &Guest) {
    if let Err(error) = R::compile(&R::engine(), guest) {
        eprintln!("skipping compile/{name}/{}: {error:#}", R::NAME);
        return;
    }
    group.bench_function(BenchmarkId::new(name, R::NAME), |b| {
        b.iter_batched(
            R::engine,
            |engine| {
                let module =
                    R::compile(&engine, black_box(guest)).expect("the module compiled before");
                (engine, module)
            },
            BatchSize::PerIteration,
        );
    });
}

fn compile(c: &mut Criterion) {
    let mut group = c.benchmark_group("compile");
    configure(&mut group);
    for (name, guest) in [("programs", &PROGRAMS), ("large", &LARGE)] {
        compile_on::<Tern>(&mut group, name, guest);
        compile_on::<Wasmi>(&mut group, name, guest);
        compile_on::<TernCranelift>(&mut group, name, guest);
        compile_on::<Wasmtime>(&mut group, name, guest);
    }
    group.finish();
}

fn bounds(c: &mut Criterion) {
    let mut group = c.benchmark_group("bounds");
    configure(&mut group);
    for workload in WORKLOADS.iter().filter(|w| w.guest.path == PROGRAMS.path) {
        execute_on::<TernCranelift>(&mut group, workload);
        execute_on::<TernCraneliftChecked>(&mut group, workload);
    }
    group.finish();
}

criterion::criterion_group!(benches, execute, compile, bounds);
criterion::criterion_main!(benches);
