//! `wasi:http/outgoing-handler`: requests a handler sends out.
//!
//! No route may send requests yet: every one is refused with the
//! interface's own `HTTP-request-denied`, and the refusal is logged under
//! the request id, so a guest that tries learns why and the operator sees
//! it.

use super::ProxyState;
use super::bindings::wasi::http::outgoing_handler;
use super::bindings::wasi::http::types::{self as wit, ErrorCode};
use super::types::{FutureIncomingResponse, IncomingResponse, OutgoingRequest, RequestOptions};
use tern_component::Resource;
use tern_engine::Result;
use tern_wasi::p2::Pollable;

/// An outbound request in flight: none ever is while every request is
/// refused.
pub(crate) enum InFlight {}

impl outgoing_handler::Host for ProxyState {
    fn handle(
        &mut self,
        request: Resource<OutgoingRequest>,
        options: Option<Resource<RequestOptions>>,
    ) -> Result<std::result::Result<Resource<FutureIncomingResponse>, ErrorCode>> {
        let request = self.table().delete(request)?;
        if let Some(options) = options {
            self.table().delete(options)?;
        }
        let target = format!(
            "{}://{}{}",
            request.scheme.as_ref().map_or("http", |s| s.as_str()),
            request.authority.as_deref().unwrap_or(""),
            request.path_with_query.as_deref().unwrap_or("/"),
        );
        tracing::warn!(
            request_id = %self.http.request_id,
            method = %request.method,
            target = %target,
            "outbound request denied: this route allows no outbound hosts"
        );
        Ok(Err(ErrorCode::HttpRequestDenied))
    }
}

impl wit::HostFutureIncomingResponse for ProxyState {
    fn subscribe(&mut self, f: Resource<FutureIncomingResponse>) -> Result<Resource<Pollable>> {
        match self.table().get(&f)?.state {}
    }

    #[allow(clippy::type_complexity, reason = "the WIT's own type")]
    fn get(
        &mut self,
        f: Resource<FutureIncomingResponse>,
    ) -> Result<
        Option<std::result::Result<std::result::Result<Resource<IncomingResponse>, ErrorCode>, ()>>,
    > {
        match self.table().get(&f)?.state {}
    }

    fn drop(&mut self, f: Resource<FutureIncomingResponse>) -> Result<()> {
        self.table().delete(f)?;
        Ok(())
    }
}
