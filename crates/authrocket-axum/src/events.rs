//! [`events_route`]: AuthRocket's webhooks on an Axum router.

use authrocket_tower::EventReceiver;
use authrocket_verify::Verifier;
use axum::routing::{MethodRouter, post_service};

/// A `POST` route receiving AuthRocket's webhook deliveries into `verifier`: each event is
/// confirmed with AuthRocket's API, then a `session.deleted` makes that session's token
/// answer 401 `revoked` at once, in every mode. Mount it outside a required
/// [`AuthRocketLayer`](authrocket_tower::AuthRocketLayer) (deliveries carry no login token):
/// routes added after `.layer(…)` are not wrapped by it. Answers as
/// [`EventReceiver`](authrocket_tower::EventReceiver) does.
///
/// ```
/// use authrocket_axum::{AuthRocketLayer, events_route};
/// use axum::{Router, routing::get};
///
/// # fn app(verifier: authrocket_verify::Verifier) -> Router {
/// Router::new()
///     .route("/api/me", get(|| async { "me" }))
///     .layer(AuthRocketLayer::new(verifier.clone()))
///     .route("/authrocket/events", events_route(verifier))
/// # }
/// ```
pub fn events_route<S>(verifier: Verifier) -> MethodRouter<S>
where
    S: Clone + Send + Sync + 'static,
{
    post_service(EventReceiver::new(verifier))
}
