//! Replies before the body faults are applied, and the two error shapes the emulator speaks:
//! Graph's (PROTOCOLS.md §3 "Errors, throttling") and OAuth's (§3 "OAuth").

use bytes::Bytes;
use serde_json::{Value, json};

/// Graph answers JSON as `application/json` with OData metadata parameters.
pub(crate) const JSON: &str = "application/json;odata.metadata=minimal;odata.streaming=true;IEEE754Compatible=false;charset=utf-8";

/// A response before the body faults are applied.
#[derive(Debug)]
pub(crate) struct Reply {
    pub status: u16,
    pub headers: Vec<(&'static str, String)>,
    pub body: Bytes,
}

impl Reply {
    pub(crate) fn json(status: u16, value: &Value) -> Reply {
        Reply {
            status,
            headers: vec![("content-type", JSON.to_string())],
            body: Bytes::from(value.to_string()),
        }
    }

    pub(crate) fn empty(status: u16) -> Reply {
        Reply {
            status,
            headers: Vec::new(),
            body: Bytes::new(),
        }
    }

    pub(crate) fn with(mut self, name: &'static str, value: impl Into<String>) -> Reply {
        self.headers.push((name, value.into()));
        self
    }

    pub(crate) fn is_json(&self) -> bool {
        self.headers
            .iter()
            .any(|(n, v)| *n == "content-type" && v == JSON)
    }
}

/// What every Graph error body carries besides code and message: the `innerError` ids.
#[derive(Debug, Clone)]
pub(crate) struct Context {
    pub date: String,
    pub request_id: String,
    pub client_request_id: String,
}

/// PROTOCOLS.md §3 "Errors": `{"error":{"code","message","innerError":{"date","request-id",
/// "client-request-id"}}}`.
pub(crate) fn graph_error(ctx: &Context, status: u16, code: &str, message: &str) -> Reply {
    Reply::json(
        status,
        &json!({"error": {
            "code": code,
            "message": message,
            "innerError": {
                "date": ctx.date,
                "request-id": ctx.request_id,
                "client-request-id": ctx.client_request_id,
            }
        }}),
    )
    .with("request-id", ctx.request_id.clone())
    .with("client-request-id", ctx.client_request_id.clone())
}

/// 401 for a missing, unknown or expired token (Graph's `InvalidAuthenticationToken`).
pub(crate) fn unauthorized(ctx: &Context) -> Reply {
    graph_error(
        ctx,
        401,
        "InvalidAuthenticationToken",
        "Access token has expired or is not yet valid.",
    )
    .with(
        "www-authenticate",
        "Bearer realm=\"\", error=\"invalid_token\"",
    )
}

/// PROTOCOLS.md §3 table: 404 `ErrorItemNotFound`.
pub(crate) fn not_found(ctx: &Context) -> Reply {
    graph_error(
        ctx,
        404,
        "ErrorItemNotFound",
        "The specified object was not found in the store.",
    )
}

/// PROTOCOLS.md §3 table: 412 `ErrorIrresolvableConflict` [obs msgraph-sdk-dotnet#1201].
pub(crate) fn conflict(ctx: &Context) -> Reply {
    graph_error(
        ctx,
        412,
        "ErrorIrresolvableConflict",
        "The send or update operation could not be performed because the change key passed in the request does not match the current change key for the item.",
    )
}

/// PROTOCOLS.md §3 table: 410 + `Location` (request URL, empty `$deltatoken`),
/// `SyncStateNotFound`, message as observed.
pub(crate) fn sync_state_not_found(
    ctx: &Context,
    location: &str,
    generation: u64,
    highest: u64,
) -> Reply {
    graph_error(
        ctx,
        410,
        "SyncStateNotFound",
        &format!(
            "The sync state generation is not found; generation={generation};[highest={highest}][{highest}]."
        ),
    )
    .with("location", location)
}

/// PROTOCOLS.md §3 table: 400 `InvalidDeltaToken`.
pub(crate) fn invalid_delta_token(ctx: &Context, token: &str) -> Reply {
    graph_error(
        ctx,
        400,
        "InvalidDeltaToken",
        &format!("The value '{token}' of parameter '$deltaToken' is invalid."),
    )
}

/// A 400 for a request Graph refuses (bad parameters, bad body).
pub(crate) fn bad_request(ctx: &Context, code: &str, message: &str) -> Reply {
    graph_error(ctx, 400, code, message)
}

/// Writes to a calendar the user may not edit.
pub(crate) fn access_denied(ctx: &Context) -> Reply {
    graph_error(
        ctx,
        403,
        "ErrorAccessDenied",
        "Access is denied. Check credentials and try again.",
    )
}

/// PROTOCOLS.md §3 table: 429 `ApplicationThrottled` + `Retry-After`.
pub(crate) fn throttled(ctx: &Context, retry_after: u64) -> Reply {
    graph_error(
        ctx,
        429,
        "ApplicationThrottled",
        "Application is over its MailboxConcurrency limit.",
    )
    .with("retry-after", retry_after.to_string())
}

/// PROTOCOLS.md §3 table: 504 `UnknownError`.
pub(crate) fn gateway_timeout(ctx: &Context) -> Reply {
    graph_error(ctx, 504, "UnknownError", "")
}

/// An injected status (`next_status`) in Graph's shape: 429 `ApplicationThrottled`, 503
/// `ServiceUnavailable`, 504 `UnknownError` (PROTOCOLS.md §3 table), with its `Retry-After`.
pub(crate) fn injected(ctx: &Context, status: u16, retry_after: Option<u64>) -> Reply {
    let reply = match status {
        401 => unauthorized(ctx),
        429 => graph_error(
            ctx,
            429,
            "ApplicationThrottled",
            "Application is over its MailboxConcurrency limit.",
        ),
        503 => graph_error(
            ctx,
            503,
            "ServiceUnavailable",
            "The service is temporarily unavailable.",
        ),
        504 => gateway_timeout(ctx),
        412 => conflict(ctx),
        _ => graph_error(ctx, status, "UnknownError", "Injected fault"),
    };
    match retry_after {
        Some(seconds) => reply.with("retry-after", seconds.to_string()),
        None => reply,
    }
}

/// PROTOCOLS.md §3 "OAuth": the token endpoint's error shape, `{"error","error_description"}`.
pub(crate) fn oauth_error(status: u16, error: &str, description: &str) -> Reply {
    Reply::json(
        status,
        &json!({"error": error, "error_description": description}),
    )
}
