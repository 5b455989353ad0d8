//! Bulk memory and table operations, and growth: runtime services the
//! builtins call on the store.

use super::StoreOpaque;
use crate::trap::TrapCode;

/// `start..start + len` when it lies within `size`.
fn range(start: u32, len: u32, size: usize) -> Result<std::ops::Range<usize>, ()> {
    let end = u64::from(start) + u64::from(len);
    if end > size as u64 {
        return Err(());
    }
    Ok(start as usize..end as usize)
}

impl StoreOpaque {
    fn memory_index(&self, instance: u32) -> usize {
        self.instances[instance as usize].memories[0] as usize
    }

    fn table_index(&self, instance: u32, table: u32) -> usize {
        self.instances[instance as usize].tables[table as usize] as usize
    }

    pub(crate) fn memory_fill(
        &mut self,
        instance: u32,
        dst: u32,
        val: u8,
        len: u32,
    ) -> Result<(), TrapCode> {
        let m = self.memory_index(instance);
        let data = self.memories[m].data_mut();
        let r = range(dst, len, data.len()).map_err(|()| TrapCode::MemoryOutOfBounds)?;
        data[r].fill(val);
        Ok(())
    }

    pub(crate) fn memory_copy(
        &mut self,
        instance: u32,
        dst: u32,
        src: u32,
        len: u32,
    ) -> Result<(), TrapCode> {
        let m = self.memory_index(instance);
        let data = self.memories[m].data_mut();
        let s = range(src, len, data.len()).map_err(|()| TrapCode::MemoryOutOfBounds)?;
        range(dst, len, data.len()).map_err(|()| TrapCode::MemoryOutOfBounds)?;
        data.copy_within(s, dst as usize);
        Ok(())
    }

    pub(crate) fn memory_init(
        &mut self,
        instance: u32,
        segment: u32,
        dst: u32,
        src: u32,
        len: u32,
    ) -> Result<(), TrapCode> {
        let m = self.memory_index(instance);
        let bytes = self.instances[instance as usize].datas[segment as usize]
            .clone()
            .unwrap_or_else(|| std::sync::Arc::from(&[][..]));
        let s = range(src, len, bytes.len()).map_err(|()| TrapCode::MemoryOutOfBounds)?;
        let data = self.memories[m].data_mut();
        let d = range(dst, len, data.len()).map_err(|()| TrapCode::MemoryOutOfBounds)?;
        data[d].copy_from_slice(&bytes[s]);
        Ok(())
    }

    pub(crate) fn table_fill(
        &mut self,
        instance: u32,
        table: u32,
        dst: u32,
        val: u64,
        len: u32,
    ) -> Result<(), TrapCode> {
        let t = self.table_index(instance, table);
        let elems = self.tables[t].elements_mut();
        let r = range(dst, len, elems.len()).map_err(|()| TrapCode::TableOutOfBounds)?;
        elems[r].fill(val);
        Ok(())
    }

    pub(crate) fn table_copy(
        &mut self,
        instance: u32,
        dst_table: u32,
        src_table: u32,
        dst: u32,
        src: u32,
        len: u32,
    ) -> Result<(), TrapCode> {
        let dt = self.table_index(instance, dst_table);
        let st = self.table_index(instance, src_table);
        let oob = |()| TrapCode::TableOutOfBounds;
        if dt == st {
            let elems = self.tables[dt].elements_mut();
            let s = range(src, len, elems.len()).map_err(oob)?;
            range(dst, len, elems.len()).map_err(oob)?;
            elems.copy_within(s, dst as usize);
        } else {
            let s = range(src, len, self.tables[st].elements().len()).map_err(oob)?;
            let values = self.tables[st].elements()[s].to_vec();
            let elems = self.tables[dt].elements_mut();
            let d = range(dst, len, elems.len()).map_err(oob)?;
            elems[d].copy_from_slice(&values);
        }
        Ok(())
    }

    pub(crate) fn table_init(
        &mut self,
        instance: u32,
        table: u32,
        segment: u32,
        dst: u32,
        src: u32,
        len: u32,
    ) -> Result<(), TrapCode> {
        let t = self.table_index(instance, table);
        let oob = |()| TrapCode::TableOutOfBounds;
        let inst = &self.instances[instance as usize];
        let items: &[u64] = inst.elems[segment as usize].as_deref().unwrap_or(&[]);
        let s = range(src, len, items.len()).map_err(oob)?;
        let values = items[s].to_vec();
        let elems = self.tables[t].elements_mut();
        let d = range(dst, len, elems.len()).map_err(oob)?;
        elems[d].copy_from_slice(&values);
        Ok(())
    }

    /// `memory.grow` of `instance`'s memory: the old size in pages, or
    /// `u32::MAX` when it cannot grow.
    pub(crate) fn memory_grow(&mut self, instance: u32, delta: u32) -> Result<u32, TrapCode> {
        let m = self.memory_index(instance);
        let (this, limiter) = self.with_limiter();
        match this.memories[m].grow(u64::from(delta), limiter) {
            Ok(Some(old)) => Ok(old as u32),
            Ok(None) => Ok(u32::MAX),
            // The limiter failed the store rather than refusing: a trap.
            Err(_) => Err(TrapCode::ResourceLimitExceeded),
        }
    }

    /// `table.grow` of `instance`'s table `table`: the old size, or
    /// `u32::MAX` when it cannot grow.
    pub(crate) fn table_grow(
        &mut self,
        instance: u32,
        table: u32,
        init: u64,
        delta: u32,
    ) -> Result<u32, TrapCode> {
        let t = self.table_index(instance, table);
        let (this, limiter) = self.with_limiter();
        match this.tables[t].grow(delta, init, limiter) {
            Ok(Some(old)) => Ok(old),
            Ok(None) => Ok(u32::MAX),
            // The limiter failed the store rather than refusing: a trap.
            Err(_) => Err(TrapCode::ResourceLimitExceeded),
        }
    }
}
