//! The core's HTTP transport reports each failure as the sync engine needs it: a refused
//! credential as `Unauthorized`, a busy server's Retry-After as `RetryAfter`, no server as
//! `Unreachable`.

mod common;

use std::time::Duration;

use axum::http::{header, StatusCode};
use common::*;
use waypoint_core::sync::http::{HttpConfig, HttpTransport};
use waypoint_core::sync::{Transport, TransportError};
use waypoint_protocol::{PushRequest, RawPushRequest};
use waypoint_server::Settings;

fn push_once(base_url: String, token: &str) -> Result<waypoint_protocol::PushResponse, TransportError> {
    let mut transport = HttpTransport::new(&HttpConfig::new(base_url), token).unwrap();
    transport.push(&RawPushRequest::from(PushRequest { records: vec![record(uuid::Uuid::now_v7(), 1, 1, "x")] }))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_refused_credential_is_unauthorized() {
    let t = TestStore::new(Backend::Sqlite).await;
    let server = TestServer::start(t.store.clone(), Settings::default()).await;
    let url = server.url("");
    let outcome = tokio::task::spawn_blocking(move || push_once(url, "wpd_revoked")).await.unwrap();
    match outcome {
        Err(TransportError::Unauthorized(message)) => assert!(message.contains("unknown"), "{message}"),
        other => panic!("expected Unauthorized, got {other:?}"),
    }
}

/// A device credential the server knows, but no officer signed in: `SignInRequired`, which the
/// device shows as "Sign in to sync" (not "enrol again"). With the officer's credential: stored.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_push_without_a_signed_in_officer_asks_for_a_sign_in() {
    let t = TestStore::new(Backend::Sqlite).await;
    let officer = signed_in_device(&t.store, "ofc.diaz").await;
    let server = TestServer::start(t.store.clone(), Settings::default()).await;
    let url = server.url("");
    let outcome = tokio::task::spawn_blocking(move || {
        let push = |transport: &mut HttpTransport| {
            let record = officer.record(uuid::Uuid::now_v7(), 1, 1, "x");
            transport.push(&RawPushRequest::from(PushRequest { records: vec![record] }))
        };
        let config = HttpConfig::new(url);
        let refused = push(&mut HttpTransport::new(&config, &officer.device_token).unwrap());
        let mut signed_in =
            HttpTransport::new(&config, &officer.device_token).unwrap().with_officer(&officer.officer_token);
        (refused, push(&mut signed_in))
    })
    .await
    .unwrap();
    match outcome.0 {
        Err(TransportError::SignInRequired(message)) => {
            assert!(message.contains("sign in on this device"), "{message}")
        }
        other => panic!("expected SignInRequired, got {other:?}"),
    }
    assert_eq!(outcome.1.unwrap().acks[0].status, waypoint_protocol::AckStatus::Stored);
}

/// A stand-in for an overloaded server or a load balancer in front of it: the real server sends
/// 503 + Retry-After only when its database is saturated, which a test cannot bring about reliably.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn retry_after_from_a_busy_server_is_passed_on() {
    for (status, retry_after, expected) in [
        (StatusCode::SERVICE_UNAVAILABLE, Some("7"), Duration::from_secs(7)),
        (StatusCode::TOO_MANY_REQUESTS, Some("120"), Duration::from_secs(120)),
        (StatusCode::SERVICE_UNAVAILABLE, None, Duration::from_secs(5)),
    ] {
        let busy = axum::Router::new().route(
            "/v1/sync/push",
            axum::routing::post(move || async move {
                let mut response = axum::response::IntoResponse::into_response((status, "busy"));
                if let Some(seconds) = retry_after {
                    response.headers_mut().insert(header::RETRY_AFTER, seconds.parse().unwrap());
                }
                response
            }),
        );
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        let serving = tokio::spawn(async move { axum::serve(listener, busy).await });
        let outcome = tokio::task::spawn_blocking(move || push_once(url, "wpd_x")).await.unwrap();
        assert_eq!(outcome, Err(TransportError::RetryAfter(expected)), "{status} {retry_after:?}");
        serving.abort();
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn no_server_is_unreachable() {
    let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let outcome =
        tokio::task::spawn_blocking(move || push_once(format!("http://127.0.0.1:{port}"), "wpd_x")).await.unwrap();
    assert!(matches!(outcome, Err(TransportError::Unreachable(_))), "{outcome:?}");
}
