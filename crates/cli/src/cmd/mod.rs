//! One module per subcommand; each has an `Args` (clap) and a `run`.

pub mod bench_pack;
pub mod catalog;
pub mod demo;
pub mod import;
pub mod pack;
pub mod place;
pub mod plan;
pub mod recommend;
pub mod resize_plan;
pub mod simulate;
