//! LoginRocket's browser pages as the realm serves them: login and logout.

use std::collections::HashMap;

use axum::extract::{Query, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};

use super::api::errors;
use super::state::Shared;

/// Where LoginRocket sends the browser back to, with `extra` appended to the query.
fn redirect_back(redirect_uri: &str, extra: &[(&str, &str)]) -> Response {
    let mut target = redirect_uri.to_owned();
    for (k, v) in extra {
        target.push(if target.contains('?') { '&' } else { '?' });
        target.push_str(k);
        target.push('=');
        target.push_str(v);
    }
    (StatusCode::SEE_OTHER, [(header::LOCATION, target)]).into_response()
}

/// `GET /login?redirect_uri=[&email=]`: logs the user in and sends the browser back with
/// `?token=`.
pub(super) async fn login_page(
    State(state): State<Shared>,
    Query(q): Query<HashMap<String, String>>,
) -> Response {
    let mut st = state.lock().expect("fake realm state");
    *st.counts.entry("/login").or_default() += 1;
    let Some(back) = q.get("redirect_uri") else {
        return errors(StatusCode::BAD_REQUEST, "redirect_uri is required");
    };
    let email = q.get("email").map_or("demo@example.com", String::as_str);
    let login = st.login_v2(email, |t| t);
    redirect_back(back, &[("token", &login.token)])
}

/// `GET /logout?session=&redirect_uri=`: ends the session (a `session.deleted` event goes
/// out) and sends the browser back.
pub(super) async fn logout_page(
    State(state): State<Shared>,
    Query(q): Query<HashMap<String, String>>,
) -> Response {
    let mut st = state.lock().expect("fake realm state");
    *st.counts.entry("/logout").or_default() += 1;
    if let Some(id) = q.get("session") {
        st.end_session(id);
    }
    match q.get("redirect_uri") {
        Some(back) => redirect_back(back, &[]),
        None => (StatusCode::OK, "logged out").into_response(),
    }
}
