//! Prints one line: the smallest WASI command, for measuring how long a
//! runtime takes to start, load, instantiate, run and exit.

fn main() {
    println!("Hello, world!");
}
