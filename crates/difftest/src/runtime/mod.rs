//! The two engines under comparison, behind one small interface.

mod tern;
mod tiers;
mod wasmi;

pub(crate) use self::tern::{Tern, TernBudget};
pub(crate) use self::tiers::Tiers;
pub(crate) use self::wasmi::Wasmi;

use crate::value::{ExportKind, Outcome, Value};

/// One module loaded into one engine, with a store to run it in.
pub(crate) trait Subject {
    /// The module's exports, in the module's order.
    fn exports(&self) -> Vec<(String, ExportKind)>;

    /// Drops the instance and its store, for a fresh [`instantiate`](Self::instantiate).
    fn reset(&mut self);

    /// Instantiates the module: segments, then the start function.
    fn instantiate(&mut self) -> Outcome<()>;

    /// Calls the exported function `name`; needs a successful
    /// [`instantiate`](Self::instantiate).
    fn call(&mut self, name: &str, args: &[Value]) -> Outcome<Vec<Value>>;

    /// The value of the exported global `name`.
    fn global(&mut self, name: &str) -> Value;

    /// The bytes of the exported memory `name`.
    fn memory(&mut self, name: &str) -> &[u8];

    /// The entries of the exported table `name`.
    fn table(&mut self, name: &str) -> Vec<Value>;
}
