//! Hello, world as a WAGI handler: it writes a CGI response to stdout, a
//! header block, a blank line, then the body.

use std::io::Write;

fn main() {
    let response = b"Content-Type: text/plain\n\nHello, world!\n";
    if std::io::stdout().write_all(response).is_err() {
        std::process::exit(1);
    }
}
