//! Lifting: reading the values a component hands over.

use super::layout::{self, alignment, payload_offset, size};
use super::{Options, Side, StringEncoding, memory_slice};
use crate::resources::{ResourceAny, Slot};
use crate::types::Type;
use crate::util::abi_trap;
use crate::values::Val;
use tern_engine::{AsContext, AsContextMut, Result};

/// The longest string, in bytes, the canonical ABI allows.
const MAX_STRING_BYTES: u64 = (1 << 31) - 1;
/// Latin-1+UTF-16's tag in a string length: the string is UTF-16.
const UTF16_TAG: u32 = 1 << 31;

/// Reads values out of one component instance.
pub struct Lifter<'a, S> {
    pub(crate) store: &'a mut S,
    pub(crate) options: &'a Options,
    pub(crate) side: &'a Side,
    /// Owning handles lent as borrows for the call being made; each is
    /// returned by [`release`] when it ends.
    pub(crate) lent: Vec<u32>,
    /// Host bytes the lifted values may still take (the engine's
    /// `max_lifted_bytes`), charged before each allocation.
    budget: u64,
}

impl<S> std::fmt::Debug for Lifter<'_, S> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Lifter").finish_non_exhaustive()
    }
}

impl<'a, S: AsContextMut> Lifter<'a, S> {
    pub(crate) fn new(store: &'a mut S, options: &'a Options, side: &'a Side) -> Self {
        let budget = store.as_context().engine().config().get_max_lifted_bytes();
        Self {
            store,
            options,
            side,
            lent: Vec::new(),
            budget,
        }
    }

    /// Takes `bytes` from the budget, or traps when it would run out.
    fn charge(&mut self, bytes: u64) -> Result<()> {
        take(&mut self.budget, &*self.store, bytes)
    }

    /// Charges for `n` values of type `V` in one allocation.
    fn charge_values<V>(&mut self, n: usize) -> Result<()> {
        self.charge((n as u64).saturating_mul(size_of::<V>() as u64))
    }

    /// A copy of the name `name`, charged.
    fn name(&mut self, name: &str) -> Result<String> {
        self.charge(name.len() as u64)?;
        Ok(name.to_owned())
    }

    /// Lifts a value of `ty` from its flat core values.
    pub(crate) fn lift_flat(
        &mut self,
        ty: &Type,
        src: &mut dyn Iterator<Item = u64>,
    ) -> Result<Val> {
        let mut next = || src.next().ok_or_else(|| abi_trap("too few flat values"));
        Ok(match ty {
            Type::Bool => Val::Bool(next()? as u32 != 0),
            Type::S8 => Val::S8(next()? as i8),
            Type::U8 => Val::U8(next()? as u8),
            Type::S16 => Val::S16(next()? as i16),
            Type::U16 => Val::U16(next()? as u16),
            Type::S32 => Val::S32(next()? as i32),
            Type::U32 => Val::U32(next()? as u32),
            Type::S64 => Val::S64(next()? as i64),
            Type::U64 => Val::U64(next()?),
            Type::Float32 => Val::Float32(canonical_f32(next()? as u32)),
            Type::Float64 => Val::Float64(canonical_f64(next()?)),
            Type::Char => Val::Char(to_char(next()? as u32)?),
            Type::String => {
                let (ptr, len) = (next()? as u32, next()? as u32);
                Val::String(self.load_string(ptr, len)?)
            }
            Type::List(elem) => {
                let (ptr, len) = (next()? as u32, next()? as u32);
                Val::List(self.load_list(elem, ptr, len)?)
            }
            Type::Record(fields) => {
                self.charge_values::<(String, Val)>(fields.len())?;
                Val::Record(
                    fields
                        .iter()
                        .map(|(n, t)| Ok((self.name(n)?, self.lift_flat(t, src)?)))
                        .collect::<Result<_>>()?,
                )
            }
            Type::Tuple(ts) => {
                self.charge_values::<Val>(ts.len())?;
                Val::Tuple(
                    ts.iter()
                        .map(|t| self.lift_flat(t, src))
                        .collect::<Result<_>>()?,
                )
            }
            Type::Flags(names) => {
                let words = (0..names.len().div_ceil(32))
                    .map(|_| next().map(|w| w as u32))
                    .collect::<Result<Vec<_>>>()?;
                self.flags(names, |i| words[i / 32] >> (i % 32) & 1 == 1)?
            }
            Type::Own(_) | Type::Borrow(_) => {
                let handle = next()? as u32;
                self.lift_handle(ty, handle)?
            }
            Type::Variant(_) | Type::Enum(_) | Type::Option(_) | Type::Result(_) => {
                let disc = next()? as u32;
                let joined = layout::variant_payload(ty);
                let cases = layout::cases(ty).expect("variant-like");
                let case = *cases.get(disc as usize).ok_or_else(|| bad_case(ty, disc))?;
                let values: Vec<u64> = (0..joined.len()).map(|_| next()).collect::<Result<_>>()?;
                let payload = match case {
                    Some(t) => {
                        self.charge_values::<Val>(1)?;
                        let mut it = values.into_iter();
                        Some(Box::new(self.lift_flat(t, &mut it)?))
                    }
                    None => None,
                };
                self.variant(ty, disc, payload)?
            }
        })
    }

    /// Loads a value of `ty` stored at `ptr`.
    pub(crate) fn load(&mut self, ty: &Type, ptr: u32) -> Result<Val> {
        let align = alignment(ty);
        if !ptr.is_multiple_of(align) {
            return Err(abi_trap(format!(
                "pointer {ptr} to a {ty} is not {align}-byte aligned"
            )));
        }
        let bytes = memory_slice(&*self.store, self.options, ptr, u64::from(size(ty)))?;
        let u32_at = |b: &[u8], at: usize| u32::from_le_bytes(b[at..at + 4].try_into().unwrap());
        Ok(match ty {
            Type::Bool => Val::Bool(bytes[0] != 0),
            Type::S8 => Val::S8(bytes[0] as i8),
            Type::U8 => Val::U8(bytes[0]),
            Type::S16 => Val::S16(i16::from_le_bytes([bytes[0], bytes[1]])),
            Type::U16 => Val::U16(u16::from_le_bytes([bytes[0], bytes[1]])),
            Type::S32 => Val::S32(u32_at(bytes, 0) as i32),
            Type::U32 => Val::U32(u32_at(bytes, 0)),
            Type::S64 => Val::S64(i64::from_le_bytes(bytes[..8].try_into().unwrap())),
            Type::U64 => Val::U64(u64::from_le_bytes(bytes[..8].try_into().unwrap())),
            Type::Float32 => Val::Float32(canonical_f32(u32_at(bytes, 0))),
            Type::Float64 => Val::Float64(canonical_f64(u64::from_le_bytes(
                bytes[..8].try_into().unwrap(),
            ))),
            Type::Char => Val::Char(to_char(u32_at(bytes, 0))?),
            Type::String => {
                let (p, l) = (u32_at(bytes, 0), u32_at(bytes, 4));
                Val::String(self.load_string(p, l)?)
            }
            Type::List(elem) => {
                let (p, l) = (u32_at(bytes, 0), u32_at(bytes, 4));
                Val::List(self.load_list(elem, p, l)?)
            }
            Type::Own(_) | Type::Borrow(_) => {
                let handle = u32_at(bytes, 0);
                self.lift_handle(ty, handle)?
            }
            Type::Flags(names) => {
                let bytes = bytes.to_vec();
                self.flags(names, |i| bytes[i / 8] >> (i % 8) & 1 == 1)?
            }
            Type::Record(_) | Type::Tuple(_) => {
                let fields = layout::fields(ty);
                self.charge_values::<(String, Val)>(fields.len())?;
                let mut offset = 0;
                let mut values = Vec::with_capacity(fields.len());
                for t in fields {
                    offset = layout::align_to(offset, alignment(t));
                    values.push(self.load(t, ptr + offset)?);
                    offset += size(t);
                }
                match ty {
                    Type::Record(fields) => Val::Record(
                        fields
                            .iter()
                            .map(|(n, _)| self.name(n))
                            .zip(values)
                            .map(|(n, v)| Ok((n?, v)))
                            .collect::<Result<_>>()?,
                    ),
                    _ => Val::Tuple(values),
                }
            }
            Type::Variant(_) | Type::Enum(_) | Type::Option(_) | Type::Result(_) => {
                let cases = layout::cases(ty).expect("variant-like");
                let disc = match layout::discriminant_size(cases.len()) {
                    1 => u32::from(bytes[0]),
                    2 => u32::from(u16::from_le_bytes([bytes[0], bytes[1]])),
                    _ => u32_at(bytes, 0),
                };
                let case = *cases.get(disc as usize).ok_or_else(|| bad_case(ty, disc))?;
                let payload = match case {
                    Some(t) => {
                        self.charge_values::<Val>(1)?;
                        Some(Box::new(self.load(t, ptr + payload_offset(ty))?))
                    }
                    None => None,
                };
                self.variant(ty, disc, payload)?
            }
        })
    }

    pub(crate) fn load_string(&mut self, ptr: u32, len: u32) -> Result<String> {
        let (utf16, units) = match self.options.encoding {
            StringEncoding::Utf8 => (false, len),
            StringEncoding::Utf16 => (true, len),
            StringEncoding::CompactUtf16 if len & UTF16_TAG != 0 => (true, len ^ UTF16_TAG),
            StringEncoding::CompactUtf16 => {
                // Latin-1 takes up to two bytes a character in UTF-8.
                let bytes = memory_slice(&*self.store, self.options, ptr, u64::from(len))?;
                take(&mut self.budget, &*self.store, u64::from(len) * 2)?;
                return Ok(bytes.iter().map(|&b| char::from(b)).collect());
            }
        };
        let byte_len = u64::from(units) << u64::from(utf16);
        if byte_len > MAX_STRING_BYTES {
            return Err(abi_trap(format!("string of {byte_len} bytes is too long")));
        }
        if utf16 && !ptr.is_multiple_of(2) {
            return Err(abi_trap(format!(
                "UTF-16 string at {ptr} is not 2-byte aligned"
            )));
        }
        let bytes = memory_slice(&*self.store, self.options, ptr, byte_len)?;
        // A UTF-16 unit takes up to three bytes in UTF-8.
        let cost = if utf16 { byte_len / 2 * 3 } else { byte_len };
        take(&mut self.budget, &*self.store, cost)?;
        if utf16 {
            let units = bytes
                .chunks_exact(2)
                .map(|c| u16::from_le_bytes([c[0], c[1]]));
            char::decode_utf16(units)
                .collect::<Result<String, _>>()
                .map_err(|e| abi_trap(format!("string at {ptr} is not valid UTF-16: {e}")))
        } else {
            std::str::from_utf8(bytes)
                .map(str::to_owned)
                .map_err(|e| abi_trap(format!("string at {ptr} is not valid UTF-8: {e}")))
        }
    }

    fn load_list(&mut self, elem: &Type, ptr: u32, len: u32) -> Result<Vec<Val>> {
        let (elem_size, _) = self.check_list(elem, ptr, len, size_of::<Val>())?;
        (0..len)
            .map(|i| self.load(elem, ptr + i * elem_size))
            .collect()
    }

    /// Checks a list of `len` elements of `elem` at `ptr` (alignment and
    /// bounds) and charges `host_size` bytes for each element the host
    /// makes of it; returns the size of an element in memory and the
    /// list's bytes.
    pub(crate) fn check_list(
        &mut self,
        elem: &Type,
        ptr: u32,
        len: u32,
        host_size: usize,
    ) -> Result<(u32, &[u8])> {
        let elem_size = size(elem);
        let align = alignment(elem);
        if !ptr.is_multiple_of(align) {
            return Err(abi_trap(format!(
                "list of {elem} at {ptr} is not {align}-byte aligned"
            )));
        }
        // Elements of no size still cost the host a value each: count
        // them as a byte, so no list is longer than the memory is large.
        let checked = memory_slice(
            &*self.store,
            self.options,
            ptr,
            u64::from(len) * u64::from(elem_size.max(1)),
        )?;
        let cost = u64::from(len).saturating_mul(host_size as u64);
        take(&mut self.budget, &*self.store, cost)?;
        let bytes = &checked[..len as usize * elem_size as usize];
        Ok((elem_size, bytes))
    }

    /// The `len` bytes at `ptr`, checked against the memory's bounds.
    #[inline]
    pub(crate) fn bytes(&self, ptr: u32, len: u64) -> Result<&[u8]> {
        memory_slice(&*self.store, self.options, ptr, len)
    }

    /// The address and length of a string or list stored at `ptr`, whose
    /// alignment the caller checked.
    pub(crate) fn pair(&self, ptr: u32) -> Result<(u32, u32)> {
        let pair = self.bytes(ptr, 8)?;
        let word = |at: usize| u32::from_le_bytes(pair[at..at + 4].try_into().expect("4 bytes"));
        Ok((word(0), word(4)))
    }

    /// The flags of `names` for which `set` holds.
    fn flags(&mut self, names: &[String], set: impl Fn(usize) -> bool) -> Result<Val> {
        let set: Vec<usize> = (0..names.len()).filter(|&i| set(i)).collect();
        self.charge_values::<String>(set.len())?;
        Ok(Val::Flags(
            set.into_iter()
                .map(|i| self.name(&names[i]))
                .collect::<Result<_>>()?,
        ))
    }

    /// The value of case `disc` of variant-like `ty` with `payload`.
    fn variant(&mut self, ty: &Type, disc: u32, payload: Option<Box<Val>>) -> Result<Val> {
        Ok(match ty {
            Type::Variant(cases) => Val::Variant(self.name(&cases[disc as usize].0)?, payload),
            Type::Enum(names) => Val::Enum(self.name(&names[disc as usize])?),
            Type::Option(_) => Val::Option(payload),
            Type::Result(_) if disc == 0 => Val::Result(Ok(payload)),
            Type::Result(_) => Val::Result(Err(payload)),
            _ => unreachable!("variant-like types only"),
        })
    }

    fn lift_handle(&mut self, ty: &Type, handle: u32) -> Result<Val> {
        let (index, owned) = match ty {
            Type::Own(r) => (*r, true),
            Type::Borrow(r) => (*r, false),
            _ => unreachable!("handle types only"),
        };
        let expected = self.side.resource(index)?;
        let mut state = self.side.lock();
        let (slot_ty, rep) = match state.handles.get(handle)? {
            Slot::Own { ty, rep, .. } | Slot::Borrow { ty, rep, .. } => (ty.clone(), *rep),
            Slot::Free => unreachable!("get refuses free slots"),
        };
        if slot_ty != expected {
            return Err(abi_trap(format!(
                "handle {handle} is a {slot_ty:?}, not the {expected:?} expected"
            )));
        }
        if owned {
            match state.handles.get(handle)? {
                Slot::Own { lent: 0, .. } => {}
                Slot::Own { .. } => {
                    return Err(abi_trap(format!(
                        "handle {handle} is moved while it is still lent"
                    )));
                }
                _ => {
                    return Err(abi_trap(format!(
                        "handle {handle} is borrowed and cannot be moved as an own"
                    )));
                }
            }
            state.handles.remove(handle)?;
        } else if let Slot::Own { lent, .. } = state.handles.get_mut(handle)? {
            *lent += 1;
            self.lent.push(handle);
        }
        Ok(Val::Resource(if owned {
            ResourceAny::lifted_own(slot_ty, rep)
        } else {
            ResourceAny::new(slot_ty, rep, false)
        }))
    }
}

fn canonical_f32(bits: u32) -> f32 {
    let f = f32::from_bits(bits);
    if f.is_nan() {
        f32::from_bits(0x7fc0_0000)
    } else {
        f
    }
}

fn canonical_f64(bits: u64) -> f64 {
    let f = f64::from_bits(bits);
    if f.is_nan() {
        f64::from_bits(0x7ff8_0000_0000_0000)
    } else {
        f
    }
}

fn to_char(code: u32) -> Result<char> {
    char::from_u32(code).ok_or_else(|| abi_trap(format!("{code:#x} is not a Unicode scalar value")))
}

fn bad_case(ty: &Type, disc: u32) -> tern_engine::Error {
    abi_trap(format!("discriminant {disc} is out of range for {ty}"))
}

/// Ends the loans a [`Lifter`] recorded in its `lent`: the call they were
/// for is over.
/// Takes `bytes` from `budget`, what is left of the host memory the values
/// lifted from `store` may take, or traps when it would run out.
fn take<S: AsContext>(budget: &mut u64, store: &S, bytes: u64) -> Result<()> {
    match budget.checked_sub(bytes) {
        Some(left) => {
            *budget = left;
            Ok(())
        }
        None => Err(abi_trap(format!(
            "the values handed over take more than the {} bytes of host memory allowed \
             (Config::max_lifted_bytes)",
            store.as_context().engine().config().get_max_lifted_bytes()
        ))),
    }
}

pub(crate) fn release(side: &Side, lent: &[u32]) {
    if lent.is_empty() {
        return;
    }
    let mut state = side.lock();
    for &h in lent {
        if let Ok(Slot::Own { lent, .. }) = state.handles.get_mut(h) {
            *lent -= 1;
        }
    }
}
