//! Globals.

use crate::types::GlobalType;

/// A global: its type and value as untyped slot bits.
#[derive(Debug)]
pub(crate) struct GlobalEntity {
    pub ty: GlobalType,
    pub value: u64,
}
