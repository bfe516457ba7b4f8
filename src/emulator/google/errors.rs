//! Replies before the body faults are applied, and the two error shapes the emulator speaks: the
//! Calendar API's (PROTOCOLS.md §2 "Errors, quotas") and OAuth's (§2 "OAuth").

use bytes::Bytes;
use serde_json::Value;

/// PROTOCOLS.md §4 (Google): every JSON reply is `application/json; charset=UTF-8`, as Google's are.
pub(crate) const JSON: &str = "application/json; charset=UTF-8";

/// A response before the body faults are applied.
#[derive(Debug)]
pub(crate) struct Reply {
    pub status: u16,
    pub headers: Vec<(&'static str, String)>,
    pub body: Bytes,
}

impl Reply {
    pub(crate) fn json(status: u16, value: &Value) -> Reply {
        Reply::raw_json(status, value.to_string())
    }

    /// A JSON body already rendered (the error shapes are written out to keep their key order).
    pub(crate) fn raw_json(status: u16, body: String) -> Reply {
        Reply {
            status,
            headers: vec![("content-type", JSON.to_string())],
            body: Bytes::from(body),
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

/// The Calendar API error body: one entry in `errors`, the top-level `code` and `message`.
/// PROTOCOLS.md §2 "Errors, quotas": "the others share its shape (location only where shown)".
pub(crate) fn api_error(
    status: u16,
    domain: &str,
    reason: &str,
    message: &str,
    location: Option<(&str, &str)>,
) -> Reply {
    let message = Value::from(message).to_string();
    let location = location.map_or(String::new(), |(kind, name)| {
        format!(
            ",\"locationType\":{},\"location\":{}",
            Value::from(kind),
            Value::from(name)
        )
    });
    Reply::raw_json(
        status,
        format!(
            "{{\"error\":{{\"errors\":[{{\"domain\":{},\"reason\":{},\"message\":{message}{location}}}],\"code\":{status},\"message\":{message}}}}}",
            Value::from(domain),
            Value::from(reason),
        ),
    )
}

/// PROTOCOLS.md §2 "Errors, quotas": the 410, verbatim.
pub(crate) fn full_sync_required() -> Reply {
    api_error(
        410,
        "calendar",
        "fullSyncRequired",
        "Sync token is no longer valid, a full sync is required.",
        Some(("parameter", "syncToken")),
    )
}

/// PROTOCOLS.md §2 table: 412 global / `conditionNotMet`, location header `If-Match`.
pub(crate) fn condition_not_met() -> Reply {
    api_error(
        412,
        "global",
        "conditionNotMet",
        "Precondition Failed",
        Some(("header", "If-Match")),
    )
}

/// PROTOCOLS.md §2 table: 409 global / `duplicate`.
pub(crate) fn duplicate() -> Reply {
    api_error(
        409,
        "global",
        "duplicate",
        "The requested identifier already exists.",
        None,
    )
}

/// PROTOCOLS.md §2 table: 410 global / `deleted`.
pub(crate) fn deleted() -> Reply {
    api_error(410, "global", "deleted", "Resource has been deleted", None)
}

/// Google's documented 404 (errors guide): global / `notFound`, "Not Found".
pub(crate) fn not_found() -> Reply {
    api_error(404, "global", "notFound", "Not Found", None)
}

/// PROTOCOLS.md §2 table: 401 global / `authError`. The errors guide adds
/// `"locationType":"header","location":"Authorization"`; the documentation wins (PROTOCOLS.md
/// preamble).
pub(crate) fn auth_error() -> Reply {
    api_error(
        401,
        "global",
        "authError",
        "Invalid Credentials",
        Some(("header", "Authorization")),
    )
    .with(
        "www-authenticate",
        "Bearer realm=\"https://accounts.google.com/\", error=\"invalid_token\"",
    )
}

/// PROTOCOLS.md §2 table: 500 global / `backendError`.
pub(crate) fn backend_error() -> Reply {
    api_error(500, "global", "backendError", "Backend Error", None)
}

/// PROTOCOLS.md §2 table: 403 usageLimits / `userRateLimitExceeded`; 403 or 429 usageLimits /
/// `rateLimitExceeded`. No `Retry-After` ("`Retry-After` is not promised").
pub(crate) fn rate_limited(status: u16) -> Reply {
    if status == 403 {
        api_error(
            403,
            "usageLimits",
            "userRateLimitExceeded",
            "User Rate Limit Exceeded",
            None,
        )
    } else {
        api_error(
            status,
            "usageLimits",
            "rateLimitExceeded",
            "Rate Limit Exceeded",
            None,
        )
    }
}

/// PROTOCOLS.md §2 table: 403 usageLimits / `quotaExceeded`.
pub(crate) fn quota_exceeded() -> Reply {
    api_error(
        403,
        "usageLimits",
        "quotaExceeded",
        "Calendar usage limits exceeded.",
        None,
    )
}

/// A 400 global / `invalid` naming the parameter at fault. PROTOCOLS.md §2 "Sync rounds":
/// forbidden parameters with a token get "`400` `invalid`, domain `global`".
pub(crate) fn invalid(message: &str, parameter: Option<&str>) -> Reply {
    api_error(
        400,
        "global",
        "invalid",
        message,
        parameter.map(|p| ("parameter", p)),
    )
}

/// PROTOCOLS.md §2 "Sync rounds" [obs]: "Garbled token: `400` `Invalid sync token value.`".
pub(crate) fn invalid_sync_token() -> Reply {
    invalid("Invalid sync token value.", Some("syncToken"))
}

/// A body field the request must have (Google's `required` reason).
pub(crate) fn required(message: &str) -> Reply {
    api_error(400, "global", "required", message, None)
}

/// PROTOCOLS.md §2 "Etags, ids, writes": `403 forbiddenForNonOrganizer`.
pub(crate) fn forbidden_for_non_organizer() -> Reply {
    api_error(
        403,
        "calendar",
        "forbiddenForNonOrganizer",
        "Shared properties can only be changed by the organizer of the event.",
        None,
    )
}

/// PROTOCOLS.md §2 "Sync rounds": "`reader`/`freeBusyReader` = read-only". Google's reason for a
/// write without writer access is `requiredAccessLevel`.
pub(crate) fn required_access_level() -> Reply {
    api_error(
        403,
        "calendar",
        "requiredAccessLevel",
        "You need to have writer access to this calendar.",
        None,
    )
}

/// An error status chosen by `next_status`, in the API's shape, with its `Retry-After`.
pub(crate) fn injected(status: u16, retry_after: Option<u64>) -> Reply {
    let reply = match status {
        401 => auth_error(),
        403 | 429 => rate_limited(status),
        410 => full_sync_required(),
        412 => condition_not_met(),
        500 => backend_error(),
        503 => api_error(503, "global", "backendError", "Service Unavailable", None),
        _ => api_error(status, "global", "injected", "Injected fault", None),
    };
    match retry_after {
        Some(seconds) => reply.with("retry-after", seconds.to_string()),
        None => reply,
    }
}

/// PROTOCOLS.md §2 "OAuth": the token endpoint's error shape,
/// `{"error":"invalid_grant","error_description":"Token has been expired or revoked."}`.
pub(crate) fn oauth_error(status: u16, error: &str, description: &str) -> Reply {
    Reply::json(
        status,
        &serde_json::json!({"error": error, "error_description": description}),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn full_sync_required_is_byte_for_byte_the_documented_body() {
        let reply = full_sync_required();
        assert_eq!(reply.status, 410);
        assert_eq!(
            std::str::from_utf8(&reply.body).ok(),
            Some(
                "{\"error\":{\"errors\":[{\"domain\":\"calendar\",\"reason\":\"fullSyncRequired\",\"message\":\"Sync token is no longer valid, a full sync is required.\",\"locationType\":\"parameter\",\"location\":\"syncToken\"}],\"code\":410,\"message\":\"Sync token is no longer valid, a full sync is required.\"}}"
            )
        );
    }
}
