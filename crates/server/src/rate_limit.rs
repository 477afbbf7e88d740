//! Requests per client address on the routes that check a password, a code or an enrolment
//! credential (tower_governor, a token bucket per address).

use std::net::{IpAddr, Ipv4Addr, SocketAddr};

use axum::body::Body;
use axum::extract::ConnectInfo;
use axum::http::{header, HeaderValue, Request, StatusCode};
use axum::response::IntoResponse;
use governor::middleware::NoOpMiddleware;
use tower_governor::governor::GovernorConfigBuilder;
use tower_governor::key_extractor::KeyExtractor;
use tower_governor::{GovernorError, GovernorLayer};
use waypoint_protocol::ERROR_RATE_LIMITED;

use crate::error::ApiError;
use crate::SignInRate;

/// The routes behind the limit (one bucket per address, shared by all of them).
pub const LIMITED_PATHS: &[&str] =
    &["/v1/login", "/v1/console/sign-in", "/v1/enroll", "/v1/mfa/enrolment", "/v1/mfa/enrolment/confirm"];

/// The peer address. Without `ConnectInfo` (a router called in-process, as some tests do) every
/// request shares one bucket, keyed 0.0.0.0. Behind a proxy every client shares the proxy's
/// address: size the limit for that (see docs/server.md).
#[derive(Debug, Clone, Copy)]
pub struct ClientAddress;

impl KeyExtractor for ClientAddress {
    type Key = IpAddr;

    fn extract<T>(&self, request: &Request<T>) -> Result<Self::Key, GovernorError> {
        Ok(request
            .extensions()
            .get::<ConnectInfo<SocketAddr>>()
            .map_or(IpAddr::V4(Ipv4Addr::UNSPECIFIED), |info| info.0.ip()))
    }
}

pub type SignInLimit = GovernorLayer<ClientAddress, NoOpMiddleware, Body>;

pub fn layer(rate: SignInRate) -> SignInLimit {
    let config = GovernorConfigBuilder::default()
        .key_extractor(ClientAddress)
        .period(rate.replenish.max(std::time::Duration::from_nanos(1)))
        .burst_size(rate.burst.max(1))
        .finish()
        .expect("a non-zero period and burst");
    GovernorLayer::new(config).error_handler(|error| match error {
        GovernorError::TooManyRequests { wait_time, .. } => {
            let wait = wait_time.max(1);
            let mut response = ApiError::new(
                StatusCode::TOO_MANY_REQUESTS,
                ERROR_RATE_LIMITED,
                format!("too many sign-in attempts from this address: retry in {wait} s"),
            )
            .into_response();
            response.headers_mut().insert(header::RETRY_AFTER, HeaderValue::from(wait));
            response
        }
        other => ApiError::internal(other.to_string()).into_response(),
    })
}
