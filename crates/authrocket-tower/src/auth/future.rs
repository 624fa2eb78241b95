//! [`ResponseFuture`]: verify, then call the inner service or answer the rejection.

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll, ready};

use authrocket_verify::{Session, VerifyError};
use bytes::Bytes;
use http::header::SET_COOKIE;
use http::{Request, Response};
use pin_project_lite::pin_project;
use tower_service::Service;

use super::context::AuthContext;
use super::settings::Settings;
use crate::body::ResponseBody;

pub(crate) type VerifyFuture = Pin<Box<dyn Future<Output = Decision> + Send>>;

/// What the verification concluded.
pub(crate) enum Decision {
    Pass {
        session: Option<Session>,
        error: Option<VerifyError>,
        clear_cookie: bool,
    },
    Reject(Response<Bytes>),
}

pin_project! {
    /// Response future of [`AuthRocket`](super::AuthRocket).
    pub struct ResponseFuture<S, ReqBody>
    where
        S: Service<Request<ReqBody>>,
    {
        #[pin]
        state: State<S::Future, S, ReqBody>,
        shared: Arc<Settings>,
        clear_cookie: bool,
    }
}

pin_project! {
    #[project = StateProj]
    enum State<F, S, ReqBody> {
        Verifying { verify: VerifyFuture, inner: Option<S>, req: Option<Request<ReqBody>> },
        Calling { #[pin] fut: F },
        Rejected { response: Option<Response<Bytes>> },
    }
}

impl<S, ReqBody> ResponseFuture<S, ReqBody>
where
    S: Service<Request<ReqBody>>,
{
    pub(crate) fn new(
        verify: VerifyFuture,
        inner: S,
        req: Request<ReqBody>,
        shared: Arc<Settings>,
    ) -> Self {
        Self {
            state: State::Verifying {
                verify,
                inner: Some(inner),
                req: Some(req),
            },
            shared,
            clear_cookie: false,
        }
    }
}

/// Put the verification's outcome into the request: the [`AuthContext`] always, the
/// [`Session`] itself when there is one.
pub(crate) fn admit<B>(
    req: &mut Request<B>,
    session: Option<Session>,
    error: Option<VerifyError>,
    shared: &Arc<Settings>,
) {
    if let Some(s) = &session {
        req.extensions_mut().insert(s.clone());
    }
    req.extensions_mut().insert(AuthContext {
        session,
        error,
        shared: Arc::clone(shared),
    });
}

impl<S, ReqBody> ResponseFuture<S, ReqBody>
where
    S: Service<Request<ReqBody>>,
{
    /// Straight to the inner service (the token was answered from the hot table).
    pub(crate) fn calling(fut: S::Future, shared: Arc<Settings>) -> Self {
        Self {
            state: State::Calling { fut },
            shared,
            clear_cookie: false,
        }
    }
}

impl<S, ReqBody> std::fmt::Debug for ResponseFuture<S, ReqBody>
where
    S: Service<Request<ReqBody>>,
{
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ResponseFuture").finish_non_exhaustive()
    }
}

impl<S, ReqBody, ResBody> Future for ResponseFuture<S, ReqBody>
where
    S: Service<Request<ReqBody>, Response = Response<ResBody>>,
{
    type Output = Result<Response<ResponseBody<ResBody>>, S::Error>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let mut this = self.project();
        loop {
            match this.state.as_mut().project() {
                StateProj::Verifying { verify, inner, req } => {
                    let decision = ready!(verify.as_mut().poll(cx));
                    match decision {
                        Decision::Reject(response) => {
                            this.state.set(State::Rejected {
                                response: Some(response),
                            });
                        }
                        Decision::Pass {
                            session,
                            error,
                            clear_cookie,
                        } => {
                            let mut req = req.take().expect("polled after completion");
                            let mut inner = inner.take().expect("polled after completion");
                            admit(&mut req, session, error, this.shared);
                            *this.clear_cookie = clear_cookie;
                            let fut = inner.call(req);
                            this.state.set(State::Calling { fut });
                        }
                    }
                }
                StateProj::Calling { fut } => {
                    let mut res = ready!(fut.poll(cx))?;
                    if *this.clear_cookie
                        && let Some(v) = this.shared.sources.cookie.as_ref().and_then(|c| c.clear())
                    {
                        res.headers_mut().append(SET_COOKIE, v);
                    }
                    return Poll::Ready(Ok(res.map(ResponseBody::inner)));
                }
                StateProj::Rejected { response } => {
                    let res = response.take().expect("polled after completion");
                    return Poll::Ready(Ok(res.map(ResponseBody::full)));
                }
            }
        }
    }
}
