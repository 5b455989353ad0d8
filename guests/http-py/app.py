"""The Python wasi:http handler: a `wasi:http/proxy` component built with
componentize-py (see build.sh) that the tests of `tern serve` can serve to
check that a CPython handler works on Tern. ../http-js/app.js does the same in
JavaScript, with the same responses but for the name in `/hello` and the 404.

Routes, by the request's path without its query:

  - `/hello`: 200, `content-type: text/plain`, `Hello from Python!`
  - `/echo`: 200 with `x-method` (the method's name) and `x-path-with-query`
    telling what the handler saw, every request header named `x-*` copied
    back, and the request body, read to its end, sent back as the body
  - `/status/N`: status N, empty body (400 when N is no status code)
  - `/stderr`: prints `guest log line` to stderr, then 200 `logged`
  - anything else: 404 `not found by Python` (naming the language, so that
    a test can tell it from the server's own 404)

An exception escaping the handler makes componentize-py print its traceback
to stderr and trap; the server answers for it.

Serve with: tern serve handler.wasm
"""

import sys
from typing import List, Tuple

from componentize_py_types import Err, Ok
from wit_world import exports
from wit_world.imports.streams import StreamError_Closed
from wit_world.imports.types import (
    Fields,
    IncomingRequest,
    Method,
    Method_Connect,
    Method_Delete,
    Method_Get,
    Method_Head,
    Method_Options,
    Method_Other,
    Method_Patch,
    Method_Post,
    Method_Put,
    Method_Trace,
    OutgoingBody,
    OutgoingResponse,
    ResponseOutparam,
)

Headers = List[Tuple[str, bytes]]

METHOD_NAMES = {
    Method_Get: "GET",
    Method_Head: "HEAD",
    Method_Post: "POST",
    Method_Put: "PUT",
    Method_Delete: "DELETE",
    Method_Connect: "CONNECT",
    Method_Options: "OPTIONS",
    Method_Trace: "TRACE",
    Method_Patch: "PATCH",
}


class IncomingHandler(exports.IncomingHandler):
    def handle(
        self, request: IncomingRequest, response_out: ResponseOutparam
    ) -> None:
        full = request.path_with_query() or ""
        path = full.split("?", 1)[0]
        if path == "/hello":
            text_plain = [("content-type", b"text/plain")]
            respond(response_out, 200, text_plain, b"Hello from Python!\n")
        elif path == "/echo":
            echo(request, response_out, full)
        elif path == "/stderr":
            print("guest log line", file=sys.stderr, flush=True)
            respond(response_out, 200, [], b"logged\n")
        elif path.startswith("/status/"):
            n = path[len("/status/"):]
            if n.isascii() and n.isdigit():
                respond(response_out, int(n), [], b"")
            else:
                respond(response_out, 400, [], b"not a status code\n")
        else:
            respond(response_out, 404, [], b"not found by Python\n")


def method_name(method: Method) -> str:
    if isinstance(method, Method_Other):
        return method.value
    return METHOD_NAMES[type(method)]


def read_body(request: IncomingRequest) -> bytes:
    """Reads the request's body to its end."""
    chunks = []
    # The stream is a child of the body: drop it first.
    with request.consume() as body, body.stream() as stream:
        while True:
            try:
                chunks.append(stream.blocking_read(65536))
            except Err as e:
                if isinstance(e.value, StreamError_Closed):
                    break
                raise
    return b"".join(chunks)


def echo(
    request: IncomingRequest, response_out: ResponseOutparam, full: str
) -> None:
    headers: Headers = [
        ("x-method", method_name(request.method()).encode()),
        ("x-path-with-query", full.encode()),
    ]
    with request.headers() as fields:
        headers += [
            (n, v) for n, v in fields.entries() if n.lower().startswith("x-")
        ]
    respond(response_out, 200, headers, read_body(request))


def respond(
    response_out: ResponseOutparam, status: int, headers: Headers, body: bytes
) -> None:
    """Sends the response: `status` (400 if it is no status code), `headers`
    and all of `body`."""
    response = OutgoingResponse(Fields.from_list(headers))
    try:
        response.set_status_code(status)
    except Err:
        response.set_status_code(400)
    outgoing = response.body()
    ResponseOutparam.set(response_out, Ok(response))
    # The stream is a child of the body: drop it before finishing the body.
    with outgoing.write() as stream:
        # At most 4096 bytes a call, as blocking-write-and-flush wants.
        for at in range(0, len(body), 4096):
            stream.blocking_write_and_flush(body[at:at + 4096])
    OutgoingBody.finish(outgoing, None)
