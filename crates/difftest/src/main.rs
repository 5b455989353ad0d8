//! Long differential runs of Tern (both tiers) against wasmi.
//!
//! ```text
//! tern-difftest START COUNT          check seeds START..START+COUNT
//! tern-difftest check FILE [SEED]    check one module (arguments from SEED)
//! ```
//!
//! A run prints each mismatch with its seed and saves the module to
//! `/tmp/difftest-<seed>.wasm`. `check` exits with status 0 when it finds no
//! mismatch and 1 when it finds one; with `DIFFTEST_TRACE` set it prints
//! every call and both outcomes, and with `DIFFTEST_NO_WABT` set it skips
//! asking wabt for a verdict (as a fast `wasm-tools shrink` predicate).

#![forbid(unsafe_code)]

use anyhow::{Context as _, bail};
use std::collections::BTreeMap;
use std::path::Path;
use std::time::Instant;
use tern_difftest::{Oracle, Report, Setup, Skip, Trap, Verdict, wabt_verdict};

fn main() -> anyhow::Result<()> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    match args.iter().map(String::as_str).collect::<Vec<_>>()[..] {
        ["check", file] => check(file, None),
        ["check", file, seed] => check(file, Some(parse(seed, "SEED")?)),
        [start, count] => run(parse(start, "START")?, parse(count, "COUNT")?),
        _ => bail!("usage: tern-difftest START COUNT | tern-difftest check FILE [SEED]"),
    }
}

fn parse(s: &str, what: &str) -> anyhow::Result<u64> {
    s.parse()
        .with_context(|| format!("{what} must be a number, not {s:?}"))
}

fn check(file: &str, seed: Option<u64>) -> anyhow::Result<()> {
    let wasm = std::fs::read(file).with_context(|| format!("cannot read {file}"))?;
    // A saved module's name carries its seed: difftest-<seed>.wasm.
    let seed = seed.unwrap_or_else(|| {
        file.rsplit('-')
            .next()
            .and_then(|s| s.strip_suffix(".wasm"))
            .and_then(|s| s.parse().ok())
            .unwrap_or(0)
    });
    let mut oracle = Oracle::new();
    oracle.trace(std::env::var_os("DIFFTEST_TRACE").is_some());
    let report = oracle.check(&wasm, &Setup::for_seed(seed));
    print_report(&report);
    if let Some(m) = &report.mismatch {
        if std::env::var_os("DIFFTEST_NO_WABT").is_some() {
            std::process::exit(1);
        }
        let path = Path::new(file);
        let dir = path.parent().unwrap_or(Path::new("."));
        let stem = path.file_stem().unwrap_or_default().to_string_lossy();
        println!("{}", wabt_verdict(&wasm, m, dir, &stem));
        std::process::exit(1);
    }
    Ok(())
}

fn print_report(report: &Report) {
    println!(
        "{} calls compared, {} trapped alike, {} restarts",
        report.calls, report.traps, report.restarts
    );
    if let Some(skip) = &report.skip {
        println!("stopped early: {skip:?}");
    }
    if let Some(m) = &report.mismatch {
        println!("MISMATCH {m}");
    }
}

fn run(start: u64, count: u64) -> anyhow::Result<()> {
    let oracle = Oracle::new();
    let began = Instant::now();
    let mut verdicts: BTreeMap<&'static str, Vec<u64>> = BTreeMap::new();
    let mut skips: BTreeMap<&'static str, u64> = BTreeMap::new();
    let (mut calls, mut traps, mut restarts, mut ungenerated) = (0, 0, 0, 0);
    for seed in start..start + count {
        let (wasm, report) = match oracle.check_seed(seed) {
            Ok(r) => r,
            Err(e) => {
                eprintln!("seed {seed}: {e:#}");
                ungenerated += 1;
                continue;
            }
        };
        calls += report.calls;
        traps += report.traps;
        restarts += report.restarts;
        if let Some(skip) = &report.skip {
            let reason = match skip {
                Skip::BothRejected(msg) => {
                    eprintln!("seed {seed}: both engines refused the module: {msg}");
                    "both rejected"
                }
                Skip::WasmiExhausted(Trap::StackOverflow) => "wasmi stack overflow",
                Skip::WasmiExhausted(..) => "wasmi out of fuel",
                Skip::BothFailedToInstantiate => "both failed to instantiate",
                Skip::NanPayloads(..) => "NaN payloads reached state",
            };
            *skips.entry(reason).or_default() += 1;
        }
        if let Some(m) = report.mismatch {
            let path = format!("/tmp/difftest-{seed}.wasm");
            std::fs::write(&path, &wasm).with_context(|| format!("cannot write {path}"))?;
            let verdict = wabt_verdict(&wasm, &m, Path::new("/tmp"), &format!("difftest-{seed}"));
            println!("MISMATCH seed {seed} ({path}): {m}\n=> {verdict}");
            let key = match verdict {
                Verdict::AgreesWithTern => "wabt agrees with tern",
                Verdict::AgreesWithWasmi => "wabt agrees with wasmi",
                Verdict::Inconclusive(_) => "inconclusive",
            };
            verdicts.entry(key).or_default().push(seed);
        }
        let done = seed - start + 1;
        if done.is_multiple_of(500) {
            eprintln!(
                "{done} seeds in {:.0?}, {} mismatches",
                began.elapsed(),
                verdicts.values().map(Vec::len).sum::<usize>()
            );
        }
    }
    println!(
        "seeds {start}..{}: {count} in {:.1?}; {calls} calls compared, {traps} trapped alike, {restarts} restarts; \
         skipped: {skips:?}; not generated: {ungenerated}; mismatching seeds: {verdicts:?}",
        start + count,
        began.elapsed(),
    );
    Ok(())
}
