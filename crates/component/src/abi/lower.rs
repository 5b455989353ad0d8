//! Lowering: writing values for a component to read.

use super::layout::{self, alignment, payload_offset, size};
use super::{Options, Side, StringEncoding};
use crate::resources::Slot;
use crate::types::Type;
use crate::util::{abi_trap, usage};
use crate::values::Val;
use tern_engine::{AsContextMut, Error, Result};

/// Latin-1+UTF-16's tag in a string length: the string is UTF-16.
const UTF16_TAG: u32 = 1 << 31;
/// The longest string, in bytes, the canonical ABI allows.
const MAX_STRING_BYTES: usize = (1 << 31) - 1;

/// Writes values into one component instance.
pub struct Lowerer<'a, S> {
    pub(crate) store: &'a mut S,
    pub(crate) options: &'a Options,
    pub(crate) side: &'a Side,
    /// The callee's call scope that borrowed handles are lent for; `None`
    /// where no borrow can appear (results).
    pub(crate) scope: Option<usize>,
}

impl<S> std::fmt::Debug for Lowerer<'_, S> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Lowerer").finish_non_exhaustive()
    }
}

impl<'a, S: AsContextMut> Lowerer<'a, S> {
    /// Lowers `val` of type `ty` to flat core values appended to `out`.
    pub(crate) fn lower_flat(&mut self, ty: &Type, val: &Val, out: &mut Vec<u64>) -> Result<()> {
        match (ty, val) {
            (Type::Bool, Val::Bool(b)) => out.push(u64::from(*b)),
            (Type::S8, Val::S8(x)) => out.push(u64::from(*x as i32 as u32)),
            (Type::U8, Val::U8(x)) => out.push(u64::from(*x)),
            (Type::S16, Val::S16(x)) => out.push(u64::from(*x as i32 as u32)),
            (Type::U16, Val::U16(x)) => out.push(u64::from(*x)),
            (Type::S32, Val::S32(x)) => out.push(u64::from(*x as u32)),
            (Type::U32, Val::U32(x)) => out.push(u64::from(*x)),
            (Type::S64, Val::S64(x)) => out.push(*x as u64),
            (Type::U64, Val::U64(x)) => out.push(*x),
            (Type::Float32, Val::Float32(x)) => out.push(u64::from(canonical_f32(*x))),
            (Type::Float64, Val::Float64(x)) => out.push(canonical_f64(*x)),
            (Type::Char, Val::Char(c)) => out.push(u64::from(u32::from(*c))),
            (Type::String, Val::String(s)) => {
                let (ptr, len) = self.store_string(s)?;
                out.extend([u64::from(ptr), u64::from(len)]);
            }
            (Type::List(elem), Val::List(items)) => {
                let (ptr, len) = self.store_list(elem, items)?;
                out.extend([u64::from(ptr), u64::from(len)]);
            }
            (Type::Record(_) | Type::Tuple(_), _) => {
                for (t, v) in fields_of(ty, val)? {
                    self.lower_flat(t, v, out)?;
                }
            }
            (Type::Flags(names), Val::Flags(set)) => {
                let bits = flag_bits(names, set)?;
                out.extend(bits.chunks(4).map(|c| {
                    let mut w = [0; 4];
                    w[..c.len()].copy_from_slice(c);
                    u64::from(u32::from_le_bytes(w))
                }));
            }
            (Type::Own(_) | Type::Borrow(_), Val::Resource(_)) => {
                out.push(u64::from(self.lower_handle(ty, val)?));
            }
            (Type::Variant(_) | Type::Enum(_) | Type::Option(_) | Type::Result(_), _) => {
                let (disc, case, payload) = case_of(ty, val)?;
                out.push(u64::from(disc));
                let joined = layout::variant_payload_len(ty);
                let start = out.len();
                if let (Some(t), Some(v)) = (case, payload) {
                    self.lower_flat(t, v, out)?;
                }
                out.resize(start + joined, 0);
            }
            _ => return Err(mismatch(ty, val)),
        }
        Ok(())
    }

    /// Stores `val` of type `ty` at `ptr`.
    pub(crate) fn store(&mut self, ty: &Type, val: &Val, ptr: u32) -> Result<()> {
        let align = alignment(ty);
        if !ptr.is_multiple_of(align) {
            return Err(abi_trap(format!(
                "pointer {ptr} to a {ty} is not {align}-byte aligned"
            )));
        }
        match (ty, val) {
            (Type::Bool, Val::Bool(b)) => self.write(ptr, &[u8::from(*b)]),
            (Type::S8, Val::S8(x)) => self.write(ptr, &x.to_le_bytes()),
            (Type::U8, Val::U8(x)) => self.write(ptr, &x.to_le_bytes()),
            (Type::S16, Val::S16(x)) => self.write(ptr, &x.to_le_bytes()),
            (Type::U16, Val::U16(x)) => self.write(ptr, &x.to_le_bytes()),
            (Type::S32, Val::S32(x)) => self.write(ptr, &x.to_le_bytes()),
            (Type::U32, Val::U32(x)) => self.write(ptr, &x.to_le_bytes()),
            (Type::S64, Val::S64(x)) => self.write(ptr, &x.to_le_bytes()),
            (Type::U64, Val::U64(x)) => self.write(ptr, &x.to_le_bytes()),
            (Type::Float32, Val::Float32(x)) => self.write(ptr, &canonical_f32(*x).to_le_bytes()),
            (Type::Float64, Val::Float64(x)) => self.write(ptr, &canonical_f64(*x).to_le_bytes()),
            (Type::Char, Val::Char(c)) => self.write(ptr, &u32::from(*c).to_le_bytes()),
            (Type::String, Val::String(s)) => {
                let (p, l) = self.store_string(s)?;
                self.write_pair(ptr, p, l)
            }
            (Type::List(elem), Val::List(items)) => {
                let (p, l) = self.store_list(elem, items)?;
                self.write_pair(ptr, p, l)
            }
            (Type::Own(_) | Type::Borrow(_), Val::Resource(_)) => {
                let handle = self.lower_handle(ty, val)?;
                self.write(ptr, &handle.to_le_bytes())
            }
            (Type::Flags(names), Val::Flags(set)) => {
                let bits = flag_bits(names, set)?;
                self.write(ptr, &bits[..layout::flags_size(names.len()) as usize])
            }
            (Type::Record(_) | Type::Tuple(_), _) => {
                let mut offset = 0;
                for (t, v) in fields_of(ty, val)? {
                    offset = layout::align_to(offset, alignment(t));
                    self.store(t, v, ptr + offset)?;
                    offset += size(t);
                }
                Ok(())
            }
            (Type::Variant(_) | Type::Enum(_) | Type::Option(_) | Type::Result(_), _) => {
                let (disc, case, payload) = case_of(ty, val)?;
                let cases = layout::cases(ty).expect("variant-like").len();
                let n = layout::discriminant_size(cases) as usize;
                self.write(ptr, &disc.to_le_bytes()[..n])?;
                if let (Some(t), Some(v)) = (case, payload) {
                    self.store(t, v, ptr + payload_offset(ty))?;
                }
                Ok(())
            }
            _ => Err(mismatch(ty, val)),
        }
    }

    /// Stores the address and length of a string or list at `ptr`.
    pub(crate) fn write_pair(&mut self, ptr: u32, a: u32, b: u32) -> Result<()> {
        let mut bytes = [0; 8];
        bytes[..4].copy_from_slice(&a.to_le_bytes());
        bytes[4..].copy_from_slice(&b.to_le_bytes());
        self.write(ptr, &bytes)
    }

    pub(crate) fn write(&mut self, ptr: u32, bytes: &[u8]) -> Result<()> {
        self.bytes_mut(ptr, bytes.len() as u64)?
            .copy_from_slice(bytes);
        Ok(())
    }

    /// The `len` bytes of memory at `ptr`, checked against the bounds.
    #[inline]
    pub(crate) fn bytes_mut(&mut self, ptr: u32, len: u64) -> Result<&mut [u8]> {
        let memory = self
            .options
            .memory
            .ok_or_else(|| abi_trap("the canonical options name no memory"))?;
        let data = memory.data_mut(&mut *self.store);
        let end = u64::from(ptr) + len;
        if end > data.len() as u64 {
            return Err(abi_trap(format!(
                "{len} bytes at {ptr} are outside the memory of {} bytes",
                data.len()
            )));
        }
        Ok(&mut data[ptr as usize..end as usize])
    }

    /// Allocates `size` bytes aligned to `align` with the component's
    /// `realloc`, and checks what it returned.
    pub(crate) fn alloc(&mut self, align: u32, size: u64) -> Result<u32> {
        self.alloc_bytes(align, size).map(|(ptr, _)| ptr)
    }

    /// [`alloc`](Self::alloc), and the bytes allocated.
    pub(crate) fn alloc_bytes(&mut self, align: u32, size: u64) -> Result<(u32, &mut [u8])> {
        let size = u32::try_from(size)
            .map_err(|_| abi_trap(format!("an allocation of {size} bytes is too large")))?;
        let realloc = self
            .options
            .realloc
            .ok_or_else(|| abi_trap("the canonical options name no realloc"))?;
        let ptr = realloc.call(&mut *self.store, (0, 0, align as i32, size as i32))? as u32;
        if !ptr.is_multiple_of(align) {
            return Err(abi_trap(format!(
                "realloc returned {ptr}, which is not {align}-byte aligned"
            )));
        }
        Ok((ptr, self.bytes_mut(ptr, u64::from(size))?))
    }

    pub(crate) fn store_string(&mut self, s: &str) -> Result<(u32, u32)> {
        if s.len() > MAX_STRING_BYTES {
            return Err(usage(format!("a string of {} bytes is too long", s.len())));
        }
        let latin1 = self.options.encoding == StringEncoding::CompactUtf16
            && s.chars().all(|c| u32::from(c) <= 0xff);
        if self.options.encoding == StringEncoding::Utf8 || latin1 {
            let bytes: std::borrow::Cow<'_, [u8]> = if latin1 {
                s.chars()
                    .map(|c| u32::from(c) as u8)
                    .collect::<Vec<_>>()
                    .into()
            } else {
                s.as_bytes().into()
            };
            let align = if latin1 { 2 } else { 1 };
            let (ptr, dst) = self.alloc_bytes(align, bytes.len() as u64)?;
            dst.copy_from_slice(&bytes);
            return Ok((ptr, bytes.len() as u32));
        }
        let units: Vec<u16> = s.encode_utf16().collect();
        let bytes: Vec<u8> = units.iter().flat_map(|u| u.to_le_bytes()).collect();
        let (ptr, dst) = self.alloc_bytes(2, bytes.len() as u64)?;
        dst.copy_from_slice(&bytes);
        let len = units.len() as u32;
        let tag = if self.options.encoding == StringEncoding::CompactUtf16 {
            UTF16_TAG
        } else {
            0
        };
        Ok((ptr, len | tag))
    }

    fn store_list(&mut self, elem: &Type, items: &[Val]) -> Result<(u32, u32)> {
        let (ptr, len, elem_size) = self.alloc_list(elem, items.len())?;
        for (i, item) in items.iter().enumerate() {
            self.store(elem, item, ptr + i as u32 * elem_size)?;
        }
        Ok((ptr, len))
    }

    /// Allocates a list of `len` elements of `elem`: its address, its
    /// length and the size of an element.
    pub(crate) fn alloc_list(&mut self, elem: &Type, len: usize) -> Result<(u32, u32, u32)> {
        let (ptr, len, _) = self.alloc_list_bytes(elem, len)?;
        Ok((ptr, len, size(elem)))
    }

    /// Allocates a list of `len` elements of `elem`: its address, its
    /// length and its bytes.
    pub(crate) fn alloc_list_bytes(
        &mut self,
        elem: &Type,
        len: usize,
    ) -> Result<(u32, u32, &mut [u8])> {
        let elem_size = size(elem);
        let len = u32::try_from(len)
            .map_err(|_| usage(format!("a list of {len} elements is too long")))?;
        let (ptr, bytes) =
            self.alloc_bytes(alignment(elem), u64::from(elem_size) * u64::from(len))?;
        Ok((ptr, len, bytes))
    }

    fn lower_handle(&mut self, ty: &Type, val: &Val) -> Result<u32> {
        let Val::Resource(r) = val else {
            return Err(mismatch(ty, val));
        };
        let (index, own) = match ty {
            Type::Own(i) => (*i, true),
            Type::Borrow(i) => (*i, false),
            _ => unreachable!("handle types only"),
        };
        let expected = self.side.resource(index)?;
        if *r.ty() != expected {
            return Err(usage(format!(
                "a resource of type {:?} was passed where {expected:?} is expected",
                r.ty()
            )));
        }
        if own && !r.owned() {
            return Err(usage(
                "a borrowed resource was passed where an own is expected",
            ));
        }
        r.check_held()?;
        let mut state = self.side.lock();
        if own {
            // The handle moves into the component: the host's copies of
            // it are spent.
            r.release()?;
            return state.handles.insert(Slot::Own {
                ty: expected,
                rep: r.rep(),
                lent: 0,
            });
        }
        if expected.defined_by(state.id) {
            return Ok(r.rep());
        }
        let scope = self
            .scope
            .ok_or_else(|| abi_trap("a borrow handle cannot be returned"))?;
        let handle = state.handles.insert(Slot::Borrow {
            ty: expected,
            rep: r.rep(),
            scope,
        })?;
        state.scopes[scope] += 1;
        Ok(handle)
    }
}

fn mismatch(ty: &Type, val: &Val) -> Error {
    usage(format!(
        "expected a value of type {ty}, found a {}",
        val.desc()
    ))
}

fn canonical_f32(x: f32) -> u32 {
    if x.is_nan() { 0x7fc0_0000 } else { x.to_bits() }
}

fn canonical_f64(x: f64) -> u64 {
    if x.is_nan() {
        0x7ff8_0000_0000_0000
    } else {
        x.to_bits()
    }
}

/// The field types and values of a record or tuple, checked against each
/// other.
fn fields_of<'t>(ty: &'t Type, val: &'t Val) -> Result<Vec<(&'t Type, &'t Val)>> {
    match (ty, val) {
        (Type::Record(fields), Val::Record(values)) if fields.len() == values.len() => fields
            .iter()
            .zip(values)
            .map(|((name, t), (vname, v))| {
                if name == vname {
                    Ok((t, v))
                } else {
                    Err(usage(format!(
                        "record field `{vname}` given where `{name}` is expected"
                    )))
                }
            })
            .collect(),
        (Type::Tuple(ts), Val::Tuple(values)) if ts.len() == values.len() => {
            Ok(ts.iter().zip(values).collect())
        }
        _ => Err(mismatch(ty, val)),
    }
}

/// The little-endian bytes of a flags value, padded to whole words.
fn flag_bits(names: &[String], set: &[String]) -> Result<Vec<u8>> {
    let mut bytes = vec![0u8; names.len().div_ceil(32) * 4];
    for flag in set {
        let i = names
            .iter()
            .position(|n| n == flag)
            .ok_or_else(|| usage(format!("`{flag}` is not one of the flags")))?;
        bytes[i / 8] |= 1 << (i % 8);
    }
    Ok(bytes)
}

/// The discriminant, case type and payload of a variant-like value.
fn case_of<'t>(ty: &'t Type, val: &'t Val) -> Result<(u32, Option<&'t Type>, Option<&'t Val>)> {
    let cases = layout::cases(ty).expect("variant-like");
    let (disc, payload) = match (ty, val) {
        (Type::Variant(cs), Val::Variant(name, payload)) => {
            let i = cs
                .iter()
                .position(|(n, _)| n == name)
                .ok_or_else(|| usage(format!("`{name}` is not a case of {ty}")))?;
            (i, payload.as_deref())
        }
        (Type::Enum(names), Val::Enum(name)) => {
            let i = names
                .iter()
                .position(|n| n == name)
                .ok_or_else(|| usage(format!("`{name}` is not a case of {ty}")))?;
            (i, None)
        }
        (Type::Option(_), Val::Option(v)) => (usize::from(v.is_some()), v.as_deref()),
        (Type::Result(_), Val::Result(Ok(v))) => (0, v.as_deref()),
        (Type::Result(_), Val::Result(Err(v))) => (1, v.as_deref()),
        _ => return Err(mismatch(ty, val)),
    };
    let case = cases[disc];
    if case.is_some() != payload.is_some() {
        return Err(usage(format!(
            "case {disc} of {ty} given {} payload",
            if payload.is_some() { "a" } else { "no" }
        )));
    }
    Ok((disc as u32, case, payload))
}
