//! The same layer in front of a real Tonic gRPC server, called by a real Tonic client over
//! 127.0.0.1 (the service is tonic-health's, so no protoc is needed).

use std::sync::{Arc, Mutex};
use std::time::Duration;

use authrocket_testkit::{FakeRealm, Fault, bad};
use authrocket_tower::AuthRocketLayer;
use authrocket_verify::{Session, Verifier, VerifyMode};
use tonic::transport::{Channel, Server};
use tonic::{Code, Request};
use tonic_health::pb::HealthCheckRequest;
use tonic_health::pb::health_client::HealthClient;

/// Start a gRPC server behind `layer`; returns its address and the user ids its handler saw.
async fn serve(layer: AuthRocketLayer) -> (String, Arc<Mutex<Vec<String>>>) {
    let (reporter, health) = tonic_health::server::health_reporter();
    reporter
        .set_service_status("", tonic_health::ServingStatus::Serving)
        .await;
    let seen = Arc::new(Mutex::new(Vec::new()));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let recorder = seen.clone();
    tokio::spawn(async move {
        Server::builder()
            .layer(layer)
            .layer(tower::layer::layer_fn(move |inner| SessionSpy {
                inner,
                seen: recorder.clone(),
            }))
            .add_service(health)
            .serve_with_incoming(tonic::transport::server::TcpIncoming::from(listener))
            .await
            .unwrap();
    });
    (format!("http://{addr}"), seen)
}

/// Records the user id of the `Session` a gRPC handler would see in its request extensions.
#[derive(Clone)]
struct SessionSpy<S> {
    inner: S,
    seen: Arc<Mutex<Vec<String>>>,
}

impl<S, B> tower::Service<http::Request<B>> for SessionSpy<S>
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
        self.inner.poll_ready(cx)
    }
    fn call(&mut self, req: http::Request<B>) -> S::Future {
        if let Some(s) = req.extensions().get::<Session>() {
            self.seen.lock().unwrap().push(s.user_id().to_owned());
        }
        self.inner.call(req)
    }
}

async fn check(url: &str, token: Option<&str>) -> Result<i32, tonic::Status> {
    let channel = Channel::from_shared(url.to_owned())
        .unwrap()
        .connect()
        .await
        .unwrap();
    let mut client = HealthClient::new(channel);
    let mut req = Request::new(HealthCheckRequest {
        service: String::new(),
    });
    if let Some(t) = token {
        req.metadata_mut()
            .insert("authorization", format!("Bearer {t}").parse().unwrap());
    }
    client.check(req).await.map(|r| r.into_inner().status)
}

#[tokio::test]
async fn grpc_with_and_without_a_token() {
    let realm = FakeRealm::start().await;
    let verifier = Verifier::builder()
        .loginrocket_url(realm.loginrocket_url())
        .build()
        .unwrap();
    let (url, seen) = serve(AuthRocketLayer::new(verifier)).await;
    let frank = realm.login("frank@example.com");

    let status = check(&url, Some(&frank.token))
        .await
        .expect("accepted with a token");
    assert_eq!(
        status,
        tonic_health::pb::health_check_response::ServingStatus::Serving as i32
    );
    assert_eq!(
        *seen.lock().unwrap(),
        vec![frank.user.id.clone()],
        "the handler saw the session"
    );

    let err = check(&url, None).await.unwrap_err();
    assert_eq!(err.code(), Code::Unauthenticated);
    assert!(err.message().contains("no token"), "{}", err.message());

    let err = check(&url, Some(&bad::expired(&realm.signing_key())))
        .await
        .unwrap_err();
    assert_eq!(err.code(), Code::Unauthenticated);
    assert!(err.message().contains("expired"), "{}", err.message());
    assert_eq!(
        seen.lock().unwrap().len(),
        1,
        "rejected calls never reached the handler"
    );
}

#[tokio::test]
async fn grpc_unavailable_when_the_realm_is_down() {
    let realm = FakeRealm::start().await;
    let verifier = Verifier::builder()
        .mode(VerifyMode::Online)
        .authrocket_url(realm.api_url())
        .api_key(realm.api_key())
        .api_timeout(Duration::from_secs(1))
        .build()
        .unwrap();
    let (url, _) = serve(AuthRocketLayer::new(verifier)).await;
    let frank = realm.login("frank@example.com");
    realm.fail_always(Fault::Status(503));
    let err = check(&url, Some(&frank.token)).await.unwrap_err();
    assert_eq!(err.code(), Code::Unavailable);

    // And fully down: the server is gone.
    let anna = realm.login("anna@example.com");
    realm.stop().await;
    let err = check(&url, Some(&anna.token)).await.unwrap_err();
    assert_eq!(err.code(), Code::Unavailable);
}
