//! Hello, world as a `wasi:http` proxy component: every request gets `200`,
//! `content-type: text/plain` and `Hello, world!`. It is what
//! `wasmtime serve` runs in the HTTP benchmark, beside `tern serve` running
//! `guests/http/hello`, which answers the same.
//!
//! Serve it with `wasmtime serve -Scli wasm/hello.wasm`: besides the proxy
//! world's imports, Rust's standard library (through wasi-libc) imports
//! `wasi:cli/environment`, `wasi:cli/exit` and `wasi:cli/terminal-*`, which
//! `wasmtime serve` links only with `-Scli`.

use wasip2::exports::http::incoming_handler::Guest;
use wasip2::http::types::{
    Fields, IncomingRequest, OutgoingBody, OutgoingResponse, ResponseOutparam,
};

wasip2::http::proxy::export!(Hello);

struct Hello;

impl Guest for Hello {
    fn handle(_request: IncomingRequest, response_out: ResponseOutparam) {
        let headers = Fields::from_list(&[("content-type".into(), b"text/plain".to_vec())])
            .expect("content-type: text/plain is a valid header");
        let response = OutgoingResponse::new(headers);
        response
            .set_status_code(200)
            .expect("200 is a valid status");
        let body = response.body().expect("the response body is taken once");
        ResponseOutparam::set(response_out, Ok(response));

        let stream = body.write().expect("the body stream is taken once");
        stream
            .blocking_write_and_flush(b"Hello, world!\n")
            .expect("write the response body");
        drop(stream);
        OutgoingBody::finish(body, None).expect("finish the response body");
    }
}
