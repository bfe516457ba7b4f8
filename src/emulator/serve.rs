//! The loopback HTTP server every emulator runs on: a free port on 127.0.0.1, one task per
//! connection, and a guard that stops it all when the last handle goes.

use std::convert::Infallible;
use std::future::Future;
use std::net::SocketAddr;
use std::time::Duration;

use hyper::body::{Body, Incoming};
use hyper::service::service_fn;
use hyper::{Request, Response};
use hyper_util::rt::TokioIo;
use tokio::net::TcpListener;
use tokio::task::{AbortHandle, JoinSet};

/// Binds 127.0.0.1 on a free port and answers every request with `handle` until the returned
/// task is aborted. Must be called inside a Tokio runtime.
pub(crate) async fn spawn<H, F, B>(handle: H) -> std::io::Result<(SocketAddr, AbortHandle)>
where
    H: Fn(Request<Incoming>) -> F + Clone + Send + Sync + 'static,
    F: Future<Output = Result<Response<B>, Infallible>> + Send + 'static,
    B: Body + Send + 'static,
    B::Data: Send,
    B::Error: Into<Box<dyn std::error::Error + Send + Sync>>,
{
    let listener = TcpListener::bind("127.0.0.1:0").await?;
    let addr = listener.local_addr()?;
    let task = tokio::spawn(async move {
        // Connections live in the set so aborting this task drops (closes) them too.
        let mut connections = JoinSet::new();
        loop {
            tokio::select! {
                accepted = listener.accept() => match accepted {
                    Ok((stream, _)) => {
                        let handle = handle.clone();
                        connections.spawn(async move {
                            let service = service_fn(handle);
                            let _ = hyper::server::conn::http1::Builder::new()
                                .serve_connection(TokioIo::new(stream), service)
                                .await;
                        });
                    }
                    // Out of descriptors and the like: back off instead of spinning.
                    Err(_) => tokio::time::sleep(Duration::from_millis(10)).await,
                },
                Some(_) = connections.join_next(), if !connections.is_empty() => {}
            }
        }
    });
    Ok((addr, task.abort_handle()))
}

/// Aborts the server when the last handle goes away.
#[derive(Debug)]
pub(crate) struct ServerGuard(pub(crate) AbortHandle);

impl Drop for ServerGuard {
    fn drop(&mut self) {
        self.0.abort();
    }
}

/// The Google and Graph emulators' last step: `malformed_next` (a 2xx JSON body cut in half and
/// ended with `junk`, so no parser takes it) and `cut_next` (the full length promised, half sent),
/// then the hyper response.
pub(crate) fn finish_json(
    status: u16,
    headers: &[(&'static str, String)],
    mut body: bytes::Bytes,
    json: bool,
    junk: &[u8],
    malformed_next: &mut usize,
    cut_next: &mut usize,
) -> Response<super::caldav::ReplyBody> {
    use super::caldav::ReplyBody;
    if json && (200..300).contains(&status) && *malformed_next > 0 {
        *malformed_next -= 1;
        let mut broken = body.slice(..body.len() / 2).to_vec();
        broken.extend_from_slice(junk);
        body = bytes::Bytes::from(broken);
    }
    let mut builder = Response::builder().status(status);
    for (name, value) in headers {
        builder = builder.header(*name, value);
    }
    let reply_body = if body.is_empty() {
        ReplyBody::Full(None)
    } else if *cut_next > 0 {
        *cut_next -= 1;
        builder = builder.header("content-length", body.len().to_string());
        let pause = Box::pin(tokio::time::sleep(Duration::from_millis(50)));
        ReplyBody::Cut(Some(body.slice(..body.len() / 2)), pause)
    } else {
        ReplyBody::Full(Some(body))
    };
    builder.body(reply_body).unwrap_or_else(|_| {
        // Only a bad header value gets here; answer 500 rather than panic.
        let mut r = Response::new(ReplyBody::Full(None));
        *r.status_mut() = hyper::StatusCode::INTERNAL_SERVER_ERROR;
        r
    })
}
