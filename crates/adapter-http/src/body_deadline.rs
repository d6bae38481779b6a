//! A deadline on reading a request body.
//!
//! actix-web times out request headers (`client_request_timeout`) but not bodies: a client that
//! announces `Content-Length: 60000` and sends a byte every few seconds holds its connection, and
//! a file descriptor, for as long as it likes; enough of them exhaust the process's open files
//! and every other request fails. Here every request body is read through [`DeadlineBody`], which
//! ends the body with an error once [`BodyTimeout`] has passed since the headers arrived. The
//! request is then answered 408 `request_timeout` with `Connection: close`, whatever the handler
//! made of the broken body.
//!
//! Data that has arrived is always handed over, even past the deadline (a handler may be slow to
//! start reading); only waiting for more is cut off. A body the handler never reads is kept
//! unread until the response has been written, so actix closes the connection instead of
//! draining a chunked body at the client's pace.

use crate::errors::ApiError;
use actix_web::body::{BodySize, BoxBody, EitherBody, MessageBody};
use actix_web::dev::{Payload, ServiceRequest, ServiceResponse};
use actix_web::error::PayloadError;
use actix_web::http::{ConnectionType, StatusCode};
use actix_web::middleware::Next;
use actix_web::rt::time::{Sleep, sleep};
use actix_web::web::Bytes;
use actix_web::{Error, ResponseError as _};
use futures_util::Stream;
use std::cell::{Cell, RefCell};
use std::future::Future as _;
use std::pin::Pin;
use std::rc::Rc;
use std::task::{Context, Poll};
use std::time::Duration;

/// How long a request body may take to arrive, counted from the end of its headers (app data).
#[derive(Debug, Clone, Copy)]
pub(crate) struct BodyTimeout(pub(crate) Duration);

/// What the middleware learns about a body after the handler is done with it.
#[derive(Default)]
struct BodyWatch {
    /// The deadline passed while the body was being read.
    timed_out: Cell<bool>,
    /// The body was read to its end.
    finished: Cell<bool>,
    /// A body dropped before its end, kept until the response is written.
    unread: RefCell<Option<Payload>>,
}

/// A response body that holds its request's unread body until it has been written: actix, seeing
/// the request body's receiver alive, then closes the connection instead of reading the rest.
pub(crate) struct HoldingUnread {
    pub(crate) body: BoxBody,
    pub(crate) _unread: Payload,
}

impl MessageBody for HoldingUnread {
    type Error = Box<dyn std::error::Error>;

    fn size(&self) -> BodySize {
        self.body.size()
    }

    fn poll_next(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Bytes, Self::Error>>> {
        Pin::new(&mut self.get_mut().body).poll_next(cx)
    }
}

/// A request body that fails with `TimedOut` once its deadline has passed.
struct DeadlineBody {
    inner: Option<Payload>,
    deadline: Pin<Box<Sleep>>,
    watch: Rc<BodyWatch>,
}

impl Stream for DeadlineBody {
    type Item = Result<Bytes, PayloadError>;

    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        let this = self.get_mut();
        let Some(inner) = this.inner.as_mut() else {
            return Poll::Ready(None);
        };
        match Pin::new(inner).poll_next(cx) {
            Poll::Ready(None) => {
                this.watch.finished.set(true);
                Poll::Ready(None)
            }
            Poll::Ready(Some(item)) => Poll::Ready(Some(item)),
            Poll::Pending if this.deadline.as_mut().poll(cx).is_ready() => {
                this.watch.timed_out.set(true);
                let late = std::io::Error::new(
                    std::io::ErrorKind::TimedOut,
                    "the request body did not arrive in time",
                );
                Poll::Ready(Some(Err(PayloadError::Io(late))))
            }
            Poll::Pending => Poll::Pending,
        }
    }
}

impl Drop for DeadlineBody {
    fn drop(&mut self) {
        if !self.watch.finished.get() {
            *self.watch.unread.borrow_mut() = self.inner.take();
        }
    }
}

/// The answer to a body that missed its deadline.
fn timed_out(limit: Duration) -> actix_web::HttpResponse {
    let detail = format!(
        "the request body did not arrive within {} ms",
        limit.as_millis()
    );
    let mut response =
        ApiError::new(StatusCode::REQUEST_TIMEOUT, "request_timeout", detail).error_response();
    response
        .head_mut()
        .set_connection_type(ConnectionType::Close);
    response
}

/// Reads every request body through a [`DeadlineBody`]; answers 408 when it ran out of time.
pub(crate) async fn limit_body_time(
    mut request: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<EitherBody<impl MessageBody, BoxBody>>, Error> {
    let limit = request.app_data::<BodyTimeout>().copied();
    let (_, payload) = request.parts_mut();
    let (Some(BodyTimeout(limit)), false) = (limit, matches!(payload, Payload::None)) else {
        return Ok(next.call(request).await?.map_into_left_body());
    };
    let watch = Rc::new(BodyWatch::default());
    let body = DeadlineBody {
        inner: Some(payload.take()),
        deadline: Box::pin(sleep(limit)),
        watch: Rc::clone(&watch),
    };
    request.set_payload(Payload::Stream {
        payload: Box::pin(body),
    });
    let response = next.call(request).await?;
    let unread = watch.unread.borrow_mut().take();
    if !watch.timed_out.get() && unread.is_none() {
        return Ok(response.map_into_left_body());
    }
    let response = if watch.timed_out.get() {
        tracing::info!(limit_ms = limit.as_millis(), "request body timed out");
        response.into_response(timed_out(limit))
    } else {
        response.map_into_boxed_body()
    };
    Ok(match unread {
        Some(unread) => response.map_body(|_, body| {
            BoxBody::new(HoldingUnread {
                body,
                _unread: unread,
            })
        }),
        None => response,
    }
    .map_into_right_body())
}
