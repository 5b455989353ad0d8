//! One module per subcommand.

pub mod run;
pub mod serve;
pub mod wast;
