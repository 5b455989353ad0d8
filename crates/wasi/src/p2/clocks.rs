//! `wasi:clocks` and `wasi:random`.

use super::io::Pollable;
use super::{MAX_CHUNK, bytes, func, name, own, u64_arg};
use crate::WasiCtx;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};
use tern_component::{Linker, Val};
use tern_engine::{Error, Result};

pub(crate) fn add<T: 'static>(
    linker: &mut Linker<T>,
    g: impl Fn(&mut T) -> &mut WasiCtx + Send + Sync + Copy + 'static,
) -> Result<()> {
    let mut i = linker.instance(&name("wasi:clocks/monotonic-clock"))?;
    func(&mut i, "now", g, |cx, _| {
        Ok(Some(Val::U64(cx.epoch.elapsed().as_nanos() as u64)))
    })?;
    func(&mut i, "resolution", g, |_, _| Ok(Some(Val::U64(1))))?;
    func(&mut i, "subscribe-instant", g, |cx, p| {
        let at = cx.epoch + Duration::from_nanos(u64_arg(p, 0)?);
        Ok(Some(own(cx, Pollable { ready_at: Some(at) })?))
    })?;
    func(&mut i, "subscribe-duration", g, |cx, p| {
        let at = Instant::now() + Duration::from_nanos(u64_arg(p, 0)?);
        Ok(Some(own(cx, Pollable { ready_at: Some(at) })?))
    })?;

    let mut i = linker.instance(&name("wasi:clocks/wall-clock"))?;
    func(&mut i, "now", g, |_, _| {
        let since = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .unwrap_or_default();
        Ok(Some(datetime(since.as_secs(), since.subsec_nanos())))
    })?;
    func(&mut i, "resolution", g, |_, _| Ok(Some(datetime(0, 1))))?;

    for (interface, bytes_fn, u64_fn) in [
        ("wasi:random/random", "get-random-bytes", "get-random-u64"),
        (
            "wasi:random/insecure",
            "get-insecure-random-bytes",
            "get-insecure-random-u64",
        ),
    ] {
        let mut i = linker.instance(&name(interface))?;
        func(&mut i, bytes_fn, g, |cx, p| {
            let len = u64_arg(p, 0)?;
            if len > MAX_CHUNK {
                return Err(Error::msg(format!(
                    "{len} random bytes asked for at once; the most is {MAX_CHUNK}"
                )));
            }
            let mut buf = vec![0; len as usize];
            cx.random.fill(&mut buf).map_err(Error::new)?;
            Ok(Some(bytes(buf)))
        })?;
        func(&mut i, u64_fn, g, |cx, _| {
            Ok(Some(Val::U64(random_u64(cx)?)))
        })?;
    }
    let mut i = linker.instance(&name("wasi:random/insecure-seed"))?;
    func(&mut i, "insecure-seed", g, |cx, _| {
        Ok(Some(Val::Tuple(vec![
            Val::U64(random_u64(cx)?),
            Val::U64(random_u64(cx)?),
        ])))
    })?;
    Ok(())
}

fn datetime(seconds: u64, nanoseconds: u32) -> Val {
    Val::Record(vec![
        ("seconds".into(), Val::U64(seconds)),
        ("nanoseconds".into(), Val::U32(nanoseconds)),
    ])
}

fn random_u64(cx: &mut WasiCtx) -> Result<u64> {
    let mut buf = [0; 8];
    cx.random.fill(&mut buf).map_err(Error::new)?;
    Ok(u64::from_le_bytes(buf))
}
