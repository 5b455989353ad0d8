//! One module per subcommand.

pub mod codegen;
pub mod run;
pub mod serve;
pub mod wast;
