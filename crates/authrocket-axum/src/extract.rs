//! [`CurrentUser`], [`LoginRequired`] and [`Logout`]: extractors over the context that
//! [`AuthRocketLayer`](authrocket_tower::AuthRocketLayer) leaves in the request.

use std::ops::Deref;

use authrocket_tower::{AuthContext, is_grpc, missing_layer};
use authrocket_verify::{Session, VerifyError};
use axum::body::Body;
use axum::extract::{FromRequestParts, OptionalFromRequestParts};
use axum::response::{IntoResponse, Response};
use http::header::{LOCATION, SET_COOKIE};
use http::request::Parts;
use http::{HeaderValue, StatusCode};

use authrocket_tower::redirect::{
    app_origin, location, loginrocket_page, redirect_uri as redirect_uri_of, request_url,
};

/// The connection's peer address, when the app serves with axum's `ConnectInfo`.
fn peer(parts: &Parts) -> Option<std::net::IpAddr> {
    let info = parts
        .extensions
        .get::<axum::extract::ConnectInfo<std::net::SocketAddr>>()?;
    Some(info.0.ip())
}

/// The signed-in user. Needs [`AuthRocketLayer`](authrocket_tower::AuthRocketLayer) on the
/// route (required or optional mode).
///
/// * As `CurrentUser`: no session ⇒ the layer's 401 (`WWW-Authenticate`, JSON body).
/// * As `Option<CurrentUser>`: no session ⇒ `None`.
/// * Either way, a missing layer is a loud, explained 500 — never a silent 401.
///
/// ```
/// use authrocket_axum::CurrentUser;
///
/// async fn me(user: CurrentUser) -> String {
///     format!("{} ({})", user.id(), user.name().unwrap_or("no name"))
/// }
///
/// async fn home(user: Option<CurrentUser>) -> String {
///     match user {
///         Some(user) => format!("welcome back, {}", user.id()),
///         None => "welcome, stranger".to_owned(),
///     }
/// }
/// # let _: axum::Router = axum::Router::new().route("/me", axum::routing::get(me)).route("/", axum::routing::get(home));
/// ```
#[derive(Debug, Clone)]
pub struct CurrentUser(pub Session);

impl CurrentUser {
    /// The user id (`usr_…`).
    pub fn id(&self) -> &str {
        self.0.user_id()
    }

    /// The user's display name, when known.
    pub fn name(&self) -> Option<&str> {
        self.0.user().name
    }

    /// The user's email, when known.
    pub fn email(&self) -> Option<&str> {
        self.0.user().email
    }

    /// The whole verified session.
    pub fn session(&self) -> &Session {
        &self.0
    }
}

impl Deref for CurrentUser {
    type Target = Session;
    fn deref(&self) -> &Session {
        &self.0
    }
}

/// Why [`CurrentUser`] (or [`LoginRequired`]) could not be extracted: answered with the
/// response it makes ([`status`](Self::status) tells which).
///
/// * No session: answered like the layer answers (401 or 400, or a gRPC status).
/// * A browser without a session, for [`LoginRequired`]: 303 to LoginRocket's login page.
/// * The route has no `AuthRocketLayer` (or, for login redirects, no `LOGINROCKET_URL`): a
///   programming error, answered 500 with an explanation.
#[derive(Debug)]
pub struct CurrentUserRejection {
    kind: Rejected,
}

#[derive(Debug)]
enum Rejected {
    Unauthenticated(Box<http::Response<bytes::Bytes>>),
    LoginRedirect(String),
    Misconfigured(&'static str),
}

impl CurrentUserRejection {
    fn misconfigured(what: &'static str) -> Self {
        Self {
            kind: Rejected::Misconfigured(what),
        }
    }

    /// The status of the response this rejection makes.
    ///
    /// ```
    /// # fn check(rejection: authrocket_axum::CurrentUserRejection) {
    /// if rejection.status() == http::StatusCode::SEE_OTHER { /* sent to the login page */ }
    /// # }
    /// ```
    pub fn status(&self) -> StatusCode {
        match &self.kind {
            Rejected::Unauthenticated(res) => res.status(),
            Rejected::LoginRedirect(_) => StatusCode::SEE_OTHER,
            Rejected::Misconfigured(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }
}

impl IntoResponse for CurrentUserRejection {
    fn into_response(self) -> Response {
        match self.kind {
            Rejected::Unauthenticated(res) => {
                tracing::trace!("authrocket: CurrentUser rejected an anonymous request");
                (*res).map(Body::from)
            }
            Rejected::LoginRedirect(location) => {
                let mut res = StatusCode::SEE_OTHER.into_response();
                if let Ok(v) = HeaderValue::from_str(&location) {
                    res.headers_mut().insert(LOCATION, v);
                }
                res
            }
            Rejected::Misconfigured(what) => missing_layer(what).map(Body::from),
        }
    }
}

fn context<'p>(
    parts: &'p Parts,
    what: &'static str,
) -> Result<&'p AuthContext, CurrentUserRejection> {
    parts
        .extensions
        .get::<AuthContext>()
        .ok_or_else(|| CurrentUserRejection::misconfigured(what))
}

impl<S: Send + Sync> FromRequestParts<S> for CurrentUser {
    type Rejection = CurrentUserRejection;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Self::Rejection> {
        let ctx = context(parts, "the CurrentUser extractor")?;
        match ctx.session() {
            Some(s) => Ok(CurrentUser(s.clone())),
            None => {
                let missing = VerifyError::missing_token();
                let error = ctx.error().unwrap_or(&missing);
                let response = ctx.reject(error, is_grpc(&parts.headers));
                Err(CurrentUserRejection {
                    kind: Rejected::Unauthenticated(Box::new(response)),
                })
            }
        }
    }
}

impl<S: Send + Sync> OptionalFromRequestParts<S> for CurrentUser {
    type Rejection = CurrentUserRejection;

    async fn from_request_parts(
        parts: &mut Parts,
        _state: &S,
    ) -> Result<Option<Self>, Self::Rejection> {
        let ctx = context(parts, "the Option<CurrentUser> extractor")?;
        Ok(ctx.session().cloned().map(CurrentUser))
    }
}

/// Like [`CurrentUser`], for browser routes: without a session the browser is redirected
/// (303) to `<LOGINROCKET_URL>/login?redirect_uri=<this URL>` instead of getting a 401. API
/// routes should keep [`CurrentUser`].
///
/// `<this URL>` is built on the app's public origin: the verifier's
/// [`app_url`](authrocket_verify::Verifier::app_url) (`AUTHROCKET_APP_URL`); without one, a
/// loopback `Host` (or the `X-Forwarded-*` headers of a
/// [trusted proxy](authrocket_verify::VerifierBuilder::trusted_proxies)). When nothing
/// trustworthy says where the app is, `redirect_uri` is left out and LoginRocket returns to
/// the realm's default login handler. It never carries `token`, `account` or `session`.
///
/// ```
/// use authrocket_axum::LoginRequired;
///
/// async fn dashboard(LoginRequired(user): LoginRequired) -> String {
///     format!("dashboard of {}", user.id())
/// }
/// # let _: axum::Router = axum::Router::new().route("/dashboard", axum::routing::get(dashboard));
/// ```
#[derive(Debug, Clone)]
pub struct LoginRequired(pub CurrentUser);

impl<S: Send + Sync> FromRequestParts<S> for LoginRequired {
    type Rejection = CurrentUserRejection;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Self::Rejection> {
        let ctx = context(parts, "the LoginRequired extractor")?;
        if let Some(s) = ctx.session() {
            return Ok(LoginRequired(CurrentUser(s.clone())));
        }
        let here = request_url(ctx.verifier(), parts, peer(parts));
        if here.is_none() {
            tracing::debug!(
                "authrocket: no trusted app URL for this request (set AUTHROCKET_APP_URL); \
                 redirecting to login without redirect_uri"
            );
        }
        let query: Vec<(&str, &str)> = here.iter().map(|h| ("redirect_uri", &**h)).collect();
        let login = loginrocket_page(ctx.verifier(), "login", &query).ok_or_else(|| {
            CurrentUserRejection::misconfigured("LoginRequired without LOGINROCKET_URL")
        })?;
        Err(CurrentUserRejection {
            kind: Rejected::LoginRedirect(login),
        })
    }
}

/// Logs the browser out: revokes the session in this app, clears the token cookie (with the
/// attributes it was set with) and sends the browser to `<LOGINROCKET_URL>/logout?session=<sid>&redirect_uri=…`, which ends
/// the AuthRocket session. Works on routes with the layer in either mode.
///
/// ```
/// use authrocket_axum::Logout;
/// use axum::response::Response;
///
/// async fn logout(logout: Logout) -> Response {
///     logout.redirect_to("/") // back to the app's home page
/// }
/// # let _: axum::Router = axum::Router::new().route("/logout", axum::routing::get(logout));
/// ```
#[derive(Debug, Clone)]
pub struct Logout {
    ctx: AuthContext,
    /// The app's public origin for this request, when something trustworthy says it.
    origin: Option<String>,
}

impl<S: Send + Sync> FromRequestParts<S> for Logout {
    type Rejection = CurrentUserRejection;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Self::Rejection> {
        let ctx = context(parts, "the Logout extractor")?.clone();
        let origin = app_origin(ctx.verifier(), parts, peer(parts));
        Ok(Logout { ctx, origin })
    }
}

impl Logout {
    /// The LoginRocket logout URL for this session, returning to `redirect_uri`: a path on
    /// this app (`/`, made absolute on the app's public origin as for [`LoginRequired`]) or an
    /// absolute http(s) URL. `token`, `account` and `session` are removed from it; when it
    /// cannot be made a trustworthy absolute URL it is left out (LoginRocket then uses the
    /// realm's default). `None` without `LOGINROCKET_URL`.
    pub fn url(&self, redirect_uri: &str) -> Option<String> {
        let back = redirect_uri_of(redirect_uri, self.origin.as_deref());
        let sid = self.ctx.session().and_then(|s| s.session_id());
        let query: Vec<(&str, &str)> = [("session", sid), ("redirect_uri", back.as_deref())]
            .into_iter()
            .filter_map(|(k, v)| Some((k, v?)))
            .collect();
        loginrocket_page(self.ctx.verifier(), "logout", &query)
    }

    /// 303 to [`url`](Self::url) (or straight to `redirect_uri` without `LOGINROCKET_URL`),
    /// clearing the token cookie. The session is revoked in this app first
    /// ([`Verifier::revoke`](authrocket_verify::Verifier::revoke)): its token answers 401
    /// `revoked` from now on, even before AuthRocket's `session.deleted` event arrives (and,
    /// offline, even without it).
    pub fn redirect_to(&self, redirect_uri: &str) -> Response {
        if let Some(session) = self.ctx.session() {
            self.ctx.verifier().revoke(session);
        }
        let location = self
            .url(redirect_uri)
            .unwrap_or_else(|| location(redirect_uri));
        let mut res = StatusCode::SEE_OTHER.into_response();
        if let Ok(v) = HeaderValue::from_str(&location) {
            res.headers_mut().insert(LOCATION, v);
        }
        if let Some(v) = self.ctx.token_cookie().and_then(|c| c.clear()) {
            res.headers_mut().append(SET_COOKIE, v);
        }
        res
    }
}
