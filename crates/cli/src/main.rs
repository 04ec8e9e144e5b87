//! The `rightsizer` command-line tool.
#![forbid(unsafe_code)]

fn main() {
    println!("rightsizer: under construction");
}
