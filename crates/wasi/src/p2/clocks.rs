//! `wasi:clocks` and `wasi:random`.

use super::MAX_CHUNK;
use super::bindings::wasi::clocks::{monotonic_clock, wall_clock};
use super::bindings::wasi::random::{insecure, insecure_seed, random};
use super::io::Pollable;
use crate::WasiCtx;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};
use tern_component::Resource;
use tern_engine::{Error, Result};
use wall_clock::Datetime;

impl monotonic_clock::Host for WasiCtx {
    fn now(&mut self) -> Result<u64> {
        Ok(self.epoch.elapsed().as_nanos() as u64)
    }

    fn resolution(&mut self) -> Result<u64> {
        Ok(1)
    }

    fn subscribe_instant(&mut self, when: u64) -> Result<Resource<Pollable>> {
        let at = self.epoch + Duration::from_nanos(when);
        self.own(Pollable::At(Some(at)))
    }

    fn subscribe_duration(&mut self, when: u64) -> Result<Resource<Pollable>> {
        let at = Instant::now() + Duration::from_nanos(when);
        self.own(Pollable::At(Some(at)))
    }
}

impl wall_clock::Host for WasiCtx {
    fn now(&mut self) -> Result<Datetime> {
        let since = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .unwrap_or_default();
        Ok(Datetime {
            seconds: since.as_secs(),
            nanoseconds: since.subsec_nanos(),
        })
    }

    fn resolution(&mut self) -> Result<Datetime> {
        Ok(Datetime {
            seconds: 0,
            nanoseconds: 1,
        })
    }
}

impl random::Host for WasiCtx {
    fn get_random_bytes(&mut self, len: u64) -> Result<Vec<u8>> {
        random_bytes(self, len)
    }

    fn get_random_u64(&mut self) -> Result<u64> {
        random_u64(self)
    }
}

impl insecure::Host for WasiCtx {
    fn get_insecure_random_bytes(&mut self, len: u64) -> Result<Vec<u8>> {
        random_bytes(self, len)
    }

    fn get_insecure_random_u64(&mut self) -> Result<u64> {
        random_u64(self)
    }
}

impl insecure_seed::Host for WasiCtx {
    fn insecure_seed(&mut self) -> Result<(u64, u64)> {
        Ok((random_u64(self)?, random_u64(self)?))
    }
}

/// `len` random bytes; more than [`MAX_CHUNK`] at once traps the guest.
fn random_bytes(cx: &mut WasiCtx, len: u64) -> Result<Vec<u8>> {
    if len > MAX_CHUNK {
        return Err(Error::msg(format!(
            "{len} random bytes asked for at once; the most is {MAX_CHUNK}"
        )));
    }
    let mut buf = vec![0; len as usize];
    cx.random.fill(&mut buf).map_err(Error::new)?;
    Ok(buf)
}

fn random_u64(cx: &mut WasiCtx) -> Result<u64> {
    let mut buf = [0; 8];
    cx.random.fill(&mut buf).map_err(Error::new)?;
    Ok(u64::from_le_bytes(buf))
}
