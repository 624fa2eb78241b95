//! A real gRPC service behind the same layer: `cargo run --example tonic`.
//!
//! Serves tonic-health's `grpc.health.v1.Health` (its code ships with the crate, so no
//! `protoc` is needed) behind `AuthRocketLayer`, then calls it as a client without a token,
//! with a bad one and with a good one. Uses an embedded fake realm unless AuthRocket settings
//! are in the environment (then pass a token as `TOKEN=…`).

use authrocket::{AuthRocketLayer, Session, Verifier};
use authrocket_testkit::{FakeRealm, bad};
use tonic::transport::{Channel, Server};
use tonic_health::pb::HealthCheckRequest;
use tonic_health::pb::health_client::HealthClient;

/// Logs which user each gRPC call is made by, from the request extensions the layer fills —
/// exactly what a Tonic handler sees in `request.extensions()`.
#[derive(Clone)]
struct WhoIsCalling<S>(S);

impl<S, B> tower::Service<http::Request<B>> for WhoIsCalling<S>
where
    S: tower::Service<http::Request<B>>,
{
    type Response = S::Response;
    type Error = S::Error;
    type Future = S::Future;
    fn poll_ready(
        &mut self,
        cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<Result<(), S::Error>> {
        self.0.poll_ready(cx)
    }
    fn call(&mut self, req: http::Request<B>) -> S::Future {
        if let Some(session) = req.extensions().get::<Session>() {
            println!(
                "  server: {} called by {}",
                req.uri().path(),
                session.user_id()
            );
        }
        self.0.call(req)
    }
}

async fn check(channel: Channel, token: Option<&str>) -> String {
    let mut req = tonic::Request::new(HealthCheckRequest {
        service: String::new(),
    });
    if let Some(t) = token {
        req.metadata_mut().insert(
            "authorization",
            format!("Bearer {t}").parse().expect("ASCII token"),
        );
    }
    match HealthClient::new(channel).check(req).await {
        Ok(res) => format!("OK, serving status {}", res.into_inner().status),
        Err(status) => format!("{:?}: {}", status.code(), status.message()),
    }
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let configured = authrocket::verify::ENV_VARS
        .iter()
        .any(|v| std::env::var_os(v).is_some());
    let realm = if configured {
        None
    } else {
        Some(FakeRealm::start().await)
    };
    let (verifier, good, expired) = match &realm {
        Some(realm) => (
            Verifier::builder()
                .loginrocket_url(realm.loginrocket_url())
                .build()?,
            realm.login("grpc-user@example.com").token,
            bad::expired(&realm.signing_key()),
        ),
        None => (
            Verifier::from_env()?,
            std::env::var("TOKEN").unwrap_or_default(),
            bad::garbage(),
        ),
    };

    let (reporter, health) = tonic_health::server::health_reporter();
    reporter
        .set_service_status("", tonic_health::ServingStatus::Serving)
        .await;
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let addr = listener.local_addr()?;
    tokio::spawn(
        Server::builder()
            .layer(AuthRocketLayer::new(verifier)) // the same layer as on an Axum router
            .layer(tower::layer::layer_fn(WhoIsCalling))
            .add_service(health)
            .serve_with_incoming(tonic::transport::server::TcpIncoming::from(listener)),
    );
    println!("gRPC health service on http://{addr}, behind AuthRocketLayer");

    let channel = Channel::from_shared(format!("http://{addr}"))?
        .connect()
        .await?;
    println!(
        "client without a token: {}",
        check(channel.clone(), None).await
    );
    println!(
        "client with an expired token: {}",
        check(channel.clone(), Some(&expired)).await
    );
    println!(
        "client with a valid token: {}",
        check(channel, Some(&good)).await
    );
    Ok(())
}
